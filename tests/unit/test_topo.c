// SPDX-License-Identifier: LGPL-2.1-or-later
/* The topology scan on golden sysfs trees built from real-kernel captures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pci/pci.h>

#include "internal.h"
#include "vfctl.h"
#include "unit.h"

struct scan {
	struct vfctl_ctx *ctx;
	struct vfctl_host *host;
};

static struct scan *scan_tree(const char *name)
{
	struct scan *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	unit_scan(name, VFCTL_SCAN_NETLINK, &s->ctx, &s->host);
	assert_false(vfctl_ctx_is_live(s->ctx));
	return s;
}

static void scan_free(struct scan *s)
{
	vfctl_host_free(s->host);
	vfctl_ctx_free(s->ctx);
	free(s);
}

static struct vfctl_func *find(struct scan *s, const char *name)
{
	struct vfctl_func *f = NULL;

	assert_int_equal(vfctl_host_find(s->ctx, s->host, name, &f), 0);
	assert_non_null(f);
	return f;
}

static size_t count_kind(const struct vfctl_host *h, enum vfctl_func_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_funcs; i++)
		n += h->funcs[i]->kind == k;
	return n;
}

static void ixgbe_dual_port_8vf(void **state)
{
	struct scan *s = scan_tree("82599-8vf");
	struct vfctl_func *pf = find(s, "0000:03:00.0"), *pf1 = find(s, "03:00.1"), *vf;
	struct vfctl_group *g;

	(void)state;
	assert_true(s->host->iommu);
	assert_true(s->host->vfio_container);
	assert_int_equal(count_kind(s->host, VFCTL_FUNC_PF), 2);
	assert_int_equal(count_kind(s->host, VFCTL_FUNC_VF), 8);

	assert_int_equal(pf->kind, VFCTL_FUNC_PF);
	assert_int_equal(pf->vendor, 0x8086);
	assert_int_equal(pf->device, 0x10fb);
	assert_int_equal(pf->class >> 8, 0x0200);
	assert_non_null(pf->device_name);
	assert_non_null(strstr(pf->device_name, "82599"));
	assert_string_equal(pf->vendor_name, "Intel Corporation");
	assert_string_equal(pf->driver, "ixgbe");
	assert_int_equal(pf->numa_node, 0);
	assert_int_equal(pf->iommu_group, 20);
	assert_int_equal(pf->totalvfs, 63);
	assert_int_equal(pf->numvfs, 8);
	assert_int_equal(pf->autoprobe, 1);
	assert_int_equal(pf->vf_offset, 128);
	assert_int_equal(pf->vf_stride, 2);
	assert_int_equal(pf->vf_device, 0x10ed);
	assert_int_equal(pf->n_netdevs, 1);
	assert_string_equal(pf->netdevs[0]->name, "enp3s0f0");
	assert_string_equal(pf->netdevs[0]->operstate, "up");
	assert_int_equal(pf->netdevs[0]->speed, 10000);
	/* library-allocated structs carry the size the library filled */
	assert_int_equal(pf->size, sizeof(struct vfctl_func));
	assert_true(VFCTL_HAS(pf, config));
	assert_int_equal(pf->netdevs[0]->size, sizeof(struct vfctl_netdev));
	assert_true(VFCTL_HAS(pf->netdevs[0], mac));
	assert_int_equal(pf->n_vfs, 8);
	/* not the live /sys: netlink is not asked, and the reason is given */
	assert_non_null(pf->vf_config_error);
	assert_non_null(strstr(pf->vf_config_error, "not the live /sys"));

	assert_int_equal(pf1->numvfs, 0);
	assert_int_equal(pf1->n_vfs, 0);

	/* VFs by index, at offset 128 stride 2 */
	static const char *addrs[] = { "0000:03:10.0", "0000:03:10.2", "0000:03:10.4", "0000:03:10.6",
				       "0000:03:11.0", "0000:03:11.2", "0000:03:11.4", "0000:03:11.6" };
	for (int i = 0; i < 8; i++) {
		vf = pf->vfs[i];
		assert_non_null(vf);
		assert_string_equal(vf->addr, addrs[i]);
		assert_int_equal(vf->kind, VFCTL_FUNC_VF);
		assert_int_equal(vf->vf_index, i);
		assert_ptr_equal(vf->pf, pf);
		assert_int_equal(vf->device, 0x10ed);
		assert_int_equal(vf->iommu_group, 30 + i);
		assert_string_equal(vf->driver, i == 7 ? "vfio-pci" : "ixgbevf");
		assert_false(vf->config.valid);
	}
	assert_string_equal(pf->vfs[7]->driver_override, "vfio-pci");
	assert_null(pf->vfs[0]->driver_override);
	assert_int_equal(pf->vfs[7]->n_netdevs, 0);
	assert_string_equal(find(s, "enp3s0f0v2")->addr, "0000:03:10.4");

	/* a group per function: VF 7 on vfio-pci is viable, VF 0 on ixgbevf is not */
	g = vfctl_host_group(s->host, 37);
	assert_non_null(g);
	assert_true(g->viable);
	assert_true(g->dev_node);
	assert_int_equal(g->n_members, 1);
	g = vfctl_host_group(s->host, 30);
	assert_non_null(g);
	assert_false(g->viable);
	assert_false(g->dev_node);
	assert_ptr_equal(g->blocker, pf->vfs[0]);
	/* nothing of it on vfio-pci: the host's, with the way to pass it */
	assert_non_null(strstr(g->reason, "0000:03:10.0 (ixgbevf); nothing of it is on vfio-pci"));
	assert_int_equal(s->host->n_warnings, 0);
	scan_free(s);
}

