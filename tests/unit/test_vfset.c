// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfctl set: the settings check, the command line parser and target rule
 * (cli/cmd_set.c, compiled in here), and the RTM_SETLINK built for each
 * attribute, taken apart again with libnl's attribute parsers and with the
 * link parser that reads the kernel's replies.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>

#include "internal.h"
#include "unit.h"
/* The CLI's parser is not in the library: compile it in (the printer is
 * stubbed below; these tests do not print). */
#include "../../src/vfctl/cmd_set.c"

void pr_init(bool json) { (void)json; }
int pr_finish(void) { return 0; }
void pr_obj_begin(const char *key) { (void)key; }
void pr_obj_end(void) {}
void pr_arr_begin(const char *key) { (void)key; }
void pr_arr_end(void) {}
void pr_str(const char *key, const char *fmt, const char *v) { (void)key; (void)fmt; (void)v; }
void pr_int(const char *key, const char *fmt, long long v) { (void)key; (void)fmt; (void)v; }
void pr_uint(const char *key, const char *fmt, unsigned long long v) { (void)key; (void)fmt; (void)v; }
void pr_bool(const char *key, const char *fmt, bool v) { (void)key; (void)fmt; (void)v; }
void pr_onoff(const char *key, const char *fmt, bool v) { (void)key; (void)fmt; (void)v; }
void pr_null(const char *key, const char *text) { (void)key; (void)text; }
void pr_text(const char *fmt, ...) { (void)fmt; }

#define BIT(a) (1u << (a))
/* the size idiom of include/vfctl.h */
#define SET_SIZE .size = sizeof(struct vfctl_vf_settings)

struct tree {
	struct vfctl_ctx *ctx;
	struct vfctl_host *host;
};

static struct tree *tree_open(const char *name)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	unit_scan(name, VFCTL_SCAN_NETLINK, &t->ctx, &t->host);
	return t;
}

static void tree_close(struct tree *t)
{
	vfctl_host_free(t->host);
	vfctl_ctx_free(t->ctx);
	free(t);
}

static int setup_tree(void **state)
{
	*state = tree_open("82599-8vf");
	return 0;
}

static int teardown_tree(void **state)
{
	tree_close(*state);
	return 0;
}

/* ---- names and validation ------------------------------------------------ */

static void attr_names(void **state)
{
	static const char *want[] = { "mac", "vlan", "spoofchk", "trust", "min-tx-rate",
				      "max-tx-rate", "link-state", "query-rss" };

	(void)state;
	assert_int_equal(ARRAY_SIZE(want), _VFCTL_VF_ATTR_MAX);
	for (int a = 0; a < _VFCTL_VF_ATTR_MAX; a++)
		assert_string_equal(vfctl_vf_attr_name(a), want[a]);
	assert_null(vfctl_vf_attr_name(_VFCTL_VF_ATTR_MAX));
	assert_null(vfctl_vf_attr_name((enum vfctl_vf_attr)-1));
}

static void mac_parsing(void **state)
{
	uint8_t m[6] = { 9, 9, 9, 9, 9, 9 }, keep[6];

	(void)state;
	assert_int_equal(vfctl_mac_parse("02:1B:21:0a:ff:00", m), 0);
	assert_memory_equal(m, ((uint8_t[]){ 0x02, 0x1b, 0x21, 0x0a, 0xff, 0x00 }), 6);
	memcpy(keep, m, 6);
	for (const char *const *p = (const char *const[]){
		     "", "02:1b:21:0a:ff", "02:1b:21:0a:ff:0", "02:1b:21:0a:ff:000",
		     "02-1b-21-0a-ff-00", "021b.210a.ff00", "2:1b:21:0a:ff:00:", "0g:1b:21:0a:ff:00",
		     " 2:1b:21:0a:ff:00", "02:1b:21:0a:ff:0 ", "+2:1b:21:0a:ff:00", NULL }; *p; p++) {
		assert_int_equal(vfctl_mac_parse(*p, m), -EINVAL);
		assert_memory_equal(m, keep, 6);	/* untouched on failure */
	}
	assert_int_equal(vfctl_mac_parse(NULL, m), -EINVAL);
}

static void validate_good(void **state)
{
	struct tree *t = *state;
	struct vfctl_vf_settings ok[] = {
		{ SET_SIZE, .mask = BIT(VFCTL_VF_MAC), .mac = "02:11:22:33:44:55" },
		{ SET_SIZE, .mask = BIT(VFCTL_VF_MAC), .mac = "AA:BB:CC:DD:EE:FF" },
		/* all zero: how igb/ixgbe/i40e clear an administratively set MAC */
		{ SET_SIZE, .mask = BIT(VFCTL_VF_MAC), .mac = "00:00:00:00:00:00" },
		{ SET_SIZE, .mask = BIT(VFCTL_VF_VLAN), .vlan = 0 },
		{ SET_SIZE, .mask = BIT(VFCTL_VF_VLAN), .vlan = 4095, .qos = 7, .vlan_proto = ETH_P_8021AD },
		{ SET_SIZE, .mask = BIT(VFCTL_VF_VLAN), .vlan = 100, .vlan_proto = ETH_P_8021Q },
		{ SET_SIZE, .mask = BIT(VFCTL_VF_SPOOFCHK) | BIT(VFCTL_VF_TRUST) | BIT(VFCTL_VF_QUERY_RSS),
		  .spoofchk = true },
		{ SET_SIZE, .mask = BIT(VFCTL_VF_MAX_TX_RATE) | BIT(VFCTL_VF_MIN_TX_RATE),
		  .max_tx_rate = 0, .min_tx_rate = 500 },	/* max 0: no limit */
		{ SET_SIZE, .mask = BIT(VFCTL_VF_MAX_TX_RATE) | BIT(VFCTL_VF_MIN_TX_RATE),
		  .max_tx_rate = 500, .min_tx_rate = 500 },
		{ SET_SIZE, .mask = BIT(VFCTL_VF_MAX_TX_RATE), .max_tx_rate = 2147483647 },
		{ SET_SIZE, .mask = BIT(VFCTL_VF_LINK_STATE), .link_state = IFLA_VF_LINK_STATE_DISABLE },
		{ SET_SIZE, .mask = BIT(_VFCTL_VF_ATTR_MAX) - 1, .mac = "02:00:00:00:00:01", .vlan = 1,
		  .link_state = IFLA_VF_LINK_STATE_AUTO },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		int r = vfctl_vf_settings_validate(t->ctx, &ok[i]);

		if (r)
			fail_msg("case %zu: %s", i, vfctl_ctx_error(t->ctx));
	}
}

