// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Worker processes: started, waited for until a deadline, and when given up
 * on, remembered and reaped later. Everything waits for one child by its
 * pidfd (or its pid on a kernel without pidfds), never with waitpid(-1), so
 * a caller's own children are never reaped here.
 */
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "basic.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int reaper_grow(struct vfctl_reaper *r)
{
	struct vfctl_child *v;
	size_t cap;

	if (r->n < r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 4;
	v = realloc(r->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->v = v;
	r->cap = cap;
	return 0;
}

int vfctl_child_fork(struct vfctl_reaper *r, struct vfctl_child *c)
{
	int e = reaper_grow(r);
	pid_t pid;

	if (e < 0)
		return e;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		return 0;
	c->pid = pid;
	/* Right away, before the child can even have ended: from here on the
	 * pidfd names this process and no other, whoever reaps what. */
	c->pidfd = pidfd_open(pid, 0);
	c->mem = NULL;
	c->mem_size = 0;
	return pid;
}

int vfctl_child_spawn(struct vfctl_reaper *r, struct vfctl_child *c, int (*fn)(void *), void *arg,
		      void *mem, size_t mem_size)
{
#ifdef VFCTL_HAVE_RAW_SYSCALL
	sigset_t all, old;
	int e = reaper_grow(r);
	pid_t pid;

	if (e < 0)
		return e;
	/* No handler of ours may run in the child: on our memory, in the
	 * middle of whatever we are doing. It keeps the mask for good. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = clone(fn, (char *)mem + mem_size, CLONE_VM | SIGCHLD, arg);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -e;
	c->pid = pid;
	c->pidfd = pidfd_open(pid, 0);	/* as vfctl_child_fork() */
	c->mem = mem;
	c->mem_size = mem_size;
	return 0;
#else
	return -ENOSYS;
#endif
}

/* 1: c ended and is reaped (status set), 0: still running, -errno: cannot
 * be waited for (-ECHILD: not our child any more, someone reaped it). */
static int child_try(struct vfctl_child *c, int *status)
{
	int st = 0;

	if (c->pidfd >= 0) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG) < 0)
			return errno == EINTR ? 0 : -errno;
		if (si.si_pid == 0)
			return 0;
		st = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status & 0x7f;
	} else {
		pid_t w = waitpid(c->pid, &st, WNOHANG);

		if (w < 0)
			return errno == EINTR ? 0 : -errno;
		if (w == 0)
			return 0;
	}
	if (status)
		*status = st;
	return 1;
}

/* Done with c; ended: it has surely ended (reaped, or by someone else:
 * -ECHILD), so its stack can go. A child that may still run keeps it:
 * back from a hung write, it runs on it in our address space. */
static void child_forget(struct vfctl_child *c, int ended)
{
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	c->pid = 0;
	if (c->mem && (ended == 1 || ended == -ECHILD))
		munmap(c->mem, c->mem_size);
	c->mem = NULL;
}

/* Sleep until c may have ended or ms passed. */
static void child_sleep(const struct vfctl_child *c, uint64_t ms)
{
	struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
	int t = ms > INT_MAX ? INT_MAX : (int)ms;

	if (c->pidfd >= 0)
		poll(&p, 1, t);
	else
		poll(NULL, 0, t < 5 ? t : 5);
}

int vfctl_child_wait(struct vfctl_reaper *r, struct vfctl_child *c, uint64_t deadline,
		     int *status)
{
	for (;;) {
		uint64_t now;
		int e = child_try(c, status);

		if (e != 0) {
			child_forget(c, e);
			return e < 0 ? e : 0;
		}
		now = vfctl_now_ms();
		if (now >= deadline)
			break;
		child_sleep(c, deadline - now);
	}
	/* Given up on: remembered (fork made room) and reaped later. */
	if (reaper_grow(r) < 0) {
		/* cannot happen after vfctl_child_fork(); rather than lose track
		 * of it, end it now */
		if (c->pidfd >= 0)
			pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
		child_forget(c, 0);
		return -ETIMEDOUT;
	}
	r->v[r->n++] = *c;
	return -ETIMEDOUT;
}

void vfctl_reaper_reap(struct vfctl_reaper *r)
{
	size_t i = 0;

	while (i < r->n) {
		int e = child_try(&r->v[i], NULL);

		if (e == 0) {
			i++;
			continue;
		}
		child_forget(&r->v[i], e);
		r->v[i] = r->v[--r->n];
	}
}

void vfctl_reaper_free(struct vfctl_reaper *r, unsigned timeout_ms)
{
	uint64_t deadline = vfctl_now_ms() + timeout_ms;

	vfctl_reaper_reap(r);
	/* By pidfd only: a bare pid may have been reaped and reused by now. */
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].pidfd >= 0)
			pidfd_send_signal(r->v[i].pidfd, SIGKILL, NULL, 0);
	while (r->n) {
		uint64_t now = vfctl_now_ms();

		if (now >= deadline)
			break;
		child_sleep(&r->v[0], deadline - now);
		vfctl_reaper_reap(r);
	}
	/* What is left is stuck in the kernel (SIGKILL waits for the write to
	 * return): it stays the process's child; it is not ours to wait for
	 * forever. */
	for (size_t i = 0; i < r->n; i++)
		child_forget(&r->v[i], 0);
	free(r->v);
	*r = (struct vfctl_reaper){ 0 };
}
