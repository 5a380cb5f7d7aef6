// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctld: hands out the VFs of the pools in vfctl.conf(5) as leases over a
 * unix SOCK_SEQPACKET socket, and the VFIO fds of a lease with SCM_RIGHTS.
 * One sd-event loop, one request at a time: a request's sysfs writes are
 * bounded (lib's vfctl_root_write_bounded), so a stuck device costs seconds, not
 * the daemon. Every lease change is on disk before the kernel is touched,
 * so a restart can finish or roll back whatever a crash interrupted.
 */
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <linux/vfio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include <json-c/json.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>

#include "env.h"
#include "vfctld.h"

#define DEFAULT_CONFIG "/etc/vfctl/vfctl.conf"
#define MAX_CONNS 1024
#define MAX_GROUPS 256
#define RETRY_USEC (2 * 1000000ULL)

struct daemon {
	struct vfctl_ctx *ctx;
	sd_event *ev;
	const char *config_path;
	bool config_explicit;
	struct vfctl_config *cfg;
	struct lease_store store;
	int listen_fd;
	bool activated;
	char *sock_path;
	sd_device_monitor *mon;
	sd_event_source *retry, *rescan;
	unsigned n_conns;
	struct conn *conns;	/* open connections, freed at exit */
	const char *test_stop;
	unsigned timeout_ms;
	bool journal;
};

struct conn {
	struct conn *next, *prev;
	struct daemon *d;
	int fd;
	sd_event_source *src;
	struct ucred cred;
	gid_t groups[MAX_GROUPS];
	int n_groups;
};

/* ---- logging ------------------------------------------------------------- */

static bool use_journal;

static void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);
static void log_msg(int prio, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (use_journal)
		sd_journal_print(prio, "%s", buf);
	else
		fprintf(stderr, "vfctld: %s\n", buf);
}

/* Test hook (VFCTLD_TEST_STOP=op:step, never set in production): stop at a
 * named step so a test can kill -9 the daemon exactly there. */
static void test_stop(struct daemon *d, const char *step)
{
	if (d->test_stop && !strcmp(d->test_stop, step)) {
		log_msg(LOG_WARNING, "test hook: stopping at %s", step);
		raise(SIGSTOP);
	}
}

/* ---- replies -------------------------------------------------------------- */

static json_object *reply_error(int r, const char *fmt, ...) _printf_(2, 3);
static json_object *reply_error(int r, const char *fmt, ...)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "errno", json_object_new_int(r < 0 ? -r : r));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	return o;
}

static json_object *reply_ok(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(true));
	return o;
}

static json_object *lease_json(const struct lease *l)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(l->id));
	json_object_object_add(o, "state", json_object_new_string(lease_state_name(l->state)));
	json_object_object_add(o, "pool", json_object_new_string(l->pool));
	json_object_object_add(o, "vf", json_object_new_string(l->vf));
	json_object_object_add(o, "pf", json_object_new_string(l->pf));
	json_object_object_add(o, "vf_index", json_object_new_int(l->vf_index));
	json_object_object_add(o, "group", l->group >= 0 ? json_object_new_int(l->group) : NULL);
	json_object_object_add(o, "uid", json_object_new_int64(l->uid));
	json_object_object_add(o, "owner", l->owner[0] ? json_object_new_string(l->owner) : NULL);
	json_object_object_add(o, "pid", l->pid ? json_object_new_int(l->pid) : NULL);
	json_object_object_add(o, "created", json_object_new_int64(l->created));
	json_object_object_add(o, "pending", l->pending[0] ? json_object_new_string(l->pending) :
			       NULL);
	return o;
}

/* ---- pools ----------------------------------------------------------------- */

struct pool_ref {
	const struct vfctl_conf_pf *cpf;
	const struct vfctl_conf_pool *pool;
};

static bool pool_find(const struct daemon *d, const char *name, struct pool_ref *ret)
{
	for (size_t i = 0; d->cfg && i < d->cfg->n_pfs; i++)
		for (size_t j = 0; j < d->cfg->pfs[i].n_pools; j++)
			if (!strcmp(d->cfg->pfs[i].pools[j].name, name)) {
				*ret = (struct pool_ref){ &d->cfg->pfs[i], &d->cfg->pfs[i].pools[j] };
				return true;
			}
	return false;
}

static void pool_names(const struct daemon *d, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; d->cfg && i < d->cfg->n_pfs; i++)
		for (size_t j = 0; j < d->cfg->pfs[i].n_pools && used < size; j++)
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
						 d->cfg->pfs[i].pools[j].name);
}

/* Root always; else the peer's uid, gid or a supplementary group listed. */
static bool pool_allows(const struct vfctl_conf_pool *p, const struct conn *c)
{
	if (c->cred.uid == 0)
		return true;
	for (size_t i = 0; i < p->n_uids; i++)
		if (p->uids[i] == c->cred.uid)
			return true;
	for (size_t i = 0; i < p->n_gids; i++) {
		if (p->gids[i] == c->cred.gid)
			return true;
		for (int k = 0; k < c->n_groups; k++)
			if (p->gids[i] == c->groups[k])
				return true;
	}
	return false;
}

/* The PF of one config entry on this host: the config's own resolver, one
 * PF at a time, so a PF that is missing disables its pools only. */
