# Helpers for the VM suites (tests/vm/*.bats): `load helpers` in a suite.
# Also usable from VFCTL_VM_CMD: `. /vfctl/tests/vm/helpers.bash`.
#
# The VM (tests/vm/run) has an emulated 82576 igb PF (8086:10c9) at
# 0000:01:00.0 with up to 7 VFs (8086:10ca, igbvf), an e1000e without SR-IOV
# at 0000:02:00.0, and an intel-iommu unless booted with --no-iommu
# (then VFCTL_VM_IOMMU=0). Always call iproute2 as $VM_IP (/usr/sbin/ip):
# never a bare `ip`, which a busybox shell would take for its own applet.

# shellcheck disable=SC2034 # used by the suites
VM_IP=/usr/sbin/ip
VM_PCI=/sys/bus/pci/devices
# What the igb NIC (PF and VFs) put on the wire, as QEMU's filter-dump
# records it (pcap); the host's output dir is shared as /out.
# shellcheck disable=SC2034 # used by the suites
VM_WIRE=/out/wire.pcap

# Skip unless running inside the test VM.
vm_require() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || skip "needs the test VM (tests/vm/run)"
}

# Skip when the VM was booted without an IOMMU.
vm_require_iommu() {
	[ "${VFCTL_VM_IOMMU:-1}" = 1 ] || skip "VM booted without an IOMMU"
}

# Skip unless the VM was booted with iommufd and the VFIO device cdev (the
# 6.12 stage builds them; Debian's stock kernels, 6.1 included, have neither).
vm_require_iommufd() {
	vm_require_iommu
	[ "${VFCTL_VM_IOMMUFD:-0}" = 1 ] ||
		skip "kernel $(uname -r) booted with Debian's VFIO modules: no iommufd or VFIO cdev (VFCTL_VM_IOMMUFD=1 on 6.6+)"
}

# Skip on the iommufd boot: for tests of the stock legacy-only VFIO.
vm_require_no_iommufd() {
	[ "${VFCTL_VM_IOMMUFD:-0}" != 1 ] || skip "this boot has iommufd and the VFIO cdev"
}

# How vfkvm --iommu auto sets up a VF's DMA on this boot, as its vfio: line
# says after "in group N, ".
vm_vfio_path_line() {
	if [ "${VFCTL_VM_IOMMUFD:-0}" = 1 ]; then
		echo "cdev bound to iommufd, IOAS attached"
	else
		echo "container type1v2"
	fi
}

# vm_find_pci VENDOR DEVICE: PCI addresses of matching functions, sorted.
# IDs as sysfs shows them: 0x8086 0x10c9.
vm_find_pci() {
	local d
	for d in "$VM_PCI"/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
			echo "${d##*/}"
		fi
	done | LC_ALL=C sort
}

# vm_igb_pf: the igb PF's PCI address (fails if there is none).
vm_igb_pf() {
	local pf
	pf=$(vm_find_pci 0x8086 0x10c9 | head -n1)
	[ -n "$pf" ] || { echo "vm_igb_pf: no 8086:10c9 device" >&2; return 1; }
	echo "$pf"
}

# vm_pf_netdev [BDF]: the network interface of a PCI function (default:
# the igb PF), e.g. eth0.
vm_pf_netdev() {
	local bdf=${1:-} n
	[ -n "$bdf" ] || bdf=$(vm_igb_pf) || return 1
	for n in "$VM_PCI/$bdf"/net/*; do
		[ -e "$n" ] && { echo "${n##*/}"; return 0; }
	done
	echo "vm_pf_netdev: $bdf has no net device" >&2
	return 1
}

# vm_driver BDF: the bound driver's name, empty if none.
vm_driver() {
	local l
	l=$(readlink "$VM_PCI/$1/driver" 2>/dev/null) || return 0
	echo "${l##*/}"
}

# vm_iommu_group BDF: the IOMMU group number (fails if none).
vm_iommu_group() {
	local l
	l=$(readlink "$VM_PCI/$1/iommu_group") || return 1
	echo "${l##*/}"
}

# vm_set_numvfs BDF N: set the number of VFs (through 0: the kernel refuses
# to go from one non-zero count to another). No-op if already N.
vm_set_numvfs() {
	local f=$VM_PCI/$1/sriov_numvfs
	[ "$(cat "$f")" = "$2" ] && return 0
	[ "$(cat "$f")" = 0 ] || echo 0 >"$f"
	[ "$2" = 0 ] || echo "$2" >"$f"
}

# vm_vfs BDF: the PF's VF addresses, in VF index order.
vm_vfs() {
	local i=0 l
	while l=$(readlink "$VM_PCI/$1/virtfn$i" 2>/dev/null); do
		echo "${l##*/}"
		i=$((i + 1))
	done
}

# vm_vf BDF N: address of VF N of the PF.
vm_vf() {
	local l
	l=$(readlink "$VM_PCI/$1/virtfn$2") || return 1
	echo "${l##*/}"
}

