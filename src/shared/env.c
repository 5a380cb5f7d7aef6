// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdlib.h>

#include "env.h"

const char *vfctl_env_or(const char *opt, const char *name)
{
	const char *e;

	if (opt && *opt)
		return opt;
	e = getenv(name);
	return e && *e ? e : NULL;
}

int vfctl_env_lock_timeout_ms(void)
{
	const char *e = getenv("VFCTL_LOCK_TIMEOUT");
	unsigned long s;
	char *end;

	if (!e || !*e)
		return 0;
	s = strtoul(e, &end, 10);
	if (*end || s > 3600)
		return 0;
	return s ? (int)s * 1000 : -1;
}
