/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the unit tests share: a shell step that must succeed, temporary
 * directories, and contexts on the golden trees (FIXTURES, from make).
 * Include after <cmocka.h> and vfctl.h (or a header that includes it).
 */
#ifndef VFCTL_TESTS_UNIT_H
#define VFCTL_TESTS_UNIT_H

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run a shell command; the test fails unless it exits 0. */
static inline void unit_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void unit_sh(const char *fmt, ...)
{
	char cmd[2048];	/* paths into a golden tree copy, twice */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* A new empty directory from tmpl ("/tmp/name-XXXXXX") in dir. */
static inline void unit_tmpdir(char *dir, size_t size, const char *tmpl)
{
	assert_true(strlen(tmpl) < size);
	strcpy(dir, tmpl);
	assert_non_null(mkdtemp(dir));
}

/* The process's open fds, to prove a call left none behind. */
static inline int unit_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static inline void unit_rm_rf(const char *dir)
{
	unit_sh("rm -rf '%s'", dir);
}

/* FIXTURES/name/sub: a golden tree, or a part of it ("sys", "."). */
static inline void unit_fixture(char *buf, size_t size, const char *name, const char *sub)
{
	const char *fx = getenv("FIXTURES");

	assert_non_null(fx);
	assert_true((size_t)snprintf(buf, size, "%s/%s/%s", fx, name, sub) < size);
}

/* A context on golden tree name as it is (read only: nothing may write to
 * the shared trees) and its scan with scan_flags. */
static inline void unit_scan(const char *name, unsigned scan_flags, struct vfctl_ctx **ctx,
			     struct vfctl_host **host)
{
	char root[512];

	unit_fixture(root, sizeof(root), name, "sys");
	assert_int_equal(vfctl_ctx_new(ctx, &(struct vfctl_opts){ .size = sizeof(struct vfctl_opts), .sysfs_root = root }), 0);
	if (host)
		assert_int_equal(vfctl_host_scan(*ctx, scan_flags, host), 0);
}

#endif
