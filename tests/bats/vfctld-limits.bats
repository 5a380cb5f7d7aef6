#!/usr/bin/env bats
# vfctld's limits on a golden tree (82599-8vf, VF 7 on vfio-pci): connections
# per uid and in all with root always served, the idle timeout, one request
# in flight per connection, requests of uids no pool allows answered
# without a host scan, open without one and a reconcile with one at most. Figures are printed, never asserted: what is asserted
# is what happened (answered, refused, counted, no fd left).

# shellcheck disable=SC2154 # status, output, lines: set by bats run
# shellcheck disable=SC2030,SC2031 # dpid: set in tests, read in teardown (one subshell)
bats_require_minimum_version 1.5.0
load vfctld-daemon

setup() {
	daemon_setup
	pools='"pfs": [ { "match": { "address": "0000:03:00.0" }, "numvfs": 8,
	  "pools": [ { "name": "gpu", "vfs": [7], "users": [4321] } ] } ]'
	echo "{ $pools }" >"$conf"
	bg=()
}

teardown() {
	[ "${#bg[@]}" = 0 ] || kill "${bg[@]}" 2>/dev/null || true
	daemon_teardown
}

# bg_as UID CMD... &: as "as", but the job's $! is CMD itself (setpriv
# execs it), so killing $! ends the client; a backgrounded function
# would leave it running under a subshell
bg_as() { exec setpriv --reuid "$1" --regid "$1" --clear-groups -- "${@:2}"; }

# the daemon's sockets (its connections among them); files it keeps open
# once used (the hwdb of the name cache) are not connections
fds() { find "/proc/$dpid/fd" -mindepth 1 -lname 'socket:*' | wc -l; }

# fds_back N: the daemon holds N sockets again once the clients are gone (it
# sees each hang-up on its next loop turns)
fds_back() {
	for _ in $(seq 100); do [ "$(fds)" = "$1" ] && return 0; sleep 0.1; done
	echo "vfctld holds $(fds) sockets, $1 before"
	return 1
}

# status: the daemon's SIGUSR1 status line (vfctld(8) SIGNALS)
status() {
	local n
	n=$(grep -c 'vfctld: status:' "$log" || true)
	kill -USR1 "$dpid"
	for _ in $(seq 100); do
		[ "$(grep -c 'vfctld: status:' "$log" || true)" -gt "$n" ] && break
		sleep 0.05
	done
	grep 'vfctld: status:' "$log" | tail -1
}

# count WORDS: the number before WORDS in the last status line
count() { grep -o "[0-9]* $1" <<<"$last" | head -1 | cut -d' ' -f1; }

# hold UID N: N idle connections of UID in the background; waits for the
# "held H refused R" line (vfctld has taken them all) in $BATS_TEST_TMPDIR/hold
hold() {
	bg_as "$1" "$LEASE_PROBE" --hold "$2" 600 >"$BATS_TEST_TMPDIR/hold" 2>&1 &
	bg+=($!)
	for _ in $(seq 600); do grep -q '^held' "$BATS_TEST_TMPDIR/hold" && return 0; sleep 0.1; done
	cat "$BATS_TEST_TMPDIR/hold"
	return 1
}

ms() { echo $(($(date +%s%N) / 1000000)); }

# rounds: alloc and release as the pool's user 5 times; the mean alloc in ms
rounds() {
	local total=0 t0 t1
	for _ in 1 2 3 4 5; do
		t0=$(ms)
		as 4321 "$VFCTL" alloc --pool gpu >"$BATS_TEST_TMPDIR/alloc" || return 1
		t1=$(ms)
		total=$((total + t1 - t0))
		as 4321 "$VFCTL" release 0000:03:11.6 >/dev/null || return 1
	done
	echo $((total / 5))
}

# idle_phase: the pool user's rounds on a daemon nobody floods: $idle ms,
# $scans_idle host scans they cost (the first alloc scans for the shared
# view, the others reuse it), $scans_before the count after them
idle_phase() {
	local start

	last=$(status)
	start=$(count 'host scans')
	idle=$(rounds)
	last=$(status)
	scans_idle=$(($(count 'host scans') - start))
	scans_before=$(count 'host scans')
}

