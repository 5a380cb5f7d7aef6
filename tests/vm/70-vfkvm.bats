#!/usr/bin/env bats
# vfkvm --vf on a real igb VF bound to vfio-pci, with nested KVM (kvm_amd):
# the VFIO container/group/device chain, guest RAM DMA-mapped, BAR0 as a
# memory slot the guest reads at ring 3, clean teardown, and the errors.

bats_require_minimum_version 1.5.0
load helpers

VFKVM=${VFKVM:-/vfctl/build/vfkvm}

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
	vm_require_iommu
	[ -c /dev/kvm ] || skip "no nested /dev/kvm in this VM"
	pf=$(vm_igb_pf)
	$VM_IP link set "$(vm_pf_netdev "$pf")" up
	vm_set_numvfs "$pf" 2
	vf=$(vm_vf "$pf" 1)
	vm_wait_for 10 test -e "$VM_PCI/$vf/driver"
	grp=$(vm_iommu_group "$vf")
}

teardown() {
	[ -z "${vf:-}" ] || vm_unbind_vfio "$vf"
}

# reported WHO: NAME: the value after "WHO: NAME = " in vfkvm's output
reported() {
	sed -n "s/^$* = //p" <<<"$output"
}

@test "--vf: the guest reads the VF's STATUS through the BAR0 slot; the host reads the same" {
	vm_bind_vfio "$vf"
	run --separate-stderr "$VFKVM" --vf "$vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# --iommu auto: the IOAS where the kernel has iommufd, else the container
	[[ "$output" == *"vfio: $vf in group $grp, $(vm_vfio_path_line)"* ]]
	[[ "$output" == *"vfio: $vf device fd: "*" regions, "*" irqs"* ]]
	# the guest's driver goes by the device id: igbvf for the 82576's VF
	[[ "$output" == *"vfio: $vf is 8086:10ca (82576 VF): built-in guest driver igbvf"* ]]
	[[ "$output" == *"vfio: guest RAM DMA-mapped: iova 0x0-0x3ffffff"* ]]
	[[ "$output" == *"vfio: $vf BAR0 16 KiB mmapped at gpa 0xfebf0000 (slot "* ]]
	cmd=$(sed -n "s/^vfio: $vf bus mastering on (command 0x\(....\))$/\1/p" <<<"$output")
	[ -n "$cmd" ]
	(( (0x$cmd & 0x6) == 0x6 ))
	g=$(reported guest: vf.status)
	h=$(reported host: vf.status)
	[[ "$g" =~ ^0x[0-9a-f]+$ ]]
	[[ "$h" =~ ^0x[0-9a-f]+$ ]]
	# the guest's read through its memory slot and the host's pread on the
	# device fd agree, and the BAR answered (an absent device reads all ones)
	[ "$g" = "$h" ]
	[ "$g" != 0xffffffff ]
}

@test "--vf: the VF's MSI-X vector 0 reaches the guest through VFIO_DEVICE_SET_IRQS and an irqfd" {
	vm_bind_vfio "$vf"
	run --separate-stderr "$VFKVM" --vf "$vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == *"vfio: $vf MSI-X vector 0 of "*" -> irqfd gsi 24 -> vector 0x40"* ]]
	# the guest set cause 0 (EICS) with it unmasked (EIMS) and counted one
	# interrupt in its vector 0x40 handler
	[ "$(reported guest: vf.msix)" = 0x1 ]
}

@test "--vf: BAR3 (the MSI-X table) is a read-only slot: the guest reads the table and the PBA, its write is dropped" {
	vm_bind_vfio "$vf"
	run --separate-stderr "$VFKVM" --vf "$vf"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == *"vfio: $vf BAR3 16 KiB mmapped at gpa 0xfe300000 (slot "*"), read-only: MSI-X"* ]]
	[[ "$output" == *"vfio: $vf guest write to the MSI-X table (BAR3 offset 0x0) dropped: vfkvm wires the vectors"* ]]
	# entry 0's message address as VFIO programmed it (an MSI address,
	# read through the slot: VFIO's pread shows all ones for the table):
	# the guest's zero never reached the table
	g=$(reported guest: "vf.bar3\[0\]")
	[[ "$g" =~ ^0x[0-9a-f]+$ ]]
	(( (g & 0xfff00000) == 0xfee00000 ))
	# the PBA through the slot and through the device fd agree
	g=$(reported guest: "vf.bar3\[0x2000\]")
	h=$(reported host: "vf.bar3\[0x2000\]")
	[[ "$g" =~ ^0x[0-9a-f]+$ ]]
	[ "$g" = "$h" ]
	# and the vectors still work after it: TX-done on vector 1
	[ "$(reported guest: vf.tx.irq)" = 0x1 ]
}

