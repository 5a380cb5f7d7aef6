#!/usr/bin/env bats
# vfctl apply on copies of the golden trees: --dry-run prints the plan (what
# differs between the tree and the config, nothing else) in text and JSON;
# bad configs exit 1 with one line naming the file, the JSON path (or
# line:column) and the reason, and leave the tree exactly as it was. The
# kernel's side is tests/vm/60-apply.bats.

# shellcheck disable=SC2154 # status, output, stderr, lines: set by bats run
# shellcheck disable=SC2030,SC2031 # each test is a subshell; bad() reads what its run set
bats_require_minimum_version 1.5.0
load helpers	# tree_copy, vfctl, tree_sum

setup() {
	tree_copy 82576	# port 0: 2 VFs on igbvf; port 1: none
	conf=$BATS_TEST_TMPDIR/vfctl.conf
}

good_conf() {
	cat >"$conf" <<'JSON'
{
  "pfs": [
    {
      "match": { "netdev": "enp1s0f0" },
      "numvfs": 2,
      "autoprobe": true,
      "vfs": [ { "index": 1, "driver": "vfio-pci" } ]
    },
    {
      "match": { "id": "8086:10c9", "index": 1 },
      "numvfs": 3,
      "autoprobe": false,
      "defaults": { "spoofchk": true },
      "vfs": [ { "index": 0, "mac": "02:00:00:00:01:00", "vlan": 100, "qos": 1 } ],
      "pools": [ { "name": "guests", "vfs": [0, 1], "users": ["root"], "groups": ["root"] } ]
    }
  ]
}
JSON
}

@test "--dry-run prints what differs, in order: PF changes, then each VF's; nothing written" {
	good_conf
	before=$(tree_sum)
	run --separate-stderr vfctl apply --dry-run --config "$conf"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "0000:01:00.1: sriov_drivers_autoprobe on -> off: would apply
0000:01:00.1: sriov_numvfs 0 -> 3: would apply
0000:01:00.0 vf 1 (0000:01:10.2): driver igbvf -> vfio-pci: would apply
0000:01:00.1 vf 0: mac ? -> 02:00:00:00:01:00: would apply
0000:01:00.1 vf 0: vlan ? -> 100 qos 1: would apply
0000:01:00.1 vf 0: spoofchk ? -> on: would apply
0000:01:00.1 vf 1: spoofchk ? -> on: would apply
0000:01:00.1 vf 2: spoofchk ? -> on: would apply
8 changes would be made (dry run: nothing written)" ]
	[ "$(tree_sum)" = "$before" ]
	[ ! -e "$run_dir" ]
}

@test "--dry-run --json: the same changes through the same printer" {
	good_conf
	run --separate-stderr vfctl --json apply --dry-run --config "$conf"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.config, .dry_run, .n_changes, .n_failed]' <<<"$output")" = "[\"$conf\",true,8,0]" ]
	[ "$(jq -c '.changes[2]' <<<"$output")" = '{"pf":"0000:01:00.0","vf_index":1,"address":"0000:01:10.2","kind":"driver","what":"driver","from":"igbvf","to":"vfio-pci","status":"would apply","errno":null,"error":null}' ]
	[ "$(jq -c '.changes[0] | [.vf_index, .address, .kind, .what, .from, .to]' <<<"$output")" = '[null,"0000:01:00.1","autoprobe","sriov_drivers_autoprobe","on","off"]' ]
	[ "$(jq -c '.changes[3] | [.vf_index, .address, .what, .to]' <<<"$output")" = '[0,null,"mac","02:00:00:00:01:00"]' ]
}

@test "a config the tree already matches: no changes, said so" {
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "01:00.0" }, "numvfs": 2, "autoprobe": true,
             "vfs": [ { "index": 0, "driver": "igbvf" } ] },
           { "match": { "address": "0000:01:00.1" }, "numvfs": 0 } ] }
