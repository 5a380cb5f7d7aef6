#!/usr/bin/env bats
# With udev running in the VM (systemd-udevd, only the project's rules): the
# installed udev/90-vfctl.rules on real kernel events (an igb driver reload
# binds the PF: its event asks systemd for vfctl-provision@PF.service; the
# VFs that apply would create do not), and vfctld's sd-device monitor
# (destroying the VFs drops the lease of the vanished VF at once, without a
# restart or a request).

# shellcheck disable=SC2154 # status, output, lines: set by bats run
bats_require_minimum_version 1.5.0
load helpers
load vfctld-helpers

RULE=/usr/lib/udev/rules.d/90-vfctl.rules
CONF=/etc/vfctl/vfctl.conf

setup_file() {
	vfctld_suite_setup
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	[ ! -e "$CONF" ] || mv "$CONF" "$CONF.before-83"
	/usr/lib/systemd/systemd-udevd --daemon
	udevadm control --ping
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	udevadm control --exit 2>/dev/null || true
	rm -f "$CONF"
	[ ! -e "$CONF.before-83" ] || mv "$CONF.before-83" "$CONF"
	vfctld_suite_teardown
}

setup() {
	vm_require
	vm_require_iommu
	pf=$(vm_igb_pf)
	mon=$BATS_TEST_TMPDIR/udev.log
}

teardown() {
	[ -z "${mpid:-}" ] || kill "$mpid" 2>/dev/null || true
	vfctld_test_teardown
}

# monitor: udev's processed pci events with their properties, in $mon
monitor() {
	udevadm monitor --udev --property --subsystem-match=pci >"$mon" 2>&1 &
	mpid=$!
	vm_wait_for 10 grep -q 'monitor will print' "$mon"
}

# event ACTION DEV: the properties of the last udev event ACTION for DEV,
# one per line
event() {
	awk -v a="\nACTION=$1\n" -v p="\nDEVPATH=[^\n]*/$2\n" '
		function done() { if (ev ~ a && ev ~ p) last = ev; ev = "" }
		/^UDEV / { done(); ev = "\n"; next }
		/^$/ { done(); next }
		ev != "" { ev = ev $0 "\n" }
		END { done(); printf "%s", last }' "$mon"
}

has_event() {
	[ -n "$(event "$1" "$2")" ]
}

@test "90-vfctl.rules on real events: the PF's bind asks for vfctl-provision@PF, its VFs' binds do not" {
	[ -f "$RULE" ]
	mkdir -p "${CONF%/*}"
	echo '{ "pfs": [] }' >"$CONF"
	vm_reset_igb
	monitor
	echo "$pf" >/sys/bus/pci/drivers/igb/unbind
	echo "$pf" >/sys/bus/pci/drivers/igb/bind
	vm_set_numvfs "$pf" 2
	vf=$(vm_vf "$pf" 0)
	vm_wait_for 20 has_event bind "$vf"
	vm_wait_for 10 has_event bind "$pf"
	ev=$(event bind "$pf")
	echo "PF: $ev"
	[[ "$ev" == *$'\n'"SYSTEMD_WANTS=vfctl-provision@$pf.service"* ]]
	[[ "$ev" == *$'\n'TAGS=*:systemd:* ]]
	ev=$(event bind "$vf")
	echo "VF: $ev"
	[[ "$ev" == *$'\n'DRIVER=igbvf* ]]
	[[ "$ev" != *SYSTEMD_WANTS* ]]
	ev=$(event unbind "$pf")
	[[ "$ev" != *SYSTEMD_WANTS* ]]

	# without a config, a bind asks for nothing
	rm -f "$CONF"
	vm_set_numvfs "$pf" 0
	: >"$mon"
	echo "$pf" >/sys/bus/pci/drivers/igb/unbind
	echo "$pf" >/sys/bus/pci/drivers/igb/bind
	vm_wait_for 10 has_event bind "$pf"
	ev=$(event bind "$pf")
	[[ "$ev" != *SYSTEMD_WANTS* ]]
}

