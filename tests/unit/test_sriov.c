// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfctl_pf_set_numvfs on copies of the golden trees. A tree's SR-IOV files
 * are plain files and no VF ever appears, so what can be checked here is
 * what vfctl writes and in which order (watched with inotify, whose events
 * on one instance come in order), what it refuses without writing, the
 * lock, and that a create which writes times out naming what is missing.
 * What the kernel does with the writes is for tests/vm/30-create.bats.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "unit.h"

#define PF0 "0000:01:00.0"	/* 82576 port 0: 2 VFs on igbvf */
#define PF1 "0000:01:00.1"	/* 82576 port 1: no VFs */

struct tree {
	char dir[64];
	char sys[128], run[128];
	struct vfctl_ctx *ctx;
	int ino;		/* inotify on the watched PF's SR-IOV files */
	int wd_numvfs, wd_autoprobe;
};

static struct tree *current;	/* freed by cleanup() when a test fails */

static struct tree *tree_new(const char *name)
{
	struct tree *t = calloc(1, sizeof(*t));
	char golden[512];

	assert_non_null(t);
	unit_tmpdir(t->dir, sizeof(t->dir), "/tmp/vfctl-sriov-XXXXXX");
	/* never write into the shared fixtures: a private copy */
	unit_fixture(golden, sizeof(golden), name, ".");
	unit_sh("cp -a '%s' '%s/'", golden, t->dir);
	snprintf(t->sys, sizeof(t->sys), "%s/sys", t->dir);
	snprintf(t->run, sizeof(t->run), "%s/run", t->dir);
	assert_int_equal(vfctl_ctx_new(&t->ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = t->sys,
								      .run_dir = t->run)), 0);
	t->ino = -1;
	current = t;
	return t;
}

static void tree_free(struct tree *t)
{
	if (t->ino >= 0)
		close(t->ino);
	vfctl_ctx_free(t->ctx);
	unit_rm_rf(t->dir);
	free(t);
	current = NULL;
}

static int cleanup(void **state)
{
	(void)state;
	if (current)
		tree_free(current);
	return 0;
}

static void attr_path(const struct tree *t, const char *pf, const char *attr, char *buf,
		      size_t size)
{
	snprintf(buf, size, "%s/bus/pci/devices/%s/%s", t->sys, pf, attr);
}

static void watch(struct tree *t, const char *pf)
{
	char path[512];

	t->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(t->ino >= 0);
	attr_path(t, pf, "sriov_numvfs", path, sizeof(path));
	/* IN_MODIFY too: identical adjacent events are merged, and a MODIFY
	 * between two CLOSE_WRITEs keeps both */
	t->wd_numvfs = inotify_add_watch(t->ino, path, IN_MODIFY | IN_CLOSE_WRITE);
	assert_true(t->wd_numvfs >= 0);
	attr_path(t, pf, "sriov_drivers_autoprobe", path, sizeof(path));
	t->wd_autoprobe = inotify_add_watch(t->ino, path, IN_MODIFY | IN_CLOSE_WRITE);
	assert_true(t->wd_autoprobe >= 0);
}

/* The writes seen so far, in order: "autoprobe numvfs numvfs autoprobe". */
static const char *writes(struct tree *t)
{
	static char seq[256];
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	seq[0] = '\0';
	while ((n = read(t->ino, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (!(ev->mask & IN_CLOSE_WRITE))
				continue;
			snprintf(seq + strlen(seq), sizeof(seq) - strlen(seq), "%s%s",
				 seq[0] ? " " : "",
				 ev->wd == t->wd_numvfs ? "numvfs" : "autoprobe");
		}
	return seq;
}

static const char *attr(const struct tree *t, const char *pf, const char *name)
{
	static char val[64];
	char path[512];
	FILE *f;

	attr_path(t, pf, name, path, sizeof(path));
	f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(val, sizeof(val), f));
	fclose(f);
	val[strcspn(val, "\n")] = '\0';
	return val;
}

static void put_attr(const struct tree *t, const char *pf, const char *name, const char *v)
{
	char path[512];

	attr_path(t, pf, name, path, sizeof(path));
	unit_sh("printf '%s\\n' >'%s'", v, path);
}

static const char *err(const struct tree *t)
{
	const char *e = vfctl_ctx_error(t->ctx);

	/* one line, always */
	assert_null(strchr(e, '\n'));
	assert_true(e[0] != '\0');
	return e;
}

#define assert_contains(hay, needle) do { \
	const char *h_ = (hay); \
	if (!strstr(h_, (needle))) \
		fail_msg("\"%s\" does not contain \"%s\"", h_, (needle)); \
} while (0)

