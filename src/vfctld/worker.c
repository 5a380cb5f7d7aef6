// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctld's workers: the kernel writes (alloc's bind, a VF's restore) run in
 * a child process, so a device whose write hangs holds up its own client
 * only, never the event loop and every other client. fork, not a thread:
 * libvfctl's ctx is not thread-safe, and the child works on its own copy.
 *
 * The child runs one job (a scan, vfctl_bind, a scan again; or a scan and
 * vfctl_restore) and writes a fixed result (errno, group, error text) to a
 * pipe, then _exits; it never touches the event loop, the store or
 * leases.json, which the parent owns.
 * The parent reads the result from the pipe (an sd-event io source) and
 * hands it to the job's completion. The lease is busy meanwhile: nothing
 * else touches it (lifecycle.c). A worker still running at --timeout + 1 s
 * is killed and counts as failed; one left stuck in the kernel by then is
 * reaped later by pidfd (d->reaper, at SIGCHLD), never waited for.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <syslog.h>
#include <unistd.h>

#include "vfctld.h"

/* how long a worker may outlive --timeout (its writes are each bounded by
 * it; the scans and the rest take less) before it is killed */
#define WORKER_GRACE_USEC (1000000ULL)

struct worker {
	struct worker *next, *prev;
	struct daemon *d;
	struct lease *lease;
	struct conn *conn;	/* the client waiting for the reply; NULL: gone */
	const char *what;	/* "binding it to vfio-pci": for the errors */
	worker_done_fn done;
	void *arg;
	void (*arg_free)(void *);
	struct vfctl_child child;
	int fd;			/* the result pipe's read end */
	sd_event_source *src, *timer;
	struct worker_result res;
	size_t got;
};

static void worker_free(struct worker *w)
{
	struct daemon *d = w->d;

	if (w->prev)
		w->prev->next = w->next;
	else
		d->workers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	sd_event_source_disable_unref(w->src);
	sd_event_source_disable_unref(w->timer);
	if (w->fd >= 0)
		close(w->fd);
	if (w->conn)
		w->conn->work = NULL;
	if (w->lease)
		w->lease->busy = false;
	if (w->arg && w->arg_free)
		w->arg_free(w->arg);
	free(w);
}

/* The child: whatever is not its job's is closed, so a worker stuck in the
 * kernel keeps no client's socket (the client would never see EOF), not
 * the listening socket (a restarted vfctld would take it for a live one)
 * and no other fd of the daemon's. The ctx's own fds (sysfs and dev roots)
 * stay: the job runs on them. */
static void child_close_fds(struct daemon *d, int keep)
{
	if (d->listen_fd >= 0 && d->listen_fd != keep)
		close(d->listen_fd);
	for (struct conn *c = d->conns; c; c = c->next)
		close(c->fd);
	for (struct worker *w = d->workers; w; w = w->next)
		if (w->fd >= 0 && w->fd != keep)
			close(w->fd);
	for (size_t i = 0; i < d->life.store.n; i++)
		if (d->life.store.v[i]->pidfd >= 0)
			close(d->life.store.v[i]->pidfd);
	if (d->life.store.dfd >= 0)
		close(d->life.store.dfd);
	if (d->ev && sd_event_get_fd(d->ev) >= 0)
		close(sd_event_get_fd(d->ev));
}

static _Noreturn void child_run(struct daemon *d, pid_t parent, int wfd, struct lease *l,
				 worker_job_fn job)
{
	struct worker_result res = { .r = 0, .group = -1 };
	uint64_t scans = d->stats.host_scans;
	sigset_t none;
	ssize_t n;

	/* never outlives the daemon: a restarted one rolls the lease back
	 * and must not race a bind still under way */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	child_close_fds(d, wfd);
	job(d, l, &res);
	res.scans = (unsigned)(d->stats.host_scans - scans);
	/* one write of less than PIPE_BUF: all of it or nothing */
	n = write(wfd, &res, sizeof(res));
	_exit(n == (ssize_t)sizeof(res) ? 0 : 1);
}

