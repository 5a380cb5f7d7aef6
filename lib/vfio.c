// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VFIO: a PCI function opened for userspace use (the legacy container and
 * group with the type1v2 IOMMU, or iommufd and the device cdev), or only its
 * nodes opened to be handed over; group lookup, viability and who holds a
 * group; regions, interrupts, DMA mappings and reset of an open device.
 * Nodes are opened under ctx->dev and sysfs is read under ctx->sys.
 */
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "internal.h"

/* The VFIO device cdev and iommufd (Linux 6.6 uapi); older headers lack them. */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
struct vfio_device_attach_iommufd_pt {
	uint32_t argsz, flags, pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#define IOMMUFD_TYPE (';')
struct iommu_ioas_alloc {
	uint32_t size, flags, out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)
enum { IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0, IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
       IOMMU_IOAS_MAP_READABLE = 1 << 2 };
struct iommu_ioas_map {
	uint32_t size, flags, ioas_id, __reserved;
	uint64_t user_va, length, iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, 0x85)
struct iommu_ioas_unmap {
	uint32_t size, ioas_id;
	uint64_t iova, length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, 0x86)
enum { IOMMU_OPTION_RLIMIT_MODE = 0 };
enum { IOMMU_OPTION_OP_SET = 0, IOMMU_OPTION_OP_GET = 1 };
struct iommu_option {
	uint32_t size, option_id;
	uint16_t op, __reserved;
	uint32_t object_id;
	uint64_t val64;
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, 0x87)
#endif

_Static_assert((int)VFCTL_VFIO_CONFIG == (int)VFIO_PCI_CONFIG_REGION_INDEX, "region index");
_Static_assert((int)VFCTL_VFIO_ROM == (int)VFIO_PCI_ROM_REGION_INDEX, "region index");
_Static_assert((int)VFCTL_VFIO_IRQ_MSIX == (int)VFIO_PCI_MSIX_IRQ_INDEX, "irq index");
_Static_assert(VFCTL_VFIO_IRQ_EVENTFD == VFIO_IRQ_INFO_EVENTFD &&
	       VFCTL_VFIO_IRQ_MASKABLE == VFIO_IRQ_INFO_MASKABLE &&
	       VFCTL_VFIO_IRQ_AUTOMASKED == VFIO_IRQ_INFO_AUTOMASKED &&
	       VFCTL_VFIO_IRQ_NORESIZE == VFIO_IRQ_INFO_NORESIZE, "irq flags");

#define DEVDIR "bus/pci/devices"
/* Hand an fd out of a variable that closes it. */
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })
#define MAX_REGIONS 9		/* BARs, ROM, config, VGA */
#define MAX_IRQ_VECTORS 2048	/* MSI-X's table size limit */

struct vfctl_vfio_dev {
	struct vfctl_ctx *ctx;
	char addr[VFCTL_ADDR_LEN];
	int group;
	int container_fd, group_fd, iommufd, device_fd;
	bool group_set;		/* the group is in container_fd */
	bool iommufd_path;
	uint32_t ioas_id;
	uint32_t dev_flags, num_regions, num_irqs;
	struct {
		bool known;
		uint64_t offset, length;
	} regions[MAX_REGIONS];
};

static const char *dev_path(const struct vfctl_ctx *ctx)
{
	return ctx->dev.path ? ctx->dev.path : "/dev";
}

/* A node under the dev root; a missing root reads as a missing node. */
static int node_open(struct vfctl_ctx *ctx, const char *rel, int flags)
{
	int fd = vfctl_root_openat(&ctx->dev, rel, flags);

	return fd == -EBADF && ctx->dev.fd < 0 ? -ENOENT : fd;
}

static const char *region_name(unsigned index, char *buf, size_t size)
{
	if (index <= 5)
		snprintf(buf, size, "BAR%u", index);
	else if (index == VFCTL_VFIO_ROM)
		snprintf(buf, size, "the ROM");
	else if (index == VFCTL_VFIO_CONFIG)
		snprintf(buf, size, "config space");
	else
		snprintf(buf, size, "region %u", index);
	return buf;
}

/* ---- sysfs: group, viability, cdev, reserved ranges ---------------------------- */

int vfctl_vfio_group_of(struct vfctl_ctx *ctx, const char *addr, int *ret)
{
	char a[VFCTL_ADDR_LEN], rel[96], name[32], *end;
	long id;
	int r;

	if (vfctl_addr_parse(addr, a) < 0)
		return vfctl_err(ctx, -EINVAL, "'%s' is not a PCI address (e.g. 0000:01:10.0)",
				 addr ? addr : "(null)");
	snprintf(rel, sizeof(rel), DEVDIR "/%s", a);
	if (!vfctl_root_exists(&ctx->sys, rel))
		return vfctl_err(ctx, -ENODEV, "%s/%s: %s; %s is no PCI function of this host "
				 "(vfctl list shows them)", ctx->sys.path, rel, strerror(ENOENT), a);
	snprintf(rel, sizeof(rel), DEVDIR "/%s/iommu_group", a);
	r = vfctl_root_link_name(&ctx->sys, rel, name, sizeof(name));
	if (r < 0)
		return vfctl_err(ctx, r == -ENOENT ? -ENOENT : r, "%s/%s: %s; %s is in no IOMMU group: "
				 "enable the IOMMU (intel_iommu=on or amd_iommu=on) to pass it "
				 "through", ctx->sys.path, rel, strerror(-r), a);
	errno = 0;
	id = strtol(name, &end, 10);
	if (errno || *end || end == name || id < 0 || id > 0x7fffffff)
		return vfctl_err(ctx, -EINVAL, "%s/%s points to '%s', which is no IOMMU group number",
				 ctx->sys.path, rel, name);
	*ret = (int)id;
	return 0;
}

