// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfkvm on the host's /dev/kvm: memory slots, the stand-in BAR shared both
 * ways, the MMIO trap path, irqfd and MSI into the long-mode guest, the
 * ioeventfd doorbell, teardown without fd leaks, and the clear errors. */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfkvm.h"
#include "unit.h"

static int need_kvm(void **state)
{
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		fprintf(stderr, "# /dev/kvm: %s\n", strerror(errno));
		skip();	/* the only reason to skip: no KVM on this host */
	}
	return 0;
}

/* Runs fn with stdout or stderr going to a memfd; returns what it wrote. */
static char *capture(int fd, int (*fn)(void *), void *arg, int *ret)
{
	int saved = dup(fd), mfd = memfd_create("capture", 0);
	char *buf;
	off_t len;

	assert_true(saved >= 0 && mfd >= 0);
	fflush(NULL);
	dup2(mfd, fd);
	*ret = fn(arg);
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

/* ---- memory slots ------------------------------------------------------ */
struct map_call {
	struct vfkvm_vm *vm;
	struct vfkvm_region *r;
};

static int do_map(void *arg)
{
	struct map_call *c = arg;
	return vfkvm_map_region(c->vm, c->r);
}

static void test_slots(void **state)
{
	struct vfkvm_vm vm;
	struct vfkvm_region r = { .name = "overlap", .gpa = 0x200000, .size = 0x1000, .slot = -1 };
	struct map_call c = { &vm, &r };
	int fds = unit_count_fds(), rc;
	char *err;

	need_kvm(state);
	assert_int_equal(vfkvm_vm_create(&vm, 4 << 20, false, true), 0);
	assert_int_equal(vm.nslots, 1);
	r.fd = memfd_create("r", MFD_CLOEXEC);
	assert_int_equal(ftruncate(r.fd, 0x1000), 0);

	/* a slot over guest RAM cannot be mapped: a clear error, r untouched */
	err = capture(2, do_map, &c, &rc);
	assert_int_equal(rc, -EEXIST);
	assert_non_null(strstr(err, "vfkvm: KVM_SET_USER_MEMORY_REGION for overlap (slot 1, gpa 0x200000"));
	assert_non_null(strstr(err, strerror(EEXIST)));
	assert_non_null(strstr(err, "overlap no other slot"));
	free(err);
	assert_null(r.map);
	assert_int_equal(r.slot, -1);
	assert_int_equal(vm.nslots, 1);

	/* at a free address it becomes slot 1 */
	r.gpa = VFKVM_BAR_GPA;
	assert_int_equal(vfkvm_map_region(&vm, &r), 0);
	assert_int_equal(r.slot, 1);
	assert_non_null(r.map);
	assert_int_equal(vm.nslots, 2);

	munmap(r.map, r.size);
	close(r.fd);
	vfkvm_vm_destroy(&vm);
	assert_int_equal(vm.vm_fd, -1);
	assert_int_equal(unit_count_fds(), fds);
}

/* ---- the built-in guest with the stand-in BAR --------------------------- */
static int run_guest(void *arg)
{
	return vfkvm_run(arg);
}

static void test_guest(void **state)
{
	struct vfkvm_opts o = { .mem = 8 << 20, .stand_in_bar = true, .trace = true };
	const uint64_t host_val = 0x5a5aa5a5c3c33c3cULL;
	int fds = unit_count_fds(), rc;
	struct vfkvm *v;
	uint64_t *bar;
	char *out;

	need_kvm(state);
	assert_int_equal(vfkvm_setup(&v, &o), 0);
	bar = vfkvm_bar(v);
	assert_non_null(bar);
	/* the host writes the BAR, the ring-3 guest reads it and writes back ~it */
	bar[0] = host_val;
	out = capture(1, run_guest, v, &rc);
	assert_int_equal(rc, 0);
	assert_true(bar[1] == ~host_val);
	assert_non_null(strstr(out, "guest: bar[0] = 0x5a5aa5a5c3c33c3c\n"));

	/* trap path: each access exits with its address, size and data */
	assert_non_null(strstr(out, "mmio: write 0xfebe0200 size 1 data 0x11\n"
				    "mmio: write 0xfebe0202 size 2 data 0x2233\n"
				    "mmio: write 0xfebe0204 size 4 data 0x44556677\n"
				    "mmio: write 0xfebe0208 size 8 data 0x8899aabbccddeeff\n"
				    "mmio: read 0xfebe0210 size 1 data 0xef\n"));
	assert_non_null(strstr(out, "guest: read8 = 0xef\n"));
	assert_non_null(strstr(out, "guest: read16 = 0xcdef\n"));
	assert_non_null(strstr(out, "guest: read32 = 0x89abcdef\n"));
	assert_non_null(strstr(out, "guest: read64 = 0x123456789abcdef\n"));

	/* read-only slot: the write exits, the memory keeps the host's value */
	assert_non_null(strstr(out, "mmio: write 0xfebd0004 size 4 data 0xdeadbeef\n"));
	assert_non_null(strstr(out, "guest: roslot[0] = 0x526f536c6f74\n"));

	/* doorbell: counted by the ioeventfd, never an exit */
	assert_non_null(strstr(out, "guest: doorbells = 0x1\n"));
	assert_null(strstr(out, "0xfebe1000"));

	/* the ring-0 handlers ran once each: irqfd on the MSI route, SIGNAL_MSI */
	assert_non_null(strstr(out, "guest: irqfd = 0x1\n"));
	assert_non_null(strstr(out, "guest: msi = 0x1\n"));
	free(out);

	vfkvm_teardown(v);
	assert_int_equal(unit_count_fds(), fds);
}

struct setup_call {
	struct vfkvm **v;
	struct vfkvm_opts *o;
};

static int do_setup(void *arg)
{
	struct setup_call *c = arg;
	return vfkvm_setup(c->v, c->o);
}

/* A failing setup (an image without the header) unwinds everything. */
static void test_setup_failure_no_leak(void **state)
{
	static const char bad[] = "not a guest";
	char path[] = "/tmp/vfkvm-bad-XXXXXX";
	struct vfkvm_opts o = { .mem = 4 << 20, .stand_in_bar = true, .guest = path };
	struct vfkvm *v = (struct vfkvm *)&o;
	int fd, fds, rc;
	char *err;

	need_kvm(state);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bad, sizeof(bad)), (ssize_t)sizeof(bad));
	close(fd);
	fds = unit_count_fds();
	err = capture(2, do_setup, &(struct setup_call){ &v, &o }, &rc);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, "vfkvm: the guest image has no VFKVMG01 header: build it as "
				 "src/vfkvm/guest/ is built\n");
	free(err);
	assert_ptr_equal(v, (struct vfkvm *)&o);	/* out-parameter untouched */
	assert_int_equal(unit_count_fds(), fds);
	unlink(path);
}

