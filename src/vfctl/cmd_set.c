// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl set VF|PF:INDEX ATTR VALUE...: change a VF's settings through its
 * PF (libvfctl's vfctl_vf_set(), one netlink message per attribute) and
 * report each attribute as applied or refused with the kernel's errno.
 *
 * The target: a VF's PCI address or netdev name, or PF:INDEX. A PCI
 * address ends in ".F" and the kernel refuses ':' in interface names, so an
 * argument that ends in ":DIGITS" can never be a whole device name: it is
 * always read as PF:INDEX, split at the last colon ("enp1s0:3",
 * "0000:01:00.0:3", "01:00.0:3"), and the part before it must be a PF.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "print.h"
#include "vfctl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Words that are not attributes of their own: they ride with vlan. */
enum { KEY_QOS = _VFCTL_VF_ATTR_MAX, KEY_PROTO, _KEY_MAX };

static const struct {
	const char *word;
	int key;		/* enum vfctl_vf_attr or KEY_* */
	const char *allowed;	/* what the value may be, for messages */
} keys[] = {
	{ "mac", VFCTL_VF_MAC, "expected six hex bytes as xx:xx:xx:xx:xx:xx" },
	{ "vlan", VFCTL_VF_VLAN, "expected 0-4095 (0: no VLAN)" },
	{ "qos", KEY_QOS, "expected 0-7" },
	{ "proto", KEY_PROTO, "expected 802.1Q or 802.1ad" },
	{ "spoofchk", VFCTL_VF_SPOOFCHK, "expected on or off" },
	{ "trust", VFCTL_VF_TRUST, "expected on or off" },
	{ "max-tx-rate", VFCTL_VF_MAX_TX_RATE,
	  "expected a whole number of Mb/s, 0-2147483647 (0: no limit)" },
	{ "min-tx-rate", VFCTL_VF_MIN_TX_RATE,
	  "expected a whole number of Mb/s, 0-2147483647 (0: no minimum)" },
	{ "link-state", VFCTL_VF_LINK_STATE, "expected auto, enable or disable" },
	{ "query-rss", VFCTL_VF_QUERY_RSS, "expected on or off" },
};

int set_err(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

/* Decimal digits only (no sign, no blanks, no hex): strtoul would take them. */
static bool parse_u32(const char *s, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return false;
	v = strtoull(s, &end, 10);
	if (v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

static bool parse_onoff(const char *s, bool *ret)
{
	if (!strcmp(s, "on"))
		*ret = true;
	else if (!strcmp(s, "off"))
		*ret = false;
	else
		return false;
	return true;
}

static bool parse_value(int key, const char *v, struct vfctl_vf_settings *s)
{
	switch (key) {
	case VFCTL_VF_MAC:
		return vfctl_vf_parse_mac(v, s->mac) == 0;
	case VFCTL_VF_VLAN:
		return parse_u32(v, &s->vlan);
	case KEY_QOS:
		return parse_u32(v, &s->qos);
	case KEY_PROTO:
		return vfctl_vf_parse_vlan_proto(v, &s->vlan_proto) == 0;
	case VFCTL_VF_SPOOFCHK:
		return parse_onoff(v, &s->spoofchk);
	case VFCTL_VF_TRUST:
		return parse_onoff(v, &s->trust);
	case VFCTL_VF_QUERY_RSS:
		return parse_onoff(v, &s->query_rss);
	case VFCTL_VF_MAX_TX_RATE:
		return parse_u32(v, &s->max_tx_rate);
	case VFCTL_VF_MIN_TX_RATE:
		return parse_u32(v, &s->min_tx_rate);
	case VFCTL_VF_LINK_STATE:
		return vfctl_vf_parse_link_state(v, &s->link_state) == 0;
	}
	return false;
}

int set_parse_attrs(int argc, char *const *argv, struct set_req *req, char *err, size_t len)
{
	struct set_req r = { .s = { .size = sizeof(r.s) } };
	unsigned seen = 0;

	if (argc <= 0)
		return set_err(err, len, EXIT_USAGE, "nothing to set; give ATTRIBUTE VALUE pairs: mac, "
			    "vlan (with qos, proto), spoofchk, trust, max-tx-rate, min-tx-rate, "
			    "link-state, query-rss");
	for (int i = 0; i < argc; i += 2) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(keys); k++)
			if (!strcmp(argv[i], keys[k].word))
				break;
		if (k == ARRAY_SIZE(keys))
			return set_err(err, len, EXIT_USAGE, "unknown attribute '%s'; expected mac, vlan "
				    "(with qos, proto), spoofchk, trust, max-tx-rate, min-tx-rate, "
				    "link-state or query-rss", argv[i]);
		if (i + 1 >= argc)
			return set_err(err, len, EXIT_USAGE, "%s: missing value; %s", keys[k].word,
				    keys[k].allowed);
		if (seen & (1u << keys[k].key))
			return set_err(err, len, EXIT_USAGE, "%s given twice", keys[k].word);
		seen |= 1u << keys[k].key;
		if (!parse_value(keys[k].key, argv[i + 1], &r.s))
			return set_err(err, len, EXIT_ERR, "%s '%s': %s%s", keys[k].word, argv[i + 1],
				    keys[k].key == VFCTL_VF_MAC ? "not a MAC address; " : "",
				    keys[k].allowed);
		if (keys[k].key < _VFCTL_VF_ATTR_MAX) {
			r.s.mask |= 1u << keys[k].key;
			r.order[r.n++] = (enum vfctl_vf_attr)keys[k].key;
		}
	}
	if ((seen & (1u << KEY_QOS | 1u << KEY_PROTO)) && !(seen & (1u << VFCTL_VF_VLAN)))
		return set_err(err, len, EXIT_USAGE, "%s without vlan: qos and proto go with a VLAN, "
			    "as in 'vlan 100 qos 3 proto 802.1Q'",
			    seen & (1u << KEY_QOS) ? "qos" : "proto");
	*req = r;
	return EXIT_OK;
}

static int nvfs(const struct vfctl_func *pf)
{
	return pf->numvfs >= 0 ? pf->numvfs : (int)pf->n_vfs;
}

int set_find_target(struct vfctl_ctx *ctx, const struct vfctl_host *h, const char *arg,
		    struct vfctl_func **ret_pf, unsigned *ret_index, char *err, size_t len)
{
	const char *colon = strrchr(arg, ':');
	struct vfctl_func *f;
	unsigned long idx;
	int n;

	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		char *pfname = strndup(arg, (size_t)(colon - arg));
		int r;

		if (!pfname)
			return set_err(err, len, -ENOMEM, "out of memory");
		r = vfctl_host_find(ctx, h, pfname, &f);
		if (r < 0) {
			set_err(err, len, r, "%s", vfctl_ctx_error(ctx));
			free(pfname);
			return r;
		}
		if (f->kind != VFCTL_FUNC_PF) {
			set_err(err, len, -EINVAL, "%s is not an SR-IOV PF (%s); PF:INDEX needs a PF, "
			     "'vfctl list' shows them", pfname,
			     f->kind == VFCTL_FUNC_VF ? "it is a VF: name it alone" :
			     "no sriov_totalvfs");
			free(pfname);
			return -EINVAL;
		}
		free(pfname);
		n = nvfs(f);
		idx = strlen(colon + 1) > 5 ? 100000 : strtoul(colon + 1, NULL, 10);
		if (n <= 0)
			return set_err(err, len, -ENODEV, "%s has no VFs (sriov_numvfs is 0); "
				    "create VFs first", f->addr);
		if (idx >= (unsigned long)n)
			return set_err(err, len, -ENODEV, "VF index %s out of range: %s has %d VF%s "
				    "(index 0-%d)", colon + 1, f->addr, n, n == 1 ? "" : "s", n - 1);
		*ret_pf = f;
		*ret_index = (unsigned)idx;
		return 0;
	}
	n = vfctl_host_find(ctx, h, arg, &f);
	if (n < 0)
		return set_err(err, len, n, "%s", vfctl_ctx_error(ctx));
	if (f->kind == VFCTL_FUNC_PF)
		return nvfs(f) > 0 ?
			set_err(err, len, -EINVAL, "%s is a PF; name one of its VFs by address or "
			     "netdev, or as %s:INDEX (0-%d)", arg, arg, nvfs(f) - 1) :
			set_err(err, len, -EINVAL, "%s is a PF with no VFs (sriov_numvfs is 0); "
			     "create VFs first", arg);
	if (f->kind != VFCTL_FUNC_VF || !f->pf || f->vf_index < 0)
		return set_err(err, len, -EINVAL, "%s is not an SR-IOV VF (nor a PF); 'vfctl list' "
			    "shows the PFs and their VFs", arg);
	*ret_pf = f->pf;
	*ret_index = (unsigned)f->vf_index;
	return 0;
}

int cli_find_func(struct vfctl_ctx *ctx, const struct vfctl_host *h, const char *arg,
		  struct vfctl_func **ret, char *err, size_t len)
{
	const char *colon = strrchr(arg, ':');
	struct vfctl_func *pf = NULL, *f;
	unsigned idx = 0;
	int r;

	/* PF:INDEX only when the part before the colon names a function: "03:00"
	 * stays a (malformed) address and gets that error */
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		char *pfname = strndup(arg, (size_t)(colon - arg));

		if (!pfname)
			return set_err(err, len, -ENOMEM, "out of memory");
		r = vfctl_host_find(ctx, h, pfname, &f);
		free(pfname);
		if (r < 0)
			colon = NULL;
	}
	if (!(colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))) {
		r = vfctl_host_find(ctx, h, arg, &f);
		if (r < 0)
			return set_err(err, len, r, "%s", vfctl_ctx_error(ctx));
		*ret = f;
		return 0;
	}
	r = set_find_target(ctx, h, arg, &pf, &idx, err, len);
	if (r < 0)
		return r;
	if (!(idx < pf->n_vfs && pf->vfs[idx]))
		return set_err(err, len, -ENODEV, "VF %u of %s has no PCI function (no virtfn%u "
			       "link); 'vfctl show %s' shows its VFs", idx, pf->addr, idx, pf->addr);
	*ret = pf->vfs[idx];
	return 0;
}

