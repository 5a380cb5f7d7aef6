// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The PF's netlink view of its VFs, from an RTM_NEWLINK message laid out as
 * the kernel's rtnl_fill_vfinfo() does (one IFLA_VF_INFO per VF), with more
 * VFs than a page-sized or 16 KiB receive buffer could hold, and with so
 * many that IFLA_VFINFO_LIST passes 64 KiB and its nla_len wraps, as the
 * kernel sends it for 512 VFs.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include "internal.h"

#define N_VFS 300

static struct nl_msg *build_newlink(void)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 7 };
	struct nl_msg *msg = nlmsg_alloc_size(1 << 20);
	struct nlattr *list;

	assert_non_null(msg);
	assert_non_null(nlmsg_put(msg, 0, 0, RTM_NEWLINK, 0, 0));
	assert_int_equal(nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	assert_int_equal(nla_put_string(msg, IFLA_IFNAME, "enp3s0f0"), 0);
	assert_int_equal(nla_put_u32(msg, IFLA_NUM_VF, N_VFS), 0);
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	for (uint32_t i = 0; i < N_VFS; i++) {
		struct ifla_vf_mac mac = { .vf = i, .mac = { 0x02, 0x1b, 0x21, 0, i >> 8, i & 0xff } };
		struct ifla_vf_vlan vlan = { .vf = i, .vlan = i % 7 ? i % 4096 : 0, .qos = i % 8 };
		struct ifla_vf_tx_rate txr = { .vf = i, .rate = 0 };
		struct ifla_vf_rate rate = { .vf = i, .min_tx_rate = 0, .max_tx_rate = i % 3 ? 0 : 1000 };
		struct ifla_vf_spoofchk sc = { .vf = i, .setting = i % 2 };
		struct ifla_vf_link_state ls = { .vf = i, .link_state = i % 3 };
		struct ifla_vf_rss_query_en rss = { .vf = i, .setting = (uint32_t)-1 };
		struct ifla_vf_trust tr = { .vf = i, .setting = i == 5 };
		struct nlattr *info = nla_nest_start(msg, IFLA_VF_INFO);

		nla_put(msg, IFLA_VF_MAC, sizeof(mac), &mac);
		nla_put(msg, IFLA_VF_VLAN, sizeof(vlan), &vlan);
		nla_put(msg, IFLA_VF_TX_RATE, sizeof(txr), &txr);
		nla_put(msg, IFLA_VF_RATE, sizeof(rate), &rate);
		nla_put(msg, IFLA_VF_SPOOFCHK, sizeof(sc), &sc);
		nla_put(msg, IFLA_VF_LINK_STATE, sizeof(ls), &ls);
		nla_put(msg, IFLA_VF_RSS_QUERY_EN, sizeof(rss), &rss);
		nla_put(msg, IFLA_VF_TRUST, sizeof(tr), &tr);
		nla_nest_end(msg, info);
	}
	nla_nest_end(msg, list);
	return msg;
}

static void many_vfs_parse(void **state)
{
	struct nl_msg *msg = build_newlink();
	struct vfctl_func pf = { 0 }, vfs[N_VFS];
	struct vfctl_func *vfp[N_VFS];
	struct vfctl_nl_link *link = NULL;

	(void)state;
	/* bigger than libnl's default 16 KiB receive buffer */
	assert_true(nlmsg_hdr(msg)->nlmsg_len > 16384);
	assert_int_equal(vfctl_nl_parse_link(msg, &link), 0);
	memset(vfs, 0, sizeof(vfs));
	for (int i = 0; i < N_VFS; i++)
		vfp[i] = &vfs[i];
	pf.n_vfs = N_VFS;
	pf.vfs = vfp;
	vfctl_nl_link_fill_vfs(link, &pf);

	for (uint32_t i = 0; i < N_VFS; i++) {
		const struct vfctl_vf_config *c = &vfs[i].config;
		char mac[VFCTL_MAC_LEN];

		snprintf(mac, sizeof(mac), "02:1b:21:00:%02x:%02x", i >> 8, i & 0xff);
		assert_true(c->valid);
		assert_string_equal(c->mac, mac);
		/* a qos with VLAN 0 (priority tagging) is what the kernel says */
		assert_int_equal(c->vlan, i % 7 ? i % 4096 : 0);
		assert_int_equal(c->qos, i % 8);
		assert_int_equal(c->vlan_proto, 0x8100);
		assert_int_equal(c->spoofchk, i % 2 ? VFCTL_ON : VFCTL_OFF);
		assert_int_equal(c->trust, i == 5 ? VFCTL_ON : VFCTL_OFF);
		/* the kernel's -1: the driver does not report it */
		assert_int_equal(c->query_rss, VFCTL_UNKNOWN);
		assert_int_equal(c->link_state, (int)(i % 3));
		assert_int_equal(c->max_tx_rate, i % 3 ? 0 : 1000);
		assert_int_equal(c->min_tx_rate, 0);
	}
	assert_string_equal(link->name, "enp3s0f0");
	vfctl_nl_link_free(link);
	nlmsg_free(msg);
}

