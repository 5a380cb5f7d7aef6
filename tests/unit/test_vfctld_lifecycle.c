// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctld's lease state machine (src/vfctld/lifecycle.c) over a real store
 * in a temp run directory and a fake host: alloc -> active; release ->
 * releasing -> gone, waiting while the group is held; what a kill -9 left
 * allocating or releasing is rolled back or finished by reconcile; leases
 * owned by a pid end with it; a forced release revokes at once and returns
 * the VF once the group is closed. Every step is checked on disk too.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfctld.h"
#include "unit.h"

#define VF "0000:03:10.2"

struct fake {
	char dir[64];
	struct vfctl_ctx *ctx;
	struct lease_life lf;
	/* the host as the fake shows it */
	bool vf_gone;
	int holders;
	int restore_err;	/* what vf_restore returns */
	bool restore_async;	/* vf_restore starts it (1), lease_restore_done() ends it */
	bool owner_dead;
	int grant_err;		/* what vf_grant returns */
	/* what the lifecycle asked of it */
	unsigned n_restore, n_forget, n_watch, n_grant;
	long owner;		/* the nodes' owner as the last vf_grant left it, -1 never */
	long owner_at_restore;	/* the owner when vf_restore ran */
	int check;		/* what lease_check returns (1: it fills vf_index) */
	int64_t armed;		/* the last expiry_arm's time, -1 never */
	/* reconcile passes begun and ended; lease_check calls in and out of one */
	unsigned n_pass_begin, n_pass_end, n_check_in, n_check_out;
	bool in_pass;
};

static bool f_vf_exists(void *u, const char *vf)
{
	struct fake *f = u;

	assert_string_equal(vf, VF);
	return !f->vf_gone;
}

static int f_group_holders(void *u, int group, char *who, size_t size)
{
	struct fake *f = u;

	assert_int_equal(group, 31);
	if (f->holders)
		snprintf(who, size, "pid 77 (qemu)");
	return f->holders;
}

static int f_vf_restore(void *u, struct lease *l)
{
	struct fake *f = u;

	assert_string_equal(l->vf, VF);
	f->n_restore++;
	f->owner_at_restore = f->owner;
	if (f->restore_async)
		return 1;
	if (f->restore_err)
		return vfctl_ctx_set_error(f->ctx, f->restore_err, "%s: writing to unbind: %s", l->vf,
					   strerror(-f->restore_err));
	return 0;
}

static void f_vf_forget(void *u, const char *vf)
{
	struct fake *f = u;

	assert_string_equal(vf, VF);
	f->n_forget++;
}

static bool f_owner_alive(void *u, int pid, unsigned long long start)
{
	struct fake *f = u;

	assert_int_equal(pid, 4242);
	assert_int_equal(start, 99);
	return !f->owner_dead;
}

static void f_owner_watch(void *u, struct lease *l)
{
	struct fake *f = u;

	assert_int_equal(l->pid, 4242);
	f->n_watch++;
}

static int f_vf_grant(void *u, const char *vf, unsigned uid)
{
	struct fake *f = u;

	assert_string_equal(vf, VF);
	f->n_grant++;
	if (f->grant_err)
		return vfctl_ctx_set_error(f->ctx, f->grant_err, "%s: chown /dev/vfio/31 to uid %u: %s",
					   vf, uid, strerror(-f->grant_err));
	f->owner = uid;
	return 0;
}

static int f_lease_check(void *u, struct lease *l, char *why, size_t size)
{
	struct fake *f = u;

	if (f->in_pass)
		f->n_check_in++;
	else
		f->n_check_out++;
	snprintf(why, size, "%s", f->check == -EACCES ? "pool 'gpu' no longer allows uid 1001" :
		 f->check == -ESTALE ? "0000:03:10.2 is in IOMMU group 7 now" : "filled");
	if (f->check == 1)
		l->vf_index = 1;
	return f->check;
}

static void f_expiry_arm(void *u, int64_t t)
{
	struct fake *f = u;

	f->armed = t;
}