static void igb_82576(void **state)
{
	struct scan *s = scan_tree("82576");
	struct vfctl_func *pf = find(s, "enp1s0f0");

	(void)state;
	assert_string_equal(pf->addr, "0000:01:00.0");
	assert_int_equal(pf->device, 0x10c9);
	assert_string_equal(pf->driver, "igb");
	assert_int_equal(pf->totalvfs, 7);
	assert_int_equal(pf->n_vfs, 2);
	assert_int_equal(pf->numa_node, -1);
	assert_int_equal(pf->vfs[1]->device, 0x10ca);
	assert_string_equal(pf->vfs[1]->driver, "igbvf");
	assert_string_equal(pf->vfs[1]->addr, "0000:01:10.2");
	assert_non_null(strstr(pf->vfs[1]->device_name, "82576"));
	assert_int_equal(count_kind(s->host, VFCTL_FUNC_PF), 2);
	scan_free(s);
}

static void capture_as_is(void **state)
{
	struct scan *s = scan_tree("igb-iommu");
	size_t pfs = 0;

	(void)state;
	assert_true(s->host->iommu);
	assert_true(s->host->iommu_groups);
	for (size_t i = 0; i < s->host->n_funcs; i++) {
		struct vfctl_func *f = s->host->funcs[i];

		if (f->kind != VFCTL_FUNC_PF)
			continue;
		pfs++;
		assert_int_equal(f->device, 0x10c9);
		assert_int_equal(f->n_vfs, (size_t)f->numvfs);
		assert_true(f->numvfs >= 1);
		for (size_t j = 0; j < f->n_vfs; j++) {
			assert_non_null(f->vfs[j]);
			assert_int_equal(f->vfs[j]->device, 0x10ca);
			assert_true(f->vfs[j]->iommu_group >= 0);
		}
	}
	assert_int_equal(pfs, 1);
	scan_free(s);
}

static void host_without_iommu(void **state)
{
	struct scan *s = scan_tree("no-iommu");

	(void)state;
	assert_false(s->host->iommu);
	assert_false(s->host->iommu_groups);
	assert_int_equal(s->host->n_groups, 0);
	/* the real kernel loads vfio without an IOMMU: only the groups are missing */
	assert_true(s->host->vfio_container);
	for (size_t i = 0; i < s->host->n_funcs; i++)
		assert_int_equal(s->host->funcs[i]->iommu_group, -1);
	assert_int_equal(count_kind(s->host, VFCTL_FUNC_PF), 1);
	scan_free(s);
}

