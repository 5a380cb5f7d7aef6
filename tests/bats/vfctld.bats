#!/usr/bin/env bats
# vfctld standalone on a golden tree (82599-8vf: VF 7 is on vfio-pci, the
# others on ixgbevf): the protocol through vfctl and raw messages,
# authorization by uid, leases across restarts, refusals that change
# nothing, 200 concurrent clients, socket activation, the units.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
# shellcheck disable=SC2030,SC2031 # dpid: set in tests, read in teardown (one subshell)
bats_require_minimum_version 1.5.0
load vfctld-daemon

setup() {
	daemon_setup
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "0000:03:00.0" }, "numvfs": 8,
  "pools": [ { "name": "gpu", "vfs": [7], "users": [4321] },
             { "name": "broken", "vfs": [5] } ] } ] }
JSON
}

teardown() {
	daemon_teardown
}

msg() {	# msg NAME TEXT: a raw message file
	printf '%s' "$2" >"$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}

@test "alloc, leases, open (the fds arrive, named), release; a pre-bound VF stays on vfio-pci" {
	start
	run "$VFCTL" --json alloc --pool gpu --owner vm1
	echo "$output"
	[ "$status" -eq 0 ]
	schema_ok lease_reply
	# the lease itself under "lease", no wrapper key
	[ "$(jq -r '.lease.id + " " + .lease.address + " " + (.lease.iommu_group | tostring)' <<<"$output")" = "L1 0000:03:11.6 37" ]
	[ "$(jq -r '.lease.user' <<<"$output")" = root ]
	run "$VFCTL" leases
	[[ "$output" == "L1    0000:03:11.6  VF 7 of 0000:03:00.0  pool gpu  group 37  user root  owner vm1  active" ]]
	run "$VFCTL" --json leases
	schema_ok leases
	[ "$(jq -r '.leases[0].id + " " + .leases[0].address + " " + .leases[0].state' <<<"$output")" = "L1 0000:03:11.6 active" ]
	[ "$(jq -r '.leases[0].owner' "$run_dir/leases.json")" = vm1 ]
	[ "$(stat -c %a "$run_dir/leases.json")" = 600 ]
	# made 0666 by bind under a umask, not by a chmod through the name
	[ "$(stat -c %a "$VFCTLD_SOCKET")" = 666 ]

	# golden-tree device nodes are plain files: they arrive, but are no VFIO fds
	run --separate-stderr "$LEASE_PROBE" L1
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "received 0000:03:11.6 group 37 container_fd "*" group_fd "*" iommufd -1 device_fd -1" ]]
	[[ "$stderr" == *"VFIO_GET_API_VERSION on the container fd"* ]]

	run "$VFCTL" --json pools
	schema_ok pools
	[ "$(jq -r '.pools[0].vfs[0].lease_id' <<<"$output")" = L1 ]
	[ "$(jq -r '.pools[0].free' <<<"$output")" = 0 ]

	run "$VFCTL" --json release 0000:03:11.6
	[ "$status" -eq 0 ]
	schema_ok lease_reply
	[ "$(jq -r '.lease.id + " " + .lease.state' <<<"$output")" = "L1 released" ]
	[ "$(readlink "$sys/bus/pci/devices/0000:03:11.6/driver")" = ../../../../bus/pci/drivers/vfio-pci ] ||
		[ "$(basename "$(readlink "$sys/bus/pci/devices/0000:03:11.6/driver")")" = vfio-pci ]
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	run "$VFCTL" release L1
	[ "$status" -eq 3 ]
	[ "$output" = "vfctl: release: no lease L1 ('vfctl leases' lists them)" ]
}

@test "pool exhausted, unknown pool, unknown lease: clear errors, non-zero exit" {
	start
	"$VFCTL" alloc --pool gpu >/dev/null
	run "$VFCTL" alloc --pool gpu
	[ "$status" -eq 6 ]
	[ "$output" = "vfctl: alloc: pool 'gpu' has no free VF: 1 of 1 leased (L1)" ]
	run "$VFCTL" alloc --pool nope
	[ "$status" -eq 3 ]
	[ "$output" = "vfctl: alloc: no pool 'nope' in $conf (pools: gpu, broken)" ]
	run "$VFCTL" alloc
	[ "$status" -eq 2 ]
	run "$VFCTL" alloc --pool gpu --numa x
	[ "$status" -eq 2 ]
	run "$VFCTL" release bogus
	[ "$status" -eq 2 ]
	run "$LEASE_PROBE" L9
	[ "$status" -eq 1 ]
	[[ "$output" == "lease-probe: open L9: no lease L9 ('vfctl leases' lists them) (errno 2)" ]]
}

@test "a bind that fails rolls the lease back: error names the device and file, the VF is free, the id is not reused" {
	start
	before=$(readlink "$sys/bus/pci/devices/0000:03:11.2/driver")
	run "$VFCTL" alloc --pool broken
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == "vfctl: alloc: 0000:03:11.2: writing '0000:03:11.2' to $sys/bus/pci/devices/0000:03:11.2/driver/unbind: No such file or directory; rolled back: 0000:03:11.2 is on ixgbevf again" ]]
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	[ "$(readlink "$sys/bus/pci/devices/0000:03:11.2/driver")" = "$before" ]
	# the override was put back
	[ "$(cat "$sys/bus/pci/devices/0000:03:11.2/driver_override")" != vfio-pci ]
	run "$VFCTL" alloc --pool gpu
	[[ "$output" == L2* ]]
}

# wait_for CMD...: until CMD succeeds (a state, not a time: the bound only ends a hang)
wait_for() {
	local _
	for _ in $(seq 600); do "$@" && return 0; sleep 0.05; done
	return 1
}

