// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl xml / qemu-args LEASE|DEV: what a real VMM needs to take a
 * function vfctl (bind) or vfctld (alloc) put on vfio-pci: libvirt's
 * <hostdev> or <interface type='hostdev'> element, or QEMU's arguments.
 * They only print: nothing on the host changes.
 *
 * The target: a vfctld lease id of the caller's (resolved to its VF
 * through the typed client, as 'vfctl leases' lists it), else a PCI
 * address, netdev name or PF:INDEX as 'vfctl set' takes them. Any PCI
 * function is accepted (a PF or a plain device can be passed through as
 * well as a VF); only libvirt's <interface type='hostdev'> needs a VF, as
 * libvirt assigns nothing else that way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "vfctl.h"
#include "wire.h"

#define ETH_P_8021AD 0x88a8

struct target {
	struct vfctl_func *f;
	char lease[PROTO_NAME_MAX + 1];	/* "" when DEV was named */
};

static bool mac_known(const char *mac)
{
	return mac[0] && strcmp(mac, "00:00:00:00:00:00");
}

/* The MAC the guest will see: the PF's admin MAC for the VF (the one
 * 'vfctl bind' and vfctld pin), else the VF netdev's own; NULL unknown
 * (not the live /sys and no netdev). */
static const char *vf_mac(const struct vfctl_func *f)
{
	if (f->config.valid && mac_known(f->config.mac))
		return f->config.mac;
	if (f->n_netdevs && mac_known(f->netdevs[0]->mac))
		return f->netdevs[0]->mac;
	return NULL;
}

/* The VF's VLAN, 0 none (or unknown). */
static unsigned vf_vlan(const struct vfctl_func *f)
{
	return f->config.valid ? f->config.vlan : 0;
}

int vmm_xml(const struct vfctl_func *f, bool interface, char *buf, size_t size, char *err,
	    size_t errlen)
{
	unsigned dom, bus, slot, fn, vlan = vf_vlan(f);
	const char *mac = vf_mac(f);
	char addr[128], out[1024];
	int n;

	if (sscanf(f->addr, "%4x:%2x:%2x.%1x", &dom, &bus, &slot, &fn) != 4)
		return set_err(err, errlen, -EINVAL, "%s: not a PCI address", f->addr);
	snprintf(addr, sizeof(addr), "domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'",
		 dom, bus, slot, fn);
	if (!interface) {
		n = snprintf(out, sizeof(out),
			     "<hostdev mode='subsystem' type='pci' managed='no'>\n"
			     "  <source>\n"
			     "    <address %s/>\n"
			     "  </source>\n"
			     "</hostdev>\n", addr);
	} else {
		if (f->kind != VFCTL_FUNC_VF)
			return set_err(err, errlen, -EINVAL, "%s is not an SR-IOV VF: libvirt assigns "
				       "only VFs as <interface type='hostdev'>; leave out --interface "
				       "for its <hostdev> element", f->addr);
		/* libvirt sets the VF's MAC and VLAN through the PF when the domain
		 * starts, with IFLA_VF_VLAN's defaults: qos 0 and 802.1Q */
		if (vlan && (f->config.qos || f->config.vlan_proto == ETH_P_8021AD))
			return set_err(err, errlen, -EINVAL, "%s: VLAN %u%s%s: libvirt would set it "
				       "again as VLAN %u with qos 0 and 802.1Q; leave out --interface "
				       "for the <hostdev> element, which keeps the VF's settings",
				       f->addr, vlan, f->config.qos ? " with a qos" : "",
				       f->config.vlan_proto == ETH_P_8021AD ? " (802.1ad)" : "",
				       vlan);
		n = snprintf(out, sizeof(out), "<interface type='hostdev' managed='no'>\n");
		if (mac)
			n += snprintf(out + n, sizeof(out) - (size_t)n, "  <mac address='%s'/>\n", mac);
		n += snprintf(out + n, sizeof(out) - (size_t)n,
			      "  <source>\n"
			      "    <address type='pci' %s/>\n"
			      "  </source>\n", addr);
		if (vlan)
			n += snprintf(out + n, sizeof(out) - (size_t)n,
				      "  <vlan>\n"
				      "    <tag id='%u'/>\n"
				      "  </vlan>\n", vlan);
		n += snprintf(out + n, sizeof(out) - (size_t)n, "</interface>\n");
	}
	if (n < 0 || (size_t)n >= size)
		return set_err(err, errlen, -ENOBUFS, "%s: the element does not fit %zu bytes",
			       f->addr, size);
	memcpy(buf, out, (size_t)n + 1);
	return 0;
}