static void pf_and_vfs_share_a_group(void **state)
{
	struct scan *s = scan_tree("shared-group");
	struct vfctl_group *g = vfctl_host_group(s->host, 12);

	(void)state;
	assert_non_null(g);
	assert_int_equal(g->n_members, 5);
	assert_false(g->viable);
	/* the PF (first member) blocks: its driver is ixgbe */
	assert_string_equal(g->blocker->addr, "0000:05:00.0");
	/* the PF shares the group with its VFs: the ways out, not "bind the PF" */
	assert_non_null(strstr(g->reason, "PF 0000:05:00.0 (ixgbe) shares group 12 with its VFs"));
	assert_null(strstr(g->reason, "bind it to vfio-pci"));
	scan_free(s);
}

static void four_pfs_63_vfs(void **state)
{
	struct scan *s = scan_tree("4pf-63vf");

	(void)state;
	assert_int_equal(count_kind(s->host, VFCTL_FUNC_PF), 4);
	assert_int_equal(count_kind(s->host, VFCTL_FUNC_VF), 252);
	for (size_t i = 0; i < s->host->n_funcs; i++) {
		struct vfctl_func *f = s->host->funcs[i];

		if (f->kind != VFCTL_FUNC_PF)
			continue;
		assert_int_equal(f->n_vfs, 63);
		assert_int_equal(f->numa_node, 1);
		for (size_t j = 0; j < 63; j++)
			assert_int_equal(f->vfs[j]->vf_index, (int)j);
	}
	assert_true(s->host->n_groups >= 256);
	scan_free(s);
}

static void pf_without_netdev(void **state)
{
	struct scan *s = scan_tree("pf-no-netdev");
	struct vfctl_func *pf = find(s, "0000:03:00.0");

	(void)state;
	assert_int_equal(pf->n_netdevs, 0);
	assert_non_null(pf->vf_config_error);
	assert_non_null(strstr(pf->vf_config_error, "0000:03:00.0 has no netdev"));
	assert_int_equal(pf->n_vfs, 8);
	scan_free(s);
}

static void device_vanishes_during_walk(void **state)
{
	struct scan *s = scan_tree("vanish");
	struct vfctl_func *pf = find(s, "0000:03:00.0"), *f = NULL;

	(void)state;
	/* the VF is left out, named in a warning; the rest is intact */
	assert_int_equal(s->host->n_warnings, 1);
	assert_non_null(strstr(s->host->warnings[0], "0000:03:10.6: vanished during the walk"));
	assert_int_equal(vfctl_host_find(s->ctx, s->host, "0000:03:10.6", &f), -ENODEV);
	assert_null(f);
	assert_int_equal(count_kind(s->host, VFCTL_FUNC_VF), 7);
	assert_null(pf->vfs[3]);
	assert_non_null(pf->vfs[4]);
	scan_free(s);
}

/* The names of a second scan on the same context come from its cache and
 * are the first scan's; an id no source knows has no name. */
static void names_cached_per_context(void **state)
{
	struct scan *s = scan_tree("82599-8vf");
	struct vfctl_func *pf = find(s, "0000:03:00.0"), *vf = find(s, "0000:03:10.0");
	struct vfctl_names *cache = s->ctx->names;
	struct vfctl_host *h2 = NULL;
	struct vfctl_func *pf2 = NULL;
	char *n;

	(void)state;
	assert_non_null(cache);
	assert_string_equal(pf->class_name, "Ethernet controller");
	assert_non_null(strstr(vf->device_name, "Virtual Function"));
	assert_int_equal(vfctl_host_scan(s->ctx, 0, &h2), 0);
	assert_ptr_equal(s->ctx->names, cache);
	assert_int_equal(vfctl_host_find(s->ctx, h2, "0000:03:00.0", &pf2), 0);
	assert_string_equal(pf2->vendor_name, pf->vendor_name);
	assert_string_equal(pf2->device_name, pf->device_name);
	assert_ptr_not_equal(pf2->device_name, pf->device_name);	/* each host owns its copy */
	n = vfctl_name_lookup(s->ctx, PCI_LOOKUP_DEVICE, 0x8086, 0xfffe);
	assert_null(n);
	vfctl_host_free(h2);
	scan_free(s);
}

