/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared layer (internal, never installed): the declarative config
 * (vfctl.conf(5)), the plan that makes a host match it and vfctl apply.
 * Built on libvfctl's public API only; vfctl and vfctld link it.
 */
#ifndef VFCTL_SHARED_CONFIG_H
#define VFCTL_SHARED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfctl.h"


/* What a config says for one VF: attributes to reconcile (mask 0: none) and
 * the driver it should be bound to (NULL: left alone). */
struct vfctl_conf_vf {
	struct vfctl_vf_settings s;	/* the PF's defaults with the VF's overrides */
	char *driver;
};

struct vfctl_conf_pool {
	char *name;
	size_t n_vfs;
	unsigned *vfs;		/* VF indexes of the PF */
	size_t n_uids, n_gids;
	unsigned *uids, *gids;	/* resolved at load time */
	unsigned ttl;		/* seconds a lease without --pid lives unused, 0 forever */
};

enum vfctl_conf_match { VFCTL_MATCH_ADDRESS, VFCTL_MATCH_NETDEV, VFCTL_MATCH_ID };

struct vfctl_conf_pf {
	char *path;		/* JSON path for messages: "pfs[0]" */
	enum vfctl_conf_match match;
	char addr[VFCTL_ADDR_LEN];	/* VFCTL_MATCH_ADDRESS */
	char netdev[VFCTL_IFNAME_LEN];	/* VFCTL_MATCH_NETDEV */
	uint16_t vendor, device;	/* VFCTL_MATCH_ID: the index-th such PF by address */
	unsigned index;
	unsigned numvfs;
	int autoprobe;		/* enum vfctl_tri: VFCTL_UNKNOWN leaves it */
	struct vfctl_conf_vf *vfs;	/* numvfs entries, by VF index */
	size_t n_pools;
	struct vfctl_conf_pool *pools;
};

/* vfctld's limits: the "daemon" object (vfctl.conf(5), vfctld(8) LIMITS);
 * the defaults below when the file leaves them out. */
struct vfctl_conf_daemon {
	unsigned max_connections;	/* all uids; root has a reserve past it */
	unsigned max_connections_per_uid;	/* each uid but root */
	unsigned idle_timeout;	/* seconds a connection may make no progress */
};
#define VFCTL_CONF_MAX_CONNECTIONS 4096
#define VFCTL_CONF_MAX_CONNECTIONS_PER_UID 64
#define VFCTL_CONF_IDLE_TIMEOUT 60

struct vfctl_config {
	char *file;
	size_t n_pfs;
	struct vfctl_conf_pf *pfs;
	struct vfctl_conf_daemon daemon;
};

/* The VF setting words vfctl set and vfctl.conf(5) share: 0 or -EINVAL (no
 * message; the caller names the place). A MAC is copied lowercased, as the
 * kernel shows it, and checked by vfctl_vf_settings_validate(). */
int vfctl_vf_parse_mac(const char *s, char out[VFCTL_MAC_LEN]);
int vfctl_vf_parse_vlan_proto(const char *s, uint16_t *ret);	/* 802.1Q, 802.1ad */
int vfctl_vf_parse_link_state(const char *s, int *ret);	/* auto, enable, disable */

/* A lease's time to live: seconds, or a number with s, m, h or d ("90",
 * "10m", "2h"), 1 s to PROTO_TTL_MAX (366 d). 0 or -EINVAL / -ERANGE. */
int vfctl_duration_parse(const char *s, unsigned *ret);

/* Parse and check a config (JSON); everything but what needs the host.
 * -EINVAL etc. with "FILE:LINE:COL: ..." or "FILE: JSON.PATH: ..." in ctx. */
int vfctl_config_load(struct vfctl_ctx *ctx, const char *file, struct vfctl_config **ret);
/* The same from len bytes of text in memory (no NUL needed); file names it
 * in messages. */
int vfctl_config_parse(struct vfctl_ctx *ctx, const char *file, const char *text, size_t len,
		       struct vfctl_config **ret);
