#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell
# Netlink at scale on a real kernel: one netdevsim PF (built out of tree,
# 6.12 boot only) with 64, 256 and 512 VFs. Past about 220 VFs the
# kernel's IFLA_VFINFO_LIST outgrows its 16-bit nla_len (the length wraps),
# so this proves libvfctl's reader of RTM_NEWLINK, and vfctl_vf_set()'s
# fresh read before it writes, on the real message, through nl-probe
# (tests/vm/nl-probe.c). Every 16th VF (64th from 256) and the last get
# their own settings (one `ip -batch`), and what the library reads must
# equal what was set, for every VF. Debian 12's iproute2 (6.1) says
# "Truncated VF list" past 64 KiB and lists only the VFs within the wrapped
# length (34 of 256, 69 of 512): the VFs it does list must equal the
# library's. netdevsim's VFs are not PCI functions: vfctl lists the PF
# apart (software_pfs), and its list, show, set and apply must give and
# change every one of the 512 VFs as the library reads them and ip shows
# them. Figures: how many VFs ip lists, the library's read against ip's,
# vfctl list against ip, wall time.

bats_require_minimum_version 1.5.0
load helpers

NL_PROBE=/vfctl/build/nl-probe
NSIM_ID=88
NSIM_DEV=/sys/bus/netdevsim/devices/netdevsim$NSIM_ID

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] && [ "${VFCTL_VM_NETDEVSIM:-0}" = 1 ] || return 0
	modprobe netdevsim
	echo "$NSIM_ID 1" >/sys/bus/netdevsim/new_device
	vm_wait_for 10 bash -c "ls $NSIM_DEV/net/ 2>/dev/null | grep -q ."
	# netdevsim allows 4 VFs until its debugfs max_vfs is raised
	echo 512 >"/sys/kernel/debug/netdevsim/netdevsim$NSIM_ID/max_vfs"
}

teardown_file() {
	[ -d "$NSIM_DEV" ] || return 0
	echo 0 >"$NSIM_DEV/sriov_numvfs"
	echo "$NSIM_ID" >/sys/bus/netdevsim/del_device
	modprobe -r netdevsim || true
}

setup() {
	vm_require
	vm_require_netdevsim
	nd=$(ls "$NSIM_DEV/net/")
}

# expected N: the settings VF i has, one line per VF in nl-probe's format
# (INDEX MAC VLAN QOS PROTO MAX MIN SPOOFCHK TRUST LINK_STATE). Every 16th
# VF (every 64th from 256 VFs) and the last get their own settings (each ip
# command re-reads the whole VF list: setting all 512 took minutes under
# TCG); the others keep netdevsim's defaults, so a VF read at the wrong
# index shows.
expected() {
	local i n=$1 states=(auto enable disable) onoff=(off on) proto stride=16
	((n < 256)) || stride=64
	for ((i = 0; i < n; i++)); do
		if ((i % stride && i != n - 1)); then
			echo "$i 00:00:00:00:00:00 0 0 0x8100 0 0 off off auto"
			continue
		fi
		proto=0x8100
		((i % 5)) || proto=0x88a8
		printf '%d 02:00:58:00:%02x:%02x %d %d %s %d %d %s %s %s\n' "$i" $((i >> 8)) \
			$((i & 255)) $((i % 4000 + 1)) $((i % 8)) "$proto" $((1000 + i)) \
			$((i % 100)) "${onoff[i % 2]}" "${onoff[i % 3 == 0]}" "${states[i % 3]}"
	done
}

# set_all N: the settings of expected N through iproute2, one process
set_all() {
	expected "$1" | grep -v ' 00:00:00:00:00:00 ' |
		while read -r i mac vlan qos proto max min sc tr st; do
			[ "$proto" = 0x88a8 ] && proto=802.1ad || proto=802.1Q
			echo "link set dev $nd vf $i mac $mac vlan $vlan qos $qos proto $proto" \
				"max_tx_rate $max min_tx_rate $min spoofchk $sc trust $tr state $st"
		done | "$VM_IP" -batch -
}

