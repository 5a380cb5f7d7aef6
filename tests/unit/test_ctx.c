// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The context's boundary: the library reaps the worker processes it gives
 * up on (and no other process's), reads no environment, and reads and
 * writes only what the size of a caller's struct covers.
 *
 * A hanging sysfs write is a FIFO in a scratch tree: opening it for writing
 * blocks until a reader comes, as a write to a sick device's attribute
 * blocks in the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#define PF "0000:03:00.0"	/* its sriov_drivers_autoprobe is a FIFO */
#define PF2 "0000:03:00.1"	/* a plain file: writes complete */

struct scratch {
	char dir[64];
	char sys[128], run[128], fifo[320];
	struct vfctl_ctx *ctx;
};

static struct scratch *current;	/* removed by cleanup() when a test fails */

static void mkdirs(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static struct scratch *scratch_new(void)
{
	struct scratch *s = calloc(1, sizeof(*s));
	char path[256];
	int fd;

	assert_non_null(s);
	strcpy(s->dir, "/tmp/vfctl-ctx-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->sys, sizeof(s->sys), "%s/sys", s->dir);
	snprintf(s->run, sizeof(s->run), "%s/run", s->dir);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/" PF, s->sys);
	mkdirs(path);
	snprintf(s->fifo, sizeof(s->fifo), "%s/sriov_drivers_autoprobe", path);
	assert_int_equal(mkfifo(s->fifo, 0600), 0);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/" PF2, s->sys);
	mkdirs(path);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/" PF2 "/sriov_drivers_autoprobe", s->sys);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vfctl_ctx_new(&s->ctx, &VFCTL_SIZED(struct vfctl_opts,
							     .sysfs_root = s->sys,
							     .run_dir = s->run)), 0);
	current = s;
	return s;
}

static void scratch_free(struct scratch *s)
{
	char cmd[256];

	vfctl_ctx_free(s->ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
	free(s);
	current = NULL;
}

static int cleanup(void **state)
{
	(void)state;
	if (current)
		scratch_free(current);
	return 0;
}

/* This process's children as the kernel lists them, zombies included. */
static size_t children(pid_t *pids, size_t max)
{
	char path[64];
	size_t n = 0;
	long pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)gettid());
	f = fopen(path, "re");
	assert_non_null(f);
	while (n < max && fscanf(f, "%ld", &pid) == 1)
		pids[n++] = (pid_t)pid;
	fclose(f);
	return n;
}

/* The one child a bounded write left behind. */
static pid_t the_worker(void)
{
	pid_t pids[4];

	assert_int_equal(children(pids, 4), 1);
	return pids[0];
}

/* Is pid still a child of ours that has not been reaped? (never reaps) */
static bool unreaped(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
		return true;
	assert_int_equal(errno, ECHILD);
	return false;
}

/* Be the reader the worker's open() waits for; return what it wrote, once
 * it has ended (a zombie: ended, not yet reaped). */
static void let_worker_finish(const struct scratch *s, pid_t pid, char *buf, size_t size)
{
	struct pollfd p;
	siginfo_t si;
	size_t n = 0;
	ssize_t r;
	int fd = open(s->fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	assert_true(fd >= 0);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (;;) {
		/* a guard against hanging the suite, not a timing assertion */
		assert_true(poll(&p, 1, 30000) > 0);
		r = read(fd, buf + n, size - 1 - n);
		if (r == 0)
			break;	/* the writer closed: it is exiting */
		if (r < 0) {
			assert_int_equal(errno, EAGAIN);
			continue;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	close(fd);
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(si.si_pid, pid);
}

static void timed_out_worker_is_reaped_by_ctx_free(void **state)
{
	struct scratch *s = scratch_new();
	char got[16];
	pid_t pid;

	(void)state;
	assert_int_equal(vfctl_pf_set_autoprobe(s->ctx, PF, true, 50), -ETIMEDOUT);
	assert_non_null(strstr(vfctl_ctx_error(s->ctx), "a child process stays blocked in it"));
	pid = the_worker();
	assert_true(unreaped(pid));
	let_worker_finish(s, pid, got, sizeof(got));
	assert_string_equal(got, "1");
	/* ended but not reaped: nothing has called into the library since */
	assert_true(unreaped(pid));
	vfctl_ctx_free(s->ctx);
	s->ctx = NULL;
	assert_false(unreaped(pid));
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	scratch_free(s);
}

static void timed_out_worker_is_reaped_by_a_later_call(void **state)
{
	struct scratch *s = scratch_new();
	pid_t pids[4], pid;
	char got[16];

	(void)state;
	assert_int_equal(vfctl_pf_set_autoprobe(s->ctx, PF, false, 50), -ETIMEDOUT);
	pid = the_worker();
	let_worker_finish(s, pid, got, sizeof(got));
	assert_string_equal(got, "0");
	assert_true(unreaped(pid));
	/* the next bounded write collects it (and its own worker, which ends) */
	assert_int_equal(vfctl_pf_set_autoprobe(s->ctx, PF2, true, 10000), 0);
	assert_false(unreaped(pid));
	assert_int_equal(children(pids, 4), 0);
	scratch_free(s);
}

static void timed_out_worker_is_reaped_by_vfctl_ctx_reap(void **state)
{
	struct scratch *s = scratch_new();
	char got[16];
	pid_t pid;

	(void)state;
	assert_int_equal(vfctl_pf_set_autoprobe(s->ctx, PF, true, 50), -ETIMEDOUT);
	pid = the_worker();
	/* still blocked: a reap leaves it be */
	vfctl_ctx_reap(s->ctx);
	assert_true(unreaped(pid));
	let_worker_finish(s, pid, got, sizeof(got));
	vfctl_ctx_reap(s->ctx);
	assert_false(unreaped(pid));
	scratch_free(s);
}

static void stuck_worker_is_killed_and_reaped_by_ctx_free(void **state)
{
	struct scratch *s = scratch_new();
	pid_t pid;

	(void)state;
	assert_int_equal(vfctl_pf_set_autoprobe(s->ctx, PF, true, 50), -ETIMEDOUT);
	pid = the_worker();
	/* nobody ever reads: the worker would block for good */
	vfctl_ctx_free(s->ctx);
	s->ctx = NULL;
	assert_false(unreaped(pid));
	scratch_free(s);
}

static void the_callers_own_children_are_left_alone(void **state)
{
	struct scratch *s = scratch_new();
	pid_t own, pids[4];
	siginfo_t si;
	int status;

	(void)state;
	own = fork();
	assert_true(own >= 0);
	if (own == 0)
		_exit(42);
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)own, &si, WEXITED | WNOWAIT), 0);
	/* a worker given up on, a later call that reaps, and the ctx's free */
	assert_int_equal(vfctl_pf_set_autoprobe(s->ctx, PF, true, 50), -ETIMEDOUT);
	assert_int_equal(vfctl_pf_set_autoprobe(s->ctx, PF2, true, 10000), 0);
	vfctl_ctx_free(s->ctx);
	s->ctx = NULL;
	/* ours is still there to be reaped by us, with its status */
	assert_int_equal(children(pids, 4), 1);
	assert_int_equal(pids[0], own);
	assert_int_equal(waitpid(own, &status, WNOHANG), own);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	scratch_free(s);
}

