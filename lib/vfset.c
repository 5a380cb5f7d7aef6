// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Changing a VF's settings through its PF: one RTM_SETLINK per attribute
 * (IFLA_VFINFO_LIST > IFLA_VF_INFO > one IFLA_VF_*), as systemd's
 * netif-sriov.c does, so a driver that refuses one attribute (82599:
 * link-state enable, min rate, 802.1ad; igb: min rate, link-state,
 * query-rss) does not undo the others, and each refusal keeps the
 * kernel's errno. A restore (vfctl_vf_set_changed()) sends only what
 * differs from the driver's view, all of it in one message, and one per
 * attribute only when the driver refuses that.
 *
 * The messages are built here with libnl's message API rather than with
 * rtnl_link_vf_*() + rtnl_link_build_change_request(): libnl 3.7 writes
 * ifla_vf_vlan_info.vlan_proto in host byte order (the kernel wants it big
 * endian), so 802.1ad would reach the driver as 0xa888.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "internal.h"

/* rtnl_set_vf_rate() takes int: larger values would turn negative. */
#define RATE_MAX 2147483647u

static const char *const attr_names[_VFCTL_VF_ATTR_MAX] = {
	[VFCTL_VF_MAC] = "mac",
	[VFCTL_VF_VLAN] = "vlan",
	[VFCTL_VF_SPOOFCHK] = "spoofchk",
	[VFCTL_VF_TRUST] = "trust",
	[VFCTL_VF_MIN_TX_RATE] = "min-tx-rate",
	[VFCTL_VF_MAX_TX_RATE] = "max-tx-rate",
	[VFCTL_VF_LINK_STATE] = "link-state",
	[VFCTL_VF_QUERY_RSS] = "query-rss",
};

/* The order the kernel's do_setvfinfo() would apply them in one message. */
static const enum vfctl_vf_attr send_order[] = {
	VFCTL_VF_MAC, VFCTL_VF_VLAN, VFCTL_VF_MAX_TX_RATE, VFCTL_VF_MIN_TX_RATE,
	VFCTL_VF_SPOOFCHK, VFCTL_VF_LINK_STATE, VFCTL_VF_QUERY_RSS, VFCTL_VF_TRUST,
};

#define BIT(a) (1u << (a))
#define RATE_BITS (BIT(VFCTL_VF_MIN_TX_RATE) | BIT(VFCTL_VF_MAX_TX_RATE))

const char *vfctl_vf_attr_name(enum vfctl_vf_attr a)
{
	return (unsigned)a < _VFCTL_VF_ATTR_MAX ? attr_names[a] : NULL;
}

int vfctl_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t b[6];

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		char hex[3] = { p[0], p[1], '\0' };

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -EINVAL;
		b[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	memcpy(mac, b, sizeof(b));
	return 0;
}

#define SETTINGS_END(field) \
	(offsetof(struct vfctl_vf_settings, field) + sizeof(((struct vfctl_vf_settings *)0)->field))

/* The caller's settings as this library's struct (the bytes its size
 * covers, zeros after), refusing an attribute whose value lies past them. */
static int settings_in(struct vfctl_ctx *ctx, const struct vfctl_vf_settings *s,
		       struct vfctl_vf_settings *ret)
{
	/* where the last value each attribute reads ends */
	static const size_t attr_end[_VFCTL_VF_ATTR_MAX] = {
		[VFCTL_VF_MAC] = SETTINGS_END(mac),
		[VFCTL_VF_VLAN] = SETTINGS_END(vlan_proto),
		[VFCTL_VF_SPOOFCHK] = SETTINGS_END(spoofchk),
		[VFCTL_VF_TRUST] = SETTINGS_END(trust),
		[VFCTL_VF_MIN_TX_RATE] = SETTINGS_END(min_tx_rate),
		[VFCTL_VF_MAX_TX_RATE] = SETTINGS_END(max_tx_rate),
		[VFCTL_VF_LINK_STATE] = SETTINGS_END(link_state),
		[VFCTL_VF_QUERY_RSS] = SETTINGS_END(query_rss),
	};
	int r;