static void validate_bad(void **state)
{
	struct tree *t = *state;
	static const struct {
		struct vfctl_vf_settings s;
		const char *msg;
	} bad[] = {
		{ { SET_SIZE, .mask = 0 }, "nothing to set" },
		{ { SET_SIZE, .mask = BIT(_VFCTL_VF_ATTR_MAX) }, "unknown attribute bits 0x100" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_MAC), .mac = "02:11:22:33:44" },
		  "mac '02:11:22:33:44': not a MAC address; expected six hex bytes as "
		  "xx:xx:xx:xx:xx:xx" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_MAC), .mac = "" }, "mac '': not a MAC address" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_MAC), .mac = "01:00:5e:00:00:01" },
		  "mac 01:00:5e:00:00:01: a multicast address cannot be a VF's MAC" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_MAC), .mac = "ff:ff:ff:ff:ff:ff" },
		  "mac ff:ff:ff:ff:ff:ff: a multicast address" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_VLAN), .vlan = 4096 },
		  "vlan 4096: out of range; expected 0-4095 (0: no VLAN)" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_VLAN), .vlan = 5, .qos = 8 },
		  "qos 8: out of range; expected 0-7" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_VLAN), .vlan = 5, .vlan_proto = 0x0800 },
		  "proto 0x0800: expected 802.1Q (0x8100) or 802.1ad (0x88a8)" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_TRUST), .qos = 3 }, "qos without vlan: give 'vlan V qos Q'" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_TRUST), .vlan_proto = ETH_P_8021AD },
		  "proto without vlan: give 'vlan V proto P'" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_MIN_TX_RATE), .min_tx_rate = 2147483648u },
		  "min-tx-rate 2147483648: out of range; expected 0-2147483647 Mb/s" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_MAX_TX_RATE), .max_tx_rate = UINT32_MAX },
		  "max-tx-rate 4294967295: out of range" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_MAX_TX_RATE) | BIT(VFCTL_VF_MIN_TX_RATE),
		    .max_tx_rate = 100, .min_tx_rate = 200 },
		  "max-tx-rate 100 is below min-tx-rate 200" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_LINK_STATE), .link_state = 3 },
		  "link-state 3: expected auto (0), enable (1) or disable (2)" },
		{ { SET_SIZE, .mask = BIT(VFCTL_VF_LINK_STATE), .link_state = -1 }, "link-state -1" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(vfctl_vf_settings_validate(t->ctx, &bad[i].s), -EINVAL);
		if (strncmp(vfctl_ctx_error(t->ctx), bad[i].msg, strlen(bad[i].msg)))
			fail_msg("case %zu: got '%s', want '%s...'", i, vfctl_ctx_error(t->ctx),
				 bad[i].msg);
	}
	/* without a context the answer is the same, just no message */
	assert_int_equal(vfctl_vf_settings_validate(NULL, &bad[6].s), -EINVAL);
}

/* ---- the command line ---------------------------------------------------- */

static int parse(struct set_req *req, char *err, size_t len, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, len);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return set_parse_attrs(argc, argv, req, err, len);
}

