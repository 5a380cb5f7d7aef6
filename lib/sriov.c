// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Creating and destroying VFs: sriov_numvfs under the PF's lock, through 0
 * when the count changes (the kernel answers EBUSY otherwise), each write
 * bounded, then a wait until the kernel has finished what it does after the
 * write returns (VF links, config, IOMMU group, the VF driver's netdev).
 *
 * What is and is not refused:
 *  - a VF whose VFIO group or device node is open (a VM, a DPDK app): always.
 *    Removing it blocks in the kernel (vfio-pci's remove waits for the last
 *    close), so there is no --force for it: stop the user first.
 *  - changing a non-zero count when a VF has a driver: it goes through 0, so
 *    every VF, its netdev and its settings go away; VFCTL_NUMVFS_FORCE says
 *    that is meant. Safe to offer: the host drivers let go of their devices.
 *  - destroying VFs bound to host drivers or unused by VFIO: that is what
 *    destroy means, no force needed.
 *  - removing VFs that vfctld leases (an active lease in RUN_DIR/leases.json):
 *    their users would lose them and the leases would point at whatever VF
 *    comes next at that address; VFCTL_NUMVFS_FORCE says that is meant.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define SETTLE_POLL_MS 10
/* sriov_drivers_autoprobe_store takes no lock: a restore that takes longer
 * than this is a broken kernel, not a slow one. */
#define AUTOPROBE_WRITE_MS 2000

struct sriov_vf {
	char addr[VFCTL_ADDR_LEN];
	char driver[64];	/* "" none */
	char netdev[VFCTL_IFNAME_LEN];	/* "" none */
	int group;		/* -1 none */
};

/* The state of one PF, read under its lock. */
struct sriov_pf {
	char addr[VFCTL_ADDR_LEN];
	int totalvfs, numvfs, autoprobe;	/* autoprobe -1: no such file */
	size_t n_vfs;
	struct sriov_vf *vfs;	/* virtfn0 .. virtfn(numvfs-1); addr "" where missing */
};

static int pf_attr_int(struct vfctl_ctx *ctx, const char *addr, const char *attr, int *ret)
{
	long v;
	int r = vfctl_root_read_int(&ctx->sys, VFCTL_DEV_PATH(addr, "%s", attr), 10, &v);

	if (r < 0)
		return r;
	if (v < 0 || v > INT_MAX)
		return -ERANGE;
	*ret = (int)v;
	return 0;
}

/* The first netdev of a function, "" when it has none. */
static void func_netdev(struct vfctl_ctx *ctx, const char *addr, char name[VFCTL_IFNAME_LEN])
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	name[0] = '\0';
	if (vfctl_root_opendir(&ctx->sys, VFCTL_DEV_PATH(addr, "net"), &d) < 0)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && vfctl_ifname_valid(de->d_name)) {
			memcpy(name, de->d_name, strlen(de->d_name) + 1);	/* < IFNAMSIZ */
			return;
		}
}

/* VF idx of a PF: its address from the virtfn link; -ENOENT if there is none. */
static int pf_vf_addr(struct vfctl_ctx *ctx, const char *pf, unsigned idx,
		      char addr[VFCTL_ADDR_LEN])
{
	char target[64];
	int r = vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(pf, "virtfn%u", idx), target,
				     sizeof(target));

	if (r < 0)
		return r;
	return vfctl_addr_parse(target, addr);
}

static void sriov_pf_done(struct sriov_pf *p)
{
	free(p->vfs);
	p->vfs = NULL;
}

