#!/usr/bin/env bats
# vfkvm on the host's /dev/kvm: the built-in long-mode guest with the
# stand-in BAR, guest failures, SIGTERM, and the clear errors.

bats_require_minimum_version 1.5.0

setup() {
	: "${VFKVM:?set VFKVM to the vfkvm binary}" "${GUESTS:?set GUESTS to build/guest}"
	unset VFKVM_KVM_DEV VFCTL_DEV_ROOT VFCTL_SYSFS_ROOT
	img=$BATS_TEST_TMPDIR
	# the missing-/dev/kvm and bad-option tests run everywhere; the rest need KVM
	[[ "$BATS_TEST_DESCRIPTION" == "missing /dev/kvm"* ]] ||
		[[ "$BATS_TEST_DESCRIPTION" == "bad --vf"* ]] ||
		[[ "$BATS_TEST_DESCRIPTION" == "--lease"* ]] ||
		[[ "$BATS_TEST_DESCRIPTION" == "--help"* ]] || [ -c /dev/kvm ] ||
		skip "/dev/kvm is absent on this host"
}

# A raw image: the VFKVMG01 header, entry at 0x100018, no IDT, then CODE.
mkimage() {
	# shellcheck disable=SC2059 # CODE is printf escapes
	printf 'VFKVMG01\x18\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'"$2" >"$1"
}

@test "built-in guest with the stand-in BAR: what it saw, and what it wrote back" {
	run --separate-stderr "$VFKVM" --stand-in-bar
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "guest: bar[0] = 0x1122334455667788
guest: read8 = 0xef
guest: read16 = 0xcdef
guest: read32 = 0x89abcdef
guest: read64 = 0x123456789abcdef
guest: roslot[0] = 0x526f536c6f74
guest: doorbells = 0x1
guest: irqfd = 0x1
guest: msi = 0x1
host: bar[8] = 0xeeddccbbaa998877" ]
}

@test "--trace: every MMIO exit with address, size and data; the doorbell never exits" {
	run --separate-stderr "$VFKVM" --stand-in-bar --trace --mem 4M
	[ "$status" -eq 0 ]
	[[ "$output" == *"mmio: write 0xfebe0200 size 1 data 0x11"* ]]
	[[ "$output" == *"mmio: write 0xfebe0202 size 2 data 0x2233"* ]]
	[[ "$output" == *"mmio: write 0xfebe0204 size 4 data 0x44556677"* ]]
	[[ "$output" == *"mmio: write 0xfebe0208 size 8 data 0x8899aabbccddeeff"* ]]
	[[ "$output" == *"mmio: read 0xfebe0210 size 2 data 0xcdef"* ]]
	[[ "$output" == *"mmio: write 0xfebd0004 size 4 data 0xdeadbeef"* ]]
	[[ "$output" != *0xfebe1000* ]]
	[[ "$output" != *0xfebf* ]]	# the stand-in BAR is a slot: no exits
}

@test "a ring-3 #UD reaches the ring-0 exception stub: a guest failure with vector and rip" {
	run --separate-stderr "$VFKVM" --stand-in-bar --guest "$GUESTS/fault.bin"
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^"vfkvm: guest failure: exception 6 at rip 0x"[0-9a-f]+$ ]]
}

