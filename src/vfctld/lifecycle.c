// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lease state machine: allocating -> active -> releasing -> gone, each
 * step saved before the host is touched, and the reconcile that finishes
 * or rolls back what a crash interrupted. The host is reached only through
 * lease_host_ops, so this file runs in unit tests without a socket, a
 * kernel or an event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "vfctld.h"

int lease_save(struct lease_life *lf)
{
	int r = lease_store_save(lf->ctx, &lf->store);

	if (r < 0)
		log_msg(LOG_ERR, "%s", vfctl_ctx_error(lf->ctx));
	/* every change of a deadline is saved: the wake-up follows the file */
	lease_expiry_arm(lf);
	return r;
}

/* The lease's uid may open the VF's /dev/vfio nodes by path (QEMU's
 * host=, DPDK): granted while active, at commit and at every reconcile. A
 * failure costs only that: the fds of "open" still work. */
static void grant(struct lease_life *lf, const struct lease *l)
{
	if (lf->ops->vf_grant(lf->userdata, l->vf, l->uid) < 0)
		log_msg(LOG_WARNING, "lease %s: uid %u cannot open the VF's nodes by path, only "
			"through vfctld's fds: %s", l->id, l->uid, vfctl_ctx_error(lf->ctx));
}

/* Undo what alloc did to the VF: its nodes root's again (whether the daemon
 * bound it or not), its driver back; nothing when the VF is gone. */
static int restore(struct lease_life *lf, struct lease *l)
{
	int r;

	if (!lf->ops->vf_exists(lf->userdata, l->vf))
		return 0;
	/* no node, or one that is no device (never granted): nothing to take back */
	r = lf->ops->vf_grant(lf->userdata, l->vf, 0);
	if (r < 0 && r != -ENOENT && r != -ENOTTY)
		return r;
	if (!l->bound)
		return 0;
	return lf->ops->vf_restore(lf->userdata, l);
}

static void drop(struct lease_life *lf, struct lease *l)
{
	lease_store_remove(&lf->store, l);
	lease_save(lf);
}

int lease_alloc_begin(struct lease_life *lf, const struct lease *tmpl, struct lease **ret)
{
	struct lease *l;
	int r = lease_store_add(&lf->store, &l);

	if (r == -EOVERFLOW)
		return vfctl_ctx_set_error(lf->ctx, r, "no lease id left: the ids end at L%llu and "
					   "%s/leases.json says the next is %llu; nothing leased: "
					   "stop vfctld, release the leases and lower \"next\" there",
					   (unsigned long long)LEASE_ID_MAX, lf->store.dir,
					   (unsigned long long)lf->store.next);
	if (r < 0)
		return vfctl_ctx_set_error(lf->ctx, r, "out of memory");
	snprintf(l->pool, sizeof(l->pool), "%s", tmpl->pool);
	snprintf(l->vf, sizeof(l->vf), "%s", tmpl->vf);
	snprintf(l->pf, sizeof(l->pf), "%s", tmpl->pf);
	snprintf(l->owner, sizeof(l->owner), "%s", tmpl->owner);
	l->vf_index = tmpl->vf_index;
	l->uid = tmpl->uid;
	l->pid = tmpl->pid;
	l->pid_start = tmpl->pid_start;
	l->created = tmpl->created;
	l->bound = tmpl->bound;
	snprintf(l->device_id, sizeof(l->device_id), "%s", tmpl->device_id);
	l->ttl = tmpl->ttl;
	l->expires = tmpl->expires;
	/* The allocating record is there for a restart to undo a bind a crash
	 * interrupted. A VF already on vfio-pci is not touched before
	 * lease_alloc_commit(), whose save comes before its first write (the
	 * nodes' owner): a crash before it leaves nothing on the host or on
	 * disk to undo, and the client never saw the id. So no save for it:
	 * one write and two fsyncs fewer an alloc. */
	if (l->bound) {
		r = lease_save(lf);
		if (r < 0) {
			lease_store_remove(&lf->store, l);
			return r;
		}
	}
	*ret = l;
	return 0;
}

int lease_alloc_commit(struct lease_life *lf, struct lease *l, int group)
{
	int r;

	l->group = group;
	l->state = LEASE_ACTIVE;
	r = lease_save(lf);
	if (r < 0)
		return r;
	test_stop("alloc:after-commit");
	grant(lf, l);
	if (l->pid)
		lf->ops->owner_watch(lf->userdata, l);
	return 0;
}

/* An alloc's rollback, its restore done (r): the lease gone, or releasing
 * for the retry. */
static int abort_restored(struct lease_life *lf, struct lease *l, int r)
{
	if (r < 0) {
		/* revoked, not forgotten: the retry timer finishes it */
		log_msg(LOG_ERR, "lease %s: rolling back %s: %s; retrying", l->id, l->vf,
			vfctl_ctx_error(lf->ctx));
		l->state = LEASE_RELEASING;
		lease_save(lf);
		return r;
	}
	drop(lf, l);
	return 0;
}

