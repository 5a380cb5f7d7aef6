// SPDX-License-Identifier: LGPL-2.1-or-later
/* The saved original state: round trip, atomic replace, bad records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "internal.h"
#include "unit.h"

struct fx {
	char dir[64];
	struct vfctl_ctx *ctx;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	unit_tmpdir(f->dir, sizeof(f->dir), "/tmp/vfctl-state-XXXXXX");
	assert_int_equal(vfctl_ctx_new(&f->ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = "/tmp",
		.run_dir = f->dir)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vfctl_ctx_free(f->ctx);
	unit_rm_rf(f->dir);
	free(f);
	return 0;
}

static void round_trip(void **state)
{
	struct fx *f = *state;
	struct dev_state in = {
		.addr = "0000:03:10.2", .driver = "ixgbevf", .is_vf = true, .pf = "0000:03:00.0",
		.vf_index = 1,
		.config = { .valid = true, .mac = "02:aa:bb:cc:dd:01", .vlan = 42, .qos = 2,
			    .vlan_proto = 0x88a8, .spoofchk = VFCTL_OFF, .trust = VFCTL_ON,
			    .min_tx_rate = 10, .max_tx_rate = 100, .link_state = 2 },
	};
	struct dev_state out;
	char path[128];
	struct stat st;

	assert_int_equal(vfctl_state_save(f->ctx, &in), 0);
	snprintf(path, sizeof(path), "%s/state/0000:03:10.2.json", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* no temp file left behind */
	snprintf(path, sizeof(path), "%s/state/.0000:03:10.2.json.tmp", f->dir);
	assert_int_equal(stat(path, &st), -1);

	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(vfctl_state_load(f->ctx, "0000:03:10.2", &out), 0);
	assert_string_equal(out.addr, in.addr);
	assert_string_equal(out.driver, "ixgbevf");
	assert_string_equal(out.driver_override, "");
	assert_true(out.is_vf);
	assert_string_equal(out.pf, "0000:03:00.0");
	assert_int_equal(out.vf_index, 1);
	assert_true(out.config.valid);
	assert_string_equal(out.config.mac, "02:aa:bb:cc:dd:01");
	assert_int_equal(out.config.vlan, 42);
	assert_int_equal(out.config.qos, 2);
	assert_int_equal(out.config.vlan_proto, 0x88a8);
	assert_int_equal(out.config.spoofchk, VFCTL_OFF);
	assert_int_equal(out.config.trust, VFCTL_ON);
	assert_int_equal(out.config.min_tx_rate, 10);
	assert_int_equal(out.config.max_tx_rate, 100);

	/* replacing keeps one whole record */
	strcpy(in.driver, "vfio-pci");
	assert_int_equal(vfctl_state_save(f->ctx, &in), 0);
	assert_int_equal(vfctl_state_load(f->ctx, "0000:03:10.2", &out), 0);
	assert_string_equal(out.driver, "vfio-pci");

	assert_int_equal(vfctl_state_remove(f->ctx, "0000:03:10.2"), 0);
	assert_int_equal(vfctl_state_load(f->ctx, "0000:03:10.2", &out), -ENOENT);
	/* removing twice is fine */
	assert_int_equal(vfctl_state_remove(f->ctx, "0000:03:10.2"), 0);
}

static void not_a_vf_and_no_driver(void **state)
{
	struct fx *f = *state;
	struct dev_state in = { .addr = "0000:01:00.0" }, out;

	assert_int_equal(vfctl_state_save(f->ctx, &in), 0);
	assert_int_equal(vfctl_state_load(f->ctx, "0000:01:00.0", &out), 0);
	assert_false(out.is_vf);
	assert_string_equal(out.driver, "");
}

static void bad_records_are_refused(void **state)
{
	struct fx *f = *state;
	struct dev_state out = { .driver = "untouched" };
	char path[128];
	FILE *fp;

	assert_int_equal(vfctl_state_load(f->ctx, "0000:05:00.0", &out), -ENOENT);
	snprintf(path, sizeof(path), "%s/state/0000:05:00.0.json", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{ \"address\": \"0000:06:00.0\", \"driver\": \"igb\" }", fp);
	fclose(fp);
	assert_int_equal(vfctl_state_load(f->ctx, "0000:05:00.0", &out), -EBADMSG);
	assert_non_null(strstr(vfctl_ctx_error(f->ctx), "not a saved state of 0000:05:00.0"));
	fp = fopen(path, "w");
	fputs("{ truncated", fp);
	fclose(fp);
	assert_int_equal(vfctl_state_load(f->ctx, "0000:05:00.0", &out), -EBADMSG);
	assert_string_equal(out.driver, "untouched");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(not_a_vf_and_no_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_records_are_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
