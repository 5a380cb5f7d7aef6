// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctld's requests: list, alloc, release, leases and open. Who may do what
 * (root always; else the pool's users and groups, and a lease's own uid)
 * and which VF a pool gives are decided here; the lease's state changes go
 * through the lifecycle (lifecycle.c), the VFIO fds through vfio-open.c.
 */
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "vfctld.h"

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

/* A lease's uid without its connection (reconcile, a reload, root's open):
 * root always; else listed in users, or its primary or supplementary group
 * (the user database, getgrouplist) in groups. 1 allowed, 0 not, -1 cannot
 * tell: the pool has groups and the database does not know the uid. */
static int pool_allows_uid(const struct vfctl_conf_pool *p, unsigned uid)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ gid_t *gids = NULL;
	struct passwd pw, *pwp = NULL;
	int n = 64;

	if (uid == 0)
		return 1;
	for (size_t i = 0; i < p->n_uids; i++)
		if (p->uids[i] == uid)
			return 1;
	if (!p->n_gids)
		return 0;
	buf = malloc(16384);
	if (!buf || getpwuid_r((uid_t)uid, &pw, buf, 16384, &pwp) != 0 || !pwp)
		return -1;
	gids = calloc((size_t)n, sizeof(*gids));
	if (!gids)
		return -1;
	if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &n) < 0) {
		free(gids);
		gids = calloc((size_t)n, sizeof(*gids));
		if (!gids || getgrouplist(pw.pw_name, pw.pw_gid, gids, &n) < 0)
			return -1;
	}
	for (size_t i = 0; i < p->n_gids; i++)
		for (int k = 0; k < n; k++)
			if (p->gids[i] == gids[k])
				return 1;
	return 0;
}

/* The PF of one config entry on this host: the config's own resolver, one
 * PF at a time, so a PF that is missing disables its pools only. */
