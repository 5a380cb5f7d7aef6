#!/usr/bin/env bats
# The steps of tests/hw/run, one test (or a few) each, named "STEP: ...":
# run by tests/hw/run only (it checks the PF is safe to use, records its
# state and exports HW_PF, HW_VFS, HW_STEPS, HW_OUT, HW_ROW). What a device
# should do comes from HW_ROW, its row of tests/hw/devices.json; a PF with
# no row gets the generic checks only. Every figure and refusal goes to
# $HW_OUT/notes.jsonl for the report. The last test puts the PF back and
# checks it equals the record.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
bats_require_minimum_version 1.5.0

setup_file() {
	[ -n "${HW_OUT:-}" ] || return 0
	# vfctl's saved state (bind/restore) in a run dir of our own: the
	# host's /run/vfctl is not ours to write
	export VFCTL_RUN_DIR=$HW_OUT/run
	mkdir -p "$VFCTL_RUN_DIR"
}

setup() {
	[ -n "${HW_PF:-}" ] || skip "run by tests/hw/run (which records and restores the PF)"
	load lib
	pf=$HW_PF
	pfdev=$(hw_netdev "$pf")
	row=${HW_ROW:-null}
	[ -n "$row" ] || row=null
}

# step NAME: skip unless NAME is among the selected steps
step() {
	[[ " $HW_STEPS " == *" $1 "* ]] || skip "step $1 not selected (--steps)"
}

# note STEP KEY JSON: one fact for the report
note() {
	jq -cn --arg s "$1" --arg k "$2" --argjson v "$3" '{step: $s, key: $k, value: $v}' >>"$HW_OUT/notes.jsonl"
}

# timing KEY MS
timing() {
	note "${BATS_TEST_DESCRIPTION%%:*}" timings "{\"$1\": $2}"
}

# expect FILTER: jq FILTER over the device row ("" when there is none)
expect() {
	jq -r "$1 // empty" <<<"$row"
}

# vfctl ARGS...: the binary under test
vfctl() {
	"$VFCTL" "$@"
}

# vfinfo INDEX: the VF's entry in `ip -d -j link show PF`
vfinfo() {
	$HW_IP -d -j link show dev "$pfdev" | jq -c --argjson i "$1" '.[0].vfinfo_list[] | select(.vf == $i)'
}

# wait_for SECONDS CMD...: poll every 0.1 s
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# ensure_vfs: at least HW_VFS VFs (for a step run without create)
ensure_vfs() {
	[ "$(cat "$HW_PCI/$pf/sriov_numvfs")" -ge "$HW_VFS" ] || vfctl create --force "$pf" "$HW_VFS" >/dev/null
}

vf_of() {
	readlink "$HW_PCI/$pf/virtfn$1" | sed 's|.*/||'
}

# pf_up: the PF link up (the VF attributes and the guest's frame need it)
pf_up() {
	[ -n "$pfdev" ] || return 0
	$HW_IP link set dev "$pfdev" up
	wait_for 15 grep -qx 1 "/sys/class/net/$pfdev/carrier" || true
}

@test "enumerate: the PF, its SR-IOV capability and driver as the device table says" {
	step enumerate
	run --separate-stderr vfctl --json show "$pf"
	[ "$status" -eq 0 ] || { echo "$output$stderr"; return 1; }
	f=$(jq -c '.functions[0]' <<<"$output")
	[ "$(jq -r .kind <<<"$f")" = pf ]
	total=$(jq -r .sriov.totalvfs <<<"$f")
	[ "$total" -gt 0 ]
	note enumerate pf "$(jq -c '{address, device_id, driver, totalvfs: .sriov.totalvfs, vf_device_id: .sriov.vf_device_id, numa_node, iommu_group}' <<<"$f")"
	note enumerate host "$(jq -c '.host' <<<"$output")"
	[ "$(jq -r .host.iommu.present <<<"$output")" = true ] || { echo "no IOMMU: passthrough needs one (intel_iommu=on / amd_iommu)"; return 1; }
	[ "$row" != null ] || skip "no row for $(jq -r .device_id <<<"$f") in tests/hw/devices.json"
	[ "$(jq -r .driver <<<"$f")" = "$(expect .pf_driver)" ]
	[ "$total" = "$(expect .max_vfs)" ] || { echo "totalvfs $total, the table says $(expect .max_vfs)"; return 1; }
	[ "$(jq -r .sriov.vf_device_id <<<"$f")" = "$(expect .vf_id)" ]
}