# flood [--read]: lease-probe --flood as uids 5001-5004 (no pool allows
# them), in the background
flood() {
	for u in 5001 5002 5003 5004; do
		bg_as "$u" "$LEASE_PROBE" --flood "$@" &
		bg+=($!)
	done
}

ratio() { awk "BEGIN { printf \"%.2f\", $2 / ($1 ? $1 : 1) }"; }

@test "1,030 idle connections of one uid no pool allows, RLIMIT_NOFILE 1024: root's alloc and leases are answered; the uid is told why; no fd left" {
	[ "$(ulimit -Hn)" -gt 1100 ] || skip "the hard RLIMIT_NOFILE ($(ulimit -Hn)) is too low for 1,030 connections"
	# no per-uid limit in the way: the global one is what is held
	echo "{ \"daemon\": { \"max_connections_per_uid\": 100000, \"max_connections\": 100000 }, $pools }" >"$conf"
	printf '#!/bin/sh\nexec prlimit --nofile=1024:1024 -- "%s" "$@"\n' "$VFCTLD" >"$BATS_TEST_TMPDIR/vfctld-1024"
	chmod +x "$BATS_TEST_TMPDIR/vfctld-1024"
	VFCTLD=$BATS_TEST_TMPDIR/vfctld-1024 start
	fds_before=$(fds)
	# sized to the fds it has, with room kept for itself and root
	grep -q "max_connections 100000 does not fit in RLIMIT_NOFILE 1024 .* serving at most" "$log"
	max=$(grep -o 'serving at most [0-9]*' "$log" | grep -o '[0-9]*$')
	[ "$max" -gt 500 ] && [ "$max" -lt 1000 ]

	hold 4322 1030
	cat "$BATS_TEST_TMPDIR/hold"
	[ "$(head -1 "$BATS_TEST_TMPDIR/hold")" = "held $max refused $((1030 - max))" ]
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/hold" | jq -r .error.message)" = "vfctld has $max connections open, its max_connections; try again" ]

	t0=$(ms)
	run timeout 60 "$VFCTL" alloc --pool gpu
	t1=$(ms)
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "L1 "*"user root"*"active" ]]
	echo "# figure: root's alloc with $max idle connections of uid 4322 open (1030 tried): answered in $((t1 - t0)) ms" >&3
	run timeout 60 "$VFCTL" leases
	[ "$status" -eq 0 ]
	[[ "$output" == "L1 "* ]]
	# the uid at the limit reads the daemon's refusal, not "Broken pipe"
	run as 4322 timeout 60 "$VFCTL" leases
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "vfctl: leases: vfctld has $max connections open, its max_connections; try again" ]
	grep -q "refused a connection of pid [0-9]* uid 4322: vfctld has $max connections open" "$log"

	kill "${bg[@]}"
	bg=()
	fds_back "$fds_before"
	# and the uid is served again
	run as 4322 "$VFCTL" leases
	[ "$status" -eq 0 ]
}

@test "max_connections_per_uid (default 64): one uid's 1,030 connections leave the others served; the soft RLIMIT_NOFILE is raised to the hard one" {
	[ "$(ulimit -Hn)" -gt 1100 ] || skip "the hard RLIMIT_NOFILE ($(ulimit -Hn)) is too low for 1,030 connections"
	printf '#!/bin/sh\nexec prlimit --nofile=1024:8192 -- "%s" "$@"\n' "$VFCTLD" >"$BATS_TEST_TMPDIR/vfctld-soft"
	chmod +x "$BATS_TEST_TMPDIR/vfctld-soft"
	VFCTLD=$BATS_TEST_TMPDIR/vfctld-soft start
	grep -Eq '^Max open files +8192 +8192 ' "/proc/$dpid/limits"
	fds_before=$(fds)
	hold 4322 1030
	[ "$(head -1 "$BATS_TEST_TMPDIR/hold")" = "held 64 refused 966" ]
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/hold" | jq -r .error.message)" = "uid 4322 has 64 connections to vfctld open, its max_connections_per_uid: close some, or try again" ]
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/hold" | jq -r .error.errno)" = 87 ]
	# a pool user and root are served meanwhile
	run as 4321 "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
	run "$VFCTL" --json leases
	[ "$(jq -r '.leases[0].uid' <<<"$output")" = 4321 ]
	last=$(status)
	echo "$last"
	[ "$(count 'refused at max_connections,')" = 0 ]
	# the 966 and the holder's own last connection (its sync)
	[ "$(count 'at max_connections_per_uid')" = 967 ]
	kill "${bg[@]}"
	bg=()
	fds_back "$fds_before"
}

