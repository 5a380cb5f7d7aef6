// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl list / show / groups: the topology as scanned, through the one
 * printer; print_host, print_func and print_warnings are shared with the
 * commands that print what they changed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "vfctl.h"
/* An on/off setting a driver may not report: a boolean, null unknown (the
 * text "on"/"off", as ip link shows it). */
static void pr_tri(const char *key, const char *fmt, int v)
{
	if (v == VFCTL_UNKNOWN)
		pr_null(key, NULL);
	else
		pr_onoff(key, fmt, v == VFCTL_ON);
}

static void pr_hex4(const char *key, const char *fmt, unsigned v)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04x", v);
	pr_str(key, fmt, buf);
}

static void pr_opt_int(const char *key, const char *fmt, int v)
{
	if (v < 0)
		pr_null(key, NULL);
	else
		pr_int(key, fmt, v);
}

void print_host(const struct vfctl_host *h)
{
	pr_obj_begin("iommu");
	pr_bool("present", "IOMMU: %s", h->iommu);
	pr_arr_begin("units");
	for (size_t i = 0; i < h->n_iommu_units; i++)
		pr_str(NULL, i ? ",%s" : " (%s", h->iommu_units[i]);
	pr_arr_end();
	pr_text(h->n_iommu_units ? ")" : "");
	pr_bool("groups", NULL, h->iommu_groups);
	if (!h->iommu)
		pr_str("hint", " - no IOMMU unit in /sys/class/iommu: %s",
		       "enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on "
		       "(Intel) or amd_iommu=on (AMD); VFIO passthrough needs it");
	else
		pr_null("hint", NULL);
	pr_obj_end();
	pr_text("\n");

	pr_obj_begin("vfio");
	pr_bool("container", "VFIO: /dev/vfio/vfio %s", h->vfio_container);
	pr_bool("module", ", vfio-pci module %s", h->vfio_module);
	pr_bool("iommufd", ", /dev/iommu %s", h->iommufd);
	pr_bool("cdev", ", device cdevs %s", h->vfio_cdev);
	if (!h->vfio_container)
		pr_str("hint", " - %s", "load vfio-pci ('modprobe vfio-pci') so /dev/vfio/vfio "
		       "exists; a kernel without CONFIG_VFIO cannot pass devices through");
	else
		pr_null("hint", NULL);
	pr_obj_end();
	pr_text("\n");
}

static void print_netdevs(const struct vfctl_func *f)
{
	pr_arr_begin("netdevs");
	for (size_t i = 0; i < f->n_netdevs; i++) {
		const struct vfctl_netdev *n = f->netdevs[i];

		pr_obj_begin(NULL);
		pr_str("name", i ? ", %s" : ", netdev %s", n->name);
		pr_opt_int("ifindex", NULL, n->ifindex);
		pr_str("operstate", " (%s", n->operstate[0] ? n->operstate : NULL);
		if (n->carrier == VFCTL_UNKNOWN)
			pr_null("carrier", NULL);
		else
			pr_bool("carrier", NULL, n->carrier == VFCTL_ON);
		if (n->speed < 0)
			pr_null("speed_mbps", NULL);
		else
			pr_int("speed_mbps", ", %lld Mb/s", n->speed);
		pr_text(")");
		pr_str("mac", NULL, n->mac[0] ? n->mac : NULL);
		pr_obj_end();
	}
	pr_arr_end();
}