	if (!s)
		return vfctl_err(ctx, -EINVAL, "no VF settings given: %s", strerror(EINVAL));
	r = vfctl_sized_in(ret, sizeof(*ret), s);
	if (r == -EINVAL)
		return vfctl_err(ctx, r, "VF settings of size %zu: set .size = sizeof(struct "
				 "vfctl_vf_settings)", s->size);
	if (r == -E2BIG)
		return vfctl_err(ctx, r, "VF settings: a field this libvfctl does not know (past "
				 "its %zu bytes, in the caller's %zu) is set: %s; use a libvfctl "
				 "as new as the program's header", sizeof(*ret), s->size,
				 strerror(E2BIG));
	for (int a = 0; a < _VFCTL_VF_ATTR_MAX; a++)
		if ((ret->mask & BIT(a)) && attr_end[a] > s->size)
			return vfctl_err(ctx, -EINVAL, "VF settings: %s is in the mask but the "
					 "settings' size %zu does not reach its value", attr_names[a],
					 s->size);
	return 0;
}

/* s: the library's own full struct (settings_in()) */
static int settings_check(struct vfctl_ctx *ctx, const struct vfctl_vf_settings *s)
{
	unsigned m = s->mask;
	uint8_t mac[6];

	if (!m)
		return vfctl_err(ctx, -EINVAL, "nothing to set; give at least one of mac, vlan, "
				 "spoofchk, trust, max-tx-rate, min-tx-rate, link-state, query-rss");
	if (s->flags & ~(unsigned)VFCTL_VF_SET_FORCE)
		return vfctl_err(ctx, -EINVAL, "unknown flags 0x%x in the VF settings",
				 s->flags & ~(unsigned)VFCTL_VF_SET_FORCE);
	if (m & ~(BIT(_VFCTL_VF_ATTR_MAX) - 1))
		return vfctl_err(ctx, -EINVAL, "unknown attribute bits 0x%x in the settings mask",
				 m & ~(BIT(_VFCTL_VF_ATTR_MAX) - 1));
	if (m & BIT(VFCTL_VF_MAC)) {
		if (vfctl_mac_parse(s->mac, mac) < 0)
			return vfctl_err(ctx, -EINVAL, "mac '%.*s': not a MAC address; expected six "
					 "hex bytes as xx:xx:xx:xx:xx:xx", VFCTL_MAC_LEN - 1, s->mac);
		/* All zero is allowed: igb, ixgbe and i40e take it as "clear the
		 * administratively set MAC"; a driver that does not refuses it. */
		if (mac[0] & 1)
			return vfctl_err(ctx, -EINVAL, "mac %s: a multicast address cannot be a VF's "
					 "MAC; use a unicast one (first byte even, e.g. 02:...), or "
					 "00:00:00:00:00:00 to clear the admin MAC", s->mac);
	}
	if (m & BIT(VFCTL_VF_VLAN)) {
		if (s->vlan > 4095)
			return vfctl_err(ctx, -EINVAL, "vlan %u: out of range; expected 0-4095 "
					 "(0: no VLAN)", s->vlan);
		if (s->qos > 7)
			return vfctl_err(ctx, -EINVAL, "qos %u: out of range; expected 0-7", s->qos);
		if (s->vlan_proto && s->vlan_proto != ETH_P_8021Q && s->vlan_proto != ETH_P_8021AD)
			return vfctl_err(ctx, -EINVAL, "proto 0x%04x: expected 802.1Q (0x8100) or "
					 "802.1ad (0x88a8)", s->vlan_proto);
	} else if (s->qos || s->vlan_proto) {
		/* they only travel with a VLAN: without one they would be dropped */
		return vfctl_err(ctx, -EINVAL, "%s without vlan: give 'vlan V%s'",
				 s->qos ? "qos" : "proto", s->qos ? " qos Q" : " proto P");
	}
	if ((m & BIT(VFCTL_VF_MIN_TX_RATE)) && s->min_tx_rate > RATE_MAX)
		return vfctl_err(ctx, -EINVAL, "min-tx-rate %u: out of range; expected 0-%u Mb/s",
				 s->min_tx_rate, RATE_MAX);
	if ((m & BIT(VFCTL_VF_MAX_TX_RATE)) && s->max_tx_rate > RATE_MAX)
		return vfctl_err(ctx, -EINVAL, "max-tx-rate %u: out of range; expected 0-%u Mb/s "
				 "(0: no limit)", s->max_tx_rate, RATE_MAX);
	if ((m & RATE_BITS) == RATE_BITS && s->max_tx_rate && s->max_tx_rate < s->min_tx_rate)
		return vfctl_err(ctx, -EINVAL, "max-tx-rate %u is below min-tx-rate %u; expected "
				 "max-tx-rate 0 (no limit) or at least the minimum",
				 s->max_tx_rate, s->min_tx_rate);
	if ((m & BIT(VFCTL_VF_LINK_STATE)) && !vfctl_vf_link_state_str(s->link_state))
		return vfctl_err(ctx, -EINVAL, "link-state %d: expected auto (0), enable (1) or "
				 "disable (2)", s->link_state);
	return 0;
}

