// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The client side of the vfctld protocol (vfctld(8)): one JSON request per
 * SOCK_SEQPACKET message, one reply back, with file descriptors attached
 * (SCM_RIGHTS) for "open". Typed in and out: requests are built here
 * with json-c, replies parsed into struct vfctl_lease / vfctl_pool. vfctl
 * alloc/release/leases/pools and vfkvm --lease use it.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
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

/* One request and its parsed reply (an object; json_object_put() it), the
 * fds that came with it in fds[] (at most max_fds; more are closed). An
 * error reply is its -errno with the daemon's message in c->err. */
static int client_call(struct vfctl_client *c, const char *request, json_object **ret,
		       int *fds, size_t max_fds, size_t *ret_nfds)
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
	int send_err = 0, resets = 0;
	json_object *o;
	ssize_t n;
	int r;

	buf = malloc(PROTO_REPLY_MAX + 1);
	if (!buf)
		return cerr(c, -ENOMEM, "out of memory");
	if (send(c->fd, request, len, MSG_NOSIGNAL) < 0) {
		send_err = errno;
		if (send_err != EPIPE && send_err != ECONNRESET)
			return cerr(c, -send_err, "sending the request to vfctld at %s: %s", c->path,
				    strerror(send_err));
	}
	iov = (struct iovec){ .iov_base = buf, .iov_len = PROTO_REPLY_MAX };
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	/* A daemon at its connection limits queues its refusal and closes: the
	 * send fails (EPIPE), or the close of our unread request shows as one
	 * ECONNRESET before the queued reply. Either way the reply is read. */
	do
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | (send_err ? MSG_DONTWAIT : 0));
	while (n < 0 && (errno == EINTR || (errno == ECONNRESET && ++resets == 1)));
	if (send_err && n <= 0)
		return cerr(c, -send_err, "sending the request to vfctld at %s: %s (and no reply "
			    "was queued; see its log, 'journalctl -u vfctld')", c->path,
			    strerror(send_err));
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
	if (r < 0) {
		json_object_put(o);
		goto fail;
	}
	for (size_t i = 0; i < n_got; i++) {
		if (fds && i < max_fds)
			fds[i] = got[i];
		else
			close(got[i]);
	}
	if (ret_nfds)
		*ret_nfds = n_got < max_fds ? n_got : max_fds;
	c->err[0] = '\0';
	*ret = o;
	return 0;
fail:
	for (size_t i = 0; i < n_got; i++)
		close(got[i]);
	return r;
}

/* ---- the requests' JSON text (the daemon's parser, src/shared/proto.c,
 * is the definition of a valid one; test_proto checks it takes these) ---- */

static int request_text(json_object *o, char **ret)
{
	char *s;

	if (!o)
		return -ENOMEM;
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static json_object *request_new(const char *op)
{
	json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "op", json_object_new_string(op));
	return o;
}

static void add_str(json_object *o, const char *k, const char *v)
{
	if (o && v)
		json_object_object_add(o, k, json_object_new_string(v));
}

int vfctl_client_req_plain(const char *op, char **ret)
{
	return request_text(request_new(op), ret);
}

int vfctl_client_req_alloc(const struct vfctl_alloc_req *req, char **ret)
{
	json_object *o;

	if (!req->pool || !req->pool[0])
		return -EINVAL;
	o = request_new("alloc");
	add_str(o, "pool", req->pool);
	if (o && (req->flags & VFCTL_ALLOC_NUMA))
		json_object_object_add(o, "numa", json_object_new_int(req->numa));
	add_str(o, "pf", req->pf);
	add_str(o, "owner", req->owner);
	if (o && req->pid)
		json_object_object_add(o, "pid", json_object_new_int(req->pid));
	return request_text(o, ret);
}

int vfctl_client_req_release(const char *lease_or_vf, unsigned flags, char **ret)
{
	char addr[VFCTL_ADDR_LEN];
	json_object *o;

	if (!lease_or_vf)
		return -EINVAL;
	if (vfctl_lease_id_valid(lease_or_vf)) {
		o = request_new("release");
		add_str(o, "lease", lease_or_vf);
	} else if (vfctl_addr_parse(lease_or_vf, addr) == 0) {
		o = request_new("release");
		add_str(o, "vf", addr);
	} else {
		return -EINVAL;
	}
	if (o && (flags & VFCTL_RELEASE_FORCE))
		json_object_object_add(o, "force", json_object_new_boolean(true));
	return request_text(o, ret);
}

int vfctl_client_req_open(const char *lease, char **ret)
{
	json_object *o;

	if (!vfctl_lease_id_valid(lease))
		return -EINVAL;
	o = request_new("open");
	add_str(o, "lease", lease);
	return request_text(o, ret);
}

