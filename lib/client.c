// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The client side of the vfctld protocol (vfctld(8)): one JSON request per
 * SOCK_SEQPACKET message, one reply back, with file descriptors attached
 * (SCM_RIGHTS) for "open". vfctl alloc/release/leases and vfkvm --lease
 * use it.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <json-c/json.h>

#include "internal.h"
#include "wire.h"

/* The daemon binds a device to vfio-pci inside an alloc (bounded at 10 s a
 * write); a daemon that answers nothing for this long is stuck. */
#define CLIENT_TIMEOUT_S 120

struct vfctl_client {
	int fd;
	char path[108];
	char err[512];
};

static int cerr(struct vfctl_client *c, int r, const char *fmt, ...) _printf_(3, 4);
static int cerr(struct vfctl_client *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return r;
}

const char *vfctl_client_error(const struct vfctl_client *c)
{
	return c ? c->err : "";
}

int vfctl_client_connect(const char *path, struct vfctl_client **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S };
	struct vfctl_client *c;

	if (!path)
		path = VFCTL_CLIENT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(c->path, sizeof(c->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		int r = -errno;

		free(c);
		return r;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(c->fd);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void vfctl_client_free(struct vfctl_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static void close_cmsg_fds(struct msghdr *mh, int *fds, size_t max_fds, size_t *n)
{
	*n = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (fds && *n < max_fds)
				fds[(*n)++] = fd;
			else
				close(fd);
		}
	}
}

/* The reply's error object, if it is one: -errno and the message. */
static int reply_error(struct vfctl_client *c, json_object *o)
{
	json_object *e, *n, *m;
	int64_t no;

	if (!json_object_object_get_ex(o, "error", &e))
		return 0;
	no = json_object_object_get_ex(e, "errno", &n) ? json_object_get_int64(n) : EIO;
	if (no <= 0 || no > 4095)
		no = EIO;
	json_object_object_get_ex(e, "message", &m);
	return cerr(c, -(int)no, "%s", m && json_object_get_string(m) ?
		    json_object_get_string(m) : strerror((int)no));
}

int vfctl_client_call(struct vfctl_client *c, const char *request, char **ret_reply, int *fds,
		      size_t max_fds, size_t *ret_nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	_cleanup_free_ char *buf = NULL;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int got[PROTO_MAX_FDS];
	size_t n_got = 0, len = strlen(request);
	json_object *o;
	ssize_t n;
	int r;

	if (send(c->fd, request, len, MSG_NOSIGNAL) < 0)
		return cerr(c, -errno, "sending the request to vfctld at %s: %s", c->path,
			    strerror(errno));
	buf = malloc(PROTO_REPLY_MAX + 1);
	if (!buf)
		return cerr(c, -ENOMEM, "out of memory");
	iov = (struct iovec){ .iov_base = buf, .iov_len = PROTO_REPLY_MAX };
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cerr(c, -errno, "waiting for vfctld's reply on %s: %s%s", c->path,
			    strerror(errno), errno == EAGAIN ? " (no reply in 120 s: is the daemon "
			    "stuck? see 'journalctl -u vfctld')" : "");
	close_cmsg_fds(&mh, got, ARRAY_SIZE(got), &n_got);
	if (n == 0) {
		r = cerr(c, -ECONNRESET, "vfctld at %s closed the connection without a reply; see "
			 "its log ('journalctl -u vfctld')", c->path);
		goto fail;
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		r = cerr(c, -EMSGSIZE, "vfctld's reply did not fit (%zd bytes, or more fds than "
			 "%d)", n, PROTO_MAX_FDS);
		goto fail;
	}
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		r = cerr(c, -EBADMSG, "vfctld's reply is not a JSON object: %.80s", buf);
		goto fail;
	}
	r = reply_error(c, o);
	json_object_put(o);
	if (ret_reply)
		*ret_reply = TAKE_PTR(buf);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < n_got; i++) {
		if (fds && i < max_fds)
			fds[i] = got[i];
		else
			close(got[i]);
	}
	if (ret_nfds)
		*ret_nfds = n_got < max_fds ? n_got : max_fds;
	c->err[0] = '\0';
	return 0;
