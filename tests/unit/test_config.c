// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The declarative config (lib/config.c) and the apply plan (lib/apply.c):
 * good configs parse to what they say; each kind of bad config is refused
 * with the file and JSON path (or line:column) and the reason; the plan
 * for a golden tree (a copy in a temp dir) is exactly what differs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "vfctl.h"
#include "config.h"
#include "unit.h"

struct tree {
	char dir[64];
	char sys[128];
	struct vfctl_ctx *ctx;
	struct vfctl_host *host;
};

/* A copy of golden tree name, scanned. */
static struct tree *tree_new(const char *name)
{
	struct tree *t = calloc(1, sizeof(*t));
	char golden[512];

	assert_non_null(t);
	unit_tmpdir(t->dir, sizeof(t->dir), "/tmp/test_config.XXXXXX");
	unit_fixture(golden, sizeof(golden), name, "sys");
	unit_sh("cp -a '%s' '%s/'", golden, t->dir);
	snprintf(t->sys, sizeof(t->sys), "%s/sys", t->dir);
	assert_int_equal(vfctl_ctx_new(&t->ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = t->sys)), 0);
	assert_int_equal(vfctl_host_scan(t->ctx, 0, &t->host), 0);
	return t;
}

static void tree_free(struct tree *t)
{
	vfctl_host_free(t->host);
	vfctl_ctx_free(t->ctx);
	unit_rm_rf(t->dir);
	free(t);
}

static struct vfctl_ctx *plain_ctx(void)
{
	struct vfctl_ctx *ctx;

	unit_scan("82599-8vf", 0, &ctx, NULL);
	return ctx;
}

static void good_config(void **state)
{
	static const char text[] =
		"{ \"pfs\": [\n"
		"  { \"match\": { \"netdev\": \"enp3s0f0\" }, \"numvfs\": 4, \"autoprobe\": false,\n"
		"    \"defaults\": { \"spoofchk\": false, \"trust\": true, \"driver\": \"vfio-pci\" },\n"
		"    \"vfs\": [ { \"index\": 1, \"mac\": \"02:AA:bb:cc:dd:01\", \"vlan\": 100,\n"
		"                \"qos\": 3, \"vlan_proto\": \"802.1ad\", \"driver\": null },\n"
		"              { \"index\": 3, \"max_tx_rate\": 1000, \"min_tx_rate\": 10,\n"
		"                \"link_state\": \"disable\", \"query_rss\": true, \"trust\": false } ],\n"
		"    \"pools\": [ { \"name\": \"a\", \"vfs\": [0, 2], \"users\": [\"root\", 1000],\n"
		"                 \"groups\": [\"root\"], \"ttl\": \"2h\" } ] },\n"
		"  { \"match\": { \"address\": \"03:00.1\" }, \"numvfs\": 0 },\n"
		"  { \"match\": { \"id\": \"8086:10FB\" }, \"numvfs\": 1 }\n"
		"] }\n";
	struct vfctl_ctx *ctx = plain_ctx();
	struct vfctl_config *cfg = NULL;
	const struct vfctl_conf_pf *pf;

	(void)state;
	assert_int_equal(vfctl_config_parse(ctx, "t.conf", text, strlen(text), &cfg), 0);
	assert_int_equal(cfg->n_pfs, 3);
	pf = &cfg->pfs[0];
	assert_string_equal(pf->path, "pfs[0]");
	assert_int_equal(pf->match, VFCTL_MATCH_NETDEV);
	assert_string_equal(pf->netdev, "enp3s0f0");
	assert_int_equal(pf->numvfs, 4);
	assert_int_equal(pf->autoprobe, VFCTL_OFF);
	/* defaults on every VF, overrides on top */
	assert_int_equal(pf->vfs[0].s.mask, 1u << VFCTL_VF_SPOOFCHK | 1u << VFCTL_VF_TRUST);
	assert_false(pf->vfs[0].s.spoofchk);
	assert_true(pf->vfs[0].s.trust);
	assert_string_equal(pf->vfs[0].driver, "vfio-pci");
	assert_null(pf->vfs[1].driver);	/* null: left alone */
	assert_string_equal(pf->vfs[1].s.mac, "02:aa:bb:cc:dd:01");
	assert_int_equal(pf->vfs[1].s.vlan, 100);
	assert_int_equal(pf->vfs[1].s.qos, 3);
	assert_int_equal(pf->vfs[1].s.vlan_proto, 0x88a8);
	assert_true(pf->vfs[1].s.mask & 1u << VFCTL_VF_MAC);
	assert_false(pf->vfs[3].s.trust);
	assert_int_equal(pf->vfs[3].s.max_tx_rate, 1000);
	assert_int_equal(pf->vfs[3].s.min_tx_rate, 10);
	assert_int_equal(pf->vfs[3].s.link_state, 2);
	assert_true(pf->vfs[3].s.query_rss);
	assert_int_equal(pf->n_pools, 1);
	assert_string_equal(pf->pools[0].name, "a");
	assert_int_equal(pf->pools[0].n_vfs, 2);
	assert_int_equal(pf->pools[0].vfs[1], 2);
	assert_int_equal(pf->pools[0].n_uids, 2);
	assert_int_equal(pf->pools[0].uids[0], 0);
	assert_int_equal(pf->pools[0].ttl, 7200);
	assert_int_equal(pf->pools[0].uids[1], 1000);
	assert_int_equal(pf->pools[0].gids[0], 0);
	assert_int_equal(cfg->pfs[1].match, VFCTL_MATCH_ADDRESS);
	assert_string_equal(cfg->pfs[1].addr, "0000:03:00.1");
	assert_int_equal(cfg->pfs[1].autoprobe, VFCTL_UNKNOWN);
	assert_int_equal(cfg->pfs[2].match, VFCTL_MATCH_ID);
	assert_int_equal(cfg->pfs[2].vendor, 0x8086);
	assert_int_equal(cfg->pfs[2].device, 0x10fb);
	assert_int_equal(cfg->pfs[2].index, 0);
	vfctl_config_free(cfg);
	vfctl_ctx_free(ctx);
}