/* ---- typed replies ---- */

static const char *const lease_states[] = {
	[VFCTL_LEASE_UNKNOWN] = "unknown", [VFCTL_LEASE_ALLOCATING] = "allocating",
	[VFCTL_LEASE_ACTIVE] = "active", [VFCTL_LEASE_RELEASING] = "releasing",
	[VFCTL_LEASE_RELEASED] = "released",
};

const char *vfctl_lease_state_str(enum vfctl_lease_state s)
{
	return (unsigned)s < ARRAY_SIZE(lease_states) ? lease_states[s] : "unknown";
}

void vfctl_lease_free(struct vfctl_lease *l)
{
	if (!l)
		return;
	free(l->id);
	free(l->pool);
	free(l->vf);
	free(l->pf);
	free(l->owner);
	free(l->pending);
	free(l);
}

void vfctl_lease_list_free(struct vfctl_lease **v)
{
	for (size_t i = 0; v && v[i]; i++)
		vfctl_lease_free(v[i]);
	free(v);
}

/* A copy of string field k of o: 0 (NULL when absent or null), -EBADMSG
 * when required and absent or not a string, -ENOMEM. */
static int dup_field(json_object *o, const char *k, bool required, char **ret)
{
	const char *v = vfctl_json_str(o, k);

	*ret = NULL;
	if (!v)
		return required ? -EBADMSG : 0;
	*ret = strdup(v);
	return *ret ? 0 : -ENOMEM;
}

static int int_field(json_object *o, const char *k, int64_t lo, int64_t hi, int64_t dflt)
{
	int64_t v;

	return vfctl_json_int(o, k, &v) && v >= lo && v <= hi ? (int)v : (int)dflt;
}

static int lease_parse(json_object *o, struct vfctl_lease **ret)
{
	struct vfctl_lease *l = calloc(1, sizeof(*l));
	const char *state = vfctl_json_str(o, "state");
	int64_t v;
	int r;

	if (!l)
		return -ENOMEM;
	l->size = sizeof(*l);
	if ((r = dup_field(o, "id", true, &l->id)) < 0 ||
	    (r = dup_field(o, "pool", true, &l->pool)) < 0 ||
	    (r = dup_field(o, "vf", true, &l->vf)) < 0 ||
	    (r = dup_field(o, "pf", true, &l->pf)) < 0 ||
	    (r = dup_field(o, "owner", false, &l->owner)) < 0 ||
	    (r = dup_field(o, "pending", false, &l->pending)) < 0)
		goto fail;
	r = -EBADMSG;
	if (!state || !vfctl_json_int(o, "uid", &v) || v < 0 || v > UINT32_MAX)
		goto fail;
	l->uid = (unsigned)v;
	for (size_t i = 1; i < ARRAY_SIZE(lease_states); i++)
		if (!strcmp(state, lease_states[i]))
			l->state = (enum vfctl_lease_state)i;
	l->vf_index = int_field(o, "vf_index", -1, INT32_MAX, -1);
	l->group = int_field(o, "group", 0, INT32_MAX, -1);
	l->pid = int_field(o, "pid", 1, INT32_MAX, 0);
	l->created = vfctl_json_int(o, "created", &v) ? v : 0;
	*ret = l;
	return 0;
fail:
	vfctl_lease_free(l);
	return r;
}

static int bad_reply(struct vfctl_client *c, int r, const char *op)
{
	if (r == -ENOMEM)
		return cerr(c, r, "out of memory");
	return cerr(c, -EBADMSG, "vfctld's %s reply lacks what this libvfctl needs (a newer or "
		    "older daemon?)", op);
}

/* The request's reply's "lease" as a struct. */
static int call_lease(struct vfctl_client *c, const char *op, const char *text,
		      struct vfctl_lease **ret)
{
	json_object *o = NULL, *lo;
	struct vfctl_lease *l = NULL;
	int r = client_call(c, text, &o, NULL, 0, NULL);

	if (r < 0)
		return r;
	r = json_object_object_get_ex(o, "lease", &lo) ? lease_parse(lo, &l) : -EBADMSG;
	json_object_put(o);
	if (r < 0)
		return bad_reply(c, r, op);
	if (ret)
		*ret = l;
	else
		vfctl_lease_free(l);
	return 0;
}

/* Copy a caller's struct of the given size into a zeroed one of ours:
 * -EINVAL when smaller than its first version, -E2BIG when it sets fields
 * past what this library knows. */
