#!/usr/bin/env bats
# vfctl set on golden sysfs trees: bad input is refused with a one-line
# message naming the device, the attribute, the value and what is allowed
# (exit 1, 2 for usage), and nothing is sent. The trees are not the live
# system, so even valid input must not reach netlink: vfctl says so.

# shellcheck disable=SC2154 # status, output, stderr, stderr_lines: set by bats run
bats_require_minimum_version 1.5.0

setup() {
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${FIXTURES:?set FIXTURES to the trees}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT
	root=$FIXTURES/82599-8vf/sys
}

# set ARGS...: vfctl set on the 82599 tree (PF enp3s0f0 = 0000:03:00.0 with
# 8 VFs, VF 3 = 0000:03:10.6 = enp3s0f0v3; PF enp3s0f1 without VFs)
set_() {
	run --separate-stderr "$VFCTL" --sysfs-root "$root" set "$@"
}

# refused STATUS MESSAGE: one line on stderr, nothing on stdout
refused() {
	[ "$status" -eq "$1" ] || { echo "status $status, want $1: $stderr"; return 1; }
	[ -z "$output" ] || { echo "stdout: $output"; return 1; }
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "stderr: $stderr"; return 1; }
	[ "$stderr" = "$2" ] || { echo "got:  $stderr"; echo "want: $2"; return 1; }
}

nothing_sent() {
	echo "vfctl: set $1: 0000:03:00.0 vf $2: nothing sent: netlink is not available for the non-live sysfs root $root (it does not describe this kernel's interfaces); vfctl set changes the live /sys only"
}

@test "a valid set on a golden tree: nothing sent, said plainly, exit 1" {
	set_ enp3s0f0:3 mac 02:11:22:33:44:55 vlan 100 qos 3 spoofchk off trust on
	refused 5 "$(nothing_sent enp3s0f0:3 3)"
	set_ --json 0000:03:10.6 max-tx-rate 1000
	refused 5 "$(nothing_sent 0000:03:10.6 3)"
}

@test "the target: VF address, VF netdev, PF:INDEX by netdev, full and short address" {
	for t in 0000:03:10.6 03:10.6 enp3s0f0v3 enp3s0f0:3 0000:03:00.0:3 03:00.0:3 enp3s0f0:03; do
		set_ "$t" trust on
		refused 5 "$(nothing_sent "$t" 3)"
	done
	# VF 7 is on vfio-pci (no netdev): PF:INDEX and its address still work
	set_ enp3s0f0:7 trust on
	refused 5 "$(nothing_sent enp3s0f0:7 7)"
}

@test "a VF index beyond the PF's VFs" {
	set_ enp3s0f0:8 trust on
	refused 3 "vfctl: set enp3s0f0:8: VF index 8 out of range: 0000:03:00.0 has 8 VFs (index 0-7)"
	set_ 0000:03:00.0:63 trust on
	refused 3 "vfctl: set 0000:03:00.0:63: VF index 63 out of range: 0000:03:00.0 has 8 VFs (index 0-7)"
	set_ enp3s0f1:0 trust on
	refused 3 "vfctl: set enp3s0f1:0: 0000:03:00.1 has no VFs (sriov_numvfs is 0); create VFs first"
}

@test "targets that are not a VF: a PF alone, VF:INDEX, unknown devices, malformed names" {
	set_ enp3s0f0 trust on
	refused 1 "vfctl: set enp3s0f0: enp3s0f0 is a PF; name one of its VFs by address or netdev, or as enp3s0f0:INDEX (0-7)"
	set_ 0000:03:10.6:1 trust on
	refused 1 "vfctl: set 0000:03:10.6:1: 0000:03:10.6 is not an SR-IOV PF (it is a VF: name it alone); PF:INDEX needs a PF, 'vfctl list' shows them"
	set_ eth9:1 trust on
	[ "$status" -eq 3 ]
	[[ "$stderr" == "vfctl: set eth9:1: eth9: no PCI function has a netdev of that name"* ]]
	set_ 0000:09:00.0 trust on
	[ "$status" -eq 3 ]
	[[ "$stderr" == "vfctl: set 0000:09:00.0: 0000:09:00.0: no such PCI function in $root/bus/pci/devices"* ]]
	for bad in enp3s0f0:x 'enp3s0f0:-1' 'enp3s0f0:' ':3' '../x:1'; do
		set_ "$bad" trust on
		[ "$status" -eq 1 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == *"is neither a PCI address (0000:03:00.0 or 03:00.0) nor a network interface name" ]]
	done
}

