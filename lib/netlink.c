// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The PF driver's view of its VFs, from RTM_GETLINK with RTEXT_FILTER_VF.
 *
 * The reply is parsed here, not by libnl-route's link parser: the kernel
 * nests every VF's IFLA_VF_INFO (about 290 bytes each) in one
 * IFLA_VFINFO_LIST, whose 16-bit nla_len wraps past 64 KiB (about 220 VFs;
 * rtnl_fill_vf() does not check). libnl then sees only the VFs within the
 * wrapped length and takes the rest for top-level attributes. Here the list
 * runs over every IFLA_VF_INFO that follows, up to IFLA_NUM_VF of them, and
 * must end where the wrapped length says modulo 64 KiB.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "internal.h"

/* IFLA_VFINFO_LIST is about 280 bytes a VF: let the socket hold a PF with
 * thousands of VFs, and let libnl peek each message's size before reading. */
#define NL_RCVBUF (4 << 20)

/* One request and what came back for it. */
struct nl_req {
	struct nl_msg *reply;	/* the first RTM_NEWLINK of the reply */
	int kernel_err;		/* -errno from an NLMSG_ERROR reply */
	bool acked;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;

	if (!req->reply && nlmsg_hdr(msg)->nlmsg_type == RTM_NEWLINK) {
		nlmsg_get(msg);
		req->reply = msg;
	}
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

	if (req.reply)
		nlmsg_free(req.reply);
	if (req.kernel_err < 0)
		return req.kernel_err;
	if (r < 0)
		return r == -NLE_NOMEM ? -ENOMEM : -EIO;
	return 0;
}

static int setting(const void *p)
{
	uint32_t v;

	memcpy(&v, (const char *)p + sizeof(uint32_t), sizeof(v));
	/* the kernel's -1: the driver does not report it */
	return v == UINT32_MAX ? VFCTL_UNKNOWN : v ? VFCTL_ON : VFCTL_OFF;
}

/* Every IFLA_VF_* payload starts with the VF's index (__u32 vf). */
static const size_t vf_attr_size[IFLA_VF_MAX + 1] = {
	[IFLA_VF_MAC] = sizeof(struct ifla_vf_mac),
	[IFLA_VF_VLAN] = sizeof(struct ifla_vf_vlan),
	[IFLA_VF_TX_RATE] = sizeof(struct ifla_vf_tx_rate),
	[IFLA_VF_SPOOFCHK] = sizeof(struct ifla_vf_spoofchk),
	[IFLA_VF_LINK_STATE] = sizeof(struct ifla_vf_link_state),
	[IFLA_VF_RATE] = sizeof(struct ifla_vf_rate),
	[IFLA_VF_RSS_QUERY_EN] = sizeof(struct ifla_vf_rss_query_en),
	[IFLA_VF_TRUST] = sizeof(struct ifla_vf_trust),
};

