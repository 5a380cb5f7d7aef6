#!/usr/bin/env bats
# An operator's mistakes on golden trees (82599-8vf: PF 0000:03:00.0 ixgbe
# with 8 VFs, VF 0 0000:03:10.0 on ixgbevf as enp3s0f0v0, IOMMU group 30):
# refused before anything is written, saying what --force does; a bind by
# netdev name reads the result back by address; a bind that fails after
# its first write is rolled back and says so. The kernel's side of a bind
# is played by fake_kernel on FIFOs (each of vfctl's writes waits for it).

# shellcheck disable=SC2154 # status, output, t, run_dir: set by bats and helpers
bats_require_minimum_version 1.5.0
load helpers

setup() {
	tree_copy 82599-8vf
	fpid=
}

teardown() {
	local f
	[ -n "$fpid" ] || return 0
	# a fake kernel still waiting for a write vfctl did not make: let it finish
	for f in drivers/ixgbevf/unbind drivers_probe drivers/vfio-pci/unbind drivers_probe; do
		kill -0 "$fpid" 2>/dev/null || break
		# shellcheck disable=SC2016 # $1 of the inner shell
		timeout 1 sh -c ': >"$1"' sh "$t/sys/bus/pci/$f" || true
	done
	wait "$fpid"
}

# fake_kernel [rollback]: the kernel for a bind of VF 0 to vfio-pci. Its
# unbind from ixgbevf takes its netdev away and vfio-pci takes it at the
# probe; with "rollback", vfio-pci's unbind and the next probe give it back
# to ixgbevf. Each state change is made before the FIFO that vfctl writes
# next is opened, so vfctl never reads a link before the change.
fake_kernel() {
	local dev=$t/sys/bus/pci/devices/0000:03:10.0 drv=$t/sys/bus/pci/drivers
	local probe=$t/sys/bus/pci/drivers_probe link
	link=$(readlink "$dev/driver")
	cat "$drv/ixgbevf/unbind" >"$BATS_TEST_TMPDIR/unbound"
	rm -rf "$dev/net"
	ln -sfn "${link%/*}/vfio-pci" "$dev/driver"
	cat "$probe" >"$BATS_TEST_TMPDIR/probed"
	[ "${1:-}" = rollback ] || return 0
	cat "$drv/vfio-pci/unbind" >"$BATS_TEST_TMPDIR/vfio-unbound"
	ln -sfn "$link" "$dev/driver"
	cat "$probe" >"$BATS_TEST_TMPDIR/reprobed"
}

fifos() {
	mkfifo "$t/sys/bus/pci/drivers/ixgbevf/unbind" "$t/sys/bus/pci/drivers_probe" \
		"$t/sys/bus/pci/drivers/vfio-pci/unbind"
}

@test "bind a PF that has VFs: refused with how many would go and what --force does; unbind too" {
	before=$(tree_sum)
	run vfctl bind 0000:03:00.0
	[ "$status" -eq 4 ]
	[ "$output" = "vfctl: 0000:03:00.0: it has 8 VFs (sriov_numvfs); taking it from ixgbe disables SR-IOV and destroys all of them, with their netdevs and settings: destroy them first ('vfctl destroy 0000:03:00.0'), or use --force to bind it anyway and lose the 8 VFs" ]
	# by its netdev name the same
	run vfctl bind enp3s0f0 vfio-pci
	[ "$status" -eq 4 ]
	[[ "$output" == "vfctl: 0000:03:00.0: it has 8 VFs (sriov_numvfs)"* ]]
	run vfctl unbind 0000:03:00.0
	[ "$status" -eq 4 ]
	[[ "$output" == "vfctl: 0000:03:00.0: it has 8 VFs (sriov_numvfs); unbinding it from ixgbe disables SR-IOV"*"--force to unbind it anyway and lose the 8 VFs" ]]
	[ "$(tree_sum)" = "$before" ]
	[ ! -e "$run_dir/state/0000:03:00.0.json" ]

	# --force goes on to the kernel (here: a tree without drivers/ixgbe/unbind)
	run vfctl bind --force 0000:03:00.0
	[ "$status" -eq 3 ]
	[[ "$output" == "vfctl: 0000:03:00.0: writing '0000:03:00.0' to $t/sys/bus/pci/devices/0000:03:00.0/driver/unbind: No such file or directory; rolled back: 0000:03:00.0 is on ixgbe again" ]]
	[ ! -e "$run_dir/state/0000:03:00.0.json" ]

	# a PF without VFs is no PF to refuse
	echo 0 >"$t/sys/bus/pci/devices/0000:03:00.0/sriov_numvfs"
	run vfctl bind 0000:03:00.0
	[[ "$output" != *"sriov_numvfs"* ]]
}

@test "bind by netdev name: the change is read back by address, though the name is gone" {
	fifos
	mkdir -p "$t/dev/vfio" && : >"$t/dev/vfio/30"
	fake_kernel &
	fpid=$!
	run vfctl bind enp3s0f0v0
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "0000:03:10.0: bound to vfio-pci (was ixgbevf), iommu group 30 (viable)"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/unbound")" = 0000:03:10.0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/probed")" = 0000:03:10.0 ]
	[ "$(cat "$t/sys/bus/pci/devices/0000:03:10.0/driver_override")" = vfio-pci ]
	[ "$(jq -r .driver "$run_dir/state/0000:03:10.0.json")" = ixgbevf ]
	# the name does not come back: it is an unknown device now
	run vfctl show enp3s0f0v0
	[ "$status" -eq 3 ]
}

@test "vfio-pci took the device but its /dev/vfio node never came: rolled back to ixgbevf, said so" {
	fifos
	rm -f "$t/dev/vfio/30"
	fake_kernel rollback &
	fpid=$!
	run vfctl bind 0000:03:10.0
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "vfctl: 0000:03:10.0: bound to vfio-pci but $t/sys/../dev/vfio/30 did not appear in 2000 ms; is udev or devtmpfs running?; rolled back: 0000:03:10.0 is on ixgbevf again" ]
	# vfio-pci let go of it, the probe gave it back, the override is cleared
	[ "$(cat "$BATS_TEST_TMPDIR/vfio-unbound")" = 0000:03:10.0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/reprobed")" = 0000:03:10.0 ]
	[ "$(basename "$(readlink "$t/sys/bus/pci/devices/0000:03:10.0/driver")")" = ixgbevf ]
	[ -z "$(cat "$t/sys/bus/pci/devices/0000:03:10.0/driver_override")" ]
	# no saved state left behind: there is nothing to restore
	[ ! -e "$run_dir/state/0000:03:10.0.json" ]
	run vfctl restore 0000:03:10.0
	[[ "$output" == *"no saved state"* ]]
}
