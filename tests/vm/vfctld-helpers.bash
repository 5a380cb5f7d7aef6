# Helpers for the vfctld VM suites (80-vfctld, 81-vfctld-faults): `load
# vfctld-helpers` after `load helpers`.
#
# A pool "p" of the igb PF's VFs 0-2 that uid 1001 and group 1500 may use;
# uid 1002 may not; uid 1003 is in group 1500 as a supplementary group.

VFCTLD_RUN=/run/vfctl-test-d
export VFCTLD_SOCKET=$VFCTLD_RUN/vfctld.sock
# shellcheck disable=SC2034 # used by the suites
LEASE_PROBE=/vfctl/build/lease-probe

# vfctld_users: passwd and group entries for the test uids (the initramfs
# has only root)
vfctld_users() {
	grep -q '^u1001:' /etc/passwd && return 0
	cat >>/etc/passwd <<'EOF'
u1001:x:1001:1001::/tmp:/bin/bash
u1002:x:1002:1002::/tmp:/bin/bash
u1003:x:1003:1003::/tmp:/bin/bash
EOF
	cat >>/etc/group <<'EOF'
u1001:x:1001:
u1002:x:1002:
u1003:x:1003:
vfusers:x:1500:u1003
EOF
}

# vfctld_conf FILE: the pool config
vfctld_conf() {
	cat >"$1" <<'JSON'
{
  "pfs": [
    {
      "match": { "id": "8086:10c9", "index": 0 },
      "numvfs": 3,
      "pools": [ { "name": "p", "vfs": [0, 1, 2], "users": [1001], "groups": ["vfusers"] } ]
    }
  ]
}
JSON
}

# vfctld_start [ENV=VALUE...]: start the daemon standalone (background),
# wait for its socket; $dpid is its pid
# shellcheck disable=SC2120 # the suites pass ENV=VALUE; this file alone does not
vfctld_start() {
	rm -f "$VFCTLD_SOCKET"
	env "$@" vfctld --run-dir "$VFCTLD_RUN" --config "$VFCTLD_CONF" \
		>>"$VFCTLD_LOG" 2>&1 </dev/null 3>&- &
	dpid=$!
	vm_wait_for 10 test -S "$VFCTLD_SOCKET"
}

# vfctld_stop: SIGTERM and wait
vfctld_stop() {
	[ -n "${dpid:-}" ] || return 0
	kill "$dpid" 2>/dev/null || true
	wait "$dpid" 2>/dev/null || true
	dpid=
}

# The suites that run a VMM as u1001 with KVM: /dev/kvm is root-only in the
# initramfs. vm_kvm_open_up in setup_file, vm_kvm_restore in teardown_file.
vm_kvm_open_up() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	stat -c %a /dev/kvm >"$BATS_FILE_TMPDIR/kvm-mode" 2>/dev/null || true
	[ ! -c /dev/kvm ] || chmod 666 /dev/kvm
}

vm_kvm_restore() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	[ ! -s "$BATS_FILE_TMPDIR/kvm-mode" ] || chmod "$(cat "$BATS_FILE_TMPDIR/kvm-mode")" /dev/kvm
}

# as_memlock UID CMD...: as, with the memlock limit raised first (a VMM
# pins its guest RAM for VFIO and has no CAP_IPC_LOCK there)
as_memlock() {
	local uid=$1
	shift
	bash -c 'ulimit -l unlimited && exec "$@"' as_memlock \
		setpriv --reuid "$uid" --regid "$uid" --init-groups -- "$@"
}

# as UID CMD...: run CMD as uid UID (its own gid, supplementary groups from
# /etc/group), the way a login would
as() {
	local uid=$1
	shift
	setpriv --reuid "$uid" --regid "$uid" --init-groups -- "$@"
}

# exec_marker: a path, not there yet, that a command run as any test uid
# can create (/tmp is world-writable and sticky; the bats temp dirs are
# root's): `vfctl exec ... -- touch "$(exec_marker)"` shows whether it ran
exec_marker() {
	local m=/tmp/exec-ran.$BATS_SUITE_TEST_NUMBER
	rm -f "$m"
	echo "$m"
}

# lease_of OUTPUT: the lease id in vfctl alloc's text output
lease_of() {
	awk '{ print $1; exit }' <<<"$1"
}

# vf_of OUTPUT: the VF address in vfctl alloc's text output
vf_of() {
	awk '{ print $2; exit }' <<<"$1"
}

