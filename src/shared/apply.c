// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfctl apply: the changes that make the host match a config, and making
 * them. PF changes (sriov_drivers_autoprobe, then sriov_numvfs) come
 * first; the VF changes (attributes through the PF, then the driver) are
 * planned against what is there, and, when applying, against a fresh scan
 * after the PF changes, so what is already right is never written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "basic.h"
#include "config.h"

#define BIT(a) (1u << (a))
#define ETH_P_8021Q_ 0x8100

static int plan_add(struct vfctl_ctx *ctx, struct vfctl_plan *p, const struct vfctl_change *c)
{
	struct vfctl_change *n = reallocarray(p->changes, p->n + 1, sizeof(*n));

	if (!n)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	p->changes = n;
	p->changes[p->n++] = *c;
	return 0;
}

void vfctl_plan_free(struct vfctl_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n; i++)
		free(plan->changes[i].error);
	free(plan->changes);
	free(plan);
}

static const char *onoff(bool b)
{
	return b ? "on" : "off";
}

static const char *tri(int v)
{
	return v == VFCTL_ON ? "on" : v == VFCTL_OFF ? "off" : "?";
}

static void vlan_str(char *buf, size_t len, uint32_t vlan, uint32_t qos, uint16_t proto)
{
	int n = snprintf(buf, len, "%u", vlan);

	if (qos && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " qos %u", qos);
	if (proto && proto != ETH_P_8021Q_ && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " proto %s", vfctl_vlan_proto_str(proto));
}

/* The wanted value of attribute a, as text. */
static void want_str(enum vfctl_vf_attr a, const struct vfctl_vf_settings *s, char *buf,
		     size_t len)
{
	switch (a) {
	case VFCTL_VF_MAC: snprintf(buf, len, "%s", s->mac); break;
	case VFCTL_VF_VLAN: vlan_str(buf, len, s->vlan, s->qos, s->vlan_proto); break;
	case VFCTL_VF_SPOOFCHK: snprintf(buf, len, "%s", onoff(s->spoofchk)); break;
	case VFCTL_VF_TRUST: snprintf(buf, len, "%s", onoff(s->trust)); break;
	case VFCTL_VF_QUERY_RSS: snprintf(buf, len, "%s", onoff(s->query_rss)); break;
	case VFCTL_VF_MIN_TX_RATE: snprintf(buf, len, "%u", s->min_tx_rate); break;
	case VFCTL_VF_MAX_TX_RATE: snprintf(buf, len, "%u", s->max_tx_rate); break;
	case VFCTL_VF_LINK_STATE:
		snprintf(buf, len, "%s", vfctl_vf_link_state_str(s->link_state));
		break;
	default: snprintf(buf, len, "?");
	}
}

/* The current value of attribute a, as text; "?" when not known. */
static void have_str(enum vfctl_vf_attr a, const struct vfctl_vf_config *c, char *buf,
		     size_t len)
{
	if (!c || !c->valid) {
		snprintf(buf, len, "?");
		return;
	}
	switch (a) {
	case VFCTL_VF_MAC: snprintf(buf, len, "%s", c->mac[0] ? c->mac : "?"); break;
	case VFCTL_VF_VLAN: vlan_str(buf, len, c->vlan, c->qos, c->vlan_proto); break;
	case VFCTL_VF_SPOOFCHK: snprintf(buf, len, "%s", tri(c->spoofchk)); break;
	case VFCTL_VF_TRUST: snprintf(buf, len, "%s", tri(c->trust)); break;
	case VFCTL_VF_QUERY_RSS: snprintf(buf, len, "%s", tri(c->query_rss)); break;
	case VFCTL_VF_MIN_TX_RATE: snprintf(buf, len, "%u", c->min_tx_rate); break;
	case VFCTL_VF_MAX_TX_RATE: snprintf(buf, len, "%u", c->max_tx_rate); break;
	case VFCTL_VF_LINK_STATE:
		snprintf(buf, len, "%s", c->link_state >= 0 ?
			 vfctl_vf_link_state_str(c->link_state) : "?");
		break;
	default: snprintf(buf, len, "?");
	}
}