static void value_str(enum vfctl_vf_attr a, const struct vfctl_vf_settings *s, char *buf,
		      size_t len)
{
	switch (a) {
	case VFCTL_VF_MAC:
		snprintf(buf, len, "%s", s->mac);
		break;
	case VFCTL_VF_VLAN: {
		int n = snprintf(buf, len, "%u", s->vlan);

		if (s->qos && n >= 0 && (size_t)n < len)
			n += snprintf(buf + n, len - (size_t)n, " qos %u", s->qos);
		if (s->vlan_proto && n >= 0 && (size_t)n < len)
			snprintf(buf + n, len - (size_t)n, " proto %s",
				 vfctl_vlan_proto_str(s->vlan_proto));
		break;
	}
	case VFCTL_VF_SPOOFCHK:
		snprintf(buf, len, "%s", s->spoofchk ? "on" : "off");
		break;
	case VFCTL_VF_TRUST:
		snprintf(buf, len, "%s", s->trust ? "on" : "off");
		break;
	case VFCTL_VF_QUERY_RSS:
		snprintf(buf, len, "%s", s->query_rss ? "on" : "off");
		break;
	case VFCTL_VF_MIN_TX_RATE:
		snprintf(buf, len, "%u", s->min_tx_rate);
		break;
	case VFCTL_VF_MAX_TX_RATE:
		snprintf(buf, len, "%u", s->max_tx_rate);
		break;
	case VFCTL_VF_LINK_STATE:
		snprintf(buf, len, "%s", vfctl_vf_link_state_str(s->link_state));
		break;
	default:
		snprintf(buf, len, "?");
	}
}