/* The result, or what became of a worker that sent none; the completion. */
static void worker_finish(struct worker *w, bool killed)
{
	struct daemon *d = w->d;
	struct lease *l = w->lease;
	struct conn *c = w->conn;
	worker_done_fn done = w->done;
	void *arg = w->arg;
	struct worker_result res = w->res;
	pid_t pid = w->child.pid;
	int status = 0;

	if (w->got != sizeof(res)) {
		res = (struct worker_result){ .r = killed ? -ETIMEDOUT : -EIO, .group = -1 };
		if (killed)
			snprintf(res.err, sizeof(res.err), "%s: %s did not finish in %llu ms "
				 "(--timeout and a second more; a sysfs write, a read or the PF's "
				 "lock is stuck): vfctld killed its worker (pid %d)", l->vf, w->what,
				 (unsigned long long)(d->timeout_ms + WORKER_GRACE_USEC / 1000),
				 (int)pid);
		else
			snprintf(res.err, sizeof(res.err), "%s: %s: vfctld's worker (pid %d) ended "
				 "without a result", l->vf, w->what, (int)pid);
		log_msg(LOG_ERR, "lease %s: %s", l->id, res.err);
	}
	res.err[sizeof(res.err) - 1] = '\0';
	d->stats.host_scans += res.scans;
	/* reaped now when it has ended, else at SIGCHLD (or left to the
	 * reaper for good when stuck in the kernel) */
	vfctl_child_wait(&d->reaper, &w->child, 0, &status);
	w->conn = NULL;
	w->lease = NULL;
	w->arg = NULL;
	if (c)
		c->work = NULL;
	l->busy = false;
	worker_free(w);
	done(d, l, c, &res, arg);
}

/* Read what the pipe has; true once the whole result is in. */
static bool worker_read(struct worker *w)
{
	while (w->got < sizeof(w->res)) {
		ssize_t n = read(w->fd, (char *)&w->res + w->got, sizeof(w->res) - w->got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		w->got += (size_t)n;
	}
	return w->got == sizeof(w->res);
}

static int on_worker_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct worker *w = userdata;

	(void)s;
	(void)fd;
	/* the whole result, or EOF (the worker ended without it) */
	if (worker_read(w) || (revents & (EPOLLHUP | EPOLLERR)))
		worker_finish(w, false);
	return 0;
}

static int on_worker_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct worker *w = userdata;

	(void)s;
	(void)usec;
	if (worker_read(w)) {
		worker_finish(w, false);
		return 0;
	}
	if (w->child.pidfd >= 0)
		pidfd_send_signal(w->child.pidfd, SIGKILL, NULL, 0);
	else
		kill(w->child.pid, SIGKILL);	/* not reaped yet: still this child */
	worker_finish(w, true);
	return 0;
}

int worker_start(struct daemon *d, struct lease *l, struct conn *c, const char *what,
		 worker_job_fn job, worker_done_fn done, void *arg, void (*arg_free)(void *))
{
	struct worker *w = calloc(1, sizeof(*w));
	pid_t parent = getpid();
	int p[2], r;

	if (!w)
		return -ENOMEM;
	w->d = d;
	w->fd = -1;
	w->what = what;
	w->done = done;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		free(w);
		return r;
	}
	r = vfctl_child_fork(&d->reaper, &w->child);
	if (r == 0)
		child_run(d, parent, p[1], l, job);
	close(p[1]);
	w->fd = p[0];
	w->next = d->workers;
	if (d->workers)
		d->workers->prev = w;
	d->workers = w;
	if (r < 0) {
		worker_free(w);
		return r;
	}
	if (sd_event_add_io(d->ev, &w->src, w->fd, EPOLLIN, on_worker_io, w) < 0 ||
	    sd_event_add_time_relative(d->ev, &w->timer, CLOCK_MONOTONIC,
				       d->timeout_ms * 1000ULL + WORKER_GRACE_USEC, 0,
				       on_worker_timeout, w) < 0) {
		/* no way to hear from it: it does not run unwatched */
		if (w->child.pidfd >= 0)
			pidfd_send_signal(w->child.pidfd, SIGKILL, NULL, 0);
		else
			kill(w->child.pid, SIGKILL);
		vfctl_child_wait(&d->reaper, &w->child, vfctl_now_ms() + 1000, NULL);
		worker_free(w);
		return -ENOMEM;
	}
	w->lease = l;
	l->busy = true;
	w->arg = arg;
	w->arg_free = arg_free;
	if (c) {
		w->conn = c;
		conn_defer(c, w);
	}
	return 0;
}

void worker_conn_gone(struct worker *w)
{
	w->conn = NULL;
}

void worker_stop_all(struct daemon *d)
{
	while (d->workers) {
		struct worker *w = d->workers;

		log_msg(LOG_NOTICE, "lease %s (%s): stopped while %s; it stays %s in %s/leases.json, "
			"settled at the next start", w->lease->id, w->lease->vf, w->what,
			lease_state_name(w->lease->state), d->life.store.dir);
		if (w->child.pidfd >= 0)
			pidfd_send_signal(w->child.pidfd, SIGKILL, NULL, 0);
		else
			kill(w->child.pid, SIGKILL);
		vfctl_child_wait(&d->reaper, &w->child, 0, NULL);
		worker_free(w);
	}
	/* killed above; wait a moment for them to be gone (one stuck in the
	 * kernel outlives this, as the bounded writers do) */
	vfctl_reaper_free(&d->reaper, 1000);
}