static void parse_good(void **state)
{
	struct set_req r;
	char err[512] = "";

	(void)state;
	assert_int_equal(parse(&r, err, sizeof(err), "trust", "on", "mac", "02:1B:21:0A:FF:00",
			       "qos", "3", "vlan", "100", "proto", "802.1AD", "spoofchk", "off",
			       "max-tx-rate", "1000", "min-tx-rate", "0", "link-state", "disable",
			       "query-rss", "on", NULL), EXIT_OK);
	assert_int_equal(r.s.mask, BIT(_VFCTL_VF_ATTR_MAX) - 1);
	/* the order given, for the report; qos and proto are part of vlan */
	assert_int_equal(r.n, 8);
	assert_int_equal(r.order[0], VFCTL_VF_TRUST);
	assert_int_equal(r.order[1], VFCTL_VF_MAC);
	assert_int_equal(r.order[2], VFCTL_VF_VLAN);
	assert_int_equal(r.order[3], VFCTL_VF_SPOOFCHK);
	assert_int_equal(r.order[7], VFCTL_VF_QUERY_RSS);
	assert_string_equal(r.s.mac, "02:1b:21:0a:ff:00");
	assert_int_equal(r.s.vlan, 100);
	assert_int_equal(r.s.qos, 3);
	assert_int_equal(r.s.vlan_proto, ETH_P_8021AD);
	assert_true(r.s.trust);
	assert_false(r.s.spoofchk);
	assert_true(r.s.query_rss);
	assert_int_equal(r.s.max_tx_rate, 1000);
	assert_int_equal(r.s.min_tx_rate, 0);
	assert_int_equal(r.s.link_state, IFLA_VF_LINK_STATE_DISABLE);

	assert_int_equal(parse(&r, err, sizeof(err), "vlan", "7", NULL), EXIT_OK);
	assert_int_equal(r.s.mask, BIT(VFCTL_VF_VLAN));
	assert_int_equal(r.s.vlan_proto, 0);	/* not given: the kernel's default 802.1Q */
	assert_int_equal(parse(&r, err, sizeof(err), "vlan", "7", "proto", "802.1q", NULL), EXIT_OK);
	assert_int_equal(r.s.vlan_proto, ETH_P_8021Q);
	assert_int_equal(parse(&r, err, sizeof(err), "link-state", "enable", NULL), EXIT_OK);
	assert_int_equal(r.s.link_state, IFLA_VF_LINK_STATE_ENABLE);
	assert_int_equal(parse(&r, err, sizeof(err), "link-state", "auto", NULL), EXIT_OK);
	assert_int_equal(r.s.link_state, IFLA_VF_LINK_STATE_AUTO);
	assert_int_equal(parse(&r, err, sizeof(err), "max-tx-rate", "4294967295", NULL), EXIT_OK);
	assert_int_equal(r.s.max_tx_rate, UINT32_MAX);	/* validate's range error, not a parse one */
}

static void parse_bad(void **state)
{
	static const struct {
		const char *argv[6];
		int rc;
		const char *msg;
	} bad[] = {
		{ { NULL }, EXIT_USAGE, "nothing to set" },
		{ { "colour", "red" }, EXIT_USAGE, "unknown attribute 'colour'; expected mac, vlan" },
		{ { "max_tx_rate", "5" }, EXIT_USAGE, "unknown attribute 'max_tx_rate'" },
		{ { "mac" }, EXIT_USAGE, "mac: missing value; expected six hex bytes" },
		{ { "vlan", "5", "qos" }, EXIT_USAGE, "qos: missing value; expected 0-7" },
		{ { "trust", "on", "trust", "off" }, EXIT_USAGE, "trust given twice" },
		{ { "vlan", "1", "qos", "1", "qos", "2" }, EXIT_USAGE, "qos given twice" },
		{ { "qos", "3" }, EXIT_USAGE, "qos without vlan" },
		{ { "proto", "802.1ad", "trust", "on" }, EXIT_USAGE, "proto without vlan" },
		{ { "mac", "02:11:22:33:44:55:66" }, EXIT_ERR,
		  "mac '02:11:22:33:44:55:66': not a MAC address; expected six hex bytes" },
		{ { "vlan", "-1" }, EXIT_ERR, "vlan '-1': expected 0-4095" },
		{ { "vlan", "0x10" }, EXIT_ERR, "vlan '0x10': expected 0-4095" },
		{ { "vlan", "" }, EXIT_ERR, "vlan '': expected 0-4095" },
		{ { "vlan", "99999999999" }, EXIT_ERR, "vlan '99999999999': expected 0-4095" },
		{ { "vlan", "5", "proto", "802.1x" }, EXIT_ERR,
		  "proto '802.1x': expected 802.1Q or 802.1ad" },
		{ { "spoofchk", "yes" }, EXIT_ERR, "spoofchk 'yes': expected on or off" },
		{ { "trust", "ON" }, EXIT_ERR, "trust 'ON': expected on or off" },
		{ { "query-rss", "1" }, EXIT_ERR, "query-rss '1': expected on or off" },
		{ { "max-tx-rate", "-5" }, EXIT_ERR,
		  "max-tx-rate '-5': expected a whole number of Mb/s, 0-2147483647 (0: no limit)" },
		{ { "min-tx-rate", "1.5" }, EXIT_ERR, "min-tx-rate '1.5': expected a whole number" },
		{ { "min-tx-rate", "10M" }, EXIT_ERR, "min-tx-rate '10M': expected a whole number" },
		{ { "link-state", "up" }, EXIT_ERR,
		  "link-state 'up': expected auto, enable or disable" },
	};
	struct set_req r, keep;

	(void)state;
	memset(&r, 0x5a, sizeof(r));
	keep = r;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char err[512] = "";
		int argc = 0;

		while (argc < 6 && bad[i].argv[argc])
			argc++;
		assert_int_equal(set_parse_attrs(argc, (char *const *)bad[i].argv, &r, err,
						 sizeof(err)), bad[i].rc);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("case %zu: got '%s', want '%s...'", i, err, bad[i].msg);
		assert_memory_equal(&r, &keep, sizeof(r));
	}
}

