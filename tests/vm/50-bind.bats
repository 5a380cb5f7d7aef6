#!/usr/bin/env bats
# vfctl bind / unbind / restore on the real igb VFs: driver_override,
# drivers_probe, the driver link, /dev/vfio/GROUP, saved original state.

# shellcheck disable=SC2030,SC2031 # each test is a subshell of its own
# shellcheck disable=SC2154 # stderr: set by bats run --separate-stderr
load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
	export VFCTL_RUN_DIR=/run/vfctl-test
	rm -rf "$VFCTL_RUN_DIR"
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] || return 0
	vm_reset_igb
}

setup() {
	vm_require
	pf=$(vm_igb_pf)
	pfdev=$(vm_pf_netdev "$pf")
	$VM_IP link set "$pfdev" up
	vm_set_numvfs "$pf" 2
	vf=$(vm_vf "$pf" 1)
	vm_wait_for 10 test -e "$VM_PCI/$vf/driver"
}

vfjq() {
	vfctl show --json "$vf" | jq -e -r ".functions[0] | $1"
}

pf_mac_is() {
	[ "$(vfjq .config.mac)" = "$1" ]
}

@test "bind a VF to vfio-pci: /dev/vfio/GROUP appears, groups says viable; restore gives back igbvf with the same settings" {
	vm_require_iommu
	grp=$(vm_iommu_group "$vf")
	$VM_IP link set "$pfdev" vf 1 mac 02:aa:bb:cc:dd:01
	$VM_IP link set "$pfdev" vf 1 vlan 42 qos 2
	$VM_IP link set "$pfdev" vf 1 spoofchk off
	$VM_IP link set "$pfdev" vf 1 trust on
	before=$(vfctl show --json "$vf" | jq -c '.functions[0].config')

	start=$(date +%s%N)
	run vfctl bind "$vf" vfio-pci
	echo "# bind: $(( ($(date +%s%N) - start) / 1000000 )) ms" >&3
	[ "$status" -eq 0 ]
	[[ "$output" == "$vf: bound to vfio-pci (was igbvf), iommu group $grp (viable)"* ]]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	[ "$(cat "$VM_PCI/$vf/driver_override")" = vfio-pci ]
	[ -c "/dev/vfio/$grp" ]
	[ "$(vfctl groups --json | jq -r --argjson g "$grp" '.groups[] | select(.id == $g) | .viable')" = true ]
	[ -s "$VFCTL_RUN_DIR/state/$vf.json" ]
	[ "$(jq -r .driver "$VFCTL_RUN_DIR/state/$vf.json")" = igbvf ]

	# binding twice: nothing to do (exit 0), said on stderr, nothing changed
	run --separate-stderr vfctl bind "$vf" vfio-pci
	[ "$status" -eq 0 ]
	[[ "$stderr" == "vfctl: nothing to do: $vf: already bound to vfio-pci, nothing changed"* ]]
	[[ "$output" == "$vf: bound to vfio-pci (was vfio-pci)"* ]]
	[ "$(vm_driver "$vf")" = vfio-pci ]

	run vfctl restore "$vf"
	[ "$status" -eq 0 ]
	[[ "$output" == "$vf: restored to igbvf (was vfio-pci)"* ]]
	[ "$(vm_driver "$vf")" = igbvf ]
	[ "$(cat "$VM_PCI/$vf/driver_override")" = "(null)" ]
	[ ! -e "$VFCTL_RUN_DIR/state/$vf.json" ]
	after=$(vfctl show --json "$vf" | jq -c '.functions[0].config')
	[ "$before" = "$after" ]
	[ "$(vfjq .config.mac)" = 02:aa:bb:cc:dd:01 ]
	[ "$(vfjq .config.vlan)" = 42 ]
	[ "$(vfjq .config.spoofchk)" = false ]
	# the VF's own driver came back with the admin MAC
	vm_wait_for 10 test -e "$VM_PCI/$vf/net"
	[ "$(cat "$VM_PCI/$vf"/net/*/address)" = 02:aa:bb:cc:dd:01 ]
}