static int sriov_pf_read(struct vfctl_ctx *ctx, const char *addr, struct sriov_pf *p)
{
	int r;

	memset(p, 0, sizeof(*p));
	memcpy(p->addr, addr, VFCTL_ADDR_LEN);
	r = pf_attr_int(ctx, addr, "sriov_totalvfs", &p->totalvfs);
	if (r >= 0)
		r = pf_attr_int(ctx, addr, "sriov_numvfs", &p->numvfs);
	if (r < 0)
		return vfctl_err(ctx, r, "%s: reading %s/" VFCTL_DEVDIR "/%s/sriov_totalvfs and "
				 "sriov_numvfs: %s; is it still an SR-IOV PF ('vfctl show %s')?", addr,
				 ctx->sys.path, addr, strerror(-r), addr);
	if (pf_attr_int(ctx, addr, "sriov_drivers_autoprobe", &p->autoprobe) < 0)
		p->autoprobe = -1;	/* kernels before 4.12 */

	if (p->numvfs > 0) {
		p->vfs = calloc((size_t)p->numvfs, sizeof(*p->vfs));
		if (!p->vfs)
			return vfctl_err(ctx, -ENOMEM, "%s: out of memory", addr);
	}
	p->n_vfs = (size_t)p->numvfs;
	for (size_t i = 0; i < p->n_vfs; i++) {
		struct sriov_vf *vf = &p->vfs[i];
		char grp[32];

		vf->group = -1;
		if (pf_vf_addr(ctx, addr, (unsigned)i, vf->addr) < 0) {
			vf->addr[0] = '\0';
			continue;
		}
		if (vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(vf->addr, "driver"), vf->driver,
					 sizeof(vf->driver)) < 0)
			vf->driver[0] = '\0';
		if (vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(vf->addr, "iommu_group"), grp,
					 sizeof(grp)) == 0)
			vf->group = atoi(grp);
		func_netdev(ctx, vf->addr, vf->netdev);
	}
	return 0;
}

/*
 * Who has a VF's VFIO node open: the group node /dev/vfio/G and, with
 * iommufd, the device cdev /dev/vfio/devices/vfioN. Returns the number of
 * holders with "pid 42 (qemu) on /dev/vfio/7" in buf.
 */
static int vf_vfio_users(struct vfctl_ctx *ctx, const char *devroot, const struct sriov_vf *vf,
			 char *buf, size_t size)
{
	char nodes[2][64], node[PATH_MAX + 64];
	size_t n_nodes = 0;
	int total = 0;

	buf[0] = '\0';
	if (!vf->addr[0] || !vfctl_driver_is_vfio(vf->driver))
		return 0;
	if (vf->group >= 0)
		snprintf(nodes[n_nodes++], sizeof(nodes[0]), "vfio/%d", vf->group);
	{
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;

		if (vfctl_root_opendir(&ctx->sys, VFCTL_DEV_PATH(vf->addr, "vfio-dev"), &d) == 0)
			while ((de = readdir(d)))
				if (!strncmp(de->d_name, "vfio", 4) && strlen(de->d_name) < 32) {
					snprintf(nodes[n_nodes++], sizeof(nodes[0]), "vfio/devices/%s",
						 de->d_name);
					break;
				}
	}
	for (size_t i = 0; i < n_nodes; i++) {
		size_t used = strlen(buf);
		char who[256];
		int r;

		if (!vfctl_root_exists(&ctx->dev, nodes[i]))
			continue;
		snprintf(node, sizeof(node), "%s/%s", devroot, nodes[i]);
		r = vfctl_vfio_node_holders(ctx, nodes[i], who, sizeof(who));
		if (r < 0)
			return vfctl_err(ctx, r, "%s: looking for processes that hold %s open: /proc: %s; "
					 "run as root with /proc mounted", vf->addr, node, strerror(-r));
		if (r > 0 && used < size)
			snprintf(buf + used, size - used, "%s%s on %s", used ? ", " : "", who, node);
		total += r;
	}
	return total;
}

/* The first VF a VFIO user holds: its index, or -1; who in buf. */
static int pf_vfio_user(struct vfctl_ctx *ctx, const struct sriov_pf *p, char *buf, size_t size)
{
	char devroot[PATH_MAX];

	buf[0] = '\0';
	if (ctx->dev.fd < 0 || !realpath(ctx->dev.path, devroot))
		return -1;	/* no device tree: nothing can hold a node */
	for (size_t i = 0; i < p->n_vfs; i++) {
		int r = vf_vfio_users(ctx, devroot, &p->vfs[i], buf, size);

		if (r < 0)
			return r;
		if (r > 0)
			return (int)i;
	}
	return -1;
}