static void target_rule(void **state)
{
	struct tree *t = *state;
	static const struct {
		const char *arg;
		const char *pf;
		unsigned idx;
	} good[] = {
		{ "enp3s0f0:3", "0000:03:00.0", 3 },
		{ "0000:03:00.0:3", "0000:03:00.0", 3 },
		{ "03:00.0:7", "0000:03:00.0", 7 },
		{ "enp3s0f0:0", "0000:03:00.0", 0 },
		{ "enp3s0f0:007", "0000:03:00.0", 7 },
		{ "0000:03:10.6", "0000:03:00.0", 3 },	/* a VF by address */
		{ "03:11.6", "0000:03:00.0", 7 },		/* VF 7: vfio-pci, no netdev */
		{ "enp3s0f0v5", "0000:03:00.0", 5 },		/* a VF by netdev */
	};
	static const struct {
		const char *arg;
		int r;
		const char *msg;
	} bad[] = {
		{ "enp3s0f0:8", -ENODEV, "VF index 8 out of range: 0000:03:00.0 has 8 VFs (index 0-7)" },
		{ "enp3s0f0:99999999999", -ENODEV, "VF index 99999999999 out of range" },
		{ "0000:03:00.1:0", -ENODEV, "0000:03:00.1 has no VFs (sriov_numvfs is 0)" },
		{ "enp3s0f0", -EINVAL, "enp3s0f0 is a PF; name one of its VFs by address or netdev, "
		  "or as enp3s0f0:INDEX (0-7)" },
		{ "0000:03:00.0", -EINVAL, "0000:03:00.0 is a PF" },
		{ "enp3s0f0v3:1", -EINVAL, "enp3s0f0v3 is not an SR-IOV PF (it is a VF" },
		{ "0000:03:10.0:1", -EINVAL, "0000:03:10.0 is not an SR-IOV PF" },
		{ "eth9:1", -ENODEV, "eth9: no PCI function has a netdev of that name" },
		{ "enp3s0f0:-1", -EINVAL, "'enp3s0f0:-1' is neither a PCI address" },
		{ "enp3s0f0:", -EINVAL, "'enp3s0f0:' is neither a PCI address" },
		{ ":3", -EINVAL, "'' is neither a PCI address" },
		{ "0000:09:00.0:1", -ENODEV, "0000:09:00.0: no such PCI function" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct vfctl_func *pf = NULL;
		unsigned idx = 99;
		char err[512] = "";
		int r = set_find_target(t->ctx, t->host, good[i].arg, &pf, &idx, err, sizeof(err));

		if (r)
			fail_msg("%s: %s", good[i].arg, err);
		assert_string_equal(pf->addr, good[i].pf);
		assert_int_equal(idx, good[i].idx);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vfctl_func *pf = (struct vfctl_func *)0x1;
		unsigned idx = 99;
		char err[512] = "";

		assert_int_equal(set_find_target(t->ctx, t->host, bad[i].arg, &pf, &idx, err,
						 sizeof(err)), bad[i].r);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("%s: got '%s', want '%s...'", bad[i].arg, err, bad[i].msg);
		assert_ptr_equal(pf, (struct vfctl_func *)0x1);
		assert_int_equal(idx, 99);
	}
}

/* ---- the messages -------------------------------------------------------- */

static struct nla_policy vf_policy[IFLA_VF_MAX + 1] = {
	[IFLA_VF_MAC] = { .minlen = sizeof(struct ifla_vf_mac) },
	[IFLA_VF_VLAN] = { .minlen = sizeof(struct ifla_vf_vlan) },
	[IFLA_VF_VLAN_LIST] = { .type = NLA_NESTED },
	[IFLA_VF_RATE] = { .minlen = sizeof(struct ifla_vf_rate) },
	[IFLA_VF_SPOOFCHK] = { .minlen = sizeof(struct ifla_vf_spoofchk) },
	[IFLA_VF_LINK_STATE] = { .minlen = sizeof(struct ifla_vf_link_state) },
	[IFLA_VF_RSS_QUERY_EN] = { .minlen = sizeof(struct ifla_vf_rss_query_en) },
	[IFLA_VF_TRUST] = { .minlen = sizeof(struct ifla_vf_trust) },
};

/* Check the frame every message shares and return the one IFLA_VF_*
 * attribute in it; its type and length must be what the kernel's
 * ifla_vf_policy wants. */
static const void *the_vf_attr(struct nl_msg *msg, int ifindex, int type, size_t len)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *vfi[IFLA_VF_MAX + 1], *a;
	const struct ifinfomsg *ifi = nlmsg_data(h);
	int rem, n = 0, present = 0;

	assert_int_equal(h->nlmsg_type, RTM_SETLINK);
	assert_int_equal(h->nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK), NLM_F_REQUEST | NLM_F_ACK);
	/* a change to an existing link, never a create or replace */
	assert_int_equal(h->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE), 0);
	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, ifindex);
	assert_int_equal(ifi->ifi_change, 0);
	assert_int_equal(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	for (int i = 0; i <= IFLA_MAX; i++)
		present += tb[i] != NULL;
	assert_int_equal(present, 1);
	assert_non_null(tb[IFLA_VFINFO_LIST]);

	nla_for_each_nested(a, tb[IFLA_VFINFO_LIST], rem) {
		assert_int_equal(nla_type(a), IFLA_VF_INFO);
		n++;
	}
	assert_int_equal(n, 1);
	assert_int_equal(rem, 0);
	a = nla_data(tb[IFLA_VFINFO_LIST]);
	assert_int_equal(nla_parse_nested(vfi, IFLA_VF_MAX, a, vf_policy), 0);
	present = 0;
	for (int i = 0; i <= IFLA_VF_MAX; i++)
		present += vfi[i] != NULL;
	assert_int_equal(present, 1);
	assert_non_null(vfi[type]);
	if (type != IFLA_VF_VLAN_LIST)
		assert_int_equal(nla_len(vfi[type]), len);
	return type == IFLA_VF_VLAN_LIST ? (const void *)vfi[type] : nla_data(vfi[type]);
}

/* The message's IFLA_VFINFO_LIST, byte for byte, in an RTM_NEWLINK as the
 * kernel would answer (IFLA_NUM_VF, then the list), through vfctl's reader
 * of RTM_NEWLINK: what vfctl show would make of it. The reader takes a VF's
 * index from the first of its attributes that carries one. */