# allocating N: leases.json holds N leases whose binds are under way
allocating() {
	[ "$(jq '[.leases[] | select(.state == "allocating")] | length' "$run_dir/leases.json" 2>/dev/null)" = "$1" ]
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

@test "a bind whose write hangs (unbind a FIFO nobody reads) holds up its own client only: B's alloc is answered before A's; at --timeout A is told and rolled back; nothing leaked once the FIFO is read" {
	fifo=$sys/bus/pci/drivers/ixgbevf/unbind
	pidfds() { find "/proc/$dpid/fd" -mindepth 1 -lname 'anon_inode:*pidfd*' | wc -l; }
	mkfifo "$fifo"
	start --timeout 60
	# B's round trip with nobody else there, for the figure
	t0=$(date +%s%N)
	"$VFCTL" alloc --pool gpu >/dev/null
	idle=$(ms_since "$t0")
	"$VFCTL" release 0000:03:11.6 >/dev/null
	# A: its bind's worker blocks in the unbind write's open() (no reader) until
	# the FIFO is read; B: from the pre-bound pool meanwhile
	"$VFCTL" alloc --pool broken >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	wait_for allocating 1
	t0=$(date +%s%N)
	run "$VFCTL" alloc --pool gpu
	hung=$(ms_since "$t0")
	echo "B: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == "L3"*"0000:03:11.6"* ]]
	# B is answered while A still waits for its own
	kill -0 "$a"
	[ ! -s "$BATS_TEST_TMPDIR/a" ]
	allocating 1
	echo "# figure: client B's alloc while A's bind hangs: ${hung} ms (idle: ${idle} ms)" >&3
	# a reader for the FIFO (O_RDWR never blocks): A's bind goes on, and fails on a
	# golden tree (the VF stays on ixgbevf): A is told, its lease rolled back
	exec 9<>"$fifo"
	wait "$a" && false
	cat "$BATS_TEST_TMPDIR/a"
	grep -q "^vfctl: alloc: 0000:03:11.2: .*rolled back" "$BATS_TEST_TMPDIR/a"
	[ "$(jq -r '[.leases[].vf] | join(" ")' "$run_dir/leases.json")" = 0000:03:11.6 ]
	exec 9<&-

	# --timeout 1: the write is given up on after 1 s, A is told and rolled back
	stop
	start --timeout 1
	run "$VFCTL" alloc --pool broken
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == "vfctl: alloc: 0000:03:11.2: writing '0000:03:11.2' to $sys/bus/pci/devices/0000:03:11.2/driver/unbind did not return in 1000 ms "*"rolled back"* ]]
	[ "$(jq -r '[.leases[].vf] | join(" ")' "$run_dir/leases.json")" = 0000:03:11.6 ]
	# the writer left behind holds none of the daemon's fds (its lock above all):
	# the daemon goes on serving; read the FIFO and nothing of it is left
	run "$VFCTL" release 0000:03:11.6
	[ "$status" -eq 0 ]
	timeout 10 cat "$fifo" >/dev/null
	for _ in $(seq 100); do
		[ -z "$(ps -o pid= --ppid "$dpid")" ] && [ "$(pidfds)" = 0 ] && break
		kill -CHLD "$dpid"
		sleep 0.1
	done
	ps -o pid,stat,cmd --ppid "$dpid" || true
	[ -z "$(ps -o pid= --ppid "$dpid")" ]
	[ "$(pidfds)" = 0 ]
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
}

@test "two binds at once in one pool get different VFs; the allocating lease cannot be released meanwhile" {
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "0000:03:00.0" }, "numvfs": 8,
  "pools": [ { "name": "pair", "vfs": [4, 5] } ] } ] }
JSON
	mkfifo "$sys/bus/pci/drivers/ixgbevf/unbind"
	start --timeout 60
	"$VFCTL" alloc --pool pair >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	"$VFCTL" alloc --pool pair >"$BATS_TEST_TMPDIR/b" 2>&1 &
	b=$!
	# both binds under way (one in the write, one waiting for the PF's lock)
	wait_for allocating 2
	[ "$(jq -r '[.leases[].vf] | sort | join(" ")' "$run_dir/leases.json")" = "0000:03:11.0 0000:03:11.2" ]
	run "$VFCTL" alloc --pool pair
	[ "$status" -eq 6 ]
	[[ "$output" == "vfctl: alloc: pool 'pair' has no free VF: 2 of 2 leased (L1 L2)" ]]
	run "$VFCTL" release L1
	[ "$status" -ne 0 ]
	[ "$output" = "vfctl: release: lease L1 is still being allocated; try again" ]
	# the daemon answers the others meanwhile
	run "$VFCTL" leases
	[ "$status" -eq 0 ]
	exec 9<>"$sys/bus/pci/drivers/ixgbevf/unbind"
	wait "$a" && false
	wait "$b" && false
	exec 9<&-
	cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	grep -q "rolled back" "$BATS_TEST_TMPDIR/a"
	grep -q "rolled back" "$BATS_TEST_TMPDIR/b"
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
}

@test "a worker still running at --timeout + 1 s is killed: the alloc is told so and rolled back once the PF's lock is free" {
	start --timeout 1
	# another change holds the PF's lock (the bind waits up to 60 s for it)
	mkdir -m 700 "$run_dir/lock"
	exec 8>"$run_dir/lock/0000:03:00.0.lock"
	flock 8
	run "$VFCTL" alloc --pool broken
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == "vfctl: alloc: 0000:03:11.2: binding it to vfio-pci did not finish in 2000 ms (--timeout and a second more; a sysfs write, a read or the PF's lock is stuck): vfctld killed its worker (pid "*")" ]]
	grep -q "lease L1: 0000:03:11.2: binding it to vfio-pci did not finish in 2000 ms" "$log"
	# the rollback's restore waits for the lock too (killed the same way): the
	# lease is releasing, retried, and its VF stays out of the pool meanwhile
	run "$VFCTL" alloc --pool broken
	[ "$status" -eq 6 ]
	exec 8>&-
	wait_for jq -e '.leases | length == 0' "$run_dir/leases.json"
	grep -q "lease L1 released: 0000:03:11.2 back on its original driver" "$log"
	[ "$(basename "$(readlink "$sys/bus/pci/devices/0000:03:11.2/driver")")" = ixgbevf ]
}