/* Refuse to remove VFs a VFIO user holds: the kernel would block until it lets go. */
static int sriov_check_vfio_users(struct vfctl_ctx *ctx, const struct sriov_pf *p, unsigned n)
{
	char who[384];
	int i = pf_vfio_user(ctx, p, who, sizeof(who));

	if (i < -1)
		return i;
	if (i < 0)
		return 0;
	return vfctl_err(ctx, -EBUSY, "%s: VF %d (%s, %s) is in use by VFIO: %s; %s would remove it "
			 "and block in the kernel until it is closed: %s; stop that process (or its "
			 "VM) first, then retry (--force does not override this)", p->addr, i,
			 p->vfs[i].addr, p->vfs[i].driver, who,
			 n ? "changing the VF count" : "destroying the VFs", strerror(EBUSY));
}

/* A count change goes through 0: the VFs' drivers lose their devices. */
static int sriov_check_drivers(struct vfctl_ctx *ctx, const struct sriov_pf *p, unsigned n)
{
	const struct sriov_vf *first = NULL;
	size_t bound = 0;

	for (size_t i = 0; i < p->n_vfs; i++)
		if (p->vfs[i].driver[0]) {
			first = first ? first : &p->vfs[i];
			bound++;
		}
	if (!bound)
		return 0;
	return vfctl_err(ctx, -EBUSY, "%s: going from %d to %u VFs removes all %d first (the kernel "
			 "changes sriov_numvfs only through 0), and %zu of them %s a driver (%s on "
			 "%s%s%s): %s; pass --force to remove them anyway, or destroy them first",
			 p->addr, p->numvfs, n, p->numvfs, bound, bound == 1 ? "has" : "have",
			 first->addr, first->driver, first->netdev[0] ? ", netdev " : "",
			 first->netdev, strerror(EBUSY));
}

static const char *numvfs_hint(int r)
{
	switch (r) {
	case -ENOENT:
		return "the PF's driver does not support SR-IOV configuration through sysfs, or "
		       "no driver is bound: bind the PF to its network driver";
	case -EBUSY:
		return "VFs are already enabled (changed by someone else meanwhile?): run the "
		       "command again";
	case -ERANGE:
		return "more than sriov_totalvfs: ask for fewer";
	case -EPERM:
		return "the driver refuses while a VF is assigned to a guest: release it first";
	case -ENOMEM:
	case -ENOSPC:
	case -EIO:
		return "the driver could not enable that many VFs (bus numbers, MMIO space, "
		       "queues or interrupts): see 'dmesg', try fewer";
	default:
		return "see 'dmesg' for the driver's reason";
	}
}

/* Write one SR-IOV attribute, bounded; the message names the device and file. */
static int sriov_write(struct vfctl_ctx *ctx, const char *addr, const char *attr, unsigned val,
		       unsigned timeout_ms)
{
	const char *rel = VFCTL_DEV_PATH(addr, "%s", attr);
	char sval[16];
	int r;

	snprintf(sval, sizeof(sval), "%u", val);
	/* A write started with no time left would finish behind our back. */
	if (!timeout_ms)
		return vfctl_err(ctx, -ETIMEDOUT, "%s: no time left to write %s to %s/%s: %s; "
				 "allow more time with --timeout", addr, sval, ctx->sys.path, rel,
				 strerror(ETIMEDOUT));
	r = vfctl_root_write_bounded(&ctx->sys, rel, sval, timeout_ms, &ctx->children);
	if (r == -ETIMEDOUT)
		return vfctl_err(ctx, r, "%s: write %s to %s/%s: %s (no return within %u ms): the "
				 "device or its driver hangs the write, and a child process stays "
				 "blocked in it; see 'dmesg' and the PF's state before retrying",
				 addr, sval, ctx->sys.path, rel, strerror(-r), timeout_ms);
	if (r < 0)
		return vfctl_err(ctx, r, "%s: write %s to %s/%s: %s; %s", addr, sval, ctx->sys.path,
				 rel, strerror(-r),
				 strcmp(attr, "sriov_numvfs") ? "is the PF still there?" : numvfs_hint(r));
	return 0;
}