static struct vfctl_vf_config via_link_parser(struct nl_msg *msg, unsigned vf)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *list = nlmsg_find_attr(h, sizeof(struct ifinfomsg), IFLA_VFINFO_LIST);
	struct nl_msg *reply = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct vfctl_vf_config c;
	struct vfctl_nl_link *link = NULL;

	assert_non_null(list);
	assert_non_null(reply);
	assert_int_equal(nlmsg_append(reply, nlmsg_data(h), sizeof(struct ifinfomsg),
				      NLMSG_ALIGNTO), 0);
	assert_int_equal(nla_put_string(reply, IFLA_IFNAME, "enp3s0f0"), 0);
	assert_int_equal(nla_put_u32(reply, IFLA_NUM_VF, vf + 1), 0);
	assert_int_equal(nla_put(reply, IFLA_VFINFO_LIST, nla_len(list), nla_data(list)), 0);
	assert_int_equal(vfctl_nl_parse_link(reply, &link), 0);
	assert_int_equal(vfctl_nl_link_vf_config(link, vf, &c), 0);
	vfctl_nl_link_free(link);
	nlmsg_free(reply);
	return c;
}

static struct nl_msg *build(enum vfctl_vf_attr a, unsigned vf, const struct vfctl_vf_settings *s,
			    const struct vfctl_vf_config *cur)
{
	struct nl_msg *msg = NULL;

	assert_int_equal(vfctl_vf_set_msg(42, vf, a, s, cur, &msg), 0);
	assert_non_null(msg);
	return msg;
}

static void msg_mac(void **state)
{
	struct vfctl_vf_settings s = { SET_SIZE, .mask = BIT(VFCTL_VF_MAC), .mac = "02:1B:21:0a:ff:00" };
	struct nl_msg *msg = build(VFCTL_VF_MAC, 5, &s, NULL);
	const struct ifla_vf_mac *m = the_vf_attr(msg, 42, IFLA_VF_MAC, sizeof(*m));
	static const uint8_t want[32] = { 0x02, 0x1b, 0x21, 0x0a, 0xff, 0x00 };

	(void)state;
	assert_int_equal(m->vf, 5);
	assert_memory_equal(m->mac, want, sizeof(want));
	assert_string_equal(via_link_parser(msg, 5).mac, "02:1b:21:0a:ff:00");
	nlmsg_free(msg);

	/* a malformed MAC never becomes a message */
	strcpy(s.mac, "02:1b:21:0a:ff");
	msg = (struct nl_msg *)0x1;
	assert_int_equal(vfctl_vf_set_msg(42, 5, VFCTL_VF_MAC, &s, NULL, &msg), -EINVAL);
	assert_ptr_equal(msg, (struct nl_msg *)0x1);
}

static void msg_vlan_8021q(void **state)
{
	struct vfctl_vf_settings s = { SET_SIZE, .mask = BIT(VFCTL_VF_VLAN), .vlan = 100, .qos = 3 };
	struct nl_msg *msg;
	const struct ifla_vf_vlan *v;
	struct vfctl_vf_config c;

	(void)state;
	/* proto not given, or given as 802.1Q: the plain IFLA_VF_VLAN */
	for (int i = 0; i < 2; i++) {
		s.vlan_proto = i ? ETH_P_8021Q : 0;
		msg = build(VFCTL_VF_VLAN, 0, &s, NULL);
		v = the_vf_attr(msg, 42, IFLA_VF_VLAN, sizeof(*v));
		assert_int_equal(v->vf, 0);
		assert_int_equal(v->vlan, 100);
		assert_int_equal(v->qos, 3);
		c = via_link_parser(msg, 0);
		assert_int_equal(c.vlan, 100);
		assert_int_equal(c.qos, 3);
		assert_int_equal(c.vlan_proto, ETH_P_8021Q);
		nlmsg_free(msg);
	}
	/* vlan 0 clears: it is sent, not left out */
	s.vlan = s.qos = 0;
	msg = build(VFCTL_VF_VLAN, 6, &s, NULL);
	v = the_vf_attr(msg, 42, IFLA_VF_VLAN, sizeof(*v));
	assert_int_equal(v->vf, 6);
	assert_int_equal(v->vlan, 0);
	assert_int_equal(v->qos, 0);
	nlmsg_free(msg);
}

static void msg_vlan_8021ad(void **state)
{
	struct vfctl_vf_settings s = { SET_SIZE, .mask = BIT(VFCTL_VF_VLAN), .vlan = 4095, .qos = 7,
				       .vlan_proto = ETH_P_8021AD };
	struct nl_msg *msg = build(VFCTL_VF_VLAN, 0, &s, NULL);
	const struct nlattr *list = the_vf_attr(msg, 42, IFLA_VF_VLAN_LIST, 0);
	const struct ifla_vf_vlan_info *v = NULL;
	const struct nlattr *a;
	struct vfctl_vf_config c;
	int rem, n = 0;

	(void)state;
	nla_for_each_nested(a, list, rem) {
		assert_int_equal(nla_type(a), IFLA_VF_VLAN_INFO);
		assert_int_equal(nla_len(a), sizeof(*v));
		v = nla_data(a);
		n++;
	}
	assert_int_equal(n, 1);
	assert_int_equal(v->vf, 0);
	assert_int_equal(v->vlan, 4095);
	assert_int_equal(v->qos, 7);
	/* __be16 on the wire: 0x88 then 0xa8, whatever the host's order */
	assert_memory_equal(&v->vlan_proto, ((uint8_t[]){ 0x88, 0xa8 }), 2);
	c = via_link_parser(msg, 0);
	assert_int_equal(c.vlan, 4095);
	assert_int_equal(c.qos, 7);
	assert_int_equal(c.vlan_proto, ETH_P_8021AD);
	assert_string_equal(vfctl_vlan_proto_str(c.vlan_proto), "802.1ad");
	nlmsg_free(msg);
}

