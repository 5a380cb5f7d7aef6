// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The run directory (locks, saved state) and the per-PF lock.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

#define PF_LOCK_WAIT_MS 60000

const char *vfctl_run_dir_path(const struct vfctl_ctx *ctx)
{
	return ctx->run_path;
}

/* A directory vfctl writes as root must be one nobody else can plant files
 * in (a symlink at a temp or lock name would have root write through it):
 * a real directory (opened with O_NOFOLLOW), owned by our euid, not
 * writable by group or others. Checked on the open fd; nothing is changed
 * (a directory someone else owns is never chmodded). */
static int run_dir_check(struct vfctl_ctx *ctx, int fd, const char *path)
{
	struct stat st;
	uid_t me = geteuid();

	if (fstat(fd, &st) < 0)
		return vfctl_err(ctx, -errno, "run directory %s: fstat: %s", path, strerror(errno));
	if (st.st_uid == me && !(st.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	return vfctl_err(ctx, -EPERM, "run directory %s is owned by uid %u with mode %04o: it "
			 "must be owned by uid %u (who runs this) and not writable by group or "
			 "others, or another user could plant files there that vfctl writes "
			 "through; nothing changed: fix it (chown %u %s; chmod go-w %s) or point "
			 "VFCTL_RUN_DIR (vfctld: --run-dir) elsewhere", path, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777), (unsigned)me, (unsigned)me, path, path);
}

/* path (which exists) opened as a directory, never through a symlink, and checked */
static int run_dir_open_checked(struct vfctl_ctx *ctx, const char *path, int *ret)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0) {
		struct stat st;

		if ((errno == ELOOP || errno == ENOTDIR) && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			return vfctl_err(ctx, -ELOOP, "run directory %s is a symlink: vfctl keeps "
					 "locks and saved state only in a real directory; nothing "
					 "changed: remove the link (vfctl creates the directory) or "
					 "point VFCTL_RUN_DIR (vfctld: --run-dir) at the directory "
					 "itself", path);
		return vfctl_err(ctx, -errno, "run directory %s: %s", path, strerror(errno));
	}
	r = run_dir_check(ctx, fd, path);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret = fd;
	return 0;
}

int vfctl_run_dir_open(struct vfctl_ctx *ctx, const char *sub, int *ret)
{
	char path[1024], *p;
	int top, fd, r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", ctx->run_path, sub) >= sizeof(path))
		return vfctl_err(ctx, -ENAMETOOLONG, "run directory %s/%s: name too long",
				 ctx->run_path, sub);
	/* mkdir -p, private: it holds locks and the saved original state */
	for (p = path + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return vfctl_err(ctx, -errno, "run directory %s: mkdir: %s; set VFCTL_RUN_DIR "
					 "to a writable directory or run as root", path, strerror(errno));
		*p = c;
		if (!c)
			break;
	}
	/* the run directory itself and the part of it asked for */
	r = run_dir_open_checked(ctx, ctx->run_path, &top);
	if (r < 0)
		return r;
	if (!strcmp(sub, ".") || !sub[0]) {
		*ret = top;
		return 0;
	}
	close(top);
	r = run_dir_open_checked(ctx, path, &fd);
	if (r < 0)
		return r;
	*ret = fd;
	return 0;
}

/* Is the lock this ctx took for addr still open (the fd not closed, or
 * reused for some other file)? */
static bool lock_held(const struct vfctl_ctx *ctx, const char *addr)
{
	struct stat st;

	return ctx->lock.fd >= 0 && !strcmp(ctx->lock.addr, addr) &&
	       fstat(ctx->lock.fd, &st) == 0 && st.st_dev == ctx->lock.dev &&
	       st.st_ino == ctx->lock.ino;
}

/* vfctl_opts.lock_timeout_ms: 0 the default, < 0 no wait */
static unsigned lock_wait_ms(const struct vfctl_ctx *ctx)
{
	if (ctx->lock_timeout_ms == 0)
		return PF_LOCK_WAIT_MS;
	return ctx->lock_timeout_ms < 0 ? 0 : (unsigned)ctx->lock_timeout_ms;
}

/* "pid 42 (qemu)": a process as the messages name it ("?" when its comm is gone). */
static int pid_describe(long pid, char *buf, size_t size)
{
	char path[64], comm[64] = "?";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	return snprintf(buf, size, "pid %ld (%s)", pid, comm);
}

/* Who holds the flock on this inode: "pid 42 (vfctl)" from /proc/locks. */
static void lock_holder(const struct stat *st, char *buf, size_t size)
{
	char line[256];
	unsigned long ino;
	unsigned maj, min;
	FILE *f = fopen("/proc/locks", "re");
	long pid;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d: FLOCK %*s %*s %ld %x:%x:%lu", &pid, &maj, &min, &ino) != 4 ||
		    ino != st->st_ino)
			continue;
		pid_describe(pid, buf, size);
		break;
	}
	fclose(f);
}

int vfctl_pf_lock(struct vfctl_ctx *ctx, const char *addr, int *ret)
{
	_cleanup_close_ int dfd = -1;
	uint64_t deadline;
	struct stat st;
	char name[64];
	int fd, r;

	if (lock_held(ctx, addr)) {
		*ret = -1;	/* nested: bind takes it, then sets the VF's MAC */
		return 0;
	}
	r = vfctl_run_dir_open(ctx, "lock", &dfd);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.lock", addr);
	/* never through a symlink planted at the lock's name */
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ELOOP)
		return vfctl_err(ctx, -ELOOP, "%s: lock file %s/lock/%s is a symlink: vfctl opens "
				 "no lock through one; remove it", addr, ctx->run_path, name);
	if (fd < 0)
		return vfctl_err(ctx, -errno, "%s: lock file %s/lock/%s: %s", addr, ctx->run_path,
				 name, strerror(errno));
	/* Concurrent changes to one PF wait their turn, for a while: a holder
	 * stuck in the kernel must not hang every later command. */
	deadline = vfctl_now_ms() + lock_wait_ms(ctx);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char who[128] = "";

		r = -errno;
		if (r == -EWOULDBLOCK && vfctl_now_ms() < deadline) {
			poll(NULL, 0, 20);
			continue;
		}
		if (r == -EWOULDBLOCK && fstat(fd, &st) == 0)
			lock_holder(&st, who, sizeof(who));
		close(fd);
		if (r == -EWOULDBLOCK) {
			unsigned ms = lock_wait_ms(ctx);

			return vfctl_err(ctx, -ETIMEDOUT, "%s: %s/lock/%s is still held%s%s after %u %s: "
					 "another change to this PF is under way or stuck; try again, "
					 "or see what that process waits for", addr, ctx->run_path,
					 name, who[0] ? " by " : "", who, ms % 1000 ? ms : ms / 1000,
					 ms % 1000 ? "ms" : "s");
		}
		return vfctl_err(ctx, r, "%s: flock %s/lock/%s: %s", addr, ctx->run_path, name,
				 strerror(-r));
	}
	if (fstat(fd, &st) == 0) {
		snprintf(ctx->lock.addr, sizeof(ctx->lock.addr), "%s", addr);
		ctx->lock.fd = fd;
		ctx->lock.dev = st.st_dev;
		ctx->lock.ino = st.st_ino;
	}
	*ret = fd;
	return 0;
}
