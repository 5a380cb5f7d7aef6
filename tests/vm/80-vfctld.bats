#!/usr/bin/env bats
# vfctld on the real igb PF with 3 VFs: alloc binds a VF to vfio-pci, open
# hands over VFIO fds that really are (lease-probe: VFIO_GROUP_GET_DEVICE_FD
# and VFIO_DEVICE_GET_INFO on what it received), release gives it back to
# igbvf; pool users and groups are enforced for unprivileged uids; a held
# group refuses release unless forced; an owner pid's exit releases; leases
# survive a restart; socket activation; 200 concurrent clients.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
# shellcheck disable=SC2030,SC2031 # dpid: set in setup and tests, read in teardown (one subshell)
bats_require_minimum_version 1.5.0
load helpers
load vfctld-helpers

setup_file() {
	vfctld_suite_setup
}

teardown_file() {
	vfctld_suite_teardown
}

setup() {
	vm_require
	vm_require_iommu
	pf=$(vm_igb_pf)
	vfctld_start
}

teardown() {
	vfctld_test_teardown
}

@test "root: alloc binds a VF to vfio-pci, open sends real VFIO fds, release gives it back to igbvf" {
	run vfctl alloc --pool p --owner vm1
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	[[ "$lease" == L* ]]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	[ -e "$VFCTLD_RUN/state/$vf.json" ]
	grp=$(vm_iommu_group "$vf")

	run "$LEASE_PROBE" "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	if [ "${VFCTL_VM_IOMMUFD:-0}" = 1 ]; then
		# iommufd kernels: /dev/iommu and the VF's cdev come along, with
		# what the receiver pins charged to its own process
		[[ "${lines[0]}" =~ ^"received $vf group $grp container_fd "[0-9]+" group_fd "[0-9]+" iommufd "[0-9]+" device_fd "[0-9]+$ ]]
		[ "${lines[4]}" = "iommufd rlimit mode process" ]
	else
		[[ "${lines[0]}" == "received $vf group $grp container_fd "*" iommufd -1 device_fd -1" ]]
		[ "${#lines[@]}" = 4 ]
	fi
	[ "${lines[1]}" = "container api 0" ]
	[ "${lines[2]}" = "group viable 1" ]
	[[ "${lines[3]}" =~ ^device\ $vf\ pci\ 1\ regions\ [0-9]+\ irqs\ [0-9]+$ ]]
	# the daemon kept no copy of the group
	[ "$(find "/proc/$dpid/fd" -lname "/dev/vfio/$grp" | wc -l)" = 0 ]

	run vfctl --json leases
	[ "$(jq -r '.leases[0].owner' <<<"$output")" = vm1 ]
	[ "$(jq -r '.leases[0].state' <<<"$output")" = active ]

	run vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *released* ]]
	[ "$(vm_driver "$vf")" = igbvf ]
	[ "$(cat "$VM_PCI/$vf/driver_override")" = "(null)" ]
	[ ! -e "$VFCTLD_RUN/state/$vf.json" ]
	[ "$(jq '.leases | length' "$VFCTLD_RUN/leases.json")" = 0 ]
}

owner_is() {
	[ "$(stat -c %u "$1")" = "$2" ]
}

# opens_by_path UID NODE: UID can open NODE read-write (and closes it at once)
opens_by_path() {
	# shellcheck disable=SC2016 # $1 is the inner shell's
	as "$1" bash -c 'exec 3<>"$1"' opens_by_path "$2"
}

@test "stock consumers by path: the lease's uid owns /dev/vfio/N (and the cdev) while the lease lasts, no one else, not after" {
	run as 1001 vfctl alloc --pool p
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	grp=$(vm_iommu_group "$vf")
	node=/dev/vfio/$grp
	[ "$(stat -c %u "$node")" = 1001 ]
	[ "$(stat -c %a "$node")" = 600 ]	# the kernel's mode, kept
	opens_by_path 1001 "$node"
	run opens_by_path 1002 "$node"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	if [ "${VFCTL_VM_IOMMUFD:-0}" = 1 ]; then
		cdev=/dev/vfio/devices/$(ls "$VM_PCI/$vf/vfio-dev")
		[ "$(stat -c %u "$cdev")" = 1001 ]
		opens_by_path 1001 "$cdev"
		run opens_by_path 1002 "$cdev"
		[ "$status" -ne 0 ]
	fi
	# a restart keeps the grant of a lease that survives it
	vfctld_stop
	chown 0 "$node"
	vfctld_start
	vm_wait_for 10 owner_is "$node" 1001
	run as 1001 vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
	[ ! -e "$node" ]

	# a VF that stays on vfio-pci after its lease: its node is root's again
	# (the same VF: the first free one of the pool)
	vm_bind_vfio "$vf"
	node=/dev/vfio/$(vm_iommu_group "$vf")
	run as 1001 vfctl alloc --pool p
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output")
	[ "$(vf_of "$output")" = "$vf" ]
	[ "$(stat -c %u "$node")" = 1001 ]
	run as 1001 vfctl release "$lease"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	[ "$(stat -c %u "$node")" = 0 ]
	run opens_by_path 1001 "$node"
	[ "$status" -ne 0 ]
	vm_unbind_vfio "$vf"
}

