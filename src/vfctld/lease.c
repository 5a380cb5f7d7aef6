// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lease store: every lease in RUN_DIR/leases.json, the whole file
 * rewritten on each change (temp file, fsync, rename, fsync of the
 * directory), so a crash at any point leaves the old list or the new one.
 * A file that is not ours is refused, never overwritten: forgetting leases
 * would grant a VF twice. A lease as JSON, for the file and the wire, is
 * here too (lease_to_json).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <json-c/json.h>

#include "vfctld.h"

#define LEASES_FILE "leases.json"
#define LEASES_MAX_SIZE (4 * 1024 * 1024)

static const char *const state_names[] = {
	[LEASE_ALLOCATING] = "allocating", [LEASE_ACTIVE] = "active",
	[LEASE_RELEASING] = "releasing",
};

const char *lease_state_name(enum lease_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

unsigned long long proc_start_time(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and ')': fields resume after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			 "%*d %*d %*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

struct lease *lease_store_find(const struct lease_store *st, const char *id)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->v[i]->id, id))
			return st->v[i];
	return NULL;
}

struct lease *lease_store_find_vf(const struct lease_store *st, const char *vf)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->v[i]->vf, vf))
			return st->v[i];
	return NULL;
}

static struct lease *lease_new(void)
{
	struct lease *l = calloc(1, sizeof(*l));

	if (l) {
		l->pidfd = -1;
		l->group = -1;
		l->vf_index = -1;
	}
	return l;
}

static int store_push(struct lease_store *st, struct lease *l)
{
	struct lease **v = realloc(st->v, (st->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	st->v = v;
	st->v[st->n++] = l;
	return 0;
}

int lease_store_add(struct lease_store *st, struct lease **ret)
{
	struct lease *l;

	/* the counter stops at its end: never wraps to L0 or an id in use */
	if (st->next < 1 || st->next > LEASE_ID_MAX)
		return -EOVERFLOW;
	l = lease_new();
	if (!l || store_push(st, l) < 0) {
		free(l);
		return -ENOMEM;
	}
	snprintf(l->id, sizeof(l->id), "L%llu", (unsigned long long)st->next++);
	l->state = LEASE_ALLOCATING;
	*ret = l;
	return 0;
}

void lease_unwatch(struct lease *l)
{
	l->pid_src = sd_event_source_disable_unref(l->pid_src);
	if (l->pidfd >= 0)
		close(l->pidfd);
	l->pidfd = -1;
}

static void lease_free(struct lease *l)
{
	if (!l)
		return;
	lease_unwatch(l);
	free(l->file_text);
	free(l->file_snap);
	free(l);
}

void lease_store_remove(struct lease_store *st, struct lease *l)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->v[i] == l) {
			memmove(&st->v[i], &st->v[i + 1], (st->n - i - 1) * sizeof(*st->v));
			st->n--;
			break;
		}
	lease_free(l);
}

void lease_store_close(struct lease_store *st)
{
	for (size_t i = 0; i < st->n; i++)
		lease_free(st->v[i]);
	free(st->v);
	free(st->dir);
	if (st->dfd >= 0)
		close(st->dfd);
	*st = (struct lease_store){ .dfd = -1 };
}

json_object *lease_to_json(const struct lease *l, enum lease_json how)
{
	json_object *o = json_object_new_object();
	bool file = how == LEASE_JSON_FILE;

	json_object_object_add(o, "id", json_object_new_string(l->id));
	json_object_object_add(o, "state", json_object_new_string(lease_state_name(l->state)));
	json_object_object_add(o, "pool", json_object_new_string(l->pool));
	json_object_object_add(o, "vf", json_object_new_string(l->vf));
	json_object_object_add(o, "pf", json_object_new_string(l->pf));
	json_object_object_add(o, "vf_index", json_object_new_int(l->vf_index));
	json_object_object_add(o, "group", file || l->group >= 0 ? json_object_new_int(l->group) :
			       NULL);
	json_object_object_add(o, "uid", json_object_new_int64(l->uid));
	json_object_object_add(o, "owner", l->owner[0] ? json_object_new_string(l->owner) : NULL);
	json_object_object_add(o, "pid", l->pid ? json_object_new_int(l->pid) : NULL);
	if (file)
		json_object_object_add(o, "pid_start", json_object_new_uint64(l->pid_start));
	json_object_object_add(o, "created", json_object_new_int64(l->created));
	json_object_object_add(o, "ttl", l->ttl ? json_object_new_int64(l->ttl) : NULL);
	json_object_object_add(o, "expires", l->expires ? json_object_new_int64(l->expires) : NULL);
	if (file) {
		json_object_object_add(o, "bound", json_object_new_boolean(l->bound));
		json_object_object_add(o, "device_id", l->device_id[0] ?
				       json_object_new_string(l->device_id) : NULL);
	}
	else
		json_object_object_add(o, "pending", l->pending[0] ?
				       json_object_new_string(l->pending) : NULL);
	return o;
}