@test "the guest's exit status (a write to the control region) is vfkvm's" {
	# mov $0xfebe0000,%eax; movq $7,(%rax); jmp .
	mkimage "$img/exit7.img" '\xb8\x00\x00\xbe\xfe\x48\xc7\x00\x07\x00\x00\x00\xeb\xfe'
	run --separate-stderr "$VFKVM" --guest "$img/exit7.img"
	[ "$status" -eq 7 ]
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "a triple fault is a guest failure" {
	mkimage "$img/ud2.img" '\x0f\x0b'
	run --separate-stderr "$VFKVM" --guest "$img/ud2.img"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: guest failure: shutdown (triple fault): check the guest's IDT and stack" ]
}

@test "the built-in guest without a device names the missing option" {
	run --separate-stderr "$VFKVM"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: guest failure: MMIO read of 8 bytes at 0xfebf0000 that no region backs (the built-in guest needs --stand-in-bar)" ]
}

@test "SIGTERM stops a spinning guest and tears down" {
	mkimage "$img/loop.img" '\xeb\xfe'
	"$VFKVM" --guest "$img/loop.img" 2>"$img/err" &
	pid=$!
	sleep 0.3
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	[ "$(cat "$img/err")" = "vfkvm: stopping the guest on signal 15 (Terminated)" ]
}

@test "missing /dev/kvm: the file, the errno text, what to do" {
	VFKVM_KVM_DEV=/nonexistent/kvm run --separate-stderr "$VFKVM" --stand-in-bar
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: /nonexistent/kvm: No such file or directory; this host has no KVM: enable virtualization (VT-x/AMD-V, nested for a VM) and load kvm_intel or kvm_amd" ]
}

@test "bad --mem and bad images" {
	run --separate-stderr "$VFKVM" --mem 12Q
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfkvm: --mem 12Q: not a size (e.g. 64M, 1G)" ]
	run --separate-stderr "$VFKVM" --mem 4G
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: guest RAM of 4294967296 bytes: must be a multiple of 2 MiB from 2 MiB to 3 GiB (the 3-4 GiB hole holds the devices)" ]
	run --separate-stderr "$VFKVM" --guest "$img/none"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: $img/none: No such file or directory; --guest takes a raw image with a VFKVMG01 header" ]
	mkimage "$img/big.img" '\xeb\xfe'
	truncate -s 1536K "$img/big.img"
	run --separate-stderr "$VFKVM" --guest "$img/big.img" --mem 2M
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: the guest image (1572864 bytes at 0x100000, entry 0x100018) does not fit in 2 MiB of RAM: raise --mem" ]
	printf 'VFKVMG02' >"$img/nohdr.img"
	run --separate-stderr "$VFKVM" --guest "$img/nohdr.img"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: the guest image has no VFKVMG01 header: build it as src/vfkvm/guest/ is built" ]
}

@test "--hugepages: hugetlb RAM, or the number of pages to reserve" {
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	run --separate-stderr "$VFKVM" --stand-in-bar --hugepages --mem 64M
	if [ "$free" -ge 32 ]; then
		[ "$status" -eq 0 ]
		[[ "$output" == *"guest: msi = 0x1"* ]]
	else
		[ "$status" -eq 1 ]
		[ "$stderr" = "vfkvm: mmap of 64 MiB guest RAM in 2 MiB hugetlb pages: Cannot allocate memory; reserve 32 free pages: echo 32 > /proc/sys/vm/nr_hugepages (plus those in use)" ]
	fi
}

@test "make install puts vfkvm and its man page in DESTDIR" {
	: "${REPO:?set REPO to the source tree}"
	d=$BATS_TEST_TMPDIR/stage
	run make -s -C "$REPO" install DESTDIR="$d" PREFIX=/usr B="$(dirname "$VFKVM")"
	[ "$status" -eq 0 ]
	[ -x "$d/usr/bin/vfkvm" ]
	[ -e "$d/usr/share/man/man1/vfkvm.1" ]
	run "$d/usr/bin/vfkvm" --stand-in-bar
	[ "$status" -eq 0 ]
	man -l "$d/usr/share/man/man1/vfkvm.1" >/dev/null 2>&1 || [ ! -x /usr/bin/man ]
}

@test "bad --vf addresses, and --vf with --stand-in-bar" {
	run --separate-stderr "$VFKVM" --vf 0000:01:10
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfkvm: --vf 0000:01:10: not a PCI address (e.g. 0000:01:10.0)" ]
	run --separate-stderr "$VFKVM" --vf 01:20.0
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfkvm: --vf 01:20.0: not a PCI address (e.g. 0000:01:10.0)" ]
	run --separate-stderr "$VFKVM" --vf 01:10.0x
	[ "$status" -eq 2 ]
	run --separate-stderr "$VFKVM" --vf 01:10.0 --stand-in-bar
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfkvm: --vf and --stand-in-bar both put a BAR at 0xfebf0000: give one" ]
}

@test "--iommu needs a device and a known mode; --help names every option" {
	run --separate-stderr "$VFKVM" --iommu iommufd
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfkvm: --iommu is how a VF is opened: give --vf or --lease" ]
	run --separate-stderr "$VFKVM" --stand-in-bar --iommu legacy
	[ "$status" -eq 2 ]
	run --separate-stderr "$VFKVM" --vf 01:10.0 --iommu vfio
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfkvm: --iommu vfio: give auto, legacy or iommufd" ]
	run "$VFKVM" --help
	[ "$status" -eq 0 ]
	for o in --mem --hugepages --guest --stand-in-bar --vf --lease --iommu --trace; do
		[[ "$output" == *"  $o "* ]]
	done
	[[ "$output" == *"  -h, --help "* ]]
	[[ "$output" == *"VFCTLD_SOCKET"* ]]
}

@test "--help and vfkvm(1) list the guest's VF families; ixgbevf says it is tested only on a model" {
	run "$VFKVM" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"8086:10ca 82576 VF  igbvf"* ]]
	for id in "10ed 82599" "1515 X540" "1565 X550"; do
		[[ "$output" == *"8086:${id% *} ${id#* } VF "*"ixgbevf (tested only against a register model, never yet on a real NIC)"* ]]
	done
	command -v man >/dev/null || return 0
	MANWIDTH=200 run man -l "$REPO/man/vfkvm.1"
	[[ "$output" == *"8086:10ed"*"8086:1515"*"8086:1565"* ]]
	[[ "$output" == *"never yet on a real 82599"* ]]
}