static const struct vfctl_numvfs_report SENTINEL = {
	.size = sizeof(SENTINEL), .before = -7, .after = -7, .write_ms = 777, .settle_ms = 777,
};

static void assert_untouched(const struct vfctl_numvfs_report *rep)
{
	assert_memory_equal(rep, &SENTINEL, sizeof(*rep));
}

static void refuses_above_totalvfs(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	watch(t, PF1);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF1, 8, 0, 200, &rep), -ERANGE);
	assert_contains(err(t), PF1 ": 8 VFs asked, but sriov_totalvfs is 7");
	assert_contains(err(t), "Numerical result out of range; ask for 7 or fewer");
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF1, 65535, VFCTL_NUMVFS_NO_AUTOPROBE, 200,
					     &rep), -ERANGE);
	assert_string_equal(writes(t), "");
	assert_string_equal(attr(t, PF1, "sriov_numvfs"), "0");
	assert_untouched(&rep);
	/* bad input does not even need the run directory */
	assert_int_equal(access(t->run, F_OK), -1);
	tree_free(t);
}

static void refuses_vf_unknown_and_non_pf(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	watch(t, PF0);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "0000:01:10.2", 1, 0, 200, &rep), -EINVAL);
	assert_contains(err(t), "0000:01:10.2 is VF 1 of PF " PF0 ", not a PF");
	assert_contains(err(t), "'vfctl create " PF0 " N'");
	/* by its netdev name too */
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "enp1s0f0v0", 0, 0, 200, &rep), -EINVAL);
	assert_contains(err(t), "is VF 0 of PF " PF0);

	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "0000:09:00.0", 1, 0, 200, &rep), -ENODEV);
	assert_contains(err(t), "0000:09:00.0: no such PCI function");
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "eth9", 1, 0, 200, &rep), -ENODEV);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "eth0/../x", 1, 0, 200, &rep), -EINVAL);
	assert_contains(err(t), "neither a PCI address");

	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "00:1f.2", 1, 0, 200, &rep), -EOPNOTSUPP);
	assert_contains(err(t), "0000:00:1f.2 is not an SR-IOV PF (no ");
	assert_contains(err(t), "'vfctl list' shows the PFs");

	assert_string_equal(writes(t), "");
	assert_untouched(&rep);
	tree_free(t);
}

static void refuses_pf_without_driver(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	unit_sh("rm '%s/bus/pci/devices/" PF1 "/driver'", t->sys);
	watch(t, PF1);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF1, 2, VFCTL_NUMVFS_NO_AUTOPROBE, 200, &rep),
			 -ENOENT);
	assert_contains(err(t), PF1 ": no driver is bound");
	assert_contains(err(t), "bind the PF to its network driver");
	assert_string_equal(writes(t), "");
	assert_untouched(&rep);
	tree_free(t);
}