/* A raw image: the VFKVMG01 header, entry at 0x100018, no IDT, then code. */
static void write_image(char *path, const char *code, size_t len)
{
	char hdr[24] = "VFKVMG01\x18\x00\x10";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(write(fd, code, len), (ssize_t)len);
	close(fd);
}

struct guest_end {
	const char *code;
	size_t len;
	int signal;		/* sent to ourselves while the guest runs */
	int want;
	const char *msg;
};

/* Guest failure and a signal: vfkvm_run says which, teardown leaks nothing. */
static void test_stop_no_leak(void **state)
{
	static const struct guest_end ends[] = {
		{ "\x0f\x0b", 2, 0, -EFAULT,	/* ud2 with no IDT */
		  "vfkvm: guest failure: shutdown (triple fault): check the guest's IDT and stack\n" },
		{ "\xeb\xfe", 2, SIGALRM, -EINTR,	/* jmp . */
		  "vfkvm: stopping the guest on signal 14 (Alarm clock)\n" },
	};
	struct sigaction sa = { .sa_handler = vfkvm_on_signal }, old;

	need_kvm(state);
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		char path[] = "/tmp/vfkvm-img-XXXXXX";
		struct vfkvm_opts o = { .mem = 4 << 20, .stand_in_bar = true, .guest = path };
		struct itimerval t = { .it_value = { .tv_usec = 100000 } };
		int fds = unit_count_fds(), rc;
		struct vfkvm *v;
		char *err;

		write_image(path, ends[i].code, ends[i].len);
		assert_int_equal(vfkvm_setup(&v, &o), 0);
		if (ends[i].signal)
			assert_int_equal(setitimer(ITIMER_REAL, &t, NULL), 0);
		err = capture(2, run_guest, v, &rc);
		assert_int_equal(rc, ends[i].want);
		assert_string_equal(err, ends[i].msg);
		free(err);
		vfkvm_teardown(v);
		unlink(path);
		vfkvm_stop_signal = 0;
		assert_int_equal(unit_count_fds(), fds);
	}
	sigaction(SIGALRM, &old, NULL);
}

