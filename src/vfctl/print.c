// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "print.h"

#define MAX_DEPTH 16

static bool json_mode;
static bool text_off;	/* pr_text_off(): JSON only */
static json_object *stack[MAX_DEPTH];
static int depth = -1;

void pr_init(bool json)
{
	json_mode = json;
	depth = -1;
}

static void add(const char *key, json_object *o)
{
	if (depth < 0) {
		/* the document root */
		stack[++depth] = o;
		return;
	}
	if (json_object_is_type(stack[depth], json_type_array))
		json_object_array_add(stack[depth], o);
	else	/* keys are literals (print.h): no copy of each one in every object */
		json_object_object_add_ex(stack[depth], key ? key : "?", o,	/* "?": a printer's bug */
					  JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

static void push(const char *key, json_object *o)
{
	if (depth < 0) {
		/* every document says which schema it follows, first */
		if (json_object_is_type(o, json_type_object))
			json_object_object_add(o, "schema", json_object_new_int(PR_SCHEMA));
		stack[++depth] = o;
		return;
	}
	add(key, o);
	if (depth + 1 < MAX_DEPTH)
		stack[++depth] = o;
}

void pr_obj_begin(const char *key)
{
	if (json_mode)
		push(key, json_object_new_object());
}

void pr_arr_begin(const char *key)
{
	if (json_mode)
		push(key, json_object_new_array());
}

void pr_obj_end(void)
{
	if (json_mode && depth > 0)
		depth--;
}

void pr_arr_end(void)
{
	pr_obj_end();
}

void pr_str(const char *key, const char *fmt, const char *v)
{
	if (json_mode)
		add(key, v ? json_object_new_string(v) : NULL);
	else if (fmt && !text_off)
		printf(fmt, v ? v : "-");
}

void pr_int(const char *key, const char *fmt, long long v)
{
	if (json_mode)
		add(key, json_object_new_int64(v));
	else if (fmt && !text_off)
		printf(fmt, v);
}

void pr_uint(const char *key, const char *fmt, unsigned long long v)
{
	if (json_mode)
		add(key, json_object_new_uint64(v));
	else if (fmt && !text_off)
		printf(fmt, v);
}

void pr_bool(const char *key, const char *fmt, bool v)
{
	if (json_mode)
		add(key, json_object_new_boolean(v));
	else if (fmt && !text_off)
		printf(fmt, v ? "yes" : "no");
}

void pr_onoff(const char *key, const char *fmt, bool v)
{
	if (json_mode)
		add(key, json_object_new_boolean(v));
	else if (fmt && !text_off)
		printf(fmt, v ? "on" : "off");
}

void pr_null(const char *key, const char *text)
{
	if (json_mode)
		add(key, NULL);
	else if (text && !text_off)
		fputs(text, stdout);
}

void pr_text_off(bool off)
{
	text_off = off;
}

void pr_text(const char *fmt, ...)
{
	va_list ap;

	if (json_mode || text_off)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

int pr_finish(void)
{
	int r = 0;

	if (json_mode && depth >= 0 && stack[0]) {
		const char *s = json_object_to_json_string_ext(stack[0], JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
		if (puts(s) < 0)
			r = -errno;
		json_object_put(stack[0]);
		stack[0] = NULL;
		depth = -1;
	}
	if (fflush(stdout) == EOF)
		r = -errno;
	return r;
}
