// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl's commands: each with its handler, the options it takes (besides
 * the global ones) and its usage. A new command is a handler in a
 * cmd_*.c file and an entry here; options.c parses for it only what it
 * lists, and prints its usage for 'vfctl NAME --help' and 'vfctl help NAME'.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define TIMEOUT_DOC "bound on the kernel writes and waits, in seconds"
#define SOCKET_DOC "vfctld's socket (env VFCTLD_SOCKET, default\n/run/vfctl/vfctld.sock)"

static int cmd_help(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a);

const struct cli_cmd cli_cmds[] = {
	{
		.name = "list", .fn = cmd_list,
		.synopsis = "[DEV...] [--pf DEV] [--driver NAME] [--numa N] [--leased|--free] "
			    "[--brief] [--all]",
		.summary = "SR-IOV PFs with their VFs (--all: every PCI function)",
		.help = "Each SR-IOV physical function (PF) with its SR-IOV state and its VFs as a\n"
			"tree, after whether the host has an IOMMU and VFIO, and what to do when not.\n"
			"DEV (a PCI address, netdev or PF:INDEX) lists only that PF's tree or that VF;\n"
			"the options narrow it further, a PF heading the VFs that match.\n",
		.opts = {
			{ OPT_ALL, "include the functions that are neither PFs nor VFs" },
			{ OPT_BRIEF, "one line per function: address, PF or VF index, driver,\n"
			  "netdev, MAC, IOMMU group, NUMA node" },
			{ OPT_PF, "only PF DEV and its VFs (repeatable)" },
			{ OPT_DRIVER, "only functions bound to NAME; 'vfio' is vfio-pci, 'host'\n"
			  "any other driver, 'none' unbound" },
			{ OPT_NUMA, "only functions on NUMA node N" },
			{ OPT_LEASED, "only VFs vfctld leases (RUN/leases.json)" },
			{ OPT_FREE, "only VFs vfctld does not lease" },
		},
	},
	{
		.name = "show", .fn = cmd_show,
		.synopsis = "DEV",
		.summary = "one function in full, and its IOMMU group",
		.help = "DEV is a PCI address (0000:03:00.0 or 03:00.0), the name of a network\n"
			"interface a PCI function owns, or PF:INDEX for a PF's VF (enp3s0f0:2).\n",
	},
	{
		.name = "groups", .fn = cmd_groups,
		.synopsis = "[--pf DEV] [--driver NAME] [--numa N]",
		.summary = "IOMMU groups, their members and VFIO viability",
		.help = "Every IOMMU group with its members and whether it is viable for VFIO; a group\n"
			"that is not names the first member that blocks it. The options keep the\n"
			"groups with a member that matches.\n",
		.opts = {
			{ OPT_PF, "only groups holding PF DEV or its VFs (repeatable)" },
			{ OPT_DRIVER, "only groups with a member bound to NAME ('vfio',\n"
			  "'host', 'none' as for list)" },
			{ OPT_NUMA, "only groups with a member on NUMA node N" },
		},
	},
	{
		.name = "bind", .fn = cmd_bind, .no_scan = true,
		.synopsis = "DEV... [DRIVER]",
		.summary = "bind to DRIVER (default vfio-pci) with driver_override",
		.help = "Bind DEV (a PCI address or netdev name) to DRIVER, vfio-pci by default,\n"
			"through driver_override. The driver, override and VF settings it had are\n"
			"saved at the first bind, for 'vfctl restore'. A failure after the first\n"
			"change rolls it all back. Several DEVs (PCI addresses or PF:INDEX; a name\n"
			"last is the DRIVER) are all found before any changes, then bound in turn;\n"
			"the first failure stops there, naming those not bound.\n",
		.opts = {
			{ OPT_FORCE, "even if its netdev carries host routes, it is a PF\n"
			  "with VFs (they are destroyed) or vfctld leases it" },
			{ OPT_TIMEOUT, TIMEOUT_DOC " (default 10)" },
		},
	},
	{
		.name = "unbind", .fn = cmd_unbind, .no_scan = true,
		.synopsis = "DEV...",
		.summary = "unbind from its driver (what it had is saved, as by bind)",
		.help = "Unbind DEV (a PCI address or netdev name) from its driver; what it had is\n"
			"saved as by bind, for 'vfctl restore'. Several DEVs as with bind.\n",
		.opts = {
			{ OPT_FORCE, "even if its netdev carries host routes, it is a PF\n"
			  "with VFs (they are destroyed) or vfctld leases it" },
			{ OPT_TIMEOUT, TIMEOUT_DOC " (default 10)" },
		},
	},
	{
		.name = "restore", .fn = cmd_restore, .no_scan = true,
		.synopsis = "DEV...",
		.summary = "back to the driver and VF settings saved at the first bind",
		.help = "Put back what the first bind or unbind of DEV saved: driver_override, the VF\n"
			"settings through the PF and the original driver; then forget the record.\n"
			"Several DEVs as with bind.\n",
		.opts = {
			{ OPT_FORCE, "even if vfctld leases it" },
			{ OPT_TIMEOUT, TIMEOUT_DOC " (default 10)" },
		},
	},
	{
		.name = "set", .fn = cmd_set,
		.synopsis = "VF|PF:INDEX ATTR VALUE...",
		.summary = "change a VF's MAC, VLAN, rates, trust... through its PF",
		.help = "VF is a VF's PCI address or netdev; PF:INDEX a PF and a VF index, e.g.\n"
			"enp1s0:3 or 0000:01:00.0:3. Everything is checked before anything is sent;\n"
			"then each attribute goes in its own netlink message, so one the driver\n"
			"refuses (exit status 1) leaves the others applied. The attributes:\n"
			"  mac M, vlan V [qos Q] [proto 802.1Q|802.1ad], spoofchk on|off,\n"
			"  trust on|off, max-tx-rate R, min-tx-rate R (Mb/s),\n"
			"  link-state auto|enable|disable, query-rss on|off\n",
		.opts = { { OPT_FORCE, "even if vfctld leases the VF" } },
	},
	{
		.name = "create", .fn = cmd_create, .no_scan = true,
		.synopsis = "PF N",
		.summary = "enable N VFs on PF and wait until they exist",
		.help = "PF is a PCI address or the PF's netdev. From one non-zero count to another\n"
			"goes through 0, as the kernel wants it.\n",
		.opts = {
			{ OPT_NO_AUTOPROBE, "no host VF driver probes the new VFs" },
			{ OPT_FORCE, "change a count even when VFs have drivers or\nvfctld leases some" },
			{ OPT_TIMEOUT, TIMEOUT_DOC "\n(default 5 and 1 for each VF removed or created)" },
		},
	},
	{
		.name = "destroy", .fn = cmd_destroy, .no_scan = true,
		.synopsis = "PF",
		.summary = "remove all VFs of PF",
		.help = "PF is a PCI address or the PF's netdev. VFs bound to host drivers are removed;\n"
			"a VF held by a VFIO user is refused, and so are VFs vfctld leases.\n",
		.opts = {
			{ OPT_FORCE, "even if vfctld leases some of the VFs (never past\na VFIO user)" },
			{ OPT_TIMEOUT, TIMEOUT_DOC "\n(default 5 and 1 for each VF removed)" },
		},
		.refuse = {
			{ OPT_NO_AUTOPROBE, "--no-autoprobe applies to create only" },
		},
	},
	{
		.name = "apply", .fn = cmd_apply,
		.synopsis = "[--dry-run] [--config FILE] [--pf DEV]... [--skip-absent]",
		.summary = "make the host match the declarative config (vfctl.conf(5))",
		.help = "VF counts, autoprobe, VF settings and drivers as the config says (see\n"
			"vfctl.conf(5)); each change is printed as it is made.\n",
		.opts = {
			{ OPT_DRY_RUN, "print the changes, make none" },
			{ OPT_CONFIG, "the config to read (default /etc/vfctl/vfctl.conf)" },
			{ OPT_PF, "only that PF's part of the config (address or\n"
			  "netdev; repeatable); a PF the config does not name:\nnothing to do" },
			{ OPT_SKIP_ABSENT, "skip the config's PFs that are not on this host" },
			{ OPT_FORCE, "as create --force, and bind a VF whose netdev carries\nhost routes" },
			{ OPT_TIMEOUT, TIMEOUT_DOC },
		},
		.refuse = {
			{ OPT_NO_AUTOPROBE, "--no-autoprobe does not apply: the config says "
			  "\"autoprobe\": false" },
		},
	},
	{
		.name = "pools", .fn = cmd_pools, .no_host = true,
		.synopsis = "",
		.summary = "vfctld's pools: their VFs, which are leased, free",
		.help = "The pools vfctld serves, their VFs, which are leased, and whether you may\n"
			"allocate from each.\n",
		.opts = { { OPT_SOCKET, SOCKET_DOC } },
	},
	{
		.name = "alloc", .fn = cmd_alloc, .no_host = true,
		.synopsis = "--pool POOL [--numa N] [--pf DEV] [--owner TAG] [--pid PID] "
			    "[--ttl DURATION]",
		.summary = "lease a free VF of a pool from vfctld",
		.help = "Ask vfctld for a free VF of POOL; it binds it to vfio-pci and prints the\n"
			"lease.\n",
		.opts = {
			{ OPT_POOL, "the pool (required)" },
			{ OPT_NUMA, "a VF on NUMA node N" },
			{ OPT_PF, "a VF of PF DEV (PCI address or netdev)" },
			{ OPT_OWNER, "a tag kept with the lease" },
			{ OPT_PID, "the lease ends when that process exits" },
			{ OPT_TTL, "released when not opened for DURATION (90, 10m, 2h, 1d;\n"
				   "each open starts it again; default the pool's ttl, none\n"
				   "with --pid)" },
			{ OPT_SOCKET, SOCKET_DOC },
		},
	},
	{
		.name = "release", .fn = cmd_release, .no_host = true,
		.synopsis = "[--force] LEASE|VF",
		.summary = "give a lease back (the VF to its original driver)",
		.help = "LEASE is a lease id as L3, VF the leased VF's PCI address.\n",
		.opts = {
			{ OPT_FORCE, "revoke it even while a process holds the VF" },
			{ OPT_SOCKET, SOCKET_DOC },
		},
	},
	{
		.name = "leases", .fn = cmd_leases, .no_host = true,
		.synopsis = "",
		.summary = "your leases (root: all)",
		.help = "Your leases from vfctld (root: everyone's).\n",
		.opts = { { OPT_SOCKET, SOCKET_DOC } },
	},
	{
		.name = "exec", .fn = cmd_exec, .no_host = true, .args_end_opts = true,
		.synopsis = "--lease ID [--] CMD [ARG...]",
		.summary = "run a program (a VMM) with a lease's VFIO fds",
		.help = "Get the VFIO fds of lease ID from vfctld and run CMD as you, with those\n"
			"it names kept open. In CMD and its ARGs these placeholders are replaced:\n"
			"  {iommufd}    fd of /dev/iommu      {device}     fd of the VF's cdev\n"
			"  {container}  fd of /dev/vfio/vfio  {group}      fd of /dev/vfio/N\n"
			"  {bdf}        the VF's address      {group_path} /dev/vfio/N\n"
			"Other braces stay as they are. Fds no placeholder names are closed; give\n"
			"{iommufd} and {device}, or {container} and {group}, not both (VFIO does\n"
			"not bind the cdev while the group is open).\n"
			"E.g. vfctl exec --lease L1 -- qemu-system-x86_64 ... -object\n"
			"iommufd,id=iommufd0,fd={iommufd} -device vfio-pci,iommufd=iommufd0,fd={device}\n"
			"Options end at CMD: its own options are its.\n",
		.opts = {
			{ OPT_LEASE, "the lease (required), as 'vfctl alloc' printed it" },
			{ OPT_SOCKET, SOCKET_DOC },
		},
	},
	{
		.name = "xml", .fn = cmd_xml,
		.synopsis = "[--interface] LEASE|DEV",
		.summary = "libvirt's <hostdev> (or <interface>) element for a lease or device",
		.help = "The <hostdev mode='subsystem' type='pci' managed='no'> element that hands DEV\n"
			"(a PCI address, netdev name or PF:INDEX) or the VF of LEASE (a vfctld lease\n"
			"id as L3, of yours) to a libvirt domain. managed='no': vfctl or vfctld binds\n"
			"it to vfio-pci, not libvirt. Any PCI function is printed; --interface only\n"
			"for a VF.\n",
		.opts = {
			{ OPT_INTERFACE, "<interface type='hostdev' managed='no'> instead,\n"
			  "with the VF's MAC and VLAN as its PF reports them" },
			{ OPT_SOCKET, SOCKET_DOC },
		},
	},
	{
		.name = "qemu-args", .fn = cmd_qemu_args,
		.synopsis = "[--iommufd] LEASE|DEV",
		.summary = "QEMU's -device vfio-pci arguments for a lease or device",
		.help = "The QEMU arguments that pass DEV (a PCI address, netdev name or PF:INDEX) or\n"
			"the VF of LEASE (a vfctld lease id as L3) through: -device vfio-pci,host=...\n"
			"for a QEMU that may open /dev/vfio/N itself.\n",
		.opts = {
			{ OPT_IOMMUFD, "the iommufd form (QEMU 8.2 or later) with the\n"
			  "placeholders {iommufd} and {device} that\n"
			  "'vfctl exec' fills in" },
			{ OPT_SOCKET, SOCKET_DOC },
		},
	},
	{
		.name = "doctor", .fn = cmd_doctor,
		.synopsis = "",
		.summary = "is this host ready for VFIO and SR-IOV: one line per check",
		.help = "Checks the kernel command line (intel_iommu/amd_iommu=on, iommu=pt), the\n"
			"IOMMU, interrupt remapping, ACS on the upstream ports of SR-IOV PFs, the\n"
			"VFIO modules, hugepages, RLIMIT_MEMLOCK, NetworkManager / systemd-networkd\n"
			"and the VFs' netdevs, and whether vfctld answers. Each line is OK, WARN,\n"
			"FAIL or UNKNOWN (not readable unprivileged), with the fix. Exit status: 0\n"
			"no WARN or FAIL, 3 a WARN at worst, 1 a FAIL.\n",
		.opts = { { OPT_SOCKET, SOCKET_DOC } },
	},
	{
		.name = "metrics", .fn = cmd_metrics,
		.synopsis = "[FILE]",
		.summary = "Prometheus metrics: VFs by PF and state, pools, leases",
		.help = "The Prometheus text exposition of the host's VFs per PF and state, and of\n"
			"vfctld's pools (free, leased), lease ages and refusals, for node_exporter's\n"
			"textfile collector. FILE is replaced atomically (else standard output).\n",
		.opts = { { OPT_SOCKET, SOCKET_DOC } },
	},
	{
		.name = "cdi", .fn = cmd_cdi,
		.synopsis = "[DIR|-]",
		.summary = "a CDI spec (kind vfctl.io/vf) of the pools' VFs and the leases",
		.help = "Writes DIR/vfctl.json (default /var/run/cdi; - standard output), a Container\n"
			"Device Interface spec: a device per pool VF (POOL-INDEX) and per lease (its\n"
			"id), each with /dev/vfio/vfio and /dev/vfio/GROUP (and the VFIO cdev and\n"
			"/dev/iommu where the kernel has them): podman run --device vfctl.io/vf=L3.\n"
			"vfctld rewrites it at each alloc and release.\n",
		.opts = { { OPT_SOCKET, SOCKET_DOC } },
	},
	{
		.name = "help", .fn = cmd_help, .no_host = true,
		.synopsis = "[COMMAND]",
		.summary = "a command's usage, or this overview",
		.help = "COMMAND's arguments and options, as 'vfctl COMMAND --help' prints them;\n"
			"without one, every command.\n",
	},
};

