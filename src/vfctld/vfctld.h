/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfctld: pools of VFs handed out as leases over a unix socket (vfctld(8)).
 * One concern a file:
 *   vfctld.c     main: options, the event loop, the listening socket
 *                (socket activation), sd_notify, signals, device events
 *   conn.c       connections: SOCK_SEQPACKET framing, replies, SCM_RIGHTS,
 *                the limits (per uid and in all, idle timeout, one request
 *                in flight), the SIGUSR1 status line
 *   request.c    the requests (list, alloc, release, leases, open):
 *                authorization and pool policy
 *   lifecycle.c  the lease state machine (allocating, active, releasing)
 *                over the store; reconcile after a restart
 *   lease.c      the store (leases.json) and a lease as JSON
 *   host.c       what the lifecycle asks of the host: sysfs, restore, the
 *                owner's pidfd; the shared view of the host (list's, and
 *                alloc's with the chosen VF's drivers read fresh)
 *   vfio-open.c  the fds of "open" and group holders, through libvfctl
 *   worker.c     the kernel writes (alloc's bind, a restore) in a child
 *                process, off the event loop
 *   log.c        logging and the test stop hook
 */
#ifndef VFCTLD_H
#define VFCTLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "basic.h"
#include "vfctl.h"
#include "config.h"
#include "proto.h"

struct worker;

/* every this long, leases not active are settled again */
#define RETRY_USEC (2 * 1000000ULL)

enum lease_state { LEASE_ALLOCATING, LEASE_ACTIVE, LEASE_RELEASING };

struct lease {
	char id[PROTO_LEASE_MAX + 1];
	enum lease_state state;
	char pool[PROTO_NAME_MAX + 1];
	char vf[VFCTL_ADDR_LEN];
	char pf[VFCTL_ADDR_LEN];
	int vf_index;
	int group;		/* IOMMU group, -1 until bound */
	unsigned uid;		/* who allocated it */
	char owner[PROTO_NAME_MAX + 1];
	int pid;		/* owner process, 0 none */
	unsigned long long pid_start;	/* its start time (/proc/PID/stat field 22) */
	int64_t created;	/* unix time */
	bool bound;		/* the daemon bound it to vfio-pci: restore on release */
	char device_id[10];	/* "8086:10ed" as sysfs showed it at alloc, "" unknown */
	unsigned ttl;		/* seconds an unused lease lives, 0 forever */
	int64_t expires;	/* unix time (CLOCK_REALTIME) it ends unless opened, 0 never */

	/* not persisted; everything above is (lease_store_save() serializes a
	 * lease again only when those bytes changed) */
	int pidfd;
	sd_event_source *pid_src;
	void *daemon;		/* for the pidfd callback */
	char pending[256];	/* why a release waits */
	bool busy;		/* a worker (worker.c) has it: nothing else touches it */
	char *file_text;	/* its record in leases.json as last serialized */
	void *file_snap;	/* the persisted bytes it was serialized from */
};
/* The bytes of struct lease leases.json holds */
#define LEASE_PERSISTED_SIZE offsetof(struct lease, pidfd)

/* The last lease id (L9223372036854775807): "next" round-trips through
 * JSON's int64; past it lease_store_add() refuses, never wraps to L0. */
#define LEASE_ID_MAX ((uint64_t)INT64_MAX)

struct lease_store {
	int dfd;		/* the run directory */
	char *dir;
	uint64_t next;		/* the next lease number */
	size_t n;
	struct lease **v;
};

/* ---- lease.c: RUN_DIR/leases.json, rewritten whole and atomically on every
 * change, one lease a line, each line serialized again only when the lease changed */
const char *lease_state_name(enum lease_state s);
int lease_store_open(struct vfctl_ctx *ctx, struct lease_store *st);
void lease_store_close(struct lease_store *st);
int lease_store_save(struct vfctl_ctx *ctx, struct lease_store *st);
/* A new lease (id assigned, state allocating), not yet saved; -ENOMEM, or
 * -EOVERFLOW when the ids are used up. */
int lease_store_add(struct lease_store *st, struct lease **ret);
void lease_store_remove(struct lease_store *st, struct lease *l);
struct lease *lease_store_find(const struct lease_store *st, const char *id);
struct lease *lease_store_find_vf(const struct lease_store *st, const char *vf);
/* Stop watching the owner process (pidfd and its event source). */
void lease_unwatch(struct lease *l);
/* The start time of a process (for pid reuse), 0 when it does not exist. */
unsigned long long proc_start_time(int pid);

/* One lease as JSON: the file keeps what a restart needs (pid_start, bound),
 * the wire what a client shows (pending; group null until known). */
enum lease_json { LEASE_JSON_FILE, LEASE_JSON_WIRE };
json_object *lease_to_json(const struct lease *l, enum lease_json how);

/* ---- lifecycle.c: the lease state machine ----
 *
 *   (none) --alloc_begin--> allocating --alloc_commit--> active
 *   allocating --alloc_abort--> (gone), or releasing when the restore fails
 *   active --release_begin--> releasing --release_finish--> (gone)
 *
 * Every transition is on disk before the host is touched, so a restart
 * (lease_reconcile) finishes or rolls back whatever a crash interrupted.
 * The host is reached only through lease_host_ops: the daemon's are in
 * host.c, the unit tests give fakes. */
struct lease_host_ops {
	/* the VF still exists */
	bool (*vf_exists)(void *userdata, const char *vf);
	/* processes holding /dev/vfio/GROUP open: their number, named in who */
	int (*group_holders)(void *userdata, int group, char *who, size_t size);
	/* the VF back on its original driver and settings: 0, or -errno with
	 * the reason in the lifecycle's ctx; or 1: under way (off the event
	 * loop, l busy), lease_restore_done() follows with the result */
	int (*vf_restore)(void *userdata, struct lease *l);
	/* forget the VF's saved original state (the VF is gone) */
	void (*vf_forget)(void *userdata, const char *vf);
	/* the process pid is still the one that started at start */
	bool (*owner_alive)(void *userdata, int pid, unsigned long long start);
	/* call lease_owner_exited() when l's owner exits; nothing if watched */
	void (*owner_watch)(void *userdata, struct lease *l);
	/* the VF's /dev/vfio nodes owned by uid (0: root again): 0, -ENOENT
	 * when there are none, or -errno with the reason in the ctx */
	int (*vf_grant)(void *userdata, const char *vf, unsigned uid);
	/* An active lease against the config and sysfs now (lease_check_host):
	 * 0 it holds (fields an older file lacked filled in: 1), -ENODEV its
	 * VF is gone, -EACCES its pool no longer has it or allows its uid,
	 * -ESTALE the VF is not the one leased (PF, index, device id or IOMMU
	 * group differ); the reason in why. NULL: nothing checked. */
	int (*lease_check)(void *userdata, struct lease *l, char *why, size_t size);
	/* around the leases of one reconcile pass, so that what lease_check
	 * reads of the host is read once a pass, not once a lease; NULL:
	 * nothing to do */
	void (*pass_begin)(void *userdata);
	void (*pass_end)(void *userdata);
	/* wake at unix time t (0: nothing expires) for lease_expire() */
	void (*expiry_arm)(void *userdata, int64_t t);
};

struct lease_life {
	struct vfctl_ctx *ctx;		/* failures; the store's directory */
	struct lease_store store;
	const struct lease_host_ops *ops;
	void *userdata;
};

/* Save the store; a failure is logged and returned (reason in ctx). */
int lease_save(struct lease_life *lf);
/* A new lease with tmpl's pool, VF, PF, index, owner, uid, pid, created and
 * bound, saved as allocating before the kernel is touched when bound (a VF
 * already on vfio-pci is touched only after lease_alloc_commit() saved it).
 * 0, or -errno (reason in ctx) with nothing added. */
int lease_alloc_begin(struct lease_life *lf, const struct lease *tmpl, struct lease **ret);
/* The VF is usable in group: active, saved, the owner watched. On -errno
 * the caller rolls back with lease_alloc_abort(). */
int lease_alloc_commit(struct lease_life *lf, struct lease *l, int group);
/* Undo an alloc: the VF restored and the lease gone (0), or, when the
 * restore fails, the lease left releasing for the retry (-errno); 1: the
 * restore is under way, lease_restore_done() finishes it. */
int lease_alloc_abort(struct lease_life *lf, struct lease *l);
/* Processes holding l's group open (named in who), 0 none. */
int lease_group_holders(struct lease_life *lf, const struct lease *l, char *who, size_t size);
/* Revoke: releasing and saved; the owner no longer watched. */
int lease_release_begin(struct lease_life *lf, struct lease *l, const char *why);
/* A release in state releasing: the VF restored unless its group is held
 * open, then the lease forgotten. 0 and l is freed, or -EBUSY/-errno with
 * l->pending saying why (l stays releasing); 1: the restore is under way,
 * lease_restore_done() finishes it. */
int lease_release_finish(struct lease_life *lf, struct lease *l);
/* The restore vf_restore started is done (r as vf_restore's, the reason in
 * ctx): the abort or the release it was for finished, as if it had
 * returned r. l is freed when that dropped it. */
void lease_restore_done(struct lease_life *lf, struct lease *l, int r);
/* The owner process exited: release the lease. */
void lease_owner_exited(struct lease_life *lf, struct lease *l);
/* Settle every lease with the host: at start, on SIGHUP, device events and
 * the retry timer. */
void lease_reconcile(struct lease_life *lf);
/* Any lease allocating or releasing: the retry timer has work. */
bool lease_any_unsettled(const struct lease_life *lf);
/* Release the active leases whose time to live ran out by now (unix time),
 * unless their group is held open (then they live another ttl), and arm
 * the wake-up for the next. */
void lease_expire(struct lease_life *lf, int64_t now);
/* The lease was used (opened) at now: it lives another ttl. Not saved. */
void lease_touch(struct lease *l, int64_t now);
/* Arm the wake-up for the earliest expiry (ops->expiry_arm). */
void lease_expiry_arm(struct lease_life *lf);

/* ---- vfio-open.c: the daemon's VFIO needs, through libvfctl's VFIO module ---- */
struct vfio_lease_fds {
	int fd[PROTO_MAX_FDS];
	const char *name[PROTO_MAX_FDS];	/* "container", "group", "iommufd", "device" */
	size_t n;
};

/* Processes holding /dev/vfio/GROUP open on a live host: their number,
 * named in who ("pid 42 (qemu), ..."); 0 when none or not live. */
int vfio_group_holders(struct vfctl_ctx *ctx, int group, char *who, size_t size);
/* What "open" hands over for the VF vf in group: the container, the group
 * (viable, checked with VFIO_GROUP_GET_STATUS on a live host) and, where
 * the kernel has iommufd, /dev/iommu and the VF's cdev. 0, or -errno with
 * the reason in err and nothing left open. */
int vfio_open_lease(struct vfctl_ctx *ctx, const char *vf, int group, struct vfio_lease_fds *ret,
		    char *err, size_t errlen);
void vfio_lease_fds_close(struct vfio_lease_fds *f);

/* ---- the daemon ---- */

/* What connections may hold (vfctld(8) LIMITS): the config's "daemon"
 * limits, sized to RLIMIT_NOFILE at start and reload. */
struct conn_limits {
	unsigned max;		/* connections of all uids; root has root_reserve more */
	unsigned per_uid;	/* of one uid but root */
	unsigned root_reserve;
	uint64_t idle_usec;	/* a connection making no progress this long is closed */
	uint64_t nofile;	/* RLIMIT_NOFILE, raised to its hard limit at start */
};

/* Counters for the SIGUSR1 status line (vfctld(8) SIGNALS). */
struct daemon_stats {
	uint64_t accepted, refused_cap, refused_uid, closed_idle, requests;
	uint64_t host_scans;	/* every full scan of the host, list's included */
	uint64_t list_scans;	/* those made for list (its cached view expired) */
	uint64_t list_no_host;	/* list replies to uids no pool allows: no scan */
	uint64_t errors[134];	/* error replies by errno (the last: any larger) */
};

struct daemon {
	struct vfctl_ctx *ctx;
	sd_event *ev;
	const char *config_path;
	bool config_explicit;
	struct vfctl_config *cfg;
	struct lease_life life;
	int listen_fd;
	bool activated;
	char *sock_path;
	sd_device_monitor *mon;
	sd_event_source *retry;
	sd_event_source *expiry;	/* the next lease expiry (CLOCK_REALTIME) */
	unsigned n_conns;
	struct conn *conns;	/* open connections, freed at exit */
	unsigned timeout_ms;
	struct conn_limits lim;
	sd_event_source *accept_src;	/* off for a moment when accept() runs out of fds */
	sd_event_source *accept_retry;
	uint64_t refusal_logged;	/* CLOCK_MONOTONIC usec of the last refusal logged */
	struct daemon_stats stats;
	struct vfctl_host *view;	/* the shared host view (host_view()), NULL: none */
	uint64_t view_usec;	/* when it was scanned */
	/* the host a reconcile pass checks its leases against: the view, or
	 * what was the view until a write dropped it during the pass (then
	 * pass_owned: freed at the pass's end); NULL until its first check */
	struct vfctl_host *pass_host;
	bool pass_owned;
	struct vfctl_root sys;	/* the sysfs root, for the reads of one VF (host_vf_read) */
	const char *cdi_dir;	/* --cdi-dir: where the CDI spec is kept, NULL none */
	struct worker *workers;	/* running (worker.c) */
	bool serving;		/* the loop runs: restores go to workers (at start they
				 * are done before the first request is read) */
	/* the reply that waits for a restore the lifecycle call in progress
	 * may start (request.c sets it, host.c's vf_restore takes it) */
	struct restore_wait *restore_wait;
	struct vfctl_reaper reaper;	/* workers given up on, reaped at SIGCHLD */
};

#define MAX_GROUPS 256

struct conn {
	struct conn *next, *prev;
	struct daemon *d;
	int fd;
	sd_event_source *src;
	struct ucred cred;
	gid_t groups[MAX_GROUPS];
	int n_groups;
	sd_event_source *idle;	/* the idle timeout, re-armed at each reply */
	/* A reply the peer has not taken (its queue is full): nothing more is
	 * read from it until this is sent. */
	char *pending;
	size_t pending_len;
	/* The request a worker answers (a bind, a restore): nothing is read from
	 * the peer until that reply is sent (conn_answer). */
	struct worker *work;
};

/* request.c: the PF of a config entry on h (its pools' VFs) */
int pool_pf(struct daemon *d, const struct vfctl_host *h, const struct vfctl_conf_pf *cpf,
	    struct vfctl_func **ret);

/* ---- cdi.c: the CDI spec of --cdi-dir (src/shared/cdi.h) ---- */
/* Rewrite it after the leases changed; a failure is logged, not returned. */
void daemon_cdi_update(struct daemon *d);

/* ---- host.c: the daemon's view of the host ---- */
extern const struct lease_host_ops host_ops;
int host_scan(struct daemon *d, struct vfctl_host **ret);
/* The daemon's shared view of the host (a scan without netlink), scanned
 * again when there is none or it is more than max_usec old; dropped at a
 * device event, a reload and every write the daemon makes to a device.
 * list takes it at most HOST_VIEW_USEC old; alloc at any age, and reads
 * what must be fresh of the VF it picks (host_vf_current). for_list counts
 * a scan as list's. Borrowed: valid until the next host_view_drop(). */
#define HOST_VIEW_USEC (1000000ULL)
int host_view(struct daemon *d, uint64_t max_usec, bool for_list, const struct vfctl_host **ret);
/* How old the view is (0: scanned in this event loop iteration, or none) */
uint64_t host_view_age(struct daemon *d);
/* The drivers of vf and of the other members of its IOMMU group, read from
 * sysfs now, are the view's (vf is still there): what alloc trusts. */
bool host_vf_current(struct daemon *d, const struct vfctl_host *h, const struct vfctl_func *vf);
void host_view_drop(struct daemon *d);
bool host_dev_exists(struct daemon *d, const char *addr);
bool host_driver_is(struct daemon *d, const char *addr, const char *drv);
/* What a lease holds its VF to, read from sysfs now for that VF alone (open:
 * no scan). */
struct host_vf {
	char pf[VFCTL_ADDR_LEN];	/* its PF (physfn), "" when it is no VF */
	int vf_index;		/* the PF's virtfnN naming it, -1 none */
	char device_id[10];	/* "8086:10ed", "" unreadable */
	int group;		/* IOMMU group, -1 none */
};
/* 0, or -ENODEV when the function is gone; index_hint is the virtfn link
 * read first (the lease's index: one read when it still holds). */
int host_vf_read(struct daemon *d, const char *vf, int index_hint, struct host_vf *ret);

/* ---- request.c: a lease against the config (its pool still has the VF and
 * allows the lease's uid, and c's when c is not NULL) and the host h (the VF,
 * its PF, index, device id and group); fills the identity fields an older
 * leases.json lacks. Returns as lease_host_ops.lease_check. */
int lease_check_host(struct daemon *d, const struct vfctl_host *h, const struct conn *c,
		     struct lease *l, char *why, size_t size);
/* The same for open, on the VF's sysfs facts read now (host_vf_read) and the
 * config: no scan (but for a pool whose PF the config matches by netdev or
 * vendor:device and no shared view: the view is scanned). The VF's group in
 * *ret_group. */
int lease_check_now(struct daemon *d, const struct conn *c, struct lease *l, int *ret_group,
		    char *why, size_t size);

/* ---- conn.c ---- */
json_object *reply_error(int r, const char *fmt, ...) _printf_(2, 3);
json_object *reply_ok(void);
/* One reply, with fds attached (SCM_RIGHTS) when n_fds. A peer whose queue
 * is full gets no fds later: its connection is shut down (it sees EOF,
 * not a wait). */
int conn_send(int fd, json_object *o, const int *fds, size_t n_fds);
/* The listening socket's event callback. */
int conn_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata);
void conn_free(struct conn *c);
/* The limits from the config (defaults without one), sized to
 * RLIMIT_NOFILE; logged when the fds cut the config's. */
