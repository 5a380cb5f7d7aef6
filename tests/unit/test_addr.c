// SPDX-License-Identifier: LGPL-2.1-or-later
/* Strict PCI address and interface name parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vfctl.h"

static void addr_accepts_both_forms(void **state)
{
	char out[VFCTL_ADDR_LEN];

	(void)state;
	assert_int_equal(vfctl_addr_parse("0000:03:00.0", out), 0);
	assert_string_equal(out, "0000:03:00.0");
	assert_int_equal(vfctl_addr_parse("03:10.6", out), 0);
	assert_string_equal(out, "0000:03:10.6");
	assert_int_equal(vfctl_addr_parse("ABCD:Ff:1f.7", out), 0);
	assert_string_equal(out, "abcd:ff:1f.7");
}

/* every bus, device and function, in both forms and both cases, comes back
 * in the kernel's spelling */
static void addr_every_function(void **state)
{
	static const unsigned doms[] = { 0, 0x1a2b, 0xffff };
	char in[32], want[32], out[VFCTL_ADDR_LEN];

	(void)state;
	for (size_t d = 0; d < sizeof(doms) / sizeof(doms[0]); d++)
		for (unsigned bus = 0; bus < 256; bus++)
			for (unsigned dev = 0; dev < 32; dev++)
				for (unsigned fn = 0; fn < 8; fn++) {
					snprintf(want, sizeof(want), "%04x:%02x:%02x.%x", doms[d], bus, dev, fn);
					snprintf(in, sizeof(in), "%04X:%02X:%02X.%X", doms[d], bus, dev, fn);
					assert_int_equal(vfctl_addr_parse(in, out), 0);
					assert_string_equal(out, want);
					if (doms[d])
						continue;
					snprintf(in, sizeof(in), "%02x:%02x.%x", bus, dev, fn);
					assert_int_equal(vfctl_addr_parse(in, out), 0);
					assert_string_equal(out, want);
				}
}

static void addr_refuses_everything_else(void **state)
{
	static const char *bad[] = {
		"", "0", "3:0.0", "03:00", "03:00.8", "03:20.0", "0000:03:00.0 ",
		" 03:00.0", "0000:03:00.00", "00000:03:00.0", "0000-03:00.0", "03:00.0/",
		"../03:00.0", "0000:03:00.0/../../x", "+3:00.0", "0x:00.0", "g3:00.0",
		"0000:03:00:0", "0000.03:00.0", "eth0",
	};
	char out[VFCTL_ADDR_LEN] = "untouched";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vfctl_addr_parse(bad[i], out), -22);
		/* out-parameters stay untouched on failure */
		assert_string_equal(out, "untouched");
	}
	assert_int_equal(vfctl_addr_parse(NULL, out), -22);
}

static void ifname_rules(void **state)
{
	(void)state;
	assert_true(vfctl_ifname_valid("enp3s0f0"));
	assert_true(vfctl_ifname_valid("eth0.100"));
	assert_true(vfctl_ifname_valid("a23456789012345"));	/* 15 chars */
	assert_false(vfctl_ifname_valid("a234567890123456"));	/* 16 chars */
	assert_false(vfctl_ifname_valid(""));
	assert_false(vfctl_ifname_valid("."));
	assert_false(vfctl_ifname_valid(".."));
	assert_false(vfctl_ifname_valid("eth0/../x"));
	assert_false(vfctl_ifname_valid("eth 0"));
	assert_false(vfctl_ifname_valid("eth:0"));
	assert_false(vfctl_ifname_valid("eth\n0"));
	assert_false(vfctl_ifname_valid(NULL));
}

static void names_of_vf_values(void **state)
{
	(void)state;
	assert_string_equal(vfctl_vf_link_state_str(0), "auto");
	assert_string_equal(vfctl_vf_link_state_str(1), "enable");
	assert_string_equal(vfctl_vf_link_state_str(2), "disable");
	assert_null(vfctl_vf_link_state_str(3));
	assert_string_equal(vfctl_vlan_proto_str(0x8100), "802.1Q");
	assert_string_equal(vfctl_vlan_proto_str(0x88a8), "802.1ad");
	assert_null(vfctl_vlan_proto_str(0x0800));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addr_accepts_both_forms),
		cmocka_unit_test(addr_every_function),
		cmocka_unit_test(addr_refuses_everything_else),
		cmocka_unit_test(ifname_rules),
		cmocka_unit_test(names_of_vf_values),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