/* text must be refused with exactly msg. */
static void refused(struct vfctl_ctx *ctx, const char *text, const char *msg)
{
	struct vfctl_config *cfg = NULL;
	int r = vfctl_config_parse(ctx, "t.conf", text, strlen(text), &cfg);

	if (r >= 0 || strcmp(vfctl_ctx_error(ctx), msg)) {
		print_error("config: %s\n got:  %s\n want: %s\n", text, vfctl_ctx_error(ctx), msg);
		fail();
	}
	assert_null(cfg);
}

/* vfctld's limits: the defaults without "daemon", each key over them,
 * refusals by JSON path; vfctl apply parses them too (they are checked). */
static void daemon_limits(void **state)
{
	static const char text[] = "{ \"daemon\": { \"max_connections\": 100,\n"
				   "  \"max_connections_per_uid\": 8, \"idle_timeout\": 5 },\n"
				   "  \"pfs\": [] }\n";
	static const char one[] = "{\"daemon\":{\"idle_timeout\":9},\"pfs\":[]}";
	struct vfctl_ctx *ctx = plain_ctx();
	struct vfctl_config *cfg = NULL;

	(void)state;
	assert_int_equal(vfctl_config_parse(ctx, "t.conf", "{\"pfs\":[]}", 10, &cfg), 0);
	assert_int_equal(cfg->daemon.max_connections, VFCTL_CONF_MAX_CONNECTIONS);
	assert_int_equal(cfg->daemon.max_connections_per_uid, VFCTL_CONF_MAX_CONNECTIONS_PER_UID);
	assert_int_equal(cfg->daemon.idle_timeout, VFCTL_CONF_IDLE_TIMEOUT);
	vfctl_config_free(cfg);
	cfg = NULL;
	assert_int_equal(vfctl_config_parse(ctx, "t.conf", text, strlen(text), &cfg), 0);
	assert_int_equal(cfg->daemon.max_connections, 100);
	assert_int_equal(cfg->daemon.max_connections_per_uid, 8);
	assert_int_equal(cfg->daemon.idle_timeout, 5);
	vfctl_config_free(cfg);
	cfg = NULL;
	/* one key given, the others keep their defaults */
	assert_int_equal(vfctl_config_parse(ctx, "t.conf", one, strlen(one), &cfg), 0);
	assert_int_equal(cfg->daemon.idle_timeout, 9);
	assert_int_equal(cfg->daemon.max_connections, VFCTL_CONF_MAX_CONNECTIONS);
	vfctl_config_free(cfg);
	refused(ctx, "{\"daemon\":{\"idle_timeout\":0},\"pfs\":[]}",
		"t.conf: daemon.idle_timeout: 0: expected 1-86400");
	refused(ctx, "{\"daemon\":{\"max_connections\":-1},\"pfs\":[]}",
		"t.conf: daemon.max_connections: -1: out of range; expected 0-1048576");
	refused(ctx, "{\"daemon\":{\"max_connections_per_uid\":\"8\"},\"pfs\":[]}",
		"t.conf: daemon.max_connections_per_uid: expected a whole number 0-1048576, got "
		"string");
	refused(ctx, "{\"daemon\":{\"max_conns\":8},\"pfs\":[]}",
		"t.conf: daemon: unknown key 'max_conns'; expected max_connections, "
		"max_connections_per_uid, idle_timeout");
	refused(ctx, "{\"daemon\":[],\"pfs\":[]}", "t.conf: daemon: expected an object, got array");
	vfctl_ctx_free(ctx);
}

#define PF_(rest) "{\"pfs\":[{\"match\":{\"address\":\"0000:03:00.0\"},\"numvfs\":4" rest "}]}"

