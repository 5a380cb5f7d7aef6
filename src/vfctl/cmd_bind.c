// SPDX-License-Identifier: GPL-2.0-or-later
/* vfctl bind / unbind / restore */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"

enum op { OP_BIND, OP_UNBIND, OP_RESTORE };

/* After the change: what the device is bound to now, as the library read
 * it back into the host after the change (no second scan). */
static int report(struct vfctl_host *h, struct vfctl_func *f, const char *was, enum op op)
{
	static const char *verbs[] = { "bound to", "unbound from", "restored to" };

	pr_obj_begin(NULL);
	pr_str("address", "%s: ", f->addr);
	pr_text("%s ", verbs[op]);
	pr_str("driver", op == OP_UNBIND ? NULL : "%s", f->driver ? f->driver : "no driver");
	if (!f->driver)
		pr_null("driver", NULL);
	pr_str("previous_driver", op == OP_UNBIND ? "%s" : " (was %s)", was[0] ? was : "none");
	if (!was[0])
		pr_null("previous_driver", NULL);
	if (f->iommu_group >= 0) {
		struct vfctl_group *g = vfctl_host_group(h, f->iommu_group);

		pr_int("iommu_group", ", iommu group %lld", f->iommu_group);
		if (g) {
			pr_bool("group_viable", NULL, g->viable);
			pr_text(g->viable ? " (viable)" : " (not viable)");
		}
	} else {
		pr_null("iommu_group", NULL);
	}
	if (f->kind == VFCTL_FUNC_VF && f->config.valid) {
		pr_str("mac", ", mac %s", f->config.mac);
		pr_uint("vlan", f->config.vlan ? ", vlan %llu" : NULL, f->config.vlan);
	}
	pr_text("\n");
	pr_obj_end();
	return EXIT_OK;
}

static int change(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *dev,
		  const char *driver, const struct args *a, enum op op)
{
	unsigned timeout_ms = (unsigned)(a->timeout_s * 1000);
	/* the operator names the driver: bind and restore load it if need be */
	unsigned flags = VFCTL_BIND_MODPROBE | (a->force ? VFCTL_BIND_FORCE : 0);
	char was[64] = "", addr[VFCTL_ADDR_LEN];
	struct vfctl_func *f;
	int r;

	/* A netdev name goes with its driver: the address from here on. */
	r = vfctl_host_find(ctx, host, dev, &f);
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", vfctl_ctx_error(ctx));
		return r;
	}
	memcpy(addr, f->addr, sizeof(addr));
	if (f->driver)
		snprintf(was, sizeof(was), "%s", f->driver);

	switch (op) {
	case OP_BIND:
		r = vfctl_bind(ctx, host, addr, driver, flags, timeout_ms);
		break;
	case OP_UNBIND:
		r = vfctl_unbind(ctx, host, addr, flags, timeout_ms);
		break;
	default:
		r = vfctl_restore(ctx, host, addr, flags, timeout_ms);
		break;
	}
	if (r == -EALREADY) {	/* already so: exit status 0, and the state as after a change */
		if (a->verbosity >= 0)
			fprintf(stderr, "vfctl: nothing to do: %s\n", vfctl_ctx_error(ctx));
	} else if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", vfctl_ctx_error(ctx));
		return r;
	}
	return report(host, f, was, op);
}

/* Several DEVs of bind: a PCI address or PF:INDEX is a device, a name
 * last is the DRIVER (one DEV may be a netdev name: "bind eth2 igbvf"). */
static bool is_dev_syntax(const char *s)
{
	char addr[VFCTL_ADDR_LEN];
	const char *colon = strrchr(s, ':');

	return vfctl_addr_parse(s, addr) == 0 ||
	       (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1));
}

/* True when an earlier change of this command (changed[0..n)) touched a
 * function of host: it is read again before its own change. */
static bool host_touched(const struct vfctl_host *host, char (*changed)[VFCTL_ADDR_LEN], int n)
{
	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < host->n_funcs; j++)
			if (!strcmp(host->funcs[j]->addr, changed[i]))
				return true;
	return false;
}

