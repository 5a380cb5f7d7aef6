// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host's PCI / SR-IOV / IOMMU topology: libpci for ids, class, names,
 * NUMA node, IOMMU group and driver; the rooted sysfs accessor for what
 * libpci does not read (SR-IOV attributes, VF links, netdevs, groups).
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <pci/pci.h>

#include "internal.h"

/* libpci reports failures through a callback that must not return; a
 * device that disappears mid-walk makes it fail, so the scan unwinds here. */
static __thread jmp_buf *pci_jmp;
static __thread char pci_msg[256];

__attribute__((noreturn)) static void pci_on_error(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vsnprintf(pci_msg, sizeof(pci_msg), msg, ap);
	va_end(ap);
	if (pci_jmp)
		longjmp(*pci_jmp, 1);
	abort();	/* unreachable: every libpci call runs under pci_jmp */
}

static void pci_on_warning(char *msg, ...)
{
	(void)msg;
}

static int host_warn(struct vfctl_host *host, const char *fmt, ...) _printf_(2, 3);
static int host_warn(struct vfctl_host *host, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return vfctl_strv_push(&host->warnings, &host->n_warnings, s);
}

/* Bounded copy; sizes were checked by the caller, this only never overflows. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void func_free(struct vfctl_func *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_netdevs; i++)
		free(f->netdevs[i]);
	free(f->vendor_name);
	free(f->device_name);
	free(f->class_name);
	free(f->driver);
	free(f->driver_override);
	free(f->netdevs);
	free(f->vfs);
	free(f->vf_config_error);
	free(f);
}

static void group_free(struct vfctl_group *g)
{
	if (!g)
		return;
	free(g->members);
	free(g->reason);
	free(g);
}

void vfctl_host_free(struct vfctl_host *host)
{
	if (!host)
		return;
	for (size_t i = 0; i < host->n_funcs; i++)
		func_free(host->funcs[i]);
	free(host->funcs);
	for (size_t i = 0; i < host->n_groups; i++)
		group_free(host->groups[i]);
	free(host->groups);
	vfctl_strv_free(host->iommu_units, host->n_iommu_units);
	vfctl_strv_free(host->warnings, host->n_warnings);
	free(host);
}

static char *lookup_name(struct pci_access *acc, int flags, ...)
{
	char buf[256], *s;
	va_list ap;
	int a, b;

	va_start(ap, flags);
	a = va_arg(ap, int);
	b = va_arg(ap, int);
	va_end(ap);
	s = pci_lookup_name(acc, buf, sizeof(buf),
			    flags | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, a, b);
	return s ? strdup(s) : NULL;
}

static int read_attr_int(struct vfctl_ctx *ctx, const char *addr, const char *attr, int base)
{
	long v;

	return vfctl_root_read_int(&ctx->sys, VFCTL_DEV_PATH(addr, "%s", attr), base, &v) < 0 ?
	       -1 : (int)v;
}

static int read_netdev(struct vfctl_ctx *ctx, const char *addr, const char *name,
		       struct vfctl_netdev *nd)
{
	char buf[64];
	long v;

	memset(nd, 0, sizeof(*nd));
	nd->size = sizeof(*nd);
	copy_str(nd->name, sizeof(nd->name), name);
	nd->ifindex = nd->speed = -1;
	nd->carrier = VFCTL_UNKNOWN;

	if (!vfctl_root_read_int(&ctx->sys, VFCTL_DEV_PATH(addr, "net/%s/ifindex", name), 10, &v))
		nd->ifindex = (int)v;
	if (vfctl_root_read(&ctx->sys, VFCTL_DEV_PATH(addr, "net/%s/operstate", name), buf,
			    sizeof(buf)) > 0)
		copy_str(nd->operstate, sizeof(nd->operstate), buf);
	/* carrier and speed read EINVAL while the link is down: unknown, not an error */
	if (!vfctl_root_read_int(&ctx->sys, VFCTL_DEV_PATH(addr, "net/%s/carrier", name), 10, &v))
		nd->carrier = v ? VFCTL_ON : VFCTL_OFF;
	if (!vfctl_root_read_int(&ctx->sys, VFCTL_DEV_PATH(addr, "net/%s/speed", name), 10, &v) &&
	    v > 0)
		nd->speed = (int)v;
	if (vfctl_root_read(&ctx->sys, VFCTL_DEV_PATH(addr, "net/%s/address", name), buf,
			    sizeof(buf)) == VFCTL_MAC_LEN - 1)
		memcpy(nd->mac, buf, VFCTL_MAC_LEN);
	return 0;
}

