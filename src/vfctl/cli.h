/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the vfctl command files share. */
#ifndef VFCTL_CLI_H
#define VFCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "vfctl.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

struct args {
	bool json, all;
	bool no_autoprobe, force;
	bool dry_run;		/* apply */
	bool skip_absent;	/* apply: config PFs not on the host are skipped */
	const char *config;	/* apply: NULL for the default */
	const char **pfs;	/* apply --pf: only these PFs */
	size_t n_pfs;
	double timeout_s;	/* 0: the command's default */
	const char *sysfs_root, *dev_root, *run_dir;
	/* alloc / release / leases / pools: vfctld requests (alloc --pf: pfs[0]) */
	const char *pool, *owner, *socket;
	int numa, pid;		/* -1 / 0: not given */
	int argc;
	char **argv;		/* positionals after the command */
};

/* A command: gets the scanned host; returns an exit code. Errors go to
 * stderr as "vfctl: <vfctl_ctx_error()>". */
typedef int (*cmd_fn)(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

int cmd_bind(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_unbind(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_restore(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
/* vfctl set (cli/cmd_set.c): the attributes as given, in their order. */
struct set_req {
	struct vfctl_vf_settings s;
	enum vfctl_vf_attr order[_VFCTL_VF_ATTR_MAX];
	unsigned n;
};
/* ATTRIBUTE VALUE words: EXIT_OK, or EXIT_USAGE / EXIT_ERR with err set. */
int set_parse_attrs(int argc, char *const *argv, struct set_req *req, char *err, size_t len);
/* VF (address or netdev) or PF:INDEX: 0, or -errno with err set. */
int set_find_target(struct vfctl_ctx *ctx, const struct vfctl_host *h, const char *arg,
		    struct vfctl_func **ret_pf, unsigned *ret_index, char *err, size_t len);
int cmd_set(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* The shared printers (cli/vfctl.c). */
void print_host(const struct vfctl_host *h);
void print_func(const struct vfctl_func *f, const char *indent);
void print_warnings(const struct vfctl_host *h);

/* cli/cmd_sriov.c */
int cmd_create(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_destroy(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* cli/cmd_lease.c: requests to vfctld; they get no host (NULL) */
int cmd_alloc(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_release(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_leases(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_pools(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* cli/cmd_apply.c */
int cmd_apply(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

#endif