static void bad_configs(void **state)
{
	struct vfctl_ctx *ctx = plain_ctx();

	(void)state;
	/* syntax: file:line:column */
	refused(ctx, "{\n  \"pfs\": [\n    { \"numvfs\": 4, }\n", "t.conf:3:20: not valid JSON: "
		"unexpected character");
	refused(ctx, "{\n  \"pfs\": [\n", "t.conf:3:1: unexpected end of file: the JSON is not "
		"complete");
	refused(ctx, "{\"pfs\":[]}\n{}", "t.conf:2:1: not valid JSON: unexpected character");
	refused(ctx, "[]", "t.conf: $: expected an object with \"pfs\", got array");
	/* unknown keys, wrong types */
	refused(ctx, "{\"pf\":[]}", "t.conf: $: unknown key 'pf'; expected pfs, daemon");
	refused(ctx, PF_(",\"numfvs\":2"), "t.conf: pfs[0]: unknown key 'numfvs'; expected match, "
		"numvfs, autoprobe, defaults, vfs, pools");
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"colour\":\"red\"}]"), "t.conf: pfs[0].vfs[0]: "
		"unknown key 'colour'; expected index, mac, vlan, qos, vlan_proto, spoofchk, trust, "
		"min_tx_rate, max_tx_rate, link_state, query_rss, driver");
	refused(ctx, PF_(",\"defaults\":{\"index\":1}"), "t.conf: pfs[0].defaults: unknown key "
		"'index'; expected mac, vlan, qos, vlan_proto, spoofchk, trust, min_tx_rate, "
		"max_tx_rate, link_state, query_rss, driver");
	refused(ctx, "{\"pfs\":[{\"match\":{\"address\":\"0000:03:00.0\"},\"numvfs\":\"4\"}]}",
		"t.conf: pfs[0].numvfs: expected a whole number 0-65535, got string");
	refused(ctx, PF_(",\"autoprobe\":1"), "t.conf: pfs[0].autoprobe: expected true or false, "
		"got int");
	refused(ctx, PF_(",\"vfs\":[{\"index\":1,\"spoofchk\":\"on\"}]"), "t.conf: "
		"pfs[0].vfs[0].spoofchk: expected true or false, got string");
	refused(ctx, PF_(",\"vfs\":{}"), "t.conf: pfs[0].vfs: expected an array of VF objects, "
		"got object");
	/* values out of range */
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"vlan\":4096}]"), "t.conf: pfs[0].vfs[0].vlan: "
		"4096: out of range; expected 0-4095");
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"vlan\":1,\"qos\":8}]"), "t.conf: "
		"pfs[0].vfs[0].qos: 8: out of range; expected 0-7");
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"vlan\":-1}]"), "t.conf: pfs[0].vfs[0].vlan: "
		"-1: out of range; expected 0-4095");
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"mac\":\"02:11:22:33:44\"}]"), "t.conf: pfs[0]: "
		"VF 0: mac '02:11:22:33:44': not a MAC address; expected six hex bytes as "
		"xx:xx:xx:xx:xx:xx");
	refused(ctx, PF_(",\"vfs\":[{\"index\":2,\"mac\":\"01:00:5e:00:00:01\"}]"), "t.conf: "
		"pfs[0]: VF 2: mac 01:00:5e:00:00:01: a multicast address cannot be a VF's MAC; use "
		"a unicast one (first byte even, e.g. 02:...), or 00:00:00:00:00:00 to clear the "
		"admin MAC");
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"qos\":3}]"), "t.conf: pfs[0]: VF 0: qos without "
		"vlan: qos and vlan_proto go with a VLAN");
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"min_tx_rate\":100,\"max_tx_rate\":10}]"),
		"t.conf: pfs[0]: VF 0: max-tx-rate 10 is below min-tx-rate 100; expected max-tx-rate "
		"0 (no limit) or at least the minimum");
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"link_state\":\"up\"}]"), "t.conf: "
		"pfs[0].vfs[0].link_state: 'up': expected \"auto\", \"enable\" or \"disable\"");
	refused(ctx, PF_(",\"defaults\":{\"mac\":\"02:00:00:00:00:01\"}"), "t.conf: "
		"pfs[0].defaults: mac 02:00:00:00:00:01 for every VF: VFs need their own MACs; set "
		"mac per VF under vfs");
	/* VF indexes */
	refused(ctx, PF_(",\"vfs\":[{\"index\":4,\"trust\":true}]"), "t.conf: pfs[0].vfs[0].index: "
		"VF index 4 is beyond numvfs 4");
	refused(ctx, PF_(",\"vfs\":[{\"index\":1},{\"index\":1}]"), "t.conf: pfs[0].vfs[1].index: "
		"VF index 1 given twice");
	refused(ctx, PF_(",\"vfs\":[{\"trust\":true}]"), "t.conf: pfs[0].vfs[0]: missing index "
		"(the VF's index, 0-3)");
	/* matches */
	refused(ctx, "{\"pfs\":[{\"numvfs\":1}]}", "t.conf: pfs[0]: missing match (address, "
		"netdev, or id with index)");
	refused(ctx, "{\"pfs\":[{\"match\":{\"address\":\"03:00.0\",\"netdev\":\"x\"},\"numvfs\":1}]}",
		"t.conf: pfs[0].match: give exactly one of address, netdev or id (with index)");
	refused(ctx, "{\"pfs\":[{\"match\":{\"address\":\"3:0.0\"},\"numvfs\":1}]}", "t.conf: "
		"pfs[0].match.address: '3:0.0' is not a PCI address (as 0000:03:00.0)");
	refused(ctx, "{\"pfs\":[{\"match\":{\"id\":\"8086-10fb\"},\"numvfs\":1}]}", "t.conf: "
		"pfs[0].match.id: '8086-10fb': expected VENDOR:DEVICE as four hex digits each, as "
		"\"8086:10c9\"");
	refused(ctx, "{\"pfs\":[" "{\"match\":{\"address\":\"0000:03:00.0\"},\"numvfs\":1},"
		"{\"match\":{\"address\":\"03:00.0\"},\"numvfs\":2}]}", "t.conf: pfs[1]: the same PF "
		"as pfs[0]");
	/* pools */
	refused(ctx, "{\"pfs\":[" "{\"match\":{\"address\":\"0000:03:00.0\"},\"numvfs\":2,"
		"\"pools\":[{\"name\":\"p\",\"vfs\":[0]}]},"
		"{\"match\":{\"address\":\"0000:03:00.1\"},\"numvfs\":2,"
		"\"pools\":[{\"name\":\"q\",\"vfs\":[0]},{\"name\":\"p\",\"vfs\":[1]}]}]}",
		"t.conf: pfs[1].pools[1].name: pool 'p' is already defined at pfs[0].pools[0]");
	refused(ctx, PF_(",\"pools\":[{\"name\":\"p\",\"vfs\":[4]}]"), "t.conf: "
		"pfs[0].pools[0].vfs[0]: VF index 4 is beyond numvfs 4 (index 0-3)");
	refused(ctx, PF_(",\"pools\":[{\"name\":\"p\",\"vfs\":[0],\"users\":[\"no-such-user-x\"]}]"),
		"t.conf: pfs[0].pools[0].users[0]: no user 'no-such-user-x' on this host");
	refused(ctx, PF_(",\"pools\":[{\"name\":\"p\",\"vfs\":[0],\"groups\":[\"root\",\"nogrp-x\"]}]"),
		"t.conf: pfs[0].pools[0].groups[1]: no group 'nogrp-x' on this host");
	refused(ctx, PF_(",\"pools\":[{\"name\":\"p\",\"vfs\":[0,1]},{\"name\":\"q\",\"vfs\":[2,1]}]"),
		"t.conf: pfs[0].pools[1].vfs[1]: VF 1 is already in pool 'p'");
	refused(ctx, PF_(",\"pools\":[{\"name\":\"p\",\"vfs\":[0],\"ttl\":\"5x\"}]"), "t.conf: "
		"pfs[0].pools[0].ttl: '5x' is not a time to live: seconds, or a number with s, m, "
		"h or d, from 1 s to 366 d");
	refused(ctx, PF_(",\"pools\":[{\"name\":\"p\",\"vfs\":[0],\"ttl\":0}]"), "t.conf: "
		"pfs[0].pools[0].ttl: '0' is not a time to live: seconds, or a number with s, m, h "
		"or d, from 1 s to 366 d");
	refused(ctx, PF_(",\"pools\":[{\"name\":\"p\",\"vfs\":[0],\"ttl\":true}]"), "t.conf: "
		"pfs[0].pools[0].ttl: expected seconds or a duration string (\"10m\"), got "
		"boolean");
	refused(ctx, PF_(",\"pools\":[{\"name\":\"p\",\"vfs\":[1,1]}]"), "t.conf: "
		"pfs[0].pools[0].vfs[1]: VF index 1 listed twice");
	refused(ctx, PF_(",\"pools\":[{\"vfs\":[0]}]"), "t.conf: pfs[0].pools[0]: a pool needs a "
		"name");
	vfctl_ctx_free(ctx);
}

