// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's VFIO needs, all through libvfctl's VFIO module: the fds of
 * "open" (the module checks the driver and the group's viability) and who
 * holds a group.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vfctld.h"

int vfio_group_holders(struct vfctl_ctx *ctx, int group, char *who, size_t size)
{
	if (!vfctl_ctx_is_live(ctx) || group < 0)
		return 0;
	return vfctl_vfio_holders(ctx, group, who, size);
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

int vfio_open_lease(struct vfctl_ctx *ctx, const char *vf, int group, struct vfio_lease_fds *ret,
		    char *err, size_t errlen)
{
	struct vfctl_lease_fds l = { .size = sizeof(l) };
	struct vfio_lease_fds f = { .n = 0 };
	int r;

	r = vfctl_vfio_open_fds(ctx, vf, VFCTL_VFIO_IOMMUFD, &l);
	if (r < 0) {
		snprintf(err, errlen, "%s", vfctl_ctx_error(ctx));
		return r;
	}
	/* the lease names a group; the VF's own must still be that one */
	if (l.group != group) {
		snprintf(err, errlen, "%s is in IOMMU group %d now, not the lease's group %d: the "
			 "VF changed under the lease; release it and allocate again", vf, l.group,
			 group);
		vfctl_lease_fds_close(&l);
		return -ESTALE;
	}
	add(&f, "container", l.container_fd);
	add(&f, "group", l.group_fd);
	/* iommufd kernels: /dev/iommu and the VF's cdev go along; Debian's have neither */
	if (l.iommufd >= 0 && l.device_fd >= 0) {
		add(&f, "iommufd", l.iommufd);
		add(&f, "device", l.device_fd);
	} else {
		if (l.iommufd >= 0)
			close(l.iommufd);
		if (l.device_fd >= 0)
			close(l.device_fd);
	}
	*ret = f;
	return 0;
}