int vfctl_vf_settings_validate(struct vfctl_ctx *ctx, const struct vfctl_vf_settings *s)
{
	struct vfctl_vf_settings v;
	int r = settings_in(ctx, s, &v);

	return r < 0 ? r : settings_check(ctx, &v);
}

/* Attribute a of s (min and max tx rate: one IFLA_VF_RATE) into the
 * IFLA_VF_INFO being built in msg: 0, -EINVAL, -ENOMEM. */
static int put_attr(struct nl_msg *msg, unsigned vf, enum vfctl_vf_attr a,
		    const struct vfctl_vf_settings *s, const struct vfctl_vf_config *cur)
{
	struct nlattr *vlans;

	switch (a) {
	case VFCTL_VF_MAC: {
		struct ifla_vf_mac v = { .vf = vf };

		if (vfctl_mac_parse(s->mac, v.mac) < 0)
			return -EINVAL;
		return nla_put(msg, IFLA_VF_MAC, sizeof(v), &v) < 0 ? -ENOMEM : 0;
	}
	case VFCTL_VF_VLAN:
		if (s->vlan_proto == ETH_P_8021AD) {
			/* only the list form carries a protocol, big endian */
			struct ifla_vf_vlan_info v = { .vf = vf, .vlan = s->vlan, .qos = s->qos,
						       .vlan_proto = htons(ETH_P_8021AD) };

			if (!(vlans = nla_nest_start(msg, IFLA_VF_VLAN_LIST)) ||
			    nla_put(msg, IFLA_VF_VLAN_INFO, sizeof(v), &v) < 0)
				return -ENOMEM;
			nla_nest_end(msg, vlans);
			return 0;
		} else {
			struct ifla_vf_vlan v = { .vf = vf, .vlan = s->vlan, .qos = s->qos };

			return nla_put(msg, IFLA_VF_VLAN, sizeof(v), &v) < 0 ? -ENOMEM : 0;
		}
	case VFCTL_VF_MIN_TX_RATE:
	case VFCTL_VF_MAX_TX_RATE: {
		/* one attribute sets both: the one not given keeps its value */
		struct ifla_vf_rate v = { .vf = vf };

		if ((s->mask & RATE_BITS) != RATE_BITS && !cur)
			return -EINVAL;
		v.min_tx_rate = s->mask & BIT(VFCTL_VF_MIN_TX_RATE) ? s->min_tx_rate
								     : cur->min_tx_rate;
		v.max_tx_rate = s->mask & BIT(VFCTL_VF_MAX_TX_RATE) ? s->max_tx_rate
								     : cur->max_tx_rate;
		return nla_put(msg, IFLA_VF_RATE, sizeof(v), &v) < 0 ? -ENOMEM : 0;
	}
	case VFCTL_VF_SPOOFCHK: {
		struct ifla_vf_spoofchk v = { .vf = vf, .setting = s->spoofchk };

		return nla_put(msg, IFLA_VF_SPOOFCHK, sizeof(v), &v) < 0 ? -ENOMEM : 0;
	}
	case VFCTL_VF_TRUST: {
		struct ifla_vf_trust v = { .vf = vf, .setting = s->trust };

		return nla_put(msg, IFLA_VF_TRUST, sizeof(v), &v) < 0 ? -ENOMEM : 0;
	}
	case VFCTL_VF_LINK_STATE: {
		struct ifla_vf_link_state v = { .vf = vf, .link_state = (uint32_t)s->link_state };

		return nla_put(msg, IFLA_VF_LINK_STATE, sizeof(v), &v) < 0 ? -ENOMEM : 0;
	}
	case VFCTL_VF_QUERY_RSS: {
		struct ifla_vf_rss_query_en v = { .vf = vf, .setting = s->query_rss };

		return nla_put(msg, IFLA_VF_RSS_QUERY_EN, sizeof(v), &v) < 0 ? -ENOMEM : 0;
	}
	default:
		return -EINVAL;
	}
}