static void the_library_reads_no_environment(void **state)
{
	struct scratch *s = scratch_new();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vfctl_client *c = NULL;
	struct vfctl_ctx *ctx = NULL;
	char other_run[160], lock[256];
	int lfd, fd, held;

	(void)state;
	setenv("VFCTL_SYSFS_ROOT", "/nonexistent/bogus/sys", 1);
	setenv("VFCTL_DEV_ROOT", "/nonexistent/bogus/dev", 1);
	snprintf(other_run, sizeof(other_run), "%s/env-run", s->dir);
	setenv("VFCTL_RUN_DIR", other_run, 1);
	setenv("VFCTL_LOCK_TIMEOUT", "0", 1);

	/* explicit opts: the environment changes nothing */
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = s->sys,
							     .run_dir = s->run)), 0);
	assert_string_equal(vfctl_ctx_sysfs_root(ctx), s->sys);
	assert_string_equal(vfctl_run_dir_path(ctx), s->run);
	vfctl_ctx_free(ctx);
	ctx = NULL;
	/* no opts: the built-in defaults, not the environment */
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = s->sys)),
			 0);
	assert_string_equal(vfctl_run_dir_path(ctx), "/run/vfctl");
	vfctl_ctx_free(ctx);
	ctx = NULL;
	if (access("/sys", F_OK) == 0) {
		assert_int_equal(vfctl_ctx_new(&ctx, NULL), 0);
		assert_string_equal(vfctl_ctx_sysfs_root(ctx), "/sys");
		vfctl_ctx_free(ctx);
	}
	/* the lock wait is the opts' too: with the PF's lock held elsewhere,
	 * "do not wait" fails at once although VFCTL_LOCK_TIMEOUT says an hour */
	setenv("VFCTL_LOCK_TIMEOUT", "3600", 1);
	assert_int_equal(vfctl_pf_set_autoprobe(s->ctx, PF2, true, 10000), 0);
	assert_int_equal(access(other_run, F_OK), -1);
	snprintf(lock, sizeof(lock), "%s/lock/" PF2 ".lock", s->run);
	held = open(lock, O_RDWR | O_CLOEXEC);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = s->sys,
							     .run_dir = s->run,
							     .lock_timeout_ms = -1)), 0);
	assert_int_equal(vfctl_pf_set_autoprobe(ctx, PF2, false, 10000), -ETIMEDOUT);
	assert_non_null(strstr(vfctl_ctx_error(ctx), "is still held by pid"));
	vfctl_ctx_free(ctx);
	ctx = NULL;
	close(held);

	/* VFCTLD_SOCKET names a listening socket: connect(NULL) must not go there */
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/env.sock", s->dir);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	setenv("VFCTLD_SOCKET", sa.sun_path, 1);
	if (vfctl_client_connect(NULL, &c) == 0)
		vfctl_client_free(c);	/* a real vfctld on this host: fine, not ours */
	fd = accept(lfd, NULL, NULL);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EAGAIN);
	close(lfd);

	unsetenv("VFCTL_SYSFS_ROOT");
	unsetenv("VFCTL_DEV_ROOT");
	unsetenv("VFCTL_RUN_DIR");
	unsetenv("VFCTL_LOCK_TIMEOUT");
	unsetenv("VFCTLD_SOCKET");
	scratch_free(s);
}

