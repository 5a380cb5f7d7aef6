// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The declarative config (vfctl.conf(5)): JSON read with json-c, checked
 * whole before anything uses it. Syntax errors name FILE:LINE:COL; every
 * other error names the JSON path ("pfs[0].vfs[2].vlan") and the reason.
 * What needs the host (which PF a match means) is vfctl_config_resolve().
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "basic.h"
#include "config.h"
#include "wire.h"

#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8
#define BIT(a) (1u << (a))
#define CONF_MAX (1 << 20)	/* a config larger than 1 MiB is a mistake */

static const char *type_name(json_object *o)
{
	return o ? json_type_to_name(json_object_get_type(o)) : "null";
}

/* "FILE: PATH: reason" */
static int perr(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		const char *fmt, ...) _printf_(4, 5);
static int perr(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vfctl_ctx_set_error(ctx, -EINVAL, "%s: %s: %s", cfg->file, path, msg);
}

static int want_type(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		     json_object *v, json_type t, const char *what)
{
	if (!json_object_is_type(v, t) || (t != json_type_null && !v))
		return perr(ctx, cfg, path, "expected %s, got %s", what, type_name(v));
	return 0;
}

/* o must be an object whose every key is one of keys[] (allowed names them). */
static int want_object(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		       json_object *o, const char *const *keys, const char *allowed)
{
	int r = want_type(ctx, cfg, path, o, json_type_object, "an object");

	if (r < 0)
		return r;
	json_object_object_foreach(o, k, v) {
		bool ok = false;

		(void)v;
		for (size_t i = 0; keys[i]; i++)
			ok |= !strcmp(k, keys[i]);
		if (!ok)
			return perr(ctx, cfg, path, "unknown key '%s'; expected %s", k, allowed);
	}
	return 0;
}

static int get_uint(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		    json_object *v, uint64_t max, uint32_t *ret)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return perr(ctx, cfg, path, "expected a whole number 0-%llu, got %s",
			    (unsigned long long)max, type_name(v));
	n = json_object_get_int64(v);
	if (n < 0 || (uint64_t)n > max ||
	    (n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX))
		return perr(ctx, cfg, path, "%s: out of range; expected 0-%llu",
			    json_object_to_json_string(v), (unsigned long long)max);
	*ret = (uint32_t)n;
	return 0;
}

static int get_bool(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		    json_object *v, bool *ret)
{
	int r = want_type(ctx, cfg, path, v, json_type_boolean, "true or false");

	if (r == 0)
		*ret = json_object_get_boolean(v);
	return r;
}

/* Paths are short; a truncated one still names the place. */
static void path_key(char *buf, size_t len, const char *base, const char *key)
{
	if (snprintf(buf, len, "%s.%s", base, key) >= (int)len)
		buf[len - 1] = 0;
}

static void path_idx(char *buf, size_t len, const char *base, size_t i)
{
	if (snprintf(buf, len, "%s[%zu]", base, i) >= (int)len)
		buf[len - 1] = 0;
}

static const char *const vf_keys[] = {
	"index", "mac", "vlan", "qos", "vlan_proto", "spoofchk", "trust", "min_tx_rate",
	"max_tx_rate", "link_state", "query_rss", "driver", NULL
};
#define VF_KEYS "mac, vlan, qos, vlan_proto, spoofchk, trust, min_tx_rate, max_tx_rate, " \
	"link_state, query_rss, driver"

/* VF settings keys of o on top of *s (and *driver): defaults or one VF. */
static int parse_settings(struct vfctl_ctx *ctx, const struct vfctl_config *cfg,
			  const char *path, json_object *o, bool with_index,
			  struct vfctl_vf_settings *s, char **driver)
{
	char p[256];
	int r;

