#!/usr/bin/env bats
# tests/hw/run, the qualification suite an operator runs on a real host, in
# the VM against the emulated 82576 (igb) PF: a full run passes every row
# the 82576 has in tests/hw/devices.json and puts the PF back as it
# recorded it; each safety refusal (missing --yes, a host address or the
# default route, a bridge master, a VF vfctld leases, a VF a process holds)
# is one line and touches nothing; SIGTERM in the middle of the bind step
# restores the recorded state; a run killed with -9 is undone by --restore.
# On 6.12 only: what it drives (vfctl, vfctld, vfkvm) is proven on 6.1 by
# the suites before it, and TCG time is short.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
# shellcheck disable=SC2030,SC2031 # runpid: set in a test, read in its teardown (one subshell)
bats_require_minimum_version 1.5.0
load helpers

HWRUN=/vfctl/tests/hw/run

# QEMU's user network sends IPv6 router advertisements: once the PF is up
# the kernel would take a default route (via fe80::2) and a SLAAC address
# from them, which tests/hw/run rightly refuses; the refusal tests make
# their own routes, so the PF takes none from RAs during this suite.
setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	# every test skips before 6.12 (setup): touch nothing there
	! vm_kernel_before 6.12 || return 0
	local ra
	vm_reset_igb
	ra=/proc/sys/net/ipv6/conf/$(vm_pf_netdev)/accept_ra
	cat "$ra" >"$BATS_FILE_TMPDIR/accept_ra"
	echo 0 >"$ra"
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	! vm_kernel_before 6.12 || return 0
	vm_reset_igb
	cat "$BATS_FILE_TMPDIR/accept_ra" >"/proc/sys/net/ipv6/conf/$(vm_pf_netdev)/accept_ra"
}

setup() {
	vm_require
	vm_require_iommu
	! vm_kernel_before 6.12 || skip "tests/hw runs on the 6.12 boot only (its parts are proven on $(uname -r) by the suites before)"
	# shellcheck source=/dev/null # the repo in the VM: tests/hw/lib.bash
	. /vfctl/tests/hw/lib.bash
	pf=$(vm_igb_pf)
	pfdev=$(vm_pf_netdev "$pf")
	# the "host's" vfctld run dir whose leases tests/hw/run checks
	export VFCTL_RUN_DIR=/run/vfctl-hw-host
	rep=$BATS_TEST_TMPDIR/report.json
	holder='' dpid='' runpid=''
	# what an earlier suite's RAs left
	$VM_IP -6 route flush dev "$pfdev" proto ra 2>/dev/null || true
	$VM_IP -6 addr flush dev "$pfdev" scope global 2>/dev/null || true
}

teardown() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	# skipped in setup (before 6.12): nothing was set up, nothing to undo
	[ -n "${pf:-}" ] || return 0
	[ -z "${runpid:-}" ] || kill -9 "$runpid" 2>/dev/null || true
	[ ! -s "$BATS_TEST_TMPDIR/report.d/paused" ] ||
		kill -9 -- "-$(cat "$BATS_TEST_TMPDIR/report.d/paused")" 2>/dev/null || true
	[ -z "${holder:-}" ] || { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; } || true
	if [ -n "${dpid:-}" ]; then
		vfctl release --force "$VF0" --socket "$VFCTL_RUN_DIR/vfctld.sock" >/dev/null 2>&1 || true
		kill "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
	fi
	[ -z "${VFCTL_RUN_DIR:-}" ] || rm -rf "$VFCTL_RUN_DIR"
	if [ -n "${pfdev:-}" ]; then
		$VM_IP route flush dev "$pfdev" 2>/dev/null || true
		$VM_IP -6 route flush dev "$pfdev" proto ra 2>/dev/null || true
		$VM_IP -6 addr flush dev "$pfdev" scope global 2>/dev/null || true
		$VM_IP addr flush dev "$pfdev" 2>/dev/null || true
		$VM_IP link set dev "$pfdev" nomaster 2>/dev/null || true
	fi
	$VM_IP link del hwbr0 2>/dev/null || true
	vm_reset_igb
}

