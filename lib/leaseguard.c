// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfctld's leases, as a guard for the commands that change devices: a VF
 * that vfctld leases belongs to its lease's user, so changing it (or
 * destroying it with its PF's VFs) is refused unless forced. The daemon
 * keeps its leases in RUN_DIR/leases.json (vfctld(8)), the run directory
 * this library shares with it; the file is read, not the daemon asked, so
 * the leases guard their VFs while the daemon is stopped too (it takes them
 * up again at its next start). No file: nothing is leased.
 *
 * Only active leases guard: vfctld itself binds a VF while its lease is
 * "allocating" and restores it while it is "releasing", through this
 * library, and must not be refused by its own lease.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "internal.h"
#include "wire.h"

#define LEASES_FILE "leases.json"
#define LEASES_MAX_SIZE (4 * 1024 * 1024)

/* RUN_DIR/leases.json parsed in *ret; NULL when there is none. */
static int leases_read(struct vfctl_ctx *ctx, json_object **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char path[1024];
	struct stat sb;
	size_t len = 0;
	ssize_t n;
	json_object *o, *a;

	*ret = NULL;
	snprintf(path, sizeof(path), "%s/%s", vfctl_run_dir_path(ctx), LEASES_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &sb) < 0)
		return vfctl_err(ctx, -errno, "%s: %s; vfctld's leases cannot be checked: run as "
				 "root, or use --force if no VF of it is leased", path,
				 strerror(errno));
	if (!S_ISREG(sb.st_mode) || sb.st_size > LEASES_MAX_SIZE)
		return vfctl_err(ctx, -EBADMSG, "%s: not a lease list vfctld wrote (%s); vfctld's "
				 "leases cannot be checked: move it away, or use --force", path,
				 S_ISREG(sb.st_mode) ? "too big" : "not a regular file");
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf)
		return vfctl_err(ctx, -ENOMEM, "out of memory");
	while (len < (size_t)sb.st_size && (n = read(fd, buf + len, (size_t)sb.st_size - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	o = json_tokener_parse(buf);
	if (!o || !json_object_object_get_ex(o, "leases", &a) ||
	    !json_object_is_type(a, json_type_array)) {
		json_object_put(o);
		return vfctl_err(ctx, -EBADMSG, "%s: not a lease list vfctld wrote; vfctld's leases "
				 "cannot be checked: fix or move it away, or use --force", path);
	}
	*ret = o;
	return 0;
}

/* One lease: "L3 (VF 0000:03:11.6, owner vm1, uid 0, pool gpu)". */
static void lease_desc(json_object *l, char *buf, size_t size)
{
	const char *owner = vfctl_json_str(l, "owner"), *pool = vfctl_json_str(l, "pool");
	int64_t uid = -1;

	vfctl_json_int(l, "uid", &uid);
	snprintf(buf, size, "%s (VF %s, owner %s, uid %lld, pool %s)", vfctl_json_str(l, "id"),
		 vfctl_json_str(l, "vf"), owner ? owner : "none", (long long)uid,
		 pool ? pool : "?");
}

int vfctl_lease_guard(struct vfctl_ctx *ctx, const char *addr, bool pf, const char *doing)
{
	json_object *o = NULL, *a;
	char first[256] = "", first_id[32] = "";
	size_t n = 0;
	int r = leases_read(ctx, &o);

	if (r < 0 || !o)
		return r;
	json_object_object_get_ex(o, "leases", &a);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *l = json_object_array_get_idx(a, i);
		const char *state = vfctl_json_str(l, "state"), *id = vfctl_json_str(l, "id"),
			   *on = vfctl_json_str(l, pf ? "pf" : "vf");

		if (!state || strcmp(state, "active") || !id || !vfctl_lease_id_valid(id) ||
		    !on || strcmp(on, addr) || !vfctl_json_str(l, "vf"))
			continue;
		if (!n++) {
			lease_desc(l, first, sizeof(first));
			snprintf(first_id, sizeof(first_id), "%s", id);
		}
	}
	json_object_put(o);
	if (!n)
		return 0;
	if (pf)
		return vfctl_err(ctx, -EBUSY, "%s: vfctld leases %zu of its VFs (lease %s%s); %s "
				 "would take %s from under %s user: release %s first ('vfctl "
				 "release %s'), or use --force", addr, n, first,
				 n > 1 ? ", and more: 'vfctl leases'" : "", doing,
				 n > 1 ? "them" : "it", n > 1 ? "their" : "its",
				 n > 1 ? "them" : "it", first_id);
	return vfctl_err(ctx, -EBUSY, "%s: vfctld leases it (lease %s); %s would take it from "
			 "under its user: release it first ('vfctl release %s'), or use --force",
			 addr, first, doing, first_id);
}
