#!/usr/bin/env bats
# vfkvm --lease: an unprivileged user of a vfctld pool allocates a VF, and
# vfkvm, run as that user, gets the VF's VFIO container and group fds from
# the daemon (SCM_RIGHTS) instead of opening /dev/vfio itself: the guest's
# igbvf driver does the mailbox handshake (the MAC vfctl set assigned) and
# its frame reaches the wire. A uid the lease is not for, an unknown lease
# and a daemon that is not running are refused with clear errors.

# shellcheck disable=SC2154 # status, output, lines, stderr: set by bats run
bats_require_minimum_version 1.5.0
load helpers
load vfctld-helpers

VFKVM=${VFKVM:-/vfctl/build/vfkvm}

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
	pf=$(vm_igb_pf)
	$VM_IP link set "$(vm_pf_netdev "$pf")" up
	vfctld_start
}

teardown() {
	vfctld_test_teardown
}

# vfkvm_as UID ARGS...: vfkvm as UID with a memlock limit for guest RAM
# (no CAP_IPC_LOCK there)
vfkvm_as() {
	local uid=$1
	shift
	as_memlock "$uid" "$VFKVM" "$@"
}

@test "--lease as the pool's unprivileged user: fds from vfctld, the guest's mailbox MAC and frame on the wire" {
	run as 1001 vfctl alloc --pool p --owner vfkvm-test
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	[ "$(vm_driver "$vf")" = vfio-pci ]
	idx=$(vf_index_of "$pf" "$vf")
	mac=02:76:66:6b:76:4c
	vfctl set "$pf:$idx" mac "$mac"
	before=$(vm_wire_frames "$mac")

	run --separate-stderr vfkvm_as 1001 --lease "$lease"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	grp=$(vm_iommu_group "$vf")
	[ "${lines[0]}" = "vfkvm: lease $lease: $vf, IOMMU group $grp, fds from vfctld" ]
	[[ "$output" == *"vfio: $vf: container and group $grp fds from vfctld"* ]]
	[[ "$output" == *"vfio: $vf in group $grp, $(vm_vfio_path_line)"* ]]
	[ "$(sed -n 's/^guest: vf.mac = //p' <<<"$output")" = "$mac" ]
	[ "$(sed -n 's/^guest: vf.tx.packets = //p' <<<"$output")" = 0x1 ]
	vm_wait_for 10 vm_wire_frames_are "$mac" $((before + 1))
	# vfkvm closed everything: the group is free again, release needs no force
	run vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
}

@test "--lease --iommu iommufd as the pool's unprivileged user: /dev/iommu and the cdev from vfctld, the frame on the wire" {
	vm_require_iommufd
	run as 1001 vfctl alloc --pool p --owner vfkvm-iommufd
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	idx=$(vf_index_of "$pf" "$vf")
	mac=02:76:66:6b:76:4d
	vfctl set "$pf:$idx" mac "$mac"
	before=$(vm_wire_frames "$mac")

	run --separate-stderr vfkvm_as 1001 --lease "$lease" --iommu iommufd
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	grp=$(vm_iommu_group "$vf")
	[[ "$output" == *"vfio: $vf: container and group $grp fds from vfctld, /dev/iommu and the cdev too"* ]]
	[[ "$output" == *"vfio: $vf in group $grp, cdev bound to iommufd, IOAS attached"* ]]
	[ "$(sed -n 's/^guest: vf.mac = //p' <<<"$output")" = "$mac" ]
	vm_wait_for 10 vm_wire_frames_are "$mac" $((before + 1))
	run vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
}

@test "--lease --iommu iommufd on Debian's stock VFIO: refused, no guest, the lease unchanged; once released, vfctld's refusal" {
	vm_require_no_iommufd
	run as 1001 vfctl alloc --pool p
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	node=/dev/vfio/$(vm_iommu_group "$vf")

	run --separate-stderr vfkvm_as 1001 --lease "$lease" --iommu iommufd
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "vfkvm: --iommu iommufd: $vf has no VFIO device cdev or this kernel no /dev/iommu"*"use --iommu legacy (or auto)"* ]]
	[[ "$output" != *"guest:"* ]]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	[ "$(stat -c %u "$node")" = 1001 ]
	[ "$(vfctl --json leases | jq -r --arg l "$lease" '.leases[] | select(.id == $l) | .state')" = active ]
	# vfkvm let the group go: the release needs no force
	run as 1001 vfctl release "$lease"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]

	run --separate-stderr vfkvm_as 1001 --lease "$lease"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "vfkvm: --lease $lease: "*"no lease $lease ('vfctl leases' lists them)"* ]]
	[[ "$output" != *"vfio:"* ]]
	[ "$(vm_driver "$vf")" = igbvf ]
}

@test "--lease: a uid the lease is not for gets vfctld's refusal, no fds, and the lease stays usable" {
	run as 1001 vfctl alloc --pool p
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")

	run --separate-stderr vfkvm_as 1002 --lease "$lease"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "vfkvm: --lease $lease: "* ]]
	[[ "$stderr" == *"lease $lease is not one of uid 1002"* ]]
	[[ "$output" != *"vfio:"* ]]
	# the owner still can
	run --separate-stderr vfkvm_as 1001 --lease "$lease"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
}

@test "--lease: an unknown lease, a malformed id and no daemon are clear errors" {
	run --separate-stderr "$VFKVM" --lease L999
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "vfkvm: --lease L999: "*L999* ]]

	run --separate-stderr "$VFKVM" --lease 'x/../y'
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not a lease id"* ]]

	run --separate-stderr "$VFKVM" --lease L1 --vf 0000:01:10.0
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--lease gives the VF"* ]]

	vfctld_stop
	run --separate-stderr "$VFKVM" --lease L1
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "vfkvm: --lease L1: connecting to vfctld at $VFCTLD_SOCKET: "*"vfctld.socket"* ]]
}