static int pool_pf(struct daemon *d, const struct vfctl_host *h, const struct vfctl_conf_pf *cpf,
		   struct vfctl_func **ret)
{
	struct vfctl_config one = { .file = d->cfg->file, .n_pfs = 1,
				    .pfs = (struct vfctl_conf_pf *)cpf };
	char addr[1][VFCTL_ADDR_LEN];
	int r = vfctl_config_resolve(d->ctx, &one, h, addr);

	if (r < 0)
		return r;
	return vfctl_host_find(d->ctx, h, addr[0], ret);
}

static int host_scan(struct daemon *d, struct vfctl_host **ret)
{
	return vfctl_host_scan(d->ctx, d->ctx->live ? VFCTL_SCAN_NETLINK : 0, ret);
}

static bool sys_driver_is(struct daemon *d, const char *addr, const char *drv)
{
	char rel[128], now[64];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", addr);
	return vfctl_root_link_name(&d->ctx->sys, rel, now, sizeof(now)) >= 0 && !strcmp(now, drv);
}

static bool sys_exists(struct daemon *d, const char *addr)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", addr);
	return vfctl_root_exists(&d->ctx->sys, rel);
}

/* ---- lease lifecycle -------------------------------------------------------- */

static int save(struct daemon *d)
{
	int r = lease_store_save(d->ctx, &d->store);

	if (r < 0)
		log_msg(LOG_ERR, "%s", vfctl_ctx_error(d->ctx));
	return r;
}

static void pid_watch(struct daemon *d, struct lease *l);

/* Undo what alloc did to the VF: the original driver and settings when
 * the daemon bound it. -ENOENT (nothing saved) counts as done. */
static int vf_restore(struct daemon *d, struct lease *l)
{
	struct vfctl_host *h = NULL;
	int r;

	if (!l->bound || !sys_exists(d, l->vf))
		return 0;
	r = host_scan(d, &h);
	if (r >= 0)
		r = vfctl_restore(d->ctx, h, l->vf, VFCTL_BIND_MODPROBE, d->timeout_ms);
	vfctl_host_free(h);
	if (r == -ENOENT && strstr(vfctl_ctx_error(d->ctx), "no saved state"))
		r = 0;
	return r;
}

/* A release in state "releasing": restore unless a process still holds the
 * group, then forget the lease. 0 done, -EBUSY/-errno still pending. */
static int release_finish(struct daemon *d, struct lease *l)
{
	char node[64], who[256] = "";
	int r;

	if (l->group >= 0 && d->ctx->live && sys_exists(d, l->vf)) {
		snprintf(node, sizeof(node), "/dev/vfio/%d", l->group);
		if (vfctl_vfio_holders(node, who, sizeof(who)) > 0) {
			snprintf(l->pending, sizeof(l->pending), "%s is held open by %s; the VF goes "
				 "back when it is closed", node, who);
			return -EBUSY;
		}
	}
	r = vf_restore(d, l);
	if (r < 0) {
		snprintf(l->pending, sizeof(l->pending), "%s", vfctl_ctx_error(d->ctx));
		return r;
	}
	test_stop(d, "release:after-restore");
	log_msg(LOG_INFO, "lease %s released: %s%s", l->id, l->vf,
		l->bound ? " back on its original driver" : " (left on vfio-pci, as it was)");
	lease_store_remove(&d->store, l);
	save(d);
	return 0;
}

static int release_begin(struct daemon *d, struct lease *l, const char *why)
{
	log_msg(LOG_INFO, "lease %s (%s): releasing: %s", l->id, l->vf, why);
	l->state = LEASE_RELEASING;
	sd_event_source_disable_unref(l->pid_src);
	l->pid_src = NULL;
	if (l->pidfd >= 0)
		close(l->pidfd);
	l->pidfd = -1;
	return save(d);
}

/* Settle every lease with the host: at start, on SIGHUP, on device events
 * and on the retry timer. */
static void reconcile(struct daemon *d)
{
	for (size_t i = 0; i < d->store.n;) {
		struct lease *l = d->store.v[i];
		size_t n = d->store.n;

		switch (l->state) {
		case LEASE_ALLOCATING:
			/* the client never got its reply: roll back */
			log_msg(LOG_NOTICE, "lease %s (%s): an alloc was interrupted; rolling back",
				l->id, l->vf);
			if (vf_restore(d, l) < 0) {
				log_msg(LOG_ERR, "lease %s: rollback: %s; retrying", l->id,
					vfctl_ctx_error(d->ctx));
				l->state = LEASE_RELEASING;
				save(d);
				break;
			}
			lease_store_remove(&d->store, l);
			save(d);
			break;
		case LEASE_ACTIVE:
			if (!sys_exists(d, l->vf)) {
				log_msg(LOG_WARNING, "lease %s: VF %s is gone (PF reset or VFs "
					"destroyed): lease dropped", l->id, l->vf);
				vfctl_state_remove(d->ctx, l->vf);
				lease_store_remove(&d->store, l);
				save(d);
				break;
			}
			if (l->pid && proc_start_time(l->pid) != l->pid_start) {
				release_begin(d, l, "its owner process is gone");
				break;
			}
			if (l->pid && !l->pid_src)
				pid_watch(d, l);
			break;
		case LEASE_RELEASING:
			if (!sys_exists(d, l->vf)) {
				vfctl_state_remove(d->ctx, l->vf);
				lease_store_remove(&d->store, l);
				save(d);
				break;
			}
			if (release_finish(d, l) < 0)
				log_msg(LOG_DEBUG, "lease %s: release pending: %s", l->id, l->pending);
			break;
		}
		if (d->store.n == n)
			i++;
	}
}