int vfctl_vfio_group_viable(struct vfctl_ctx *ctx, int group)
{
	_cleanup_closedir_ DIR *d = NULL;
	char rel[96], blocker[VFCTL_ADDR_LEN] = "", bdrv[64] = "";
	struct dirent *de;
	int r;

	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices", group);
	r = vfctl_root_opendir(&ctx->sys, rel, &d);
	if (r < 0)
		return vfctl_err(ctx, r, "IOMMU group %d: %s/%s: %s", group, ctx->sys.path, rel,
				 strerror(-r));
	while ((de = readdir(d))) {
		char drv[64] = "", mrel[128];
		long class = 0;
		bool has_drv;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= VFCTL_ADDR_LEN)
			continue;
		snprintf(mrel, sizeof(mrel), DEVDIR "/%s/driver", de->d_name);
		has_drv = vfctl_root_link_name(&ctx->sys, mrel, drv, sizeof(drv)) >= 0;
		snprintf(mrel, sizeof(mrel), DEVDIR "/%s/class", de->d_name);
		(void)vfctl_root_read_int(&ctx->sys, mrel, 16, &class);
		if (vfctl_vfio_member_ok(has_drv ? drv : NULL, (class >> 16) == 0x06))
			continue;
		/* the lowest address, so that the message does not depend on readdir */
		if (!blocker[0] || strcmp(de->d_name, blocker) < 0) {
			snprintf(blocker, sizeof(blocker), "%s", de->d_name);
			snprintf(bdrv, sizeof(bdrv), "%s", drv);
		}
	}
	if (blocker[0])
		return vfctl_err(ctx, -EBUSY, "IOMMU group %d is not viable: %s is bound to %s; bind "
				 "it to vfio-pci (or unbind it) so group %d can be used with VFIO",
				 group, blocker, bdrv, group);
	return 0;
}

int vfctl_vfio_cdev_name(struct vfctl_ctx *ctx, const char *addr, char *buf, size_t size)
{
	_cleanup_closedir_ DIR *d = NULL;
	char a[VFCTL_ADDR_LEN], rel[96];
	struct dirent *de;
	int r;

	if (vfctl_addr_parse(addr, a) < 0)
		return vfctl_err(ctx, -EINVAL, "'%s' is not a PCI address (e.g. 0000:01:10.0)",
				 addr ? addr : "(null)");
	snprintf(rel, sizeof(rel), DEVDIR "/%s/vfio-dev", a);
	r = vfctl_root_opendir(&ctx->sys, rel, &d);
	if (r == 0)
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, "vfio", 4) || !de->d_name[4] ||
			    strspn(de->d_name + 4, "0123456789") != strlen(de->d_name + 4))
				continue;
			if (strlen(de->d_name) >= size)
				return vfctl_err(ctx, -ENAMETOOLONG, "%s: cdev name %s: too long",
						 a, de->d_name);
			snprintf(buf, size, "%s", de->d_name);
			return 0;
		}
	return vfctl_err(ctx, -ENOENT, "%s has no VFIO device cdev (%s/%s: %s): it is not bound "
			 "to vfio-pci, or the kernel lacks CONFIG_VFIO_DEVICE_CDEV", a, ctx->sys.path,
			 rel, strerror(r < 0 ? -r : ENOENT));
}

int vfctl_vfio_group_check_iova(struct vfctl_ctx *ctx, int group, uint64_t iova, uint64_t size)
{
	char rel[96], type[32];
	unsigned long long start, end;
	FILE *f;
	int fd, n, r = 0;

	if (!size || iova + size - 1 < iova)
		return vfctl_err(ctx, -EINVAL, "IOMMU group %d: an IOVA range of %llu bytes at 0x%llx "
				 "is empty or wraps", group, (unsigned long long)size,
				 (unsigned long long)iova);
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/reserved_regions", group);
	fd = vfctl_root_openat(&ctx->sys, rel, O_RDONLY);
	if (fd == -ENOENT)
		return 0;	/* older kernels: nothing to check against */
	if (fd < 0)
		return vfctl_err(ctx, fd, "IOMMU group %d: %s/%s: %s; without it there is no telling "
				 "whether IOVA 0x%llx may be DMA-mapped: run as root", group,
				 ctx->sys.path, rel, strerror(-fd), (unsigned long long)iova);
	f = fdopen(fd, "r");
	if (!f) {
		r = -errno;
		close(fd);
		return vfctl_err(ctx, r, "IOMMU group %d: %s/%s: %s", group, ctx->sys.path, rel,
				 strerror(-r));
	}
	while ((n = fscanf(f, "%llx %llx %31s", &start, &end, type)) == 3) {
		if (start <= iova + size - 1 && end >= iova) {
			r = vfctl_err(ctx, -EADDRINUSE, "IOMMU group %d: %s/%s: IOVA 0x%llx-0x%llx (%s) "
				      "overlaps the DMA mapping 0x%llx-0x%llx", group, ctx->sys.path,
				      rel, start, end, type, (unsigned long long)iova,
				      (unsigned long long)(iova + size - 1));
			break;
		}
	}
	/* a line that does not parse must not pass as "no overlap" */
	if (!r && n != EOF)
		r = vfctl_err(ctx, -EINVAL, "IOMMU group %d: %s/%s: not a reserved_regions list "
			      "(\"START END TYPE\" lines)", group, ctx->sys.path, rel);
	fclose(f);
	return r;
}

/* ---- who holds a node ---------------------------------------------------------- */

