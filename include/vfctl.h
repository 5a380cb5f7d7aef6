/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfctl: the host's SR-IOV / IOMMU / VFIO topology, and the only code of
 * vfctl that touches sysfs, rtnetlink and VFIO. The parts, in this order:
 * - the context (vfctl_ctx_*): sysfs, /dev and run-directory roots, the
 *   last error, the library's own worker processes (vfctl_ctx_reap);
 * - the topology (vfctl_host_scan): PCI functions, PFs and their VFs,
 *   netdevs, the PF driver's view of each VF, IOMMU groups and their VFIO
 *   viability; the run directory and saved state; a function's driver;
 * - the VF lifecycle: VF counts and autoprobe (vfctl_pf_set_*), VF settings
 *   through the PF (vfctl_vf_set), bind/unbind/restore;
 * - the vfctld client (vfctl_client_*): alloc, release, leases, pools and
 *   a lease's VFIO fds (vfctld(8));
 * - VFIO (vfctl_vfio_*): a function's group, viability, holders and
 *   reserved ranges, its nodes opened to hand over, and a device opened for
 *   userspace (regions, interrupts, reset, DMA mapping).
 * The library reads no environment variables (a program passes what it
 * honours in struct vfctl_opts), reaps the processes it starts (never
 * waitpid(-1)) and runs modprobe only when asked (VFCTL_BIND_MODPROBE).
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure; on failure out-parameters are left untouched and
 * vfctl_ctx_error() (vfctl_client_error() for the client) holds a one-line
 * message naming the device, the file or call, the kernel's errno text and
 * what to do.
 *
 * The ABI only grows (soname 0, version node VFCTL_0.1; make check-abi
 * compares it with lib/libvfctl.abi). What that takes of both sides:
 * - struct vfctl_ctx, struct vfctl_client and struct vfctl_vfio_dev are
 *   opaque: functions only.
 * - Every other public struct starts with `size_t size` and gains fields
 *   only at its end; no field is removed, moved or retyped, no enum value or
 *   flag bit renumbered.
 * - A struct the caller allocates (vfctl_opts, vfctl_vf_settings,
 *   vfctl_numvfs_report, vfctl_vf_set_result, vfctl_alloc_req,
 *   vfctl_lease_fds, vfctl_vfio_region, vfctl_vfio_irq_info) carries the
 *   size the caller's header gave it:
 *       struct vfctl_opts o = { .size = sizeof(o), .sysfs_root = dir };
 *   The library reads and writes only the bytes that size covers: a field
 *   past it reads as 0 (every field's default) and is never written. A size
 *   that does not cover the size field (0: forgotten) is -EINVAL; a caller
 *   built against a newer header that sets a field this library does not
 *   know gets -E2BIG rather than having it ignored.
 * - A struct the library allocates (vfctl_host, vfctl_func, vfctl_group,
 *   vfctl_netdev, vfctl_lease, vfctl_pool, vfctl_pool_vf) has its size set
 *   by the library: test VFCTL_HAS(p, field) before reading a field the
 *   oldest library you run on may lack. They are reached only through
 *   pointers (host->funcs[i] is a struct vfctl_func *), never indexed as
 *   arrays of structs, so a new field does not move element i; callers never
 *   allocate, copy or embed them.
 * - struct vfctl_vf_config is embedded by value in vfctl_func, so it is
 *   frozen: a new per-VF setting becomes a new field at vfctl_func's end.
 */
#ifndef VFCTL_H
#define VFCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libvfctl is built with -fvisibility=hidden: what this header declares is
 * all it exports (lib/libvfctl.sym lists the same names, and make check-abi
 * compares the ABI with lib/libvfctl.abi). */
#define VFCTL_EXPORT __attribute__((visibility("default")))

#define VFCTL_ADDR_LEN 13	/* "dddd:bb:dd.f" + NUL */
#define VFCTL_IFNAME_LEN 16	/* IFNAMSIZ */
#define VFCTL_MAC_LEN 18	/* "xx:xx:xx:xx:xx:xx" + NUL */

/* A caller-allocated struct with its size set, as a compound literal:
 *     vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = dir)); */
#define VFCTL_SIZED(type, ...) ((type){ .size = sizeof(type), __VA_ARGS__ })
/* Does p's size (set by whoever filled *p) cover field? */
#define VFCTL_HAS(p, field) \
	((p)->size >= offsetof(__typeof__(*(p)), field) + sizeof((p)->field))

struct vfctl_ctx;

/* The library reads no environment: a program that honours VFCTL_SYSFS_ROOT
 * and the like reads them and passes them here. opts may be NULL (all
 * defaults). */
struct vfctl_opts {
	size_t size;		/* sizeof(struct vfctl_opts) */
	const char *sysfs_root;	/* NULL: /sys */
	const char *dev_root;	/* NULL: /dev for /sys, else SYSFS_ROOT/../dev */
	const char *run_dir;	/* NULL: /run/vfctl */
	char *errbuf;		/* optional: why vfctl_ctx_new() failed */
	size_t errlen;
	/* how long to wait for a PF's lock another process holds: 0 the
	 * default (60 s), < 0 not at all */
	int lock_timeout_ms;
	/* optional: how a long wait goes, for a progress line; called with
	 * the PF and "appeared" as vfctl_pf_set_numvfs() sees each of its
	 * total VFs complete (done of total), "removing" before it removes
	 * total VFs. Called from the calling thread only. */
	void (*progress)(void *userdata, const char *dev, const char *event, unsigned done,
			 unsigned total);
	void *progress_data;
};

VFCTL_EXPORT int vfctl_ctx_new(struct vfctl_ctx **ret, const struct vfctl_opts *opts);
/* Frees ctx; first collects the worker processes the library gave up on
 * (bounded writes that timed out, see vfctl_pf_set_numvfs()): each is
 * killed and reaped, waiting at most about a second in all. A child stuck
 * in the kernel (a sysfs write the driver never returns from) cannot die
 * until the kernel lets go: it is left as the caller's child, and becomes
 * a zombie when it ends. Only the library's own children are waited for;
 * never waitpid(-1). */
VFCTL_EXPORT void vfctl_ctx_free(struct vfctl_ctx *ctx);
/* Reap the library's worker processes that have ended; never blocks, never
 * waits for another child of the process. Later library calls and
 * vfctl_ctx_free() do it anyway: this is for a program that wants them gone
 * as soon as it sees SIGCHLD (instead of waitpid(-1), which would take its
 * other children's statuses too). */
VFCTL_EXPORT void vfctl_ctx_reap(struct vfctl_ctx *ctx);
/* The message of the last failure (empty string if none). */
VFCTL_EXPORT const char *vfctl_ctx_error(const struct vfctl_ctx *ctx);
/* Record a failure of the caller's own in ctx (printf format), so that a
 * layer built on libvfctl reports through the same message slot; returns r
 * (a negative errno). */
VFCTL_EXPORT int vfctl_ctx_set_error(struct vfctl_ctx *ctx, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
VFCTL_EXPORT const char *vfctl_ctx_sysfs_root(const struct vfctl_ctx *ctx);
/* True when reading the live system (sysfs root is /sys): netlink is used. */
VFCTL_EXPORT bool vfctl_ctx_is_live(const struct vfctl_ctx *ctx);

/* Strict PCI address parsing: "0000:03:00.0" or "03:00.0"; writes the
 * canonical 12-character form to out. Returns 0 or -EINVAL. */
VFCTL_EXPORT int vfctl_addr_parse(const char *s, char out[VFCTL_ADDR_LEN]);
/* A network interface name the kernel could have made: 1-15 chars, no '/',
 * no whitespace, not "." or "..". */
VFCTL_EXPORT bool vfctl_ifname_valid(const char *s);

/* Tri-state for values a driver or kernel may not report. */
enum vfctl_tri { VFCTL_UNKNOWN = -1, VFCTL_OFF = 0, VFCTL_ON = 1 };

struct vfctl_netdev {
	size_t size;
	char name[VFCTL_IFNAME_LEN];
	int ifindex;		/* -1 unknown */
	char operstate[16];	/* "up", "down", ... or "" unknown */
	int carrier;		/* enum vfctl_tri */
	int speed;		/* Mb/s, -1 unknown */
	char mac[VFCTL_MAC_LEN];	/* "" unknown */
};

/* The PF driver's netlink view of one VF (IFLA_VF_* in IFLA_VFINFO_LIST).
 * Embedded in struct vfctl_func: frozen, no size field. */
struct vfctl_vf_config {
	bool valid;		/* false: not read (no PF netdev, not live, ...) */
	char mac[VFCTL_MAC_LEN];
	uint32_t vlan;
	uint32_t qos;
	uint16_t vlan_proto;	/* ETH_P_8021Q / ETH_P_8021AD, 0 unknown */
	int spoofchk;		/* enum vfctl_tri */
	int trust;		/* enum vfctl_tri */
	int query_rss;		/* enum vfctl_tri */
	uint32_t min_tx_rate;	/* Mb/s */
	uint32_t max_tx_rate;	/* Mb/s */
	int link_state;		/* IFLA_VF_LINK_STATE_*, -1 unknown */
};

enum vfctl_func_kind { VFCTL_FUNC_OTHER, VFCTL_FUNC_PF, VFCTL_FUNC_VF };

struct vfctl_func {
	size_t size;
	char addr[VFCTL_ADDR_LEN];
	enum vfctl_func_kind kind;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint32_t class;		/* base<<16 | sub<<8 | prog-if */
	char *vendor_name, *device_name, *class_name;
	char *driver;		/* NULL: no driver bound */
	char *driver_override;	/* NULL: none */
	int numa_node;		/* -1 unknown / none */
	int iommu_group;	/* -1 no group */
	bool is_bridge;

	size_t n_netdevs;
	struct vfctl_netdev **netdevs;	/* each allocated by itself */

	/* PF: SR-IOV capability as sysfs reports it */
	int totalvfs, numvfs, autoprobe;	/* -1 unknown */
	int vf_offset, vf_stride;		/* -1 unknown */
	uint16_t vf_device;			/* 0 unknown */
	size_t n_vfs;
	struct vfctl_func **vfs;	/* by VF index; NULL where the link is missing */
	char *vf_config_error;		/* why the netlink view is missing */

	/* VF */
	struct vfctl_func *pf;
	int vf_index;		/* -1 for non-VFs */
	struct vfctl_vf_config config;

	/* "pci", or the bus of a software PF (host->soft_pfs): "netdevsim" */
	const char *bus;
};

struct vfctl_group {
	size_t size;
	int id;
	size_t n_members;
	struct vfctl_func **members;
	bool viable;
	/* when not viable: the first blocking member and what to do */
	struct vfctl_func *blocker;
	char *reason;
	bool dev_node;		/* /dev/vfio/<id> exists */
};

struct vfctl_host {
	size_t size;
	bool iommu;		/* /sys/class/iommu has a unit */
	size_t n_iommu_units;
	char **iommu_units;
	bool iommu_groups;	/* /sys/kernel/iommu_groups has a group */
	bool vfio_container;	/* /dev/vfio/vfio */
	bool vfio_module;	/* /sys/module/vfio_pci (or built in) */
	bool iommufd;		/* /dev/iommu */
	bool vfio_cdev;		/* /dev/vfio/devices: the VFIO device cdevs */

	size_t n_funcs;
	struct vfctl_func **funcs;	/* sorted by address */
	size_t n_groups;
	struct vfctl_group **groups;	/* sorted by id */

	size_t n_warnings;
	char **warnings;	/* devices that vanished during the walk, ... */

	/* SR-IOV PFs that are no PCI function: netdevsim's software PFs
	 * (bus/netdevsim/devices/netdevsimN), sorted by name. addr is the
	 * bus device's name, bus "netdevsim"; vfs[] are their VFs (kind VF,
	 * addr "", no driver or IOMMU group: they exist only in the PF
	 * driver's netlink view). Not in funcs, so nothing binds them;
	 * vfctl_host_find() finds them by name or netdev. */
	size_t n_soft_pfs;
	struct vfctl_func **soft_pfs;
};

enum {
	VFCTL_SCAN_NETLINK = 1 << 0,	/* read the PFs' netlink VF view */
	VFCTL_SCAN_NO_NAMES = 1 << 1,	/* vendor_name, device_name, class_name stay NULL */
	/* a function that is neither PF nor VF gets its ids, class, driver
	 * and IOMMU group only (what group viability needs): no names, NUMA
	 * node, driver_override or netdevs */
	VFCTL_SCAN_SRIOV_ONLY = 1 << 2,
};

VFCTL_EXPORT int vfctl_host_scan(struct vfctl_ctx *ctx, unsigned flags, struct vfctl_host **ret);
/* The part of the host a change to one device reads (vfctl_bind,
 * vfctl_unbind, vfctl_restore), not every function: dev (a PCI address or
 * its netdev's name), a VF's PF, the other members of dev's IOMMU group,
 * each read as vfctl_host_scan reads it (flags the same), and the host-wide
 * fields (iommu, vfio_*). So funcs holds those functions only, groups
 * dev's group only (iommu_groups still says whether the host has any), a
 * PF's vfs[] only its VFs among them (NULL elsewhere; a VF's own index is
 * set), netlink is read for those PFs, and soft_pfs is empty. A name that
 * is no PCI function's (a software PF or its netdev, an unknown name) gets
 * the whole scan, so vfctl_host_find() answers every name as after
 * vfctl_host_scan; an address that is not there gives an empty host.
 * Returns 0 or -errno as vfctl_host_scan. */
VFCTL_EXPORT int vfctl_host_scan_dev(struct vfctl_ctx *ctx, const char *dev, unsigned flags,
				     struct vfctl_host **ret);
VFCTL_EXPORT void vfctl_host_free(struct vfctl_host *host);

/* Find a function by PCI address (either form) or netdev name, or a
 * software PF (soft_pfs) by its bus name or netdev. Returns 0, -EINVAL
 * for a malformed name, -ENODEV for an unknown device. */
VFCTL_EXPORT int vfctl_host_find(struct vfctl_ctx *ctx, const struct vfctl_host *host,
		    const char *name, struct vfctl_func **ret);
VFCTL_EXPORT struct vfctl_group *vfctl_host_group(const struct vfctl_host *host, int id);

/* The run directory (locks, saved original states; vfctld keeps its lease
 * list there): its path, and sub under it opened (created 0700 when
 * missing) as a directory fd the caller closes. */
VFCTL_EXPORT const char *vfctl_run_dir_path(const struct vfctl_ctx *ctx);
VFCTL_EXPORT int vfctl_run_dir_open(struct vfctl_ctx *ctx, const char *sub, int *ret);
/* Forget the original state vfctl saved for addr at its first rebind (a
 * device that is gone); 0 also when nothing was saved. */
VFCTL_EXPORT int vfctl_state_remove(struct vfctl_ctx *ctx, const char *addr);

/* vfio-pci or one of its variant drivers (e.g. mlx5_vfio_pci); NULL-safe. */
VFCTL_EXPORT bool vfctl_driver_is_vfio(const char *driver);
/* The driver a PCI function is bound to now, read fresh from sysfs (no
 * scan): its name in buf, "" when none. -EINVAL for a malformed address,
 * -ENODEV when the function is not there, -ENAMETOOLONG when buf is too
 * small; buf is untouched on failure. */
VFCTL_EXPORT int vfctl_func_driver(struct vfctl_ctx *ctx, const char *addr, char *buf,
				   size_t size);

/* ---- VF lifecycle ---------------------------------------------------------- */

enum {
	VFCTL_NUMVFS_NO_AUTOPROBE = 1 << 0,	/* sriov_drivers_autoprobe=0 while creating */
	VFCTL_NUMVFS_FORCE = 1 << 1,		/* change a non-zero count even when VFs have
					 * drivers, or when vfctld leases any (without
					 * it: -EBUSY naming the lease); never past a
					 * VFIO user */
};

struct vfctl_numvfs_report {
	size_t size;		/* sizeof(struct vfctl_numvfs_report) */
	int before, after;	/* sriov_numvfs */
	unsigned write_ms;	/* the sriov_numvfs writes */
	unsigned settle_ms;	/* until every VF (and its netdev) was there */
	/* the PF the name resolved to, and its sriov_drivers_autoprobe as the
	 * call left it (-1: no such file): what it did, without a scan */
	char pf[VFCTL_ADDR_LEN];
	int autoprobe;
};

/* Set a PF's VF count (0 destroys), through 0 when both counts are
 * non-zero, under the PF's lock; returns when every VF exists as a PCI
 * device with its config and IOMMU group and, when a driver probed it, its
 * netdev; timeout_ms 0 picks a default that scales with n. */
VFCTL_EXPORT int vfctl_pf_set_numvfs(struct vfctl_ctx *ctx, const char *pf, unsigned n, unsigned flags,
			unsigned timeout_ms, struct vfctl_numvfs_report *rep);

/* Write the PF's sriov_drivers_autoprobe under its lock (pf: a PCI
 * address); timeout_ms 0 picks 5 s. */
VFCTL_EXPORT int vfctl_pf_set_autoprobe(struct vfctl_ctx *ctx, const char *pf, bool on, unsigned timeout_ms);

/* One change to a VF's settings through the PF (IFLA_VF_*). */
enum vfctl_vf_attr {
	VFCTL_VF_MAC, VFCTL_VF_VLAN, VFCTL_VF_SPOOFCHK, VFCTL_VF_TRUST, VFCTL_VF_MIN_TX_RATE,
	VFCTL_VF_MAX_TX_RATE, VFCTL_VF_LINK_STATE, VFCTL_VF_QUERY_RSS, _VFCTL_VF_ATTR_MAX,
};

struct vfctl_vf_settings {
	size_t size;		/* sizeof(struct vfctl_vf_settings) */
	/* 1 << enum vfctl_vf_attr for each field to set; a bit whose
	 * field size does not cover is -EINVAL */
	unsigned mask;
	char mac[VFCTL_MAC_LEN];
	uint32_t vlan, qos;
	uint16_t vlan_proto;	/* 0: 802.1Q */
	bool spoofchk, trust, query_rss;
	uint32_t min_tx_rate, max_tx_rate;	/* Mb/s */
	int link_state;		/* IFLA_VF_LINK_STATE_* */
	unsigned flags;		/* VFCTL_VF_SET_* */
};

/* vfctl_vf_settings.flags: change a VF that vfctld leases (without it:
 * -EBUSY naming the lease, nothing sent) */
enum { VFCTL_VF_SET_FORCE = 1 << 0 };

/* Per attribute: 0, or the kernel's -errno for that attribute alone
 * (err[] grows with enum vfctl_vf_attr; only what size covers is written). */
struct vfctl_vf_set_result {
	size_t size;		/* sizeof(struct vfctl_vf_set_result) */
	int err[_VFCTL_VF_ATTR_MAX];
};

VFCTL_EXPORT const char *vfctl_vf_attr_name(enum vfctl_vf_attr a);
/* Check values before anything is sent; -EINVAL with the reason in ctx. */
VFCTL_EXPORT int vfctl_vf_settings_validate(struct vfctl_ctx *ctx, const struct vfctl_vf_settings *s);
/* Apply each attribute in its own netlink message so a driver that refuses
 * one does not undo the others. Returns 0 when all applied, -errno of the
 * first refusal otherwise (res tells which). */
VFCTL_EXPORT int vfctl_vf_set(struct vfctl_ctx *ctx, const struct vfctl_func *pf, unsigned vf_index,
		 const struct vfctl_vf_settings *s, struct vfctl_vf_set_result *res);

enum {
	/* take a netdev that carries host routes, a PF that has VFs (they are
	 * destroyed), a VF that vfctld leases (RUN_DIR/leases.json); restore
	 * a leased VF. Without it each is -EBUSY, nothing changed. */
	VFCTL_BIND_FORCE = 1 << 0,
	/* a driver that is not loaded (no bus/pci/drivers/NAME) is loaded with
	 * modprobe (a child process, waited for); without it: -ENOENT */
	VFCTL_BIND_MODPROBE = 1 << 1,
};

/* Bind to a driver with driver_override, verified by the driver link
 * and, for vfio-pci, the group node; a failure after the first write
 * rolls back (driver, override, admin MAC, saved state) and says so in
 * the error (flags: VFCTL_BIND_*). On success bind, unbind and restore
 * bring dev's entry in host up to date (driver, driver_override, its
 * group's viability and node, a VF's settings; not its netdevs). */
VFCTL_EXPORT int vfctl_bind(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *dev,
	       const char *driver, unsigned flags, unsigned timeout_ms);
VFCTL_EXPORT int vfctl_unbind(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *dev,
		 unsigned flags, unsigned timeout_ms);
/* Back to the saved original driver and VF settings; clears
 * driver_override (flags: VFCTL_BIND_MODPROBE to load the original driver
 * if it is not loaded). -ENODATA when vfctl saved nothing for dev (it never
 * rebound it, or it was restored already). */
VFCTL_EXPORT int vfctl_restore(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *dev,
		  unsigned flags, unsigned timeout_ms);

VFCTL_EXPORT const char *vfctl_vf_link_state_str(int link_state);
VFCTL_EXPORT const char *vfctl_vlan_proto_str(uint16_t proto);

/* ---- vfctld client (vfctld(8)) ----------------------------------------- */

/* The daemon's socket when the caller passes NULL. */
#define VFCTL_CLIENT_SOCKET "/run/vfctl/vfctld.sock"

struct vfctl_client;

/* Connect to vfctld at path (NULL: VFCTL_CLIENT_SOCKET; a program that
 * honours $VFCTLD_SOCKET passes it). */
VFCTL_EXPORT int vfctl_client_connect(const char *path, struct vfctl_client **ret);
VFCTL_EXPORT void vfctl_client_free(struct vfctl_client *c);
/* The last failure: the daemon's message for an error reply, else what
 * failed locally (connect, send, receive). */
VFCTL_EXPORT const char *vfctl_client_error(const struct vfctl_client *c);

/* ABI: a struct the caller fills starts with its size (set it to
 * sizeof(struct ...)); the library reads only what that size covers, so a
 * program built against an older header keeps working. Structs the library
 * allocates are reached only through pointers and only ever grow at the
 * end; free them with their own function. */

enum vfctl_lease_state {
	VFCTL_LEASE_UNKNOWN,	/* a state this library does not know */
	VFCTL_LEASE_ALLOCATING,	/* being bound to vfio-pci */
	VFCTL_LEASE_ACTIVE,
	VFCTL_LEASE_RELEASING,	/* revoked; the VF goes back when its group is closed */
	VFCTL_LEASE_RELEASED,	/* (release's reply) the VF went back */
};

/* A lease as vfctld reports it; allocated by the library. */
struct vfctl_lease {
	size_t size;
	char *id;		/* "L3" */
	enum vfctl_lease_state state;	/* vfctl_lease_state_str() names it */
	char *pool;
	char *vf;		/* the VF's PCI address */
	char *pf;		/* its PF's */
	int vf_index;		/* the VF's number on its PF, -1 unknown */
	int group;		/* IOMMU group, -1 not known yet */
	unsigned uid;		/* who allocated it */
	char *owner;		/* the caller's tag, NULL none */
	int pid;		/* the owner process (the lease ends with it), 0 none */
	int64_t created;	/* unix time */
	char *pending;		/* why a release waits, NULL none */
	unsigned ttl;		/* seconds it lives without an open, 0 forever */
	int64_t expires;	/* unix time it is released unless opened first, 0 never */
};

VFCTL_EXPORT void vfctl_lease_free(struct vfctl_lease *l);
/* Free a NULL-terminated array of leases (vfctl_client_leases). */
VFCTL_EXPORT void vfctl_lease_list_free(struct vfctl_lease **v);
VFCTL_EXPORT const char *vfctl_lease_state_str(enum vfctl_lease_state s);

enum { VFCTL_ALLOC_NUMA = 1 << 0 };	/* vfctl_alloc_req.flags: numa is set */

struct vfctl_alloc_req {
	size_t size;		/* sizeof(struct vfctl_alloc_req) */
	const char *pool;	/* required */
	unsigned flags;		/* VFCTL_ALLOC_* */
	int numa;		/* with VFCTL_ALLOC_NUMA: a VF on this NUMA node */
	const char *pf;		/* NULL any; a PF's PCI address or netdev name */
	const char *owner;	/* NULL none; a free-form tag (printable, at most 64) */
	int pid;		/* 0 none; the lease ends when this process exits */
	unsigned ttl;		/* 0 the pool's; else seconds the lease lives without an
				 * open (each open starts it again), at most 366 days */
};

/* Allocate a VF of a pool: *ret is the new lease (vfctl_lease_free()).
 * -EACCES the pool is not for this uid, -ENOENT no such pool, -ENOSPC no
 * free VF, ... with the daemon's reason in vfctl_client_error(). */
VFCTL_EXPORT int vfctl_client_alloc(struct vfctl_client *c, const struct vfctl_alloc_req *req,
				    struct vfctl_lease **ret);

enum { VFCTL_RELEASE_FORCE = 1 << 0 };	/* revoke even while the group is held open */

/* Release a lease by id ("L3") or by its VF's PCI address. *ret (when ret
 * is not NULL) is the lease as released: state VFCTL_LEASE_RELEASED, or,
 * forced while the group is held, VFCTL_LEASE_RELEASING with pending set.
 * Not forced and held: -EBUSY and nothing changes. */
VFCTL_EXPORT int vfctl_client_release(struct vfctl_client *c, const char *lease_or_vf,
				      unsigned flags, struct vfctl_lease **ret);

/* The caller's leases (root: all) as a NULL-terminated array in *ret,
 * their number in *ret_n (may be NULL); vfctl_lease_list_free(). */
VFCTL_EXPORT int vfctl_client_leases(struct vfctl_client *c, struct vfctl_lease ***ret,
				     size_t *ret_n);

/* One VF of a pool; allocated by the library. */
struct vfctl_pool_vf {
	size_t size;
	unsigned index;		/* the VF's number on the pool's PF */
	char *address;		/* NULL: the PF has no such VF now */
	int numa_node;		/* -1 unknown */
	char *driver;		/* NULL none */
	char *lease;		/* the lease holding it, NULL free; another
				 * user's is "(another user)" (root sees ids) */
};

/* A pool of the daemon's config; allocated by the library. */
struct vfctl_pool {
	size_t size;
	char *name;
	char *pf;		/* the PF's address, NULL when not found (error says why) */
	char *error;		/* NULL none */
	bool allowed;		/* the caller may allocate from it */
	unsigned n_free;
	size_t n_vfs;
	struct vfctl_pool_vf **vfs;
};

/* Every pool of the daemon as a NULL-terminated array in *ret, their
 * number in *ret_n (may be NULL); vfctl_pool_list_free(). */
VFCTL_EXPORT int vfctl_client_pools(struct vfctl_client *c, struct vfctl_pool ***ret,
				    size_t *ret_n);
VFCTL_EXPORT void vfctl_pool_list_free(struct vfctl_pool **v);

/* What "open" hands over for a lease; the caller owns every fd >= 0. An fd
 * the caller's size does not cover is closed, not handed over. */
struct vfctl_lease_fds {
	size_t size;		/* sizeof(struct vfctl_lease_fds), set by the caller */
	int container_fd;	/* /dev/vfio/vfio, no group attached, no IOMMU type set */
	int group_fd;		/* /dev/vfio/<group>, not yet in a container */
	int group;		/* the IOMMU group id */
	char addr[VFCTL_ADDR_LEN];	/* the VF: VFIO_GROUP_GET_DEVICE_FD takes this name */
	int iommufd;		/* /dev/iommu, or -1 when the kernel has none */
	int device_fd;		/* /dev/vfio/devices/vfioN (cdev), or -1 */
};

/* Send "open" for lease (e.g. "L3") and receive its VFIO fds into *ret
 * (ret->size set by the caller). 0, or -errno (-EACCES not yours, -ENOENT
 * no such lease, -EBUSY the group is open elsewhere, ...) with the reason
 * in vfctl_client_error(); on failure nothing is left open and *ret is
 * untouched. */
VFCTL_EXPORT int vfctl_client_open_lease(struct vfctl_client *c, const char *lease,
			    struct vfctl_lease_fds *ret);
/* Close every fd of l (that l's size covers) that is open and set them to -1. */
VFCTL_EXPORT void vfctl_lease_fds_close(struct vfctl_lease_fds *l);

/* ---- VFIO -------------------------------------------------------------- */

/* Every node is opened under the ctx's /dev root and every sysfs file read
 * under its sysfs root, so a golden tree (or --dev-root) stands for a host.
 * The ioctls run only on character devices: a golden tree's nodes are plain
 * files, and what needs the kernel fails there with ENOTTY. */

/* The IOMMU group of a PCI function (addr in either form) from sysfs.
 * 0; -EINVAL not an address, -ENODEV no such function, -ENOENT in no group. */
VFCTL_EXPORT int vfctl_vfio_group_of(struct vfctl_ctx *ctx, const char *addr, int *ret);
/* Whether every member of the group lets it be used with VFIO (on vfio-pci
 * or a variant, no driver, pci-stub, pcieport, a bridge), from sysfs: 0, or
 * -EBUSY naming the first member in the way (by address) and what to do. */
VFCTL_EXPORT int vfctl_vfio_group_viable(struct vfctl_ctx *ctx, int group);
/* Processes holding the group's node (<dev root>/vfio/<group>) open, as
 * "pid 42 (qemu), pid 43 (vfkvm)" in buf; returns their number (0: none), or
 * -errno when the node cannot be looked at. */
VFCTL_EXPORT int vfctl_vfio_holders(struct vfctl_ctx *ctx, int group, char *buf, size_t size);
/* The function's VFIO device cdev ("vfio3": <dev root>/vfio/devices/vfio3)
 * from sysfs vfio-dev/; -ENOENT when the kernel made none. */
VFCTL_EXPORT int vfctl_vfio_cdev_name(struct vfctl_ctx *ctx, const char *addr, char *buf,
				      size_t size);
/* Give uid the function's VFIO nodes, so a program it runs can open them by
 * path (QEMU's host=, DPDK, cloud-hypervisor): the owner of
 * <dev root>/vfio/<group> and, where the kernel has one, of its device cdev
 * becomes uid (group and mode stay as they are; the kernel makes them
 * root-only); uid 0 takes them back. No dev root (a golden tree): 0, nothing
 * done. -ENOENT when the group node is missing (not on vfio-pci),
 * -ENOTTY when a node is no character device, else the chown's -errno. */
VFCTL_EXPORT int vfctl_vfio_grant(struct vfctl_ctx *ctx, const char *addr, uid_t uid);
/* 0 when [iova, iova + size) misses every reserved IOVA range of the group
 * (sysfs reserved_regions; none listed or no file: nothing to miss);
 * -EADDRINUSE naming the range it hits; -EINVAL for a file that is no such
 * list. */
VFCTL_EXPORT int vfctl_vfio_group_check_iova(struct vfctl_ctx *ctx, int group, uint64_t iova,
					     uint64_t size);

enum {
	/* also open /dev/iommu and the device cdev where the kernel has both
	 * (vfctl_vfio_open_fds), and use them rather than the container and
	 * group (vfctl_vfio_dev_open, vfctl_vfio_dev_adopt) */
	VFCTL_VFIO_IOMMUFD = 1 << 0,
};

/* The nodes of a function bound to vfio-pci, opened to be handed over
 * (vfctld's "open"): the container with no IOMMU type and the group not in
 * it; with VFCTL_VFIO_IOMMUFD also /dev/iommu and the cdev where both exist
 * (else -1), the iommufd set to process RLIMIT_MEMLOCK accounting when the
 * caller may (CAP_SYS_RESOURCE). Checks first that the function is on vfio-pci and its group
 * viable (sysfs, then VFIO_GROUP_GET_STATUS on a real node); -EBUSY when the
 * group is open elsewhere (naming who). The caller owns every fd >= 0. */
VFCTL_EXPORT int vfctl_vfio_open_fds(struct vfctl_ctx *ctx, const char *addr, unsigned flags,
				     struct vfctl_lease_fds *ret);

/* A PCI function opened for userspace use. It keeps ctx for its messages:
 * ctx must outlive it. */
struct vfctl_vfio_dev;

/* Open a function bound to vfio-pci: the group joins a new container with
 * the type1v2 IOMMU and the device fd comes from the group; or, with
 * VFCTL_VFIO_IOMMUFD on a kernel that has them, the cdev bound to iommufd
 * and attached to a new IOAS. */
VFCTL_EXPORT int vfctl_vfio_dev_open(struct vfctl_ctx *ctx, const char *addr, unsigned flags,
				     struct vfctl_vfio_dev **ret);
/* The same from fds someone else opened (vfctl_client_open_lease or
 * vfctl_vfio_open_fds): takes every fd of fds, also on failure (they are -1
 * on return). Without VFCTL_VFIO_IOMMUFD, or without an iommufd and cdev in
 * fds, the container and group are used and the others closed. */
VFCTL_EXPORT int vfctl_vfio_dev_adopt(struct vfctl_ctx *ctx, struct vfctl_lease_fds *fds,
				      unsigned flags, struct vfctl_vfio_dev **ret);
/* Close the device fd (and with it its interrupts and the iommufd binding);
 * the group stays in its container so that DMA mappings can still be undone.
 * An mmap of a region keeps the device open until it is unmapped. */
VFCTL_EXPORT void vfctl_vfio_dev_close_device(struct vfctl_vfio_dev *dev);
/* Close everything: the group leaves its container (it cannot while a
 * device is open, e.g. through an mmap: unmap first), then the fds. */
VFCTL_EXPORT void vfctl_vfio_dev_free(struct vfctl_vfio_dev *dev);

VFCTL_EXPORT const char *vfctl_vfio_dev_addr(const struct vfctl_vfio_dev *dev);
VFCTL_EXPORT int vfctl_vfio_dev_group(const struct vfctl_vfio_dev *dev);
/* The device fd, for mmap, pread and pwrite at a region's offset; -1 once
 * closed. */
VFCTL_EXPORT int vfctl_vfio_dev_fd(const struct vfctl_vfio_dev *dev);
/* True when opened through iommufd and the cdev, false for the container. */
VFCTL_EXPORT bool vfctl_vfio_dev_uses_iommufd(const struct vfctl_vfio_dev *dev);
/* VFIO_DEVICE_GET_INFO as read at open */
VFCTL_EXPORT unsigned vfctl_vfio_dev_num_regions(const struct vfctl_vfio_dev *dev);
VFCTL_EXPORT unsigned vfctl_vfio_dev_num_irqs(const struct vfctl_vfio_dev *dev);
VFCTL_EXPORT bool vfctl_vfio_dev_can_reset(const struct vfctl_vfio_dev *dev);

/* Region indexes of a vfio-pci device */
enum {
	VFCTL_VFIO_BAR0 = 0,	/* BAR k is index k (0-5) */
	VFCTL_VFIO_ROM = 6,
	VFCTL_VFIO_CONFIG = 7,
};
enum {
	VFCTL_VFIO_REGION_READ = 1 << 0,
	VFCTL_VFIO_REGION_WRITE = 1 << 1,
	VFCTL_VFIO_REGION_MMAP = 1 << 2,
};
#define VFCTL_VFIO_MAX_AREAS 8

/* Caller-allocated: set size to sizeof(struct vfctl_vfio_region). */
struct vfctl_vfio_region {
	size_t size;
	unsigned index;
	unsigned flags;		/* VFCTL_VFIO_REGION_* */
	uint64_t offset;	/* the region's offset in the device fd */
	uint64_t length;	/* 0: not implemented (or a 64-bit BAR's upper half) */
	/* the page-aligned parts that may be mmapped (the whole region, the
	 * areas of a sparse-mmap capability, or none); the rest is accessed
	 * with pread/pwrite */
	unsigned n_areas;
	struct {
		uint64_t offset, length;	/* within the region */
	} areas[VFCTL_VFIO_MAX_AREAS];
};
VFCTL_EXPORT int vfctl_vfio_dev_region(struct vfctl_vfio_dev *dev, unsigned index,
				       struct vfctl_vfio_region *ret);
/* pread (write false) or pwrite of len bytes at off within a region (e.g.
 * VFCTL_VFIO_CONFIG); a short transfer is -EIO. */
VFCTL_EXPORT int vfctl_vfio_dev_rw(struct vfctl_vfio_dev *dev, unsigned index, uint64_t off,
				   void *buf, size_t len, bool write);

/* Interrupt indexes of a vfio-pci device */
enum { VFCTL_VFIO_IRQ_INTX = 0, VFCTL_VFIO_IRQ_MSI = 1, VFCTL_VFIO_IRQ_MSIX = 2 };
enum {
	VFCTL_VFIO_IRQ_EVENTFD = 1 << 0,
	VFCTL_VFIO_IRQ_MASKABLE = 1 << 1,
	VFCTL_VFIO_IRQ_AUTOMASKED = 1 << 2,
	VFCTL_VFIO_IRQ_NORESIZE = 1 << 3,
};
/* Caller-allocated: set size to sizeof(struct vfctl_vfio_irq_info). */
struct vfctl_vfio_irq_info {
	size_t size;
	unsigned index;
	unsigned count;		/* vectors; 0: the device has none of this kind */
	unsigned flags;		/* VFCTL_VFIO_IRQ_* */
};
VFCTL_EXPORT int vfctl_vfio_dev_irq_info(struct vfctl_vfio_dev *dev, unsigned index,
					 struct vfctl_vfio_irq_info *ret);
/* Trigger eventfds efds[0..count-1] for vectors start.. of index (-1: that
 * vector unwired), in one VFIO_DEVICE_SET_IRQS: growing an enabled MSI-X set
 * means disabling it first. count 0 disables every vector of index. */
VFCTL_EXPORT int vfctl_vfio_dev_set_irqs(struct vfctl_vfio_dev *dev, unsigned index,
					 unsigned start, unsigned count, const int *efds);
/* VFIO_DEVICE_RESET; -EOPNOTSUPP when VFIO has no reset for the device. */
VFCTL_EXPORT int vfctl_vfio_dev_reset(struct vfctl_vfio_dev *dev);

enum { VFCTL_VFIO_DMA_READ = 1 << 0, VFCTL_VFIO_DMA_WRITE = 1 << 1 };
/* Map size bytes at vaddr for the device's DMA at iova (VFIO_IOMMU_MAP_DMA,
 * or IOMMU_IOAS_MAP at a fixed IOVA), after checking the group's reserved
 * ranges; the pages are pinned against RLIMIT_MEMLOCK. */
VFCTL_EXPORT int vfctl_vfio_dma_map(struct vfctl_vfio_dev *dev, void *vaddr, uint64_t iova,
				    uint64_t size, unsigned flags);
VFCTL_EXPORT int vfctl_vfio_dma_unmap(struct vfctl_vfio_dev *dev, uint64_t iova, uint64_t size);

#ifdef __cplusplus
}
#endif
#endif