int pool_pf(struct daemon *d, const struct vfctl_host *h, const struct vfctl_conf_pf *cpf,
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

/* Root, or the lease's own uid: who may use a lease, and who may see its
 * id and uid (nobody else learns them from a reply or an error). */
static bool may_use(const struct conn *c, const struct lease *l)
{
	return c->cred.uid == 0 || c->cred.uid == l->uid;
}

static int why_fail(char *why, size_t size, int r, const char *fmt, ...) _printf_(4, 5);
static int why_fail(char *why, size_t size, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return r;
}

/* Whether pool pr is on the PF pf now: h's (a scan), or with h NULL the
 * config's address itself, else the shared view at any age (a PF appears or
 * goes with a device event, which drops it). 0 yes, else the refusal. */
static int pool_on_pf(struct daemon *d, const struct vfctl_host *h, const struct pool_ref *pr,
		      const struct lease *l, const char *pf, char *why, size_t size)
{
	struct vfctl_func *f = NULL;
	const char *on;
	int r;

	if (!h && pr->cpf->match == VFCTL_MATCH_ADDRESS) {
		on = pr->cpf->addr;
	} else {
		r = h ? 0 : host_view(d, UINT64_MAX, false, &h);
		if (r < 0)
			return why_fail(why, size, r, "pool '%s': %s", l->pool,
					vfctl_ctx_error(d->ctx));
		on = pool_pf(d, h, pr->cpf, &f) < 0 ? NULL : f->addr;
	}
	if (on && !strcmp(on, pf))
		return 0;
	return why_fail(why, size, -EACCES, "pool '%s' is no longer on PF %s%s%s", l->pool, l->pf,
			on ? ": it is on " : "", on ? on : "");
}

/* l against the config and its VF's facts now (v; h: the host they were
 * read from, NULL when read from sysfs alone). */
static int lease_check_vf(struct daemon *d, const struct vfctl_host *h, const struct conn *c,
			  struct lease *l, const struct host_vf *v, char *why, size_t size)
{
	const char *file = d->cfg ? d->cfg->file : d->config_path;
	bool in_pool = false;
	struct pool_ref pr;
	int r;

	if (!v->pf[0])
		return why_fail(why, size, -ESTALE, "%s is no VF now", l->vf);
	if (strcmp(v->pf, l->pf))
		return why_fail(why, size, -ESTALE, "%s is a VF of %s now, not of %s as leased",
				l->vf, v->pf, l->pf);
	/* the config: the pool must still exist, be on this PF, hold this VF
	 * and allow the lease's uid (and the peer's) */
	if (!pool_find(d, l->pool, &pr))
		return why_fail(why, size, -EACCES, "pool '%s' is no longer in %s", l->pool, file);
	/* the lease's own uid at open: its credentials now (groups included);
	 * else the user database, and a uid it does not know keeps its lease
	 * until its own open says */
	if (c && c->cred.uid == l->uid ? !pool_allows(pr.pool, c) :
	    pool_allows_uid(pr.pool, l->uid) == 0)
		return why_fail(why, size, -EACCES, "pool '%s' no longer allows uid %u (not in its "
				"users or groups in %s)", l->pool, l->uid, file);
	r = pool_on_pf(d, h, &pr, l, v->pf, why, size);
	if (r < 0)
		return r;
	/* the identity recorded at alloc; an older file's gaps filled */
	if (l->vf_index >= 0 && l->vf_index != v->vf_index)
		return why_fail(why, size, -ESTALE, "%s is VF %d of %s now, not VF %d as leased",
				l->vf, v->vf_index, l->pf, l->vf_index);
	if (l->device_id[0] && strcmp(l->device_id, v->device_id))
		return why_fail(why, size, -ESTALE, "%s has device id %s now, not %s as leased",
				l->vf, v->device_id, l->device_id);
	if (l->group >= 0 && l->group != v->group)
		return why_fail(why, size, -ESTALE, "%s is in IOMMU group %d now, not the lease's "
				"group %d", l->vf, v->group, l->group);
	for (size_t k = 0; k < pr.pool->n_vfs; k++)
		if ((int)pr.pool->vfs[k] == v->vf_index)
			in_pool = true;
	if (!in_pool)
		return why_fail(why, size, -EACCES, "pool '%s' no longer has VF %d of %s", l->pool,
				v->vf_index, l->pf);
	if (l->vf_index < 0 || !l->device_id[0] || l->group < 0) {
		l->vf_index = v->vf_index;
		snprintf(l->device_id, sizeof(l->device_id), "%s", v->device_id);
		if (l->group < 0)
			l->group = v->group;
		snprintf(why, size, "VF index %d, device id %s and group %d read from sysfs (a "
			 "leases.json of an older vfctld)", l->vf_index, l->device_id, l->group);
		return 1;
	}
	return 0;
}

int lease_check_host(struct daemon *d, const struct vfctl_host *h, const struct conn *c,
		     struct lease *l, char *why, size_t size)
{
	struct vfctl_func *vf = NULL;
	struct host_vf v = { .vf_index = -1 };

	if (vfctl_host_find(d->ctx, h, l->vf, &vf) < 0)
		return why_fail(why, size, -ENODEV, "VF %s is gone", l->vf);
	if (vf->kind == VFCTL_FUNC_VF && vf->pf)
		snprintf(v.pf, sizeof(v.pf), "%s", vf->pf->addr);
	v.vf_index = vf->vf_index;
	snprintf(v.device_id, sizeof(v.device_id), "%04x:%04x", vf->vendor, vf->device);
	v.group = vf->iommu_group;
	return lease_check_vf(d, h, c, l, &v, why, size);
}

int lease_check_now(struct daemon *d, const struct conn *c, struct lease *l, int *ret_group,
		    char *why, size_t size)
{
	struct host_vf v;
	int r = host_vf_read(d, l->vf, l->vf_index, &v);

	if (r < 0)
		return why_fail(why, size, -ENODEV, "VF %s is gone", l->vf);
	r = lease_check_vf(d, NULL, c, l, &v, why, size);
	if (r >= 0)
		*ret_group = v.group;
	return r;
}

/* What a peer that may not see l is told instead of its id */
#define OTHER_USER "(another user)"

/* The refusal of a lease the peer may not use: neither its owner nor, when
 * the peer named the VF, its id. */
static json_object *reply_not_yours(const struct conn *c, const struct proto_request *req)
{
	if (req->lease[0])
		return reply_error(-EACCES, "lease %s is not one of uid %u ('vfctl leases' lists "
				   "yours)", req->lease, c->cred.uid);
	return reply_error(-EACCES, "%s is leased by another user, not by uid %u ('vfctl leases' "
			   "lists yours)", req->vf, c->cred.uid);
}

static json_object *pool_vf_json(const struct daemon *d, const struct conn *c,
				 const struct vfctl_func *vf, unsigned index)
{
	json_object *vo = json_object_new_object();
	const struct lease *l = vf ? lease_store_find_vf(&d->life.store, vf->addr) : NULL;

	json_object_object_add(vo, "index", json_object_new_int((int)index));
	json_object_object_add(vo, "address", vf ? json_object_new_string(vf->addr) : NULL);
	json_object_object_add(vo, "numa_node", vf && vf->numa_node >= 0 ?
			       json_object_new_int(vf->numa_node) : NULL);
	json_object_object_add(vo, "driver", vf && vf->driver ? json_object_new_string(vf->driver) :
			       NULL);
	json_object_object_add(vo, "lease", !l ? NULL : json_object_new_string(may_use(c, l) ?
			       l->id : OTHER_USER));
	return vo;
}

/* Does any pool allow c? */
static bool any_pool_allows(const struct daemon *d, const struct conn *c)
{
	for (size_t i = 0; d->cfg && i < d->cfg->n_pfs; i++)
		for (size_t j = 0; j < d->cfg->pfs[i].n_pools; j++)
			if (pool_allows(&d->cfg->pfs[i].pools[j], c))
				return true;
	return false;
}

/* list for a uid no pool allows: the pool names from the config, nothing of
 * the host, so such a peer costs no scan however often it asks. */
static json_object *list_no_host(struct daemon *d, const struct conn *c)
{
	json_object *o = reply_ok(), *pools = json_object_new_array();
	char why[128];

	d->stats.list_no_host++;
	snprintf(why, sizeof(why), "not shown: no pool allows uid %u", c->cred.uid);
	for (size_t i = 0; d->cfg && i < d->cfg->n_pfs; i++)
		for (size_t j = 0; j < d->cfg->pfs[i].n_pools; j++) {
			json_object *po = json_object_new_object();

			json_object_object_add(po, "name",
					       json_object_new_string(d->cfg->pfs[i].pools[j].name));
			json_object_object_add(po, "allowed", json_object_new_boolean(false));
			json_object_object_add(po, "pf", NULL);
			json_object_object_add(po, "error", json_object_new_string(why));
			json_object_object_add(po, "free", json_object_new_int(0));
			json_object_object_add(po, "vfs", json_object_new_array());
			json_object_array_add(pools, po);
		}
	json_object_object_add(o, "pools", pools);
	return o;
}

static json_object *do_list(struct daemon *d, const struct conn *c)
{
	json_object *o, *pools;
	const struct vfctl_host *h = NULL;
	int r;

	if (!any_pool_allows(d, c))
		return list_no_host(d, c);
	/* the shared view, scanned at most once a second (HOST_VIEW_USEC) */
	r = host_view(d, HOST_VIEW_USEC, true, &h);
	if (r < 0)
		return reply_error(r, "%s", vfctl_ctx_error(d->ctx));
	o = reply_ok();
	pools = json_object_new_array();
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
				const struct vfctl_func *vf = pf && p->vfs[k] < pf->n_vfs ?
							      pf->vfs[p->vfs[k]] : NULL;

				if (vf && !lease_store_find_vf(&d->life.store, vf->addr))
					n_free++;
				json_object_array_add(vfs, pool_vf_json(d, c, vf, p->vfs[k]));
			}
			json_object_object_add(po, "free", json_object_new_int((int)n_free));
			json_object_object_add(po, "vfs", vfs);
			json_object_array_add(pools, po);
		}
	json_object_object_add(o, "pools", pools);
	return o;
}