static void fewer_vfs_than_sysfs(void **state)
{
	struct nl_msg *msg = build_newlink();
	struct vfctl_func pf = { 0 }, extra = { 0 };
	struct vfctl_func *vfp[N_VFS + 1] = { 0 };
	struct vfctl_nl_link *link = NULL;

	(void)state;
	assert_int_equal(vfctl_nl_parse_link(msg, &link), 0);
	vfp[N_VFS] = &extra;
	pf.n_vfs = N_VFS + 1;
	pf.vfs = vfp;
	vfctl_nl_link_fill_vfs(link, &pf);
	/* a VF netlink does not describe stays "not read" */
	assert_false(extra.config.valid);
	vfctl_nl_link_free(link);
	nlmsg_free(msg);
}

#define BIG_VFS 512

/* One VF as rtnl_fill_vfinfo() of Linux 6.12 lays it out: broadcast,
 * VLAN list and the 8 statistics included, about 290 bytes. */
static void put_kernel_vf(struct nl_msg *msg, uint32_t i)
{
	struct ifla_vf_mac mac = { .vf = i, .mac = { 0x02, 0, 0, 0, i >> 8, i & 0xff } };
	struct ifla_vf_broadcast bc;
	struct ifla_vf_vlan vlan = { .vf = i, .vlan = i % 4095 + 1, .qos = i % 8 };
	struct ifla_vf_vlan_info vi = { .vf = i, .vlan = i % 4095 + 1, .qos = i % 8,
					.vlan_proto = htons(i % 5 ? 0x8100 : 0x88a8) };
	struct ifla_vf_rate rate = { .vf = i, .min_tx_rate = i % 10, .max_tx_rate = 100 + i };
	struct ifla_vf_tx_rate txr = { .vf = i, .rate = 100 + i };
	struct ifla_vf_spoofchk sc = { .vf = i, .setting = i % 2 };
	struct ifla_vf_link_state ls = { .vf = i, .link_state = i % 3 };
	struct ifla_vf_rss_query_en rss = { .vf = i, .setting = i % 4 == 1 };
	struct ifla_vf_trust tr = { .vf = i, .setting = i % 3 == 0 };
	struct nlattr *info, *vl, *st;

	memset(&bc, 0xff, sizeof(bc));
	info = nla_nest_start(msg, IFLA_VF_INFO);
	assert_non_null(info);
	nla_put(msg, IFLA_VF_MAC, sizeof(mac), &mac);
	nla_put(msg, IFLA_VF_BROADCAST, sizeof(bc), &bc);
	nla_put(msg, IFLA_VF_VLAN, sizeof(vlan), &vlan);
	nla_put(msg, IFLA_VF_RATE, sizeof(rate), &rate);
	nla_put(msg, IFLA_VF_TX_RATE, sizeof(txr), &txr);
	nla_put(msg, IFLA_VF_SPOOFCHK, sizeof(sc), &sc);
	nla_put(msg, IFLA_VF_LINK_STATE, sizeof(ls), &ls);
	nla_put(msg, IFLA_VF_RSS_QUERY_EN, sizeof(rss), &rss);
	nla_put(msg, IFLA_VF_TRUST, sizeof(tr), &tr);
	vl = nla_nest_start(msg, IFLA_VF_VLAN_LIST);
	nla_put(msg, IFLA_VF_VLAN_INFO, sizeof(vi), &vi);
	nla_nest_end(msg, vl);
	st = nla_nest_start(msg, IFLA_VF_STATS);
	for (int s = IFLA_VF_STATS_RX_PACKETS; s <= IFLA_VF_STATS_TX_DROPPED; s++)
		if (s != IFLA_VF_STATS_PAD)
			nla_put_u64(msg, s, (uint64_t)i * 1000 + (uint64_t)s);
	nla_nest_end(msg, st);
	nla_nest_end(msg, info);
}

/* n VFs in one IFLA_VFINFO_LIST whose 16-bit length is set as the kernel's
 * nla_nest_end() sets it (libnl's refuses past 64 KiB), followed by
 * attributes of the link as rtnl_fill_ifinfo() puts them after the list. */