/* One IFLA_VF_INFO: its VF index and settings; -EBADMSG if malformed. */
static int vf_parse(const struct nlattr *info, uint32_t *index, struct vfctl_vf_config *c)
{
	struct nlattr *tb[IFLA_VF_MAX + 1] = { 0 };
	bool have_index = false;

	if (nla_parse_nested(tb, IFLA_VF_MAX, (struct nlattr *)info, NULL) < 0)
		return -EBADMSG;
	memset(c, 0, sizeof(*c));
	c->valid = true;
	c->link_state = -1;
	c->spoofchk = c->trust = c->query_rss = VFCTL_UNKNOWN;
	for (int t = 0; t <= IFLA_VF_MAX; t++) {
		if (!tb[t] || !vf_attr_size[t])
			continue;
		if ((size_t)nla_len(tb[t]) < vf_attr_size[t])
			return -EBADMSG;
		if (!have_index) {
			memcpy(index, nla_data(tb[t]), sizeof(*index));
			have_index = true;
		}
	}
	if (tb[IFLA_VF_MAC]) {
		const uint8_t *m = ((const struct ifla_vf_mac *)nla_data(tb[IFLA_VF_MAC]))->mac;

		snprintf(c->mac, sizeof(c->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
			 m[3], m[4], m[5]);
	}
	/* the list form carries the protocol (big endian); its first entry
	 * is what IFLA_VF_VLAN says too */
	if (tb[IFLA_VF_VLAN_LIST]) {
		struct nlattr *v;
		int rem;

		nla_for_each_nested(v, tb[IFLA_VF_VLAN_LIST], rem) {
			struct ifla_vf_vlan_info vi;

			if (nla_type(v) != IFLA_VF_VLAN_INFO || (size_t)nla_len(v) < sizeof(vi))
				continue;
			memcpy(&vi, nla_data(v), sizeof(vi));
			if (!have_index)
				*index = vi.vf;
			have_index = true;
			c->vlan = vi.vlan;
			c->qos = vi.qos;
			c->vlan_proto = ntohs(vi.vlan_proto);
			break;
		}
	} else if (tb[IFLA_VF_VLAN]) {
		struct ifla_vf_vlan v;

		memcpy(&v, nla_data(tb[IFLA_VF_VLAN]), sizeof(v));
		c->vlan = v.vlan;
		c->qos = v.qos;
	}
	if (!have_index)
		return -EBADMSG;
	/* 0: a driver that leaves it unset (netdevsim) means 802.1Q */
	if (!c->vlan_proto)
		c->vlan_proto = 0x8100;
	if (tb[IFLA_VF_RATE]) {
		struct ifla_vf_rate v;

		memcpy(&v, nla_data(tb[IFLA_VF_RATE]), sizeof(v));
		c->max_tx_rate = v.max_tx_rate;
		c->min_tx_rate = v.min_tx_rate;
	} else if (tb[IFLA_VF_TX_RATE]) {
		struct ifla_vf_tx_rate v;

		memcpy(&v, nla_data(tb[IFLA_VF_TX_RATE]), sizeof(v));
		c->max_tx_rate = v.rate;
	}
	if (tb[IFLA_VF_SPOOFCHK])
		c->spoofchk = setting(nla_data(tb[IFLA_VF_SPOOFCHK]));
	if (tb[IFLA_VF_TRUST])
		c->trust = setting(nla_data(tb[IFLA_VF_TRUST]));
	if (tb[IFLA_VF_RSS_QUERY_EN])
		c->query_rss = setting(nla_data(tb[IFLA_VF_RSS_QUERY_EN]));
	if (tb[IFLA_VF_LINK_STATE]) {
		struct ifla_vf_link_state v;

		memcpy(&v, nla_data(tb[IFLA_VF_LINK_STATE]), sizeof(v));
		c->link_state = (int)v.link_state;
	}
	return 0;
}

/* The IFLA_VF_INFOs of the list at a (of the message ending at end):
 * their number in *n and the list's real size (header included) in
 * *size. Consecutive IFLA_VF_INFOs, at most num_vf, that end where a's
 * nla_len says modulo 64 KiB; -EBADMSG if they do not. */
static int vflist_extent(const struct nlattr *a, const char *end, uint32_t num_vf, size_t *n,
			 size_t *size)
{
	const char *p = (const char *)nla_data(a);
	size_t count = 0;

	while (count < num_vf && end - p >= NLA_HDRLEN) {
		const struct nlattr *info = (const struct nlattr *)p;

		if (nla_type(info) != IFLA_VF_INFO || (size_t)info->nla_len < NLA_HDRLEN ||
		    (size_t)NLA_ALIGN(info->nla_len) > (size_t)(end - p))
			break;
		p += NLA_ALIGN(info->nla_len);
		count++;
	}
	if (((size_t)(p - (const char *)a) & 0xffff) != a->nla_len)
		return -EBADMSG;
	*n = count;
	*size = (size_t)(p - (const char *)a);
	return 0;
}

int vfctl_nl_parse_link(struct nl_msg *msg, struct vfctl_nl_link **ret)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	const struct nlattr *list = NULL;
	const char *p, *end;
	struct vfctl_nl_link *l;
	char name[VFCTL_IFNAME_LEN] = "";
	uint32_t num_vf = 0;
	size_t n = 0, size;
	int r;

	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_SPACE(sizeof(struct ifinfomsg)))
		return -EBADMSG;
	p = (const char *)nlmsg_attrdata(h, sizeof(struct ifinfomsg));
	end = (const char *)h + h->nlmsg_len;
	while (end - p >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > (size_t)(end - p))
			return -EBADMSG;
		size = NLA_ALIGN(a->nla_len);
		switch (nla_type(a)) {
		case IFLA_IFNAME:
			if (nla_len(a) < 1 || nla_len(a) > VFCTL_IFNAME_LEN ||
			    memchr(nla_data(a), '\0', (size_t)nla_len(a)) == NULL)
				return -EBADMSG;
			strcpy(name, nla_data(a));
			break;
		case IFLA_NUM_VF:
			if (nla_len(a) < (int)sizeof(uint32_t))
				return -EBADMSG;
			memcpy(&num_vf, nla_data(a), sizeof(num_vf));
			break;
		case IFLA_VFINFO_LIST:
			/* the kernel puts IFLA_NUM_VF first; without it, trust nla_len */
			if (list)
				return -EBADMSG;
			if (num_vf)
				r = vflist_extent(a, end, num_vf, &n, &size);
			else
				r = vflist_extent(a, p + a->nla_len, UINT32_MAX, &n, &size);
			if (r < 0)
				return r;
			list = a;
			size = NLA_ALIGN(size);
			break;
		}
		if (size > (size_t)(end - p))
			break;
		p += size;
	}
	l = calloc(1, sizeof(*l) + n * sizeof(l->vfs[0]));
	if (!l)
		return -ENOMEM;
	strcpy(l->name, name);
	for (const char *q = list ? (const char *)nla_data(list) : NULL; l->n_vfs < n;) {
		const struct nlattr *info = (const struct nlattr *)q;

		r = vf_parse(info, &l->vfs[l->n_vfs].index, &l->vfs[l->n_vfs].config);
		if (r < 0) {
			free(l);
			return r;
		}
		l->n_vfs++;
		q += NLA_ALIGN(info->nla_len);
	}
	*ret = l;
	return 0;
}