@test "bind pins the VF's MAC as the PF's admin MAC: it survives a VF reset; restore unpins it (the VF may change its MAC again)" {
	vm_require_iommu
	vf=$(vm_vf "$pf" 0)	# VF 0 never had an admin MAC: igbvf chose one
	vm_wait_for 10 test -e "$VM_PCI/$vf/net"
	netmac=$(cat "$VM_PCI/$vf"/net/*/address)
	[[ "$netmac" =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]]
	[ "$netmac" != 00:00:00:00:00:00 ]
	if vm_igb_loses_vf_probe; then
		# 6.1: the PF never heard igbvf's MAC
		[ "$(vfjq .config.mac)" = 00:00:00:00:00:00 ]
	else
		[ "$(vfjq .config.mac)" = "$netmac" ]
	fi
	run vfctl bind "$vf"
	[ "$status" -eq 0 ]
	[ "$(vfjq .config.mac)" = "$netmac" ]
	# the saved state holds the MAC bind pinned and the admin MAC before: none
	[ "$(jq -r .vf.pinned_mac "$VFCTL_RUN_DIR/state/$vf.json")" = "$netmac" ]
	[ "$(jq -r .vf.mac "$VFCTL_RUN_DIR/state/$vf.json")" = 00:00:00:00:00:00 ]
	# a reset (vfio-pci does one when a user opens the device) keeps an admin MAC;
	# igb would draw a random one for a MAC the VF driver set itself
	echo 1 >"$VM_PCI/$vf/reset"
	[ "$(vfjq .config.mac)" = "$netmac" ]
	run vfctl restore "$vf"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
	vm_wait_for 10 test -e "$VM_PCI/$vf/net"
	# no pin left: the VF's own driver may set a MAC (a pinned VF gets
	# EADDRNOTAVAIL, "attempted to override administratively set MAC address")
	vfnet=$(basename "$VM_PCI/$vf"/net/*)
	run $VM_IP link set "$vfnet" address 02:12:34:56:78:9a
	[ "$status" -eq 0 ]
	[ "$(cat "$VM_PCI/$vf/net/$vfnet/address")" = 02:12:34:56:78:9a ]
	# and the PF hears it (igbvf tells it through the mailbox)
	vm_wait_for 5 pf_mac_is 02:12:34:56:78:9a
}

@test "an admin MAC set by hand before bind is pinned again by restore" {
	# igb lets a trusted VF override its admin MAC: the first test trusts VF 1
	$VM_IP link set "$pfdev" vf 1 trust off
	$VM_IP link set "$pfdev" vf 1 mac 02:aa:bb:cc:dd:02
	run vfctl bind "$vf" vfio-pci
	[ "$status" -eq 0 ]
	[ "$(jq -r .vf.mac "$VFCTL_RUN_DIR/state/$vf.json")" = 02:aa:bb:cc:dd:02 ]
	run vfctl restore "$vf"
	[ "$status" -eq 0 ]
	[ "$(vfjq .config.mac)" = 02:aa:bb:cc:dd:02 ]
	vm_wait_for 10 test -e "$VM_PCI/$vf/net"
	vfnet=$(basename "$VM_PCI/$vf"/net/*)
	run $VM_IP link set "$vfnet" address 02:12:34:56:78:9b
	[ "$status" -ne 0 ]
}

@test "bind and unbind by netdev name: exit 0, read back by address" {
	vm_wait_for 10 test -e "$VM_PCI/$vf/net"
	vfnet=$(basename "$VM_PCI/$vf"/net/*)
	run vfctl bind "$vfnet" vfio-pci
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "$vf: bound to vfio-pci (was igbvf)"* ]]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	run vfctl restore "$vf"
	[ "$status" -eq 0 ]
	vm_wait_for 10 test -e "$VM_PCI/$vf/net"
	vfnet=$(basename "$VM_PCI/$vf"/net/*)
	run vfctl unbind "$vfnet"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "$vf: unbound from igbvf"* ]]
	[ -z "$(vm_driver "$vf")" ]
	run vfctl restore "$vf"
	[ "$status" -eq 0 ]
}

@test "bind the PF while it has VFs: refused, how many would go, nothing changed" {
	run vfctl bind "$pf"
	echo "$output"
	[ "$status" -eq 4 ]
	[ "$output" = "vfctl: $pf: it has 2 VFs (sriov_numvfs); taking it from igb disables SR-IOV and destroys all of them, with their netdevs and settings: destroy them first ('vfctl destroy $pf'), or use --force to bind it anyway and lose the 2 VFs" ]
	[ "$(vm_driver "$pf")" = igb ]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 2 ]
	[ "$(cat "$VM_PCI/$pf/driver_override")" = "(null)" ]
	[ ! -e "$VFCTL_RUN_DIR/state/$pf.json" ]
}

@test "unbind leaves the VF without a driver; restore brings igbvf back" {
	run vfctl unbind "$vf"
	[ "$status" -eq 0 ]
	[ -z "$(vm_driver "$vf")" ]
	run vfctl unbind "$vf"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not bound to any driver, nothing changed"* ]]
	run vfctl restore "$vf"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
}

@test "bind and restore several VFs in one command: each in turn, one JSON document" {
	local vf0
	vf0=$(vm_vf "$pf" 0)
	vm_wait_for 10 test -e "$VM_PCI/$vf0/driver"
	run vfctl bind "$vf0" "$vf"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "$vf0: bound to vfio-pci (was igbvf)"* ]]
	[[ "${lines[1]}" == "$vf: bound to vfio-pci (was igbvf)"* ]]
	[ "$(vm_driver "$vf0")" = vfio-pci ]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	run vfctl --json restore "$vf0" "$vf"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.functions[] | [.address, .driver, .previous_driver]]' <<<"$output")" = \
		"[[\"$vf0\",\"igbvf\",\"vfio-pci\"],[\"$vf\",\"igbvf\",\"vfio-pci\"]]" ]
	[ "$(vm_driver "$vf0")" = igbvf ]
	[ "$(vm_driver "$vf")" = igbvf ]
	[ ! -e "$VFCTL_RUN_DIR/state/$vf0.json" ]
}

@test "bind to another driver by name, and a driver that does not exist" {
	run vfctl unbind "$vf"
	[ "$status" -eq 0 ]
	run vfctl bind "$vf" igbvf
	[ "$status" -eq 0 ]
	[[ "$output" == "$vf: bound to igbvf (was none)"* ]]
	[ "$(vm_driver "$vf")" = igbvf ]
	[ "$(cat "$VM_PCI/$vf/driver_override")" = igbvf ]
	run vfctl restore "$vf"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
	run vfctl bind "$vf" no_such_driver
	[ "$status" -eq 3 ]
	[[ "$output" == *"driver no_such_driver is not loaded and 'modprobe no_such_driver' failed"* ]]
	[ "$(vm_driver "$vf")" = igbvf ]
	[ "$(cat "$VM_PCI/$vf/driver_override")" = "(null)" ]
	run vfctl bind "$vf" '../x'
	[ "$status" -eq 1 ]
	[[ "$output" == *"is not a driver name"* ]]
}

@test "unbinding a device a process holds open is refused and names the holder" {
	vm_require_iommu
	grp=$(vm_iommu_group "$vf")
	run vfctl bind "$vf"
	[ "$status" -eq 0 ]
	# hold the group open in a background process
	sleep 60 5<>"/dev/vfio/$grp" &
	holder=$!
	vm_wait_for 5 test -e "/proc/$holder/fd/5"
	# it gives up on its own (--timeout 3), not hung: 124 if timeout had to end it
	run timeout 120 vfctl --timeout 3 unbind "$vf"
	kill "$holder"
	wait "$holder" || true
	[ "$status" -eq 4 ]
	[[ "$output" == *"/dev/vfio/$grp is held open by pid $holder (sleep)"* ]]
	[ "$(vm_driver "$vf")" = vfio-pci ]
	run vfctl restore "$vf"
	[ "$status" -eq 0 ]
}

@test "unbinding the PF whose netdev carries host routes needs --force" {
	vm_set_numvfs "$pf" 0	# a PF with VFs is refused for them first
	$VM_IP addr add 192.0.2.1/24 dev "$pfdev"
	run vfctl unbind "$pf"
	$VM_IP addr del 192.0.2.1/24 dev "$pfdev"
	[ "$status" -eq 4 ]
	[[ "$output" == *"its netdev $pfdev carries host routes"*"--force"* ]]
	[ "$(vm_driver "$pf")" = igb ]
}

@test "restore without saved state says so" {
	run vfctl restore "$vf"
	[ "$status" -eq 3 ]
	[[ "$output" == *"no saved state in $VFCTL_RUN_DIR/state"* ]]
}

@test "restore sends only the settings that differ from the driver's, all in one RTM_SETLINK" {
	run vfctl bind "$vf"
	[ "$status" -eq 0 ]
	# changed while bound: restore puts back vlan 0 and trust off (and
	# unpins the MAC); spoofchk and the rates are as saved: not sent
	$VM_IP link set "$pfdev" vf 1 vlan 7
	$VM_IP link set "$pfdev" vf 1 trust on
	trace=$BATS_TEST_TMPDIR/sendmsg
	run strace -f --seccomp-bpf -e trace=sendmsg -o "$trace" vfctl restore "$vf"
	[ "$status" -eq 0 ]
	n=$(grep -cE 'nlmsg_type=(RTM_SETLINK|0x13)[^0-9a-f]' "$trace" || true)
	echo "# figure: restore: $n RTM_SETLINK (vlan, trust and the MAC differ)" >&3
	[ "$n" -eq 1 ]
	[ "$(vfjq .config.vlan)" = 0 ]
	[ "$(vfjq .config.trust)" = false ]
	[ "$(vm_driver "$vf")" = igbvf ]

	# all as saved: nothing to send
	run vfctl bind "$vf"
	[ "$status" -eq 0 ]
	$VM_IP link set "$pfdev" vf 1 mac 00:00:00:00:00:00	# unpinned, as saved
	run strace -f --seccomp-bpf -e trace=sendmsg -o "$trace" vfctl restore "$vf"
	[ "$status" -eq 0 ]
	n=$(grep -cE 'nlmsg_type=(RTM_SETLINK|0x13)[^0-9a-f]' "$trace" || true)
	echo "# figure: restore with every setting as saved: $n RTM_SETLINK" >&3
	[ "$n" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
}
