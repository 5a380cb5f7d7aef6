# Shared by tests/hw/run and tests/hw/qualify.bats: the PF's state as JSON,
# putting it back, the safety checks, the device table. Reads sysfs and
# iproute2 directly (what the kernel says, not what vfctl says) so the
# record and the comparison do not depend on the code under test.
# shellcheck shell=bash

HW_IP=${HW_IP:-/usr/sbin/ip}
[ -x "$HW_IP" ] || HW_IP=ip
# VFCTL_SYSFS_ROOT (a golden tree) is for --dry-run and the refusals only
HW_SYS=${VFCTL_SYSFS_ROOT:-/sys}
HW_PCI=$HW_SYS/bus/pci/devices
HW_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HW_DEVICES=$HW_HERE/devices.json

# hw_now_ms: milliseconds since the epoch (for the report's timings)
hw_now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# hw_driver BDF: the bound driver's name, empty if none
hw_driver() {
	local l
	l=$(readlink "$HW_PCI/$1/driver" 2>/dev/null) || return 0
	echo "${l##*/}"
}

# hw_netdev BDF: the function's first network interface, empty if none
hw_netdev() {
	local n
	for n in "$HW_PCI/$1"/net/*; do
		[ -e "$n" ] && { echo "${n##*/}"; return 0; }
	done
}

# hw_vfs PF: the PF's VF addresses in VF index order
hw_vfs() {
	local i=0 l
	while l=$(readlink "$HW_PCI/$1/virtfn$i" 2>/dev/null); do
		echo "${l##*/}"
		i=$((i + 1))
	done
}

# hw_group BDF: the IOMMU group number, empty if none
hw_group() {
	local l
	l=$(readlink "$HW_PCI/$1/iommu_group" 2>/dev/null) || return 0
	echo "${l##*/}"
}

