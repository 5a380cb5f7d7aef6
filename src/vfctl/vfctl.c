// SPDX-License-Identifier: GPL-2.0-or-later
/* vfctl: a thin front-end over libvfctl. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "env.h"
#include "print.h"
#include "vfctl.h"

#ifndef VFCTL_VERSION
#define VFCTL_VERSION "0.1"
#endif

static const char *tri_str(int v)
{
	return v == VFCTL_ON ? "on" : v == VFCTL_OFF ? "off" : NULL;
}

static void pr_hex4(const char *key, const char *fmt, unsigned v)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04x", v);
	pr_str(key, fmt, buf);
}

static void pr_opt_int(const char *key, const char *fmt, int v)
{
	if (v < 0)
		pr_null(key, NULL);
	else
		pr_int(key, fmt, v);
}

void print_host(const struct vfctl_host *h)
{
	pr_obj_begin("iommu");
	pr_bool("present", "IOMMU: %s", h->iommu);
	pr_arr_begin("units");
	for (size_t i = 0; i < h->n_iommu_units; i++)
		pr_str(NULL, i ? ",%s" : " (%s", h->iommu_units[i]);
	pr_arr_end();
	pr_text(h->n_iommu_units ? ")" : "");
	pr_bool("groups", NULL, h->iommu_groups);
	if (!h->iommu)
		pr_str("hint", " - no IOMMU unit in /sys/class/iommu: %s",
		       "enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on "
		       "(Intel) or amd_iommu=on (AMD); VFIO passthrough needs it");
	else
		pr_null("hint", NULL);
	pr_obj_end();
	pr_text("\n");

	pr_obj_begin("vfio");
	pr_bool("container", "VFIO: /dev/vfio/vfio %s", h->vfio_container);
	pr_bool("module", ", vfio-pci module %s", h->vfio_module);
	pr_bool("iommufd", ", /dev/iommu %s", h->iommufd);
	pr_bool("cdev", ", device cdevs %s", h->vfio_cdev);
	if (!h->vfio_container)
		pr_str("hint", " - %s", "load vfio-pci ('modprobe vfio-pci') so /dev/vfio/vfio "
		       "exists; a kernel without CONFIG_VFIO cannot pass devices through");
	else
		pr_null("hint", NULL);
	pr_obj_end();
	pr_text("\n");
}

static void print_netdevs(const struct vfctl_func *f)
{
	pr_arr_begin("netdevs");
	for (size_t i = 0; i < f->n_netdevs; i++) {
		const struct vfctl_netdev *n = f->netdevs[i];

		pr_obj_begin(NULL);
		pr_str("name", i ? ", %s" : ", netdev %s", n->name);
		pr_opt_int("ifindex", NULL, n->ifindex);
		pr_str("operstate", " (%s", n->operstate[0] ? n->operstate : NULL);
		if (n->carrier == VFCTL_UNKNOWN)
			pr_null("carrier", NULL);
		else
			pr_bool("carrier", NULL, n->carrier == VFCTL_ON);
		if (n->speed < 0)
			pr_null("speed_mbps", NULL);
		else
			pr_int("speed_mbps", ", %lld Mb/s", n->speed);
		pr_text(")");
		pr_str("mac", NULL, n->mac[0] ? n->mac : NULL);
		pr_obj_end();
	}
	pr_arr_end();
}

static void print_vf_config(const struct vfctl_func *vf)
{
	const struct vfctl_vf_config *c = &vf->config;

	if (!c->valid) {
		pr_null("config", NULL);
		return;
	}
	pr_obj_begin("config");
	pr_str("mac", ", mac %s", c->mac[0] ? c->mac : NULL);
	pr_uint("vlan", ", vlan %llu", c->vlan);
	pr_uint("qos", c->qos ? " qos %llu" : NULL, c->qos);
	pr_str("vlan_proto", c->vlan_proto != 0x8100 ? " proto %s" : NULL,
	       vfctl_vlan_proto_str(c->vlan_proto));
	pr_str("spoofchk", ", spoofchk %s", tri_str(c->spoofchk));
	pr_str("trust", ", trust %s", tri_str(c->trust));
	pr_str("query_rss", c->query_rss != VFCTL_UNKNOWN ? ", query-rss %s" : NULL,
	       tri_str(c->query_rss));
	pr_uint("min_tx_rate", c->min_tx_rate ? ", min-tx-rate %llu" : NULL, c->min_tx_rate);
	pr_uint("max_tx_rate", c->max_tx_rate ? ", max-tx-rate %llu" : NULL, c->max_tx_rate);
	pr_str("link_state", c->link_state >= 0 ? ", link-state %s" : NULL,
	       vfctl_vf_link_state_str(c->link_state));
	pr_obj_end();
}


/* The fields every function has, one line of text. */
static void print_ident(const struct vfctl_func *f)
{
	static const char *kinds[] = { "other", "pf", "vf" };

	pr_str("address", "%s", f->addr);
	pr_str("kind", NULL, kinds[f->kind]);
	pr_hex4("vendor_id", " [%s", f->vendor);
	pr_hex4("device_id", ":%s]", f->device);
	pr_hex4("subsystem_vendor_id", NULL, f->subsys_vendor);
	pr_hex4("subsystem_device_id", NULL, f->subsys_device);
	{
		char cls[8];

		snprintf(cls, sizeof(cls), "%06x", f->class);
		pr_str("class", NULL, cls);
	}
	pr_str("class_name", NULL, f->class_name);
	pr_str("vendor", " %s", f->vendor_name);
	pr_str("device", " %s", f->device_name);
}