static void f_pass_begin(void *u)
{
	struct fake *f = u;

	assert_false(f->in_pass);
	f->in_pass = true;
	f->n_pass_begin++;
}

static void f_pass_end(void *u)
{
	struct fake *f = u;

	assert_true(f->in_pass);
	f->in_pass = false;
	f->n_pass_end++;
}

static const struct lease_host_ops fake_ops = {
	.vf_exists = f_vf_exists,
	.group_holders = f_group_holders,
	.vf_restore = f_vf_restore,
	.vf_forget = f_vf_forget,
	.owner_alive = f_owner_alive,
	.owner_watch = f_owner_watch,
	.vf_grant = f_vf_grant,
	.lease_check = f_lease_check,
	.expiry_arm = f_expiry_arm,
};

/* The same with the pass hooks the daemon's host.c has. */
static const struct lease_host_ops fake_ops_pass = {
	.vf_exists = f_vf_exists,
	.group_holders = f_group_holders,
	.vf_restore = f_vf_restore,
	.vf_forget = f_vf_forget,
	.owner_alive = f_owner_alive,
	.owner_watch = f_owner_watch,
	.vf_grant = f_vf_grant,
	.lease_check = f_lease_check,
	.pass_begin = f_pass_begin,
	.pass_end = f_pass_end,
	.expiry_arm = f_expiry_arm,
};

/* The daemon starting (again): the store read back from disk. */
static void life_open(struct fake *f)
{
	f->lf = (struct lease_life){ .ctx = f->ctx, .ops = &fake_ops, .userdata = f };
	assert_int_equal(lease_store_open(f->ctx, &f->lf.store), 0);
}

