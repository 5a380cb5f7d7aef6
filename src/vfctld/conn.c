// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctld's connections: one JSON request per SOCK_SEQPACKET message, one
 * reply back (with the VFIO fds attached by SCM_RIGHTS for "open"). The
 * peer's credentials are taken at accept (SO_PEERCRED, SO_PEERGROUPS); a
 * message that is too large or carries fds is answered with an error and
 * the connection stays usable.
 *
 * Limits (vfctld(8) LIMITS), so no local user can starve root or the
 * others: connections per uid and in all (root has a reserve past that),
 * an idle timeout, and one request in flight per connection (the next is
 * read only once the reply is sent: a peer that does not read its replies
 * stops being served, not the daemon).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <syslog.h>

#include "vfctld.h"

/* root's connections past max_connections: vfctl alloc/leases always get in */
#define ROOT_RESERVE 16
/* fds the daemon keeps for itself (event loop, scans, locks, workers, open's
 * VFIO fds), on top of a pidfd for each pool VF's lease */
#define FD_RESERVE 128
/* accept() out of fds: the listening socket rests this long */
#define ACCEPT_PAUSE_USEC (100 * 1000ULL)
/* at most one refusal logged per this long (a full count in each) */
#define REFUSAL_LOG_USEC (10 * 1000000ULL)

json_object *reply_error(int r, const char *fmt, ...)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* every reply valid JSON, whatever a message quotes (cut mid-character) */
	vfctl_utf8_sanitize(msg);
	json_object_object_add(e, "errno", json_object_new_int(r < 0 ? -r : r));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	return o;
}

json_object *reply_ok(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(true));
	return o;
}

int conn_send(int fd, json_object *o, const int *fds, size_t n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	struct iovec iov = { .iov_base = (void *)s, .iov_len = strlen(s) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > PROTO_MAX_FDS)
		return -EINVAL;
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
	if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		int r = -errno;

		/* fds are not kept for a peer that does not read: it sees EOF */
		if (n_fds && r == -EAGAIN)
			shutdown(fd, SHUT_RDWR);
		return r;
	}
	return 0;
}

void conn_free(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->work)
		worker_conn_gone(c->work);
	sd_event_source_disable_unref(c->src);
	sd_event_source_disable_unref(c->idle);
	close(c->fd);
	c->d->n_conns--;
	free(c->pending);
	free(c);
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct conn *c = userdata;

	(void)s;
	(void)usec;
	c->d->stats.closed_idle++;
	conn_free(c);
	return 0;
}

/* Progress: the idle timeout starts again. */
static void idle_rearm(struct conn *c)
{
	if (sd_event_source_set_time_relative(c->idle, c->d->lim.idle_usec) >= 0)
		sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
}

/* The reply to a request: sent, or kept until the peer makes room, and
 * nothing read from it meanwhile. 0, or -errno: the connection is gone. */
static int conn_reply(struct conn *c, json_object *o)
{
	int r = conn_send(c->fd, o, NULL, 0);

	if (r == -EAGAIN) {
		/* the text conn_send() sent (json-c keeps it with o) */
		c->pending = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
		if (!c->pending || sd_event_source_set_io_events(c->src, EPOLLOUT) < 0) {
			conn_free(c);
			return -ENOMEM;
		}
		c->pending_len = strlen(c->pending);
		return 0;
	}
	if (r < 0)
		log_msg(LOG_DEBUG, "reply to pid %d: %s", c->cred.pid, strerror(-r));
	return 0;
}

/* The peer made room: the kept reply goes out, then requests are read again. */
static void conn_flush(struct conn *c)
{
	ssize_t n = send(c->fd, c->pending, c->pending_len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 || sd_event_source_set_io_events(c->src, EPOLLIN) < 0) {
		conn_free(c);
		return;
	}
	free(c->pending);
	c->pending = NULL;
	c->pending_len = 0;
	idle_rearm(c);
}

/* nobody sends the daemon fds: close any, so they cannot pile up here */
static bool close_passed_fds(struct msghdr *mh)
{
	bool had = false;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int x;

				memcpy(&x, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(x);
			}
			had = true;
		}
	return had;
}

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct conn *c = userdata;
	char buf[PROTO_REQ_MAX + 1], err[512];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct proto_request req;
	json_object *o = NULL;
	bool sent = false;
	ssize_t n;
	int r;

	if (c->pending) {
		if (revents & (EPOLLERR | EPOLLHUP))
			conn_free(c);
		else if (revents & EPOLLOUT)
			conn_flush(c);
		return 0;
	}
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
	c->d->stats.requests++;
	if (close_passed_fds(&mh) || (mh.msg_flags & MSG_CTRUNC)) {
		o = reply_error(-EINVAL, "requests carry no file descriptors; closed them");
	} else if ((size_t)n > PROTO_REQ_MAX) {
		o = reply_error(-EMSGSIZE, "request of %zd bytes, more than %d: refused unread", n,
				PROTO_REQ_MAX);
	} else {
		r = proto_request_parse(buf, (size_t)n, &req, err, sizeof(err));
		if (r < 0)
			o = reply_error(r, "bad request: %s", err);
		else
			o = request_handle(c->d, c, &req, &sent);
	}
	if (c->work)
		return 0;	/* a worker answers it (conn_answer) */
	if (sent) {
		json_object_put(o);
		idle_rearm(c);
		return 0;
	}
	conn_answer(c, o);
	json_object_put(o);
	return 0;
}

