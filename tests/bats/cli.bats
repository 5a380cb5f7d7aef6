#!/usr/bin/env bats
# The command line: each command takes its own options and the global
# ones (before or after its name) and nothing else; an option it does not
# take is a usage error (exit 2) naming the command, and changes nothing.
# 'vfctl CMD --help' and 'vfctl help CMD' are that command's usage.

bats_require_minimum_version 1.5.0

setup() {
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${FIXTURES:?set FIXTURES to the trees}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT VFCTL_RUN_DIR VFCTLD_SOCKET
	t=$BATS_TEST_TMPDIR/t
	cp -a "$FIXTURES/82576" "$t"	# PF 0000:01:00.0: VFs 01:10.0, 01:10.2; PF 01:00.1: none
	run_dir=$BATS_TEST_TMPDIR/run
	# a vfctld request that got past the parser fails here, with exit 1
	export VFCTLD_SOCKET=$BATS_TEST_TMPDIR/no-vfctld.sock
	conf=$BATS_TEST_TMPDIR/vfctl.conf
	echo '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2 } ] }' >"$conf"
}

vfctl() {
	"$VFCTL" --sysfs-root "$t/sys" --run-dir "$run_dir" "$@"
}

# Every path, link target and file content of the tree.
tree_sum() {
	(cd "$t" && find . -printf '%p %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) | md5sum
}

# The commands the overview lists, one a line.
commands() {
	"$VFCTL" help | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\)  *.*/\1/p'
}

# The options a usage lists: "--all" or "--timeout=SEC", one a line.
usage_opts() {
	sed -n '/^Options/,/^$/s/^  \(-., \)\{0,1\} *\(--[a-z-]*\)\( [A-Z][A-Z]*\)\{0,1\}.*/\2\3/p' |
		sed 's/ /=/'
}

@test "vfctl help and vfctl --help: the overview, every command on one line" {
	run --separate-stderr "$VFCTL" help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "Usage: vfctl [OPTIONS] COMMAND [ARGS]" ]
	overview=$output
	run --separate-stderr "$VFCTL" --help
	[ "$status" -eq 0 ]
	[ "$output" = "$overview" ]
	run --separate-stderr "$VFCTL" -h
	[ "$output" = "$overview" ]
	[ "$(commands | tr '\n' ' ')" = "list show groups bind unbind restore set create destroy apply pools alloc release leases exec xml qemu-args doctor metrics cdi help " ]
	# no command: the overview on stderr, a usage error
	run --separate-stderr "$VFCTL"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "$overview" ]
}

@test "each command's --help is its own usage, and help CMD prints the same" {
	overview=$("$VFCTL" --help)
	n=0
	for c in $(commands); do
		run --separate-stderr "$VFCTL" "$c" --help
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		[[ "${lines[0]}" == "Usage: vfctl [OPTIONS] $c"* ]]
		[ "$output" != "$overview" ]
		[[ "$output" != *"Commands:"* ]]
		usage=$output
		# only its own synopsis: no other command's name after "Usage: vfctl [OPTIONS]"
		[ "$(grep -c '^Usage:' <<<"$usage")" -eq 1 ]
		run --separate-stderr "$VFCTL" help "$c"
		[ "$status" -eq 0 ]
		[ "$output" = "$usage" ]
		run --separate-stderr "$VFCTL" "$c" -h
		[ "$output" = "$usage" ]
		run --separate-stderr "$VFCTL" --help "$c"
		[ "$output" = "$usage" ]
		# no host is needed to print it, and arguments do not matter
		if [ "$c" = exec ]; then
			# exec's options end at CMD: a --help after it is CMD's
			run --separate-stderr "$VFCTL" --sysfs-root /nonexistent "$c" --help a b
		else
			run --separate-stderr "$VFCTL" --sysfs-root /nonexistent "$c" a b --help
		fi
		[ "$status" -eq 0 ]
		[ "$output" = "$usage" ]
		n=$((n + 1))
	done
	[ "$n" -eq 21 ]
	# each usage is different
	for c in $(commands); do "$VFCTL" help "$c" | head -1; done | sort | uniq -d >"$BATS_TEST_TMPDIR/dup"
	[ ! -s "$BATS_TEST_TMPDIR/dup" ]
}

@test "a command takes exactly the options its usage lists" {
	all=$(for c in $(commands); do "$VFCTL" help "$c" | usage_opts; done | sort -u)
	[ -n "$all" ]
	for c in $(commands); do
		own=$("$VFCTL" help "$c" | usage_opts)
		for o in $all; do
			flag=${o%%=*}
			val=()
			[ "$o" = "$flag" ] || case $flag in
				--timeout | --numa | --pid | --ttl) val=(1) ;;
				*) val=(x) ;;
			esac
			# parsed in order: an option it takes, then --help, prints the usage
			run --separate-stderr "$VFCTL" "$c" "$flag" "${val[@]}" --help
			# a prefix of one of its own options is that option (as getopt_long)
			if grep -q -- "^$flag" <<<"$own"; then
				[ "$status" -eq 0 ] || { echo "$c refuses $flag, a prefix of its own: $stderr"; false; }
			elif grep -qxF -- "$o" <<<"$own"; then
				[ "$status" -eq 0 ] || { echo "$c refuses its own $flag: $stderr"; false; }
			else
				[ "$status" -eq 2 ] || { echo "$c takes $flag"; false; }
				[[ "$stderr" == "vfctl $c: "* ]]
				[ "${#stderr}" -gt 0 ] && [ "$(wc -l <<<"$stderr")" -eq 1 ]
			fi
		done
	done
}

