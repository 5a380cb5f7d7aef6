// SPDX-License-Identifier: LGPL-2.1-or-later
/* libvfctl's VFIO module without a VFIO kernel: group lookup, viability
 * naming the member in the way, the cdev found through sysfs vfio-dev/, who
 * holds a group node, the nodes opened for handing over, the errors on the
 * way, all on golden trees (and copies of them changed for one case); the
 * reserved-IOVA check against files written the way the kernel writes them;
 * which parts of a region may be mmapped from VFIO's region info and caps.
 * The ioctls themselves run in the VM suites (tests/vm/7x, 8x). */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "unit.h"

#define VF7 "0000:03:11.6"	/* 82599-8vf: VF 7, on vfio-pci, group 37 */
#define VF0 "0000:03:10.0"	/* 82599-8vf: VF 0, on ixgbevf, group 30 */

#define assert_contains(hay, needle) do { \
	if (!strstr((hay), (needle))) \
		fail_msg("'%s' does not contain '%s'", (hay), (needle)); \
} while (0)

struct tree {
	char dir[256];		/* a copy, or "" for the fixture itself */
	char root[512];		/* ROOT: ROOT/sys and ROOT/dev */
	struct vfctl_ctx *ctx;
};

static struct tree *tree_open(const char *name, bool copy)
{
	struct tree *t = calloc(1, sizeof(*t));
	const char *fx = getenv("FIXTURES");
	char sys[600];

	assert_non_null(t);
	assert_non_null(fx);
	if (copy) {
		snprintf(t->dir, sizeof(t->dir), "/tmp/test_vfio.XXXXXX");
		assert_non_null(mkdtemp(t->dir));
		unit_sh("cp -a '%s/%s/.' '%s/'", fx, name, t->dir);
		snprintf(t->root, sizeof(t->root), "%s", t->dir);
	} else {
		snprintf(t->root, sizeof(t->root), "%s/%s", fx, name);
	}
	snprintf(sys, sizeof(sys), "%s/sys", t->root);
	assert_int_equal(vfctl_ctx_new(&t->ctx, &(struct vfctl_opts){ .size = sizeof(struct vfctl_opts), .sysfs_root = sys }), 0);
	return t;
}