static void print_attrs(const struct vfctl_func *f)
{
	pr_str("driver", "driver %s", f->driver ? f->driver : "(none)");
	if (!f->driver)
		pr_null("driver", NULL);
	pr_str("driver_override", f->driver_override ? " (override %s)" : NULL, f->driver_override);
	if (f->numa_node < 0)
		pr_null("numa_node", NULL);
	else
		pr_int("numa_node", ", numa %lld", f->numa_node);
	if (f->iommu_group < 0)
		pr_null("iommu_group", ", no iommu group");
	else
		pr_int("iommu_group", ", iommu group %lld", f->iommu_group);
	print_netdevs(f);
}

static void print_sriov(const struct vfctl_func *pf, const char *indent)
{
	pr_obj_begin("sriov");
	pr_text("%s    sriov", indent);
	pr_opt_int("numvfs", " %lld", pf->numvfs);
	pr_opt_int("totalvfs", " of %lld VFs", pf->totalvfs);
	if (pf->autoprobe < 0)
		pr_null("drivers_autoprobe", NULL);
	else
		pr_bool("drivers_autoprobe", ", autoprobe %s", pf->autoprobe);
	pr_opt_int("vf_offset", ", vf offset %lld", pf->vf_offset);
	pr_opt_int("vf_stride", " stride %lld", pf->vf_stride);
	if (pf->vf_device)
		pr_hex4("vf_device_id", ", vf device %s", pf->vf_device);
	else
		pr_null("vf_device_id", NULL);
	pr_obj_end();
	if (pf->vf_config_error)
		pr_text("\n%s    vf settings: ", indent);
	pr_str("vf_config_error", pf->vf_config_error ? "%s" : NULL, pf->vf_config_error);
	pr_text("\n");

	pr_arr_begin("vfs");
	for (size_t i = 0; i < pf->n_vfs; i++)
		if (pf->vfs[i])
			print_func(pf->vfs[i], indent);
	pr_arr_end();
}

void print_func(const struct vfctl_func *f, const char *indent)
{
	pr_obj_begin(NULL);
	if (f->kind == VFCTL_FUNC_VF) {
		pr_text("%s  vf ", indent);
		pr_int("vf_index", "%lld  ", f->vf_index);
		pr_str("pf", NULL, f->pf ? f->pf->addr : NULL);
		print_ident(f);
		pr_text("\n%s        ", indent);
		print_attrs(f);
		print_vf_config(f);
		pr_text("\n");
	} else {
		pr_text("%s", indent);
		print_ident(f);
		pr_text("\n%s    ", indent);
		print_attrs(f);
		pr_text("\n");
		if (f->kind == VFCTL_FUNC_PF)
			print_sriov(f, indent);
	}
	pr_obj_end();
}

void print_warnings(const struct vfctl_host *h)
{
	pr_arr_begin("warnings");
	for (size_t i = 0; i < h->n_warnings; i++) {
		pr_str(NULL, NULL, h->warnings[i]);
		fprintf(stderr, "vfctl: warning: %s\n", h->warnings[i]);
	}
	pr_arr_end();
}

