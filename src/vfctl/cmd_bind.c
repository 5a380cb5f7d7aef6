// SPDX-License-Identifier: GPL-2.0-or-later
/* vfctl bind / unbind / restore */
#include <errno.h>
#include <stdio.h>
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

static int change(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a, enum op op)
{
	const char *driver = op == OP_BIND && a->argc == 2 ? a->argv[1] : "vfio-pci";
	unsigned timeout_ms = (unsigned)(a->timeout_s * 1000);
	/* the operator names the driver: bind and restore load it if need be */
	unsigned flags = VFCTL_BIND_MODPROBE | (a->force ? VFCTL_BIND_FORCE : 0);
	char was[64] = "", addr[VFCTL_ADDR_LEN];
	struct vfctl_func *f;
	int r;

	/* A netdev name goes with its driver: the address from here on. */
	r = vfctl_host_find(ctx, host, a->argv[0], &f);
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

static int run(struct vfctl_ctx *ctx, const struct args *a, enum op op)
{
	static const char *names[] = { "bind", "unbind", "restore" };
	/* restore reads the VF's settings fresh where it changes them and
	 * after: netlink before it would be read for nothing */
	unsigned scan = VFCTL_SCAN_NO_NAMES | (op == OP_RESTORE ? 0 : VFCTL_SCAN_NETLINK);
	struct vfctl_host *host;
	int r;

	if (a->argc < 1 || a->argc > (op == OP_BIND ? 2 : 1)) {
		fprintf(stderr, "vfctl %s: expected %s\n", names[op],
			op == OP_BIND ? "DEV [DRIVER] (DRIVER defaults to vfio-pci)" : "DEV");
		return EXIT_USAGE;
	}
	/* The device, its PF and its IOMMU group: not the host's every
	 * function, which costs more than the change itself. */
	r = vfctl_host_scan_dev(ctx, a->argv[0], scan, &host);
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", vfctl_ctx_error(ctx));
		return r;
	}
	r = change(ctx, host, a, op);
	vfctl_host_free(host);
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