@test "create: the maximum VFs, then a small count, each VF with the VF id and driver" {
	step create
	total=$(cat "$HW_PCI/$pf/sriov_totalvfs")
	t0=$(hw_now_ms)
	run vfctl create --force "$pf" "$total"
	t1=$(hw_now_ms)
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$HW_PCI/$pf/sriov_numvfs")" = "$total" ]
	[ "$(hw_vfs "$pf" | wc -l)" = "$total" ]
	timing create_max_vfs $((t1 - t0))
	echo "# figure: create $total VFs: $((t1 - t0)) ms" >&3
	vfid=$(expect .vf_id) vfdrv=$(expect .vf_driver)
	if [ -n "$vfid" ]; then
		for vf in $(hw_vfs "$pf"); do
			[ "$(sed 's/^0x//' "$HW_PCI/$vf/device")" = "$vfid" ] || { echo "$vf is not 8086:$vfid"; return 1; }
		done
	fi
	t0=$(hw_now_ms)
	run vfctl create --force "$pf" "$HW_VFS"
	t1=$(hw_now_ms)
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ "$(cat "$HW_PCI/$pf/sriov_numvfs")" = "$HW_VFS" ]
	timing create_small $((t1 - t0))
	echo "# figure: create $HW_VFS VFs (through 0): $((t1 - t0)) ms" >&3
	if [ -n "$vfdrv" ] && [ "$(cat "$HW_PCI/$pf/sriov_drivers_autoprobe")" = 1 ]; then
		for vf in $(hw_vfs "$pf"); do
			wait_for 15 test -e "$HW_PCI/$vf/driver" || true
			[ "$(hw_driver "$vf")" = "$vfdrv" ] || { echo "$vf: driver '$(hw_driver "$vf")', the table says $vfdrv"; return 1; }
		done
	fi
}

# The attributes, what vfctl set is given, and how `ip -d -j link` and
# `vfctl show --json` (its .config) read them back: NAME|SET ARGS|IP|VFCTL
ATTRS=(
	"mac|mac 02:00:5e:10:00:01|.address == \"02:00:5e:10:00:01\"|.mac == \"02:00:5e:10:00:01\""
	"vlan|vlan 100|.vlan_list[0].vlan == 100|.vlan == 100"
	"qos|vlan 101 qos 3|.vlan_list[0].qos == 3|.qos == 3"
	"proto-802.1ad|vlan 102 proto 802.1ad|(.vlan_list[0].protocol | ascii_downcase) == \"802.1ad\"|(.vlan_proto | ascii_downcase) == \"802.1ad\""
	"spoofchk|spoofchk off|.spoofchk == false|.spoofchk == false"
	"trust|trust on|.trust == true|.trust == true"
	"max-tx-rate|max-tx-rate 100|.rate.max_tx == 100|.max_tx_rate == 100"
	"min-tx-rate|min-tx-rate 10|.rate.min_tx == 10|.min_tx_rate == 10"
	"link-state-auto|link-state auto|.link_state == \"auto\"|.link_state == \"auto\""
	"link-state-enable|link-state enable|.link_state == \"enable\"|.link_state == \"enable\""
	"link-state-disable|link-state disable|.link_state == \"disable\"|.link_state == \"disable\""
	"query-rss|query-rss on|.query_rss_en == true|.query_rss == true"
)

