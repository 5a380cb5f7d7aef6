// SPDX-License-Identifier: GPL-2.0-or-later
/* vfctl create / destroy: the VF count of a PF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "vfctl.h"

/* A VF count: decimal digits only (no sign, no spaces, no 0x), at most 65535
 * as sriov_numvfs takes a u16. */
static int parse_count(const char *s, unsigned *ret)
{
	unsigned long v = 0;
	size_t len = strlen(s);

	if (len == 0 || len > 5 || strspn(s, "0123456789") != len)
		return -1;
	for (const char *p = s; *p; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (v > 65535)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

static unsigned timeout_ms(const struct args *a)
{
	double ms = a->timeout_s * 1000.0 + 0.5;

	return a->timeout_s > 0 ? (ms < 1 ? 1 : (unsigned)ms) : 0;
}

/* The line both paths print: what changed, the times, autoprobe. */
static void print_change(const char *addr, const struct vfctl_numvfs_report *rep,
			 int autoprobe, unsigned flags)
{
	bool through = rep->before > 0 && rep->after > 0 && rep->before != rep->after;

	pr_str("pf", "%s: ", addr);
	pr_int("before", "%lld", rep->before);
	pr_int("after", " -> %lld VFs", rep->after);
	pr_bool("changed", NULL, rep->before != rep->after);
	pr_bool("through_zero", NULL, through);
	pr_text(through ? " (through 0)" : "");
	pr_text(rep->before == rep->after ? " (unchanged, nothing written)" : "");
	pr_uint("write_ms", ", write %llu ms", rep->write_ms);
	pr_uint("settle_ms", ", settle %llu ms", rep->settle_ms);
	if (autoprobe < 0)
		pr_null("drivers_autoprobe", NULL);
	else
		pr_bool("drivers_autoprobe", ", autoprobe %s", autoprobe);
	pr_bool("no_autoprobe", (flags & VFCTL_NUMVFS_NO_AUTOPROBE) && rep->after > 0 &&
		rep->before != rep->after ? " (off while creating)" : NULL,
		flags & VFCTL_NUMVFS_NO_AUTOPROBE);
	pr_text("\n");
}

static int numvfs_run(struct vfctl_ctx *ctx, const char *cmd, const char *name, unsigned n,
		      unsigned flags, const struct args *a)
{
	struct vfctl_numvfs_report rep = { .size = sizeof(rep) };
	struct vfctl_host *h = NULL;
	struct vfctl_func *pf = NULL;
	char *changed = NULL;
	int r;

	r = vfctl_pf_set_numvfs(ctx, name, n, flags, timeout_ms(a), &rep);
	progress_end();
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", vfctl_ctx_error(ctx));
		return r;
	}
	/* No VFs to print: the library's report says it all (a scan of the
	 * host would cost as much as the write itself). */
	if (n == 0) {
		pr_obj_begin(NULL);
		print_change(rep.pf, &rep, rep.autoprobe, flags);
		pr_arr_begin("vfs");
		pr_arr_end();
		pr_arr_begin("warnings");
		pr_arr_end();
		pr_obj_end();
		return EXIT_OK;
	}
	/* What is there now, as list prints it but without names (looking
	 * them up cost more than the rest of the scan): the command's one scan. */
	r = vfctl_host_scan(ctx, VFCTL_SCAN_NETLINK | VFCTL_SCAN_NO_NAMES, &h);
	if (r >= 0)
		r = vfctl_host_find(ctx, h, name, &pf);
	if (r < 0) {
		fprintf(stderr, "vfctl: %s: done, but reading the result: %s\n", cmd,
			vfctl_ctx_error(ctx));
		vfctl_host_free(h);
		return EXIT_ERR;
	}

	pr_obj_begin(NULL);
	print_change(pf->addr, &rep, pf->autoprobe, flags);
	print_vfs(pf, "");
	/* The PF's lock is gone by now: say so if another command was quicker. */
	if (pf->numvfs != rep.after &&
	    asprintf(&changed, "%s now has %d VFs, not %d: another command changed it since; "
		     "'vfctl show %s' shows it", pf->addr, pf->numvfs, rep.after, pf->addr) < 0)
		changed = NULL;
	pr_arr_begin("warnings");
	for (size_t i = 0; i < h->n_warnings + (changed != NULL); i++) {
		const char *w = i < h->n_warnings ? h->warnings[i] : changed;

		pr_str(NULL, NULL, w);
		fprintf(stderr, "vfctl: warning: %s\n", w);
	}
	pr_arr_end();
	pr_obj_end();
	free(changed);
	vfctl_host_free(h);
	return EXIT_OK;
}

int cmd_create(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	unsigned n, flags = 0;

	(void)h;	/* none (no_scan): the library reads the PF under its lock */
	if (a->argc != 2) {
		fprintf(stderr, "vfctl create: expected a PF (PCI address or netdev name) and a VF "
			"count: vfctl create PF N\n");
		return EXIT_USAGE;
	}
	if (parse_count(a->argv[1], &n) < 0) {
		fprintf(stderr, "vfctl create: '%s' is not a VF count: give a whole number from 0 "
			"to the PF's sriov_totalvfs ('vfctl show %s' shows it)\n", a->argv[1],
			a->argv[0]);
		return EXIT_USAGE;
	}
	if (a->no_autoprobe)
		flags |= VFCTL_NUMVFS_NO_AUTOPROBE;
	if (a->force)
		flags |= VFCTL_NUMVFS_FORCE;
	return numvfs_run(ctx, "create", a->argv[0], n, flags, a);
}

int cmd_destroy(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	(void)h;	/* none (no_scan) */
	if (a->argc != 1) {
		fprintf(stderr, "vfctl destroy: expected one PF (PCI address or netdev name)\n");
		return EXIT_USAGE;
	}
	/* --no-autoprobe is refused with its reason (commands.c); --force is
	 * for VFs that vfctld leases */
	return numvfs_run(ctx, "destroy", a->argv[0], 0, a->force ? VFCTL_NUMVFS_FORCE : 0, a);
}