	r = want_object(ctx, cfg, path, o, with_index ? vf_keys : vf_keys + 1,
			with_index ? "index, " VF_KEYS : VF_KEYS);
	if (r < 0)
		return r;
	json_object_object_foreach(o, k, v) {
		path_key(p, sizeof(p), path, k);
		if (!strcmp(k, "index")) {
			continue;
		} else if (!strcmp(k, "mac")) {
			const char *m;

			r = want_type(ctx, cfg, p, v, json_type_string, "a MAC address string");
			if (r < 0)
				return r;
			m = json_object_get_string(v);
			if (vfctl_vf_parse_mac(m, s->mac) < 0)
				return perr(ctx, cfg, p, "'%s': not a MAC address; expected six hex "
					    "bytes as xx:xx:xx:xx:xx:xx", m);
			s->mask |= BIT(VFCTL_VF_MAC);
		} else if (!strcmp(k, "vlan")) {
			r = get_uint(ctx, cfg, p, v, 4095, &s->vlan);
			s->mask |= BIT(VFCTL_VF_VLAN);
		} else if (!strcmp(k, "qos")) {
			r = get_uint(ctx, cfg, p, v, 7, &s->qos);
		} else if (!strcmp(k, "vlan_proto")) {
			const char *pr;

			r = want_type(ctx, cfg, p, v, json_type_string, "\"802.1Q\" or \"802.1ad\"");
			if (r < 0)
				return r;
			pr = json_object_get_string(v);
			if (vfctl_vf_parse_vlan_proto(pr, &s->vlan_proto) < 0)
				return perr(ctx, cfg, p, "'%s': expected \"802.1Q\" or \"802.1ad\"", pr);
		} else if (!strcmp(k, "spoofchk")) {
			r = get_bool(ctx, cfg, p, v, &s->spoofchk);
			s->mask |= BIT(VFCTL_VF_SPOOFCHK);
		} else if (!strcmp(k, "trust")) {
			r = get_bool(ctx, cfg, p, v, &s->trust);
			s->mask |= BIT(VFCTL_VF_TRUST);
		} else if (!strcmp(k, "query_rss")) {
			r = get_bool(ctx, cfg, p, v, &s->query_rss);
			s->mask |= BIT(VFCTL_VF_QUERY_RSS);
		} else if (!strcmp(k, "min_tx_rate")) {
			r = get_uint(ctx, cfg, p, v, INT32_MAX, &s->min_tx_rate);
			s->mask |= BIT(VFCTL_VF_MIN_TX_RATE);
		} else if (!strcmp(k, "max_tx_rate")) {
			r = get_uint(ctx, cfg, p, v, INT32_MAX, &s->max_tx_rate);
			s->mask |= BIT(VFCTL_VF_MAX_TX_RATE);
		} else if (!strcmp(k, "link_state")) {
			const char *ls;

			r = want_type(ctx, cfg, p, v, json_type_string,
				      "\"auto\", \"enable\" or \"disable\"");
			if (r < 0)
				return r;
			ls = json_object_get_string(v);
			if (vfctl_vf_parse_link_state(ls, &s->link_state) < 0)
				return perr(ctx, cfg, p, "'%s': expected \"auto\", \"enable\" or "
					    "\"disable\"", ls);
			s->mask |= BIT(VFCTL_VF_LINK_STATE);
		} else if (!strcmp(k, "driver")) {
			const char *d;

			if (v == NULL) {	/* null: leave the driver alone */
				free(*driver);
				*driver = NULL;
				continue;
			}
			r = want_type(ctx, cfg, p, v, json_type_string, "a driver name or null");
			if (r < 0)
				return r;
			d = json_object_get_string(v);
			if (!*d || strlen(d) > 63 || strspn(d, "abcdefghijklmnopqrstuvwxyz"
							    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
			    != strlen(d))
				return perr(ctx, cfg, p, "'%s' is not a driver name (letters, digits, "
					    "'_' and '-', at most 63)", d);
			free(*driver);
			*driver = strdup(d);
			if (!*driver)
				return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int vfctl_vf_parse_mac(const char *s, char out[VFCTL_MAC_LEN])
{
	size_t len = strlen(s);

	if (len >= VFCTL_MAC_LEN)
		return -EINVAL;
	for (size_t i = 0; i <= len; i++)	/* as the kernel shows it */
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
	return 0;
}

int vfctl_vf_parse_vlan_proto(const char *s, uint16_t *ret)
{
	if (!strcasecmp(s, "802.1Q"))
		*ret = ETH_P_8021Q_;
	else if (!strcasecmp(s, "802.1ad"))
		*ret = ETH_P_8021AD_;
	else
		return -EINVAL;
	return 0;
}

int vfctl_vf_parse_link_state(const char *s, int *ret)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, vfctl_vf_link_state_str(i))) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

static int get_name_id(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		       json_object *v, bool group, unsigned *ret)
{
	const char *n;

	if (json_object_is_type(v, json_type_int)) {
		uint32_t id;
		int r = get_uint(ctx, cfg, path, v, UINT32_MAX - 1, &id);

		if (r == 0)
			*ret = id;
		return r;
	}
	if (!json_object_is_type(v, json_type_string) || !v)
		return perr(ctx, cfg, path, "expected a %s name or number, got %s",
			    group ? "group" : "user", type_name(v));
	n = json_object_get_string(v);
	if (group) {
		struct group *g = getgrnam(n);

		if (!g)
			return perr(ctx, cfg, path, "no group '%s' on this host", n);
		*ret = g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(n);

		if (!pw)
			return perr(ctx, cfg, path, "no user '%s' on this host", n);
		*ret = pw->pw_uid;
	}
	return 0;
}

static int parse_ids(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		     json_object *a, bool group, unsigned **ret, size_t *n_ret)
{
	char p[256];
	size_t n;
	int r;

	r = want_type(ctx, cfg, path, a, json_type_array, group ? "an array of group names" :
		      "an array of user names");
	if (r < 0)
		return r;
	n = json_object_array_length(a);
	*ret = calloc(n ? n : 1, sizeof(**ret));
	if (!*ret)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	*n_ret = n;
	for (size_t i = 0; i < n; i++) {
		path_idx(p, sizeof(p), path, i);
		r = get_name_id(ctx, cfg, p, json_object_array_get_idx(a, i), group, &(*ret)[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Pool self of pools[]; owner[i] is the pool VF i is in (-1: none), so a
 * VF in two pools is found without comparing every pair. */
static int parse_pool(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		      json_object *o, unsigned numvfs, struct vfctl_conf_pool *pools, size_t self,
		      int *owner)
{
	struct vfctl_conf_pool *pool = &pools[self];
	static const char *const keys[] = { "name", "vfs", "users", "groups", "ttl", NULL };
	json_object *v;
	char p[256];
	int r;

	r = want_object(ctx, cfg, path, o, keys, "name, vfs, users, groups, ttl");
	if (r < 0)
		return r;
	path_key(p, sizeof(p), path, "name");
	if (!json_object_object_get_ex(o, "name", &v))
		return perr(ctx, cfg, path, "a pool needs a name");
	r = want_type(ctx, cfg, p, v, json_type_string, "a string");
	if (r < 0)
		return r;
	if (!*json_object_get_string(v))
		return perr(ctx, cfg, p, "empty pool name");
	pool->name = strdup(json_object_get_string(v));
	if (!pool->name)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");

	path_key(p, sizeof(p), path, "vfs");
	if (!json_object_object_get_ex(o, "vfs", &v))
		return perr(ctx, cfg, path, "pool '%s' needs vfs (an array of VF indexes)",
			    pool->name);
	r = want_type(ctx, cfg, p, v, json_type_array, "an array of VF indexes");
	if (r < 0)
		return r;
	pool->n_vfs = json_object_array_length(v);
	pool->vfs = calloc(pool->n_vfs ? pool->n_vfs : 1, sizeof(*pool->vfs));
	if (!pool->vfs)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < pool->n_vfs; i++) {
		char pi[300];
		uint32_t idx;

		path_idx(pi, sizeof(pi), p, i);
		r = get_uint(ctx, cfg, pi, json_object_array_get_idx(v, i), 65535, &idx);
		if (r < 0)
			return r;
		if (idx >= numvfs)
			return perr(ctx, cfg, pi, "VF index %u is beyond numvfs %u (index 0-%d)", idx,
				    numvfs, (int)numvfs - 1);
		if (owner[idx] == (int)self)
			return perr(ctx, cfg, pi, "VF index %u listed twice", idx);
		if (owner[idx] >= 0)	/* a VF is allocated from one pool */
			return perr(ctx, cfg, pi, "VF %u is already in pool '%s'", idx,
				    pools[owner[idx]].name);
		owner[idx] = (int)self;
		pool->vfs[i] = idx;
	}
	if (json_object_object_get_ex(o, "users", &v)) {
		path_key(p, sizeof(p), path, "users");
		r = parse_ids(ctx, cfg, p, v, false, &pool->uids, &pool->n_uids);
		if (r < 0)
			return r;
	}
	if (json_object_object_get_ex(o, "groups", &v)) {
		path_key(p, sizeof(p), path, "groups");
		r = parse_ids(ctx, cfg, p, v, true, &pool->gids, &pool->n_gids);
		if (r < 0)
			return r;
	}
	if (json_object_object_get_ex(o, "ttl", &v)) {
		char num[32];

		path_key(p, sizeof(p), path, "ttl");
		if (json_object_is_type(v, json_type_int))
			snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
		else if (json_object_is_type(v, json_type_string))
			snprintf(num, sizeof(num), "%s", json_object_get_string(v));
		else
			return perr(ctx, cfg, p, "expected seconds or a duration string (\"10m\"), "
				    "got %s", type_name(v));
		if (strlen(num) >= sizeof(num) - 1 || vfctl_duration_parse(num, &pool->ttl) < 0)
			return perr(ctx, cfg, p, "'%s' is not a time to live: seconds, or a number "
				    "with s, m, h or d, from 1 s to 366 d", num);
	}
	return 0;
}

int vfctl_duration_parse(const char *s, unsigned *ret)
{
	unsigned long long n, mul = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end && end[1])
		return -EINVAL;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -EINVAL;
	}
	if (n == 0 || n > PROTO_TTL_MAX / mul)
		return -ERANGE;
	*ret = (unsigned)(n * mul);
	return 0;
}

static int parse_match(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		       json_object *o, struct vfctl_conf_pf *pf)
{
	static const char *const keys[] = { "address", "netdev", "id", "index", NULL };
	json_object *a = NULL, *n = NULL, *id = NULL, *idx = NULL;
	char p[256];
	int r;

	r = want_object(ctx, cfg, path, o, keys, "address, netdev, or id with index");
	if (r < 0)
		return r;
	json_object_object_get_ex(o, "address", &a);
	json_object_object_get_ex(o, "netdev", &n);
	json_object_object_get_ex(o, "id", &id);
	json_object_object_get_ex(o, "index", &idx);
	if ((a != NULL) + (n != NULL) + (id != NULL) != 1)
		return perr(ctx, cfg, path, "give exactly one of address, netdev or id (with index)");
	if (idx && !id)
		return perr(ctx, cfg, path, "index goes with id (\"id\": \"8086:10c9\", \"index\": 0)");
	if (a) {
		path_key(p, sizeof(p), path, "address");
		r = want_type(ctx, cfg, p, a, json_type_string, "a PCI address string");
		if (r < 0)
			return r;
		if (vfctl_addr_parse(json_object_get_string(a), pf->addr) < 0)
			return perr(ctx, cfg, p, "'%s' is not a PCI address (as 0000:03:00.0)",
				    json_object_get_string(a));
		pf->match = VFCTL_MATCH_ADDRESS;
	} else if (n) {
		path_key(p, sizeof(p), path, "netdev");
		r = want_type(ctx, cfg, p, n, json_type_string, "a network interface name");
		if (r < 0)
			return r;
		if (!vfctl_ifname_valid(json_object_get_string(n)))
			return perr(ctx, cfg, p, "'%s' is not a network interface name",
				    json_object_get_string(n));
		snprintf(pf->netdev, sizeof(pf->netdev), "%s", json_object_get_string(n));
		pf->match = VFCTL_MATCH_NETDEV;
	} else {
		unsigned ven, dev;
		char tail;
		uint32_t i = 0;

		path_key(p, sizeof(p), path, "id");
		r = want_type(ctx, cfg, p, id, json_type_string, "\"VENDOR:DEVICE\" in hex");
		if (r < 0)
			return r;
		if (strlen(json_object_get_string(id)) != 9 ||
		    sscanf(json_object_get_string(id), "%4x:%4x%c", &ven, &dev, &tail) != 2)
			return perr(ctx, cfg, p, "'%s': expected VENDOR:DEVICE as four hex digits "
				    "each, as \"8086:10c9\"", json_object_get_string(id));
		if (idx) {
			path_key(p, sizeof(p), path, "index");
			r = get_uint(ctx, cfg, p, idx, 65535, &i);
			if (r < 0)
				return r;
		}
		pf->vendor = (uint16_t)ven;
		pf->device = (uint16_t)dev;
		pf->index = i;
		pf->match = VFCTL_MATCH_ID;
	}
	return 0;
}

static int parse_pf(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, const char *path,
		    json_object *o, struct vfctl_conf_pf *pf)
{
	static const char *const keys[] = {
		"match", "numvfs", "autoprobe", "defaults", "vfs", "pools", NULL
	};
	struct vfctl_vf_settings defs = { .size = sizeof(defs) };
	_cleanup_free_ char *defdrv = NULL;
	json_object *v;
	char p[256];
	uint32_t n;
	int r;

	pf->path = strdup(path);
	if (!pf->path)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	pf->autoprobe = VFCTL_UNKNOWN;
	r = want_object(ctx, cfg, path, o, keys, "match, numvfs, autoprobe, defaults, vfs, pools");
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(o, "match", &v))
		return perr(ctx, cfg, path, "missing match (address, netdev, or id with index)");
	path_key(p, sizeof(p), path, "match");
	r = parse_match(ctx, cfg, p, v, pf);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(o, "numvfs", &v))
		return perr(ctx, cfg, path, "missing numvfs (the VF count, 0 for none)");
	path_key(p, sizeof(p), path, "numvfs");
	r = get_uint(ctx, cfg, p, v, 65535, &n);
	if (r < 0)
		return r;
	pf->numvfs = n;
	if (json_object_object_get_ex(o, "autoprobe", &v)) {
		bool b = false;

		path_key(p, sizeof(p), path, "autoprobe");
		r = get_bool(ctx, cfg, p, v, &b);
		if (r < 0)
			return r;
		pf->autoprobe = b ? VFCTL_ON : VFCTL_OFF;
	}
	if (json_object_object_get_ex(o, "defaults", &v)) {
		path_key(p, sizeof(p), path, "defaults");
		r = parse_settings(ctx, cfg, p, v, false, &defs, &defdrv);
		if (r < 0)
			return r;
		if (defs.mask & BIT(VFCTL_VF_MAC) && n > 1)
			return perr(ctx, cfg, p, "mac %s for every VF: VFs need their own MACs; set "
				    "mac per VF under vfs", defs.mac);
	}
	pf->vfs = calloc(n ? n : 1, sizeof(*pf->vfs));
	if (!pf->vfs)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		pf->vfs[i].s = defs;
		if (defdrv && !(pf->vfs[i].driver = strdup(defdrv)))
			return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	}
	if (json_object_object_get_ex(o, "vfs", &v)) {
		size_t len;
		_cleanup_free_ bool *seen = calloc(n ? n : 1, sizeof(bool));

		if (!seen)
			return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		path_key(p, sizeof(p), path, "vfs");
		r = want_type(ctx, cfg, p, v, json_type_array, "an array of VF objects");
		if (r < 0)
			return r;
		len = json_object_array_length(v);
		for (size_t i = 0; i < len; i++) {
			json_object *vo = json_object_array_get_idx(v, i), *iv;
			char pv[300], pi[320];
			uint32_t idx;

			path_idx(pv, sizeof(pv), p, i);
			r = want_type(ctx, cfg, pv, vo, json_type_object, "an object");
			if (r < 0)
				return r;
			if (!json_object_object_get_ex(vo, "index", &iv))
				return perr(ctx, cfg, pv, "missing index (the VF's index, 0-%d)",
					    (int)n - 1);
			path_key(pi, sizeof(pi), pv, "index");
			r = get_uint(ctx, cfg, pi, iv, 65535, &idx);
			if (r < 0)
				return r;
			if (idx >= n)
				return perr(ctx, cfg, pi, "VF index %u is beyond numvfs %u%s", idx, n,
					    n ? "" : " (no VFs)");
			if (seen[idx])
				return perr(ctx, cfg, pi, "VF index %u given twice", idx);
			seen[idx] = true;
			r = parse_settings(ctx, cfg, pv, vo, true, &pf->vfs[idx].s,
					   &pf->vfs[idx].driver);
			if (r < 0)
				return r;
		}
	}
	/* Each VF's final settings, through the library's own check. */
	for (unsigned i = 0; i < n; i++) {
		const struct vfctl_vf_settings *s = &pf->vfs[i].s;

		if (!(s->mask & BIT(VFCTL_VF_VLAN)) && (s->qos || s->vlan_proto))
			return perr(ctx, cfg, path, "VF %u: %s without vlan: qos and vlan_proto go "
				    "with a VLAN", i, s->qos ? "qos" : "vlan_proto");
		if (!s->mask)
			continue;
		r = vfctl_vf_settings_validate(ctx, s);
		if (r < 0) {
			char msg[512];

			snprintf(msg, sizeof(msg), "%s", vfctl_ctx_error(ctx));
			return perr(ctx, cfg, path, "VF %u: %s", i, msg);
		}
	}
	if (json_object_object_get_ex(o, "pools", &v)) {
		_cleanup_free_ int *owner = malloc((n ? n : 1) * sizeof(*owner));

		if (!owner)
			return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		for (unsigned i = 0; i < n; i++)
			owner[i] = -1;
		path_key(p, sizeof(p), path, "pools");
		r = want_type(ctx, cfg, p, v, json_type_array, "an array of pool objects");
		if (r < 0)
			return r;
		pf->n_pools = json_object_array_length(v);
		pf->pools = calloc(pf->n_pools ? pf->n_pools : 1, sizeof(*pf->pools));
		if (!pf->pools) {
			pf->n_pools = 0;
			return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < pf->n_pools; i++) {
			char pp[300];

			path_idx(pp, sizeof(pp), p, i);
			r = parse_pool(ctx, cfg, pp, json_object_array_get_idx(v, i), n, pf->pools, i,
				       owner);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* LINE:COL of byte offset off in text (1-based). */
static void line_col(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* json-c keeps the last of duplicate keys without a word, so a second
 * "mac" for a VF would silently win. Once json-c has accepted the text (so
 * it is valid JSON), walk it again for each object's keys, with a json-c
 * object as each one's key set (key -> offset), decoding escaped keys with
 * json-c as it did: FILE:LINE:COL of the second one. A \u0000 in any string
 * is refused on the same walk (json-c keeps it, C strings end there). */
#define DUP_MAX_DEPTH 64	/* json-c's tokener stops at 32 */
static int check_dup_keys(struct vfctl_ctx *ctx, const char *file, const char *text, size_t len)
{
	json_object *sets[DUP_MAX_DEPTH] = { NULL };	/* NULL: an array */
	bool want_key[DUP_MAX_DEPTH] = { false };
	int depth = 0, r = 0;

	for (size_t i = 0; i < len && r == 0; i++) {
		switch (text[i]) {
		case '{':
		case '[':
			if (depth == DUP_MAX_DEPTH) {	/* json-c refused it before this */
				r = vfctl_ctx_set_error(ctx, -EINVAL, "%s: nested too deeply", file);
				break;
			}
			want_key[depth] = text[i] == '{';
			if (text[i] == '{' && !(sets[depth] = json_object_new_object()))
				r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
			depth++;
			break;
		case '}':
		case ']':
			if (depth > 0) {
				depth--;
				json_object_put(sets[depth]);
				sets[depth] = NULL;
			}
			break;
		case ',':
			if (depth > 0 && sets[depth - 1])
				want_key[depth - 1] = true;
			break;
		case '\'': {
			/* json-c takes 'strings' even in strict mode; RFC 8259 does not */
			unsigned line, col;

			line_col(text, i, &line, &col);
			r = vfctl_ctx_set_error(ctx, -EINVAL, "%s:%u:%u: not valid JSON: a string in single "
				      "quotes; JSON strings take double quotes", file, line, col);
			break;
		}
		case '"': {
			size_t start = i;
			bool esc = false;
			json_object *set = depth > 0 ? sets[depth - 1] : NULL, *first, *dec = NULL;
			_cleanup_free_ char *raw = NULL;
			const char *key;

			for (i++; i < len && text[i] != '"' && r == 0; i++)
				if (text[i] == '\\') {
					esc = true;
					i++;
					/* json-c keeps it, every reader of the string stops
					 * there: "0000:03:00.0\u0000x" would mean 0000:03:00.0 */
					if (i + 4 < len && !strncmp(text + i, "u0000", 5)) {
						unsigned line, col;

						line_col(text, i - 1, &line, &col);
						r = vfctl_ctx_set_error(ctx, -EINVAL, "%s:%u:%u: a NUL character "
							      "(\\u0000) in a string: no name or value "
							      "holds one; remove it", file, line, col);
					}
				}
			if (r < 0)
				break;
			if (i >= len) {	/* json-c refused it before this */
				r = vfctl_ctx_set_error(ctx, -EINVAL, "%s: not valid JSON: a string without its "
					      "closing quote", file);
				break;
			}
			if (!set || !want_key[depth - 1])
				break;	/* a value */
			want_key[depth - 1] = false;
			if (esc) {	/* as json-c decoded it */
				struct json_tokener *tok = json_tokener_new();

				if (tok)
					dec = json_tokener_parse_ex(tok, text + start, (int)(i + 1 - start));
				json_tokener_free(tok);
				key = dec ? json_object_get_string(dec) : NULL;
			} else {
				key = raw = strndup(text + start + 1, i - start - 1);
			}
			if (!key) {
				json_object_put(dec);
				r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
				break;
			}
			if (json_object_object_get_ex(set, key, &first)) {
				unsigned line, col, l1, c1;

				line_col(text, start, &line, &col);
				line_col(text, (size_t)json_object_get_int64(first), &l1, &c1);
				r = vfctl_ctx_set_error(ctx, -EINVAL, "%s:%u:%u: key \"%s\" given twice in one object "
					      "(first at %u:%u); give each key once", file, line, col, key,
					      l1, c1);
			} else if (json_object_object_add(set, key,
							  json_object_new_int64((int64_t)start)) < 0) {
				r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
			}
			json_object_put(dec);
			break;
		}
		}
	}
	for (int d = 0; d < DUP_MAX_DEPTH; d++)
		json_object_put(sets[d]);
	return r;
}

/* The offset of the first non-blank byte at or after off; text need not
 * end in a NUL (vfctl_config_parse() takes a length). */
static size_t skip_ws(const char *text, size_t off, size_t len)
{
	while (off < len && strchr(" \t\r\n", text[off]) && text[off])
		off++;
	return off;
}

/* vfctld's limits; vfctl apply reads them only to check them. */
static int parse_daemon(struct vfctl_ctx *ctx, struct vfctl_config *cfg, json_object *o)
{
	static const char *const keys[] = {
		"max_connections", "max_connections_per_uid", "idle_timeout", NULL
	};
	struct vfctl_conf_daemon dm = cfg->daemon;
	const struct {
		const char *key;
		unsigned *val;
		uint32_t max;
	} f[] = {
		{ "max_connections", &dm.max_connections, 1048576 },
		{ "max_connections_per_uid", &dm.max_connections_per_uid, 1048576 },
		{ "idle_timeout", &dm.idle_timeout, 86400 },
	};
	int r = want_object(ctx, cfg, "daemon", o, keys,
			    "max_connections, max_connections_per_uid, idle_timeout");

	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		json_object *v;
		char p[64];

		if (!json_object_object_get_ex(o, f[i].key, &v))
			continue;
		path_key(p, sizeof(p), "daemon", f[i].key);
		r = get_uint(ctx, cfg, p, v, f[i].max, f[i].val);
		if (r < 0)
			return r;
		/* 0 would lock every user out, or never close an idle connection */
		if (*f[i].val == 0)
			return perr(ctx, cfg, p, "0: expected 1-%u", f[i].max);
	}
	cfg->daemon = dm;
	return 0;
}

int vfctl_config_parse(struct vfctl_ctx *ctx, const char *file, const char *text, size_t len,
		       struct vfctl_config **ret)
{
	struct vfctl_config *cfg;
	struct json_tokener *tok;
	json_object *root = NULL, *pfs, *v, *names = NULL;
	enum json_tokener_error jerr;
	size_t end;
	unsigned line, col;
	int r;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->file = strdup(file))) {
		free(cfg);
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	}
	cfg->daemon = (struct vfctl_conf_daemon){
		.max_connections = VFCTL_CONF_MAX_CONNECTIONS,
		.max_connections_per_uid = VFCTL_CONF_MAX_CONNECTIONS_PER_UID,
		.idle_timeout = VFCTL_CONF_IDLE_TIMEOUT,
	};
	if (len > CONF_MAX) {	/* and json-c takes an int length */
		r = vfctl_ctx_set_error(ctx, -EFBIG, "%s: %zu bytes, larger than a config can be (1 MiB)", file,
			      len);
		goto out;
	}
	if (memchr(text, 0, len)) {
		r = vfctl_ctx_set_error(ctx, -EINVAL, "%s: a NUL byte in the file: not JSON text", file);
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	/* RFC 8259 text is UTF-8: names from it reach vfctld's replies */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		line_col(text, len, &line, &col);
		r = vfctl_ctx_set_error(ctx, -EINVAL, "%s:%u:%u: unexpected end of file: the JSON is not "
			      "complete", file, line, col);
	} else if (jerr != json_tokener_success) {
		line_col(text, end, &line, &col);
		r = vfctl_ctx_set_error(ctx, -EINVAL, "%s:%u:%u: not valid JSON: %s", file, line, col,
			      json_tokener_error_desc(jerr));
	} else if (skip_ws(text, end, len) < len) {
		line_col(text, skip_ws(text, end, len), &line, &col);
		r = vfctl_ctx_set_error(ctx, -EINVAL, "%s:%u:%u: not valid JSON: text after the top-level "
			      "object", file, line, col);
	} else {
		r = 0;
	}
	json_tokener_free(tok);
	if (r == 0)
		r = check_dup_keys(ctx, file, text, len);
	if (r < 0)
		goto out;

	if (!json_object_is_type(root, json_type_object) || !root) {
		r = perr(ctx, cfg, "$", "expected an object with \"pfs\", got %s", type_name(root));
		goto out;
	}
	r = want_object(ctx, cfg, "$", root, (const char *const[]){ "pfs", "daemon", NULL },
			"pfs, daemon");
	if (r < 0)
		goto out;
	if (json_object_object_get_ex(root, "daemon", &v)) {
		r = parse_daemon(ctx, cfg, v);
		if (r < 0)
			goto out;
	}
	if (!json_object_object_get_ex(root, "pfs", &pfs)) {
		r = perr(ctx, cfg, "$", "missing pfs (an array of PF objects)");
		goto out;
	}
	r = want_type(ctx, cfg, "pfs", pfs, json_type_array, "an array of PF objects");
	if (r < 0)
		goto out;
	cfg->n_pfs = json_object_array_length(pfs);
	cfg->pfs = calloc(cfg->n_pfs ? cfg->n_pfs : 1, sizeof(*cfg->pfs));
	if (!cfg->pfs) {
		cfg->n_pfs = 0;
		r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_pfs; i++) {
		char p[64];

		path_idx(p, sizeof(p), "pfs", i);
		r = parse_pf(ctx, cfg, p, json_object_array_get_idx(pfs, i), &cfg->pfs[i]);
		if (r < 0)
			goto out;
	}
	/* Pool names are one namespace across the host (name -> where). */
	names = json_object_new_object();
	if (!names) {
		r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_pfs; i++)
		for (size_t j = 0; j < cfg->pfs[i].n_pools; j++) {
			const char *name = cfg->pfs[i].pools[j].name;
			json_object *where;
			char p[128];

			snprintf(p, sizeof(p), "pfs[%zu].pools[%zu]", i, j);
			if (json_object_object_get_ex(names, name, &where)) {
				char pn[140];

				path_key(pn, sizeof(pn), p, "name");
				r = perr(ctx, cfg, pn, "pool '%s' is already defined at %s", name,
					 json_object_get_string(where));
				goto out;
			}
			if (json_object_object_add(names, name, json_object_new_string(p)) < 0) {
				r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
				goto out;
			}
		}
	/* The same match written twice is caught without the host. */
	for (size_t i = 0; i < cfg->n_pfs; i++)
		for (size_t k = 0; k < i; k++) {
			const struct vfctl_conf_pf *a = &cfg->pfs[i], *b = &cfg->pfs[k];

			if (a->match != b->match)
				continue;
			if ((a->match == VFCTL_MATCH_ADDRESS && !strcmp(a->addr, b->addr)) ||
			    (a->match == VFCTL_MATCH_NETDEV && !strcmp(a->netdev, b->netdev)) ||
			    (a->match == VFCTL_MATCH_ID && a->vendor == b->vendor &&
			     a->device == b->device && a->index == b->index)) {
				r = perr(ctx, cfg, a->path, "the same PF as %s", b->path);
				goto out;
			}
		}
	r = 0;
out:
	json_object_put(names);
	json_object_put(root);
	if (r < 0)
		vfctl_config_free(cfg);
	else
		*ret = cfg;
	return r;
}

static const char *file_type(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ?
	       "a character device" : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" :
	       "a special file";
}

int vfctl_config_load(struct vfctl_ctx *ctx, const char *file, struct vfctl_config **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	/* O_NONBLOCK: a FIFO (or a device) named as the config must not block the
	 * open; it is refused below, as anything but a regular file is */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return vfctl_ctx_set_error(ctx, -errno, "%s: cannot open the config: %s", file, strerror(errno));
	if (fstat(fd, &st) < 0)
		return vfctl_ctx_set_error(ctx, -errno, "%s: %s", file, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vfctl_ctx_set_error(ctx, -EINVAL, "%s: %s, not a regular file: a config is read "
					   "only from a regular file (at most 1 MiB); write it to one "
					   "and give that path", file, file_type(st.st_mode));
	if (st.st_size > CONF_MAX)
		return vfctl_ctx_set_error(ctx, -EFBIG, "%s: %lld bytes, larger than a config can be (1 MiB)",
				 file, (long long)st.st_size);
	buf = malloc(CONF_MAX + 1);
	if (!buf)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	while ((n = read(fd, buf + len, CONF_MAX + 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		return vfctl_ctx_set_error(ctx, -errno, "%s: reading: %s", file, strerror(errno));
	if (len > CONF_MAX)
		return vfctl_ctx_set_error(ctx, -EFBIG, "%s: larger than a config can be (1 MiB)", file);
	buf[len] = 0;
	return vfctl_config_parse(ctx, file, buf, len, ret);
}

void conf_pf_free(struct vfctl_conf_pf *pf)
{
	free(pf->path);
	for (unsigned j = 0; pf->vfs && j < pf->numvfs; j++)
		free(pf->vfs[j].driver);
	free(pf->vfs);
	for (size_t j = 0; j < pf->n_pools; j++) {
		free(pf->pools[j].name);
		free(pf->pools[j].vfs);
		free(pf->pools[j].uids);
		free(pf->pools[j].gids);
	}
	free(pf->pools);
}

void vfctl_config_free(struct vfctl_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_pfs; i++)
		conf_pf_free(&cfg->pfs[i]);
	free(cfg->pfs);
	free(cfg->file);
	free(cfg);
}

static const char *match_str(const struct vfctl_conf_pf *c, char *buf, size_t len)
{
	if (c->match == VFCTL_MATCH_ADDRESS)
		snprintf(buf, len, "address %s", c->addr);
	else if (c->match == VFCTL_MATCH_NETDEV)
		snprintf(buf, len, "netdev %s", c->netdev);
	else
		snprintf(buf, len, "id %04x:%04x index %u", c->vendor, c->device, c->index);
	return buf;
}

const struct vfctl_func *vfctl_config_match(const struct vfctl_conf_pf *c,
					     const struct vfctl_host *host, unsigned *seen)
{
	unsigned n_seen = 0;

	for (size_t k = 0; k < host->n_funcs; k++) {
		const struct vfctl_func *f = host->funcs[k];

		if (c->match == VFCTL_MATCH_ADDRESS && !strcmp(f->addr, c->addr))
			return f;
		for (size_t j = 0; c->match == VFCTL_MATCH_NETDEV && j < f->n_netdevs; j++)
			if (!strcmp(f->netdevs[j]->name, c->netdev))
				return f;
		if (c->match == VFCTL_MATCH_ID && f->kind == VFCTL_FUNC_PF &&
		    f->vendor == c->vendor && f->device == c->device && n_seen++ == c->index)
			return f;
	}
	/* a software PF (netdevsim) has a netdev, no PCI address or ids */
	for (size_t k = 0; c->match == VFCTL_MATCH_NETDEV && k < host->n_soft_pfs; k++)
		for (size_t j = 0; j < host->soft_pfs[k]->n_netdevs; j++)
			if (!strcmp(host->soft_pfs[k]->netdevs[j]->name, c->netdev))
				return host->soft_pfs[k];
	if (seen)
		*seen = n_seen;
	return NULL;
}

int vfctl_config_drop_absent(struct vfctl_ctx *ctx, struct vfctl_config *cfg,
			     const struct vfctl_host *host, char ***ret, size_t *ret_n)
{
	char **v = NULL, m[64], line[256];
	size_t nv = 0, n = 0;

	for (size_t i = 0; i < cfg->n_pfs; i++) {
		if (vfctl_config_match(&cfg->pfs[i], host, NULL))
			continue;
		snprintf(line, sizeof(line), "%s: no %s on this host", cfg->pfs[i].path,
			 match_str(&cfg->pfs[i], m, sizeof(m)));
		if (vfctl_strv_push(&v, &nv, line) < 0) {
			vfctl_strv_free(v, nv);
			return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < cfg->n_pfs; i++) {
		if (vfctl_config_match(&cfg->pfs[i], host, NULL))
			cfg->pfs[n++] = cfg->pfs[i];
		else
			conf_pf_free(&cfg->pfs[i]);
	}
	cfg->n_pfs = n;
	*ret = v;
	*ret_n = nv;
	return (int)nv;
}

int vfctl_config_resolve(struct vfctl_ctx *ctx, const struct vfctl_config *cfg,
			 const struct vfctl_host *host, char (*addrs)[VFCTL_ADDR_LEN])
{
	for (size_t i = 0; i < cfg->n_pfs; i++) {
		const struct vfctl_conf_pf *c = &cfg->pfs[i];
		unsigned seen = 0;
		const struct vfctl_func *pf = vfctl_config_match(c, host, &seen);
		char m[64];

		if (!pf && c->match == VFCTL_MATCH_ID)
			return vfctl_ctx_set_error(ctx, -ENODEV, "%s: %s.match: no PF %04x:%04x with index "
					 "%u on this host (%u found; 'vfctl list' shows them)",
					 cfg->file, c->path, c->vendor, c->device, c->index, seen);
		if (!pf)
			return vfctl_ctx_set_error(ctx, -ENODEV, "%s: %s.match: no %s on this host ('vfctl list' "
					 "shows the PFs)", cfg->file, c->path,
					 match_str(c, m, sizeof(m)));
		if (pf->kind != VFCTL_FUNC_PF)
			return vfctl_ctx_set_error(ctx, -EINVAL, "%s: %s.match: %s is %s, not an SR-IOV PF",
					 cfg->file, c->path, pf->addr,
					 pf->kind == VFCTL_FUNC_VF ? "a VF" : "a function without "
					 "sriov_totalvfs");
		if (pf->bus && strcmp(pf->bus, "pci")) {
			/* only what goes through its netdev: the VF settings */
			const char *no = c->autoprobe != VFCTL_UNKNOWN ? "autoprobe" :
					 c->n_pools ? "pools" : NULL;
			int have = pf->numvfs >= 0 ? pf->numvfs : (int)pf->n_vfs;

			for (unsigned k = 0; !no && k < c->numvfs; k++)
				if (c->vfs[k].driver)
					no = "a VF driver";
			if (no)
				return vfctl_ctx_set_error(ctx, -EINVAL, "%s: %s: %s is a %s software "
						 "PF whose VFs are no PCI functions: it takes VF settings "
						 "only, not %s", cfg->file, c->path, pf->addr, pf->bus, no);
			if (have != (int)c->numvfs)
				return vfctl_ctx_set_error(ctx, -EINVAL, "%s: %s.numvfs: %u VFs, but %s "
						 "(a %s software PF) has %d and vfctl does not change "
						 "its count: write %s/bus/%s/devices/%s/sriov_numvfs, or "
						 "make numvfs %d", cfg->file, c->path, c->numvfs,
						 pf->addr, pf->bus, have, vfctl_ctx_sysfs_root(ctx),
						 pf->bus, pf->addr, have);
		}
		if (pf->totalvfs >= 0 && c->numvfs > (unsigned)pf->totalvfs)
			return vfctl_ctx_set_error(ctx, -EINVAL, "%s: %s.numvfs: %u VFs, but %s has "
					 "sriov_totalvfs %d", cfg->file, c->path, c->numvfs, pf->addr,
					 pf->totalvfs);
		if (c->autoprobe != VFCTL_UNKNOWN && pf->autoprobe < 0)
			return vfctl_ctx_set_error(ctx, -EOPNOTSUPP, "%s: %s.autoprobe: %s has no "
					 "sriov_drivers_autoprobe (kernels before 4.12)", cfg->file,
					 c->path, pf->addr);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(addrs[k], pf->addr))
				return vfctl_ctx_set_error(ctx, -EINVAL, "%s: %s.match: %s is matched twice, by "
						 "%s and %s", cfg->file, c->path, pf->addr,
						 cfg->pfs[k].path, c->path);
		snprintf(addrs[i], VFCTL_ADDR_LEN, "%s", pf->addr);
	}
	return 0;
}