static int read_netdevs(struct vfctl_ctx *ctx, struct vfctl_func *f)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (vfctl_root_opendir(&ctx->sys, VFCTL_DEV_PATH(f->addr, "net"), &d) < 0)
		return 0;	/* no netdev: not bound to a network driver */
	while ((de = readdir(d))) {
		struct vfctl_netdev **nv, *nd;

		if (de->d_name[0] == '.' || !vfctl_ifname_valid(de->d_name))
			continue;
		nv = realloc(f->netdevs, (f->n_netdevs + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		f->netdevs = nv;
		nd = malloc(sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		read_netdev(ctx, f->addr, de->d_name, nd);
		nv[f->n_netdevs++] = nd;
	}
	return 0;
}

/* Fill one function; -ENODEV when it vanished while we looked. */
static int func_fill(struct vfctl_ctx *ctx, struct pci_access *acc, const char *addr,
		     struct vfctl_func *f)
{
	unsigned dom, bus, dev, fn;
	struct pci_dev *pd;
	jmp_buf jb;
	char buf[256];
	char *drv;

	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	memcpy(f->addr, addr, VFCTL_ADDR_LEN);
	f->vf_index = -1;
	sscanf(addr, "%x:%x:%x.%x", &dom, &bus, &dev, &fn);

	pd = pci_get_dev(acc, (int)dom, (int)bus, (int)dev, (int)fn);
	if (!pd)
		return -ENOMEM;
	pci_jmp = &jb;
	if (setjmp(jb)) {
		pci_jmp = NULL;
		pci_free_dev(pd);
		return -ENODEV;
	}
	pci_fill_info(pd, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT | PCI_FILL_SUBSYS |
			  PCI_FILL_NUMA_NODE | PCI_FILL_IOMMU_GROUP | PCI_FILL_DRIVER);
	f->vendor = pd->vendor_id;
	f->device = pd->device_id;
	f->class = (uint32_t)pd->device_class << 8 | pd->prog_if;
	f->subsys_vendor = pd->subsys_vendor_id;
	f->subsys_device = pd->subsys_id;
	f->numa_node = pd->numa_node;
	f->iommu_group = -1;
	if ((drv = pci_get_string_property(pd, PCI_FILL_IOMMU_GROUP)))
		f->iommu_group = atoi(drv);
	if ((drv = pci_get_string_property(pd, PCI_FILL_DRIVER)))
		f->driver = strdup(drv);
	f->vendor_name = lookup_name(acc, PCI_LOOKUP_VENDOR, f->vendor, 0);
	f->device_name = lookup_name(acc, PCI_LOOKUP_DEVICE, f->vendor, f->device);
	f->class_name = lookup_name(acc, PCI_LOOKUP_CLASS, pd->device_class, 0);
	pci_jmp = NULL;
	pci_free_dev(pd);

	f->is_bridge = (f->class >> 16) == 0x06;
	if (vfctl_root_read(&ctx->sys, VFCTL_DEV_PATH(addr, "driver_override"), buf,
			    sizeof(buf)) > 0 && strcmp(buf, "(null)"))
		f->driver_override = strdup(buf);

	f->totalvfs = read_attr_int(ctx, addr, "sriov_totalvfs", 10);
	f->numvfs = read_attr_int(ctx, addr, "sriov_numvfs", 10);
	f->autoprobe = read_attr_int(ctx, addr, "sriov_drivers_autoprobe", 10);
	f->vf_offset = read_attr_int(ctx, addr, "sriov_offset", 10);
	f->vf_stride = read_attr_int(ctx, addr, "sriov_stride", 10);
	{
		int vd = read_attr_int(ctx, addr, "sriov_vf_device", 16);

		f->vf_device = vd > 0 ? (uint16_t)vd : 0;
	}
	if (f->totalvfs >= 0)
		f->kind = VFCTL_FUNC_PF;
	if (vfctl_root_exists(&ctx->sys, VFCTL_DEV_PATH(addr, "physfn")))
		f->kind = VFCTL_FUNC_VF;
	f->config.link_state = -1;
	f->config.spoofchk = f->config.trust = f->config.query_rss = VFCTL_UNKNOWN;
	return read_netdevs(ctx, f);
}

/* for arrays of struct vfctl_func * (host->funcs, group->members) */
static int cmp_func(const void *a, const void *b)
{
	return strcmp((*(struct vfctl_func *const *)a)->addr, (*(struct vfctl_func *const *)b)->addr);
}

static struct vfctl_func *host_func(const struct vfctl_host *host, const char *addr)
{
	struct vfctl_func key, *keyp = &key, **found;

	if (!host->n_funcs)
		return NULL;
	memcpy(key.addr, addr, VFCTL_ADDR_LEN);
	found = bsearch(&keyp, host->funcs, host->n_funcs, sizeof(*host->funcs), cmp_func);
	return found ? *found : NULL;
}

static int libpci_init(struct pci_access *acc)
{
	jmp_buf jb;

	pci_jmp = &jb;
	if (setjmp(jb)) {
		pci_jmp = NULL;
		return -EIO;
	}
	pci_init(acc);
	pci_jmp = NULL;
	return 0;
}

static void libpci_cleanup(struct pci_access *acc)
{
	jmp_buf jb;

	pci_jmp = &jb;
	if (!setjmp(jb))
		pci_cleanup(acc);
	pci_jmp = NULL;
}

static int scan_funcs(struct vfctl_ctx *ctx, struct vfctl_host *host)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ char *libpci_path = NULL;
	struct pci_access *acc;
	struct dirent *de;
	size_t cap = 0;
	int r;

	r = vfctl_root_opendir(&ctx->sys, VFCTL_DEVDIR, &d);
	if (r < 0)
		return vfctl_err(ctx, r, "%s/" VFCTL_DEVDIR ": %s; is %s a sysfs tree (mounted sysfs, or a "
				 "golden tree with bus/pci/devices)?", ctx->sys.path, strerror(-r),
				 ctx->sys.path);
	if (asprintf(&libpci_path, "%s/bus/pci", ctx->sys.path) < 0)
		return -ENOMEM;

	acc = pci_alloc();
	if (!acc)
		return -ENOMEM;
	acc->method = PCI_ACCESS_SYS_BUS_PCI;
	acc->error = pci_on_error;
	acc->warning = pci_on_warning;
	acc->debug = pci_on_warning;
	pci_set_param(acc, "sysfs.path", libpci_path);
	r = libpci_init(acc);
	if (r < 0) {
		r = vfctl_err(ctx, r, "libpci on %s: %s", libpci_path, pci_msg);
		goto out;
	}

	while ((de = readdir(d))) {
		char addr[VFCTL_ADDR_LEN];

		if (de->d_name[0] == '.')
			continue;
		if (vfctl_addr_parse(de->d_name, addr) < 0 || strcmp(addr, de->d_name)) {
			r = host_warn(host, "%s/" VFCTL_DEVDIR "/%s: not a PCI address, skipped",
				      ctx->sys.path, de->d_name);
			if (r < 0)
				goto out;
			continue;
		}
		struct vfctl_func *f;

		if (host->n_funcs == cap) {
			struct vfctl_func **nf;

			cap = cap ? cap * 2 : 64;
			nf = realloc(host->funcs, cap * sizeof(*nf));
			if (!nf) {
				r = -ENOMEM;
				goto out;
			}
			host->funcs = nf;
		}
		f = malloc(sizeof(*f));
		if (!f) {
			r = -ENOMEM;
			goto out;
		}
		r = func_fill(ctx, acc, addr, f);
		if (r == -ENODEV) {
			func_free(f);
			r = host_warn(host, "%s: vanished during the walk (%s); run the command again",
				      addr, pci_msg);
			if (r < 0)
				goto out;
			continue;
		}
		host->funcs[host->n_funcs++] = f;
		if (r < 0)
			goto out;
	}
	r = 0;
	if (host->n_funcs > 1)
		qsort(host->funcs, host->n_funcs, sizeof(*host->funcs), cmp_func);
out:
	libpci_cleanup(acc);
	return r;
}

/* Attach each PF's virtfnN links to the VF functions. */
static int link_vfs(struct vfctl_ctx *ctx, struct vfctl_host *host)
{
	for (size_t i = 0; i < host->n_funcs; i++) {
		struct vfctl_func *pf = host->funcs[i];
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;

		if (pf->kind != VFCTL_FUNC_PF)
			continue;
		if (vfctl_root_opendir(&ctx->sys, VFCTL_DEV_PATH(pf->addr, NULL), &d) < 0)
			continue;
		while ((de = readdir(d))) {
			char target[64], addr[VFCTL_ADDR_LEN], *end;
			struct vfctl_func *vf;
			unsigned long idx;
			const char *rel;

			if (strncmp(de->d_name, "virtfn", 6) || !de->d_name[6])
				continue;
			idx = strtoul(de->d_name + 6, &end, 10);
			if (*end || idx > 0xffff)
				continue;
			rel = VFCTL_DEV_PATH(pf->addr, "%s", de->d_name);
			if (vfctl_root_link_name(&ctx->sys, rel, target, sizeof(target)) < 0 ||
			    vfctl_addr_parse(target, addr) < 0 || !(vf = host_func(host, addr)))
				continue;	/* the VF went away between readdir and here */
			if (idx >= pf->n_vfs) {
				struct vfctl_func **nv = realloc(pf->vfs, (idx + 1) * sizeof(*nv));

				if (!nv)
					return -ENOMEM;
				memset(nv + pf->n_vfs, 0, (idx + 1 - pf->n_vfs) * sizeof(*nv));
				pf->vfs = nv;
				pf->n_vfs = idx + 1;
			}
			pf->vfs[idx] = vf;
			vf->pf = pf;
			vf->vf_index = (int)idx;
			vf->kind = VFCTL_FUNC_VF;
		}
	}
	return 0;
}

bool vfctl_driver_is_vfio(const char *d)
{
	size_t n = d ? strlen(d) : 0;

	/* vfio-pci and its variant drivers (e.g. mlx5_vfio_pci) */
	return d && (!strcmp(d, "vfio-pci") || (n >= 8 && !strcmp(d + n - 8, "vfio_pci")));
}

int vfctl_func_driver(struct vfctl_ctx *ctx, const char *addr, char *buf, size_t size)
{
	char a[VFCTL_ADDR_LEN], name[64] = "";
	int r;

	if (!ctx || !buf)
		return -EINVAL;
	if (!addr || vfctl_addr_parse(addr, a) < 0)
		return vfctl_err(ctx, -EINVAL, "'%s' is not a PCI address (0000:03:10.0): %s",
				 addr ? addr : "", strerror(EINVAL));
	if (!vfctl_root_exists(&ctx->sys, VFCTL_DEV_PATH(a, NULL)))
		return vfctl_err(ctx, -ENODEV, "%s: no such PCI function in %s/" VFCTL_DEVDIR ": %s; "
				 "'vfctl list' shows the host's", a, ctx->sys.path, strerror(ENODEV));
	r = vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(a, "driver"), name, sizeof(name));
	if (r < 0 && r != -ENOENT)
		return vfctl_err(ctx, r, "%s: reading %s/" VFCTL_DEVDIR "/%s/driver: %s", a,
				 ctx->sys.path, a, strerror(-r));
	if (strlen(name) >= size)
		return vfctl_err(ctx, -ENAMETOOLONG, "%s: driver name %s does not fit %zu bytes", a,
				 name, size);
	memcpy(buf, name, strlen(name) + 1);
	return 0;
}

