#!/usr/bin/env bats
# vm-boot: systemd
# The units as installed (make install PREFIX=/usr), started by systemd as
# PID 1 (tests/vm/run --systemd) with their whole sandbox: ProtectSystem=
# strict, the capability bounding set, the seccomp filter, the address
# families, the device policy. vfctl-provision.service creates and sets the
# VFs and binds one to vfio-pci; vfctld.socket starts vfctld.service for a
# pool user's alloc, whose lease-probe gets real VFIO fds; the holder check
# sees that user's process; a restart keeps the lease; release gives the VF
# back; vfctl-provision@PF restores the VFs after a driver reload. What the
# processes really run with is read from /proc, not from the unit files.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
bats_require_minimum_version 1.5.0
load helpers
load vfctld-helpers
# the clients go to the units' socket, not the other suites' test daemon
unset VFCTLD_SOCKET

UNITDIR=/usr/lib/systemd/system
CONF=/etc/vfctl/vfctl.conf
PROBE=/run/systemd/system/vfctl-provision.service.d/86-probe.conf

setup_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] && [ "$(cat /proc/1/comm)" = systemd ] || return 0
	vm_reset_igb
	vfctld_users
	[ ! -e /run/vfctl ] || mv /run/vfctl /run/vfctl.before-86
	mkdir -p "${CONF%/*}"
	cat >"$CONF" <<'JSON'
{
  "pfs": [
    {
      "match": { "id": "8086:10c9", "index": 0 },
      "numvfs": 4,
      "vfs": [
        { "index": 0, "mac": "02:00:00:00:85:00", "vlan": 85 },
        { "index": 3, "driver": "vfio-pci" }
      ],
      "pools": [ { "name": "p", "vfs": [0, 1, 2], "users": [1001], "groups": ["vfusers"] } ]
    }
  ]
}
JSON
}

teardown_file() {
	[ "${VFCTL_IN_VM:-}" = 1 ] && [ "$(cat /proc/1/comm)" = systemd ] || return 0
	local l pf vf
	for l in $(vfctl --json leases 2>/dev/null | jq -r '.leases[].id'); do
		vfctl release --force "$l" >/dev/null 2>&1 || true
	done
	systemctl stop vfctld.socket vfctld.service vfctl-provision.service || true
	rm -rf "${PROBE%/*}"
	systemctl daemon-reload
	if pf=$(vm_igb_pf); then
		for vf in $(vm_vfs "$pf"); do
			[ "$(vm_driver "$vf")" != vfio-pci ] || vfctl restore "$vf" >/dev/null 2>&1 || true
		done
		vm_reset_igb
	fi
	rm -rf /run/vfctl "$CONF"
	[ ! -e /run/vfctl.before-86 ] || mv /run/vfctl.before-86 /run/vfctl
}

setup() {
	vm_require
	vm_require_iommu
	[ "$(cat /proc/1/comm)" = systemd ] || skip "needs systemd as PID 1 (tests/vm/run --systemd)"
	pf=$(vm_igb_pf)
}

teardown() {
	# the daemon's own words, for a failed test
	[ -z "${journal:-}" ] || journalctl -o cat --no-pager -u "$journal"
}

# cap_mask UNIT: CapabilityBoundingSet= of the installed UNIT as the
# kernel's hex mask (/proc/PID/status CapBnd)
cap_mask() {
	local c m=0 set
	read -ra set <<<"$(sed -n 's/^CapabilityBoundingSet=//p' "$UNITDIR/$1")"
	for c in "${set[@]}"; do
		case $c in
		CAP_CHOWN) m=$((m | 1 << 0)) ;;
		CAP_DAC_OVERRIDE) m=$((m | 1 << 1)) ;;
		CAP_DAC_READ_SEARCH) m=$((m | 1 << 2)) ;;
		CAP_NET_ADMIN) m=$((m | 1 << 12)) ;;
		CAP_SYS_MODULE) m=$((m | 1 << 16)) ;;
		CAP_SYS_PTRACE) m=$((m | 1 << 19)) ;;
		CAP_SYS_RESOURCE) m=$((m | 1 << 24)) ;;
		*) echo "cap_mask: $c: add it here" >&2; return 1 ;;
		esac
	done
	[ "$m" -ne 0 ]
	printf '%016x\n' "$m"
}

