#!/usr/bin/env bats
# vfctl set against the real kernel: the emulated 82576 (igb) PF with 4 VFs.
# Every attribute is set through vfctl and read back with iproute2
# (/usr/sbin/ip -d link show PF) and with vfctl show; what igb refuses
# (min-tx-rate, link-state, query-rss, 802.1ad) is reported with the
# kernel's errno while the rest of the same command applies; bad input
# sends nothing (strace counts the RTM_SETLINK messages).

# shellcheck disable=SC2154 # status, output, lines: set by bats run
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	local pf pfdev
	vm_reset_igb
	pf=$(vm_igb_pf)
	pfdev=$(vm_pf_netdev "$pf")
	# leave the PF link as we found it
	cat "$VM_PCI/$pf/net/$pfdev/operstate" >"$BATS_FILE_TMPDIR/operstate"
	vm_set_numvfs "$pf" 4
	vm_wait_for 10 test -e "$VM_PCI/$(vm_vf "$pf" 3)/driver"
	# igb checks max_tx_rate against the link speed: the PF link must be up
	$VM_IP link set "$pfdev" up
	vm_wait_for 10 grep -qx 1000 "$VM_PCI/$pf/net/$pfdev/speed"
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	local pf
	vm_reset_igb
	pf=$(vm_igb_pf) || return 0
	if [ "$(cat "$BATS_FILE_TMPDIR/operstate" 2>/dev/null)" != up ]; then
		$VM_IP link set "$(vm_pf_netdev "$pf")" down
	fi
}

setup() {
	vm_require
	pf=$(vm_igb_pf)
	pfdev=$(vm_pf_netdev "$pf")
}

# ipvf VF FILTER: jq FILTER over VF's entry in `ip -d -j link show PF`
ipvf() {
	$VM_IP -d -j link show "$pfdev" |
		jq -r --argjson vf "$1" ".[0].vfinfo_list[] | select(.vf == \$vf) | $2"
}

# cfg VF KEY: the VF's config as `vfctl show --json VF` reads it
cfg() {
	# on/off settings are JSON booleans: as the words ip and vfctl set take
	vfctl show --json "$(vm_vf "$pf" "$1")" |
		jq -r ".functions[0].config.$2 | if . == true then \"on\" elif . == false then \"off\" else . end"
}

# setlinks ARGS...: run vfctl ARGS under strace; $output is vfctl's output,
# $n_setlink and $n_getlink the RTM_SETLINK and RTM_GETLINK messages it
# sent (strace names them, or shows 0x13 and 0x12 when it cannot tell the
# socket is NETLINK_ROUTE)
setlinks() {
	local log=$BATS_TEST_TMPDIR/strace.log
	run strace -f -qq -o "$log" -e trace=sendto,sendmsg -s 64 vfctl "$@"
	n_setlink=$(grep -cE 'nlmsg_type=(RTM_SETLINK|0x13 )' "$log" || true)
	n_getlink=$(grep -cE 'nlmsg_type=(RTM_GETLINK|0x12 )' "$log" || true)
}