static void msg_rates(void **state)
{
	const struct vfctl_vf_config cur = { .valid = true, .min_tx_rate = 7, .max_tx_rate = 50 };
	struct vfctl_vf_settings s = { SET_SIZE, .mask = BIT(VFCTL_VF_MAX_TX_RATE), .max_tx_rate = 100 };
	const struct ifla_vf_rate *v;
	struct nl_msg *msg;
	struct vfctl_vf_config c;

	(void)state;
	/* max alone keeps the current min */
	msg = build(VFCTL_VF_MAX_TX_RATE, 0, &s, &cur);
	v = the_vf_attr(msg, 42, IFLA_VF_RATE, sizeof(*v));
	assert_int_equal(v->vf, 0);
	assert_int_equal(v->min_tx_rate, 7);
	assert_int_equal(v->max_tx_rate, 100);
	c = via_link_parser(msg, 0);
	assert_int_equal(c.min_tx_rate, 7);
	assert_int_equal(c.max_tx_rate, 100);
	nlmsg_free(msg);

	/* min alone keeps the current max */
	s = (struct vfctl_vf_settings){ SET_SIZE, .mask = BIT(VFCTL_VF_MIN_TX_RATE), .min_tx_rate = 10 };
	msg = build(VFCTL_VF_MIN_TX_RATE, 3, &s, &cur);
	v = the_vf_attr(msg, 42, IFLA_VF_RATE, sizeof(*v));
	assert_int_equal(v->vf, 3);
	assert_int_equal(v->min_tx_rate, 10);
	assert_int_equal(v->max_tx_rate, 50);
	nlmsg_free(msg);

	/* both given: both from the settings, whichever attribute asks */
	s = (struct vfctl_vf_settings){ SET_SIZE, .mask = BIT(VFCTL_VF_MIN_TX_RATE) |
					BIT(VFCTL_VF_MAX_TX_RATE),
					.min_tx_rate = 0, .max_tx_rate = 0 };
	for (int a = VFCTL_VF_MIN_TX_RATE; a <= VFCTL_VF_MAX_TX_RATE; a++) {
		msg = build(a, 1, &s, NULL);
		v = the_vf_attr(msg, 42, IFLA_VF_RATE, sizeof(*v));
		assert_int_equal(v->min_tx_rate, 0);
		assert_int_equal(v->max_tx_rate, 0);
		nlmsg_free(msg);
	}

	/* one rate without the current other: refused, not guessed as 0 */
	s = (struct vfctl_vf_settings){ SET_SIZE, .mask = BIT(VFCTL_VF_MAX_TX_RATE), .max_tx_rate = 1 };
	msg = (struct nl_msg *)0x1;
	assert_int_equal(vfctl_vf_set_msg(42, 0, VFCTL_VF_MAX_TX_RATE, &s, NULL, &msg), -EINVAL);
	assert_ptr_equal(msg, (struct nl_msg *)0x1);
}

/* A restore sends only what differs from the driver's view: equal values
 * (a MAC in either case, 802.1Q given or implied) are left out, a setting
 * the driver does not report is sent, and with no view everything is. */
static void settings_diff(void **state)
{
	const unsigned all = BIT(VFCTL_VF_MAC) | BIT(VFCTL_VF_VLAN) | BIT(VFCTL_VF_MAX_TX_RATE) |
			     BIT(VFCTL_VF_MIN_TX_RATE) | BIT(VFCTL_VF_SPOOFCHK) | BIT(VFCTL_VF_TRUST) |
			     BIT(VFCTL_VF_LINK_STATE);
	struct vfctl_vf_config cur = { .valid = true, .mac = "02:1b:21:0a:ff:00", .vlan = 5,
				       .qos = 1, .vlan_proto = ETH_P_8021Q, .max_tx_rate = 100,
				       .spoofchk = VFCTL_ON, .trust = VFCTL_OFF,
				       .query_rss = VFCTL_UNKNOWN, .link_state = 0 };
	struct vfctl_vf_settings s = { SET_SIZE, .mask = all, .mac = "02:1B:21:0A:FF:00",
				       .vlan = 5, .qos = 1, .max_tx_rate = 100, .spoofchk = true };

	(void)state;
	assert_int_equal(vfctl_vf_settings_diff(&s, &cur), 0);
	s.vlan_proto = ETH_P_8021Q;
	assert_int_equal(vfctl_vf_settings_diff(&s, &cur), 0);
	s.vlan_proto = ETH_P_8021AD;
	assert_int_equal(vfctl_vf_settings_diff(&s, &cur), BIT(VFCTL_VF_VLAN));
	s.vlan_proto = 0;
	s.trust = true;
	s.min_tx_rate = 10;
	assert_int_equal(vfctl_vf_settings_diff(&s, &cur),
			 BIT(VFCTL_VF_TRUST) | BIT(VFCTL_VF_MIN_TX_RATE));
	s.trust = false;
	s.min_tx_rate = 0;
	strcpy(s.mac, "00:00:00:00:00:00");
	assert_int_equal(vfctl_vf_settings_diff(&s, &cur), BIT(VFCTL_VF_MAC));
	strcpy(s.mac, cur.mac);
	/* what the driver does not report is sent, not taken as equal */
	cur.spoofchk = VFCTL_UNKNOWN;
	cur.link_state = -1;
	assert_int_equal(vfctl_vf_settings_diff(&s, &cur),
			 BIT(VFCTL_VF_SPOOFCHK) | BIT(VFCTL_VF_LINK_STATE));
	s.mask |= BIT(VFCTL_VF_QUERY_RSS);
	assert_true(vfctl_vf_settings_diff(&s, &cur) & BIT(VFCTL_VF_QUERY_RSS));
	/* only what the mask asks for */
	s.mask = BIT(VFCTL_VF_VLAN);
	assert_int_equal(vfctl_vf_settings_diff(&s, &cur), 0);
	cur.valid = false;
	assert_int_equal(vfctl_vf_settings_diff(&s, &cur), BIT(VFCTL_VF_VLAN));
}

