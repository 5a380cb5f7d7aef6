// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl alloc / release / leases / pools: requests to vfctld (vfctld(8))
 * through libvfctl's typed client; the replies go through the one printer.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pwd.h>

#include "cli.h"
#include "print.h"
#include "wire.h"

/* --pf: a PCI address or a netdev name */
#define PF_ARG_MAX (VFCTL_ADDR_LEN > VFCTL_IFNAME_LEN ? VFCTL_ADDR_LEN : VFCTL_IFNAME_LEN)

/* An integer the daemon may report as unknown (JSON null, no text). */
static void pr_known_int(const char *key, const char *fmt, bool known, long long v)
{
	if (known)
		pr_int(key, fmt, v);
	else
		pr_null(key, NULL);
}

/* One lease, one line: "L3  0000:01:10.2  VF 1 of 0000:01:00.0  pool guests ..."
 * (key: "lease" for the one lease of a reply, NULL in the leases array). */
static void print_lease(const char *key, const struct vfctl_lease *l)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024];

	pr_obj_begin(key);
	pr_str("id", "%-5s", l->id);
	pr_str("address", " %s", l->vf);
	pr_int("vf_index", "  VF %lld", l->vf_index);
	pr_str("pf", " of %s", l->pf);
	pr_str("pool", "  pool %s", l->pool);
	pr_known_int("iommu_group", "  group %lld", l->group >= 0, l->group);
	/* the name as the operator knows it; the uid where it has none here */
	getpwuid_r((uid_t)l->uid, &pw, pwbuf, sizeof(pwbuf), &pwp);
	pr_int("uid", pwp ? NULL : "  uid %lld", l->uid);
	pr_str("user", pwp ? "  user %s" : NULL, pwp ? pwp->pw_name : NULL);
	pr_str("owner", l->owner ? "  owner %s" : NULL, l->owner);
	pr_known_int("pid", "  pid %lld", l->pid > 0, l->pid);
	pr_int("created", NULL, l->created);
	pr_known_int("ttl", NULL, l->ttl > 0, l->ttl);
	if (l->expires > 0) {
		char when[64];
		time_t t = (time_t)l->expires;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
		pr_int("expires", NULL, l->expires);
		pr_text("  expires %s (ttl %u s)", when, l->ttl);
	} else {
		pr_null("expires", NULL);
	}
	pr_str("state", "  %s", vfctl_lease_state_str(l->state));
	pr_str("pending", l->pending ? " (%s)" : NULL, l->pending);
	pr_text("\n");
	pr_obj_end();
}

/* {"schema": 1, "lease": {...}}, the reply of alloc and release */
static void print_one_lease(const struct vfctl_lease *l)
{
	pr_obj_begin(NULL);
	print_lease("lease", l);
	pr_obj_end();
}

struct vfctl_client *connect_daemon(const struct args *a)
{
	struct vfctl_client *c = NULL;
	int r = vfctl_client_connect(a->socket, &c);	/* main() read $VFCTLD_SOCKET */

	if (r < 0) {
		fprintf(stderr, "vfctl: connecting to vfctld at %s: %s; is it running ('systemctl "
			"status vfctld.socket')?\n", a->socket ? a->socket : VFCTL_CLIENT_SOCKET,
			strerror(-r));
		return NULL;
	}
	return c;
}

/* leases, pools: no arguments. The connection, or NULL with *ret the exit code. */
static struct vfctl_client *connect_no_args(const struct args *a, const char *cmd, int *ret)
{
	struct vfctl_client *c = NULL;

	*ret = EXIT_UNREACHABLE;
	if (a->argc) {
		fprintf(stderr, "vfctl %s: unexpected argument '%s'\n", cmd, a->argv[0]);
		*ret = EXIT_USAGE;
	} else {
		c = connect_daemon(a);
	}
	return c;
}

/* After a request: the exit code, the error printed, the connection closed. */
static int done(struct vfctl_client *c, const char *op, int r)
{
	if (r < 0)
		fprintf(stderr, "vfctl: %s: %s\n", op, vfctl_client_error(c));
	vfctl_client_free(c);
	return r < 0 ? r : EXIT_OK;
}

int cmd_alloc(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	const char *pf = a->n_pfs ? a->pfs[0] : NULL;
	struct vfctl_alloc_req req = { .size = sizeof(req), .pool = a->pool, .pf = pf,
				       .owner = a->owner, .numa = a->numa, .pid = a->pid,
				       .ttl = a->ttl };
	struct vfctl_lease *l = NULL;
	struct vfctl_client *c;
	int r;

	if (a->argc || !a->pool || a->n_pfs > 1) {
		fprintf(stderr, "vfctl alloc: expected --pool POOL [--numa N] [--pf DEV] "
			"[--owner TAG] [--pid PID] [--ttl DURATION]\n");
		return EXIT_USAGE;
	}
	if (strlen(a->pool) > PROTO_NAME_MAX || (pf && strlen(pf) >= PF_ARG_MAX) ||
	    (a->owner && strlen(a->owner) > PROTO_NAME_MAX)) {
		fprintf(stderr, "vfctl alloc: --pool and --owner take at most %d characters, --pf "
			"a PCI address or netdev name\n", PROTO_NAME_MAX);
		return EXIT_USAGE;
	}
	if (a->numa >= 0)
		req.flags |= VFCTL_ALLOC_NUMA;
	c = connect_daemon(a);
	if (!c)
		return EXIT_UNREACHABLE;
	r = vfctl_client_alloc(c, &req, &l);
	if (r == 0)
		print_one_lease(l);
	vfctl_lease_free(l);
	return done(c, "alloc", r);
}