@test "--vf: teardown releases group and container: a second run works, the VF goes back to igbvf" {
	vm_bind_vfio "$vf"
	run --separate-stderr "$VFKVM" --vf "$vf"
	[ "$status" -eq 0 ]
	run --separate-stderr "$VFKVM" --vf "$vf"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# vfkvm clears bus mastering before it closes the device
	cmd=$(setpci -s "$vf" COMMAND)
	(( (0x$cmd & 0x4) == 0 ))
	vm_unbind_vfio "$vf"
	vm_wait_for 10 test "$(vm_driver "$vf")" = igbvf
	[ ! -e "/dev/vfio/$grp" ]
}

@test "--vf on a VF its driver still holds: say to bind it to vfio-pci" {
	[ "$(vm_driver "$vf")" = igbvf ]
	run --separate-stderr "$VFKVM" --vf "$vf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: $vf is bound to igbvf, not vfio-pci: bind it to vfio-pci (vfctl bind) to use it with VFIO" ]
}

@test "--vf on an address with no function, and one that is not an address" {
	run --separate-stderr "$VFKVM" --vf 0000:01:1f.7
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: /sys/bus/pci/devices/0000:01:1f.7: No such file or directory; 0000:01:1f.7 is no PCI function of this host (vfctl list shows them)" ]
	run --separate-stderr "$VFKVM" --vf 01:10
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfkvm: --vf 01:10: not a PCI address (e.g. 0000:01:10.0)" ]
}

# The DMA map figure: guest RAM pinned and mapped for the VF, by each VFIO
# path this kernel has, 64 and 512 MiB, 4 KiB and 2 MiB pages; prefault
# reported apart. Printed as figures (TAP comments and /out/dma-map.txt),
# never asserted: these machines are shared and slow (TCG).
@test "figures: DMA map time of guest RAM, container vs IOAS, 64 and 512 MiB, 4 KiB and 2 MiB pages" {
	vm_bind_vfio "$vf"
	paths=(legacy)
	[ "${VFCTL_VM_IOMMUFD:-0}" != 1 ] || paths+=(iommufd)
	out=/out/dma-map-$(uname -r).txt
	[ -d /out ] || out=$BATS_TEST_TMPDIR/dma-map.txt
	echo "kernel $(uname -r), QEMU/TCG VM, $(nproc) vCPUs" >"$out"
	for pages in 4k 2m; do
		for mem in 64 512; do
			opt=()
			if [ "$pages" = 2m ]; then
				echo $((mem / 2)) >/proc/sys/vm/nr_hugepages
				if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt $((mem / 2)) ]; then
					echo "# figure: ${mem} MiB in 2 MiB pages: only $(cat /proc/sys/vm/nr_hugepages) pages could be reserved" >&3
					continue
				fi
				opt=(--hugepages)
			fi
			for p in "${paths[@]}"; do
				run --separate-stderr "$VFKVM" --vf "$vf" --mem "${mem}M" --iommu "$p" "${opt[@]}"
				[ "$status" -eq 0 ] || { echo "$output"; echo "$stderr"; false; }
				line=$(grep '^vfio: guest RAM DMA-mapped:' <<<"$output")
				want=VFIO_IOMMU_MAP_DMA
				[ "$p" = legacy ] || want=IOMMU_IOAS_MAP
				size="4 KiB"
				[ "$pages" = 4k ] || size="2 MiB"
				[[ "$line" == *"($mem MiB of $size pages by $want in "* ]]
				fig=${line#*" pages by "}
				fig=${fig%)}
				echo "# figure: $mem MiB, $size pages: $fig" >&3
				echo "$mem MiB, $size pages: $fig" >>"$out"
			done
			echo 0 >/proc/sys/vm/nr_hugepages
		done
	done
}

# Guest RAM is prefaulted only for a device's DMA or on request: no prefault
# line for the stand-in BAR, one with --prefault and with --vf. Start-to-exit
# times printed as figures, never asserted.
@test "figures: prefault only with --vf or --prefault; 64 vs 512 MiB start to exit" {
	local mem t0 t1
	for mem in 64 512; do
		t0=$(date +%s%N)
		run --separate-stderr "$VFKVM" --stand-in-bar --mem "${mem}M"
		t1=$(date +%s%N)
		[ "$status" -eq 0 ]
		[[ "$output" != *"prefaulted"* ]]
		echo "# figure: vfkvm --stand-in-bar --mem ${mem}M, no prefault: $(((t1 - t0) / 1000000)) ms exec to exit" >&3
	done
	run --separate-stderr "$VFKVM" --stand-in-bar --mem 512M --prefault
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "vfkvm: guest RAM prefaulted: 512 MiB of 4 KiB pages in "*" ms" ]]
	echo "# figure: ${lines[0]}" >&3
	vm_bind_vfio "$vf"
	run --separate-stderr "$VFKVM" --vf "$vf" --mem 64M
	[ "$status" -eq 0 ]
	[[ "$output" == *"vfkvm: guest RAM prefaulted: 64 MiB of 4 KiB pages in "* ]]
}
