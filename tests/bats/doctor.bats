#!/usr/bin/env bats
# vfctl doctor on golden trees dressed as an OK, a WARN and a FAIL host:
# the tree's proc/ and run/ (beside its sys/) stand for the host's, so every
# check reads what the test wrote, through the same rooted accessor as on a
# live host.

# shellcheck disable=SC2154 # status, output, lines: set by bats run; t: tree_copy
# shellcheck disable=SC2030,SC2031 # each test is a subshell of its own
bats_require_minimum_version 1.5.0
load helpers
load vfctld-daemon

# host_files CMDLINE MEMLOCK: /proc and the hugepages of a host in $t
host_files() {
	mkdir -p "$t/proc/self" "$t/sys/kernel/mm/hugepages/hugepages-2048kB"
	echo "$1" >"$t/proc/cmdline"
	printf '%s\n' '            CPU0       CPU1' \
		' 24:          0         12  IR-PCI-MSI-0000:01:00.0    0-edge      enp1s0' \
		>"$t/proc/interrupts"
	printf 'Limit                     Soft Limit           Hard Limit           Units\n' >"$t/proc/self/limits"
	printf 'Max locked memory         %-20s %-20s bytes\n' "$2" "$2" >>"$t/proc/self/limits"
	printf 'Name:\tbash\nCapEff:\t0000000000000000\n' >"$t/proc/self/status"
	echo 512 >"$t/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
	echo 500 >"$t/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
}

teardown() {
	[ -z "${dpid:-}" ] || kill "$dpid"
	[ -z "${run_dir:-}" ] || [[ "$run_dir" != /tmp/vfctld-bats.* ]] || rm -rf "$run_dir"
}

@test "doctor: an OK host (IOMMU on, iommu=pt, remapping, ACS, modules, hugepages, memlock, vfctld up): every line OK, exit 0" {
	daemon_setup
	t=$BATS_TEST_TMPDIR/t
	echo '{ "pfs": [ { "match": { "address": "0000:03:00.0" }, "numvfs": 8, "pools": [ { "name": "p", "vfs": [7] } ] } ] }' >"$conf"
	start
	host_files 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on iommu=pt quiet' unlimited
	run "$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" doctor
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "OK      cmdline-iommu        the kernel command line turns the IOMMU on" ]
	[[ "$output" == *"OK      interrupt-remapping  on (IR- interrupt domains in /proc/interrupts)"* ]]
	[[ "$output" == *"OK      acs                  0000:03:00.0: ACS on upstream port 0000:00:02.0"* ]]
	[[ "$output" == *"OK      hugepages            512 x 2048kB reserved, 500 free"* ]]
	[[ "$output" == *"OK      memlock              RLIMIT_MEMLOCK unlimited"* ]]
	[[ "$output" == *"OK      vfctld               reachable at $VFCTLD_SOCKET, 1 pools"* ]]
	run ! grep -v '^OK ' <<<"$output"
	# JSON: the same checks, the worst result
	run "$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" --json doctor
	[ "$status" -eq 0 ]
	[ "$(jq -r .result <<<"$output")" = OK ]
	[ "$(jq '.checks | length' <<<"$output")" -eq 11 ]
	[ "$(jq -r '[.checks[].result] | unique | join(",")' <<<"$output")" = OK ]
	[ "$(jq -c '.checks[0]' <<<"$output")" = '{"result":"OK","check":"cmdline-iommu","message":"the kernel command line turns the IOMMU on","fix":null}' ]
}

@test "doctor: a WARN host (no iommu=pt, 8 MiB memlock, NetworkManager without the rule, ACS off, no vfctld): the fixes, exit 8" {
	tree_copy 82599-8vf
	host_files 'root=/dev/sda1 intel_iommu=on' 8388608
	mkdir -p "$t/run/NetworkManager"
	# the root port's ACS control word (extended capability at 0x148, +6) cleared
	printf '\0\0' | dd of="$t/sys/bus/pci/devices/0000:00:02.0/config" bs=1 seek=$((0x14e)) conv=notrunc status=none
	sum=$(tree_sum)
	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock run vfctl doctor
	echo "$output"
	[ "$status" -eq 8 ]
	[[ "$output" == *"WARN    cmdline-passthrough  no iommu=pt: every host device's DMA goes through the IOMMU (slower)"$'\n'"         fix: add iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot"* ]]
	[[ "$output" == *"WARN    acs                  0000:03:00.0: upstream port 0000:00:02.0 (ACS not enabled): its functions may share an IOMMU group"* ]]
	[[ "$output" == *"WARN    memlock              RLIMIT_MEMLOCK 8192 KiB: VFIO pins all guest RAM (vfkvm's default 65536 KiB, QEMU's -m)"* ]]
	[[ "$output" == *"WARN    network-managers     NetworkManager runs and would manage the VFs' netdevs"* ]]
	[[ "$output" == *"WARN    vfctld               not reachable at $BATS_TEST_TMPDIR/none.sock"* ]]
	run ! grep '^FAIL' <<<"$output"
	# the rule installed: NetworkManager is no longer a warning
	mkdir -p "$t/etc/udev/rules.d" && touch "$t/etc/udev/rules.d/85-vfctl-vf.rules"
	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock run vfctl doctor
	[[ "$output" == *"OK      network-managers     NetworkManager runs; 85-vfctl-vf.rules keeps it off the VFs' netdevs"* ]]
	[ "$(VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock vfctl --json doctor | jq -r .result)" = WARN ]
	rm -r "${t:?}/etc"
	[ "$(tree_sum)" = "$sum" ]
}

@test "doctor: a FAIL host (no IOMMU, intel_iommu=off, MSIs not remapped, no VFIO backend): exit 1" {
	tree_copy no-iommu
	host_files 'root=/dev/sda1 intel_iommu=off' 67108864
	sed -i 's/IR-PCI-MSI/PCI-MSI/' "$t/proc/interrupts"
	rm -rf "$t/sys/module/vfio_iommu_type1" "$t/sys/module/iommufd"
	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock run vfctl doctor
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"FAIL    cmdline-iommu        the kernel command line has intel_iommu=off: no DMA remapping, no VFIO"* ]]
	[[ "$output" == *"FAIL    iommu                no IOMMU in /sys/class/iommu"* ]]
	[[ "$output" == *"OK      memlock              RLIMIT_MEMLOCK 65536 KiB: guests of up to that much RAM"* ]]
	[ "$(VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock vfctl --json doctor | jq -r .result)" = FAIL ]
}

@test "doctor: what cannot be read is UNKNOWN, not a guess (a tree without proc/); an argument is a usage error" {
	tree_copy igb-iommu
	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock run vfctl doctor
	[[ "$output" == *"UNKNOWN cmdline-iommu        /proc/cmdline is not readable"* ]]
	[[ "$output" == *"UNKNOWN memlock              /proc/self/limits is not readable"* ]]
	run -2 vfctl doctor extra
	[ "$output" = "vfctl doctor: unexpected argument 'extra'" ]
}
