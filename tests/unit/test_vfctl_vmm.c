// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl xml's element (src/vfctl/cmd_vmm.c) for what only the live host
 * shows: the PF's netlink view of a VF (its admin MAC and VLAN), set here on
 * a golden tree's scan. Each element is validated against libvirt's domain
 * schema with virt-xml-validate (libvirt-clients, tests/deps).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "unit.h"

#define VF0 "0000:03:10.0"	/* 82599-8vf: VF 0 of 0000:03:00.0, netdev enp3s0f0v0 */
#define VF0_NETDEV_MAC "02:1b:21:00:00:10"

struct fx {
	struct vfctl_ctx *ctx;
	struct vfctl_host *host;
	struct vfctl_func *vf, *pf;
	char dir[64];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	unit_scan("82599-8vf", VFCTL_SCAN_NETLINK, &fx->ctx, &fx->host);
	assert_int_equal(vfctl_host_find(fx->ctx, fx->host, VF0, &fx->vf), 0);
	assert_int_equal(vfctl_host_find(fx->ctx, fx->host, "0000:03:00.0", &fx->pf), 0);
	/* not the live /sys: no netlink view until a test sets one */
	assert_false(fx->vf->config.valid);
	unit_tmpdir(fx->dir, sizeof(fx->dir), "/tmp/vfctl-vmm-XXXXXX");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	unit_rm_rf(fx->dir);
	vfctl_host_free(fx->host);
	vfctl_ctx_free(fx->ctx);
	free(fx);
	return 0;
}

/* What 'ip link show PF' would report for the VF. */
static void set_vf_config(struct vfctl_func *vf, const char *mac, unsigned vlan, unsigned qos,
			  uint16_t proto)
{
	vf->config.valid = true;
	snprintf(vf->config.mac, sizeof(vf->config.mac), "%s", mac);
	vf->config.vlan = vlan;
	vf->config.qos = qos;
	vf->config.vlan_proto = proto;
}

/* The element inside a minimal domain passes libvirt's schema. */
static void validate(const struct fx *fx, const char *element)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/domain.xml", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "<domain type='kvm'>\n  <name>vmm</name>\n  <memory>131072</memory>\n"
		"  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n  <devices>\n%s"
		"  </devices>\n</domain>\n", element);
	assert_int_equal(fclose(f), 0);
	/* quiet when it validates, its errors when not */
	unit_sh("out=$(virt-xml-validate '%s' domain 2>&1) || { echo \"$out\"; exit 1; }", path);
}

static void test_interface_mac_vlan(void **state)
{
	struct fx *fx = *state;
	char buf[1024], err[512];

	/* the PF's admin MAC (the one bind pins) wins over the netdev's */
	set_vf_config(fx->vf, "52:54:00:aa:bb:01", 42, 0, 0x8100);
	assert_int_equal(vmm_xml(fx->vf, true, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf,
			    "<interface type='hostdev' managed='no'>\n"
			    "  <mac address='52:54:00:aa:bb:01'/>\n"
			    "  <source>\n"
			    "    <address type='pci' domain='0x0000' bus='0x03' slot='0x10' "
			    "function='0x0'/>\n"
			    "  </source>\n"
			    "  <vlan>\n"
			    "    <tag id='42'/>\n"
			    "  </vlan>\n"
			    "</interface>\n");
	validate(fx, buf);
}

static void test_interface_zero_mac_falls_back(void **state)
{
	struct fx *fx = *state;
	char buf[1024], err[512];

	/* igb before 6.4 reports 00:..:00 for a VF whose driver chose its MAC */
	set_vf_config(fx->vf, "00:00:00:00:00:00", 0, 0, 0);
	assert_int_equal(vmm_xml(fx->vf, true, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_non_null(strstr(buf, "<mac address='" VF0_NETDEV_MAC "'/>"));
	assert_null(strstr(buf, "<vlan>"));
	validate(fx, buf);
}

static void test_interface_vlan_libvirt_would_change(void **state)
{
	struct fx *fx = *state;
	char buf[1024] = "untouched", err[512];

	set_vf_config(fx->vf, "52:54:00:aa:bb:01", 42, 3, 0x8100);
	assert_int_equal(vmm_xml(fx->vf, true, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	assert_string_equal(buf, "untouched");
	assert_string_equal(err, VF0 ": VLAN 42 with a qos: libvirt would set it again as VLAN 42 "
			    "with qos 0 and 802.1Q; leave out --interface for the <hostdev> element, "
			    "which keeps the VF's settings");
	set_vf_config(fx->vf, "52:54:00:aa:bb:01", 42, 0, 0x88a8);
	assert_int_equal(vmm_xml(fx->vf, true, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "VLAN 42 (802.1ad): libvirt would set it again"));
	/* the hostdev form does not touch the VF's settings: printed */
	assert_int_equal(vmm_xml(fx->vf, false, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_null(strstr(buf, "vlan"));
	validate(fx, buf);
}

static void test_pf(void **state)
{
	struct fx *fx = *state;
	char buf[1024] = "untouched", err[512];

	assert_int_equal(vmm_xml(fx->pf, true, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	assert_string_equal(buf, "untouched");
	assert_non_null(strstr(err, "is not an SR-IOV VF"));
	assert_int_equal(vmm_xml(fx->pf, false, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_non_null(strstr(buf, "<address domain='0x0000' bus='0x03' slot='0x00' "
				    "function='0x0'/>"));
	validate(fx, buf);
}

static void test_small_buffer(void **state)
{
	struct fx *fx = *state;
	char buf[64] = "untouched", err[512];

	assert_int_equal(vmm_xml(fx->vf, false, buf, sizeof(buf), err, sizeof(err)), -ENOBUFS);
	assert_string_equal(buf, "untouched");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_interface_mac_vlan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interface_zero_mac_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interface_vlan_libvirt_would_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_buffer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
