#!/usr/bin/env bats
# A real VMM takes a leased VF as the pool's unprivileged user: the host's
# QEMU (carried into the VM, nested -accel kvm on the VM's /dev/kvm)
# realizes -device vfio-pci for it, and QMP's query-pci shows 8086:10ca.
# (a) host=BDF on the legacy container: vfctld made the user the owner of
# /dev/vfio/N for the lease; (b) on the iommufd boot, under vfctl exec with
# the lease's /dev/iommu and cdev fds (-object iommufd,fd= and
# -device vfio-pci,fd=). After release the VF is back on igbvf with the MAC
# it had, and the user can open nothing.

# shellcheck disable=SC2154 # status, output, lines, stderr: set by bats run
bats_require_minimum_version 1.5.0
load helpers
load vfctld-helpers

setup_file() {
	vfctld_suite_setup
	vm_kvm_open_up
}

teardown_file() {
	vm_kvm_restore
	vfctld_suite_teardown
}

setup() {
	vm_require
	vm_require_iommu
	[ -c /dev/kvm ] || skip "no nested /dev/kvm in this VM"
	command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 in the VM image"
	pf=$(vm_igb_pf)
	# igbvf takes its MAC from the PF only while the PF is up
	$VM_IP link set "$(vm_pf_netdev "$pf")" up
	vfctld_start
}

teardown() {
	vfctld_test_teardown
}

# qemu_as UID ARGS...: QEMU with ARGS as UID (memlock raised for the guest
# RAM VFIO pins; no CAP_IPC_LOCK there), started through the command in
# the array via (e.g. vfctl exec) when set, stopped before the guest runs
# (-S), asked over QMP on stdin for its PCI devices, then told to quit.
# Prints "VENDOR DEVICE" (decimal) of the device with id hostdev0.
via=()
qemu_as() {
	local uid=$1
	shift
	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-pci"}' \
		'{"execute":"quit"}' >"$BATS_TEST_TMPDIR/qmp.in"
	as_memlock "$uid" "${via[@]}" qemu-system-x86_64 -machine q35 -accel kvm -m 64 \
		-nodefaults -display none -S -qmp stdio "$@" <"$BATS_TEST_TMPDIR/qmp.in" >"$BATS_TEST_TMPDIR/qmp.out" || return
	jq -r 'select(.return | type == "array") | .return[].devices[] |
		select(.qdev_id == "hostdev0") | "\(.id.vendor) \(.id.device)"' "$BATS_TEST_TMPDIR/qmp.out"
}