# proc_state PID: the state letter in /proc/PID/stat (T when stopped)
proc_state() {
	sed 's/.*) //' "/proc/$1/stat" | cut -c1
}

# shellcheck disable=SC2154 # pf: set by the suite's setup
# vfctld_check_invariants: every VF of the pool on vfio-pci has exactly one
# lease and every lease's VF is on vfio-pci; nothing allocating
vfctld_check_invariants() {
	local leases vf n
	leases=$(jq -r '.leases[] | "\(.id) \(.vf) \(.state)"' "$VFCTLD_RUN/leases.json")
	echo "leases: $leases"
	if grep -q allocating <<<"$leases"; then return 1; fi
	for vf in $(vm_vfs "$pf"); do
		n=$(jq --arg vf "$vf" '[.leases[] | select(.vf == $vf)] | length' "$VFCTLD_RUN/leases.json")
		[ "$n" -le 1 ]
		if [ "$(vm_driver "$vf")" = vfio-pci ]; then [ "$n" = 1 ]; else [ "$n" = 0 ]; fi
	done
}

# driver_is BDF DRIVER: for vm_wait_for (which runs its command again and
# again; a $(...) in its arguments would be read once)
driver_is() {
	[ "$(vm_driver "$1")" = "$2" ]
}

# vf_mac_is BDF MAC: the VF's netdev has MAC (for vm_wait_for: its driver
# probes it a moment after the release)
vf_mac_is() {
	[ "$(cat "$VM_PCI/$1/net/"*/address 2>/dev/null)" = "$2" ]
}

# stopped PID: the process is stopped (SIGSTOP)
stopped() {
	[ "$(proc_state "$1")" = T ]
}

# n_leases N: leases.json holds N leases
n_leases() {
	[ "$(jq '.leases | length' "$VFCTLD_RUN/leases.json")" = "$1" ]
}

# vf_bound PF INDEX: VF INDEX of PF exists and has a driver
vf_bound() {
	local vf
	vf=$(vm_vf "$1" "$2") || return 1
	[ -n "$(vm_driver "$vf")" ]
}

# vf_vlan PF INDEX: the VLAN the PF tags VF INDEX with (0: none), from
# iproute2's JSON
vf_vlan() {
	/usr/sbin/ip -j link show "$(vm_pf_netdev "$1")" |
		jq -r --argjson i "$2" '.[0].vfinfo_list[] | select(.vf == $i) | (.vlan_list[0].vlan // 0)'
}

# set_vf_vlan PF INDEX VLAN
set_vf_vlan() {
	/usr/sbin/ip link set "$(vm_pf_netdev "$1")" vf "$2" vlan "$3"
}

# vf_index_of PF VF: the index of VF (an address) under PF
vf_index_of() {
	local i=0 v
	for v in $(vm_vfs "$1"); do
		[ "$v" = "$2" ] && { echo "$i"; return 0; }
		i=$((i + 1))
	done
	return 1
}

# The suites' shared fixtures: the pool's PF with 3 VFs on igbvf, the test
# users, the config; each suite's setup_file/teardown_file call these.
vfctld_suite_setup() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
	vfctld_users
	rm -rf "$VFCTLD_RUN"
	export VFCTLD_CONF=$BATS_FILE_TMPDIR/vfctl.conf VFCTLD_LOG=$BATS_FILE_TMPDIR/vfctld.log
	vfctld_conf "$VFCTLD_CONF"
	vm_set_numvfs "$(vm_igb_pf)" 3
	vm_wait_for 20 vf_bound "$(vm_igb_pf)" 2
}

vfctld_suite_teardown() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	pkill -x vfctld 2>/dev/null || true
	vm_reset_igb
	rm -rf "$VFCTLD_RUN"
}

# vfctld_test_teardown: every lease released (forced), the daemon stopped,
# its log shown (bats prints it for a failed test). The daemon is started
# for the release if the test left none running.
vfctld_test_teardown() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	local l
	# shellcheck disable=SC2119 # no extra environment for this start
	[ -n "${dpid:-}" ] || vfctld_start
	for l in $(vfctl --json leases 2>/dev/null | jq -r '.leases[].id'); do
		vfctl release --force "$l" >/dev/null 2>&1 || true
	done
	vfctld_stop
	echo "---- vfctld log"; cat "$VFCTLD_LOG"
}
