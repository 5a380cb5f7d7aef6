/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfctl's private header: the context's insides and the helpers the
 * library's modules share. Only the library's sources include it; everything here is
 * hidden (-fvisibility=hidden) and carries the vfctl_ prefix.
 */
#ifndef VFCTL_INTERNAL_H
#define VFCTL_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "basic.h"
#include "vfctl.h"

struct vfctl_ctx {
	struct vfctl_root sys;
	struct vfctl_root dev;
	bool live;
	char *run_path;	/* locks and saved state; created on first use */
	int lock_timeout_ms;	/* vfctl_opts.lock_timeout_ms */
	void (*progress)(void *, const char *, const char *, unsigned, unsigned);
	void *progress_data;	/* vfctl_opts.progress, progress_data */
	/* worker processes given up on (bounded writes, modprobe): reaped on
	 * later calls and by vfctl_ctx_free() */
	struct vfctl_reaper children;
	struct {		/* the PF lock this ctx took last, to let it nest */
		char addr[VFCTL_ADDR_LEN];
		int fd;
		dev_t dev;
		ino_t ino;
	} lock;
	char err[512];
	/* bind's own pin of a VF's MAC (and its undo): no admin's choice, so
	 * vfctl_vf_set does not note it */
	bool pinning_mac;
	/* names.c: the vendor/device/class names looked up so far */
	struct vfctl_names *names;
};

/* Record a failure message and return r (a negative errno); the public
 * vfctl_ctx_set_error() is the same for callers. */
#define vfctl_err vfctl_ctx_set_error

/* names.c: a copy of the name of a vendor (PCI_LOOKUP_VENDOR, a), device
 * (PCI_LOOKUP_DEVICE, a:b) or class (PCI_LOOKUP_CLASS, base << 8 | sub), or
 * NULL; cached in ctx for its life */
struct vfctl_names;
char *vfctl_name_lookup(struct vfctl_ctx *ctx, int kind, unsigned a, unsigned b);
void vfctl_names_free(struct vfctl_names *nm);

/* topo.c: -EOPNOTSUPP, with why and what to use instead, when f is a
 * software PF or its VF (host->soft_pfs): what needs a PCI function. */
int vfctl_func_need_pci(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *what);

/* devpath.c: a function's directory under the sysfs root. */
#define VFCTL_DEVDIR "bus/pci/devices"
/* Holds every path the library builds: a PCI address, a netdev name and a
 * directory entry (at most 255) with their separators. */
#define VFCTL_DEV_PATH_MAX 320
/* "bus/pci/devices/ADDR" (fmt NULL) or "bus/pci/devices/ADDR/" fmt... in buf.
 * Returns buf, or NULL when it does not fit; the rooted accessor answers
 * NULL with -ENAMETOOLONG, so callers pass the result on unchecked. */
const char *vfctl_dev_path(char *buf, size_t size, const char *addr, const char *fmt, ...)
	_printf_(4, 5);
/* The same in a buffer that lives until the end of the enclosing block:
 * vfctl_root_read(&ctx->sys, VFCTL_DEV_PATH(addr, "%s", attr), ...). */
#define VFCTL_DEV_PATH(addr, ...) \
	vfctl_dev_path((char[VFCTL_DEV_PATH_MAX]){ 0 }, VFCTL_DEV_PATH_MAX, (addr), __VA_ARGS__)

/* The size idiom of include/vfctl.h, for the library's side. Copy the
 * caller's struct src (size_t size first) into dst, the library's own
 * struct of dst_size bytes: the bytes src's size covers, zeros after them.
 * -EINVAL when src's size does not cover the size field; -E2BIG when src is
 * larger than dst and a byte past dst_size is not zero (a field of a newer
 * header this library would otherwise ignore). */
int vfctl_sized_in(void *dst, size_t dst_size, const void *src);
/* Copy the library's full struct src out to the caller's dst: only the
 * bytes dst's size covers; dst's size itself is left as it is. */
void vfctl_sized_out(void *dst, const void *src, size_t src_size);
/* The bytes *p's size covers, at most the library's sizeof(*p). */
#define vfctl_sized_len(p) ((p)->size < sizeof(*(p)) ? (p)->size : sizeof(*(p)))

/* client.c: set the fds of l that lie within its first len bytes to -1,
 * closing them first when close_them (else they were handed over). */