static void unchanged_count_writes_nothing(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	watch(t, PF0);
	/* the tree's 2 VFs are complete: links, config, groups, igbvf netdevs */
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 2, VFCTL_NUMVFS_NO_AUTOPROBE, 0, &rep), 0);
	assert_int_equal(rep.before, 2);
	assert_int_equal(rep.after, 2);
	assert_int_equal(rep.write_ms, 0);
	assert_true(rep.settle_ms < 1000);
	assert_string_equal(rep.pf, PF0);
	/* by its netdev name: the report says which PF, and its autoprobe */
	rep = SENTINEL;
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "enp1s0f0", 2, 0, 0, &rep), 0);
	assert_string_equal(rep.pf, PF0);
	assert_int_equal(rep.autoprobe, atoi(attr(t, PF0, "sriov_drivers_autoprobe")));
	assert_string_equal(writes(t), "");
	tree_free(t);
}

static void report_is_written_only_as_far_as_its_size(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	/* an older caller's report that ends after "before" */
	rep.size = offsetof(struct vfctl_numvfs_report, before) + sizeof(rep.before);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 2, VFCTL_NUMVFS_NO_AUTOPROBE, 0, &rep), 0);
	assert_int_equal(rep.size, offsetof(struct vfctl_numvfs_report, before) + sizeof(rep.before));
	assert_int_equal(rep.before, 2);
	assert_int_equal(rep.after, SENTINEL.after);
	assert_int_equal(rep.write_ms, SENTINEL.write_ms);
	assert_int_equal(rep.settle_ms, SENTINEL.settle_ms);
	/* no size: refused before anything, the report untouched */
	rep = SENTINEL;
	rep.size = 0;
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 2, VFCTL_NUMVFS_NO_AUTOPROBE, 0, &rep),
			 -EINVAL);
	assert_contains(err(t), "set it to sizeof(struct vfctl_numvfs_report)");
	assert_int_equal(rep.before, SENTINEL.before);
	tree_free(t);
}

static void create_writes_then_times_out_naming_what_is_missing(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;
	uint64_t t0 = vfctl_now_ms();

	(void)state;
	watch(t, PF1);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "enp1s0f1", 3, 0, 300, &rep), -ETIMEDOUT);
	assert_true(vfctl_now_ms() - t0 >= 300);
	assert_contains(err(t), PF1 ": sriov_numvfs was set to 3, but after 300 ms VF 0 has no "
			"virtfn0 link (in ");
	assert_contains(err(t), "allow more time with --timeout");
	assert_string_equal(writes(t), "numvfs");
	assert_string_equal(attr(t, PF1, "sriov_numvfs"), "3");
	assert_string_equal(attr(t, PF1, "sriov_drivers_autoprobe"), "1");
	assert_untouched(&rep);
	tree_free(t);
}

static void no_autoprobe_is_off_while_writing_and_restored(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	watch(t, PF1);
	/* restored also when the create fails (here: no VF ever appears) */
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF1, 3, VFCTL_NUMVFS_NO_AUTOPROBE, 200, &rep),
			 -ETIMEDOUT);
	assert_contains(err(t), "VF 0 has no virtfn0 link");
	assert_string_equal(writes(t), "autoprobe numvfs autoprobe");
	assert_string_equal(attr(t, PF1, "sriov_drivers_autoprobe"), "1");

	/* already off: left alone, and still off afterwards */
	put_attr(t, PF1, "sriov_numvfs", "0");
	put_attr(t, PF1, "sriov_drivers_autoprobe", "0");
	writes(t);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF1, 3, VFCTL_NUMVFS_NO_AUTOPROBE, 200, &rep),
			 -ETIMEDOUT);
	assert_string_equal(writes(t), "numvfs");
	assert_string_equal(attr(t, PF1, "sriov_drivers_autoprobe"), "0");
	assert_untouched(&rep);
	tree_free(t);
}

