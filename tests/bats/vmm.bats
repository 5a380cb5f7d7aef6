#!/usr/bin/env bats
# vfctl xml and vfctl qemu-args: what a real VMM takes, for a device named on
# the command line and for a vfctld lease (the daemon on a copy of golden
# tree 82599-8vf: VF 7, 0000:03:11.6, is on vfio-pci; VF 0, 0000:03:10.0, on
# ixgbevf as enp3s0f0v0). libvirt's schema (virt-xml-validate, from
# libvirt-clients) judges the elements, the host's QEMU the arguments.

# shellcheck disable=SC2154 # status, output, lines, stderr: set by bats run
# shellcheck disable=SC2030,SC2031 # dpid: set in tests, read in teardown (one subshell)
bats_require_minimum_version 1.5.0
load vfctld-daemon

setup() {
	: "${VFCTL:?}" "${VFCTLD:?}" "${FIXTURES:?}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT VFCTL_RUN_DIR
	command -v virt-xml-validate >/dev/null ||
		{ echo "virt-xml-validate missing: run tests/deps (libvirt-clients)"; false; }
	# readable by another uid (the lease tests): not under bats' 0700 dirs
	dir=$(mktemp -d /tmp/vfctl-vmm-bats.XXXXXX)
	chmod 755 "$dir"
	t=$dir/t
	cp -a "$FIXTURES/82599-8vf" "$t"
	sys=$t/sys
	run_dir=$dir/run
	mkdir "$run_dir"
	export VFCTLD_SOCKET=$run_dir/vfctld.sock
	conf=$dir/vfctl.conf
	# shellcheck disable=SC2034 # log, dpid: read by vfctld-daemon.bash
	log=$dir/vfctld.log
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "0000:03:00.0" }, "numvfs": 8,
  "pools": [ { "name": "vms", "vfs": [7], "users": [4321, 4322] } ] } ] }
JSON
	# shellcheck disable=SC2034 # read by vfctld-daemon.bash
	dpid=
}

teardown() {
	local rc=0
	daemon_teardown || rc=$?
	rm -rf "$dir"
	return "$rc"
}

vfctl() {
	"$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" "$@"
}

# validate ELEMENT_FILE: the element inside a minimal domain, against
# libvirt's domain schema
validate() {
	{
		echo "<domain type='kvm'><name>vm</name><memory>131072</memory>"
		echo "<os><type arch='x86_64'>hvm</type></os><devices>"
		cat "$1"
		echo "</devices></domain>"
	} >"$dir/domain.xml"
	virt-xml-validate "$dir/domain.xml" domain
}

# QEMU with ARGS (placeholders put back by the caller) on a machine that is
# never started: stderr says how far it got
qemu_try() {
	qemu-system-x86_64 -machine q35 -accel tcg -nodefaults -display none -S "$@" 2>&1
}

@test "xml: <hostdev> for a VF, PF:INDEX, netdev and a PF, <interface> for a VF: libvirt's schema takes them" {
	for dev in 0000:03:10.0 03:11.6 enp3s0f0:3 enp3s0f0v1 0000:03:00.0; do
		vfctl xml "$dev" >"$dir/el"
		head -1 "$dir/el" | grep -qxF "<hostdev mode='subsystem' type='pci' managed='no'>"
		run validate "$dir/el"
		echo "$dev: $output"
		[ "$status" -eq 0 ]
	done
	vfctl xml enp3s0f0:3 | grep -qF "<address domain='0x0000' bus='0x03' slot='0x10' function='0x6'/>"

	vfctl xml --interface enp3s0f0v0 >"$dir/el"
	cat "$dir/el"
	grep -qxF "  <mac address='02:1b:21:00:00:10'/>" "$dir/el"
	grep -qxF "    <address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x0'/>" "$dir/el"
	validate "$dir/el"
	# the VF on vfio-pci has no netdev: no MAC vfctl could read off a golden tree
	vfctl xml --interface 0000:03:11.6 >"$dir/el"
	! grep -q '<mac' "$dir/el" || false
	validate "$dir/el"

	# the check bites: an element libvirt does not know fails
	sed 's/managed=/manager=/' "$dir/el" >"$dir/bad"
	run validate "$dir/bad"
	[ "$status" -ne 0 ]

	# JSON: the same element, and what it was made of
	run vfctl --json xml --interface enp3s0f0v0
	[ "$(jq -r .xml <<<"$output")" = "$(vfctl xml --interface enp3s0f0v0)" ]
	[ "$(jq -c '[.address, .lease_id, .element, .mac, .vlan]' <<<"$output")" = \
		'["0000:03:10.0",null,"interface","02:1b:21:00:00:10",null]' ]
}