static int struct_in(void *dst, size_t ours, const void *src, size_t size, size_t min)
{
	memset(dst, 0, ours);
	if (size < min)
		return -EINVAL;
	for (size_t i = ours; i < size; i++)
		if (((const unsigned char *)src)[i])
			return -E2BIG;
	memcpy(dst, src, size < ours ? size : ours);
	return 0;
}

#define ALLOC_REQ_V1 (offsetof(struct vfctl_alloc_req, pid) + sizeof(int))
#define LEASE_FDS_V1 (offsetof(struct vfctl_lease_fds, device_fd) + sizeof(int))

int vfctl_client_alloc(struct vfctl_client *c, const struct vfctl_alloc_req *req,
		       struct vfctl_lease **ret)
{
	struct vfctl_alloc_req q;
	_cleanup_free_ char *text = NULL;
	int r = struct_in(&q, sizeof(q), req, req ? req->size : 0, ALLOC_REQ_V1);

	if (r < 0)
		return cerr(c, r, "struct vfctl_alloc_req: size %zu, this libvfctl takes %zu to %zu "
			    "(or more, zeroed)", req ? req->size : 0, ALLOC_REQ_V1, sizeof(q));
	r = vfctl_client_req_alloc(&q, &text);
	if (r == -EINVAL)
		return cerr(c, r, "alloc needs a pool");
	if (r < 0)
		return cerr(c, r, "out of memory");
	return call_lease(c, "alloc", text, ret);
}

int vfctl_client_release(struct vfctl_client *c, const char *lease_or_vf, unsigned flags,
			 struct vfctl_lease **ret)
{
	_cleanup_free_ char *text = NULL;
	int r = vfctl_client_req_release(lease_or_vf, flags, &text);

	if (r == -EINVAL)
		return cerr(c, r, "'%s' is neither a lease id (L3) nor a PCI address",
			    lease_or_vf ? lease_or_vf : "");
	if (r < 0)
		return cerr(c, r, "out of memory");
	return call_lease(c, "release", text, ret);
}

/* A plain request whose reply carries an array of leases or pools. */
struct list_kind {
	const char *op, *key;
	/* parse o into element i of the NULL-terminated array v */
	int (*parse_at)(json_object *o, void *v, size_t i);
	void (*free_list)(void *v);
};

static int call_list(struct vfctl_client *c, const struct list_kind *k, void **ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	json_object *o = NULL, *a;
	void *v = NULL;
	size_t n = 0;
	int r = vfctl_client_req_plain(k->op, &text);

	if (r < 0)
		return cerr(c, r, "out of memory");
	r = client_call(c, text, &o, NULL, 0, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(o, k->key, &a) || !json_object_is_type(a, json_type_array))
		r = -EBADMSG;
	if (r == 0) {
		n = json_object_array_length(a);
		v = calloc(n + 1, sizeof(void *));
		r = v ? 0 : -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = k->parse_at(json_object_array_get_idx(a, i), v, i);
	json_object_put(o);
	if (r < 0) {
		k->free_list(v);
		return bad_reply(c, r, k->op);
	}
	*ret = v;
	if (ret_n)
		*ret_n = n;
	return 0;
}

static int lease_parse_at(json_object *o, void *v, size_t i)
{
	return lease_parse(o, &((struct vfctl_lease **)v)[i]);
}

static void lease_list_free(void *v)
{
	vfctl_lease_list_free(v);
}

int vfctl_client_leases(struct vfctl_client *c, struct vfctl_lease ***ret, size_t *ret_n)
{
	static const struct list_kind kind = { "leases", "leases", lease_parse_at,
					       lease_list_free };
	void *v;
	int r = call_list(c, &kind, &v, ret_n);

	if (r == 0)
		*ret = v;
	return r;
}

static void pool_free(struct vfctl_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_vfs; i++) {
		struct vfctl_pool_vf *vf = p->vfs[i];

		if (!vf)
			continue;
		free(vf->address);
		free(vf->driver);
		free(vf->lease);
		free(vf);
	}
	free(p->vfs);
	free(p->name);
	free(p->pf);
	free(p->error);
	free(p);
}

void vfctl_pool_list_free(struct vfctl_pool **v)
{
	for (size_t i = 0; v && v[i]; i++)
		pool_free(v[i]);
	free(v);
}

static int pool_vf_parse(json_object *o, struct vfctl_pool_vf **ret)
{
	struct vfctl_pool_vf *vf = calloc(1, sizeof(*vf));
	int64_t v;
	int r;

	if (!vf)
		return -ENOMEM;
	vf->size = sizeof(*vf);
	*ret = vf;	/* freed with its pool */
	if (!vfctl_json_int(o, "index", &v) || v < 0 || v > UINT16_MAX)
		return -EBADMSG;
	vf->index = (unsigned)v;
	vf->numa_node = int_field(o, "numa_node", 0, INT32_MAX, -1);
	if ((r = dup_field(o, "address", false, &vf->address)) < 0 ||
	    (r = dup_field(o, "driver", false, &vf->driver)) < 0 ||
	    (r = dup_field(o, "lease", false, &vf->lease)) < 0)
		return r;
	return 0;
}