static void print_vf_config(const struct vfctl_func *vf)
{
	const struct vfctl_vf_config *c = &vf->config;

	if (!c->valid) {
		pr_null("config", NULL);
		return;
	}
	pr_obj_begin("config");
	pr_str("mac", ", mac %s", c->mac[0] ? c->mac : NULL);
	pr_uint("vlan", ", vlan %llu", c->vlan);
	pr_uint("qos", c->qos ? " qos %llu" : NULL, c->qos);
	pr_str("vlan_proto", c->vlan_proto != 0x8100 ? " proto %s" : NULL,
	       vfctl_vlan_proto_str(c->vlan_proto));
	if (c->spoofchk == VFCTL_UNKNOWN)
		pr_null("spoofchk", ", spoofchk -");
	else
		pr_tri("spoofchk", ", spoofchk %s", c->spoofchk);
	if (c->trust == VFCTL_UNKNOWN)
		pr_null("trust", ", trust -");
	else
		pr_tri("trust", ", trust %s", c->trust);
	pr_tri("query_rss", ", query-rss %s", c->query_rss);
	pr_uint("min_tx_rate", c->min_tx_rate ? ", min-tx-rate %llu" : NULL, c->min_tx_rate);
	pr_uint("max_tx_rate", c->max_tx_rate ? ", max-tx-rate %llu" : NULL, c->max_tx_rate);
	pr_str("link_state", c->link_state >= 0 ? ", link-state %s" : NULL,
	       vfctl_vf_link_state_str(c->link_state));
	pr_obj_end();
}

/* The fields every function has, one line of text. */
static void print_ident(const struct vfctl_func *f)
{
	static const char *kinds[] = { "other", "pf", "vf" };
	bool names;

	pr_str("address", "%s", f->addr);
	pr_str("kind", NULL, kinds[f->kind]);
	pr_hex4("vendor_id", " [%s", f->vendor);
	pr_hex4("device_id", ":%s]", f->device);
	pr_hex4("subsystem_vendor_id", NULL, f->subsys_vendor);
	pr_hex4("subsystem_device_id", NULL, f->subsys_device);
	{
		char cls[8];

		snprintf(cls, sizeof(cls), "%06x", f->class);
		pr_str("class", NULL, cls);
	}
	pr_str("class_name", NULL, f->class_name);
	/* none looked up (create's scan): no "- -" in the text */
	names = f->vendor_name || f->device_name;
	pr_str("vendor", names ? " %s" : NULL, f->vendor_name);
	pr_str("device", names ? " %s" : NULL, f->device_name);
}

static void print_attrs(const struct vfctl_func *f)
{
	pr_str("driver", "driver %s", f->driver ? f->driver : "(none)");
	if (!f->driver)
		pr_null("driver", NULL);
	pr_str("driver_override", f->driver_override ? " (override %s)" : NULL, f->driver_override);
	if (f->numa_node < 0)
		pr_null("numa_node", NULL);
	else
		pr_int("numa_node", ", numa %lld", f->numa_node);
	if (f->iommu_group < 0)
		pr_null("iommu_group", ", no iommu group");
	else
		pr_int("iommu_group", ", iommu group %lld", f->iommu_group);
	print_netdevs(f);
}

/* What list shows: the PFs and VFs named (none: all), on a driver, on a
 * NUMA node. NULL (every other command): everything. */
struct filter {
	struct vfctl_func **funcs;	/* PFs (whole tree) and VFs (alone) */
	size_t n_funcs;
	const char *driver;
	int numa;
	int leased;		/* 1 --leased, 0 --free: VFs vfctld leases or not; -1 any */
	struct vfctl_ctx *ctx;	/* where the leases are read */
};

static const struct filter *cur_filter;
/* list and show: who uses each function (inuse.c); NULL: not told */
static struct vfctl_ctx *inuse_ctx;
/* print_func of a VF inside its PF's tree: the PF is not named again */
static bool in_tree;

static bool driver_matches(const struct vfctl_func *f, const char *want)
{
	if (!strcmp(want, "vfio"))
		return f->driver && !strcmp(f->driver, "vfio-pci");
	if (!strcmp(want, "host"))
		return f->driver && strcmp(f->driver, "vfio-pci");
	if (!strcmp(want, "none"))
		return !f->driver;
	return f->driver && !strcmp(f->driver, want);
}

static bool named(const struct filter *flt, const struct vfctl_func *f)
{
	for (size_t i = 0; i < flt->n_funcs; i++)
		if (flt->funcs[i] == f)
			return true;
	return false;
}

