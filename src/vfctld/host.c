// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's view of the host: scans, the shared view (list's and
 * alloc's) and the few sysfs reads that keep alloc honest about it, the
 * restore of a VF, and the owner's pidfd; host_ops is what the lease
 * lifecycle runs on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>

#include "vfctld.h"

int host_scan(struct daemon *d, struct vfctl_host **ret)
{
	d->stats.host_scans++;
	/* the daemon prints no PCI names: none looked up (the hwdb it would
	 * open stays closed) */
	return vfctl_host_scan(d->ctx, VFCTL_SCAN_NO_NAMES |
			       (vfctl_ctx_is_live(d->ctx) ? VFCTL_SCAN_NETLINK : 0), ret);
}

int host_view(struct daemon *d, uint64_t max_usec, bool for_list, const struct vfctl_host **ret)
{
	struct vfctl_host *h = NULL;
	uint64_t now = 0;
	int r;

	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	if (d->view && now - d->view_usec <= max_usec) {
		*ret = d->view;
		return 0;
	}
	host_view_drop(d);
	d->stats.host_scans++;
	if (for_list)
		d->stats.list_scans++;
	/* addresses, drivers, groups and NUMA nodes: no netlink, no names */
	r = vfctl_host_scan(d->ctx, VFCTL_SCAN_NO_NAMES, &h);
	if (r < 0)
		return r;
	d->view = h;
	d->view_usec = now;
	*ret = h;
	return 0;
}

uint64_t host_view_age(struct daemon *d)
{
	uint64_t now = 0;

	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	return d->view && now > d->view_usec ? now - d->view_usec : 0;
}

/* The driver sysfs shows for addr now is the one the view has. */
static bool driver_current(struct daemon *d, const struct vfctl_func *f)
{
	char now[64];

	return vfctl_func_driver(d->ctx, f->addr, now, sizeof(now)) == 0 &&
	       !strcmp(now, f->driver ? f->driver : "");
}

bool host_vf_current(struct daemon *d, const struct vfctl_host *h, const struct vfctl_func *vf)
{
	const struct vfctl_group *g = vf->iommu_group >= 0 ? vfctl_host_group(h, vf->iommu_group) :
				      NULL;

	if (!driver_current(d, vf))
		return false;
	/* the group's viability is its members' drivers */
	for (size_t i = 0; g && i < g->n_members; i++)
		if (g->members[i] != vf && !driver_current(d, g->members[i]))
			return false;
	return true;
}