/* Whether the VF already has attribute a as s wants it. */
static bool attr_same(enum vfctl_vf_attr a, const struct vfctl_vf_settings *s,
		      const struct vfctl_vf_config *c)
{
	if (!c || !c->valid)
		return false;
	switch (a) {
	case VFCTL_VF_MAC: return !strcasecmp(c->mac, s->mac);
	case VFCTL_VF_VLAN:
		return c->vlan == s->vlan && c->qos == s->qos &&
			(c->vlan_proto ? c->vlan_proto : ETH_P_8021Q_) ==
			(s->vlan_proto ? s->vlan_proto : ETH_P_8021Q_);
	case VFCTL_VF_SPOOFCHK: return c->spoofchk == (s->spoofchk ? VFCTL_ON : VFCTL_OFF);
	case VFCTL_VF_TRUST: return c->trust == (s->trust ? VFCTL_ON : VFCTL_OFF);
	case VFCTL_VF_QUERY_RSS: return c->query_rss == (s->query_rss ? VFCTL_ON : VFCTL_OFF);
	case VFCTL_VF_MIN_TX_RATE: return c->min_tx_rate == s->min_tx_rate;
	case VFCTL_VF_MAX_TX_RATE: return c->max_tx_rate == s->max_tx_rate;
	case VFCTL_VF_LINK_STATE: return c->link_state == s->link_state;
	default: return false;
	}
}

enum { PHASE_PF = 1, PHASE_VF = 2 };