void conn_defer(struct conn *c, struct worker *w)
{
	c->work = w;
	/* neither read nor timed out while its worker runs (that is bounded by
	 * --timeout): a peer that left is noticed when the reply is sent */
	sd_event_source_set_enabled(c->src, SD_EVENT_OFF);
	sd_event_source_set_enabled(c->idle, SD_EVENT_OFF);
}

void conn_answer(struct conn *c, json_object *o)
{
	json_object *e;

	c->work = NULL;
	if (json_object_object_get_ex(o, "error", &e) && json_object_object_get_ex(e, "errno", &e)) {
		size_t en = (size_t)json_object_get_int(e), max = ARRAY_SIZE(c->d->stats.errors);

		c->d->stats.errors[en > 0 && en < max ? en : max - 1]++;
	}
	if (sd_event_source_set_enabled(c->src, SD_EVENT_ON) < 0) {
		conn_free(c);
		return;
	}
	if (conn_reply(c, o) == 0 && !c->pending)	/* conn_reply may free c */
		idle_rearm(c);
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	(void)usec;
	sd_event_source_set_enabled(d->accept_src, SD_EVENT_ON);
	return 0;
}

/* Out of fds (the limits leave room; a burst of open's fds may not): the
 * listening socket rests a moment instead of waking the loop for nothing. */
static void accept_pause(struct daemon *d)
{
	sd_event_source_set_enabled(d->accept_src, SD_EVENT_OFF);
	if (!d->accept_retry &&
	    sd_event_add_time_relative(d->ev, &d->accept_retry, CLOCK_MONOTONIC, ACCEPT_PAUSE_USEC,
				       0, on_accept_retry, d) < 0) {
		sd_event_source_set_enabled(d->accept_src, SD_EVENT_ON);
		return;
	}
	if (sd_event_source_set_time_relative(d->accept_retry, ACCEPT_PAUSE_USEC) >= 0)
		sd_event_source_set_enabled(d->accept_retry, SD_EVENT_ONESHOT);
}

static unsigned uid_conns(const struct daemon *d, uid_t uid)
{
	unsigned n = 0;

	for (const struct conn *c = d->conns; c; c = c->next)
		n += c->cred.uid == uid;
	return n;
}

/* May a new connection of uid stay? 0, or -EMFILE/-EUSERS with the reply. */
static int conn_admit(struct daemon *d, uid_t uid, char *why, size_t size)
{
	const struct conn_limits *l = &d->lim;
	unsigned n;

	if (uid == 0) {
		if (d->n_conns < l->max + l->root_reserve)
			return 0;
		snprintf(why, size, "vfctld has %u connections open, all it serves (max_connections "
			 "%u and %u more for root); try again", d->n_conns, l->max, l->root_reserve);
		return -EMFILE;
	}
	if (d->n_conns >= l->max) {
		snprintf(why, size, "vfctld has %u connections open, its max_connections; try "
			 "again", d->n_conns);
		return -EMFILE;
	}
	n = uid_conns(d, uid);
	if (n >= l->per_uid) {
		snprintf(why, size, "uid %u has %u connections to vfctld open, its "
			 "max_connections_per_uid: close some, or try again", (unsigned)uid, n);
		return -EUSERS;
	}
	return 0;
}

/* The refusal goes out queued before the close: the client reads it after
 * its send fails (lib/client.c). */
static void conn_refuse(struct daemon *d, int cfd, const struct ucred *cred, int r,
			const char *why)
{
	json_object *o = reply_error(r, "%s", why);
	uint64_t now = 0;

	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	conn_send(cfd, o, NULL, 0);
	json_object_put(o);
	close(cfd);
	if (r == -EUSERS)
		d->stats.refused_uid++;
	else
		d->stats.refused_cap++;
	if (!d->refusal_logged || now - d->refusal_logged >= REFUSAL_LOG_USEC) {
		d->refusal_logged = now;
		log_msg(LOG_WARNING, "refused a connection of pid %d uid %u: %s (%llu refused so "
			"far: %llu at max_connections, %llu at max_connections_per_uid)",
			cred->pid, (unsigned)cred->uid, why,
			(unsigned long long)(d->stats.refused_cap + d->stats.refused_uid),
			(unsigned long long)d->stats.refused_cap,
			(unsigned long long)d->stats.refused_uid);
	}
}