/* f itself passes the filter (a VF: named itself or through its PF) */
static bool func_shown(const struct filter *flt, const struct vfctl_func *f)
{
	const struct vfctl_func *pf = f->kind == VFCTL_FUNC_VF ? f->pf : NULL;

	if (!flt)
		return true;
	if (flt->n_funcs && !named(flt, f) && !(pf && named(flt, pf)))
		return false;
	if (flt->numa >= 0 && f->numa_node != flt->numa)
		return false;
	if (flt->leased >= 0 && (f->kind != VFCTL_FUNC_VF ||
				 inuse_leased(flt->ctx, f) != (flt->leased == 1)))
		return false;
	return !flt->driver || driver_matches(f, flt->driver);
}

/* a PF heads a tree when it or one of its VFs is shown */
static bool pf_shown(const struct filter *flt, const struct vfctl_func *pf)
{
	if (func_shown(flt, pf))
		return true;
	for (size_t i = 0; i < pf->n_vfs; i++)
		if (pf->vfs[i] && func_shown(flt, pf->vfs[i]))
			return true;
	return false;
}

void print_vfs(const struct vfctl_func *pf, const char *indent)
{
	pr_arr_begin("vfs");
	in_tree = true;
	for (size_t i = 0; i < pf->n_vfs; i++)
		if (pf->vfs[i] && func_shown(cur_filter, pf->vfs[i]))
			print_func(pf->vfs[i], indent);
	in_tree = false;
	pr_arr_end();
}

static void print_sriov(const struct vfctl_func *pf, const char *indent)
{
	pr_obj_begin("sriov");
	pr_text("%s    sriov", indent);
	pr_opt_int("numvfs", " %lld", pf->numvfs);
	pr_opt_int("totalvfs", " of %lld VFs", pf->totalvfs);
	if (pf->autoprobe < 0)
		pr_null("drivers_autoprobe", NULL);
	else
		pr_bool("drivers_autoprobe", ", autoprobe %s", pf->autoprobe);
	pr_opt_int("vf_offset", ", vf offset %lld", pf->vf_offset);
	pr_opt_int("vf_stride", " stride %lld", pf->vf_stride);
	if (pf->vf_device)
		pr_hex4("vf_device_id", ", vf device %s", pf->vf_device);
	else
		pr_null("vf_device_id", NULL);
	pr_obj_end();
	if (pf->vf_config_error)
		pr_text("\n%s    vf settings: ", indent);
	pr_str("vf_config_error", pf->vf_config_error ? "%s" : NULL, pf->vf_config_error);
	pr_text("\n");

	print_vfs(pf, indent);
}

/* A software PF (netdevsim) and its VFs: no PCI identity, a VF no more
 * than its index and the PF driver's view of it. */
static bool is_soft(const struct vfctl_func *f)
{
	return f->size > offsetof(struct vfctl_func, bus) && f->bus && strcmp(f->bus, "pci");
}

static void print_soft_vf(const struct vfctl_func *vf, const char *indent)
{
	pr_obj_begin(NULL);
	pr_text("%s  vf ", indent);
	pr_int("vf_index", "%lld", vf->vf_index);
	pr_str("kind", NULL, "vf");
	pr_str("pf", in_tree ? NULL : " of %s", vf->pf ? vf->pf->addr : NULL);
	if (!vf->config.valid)
		pr_text(" (settings not read)");
	print_vf_config(vf);
	pr_text("\n");
	pr_obj_end();
}

static void print_soft_pf(const struct vfctl_func *pf, const char *indent)
{
	pr_obj_begin(NULL);
	pr_text("%s", indent);
	pr_str("name", "%s", pf->addr);
	pr_str("bus", " %s software PF (no PCI function)", pf->bus);
	pr_str("kind", NULL, "pf");
	pr_text("\n%s    ", indent);
	pr_str("driver", "driver %s", pf->driver ? pf->driver : "(none)");
	if (!pf->driver)
		pr_null("driver", NULL);
	print_netdevs(pf);
	pr_text("\n");
	print_sriov(pf, indent);
	pr_obj_end();
}

