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
