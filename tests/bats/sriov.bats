#!/usr/bin/env bats
# vfctl create / destroy on copies of the golden trees. A tree's SR-IOV
# files are plain files and no VF ever appears in it, so a create that
# writes ends in a timeout naming what is missing; refusals must leave the
# tree exactly as it was. The kernel's side is tests/vm/30-create.bats.

# shellcheck disable=SC2154 # status, output, stderr: set by bats run; t, run_dir: by tree_copy
bats_require_minimum_version 1.5.0
load helpers	# tree_copy, vfctl, tree_sum

setup() {
	tree_copy 82576	# port 0: 2 VFs on igbvf; port 1: none
	dev=$t/sys/bus/pci/devices
}

@test "usage errors exit 2 and change nothing" {
	before=$(tree_sum)
	for args in "create" "create 0000:01:00.1" "create 0000:01:00.1 1 2" \
		"destroy" "destroy 0000:01:00.0 0000:01:00.1"; do
		# shellcheck disable=SC2086 # split on purpose
		run vfctl $args
		[ "$status" -eq 2 ]
		[[ "$output" == "vfctl "*": expected "* ]]
	done
	for n in abc -1 1.5 0x3 ' 3' '3 ' '' +3 99999 100000 3abc; do
		run vfctl create 0000:01:00.1 -- "$n"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "vfctl create: '$n' is not a VF count: give a whole number from 0 to the PF's sriov_totalvfs ('vfctl show 0000:01:00.1' shows it)" ]]
	done
	# without "--" too: a negative number is a value, not an option
	run vfctl create 0000:01:00.1 -1
	[ "$status" -eq 2 ]
	[ "$output" = "vfctl create: '-1' is not a VF count: give a whole number from 0 to the PF's sriov_totalvfs ('vfctl show 0000:01:00.1' shows it)" ]
	run vfctl destroy --no-autoprobe 0000:01:00.0
	[ "$status" -eq 2 ]
	[[ "$output" == "vfctl destroy: --no-autoprobe applies to create only" ]]
	run vfctl --timeout 0 create 0000:01:00.1 1
	[ "$status" -eq 2 ]
	[ "$(tree_sum)" = "$before" ]
}

@test "N above sriov_totalvfs: refused, one line, nothing changed" {
	before=$(tree_sum)
	run vfctl create --no-autoprobe 0000:01:00.1 8
	[ "$status" -eq 5 ]
	[ "$output" = "vfctl: 0000:01:00.1: 8 VFs asked, but sriov_totalvfs is 7 ($t/sys/bus/pci/devices/0000:01:00.1/sriov_totalvfs): Numerical result out of range; ask for 7 or fewer" ]
	run vfctl create 0000:01:00.0 65535
	[ "$status" -eq 5 ]
	[ "$(tree_sum)" = "$before" ]
}

@test "a VF instead of a PF: refused naming its PF, by address or netdev name" {
	before=$(tree_sum)
	run vfctl create 01:10.2 1
	[ "$status" -eq 1 ]
	[ "$output" = "vfctl: 0000:01:10.2 is VF 1 of PF 0000:01:00.0, not a PF: Invalid argument; give the PF ('vfctl create 0000:01:00.0 N', 'vfctl destroy 0000:01:00.0')" ]
	run vfctl destroy enp1s0f0v0
	[ "$status" -eq 1 ]
	[[ "$output" == "vfctl: 0000:01:10.0 is VF 0 of PF 0000:01:00.0, not a PF"* ]]
	[ "$(tree_sum)" = "$before" ]
}

@test "unknown device, malformed name, a function that is not a PF: refused, nothing changed" {
	before=$(tree_sum)
	run vfctl create 0000:09:00.0 1
	[ "$status" -eq 3 ]
	[[ "$output" == "vfctl: 0000:09:00.0: no such PCI function in $t/sys/bus/pci/devices"* ]]
	run vfctl destroy eth9
	[ "$status" -eq 3 ]
	[[ "$output" == "vfctl: eth9: no PCI function has a netdev of that name"* ]]
	run vfctl destroy '../../x'
	[ "$status" -eq 1 ]
	[[ "$output" == *"neither a PCI address"* ]]
	run vfctl create 00:1f.2 1
	[ "$status" -eq 5 ]
	[ "$output" = "vfctl: 0000:00:1f.2 is not an SR-IOV PF (no $t/sys/bus/pci/devices/0000:00:1f.2/sriov_totalvfs): Operation not supported; 'vfctl list' shows the PFs" ]
	[ "$(tree_sum)" = "$before" ]
	# the run directory is not even created for bad input
	[ ! -e "$run_dir" ]
}

