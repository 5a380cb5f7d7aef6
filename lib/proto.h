/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfctld protocol (vfctld(8)): one JSON object per SOCK_SEQPACKET
 * message. The daemon, the client side (lib/client.c), the unit tests and
 * the fuzzer share this parser, so there is one definition of a valid
 * request.
 */
#ifndef VFCTL_PROTO_H
#define VFCTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfctl.h"

/* A request larger than this is refused unread (the reply says so). */
#define PROTO_REQ_MAX 4096
/* Replies: a full leases list of 4 PFs x 63 VFs fits with room to spare. */
#define PROTO_REPLY_MAX (256 * 1024)
#define PROTO_NAME_MAX 64	/* pool names, owner tags */
#define PROTO_LEASE_MAX 24	/* "L" and up to 20 digits */
/* open sends at most: container, group, iommufd, device cdev */
#define PROTO_MAX_FDS 4

struct json_object;
/* A field of a JSON object the project wrote (replies, saved state, the
 * lease list): the string, NULL when missing or not a string; the integer
 * in *ret, false when missing or not an integer (*ret untouched). */
const char *proto_json_str(struct json_object *o, const char *k);
bool proto_json_int(struct json_object *o, const char *k, int64_t *ret);

enum proto_op { PROTO_LIST, PROTO_ALLOC, PROTO_RELEASE, PROTO_LEASES, PROTO_OPEN };

struct proto_request {
	enum proto_op op;
	char pool[PROTO_NAME_MAX + 1];	/* alloc: required */
	int numa;			/* alloc: -1 any */
	char pf[VFCTL_ADDR_LEN > VFCTL_IFNAME_LEN ? VFCTL_ADDR_LEN : VFCTL_IFNAME_LEN];
					/* alloc: "" any; a PCI address or netdev */
	char owner[PROTO_NAME_MAX + 1];	/* alloc: free-form tag, "" none */
	int pid;			/* alloc: owner process, 0 none */
	char lease[PROTO_LEASE_MAX + 1];	/* release, open: lease id ... */
	char vf[VFCTL_ADDR_LEN];	/* ... or release: the VF's address */
	bool force;			/* release: revoke even while held */
};

const char *proto_op_name(enum proto_op op);
/* A lease id as the daemon makes them: "L" and 1-20 digits, no leading 0. */
bool proto_lease_id_valid(const char *s);
/* Parse one request from buf (not NUL-terminated, len bytes). 0, or
 * -EINVAL / -EMSGSIZE / -EBADMSG with the reason in err. *ret is written
 * only on success. */
int proto_request_parse(const char *buf, size_t len, struct proto_request *ret, char *err,
			size_t errlen);
/* The request's JSON text (malloc'd), what the client sends. */
int proto_request_format(const struct proto_request *req, char **ret);

#endif
