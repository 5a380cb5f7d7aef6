# shellcheck shell=bash
# shellcheck disable=SC2154 # sys, run_dir, conf, log, dpid: set by the suite
# vfctld on a golden tree, for the bats suites that need the daemon
# (vfctld*.bats, vmm.bats): daemon_setup, or the suite's own setup, sets
# $sys, $run_dir, $conf, $log, VFCTLD_SOCKET and dpid= .

# schema_ok
load schema

# daemon_setup: the test's own copy of the 82599-8vf tree ($sys), a run dir
# whose socket other uids can reach ($run_dir, VFCTLD_SOCKET), the paths of
# $conf and $log, no daemon yet (dpid=)
daemon_setup() {
	: "${VFCTL:?}" "${VFCTLD:?}" "${LEASE_PROBE:?}" "${FIXTURES:?}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT VFCTL_RUN_DIR
	cp -a "$FIXTURES/82599-8vf" "$BATS_TEST_TMPDIR/t"
	sys=$BATS_TEST_TMPDIR/t/sys
	# the socket must be reachable by other uids: not under bats' 0700 dirs
	run_dir=$(mktemp -d /tmp/vfctld-bats.XXXXXX)
	chmod 755 "$run_dir"
	export VFCTLD_SOCKET=$run_dir/vfctld.sock
	conf=$BATS_TEST_TMPDIR/vfctl.conf
	log=$BATS_TEST_TMPDIR/vfctld.log
	dpid=
}

# start [OPTION...]: the daemon in the background ($dpid), once its socket is there
start() {
	"$VFCTLD" --sysfs-root "$sys" --run-dir "$run_dir" --config "$conf" "$@" \
		>>"$log" 2>&1 </dev/null &
	dpid=$!
	for _ in $(seq 100); do [ -S "$VFCTLD_SOCKET" ] && return 0; sleep 0.05; done
	return 1
}

# stop: SIGTERM, and the daemon exited 0
stop() {
	kill "$dpid"
	wait "$dpid" || return 1
	dpid=
}

# as UID CMD...: a client with another uid and no other group (setpriv, as root)
as() {
	local uid=$1
	shift
	setpriv --reuid "$uid" --regid "$uid" --clear-groups -- "$@"
}

# daemon_teardown: SIGTERM to a running daemon, its log on bats' output, the
# run dir removed; fails unless it exited 0 (a clean exit; under ASan also no
# leak, no error)
daemon_teardown() {
	local rc=0
	if [ -n "$dpid" ]; then
		kill "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null || rc=$?
	fi
	echo "---- vfctld log"
	cat "$log" 2>/dev/null || true
	[ -z "${run_dir:-}" ] || rm -rf "$run_dir"
	[ "$rc" = 0 ]
}