static json_object *do_leases(struct daemon *d, const struct conn *c)
{
	json_object *o = reply_ok(), *a = json_object_new_array();
	const struct lease_store *st = &d->life.store;

	/* everybody sees their own leases; root sees all */
	for (size_t i = 0; i < st->n; i++)
		if (c->cred.uid == 0 || st->v[i]->uid == c->cred.uid)
			json_object_array_add(a, lease_to_json(st->v[i], LEASE_JSON_WIRE));
	json_object_object_add(o, "leases", a);
	return o;
}

/* A VF of the pool that nobody leases or holds, within the constraints;
 * else the leases in it counted, the ids c may see listed in leased. */
static struct vfctl_func *pick_vf(struct daemon *d, const struct conn *c,
				  const struct vfctl_conf_pool *p, const struct vfctl_func *pf,
				  const struct proto_request *req, unsigned *n_leased, char *leased,
				  size_t size)
{
	size_t used = 0;
	unsigned n_other = 0;

	*n_leased = 0;
	leased[0] = '\0';
	for (size_t k = 0; k < p->n_vfs; k++) {
		struct vfctl_func *vf = p->vfs[k] < pf->n_vfs ? pf->vfs[p->vfs[k]] : NULL;
		const struct lease *l;
		char who[128];

		if (!vf)
			continue;
		l = lease_store_find_vf(&d->life.store, vf->addr);
		if (l) {
			(*n_leased)++;
			if (!may_use(c, l))
				n_other++;
			else if (used < size)
				used += (size_t)snprintf(leased + used, size - used, "%s%s",
							 used ? " " : "", l->id);
			continue;
		}
		if (req->numa >= 0 && vf->numa_node != req->numa)
			continue;
		/* on vfio-pci already and in use outside the daemon: not free */
		if (vfctl_driver_is_vfio(vf->driver) &&
		    vfio_group_holders(d->ctx, vf->iommu_group, who, sizeof(who)) > 0)
			continue;
		return vf;
	}
	if (n_other && used < size)
		snprintf(leased + used, size - used, "%s%u by other users", used ? ", " : "",
			 n_other);
	return NULL;
}