static void tree_free(struct tree *t)
{
	vfctl_ctx_free(t->ctx);
	if (t->dir[0])
		unit_sh("rm -rf '%s'", t->dir);
	free(t);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Is fd the file at path (same inode)? */
static bool fd_is(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void group_lookup(void **state)
{
	struct tree *t = tree_open("igb-iommu", false);
	int g = -7;

	assert_int_equal(vfctl_vfio_group_of(t->ctx, "0000:01:10.2", &g), 0);
	assert_int_equal(g, 8);
	/* the short form names the same function */
	g = -7;
	assert_int_equal(vfctl_vfio_group_of(t->ctx, "01:10.2", &g), 0);
	assert_int_equal(g, 8);

	g = -7;
	assert_int_equal(vfctl_vfio_group_of(t->ctx, "0000:0f:00.0", &g), -ENODEV);
	assert_int_equal(g, -7);
	assert_contains(vfctl_ctx_error(t->ctx), "/sys/bus/pci/devices/0000:0f:00.0: No such file or "
			"directory; 0000:0f:00.0 is no PCI function of this host (vfctl list shows "
			"them)");
	assert_int_equal(vfctl_vfio_group_of(t->ctx, "0000:01:10", &g), -EINVAL);
	assert_contains(vfctl_ctx_error(t->ctx), "'0000:01:10' is not a PCI address");
	assert_int_equal(vfctl_vfio_group_of(t->ctx, "../../x", &g), -EINVAL);
	assert_int_equal(g, -7);
	tree_free(t);

	t = tree_open("82599-8vf", false);
	assert_int_equal(vfctl_vfio_group_of(t->ctx, VF7, &g), 0);
	assert_int_equal(g, 37);
	tree_free(t);
}

/* A host booted without an IOMMU: its functions have no group. */
static void no_group(void **state)
{
	struct tree *t = tree_open("no-iommu", false);
	struct vfctl_lease_fds l = { .size = sizeof(l), .container_fd = -7 };
	int g = -7, before = unit_count_fds();

	assert_int_equal(vfctl_vfio_group_of(t->ctx, "0000:01:00.0", &g), -ENOENT);
	assert_int_equal(g, -7);
	assert_contains(vfctl_ctx_error(t->ctx), "/sys/bus/pci/devices/0000:01:00.0/iommu_group: No "
			"such file or directory; 0000:01:00.0 is in no IOMMU group: enable the IOMMU "
			"(intel_iommu=on or amd_iommu=on) to pass it through");
	/* opening it stops there, with nothing left open */
	assert_int_equal(vfctl_vfio_open_fds(t->ctx, "0000:01:00.0", VFCTL_VFIO_IOMMUFD, &l),
			 -ENOENT);
	assert_contains(vfctl_ctx_error(t->ctx), "is in no IOMMU group");
	assert_int_equal(l.container_fd, -7);
	assert_int_equal(unit_count_fds(), before);
	tree_free(t);
}

static void viability_names_the_blocker(void **state)
{
	struct tree *t = tree_open("shared-group", true);	/* PF, VFs 0-2 on vfio-pci, VF 3 */
	struct vfctl_lease_fds l = { .size = sizeof(l), .container_fd = -7 };
	int before = unit_count_fds();

	/* the PF (ixgbe) and VF 3 (ixgbevf) share group 12 with the VFs on
	 * vfio-pci: the lowest address is named */
	assert_int_equal(vfctl_vfio_group_viable(t->ctx, 12), -EBUSY);
	assert_string_equal(vfctl_ctx_error(t->ctx), "IOMMU group 12 is not viable: 0000:05:00.0 is "
			    "bound to ixgbe; bind it to vfio-pci (or unbind it) so group 12 can be "
			    "used with VFIO");
	/* opening a VF of it is refused before any node is opened for it */
	assert_int_equal(vfctl_vfio_open_fds(t->ctx, "0000:05:10.0", 0, &l), -EBUSY);
	assert_contains(vfctl_ctx_error(t->ctx), "group 12 is not viable: 0000:05:00.0 is bound to "
			"ixgbe");
	assert_int_equal(l.container_fd, -7);
	assert_int_equal(unit_count_fds(), before);

	/* the PF unbound: VF 3 is the one in the way */
	unit_sh("rm '%s/sys/bus/pci/devices/0000:05:00.0/driver'", t->dir);
	assert_int_equal(vfctl_vfio_group_viable(t->ctx, 12), -EBUSY);
	assert_contains(vfctl_ctx_error(t->ctx), "0000:05:10.6 is bound to ixgbevf;");
	/* and on pci-stub it no longer is: the group is viable */
	unit_sh("mkdir -p '%s/sys/bus/pci/drivers/pci-stub' && ln -sfn /bus/pci/drivers/pci-stub "
	   "'%s/sys/bus/pci/devices/0000:05:10.6/driver'", t->dir, t->dir);
	assert_int_equal(vfctl_vfio_group_viable(t->ctx, 12), 0);
	tree_free(t);

	t = tree_open("82599-8vf", false);	/* a group per function */
	assert_int_equal(vfctl_vfio_group_viable(t->ctx, 37), 0);
	/* a VF on its host driver, alone in its group: the group is not viable either */
	assert_int_equal(vfctl_vfio_group_viable(t->ctx, 30), -EBUSY);
	assert_contains(vfctl_ctx_error(t->ctx), "IOMMU group 30 is not viable: " VF0 " is bound to "
			"ixgbevf;");
	assert_int_equal(vfctl_vfio_group_viable(t->ctx, 999), -ENOENT);
	assert_contains(vfctl_ctx_error(t->ctx), "IOMMU group 999: ");
	assert_contains(vfctl_ctx_error(t->ctx), "/sys/kernel/iommu_groups/999/devices: No such file");
	tree_free(t);
}

static void cdev_through_vfio_dev(void **state)
{
	struct tree *t = tree_open("igb-iommu", false);	/* 01:10.2 on vfio-pci, vfio-dev/vfio0 */
	char name[16] = "untouched";

	assert_int_equal(vfctl_vfio_cdev_name(t->ctx, "0000:01:10.2", name, sizeof(name)), 0);
	assert_string_equal(name, "vfio0");
	snprintf(name, sizeof(name), "untouched");
	assert_int_equal(vfctl_vfio_cdev_name(t->ctx, "0000:01:10.4", name, sizeof(name)), -ENOENT);
	assert_string_equal(name, "untouched");
	assert_contains(vfctl_ctx_error(t->ctx), "0000:01:10.4 has no VFIO device cdev (");
	assert_contains(vfctl_ctx_error(t->ctx), "/sys/bus/pci/devices/0000:01:10.4/vfio-dev: No such "
			"file or directory): it is not bound to vfio-pci, or the kernel lacks "
			"CONFIG_VFIO_DEVICE_CDEV");
	/* the buffer must hold it */
	assert_int_equal(vfctl_vfio_cdev_name(t->ctx, "0000:01:10.2", name, 5), -ENAMETOOLONG);
	tree_free(t);
}

/* Who holds a group node, found by the node's identity under the dev root. */
static void holders_through_dev_root(void **state)
{
	struct tree *t = tree_open("igb-iommu", true);
	char who[256] = "x", node[600], pid[64], other[600];
	int fd, fd2;

	snprintf(node, sizeof(node), "%s/dev/vfio/8", t->dir);
	assert_int_equal(vfctl_vfio_holders(t->ctx, 8, who, sizeof(who)), 0);
	assert_string_equal(who, "");
	fd = open(node, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	snprintf(pid, sizeof(pid), "pid %d (test_vfio)", (int)getpid());
	assert_int_equal(vfctl_vfio_holders(t->ctx, 8, who, sizeof(who)), 1);
	assert_string_equal(who, pid);
	close(fd);
	assert_int_equal(vfctl_vfio_holders(t->ctx, 8, who, sizeof(who)), 0);

	/* a file of the same name elsewhere is not the node */
	snprintf(other, sizeof(other), "%s/sys/vfio", t->dir);
	unit_sh("mkdir '%s' && touch '%s/8'", other, other);
	strcat(other, "/8");
	fd2 = open(other, O_RDONLY | O_CLOEXEC);
	assert_true(fd2 >= 0);
	assert_int_equal(vfctl_vfio_holders(t->ctx, 8, who, sizeof(who)), 0);
	close(fd2);

	/* no such node */
	assert_int_equal(vfctl_vfio_holders(t->ctx, 9, who, sizeof(who)), -ENOENT);
	assert_contains(vfctl_ctx_error(t->ctx), "IOMMU group 9: looking for processes that hold ");
	assert_contains(vfctl_ctx_error(t->ctx), "/dev/vfio/9 open: No such file or directory");
	tree_free(t);
}

static void open_fds_for_handing_over(void **state)
{
	struct tree *t = tree_open("82599-8vf", false);
	struct vfctl_lease_fds l = { .size = sizeof(l), .container_fd = -7 };
	char path[600];
	int before = unit_count_fds();

	assert_int_equal(vfctl_vfio_open_fds(t->ctx, "03:11.6", 0, &l), 0);
	assert_string_equal(l.addr, VF7);
	assert_int_equal(l.group, 37);
	snprintf(path, sizeof(path), "%s/dev/vfio/vfio", t->root);
	assert_true(fd_is(l.container_fd, path));
	snprintf(path, sizeof(path), "%s/dev/vfio/37", t->root);
	assert_true(fd_is(l.group_fd, path));
	/* not asked for, and the tree has no /dev/iommu anyway */
	assert_int_equal(l.iommufd, -1);
	assert_int_equal(l.device_fd, -1);
	vfctl_lease_fds_close(&l);
	assert_int_equal(unit_count_fds(), before);

	/* a VF on its host driver */
	l.container_fd = -7;
	assert_int_equal(vfctl_vfio_open_fds(t->ctx, VF0, 0, &l), -ENXIO);
	assert_string_equal(vfctl_ctx_error(t->ctx), VF0 " is bound to ixgbevf, not vfio-pci: bind it "
			    "to vfio-pci (vfctl bind) to use it with VFIO");
	assert_int_equal(l.container_fd, -7);
	assert_int_equal(unit_count_fds(), before);
	tree_free(t);
}

static void open_fds_with_iommufd(void **state)
{
	struct tree *t = tree_open("igb-iommu", true);	/* 01:10.2: group 8, vfio-dev/vfio0 */
	struct vfctl_lease_fds l = { .size = sizeof(l) };
	char path[600];
	int before = unit_count_fds();

	/* the capture's kernel had the cdev in sysfs but no /dev/iommu: legacy only */
	assert_int_equal(vfctl_vfio_open_fds(t->ctx, "0000:01:10.2", VFCTL_VFIO_IOMMUFD, &l), 0);
	assert_int_equal(l.iommufd, -1);
	assert_int_equal(l.device_fd, -1);
	vfctl_lease_fds_close(&l);

	/* an iommufd kernel: /dev/iommu and /dev/vfio/devices/vfio0 go along */
	unit_sh("touch '%s/dev/iommu' && mkdir '%s/dev/vfio/devices' && touch '%s/dev/vfio/devices/vfio0'",
	   t->dir, t->dir, t->dir);
	assert_int_equal(vfctl_vfio_open_fds(t->ctx, "0000:01:10.2", VFCTL_VFIO_IOMMUFD, &l), 0);
	snprintf(path, sizeof(path), "%s/dev/iommu", t->dir);
	assert_true(fd_is(l.iommufd, path));
	snprintf(path, sizeof(path), "%s/dev/vfio/devices/vfio0", t->dir);
	assert_true(fd_is(l.device_fd, path));
	assert_int_equal(l.group, 8);
	vfctl_lease_fds_close(&l);
	/* not asked for: not opened */
	assert_int_equal(vfctl_vfio_open_fds(t->ctx, "0000:01:10.2", 0, &l), 0);
	assert_int_equal(l.iommufd, -1);
	assert_int_equal(l.device_fd, -1);
	vfctl_lease_fds_close(&l);
	assert_int_equal(unit_count_fds(), before);
	tree_free(t);
}

static void open_fds_missing_nodes(void **state)
{
	struct tree *t = tree_open("82599-8vf", true);
	struct vfctl_lease_fds l = { .size = sizeof(l), .container_fd = -7 };
	char sys[600], dev[600];
	struct vfctl_ctx *ctx;
	int before = unit_count_fds();

	/* the group node is missing: bind the whole group */
	unit_sh("rm '%s/dev/vfio/37'", t->dir);
	assert_int_equal(vfctl_vfio_open_fds(t->ctx, VF7, 0, &l), -ENOENT);
	assert_contains(vfctl_ctx_error(t->ctx), "/dev/vfio/37: No such file or directory; bind every "
			"device of IOMMU group 37 to vfio-pci (vfctl groups shows them, vfctl bind "
			"binds them)");
	assert_int_equal(l.container_fd, -7);
	assert_int_equal(unit_count_fds(), before);

	/* no container node under --dev-root: no VFIO at all */
	snprintf(sys, sizeof(sys), "%s/sys", t->dir);
	snprintf(dev, sizeof(dev), "%s/emptydev", t->dir);
	unit_sh("mkdir '%s'", dev);
	assert_int_equal(vfctl_ctx_new(&ctx, &(struct vfctl_opts){ .size = sizeof(struct vfctl_opts), .sysfs_root = sys,
								  .dev_root = dev }), 0);
	assert_int_equal(vfctl_vfio_open_fds(ctx, VF7, 0, &l), -ENOENT);
	assert_contains(vfctl_ctx_error(ctx), "/emptydev/vfio/vfio: No such file or directory; "
			VF7 " needs VFIO: load vfio-pci (modprobe vfio-pci) and bind it to vfio-pci "
			"(vfctl bind)");
	assert_int_equal(l.container_fd, -7);
	vfctl_ctx_free(ctx);
	assert_int_equal(unit_count_fds(), before);
	tree_free(t);
}

/* A golden tree's nodes are plain files: the first ioctl is refused, and
 * every fd opened or handed in is closed again. */
static void dev_open_needs_the_kernel(void **state)
{
	struct tree *t = tree_open("82599-8vf", false);
	struct vfctl_vfio_dev *dev = (void *)&dev;	/* untouched on failure */
	struct vfctl_lease_fds l = { .size = sizeof(l) };
	int before = unit_count_fds();

	assert_int_equal(vfctl_vfio_dev_open(t->ctx, VF7, 0, &dev), -ENOTTY);
	assert_string_equal(vfctl_ctx_error(t->ctx), VF7 ": VFIO_GET_API_VERSION on the container: "
			    "Inappropriate ioctl for device");
	assert_ptr_equal(dev, (void *)&dev);
	assert_int_equal(unit_count_fds(), before);

	/* adopt takes the fds, also when it fails */
	assert_int_equal(vfctl_vfio_open_fds(t->ctx, VF7, 0, &l), 0);
	int c = l.container_fd, g = l.group_fd;

	assert_int_equal(vfctl_vfio_dev_adopt(t->ctx, &l, 0, &dev), -ENOTTY);
	assert_int_equal(l.container_fd, -1);
	assert_int_equal(l.group_fd, -1);
	assert_false(fd_open(c));
	assert_false(fd_open(g));
	assert_int_equal(unit_count_fds(), before);

	/* no container fd handed in */
	l = (struct vfctl_lease_fds){ .size = sizeof(l), .container_fd = -1, .group_fd = open("/dev/null", O_RDWR),
				      .iommufd = -1, .device_fd = open("/dev/null", O_RDWR),
				      .group = 37, .addr = VF7 };
	g = l.group_fd;
	assert_int_equal(vfctl_vfio_dev_adopt(t->ctx, &l, 0, &dev), -EBADF);
	assert_string_equal(vfctl_ctx_error(t->ctx), VF7 ": no VFIO container fd to use");
	assert_false(fd_open(g));
	assert_int_equal(l.group_fd, -1);
	assert_int_equal(l.device_fd, -1);
	/* a name that is no address: refused, fds closed */
	l = (struct vfctl_lease_fds){ .size = sizeof(l), .container_fd = open("/dev/null", O_RDWR), .group_fd = -1,
				      .iommufd = -1, .device_fd = -1, .addr = "x/y" };
	c = l.container_fd;
	assert_int_equal(vfctl_vfio_dev_adopt(t->ctx, &l, 0, &dev), -EINVAL);
	assert_false(fd_open(c));
	assert_int_equal(unit_count_fds(), before);
	assert_ptr_equal(dev, (void *)&dev);
	tree_free(t);
}

/* ---- reserved IOVA ranges -------------------------------------------------------- */

static char rdir[] = "/tmp/test_vfio_iova.XXXXXX";

/* Group 5's reserved_regions with these lines (NULL: no file); a ctx on it. */
static struct vfctl_ctx *regions(const char *text)
{
	struct vfctl_ctx *ctx;
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/5/reserved_regions", rdir);
	unlink(path);
	if (text) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	assert_int_equal(vfctl_ctx_new(&ctx, &(struct vfctl_opts){ .size = sizeof(struct vfctl_opts), .sysfs_root = rdir }), 0);
	return ctx;
}

/* An intel-iommu group's usual list: only the MSI window, far above RAM. */
static void iova_msi_only(void **state)
{
	struct vfctl_ctx *ctx = regions("0x00000000fee00000 0x00000000feefffff msi\n");

	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, 64 << 20), 0);
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, 0xc0000000ULL), 0);
	/* above the window is clear too; into it is not */
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0xfef00000ULL, 1 << 20), 0);
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0xfe000000ULL, 0xe00000), 0);
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0xfe000000ULL, 0xe00001), -EADDRINUSE);
	vfctl_ctx_free(ctx);
}