@test "set: every VF attribute through vfctl, read back by ip -d -j link and vfctl show; the driver's refusals as the table says" {
	step set
	ensure_vfs
	[ -n "$pfdev" ] || skip "$pf has no netdev: VF attributes go through it"
	[ "$(expect .pf_up)" = false ] || pf_up
	vf=$(vf_of 0)
	# a fresh VF's defaults
	info=$(vfinfo 0)
	echo "ip: $info"
	want=$(expect '.defaults.spoofchk')
	[ -z "$want" ] || [ "$(jq -r '.spoofchk | if . then "on" else "off" end' <<<"$info")" = "$want" ] || { echo "spoofchk default is not $want"; return 1; }
	want=$(expect '.defaults.trust')
	[ -z "$want" ] || [ "$(jq -r '.trust | if . then "on" else "off" end' <<<"$info")" = "$want" ] || { echo "trust default is not $want"; return 1; }
	accepted=() refused=() refusals=() bad=()
	for a in "${ATTRS[@]}"; do
		IFS='|' read -r name args ipf cfgf <<<"$a"
		# shellcheck disable=SC2086 # the attribute's words
		run vfctl set "$pf:0" $args
		echo "vfctl set $pf:0 $args: $status: $output"
		if [ "$status" -eq 0 ]; then
			jq -e "$ipf" <<<"$(vfinfo 0)" >/dev/null || bad+=("$name: set, but ip -d -j link reads $(vfinfo 0)")
			jq -e ".functions[0].config | $cfgf" <<<"$(vfctl --json show "$vf")" >/dev/null ||
				bad+=("$name: set, but vfctl show reads $(vfctl --json show "$vf" | jq -c .functions[0].config)")
			accepted+=("$name")
		else
			refused+=("$name")
			why=$(grep -m1 ': refused: ' <<<"$output" | sed 's/^ *//') || why=$(tail -n1 <<<"$output")
			refusals+=("$name: $why")
		fi
		# back to plain for the next (a VLAN protocol the driver refused
		# must not stay on the VLAN either)
		vfctl set "$pf:0" vlan 0 >/dev/null 2>&1 || true
	done
	note set accepted "$(printf '%s\n' "${accepted[@]}" | jq -R . | jq -cs .)"
	note set refused "$(printf '%s\n' "${refusals[@]}" | jq -R . | jq -cs 'map(select(. != ""))')"
	printf 'refused %s\n' "${refusals[@]}"
	[ ${#bad[@]} -eq 0 ] || { printf '%s\n' "${bad[@]}"; return 1; }
	[ "$row" != null ] || skip "no row in tests/hw/devices.json: accepted ${accepted[*]}; refused ${refused[*]}"
	# as sets: the order of the table and of the steps do not matter
	want_acc=$(expect '.accepts | sort | join(" ")') want_ref=$(expect '.refuses | sort | join(" ")')
	got_acc=$(printf '%s\n' "${accepted[@]}" | LC_ALL=C sort | tr '\n' ' ')
	got_ref=$(printf '%s\n' "${refused[@]}" | LC_ALL=C sort | tr '\n' ' ')
	[ "${got_acc% }" = "$want_acc" ] || { echo "accepted: ${got_acc% }; the table: $want_acc"; return 1; }
	[ "${got_ref% }" = "$want_ref" ] || { echo "refused: ${got_ref% }; the table: $want_ref"; return 1; }
}

@test "bind: VFs to vfio-pci; their IOMMU groups viable, blockers named, ACS isolation" {
	step bind
	ensure_vfs
	modprobe vfio-pci 2>/dev/null || true
	: >"$HW_OUT/bound"
	for ((i = 0; i <= HW_VFS - 2; i++)); do
		vf=$(vf_of "$i")
		echo "$vf $(hw_driver "$vf")" >>"$HW_OUT/bound"
		t0=$(hw_now_ms)
		run vfctl bind "$vf"
		t1=$(hw_now_ms)
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$(hw_driver "$vf")" = vfio-pci ]
		timing "bind_vf$i" $((t1 - t0))
		echo "# figure: bind $vf to vfio-pci: $((t1 - t0)) ms" >&3
		# a test hook: stop here, mid-step, for an interruption
		# (tests/vm/87-hw); "paused" holds this suite's process group
		if [ "${VFCTL_HW_PAUSE_AT:-}" = bind ]; then
			cut -d' ' -f5 "/proc/$BASHPID/stat" >"$HW_OUT/paused"
			sleep 600
		fi
	done
	run --separate-stderr vfctl --json groups --pf "$pf"
	[ "$status" -eq 0 ] || { echo "$output$stderr"; return 1; }
	groups=$output
	isolated=true blockers=()
	for ((i = 0; i <= HW_VFS - 2; i++)); do
		vf=$(vf_of "$i")
		g=$(jq -c --arg vf "$vf" '.groups[] | select(any(.members[]; .address == $vf))' <<<"$groups")
		[ -n "$g" ] || { echo "$vf is in no IOMMU group: is the IOMMU on?"; return 1; }
		[ "$(jq '.members | length' <<<"$g")" = 1 ] || isolated=false
		[ "$(jq -r .viable <<<"$g")" = true ] || blockers+=("$vf: group $(jq -r .id <<<"$g"): $(jq -r .reason <<<"$g")")
		grp=$(jq -r .id <<<"$g")
		[ -c "/dev/vfio/$grp" ] || [ -n "$(ls "$HW_PCI/$vf/vfio-dev" 2>/dev/null)" ] || { echo "no /dev/vfio/$grp for $vf"; return 1; }
	done
	note bind groups "$(jq -c --argjson iso "$isolated" '{acs_isolated: $iso,
		groups: [.groups[] | {id, viable, blocker, members: [.members[].address]}]}' <<<"$groups")"
	note bind blockers "$(printf '%s\n' "${blockers[@]}" | jq -R . | jq -cs 'map(select(. != ""))')"
	echo "# figure: VFs isolated in their own IOMMU groups (ACS): $isolated" >&3
	[ ${#blockers[@]} -eq 0 ] || { printf 'not viable: %s\n' "${blockers[@]}"; return 1; }
}

@test "apply: provisions from a generated config; a second apply changes nothing" {
	step apply
	ensure_vfs
	conf=$HW_OUT/apply.conf
	jq -n --arg pf "$pf" --argjson n "$HW_VFS" '{pfs: [{match: {address: $pf}, numvfs: $n, autoprobe: true,
		defaults: {spoofchk: true},
		vfs: [range($n) | {index: ., mac: ("02:00:5e:12:00:" + (if . < 16 then "0" else "" end) + (. | tostring))}]}]}' >"$conf"
	cat "$conf"
	run --separate-stderr vfctl --json apply --config "$conf"
	echo "$output$stderr"
	[ "$status" -eq 0 ]
	first=$(jq .n_changes <<<"$output")
	for ((i = 0; i < HW_VFS; i++)); do
		m=$(printf '02:00:5e:12:00:%02d' "$i")
		[ "$(vfinfo "$i" | jq -r .address)" = "$m" ] || { echo "VF $i: $(vfinfo "$i")"; return 1; }
	done
	run --separate-stderr vfctl --json apply --config "$conf"
	echo "$output$stderr"
	[ "$status" -eq 0 ]
	[ "$(jq .n_changes <<<"$output")" = 0 ]
	note apply changes "{\"first\": $first, \"second\": 0}"
}