/* What differs goes in one RTM_SETLINK: one IFLA_VF_INFO holding an
 * IFLA_VF_* per attribute (both rates in one IFLA_VF_RATE), each value as
 * vfctl's reader of the kernel's replies reads it back. */
static void msg_batch(void **state)
{
	const struct vfctl_vf_config cur = { .valid = true, .min_tx_rate = 7, .max_tx_rate = 70 };
	struct vfctl_vf_settings s = { SET_SIZE, .mac = "02:00:00:00:00:07", .vlan = 12, .qos = 3,
				       .max_tx_rate = 500, .min_tx_rate = 50, .spoofchk = false,
				       .trust = true };
	struct nlattr *tb[IFLA_MAX + 1], *vfi[IFLA_VF_MAX + 1], *list;
	struct vfctl_vf_config c;
	struct nl_msg *msg = NULL;
	int present = 0, rem, n = 0;
	struct nlattr *a;

	(void)state;
	s.mask = BIT(VFCTL_VF_MAC) | BIT(VFCTL_VF_VLAN) | BIT(VFCTL_VF_MAX_TX_RATE) |
		 BIT(VFCTL_VF_SPOOFCHK) | BIT(VFCTL_VF_TRUST);
	assert_int_equal(vfctl_vf_set_msg_mask(42, 4, s.mask, &s, &cur, &msg), 0);
	assert_int_equal(nlmsg_hdr(msg)->nlmsg_type, RTM_SETLINK);
	assert_int_equal(nlmsg_parse(nlmsg_hdr(msg), sizeof(struct ifinfomsg), tb, IFLA_MAX,
				     NULL), 0);
	list = tb[IFLA_VFINFO_LIST];
	assert_non_null(list);
	nla_for_each_nested(a, list, rem)
		n++;
	assert_int_equal(n, 1);
	assert_int_equal(nla_parse_nested(vfi, IFLA_VF_MAX, nla_data(list), vf_policy), 0);
	for (int i = 0; i <= IFLA_VF_MAX; i++)
		present += vfi[i] != NULL;
	assert_int_equal(present, 5);
	c = via_link_parser(msg, 4);
	assert_string_equal(c.mac, "02:00:00:00:00:07");
	assert_int_equal(c.vlan, 12);
	assert_int_equal(c.qos, 3);
	/* the rate not asked for keeps the driver's value */
	assert_int_equal(c.max_tx_rate, 500);
	assert_int_equal(c.min_tx_rate, 7);
	assert_int_equal(c.spoofchk, VFCTL_OFF);
	assert_int_equal(c.trust, VFCTL_ON);
	nlmsg_free(msg);

	/* nothing to send is no message */
	msg = (struct nl_msg *)0x1;
	assert_int_equal(vfctl_vf_set_msg_mask(42, 4, 0, &s, &cur, &msg), -EINVAL);
	assert_ptr_equal(msg, (struct nl_msg *)0x1);
}

static void msg_flags(void **state)
{
	struct vfctl_vf_settings s = { SET_SIZE, .mask = BIT(VFCTL_VF_SPOOFCHK) | BIT(VFCTL_VF_TRUST) |
				       BIT(VFCTL_VF_QUERY_RSS) | BIT(VFCTL_VF_LINK_STATE) };
	struct nl_msg *msg;
	struct vfctl_vf_config c;

	(void)state;
	for (int on = 0; on < 2; on++) {
		const struct ifla_vf_spoofchk *sc;
		const struct ifla_vf_trust *tr;
		const struct ifla_vf_rss_query_en *rss;

		s.spoofchk = s.trust = s.query_rss = on;

		msg = build(VFCTL_VF_SPOOFCHK, 0, &s, NULL);
		sc = the_vf_attr(msg, 42, IFLA_VF_SPOOFCHK, sizeof(*sc));
		assert_int_equal(sc->vf, 0);
		assert_int_equal(sc->setting, on);
		c = via_link_parser(msg, 0);
		assert_int_equal(c.spoofchk, on ? VFCTL_ON : VFCTL_OFF);
		assert_int_equal(c.trust, VFCTL_UNKNOWN);	/* not in this message */
		nlmsg_free(msg);

		msg = build(VFCTL_VF_TRUST, 0, &s, NULL);
		tr = the_vf_attr(msg, 42, IFLA_VF_TRUST, sizeof(*tr));
		assert_int_equal(tr->setting, on);
		c = via_link_parser(msg, 0);
		assert_int_equal(c.trust, on ? VFCTL_ON : VFCTL_OFF);
		assert_int_equal(c.spoofchk, VFCTL_UNKNOWN);
		nlmsg_free(msg);

		msg = build(VFCTL_VF_QUERY_RSS, 2, &s, NULL);
		rss = the_vf_attr(msg, 42, IFLA_VF_RSS_QUERY_EN, sizeof(*rss));
		assert_int_equal(rss->vf, 2);
		assert_int_equal(rss->setting, on);
		nlmsg_free(msg);
	}
	for (int ls = IFLA_VF_LINK_STATE_AUTO; ls <= IFLA_VF_LINK_STATE_DISABLE; ls++) {
		const struct ifla_vf_link_state *l;

		s.link_state = ls;
		msg = build(VFCTL_VF_LINK_STATE, 0, &s, NULL);
		l = the_vf_attr(msg, 42, IFLA_VF_LINK_STATE, sizeof(*l));
		assert_int_equal(l->vf, 0);
		assert_int_equal(l->link_state, ls);
		c = via_link_parser(msg, 0);
		assert_int_equal(c.link_state, ls);
		nlmsg_free(msg);
	}
	msg = (struct nl_msg *)0x1;
	assert_int_equal(vfctl_vf_set_msg(42, 0, _VFCTL_VF_ATTR_MAX, &s, NULL, &msg), -EINVAL);
	assert_ptr_equal(msg, (struct nl_msg *)0x1);
}

