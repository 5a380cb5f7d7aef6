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
	[ -f "$d/usr/share/zsh/vendor-completions/_vfctl" ]
	make -s -C "$REPO" uninstall DESTDIR="$d" PREFIX=/usr >/dev/null
	[ ! -e "$d/usr/share/bash-completion/completions/vfctl" ]
	[ ! -e "$d/usr/share/zsh/vendor-completions/_vfctl" ]
}

@test "PF:INDEX: a PF's VFs by its address and its netdev" {
	run comp --sysfs-root "$sys" set enp3s0f0:
	[ "$(echo "$output" | tr '\n' ' ')" = "enp3s0f0:0 enp3s0f0:1 enp3s0f0:2 enp3s0f0:3 enp3s0f0:4 enp3s0f0:5 enp3s0f0:6 enp3s0f0:7 " ]
	run comp --sysfs-root "$sys" show 0000:03:00.0:1
	[ "$output" = 0000:03:00.0:1 ]
}

# zcomp WORD...: what the zsh completion (completion/_vfctl) offers for the
# last WORD; compadd and the helpers of compinit it calls are stand-ins that
# print what they are given, filtered by the word so far as compadd does.
zcomp() {
	# shellcheck disable=SC2016 # zsh's own expansions, in zsh
	zsh -fc '
	compadd() {
		local -a w
		if [[ $1 == -a ]]; then w=(${(P)2}); else shift; w=("$@"); fi
		print -rl -- ${(M)w:#${PREFIX}*}
	}
	_directories() { print -r -- "(directories)"; }
	_files() { print -r -- "(files)"; }
	_normal() { print -r -- "(a command line)"; }
	_message() { :; }
	words=("$@"); CURRENT=$#; PREFIX=$words[CURRENT]
	source "$REPO/completion/_vfctl"' zcomp "$VFCTL" "$@"
}

@test "zsh: compinit finds _vfctl for vfctl; it parses" {
	command -v zsh >/dev/null || skip "no zsh (tests/deps installs it)"
	zsh -n "$REPO/completion/_vfctl"
	# shellcheck disable=SC2016 # zsh's own expansions, in zsh
	run zsh -fc 'fpath=("$REPO/completion" $fpath); autoload -U compinit; compinit -u -D
		print -r -- $_comps[vfctl]'
	[ "$output" = _vfctl ]
}

@test "zsh: commands, a command's options, devices, PF:INDEX, drivers, set's words, exec" {
	command -v zsh >/dev/null || skip "no zsh (tests/deps installs it)"
	run zcomp ''
	[ "$(echo "$output" | tr '\n' ' ')" = "list show groups bind unbind restore set create destroy apply pools alloc release leases exec xml qemu-args doctor metrics cdi help " ]
	run zcomp alloc --p
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "--pf --pid --pool " ]
	run zcomp --sysfs-root "$sys" show 0000:03:11.
	[ "$(echo "$output" | tr '\n' ' ')" = "0000:03:11.0 0000:03:11.2 0000:03:11.4 0000:03:11.6 " ]
	run zcomp --sysfs-root "$sys" set enp3s0f0:
	[ "${#lines[@]}" -eq 8 ]
	[ "${lines[7]}" = enp3s0f0:7 ]
	run zcomp --sysfs-root "$sys" destroy ''
	[ "$(echo "$output" | tr '\n' ' ')" = "0000:03:00.0 0000:03:00.1 " ]
	run zcomp --sysfs-root "$sys" bind 0000:03:11.6 vf
	[ "$output" = vfio-pci ]
	run zcomp --sysfs-root "$sys" set 0000:03:11.6 m
	[ "$(echo "$output" | tr '\n' ' ')" = "mac max-tx-rate min-tx-rate " ]
	run zcomp exec --lease L1 -- q
	[ "$output" = "(a command line)" ]
	# no daemon: no lease ids, no noise
	run --separate-stderr zcomp exec --lease ''
	[ -z "$output" ]
	[ -z "$stderr" ]
}