@test "alloc: a lease from a vfctld on a private socket and run dir binds the VF to vfio-pci; release gives it back" {
	step alloc
	ensure_vfs
	d=$HW_OUT/vfctld
	mkdir -p "$d"
	idx=$((HW_VFS - 1))
	vf=$(vf_of "$idx")
	orig=$(hw_driver "$vf")
	jq -n --arg pf "$pf" --argjson i "$idx" --argjson n "$HW_VFS" '{pfs: [{match: {address: $pf}, numvfs: $n,
		pools: [{name: "hw", vfs: [$i], users: ["root"]}]}]}' >"$d/vfctl.conf"
	"$VFCTLD" --run-dir "$d/run" --socket "$d/vfctld.sock" --config "$d/vfctl.conf" \
		>>"$d/vfctld.log" 2>&1 </dev/null 3>&- &
	echo $! >"$HW_OUT/vfctld.pid"
	wait_for 15 test -S "$d/vfctld.sock" || { cat "$d/vfctld.log"; return 1; }
	run vfctl alloc --pool hw --owner tests-hw --socket "$d/vfctld.sock"
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(awk '{ print $1; exit }' <<<"$output")
	[ "$(awk '{ print $2; exit }' <<<"$output")" = "$vf" ]
	[ "$(hw_driver "$vf")" = vfio-pci ]
	run vfctl release "$lease" --socket "$d/vfctld.sock"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(hw_driver "$vf")" = "$orig" ]
	kill "$(cat "$HW_OUT/vfctld.pid")"
	wait "$(cat "$HW_OUT/vfctld.pid")" || true
	: >"$HW_OUT/vfctld.pid"
	note alloc lease "{\"vf\": \"$vf\", \"driver_after_release\": \"$orig\"}"
}

# on_vfio: VF 0 on vfio-pci for the guests (the bind step's, or bound now)
on_vfio() {
	ensure_vfs
	vf=$(vf_of 0)
	[ "$(hw_driver "$vf")" = vfio-pci ] && return 0
	[ -s "$HW_OUT/bound" ] || echo "$vf $(hw_driver "$vf")" >>"$HW_OUT/bound"
	modprobe vfio-pci 2>/dev/null || true
	vfctl bind "$vf" >/dev/null
}