@test "MAC: syntax and unicast; all zero (clear the admin MAC) is accepted" {
	set_ enp3s0f0:3 mac 02:11:22:33:44
	refused 1 "vfctl: set enp3s0f0:3: mac '02:11:22:33:44': not a MAC address; expected six hex bytes as xx:xx:xx:xx:xx:xx"
	set_ enp3s0f0:3 mac 02-11-22-33-44-55
	refused 1 "vfctl: set enp3s0f0:3: mac '02-11-22-33-44-55': not a MAC address; expected six hex bytes as xx:xx:xx:xx:xx:xx"
	set_ enp3s0f0:3 mac 02:11:22:33:44:55:66
	refused 1 "vfctl: set enp3s0f0:3: mac '02:11:22:33:44:55:66': not a MAC address; expected six hex bytes as xx:xx:xx:xx:xx:xx"
	set_ enp3s0f0:3 mac 01:00:5e:00:00:01
	refused 1 "vfctl: set enp3s0f0:3: mac 01:00:5e:00:00:01: a multicast address cannot be a VF's MAC; use a unicast one (first byte even, e.g. 02:...), or 00:00:00:00:00:00 to clear the admin MAC"
	set_ enp3s0f0:3 mac FF:FF:FF:FF:FF:FF
	refused 1 "vfctl: set enp3s0f0:3: mac ff:ff:ff:ff:ff:ff: a multicast address cannot be a VF's MAC; use a unicast one (first byte even, e.g. 02:...), or 00:00:00:00:00:00 to clear the admin MAC"
	set_ enp3s0f0:3 mac 00:00:00:00:00:00
	refused 5 "$(nothing_sent enp3s0f0:3 3)"
	set_ enp3s0f0:3 mac 0A:BB:CC:DD:EE:FF
	refused 5 "$(nothing_sent enp3s0f0:3 3)"
}

@test "VLAN 0-4095, QoS 0-7, proto 802.1Q or 802.1ad, and only with a vlan" {
	set_ enp3s0f0:3 vlan 5000
	refused 1 "vfctl: set enp3s0f0:3: vlan 5000: out of range; expected 0-4095 (0: no VLAN)"
	set_ enp3s0f0:3 vlan 4096 qos 1
	refused 1 "vfctl: set enp3s0f0:3: vlan 4096: out of range; expected 0-4095 (0: no VLAN)"
	set_ enp3s0f0:3 vlan abc
	refused 1 "vfctl: set enp3s0f0:3: vlan 'abc': expected 0-4095 (0: no VLAN)"
	set_ enp3s0f0:3 vlan 100 qos 8
	refused 1 "vfctl: set enp3s0f0:3: qos 8: out of range; expected 0-7"
	set_ enp3s0f0:3 vlan 100 proto 802.1x
	refused 1 "vfctl: set enp3s0f0:3: proto '802.1x': expected 802.1Q or 802.1ad"
	set_ enp3s0f0:3 qos 3
	refused 2 "vfctl: set enp3s0f0:3: qos without vlan: qos and proto go with a VLAN, as in 'vlan 100 qos 3 proto 802.1Q'"
	set_ enp3s0f0:3 trust on proto 802.1ad
	refused 2 "vfctl: set enp3s0f0:3: proto without vlan: qos and proto go with a VLAN, as in 'vlan 100 qos 3 proto 802.1Q'"
	for ok in "vlan 0" "vlan 4095 qos 7" "qos 7 vlan 1" "vlan 10 proto 802.1ad" "vlan 10 proto 802.1Q qos 0"; do
		# shellcheck disable=SC2086 # the words are the arguments
		set_ enp3s0f0:3 $ok
		refused 5 "$(nothing_sent enp3s0f0:3 3)"
	done
}