# nontrivial: a recorded state worth restoring: 2 VFs, VF 0 with an admin
# MAC and VLAN, VF 1 on vfio-pci by driver_override, the PF link down
nontrivial() {
	vm_set_numvfs "$pf" 2
	vm_wait_for 20 test -e "$VM_PCI/$(vm_vf "$pf" 1)/driver"
	$VM_IP link set dev "$pfdev" vf 0 mac 02:00:00:87:00:01 vlan 7
	vm_bind_vfio "$(vm_vf "$pf" 1)"
	$VM_IP link set dev "$pfdev" down
}

# refused_unchanged WHAT: the last run was refused with one line naming WHAT,
# wrote no report, and the PF's state is $before
refused_unchanged() {
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "tests/hw/run: refused: "*"$1"* ]]
	[ ! -e "$rep" ] && [ ! -e "${rep%.json}.d" ]
	[ "$(hw_state "$pf")" = "$before" ]
}

@test "a full run on the igb PF passes every step and every row of the 82576; the PF is back as recorded" {
	nontrivial
	before=$(hw_state "$pf")
	wire0=$(vm_wire_frames 02:00:5e:12:00:00)
	t0=$SECONDS
	run "$HWRUN" --pf "$pfdev" --yes --report "$rep"
	echo "# figure: tests/hw/run, every step on the 82576: $((SECONDS - t0)) s" >&3
	echo "$output"
	cat "${rep%.json}.txt"
	[ "$status" -eq 0 ]
	[ "$(hw_state "$pf")" = "$before" ]
	jq -e '.status == "passed" and .restore_matches == true and .recorded == .restored' "$rep"
	jq -e '.pf.expectations.pf_id == "10c9" and .pf.totalvfs == 7' "$rep"
	# every step ran and passed: nothing skipped (the VM has /dev/kvm and QEMU)
	[ "$(jq -r '[.steps[] | "\(.name)=\(.result)"] | join(" ")' "$rep")" = \
		"enumerate=pass create=pass set=pass bind=pass apply=pass alloc=pass guest=pass qemu=pass release=pass restore=pass" ]
	# igb's refusals, named with the kernel's text
	jq -e '[.refusals[] | split(":")[0]] == ["proto-802.1ad", "min-tx-rate", "link-state-auto", "link-state-enable", "link-state-disable", "query-rss"]' "$rep"
	jq -e '.timings_ms | has("create_max_vfs") and has("create_small") and has("bind_vf0") and has("first_guest_register_read") and has("dma_map")' "$rep"
	jq -e '.host.kernel == "'"$(uname -r)"'" and (.host.iommu.units | length) > 0' "$rep"
	grep -qx 'step     guest: pass' "${rep%.json}.txt"
	grep -qx 'restore  the PF is back as recorded' "${rep%.json}.txt"
	# the guest's frame, from the MAC apply gave VF 0, reached the wire
	vm_wait_for 5 vm_wire_frames_are 02:00:5e:12:00:00 $((wire0 + 1))
}

@test "refused without --yes: one line, nothing touched; --dry-run lists the changes and touches nothing" {
	nontrivial
	before=$(hw_state "$pf")
	run "$HWRUN" --pf "$pf" --report "$rep"
	refused_unchanged "give --yes to run it"
	run "$HWRUN" --pf "$pf" --dry-run --report "$rep"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"create: $pf sriov_numvfs -> 0 -> 7 (the maximum), then -> 0 -> 2"* ]]
	[[ "$output" == *"bind: VFs 0-0 of $pf -> vfio-pci"* ]]
	[ ! -e "$rep" ]
	[ "$(hw_state "$pf")" = "$before" ]
}

@test "refused: a PF carrying the default route, then a host address: one line each, nothing touched" {
	$VM_IP link set dev "$pfdev" up
	$VM_IP addr add 192.0.2.10/24 dev "$pfdev"
	$VM_IP route add default via 192.0.2.1 dev "$pfdev"
	before=$(hw_state "$pf")
	run "$HWRUN" --pf "$pf" --yes --report "$rep"
	refused_unchanged "PF $pf ($pfdev) carries the default route (default via 192.0.2.1)"
	$VM_IP route del default via 192.0.2.1 dev "$pfdev"
	run "$HWRUN" --pf "$pfdev" --yes --report "$rep"
	refused_unchanged "carries host addresses (192.0.2.10/24)"
}

