// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfkvm --vf and --lease without a VFIO kernel, on golden trees through
 * libvfctl: what vfkvm says when the library refuses (a group that is not
 * viable, a VF on its host driver, no VFIO, nodes that are no VFIO devices),
 * that the fds handed over are closed on every failure, and that a failed
 * open leaves nothing to tear down. The library's own checks are in
 * test_vfio.c; the working path runs in the VM suites. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "vfkvm.h"
#include "unit.h"

#define VF7 "0000:03:11.6"	/* 82599-8vf: VF 7 on vfio-pci, group 37 */

static struct vfctl_ctx *tree_ctx(const char *name)
{
	const char *fx = getenv("FIXTURES");
	struct vfctl_ctx *ctx;
	char sys[512];

	assert_non_null(fx);
	snprintf(sys, sizeof(sys), "%s/%s/sys", fx, name);
	assert_int_equal(vfctl_ctx_new(&ctx, &(struct vfctl_opts){ .size = sizeof(struct vfctl_opts), .sysfs_root = sys }), 0);
	return ctx;
}

/* Runs fn with stdout or stderr going to a memfd; returns what it wrote. */
struct call {
	struct vfkvm_vfio vf;
	struct vfkvm_vm vm;
	struct vfkvm_dev dev;
	struct vfctl_ctx *ctx;
	const char *bdf;
	struct vfctl_lease_fds *lf;
	int ret;
};

static void call_open(struct call *c)
{
	if (c->lf)
		c->ret = vfkvm_vfio_adopt(&c->vf, c->ctx, c->lf, VFKVM_IOMMU_LEGACY, &c->vm, &c->dev);
	else
		c->ret = vfkvm_vfio_open(&c->vf, c->ctx, c->bdf, VFKVM_IOMMU_LEGACY, &c->vm, &c->dev);
}

static char *capture(int fd, struct call *c)
{
	int saved = dup(fd), mfd = memfd_create("capture", 0);
	char *buf;
	off_t len;

	assert_true(saved >= 0 && mfd >= 0);
	fflush(NULL);
	dup2(mfd, fd);
	call_open(c);
	fflush(NULL);
	dup2(saved, fd);
	close(saved);
	len = lseek(mfd, 0, SEEK_END);
	buf = calloc(1, len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(mfd, buf, len, 0), len);
	close(mfd);
	return buf;
}

/* --vf: the library's message with vfkvm's prefix, one line on stderr;
 * nothing open afterwards, and the teardown of the failed open is a no-op. */
static void open_refused(const char *tree, const char *bdf, int want, const char *msg)
{
	struct call c = { .ctx = tree_ctx(tree), .bdf = bdf };
	int before = unit_count_fds();
	char *e, line[1024];

	e = capture(2, &c);
	assert_int_equal(c.ret, want);
	snprintf(line, sizeof(line), "vfkvm: %s\n", msg);
	assert_string_equal(e, line);
	assert_null(c.vf.dev);
	assert_int_equal(c.vf.device, -1);
	assert_string_equal(c.dev.name, bdf);
	vfkvm_vfio_close_device(&c.vf);
	vfkvm_vfio_close(&c.vf);
	assert_int_equal(unit_count_fds(), before);
	free(e);
	vfctl_ctx_free(c.ctx);
}

static void vf_group_not_viable(void **state)
{
	open_refused("shared-group", "0000:05:10.0", -EBUSY,
		     "IOMMU group 12 is not viable: 0000:05:00.0 is bound to ixgbe; bind it to "
		     "vfio-pci (or unbind it) so group 12 can be used with VFIO");
}

static void vf_on_its_host_driver(void **state)
{
	open_refused("82599-8vf", "0000:03:10.0", -ENXIO,
		     "0000:03:10.0 is bound to ixgbevf, not vfio-pci: bind it to vfio-pci (vfctl "
		     "bind) to use it with VFIO");
}