static void load_missing_file(void **state)
{
	struct vfctl_ctx *ctx = plain_ctx();
	struct vfctl_config *cfg = NULL;

	(void)state;
	assert_int_equal(vfctl_config_load(ctx, "/nonexistent/vfctl.conf", &cfg), -ENOENT);
	assert_string_equal(vfctl_ctx_error(ctx), "/nonexistent/vfctl.conf: cannot open the "
			    "config: No such file or directory");
	assert_null(cfg);
	vfctl_ctx_free(ctx);
}

static struct vfctl_config *parse_ok(struct vfctl_ctx *ctx, const char *text)
{
	struct vfctl_config *cfg = NULL;

	if (vfctl_config_parse(ctx, "t.conf", text, strlen(text), &cfg) < 0) {
		print_error("%s\n", vfctl_ctx_error(ctx));
		fail();
	}
	return cfg;
}

/* Resolving against the host: refused with the path, nothing planned. */
static void plan_refused(struct tree *t, const char *text, int err, const char *msg)
{
	struct vfctl_config *cfg = parse_ok(t->ctx, text);
	struct vfctl_plan *plan = NULL;

	assert_int_equal(vfctl_plan_make(t->ctx, cfg, t->host, &plan), err);
	assert_string_equal(vfctl_ctx_error(t->ctx), msg);
	assert_null(plan);
	vfctl_config_free(cfg);
}

