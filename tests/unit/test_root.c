// SPDX-License-Identifier: LGPL-2.1-or-later
/* The rooted accessor: reads stay inside the root whatever the path says. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "unit.h"

struct tree {
	char dir[64];
	char outside[96];
	struct vfctl_root root;
};

static void put(const char *dir, const char *rel, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char path[512];

	assert_non_null(t);
	unit_tmpdir(t->dir, sizeof(t->dir), "/tmp/vfctl-root-XXXXXX");
	/* a secret next to the root that no path may reach */
	snprintf(t->outside, sizeof(t->outside), "%s.secret", t->dir);
	put("/", t->outside, "secret\n");

	snprintf(path, sizeof(path), "%s/root", t->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/root/devices", t->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/root/drivers", t->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/root/drivers/igb", t->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/root", t->dir);
	put(path, "devices/numvfs", "4\n");
	put(path, "devices/bad", "4x\n");
	put(path, "devices/hex", "0x10ca\n");
	snprintf(path, sizeof(path), "%s/root/devices/driver", t->dir);
	assert_int_equal(symlink("../drivers/igb", path), 0);
	snprintf(path, sizeof(path), "%s/root/devices/up", t->dir);
	assert_int_equal(symlink("../../../../../../../..", path), 0);
	snprintf(path, sizeof(path), "%s/root/devices/abs", t->dir);
	assert_int_equal(symlink(t->outside, path), 0);

	snprintf(path, sizeof(path), "%s/root", t->dir);
	assert_int_equal(vfctl_root_open(&t->root, path), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	vfctl_root_close(&t->root);
	unit_rm_rf(t->dir);
	unit_rm_rf(t->outside);
	free(t);
	return 0;
}

