#!/usr/bin/env bats
# tests/hw/run (the SR-IOV qualification of a host's PF) where it must not
# run: on this host without SR-IOV (one line, exit 1, nothing written), on
# copies of the golden trees (--dry-run lists every change and writes
# nothing; a run without --yes is refused), its usage errors. The runs that
# change a PF are in the VM: tests/vm/87-hw.bats.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
# shellcheck disable=SC2030,SC2031 # VFCTL_SYSFS_ROOT: exported for the one test it is set in
bats_require_minimum_version 1.5.0
load helpers

HWRUN=$REPO/tests/hw/run

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	unset VFCTL_SYSFS_ROOT VFCTL_HW_PF VFCTL_HW_YES VFCTL_HW_STEPS VFCTL_HW_VFS VFCTL_HW_REPORT
}

# nothing_written: no report, text summary or log dir in the cwd
nothing_written() {
	[ -z "$(find . -mindepth 1 -maxdepth 1 -name 'hw-report*')" ]
}

@test "on a host without SR-IOV: one line, exit 1, nothing written, with or without --yes" {
	for d in /sys/bus/pci/devices/*; do
		[ ! -e "$d/sriov_totalvfs" ] || skip "this host has an SR-IOV PF (${d##*/})"
	done
	run "$HWRUN" --yes
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "tests/hw/run: refused: no SR-IOV PF on this host (no PCI function has sriov_totalvfs): nothing to qualify" ]
	nothing_written
	run "$HWRUN"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	nothing_written
}

@test "a function without SR-IOV or an unknown name: one line naming it, exit 1" {
	run "$HWRUN" --pf no-such-nic0 --yes
	[ "$status" -eq 1 ]
	[ "$output" = "tests/hw/run: refused: --pf no-such-nic0: no such PCI function or network interface on this host" ]
	tree_copy 82599-8vf
	export VFCTL_SYSFS_ROOT=$t/sys
	run "$HWRUN" --pf 0000:00:00.0 --yes
	[ "$status" -eq 1 ]
	[ "$output" = "tests/hw/run: refused: 0000:00:00.0 has no SR-IOV capability (no sriov_totalvfs): nothing to qualify" ]
	nothing_written
}

@test "golden 82599 tree: --dry-run lists every change from the device table's maximum; no --yes is refused; the tree is unchanged" {
	tree_copy 82599-8vf
	export VFCTL_SYSFS_ROOT=$t/sys
	for d in "$t"/sys/bus/pci/devices/*; do
		[ -e "$d/sriov_totalvfs" ] && { pf=${d##*/}; break; }
	done
	sum=$(tree_sum)
	run "$HWRUN" --pf "$pf" --dry-run --vfs 4
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "# dry run: $pf (8086:10fb, "* ]]
	[[ "$output" == *"create: $pf sriov_numvfs -> 0 -> 63 (the maximum), then -> 0 -> 4 (vfctl create --force)"* ]]
	[[ "$output" == *"bind: VFs 0-2 of $pf -> vfio-pci"* ]]
	[[ "${lines[-1]}" == "restore: $pf back to the record"* ]]
	run "$HWRUN" --pf "$pf" --dry-run --steps enumerate,bind
	[ "$status" -eq 0 ]
	[[ "$output" != *"create:"* ]]
	run "$HWRUN" --pf "$pf"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "tests/hw/run: refused: VFCTL_SYSFS_ROOT=$t/sys is not the live /sys"* ]]
	[ "$(tree_sum)" = "$sum" ]
	nothing_written
}

@test "the device table: one row per PF id of the issue, each VF id, driver, maximum; the ixgbevf family not yet run on hardware" {
	tab=$REPO/tests/hw/devices.json
	run jq -r '.devices | to_entries[] | "\(.key) \(.value.vf_id) \(.value.pf_driver) \(.value.max_vfs) \(.value.guest.driver)"' "$tab"
	[ "$output" = "10fb 10ed ixgbe 63 ixgbevf
1528 1515 ixgbe 63 ixgbevf
1563 1565 ixgbe 63 ixgbevf
10c9 10ca igb 7 igbvf
1521 1520 igb 7 null" ]
	jq -e '.devices["10fb"].guest.note == "guest driver: yes, not yet run on a real 82599"' "$tab"
	jq -e '.devices["10fb"].refuses == ["link-state-enable", "min-tx-rate", "proto-802.1ad"]' "$tab"
	jq -e '[.devices[] | .accepts + .refuses | .[]] - ["mac", "vlan", "qos", "proto-802.1ad", "spoofchk", "trust", "max-tx-rate", "min-tx-rate", "link-state-auto", "link-state-enable", "link-state-disable", "query-rss"] == []' "$tab"
}

@test "usage: --help says what it changes and how it restores; bad options are usage errors (2)" {
	run "$HWRUN" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"What it changes, on DEV only"* ]]
	[[ "$output" == *"tests/hw/run --restore REPORT"* ]]
	run "$HWRUN" --vfs 1 --pf x
	[ "$status" -eq 2 ]
	[ "$output" = "tests/hw/run: --vfs 1: give a count of at least 2" ]
	run "$HWRUN" --steps create,boot
	[ "$status" -eq 2 ]
	[[ "$output" == "tests/hw/run: --steps: no step 'boot' (steps: enumerate,create,"* ]]
	run "$HWRUN" --restore "$BATS_TEST_TMPDIR/none.json"
	[ "$status" -eq 1 ]
	[ "$output" = "tests/hw/run: refused: $BATS_TEST_TMPDIR/none.json: no recorded state in it (not a tests/hw/run report?)" ]
}