# no_leases: the units' leases.json holds none
no_leases() {
	[ "$(jq '.leases | length' /run/vfctl/leases.json)" = 0 ]
}

# gone PID: the process has exited
gone() {
	[ ! -e "/proc/$1" ]
}

# sandboxed STATUS UNIT: /proc/PID/status text STATUS shows UNIT's bounding
# set, no_new_privs and a seccomp filter
sandboxed() {
	local mask
	mask=$(cap_mask "$2")
	grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' <<<"$1"
	grep -qx "CapBnd:	$mask" <<<"$1"
	grep -qx "CapEff:	$mask" <<<"$1"
	grep -qx 'NoNewPrivs:	1' <<<"$1"
	grep -qx 'Seccomp:	2' <<<"$1"
}

@test "vfctl-provision.service in its sandbox creates the VFs, sets them over netlink, binds VF 3 to vfio-pci" {
	# a command after vfctl's, in the same sandbox: what it runs with, and
	# that it cannot write outside /run/vfctl
	mkdir -p "${PROBE%/*}"
	cat >"$PROBE" <<'EOF'
[Service]
ExecStartPost=/bin/sh -c 'grep -E "^(CapBnd|CapEff|NoNewPrivs|Seccomp):" /proc/self/status >/run/vfctl/86-probe; touch /etc/86-probe /usr/86-probe /root/86-probe 2>>/run/vfctl/86-probe || :'
EOF
	systemctl daemon-reload
	run systemctl start vfctl-provision.service
	echo "$output"
	journalctl -o cat -u vfctl-provision.service
	[ "$status" -eq 0 ]
	[ "$(systemctl show -P Result vfctl-provision.service)" = success ]
	run journalctl -o cat -u vfctl-provision.service
	[[ "$output" == *"$pf: sriov_numvfs 0 -> 4: applied"* ]]
	[[ "$output" == *"changes applied, 0 failed"* ]]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ]
	run $VM_IP -d link show "$(vm_pf_netdev "$pf")"
	[[ "$output" == *"vf 0     link/ether 02:00:00:00:85:00"*", vlan 85,"* ]]
	vf3=$(vm_vf "$pf" 3)
	[ "$(vm_driver "$vf3")" = vfio-pci ]
	[ -c "/dev/vfio/$(vm_iommu_group "$vf3")" ]
	[ "$(vm_driver "$(vm_vf "$pf" 0)")" = igbvf ]

	probe=$(cat /run/vfctl/86-probe)
	rm -rf "${PROBE%/*}" /run/vfctl/86-probe
	systemctl daemon-reload
	sandboxed "$probe" vfctl-provision.service
	[[ "$probe" == *"touch: cannot touch '/etc/86-probe': Read-only file system"* ]]
	[[ "$probe" == *"touch: cannot touch '/usr/86-probe': Read-only file system"* ]]
	# ProtectHome=yes: an empty, read-only /root
	[[ "$probe" == *"touch: cannot touch '/root/86-probe': "* ]]
	[ ! -e /etc/86-probe ] && [ ! -e /usr/86-probe ] && [ ! -e /root/86-probe ]
}

