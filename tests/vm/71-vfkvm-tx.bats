#!/usr/bin/env bats
# vfkvm's built-in guest as an igbvf driver on a real (emulated 82576) VF
# with nested KVM: the mailbox reset handshake with the igb PF, the MAC the
# PF assigned (vfctl set), one frame sent by DMA from guest RAM, seen on the
# emulated wire ($VM_WIRE, QEMU's filter-dump pcap); the TX-done interrupt
# on MSI-X vector 1; the errors when the PF is down and when RLIMIT_MEMLOCK
# is too small.

bats_require_minimum_version 1.5.0
load helpers

VFKVM=${VFKVM:-/vfctl/build/vfkvm}

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
	export VFCTL_RUN_DIR=/run/vfctl-vfkvm-tx
	rm -rf "$VFCTL_RUN_DIR"
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
}

setup() {
	vm_require
	vm_require_iommu
	[ -c /dev/kvm ] || skip "no nested /dev/kvm in this VM"
	pf=$(vm_igb_pf)
	pfdev=$(vm_pf_netdev "$pf")
	$VM_IP link set "$pfdev" up
	vm_set_numvfs "$pf" 2
	vf=$(vm_vf "$pf" 1)
	vm_wait_for 10 test -e "$VM_PCI/$vf/driver"
}

teardown() {
	[ -n "${pfdev:-}" ] && $VM_IP link set "$pfdev" up
	[ -z "${vf:-}" ] || vm_unbind_vfio "$vf"
}

# reported WHO: NAME: the value after "WHO: NAME = " in vfkvm's output
reported() {
	sed -n "s/^$* = //p" <<<"$output"
}

@test "--vf: the guest gets the MAC vfctl set assigned through the VF mailbox and its frame reaches the wire" {
	mac=02:76:66:6b:76:6d
	vfctl set "$pf:1" mac "$mac"
	vfctl bind "$vf" >/dev/null
	before=$(vm_wire_frames "$mac")
	run --separate-stderr "$VFKVM" --vf "$vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# an 82576 VF has 3 MSI-X vectors: each has its irqfd and guest vector
	[[ "$output" == *"vfio: $vf MSI-X vector 0 of 3 -> irqfd gsi 24 -> vector 0x40"* ]]
	[[ "$output" == *"vfio: $vf MSI-X vector 1 of 3 -> irqfd gsi 25 -> vector 0x41"* ]]
	[[ "$output" == *"vfio: $vf MSI-X vector 2 of 3 -> irqfd gsi 26 -> vector 0x42"* ]]
	# the PF answered E1000_VF_RESET with ACK (CTS may ride along) and the
	# MAC it holds for VF 1
	reply=$(reported guest: vf.reply)
	[[ "$reply" =~ ^0x[0-9a-f]+$ ]]
	(( (reply & ~0x20000000) == 0x80000001 ))
	[ "$(reported guest: vf.mac)" = "$mac" ]
	# the descriptor came back done (DD), the head moved past it, the VF
	# counted one packet and MSI-X vector 1 (TX queue 0) interrupted once
	txs=$(reported guest: vf.tx.status)
	[[ "$txs" =~ ^0x[0-9a-f]+$ ]]
	(( txs & 1 ))
	[ "$(reported guest: vf.tx.head)" = 0x1 ]
	[ "$(reported guest: vf.tx.packets)" = 0x1 ]
	[ "$(reported guest: vf.tx.irq)" = 0x1 ]
	# and the frame is on the wire, once more than before
	vm_wait_for 5 vm_wire_frames_are "$mac" $((before + 1))
}

@test "--vf on the iommufd kernel (--iommu auto): the cdev bound to iommufd, guest RAM mapped in an IOAS, and the guest's frame reaches the wire" {
	vm_require_iommufd
	mac=02:76:66:6b:76:1f
	vfctl set "$pf:1" mac "$mac"
	vfctl bind "$vf" >/dev/null
	before=$(vm_wire_frames "$mac")
	run --separate-stderr "$VFKVM" --vf "$vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	grp=$(vm_iommu_group "$vf")
	[[ "$output" == *"vfio: $vf in group $grp, cdev bound to iommufd, IOAS attached"* ]]
	[[ "$output" != *"container type1v2"* ]]
	[[ "$output" == *"vfio: $vf MSI-X vector 1 of 3 -> irqfd gsi 25 -> vector 0x41"* ]]
	[ "$(reported guest: vf.mac)" = "$mac" ]
	[ "$(reported guest: vf.tx.head)" = 0x1 ]
	[ "$(reported guest: vf.tx.packets)" = 0x1 ]
	[ "$(reported guest: vf.tx.irq)" = 0x1 ]
	# the VF read the frame from guest RAM through the IOAS mapping
	vm_wait_for 5 vm_wire_frames_are "$mac" $((before + 1))
	# and closed it all: the legacy path opens the same VF right after
	run --separate-stderr "$VFKVM" --vf "$vf" --iommu legacy
	[ "$status" -eq 0 ]
	[[ "$output" == *"vfio: $vf in group $grp, container type1v2"* ]]
}