int lease_alloc_abort(struct lease_life *lf, struct lease *l)
{
	int r = restore(lf, l);

	if (r == 1)
		return 1;	/* lease_restore_done() finishes it */
	return abort_restored(lf, l, r);
}

int lease_group_holders(struct lease_life *lf, const struct lease *l, char *who, size_t size)
{
	if (l->group < 0)
		return 0;
	return lf->ops->group_holders(lf->userdata, l->group, who, size);
}

int lease_release_begin(struct lease_life *lf, struct lease *l, const char *why)
{
	log_msg(LOG_INFO, "lease %s (%s): releasing: %s", l->id, l->vf, why);
	/* a revoked lease opens nothing new by path, even while its holder
	 * keeps the VF; restore() takes the nodes back again, and retries */
	if (lf->ops->vf_exists(lf->userdata, l->vf))
		(void)lf->ops->vf_grant(lf->userdata, l->vf, 0);
	l->state = LEASE_RELEASING;
	lease_unwatch(l);
	return lease_save(lf);
}

/* A release, its restore done (r): the lease gone, or pending. */
static int release_restored(struct lease_life *lf, struct lease *l, int r)
{
	if (r < 0) {
		snprintf(l->pending, sizeof(l->pending), "%s", vfctl_ctx_error(lf->ctx));
		return r;
	}
	test_stop("release:after-restore");
	log_msg(LOG_INFO, "lease %s released: %s%s", l->id, l->vf,
		l->bound ? " back on its original driver" : " (left on vfio-pci, as it was)");
	drop(lf, l);
	return 0;
}

int lease_release_finish(struct lease_life *lf, struct lease *l)
{
	char who[256] = "";
	int r;

	if (l->busy) {
		snprintf(l->pending, sizeof(l->pending), "its VF is being restored");
		return -EBUSY;
	}
	if (lf->ops->vf_exists(lf->userdata, l->vf) && lease_group_holders(lf, l, who, sizeof(who)) > 0) {
		snprintf(l->pending, sizeof(l->pending), "/dev/vfio/%d is held open by %s; the VF "
			 "goes back when it is closed", l->group, who);
		return -EBUSY;
	}
	r = restore(lf, l);
	if (r == 1) {
		snprintf(l->pending, sizeof(l->pending), "its VF is being restored");
		return 1;	/* lease_restore_done() finishes it */
	}
	return release_restored(lf, l, r);
}

void lease_restore_done(struct lease_life *lf, struct lease *l, int r)
{
	int was = l->state;

	if (was == LEASE_ALLOCATING)
		r = abort_restored(lf, l, r);
	else
		r = release_restored(lf, l, r);
	if (r < 0 && was == LEASE_RELEASING)
		log_msg(LOG_NOTICE, "lease %s: release pending: %s", l->id, l->pending);
}

void lease_owner_exited(struct lease_life *lf, struct lease *l)
{
	if (l->state != LEASE_ACTIVE || l->busy)
		return;
	if (lease_release_begin(lf, l, "its owner process exited") == 0 &&
	    lease_release_finish(lf, l) < 0)
		log_msg(LOG_NOTICE, "lease %s: release pending: %s", l->id, l->pending);
}

/* The VF went away (PF reset, VFs destroyed): nothing to restore. */
static void vf_gone(struct lease_life *lf, struct lease *l)
{
	lf->ops->vf_forget(lf->userdata, l->vf);
	drop(lf, l);
}

/* Revoke an active lease the normal way: nodes back to root at once, the VF
 * restored once its group is closed (the retry timer finishes it). */
static void lease_revoke(struct lease_life *lf, struct lease *l, const char *why)
{
	if (lease_release_begin(lf, l, why) == 0 && lease_release_finish(lf, l) < 0)
		log_msg(LOG_NOTICE, "lease %s: release pending: %s", l->id, l->pending);
}

/* An active lease against the config and the host (ops->lease_check):
 * true when it stays. Not allowed any more: revoked (the VF restored). Not
 * the VF that was leased: dropped without touching that device beyond
 * taking its nodes back, which may belong to someone else now. */