static int cmd_list(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	size_t n_pfs = 0;

	(void)ctx;
	if (a->argc > 0) {
		fprintf(stderr, "vfctl list: unexpected argument '%s'\n", a->argv[0]);
		return EXIT_USAGE;
	}
	pr_obj_begin(NULL);
	pr_str("sysfs_root", NULL, vfctl_ctx_sysfs_root(ctx));
	pr_obj_begin("host");
	print_host(h);
	pr_obj_end();

	pr_arr_begin("pfs");
	for (size_t i = 0; i < h->n_funcs; i++)
		if (h->funcs[i]->kind == VFCTL_FUNC_PF) {
			pr_text("\n");
			print_func(h->funcs[i], "");
			n_pfs++;
		}
	pr_arr_end();
	if (!n_pfs)
		pr_text("\nNo SR-IOV physical function on this host (%zu PCI functions scanned, "
			"none has sriov_totalvfs)%s\n", h->n_funcs, a->all ? "" :
			"; 'vfctl list --all' shows them");

	if (a->all) {
		pr_text("\nOther PCI functions:\n");
		pr_arr_begin("functions");
		for (size_t i = 0; i < h->n_funcs; i++)
			if (h->funcs[i]->kind == VFCTL_FUNC_OTHER)
				print_func(h->funcs[i], "");
		pr_arr_end();
	}
	print_warnings(h);
	pr_obj_end();
	return EXIT_OK;
}

static void print_group(const struct vfctl_group *g)
{
	pr_obj_begin(NULL);
	pr_int("id", "group %lld", g->id);
	pr_bool("viable", NULL, g->viable);
	pr_text(g->viable ? "  viable for VFIO" : "  NOT viable");
	pr_bool("dev_node", NULL, g->dev_node);
	pr_text(g->dev_node ? ", /dev/vfio/%d" : "", g->id);
	pr_str("blocker", NULL, g->blocker ? g->blocker->addr : NULL);
	pr_str("reason", g->reason ? ": %s" : NULL, g->reason);
	pr_text("\n");
	pr_arr_begin("members");
	for (size_t i = 0; i < g->n_members; i++) {
		const struct vfctl_func *m = g->members[i];

		pr_obj_begin(NULL);
		pr_text("    ");
		print_ident(m);
		pr_str("driver", "  driver %s", m->driver ? m->driver : "(none)");
		if (!m->driver)
			pr_null("driver", NULL);
		pr_bool("bridge", NULL, m->is_bridge);
		pr_text("\n");
		pr_obj_end();
	}
	pr_arr_end();
	pr_obj_end();
}

static int cmd_groups(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	if (a->argc > 0) {
		fprintf(stderr, "vfctl groups: unexpected argument '%s'\n", a->argv[0]);
		return EXIT_USAGE;
	}
	pr_obj_begin(NULL);
	pr_str("sysfs_root", NULL, vfctl_ctx_sysfs_root(ctx));
	pr_obj_begin("host");
	print_host(h);
	pr_obj_end();
	if (!h->n_groups)
		pr_text("\nNo IOMMU groups in %s/kernel/iommu_groups: the kernel runs without an "
			"IOMMU, so no device can be passed through with VFIO\n",
			vfctl_ctx_sysfs_root(ctx));
	pr_arr_begin("groups");
	for (size_t i = 0; i < h->n_groups; i++) {
		pr_text("\n");
		print_group(h->groups[i]);
	}
	pr_arr_end();
	print_warnings(h);
	pr_obj_end();
	return EXIT_OK;
}

static int cmd_show(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	struct vfctl_func *f;
	struct vfctl_group *g;
	int r;

	if (a->argc != 1) {
		fprintf(stderr, "vfctl show: expected one device (PCI address or netdev name)\n");
		return EXIT_USAGE;
	}
	r = vfctl_host_find(ctx, h, a->argv[0], &f);
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", vfctl_ctx_error(ctx));
		return EXIT_ERR;
	}
	pr_obj_begin(NULL);
	pr_str("sysfs_root", NULL, vfctl_ctx_sysfs_root(ctx));
	pr_obj_begin("host");
	print_host(h);
	pr_obj_end();
	pr_text("\n");
	pr_arr_begin("functions");
	print_func(f, "");
	pr_arr_end();
	g = f->iommu_group >= 0 ? vfctl_host_group(h, f->iommu_group) : NULL;
	if (g) {
		pr_text("\n");
		pr_obj_begin("group");
		pr_int("id", "group %lld", g->id);
		pr_bool("viable", NULL, g->viable);
		pr_text(g->viable ? ": viable for VFIO" : ": NOT viable");
		pr_str("reason", g->reason ? ": %s" : NULL, g->reason);
		pr_arr_begin("members");
		pr_text(" (members");
		for (size_t i = 0; i < g->n_members; i++)
			pr_str(NULL, " %s", g->members[i]->addr);
		pr_text(")\n");
		pr_arr_end();
		pr_obj_end();
	} else {
		pr_null("group", NULL);
	}
	print_warnings(h);
	pr_obj_end();
	return EXIT_OK;
}

