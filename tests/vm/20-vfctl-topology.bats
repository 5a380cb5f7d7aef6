#!/usr/bin/env bats
# vfctl list/show/groups against the real kernel: the emulated 82576 (igb)
# PF, its VFs, real IOMMU groups, real netlink VF settings, real vfio-pci.

load helpers

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
}

setup() {
	vm_require
	pf=$(vm_igb_pf)
	pfdev=$(vm_pf_netdev "$pf")
}

# jq over `vfctl list --json`, selecting the igb PF
pfjq() {
	vfctl list --json | jq -e -r --arg pf "$pf" ".pfs[] | select(.address == \$pf) | $1"
}

@test "vfctl list --json shows the igb PF with its totalvfs, driver, group and netdev" {
	vm_set_numvfs "$pf" 0
	run vfctl list --json
	[ "$status" -eq 0 ]
	[ "$(pfjq .vendor_id)" = 8086 ]
	[ "$(pfjq .device_id)" = 10c9 ]
	[ "$(pfjq .kind)" = pf ]
	[ "$(pfjq .driver)" = igb ]
	[ "$(pfjq .sriov.totalvfs)" = "$(cat "$VM_PCI/$pf/sriov_totalvfs")" ]
	[ "$(pfjq .sriov.numvfs)" = 0 ]
	[ "$(pfjq .sriov.vf_device_id)" = 10ca ]
	[ "$(pfjq '.vfs | length')" = 0 ]
	[ "$(pfjq '.netdevs[0].name')" = "$pfdev" ]
	[ "$(pfjq '.netdevs[0].mac')" = "$(cat "$VM_PCI/$pf/net/$pfdev/address")" ]
	# libpci names it from pci.ids
	pfjq .device | grep -q 82576
	if [ "${VFCTL_VM_IOMMU:-1}" = 1 ]; then
		[ "$(pfjq .iommu_group)" = "$(vm_iommu_group "$pf")" ]
		[ "$(vfctl list --json | jq -r .host.iommu.present)" = true ]
		[ "$(vfctl list --json | jq -r .host.vfio.container)" = true ]
	fi
}

@test "after 4 VFs are created vfctl shows them (8086:10ca, igbvf, their groups), as lspci does" {
	vm_set_numvfs "$pf" 4
	vm_wait_for 10 test -e "$VM_PCI/$(vm_vf "$pf" 3)/driver"
	[ "$(pfjq .sriov.numvfs)" = 4 ]
	[ "$(pfjq '.vfs | length')" = 4 ]
	# the real peer agrees on the count
	[ "$(lspci -D -n -d 8086:10ca | wc -l)" = 4 ]
	for i in 0 1 2 3; do
		vf=$(vm_vf "$pf" "$i")
		[ "$(pfjq ".vfs[$i].address")" = "$vf" ]
		[ "$(pfjq ".vfs[$i].vf_index")" = "$i" ]
		[ "$(pfjq ".vfs[$i].kind")" = vf ]
		[ "$(pfjq ".vfs[$i].pf")" = "$pf" ]
		[ "$(pfjq ".vfs[$i].device_id")" = 10ca ]
		[ "$(pfjq ".vfs[$i].driver")" = igbvf ]
		if [ "${VFCTL_VM_IOMMU:-1}" = 1 ]; then
			[ "$(pfjq ".vfs[$i].iommu_group")" = "$(vm_iommu_group "$vf")" ]
		fi
	done
	run vfctl list
	[ "$status" -eq 0 ]
	[[ "$output" == *"$pf [8086:10c9]"* ]]
	[[ "$output" == *"sriov 4 of $(cat "$VM_PCI/$pf/sriov_totalvfs") VFs"* ]]
	[[ "$output" == *"vf 3  $(vm_vf "$pf" 3) [8086:10ca]"* ]]
}