@test "an allowed uid allocates and opens; another uid is refused the pool, the open and the release before any fd is sent" {
	run as 1001 vfctl alloc --pool p
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	run as 1001 "$LEASE_PROBE" "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[3]}" == "device $vf pci 1 "* ]]

	run as 1002 vfctl alloc --pool p
	[ "$status" -eq 5 ]
	[[ "$output" == "vfctl: alloc: uid 1002 (gid 1002) may not allocate from pool 'p'"* ]]
	run as 1002 "$LEASE_PROBE" "$lease"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "lease-probe: open $lease: lease $lease is not one of uid 1002 ('vfctl leases' lists yours) (errno 13)" ]]
	[[ "$output" != *received* ]]
	run as 1002 vfctl release "$lease"
	[ "$status" -eq 5 ]
	[[ "$output" == *"is not one of uid 1002"* ]]
	[[ "$output" != *1001* ]]
	# uid 1002 sees none of uid 1001's leases
	run as 1002 vfctl --json leases
	[ "$(jq '.leases | length' <<<"$output")" = 0 ]
	[ "$(vm_driver "$vf")" = vfio-pci ]

	# a supplementary group the pool lists is enough
	run as 1003 vfctl alloc --pool p
	echo "$output"
	[ "$status" -eq 0 ]
	run as 1003 vfctl release "$(lease_of "$output")"
	[ "$status" -eq 0 ]

	run as 1001 vfctl release "$lease"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
}

@test "the pool runs out with a clear error; --pf and --numa constrain" {
	for i in 1 2 3; do
		run vfctl alloc --pool p --pf "$(vm_pf_netdev "$pf")"
		[ "$status" -eq 0 ]
	done
	run vfctl alloc --pool p
	[ "$status" -eq 6 ]
	[[ "$output" =~ ^vfctl:\ alloc:\ pool\ \'p\'\ has\ no\ free\ VF:\ 3\ of\ 3\ leased\ \(L[0-9]+\ L[0-9]+\ L[0-9]+\)$ ]]
	run vfctl alloc --pool p --pf 0000:02:00.0
	[ "$status" -eq 3 ]
	[[ "$output" == *"pool 'p' has no VF on PF 0000:02:00.0: its VFs are on $pf" ]]
	run vfctl alloc --pool p --numa 7
	[ "$status" -eq 6 ]
	[[ "$output" == *"no free VF on NUMA node 7"* ]]
	[ "$(vfctl --json leases | jq '.leases | length')" = 3 ]
}

@test "release refuses while a process holds the group, --force revokes and the VF returns when it closes" {
	run vfctl alloc --pool p
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	"$LEASE_PROBE" "$lease" 60 >"$BATS_TEST_TMPDIR/probe.out" &
	probe=$!
	vm_wait_for 10 grep -q '^device' "$BATS_TEST_TMPDIR/probe.out"
	run vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"is held open by pid $probe (lease-probe): stop it first, or release with --force"* ]]
	[ "$(vm_driver "$vf")" = vfio-pci ]

	run vfctl release --force "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *releasing*"held open by pid $probe"* ]]
	kill "$probe"
	wait "$probe" || true
	vm_wait_for 20 driver_is "$vf" igbvf
	vm_wait_for 5 n_leases 0
}