JSON
	run --separate-stderr vfctl apply --dry-run --config "$conf"
	[ "$status" -eq 0 ]
	[ "$output" = "no changes: the host matches $conf" ]
	run --separate-stderr vfctl --json apply --dry-run --config "$conf"
	[ "$(jq -c '[.n_changes, .changes]' <<<"$output")" = '[0,[]]' ]
}

# bad TEXT MESSAGE: MESSAGE follows the file name (": PATH: ..." or ":LINE:COL: ..."); apply (with and without --dry-run) exits $want (1; 3 not found) with one line,
# prints nothing on stdout, and the tree is as it was
bad() {
	printf '%s\n' "$1" >"$conf"
	before=$(tree_sum)
	for dry in "" --dry-run; do
		# shellcheck disable=SC2086 # empty on purpose
		run --separate-stderr vfctl apply $dry --config "$conf"
		[ "$status" -eq "${want:-1}" ] || { echo "status $status: $stderr"; return 1; }
		[ -z "$output" ] || { echo "stdout: $output"; return 1; }
		[ "$stderr" = "vfctl: apply: $conf$2" ] || { echo "got:  $stderr"; echo "want: vfctl: apply: $conf$2"; return 1; }
	done
	[ "$(tree_sum)" = "$before" ]
	[ ! -e "$run_dir" ]
}

@test "bad configs: rejected whole, with the JSON path or line:column and the reason; nothing touched" {
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2,' \
		':2:1: unexpected end of file: the JSON is not complete'
	# json-c would keep the last of two keys: refused, with both places
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2,
  "vfs": [ { "index": 0, "mac": "02:00:00:00:00:01", "mac": "02:00:00:00:00:02" } ] } ] }' \
		':2:54: key "mac" given twice in one object (first at 2:26); give each key once'
	bad '{ "pfs": [], "p\u0066s": [] }' \
		':1:14: key "pfs" given twice in one object (first at 1:3); give each key once'
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 3, "pools": [ { "name": "a", "vfs": [0, 2] }, { "name": "b", "vfs": [1, 2] } ] } ] }' \
		": pfs[0].pools[1].vfs[1]: VF 2 is already in pool 'a'"
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 3, "pools": [ { "name": "a", "vfs": [0, 2, 0] } ] } ] }' \
		": pfs[0].pools[0].vfs[2]: VF index 0 listed twice"
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2, "autoprob": true } ] }' \
		": pfs[0]: unknown key 'autoprob'; expected match, numvfs, autoprobe, defaults, vfs, pools"
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": "2" } ] }' \
		': pfs[0].numvfs: expected a whole number 0-65535, got string'
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2, "vfs": [ { "index": 1, "vlan": 5000 } ] } ] }' \
		': pfs[0].vfs[0].vlan: 5000: out of range; expected 0-4095'
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2, "vfs": [ { "index": 0, "vlan": 5, "qos": 9 } ] } ] }' \
		': pfs[0].vfs[0].qos: 9: out of range; expected 0-7'
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2, "vfs": [ { "index": 0, "mac": "03:00:00:00:00:01" } ] } ] }' \
		": pfs[0]: VF 0: mac 03:00:00:00:00:01: a multicast address cannot be a VF's MAC; use a unicast one (first byte even, e.g. 02:...), or 00:00:00:00:00:00 to clear the admin MAC"
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2, "vfs": [ { "index": 2, "trust": true } ] } ] }' \
		': pfs[0].vfs[0].index: VF index 2 is beyond numvfs 2'
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2 }, { "match": { "netdev": "enp1s0f1" }, "numvfs": 1 } ] }' \
		': pfs[1].match: 0000:01:00.1 is matched twice, by pfs[0] and pfs[1]'
	want=3 bad '{ "pfs": [ { "match": { "address": "0000:05:00.0" }, "numvfs": 2 } ] }' \
		": pfs[0].match: no address 0000:05:00.0 on this host ('vfctl list' shows the PFs)"
	bad '{ "pfs": [ { "match": { "netdev": "enp1s0f1" }, "numvfs": 8 } ] }' \
		': pfs[0].numvfs: 8 VFs, but 0000:01:00.1 has sriov_totalvfs 7'
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.0" }, "numvfs": 2, "pools": [ { "name": "a", "vfs": [0] } ] }, { "match": { "address": "0000:01:00.1" }, "numvfs": 2, "pools": [ { "name": "a", "vfs": [1] } ] } ] }' \
		": pfs[1].pools[0].name: pool 'a' is already defined at pfs[0].pools[0]"
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2, "pools": [ { "name": "a", "vfs": [0], "users": ["nobody-vfctl-test"] } ] } ] }' \
		": pfs[0].pools[0].users[0]: no user 'nobody-vfctl-test' on this host"
	bad '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 2, "pools": [ { "name": "a", "vfs": [0], "groups": ["nogroup-vfctl-test"] } ] } ] }' \
		": pfs[0].pools[0].groups[0]: no group 'nogroup-vfctl-test' on this host"
}