/* A free VF of the pool in *ret, its VF and PF in tmpl; or the error reply. */
static json_object *alloc_pick(struct daemon *d, const struct conn *c, const struct pool_ref *pr,
			       const struct proto_request *req, struct vfctl_host *h,
			       struct lease *tmpl, struct vfctl_func **ret)
{
	struct vfctl_func *pf, *want, *vf;
	char leased[256];
	unsigned n_leased;
	int r = pool_pf(d, h, pr->cpf, &pf);

	if (r < 0)
		return reply_error(r, "pool '%s': %s", req->pool, vfctl_ctx_error(d->ctx));
	if (req->pf[0]) {
		r = vfctl_host_find(d->ctx, h, req->pf, &want);
		if (r < 0 || want != pf)
			return reply_error(-ENOENT, "pool '%s' has no VF on PF %s: its VFs are on %s",
					   req->pool, req->pf, pf->addr);
	}
	/* not "0 of N leased": the operator has VFs to create, not to free */
	if (pf->n_vfs == 0 || pf->numvfs == 0)
		return reply_error(-ENOSPC, "pool '%s': PF %s has 0 VFs (driver %s); run 'vfctl "
				   "apply' (or 'vfctl create %s N')", req->pool, pf->addr,
				   pf->driver ? pf->driver : "none", pf->addr);
	vf = pick_vf(d, c, pr->pool, pf, req, &n_leased, leased, sizeof(leased));
	if (vf) {
		snprintf(tmpl->vf, sizeof(tmpl->vf), "%s", vf->addr);
		snprintf(tmpl->pf, sizeof(tmpl->pf), "%s", pf->addr);
		tmpl->vf_index = vf->vf_index;
		snprintf(tmpl->device_id, sizeof(tmpl->device_id), "%04x:%04x", vf->vendor,
			 vf->device);
		tmpl->bound = !vfctl_driver_is_vfio(vf->driver);
		*ret = vf;
		return NULL;
	}
	if (req->numa >= 0)
		return reply_error(-ENOSPC, "pool '%s' has no free VF on NUMA node %d: %u of %zu "
				   "leased%s%s%s", req->pool, req->numa, n_leased, pr->pool->n_vfs,
				   n_leased ? " (" : "", leased, n_leased ? ")" : "");
	return reply_error(-ENOSPC, "pool '%s' has no free VF: %u of %zu leased%s%s%s", req->pool,
			   n_leased, pr->pool->n_vfs, n_leased ? " (" : "", leased,
			   n_leased ? ")" : "");
}

