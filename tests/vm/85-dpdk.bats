#!/usr/bin/env bats
# DPDK, a stock user-space consumer, takes a leased VF as the pool's
# unprivileged user: Debian's dpdk-testpmd (22.11, carried into the VM)
# opens /dev/vfio/N by path on the legacy container, which vfctld made the
# user's for the lease (DPDK 22.11 has no iommufd path; the 6.12 boot keeps
# the container next to iommufd, so both kernels run this). Its
# net_e1000_igb_vf PMD probes the 82576 VF, reads the MAC the PF assigned
# over the mailbox and sends one burst of frames that reaches the wire.
# Before the alloc, for another uid and after the release it opens nothing,
# and the release gives the VF back to igbvf with its MAC.

# shellcheck disable=SC2154 # status, output: set by bats run
bats_require_minimum_version 1.5.0
load helpers
load vfctld-helpers

# testpmd sends its frames to this peer (--eth-peer)
PEER=02:70:65:65:72:00

setup_file() {
	vfctld_suite_setup
}

teardown_file() {
	vfctld_suite_teardown
}

setup() {
	vm_require
	vm_require_iommu
	command -v dpdk-testpmd >/dev/null ||
		skip "no dpdk-testpmd in the VM image (tests/deps installs Debian's dpdk-dev, tests/vm/run carries it in)"
	pf=$(vm_igb_pf)
	# igbvf and DPDK's VF PMD get their MAC from the PF only while it is up
	$VM_IP link set "$(vm_pf_netdev "$pf")" up
	vfctld_start
}

teardown() {
	vfctld_test_teardown
}

# testpmd_as UID BDF: dpdk-testpmd as UID on BDF, no hugepages (anonymous
# memory, IOVA as VA), memlock raised for what VFIO pins; on stdin: one
# burst of 32 frames (tx_first; the rxonly mode that follows sends
# nothing), the port's info and NIC counters, quit. The runtime dir is
# the user's own, as XDG_RUNTIME_DIR would be on a host.
testpmd_as() {
	local uid=$1 bdf=$2 run=/tmp/dpdk-run-$1
	install -d -o "$uid" -g "$uid" -m 700 "$run"
	printf '%s\n' 'set fwd rxonly' 'start tx_first' 'stop' 'show port info 0' \
		'show port stats 0' 'quit' |
		XDG_RUNTIME_DIR=$run as_memlock "$uid" dpdk-testpmd --no-huge -m 128 -l 0-1 \
			-a "$bdf" --iova-mode=va -- -i --total-num-mbufs=2048 --eth-peer=0,$PEER 2>&1
}

# txonly_frame MAC: the first bytes of testpmd's frames from MAC (IPv4)
txonly_frame() {
	echo "${PEER//:/}${1//:/}080045"
}

@test "dpdk-testpmd as the pool's user after alloc: net_e1000_igb_vf probes the VF by path with the PF's MAC, its 32 frames reach the wire; nothing before, for another uid or after release" {
	mac=02:64:70:64:6b:00
	vf0=$(vm_vf "$pf" 0)
	# the operator gives VF 0 (the pool's first free VF) a MAC, noted in
	# the daemon's run dir as vfctl does on a host (/run/vfctl); igbvf
	# keeps the one it has until it probes again
	VFCTL_RUN_DIR=$VFCTLD_RUN vfctl set "$pf:0" mac "$mac"

	# before the alloc the VF is igbvf's: DPDK takes nothing, changes nothing
	run testpmd_as 1001 "$vf0"
	echo "$output"
	[[ "$output" == *"testpmd: No probed ethernet devices"* ]]
	[[ "$output" != *"Probe PCI driver"* ]]
	[ "$(vm_driver "$vf0")" = igbvf ]

	run as 1001 vfctl alloc --pool p --owner dpdk
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	[ "$vf" = "$vf0" ]
	node=/dev/vfio/$(vm_iommu_group "$vf")
	[ "$(vfctl show --json "$vf" | jq -r '.functions[0].config.mac')" = "$mac" ]

	# a uid the lease is not for: the node is not its, the VF stays leased
	run testpmd_as 1002 "$vf"
	echo "$output"
	[[ "$output" == *"EAL: Cannot open $node: Permission denied"* ]]
	[[ "$output" == *"EAL: Requested device $vf cannot be used"* ]]
	[[ "$output" == *"testpmd: No probed ethernet devices"* ]]
	[[ "$output" != *"Probe PCI driver"* ]]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	[ "$(stat -c %u "$node")" = 1001 ]

	frame=$(txonly_frame "$mac")
	before=$(vm_wire_count "$frame")
	run testpmd_as 1001 "$vf"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"EAL: Probe PCI driver: net_e1000_igb_vf (8086:10ca) device: $vf "* ]]
	[[ "$output" == *"Port 0: ${mac^^}"* ]]
	[[ "$output" == *"Device name: $vf"* ]]
	[[ "$output" == *"Driver name: net_e1000_igb_vf"* ]]
	# the VF's own counter (the NIC statistics), and the wire, say 32
	grep -Eq '^ +TX-packets: 32 +TX-errors: 0 ' <<<"$output"
	vm_wait_for 10 vm_wire_count_is "$frame" $((before + 32))

	# testpmd closed the group: the release needs no force
	run as 1001 vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
	vm_wait_for 10 vf_mac_is "$vf" "$mac"
	[ ! -e "$node" ]
	run testpmd_as 1001 "$vf"
	echo "$output"
	[[ "$output" == *"testpmd: No probed ethernet devices"* ]]
	[[ "$output" != *"Probe PCI driver"* ]]
	[ "$(vm_driver "$vf")" = igbvf ]
}