@test "xml and qemu-args refuse what cannot work, naming it, and change nothing" {
	before=$(cd "$t" && find . -printf '%p %l\n' | LC_ALL=C sort | md5sum)
	run --separate-stderr vfctl xml --interface 0000:03:00.0
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "vfctl: xml 0000:03:00.0: 0000:03:00.0 is not an SR-IOV VF: libvirt assigns only VFs as <interface type='hostdev'>; leave out --interface for its <hostdev> element" ]
	run --separate-stderr vfctl xml enp3s0f0:8
	[ "$status" -eq 3 ]
	[ "$stderr" = "vfctl: xml enp3s0f0:8: VF index 8 out of range: 0000:03:00.0 has 8 VFs (index 0-7)" ]
	run --separate-stderr vfctl qemu-args nosuch0
	[ "$status" -eq 3 ]
	[[ "$stderr" == "vfctl: qemu-args nosuch0: nosuch0: no PCI function has a netdev of that name"* ]]
	run --separate-stderr vfctl xml
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl xml: expected one LEASE (as L3) or DEV (PCI address, netdev name or PF:INDEX); see 'vfctl xml --help'" ]
	run --separate-stderr vfctl qemu-args 03:10.0 03:10.2
	[ "$status" -eq 2 ]
	# the tree's kernel has no /dev/iommu
	run --separate-stderr vfctl qemu-args --iommufd 03:10.0
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "vfctl: qemu-args 03:10.0: this kernel has no /dev/iommu (CONFIG_IOMMUFD): the iommufd form cannot work here; leave out --iommufd for the host= form" ]
	touch "$t/dev/iommu"
	run --separate-stderr vfctl qemu-args --iommufd 03:10.0
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"this kernel has no VFIO device cdevs, /dev/vfio/devices (CONFIG_VFIO_DEVICE_CDEV)"* ]]
	rm "$t/dev/iommu"
	[ "$(cd "$t" && find . -printf '%p %l\n' | LC_ALL=C sort | md5sum)" = "$before" ]
	[ ! -e "$run_dir/leases.json" ]
}

@test "qemu-args: the host= form and, with /dev/iommu and the cdevs, the iommufd fd form; QEMU parses both" {
	run --separate-stderr vfctl qemu-args enp3s0f0:7
	[ "$status" -eq 0 ]
	[ "$output" = "-device vfio-pci,host=0000:03:11.6,id=hostdev0" ]
	# shellcheck disable=SC2086 # split on purpose: the arguments as a shell would take them
	run qemu_try $output
	echo "$output"
	# parsed: it got as far as looking for the device on the host
	[[ "$output" == *"vfio /sys/bus/pci/devices/0000:03:11.6: no such host device"* ]]

	touch "$t/dev/iommu"
	mkdir -p "$t/dev/vfio/devices"
	run --separate-stderr vfctl qemu-args --iommufd 0000:03:11.6
	[ "$status" -eq 0 ]
	[ "$output" = "-object iommufd,id=iommufd0,fd={iommufd} -device vfio-pci,iommufd=iommufd0,fd={device},id=hostdev0" ]
	args=${output//\{iommufd\}/3}
	args=${args//\{device\}/4}
	# shellcheck disable=SC2086 # split on purpose
	run qemu_try $args 3</dev/null 4</dev/null
	echo "$output"
	# parsed: it took both fds and tried to bind the device fd to the iommufd
	[[ "$output" == *"error bind device fd=4 to iommufd=3"* ]]

	run vfctl --json qemu-args --iommufd 0000:03:11.6
	[ "$(jq -c '[.address, .lease_id, .backend, .args]' <<<"$output")" = \
		'["0000:03:11.6",null,"iommufd",["-object","iommufd,id=iommufd0,fd={iommufd}","-device","vfio-pci,iommufd=iommufd0,fd={device},id=hostdev0"]]' ]
}

@test "a lease: xml and qemu-args for its VF through vfctld, only for its holder, only while it is held" {
	run vfctl xml L1
	[ "$status" -eq 7 ]
	[[ "$output" == "vfctl: connecting to vfctld at $VFCTLD_SOCKET: No such file or directory; is it running"* ]]
	start
	as 4321 "$VFCTL" alloc --pool vms --owner vm1 | grep -q '^L1 '
	run --separate-stderr as 4321 "$VFCTL" --sysfs-root "$sys" xml L1
	[ "$status" -eq 0 ]
	[ "$output" = "$(vfctl xml 0000:03:11.6)" ]
	echo "$output" >"$dir/el"
	validate "$dir/el"
	run --separate-stderr as 4321 "$VFCTL" --sysfs-root "$sys" xml --interface L1
	[ "$status" -eq 0 ]
	echo "$output" >"$dir/el"
	grep -qF "<address type='pci' domain='0x0000' bus='0x03' slot='0x11' function='0x6'/>" "$dir/el"
	validate "$dir/el"
	run as 4321 "$VFCTL" --sysfs-root "$sys" --json qemu-args L1
	[ "$(jq -c '[.address, .lease_id, .args]' <<<"$output")" = \
		'["0000:03:11.6","L1",["-device","vfio-pci,host=0000:03:11.6,id=hostdev0"]]' ]
	# root sees every lease
	[ "$(vfctl --json xml L1 | jq -r .lease_id)" = L1 ]

	# another pool user: not theirs
	run --separate-stderr as 4322 "$VFCTL" --sysfs-root "$sys" qemu-args L1
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	[ "$stderr" = "vfctl: no lease L1 of yours ('vfctl leases' lists them)" ]

	# released: gone
	"$VFCTL" release L1 >/dev/null
	run --separate-stderr as 4321 "$VFCTL" --sysfs-root "$sys" xml L1
	[ "$status" -eq 3 ]
	[ "$stderr" = "vfctl: no lease L1 of yours ('vfctl leases' lists them)" ]
}