/* The group of a VF on vfio-pci, or -EBUSY with why when it is not viable. */
static int alloc_viable(const struct vfctl_host *h, const struct vfctl_func *vf, const char *pool,
			int *ret_group, char *why, size_t size)
{
	struct vfctl_group *g = vf->iommu_group >= 0 ? vfctl_host_group(h, vf->iommu_group) : NULL;

	if (!g || !g->viable)
		return why_fail(why, size, -EBUSY, "%s: its IOMMU group %d is not viable for VFIO%s%s; "
				"put the other members on vfio-pci or take this VF out of pool '%s'",
				vf->addr, vf->iommu_group, g && g->reason ? ": " : "",
				g && g->reason ? g->reason : "", pool);
	*ret_group = vf->iommu_group;
	return 0;
}

/* A free VF of the pool in tmpl, decided on the shared view with no scan
 * when it can be: a VF picked is trusted only when its driver and its
 * group's drivers read now are the view's (someone may have rebound it
 * behind the daemon's back), and "no free VF" only from a view at most
 * HOST_VIEW_USEC old; else the view is scanned again and decides. A VF
 * already on vfio-pci: its group in *ret_group (-1: it is to be bound). */
static json_object *alloc_pick_view(struct daemon *d, const struct conn *c,
				    const struct pool_ref *pr, const struct proto_request *req,
				    struct lease *tmpl, int *ret_group)
{
	for (int again = 0;; again++) {
		const struct vfctl_host *h = NULL;
		struct vfctl_func *vf = NULL;
		json_object *o;
		int r = host_view(d, UINT64_MAX, false, &h);

		if (r < 0)
			return reply_error(r, "pool '%s': %s", req->pool, vfctl_ctx_error(d->ctx));
		o = alloc_pick(d, c, pr, req, (struct vfctl_host *)h, tmpl, &vf);
		if (o ? again || host_view_age(d) <= HOST_VIEW_USEC :
		    again || host_vf_current(d, h, vf)) {
			char why[512];

			*ret_group = -1;
			if (o || tmpl->bound)
				return o;
			r = alloc_viable(h, vf, req->pool, ret_group, why, sizeof(why));
			return r < 0 ? reply_error(r, "%s", why) : NULL;
		}
		json_object_put(o);
		host_view_drop(d);
	}
}

void restore_wait_free(void *p)
{
	struct restore_wait *w = p;

	if (w)
		json_object_put(w->o);
	free(w);
}

/* A lifecycle call that may restore the VF (abort, release_finish) with o
 * as the reply once that is done: 1 when a worker restores it and replies
 * to c later (o is the worker's then), else the call's result. */
static int with_restore_wait(struct daemon *d, struct conn *c, json_object *o, bool release,
			     bool force, int (*fn)(struct lease_life *, struct lease *),
			     struct lease *l)
{
	struct restore_wait *w = calloc(1, sizeof(*w));
	bool serving = d->serving;
	int r;

	if (w)
		*w = (struct restore_wait){ .c = c, .o = json_object_get(o), .release = release,
					    .force = force };
	else
		d->serving = false;	/* nothing to wait with: restored here (host.c) */
	d->restore_wait = w;
	r = fn(&d->life, l);
	d->serving = serving;
	if (d->restore_wait) {	/* no worker took it */
		d->restore_wait = NULL;
		restore_wait_free(w);
	}
	return r;
}

/* The release reply (o, carrying the lease as lo) for the restore's result r */
static json_object *release_reply(json_object *o, int r, bool force, const char *id,
				  const char *vf, const char *pending)
{
	json_object *lo = NULL;

	json_object_object_get_ex(o, "lease", &lo);
	if (r == 0) {
		json_object_object_add(lo, "state", json_object_new_string("released"));
		return o;
	}
	if (force) {
		json_object_object_add(lo, "pending", json_object_new_string(pending));
		return o;
	}
	json_object_put(o);
	return reply_error(r, "lease %s (%s) is revoked, but %s; vfctld retries every %llu s", id,
			   vf, pending, RETRY_USEC / 1000000);
}

