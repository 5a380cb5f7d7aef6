/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Container Device Interface spec of vfctl's VFs (kind vfctl.io/vf),
 * one writer for `vfctl cdi` and vfctld (which rewrites it at each alloc
 * and release): a device per pool VF and per lease, each with the VFIO
 * container and group nodes, and the VF's cdev and /dev/iommu where the
 * kernel has them.
 */
#ifndef VFCTL_CDI_H
#define VFCTL_CDI_H

#include <stddef.h>

#include "vfctl.h"

#define VFCTL_CDI_KIND "vfctl.io/vf"
/* The lowest CDI spec version with what the spec uses (device nodes, env)
 * that Debian 12's podman 4.3 takes: its CDI library (0.5) refuses newer
 * ones; newer libraries read older versions. */
#define VFCTL_CDI_VERSION "0.5.0"
#define VFCTL_CDI_DIR "/var/run/cdi"
#define VFCTL_CDI_FILE "vfctl.json"

struct vfctl_cdi_dev {
	char name[80];		/* "POOL-INDEX" or a lease id */
	char addr[VFCTL_ADDR_LEN];	/* the VF */
};

/* Add a device (name made with a printf format) to *v; 0 or -ENOMEM. */
int vfctl_cdi_add(struct vfctl_cdi_dev **v, size_t *n, const char *addr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The spec as JSON text in *ret (free()); a device whose VF is in no IOMMU
 * group (gone, no IOMMU) is left out. 0 or -errno with the error in ctx. */
int vfctl_cdi_spec(struct vfctl_ctx *ctx, const struct vfctl_cdi_dev *devs, size_t n, char **ret);
/* Replace DIR/vfctl.json atomically with text. 0 or -errno with the error in ctx. */
int vfctl_cdi_write(struct vfctl_ctx *ctx, const char *dir, const char *text);

#endif
