// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for vfctld's request parser (lib/proto.c): any bytes
 * the socket can deliver, up to past the size limit. A parsed request must
 * format back to text that parses to the same request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req, again;
	char err[512], *text = NULL;

	if (proto_request_parse((const char *)data, size, &req, err, sizeof(err)) < 0)
		return 0;
	if (proto_request_format(&req, &text) < 0)
		return 0;
	if (proto_request_parse(text, strlen(text), &again, err, sizeof(err)) < 0 ||
	    memcmp(&req, &again, sizeof(req)))
		abort();	/* what the client sends must mean what it meant */
	free(text);
	return 0;
}
