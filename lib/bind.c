// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Binding a function to a driver the way the kernel wants it done:
 * driver_override, unbind from the current driver, drivers_probe, and then
 * a look at the driver link, because drivers_probe reports success even when
 * nothing bound. The original driver and VF settings are saved first, so
 * restore can put them back.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "internal.h"

#define DEFAULT_TIMEOUT_MS 10000

static bool driver_name_valid(const char *d)
{
	size_t n = d ? strlen(d) : 0;

	if (n == 0 || n > 63)
		return false;
	for (; *d; d++)
		if (!isalnum((unsigned char)*d) && *d != '_' && *d != '-')
			return false;
	return true;
}

static int read_driver(struct vfctl_ctx *ctx, const char *addr, char *buf, size_t size)
{
	int r = vfctl_root_link_name(&ctx->sys, VFCTL_DEV_PATH(addr, "driver"), buf, size);

	if (r == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return r;
}

/* modprobe of a big driver takes seconds; one that never returns is given up on. */
#define MODPROBE_TIMEOUT_MS 60000

/* A loaded driver has its directory under bus/pci/drivers; else, when the
 * caller asked for it (VFCTL_BIND_MODPROBE), modprobe loads it. */
static int driver_load(struct vfctl_ctx *ctx, const char *addr, const char *driver,
		       unsigned flags)
{
	struct vfctl_child c;
	char rel[128];
	int status, r;

	snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", driver);
	if (vfctl_root_exists(&ctx->sys, rel))
		return 0;
	if (!(flags & VFCTL_BIND_MODPROBE))
		return vfctl_err(ctx, -ENOENT, "%s: driver %s is not loaded (no %s/%s): load it "
				 "first ('modprobe %s')", addr, driver, ctx->sys.path, rel, driver);
	if (!ctx->live)
		return vfctl_err(ctx, -ENOENT, "%s: driver %s is not in %s/%s and %s is not the live "
				 "/sys, so it cannot be loaded", addr, driver, ctx->sys.path, rel,
				 ctx->sys.path);
	r = vfctl_child_fork(&ctx->children, &c);
	if (r < 0)
		return vfctl_err(ctx, r, "%s: fork for 'modprobe %s': %s", addr, driver, strerror(-r));
	if (r == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execlp("modprobe", "modprobe", "-q", driver, (char *)NULL);
		_exit(127);
	}
	r = vfctl_child_wait(&ctx->children, &c, vfctl_now_ms() + MODPROBE_TIMEOUT_MS, &status);
	if (r == -ETIMEDOUT)
		return vfctl_err(ctx, r, "%s: 'modprobe %s' did not finish within %u s: %s; the "
				 "module's init hangs, see 'dmesg'", addr, driver,
				 MODPROBE_TIMEOUT_MS / 1000, strerror(-r));
	if (r < 0)
		return vfctl_err(ctx, r, "%s: waiting for 'modprobe %s': %s", addr, driver,
				 strerror(-r));
	if (vfctl_root_exists(&ctx->sys, rel))
		return 0;
	return vfctl_err(ctx, -ENOENT, "%s: driver %s is not loaded and 'modprobe %s' failed "
			 "(exit %d); install the module (or build it into the kernel)",
			 addr, driver, driver, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Does the host route through this interface? Then taking it away cuts the
 * host off, which we only do when told to. */
static bool netdev_has_routes(const char *ifname)
{
	char line[512], dev[64];
	bool found = false;
	FILE *f;

	f = fopen("/proc/net/route", "re");
	if (f) {
		while (!found && fgets(line, sizeof(line), f))
			found = sscanf(line, "%63s", dev) == 1 && !strcmp(dev, ifname);
		fclose(f);
	}
	f = fopen("/proc/net/ipv6_route", "re");
	if (f) {
		while (!found && fgets(line, sizeof(line), f)) {
			char *last = strrchr(line, ' ');

			if (last && sscanf(last, "%63s", dev) == 1 && !strcmp(dev, ifname)) {
				/* IPv6 link-local routes exist on every up interface: not "the host's routes" */
				found = strncmp(line, "fe80", 4) && strncmp(line, "ff00", 4);
			}
		}
		fclose(f);
	}
	return found;
}

static int check_routes(struct vfctl_ctx *ctx, const struct vfctl_func *f, bool force)
{
	if (force)
		return 0;
	for (size_t i = 0; i < f->n_netdevs; i++)
		if (netdev_has_routes(f->netdevs[i]->name))
			return vfctl_err(ctx, -EBUSY, "%s: its netdev %s carries host routes ('ip route "
					 "show dev %s'); taking it from %s would cut the host off that "
					 "network: move the routes first, or use --force",
					 f->addr, f->netdevs[i]->name, f->netdevs[i]->name,
					 f->driver ? f->driver : "its driver");
	return 0;
}

/* The processes that hold f's group node open ("pid 42 (qemu)" in who, the
 * node's path in node); false when none, or none we can see. */
static bool group_holders(struct vfctl_ctx *ctx, const struct vfctl_func *f, char node[64],
			 char *who, size_t size)
{
	char rel[32];

	who[0] = '\0';
	if (f->iommu_group < 0 || !ctx->live)
		return false;
	snprintf(node, 64, "/dev/vfio/%d", f->iommu_group);
	snprintf(rel, sizeof(rel), "vfio/%d", f->iommu_group);
	if (vfctl_vfio_node_holders(ctx, rel, who, size) > 0)
		return true;
	who[0] = '\0';
	return false;
}

/* Who holds the function's VFIO group open; 0 when nobody (that we can see). */
static int check_holders(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *what)
{
	char node[64], who[256];

	/* the open probe first: the walk of every process's fds costs more
	 * than the rest of a restore */
	if (!f->driver || !vfctl_driver_is_vfio(f->driver) ||
	    (f->iommu_group >= 0 && ctx->live && vfctl_vfio_group_unheld(ctx, f->iommu_group)) ||
	    !group_holders(ctx, f, node, who, sizeof(who)))
		return 0;
	return vfctl_err(ctx, -EBUSY, "%s: %s is held open by %s; the kernel would block %s until "
			 "it is released: stop that process (or release its lease) first",
			 f->addr, node, who, what);
}

static int write_timed(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *rel,
		       const char *val, unsigned timeout_ms)
{
	int r = vfctl_root_write_bounded(&ctx->sys, rel, val, timeout_ms, &ctx->children);
	char node[64], who[256];

	if (r == -ETIMEDOUT) {
		group_holders(ctx, f, node, who, sizeof(who));
		return vfctl_err(ctx, r, "%s: writing '%s' to %s/%s did not return in %u ms%s%s; "
				 "the write goes on in the background and completes when the device "
				 "is released", f->addr, val, ctx->sys.path, rel, timeout_ms,
				 who[0] ? ": held by " : " (a VFIO user may hold the device)", who);
	}
	if (r < 0)
		return vfctl_err(ctx, r, "%s: writing '%s' to %s/%s: %s", f->addr, val, ctx->sys.path,
				 rel, strerror(-r));
	return 0;
}

static int unbind_timed(struct vfctl_ctx *ctx, const struct vfctl_func *f, unsigned timeout_ms)
{
	return write_timed(ctx, f, VFCTL_DEV_PATH(f->addr, "driver/unbind"), f->addr, timeout_ms);
}

static int set_override(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *driver)
{
	const char *rel = VFCTL_DEV_PATH(f->addr, "driver_override");
	int r;

	/* a lone newline clears it */
	r = vfctl_root_write(&ctx->sys, rel, driver && *driver ? driver : "\n");
	if (r < 0)
		return vfctl_err(ctx, r, "%s: writing '%s' to %s/%s: %s", f->addr,
				 driver && *driver ? driver : "\\n", ctx->sys.path, rel, strerror(-r));
	return 0;
}

static int probe_timed(struct vfctl_ctx *ctx, const struct vfctl_func *f, unsigned timeout_ms)
{
	return write_timed(ctx, f, "bus/pci/drivers_probe", f->addr, timeout_ms);
}

static int wait_vfio_node(struct vfctl_ctx *ctx, const struct vfctl_func *f, unsigned timeout_ms)
{
	uint64_t deadline = vfctl_now_ms() + timeout_ms;
	char rel[64];

	snprintf(rel, sizeof(rel), "vfio/%d", f->iommu_group);
	while (!vfctl_root_exists(&ctx->dev, rel)) {
		if (vfctl_now_ms() >= deadline)
			return vfctl_err(ctx, -ETIMEDOUT, "%s: bound to vfio-pci but %s/%s did not "
					 "appear in %u ms; is udev or devtmpfs running?", f->addr,
					 ctx->dev.path ? ctx->dev.path : "/dev", rel, timeout_ms);
		usleep(10000);
	}
	return 0;
}

static int lock_for(struct vfctl_ctx *ctx, const struct vfctl_func *f, int *fd)
{
	/* VFs change under their PF's lock, as creating and destroying them does */
	return vfctl_pf_lock(ctx, f->pf ? f->pf->addr : f->addr, fd);
}

static bool mac_zero(const char *mac)
{
	return !mac[0] || !strcmp(mac, "00:00:00:00:00:00");
}

/* The MAC a VF has now: the PF's record of it, else its netdev's; NULL when
 * neither has one. The PF may record none for a MAC the VF driver chose:
 * igb before Linux 6.4 enables the VFs before it sets itself up for SR-IOV,
 * so igbvf's probe-time messages (reset, set MAC) are lost and the PF shows
 * 00:00:00:00:00:00 while igbvf runs with a random MAC of its own. */
static const char *vf_current_mac(const struct vfctl_func *f)
{
	if (!mac_zero(f->config.mac))
		return f->config.mac;
	if (f->n_netdevs && !mac_zero(f->netdevs[0]->mac))
		return f->netdevs[0]->mac;
	return NULL;
}

/* The PF's admin MAC for VF f before bind: its record, unless that is the
 * MAC the VF's own driver chose (its netdev has it, and the kernel says the
 * netdev's address is random or set by hand: addr_assign_type 1 or 3, not
 * the one the driver got at probe) and vfctl did not set it; then, and with
 * no record, none (00:00:00:00:00:00). Netlink does not say whether a MAC
 * is admin-set. */
static const char *vf_admin_mac(struct vfctl_ctx *ctx, const struct vfctl_func *f)
{
	long type;

	if (mac_zero(f->config.mac))
		return "00:00:00:00:00:00";
	/* set through vfctl (set, apply, a restore): an admin's, whatever the
	 * netdev says (an admin who pins the MAC igbvf chose leaves its
	 * address type random) */
	if (vfctl_admin_mac_noted(ctx, f->addr, f->config.mac))
		return f->config.mac;
	for (size_t i = 0; i < f->n_netdevs; i++)
		if (!strcasecmp(f->netdevs[i]->mac, f->config.mac) &&
		    vfctl_root_read_int(&ctx->sys, VFCTL_DEV_PATH(f->addr, "net/%s/addr_assign_type",
								 f->netdevs[i]->name), 10, &type) == 0 &&
		    (type == 1 || type == 3))
			return "00:00:00:00:00:00";
	return f->config.mac;
}

/* Save the original state once: a second bind keeps the first record.
 * Returns 1 when this call wrote it. A VF's record holds its admin MAC
 * (none: 00:00:00:00:00:00), which restore puts back, and the MAC bind
 * pins (pinned_mac). */
static int save_once(struct vfctl_ctx *ctx, const struct vfctl_func *f)
{
	struct dev_state st = { 0 };
	int r = vfctl_state_load(ctx, f->addr, &st);

	if (r == 0)
		return 0;
	if (r != -ENOENT)
		return r;
	snprintf(st.addr, sizeof(st.addr), "%s", f->addr);
	snprintf(st.driver, sizeof(st.driver), "%s", f->driver ? f->driver : "");
	snprintf(st.driver_override, sizeof(st.driver_override), "%s",
		 f->driver_override ? f->driver_override : "");
	if (f->kind == VFCTL_FUNC_VF && f->pf) {
		st.is_vf = true;
		snprintf(st.pf, sizeof(st.pf), "%s", f->pf->addr);
		st.vf_index = f->vf_index;
		st.config = f->config;
		if (st.config.valid) {
			snprintf(st.config.mac, sizeof(st.config.mac), "%s", vf_admin_mac(ctx, f));
			if (vf_current_mac(f))
				snprintf(st.pinned_mac, sizeof(st.pinned_mac), "%s",
					 vf_current_mac(f));
		}
	}
	r = vfctl_state_save(ctx, &st);
	return r < 0 ? r : 1;
}

/* The guest should see a stable address. A MAC the VF driver chose itself
 * is not the PF's admin MAC, and igb (like ixgbe) draws a new random one
 * when the VF resets, as vfio-pci does on open; so set the VF's current MAC
 * as the admin MAC before its host driver lets go. Netlink does not say
 * whether a MAC is admin-set: setting it again is harmless. */
static int pin_vf_mac(struct vfctl_ctx *ctx, const struct vfctl_func *f)
{
	struct vfctl_vf_settings s = { .size = sizeof(s), .mask = 1u << VFCTL_VF_MAC };
	struct vfctl_vf_set_result res = { .size = sizeof(res) };
	const char *mac;
	int r;

	if (f->kind != VFCTL_FUNC_VF || !f->pf || !f->config.valid)
		return 0;
	mac = vf_current_mac(f);
	if (!mac)
		return 0;
	snprintf(s.mac, sizeof(s.mac), "%s", mac);
	s.flags = VFCTL_VF_SET_FORCE;	/* the bind checked the leases */
	ctx->pinning_mac = true;
	r = vfctl_vf_set(ctx, f->pf, (unsigned)f->vf_index, &s, &res);
	ctx->pinning_mac = false;
	return r < 0 ? r : 1;
}

/* Undo pin_vf_mac: the admin MAC as it was (00:00:00:00:00:00 unpins). */
static void unpin_vf_mac(struct vfctl_ctx *ctx, const struct vfctl_func *f)
{
	struct vfctl_vf_settings s = { .size = sizeof(s), .mask = 1u << VFCTL_VF_MAC,
				       .flags = VFCTL_VF_SET_FORCE };
	struct vfctl_vf_set_result res = { .size = sizeof(res) };

	snprintf(s.mac, sizeof(s.mac), "%s", vf_admin_mac(ctx, f));
	ctx->pinning_mac = true;
	vfctl_vf_set(ctx, f->pf, (unsigned)f->vf_index, &s, &res);
	ctx->pinning_mac = false;
}

static int group_blockers(struct vfctl_ctx *ctx, const struct vfctl_host *host,
			  const struct vfctl_func *f)
{
	const struct vfctl_group *g = vfctl_host_group(host, f->iommu_group);
	char list[400] = "";
	size_t used = 0;
	int n = 0;

	if (!g)
		return 0;
	for (size_t i = 0; i < g->n_members; i++) {
		const struct vfctl_func *m = g->members[i];

		if (m == f || vfctl_func_vfio_ok(m))
			continue;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (%s)",
						 n ? ", " : "", m->addr, m->driver);
		n++;
	}
	if (!n)
		return 0;
	/* never "bind the PF too": that takes the host's link and the VFs' parent */
	if (f->kind == VFCTL_FUNC_VF && f->pf && !vfctl_func_vfio_ok(f->pf) &&
	    f->pf->iommu_group == g->id)
		return vfctl_err(ctx, -EBUSY, "%s: binding it to vfio-pci leaves IOMMU group %d not "
				 "viable: %s; its PF %s shares the group (its port has no ACS "
				 "isolation), so the VF cannot be passed through apart from it: pass "
				 "the whole group to one guest, put the card in a slot whose port has "
				 "ACS, or use a platform with ACS", f->addr, g->id, list, f->pf->addr);
	return vfctl_err(ctx, -EBUSY, "%s: binding it to vfio-pci leaves IOMMU group %d not "
			 "viable: %s; bind %s to vfio-pci too, or use a device whose group it "
			 "does not share (a slot behind ACS)", f->addr, g->id, list,
			 n > 1 ? "those" : "that one");
}

/* A PF's VFs go when its driver lets go of it (the driver disables
 * SR-IOV on remove): refused while it has any, unless forced. */
static int check_pf_vfs(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *driver)
{
	long n;

	if (f->kind != VFCTL_FUNC_PF ||
	    vfctl_root_read_int(&ctx->sys, VFCTL_DEV_PATH(f->addr, "sriov_numvfs"), 10, &n) < 0 ||
	    n <= 0)
		return 0;
	return vfctl_err(ctx, -EBUSY, "%s: it has %ld VF%s (sriov_numvfs); %s it from %s "
			 "disables SR-IOV and destroys %s, with %s netdevs and settings: destroy "
			 "them first ('vfctl destroy %s'), or use --force to %s it anyway and "
			 "lose the %ld VF%s", f->addr, n, n == 1 ? "" : "s",
			 driver ? "taking" : "unbinding", f->driver ? f->driver : "its driver",
			 n == 1 ? "it" : "all of them", n == 1 ? "its" : "their", f->addr,
			 driver ? "bind" : "unbind", n, n == 1 ? "" : "s");
}

/* What only --force overrides besides host routes: a vfctld lease on it
 * (a PF: on its VFs), a PF's VFs. */
static int check_loss(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *driver)
{
	char doing[96];
	int r;

	if (f->kind == VFCTL_FUNC_PF)
		snprintf(doing, sizeof(doing), "%s the PF", driver ? "binding" : "unbinding");
	else if (driver)
		snprintf(doing, sizeof(doing), "binding it to %s", driver);
	else
		snprintf(doing, sizeof(doing), "unbinding it");
	r = vfctl_lease_guard(ctx, f->addr, f->kind == VFCTL_FUNC_PF, doing);
	if (r < 0)
		return r;
	return check_pf_vfs(ctx, f, driver);
}

/* Before a device leaves its driver: no lease of vfctld on it (a PF: on
 * its VFs), no VFs of a PF to lose, no host routes through it (unless
 * forced), no VFIO user, the new driver (if any) loaded; then its
 * PF's lock, the leases and VFs checked again under it, and its original
 * state saved (1: by this call). */
static int take_from_driver(struct vfctl_ctx *ctx, const struct vfctl_func *f, unsigned flags,
			    const char *driver, int *lock)
{
	bool force = flags & VFCTL_BIND_FORCE;
	/* leases and VFs first: losing them is the bigger mistake */
	int r = force ? 0 : check_loss(ctx, f, driver);

	if (r < 0)
		return r;
	r = check_routes(ctx, f, force);
	if (r < 0)
		return r;
	r = check_holders(ctx, f, "the unbind");
	if (r < 0)
		return r;
	if (driver) {
		r = driver_load(ctx, f->addr, driver, flags);
		if (r < 0)
			return r;
	}
	r = lock_for(ctx, f, lock);
	if (r < 0)
		return r;
	/* again under the lock: vfctld or a create may have been quicker */
	if (!force) {
		r = check_loss(ctx, f, driver);
		if (r < 0)
			return r;
	}
	return save_once(ctx, f);
}

/* What a failed bind leaves: the device on its old driver again (or on
 * none, as it was), its override and admin MAC as they were, no saved
 * state that this bind wrote. Appends what it did to the error. */
static void rollback(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *driver,
		     bool pinned, bool saved, unsigned timeout_ms)
{
	char first[sizeof(ctx->err)], now[64] = "";
	bool unbound;
	size_t len;
	int r;

	memcpy(first, ctx->err, sizeof(first));
	set_override(ctx, f, f->driver_override);
	r = read_driver(ctx, f->addr, now, sizeof(now));
	/* the new driver took it after all (vfio-pci without its node) */
	unbound = r == 0 && now[0] && (!f->driver || strcmp(now, f->driver)) &&
		  vfctl_root_write_bounded(&ctx->sys, VFCTL_DEV_PATH(f->addr, "driver/unbind"),
					   f->addr, timeout_ms, &ctx->children) == 0;
	if (pinned)
		unpin_vf_mac(ctx, f);
	/* a probe of a bound device changes nothing: no need to look first */
	if (f->driver && (unbound || (r == 0 && !now[0])))
		vfctl_root_write_bounded(&ctx->sys, "bus/pci/drivers_probe", f->addr, timeout_ms,
					 &ctx->children);
	if (saved)
		vfctl_state_remove(ctx, f->addr);
	memcpy(ctx->err, first, sizeof(first));
	len = strlen(ctx->err);
	r = read_driver(ctx, f->addr, now, sizeof(now));
	if (r == 0 && !strcmp(now, f->driver ? f->driver : ""))
		snprintf(ctx->err + len, sizeof(ctx->err) - len, "; rolled back: %s is %s%s again",
			 f->addr, f->driver ? "on " : "unbound", f->driver ? f->driver : "");
	else
		snprintf(ctx->err + len, sizeof(ctx->err) - len, "; rolling back left %s %s%s "
			 "(it was %s%s, %s wanted): 'vfctl restore %s' or bind it by hand",
			 f->addr, r < 0 ? "unreadable" : now[0] ? "on " : "unbound",
			 r < 0 ? "" : now, f->driver ? "on " : "unbound",
			 f->driver ? f->driver : "", driver, f->addr);
}

/*
 * The rebind core bind and unbind share, for a device whose checks passed:
 * take it from its driver (routes, leases, a PF's VFs, VFIO holders, the
 * PF's lock, the state saved); with a driver, pin a VF's MAC, set
 * driver_override, unbind and probe, check the driver link and, for
 * vfio-pci, wait for the group node; any failure after the first write
 * rolls everything back (rollback()). Without a driver, only unbind and
 * check that nothing holds it.
 */
static int rebind(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *driver,
		  unsigned flags, unsigned timeout_ms)
{
	_cleanup_close_ int lock = -1;
	bool pinned = false, saved;
	char now[64] = "";
	int r;

	r = take_from_driver(ctx, f, flags, driver, &lock);
	if (r < 0)
		return r;
	saved = r > 0;
	if (!driver) {
		r = unbind_timed(ctx, f, timeout_ms);
		if (r < 0) {
			if (saved)	/* nothing changed: nothing to restore */
				vfctl_state_remove(ctx, f->addr);
			return r;
		}
		r = read_driver(ctx, f->addr, now, sizeof(now));
		if (r == 0 && now[0])
			return vfctl_err(ctx, -EBUSY, "%s: still bound to %s after the unbind",
					 f->addr, now);
		return 0;
	}

	r = pin_vf_mac(ctx, f);
	if (r < 0)
		goto fail;
	pinned = r > 0;
	r = set_override(ctx, f, driver);
	if (r < 0)
		goto fail;
	if (f->driver) {
		r = unbind_timed(ctx, f, timeout_ms);
		if (r < 0)
			goto fail;
	}
	r = probe_timed(ctx, f, timeout_ms);
	if (r < 0)
		goto fail;
	r = read_driver(ctx, f->addr, now, sizeof(now));
	if (r < 0) {
		r = vfctl_err(ctx, r, "%s: cannot read %s/%s after drivers_probe: %s", f->addr,
			      ctx->sys.path, VFCTL_DEV_PATH(f->addr, "driver"), strerror(-r));
		goto fail;
	}
	if (strcmp(now, driver)) {
		r = vfctl_err(ctx, -ENXIO, "%s: drivers_probe returned success but the device is %s%s; "
			      "%s did not take it (see 'dmesg'; is the device id supported?)",
			      f->addr, now[0] ? "bound to " : "not bound to any driver", now, driver);
		goto fail;
	}
	if (vfctl_driver_is_vfio(driver) && ctx->dev.fd >= 0) {
		r = wait_vfio_node(ctx, f, 2000);
		if (r < 0)
			goto fail;
	}
	return 0;

fail:
	rollback(ctx, f, driver, pinned, saved, timeout_ms);
	return r;
}

/*
 * After a successful change: f in the caller's host as the kernel has it
 * now (driver, driver_override, its group's viability and node, a VF's
 * settings on its PF), read for f alone, so the caller needs no new scan
 * to say what it did. Best effort: the change itself is made and checked.
 */
static void host_refresh(struct vfctl_ctx *ctx, struct vfctl_host *host, struct vfctl_func *f)
{
	struct vfctl_group *g = vfctl_host_group(host, f->iommu_group);
	char first[sizeof(ctx->err)], buf[64];

	memcpy(first, ctx->err, sizeof(first));
	if (read_driver(ctx, f->addr, buf, sizeof(buf)) == 0) {
		free(f->driver);
		f->driver = buf[0] ? strdup(buf) : NULL;
	}
	if (vfctl_root_read(&ctx->sys, VFCTL_DEV_PATH(f->addr, "driver_override"), buf,
			    sizeof(buf)) >= 0) {
		free(f->driver_override);
		f->driver_override = buf[0] && strcmp(buf, "(null)") ? strdup(buf) : NULL;
	}
	if (g)
		vfctl_group_refresh(ctx, g);
	if (f->kind == VFCTL_FUNC_VF && f->pf && f->pf->n_netdevs && ctx->live)
		vfctl_nl_read_pf_vfs(ctx, f->pf);
	memcpy(ctx->err, first, sizeof(first));
}

int vfctl_bind(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *dev,
	       const char *driver, unsigned flags, unsigned timeout_ms)
{
	struct vfctl_func *f;
	int r;

	r = vfctl_host_find(ctx, host, dev, &f);
	if (r >= 0)
		r = vfctl_func_need_pci(ctx, f, "binding a driver");
	if (r < 0)
		return r;
	if (!driver_name_valid(driver))
		return vfctl_err(ctx, -EINVAL, "'%s' is not a driver name (letters, digits, '_' "
				 "and '-', at most 63)", driver);
	if (f->driver && !strcmp(f->driver, driver))
		return vfctl_err(ctx, -EALREADY, "%s: already bound to %s, nothing changed ('vfctl "
				 "restore %s' returns it to its original driver)", f->addr, driver,
				 f->addr);
	if (vfctl_driver_is_vfio(driver)) {
		if (!host->iommu_groups || f->iommu_group < 0)
			return vfctl_err(ctx, -ENODEV, "%s: the host has no IOMMU (no group in "
					 "%s/kernel/iommu_groups), so VFIO cannot use it: enable "
					 "VT-d/AMD-Vi in the firmware and boot with intel_iommu=on "
					 "(Intel) or amd_iommu=on (AMD)", f->addr, ctx->sys.path);
		r = group_blockers(ctx, host, f);
		if (r < 0)
			return r;
	}
	r = rebind(ctx, f, driver, flags, timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS);
	if (r == 0)
		host_refresh(ctx, host, f);
	return r;
}

int vfctl_unbind(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *dev,
		 unsigned flags, unsigned timeout_ms)
{
	struct vfctl_func *f;
	int r;

	r = vfctl_host_find(ctx, host, dev, &f);
	if (r >= 0)
		r = vfctl_func_need_pci(ctx, f, "unbinding a driver");
	if (r < 0)
		return r;
	if (!f->driver)
		return vfctl_err(ctx, -EALREADY, "%s: not bound to any driver, nothing changed",
				 f->addr);
	r = rebind(ctx, f, NULL, flags, timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS);
	if (r == 0)
		host_refresh(ctx, host, f);
	return r;
}

/* The PF-side VF settings as they were saved. */
static int restore_vf_settings(struct vfctl_ctx *ctx, struct vfctl_host *host,
			       const struct dev_state *st)
{
	const struct vfctl_vf_config *c = &st->config;
	struct vfctl_vf_settings s = { .size = sizeof(s) };
	struct vfctl_vf_set_result res = { .size = sizeof(res) };
	struct vfctl_func *pf;

	if (!st->is_vf || !c->valid || !ctx->live)
		return 0;
	if (vfctl_host_find(ctx, host, st->pf, &pf) < 0 || !pf->netdevs)
		return vfctl_err(ctx, -ENODEV, "%s: its PF %s (or its netdev) is gone: the VF "
				 "settings cannot be restored", st->addr, st->pf);
	snprintf(s.mac, sizeof(s.mac), "%s", c->mac);
	s.mask = 1u << VFCTL_VF_MAC | 1u << VFCTL_VF_VLAN | 1u << VFCTL_VF_MAX_TX_RATE;
	s.flags = VFCTL_VF_SET_FORCE;	/* restore checked the leases */
	s.vlan = c->vlan;
	s.qos = c->qos;
	s.vlan_proto = c->vlan_proto;
	s.max_tx_rate = c->max_tx_rate;
	if (c->min_tx_rate) {
		s.mask |= 1u << VFCTL_VF_MIN_TX_RATE;
		s.min_tx_rate = c->min_tx_rate;
	}
	if (c->spoofchk != VFCTL_UNKNOWN) {
		s.mask |= 1u << VFCTL_VF_SPOOFCHK;
		s.spoofchk = c->spoofchk == VFCTL_ON;
	}
	if (c->trust != VFCTL_UNKNOWN) {
		s.mask |= 1u << VFCTL_VF_TRUST;
		s.trust = c->trust == VFCTL_ON;
	}
	/* what the driver has already (all of it after a bind that changed
	 * nothing but the pinned MAC) is not sent again */
	return vfctl_vf_set_changed(ctx, pf, (unsigned)st->vf_index, &s, &res);
}

int vfctl_restore(struct vfctl_ctx *ctx, struct vfctl_host *host, const char *dev,
		  unsigned flags, unsigned timeout_ms)
{
	_cleanup_close_ int lock = -1;
	struct dev_state st;
	struct vfctl_func *f;
	char now[64] = "";
	int r;

	if (!timeout_ms)
		timeout_ms = DEFAULT_TIMEOUT_MS;
	r = vfctl_host_find(ctx, host, dev, &f);
	if (r >= 0)
		r = vfctl_func_need_pci(ctx, f, "restoring a driver");
	if (r < 0)
		return r;
	r = lock_for(ctx, f, &lock);
	if (r < 0)
		return r;
	if (!(flags & VFCTL_BIND_FORCE)) {
		r = vfctl_lease_guard(ctx, f->addr, false, "restoring it");
		if (r < 0)
			return r;
	}
	r = vfctl_state_load(ctx, f->addr, &st);
	if (r == -ENOENT)	/* its own errno: "nothing to restore" is no failure to some */
		return vfctl_err(ctx, -ENODATA, "%s: no saved state in %s/state: vfctl did not rebind it, "
				 "or it was restored already; 'vfctl bind %s DRIVER' binds it by hand",
				 f->addr, vfctl_run_dir_path(ctx), f->addr);
	if (r < 0)
		return r;
	r = check_holders(ctx, f, "taking it back");
	if (r < 0)
		return r;
	if (st.driver[0]) {
		r = driver_load(ctx, f->addr, st.driver, flags);
		if (r < 0)
			return r;
	}
	r = set_override(ctx, f, st.driver_override);
	if (r < 0)
		return r;
	if (f->driver && strcmp(f->driver, st.driver)) {
		r = unbind_timed(ctx, f, timeout_ms);
		if (r < 0)
			return r;
	}
	/* before the VF driver comes back, so it starts with its old MAC */
	r = restore_vf_settings(ctx, host, &st);
	if (r < 0)
		return r;
	if (st.driver[0] && (!f->driver || strcmp(f->driver, st.driver))) {
		r = probe_timed(ctx, f, timeout_ms);
		if (r < 0)
			return r;
	}
	r = read_driver(ctx, f->addr, now, sizeof(now));
	if (r < 0)
		return vfctl_err(ctx, r, "%s: reading its driver link: %s", f->addr, strerror(-r));
	if (strcmp(now, st.driver))
		return vfctl_err(ctx, -ENXIO, "%s: restore probed %s but the device is %s%s; see "
				 "'dmesg'", f->addr, st.driver[0] ? st.driver : "no driver",
				 now[0] ? "bound to " : "not bound to any driver", now);
	r = vfctl_state_remove(ctx, f->addr);
	if (r == 0)
		host_refresh(ctx, host, f);
	return r;
}