int vfctl_vf_set_msg_mask(int ifindex, unsigned vf, unsigned mask,
			  const struct vfctl_vf_settings *s, const struct vfctl_vf_config *cur,
			  struct nl_msg **ret)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nlattr *list, *info;
	bool rate_put = false;
	struct nl_msg *msg;
	int r = -ENOMEM;

	if (!mask || (mask & ~(BIT(_VFCTL_VF_ATTR_MAX) - 1)))
		return -EINVAL;
	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(list = nla_nest_start(msg, IFLA_VFINFO_LIST)) ||
	    !(info = nla_nest_start(msg, IFLA_VF_INFO)))
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(send_order); i++) {
		enum vfctl_vf_attr a = send_order[i];

		if (!(mask & BIT(a)))
			continue;
		if (BIT(a) & RATE_BITS) {
			if (rate_put)
				continue;
			rate_put = true;
		}
		r = put_attr(msg, vf, a, s, cur);
		if (r < 0)
			goto fail;
	}
	nla_nest_end(msg, info);
	nla_nest_end(msg, list);
	*ret = msg;
	return 0;
fail:
	nlmsg_free(msg);
	return r;
}

int vfctl_vf_set_msg(int ifindex, unsigned vf, enum vfctl_vf_attr a,
		     const struct vfctl_vf_settings *s, const struct vfctl_vf_config *cur,
		     struct nl_msg **ret)
{
	if ((unsigned)a >= _VFCTL_VF_ATTR_MAX)
		return -EINVAL;
	return vfctl_vf_set_msg_mask(ifindex, vf, BIT(a), s, cur, ret);
}

static bool setting_is(int cur, bool want)
{
	return cur != VFCTL_UNKNOWN && (cur == VFCTL_ON) == want;
}

unsigned vfctl_vf_settings_diff(const struct vfctl_vf_settings *s, const struct vfctl_vf_config *cur)
{
	unsigned same = 0;
	uint8_t a[6], b[6];

	if (!cur->valid)
		return s->mask;
	if (vfctl_mac_parse(s->mac, a) == 0 && vfctl_mac_parse(cur->mac, b) == 0 &&
	    !memcmp(a, b, sizeof(a)))
		same |= BIT(VFCTL_VF_MAC);
	/* no protocol (given, or reported) is 802.1Q, as the kernel takes it */
	if (s->vlan == cur->vlan && s->qos == cur->qos &&
	    (s->vlan_proto ? s->vlan_proto : ETH_P_8021Q) ==
	    (cur->vlan_proto ? cur->vlan_proto : ETH_P_8021Q))
		same |= BIT(VFCTL_VF_VLAN);
	if (s->min_tx_rate == cur->min_tx_rate)
		same |= BIT(VFCTL_VF_MIN_TX_RATE);
	if (s->max_tx_rate == cur->max_tx_rate)
		same |= BIT(VFCTL_VF_MAX_TX_RATE);
	if (setting_is(cur->spoofchk, s->spoofchk))
		same |= BIT(VFCTL_VF_SPOOFCHK);
	if (setting_is(cur->trust, s->trust))
		same |= BIT(VFCTL_VF_TRUST);
	if (setting_is(cur->query_rss, s->query_rss))
		same |= BIT(VFCTL_VF_QUERY_RSS);
	if (cur->link_state >= 0 && cur->link_state == s->link_state)
		same |= BIT(VFCTL_VF_LINK_STATE);
	return s->mask & ~same;
}

/* An RTM_SETLINK with no attribute changes nothing, but the kernel checks
 * CAP_NET_ADMIN first: it tells a missing privilege from a driver's EPERM. */
static int may_setlink(struct nl_sock *sk, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	int r;

	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r >= 0)
		r = vfctl_nl_request_ack(sk, msg);
	nlmsg_free(msg);
	return r;
}