static bool class_is_network(struct vfctl_ctx *ctx, const char *addr)
{
	long v;

	return vfctl_root_read_int(&ctx->sys, VFCTL_DEV_PATH(addr, "class"), 16, &v) == 0 &&
	       (v >> 16) == 0x02;
}

/*
 * Is VF idx complete? 0 when it is, 1 with what is missing in what.
 * Complete: the virtfn link, config, the IOMMU group when the host has an
 * IOMMU and, when a host network driver is bound, its netdev.
 */
static int vf_incomplete(struct vfctl_ctx *ctx, const char *pf, unsigned idx, bool iommu,
			 char *what, size_t size)
{
	char addr[VFCTL_ADDR_LEN], drv[64], net[VFCTL_IFNAME_LEN];

	if (pf_vf_addr(ctx, pf, idx, addr) < 0) {
		snprintf(what, size, "VF %u has no virtfn%u link", idx, idx);
		return 1;
	}
	if (!vfctl_root_exists(&ctx->sys, VFCTL_DEV_PATH(addr, "config"))) {
		snprintf(what, size, "VF %u (%s) has no config", idx, addr);
		return 1;
	}
	if (iommu && !vfctl_root_exists(&ctx->sys, VFCTL_DEV_PATH(addr, "iommu_group"))) {
		snprintf(what, size, "VF %u (%s) has no iommu_group", idx, addr);
		return 1;
	}
	/* The driver link appears before probe() runs; the netdev at its end
	 * (or the link goes away when the probe fails). */
	if (vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(addr, "driver"), drv, sizeof(drv)) < 0 ||
	    vfctl_driver_is_vfio(drv) ||
	    !strcmp(drv, "pci-stub") || !class_is_network(ctx, addr))
		return 0;
	func_netdev(ctx, addr, net);
	if (!net[0]) {
		snprintf(what, size, "VF %u (%s) is bound to %s but has no netdev", idx, addr, drv);
		return 1;
	}
	return 0;
}

/* 0 when the PF has exactly VFs 0..n-1, all complete; 1 with what is not.
 * *ready: how many VFs from VF 0 on are complete. */
static int pf_incomplete(struct vfctl_ctx *ctx, const char *pf, unsigned n, bool iommu,
			 char *what, size_t size, unsigned *ready)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	unsigned long stale = ULONG_MAX;
	int numvfs;

	*ready = 0;
	if (pf_attr_int(ctx, pf, "sriov_numvfs", &numvfs) == 0 && (unsigned)numvfs != n) {
		snprintf(what, size, "sriov_numvfs reads %d", numvfs);
		return 1;
	}
	for (*ready = 0; *ready < n; (*ready)++)
		if (vf_incomplete(ctx, pf, *ready, iommu, what, size))
			return 1;
	/* VFs of the old count must be gone */
	if (vfctl_root_opendir(&ctx->sys, VFCTL_DEV_PATH(pf, NULL), &d) < 0) {
		snprintf(what, size, "the PF's directory is gone");
		return 1;
	}
	while ((de = readdir(d))) {
		char *end;
		unsigned long idx;

		if (strncmp(de->d_name, "virtfn", 6) || !de->d_name[6])
			continue;
		idx = strtoul(de->d_name + 6, &end, 10);
		if (!*end && idx >= n && idx < stale)
			stale = idx;
	}
	if (stale == ULONG_MAX)
		return 0;
	snprintf(what, size, "virtfn%lu (of the old VFs) is still there", stale);
	return 1;
}

