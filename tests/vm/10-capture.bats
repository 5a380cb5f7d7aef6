#!/usr/bin/env bats
# tests/fixtures/capture against the live kernel: the snapshot must extract
# with every link resolving, read the same as the live sysfs through libpci,
# and be reproducible.

load helpers

CAPTURE=/vfctl/tests/fixtures/capture

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	pf=$(vm_igb_pf)
	vm_reset_igb
	vm_set_numvfs "$pf" 2
	if [ "${VFCTL_VM_IOMMU:-1}" = 1 ]; then
		vm_bind_vfio "$(vm_vf "$pf" 1)"
	fi
	snap=$BATS_FILE_TMPDIR/snap
	mkdir -p "$snap"
	"$CAPTURE" "$BATS_FILE_TMPDIR/snap.tar.xz"
	tar -C "$snap" -xf "$BATS_FILE_TMPDIR/snap.tar.xz"
	export pf snap
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
}

setup() {
	vm_require
}

@test "capture: every PCI function is there and every link resolves" {
	[ -d "$snap/sys" ] && [ -d "$snap/dev" ]
	live=$(ls /sys/bus/pci/devices)
	[ "$(ls "$snap/sys/bus/pci/devices")" = "$live" ]
	for d in "$snap"/sys/bus/pci/devices/*; do
		[ -f "$d/config" ] && [ -f "$d/vendor" ]
	done
	run find "$snap" -xtype l
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "capture: attributes hold the live values" {
	s=$snap/sys/bus/pci/devices/$pf
	[ "$(cat "$s/sriov_numvfs")" = 2 ]
	[ "$(cat "$s/sriov_totalvfs")" = "$(cat "$VM_PCI/$pf/sriov_totalvfs")" ]
	cmp "$s/config" "$VM_PCI/$pf/config"
	[ "$(readlink "$s/driver")" = "$(readlink "$VM_PCI/$pf/driver")" ]
	[ "$(readlink "$s/virtfn1")" = "$(readlink "$VM_PCI/$pf/virtfn1")" ]
	dev=$(vm_pf_netdev "$pf")
	[ "$(cat "$s/net/$dev/address")" = "$(cat "/sys/class/net/$dev/address")" ]
}

@test "capture: lspci reads it like the live sysfs" {
	live=$(lspci -nn -k)
	snapped=$(lspci -A linux-sysfs -O "sysfs.path=$snap/sys/bus/pci" -nn -k)
	[ "$snapped" = "$live" ]
	[[ $snapped == *"82576 Virtual Function [8086:10ca]"* ]]
}

@test "capture: IOMMU groups, units and /dev/vfio nodes" {
	vm_require_iommu
	vf=$(vm_vf "$pf" 1)
	grp=$(vm_iommu_group "$vf")
	[ -e "$snap/sys/kernel/iommu_groups/$grp/devices/$vf" ]
	[ "$(ls "$snap/sys/kernel/iommu_groups")" = "$(ls /sys/kernel/iommu_groups)" ]
	[ -n "$(ls "$snap/sys/class/iommu")" ]
	[ -f "$snap/dev/vfio/vfio" ] && [ -f "$snap/dev/vfio/$grp" ]
	[ "$(cat "$snap/sys/bus/pci/devices/$vf/driver_override")" = vfio-pci ]
}

@test "capture: re-capturing an extracted capture is byte-identical" {
	"$CAPTURE" -r "$snap/sys" -d "$snap/dev" "$BATS_TEST_TMPDIR/again.tar.xz"
	cmp "$BATS_FILE_TMPDIR/snap.tar.xz" "$BATS_TEST_TMPDIR/again.tar.xz"
}