/* VFCTL_SCAN_NO_NAMES (bind, unbind, restore print none): no names, no
 * name cache made, and everything else as a full scan reads it. */
static void scan_without_names(void **state)
{
	struct vfctl_ctx *ctx = NULL;
	struct vfctl_host *h = NULL;
	struct scan *s;
	struct vfctl_func *pf = NULL, *vf = NULL, *pf2, *vf2;

	(void)state;
	unit_scan("82599-8vf", VFCTL_SCAN_NO_NAMES, &ctx, &h);
	assert_null(ctx->names);
	assert_int_equal(vfctl_host_find(ctx, h, "0000:03:00.0", &pf), 0);
	assert_int_equal(vfctl_host_find(ctx, h, "0000:03:10.0", &vf), 0);
	assert_null(pf->vendor_name);
	assert_null(pf->device_name);
	assert_null(pf->class_name);
	assert_null(vf->device_name);
	s = scan_tree("82599-8vf");
	pf2 = find(s, "0000:03:00.0");
	vf2 = find(s, "0000:03:10.0");
	assert_int_equal(h->n_funcs, s->host->n_funcs);
	assert_int_equal(pf->device, pf2->device);
	assert_int_equal(pf->class, pf2->class);
	assert_string_equal(pf->driver, pf2->driver);
	assert_int_equal(pf->n_vfs, pf2->n_vfs);
	assert_int_equal(vf->iommu_group, vf2->iommu_group);
	assert_string_equal(vf->driver, vf2->driver);
	assert_non_null(pf2->device_name);
	scan_free(s);
	vfctl_host_free(h);
	vfctl_ctx_free(ctx);
}

/* VFCTL_SCAN_SRIOV_ONLY (list without --all): the PFs and VFs as a full
 * scan reads them, the others with what group viability needs alone. */
static void scan_sriov_only(void **state)
{
	struct vfctl_ctx *ctx = NULL;
	struct vfctl_host *h = NULL;
	struct scan *s = scan_tree("82599-8vf");
	size_t others = 0;

	(void)state;
	unit_scan("82599-8vf", VFCTL_SCAN_NETLINK | VFCTL_SCAN_SRIOV_ONLY, &ctx, &h);
	assert_int_equal(h->n_funcs, s->host->n_funcs);
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct vfctl_func *a = h->funcs[i], *b = s->host->funcs[i];

		assert_string_equal(a->addr, b->addr);
		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->vendor, b->vendor);
		assert_int_equal(a->device, b->device);
		assert_int_equal(a->class, b->class);
		assert_int_equal(a->is_bridge, b->is_bridge);
		assert_int_equal(a->iommu_group, b->iommu_group);
		assert_true((!a->driver && !b->driver) || !strcmp(a->driver, b->driver));
		if (a->kind != VFCTL_FUNC_OTHER) {
			assert_int_equal(a->numa_node, b->numa_node);
			assert_int_equal(a->n_netdevs, b->n_netdevs);
			assert_int_equal(a->n_vfs, b->n_vfs);
			assert_string_equal(a->device_name, b->device_name);
			assert_true((!a->driver_override && !b->driver_override) ||
				    !strcmp(a->driver_override, b->driver_override));
			continue;
		}
		others++;
		assert_int_equal(a->numa_node, -1);
		assert_int_equal(a->n_netdevs, 0);
		assert_null(a->device_name);
		assert_null(a->driver_override);
	}
	/* the e1000e beside the SR-IOV card has a netdev a full scan reads */
	assert_int_equal(find(s, "0000:02:00.0")->n_netdevs, 1);
	assert_int_equal(others, 8);
	assert_int_equal(h->n_groups, s->host->n_groups);
	for (size_t i = 0; i < h->n_groups; i++) {
		assert_int_equal(h->groups[i]->id, s->host->groups[i]->id);
		assert_int_equal(h->groups[i]->viable, s->host->groups[i]->viable);
		assert_int_equal(h->groups[i]->n_members, s->host->groups[i]->n_members);
	}
	scan_free(s);
	vfctl_host_free(h);
	vfctl_ctx_free(ctx);
}