void request_restored(struct daemon *d, struct conn *c, struct restore_wait *w, int r,
		      const char *id, const char *vf, const char *pending)
{
	json_object *o = w->o;
	bool release = w->release, force = w->force;

	w->o = NULL;
	restore_wait_free(w);
	/* an alloc's error reply goes as it is, once the VF is back */
	if (o && release)
		o = release_reply(o, r, force, id, vf, pending);
	if (c && o)
		conn_answer(c, o);
	json_object_put(o);
}

/* The end of an alloc: committed, the reply carrying the lease; or, when o
 * is an error reply already or the commit fails, rolled back (o); NULL
 * when a worker restores the VF and replies to c once it is back. */
static json_object *alloc_end(struct daemon *d, struct conn *c, struct lease *l, int group,
			      json_object *o)
{
	int r;

	if (!o) {
		r = lease_alloc_commit(&d->life, l, group);
		if (r < 0)
			o = reply_error(r, "%s", vfctl_ctx_error(d->ctx));
	}
	if (o) {
		if (with_restore_wait(d, c, o, false, false, lease_alloc_abort, l) == 1) {
			json_object_put(o);
			return NULL;
		}
		return o;
	}
	log_msg(LOG_INFO, "lease %s: %s (VF %d of %s, group %d) from pool %s to uid %u%s%s%s",
		l->id, l->vf, l->vf_index, l->pf, l->group, l->pool, l->uid,
		l->owner[0] ? ", owner " : "", l->owner, l->ttl ? ", with a time to live" : "");
	o = reply_ok();
	json_object_object_add(o, "lease", lease_to_json(l, LEASE_JSON_WIRE));
	return o;
}

/* In a worker (worker.c): bind the VF of a new lease to vfio-pci after a
 * scan with netlink, whose VF settings vfctl_bind saves for the restore;
 * its group (viable) from a scan after the bind. */
static void alloc_bind_job(struct daemon *d, const struct lease *l, struct worker_result *res)
{
	struct vfctl_host *h = NULL;
	struct vfctl_func *vf = NULL;
	int r = host_scan(d, &h);

	if (r >= 0)
		r = vfctl_host_find(d->ctx, h, l->vf, &vf);
	if (r < 0) {
		res->r = why_fail(res->err, sizeof(res->err), r, "pool '%s': %s", l->pool,
				  vfctl_ctx_error(d->ctx));
		goto out;
	}
	r = vfctl_bind(d->ctx, h, vf->addr, "vfio-pci", VFCTL_BIND_MODPROBE, d->timeout_ms);
	if (r < 0) {
		res->r = why_fail(res->err, sizeof(res->err), r, "%s", vfctl_ctx_error(d->ctx));
		goto out;
	}
	vfctl_host_free(h);
	h = NULL;
	r = host_scan(d, &h);
	if (r >= 0)
		r = vfctl_host_find(d->ctx, h, l->vf, &vf);
	if (r < 0)
		res->r = why_fail(res->err, sizeof(res->err), r, "%s: after binding it: %s", l->vf,
				  vfctl_ctx_error(d->ctx));
	else
		res->r = alloc_viable(h, vf, l->pool, &res->group, res->err, sizeof(res->err));
out:
	vfctl_host_free(h);
}

/* The bind's worker is done: the lease committed or rolled back as a bind
 * in the event loop would, and c answered. */
static void alloc_bind_done(struct daemon *d, struct lease *l, struct conn *c,
			    const struct worker_result *res, void *arg)
{
	json_object *o = NULL;

	host_view_drop(d);	/* the VF's driver changed (or was put back) */
	if (res->r < 0) {
		o = reply_error(res->r, "%s", res->err);
	} else {
		test_stop("alloc:after-bind");
		/* no owner left to watch: the lease would only wait for a reconcile */
		if (l->pid && proc_start_time(l->pid) != l->pid_start) {
			log_msg(LOG_NOTICE, "lease %s (%s): owner pid %d exited during the bind; "
				"rolling back", l->id, l->vf, l->pid);
			o = reply_error(-ESRCH, "%s: owner pid %d exited while the VF was being bound; "
					"rolled back", l->vf, l->pid);
		}
	}
	o = alloc_end(d, c, l, res->group, o);
	daemon_cdi_update(d);
	if (c && o)
		conn_answer(c, o);
	json_object_put(o);
}

