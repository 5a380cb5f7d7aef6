#!/usr/bin/env bats
# Progress of long operations (src/vfctl/progress.c): on a terminal one
# line rewritten in place and erased before the result; nothing when
# stderr is no terminal; -v lines anywhere; -q none. script(1) gives the
# command a terminal. On a golden tree no VF ever appears, so a create of
# the count the PF has is what shows the count ("VF 2 of 2 appeared") at once.

# shellcheck disable=SC2154 # status, output, stderr: set by bats run; t, run_dir: by tree_copy
bats_require_minimum_version 1.5.0
load helpers	# tree_copy, vfctl

setup() {
	tree_copy 82576	# port 0: 2 VFs on igbvf
	command -v script >/dev/null || skip "no script(1) (util-linux)"
	out_file=$BATS_TEST_TMPDIR/stdout
}

# on_tty ARGS...: vfctl ARGS with stderr on a terminal; stdout into $out_file,
# the terminal's bytes (stderr) on stdout
on_tty() {
	script -qec "$(printf '%q ' "$VFCTL" --sysfs-root "$t/sys" --run-dir "$run_dir" "$@") \
		>$out_file" /dev/null
}

@test "on a terminal: the count as the VFs appear, erased before the result; the result unchanged" {
	run --separate-stderr vfctl create 0000:01:00.0 2
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]	# no terminal: no progress
	plain=$(sed -E 's/(write|settle) [0-9]+ ms/\1 N ms/g' <<<"$output")	# times vary
	run on_tty create 0000:01:00.0 2
	[ "$status" -eq 0 ]
	[ "$output" = $'\r\e[Kvfctl: 0000:01:00.0: VF 2 of 2 appeared\r\e[K' ]
	[ "$(sed -E 's/(write|settle) [0-9]+ ms/\1 N ms/g' "$out_file")" = "$plain" ]
}

@test "-v: progress as lines also without a terminal; -q: none on a terminal" {
	run --separate-stderr vfctl -v create 0000:01:00.0 2
	[ "$status" -eq 0 ]
	[ "$stderr" = "vfctl: 0000:01:00.0: VF 2 of 2 appeared" ]
	run on_tty create --quiet 0000:01:00.0 2
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$(cat "$out_file")" == "0000:01:00.0: 2 -> 2 VFs (unchanged, nothing written)"* ]]
}

@test "destroy on a terminal: what is being removed, then the error alone on its line" {
	run on_tty destroy --timeout 0.2 0000:01:00.0
	[ "$status" -eq 1 ]	# a golden tree's VFs never go: a timeout
	[[ "$output" == $'\r\e[Kvfctl: 0000:01:00.0: removing 2 VFs\r\e[Kvfctl: 0000:01:00.0: sriov_numvfs was set to 0, but after '* ]]
	[ ! -s "$out_file" ]
}