static int on_pid_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct lease *l = userdata;
	struct daemon *d = l->daemon;

	(void)s;
	(void)fd;
	(void)revents;
	if (l->state != LEASE_ACTIVE)
		return 0;
	if (release_begin(d, l, "its owner process exited") == 0 && release_finish(d, l) < 0)
		log_msg(LOG_NOTICE, "lease %s: release pending: %s", l->id, l->pending);
	return 0;
}

/* Release the lease when its owner process exits (pidfd, Linux 5.3). */
static void pid_watch(struct daemon *d, struct lease *l)
{
	int fd = (int)syscall(SYS_pidfd_open, l->pid, 0);

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

/* ---- requests ----------------------------------------------------------------- */

static json_object *do_list(struct daemon *d, const struct conn *c)
{
	json_object *o = reply_ok(), *pools = json_object_new_array();
	struct vfctl_host *h = NULL;
	int r = host_scan(d, &h);

	if (r < 0) {
		json_object_put(pools);
		json_object_put(o);
		return reply_error(r, "%s", vfctl_ctx_error(d->ctx));
	}
	for (size_t i = 0; d->cfg && i < d->cfg->n_pfs; i++)
		for (size_t j = 0; j < d->cfg->pfs[i].n_pools; j++) {
			const struct vfctl_conf_pool *p = &d->cfg->pfs[i].pools[j];
			json_object *po = json_object_new_object(), *vfs = json_object_new_array();
			struct vfctl_func *pf = NULL;
			unsigned n_free = 0;

			json_object_object_add(po, "name", json_object_new_string(p->name));
			json_object_object_add(po, "allowed", json_object_new_boolean(pool_allows(p, c)));
			if (pool_pf(d, h, &d->cfg->pfs[i], &pf) < 0) {
				json_object_object_add(po, "pf", NULL);
				json_object_object_add(po, "error",
						       json_object_new_string(vfctl_ctx_error(d->ctx)));
			} else {
				json_object_object_add(po, "pf", json_object_new_string(pf->addr));
			}
			for (size_t k = 0; k < p->n_vfs; k++) {
				json_object *vo = json_object_new_object();
				const struct vfctl_func *vf = pf && p->vfs[k] < pf->n_vfs ?
							      pf->vfs[p->vfs[k]] : NULL;
				const struct lease *l = vf ? lease_store_find_vf(&d->store, vf->addr) :
							NULL;

				json_object_object_add(vo, "index", json_object_new_int((int)p->vfs[k]));
				json_object_object_add(vo, "address", vf ?
						       json_object_new_string(vf->addr) : NULL);
				json_object_object_add(vo, "numa_node", vf && vf->numa_node >= 0 ?
						       json_object_new_int(vf->numa_node) : NULL);
				json_object_object_add(vo, "driver", vf && vf->driver ?
						       json_object_new_string(vf->driver) : NULL);
				json_object_object_add(vo, "lease", l ? json_object_new_string(l->id) :
						       NULL);
				if (vf && !l)
					n_free++;
				json_object_array_add(vfs, vo);
			}
			json_object_object_add(po, "free", json_object_new_int((int)n_free));
			json_object_object_add(po, "vfs", vfs);
			json_object_array_add(pools, po);
		}
	json_object_object_add(o, "pools", pools);
	vfctl_host_free(h);
	return o;
}

static json_object *do_leases(struct daemon *d, const struct conn *c)
{
	json_object *o = reply_ok(), *a = json_object_new_array();

	/* everybody sees their own leases; root sees all */
	for (size_t i = 0; i < d->store.n; i++)
		if (c->cred.uid == 0 || d->store.v[i]->uid == c->cred.uid)
			json_object_array_add(a, lease_json(d->store.v[i]));
	json_object_object_add(o, "leases", a);
	return o;
}

/* A VF of the pool that nobody leases or holds, within the constraints. */
static struct vfctl_func *pick_vf(struct daemon *d, const struct vfctl_conf_pool *p,
				  const struct vfctl_func *pf, const struct proto_request *req,
				  unsigned *n_leased, char *leased, size_t size)
{
	size_t used = 0;

	*n_leased = 0;
	leased[0] = '\0';
	for (size_t k = 0; k < p->n_vfs; k++) {
		struct vfctl_func *vf = p->vfs[k] < pf->n_vfs ? pf->vfs[p->vfs[k]] : NULL;
		const struct lease *l;
		char node[64], who[128];

		if (!vf)
			continue;
		l = lease_store_find_vf(&d->store, vf->addr);
		if (l) {
			(*n_leased)++;
			if (used < size)
				used += (size_t)snprintf(leased + used, size - used, "%s%s",
							 used ? " " : "", l->id);
			continue;
		}
		if (req->numa >= 0 && vf->numa_node != req->numa)
			continue;
		/* on vfio-pci already and in use outside the daemon: not free */
		if (d->ctx->live && vf->iommu_group >= 0 && vfctl_driver_is_vfio(vf->driver)) {
			snprintf(node, sizeof(node), "/dev/vfio/%d", vf->iommu_group);
			if (vfctl_vfio_holders(node, who, sizeof(who)) > 0)
				continue;
		}
		return vf;
	}
	return NULL;
}

static json_object *do_alloc(struct daemon *d, const struct conn *c,
			     const struct proto_request *req)
{
	struct vfctl_host *h = NULL;
	struct vfctl_func *pf, *vf, *want;
	struct vfctl_group *g;
	struct pool_ref pr;
	struct lease *l = NULL;
	char names[256], leased[256];
	unsigned n_leased;
	json_object *o;
	int r;

	if (!pool_find(d, req->pool, &pr)) {
		pool_names(d, names, sizeof(names));
		return reply_error(-ENOENT, "no pool '%s' in %s (pools: %s)", req->pool,
				   d->cfg ? d->cfg->file : d->config_path, names[0] ? names : "none");
	}
	if (!pool_allows(pr.pool, c))
		return reply_error(-EACCES, "uid %u (gid %u) may not allocate from pool '%s': "
				   "not in its users or groups in %s", c->cred.uid, c->cred.gid,
				   req->pool, d->cfg->file);
	if (req->pid > 0 && !proc_start_time(req->pid))
		return reply_error(-ESRCH, "owner pid %d: no such process", req->pid);
	r = host_scan(d, &h);
	if (r >= 0)
		r = pool_pf(d, h, pr.cpf, &pf);
	if (r < 0) {
		o = reply_error(r, "pool '%s': %s", req->pool, vfctl_ctx_error(d->ctx));
		goto out;
	}
	if (req->pf[0]) {
		r = vfctl_host_find(d->ctx, h, req->pf, &want);
		if (r < 0 || want != pf) {
			o = reply_error(-ENOENT, "pool '%s' has no VF on PF %s: its VFs are on %s",
					req->pool, req->pf, pf->addr);
			goto out;
		}
	}
	vf = pick_vf(d, pr.pool, pf, req, &n_leased, leased, sizeof(leased));
	if (!vf) {
		if (req->numa >= 0)
			o = reply_error(-ENOSPC, "pool '%s' has no free VF on NUMA node %d: %u of %zu "
					"leased%s%s%s", req->pool, req->numa, n_leased, pr.pool->n_vfs,
					n_leased ? " (" : "", leased, n_leased ? ")" : "");
		else
			o = reply_error(-ENOSPC, "pool '%s' has no free VF: %u of %zu leased%s%s%s",
					req->pool, n_leased, pr.pool->n_vfs, n_leased ? " (" : "",
					leased, n_leased ? ")" : "");
		goto out;
	}

	/* on disk before the kernel is touched: a crash from here on is undone at start */
	r = lease_store_add(&d->store, &l);
	if (r < 0) {
		o = reply_error(r, "out of memory");
		goto out;
	}
	snprintf(l->pool, sizeof(l->pool), "%s", req->pool);
	snprintf(l->vf, sizeof(l->vf), "%s", vf->addr);
	snprintf(l->pf, sizeof(l->pf), "%s", pf->addr);
	snprintf(l->owner, sizeof(l->owner), "%s", req->owner);
	l->vf_index = vf->vf_index;
	l->uid = c->cred.uid;
	l->created = (int64_t)time(NULL);
	l->bound = !vfctl_driver_is_vfio(vf->driver);
	if (req->pid > 0) {
		l->pid = req->pid;
		l->pid_start = proc_start_time(req->pid);
	}
	r = save(d);
	if (r < 0) {
		o = reply_error(r, "%s", vfctl_ctx_error(d->ctx));
		lease_store_remove(&d->store, l);
		goto out;
	}
	test_stop(d, "alloc:before-bind");
	if (l->bound) {
		r = vfctl_bind(d->ctx, h, vf->addr, "vfio-pci", VFCTL_BIND_MODPROBE, d->timeout_ms);
		if (r < 0) {
			o = reply_error(r, "%s", vfctl_ctx_error(d->ctx));
			goto rollback;
		}
		test_stop(d, "alloc:after-bind");
		vfctl_host_free(h);
		h = NULL;
		r = host_scan(d, &h);
		if (r >= 0)
			r = vfctl_host_find(d->ctx, h, l->vf, &vf);
		if (r < 0) {
			o = reply_error(r, "%s: after binding it: %s", l->vf, vfctl_ctx_error(d->ctx));
			goto rollback;
		}
	}
	g = vf->iommu_group >= 0 ? vfctl_host_group(h, vf->iommu_group) : NULL;
	if (!g || !g->viable) {
		o = reply_error(-EBUSY, "%s: its IOMMU group %d is not viable for VFIO%s%s; put the "
				"other members on vfio-pci or take this VF out of pool '%s'", vf->addr,
				vf->iommu_group, g && g->reason ? ": " : "", g && g->reason ? g->reason : "",
				l->pool);
		goto rollback;
	}
	l->group = vf->iommu_group;
	l->state = LEASE_ACTIVE;
	r = save(d);
	if (r < 0) {
		o = reply_error(r, "%s", vfctl_ctx_error(d->ctx));
		goto rollback;
	}
	test_stop(d, "alloc:after-commit");
	if (l->pid)
		pid_watch(d, l);
	log_msg(LOG_INFO, "lease %s: %s (VF %d of %s, group %d) from pool %s to uid %u%s%s",
		l->id, l->vf, l->vf_index, l->pf, l->group, l->pool, l->uid,
		l->owner[0] ? ", owner " : "", l->owner);
	o = reply_ok();
	json_object_object_add(o, "lease", lease_json(l));
	goto out;

rollback:
	if (vf_restore(d, l) < 0) {
		/* revoked, not forgotten: the retry timer finishes it */
		log_msg(LOG_ERR, "lease %s: rolling back %s: %s", l->id, l->vf, vfctl_ctx_error(d->ctx));
		l->state = LEASE_RELEASING;
		save(d);
	} else {
		lease_store_remove(&d->store, l);
		save(d);
	}
out:
	vfctl_host_free(h);
	return o;
}

static bool may_use(const struct conn *c, const struct lease *l)
{
	return c->cred.uid == 0 || c->cred.uid == l->uid;
}

static json_object *do_release(struct daemon *d, const struct conn *c,
			       const struct proto_request *req)
{
	struct lease *l = req->lease[0] ? lease_store_find(&d->store, req->lease) :
			  lease_store_find_vf(&d->store, req->vf);
	char node[64], who[256];
	json_object *o;
	int r;

	if (!l)
		return reply_error(-ENOENT, "no lease %s%s ('vfctl leases' lists them)",
				   req->lease[0] ? "" : "on ", req->lease[0] ? req->lease : req->vf);
	if (!may_use(c, l))
		return reply_error(-EACCES, "lease %s belongs to uid %u, not to uid %u", l->id,
				   l->uid, c->cred.uid);
	if (l->state == LEASE_ALLOCATING)
		return reply_error(-EAGAIN, "lease %s is still being allocated; try again", l->id);
	if (l->state == LEASE_ACTIVE) {
		if (l->group >= 0 && d->ctx->live && !req->force) {
			snprintf(node, sizeof(node), "/dev/vfio/%d", l->group);
			if (vfctl_vfio_holders(node, who, sizeof(who)) > 0)
				return reply_error(-EBUSY, "lease %s (%s): %s is held open by %s: stop "
						   "it first, or release with --force (the lease is "
						   "revoked now and the VF goes back once it is closed)",
						   l->id, l->vf, node, who);
		}
		r = release_begin(d, l, req->force ? "released by request (forced)" :
				  "released by request");
		if (r < 0)
			return reply_error(r, "%s", vfctl_ctx_error(d->ctx));
		test_stop(d, "release:before-restore");
	}
	o = reply_ok();
	json_object_object_add(o, "lease", lease_json(l));	/* before it may be freed */
	r = release_finish(d, l);
	if (r == 0) {
		json_object_object_add(json_object_object_get(o, "lease"), "state",
				       json_object_new_string("released"));
		return o;
	}
	if (req->force) {
		json_object_object_add(json_object_object_get(o, "lease"), "pending",
				       json_object_new_string(l->pending));
		return o;
	}
	json_object_put(o);
	return reply_error(r, "lease %s (%s) is revoked, but %s; vfctld retries every %llu s",
			   l->id, l->vf, l->pending, RETRY_USEC / 1000000);
}

/* The VF's cdev under /dev/vfio/devices (iommufd kernels), by its sysfs
 * vfio-dev/vfioN entry; -ENOENT when the kernel has none. */
static int open_cdev(struct daemon *d, const struct lease *l, int *ret)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	char rel[128];
	int r;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vfio-dev", l->vf);
	r = vfctl_root_opendir(&d->ctx->sys, rel, &dir);
	if (r < 0)
		return r;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(rel, sizeof(rel), "vfio/devices/%.32s", de->d_name);
			if (!vfctl_root_exists(&d->ctx->dev, rel))
				return -ENOENT;
			r = vfctl_root_openat(&d->ctx->dev, rel, O_RDWR | O_CLOEXEC);
			if (r < 0)
				return r;
			*ret = r;
			return 0;
		}
	return -ENOENT;
}