/* An RMRR ("direct") region in low memory, as some chipsets' USB and GPU
 * functions have: a mapping at IOVA 0 would cover it. */
static void iova_overlap(void **state)
{
	struct vfctl_ctx *ctx = regions("0x00000000000e8000 0x00000000000e8fff direct\n"
					"0x00000000fee00000 0x00000000feefffff msi\n");
	char want[512];

	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, 64 << 20), -EADDRINUSE);
	snprintf(want, sizeof(want), "IOMMU group 5: %s/kernel/iommu_groups/5/reserved_regions: "
		 "IOVA 0xe8000-0xe8fff (direct) overlaps the DMA mapping 0x0-0x3ffffff", rdir);
	assert_string_equal(vfctl_ctx_error(ctx), want);
	vfctl_ctx_free(ctx);
}

/* The boundary: a region starting right at the end of the range is clear,
 * one byte lower is not. */
static void iova_boundary(void **state)
{
	struct vfctl_ctx *ctx = regions("0x0000000004000000 0x0000000004ffffff reserved\n");

	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, 64 << 20), 0);
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, (64 << 20) + 1), -EADDRINUSE);
	assert_contains(vfctl_ctx_error(ctx), "IOVA 0x4000000-0x4ffffff (reserved) overlaps the DMA "
			"mapping 0x0-0x4000000");
	/* right after it */
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0x5000000, 4096), 0);
	/* empty and wrapping ranges are no ranges */
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, 0), -EINVAL);
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, UINT64_MAX - 10, 100), -EINVAL);
	assert_contains(vfctl_ctx_error(ctx), "is empty or wraps");
	vfctl_ctx_free(ctx);
}

