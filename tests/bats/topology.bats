#!/usr/bin/env bats
# vfctl list/show/groups on golden sysfs trees (make check-bats builds them
# with tests/fixtures/mkfixtures from real-kernel captures).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${FIXTURES:?set FIXTURES to the trees}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT
}

vf() {	# vf TREE ARGS...
	local t=$1
	shift
	"$VFCTL" --sysfs-root "$FIXTURES/$t/sys" "$@"
}

@test "list: the 82599 tree as text, PFs with their VFs as a tree" {
	run vf 82599-8vf list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "IOMMU: yes"* ]]
	[[ "$output" == *"0000:03:00.0 [8086:10fb] Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Connection"* ]]
	[[ "$output" == *"driver ixgbe, numa 0, iommu group 20, netdev enp3s0f0 (up, 10000 Mb/s)"* ]]
	[[ "$output" == *"sriov 8 of 63 VFs, autoprobe yes, vf offset 128 stride 2, vf device 10ed"* ]]
	[[ "$output" == *"vf 7  0000:03:11.6 [8086:10ed]"* ]]
	[[ "$output" == *"driver vfio-pci (override vfio-pci)"* ]]
	[[ "$output" == *"vf settings: not read:"* ]]
	[[ "$output" == *"0000:03:00.1 [8086:10fb]"* ]]
	[[ "$output" == *"sriov 0 of 63 VFs"* ]]
}

@test "list --json carries the same values as the text" {
	run vf 82599-8vf list --json
	[ "$status" -eq 0 ]
	j=$output
	q() { echo "$j" | jq -e -r "$1"; }
	[ "$(q '.pfs | length')" = 2 ]
	[ "$(q '.pfs[0].address')" = 0000:03:00.0 ]
	[ "$(q '.pfs[0].kind')" = pf ]
	[ "$(q '.pfs[0].vendor_id')" = 8086 ]
	[ "$(q '.pfs[0].device_id')" = 10fb ]
	[ "$(q '.pfs[0].driver')" = ixgbe ]
	[ "$(q '.pfs[0].numa_node')" = 0 ]
	[ "$(q '.pfs[0].iommu_group')" = 20 ]
	[ "$(q '.pfs[0].sriov.totalvfs')" = 63 ]
	[ "$(q '.pfs[0].sriov.numvfs')" = 8 ]
	[ "$(q '.pfs[0].sriov.drivers_autoprobe')" = true ]
	[ "$(q '.pfs[0].sriov.vf_offset')" = 128 ]
	[ "$(q '.pfs[0].sriov.vf_stride')" = 2 ]
	[ "$(q '.pfs[0].sriov.vf_device_id')" = 10ed ]
	[ "$(q '.pfs[0].netdevs[0].name')" = enp3s0f0 ]
	[ "$(q '.pfs[0].vfs | length')" = 8 ]
	[ "$(q '.pfs[0].vfs[2].address')" = 0000:03:10.4 ]
	[ "$(q '.pfs[0].vfs[2].vf_index')" = 2 ]
	[ "$(q '.pfs[0].vfs[2].pf')" = 0000:03:00.0 ]
	[ "$(q '.pfs[0].vfs[2].driver')" = ixgbevf ]
	[ "$(q '.pfs[0].vfs[2].iommu_group')" = 32 ]
	[ "$(q '.pfs[0].vfs[2].config')" = null ]
	[ "$(q '.pfs[0].vfs[7].driver_override')" = vfio-pci ]
	q '.pfs[0].vf_config_error' | grep -q 'not the live /sys'
	[ "$(q '.host.iommu.present')" = true ]
	[ "$(q '.host.vfio.container')" = true ]
	[ "$(q '.warnings | length')" = 0 ]
	[ "$(q 'has("functions")')" = false ]
}

