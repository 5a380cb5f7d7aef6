// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's view of the host: scans, sysfs checks, the restore of a VF,
 * and the owner's pidfd; host_ops is what the lease lifecycle runs on.
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>

#include "vfctld.h"

int host_scan(struct daemon *d, struct vfctl_host **ret)
{
	d->stats.host_scans++;
	return vfctl_host_scan(d->ctx, vfctl_ctx_is_live(d->ctx) ? VFCTL_SCAN_NETLINK : 0, ret);
}

int host_view(struct daemon *d, const struct vfctl_host **ret)
{
	struct vfctl_host *h = NULL;
	uint64_t now = 0;
	int r;

	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	if (d->view && now - d->view_usec < HOST_VIEW_USEC) {
		*ret = d->view;
		return 0;
	}
	host_view_drop(d);
	d->stats.host_scans++;
	d->stats.list_scans++;
	/* list shows addresses, drivers and NUMA nodes: no netlink */
	r = vfctl_host_scan(d->ctx, 0, &h);
	if (r < 0)
		return r;
	d->view = h;
	d->view_usec = now;
	*ret = h;
	return 0;
}

void host_view_drop(struct daemon *d)
{
	vfctl_host_free(d->view);
	d->view = NULL;
}

bool host_driver_is(struct daemon *d, const char *addr, const char *drv)
{
	char now[64];

	return vfctl_func_driver(d->ctx, addr, now, sizeof(now)) == 0 && !strcmp(now, drv);
}

bool host_dev_exists(struct daemon *d, const char *addr)
{
	char now[64];

	return vfctl_func_driver(d->ctx, addr, now, sizeof(now)) != -ENODEV;
}

static bool vf_exists(void *userdata, const char *vf)
{
	return host_dev_exists(userdata, vf);
}

static int group_holders(void *userdata, int group, char *who, size_t size)
{
	struct daemon *d = userdata;

	return vfio_group_holders(d->ctx, group, who, size);
}

/* The original driver and settings, as vfctl_bind saved them; nothing
 * saved (-ENOENT) counts as done. */
static int vf_restore(void *userdata, const struct lease *l)
{
	struct daemon *d = userdata;
	struct vfctl_host *h = NULL;
	int r = host_scan(d, &h);

	if (r >= 0)
		r = vfctl_restore(d->ctx, h, l->vf, VFCTL_BIND_MODPROBE, d->timeout_ms);
	vfctl_host_free(h);
	host_view_drop(d);	/* the VF's driver changed */
	if (r == -ENODATA)	/* nothing saved: it was never rebound, or is back already */
		r = 0;
	return r;
}

static void vf_forget(void *userdata, const char *vf)
{
	struct daemon *d = userdata;

	vfctl_state_remove(d->ctx, vf);
}

static bool owner_alive(void *userdata, int pid, unsigned long long start)
{
	return proc_start_time(pid) == start;
}

static int on_pid_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct lease *l = userdata;
	struct daemon *d = l->daemon;

	lease_owner_exited(&d->life, l);
	return 0;
}

/* Release the lease when its owner process exits (pidfd, Linux 5.3). */
static void owner_watch(void *userdata, struct lease *l)
{
	struct daemon *d = userdata;
	int fd;

	if (l->pid_src)
		return;
	fd = (int)syscall(SYS_pidfd_open, l->pid, 0);
	if (fd < 0) {
		log_msg(LOG_WARNING, "lease %s: pidfd_open(%d): %s; the owner's exit is noticed at "
			"the next reconcile only", l->id, l->pid, strerror(errno));
		return;
	}
	l->daemon = d;
	if (sd_event_add_io(d->ev, &l->pid_src, fd, EPOLLIN, on_pid_exit, l) < 0) {
		close(fd);
		return;
	}
	l->pidfd = fd;
}

static int vf_grant(void *userdata, const char *vf, unsigned uid)
{
	struct daemon *d = userdata;

	return vfctl_vfio_grant(d->ctx, vf, (uid_t)uid);
}

const struct lease_host_ops host_ops = {
	.vf_exists = vf_exists,
	.group_holders = group_holders,
	.vf_restore = vf_restore,
	.vf_forget = vf_forget,
	.owner_alive = owner_alive,
	.owner_watch = owner_watch,
	.vf_grant = vf_grant,
};