@test "a missing config file, stray arguments, --no-autoprobe" {
	run --separate-stderr vfctl apply --config "$BATS_TEST_TMPDIR/none.conf"
	[ "$status" -eq 3 ]
	[ "$stderr" = "vfctl: apply: $BATS_TEST_TMPDIR/none.conf: cannot open the config: No such file or directory" ]
	run --separate-stderr vfctl apply extra
	[ "$status" -eq 2 ]
	[ "$stderr" = "vfctl apply: unexpected argument 'extra'; the config is given with --config FILE" ]
	run --separate-stderr vfctl apply --no-autoprobe --config "$conf"
	[ "$status" -eq 2 ]
	[ "$stderr" = 'vfctl apply: --no-autoprobe does not apply: the config says "autoprobe": false' ]
}

@test "a change the host refuses: printed as failed with its error, exit 1, the tree as it was" {
	# a golden tree is not the live /sys: VF settings cannot be sent
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "01:00.0" }, "numvfs": 2, "vfs": [ { "index": 1, "trust": true } ] } ] }
JSON
	before=$(tree_sum)
	run --separate-stderr vfctl apply --config "$conf"
	[ "$status" -eq 5 ]
	err="0000:01:00.0 vf 1: nothing sent: netlink is not available for the non-live sysfs root $t/sys (it does not describe this kernel's interfaces); vfctl set changes the live /sys only"
	[ "$output" = "0000:01:00.0 vf 1 (0000:01:10.2): trust ? -> on: failed: $err
0 changes applied, 1 failed" ]
	[ "$stderr" = "vfctl: apply: 1 of 1 changes failed; first: $err" ]
	run --separate-stderr vfctl --json apply --config "$conf"
	[ "$status" -eq 5 ]
	[ "$(jq -c '[.dry_run, .n_changes, .n_failed, .changes[0].status, .changes[0].errno]' <<<"$output")" = '[false,1,1,"failed","EOPNOTSUPP"]' ]
	[ "$(tree_sum)" = "$before" ]
}

@test "examples/vfctl.conf is a valid config: on the 82599 tree only its 82576 PF is missing" {
	: "${REPO:?set REPO to the source tree}"
	run --separate-stderr "$VFCTL" --sysfs-root "$FIXTURES/82599-8vf/sys" apply --dry-run \
		--config "$REPO/examples/vfctl.conf"
	[ "$status" -eq 3 ]
	[ "$stderr" = "vfctl: apply: $REPO/examples/vfctl.conf: pfs[1].match: no PF 8086:10c9 with index 0 on this host (0 found; 'vfctl list' shows them)" ]
	jq 'del(.pfs[1])' "$REPO/examples/vfctl.conf" >"$conf"
	run --separate-stderr "$VFCTL" --sysfs-root "$FIXTURES/82599-8vf/sys" apply --dry-run --config "$conf"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "0000:03:00.0: sriov_drivers_autoprobe on -> off: would apply" ]]
	[[ "$output" == *"0000:03:00.0 vf 3 (0000:03:10.6): driver ixgbevf -> vfio-pci: would apply"* ]]
	[[ "$output" != *"vf 7 (0000:03:11.6): driver"* ]]
}