static void resolve_against_host(void **state)
{
	struct tree *t = tree_new("82599-8vf");

	(void)state;
	plan_refused(t, "{\"pfs\":[{\"match\":{\"address\":\"0000:05:00.0\"},\"numvfs\":1}]}", -ENODEV,
		     "t.conf: pfs[0].match: no address 0000:05:00.0 on this host ('vfctl list' "
		     "shows the PFs)");
	plan_refused(t, "{\"pfs\":[{\"match\":{\"netdev\":\"eth9\"},\"numvfs\":1}]}", -ENODEV,
		     "t.conf: pfs[0].match: no netdev eth9 on this host ('vfctl list' shows the PFs)");
	plan_refused(t, "{\"pfs\":[{\"match\":{\"id\":\"8086:10fb\",\"index\":2},\"numvfs\":1}]}",
		     -ENODEV, "t.conf: pfs[0].match: no PF 8086:10fb with index 2 on this host (2 "
		     "found; 'vfctl list' shows them)");
	plan_refused(t, "{\"pfs\":[{\"match\":{\"netdev\":\"enp3s0f0\"},\"numvfs\":1},"
		     "{\"match\":{\"address\":\"03:00.0\"},\"numvfs\":1}]}", -EINVAL,
		     "t.conf: pfs[1].match: 0000:03:00.0 is matched twice, by pfs[0] and pfs[1]");
	plan_refused(t, "{\"pfs\":[{\"match\":{\"address\":\"0000:03:10.0\"},\"numvfs\":1}]}",
		     -EINVAL, "t.conf: pfs[0].match: 0000:03:10.0 is a VF, not an SR-IOV PF");
	plan_refused(t, "{\"pfs\":[{\"match\":{\"netdev\":\"enp3s0f1\"},\"numvfs\":64}]}", -EINVAL,
		     "t.conf: pfs[0].numvfs: 64 VFs, but 0000:03:00.1 has sriov_totalvfs 63");
	tree_free(t);
}