@test "list --all adds the functions that are neither PF nor VF" {
	run vf 82599-8vf list --all --json
	[ "$status" -eq 0 ]
	n=$(echo "$output" | jq '.functions | length')
	[ "$n" -ge 2 ]
	[ "$(echo "$output" | jq -r '[.functions[].kind] | unique | .[]')" = other ]
	run vf 82599-8vf list --all
	[[ "$output" == *"Other PCI functions:"* ]]
}

@test "show: by address (both forms), by PF and VF netdev name" {
	for dev in 0000:03:10.4 03:10.4 enp3s0f0v2; do
		run vf 82599-8vf show --json "$dev"
		[ "$status" -eq 0 ]
		[ "$(echo "$output" | jq -r '.functions[0].address')" = 0000:03:10.4 ]
		[ "$(echo "$output" | jq -r '.group.id')" = 32 ]
		[ "$(echo "$output" | jq -r '.group.viable')" = false ]
	done
	run vf 82599-8vf show enp3s0f0
	[ "$status" -eq 0 ]
	[[ "$output" == *"0000:03:00.0 [8086:10fb]"* ]]
	[[ "$output" == *"vf 0  0000:03:10.0"* ]]
	# a host device nobody asked to assign is not shouted at
	[[ "$output" == *"group 20: in use by the host: 0000:03:00.0 (ixgbe); "* ]]
}

@test "groups: viability per group, the blocker and what to do" {
	run vf 82599-8vf groups --json
	[ "$status" -eq 0 ]
	g() { echo "$output" | jq -e -r ".groups[] | select(.id == $1) | $2"; }
	[ "$(g 37 .viable)" = true ]
	[ "$(g 37 .dev_node)" = true ]
	[ "$(g 37 '.members[0].address')" = 0000:03:11.6 ]
	[ "$(g 30 .viable)" = false ]
	[ "$(g 30 '.blockers[0]')" = 0000:03:10.0 ]
	[ "$(g 30 .status)" = host ]
	g 30 .reason | grep -q 'bind it to vfio-pci'
	run vf 82599-8vf groups
	[[ "$output" == *"group 37  viable for VFIO, /dev/vfio/37"* ]]
	[[ "$output" == *"group 30  in use by the host: 0000:03:10.0 (ixgbevf); nothing of it is on vfio-pci"* ]]
}

@test "groups: a PF sharing its group with its VFs (no ACS) blocks it" {
	run vf shared-group groups --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.groups[] | select(.id == 12) | .members | length')" = 5 ]
	[ "$(echo "$output" | jq -r '.groups[] | select(.id == 12) | .viable')" = false ]
	[ "$(echo "$output" | jq -r '.groups[] | select(.id == 12) | .blockers | join(" ")')" = "0000:05:00.0 0000:05:10.6" ]
	[ "$(echo "$output" | jq -r '.groups[] | select(.id == 12) | .status')" = blocked ]
	# the ways out, never "bind the PF to vfio-pci"
	reason=$(echo "$output" | jq -r '.groups[] | select(.id == 12) | .reason')
	[ "$reason" = "PF 0000:05:00.0 (ixgbe) shares group 12 with its VFs: its port has no ACS isolation, so they cannot be passed through apart from it; pass the whole group to one guest, put the card in a slot whose port has ACS, or use a platform with ACS" ]
	run vf shared-group groups
	[[ "$output" == *"group 12  NOT viable, /dev/vfio/12: PF 0000:05:00.0 (ixgbe) shares group 12 with its VFs"* ]]
}

@test "the 82576 host" {
	run vf 82576 list --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.pfs[0].device_id')" = 10c9 ]
	[ "$(echo "$output" | jq -r '.pfs[0].sriov.totalvfs')" = 7 ]
	[ "$(echo "$output" | jq -r '.pfs[0].numa_node')" = null ]
	[ "$(echo "$output" | jq -r '.pfs[0].vfs[1].device_id')" = 10ca ]
	[ "$(echo "$output" | jq -r '.pfs[0].vfs[1].driver')" = igbvf ]
}