@test "idle_timeout: connections that send nothing are closed; one that is served stays usable across requests" {
	echo "{ \"daemon\": { \"idle_timeout\": 1 }, $pools }" >"$conf"
	start
	fds_before=$(fds)
	hold 4322 5
	[ "$(head -1 "$BATS_TEST_TMPDIR/hold")" = "held 5 refused 0" ]
	# the holder ends when vfctld has closed them all (it waits up to 600 s)
	wait "${bg[0]}"
	bg=()
	cat "$BATS_TEST_TMPDIR/hold"
	[ "$(tail -1 "$BATS_TEST_TMPDIR/hold")" = "closed by vfctld 5" ]
	last=$(status)
	[ "$(count 'closed idle')" = 5 ]
	fds_back "$fds_before"
	# several requests on one connection, each answered
	printf '{"op":"leases"}' >"$BATS_TEST_TMPDIR/l"
	run "$LEASE_PROBE" --send "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/l"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" = 3 ]
}

@test "4 flooding clients of uids no pool allows: each is read no further than its unread replies allow, causes no host scan, and a pool user's alloc is answered; no fd left" {
	start
	fds_before=$(fds)
	# alloc and release as the pool's user: idle, then flooded
	idle_phase
	flood
	# the flooders are answered (from the config) until their queues fill,
	# then read no further: the request count stops growing
	prev=-1
	for _ in $(seq 100); do
		last=$(status)
		n=$(count requests)
		[ "$(count 'list replies without the host')" -gt 0 ] && [ "$n" = "$prev" ] && break
		prev=$n
		sleep 0.2
	done
	echo "$last"
	[ "$n" = "$prev" ]
	served=$(count 'list replies without the host')
	flooded=$(rounds)
	last=$(status)
	echo "$last"
	# the pool user's rounds cost what they cost idle; the flooders nothing
	# the rounds' scans at most (the view they share may still be there): none of the flood's
	[ "$(($(count 'host scans') - scans_before))" -le "$scans_idle" ]
	[ "$(count 'of them for list')" = 0 ]
	# stalled: not one more of their requests was read during the rounds
	[ "$(count 'list replies without the host')" = "$served" ]
	echo "# figure: 4 flooding clients (uids no pool allows; $served list replies taken before their queues filled): alloc ${idle} ms idle, ${flooded} ms flooded, ratio $(ratio "$idle" "$flooded")" >&3
	kill "${bg[@]}"
	bg=()
	fds_back "$fds_before"
	# what such a uid is shown: the pool names, nothing of the host
	run as 5001 "$VFCTL" --json pools
	[ "$(jq -c '.pools[0] | [.name, .allowed, .pf, .vfs, .error]' <<<"$output")" = '["gpu",false,null,[],"not shown: no pool allows uid 5001"]' ]
	run as 5001 "$VFCTL" pools
	[ "$output" = "pool gpu on -: 0 free of 0, you may allocate: no (not shown: no pool allows uid 5001)" ]
}

