// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every place the daemon opens /dev/vfio or asks a VFIO fd something: the
 * fds of "open", the group's viability, who holds a group. Behind the small
 * interface in vfctld.h so that libvfctl's VFIO module can take over the
 * insides of this file.
 */
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vfctld.h"

int vfio_group_holders(struct vfctl_ctx *ctx, int group, char *who, size_t size)
{
	char node[64];

	if (!vfctl_ctx_is_live(ctx) || group < 0)
		return 0;
	snprintf(node, sizeof(node), "/dev/vfio/%d", group);
	return vfctl_vfio_holders(node, who, size);
}

void vfio_lease_fds_close(struct vfio_lease_fds *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
	f->n = 0;
}

static void add(struct vfio_lease_fds *f, const char *name, int fd)
{
	f->name[f->n] = name;
	f->fd[f->n++] = fd;
}

/* The VF's cdev under /dev/vfio/devices (iommufd kernels), by its sysfs
 * vfio-dev/vfioN entry; -ENOENT when the kernel has none. */
static int open_cdev(struct vfctl_ctx *ctx, const char *vf, int *ret)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	char rel[128];
	int r;

	r = vfctl_root_opendir(&ctx->sys, VFCTL_DEV_PATH(vf, "vfio-dev"), &dir);
	if (r < 0)
		return r;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(rel, sizeof(rel), "vfio/devices/%.32s", de->d_name);
			if (!vfctl_root_exists(&ctx->dev, rel))
				return -ENOENT;
			r = vfctl_root_openat(&ctx->dev, rel, O_RDWR | O_CLOEXEC);
			if (r < 0)
				return r;
			*ret = r;
			return 0;
		}
	return -ENOENT;
}

int vfio_open_lease(struct vfctl_ctx *ctx, const char *vf, int group, struct vfio_lease_fds *ret,
		    char *err, size_t errlen)
{
	struct vfio_lease_fds f = { .n = 0 };
	const char *dev = ctx->dev.path ? ctx->dev.path : "/dev";
	char rel[64], who[256];
	int r, fd = -1;

	r = vfctl_root_openat(&ctx->dev, "vfio/vfio", O_RDWR | O_CLOEXEC);
	if (r < 0) {
		snprintf(err, errlen, "opening %s/vfio/vfio: %s; is vfio loaded?", dev, strerror(-r));
		return r;
	}
	add(&f, "container", r);
	snprintf(rel, sizeof(rel), "vfio/%d", group);
	r = vfctl_root_openat(&ctx->dev, rel, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		char node[64];

		snprintf(node, sizeof(node), "/dev/vfio/%d", group);
		if (r == -EBUSY && vfctl_vfio_holders(node, who, sizeof(who)) > 0)
			snprintf(err, errlen, "%s is already open in %s (a VFIO group opens once at "
				 "a time): close it there first", node, who);
		else
			snprintf(err, errlen, "opening %s/%s: %s", dev, rel, strerror(-r));
		goto fail;
	}
	add(&f, "group", r);
	if (vfctl_ctx_is_live(ctx)) {
		struct vfio_group_status gs = { .argsz = sizeof(gs) };
		/* errno only when the ioctl failed: a stale one must not pass for it */
		int e = ioctl(f.fd[1], VFIO_GROUP_GET_STATUS, &gs) < 0 ? errno : 0;

		if (e || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
			snprintf(err, errlen, "VFIO group %d is not viable (VFIO_GROUP_GET_STATUS%s%s): "
				 "every member must be on vfio-pci", group, e ? ": " : "",
				 e ? strerror(e) : "");
			r = e ? -e : -EBUSY;
			goto fail;
		}
	}
	/* iommufd kernels: /dev/iommu and the VF's cdev go along; Debian's have neither */
	if (vfctl_root_exists(&ctx->dev, "iommu") && open_cdev(ctx, vf, &fd) == 0) {
		r = vfctl_root_openat(&ctx->dev, "iommu", O_RDWR | O_CLOEXEC);
		if (r >= 0) {
			add(&f, "iommufd", r);
			add(&f, "device", fd);
		} else {
			close(fd);
		}
	}
	*ret = f;
	return 0;
fail:
	vfio_lease_fds_close(&f);
	return r;
}