@test "4 PFs x 63 VFs: every VF listed under its PF" {
	run vf 4pf-63vf list --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '.pfs | length')" = 4 ]
	[ "$(echo "$output" | jq '[.pfs[].vfs | length] | add')" = 252 ]
	[ "$(echo "$output" | jq -r '.pfs[3].vfs[62].vf_index')" = 62 ]
}

@test "a host without IOMMU: said plainly, with what to do; groups says none; exit 0" {
	run vf no-iommu list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "IOMMU: no - no IOMMU unit in /sys/class/iommu: enable VT-d/AMD-Vi"* ]]
	[[ "${lines[1]}" == "VFIO: /dev/vfio/vfio yes"* ]]
	run vf no-iommu list --json
	[ "$(echo "$output" | jq -r '.host.iommu.present')" = false ]
	[ "$(echo "$output" | jq -r '.host.iommu.hint')" != null ]
	[ "$(echo "$output" | jq -r '.pfs[0].iommu_group')" = null ]
	run vf no-iommu groups
	[ "$status" -eq 0 ]
	[[ "$output" == *"No IOMMU groups in"*"no device can be passed through with VFIO"* ]]
}

@test "a host with no SR-IOV device says so" {
	root=$BATS_TEST_TMPDIR/plain
	cp -a "$FIXTURES/no-iommu" "$root"
	for d in "$root"/sys/bus/pci/devices/*; do rm -f "$(cd "$d" && pwd -P)/sriov_totalvfs"; done
	run "$VFCTL" --sysfs-root "$root/sys" list
	[ "$status" -eq 0 ]
	[[ "$output" == *"No SR-IOV physical function on this host ("*" PCI functions scanned"* ]]
	run "$VFCTL" --sysfs-root "$root/sys" list --json
	[ "$(echo "$output" | jq '.pfs | length')" = 0 ]
}

@test "a PF without a netdev: its VF settings are marked, with the reason" {
	run vf pf-no-netdev list --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -r '.pfs[0].vf_config_error' | grep -q '0000:03:00.0 has no netdev (driver ixgbe)'
	[ "$(echo "$output" | jq '.pfs[0].netdevs | length')" = 0 ]
}

@test "a device that vanishes during the walk is named in a warning, not a crash" {
	run --separate-stderr vf vanish list --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '.pfs[0].vfs | length')" = 7 ]
	[ "$(echo "$output" | jq -r '.warnings[0]')" != null ]
	run vf vanish list
	[ "$status" -eq 0 ]
	[[ "$output" == *"vfctl: warning: 0000:03:10.6: vanished during the walk"* ]]
}

@test "the ids come from each device's uevent in one read, from the attribute files where it lacks them" {
	local u=$BATS_TEST_TMPDIR/u
	cp -a "$FIXTURES/82599-8vf" "$u"
	d=$u/sys/bus/pci/devices
	run "$VFCTL" --sysfs-root "$u/sys" list --json
	[ "$status" -eq 0 ]
	want=$output
	# no uevent, a malformed PCI_ID, no PCI_SUBSYS_ID: the five files instead, the same facts
	rm "$d/0000:03:10.0/uevent"
	sed -i 's/^PCI_ID=.*/PCI_ID=8086:zz/' "$d/0000:03:10.2/uevent"
	sed -i '/^PCI_SUBSYS_ID=/d' "$d/0000:03:00.0/uevent"
	run "$VFCTL" --sysfs-root "$u/sys" list --json
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
	# where it has them, the uevent is what was read (the kernel writes both from the same fields)
	sed -i 's/^PCI_ID=.*/PCI_ID=8086:1515/' "$d/0000:03:10.4/uevent"
	run "$VFCTL" --sysfs-root "$u/sys" show 0000:03:10.4 --json
	[ "$(echo "$output" | jq -r '.functions[0].device_id')" = 1515 ]
}

