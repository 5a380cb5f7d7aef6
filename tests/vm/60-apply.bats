#!/usr/bin/env bats
# vfctl apply on the real igb PF: provision from a config as at boot (4 VFs,
# a MAC and VLAN per VF, VF 3 on vfio-pci), read back with vfctl show and
# ip -d link show; a second apply reports and writes nothing (strace: no
# sysfs file opened for writing, no RTM_SETLINK); --dry-run on a changed
# config lists exactly the changes and writes nothing; a bad config is
# rejected whole before anything is touched; a count change under bound VFs
# needs --force, and with autoprobe off only the VF the config binds gets a
# driver.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
	export VFCTL_RUN_DIR=/run/vfctl-test-apply
	rm -rf "$VFCTL_RUN_DIR"
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	local pf vf
	pf=$(vm_igb_pf) || return 0
	for vf in $(vm_vfs "$pf"); do
		[ "$(vm_driver "$vf")" != vfio-pci ] || vfctl restore "$vf" >/dev/null 2>&1 || true
	done
	vm_reset_igb
	echo 1 >"$VM_PCI/$pf/sriov_drivers_autoprobe"
	rm -rf "$VFCTL_RUN_DIR"
}

setup() {
	vm_require
	vm_require_iommu
	pf=$(vm_igb_pf)
	pfdev=$(vm_pf_netdev "$pf")
	$VM_IP link set "$pfdev" up
	conf=$BATS_TEST_TMPDIR/vfctl.conf
}

# write_conf VLAN3: the boot config; VF 3's VLAN varies
write_conf() {
	cat >"$conf" <<JSON
{
  "pfs": [
    {
      "match": { "id": "8086:10c9", "index": 0 },
      "numvfs": 4,
      "autoprobe": true,
      "defaults": { "spoofchk": true },
      "vfs": [
        { "index": 0, "mac": "02:00:00:00:60:00", "vlan": 100 },
        { "index": 1, "mac": "02:00:00:00:60:01", "vlan": 101 },
        { "index": 2, "mac": "02:00:00:00:60:02", "vlan": 102, "qos": 2 },
        { "index": 3, "mac": "02:00:00:00:60:03", "vlan": $1, "driver": "vfio-pci" }
      ],
      "pools": [ { "name": "guests", "vfs": [3], "users": ["root"], "groups": ["root"] } ]
    }
  ]
}
JSON
}

# traced ARGS...: vfctl ARGS under strace (children too: sysfs writes run
# in one); $n_setlink RTM_SETLINKs sent, $sys_writes every file opened for
# writing: sysfs files (openat2 relative to the /sys dirfd, so they show as
# "bus/pci/devices/..."), locks and saved state (openat)
traced() {
	local log=$BATS_TEST_TMPDIR/strace.log
	run strace -f -qq -o "$log" -e trace=openat,openat2,sendto,sendmsg -s 128 vfctl "$@"
	n_setlink=$(grep -cE 'nlmsg_type=(RTM_SETLINK|0x13 )' "$log" || true)
	sys_writes=$(grep -E 'openat2?\(.*O_(WRONLY|RDWR)' "$log" | grep -v ' = -1 ' || true)
}

@test "apply provisions the igb PF from a config: 4 VFs, MACs, VLANs, VF 3 on vfio-pci; a second apply changes nothing" {
	write_conf 103
	traced apply --config "$conf"
	echo "$output"
	[ "$status" -eq 0 ]
	# the watch sees the writes when there are some
	[[ "$sys_writes" == *"/sriov_numvfs\""* ]] || { echo "writes: $sys_writes"; return 1; }
	[[ "$sys_writes" == *"/driver_override\""* ]]
	[ "$n_setlink" -ge 8 ]
	[[ "${lines[0]}" == "$pf: sriov_numvfs 0 -> 4: applied" ]]
	[[ "$output" == *"$pf vf 3 ($(vm_vf "$pf" 3)): driver igbvf -> vfio-pci: applied"* ]]
	[[ "$output" == *"$pf vf 2 ($(vm_vf "$pf" 2)): vlan 0 -> 102 qos 2: applied"* ]]
	[[ "${lines[-1]}" == *" changes applied, 0 failed" ]]

	# read back: the kernel's sysfs, ip -d link show, vfctl show
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ]
	vf3=$(vm_vf "$pf" 3)
	[ "$(vm_driver "$vf3")" = vfio-pci ]
	[ -c "/dev/vfio/$(vm_iommu_group "$vf3")" ]
	for i in 0 1 2; do
		[ "$(vm_driver "$(vm_vf "$pf" $i)")" = igbvf ]
	done
	ipout=$($VM_IP -d link show "$pfdev")
	echo "$ipout"
	[[ "$ipout" == *"vf 0     link/ether 02:00:00:00:60:00"*", vlan 100, spoof checking on"* ]]
	[[ "$ipout" == *"vf 1     link/ether 02:00:00:00:60:01"*", vlan 101, spoof checking on"* ]]
	[[ "$ipout" == *"vf 2     link/ether 02:00:00:00:60:02"*", vlan 102, qos 2, spoof checking on"* ]]
	[[ "$ipout" == *"vf 3     link/ether 02:00:00:00:60:03"*", vlan 103, spoof checking on"* ]]
	for i in 0 1 2 3; do
		cfg=$(vfctl show --json "$(vm_vf "$pf" $i)" | jq -c '.functions[0].config | {mac, vlan, spoofchk}')
		[ "$cfg" = "{\"mac\":\"02:00:00:00:60:0$i\",\"vlan\":10$i,\"spoofchk\":true}" ]
	done
	[ "$(vfctl show --json "$vf3" | jq -r '.functions[0].driver')" = vfio-pci ]

	# again: nothing to do, said so, nothing written
	traced apply --config "$conf"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "no changes: the host matches $conf" ]
	[ "$n_setlink" -eq 0 ]
	[ -z "$sys_writes" ] || { echo "wrote: $sys_writes"; return 1; }
	run vfctl --json apply --config "$conf"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.n_changes, .changes]' <<<"$output")" = '[0,[]]' ]
}