@test "refused: a PF enslaved to a bridge: one line, nothing touched" {
	$VM_IP link add hwbr0 type bridge
	$VM_IP link set dev "$pfdev" master hwbr0
	before=$(hw_state "$pf")
	run "$HWRUN" --pf "$pf" --yes --report "$rep"
	refused_unchanged "is enslaved to bridge hwbr0"
}

@test "refused: a VF that vfctld leases: one line, nothing touched" {
	vm_set_numvfs "$pf" 1
	VF0=$(vm_vf "$pf" 0)
	vm_wait_for 20 test -e "$VM_PCI/$VF0/driver"
	mkdir -p "$VFCTL_RUN_DIR"
	jq -n '{pfs: [{match: {id: "8086:10c9", index: 0}, numvfs: 1, pools: [{name: "p", vfs: [0], users: ["root"]}]}]}' \
		>"$VFCTL_RUN_DIR/vfctl.conf"
	vfctld --run-dir "$VFCTL_RUN_DIR" --config "$VFCTL_RUN_DIR/vfctl.conf" \
		>"$VFCTL_RUN_DIR/log" 2>&1 </dev/null 3>&- &
	dpid=$!
	vm_wait_for 10 test -S "$VFCTL_RUN_DIR/vfctld.sock"
	vfctl alloc --pool p --socket "$VFCTL_RUN_DIR/vfctld.sock"
	before=$(hw_state "$pf")
	run "$HWRUN" --pf "$pf" --yes --report "$rep"
	refused_unchanged "vfctld leases VFs of $pf: L"
	[[ "$output" == *" (VF $VF0); release them first ('vfctl release ID')" ]]
}

@test "refused: a VF whose VFIO group a process holds: one line, nothing touched" {
	vm_set_numvfs "$pf" 1
	vf=$(vm_vf "$pf" 0)
	vm_bind_vfio "$vf"
	grp=$(vm_iommu_group "$vf")
	sleep 300 9<>"/dev/vfio/$grp" &
	holder=$!
	vm_wait_for 5 test -e "/proc/$holder/fd/9"
	before=$(hw_state "$pf")
	run "$HWRUN" --pf "$pf" --yes --report "$rep"
	refused_unchanged "VF $vf of $pf is held by process $holder/sleep"
}

# paused_run: tests/hw/run --yes in the background,
# stopped by its test hook in the middle of the bind step (after the first
# VF is on vfio-pci, before the second); $runpid
paused_run() {
	VFCTL_HW_PAUSE_AT=bind "$HWRUN" --pf "$pf" --yes --vfs 3 --steps create,bind --report "$rep" \
		>"$BATS_TEST_TMPDIR/run.out" 2>&1 &
	runpid=$!
	vm_wait_for 600 test -s "$BATS_TEST_TMPDIR/report.d/paused"
	[ "$(vm_driver "$(vm_vf "$pf" 0)")" = vfio-pci ]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 3 ]
}

@test "SIGTERM in the middle of the bind step: the run stops and restores the recorded state" {
	nontrivial
	before=$(hw_state "$pf")
	paused_run
	kill -TERM "$runpid"
	rc=0
	wait "$runpid" || rc=$?
	runpid=
	cat "$BATS_TEST_TMPDIR/run.out"
	[ "$rc" -eq 143 ]
	[ "$(hw_state "$pf")" = "$before" ]
	jq -e '.status == "interrupted by SIGTERM" and .restore_matches == true' "$rep"
	jq -e '.steps[] | select(.name == "create") | .result == "pass"' "$rep"
	grep -q '^# tests/hw/run: interrupted by SIGTERM; report ' "$BATS_TEST_TMPDIR/run.out"
}

@test "a run killed with -9 in the middle of the bind step is undone by --restore REPORT" {
	nontrivial
	before=$(hw_state "$pf")
	paused_run
	kill -9 "$runpid"
	wait "$runpid" || true
	runpid=
	kill -9 -- "-$(cat "$BATS_TEST_TMPDIR/report.d/paused")"
	[ "$(hw_state "$pf")" != "$before" ]
	jq -e '.status == "running"' "$rep"
	run "$HWRUN" --restore "$rep"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "tests/hw/run: $pf is back as $rep recorded it" ]
	[ "$(hw_state "$pf")" = "$before" ]
}
