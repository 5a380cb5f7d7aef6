// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Requests of the vfctld protocol: strict JSON (json-c) in valid UTF-8, one
 * object, known keys only and each once, each with its type and range
 * checked here so the daemon gets nothing it has to doubt. Every refusal
 * says which key and why, in valid UTF-8 whatever the request held.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "basic.h"
#include "proto.h"

static const char *const op_names[] = {
	[PROTO_LIST] = "list", [PROTO_ALLOC] = "alloc", [PROTO_RELEASE] = "release",
	[PROTO_LEASES] = "leases", [PROTO_OPEN] = "open",
};

const char *proto_op_name(enum proto_op op)
{
	return (unsigned)op < ARRAY_SIZE(op_names) ? op_names[op] : "?";
}


static int fail(char *err, size_t len, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(char *err, size_t len, int r, const char *fmt, ...)
{
	va_list ap;

	if (len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
		/* what a client sent is echoed, maybe cut mid-character (%.64s) */
		vfctl_utf8_sanitize(err);
	}
	return r;
}

/* A tag or pool name: printable ASCII, no control characters (they end up
 * in logs and terminals). */
static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static int get_string(json_object *v, const char *key, char *out, size_t size, char *err,
		      size_t errlen)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, -EINVAL, "\"%s\": expected a string", key);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return fail(err, errlen, -EINVAL, "\"%s\": a NUL character in the string", key);
	if (strlen(s) >= size)
		return fail(err, errlen, -EINVAL, "\"%s\": longer than %zu characters", key,
			    size - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int get_int(json_object *v, const char *key, int64_t lo, int64_t hi, int64_t *ret,
		   char *err, size_t errlen)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return fail(err, errlen, -EINVAL, "\"%s\": expected an integer", key);
	errno = 0;
	n = json_object_get_int64(v);
	/* json-c clamps out-of-range numbers to INT64_MIN/MAX and says so in errno */
	if (errno || n < lo || n > hi)
		return fail(err, errlen, -EINVAL, "\"%s\": out of range (%lld to %lld)", key,
			    (long long)lo, (long long)hi);
	*ret = n;
	return 0;
}

/* Which keys each op takes besides "op". */
static const char *const op_keys[][7] = {
	[PROTO_LIST] = { NULL },
	[PROTO_ALLOC] = { "pool", "numa", "pf", "owner", "pid", "ttl", NULL },
	[PROTO_RELEASE] = { "lease", "vf", "force", NULL },
	[PROTO_LEASES] = { NULL },
	[PROTO_OPEN] = { "lease", NULL },
};

static bool key_allowed(enum proto_op op, const char *k)
{
	for (const char *const *p = op_keys[op]; *p; p++)
		if (!strcmp(*p, k))
			return true;
	return false;
}