# --pf: what vfctl-provision@.service runs for one PF that appeared (udev)

@test "--pf PF: only that PF's changes, by address or netdev; the other PF's are not planned" {
	good_conf
	before=$(tree_sum)
	want="0000:01:00.1: sriov_drivers_autoprobe on -> off: would apply
0000:01:00.1: sriov_numvfs 0 -> 3: would apply
0000:01:00.1 vf 0: mac ? -> 02:00:00:00:01:00: would apply
0000:01:00.1 vf 0: vlan ? -> 100 qos 1: would apply
0000:01:00.1 vf 0: spoofchk ? -> on: would apply
0000:01:00.1 vf 1: spoofchk ? -> on: would apply
0000:01:00.1 vf 2: spoofchk ? -> on: would apply
7 changes would be made (dry run: nothing written)"
	for pf in 0000:01:00.1 01:00.1 enp1s0f1; do
		run --separate-stderr vfctl apply --dry-run --config "$conf" --pf "$pf"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		[ "$output" = "$want" ]
	done
	run --separate-stderr vfctl apply --dry-run --config "$conf" --pf enp1s0f0
	[ "$status" -eq 0 ]
	[ "$output" = "0000:01:00.0 vf 1 (0000:01:10.2): driver igbvf -> vfio-pci: would apply
1 change would be made (dry run: nothing written)" ]
	# repeated: both PFs, the same plan as without --pf
	run --separate-stderr vfctl apply --dry-run --config "$conf" --pf 01:00.1 --pf 01:00.0
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 9 ]
	[ "${lines[8]}" = "8 changes would be made (dry run: nothing written)" ]
	[ "$(tree_sum)" = "$before" ]
}

@test "--pf PF the config does not name: nothing to do, exit 0, nothing written (text and JSON)" {
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "01:00.0" }, "numvfs": 2, "vfs": [ { "index": 1, "driver": "vfio-pci" } ] } ] }
JSON
	before=$(tree_sum)
	for dry in "" --dry-run; do
		# shellcheck disable=SC2086 # empty on purpose
		run --separate-stderr vfctl apply $dry --config "$conf" --pf enp1s0f1
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		[ "$output" = "vfctl apply: 0000:01:00.1 is not in $conf: nothing to do" ]
	done
	run --separate-stderr vfctl --json apply --config "$conf" --pf 0000:01:00.1
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.not_in_config, .n_changes, .changes]' <<<"$output")" = '[["0000:01:00.1"],0,[]]' ]
	# one PF in the config, one not: both said
	run --separate-stderr vfctl apply --dry-run --config "$conf" --pf 01:00.1 --pf 01:00.0
	[ "$status" -eq 0 ]
	[ "$output" = "vfctl apply: 0000:01:00.1 is not in $conf: nothing to do
0000:01:00.0 vf 1 (0000:01:10.2): driver igbvf -> vfio-pci: would apply
1 change would be made (dry run: nothing written)" ]
	[ "$(tree_sum)" = "$before" ]
	[ ! -e "$run_dir" ]
}

@test "--pf: the config's other PFs need not be on the host (a PF that appears before the rest)" {
	: "${REPO:?set REPO to the source tree}"
	# the example's 82576 PF is not in the 82599 tree: a whole apply fails...
	run --separate-stderr "$VFCTL" --sysfs-root "$FIXTURES/82599-8vf/sys" apply --dry-run \
		--config "$REPO/examples/vfctl.conf"
	[ "$status" -eq 3 ]
	# ...its 82599 PF alone is planned
	run --separate-stderr "$VFCTL" --sysfs-root "$FIXTURES/82599-8vf/sys" apply --dry-run \
		--config "$REPO/examples/vfctl.conf" --pf enp3s0f0
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "0000:03:00.0: sriov_drivers_autoprobe on -> off: would apply" ]
	[ "${lines[-1]}" = "31 changes would be made (dry run: nothing written)" ]
	[[ "$output" != *"0000:03:00.1"* ]]
}