/* The reply, or NULL when a worker binds the VF and replies to c later. */
static json_object *do_alloc(struct daemon *d, struct conn *c, const struct proto_request *req)
{
	struct pool_ref pr;
	struct lease *l = NULL, tmpl = { .uid = c->cred.uid };
	char names[256];
	json_object *o;
	int r, group = -1;

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
	o = alloc_pick_view(d, c, &pr, req, &tmpl, &group);
	if (o)
		return o;
	snprintf(tmpl.pool, sizeof(tmpl.pool), "%s", req->pool);
	snprintf(tmpl.owner, sizeof(tmpl.owner), "%s", req->owner);
	tmpl.created = (int64_t)time(NULL);
	if (req->pid > 0) {
		tmpl.pid = req->pid;
		tmpl.pid_start = proc_start_time(req->pid);
	}
	/* the request's ttl; else the pool's, for leases no process ends */
	tmpl.ttl = req->ttl ? req->ttl : req->pid > 0 ? 0 : pr.pool->ttl;
	lease_touch(&tmpl, tmpl.created);
	/* on disk before the kernel is touched: a crash from here on is undone at
	 * start; and in the store, so no other alloc picks this VF meanwhile */
	r = lease_alloc_begin(&d->life, &tmpl, &l);
	if (r < 0)
		return reply_error(r, "%s", vfctl_ctx_error(d->ctx));
	test_stop("alloc:before-bind");
	if (l->bound) {
		/* a write that hangs holds up this client only */
		r = worker_start(d, l, c, "binding it to vfio-pci", alloc_bind_job, alloc_bind_done,
				 NULL, NULL);
		if (r == 0)
			return NULL;
		o = reply_error(r, "%s: starting vfctld's worker for the bind: %s", l->vf,
				strerror(-r));
	}
	return alloc_end(d, c, l, group, o);
}

/* The reply, or NULL when a worker restores the VF and replies to c later. */
static json_object *do_release(struct daemon *d, struct conn *c, const struct proto_request *req)
{
	struct lease *l = req->lease[0] ? lease_store_find(&d->life.store, req->lease) :
			  lease_store_find_vf(&d->life.store, req->vf);
	char who[256], id[sizeof(l->id)], vf[sizeof(l->vf)];
	json_object *o;
	int r;

	if (!l)
		return reply_error(-ENOENT, "no lease %s%s ('vfctl leases' lists them)",
				   req->lease[0] ? "" : "on ", req->lease[0] ? req->lease : req->vf);
	if (!may_use(c, l))
		return reply_not_yours(c, req);
	if (l->state == LEASE_ALLOCATING)
		return reply_error(-EAGAIN, "lease %s is still being allocated; try again", l->id);
	if (l->state == LEASE_ACTIVE) {
		if (!req->force && lease_group_holders(&d->life, l, who, sizeof(who)) > 0)
			return reply_error(-EBUSY, "lease %s (%s): /dev/vfio/%d is held open by %s: "
					   "stop it first, or release with --force (the lease is "
					   "revoked now and the VF goes back once it is closed)",
					   l->id, l->vf, l->group, who);
		r = lease_release_begin(&d->life, l, req->force ? "released by request (forced)" :
					"released by request");
		if (r < 0)
			return reply_error(r, "%s", vfctl_ctx_error(d->ctx));
		test_stop("release:before-restore");
	}
	o = reply_ok();
	json_object_object_add(o, "lease", lease_to_json(l, LEASE_JSON_WIRE));	/* before it may be freed */
	snprintf(id, sizeof(id), "%s", l->id);
	snprintf(vf, sizeof(vf), "%s", l->vf);
	r = with_restore_wait(d, c, o, true, req->force, lease_release_finish, l);
	if (r == 1) {
		json_object_put(o);
		return NULL;
	}
	return release_reply(o, r, req->force, id, vf, r < 0 ? l->pending : "");
}