static void count_change_goes_through_zero_and_needs_force_over_drivers(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	watch(t, PF0);
	/* the 2 VFs are on igbvf: going through 0 takes them away */
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 4, 0, 200, &rep), -EBUSY);
	assert_contains(err(t), PF0 ": going from 2 to 4 VFs removes all 2 first");
	assert_contains(err(t), "2 of them have a driver (0000:01:10.0 on igbvf, netdev enp1s0f0v0)");
	assert_contains(err(t), "pass --force");
	assert_string_equal(writes(t), "");
	assert_string_equal(attr(t, PF0, "sriov_numvfs"), "2");

	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 4, VFCTL_NUMVFS_FORCE |
					     VFCTL_NUMVFS_NO_AUTOPROBE, 200, &rep), -ETIMEDOUT);
	assert_string_equal(writes(t), "autoprobe numvfs numvfs autoprobe");
	assert_string_equal(attr(t, PF0, "sriov_numvfs"), "4");
	assert_string_equal(attr(t, PF0, "sriov_drivers_autoprobe"), "1");
	/* VFs 0 and 1 are the tree's, VF 2 never comes */
	assert_contains(err(t), "VF 2 has no virtfn2 link");
	assert_untouched(&rep);
	tree_free(t);
}

static void count_change_without_drivers_needs_no_force(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	unit_sh("rm '%s/bus/pci/devices/0000:01:10.0/driver' '%s/bus/pci/devices/0000:01:10.2/driver'",
	   t->sys, t->sys);
	watch(t, PF0);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 1, 0, 200, &rep), -ETIMEDOUT);
	assert_string_equal(writes(t), "numvfs numvfs");
	assert_string_equal(attr(t, PF0, "sriov_numvfs"), "1");
	/* VF 0 is there; the tree's virtfn1 is what a real kernel removes */
	assert_contains(err(t), "virtfn1 (of the old VFs) is still there");
	tree_free(t);
}

static void destroy_writes_zero_once(void **state)
{
	struct tree *t = tree_new("82576");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	watch(t, PF0);
	/* host drivers on the VFs do not stop a destroy, and autoprobe is not touched */
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 0, VFCTL_NUMVFS_NO_AUTOPROBE, 200, &rep),
			 -ETIMEDOUT);
	assert_string_equal(writes(t), "numvfs");
	assert_string_equal(attr(t, PF0, "sriov_numvfs"), "0");
	assert_contains(err(t), PF0 ": sriov_numvfs was set to 0, but after 200 ms virtfn0 (of the "
			"old VFs) is still there");
	assert_untouched(&rep);
	tree_free(t);
}

static void vfio_user_blocks_destroy_and_change_even_with_force(void **state)
{
	struct tree *t = tree_new("igb-iommu");	/* VF 1 on vfio-pci, group 8 */
	struct vfctl_numvfs_report rep = SENTINEL;
	char node[256], pid[64];
	int fd;

	(void)state;
	snprintf(node, sizeof(node), "%s/dev/vfio/8", t->dir);
	fd = open(node, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	snprintf(pid, sizeof(pid), "pid %d (", (int)getpid());
	watch(t, PF0);
	for (unsigned n = 0; n <= 2; n += 2) {
		assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, n, VFCTL_NUMVFS_FORCE, 200, &rep),
				 -EBUSY);
		assert_contains(err(t), PF0 ": VF 1 (0000:01:10.2, vfio-pci) is in use by VFIO: ");
		assert_contains(err(t), pid);
		assert_contains(err(t), "/dev/vfio/8;");
		assert_contains(err(t), "--force does not override this");
	}
	assert_string_equal(writes(t), "");
	assert_string_equal(attr(t, PF0, "sriov_numvfs"), "4");
	assert_untouched(&rep);

	/* closed: the destroy goes ahead (and times out on the tree) */
	close(fd);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 0, 0, 100, &rep), -ETIMEDOUT);
	assert_string_equal(writes(t), "numvfs");
	tree_free(t);
}

