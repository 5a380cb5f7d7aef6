// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nl-probe: the VM tests' window on libvfctl's netlink code for a PF that
 * is not a PCI function (netdevsim, whose VFs have no PCI functions, so
 * vfctl's PCI topology does not list it). It hands the library a PF built
 * from the netdev alone and calls what vfctl show and vfctl set call for a
 * PCI PF: vfctl_nl_read_pf_vfs() (RTM_GETLINK, the VF list parsed) and
 * vfctl_vf_set() (one RTM_SETLINK per attribute, after a fresh read).
 *
 *   nl-probe show IFNAME    one line per VF, as the library read it:
 *       INDEX MAC VLAN QOS PROTO MAX_TX MIN_TX SPOOFCHK TRUST LINK_STATE
 *       (tests/vm/88-netlink-scale.bats makes the same lines from
 *       ip -d -j link show)
 *   nl-probe set IFNAME VF mac M vlan V qos Q spoofchk on|off trust on|off
 *       max-tx-rate N min-tx-rate N link-state auto|enable|disable
 *
 * Errors (the library's message) on stderr, exit 1; usage errors exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vfctl.h"

static const char *tri(int v)
{
	return v == VFCTL_ON ? "on" : v == VFCTL_OFF ? "off" : "unknown";
}

/* A PF of n VFs known only by its netdev: what vfctl's scan would give
 * for a PCI PF, without the PCI parts. */
static int pf_from_netdev(const char *ifname, int n, struct vfctl_func *pf,
			  struct vfctl_netdev *nd, struct vfctl_netdev **ndp)
{
	char path[128];
	FILE *f;

	memset(nd, 0, sizeof(*nd));
	nd->size = sizeof(*nd);
	snprintf(nd->name, sizeof(nd->name), "%s", ifname);
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", ifname);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%d", &nd->ifindex) != 1) {
		fprintf(stderr, "nl-probe: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	*ndp = nd;
	memset(pf, 0, sizeof(*pf));
	pf->size = sizeof(*pf);
	/* the lock's name: one PF, one lock, as for a PCI address */
	snprintf(pf->addr, sizeof(pf->addr), "%s", ifname);
	pf->kind = VFCTL_FUNC_PF;
	pf->numvfs = pf->totalvfs = n;
	pf->iommu_group = pf->numa_node = pf->vf_index = -1;
	pf->n_netdevs = 1;
	pf->netdevs = ndp;
	return 0;
}

static int num_vfs(const char *ifname)
{
	char path[160];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/sriov_numvfs", ifname);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%d", &n) != 1)
		fprintf(stderr, "nl-probe: %s: %s\n", path, strerror(errno));
	if (f)
		fclose(f);
	return n;
}