/* Where the VF's settings go: its PF's netdev on the live system. */
static int check_target(struct vfctl_ctx *ctx, const struct vfctl_func *pf, unsigned vf_index,
			bool force)
{
	int n;

	if (!pf || pf->kind != VFCTL_FUNC_PF)
		return vfctl_err(ctx, -EINVAL, "%s is not an SR-IOV PF; VF settings are changed "
				 "through the VF's PF", pf ? pf->addr : "(null)");
	n = pf->numvfs >= 0 ? pf->numvfs : (int)pf->n_vfs;
	if (n <= 0)
		return vfctl_err(ctx, -ENODEV, "%s has no VFs (sriov_numvfs is 0): no VF %u; "
				 "create VFs first", pf->addr, vf_index);
	if (vf_index >= (unsigned)n)
		return vfctl_err(ctx, -ENODEV, "%s has %d VF%s (index 0-%d): no VF %u", pf->addr, n,
				 n == 1 ? "" : "s", n - 1, vf_index);
	/* a software PF's VFs have no address vfctld could lease */
	if (!force && vf_index < pf->n_vfs && pf->vfs[vf_index] && pf->vfs[vf_index]->addr[0]) {
		int r = vfctl_lease_guard(ctx, pf->vfs[vf_index]->addr, false,
					  "changing its settings");

		if (r < 0)
			return r;
	}
	if (!ctx->live)
		return vfctl_err(ctx, -EOPNOTSUPP, "%s vf %u: nothing sent: netlink is not "
				 "available for the non-live sysfs root %s (it does not describe "
				 "this kernel's interfaces); vfctl set changes the live /sys only",
				 pf->addr, vf_index, ctx->sys.path);
	if (pf->n_netdevs == 0 || pf->netdevs[0]->ifindex <= 0)
		return vfctl_err(ctx, -ENODEV, "%s has no netdev (driver %s); VF settings go "
				 "through the PF's netdev: bind the PF to its network driver",
				 pf->addr, pf->driver ? pf->driver : "none");
	return 0;
}

/* Attributes that go in one IFLA_VF_INFO each: min and max tx rate share one. */
static unsigned attr_count(unsigned mask)
{
	return (unsigned)__builtin_popcount(mask & ~RATE_BITS) + !!(mask & RATE_BITS);
}

/* res is written once the first attribute went to the kernel (then the
 * return value is 0 or the first refusal's -errno); a failure before that
 * (bad settings or target, not live, lock, socket, no privilege) leaves it
 * untouched: nothing was changed. only_changed: send only what differs
 * from the fresh read, all of it in one message when the driver takes it
 * (vfctl set keeps one per attribute: a repeat after a refusal would set
 * the earlier ones twice, and a VLAN change resets the VF on some NICs). */