int conn_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	socklen_t len = sizeof(struct ucred);
	struct ucred cred;
	struct conn *c;
	char why[256];
	int cfd, r;

	(void)s;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			accept_pause(d);
		return 0;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_msg(LOG_WARNING, "SO_PEERCRED: %s; connection closed", strerror(errno));
		close(cfd);
		return 0;
	}
	r = conn_admit(d, cred.uid, why, sizeof(why));
	if (r < 0) {
		conn_refuse(d, cfd, &cred, r, why);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->d = d;
	c->fd = cfd;
	c->cred = cred;
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->n_conns++;
	d->stats.accepted++;
	/* the peer's supplementary groups at connect time (Linux 4.13) */
	len = sizeof(c->groups);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == 0)
		c->n_groups = (int)(len / sizeof(gid_t));
	if (sd_event_add_io(d->ev, &c->src, cfd, EPOLLIN, on_conn, c) < 0 ||
	    sd_event_add_time_relative(d->ev, &c->idle, CLOCK_MONOTONIC, d->lim.idle_usec,
				       1000000ULL, on_idle, c) < 0) {
		conn_free(c);
		return 0;
	}
	return 0;
}

void conn_limits_set(struct daemon *d)
{
	const struct vfctl_conf_daemon *cd = d->cfg ? &d->cfg->daemon : NULL;
	unsigned want = cd ? cd->max_connections : VFCTL_CONF_MAX_CONNECTIONS;
	uint64_t reserve = FD_RESERVE + ROOT_RESERVE, fit;
	struct rlimit rl;

	for (size_t i = 0; d->cfg && i < d->cfg->n_pfs; i++)
		for (size_t j = 0; j < d->cfg->pfs[i].n_pools; j++)
			reserve += d->cfg->pfs[i].pools[j].n_vfs;
	d->lim.nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (uint64_t)rl.rlim_cur : 1024;
	fit = d->lim.nofile > reserve + 1 ? d->lim.nofile - reserve : 1;
	d->lim.max = want <= fit ? want : (unsigned)fit;
	d->lim.per_uid = cd ? cd->max_connections_per_uid : VFCTL_CONF_MAX_CONNECTIONS_PER_UID;
	if (d->lim.per_uid > d->lim.max)
		d->lim.per_uid = d->lim.max;
	d->lim.root_reserve = ROOT_RESERVE;
	d->lim.idle_usec = (cd ? cd->idle_timeout : VFCTL_CONF_IDLE_TIMEOUT) * 1000000ULL;
	if (d->lim.max < want)
		log_msg(LOG_WARNING, "max_connections %u does not fit in RLIMIT_NOFILE %llu (%llu fds "
			"kept for the daemon and root): serving at most %u; raise LimitNOFILE= in "
			"vfctld.service", want, (unsigned long long)d->lim.nofile,
			(unsigned long long)reserve, d->lim.max);
}

/* The counters as "kind value" lines in RUN_DIR/vfctld-stats, for 'vfctl
 * metrics' (refusals and error replies by kind); written at each SIGUSR1. */
static void stats_write(struct daemon *d)
{
	const struct daemon_stats *st = &d->stats;
	_cleanup_close_ int dfd = -1;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return;
	fprintf(f, "accepted %llu\nrefused_max_connections %llu\n"
		"refused_max_connections_per_uid %llu\nclosed_idle %llu\nrequests %llu\n",
		(unsigned long long)st->accepted, (unsigned long long)st->refused_cap,
		(unsigned long long)st->refused_uid, (unsigned long long)st->closed_idle,
		(unsigned long long)st->requests);
	for (size_t i = 1; i < ARRAY_SIZE(st->errors); i++) {
		const char *name = i + 1 < ARRAY_SIZE(st->errors) ? strerrorname_np((int)i) : NULL;

		if (!st->errors[i])
			continue;
		fputs("error_", f);
		for (const char *p = name ? name : "other"; *p; p++)
			fputc(tolower((unsigned char)*p), f);
		fprintf(f, " %llu\n", (unsigned long long)st->errors[i]);
	}
	if (fclose(f) == EOF) {
		free(text);
		return;
	}
	r = vfctl_run_dir_open(d->ctx, ".", &dfd);
	if (r >= 0)
		r = vfctl_file_write_atomic(dfd, "vfctld-stats", text);
	if (r < 0)
		log_msg(LOG_WARNING, "writing %s/vfctld-stats: %s", vfctl_run_dir_path(d->ctx),
			strerror(-r));
	free(text);
}

void conn_log_stats(struct daemon *d)
{
	const struct daemon_stats *st = &d->stats;

	stats_write(d);
	log_msg(LOG_INFO, "status: %u connections open (at most %u, %u per uid, %u more for root; "
		"idle timeout %llu s; RLIMIT_NOFILE %llu); %llu accepted, %llu refused at "
		"max_connections, %llu at max_connections_per_uid, %llu closed idle; %llu requests; "
		"%llu host scans, %llu of them for list; %llu list replies without the host",
		d->n_conns, d->lim.max, d->lim.per_uid, d->lim.root_reserve,
		(unsigned long long)(d->lim.idle_usec / 1000000ULL),
		(unsigned long long)d->lim.nofile, (unsigned long long)st->accepted,
		(unsigned long long)st->refused_cap, (unsigned long long)st->refused_uid,
		(unsigned long long)st->closed_idle, (unsigned long long)st->requests,
		(unsigned long long)st->host_scans, (unsigned long long)st->list_scans,
		(unsigned long long)st->list_no_host);
}