@test "a PF with no driver: refused before anything is written" {
	rm "$dev/0000:01:00.1/driver"
	before=$(tree_sum)
	run vfctl create --no-autoprobe 0000:01:00.1 2
	[ "$status" -eq 3 ]
	[ "$output" = "vfctl: 0000:01:00.1: no driver is bound, so the kernel cannot set sriov_numvfs: No such file or directory; bind the PF to its network driver first" ]
	[ "$(tree_sum)" = "$before" ]
}

@test "the count it already has: nothing written, the VFs listed, text and JSON" {
	before=$(tree_sum)
	run --separate-stderr vfctl create enp1s0f0 2
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^"0000:01:00.0: 2 -> 2 VFs (unchanged, nothing written), write 0 ms, settle "[0-9]+" ms, autoprobe yes"$ ]]
	[[ "$output" == *"  vf 0  0000:01:10.0 [8086:10ca]"* ]]
	[[ "$output" == *"  vf 1  0000:01:10.2 [8086:10ca]"* ]]
	run --separate-stderr vfctl --json create 0000:01:00.0 2
	[ "$status" -eq 0 ]
	schema_ok numvfs
	[ "$(echo "$output" | jq -r .pf)" = 0000:01:00.0 ]
	[ "$(echo "$output" | jq -r '[.before, .after, .changed, .through_zero, .write_ms] | @tsv')" = "$(printf '2\t2\tfalse\tfalse\t0')" ]
	[ "$(echo "$output" | jq -r '.settle_ms | type')" = number ]
	[ "$(echo "$output" | jq -r '.drivers_autoprobe')" = true ]
	[ "$(echo "$output" | jq -r '[.vfs[].address] | join(" ")')" = "0000:01:10.0 0000:01:10.2" ]
	[ "$(echo "$output" | jq -r '.vfs[0] | [.vf_index, .pf, .driver, .netdevs[0].name] | @tsv')" = "$(printf '0\t0000:01:00.0\tigbvf\tenp1s0f0v0')" ]
	[ "$(echo "$output" | jq -r '.warnings | length')" = 0 ]
	[ "$(tree_sum)" = "$before" ]
}

@test "create writes sriov_numvfs, then times out naming the PF and what is missing; autoprobe restored" {
	run vfctl --no-autoprobe --timeout 0.3 create enp1s0f1 3
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "vfctl: 0000:01:00.1: sriov_numvfs was set to 3, but after 300 ms VF 0 has no virtfn0 link (in $t/sys/bus/pci/devices/0000:01:00.1): Connection timed out; see 'dmesg', or allow more time with --timeout" ]
	[ "$(cat "$dev/0000:01:00.1/sriov_numvfs")" = 3 ]
	[ "$(cat "$dev/0000:01:00.1/sriov_drivers_autoprobe")" = 1 ]
	# autoprobe that was off stays off
	echo 0 >"$dev/0000:01:00.1/sriov_numvfs"
	echo 0 >"$dev/0000:01:00.1/sriov_drivers_autoprobe"
	run vfctl --no-autoprobe --timeout 0.2 create 0000:01:00.1 1
	[ "$status" -eq 1 ]
	[ "$(cat "$dev/0000:01:00.1/sriov_drivers_autoprobe")" = 0 ]
}

@test "changing a count with VFs on host drivers: refused without --force, through 0 with it" {
	before=$(tree_sum)
	run vfctl create 0000:01:00.0 4
	[ "$status" -eq 4 ]
	[ "$output" = "vfctl: 0000:01:00.0: going from 2 to 4 VFs removes all 2 first (the kernel changes sriov_numvfs only through 0), and 2 of them have a driver (0000:01:10.0 on igbvf, netdev enp1s0f0v0): Device or resource busy; pass --force to remove them anyway, or destroy them first" ]
	[ "$(tree_sum)" = "$before" ]
	run vfctl --force --timeout 0.3 create 0000:01:00.0 4
	[ "$status" -eq 1 ]
	[[ "$output" == "vfctl: 0000:01:00.0: sriov_numvfs was set to 4, but after 300 ms VF 2 has no virtfn2 link"* ]]
	[ "$(cat "$dev/0000:01:00.0/sriov_numvfs")" = 4 ]
}

