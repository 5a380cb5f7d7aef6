/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The internal base (src/basic): the rooted accessor, bounded writes,
 * atomic files, string vectors, cleanup macros. Linked into libvfctl and
 * the programs, never installed, never exported.
 */
#ifndef VFCTL_BASIC_H
#define VFCTL_BASIC_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand ownership out of a cleanup-scoped variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })

/* A directory tree every sysfs or /dev path is resolved inside of. */
struct vfctl_root {
	char *path;
	int fd;		/* O_PATH directory */
};

int vfctl_root_open(struct vfctl_root *root, const char *path);
void vfctl_root_close(struct vfctl_root *root);
/* Open rel (relative to the root; "/" and ".." never leave it). Every
 * accessor answers a NULL rel (a path that did not fit) with -ENAMETOOLONG. */
int vfctl_root_openat(const struct vfctl_root *root, const char *rel, int flags);
/* Read a small attribute file, trailing newline stripped. Returns length. */
int vfctl_root_read(const struct vfctl_root *root, const char *rel, char *buf, size_t size);
int vfctl_root_read_int(const struct vfctl_root *root, const char *rel, int base, long *ret);
/* The last path component a symlink points to ("igb" for driver -> ../igb). */
int vfctl_root_link_name(const struct vfctl_root *root, const char *rel, char *buf, size_t size);
bool vfctl_root_exists(const struct vfctl_root *root, const char *rel);
int vfctl_root_opendir(const struct vfctl_root *root, const char *rel, DIR **ret);

int vfctl_root_write(const struct vfctl_root *root, const char *rel, const char *val);
/* The write runs in a child: a device that hangs it costs the caller only
 * timeout_ms, then -ETIMEDOUT. */
int vfctl_root_write_bounded(const struct vfctl_root *root, const char *rel, const char *val,
		       unsigned timeout_ms);
uint64_t vfctl_now_ms(void);
/* Replace dfd/name with text plus a newline so that a crash leaves the old
 * file or the new one, never a mix: a temporary file written and fsynced,
 * renamed over name, the directory fsynced. 0 or -errno (-EIO for a short
 * write); the temporary file is gone on failure. */
int vfctl_file_write_atomic(int dfd, const char *name, const char *text);

int vfctl_strv_push(char ***v, size_t *n, const char *s);
void vfctl_strv_free(char **v, size_t n);

#endif