void print_func(const struct vfctl_func *f, const char *indent)
{
	if (is_soft(f)) {
		if (f->kind == VFCTL_FUNC_VF)
			print_soft_vf(f, indent);
		else
			print_soft_pf(f, indent);
		return;
	}

	pr_obj_begin(NULL);
	if (f->kind == VFCTL_FUNC_VF) {
		pr_text("%s  vf ", indent);
		pr_int("vf_index", in_tree ? "%lld  " : "%lld", f->vf_index);
		pr_str("pf", in_tree ? NULL : " of %s  ", f->pf ? f->pf->addr : NULL);
		print_ident(f);
		pr_text("\n%s        ", indent);
		print_attrs(f);
		print_vf_config(f);
		if (inuse_ctx) {
			char in[64];

			snprintf(in, sizeof(in), "%s        ", indent);
			print_inuse(inuse_ctx, f, in);
		}
		pr_text("\n");
	} else {
		pr_text("%s", indent);
		print_ident(f);
		pr_text("\n%s    ", indent);
		print_attrs(f);
		if (inuse_ctx) {
			char in[64];

			snprintf(in, sizeof(in), "%s    ", indent);
			print_inuse(inuse_ctx, f, in);
		}
		pr_text("\n");
		if (f->kind == VFCTL_FUNC_PF)
			print_sriov(f, indent);
	}
	pr_obj_end();
}

void print_warnings(const struct vfctl_host *h)
{
	pr_arr_begin("warnings");
	for (size_t i = 0; i < h->n_warnings; i++) {
		pr_str(NULL, NULL, h->warnings[i]);
		fprintf(stderr, "vfctl: warning: %s\n", h->warnings[i]);
	}
	pr_arr_end();
}

/* What list and groups open with: the root read and the host's IOMMU and
 * VFIO state (the top-level object stays open for the command's arrays). */
static void print_top(struct vfctl_ctx *ctx, const struct vfctl_host *h)
{
	pr_obj_begin(NULL);
	pr_str("sysfs_root", NULL, vfctl_ctx_sysfs_root(ctx));
	pr_obj_begin("host");
	print_host(h);
	pr_obj_end();
}

/* --brief: one line per function, ip -br style; in JSON a flat array of
 * the same facts under the same names as the full objects. A software PF
 * (netdevsim) has a name for an address, its VF is named PF:INDEX (as
 * show and set take it), neither has a group or NUMA node. */
static void print_brief(const struct vfctl_func *f)
{
	const struct vfctl_netdev *n = f->n_netdevs ? f->netdevs[0] : NULL;
	bool soft = f->bus && strcmp(f->bus, "pci"), vf = f->kind == VFCTL_FUNC_VF;
	const char *mac = vf && f->config.valid && f->config.mac[0] ? f->config.mac :
			  n && n->mac[0] ? n->mac : NULL;
	char kind[48], name[VFCTL_ADDR_LEN + 16];

	/* each line stands alone (grep), so a VF names its PF */
	if (vf)
		snprintf(kind, sizeof(kind), "vf %d of %s", f->vf_index,
			 f->pf ? f->pf->addr : "?");
	else if (soft)
		snprintf(kind, sizeof(kind), "pf (%s)", f->bus);
	else
		snprintf(kind, sizeof(kind), "%s", f->kind == VFCTL_FUNC_PF ? "pf" : "-");
	pr_obj_begin(NULL);
	if (soft) {
		if (vf && f->pf)
			snprintf(name, sizeof(name), "%s:%d", f->pf->addr, f->vf_index);
		else
			snprintf(name, sizeof(name), "%s", f->addr);
		pr_str("name", "%-12s", name);
	} else {
		pr_str("address", "%-12s", f->addr);
	}
	pr_text("  %-21s", kind);
	if (soft)
		pr_str("bus", NULL, f->bus);
	pr_str("kind", NULL, f->kind == VFCTL_FUNC_PF ? "pf" : vf ? "vf" : "other");
	pr_str("pf", NULL, vf && f->pf ? f->pf->addr : NULL);
	if (vf)
		pr_int("vf_index", NULL, f->vf_index);
	else
		pr_null("vf_index", NULL);
	pr_str("driver", "  %-10s", f->driver ? f->driver : "-");
	if (!f->driver)
		pr_null("driver", NULL);
	pr_str("netdev", "  %-15s", n ? n->name : "-");
	if (!n)
		pr_null("netdev", NULL);
	/* a software VF's line ends with it: no padding */
	pr_str("mac", soft && vf ? "  %s" : "  %-17s", mac ? mac : "-");
	if (!mac)
		pr_null("mac", NULL);
	if (!soft) {
		if (f->iommu_group < 0)
			pr_null("iommu_group", "  no group");
		else
			pr_int("iommu_group", "  group %lld", f->iommu_group);
		if (f->numa_node < 0)
			pr_null("numa_node", NULL);
		else
			pr_int("numa_node", "  numa %lld", f->numa_node);
	}
	if (f->kind == VFCTL_FUNC_PF && f->numvfs >= 0 && f->totalvfs >= 0)
		pr_text("  %d of %d VFs", f->numvfs, f->totalvfs);
	else if (f->kind == VFCTL_FUNC_PF && f->numvfs >= 0)
		pr_text("  %d VFs", f->numvfs);
	pr_text("\n");
	pr_obj_end();
}

