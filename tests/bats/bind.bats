#!/usr/bin/env bats
# bind refusals on golden trees: checked before anything is written.

# shellcheck disable=SC2154 # stderr: set by bats run --separate-stderr
bats_require_minimum_version 1.5.0
load helpers

setup() {
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${FIXTURES:?set FIXTURES to the trees}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT
	export VFCTL_RUN_DIR=$BATS_TEST_TMPDIR/run
}

# tree NAME: a private copy (writes must not touch the shared fixtures)
tree() {
	cp -a "$FIXTURES/$1" "$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1/sys"
}

snapshot() {	# every file's content under a device dir, to prove nothing changed
	(cd "$1" && find . -maxdepth 1 -type f -name 'driver_override' -exec cat {} +; readlink driver || true)
}

@test "bind to vfio-pci on a host without IOMMU: refused, says how to enable it, nothing written" {
	root=$(tree no-iommu)
	dev=$(cd "$root/bus/pci/devices/0000:01:00.0" && pwd -P)
	before=$(snapshot "$dev")
	run "$VFCTL" --sysfs-root "$root" bind 0000:01:00.0 vfio-pci
	[ "$status" -eq 3 ]
	[[ "$output" == "vfctl: 0000:01:00.0: the host has no IOMMU"*"intel_iommu=on (Intel) or amd_iommu=on (AMD)" ]]
	[ "$(snapshot "$dev")" = "$before" ]
	[ ! -e "$VFCTL_RUN_DIR/state" ]
}

@test "bind that would leave the group not viable lists the blockers, nothing written" {
	root=$(tree shared-group)
	run "$VFCTL" --sysfs-root "$root" bind 0000:05:10.6 vfio-pci
	[ "$status" -eq 4 ]
	# the blocker is the VF's own PF: never "bind the PF too", but the ways out
	[ "$output" = "vfctl: 0000:05:10.6: binding it to vfio-pci leaves IOMMU group 12 not viable: 0000:05:00.0 (ixgbe); its PF 0000:05:00.0 shares the group (its port has no ACS isolation), so the VF cannot be passed through apart from it: pass the whole group to one guest, put the card in a slot whose port has ACS, or use a platform with ACS" ]
	[ "$(cat "$root/bus/pci/devices/0000:05:10.6/driver_override")" = "(null)" ]
	[ ! -e "$VFCTL_RUN_DIR/state" ]
}

@test "binding twice: nothing to do, exit 0, said so" {
	root=$(tree 82599-8vf)
	run --separate-stderr "$VFCTL" --sysfs-root "$root" bind 0000:03:11.6 vfio-pci
	[ "$status" -eq 0 ]
	[[ "$stderr" == "vfctl: nothing to do: 0000:03:11.6: already bound to vfio-pci, nothing changed"* ]]
}

@test "bad driver names and devices" {
	root=$(tree 82599-8vf)
	for d in ../vfio-pci 'a b' '' "$(printf 'x%.0s' {1..70})"; do
		run "$VFCTL" --sysfs-root "$root" bind 0000:03:10.0 "$d"
		[ "$status" -eq 1 ]
		[[ "$output" == *"is not a driver name"* ]]
	done
	run "$VFCTL" --sysfs-root "$root" bind 0000:09:00.0
	[ "$status" -eq 3 ]
	[[ "$output" == *"0000:09:00.0: no such PCI function"* ]]
	run "$VFCTL" --sysfs-root "$root" bind
	[ "$status" -eq 2 ]
	# a second DEV that is none: found before anything changes
	run "$VFCTL" --sysfs-root "$root" unbind 0000:03:10.0 extra
	[ "$status" -eq 3 ]
	[[ "$output" == "vfctl: extra: no PCI function has a netdev of that name"*"; nothing was changed" ]]
}

@test "several DEVs: all found before any changes (a wrong one or one named twice changes nothing), one document in JSON" {
	root=$(tree 82599-8vf)
	d=$root/bus/pci/devices
	before=$(snapshot "$(cd "$d/0000:03:10.0" && pwd -P)")
	run "$VFCTL" --sysfs-root "$root" bind 0000:03:10.0 0000:09:00.0 vfio-pci
	[ "$status" -eq 3 ]
	[[ "$output" == "vfctl: 0000:09:00.0: no such PCI function"*"; nothing was changed" ]]
	run "$VFCTL" --sysfs-root "$root" restore 0000:03:10.0 03:10.0
	[ "$status" -eq 2 ]
	[ "$output" = "vfctl restore: 0000:03:10.0 is named twice (0000:03:10.0, 03:10.0); nothing was changed" ]
	[ "$(snapshot "$(cd "$d/0000:03:10.0" && pwd -P)")" = "$before" ]
	[ ! -e "$VFCTL_RUN_DIR/state" ]
	# two VFs on vfio-pci already: each said, exit 0; a name last is the driver
	ln -sfn ../../../../../bus/pci/drivers/vfio-pci "$d/0000:03:11.4/driver"
	rm -rf "$d/0000:03:11.4/net"
	echo vfio-pci >"$d/0000:03:11.4/driver_override"
	: >"${root%/sys}/dev/vfio/$(basename "$(readlink "$d/0000:03:11.4/iommu_group")")"
	run --separate-stderr "$VFCTL" --sysfs-root "$root" --dev-root "${root%/sys}/dev" --json bind 0000:03:11.4 03:11.6 vfio-pci
	[ "$status" -eq 0 ]
	schema_ok bind_many
	[ "$(jq -c '[.functions[] | [.address, .driver, .group_viable]]' <<<"$output")" = \
		'[["0000:03:11.4","vfio-pci",true],["0000:03:11.6","vfio-pci",true]]' ]
	[ "$(grep -c 'nothing to do' <<<"$stderr")" = 2 ]
	run "$VFCTL" --sysfs-root "$root" --dev-root "${root%/sys}/dev" bind 0000:03:11.4 0000:03:11.6
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" == "0000:03:11.6: bound to vfio-pci (was vfio-pci), iommu group 37 (viable)" ]]
}

@test "a driver that is not loaded cannot be loaded for a tree that is not the live /sys" {
	root=$(tree 82599-8vf)
	run "$VFCTL" --sysfs-root "$root" bind 0000:03:10.0 pci-stub
	[ "$status" -eq 3 ]
	[[ "$output" == *"driver pci-stub is not in $root/bus/pci/drivers/pci-stub"* ]]
	[ "$(cat "$root/bus/pci/devices/0000:03:10.0/driver_override")" = "(null)" ]
}

@test "restore with nothing saved" {
	root=$(tree 82599-8vf)
	run "$VFCTL" --sysfs-root "$root" restore 0000:03:10.0
	[ "$status" -eq 3 ]
	[[ "$output" == "vfctl: 0000:03:10.0: no saved state in $VFCTL_RUN_DIR/state"* ]]
}

@test "an unwritable run directory is named, with the fix" {
	root=$(tree 82599-8vf)
	: >"$BATS_TEST_TMPDIR/file"
	VFCTL_RUN_DIR=$BATS_TEST_TMPDIR/file/run run "$VFCTL" --sysfs-root "$root" restore 0000:03:10.0
	[ "$status" -eq 1 ]
	[[ "$output" == *"run directory $BATS_TEST_TMPDIR/file: mkdir: File exists"*"VFCTL_RUN_DIR"* ]] ||
		[[ "$output" == *"run directory $BATS_TEST_TMPDIR/file/run"* ]]
}