@test "--pf errors: a VF, a non-PF, an unknown device, a bad config; exit 1, nothing touched" {
	good_conf
	before=$(tree_sum)
	run --separate-stderr vfctl apply --config "$conf" --pf 0000:01:10.0
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "vfctl: apply: 0000:01:10.0 is a VF, not an SR-IOV PF; give the PF whose VFs the config describes ('vfctl list' shows them)" ]
	run --separate-stderr vfctl apply --config "$conf" --pf 0000:00:04.0
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfctl: apply: 0000:00:04.0 is a function without sriov_totalvfs, not an SR-IOV PF; give the PF whose VFs the config describes ('vfctl list' shows them)" ]
	run --separate-stderr vfctl apply --config "$conf" --pf 0000:05:00.0
	[ "$status" -eq 3 ]
	[ "$stderr" = "vfctl: apply: 0000:05:00.0: no such PCI function in $t/sys/bus/pci/devices; 'vfctl list --all' shows the functions there" ]
	run --separate-stderr vfctl apply --config "$conf" --pf eth9
	[ "$status" -eq 3 ]
	[[ "$stderr" == "vfctl: apply: eth9: no PCI function has a netdev of that name in "* ]]
	# the config is still checked whole: an error in another PF's part rejects it
	printf '%s\n' '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 1 }, { "match": { "address": "0000:01:00.0" }, "numvfs": 2, "vfs": [ { "index": 0, "vlan": 5000 } ] } ] }' >"$conf"
	run --separate-stderr vfctl apply --config "$conf" --pf 01:00.1
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfctl: apply: $conf: pfs[1].vfs[0].vlan: 5000: out of range; expected 0-4095" ]
	# and what needs the host is checked for the PF asked for
	printf '%s\n' '{ "pfs": [ { "match": { "address": "0000:01:00.1" }, "numvfs": 8 } ] }' >"$conf"
	run --separate-stderr vfctl apply --config "$conf" --pf 01:00.1
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfctl: apply: $conf: pfs[0].numvfs: 8 VFs, but 0000:01:00.1 has sriov_totalvfs 7" ]
	[ "$(tree_sum)" = "$before" ]
	[ ! -e "$run_dir" ]
}

# --skip-absent: what vfctl-provision.service runs at boot, when a PF whose
# driver is not loaded yet must not keep the others from being provisioned

@test "--skip-absent: config PFs not on the host are said and skipped, the rest is applied; without it the whole apply fails" {
	cat >"$conf" <<'JSON'
{
  "pfs": [
    { "match": { "address": "0000:82:00.0" }, "numvfs": 4 },
    { "match": { "netdev": "enp1s0f0" }, "numvfs": 2, "vfs": [ { "index": 1, "driver": "vfio-pci" } ] },
    { "match": { "id": "8086:10c9", "index": 5 }, "numvfs": 1 }
  ]
}
JSON
	before=$(tree_sum)
	run --separate-stderr vfctl apply --dry-run --config "$conf"
	[ "$status" -eq 3 ]
	[ "$stderr" = "vfctl: apply: $conf: pfs[0].match: no address 0000:82:00.0 on this host ('vfctl list' shows the PFs)" ]

	run --separate-stderr vfctl apply --dry-run --skip-absent --config "$conf"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "vfctl apply: pfs[0]: no address 0000:82:00.0 on this host: skipped
vfctl apply: pfs[2]: no id 8086:10c9 index 5 on this host: skipped
0000:01:00.0 vf 1 (0000:01:10.2): driver igbvf -> vfio-pci: would apply
1 change would be made (dry run: nothing written)" ]
	run --separate-stderr vfctl --json apply --dry-run --skip-absent --config "$conf"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.skipped, .n_changes]' <<<"$output")" = '[["pfs[0]: no address 0000:82:00.0 on this host","pfs[2]: no id 8086:10c9 index 5 on this host"],1]' ]
	[ "$(tree_sum)" = "$before" ]

	# a present PF that is wrong is still an error: skipping is for absence only
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "0000:82:00.0" }, "numvfs": 4 }, { "match": { "address": "0000:01:10.0" }, "numvfs": 1 } ] }
JSON
	run --separate-stderr vfctl apply --dry-run --skip-absent --config "$conf"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"pfs[1].match: 0000:01:10.0 is a VF, not an SR-IOV PF" ]]
	[ "$(tree_sum)" = "$before" ]
}