static int send_reply(int fd, json_object *o, const int *fds, size_t n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	struct iovec iov = { .iov_base = (void *)s, .iov_len = strlen(s) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

static json_object *do_open(struct daemon *d, const struct conn *c,
			    const struct proto_request *req, bool *sent)
{
	struct lease *l = lease_store_find(&d->store, req->lease);
	int fds[PROTO_MAX_FDS], n = 0, fd = -1;
	json_object *o = NULL, *names;
	char rel[64], node[64], who[256];
	int r;

	*sent = false;
	if (!l)
		return reply_error(-ENOENT, "no lease %s ('vfctl leases' lists them)", req->lease);
	/* checked before any device is opened, let alone sent */
	if (!may_use(c, l))
		return reply_error(-EACCES, "lease %s belongs to uid %u, not to uid %u", l->id,
				   l->uid, c->cred.uid);
	if (l->state != LEASE_ACTIVE)
		return reply_error(-ESTALE, "lease %s is %s, not active", l->id,
				   lease_state_name(l->state));
	if (!sys_driver_is(d, l->vf, "vfio-pci"))
		return reply_error(-ENXIO, "lease %s: %s is no longer bound to vfio-pci (did "
				   "someone rebind it?); release the lease and allocate again", l->id,
				   l->vf);
	r = vfctl_root_openat(&d->ctx->dev, "vfio/vfio", O_RDWR | O_CLOEXEC);
	if (r < 0)
		return reply_error(r, "lease %s: opening %s/vfio/vfio: %s; is vfio loaded?", l->id,
				   d->ctx->dev.path ? d->ctx->dev.path : "/dev", strerror(-r));
	fds[n++] = r;
	snprintf(rel, sizeof(rel), "vfio/%d", l->group);
	r = vfctl_root_openat(&d->ctx->dev, rel, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		snprintf(node, sizeof(node), "/dev/vfio/%d", l->group);
		if (r == -EBUSY && vfctl_vfio_holders(node, who, sizeof(who)) > 0)
			o = reply_error(r, "lease %s: %s is already open in %s (a VFIO group opens "
					"once at a time): close it there first", l->id, node, who);
		else
			o = reply_error(r, "lease %s: opening %s/%s: %s", l->id,
					d->ctx->dev.path ? d->ctx->dev.path : "/dev", rel,
					strerror(-r));
		goto out;
	}
	fds[n++] = r;
	if (d->ctx->live) {
		struct vfio_group_status gs = { .argsz = sizeof(gs) };

		/* errno only when the ioctl failed: a stale one must not pass for it */
		int e = ioctl(fds[1], VFIO_GROUP_GET_STATUS, &gs) < 0 ? errno : 0;

		if (e || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
			o = reply_error(e ? -e : -EBUSY, "lease %s: VFIO group %d is not "
					"viable (VFIO_GROUP_GET_STATUS%s%s): every member must be on "
					"vfio-pci", l->id, l->group, e ? ": " : "", e ? strerror(e) : "");
			goto out;
		}
	}
	names = json_object_new_array();
	json_object_array_add(names, json_object_new_string("container"));
	json_object_array_add(names, json_object_new_string("group"));
	/* iommufd kernels: /dev/iommu and the VF's cdev go along; Debian's have neither */
	if (vfctl_root_exists(&d->ctx->dev, "iommu") && open_cdev(d, l, &fd) == 0) {
		r = vfctl_root_openat(&d->ctx->dev, "iommu", O_RDWR | O_CLOEXEC);
		if (r >= 0) {
			fds[n++] = r;
			fds[n++] = fd;
			fd = -1;
			json_object_array_add(names, json_object_new_string("iommufd"));
			json_object_array_add(names, json_object_new_string("device"));
		}
	}
	test_stop(d, "open:after-open");
	o = reply_ok();
	json_object_object_add(o, "lease", lease_json(l));
	json_object_object_add(o, "address", json_object_new_string(l->vf));
	json_object_object_add(o, "group", json_object_new_int(l->group));
	json_object_object_add(o, "fds", names);
	r = send_reply(c->fd, o, fds, (size_t)n);
	if (r < 0)
		log_msg(LOG_WARNING, "lease %s: sending the fds to pid %d: %s", l->id, c->cred.pid,
			strerror(-r));
	else
		log_msg(LOG_INFO, "lease %s: VFIO fds of %s (group %d) sent to pid %d uid %u", l->id,
			l->vf, l->group, c->cred.pid, c->cred.uid);
	*sent = true;
	test_stop(d, "open:after-send");
out:
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < n; i++)
		close(fds[i]);	/* the daemon keeps no copy */
	return o;
}

/* ---- connections ---------------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	c->d->n_conns--;
	free(c);
}

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct conn *c = userdata;
	struct daemon *d = c->d;
	char buf[PROTO_REQ_MAX + 1], err[512];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct proto_request req;
	json_object *o = NULL;
	bool sent = false, had_fds = false;
	ssize_t n;
	int r;

	(void)s;
	if (revents & (EPOLLERR | EPOLLHUP) && !(revents & EPOLLIN)) {
		conn_free(c);
		return 0;
	}
	/* MSG_TRUNC: the real length of a datagram larger than the buffer */
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_free(c);
		return 0;
	}
	/* nobody sends the daemon fds: close any, so they cannot pile up here */
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int x;

				memcpy(&x, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(x);
			}
			had_fds = true;
		}
	if (had_fds || (mh.msg_flags & MSG_CTRUNC)) {
		o = reply_error(-EINVAL, "requests carry no file descriptors; closed them");
	} else if ((size_t)n > PROTO_REQ_MAX) {
		o = reply_error(-EMSGSIZE, "request of %zd bytes, more than %d: refused unread", n,
				PROTO_REQ_MAX);
	} else {
		r = proto_request_parse(buf, (size_t)n, &req, err, sizeof(err));
		if (r < 0) {
			o = reply_error(r, "bad request: %s", err);
		} else {
			switch (req.op) {
			case PROTO_LIST: o = do_list(d, c); break;
			case PROTO_ALLOC: o = do_alloc(d, c, &req); break;
			case PROTO_RELEASE: o = do_release(d, c, &req); break;
			case PROTO_LEASES: o = do_leases(d, c); break;
			case PROTO_OPEN: o = do_open(d, c, &req, &sent); break;
			}
		}
	}
	if (o && !sent) {
		r = send_reply(fd, o, NULL, 0);
		if (r < 0)
			log_msg(LOG_DEBUG, "reply to pid %d: %s", c->cred.pid, strerror(-r));
	}
	json_object_put(o);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	socklen_t len = sizeof(struct ucred);
	struct conn *c;
	int cfd;

	(void)s;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	if (d->n_conns >= MAX_CONNS) {
		json_object *o = reply_error(-EMFILE, "vfctld has %d connections open; try again",
					     MAX_CONNS);

		send_reply(cfd, o, NULL, 0);
		json_object_put(o);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->d = d;
	c->fd = cfd;
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->n_conns++;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
		log_msg(LOG_WARNING, "SO_PEERCRED: %s; connection closed", strerror(errno));
		conn_free(c);
		return 0;
	}
	/* the peer's supplementary groups at connect time (Linux 4.13) */
	len = sizeof(c->groups);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == 0)
		c->n_groups = (int)(len / sizeof(gid_t));
	if (sd_event_add_io(d->ev, &c->src, cfd, EPOLLIN, on_conn, c) < 0) {
		conn_free(c);
		return 0;
	}
	return 0;
}