@test "a lease with --pid is released when that process exits" {
	sleep 300 &
	owner=$!
	run vfctl alloc --pool p --pid "$owner"
	[ "$status" -eq 0 ]
	vf=$(vf_of "$output")
	[ "$(vm_driver "$vf")" = vfio-pci ]
	kill "$owner"
	wait "$owner" || true
	vm_wait_for 20 driver_is "$vf" igbvf
	[ "$(jq '.leases | length' "$VFCTLD_RUN/leases.json")" = 0 ]
}

@test "leases survive a restart; socket activation with systemd-socket-activate" {
	run vfctl alloc --pool p --owner keep
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	vfctld_stop
	[ "$(vm_driver "$vf")" = vfio-pci ]
	rm -f "$VFCTLD_SOCKET"
	# systemd's own tool passes the listening socket (LISTEN_FDS) as vfctld.socket does
	systemd-socket-activate --seqpacket -l "$VFCTLD_SOCKET" \
		vfctld --run-dir "$VFCTLD_RUN" --config "$VFCTLD_CONF" >>"$VFCTLD_LOG" 2>&1 &
	dpid=$!
	vm_wait_for 10 test -S "$VFCTLD_SOCKET"
	run vfctl --json leases
	echo "$output"
	[ "$(jq -r '.leases[0].id' <<<"$output")" = "$lease" ]
	[ "$(jq -r '.leases[0].owner' <<<"$output")" = keep ]
	run "$LEASE_PROBE" "$lease"
	[ "$status" -eq 0 ]
	grep -q "listening on the socket systemd passed" "$VFCTLD_LOG"
	run vfctl release "$lease"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
}

@test "release restores the VF settings the PF had before the lease, whatever changed during it" {
	set_vf_vlan "$pf" 0 40
	set_vf_vlan "$pf" 1 41
	set_vf_vlan "$pf" 2 42
	run vfctl alloc --pool p
	[ "$status" -eq 0 ]
	vf=$(vf_of "$output") lease=$(lease_of "$output")
	idx=$(vf_index_of "$pf" "$vf")
	[ "$(vf_vlan "$pf" "$idx")" = $((40 + idx)) ]
	# the lease holder's admin changes it meanwhile
	set_vf_vlan "$pf" "$idx" 7
	[ "$(vf_vlan "$pf" "$idx")" = 7 ]
	run vfctl release "$lease"
	[ "$status" -eq 0 ]
	[ "$(vf_vlan "$pf" "$idx")" = $((40 + idx)) ]
	[ "$(vm_driver "$vf")" = igbvf ]
	for i in 0 1 2; do set_vf_vlan "$pf" "$i" 0; done
}

@test "200 concurrent clients allocating and releasing: no VF granted twice, no fd leak" {
	fds_before=$(find "/proc/$dpid/fd" -mindepth 1 | wc -l)
	held=$BATS_TEST_TMPDIR/held
	mkdir "$held"
	# a client holds its VF as a directory; mkdir fails if someone holds it already
	client() {
		local out
		out=$(vfctl alloc --pool p 2>&1) || { echo "busy $out"; return 0; }
		if ! mkdir "$held/$(vf_of "$out")"; then echo "DOUBLE $out"; return 0; fi
		echo "got $out"
		rmdir "$held/$(vf_of "$out")"
		vfctl release "$(lease_of "$out")" >/dev/null || echo "RELEASE-FAILED $out"
	}
	# wait for the clients only: a bare wait would wait for the daemon too
	pids=()
	for i in $(seq 200); do
		client >"$BATS_TEST_TMPDIR/c.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$BATS_TEST_TMPDIR"/c.* >"$BATS_TEST_TMPDIR/all"
	grep -c '^got' "$BATS_TEST_TMPDIR/all"
	run ! grep -E '^(DOUBLE|RELEASE-FAILED)' "$BATS_TEST_TMPDIR/all"
	[ "$(grep -c '^got' "$BATS_TEST_TMPDIR/all")" -ge 3 ]
	# the rest were told the pool was full, nothing else
	[ "$(grep -c "^busy vfctl: alloc: pool 'p' has no free VF" "$BATS_TEST_TMPDIR/all")" = \
	  "$((200 - $(grep -c '^got' "$BATS_TEST_TMPDIR/all")))" ]
	[ "$(jq '.leases | length' "$VFCTLD_RUN/leases.json")" = 0 ]
	[ "$(find "/proc/$dpid/fd" -mindepth 1 | wc -l)" = "$fds_before" ]
	for vf in $(vm_vfs "$pf"); do [ "$(vm_driver "$vf")" = igbvf ]; done
}
