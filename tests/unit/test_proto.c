// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vfctld request parser (src/shared/proto.c): each op with its keys
 * parses to what it says; malformed, truncated, oversized and ill-typed
 * requests are refused with the reason, and leave the output untouched;
 * every request libvfctl's client builds is taken with the values it meant.
 * A key given twice, or holding a NUL, is refused (json-c would take the
 * last or cut it); no refusal echoes bytes that are not valid UTF-8.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "internal.h"
#include "proto.h"

static int parse(const char *s, struct proto_request *req, char *err, size_t len)
{
	return proto_request_parse(s, strlen(s), req, err, len);
}

static void good_requests(void **state)
{
	struct proto_request r;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"op\":\"list\"}", &r, err, sizeof(err)), 0);
	assert_int_equal(r.op, PROTO_LIST);
	assert_int_equal(parse(" {\"op\": \"leases\"}\n", &r, err, sizeof(err)), 0);
	assert_int_equal(r.op, PROTO_LEASES);

	assert_int_equal(parse("{\"op\":\"alloc\",\"pool\":\"gpu\",\"numa\":1,\"pf\":\"03:00.0\","
			       "\"owner\":\"vm 7\",\"pid\":42,\"ttl\":600}", &r, err, sizeof(err)),
			 0);
	assert_int_equal(r.op, PROTO_ALLOC);
	assert_string_equal(r.pool, "gpu");
	assert_int_equal(r.numa, 1);
	assert_string_equal(r.pf, "03:00.0");
	assert_string_equal(r.owner, "vm 7");
	assert_int_equal(r.pid, 42);
	assert_int_equal(r.ttl, 600);

	assert_int_equal(parse("{\"op\":\"alloc\",\"pool\":\"p\",\"pf\":\"enp3s0f0\"}", &r, err,
			       sizeof(err)), 0);
	assert_int_equal(r.numa, -1);
	assert_int_equal(r.pid, 0);
	assert_int_equal(r.ttl, 0);
	assert_string_equal(r.owner, "");

	assert_int_equal(parse("{\"op\":\"release\",\"lease\":\"L12\",\"force\":true}", &r, err,
			       sizeof(err)), 0);
	assert_string_equal(r.lease, "L12");
	assert_true(r.force);
	assert_int_equal(parse("{\"op\":\"release\",\"vf\":\"03:10.2\"}", &r, err, sizeof(err)), 0);
	assert_string_equal(r.vf, "0000:03:10.2");
	assert_int_equal(parse("{\"op\":\"open\",\"lease\":\"L1\"}", &r, err, sizeof(err)), 0);
	assert_int_equal(r.op, PROTO_OPEN);
}

/* text (the client's, freed here) parses to exactly want */
static void parses_to(char *text, const struct proto_request *want)
{
	struct proto_request got;
	char err[256] = "";

	if (proto_request_parse(text, strlen(text), &got, err, sizeof(err)) < 0)
		fail_msg("the daemon refuses the client's request %s: %s", text, err);
	assert_memory_equal(&got, want, sizeof(got));
	free(text);
}

/* Every request libvfctl's client builds (lib/client.c) is one the daemon's
 * parser takes, meaning what the client meant. */