@test "the environment variable points vfctl at a tree too" {
	VFCTL_SYSFS_ROOT=$FIXTURES/82576/sys run "$VFCTL" list --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.pfs[0].device_id')" = 10c9 ]
	# the option wins over the environment
	VFCTL_SYSFS_ROOT=$FIXTURES/82576/sys run "$VFCTL" --sysfs-root "$FIXTURES/82599-8vf/sys" list --json
	[ "$(echo "$output" | jq -r '.pfs[0].device_id')" = 10fb ]
}

@test "list filters: a PF's tree, one VF as PF:INDEX, a driver, a NUMA node" {
	run vf 82599-8vf list --pf enp3s0f1
	[ "$status" -eq 0 ]
	[[ "$output" == *"0000:03:00.1 [8086:10fb]"* ]]
	[[ "$output" != *"0000:03:00.0 [8086:10fb]"* ]]
	run vf 82599-8vf --json list enp3s0f0:3
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.pfs[].vfs[].address] | join(" ")' <<<"$output")" = 0000:03:10.6 ]
	[ "$(jq -r '[.pfs[].address] | join(" ")' <<<"$output")" = 0000:03:00.0 ]
	# vfio: the one VF on vfio-pci, under its PF; host: every other VF
	run vf 82599-8vf --json list --driver vfio
	[ "$(jq -r '[.pfs[].vfs[].address] | join(" ")' <<<"$output")" = 0000:03:11.6 ]
	run vf 82599-8vf --json list --driver host
	[ "$(jq -r '[.pfs[].vfs[].driver] | unique | join(" ")' <<<"$output")" = ixgbevf ]
	[ "$(jq -r '[.pfs[].vfs[]] | length' <<<"$output")" = 7 ]
	run vf 82599-8vf list --numa 1
	[ "$status" -eq 0 ]
	[[ "$output" == *"No SR-IOV function matches (2 PFs on this host; 'vfctl list' shows them all)"* ]]
}

@test "list --brief: one self-contained line per function, the same facts in JSON" {
	run vf 82599-8vf list --brief
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 10 ]	# 2 PFs, 8 VFs, no header
	[[ "${lines[1]}" == "0000:03:10.0  vf 0 of 0000:03:00.0   ixgbevf     enp3s0f0v0 "* ]]
	run vf 82599-8vf --json list -b --driver vfio
	[ "$(jq -c '.functions[] | [.address, .kind, .pf, .vf_index, .driver, .netdev, .iommu_group]' <<<"$output")" = \
		'["0000:03:11.6","vf","0000:03:00.0",7,"vfio-pci",null,37]' ]
}

@test "list/groups filters: a wrong DEV is refused, naming what to do" {
	run vf 82599-8vf list --pf 0000:03:10.0
	[ "$status" -eq 2 ]
	[[ "$output" == *"0000:03:10.0 is a VF of 0000:03:00.0, not a PF; 'vfctl list 0000:03:10.0' lists that VF alone"* ]]
	run vf 82599-8vf list enp3s0f0:8
	[ "$status" -eq 3 ]
	[[ "$output" == *"VF index 8 out of range: 0000:03:00.0 has 8 VFs (index 0-7)"* ]]
	run vf 82599-8vf list --all nosuch0
	[ "$status" -eq 3 ]
	run vf 82599-8vf list --numa x
	[ "$status" -eq 2 ]
	run vf 82599-8vf groups --pf nosuch0
	[ "$status" -eq 3 ]
}

@test "show PF:INDEX is that VF, and a VF's text names its PF" {
	run vf 82599-8vf show enp3s0f0:1
	[ "$status" -eq 0 ]
	by_index=$output
	run vf 82599-8vf show 0000:03:10.2
	[ "$output" = "$by_index" ]
	[[ "$output" == *"vf 1 of 0000:03:00.0  0000:03:10.2 [8086:10ed]"* ]]
}

