// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl alloc / release / leases / pools: requests to vfctld (vfctld(8))
 * through libvfctl's client; the replies go through the one printer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "print.h"
#include "proto.h"

static void pr_jint(json_object *o, const char *k, const char *fmt)
{
	int64_t v;

	if (vfctl_json_int(o, k, &v))
		pr_int(k, fmt, v);
	else
		pr_null(k, NULL);
}

/* One lease, one line: "L3  0000:01:10.2  VF 1 of 0000:01:00.0  pool guests ..." */
static void print_lease(json_object *l)
{
	pr_obj_begin(NULL);
	pr_str("id", "%-5s", vfctl_json_str(l, "id"));
	pr_str("vf", " %s", vfctl_json_str(l, "vf"));
	pr_jint(l, "vf_index", "  VF %lld");
	pr_str("pf", " of %s", vfctl_json_str(l, "pf"));
	pr_str("pool", "  pool %s", vfctl_json_str(l, "pool"));
	pr_jint(l, "group", "  group %lld");
	pr_jint(l, "uid", "  uid %lld");
	pr_str("owner", vfctl_json_str(l, "owner") ? "  owner %s" : NULL, vfctl_json_str(l, "owner"));
	pr_jint(l, "pid", "  pid %lld");
	pr_jint(l, "created", NULL);
	pr_str("state", "  %s", vfctl_json_str(l, "state"));
	pr_str("pending", vfctl_json_str(l, "pending") ? " (%s)" : NULL, vfctl_json_str(l, "pending"));
	pr_text("\n");
	pr_obj_end();
}

/* Send req; on success *ret is the parsed reply. Errors are printed. */
static int call(const struct args *a, const struct proto_request *req, json_object **ret)
{
	struct vfctl_client *c = NULL;
	char *text = NULL, *reply = NULL;
	const char *path = a->socket;
	int r;

	r = proto_request_format(req, &text);
	if (r < 0) {
		fprintf(stderr, "vfctl: out of memory\n");
		return EXIT_ERR;
	}
	r = vfctl_client_connect(path, &c);
	if (r < 0) {
		free(text);
		const char *e = getenv("VFCTLD_SOCKET");

		fprintf(stderr, "vfctl: connecting to vfctld at %s: %s; is it running ('systemctl "
			"status vfctld.socket')?\n", path ? path : e && *e ? e : VFCTL_CLIENT_SOCKET,
			strerror(-r));
		return EXIT_ERR;
	}
	r = vfctl_client_call(c, text, &reply, NULL, 0, NULL);
	free(text);
	if (r < 0) {
		free(reply);
		fprintf(stderr, "vfctl: %s: %s\n", proto_op_name(req->op), vfctl_client_error(c));
		vfctl_client_free(c);
		return EXIT_ERR;
	}
	vfctl_client_free(c);
	*ret = json_tokener_parse(reply);
	free(reply);
	return *ret ? EXIT_OK : EXIT_ERR;
}

int cmd_alloc(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct proto_request req = { .op = PROTO_ALLOC, .numa = a->numa, .pid = a->pid };
	json_object *o, *l;
	int ret;

	const char *pf = a->n_pfs ? a->pfs[0] : NULL;

	if (a->argc || !a->pool || a->n_pfs > 1) {
		fprintf(stderr, "vfctl alloc: expected --pool POOL [--numa N] [--pf DEV] "
			"[--owner TAG] [--pid PID]\n");
		return EXIT_USAGE;
	}
	if (strlen(a->pool) >= sizeof(req.pool) || (pf && strlen(pf) >= sizeof(req.pf)) ||
	    (a->owner && strlen(a->owner) >= sizeof(req.owner))) {
		fprintf(stderr, "vfctl alloc: --pool and --owner take at most %d characters, --pf "
			"a PCI address or netdev name\n", PROTO_NAME_MAX);
		return EXIT_USAGE;
	}
	snprintf(req.pool, sizeof(req.pool), "%s", a->pool);
	snprintf(req.pf, sizeof(req.pf), "%s", pf ? pf : "");
	snprintf(req.owner, sizeof(req.owner), "%s", a->owner ? a->owner : "");
	ret = call(a, &req, &o);
	if (ret != EXIT_OK)
		return ret;
	l = json_object_object_get(o, "lease");
	pr_obj_begin(NULL);
	pr_obj_begin("lease");
	print_lease(l);
	pr_obj_end();
	pr_obj_end();
	json_object_put(o);
	return EXIT_OK;
}