@test "flooders that read every reply: 4 of uids no pool allows cost no host scan, one of the pool's user at most one a second; allocs are answered" {
	start
	fds_before=$(fds)
	idle_phase
	flood --read
	for _ in $(seq 100); do
		last=$(status)
		[ "$(count 'list replies without the host')" -gt 0 ] && break
		sleep 0.1
	done
	flooded=$(rounds)
	last=$(status)
	echo "$last"
	# the rounds' scans at most (the view they share may still be there): none of the flood's
	[ "$(($(count 'host scans') - scans_before))" -le "$scans_idle" ]
	[ "$(count 'of them for list')" = 0 ]
	served=$(count 'list replies without the host')
	echo "# figure: 4 clients of uids no pool allows flooding list and reading the replies ($served answered): alloc ${idle} ms idle, ${flooded} ms flooded, ratio $(ratio "$idle" "$flooded")" >&3
	kill "${bg[@]}"
	bg=()
	# the pool's own user flooding list: the shared view, rescanned at most once a second
	t0=$(ms)
	bg_as 4321 "$LEASE_PROBE" --flood --read &
	bg+=($!)
	flooded=$(rounds)
	last=$(status)
	t1=$(ms)
	kill "${bg[@]}"
	bg=()
	list_scans=$(count 'of them for list')
	echo "# figure: the pool's user flooding list and reading the replies for $((t1 - t0)) ms: $list_scans host scans for list; alloc ${flooded} ms (idle ${idle} ms, ratio $(ratio "$idle" "$flooded"))" >&3
	# at most one per started second (what the clock says, not a bound on it)
	[ "$list_scans" -le $(((t1 - t0) / 1000 + 1)) ]
	fds_back "$fds_before"
}

@test "list: a host view shared for at most a second (HOST_VIEW_USEC), dropped on a reload; a pool user and root see the VFs" {
	start
	t0=$(ms)
	for _ in $(seq 20); do "$VFCTL" pools >/dev/null; done
	t1=$(ms)
	last=$(status)
	echo "$last"
	scans=$(count 'of them for list')
	echo "# figure: 20 vfctl pools in $((t1 - t0)) ms: $scans host scans" >&3
	# at most one scan per started second (what the clock says, not a bound on it)
	[ "$scans" -ge 1 ] && [ "$scans" -le $(((t1 - t0) / 1000 + 1)) ]
	run as 4321 "$VFCTL" --json pools
	[ "$(jq -r '.pools[0].vfs[0].address + " " + .pools[0].vfs[0].driver' <<<"$output")" = "0000:03:11.6 vfio-pci" ]
	# VF 7 moved to another driver behind the daemon's back: a reload drops the view
	ln -sfn ../../../../../bus/pci/drivers/ixgbevf "$sys/bus/pci/devices/0000:03:11.6/driver"
	kill -HUP "$dpid"
	for _ in $(seq 100); do grep -q "reloaded" "$log" && break; sleep 0.05; done
	run "$VFCTL" --json pools
	[ "$(jq -r '.pools[0].vfs[0].driver' <<<"$output")" = ixgbevf ]
}

@test "alloc+release from a pre-bound pool: the host is scanned once for the shared view, not at each request; a VF rebound behind the daemon's back is seen at the next alloc, never granted from the view" {
	start
	for _ in 1 2 3 4 5; do
		as 4321 "$VFCTL" alloc --pool gpu >/dev/null
		as 4321 "$VFCTL" release 0000:03:11.6 >/dev/null
	done
	last=$(status)
	echo "$last"
	[ "$(count 'host scans')" = 1 ]
	[ "$(count 'of them for list')" = 0 ]
	# VF 7 moved to ixgbevf behind the daemon's back (a golden tree sends no device
	# events): alloc reads its driver now, so it binds it (which fails on a golden
	# tree) instead of handing out a VF on ixgbevf as the view says
	ln -sfn ../../../../../bus/pci/drivers/ixgbevf "$sys/bus/pci/devices/0000:03:11.6/driver"
	run as 4321 "$VFCTL" alloc --pool gpu
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == "vfctl: alloc: 0000:03:11.6: writing '0000:03:11.6' to $sys/bus/pci/devices/0000:03:11.6/driver/unbind: No such file or directory; rolled back"* ]]
	run "$VFCTL" --json leases
	[ "$(jq '.leases | length' <<<"$output")" = 0 ]
	# back on vfio-pci: granted again
	ln -sfn ../../../../../bus/pci/drivers/vfio-pci "$sys/bus/pci/devices/0000:03:11.6/driver"
	run as 4321 "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
	[[ "$output" == "L"*"0000:03:11.6"* ]]
}