@test "guest: vfkvm's built-in guest driver on VF 0: mailbox reset, the PF's MAC, one frame by DMA and its interrupt" {
	step guest
	[ -c /dev/kvm ] || skip "no /dev/kvm on this host"
	gd=$(expect .guest.driver)
	[ -n "$gd" ] || skip "vfkvm has no guest driver for this VF family ($(expect .guest.note))"
	pf_up
	on_vfio
	mac=$(vfinfo 0 | jq -r .address)
	before=$($HW_IP -s -d -j link show dev "$pfdev" | jq '.[0].vfinfo_list[0].stats.tx.tx_packets // .[0].vfinfo_list[0].stats.tx.packets // null')
	t0=$(hw_now_ms)
	first=
	: >"$HW_OUT/vfkvm.log"
	while IFS= read -r l; do
		echo "$l" >>"$HW_OUT/vfkvm.log"
		[ -n "$first" ] || [[ $l != guest:* ]] || first=$(($(hw_now_ms) - t0))
	done < <("$VFKVM" --vf "$vf" 2>&1; echo "vfkvm-exit=$?")
	cat "$HW_OUT/vfkvm.log"
	grep -qx 'vfkvm-exit=0' "$HW_OUT/vfkvm.log"
	output=$(cat "$HW_OUT/vfkvm.log")
	rep() { sed -n "s/^guest: $1 = //p" <<<"$output"; }
	reply=$(rep vf.reply)
	[[ "$reply" =~ ^0x[0-9a-f]+$ ]]
	# ACK of the reset (a CTS bit may ride along)
	(( (reply & ~0x20000000) == 0x80000001 ))
	[ "$(rep vf.mac)" = "$mac" ]
	txs=$(rep vf.tx.status)
	(( txs & 1 ))
	[ "$(rep vf.tx.packets)" = 0x1 ]
	[ "$(rep vf.tx.irq)" = 0x1 ]
	dma=$(sed -n 's/^vfio: guest RAM DMA-mapped: .* by [A-Z_]* in \([0-9.]*\) ms.*/\1/p' <<<"$output")
	[ -z "$first" ] || timing first_guest_register_read "$first"
	[ -z "$dma" ] || timing dma_map "$dma"
	echo "# figure: first guest register read ${first:-?} ms after start, DMA map ${dma:-?} ms" >&3
	after=$($HW_IP -s -d -j link show dev "$pfdev" | jq '.[0].vfinfo_list[0].stats.tx.tx_packets // .[0].vfinfo_list[0].stats.tx.packets // null')
	# the kernel reports zeros for a driver without per-VF counters (igb):
	# only where the table says the PF counts the VF's frames is it a check
	note guest pf_side "{\"vf_tx_packets_before\": $before, \"after\": $after}"
	if [ "$(expect .pf_vf_counters)" = true ]; then
		[ "$after" -gt "$before" ] || { echo "the PF's VF 0 counters did not move ($before -> $after)"; return 1; }
	fi
}

@test "qemu: a stock VMM (QEMU -device vfio-pci) realizes VF 0 with the VF's ids" {
	step qemu
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	on_vfio
	accel=tcg
	[ ! -c /dev/kvm ] || accel=kvm
	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-pci"}' '{"execute":"quit"}' >"$HW_OUT/qmp.in"
	run --separate-stderr timeout 120 qemu-system-x86_64 -machine q35 -accel "$accel" -m 64 -nodefaults -display none -S \
		-qmp stdio -device "vfio-pci,host=$vf,id=hostdev0" <"$HW_OUT/qmp.in"
	echo "$output$stderr" >"$HW_OUT/qemu.log"
	echo "$output$stderr"
	[ "$status" -eq 0 ]
	got=$(jq -r 'select(.return | type == "array") | .return[].devices[] |
		select(.qdev_id == "hostdev0") | "\(.id.vendor) \(.id.device)"' <<<"$output" 2>/dev/null)
	[ "$got" = "$((16#8086)) $((16#$(sed 's/^0x//' "$HW_PCI/$vf/device")))" ] || { echo "QEMU shows '$got'"; return 1; }
}

@test "release: every VF bound here is back on its original driver" {
	step release
	[ -s "$HW_OUT/bound" ] || skip "nothing was bound (steps bind, guest, qemu not run)"
	while read -r vf orig; do
		run vfctl restore "$vf"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$(hw_driver "$vf")" = "$orig" ] || { echo "$vf: driver '$(hw_driver "$vf")', was '$orig'"; return 1; }
		ov=$(cat "$HW_PCI/$vf/driver_override")
		[ "$ov" = "(null)" ] || [ -z "$ov" ]
	done <"$HW_OUT/bound"
}

@test "restore: the PF is back as recorded (VF count, autoprobe, drivers, overrides, settings, link)" {
	rec=$(cat "$HW_OUT/recorded.json")
	hw_restore "$rec" || true
	now=$(hw_state "$pf")
	echo "$now" >"$HW_OUT/restored.json"
	d=$(hw_state_diff "$rec" "$now")
	[ -z "$d" ] || { echo "differs from the record:"; echo "$d"; return 1; }
}