static int sriov_settle(struct vfctl_ctx *ctx, const char *pf, unsigned n, bool iommu,
			uint64_t deadline, unsigned timeout_ms)
{
	char what[160];
	unsigned ready = 0, told = 0;

	for (;;) {
		int r = pf_incomplete(ctx, pf, n, iommu, what, sizeof(what), &ready);

		/* a count once, when it grows */
		if (ctx->progress && n && ready > told) {
			ctx->progress(ctx->progress_data, pf, "appeared", ready, n);
			told = ready;
		}
		if (!r)
			return 0;
		if (vfctl_now_ms() >= deadline)
			return vfctl_err(ctx, -ETIMEDOUT, "%s: sriov_numvfs was set to %u, but after %u ms "
					 "%s (in %s/" VFCTL_DEVDIR "/%s): %s; see 'dmesg', or allow more time "
					 "with --timeout", pf, n, timeout_ms, what, ctx->sys.path, pf,
					 strerror(ETIMEDOUT));
		poll(NULL, 0, SETTLE_POLL_MS);
	}
}

static int err_range(struct vfctl_ctx *ctx, const char *addr, unsigned n, int totalvfs)
{
	return vfctl_err(ctx, -ERANGE, "%s: %u VFs asked, but sriov_totalvfs is %d (%s/" VFCTL_DEVDIR
			 "/%s/sriov_totalvfs): %s; ask for %d or fewer", addr, n, totalvfs,
			 ctx->sys.path, addr, strerror(ERANGE), totalvfs);
}

static unsigned remaining_ms(uint64_t deadline)
{
	uint64_t now = vfctl_now_ms();

	return now >= deadline ? 0 : (unsigned)(deadline - now);
}

/* Does the host have an IOMMU unit (class/iommu), as the scan says? */
static bool host_has_iommu(struct vfctl_ctx *ctx)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (vfctl_root_opendir(&ctx->sys, "class/iommu", &d) < 0)
		return false;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			return true;
	return false;
}

/* A PF given by its address, read from its own directory alone (no scan of
 * the host: a count change needs only the PF). 1 when it is not a plain
 * bound PF with room for n VFs: the scan's path then says what is wrong. */
static int sriov_find_pf_addr(struct vfctl_ctx *ctx, const char *name, unsigned n,
			      char addr[VFCTL_ADDR_LEN], bool *iommu)
{
	char a[VFCTL_ADDR_LEN], drv[64];
	int totalvfs;

	if (vfctl_addr_parse(name, a) < 0 ||
	    vfctl_root_exists(&ctx->sys, VFCTL_DEV_PATH(a, "physfn")) ||
	    pf_attr_int(ctx, a, "sriov_totalvfs", &totalvfs) < 0 || n > (unsigned)totalvfs ||
	    vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(a, "driver"), drv, sizeof(drv)) < 0)
		return 1;
	memcpy(addr, a, VFCTL_ADDR_LEN);
	*iommu = host_has_iommu(ctx);
	return 0;
}

/* Find the PF; a VF, a non-PF or an unknown name is refused with what to do. */
static int sriov_find_pf(struct vfctl_ctx *ctx, const char *name, unsigned n,
			 char addr[VFCTL_ADDR_LEN], bool *iommu)
{
	struct vfctl_host *host = NULL;
	struct vfctl_func *f;
	int r;

	if (sriov_find_pf_addr(ctx, name, n, addr, iommu) == 0)
		return 0;
	r = vfctl_host_scan(ctx, 0, &host);
	if (r < 0)
		return r;
	r = vfctl_host_find(ctx, host, name, &f);
	if (r >= 0)
		r = vfctl_func_need_pci(ctx, f, "changing the VF count with vfctl");
	if (r < 0)
		goto out;
	if (f->kind == VFCTL_FUNC_VF) {
		char pf[VFCTL_ADDR_LEN] = "?";

		if (f->pf)
			memcpy(pf, f->pf->addr, VFCTL_ADDR_LEN);
		else if (vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(f->addr, "physfn"), pf,
					      sizeof(pf)) < 0)
			strcpy(pf, "?");
		r = vfctl_err(ctx, -EINVAL, "%s is VF %d of PF %s, not a PF: %s; give the PF "
			      "('vfctl create %s N', 'vfctl destroy %s')", f->addr, f->vf_index, pf,
			      strerror(EINVAL), pf, pf);
		goto out;
	}
	if (f->kind != VFCTL_FUNC_PF) {
		r = vfctl_err(ctx, -EOPNOTSUPP, "%s is not an SR-IOV PF (no %s/" VFCTL_DEVDIR
			      "/%s/sriov_totalvfs): %s; 'vfctl list' shows the PFs", f->addr,
			      ctx->sys.path, f->addr, strerror(EOPNOTSUPP));
		goto out;
	}
	/* checked again under the lock; here so bad input needs no run directory */
	if (f->totalvfs >= 0 && n > (unsigned)f->totalvfs) {
		r = err_range(ctx, f->addr, n, f->totalvfs);
		goto out;
	}
	if (!f->driver) {
		/* the kernel would say ENOENT; say why before anything changes */
		r = vfctl_err(ctx, -ENOENT, "%s: no driver is bound, so the kernel cannot set "
			      "sriov_numvfs: %s; bind the PF to its network driver first", f->addr,
			      strerror(ENOENT));
		goto out;
	}
	memcpy(addr, f->addr, VFCTL_ADDR_LEN);
	*iommu = host->iommu;
	r = 0;
