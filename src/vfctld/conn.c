// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctld's connections: one JSON request per SOCK_SEQPACKET message, one
 * reply back (with the VFIO fds attached by SCM_RIGHTS for "open"). The
 * peer's credentials are taken at accept (SO_PEERCRED, SO_PEERGROUPS); a
 * message that is too large or carries fds is answered with an error and
 * the connection stays usable.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "vfctld.h"

#define MAX_CONNS 1024

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
	if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return -errno;
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
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	c->d->n_conns--;
	free(c);
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
	if (o && !sent) {
		r = conn_send(fd, o, NULL, 0);
		if (r < 0)
			log_msg(LOG_DEBUG, "reply to pid %d: %s", c->cred.pid, strerror(-r));
	}
	json_object_put(o);
	return 0;
}

int conn_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	socklen_t len = sizeof(struct ucred);
	struct conn *c;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	if (d->n_conns >= MAX_CONNS) {
		json_object *o = reply_error(-EMFILE, "vfctld has %d connections open; try again",
					     MAX_CONNS);

		conn_send(cfd, o, NULL, 0);
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