/* kill -9: the memory is gone, the file stays as it was last saved. */
static void crash_and_restart(struct fake *f)
{
	lease_store_close(&f->lf.store);
	life_open(f);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->owner = f->owner_at_restore = -1;
	f->armed = -1;
	unit_tmpdir(f->dir, sizeof(f->dir), "/tmp/vfctld-life-XXXXXX");
	assert_int_equal(vfctl_ctx_new(&f->ctx, &(struct vfctl_opts){ .size = sizeof(struct vfctl_opts), .sysfs_root = "/tmp",
		.run_dir = f->dir }), 0);
	life_open(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	lease_store_close(&f->lf.store);
	vfctl_ctx_free(f->ctx);
	unit_rm_rf(f->dir);
	free(f);
	return 0;
}

/* The state of lease id in leases.json, -1 when it is not there. */
static int on_disk(const struct fake *f, const char *id)
{
	struct lease_store st;
	const struct lease *l;
	int s;

	assert_int_equal(lease_store_open(f->ctx, &st), 0);
	l = lease_store_find(&st, id);
	s = l ? (int)l->state : -1;
	lease_store_close(&st);
	return s;
}

/* alloc_begin with what the daemon knows before binding. */
static struct lease *begin(struct fake *f, bool bound, int pid)
{
	struct lease tmpl = { .pool = "gpu", .vf = VF, .pf = "0000:03:00.0", .owner = "vm-1",
			      .vf_index = 1, .uid = 1001, .pid = pid, .pid_start = pid ? 99 : 0,
			      .created = 1700000000, .bound = bound };
	struct lease *l = NULL;

	assert_int_equal(lease_alloc_begin(&f->lf, &tmpl, &l), 0);
	assert_non_null(l);
	return l;
}

static struct lease *active(struct fake *f, bool bound, int pid)
{
	struct lease *l = begin(f, bound, pid);

	assert_int_equal(lease_alloc_commit(&f->lf, l, 31), 0);
	return l;
}

static void alloc_to_active(void **state)
{
	struct fake *f = *state;
	struct lease_store st;
	struct lease *l = begin(f, true, 4242);

	/* on disk as allocating before the kernel is touched */
	assert_string_equal(l->id, "L1");
	assert_int_equal(l->state, LEASE_ALLOCATING);
	assert_int_equal(on_disk(f, "L1"), LEASE_ALLOCATING);
	assert_int_equal(f->n_watch, 0);

	assert_int_equal(lease_alloc_commit(&f->lf, l, 31), 0);
	assert_int_equal(l->state, LEASE_ACTIVE);
	assert_int_equal(f->n_watch, 1);
	assert_int_equal(f->n_restore, 0);
	assert_int_equal(lease_store_open(f->ctx, &st), 0);
	l = lease_store_find(&st, "L1");
	assert_non_null(l);
	assert_int_equal(l->state, LEASE_ACTIVE);
	assert_int_equal(l->group, 31);
	assert_string_equal(l->owner, "vm-1");
	assert_int_equal(l->uid, 1001);
	assert_int_equal(l->pid, 4242);
	assert_int_equal(l->pid_start, 99);
	assert_true(l->bound);
	lease_store_close(&st);

	/* an active lease on a host that agrees: reconcile changes nothing */
	lease_reconcile(&f->lf);
	assert_int_equal(on_disk(f, "L1"), LEASE_ACTIVE);
	assert_int_equal(f->n_restore, 0);
	assert_false(lease_any_unsettled(&f->lf));
}

/* A lease a worker binds (busy) is left to the worker's completion:
 * reconcile (the retry timer, device events, SIGHUP) does not roll it back
 * as an interrupted alloc. */
static void busy_left_alone(void **state)
{
	struct fake *f = *state;
	struct lease *l = begin(f, true, 0);

	l->busy = true;
	assert_true(lease_any_unsettled(&f->lf));
	lease_reconcile(&f->lf);
	assert_int_equal(l->state, LEASE_ALLOCATING);
	assert_int_equal(on_disk(f, "L1"), LEASE_ALLOCATING);
	assert_int_equal(f->n_restore, 0);
	/* the worker's completion: a failed bind rolled back as usual */
	l->busy = false;
	assert_int_equal(lease_alloc_abort(&f->lf, l), 0);
	assert_int_equal(on_disk(f, "L1"), -1);
	assert_int_equal(f->n_restore, 1);

	/* the flag is not persisted: after a restart (the daemon died during
	 * the bind, its worker with it) the lease is rolled back */
	l = begin(f, true, 0);
	l->busy = true;
	crash_and_restart(f);
	lease_reconcile(&f->lf);
	assert_int_equal(on_disk(f, "L2"), -1);
	assert_int_equal(f->n_restore, 2);
}

/* A restore under way (vf_restore 1: the daemon's worker): the release and
 * the abort finish at lease_restore_done() with its result, as if
 * vf_restore had returned it. */
static void restore_off_the_loop(void **state)
{
	struct fake *f = *state;
	struct lease *l = active(f, true, 0);

	f->restore_async = true;
	assert_int_equal(lease_release_begin(&f->lf, l, "test"), 0);
	assert_int_equal(lease_release_finish(&f->lf, l), 1);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);
	/* the worker has it: a second finish waits, restores nothing */
	l->busy = true;
	assert_int_equal(lease_release_finish(&f->lf, l), -EBUSY);
	assert_string_equal(l->pending, "its VF is being restored");
	assert_int_equal(f->n_restore, 1);
	l->busy = false;
	vfctl_ctx_set_error(f->ctx, -EIO, "unbind: Input/output error");
	lease_restore_done(&f->lf, l, -EIO);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);
	assert_string_equal(l->pending, "unbind: Input/output error");
	assert_int_equal(lease_release_finish(&f->lf, l), 1);
	lease_restore_done(&f->lf, l, 0);
	assert_int_equal(on_disk(f, "L1"), -1);

	/* an alloc's rollback: releasing when the restore fails, then gone */
	l = begin(f, true, 0);
	assert_int_equal(lease_alloc_abort(&f->lf, l), 1);
	assert_int_equal(on_disk(f, "L2"), LEASE_ALLOCATING);
	lease_restore_done(&f->lf, l, -EIO);
	assert_int_equal(on_disk(f, "L2"), LEASE_RELEASING);
	assert_int_equal(lease_release_finish(&f->lf, l), 1);
	lease_restore_done(&f->lf, l, 0);
	assert_int_equal(on_disk(f, "L2"), -1);
	assert_int_equal(f->n_restore, 4);
}