@test "every attribute igb accepts, in one command: applied, one message each, read back by ip and vfctl show" {
	setlinks set "$pfdev:0" mac 02:11:22:33:44:55 vlan 100 qos 3 spoofchk off trust on max-tx-rate 100
	[ "$status" -eq 0 ]
	[ "$n_setlink" -eq 5 ]
	[ "${lines[0]}" = "$(vm_vf "$pf" 0): vf 0 of $pfdev ($pf)" ]
	[ "${lines[1]}" = "  mac 02:11:22:33:44:55: applied" ]
	[ "${lines[2]}" = "  vlan 100 qos 3: applied" ]
	[ "${lines[3]}" = "  spoofchk off: applied" ]
	[ "${lines[4]}" = "  trust on: applied" ]
	[ "${lines[5]}" = "  max-tx-rate 100: applied" ]

	# iproute2 reads the same from the kernel
	$VM_IP -d link show "$pfdev" | grep -E "vf 0 +link/ether 02:11:22:33:44:55 .*, vlan 100, qos 3, .*max_tx_rate 100Mbps, spoof checking off, link-state auto, trust on"
	[ "$(ipvf 0 .address)" = 02:11:22:33:44:55 ]
	[ "$(ipvf 0 '.vlan_list[0].vlan')" = 100 ]
	[ "$(ipvf 0 '.vlan_list[0].qos')" = 3 ]
	[ "$(ipvf 0 .spoofchk)" = false ]
	[ "$(ipvf 0 .trust)" = true ]
	[ "$(ipvf 0 .rate.max_tx)" = 100 ]
	# and so does vfctl show
	[ "$(cfg 0 mac)" = 02:11:22:33:44:55 ]
	[ "$(cfg 0 vlan)" = 100 ]
	[ "$(cfg 0 qos)" = 3 ]
	[ "$(cfg 0 vlan_proto)" = 802.1Q ]
	[ "$(cfg 0 spoofchk)" = off ]
	[ "$(cfg 0 trust)" = on ]
	[ "$(cfg 0 max_tx_rate)" = 100 ]
	run vfctl show "$(vm_vf "$pf" 0)"
	[[ "$output" == *"mac 02:11:22:33:44:55, vlan 100 qos 3, spoofchk off, trust on, max-tx-rate 100"* ]]

	# and back, with the VF named by its PCI address
	run vfctl set "$(vm_vf "$pf" 0)" vlan 0 spoofchk on trust off max-tx-rate 0
	[ "$status" -eq 0 ]
	[ "$(ipvf 0 '.vlan_list[0].vlan // 0')" = 0 ]
	[ "$(ipvf 0 .spoofchk)" = true ]
	[ "$(ipvf 0 .trust)" = false ]
	[ "$(ipvf 0 .rate.max_tx)" = 0 ]
	[ "$(cfg 0 vlan)" = 0 ]
	[ "$(cfg 0 qos)" = 0 ]
	[ "$(cfg 0 max_tx_rate)" = 0 ]
	# the MAC was not in that command: untouched
	[ "$(ipvf 0 .address)" = 02:11:22:33:44:55 ]
}

@test "the target: VF address, VF netdev, PF:INDEX by netdev, full and short PF address" {
	vf1=$(vm_vf "$pf" 1)
	vf1dev=$(ls "$VM_PCI/$vf1/net")
	run vfctl set "$vf1" mac 02:00:00:00:01:01
	[ "$status" -eq 0 ]
	[ "$(ipvf 1 .address)" = 02:00:00:00:01:01 ]
	run vfctl set "$vf1dev" mac 02:00:00:00:01:02
	[ "$status" -eq 0 ]
	[ "$(ipvf 1 .address)" = 02:00:00:00:01:02 ]
	run vfctl set "$pf:1" mac 02:00:00:00:01:03
	[ "$status" -eq 0 ]
	[ "$(ipvf 1 .address)" = 02:00:00:00:01:03 ]
	run vfctl set "${pf#0000:}:1" mac 02:00:00:00:01:04
	[ "$status" -eq 0 ]
	[ "$(ipvf 1 .address)" = 02:00:00:00:01:04 ]
	[ "$(cfg 1 mac)" = 02:00:00:00:01:04 ]
	# the other VFs were not touched
	[ "$(ipvf 2 .address)" = 00:00:00:00:00:00 ]
}

@test "igb refuses min-tx-rate, link-state, query-rss: each reported with its errno, the others still apply" {
	setlinks set "$pfdev:2" spoofchk off min-tx-rate 10 trust on link-state enable query-rss on
	[ "$status" -eq 5 ]
	[ "$n_setlink" -eq 5 ]
	[[ "$output" == *"  spoofchk off: applied"* ]]
	[[ "$output" == *"  min-tx-rate 10: refused: Invalid argument (EINVAL)"* ]]
	[[ "$output" == *"  trust on: applied"* ]]
	[[ "$output" == *"  link-state enable: refused: Operation not supported (EOPNOTSUPP)"* ]]
	[[ "$output" == *"  query-rss on: refused: Operation not supported (EOPNOTSUPP)"* ]]
	[[ "$output" == *"vfctl: set $pfdev:2: 3 of 5 refused by the kernel or driver: min-tx-rate (Invalid argument), link-state (Operation not supported), query-rss (Operation not supported); the others were applied"* ]]
	[ "$(ipvf 2 .spoofchk)" = false ]
	[ "$(ipvf 2 .trust)" = true ]
	[ "$(ipvf 2 .rate.min_tx)" = 0 ]
	[ "$(ipvf 2 .link_state)" = auto ]
	[ "$(cfg 2 spoofchk)" = off ]
	[ "$(cfg 2 trust)" = on ]

	# the same through --json: stdout is the JSON alone
	run --separate-stderr vfctl --json set "$pfdev:2" trust off link-state disable
	[ "$status" -eq 5 ]
	[ "$(echo "$output" | jq -r .address)" = "$(vm_vf "$pf" 2)" ]
	[ "$(echo "$output" | jq -r .vf_index)" = 2 ]
	[ "$(echo "$output" | jq -r .pf)" = "$pf" ]
	[ "$(echo "$output" | jq -r .pf_netdev)" = "$pfdev" ]
	[ "$(echo "$output" | jq -r .all_applied)" = false ]
	[ "$(echo "$output" | jq -r '.results[0] | "\(.attribute) \(.value) \(.applied) \(.errno)"')" = "trust false true null" ]
	[ "$(echo "$output" | jq -r '.results[1] | "\(.attribute) \(.value) \(.applied) \(.errno) \(.error)"')" = "link-state disable false EOPNOTSUPP Operation not supported" ]
	[[ "$stderr" == "vfctl: set $pfdev:2: 1 of 2 refused"* ]]
	[ "$(ipvf 2 .trust)" = false ]
}