static void client_requests(void **state)
{
	struct vfctl_alloc_req full = { .size = sizeof(full), .pool = "tenant-a",
					.flags = VFCTL_ALLOC_NUMA, .numa = 0, .pf = "03:00.0",
					.owner = "vm\"1\\ /x", .pid = 99, .ttl = 3600 };
	struct vfctl_alloc_req some = { .size = sizeof(some), .pool = "p", .numa = 5,
					.pf = "enp3s0f0" };
	char *s;

	(void)state;
	assert_int_equal(vfctl_client_req_plain("list", &s), 0);
	parses_to(s, &(struct proto_request){ .op = PROTO_LIST, .numa = -1 });
	assert_int_equal(vfctl_client_req_plain("leases", &s), 0);
	parses_to(s, &(struct proto_request){ .op = PROTO_LEASES, .numa = -1 });

	assert_int_equal(vfctl_client_req_alloc(&full, &s), 0);
	parses_to(s, &(struct proto_request){ .op = PROTO_ALLOC, .pool = "tenant-a", .numa = 0,
					      .pf = "03:00.0", .owner = "vm\"1\\ /x", .pid = 99,
					      .ttl = 3600 });
	/* numa without VFCTL_ALLOC_NUMA is not sent: any node */
	assert_int_equal(vfctl_client_req_alloc(&some, &s), 0);
	parses_to(s, &(struct proto_request){ .op = PROTO_ALLOC, .pool = "p", .numa = -1,
					      .pf = "enp3s0f0" });
	some.pool = NULL;
	assert_int_equal(vfctl_client_req_alloc(&some, &s), -EINVAL);
	some.pool = "";
	assert_int_equal(vfctl_client_req_alloc(&some, &s), -EINVAL);

	assert_int_equal(vfctl_client_req_release("L12", 0, &s), 0);
	parses_to(s, &(struct proto_request){ .op = PROTO_RELEASE, .numa = -1, .lease = "L12" });
	/* a VF's address goes in its full form */
	assert_int_equal(vfctl_client_req_release("03:10.2", VFCTL_RELEASE_FORCE, &s), 0);
	parses_to(s, &(struct proto_request){ .op = PROTO_RELEASE, .numa = -1,
					      .vf = "0000:03:10.2", .force = true });
	assert_int_equal(vfctl_client_req_release("L0", 0, &s), -EINVAL);
	assert_int_equal(vfctl_client_req_release("03:10.8", 0, &s), -EINVAL);
	assert_int_equal(vfctl_client_req_release(NULL, 0, &s), -EINVAL);

	assert_int_equal(vfctl_client_req_open("L3", &s), 0);
	parses_to(s, &(struct proto_request){ .op = PROTO_OPEN, .numa = -1, .lease = "L3" });
	assert_int_equal(vfctl_client_req_open("3", &s), -EINVAL);
	assert_int_equal(vfctl_client_req_open(NULL, &s), -EINVAL);
}

struct bad {
	const char *req;
	int err;
	const char *msg;
};

