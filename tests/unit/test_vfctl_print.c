// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl's JSON printer (src/vfctl/print.c) writes its documents itself in
 * json-c's pretty layout: each document here is built twice, through the
 * pr_*() calls and as json-c objects, and the two texts must be the same
 * bytes (empty objects and arrays, nesting, escapes, a key given twice,
 * the numbers' extremes).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "print.h"

/* What pr_finish() writes to stdout, in a buffer the caller frees. */
static char *printed(void (*build)(void))
{
	char path[] = "/tmp/vfctl-print-XXXXXX", *s = NULL;
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	FILE *f;
	long n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	assert_true(dup2(fd, STDOUT_FILENO) >= 0);
	pr_init(true);
	build();
	assert_int_equal(pr_finish(), 0);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return s;
}

/* json-c's text of o, as vfctl printed it through json-c: with a newline */
static void assert_json_c(const char *got, json_object *o)
{
	const char *want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(want);

	assert_int_equal(strlen(got), n + 1);
	assert_memory_equal(got, want, n);
	assert_int_equal(got[n], '\n');
	json_object_put(o);
}

static void build_doc(void)
{
	pr_obj_begin(NULL);
	pr_str("s", NULL, "a \"q\" \\ / \b\f\n\r\t \x01\x1f\x7f caf\xc3\xa9");
	pr_str("n", NULL, NULL);
	pr_int("min", NULL, LLONG_MIN);
	pr_int("max", NULL, LLONG_MAX);
	pr_uint("umax", NULL, ULLONG_MAX);
	pr_bool("t", NULL, true);
	pr_onoff("f", NULL, false);
	pr_null("z", NULL);
	pr_obj_begin("empty_obj");
	pr_obj_end();
	pr_arr_begin("empty_arr");
	pr_arr_end();
	pr_arr_begin("arr");
	pr_int(NULL, NULL, 1);
	pr_null(NULL, NULL);
	pr_obj_begin(NULL);
	pr_str("k", NULL, "v");
	pr_arr_begin("inner");
	pr_arr_begin(NULL);
	pr_arr_end();
	pr_obj_begin(NULL);
	pr_obj_end();
	pr_arr_end();
	pr_obj_end();
	pr_arr_end();
	/* given twice: the first place, the last value (print_saved's "driver") */
	pr_str("driver", NULL, "(none)");
	pr_str("after", NULL, "x");
	pr_null("driver", NULL);
	pr_obj_begin("o");
	pr_int("a", NULL, 1);
	pr_obj_end();
	pr_obj_begin("o");
	pr_int("b", NULL, 2);
	pr_obj_end();
	pr_obj_end();
}

static void same_bytes_as_json_c(void **state)
{
	char *got = printed(build_doc);
	json_object *o = json_object_new_object(), *a, *x, *in;

	(void)state;
	json_object_object_add(o, "schema", json_object_new_int(PR_SCHEMA));
	json_object_object_add(o, "s", json_object_new_string("a \"q\" \\ / \b\f\n\r\t \x01\x1f\x7f "
								"caf\xc3\xa9"));
	json_object_object_add(o, "n", NULL);
	json_object_object_add(o, "min", json_object_new_int64(LLONG_MIN));
	json_object_object_add(o, "max", json_object_new_int64(LLONG_MAX));
	json_object_object_add(o, "umax", json_object_new_uint64(ULLONG_MAX));
	json_object_object_add(o, "t", json_object_new_boolean(true));
	json_object_object_add(o, "f", json_object_new_boolean(false));
	json_object_object_add(o, "z", NULL);
	json_object_object_add(o, "empty_obj", json_object_new_object());
	json_object_object_add(o, "empty_arr", json_object_new_array());
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_int64(1));
	json_object_array_add(a, NULL);
	x = json_object_new_object();
	json_object_object_add(x, "k", json_object_new_string("v"));
	in = json_object_new_array();
	json_object_array_add(in, json_object_new_array());
	json_object_array_add(in, json_object_new_object());
	json_object_object_add(x, "inner", in);
	json_object_array_add(a, x);
	json_object_object_add(o, "arr", a);
	json_object_object_add(o, "driver", json_object_new_string("(none)"));
	json_object_object_add(o, "after", json_object_new_string("x"));
	json_object_object_add(o, "driver", NULL);
	x = json_object_new_object();
	json_object_object_add(x, "a", json_object_new_int64(1));
	json_object_object_add(o, "o", x);
	x = json_object_new_object();
	json_object_object_add(x, "b", json_object_new_int64(2));
	json_object_object_add(o, "o", x);
	assert_json_c(got, o);
	free(got);
}

static void build_array_root(void)
{
	pr_arr_begin(NULL);
	pr_str(NULL, NULL, "x");
	pr_arr_end();
}

static void build_null_root(void)
{
	pr_null(NULL, NULL);
}

/* an array document has no "schema"; a null one prints nothing */
static void roots(void **state)
{
	char *got = printed(build_array_root);
	json_object *a = json_object_new_array();

	(void)state;
	json_object_array_add(a, json_object_new_string("x"));
	assert_json_c(got, a);
	free(got);
	got = printed(build_null_root);
	assert_string_equal(got, "");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_bytes_as_json_c),
		cmocka_unit_test(roots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
