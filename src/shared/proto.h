/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfctld protocol (vfctld(8)): one JSON object per SOCK_SEQPACKET
 * message. The daemon, the unit tests and the fuzzer share this parser, so
 * there is one definition of a valid request; libvfctl's client
 * (lib/client.c) builds the requests, and test_proto and fuzz_request
 * check this parser takes them.
 */
#ifndef VFCTL_PROTO_H
#define VFCTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfctl.h"
#include "wire.h"

enum proto_op { PROTO_LIST, PROTO_ALLOC, PROTO_RELEASE, PROTO_LEASES, PROTO_OPEN };

struct proto_request {
	enum proto_op op;
	char pool[PROTO_NAME_MAX + 1];	/* alloc: required */
	int numa;			/* alloc: -1 any */
	char pf[VFCTL_ADDR_LEN > VFCTL_IFNAME_LEN ? VFCTL_ADDR_LEN : VFCTL_IFNAME_LEN];
					/* alloc: "" any; a PCI address or netdev */
	char owner[PROTO_NAME_MAX + 1];	/* alloc: free-form tag, "" none */
	int pid;			/* alloc: owner process, 0 none */
	unsigned ttl;			/* alloc: an unused lease's life (s), 0 the pool's */
	char lease[PROTO_LEASE_MAX + 1];	/* release, open: lease id ... */
	char vf[VFCTL_ADDR_LEN];	/* ... or release: the VF's address */
	bool force;			/* release: revoke even while held */
};

const char *proto_op_name(enum proto_op op);
/* Parse one request from buf (not NUL-terminated, len bytes). 0, or
 * -EINVAL / -EMSGSIZE / -EBADMSG with the reason in err. *ret is written
 * only on success. */
int proto_request_parse(const char *buf, size_t len, struct proto_request *ret, char *err,
			size_t errlen);

#endif