/* A lease with a ttl: kept before its deadline, lives another ttl while its
 * group is held, released by the normal path once it ran out unused; the
 * wake-up always follows the earliest deadline, also after a restart. */
static void ttl_expiry(void **state)
{
	struct fake *f = *state;
	struct lease *l = begin(f, true, 0);

	l->ttl = 60;
	lease_touch(l, 1700000000);
	assert_int_equal(lease_alloc_commit(&f->lf, l, 31), 0);
	assert_int_equal(f->armed, 1700000060);
	crash_and_restart(f);
	l = lease_store_find(&f->lf.store, "L1");
	assert_int_equal(l->expires, 1700000060);
	assert_int_equal(l->ttl, 60);

	lease_expire(&f->lf, 1700000059);
	assert_int_equal(on_disk(f, "L1"), LEASE_ACTIVE);
	/* held open at its deadline: in use */
	f->holders = 1;
	lease_expire(&f->lf, 1700000060);
	assert_int_equal(on_disk(f, "L1"), LEASE_ACTIVE);
	assert_int_equal(l->expires, 1700000120);
	assert_int_equal(f->armed, 1700000120);
	assert_int_equal(f->n_restore, 0);
	f->holders = 0;
	lease_expire(&f->lf, 1700000120);
	assert_int_equal(on_disk(f, "L1"), -1);
	assert_int_equal(f->n_restore, 1);
	assert_int_equal(f->owner, 0);
	assert_int_equal(f->armed, 0);
}

/* reconcile asks lease_check of every active lease: filled in and saved
 * (1), revoked by the release path (-EACCES: the VF restored), or dropped
 * without touching the device beyond its nodes (-ESTALE). */
static void reconcile_checks(void **state)
{
	struct fake *f = *state;
	struct lease *l = active(f, true, 0);

	l->vf_index = -1;
	f->check = 1;
	lease_reconcile(&f->lf);
	crash_and_restart(f);
	assert_int_equal(lease_store_find(&f->lf.store, "L1")->vf_index, 1);

	f->check = -ESTALE;
	lease_reconcile(&f->lf);
	assert_int_equal(on_disk(f, "L1"), -1);
	assert_int_equal(f->n_restore, 0);
	assert_int_equal(f->owner, 0);

	f->check = 0;
	active(f, true, 0);
	f->check = -EACCES;
	lease_reconcile(&f->lf);
	assert_int_equal(on_disk(f, "L2"), -1);
	assert_int_equal(f->n_restore, 1);
}

/* One reconcile is one pass: every lease checked between pass_begin and
 * pass_end (where host.c looks at the host once), also the leases after
 * one that went; no hooks (fake_ops) is no pass. */
static void reconcile_one_pass(void **state)
{
	struct fake *f = *state;

	active(f, true, 0);
	active(f, true, 0);
	active(f, true, 0);
	f->lf.ops = &fake_ops_pass;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_pass_begin, 1);
	assert_int_equal(f->n_pass_end, 1);
	assert_int_equal(f->n_check_in, 3);
	assert_int_equal(f->n_check_out, 0);
	assert_false(f->in_pass);

	/* the first revoked (the VF restored): the others still checked in the pass */
	f->check = -EACCES;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_pass_begin, 2);
	assert_int_equal(f->n_pass_end, 2);
	assert_int_equal(f->n_check_in, 6);
	assert_int_equal(f->lf.store.n, 0);
}

/* A lease that cannot be saved is not granted, and leaves nothing behind:
 * one to be bound at alloc_begin (before the bind), one of a VF already on
 * vfio-pci at commit (alloc_begin saves nothing for it: nothing of the
 * host is touched before commit). */