static void plan_is_the_difference(void **state)
{
	/* 82599-8vf: PF0 enp3s0f0 with 8 VFs (VF 7 on vfio-pci), PF1 enp3s0f1
	 * with none, autoprobe on. The tree is not live: VF settings are
	 * unknown ("?") and so always planned. */
	static const char text[] =
		"{\"pfs\":["
		"{\"match\":{\"netdev\":\"enp3s0f0\"},\"numvfs\":8,"
		" \"vfs\":[{\"index\":3,\"vlan\":100,\"driver\":\"vfio-pci\"},"
		"          {\"index\":7,\"driver\":\"vfio-pci\"}]},"
		"{\"match\":{\"id\":\"8086:10fb\",\"index\":1},\"numvfs\":2,\"autoprobe\":false,"
		" \"vfs\":[{\"index\":1,\"mac\":\"02:00:00:00:00:01\"}]}]}";
	struct tree *t = tree_new("82599-8vf");
	struct vfctl_config *cfg = parse_ok(t->ctx, text);
	struct vfctl_plan *plan = NULL;
	const struct vfctl_change *c;

	(void)state;
	assert_int_equal(vfctl_plan_make(t->ctx, cfg, t->host, &plan), 0);
	assert_int_equal(plan->n, 5);
	c = &plan->changes[0];	/* PF changes first */
	assert_int_equal(c->kind, VFCTL_CHANGE_AUTOPROBE);
	assert_string_equal(c->pf, "0000:03:00.1");
	assert_string_equal(c->what, "sriov_drivers_autoprobe");
	assert_string_equal(c->from, "on");
	assert_string_equal(c->to, "off");
	c = &plan->changes[1];
	assert_int_equal(c->kind, VFCTL_CHANGE_NUMVFS);
	assert_int_equal(c->vf_index, -1);
	assert_string_equal(c->from, "0");
	assert_string_equal(c->to, "2");
	c = &plan->changes[2];
	assert_int_equal(c->kind, VFCTL_CHANGE_VF_ATTR);
	assert_string_equal(c->pf, "0000:03:00.0");
	assert_int_equal(c->vf_index, 3);
	assert_string_equal(c->dev, "0000:03:10.6");
	assert_true(c->vf_known);
	assert_string_equal(c->what, "vlan");
	assert_string_equal(c->from, "?");
	assert_string_equal(c->to, "100");
	c = &plan->changes[3];	/* VF 7 is on vfio-pci already: nothing */
	assert_int_equal(c->kind, VFCTL_CHANGE_DRIVER);
	assert_int_equal(c->vf_index, 3);
	assert_true(c->vf_known);	/* apply binds it: it must not read as "no such VF" */
	assert_string_equal(c->from, "ixgbevf");
	assert_string_equal(c->to, "vfio-pci");
	c = &plan->changes[4];	/* a VF still to be created */
	assert_string_equal(c->pf, "0000:03:00.1");
	assert_int_equal(c->vf_index, 1);
	assert_string_equal(c->dev, "");
	assert_false(c->vf_known);
	assert_string_equal(c->what, "mac");
	assert_string_equal(c->from, "?");
	assert_string_equal(c->to, "02:00:00:00:00:01");
	vfctl_plan_free(plan);
	vfctl_config_free(cfg);

	/* What matches gives an empty plan. */
	cfg = parse_ok(t->ctx, "{\"pfs\":[{\"match\":{\"netdev\":\"enp3s0f0\"},\"numvfs\":8,"
		       "\"autoprobe\":true,\"vfs\":[{\"index\":7,\"driver\":\"vfio-pci\"},"
		       "{\"index\":0,\"driver\":\"ixgbevf\"}]},"
		       "{\"match\":{\"address\":\"0000:03:00.1\"},\"numvfs\":0}]}");
	assert_int_equal(vfctl_plan_make(t->ctx, cfg, t->host, &plan), 0);
	assert_int_equal(plan->n, 0);
	vfctl_plan_free(plan);
	vfctl_config_free(cfg);

	/* A count change recreates every VF: their settings are not known. */
	cfg = parse_ok(t->ctx, "{\"pfs\":[{\"match\":{\"netdev\":\"enp3s0f0\"},\"numvfs\":2,"
		       "\"vfs\":[{\"index\":0,\"driver\":\"vfio-pci\"}]}]}");
	assert_int_equal(vfctl_plan_make(t->ctx, cfg, t->host, &plan), 0);
	assert_int_equal(plan->n, 2);
	assert_string_equal(plan->changes[0].from, "8");
	assert_string_equal(plan->changes[0].to, "2");
	assert_int_equal(plan->changes[1].kind, VFCTL_CHANGE_DRIVER);
	assert_false(plan->changes[1].vf_known);
	assert_string_equal(plan->changes[1].from, "?");
	assert_string_equal(plan->changes[1].dev, "");
	vfctl_plan_free(plan);
	vfctl_config_free(cfg);
	tree_free(t);
}

/* The words vfctl set and the config share. */
/* vfctl apply --pf: only the config PFs that are the named host PFs stay;
 * others (absent from the host too) go; a bad name changes nothing. */
static void select_pfs(void **state)
{
	static const char text[] =
		"{\"pfs\":[{\"match\":{\"netdev\":\"enp3s0f0\"},\"numvfs\":8},"
		"{\"match\":{\"address\":\"0000:05:00.0\"},\"numvfs\":1},"
		"{\"match\":{\"id\":\"8086:10fb\",\"index\":1},\"numvfs\":3}]}";
	struct tree *t = tree_new("82599-8vf");
	struct vfctl_config *cfg = parse_ok(t->ctx, text);
	struct vfctl_plan *plan = NULL;
	bool found[2] = { true, true };
	const char *vf[] = { "0000:03:10.0" }, *none[] = { "0000:09:00.0" };
	const char *two[] = { "03:00.1", "enp3s0f0" };

	(void)state;
	/* the whole config does not resolve here: 0000:05:00.0 is missing */
	assert_int_equal(vfctl_plan_make(t->ctx, cfg, t->host, &plan), -ENODEV);
	/* refused names leave cfg and found as they were */
	assert_int_equal(vfctl_config_select(t->ctx, cfg, t->host, vf, 1, found), -EINVAL);
	assert_string_equal(vfctl_ctx_error(t->ctx), "0000:03:10.0 is a VF, not an SR-IOV PF; "
			    "give the PF whose VFs the config describes ('vfctl list' shows them)");
	assert_int_equal(vfctl_config_select(t->ctx, cfg, t->host, none, 1, found), -ENODEV);
	assert_int_equal(cfg->n_pfs, 3);
	assert_true(found[0]);
	/* by address and by netdev: the id match and the netdev match stay */
	assert_int_equal(vfctl_config_select(t->ctx, cfg, t->host, two, 2, found), 2);
	assert_true(found[0] && found[1]);
	assert_int_equal(cfg->n_pfs, 2);
	assert_int_equal(cfg->pfs[0].match, VFCTL_MATCH_NETDEV);
	assert_string_equal(cfg->pfs[1].path, "pfs[2]");
	assert_int_equal(vfctl_plan_make(t->ctx, cfg, t->host, &plan), 0);
	assert_int_equal(plan->n, 1);	/* 0000:03:00.1: sriov_numvfs 0 -> 3 */
	assert_string_equal(plan->changes[0].pf, "0000:03:00.1");
	vfctl_plan_free(plan);
	/* one of them again: the other goes; then neither is left */
	assert_int_equal(vfctl_config_select(t->ctx, cfg, t->host, two, 1, found), 1);
	assert_int_equal(cfg->pfs[0].match, VFCTL_MATCH_ID);
	assert_int_equal(vfctl_config_select(t->ctx, cfg, t->host, two + 1, 1, found), 0);
	assert_false(found[0]);
	assert_int_equal(cfg->n_pfs, 0);
	vfctl_config_free(cfg);
	tree_free(t);
}

