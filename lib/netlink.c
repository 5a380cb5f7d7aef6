// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The PF driver's view of its VFs, from RTM_GETLINK with RTEXT_FILTER_VF,
 * parsed by libnl-route's rtnl_link_vf API.
 */
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>

#include "internal.h"

/* IFLA_VFINFO_LIST is about 280 bytes a VF: let the socket hold a PF with
 * thousands of VFs, and let libnl peek each message's size before reading. */
#define NL_RCVBUF (4 << 20)

struct getlink_state {
	struct rtnl_link *link;
	int kernel_err;		/* -errno from an NLMSG_ERROR reply */
};

static void on_object(struct nl_object *obj, void *arg)
{
	struct getlink_state *st = arg;

	if (!st->link && !strcmp(nl_object_get_type(obj), "route/link")) {
		nl_object_get(obj);
		st->link = (struct rtnl_link *)obj;
	}
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	nl_msg_parse(msg, on_object, arg);
	return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct getlink_state *st = arg;

	(void)nla;
	st->kernel_err = e->error;
	return NL_STOP;
}

static void vf_fill(struct rtnl_link_vf *vf, struct vfctl_vf_config *c)
{
	struct nl_addr *addr = NULL;
	nl_vf_vlans_t *vlans = NULL;
	struct nl_vf_rate rate;
	uint32_t v;

	memset(c, 0, sizeof(*c));
	c->valid = true;
	c->link_state = -1;
	c->spoofchk = c->trust = c->query_rss = VFCTL_UNKNOWN;

	/* borrowed: libnl takes no reference for the caller here */
	if (rtnl_link_vf_get_addr(vf, &addr) == 0 && addr)
		nl_addr2str(addr, c->mac, sizeof(c->mac));
	/* libnl leaves VLAN 0 and zero rates out: absent means 0 here */
	if (rtnl_link_vf_get_vlans(vf, &vlans) == 0 && vlans) {
		if (vlans->size > 0) {
			c->vlan = vlans->vlans[0].vf_vlan;
			c->qos = vlans->vlans[0].vf_vlan_qos;
			c->vlan_proto = vlans->vlans[0].vf_vlan_proto;
		}
		rtnl_link_vf_vlan_put(vlans);
	}
	if (!c->vlan_proto)
		c->vlan_proto = 0x8100;
	if (rtnl_link_vf_get_rate(vf, &rate) == 0) {
		if (rate.api == RTNL_LINK_VF_RATE_API_OLD) {
			c->max_tx_rate = rate.rate;
		} else {
			c->max_tx_rate = rate.max_tx_rate;
			c->min_tx_rate = rate.min_tx_rate;
		}
	}
	if (rtnl_link_vf_get_spoofchk(vf, &v) == 0)
		c->spoofchk = v ? VFCTL_ON : VFCTL_OFF;
	if (rtnl_link_vf_get_trust(vf, &v) == 0)
		c->trust = v ? VFCTL_ON : VFCTL_OFF;
	if (rtnl_link_vf_get_rss_query_en(vf, &v) == 0)
		c->query_rss = v ? VFCTL_ON : VFCTL_OFF;
	if (rtnl_link_vf_get_linkstate(vf, &v) == 0)
		c->link_state = (int)v;
}

void nl_link_fill_vfs(struct rtnl_link *link, struct vfctl_func *pf)
{
	for (size_t i = 0; i < pf->n_vfs; i++) {
		struct rtnl_link_vf *vf;

		if (!pf->vfs[i])
			continue;
		vf = rtnl_link_vf_get(link, (uint32_t)i);
		if (!vf)
			continue;	/* the driver reports fewer VFs than sysfs has */
		vf_fill(vf, &pf->vfs[i]->config);
		rtnl_link_vf_put(vf);
	}
}

int nl_parse_link(struct nl_msg *msg, struct rtnl_link **ret)
{
	struct getlink_state st = { 0 };

	/* a recorded message has no socket to say which family it is */
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	nl_msg_parse(msg, on_object, &st);
	if (!st.link)
		return -EBADMSG;
	*ret = st.link;
	return 0;
}

int nl_read_pf_vfs(struct vfctl_ctx *ctx, struct vfctl_func *pf)
{
	const struct vfctl_netdev *nd = &pf->netdevs[0];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = nd->ifindex };
	struct getlink_state st = { 0 };
	struct nl_sock *sk = NULL;
	struct nl_msg *msg = NULL;
	int r;

	sk = nl_socket_alloc();
	if (!sk)
		return vfctl_err(ctx, -ENOMEM, "out of memory");
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		r = vfctl_err(ctx, -EIO, "%s: rtnetlink socket: %s", nd->name, nl_geterror(r));
		goto out;
	}
	nl_socket_set_buffer_size(sk, NL_RCVBUF, 0);
	nl_socket_enable_msg_peek(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &st);
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_error, &st);

	msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST);
	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF) < 0) {
		r = vfctl_err(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	r = nl_send_auto(sk, msg);
	if (r >= 0)
		r = nl_recvmsgs_default(sk);
	if (st.kernel_err < 0) {
		r = vfctl_err(ctx, st.kernel_err, "%s (ifindex %d): RTM_GETLINK: %s; is the "
			      "interface still there ('ip link show %s')?", nd->name, nd->ifindex,
			      strerror(-st.kernel_err), nd->name);
		goto out;
	}
	if (r < 0 || !st.link) {
		r = vfctl_err(ctx, -EIO, "%s (ifindex %d): RTM_GETLINK: %s", nd->name, nd->ifindex,
			      r < 0 ? nl_geterror(r) : "no link in the reply");
		goto out;
	}
	nl_link_fill_vfs(st.link, pf);
	r = 0;
out:
	if (st.link)
		rtnl_link_put(st.link);
	nlmsg_free(msg);
	nl_socket_free(sk);
	return r;
}