/* ---- the size idiom ------------------------------------------------------ */

static void opts_are_read_only_as_far_as_their_size(void **state)
{
	struct vfctl_ctx *ctx = NULL;
	char err[256] = "untouched";
	struct {
		struct vfctl_opts o;
		char newer[16];	/* a newer header's fields */
	} big;

	(void)state;
	/* size forgotten */
	assert_int_equal(vfctl_ctx_new(&ctx, &(struct vfctl_opts){ .sysfs_root = "/tmp" }), -EINVAL);
	assert_null(ctx);
	/* an older caller's struct that ends before errbuf: errbuf is not read,
	 * so the failure is not written to it */
	assert_int_equal(vfctl_ctx_new(&ctx, &(struct vfctl_opts){
		.size = offsetof(struct vfctl_opts, errbuf),
		.sysfs_root = "/nonexistent/sys", .errbuf = err, .errlen = sizeof(err) }), -ENOENT);
	assert_string_equal(err, "untouched");
	/* the whole struct: it is */
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts,
		.sysfs_root = "/nonexistent/sys", .errbuf = err, .errlen = sizeof(err))), -ENOENT);
	assert_non_null(strstr(err, "sysfs root /nonexistent/sys: No such file or directory"));
	/* a newer caller: unknown fields left zero are fine, set ones refused */
	memset(&big, 0, sizeof(big));
	big.o.size = sizeof(big);
	big.o.sysfs_root = "/tmp";
	assert_int_equal(vfctl_ctx_new(&ctx, &big.o), 0);
	assert_string_equal(vfctl_ctx_sysfs_root(ctx), "/tmp");
	vfctl_ctx_free(ctx);
	ctx = NULL;
	big.newer[3] = 1;
	assert_int_equal(vfctl_ctx_new(&ctx, &big.o), -E2BIG);
	assert_null(ctx);
}

static void settings_attributes_past_their_size_are_refused(void **state)
{
	struct vfctl_ctx *ctx = NULL;
	struct vfctl_vf_settings s = { .mask = 1u << VFCTL_VF_MAC, .mac = "02:00:00:00:00:01",
				       .trust = true };

	(void)state;
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = "/tmp")),
			 0);
	assert_int_equal(vfctl_vf_settings_validate(ctx, &s), -EINVAL);
	assert_non_null(strstr(vfctl_ctx_error(ctx), "set .size = sizeof(struct vfctl_vf_settings)"));
	/* a struct that ends after mac: mac is read, trust (past the end) not */
	s.size = offsetof(struct vfctl_vf_settings, mac) + sizeof(s.mac);
	assert_int_equal(vfctl_vf_settings_validate(ctx, &s), 0);
	s.mask |= 1u << VFCTL_VF_TRUST;
	assert_int_equal(vfctl_vf_settings_validate(ctx, &s), -EINVAL);
	assert_non_null(strstr(vfctl_ctx_error(ctx), "trust is in the mask but the settings' size"));
	s.size = sizeof(s);
	assert_int_equal(vfctl_vf_settings_validate(ctx, &s), 0);
	vfctl_ctx_free(ctx);
}

static void lease_fds_close_only_what_their_size_covers(void **state)
{
	struct vfctl_lease_fds l = { .iommufd = -1, .device_fd = -1 };
	int a[2];

	(void)state;
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	l.container_fd = a[0];
	l.group_fd = a[1];
	/* an older caller's struct that ends before group_fd */
	l.size = offsetof(struct vfctl_lease_fds, group_fd);
	vfctl_lease_fds_close(&l);
	assert_int_equal(l.container_fd, -1);
	assert_int_equal(fcntl(a[0], F_GETFD), -1);
	assert_int_equal(l.group_fd, a[1]);
	assert_true(fcntl(a[1], F_GETFD) >= 0);
	l.size = sizeof(l);
	vfctl_lease_fds_close(&l);
	assert_int_equal(l.group_fd, -1);
	assert_int_equal(fcntl(a[1], F_GETFD), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(timed_out_worker_is_reaped_by_ctx_free, cleanup),
		cmocka_unit_test_teardown(timed_out_worker_is_reaped_by_a_later_call, cleanup),
		cmocka_unit_test_teardown(timed_out_worker_is_reaped_by_vfctl_ctx_reap, cleanup),
		cmocka_unit_test_teardown(stuck_worker_is_killed_and_reaped_by_ctx_free, cleanup),
		cmocka_unit_test_teardown(the_callers_own_children_are_left_alone, cleanup),
		cmocka_unit_test_teardown(the_library_reads_no_environment, cleanup),
		cmocka_unit_test(opts_are_read_only_as_far_as_their_size),
		cmocka_unit_test(settings_attributes_past_their_size_are_refused),
		cmocka_unit_test(lease_fds_close_only_what_their_size_covers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
