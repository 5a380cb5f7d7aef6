// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl: a thin front-end over libvfctl. This file only dispatches: the
 * command line is parsed by options.c against the table in commands.c,
 * the environment is read here and handed to the library, and the
 * command runs on the scanned host (or without one: vfctld requests).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "env.h"
#include "print.h"
#include "vfctl.h"

static int run(const struct cli_cmd *c, struct vfctl_ctx *ctx, struct vfctl_host *host,
	       const struct args *a)
{
	int ret;

	pr_init(a->json);
	ret = cli_exit_status(c->fn(ctx, host, a));
	progress_end();
	if (pr_finish() < 0 && ret == EXIT_OK) {
		fprintf(stderr, "vfctl: writing output: %s\n", strerror(errno));
		ret = EXIT_ERR;
	}
	return ret;
}

int main(int argc, char **argv)
{
	const char *pfs[argc > 0 ? argc : 1];	/* every --pf fits: argc bounds them */
	char *args[argc > 0 ? argc : 1];
	struct args a = { .numa = -1, .leased = -1, .pfs = pfs, .argv = args };
	const struct cli_cmd *c = NULL;
	struct vfctl_ctx *ctx = NULL;
	struct vfctl_host *host = NULL;
	char errbuf[512] = "";
	int ret, r;

	ret = cli_parse(argc, argv, &a, &c);
	if (ret != CLI_RUN)
		return ret;
	/* The library reads no environment: what the user set comes from here. */
	a.sysfs_root = vfctl_env_or(a.sysfs_root, "VFCTL_SYSFS_ROOT");
	a.dev_root = vfctl_env_or(a.dev_root, "VFCTL_DEV_ROOT");
	a.run_dir = vfctl_env_or(a.run_dir, "VFCTL_RUN_DIR");
	a.socket = vfctl_env_or(a.socket, "VFCTLD_SOCKET");
	progress_init(a.verbosity);
	if (c->no_host)
		return run(c, NULL, NULL, &a);

	r = vfctl_ctx_new(&ctx, &(struct vfctl_opts){ .size = sizeof(struct vfctl_opts),
						       .sysfs_root = a.sysfs_root,
						       .dev_root = a.dev_root,
						       .run_dir = a.run_dir,
						       .errbuf = errbuf, .errlen = sizeof(errbuf),
						       .lock_timeout_ms = vfctl_env_lock_timeout_ms(),
						       .progress = progress_lib });
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", errbuf[0] ? errbuf : strerror(-r));
		return cli_exit_status(r);
	}
	r = c->no_scan ? 0 : vfctl_host_scan(ctx, VFCTL_SCAN_NETLINK |
						 /* list shows the others with --all only */
						 (c->fn == cmd_list && !a.all ? VFCTL_SCAN_SRIOV_ONLY : 0),
					     &host);
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", vfctl_ctx_error(ctx));
		ret = cli_exit_status(r);
	} else {
		ret = run(c, ctx, host, &a);
	}
	vfctl_host_free(host);
	vfctl_ctx_free(ctx);
	return ret;
}