void vfctl_lease_fds_drop(struct vfctl_lease_fds *l, size_t len, bool close_them);
/* Hand the library's full l out to the caller's ret (whose size was
 * checked): what ret's size covers moves over, the fds it has no room for
 * are closed; l's fds are -1 after. */
void vfctl_lease_fds_hand_out(struct vfctl_lease_fds *ret, struct vfctl_lease_fds *l);

/* Exclusive per-PF lock (flock on RUN/lock/ADDR.lock); close the fd to drop.
 * Taking it again while this ctx holds it nests: *ret is -1, nothing to drop. */
int vfctl_pf_lock(struct vfctl_ctx *ctx, const char *addr, int *ret);

/* state.c: a device's original state, saved before vfctl first rebinds it */
struct dev_state {
	char addr[VFCTL_ADDR_LEN];
	char driver[64];		/* "" none */
	char driver_override[64];	/* "" none */
	bool is_vf;
	char pf[VFCTL_ADDR_LEN];
	int vf_index;
	struct vfctl_vf_config config;	/* the PF's settings for the VF; config.mac
					 * is its admin MAC, 00:00:00:00:00:00 none */
	char pinned_mac[VFCTL_MAC_LEN];	/* the admin MAC bind set, "" none */
};
int vfctl_state_save(struct vfctl_ctx *ctx, const struct dev_state *st);
/* -ENOENT (no message) when nothing is saved */
int vfctl_state_load(struct vfctl_ctx *ctx, const char *addr, struct dev_state *ret);
/* The admin MAC of VF vf_addr as set through vfctl_vf_set (zero: none),
 * kept in the run dir's admin-mac/: best effort, ctx's message untouched. */
void vfctl_admin_mac_note(struct vfctl_ctx *ctx, const char *vf_addr, const char *mac);
/* Whether mac is the admin MAC noted for vf_addr. */
bool vfctl_admin_mac_noted(struct vfctl_ctx *ctx, const char *vf_addr, const char *mac);

/* leaseguard.c: -EBUSY, with a message naming the lease, its owner and what
 * doing would do, when vfctld has an active lease on VF addr (pf: on any VF
 * of PF addr); 0 when none (no RUN_DIR/leases.json: none). */
int vfctl_lease_guard(struct vfctl_ctx *ctx, const char *addr, bool pf, const char *doing);

/* topo.c: vfio-pci or a variant driver (NULL-safe) */
/* A group member that does not keep the group from VFIO use. */
bool vfctl_func_vfio_ok(const struct vfctl_func *f);
/* The same from the member's driver (NULL: none) and whether it is a bridge. */
bool vfctl_vfio_member_ok(const char *driver, bool is_bridge);
/* g's viability, blocker, reason and node again, from its members' drivers
 * (after a bind changed one of them) */
int vfctl_group_refresh(struct vfctl_ctx *ctx, struct vfctl_group *g);

/* vfio.c: the parts of a region VFIO lets be mmapped (the whole region, the
 * page-aligned areas of a sparse-mmap capability, or none), from the
 * VFIO_DEVICE_GET_REGION_INFO reply with its capability chain (ri->argsz
 * bytes). Returns their number (at most max) or -EINVAL for a chain that
 * runs outside the reply. */
struct vfio_region_info;
/* Processes holding the node rel (under the dev root) open, by the node's
 * identity (a device node: its device number): "pid 42 (qemu), ..." in buf;
 * returns their number, or -errno (no message) when rel cannot be opened. */
int vfctl_vfio_node_holders(struct vfctl_ctx *ctx, const char *rel, char *buf, size_t size);
/* True when nothing holds VFIO group's node open, known without walking
 * /proc: the kernel opens a group node once at a time (EBUSY while a
 * process has it, or, from 6.6, a device of it through its cdev; a device
 * fd keeps its group file open), so an open of it that succeeds says so.
 * False when the open fails (held, or no node, or no privilege) or the
 * node is no character device (a golden tree's stand-in): walk /proc then.
 * The probe holds the node for the instant between its open and close. */
bool vfctl_vfio_group_unheld(struct vfctl_ctx *ctx, int group);
int vfctl_vfio_region_areas(const struct vfio_region_info *ri, uint64_t page_size,
			    struct vfctl_vfio_region *ret, unsigned max);

