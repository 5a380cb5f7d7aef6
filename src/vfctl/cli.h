/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the vfctl command files share. */
#ifndef VFCTL_CLI_H
#define VFCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "vfctl.h"

/* vfctl's exit statuses, the same for every command (vfctl(1) EXIT STATUS).
 * A command returns one of these or a negative errno, which run() in
 * vfctl.c turns into one through cli_exit_status(). */
enum {
	EXIT_OK = 0,		/* done, or nothing to do (already so) */
	EXIT_ERR = 1,		/* any other failure */
	EXIT_USAGE = 2,		/* the command line is wrong */
	EXIT_NOT_FOUND = 3,	/* no such device, pool, lease, group or saved state */
	EXIT_BUSY = 4,		/* held: a VFIO user, a lease, host routes, a driver in use */
	EXIT_REFUSED = 5,	/* the kernel, a driver or vfctld refused: permission, not
				 * supported, out of range */
	EXIT_NO_FREE = 6,	/* the pool has no free VF */
	EXIT_UNREACHABLE = 7,	/* vfctld did not answer */
	EXIT_WARN = 8,		/* doctor: the worst check is a WARN */
};

/* A command's return (an exit status, or a negative errno) as an exit status. */
int cli_exit_status(int r);

/* What the command line said, global options and the command's own. */
struct args {
	bool json;
	int verbosity;		/* -1 -q, 0, 1 -v: progress and notes on stderr */
	const char *sysfs_root, *dev_root, *run_dir;	/* the option, else the environment */
	bool all;		/* list */
	bool brief;		/* list: one line per function */
	const char *driver;	/* list, groups: only functions on it ("vfio", "host", "none") */
	int leased;		/* list: 1 --leased, 0 --free, -1 neither */
	bool no_autoprobe;	/* create */
	bool force;		/* bind, unbind, restore, set, create, destroy, apply, release */
	bool dry_run;		/* apply */
	bool skip_absent;	/* apply: config PFs not on the host are skipped */
	const char *config;	/* apply: NULL for the default */
	const char **pfs;	/* apply --pf: only these PFs; alloc --pf: pfs[0] */
	size_t n_pfs;
	double timeout_s;	/* 0: the command's default */
	/* alloc / release / leases / pools: vfctld requests */
	const char *pool, *owner, *socket;
	const char *lease;	/* exec */
	int numa, pid;		/* -1 / 0: not given */
	unsigned ttl;		/* --ttl in seconds, 0 not given */
	bool interface;		/* xml: <interface type='hostdev'> */
	bool iommufd;		/* qemu-args: the iommufd fd form */
	int argc;
	char **argv;		/* the command's positional arguments */
};

/* A command: gets the scanned host; returns an exit code or the negative
 * errno of the failure. Errors go to stderr as "vfctl: <vfctl_ctx_error()>". */