static json_object *do_open(struct daemon *d, const struct conn *c,
			    const struct proto_request *req, bool *sent)
{
	struct lease *l = lease_store_find(&d->life.store, req->lease);
	struct vfio_lease_fds f;
	json_object *o, *names;
	char err[512];
	int r, group = -1;

	if (!l)
		return reply_error(-ENOENT, "no lease %s ('vfctl leases' lists them)", req->lease);
	/* checked before any device is opened, let alone sent */
	if (!may_use(c, l))
		return reply_not_yours(c, req);
	if (l->state != LEASE_ACTIVE)
		return reply_error(-ESTALE, "lease %s is %s, not active", l->id,
				   lease_state_name(l->state));
	/* the config and sysfs now, never what leases.json says alone: the
	 * lease is served only while its pool allows it and the VF is the one
	 * leased; the group opened is the one sysfs shows */
	r = lease_check_now(d, c, l, &group, err, sizeof(err));
	if (r == 1)
		lease_save(&d->life);
	if (r == -EACCES)
		return reply_error(r, "lease %s: refused: %s", l->id, err);
	if (r == -ESTALE) {
		log_msg(LOG_ERR, "lease %s (uid %u): open refused, nothing sent: %s", l->id, l->uid,
			err);
		return reply_error(r, "lease %s: refused, nothing sent: %s; release the lease and "
				   "allocate again", l->id, err);
	}
	if (r < 0)
		return reply_error(r, "lease %s: %s; release the lease and allocate again", l->id,
				   err);
	if (!host_driver_is(d, l->vf, "vfio-pci"))
		return reply_error(-ENXIO, "lease %s: %s is no longer bound to vfio-pci (did "
				   "someone rebind it?); release the lease and allocate again", l->id,
				   l->vf);
	r = vfio_open_lease(d->ctx, l->vf, group, &f, err, sizeof(err));
	if (r < 0)
		return reply_error(r, "lease %s: %s", l->id, err);
	test_stop("open:after-open");
	/* an open is a use: the lease lives another ttl */
	if (l->ttl) {
		lease_touch(l, (int64_t)time(NULL));
		lease_save(&d->life);
	}
	names = json_object_new_array();
	for (size_t i = 0; i < f.n; i++)
		json_object_array_add(names, json_object_new_string(f.name[i]));
	o = reply_ok();
	json_object_object_add(o, "lease", lease_to_json(l, LEASE_JSON_WIRE));
	json_object_object_add(o, "address", json_object_new_string(l->vf));
	json_object_object_add(o, "group", json_object_new_int(group));
	json_object_object_add(o, "fds", names);
	r = conn_send(c->fd, o, f.fd, f.n);
	if (r < 0) {
		log_msg(LOG_WARNING, "lease %s: sending the fds to pid %d: %s", l->id, c->cred.pid,
			strerror(-r));
	} else {
		log_msg(LOG_INFO, "lease %s: VFIO fds of %s (group %d) sent to pid %d uid %u", l->id,
			l->vf, group, c->cred.pid, c->cred.uid);
	}
	*sent = true;
	test_stop("open:after-send");
	vfio_lease_fds_close(&f);	/* the daemon keeps no copy */
	return o;
}

json_object *request_handle(struct daemon *d, struct conn *c, const struct proto_request *req,
			    bool *sent)
{
	json_object *o;

	*sent = false;
	switch (req->op) {
	case PROTO_LIST: return do_list(d, c);
	case PROTO_ALLOC:
		o = do_alloc(d, c, req);
		if (!o)
			return NULL;	/* its worker's completion updates the spec */
		break;
	case PROTO_RELEASE:
		o = do_release(d, c, req);
		if (!o)
			return NULL;
		break;
	case PROTO_LEASES: return do_leases(d, c);
	case PROTO_OPEN: return do_open(d, c, req, sent);
	default: return reply_error(-EINVAL, "unknown request");
	}
	/* the leases may have changed: the CDI spec follows */
	daemon_cdi_update(d);
	return o;
}