@test "vfctld's device monitor: the lease of a VF that is destroyed is dropped at once, the daemon still serving" {
	vm_set_numvfs "$pf" 3
	vm_wait_for 20 vf_bound "$pf" 2
	vfctld_start
	run vfctl alloc --pool p --owner gone-soon
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	[ "$(vm_driver "$vf")" = vfio-pci ]
	# nothing else wakes the daemon: an active lease needs no retry timer
	echo 0 >"$VM_PCI/$pf/sriov_numvfs"
	vm_wait_for 10 n_leases 0
	grep -Eq "^vfctld: $vf: (unbind|remove) event; reconciling" "$VFCTLD_LOG"
	grep -q "lease $lease: VF $vf is gone (PF reset or VFs destroyed): lease dropped" "$VFCTLD_LOG"
	[ ! -e "$VFCTLD_RUN/state/$vf.json" ]
	# the lease of a destroyed VF hands out nothing: vfctl exec runs nothing
	run --separate-stderr vfctl exec --lease "$lease" -- touch "$BATS_TEST_TMPDIR/ran" '{group}'
	echo "$stderr"
	[ "$status" -eq 3 ]
	[[ "$stderr" == "vfctl exec: "*"$lease"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	kill -0 "$dpid"
	run vfctl leases
	[ "$status" -eq 0 ]
}

# vf_netdev VF: the netdev igbvf made for VF (fails while there is none)
vf_netdev() {
	local n
	for n in "$VM_PCI/$1"/net/*; do [ -e "$n" ] && { basename "$n"; return 0; }; done
	return 1
}

@test "85-vfctl-vf.rules on a real igbvf netdev: NM_UNMANAGED=1, ID_NET_MANAGED_BY, VFCTL_VF=1; the PF's netdev has none" {
	[ -f /usr/lib/udev/rules.d/85-vfctl-vf.rules ]
	vm_reset_igb
	vm_set_numvfs "$pf" 1
	vf=$(vm_vf "$pf" 0)
	vm_wait_for 20 vf_netdev "$vf"
	run udevadm test --action=add "/sys/class/net/$(vf_netdev "$vf")"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'NM_UNMANAGED=1' <<<"$output"
	grep -qx 'ID_NET_MANAGED_BY=io.vfctl' <<<"$output"
	grep -qx 'VFCTL_VF=1' <<<"$output"
	run udevadm test --action=add "/sys/class/net/$(vm_pf_netdev "$pf")"
	[ "$status" -eq 0 ]
	! grep -E '^(NM_UNMANAGED|VFCTL_VF|ID_NET_MANAGED_BY)=' <<<"$output" || false
	vm_set_numvfs "$pf" 0
}

@test "vfctl doctor on the real kernel: the IOMMU, interrupt remapping (intremap=on), ACS of the PF's root port as root reads it; exit status by the worst line" {
	# the same code on 6.1: one kernel proves it
	vm_require_iommufd
	run vfctl doctor
	echo "$output"
	rc=$status
	[[ "$output" == *"OK      cmdline-iommu        the kernel command line turns the IOMMU on"* ]]
	[[ "$output" == *"OK      iommu                IOMMU dmar0, "* ]]
	[[ "$output" == *"OK      interrupt-remapping  on (IR- interrupt domains in /proc/interrupts)"* ]]
	# root reads the root port's extended config space: no UNKNOWN for ACS
	grep -Eq "^(OK|WARN) +acs +$pf: " <<<"$output"
	[[ "$output" == *"OK      memlock              CAP_IPC_LOCK: no RLIMIT_MEMLOCK bound"* ]]
	run vfctl --json doctor
	res=$(jq -r .result <<<"$output")
	case $res in OK | UNKNOWN) [ "$rc" -eq 0 ] ;; WARN) [ "$rc" -eq 8 ] ;; FAIL) [ "$rc" -eq 1 ] ;; *) false ;; esac
}