bool vfctl_vfio_member_ok(const char *d, bool is_bridge)
{
	/* what the kernel's VFIO lets share a group with a device in use */
	return is_bridge || !d || vfctl_driver_is_vfio(d) || !strcmp(d, "pci-stub") ||
	       !strcmp(d, "pcieport");
}

bool vfctl_func_vfio_ok(const struct vfctl_func *f)
{
	return vfctl_vfio_member_ok(f->driver, f->is_bridge);
}

/* A PF in the group together with its own VFs: its port has no ACS below
 * it, so the VFs cannot be split from the PF (taking the PF takes the
 * host's link and every VF's parent). */
static bool group_pf_with_vfs(const struct vfctl_group *g, const struct vfctl_func *pf)
{
	if (pf->kind != VFCTL_FUNC_PF)
		return false;
	for (size_t i = 0; i < g->n_members; i++)
		if (g->members[i]->kind == VFCTL_FUNC_VF && g->members[i]->pf == pf)
			return true;
	return false;
}

static int group_check(struct vfctl_ctx *ctx, struct vfctl_group *g)
{
	const struct vfctl_func *pf = NULL;
	char rel[64], list[400] = "";
	bool any_vfio = false;
	size_t used = 0;
	int n = 0, r;

	snprintf(rel, sizeof(rel), "vfio/%d", g->id);
	g->dev_node = vfctl_root_exists(&ctx->dev, rel);
	g->viable = true;
	for (size_t i = 0; i < g->n_members; i++) {
		struct vfctl_func *m = g->members[i];

		any_vfio |= m->driver && vfctl_driver_is_vfio(m->driver);
		if (vfctl_func_vfio_ok(m))
			continue;
		if (g->viable)
			g->blocker = m;
		g->viable = false;
		if (!pf && group_pf_with_vfs(g, m))
			pf = m;
		/* every member in the way, not the first alone */
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (%s)",
						 n ? ", " : "", m->addr, m->driver);
		n++;
	}
	if (g->viable)
		return 0;
	if (pf)
		r = asprintf(&g->reason, "PF %s (%s) shares group %d with its VFs: its port has no "
			     "ACS isolation, so they cannot be passed through apart from it; pass the "
			     "whole group to one guest, put the card in a slot whose port has ACS, or "
			     "use a platform with ACS", pf->addr, pf->driver, g->id);
	else if (!any_vfio)
		r = asprintf(&g->reason, "%s; nothing of it is on vfio-pci, so nobody asked to "
			     "assign it; to pass group %d through, bind %s to vfio-pci", list, g->id,
			     n > 1 ? "every member" : "it");
	else
		r = asprintf(&g->reason, "blocked by %s; bind %s to vfio-pci too (or unbind %s) so "
			     "group %d can be used with VFIO", list, n > 1 ? "those" : "it",
			     n > 1 ? "them" : "it", g->id);
	return r < 0 ? -ENOMEM : 0;
}

