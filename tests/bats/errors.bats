#!/usr/bin/env bats
# Bad input: a clear one-line error naming what and where, exit 1 (2 for
# usage), never a crash.

# shellcheck disable=SC2154 # status, output, stderr, lines: set by bats run
bats_require_minimum_version 1.5.0

setup() {
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${FIXTURES:?set FIXTURES to the trees}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT
	root=$FIXTURES/82599-8vf/sys
}

@test "unknown device" {
	run "$VFCTL" --sysfs-root "$root" show 0000:09:1f.7
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "vfctl: 0000:09:1f.7: no such PCI function in $root/bus/pci/devices; 'vfctl list --all' shows the functions there" ]]
}

@test "unknown netdev name" {
	run "$VFCTL" --sysfs-root "$root" show eth9
	[ "$status" -eq 1 ]
	[[ "$output" == "vfctl: eth9: no PCI function has a netdev of that name"* ]]
}

@test "malformed addresses and names that would walk out of the tree" {
	for bad in 03:00 0000:03:00.8 03:20.0 '0000:03:00.0/../..' '../../etc/passwd' \
		'eth0/../x' ' 03:00.0' 0x03:00.0 "$(printf 'a%.0s' {1..20})"; do
		run "$VFCTL" --sysfs-root "$root" show "$bad"
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == *"neither a PCI address (0000:03:00.0 or 03:00.0) nor a network interface name"* ]]
	done
}

@test "a sysfs root that does not exist" {
	run "$VFCTL" --sysfs-root /nonexistent/sys list
	[ "$status" -eq 1 ]
	[ "$output" = "vfctl: sysfs root /nonexistent/sys: No such file or directory; pass an existing sysfs tree to --sysfs-root or VFCTL_SYSFS_ROOT" ]
}

@test "a sysfs root that is not a sysfs tree" {
	run "$VFCTL" --sysfs-root "$BATS_TEST_TMPDIR" list
	[ "$status" -eq 1 ]
	[[ "$output" == "vfctl: $BATS_TEST_TMPDIR/bus/pci/devices: No such file or directory; is $BATS_TEST_TMPDIR a sysfs tree"* ]]
}

@test "usage errors exit 2" {
	run "$VFCTL"
	[ "$status" -eq 2 ]
	run "$VFCTL" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'frobnicate'"* ]]
	# one line naming the option, not the whole usage
	run "$VFCTL" --bogus list
	[ "$status" -eq 2 ]
	[ "$output" = "vfctl: unrecognized option '--bogus'; see 'vfctl --help'" ]
	run "$VFCTL" -jx list
	[ "$status" -eq 2 ]
	[ "$output" = "vfctl: unrecognized option '-x'; see 'vfctl --help'" ]
	run "$VFCTL" --sysfs-root "$root" bind 01:10.0 --timeout
	[ "$status" -eq 2 ]
	[ "$output" = "vfctl bind: option '--timeout' needs a value; see 'vfctl bind --help'" ]
	# a negative number after an option that takes a value is that value,
	# before the command word too
	run "$VFCTL" --timeout -5 --sysfs-root "$root" bind 01:10.0
	[ "$status" -eq 2 ]
	[ "$output" = "vfctl bind: --timeout '-5': expected seconds, more than 0 and at most 86400" ]
	run "$VFCTL" bind --time -5 01:10.0 --sysfs-root "$root"
	[ "$status" -eq 2 ]
	[ "$output" = "vfctl bind: --timeout '-5': expected seconds, more than 0 and at most 86400" ]
	run "$VFCTL" --sysfs-root "$root" show
	[ "$status" -eq 2 ]
	run "$VFCTL" --sysfs-root "$root" groups extra
	[ "$status" -eq 2 ]
	run "$VFCTL" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage: vfctl"* ]]
}

@test "a tree with a bogus entry in bus/pci/devices: skipped with a warning" {
	t=$BATS_TEST_TMPDIR/t
	cp -a "$FIXTURES/82576" "$t"
	mkdir "$t/sys/bus/pci/devices/not-a-device"
	run --separate-stderr "$VFCTL" --sysfs-root "$t/sys" list --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -r '.warnings[0]' | grep -q 'not-a-device: not a PCI address, skipped'
	[[ "$stderr" == "vfctl: warning: "*"not-a-device: not a PCI address, skipped" ]]
}