static int pool_parse(json_object *o, struct vfctl_pool **ret)
{
	struct vfctl_pool *p = calloc(1, sizeof(*p));
	json_object *a, *b;
	int r;

	if (!p)
		return -ENOMEM;
	p->size = sizeof(*p);
	*ret = p;	/* freed with the list */
	if ((r = dup_field(o, "name", true, &p->name)) < 0 ||
	    (r = dup_field(o, "pf", false, &p->pf)) < 0 ||
	    (r = dup_field(o, "error", false, &p->error)) < 0)
		return r;
	p->allowed = json_object_object_get_ex(o, "allowed", &b) && json_object_get_boolean(b);
	p->n_free = (unsigned)int_field(o, "free", 0, INT32_MAX, 0);
	if (!json_object_object_get_ex(o, "vfs", &a) || !json_object_is_type(a, json_type_array))
		return -EBADMSG;
	p->vfs = calloc(json_object_array_length(a) + 1, sizeof(*p->vfs));
	if (!p->vfs)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		p->n_vfs++;
		r = pool_vf_parse(json_object_array_get_idx(a, i), &p->vfs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int pool_parse_at(json_object *o, void *v, size_t i)
{
	return pool_parse(o, &((struct vfctl_pool **)v)[i]);
}

static void pool_list_free(void *v)
{
	vfctl_pool_list_free(v);
}

int vfctl_client_pools(struct vfctl_client *c, struct vfctl_pool ***ret, size_t *ret_n)
{
	/* the daemon's request for the pools is "list" */
	static const struct list_kind kind = { "list", "pools", pool_parse_at, pool_list_free };
	void *v;
	int r = call_list(c, &kind, &v, ret_n);

	if (r == 0)
		*ret = v;
	return r;
}

/* The fd fields of struct vfctl_lease_fds, for closing them in any size. */
static const size_t lease_fd_fields[] = {
	offsetof(struct vfctl_lease_fds, container_fd), offsetof(struct vfctl_lease_fds, group_fd),
	offsetof(struct vfctl_lease_fds, iommufd), offsetof(struct vfctl_lease_fds, device_fd),
};

void vfctl_lease_fds_drop(struct vfctl_lease_fds *l, size_t len, bool close_them)
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

void vfctl_lease_fds_hand_out(struct vfctl_lease_fds *ret, struct vfctl_lease_fds *l)
{
	vfctl_sized_out(ret, l, sizeof(*l));
	vfctl_lease_fds_drop(l, vfctl_sized_len(ret), false);
	vfctl_lease_fds_drop(l, sizeof(*l), true);
}

void vfctl_lease_fds_close(struct vfctl_lease_fds *l)
{
	vfctl_lease_fds_drop(l, vfctl_sized_len(l), true);
}

int vfctl_client_open_lease(struct vfctl_client *c, const char *lease,
			    struct vfctl_lease_fds *ret)
{
	struct vfctl_lease_fds l = { .size = sizeof(l), .container_fd = -1, .group_fd = -1,
				     .iommufd = -1, .device_fd = -1, .group = -1 };
	_cleanup_free_ char *text = NULL;
	int fds[PROTO_MAX_FDS];
	json_object *o = NULL, *names, *v;
	size_t n = 0, size = ret ? ret->size : 0;
	int r;

	if (size < LEASE_FDS_V1)
		return cerr(c, -EINVAL, "struct vfctl_lease_fds: size %zu, at least %zu expected "
			    "(set .size = sizeof(struct vfctl_lease_fds))", size, LEASE_FDS_V1);
	r = vfctl_client_req_open(lease, &text);
	if (r == -EINVAL)
		return cerr(c, -EINVAL, "'%s' is not a lease id (L1, L2, ...; 'vfctl leases' lists "
			    "them)", lease ? lease : "");
	if (r < 0)
		return cerr(c, r, "out of memory");
	r = client_call(c, text, &o, fds, ARRAY_SIZE(fds), &n);
	if (r < 0)
		return r;
	/* "fds" names what each received descriptor is, in order */
	if (!json_object_object_get_ex(o, "fds", &names) ||
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
	vfctl_lease_fds_hand_out(ret, &l);
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	vfctl_lease_fds_close(&l);
	json_object_put(o);
	return r;
}