/* netlink.c: fill every VF's config of a PF from its netdev. */
int vfctl_nl_read_pf_vfs(struct vfctl_ctx *ctx, struct vfctl_func *pf);
struct nl_msg;
/* One RTM_NEWLINK message (a reply, or a recorded one): the interface's
 * name and its VFs' settings in the order the kernel sent them. */
struct vfctl_nl_link {
	char name[VFCTL_IFNAME_LEN];
	size_t n_vfs;
	struct {
		uint32_t index;
		struct vfctl_vf_config config;
	} vfs[];
};
/* 0, -EBADMSG (not an RTM_NEWLINK, or malformed), -ENOMEM; free with
 * vfctl_nl_link_free(). */
int vfctl_nl_parse_link(struct nl_msg *msg, struct vfctl_nl_link **ret);
void vfctl_nl_link_free(struct vfctl_nl_link *l);
void vfctl_nl_link_fill_vfs(const struct vfctl_nl_link *l, struct vfctl_func *pf);
/* One VF's settings; -ENOENT when the message lacks it. */
int vfctl_nl_link_vf_config(const struct vfctl_nl_link *l, unsigned vf_index,
			    struct vfctl_vf_config *ret);
struct nl_sock;
/* An rtnetlink socket sized for a PF with many VFs: 0 or -errno. */
int vfctl_nl_route_open(struct nl_sock **ret);
/* RTM_GETLINK with the VF list (RTEXT_FILTER_VF) of nd; waits for the ack. */
int vfctl_nl_get_link(struct vfctl_ctx *ctx, struct nl_sock *sk, const struct vfctl_netdev *nd,
		struct vfctl_nl_link **ret);
/* Send a request and wait for its ack: 0, the kernel's -errno from the
 * NLMSG_ERROR (not libnl's mapping), or -ENOMEM/-EIO when libnl failed. */
int vfctl_nl_request_ack(struct nl_sock *sk, struct nl_msg *msg);

/* vfset.c: the RTM_SETLINK for attribute a of VF vf on ifindex, one
 * IFLA_VF_INFO with one IFLA_VF_* in it. Min and max tx rate share
 * IFLA_VF_RATE: the one not in s->mask is taken from cur. */
int vfctl_vf_set_msg(int ifindex, unsigned vf, enum vfctl_vf_attr a,
	       const struct vfctl_vf_settings *s, const struct vfctl_vf_config *cur,
	       struct nl_msg **ret);
/* The same with every attribute of mask in the one IFLA_VF_INFO, in the
 * order do_setvfinfo() applies them; -EINVAL for an empty or unknown mask. */
int vfctl_vf_set_msg_mask(int ifindex, unsigned vf, unsigned mask,
			  const struct vfctl_vf_settings *s, const struct vfctl_vf_config *cur,
			  struct nl_msg **ret);
/* The attributes of s->mask whose value differs from cur (all of them when
 * cur is not valid; a setting the driver does not report differs). */
unsigned vfctl_vf_settings_diff(const struct vfctl_vf_settings *s,
				const struct vfctl_vf_config *cur);
/* vfctl_vf_set() sending only what differs from the driver's view read
 * under the lock (nothing when all is equal), in one RTM_SETLINK, and one
 * per attribute only when the driver refuses that one: for restore. */
int vfctl_vf_set_changed(struct vfctl_ctx *ctx, const struct vfctl_func *pf, unsigned vf_index,
			 const struct vfctl_vf_settings *s, struct vfctl_vf_set_result *res);
/* "02:11:22:33:44:55" (either case) to bytes; -EINVAL unless exactly that shape. */
int vfctl_mac_parse(const char *s, uint8_t mac[6]);

/* client.c: the JSON text of each vfctld request the client sends
 * (malloc'd): 0, -EINVAL when the arguments make no request, -ENOMEM.
 * tests/unit/test_proto.c checks that the daemon's parser takes each with
 * the same values. op of a plain request: "list" or "leases". */
int vfctl_client_req_plain(const char *op, char **ret);
int vfctl_client_req_alloc(const struct vfctl_alloc_req *req, char **ret);
int vfctl_client_req_release(const char *lease_or_vf, unsigned flags, char **ret);
int vfctl_client_req_open(const char *lease, char **ret);

#endif
