// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Writes to the kernel that may hang (from a child the caller can give up
 * on), crash-safe file replacement and the monotonic clock.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "basic.h"

static int fd_write(int fd, const char *val)
{
	size_t len = strlen(val);
	ssize_t n = write(fd, val, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfctl_root_write(const struct vfctl_root *root, const char *rel, const char *val)
{
	/* O_TRUNC is ignored by sysfs and keeps a golden tree's file whole */
	_cleanup_close_ int fd = vfctl_root_openat(root, rel, O_WRONLY | O_TRUNC);

	if (fd < 0)
		return fd;
	return fd_write(fd, val);
}

uint64_t vfctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What a bounded write's child needs, in the memory it runs on (its
 * stack's mapping): the caller may have given up on it and moved on by
 * the time the kernel lets it go on. */
struct write_job {
	int root_fd;
	bool dotdot;	/* where openat2 is missing: refused, as vfctl_root_openat() does */
	struct open_how how;
	const char *rel, *val;
	size_t len;
};

#define WRITE_JOB_STACK (16 * 1024)

/* vfctl_root_write_bounded()'s child (vfctl_child_spawn): raw system calls
 * only. The exit status is the errno, 0 when all of val went. */
static _child_fn_ int write_job_run(void *arg)
{
	const struct write_job *j = arg;
	long fd = -EAGAIN, n;

	/* as write_child() below: only the root's fd for the open, then only the file */
	if (j->root_fd > 0)
		vfctl_raw_syscall(SYS_close_range, 0, j->root_fd - 1, 0, 0);
	vfctl_raw_syscall(SYS_close_range, j->root_fd + 1, ~0U, 0, 0);
	for (int tries = 0; fd == -EAGAIN && tries < VFCTL_ROOT_EAGAIN_TRIES; tries++)
		fd = vfctl_raw_syscall(SYS_openat2, j->root_fd, (long)j->rel, (long)&j->how,
				       sizeof(j->how));
	if (fd == -ENOSYS)
		fd = j->dotdot ? -EXDEV : vfctl_raw_syscall(SYS_openat, j->root_fd, (long)j->rel,
							    (long)j->how.flags, 0);
	if (fd < 0)
		return (int)(-fd & 0xff);
	vfctl_raw_syscall(SYS_close, j->root_fd, 0, 0, 0);
	n = vfctl_raw_syscall(SYS_write, fd, (long)j->val, (long)j->len, 0);
	if (n < 0)
		return (int)(-n & 0xff);
	return (size_t)n == j->len ? 0 : EIO;
}

/* Start the write in a child that shares our memory: 1 when it is under
 * way in c, 0 when this cannot be (the caller forks), or -errno. */
static int write_spawn(const struct vfctl_root *root, const char *rel, const char *val,
		       struct vfctl_reaper *r, struct vfctl_child *c)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), rel_size = strlen(rel) + 1, len = strlen(val);
	size_t size = (sizeof(struct write_job) + rel_size + len + 1 + WRITE_JOB_STACK + page - 1) &
		      ~(page - 1);
	struct write_job *j;
	char *p;
	int e;

	j = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (j == MAP_FAILED)
		return -errno;
	p = (char *)(j + 1);
	*j = (struct write_job){
		.root_fd = root->fd,
		.dotdot = vfctl_path_has_dotdot(rel),
		/* what vfctl_root_openat(root, rel, O_WRONLY | O_TRUNC) opens */
		.how = { .flags = O_WRONLY | O_TRUNC | O_CLOEXEC,
			 .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS },
		.rel = memcpy(p, rel, rel_size),
		.val = memcpy(p + rel_size, val, len + 1),
		.len = len,
	};
	e = vfctl_child_spawn(r, c, write_job_run, j, j, size);
	if (e < 0) {
		munmap(j, size);
		return e == -ENOSYS ? 0 : e;
	}
	return 1;
}

/* The forked child's write, where write_spawn() cannot be. */
static _Noreturn void write_child(const struct vfctl_root *root, const char *rel, const char *val)
{
	int fd;

	/* A child stuck in the kernel must not keep the caller's locks,
	 * sockets or pipes (a shell's $(...) would wait for it, the caller
	 * for its own lock): the open can block as well as the write (a
	 * FIFO, a device), so only the root's fd is kept for the open, and
	 * then only the file. */
	if (root->fd > 0)
		close_range(0, (unsigned)root->fd - 1, 0);
	close_range((unsigned)root->fd + 1, ~0U, 0);
	fd = vfctl_root_openat(root, rel, O_WRONLY | O_TRUNC);
	if (fd < 0)
		_exit(-fd & 0xff);
	close(root->fd);
	_exit(-fd_write(fd, val) & 0xff);
}

int vfctl_root_write_bounded(const struct vfctl_root *root, const char *rel, const char *val,
		       unsigned timeout_ms, struct vfctl_reaper *r)
{
	uint64_t deadline = vfctl_now_ms() + timeout_ms;
	struct vfctl_child c;
	int status, e;

	if (!rel)	/* as vfctl_root_openat() */
		return -ENAMETOOLONG;
	if (root->fd < 0)
		return -EBADF;
	vfctl_reaper_reap(r);
	/* A sick device can block the write in the kernel for good: write from a
	 * child so the caller can give up on it and say so. */
	e = write_spawn(root, vfctl_root_rel(rel), val, r, &c);
	if (e == 0) {
		e = vfctl_child_fork(r, &c);
		if (e == 0)
			write_child(root, rel, val);
	}
	if (e < 0)
		return e;
	/* -ETIMEDOUT: the child stays behind, stuck in the kernel; r reaps it */
	e = vfctl_child_wait(r, &c, deadline, &status);
	if (e < 0)
		return e;
	if (!WIFEXITED(status))
		return -EIO;
	return -WEXITSTATUS(status);
}

#define TMP_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

int vfctl_file_write_atomic(int dfd, const char *name, const char *text)
{
	return vfctl_file_write_atomic_mode(dfd, name, text, 0600);
}

int vfctl_file_write_atomic_mode(int dfd, const char *name, const char *text, mode_t mode)
{
	char tmp[NAME_MAX + 1];
	size_t len = strlen(text);
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* Never through whatever sits at the temp name (a symlink planted there
	 * would have root write the file into its target): only a file this call
	 * creates. A name left by a crash, or planted, is removed (unlinkat
	 * removes a symlink, not its target) and the create tried once more. */
	fd = openat(dfd, tmp, TMP_FLAGS, 0600);
	if (fd < 0 && errno == EEXIST) {
		if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT)
			return -errno;
		fd = openat(dfd, tmp, TMP_FLAGS, 0600);
	}
	if (fd < 0)
		return -errno;
	errno = 0;
	/* the mode before the rename: the name never shows another (fchmod, not
	 * the umask-bound create mode) */
	if ((mode != 0600 && fchmod(fd, mode) < 0) ||
	    write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (!r && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		return r;
	}
	/* the rename itself must survive a crash too */
	return fsync(dfd) < 0 ? -errno : 0;
}
