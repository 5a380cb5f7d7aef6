// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfkvm --vf without a VFIO kernel: the PCI address parser and the refusal
 * to DMA-map guest RAM over an IOMMU group's reserved IOVA regions, against
 * reserved_regions files written the way the kernel writes them, and which
 * parts of a BAR become memory slots from VFIO's region info and its caps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "vfkvm.h"

static char dir[] = "/tmp/test_vfkvm_vfio.XXXXXX";

/* A reserved_regions file with these lines; returns its path. */
static const char *regions(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Runs the check with stderr going to a memfd; returns what it wrote. */
static char *check(const char *path, uint64_t ram, int *ret)
{
	int saved = dup(2), mfd = memfd_create("stderr", 0);
	char *buf;
	off_t len;

	assert_true(saved >= 0 && mfd >= 0);
	fflush(stderr);
	dup2(mfd, 2);
	*ret = vfkvm_vfio_check_reserved("0000:01:10.2", path, ram);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	len = lseek(mfd, 0, SEEK_END);
	buf = calloc(1, len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(mfd, buf, len, 0), len);
	close(mfd);
	return buf;
}

/* An intel-iommu group's usual list: only the MSI window, far above RAM. */
static void test_reserved_msi_only(void **state)
{
	const char *p = regions("msi", "0x00000000fee00000 0x00000000feefffff msi\n");
	char *e;
	int r;

	e = check(p, 64 << 20, &r);
	assert_int_equal(r, 0);
	assert_string_equal(e, "");
	free(e);
	/* the largest guest vfkvm allows still ends below it */
	e = check(p, VFKVM_RAM_MAX, &r);
	assert_int_equal(r, 0);
	free(e);
}

/* An RMRR ("direct") region in low memory, as some chipsets' USB and GPU
 * functions have: guest RAM at IOVA 0 would cover it. */
static void test_reserved_overlap(void **state)
{
	const char *p = regions("rmrr", "0x00000000000e8000 0x00000000000e8fff direct\n"
					"0x00000000fee00000 0x00000000feefffff msi\n");
	char *e;
	int r;

	e = check(p, 64 << 20, &r);
	assert_int_equal(r, -EADDRINUSE);
	assert_non_null(strstr(e, "vfkvm: 0000:01:10.2: "));
	assert_non_null(strstr(e, p));
	assert_non_null(strstr(e, ": IOVA 0xe8000-0xe8fff (direct) overlaps guest RAM "
				  "0-0x3ffffff, which is DMA-mapped at its guest-physical "
				  "address: use a smaller --mem\n"));
	free(e);
}

/* The boundary: a region starting right at the end of RAM is clear, one
 * byte lower is not. */
static void test_reserved_boundary(void **state)
{
	const char *p = regions("edge", "0x0000000004000000 0x0000000004ffffff reserved\n");
	char *e;
	int r;

	e = check(p, 64 << 20, &r);
	assert_int_equal(r, 0);
	free(e);
	e = check(p, (64 << 20) + (2 << 20), &r);
	assert_int_equal(r, -EADDRINUSE);
	assert_non_null(strstr(e, "IOVA 0x4000000-0x4ffffff (reserved) overlaps guest RAM "
				  "0-0x41fffff"));
	free(e);
}

/* No file (a kernel without reserved_regions): nothing to check against.
 * A file that is not such a list is an error, not a pass. */
static void test_reserved_missing_or_garbage(void **state)
{
	char path[300];
	const char *p;
	char *e;
	int r;

	snprintf(path, sizeof(path), "%s/none", dir);
	e = check(path, 64 << 20, &r);
	assert_int_equal(r, 0);
	assert_string_equal(e, "");
	free(e);

	p = regions("garbage", "0x00000000fee00000 0x00000000feefffff msi\nnot a region\n");
	e = check(p, 64 << 20, &r);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(e, "vfkvm: 0000:01:10.2: "));
	assert_non_null(strstr(e, ": not a reserved_regions list (\"START END TYPE\" lines)\n"));
	free(e);

	/* an empty list (no IOMMU reservations at all) is fine */
	p = regions("empty", "");
	e = check(p, 64 << 20, &r);
	assert_int_equal(r, 0);
	free(e);
}

static void test_parse_bdf(void **state)
{
	char out[16];

	assert_int_equal(vfkvm_vfio_parse_bdf("01:10.2", out, sizeof(out)), 0);
	assert_string_equal(out, "0000:01:10.2");
	assert_int_equal(vfkvm_vfio_parse_bdf("0001:FF:1f.7", out, sizeof(out)), 0);
	assert_string_equal(out, "0001:ff:1f.7");
	assert_int_equal(vfkvm_vfio_parse_bdf("01:20.0", out, sizeof(out)), -EINVAL);
	assert_int_equal(vfkvm_vfio_parse_bdf("01:10.8", out, sizeof(out)), -EINVAL);
	assert_int_equal(vfkvm_vfio_parse_bdf("00001:01:10.0", out, sizeof(out)), -EINVAL);
	assert_int_equal(vfkvm_vfio_parse_bdf("01:10", out, sizeof(out)), -EINVAL);
}

