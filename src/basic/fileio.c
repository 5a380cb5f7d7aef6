// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Writes to the kernel that may hang (from a child the caller can give up
 * on), crash-safe file replacement and the monotonic clock.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

int vfctl_root_write_bounded(const struct vfctl_root *root, const char *rel, const char *val,
		       unsigned timeout_ms, struct vfctl_reaper *r)
{
	uint64_t deadline = vfctl_now_ms() + timeout_ms;
	struct vfctl_child c;
	int status, e;

	vfctl_reaper_reap(r);
	/* A sick device can block the write in the kernel for good: write from a
	 * child so the caller can give up on it and say so. */
	e = vfctl_child_fork(r, &c);
	if (e < 0)
		return e;
	if (e == 0) {
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
