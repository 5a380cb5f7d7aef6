// SPDX-License-Identifier: LGPL-2.1-or-later
/* The saved original state: round trip, atomic replace, bad records; the
 * run directory and the files in it as a hostile local user would set them
 * up (a symlink at a temp or lock name, a directory not ours). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The content of path, or "" */
static void slurp(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "re");
	size_t n = 0;

	if (fp) {
		n = fread(buf, 1, size - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
}

/* A symlink at the temp name is removed, never written through: the
 * target keeps its content, the file is replaced as usual. */
static void atomic_write_never_follows_the_temp_name(void **state)
{
	struct fx *f = *state;
	struct dev_state in = { .addr = "0000:03:10.2", .driver = "ixgbevf" };
	char target[128], link[128], path[128], buf[4096];
	struct stat st;
	int dfd;

	snprintf(target, sizeof(target), "%s/victim", f->dir);
	unit_sh("printf 'precious' >'%s'", target);
	dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	snprintf(link, sizeof(link), "%s/.leases.json.tmp", f->dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(vfctl_file_write_atomic(dfd, "leases.json", "{}"), 0);
	close(dfd);
	slurp(target, buf, sizeof(buf));
	assert_string_equal(buf, "precious");
	snprintf(path, sizeof(path), "%s/leases.json", f->dir);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "{}\n");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(lstat(link, &st), -1);

	/* the saved state goes through the same writer */
	unit_sh("mkdir -p -m 0700 '%s/state' && ln -s '%s' '%s/state/.0000:03:10.2.json.tmp'",
		f->dir, target, f->dir);
	assert_int_equal(vfctl_state_save(f->ctx, &in), 0);
	slurp(target, buf, sizeof(buf));
	assert_string_equal(buf, "precious");
}

/* A lock file is never opened through a symlink planted at its name. */
static void lock_file_never_follows_a_symlink(void **state)
{
	struct fx *f = *state;
	char target[128], buf[64];
	struct stat st;
	int fd = -1;

	snprintf(target, sizeof(target), "%s/victim", f->dir);
	unit_sh("printf 'precious' >'%s' && chmod 0644 '%s'", target, target);
	unit_sh("mkdir -p -m 0700 '%s/lock' && ln -s '%s' '%s/lock/0000:03:00.0.lock'", f->dir,
		target, f->dir);
	assert_int_equal(vfctl_pf_lock(f->ctx, "0000:03:00.0", &fd), -ELOOP);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(vfctl_ctx_error(f->ctx), "lock/0000:03:00.0.lock is a symlink"));
	slurp(target, buf, sizeof(buf));
	assert_string_equal(buf, "precious");
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

/* A run directory that is a symlink, not ours, or writable by group or
 * others is refused with its owner and mode named, and left as it is. */
static void run_dir_not_ours_is_refused(void **state)
{
	struct fx *f = *state;
	struct dev_state in = { .addr = "0000:03:10.2", .driver = "ixgbevf" };
	struct vfctl_ctx *ctx;
	char real[96], link[96], want[256], state_dir[128];
	struct stat st;
	int fd = -1;

	/* group- or world-writable: refused, not chmodded */
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(vfctl_run_dir_open(f->ctx, ".", &fd), -EPERM);
	assert_int_equal(fd, -1);
	snprintf(want, sizeof(want), "run directory %s is owned by uid %u with mode 0777",
		 f->dir, (unsigned)geteuid());
	assert_non_null(strstr(vfctl_ctx_error(f->ctx), want));
	assert_non_null(strstr(vfctl_ctx_error(f->ctx), "chmod go-w"));
	assert_int_equal(vfctl_state_save(f->ctx, &in), -EPERM);
	snprintf(state_dir, sizeof(state_dir), "%s/state", f->dir);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(chmod(f->dir, 0720), 0);
	assert_int_equal(vfctl_run_dir_open(f->ctx, "lock", &fd), -EPERM);
	assert_int_equal(chmod(f->dir, 0700), 0);

	/* a part of it that is writable by others: refused too */
	unit_sh("mkdir -p '%s' && chmod 0703 '%s'", state_dir, state_dir);
	assert_int_equal(vfctl_run_dir_open(f->ctx, "state", &fd), -EPERM);
	assert_non_null(strstr(vfctl_ctx_error(f->ctx), "mode 0703"));
	assert_int_equal(chmod(state_dir, 0700), 0);

	/* owned by someone else (only root can set that up) */
	if (geteuid() == 0) {
		assert_int_equal(chown(f->dir, 4321, 4321), 0);
		assert_int_equal(vfctl_run_dir_open(f->ctx, ".", &fd), -EPERM);
		assert_non_null(strstr(vfctl_ctx_error(f->ctx), "owned by uid 4321"));
		assert_int_equal(stat(f->dir, &st), 0);
		assert_int_equal(st.st_uid, 4321);
		assert_int_equal(st.st_mode & 07777, 0700);
		assert_int_equal(chown(f->dir, 0, 0), 0);
	}

	/* a symlink to a directory that would pass: refused as a symlink */
	snprintf(real, sizeof(real), "%s/real", f->dir);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = "/tmp",
		.run_dir = link)), 0);
	assert_int_equal(vfctl_run_dir_open(ctx, "state", &fd), -ELOOP);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(vfctl_ctx_error(ctx), "is a symlink"));
	vfctl_ctx_free(ctx);

	/* ours and private: fine */
	assert_int_equal(vfctl_run_dir_open(f->ctx, "state", &fd), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(not_a_vf_and_no_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_records_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(atomic_write_never_follows_the_temp_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(lock_file_never_follows_a_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(run_dir_not_ours_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
