// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl exec --lease ID -- CMD ARGS...: a VMM run as the calling user with
 * the VFIO fds vfctld hands over for a lease (SCM_RIGHTS), kept open across
 * exec and named in CMD's arguments by placeholders, so that
 *   -object iommufd,id=iommufd0,fd={iommufd} -device vfio-pci,iommufd=iommufd0,fd={device}
 * works without root and without access to /dev/vfio or /dev/iommu.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic.h"
#include "cli.h"

/* a fd number, an address or /dev/vfio/N */
#define VALUE_MAX 32

enum { P_IOMMUFD, P_DEVICE, P_CONTAINER, P_GROUP, P_BDF, P_GROUP_PATH, N_PLACEHOLDERS };

static const char *const placeholder[N_PLACEHOLDERS] = {
	[P_IOMMUFD] = "{iommufd}", [P_DEVICE] = "{device}", [P_CONTAINER] = "{container}",
	[P_GROUP] = "{group}", [P_BDF] = "{bdf}", [P_GROUP_PATH] = "{group_path}",
};

/* The fd a placeholder stands for, -1 for the text ones. */
static int placeholder_fd(const struct vfctl_lease_fds *l, int p)
{
	switch (p) {
	case P_IOMMUFD: return l->iommufd;
	case P_DEVICE: return l->device_fd;
	case P_CONTAINER: return l->container_fd;
	case P_GROUP: return l->group_fd;
	default: return -1;
	}
}

/* arg with every placeholder replaced (a new string), used[] marking which
 * appeared; NULL with the error printed. Braces that name no placeholder
 * stay as they are (QEMU's JSON options have them). */
static char *substitute(const char *arg, const char values[N_PLACEHOLDERS][VALUE_MAX],
			bool used[N_PLACEHOLDERS])
{
	_cleanup_free_ char *out = NULL;
	size_t len = 0, cap = strlen(arg) + 1;
	const char *s = arg;

	out = malloc(cap);
	if (!out)
		goto oom;
	while (*s) {
		const char *put = s;
		size_t n = 1, skip = 1;

		if (*s == '{')
			for (int p = 0; p < N_PLACEHOLDERS; p++)
				if (!strncmp(s, placeholder[p], strlen(placeholder[p]))) {
					used[p] = true;
					put = values[p];
					n = strlen(values[p]);
					skip = strlen(placeholder[p]);
					break;
				}
		if (len + n + 1 > cap) {
			char *bigger = realloc(out, cap = 2 * (len + n + 1));

			if (!bigger)
				goto oom;
			out = bigger;
		}
		memcpy(out + len, put, n);
		len += n;
		s += skip;
	}
	out[len] = '\0';
	return TAKE_PTR(out);
oom:
	fprintf(stderr, "vfctl exec: out of memory\n");
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int cmd_exec(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct vfctl_lease_fds l = { .size = sizeof(l), .container_fd = -1, .group_fd = -1,
				     .iommufd = -1, .device_fd = -1 };
	char values[N_PLACEHOLDERS][VALUE_MAX];
	bool used[N_PLACEHOLDERS] = { false };
	struct vfctl_client *c = NULL;
	char **argv = NULL;
	int *fds[4];
	int r, ret = EXIT_ERR;

	(void)ctx;
	(void)host;
	if (!a->lease) {
		fprintf(stderr, "vfctl exec: --lease ID is required; see 'vfctl help exec'\n");
		return EXIT_USAGE;
	}
	if (!a->argc) {
		fprintf(stderr, "vfctl exec: no command to run after --lease %s; see 'vfctl help "
			"exec'\n", a->lease);
		return EXIT_USAGE;
	}
	c = connect_daemon(a);
	if (!c)
		return EXIT_UNREACHABLE;
	r = vfctl_client_open_lease(c, a->lease, &l);
	if (r < 0) {
		fprintf(stderr, "vfctl exec: %s\n", vfctl_client_error(c));
		vfctl_client_free(c);
		return r;
	}
	vfctl_client_free(c);

	fds[0] = &l.iommufd, fds[1] = &l.device_fd, fds[2] = &l.container_fd, fds[3] = &l.group_fd;
	for (int p = 0; p < N_PLACEHOLDERS; p++)
		snprintf(values[p], sizeof(values[p]), "%d", placeholder_fd(&l, p));
	snprintf(values[P_BDF], sizeof(values[P_BDF]), "%s", l.addr);
	snprintf(values[P_GROUP_PATH], sizeof(values[P_GROUP_PATH]), "/dev/vfio/%d", l.group);

	argv = calloc((size_t)a->argc + 1, sizeof(*argv));
	if (!argv) {
		fprintf(stderr, "vfctl exec: out of memory\n");
		goto out;
	}
	for (int i = 0; i < a->argc; i++) {
		argv[i] = substitute(a->argv[i], values, used);
		if (!argv[i])
			goto out;
	}
	for (int p = P_IOMMUFD; p <= P_GROUP; p++)
		if (used[p] && placeholder_fd(&l, p) < 0) {
			fprintf(stderr, "vfctl exec: lease %s: vfctld sent no %s fd for %s: this kernel "
				"has no iommufd or the VF no VFIO device cdev (they need Linux 6.6+ with "
				"CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV); use {container} and "
				"{group}, or the host= form ('vfctl qemu-args %s'); nothing was run\n",
				a->lease, placeholder[p], l.addr, a->lease);
			goto out;
		}
	if ((used[P_IOMMUFD] || used[P_DEVICE]) && (used[P_CONTAINER] || used[P_GROUP])) {
		fprintf(stderr, "vfctl exec: lease %s: give {iommufd}/{device} or {container}/{group}, "
			"not both: VFIO does not bind the device cdev while its group is open; "
			"nothing was run\n", a->lease);
		goto out;
	}
	/* keep what CMD names (no close-on-exec), close the rest */
	for (int p = P_IOMMUFD; p <= P_GROUP; p++) {
		int *fd = fds[p];

		if (!used[p]) {
			close_fd(fd);
			continue;
		}
		if (fcntl(*fd, F_SETFD, 0) < 0) {
			fprintf(stderr, "vfctl exec: keeping fd %d (%s) open across exec: %s\n", *fd,
				placeholder[p], strerror(errno));
			goto out;
		}
	}
	fflush(NULL);
	execvp(argv[0], argv);
	r = errno;
	fprintf(stderr, "vfctl exec: %s: %s%s; lease %s stays yours ('vfctl release %s')\n",
		argv[0], strerror(r), r == ENOENT ? " (not found in $PATH)" : "", a->lease, a->lease);
	ret = r == ENOENT ? 127 : 126;
out:
	for (int i = 0; argv && i < a->argc; i++)
		free(argv[i]);
	free(argv);
	vfctl_lease_fds_close(&l);
	return ret;
}