@test "SIGTERM during a bind: its worker is killed and reaped, the lease stays allocating on disk and is rolled back at the next start" {
	fifo=$sys/bus/pci/drivers/ixgbevf/unbind
	mkfifo "$fifo"
	start --timeout 60
	"$VFCTL" alloc --pool broken >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	wait_for allocating 1
	worker=$(ps -o pid= --ppid "$dpid")
	[ -n "$worker" ]
	stop
	# the client sees the connection close; the worker is gone
	wait "$a" && false
	cat "$BATS_TEST_TMPDIR/a"
	! kill -0 "$worker" 2>/dev/null || false
	[ "$(jq -r '.leases[0].id + " " + .leases[0].state' "$run_dir/leases.json")" = "L1 allocating" ]
	grep -q "lease L1 (0000:03:11.2): stopped while binding it to vfio-pci; it stays allocating in $run_dir/leases.json" "$log"
	# the write its worker started is still blocked in the FIFO's open(): let it go
	exec 9<>"$fifo"
	exec 9<&-
	start
	wait_for grep -q "lease L1 (0000:03:11.2): an alloc was interrupted; rolling back" "$log"
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	[ "$(basename "$(readlink "$sys/bus/pci/devices/0000:03:11.2/driver")")" = ixgbevf ]
	run "$VFCTL" alloc --pool gpu
	[[ "$output" == L2* ]]
}

# fake_bind, fake_restore: the kernel for a bind of VF 5 (0000:03:11.2, group 35)
# to vfio-pci and for its restore, on FIFOs: the unbind from ixgbevf takes its
# netdev, the probe gives it to vfio-pci (and its group node appears);
# vfio-pci's unbind and the next probe give it back to ixgbevf. Each change is
# made before the FIFO the daemon writes next is opened.
fake_fifos() {
	mkfifo "$sys/bus/pci/drivers/ixgbevf/unbind" "$sys/bus/pci/drivers_probe" \
		"$sys/bus/pci/drivers/vfio-pci/unbind"
}

fake_bind() {
	local dev=$sys/bus/pci/devices/0000:03:11.2
	cat "$sys/bus/pci/drivers/ixgbevf/unbind" >/dev/null
	rm -rf "$dev/net"
	ln -sfn ../../../../../bus/pci/drivers/vfio-pci "$dev/driver"
	: >"$sys/../dev/vfio/35"
	cat "$sys/bus/pci/drivers_probe" >/dev/null
}

fake_restore() {
	cat "$sys/bus/pci/drivers/vfio-pci/unbind" >/dev/null
	ln -sfn ../../../../../bus/pci/drivers/ixgbevf "$sys/bus/pci/devices/0000:03:11.2/driver"
	cat "$sys/bus/pci/drivers_probe" >"$BATS_TEST_TMPDIR/reprobed"
}

fake_kernel() {
	fake_bind
	fake_restore
}

@test "a restore whose write hangs holds up its own client only: B's alloc is answered before A's release, which ends once the kernel lets the write go" {
	fake_fifos
	start --timeout 60
	fake_bind &
	fk=$!
	run "$VFCTL" alloc --pool broken
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "L1"*"0000:03:11.2"* ]]
	wait "$fk"
	# A's release: its restore's worker blocks in vfio-pci's unbind (no reader yet)
	"$VFCTL" --json release L1 >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	wait_for grep -q '"state": *"releasing"' "$run_dir/leases.json"
	t0=$(date +%s%N)
	run "$VFCTL" alloc --pool gpu
	hung=$(ms_since "$t0")
	echo "B: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == "L2"*"0000:03:11.6"* ]]
	kill -0 "$a"
	[ ! -s "$BATS_TEST_TMPDIR/a" ]
	echo "# figure: client B's alloc while A's restore hangs: ${hung} ms" >&3
	# a second release of L1 meanwhile is told why it waits
	run "$VFCTL" release L1
	[ "$status" -ne 0 ]
	[ "$output" = "vfctl: release: lease L1 (0000:03:11.2) is revoked, but its VF is being restored; vfctld retries every 2 s" ]
	fake_restore
	wait "$a"
	cat "$BATS_TEST_TMPDIR/a"
	[ "$(jq -r '.lease.id + " " + .lease.state' "$BATS_TEST_TMPDIR/a")" = "L1 released" ]
	[ "$(cat "$BATS_TEST_TMPDIR/reprobed")" = 0000:03:11.2 ]
	[ "$(basename "$(readlink "$sys/bus/pci/devices/0000:03:11.2/driver")")" = ixgbevf ]
	[ "$(jq -r '[.leases[].id] | join(" ")' "$run_dir/leases.json")" = L2 ]
	grep -q "lease L1 released: 0000:03:11.2 back on its original driver" "$log"
}

@test "the owner exits during the bind: once the worker is done the lease is rolled back, not left active" {
	fake_fifos
	start --timeout 60
	sleep 1000 &
	owner=$!
	"$VFCTL" alloc --pool broken --pid "$owner" >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	wait_for allocating 1
	kill "$owner"
	wait "$owner" || true
	# the bind goes on and succeeds; then the owner is found gone
	fake_kernel &
	fk=$!
	wait "$a" && false
	cat "$BATS_TEST_TMPDIR/a"
	[ "$(cat "$BATS_TEST_TMPDIR/a")" = "vfctl: alloc: 0000:03:11.2: owner pid $owner exited while the VF was being bound; rolled back" ]
	wait "$fk"
	[ "$(cat "$BATS_TEST_TMPDIR/reprobed")" = 0000:03:11.2 ]
	[ "$(basename "$(readlink "$sys/bus/pci/devices/0000:03:11.2/driver")")" = ixgbevf ]
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	grep -q "lease L1 (0000:03:11.2): owner pid $owner exited during the bind; rolling back" "$log"
}