/* Region infos as VFIO_DEVICE_GET_REGION_INFO fills them, caps and all. */
struct info_sparse {
	struct vfio_region_info ri;
	struct vfio_region_info_cap_type msix;	/* any other cap first in the chain */
	struct vfio_region_info_cap_sparse_mmap sp;
	struct vfio_region_sparse_mmap_area areas[3];
};

static void test_mmap_areas(void **state)
{
	struct vfkvm_area a[4];
	struct vfio_region_info plain = { .argsz = sizeof(plain), .size = 0x4000,
					  .flags = VFIO_REGION_INFO_FLAG_READ |
						   VFIO_REGION_INFO_FLAG_WRITE };
	struct {
		struct vfio_region_info ri;
		struct vfio_info_cap_header msix;
	} mappable = {
		.ri = { .argsz = sizeof(mappable), .size = 0x4000, .cap_offset = sizeof(mappable.ri),
			.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP |
				 VFIO_REGION_INFO_FLAG_CAPS },
		.msix = { .id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, .version = 1 },
	};
	struct info_sparse sp = {
		.ri = { .argsz = sizeof(sp), .size = 0x10000,
			.cap_offset = offsetof(struct info_sparse, msix),
			.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP |
				 VFIO_REGION_INFO_FLAG_CAPS },
		.msix = { .header = { .id = VFIO_REGION_INFO_CAP_TYPE, .version = 1,
				      .next = offsetof(struct info_sparse, sp) } },
		.sp = { .header = { .id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1 },
			.nr_areas = 3 },
		/* the table page left out; one area not page-aligned */
		.areas = { { 0x1000, 0x7000 }, { 0x9000, 0x800 }, { 0xa000, 0x6000 } },
	};

	/* no MMAP flag: trap it all */
	assert_int_equal(vfkvm_vfio_mmap_areas(&plain, 4096, a, 4), 0);
	/* MMAP, no caps: the whole BAR */
	plain.flags |= VFIO_REGION_INFO_FLAG_MMAP;
	assert_int_equal(vfkvm_vfio_mmap_areas(&plain, 4096, a, 4), 1);
	assert_int_equal(a[0].offset, 0);
	assert_int_equal(a[0].size, 0x4000);
	/* smaller than a page: cannot be a slot */
	plain.size = 0x800;
	assert_int_equal(vfkvm_vfio_mmap_areas(&plain, 4096, a, 4), 0);
	/* MSI-X mappable (no sparse cap): the whole BAR */
	assert_int_equal(vfkvm_vfio_mmap_areas(&mappable.ri, 4096, a, 4), 1);
	assert_int_equal(a[0].size, 0x4000);
	/* sparse: the aligned areas only, behind another cap in the chain */
	assert_int_equal(vfkvm_vfio_mmap_areas(&sp.ri, 4096, a, 4), 2);
	assert_int_equal(a[0].offset, 0x1000);
	assert_int_equal(a[0].size, 0x7000);
	assert_int_equal(a[1].offset, 0xa000);
	assert_int_equal(a[1].size, 0x6000);
	/* at most max areas */
	assert_int_equal(vfkvm_vfio_mmap_areas(&sp.ri, 4096, a, 1), 1);
	/* an area past the region's end is not mapped */
	sp.areas[2].size = 0x7000;
	assert_int_equal(vfkvm_vfio_mmap_areas(&sp.ri, 4096, a, 4), 1);
	/* a chain that points outside what the kernel filled in */
	sp.sp.nr_areas = 30;
	assert_int_equal(vfkvm_vfio_mmap_areas(&sp.ri, 4096, a, 4), -EINVAL);
	sp.sp.nr_areas = 3;
	sp.msix.header.next = sizeof(sp) - 4;
	assert_int_equal(vfkvm_vfio_mmap_areas(&sp.ri, 4096, a, 4), -EINVAL);
	/* a loop in the chain ends too */
	sp.msix.header.next = offsetof(struct info_sparse, msix);
	assert_int_equal(vfkvm_vfio_mmap_areas(&sp.ri, 4096, a, 4), -EINVAL);
}

static int setup_dir(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	const char *names[] = { "msi", "rmrr", "edge", "garbage", "empty" };
	char path[300];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserved_msi_only),
		cmocka_unit_test(test_reserved_overlap),
		cmocka_unit_test(test_reserved_boundary),
		cmocka_unit_test(test_reserved_missing_or_garbage),
		cmocka_unit_test(test_parse_bdf),
		cmocka_unit_test(test_mmap_areas),
	};
	return cmocka_run_group_tests_name("vfkvm_vfio", tests, setup_dir, remove_dir);
}
