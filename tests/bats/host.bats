#!/usr/bin/env bats
# The live host as it is, and the installed library and tool.

setup() {
	: "${VFCTL:?set VFCTL to the vfctl binary}" "${REPO:?set REPO to the source tree}"
	unset VFCTL_SYSFS_ROOT VFCTL_DEV_ROOT
}

@test "vfctl list on this host: exit 0, IOMMU and VFIO stated, PFs or a plain 'none'" {
	run "$VFCTL" list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "IOMMU: "* ]]
	[[ "${lines[1]}" == "VFIO: /dev/vfio/vfio "* ]]
	if ! ls /sys/bus/pci/devices/*/sriov_totalvfs >/dev/null 2>&1; then
		# a build machine: no SR-IOV, said plainly
		[[ "$output" == *"No SR-IOV physical function on this host ("*" PCI functions scanned"* ]]
	fi
	if [ -z "$(ls /sys/class/iommu 2>/dev/null)" ]; then
		[[ "${lines[0]}" == "IOMMU: no - no IOMMU unit in /sys/class/iommu"* ]]
	fi
	run "$VFCTL" list --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .sysfs_root)" = /sys ]
	n=$(find /sys/bus/pci/devices/ -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	[ "$("$VFCTL" list --all --json | jq '[.pfs[], .pfs[].vfs[], .functions[]] | length')" = "$n" ]
}

@test "make install puts the tool, library, header, pkg-config file and man page in DESTDIR" {
	[ -z "${VFCTL_SAN:-}" ] || skip "checked on the plain build (an ASan library needs the runtime first)"
	d=$BATS_TEST_TMPDIR/stage
	run make -s -C "$REPO" install DESTDIR="$d" PREFIX=/usr B="$(dirname "$VFCTL")"
	[ "$status" -eq 0 ]
	for f in usr/bin/vfctl usr/lib/libvfctl.so.0 usr/lib/libvfctl.so usr/lib/libvfctl.a \
		usr/include/vfctl.h usr/lib/pkgconfig/libvfctl.pc usr/share/man/man1/vfctl.1; do
		[ -e "$d/$f" ]
	done
	# the shared library exports the API and nothing else
	nm -D --defined-only "$d/usr/lib/libvfctl.so.0" | awk '{print $3}' | grep -v '^vfctl_' | grep -v '^VFCTL_' | (! grep .)
	# a program builds against the installed library through pkg-config and runs
	cat >"$BATS_TEST_TMPDIR/t.c" <<'C'
#include <stdio.h>
#include <vfctl.h>
int main(void) { char a[VFCTL_ADDR_LEN]; return vfctl_addr_parse("03:10.2", a) || puts(a) < 0; }
C
	sed -i "s|^prefix=.*|prefix=$d/usr|; s|^libdir=.*|libdir=$d/usr/lib|; s|^includedir=.*|includedir=$d/usr/include|" \
		"$d/usr/lib/pkgconfig/libvfctl.pc"
	# shellcheck disable=SC2046 # pkg-config's flags are words
	cc -o "$BATS_TEST_TMPDIR/t" "$BATS_TEST_TMPDIR/t.c" \
		$(PKG_CONFIG_PATH=$d/usr/lib/pkgconfig pkg-config --cflags --libs libvfctl)
	run env LD_LIBRARY_PATH="$d/usr/lib" "$BATS_TEST_TMPDIR/t"
	[ "$status" -eq 0 ]
	[ "$output" = 0000:03:10.2 ]
	man -l "$d/usr/share/man/man1/vfctl.1" >/dev/null 2>&1 || [ ! -x /usr/bin/man ]
}