@test "vfctl refuses to change a leased VF (destroy, create, bind, unbind, restore, set) naming the lease; --force overrides; no daemon: the file still counts" {
	start
	run "$VFCTL" alloc --pool gpu --owner vm1
	[ "$status" -eq 0 ]
	[[ "$output" == "L1    0000:03:11.6"* ]]
	sum() { (cd "$sys" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum;
		find . -type l -printf '%p %l\n' | LC_ALL=C sort) | md5sum; }
	before=$(sum)
	vc() { "$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" "$@"; }
	lease="lease L1 (VF 0000:03:11.6, owner vm1, uid 0, pool gpu)"
	run vc destroy 0000:03:00.0
	[ "$status" -eq 4 ]
	[ "$output" = "vfctl: 0000:03:00.0: vfctld leases 1 of its VFs ($lease); destroying the VFs would take it from under its user: release it first ('vfctl release L1'), or use --force" ]
	run vc create 0000:03:00.0 4
	[ "$status" -eq 4 ]
	[[ "$output" == "vfctl: 0000:03:00.0: vfctld leases 1 of its VFs ($lease); changing the VF count (through 0) would take it"* ]]
	run vc bind 0000:03:11.6 ixgbevf
	[ "$status" -eq 4 ]
	[ "$output" = "vfctl: 0000:03:11.6: vfctld leases it ($lease); binding it to ixgbevf would take it from under its user: release it first ('vfctl release L1'), or use --force" ]
	run vc bind 0000:03:00.0
	[ "$status" -eq 4 ]
	[[ "$output" == "vfctl: 0000:03:00.0: vfctld leases 1 of its VFs ($lease); binding the PF would take it"* ]]
	run vc unbind 0000:03:11.6
	[ "$status" -eq 4 ]
	[[ "$output" == "vfctl: 0000:03:11.6: vfctld leases it ($lease); unbinding it would take it"* ]]
	run vc restore 0000:03:11.6
	[ "$status" -eq 4 ]
	[[ "$output" == "vfctl: 0000:03:11.6: vfctld leases it ($lease); restoring it would take it"* ]]
	run vc set 0000:03:11.6 trust on
	[ "$status" -eq 4 ]
	[[ "$output" == "vfctl: set 0000:03:11.6: 0000:03:11.6: vfctld leases it ($lease); changing its settings would take it"* ]]
	run vc set 0000:03:00.0:7 mac 02:00:00:00:00:07
	[[ "$output" == *"vfctld leases it ($lease)"* ]]
	[ "$(sum)" = "$before" ]
	# another VF of the PF is not leased
	run vc set 0000:03:10.0 trust on
	[[ "$output" == *"nothing sent"* ]]
	# --force goes past the lease to what comes next
	run vc set --force 0000:03:11.6 trust on
	[ "$status" -eq 5 ]
	[[ "$output" == *"nothing sent: netlink is not available"* ]]
	run vc unbind --force 0000:03:11.6
	[[ "$output" == *"driver/unbind: No such file or directory"* ]]
	run vc restore --force 0000:03:11.6
	[[ "$output" == *"no saved state"* ]]

	# the daemon stopped: its leases.json still holds the VF
	stop
	run vc destroy 0000:03:00.0
	[ "$status" -eq 4 ]
	[[ "$output" == *"vfctld leases 1 of its VFs ($lease)"* ]]
	# --force: past the lease, the VFs are removed (a tree's never go: a timeout)
	run vc destroy --force --timeout 1 0000:03:00.0
	[ "$status" -eq 1 ]
	[[ "$output" == "vfctl: 0000:03:00.0: sriov_numvfs was set to 0, but after 1000 ms"* ]]
	[ "$(cat "$sys/bus/pci/devices/0000:03:00.0/sriov_numvfs")" = 0 ]
	# a lease that is not active (vfctld is binding or releasing it) does not count
	jq '.leases[0].state = "releasing"' "$run_dir/leases.json" >"$run_dir/l" && mv "$run_dir/l" "$run_dir/leases.json"
	run vc unbind 0000:03:11.6
	[[ "$output" != *"vfctld leases"* ]]
	# a lease list that is not one: nothing can be checked, refused
	echo '[1]' >"$run_dir/leases.json"
	run vc unbind 0000:03:11.6
	[ "$status" -eq 1 ]
	[ "$output" = "vfctl: $run_dir/leases.json: not a lease list vfctld wrote; vfctld's leases cannot be checked: fix or move it away, or use --force" ]
	# no lease list at all: nothing is leased
	rm "$run_dir/leases.json"
	run vc unbind 0000:03:11.6
	[[ "$output" != *"lease"* ]]
}

@test "authorization: a uid the pool lists allocates and opens; another is refused everything, before any fd" {
	start
	run as 4321 "$VFCTL" alloc --pool gpu
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == L1*"uid 4321"* ]]
	run --separate-stderr as 4321 "$LEASE_PROBE" L1
	[[ "$output" == "received 0000:03:11.6 group 37 "* ]]

	run as 4322 "$VFCTL" alloc --pool gpu
	[ "$status" -eq 5 ]
	[ "$output" = "vfctl: alloc: uid 4322 (gid 4322) may not allocate from pool 'gpu': not in its users or groups in $conf" ]
	run as 4322 "$LEASE_PROBE" L1
	[ "$status" -eq 1 ]
	[ "$output" = "lease-probe: open L1: lease L1 is not one of uid 4322 ('vfctl leases' lists yours) (errno 13)" ]
	run as 4322 "$VFCTL" release L1
	[ "$status" -eq 5 ]
	[ "$output" = "vfctl: release: lease L1 is not one of uid 4322 ('vfctl leases' lists yours)" ]
	run as 4322 "$VFCTL" --json leases
	[ "$(jq '.leases | length' <<<"$output")" = 0 ]
	run as 4322 "$VFCTL" --json pools
	[ "$(jq '.pools[0].allowed' <<<"$output")" = false ]
	# root sees it
	[ "$("$VFCTL" --json leases | jq -r '.leases[0].uid')" = 4321 ]
	run as 4321 "$VFCTL" release L1
	[ "$status" -eq 0 ]
}

@test "the lease's uid owns the VF's group node while the lease lasts; root's again after release, also on a restart" {
	start
	# a character device stands in for /dev/vfio/37 (the tree's is a plain file)
	node=$sys/../dev/vfio/37
	rm -f "$node"
	mknod -m 600 "$node" c 1 3
	run as 4321 "$VFCTL" alloc --pool gpu
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%u %a' "$node")" = "4321 600" ]
	# kill -9 and a hand chown: the restart grants it again
	kill -9 "$dpid"
	wait "$dpid" 2>/dev/null || true
	chown 0 "$node"
	rm -f "$VFCTLD_SOCKET"
	start
	"$VFCTL" leases >/dev/null	# answered: the reconcile at start is done
	[ "$(stat -c %u "$node")" = 4321 ]
	run as 4321 "$VFCTL" release L1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%u %a' "$node")" = "0 600" ]
	run ! grep -q "cannot open the VF's nodes" "$log"
	# a plain file is no device: never chowned, and the release is not held up
	rm -f "$node"
	touch "$node"
	run as 4321 "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
	[ "$(stat -c %u "$node")" = 0 ]
	grep -q "lease L2: uid 4321 cannot open the VF's nodes by path.*is no character device" "$log"
	run as 4321 "$VFCTL" release L2
	[ "$status" -eq 0 ]
}