/* for arrays of struct vfctl_group * */
static int cmp_group(const void *a, const void *b)
{
	int x = (*(struct vfctl_group *const *)a)->id, y = (*(struct vfctl_group *const *)b)->id;

	return (x > y) - (x < y);
}

static int scan_groups(struct vfctl_ctx *ctx, struct vfctl_host *host)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	if (vfctl_root_opendir(&ctx->sys, "kernel/iommu_groups", &d) < 0)
		return 0;	/* no IOMMU: no groups */
	while ((de = readdir(d))) {
		_cleanup_closedir_ DIR *md = NULL;
		struct vfctl_group *g, **ng;
		char rel[128], *end;
		long id;

		if (de->d_name[0] == '.')
			continue;
		id = strtol(de->d_name, &end, 10);
		if (*end || id < 0 || id > 0x7fffffff)
			continue;
		ng = realloc(host->groups, (host->n_groups + 1) * sizeof(*ng));
		if (!ng)
			return -ENOMEM;
		host->groups = ng;
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		ng[host->n_groups++] = g;
		g->size = sizeof(*g);
		g->id = (int)id;
		host->iommu_groups = true;

		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%ld/devices", id);
		if (vfctl_root_opendir(&ctx->sys, rel, &md) < 0)
			continue;
		while ((de = readdir(md))) {
			char addr[VFCTL_ADDR_LEN];
			struct vfctl_func *f, **nm;

			if (vfctl_addr_parse(de->d_name, addr) < 0 || !(f = host_func(host, addr)))
				continue;
			nm = realloc(g->members, (g->n_members + 1) * sizeof(*nm));
			if (!nm)
				return -ENOMEM;
			g->members = nm;
			nm[g->n_members++] = f;
		}
		if (g->n_members > 1)
			qsort(g->members, g->n_members, sizeof(*g->members), cmp_func);
		r = group_check(ctx, g);
		if (r < 0)
			return r;
	}
	if (host->n_groups > 1)
		qsort(host->groups, host->n_groups, sizeof(*host->groups), cmp_group);
	return 0;
}

