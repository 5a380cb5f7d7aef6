// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl apply [--dry-run] [--config FILE] [--pf PF]...: make the host match
 * the declarative config (vfctl.conf(5)), or only the named PFs' part of it
 * (what the udev rule's vfctl-provision@.service runs for a PF that
 * appeared; a PF the config does not name is nothing to do). The config is read and checked whole,
 * against this host, before anything is written; then each change is
 * printed as applied, would apply (--dry-run) or failed with its error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "print.h"
#include "vfctl.h"

#define DEFAULT_CONFIG "/etc/vfctl/vfctl.conf"

static unsigned timeout_ms(const struct args *a)
{
	double ms = a->timeout_s * 1000.0 + 0.5;

	return a->timeout_s > 0 ? (ms < 1 ? 1 : (unsigned)ms) : 0;
}

static void print_change(const struct vfctl_change *c, bool dry_run)
{
	static const char *kinds[] = { "autoprobe", "numvfs", "vf_attr", "driver" };

	pr_obj_begin(NULL);
	pr_str("pf", "%s", c->pf);
	if (c->vf_index >= 0)
		pr_int("vf_index", " vf %lld", c->vf_index);
	else
		pr_null("vf_index", NULL);
	pr_str("address", c->vf_index >= 0 && c->dev[0] ? " (%s)" : NULL, c->dev[0] ? c->dev : NULL);
	pr_str("kind", NULL, kinds[c->kind]);
	pr_str("what", ": %s", c->what);
	pr_str("from", " %s", c->from);
	pr_str("to", " -> %s", c->to);
	pr_str("status", ": %s", dry_run ? "would apply" : c->err ? "failed" : "applied");
	if (c->err) {
		pr_str("errno", NULL, strerrorname_np(-c->err));
		pr_str("error", ": %s", c->error);
	} else {
		pr_null("errno", NULL);
		pr_null("error", NULL);
	}
	pr_text("\n");
	pr_obj_end();
}

static void free_absent(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int cmd_apply(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	const char *file = a->config ? a->config : DEFAULT_CONFIG;
	struct vfctl_config *cfg = NULL;
	struct vfctl_plan *plan = NULL;
	size_t failed = 0, n_other = 0;
	int r, rc = EXIT_OK;
	bool found[a->n_pfs ? a->n_pfs : 1];
	char **absent = NULL;
	size_t n_absent = 0;

	if (a->argc > 0) {
		fprintf(stderr, "vfctl apply: unexpected argument '%s'; the config is given with "
			"--config FILE\n", a->argv[0]);
		return EXIT_USAGE;
	}
	/* Rejected whole, before anything is touched. */
	r = vfctl_config_load(ctx, file, &cfg);
	if (r >= 0 && a->n_pfs)
		r = vfctl_config_select(ctx, cfg, host, a->pfs, a->n_pfs, found);
	if (r >= 0 && a->skip_absent)
		r = vfctl_config_drop_absent(ctx, cfg, host, &absent, &n_absent);
	if (r >= 0)
		r = vfctl_plan_make(ctx, cfg, host, &plan);
	if (r < 0) {
		fprintf(stderr, "vfctl: apply: %s\n", vfctl_ctx_error(ctx));
		free_absent(absent, n_absent);
		vfctl_config_free(cfg);
		return r;
	}
	if (!a->dry_run && plan->n) {
		vfctl_plan_free(plan);
		plan = NULL;
		r = vfctl_apply(ctx, cfg, a->force ? VFCTL_APPLY_FORCE : 0, timeout_ms(a), &plan);
		progress_end();
		if (r < 0 && !plan) {
			fprintf(stderr, "vfctl: apply: %s\n", vfctl_ctx_error(ctx));
			free_absent(absent, n_absent);
			vfctl_config_free(cfg);
			return r;
		}
	}
	pr_obj_begin(NULL);
	pr_str("config", NULL, file);
	pr_bool("dry_run", NULL, a->dry_run);
	if (a->n_pfs) {
		pr_arr_begin("not_in_config");
		for (size_t j = 0; j < a->n_pfs; j++) {
			struct vfctl_func *f;

			if (found[j] || vfctl_host_find(ctx, host, a->pfs[j], &f) < 0)
				continue;
			pr_str(NULL, "vfctl apply: %s", f->addr);
			pr_text(" is not in %s: nothing to do\n", file);
			n_other++;
		}
		pr_arr_end();
	}
	if (a->skip_absent) {
		/* said, not failed: the hotplug unit does such a PF when it binds */
		pr_arr_begin("skipped");
		for (size_t i = 0; i < n_absent; i++) {
			pr_str(NULL, "vfctl apply: %s", absent[i]);
			pr_text(": skipped\n");
		}
		pr_arr_end();
	}
	pr_arr_begin("changes");
	for (size_t i = 0; i < plan->n; i++) {
		print_change(&plan->changes[i], a->dry_run);
		if (plan->changes[i].err && !failed++)
			rc = plan->changes[i].err;	/* the exit status of the first failure */
	}
	pr_arr_end();
	pr_uint("n_changes", NULL, plan->n);
	pr_uint("n_failed", NULL, failed);
	if (!plan->n && n_other == a->n_pfs && a->n_pfs)
		;	/* none of the PFs is in the config: said above */
	else if (!plan->n)
		pr_text("no changes: the host matches %s\n", file);
	else if (a->dry_run)
		pr_text("%zu change%s would be made (dry run: nothing written)\n", plan->n,
			plan->n == 1 ? "" : "s");
	else
		pr_text("%zu change%s applied, %zu failed\n", plan->n - failed,
			plan->n - failed == 1 ? "" : "s", failed);
	pr_obj_end();
	if (failed) {
		fprintf(stderr, "vfctl: apply: %zu of %zu changes failed; first: %s\n", failed,
			plan->n, vfctl_ctx_error(ctx));
	}
	free_absent(absent, n_absent);
	vfctl_plan_free(plan);
	vfctl_config_free(cfg);
	return rc;
}