/* ---- vfctl_vf_set before anything is sent -------------------------------- */

static void set_refuses_before_sending(void **state)
{
	struct tree *t = *state;
	struct vfctl_vf_settings s = { SET_SIZE, .mask = BIT(VFCTL_VF_TRUST), .trust = true };
	struct vfctl_vf_set_result res, keep;
	struct vfctl_func *pf = NULL, *pf1 = NULL, *vf = NULL;

	assert_int_equal(vfctl_host_find(t->ctx, t->host, "enp3s0f0", &pf), 0);
	assert_int_equal(vfctl_host_find(t->ctx, t->host, "enp3s0f1", &pf1), 0);
	assert_int_equal(vfctl_host_find(t->ctx, t->host, "enp3s0f0v1", &vf), 0);
	memset(&res, 0x5a, sizeof(res));
	res.size = sizeof(res);
	keep = res;

	/* a golden tree is not this kernel: nothing may go to netlink */
	assert_int_equal(vfctl_vf_set(t->ctx, pf, 3, &s, &res), -EOPNOTSUPP);
	assert_non_null(strstr(vfctl_ctx_error(t->ctx), "0000:03:00.0 vf 3: nothing sent: netlink "
			       "is not available for the non-live sysfs root"));
	assert_int_equal(vfctl_vf_set(t->ctx, pf, 8, &s, &res), -ENODEV);
	assert_string_equal(vfctl_ctx_error(t->ctx), "0000:03:00.0 has 8 VFs (index 0-7): no VF 8");
	assert_int_equal(vfctl_vf_set(t->ctx, pf1, 0, &s, &res), -ENODEV);
	assert_non_null(strstr(vfctl_ctx_error(t->ctx), "has no VFs"));
	assert_int_equal(vfctl_vf_set(t->ctx, vf, 0, &s, &res), -EINVAL);
	assert_non_null(strstr(vfctl_ctx_error(t->ctx), "is not an SR-IOV PF"));
	s.qos = 3;
	assert_int_equal(vfctl_vf_set(t->ctx, pf, 0, &s, &res), -EINVAL);
	assert_non_null(strstr(vfctl_ctx_error(t->ctx), "qos without vlan"));
	assert_memory_equal(&res, &keep, sizeof(res));
}

static void cmd_exit_codes(void **state)
{
	struct tree *t = *state;
	static const struct {
		const char *argv[6];
		int rc;
	} cases[] = {
		{ { NULL }, EXIT_USAGE },
		{ { "enp3s0f0:3" }, EXIT_USAGE },
		{ { "enp3s0f0:3", "colour", "red" }, EXIT_USAGE },
		/* failures found by the library: their errno, for cli_exit_status() */
		{ { "enp3s0f0:3", "vlan", "5000" }, -EINVAL },
		{ { "enp3s0f0:9", "trust", "on" }, -ENODEV },
		/* valid, but a golden tree: refused, nothing sent */
		{ { "enp3s0f0:3", "trust", "on" }, -EOPNOTSUPP },
	};

	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	/* the messages are the bats suite's business: keep the TAP clean */
	assert_true(saved >= 0 && null >= 0);
	dup2(null, STDERR_FILENO);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct args a = { .argv = (char **)cases[i].argv };
		int rc;

		while (a.argc < 6 && cases[i].argv[a.argc])
			a.argc++;
		rc = cmd_set(t->ctx, t->host, &a);
		if (rc != cases[i].rc) {
			dup2(saved, STDERR_FILENO);
			fail_msg("case %zu: exit %d, want %d", i, rc, cases[i].rc);
		}
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attr_names),
		cmocka_unit_test(mac_parsing),
		cmocka_unit_test_setup_teardown(validate_good, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(validate_bad, setup_tree, teardown_tree),
		cmocka_unit_test(parse_good),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test_setup_teardown(target_rule, setup_tree, teardown_tree),
		cmocka_unit_test(msg_mac),
		cmocka_unit_test(msg_vlan_8021q),
		cmocka_unit_test(msg_vlan_8021ad),
		cmocka_unit_test(msg_rates),
		cmocka_unit_test(msg_flags),
		cmocka_unit_test(settings_diff),
		cmocka_unit_test(msg_batch),
		cmocka_unit_test_setup_teardown(set_refuses_before_sending, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(cmd_exit_codes, setup_tree, teardown_tree),
	};

	return cmocka_run_group_tests_name("vfset", tests, NULL, NULL);
}
