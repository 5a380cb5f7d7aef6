// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Who uses a function, for show and list: the processes that hold its VFIO
 * group node open (the library's holder scan, the one its refusals use),
 * vfctld's lease on it and the original state the first bind saved. The
 * lease and the state are read from the files the daemon and the library
 * write atomically in the shared run directory (RUN/leases.json,
 * RUN/state/ADDR.json), not asked of the daemon: they tell the truth while
 * it is stopped too, as the library's lease guard reads them. Both are
 * root's (0600, 0700): for anyone else they are unknown (null).
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli.h"
#include "print.h"
#include "wire.h"

static json_object *leases;	/* RUN/leases.json's "leases", once per command */
static bool leases_read;
static char **saved;		/* the names in RUN/state/, sorted, once per command */
static size_t n_saved;
static bool saved_read;
bool inuse_holders = true;

static json_object *file_json(const char *path)
{
	/* json-c says nothing on a missing file but a line on stderr */
	FILE *f = fopen(path, "re");
	json_object *o = NULL;

	if (f) {
		fclose(f);
		o = json_object_from_file(path);
	}
	return o;
}

/* The lease file's entry for addr, NULL when none (or unreadable). */
static json_object *lease_of(struct vfctl_ctx *ctx, const char *addr)
{
	json_object *a;

	if (!leases_read) {
		char path[1024];

		leases_read = true;
		snprintf(path, sizeof(path), "%s/leases.json", vfctl_run_dir_path(ctx));
		leases = file_json(path);
	}
	if (!leases || !json_object_object_get_ex(leases, "leases", &a) ||
	    !json_object_is_type(a, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *l = json_object_array_get_idx(a, i);
		const char *vf = vfctl_json_str(l, "vf");

		if (vf && !strcmp(vf, addr))
			return l;
	}
	return NULL;
}

bool inuse_leased(struct vfctl_ctx *ctx, const struct vfctl_func *f)
{
	return lease_of(ctx, f->addr) != NULL;
}

void inuse_free(void)
{
	json_object_put(leases);
	leases = NULL;
	leases_read = false;
	for (size_t i = 0; i < n_saved; i++)
		free(saved[i]);
	free(saved);
	saved = NULL;
	n_saved = 0;
	saved_read = false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether RUN/state/ holds ADDR.json: one readdir per command, not a failed
 * open (two, with the saved state's own) for each function listed. A
 * directory we cannot read holds nothing we could read either. */
static bool saved_listed(struct vfctl_ctx *ctx, const char *addr)
{
	char name[64], *key = name;

	if (!saved_read) {
		char path[1024];
		struct dirent *de;
		size_t cap = 0;
		DIR *d;

		saved_read = true;
		snprintf(path, sizeof(path), "%s/state", vfctl_run_dir_path(ctx));
		d = opendir(path);
		while (d && (de = readdir(d))) {
			char *dot = strrchr(de->d_name, '.');

			if (de->d_name[0] == '.' || !dot || strcmp(dot, ".json"))
				continue;
			if (n_saved == cap) {
				char **v = realloc(saved, (cap = cap ? cap * 2 : 16) * sizeof(*v));

				if (!v)
					break;
				saved = v;
			}
			if (!(saved[n_saved] = strdup(de->d_name)))
				break;
			n_saved++;
		}
		if (d)
			closedir(d);
		if (n_saved > 1)
			qsort(saved, n_saved, sizeof(*saved), cmp_str);
	}
	snprintf(name, sizeof(name), "%s.json", addr);
	return n_saved && bsearch(&key, saved, n_saved, sizeof(*saved), cmp_str);
}

/* "pid 42 (qemu), pid 43 (vfkvm)" (vfctl_vfio_holders()) as objects. */
static void print_holders(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *indent)
{
	char who[1024], node[32];
	const char *p = who;
	int n;

	if (!inuse_holders) {
		pr_null("holders", NULL);	/* not looked at */
		return;
	}
	if (!f->driver || !vfctl_driver_is_vfio(f->driver) || f->iommu_group < 0) {
		pr_arr_begin("holders");	/* only a VFIO driver gives a node to hold */
		pr_arr_end();
		return;
	}
	n = vfctl_vfio_holders(ctx, f->iommu_group, who, sizeof(who));
	if (n < 0) {
		/* no node: nobody can hold it; else unknown (not root, no /proc) */
		if (n == -ENOENT) {
			pr_arr_begin("holders");
			pr_arr_end();
		} else {
			pr_null("holders", NULL);
		}
		return;
	}
	snprintf(node, sizeof(node), "/dev/vfio/%d", f->iommu_group);
	pr_arr_begin("holders");
	for (int i = 0; i < n && !strncmp(p, "pid ", 4); i++) {
		char *end, comm[64];
		long pid = strtol(p + 4, &end, 10);
		/* a command may hold ", " or ")": the next entry starts ", pid " */
		const char *next = strstr(end, "), pid ");
		size_t len;

		if (strncmp(end, " (", 2))
			break;
		len = next ? (size_t)(next - end - 2) : strlen(end + 2) - 1;
		snprintf(comm, sizeof(comm), "%.*s", (int)len, end + 2);
		pr_obj_begin(NULL);
		pr_text(i ? "" : "\n%s", indent);
		pr_int("pid", i ? ", pid %lld" : "held by pid %lld", pid);
		pr_str("command", " (%s)", comm);
		pr_str("node", i + 1 == n ? " on %s" : NULL, node);
		pr_obj_end();
		p = next ? next + 3 : "";
	}
	pr_arr_end();
}

static void print_lease(struct vfctl_ctx *ctx, const struct vfctl_func *f)
{
	json_object *l = lease_of(ctx, f->addr);
	int64_t uid = -1, created = 0;
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024], when[64] = "?";

	if (!l) {
		pr_null("lease", NULL);
		return;
	}
	vfctl_json_int(l, "uid", &uid);
	vfctl_json_int(l, "created", &created);
	if (uid >= 0)
		getpwuid_r((uid_t)uid, &pw, pwbuf, sizeof(pwbuf), &pwp);
	if (created > 0) {
		time_t t = (time_t)created;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
	}
	pr_obj_begin("lease");
	pr_str("id", "lease %s", vfctl_json_str(l, "id"));
	pr_str("state", " (%s)", vfctl_json_str(l, "state"));
	pr_str("pool", ", pool %s", vfctl_json_str(l, "pool"));
	if (uid >= 0)
		pr_int("uid", ", uid %lld", uid);
	else
		pr_null("uid", NULL);
	pr_str("user", pwp ? " (%s)" : NULL, pwp ? pwp->pw_name : NULL);
	pr_str("owner", vfctl_json_str(l, "owner") ? ", owner %s" : NULL,
	       vfctl_json_str(l, "owner"));
	pr_int("created", NULL, created);
	pr_text(", since %s", when);
	pr_obj_end();
}

/* An on/off the state file keeps as -1/0/1 (enum vfctl_tri). */
static void pr_saved_tri(json_object *vf, const char *key, const char *fmt)
{
	int64_t v = VFCTL_UNKNOWN;

	if (vf)
		vfctl_json_int(vf, key, &v);
	if (v == VFCTL_UNKNOWN)
		pr_null(key, NULL);
	else
		pr_onoff(key, fmt, v == VFCTL_ON);
}

static void print_saved(struct vfctl_ctx *ctx, const struct vfctl_func *f)
{
	char path[1024];
	json_object *o, *vf = NULL, *valid = NULL;
	int64_t vlan = -1;

	snprintf(path, sizeof(path), "%s/state/%s.json", vfctl_run_dir_path(ctx), f->addr);
	o = saved_listed(ctx, f->addr) ? file_json(path) : NULL;
	if (!o) {
		pr_null("saved_state", NULL);
		return;
	}
	/* a VF's settings were saved only when the PF's netlink view was read */
	if (json_object_object_get_ex(o, "vf", &vf) &&
	    (!json_object_object_get_ex(vf, "valid", &valid) || !json_object_get_boolean(valid)))
		vf = NULL;
	pr_obj_begin("saved_state");
	pr_str("driver", "saved: driver %s", vfctl_json_str(o, "driver") ?
	       vfctl_json_str(o, "driver") : "(none)");
	if (!vfctl_json_str(o, "driver"))
		pr_null("driver", NULL);
	pr_str("driver_override", vfctl_json_str(o, "driver_override") ? ", override %s" : NULL,
	       vfctl_json_str(o, "driver_override"));
	pr_str("mac", vf ? ", mac %s" : NULL, vf ? vfctl_json_str(vf, "mac") : NULL);
	if (vf && vfctl_json_int(vf, "vlan", &vlan))
		pr_int("vlan", ", vlan %lld", vlan);
	else
		pr_null("vlan", NULL);
	pr_saved_tri(vf, "spoofchk", ", spoofchk %s");
	pr_saved_tri(vf, "trust", ", trust %s");
	pr_obj_end();
	json_object_put(o);
}

void print_inuse(struct vfctl_ctx *ctx, const struct vfctl_func *f, const char *indent)
{
	char path[1024];
	FILE *st;

	/* each on its own line of text, only when there is something to tell */
	print_holders(ctx, f, indent);
	if (lease_of(ctx, f->addr))
		pr_text("\n%s", indent);
	print_lease(ctx, f);
	snprintf(path, sizeof(path), "%s/state/%s.json", vfctl_run_dir_path(ctx), f->addr);
	st = saved_listed(ctx, f->addr) ? fopen(path, "re") : NULL;
	if (st) {
		fclose(st);
		pr_text("\n%s", indent);
	}
	print_saved(ctx, f);
}