static void ids_quiet(char *msg, ...)
{
	(void)msg;
}

/* A class's name is libpci's from pci.ids, whichever source answers: a
 * subclass pci.ids does not name is the base class's name and the number
 * ("Unclassified device [0002]"), an unknown class has none. */
static void class_names_are_libpcis(void **state)
{
	static const unsigned cls[] = { 0x0200, 0x0604, 0x0002, 0x0b40, 0x1234, 0xff00, 0x2000 };
	struct scan *s = scan_tree("82599-8vf");
	struct pci_access *a = pci_alloc();

	(void)state;
	assert_non_null(a);
	a->warning = a->debug = ids_quiet;
	for (size_t i = 0; i < sizeof(cls) / sizeof(*cls); i++) {
		char buf[256], *want, *got = vfctl_name_lookup(s->ctx, PCI_LOOKUP_CLASS, cls[i], 0);

		want = pci_lookup_name(a, buf, sizeof(buf), PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_NUMBERS |
				       PCI_LOOKUP_NO_HWDB, (int)cls[i]);
		if (want)
			assert_string_equal(got, want);
		else
			assert_null(got);
		free(got);
	}
	pci_cleanup(a);
	scan_free(s);
}

static void find_rejects_bad_names(void **state)
{
	struct scan *s = scan_tree("82599-8vf");
	struct vfctl_func *f = NULL;

	(void)state;
	assert_int_equal(vfctl_host_find(s->ctx, s->host, "0000:09:00.0", &f), -ENODEV);
	assert_non_null(strstr(vfctl_ctx_error(s->ctx), "0000:09:00.0: no such PCI function"));
	assert_int_equal(vfctl_host_find(s->ctx, s->host, "../../etc", &f), -EINVAL);
	assert_int_equal(vfctl_host_find(s->ctx, s->host, "03:00", &f), -EINVAL);
	assert_int_equal(vfctl_host_find(s->ctx, s->host, "eth9", &f), -ENODEV);
	assert_non_null(strstr(vfctl_ctx_error(s->ctx), "eth9: no PCI function has a netdev"));
	assert_null(f);
	scan_free(s);
}

static void missing_root_is_an_error(void **state)
{
	struct vfctl_ctx *ctx = (struct vfctl_ctx *)0x1;
	char err[256] = "";

	(void)state;
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts,
							  .sysfs_root = "/nonexistent/sys",
							  .errbuf = err, .errlen = sizeof(err))),
			 -ENOENT);
	assert_ptr_equal(ctx, (struct vfctl_ctx *)0x1);
	assert_non_null(strstr(err, "sysfs root /nonexistent/sys: No such file or directory"));
}

static void root_without_pci_is_an_error(void **state)
{
	struct vfctl_ctx *ctx;
	struct vfctl_host *h = (struct vfctl_host *)0x1;

	(void)state;
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = "/tmp")), 0);
	assert_int_equal(vfctl_host_scan(ctx, 0, &h), -ENOENT);
	assert_ptr_equal(h, (struct vfctl_host *)0x1);
	assert_non_null(strstr(vfctl_ctx_error(ctx), "/tmp/bus/pci/devices: No such file"));
	vfctl_ctx_free(ctx);
}

static void str_equal_or_null(const char *a, const char *b)
{
	assert_true((a == NULL) == (b == NULL));
	if (a)
		assert_string_equal(a, b);
}

/* vfctl_host_scan_dev(dev) on s's tree: n functions, each as s's whole scan
 * has it, dev linked to its PF at its index, dev's group (the host's only
 * one) with the members and verdict of the whole scan's. */
static struct vfctl_host *scan_dev(struct scan *s, const char *dev, size_t n)
{
	struct vfctl_host *p = NULL;
	struct vfctl_func *f = NULL, *w = find(s, dev);
	struct vfctl_group *pg, *wg = vfctl_host_group(s->host, w->iommu_group);