static void alloc_unsaved_leaves_nothing(void **state)
{
	struct fake *f = *state;
	struct lease tmpl = { .pool = "gpu", .vf = VF, .pf = "0000:03:00.0", .bound = true };
	struct lease *l = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/.leases.json.tmp", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(lease_alloc_begin(&f->lf, &tmpl, &l), -EISDIR);
	assert_null(l);
	assert_int_equal(f->lf.store.n, 0);
	assert_non_null(strstr(vfctl_ctx_error(f->ctx), "saving the leases to"));

	tmpl.bound = false;
	assert_int_equal(lease_alloc_begin(&f->lf, &tmpl, &l), 0);
	assert_int_equal(lease_alloc_commit(&f->lf, l, 31), -EISDIR);
	assert_int_equal(f->n_grant, 0);
	assert_int_equal(lease_alloc_abort(&f->lf, l), 0);
	assert_int_equal(f->lf.store.n, 0);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(on_disk(f, "L1"), -1);
	assert_int_equal(on_disk(f, "L2"), -1);
}

/* A VF already on vfio-pci: not on disk until commit, then active; a crash
 * before commit leaves nothing to roll back. */
static void alloc_prebound_saved_at_commit(void **state)
{
	struct fake *f = *state;
	struct lease *l = begin(f, false, 0);

	assert_int_equal(on_disk(f, "L1"), -1);
	crash_and_restart(f);
	assert_int_equal(f->lf.store.n, 0);
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_grant, 0);

	l = begin(f, false, 0);
	assert_int_equal(lease_alloc_commit(&f->lf, l, 31), 0);
	assert_int_equal(on_disk(f, l->id), LEASE_ACTIVE);
	assert_int_equal(f->owner, 1001);
}

static void alloc_abort(void **state)
{
	struct fake *f = *state;
	struct lease *l = begin(f, true, 0);

	/* the bind failed and so does the restore: kept, releasing, for the retry */
	f->restore_err = -EIO;
	assert_int_equal(lease_alloc_abort(&f->lf, l), -EIO);
	assert_int_equal(l->state, LEASE_RELEASING);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);
	assert_true(lease_any_unsettled(&f->lf));
	/* the retry timer's reconcile finishes it */
	f->restore_err = 0;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_restore, 2);
	assert_int_equal(f->lf.store.n, 0);
	assert_int_equal(on_disk(f, "L1"), -1);

	/* a VF that was on vfio-pci already is not restored: only forgotten */
	l = begin(f, false, 0);
	assert_string_equal(l->id, "L2");
	assert_int_equal(lease_alloc_abort(&f->lf, l), 0);
	assert_int_equal(f->n_restore, 2);
	assert_int_equal(on_disk(f, "L2"), -1);
}

static void release_waits_then_goes(void **state)
{
	struct fake *f = *state;
	struct lease *l = active(f, true, 4242);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	l->pidfd = fd;	/* as the daemon's owner watch leaves it */
	assert_int_equal(lease_release_begin(&f->lf, l, "released by request"), 0);
	assert_int_equal(l->state, LEASE_RELEASING);
	assert_int_equal(l->pidfd, -1);
	assert_int_equal(fcntl(fd, F_GETFD), -1);	/* the watch is closed */
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);

	/* the group is still open somewhere: nothing is restored yet */
	f->holders = 1;
	assert_int_equal(lease_release_finish(&f->lf, l), -EBUSY);
	assert_string_equal(l->pending, "/dev/vfio/31 is held open by pid 77 (qemu); the VF goes "
			    "back when it is closed");
	assert_int_equal(f->n_restore, 0);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);

	/* the restore fails: still releasing, the reason kept */
	f->holders = 0;
	f->restore_err = -ETIMEDOUT;
	assert_int_equal(lease_release_finish(&f->lf, l), -ETIMEDOUT);
	assert_non_null(strstr(l->pending, VF ": writing to unbind: Connection timed out"));
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);

	f->restore_err = 0;
	assert_int_equal(lease_release_finish(&f->lf, l), 0);
	assert_int_equal(f->n_restore, 2);
	assert_int_equal(f->lf.store.n, 0);
	assert_int_equal(on_disk(f, "L1"), -1);
}