@test "help nosuch, help with two commands, an unknown command: usage errors" {
	run --separate-stderr "$VFCTL" help nosuch
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "vfctl help: unknown command 'nosuch'; see 'vfctl help'" ]
	run --separate-stderr "$VFCTL" help list show
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl help: expected at most one command; see 'vfctl help help'" ]
	run --separate-stderr "$VFCTL" --help nosuch
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl: unknown command 'nosuch'; see 'vfctl --help'" ]
}

@test "list --pool x, list --dry-run, show --force: exit 2 naming the command" {
	run --separate-stderr vfctl list --pool x
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "vfctl list: unrecognized option '--pool'; see 'vfctl list --help'" ]
	run --separate-stderr vfctl list --dry-run
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl list: unrecognized option '--dry-run'; see 'vfctl list --help'" ]
	run --separate-stderr vfctl show 0000:01:00.0 --force
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl show: unrecognized option '--force'; see 'vfctl show --help'" ]
	# before the command word it is still the command's option, and refused by it
	run --separate-stderr vfctl --pool x list
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl list: unrecognized option '--pool'; see 'vfctl list --help'" ]
	run --separate-stderr vfctl -a show 0000:01:00.0
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl show: unrecognized option '-a'; see 'vfctl show --help'" ]
	# an option no command has: the global scan refuses it
	run --separate-stderr vfctl --frobnicate list
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl: unrecognized option '--frobnicate'; see 'vfctl --help'" ]
}

@test "an option of another command is refused and changes nothing on the tree" {
	before=$(tree_sum)
	while IFS='|' read -r cmd bad; do
		read -ra args <<<"$cmd"
		bad=${bad# }
		for where in after before; do
			if [ $where = after ]; then
				# shellcheck disable=SC2086 # split on purpose: "--pool x"
				run --separate-stderr vfctl "${args[@]}" $bad
			else
				# shellcheck disable=SC2086 # split on purpose: "--pool x"
				run --separate-stderr vfctl $bad "${args[@]}"
			fi
			[ "$status" -eq 2 ] || { echo "$cmd $bad ($where): exit $status: $stderr"; false; }
			[ -z "$output" ]
			[ "$stderr" = "vfctl ${args[0]}: unrecognized option '${bad%% *}'; see 'vfctl ${args[0]} --help'" ]
		done
	done <<EOF
list | --skip-absent
groups | --all
show 0000:01:00.0 | --dry-run
create 0000:01:00.1 2 | --dry-run
create 0000:01:00.1 2 | --config $conf
destroy 0000:01:00.0 | --dry-run
bind 0000:01:10.0 vfio-pci | --dry-run
unbind 0000:01:10.0 | --no-autoprobe
restore 0000:01:10.0 | --no-autoprobe
set 0000:01:10.0 trust on | --timeout 5
apply --config $conf | --all
apply --config $conf | --pool x
pools | --pf 0000:01:00.0
alloc --pool p | --dry-run
release L1 | --timeout 5
leases | --force
xml 0000:01:10.0 | --iommufd
qemu-args 0000:01:10.0 | --interface
qemu-args L1 | --pool x
help list | --force
EOF
	[ "$(tree_sum)" = "$before" ]
	[ ! -e "$run_dir" ]
}

@test "a missing value is a usage error naming the command" {
	before=$(tree_sum)
	run --separate-stderr vfctl bind 0000:01:10.0 --timeout
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl bind: option '--timeout' needs a value; see 'vfctl bind --help'" ]
	run --separate-stderr vfctl apply --dry-run --config
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl apply: option '--config' needs a value; see 'vfctl apply --help'" ]
	run --separate-stderr "$VFCTL" list --sysfs-root
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl list: option '--sysfs-root' needs a value; see 'vfctl list --help'" ]
	run --separate-stderr "$VFCTL" --sysfs-root
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl: option '--sysfs-root' needs a value; see 'vfctl --help'" ]
	# a bad value: the command's own message
	run --separate-stderr vfctl create 0000:01:00.1 2 --timeout 0
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl create: --timeout '0': expected seconds, more than 0 and at most 86400" ]
	run --separate-stderr vfctl alloc --pool p --numa -1
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl alloc: --numa '-1': expected a NUMA node number (0-1023)" ]
	# a flag with a value, an ambiguous abbreviation
	run --separate-stderr vfctl list --all=yes
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl list: option '--all' takes no value; see 'vfctl list --help'" ]
	run --separate-stderr vfctl alloc --p x
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl alloc: option '--p' is ambiguous; see 'vfctl alloc --help'" ]
	[ "$(tree_sum)" = "$before" ]
	[ ! -e "$run_dir" ]
}

@test "global options before and after the command word, abbreviated, clustered: the same output" {
	root=$t/sys
	"$VFCTL" --json --sysfs-root "$root" list >"$BATS_TEST_TMPDIR/ref"
	[ "$(jq -r .sysfs_root "$BATS_TEST_TMPDIR/ref")" = "$root" ]
	[ "$(jq '.pfs | length' "$BATS_TEST_TMPDIR/ref")" -eq 2 ]
	for args in "list --json --sysfs-root $root" "--sysfs-root $root list -j" \
		"list --sysfs-root=$root --js" "-j list --sysfs $root" "--sysfs-root $root -- list -j"; do
		# shellcheck disable=SC2086 # split on purpose
		run --separate-stderr "$VFCTL" $args
		[ "$status" -eq 0 ]
		[ "$output" = "$(cat "$BATS_TEST_TMPDIR/ref")" ] || { echo "differs: $args"; false; }
	done
	# the environment, and the option winning over it
	run --separate-stderr env VFCTL_SYSFS_ROOT="$root" "$VFCTL" list --json
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/ref")" ]
	run --separate-stderr env VFCTL_SYSFS_ROOT=/nonexistent "$VFCTL" list --json --sysfs-root "$root"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/ref")" ]
	# list's own -a, alone or with -j, before or after
	"$VFCTL" --sysfs-root "$root" --json list --all >"$BATS_TEST_TMPDIR/all"
	[ "$(jq '.functions | length' "$BATS_TEST_TMPDIR/all")" -gt 0 ]
	for args in "-ja list" "list -aj" "--all list -j" "list -j -a" "-aaaaaaaaaaaaaaaaaaaa list -j"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$VFCTL" --sysfs-root "$root" $args
		[ "$status" -eq 0 ]
		[ "$output" = "$(cat "$BATS_TEST_TMPDIR/all")" ] || { echo "differs: $args"; false; }
	done
}