@test "vfctld.service in its sandbox: a pool user's alloc, real VFIO fds, the holder check, a restart, release" {
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ] || skip "needs the VFs of the first test"
	run systemctl start vfctld.socket
	[ "$status" -eq 0 ]
	[ -S /run/vfctl/vfctld.sock ]
	# the first connection starts the service
	run as 1001 vfctl alloc --pool p
	echo "$output"
	[ "$status" -eq 0 ]
	lease=$(lease_of "$output") vf=$(vf_of "$output")
	[ "$(systemctl is-active vfctld.service)" = active ]
	journal=vfctld.service	# teardown shows its journal if the test fails
	dpid=$(systemctl show -P MainPID vfctld.service)
	sandboxed "$(cat "/proc/$dpid/status")" vfctld.service
	# ProtectSystem=strict as the daemon sees its mounts
	run nsenter -t "$dpid" -m touch /etc/86-probe
	[[ "$output" == *"Read-only file system"* ]]
	nsenter -t "$dpid" -m touch /run/vfctl/86-probe
	rm /run/vfctl/86-probe

	[ "$(vm_driver "$vf")" = vfio-pci ]
	grp=$(vm_iommu_group "$vf")
	[ "$(stat -c %u "/dev/vfio/$grp")" = 1001 ]	# CAP_CHOWN
	run as 1001 "$LEASE_PROBE" "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "received $vf group $grp container_fd "* ]]
	[[ "${lines[3]}" =~ ^device\ $vf\ pci\ 1\ regions\ [0-9]+\ irqs\ [0-9]+$ ]]
	if [ "${VFCTL_VM_IOMMUFD:-0}" = 1 ]; then
		# /dev/iommu and the cdev through the device policy, the rlimit
		# mode set with CAP_SYS_RESOURCE
		[[ "${lines[0]}" =~ " iommufd "[0-9]+" device_fd "[0-9]+$ ]]
		[ "${lines[4]}" = "iommufd rlimit mode process" ]
	fi

	# the lease outlives a restart: /run/vfctl stays (RuntimeDirectoryPreserve)
	systemctl restart vfctld.service
	[ "$(systemctl show -P MainPID vfctld.service)" != "$dpid" ]
	run as 1001 vfctl --json leases
	[ "$(jq -r '.leases[0].id' <<<"$output")" = "$lease" ]
	[ "$(stat -c %u "/dev/vfio/$grp")" = 1001 ]
	run as 1001 "$LEASE_PROBE" "$lease"
	[ "$status" -eq 0 ]

	# the holder check reads uid 1001's /proc/PID/fd: release is refused
	# while a process of the user has the group open
	as 1001 "$LEASE_PROBE" "$lease" 60 >"$BATS_TEST_TMPDIR/probe.out" 3>&- &
	vm_wait_for 20 grep -q '^device' "$BATS_TEST_TMPDIR/probe.out"
	run as 1001 vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" =~ "/dev/vfio/$grp is held open by pid "([0-9]+)" (lease-probe)" ]]
	holder=${BASH_REMATCH[1]}
	[ "$(stat -c %u "/proc/$holder")" = 1001 ]
	kill "$holder"
	vm_wait_for 20 gone "$holder"
	run as 1001 vfctl release "$lease"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(vm_driver "$vf")" = igbvf ]
	no_leases
	[ ! -e "/dev/vfio/$grp" ]
	# the VF's settings as vfctl-provision left them
	run $VM_IP -d link show "$(vm_pf_netdev "$pf")"
	[[ "$output" == *"vf 0     link/ether 02:00:00:00:85:00"*", vlan 85,"* ]]
	systemctl stop vfctld.socket vfctld.service
	[ -d /run/vfctl ]
	[ "$(jq '.leases | length' /run/vfctl/leases.json)" = 0 ]
}

@test "vfctl-provision@PF.service in its sandbox restores the VFs after a driver reload of the PF" {
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ] || skip "needs the VFs of the first test"
	[ ! -e /run/vfctl/leases.json ] || no_leases || skip "the second test left a lease"
	echo "$pf" >/sys/bus/pci/drivers/igb/unbind
	echo "$pf" >/sys/bus/pci/drivers/igb/bind
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 0 ]
	run systemctl start "vfctl-provision@$pf.service"
	echo "$output"
	journalctl -o cat -u "vfctl-provision@$pf.service"
	[ "$status" -eq 0 ]
	run journalctl -o cat -u "vfctl-provision@$pf.service"
	[[ "$output" == *"$pf: sriov_numvfs 0 -> 4: applied"* ]]
	[ "$(cat "$VM_PCI/$pf/sriov_numvfs")" = 4 ]
	[ "$(vm_driver "$(vm_vf "$pf" 3)")" = vfio-pci ]
	run $VM_IP -d link show "$(vm_pf_netdev "$pf")"
	[[ "$output" == *"vf 0     link/ether 02:00:00:00:85:00"*", vlan 85,"* ]]
}
