/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One printer for text and JSON, in the manner of iproute2's print_*():
 * every value is given once with its JSON key and its text format; in JSON
 * mode the key is used, in text mode the format (NULL: not shown as text).
 * Keys are string literals: the JSON objects keep the pointer, not a copy.
 */
#ifndef VFCTL_PRINT_H
#define VFCTL_PRINT_H

#include <stdbool.h>
#include <stdint.h>

/* The version of the JSON schema (docs/vfctl.schema.json) every document's
 * "schema" key gives: raised when a key is renamed, removed or retyped. */
#define PR_SCHEMA 1

void pr_init(bool json);
/* Emit the JSON document (JSON mode); returns 0 or -errno. */
int pr_finish(void);

void pr_obj_begin(const char *key);	/* key NULL inside arrays / at top */
void pr_obj_end(void);
void pr_arr_begin(const char *key);
void pr_arr_end(void);

void pr_str(const char *key, const char *fmt, const char *v);	/* v NULL: JSON null */
void pr_int(const char *key, const char *fmt, long long v);
void pr_uint(const char *key, const char *fmt, unsigned long long v);
void pr_bool(const char *key, const char *fmt, bool v);
/* A setting: a JSON boolean, "on"/"off" as text (ip link's words). */
void pr_onoff(const char *key, const char *fmt, bool v);
void pr_null(const char *key, const char *text);
/* Leave out the text of what follows (it still goes into JSON), until
 * pr_text_off(false): a terse view of the same document. */
void pr_text_off(bool off);
/* Text only (layout, newlines); ignored in JSON mode. */
void pr_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