static int run(struct vfctl_ctx *ctx, const struct args *a, enum op op)
{
	static const char *names[] = { "bind", "unbind", "restore" };
	/* restore reads the VF's settings fresh where it changes them and
	 * after: netlink before it would be read for nothing */
	unsigned scan = VFCTL_SCAN_NO_NAMES | (op == OP_RESTORE ? 0 : VFCTL_SCAN_NETLINK);
	const char *driver = "vfio-pci";
	struct vfctl_host **hosts = NULL;
	char (*changed)[VFCTL_ADDR_LEN] = NULL;
	int n = a->argc, r = 0, done = 0;

	if (op == OP_BIND && n >= 2 && !is_dev_syntax(a->argv[n - 1]))
		driver = a->argv[--n];
	if (n < 1) {
		fprintf(stderr, "vfctl %s: expected %s\n", names[op],
			op == OP_BIND ? "DEV... [DRIVER] (DRIVER defaults to vfio-pci)" : "DEV...");
		return EXIT_USAGE;
	}
	hosts = calloc((size_t)n, sizeof(*hosts));
	changed = calloc((size_t)n, sizeof(*changed));
	if (!hosts || !changed) {
		fprintf(stderr, "vfctl %s: out of memory\n", names[op]);
		r = -ENOMEM;
		goto out;
	}
	/* Every DEV found before anything changes: a wrong one changes
	 * nothing. Each read is the device, its PF and its IOMMU group, not
	 * the host's every function, which costs more than the change. */
	for (int i = 0; i < n; i++) {
		struct vfctl_func *f;

		r = vfctl_host_scan_dev(ctx, a->argv[i], scan, &hosts[i]);
		if (r >= 0)
			r = vfctl_host_find(ctx, hosts[i], a->argv[i], &f);
		if (r < 0) {
			fprintf(stderr, "vfctl: %s%s\n", vfctl_ctx_error(ctx),
				i ? "; nothing was changed" : "");
			goto out;
		}
		memcpy(changed[i], f->addr, sizeof(changed[i]));
		for (int j = 0; j < i; j++)
			if (!strcmp(changed[j], changed[i])) {
				fprintf(stderr, "vfctl %s: %s is named twice (%s, %s); nothing was "
					"changed\n", names[op], changed[i], a->argv[j], a->argv[i]);
				r = EXIT_USAGE;
				goto out;
			}
	}
	if (n > 1) {	/* one document: the functions afterwards, in order */
		pr_obj_begin(NULL);
		pr_arr_begin("functions");
	}
	for (; done < n; done++) {
		if (host_touched(hosts[done], changed, done)) {
			vfctl_host_free(hosts[done]);
			hosts[done] = NULL;
			r = vfctl_host_scan_dev(ctx, a->argv[done], scan, &hosts[done]);
			if (r < 0) {
				fprintf(stderr, "vfctl: %s\n", vfctl_ctx_error(ctx));
				break;
			}
		}
		r = change(ctx, hosts[done], a->argv[done], driver, a, op);
		if (r < 0)
			break;
	}
	if (n > 1) {
		pr_arr_end();
		pr_obj_end();
	}
	if (r < 0 && done + 1 < n)
		fprintf(stderr, "vfctl %s: stopped at %s: the %d after it (%s%s) not changed\n",
			names[op], changed[done], n - done - 1, changed[done + 1],
			n - done - 1 > 1 ? ", ..." : "");
out:
	for (int i = 0; hosts && i < n; i++)
		vfctl_host_free(hosts[i]);
	free(hosts);
	free(changed);
	return r;
}

int cmd_bind(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	(void)host;	/* none (no_scan): run() reads the device's part */
	return run(ctx, a, OP_BIND);
}

int cmd_unbind(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	(void)host;	/* none (no_scan) */
	return run(ctx, a, OP_UNBIND);
}

int cmd_restore(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	(void)host;	/* none (no_scan) */
	return run(ctx, a, OP_RESTORE);
}