static int scan_host_caps(struct vfctl_ctx *ctx, struct vfctl_host *host)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	if (vfctl_root_opendir(&ctx->sys, "class/iommu", &d) == 0)
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			r = vfctl_strv_push(&host->iommu_units, &host->n_iommu_units, de->d_name);
			if (r < 0)
				return r;
		}
	host->iommu = host->n_iommu_units > 0;
	host->vfio_container = vfctl_root_exists(&ctx->dev, "vfio/vfio");
	host->iommufd = vfctl_root_exists(&ctx->dev, "iommu");
	host->vfio_module = vfctl_root_exists(&ctx->sys, "module/vfio_pci");
	/* vfio-pci makes vfio-dev/vfioN even without cdev support: the node is the proof */
	host->vfio_cdev = vfctl_root_exists(&ctx->dev, "vfio/devices");
	return 0;
}

static int scan_netlink(struct vfctl_ctx *ctx, struct vfctl_host *host, unsigned flags)
{
	for (size_t i = 0; i < host->n_funcs; i++) {
		struct vfctl_func *pf = host->funcs[i];
		int r = 0;

		if (pf->kind != VFCTL_FUNC_PF || pf->n_vfs == 0)
			continue;
		if (pf->n_netdevs == 0)
			r = asprintf(&pf->vf_config_error, "%s has no netdev (driver %s); the VF "
				     "settings are read through the PF's netdev: bind the PF to its "
				     "network driver", pf->addr, pf->driver ? pf->driver : "none");
		else if (!ctx->live)
			r = asprintf(&pf->vf_config_error, "not read: %s is not the live /sys, so "
				     "netlink does not describe it", ctx->sys.path);
		else if (!(flags & VFCTL_SCAN_NETLINK))
			continue;
		else if (vfctl_nl_read_pf_vfs(ctx, pf) < 0)
			pf->vf_config_error = strdup(ctx->err);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

int vfctl_host_scan(struct vfctl_ctx *ctx, unsigned flags, struct vfctl_host **ret)
{
	struct vfctl_host *host = calloc(1, sizeof(*host));
	int r;

	if (!host)
		return vfctl_err(ctx, -ENOMEM, "out of memory");
	host->size = sizeof(*host);
	vfctl_ctx_reap(ctx);
	r = scan_funcs(ctx, host);
	if (r >= 0)
		r = link_vfs(ctx, host);
	if (r >= 0)
		r = scan_groups(ctx, host);
	if (r >= 0)
		r = scan_host_caps(ctx, host);
	if (r >= 0)
		r = scan_netlink(ctx, host, flags);
	if (r < 0) {
		if (r == -ENOMEM)
			vfctl_err(ctx, r, "scanning %s: out of memory", ctx->sys.path);
		vfctl_host_free(host);
		return r;
	}
	*ret = host;
	return 0;
}

struct vfctl_group *vfctl_host_group(const struct vfctl_host *host, int id)
{
	struct vfctl_group key = { .id = id }, *keyp = &key, **found;

	if (!host->n_groups)
		return NULL;
	found = bsearch(&keyp, host->groups, host->n_groups, sizeof(*host->groups), cmp_group);
	return found ? *found : NULL;
}

int vfctl_host_find(struct vfctl_ctx *ctx, const struct vfctl_host *host, const char *name,
		    struct vfctl_func **ret)
{
	char addr[VFCTL_ADDR_LEN];
	struct vfctl_func *f;

	if (vfctl_addr_parse(name, addr) == 0) {
		f = host_func(host, addr);
		if (!f)
			return vfctl_err(ctx, -ENODEV, "%s: no such PCI function in %s/" VFCTL_DEVDIR
					 "; 'vfctl list --all' shows the functions there",
					 addr, ctx->sys.path);
		*ret = f;
		return 0;
	}
	if (strchr(name, ':') || !vfctl_ifname_valid(name))
		return vfctl_err(ctx, -EINVAL, "'%s' is neither a PCI address (0000:03:00.0 or "
				 "03:00.0) nor a network interface name", name);
	for (size_t i = 0; i < host->n_funcs; i++)
		for (size_t j = 0; j < host->funcs[i]->n_netdevs; j++)
			if (!strcmp(host->funcs[i]->netdevs[j]->name, name)) {
				*ret = host->funcs[i];
				return 0;
			}
	return vfctl_err(ctx, -ENODEV, "%s: no PCI function has a netdev of that name in %s/"
			 VFCTL_DEVDIR "/*/net; 'ip link' lists the interfaces, 'vfctl list' the devices",
			 name, ctx->sys.path);
}