	assert_int_equal(vfctl_host_scan_dev(s->ctx, dev, VFCTL_SCAN_NETLINK, &p), 0);
	assert_int_equal(p->n_funcs, n);
	assert_int_equal(p->n_soft_pfs, 0);
	assert_int_equal(p->n_warnings, 0);
	assert_int_equal(p->iommu_groups, s->host->iommu_groups);
	assert_int_equal(vfctl_host_find(s->ctx, p, dev, &f), 0);
	assert_string_equal(f->addr, w->addr);
	assert_int_equal(f->vf_index, w->vf_index);
	assert_true((f->pf == NULL) == (w->pf == NULL));
	if (w->pf) {
		assert_string_equal(f->pf->addr, w->pf->addr);
		assert_ptr_equal(f->pf->vfs[f->vf_index], f);
	}
	for (size_t i = 0; i < p->n_funcs; i++) {
		struct vfctl_func *x = p->funcs[i], *wx = find(s, x->addr);

		/* sorted, as vfctl_host_find's search needs */
		assert_true(i == 0 || strcmp(p->funcs[i - 1]->addr, x->addr) < 0);
		assert_int_equal(x->kind, wx->kind);
		assert_int_equal(x->device, wx->device);
		assert_int_equal(x->iommu_group, wx->iommu_group);
		assert_int_equal(x->numvfs, wx->numvfs);
		assert_int_equal(x->n_netdevs, wx->n_netdevs);
		str_equal_or_null(x->driver, wx->driver);
		str_equal_or_null(x->driver_override, wx->driver_override);
		/* why the netlink view is missing: said of a PF whose VFs it read */
		if (x->n_vfs)
			str_equal_or_null(x->vf_config_error, wx->vf_config_error);
		if (x->pf) {
			assert_string_equal(x->pf->addr, wx->pf->addr);
			assert_int_equal(x->vf_index, wx->vf_index);
		}
	}
	if (!wg) {
		assert_int_equal(p->n_groups, 0);
		return p;
	}
	assert_int_equal(p->n_groups, 1);
	pg = vfctl_host_group(p, w->iommu_group);
	assert_non_null(pg);
	assert_int_equal(pg->n_members, wg->n_members);
	for (size_t i = 0; i < pg->n_members; i++)
		assert_string_equal(pg->members[i]->addr, wg->members[i]->addr);
	assert_int_equal(pg->viable, wg->viable);
	assert_int_equal(pg->dev_node, wg->dev_node);
	str_equal_or_null(pg->reason, wg->reason);
	return p;
}

/* bind's read: the device, its PF and its group, as the whole scan has
 * them; what it cannot narrow (a software PF, a netdev without a device
 * link) gets the whole scan. */