# hw_resolve_pf PF-OR-NETDEV: the PCI address (fails with a message)
hw_resolve_pf() {
	local a=$1 l
	if [ -e "$HW_SYS/class/net/$a/device" ]; then
		l=$(readlink -f "$HW_SYS/class/net/$a/device")
		a=${l##*/}
	fi
	[[ $a == ????:??:??.? ]] || a=0000:$a
	[ -e "$HW_PCI/$a" ] || { echo "no PCI function or network interface '$1'" >&2; return 1; }
	echo "$a"
}

# hw_devrow PF: the device table's row for the PF's device id (JSON), or
# fails
hw_devrow() {
	local id
	id=$(sed 's/^0x//' "$HW_PCI/$1/device")
	jq -ce --arg id "$id" '.devices[$id] // empty | . + {pf_id: $id}' "$HW_DEVICES"
}

# hw_state PF: everything tests/hw changes on the PF and its VFs, as one
# JSON object (compact, keys sorted): VF count, autoprobe, the PF link's
# administrative state, every VF's driver, driver_override and settings
# (the PF's vfinfo from `ip -d -j link`, counters left out)
hw_state() {
	local pf=$1 dev up=null vfinfo='[]' vf i=0 ov vfs=()
	dev=$(hw_netdev "$pf")
	if [ -n "$dev" ]; then
		local j
		j=$($HW_IP -d -j link show dev "$dev")
		up=$(jq '.[0].flags | index("UP") != null' <<<"$j")
		vfinfo=$(jq -c '[.[0].vfinfo_list // [] | .[] | del(.stats)]' <<<"$j")
	fi
	for vf in $(hw_vfs "$pf"); do
		ov=$(cat "$HW_PCI/$vf/driver_override" 2>/dev/null || true)
		[ "$ov" != "(null)" ] || ov=
		vfs+=("$(jq -cn --argjson i "$i" --arg a "$vf" --arg d "$(hw_driver "$vf")" \
			--arg o "$ov" --argjson info "$vfinfo" \
			'{index: $i, address: $a, driver: $d, driver_override: $o,
			  config: ($info | map(select(.vf == $i)) | .[0] // null)}')")
		i=$((i + 1))
	done
	printf '%s\n' "${vfs[@]}" | jq -cS --arg pf "$pf" --arg dev "$dev" --argjson up "$up" \
		--argjson n "$(cat "$HW_PCI/$pf/sriov_numvfs")" \
		--argjson ap "$(cat "$HW_PCI/$pf/sriov_drivers_autoprobe" 2>/dev/null || echo 1)" \
		--arg drv "$(hw_driver "$pf")" \
		'{pf: $pf, netdev: $dev, pf_driver: $drv, admin_up: $up, numvfs: $n,
		  autoprobe: ($ap == 1), vfs: [inputs]}' -n
}

# hw_ip_vf_args CONFIG: the `ip link set DEV vf N ...` arguments that give
# a VF the recorded settings (CONFIG: one vfinfo entry), one attribute (or
# group, as vlan/qos and the two rates) a line; no VLAN is vlan 0, no MAC
# 00:00:00:00:00:00 (igb clears its administrative MAC so)
hw_ip_vf_args() {
	jq -r '
	  (if .address then "mac \(.address)" else empty end),
	  (if .vlan_list then "vlan \(.vlan_list[0].vlan) qos \(.vlan_list[0].qos // 0)" else "vlan 0" end),
	  (if .spoofchk != null then "spoofchk \(if .spoofchk then "on" else "off" end)" else empty end),
	  (if .trust != null then "trust \(if .trust then "on" else "off" end)" else empty end),
	  (if .rate then "max_tx_rate \(.rate.max_tx) min_tx_rate \(.rate.min_tx)" else empty end),
	  (if .link_state then "state \(.link_state)" else empty end)' <<<"$1"
}

# hw_sysfs_write FILE VALUE: write VALUE, naming FILE on failure
hw_sysfs_write() {
	if ! echo "$2" 2>/dev/null >"$1"; then
		echo "writing '$2' to $1 failed" >&2
		return 1
	fi
}

# hw_restore STATE: put the PF back as STATE (hw_state's JSON) says. Each
# step is tried even when an earlier one failed; returns 1 if any did.
hw_restore() {
	local st=$1 pf n ap vf rc=0 i drv ov cur dev want_up args=()
	pf=$(jq -r .pf <<<"$st")
	n=$(jq -r .numvfs <<<"$st")
	ap=$(jq -r 'if .autoprobe then 1 else 0 end' <<<"$st")
	# nothing may hold a VF on vfio-pci when the count changes
	for vf in $(hw_vfs "$pf"); do
		hw_sysfs_write "$HW_PCI/$vf/driver_override" "" || rc=1
		[ "$(hw_driver "$vf")" != vfio-pci ] ||
			hw_sysfs_write "$HW_PCI/$vf/driver/unbind" "$vf" || rc=1
	done
	if [ "$(cat "$HW_PCI/$pf/sriov_numvfs")" != "$n" ]; then
		[ "$(cat "$HW_PCI/$pf/sriov_numvfs")" = 0 ] ||
			hw_sysfs_write "$HW_PCI/$pf/sriov_numvfs" 0 || rc=1
	fi
	[ ! -e "$HW_PCI/$pf/sriov_drivers_autoprobe" ] ||
		hw_sysfs_write "$HW_PCI/$pf/sriov_drivers_autoprobe" "$ap" || rc=1
	if [ "$n" != 0 ] && [ "$(cat "$HW_PCI/$pf/sriov_numvfs")" = 0 ]; then
		hw_sysfs_write "$HW_PCI/$pf/sriov_numvfs" "$n" || rc=1
	fi
	dev=$(hw_netdev "$pf")
	for ((i = 0; i < n; i++)); do
		vf=$(jq -r ".vfs[$i].address" <<<"$st")
		drv=$(jq -r ".vfs[$i].driver" <<<"$st")
		ov=$(jq -r ".vfs[$i].driver_override" <<<"$st")
		# settings first: a host VF driver reads its MAC at probe
		if [ -n "$dev" ]; then
			# one attribute at a time: the driver refuses some (as it did
			# when they were recorded), and those are unchanged anyway
			while read -r -a args; do
				[ ${#args[@]} -eq 0 ] ||
					$HW_IP link set dev "$dev" vf "$i" "${args[@]}" 2>/dev/null || true
			done < <(hw_ip_vf_args "$(jq -c ".vfs[$i].config // {}" <<<"$st")")
		fi
		hw_sysfs_write "$HW_PCI/$vf/driver_override" "$ov" || rc=1
		cur=$(hw_driver "$vf")
		[ "$cur" = "$drv" ] && continue
		[ -z "$cur" ] || hw_sysfs_write "$HW_PCI/$vf/driver/unbind" "$vf" || rc=1
		if [ -n "$drv" ]; then
			[ "$drv" != vfio-pci ] || modprobe vfio-pci 2>/dev/null || true
			hw_sysfs_write "/sys/bus/pci/drivers/$drv/bind" "$vf" || rc=1
		fi
	done
	if [ -n "$dev" ]; then
		want_up=$(jq -r .admin_up <<<"$st")
		if [ "$want_up" = true ]; then
			$HW_IP link set dev "$dev" up || rc=1
		elif [ "$want_up" = false ]; then
			$HW_IP link set dev "$dev" down || rc=1
		fi
	fi
	return $rc
}

# hw_state_diff RECORDED NOW: what differs, one line per difference (empty:
# the same)
hw_state_diff() {
	diff <(jq -S . <<<"$1") <(jq -S . <<<"$2") | grep '^[<>]' || true
}

# hw_netdev_refusal DEV WHAT: why DEV may not be touched (a host address,
# route or master), empty if nothing. IPv6 link-local addresses and their
# fe80::/64 and multicast routes come with any interface that is up: they
# carry no host traffic and do not count.
hw_netdev_refusal() {
	local dev=$1 what=$2 a r m
	# another tree's netdevs are not this host's
	[ "$HW_SYS" = /sys ] || return 0
	r=$({ $HW_IP -j -4 route show default dev "$dev"; $HW_IP -j -6 route show default dev "$dev"; } 2>/dev/null |
		jq -rs 'add | .[0] // empty | "\(.dst) via \(.gateway // "(direct)")"')
	[ -z "$r" ] || { echo "$what carries the default route ($r): it serves this host; qualify a PF no traffic depends on"; return; }
	a=$($HW_IP -j addr show dev "$dev" 2>/dev/null |
		jq -r '[.[0].addr_info // [] | .[] | select(.local != null) |
			select(.family == "inet" or (.local | test("^fe80:") | not)) |
			"\(.local)/\(.prefixlen)"] | join(", ")')
	[ -z "$a" ] || { echo "$what carries host addresses ($a): remove them ('ip addr flush dev $dev') or qualify another PF"; return; }
	r=$({ $HW_IP -j -4 route show dev "$dev"; $HW_IP -j -6 route show dev "$dev"; } 2>/dev/null |
		jq -rs '[add | .[] | select(.dst | test("^(fe80::/64|ff00::/8|multicast)") | not) | .dst] | join(", ")')
	[ -z "$r" ] || { echo "$what carries host routes ($r): remove them or qualify another PF"; return; }
	m=$($HW_IP -j -d link show dev "$dev" 2>/dev/null |
		jq -r '.[0] | select(.master != null) | "\(.linkinfo.info_slave_kind // "a master device") \(.master)"')
	[ -z "$m" ] || echo "$what is enslaved to $m: take it out ('ip link set $dev nomaster') or qualify another PF"
}

# hw_holders VF...: "VF PID/COMM" for each process holding a VF's VFIO
# group or cdev (one pass over /proc for all the VFs)
hw_holders() {
	local vf grp c expr=() map=() l pid node
	for vf in "$@"; do
		grp=$(hw_group "$vf")
		[ -z "$grp" ] || { expr+=(-o -lname "/dev/vfio/$grp"); map+=("/dev/vfio/$grp $vf"); }
		for c in "$HW_PCI/$vf"/vfio-dev/vfio*; do
			[ -e "$c" ] || continue
			expr+=(-o -lname "/dev/vfio/devices/${c##*/}")
			map+=("/dev/vfio/devices/${c##*/} $vf")
		done
	done
	[ ${#expr[@]} -gt 0 ] || return 0
	find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 \( "${expr[@]:1}" \) -printf '%h %l\n' 2>/dev/null |
	while read -r l node; do
		pid=${l#/proc/}
		pid=${pid%/fd}
		for c in "${map[@]}"; do
			[ "${c%% *}" != "$node" ] || echo "${c#* } $pid/$(cat "/proc/$pid/comm" 2>/dev/null)"
		done
	done | sort -u
}

# hw_preflight PF: the first reason not to touch PF, on stdout as one line
# (and status 1); nothing is changed either way
hw_preflight() {
	local pf=$1 dev vf why leases n h
	[ -e "$HW_PCI/$pf/sriov_totalvfs" ] ||
		{ echo "$pf has no SR-IOV capability (no sriov_totalvfs): nothing to qualify"; return 1; }
	[ -n "$(hw_driver "$pf")" ] ||
		{ echo "$pf is bound to no driver: its PF driver makes the VFs; bind it first"; return 1; }
	dev=$(hw_netdev "$pf")
	if [ -n "$dev" ]; then
		why=$(hw_netdev_refusal "$dev" "PF $pf ($dev)")
		[ -z "$why" ] || { echo "$why"; return 1; }
	fi
	for vf in $(hw_vfs "$pf"); do
		dev=$(hw_netdev "$vf")
		if [ -n "$dev" ]; then
			why=$(hw_netdev_refusal "$dev" "VF $vf ($dev) of $pf")
			[ -z "$why" ] || { echo "$why"; return 1; }
		fi
	done
	# shellcheck disable=SC2046 # the VF addresses, one word each
	h=$(hw_holders $(hw_vfs "$pf") | head -n1)
	[ -z "$h" ] || { echo "VF ${h%% *} of $pf is held by process ${h#* }: its VFIO user would lose it; stop it first"; return 1; }
	leases=${VFCTL_RUN_DIR:-/run/vfctl}/leases.json
	if [ -e "$leases" ]; then
		n=$(jq -r --arg pf "$pf" '[.leases[] | select(.state == "active" and .pf == $pf) | "\(.id) (VF \(.vf))"] | join(", ")' "$leases" 2>/dev/null) ||
			{ echo "$leases: not readable as vfctld's lease list, so $pf's leases cannot be checked"; return 1; }
		[ -z "$n" ] || { echo "vfctld leases VFs of $pf: $n; release them first ('vfctl release ID')"; return 1; }
	fi
	return 0
}

# hw_sriov_pfs: the host's SR-IOV PFs (PCI addresses)
hw_sriov_pfs() {
	local d
	for d in "$HW_PCI"/*; do
		[ -e "$d/sriov_totalvfs" ] && echo "${d##*/}"
	done
	return 0
}