@test "one rate alone keeps the other's current value; a rate igb refuses changes nothing" {
	run vfctl set "$pfdev:3" max-tx-rate 200
	[ "$status" -eq 0 ]
	[ "$(ipvf 3 .rate.max_tx)" = 200 ]
	# IFLA_VF_RATE carries both: min alone must not reset max to 0
	setlinks set "$pfdev:3" min-tx-rate 0
	[ "$status" -eq 0 ]
	[ "$n_setlink" -eq 1 ]
	[ "$(ipvf 3 .rate.max_tx)" = 200 ]
	[ "$(cfg 3 max_tx_rate)" = 200 ]
	[ "$(cfg 3 min_tx_rate)" = 0 ]
	# both given: one message, applied or refused together
	setlinks set "$pfdev:3" max-tx-rate 300 min-tx-rate 0
	[ "$status" -eq 0 ]
	[ "$n_setlink" -eq 1 ]
	[ "$(ipvf 3 .rate.max_tx)" = 300 ]
	run vfctl set "$pfdev:3" max-tx-rate 400 min-tx-rate 5
	[ "$status" -eq 5 ]
	[[ "$output" == *"  max-tx-rate 400: refused: Invalid argument (EINVAL)"* ]]
	[[ "$output" == *"  min-tx-rate 5: refused: Invalid argument (EINVAL)"* ]]
	# above the link speed
	run vfctl set "$pfdev:3" max-tx-rate 2000
	[ "$status" -eq 5 ]
	[[ "$output" == *"  max-tx-rate 2000: refused: Invalid argument (EINVAL)"* ]]
	[ "$(ipvf 3 .rate.max_tx)" = 300 ]
	run vfctl set "$pfdev:3" max-tx-rate 0
	[ "$status" -eq 0 ]
	[ "$(ipvf 3 .rate.max_tx)" = 0 ]
}

@test "vlan with proto 802.1ad is refused by igb (EPROTONOSUPPORT) and the VLAN stays; 802.1Q applies" {
	run vfctl set "$pfdev:3" vlan 42 qos 1 proto 802.1Q
	[ "$status" -eq 0 ]
	[ "$(ipvf 3 '.vlan_list[0].vlan')" = 42 ]
	[ "$(ipvf 3 '.vlan_list[0].qos')" = 1 ]
	run vfctl set "$pfdev:3" vlan 100 proto 802.1ad
	[ "$status" -eq 5 ]
	[[ "$output" == *"  vlan 100 proto 802.1ad: refused: Protocol not supported (EPROTONOSUPPORT)"* ]]
	[ "$(ipvf 3 '.vlan_list[0].vlan')" = 42 ]
	[ "$(cfg 3 vlan)" = 42 ]
	[ "$(cfg 3 qos)" = 1 ]
	run vfctl set "$pfdev:3" vlan 0
	[ "$status" -eq 0 ]
	[ "$(cfg 3 vlan)" = 0 ]
}

@test "the all-zero MAC clears the administratively set MAC (igb accepts it)" {
	run vfctl set "$pfdev:3" mac 02:00:00:00:03:03
	[ "$status" -eq 0 ]
	[ "$(ipvf 3 .address)" = 02:00:00:00:03:03 ]
	run vfctl set "$pfdev:3" mac 00:00:00:00:00:00
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "  mac 00:00:00:00:00:00: applied" ]
	[ "$(ipvf 3 .address)" = 00:00:00:00:00:00 ]
}