static bool same_node(const struct stat *a, const struct stat *b)
{
	/* a device node is the same device under any /dev (a container's
	 * own, a bind mount); a golden tree's stand-in is the same file */
	if (S_ISCHR(a->st_mode))
		return S_ISCHR(b->st_mode) && a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int vfctl_vfio_node_holders(struct vfctl_ctx *ctx, const char *rel, char *buf, size_t size)
{
	_cleanup_closedir_ DIR *proc = NULL;
	int nfd = node_open(ctx, rel, O_PATH);
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	size_t blen = strlen(base), used = 0;
	struct stat node;
	struct dirent *de;
	int n = 0;

	if (size)
		buf[0] = '\0';
	if (nfd < 0)
		return nfd;
	/* closed before the scan: it must not count as a holder */
	if (fstat(nfd, &node) < 0) {
		int r = -errno;

		close(nfd);
		return r;
	}
	close(nfd);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((de = readdir(proc))) {
		_cleanup_closedir_ DIR *fds = NULL;
		struct dirent *fe;
		char path[300], link[300], comm[64] = "?";
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			struct stat st;
			ssize_t l;

			snprintf(path, sizeof(path), "/proc/%ld/fd/%s", pid, fe->d_name);
			l = readlink(path, link, sizeof(link) - 1);
			if (l < 0)
				continue;
			link[l] = '\0';
			/* stat only what is named like the node: a stat of some
			 * other process's file (a hung NFS mount) could block */
			if ((size_t)l <= blen || link[l - blen - 1] != '/' ||
			    strcmp(link + l - blen, base) || stat(path, &st) < 0 ||
			    !same_node(&node, &st))
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
			FILE *f = fopen(path, "re");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			if (used < size)
				used += (size_t)snprintf(buf + used, size - used, "%spid %ld (%s)",
							 n ? ", " : "", pid, comm);
			n++;
			break;
		}
	}
	return n;
}

bool vfctl_vfio_group_unheld(struct vfctl_ctx *ctx, int group)
{
	struct stat st;
	char rel[32];
	bool unheld;
	int fd;

	snprintf(rel, sizeof(rel), "vfio/%d", group);
	fd = node_open(ctx, rel, O_RDWR | O_NONBLOCK);
	if (fd < 0)
		return false;	/* -EBUSY: held; anything else: the walk will say */
	/* a golden tree's stand-in opens whoever holds it */
	unheld = fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
	close(fd);
	return unheld;
}

int vfctl_vfio_holders(struct vfctl_ctx *ctx, int group, char *buf, size_t size)
{
	char rel[32];
	int r;

	snprintf(rel, sizeof(rel), "vfio/%d", group);
	r = vfctl_vfio_node_holders(ctx, rel, buf, size);
	if (r < 0)
		return vfctl_err(ctx, r, "IOMMU group %d: looking for processes that hold %s/%s open: "
				 "%s%s", group, dev_path(ctx), rel, strerror(-r),
				 r == -ENOENT ? "" : "; run as root with /proc mounted");
	return r;
}

/* ---- opening --------------------------------------------------------------------- */

/* The function must be on vfio-pci (or a variant) for its group to give a device fd. */
static int check_driver(struct vfctl_ctx *ctx, const char *addr)
{
	char rel[96], drv[64];

	snprintf(rel, sizeof(rel), DEVDIR "/%s/driver", addr);
	if (vfctl_root_link_name(&ctx->sys, rel, drv, sizeof(drv)) < 0)
		return vfctl_err(ctx, -ENXIO, "%s has no driver: bind it to vfio-pci (vfctl bind) "
				 "to use it with VFIO", addr);
	if (!vfctl_driver_is_vfio(drv))
		return vfctl_err(ctx, -ENXIO, "%s is bound to %s, not vfio-pci: bind it to vfio-pci "
				 "(vfctl bind) to use it with VFIO", addr, drv);
	return 0;
}

/* VFIO_GROUP_GET_STATUS on a real group node: viable, or who is in the way. */
static int group_status(struct vfctl_ctx *ctx, int gfd, int group)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct stat st;
	int r;

	if (fstat(gfd, &st) < 0 || !S_ISCHR(st.st_mode))
		return 0;	/* a golden tree's stand-in: no kernel to ask */
	if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &gs) < 0) {
		r = -errno;
		return vfctl_err(ctx, r, "%s/vfio/%d: VFIO_GROUP_GET_STATUS: %s", dev_path(ctx),
				 group, strerror(-r));
	}
	if (gs.flags & VFIO_GROUP_FLAGS_VIABLE)
		return 0;
	r = vfctl_vfio_group_viable(ctx, group);
	if (r == -EBUSY)
		return r;	/* the message names the member */
	return vfctl_err(ctx, -EBUSY, "%s/vfio/%d: IOMMU group %d is not viable "
			 "(VFIO_GROUP_GET_STATUS): bind every device in it to vfio-pci (vfctl groups "
			 "shows them)", dev_path(ctx), group, group);
}

static int open_group_node(struct vfctl_ctx *ctx, int group, int *ret)
{
	char rel[32], who[256];
	int fd;

	snprintf(rel, sizeof(rel), "vfio/%d", group);
	fd = node_open(ctx, rel, O_RDWR);
	if (fd >= 0) {
		*ret = fd;
		return 0;
	}
	if (fd == -EBUSY && vfctl_vfio_node_holders(ctx, rel, who, sizeof(who)) > 0)
		return vfctl_err(ctx, fd, "%s/%s is already open in %s (a VFIO group opens once at "
				 "a time): close it there first", dev_path(ctx), rel, who);
	if (fd == -ENOENT)
		return vfctl_err(ctx, fd, "%s/%s: %s; bind every device of IOMMU group %d to vfio-pci "
				 "(vfctl groups shows them, vfctl bind binds them)", dev_path(ctx), rel,
				 strerror(-fd), group);
	return vfctl_err(ctx, fd, "%s/%s: %s%s", dev_path(ctx), rel, strerror(-fd),
			 fd == -EACCES || fd == -EPERM ? "; run as root, or lease the VF from vfctld" :
			 fd == -EBUSY ? "; is the group in use by another process?" : "");
}