@test "--skip-absent with nothing of the config on the host: said, no changes, exit 0" {
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "address": "0000:82:00.0" }, "numvfs": 4 } ] }
JSON
	run --separate-stderr vfctl apply --skip-absent --config "$conf"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "vfctl apply: pfs[0]: no address 0000:82:00.0 on this host: skipped
no changes: the host matches $conf" ]
	[ ! -e "$run_dir" ]
}

@test "a FIFO as --config is refused at once (no writer needed), a \\u0000 in a string with FILE:LINE:COL" {
	fifo=$BATS_TEST_TMPDIR/conf.fifo
	mkfifo "$fifo"
	before=$(tree_sum)
	# (timeout: the open blocked for good before)
	run --separate-stderr timeout 20 "$VFCTL" --sysfs-root "$t/sys" --run-dir "$run_dir" \
		apply --config "$fifo"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfctl: apply: $fifo: a FIFO, not a regular file: a config is read only from a regular file (at most 1 MiB); write it to one and give that path" ]
	printf '{"pfs": [ { "match": { "address":\n "0000:01:00.0\\u0000x" }, "numvfs": 3 } ] }\n' >"$conf"
	run --separate-stderr vfctl apply --config "$conf"
	[ "$status" -eq 1 ]
	[ "$stderr" = "vfctl: apply: $conf:2:15: a NUL character (\\u0000) in a string: no name or value holds one; remove it" ]
	[ "$(tree_sum)" = "$before" ]
}

@test "a netdevsim software PF: matched by netdev, VF settings planned; a count, driver, autoprobe or pool refused whole" {
	rm -rf "$t"; tree_copy netdevsim	# 82576 beside netdevsim5 (4 VFs, netdev eni5np1)
	before=$(tree_sum)
	cat >"$conf" <<'JSON'
{ "pfs": [ { "match": { "netdev": "eni5np1" }, "numvfs": 4,
             "vfs": [ { "index": 3, "mac": "02:00:05:00:00:13", "trust": true } ] } ] }
JSON
	run --separate-stderr vfctl apply --dry-run --config "$conf"
	[ "$status" -eq 0 ]
	[ "$output" = "netdevsim5 vf 3: mac ? -> 02:00:05:00:00:13: would apply
netdevsim5 vf 3: trust ? -> on: would apply
2 changes would be made (dry run: nothing written)" ]
	run --separate-stderr vfctl --json apply --dry-run --config "$conf"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.changes[0] | [.pf, .vf_index, .address, .what]' <<<"$output")" = '["netdevsim5",3,null,"mac"]' ]
	schema_ok apply

	sed -i 's/"numvfs": 4/"numvfs": 8/' "$conf"
	run --separate-stderr vfctl apply --dry-run --config "$conf"
	[ "$status" -ne 0 ]
	[[ $stderr == *"pfs[0].numvfs: 8 VFs, but netdevsim5 (a netdevsim software PF) has 4 and vfctl does not change its count: write $t/sys/bus/netdevsim/devices/netdevsim5/sriov_numvfs, or make numvfs 4"* ]]
	sed -i -e 's/"numvfs": 8/"numvfs": 4/' -e 's/"trust": true/"driver": "vfio-pci"/' "$conf"
	run --separate-stderr vfctl apply --config "$conf"
	[ "$status" -ne 0 ]
	[[ $stderr == *"netdevsim5 is a netdevsim software PF whose VFs are no PCI functions: it takes VF settings only, not a VF driver"* ]]
	[ "$(tree_sum)" = "$before" ]
	[ ! -e "$run_dir" ]
}