/* l's record in the file: serialized again only when a persisted field
 * changed since the last save, so a save with many leases copies their
 * records instead of building a json-c object of each (issue 13). NULL:
 * out of memory. */
static const char *lease_file_text(struct lease *l)
{
	json_object *o;
	char *text;

	if (l->file_text && !memcmp(l, l->file_snap, LEASE_PERSISTED_SIZE))
		return l->file_text;
	if (!l->file_snap) {
		l->file_snap = malloc(LEASE_PERSISTED_SIZE);
		if (!l->file_snap)
			return NULL;
	}
	o = lease_to_json(l, LEASE_JSON_FILE);
	text = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE)) : NULL;
	json_object_put(o);
	if (!text)
		return NULL;
	free(l->file_text);
	l->file_text = text;
	memcpy(l->file_snap, l, LEASE_PERSISTED_SIZE);
	return text;
}

int lease_store_save(struct vfctl_ctx *ctx, struct lease_store *st)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 64, off;
	int r;

	for (size_t i = 0; i < st->n; i++) {
		const char *t = lease_file_text(st->v[i]);

		if (!t)
			return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		len += strlen(t) + 2;
	}
	buf = malloc(len);
	if (!buf)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	/* one lease a line: what a reader greps, what jq reads */
	off = (size_t)snprintf(buf, len, "{\"version\":1,\"next\":%llu,\"leases\":[",
			       (unsigned long long)st->next);
	for (size_t i = 0; i < st->n; i++) {
		size_t n = strlen(st->v[i]->file_text);

		buf[off++] = '\n';
		memcpy(buf + off, st->v[i]->file_text, n);
		off += n;
		if (i + 1 < st->n)
			buf[off++] = ',';
	}
	snprintf(buf + off, len - off, "%s]}", st->n ? "\n" : "");
	r = vfctl_file_write_atomic(st->dfd, LEASES_FILE, buf);
	if (r < 0)
		r = vfctl_ctx_set_error(ctx, r, "saving the leases to %s/%s: %s; free space or fix "
			      "permissions there (the change is not made)", st->dir, LEASES_FILE,
			      strerror(-r));
	return r;
}

/* The number of a lease id vfctld hands out (L1 .. L<LEASE_ID_MAX>), 0 for
 * any other. */
static uint64_t lease_id_number(const char *id)
{
	unsigned long long n;
	char *end;

	if (!vfctl_lease_id_valid(id))
		return 0;
	errno = 0;
	n = strtoull(id + 1, &end, 10);
	return errno || *end || n > LEASE_ID_MAX ? 0 : n;
}

/* "L" and digits, but not an id vfctld hands out: L0, a leading zero, past
 * the counter's end (what a counter that wrapped left behind). */
static bool lease_id_stray(const char *id)
{
	return id && id[0] == 'L' && id[1] && strspn(id + 1, "0123456789") == strlen(id + 1) &&
	       strlen(id) < PROTO_LEASE_MAX && !lease_id_number(id);
}

/* One lease record; false when it is not one we wrote. A stray id (see
 * above) is kept as it is: the caller gives the lease a new one. */
static bool lease_from_json(json_object *o, struct lease *l)
{
	const char *id = vfctl_json_str(o, "id"), *state = vfctl_json_str(o, "state"),
		   *pool = vfctl_json_str(o, "pool"), *vf = vfctl_json_str(o, "vf"), *pf = vfctl_json_str(o, "pf"),
		   *owner = vfctl_json_str(o, "owner"), *dev = vfctl_json_str(o, "device_id");
	json_object *b;
	int64_t n;
	int s = -1;

	if (!id || (!lease_id_number(id) && !lease_id_stray(id)) || !state || !pool ||
	    strlen(pool) > PROTO_NAME_MAX ||
	    !vf || vfctl_addr_parse(vf, l->vf) < 0 || !pf || vfctl_addr_parse(pf, l->pf) < 0 ||
	    (owner && strlen(owner) > PROTO_NAME_MAX) ||
	    (dev && (strlen(dev) != 9 || dev[4] != ':' || strspn(dev, "0123456789abcdef:") != 9)))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(state_names); i++)
		if (!strcmp(state, state_names[i]))
			s = (int)i;
	if (s < 0)
		return false;
	l->state = (enum lease_state)s;
	snprintf(l->id, sizeof(l->id), "%s", id);
	snprintf(l->pool, sizeof(l->pool), "%s", pool);
	snprintf(l->owner, sizeof(l->owner), "%s", owner ? owner : "");
	if (!vfctl_json_int(o, "uid", &n) || n < 0 || n > UINT32_MAX)
		return false;
	l->uid = (unsigned)n;
	l->vf_index = vfctl_json_int(o, "vf_index", &n) && n >= 0 && n < 65536 ? (int)n : -1;
	l->group = vfctl_json_int(o, "group", &n) && n >= 0 && n < INT32_MAX ? (int)n : -1;
	l->pid = vfctl_json_int(o, "pid", &n) && n > 0 && n <= 4194304 ? (int)n : 0;
	l->pid_start = vfctl_json_int(o, "pid_start", &n) && n > 0 ? (unsigned long long)n : 0;
	l->created = vfctl_json_int(o, "created", &n) ? n : 0;
	l->bound = json_object_object_get_ex(o, "bound", &b) && json_object_get_boolean(b);
	/* files of older vfctlds have neither: the identity is filled from
	 * sysfs at reconcile, and such leases never expire */
	snprintf(l->device_id, sizeof(l->device_id), "%s", dev ? dev : "");
	l->ttl = vfctl_json_int(o, "ttl", &n) && n > 0 && n <= PROTO_TTL_MAX ? (unsigned)n : 0;
	if (l->ttl)
		l->expires = vfctl_json_int(o, "expires", &n) && n > 0 ? n : l->created + l->ttl;
	return true;
}

