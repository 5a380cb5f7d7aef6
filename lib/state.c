// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The original state of a device before vfctl first rebinds it: its driver,
 * driver_override and, for a VF, the PF's settings for it. One small JSON
 * record per device under RUN/state/, written atomically (temp file, fsync,
 * rename, fsync of the directory) so a crash leaves the old record or the
 * new one, never half of one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "internal.h"
#include "wire.h"

static void put_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

int vfctl_state_save(struct vfctl_ctx *ctx, const struct dev_state *st)
{
	_cleanup_close_ int dfd = -1;
	json_object *o = json_object_new_object(), *vf;
	char name[64];
	const char *s;
	int r;

	if (!o)
		return -ENOMEM;
	r = vfctl_run_dir_open(ctx, "state", &dfd);
	if (r < 0)
		goto out;
	put_str(o, "address", st->addr);
	put_str(o, "driver", st->driver[0] ? st->driver : NULL);
	put_str(o, "driver_override", st->driver_override[0] ? st->driver_override : NULL);
	if (st->is_vf) {
		const struct vfctl_vf_config *c = &st->config;

		vf = json_object_new_object();
		put_str(vf, "pf", st->pf);
		json_object_object_add(vf, "index", json_object_new_int(st->vf_index));
		json_object_object_add(vf, "valid", json_object_new_boolean(c->valid));
		if (c->valid) {
			put_str(vf, "mac", c->mac);
			put_str(vf, "pinned_mac", st->pinned_mac[0] ? st->pinned_mac : NULL);
			json_object_object_add(vf, "vlan", json_object_new_int64(c->vlan));
			json_object_object_add(vf, "qos", json_object_new_int64(c->qos));
			json_object_object_add(vf, "vlan_proto", json_object_new_int(c->vlan_proto));
			json_object_object_add(vf, "spoofchk", json_object_new_int(c->spoofchk));
			json_object_object_add(vf, "trust", json_object_new_int(c->trust));
			json_object_object_add(vf, "min_tx_rate", json_object_new_int64(c->min_tx_rate));
			json_object_object_add(vf, "max_tx_rate", json_object_new_int64(c->max_tx_rate));
		}
		json_object_object_add(o, "vf", vf);
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);

	snprintf(name, sizeof(name), "%s.json", st->addr);
	r = vfctl_file_write_atomic(dfd, name, s);
	if (r < 0)
		r = vfctl_err(ctx, r, "%s: saving its original state to %s/state/%s: %s; "
			      "free space or fix permissions there", st->addr, vfctl_run_dir_path(ctx),
			      name, strerror(-r));
out:
	json_object_put(o);
	return r;
}

/* an integer field, dflt when it is missing */
static int64_t get_int(json_object *o, const char *k, int64_t dflt)
{
	vfctl_json_int(o, k, &dflt);
	return dflt;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int vfctl_state_load(struct vfctl_ctx *ctx, const char *addr, struct dev_state *ret)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	struct dev_state st = { 0 };
	char name[64], buf[8192];
	json_object *o, *vf;
	ssize_t n;
	int r;

	r = vfctl_run_dir_open(ctx, "state", &dfd);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.json", addr);
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;	/* -ENOENT: nothing saved, the caller decides */
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return vfctl_err(ctx, -errno, "%s/state/%s: %s", vfctl_run_dir_path(ctx), name,
				 strerror(errno));
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	if (!o || !vfctl_json_str(o, "address") || strcmp(vfctl_json_str(o, "address"), addr)) {
		json_object_put(o);
		return vfctl_err(ctx, -EBADMSG, "%s/state/%s: not a saved state of %s; remove it "
				 "and bind again", vfctl_run_dir_path(ctx), name, addr);
	}
	copy_field(st.addr, sizeof(st.addr), addr);
	copy_field(st.driver, sizeof(st.driver), vfctl_json_str(o, "driver"));
	copy_field(st.driver_override, sizeof(st.driver_override), vfctl_json_str(o, "driver_override"));
	if (json_object_object_get_ex(o, "vf", &vf)) {
		struct vfctl_vf_config *c = &st.config;

		st.is_vf = true;
		copy_field(st.pf, sizeof(st.pf), vfctl_json_str(vf, "pf"));
		st.vf_index = (int)get_int(vf, "index", -1);
		c->valid = json_object_get_boolean(json_object_object_get(vf, "valid"));
		copy_field(c->mac, sizeof(c->mac), vfctl_json_str(vf, "mac"));
		copy_field(st.pinned_mac, sizeof(st.pinned_mac), vfctl_json_str(vf, "pinned_mac"));
		c->vlan = (uint32_t)get_int(vf, "vlan", 0);
		c->qos = (uint32_t)get_int(vf, "qos", 0);
		c->vlan_proto = (uint16_t)get_int(vf, "vlan_proto", 0x8100);
		c->spoofchk = (int)get_int(vf, "spoofchk", VFCTL_UNKNOWN);
		c->trust = (int)get_int(vf, "trust", VFCTL_UNKNOWN);
		c->min_tx_rate = (uint32_t)get_int(vf, "min_tx_rate", 0);
		c->max_tx_rate = (uint32_t)get_int(vf, "max_tx_rate", 0);
		c->link_state = -1;
		c->query_rss = VFCTL_UNKNOWN;
	}
	json_object_put(o);
	*ret = st;
	return 0;
}

int vfctl_state_remove(struct vfctl_ctx *ctx, const char *addr)
{
	_cleanup_close_ int dfd = -1;
	char name[64];
	int r = vfctl_run_dir_open(ctx, "state", &dfd);

	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.json", addr);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return vfctl_err(ctx, -errno, "%s/state/%s: %s", vfctl_run_dir_path(ctx), name,
				 strerror(errno));
	fsync(dfd);
	return 0;
}

/* The admin MACs set through the library, by VF address: netlink shows a
 * VF's MAC but not whether an admin set it or the VF's driver chose it
 * (igb and ixgbe record both the same way), so bind asks this record. */
void vfctl_admin_mac_note(struct vfctl_ctx *ctx, const char *vf_addr, const char *mac)
{
	_cleanup_close_ int dfd = -1;
	char err[sizeof(ctx->err)], text[32];

	/* best effort: a caller's message is not replaced by this one's */
	memcpy(err, ctx->err, sizeof(err));
	if (vfctl_run_dir_open(ctx, "admin-mac", &dfd) == 0) {
		if (!mac[0] || !strcmp(mac, "00:00:00:00:00:00")) {
			unlinkat(dfd, vf_addr, 0);
		} else {
			snprintf(text, sizeof(text), "%s\n", mac);
			vfctl_file_write_atomic(dfd, vf_addr, text);
		}
	}
	memcpy(ctx->err, err, sizeof(err));
}

bool vfctl_admin_mac_noted(struct vfctl_ctx *ctx, const char *vf_addr, const char *mac)
{
	_cleanup_close_ int dfd = -1;
	char err[sizeof(ctx->err)], buf[32] = "";
	ssize_t n = -1;
	int fd;

	memcpy(err, ctx->err, sizeof(err));
	if (vfctl_run_dir_open(ctx, "admin-mac", &dfd) == 0) {
		fd = openat(dfd, vf_addr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
	}
	memcpy(ctx->err, err, sizeof(err));
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return !strcasecmp(buf, mac);
}