/* No file (a kernel without reserved_regions): nothing to check against.
 * A file that is not such a list is an error, not a pass. */
static void iova_missing_or_garbage(void **state)
{
	struct vfctl_ctx *ctx = regions(NULL);

	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, 64 << 20), 0);
	vfctl_ctx_free(ctx);

	ctx = regions("0x00000000fee00000 0x00000000feefffff msi\nnot a region\n");
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, 64 << 20), -EINVAL);
	assert_contains(vfctl_ctx_error(ctx), "/kernel/iommu_groups/5/reserved_regions: not a "
			"reserved_regions list (\"START END TYPE\" lines)");
	vfctl_ctx_free(ctx);

	/* an empty list (no IOMMU reservations at all) is fine */
	ctx = regions("");
	assert_int_equal(vfctl_vfio_group_check_iova(ctx, 5, 0, 64 << 20), 0);
	vfctl_ctx_free(ctx);
}

static int setup_rdir(void **state)
{
	char path[300];

	if (!mkdtemp(rdir))
		return -1;
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/5", rdir);
	unit_sh("mkdir -p '%s'", path);
	return 0;
}

static int remove_rdir(void **state)
{
	unit_sh("rm -rf '%s'", rdir);
	return 0;
}

/* ---- region info: what may be mmapped ---------------------------------------- */