void vfctl_config_free(struct vfctl_config *cfg);
/* The host function config PF c means (the first with its address or
 * netdev, or the index-th PF with its vendor:device), NULL if none; then
 * *seen (optional) counts the PFs with the vendor:device of an id match.
 * The one matcher: resolve, select, drop_absent and apply all use it. */
const struct vfctl_func *vfctl_config_match(const struct vfctl_conf_pf *c,
					     const struct vfctl_host *host, unsigned *seen);
/* Which PF of host each config PF is (addrs[i] for cfg->pfs[i]); -ENODEV for
 * a PF not on the host, -EINVAL for one matched twice or too many VFs. */
int vfctl_config_resolve(struct vfctl_ctx *ctx, const struct vfctl_config *cfg,
			 const struct vfctl_host *host, char (*addrs)[VFCTL_ADDR_LEN]);

/* Keep only the PFs of cfg that are the host PFs named in pfs[] (PCI
 * addresses or netdevs), dropping the others: vfctl apply --pf, for one PF
 * that appeared (hotplug, driver reload) while the rest of the config may
 * not be on the host. found[j] (optional, n_pfs entries) tells whether
 * pfs[j] is in the config. Returns the number of config PFs kept, -ENODEV
 * for a name not on the host, -EINVAL for one that is not an SR-IOV PF;
 * cfg and found are untouched on failure. */
int vfctl_config_select(struct vfctl_ctx *ctx, struct vfctl_config *cfg,
			const struct vfctl_host *host, const char *const *pfs, size_t n_pfs,
			bool *found);
/* Drop the PFs of cfg that match nothing on the host (vfctl apply
 * --skip-absent, at boot: a PF whose driver comes later is done by
 * vfctl-provision@PF when it binds). *ret (strv, free each and the array)
 * says which, "pfs[1]: no address 0000:82:00.0 on this host"; returns
 * their number. */
int vfctl_config_drop_absent(struct vfctl_ctx *ctx, struct vfctl_config *cfg,
			     const struct vfctl_host *host, char ***ret, size_t *ret_n);

enum vfctl_change_kind {
	VFCTL_CHANGE_AUTOPROBE, VFCTL_CHANGE_NUMVFS, VFCTL_CHANGE_VF_ATTR, VFCTL_CHANGE_DRIVER,
};

/* One difference between the host and the config. */
struct vfctl_change {
	enum vfctl_change_kind kind;
	char pf[VFCTL_ADDR_LEN];
	int vf_index;		/* -1 for a PF change */
	char dev[VFCTL_ADDR_LEN];	/* the VF's address; "" when it does not exist yet */
	bool vf_known;		/* the VF exists (a software PF's VF has no address) */
	enum vfctl_vf_attr attr;	/* VFCTL_CHANGE_VF_ATTR */
	const char *what;	/* "sriov_numvfs", "mac", "vlan", "driver", ... */
	char from[64], to[64];	/* "?" unknown, "-" none */
	int err;		/* after vfctl_apply(): 0 or -errno */
	char *error;		/* its message */
};

struct vfctl_plan {
	size_t n;
	struct vfctl_change *changes;
};

/* The changes that make host match cfg, PF changes first. */
int vfctl_plan_make(struct vfctl_ctx *ctx, const struct vfctl_config *cfg,
		    const struct vfctl_host *host, struct vfctl_plan **ret);
void vfctl_plan_free(struct vfctl_plan *plan);
/* Reconcile: PF changes, then a fresh scan and the VF changes against it.
 * *ret holds every change made or tried (err set per change); returns 0
 * when all applied, else the -errno of the first failure. */
int vfctl_apply(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, unsigned flags,
		unsigned timeout_ms, struct vfctl_plan **ret);
enum {
	VFCTL_APPLY_FORCE = 1 << 0,	/* change VF counts under host VF drivers (never
					 * past a VFIO user), bind despite host routes,
					 * change VFs that vfctld leases */
};

/* What one PF of a config owns (not the struct itself). */
void conf_pf_free(struct vfctl_conf_pf *pf);

#endif