/* ---- host events, signals ------------------------------------------------------ */

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	bool any = false;

	for (size_t i = 0; i < d->store.n; i++)
		any |= d->store.v[i]->state != LEASE_ACTIVE;
	if (any)
		reconcile(d);
	/* a time source fires once: re-arm it */
	sd_event_source_set_time(s, usec + RETRY_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static int on_device(sd_device_monitor *m, sd_device *dev, void *userdata)
{
	struct daemon *d = userdata;
	sd_device_action_t a;
	const char *name;

	(void)m;
	if (sd_device_get_action(dev, &a) < 0 || sd_device_get_sysname(dev, &name) < 0)
		return 0;
	if ((a == SD_DEVICE_REMOVE || a == SD_DEVICE_UNBIND) && lease_store_find_vf(&d->store, name)) {
		log_msg(LOG_INFO, "%s: %s event; reconciling", name,
			a == SD_DEVICE_REMOVE ? "remove" : "unbind");
		reconcile(d);
	}
	return 0;
}

static int config_load(struct daemon *d)
{
	struct vfctl_config *cfg = NULL;
	int r;

	if (!d->config_explicit && access(d->config_path, F_OK) < 0 && errno == ENOENT) {
		log_msg(LOG_WARNING, "%s does not exist: no pools (see vfctl.conf(5))", d->config_path);
		vfctl_config_free(d->cfg);
		d->cfg = NULL;
		return 0;
	}
	r = vfctl_config_load(d->ctx, d->config_path, &cfg);
	if (r < 0) {
		log_msg(LOG_ERR, "%s", vfctl_ctx_error(d->ctx));
		return r;
	}
	vfctl_config_free(d->cfg);
	d->cfg = cfg;
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	(void)si;
	sd_notify(0, "RELOADING=1");
	if (config_load(d) < 0)
		log_msg(LOG_ERR, "reload: keeping the pools of the previous config");
	else
		log_msg(LOG_INFO, "reloaded %s", d->config_path);
	reconcile(d);
	sd_notify(0, "READY=1");
	return 0;
}

static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)s;
	(void)si;
	(void)userdata;
	/* sysfs writers that outlived their timeout, now unstuck */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	log_msg(LOG_INFO, "%s: exiting; leases stay in %s/leases.json", strsignal((int)si->ssi_signo),
		d->store.dir);
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(d->ev, 0);
}

