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

/* One request and what came back for it. */
struct nl_req {
	struct rtnl_link *link;	/* the first RTM_NEWLINK of the reply */
	int kernel_err;		/* -errno from an NLMSG_ERROR reply */
	bool acked;
};

static void on_object(struct nl_object *obj, void *arg)
{
	struct nl_req *req = arg;

	if (!req->link && !strcmp(nl_object_get_type(obj), "route/link")) {
		nl_object_get(obj);
		req->link = (struct rtnl_link *)obj;
	}
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	nl_msg_parse(msg, on_object, arg);
	return NL_OK;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;

	(void)msg;
	req->acked = true;
	return NL_STOP;
}

/* libnl would turn the kernel's errno into one of its own codes (and
 * strerror text into its own): keep the kernel's. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nl_req *req = arg;

	(void)nla;
	req->kernel_err = e->error;
	return NL_STOP;
}

int vfctl_nl_route_open(struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return r == -NLE_NOMEM ? -ENOMEM : -EIO;
	}
	nl_socket_set_buffer_size(sk, NL_RCVBUF, 0);
	nl_socket_enable_msg_peek(sk);
	*ret = sk;
	return 0;
}

/* Send msg (libnl adds NLM_F_ACK) and read until its ack or error, so the
 * socket is clean for the next request. Callbacks are per request: the
 * socket's own set never points at a stack frame that is gone. */
static int nl_talk(struct nl_sock *sk, struct nl_msg *msg, struct nl_req *req)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int r;

	if (!cb)
		return -NLE_NOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, req);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, req);
	r = nl_send_auto(sk, msg);
	while (r >= 0 && !req->acked && !req->kernel_err)
		r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	return r < 0 ? r : 0;
}

int vfctl_nl_request_ack(struct nl_sock *sk, struct nl_msg *msg)
{
	struct nl_req req = { 0 };
	int r = nl_talk(sk, msg, &req);

	if (req.link)
		rtnl_link_put(req.link);
	if (req.kernel_err < 0)
		return req.kernel_err;
	if (r < 0)
		return r == -NLE_NOMEM ? -ENOMEM : -EIO;
	return 0;
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

int vfctl_nl_link_vf_config(struct rtnl_link *link, unsigned vf_index, struct vfctl_vf_config *ret)
{
	struct rtnl_link_vf *vf = rtnl_link_vf_get(link, vf_index);

	if (!vf)
		return -ENOENT;
	vf_fill(vf, ret);
	rtnl_link_vf_put(vf);
	return 0;
}

void vfctl_nl_link_fill_vfs(struct rtnl_link *link, struct vfctl_func *pf)
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

int vfctl_nl_parse_link(struct nl_msg *msg, struct rtnl_link **ret)
{
	struct nl_req st = { 0 };

	/* a recorded message has no socket to say which family it is */
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	nl_msg_parse(msg, on_object, &st);
	if (!st.link)
		return -EBADMSG;
	*ret = st.link;
	return 0;
}

int vfctl_nl_get_link(struct vfctl_ctx *ctx, struct nl_sock *sk, const struct vfctl_netdev *nd,
		struct rtnl_link **ret)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = nd->ifindex };
	struct nl_req req = { 0 };
	struct nl_msg *msg;
	int r;

	msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST);
	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF) < 0) {
		r = vfctl_err(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	r = nl_talk(sk, msg, &req);
	if (req.kernel_err < 0) {
		r = vfctl_err(ctx, req.kernel_err, "%s (ifindex %d): RTM_GETLINK: %s; is the "
			      "interface still there ('ip link show %s')?", nd->name, nd->ifindex,
			      strerror(-req.kernel_err), nd->name);
		goto out;
	}
	if (r < 0 || !req.link) {
		r = vfctl_err(ctx, -EIO, "%s (ifindex %d): RTM_GETLINK: %s", nd->name, nd->ifindex,
			      r < 0 ? nl_geterror(r) : "no link in the reply");
		goto out;
	}
	*ret = TAKE_PTR(req.link);
	r = 0;
out:
	if (req.link)
		rtnl_link_put(req.link);
	nlmsg_free(msg);
	return r;
}

int vfctl_nl_read_pf_vfs(struct vfctl_ctx *ctx, struct vfctl_func *pf)
{
	const struct vfctl_netdev *nd = pf->netdevs[0];
	struct rtnl_link *link = NULL;
	struct nl_sock *sk = NULL;
	int r;

	r = vfctl_nl_route_open(&sk);
	if (r < 0)
		return vfctl_err(ctx, r, "%s: rtnetlink socket: %s", nd->name, strerror(-r));
	r = vfctl_nl_get_link(ctx, sk, nd, &link);
	if (r == 0) {
		vfctl_nl_link_fill_vfs(link, pf);
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return r;
}
