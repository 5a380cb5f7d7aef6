// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lease-probe LEASE [HOLD_SECONDS]: the VM tests' vfctld client. Opens the
 * lease through libvfctl's vfctl_client_open_lease() and proves the fds it
 * received are the real thing: the container speaks the VFIO API, the group
 * is viable and joins the container, VFIO_GROUP_GET_DEVICE_FD gives the
 * VF's device fd and VFIO_DEVICE_GET_INFO describes a PCI device. Then it
 * holds everything open for HOLD_SECONDS (default 0) so a test can see a
 * held group. One line per step on stdout, errors on stderr, exit 1.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vfctl.h"

static int die(const char *what)
{
	fprintf(stderr, "lease-probe: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct vfctl_client *c = NULL;
	struct vfctl_lease_fds l;
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	int r, dev, api;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: lease-probe LEASE [HOLD_SECONDS]\n");
		return 2;
	}
	r = vfctl_client_connect(NULL, &c);
	if (r < 0) {
		fprintf(stderr, "lease-probe: connect: %s\n", strerror(-r));
		return 1;
	}
	r = vfctl_client_open_lease(c, argv[1], &l);
	if (r < 0) {
		fprintf(stderr, "lease-probe: open %s: %s (errno %d)\n", argv[1],
			vfctl_client_error(c), -r);
		vfctl_client_free(c);
		return 1;
	}
	vfctl_client_free(c);
	printf("received %s group %d container_fd %d group_fd %d iommufd %d device_fd %d\n",
	       l.addr, l.group, l.container_fd, l.group_fd, l.iommufd, l.device_fd);
	api = ioctl(l.container_fd, VFIO_GET_API_VERSION);
	if (api != VFIO_API_VERSION)
		return die("VFIO_GET_API_VERSION on the container fd");
	printf("container api %d\n", api);
	if (ioctl(l.group_fd, VFIO_GROUP_GET_STATUS, &gs) < 0)
		return die("VFIO_GROUP_GET_STATUS");
	printf("group viable %d\n", !!(gs.flags & VFIO_GROUP_FLAGS_VIABLE));
	if (ioctl(l.group_fd, VFIO_GROUP_SET_CONTAINER, &l.container_fd) < 0)
		return die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(l.container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		return die("VFIO_SET_IOMMU");
	dev = ioctl(l.group_fd, VFIO_GROUP_GET_DEVICE_FD, l.addr);
	if (dev < 0)
		return die("VFIO_GROUP_GET_DEVICE_FD");
	if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di) < 0)
		return die("VFIO_DEVICE_GET_INFO");
	printf("device %s pci %d regions %u irqs %u\n", l.addr, !!(di.flags & VFIO_DEVICE_FLAGS_PCI),
	       di.num_regions, di.num_irqs);
	fflush(stdout);
	if (argc == 3)
		sleep((unsigned)atoi(argv[2]));
	close(dev);
	vfctl_lease_fds_close(&l);
	return 0;
}