/* A key given twice (json-c would keep the last): FILE:LINE:COL of both;
 * the same key in two objects is fine. */
static void duplicate_keys(void **state)
{
	struct vfctl_ctx *ctx = plain_ctx();
	struct vfctl_config *cfg;

	(void)state;
	refused(ctx, PF_(",\"vfs\":[{\"index\":0,\"vlan\":1,\n\"vlan\":2}]"),
		"t.conf:2:1: key \"vlan\" given twice in one object (first at 1:74); give each key "
		"once");
	refused(ctx, PF_(",\"numvfs\":4"), "t.conf:1:56: key \"numvfs\" given twice in one object "
		"(first at 1:45); give each key once");
	/* escapes are decoded as json-c does: "n\u0075mvfs" is "numvfs" */
	refused(ctx, PF_(",\"n\\u0075mvfs\":4"), "t.conf:1:56: key \"numvfs\" given twice in one "
		"object (first at 1:45); give each key once");
	cfg = parse_ok(ctx, PF_(",\"vfs\":[{\"index\":0,\"vlan\":1},{\"index\":1,\"vlan\":1}],"
				"\"defaults\":{\"vlan\":3}"));
	vfctl_config_free(cfg);
	/* json-c takes 'strings' even when strict; a single-quoted key would
	 * also slip past the duplicate check (and a '"' in it misled it past
	 * the end of the text: found by fuzz_config) */
	refused(ctx, "{'pfs': []}", "t.conf:1:2: not valid JSON: a string in single quotes; JSON "
		"strings take double quotes");
	refused(ctx, "{\"pfs\": [],\n 'pfs': []}", "t.conf:2:2: not valid JSON: a string in "
		"single quotes; JSON strings take double quotes");
	refused(ctx, "{'\"\\u0000': 1}", "t.conf:1:2: not valid JSON: a string in single quotes; "
		"JSON strings take double quotes");
	cfg = parse_ok(ctx, "{\"pfs\": [{\"match\": {\"netdev\": \"it's\"}, \"numvfs\": 0}]}");
	vfctl_config_free(cfg);
	vfctl_ctx_free(ctx);
}

/* The text is exactly len bytes: no NUL after it is read (ASan build). */
static void parse_unterminated(void **state)
{
	static const char text[] = "{ \"pfs\": [] } \n";
	struct vfctl_ctx *ctx = plain_ctx();
	struct vfctl_config *cfg = NULL;
	char *buf = malloc(sizeof(text) - 1);

	(void)state;
	assert_non_null(buf);
	memcpy(buf, text, sizeof(text) - 1);
	assert_int_equal(vfctl_config_parse(ctx, "t.conf", buf, sizeof(text) - 1, &cfg), 0);
	assert_int_equal(cfg->n_pfs, 0);
	vfctl_config_free(cfg);
	cfg = NULL;
	memcpy(buf, "{\"pfs\":[]}  x  ", sizeof(text) - 1);
	assert_int_equal(vfctl_config_parse(ctx, "t.conf", buf, sizeof(text) - 1, &cfg), -EINVAL);
	assert_string_equal(vfctl_ctx_error(ctx), "t.conf:1:13: not valid JSON: unexpected "
			    "character");
	assert_null(cfg);
	free(buf);
	vfctl_ctx_free(ctx);
}