static void usage(FILE *out)
{
	fputs("Usage: vfctl [OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  list [--all]      SR-IOV PFs with their VFs (--all: every PCI function)\n"
	      "  show DEV          one function; DEV is a PCI address or a netdev name\n"
	      "  groups            IOMMU groups, their members and VFIO viability\n"
	      "  bind DEV [DRIVER] bind to DRIVER (default vfio-pci) with driver_override\n"
	      "  unbind DEV        unbind from its driver\n"
	      "  restore DEV       back to the driver and VF settings saved at the first bind\n"
	      "  set VF|PF:INDEX ATTR VALUE...\n"
	      "                    change a VF's settings through its PF; VF is a PCI address\n"
	      "                    or netdev, PF:INDEX e.g. enp1s0:3 or 0000:01:00.0:3. One\n"
	      "                    netlink message per attribute: mac M, vlan V [qos Q]\n"
	      "                    [proto 802.1Q|802.1ad], spoofchk on|off, trust on|off,\n"
	      "                    max-tx-rate R, min-tx-rate R (Mb/s),\n"
	      "                    link-state auto|enable|disable, query-rss on|off;\n"
	      "                    exit 1 if any is refused\n"
	      "  create PF N       enable N VFs on PF (through 0 if it has others); waits until\n"
	      "                    they exist; [--no-autoprobe] [--force] [--timeout SEC]\n"
	      "  destroy PF        remove all VFs of PF [--timeout SEC]\n"
	      "  apply [--dry-run] [--config FILE] [--pf PF]... [--skip-absent]\n"
	      "                    make the host match the declarative config (default\n"
	      "                    /etc/vfctl/vfctl.conf, see vfctl.conf(5)): VF counts,\n"
	      "                    autoprobe, VF settings, drivers; prints each change;\n"
	      "                    --pf (address or netdev, repeatable): only that PF's part\n"
	      "                    of the config (a PF the config does not name: nothing to do);\n"
	      "                    [--force] [--timeout SEC]\n"
	      "  pools             vfctld's pools: their VFs, which are leased, free\n"
	      "  alloc --pool P [--numa N] [--pf DEV] [--owner TAG] [--pid PID]\n"
	      "                    lease a free VF of pool P from vfctld (bound to vfio-pci);\n"
	      "                    --pid: released when that process exits\n"
	      "  release LEASE|VF [--force]\n"
	      "                    give a lease back (VF to its original driver); --force:\n"
	      "                    revoke it even while a process holds the VF\n"
	      "  leases            your leases (root: all)\n"
	      "\n"
	      "Options:\n"
	      "  -j, --json             JSON output\n"
	      "  -a, --all              list: include functions that are not PFs or VFs\n"
	      "      --sysfs-root DIR   read DIR instead of /sys (env VFCTL_SYSFS_ROOT)\n"
	      "      --dev-root DIR     read DIR instead of /dev (env VFCTL_DEV_ROOT)\n"
	      "      --run-dir DIR      locks and saved state under DIR, not /run/vfctl\n"
	      "                         (env VFCTL_RUN_DIR)\n"
	      "      --no-autoprobe     create: no host VF driver probes the new VFs\n"
	      "      --force            create: change a count even when VFs have drivers;\n"
	      "                         bind/unbind: even if its netdev carries host routes;\n"
	      "                         apply: both of these\n"
	      "      --timeout SEC      bound on kernel writes and waits\n"
	      "      --dry-run          apply: print the changes, make none\n"
	      "      --config FILE      apply: the config to read\n"
	      "      --skip-absent      apply: skip config PFs that are not on the host\n"
	      "      --pf DEV           apply: reconcile only PF DEV (repeatable);\n"
	      "                         alloc: a VF of PF DEV\n"
	      "      --socket PATH      vfctld's socket (env VFCTLD_SOCKET, default\n"
	      "                         /run/vfctl/vfctld.sock)\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          version\n"
	      "\n"
	      "Exit status: 0 ok, 1 error, 2 usage.\n", out);
}

