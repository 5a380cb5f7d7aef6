/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VFCTL_INTERNAL_H
#define VFCTL_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "vfctl.h"

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

struct vfctl_ctx {
	struct vfctl_root sys;
	struct vfctl_root dev;
	bool live;
	char *run_path;	/* locks and saved state; created on first use */
	struct {		/* the PF lock this ctx took last, to let it nest */
		char addr[VFCTL_ADDR_LEN];
		int fd;
		dev_t dev;
		ino_t ino;
	} lock;
	char err[512];
};

/* Record a failure message and return r (a negative errno). */
int vfctl_err(struct vfctl_ctx *ctx, int r, const char *fmt, ...) _printf_(3, 4);

int root_open(struct vfctl_root *root, const char *path);
void root_close(struct vfctl_root *root);
/* Open rel (relative to the root; "/" and ".." never leave it). */
int root_openat(const struct vfctl_root *root, const char *rel, int flags);
/* Read a small attribute file, trailing newline stripped. Returns length. */
int root_read(const struct vfctl_root *root, const char *rel, char *buf, size_t size);
int root_read_int(const struct vfctl_root *root, const char *rel, int base, long *ret);
/* The last path component a symlink points to ("igb" for driver -> ../igb). */
int root_link_name(const struct vfctl_root *root, const char *rel, char *buf, size_t size);
bool root_exists(const struct vfctl_root *root, const char *rel);
int root_opendir(const struct vfctl_root *root, const char *rel, DIR **ret);

int root_write(const struct vfctl_root *root, const char *rel, const char *val);
/* The write runs in a child: a device that hangs it costs the caller only
 * timeout_ms, then -ETIMEDOUT. */
int root_write_bounded(const struct vfctl_root *root, const char *rel, const char *val,
		       unsigned timeout_ms);
uint64_t now_ms(void);
/* Replace dfd/name with text plus a newline so that a crash leaves the old
 * file or the new one, never a mix: a temporary file written and fsynced,
 * renamed over name, the directory fsynced. 0 or -errno (-EIO for a short
 * write); the temporary file is gone on failure. */
int file_write_atomic(int dfd, const char *name, const char *text);

/* The run directory: sub is created (0700) under it; returns a dir fd. */
int run_dir_open(struct vfctl_ctx *ctx, const char *sub, int *ret);
const char *run_dir_path(const struct vfctl_ctx *ctx);
/* Exclusive per-PF lock (flock on RUN/lock/ADDR.lock); close the fd to drop.
 * Taking it again while this ctx holds it nests: *ret is -1, nothing to drop. */
int pf_lock(struct vfctl_ctx *ctx, const char *addr, int *ret);
/* Processes holding node (e.g. /dev/vfio/7) open: "pid 42 (qemu), ..." in buf;
 * returns their number. */
int vfio_holders(const char *node, char *buf, size_t size);

/* state.c: a device's original state, saved before vfctl first rebinds it */
struct dev_state {
	char addr[VFCTL_ADDR_LEN];
	char driver[64];		/* "" none */
	char driver_override[64];	/* "" none */
	bool is_vf;
	char pf[VFCTL_ADDR_LEN];
	int vf_index;
	struct vfctl_vf_config config;	/* the PF's settings for the VF */
};
int state_save(struct vfctl_ctx *ctx, const struct dev_state *st);
/* -ENOENT (no message) when nothing is saved */
int state_load(struct vfctl_ctx *ctx, const char *addr, struct dev_state *ret);
int state_remove(struct vfctl_ctx *ctx, const char *addr);

/* topo.c: vfio-pci or a variant driver (NULL-safe) */
bool driver_is_vfio(const char *d);
/* A group member that does not keep the group from VFIO use. */
bool func_vfio_ok(const struct vfctl_func *f);

int strv_push(char ***v, size_t *n, const char *s);
void strv_free(char **v, size_t n);

/* config.c: what one PF of a config owns (not the struct itself). */
void conf_pf_free(struct vfctl_conf_pf *pf);

/* netlink.c: fill every VF's config of a PF from its netdev. */
int nl_read_pf_vfs(struct vfctl_ctx *ctx, struct vfctl_func *pf);
struct nl_msg;
struct rtnl_link;
/* The link object of one RTM_NEWLINK message (a reply, or a recorded one). */
int nl_parse_link(struct nl_msg *msg, struct rtnl_link **ret);
void nl_link_fill_vfs(struct rtnl_link *link, struct vfctl_func *pf);
/* One VF's settings from a link object; -ENOENT when the link lacks it. */
int nl_link_vf_config(struct rtnl_link *link, unsigned vf_index, struct vfctl_vf_config *ret);
struct nl_sock;
/* An rtnetlink socket sized for a PF with many VFs: 0 or -errno. */
int nl_route_open(struct nl_sock **ret);
/* RTM_GETLINK with the VF list (RTEXT_FILTER_VF) of nd; waits for the ack. */
int nl_get_link(struct vfctl_ctx *ctx, struct nl_sock *sk, const struct vfctl_netdev *nd,
		struct rtnl_link **ret);
/* Send a request and wait for its ack: 0, the kernel's -errno from the
 * NLMSG_ERROR (not libnl's mapping), or -ENOMEM/-EIO when libnl failed. */
int nl_request_ack(struct nl_sock *sk, struct nl_msg *msg);

/* vfset.c: the RTM_SETLINK for attribute a of VF vf on ifindex, one
 * IFLA_VF_INFO with one IFLA_VF_* in it. Min and max tx rate share
 * IFLA_VF_RATE: the one not in s->mask is taken from cur. */
int vf_set_msg(int ifindex, unsigned vf, enum vfctl_vf_attr a,
	       const struct vfctl_vf_settings *s, const struct vfctl_vf_config *cur,
	       struct nl_msg **ret);
/* "02:11:22:33:44:55" (either case) to bytes; -EINVAL unless exactly that shape. */
int mac_parse(const char *s, uint8_t mac[6]);

#endif