static void bad_requests(void **state)
{
	static const struct bad cases[] = {
		{ "", -EBADMSG, "empty request" },
		{ "{\"op\":\"list\"", -EBADMSG, "truncated request" },
		{ "{\"op\":\"alloc\",\"pool\":\"p", -EBADMSG, "truncated request" },
		{ "{op:list}", -EBADMSG, "not valid JSON" },
		{ "{\"op\":\"list\",}", -EBADMSG, "not valid JSON" },
		{ "{\"op\":\"list\"} {}", -EBADMSG, "not valid JSON at byte 14" },
		{ "[\"list\"]", -EINVAL, "expected a JSON object" },
		{ "\"list\"", -EINVAL, "expected a JSON object" },
		{ "null", -EINVAL, "expected a JSON object" },
		{ "{}", -EINVAL, "\"op\" missing" },
		{ "{\"op\":1}", -EINVAL, "\"op\" missing or not a string" },
		{ "{\"op\":\"format-disk\"}", -EINVAL, "unknown request 'format-disk'" },
		{ "{\"op\":\"list\",\"pool\":\"p\"}", -EINVAL, "\"pool\": not a key of list requests" },
		{ "{\"op\":\"alloc\"}", -EINVAL, "alloc needs \"pool\"" },
		{ "{\"op\":\"alloc\",\"pool\":\"\"}", -EINVAL, "\"pool\": empty" },
		{ "{\"op\":\"alloc\",\"pool\":7}", -EINVAL, "\"pool\": expected a string" },
		{ "{\"op\":\"alloc\",\"pool\":\"a\\u0000b\"}", -EINVAL, "a NUL character" },
		{ "{\"op\":\"alloc\",\"pool\":\"a\\nb\"}", -EINVAL, "not printable" },
		{ "{\"op\":\"alloc\",\"pool\":\"p\",\"numa\":-1}", -EINVAL, "\"numa\": out of range" },
		{ "{\"op\":\"alloc\",\"pool\":\"p\",\"numa\":1.5}", -EINVAL, "\"numa\": expected an integer" },
		{ "{\"op\":\"alloc\",\"pool\":\"p\",\"pid\":99999999999999999999}", -EINVAL, "\"pid\": out of range" },
		{ "{\"op\":\"alloc\",\"pool\":\"p\",\"pid\":0}", -EINVAL, "\"pid\": out of range" },
		{ "{\"op\":\"alloc\",\"pool\":\"p\",\"ttl\":0}", -EINVAL, "\"ttl\": out of range" },
		{ "{\"op\":\"alloc\",\"pool\":\"p\",\"ttl\":31622401}", -EINVAL, "\"ttl\": out of range" },
		{ "{\"op\":\"list\",\"ttl\":5}", -EINVAL, "\"ttl\": not a key of list requests" },
		{ "{\"op\":\"alloc\",\"pool\":\"p\",\"pf\":\"../../x\"}", -EINVAL, "neither a PCI address" },
		{ "{\"op\":\"open\"}", -EINVAL, "open needs \"lease\"" },
		{ "{\"op\":\"open\",\"lease\":\"L0\"}", -EINVAL, "not a lease id" },
		{ "{\"op\":\"open\",\"lease\":\"L1x\"}", -EINVAL, "not a lease id" },
		{ "{\"op\":\"open\",\"lease\":\"L123456789012345678901\"}", -EINVAL, "not a lease id" },
		{ "{\"op\":\"release\"}", -EINVAL, "exactly one of" },
		{ "{\"op\":\"release\",\"lease\":\"L1\",\"vf\":\"03:10.0\"}", -EINVAL, "exactly one of" },
		{ "{\"op\":\"release\",\"vf\":\"03:10.8\"}", -EINVAL, "\"vf\": '03:10.8' is not a PCI address" },
		{ "{\"op\":\"release\",\"lease\":\"L1\",\"force\":1}", -EINVAL, "\"force\": expected true" },
		{ "{\"op\":\"list\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		  -EBADMSG, "not valid JSON" },
	};
	struct proto_request r;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0x5a, sizeof(r));
		err[0] = '\0';
		int ret = proto_request_parse(cases[i].req, strlen(cases[i].req), &r, err,
					      sizeof(err));

		if (ret != cases[i].err || !strstr(err, cases[i].msg))
			fail_msg("request %s: got %d '%s', want %d '%s'", cases[i].req, ret, err,
				 cases[i].err, cases[i].msg);
		/* untouched on failure */
		assert_int_equal(((unsigned char *)&r)[0], 0x5a);
		assert_int_equal(((unsigned char *)&r)[sizeof(r) - 1], 0x5a);
	}
}

static void oversized_and_nul(void **state)
{
	char *big = malloc(PROTO_REQ_MAX + 2);
	struct proto_request r;
	char err[256];

	(void)state;
	memset(big, ' ', PROTO_REQ_MAX + 1);
	memcpy(big, "{\"op\":\"list\"}", 13);
	assert_int_equal(proto_request_parse(big, PROTO_REQ_MAX + 1, &r, err, sizeof(err)),
			 -EMSGSIZE);
	assert_non_null(strstr(err, "more than 4096"));
	/* exactly the limit is fine */
	assert_int_equal(proto_request_parse(big, PROTO_REQ_MAX, &r, err, sizeof(err)), 0);
	assert_int_equal(proto_request_parse("{\"op\":\"list\"}\0", 14, &r, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "NUL byte"));
	free(big);
}

static void lease_ids(void **state)
{
	(void)state;
	assert_true(vfctl_lease_id_valid("L1"));
	assert_true(vfctl_lease_id_valid("L18446744073709551615"));
	assert_false(vfctl_lease_id_valid("L"));
	assert_false(vfctl_lease_id_valid("l1"));
	assert_false(vfctl_lease_id_valid("L01"));
	assert_false(vfctl_lease_id_valid("L-1"));
	assert_false(vfctl_lease_id_valid(NULL));
	assert_string_equal(proto_op_name(PROTO_OPEN), "open");
}

