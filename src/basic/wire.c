// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the vfctld wire format and the project's JSON files share between
 * the library's client and the daemon: lease id syntax, field readers.
 */
#include <ctype.h>
#include <string.h>

#include <json-c/json.h>

#include "wire.h"

bool vfctl_lease_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 2 || n > 21 || s[0] != 'L' || s[1] == '0')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

const char *vfctl_json_str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : NULL;
}

bool vfctl_json_int(json_object *o, const char *k, int64_t *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

/* The length of the valid UTF-8 sequence at p, 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* the second byte's range rules out overlong forms, surrogates and
	 * code points past U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;	/* a NUL ends it here too */
	return n;
}

void vfctl_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);

		if (n)
			p += n;
		else
			*p++ = '?';
	}
}