/* One printer for text and JSON: the VF, then one line per attribute. */
static unsigned print_results(const struct vfctl_func *pf, unsigned idx, const struct set_req *req,
			      const struct vfctl_vf_set_result *res)
{
	const struct vfctl_func *vf = idx < pf->n_vfs ? pf->vfs[idx] : NULL;
	unsigned refused = 0;

	if (vf && !vf->addr[0])
		vf = NULL;	/* a software PF's VF: no address */

	pr_obj_begin(NULL);
	pr_str("address", "%s", vf ? vf->addr : NULL);
	pr_int("vf_index", ": vf %lld", idx);
	pr_str("pf_netdev", " of %s", pf->n_netdevs ? pf->netdevs[0]->name : NULL);
	pr_str("pf", " (%s)\n", pf->addr);
	pr_arr_begin("results");
	for (unsigned i = 0; i < req->n; i++) {
		enum vfctl_vf_attr a = req->order[i];
		int e = res->err[a];
		char val[64];

		value_str(a, &req->s, val, sizeof(val));
		pr_obj_begin(NULL);
		pr_str("attribute", "  %s", vfctl_vf_attr_name(a));
		/* an on/off setting is a boolean, as in list's "config" */
		if (a == VFCTL_VF_SPOOFCHK || a == VFCTL_VF_TRUST || a == VFCTL_VF_QUERY_RSS)
			pr_onoff("value", " %s", a == VFCTL_VF_SPOOFCHK ? req->s.spoofchk :
				 a == VFCTL_VF_TRUST ? req->s.trust : req->s.query_rss);
		else
			pr_str("value", " %s", val);
		pr_bool("applied", NULL, e == 0);
		if (e == 0) {
			pr_text(": applied\n");
			pr_null("errno", NULL);
			pr_null("error", NULL);
		} else {
			const char *name = strerrorname_np(-e);

			pr_str("errno", NULL, name);
			pr_str("error", ": refused: %s", strerror(-e));
			pr_text(name ? " (%s)\n" : "\n", name);
			refused++;
		}
		pr_obj_end();
	}
	pr_arr_end();
	pr_bool("all_applied", NULL, refused == 0);
	pr_obj_end();
	return refused;
}

