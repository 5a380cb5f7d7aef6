// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The rooted accessor: every sysfs and /dev path vfctl reads is resolved
 * inside one directory (the real /sys, or a golden tree for tests) with
 * openat2(RESOLVE_IN_ROOT), so relative sysfs symlinks keep working inside a
 * captured tree and no name can climb out of it.
 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "basic.h"

int vfctl_root_open(struct vfctl_root *root, const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	root->path = strdup(path);
	if (!root->path) {
		close(fd);
		return -ENOMEM;
	}
	root->fd = fd;
	return 0;
}

void vfctl_root_close(struct vfctl_root *root)
{
	if (root->fd >= 0)
		close(root->fd);
	root->fd = -1;
	free(root->path);
	root->path = NULL;
}

bool vfctl_path_has_dotdot(const char *rel)
{
	for (const char *p = rel; (p = strstr(p, "..")); p += 2)
		if ((p == rel || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

const char *vfctl_root_rel(const char *rel)
{
	while (*rel == '/')
		rel++;
	return *rel ? rel : ".";
}


int vfctl_root_openat(const struct vfctl_root *root, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!rel)	/* a path that did not fit its buffer (vfctl_dev_path) */
		return -ENAMETOOLONG;
	if (root->fd < 0)
		return -EBADF;
	rel = vfctl_root_rel(rel);
	/* A scoped lookup that climbs ".." fails with EAGAIN when any rename or
	 * mount on the system races it (sysfs' device links all climb, and udev
	 * renames netdevs as VFs appear); the kernel asks the caller to retry. */
	for (int tries = 0; tries < VFCTL_ROOT_EAGAIN_TRIES; tries++) {
		fd = (int)syscall(SYS_openat2, root->fd, rel, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN)
			break;
	}
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.6: no symlink scoping, so at least refuse "..". */
	if (vfctl_path_has_dotdot(rel))
		return -EXDEV;
	fd = openat(root->fd, rel, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* one component, never followed: stays inside the directory dfd is */
static bool name_ok(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* Read what is left of a small attribute file, trailing newline stripped. */
static int fd_read(int fd, char *buf, size_t size)
{
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

int vfctl_root_read(const struct vfctl_root *root, const char *rel, char *buf, size_t size)
{
	_cleanup_close_ int fd = vfctl_root_openat(root, rel, O_RDONLY);

	if (fd < 0)
		return fd;
	return fd_read(fd, buf, size);
}

int vfctl_read_at(int dfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;

	if (!name_ok(name))
		return -EINVAL;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	return fd_read(fd, buf, size);
}

static int parse_long(const char *buf, int base, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(buf, &end, base);
	if (errno || end == buf || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int vfctl_read_int_at(int dfd, const char *name, int base, long *ret)
{
	char buf[64];
	int r = vfctl_read_at(dfd, name, buf, sizeof(buf));

	return r < 0 ? r : parse_long(buf, base, ret);
}

int vfctl_root_read_int(const struct vfctl_root *root, const char *rel, int base, long *ret)
{
	char buf[64];
	int r = vfctl_root_read(root, rel, buf, sizeof(buf));

	return r < 0 ? r : parse_long(buf, base, ret);
}

int vfctl_root_link_name(const struct vfctl_root *root, const char *rel, char *buf, size_t size)
{
	_cleanup_free_ char *dir = rel ? strdup(rel) : NULL;
	_cleanup_close_ int dfd = -1;
	const char *base;
	char *slash;

	if (!rel)
		return -ENAMETOOLONG;
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dfd = vfctl_root_openat(root, dir, O_PATH | O_DIRECTORY);
	} else {
		base = rel;
		dfd = vfctl_root_openat(root, ".", O_PATH | O_DIRECTORY);
	}
	if (dfd < 0)
		return dfd;
	return vfctl_link_name_at(dfd, base, buf, size);
}

int vfctl_link_name_at(int dfd, const char *name, char *buf, size_t size)
{
	char target[4096];
	const char *last;
	ssize_t n;

	if (!name_ok(name))
		return -EINVAL;
	n = readlinkat(dfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	last = strrchr(target, '/');
	last = last ? last + 1 : target;
	if (strlen(last) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, last);
	return 0;
}

bool vfctl_root_exists(const struct vfctl_root *root, const char *rel)
{
	_cleanup_close_ int fd = vfctl_root_openat(root, rel, O_PATH);

	return fd >= 0;
}

int vfctl_root_opendir(const struct vfctl_root *root, const char *rel, DIR **ret)
{
	int fd = vfctl_root_openat(root, rel, O_RDONLY | O_DIRECTORY);
	DIR *d;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

int vfctl_strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));
	char *copy;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	nv[(*n)++] = copy;
	return 0;
}

void vfctl_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