void conn_limits_set(struct daemon *d);
/* The SIGUSR1 status line. */
void conn_log_stats(struct daemon *d);
/* c's request is answered later by w: nothing read from c, no idle timeout
 * meanwhile. */
void conn_defer(struct conn *c, struct worker *w);
/* The reply to c's deferred request; c reads requests again. */
void conn_answer(struct conn *c, json_object *o);

/* ---- request.c: one request's reply; *sent when it went out already (open);
 * NULL when a worker answers it later (c->work) ---- */
json_object *request_handle(struct daemon *d, struct conn *c, const struct proto_request *req,
			    bool *sent);

/* A reply that waits for a restore: c, and o to send it (request.c) */
struct restore_wait {
	struct conn *c;
	json_object *o;		/* alloc: its error; release: the ok carrying the lease */
	bool release, force;
};
void restore_wait_free(void *p);
/* request.c: the restore w waited for is done (r; for a release that
 * failed, pending says why): w's reply, sent to c unless it is gone. */
void request_restored(struct daemon *d, struct conn *c, struct restore_wait *w, int r,
		      const char *id, const char *vf, const char *pending);

/* ---- worker.c: a job off the event loop, in a child process ----
 * The child runs job on its copy of the daemon and sends res back; it never
 * touches the event loop, the store or leases.json. The parent calls done
 * with the result (or -ETIMEDOUT when the worker was killed at --timeout
 * + 1 s, -EIO when it ended without one) and c, the client waiting for the
 * reply (NULL: none, or it is gone). l is busy until then. */