/* A lease with a stray id (L0, past the counter's end) would stop every
 * start, and no client can name it: it keeps its VF (forgetting it would
 * grant that VF twice) under a new id, logged, and the list is saved. */
static int lease_store_renumber(struct vfctl_ctx *ctx, struct lease_store *st)
{
	bool changed = false;

	for (size_t i = 0; i < st->n; i++) {
		struct lease *l = st->v[i];
		char old[sizeof(l->id)];

		if (lease_id_number(l->id))
			continue;
		if (st->next < 1 || st->next > LEASE_ID_MAX)
			return vfctl_ctx_set_error(ctx, -EOVERFLOW, "%s/%s: leases[%zu] has id %s, "
						   "not one vfctld hands out, and no id is left to "
						   "give it (ids end at L%llu); refusing to start: "
						   "release leases and lower \"next\"", st->dir,
						   LEASES_FILE, i, l->id, (unsigned long long)LEASE_ID_MAX);
		snprintf(old, sizeof(old), "%s", l->id);
		snprintf(l->id, sizeof(l->id), "L%llu", (unsigned long long)st->next++);
		log_msg(LOG_WARNING, "%s/%s: leases[%zu] has id %s, not one vfctld hands out (ids "
			"are L1 to L%llu): kept as %s so its VF %s (uid %u) is not granted twice",
			st->dir, LEASES_FILE, i, old, (unsigned long long)LEASE_ID_MAX, l->id, l->vf,
			l->uid);
		changed = true;
	}
	return changed ? lease_store_save(ctx, st) : 0;
}

int lease_store_open(struct vfctl_ctx *ctx, struct lease_store *st)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	json_object *o = NULL, *a;
	struct stat sb;
	int64_t next;
	ssize_t n;
	size_t len = 0;
	int r;

	*st = (struct lease_store){ .dfd = -1, .next = 1 };
	r = vfctl_run_dir_open(ctx, ".", &st->dfd);
	if (r < 0)
		return r;
	st->dir = strdup(vfctl_run_dir_path(ctx));
	if (!st->dir)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	fd = openat(st->dfd, LEASES_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;	/* first start: no leases */
	if (fd < 0 || fstat(fd, &sb) < 0)
		return vfctl_ctx_set_error(ctx, -errno, "%s/%s: %s", st->dir, LEASES_FILE, strerror(errno));
	if (sb.st_size > LEASES_MAX_SIZE)
		return vfctl_ctx_set_error(ctx, -EFBIG, "%s/%s: %lld bytes, more than a lease list can be; "
				 "not ours? move it away", st->dir, LEASES_FILE,
				 (long long)sb.st_size);
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	while (len < (size_t)sb.st_size && (n = read(fd, buf + len, (size_t)sb.st_size - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	o = json_tokener_parse(buf);
	if (!o || !json_object_object_get_ex(o, "leases", &a) ||
	    !json_object_is_type(a, json_type_array) || !vfctl_json_int(o, "next", &next) || next < 1) {
		r = vfctl_ctx_set_error(ctx, -EBADMSG, "%s/%s: not a lease list vfctld wrote; refusing to "
			      "start rather than forget leases: fix or move it away (leases in it "
			      "are lost then: check 'vfctl list' for VFs left on vfio-pci)", st->dir,
			      LEASES_FILE);
		goto out;
	}
	st->next = (uint64_t)next;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct lease *l = lease_new();

		if (!l) {
			r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
			goto out;
		}
		if (!lease_from_json(json_object_array_get_idx(a, i), l) ||
		    (lease_id_number(l->id) && lease_store_find(st, l->id)) ||
		    lease_store_find_vf(st, l->vf)) {
			r = vfctl_ctx_set_error(ctx, -EBADMSG, "%s/%s: leases[%zu] is not a valid lease (or "
				      "repeats an id or VF); refusing to start: fix or remove that "
				      "entry", st->dir, LEASES_FILE, i);
			free(l);
			goto out;
		}
		if (store_push(st, l) < 0) {
			free(l);
			r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
			goto out;
		}
		/* ids are never reused, even if "next" was edited back */
		if (lease_id_number(l->id) >= st->next)
			st->next = lease_id_number(l->id) + 1;
	}
	r = lease_store_renumber(ctx, st);
out:
	json_object_put(o);
	return r;
}