/* chown one node under the dev root, never through a symlink */
static int node_chown(struct vfctl_ctx *ctx, const char *addr, const char *rel, uid_t uid)
{
	_cleanup_close_ int fd = vfctl_root_openat(&ctx->dev, rel, O_PATH | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return vfctl_err(ctx, fd, "%s: %s/%s: %s", addr, dev_path(ctx), rel, strerror(-fd));
	if (fstat(fd, &st) < 0)
		return vfctl_err(ctx, -errno, "%s: fstat %s/%s: %s", addr, dev_path(ctx), rel,
				 strerror(errno));
	if (!S_ISCHR(st.st_mode))
		return vfctl_err(ctx, -ENOTTY, "%s: %s/%s is no character device: not changing "
				 "its owner", addr, dev_path(ctx), rel);
	if (st.st_uid == uid)
		return 0;
	if (fchownat(fd, "", uid, (gid_t)-1, AT_EMPTY_PATH) < 0)
		return vfctl_err(ctx, -errno, "%s: chown %s/%s to uid %u: %s", addr, dev_path(ctx),
				 rel, (unsigned)uid, strerror(errno));
	return 0;
}

int vfctl_vfio_grant(struct vfctl_ctx *ctx, const char *addr, uid_t uid)
{
	char a[VFCTL_ADDR_LEN], rel[64], name[32], err[sizeof(ctx->err)];
	int group, r;

	if (vfctl_addr_parse(addr, a) < 0)
		return vfctl_err(ctx, -EINVAL, "'%s' is not a PCI address (e.g. 0000:01:10.0)",
				 addr ? addr : "(null)");
	if (ctx->dev.fd < 0)
		return 0;
	r = vfctl_vfio_group_of(ctx, a, &group);
	if (r < 0)
		return r;
	snprintf(rel, sizeof(rel), "vfio/%d", group);
	r = node_chown(ctx, a, rel, uid);
	if (r < 0)
		return r;
	/* no cdev is no failure: keep the caller's message slot */
	memcpy(err, ctx->err, sizeof(err));
	if (vfctl_vfio_cdev_name(ctx, a, name, sizeof(name)) < 0) {
		memcpy(ctx->err, err, sizeof(err));
		return 0;
	}
	snprintf(rel, sizeof(rel), "vfio/devices/%s", name);
	if (!vfctl_root_exists(&ctx->dev, rel))
		return 0;
	return node_chown(ctx, a, rel, uid);
}

/* iommufd and the cdev, when the kernel has both; -1s otherwise. */
static void open_iommufd(struct vfctl_ctx *ctx, const char *addr, int *iommufd, int *cdev)
{
	char name[32], rel[64], err[sizeof(ctx->err)];
	int i, d;

	*iommufd = *cdev = -1;
	/* a missing cdev is not a failure of the caller's call: keep its message slot */
	memcpy(err, ctx->err, sizeof(err));
	if (!vfctl_root_exists(&ctx->dev, "iommu") ||
	    vfctl_vfio_cdev_name(ctx, addr, name, sizeof(name)) < 0) {
		memcpy(ctx->err, err, sizeof(err));
		return;
	}
	snprintf(rel, sizeof(rel), "vfio/devices/%s", name);
	d = node_open(ctx, rel, O_RDWR);
	if (d < 0)
		return;
	i = node_open(ctx, "iommu", O_RDWR);
	if (i < 0) {
		close(d);
		return;
	}
	*iommufd = i;
	*cdev = d;
}

int vfctl_vfio_open_fds(struct vfctl_ctx *ctx, const char *addr, unsigned flags,
			struct vfctl_lease_fds *ret)
{
	_cleanup_close_ int cfd = -1, gfd = -1;
	struct vfctl_lease_fds l;
	char a[VFCTL_ADDR_LEN];
	int group, r;

	if (!ret || ret->size < offsetof(struct vfctl_lease_fds, container_fd) + sizeof(int))
		return vfctl_err(ctx, -EINVAL, "struct vfctl_lease_fds: size %zu; set .size = "
				 "sizeof(struct vfctl_lease_fds)", ret ? ret->size : 0);
	if (vfctl_addr_parse(addr, a) < 0)
		return vfctl_err(ctx, -EINVAL, "'%s' is not a PCI address (e.g. 0000:01:10.0)",
				 addr ? addr : "(null)");
	cfd = node_open(ctx, "vfio/vfio", O_RDWR);
	if (cfd < 0)
		return vfctl_err(ctx, cfd, "%s/vfio/vfio: %s; %s needs VFIO: load vfio-pci (modprobe "
				 "vfio-pci) and bind it to vfio-pci (vfctl bind)", dev_path(ctx),
				 strerror(-cfd), a);
	r = vfctl_vfio_group_of(ctx, a, &group);
	if (r < 0)
		return r;
	r = check_driver(ctx, a);
	if (r < 0)
		return r;
	r = vfctl_vfio_group_viable(ctx, group);
	if (r < 0)
		return r;
	r = open_group_node(ctx, group, &gfd);
	if (r < 0)
		return r;
	r = group_status(ctx, gfd, group);
	if (r < 0)
		return r;
	l = (struct vfctl_lease_fds){ .size = sizeof(l), .container_fd = TAKE_FD(cfd),
				      .group_fd = TAKE_FD(gfd), .group = group, .iommufd = -1,
				      .device_fd = -1 };
	snprintf(l.addr, sizeof(l.addr), "%s", a);
	if (flags & VFCTL_VFIO_IOMMUFD)
		open_iommufd(ctx, a, &l.iommufd, &l.device_fd);
	if (l.iommufd >= 0) {
		/* Charge what the receiver pins to its own process (RLIMIT_MEMLOCK
		 * against its pinned pages, as the legacy type1 does), not to
		 * every process of its uid together. Only a privileged opener
		 * (CAP_SYS_RESOURCE) may: others keep the kernel's default. */
		struct iommu_option o = { .size = sizeof(o), .option_id = IOMMU_OPTION_RLIMIT_MODE,
					  .op = IOMMU_OPTION_OP_SET, .val64 = 1 };

		(void)ioctl(l.iommufd, IOMMU_OPTION, &o);
	}
	vfctl_lease_fds_hand_out(ret, &l);
	return 0;
}

static void dev_close_fds(struct vfctl_vfio_dev *dev)
{
	vfctl_vfio_dev_close_device(dev);
	if (dev->group_set && ioctl(dev->group_fd, VFIO_GROUP_UNSET_CONTAINER) < 0)
		vfctl_err(dev->ctx, -errno, "%s/vfio/%d: VFIO_GROUP_UNSET_CONTAINER: %s",
			  dev_path(dev->ctx), dev->group, strerror(errno));
	dev->group_set = false;
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	if (dev->container_fd >= 0)
		close(dev->container_fd);
	if (dev->iommufd >= 0)
		close(dev->iommufd);
	dev->group_fd = dev->container_fd = dev->iommufd = -1;
}

/* The legacy chain: container checked, group viable and in it, type1v2, device fd. */
static int attach_container(struct vfctl_vfio_dev *dev)
{
	struct vfctl_ctx *ctx = dev->ctx;
	int api, r;

	api = ioctl(dev->container_fd, VFIO_GET_API_VERSION);
	if (api != VFIO_API_VERSION) {
		r = api < 0 ? -errno : -EPROTO;
		return vfctl_err(ctx, r, "%s: VFIO_GET_API_VERSION on the container: %s", dev->addr,
				 api < 0 ? strerror(-r) : "an API version libvfctl does not speak");
	}
	r = ioctl(dev->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	if (r <= 0)
		return vfctl_err(ctx, r < 0 ? -errno : -EOPNOTSUPP, "%s: the VFIO container has no "
				 "VFIO_TYPE1v2_IOMMU (VFIO_CHECK_EXTENSION%s%s): load "
				 "vfio_iommu_type1", dev->addr, r < 0 ? ": " : "",
				 r < 0 ? strerror(errno) : "");
	r = group_status(ctx, dev->group_fd, dev->group);
	if (r < 0)
		return r;
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd) < 0) {
		r = -errno;
		return vfctl_err(ctx, r, "%s/vfio/%d: VFIO_GROUP_SET_CONTAINER: %s; is the group in "
				 "use by another process?", dev_path(ctx), dev->group, strerror(-r));
	}
	dev->group_set = true;
	if (ioctl(dev->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		r = -errno;
		return vfctl_err(ctx, r, "%s: VFIO_SET_IOMMU (type1v2) on the container: %s",
				 dev->addr, strerror(-r));
	}
	dev->device_fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->addr);
	if (dev->device_fd < 0) {
		r = -errno;
		dev->device_fd = -1;
		return vfctl_err(ctx, r, "%s: VFIO_GROUP_GET_DEVICE_FD on %s/vfio/%d: %s; is it bound "
				 "to vfio-pci and not open elsewhere?", dev->addr, dev_path(ctx),
				 dev->group, strerror(-r));
	}
	return 0;
}

