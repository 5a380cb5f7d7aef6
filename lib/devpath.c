// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one place that spells a PCI function's sysfs path,
 * bus/pci/devices/ADDR[/...], relative to the context's sysfs root.
 */
#include <stdio.h>

#include "internal.h"

const char *vfctl_dev_path(char *buf, size_t size, const char *addr, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, size, VFCTL_DEVDIR "/%s", addr);
	if (n < 0 || (size_t)n >= size)
		return NULL;
	if (!fmt)
		return buf;
	if ((size_t)n + 1 >= size)
		return NULL;
	buf[n++] = '/';
	va_start(ap, fmt);
	m = vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= size - (size_t)n)
		return NULL;
	return buf;
}