@test "VF settings made with ip link appear in vfctl's netlink view" {
	vm_set_numvfs "$pf" 4
	# igb checks max_tx_rate against the link speed: bring the link up first
	$VM_IP link set "$pfdev" up
	vm_wait_for 10 grep -qx 1000 "$VM_PCI/$pf/net/$pfdev/speed"
	$VM_IP link set "$pfdev" vf 0 mac 02:11:22:33:44:55
	$VM_IP link set "$pfdev" vf 1 vlan 100 qos 3
	$VM_IP link set "$pfdev" vf 2 spoofchk off
	$VM_IP link set "$pfdev" vf 3 trust on
	$VM_IP link set "$pfdev" vf 3 max_tx_rate 100
	[ "$(pfjq '.vfs[0].config.mac')" = 02:11:22:33:44:55 ]
	[ "$(pfjq '.vfs[1].config.vlan')" = 100 ]
	[ "$(pfjq '.vfs[1].config.qos')" = 3 ]
	[ "$(pfjq '.vfs[1].config.vlan_proto')" = 802.1Q ]
	[ "$(pfjq '.vfs[2].config.spoofchk')" = false ]
	[ "$(pfjq '.vfs[0].config.spoofchk')" = true ]
	[ "$(pfjq '.vfs[3].config.trust')" = true ]
	[ "$(pfjq '.vfs[3].config.max_tx_rate')" = 100 ]
	# ip agrees with what vfctl read
	$VM_IP link show "$pfdev" | grep -q "vf 0 .*02:11:22:33:44:55"
	run vfctl show "$(vm_vf "$pf" 0)"
	[ "$status" -eq 0 ]
	[[ "$output" == *"mac 02:11:22:33:44:55"* ]]
}

@test "vfctl show finds a device by netdev name and by short address" {
	run vfctl show --json "$pfdev"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.functions[0].address')" = "$pf" ]
	run vfctl show --json "${pf#0000:}"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.functions[0].address')" = "$pf" ]
}

@test "vfctl groups: a VF on igbvf blocks its group; bound to vfio-pci it is viable" {
	vm_require_iommu
	vm_set_numvfs "$pf" 2
	vf=$(vm_vf "$pf" 1)
	vm_wait_for 10 test -e "$VM_PCI/$vf/driver"
	grp=$(vm_iommu_group "$vf")
	gjq() { vfctl groups --json | jq -e -r --argjson g "$grp" ".groups[] | select(.id == \$g) | $1"; }
	[ "$(gjq .viable)" = false ]
	[ "$(gjq '.blockers[0]')" = "$vf" ]
	gjq .reason | grep -qF "$vf (igbvf)"
	vm_bind_vfio "$vf"
	[ "$(gjq .viable)" = true ]
	[ "$(gjq .dev_node)" = true ]
	[ "$(gjq '.members[0].driver')" = vfio-pci ]
	run vfctl groups
	[ "$status" -eq 0 ]
	[[ "$output" == *"group $grp  viable for VFIO, /dev/vfio/$grp"* ]]
	vm_unbind_vfio "$vf"
}

@test "a PF with its driver unbound: shown with no driver and no netdev, exit 0" {
	vm_set_numvfs "$pf" 0
	echo "$pf" >/sys/bus/pci/drivers/igb/unbind
	run vfctl list --json
	echo "$pf" >/sys/bus/pci/drivers/igb/bind
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r --arg pf "$pf" '.pfs[] | select(.address == $pf) | .driver')" = null ]
	[ "$(echo "$output" | jq -r --arg pf "$pf" '.pfs[] | select(.address == $pf) | .netdevs | length')" = 0 ]
}

@test "bad input in the VM: unknown device, malformed address, bad root" {
	run vfctl show 0000:09:1f.7
	[ "$status" -eq 3 ]
	[[ "$output" == *"0000:09:1f.7: no such PCI function"* ]]
	run vfctl show 'eth0/../x'
	[ "$status" -eq 1 ]
	[[ "$output" == *"neither a PCI address"* ]]
	run vfctl --sysfs-root /nonexistent list
	[ "$status" -eq 3 ]
	[[ "$output" == *"/nonexistent: No such file or directory"* ]]
	run vfctl frobnicate
	[ "$status" -eq 2 ]
}