/* The caller's lease id in ret->lease resolved to its VF through vfctld. */
static int find_lease(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a,
		      const char *id, struct target *ret)
{
	struct vfctl_lease **v = NULL, *l = NULL;
	struct vfctl_client *c = connect_daemon(a);
	int r;

	if (!c)
		return -ENOTCONN;
	r = vfctl_client_leases(c, &v, NULL);
	if (r < 0) {
		fprintf(stderr, "vfctl: leases: %s\n", vfctl_client_error(c));
		goto out;
	}
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(v[i]->id, id))
			l = v[i];
	r = -ENOENT;
	if (!l) {
		fprintf(stderr, "vfctl: no lease %s of yours ('vfctl leases' lists them)\n", id);
	} else if (l->state != VFCTL_LEASE_ACTIVE) {
		fprintf(stderr, "vfctl: lease %s is %s%s%s%s, not active: its VF %s is not yours to "
			"pass through ('vfctl leases' shows it)\n", id,
			vfctl_lease_state_str(l->state), l->pending ? " (" : "",
			l->pending ? l->pending : "", l->pending ? ")" : "", l->vf);
	} else if ((r = vfctl_host_find(ctx, h, l->vf, &ret->f)) < 0) {
		fprintf(stderr, "vfctl: lease %s: its VF %s: %s\n", id, l->vf, vfctl_ctx_error(ctx));
	} else {
		snprintf(ret->lease, sizeof(ret->lease), "%s", id);
	}
out:
	vfctl_lease_list_free(v);
	vfctl_client_free(c);
	return r;
}

/* LEASE|DEV: the function, or the error printed and EXIT_USAGE or -errno. */
static int find_target(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a,
		       const char *cmd, struct target *ret)
{
	const char *arg = a->argv[0];
	char err[1024];
	int r;

	if (a->argc != 1) {
		fprintf(stderr, "vfctl %s: expected one LEASE (as L3) or DEV (PCI address, netdev "
			"name or PF:INDEX); see 'vfctl %s --help'\n", cmd, cmd);
		return EXIT_USAGE;
	}
	*ret = (struct target){ 0 };
	if (vfctl_lease_id_valid(arg))
		return find_lease(ctx, h, a, arg, ret);
	r = cli_find_func(ctx, h, arg, &ret->f, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "vfctl: %s %s: %s\n", cmd, arg, err);
		return r;
	}
	if (!ret->f->addr[0] || (ret->f->bus && strcmp(ret->f->bus, "pci"))) {
		const struct vfctl_func *f = ret->f, *pf = f->pf ? f->pf : f;
		char what[64] = "";

		if (pf != f)
			snprintf(what, sizeof(what), "vf %d of ", f->vf_index);
		fprintf(stderr, "vfctl: %s %s: %s%s (a %s software PF) is no PCI function: a VMM "
			"cannot be given it; 'vfctl list' shows the PCI PFs and their VFs\n", cmd,
			arg, what, pf->addr, f->bus);
		return -EOPNOTSUPP;
	}
	return EXIT_OK;
}

/* What both print first in JSON: the function and the lease it came from. */
static void print_target(const struct target *t)
{
	pr_str("address", NULL, t->f->addr);
	pr_str("lease_id", NULL, t->lease[0] ? t->lease : NULL);
}

int cmd_xml(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	struct target t;
	char xml[1024], err[512];
	int ret = find_target(ctx, h, a, "xml", &t);

	if (ret != EXIT_OK)
		return ret;
	if (vmm_xml(t.f, a->interface, xml, sizeof(xml), err, sizeof(err)) < 0) {
		fprintf(stderr, "vfctl: xml %s: %s\n", a->argv[0], err);
		return EXIT_ERR;
	}
	pr_obj_begin(NULL);
	print_target(&t);
	pr_str("element", NULL, a->interface ? "interface" : "hostdev");
	if (a->interface) {
		unsigned vlan = vf_vlan(t.f);

		pr_str("mac", NULL, vf_mac(t.f));
		if (vlan)
			pr_uint("vlan", NULL, vlan);
		else
			pr_null("vlan", NULL);
	}
	pr_str("xml", "%s", xml);
	pr_obj_end();
	return EXIT_OK;
}

int cmd_qemu_args(struct vfctl_ctx *ctx, struct vfctl_host *h, const struct args *a)
{
	struct target t;
	char dev[128];
	int ret = find_target(ctx, h, a, "qemu-args", &t);

	if (ret != EXIT_OK)
		return ret;
	if (a->iommufd && !(h->iommufd && h->vfio_cdev)) {
		fprintf(stderr, "vfctl: qemu-args %s: this kernel has no %s (CONFIG_%s): the iommufd "
			"form cannot work here; leave out --iommufd for the host= form\n",
			a->argv[0], h->iommufd ? "VFIO device cdevs, /dev/vfio/devices" : "/dev/iommu",
			h->iommufd ? "VFIO_DEVICE_CDEV" : "IOMMUFD");
		return EXIT_ERR;
	}
	if (a->iommufd)
		snprintf(dev, sizeof(dev), "vfio-pci,iommufd=iommufd0,fd={device},id=hostdev0");
	else
		snprintf(dev, sizeof(dev), "vfio-pci,host=%s,id=hostdev0", t.f->addr);
	pr_obj_begin(NULL);
	print_target(&t);
	pr_str("backend", NULL, a->iommufd ? "iommufd" : "legacy");
	pr_arr_begin("args");
	if (a->iommufd) {
		pr_str(NULL, "%s ", "-object");
		pr_str(NULL, "%s ", "iommufd,id=iommufd0,fd={iommufd}");
	}
	pr_str(NULL, "%s ", "-device");
	pr_str(NULL, "%s\n", dev);
	pr_arr_end();
	pr_obj_end();
	return EXIT_OK;
}