void vfctl_nl_link_free(struct vfctl_nl_link *l)
{
	free(l);
}

int vfctl_nl_link_vf_config(const struct vfctl_nl_link *l, unsigned vf_index,
			    struct vfctl_vf_config *ret)
{
	/* in index order as the kernel sends them; search if a driver skipped one */
	if (vf_index < l->n_vfs && l->vfs[vf_index].index == vf_index) {
		*ret = l->vfs[vf_index].config;
		return 0;
	}
	for (size_t i = 0; i < l->n_vfs; i++)
		if (l->vfs[i].index == vf_index) {
			*ret = l->vfs[i].config;
			return 0;
		}
	return -ENOENT;
}

void vfctl_nl_link_fill_vfs(const struct vfctl_nl_link *l, struct vfctl_func *pf)
{
	for (size_t i = 0; i < pf->n_vfs; i++)
		if (pf->vfs[i])
			/* the driver may report fewer VFs than sysfs has: those stay unread */
			vfctl_nl_link_vf_config(l, (unsigned)i, &pf->vfs[i]->config);
}

int vfctl_nl_get_link(struct vfctl_ctx *ctx, struct nl_sock *sk, const struct vfctl_netdev *nd,
		struct vfctl_nl_link **ret)
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
	if (r < 0 || !req.reply) {
		r = vfctl_err(ctx, -EIO, "%s (ifindex %d): RTM_GETLINK: %s", nd->name, nd->ifindex,
			      r < 0 ? nl_geterror(r) : "no link in the reply");
		goto out;
	}
	r = vfctl_nl_parse_link(req.reply, ret);
	if (r < 0)
		r = vfctl_err(ctx, r, "%s (ifindex %d): RTM_GETLINK: the reply is malformed (%s); "
			      "compare with 'ip -d link show %s'", nd->name, nd->ifindex,
			      strerror(-r), nd->name);
out:
	if (req.reply)
		nlmsg_free(req.reply);
	nlmsg_free(msg);
	return r;
}

int vfctl_nl_read_pf_vfs(struct vfctl_ctx *ctx, struct vfctl_func *pf)
{
	const struct vfctl_netdev *nd = pf->netdevs[0];
	struct vfctl_nl_link *link = NULL;
	struct nl_sock *sk = NULL;
	int r;

	r = vfctl_nl_route_open(&sk);
	if (r < 0)
		return vfctl_err(ctx, r, "%s: rtnetlink socket: %s", nd->name, strerror(-r));
	r = vfctl_nl_get_link(ctx, sk, nd, &link);
	if (r == 0) {
		vfctl_nl_link_fill_vfs(link, pf);
		vfctl_nl_link_free(link);
	}
	nl_socket_free(sk);
	return r;
}