const size_t cli_n_cmds = sizeof(cli_cmds) / sizeof(cli_cmds[0]);

const struct cli_cmd *cli_cmd_find(const char *name)
{
	for (size_t i = 0; i < cli_n_cmds; i++)
		if (!strcmp(name, cli_cmds[i].name))
			return &cli_cmds[i];
	return NULL;
}

/* The one place a failure's errno becomes vfctl's exit status (cli.h). */
int cli_exit_status(int r)
{
	if (r >= 0)
		return r;
	switch (-r) {
	case EALREADY:		/* already bound there, nothing to undo: nothing to do */
		return EXIT_OK;
	case ENODEV: case ENOENT: case ENODATA: case ENXIO:
		return EXIT_NOT_FOUND;
	case EBUSY: case EADDRINUSE:
		return EXIT_BUSY;
	case EPERM: case EACCES: case EOPNOTSUPP: case EROFS: case ERANGE:
		return EXIT_REFUSED;
	case ENOSPC:
		return EXIT_NO_FREE;
	case ECONNREFUSED: case ECONNRESET: case EPIPE: case ENOTCONN:
		return EXIT_UNREACHABLE;
	default:
		return EXIT_ERR;
	}
}

static int cmd_help(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	const struct cli_cmd *c = NULL;

	(void)ctx;
	(void)host;
	if (a->argc > 1) {
		fprintf(stderr, "vfctl help: expected at most one command; see 'vfctl help help'\n");
		return EXIT_USAGE;
	}
	if (a->argc == 1 && !(c = cli_cmd_find(a->argv[0]))) {
		fprintf(stderr, "vfctl help: unknown command '%s'; see 'vfctl help'\n", a->argv[0]);
		return EXIT_USAGE;
	}
	cli_usage(c, stdout);
	return EXIT_OK;
}