@test "vfctl exec: the lease's fds CMD names are open in it, the others closed; placeholders substituted; refusals run nothing" {
	start
	run as 4321 "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
	dev=$(cd "$sys/../dev" && pwd -P)
	# the command's own options are its own, braces that name nothing stay
	# shellcheck disable=SC2016 # the inner shell expands them
	run --separate-stderr as 4321 "$VFCTL" exec --lease L1 bash -c \
		'echo "$1 $2 $3"; readlink /proc/self/fd/$4 /proc/self/fd/$5; find /proc/self/fd -lname "*/vfio/*" | wc -l' \
		x '--{bdf}' '{"a":1}' '{group_path}' '{container}' '{group}'
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '--0000:03:11.6 {"a":1} /dev/vfio/37' ]
	[ "${lines[1]}" = "$dev/vfio/vfio" ]
	[ "${lines[2]}" = "$dev/vfio/37" ]
	# those two, no other VFIO node
	[ "${lines[3]}" = 2 ]
	# no placeholder: every lease fd closed
	run as 4321 "$VFCTL" exec --lease L1 -- sh -c 'find /proc/self/fd -lname "*/vfio/*" | wc -l'
	[ "$output" = 0 ]
	# this tree (as Debian's kernels) has no iommufd: asked for, nothing runs
	run --separate-stderr as 4321 "$VFCTL" exec --lease L1 -- touch "$BATS_TEST_TMPDIR/ran" 'fd={iommufd}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == "vfctl exec: lease L1: vfctld sent no {iommufd} fd for 0000:03:11.6: this kernel has no iommufd"*"nothing was run" ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	run --separate-stderr as 4321 "$VFCTL" exec --lease L1 -- true '{device}' '{group}'
	[ "$status" -eq 1 ]
	# another uid gets vfctld's refusal; a missing command is 127, the lease stays
	run --separate-stderr as 4322 "$VFCTL" exec --lease L1 -- true
	[ "$status" -eq 5 ]
	[ "$stderr" = "vfctl exec: lease L1 is not one of uid 4322 ('vfctl leases' lists yours)" ]
	run -127 --separate-stderr as 4321 env PATH=/usr/bin:/bin "$VFCTL" exec --lease L1 -- no-such-vmm '{group}'
	[ "$status" -eq 127 ]
	[[ "$stderr" == "vfctl exec: no-such-vmm: No such file or directory (not found in \$PATH); lease L1 stays yours"* ]]
	run --separate-stderr "$VFCTL" exec -- true
	[ "$status" -eq 2 ]
	run --separate-stderr "$VFCTL" exec --lease L1
	[ "$status" -eq 2 ]
	run as 4321 "$VFCTL" release L1
	[ "$status" -eq 0 ]
}

@test "malformed, truncated, oversized and fd-carrying messages get an error reply; the connection stays usable" {
	start
	fds_before=$(find "/proc/$dpid/fd" -mindepth 1 | wc -l)
	head -c 5000 /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big"
	run "$LEASE_PROBE" --send \
		"$(msg a '{"op":"list"')" \
		"$(msg b 'not json')" \
		"$(msg c '{"op":"alloc","pool":"gpu","bogus":1}')" \
		"$BATS_TEST_TMPDIR/big" \
		"+$(msg d '{"op":"leases"}')" \
		"$(msg e '[1,2]')" \
		"$(msg f '{"op":"open","lease":"L0"}')" \
		"$(msg g '{"op":"leases"}')"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	[ "$(jq -r .error.message <<<"${lines[0]}")" = "bad request: truncated request: the JSON ends after 12 bytes" ]
	[ "$(jq -r .error.errno <<<"${lines[0]}")" = 74 ]
	[[ "$(jq -r .error.message <<<"${lines[1]}")" == "bad request: not valid JSON at byte"* ]]
	[ "$(jq -r .error.message <<<"${lines[2]}")" = 'bad request: "bogus": not a key of alloc requests' ]
	[ "$(jq -r .error.message <<<"${lines[3]}")" = "request of 5000 bytes, more than 4096: refused unread" ]
	[ "$(jq -r .error.errno <<<"${lines[3]}")" = 90 ]
	[ "$(jq -r .error.message <<<"${lines[4]}")" = "requests carry no file descriptors; closed them" ]
	[ "$(jq -r .error.message <<<"${lines[5]}")" = 'bad request: expected a JSON object with "op"' ]
	[[ "$(jq -r .error.message <<<"${lines[6]}")" == *"'L0' is not a lease id"* ]]
	[ "$(jq -r .ok <<<"${lines[7]}")" = true ]
	# nothing leased, nothing leaked, the daemon alive
	[ ! -e "$run_dir/leases.json" ] || [ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	kill -0 "$dpid"
	[ "$(find "/proc/$dpid/fd" -mindepth 1 | wc -l)" = "$fds_before" ]
}

@test "leases survive a restart; a leases.json that is not ours stops the start and is kept" {
	start
	"$VFCTL" alloc --pool gpu --owner keep >/dev/null
	stop
	start
	run "$VFCTL" --json leases
	[ "$(jq -r '.leases[0].id + " " + .leases[0].owner' <<<"$output")" = "L1 keep" ]
	run "$VFCTL" alloc --pool gpu
	[ "$status" -eq 6 ]
	stop
	echo '{"something": "else"}' >"$run_dir/leases.json"
	run "$VFCTLD" --sysfs-root "$sys" --run-dir "$run_dir" --config "$conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$run_dir/leases.json: not a lease list vfctld wrote; refusing to start"* ]]
	[ "$(cat "$run_dir/leases.json")" = '{"something": "else"}' ]
}

