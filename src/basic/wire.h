/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfctld wire format's limits and lease id syntax, and JSON field
 * readers: one definition for libvfctl's client, the daemon's parser
 * (src/shared/proto.c) and the saved-state and lease files.
 */
#ifndef VFCTL_WIRE_H
#define VFCTL_WIRE_H

#include <stdbool.h>
#include <stdint.h>

/* A request larger than this is refused unread (the reply says so). */
#define PROTO_REQ_MAX 4096
/* Replies: a full leases list of 4 PFs x 63 VFs fits with room to spare. */
#define PROTO_REPLY_MAX (256 * 1024)
#define PROTO_NAME_MAX 64	/* pool names, owner tags */
#define PROTO_LEASE_MAX 24	/* "L" and up to 20 digits */
#define PROTO_TTL_MAX (366 * 86400)	/* a lease's time to live, seconds */
/* open sends at most: container, group, iommufd, device cdev */
#define PROTO_MAX_FDS 4

struct json_object;
/* A field of a JSON object the project wrote (replies, saved state, the
 * lease list): the string, NULL when missing or not a string; the integer
 * in *ret, false when missing or not an integer (*ret untouched). */
const char *vfctl_json_str(struct json_object *o, const char *k);
bool vfctl_json_int(struct json_object *o, const char *k, int64_t *ret);

/* A lease id as the daemon makes them: "L" and 1-20 digits, no leading 0. */
bool vfctl_lease_id_valid(const char *s);

/* Replace each byte of s that is not part of valid UTF-8 (RFC 3629: no
 * overlong forms, surrogates or a sequence cut short) by '?', in place: a
 * message echoing what a client sent stays valid JSON text. */
void vfctl_utf8_sanitize(char *s);

#endif
