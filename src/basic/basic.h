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
/* openat2() tries on EAGAIN: enough for a storm of renames; a lookup is
 * microseconds */
#define VFCTL_ROOT_EAGAIN_TRIES 1000
/* rel as vfctl_root_openat() opens it (no leading '/', "" as "."). */
const char *vfctl_root_rel(const char *rel);
/* A ".." component in rel: refused where openat2() cannot scope it. */
bool vfctl_path_has_dotdot(const char *rel);
/* Read a small attribute file, trailing newline stripped. Returns length. */
int vfctl_root_read(const struct vfctl_root *root, const char *rel, char *buf, size_t size);
int vfctl_root_read_int(const struct vfctl_root *root, const char *rel, int base, long *ret);
/* The same for the file name (one component, never followed) in the
 * directory dfd: what the scan reads from a device directory opened once. */
int vfctl_read_at(int dfd, const char *name, char *buf, size_t size);
int vfctl_read_int_at(int dfd, const char *name, int base, long *ret);
int vfctl_link_name_at(int dfd, const char *name, char *buf, size_t size);
/* The last path component a symlink points to ("igb" for driver -> ../igb). */
int vfctl_root_link_name(const struct vfctl_root *root, const char *rel, char *buf, size_t size);
bool vfctl_root_exists(const struct vfctl_root *root, const char *rel);
int vfctl_root_opendir(const struct vfctl_root *root, const char *rel, DIR **ret);

/* The worker processes one owner (a libvfctl context) started and gave up
 * waiting for. Each is reaped by pid (through a pidfd where the kernel has
 * them, so a pid reused by someone else is never signalled or waited for);
 * never waitpid(-1), never another child of the process. */
struct vfctl_child {
	pid_t pid;
	int pidfd;	/* -1: no pidfd (old kernel): waitpid(pid) only, never killed */
	/* vfctl_child_spawn's stack: unmapped once the child has ended, never
	 * before (it runs on it); NULL for a fork */
	void *mem;
	size_t mem_size;
};
struct vfctl_reaper {
	struct vfctl_child *v;
	size_t n, cap;
};
/* Start a worker: like fork() (0 in the child), with c filled in the
 * parent. Room to remember it is made first, so giving up on it later
 * cannot fail. */
int vfctl_child_fork(struct vfctl_reaper *r, struct vfctl_child *c);
/* Start fn(arg) in a worker that shares the caller's memory instead of
 * copying it (a fork of a process with a few MB mapped costs milliseconds,
 * under emulation several), with every signal blocked, on a stack at the
 * top of mem (mem_size bytes from mmap, which c owns from here on); fn's
 * return value is its exit status. fn runs in the caller's address space
 * next to it: it may touch only what mem holds and make only
 * vfctl_raw_syscall()s (no libc, no errno: those are the caller's thread's),
 * and is built without sanitizers, coverage or stack protector (_child_fn_).
 * -ENOSYS where vfctl_raw_syscall() is missing (VFCTL_HAVE_RAW_SYSCALL),
 * mem then still the caller's: fork instead. */
int vfctl_child_spawn(struct vfctl_reaper *r, struct vfctl_child *c, int (*fn)(void *), void *arg,
		      void *mem, size_t mem_size);
#ifdef __clang__
#define _child_fn_ __attribute__((no_sanitize("address", "undefined", "coverage"), no_stack_protector))
#else
#define _child_fn_ __attribute__((no_sanitize("address", "undefined"), no_sanitize_coverage, \
				   no_stack_protector))
#endif
#if defined(__x86_64__)
#define VFCTL_HAVE_RAW_SYSCALL 1
/* A system call that sets no errno: its result, or -errno. */
static inline __attribute__((always_inline)) long vfctl_raw_syscall(long n, long a, long b, long c,
								   long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}
#endif
/* Wait for c until deadline (vfctl_now_ms()); 0 with its wait status, or
 * -ETIMEDOUT with c handed to r to be reaped later. */
int vfctl_child_wait(struct vfctl_reaper *r, struct vfctl_child *c, uint64_t deadline,
		     int *status);
/* Reap every remembered child that has ended; never blocks. */
void vfctl_reaper_reap(struct vfctl_reaper *r);
/* Kill (SIGKILL, by pidfd) and reap what is left, waiting at most
 * timeout_ms in all, and free r. A child in uninterruptible sleep in the
 * kernel outlives this: it stays the process's child, unwaited. */
void vfctl_reaper_free(struct vfctl_reaper *r, unsigned timeout_ms);

int vfctl_root_write(const struct vfctl_root *root, const char *rel, const char *val);
/* The write runs in a child: a device that hangs it costs the caller only
 * timeout_ms, then -ETIMEDOUT, and the child is left to r (reaped by a
 * later vfctl_reaper_reap() or vfctl_reaper_free()). */
int vfctl_root_write_bounded(const struct vfctl_root *root, const char *rel, const char *val,
		       unsigned timeout_ms, struct vfctl_reaper *r);
uint64_t vfctl_now_ms(void);
/* Replace dfd/name with text plus a newline so that a crash leaves the old
 * file or the new one, never a mix: a temporary file written and fsynced,
 * renamed over name, the directory fsynced. 0 or -errno (-EIO for a short
 * write); the temporary file is gone on failure. The temporary name
 * (.NAME.tmp) is always a file this call creates (O_EXCL|O_NOFOLLOW):
 * whatever was there is removed, never written through. */
int vfctl_file_write_atomic(int dfd, const char *name, const char *text);
/* The same with the file's mode (vfctl_file_write_atomic: 0600), set before
 * the rename, for files other users read (the CDI spec, the metrics). */
int vfctl_file_write_atomic_mode(int dfd, const char *name, const char *text, mode_t mode);

int vfctl_strv_push(char ***v, size_t *n, const char *s);
void vfctl_strv_free(char **v, size_t n);

#endif