@test "a bad --config stops the start; SIGHUP with a bad config keeps the old pools" {
	echo '{"pfs": [' >"$BATS_TEST_TMPDIR/bad.conf"
	run "$VFCTLD" --sysfs-root "$sys" --run-dir "$run_dir" --config "$BATS_TEST_TMPDIR/bad.conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad.conf:2:1: unexpected end of file"* ]]
	start
	cp "$conf" "$BATS_TEST_TMPDIR/good.conf"
	echo '{"pfs": [' >"$conf"
	kill -HUP "$dpid"
	sleep 0.3
	grep -q "reload: keeping the pools of the previous config" "$log"
	run "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
}

@test "a lease with --pid ends when that process exits (pidfd); a pid that does not exist is refused" {
	start
	sleep 300 &
	owner=$!
	run "$VFCTL" alloc --pool gpu --pid "$owner"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pid $owner  active" ]]
	[ "$(jq -r '.leases[0].pid_start' "$run_dir/leases.json")" != 0 ]
	kill "$owner"
	wait "$owner" || true
	for _ in $(seq 50); do
		[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ] && break
		sleep 0.1
	done
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	grep -q "lease L1 (0000:03:11.6): releasing: its owner process exited" "$log"
	run "$VFCTL" alloc --pool gpu --pid "$owner"
	[ "$status" -eq 1 ]
	[ "$output" = "vfctl: alloc: owner pid $owner: no such process" ]
}

@test "sd_notify: READY=1 with the lease count once it listens (NOTIFY_SOCKET)" {
	ns=$BATS_TEST_TMPDIR/notify.sock
	"$LEASE_PROBE" --notify "$ns" >"$BATS_TEST_TMPDIR/notify.out" &
	lp=$!
	for _ in $(seq 100); do [ -S "$ns" ] && break; sleep 0.05; done
	NOTIFY_SOCKET=$ns start
	wait "$lp"
	cat "$BATS_TEST_TMPDIR/notify.out"
	grep -qx 'READY=1' "$BATS_TEST_TMPDIR/notify.out"
	grep -qx 'STATUS=0 lease(s)' "$BATS_TEST_TMPDIR/notify.out"
	grep -qx "MAINPID=$dpid" "$BATS_TEST_TMPDIR/notify.out"
}

@test "200 concurrent clients allocating and releasing one VF: never granted twice, no fd leak" {
	start
	# its sockets: files it keeps open once used (the name cache's hwdb) are no leak
	fds_before=$(find "/proc/$dpid/fd" -mindepth 1 -lname 'socket:*' | wc -l)
	held=$BATS_TEST_TMPDIR/held
	mkdir "$held"
	client() {
		local out
		out=$("$VFCTL" alloc --pool gpu 2>&1) || { echo "busy $out"; return 0; }
		mkdir "$held/vf" 2>/dev/null || { echo "DOUBLE $out"; return 0; }
		echo "got $out"
		rmdir "$held/vf"
		"$VFCTL" release "${out%% *}" >/dev/null || echo "RELEASE-FAILED $out"
	}
	# wait for the clients only: a bare wait would wait for the daemon too
	pids=()
	for i in $(seq 200); do
		client >"$BATS_TEST_TMPDIR/c.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$BATS_TEST_TMPDIR"/c.* >"$BATS_TEST_TMPDIR/all"
	got=$(grep -c '^got' "$BATS_TEST_TMPDIR/all" || true)
	echo "granted $got times"
	run ! grep -E '^(DOUBLE|RELEASE-FAILED)' "$BATS_TEST_TMPDIR/all"
	[ "$got" -ge 1 ]
	[ "$(grep -c "^busy vfctl: alloc: pool 'gpu' has no free VF: 1 of 1 leased" "$BATS_TEST_TMPDIR/all")" = $((200 - got)) ]
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	[ "$(find "/proc/$dpid/fd" -mindepth 1 -lname 'socket:*' | wc -l)" = "$fds_before" ]
	# ids were never reused
	[ "$(jq .next "$run_dir/leases.json")" = $((got + 1)) ]
}

@test "socket activation: systemd-socket-activate passes the SOCK_SEQPACKET socket" {
	command -v systemd-socket-activate >/dev/null || skip "no systemd-socket-activate"
	mkdir -p "$run_dir"
	systemd-socket-activate --seqpacket -l "$VFCTLD_SOCKET" \
		"$VFCTLD" --sysfs-root "$sys" --run-dir "$run_dir" --config "$conf" >>"$log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do [ -S "$VFCTLD_SOCKET" ] && break; sleep 0.05; done
	run "$VFCTL" alloc --pool gpu
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "listening on the socket systemd passed" "$log"
}

@test "vfctld.socket and vfctld.service pass systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	d=$BATS_TEST_TMPDIR/units
	mkdir -p "$d"
	for u in vfctld.socket vfctld.service; do
		sed "s|@SBINDIR@|$(dirname "$VFCTLD")|g" "$REPO/systemd/$u.in" >"$d/$u"
	done
	run systemd-analyze verify --man=no "$d/vfctld.socket" "$d/vfctld.service"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^ListenSequentialPacket=/run/vfctl/vfctld.sock$' "$d/vfctld.socket"
	grep -q '^Type=notify$' "$d/vfctld.service"
}

@test "make install puts vfctld, its units (with the install paths) and man page in DESTDIR; uninstall removes them" {
	d=$BATS_TEST_TMPDIR/stage
	run make -s -C "$REPO" install DESTDIR="$d" PREFIX=/usr B="$(dirname "$VFCTLD")"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -x "$d/usr/sbin/vfctld" ]
	grep -q '^ExecStart=/usr/sbin/vfctld --cdi-dir /run/cdi$' "$d/usr/lib/systemd/system/vfctld.service"
	[ -f "$d/usr/lib/systemd/system/vfctld.socket" ]
	[ "$(stat -c %a "$d/usr/lib/systemd/system/vfctld.socket")" = 644 ]
	[ -f "$d/usr/share/man/man8/vfctld.8" ]
	run make -s -C "$REPO" uninstall DESTDIR="$d" PREFIX=/usr B="$(dirname "$VFCTLD")"
	[ "$status" -eq 0 ]
	[ ! -e "$d/usr/sbin/vfctld" ]
	[ ! -e "$d/usr/lib/systemd/system/vfctld.service" ]
	[ ! -e "$d/usr/share/man/man8/vfctld.8" ]
}