@test "--iommu iommufd on Debian's stock VFIO: refused with the reason, nothing left open; auto takes the container" {
	vm_require_no_iommufd
	vfctl bind "$vf" >/dev/null
	run --separate-stderr "$VFKVM" --vf "$vf" --iommu iommufd
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "vfkvm: --iommu iommufd: $vf has no VFIO device cdev or this kernel no /dev/iommu"*"use --iommu legacy (or auto)"* ]]
	[[ "$output" != *"guest:"* ]]
	# the group was let go: the container path works at once
	run --separate-stderr "$VFKVM" --vf "$vf"
	[ "$status" -eq 0 ]
	[[ "$output" == *"vfio: $vf in group $(vm_iommu_group "$vf"), container type1v2"* ]]
}

@test "--vf twice: the mailbox handshake works again after vfkvm's own reset; the new MAC is used" {
	vfctl set "$pf:1" mac 02:76:66:6b:76:01
	vfctl bind "$vf" >/dev/null
	run --separate-stderr "$VFKVM" --vf "$vf"
	[ "$status" -eq 0 ]
	[ "$(reported guest: vf.mac)" = 02:76:66:6b:76:01 ]
	vfctl set "$pf:1" mac 02:76:66:6b:76:02
	before=$(vm_wire_frames 02:76:66:6b:76:02)
	run --separate-stderr "$VFKVM" --vf "$vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(reported guest: vf.mac)" = 02:76:66:6b:76:02 ]
	vm_wait_for 5 vm_wire_frames_are 02:76:66:6b:76:02 $((before + 1))
}

@test "--vf with the PF down: the PF's reset indication stays, a guest failure that says to bring the PF up" {
	vfctl bind "$vf" >/dev/null
	$VM_IP link set "$pfdev" down
	run --separate-stderr "$VFKVM" --vf "$vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	# igb's down path resets the PF: RSTI (0x40) in V2PMAILBOX until it is up
	(( $(reported guest: vf.rst) & 0x40 ))
	[[ "$stderr" == "vfkvm: guest failure on $vf: VF mailbox: the PF still signals a reset in progress (V2PMAILBOX RSTI) after 2 s: bring the PF's interface up (ip link set PF up) (value 0x"*")" ]]
	[[ "$output" != *"guest: vf.mac"* ]]
	[[ "$output" != *"guest: vf.tx"* ]]
}

@test "--vf on fresh VFs with no MAC set: the PF NACKs VF_RESET, the guest sends from its own address" {
	vm_set_numvfs "$pf" 0
	vm_set_numvfs "$pf" 2
	[ "$(vm_vf "$pf" 1)" = "$vf" ]
	vm_wait_for 10 test -e "$VM_PCI/$vf/driver"
	# bound by hand: vfctl bind would pin the VF's current MAC as admin MAC
	vm_bind_vfio "$vf"
	before=$(vm_wire_frames 02:76:66:6b:76:00)
	run --separate-stderr "$VFKVM" --vf "$vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	reply=$(reported guest: vf.reply)
	(( (reply & ~0x20000000) == 0x40000001 ))
	[ "$(reported guest: vf.mac)" = 00:00:00:00:00:00 ]
	[ "$(reported guest: vf.tx.packets)" = 0x1 ]
	vm_wait_for 5 vm_wire_frames_are 02:76:66:6b:76:00 $((before + 1))
}

@test "--vf without CAP_IPC_LOCK and a small RLIMIT_MEMLOCK: refused before the guest starts, with the limit to set" {
	command -v setpriv >/dev/null || skip "no setpriv (util-linux) in this VM"
	vfctl bind "$vf" >/dev/null
	run --separate-stderr bash -c "ulimit -l 1024 && exec setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock $VFKVM --vf $vf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: RLIMIT_MEMLOCK is 1024 KiB but device DMA pins all 65536 KiB of guest RAM: raise it (ulimit -l 65536, LimitMEMLOCK= in a unit) or run with CAP_IPC_LOCK" ]
	[ -z "$output" ]
	# with the limit raised the same run works
	run --separate-stderr bash -c "ulimit -l 65536 && exec setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock $VFKVM --vf $vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(reported guest: vf.tx.packets)" = 0x1 ]
}
