#!/usr/bin/env bats
# The bash completion (completion/vfctl.bash) as bash runs it: complete -p,
# then _vfctl called with COMP_WORDS/COMP_CWORD as readline would, on a
# golden tree (--sysfs-root on the line) and on vfctl's own help.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
bats_require_minimum_version 1.5.0

setup() {
	: "${VFCTL:?}" "${FIXTURES:?}" "${REPO:?}"
	# shellcheck source=/dev/null # the repo's completion/vfctl.bash
	source "$REPO/completion/vfctl.bash"
	sys=$FIXTURES/82599-8vf/sys
	export VFCTLD_SOCKET=$BATS_TEST_TMPDIR/no-daemon.sock
}

# comp WORD...: what completing the last WORD offers, one a line (the
# first word is vfctl, here the built binary)
comp() {
	COMP_WORDS=("$VFCTL" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_vfctl
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "complete -p: vfctl completes with _vfctl" {
	run complete -p vfctl
	[ "$output" = "complete -F _vfctl vfctl" ]
}

@test "command words: every command of 'vfctl help', by prefix" {
	run comp ''
	[ "$(echo "$output" | tr '\n' ' ')" = "list show groups bind unbind restore set create destroy apply pools alloc release leases exec xml qemu-args doctor metrics cdi help " ]
	run comp b
	[ "$output" = bind ]
	run comp --sysfs-root "$sys" qe
	[ "$output" = qemu-args ]
	run comp help re
	[ "$(echo "$output" | tr '\n' ' ')" = "restore release " ]
}

@test "a command's own options only, and the global ones" {
	run comp alloc --p
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "--pf --pid --pool " ]
	run comp alloc --t
	[ "$output" = --ttl ]
	# a duration's form, by example; its value is no positional argument
	run comp alloc --ttl 1
	[ "$(echo "$output" | tr '\n' ' ')" = "10m 1h 1d " ]
	run comp list --d
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "--dev-root --driver " ]
	run comp --j
	[ "$output" = --json ]
}

@test "devices, PFs and drivers from the tree on the line" {
	run comp --sysfs-root "$sys" show 0000:03:11.
	[ "$(echo "$output" | tr '\n' ' ')" = "0000:03:11.0 0000:03:11.2 0000:03:11.4 0000:03:11.6 " ]
	run comp --sysfs-root "$sys" show enp3s0f0v
	[ "${#lines[@]}" -eq 7 ]
	run comp --sysfs-root "$sys" destroy ''
	[ "$(echo "$output" | tr '\n' ' ')" = "0000:03:00.0 0000:03:00.1 " ]
	run comp --sysfs-root "$sys" bind 0000:03:11.6 vf
	[ "$output" = vfio-pci ]
	run comp --sysfs-root "$sys" set 0000:03:11.6 m
	[ "$(echo "$output" | tr '\n' ' ')" = "mac max-tx-rate min-tx-rate " ]
	run comp --sysfs-root "$sys" set 0000:03:11.6 mac ''
	[ -z "$output" ]
}

@test "exec: after -- the program's name; no daemon: no lease ids, no noise" {
	run comp exec --lease L1 -- bas
	[[ "$output" == *bash* ]]
	run --separate-stderr comp exec --lease ''
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "make install puts it where bash-completion looks, uninstall removes it" {
	d=$BATS_TEST_TMPDIR/root
	make -s -C "$REPO" install DESTDIR="$d" PREFIX=/usr >/dev/null
	[ -f "$d/usr/share/bash-completion/completions/vfctl" ]
	make -s -C "$REPO" uninstall DESTDIR="$d" PREFIX=/usr >/dev/null
	[ ! -e "$d/usr/share/bash-completion/completions/vfctl" ]
}
