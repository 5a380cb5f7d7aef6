// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfkvm: run a guest on KVM with a device passed through (see vfkvm(1)). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfctl.h"
#include "vfkvm.h"


static void usage(FILE *f)
{
	fprintf(f, "usage: vfkvm [--mem SIZE] [--hugepages] [--prefault] [--guest FILE] [--trace]\n"
		   "             [--stand-in-bar | --vf DEV | --lease ID] [--iommu MODE]\n"
		   "\n"
		   "  --mem SIZE      guest RAM (default 64M; K, M, G suffixes)\n"
		   "  --hugepages     guest RAM from hugetlbfs pages\n"
		   "  --prefault      fault all guest RAM in before the guest runs (always\n"
		   "                  with --vf and --lease: the device's DMA needs it)\n"
		   "  --guest FILE    a VFKVMG01 guest image instead of the built-in one\n"
		   "  --stand-in-bar  a software BAR instead of a device (no VFIO)\n"
		   "  --vf DEV        pass through DEV, bound to vfio-pci ('vfctl bind DEV')\n"
		   "  --lease ID      pass through the VF of vfctld lease ID ('vfctl alloc')\n"
		   "  --iommu MODE    how the VF's DMA is set up: auto (default: iommufd and the\n"
		   "                  VF's VFIO cdev where the kernel has them, else the\n"
		   "                  container), legacy (the container, type1v2) or iommufd\n"
		   "                  (refused where the kernel has no such path)\n"
		   "  --trace         print every trapped MMIO access\n"
		   "  -h, --help      this text\n"
		   "\n"
		   "Environment: VFCTLD_SOCKET (vfctld's socket for --lease), VFCTL_SYSFS_ROOT,\n"
		   "VFCTL_DEV_ROOT (read those instead of /sys and /dev).\n"
		   "Exit status: the guest's; 1 error or guest failure; 2 usage;\n"
		   "128 + the signal on SIGTERM or SIGINT.\n"
		   "\n"
		   "The built-in guest's VF drivers, chosen by the VF's device id:\n");
	for (const struct vfkvm_vf_family *v = vfkvm_vf_families(); v->vendor; v++)
		fprintf(f, "  %04x:%04x %-9s %s%s\n", v->vendor, v->device, v->name, v->driver,
			strcmp(v->driver, "ixgbevf") ? "" : " (tested only against a register "
			"model, never yet on a real NIC)");
	fprintf(f, "See vfkvm(1).\n");
}

/* SIZE: bytes, or with a K, M or G suffix */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'G': case 'g': n <<= 10; /* fall through */
	case 'M': case 'm': n <<= 10; /* fall through */
	case 'K': case 'k': n <<= 10; end++; break;
	case 0: break;
	default: return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*out = n;
	return 0;
}

/* The VF's VFIO fds for a lease from vfctld (vfctld(8), "open"). Only the
 * legacy container and group are used: libvfctl closes the fds for iommufd
 * (/dev/iommu and the device cdev) that come where the kernel has them. */
static int lease_open(const char *lease, struct vfctl_lease_fds *ret)
{
	struct vfctl_client *c;
	struct vfctl_lease_fds l = { .size = sizeof(l) };
	/* libvfctl reads no environment: vfkvm(1) honours $VFCTLD_SOCKET */
	const char *e = getenv("VFCTLD_SOCKET");
	int r;

	r = vfctl_client_connect(e && *e ? e : NULL, &c);
	if (r < 0) {
		fprintf(stderr, "vfkvm: --lease %s: connecting to vfctld at %s: %s; is it running "
			"('systemctl status vfctld.socket')?\n", lease,
			e && *e ? e : VFCTL_CLIENT_SOCKET, strerror(-r));
		return r;
	}
	r = vfctl_client_open_lease(c, lease, &l);
	if (r < 0) {
		fprintf(stderr, "vfkvm: --lease %s: %s\n", lease, vfctl_client_error(c));
		vfctl_client_free(c);
		return r;
	}
	vfctl_client_free(c);
	printf("vfkvm: lease %s: %s, IOMMU group %d, fds from vfctld\n", lease, l.addr, l.group);
	*ret = l;
	return 0;
}

/* libvfctl's context for --vf and --lease: the host's /sys and /dev, or the
 * trees VFCTL_SYSFS_ROOT and VFCTL_DEV_ROOT name (a golden tree, a test's). */