/* The PFs among funcs: their trees, or (brief) their lines and their VFs';
 * *n_pfs counts the PFs, the return value those shown. */
static size_t print_pfs(struct vfctl_func *const *funcs, size_t n, bool brief, size_t *n_pfs)
{
	size_t shown = 0;

	for (size_t i = 0; i < n; i++) {
		const struct vfctl_func *f = funcs[i];

		if (f->kind != VFCTL_FUNC_PF)
			continue;
		(*n_pfs)++;
		if (!pf_shown(cur_filter, f))
			continue;
		shown++;
		if (!brief) {
			pr_text("\n");
			print_func(f, "");
			continue;
		}
		if (func_shown(cur_filter, f))
			print_brief(f);
		for (size_t j = 0; j < f->n_vfs; j++)
			if (f->vfs[j] && func_shown(cur_filter, f->vfs[j]))
				print_brief(f->vfs[j]);
	}
	return shown;
}

static int filter_add(struct filter *flt, struct vfctl_ctx *ctx, struct vfctl_host *h,
		      const char *arg, bool pf_only)
{
	struct vfctl_func *f;
	char err[1024];
	int r = cli_find_func(ctx, h, arg, &f, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", err);
		return r;
	}
	if (pf_only && f->kind == VFCTL_FUNC_VF) {
		fprintf(stderr, "vfctl: --pf %s: %s is a VF of %s, not a PF; 'vfctl list %s' "
			"lists that VF alone\n", arg, f->addr, f->pf ? f->pf->addr : "?", arg);
		return EXIT_USAGE;
	}
	if (f->kind == VFCTL_FUNC_OTHER) {
		fprintf(stderr, "vfctl: %s (%s) is neither an SR-IOV PF nor a VF; "
			"'vfctl show %s' shows it\n", arg, f->addr, arg);
		return EXIT_USAGE;
	}
	flt->funcs[flt->n_funcs++] = f;
	return EXIT_OK;
}