@test "QEMU -device vfio-pci,host= as the pool's user after alloc: realized, 8086:10ca; after release the VF is igbvf with its MAC and the node is not the user's" {
	# fresh VFs: no admin MAC from an earlier suite
	vm_set_numvfs "$pf" 0
	vm_set_numvfs "$pf" 3
	vf0=$(vm_vf "$pf" 0)
	vm_wait_for 10 test -d "$VM_PCI/$vf0/net"
	# the operator pins the MAC igbvf chose (a random one: address type 1),
	# in the daemon's run dir, where vfctl keeps it on a host (/run/vfctl)
	mac=$(cat "$VM_PCI/$vf0/net/"*/address)
	[ "$(cat "$VM_PCI/$vf0/net/"*/addr_assign_type)" = 1 ]
	VFCTL_RUN_DIR=$VFCTLD_RUN vfctl set "$pf:0" mac "$mac"
	run as 1001 vfctl alloc --pool p --owner qemu
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	[ "$vf" = "$vf0" ]
	node=/dev/vfio/$(vm_iommu_group "$vf")

	run qemu_as 1001 -device "vfio-pci,host=$vf,id=hostdev0,rombar=0"
	echo "$output"; cat "$BATS_TEST_TMPDIR/qmp.out"
	[ "$status" -eq 0 ]
	[ "$output" = "32902 4298" ]
	# a uid the lease is not for cannot open it by path
	run qemu_as 1002 -device "vfio-pci,host=$vf,id=hostdev0,rombar=0"
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	# nor get its fds: vfctl exec runs nothing for it (the owner's runs)
	ran=$(exec_marker)
	as 1001 vfctl exec --lease "$lease" -- touch "$ran"
	[ -e "$ran" ]
	rm "$ran"
	run --separate-stderr as 1002 vfctl exec --lease "$lease" -- touch "$ran"
	echo "$stderr"
	[ "$status" -eq 5 ]
	[[ "$stderr" == "vfctl exec: "*"lease $lease is not one of uid 1002"* ]]
	[ ! -e "$ran" ]
	[ "$(stat -c %u "$node")" = 1001 ]

	run as 1001 vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
	# still the PF's admin MAC (the kernel cannot tell it from igbvf's own:
	# vfctl noted it), so igbvf comes back with it
	vm_wait_for 10 vf_mac_is "$vf" "$mac"
	[[ "$($VM_IP link show "$(vm_pf_netdev "$pf")")" == *"vf 0 "*"link/ether $mac "* ]]
	[ ! -e "$node" ]
	run qemu_as 1001 -device "vfio-pci,host=$vf,id=hostdev0,rombar=0"
	[ "$status" -ne 0 ]
	# a released lease: exec runs nothing, qemu-args prints nothing
	run --separate-stderr as 1001 vfctl exec --lease "$lease" -- touch "$ran"
	echo "$stderr"
	[ "$status" -eq 3 ]
	[[ "$stderr" == "vfctl exec: "*"no lease $lease ('vfctl leases' lists them)"* ]]
	[ ! -e "$ran" ]
	run --separate-stderr as 1001 vfctl qemu-args "$lease"
	echo "$stderr"
	[ "$status" -eq 3 ]
	[ "$stderr" = "vfctl: no lease $lease of yours ('vfctl leases' lists them)" ]
	[ -z "$output" ]
	[ "$(vm_driver "$vf")" = igbvf ]
}

@test "QEMU under vfctl exec with the lease's iommufd and cdev fds (-object iommufd,fd= -device vfio-pci,fd=): realized as the pool's user" {
	vm_require_iommufd
	run as 1001 vfctl alloc --pool p --owner qemu-iommufd
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	# the user reaches the VF only through the fds: take the node back
	chown 0 "/dev/vfio/$(vm_iommu_group "$vf")" "/dev/vfio/devices/$(ls "$VM_PCI/$vf/vfio-dev")"

	via=(vfctl exec --lease "$lease" --)
	run qemu_as 1001 -object 'iommufd,id=iommufd0,fd={iommufd}' \
		-device 'vfio-pci,iommufd=iommufd0,fd={device},id=hostdev0,rombar=0'
	echo "$output"; cat "$BATS_TEST_TMPDIR/qmp.out"
	[ "$status" -eq 0 ]
	[ "$output" = "32902 4298" ]

	run as 1001 vfctl release "$lease"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
	# a released lease: exec runs nothing
	ran=$(exec_marker)
	run --separate-stderr as 1001 vfctl exec --lease "$lease" -- touch "$ran"
	[ "$status" -eq 3 ]
	[ ! -e "$ran" ]
}

@test "vfctl exec and qemu-args asking for iommufd on Debian's stock VFIO: refused, nothing run, the lease still usable" {
	vm_require_no_iommufd
	run as 1001 vfctl alloc --pool p
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	ran=$(exec_marker)
	run --separate-stderr as 1001 vfctl exec --lease "$lease" -- touch "$ran" 'fd={iommufd}'
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"vfctld sent no {iommufd} fd for $vf: this kernel has no iommufd"* ]]
	[ ! -e "$ran" ]
	run --separate-stderr as 1001 vfctl qemu-args --iommufd "$lease"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfctl: qemu-args $lease: this kernel has no /dev/iommu (CONFIG_IOMMUFD): the iommufd form cannot work here; leave out --iommufd for the host= form" ]
	[ -z "$output" ]
	run as 1001 vfctl qemu-args "$lease"
	[ "$status" -eq 0 ]
	[ "$output" = "-device vfio-pci,host=$vf,id=hostdev0" ]
	via=(vfctl exec --lease "$lease" --)
	run qemu_as 1001 -device 'vfio-pci,host={bdf},id=hostdev0,rombar=0'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "32902 4298" ]
	run as 1001 vfctl release "$lease"
	[ "$status" -eq 0 ]
}