static void shared_words(void **state)
{
	char mac[VFCTL_MAC_LEN] = "";
	uint16_t proto = 0;
	int ls = -1;

	(void)state;
	assert_int_equal(vfctl_vf_parse_mac("02:AB:cd:EF:00:01", mac), 0);
	assert_string_equal(mac, "02:ab:cd:ef:00:01");
	assert_int_equal(vfctl_vf_parse_mac("02:ab:cd:ef:00:01:02", mac), -EINVAL);
	assert_string_equal(mac, "02:ab:cd:ef:00:01");
	assert_int_equal(vfctl_vf_parse_vlan_proto("802.1q", &proto), 0);
	assert_int_equal(proto, 0x8100);
	assert_int_equal(vfctl_vf_parse_vlan_proto("802.1AD", &proto), 0);
	assert_int_equal(proto, 0x88a8);
	assert_int_equal(vfctl_vf_parse_vlan_proto("8021q", &proto), -EINVAL);
	assert_int_equal(proto, 0x88a8);
	assert_int_equal(vfctl_vf_parse_link_state("auto", &ls), 0);
	assert_int_equal(ls, 0);
	assert_int_equal(vfctl_vf_parse_link_state("enable", &ls), 0);
	assert_int_equal(ls, 1);
	assert_int_equal(vfctl_vf_parse_link_state("disable", &ls), 0);
	assert_int_equal(ls, 2);
	assert_int_equal(vfctl_vf_parse_link_state("up", &ls), -EINVAL);
	assert_int_equal(ls, 2);
}

/* A \u0000 in a string is refused where it is (json-c keeps it; every C
 * reader of the string would stop there and apply the rest silently). */
static void nul_in_a_string(void **state)
{
	struct vfctl_ctx *ctx = plain_ctx();
	struct vfctl_config *cfg;

	(void)state;
	refused(ctx, "{\"pfs\":[{\"match\":{\"address\":\n  \"0000:03:00.0\\u0000x\"},\"numvfs\":4}]}",
		"t.conf:2:16: a NUL character (\\u0000) in a string: no name or value holds one; "
		"remove it");
	refused(ctx, "{\"pfs\\u0000\":[]}", "t.conf:1:6: a NUL character (\\u0000) in a string: "
		"no name or value holds one; remove it");
	/* an escaped backslash before u0000 is no NUL */
	/* nor bytes that are not UTF-8 (a pool name reaches vfctld's replies) */
	refused(ctx, "{\"pfs\":[{\"match\":{\"address\":\"0000:03:00.0\"},\"numvfs\":4,\n"
		"\"pools\":[{\"name\":\"g\xff\"}]}]}", "t.conf:2:20: not valid JSON: invalid utf-8 string");
	cfg = parse_ok(ctx, "{\"pfs\":[{\"match\":{\"netdev\":\"a\\\\u0000\"},\"numvfs\":4}]}");
	assert_string_equal(cfg->pfs[0].netdev, "a\\u0000");
	vfctl_config_free(cfg);
	vfctl_ctx_free(ctx);
}

/* Only a regular file is read: a FIFO does not block the open, a
 * directory or device is refused with what it is; the cap is named. */
static void config_must_be_a_regular_file(void **state)
{
	struct vfctl_ctx *ctx = plain_ctx();
	struct vfctl_config *cfg = NULL;
	char dir[64], path[128], want[256];

	(void)state;
	unit_tmpdir(dir, sizeof(dir), "/tmp/vfctl-conf-XXXXXX");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* no writer ever comes: a blocking open would hang here for good */
	assert_int_equal(vfctl_config_load(ctx, path, &cfg), -EINVAL);
	snprintf(want, sizeof(want), "%s: a FIFO, not a regular file: a config is read only from "
		 "a regular file (at most 1 MiB); write it to one and give that path", path);
	assert_string_equal(vfctl_ctx_error(ctx), want);
	assert_null(cfg);
	assert_int_equal(vfctl_config_load(ctx, dir, &cfg), -EINVAL);
	assert_non_null(strstr(vfctl_ctx_error(ctx), ": a directory, not a regular file"));
	assert_int_equal(vfctl_config_load(ctx, "/dev/null", &cfg), -EINVAL);
	assert_non_null(strstr(vfctl_ctx_error(ctx), "/dev/null: a character device, not a "
			       "regular file"));
	/* past the cap: refused by its size, unread */
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	unit_sh("truncate -s 1048577 '%s'", path);
	assert_int_equal(vfctl_config_load(ctx, path, &cfg), -EFBIG);
	assert_non_null(strstr(vfctl_ctx_error(ctx), "1048577 bytes, larger than a config can be "
			       "(1 MiB)"));
	unit_rm_rf(dir);
	vfctl_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_config),
		cmocka_unit_test(bad_configs),
		cmocka_unit_test(daemon_limits),
		cmocka_unit_test(load_missing_file),
		cmocka_unit_test(resolve_against_host),
		cmocka_unit_test(plan_is_the_difference),
		cmocka_unit_test(shared_words),
		cmocka_unit_test(select_pfs),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(nul_in_a_string),
		cmocka_unit_test(config_must_be_a_regular_file),
		cmocka_unit_test(parse_unterminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