@test "a run dir that is world-writable, not ours or a symlink stops the start, named with owner and mode, unchanged" {
	chmod 0777 "$run_dir"
	# (timeout: a daemon that starts anyway would serve on; it must not start)
	run timeout 20 "$VFCTLD" --sysfs-root "$sys" --run-dir "$run_dir" --config "$conf"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"run directory $run_dir is owned by uid 0 with mode 0777: it must be owned by uid 0"*"chmod go-w $run_dir"* ]]
	[ "$(stat -c %u:%a "$run_dir")" = 0:777 ]
	[ ! -e "$run_dir/leases.json" ] && [ ! -e "$VFCTLD_SOCKET" ]
	# someone else's directory is never chmodded (vfctld made it 0755 before)
	chmod 0700 "$run_dir"
	chown 4321 "$run_dir"
	run timeout 20 "$VFCTLD" --sysfs-root "$sys" --run-dir "$run_dir" --config "$conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"run directory $run_dir is owned by uid 4321 with mode 0700"* ]]
	[ "$(stat -c %u:%a "$run_dir")" = 4321:700 ]
	[ ! -e "$VFCTLD_SOCKET" ]
	chown 0 "$run_dir"
	ln -s "$run_dir" "$BATS_TEST_TMPDIR/run-link"
	run timeout 20 "$VFCTLD" --sysfs-root "$sys" --run-dir "$BATS_TEST_TMPDIR/run-link" --config "$conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"run directory $BATS_TEST_TMPDIR/run-link is a symlink"* ]]
	[ ! -e "$VFCTLD_SOCKET" ]
}

@test "a symlink planted at the temp name (.leases.json.tmp) is not written through" {
	printf 'precious' >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$run_dir/.leases.json.tmp"
	start
	run "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = precious ]
	[ ! -L "$run_dir/leases.json" ] && [ ! -e "$run_dir/.leases.json.tmp" ]
	[ "$(jq -r '.leases[0].id' "$run_dir/leases.json")" = L1 ]
}

@test "lease ids: the counter stops at L9223372036854775807, never wraps to L0; a file holding L0 starts, that lease renumbered" {
	echo '{"version":1,"next":9223372036854775807,"leases":[]}' >"$run_dir/leases.json"
	start
	run "$VFCTL" alloc --pool gpu
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "L9223372036854775807 "* ]]
	"$VFCTL" release L9223372036854775807 >/dev/null
	run "$VFCTL" alloc --pool gpu
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "vfctl: alloc: no lease id left: the ids end at L9223372036854775807"*"nothing leased"* ]]
	[ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	stop
	# what a wrapped counter left: an L0 lease on VF 7
	cat >"$run_dir/leases.json" <<'JSON'
{"version":1,"next":1,"leases":[{"id":"L0","state":"active","pool":"gpu","vf":"0000:03:11.6",
 "pf":"0000:03:00.0","vf_index":7,"group":37,"uid":4321,"created":1,"bound":false}]}
JSON
	start
	grep -q "leases\[0\] has id L0, not one vfctld hands out.*kept as L1 so its VF 0000:03:11.6 (uid 4321) is not granted twice" "$log"
	[ "$(jq -r '.leases[0].id' "$run_dir/leases.json")" = L1 ]
	run as 4321 "$VFCTL" --json leases
	[ "$(jq -r '.leases[0].id + " " + .leases[0].address' <<<"$output")" = "L1 0000:03:11.6" ]
	run "$VFCTL" alloc --pool gpu
	[ "$status" -eq 6 ]
	[[ "$output" == *"has no free VF"* ]]
}

@test "duplicate keys are refused and perform nothing; replies to non-UTF-8 requests are valid UTF-8 JSON" {
	start
	# json-c keeps the last of duplicate keys: this was an alloc
	printf '{"op":"list","op":"alloc","pool":"gpu"}' >"$BATS_TEST_TMPDIR/dup"
	printf '{"op":"alloc","pool":"broken","pool":"gpu"}' >"$BATS_TEST_TMPDIR/dup2"
	printf '{"op\\u0000x":"leases"}' >"$BATS_TEST_TMPDIR/nulkey"
	printf '{"op":"alloc","pool":"gpu","\xff\xfekey":1}' >"$BATS_TEST_TMPDIR/u1"
	printf '{"op":"alloc","pool":"gpu","pf":"\xc3\xa9\xed\xa0\x80"}' >"$BATS_TEST_TMPDIR/u2"
	printf '{"op":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9"}' >"$BATS_TEST_TMPDIR/u3"
	printf '{"op":"release","vf":"\xe2\x82"}' >"$BATS_TEST_TMPDIR/u4"
	run "$LEASE_PROBE" --send "$BATS_TEST_TMPDIR"/{dup,dup2,nulkey,u1,u2,u3,u4}
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 7 ]
	[ "$(jq -r .error.message <<<"${lines[0]}")" = 'bad request: "op": given twice; give each key once' ]
	[ "$(jq -r .error.errno <<<"${lines[0]}")" = 22 ]
	[ "$(jq -r .error.message <<<"${lines[1]}")" = 'bad request: "pool": given twice; give each key once' ]
	[ "$(jq -r .error.message <<<"${lines[2]}")" = 'bad request: a NUL character (\u0000) in a key' ]
	for i in 3 4 5 6; do
		[ "$(jq -r .error.errno <<<"${lines[$i]}")" -gt 0 ]
	done
	# a strict decoder reads every reply: valid UTF-8 throughout
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/replies"
	iconv -f UTF-8 -t UTF-8 "$BATS_TEST_TMPDIR/replies" >/dev/null
	[ ! -e "$run_dir/leases.json" ] || [ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
}

@test "a FIFO as --config stops the start at once; a FIFO at reload keeps the pools; a \\u0000 in the config is refused with FILE:LINE:COL" {
	fifo=$BATS_TEST_TMPDIR/conf.fifo
	mkfifo "$fifo"
	# (timeout: the open blocked for good before)
	run timeout 20 "$VFCTLD" --sysfs-root "$sys" --run-dir "$run_dir" --config "$fifo"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$fifo: a FIFO, not a regular file: a config is read only from a regular file (at most 1 MiB)"* ]]
	start
	mv "$conf" "$conf.good"
	mkfifo "$conf"
	kill -HUP "$dpid"
	for _ in $(seq 100); do grep -q "reload: keeping" "$log" && break; sleep 0.1; done
	grep -q "$conf: a FIFO, not a regular file" "$log"
	grep -q "reload: keeping the pools of the previous config" "$log"
	run "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
	rm "$conf"
	sed 's/"gpu"/"gpu\\u0000x"/' "$conf.good" >"$conf"
	run timeout 20 "$VFCTLD" --sysfs-root "$sys" --run-dir "$BATS_TEST_TMPDIR/run2" --config "$conf" --socket "$BATS_TEST_TMPDIR/s2"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$conf:2:28: a NUL character (\\u0000) in a string: no name or value holds one; remove it"* ]]
}