@test "--vf without VFIO: the container node, the errno text, what to do" {
	# a /dev with no VFIO in it (VFCTL_DEV_ROOT, as vfctl's --dev-root)
	mkdir "$img/dev"
	VFCTL_DEV_ROOT=$img/dev run --separate-stderr "$VFKVM" --vf 01:10.0
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: $img/dev/vfio/vfio: No such file or directory; 0000:01:10.0 needs VFIO: load vfio-pci (modprobe vfio-pci) and bind it to vfio-pci (vfctl bind)" ]
	[ -z "$output" ]
	# this host's kernel has no VFIO: the default node is named
	[ ! -e /dev/vfio/vfio ] || skip "this host has /dev/vfio/vfio"
	run --separate-stderr "$VFKVM" --vf 0000:01:10.0
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: /dev/vfio/vfio: No such file or directory; 0000:01:10.0 needs VFIO: load vfio-pci (modprobe vfio-pci) and bind it to vfio-pci (vfctl bind)" ]
}

@test "--vf on a golden tree: the library's refusals, named" {
	: "${FIXTURES:?set FIXTURES to build/fixtures}"
	# a VF whose IOMMU group a PF on its host driver shares
	VFCTL_SYSFS_ROOT=$FIXTURES/shared-group/sys run --separate-stderr "$VFKVM" --vf 05:10.0
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: IOMMU group 12 is not viable: 0000:05:00.0 is bound to ixgbe; bind it to vfio-pci (or unbind it) so group 12 can be used with VFIO" ]
	# a VF still on its host driver
	VFCTL_SYSFS_ROOT=$FIXTURES/82599-8vf/sys run --separate-stderr "$VFKVM" --vf 03:10.0
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: 0000:03:10.0 is bound to ixgbevf, not vfio-pci: bind it to vfio-pci (vfctl bind) to use it with VFIO" ]
	# the nodes of a golden tree are plain files: the first ioctl says so
	VFCTL_SYSFS_ROOT=$FIXTURES/82599-8vf/sys run --separate-stderr "$VFKVM" --vf 03:11.6
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: 0000:03:11.6: VFIO_GET_API_VERSION on the container: Inappropriate ioctl for device" ]
	[ -z "$output" ]
}

@test "control offset 0x50: a guest-side failure code prints its meaning and the value, exit 1" {
	# mov $0xfebe0000,%eax; movq $0x1234,0x48(%rax); movq $7,0x50(%rax); jmp .
	mkimage "$img/gfail.img" '\xb8\x00\x00\xbe\xfe\x48\xc7\x40\x48\x34\x12\x00\x00\x48\xc7\x40\x50\x07\x00\x00\x00\xeb\xfe'
	run --separate-stderr "$VFKVM" --guest "$img/gfail.img"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: guest failure on no device: VF transmit: descriptor 0 not written back (DD) within 2 s: the PF must be up (its TCTL.EN) and have enabled the VF's transmit (VFTE) after the mailbox reset; the value is the VF's TDH (value 0x1234)" ]
	# a code vfkvm does not know: said as such
	mkimage "$img/gfail99.img" '\xb8\x00\x00\xbe\xfe\x48\xc7\x40\x50\x63\x00\x00\x00\xeb\xfe'
	run --separate-stderr "$VFKVM" --guest "$img/gfail99.img"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfkvm: guest failure: code 99 (value 0x0)" ]
}

@test "control offset 0x40: the guest's delay sleeps that many microseconds, at most 100 ms each" {
	# mov $0xfebe0000,%eax; 3 x movq $100000,0x40(%rax);
	# movq $10000000,0x40(%rax) (capped); movq $0,(%rax); jmp .
	d='\x48\xc7\x40\x40\xa0\x86\x01\x00'
	mkimage "$img/delay.img" '\xb8\x00\x00\xbe\xfe'"$d$d$d"'\x48\xc7\x40\x40\x80\x96\x98\x00\x48\xc7\x00\x00\x00\x00\x00\xeb\xfe'
	start=$(date +%s%N)
	run --separate-stderr "$VFKVM" --guest "$img/delay.img"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "# $ms ms" >&3
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	(( ms >= 400 ))
	# the 10 s request slept 100 ms, not 10 s
	(( ms < 5000 ))
}

@test "--lease: with --vf or --stand-in-bar is a usage error; no vfctld names the socket and what to do" {
	run --separate-stderr "$VFKVM" --lease L1 --vf 0000:01:10.0
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfkvm: --lease gives the VF: no --vf or --stand-in-bar with it" ]
	run --separate-stderr "$VFKVM" --stand-in-bar --lease L1
	[ "$status" -eq 2 ]

	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock run --separate-stderr "$VFKVM" --lease L1
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$stderr" = "vfkvm: --lease L1: connecting to vfctld at $BATS_TEST_TMPDIR/none.sock: No such file or directory; is it running ('systemctl status vfctld.socket')?" ]
}