# vm_wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
vm_wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# vm_bind_vfio BDF: rebind a function to vfio-pci through driver_override;
# waits for its /dev/vfio/<group> node.
vm_bind_vfio() {
	local bdf=$1 drv grp
	/usr/sbin/modprobe vfio-pci
	echo vfio-pci >"$VM_PCI/$bdf/driver_override"
	drv=$(vm_driver "$bdf")
	[ -z "$drv" ] || [ "$drv" = vfio-pci ] || echo "$bdf" >"$VM_PCI/$bdf/driver/unbind"
	[ "$drv" = vfio-pci ] || echo "$bdf" >/sys/bus/pci/drivers_probe
	[ "$(vm_driver "$bdf")" = vfio-pci ] || return 1
	grp=$(vm_iommu_group "$bdf") || return 1
	vm_wait_for 5 test -c "/dev/vfio/$grp"
}

# vm_unbind_vfio BDF: clear driver_override and give the function back to
# its default driver.
vm_unbind_vfio() {
	local bdf=$1
	[ -e "$VM_PCI/$bdf" ] || return 0
	echo >"$VM_PCI/$bdf/driver_override"
	[ "$(vm_driver "$bdf")" != vfio-pci ] || echo "$bdf" >"$VM_PCI/$bdf/driver/unbind"
	[ -n "$(vm_driver "$bdf")" ] || echo "$bdf" >/sys/bus/pci/drivers_probe || true
}

# vm_reset_igb: back to a clean state (no VFs) for the next suite.
vm_reset_igb() {
	local pf vf
	pf=$(vm_igb_pf) || return 0
	for vf in $(vm_vfs "$pf"); do vm_unbind_vfio "$vf"; done
	vm_set_numvfs "$pf" 0
}

# vm_kernel_before MAJOR.MINOR: the running kernel is older than that.
vm_kernel_before() {
	local want_maj=${1%%.*} want_min=${1#*.} r maj min
	r=$(uname -r)
	maj=${r%%.*}
	r=${r#*.}
	min=${r%%[!0-9]*}
	[ "$maj" -lt "$want_maj" ] || { [ "$maj" -eq "$want_maj" ] && [ "$min" -lt "$want_min" ]; }
}

# igb before Linux 6.4 (Debian 12's 6.1) enables the VFs before it sets the
# PF up for SR-IOV (50f303496d92 "igb: Enable SR-IOV after reinit" changed
# the order): igbvf's probe-time mailbox messages are lost, so the PF records
# no MAC (00:00:00:00:00:00) for a VF whose igbvf chose a random one.
vm_igb_loses_vf_probe() {
	vm_kernel_before 6.4
}

# The frame vfkvm's built-in guest sends through a VF (src/vfkvm/guest/guest.S):
# broadcast, ethertype 0x88b5, this payload.
VM_VFKVM_PAYLOAD='vfkvm: one frame from the guest, sent by DMA through the VF'

# vm_wire_count HEX: how often the wire capture holds the bytes HEX (lower
# case, two hex digits a byte, no spaces). Only a match at an even offset is
# at a byte boundary. QEMU creates the capture (pcap header) at start, so a
# missing file means no /out share, not "no frames": that fails, loudly.
vm_wire_count() {
	if [ ! -e "$VM_WIRE" ]; then
		echo "# no $VM_WIRE: the /out share is not mounted (see init's message on the console)" >&2
		return 1
	fi
	od -An -v -tx1 "$VM_WIRE" | tr -d ' \n' | grep -ob "$1" | awk -F: '$1 % 2 == 0' | wc -l
}

# vm_wire_count_is HEX N: the capture holds HEX N times (for vm_wait_for:
# QEMU writes the pcap as the frame leaves, the 9p share shows it a moment later)
vm_wire_count_is() {
	local n
	n=$(vm_wire_count "$1") && [ "$n" -eq "$2" ]
}

# vm_vfkvm_frame MAC: the bytes of the guest's frame from MAC
vm_vfkvm_frame() {
	printf 'ffffffffffff%s88b5' "${1//:/}"
	printf '%s' "$VM_VFKVM_PAYLOAD" | od -An -v -tx1 | tr -d ' \n'
}

# vm_wire_frames MAC: how many of the guest's frames from MAC the wire
# capture holds
vm_wire_frames() {
	vm_wire_count "$(vm_vfkvm_frame "$1")"
}

# vm_wire_frames_are MAC N: the capture holds N such frames
vm_wire_frames_are() {
	vm_wire_count_is "$(vm_vfkvm_frame "$1")" "$2"
}

# Skip unless the image has netdevsim.ko (tests/vm/run builds it with the
# iommufd modules, on 6.6+ kernels whose linux-source apt has: the 6.12 boot).
vm_require_netdevsim() {
	[ "${VFCTL_VM_NETDEVSIM:-0}" = 1 ] ||
		skip "kernel $(uname -r) booted without netdevsim (built out of tree on 6.6+ only)"
}