@test "destroy: VFs on host drivers need no --force; the old VFs not going away is a timeout" {
	run vfctl --timeout 0.2 destroy enp1s0f0
	[ "$status" -eq 1 ]
	[[ "$output" == "vfctl: 0000:01:00.0: sriov_numvfs was set to 0, but after 200 ms virtfn0 (of the old VFs) is still there"* ]]
	[ "$(cat "$dev/0000:01:00.0/sriov_numvfs")" = 0 ]
}

@test "a VF held by a VFIO user: destroy and count changes refused naming the holder, --force too" {
	rm -rf "$t"
	cp -a "$FIXTURES/igb-iommu" "$t"	# VF 1 on vfio-pci, group 8
	before=$(tree_sum)
	sleep 60 5<>"$t/dev/vfio/8" &
	holder=$!
	run vfctl destroy 0000:01:00.0
	r1=$status o1=$output
	run vfctl --force create 0000:01:00.0 2
	r2=$status o2=$output
	kill "$holder"
	[ "$r1" -eq 4 ]
	[ "$o1" = "vfctl: 0000:01:00.0: VF 1 (0000:01:10.2, vfio-pci) is in use by VFIO: pid $holder (sleep) on $(realpath "$t/dev")/vfio/8; destroying the VFs would remove it and block in the kernel until it is closed: Device or resource busy; stop that process (or its VM) first, then retry (--force does not override this)" ]
	[ "$r2" -eq 4 ]
	[[ "$o2" == *"pid $holder (sleep)"*"changing the VF count would remove it"* ]]
	[ "$(tree_sum)" = "$before" ]
}

@test "two creates on the same PF serialize on its lock (VFCTL_RUN_DIR)" {
	export VFCTL_RUN_DIR=$BATS_TEST_TMPDIR/envrun
	start=$(date +%s%N)
	"$VFCTL" --sysfs-root "$t/sys" --timeout 1 create 0000:01:00.1 3 2>"$BATS_TEST_TMPDIR/a" &
	a=$!
	"$VFCTL" --sysfs-root "$t/sys" --timeout 1 create 0000:01:00.1 3 2>"$BATS_TEST_TMPDIR/b" &
	b=$!
	wait "$a" || ra=$?
	wait "$b" || rb=$?
	elapsed=$((($(date +%s%N) - start) / 1000000))
	# each one waits its full second for VFs that never come, one after the other
	[ "$elapsed" -ge 2000 ]
	[ "${ra:-0}" -eq 1 ] && [ "${rb:-0}" -eq 1 ]
	grep -q "sriov_numvfs was set to 3, but after 1000 ms VF 0 has no virtfn0 link" "$BATS_TEST_TMPDIR/a"
	grep -q "sriov_numvfs was set to 3, but after 1000 ms VF 0 has no virtfn0 link" "$BATS_TEST_TMPDIR/b"
	[ -f "$VFCTL_RUN_DIR/lock/0000:01:00.1.lock" ]
}

@test "with --json an error is still one line on stderr and nothing on stdout" {
	run --separate-stderr vfctl --json create 0000:01:00.1 8
	[ "$status" -eq 5 ]
	[ -z "$output" ]
	[[ "$stderr" == "vfctl: 0000:01:00.1: 8 VFs asked"* ]]
}

@test "a PF lock held elsewhere: the wait is bounded and names the holder" {
	root=$BATS_TEST_TMPDIR/lk
	cp -a "$FIXTURES/82599-8vf" "$root"
	run_dir=$BATS_TEST_TMPDIR/lkrun
	mkdir -p "$run_dir/lock"
	flock "$run_dir/lock/0000:03:00.1.lock" sleep 30 &
	holder=$!
	for _ in $(seq 50); do grep -q FLOCK /proc/locks && break; sleep 0.1; done
	VFCTL_LOCK_TIMEOUT=1 run "$VFCTL" --sysfs-root "$root/sys" --run-dir "$run_dir" create 0000:03:00.1 2
	kill "$holder"
	[ "$status" -eq 1 ]
	[[ "$output" == *"0000:03:00.1: $run_dir/lock/0000:03:00.1.lock is still held by pid $holder (flock) after 1 s"* ]]
	[ "$(cat "$root/sys/bus/pci/devices/0000:03:00.1/sriov_numvfs")" = 0 ]
}
