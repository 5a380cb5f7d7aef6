#!/usr/bin/env bats
# The systemd units (systemd/*.in as built into build/systemd/: ours and any
# other, e.g. vfctld's) through `systemd-analyze verify`, which must be
# silent: it exits 0 on a unit it only warns about, so a warning fails too;
# deliberately broken copies prove each kind of mistake is caught. The udev
# rule through `udevadm test` on fake PCI devices (a PF, a VF, a function
# without SR-IOV) in a private mount namespace: the host's /sys, /etc and
# /run are never written. The kernel's side is tests/vm/65-provision.bats.

# shellcheck disable=SC2154 # status, output, lines: set by bats run
# shellcheck disable=SC2030,SC2031 # each test is a subshell of its own
bats_require_minimum_version 1.5.0

setup() {
	: "${BUILD:?set BUILD to the build directory}" "${REPO:?set REPO to the source tree}"
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${FIXTURES:?set FIXTURES to the trees}"
	units=$BUILD/systemd
	man=$BATS_TEST_TMPDIR/man	# Documentation=man:... is looked up with man(1)
	for f in "$REPO"/man/*.[1-8]; do
		mkdir -p "$man/man${f##*.}"
		ln -sf "$f" "$man/man${f##*.}/"
	done
	stage=$BATS_TEST_TMPDIR/units
	mkdir -p "$stage"
}

# stage FILE...: copies in $stage; an Exec*= program this build made (vfctl,
# vfctld, ...) points at the build's binary so that verify can check it is
# there and executable; any other program (/bin/kill) stays as it is
stage() {
	local u line prog
	for u; do
		# shellcheck disable=SC2094 # reads $u, writes its copy in $stage
		while IFS= read -r line; do
			if [[ $line =~ ^(Exec[A-Za-z]*=[-@:+!]*)(/[^[:space:]]+)(.*)$ ]]; then
				prog=$BUILD/$(basename "${BASH_REMATCH[2]}")
				[ -x "$prog" ] && line=${BASH_REMATCH[1]}$prog${BASH_REMATCH[3]}
			fi
			printf '%s\n' "$line"
		done <"$u" >"$stage/$(basename "$u")"
	done
}

# verify FILE...: systemd-analyze verify, man pages from the source tree
verify() {
	MANPATH=$man run systemd-analyze verify "$@"
}

@test "every unit of systemd/ is built with the install paths and verifies without a word" {
	local n=0 in
	for in in "$REPO"/systemd/*.in; do
		[ -f "$units/$(basename "$in" .in)" ] || { echo "not built: $in"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -ge 2 ]
	! grep -n '@[A-Z_]*@' "$units"/* || false	# every @VAR@ substituted
	stage "$units"/*
	verify "$stage"/*
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "broken copies fail verify: a bad value, an unknown key, a missing program, a missing man page" {
	stage "$units/vfctl-provision.service" "$units/vfctl-provision@.service"
	good=$stage/vfctl-provision.service
	sed 's/^Type=oneshot/Type=oneshoot/' "$good" >"$stage/bad-type.service"
	verify "$stage/bad-type.service"
	[[ "$output" == *"Failed to parse service type, ignoring: oneshoot"* ]]
	sed 's/^Before=network-pre.target/Befor=network-pre.target/' "$good" >"$stage/bad-key.service"
	verify "$stage/bad-key.service"
	[[ "$output" == *"Unknown key 'Befor' in section [Unit], ignoring."* ]]
	sed "s|^ExecStart=[^ ]*|ExecStart=$BATS_TEST_TMPDIR/none/vfctl|" "$good" >"$stage/bad-exec.service"
	verify "$stage/bad-exec.service"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Command $BATS_TEST_TMPDIR/none/vfctl is not executable"* ]]
	sed 's|^Documentation=man:vfctl(1)|Documentation=man:vfctl-none(1)|' "$good" >"$stage/bad-man.service"
	verify "$stage/bad-man.service"
	[ "$status" -ne 0 ]
	# the template is checked as an instance: its program too
	sed "s|^ExecStart=[^ ]*|ExecStart=$BATS_TEST_TMPDIR/none/vfctl|" \
		"$stage/vfctl-provision@.service" >"$stage/bad-tpl@.service"
	verify "$stage/bad-tpl@.service"
	[ "$status" -ne 0 ]
	[[ "$output" == *"bad-tpl@i.service: Command $BATS_TEST_TMPDIR/none/vfctl is not executable"* ]]
	# and the good ones still pass
	verify "$good" "$stage/vfctl-provision@.service"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# unit_value UNIT KEY: the values of KEY= (all of them, one a line)
unit_value() {
	sed -n "s/^$2=//p" "$1"
}

# exposure UNIT: systemd-analyze security's overall exposure of UNIT (a
# file), e.g. 3.0 (0 = fully sandboxed, 10 = not at all)
exposure() {
	local out
	out=$(systemd-analyze security --offline=true --no-pager "$1" 2>&1) || { echo "$out"; return 1; }
	sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) .*$/\1/p' <<<"$out"
}

@test "the services are sandboxed: systemd-analyze security's exposure stays within its bound" {
	# bounds: the exposure the sandbox reached (README "Sandboxing"); the
	# units ran at 9.6 (vfctld) and 9.5 (provision) without it
	local u e bound
	stage "$units"/*.service
	for u in vfctld.service:2.9 vfctl-provision.service:3.1 vfctl-provision@.service:3.1 \
		vfctl-metrics.service:2.0; do
		bound=${u#*:} u=${u%%:*}
		e=$(exposure "$stage/$u")
		echo "# figure: $u exposure $e (bound $bound)" >&3
		[ -n "$e" ]
		awk -v e="$e" -v b="$bound" 'BEGIN { exit !(e <= b) }' ||
			{ echo "$u: exposure $e above $bound"; return 1; }
	done
	# a copy without the sandbox scores worse: the check sees the settings
	sed '/^CapabilityBoundingSet=/d; /^SystemCallFilter=/d; /^ProtectSystem=/d' \
		"$stage/vfctld.service" >"$stage/loose.service"
	e=$(exposure "$stage/loose.service")
	awk -v e="$e" 'BEGIN { exit !(e > 2.9) }'
}

@test "the sandbox leaves what the programs need: /sys, /dev/vfio, netlink, /run/vfctl, other users' /proc" {
	local u
	for u in vfctld.service vfctl-provision.service vfctl-provision@.service; do
		u=$units/$u
		# binding and provisioning write sysfs; vfctld hands out /dev/vfio;
		# netlink must reach the host's netdevs; the holder check reads
		# every process's /proc/PID/fd
		! grep -E '^(ProtectKernelTunables|PrivateDevices|PrivateNetwork|PrivateUsers|DynamicUser)=yes' "$u" || false
		! grep -E '^(ProtectProc=invisible|ProcSubset=pid)' "$u" || false
		[ "$(unit_value "$u" ProtectSystem)" = strict ]
		[[ " $(unit_value "$u" RuntimeDirectory) " == *" vfctl "* ]]
		[ "$(unit_value "$u" RuntimeDirectoryPreserve)" = yes ]	# vfctld's leases survive
		[ "$(unit_value "$u" RestrictAddressFamilies)" = "AF_UNIX AF_NETLINK" ]
		[[ " $(unit_value "$u" CapabilityBoundingSet) " == *" CAP_NET_ADMIN "*" CAP_SYS_PTRACE "* ]]
	done
	# provisioning may load the VF drivers its config names; vfctld may not
	# load modules, so vfio-pci is loaded before it
	u=$units/vfctl-provision.service
	[[ " $(unit_value "$u" CapabilityBoundingSet) " == *" CAP_SYS_MODULE "* ]]
	[[ " $(unit_value "$u" SystemCallFilter | tr '\n' ' ') " == *" @module "* ]]
	u=$units/vfctld.service
	[[ " $(unit_value "$u" CapabilityBoundingSet) " != *CAP_SYS_MODULE* ]]
	[ "$(unit_value "$u" ProtectKernelModules)" = yes ]
	[[ " $(unit_value "$u" Wants | tr '\n' ' ') " == *" modprobe@vfio_pci.service "* ]]
	[[ " $(unit_value "$u" After | tr '\n' ' ') " == *" modprobe@vfio_pci.service "* ]]
}

@test "vfctl-provision.service: a oneshot vfctl apply at boot, before the network managers and vfctld" {
	u=$units/vfctl-provision.service
	bindir=$(cut -d' ' -f2 "$BUILD/.paths")
	[ "$(unit_value "$u" Type)" = oneshot ]
	[ "$(unit_value "$u" RemainAfterExit)" = yes ]
	[ "$(unit_value "$u" ExecStart)" = "$bindir/vfctl apply --skip-absent" ]
	[ "$(unit_value "$u" ConditionPathExists)" = /etc/vfctl/vfctl.conf ]
	[ "$(unit_value "$u" DefaultDependencies)" = no ]
	[ "$(unit_value "$u" Wants)" = network-pre.target ]
	before=" $(unit_value "$u" Before | tr '\n' ' ')"
	after=" $(unit_value "$u" After | tr '\n' ' ')"
	[[ $before == *" network-pre.target "* && $before == *" vfctld.service "* ]]
	[[ $after == *" systemd-modules-load.service "* && $after == *" systemd-udev-trigger.service "* ]]
	[[ $after == *" local-fs.target "* ]]
	[ "$(unit_value "$u" WantedBy)" = multi-user.target ]
}

@test "vfctl-provision@.service: vfctl apply --pf for the instance, again on every start, after the boot run" {
	u=$units/vfctl-provision@.service
	bindir=$(cut -d' ' -f2 "$BUILD/.paths")
	[ "$(unit_value "$u" Type)" = oneshot ]
	[ -z "$(unit_value "$u" RemainAfterExit)" ]	# a second bind must run it again
	[ "$(unit_value "$u" ExecStart)" = "$bindir/vfctl apply --pf %I" ]
	after=" $(unit_value "$u" After | tr '\n' ' ')"
	[[ $after == *" vfctl-provision.service "* ]]
}

@test "the units' commands are what vfctl takes: the boot run and a PF's run on a golden tree" {
	t=$BATS_TEST_TMPDIR/t
	cp -a "$FIXTURES/82576" "$t"
	conf=$BATS_TEST_TMPDIR/vfctl.conf
	printf '%s\n' '{ "pfs": [ { "match": { "netdev": "enp1s0f1" }, "numvfs": 2 } ] }' >"$conf"
	# ExecStart with the build's binary, the tree and the config added
	read -ra cmd <<<"$(unit_value "$units/vfctl-provision.service" ExecStart)"
	run "$VFCTL" --sysfs-root "$t/sys" --run-dir "$BATS_TEST_TMPDIR/run" "${cmd[@]:1}" \
		--dry-run --config "$conf"
	[ "$status" -eq 0 ]
	[ "$output" = "0000:01:00.1: sriov_numvfs 0 -> 2: would apply
1 change would be made (dry run: nothing written)" ]
	tpl=$(unit_value "$units/vfctl-provision@.service" ExecStart)
	for pf in 0000:01:00.1 0000:01:00.0; do
		read -ra cmd <<<"${tpl//%I/$pf}"
		run "$VFCTL" --sysfs-root "$t/sys" --run-dir "$BATS_TEST_TMPDIR/run" "${cmd[@]:1}" \
			--dry-run --config "$conf"
		[ "$status" -eq 0 ]
		case $pf in
		0000:01:00.1) [ "${lines[0]}" = "0000:01:00.1: sriov_numvfs 0 -> 2: would apply" ] ;;
		*) [ "$output" = "vfctl apply: 0000:01:00.0 is not in $conf: nothing to do" ] ;;
		esac
	done
}

@test "make install puts the units and the rule where systemd and udev read them; uninstall removes them" {
	# PREFIX=/usr: the distribution's directories; another prefix: systemd
	# reads PREFIX/lib/systemd/system, udev only /etc (not PREFIX/lib/udev)
	for prefix in /usr /usr/local; do
		unitdir=$prefix/lib/systemd/system
		rulesdir=/etc/udev/rules.d
		[ "$prefix" != /usr ] || rulesdir=/usr/lib/udev/rules.d
		d=$BATS_TEST_TMPDIR/stage$prefix
		run make -s -C "$REPO" B="$BUILD" DESTDIR="$d" PREFIX="$prefix" install
		[ "$status" -eq 0 ]
		[ "$(unit_value "$d$unitdir/vfctl-provision.service" ExecStart)" = "$prefix/bin/vfctl apply --skip-absent" ]
		[ "$(unit_value "$d$unitdir/vfctl-provision@.service" ExecStart)" = \
		  "$prefix/bin/vfctl apply --pf %I" ]
		cmp "$d$rulesdir/90-vfctl.rules" "$REPO/udev/90-vfctl.rules"
		cmp "$d$rulesdir/85-vfctl-vf.rules" "$REPO/udev/85-vfctl-vf.rules"
		cmp "$d$prefix/lib/systemd/network/09-vfctl-vf.network" "$REPO/systemd/09-vfctl-vf.network"
		[ "$(unit_value "$d$unitdir/vfctl-metrics.service" ExecStart)" = \
		  "$prefix/bin/vfctl metrics /var/lib/prometheus/node-exporter/vfctl.prom" ]
		[ -f "$d$unitdir/vfctl-metrics.timer" ]
		[ -x "$d$prefix/bin/vfctl" ]
		run make -s -C "$REPO" B="$BUILD" DESTDIR="$d" PREFIX="$prefix" uninstall
		[ "$status" -eq 0 ]
		[ ! -e "$d$unitdir/vfctl-provision.service" ]
		[ ! -e "$d$unitdir/vfctl-provision@.service" ]
		[ ! -e "$d$rulesdir/90-vfctl.rules" ]
		[ ! -e "$d$rulesdir/85-vfctl-vf.rules" ]
		[ ! -e "$d$prefix/lib/systemd/network/09-vfctl-vf.network" ]
		[ ! -e "$d$unitdir/vfctl-metrics.service" ]
	done
}

# udev_test RULES CONF ACTION DEV: `udevadm test --action=ACTION` of fake
# device DEV (pf: 0000:01:00.0 on igb with sriov_totalvfs 7; vf:
# 0000:01:10.0 on igbvf; nosriov: 0000:02:00.0, sriov_totalvfs 0) with only
# RULES installed and /etc/vfctl/vfctl.conf there when CONF is 1. In a
# private mount namespace: a fake /sys, an overlay on /etc, a fresh /run.
udev_test() {
	local w=$BATS_TEST_TMPDIR/udev.$RANDOM
	mkdir -p "$w/upper" "$w/work" "$w/sys/bus/pci/devices"
	cp "$1" "$w/rules"
	mkdev() {	# ADDR DRIVER [TOTALVFS]
		local d=$w/sys/devices/pci0000:00/$1
		mkdir -p "$d" "$w/sys/bus/pci/drivers/$2"
		printf 'DRIVER=%s\nPCI_SLOT_NAME=%s\n' "$2" "$1" >"$d/uevent"
		[ -z "${3:-}" ] || echo "$3" >"$d/sriov_totalvfs"
		ln -s ../../../bus/pci "$d/subsystem"
		ln -s "../../../bus/pci/drivers/$2" "$d/driver"
		ln -s "../../../devices/pci0000:00/$1" "$w/sys/bus/pci/devices/$1"
	}
	mkdev 0000:01:00.0 igb 7
	mkdev 0000:01:10.0 igbvf
	mkdev 0000:02:00.0 e1000e 0
	case $4 in pf) dev=0000:01:00.0 ;; vf) dev=0000:01:10.0 ;; nosriov) dev=0000:02:00.0 ;; esac
	# SYSTEMD_DEVICE_VERIFY_SYSFS=0: sd-device takes a /sys that is not sysfs
	# shellcheck disable=SC2016 # expanded by the inner sh
	run unshare -m sh -ec '
		w=$1
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$w/upper,workdir=$w/work" /etc
		rm -rf /etc/udev/rules.d /etc/vfctl
		mkdir -p /etc/udev/rules.d
		mount -t tmpfs tmpfs /usr/lib/udev/rules.d
		cp "$w/rules" /etc/udev/rules.d/90-vfctl.rules
		if [ "$2" = 1 ]; then mkdir /etc/vfctl; echo "{}" >/etc/vfctl/vfctl.conf; fi
		mount -t tmpfs tmpfs /run
		mount --bind "$w/sys" /sys
		SYSTEMD_DEVICE_VERIFY_SYSFS=0 udevadm test --action="$3" "/sys/devices/pci0000:00/$4" 2>&1
	' sh "$w" "$2" "$3" "$dev"
}

# wants: what the udev_test run asks systemd to start ("" for nothing)
wants() {
	local tagged=0 w=""
	[[ "$output" == *$'\n'"CURRENT_TAGS=:systemd:"* ]] && tagged=1
	w=$(sed -n 's/^SYSTEMD_WANTS=//p' <<<"$output")
	[ "$tagged" -eq 1 ] || [ -z "$w" ] || { echo "SYSTEMD_WANTS without the systemd tag"; return 1; }
	echo "$w"
}

@test "udev rule: a PF binding to its driver starts vfctl-provision@PF; nothing else does" {
	command -v udevadm >/dev/null || { echo "udevadm missing: tests/deps installs udev"; return 1; }
	rules=$REPO/udev/90-vfctl.rules
	udev_test "$rules" 1 bind pf
	[ "$status" -eq 0 ]
	[[ "$output" == *"Reading rules file: /etc/udev/rules.d/90-vfctl.rules"* ]]
	# about the rule, not udevadm's own view of PID 1 (in a container it cannot read it)
	! grep -v 'container of PID 1' <<<"$output" | grep -Ei 'invalid|error|ignoring|failed to' ||
		false
	[ "$(wants)" = "vfctl-provision@0000:01:00.0.service" ]
	# VFs vfctl creates and binds (igbvf, vfio-pci) do not start it: no loop
	udev_test "$rules" 1 bind vf
	[ "$status" -eq 0 ]
	[ -z "$(wants)" ]
	udev_test "$rules" 1 bind nosriov
	[ -z "$(wants)" ]
	for action in add change unbind remove; do
		udev_test "$rules" 1 "$action" pf
		[ "$status" -eq 0 ]
		[ -z "$(wants)" ]
	done
	udev_test "$rules" 0 bind pf	# no config: nothing to start
	[ "$status" -eq 0 ]
	[ -z "$(wants)" ]
}

@test "udev rule: the checks tell a broken rule (a VF loop, a syntax error) from the real one" {
	# ATTR{...}!= does not match a missing attribute: such a rule takes VFs too
	sed 's/^TEST!="sriov_totalvfs", GOTO="vfctl_end"$/ATTR{sriov_totalvfs}!="?*", GOTO="vfctl_end"/' \
		"$REPO/udev/90-vfctl.rules" >"$BATS_TEST_TMPDIR/loop.rules"
	! cmp -s "$BATS_TEST_TMPDIR/loop.rules" "$REPO/udev/90-vfctl.rules" || false
	udev_test "$BATS_TEST_TMPDIR/loop.rules" 1 bind vf
	[ "$(wants)" = "vfctl-provision@0000:01:10.0.service" ]
	sed 's/^ACTION!="bind"/ACTION=!"bind"/' "$REPO/udev/90-vfctl.rules" >"$BATS_TEST_TMPDIR/syntax.rules"
	udev_test "$BATS_TEST_TMPDIR/syntax.rules" 1 bind pf
	grep -Ei 'invalid|error|ignoring' <<<"$output"
}

@test "vfctl-metrics.service: its command on a golden tree writes what promtool accepts; the timer runs it every minute" {
	u=$units/vfctl-metrics.service
	[ "$(unit_value "$u" Type)" = oneshot ]
	[ "$(unit_value "$u" ReadWritePaths)" = /var/lib/prometheus/node-exporter ]
	[ "$(unit_value "$units/vfctl-metrics.timer" OnUnitActiveSec)" = 1min ]
	[ "$(unit_value "$units/vfctl-metrics.timer" WantedBy)" = timers.target ]
	# ExecStart with the build's binary, the tree, and the file under the test's dir
	read -ra cmd <<<"$(unit_value "$u" ExecStart)"
	out=$BATS_TEST_TMPDIR${cmd[2]}
	mkdir -p "${out%/*}"
	VFCTLD_SOCKET=$BATS_TEST_TMPDIR/none.sock "$VFCTL" --sysfs-root "$FIXTURES/82599-8vf/sys" \
		--run-dir "$BATS_TEST_TMPDIR/run" "${cmd[1]}" "$out"
	promtool check metrics <"$out"
	grep -qx 'vfctl_vfs{pf="0000:03:00.0",state="vfio"} 1' "$out"
}

# udev_net RULES VF|PF: `udevadm test` of a fake netdev eth1 on a VF
# (0000:01:10.0, with its physfn link) or on the PF (0000:01:00.0), only
# RULES installed; the same private namespace as udev_test
udev_net() {
	local w=$BATS_TEST_TMPDIR/udevnet.$RANDOM d
	mkdir -p "$w/upper" "$w/work" "$w/sys/class/net"
	cp "$1" "$w/rules"
	d=$w/sys/devices/pci0000:00/0000:01:00.0
	mkdir -p "$d"
	if [ "$2" = VF ]; then
		d=$w/sys/devices/pci0000:00/0000:01:10.0
		mkdir -p "$d"
		ln -s ../0000:01:00.0 "$d/physfn"
	fi
	mkdir -p "$d/net/eth1"
	printf 'INTERFACE=eth1\nIFINDEX=7\n' >"$d/net/eth1/uevent"
	ln -s ../../../../class/net "$d/net/eth1/subsystem"
	ln -s ../../../"$(basename "$d")" "$d/net/eth1/device"
	ln -s "../../devices/pci0000:00/$(basename "$d")/net/eth1" "$w/sys/class/net/eth1"
	# shellcheck disable=SC2016 # expanded by the inner sh
	run unshare -m sh -ec '
		w=$1
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$w/upper,workdir=$w/work" /etc
		rm -rf /etc/udev/rules.d
		mkdir -p /etc/udev/rules.d
		mount -t tmpfs tmpfs /usr/lib/udev/rules.d
		cp "$w/rules" /etc/udev/rules.d/85-vfctl-vf.rules
		mount -t tmpfs tmpfs /run
		mount --bind "$w/sys" /sys
		SYSTEMD_DEVICE_VERIFY_SYSFS=0 udevadm test --action=add /sys/class/net/eth1 2>&1
	' sh "$w"
}

@test "85-vfctl-vf.rules: a VF's netdev is NM_UNMANAGED and not networkd's; a PF's netdev is left alone" {
	command -v udevadm >/dev/null || { echo "udevadm missing: tests/deps installs udev"; return 1; }
	udev_net "$REPO/udev/85-vfctl-vf.rules" VF
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Reading rules file: /etc/udev/rules.d/85-vfctl-vf.rules"* ]]
	! grep -v 'container of PID 1' <<<"$output" | grep -Ei 'invalid|error|ignoring|failed to' || false
	grep -qx 'NM_UNMANAGED=1' <<<"$output"
	grep -qx 'VFCTL_VF=1' <<<"$output"
	grep -qx 'ID_NET_MANAGED_BY=io.vfctl' <<<"$output"
	udev_net "$REPO/udev/85-vfctl-vf.rules" PF
	[ "$status" -eq 0 ]
	! grep -E '^(NM_UNMANAGED|VFCTL_VF|ID_NET_MANAGED_BY)=' <<<"$output" || false
	# networkd's side: the .network matches the property the rule sets
	grep -qx 'Property=VFCTL_VF=1' "$REPO/systemd/09-vfctl-vf.network"
	grep -qx 'Unmanaged=yes' "$REPO/systemd/09-vfctl-vf.network"
}
