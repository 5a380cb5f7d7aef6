// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host's PCI / SR-IOV / IOMMU topology, read from sysfs by the rooted
 * accessor: each device directory opened once (inside the root), every
 * attribute and link read relative to it, each file once; names from
 * names.c (libpci's pci.ids or the hwdb), looked up once per id.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <pci/pci.h>

#include "internal.h"

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
	/* a software PF owns its VFs: they are in no other list */
	for (size_t i = 0; i < host->n_soft_pfs; i++) {
		for (size_t j = 0; j < host->soft_pfs[i]->n_vfs; j++)
			func_free(host->soft_pfs[i]->vfs[j]);
		func_free(host->soft_pfs[i]);
	}
	free(host->soft_pfs);
	vfctl_strv_free(host->iommu_units, host->n_iommu_units);
	vfctl_strv_free(host->warnings, host->n_warnings);
	free(host);
}

/* An attribute of the device directory dfd, or -1 (absent, unreadable). */
static int attr_int(int dfd, const char *attr, int base)
{
	long v;

	return vfctl_read_int_at(dfd, attr, base, &v) < 0 ? -1 : (int)v;
}

static void read_netdev(int netfd, const char *name, struct vfctl_netdev *nd)
{
	_cleanup_close_ int fd = openat(netfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char buf[64];
	long v;

	memset(nd, 0, sizeof(*nd));
	nd->size = sizeof(*nd);
	copy_str(nd->name, sizeof(nd->name), name);
	nd->ifindex = nd->speed = -1;
	nd->carrier = VFCTL_UNKNOWN;
	if (fd < 0)
		return;	/* gone since readdir: a name only */

	if (!vfctl_read_int_at(fd, "ifindex", 10, &v))
		nd->ifindex = (int)v;
	if (vfctl_read_at(fd, "operstate", buf, sizeof(buf)) > 0)
		copy_str(nd->operstate, sizeof(nd->operstate), buf);
	/* the kernel says "up" only of a running link with carrier: no need
	 * to read it; carrier and speed read EINVAL while the link is down
	 * (unknown, not an error) */
	if (!strcmp(nd->operstate, "up"))
		nd->carrier = VFCTL_ON;
	else if (!vfctl_read_int_at(fd, "carrier", 10, &v))
		nd->carrier = v ? VFCTL_ON : VFCTL_OFF;
	/* a link the kernel calls down has no speed (EINVAL, or the drivers'
	 * SPEED_UNKNOWN): read it of one up or of unknown state only */
	if ((!nd->operstate[0] || !strcmp(nd->operstate, "up") ||
	     !strcmp(nd->operstate, "unknown")) &&
	    !vfctl_read_int_at(fd, "speed", 10, &v) && v > 0)
		nd->speed = (int)v;
	if (vfctl_read_at(fd, "address", buf, sizeof(buf)) == VFCTL_MAC_LEN - 1)
		memcpy(nd->mac, buf, VFCTL_MAC_LEN);
}

static int read_netdevs(int dfd, struct vfctl_func *f)
{
	_cleanup_close_ int fd = -1;
	/* getdents64 into the stack, not opendir: fdopendir's fstat and two
	 * fcntls and its 32 KiB buffer, for every function, cost more than the
	 * one or two names a net/ directory holds */
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	/* net/ is a real directory of the device (class/net/ holds the links) */
	fd = openat(dfd, "net", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* no netdev: not bound to a network driver */
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			struct vfctl_netdev **nv, *nd;

			off += de->d_reclen;
			if (de->d_name[0] == '.' || !vfctl_ifname_valid(de->d_name))
				continue;
			nv = realloc(f->netdevs, (f->n_netdevs + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			f->netdevs = nv;
			nd = malloc(sizeof(*nd));
			if (!nd)
				return -ENOMEM;
			read_netdev(fd, de->d_name, nd);
			nv[f->n_netdevs++] = nd;
		}
	return 0;
}

static void func_init(struct vfctl_func *f, const char *addr, const char *bus)
{
	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	copy_str(f->addr, sizeof(f->addr), addr);
	f->vf_index = -1;
	f->iommu_group = -1;
	f->numa_node = -1;
	f->totalvfs = f->numvfs = f->autoprobe = f->vf_offset = f->vf_stride = -1;
	f->config.link_state = -1;
	f->config.spoofchk = f->config.trust = f->config.query_rss = VFCTL_UNKNOWN;
	f->bus = bus;
}

/* The hex value of the uevent line KEY (two of them split by sep when sep
 * is not 0), which must end the line. */
static bool uevent_hex(const char *ev, const char *key, char sep, unsigned long *a,
		       unsigned long *b)
{
	size_t kl = strlen(key);
	char *end;

	for (const char *l = ev; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, key, kl))
			continue;
		errno = 0;
		*a = strtoul(l + kl, &end, 16);
		if (errno || end == l + kl)
			return false;
		if (sep) {
			const char *s = end + 1;

			if (*end != sep)
				return false;
			*b = strtoul(s, &end, 16);
			if (errno || end == s)
				return false;
		}
		return *end == '\n' || *end == '\0';
	}
	return false;
}

/* The ids from the device's uevent (PCI_ID, PCI_CLASS, PCI_SUBSYS_ID): one
 * read where the five attribute files cost five (a live sysfs answers it
 * about 4x faster); false when any is missing, then the files are read. */
static bool uevent_ids(int dfd, struct vfctl_func *f)
{
	unsigned long ven, dev, cls, sv, sd;
	char ev[1024];

	if (vfctl_read_at(dfd, "uevent", ev, sizeof(ev)) <= 0 ||
	    !uevent_hex(ev, "PCI_ID=", ':', &ven, &dev) ||
	    !uevent_hex(ev, "PCI_CLASS=", 0, &cls, NULL) ||
	    !uevent_hex(ev, "PCI_SUBSYS_ID=", ':', &sv, &sd) ||
	    ven > 0xffff || dev > 0xffff || cls > 0xffffff || sv > 0xffff || sd > 0xffff)
		return false;
	f->vendor = (uint16_t)ven;
	f->device = (uint16_t)dev;
	f->class = (uint32_t)cls;
	f->subsys_vendor = (uint16_t)sv;
	f->subsys_device = (uint16_t)sd;
	return true;
}

/* Fill one function from its directory; -ENODEV (and *gone, the reason)
 * when it vanished while we looked. */
static int func_fill(struct vfctl_ctx *ctx, const char *addr, unsigned flags,
		     struct vfctl_func *f, char *gone, size_t gone_size)
{
	_cleanup_close_ int dfd = -1;
	char buf[256];
	long vendor, device, cls;
	int r;

	func_init(f, addr, "pci");
	dfd = vfctl_root_openat(&ctx->sys, VFCTL_DEV_PATH(addr, NULL), O_RDONLY | O_DIRECTORY);
	if (dfd >= 0 && uevent_ids(dfd, f))
		goto ids_read;
	r = dfd < 0 ? dfd : vfctl_read_int_at(dfd, "vendor", 16, &vendor);
	if (r == -ENOENT) {
		snprintf(gone, gone_size, "Cannot open %s/" VFCTL_DEVDIR "/%s/vendor: %s",
			 ctx->sys.path, addr, strerror(-r));
		return -ENODEV;
	}
	if (r < 0)
		return vfctl_err(ctx, r, "%s: reading %s/" VFCTL_DEVDIR "/%s/vendor: %s", addr,
				 ctx->sys.path, addr, strerror(-r));
	if (vfctl_read_int_at(dfd, "device", 16, &device) < 0)
		device = 0xffff;
	if (vfctl_read_int_at(dfd, "class", 16, &cls) < 0)
		cls = 0xffffff;
	f->vendor = (uint16_t)vendor;
	f->device = (uint16_t)device;
	f->class = (uint32_t)cls & 0xffffff;
	f->subsys_vendor = (uint16_t)attr_int(dfd, "subsystem_vendor", 16);
	f->subsys_device = (uint16_t)attr_int(dfd, "subsystem_device", 16);
ids_read:
	f->is_bridge = (f->class >> 16) == 0x06;
	/* the links' last components: the group's number, the driver's name */
	if (!vfctl_link_name_at(dfd, "iommu_group", buf, sizeof(buf)))
		f->iommu_group = atoi(buf);
	if (!vfctl_link_name_at(dfd, "driver", buf, sizeof(buf)))
		f->driver = strdup(buf);
	if (!vfctl_link_name_at(dfd, "physfn", buf, sizeof(buf))) {
		f->kind = VFCTL_FUNC_VF;
	} else if ((f->totalvfs = attr_int(dfd, "sriov_totalvfs", 10)) >= 0) {
		/* the SR-IOV attributes exist on PFs only */
		int vd;

		f->kind = VFCTL_FUNC_PF;
		f->numvfs = attr_int(dfd, "sriov_numvfs", 10);
		f->autoprobe = attr_int(dfd, "sriov_drivers_autoprobe", 10);
		f->vf_offset = attr_int(dfd, "sriov_offset", 10);
		f->vf_stride = attr_int(dfd, "sriov_stride", 10);
		vd = attr_int(dfd, "sriov_vf_device", 16);
		f->vf_device = vd > 0 ? (uint16_t)vd : 0;
	}
	/* what group viability needs of the others is read: enough for them */
	if (f->kind == VFCTL_FUNC_OTHER && (flags & VFCTL_SCAN_SRIOV_ONLY))
		return 0;

	f->numa_node = attr_int(dfd, "numa_node", 10);
	/* names cost a pci.ids parse where there is no hwdb: only when printed */
	if (!(flags & VFCTL_SCAN_NO_NAMES)) {
		f->vendor_name = vfctl_name_lookup(ctx, PCI_LOOKUP_VENDOR, f->vendor, 0);
		f->device_name = vfctl_name_lookup(ctx, PCI_LOOKUP_DEVICE, f->vendor, f->device);
		f->class_name = vfctl_name_lookup(ctx, PCI_LOOKUP_CLASS, f->class >> 8, 0);
	}
	if (vfctl_read_at(dfd, "driver_override", buf, sizeof(buf)) > 0 && strcmp(buf, "(null)"))
		f->driver_override = strdup(buf);
	return read_netdevs(dfd, f);
}

/* addr read as a new function: *ret NULL when it vanished meanwhile (a
 * warning in host); after another error *ret is what was read, for the
 * caller to keep in host (freed with it). */
static int func_read_new(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *addr,
			 unsigned flags, struct vfctl_func **ret)
{
	char gone[VFCTL_DEV_PATH_MAX + 128] = "";
	struct vfctl_func *f = malloc(sizeof(*f));
	int r;

	*ret = NULL;
	if (!f)
		return -ENOMEM;
	r = func_fill(ctx, addr, flags, f, gone, sizeof(gone));
	if (r == -ENODEV) {
		func_free(f);
		return host_warn(host, "%s: vanished during the walk (%s); run the command again",
				 addr, gone);
	}
	*ret = f;
	return r;
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

static int scan_funcs(struct vfctl_ctx *ctx, struct vfctl_host *host, unsigned flags)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t cap = 0;
	int r;

	r = vfctl_root_opendir(&ctx->sys, VFCTL_DEVDIR, &d);
	if (r < 0)
		return vfctl_err(ctx, r, "%s/" VFCTL_DEVDIR ": %s; is %s a sysfs tree (mounted sysfs, or a "
				 "golden tree with bus/pci/devices)?", ctx->sys.path, strerror(-r),
				 ctx->sys.path);
	while ((de = readdir(d))) {
		char addr[VFCTL_ADDR_LEN];

		if (de->d_name[0] == '.')
			continue;
		struct vfctl_func *f;

		if (vfctl_addr_parse(de->d_name, addr) < 0 || strcmp(addr, de->d_name)) {
			r = host_warn(host, "%s/" VFCTL_DEVDIR "/%s: not a PCI address, skipped",
				      ctx->sys.path, de->d_name);
			if (r < 0)
				return r;
			continue;
		}

		if (host->n_funcs == cap) {
			struct vfctl_func **nf;

			cap = cap ? cap * 2 : 64;
			nf = realloc(host->funcs, cap * sizeof(*nf));
			if (!nf)
				return -ENOMEM;
			host->funcs = nf;
		}
		r = func_read_new(ctx, host, addr, flags, &f);
		if (f)
			host->funcs[host->n_funcs++] = f;
		if (r < 0)
			return r;
	}
	if (host->n_funcs > 1)
		qsort(host->funcs, host->n_funcs, sizeof(*host->funcs), cmp_func);
	return 0;
}

/* vf as VF idx of pf (pf->vfs grown to hold it). */
static int pf_attach_vf(struct vfctl_func *pf, struct vfctl_func *vf, size_t idx)
{
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
	return 0;
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

			if (strncmp(de->d_name, "virtfn", 6) || !de->d_name[6])
				continue;
			idx = strtoul(de->d_name + 6, &end, 10);
			if (*end || idx > 0xffff)
				continue;
			/* relative to the PF's directory, opened once */
			if (vfctl_link_name_at(dirfd(d), de->d_name, target, sizeof(target)) < 0 ||
			    vfctl_addr_parse(target, addr) < 0 || !(vf = host_func(host, addr)))
				continue;	/* the VF went away between readdir and here */
			if (pf_attach_vf(pf, vf, idx) < 0)
				return -ENOMEM;
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

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The numbers of the group nodes in /dev/vfio, sorted: one readdir, not a
 * lookup per group. */
static int read_group_nodes(struct vfctl_ctx *ctx, int **ret, size_t *n)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t cap = 0;

	*ret = NULL;
	*n = 0;
	if (vfctl_root_opendir(&ctx->dev, "vfio", &d) < 0)
		return 0;	/* no VFIO: no nodes */
	while ((de = readdir(d))) {
		char *end;
		long id = strtol(de->d_name, &end, 10);

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || id > 0x7fffffff)
			continue;
		if (*n == cap) {
			int *v = realloc(*ret, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			*ret = v;
		}
		(*ret)[(*n)++] = (int)id;
	}
	if (*n > 1)
		qsort(*ret, *n, sizeof(**ret), cmp_int);
	return 0;
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

static int group_check(struct vfctl_group *g, const int *nodes, size_t n_nodes)
{
	const struct vfctl_func *pf = NULL;
	char list[400] = "";
	bool any_vfio = false;
	size_t used = 0;
	int n = 0, r;

	g->dev_node = n_nodes && bsearch(&g->id, nodes, n_nodes, sizeof(*nodes), cmp_int);
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

int vfctl_group_refresh(struct vfctl_ctx *ctx, struct vfctl_group *g)
{
	_cleanup_free_ int *nodes = NULL;
	size_t n_nodes;
	int r = read_group_nodes(ctx, &nodes, &n_nodes);

	if (r < 0)
		return r;
	free(g->reason);
	g->reason = NULL;
	g->blocker = NULL;
	return group_check(g, nodes, n_nodes);
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
	_cleanup_free_ int *nodes = NULL;
	size_t n_nodes;
	struct dirent *de;
	int r;

	if (vfctl_root_opendir(&ctx->sys, "kernel/iommu_groups", &d) < 0)
		return 0;	/* no IOMMU: no groups */
	r = read_group_nodes(ctx, &nodes, &n_nodes);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		struct vfctl_group *g, **ng;
		char *end;
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
	}
	if (host->n_groups > 1)
		qsort(host->groups, host->n_groups, sizeof(*host->groups), cmp_group);
	/* the members from each function's iommu_group link, read by the scan
	 * already: host->funcs is sorted, so each group's members are too */
	for (size_t i = 0; i < host->n_funcs; i++) {
		struct vfctl_func *f = host->funcs[i], **nm;
		struct vfctl_group *g;

		if (f->iommu_group < 0 || !(g = vfctl_host_group(host, f->iommu_group)))
			continue;
		nm = realloc(g->members, (g->n_members + 1) * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		g->members = nm;
		nm[g->n_members++] = f;
	}
	for (size_t i = 0; i < host->n_groups; i++) {
		r = group_check(host->groups[i], nodes, n_nodes);
		if (r < 0)
			return r;
	}
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
	for (size_t i = 0; i < host->n_funcs + host->n_soft_pfs; i++) {
		struct vfctl_func *pf = i < host->n_funcs ? host->funcs[i] :
					host->soft_pfs[i - host->n_funcs];
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

#define NSIM_DEVDIR "bus/netdevsim/devices"

int vfctl_func_need_pci(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *what)
{
	const struct vfctl_func *pf = f->kind == VFCTL_FUNC_VF && f->pf ? f->pf : f;

	if (!f->bus || !strcmp(f->bus, "pci"))
		return 0;
	return vfctl_err(ctx, -EOPNOTSUPP, "%s%s is a %s software PF%s, no PCI function: %s needs "
			 "one (%s); vfctl list, show, set and apply (VF settings) work on it, and "
			 "%s/" NSIM_DEVDIR "/%s/sriov_numvfs sets its VF count",
			 f == pf ? "" : "a VF of ", pf->addr, f->bus, f == pf ? "" :
			 " whose VFs exist only in netlink", what, strerror(EOPNOTSUPP),
			 ctx->sys.path, pf->addr);
}

/* One netdevsim bus device with SR-IOV (its sriov_numvfs) as a software
 * PF, its VFs as functions without a device; NULL in *ret when it has no
 * sriov_numvfs (not SR-IOV capable) or vanished. */
static int soft_pf_read(struct vfctl_ctx *ctx, const char *name, struct vfctl_func **ret)
{
	_cleanup_close_ int dfd = -1;
	char buf[64], path[128];
	struct vfctl_func *pf;
	long v;
	int r;

	*ret = NULL;
	snprintf(path, sizeof(path), NSIM_DEVDIR "/%s", name);
	dfd = vfctl_root_openat(&ctx->sys, path, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || vfctl_read_int_at(dfd, "sriov_numvfs", 10, &v) < 0 || v < 0 || v > 0xffff)
		return 0;
	pf = malloc(sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	func_init(pf, name, "netdevsim");
	pf->kind = VFCTL_FUNC_PF;
	pf->numvfs = (int)v;
	if (!vfctl_link_name_at(dfd, "driver", buf, sizeof(buf)))
		pf->driver = strdup(buf);
	/* the VF limit is in debugfs (root, and only where it is mounted) */
	snprintf(path, sizeof(path), "kernel/debug/netdevsim/%s/max_vfs", name);
	if (!vfctl_root_read_int(&ctx->sys, path, 10, &v))
		pf->totalvfs = (int)v;
	r = read_netdevs(dfd, pf);
	if (r >= 0 && pf->numvfs > 0 && !(pf->vfs = calloc((size_t)pf->numvfs, sizeof(*pf->vfs))))
		r = -ENOMEM;
	for (int i = 0; r >= 0 && i < pf->numvfs; i++) {
		struct vfctl_func *vf = malloc(sizeof(*vf));

		if (!vf) {
			r = -ENOMEM;
			break;
		}
		func_init(vf, "", pf->bus);
		vf->kind = VFCTL_FUNC_VF;
		vf->pf = pf;
		vf->vf_index = i;
		pf->vfs[pf->n_vfs++] = vf;
	}
	if (r < 0) {
		for (size_t i = 0; i < pf->n_vfs; i++)
			func_free(pf->vfs[i]);
		func_free(pf);
		return r;
	}
	*ret = pf;
	return 0;
}

/* netdevsim's PFs: SR-IOV without PCI, whose VFs only netlink shows. */
static int scan_soft_pfs(struct vfctl_ctx *ctx, struct vfctl_host *host)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (vfctl_root_opendir(&ctx->sys, NSIM_DEVDIR, &d) < 0)
		return 0;	/* no netdevsim module loaded */
	while ((de = readdir(d))) {
		struct vfctl_func **nv, *pf;
		int r;

		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) >= VFCTL_ADDR_LEN) {
			r = host_warn(host, "%s/" NSIM_DEVDIR "/%s: a name longer than %d characters, "
				      "skipped", ctx->sys.path, de->d_name, VFCTL_ADDR_LEN - 1);
			if (r < 0)
				return r;
			continue;
		}
		r = soft_pf_read(ctx, de->d_name, &pf);
		if (r < 0)
			return r;
		if (!pf)
			continue;
		nv = realloc(host->soft_pfs, (host->n_soft_pfs + 1) * sizeof(*nv));
		if (!nv) {
			for (size_t i = 0; i < pf->n_vfs; i++)
				func_free(pf->vfs[i]);
			func_free(pf);
			return -ENOMEM;
		}
		host->soft_pfs = nv;
		host->soft_pfs[host->n_soft_pfs++] = pf;
	}
	if (host->n_soft_pfs > 1)
		qsort(host->soft_pfs, host->n_soft_pfs, sizeof(*host->soft_pfs), cmp_func);
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
	r = scan_funcs(ctx, host, flags);
	if (r >= 0)
		r = link_vfs(ctx, host);
	if (r >= 0)
		r = scan_groups(ctx, host);
	if (r >= 0)
		r = scan_host_caps(ctx, host);
	if (r >= 0)
		r = scan_soft_pfs(ctx, host);
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
	for (size_t i = 0; i < host->n_soft_pfs; i++) {
		f = host->soft_pfs[i];
		for (size_t j = 0; j < f->n_netdevs; j++)
			if (!strcmp(f->netdevs[j]->name, name)) {
				*ret = f;
				return 0;
			}
		if (!strcmp(f->addr, name)) {
			*ret = f;
			return 0;
		}
	}
	return vfctl_err(ctx, -ENODEV, "%s: no PCI function has a netdev of that name in %s/"
			 VFCTL_DEVDIR "/*/net; 'ip link' lists the interfaces, 'vfctl list' the devices",
			 name, ctx->sys.path);
}

/* ---- one device's part of the host (vfctl_host_scan_dev) ----------------- */

/*
 * What a change to one device needs, read by the whole scan's own helpers
 * (so each function is what a scan makes of it), and nothing else: the
 * device, a VF's PF, the members of its IOMMU group and that group. A host
 * of a few hundred functions costs a bind most of its time in the scan.
 */

/* The function at addr in host->funcs (unsorted until part_sort), read
 * unless it is there already; *ret NULL when it went away meanwhile (a
 * warning, as the scan gives). */
static int part_add(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *addr,
		    unsigned flags, struct vfctl_func **ret)
{
	struct vfctl_func **nf, *f;
	int r;

	*ret = NULL;
	for (size_t i = 0; i < host->n_funcs; i++)
		if (!strcmp(host->funcs[i]->addr, addr)) {
			*ret = host->funcs[i];
			return 0;
		}
	nf = realloc(host->funcs, (host->n_funcs + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	host->funcs = nf;
	r = func_read_new(ctx, host, addr, flags, &f);
	if (f)
		host->funcs[host->n_funcs++] = f;
	if (r < 0)
		return r;
	*ret = f;
	return 0;
}

/* A VF's PF, by its physfn link; "" when there is none. */
static void part_pf_addr(struct vfctl_ctx *ctx, const struct vfctl_func *vf,
			 char pf[VFCTL_ADDR_LEN])
{
	char buf[64];

	pf[0] = '\0';
	if (vf->kind == VFCTL_FUNC_VF &&
	    !vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(vf->addr, "physfn"), buf, sizeof(buf)))
		vfctl_addr_parse(buf, pf);	/* untouched ("") unless an address */
}

/* An address's routing ID (bus << 8 | devfn), -1 when malformed. */
static int addr_rid(const char *addr)
{
	unsigned dom, bus, dev, fn;

	if (sscanf(addr, "%4x:%2x:%2x.%1x", &dom, &bus, &dev, &fn) != 4)
		return -1;
	return (int)(bus << 8 | dev << 3 | fn);
}

/* VF vf of pf (both in host) at its index: the one the PF's SR-IOV offset
 * and stride give (the kernel's own arithmetic, pci_iov_virtfn_bus() and
 * _devfn()), confirmed by the PF's virtfnN link; else (a tree without
 * sriov_offset, say) the PF's every virtfn link, as the scan reads them. */
static int part_link_vf(struct vfctl_ctx *ctx, struct vfctl_host *host, struct vfctl_func *pf,
			struct vfctl_func *vf)
{
	int rid = addr_rid(vf->addr) - addr_rid(pf->addr) - pf->vf_offset;
	char target[64];
	size_t idx;

	if (pf->vf_offset < 0 || pf->vf_stride <= 0 || rid < 0 || rid % pf->vf_stride ||
	    memcmp(vf->addr, pf->addr, 5))
		return link_vfs(ctx, host);
	idx = (size_t)(rid / pf->vf_stride);
	if (vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(pf->addr, "virtfn%zu", idx), target,
				 sizeof(target)) < 0 || strcmp(target, vf->addr))
		return link_vfs(ctx, host);
	return pf_attach_vf(pf, vf, idx);
}

/* The members of group id (its devices directory) read into host; 1 when
 * that directory cannot be read (the caller scans the whole host). */
static int part_group_read(struct vfctl_ctx *ctx, struct vfctl_host *host, int id, unsigned flags)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char rel[64];

	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices", id);
	if (vfctl_root_opendir(&ctx->sys, rel, &d) < 0)
		return 1;
	while ((de = readdir(d))) {
		char addr[VFCTL_ADDR_LEN];
		struct vfctl_func *m;
		int r;

		if (de->d_name[0] == '.' || vfctl_addr_parse(de->d_name, addr) < 0 ||
		    strcmp(addr, de->d_name))
			continue;
		r = part_add(ctx, host, addr, flags, &m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Group id as the host's one group: the members whose iommu_group link
 * names it (as the scan takes them), sorted, and its viability. */
static int part_group_make(struct vfctl_ctx *ctx, struct vfctl_host *host, int id)
{
	_cleanup_free_ int *nodes = NULL;
	struct vfctl_group *g;
	size_t n_nodes;
	int r;

	host->groups = calloc(1, sizeof(*host->groups));
	g = calloc(1, sizeof(*g));
	if (!host->groups || !g) {
		free(g);
		return -ENOMEM;
	}
	host->groups[host->n_groups++] = g;
	g->size = sizeof(*g);
	g->id = id;
	host->iommu_groups = true;
	for (size_t i = 0; i < host->n_funcs; i++) {
		struct vfctl_func **nm;

		if (host->funcs[i]->iommu_group != id)
			continue;
		nm = realloc(g->members, (g->n_members + 1) * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		g->members = nm;
		nm[g->n_members++] = host->funcs[i];
	}
	r = read_group_nodes(ctx, &nodes, &n_nodes);
	if (r < 0)
		return r;
	return group_check(g, nodes, n_nodes);
}

/* Has the host any IOMMU group (host->iommu_groups) when f has none? */
static bool part_any_group(struct vfctl_ctx *ctx)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (vfctl_root_opendir(&ctx->sys, "kernel/iommu_groups", &d) < 0)
		return false;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			return true;
	return false;
}

/* The device's part of host; 1 when it takes the whole scan instead. */
static int part_read(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *addr,
		     unsigned flags)
{
	char pf_addr[VFCTL_ADDR_LEN] = "";
	struct vfctl_func *f, *pf = NULL;
	int r;

	/* no such function: the empty host, which vfctl_host_find() says so of */
	if (!vfctl_root_exists(&ctx->sys, VFCTL_DEV_PATH(addr, NULL)))
		return 0;
	r = part_add(ctx, host, addr, flags, &f);
	if (r < 0 || !f)
		return r;
	part_pf_addr(ctx, f, pf_addr);
	if (pf_addr[0]) {
		r = part_add(ctx, host, pf_addr, flags, &pf);
		if (r < 0)
			return r;
	}
	if (f->iommu_group >= 0) {
		r = part_group_read(ctx, host, f->iommu_group, flags);
		if (r != 0)
			return r;
	}
	if (host->n_funcs > 1)
		qsort(host->funcs, host->n_funcs, sizeof(*host->funcs), cmp_func);
	/* every VF read with its PF, if that was read too (a group's PF) */
	for (size_t i = 0; i < host->n_funcs; i++) {
		struct vfctl_func *vf = host->funcs[i], *p;
		char a[VFCTL_ADDR_LEN];

		if (vf->kind != VFCTL_FUNC_VF || vf->pf)
			continue;
		if (vf == f)
			memcpy(a, pf_addr, sizeof(a));
		else
			part_pf_addr(ctx, vf, a);
		if (!a[0] || !(p = host_func(host, a)) || p->kind != VFCTL_FUNC_PF)
			continue;
		r = part_link_vf(ctx, host, p, vf);
		if (r < 0)
			return r;
	}
	if (f->iommu_group >= 0)
		return part_group_make(ctx, host, f->iommu_group);
	host->iommu_groups = part_any_group(ctx);
	return 0;
}

int vfctl_host_scan_dev(struct vfctl_ctx *ctx, const char *dev, unsigned flags,
			struct vfctl_host **ret)
{
	char addr[VFCTL_ADDR_LEN], buf[64], rel[64];
	struct vfctl_host *host;
	int r;

	if (!ctx || !dev || !ret)
		return -EINVAL;
	snprintf(rel, sizeof(rel), "class/net/%s/device", dev);
	/* A netdev name goes by its device link; a name that is no PCI
	 * function's (a software PF's, none at all) by the whole scan, which
	 * vfctl_host_find() answers as it always has. */
	if (vfctl_addr_parse(dev, addr) < 0 &&
	    (!vfctl_ifname_valid(dev) ||
	     vfctl_root_link_name(&ctx->sys, rel, buf, sizeof(buf)) < 0 ||
	     vfctl_addr_parse(buf, addr) < 0))
		return vfctl_host_scan(ctx, flags, ret);
	host = calloc(1, sizeof(*host));
	if (!host)
		return vfctl_err(ctx, -ENOMEM, "out of memory");
	host->size = sizeof(*host);
	vfctl_ctx_reap(ctx);
	r = part_read(ctx, host, addr, flags);
	if (r == 1) {
		vfctl_host_free(host);
		return vfctl_host_scan(ctx, flags, ret);
	}
	if (r >= 0)
		r = scan_host_caps(ctx, host);
	if (r >= 0)
		r = scan_netlink(ctx, host, flags);
	if (r < 0) {
		if (r == -ENOMEM)
			vfctl_err(ctx, r, "scanning %s for %s: out of memory", ctx->sys.path, addr);
		vfctl_host_free(host);
		return r;
	}
	*ret = host;
	return 0;
}