@test "a user sees only their own lease ids and uids: pools, alloc and release errors; root sees all" {
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "0000:03:00.0" }, "numvfs": 8,
  "pools": [ { "name": "gpu", "vfs": [7], "users": [4321, 4322] } ] } ] }
JSON
	start
	run as 4321 "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
	[[ "$output" == L1* ]]
	# another allowed user: no id, no uid of uid 4321's lease anywhere
	run as 4322 "$VFCTL" --json pools
	echo "$output"
	[ "$(jq -r '.pools[0].vfs[0].lease_id' <<<"$output")" = "(another user)" ]
	[[ "$output" != *L1* && "$output" != *4321* ]]
	run as 4322 "$VFCTL" pools
	[[ "$output" == *" (another user)"* && "$output" != *L1* ]]
	run as 4322 "$VFCTL" alloc --pool gpu
	echo "$output"
	[ "$status" -eq 6 ]
	[ "$output" = "vfctl: alloc: pool 'gpu' has no free VF: 1 of 1 leased (1 by other users)" ]
	run as 4322 "$VFCTL" release 0000:03:11.6
	[ "$status" -eq 5 ]
	[ "$output" = "vfctl: release: 0000:03:11.6 is leased by another user, not by uid 4322 ('vfctl leases' lists yours)" ]
	run as 4322 "$LEASE_PROBE" L1
	[ "$status" -eq 1 ]
	[[ "$output" != *4321* ]]
	# the owner and root see the id
	run as 4321 "$VFCTL" --json pools
	[ "$(jq -r '.pools[0].vfs[0].lease_id' <<<"$output")" = L1 ]
	run as 4321 "$VFCTL" alloc --pool gpu
	[ "$output" = "vfctl: alloc: pool 'gpu' has no free VF: 1 of 1 leased (L1)" ]
	run "$VFCTL" --json pools
	schema_ok pools
	[ "$(jq -r '.pools[0].vfs[0].lease_id' <<<"$output")" = L1 ]
	run "$VFCTL" alloc --pool gpu
	[ "$output" = "vfctl: alloc: pool 'gpu' has no free VF: 1 of 1 leased (L1)" ]
}

@test "1,000 malformed, oversized, truncated, duplicate-key and non-UTF-8 requests: every reply valid UTF-8 JSON, nothing leased, no fd leaked" {
	start
	fds_before=$(find "/proc/$dpid/fd" -mindepth 1 | wc -l)
	m=$BATS_TEST_TMPDIR/m
	mkdir "$m"
	good='{"op":"alloc","pool":"gpu","owner":"vm1"}'
	for i in $(seq 1000); do
		case $((i % 5)) in
		0) head -c $((i % 300 + 1)) /dev/urandom ;;
		1) printf '%s' "${good:0:$((i % (${#good} - 1) + 1))}" ;;
		2) printf '{"op":"leases","op":"alloc","pool":"gpu","owner":"n%d"}' "$i" ;;
		3) printf '{"op":"list","k\\x%02x\\x%02x":1}' $((i % 128 + 128)) $((i * 7 % 256)) |
			xargs -0 printf '%b' ;;
		4) head -c $((4097 + i)) /dev/zero | tr '\0' ' ' ;;
		esac >"$m/$i"
	done
	# shellcheck disable=SC2046 # one argument a file
	run "$LEASE_PROBE" --send $(seq -f "$m/%g" 1000)
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1000 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/replies"
	iconv -f UTF-8 -t UTF-8 "$BATS_TEST_TMPDIR/replies" >/dev/null
	errors=$(jq -e -c 'select(.error.errno > 0)' "$BATS_TEST_TMPDIR/replies" | wc -l)
	echo "figure: $errors of 1000 hostile requests answered with a JSON error, 0 performed"
	[ "$errors" = 1000 ]
	[ ! -e "$run_dir/leases.json" ] || [ "$(jq '.leases | length' "$run_dir/leases.json")" = 0 ]
	kill -0 "$dpid"
	[ "$(find "/proc/$dpid/fd" -mindepth 1 | wc -l)" = "$fds_before" ]
}

@test "a pool on a PF with 0 VFs says so, alloc tells to apply (exit 6); exit codes: no pool 3, no daemon 7" {
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "0000:03:00.1" }, "numvfs": 4,
  "pools": [ { "name": "empty", "vfs": [0, 1] } ] } ] }
JSON
	start
	run --separate-stderr "$VFCTL" pools
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "pool empty on 0000:03:00.1: the PF has 0 VFs; run 'vfctl apply'" ]
	[ "${lines[1]}" = "  VF  ADDRESS       NUMA  DRIVER       LEASE" ]
	[ "${lines[2]}" = "  0   -             -     -            free" ]
	run --separate-stderr "$VFCTL" alloc --pool empty
	[ "$status" -eq 6 ]
	[ "$stderr" = "vfctl: alloc: pool 'empty': PF 0000:03:00.1 has 0 VFs (driver ixgbe); run 'vfctl apply' (or 'vfctl create 0000:03:00.1 N')" ]
	run --separate-stderr "$VFCTL" alloc --pool nope
	[ "$status" -eq 3 ]
	run --separate-stderr "$VFCTL" release L9
	[ "$status" -eq 3 ]
	stop
	for cmd in pools leases "alloc --pool empty" "release L1" "exec --lease L1 -- true"; do
		# shellcheck disable=SC2086 # split on purpose
		run --separate-stderr "$VFCTL" $cmd
		[ "$status" -eq 7 ]
		[[ "$stderr" == "vfctl: connecting to vfctld at $VFCTLD_SOCKET: No such file or directory; is it running"* ]]
	done
}
