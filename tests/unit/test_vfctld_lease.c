// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctld's lease store (src/vfctld/lease.c): leases round-trip through
 * leases.json, ids are never reused, the file is replaced atomically (no
 * temp file left), and a file that is not a lease list stops the start
 * instead of being overwritten; a lease renders as JSON for the file and
 * for the wire from one function.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfctld.h"
#include "unit.h"

struct fx {
	char dir[64];
	struct vfctl_ctx *ctx;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	unit_tmpdir(f->dir, sizeof(f->dir), "/tmp/vfctld-lease-XXXXXX");
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

static void write_file(const struct fx *f, const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/leases.json", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void round_trip(void **state)
{
	struct fx *f = *state;
	struct lease_store st, st2;
	struct lease *a, *b;
	char path[128];
	struct stat sb;

	assert_int_equal(lease_store_open(f->ctx, &st), 0);
	assert_int_equal(st.n, 0);
	assert_int_equal(lease_store_add(&st, &a), 0);
	assert_string_equal(a->id, "L1");
	assert_int_equal(a->state, LEASE_ALLOCATING);
	strcpy(a->pool, "gpu");
	strcpy(a->vf, "0000:03:10.2");
	strcpy(a->pf, "0000:03:00.0");
	strcpy(a->owner, "vm-1");
	a->vf_index = 1;
	a->group = 31;
	a->uid = 1001;
	a->pid = 4242;
	a->pid_start = 123456;
	a->created = 1700000000;
	a->bound = true;
	a->state = LEASE_ACTIVE;
	assert_int_equal(lease_store_add(&st, &b), 0);
	assert_string_equal(b->id, "L2");
	strcpy(b->pool, "gpu");
	strcpy(b->vf, "0000:03:10.4");
	strcpy(b->pf, "0000:03:00.0");
	b->state = LEASE_RELEASING;
	assert_int_equal(lease_store_save(f->ctx, &st), 0);
	/* the temp file is renamed over, never left behind */
	snprintf(path, sizeof(path), "%s/.leases.json.tmp", f->dir);
	assert_int_equal(stat(path, &sb), -1);
	snprintf(path, sizeof(path), "%s/leases.json", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(lease_store_open(f->ctx, &st2), 0);
	assert_int_equal(st2.n, 2);
	a = lease_store_find(&st2, "L1");
	assert_non_null(a);
	assert_int_equal(a->state, LEASE_ACTIVE);
	assert_string_equal(a->pool, "gpu");
	assert_string_equal(a->vf, "0000:03:10.2");
	assert_string_equal(a->owner, "vm-1");
	assert_int_equal(a->vf_index, 1);
	assert_int_equal(a->group, 31);
	assert_int_equal(a->uid, 1001);
	assert_int_equal(a->pid, 4242);
	assert_int_equal(a->pid_start, 123456);
	assert_int_equal(a->created, 1700000000);
	assert_true(a->bound);
	assert_ptr_equal(lease_store_find_vf(&st2, "0000:03:10.4"), lease_store_find(&st2, "L2"));
	assert_int_equal(lease_store_find(&st2, "L2")->state, LEASE_RELEASING);
	assert_null(lease_store_find(&st2, "L3"));

	/* removing the newest does not make its id come back */
	lease_store_remove(&st2, lease_store_find(&st2, "L2"));
	assert_int_equal(lease_store_save(f->ctx, &st2), 0);
	lease_store_close(&st2);
	assert_int_equal(lease_store_open(f->ctx, &st2), 0);
	assert_int_equal(st2.n, 1);
	assert_int_equal(lease_store_add(&st2, &b), 0);
	assert_string_equal(b->id, "L3");
	lease_store_close(&st2);
	lease_store_close(&st);
}

static void next_never_behind_ids(void **state)
{
	struct fx *f = *state;
	struct lease_store st;
	struct lease *l;

	write_file(f, "{\"version\":1,\"next\":1,\"leases\":[{\"id\":\"L7\",\"state\":\"active\","
		   "\"pool\":\"p\",\"vf\":\"0000:03:10.0\",\"pf\":\"0000:03:00.0\",\"uid\":0}]}");
	assert_int_equal(lease_store_open(f->ctx, &st), 0);
	assert_int_equal(lease_store_add(&st, &l), 0);
	assert_string_equal(l->id, "L8");
	lease_store_close(&st);
}

static void foreign_files_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"{\"leases\":[]}",
		"{\"next\":1,\"leases\":{}}",
		"{\"next\":0,\"leases\":[]}",
		"{\"next\":1,\"leases\":[{\"id\":\"L1\",\"state\":\"weird\",\"pool\":\"p\","
		"\"vf\":\"0000:03:10.0\",\"pf\":\"0000:03:00.0\",\"uid\":0}]}",
		"{\"next\":1,\"leases\":[{\"id\":\"L1\",\"state\":\"active\",\"pool\":\"p\","
		"\"vf\":\"nope\",\"pf\":\"0000:03:00.0\",\"uid\":0}]}",
		/* the same VF twice would be a double grant */
		"{\"next\":3,\"leases\":[{\"id\":\"L1\",\"state\":\"active\",\"pool\":\"p\","
		"\"vf\":\"0000:03:10.0\",\"pf\":\"0000:03:00.0\",\"uid\":0},{\"id\":\"L2\","
		"\"state\":\"active\",\"pool\":\"p\",\"vf\":\"0000:03:10.0\",\"pf\":\"0000:03:00.0\","
		"\"uid\":0}]}",
	};
	struct fx *f = *state;
	struct lease_store st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f, bad[i]);
		assert_int_equal(lease_store_open(f->ctx, &st), -EBADMSG);
		assert_non_null(strstr(vfctl_ctx_error(f->ctx), "leases.json"));
		assert_non_null(strstr(vfctl_ctx_error(f->ctx), "refusing to start"));
		lease_store_close(&st);
	}
}