int cmd_list(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	struct filter flt = { .driver = a->driver, .numa = a->numa, .leased = a->leased,
			      .ctx = ctx };
	bool filtered = a->argc || a->n_pfs || a->driver || a->numa >= 0 || a->leased >= 0;
	size_t n_pfs = 0, n_soft = 0, n_shown;
	int r = EXIT_OK;

	flt.funcs = calloc((size_t)a->argc + a->n_pfs + 1, sizeof(*flt.funcs));
	if (!flt.funcs) {
		fprintf(stderr, "vfctl list: out of memory\n");
		return EXIT_ERR;
	}
	for (size_t i = 0; i < a->n_pfs && r == EXIT_OK; i++)
		r = filter_add(&flt, ctx, h, a->pfs[i], true);
	for (int i = 0; i < a->argc && r == EXIT_OK; i++)
		r = filter_add(&flt, ctx, h, a->argv[i], false);
	if (r != EXIT_OK)
		goto out;
	cur_filter = filtered ? &flt : NULL;
	inuse_ctx = ctx;
	inuse_holders = vfctl_ctx_is_live(ctx);
	/* brief: the functions' lines alone, as ip -br */
	pr_text_off(a->brief);
	print_top(ctx, h);
	pr_text_off(false);

	pr_arr_begin(a->brief ? "functions" : "pfs");
	n_shown = print_pfs(h->funcs, h->n_funcs, a->brief, &n_pfs);
	if (a->brief && a->all)
		for (size_t i = 0; i < h->n_funcs; i++)
			if (h->funcs[i]->kind == VFCTL_FUNC_OTHER && !flt.n_funcs &&
			    func_shown(cur_filter, h->funcs[i]))
				print_brief(h->funcs[i]);
	pr_arr_end();
	/* netdevsim's: apart, so that every object in pfs (functions) is a PCI function */
	pr_arr_begin(a->brief ? "software_functions" : "software_pfs");
	n_shown += print_pfs(h->soft_pfs, h->n_soft_pfs, a->brief, &n_soft);
	pr_arr_end();
	if (!n_pfs && !h->n_soft_pfs)
		pr_text("%sNo SR-IOV physical function on this host (%zu PCI functions scanned, "
			"none has sriov_totalvfs)%s\n", a->brief ? "" : "\n", h->n_funcs, a->all ? "" :
			"; 'vfctl list --all' shows them");
	else if (!n_shown)
		pr_text("%sNo SR-IOV function matches (%zu PF%s on this host; 'vfctl list' shows "
			"them all)\n", a->brief ? "" : "\n", n_pfs + h->n_soft_pfs,
			n_pfs + h->n_soft_pfs == 1 ? "" : "s");

	if (a->all && !a->brief) {
		pr_text("\nOther PCI functions:\n");
		pr_arr_begin("functions");
		for (size_t i = 0; i < h->n_funcs; i++)
			if (h->funcs[i]->kind == VFCTL_FUNC_OTHER && !flt.n_funcs &&
			    func_shown(cur_filter, h->funcs[i]))
				print_func(h->funcs[i], "");
		pr_arr_end();
	}
	print_warnings(h);
	pr_obj_end();
out:
	cur_filter = NULL;
	inuse_ctx = NULL;
	inuse_free();
	free(flt.funcs);
	return r;
}

/* A group's member: the same object in groups and show. */
static void print_member(const struct vfctl_func *m)
{
	pr_obj_begin(NULL);
	pr_text("    ");
	print_ident(m);
	pr_str("driver", "  driver %s", m->driver ? m->driver : "(none)");
	if (!m->driver)
		pr_null("driver", NULL);
	pr_bool("bridge", NULL, m->is_bridge);
	pr_text("\n");
	pr_obj_end();
}

/* Nobody asked to assign a group none of whose members is on a VFIO
 * driver: the host uses it, which is no fault to shout about. */
static bool group_host_only(const struct vfctl_group *g)
{
	for (size_t i = 0; i < g->n_members; i++)
		if (g->members[i]->driver && vfctl_driver_is_vfio(g->members[i]->driver))
			return false;
	return !g->viable;
}

/* The group's facts both groups and show give; the text of each follows. */
static void print_group_facts(const struct vfctl_group *g)
{
	pr_int("id", "group %lld", g->id);
	pr_bool("viable", NULL, g->viable);
	pr_str("status", NULL, g->viable ? "viable" : group_host_only(g) ? "host" : "blocked");
	pr_bool("dev_node", NULL, g->dev_node);
	/* every member in the way: what the library's viability rule refuses */
	pr_arr_begin("blockers");
	for (size_t i = 0; !g->viable && i < g->n_members; i++) {
		const struct vfctl_func *m = g->members[i];

		if (!m->is_bridge && m->driver && !vfctl_driver_is_vfio(m->driver) &&
		    strcmp(m->driver, "pci-stub") && strcmp(m->driver, "pcieport"))
			pr_str(NULL, NULL, m->addr);
	}
	pr_arr_end();
	pr_str("reason", NULL, g->reason);
}

static const char *group_word(const struct vfctl_group *g)
{
	return g->viable ? "viable for VFIO" : group_host_only(g) ? "in use by the host" :
	       "NOT viable";
}