# ip's view in nl-probe's format
ip_view() {
	"$VM_IP" -d -j link show dev "$nd" | jq -r '.[0].vfinfo_list[] |
		((.vlan_list // [{}])[0]) as $v |
		"\(.vf) \(.address // .mac) \($v.vlan // 0) \($v.qos // 0) \(if $v.protocol == "802.1ad" then "0x88a8" else "0x8100" end) \(.rate.max_tx) \(.rate.min_tx) \(if .spoofchk then "on" else "off" end) \(if .trust then "on" else "off" end) \(.link_state)"'
}

# ms CMD...: run CMD (output to /dev/null), print its wall time in ms
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

scale() {
	local n=$1 t_lib t_ip t_set n_set k
	echo 0 >"$NSIM_DEV/sriov_numvfs"
	# netdevsim keeps its VFs' settings across sriov_numvfs changes; a new
	# max_vfs (taken only while it has no VFs) starts them from zero
	echo 512 >"/sys/kernel/debug/netdevsim/netdevsim$NSIM_ID/max_vfs"
	echo "$n" >"$NSIM_DEV/sriov_numvfs"
	t_set=$(ms set_all "$n" 2>/dev/null)
	expected "$n" >"$BATS_TEST_TMPDIR/want"
	n_set=$(grep -vc ' 00:00:00:00:00:00 ' "$BATS_TEST_TMPDIR/want")

	run "$NL_PROBE" show "$nd"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	echo "$output" >"$BATS_TEST_TMPDIR/lib"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/lib"
	# ip: the VFs it lists are the library's first ones
	ip_view 2>/dev/null >"$BATS_TEST_TMPDIR/ip"
	k=$(wc -l <"$BATS_TEST_TMPDIR/ip")
	[ "$k" -gt 0 ]
	head -n "$k" "$BATS_TEST_TMPDIR/lib" | diff "$BATS_TEST_TMPDIR/ip" -
	[ "$n" -gt 64 ] || [ "$k" -eq "$n" ]

	# the library's set path (a fresh read of the whole list, then one
	# RTM_SETLINK per attribute) on the last VF and on VF 3, which ip lists
	for i in $((n - 1)) 3; do
		"$NL_PROBE" set "$nd" "$i" mac 02:00:58:ff:00:01 vlan 3001 qos 5 spoofchk on \
			trust off max-tx-rate 777 min-tx-rate 7 link-state disable
		sed -i "s/^$i .*/$i 02:00:58:ff:00:01 3001 5 0x8100 777 7 on off disable/" \
			"$BATS_TEST_TMPDIR/want"
	done
	"$NL_PROBE" show "$nd" >"$BATS_TEST_TMPDIR/lib"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/lib"
	ip_view 2>/dev/null | grep '^3 ' | diff - <(grep '^3 ' "$BATS_TEST_TMPDIR/want")

	t_lib=$(ms "$NL_PROBE" show "$nd")
	t_ip=$(ms "$VM_IP" -d -j link show dev "$nd" 2>/dev/null)
	echo "# figure: netdevsim PF with $n VFs (TCG): ip -d -j link show lists $k of them; ip -batch set $n_set VFs in $t_set ms" >&3
	echo "# figure: netlink read of $n VFs (TCG): libvfctl (nl-probe show) $t_lib ms, ip -d -j link show $t_ip ms" >&3
}

@test "64 VFs: the library reads every VF as set and as ip shows it; set on two VFs" {
	scale 64
}

@test "256 VFs (IFLA_VFINFO_LIST past 64 KiB): every VF read as set; set on the last VF" {
	scale 256
}

@test "512 VFs (IFLA_VFINFO_LIST past 128 KiB): every VF read as set; set on the last VF" {
	scale 512
}

# vfctl's view of the netdevsim PF's VFs (list or show --json) in nl-probe's format
vfctl_view() {
	jq -r --arg nd "$nd" '(.software_pfs // .functions)[] |
		select(any(.netdevs[]; .name == $nd)) | .vfs[] | .config as $c |
		"\(.vf_index) \($c.mac) \($c.vlan) \($c.qos) \(if $c.vlan_proto == "802.1ad" then "0x88a8" else "0x8100" end) \($c.max_tx_rate) \($c.min_tx_rate) \(if $c.spoofchk then "on" else "off" end) \(if $c.trust then "on" else "off" end) \($c.link_state)"'
}

@test "vfctl list, show, set and apply on the 512-VF netdevsim PF: every VF as the library and ip read it; bind refused" {
	local k t_vfctl t_ip
	[ "$(cat "$NSIM_DEV/sriov_numvfs")" -eq 512 ] || { echo 0 >"$NSIM_DEV/sriov_numvfs"; echo 512 >"$NSIM_DEV/sriov_numvfs"; }
	"$NL_PROBE" show "$nd" >"$BATS_TEST_TMPDIR/lib"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/lib")" -eq 512 ]

	# list: the PCI PFs in pfs as before, the software PF apart, all 512 VFs
	run vfctl --json list
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/list.json"
	jq -e --arg pf "$(vm_igb_pf)" '[.pfs[].address] | index($pf) != null' "$BATS_TEST_TMPDIR/list.json"
	jq -e '[.pfs[].address] | all(test("^[0-9a-f]{4}:"))' "$BATS_TEST_TMPDIR/list.json"
	jq -e '.software_pfs[] | select(.name == "netdevsim'$NSIM_ID'") |
		.bus == "netdevsim" and .sriov.numvfs == 512 and .sriov.totalvfs == 512 and
		(.vfs | length) == 512' "$BATS_TEST_TMPDIR/list.json"
	vfctl_view <"$BATS_TEST_TMPDIR/list.json" | diff "$BATS_TEST_TMPDIR/lib" -
	# what ip lists (it truncates past 64 KiB) is vfctl's first VFs
	ip_view 2>/dev/null >"$BATS_TEST_TMPDIR/ip"
	k=$(wc -l <"$BATS_TEST_TMPDIR/ip")
	[ "$k" -gt 0 ]
	vfctl_view <"$BATS_TEST_TMPDIR/list.json" | head -n "$k" | diff "$BATS_TEST_TMPDIR/ip" -

	# show, by netdev and by bus name, and one VF as PF:INDEX
	for name in "$nd" "netdevsim$NSIM_ID"; do
		vfctl --json show "$name" | vfctl_view | diff "$BATS_TEST_TMPDIR/lib" -
	done
	run vfctl --json show "$nd:511"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.functions[0] | .vf_index == 511 and .pf == "netdevsim'$NSIM_ID'"'

	# set: the last VF (past what ip lists) and VF 2 (which ip lists)
	run vfctl --json set "$nd:511" mac 02:00:58:ee:01:ff vlan 511 qos 3 trust on link-state enable
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	echo "$output" | jq -e '.all_applied and .address == null and .pf == "netdevsim'$NSIM_ID'"'
	run vfctl set "$nd:2" max-tx-rate 900 spoofchk on
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	sed -i -e 's/^511 [^ ]* [^ ]* [^ ]* [^ ]* \([^ ]*\) \([^ ]*\) \([^ ]*\) .*/511 02:00:58:ee:01:ff 511 3 0x8100 \1 \2 \3 on enable/' \
		-e 's/^2 \([^ ]*\) \([^ ]*\) \([^ ]*\) \([^ ]*\) [^ ]* \([^ ]*\) [^ ]* /2 \1 \2 \3 \4 900 \5 on /' \
		"$BATS_TEST_TMPDIR/lib"
	"$NL_PROBE" show "$nd" | diff "$BATS_TEST_TMPDIR/lib" -
	ip_view 2>/dev/null | grep '^2 ' | diff - <(grep '^2 ' "$BATS_TEST_TMPDIR/lib")

	# apply: VF settings through the netdev; a count or a driver is refused whole
	cat >"$BATS_TEST_TMPDIR/nsim.conf" <<-EOF
	{ "pfs": [ { "match": { "netdev": "$nd" }, "numvfs": 512,
	  "vfs": [ { "index": 5, "mac": "02:00:58:aa:00:05", "vlan": 55 },
	           { "index": 510, "trust": true, "max_tx_rate": 510 } ] } ] }
	EOF
	run vfctl --json apply --config "$BATS_TEST_TMPDIR/nsim.conf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	echo "$output" | jq -e '.n_failed == 0 and .n_changes == 4 and
		all(.changes[]; .pf == "netdevsim'$NSIM_ID'" and .status == "applied" and .address == null)'
	run vfctl apply --config "$BATS_TEST_TMPDIR/nsim.conf"
	[ "$status" -eq 0 ]
	[[ $output == *"no changes"* ]]
	"$NL_PROBE" show "$nd" | grep '^5 ' | grep -q '^5 02:00:58:aa:00:05 55 0 0x8100 '
	"$NL_PROBE" show "$nd" | grep '^510 ' | grep -q ' 510 [0-9]* [a-z]* on '
	ip_view 2>/dev/null | grep '^5 ' | grep -q '^5 02:00:58:aa:00:05 55 '
	sed 's/"numvfs": 512/"numvfs": 511/' "$BATS_TEST_TMPDIR/nsim.conf" >"$BATS_TEST_TMPDIR/count.conf"
	run vfctl apply --config "$BATS_TEST_TMPDIR/count.conf"
	[ "$status" -ne 0 ]
	[[ $output == *"does not change its count"* ]]
	[ "$(cat "$NSIM_DEV/sriov_numvfs")" -eq 512 ]

	# nothing PCI: bind and create name the software PF and change nothing
	run vfctl bind "$nd" vfio-pci
	[ "$status" -ne 0 ]
	[[ $output == *"netdevsim software PF"*"no PCI function"* ]]
	run vfctl create "$nd" 8
	[ "$status" -ne 0 ]
	[[ $output == *"software PF"* ]]
	[ "$(cat "$NSIM_DEV/sriov_numvfs")" -eq 512 ]

	t_vfctl=$(ms vfctl --json list)
	t_ip=$(ms "$VM_IP" -d -j link show dev "$nd")
	echo "# figure: vfctl --json list with the 512-VF netdevsim PF (TCG): $t_vfctl ms; ip -d -j link show of it alone $t_ip ms" >&3
}