/* The refusal of text, and that nothing was written to the request. */
static void refused(const char *text, int want, const char *msg)
{
	struct proto_request r = { .op = PROTO_OPEN, .pool = "untouched" };
	char err[256] = "";

	assert_int_equal(proto_request_parse(text, strlen(text), &r, err, sizeof(err)), want);
	if (!strstr(err, msg))
		fail_msg("%s: got '%s', want '%s'", text, err, msg);
	assert_int_equal(r.op, PROTO_OPEN);
	assert_string_equal(r.pool, "untouched");
}

static void duplicate_keys(void **state)
{
	(void)state;
	/* last wins in json-c: this would have been an alloc */
	refused("{\"op\":\"list\",\"op\":\"alloc\",\"pool\":\"gpu\"}", -EINVAL,
		"\"op\": given twice; give each key once");
	refused("{\"op\":\"alloc\",\"pool\":\"a\",\"pool\":\"b\"}", -EINVAL,
		"\"pool\": given twice");
	/* the same key spelled with an escape */
	refused("{\"op\":\"list\",\"o\\u0070\":\"alloc\"}", -EINVAL, "\"op\": given twice");
	/* a NUL in a key: json-c would read "op" */
	refused("{\"op\\u0000x\":\"list\"}", -EINVAL, "a NUL character (\\u0000) in a key");
	/* keys of a nested value are not top-level keys (the value is refused later) */
	refused("{\"op\":\"alloc\",\"pool\":{\"op\":1,\"op\":2}}", -EINVAL,
		"\"pool\": expected a string");
	/* a string value that looks like a key is no key */
	{
		struct proto_request r;
		char err[256];

		assert_int_equal(parse("{\"op\":\"alloc\",\"pool\":\"op\",\"owner\":\"op\"}", &r, err,
				       sizeof(err)), 0);
		assert_string_equal(r.pool, "op");
	}
}

/* Invalid UTF-8 is refused, and no error text carries a byte of it. */
static void invalid_utf8_never_echoed(void **state)
{
	static const char *const bad[] = {
		"{\"op\":\"li\xffst\"}",
		"{\"op\":\"alloc\",\"pool\":\"gpu\",\"b\xc3\x28gus\":1}",
		"{\"op\":\"alloc\",\"pool\":\"gpu\",\"pf\":\"\xed\xa0\x80x\"}",	/* a surrogate */
		"{\"op\":\"alloc\",\"pool\":\"gpu\",\"pf\":\"\xc0\xafx\"}",	/* overlong */
		"{\"\xf8\x88\x80\x80\x80\":1}",
	};
	struct proto_request r;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *o, *back;
		struct json_tokener *tok;

		assert_true(parse(bad[i], &r, err, sizeof(err)) < 0);
		for (const unsigned char *p = (const unsigned char *)err; *p; p++)
			assert_true(*p < 0x80);
		/* the reply a strict decoder reads */
		o = json_object_new_string(err);
		tok = json_tokener_new();
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		back = json_tokener_parse_ex(tok, json_object_to_json_string(o),
					     (int)strlen(json_object_to_json_string(o)));
		assert_non_null(back);
		json_object_put(back);
		json_tokener_free(tok);
		json_object_put(o);
	}
	/* valid UTF-8 in a quoted value is kept, a character cut by %.Ns is not */
	assert_int_equal(parse("{\"op\":\"alloc\",\"pool\":\"gpu\",\"pf\":\"\xc3\xa9th0\"}", &r, err,
			       sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'\xc3\xa9th0' is neither"));
	assert_int_equal(parse("{\"op\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\"}", &r, err,
			       sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?'"));
}

static void utf8_sanitize(void **state)
{
	char s[] = "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad \xff \xc3 \xe0\x80\x80 \xed\xa0\x80 "
		   "\xf4\x90\x80\x80 end\xe2\x82";

	(void)state;
	vfctl_utf8_sanitize(s);
	assert_string_equal(s, "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad ? ? ??? ??? ???? end??");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_requests),
		cmocka_unit_test(client_requests),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(oversized_and_nul),
		cmocka_unit_test(lease_ids),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(invalid_utf8_never_echoed),
		cmocka_unit_test(utf8_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