static bool check_active(struct lease_life *lf, struct lease *l)
{
	char why[512] = "", msg[640];
	int r;

	if (!lf->ops->lease_check)
		return true;
	r = lf->ops->lease_check(lf->userdata, l, why, sizeof(why));
	if (r == 1) {
		log_msg(LOG_NOTICE, "lease %s: %s", l->id, why);
		lease_save(lf);
		return true;
	}
	if (r == 0)
		return true;
	if (r == -ENODEV) {
		log_msg(LOG_WARNING, "lease %s: VF %s is gone (PF reset or VFs destroyed): lease "
			"dropped", l->id, l->vf);
		vf_gone(lf, l);
	} else if (r == -EACCES) {
		log_msg(LOG_WARNING, "lease %s (%s, uid %u): revoked: %s", l->id, l->vf, l->uid,
			why);
		snprintf(msg, sizeof(msg), "revoked: %s", why);
		lease_revoke(lf, l, msg);
	} else {
		log_msg(LOG_ERR, "lease %s (%s, uid %u): dropped, not served: %s; the device is "
			"left as it is ('vfctl restore %s' puts back its original driver)", l->id,
			l->vf, l->uid, why, l->vf);
		if (lf->ops->vf_exists(lf->userdata, l->vf))
			(void)lf->ops->vf_grant(lf->userdata, l->vf, 0);
		drop(lf, l);
	}
	return false;
}

static void reconcile_one(struct lease_life *lf, struct lease *l)
{
	/* its worker's completion settles it (a bind under way is no crash) */
	if (l->busy)
		return;
	switch (l->state) {
	case LEASE_ALLOCATING:
		/* the client never got its reply: roll back */
		log_msg(LOG_NOTICE, "lease %s (%s): an alloc was interrupted; rolling back", l->id,
			l->vf);
		lease_alloc_abort(lf, l);
		break;
	case LEASE_ACTIVE:
		if (!lf->ops->vf_exists(lf->userdata, l->vf)) {
			log_msg(LOG_WARNING, "lease %s: VF %s is gone (PF reset or VFs destroyed): "
				"lease dropped", l->id, l->vf);
			vf_gone(lf, l);
		} else if (!check_active(lf, l)) {
			break;
		} else if (l->pid && !lf->ops->owner_alive(lf->userdata, l->pid, l->pid_start)) {
			/* finished at the next reconcile (the retry timer) */
			lease_release_begin(lf, l, "its owner process is gone");
		} else {
			/* a restart or a node made again: the owner is the lease's */
			grant(lf, l);
			if (l->pid)
				lf->ops->owner_watch(lf->userdata, l);
		}
		break;
	case LEASE_RELEASING:
		if (!lf->ops->vf_exists(lf->userdata, l->vf))
			vf_gone(lf, l);
		else if (lease_release_finish(lf, l) < 0)
			log_msg(LOG_DEBUG, "lease %s: release pending: %s", l->id, l->pending);
		break;
	}
}

void lease_reconcile(struct lease_life *lf)
{
	/* one look at the host for all the leases, not one each */
	if (lf->ops->pass_begin)
		lf->ops->pass_begin(lf->userdata);
	for (size_t i = 0; i < lf->store.n;) {
		size_t n = lf->store.n;

		reconcile_one(lf, lf->store.v[i]);
		/* a lease that went is replaced at i by the next one */
		if (lf->store.n == n)
			i++;
	}
	if (lf->ops->pass_end)
		lf->ops->pass_end(lf->userdata);
	/* what ran out while vfctld was down (deadlines are wall-clock time) */
	lease_expire(lf, (int64_t)time(NULL));
}

void lease_touch(struct lease *l, int64_t now)
{
	if (l->ttl)
		l->expires = now + l->ttl;
}

void lease_expire(struct lease_life *lf, int64_t now)
{
	char who[256] = "", why[128];

	for (size_t i = 0; i < lf->store.n;) {
		struct lease *l = lf->store.v[i];
		size_t n = lf->store.n;

		if (l->state != LEASE_ACTIVE || l->busy || !l->expires || l->expires > now) {
			i++;
			continue;
		}
		if (lease_group_holders(lf, l, who, sizeof(who)) > 0) {
			/* in use: a VMM that holds the group counts as an open */
			log_msg(LOG_INFO, "lease %s: its time to live ran out, but /dev/vfio/%d "
				"is held open by %s: it lives another %u s", l->id, l->group, who,
				l->ttl);
			lease_touch(l, now);
			lease_save(lf);
		} else {
			snprintf(why, sizeof(why), "its time to live (%u s) ran out without an "
				 "open", l->ttl);
			lease_revoke(lf, l, why);
		}
		if (lf->store.n == n)
			i++;
	}
	lease_expiry_arm(lf);
}

void lease_expiry_arm(struct lease_life *lf)
{
	int64_t next = 0;

	if (!lf->ops->expiry_arm)
		return;
	for (size_t i = 0; i < lf->store.n; i++) {
		const struct lease *l = lf->store.v[i];

		if (l->state == LEASE_ACTIVE && l->expires && (!next || l->expires < next))
			next = l->expires;
	}
	lf->ops->expiry_arm(lf->userdata, next);
}

bool lease_any_unsettled(const struct lease_life *lf)
{
	for (size_t i = 0; i < lf->store.n; i++)
		if (lf->store.v[i]->state != LEASE_ACTIVE)
			return true;
	return false;
}