static void crash_while_allocating(void **state)
{
	struct fake *f = *state;

	begin(f, true, 0);
	crash_and_restart(f);
	assert_int_equal(f->lf.store.n, 1);
	assert_int_equal(f->lf.store.v[0]->state, LEASE_ALLOCATING);

	/* the client never had its reply: rolled back, but the restore fails once */
	f->restore_err = -EIO;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_restore, 1);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);

	/* and a second crash before the retry: finished at the next start */
	crash_and_restart(f);
	f->restore_err = 0;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_restore, 2);
	assert_int_equal(f->lf.store.n, 0);
	assert_int_equal(on_disk(f, "L1"), -1);

	/* the id is not handed out again */
	assert_string_equal(begin(f, true, 0)->id, "L2");
}

static void crash_while_releasing(void **state)
{
	struct fake *f = *state;
	struct lease *l = active(f, true, 0);

	assert_int_equal(lease_release_begin(&f->lf, l, "released by request"), 0);
	crash_and_restart(f);
	assert_int_equal(f->lf.store.n, 1);
	assert_int_equal(f->lf.store.v[0]->state, LEASE_RELEASING);

	/* held open across the restart: pending, nothing restored */
	f->holders = 1;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_restore, 0);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);
	assert_non_null(strstr(lease_store_find(&f->lf.store, "L1")->pending, "held open by"));

	f->holders = 0;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_restore, 1);
	assert_int_equal(f->lf.store.n, 0);
	assert_int_equal(on_disk(f, "L1"), -1);

	/* a releasing lease whose VF is gone: its saved state forgotten, no restore */
	l = active(f, true, 0);
	assert_int_equal(lease_release_begin(&f->lf, l, "released by request"), 0);
	crash_and_restart(f);
	f->vf_gone = true;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_restore, 1);
	assert_int_equal(f->n_forget, 1);
	assert_int_equal(on_disk(f, "L2"), -1);
}

static void owner_process_ends(void **state)
{
	struct fake *f = *state;
	struct lease *l = active(f, true, 4242);

	assert_int_equal(f->n_watch, 1);
	/* after a restart the owner is watched again */
	crash_and_restart(f);
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_watch, 2);
	assert_int_equal(on_disk(f, "L1"), LEASE_ACTIVE);

	/* gone while the daemon was down: revoked now, returned at the next retry */
	f->owner_dead = true;
	lease_reconcile(&f->lf);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);
	assert_int_equal(f->n_restore, 0);
	assert_true(lease_any_unsettled(&f->lf));
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_restore, 1);
	assert_int_equal(on_disk(f, "L1"), -1);

	/* exits while watched (pidfd): released at once */
	f->owner_dead = false;
	l = active(f, true, 4242);
	lease_owner_exited(&f->lf, l);
	assert_int_equal(f->n_restore, 2);
	assert_int_equal(f->lf.store.n, 0);
	assert_int_equal(on_disk(f, "L2"), -1);

	/* a lease no longer active is not released twice */
	l = active(f, true, 4242);
	assert_int_equal(lease_release_begin(&f->lf, l, "released by request"), 0);
	lease_owner_exited(&f->lf, l);
	assert_int_equal(f->n_restore, 2);
	assert_int_equal(on_disk(f, "L3"), LEASE_RELEASING);
}

static void forced_release(void **state)
{
	struct fake *f = *state;
	struct lease *l = active(f, true, 0);
	char who[64] = "";

	/* what makes a plain release refuse: the group is open */
	f->holders = 1;
	assert_int_equal(lease_group_holders(&f->lf, l, who, sizeof(who)), 1);
	assert_string_equal(who, "pid 77 (qemu)");
	/* forced: revoked at once, the VF comes back when the group is closed */
	assert_int_equal(lease_release_begin(&f->lf, l, "released by request (forced)"), 0);
	assert_int_equal(lease_release_finish(&f->lf, l), -EBUSY);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);
	assert_int_equal(f->n_restore, 0);
	f->holders = 0;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_restore, 1);
	assert_int_equal(on_disk(f, "L1"), -1);

	/* a lease whose group is not known yet has no holders to ask about */
	l = begin(f, true, 0);
	f->holders = 1;
	assert_int_equal(lease_group_holders(&f->lf, l, who, sizeof(who)), 0);
}