static int cmd_show(struct vfctl_ctx *ctx, const char *ifname)
{
	struct vfctl_netdev nd, *ndp;
	struct vfctl_func pf, *vfs, **vfp;
	int n = num_vfs(ifname);

	if (n < 0 || pf_from_netdev(ifname, n, &pf, &nd, &ndp) < 0)
		return 1;
	vfs = calloc((size_t)n + 1, sizeof(*vfs));
	vfp = calloc((size_t)n + 1, sizeof(*vfp));
	if (!vfs || !vfp) {
		fprintf(stderr, "nl-probe: out of memory\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		vfs[i].size = sizeof(vfs[i]);
		vfs[i].kind = VFCTL_FUNC_VF;
		vfs[i].vf_index = i;
		vfs[i].pf = &pf;
		vfp[i] = &vfs[i];
	}
	pf.n_vfs = (size_t)n;
	pf.vfs = vfp;
	if (vfctl_nl_read_pf_vfs(ctx, &pf) < 0) {
		fprintf(stderr, "nl-probe: %s\n", vfctl_ctx_error(ctx));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		const struct vfctl_vf_config *c = &vfs[i].config;

		if (!c->valid) {
			printf("%d not-read\n", i);
			continue;
		}
		printf("%d %s %u %u 0x%04x %u %u %s %s %s\n", i, c->mac, c->vlan, c->qos,
		       c->vlan_proto, c->max_tx_rate, c->min_tx_rate, tri(c->spoofchk),
		       tri(c->trust), vfctl_vf_link_state_str(c->link_state) ?: "unknown");
	}
	free(vfp);
	free(vfs);
	return 0;
}

static int on_off(const char *s, bool *ret)
{
	if (!strcmp(s, "on"))
		*ret = true;
	else if (!strcmp(s, "off"))
		*ret = false;
	else
		return -1;
	return 0;
}

static int cmd_set(struct vfctl_ctx *ctx, const char *ifname, int argc, char **argv)
{
	struct vfctl_vf_settings s = { .size = sizeof(s) };
	struct vfctl_vf_set_result res = { .size = sizeof(res) };
	struct vfctl_netdev nd, *ndp;
	struct vfctl_func pf;
	int n = num_vfs(ifname);
	unsigned vf;

	if (argc < 1 || argc % 2 == 0)
		return 2;
	vf = (unsigned)strtoul(argv[0], NULL, 10);
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		bool b;

		if (!strcmp(k, "mac")) {
			snprintf(s.mac, sizeof(s.mac), "%s", v);
			s.mask |= 1u << VFCTL_VF_MAC;
		} else if (!strcmp(k, "vlan")) {
			s.vlan = (uint32_t)strtoul(v, NULL, 10);
			s.mask |= 1u << VFCTL_VF_VLAN;
		} else if (!strcmp(k, "qos")) {
			s.qos = (uint32_t)strtoul(v, NULL, 10);
		} else if (!strcmp(k, "spoofchk") && !on_off(v, &b)) {
			s.spoofchk = b;
			s.mask |= 1u << VFCTL_VF_SPOOFCHK;
		} else if (!strcmp(k, "trust") && !on_off(v, &b)) {
			s.trust = b;
			s.mask |= 1u << VFCTL_VF_TRUST;
		} else if (!strcmp(k, "max-tx-rate")) {
			s.max_tx_rate = (uint32_t)strtoul(v, NULL, 10);
			s.mask |= 1u << VFCTL_VF_MAX_TX_RATE;
		} else if (!strcmp(k, "min-tx-rate")) {
			s.min_tx_rate = (uint32_t)strtoul(v, NULL, 10);
			s.mask |= 1u << VFCTL_VF_MIN_TX_RATE;
		} else if (!strcmp(k, "link-state")) {
			s.link_state = !strcmp(v, "enable") ? 1 : !strcmp(v, "disable") ? 2 : 0;
			s.mask |= 1u << VFCTL_VF_LINK_STATE;
		} else {
			fprintf(stderr, "nl-probe: set: %s %s: unknown\n", k, v);
			return 2;
		}
	}
	if (n < 0 || pf_from_netdev(ifname, n, &pf, &nd, &ndp) < 0)
		return 1;
	if (vfctl_vf_set(ctx, &pf, vf, &s, &res) < 0) {
		fprintf(stderr, "nl-probe: %s\n", vfctl_ctx_error(ctx));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vfctl_ctx *ctx = NULL;
	int rc;

	if (argc < 3 || (strcmp(argv[1], "show") && strcmp(argv[1], "set"))) {
		fprintf(stderr, "usage: nl-probe show IFNAME | set IFNAME VF ATTR VALUE...\n");
		return 2;
	}
	if (vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts)) < 0) {
		fprintf(stderr, "nl-probe: cannot create a libvfctl context\n");
		return 1;
	}
	rc = !strcmp(argv[1], "show") ? cmd_show(ctx, argv[2]) : cmd_set(ctx, argv[2], argc - 3,
									   argv + 3);
	if (rc == 2)
		fprintf(stderr, "usage: nl-probe set IFNAME VF ATTR VALUE...\n");
	vfctl_ctx_free(ctx);
	return rc;
}