/* ---- start-up --------------------------------------------------------------------- */

static int listen_socket(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = sd_listen_fds(1), fd;

	if (n > 1) {
		log_msg(LOG_ERR, "socket activation passed %d sockets, expected one (vfctld.socket)", n);
		return -EINVAL;
	}
	if (n == 1) {
		fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
			log_msg(LOG_ERR, "the socket systemd passed is not a listening unix "
				"SOCK_SEQPACKET socket: check ListenSequentialPacket= in vfctld.socket");
			return -EINVAL;
		}
		d->listen_fd = fd;
		d->activated = true;
		return 0;
	}
	if (strlen(d->sock_path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "socket path %s is too long", d->sock_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a stale socket of a dead daemon; a live one answers connect() */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_msg(LOG_ERR, "%s: another vfctld is listening there", d->sock_path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(d->sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* clients of every uid must reach a socket in the run directory; what is
	 * private in it stays so (state/ and lock/ 0700, leases.json 0600) */
	if (!strncmp(d->sock_path, d->store.dir, strlen(d->store.dir)) &&
	    !strchr(d->sock_path + strlen(d->store.dir) + 1, '/'))
		fchmod(d->store.dfd, 0755);
	/* Bound and listening under a temporary name, then renamed: a client
	 * that sees the path never finds a socket that refuses connections. */
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.new", d->sock_path) >=
	    (int)sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "socket path %s is too long", d->sock_path);
		close(fd);
		return -ENAMETOOLONG;
	}
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0666) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    rename(sa.sun_path, d->sock_path) < 0) {
		int r = -errno;

		log_msg(LOG_ERR, "%s: bind/listen: %s", d->sock_path, strerror(errno));
		unlink(sa.sun_path);
		close(fd);
		return r;
	}
	d->listen_fd = fd;
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: vfctld [OPTIONS]\n"
	      "\n"
	      "Hands out the VFs of the pools in vfctl.conf(5) as leases; see vfctld(8).\n"
	      "\n"
	      "  -c, --config FILE      pools from FILE (default /etc/vfctl/vfctl.conf)\n"
	      "  -s, --socket PATH      listen on PATH (default RUN_DIR/vfctld.sock) unless\n"
	      "                         started by socket activation\n"
	      "      --sysfs-root DIR   read DIR instead of /sys (env VFCTL_SYSFS_ROOT)\n"
	      "      --dev-root DIR     read DIR instead of /dev (env VFCTL_DEV_ROOT)\n"
	      "      --run-dir DIR      leases, saved state and locks under DIR, not\n"
	      "                         /run/vfctl (env VFCTL_RUN_DIR)\n"
	      "      --timeout SEC      bound on each sysfs write (default 10)\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          version\n", out);
}