int cmd_release(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct proto_request req = { .op = PROTO_RELEASE, .numa = -1, .force = a->force };
	json_object *o;
	int ret;

	if (a->argc != 1) {
		fprintf(stderr, "vfctl release: expected LEASE (as L3) or the VF's PCI address\n");
		return EXIT_USAGE;
	}
	if (vfctl_lease_id_valid(a->argv[0])) {
		snprintf(req.lease, sizeof(req.lease), "%s", a->argv[0]);
	} else if (vfctl_addr_parse(a->argv[0], req.vf) < 0) {
		fprintf(stderr, "vfctl release: '%s' is neither a lease id (L3) nor a PCI address\n",
			a->argv[0]);
		return EXIT_USAGE;
	}
	ret = call(a, &req, &o);
	if (ret != EXIT_OK)
		return ret;
	pr_obj_begin(NULL);
	pr_obj_begin("lease");
	print_lease(json_object_object_get(o, "lease"));
	pr_obj_end();
	pr_obj_end();
	json_object_put(o);
	return EXIT_OK;
}

int cmd_leases(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct proto_request req = { .op = PROTO_LEASES, .numa = -1 };
	json_object *o, *v;
	int ret;

	if (a->argc) {
		fprintf(stderr, "vfctl leases: unexpected argument '%s'\n", a->argv[0]);
		return EXIT_USAGE;
	}
	ret = call(a, &req, &o);
	if (ret != EXIT_OK)
		return ret;
	v = json_object_object_get(o, "leases");
	pr_obj_begin(NULL);
	pr_arr_begin("leases");
	for (size_t i = 0; i < json_object_array_length(v); i++)
		print_lease(json_object_array_get_idx(v, i));
	pr_arr_end();
	if (!json_object_array_length(v))
		pr_text("No leases.\n");
	pr_obj_end();
	json_object_put(o);
	return EXIT_OK;
}

int cmd_pools(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct proto_request req = { .op = PROTO_LIST, .numa = -1 };
	json_object *o, *pools;
	int ret;

	if (a->argc) {
		fprintf(stderr, "vfctl pools: unexpected argument '%s'\n", a->argv[0]);
		return EXIT_USAGE;
	}
	ret = call(a, &req, &o);
	if (ret != EXIT_OK)
		return ret;
	pools = json_object_object_get(o, "pools");
	pr_obj_begin(NULL);
	pr_arr_begin("pools");
	for (size_t i = 0; i < json_object_array_length(pools); i++) {
		json_object *p = json_object_array_get_idx(pools, i), *vfs, *b;

		pr_obj_begin(NULL);
		pr_str("name", "pool %s", vfctl_json_str(p, "name"));
		pr_str("pf", " on %s", vfctl_json_str(p, "pf"));
		pr_jint(p, "free", ": %lld free");
		b = json_object_object_get(p, "allowed");
		pr_bool("allowed", ", you may allocate: %s", json_object_get_boolean(b));
		pr_str("error", vfctl_json_str(p, "error") ? " (%s)" : NULL, vfctl_json_str(p, "error"));
		pr_text("\n");
		vfs = json_object_object_get(p, "vfs");
		pr_arr_begin("vfs");
		for (size_t k = 0; k < json_object_array_length(vfs); k++) {
			json_object *vf = json_object_array_get_idx(vfs, k);

			pr_obj_begin(NULL);
			pr_jint(vf, "index", "  VF %lld");
			pr_str("address", " %s", vfctl_json_str(vf, "address"));
			pr_jint(vf, "numa_node", "  numa %lld");
			pr_str("driver", "  driver %s", vfctl_json_str(vf, "driver"));
			pr_str("lease", "  lease %s", vfctl_json_str(vf, "lease") ? vfctl_json_str(vf, "lease") : NULL);
			pr_text("\n");
			pr_obj_end();
		}
		pr_arr_end();
		pr_obj_end();
	}
	pr_arr_end();
	pr_obj_end();
	json_object_put(o);
	return EXIT_OK;
}