int cmd_release(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct vfctl_lease *l = NULL;
	struct vfctl_client *c;
	char addr[VFCTL_ADDR_LEN];
	int r;

	if (a->argc != 1) {
		fprintf(stderr, "vfctl release: expected LEASE (as L3) or the VF's PCI address\n");
		return EXIT_USAGE;
	}
	if (!vfctl_lease_id_valid(a->argv[0]) && vfctl_addr_parse(a->argv[0], addr) < 0) {
		fprintf(stderr, "vfctl release: '%s' is neither a lease id (L3) nor a PCI address\n",
			a->argv[0]);
		return EXIT_USAGE;
	}
	c = connect_daemon(a);
	if (!c)
		return EXIT_UNREACHABLE;
	r = vfctl_client_release(c, a->argv[0], a->force ? VFCTL_RELEASE_FORCE : 0, &l);
	if (r == 0)
		print_one_lease(l);
	vfctl_lease_free(l);
	return done(c, "release", r);
}

int cmd_leases(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct vfctl_lease **v = NULL;
	struct vfctl_client *c;
	size_t n = 0;
	int r;

	c = connect_no_args(a, "leases", &r);
	if (!c)
		return r;
	r = vfctl_client_leases(c, &v, &n);
	if (r == 0) {
		pr_obj_begin(NULL);
		pr_arr_begin("leases");
		for (size_t i = 0; i < n; i++)
			print_lease(NULL, v[i]);
		pr_arr_end();
		if (!n)
			pr_text("No leases.\n");
		pr_obj_end();
	}
	vfctl_lease_list_free(v);
	return done(c, "leases", r);
}

static void print_pool(const struct vfctl_pool *p)
{
	size_t n_there = 0;

	for (size_t k = 0; k < p->n_vfs; k++)
		n_there += p->vfs[k]->address != NULL;
	pr_obj_begin(NULL);
	pr_str("name", "pool %s", p->name);
	pr_str("pf", " on %s", p->pf);
	/* not "0 free, you may allocate: yes": there is nothing to allocate yet */
	if (p->pf && !p->error && !n_there) {
		pr_int("free", NULL, p->n_free);
		pr_bool("allowed", NULL, p->allowed);
		pr_text(": the PF has 0 VFs; run 'vfctl apply'");
	} else {
		pr_int("free", ": %lld free", p->n_free);
		pr_text(" of %zu", p->n_vfs);
		pr_bool("allowed", ", you may allocate: %s", p->allowed);
	}
	pr_str("error", p->error ? " (%s)" : NULL, p->error);
	pr_text("\n");
	if (p->n_vfs)
		pr_text("  %-3s %-13s %-5s %-12s %s\n", "VF", "ADDRESS", "NUMA", "DRIVER", "LEASE");
	pr_arr_begin("vfs");
	for (size_t k = 0; k < p->n_vfs; k++) {
		const struct vfctl_pool_vf *vf = p->vfs[k];

		pr_obj_begin(NULL);
		pr_int("vf_index", "  %-3lld", vf->index);
		pr_str("address", " %-13s", vf->address);
		pr_known_int("numa_node", " %-5lld", vf->numa_node >= 0, vf->numa_node);
		pr_text(vf->numa_node >= 0 ? "" : " %-5s", "-");
		pr_str("driver", " %-12s", vf->driver);
		pr_str("lease_id", vf->lease ? " %s" : NULL, vf->lease);
		pr_text(vf->lease ? "" : " free");
		pr_text("\n");
		pr_obj_end();
	}
	pr_arr_end();
	pr_obj_end();
}

int cmd_pools(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct vfctl_pool **v = NULL;
	struct vfctl_client *c;
	size_t n = 0;
	int r;

	c = connect_no_args(a, "pools", &r);
	if (!c)
		return r;
	r = vfctl_client_pools(c, &v, &n);
	if (r == 0) {
		pr_obj_begin(NULL);
		pr_arr_begin("pools");
		for (size_t i = 0; i < n; i++)
			print_pool(v[i]);
		pr_arr_end();
		pr_obj_end();
	}
	vfctl_pool_list_free(v);
	return done(c, "list", r);	/* the daemon's request for this is "list" */
}