@test "groups filters keep the groups with a matching member" {
	run vf shared-group --json groups --pf 0000:05:00.0
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.groups[].id] | join(" ")' <<<"$output")" = 12 ]
	run vf 82599-8vf --json groups --driver vfio
	[ "$(jq -r '[.groups[].id] | join(" ")' <<<"$output")" = 37 ]
}

@test "show and list tell who uses a VF: the holder of its group node, vfctld's lease, the saved original state; --leased and --free" {
	tree_copy 82599-8vf
	# shellcheck disable=SC2154 # run_dir, t: set by tree_copy
	mkdir -p "$run_dir/state"
	# as vfctld and bind write them (vfctld(8), lib/state.c)
	cat >"$run_dir/leases.json" <<-'J'
	{"version":1,"next":2,"leases":[{"id":"L1","state":"active","pool":"gpu","vf":"0000:03:11.6",
	 "pf":"0000:03:00.0","vf_index":7,"group":37,"uid":0,"owner":"vm1","pid":null,"pid_start":0,
	 "created":1796606290,"ttl":null,"expires":null,"bound":true,"device_id":null}]}
	J
	cat >"$run_dir/state/0000:03:10.0.json" <<-'J'
	{"address":"0000:03:10.0","driver":"ixgbevf","driver_override":null,"vf":{"pf":"0000:03:00.0",
	 "index":0,"valid":true,"mac":"02:00:00:00:00:01","pinned_mac":null,"vlan":5,"qos":0,
	 "vlan_proto":33024,"spoofchk":1,"trust":0,"min_tx_rate":0,"max_tx_rate":0}}
	J
	# a process holding the VF's group node open, as QEMU would
	sleep 60 37<"$t/dev/vfio/37" &
	holder=$!
	run vfctl show 0000:03:11.6
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\n'"        held by pid $holder (sleep) on /dev/vfio/37"$'\n'* ]]
	[[ "$output" == *$'\n'"        lease L1 (active), pool gpu, uid 0 (root), owner vm1, since "* ]]
	run vfctl --json show 0000:03:11.6
	schema_ok show
	[ "$(jq -c '.functions[0] | [.holders, .lease.id, .lease.user, .lease.pool, .saved_state]' <<<"$output")" = \
		"[[{\"pid\":$holder,\"command\":\"sleep\",\"node\":\"/dev/vfio/37\"}],\"L1\",\"root\",\"gpu\",null]" ]
	kill "$holder"
	wait "$holder" || true

	run vfctl show 0000:03:10.0
	[[ "$output" == *$'\n'"        saved: driver ixgbevf, mac 02:00:00:00:00:01, vlan 5, spoofchk on, trust off"$'\n'* ]]
	run vfctl --json show 0000:03:10.0
	schema_ok show
	[ "$(jq -c '.functions[0] | [.holders, .lease, .saved_state]' <<<"$output")" = \
		'[[],null,{"driver":"ixgbevf","driver_override":null,"mac":"02:00:00:00:00:01","vlan":5,"spoofchk":true,"trust":false}]' ]

	run vfctl list --leased --brief
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "0000:03:11.6  vf 7 of 0000:03:00.0 "* ]]
	run vfctl --json list --free
	schema_ok list
	[ "$(jq -r '[.pfs[].vfs[].address] | index("0000:03:11.6")' <<<"$output")" = null ]
	[ "$(jq -r '[.pfs[].vfs[].address] | length' <<<"$output")" -gt 0 ]
}