int main(int argc, char **argv)
{
	enum { OPT_SYSFS = 256, OPT_DEV, OPT_RUN, OPT_TIMEOUT };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS },
		{ "dev-root", required_argument, NULL, OPT_DEV },
		{ "run-dir", required_argument, NULL, OPT_RUN },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct daemon d = { .config_path = DEFAULT_CONFIG, .listen_fd = -1, .timeout_ms = 10000,
			    .store = { .dfd = -1 } };
	const char *sys = NULL, *dev = NULL, *run = NULL, *sock = NULL;
	char errbuf[512] = "";
	sigset_t mask;
	struct rlimit rl;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d.config_path = optarg; d.config_explicit = true; break;
		case 's': sock = optarg; break;
		case OPT_SYSFS: sys = optarg; break;
		case OPT_DEV: dev = optarg; break;
		case OPT_RUN: run = optarg; break;
		case OPT_TIMEOUT: {
			char *end;
			double t = strtod(optarg, &end);

			if (*end || !(t > 0) || t > 3600) {
				fprintf(stderr, "vfctld: --timeout '%s': expected seconds, more than 0 "
					"and at most 3600\n", optarg);
				return 2;
			}
			d.timeout_ms = (unsigned)(t * 1000);
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': printf("vfctld %s\n", VFCTL_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vfctld: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	/* under systemd stderr is a journal stream: log with priorities */
	use_journal = getenv("JOURNAL_STREAM") != NULL;
	d.test_stop = getenv("VFCTLD_TEST_STOP");
	signal(SIGPIPE, SIG_IGN);
	/* 200 clients at once and their fds */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/* libvfctl reads no environment: what vfctld(8) honours is passed in */
	r = vfctl_ctx_new(&d.ctx, &(struct vfctl_opts){
		.size = sizeof(struct vfctl_opts),
		.sysfs_root = vfctl_env_or(sys, "VFCTL_SYSFS_ROOT"),
		.dev_root = vfctl_env_or(dev, "VFCTL_DEV_ROOT"),
		.run_dir = vfctl_env_or(run, "VFCTL_RUN_DIR"),
		.errbuf = errbuf, .errlen = sizeof(errbuf),
		.lock_timeout_ms = vfctl_env_lock_timeout_ms() });
	if (r < 0) {
		log_msg(LOG_ERR, "%s", errbuf[0] ? errbuf : strerror(-r));
		return 1;
	}
	if (asprintf(&d.sock_path, "%s/vfctld.sock", vfctl_run_dir_path(d.ctx)) < 0)
		goto fail;
	if (sock) {
		free(d.sock_path);
		d.sock_path = strdup(sock);
	}
	r = lease_store_open(d.ctx, &d.store);
	if (r < 0) {
		log_msg(LOG_ERR, "%s", vfctl_ctx_error(d.ctx));
		goto fail;
	}
	if (config_load(&d) < 0)
		goto fail;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_default(&d.ev);
	if (r < 0)
		goto fail;
	if (sd_event_add_signal(d.ev, NULL, SIGCHLD, on_sigchld, &d) < 0 ||
	    sd_event_add_signal(d.ev, NULL, SIGHUP, on_sighup, &d) < 0 ||
	    sd_event_add_signal(d.ev, NULL, SIGTERM, on_exit_signal, &d) < 0 ||
	    sd_event_add_signal(d.ev, NULL, SIGINT, on_exit_signal, &d) < 0)
		goto fail;

	/* settle what a previous run left half done before taking requests */
	reconcile(&d);

	r = listen_socket(&d);
	if (r < 0)
		goto fail;
	if (sd_event_add_io(d.ev, NULL, d.listen_fd, EPOLLIN, on_accept, &d) < 0 ||
	    sd_event_add_time_relative(d.ev, &d.retry, CLOCK_MONOTONIC, RETRY_USEC, 0, on_retry,
				       &d) < 0 ||
	    sd_event_source_set_enabled(d.retry, SD_EVENT_ON) < 0)
		goto fail;
	/* PF/VF changes: udev's events (no udev, as in a bare initramfs: none come,
	 * and vanished VFs are found at the next reconcile) */
	if (d.ctx->live) {
		if (sd_device_monitor_new(&d.mon) < 0 ||
		    sd_device_monitor_filter_add_match_subsystem_devtype(d.mon, "pci", NULL) < 0 ||
		    sd_device_monitor_attach_event(d.mon, d.ev) < 0 ||
		    sd_device_monitor_start(d.mon, on_device, &d) < 0) {
			log_msg(LOG_WARNING, "no device monitor (udev events); VF changes are "
				"noticed at the next reconcile");
			d.mon = sd_device_monitor_unref(d.mon);
		}
	}
	log_msg(LOG_INFO, "listening on %s%s; %zu lease(s), config %s", d.activated ?
		"the socket systemd passed" : d.sock_path, "", d.store.n, d.config_path);
	sd_notifyf(0, "READY=1\nSTATUS=%zu lease(s)\nMAINPID=%d", d.store.n, (int)getpid());
	r = sd_event_loop(d.ev);

	while (d.conns)
		conn_free(d.conns);
	sd_device_monitor_unref(d.mon);
	sd_event_source_disable_unref(d.retry);
	lease_store_close(&d.store);
	if (!d.activated) {
		close(d.listen_fd);
		unlink(d.sock_path);
	}
	sd_event_unref(d.ev);
	vfctl_config_free(d.cfg);
	vfctl_ctx_free(d.ctx);
	free(d.sock_path);
	return r < 0 ? 1 : 0;
fail:
	lease_store_close(&d.store);
	vfctl_config_free(d.cfg);
	vfctl_ctx_free(d.ctx);
	free(d.sock_path);
	return 1;
}