static int parse_fields(json_object *o, struct proto_request *req, char *err, size_t errlen)
{
	json_object_object_foreach(o, key, v) {
		int64_t n;
		int r = 0;

		if (!strcmp(key, "op"))
			continue;
		if (!key_allowed(req->op, key))
			return fail(err, errlen, -EINVAL, "\"%.64s\": not a key of %s requests", key,
				    proto_op_name(req->op));
		if (!strcmp(key, "pool")) {
			r = get_string(v, key, req->pool, sizeof(req->pool), err, errlen);
			if (r == 0 && !name_ok(req->pool, PROTO_NAME_MAX))
				r = fail(err, errlen, -EINVAL, "\"pool\": empty or not printable");
		} else if (!strcmp(key, "owner")) {
			r = get_string(v, key, req->owner, sizeof(req->owner), err, errlen);
			if (r == 0 && !name_ok(req->owner, PROTO_NAME_MAX))
				r = fail(err, errlen, -EINVAL, "\"owner\": empty or not printable");
		} else if (!strcmp(key, "pf")) {
			char addr[VFCTL_ADDR_LEN];

			r = get_string(v, key, req->pf, sizeof(req->pf), err, errlen);
			if (r == 0 && vfctl_addr_parse(req->pf, addr) < 0 &&
			    !vfctl_ifname_valid(req->pf))
				r = fail(err, errlen, -EINVAL, "\"pf\": '%s' is neither a PCI address "
					 "nor a network interface name", req->pf);
		} else if (!strcmp(key, "vf")) {
			char s[32];

			r = get_string(v, key, s, sizeof(s), err, errlen);
			if (r == 0 && vfctl_addr_parse(s, req->vf) < 0)
				r = fail(err, errlen, -EINVAL, "\"vf\": '%s' is not a PCI address", s);
		} else if (!strcmp(key, "lease")) {
			r = get_string(v, key, req->lease, sizeof(req->lease), err, errlen);
			if (r == 0 && !vfctl_lease_id_valid(req->lease))
				r = fail(err, errlen, -EINVAL, "\"lease\": '%s' is not a lease id "
					 "(L1, L2, ...)", req->lease);
		} else if (!strcmp(key, "numa")) {
			r = get_int(v, key, 0, 1023, &n, err, errlen);
			if (r == 0)
				req->numa = (int)n;
		} else if (!strcmp(key, "pid")) {
			r = get_int(v, key, 1, 4194304, &n, err, errlen);
			if (r == 0)
				req->pid = (int)n;
		} else if (!strcmp(key, "ttl")) {
			r = get_int(v, key, 1, PROTO_TTL_MAX, &n, err, errlen);
			if (r == 0)
				req->ttl = (unsigned)n;
		} else if (!strcmp(key, "force")) {
			if (!json_object_is_type(v, json_type_boolean))
				r = fail(err, errlen, -EINVAL, "\"force\": expected true or false");
			else
				req->force = json_object_get_boolean(v);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* One top-level key, the raw n bytes of its JSON string at raw, decoded by
 * json-c as the parse did: refused when it holds a NUL (json-c would cut
 * it there) or was seen before. */
static int key_once(json_object *seen, const char *raw, size_t n, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *k = tok ? json_tokener_parse_ex(tok, raw, (int)n) : NULL;
	const char *s;
	int r = 0;

	json_tokener_free(tok);
	if (!k || !json_object_is_type(k, json_type_string)) {
		json_object_put(k);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	s = json_object_get_string(k);
	if ((size_t)json_object_get_string_len(k) != strlen(s))
		r = fail(err, errlen, -EINVAL, "a NUL character (\\u0000) in a key");
	else if (json_object_object_get_ex(seen, s, NULL))
		r = fail(err, errlen, -EINVAL, "\"%.64s\": given twice; give each key once", s);
	else if (json_object_object_add(seen, s, NULL) < 0)
		r = fail(err, errlen, -ENOMEM, "out of memory");
	json_object_put(k);
	return r;
}

/* json-c keeps the last of duplicate keys without a word (so
 * {"op":"list","op":"alloc",...} would alloc) and cuts a key at an escaped
 * NUL: walk the keys of the top-level object again in the text (json-c
 * took it, so it is valid JSON and an object) and refuse both. Nested
 * values are refused later, whatever their keys. */
static int check_keys(const char *buf, size_t len, char *err, size_t errlen)
{
	json_object *seen = json_object_new_object();
	bool want_key = false;
	int depth = 0, r = 0;

	if (!seen)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < len && r == 0; i++) {
		switch (buf[i]) {
		case '{':
		case '[':
			want_key = ++depth == 1;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ',':
			want_key = depth == 1;
			break;
		case '"': {
			size_t start = i;

			for (i++; i < len && buf[i] != '"'; i++)
				if (buf[i] == '\\')
					i++;
			if (depth == 1 && want_key) {
				want_key = false;
				r = key_once(seen, buf + start, i + 1 - start, err, errlen);
			}
			break;
		}
		}
	}
	json_object_put(seen);
	return r;
}

int proto_request_parse(const char *buf, size_t len, struct proto_request *ret, char *err,
			size_t errlen)
{
	struct proto_request req = { .numa = -1 };
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *o, *v;
	size_t end;
	int r;

	if (len > PROTO_REQ_MAX)
		return fail(err, errlen, -EMSGSIZE, "request of %zu bytes, more than %d", len,
			    PROTO_REQ_MAX);
	if (len == 0)
		return fail(err, errlen, -EBADMSG, "empty request: expected a JSON object");
	if (memchr(buf, 0, len))
		return fail(err, errlen, -EBADMSG, "a NUL byte in the request: not JSON text");
	tok = json_tokener_new_ex(16);	/* requests are flat: deep nesting is an attack */
	if (!tok)
		return fail(err, errlen, -ENOMEM, "out of memory");
	/* replies echo parts of a request: only valid UTF-8 gets that far */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* a bare literal (null, 12) ends only at the end of input: say so */
		o = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) == json_tokener_success)
			jerr = json_tokener_success;
		else
			o = NULL;
	}
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		r = fail(err, errlen, -EBADMSG, "truncated request: the JSON ends after %zu bytes",
			 len);
		goto out;
	}
	if (jerr != json_tokener_success) {
		r = fail(err, errlen, -EBADMSG, "not valid JSON at byte %zu: %s", end,
			 json_tokener_error_desc(jerr));
		goto out;
	}
	/* buf is not NUL-terminated: no str*() past len */
	while (end < len && strchr(" \t\r\n", buf[end]) && buf[end])
		end++;
	if (end < len) {
		r = fail(err, errlen, -EBADMSG, "text after the JSON object at byte %zu", end);
		goto out;
	}
	if (!o || !json_object_is_type(o, json_type_object)) {
		r = fail(err, errlen, -EINVAL, "expected a JSON object with \"op\"");
		goto out;
	}
	r = check_keys(buf, len, err, errlen);
	if (r < 0)
		goto out;
	if (!json_object_object_get_ex(o, "op", &v) || !json_object_is_type(v, json_type_string)) {
		r = fail(err, errlen, -EINVAL, "\"op\" missing or not a string (list, alloc, "
			 "release, leases, open)");
		goto out;
	}
	r = -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(op_names); i++)
		if (!strcmp(json_object_get_string(v), op_names[i])) {
			req.op = (enum proto_op)i;
			r = 0;
		}
	if (r < 0) {
		fail(err, errlen, r, "\"op\": unknown request '%.32s' (list, alloc, release, "
		     "leases, open)", json_object_get_string(v));
		goto out;
	}
	r = parse_fields(o, &req, err, errlen);
	if (r < 0)
		goto out;
	if (req.op == PROTO_ALLOC && !req.pool[0])
		r = fail(err, errlen, -EINVAL, "alloc needs \"pool\"");
	else if (req.op == PROTO_OPEN && !req.lease[0])
		r = fail(err, errlen, -EINVAL, "open needs \"lease\"");
	else if (req.op == PROTO_RELEASE && !req.lease[0] == !req.vf[0])
		r = fail(err, errlen, -EINVAL, "release needs exactly one of \"lease\" and \"vf\"");
	if (r == 0)
		*ret = req;
out:
	json_object_put(o);
	return r;
}