/* The cdev chain: bound to iommufd (the group fd must be closed for that),
 * attached to a new IOAS that the DMA mappings go into. */
static int attach_iommufd(struct vfctl_vfio_dev *dev, int cdev)
{
	struct vfctl_ctx *ctx = dev->ctx;
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = dev->iommufd };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	int r;

	dev->device_fd = cdev;
	dev->iommufd_path = true;
	if (ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0) {
		r = -errno;
		return vfctl_err(ctx, r, "%s: VFIO_DEVICE_BIND_IOMMUFD: %s%s", dev->addr, strerror(-r),
				 r == -EBUSY ? "; its group is open elsewhere (legacy VFIO)" : "");
	}
	if (ioctl(dev->iommufd, IOMMU_IOAS_ALLOC, &alloc) < 0) {
		r = -errno;
		return vfctl_err(ctx, r, "%s: IOMMU_IOAS_ALLOC on /dev/iommu: %s", dev->addr,
				 strerror(-r));
	}
	dev->ioas_id = alloc.out_ioas_id;
	at.pt_id = alloc.out_ioas_id;
	if (ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0) {
		r = -errno;
		return vfctl_err(ctx, r, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT (IOAS %u): %s", dev->addr,
				 alloc.out_ioas_id, strerror(-r));
	}
	return 0;
}

static int read_info(struct vfctl_vfio_dev *dev)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	int r;

	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_INFO, &di) < 0) {
		r = -errno;
		return vfctl_err(dev->ctx, r, "%s: VFIO_DEVICE_GET_INFO: %s", dev->addr, strerror(-r));
	}
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) || di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
		return vfctl_err(dev->ctx, -ENODEV, "%s: not a VFIO PCI device (flags 0x%x, %u "
				 "regions)", dev->addr, di.flags, di.num_regions);
	dev->dev_flags = di.flags;
	dev->num_regions = di.num_regions;
	dev->num_irqs = di.num_irqs;
	return 0;
}

static void lease_fds_take(struct vfctl_lease_fds *l, int *c, int *g, int *i, int *d)
{
	*c = l->container_fd;
	*g = l->group_fd;
	*i = l->iommufd;
	*d = l->device_fd;
	l->container_fd = l->group_fd = l->iommufd = l->device_fd = -1;
}