static void scan_dev_reads_the_device_part(void **state)
{
	struct scan *s = scan_tree("82599-8vf");
	struct vfctl_host *p = NULL;
	struct vfctl_func *f = NULL;

	(void)state;
	/* a VF in its own group: it and its PF */
	vfctl_host_free(scan_dev(s, "0000:03:10.0", 2));
	vfctl_host_free(scan_dev(s, "03:11.6", 2));
	/* the PF: alone, no VF of it read */
	p = scan_dev(s, "0000:03:00.0", 1);
	assert_int_equal(p->funcs[0]->n_vfs, 0);
	vfctl_host_free(p);
	/* no such function: an empty host that find says so of, no warning */
	assert_int_equal(vfctl_host_scan_dev(s->ctx, "0000:09:00.0", 0, &p), 0);
	assert_int_equal(p->n_funcs, 0);
	assert_int_equal(p->n_warnings, 0);
	assert_int_equal(vfctl_host_find(s->ctx, p, "0000:09:00.0", &f), -ENODEV);
	assert_non_null(strstr(vfctl_ctx_error(s->ctx), "no such PCI function"));
	vfctl_host_free(p);
	/* a netdev name: no class/net in a golden tree, so the whole scan */
	assert_int_equal(vfctl_host_scan_dev(s->ctx, "enp3s0f0v0", 0, &p), 0);
	assert_int_equal(p->n_funcs, s->host->n_funcs);
	vfctl_host_free(p);
	scan_free(s);

	/* a PF with its VFs in one group: all five, and the scan's verdict */
	s = scan_tree("shared-group");
	p = scan_dev(s, "0000:05:10.6", 5);
	for (size_t i = 0; i < p->n_funcs; i++)
		if (p->funcs[i]->kind == VFCTL_FUNC_VF)
			assert_string_equal(p->funcs[i]->pf->addr, "0000:05:00.0");
	vfctl_host_free(p);
	scan_free(s);

	/* a VF index from the PF's offset and stride (VF 33 of the 2nd PF) */
	s = scan_tree("4pf-63vf");
	vfctl_host_free(scan_dev(s, "0000:81:18.3", 2));
	scan_free(s);

	s = scan_tree("no-iommu");
	vfctl_host_free(scan_dev(s, "0000:01:00.0", 1));
	scan_free(s);

	/* a software PF is no PCI function: the whole scan finds it */
	s = scan_tree("netdevsim");
	assert_int_equal(vfctl_host_scan_dev(s->ctx, "netdevsim5", 0, &p), 0);
	assert_int_equal(p->n_soft_pfs, 1);
	assert_int_equal(vfctl_host_find(s->ctx, p, "netdevsim5", &f), 0);
	vfctl_host_free(p);
	scan_free(s);
}

/* The netdev's device link names the function; an offset that does not
 * match the PF's virtfn links falls back to reading them all. */
static void scan_dev_by_netdev_and_wrong_offset(void **state)
{
	char dir[] = "/tmp/vfctl-scandev-XXXXXX", root[512];
	struct vfctl_host *p = NULL;
	struct vfctl_func *f = NULL;
	struct vfctl_ctx *ctx;

	(void)state;
	assert_non_null(mkdtemp(dir));
	unit_fixture(root, sizeof(root), "82599-8vf", ".");
	unit_sh("cp -a '%s/.' '%s'", root, dir);
	unit_sh("cd '%s/sys' && mkdir -p class/net/enp3s0f0v0 && "
		"ln -s ../../../bus/pci/devices/0000:03:10.0 class/net/enp3s0f0v0/device && "
		"echo 126 >bus/pci/devices/0000:03:00.0/sriov_offset", dir);
	snprintf(root, sizeof(root), "%s/sys", dir);
	assert_int_equal(vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = root)), 0);
	assert_int_equal(vfctl_host_scan_dev(ctx, "enp3s0f0v0", 0, &p), 0);
	assert_int_equal(p->n_funcs, 2);
	assert_int_equal(vfctl_host_find(ctx, p, "enp3s0f0v0", &f), 0);
	assert_string_equal(f->addr, "0000:03:10.0");
	assert_int_equal(f->vf_index, 0);
	assert_ptr_equal(f->pf->vfs[0], f);
	vfctl_host_free(p);
	vfctl_ctx_free(ctx);
	unit_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ixgbe_dual_port_8vf),
		cmocka_unit_test(igb_82576),
		cmocka_unit_test(capture_as_is),
		cmocka_unit_test(host_without_iommu),
		cmocka_unit_test(pf_and_vfs_share_a_group),
		cmocka_unit_test(four_pfs_63_vfs),
		cmocka_unit_test(pf_without_netdev),
		cmocka_unit_test(device_vanishes_during_walk),
		cmocka_unit_test(names_cached_per_context),
		cmocka_unit_test(scan_without_names),
		cmocka_unit_test(scan_sriov_only),
		cmocka_unit_test(class_names_are_libpcis),
		cmocka_unit_test(find_rejects_bad_names),
		cmocka_unit_test(missing_root_is_an_error),
		cmocka_unit_test(root_without_pci_is_an_error),
		cmocka_unit_test(scan_dev_reads_the_device_part),
		cmocka_unit_test(scan_dev_by_netdev_and_wrong_offset),
	};

	return cmocka_run_group_tests_name("topo", tests, NULL, NULL);
}