static void print_group(const struct vfctl_group *g)
{
	pr_obj_begin(NULL);
	print_group_facts(g);
	pr_text("  %s", group_word(g));
	pr_text(g->dev_node ? ", /dev/vfio/%d" : "", g->id);
	pr_text(g->reason ? ": %s" : "", g->reason);
	pr_text("\n");
	pr_arr_begin("members");
	for (size_t i = 0; i < g->n_members; i++)
		print_member(g->members[i]);
	pr_arr_end();
	pr_obj_end();
}

static bool group_shown(const struct filter *flt, const struct vfctl_group *g)
{
	if (!flt)
		return true;	/* also a group whose members vanished */
	for (size_t i = 0; i < g->n_members; i++)
		if (func_shown(flt, g->members[i]))
			return true;
	return false;
}

int cmd_groups(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	struct filter flt = { .driver = a->driver, .numa = a->numa, .leased = -1 };
	const struct filter *fp = a->n_pfs || a->driver || a->numa >= 0 ? &flt : NULL;
	size_t n_shown = 0;
	int r = EXIT_OK;

	if (a->argc > 0) {
		fprintf(stderr, "vfctl groups: unexpected argument '%s'\n", a->argv[0]);
		return EXIT_USAGE;
	}
	flt.funcs = calloc(a->n_pfs + 1, sizeof(*flt.funcs));
	if (!flt.funcs) {
		fprintf(stderr, "vfctl groups: out of memory\n");
		return EXIT_ERR;
	}
	for (size_t i = 0; i < a->n_pfs && r == EXIT_OK; i++)
		r = filter_add(&flt, ctx, h, a->pfs[i], true);
	if (r != EXIT_OK)
		goto out;
	print_top(ctx, h);
	if (!h->n_groups)
		pr_text("\nNo IOMMU groups in %s/kernel/iommu_groups: the kernel runs without an "
			"IOMMU, so no device can be passed through with VFIO\n",
			vfctl_ctx_sysfs_root(ctx));
	pr_arr_begin("groups");
	for (size_t i = 0; i < h->n_groups; i++) {
		if (!group_shown(fp, h->groups[i]))
			continue;
		n_shown++;
		pr_text("\n");
		print_group(h->groups[i]);
	}
	pr_arr_end();
	if (h->n_groups && !n_shown)
		pr_text("\nNo IOMMU group matches (%zu on this host; 'vfctl groups' shows them "
			"all)\n", h->n_groups);
	print_warnings(h);
	pr_obj_end();
out:
	free(flt.funcs);
	return r;
}

int cmd_show(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	struct vfctl_func *f;
	struct vfctl_group *g;
	char err[1024];
	int r;

	if (a->argc != 1) {
		fprintf(stderr, "vfctl show: expected one device (PCI address, netdev name or "
			"PF:INDEX)\n");
		return EXIT_USAGE;
	}
	r = cli_find_func(ctx, h, a->argv[0], &f, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", err);
		return r;
	}
	print_top(ctx, h);
	pr_text("\n");
	pr_arr_begin("functions");
	inuse_ctx = ctx;
	print_func(f, "");
	inuse_ctx = NULL;
	inuse_free();
	pr_arr_end();
	g = f->iommu_group >= 0 ? vfctl_host_group(h, f->iommu_group) : NULL;
	if (g) {
		pr_text("\n");
		pr_obj_begin("group");
		print_group_facts(g);
		pr_text(": %s", group_word(g));
		pr_text(g->reason ? ": %s" : "", g->reason);
		pr_text(" (members");
		for (size_t i = 0; i < g->n_members; i++)
			pr_text(" %s", g->members[i]->addr);
		pr_text(")\n");
		/* the members as objects, as groups gives them; the line above
		 * names them in text */
		pr_text_off(true);
		pr_arr_begin("members");
		for (size_t i = 0; i < g->n_members; i++)
			print_member(g->members[i]);
		pr_arr_end();
		pr_text_off(false);
		pr_obj_end();
	} else {
		pr_null("group", NULL);
	}
	print_warnings(h);
	pr_obj_end();
	return EXIT_OK;
}