@test "bad input: refused before anything is sent, exit 1 (2 for usage, 3 for no such VF), settings unchanged" {
	run vfctl set "$pfdev:0" trust on
	[ "$status" -eq 0 ]
	before=$($VM_IP -d -j link show "$pfdev" | jq -c '.[0].vfinfo_list')
	check() {	# check STATUS MESSAGE ARGS...
		local want=$1 msg=$2
		shift 2
		setlinks set "$@"
		[ "$status" -eq "$want" ] || { echo "$*: status $status, want $want: $output"; return 1; }
		[ "${#lines[@]}" -eq 1 ] || { echo "$*: $output"; return 1; }
		[[ "$output" == "vfctl: set $1: $msg"* ]] || { echo "$*: got '$output'"; return 1; }
		[ "$n_setlink" -eq 0 ] || { echo "$*: $n_setlink RTM_SETLINK sent"; return 1; }
		# the scan's read went out and was seen: the count above means something
		[ "$n_getlink" -ge 1 ] || { echo "$*: strace saw no RTM_GETLINK"; return 1; }
	}
	check 2 "unknown attribute 'colour'; expected mac" "$pfdev:0" colour red
	check 2 "unknown attribute 'max_tx_rate'" "$pfdev:0" trust off max_tx_rate 10
	check 1 "mac '02:11:22:33:44': not a MAC address; expected six hex bytes as xx:xx:xx:xx:xx:xx" "$pfdev:0" mac 02:11:22:33:44
	check 1 "mac 'zz:11:22:33:44:55': not a MAC address" "$pfdev:0" mac zz:11:22:33:44:55
	check 1 "mac 01:00:5e:00:00:01: a multicast address cannot be a VF's MAC" "$pfdev:0" mac 01:00:5e:00:00:01
	check 1 "mac ff:ff:ff:ff:ff:ff: a multicast address" "$pfdev:0" trust off mac ff:ff:ff:ff:ff:ff
	check 1 "vlan 5000: out of range; expected 0-4095 (0: no VLAN)" "$pfdev:0" trust off vlan 5000
	check 1 "qos 8: out of range; expected 0-7" "$pfdev:0" vlan 100 qos 8
	check 2 "qos without vlan" "$pfdev:0" qos 3
	check 2 "trust given twice" "$pfdev:0" trust off trust on
	check 2 "spoofchk: missing value" "$pfdev:0" trust off spoofchk
	check 1 "spoofchk 'of': expected on or off" "$pfdev:0" spoofchk of
	check 3 "VF index 4 out of range: $pf has 4 VFs (index 0-3)" "$pfdev:4" trust off
	check 3 "VF index 7 out of range: $pf has 4 VFs (index 0-3)" "$pf:7" trust off
	check 1 "$pfdev is a PF; name one of its VFs by address or netdev, or as $pfdev:INDEX (0-3)" "$pfdev" trust off
	[ "$($VM_IP -d -j link show "$pfdev" | jq -c '.[0].vfinfo_list')" = "$before" ]
	[ "$(ipvf 0 .trust)" = true ]
}

@test "without CAP_NET_ADMIN: said once, nothing applied" {
	unshare --user --map-root-user true 2>/dev/null || skip "no user namespaces"
	[ "$(ipvf 1 .trust)" = false ]
	[ "$(ipvf 1 .spoofchk)" = true ]
	run unshare --user --map-root-user vfctl --run-dir "$BATS_TEST_TMPDIR/run" set "$pfdev:1" trust on spoofchk off
	[ "$status" -eq 5 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "vfctl: set $pfdev:1: $pfdev: RTM_SETLINK: Operation not permitted; changing VF settings needs CAP_NET_ADMIN (run as root)" ]
	[ "$(ipvf 1 .trust)" = false ]
	[ "$(ipvf 1 .spoofchk)" = true ]
}

@test "with the PF link down igb refuses max-tx-rate; the others in the command apply" {
	$VM_IP link set "$pfdev" down
	run vfctl set "$pfdev:1" max-tx-rate 100 trust on
	$VM_IP link set "$pfdev" up
	vm_wait_for 10 grep -qx 1000 "$VM_PCI/$pf/net/$pfdev/speed"
	[ "$status" -eq 5 ]
	[[ "$output" == *"  max-tx-rate 100: refused: Invalid argument (EINVAL)"* ]]
	[[ "$output" == *"  trust on: applied"* ]]
	[ "$(ipvf 1 .trust)" = true ]
	[ "$(ipvf 1 .rate.max_tx)" = 0 ]
}
