#!/usr/bin/env bats
# Smoke test of the VM itself: the kernel features every other VM suite
# relies on (IOMMU, igb SR-IOV PF and VFs, netlink VF config, VFIO).

load helpers

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	pf=$(vm_igb_pf)
	export pf
	vm_reset_igb
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	# Leave no VFs behind for the next suite.
	vm_reset_igb
}

setup() {
	vm_require
}

@test "an IOMMU is present with IOMMU groups" {
	vm_require_iommu
	[ -n "$(ls /sys/class/iommu)" ]
	ngroups=$(find /sys/kernel/iommu_groups -mindepth 1 -maxdepth 1 | wc -l)
	[ "$ngroups" -ge 1 ]
	# The PF belongs to a group that lists it.
	grp=$(vm_iommu_group "$pf")
	[ -e "/sys/kernel/iommu_groups/$grp/devices/$pf" ]
}

@test "the igb PF 8086:10c9 is present, bound to igb, SR-IOV capable" {
	[ -n "$pf" ]
	[ "$(vm_driver "$pf")" = igb ]
	total=$(cat "$VM_PCI/$pf/sriov_totalvfs")
	[ "$total" -ge 1 ]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 0 ]
	[ -n "$(vm_pf_netdev "$pf")" ]
}

@test "writing 4 to sriov_numvfs creates 4 igbvf VFs 8086:10ca" {
	vm_set_numvfs "$pf" 0
	echo 4 >"$VM_PCI/$pf/sriov_numvfs"
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ]
	run vm_vfs "$pf"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ ! -e "$VM_PCI/$pf/virtfn4" ]
	for vf in "${lines[@]}"; do
		[ "$(cat "$VM_PCI/$vf/vendor")" = 0x8086 ]
		[ "$(cat "$VM_PCI/$vf/device")" = 0x10ca ]
		[ "$(readlink -f "$VM_PCI/$vf/physfn")" = "$(readlink -f "$VM_PCI/$pf")" ]
		[ "$(vm_driver "$vf")" = igbvf ]
		if [ "${VFCTL_VM_IOMMU:-1}" = 1 ]; then
			vm_iommu_group "$vf"
		fi
	done
}

@test "ip link sets a VF MAC through the igb PF" {
	vm_set_numvfs "$pf" 4
	dev=$(vm_pf_netdev "$pf")
	$VM_IP link set "$dev" vf 0 mac 02:11:22:33:44:55
	run $VM_IP link show "$dev"
	[ "$status" -eq 0 ]
	[[ $output == *"vf 0"*"link/ether 02:11:22:33:44:55"* ]]
}

@test "vfio-pci is loaded and /dev/vfio/vfio exists" {
	[ -d /sys/module/vfio_pci ]
	[ -d /sys/module/vfio_iommu_type1 ]
	[ -c /dev/vfio/vfio ]
}

@test "a VF binds to vfio-pci and gets /dev/vfio/<group>" {
	vm_require_iommu
	vm_set_numvfs "$pf" 4
	vf=$(vm_vf "$pf" 1)
	vm_bind_vfio "$vf"
	[ "$(vm_driver "$vf")" = vfio-pci ]
	[ -c "/dev/vfio/$(vm_iommu_group "$vf")" ]
	vm_unbind_vfio "$vf"
	[ "$(vm_driver "$vf")" = igbvf ]
}

@test "iommufd boot: /dev/iommu, and a VF on vfio-pci has its cdev /dev/vfio/devices/vfioN" {
	vm_require_iommufd
	[ -d /sys/module/iommufd ]
	[ -c /dev/iommu ]
	# the rebuilt modules still offer the legacy container, for the same VF
	[ -c /dev/vfio/vfio ]
	vm_set_numvfs "$pf" 4
	vf=$(vm_vf "$pf" 1)
	vm_bind_vfio "$vf"
	cdev=$(ls "$VM_PCI/$vf/vfio-dev")
	[[ "$cdev" == vfio[0-9]* ]]
	[ -c "/dev/vfio/devices/$cdev" ]
	[ -c "/dev/vfio/$(vm_iommu_group "$vf")" ]
	vm_unbind_vfio "$vf"
	[ ! -e "/dev/vfio/devices/$cdev" ]
}

@test "stock boot: Debian's VFIO has no cdev and no /dev/iommu" {
	vm_require_no_iommufd
	vm_require_iommu
	[ ! -e /dev/iommu ]
	vm_set_numvfs "$pf" 4
	vf=$(vm_vf "$pf" 1)
	vm_bind_vfio "$vf"
	# sysfs may list vfio-dev/vfioN, but with no dev number: no node
	[ ! -e /dev/vfio/devices ]
	[ -z "$(find "$VM_PCI/$vf/" -path '*/vfio-dev/vfio*/dev' 2>/dev/null)" ]
	vm_unbind_vfio "$vf"
}

@test "nested KVM: kvm_amd is loaded and /dev/kvm exists" {
	# QEMU's TCG -cpu max exposes AMD SVM, so the VM can run its own guests.
	[ -d /sys/module/kvm_amd ]
	[ -c /dev/kvm ]
}