int cmd_set(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	struct vfctl_vf_set_result res = { .size = sizeof(res) };
	struct vfctl_func *pf = NULL;
	struct set_req req;
	unsigned idx = 0, refused;
	char err[1024];
	int rc, r;

	if (a->argc < 1) {
		fprintf(stderr, "vfctl set: expected a VF (PCI address or netdev name) or "
			"PF:INDEX, then ATTRIBUTE VALUE pairs; see 'vfctl set --help'\n");
		return EXIT_USAGE;
	}
	/* Everything is checked before anything is sent. */
	rc = set_parse_attrs(a->argc - 1, a->argv + 1, &req, err, sizeof(err));
	if (rc != EXIT_OK) {
		fprintf(stderr, "vfctl: set %s: %s\n", a->argv[0], err);
		return rc;
	}
	r = set_find_target(ctx, h, a->argv[0], &pf, &idx, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "vfctl: set %s: %s\n", a->argv[0], err);
		return r;
	}
	r = vfctl_vf_settings_validate(ctx, &req.s);
	if (r < 0) {
		fprintf(stderr, "vfctl: set %s: %s\n", a->argv[0], vfctl_ctx_error(ctx));
		return r;
	}

	if (a->force)
		req.s.flags |= VFCTL_VF_SET_FORCE;
	r = vfctl_vf_set(ctx, pf, idx, &req.s, &res);
	if (r < 0) {
		bool any = false;

		for (unsigned i = 0; i < req.n; i++)
			any |= res.err[req.order[i]] != 0;
		if (!any) {	/* failed before sending: nothing changed */
			fprintf(stderr, "vfctl: set %s: %s\n", a->argv[0], vfctl_ctx_error(ctx));
			return r;
		}
	}
	refused = print_results(pf, idx, &req, &res);
	if (refused) {
		fprintf(stderr, "vfctl: set %s: %u of %u refused by the kernel or driver:",
			a->argv[0], refused, req.n);
		for (unsigned i = 0, n = 0; i < req.n; i++)
			if (res.err[req.order[i]])
				fprintf(stderr, "%s %s (%s)", n++ ? "," : "",
					vfctl_vf_attr_name(req.order[i]),
					strerror(-res.err[req.order[i]]));
		fprintf(stderr, "; %s\n", refused < req.n ? "the others were applied" :
			"nothing was changed");
	}
	return refused ? EXIT_REFUSED : EXIT_OK;
}
