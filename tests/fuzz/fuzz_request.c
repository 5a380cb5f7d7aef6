// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for vfctld's request parser (src/shared/proto.c): any
 * bytes the socket can deliver, up to past the size limit. A parsed request,
 * built again by libvfctl's client (lib/client.c), must parse to the same
 * request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* req as libvfctl's client sends it */
static int client_text(const struct proto_request *req, char **ret)
{
	struct vfctl_alloc_req a = { .size = sizeof(a), .pool = req->pool, .numa = req->numa,
				     .flags = req->numa >= 0 ? VFCTL_ALLOC_NUMA : 0,
				     .pf = req->pf[0] ? req->pf : NULL,
				     .owner = req->owner[0] ? req->owner : NULL, .pid = req->pid };

	switch (req->op) {
	case PROTO_LIST:
	case PROTO_LEASES:
		return vfctl_client_req_plain(proto_op_name(req->op), ret);
	case PROTO_ALLOC:
		return vfctl_client_req_alloc(&a, ret);
	case PROTO_RELEASE:
		return vfctl_client_req_release(req->lease[0] ? req->lease : req->vf,
						req->force ? VFCTL_RELEASE_FORCE : 0, ret);
	case PROTO_OPEN:
		return vfctl_client_req_open(req->lease, ret);
	}
	return -EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req, again;
	char err[512], *text = NULL;

	if (proto_request_parse((const char *)data, size, &req, err, sizeof(err)) < 0)
		return 0;
	if (client_text(&req, &text) < 0)
		abort();	/* the client cannot say what the daemon takes */
	if (proto_request_parse(text, strlen(text), &again, err, sizeof(err)) < 0 ||
	    memcmp(&req, &again, sizeof(req)))
		abort();	/* what the client sends must mean what it meant */
	free(text);
	return 0;
}