static void reads_values(void **state)
{
	struct tree *t = *state;
	char buf[64];
	long v = -7;

	assert_int_equal(vfctl_root_read(&t->root, "devices/numvfs", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "4");
	assert_int_equal(vfctl_root_read_int(&t->root, "/devices/numvfs", 10, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(vfctl_root_read_int(&t->root, "devices/hex", 16, &v), 0);
	assert_int_equal(v, 0x10ca);
	/* a malformed value is an error and leaves the out-parameter alone */
	v = -7;
	assert_int_equal(vfctl_root_read_int(&t->root, "devices/bad", 10, &v), -EINVAL);
	assert_int_equal(v, -7);
	assert_int_equal(vfctl_root_read(&t->root, "devices/missing", buf, sizeof(buf)), -ENOENT);
}

static void resolves_links(void **state)
{
	struct tree *t = *state;
	char buf[64];
	DIR *d = NULL;

	assert_int_equal(vfctl_root_link_name(&t->root, "devices/driver", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "igb");
	assert_true(vfctl_root_exists(&t->root, "devices/driver"));
	assert_int_equal(vfctl_root_opendir(&t->root, "devices/driver", &d), 0);
	closedir(d);
	assert_int_equal(vfctl_root_link_name(&t->root, "devices/numvfs", buf, sizeof(buf)), -EINVAL);
}

static void never_leaves_the_root(void **state)
{
	struct tree *t = *state;
	const char *base = strrchr(t->outside, '/') + 1;
	char rel[256], buf[64];

	/* "..", however many, stops at the root */
	snprintf(rel, sizeof(rel), "../../../../%s", base);
	assert_int_equal(vfctl_root_read(&t->root, rel, buf, sizeof(buf)), -ENOENT);
	/* a symlink climbing up stops at the root too */
	snprintf(rel, sizeof(rel), "devices/up/%s", base);
	assert_int_equal(vfctl_root_read(&t->root, rel, buf, sizeof(buf)), -ENOENT);
	/* an absolute symlink is taken relative to the root */
	assert_true(vfctl_root_read(&t->root, "devices/abs", buf, sizeof(buf)) < 0);
	/* the tree itself is still readable through the climbing link */
	assert_int_equal(vfctl_root_read(&t->root, "devices/up/devices/numvfs", buf, sizeof(buf)), 1);
}

/* The one builder of bus/pci/devices/ADDR[/...]: exact text, and a path
 * that does not fit is NULL, which every accessor refuses. */
static void builds_device_paths(void **state)
{
	struct tree *t = *state;
	char small[32], name[300], buf[64];
	const char *p;
	DIR *d = NULL;

	assert_string_equal(VFCTL_DEV_PATH("0000:03:00.0", NULL), "bus/pci/devices/0000:03:00.0");
	assert_string_equal(VFCTL_DEV_PATH("0000:03:00.0", "virtfn%u", 7u),
			    "bus/pci/devices/0000:03:00.0/virtfn7");
	assert_string_equal(VFCTL_DEV_PATH("0000:03:00.0", "net/%s/carrier", "enp3s0f0"),
			    "bus/pci/devices/0000:03:00.0/net/enp3s0f0/carrier");
	/* the result is the caller's buffer, or NULL when it would be cut */
	assert_ptr_equal(vfctl_dev_path(small, sizeof(small), "0000:03:00.0", NULL), small);
	assert_null(vfctl_dev_path(small, sizeof(small), "0000:03:00.0", "driver"));
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	p = VFCTL_DEV_PATH("0000:03:00.0", "%s", name);
	assert_null(p);
	assert_int_equal(vfctl_root_read(&t->root, p, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_int_equal(vfctl_root_link_name(&t->root, p, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_int_equal(vfctl_root_opendir(&t->root, p, &d), -ENAMETOOLONG);
	assert_null(d);
	assert_false(vfctl_root_exists(&t->root, p));
	assert_int_equal(vfctl_root_write(&t->root, p, "1"), -ENAMETOOLONG);
}

/* openat2(RESOLVE_IN_ROOT) fails with EAGAIN when any rename on the system
 * races a lookup that climbs "..": sysfs' device links all climb, and udev
 * renames netdevs while VFs appear. Every read retries, so none fails. */
static void survives_concurrent_renames(void **state)
{
	struct tree *t = *state;
	char a[128], b[128], buf[64];
	int failed = 0, last = 0;
	pid_t pid;

	snprintf(a, sizeof(a), "%s/ren-a", t->dir);
	snprintf(b, sizeof(b), "%s/ren-b", t->dir);
	put("/", a, "x");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;) {
			if (rename(a, b) || rename(b, a))
				_exit(1);
		}
	}
	for (int i = 0; i < 20000; i++) {
		int r = vfctl_root_link_name(&t->root, "devices/driver/../igb/../../devices/driver",
					     buf, sizeof(buf));
		if (r < 0) {
			failed++;
			last = r;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (failed)
		fail_msg("%d of 20000 lookups failed, the last with %s", failed, strerror(-last));
}

/* A bounded write: the value in the file, the kernel's errno when it fails;
 * one that hangs (a FIFO nobody reads: the open blocks, as a sick device's
 * unbind does) gives -ETIMEDOUT and is left to the reaper, holding none of
 * the caller's fds, and ends with its write once the FIFO is read. */
static void bounded_writes(void **state)
{
	struct tree *t = *state;
	struct vfctl_reaper r = { 0 };
	sigset_t before, after;
	char path[512], buf[64];
	int fds = unit_count_fds(), p[2], fifo;
	ssize_t n;

	put(t->dir, "root/devices/override", "(null)\n");
	sigprocmask(SIG_SETMASK, NULL, &before);
	assert_int_equal(vfctl_root_write_bounded(&t->root, "/devices/override", "vfio-pci", 5000, &r), 0);
	assert_int_equal(vfctl_root_read(&t->root, "devices/override", buf, sizeof(buf)), 8);
	assert_string_equal(buf, "vfio-pci");
	assert_int_equal(vfctl_root_write_bounded(&t->root, "devices/gone/unbind", "x", 5000, &r),
			 -ENOENT);
	assert_int_equal(vfctl_root_write_bounded(&t->root, "devices", "x", 5000, &r), -EISDIR);
	assert_int_equal(vfctl_root_write_bounded(&t->root, NULL, "x", 5000, &r), -ENAMETOOLONG);
	assert_int_equal(r.n, 0);

	snprintf(path, sizeof(path), "%s/root/devices/hung", t->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(vfctl_root_write_bounded(&t->root, "devices/hung", "0000:03:10.0", 100, &r),
			 -ETIMEDOUT);
	assert_int_equal(r.n, 1);
	/* the child does not hold the pipe: EOF once ours is closed */
	close(p[1]);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	/* the device lets go: the write completes, the child ends and is reaped */
	fifo = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fifo >= 0);
	n = read(fifo, buf, sizeof(buf) - 1);
	assert_int_equal(n, 12);
	buf[n] = '\0';
	assert_string_equal(buf, "0000:03:10.0");
	close(fifo);
	for (int i = 0; i < 500 && r.n; i++) {
		usleep(10000);
		vfctl_reaper_reap(&r);
	}
	assert_int_equal(r.n, 0);
	vfctl_reaper_free(&r, 0);
	/* no signal left blocked, no fd left open */
	sigprocmask(SIG_SETMASK, NULL, &after);
	for (int sig = 1; sig < SIGRTMAX; sig++)
		assert_int_equal(sigismember(&before, sig), sigismember(&after, sig));
	assert_int_equal(unit_count_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reads_values, setup, teardown),
		cmocka_unit_test_setup_teardown(resolves_links, setup, teardown),
		cmocka_unit_test_setup_teardown(never_leaves_the_root, setup, teardown),
		cmocka_unit_test_setup_teardown(builds_device_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(survives_concurrent_renames, setup, teardown),
		cmocka_unit_test_setup_teardown(bounded_writes, setup, teardown),
	};

	return cmocka_run_group_tests_name("root", tests, NULL, NULL);
}