@test "a command's options before its name are its own: apply, create" {
	"$VFCTL" --sysfs-root "$t/sys" apply --dry-run --config "$conf" >"$BATS_TEST_TMPDIR/ref"
	grep -q "would apply" "$BATS_TEST_TMPDIR/ref"
	run --separate-stderr "$VFCTL" --dry-run --config "$conf" --sysfs-root "$t/sys" apply
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/ref")" ]
	run --separate-stderr "$VFCTL" --config="$conf" apply --dry-run --sysfs-root "$t/sys"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/ref")" ]
	# the command judges them: create's --timeout, destroy's --no-autoprobe
	before=$(tree_sum)
	run --separate-stderr vfctl --timeout 0 create 0000:01:00.1 1
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl create: --timeout '0': expected seconds, more than 0 and at most 86400" ]
	run --separate-stderr vfctl --no-autoprobe destroy 0000:01:00.0
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl destroy: --no-autoprobe applies to create only" ]
	[ "$(tree_sum)" = "$before" ]
}

@test "a negative number is an argument, also next to options" {
	before=$(tree_sum)
	run --separate-stderr vfctl set 0000:01:10.0 --json vlan -5
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfctl: set 0000:01:10.0: vlan '-5': expected 0-4095 (0: no VLAN)" ]
	run --separate-stderr vfctl --force create 0000:01:00.1 -1
	[ "$status" -eq 2 ]
	[[ "$stderr" == "vfctl create: '-1' is not a VF count"* ]]
	# after "--" even an option's spelling is an argument
	run --separate-stderr vfctl create 0000:01:00.1 -- --all
	[ "$status" -eq 2 ]
	[[ "$stderr" == "vfctl create: '--all' is not a VF count"* ]]
	[ "$(tree_sum)" = "$before" ]
}

@test "the vfctld socket: --socket, else VFCTLD_SOCKET, read by vfctl" {
	run --separate-stderr "$VFCTL" leases
	[ "$status" -eq 7 ]
	[[ "$stderr" == "vfctl: connecting to vfctld at $VFCTLD_SOCKET: "* ]]
	run --separate-stderr "$VFCTL" --socket "$BATS_TEST_TMPDIR/other.sock" leases
	[ "$status" -eq 7 ]
	[[ "$stderr" == "vfctl: connecting to vfctld at $BATS_TEST_TMPDIR/other.sock: "* ]]
	run --separate-stderr "$VFCTL" pools --socket="$BATS_TEST_TMPDIR/other.sock"
	[ "$status" -eq 7 ]
	[[ "$stderr" == "vfctl: connecting to vfctld at $BATS_TEST_TMPDIR/other.sock: "* ]]
}