@test "rates: whole Mb/s, 0 or more, max not below min; on|off and link-state words" {
	set_ enp3s0f0:3 max-tx-rate 1.5
	refused 1 "vfctl: set enp3s0f0:3: max-tx-rate '1.5': expected a whole number of Mb/s, 0-2147483647 (0: no limit)"
	set_ enp3s0f0:3 min-tx-rate fast
	refused 1 "vfctl: set enp3s0f0:3: min-tx-rate 'fast': expected a whole number of Mb/s, 0-2147483647 (0: no minimum)"
	# "-5" is a value, not an option, with or without --
	run --separate-stderr "$VFCTL" --sysfs-root "$root" set -- enp3s0f0:3 max-tx-rate -5
	refused 1 "vfctl: set enp3s0f0:3: max-tx-rate '-5': expected a whole number of Mb/s, 0-2147483647 (0: no limit)"
	set_ enp3s0f0:3 max-tx-rate -5
	refused 1 "vfctl: set enp3s0f0:3: max-tx-rate '-5': expected a whole number of Mb/s, 0-2147483647 (0: no limit)"
	set_ enp3s0f0:3 max-tx-rate 3000000000
	refused 1 "vfctl: set enp3s0f0:3: max-tx-rate 3000000000: out of range; expected 0-2147483647 Mb/s (0: no limit)"
	set_ enp3s0f0:3 max-tx-rate 100 min-tx-rate 200
	refused 1 "vfctl: set enp3s0f0:3: max-tx-rate 100 is below min-tx-rate 200; expected max-tx-rate 0 (no limit) or at least the minimum"
	set_ enp3s0f0:3 spoofchk yes
	refused 1 "vfctl: set enp3s0f0:3: spoofchk 'yes': expected on or off"
	set_ enp3s0f0:3 trust 1
	refused 1 "vfctl: set enp3s0f0:3: trust '1': expected on or off"
	set_ enp3s0f0:3 query-rss true
	refused 1 "vfctl: set enp3s0f0:3: query-rss 'true': expected on or off"
	set_ enp3s0f0:3 link-state up
	refused 1 "vfctl: set enp3s0f0:3: link-state 'up': expected auto, enable or disable"
	set_ enp3s0f0:3 max-tx-rate 0 min-tx-rate 500 link-state disable query-rss off
	refused 5 "$(nothing_sent enp3s0f0:3 3)"
}

@test "usage errors exit 2: no target, no attribute, unknown attribute, missing value, twice" {
	set_
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl set: expected a VF (PCI address or netdev name) or PF:INDEX, then ATTRIBUTE VALUE pairs; see 'vfctl set --help'" ]
	set_ enp3s0f0:3
	refused 2 "vfctl: set enp3s0f0:3: nothing to set; give ATTRIBUTE VALUE pairs: mac, vlan (with qos, proto), spoofchk, trust, max-tx-rate, min-tx-rate, link-state, query-rss"
	set_ enp3s0f0:3 colour red
	refused 2 "vfctl: set enp3s0f0:3: unknown attribute 'colour'; expected mac, vlan (with qos, proto), spoofchk, trust, max-tx-rate, min-tx-rate, link-state or query-rss"
	set_ enp3s0f0:3 trust on mac
	refused 2 "vfctl: set enp3s0f0:3: mac: missing value; expected six hex bytes as xx:xx:xx:xx:xx:xx"
	set_ enp3s0f0:3 trust on trust off
	refused 2 "vfctl: set enp3s0f0:3: trust given twice"
	set_ enp3s0f0:3 vlan 1 qos 2 qos 3
	refused 2 "vfctl: set enp3s0f0:3: qos given twice"
	# the attribute words are checked before the device
	set_ eth9:3 colour red
	refused 2 "vfctl: set eth9:3: unknown attribute 'colour'; expected mac, vlan (with qos, proto), spoofchk, trust, max-tx-rate, min-tx-rate, link-state or query-rss"
}

@test "nothing is written to the tree" {
	t=$BATS_TEST_TMPDIR/t
	cp -a "$FIXTURES/82599-8vf" "$t"
	before=$(cd "$t" && find . -printf '%p %s %T@\n' | sort | md5sum)
	run "$VFCTL" --sysfs-root "$t/sys" set enp3s0f0:3 mac 02:11:22:33:44:55 trust on
	[ "$status" -eq 5 ]
	run "$VFCTL" --sysfs-root "$t/sys" set enp3s0f0:3 vlan 5000
	[ "$status" -eq 1 ]
	[ "$(cd "$t" && find . -printf '%p %s %T@\n' | sort | md5sum)" = "$before" ]
}

@test "the 82576 and igb trees: the same rule, their own PFs" {
	root=$FIXTURES/82576/sys
	set_ enp1s0f0:1 trust on
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"0000:01:00.0 vf 1: nothing sent: netlink is not available"* ]]
	set_ enp1s0f0:2 trust on
	refused 3 "vfctl: set enp1s0f0:2: VF index 2 out of range: 0000:01:00.0 has 2 VFs (index 0-1)"
	root=$FIXTURES/igb-iommu/sys
	set_ eth0:3 spoofchk off
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"0000:01:00.0 vf 3: nothing sent"* ]]
	set_ 01:10.2 spoofchk off	# VF 1, on vfio-pci
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"0000:01:00.0 vf 1: nothing sent"* ]]
}

@test "vfctl --help lists set; vfctl set --help has its attributes" {
	run "$VFCTL" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\n  set       change a VF\'s MAC, VLAN'* ]]
	run "$VFCTL" set --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Usage: vfctl [OPTIONS] set VF|PF:INDEX ATTR VALUE..." ]]
	[[ "$output" == *"link-state auto|enable|disable, query-rss on|off"* ]]
}