fail:
	for (size_t i = 0; i < n_got; i++)
		close(got[i]);
	return r;
}

/* The fd fields of struct vfctl_lease_fds, for closing them in any size. */
static const size_t lease_fd_fields[] = {
	offsetof(struct vfctl_lease_fds, container_fd), offsetof(struct vfctl_lease_fds, group_fd),
	offsetof(struct vfctl_lease_fds, iommufd), offsetof(struct vfctl_lease_fds, device_fd),
};

/* Set the fds of l that lie within its first len bytes to -1, closing
 * them first when close_them (else they were handed over). */
static void lease_fds_drop(struct vfctl_lease_fds *l, size_t len, bool close_them)
{
	for (size_t i = 0; i < ARRAY_SIZE(lease_fd_fields); i++) {
		int *fd = (int *)((char *)l + lease_fd_fields[i]);

		if (lease_fd_fields[i] + sizeof(int) > len)
			continue;
		if (close_them && *fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

void vfctl_lease_fds_close(struct vfctl_lease_fds *l)
{
	lease_fds_drop(l, vfctl_sized_len(l), true);
}

int vfctl_client_open_lease(struct vfctl_client *c, const char *lease,
			    struct vfctl_lease_fds *ret)
{
	struct vfctl_lease_fds l = { .size = sizeof(l), .container_fd = -1, .group_fd = -1,
				     .iommufd = -1, .device_fd = -1, .group = -1 };
	_cleanup_free_ char *text = NULL, *reply = NULL;
	int fds[PROTO_MAX_FDS];
	json_object *o = NULL, *names, *v;
	size_t n = 0;
	int r;

	if (!ret || ret->size < sizeof(ret->size))
		return cerr(c, -EINVAL, "lease fds of size %zu: set .size = sizeof(struct "
			    "vfctl_lease_fds)", ret ? ret->size : 0);
	if (!vfctl_lease_id_valid(lease))
		return cerr(c, -EINVAL, "'%s' is not a lease id (L1, L2, ...; 'vfctl leases' lists "
			    "them)", lease);
	if (asprintf(&text, "{\"op\":\"open\",\"lease\":\"%s\"}", lease) < 0)
		return cerr(c, -ENOMEM, "out of memory");
	r = vfctl_client_call(c, text, &reply, fds, ARRAY_SIZE(fds), &n);
	if (r < 0)
		return r;
	o = json_tokener_parse(reply);
	/* "fds" names what each received descriptor is, in order */
	if (!o || !json_object_object_get_ex(o, "fds", &names) ||
	    !json_object_is_type(names, json_type_array) || json_object_array_length(names) != n) {
		r = cerr(c, -EBADMSG, "vfctld's open reply for %s does not match the %zu fds it "
			 "sent", lease, n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *what = json_object_get_string(json_object_array_get_idx(names, i));
		int *slot = !what ? NULL : !strcmp(what, "container") ? &l.container_fd :
			    !strcmp(what, "group") ? &l.group_fd : !strcmp(what, "iommufd") ?
			    &l.iommufd : !strcmp(what, "device") ? &l.device_fd : NULL;

		if (slot && *slot < 0) {
			*slot = fds[i];
			fds[i] = -1;
		}
	}
	if (json_object_object_get_ex(o, "group", &v) && json_object_is_type(v, json_type_int))
		l.group = json_object_get_int(v);
	if (!json_object_object_get_ex(o, "address", &v) ||
	    vfctl_addr_parse(json_object_get_string(v), l.addr) < 0 || l.group < 0 ||
	    l.container_fd < 0 || l.group_fd < 0) {
		r = cerr(c, -EBADMSG, "vfctld's open reply for %s lacks the address, group, "
			 "container or group fd", lease);
		goto out;
	}
	/* what the caller's struct has room for is handed over, the rest
	 * closed below with everything else */
	vfctl_sized_out(ret, &l, sizeof(l));
	lease_fds_drop(&l, vfctl_sized_len(ret), false);
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	vfctl_lease_fds_close(&l);
	json_object_put(o);
	return r;
}