@test "reconcile checks every lease against one look at the host: 8 active leases and a reload cost at most one host scan, not one a lease (issue 13)" {
	local i a
	for i in 0 1 2 3 4 5 6 7; do
		a=$(basename "$(readlink "$sys/bus/pci/devices/0000:03:00.0/virtfn$i")")
		ln -sfn ../../../../../bus/pci/drivers/vfio-pci "$sys/bus/pci/devices/$a/driver"
	done
	cat >"$conf" <<-'J'
	{ "pfs": [ { "match": { "address": "0000:03:00.0" }, "numvfs": 8,
	  "pools": [ { "name": "gpu", "vfs": [0, 1, 2, 3, 4, 5, 6, 7], "users": [4321] } ] } ] }
	J
	start
	for i in 0 1 2 3 4 5 6 7; do as 4321 "$VFCTL" alloc --pool gpu >/dev/null; done
	run "$VFCTL" --json leases
	[ "$(jq '[.leases[] | select(.state == "active")] | length' <<<"$output")" = 8 ]
	last=$(status)
	before=$(count 'host scans')
	kill -HUP "$dpid"
	for _ in $(seq 100); do grep -q "reloaded" "$log" && break; sleep 0.05; done
	# SIGUSR1 is handled after SIGHUP's handler, the reconcile included
	last=$(status)
	echo "$last"
	scans=$(($(count 'host scans') - before))
	echo "# figure: a reload with 8 active leases: $scans host scan(s) (8 before issue 13)" >&3
	[ "$scans" -le 1 ]
	run "$VFCTL" --json leases
	[ "$(jq '[.leases[] | select(.state == "active")] | length' <<<"$output")" = 8 ]
	! grep -q "dropped\|revoked" "$log" || false
}

@test "open reads its VF and group from sysfs, not a host scan; still refuses a VF no longer on vfio-pci or a group not viable, nothing sent (issue 13)" {
	local g
	g=$(basename "$(readlink "$sys/bus/pci/devices/0000:03:11.6/iommu_group")")
	touch "$BATS_TEST_TMPDIR/t/dev/vfio/$g"
	start
	run as 4321 "$VFCTL" alloc --pool gpu
	[ "$status" -eq 0 ]
	last=$(status)
	before=$(count 'host scans')
	for _ in 1 2 3; do
		run --separate-stderr as 4321 "$LEASE_PROBE" L1
		echo "$output $stderr"
		[[ "$output" == "received 0000:03:11.6 group $g "* ]]
	done
	# on ixgbevf behind the daemon's back: refused
	ln -sfn ../../../../../bus/pci/drivers/ixgbevf "$sys/bus/pci/devices/0000:03:11.6/driver"
	run as 4321 "$LEASE_PROBE" L1
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *received* ]]
	[[ "$output" == *"lease L1: 0000:03:11.6 is no longer bound to vfio-pci (did someone rebind it?)"* ]]
	ln -sfn ../../../../../bus/pci/drivers/vfio-pci "$sys/bus/pci/devices/0000:03:11.6/driver"
	# the PF (on ixgbe) in the VF's group: not viable, refused
	ln -s ../../../../bus/pci/devices/0000:03:00.0 "$sys/kernel/iommu_groups/$g/devices/0000:03:00.0"
	run as 4321 "$LEASE_PROBE" L1
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *received* ]]
	[[ "$output" == *"IOMMU group $g is not viable: 0000:03:00.0 is bound to ixgbe"* ]]
	last=$(status)
	echo "$last"
	[ "$(count 'host scans')" = "$before" ]
}