static void vf_without_iommu(void **state)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s/no-iommu/sys/bus/pci/devices/0000:01:00.0/iommu_group: No "
		 "such file or directory; 0000:01:00.0 is in no IOMMU group: enable the IOMMU "
		 "(intel_iommu=on or amd_iommu=on) to pass it through", getenv("FIXTURES"));
	open_refused("no-iommu", "0000:01:00.0", -ENOENT, msg);
}

/* The golden tree's nodes are plain files: the first ioctl says so. */
static void vf_nodes_are_no_vfio(void **state)
{
	open_refused("82599-8vf", VF7, -ENOTTY,
		     VF7 ": VFIO_GET_API_VERSION on the container: Inappropriate ioctl for device");
}

/* --lease: vfctld's fds (here: the tree's nodes, opened as vfctld opens
 * them) are taken over and closed when the open fails. */
static void lease_fds_closed_on_failure(void **state)
{
	struct vfctl_lease_fds lf = { .size = sizeof(lf) };
	struct call c = { .ctx = tree_ctx("82599-8vf"), .lf = &lf };
	int before = unit_count_fds(), cfd, gfd;
	char *out;

	assert_int_equal(vfctl_vfio_open_fds(c.ctx, VF7, 0, &lf), 0);
	cfd = lf.container_fd;
	gfd = lf.group_fd;
	assert_true(fcntl(cfd, F_GETFD) >= 0 && fcntl(gfd, F_GETFD) >= 0);
	out = capture(1, &c);
	assert_int_equal(c.ret, -ENOTTY);
	assert_string_equal(out, "vfio: " VF7 ": container and group 37 fds from vfctld\n");
	assert_int_equal(lf.container_fd, -1);
	assert_int_equal(lf.group_fd, -1);
	assert_true(fcntl(cfd, F_GETFD) < 0 && fcntl(gfd, F_GETFD) < 0);
	assert_null(c.vf.dev);
	vfkvm_vfio_close(&c.vf);
	assert_int_equal(unit_count_fds(), before);
	free(out);
	vfctl_ctx_free(c.ctx);
}

/* vfkvm_setup() owns the lease's fds from the start: a failure anywhere
 * (here the VFIO open, after the VM exists) leaves none open. */
static void setup_takes_the_lease_fds(void **state)
{
	struct vfctl_ctx *ctx = tree_ctx("82599-8vf");
	struct vfctl_lease_fds lf = { .size = sizeof(lf) };
	struct vfkvm_opts o = { .mem = 4 << 20, .ctx = ctx, .lease_fds = &lf, .lease = "L1" };
	struct vfkvm *v = (void *)&v;
	int before = unit_count_fds(), saved = dup(2), null = open("/dev/null", O_WRONLY);

	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		fprintf(stderr, "# /dev/kvm: %s\n", strerror(errno));
		close(saved);
		close(null);
		vfctl_ctx_free(ctx);
		skip();	/* the only reason to skip: no KVM on this host */
	}
	assert_int_equal(vfctl_vfio_open_fds(ctx, VF7, 0, &lf), 0);
	o.vf = lf.addr;
	fflush(NULL);
	dup2(null, 2);
	assert_int_equal(vfkvm_setup(&v, &o), -ENOTTY);
	fflush(NULL);
	dup2(saved, 2);
	close(saved);
	close(null);
	assert_ptr_equal(v, (void *)&v);
	assert_int_equal(unit_count_fds(), before);
	vfctl_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vf_group_not_viable),
		cmocka_unit_test(vf_on_its_host_driver),
		cmocka_unit_test(vf_without_iommu),
		cmocka_unit_test(vf_nodes_are_no_vfio),
		cmocka_unit_test(lease_fds_closed_on_failure),
		cmocka_unit_test(setup_takes_the_lease_fds),
	};
	return cmocka_run_group_tests_name("vfkvm_vfio", tests, NULL, NULL);
}