/* A save that cannot be written fails with the file named and leaves the
 * previous list in place (root writes anywhere: block the temp file). */
static void failed_save_keeps_old_list(void **state)
{
	struct fx *f = *state;
	struct lease_store st, st2;
	struct lease *l;
	char path[128];

	assert_int_equal(lease_store_open(f->ctx, &st), 0);
	assert_int_equal(lease_store_add(&st, &l), 0);
	strcpy(l->pool, "p");
	strcpy(l->vf, "0000:03:10.0");
	strcpy(l->pf, "0000:03:00.0");
	assert_int_equal(lease_store_save(f->ctx, &st), 0);
	snprintf(path, sizeof(path), "%s/.leases.json.tmp", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(lease_store_add(&st, &l), 0);
	strcpy(l->pool, "p");
	strcpy(l->vf, "0000:03:10.2");
	strcpy(l->pf, "0000:03:00.0");
	assert_int_equal(lease_store_save(f->ctx, &st), -EISDIR);
	assert_non_null(strstr(vfctl_ctx_error(f->ctx), "saving the leases to"));
	assert_non_null(strstr(vfctl_ctx_error(f->ctx), "leases.json: Is a directory"));
	assert_int_equal(lease_store_open(f->ctx, &st2), 0);
	assert_int_equal(st2.n, 1);
	assert_non_null(lease_store_find(&st2, "L1"));
	lease_store_close(&st2);
	lease_store_close(&st);
}

static void start_time(void **state)
{
	(void)state;
	assert_true(proc_start_time(getpid()) > 0);
	assert_int_equal(proc_start_time(getpid()), proc_start_time(getpid()));
	assert_int_equal(proc_start_time(4194304 + 1), 0);
	assert_string_equal(lease_state_name(LEASE_RELEASING), "releasing");
}

/* One lease, two renderings: the file keeps what a restart needs, the
 * wire what a client shows. */
static void lease_json_file_and_wire(void **state)
{
	struct lease l = { .id = "L4", .state = LEASE_RELEASING, .pool = "gpu",
			   .vf = "0000:03:10.2", .pf = "0000:03:00.0", .vf_index = 1, .group = -1,
			   .uid = 1001, .pid = 42, .pid_start = 7, .created = 1700000000,
			   .bound = true, .pending = "held", .device_id = "8086:10ed", .ttl = 60,
			   .expires = 1700000060 };
	json_object *file = lease_to_json(&l, LEASE_JSON_FILE), *wire;

	(void)state;
	assert_string_equal(json_object_to_json_string_ext(file, JSON_C_TO_STRING_PLAIN),
			    "{\"id\":\"L4\",\"state\":\"releasing\",\"pool\":\"gpu\",\"vf\":"
			    "\"0000:03:10.2\",\"pf\":\"0000:03:00.0\",\"vf_index\":1,\"group\":-1,"
			    "\"uid\":1001,\"owner\":null,\"pid\":42,\"pid_start\":7,\"created\":"
			    "1700000000,\"ttl\":60,\"expires\":1700000060,\"bound\":true,"
			    "\"device_id\":\"8086:10ed\"}");
	wire = lease_to_json(&l, LEASE_JSON_WIRE);
	assert_string_equal(json_object_to_json_string_ext(wire, JSON_C_TO_STRING_PLAIN),
			    "{\"id\":\"L4\",\"state\":\"releasing\",\"pool\":\"gpu\",\"vf\":"
			    "\"0000:03:10.2\",\"pf\":\"0000:03:00.0\",\"vf_index\":1,\"group\":null,"
			    "\"uid\":1001,\"owner\":null,\"pid\":42,\"created\":1700000000,"
			    "\"ttl\":60,\"expires\":1700000060,\"pending\":\"held\"}");
	json_object_put(file);
	json_object_put(wire);
}

/* Ids near the counter's end: the counter stops with -EOVERFLOW, never
 * wraps to L0 or to an id in use. */
static void ids_stop_at_the_end_never_wrap(void **state)
{
	struct fx *f = *state;
	struct lease_store st;
	struct lease *l = NULL;

	write_file(f, "{\"version\":1,\"next\":1,\"leases\":[{\"id\":\"L9223372036854775806\","
		   "\"state\":\"active\",\"pool\":\"p\",\"vf\":\"0000:03:10.0\","
		   "\"pf\":\"0000:03:00.0\",\"uid\":0}]}");
	assert_int_equal(lease_store_open(f->ctx, &st), 0);
	assert_int_equal(lease_store_add(&st, &l), 0);
	assert_string_equal(l->id, "L9223372036854775807");
	l = NULL;
	assert_int_equal(lease_store_add(&st, &l), -EOVERFLOW);
	assert_null(l);
	assert_int_equal(st.n, 2);
	lease_store_close(&st);

	/* "next" past int64 (json-c clamps it): the same stop */
	write_file(f, "{\"version\":1,\"next\":18446744073709551615,\"leases\":[]}");
	assert_int_equal(lease_store_open(f->ctx, &st), 0);
	assert_int_equal(lease_store_add(&st, &l), 0);
	assert_string_equal(l->id, "L9223372036854775807");
	assert_int_equal(lease_store_add(&st, &l), -EOVERFLOW);
	lease_store_close(&st);
}

/* An id vfctld never hands out (L0, one past the counter's end as a
 * wrapped counter left it) does not stop the start: the lease keeps its VF
 * under a new id and the file is saved so. */
static void stray_ids_are_renumbered_not_fatal(void **state)
{
	struct fx *f = *state;
	struct lease_store st, again;
	struct lease *l;

	write_file(f, "{\"version\":1,\"next\":3,\"leases\":["
		   "{\"id\":\"L0\",\"state\":\"active\",\"pool\":\"p\",\"vf\":\"0000:03:10.0\","
		   "\"pf\":\"0000:03:00.0\",\"uid\":1001},"
		   "{\"id\":\"L5\",\"state\":\"active\",\"pool\":\"p\",\"vf\":\"0000:03:10.2\","
		   "\"pf\":\"0000:03:00.0\",\"uid\":0},"
		   "{\"id\":\"L18446744073709551615\",\"state\":\"active\",\"pool\":\"p\","
		   "\"vf\":\"0000:03:10.4\",\"pf\":\"0000:03:00.0\",\"uid\":0}]}");
	assert_int_equal(lease_store_open(f->ctx, &st), 0);
	assert_int_equal(st.n, 3);
	assert_null(lease_store_find(&st, "L0"));
	l = lease_store_find_vf(&st, "0000:03:10.0");
	assert_non_null(l);
	assert_string_equal(l->id, "L6");
	assert_int_equal(l->uid, 1001);
	assert_string_equal(lease_store_find_vf(&st, "0000:03:10.4")->id, "L7");
	assert_int_equal(lease_store_add(&st, &l), 0);
	assert_string_equal(l->id, "L8");
	lease_store_close(&st);
	/* on disk as renumbered */
	assert_int_equal(lease_store_open(f->ctx, &again), 0);
	assert_string_equal(lease_store_find_vf(&again, "0000:03:10.0")->id, "L6");
	assert_int_equal(again.next, 8);
	lease_store_close(&again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(next_never_behind_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(foreign_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_save_keeps_old_list, setup, teardown),
		cmocka_unit_test_setup_teardown(ids_stop_at_the_end_never_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(stray_ids_are_renumbered_not_fatal, setup, teardown),
		cmocka_unit_test(start_time),
		cmocka_unit_test(lease_json_file_and_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
