// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for vfctld's request parser (src/shared/proto.c): any
 * bytes the socket can deliver, up to past the size limit. A parsed request,
 * built again by libvfctl's client (lib/client.c), must parse to the same
 * request. A refusal's text, as the daemon replies with it, must be JSON a
 * strict decoder reads (valid UTF-8, whatever bytes the request held).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* req as libvfctl's client sends it */
static int client_text(const struct proto_request *req, char **ret)
{
	struct vfctl_alloc_req a = { .size = sizeof(a), .pool = req->pool, .numa = req->numa,
				     .flags = req->numa >= 0 ? VFCTL_ALLOC_NUMA : 0,
				     .pf = req->pf[0] ? req->pf : NULL,
				     .owner = req->owner[0] ? req->owner : NULL, .pid = req->pid,
				     .ttl = req->ttl };

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

/* err in an error reply, read back by a strict decoder that checks UTF-8 */
static void reply_strict_json(const char *err)
{
	json_object *o = json_object_new_object(), *back;
	struct json_tokener *tok = json_tokener_new();
	const char *s;

	json_object_object_add(o, "message", json_object_new_string(err));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	back = json_tokener_parse_ex(tok, s, (int)strlen(s));
	if (!back || strcmp(json_object_get_string(json_object_object_get(back, "message")), err))
		abort();	/* a reply a strict client cannot read */
	json_object_put(back);
	json_tokener_free(tok);
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req, again;
	char err[512], *text = NULL;

	if (proto_request_parse((const char *)data, size, &req, err, sizeof(err)) < 0) {
		reply_strict_json(err);
		return 0;
	}
	if (client_text(&req, &text) < 0)
		abort();	/* the client cannot say what the daemon takes */
	if (proto_request_parse(text, strlen(text), &again, err, sizeof(err)) < 0 ||
	    memcmp(&req, &again, sizeof(req)))
		abort();	/* what the client sends must mean what it meant */
	free(text);
	return 0;
}