static void close_if(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int vfctl_vfio_dev_adopt(struct vfctl_ctx *ctx, struct vfctl_lease_fds *fds, unsigned flags,
			 struct vfctl_vfio_dev **ret)
{
	struct vfctl_vfio_dev *dev = NULL;
	int c, g, i, d, r;

	/* every field adopt reads is in the first version of the struct */
	if (fds->size < sizeof(struct vfctl_lease_fds)) {
		vfctl_lease_fds_drop(fds, vfctl_sized_len(fds), true);
		return vfctl_err(ctx, -EINVAL, "struct vfctl_lease_fds: size %zu, %zu expected (set "
				 ".size = sizeof(struct vfctl_lease_fds))", fds->size,
				 sizeof(struct vfctl_lease_fds));
	}
	lease_fds_take(fds, &c, &g, &i, &d);
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		r = vfctl_err(ctx, -ENOMEM, "%s: out of memory", fds->addr);
		goto fail;
	}
	*dev = (struct vfctl_vfio_dev){ .ctx = ctx, .group = fds->group, .container_fd = -1,
					.group_fd = -1, .iommufd = -1, .device_fd = -1 };
	if (vfctl_addr_parse(fds->addr, dev->addr) < 0) {
		r = vfctl_err(ctx, -EINVAL, "'%s' is not a PCI address (e.g. 0000:01:10.0)",
			      fds->addr);
		goto fail;
	}
	if ((flags & VFCTL_VFIO_IOMMUFD) && i >= 0 && d >= 0) {
		/* the cdev cannot bind while the group is open */
		close_if(&c);
		close_if(&g);
		dev->iommufd = TAKE_FD(i);
		r = attach_iommufd(dev, TAKE_FD(d));
	} else {
		close_if(&i);
		close_if(&d);
		if (c < 0 || g < 0) {
			r = vfctl_err(ctx, -EBADF, "%s: no VFIO %s fd to use", dev->addr,
				      c < 0 ? "container" : "group");
			goto fail;
		}
		dev->container_fd = TAKE_FD(c);
		dev->group_fd = TAKE_FD(g);
		r = attach_container(dev);
	}
	if (r >= 0)
		r = read_info(dev);
	if (r < 0)
		goto fail;
	*ret = dev;
	return 0;
fail:
	close_if(&c);
	close_if(&g);
	close_if(&i);
	close_if(&d);
	if (dev) {
		char err[sizeof(ctx->err)];

		memcpy(err, ctx->err, sizeof(err));	/* the failure, not the cleanup's */
		dev_close_fds(dev);
		memcpy(ctx->err, err, sizeof(err));
		free(dev);
	}
	return r;
}

int vfctl_vfio_dev_open(struct vfctl_ctx *ctx, const char *addr, unsigned flags,
			struct vfctl_vfio_dev **ret)
{
	struct vfctl_lease_fds l = { .size = sizeof(l) };
	int r = vfctl_vfio_open_fds(ctx, addr, flags, &l);

	if (r < 0)
		return r;
	return vfctl_vfio_dev_adopt(ctx, &l, flags, ret);
}

void vfctl_vfio_dev_close_device(struct vfctl_vfio_dev *dev)
{
	if (dev)
		close_if(&dev->device_fd);
}

void vfctl_vfio_dev_free(struct vfctl_vfio_dev *dev)
{
	if (!dev)
		return;
	dev_close_fds(dev);
	free(dev);
}

const char *vfctl_vfio_dev_addr(const struct vfctl_vfio_dev *dev)
{
	return dev->addr;
}

int vfctl_vfio_dev_group(const struct vfctl_vfio_dev *dev)
{
	return dev->group;
}

int vfctl_vfio_dev_fd(const struct vfctl_vfio_dev *dev)
{
	return dev->device_fd;
}

bool vfctl_vfio_dev_uses_iommufd(const struct vfctl_vfio_dev *dev)
{
	return dev->iommufd_path;
}

unsigned vfctl_vfio_dev_num_regions(const struct vfctl_vfio_dev *dev)
{
	return dev->num_regions;
}

unsigned vfctl_vfio_dev_num_irqs(const struct vfctl_vfio_dev *dev)
{
	return dev->num_irqs;
}

bool vfctl_vfio_dev_can_reset(const struct vfctl_vfio_dev *dev)
{
	return dev->dev_flags & VFIO_DEVICE_FLAGS_RESET;
}

/* ---- regions --------------------------------------------------------------------- */

int vfctl_vfio_region_areas(const struct vfio_region_info *ri, uint64_t page_size,
			    struct vfctl_vfio_region *ret, unsigned max)
{
	uint32_t off;
	unsigned n = 0;

	if (!(ri->flags & VFIO_REGION_INFO_FLAG_MMAP) || !ri->size || !max)
		return 0;
	off = ri->flags & VFIO_REGION_INFO_FLAG_CAPS ? ri->cap_offset : 0;
	for (unsigned hops = 0; off; hops++) {
		const struct vfio_info_cap_header *h = (const void *)((const char *)ri + off);
		const struct vfio_region_info_cap_sparse_mmap *sp = (const void *)h;

		if (hops > 32 || off < sizeof(*ri) || (uint64_t)off + sizeof(*h) > ri->argsz)
			return -EINVAL;
		if (h->id != VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			off = h->next;
			continue;
		}
		if ((uint64_t)off + sizeof(*sp) + (uint64_t)sp->nr_areas * sizeof(sp->areas[0]) >
		    ri->argsz)
			return -EINVAL;
		/* areas VFIO lists that are not page-aligned are left to pread/pwrite */
		for (uint32_t i = 0; i < sp->nr_areas && n < max; i++) {
			uint64_t ao = sp->areas[i].offset, as = sp->areas[i].size;

			if (!as || ao % page_size || as % page_size || ao + as > ri->size ||
			    ao + as < ao)
				continue;
			ret->areas[n].offset = ao;
			ret->areas[n].length = as;
			n++;
		}
		return (int)n;
	}
	if (ri->size % page_size)
		return 0;
	ret->areas[0].offset = 0;
	ret->areas[0].length = ri->size;
	return 1;
}

