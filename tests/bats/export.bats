#!/usr/bin/env bats
# vfctl metrics (checked with promtool) and vfctl cdi (checked against the
# CDI JSON schema, tests/cdi) on the golden trees, alone and with vfctld
# serving pools: the spec vfctld keeps current at alloc and release too.

# shellcheck disable=SC2154 # status, output, lines: set by bats run; sys, conf, run_dir: daemon_setup
bats_require_minimum_version 1.5.0
load helpers
load vfctld-daemon

setup() {
	daemon_setup
	cdi=$BATS_TEST_TMPDIR/cdi
	mkdir -p "$cdi"
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "0000:03:00.0" }, "numvfs": 8,
  "pools": [ { "name": "gpu", "vfs": [7] }, { "name": "net", "vfs": [1] } ] } ] }
JSON
}

teardown() {
	daemon_teardown
}

@test "metrics on every golden tree, no daemon: promtool finds the exposition valid; VFs per PF and state" {
	for tree in "$FIXTURES"/*/; do
		VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock "$VFCTL" --sysfs-root "$tree/sys" \
			--run-dir "$run_dir" metrics >"$BATS_TEST_TMPDIR/m.prom"
		run promtool check metrics <"$BATS_TEST_TMPDIR/m.prom"
		echo "$(basename "$tree"): $output"
		[ "$status" -eq 0 ]
		grep -qx 'vfctl_vfctld_up 0' "$BATS_TEST_TMPDIR/m.prom"
	done
	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock run "$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" metrics
	[[ "$output" == *'vfctl_vfs{pf="0000:03:00.0",state="vfio"} 1'$'\n''vfctl_vfs{pf="0000:03:00.0",state="host"} 7'$'\n''vfctl_vfs{pf="0000:03:00.0",state="unbound"} 0'* ]]
	[[ "$output" == *'vfctl_pf_total_vfs{pf="0000:03:00.0"} 63'* ]]
}

@test "metrics with vfctld: pools free and leased, lease age, refusals and errors by kind (SIGUSR1); FILE written atomically, 0644" {
	start
	"$VFCTL" alloc --pool gpu >/dev/null
	run -3 "$VFCTL" alloc --pool nope
	kill -USR1 "$dpid"
	for _ in $(seq 100); do [ -e "$run_dir/vfctld-stats" ] && break; sleep 0.05; done
	out=$BATS_TEST_TMPDIR/prom/vfctl.prom
	mkdir -p "${out%/*}"
	"$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" metrics "$out"
	cat "$out"
	promtool check metrics <"$out"
	[ "$(stat -c %a "$out")" = 644 ]
	[ ! -e "${out%/*}/.vfctl.prom.tmp" ]
	grep -qx 'vfctl_vfctld_up 1' "$out"
	grep -qx 'vfctl_pool_vfs{pool="gpu",state="free"} 0' "$out"
	grep -qx 'vfctl_pool_vfs{pool="gpu",state="leased"} 1' "$out"
	grep -qx 'vfctl_pool_vfs{pool="net",state="free"} 1' "$out"
	grep -Eqx 'vfctl_lease_age_seconds\{lease="L1",pool="gpu",vf="0000:03:1[01]\.[0-7]",state="active"\} [0-9]+' "$out"
	grep -qx 'vfctl_vfctld_events_total{kind="error_enoent"} 1' "$out"
	grep -Eqx 'vfctl_vfctld_events_total\{kind="requests"\} [0-9]+' "$out"
	# a FILE in a directory that is not there: an error naming it, nothing written
	run -1 "$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" metrics "$BATS_TEST_TMPDIR/no/such.prom"
	[[ "$output" == "vfctl metrics: writing $BATS_TEST_TMPDIR/no/such.prom: No such file or directory"* ]]
}

@test "cdi: a spec valid against the CDI schema, a device per pool VF and per lease; vfctld --cdi-dir keeps it current at alloc and release" {
	start --cdi-dir "$cdi"
	run "$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" cdi -
	echo "$output" >"$BATS_TEST_TMPDIR/spec.json"
	"$REPO/tests/cdi/validate" "$BATS_TEST_TMPDIR/spec.json"
	[ "$(jq -r '.kind' "$BATS_TEST_TMPDIR/spec.json")" = vfctl.io/vf ]
	[ "$(jq -r '[.devices[].name] | join(" ")' "$BATS_TEST_TMPDIR/spec.json")" = "gpu-7 net-1" ]
	# VF 7's group, as the tree has it
	g=$(basename "$(readlink "$sys/bus/pci/devices/$(basename "$(readlink "$sys/bus/pci/devices/0000:03:00.0/virtfn7")")/iommu_group")")
	[ "$(jq -c '.devices[0].containerEdits.deviceNodes | map(.path)' "$BATS_TEST_TMPDIR/spec.json")" = "[\"/dev/vfio/vfio\",\"/dev/vfio/$g\"]" ]
	# vfctld writes it at alloc: the lease is a device too
	"$VFCTL" alloc --pool gpu >/dev/null
	"$REPO/tests/cdi/validate" "$cdi/vfctl.json"
	[ "$(jq -r '[.devices[].name] | join(" ")' "$cdi/vfctl.json")" = "gpu-7 net-1 L1" ]
	[ "$(stat -c %a "$cdi/vfctl.json")" = 644 ]
	# and at release: gone again
	"$VFCTL" release L1 >/dev/null
	[ "$(jq -r '[.devices[].name] | join(" ")' "$cdi/vfctl.json")" = "gpu-7 net-1" ]
	# vfctl cdi DIR writes the same file
	rm "$cdi/vfctl.json"
	"$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" cdi "$cdi"
	"$REPO/tests/cdi/validate" "$cdi/vfctl.json"
}

@test "cdi: no daemon, or a directory that is not there: an error naming it, exit 1" {
	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock run -1 "$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" cdi "$cdi"
	[ "$output" = "vfctl cdi: vfctld at $BATS_TEST_TMPDIR/none.sock: No such file or directory; is it running ('systemctl status vfctld.socket')?" ]
	start
	run -1 "$VFCTL" --sysfs-root "$sys" --run-dir "$run_dir" cdi "$BATS_TEST_TMPDIR/nope"
	[[ "$output" == "vfctl cdi: CDI spec: opening $BATS_TEST_TMPDIR/nope: No such file or directory; create it or name another directory" ]]
	run -2 "$VFCTL" cdi a b
}