@test "--dry-run on a changed config lists exactly the changes and writes nothing" {
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ] || skip "needs the provisioned PF of the first test"
	write_conf 300
	jq '.pfs[0].vfs[1].mac = "02:00:00:00:61:01" | .pfs[0].vfs[0].driver = "vfio-pci"' "$conf" >"$conf.new"
	mv "$conf.new" "$conf"
	vf0=$(vm_vf "$pf" 0)
	vf1=$(vm_vf "$pf" 1)
	vf3=$(vm_vf "$pf" 3)
	traced apply --dry-run --config "$conf"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$pf vf 0 ($vf0): driver igbvf -> vfio-pci: would apply
$pf vf 1 ($vf1): mac 02:00:00:00:60:01 -> 02:00:00:00:61:01: would apply
$pf vf 3 ($vf3): vlan 103 -> 300: would apply
3 changes would be made (dry run: nothing written)" ]
	[ "$n_setlink" -eq 0 ]
	[ -z "$sys_writes" ] || { echo "wrote: $sys_writes"; return 1; }
	[ "$(vm_driver "$vf0")" = igbvf ]
	[[ "$($VM_IP -d link show "$pfdev")" == *"vf 3     link/ether 02:00:00:00:60:03"*", vlan 103,"* ]]

	run vfctl --json apply --dry-run --config "$conf"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.changes[] | [.vf_index, .what, .from, .to, .status]]' <<<"$output")" = \
	  '[[0,"driver","igbvf","vfio-pci","would apply"],[1,"mac","02:00:00:00:60:01","02:00:00:00:61:01","would apply"],[3,"vlan","103","300","would apply"]]' ]
}

@test "a bad config is rejected whole, naming the JSON path, before anything is touched" {
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ] || skip "needs the provisioned PF of the first test"
	write_conf 4096
	traced apply --config "$conf"
	[ "$status" -eq 1 ]
	[ "$output" = "vfctl: apply: $conf: pfs[0].vfs[3].vlan: 4096: out of range; expected 0-4095" ]
	[ "$n_setlink" -eq 0 ]
	[ -z "$sys_writes" ]
	write_conf 7
	jq '.pfs[0].numvfs = 2' "$conf" >"$conf.new"
	traced apply --config "$conf.new"
	[ "$status" -eq 1 ]
	[ "$output" = "vfctl: apply: $conf.new: pfs[0].vfs[2].index: VF index 2 is beyond numvfs 2" ]
	[ "$n_setlink" -eq 0 ]
	[ -z "$sys_writes" ]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ]
}

@test "a count change under bound VFs needs --force; autoprobe off: new VFs get no host driver, only the one the config binds" {
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ] || skip "needs the provisioned PF of the first test"
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "id": "8086:10c9" }, "numvfs": 2, "autoprobe": false,
             "vfs": [ { "index": 1, "mac": "02:00:00:00:62:01", "driver": "vfio-pci" } ] } ] }
JSON
	run --separate-stderr vfctl apply --config "$conf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 4 ]
	[ "${lines[0]}" = "$pf: sriov_drivers_autoprobe on -> off: applied" ]
	[[ "${lines[1]}" == "$pf: sriov_numvfs 4 -> 2: failed: $pf: going from 4 to 2 VFs removes all 4 first"*"pass --force to remove them anyway, or destroy them first" ]]
	[[ "$stderr" == "vfctl: apply: "*" changes failed; first: $pf: going from 4 to 2 VFs"* ]]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ]
	[ "$(vm_driver "$(vm_vf "$pf" 3)")" = vfio-pci ]

	run vfctl apply --force --config "$conf"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$pf: sriov_numvfs 4 -> 2: applied" ]
	[[ "${lines[1]}" == "$pf vf 1 ($(vm_vf "$pf" 1)): mac "*" -> 02:00:00:00:62:01: applied" ]]
	[ "${lines[2]}" = "$pf vf 1 ($(vm_vf "$pf" 1)): driver - -> vfio-pci: applied" ]
	[ "${lines[3]}" = "3 changes applied, 0 failed" ]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 2 ]
	[ "$(cat "$VM_PCI/$pf/sriov_drivers_autoprobe")" = 0 ]
	[ -z "$(vm_driver "$(vm_vf "$pf" 0)")" ]
	[ "$(vm_driver "$(vm_vf "$pf" 1)")" = vfio-pci ]
	[[ "$($VM_IP -d link show "$pfdev")" == *"vf 1     link/ether 02:00:00:00:62:01 "* ]]

	traced apply --config "$conf"
	[ "$status" -eq 0 ]
	[ "$output" = "no changes: the host matches $conf" ]
	[ "$n_setlink" -eq 0 ]
	[ -z "$sys_writes" ]
}