/* VFIO_DEVICE_GET_REGION_INFO with room for its capability chain (argsz
 * says how much the kernel wants), for the caller to free; NULL with *err
 * set on failure. */
static struct vfio_region_info *region_info(struct vfctl_vfio_dev *dev, unsigned index, int *err)
{
	struct vfio_region_info *ri = calloc(1, sizeof(*ri)), *big;
	char name[32];
	int r;

	if (!ri) {
		*err = -ENOMEM;
		return NULL;
	}
	*ri = (struct vfio_region_info){ .argsz = sizeof(*ri), .index = index };
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, ri) < 0)
		goto fail;
	if (ri->argsz > sizeof(*ri)) {
		uint32_t sz = ri->argsz;

		big = realloc(ri, sz);
		if (!big) {
			free(ri);
			*err = -ENOMEM;
			return NULL;
		}
		ri = big;
		memset(ri, 0, sz);
		*ri = (struct vfio_region_info){ .argsz = sz, .index = index };
		if (ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, ri) < 0)
			goto fail;
	}
	if (index < MAX_REGIONS) {
		dev->regions[index].known = true;
		dev->regions[index].offset = ri->offset;
		dev->regions[index].length = ri->size;
	}
	return ri;
fail:
	r = errno > 0 ? -errno : -EIO;
	free(ri);
	*err = vfctl_err(dev->ctx, r, "%s: VFIO_DEVICE_GET_REGION_INFO (%s): %s", dev->addr,
			 region_name(index, name, sizeof(name)), strerror(-r));
	return NULL;
}

int vfctl_vfio_dev_region(struct vfctl_vfio_dev *dev, unsigned index, struct vfctl_vfio_region *ret)
{
	struct vfctl_vfio_region reg = { .size = sizeof(reg), .index = index };
	struct vfio_region_info *ri;
	char name[32];
	int n, r;

	if (!ret || ret->size < sizeof(*ret))
		return vfctl_err(dev->ctx, -EINVAL, "%s: vfctl_vfio_dev_region: set the struct's "
				 "size to sizeof(struct vfctl_vfio_region)", dev->addr);
	if (dev->device_fd < 0)
		return vfctl_err(dev->ctx, -EBADF, "%s: the VFIO device fd is closed", dev->addr);
	ri = region_info(dev, index, &r);
	if (!ri)
		return r;
	reg.offset = ri->offset;
	reg.length = ri->size;
	reg.flags = (ri->flags & VFIO_REGION_INFO_FLAG_READ ? VFCTL_VFIO_REGION_READ : 0) |
		    (ri->flags & VFIO_REGION_INFO_FLAG_WRITE ? VFCTL_VFIO_REGION_WRITE : 0) |
		    (ri->flags & VFIO_REGION_INFO_FLAG_MMAP ? VFCTL_VFIO_REGION_MMAP : 0);
	n = vfctl_vfio_region_areas(ri, (uint64_t)sysconf(_SC_PAGESIZE), &reg, VFCTL_VFIO_MAX_AREAS);
	free(ri);
	if (n < 0)
		return vfctl_err(dev->ctx, n, "%s: %s: VFIO's region info has a broken capability "
				 "chain", dev->addr, region_name(index, name, sizeof(name)));
	reg.n_areas = (unsigned)n;
	*ret = reg;
	return 0;
}

int vfctl_vfio_dev_rw(struct vfctl_vfio_dev *dev, unsigned index, uint64_t off, void *buf,
		      size_t len, bool write)
{
	struct vfio_region_info *ri;
	char name[32];
	ssize_t n;
	int r;

	if (dev->device_fd < 0)
		return vfctl_err(dev->ctx, -EBADF, "%s: the VFIO device fd is closed", dev->addr);
	if (index >= MAX_REGIONS || !dev->regions[index].known) {
		ri = region_info(dev, index, &r);
		if (!ri)
			return r;
		free(ri);
	}
	if (index >= MAX_REGIONS || off > dev->regions[index].length ||
	    len > dev->regions[index].length - off)
		return vfctl_err(dev->ctx, -EINVAL, "%s: %s of %zu bytes at 0x%llx is outside %s",
				 dev->addr, write ? "write" : "read", len, (unsigned long long)off,
				 region_name(index, name, sizeof(name)));
	off += dev->regions[index].offset;
	n = write ? pwrite(dev->device_fd, buf, len, (off_t)off)
		  : pread(dev->device_fd, buf, len, (off_t)off);
	if (n == (ssize_t)len)
		return 0;
	r = n < 0 ? -errno : -EIO;
	return vfctl_err(dev->ctx, r, "%s: %s %s at 0x%llx through the VFIO device fd: %s",
			 dev->addr, region_name(index, name, sizeof(name)), write ? "write" : "read",
			 (unsigned long long)(off - dev->regions[index].offset), strerror(-r));
}

/* ---- interrupts, reset ----------------------------------------------------------- */

static const char *irq_name(unsigned index)
{
	switch (index) {
	case VFCTL_VFIO_IRQ_INTX: return "INTx";
	case VFCTL_VFIO_IRQ_MSI: return "MSI";
	case VFCTL_VFIO_IRQ_MSIX: return "MSI-X";
	default: return "interrupt";
	}
}

int vfctl_vfio_dev_irq_info(struct vfctl_vfio_dev *dev, unsigned index,
			    struct vfctl_vfio_irq_info *ret)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };
	int r;

	if (!ret || ret->size < sizeof(*ret))
		return vfctl_err(dev->ctx, -EINVAL, "%s: vfctl_vfio_dev_irq_info: set the struct's "
				 "size to sizeof(struct vfctl_vfio_irq_info)", dev->addr);
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0) {
		r = -errno;
		return vfctl_err(dev->ctx, r, "%s: VFIO_DEVICE_GET_IRQ_INFO (%s, index %u): %s",
				 dev->addr, irq_name(index), index, strerror(-r));
	}
	*ret = (struct vfctl_vfio_irq_info){ .size = sizeof(*ret), .index = index,
					     .count = ii.count, .flags = ii.flags & 0xf };
	return 0;
}