struct worker_result {
	int r;			/* 0, or -errno with err */
	int group;		/* bind: the VF's IOMMU group */
	unsigned scans;		/* host scans the worker made (the SIGUSR1 line's) */
	char err[1024];
};
typedef void (*worker_job_fn)(struct daemon *d, const struct lease *l, struct worker_result *res);
typedef void (*worker_done_fn)(struct daemon *d, struct lease *l, struct conn *c,
			       const struct worker_result *res, void *arg);
/* 0 (c's reply deferred, l busy), or -errno with nothing started. what
 * names the job in errors ("binding it to vfio-pci"); arg goes to done,
 * and to arg_free (if any) when the worker is stopped at exit instead. */
int worker_start(struct daemon *d, struct lease *l, struct conn *c, const char *what,
		 worker_job_fn job, worker_done_fn done, void *arg, void (*arg_free)(void *));
/* c was freed: its worker answers nobody. */
void worker_conn_gone(struct worker *w);
/* At exit: every worker killed and reaped; their leases stay as they are
 * on disk (allocating), for the next start's reconcile. */
void worker_stop_all(struct daemon *d);

/* ---- log.c ---- */
void log_init(bool journal, const char *test_stop_step);
void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);
/* Test hook (VFCTLD_TEST_STOP=op:step, never set in production): stop at a
 * named step so a test can kill -9 the daemon exactly there. */
void test_stop(const char *step);

#endif