/* Region infos as VFIO_DEVICE_GET_REGION_INFO fills them, caps and all. */
struct info_sparse {
	struct vfio_region_info ri;
	struct vfio_region_info_cap_type msix;	/* any other cap first in the chain */
	struct vfio_region_info_cap_sparse_mmap sp;
	struct vfio_region_sparse_mmap_area areas[3];
};

static void mmap_areas(void **state)
{
	struct vfctl_vfio_region a;
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

	/* no MMAP flag: nothing to mmap */
	assert_int_equal(vfctl_vfio_region_areas(&plain, 4096, &a, 4), 0);
	/* MMAP, no caps: the whole region */
	plain.flags |= VFIO_REGION_INFO_FLAG_MMAP;
	assert_int_equal(vfctl_vfio_region_areas(&plain, 4096, &a, 4), 1);
	assert_int_equal(a.areas[0].offset, 0);
	assert_int_equal(a.areas[0].length, 0x4000);
	/* smaller than a page: cannot be mmapped */
	plain.size = 0x800;
	assert_int_equal(vfctl_vfio_region_areas(&plain, 4096, &a, 4), 0);
	/* MSI-X mappable (no sparse cap): the whole region */
	assert_int_equal(vfctl_vfio_region_areas(&mappable.ri, 4096, &a, 4), 1);
	assert_int_equal(a.areas[0].length, 0x4000);
	/* sparse: the aligned areas only, behind another cap in the chain */
	assert_int_equal(vfctl_vfio_region_areas(&sp.ri, 4096, &a, 4), 2);
	assert_int_equal(a.areas[0].offset, 0x1000);
	assert_int_equal(a.areas[0].length, 0x7000);
	assert_int_equal(a.areas[1].offset, 0xa000);
	assert_int_equal(a.areas[1].length, 0x6000);
	/* at most max areas */
	assert_int_equal(vfctl_vfio_region_areas(&sp.ri, 4096, &a, 1), 1);
	/* an area past the region's end is not mapped */
	sp.areas[2].size = 0x7000;
	assert_int_equal(vfctl_vfio_region_areas(&sp.ri, 4096, &a, 4), 1);
	/* a chain that points outside what the kernel filled in */
	sp.sp.nr_areas = 30;
	assert_int_equal(vfctl_vfio_region_areas(&sp.ri, 4096, &a, 4), -EINVAL);
	sp.sp.nr_areas = 3;
	sp.msix.header.next = sizeof(sp) - 4;
	assert_int_equal(vfctl_vfio_region_areas(&sp.ri, 4096, &a, 4), -EINVAL);
	/* a loop in the chain ends too */
	sp.msix.header.next = offsetof(struct info_sparse, msix);
	assert_int_equal(vfctl_vfio_region_areas(&sp.ri, 4096, &a, 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest trees[] = {
		cmocka_unit_test(group_lookup),
		cmocka_unit_test(no_group),
		cmocka_unit_test(viability_names_the_blocker),
		cmocka_unit_test(cdev_through_vfio_dev),
		cmocka_unit_test(holders_through_dev_root),
		cmocka_unit_test(open_fds_for_handing_over),
		cmocka_unit_test(open_fds_with_iommufd),
		cmocka_unit_test(open_fds_missing_nodes),
		cmocka_unit_test(dev_open_needs_the_kernel),
		cmocka_unit_test(mmap_areas),
	};
	const struct CMUnitTest iova[] = {
		cmocka_unit_test(iova_msi_only),
		cmocka_unit_test(iova_overlap),
		cmocka_unit_test(iova_boundary),
		cmocka_unit_test(iova_missing_or_garbage),
	};
	int r = cmocka_run_group_tests_name("vfio", trees, NULL, NULL);

	return r | cmocka_run_group_tests_name("vfio_iova", iova, setup_rdir, remove_rdir);
}