@test "a netdevsim software PF: listed apart with its VFs, shown by bus name, netdev and NETDEV:INDEX; what needs PCI refused" {
	run vf netdevsim --json list
	[ "$status" -eq 0 ]
	schema_ok list
	# pfs holds PCI functions only; the software PF is apart, its 4 VFs by index
	[ "$(jq -c '[.pfs[].address]' <<<"$output")" = '["0000:01:00.0","0000:01:00.1"]' ]
	[ "$(jq -c '.software_pfs[] | [.name, .bus, .driver, .netdevs[0].name, .sriov.numvfs, [.vfs[].vf_index], [.vfs[].pf]]' <<<"$output")" = \
		'["netdevsim5","netdevsim","netdevsim","eni5np1",4,[0,1,2,3],["netdevsim5","netdevsim5","netdevsim5","netdevsim5"]]' ]
	[[ $(jq -r '.software_pfs[0].vf_config_error' <<<"$output") == "not read: "*"is not the live /sys"* ]]
	for name in netdevsim5 eni5np1; do
		run vf netdevsim --json show "$name"
		[ "$status" -eq 0 ]
		schema_ok show
		[ "$(jq -c '.functions[0] | [.name, (.vfs | length)]' <<<"$output")" = '["netdevsim5",4]' ]
	done
	run vf netdevsim --json show eni5np1:3
	[ "$status" -eq 0 ]
	schema_ok show
	[ "$(jq -c '.functions[0]' <<<"$output")" = '{"vf_index":3,"kind":"vf","pf":"netdevsim5","config":null}' ]
	run vf netdevsim show eni5np1:4
	[ "$status" -ne 0 ]
	[[ $output == *"VF index 4 out of range: netdevsim5 has 4 VFs (index 0-3)"* ]]
	# listing one PCI PF leaves the software PF out, and the other way round
	run vf netdevsim --json list eni5np1
	[ "$(jq -c '[(.pfs | length), (.software_pfs | length)]' <<<"$output")" = '[0,1]' ]
	run vf netdevsim --json list enp1s0f0
	[ "$(jq -c '[(.pfs | length), (.software_pfs | length)]' <<<"$output")" = '[1,0]' ]
	# --brief: the software PF and its VFs too, apart, each VF by the PF:INDEX show takes
	run vf netdevsim --json list --brief
	[ "$status" -eq 0 ]
	schema_ok list_brief
	[ "$(jq -c '[(.functions | length), (.software_functions[] | [.name, .kind, .pf, .vf_index])]' <<<"$output")" = \
		'[4,["netdevsim5","pf",null,null],["netdevsim5:0","vf","netdevsim5",0],["netdevsim5:1","vf","netdevsim5",1],["netdevsim5:2","vf","netdevsim5",2],["netdevsim5:3","vf","netdevsim5",3]]' ]
	run vf netdevsim list --brief
	[[ "${lines[4]}" == "netdevsim5    pf (netdevsim)"*"eni5np1"*"4 VFs" ]]
	[[ "${lines[8]}" == "netdevsim5:3  vf 3 of netdevsim5"* ]]
	run vf netdevsim --json show netdevsim5:3
	[ "$(jq -c '.functions[0].vf_index' <<<"$output")" = 3 ]
	run vf netdevsim --json list --brief enp1s0f0
	[ "$(jq -c '[(.functions | length), (.software_functions | length)]' <<<"$output")" = '[3,0]' ]

	# nothing PCI: each refusal names the software PF; the tree is unchanged
	run vf netdevsim bind netdevsim5 vfio-pci
	[ "$status" -eq 5 ]
	[[ $output == *"netdevsim5 is a netdevsim software PF, no PCI function: binding a driver needs one (Operation not supported)"* ]]
	run vf netdevsim create eni5np1 2
	[ "$status" -eq 5 ]
	[[ $output == *"netdevsim5 is a netdevsim software PF"*"sriov_numvfs sets its VF count"* ]]
	run vf netdevsim qemu-args eni5np1:3
	[ "$status" -eq 5 ]
	[[ $output == *"vf 3 of netdevsim5 (a netdevsim software PF) is no PCI function: a VMM cannot be given it"* ]]
	[ "$(cat "$FIXTURES/netdevsim/sys/bus/netdevsim/devices/netdevsim5/sriov_numvfs")" = 4 ]
}