/* A negative number is a value ("set VF vlan -5", "create PF -1": the
 * command says what is wrong with it), not a cluster of short options:
 * hide it from getopt behind a marker byte, taken off after parsing. Not
 * the value of an option that takes one, nor anything after "--". */
#define NEG_MARK '\x01'

static bool takes_value(const char *arg, const struct option *opts)
{
	size_t n;

	if (strncmp(arg, "--", 2) || strchr(arg, '=') || !arg[2])
		return false;
	n = strlen(arg + 2);
	for (; opts->name; opts++)	/* getopt_long takes unambiguous prefixes */
		if (opts->has_arg == required_argument && !strncmp(opts->name, arg + 2, n))
			return true;
	return false;
}

static void mark_negative_numbers(int argc, char **argv, const struct option *opts)
{
	for (int i = 1; i < argc; i++) {
		char *m;

		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] != '-' || argv[i][1] < '0' || argv[i][1] > '9' ||
		    takes_value(argv[i - 1], opts))
			continue;
		m = malloc(strlen(argv[i]) + 2);
		if (!m)
			continue;	/* getopt will call it an option: still an error */
		m[0] = NEG_MARK;
		strcpy(m + 1, argv[i]);
		argv[i] = m;	/* freed at exit */
	}
}

static void unmark_negative_numbers(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == NEG_MARK)
			argv[i]++;
}

