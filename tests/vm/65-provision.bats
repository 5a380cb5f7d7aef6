#!/usr/bin/env bats
# The boot and hotplug units on the real igb PF. The guest has no systemd or
# udev, so each test runs exactly the command of the unit as installed
# (make install PREFIX=/usr): vfctl-provision.service's ExecStart with the
# config where the unit reads it (/etc/vfctl/vfctl.conf), as at boot with the
# PF's link still down and a second config PF this VM lacks (skipped);
# then again: no change, nothing written (strace). Then
# what udev/90-vfctl.rules starts when the PF's driver comes back: the
# driver reloaded (unbind + bind igb loses the VFs), vfctl-provision@PF's
# ExecStart with %I for the PF restores them, and a second run changes
# nothing.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
bats_require_minimum_version 1.5.0
load helpers

UNITDIR=/usr/lib/systemd/system
CONF=/etc/vfctl/vfctl.conf

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
	# the units run with the default state directory
	unset VFCTL_RUN_DIR
	[ ! -e /run/vfctl ] || mv /run/vfctl /run/vfctl.before-65
	[ ! -e "$CONF" ] || mv "$CONF" "$CONF.before-65"
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	local pf vf
	if pf=$(vm_igb_pf); then
		for vf in $(vm_vfs "$pf"); do
			[ "$(vm_driver "$vf")" != vfio-pci ] || vfctl restore "$vf" >/dev/null 2>&1 || true
		done
		vm_reset_igb
		echo 1 >"$VM_PCI/$pf/sriov_drivers_autoprobe"
	fi
	rm -rf /run/vfctl "$CONF"
	[ ! -e /run/vfctl.before-65 ] || mv /run/vfctl.before-65 /run/vfctl
	[ ! -e "$CONF.before-65" ] || mv "$CONF.before-65" "$CONF"
}

setup() {
	vm_require
	vm_require_iommu
	pf=$(vm_igb_pf)
}

# unit_exec UNIT [INSTANCE]: the unit's ExecStart= as words in $cmd, %I
# replaced by INSTANCE, checked to be the installed vfctl
unit_exec() {
	local u=$UNITDIR/$1 line
	[ -f "$u" ] || { echo "not installed: $u"; return 1; }
	line=$(sed -n 's/^ExecStart=//p' "$u")
	[ -n "$line" ] || { echo "$u: no ExecStart="; return 1; }
	read -ra cmd <<<"${line//%I/${2:-}}"
	[ "${cmd[0]}" = /usr/bin/vfctl ] || { echo "$u: runs ${cmd[0]}"; return 1; }
	[ -x "${cmd[0]}" ]
	[ "$(sed -n 's/^ConditionPathExists=//p' "$u")" = "$CONF" ]
}

# unit_run: $cmd as systemd runs it (no VFCTL_* from the test environment)
# under strace; $n_setlink RTM_SETLINKs sent, $sys_writes every file opened
# for writing
unit_run() {
	local log=$BATS_TEST_TMPDIR/strace.log
	run env -u VFCTL_RUN_DIR -u VFCTL_SYSFS_ROOT -u VFCTL_DEV_ROOT \
		strace -f -qq -o "$log" -e trace=openat,openat2,sendto,sendmsg -s 128 "${cmd[@]}"
	n_setlink=$(grep -cE 'nlmsg_type=(RTM_SETLINK|0x13 )' "$log" || true)
	sys_writes=$(grep -E 'openat2?\(.*O_(WRONLY|RDWR)' "$log" | grep -v ' = -1 ' || true)
}

write_conf() {
	mkdir -p "${CONF%/*}"
	cat >"$CONF" <<JSON
{
  "pfs": [
    {
      "match": { "address": "$pf" },
      "numvfs": 4,
      "autoprobe": true,
      "defaults": { "spoofchk": true },
      "vfs": [
        { "index": 0, "mac": "02:00:00:00:65:00", "vlan": 650 },
        { "index": 1, "mac": "02:00:00:00:65:01" },
        { "index": 2, "mac": "02:00:00:00:65:02", "vlan": 652, "qos": 1 },
        { "index": 3, "mac": "02:00:00:00:65:03", "driver": "vfio-pci" }
      ]
    },
    { "match": { "address": "0000:09:00.0" }, "numvfs": 2 }
  ]
}
JSON
}

# what the boot unit says of the config's second PF, which this VM lacks
SKIPPED="vfctl apply: pfs[1]: no address 0000:09:00.0 on this host: skipped"