static struct nl_msg *build_kernel_newlink(uint32_t n, uint32_t num_vf, int len_delta)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 9 };
	struct nl_msg *msg = nlmsg_alloc_size(1 << 20);
	struct nlattr *list, *af;
	size_t len;

	assert_non_null(msg);
	assert_non_null(nlmsg_put(msg, 0, 0, RTM_NEWLINK, 0, 0));
	assert_int_equal(nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	assert_int_equal(nla_put_string(msg, IFLA_IFNAME, "eni10np1"), 0);
	assert_int_equal(nla_put_u32(msg, IFLA_NUM_VF, num_vf), 0);
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	for (uint32_t i = 0; i < n; i++)
		put_kernel_vf(msg, i);
	len = (size_t)((char *)nlmsg_tail(nlmsg_hdr(msg)) - (char *)list);
	list->nla_len = (uint16_t)(len + (size_t)len_delta);
	/* after the list: IFLA_VF_INFO's type (1) is IFLA_ADDRESS up here */
	af = nla_nest_start(msg, IFLA_AF_SPEC);
	nla_put_u32(msg, 1, 0);
	nla_nest_end(msg, af);
	assert_int_equal(nla_put_u32(msg, IFLA_MTU, 1500), 0);
	return msg;
}

static void vfinfo_list_past_64k(void **state)
{
	struct nl_msg *msg = build_kernel_newlink(BIG_VFS, BIG_VFS, 0);
	struct nlattr *list = nlmsg_find_attr(nlmsg_hdr(msg), sizeof(struct ifinfomsg),
					      IFLA_VFINFO_LIST);
	struct vfctl_nl_link *link = NULL;
	struct vfctl_vf_config c;

	(void)state;
	assert_non_null(list);
	/* the list's real size is past what its nla_len can say */
	assert_true(nlmsg_hdr(msg)->nlmsg_len > 2 * 65536);
	assert_true(list->nla_len + 65536u < nlmsg_hdr(msg)->nlmsg_len);
	assert_int_equal(vfctl_nl_parse_link(msg, &link), 0);
	assert_string_equal(link->name, "eni10np1");
	assert_int_equal(link->n_vfs, BIG_VFS);
	for (uint32_t i = 0; i < BIG_VFS; i++) {
		char mac[VFCTL_MAC_LEN];

		assert_int_equal(vfctl_nl_link_vf_config(link, i, &c), 0);
		snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", i >> 8, i & 0xff);
		assert_true(c.valid);
		assert_string_equal(c.mac, mac);
		assert_int_equal(c.vlan, i % 4095 + 1);
		assert_int_equal(c.qos, i % 8);
		assert_int_equal(c.vlan_proto, i % 5 ? 0x8100 : 0x88a8);
		assert_int_equal(c.min_tx_rate, i % 10);
		assert_int_equal(c.max_tx_rate, 100 + i);
		assert_int_equal(c.spoofchk, i % 2 ? VFCTL_ON : VFCTL_OFF);
		assert_int_equal(c.link_state, (int)(i % 3));
		assert_int_equal(c.query_rss, i % 4 == 1 ? VFCTL_ON : VFCTL_OFF);
		assert_int_equal(c.trust, i % 3 == 0 ? VFCTL_ON : VFCTL_OFF);
	}
	assert_int_equal(vfctl_nl_link_vf_config(link, BIG_VFS, &c), -ENOENT);
	vfctl_nl_link_free(link);
	nlmsg_free(msg);
}

/* A list that does not end where its wrapped length says is refused, not
 * read as a different set of VFs. */
static void vfinfo_list_length_mismatch(void **state)
{
	struct vfctl_nl_link *link = (struct vfctl_nl_link *)0x1;
	struct nl_msg *msg;

	(void)state;
	msg = build_kernel_newlink(BIG_VFS, BIG_VFS, -8);
	assert_int_equal(vfctl_nl_parse_link(msg, &link), -EBADMSG);
	nlmsg_free(msg);
	/* fewer IFLA_VF_INFO than IFLA_NUM_VF: a driver refused one */
	msg = build_kernel_newlink(BIG_VFS, BIG_VFS + 3, 8);
	assert_int_equal(vfctl_nl_parse_link(msg, &link), -EBADMSG);
	nlmsg_free(msg);
	assert_ptr_equal(link, (struct vfctl_nl_link *)0x1);
	msg = build_kernel_newlink(BIG_VFS, BIG_VFS + 3, 0);
	assert_int_equal(vfctl_nl_parse_link(msg, &link), 0);
	assert_int_equal(link->n_vfs, BIG_VFS);
	vfctl_nl_link_free(link);
	nlmsg_free(msg);
}

static void not_a_link_message(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct vfctl_nl_link *link = (struct vfctl_nl_link *)0x1;

	(void)state;
	assert_non_null(nlmsg_put(msg, 0, 0, NLMSG_NOOP, 0, 0));
	assert_int_equal(vfctl_nl_parse_link(msg, &link), -EBADMSG);
	assert_ptr_equal(link, (struct vfctl_nl_link *)0x1);
	nlmsg_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_vfs_parse),
		cmocka_unit_test(fewer_vfs_than_sysfs),
		cmocka_unit_test(vfinfo_list_past_64k),
		cmocka_unit_test(vfinfo_list_length_mismatch),
		cmocka_unit_test(not_a_link_message),
	};

	return cmocka_run_group_tests_name("netlink", tests, NULL, NULL);
}