static int plan_pf(struct vfctl_ctx *ctx, const struct vfctl_conf_pf *c,
		   const struct vfctl_func *pf, unsigned phases, struct vfctl_plan *p)
{
	int have = pf->numvfs >= 0 ? pf->numvfs : (int)pf->n_vfs;
	bool recreate = have != (int)c->numvfs;
	int r;

	if (phases & PHASE_PF) {
		if (c->autoprobe != VFCTL_UNKNOWN && pf->autoprobe != c->autoprobe) {
			struct vfctl_change ch = { .kind = VFCTL_CHANGE_AUTOPROBE, .vf_index = -1,
						   .what = "sriov_drivers_autoprobe" };

			snprintf(ch.pf, sizeof(ch.pf), "%s", pf->addr);
			snprintf(ch.dev, sizeof(ch.dev), "%s", pf->addr);
			snprintf(ch.from, sizeof(ch.from), "%s", tri(pf->autoprobe));
			snprintf(ch.to, sizeof(ch.to), "%s", tri(c->autoprobe));
			r = plan_add(ctx, p, &ch);
			if (r < 0)
				return r;
		}
		if (recreate) {
			struct vfctl_change ch = { .kind = VFCTL_CHANGE_NUMVFS, .vf_index = -1,
						   .what = "sriov_numvfs" };

			snprintf(ch.pf, sizeof(ch.pf), "%s", pf->addr);
			snprintf(ch.dev, sizeof(ch.dev), "%s", pf->addr);
			snprintf(ch.from, sizeof(ch.from), "%d", have);
			snprintf(ch.to, sizeof(ch.to), "%u", c->numvfs);
			r = plan_add(ctx, p, &ch);
			if (r < 0)
				return r;
		}
	}
	if (!(phases & PHASE_VF))
		return 0;
	for (unsigned i = 0; i < c->numvfs; i++) {
		const struct vfctl_conf_vf *cv = &c->vfs[i];
		/* VFs made anew (a count change goes through 0) are not known yet */
		const struct vfctl_func *vf = !recreate && i < pf->n_vfs ? pf->vfs[i] : NULL;
		const struct vfctl_vf_config *cur = vf ? &vf->config : NULL;

		for (int a = 0; a < _VFCTL_VF_ATTR_MAX; a++) {
			struct vfctl_change ch = { .kind = VFCTL_CHANGE_VF_ATTR, .vf_index = (int)i,
						   .attr = (enum vfctl_vf_attr)a };

			if (!(cv->s.mask & BIT(a)) || attr_same(ch.attr, &cv->s, cur))
				continue;
			ch.what = vfctl_vf_attr_name(ch.attr);
			snprintf(ch.pf, sizeof(ch.pf), "%s", pf->addr);
			ch.vf_known = vf;
			if (vf)
				snprintf(ch.dev, sizeof(ch.dev), "%s", vf->addr);
			have_str(ch.attr, cur, ch.from, sizeof(ch.from));
			want_str(ch.attr, &cv->s, ch.to, sizeof(ch.to));
			r = plan_add(ctx, p, &ch);
			if (r < 0)
				return r;
		}
		if (cv->driver && !(vf && vf->driver && !strcmp(vf->driver, cv->driver))) {
			struct vfctl_change ch = { .kind = VFCTL_CHANGE_DRIVER, .vf_index = (int)i,
						   .what = "driver" };

			snprintf(ch.pf, sizeof(ch.pf), "%s", pf->addr);
			ch.vf_known = vf;
			if (vf)
				snprintf(ch.dev, sizeof(ch.dev), "%s", vf->addr);
			snprintf(ch.from, sizeof(ch.from), "%s",
				 !vf ? "?" : vf->driver ? vf->driver : "-");
			snprintf(ch.to, sizeof(ch.to), "%s", cv->driver);
			r = plan_add(ctx, p, &ch);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int plan_phases(struct vfctl_ctx *ctx, const struct vfctl_config *cfg,
		       const struct vfctl_host *host, unsigned phases, struct vfctl_plan *p)
{
	_cleanup_free_ char (*addrs)[VFCTL_ADDR_LEN] = NULL;
	int r;

	addrs = calloc(cfg->n_pfs ? cfg->n_pfs : 1, sizeof(*addrs));
	if (!addrs)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	r = vfctl_config_resolve(ctx, cfg, host, addrs);
	if (r < 0)
		return r;
	/* all PF changes first, then the VFs' */
	for (unsigned ph = PHASE_PF; ph <= PHASE_VF; ph <<= 1) {
		if (!(phases & ph))
			continue;
		for (size_t i = 0; i < cfg->n_pfs; i++) {
			struct vfctl_func *pf;

			r = vfctl_host_find(ctx, host, addrs[i], &pf);
			if (r < 0)
				return r;
			r = plan_pf(ctx, &cfg->pfs[i], pf, ph, p);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int vfctl_plan_make(struct vfctl_ctx *ctx, const struct vfctl_config *cfg,
		    const struct vfctl_host *host, struct vfctl_plan **ret)
{
	struct vfctl_plan *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	r = plan_phases(ctx, cfg, host, PHASE_PF | PHASE_VF, p);
	if (r < 0) {
		vfctl_plan_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

static void change_failed(struct vfctl_change *ch, int r, const char *msg)
{
	ch->err = r;
	free(ch->error);
	ch->error = strdup(msg && *msg ? msg : strerror(-r));
}

/* Whether config PF c means the host's PF at addr. */
static bool conf_matches(const struct vfctl_conf_pf *c, const struct vfctl_host *host,
			 const char *addr)
{
	const struct vfctl_func *f = vfctl_config_match(c, host, NULL);

	return f && !strcmp(f->addr, addr);
}

static const struct vfctl_conf_pf *conf_for(const struct vfctl_config *cfg,
					    const struct vfctl_host *host, const char *addr)
{
	for (size_t i = 0; i < cfg->n_pfs; i++)
		if (conf_matches(&cfg->pfs[i], host, addr))
			return &cfg->pfs[i];
	return NULL;
}

int vfctl_config_select(struct vfctl_ctx *ctx, struct vfctl_config *cfg,
			const struct vfctl_host *host, const char *const *pfs, size_t n_pfs,
			bool *found)
{
	_cleanup_free_ char (*addrs)[VFCTL_ADDR_LEN] = calloc(n_pfs ? n_pfs : 1, sizeof(*addrs));
	_cleanup_free_ bool *keep = calloc(cfg->n_pfs ? cfg->n_pfs : 1, sizeof(*keep));
	size_t n = 0;

	if (!addrs || !keep)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	for (size_t j = 0; j < n_pfs; j++) {
		struct vfctl_func *f;
		int r = vfctl_host_find(ctx, host, pfs[j], &f);

		if (r < 0)
			return r;
		if (f->kind != VFCTL_FUNC_PF)
			return vfctl_ctx_set_error(ctx, -EINVAL, "%s is %s, not an SR-IOV PF; give the PF whose "
					 "VFs the config describes ('vfctl list' shows them)", f->addr,
					 f->kind == VFCTL_FUNC_VF ? "a VF" :
					 "a function without sriov_totalvfs");
		snprintf(addrs[j], VFCTL_ADDR_LEN, "%s", f->addr);
	}
	/* Matched against the host as it is; the checks that need the host
	 * (sriov_totalvfs, a PF matched twice) come with the plan. */
	for (size_t i = 0; i < cfg->n_pfs; i++)
		for (size_t j = 0; j < n_pfs; j++)
			if (conf_matches(&cfg->pfs[i], host, addrs[j]))
				keep[i] = true;
	if (found)
		for (size_t j = 0; j < n_pfs; j++) {
			found[j] = false;
			for (size_t i = 0; i < cfg->n_pfs && !found[j]; i++)
				found[j] = conf_matches(&cfg->pfs[i], host, addrs[j]);
		}
	for (size_t i = 0; i < cfg->n_pfs; i++) {
		if (keep[i])
			cfg->pfs[n++] = cfg->pfs[i];
		else
			conf_pf_free(&cfg->pfs[i]);
	}
	cfg->n_pfs = n;
	return (int)n;
}

static void run_pf_change(struct vfctl_ctx *ctx, const struct vfctl_config *cfg,
			  const struct vfctl_host *host, struct vfctl_change *ch, unsigned flags,
			  unsigned timeout_ms)
{
	const struct vfctl_conf_pf *c = conf_for(cfg, host, ch->pf);
	struct vfctl_numvfs_report rep = { .size = sizeof(rep) };
	int r;

	if (!c) {
		change_failed(ch, -ENODEV, "the PF is not in the config any more");
		return;
	}
	if (ch->kind == VFCTL_CHANGE_AUTOPROBE) {
		r = vfctl_pf_set_autoprobe(ctx, ch->pf, c->autoprobe == VFCTL_ON, timeout_ms);
	} else {
		/* autoprobe, when the config sets it, was written before this */
		r = vfctl_pf_set_numvfs(ctx, ch->pf, c->numvfs,
					(flags & VFCTL_APPLY_FORCE) ? VFCTL_NUMVFS_FORCE : 0,
					timeout_ms, &rep);
	}
	if (r < 0)
		change_failed(ch, r, vfctl_ctx_error(ctx));
}

/* One VF's attribute changes in one vfctl_vf_set (a message each). */
static void run_vf_attrs(struct vfctl_ctx *ctx, const struct vfctl_config *cfg,
			 const struct vfctl_host *host, struct vfctl_change *chs, size_t n,
			 unsigned flags)
{
	const struct vfctl_conf_pf *c = conf_for(cfg, host, chs[0].pf);
	struct vfctl_vf_set_result res = { .size = sizeof(res) };
	struct vfctl_vf_settings s;
	struct vfctl_func *pf;
	bool any = false;
	int r;

	if (!c || vfctl_host_find(ctx, host, chs[0].pf, &pf) < 0) {
		for (size_t i = 0; i < n; i++)
			change_failed(&chs[i], -ENODEV, "the PF is gone");
		return;
	}
	s = c->vfs[chs[0].vf_index].s;
	s.mask = 0;
	for (size_t i = 0; i < n; i++)
		s.mask |= BIT(chs[i].attr);
	s.flags = (flags & VFCTL_APPLY_FORCE) ? VFCTL_VF_SET_FORCE : 0;
	r = vfctl_vf_set(ctx, pf, (unsigned)chs[0].vf_index, &s, &res);
	if (r == 0)
		return;
	for (size_t i = 0; i < n; i++)
		any |= res.err[chs[i].attr] != 0;
	for (size_t i = 0; i < n; i++) {
		int e = any ? res.err[chs[i].attr] : r;
		char msg[160];

		if (!e)
			continue;
		snprintf(msg, sizeof(msg), "%s", strerror(-e));
		change_failed(&chs[i], e, any ? msg : vfctl_ctx_error(ctx));
	}
}

static int plan_append(struct vfctl_ctx *ctx, struct vfctl_plan *dst, struct vfctl_plan *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int r = plan_add(ctx, dst, &src->changes[i]);

		if (r < 0)
			return r;
		src->changes[i].error = NULL;	/* dst owns it now */
	}
	return 0;
}

int vfctl_apply(struct vfctl_ctx *ctx, const struct vfctl_config *cfg, unsigned flags,
		unsigned timeout_ms, struct vfctl_plan **ret)
{
	struct vfctl_plan *all = calloc(1, sizeof(*all)), *vfp = NULL;
	struct vfctl_host *host = NULL;
	int r, first = 0;

	if (!all)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
	r = vfctl_host_scan(ctx, VFCTL_SCAN_NETLINK, &host);
	if (r < 0)
		goto fail;
	r = plan_phases(ctx, cfg, host, PHASE_PF, all);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < all->n; i++)
		run_pf_change(ctx, cfg, host, &all->changes[i], flags, timeout_ms);

	if (all->n) {	/* the VFs as they are now */
		vfctl_host_free(host);
		host = NULL;
		r = vfctl_host_scan(ctx, VFCTL_SCAN_NETLINK, &host);
		if (r < 0)
			goto fail;
	}
	vfp = calloc(1, sizeof(*vfp));
	if (!vfp) {
		r = vfctl_ctx_set_error(ctx, -ENOMEM, "out of memory");
		goto fail;
	}
	r = plan_phases(ctx, cfg, host, PHASE_VF, vfp);
	if (r < 0)
		goto fail;
	/* The attributes first, a vfctl_vf_set per VF... */
	for (size_t i = 0; i < vfp->n;) {
		struct vfctl_change *ch = &vfp->changes[i];
		size_t j = i;

		if (!ch->vf_known) {	/* the VF did not appear: its PF change failed */
			change_failed(ch, -ENODEV, "no such VF: the VF count is not what the "
				      "config says");
			i++;
			continue;
		}
		if (ch->kind != VFCTL_CHANGE_VF_ATTR) {
			i++;
			continue;
		}
		while (j < vfp->n && vfp->changes[j].kind == VFCTL_CHANGE_VF_ATTR &&
		       vfp->changes[j].vf_index == ch->vf_index && !strcmp(vfp->changes[j].pf, ch->pf))
			j++;
		run_vf_attrs(ctx, cfg, host, ch, j - i, flags);
		i = j;
	}
	/* ...then the drivers, on a fresh scan: vfctl_bind() pins the VF's
	 * current MAC as its admin MAC, which must be the one just set. */
	for (size_t i = 0; i < vfp->n; i++) {
		struct vfctl_change *ch = &vfp->changes[i];

		if (ch->kind != VFCTL_CHANGE_DRIVER || ch->err)
			continue;
		if (host) {
			vfctl_host_free(host);
			host = NULL;
			r = vfctl_host_scan(ctx, VFCTL_SCAN_NETLINK, &host);
			if (r < 0)
				goto fail;
		}
		/* the config names the driver: load it as the operator would */
		r = vfctl_bind(ctx, host, ch->dev, ch->to, VFCTL_BIND_MODPROBE |
			       ((flags & VFCTL_APPLY_FORCE) ? VFCTL_BIND_FORCE : 0), timeout_ms);
		if (r < 0)
			change_failed(ch, r, vfctl_ctx_error(ctx));
	}
	r = plan_append(ctx, all, vfp);
	if (r < 0)
		goto fail;
	vfctl_plan_free(vfp);
	vfctl_host_free(host);
	for (size_t i = 0; i < all->n && !first; i++)
		first = all->changes[i].err;
	if (first)
		for (size_t i = 0; i < all->n; i++)
			if (all->changes[i].err) {
				vfctl_ctx_set_error(ctx, first, "%s", all->changes[i].error ?
					  all->changes[i].error : strerror(-first));
				break;
			}
	*ret = all;
	return first;
fail:
	vfctl_plan_free(vfp);
	vfctl_plan_free(all);
	vfctl_host_free(host);
	return r;
}
