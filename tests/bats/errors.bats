#!/usr/bin/env bats
# Bad input: a clear one-line error naming what and where, exit status by kind
# (vfctl(1) EXIT STATUS: 3 not found, 2 usage, ...), never a crash.

# shellcheck disable=SC2154 # status, output, stderr, lines: set by bats run
# shellcheck disable=SC2030,SC2031 # t, status: set in a test, read by code() in the same subshell
bats_require_minimum_version 1.5.0

setup() {
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${FIXTURES:?set FIXTURES to the trees}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT
	root=$FIXTURES/82599-8vf/sys
}

@test "unknown device" {
	run "$VFCTL" --sysfs-root "$root" show 0000:09:1f.7
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "vfctl: 0000:09:1f.7: no such PCI function in $root/bus/pci/devices; 'vfctl list --all' shows the functions there" ]]
}

@test "unknown netdev name" {
	run "$VFCTL" --sysfs-root "$root" show eth9
	[ "$status" -eq 3 ]
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
	[ "$status" -eq 3 ]
	[ "$output" = "vfctl: sysfs root /nonexistent/sys: No such file or directory; pass an existing sysfs tree to --sysfs-root or VFCTL_SYSFS_ROOT" ]
}

@test "a sysfs root that is not a sysfs tree" {
	run "$VFCTL" --sysfs-root "$BATS_TEST_TMPDIR" list
	[ "$status" -eq 3 ]
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

# code WANT ARGS...: vfctl ARGS on a copy of tree $tree exits WANT, with one line on stderr
code() {
	local want=$1
	shift
	run --separate-stderr "$VFCTL" --sysfs-root "$t/sys" --run-dir "$BATS_TEST_TMPDIR/run" "$@"
	[ "$status" -eq "$want" ] || { echo "vfctl $*: exit $status, want $want: $stderr"; return 1; }
}

@test "exit status by kind, the same across commands (vfctl(1) EXIT STATUS)" {
	t=$BATS_TEST_TMPDIR/t
	cp -a "$FIXTURES/82599-8vf" "$t"
	# 0: nothing to do: a bind to the driver it is on, a destroy of a PF with no VFs
	code 0 bind 0000:03:11.6 vfio-pci
	[[ "$stderr" == "vfctl: nothing to do: 0000:03:11.6: already bound to vfio-pci, nothing changed"* ]]
	[[ "$output" == "0000:03:11.6: bound to vfio-pci (was vfio-pci)"* ]]
	code 0 bind -q 0000:03:11.6 vfio-pci
	[ -z "$stderr" ]
	code 0 destroy 0000:03:00.1
	# 1: a malformed value
	code 1 set 0000:03:10.0 mac zz
	# 2: usage
	code 2 show
	code 2 list --nosuch
	# 3: not found, whatever the command
	for cmd in show bind unbind restore destroy xml qemu-args; do
		code 3 "$cmd" 0000:09:1f.7
	done
	code 3 set 0000:09:1f.7 trust on
	code 3 set enp3s0f0:8 trust on
	code 3 restore 0000:03:10.0	# nothing saved
	code 3 bind 0000:03:10.0 nosuchdriver
	# 4: busy: a PF whose VFs a bind would destroy, unless --force
	code 4 bind enp3s0f0 vfio-pci
	# 5: refused: more VFs than sriov_totalvfs; netlink on a tree that is not /sys
	code 5 create 0000:03:00.1 99
	code 5 set 0000:03:10.0 trust on
	# 7: no vfctld at the socket
	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock code 7 leases
}