typedef int (*cmd_fn)(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* Every option some command takes (options.c has their names). The global
 * ones every command takes, before or after its name; a command takes
 * only the others it lists. */
enum cli_opt {
	OPT_JSON = 'j',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_ALL = 'a',
	OPT_BRIEF = 'b',
	OPT_QUIET = 'q',
	OPT_VERBOSE = 'v',
	OPT_SYSFS_ROOT = 256,
	OPT_DEV_ROOT,
	OPT_RUN_DIR,
	OPT_NO_AUTOPROBE,
	OPT_FORCE,
	OPT_TIMEOUT,
	OPT_DRY_RUN,
	OPT_CONFIG,
	OPT_SKIP_ABSENT,
	OPT_PF,
	OPT_POOL,
	OPT_NUMA,
	OPT_OWNER,
	OPT_PID,
	OPT_TTL,
	OPT_SOCKET,
	OPT_LEASE,
	OPT_INTERFACE,
	OPT_IOMMUFD,
	OPT_DRIVER,
	OPT_LEASED,
	OPT_FREE,
};

#define CLI_MAX_OPTS 8

/* One of a command's own options, with what it means for that command
 * (its line in the command's usage; '\n' starts an indented line). */
struct cli_cmd_opt {
	int id;			/* enum cli_opt; 0 ends the list */
	const char *doc;
};

/* An option of other commands that this one refuses with its own reason
 * ("vfctl NAME: " is put before it) rather than the generic refusal. */
struct cli_refusal {
	int id;
	const char *why;
};

struct cli_cmd {
	const char *name;
	cmd_fn fn;
	bool no_host;		/* no library context, no scan: vfctld requests, help */
	bool no_scan;		/* a context but no scan first: the command scans itself */
	bool args_end_opts;	/* options end at the first argument (exec: CMD's are CMD's) */
	const char *synopsis;	/* after the name in its usage: "DEV [DRIVER]" */
	const char *summary;	/* its line in the overview */
	const char *help;	/* its usage: what it does, its arguments */
	struct cli_cmd_opt opts[CLI_MAX_OPTS];
	struct cli_refusal refuse[2];
};

/* commands.c: the table, in the overview's order. */
extern const struct cli_cmd cli_cmds[];
extern const size_t cli_n_cmds;
const struct cli_cmd *cli_cmd_find(const char *name);

/* options.c */
enum { CLI_RUN = -1 };
/* Parse the whole command line into a (a->pfs and a->argv must have room
 * for argc entries): the global options before the command word, its
 * name, then its own options and the global ones wherever they are. An
 * option before the name that is not global goes to the command, so
 * 'vfctl --force create PF N' is 'vfctl create --force PF N'. Returns
 * CLI_RUN with *ret the command to run, or the exit status after --help,
 * --version or a usage error (one line on stderr naming the command). */
int cli_parse(int argc, char **argv, struct args *a, const struct cli_cmd **ret);
/* The usage of c, or the overview of every command (c NULL). */
void cli_usage(const struct cli_cmd *c, FILE *out);

/* progress.c: long operations' progress on stderr (a terminal, or -v) */
void progress_init(int verbosity);
/* Erase the progress line: before a command prints its result or error. */
void progress_end(void);
/* vfctl_opts.progress */
void progress_lib(void *userdata, const char *dev, const char *event, unsigned done,
		  unsigned total);

/* cmd_exec.c */
int cmd_exec(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* cmd_bind.c */
int cmd_bind(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_unbind(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_restore(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
/* vfctl set (cmd_set.c): the attributes as given, in their order. */
struct set_req {
	struct vfctl_vf_settings s;
	enum vfctl_vf_attr order[_VFCTL_VF_ATTR_MAX];
	unsigned n;
};
/* A message into err (len bytes) for the caller to print; returns rc. */
int set_err(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* ATTRIBUTE VALUE words: EXIT_OK, or EXIT_USAGE / EXIT_ERR with err set. */
int set_parse_attrs(int argc, char *const *argv, struct set_req *req, char *err, size_t len);
/* Any function by address or netdev, or a VF as PF:INDEX: 0, or -errno
 * with err set. */
int cli_find_func(struct vfctl_ctx *ctx, const struct vfctl_host *h, const char *arg,
		  struct vfctl_func **ret, char *err, size_t len);
/* VF (address or netdev) or PF:INDEX: 0, or -errno with err set. */
int set_find_target(struct vfctl_ctx *ctx, const struct vfctl_host *h, const char *arg,
		    struct vfctl_func **ret_pf, unsigned *ret_index, char *err, size_t len);
int cmd_set(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* cmd_topo.c: list, show, groups and the shared printers. */
int cmd_list(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_show(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_groups(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
void print_host(const struct vfctl_host *h);
void print_func(const struct vfctl_func *f, const char *indent);
/* The "vfs" array of a PF, each VF as in its PF's tree (the PF not named) */
void print_vfs(const struct vfctl_func *pf, const char *indent);
void print_warnings(const struct vfctl_host *h);

/* inuse.c: who uses a function (list, show): "holders" (VFIO group node),
 * "lease" (vfctld's) and "saved_state" (the first bind's record), JSON and
 * text lines under indent */
void print_inuse(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *indent);
bool inuse_leased(struct vfctl_ctx *ctx, const struct vfctl_func *f);
void inuse_free(void);
/* false: "holders" is null, not looked at (list on a tree that is not the
 * live /sys: one /proc scan per VFIO function is too dear there) */
extern bool inuse_holders;

/* cmd_sriov.c */
int cmd_create(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_destroy(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* cmd_lease.c: requests to vfctld; they get no host (NULL) */
int cmd_alloc(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_release(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_leases(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_pools(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* cmd_lease.c: the connection to vfctld (a->socket), or NULL with the error printed */
struct vfctl_client *connect_daemon(const struct args *a);

/* cmd_vmm.c: what a VMM needs for a function or a lease (xml, qemu-args) */
int cmd_xml(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_qemu_args(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
/* libvirt's element for f: <hostdev>, or with interface <interface
 * type='hostdev'> with the MAC and VLAN the PF reports for it. 0, or
 * -errno with err set (buf untouched). */
int vmm_xml(const struct vfctl_func *f, bool interface, char *buf, size_t size, char *err,
	    size_t errlen);

/* cmd_doctor.c: the host's readiness for VFIO and SR-IOV */
int cmd_doctor(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* cmd_export.c: for fleet tools: Prometheus metrics, a CDI spec */
int cmd_metrics(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);
int cmd_cdi(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

/* cmd_apply.c */
int cmd_apply(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

#endif