out:
	vfctl_host_free(host);
	return r;
}

int vfctl_pf_set_numvfs(struct vfctl_ctx *ctx, const char *pf, unsigned n, unsigned flags,
			unsigned timeout_ms, struct vfctl_numvfs_report *rep)
{
	_cleanup_close_ int lock = -1;
	char addr[VFCTL_ADDR_LEN];
	struct sriov_pf p = { 0 };
	bool iommu = false, autoprobe_off = false, through_zero;
	uint64_t t0, t_written, deadline;
	int r, r2;

	if (!ctx)
		return -EINVAL;
	if (!pf)
		return vfctl_err(ctx, -EINVAL, "no PF given: %s", strerror(EINVAL));
	if (rep && rep->size < sizeof(rep->size))
		return vfctl_err(ctx, -EINVAL, "%s: the report's size is %zu: set it to "
				 "sizeof(struct vfctl_numvfs_report)", pf, rep->size);
	r = sriov_find_pf(ctx, pf, n, addr, &iommu);
	if (r < 0)
		return r;

	/* Everything from here on is read fresh under the lock: a concurrent
	 * create may have changed it since the scan. */
	r = vfctl_pf_lock(ctx, addr, &lock);
	if (r < 0)
		return r;
	r = sriov_pf_read(ctx, addr, &p);
	if (r < 0)
		goto out;
	if (n > (unsigned)p.totalvfs) {
		r = err_range(ctx, addr, n, p.totalvfs);
		goto out;
	}
	if ((flags & VFCTL_NUMVFS_NO_AUTOPROBE) && n > 0 && p.autoprobe < 0) {
		r = vfctl_err(ctx, -EOPNOTSUPP, "%s: no %s/" VFCTL_DEVDIR "/%s/sriov_drivers_autoprobe "
			      "(kernels before 4.12): %s; create the VFs without --no-autoprobe and "
			      "rebind them", addr, ctx->sys.path, addr, strerror(EOPNOTSUPP));
		goto out;
	}
	through_zero = p.numvfs > 0 && n > 0 && (unsigned)p.numvfs != n;
	if (p.numvfs > 0 && (unsigned)p.numvfs != n) {
		r = sriov_check_vfio_users(ctx, &p, n);
		if (r < 0)
			goto out;
		if (!(flags & VFCTL_NUMVFS_FORCE)) {
			r = vfctl_lease_guard(ctx, addr, true, n ? "changing the VF count (through 0)"
					      : "destroying the VFs");
			if (r < 0)
				goto out;
		}
	}
	if (through_zero && !(flags & VFCTL_NUMVFS_FORCE)) {
		r = sriov_check_drivers(ctx, &p, n);
		if (r < 0)
			goto out;
	}

	/* Default: 5 s, and 1 s for each VF removed or created. */
	if (!timeout_ms) {
		unsigned removed = (unsigned)p.numvfs != n ? (unsigned)p.numvfs : 0;

		timeout_ms = 5000 + 1000 * (removed + ((unsigned)p.numvfs != n ? n : 0));
	}
	t0 = vfctl_now_ms();
	deadline = t0 + timeout_ms;

	if ((unsigned)p.numvfs != n) {
		if ((flags & VFCTL_NUMVFS_NO_AUTOPROBE) && n > 0 && p.autoprobe != 0) {
			r = sriov_write(ctx, addr, "sriov_drivers_autoprobe", 0, remaining_ms(deadline));
			if (r < 0)
				goto out;
			autoprobe_off = true;
		}
		if (p.numvfs > 0) {
			if (ctx->progress)
				ctx->progress(ctx->progress_data, addr, "removing", 0,
					      (unsigned)p.numvfs);
			r = sriov_write(ctx, addr, "sriov_numvfs", 0, remaining_ms(deadline));
			if (r == -ETIMEDOUT) {
				/* a VFIO user may have opened a VF since we looked: name it */
				char who[256], msg[sizeof(ctx->err)];
				int i;

				memcpy(msg, ctx->err, sizeof(msg));
				i = pf_vfio_user(ctx, &p, who, sizeof(who));
				memcpy(ctx->err, msg, sizeof(msg));
				if (i >= 0) {
					size_t len = strlen(ctx->err);

					snprintf(ctx->err + len, sizeof(ctx->err) - len, " (VF %d is held "
						 "by VFIO: %s)", i, who);
				}
			}
			if (r < 0)
				goto out;
		}
		if (n > 0) {
			r = sriov_write(ctx, addr, "sriov_numvfs", n, remaining_ms(deadline));
			if (r < 0) {
				if (through_zero) {
					size_t len = strlen(ctx->err);

					snprintf(ctx->err + len, sizeof(ctx->err) - len,
						 " (the PF now has 0 VFs; it had %d)", p.numvfs);
				}
				goto out;
			}
		}
	}
	/* nothing written took no time (two clock reads can straddle a ms) */
	t_written = (unsigned)p.numvfs != n ? vfctl_now_ms() : t0;
	r = sriov_settle(ctx, addr, n, iommu, deadline, timeout_ms);
	if (r < 0)
		goto out;
	if (rep) {
		struct vfctl_numvfs_report out = {
			.size = sizeof(out), .before = p.numvfs, .after = (int)n,
			.write_ms = (unsigned)(t_written - t0),
			.settle_ms = (unsigned)(vfctl_now_ms() - t_written),
			.autoprobe = p.autoprobe,
		};

		memcpy(out.pf, addr, VFCTL_ADDR_LEN);
		vfctl_sized_out(rep, &out, sizeof(out));
	}
	r = 0;
out:
	/* After the settle wait, so the VFs' probe has happened with it off. */
	if (autoprobe_off) {
		char first[sizeof(ctx->err)];

		memcpy(first, ctx->err, sizeof(first));
		r2 = sriov_write(ctx, addr, "sriov_drivers_autoprobe", (unsigned)p.autoprobe,
				 AUTOPROBE_WRITE_MS);
		if (r2 < 0 && r >= 0) {
			r = r2;
		} else if (r2 < 0) {
			char second[sizeof(ctx->err)];

			memcpy(second, ctx->err, sizeof(second));
			vfctl_err(ctx, r, "%.300s; restoring autoprobe failed too: %.200s", first, second);
		} else {
			memcpy(ctx->err, first, sizeof(first));
		}
	}
	sriov_pf_done(&p);
	return r;
}

int vfctl_pf_set_autoprobe(struct vfctl_ctx *ctx, const char *pf, bool on, unsigned timeout_ms)
{
	_cleanup_close_ int lock = -1;
	char addr[VFCTL_ADDR_LEN];
	int r;

	if (!ctx)
		return -EINVAL;
	if (!pf || vfctl_addr_parse(pf, addr) < 0)
		return vfctl_err(ctx, -EINVAL, "%s: not a PCI address: %s", pf ? pf : "(none)",
				 strerror(EINVAL));
	r = vfctl_pf_lock(ctx, addr, &lock);
	if (r < 0)
		return r;
	return sriov_write(ctx, addr, "sriov_drivers_autoprobe", on, timeout_ms ? timeout_ms : 5000);
}