int main(int argc, char **argv)
{
	enum { OPT_SYSFS = 256, OPT_DEV, OPT_RUN, OPT_NO_AUTOPROBE, OPT_FORCE, OPT_TIMEOUT, OPT_DRY_RUN,
	       OPT_CONFIG, OPT_POOL, OPT_NUMA, OPT_PF, OPT_OWNER, OPT_PID, OPT_SOCKET,
	       OPT_SKIP_ABSENT };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS },
		{ "dev-root", required_argument, NULL, OPT_DEV },
		{ "run-dir", required_argument, NULL, OPT_RUN },
		{ "no-autoprobe", no_argument, NULL, OPT_NO_AUTOPROBE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "skip-absent", no_argument, NULL, OPT_SKIP_ABSENT },
		{ "pool", required_argument, NULL, OPT_POOL },
		{ "numa", required_argument, NULL, OPT_NUMA },
		{ "pf", required_argument, NULL, OPT_PF },
		{ "owner", required_argument, NULL, OPT_OWNER },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	static const struct {
		const char *name;
		int (*fn)(struct vfctl_ctx *, struct vfctl_host *, const struct args *);
		bool daemon;	/* a vfctld request: no ctx, no host scan */
	} cmds[] = {
		{ "list", cmd_list, false },
		{ "show", cmd_show, false },
		{ "groups", cmd_groups, false },
		{ "bind", cmd_bind, false },
		{ "unbind", cmd_unbind, false },
		{ "restore", cmd_restore, false },
		{ "set", cmd_set, false },
		{ "create", cmd_create, false },
		{ "destroy", cmd_destroy, false },
		{ "apply", cmd_apply, false },
		{ "alloc", cmd_alloc, true },
		{ "release", cmd_release, true },
		{ "leases", cmd_leases, true },
		{ "pools", cmd_pools, true },
	};
	struct args a = { .numa = -1 };
	struct vfctl_ctx *ctx = NULL;
	struct vfctl_host *host = NULL;
	char errbuf[512] = "";
	int c, ret = EXIT_ERR, r;
	size_t i;
	const char *pfs[argc];	/* every --pf fits: argc bounds them */

	a.pfs = pfs;
	mark_negative_numbers(argc, argv, opts);
	opterr = 0;	/* one line of our own instead of getopt's and the usage */
	while ((c = getopt_long(argc, argv, ":jahV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': a.json = true; break;
		case 'a': a.all = true; break;
		case OPT_SYSFS: a.sysfs_root = optarg; break;
		case OPT_DEV: a.dev_root = optarg; break;
		case OPT_RUN: a.run_dir = optarg; break;
		case OPT_NO_AUTOPROBE: a.no_autoprobe = true; break;
		case OPT_FORCE: a.force = true; break;
		case OPT_DRY_RUN: a.dry_run = true; break;
		case OPT_CONFIG: a.config = optarg; break;
		case OPT_SKIP_ABSENT: a.skip_absent = true; break;
		case OPT_POOL: a.pool = optarg; break;
		case OPT_PF: pfs[a.n_pfs++] = optarg; break;
		case OPT_OWNER: a.owner = optarg; break;
		case OPT_SOCKET: a.socket = optarg; break;
		case OPT_NUMA:
		case OPT_PID: {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || !*optarg || v < (c == OPT_NUMA ? 0 : 1) ||
			    v > (c == OPT_NUMA ? 1023 : 4194304)) {
				fprintf(stderr, "vfctl: --%s '%s': expected a %s\n",
					c == OPT_NUMA ? "numa" : "pid", optarg,
					c == OPT_NUMA ? "NUMA node number (0-1023)" : "process id");
				return EXIT_USAGE;
			}
			if (c == OPT_NUMA)
				a.numa = (int)v;
			else
				a.pid = (int)v;
			break;
		}
		case OPT_TIMEOUT: {
			char *end;

			errno = 0;
			a.timeout_s = strtod(optarg, &end);
			if (errno || *end || !(a.timeout_s > 0) || a.timeout_s > 86400) {
				fprintf(stderr, "vfctl: --timeout '%s': expected seconds, "
					"more than 0 and at most 86400\n", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("vfctl %s\n", VFCTL_VERSION); return EXIT_OK;
		case ':':
			fprintf(stderr, "vfctl: option '%s' needs a value; try 'vfctl --help'\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt > ' ' && optopt < 127)
				fprintf(stderr, "vfctl: unknown option '-%c'; try 'vfctl --help'\n",
					optopt);
			else
				fprintf(stderr, "vfctl: unknown option '%s'; try 'vfctl --help'\n",
					argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	unmark_negative_numbers(argc, argv);
	/* libvfctl reads no environment: what vfctl(1) honours is passed in */
	a.sysfs_root = vfctl_env_or(a.sysfs_root, "VFCTL_SYSFS_ROOT");
	a.dev_root = vfctl_env_or(a.dev_root, "VFCTL_DEV_ROOT");
	a.run_dir = vfctl_env_or(a.run_dir, "VFCTL_RUN_DIR");
	a.socket = vfctl_env_or(a.socket, "VFCTLD_SOCKET");
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[optind], cmds[i].name))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		fprintf(stderr, "vfctl: unknown command '%s'; try 'vfctl --help'\n", argv[optind]);
		return EXIT_USAGE;
	}
	a.argc = argc - optind - 1;
	a.argv = argv + optind + 1;
	if (cmds[i].daemon) {
		pr_init(a.json);
		ret = cmds[i].fn(NULL, NULL, &a);
		if (pr_finish() < 0 && ret == EXIT_OK) {
			fprintf(stderr, "vfctl: writing output: %s\n", strerror(errno));
			ret = EXIT_ERR;
		}
		return ret;
	}

	r = vfctl_ctx_new(&ctx, &(struct vfctl_opts){ .size = sizeof(struct vfctl_opts),
						       .sysfs_root = a.sysfs_root,
						       .dev_root = a.dev_root,
						       .run_dir = a.run_dir,
						       .errbuf = errbuf, .errlen = sizeof(errbuf),
						       .lock_timeout_ms = vfctl_env_lock_timeout_ms() });
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", errbuf[0] ? errbuf : strerror(-r));
		return EXIT_ERR;
	}
	r = vfctl_host_scan(ctx, VFCTL_SCAN_NETLINK, &host);
	if (r < 0) {
		fprintf(stderr, "vfctl: %s\n", vfctl_ctx_error(ctx));
		goto out;
	}
	pr_init(a.json);
	ret = cmds[i].fn(ctx, host, &a);
	if (pr_finish() < 0 && ret == EXIT_OK) {
		fprintf(stderr, "vfctl: writing output: %s\n", strerror(errno));
		ret = EXIT_ERR;
	}
out:
	vfctl_host_free(host);
	vfctl_ctx_free(ctx);
	return ret;
}