/* ---- clear errors ------------------------------------------------------- */
static int do_create(void *arg)
{
	struct vfkvm_vm vm = { .vm_fd = 1234 };
	int r = vfkvm_vm_create(&vm, 4 << 20, false, true);

	/* untouched on failure */
	assert_int_equal(vm.vm_fd, 1234);
	return r;
}

static void test_missing_kvm(void **state)
{
	int fds = unit_count_fds(), rc;
	char *err;

	setenv("VFKVM_KVM_DEV", "/nonexistent/kvm", 1);
	err = capture(2, do_create, NULL, &rc);
	unsetenv("VFKVM_KVM_DEV");
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(err, "vfkvm: /nonexistent/kvm: No such file or directory; this host "
				 "has no KVM: enable virtualization (VT-x/AMD-V, nested for a VM) "
				 "and load kvm_intel or kvm_amd\n");
	free(err);
	assert_int_equal(unit_count_fds(), fds);
}

/* In a child without CAP_IPC_LOCK and with a 1 MiB RLIMIT_MEMLOCK, a guest with
 * a device and 64 MiB of RAM is refused before any KVM object exists. */
static void test_memlock(void **state)
{
	int pfd[2], status;
	char buf[512] = { 0 };
	pid_t pid;

	need_kvm(state);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct d[2];
		struct rlimit rl = { 1 << 20, 1 << 20 };
		struct vfkvm_opts o = { .mem = 64 << 20, .stand_in_bar = true };
		struct vfkvm *v = NULL;
		int r;

		dup2(pfd[1], 2);
		if (syscall(SYS_capget, &h, d) < 0)
			_exit(100);
		d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
		if (syscall(SYS_capset, &h, d) < 0 || setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			_exit(101);
		r = vfkvm_setup(&v, &o);
		_exit(r == -ENOMEM && !v ? 0 : 102);
	}
	close(pfd[1]);
	assert_true(read(pfd[0], buf, sizeof(buf) - 1) > 0);
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(buf, "vfkvm: RLIMIT_MEMLOCK is 1024 KiB but device DMA pins all "
				 "65536 KiB of guest RAM: raise it (ulimit -l 65536, LimitMEMLOCK= "
				 "in a unit) or run with CAP_IPC_LOCK\n");
}

/* ---- guest RAM prefault ------------------------------------------------ */
/* Only a device's DMA (--vf, --lease: vf is set) or --prefault faults guest
 * RAM in; the stand-in BAR is a memory slot and DMAs nothing. */
static void test_prefault_wanted(void **state)
{
	(void)state;
	assert_false(vfkvm_prefault_wanted(&(struct vfkvm_opts){ .mem = 1ULL << 30 }));
	assert_false(vfkvm_prefault_wanted(&(struct vfkvm_opts){ .stand_in_bar = true }));
	assert_false(vfkvm_prefault_wanted(&(struct vfkvm_opts){ .hugepages = true }));
	assert_true(vfkvm_prefault_wanted(&(struct vfkvm_opts){ .vf = "0000:01:10.0" }));
	assert_true(vfkvm_prefault_wanted(&(struct vfkvm_opts){ .prefault = true }));
}

/* How many of the n pages at p are resident. */
static size_t resident_pages(void *p, size_t n)
{
	unsigned char *vec = calloc(n, 1);
	size_t count = 0;

	assert_non_null(vec);
	assert_int_equal(mincore(p, n * 4096, vec), 0);
	for (size_t i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

/* Without prefault nothing of guest RAM is resident after the VM is made
 * (and no time is reported); with it all of it is. */
static void test_prefault_resident(void **state)
{
	const size_t pages = (16 << 20) / 4096;
	struct vfkvm_vm vm;

	need_kvm(state);
	assert_int_equal(vfkvm_vm_create(&vm, 16 << 20, false, false), 0);
	assert_true(vm.prefault_ms < 0);
	assert_int_equal(resident_pages(vm.ram, pages), 0);
	vfkvm_vm_destroy(&vm);
	assert_int_equal(vfkvm_vm_create(&vm, 16 << 20, false, true), 0);
	assert_true(vm.prefault_ms >= 0);
	assert_int_equal(resident_pages(vm.ram, pages), pages);
	vfkvm_vm_destroy(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_guest),
		cmocka_unit_test(test_setup_failure_no_leak),
		cmocka_unit_test(test_stop_no_leak),
		cmocka_unit_test(test_missing_kvm),
		cmocka_unit_test(test_memlock),
		cmocka_unit_test(test_prefault_wanted),
		cmocka_unit_test(test_prefault_resident),
	};
	return cmocka_run_group_tests_name("vfkvm", tests, NULL, NULL);
}