static int ctx_open(struct vfctl_ctx **ret)
{
	char errbuf[256] = "";
	struct vfctl_opts opts = { .size = sizeof(opts), .sysfs_root = getenv("VFCTL_SYSFS_ROOT"),
				   .dev_root = getenv("VFCTL_DEV_ROOT"),
				   .errbuf = errbuf, .errlen = sizeof(errbuf) };
	int r = vfctl_ctx_new(ret, &opts);

	if (r < 0)
		fprintf(stderr, "vfkvm: %s\n", errbuf[0] ? errbuf : strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "hugepages", no_argument, NULL, 'H' },
		{ "prefault", no_argument, NULL, 'P' },
		{ "guest", required_argument, NULL, 'g' },
		{ "stand-in-bar", no_argument, NULL, 'b' },
		{ "trace", no_argument, NULL, 't' },
		{ "vf", required_argument, NULL, 'v' },
		{ "lease", required_argument, NULL, 'l' },
		{ "iommu", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vfkvm_opts o = { .mem = 64ULL << 20 };
	struct vfctl_lease_fds lf = { .size = sizeof(lf) };
	struct vfctl_ctx *ctx = NULL;
	struct sigaction sa = { .sa_handler = vfkvm_on_signal };
	struct vfkvm *v;
	char bdf[VFCTL_ADDR_LEN];
	bool iommu_set = false;
	uint32_t val;
	int c, r;

	while ((c = getopt_long(argc, argv, "m:g:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_size(optarg, &o.mem) < 0) {
				fprintf(stderr, "vfkvm: --mem %s: not a size (e.g. 64M, 1G)\n", optarg);
				return 2;
			}
			break;
		case 'H': o.hugepages = true; break;
		case 'P': o.prefault = true; break;
		case 'g': o.guest = optarg; break;
		case 'b': o.stand_in_bar = true; break;
		case 't': o.trace = true; break;
		case 'v':
			if (vfctl_addr_parse(optarg, bdf) < 0) {
				fprintf(stderr, "vfkvm: --vf %s: not a PCI address (e.g. "
					"0000:01:10.0)\n", optarg);
				return 2;
			}
			o.vf = bdf;
			break;
		case 'l': o.lease = optarg; break;
		case 'i':
			if (!strcmp(optarg, "auto"))
				o.iommu = VFKVM_IOMMU_AUTO;
			else if (!strcmp(optarg, "legacy"))
				o.iommu = VFKVM_IOMMU_LEGACY;
			else if (!strcmp(optarg, "iommufd"))
				o.iommu = VFKVM_IOMMU_IOMMUFD;
			else {
				fprintf(stderr, "vfkvm: --iommu %s: give auto, legacy or iommufd\n",
					optarg);
				return 2;
			}
			iommu_set = true;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.lease && (o.vf || o.stand_in_bar)) {
		fprintf(stderr, "vfkvm: --lease gives the VF: no --vf or --stand-in-bar with it\n");
		return 2;
	}
	if (iommu_set && !o.vf && !o.lease) {
		fprintf(stderr, "vfkvm: --iommu is how a VF is opened: give --vf or --lease\n");
		return 2;
	}
	if (o.vf && o.stand_in_bar) {
		fprintf(stderr, "vfkvm: --vf and --stand-in-bar both put a BAR at 0x%llx: "
			"give one\n", VFKVM_BAR_GPA);
		return 2;
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	/* no SA_RESTART: KVM_RUN must return EINTR so the loop can tear down */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (o.lease || o.vf) {
		r = ctx_open(&ctx);
		if (r < 0)
			return 1;
		o.ctx = ctx;
	}
	if (o.lease) {
		r = lease_open(o.lease, &lf);
		if (r < 0) {
			vfctl_ctx_free(ctx);
			return 1;
		}
		snprintf(bdf, sizeof(bdf), "%s", lf.addr);
		o.vf = bdf;
		o.lease_fds = &lf;
	}
	r = vfkvm_setup(&v, &o);
	if (r < 0) {
		vfctl_ctx_free(ctx);
		return 1;
	}
	r = vfkvm_run(v);
	if (r >= 0 && vfkvm_bar(v))
		printf("host: bar[8] = 0x%" PRIx64 "\n", *(volatile uint64_t *)((char *)vfkvm_bar(v) + 8));
	if (r >= 0 && o.vf && vfkvm_vf_read32(v, 0, 8, &val) == 0)
		printf("host: vf.status = 0x%" PRIx32 "\n", val);
	/* an 82576 VF's MSI-X PBA is BAR3 offset 0x2000 (VFIO hides the
	 * table at offset 0 from pread: all ones) */
	if (r >= 0 && o.vf && vfkvm_vf_read32(v, 3, 0x2000, &val) == 0)
		printf("host: vf.bar3[0x2000] = 0x%" PRIx32 "\n", val);
	vfkvm_teardown(v);
	vfctl_ctx_free(ctx);
	if (r == -EINTR)
		return 128 + vfkvm_stop_signal;
	return r < 0 ? 1 : r;
}