static void active_vf_vanished(void **state)
{
	struct fake *f = *state;

	active(f, true, 0);
	f->vf_gone = true;
	lease_reconcile(&f->lf);
	assert_int_equal(f->n_forget, 1);
	assert_int_equal(f->n_restore, 0);
	assert_int_equal(on_disk(f, "L1"), -1);
}

/* The lease's uid owns the VF's nodes while the lease is active, and
 * only then: granted at commit and again at every reconcile (a restart),
 * taken back before the VF is restored, also for a VF that stays on
 * vfio-pci; a take-back that fails keeps the release pending. */
static void nodes_follow_the_lease(void **state)
{
	struct fake *f = *state;
	struct lease *l = begin(f, true, 0);

	assert_int_equal(f->owner, -1);		/* not while allocating */
	assert_int_equal(lease_alloc_commit(&f->lf, l, 31), 0);
	assert_int_equal(f->owner, 1001);
	/* kill -9, a restart, someone chowned it back: reconcile grants again */
	crash_and_restart(f);
	f->owner = 0;
	lease_reconcile(&f->lf);
	assert_int_equal(f->owner, 1001);
	l = f->lf.store.v[0];

	/* revoked: root's at once, while a holder may still keep the VF */
	f->holders = 1;
	assert_int_equal(lease_release_begin(&f->lf, l, "released by request"), 0);
	assert_int_equal(f->owner, 0);
	assert_int_equal(lease_release_finish(&f->lf, l), -EBUSY);
	assert_int_equal(f->owner, 0);
	f->holders = 0;
	f->owner = 1001;	/* someone gave it back: the release takes it again */
	/* the take-back fails: nothing restored, still releasing, the reason kept */
	f->grant_err = -EPERM;
	assert_int_equal(lease_release_finish(&f->lf, l), -EPERM);
	assert_non_null(strstr(l->pending, "chown /dev/vfio/31 to uid 0: Operation not permitted"));
	assert_int_equal(f->n_restore, 0);
	assert_int_equal(on_disk(f, "L1"), LEASE_RELEASING);
	assert_int_equal(f->owner, 1001);
	f->grant_err = 0;
	assert_int_equal(lease_release_finish(&f->lf, l), 0);
	assert_int_equal(f->owner_at_restore, 0);	/* root's before the driver changes */
	assert_int_equal(on_disk(f, "L1"), -1);

	/* a VF the daemon did not bind: not restored, but its nodes are root's again */
	l = active(f, false, 0);
	assert_int_equal(f->owner, 1001);
	assert_int_equal(lease_release_begin(&f->lf, l, "released by request"), 0);
	assert_int_equal(lease_release_finish(&f->lf, l), 0);
	assert_int_equal(f->n_restore, 1);
	assert_int_equal(f->owner, 0);

	/* a grant that fails costs the alloc nothing */
	f->grant_err = -EPERM;
	l = active(f, true, 0);
	assert_int_equal(l->state, LEASE_ACTIVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(alloc_to_active, setup, teardown),
		cmocka_unit_test_setup_teardown(alloc_unsaved_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(alloc_prebound_saved_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(alloc_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(release_waits_then_goes, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_while_allocating, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_while_releasing, setup, teardown),
		cmocka_unit_test_setup_teardown(owner_process_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(forced_release, setup, teardown),
		cmocka_unit_test_setup_teardown(active_vf_vanished, setup, teardown),
		cmocka_unit_test_setup_teardown(nodes_follow_the_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(ttl_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(busy_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(restore_off_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile_one_pass, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