static void a_vf_is_complete_with_config_group_and_netdev(void **state)
{
	struct tree *t = tree_new("igb-iommu");	/* 4 VFs; VF 1 on vfio-pci, no netdev */
	struct vfctl_numvfs_report rep = SENTINEL;
	const char *d = "bus/pci/devices";

	(void)state;
	/* complete as captured: a VF on vfio-pci needs no netdev */
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 4, 0, 100, &rep), 0);
	assert_int_equal(rep.after, 4);

	/* bound to a network driver: its netdev is waited for */
	unit_sh("rm -r '%s/%s/0000:01:10.4/net'", t->sys, d);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 4, 0, 100, &rep), -ETIMEDOUT);
	assert_contains(err(t), "after 100 ms VF 2 (0000:01:10.4) is bound to igbvf but has no netdev");
	/* ... unless no driver is bound (autoprobe off) */
	unit_sh("rm '%s/%s/0000:01:10.4/driver'", t->sys, d);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 4, 0, 100, &rep), 0);

	/* with an IOMMU, the group */
	unit_sh("rm '%s/%s/0000:01:10.6/iommu_group'", t->sys, d);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 4, 0, 100, &rep), -ETIMEDOUT);
	assert_contains(err(t), "VF 3 (0000:01:10.6) has no iommu_group");
	unit_sh("mv '%s/%s/0000:01:10.0/config' '%s/config'", t->sys, d, t->dir);
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, PF0, 4, 0, 100, &rep), -ETIMEDOUT);
	assert_contains(err(t), "VF 0 (0000:01:10.0) has no config");
	tree_free(t);
}

static void no_iommu_no_group_needed(void **state)
{
	struct tree *t = tree_new("no-iommu");
	struct vfctl_numvfs_report rep = SENTINEL;

	(void)state;
	/* nothing to wait for: 0 VFs, no groups on this host */
	assert_int_equal(vfctl_pf_set_numvfs(t->ctx, "0000:01:00.0", 0, 0, 100, &rep), 0);
	assert_int_equal(rep.before, 0);
	assert_int_equal(rep.after, 0);
	tree_free(t);
}

static void waits_for_the_pf_lock(void **state)
{
	struct tree *t = tree_new("82576");
	_cleanup_close_ int lock = -1;
	int status;
	pid_t pid;

	(void)state;
	watch(t, PF1);
	assert_int_equal(vfctl_pf_lock(t->ctx, PF1, &lock), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r;

		/* the inherited fd shares our lock: only ours may hold it */
		close(lock);
		r = vfctl_pf_set_numvfs(t->ctx, PF1, 1, 0, 100, NULL);

		_exit(r == -ETIMEDOUT ? 0 : 1);
	}
	/* while we hold the lock, the other create writes nothing */
	poll(NULL, 0, 300);
	assert_string_equal(writes(t), "");
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	close(lock);
	lock = -1;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(writes(t), "numvfs");
	tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(refuses_above_totalvfs, cleanup),
		cmocka_unit_test_teardown(refuses_vf_unknown_and_non_pf, cleanup),
		cmocka_unit_test_teardown(refuses_pf_without_driver, cleanup),
		cmocka_unit_test_teardown(unchanged_count_writes_nothing, cleanup),
		cmocka_unit_test_teardown(report_is_written_only_as_far_as_its_size, cleanup),
		cmocka_unit_test_teardown(create_writes_then_times_out_naming_what_is_missing, cleanup),
		cmocka_unit_test_teardown(no_autoprobe_is_off_while_writing_and_restored, cleanup),
		cmocka_unit_test_teardown(count_change_goes_through_zero_and_needs_force_over_drivers, cleanup),
		cmocka_unit_test_teardown(count_change_without_drivers_needs_no_force, cleanup),
		cmocka_unit_test_teardown(destroy_writes_zero_once, cleanup),
		cmocka_unit_test_teardown(vfio_user_blocks_destroy_and_change_even_with_force, cleanup),
		cmocka_unit_test_teardown(a_vf_is_complete_with_config_group_and_netdev, cleanup),
		cmocka_unit_test_teardown(no_iommu_no_group_needed, cleanup),
		cmocka_unit_test_teardown(waits_for_the_pf_lock, cleanup),
	};

	return cmocka_run_group_tests_name("sriov", tests, NULL, NULL);
}