# check_host: the PF as the config says, read from sysfs and ip link
check_host() {
	local pfdev ipout i
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ]
	pfdev=$(vm_pf_netdev "$pf")
	ipout=$($VM_IP -d link show "$pfdev")
	echo "$ipout"
	[[ "$ipout" == *"vf 0     link/ether 02:00:00:00:65:00"*", vlan 650, spoof checking on"* ]]
	[[ "$ipout" == *"vf 1     link/ether 02:00:00:00:65:01"*", spoof checking on"* ]]
	[[ "$ipout" == *"vf 2     link/ether 02:00:00:00:65:02"*", vlan 652, qos 1, spoof checking on"* ]]
	[[ "$ipout" == *"vf 3     link/ether 02:00:00:00:65:03"*", spoof checking on"* ]]
	for i in 0 1 2; do
		[ "$(vm_driver "$(vm_vf "$pf" $i)")" = igbvf ]
	done
	vf3=$(vm_vf "$pf" 3)
	[ "$(vm_driver "$vf3")" = vfio-pci ]
	[ -c "/dev/vfio/$(vm_iommu_group "$vf3")" ]
}

@test "vfctl-provision.service's command provisions the PF as at boot (link down); run again it changes nothing" {
	write_conf
	unit_exec vfctl-provision.service
	[ "${cmd[*]}" = "/usr/bin/vfctl apply --skip-absent" ]
	pfdev=$(vm_pf_netdev "$pf")
	$VM_IP link set "$pfdev" down	# before network-pre.target: nothing configured the PF
	unit_run
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$SKIPPED" ]
	[ "${lines[1]}" = "$pf: sriov_numvfs 0 -> 4: applied" ]
	[[ "$output" == *"$pf vf 3 ($(vm_vf "$pf" 3)): driver igbvf -> vfio-pci: applied"* ]]
	[[ "${lines[-1]}" == *" changes applied, 0 failed" ]]
	[[ "$sys_writes" == *"/sriov_numvfs\""* ]]
	# one RTM_SETLINK per VF attribute changed (spoofchk is on already)
	[ "$n_setlink" -ge "$(grep -cE '\): (mac|vlan|spoofchk) ' <<<"$output")" ]
	[ "$n_setlink" -ge 6 ]
	check_host
	[ -d /run/vfctl ]	# the unit's state directory: the default one

	unit_run
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$SKIPPED
no changes: the host matches $CONF" ]
	[ "$n_setlink" -eq 0 ]
	[ -z "$sys_writes" ] || { echo "wrote: $sys_writes"; return 1; }
}

@test "after a driver reload of the PF, vfctl-provision@PF's command restores its VFs; run again it changes nothing" {
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ] || skip "needs the provisioned PF of the first test"
	# the driver reload udev reports as a bind of the PF: igb's remove
	# takes the VFs with it, the new probe starts with none
	echo "$pf" >/sys/bus/pci/drivers/igb/unbind
	[ -z "$(vm_driver "$pf")" ]
	echo "$pf" >/sys/bus/pci/drivers/igb/bind
	[ "$(vm_driver "$pf")" = igb ]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 0 ]
	[ -n "$(cat "$VM_PCI/$pf/sriov_totalvfs")" ]	# what the rule tests

	unit_exec vfctl-provision@.service "$pf"
	[ "${cmd[*]}" = "/usr/bin/vfctl apply --pf $pf" ]
	unit_run
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$pf: sriov_numvfs 0 -> 4: applied" ]
	[[ "${lines[-1]}" == *" changes applied, 0 failed" ]]
	check_host

	unit_run
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "no changes: the host matches $CONF" ]
	[ "$n_setlink" -eq 0 ]
	[ -z "$sys_writes" ] || { echo "wrote: $sys_writes"; return 1; }
	# the boot unit's command agrees
	unit_exec vfctl-provision.service
	unit_run
	[ "$status" -eq 0 ]
	[ "$output" = "$SKIPPED
no changes: the host matches $CONF" ]
}

@test "vfctl-provision@ for a PF the config does not name: nothing to do, nothing written" {
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ] || skip "needs the provisioned PF of the first test"
	jq '.pfs[0].match = { "address": "0000:08:00.0" }' "$CONF" >"$CONF.new"
	mv "$CONF.new" "$CONF"
	unit_exec vfctl-provision@.service "$pf"
	unit_run
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "vfctl apply: $pf is not in $CONF: nothing to do" ]
	[ "$n_setlink" -eq 0 ]
	[ -z "$sys_writes" ]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ]
}