static int vf_set(struct vfctl_ctx *ctx, const struct vfctl_func *pf, unsigned vf_index,
		  const struct vfctl_vf_settings *caller_s, struct vfctl_vf_set_result *res,
		  bool only_changed)
{
	const struct vfctl_netdev *nd;
	struct vfctl_vf_config cur;
	struct vfctl_vf_settings v;
	const struct vfctl_vf_settings *s = &v;
	struct vfctl_vf_set_result out = { .size = sizeof(out) };
	_cleanup_close_ int lock = -1;
	struct vfctl_nl_link *link = NULL;
	struct nl_sock *sk = NULL;
	bool rate_sent = false, sent = false;
	unsigned send;
	int r, first = 0;

	if (!res || res->size < sizeof(res->size))
		return vfctl_err(ctx, -EINVAL, "VF set result of size %zu: set .size = "
				 "sizeof(struct vfctl_vf_set_result)", res ? res->size : 0);
	r = settings_in(ctx, caller_s, &v);
	if (r < 0)
		return r;
	r = settings_check(ctx, s);
	if (r < 0)
		return r;
	r = check_target(ctx, pf, vf_index, s->flags & VFCTL_VF_SET_FORCE);
	if (r < 0)
		return r;
	nd = pf->netdevs[0];

	/* With the PF's lock, numvfs does not change under us, and two rate
	 * changes do not interleave their read of the other rate. */
	r = vfctl_pf_lock(ctx, pf->addr, &lock);
	if (r < 0)
		return r;
	r = vfctl_nl_route_open(&sk);
	if (r < 0)
		return vfctl_err(ctx, r, "%s: rtnetlink socket: %s", nd->name, strerror(-r));
	/* A fresh read: the VF must still be there, and an IFLA_VF_RATE
	 * with one rate given carries the other's current value. */
	r = vfctl_nl_get_link(ctx, sk, nd, &link);
	if (r < 0)
		goto out;
	if (strcmp(link->name, nd->name)) {
		r = vfctl_err(ctx, -ESTALE, "%s: ifindex %d is now %s; run the command again",
			      nd->name, nd->ifindex, link->name[0] ? link->name : "(unnamed)");
		goto out;
	}
	if (vfctl_nl_link_vf_config(link, vf_index, &cur) < 0) {
		r = vfctl_err(ctx, -ENODEV, "%s (%s): the driver reports no VF %u (were the VFs "
			      "changed meanwhile? 'vfctl show %s')", nd->name, pf->addr, vf_index,
			      pf->addr);
		goto out;
	}

	send = only_changed ? vfctl_vf_settings_diff(s, &cur) : s->mask;
	if (only_changed && attr_count(send) > 1) {
		/* The kernel's do_setvfinfo() applies them in send_order and
		 * stops at the first refusal: when one is refused, each goes
		 * again alone below for its own errno (a repeat is harmless). */
		struct nl_msg *msg = NULL;

		r = vfctl_vf_set_msg_mask(nd->ifindex, vf_index, send, s, &cur, &msg);
		if (r >= 0) {
			r = vfctl_nl_request_ack(sk, msg);
			nlmsg_free(msg);
		}
		if (r == 0)
			send = 0;	/* all of it applied: out.err stays 0 */
	}
	for (size_t i = 0; i < ARRAY_SIZE(send_order); i++) {
		enum vfctl_vf_attr a = send_order[i];
		unsigned bits = BIT(a);
		struct nl_msg *msg = NULL;

		if (!(send & bits))
			continue;
		if (bits & RATE_BITS) {
			if (rate_sent)
				continue;
			rate_sent = true;
			bits = send & RATE_BITS;
		}
		r = vfctl_vf_set_msg(nd->ifindex, vf_index, a, s, &cur, &msg);
		if (r >= 0) {
			r = vfctl_nl_request_ack(sk, msg);
			nlmsg_free(msg);
		}
		if (r == -EPERM && !sent && may_setlink(sk, nd->ifindex) == -EPERM) {
			/* not the driver: without the privilege nothing can apply */
			r = vfctl_err(ctx, r, "%s: RTM_SETLINK: %s; changing VF settings needs "
				      "CAP_NET_ADMIN (run as root)", nd->name, strerror(-r));
			goto out;
		}
		sent = true;
		for (int b = 0; b < _VFCTL_VF_ATTR_MAX; b++)
			if (bits & BIT(b))
				out.err[b] = r < 0 ? r : 0;
		if (r < 0 && !first) {
			first = r;
			vfctl_err(ctx, r, "%s vf %u (PF %s): %s refused: %s", nd->name, vf_index,
				  pf->addr, bits == RATE_BITS ? "max-tx-rate and min-tx-rate" :
				  attr_names[a], strerror(-r));
		}
	}
	vfctl_sized_out(res, &out, sizeof(out));
	if ((s->mask & BIT(VFCTL_VF_MAC)) && !out.err[VFCTL_VF_MAC] && !ctx->pinning_mac &&
	    vf_index < pf->n_vfs && pf->vfs[vf_index] && pf->vfs[vf_index]->addr[0])
		vfctl_admin_mac_note(ctx, pf->vfs[vf_index]->addr, s->mac);
	r = first;
out:
	vfctl_nl_link_free(link);
	nl_socket_free(sk);
	return r;
}

int vfctl_vf_set(struct vfctl_ctx *ctx, const struct vfctl_func *pf, unsigned vf_index,
		 const struct vfctl_vf_settings *s, struct vfctl_vf_set_result *res)
{
	return vf_set(ctx, pf, vf_index, s, res, false);
}

int vfctl_vf_set_changed(struct vfctl_ctx *ctx, const struct vfctl_func *pf, unsigned vf_index,
			 const struct vfctl_vf_settings *s, struct vfctl_vf_set_result *res)
{
	return vf_set(ctx, pf, vf_index, s, res, true);
}