void host_view_drop(struct daemon *d)
{
	/* a reconcile pass checking its leases against it keeps it to the end:
	 * a write changes a driver, not what lease_check_host reads */
	if (d->view && d->view == d->pass_host)
		d->pass_owned = true;
	else
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

/* bus/pci/devices/ADDR/ATTR in buf (ATTR NULL: the directory); NULL when it
 * does not fit, which the rooted accessor answers with -ENAMETOOLONG */
static const char *dev_rel(char *buf, size_t size, const char *addr, const char *attr)
{
	int n = snprintf(buf, size, "bus/pci/devices/%s%s%s", addr, attr ? "/" : "",
			 attr ? attr : "");

	return n < 0 || (size_t)n >= size ? NULL : buf;
}

/* The index of vf among pf's virtfnN links: the hint's link first, then
 * all of them; -1 when none names it. */
static int vf_index_of(struct daemon *d, const char *pf, const char *vf, int hint)
{
	_cleanup_closedir_ DIR *dir = NULL;
	char rel[320], attr[32], name[VFCTL_ADDR_LEN + 8], *end;
	struct dirent *de;

	snprintf(attr, sizeof(attr), "virtfn%d", hint);
	if (hint >= 0 && vfctl_root_link_name(&d->sys, dev_rel(rel, sizeof(rel), pf, attr), name,
					      sizeof(name)) >= 0 && !strcmp(name, vf))
		return hint;
	if (vfctl_root_opendir(&d->sys, dev_rel(rel, sizeof(rel), pf, NULL), &dir) < 0)
		return -1;
	while ((de = readdir(dir))) {
		long idx;

		if (strncmp(de->d_name, "virtfn", 6) || !de->d_name[6])
			continue;
		errno = 0;
		idx = strtol(de->d_name + 6, &end, 10);
		if (errno || *end || idx < 0 || idx > INT32_MAX)
			continue;
		if (vfctl_root_link_name(&d->sys, dev_rel(rel, sizeof(rel), pf, de->d_name), name,
					 sizeof(name)) >= 0 && !strcmp(name, vf))
			return (int)idx;
	}
	return -1;
}

int host_vf_read(struct daemon *d, const char *vf, int index_hint, struct host_vf *ret)
{
	struct host_vf v = { .vf_index = -1, .group = -1 };
	char rel[128], buf[32], *end;
	long vendor = -1, device = -1, group;

	if (!vfctl_root_exists(&d->sys, dev_rel(rel, sizeof(rel), vf, NULL)))
		return -ENODEV;
	/* no physfn link: no VF (pf stays "") */
	if (vfctl_root_link_name(&d->sys, dev_rel(rel, sizeof(rel), vf, "physfn"), v.pf,
				 sizeof(v.pf)) < 0)
		v.pf[0] = '\0';
	if (v.pf[0])
		v.vf_index = vf_index_of(d, v.pf, vf, index_hint);
	if (vfctl_root_read_int(&d->sys, dev_rel(rel, sizeof(rel), vf, "vendor"), 16, &vendor) >= 0 &&
	    vfctl_root_read_int(&d->sys, dev_rel(rel, sizeof(rel), vf, "device"), 16, &device) >= 0)
		snprintf(v.device_id, sizeof(v.device_id), "%04lx:%04lx", vendor & 0xffff,
			 device & 0xffff);
	if (vfctl_root_link_name(&d->sys, dev_rel(rel, sizeof(rel), vf, "iommu_group"), buf,
				 sizeof(buf)) >= 0) {
		errno = 0;
		group = strtol(buf, &end, 10);
		if (!errno && !*end && end != buf && group >= 0 && group <= INT32_MAX)
			v.group = (int)group;
	}
	*ret = v;
	return 0;
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
 * saved (-ENODATA) counts as done. */
static int restore_now(struct daemon *d, const struct lease *l)
{
	struct vfctl_host *h = NULL;
	int r = host_scan(d, &h);

	if (r >= 0)
		r = vfctl_restore(d->ctx, h, l->vf, VFCTL_BIND_MODPROBE, d->timeout_ms);
	vfctl_host_free(h);
	if (r == -ENODATA)	/* nothing saved: it was never rebound, or is back already */
		r = 0;
	return r;
}

/* In a worker (worker.c) */
static void restore_job(struct daemon *d, const struct lease *l, struct worker_result *res)
{
	res->r = restore_now(d, l);
	if (res->r < 0)
		snprintf(res->err, sizeof(res->err), "%s", vfctl_ctx_error(d->ctx));
}

static void restore_done(struct daemon *d, struct lease *l, struct conn *c,
			 const struct worker_result *res, void *arg)
{
	char id[sizeof(l->id)], vf[sizeof(l->vf)], pending[sizeof(l->pending)] = "";

	host_view_drop(d);	/* the VF's driver changed */
	snprintf(id, sizeof(id), "%s", l->id);
	snprintf(vf, sizeof(vf), "%s", l->vf);
	if (res->r < 0)
		vfctl_ctx_set_error(d->ctx, res->r, "%s", res->err);
	lease_restore_done(&d->life, l, res->r);
	/* l is gone unless the restore failed */
	if (res->r < 0)
		snprintf(pending, sizeof(pending), "%s", l->pending);
	daemon_cdi_update(d);
	if (arg)
		request_restored(d, c, arg, res->r, id, vf, pending);
}

/* In a worker once the daemon serves (a restore that hangs holds up no
 * other client); at start, and when no worker can be had, here. */
static int vf_restore(void *userdata, struct lease *l)
{
	struct daemon *d = userdata;
	struct restore_wait *w = d->restore_wait;
	int r;

	if (d->serving) {
		r = worker_start(d, l, w ? w->c : NULL, "restoring it", restore_job, restore_done,
				 w, restore_wait_free);
		if (r == 0) {
			d->restore_wait = NULL;	/* the worker's now */
			return 1;
		}
		log_msg(LOG_WARNING, "lease %s (%s): no worker for the restore (%s): restoring in "
			"the event loop", l->id, l->vf, strerror(-r));
	}
	r = restore_now(d, l);
	host_view_drop(d);	/* the VF's driver changed */
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

/* The leases of a pass are checked against one host: the shared view when
 * it is fresh (it is dropped at device events and reloads, which is when
 * reconcile runs), else a scan that becomes the view. lease_check_host
 * reads addresses, PFs, indexes, ids and groups: no netlink. */
static void pass_begin(void *userdata)
{
	struct daemon *d = userdata;

	d->pass_host = NULL;
	d->pass_owned = false;
}

static void pass_end(void *userdata)
{
	struct daemon *d = userdata;

	if (d->pass_owned)
		vfctl_host_free(d->pass_host);
	d->pass_host = NULL;
	d->pass_owned = false;
}

static int lease_check(void *userdata, struct lease *l, char *why, size_t size)
{
	struct daemon *d = userdata;
	const struct vfctl_host *h = d->pass_host;
	int r;

	if (!h) {
		r = host_view(d, HOST_VIEW_USEC, false, &h);
		if (r < 0) {
			/* no verdict without a view of the host: the lease stays */
			log_msg(LOG_WARNING, "lease %s: not checked: %s", l->id,
				vfctl_ctx_error(d->ctx));
			return 0;
		}
		d->pass_host = (struct vfctl_host *)h;
	}
	return lease_check_host(d, h, NULL, l, why, size);
}

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	(void)usec;
	lease_expire(&d->life, (int64_t)time(NULL));
	return 0;
}

/* One CLOCK_REALTIME source at the earliest deadline: the deadlines are
 * wall-clock times in leases.json, so they hold across restarts. */
static void expiry_arm(void *userdata, int64_t t)
{
	struct daemon *d = userdata;
	uint64_t usec = (uint64_t)t * 1000000;
	int r;

	if (!d->ev)
		return;
	if (!t) {
		if (d->expiry)
			sd_event_source_set_enabled(d->expiry, SD_EVENT_OFF);
		return;
	}
	if (!d->expiry)
		r = sd_event_add_time(d->ev, &d->expiry, CLOCK_REALTIME, usec, 100000, on_expiry,
				      d);
	else
		r = sd_event_source_set_time(d->expiry, usec);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->expiry, SD_EVENT_ONESHOT);
	if (r < 0)
		log_msg(LOG_ERR, "arming the lease expiry timer: %s; expired leases are released "
			"at the next reconcile", strerror(-r));
}

const struct lease_host_ops host_ops = {
	.vf_exists = vf_exists,
	.group_holders = group_holders,
	.vf_restore = vf_restore,
	.vf_forget = vf_forget,
	.owner_alive = owner_alive,
	.owner_watch = owner_watch,
	.vf_grant = vf_grant,
	.lease_check = lease_check,
	.pass_begin = pass_begin,
	.pass_end = pass_end,
	.expiry_arm = expiry_arm,
};