int vfctl_vfio_dev_set_irqs(struct vfctl_vfio_dev *dev, unsigned index, unsigned start,
			    unsigned count, const int *efds)
{
	_cleanup_free_ struct vfio_irq_set *set = NULL;
	size_t sz = sizeof(*set) + (size_t)count * sizeof(int32_t);
	int r;

	if (count > MAX_IRQ_VECTORS || (count && !efds))
		return vfctl_err(dev->ctx, -EINVAL, "%s: %u %s vectors: at most %u, each with an "
				 "eventfd or -1", dev->addr, count, irq_name(index), MAX_IRQ_VECTORS);
	set = calloc(1, sz);
	if (!set)
		return -ENOMEM;
	*set = (struct vfio_irq_set){ .argsz = (uint32_t)sz, .index = index,
				      .flags = (count ? VFIO_IRQ_SET_DATA_EVENTFD
						      : VFIO_IRQ_SET_DATA_NONE) |
					       VFIO_IRQ_SET_ACTION_TRIGGER,
				      .start = count ? start : 0, .count = count };
	for (unsigned i = 0; i < count; i++) {
		int32_t fd = efds[i];

		memcpy(set->data + i * sizeof(int32_t), &fd, sizeof(fd));
	}
	if (ioctl(dev->device_fd, VFIO_DEVICE_SET_IRQS, set) < 0) {
		r = -errno;
		if (!count)
			return vfctl_err(dev->ctx, r, "%s: VFIO_DEVICE_SET_IRQS (%s off): %s",
					 dev->addr, irq_name(index), strerror(-r));
		return vfctl_err(dev->ctx, r, "%s: VFIO_DEVICE_SET_IRQS (%s vectors %u-%u -> "
				 "eventfds): %s", dev->addr, irq_name(index), start,
				 start + count - 1, strerror(-r));
	}
	return 0;
}

int vfctl_vfio_dev_reset(struct vfctl_vfio_dev *dev)
{
	int r;

	if (!(dev->dev_flags & VFIO_DEVICE_FLAGS_RESET))
		return vfctl_err(dev->ctx, -EOPNOTSUPP, "%s: VFIO has no reset for it "
				 "(VFIO_DEVICE_FLAGS_RESET is not set)", dev->addr);
	if (ioctl(dev->device_fd, VFIO_DEVICE_RESET) < 0) {
		r = -errno;
		return vfctl_err(dev->ctx, r, "%s: VFIO_DEVICE_RESET: %s", dev->addr, strerror(-r));
	}
	return 0;
}

/* ---- DMA --------------------------------------------------------------------------- */

int vfctl_vfio_dma_map(struct vfctl_vfio_dev *dev, void *vaddr, uint64_t iova, uint64_t size,
		       unsigned flags)
{
	const char *op;
	int r;

	if (dev->group >= 0) {
		r = vfctl_vfio_group_check_iova(dev->ctx, dev->group, iova, size);
		if (r < 0) {
			char err[sizeof(dev->ctx->err)];

			memcpy(err, dev->ctx->err, sizeof(err));
			return vfctl_err(dev->ctx, r, "%s: %s", dev->addr, err);
		}
	}
	if (dev->iommufd_path) {
		struct iommu_ioas_map m = {
			.size = sizeof(m), .ioas_id = dev->ioas_id, .user_va = (uintptr_t)vaddr,
			.length = size, .iova = iova,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 (flags & VFCTL_VFIO_DMA_READ ? IOMMU_IOAS_MAP_READABLE : 0) |
				 (flags & VFCTL_VFIO_DMA_WRITE ? IOMMU_IOAS_MAP_WRITEABLE : 0),
		};
		op = "IOMMU_IOAS_MAP";
		r = ioctl(dev->iommufd, IOMMU_IOAS_MAP, &m);
	} else {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m), .vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
			.flags = (flags & VFCTL_VFIO_DMA_READ ? VFIO_DMA_MAP_FLAG_READ : 0) |
				 (flags & VFCTL_VFIO_DMA_WRITE ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		};
		op = "VFIO_IOMMU_MAP_DMA";
		r = ioctl(dev->container_fd, VFIO_IOMMU_MAP_DMA, &m);
	}
	if (r < 0) {
		r = -errno;
		return vfctl_err(dev->ctx, r, "%s: %s of %llu KiB at iova 0x%llx: %s%s", dev->addr, op,
				 (unsigned long long)size >> 10, (unsigned long long)iova,
				 strerror(-r), r == -ENOMEM ? "; RLIMIT_MEMLOCK too low? (ulimit -l)" : "");
	}
	return 0;
}

int vfctl_vfio_dma_unmap(struct vfctl_vfio_dev *dev, uint64_t iova, uint64_t size)
{
	const char *op;
	int r;

	if (dev->iommufd_path) {
		struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = dev->ioas_id,
					      .iova = iova, .length = size };
		op = "IOMMU_IOAS_UNMAP";
		r = ioctl(dev->iommufd, IOMMU_IOAS_UNMAP, &u);
	} else {
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova,
							.size = size };
		op = "VFIO_IOMMU_UNMAP_DMA";
		r = ioctl(dev->container_fd, VFIO_IOMMU_UNMAP_DMA, &u);
	}
	if (r < 0) {
		r = -errno;
		return vfctl_err(dev->ctx, r, "%s: %s of %llu KiB at iova 0x%llx: %s", dev->addr, op,
				 (unsigned long long)size >> 10, (unsigned long long)iova,
				 strerror(-r));
	}
	return 0;
}
