// SPDX-License-Identifier: LGPL-2.1-or-later
/* The KVM side of vfkvm: the VM, memory slots, traps, interrupts, long mode. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vfkvm.h"

#define err(fmt, ...) fprintf(stderr, "vfkvm: " fmt "\n", ##__VA_ARGS__)

const char *vfkvm_kvm_path(void)
{
	/* tests point this at a missing file */
	const char *p = getenv("VFKVM_KVM_DEV");
	return p && *p ? p : "/dev/kvm";
}

static bool has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK);
}

/* VFIO type1 pins every DMA-mapped page of guest RAM against RLIMIT_MEMLOCK
 * unless the process has CAP_IPC_LOCK: say so before the guest starts. */
int vfkvm_check_memlock(uint64_t need)
{
	struct rlimit rl;

	if (has_cap_ipc_lock())
		return 0;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return -errno;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	err("RLIMIT_MEMLOCK is %llu KiB but device DMA pins all %llu KiB of guest RAM: "
	    "raise it (ulimit -l %llu, LimitMEMLOCK= in a unit) or run with CAP_IPC_LOCK",
	    (unsigned long long)rl.rlim_cur >> 10, (unsigned long long)need >> 10,
	    (unsigned long long)(need + 1023) >> 10);
	return -ENOMEM;
}

static int set_slot(struct vfkvm_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
		    void *hva, uint32_t flags, const char *what)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0) {
		int r = -errno;
		err("KVM_SET_USER_MEMORY_REGION for %s (slot %u, gpa 0x%llx, %llu bytes): %s; "
		    "the range must be page-aligned and overlap no other slot",
		    what, slot, (unsigned long long)gpa, (unsigned long long)size, strerror(-r));
		return r;
	}
	return 0;
}

static int alloc_ram(struct vfkvm_vm *vm, uint64_t size, bool huge, bool prefault)
{
	double t0;
	int fd, r;
	void *p;

	fd = memfd_create("vfkvm-ram", MFD_CLOEXEC | (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0));
	if (fd < 0) {
		r = -errno;
		err("memfd_create for guest RAM: %s", strerror(-r));
		return r;
	}
	if (ftruncate(fd, size) < 0) {
		r = -errno;
		err("ftruncate of the guest RAM memfd to %llu bytes: %s", (unsigned long long)size,
		    strerror(-r));
		goto err_close;
	}
	/* Prefaulting a big guest's 4 KiB pages costs far more than the rest of
	 * its start: only when asked (a device's DMA pins it all anyway).
	 * Without it the guest faults in what it touches; hugetlb pages are
	 * still reserved at mmap, so a shortage shows here either way. */
	t0 = vfkvm_now_ms();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | (prefault ? MAP_POPULATE : 0),
		 fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		if (huge)
			err("mmap of %llu MiB guest RAM in 2 MiB hugetlb pages: %s; reserve %llu "
			    "free pages: echo %llu > /proc/sys/vm/nr_hugepages (plus those in use)",
			    (unsigned long long)size >> 20, strerror(-r),
			    (unsigned long long)size >> 21, (unsigned long long)size >> 21);
		else
			err("mmap of %llu MiB guest RAM: %s; lower --mem",
			    (unsigned long long)size >> 20, strerror(-r));
		goto err_close;
	}
	/* MAP_POPULATE ignores faults it cannot serve; this reports them */
	if (huge && prefault && madvise(p, size, MADV_POPULATE_WRITE) < 0) {
		r = -errno;
		err("prefaulting %llu MiB of hugetlb guest RAM: %s; reserve pages: "
		    "echo %llu > /proc/sys/vm/nr_hugepages", (unsigned long long)size >> 20,
		    strerror(-r), (unsigned long long)size >> 21);
		munmap(p, size);
		goto err_close;
	}
	vm->prefault_ms = prefault ? vfkvm_now_ms() - t0 : -1;
	vm->huge = huge;
	vm->ram_fd = fd;
	vm->ram = p;
	vm->ram_size = size;
	return 0;
err_close:
	close(fd);
	return r;
}

double vfkvm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int vfkvm_vm_create(struct vfkvm_vm *vm, uint64_t ram_size, bool hugepages, bool prefault)
{
	const char *dev = vfkvm_kvm_path();
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct vfkvm_vm v = { .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1, .ram_fd = -1 };
	int r, n;

	if (ram_size < VFKVM_RAM_MIN || ram_size > VFKVM_RAM_MAX || ram_size % (2 << 20)) {
		err("guest RAM of %llu bytes: must be a multiple of 2 MiB from 2 MiB to 3 GiB "
		    "(the 3-4 GiB hole holds the devices)", (unsigned long long)ram_size);
		return -EINVAL;
	}
	v.kvm_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (v.kvm_fd < 0) {
		r = -errno;
		err("%s: %s; %s", dev, strerror(-r),
		    r == -ENOENT ? "this host has no KVM: enable virtualization (VT-x/AMD-V, "
				   "nested for a VM) and load kvm_intel or kvm_amd"
				 : "run as root or add the user to the kvm group");
		return r;
	}
	n = ioctl(v.kvm_fd, KVM_GET_API_VERSION, 0);
	if (n != KVM_API_VERSION) {
		err("KVM_GET_API_VERSION on %s: %d, vfkvm needs %d; use a newer kernel", dev, n,
		    KVM_API_VERSION);
		r = -ENOTSUP;
		goto err;
	}
	v.vm_fd = ioctl(v.kvm_fd, KVM_CREATE_VM, 0);
	if (v.vm_fd < 0) {
		r = -errno;
		err("KVM_CREATE_VM on %s: %s; check dmesg for the reason", dev, strerror(-r));
		goto err;
	}
	/* split irqchip: in-kernel LAPIC for MSIs and irqfd, no PIC/IOAPIC to set up */
	if (ioctl(v.vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		r = -errno;
		err("KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): %s; this kernel's KVM is too old",
		    strerror(-r));
		goto err;
	}
	r = alloc_ram(&v, ram_size, hugepages, prefault);
	if (r < 0)
		goto err;
	r = set_slot(&v, v.nslots++, 0, ram_size, v.ram, 0, "guest RAM");
	if (r < 0)
		goto err;
	*vm = v;
	return 0;
err:
	vfkvm_vm_destroy(&v);
	return r;
}

/* Children first: vCPU, event wiring, the VM, then the memory its slots
 * pointed at, and /dev/kvm last. */
void vfkvm_vm_destroy(struct vfkvm_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	for (unsigned i = 0; i < vm->nioevents; i++) {
		struct vfkvm_ioevent *e = &vm->ioevents[i];
		struct kvm_ioeventfd io = { .addr = e->gpa, .len = e->len, .fd = e->efd,
					    .flags = KVM_IOEVENTFD_FLAG_DEASSIGN };

		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			err("KVM_IOEVENTFD deassign (gpa 0x%llx): %s", (unsigned long long)e->gpa,
			    strerror(errno));
		close(e->efd);
	}
	free(vm->routing);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->ram_fd >= 0)
		close(vm->ram_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	*vm = (struct vfkvm_vm){ .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1, .ram_fd = -1 };
}

int vfkvm_map_region(struct vfkvm_vm *vm, struct vfkvm_region *r)
{
	bool trap = r->readonly && r->access;
	void *p;
	int ret;

	/* check the trap table first so a failure leaves r and the VM as they were */
	if (trap && vm->ntraps == VFKVM_MAX_TRAPS) {
		err("%s: more than %d trapped regions", r->name, VFKVM_MAX_TRAPS);
		return -ENOSPC;
	}
	p = mmap(NULL, r->size, PROT_READ | (r->readonly ? 0 : PROT_WRITE), MAP_SHARED, r->fd,
		 r->fd_off);
	if (p == MAP_FAILED) {
		ret = -errno;
		err("mmap of %s (%llu bytes at fd offset 0x%llx): %s; the region cannot be a "
		    "memory slot", r->name, (unsigned long long)r->size,
		    (unsigned long long)r->fd_off, strerror(-ret));
		return ret;
	}
	ret = set_slot(vm, vm->nslots, r->gpa, r->size, p,
		       r->readonly ? KVM_MEM_READONLY : 0, r->name);
	if (ret < 0) {
		munmap(p, r->size);
		return ret;
	}
	r->map = p;
	r->slot = vm->nslots++;
	/* a write to a read-only slot exits as MMIO: route it to access() */
	if (trap)
		vm->traps[vm->ntraps++] = r;
	return 0;
}

int vfkvm_trap_region(struct vfkvm_vm *vm, struct vfkvm_region *r)
{
	if (vm->ntraps == VFKVM_MAX_TRAPS) {
		err("%s: more than %d trapped regions", r->name, VFKVM_MAX_TRAPS);
		return -ENOSPC;
	}
	vm->traps[vm->ntraps++] = r;
	return 0;
}

int vfkvm_add_msi_route(struct vfkvm_vm *vm, struct vfkvm_irq *irq)
{
	unsigned n = vm->routing ? vm->routing->nr : 0;
	struct kvm_irq_routing *rt;

	rt = realloc(vm->routing, sizeof(*rt) + (n + 1) * sizeof(rt->entries[0]));
	if (!rt)
		return -ENOMEM;
	vm->routing = rt;
	rt->entries[n] = (struct kvm_irq_routing_entry){
		.gsi = irq->gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)irq->msi_addr,
			   .address_hi = irq->msi_addr >> 32, .data = irq->msi_data },
	};
	rt->nr = n + 1;
	rt->flags = 0;
	/* the table replaces the VM's whole routing, so send all of it */
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, rt) < 0) {
		int r = -errno;
		rt->nr = n;
		err("KVM_SET_GSI_ROUTING (MSI route gsi %u -> 0x%llx/0x%x): %s", irq->gsi,
		    (unsigned long long)irq->msi_addr, irq->msi_data, strerror(-r));
		return r;
	}
	return 0;
}

int vfkvm_irqfd(struct vfkvm_vm *vm, struct vfkvm_irq *irq)
{
	struct kvm_irqfd f = { .gsi = irq->gsi };
	int efd, r;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0) {
		r = -errno;
		err("eventfd for gsi %u: %s", irq->gsi, strerror(-r));
		return r;
	}
	f.fd = efd;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0) {
		r = -errno;
		err("KVM_IRQFD (gsi %u): %s; the VM needs an irqchip and a route for the gsi",
		    irq->gsi, strerror(-r));
		close(efd);
		return r;
	}
	irq->efd = efd;
	return 0;
}

/* Before the eventfd closes: KVM stops listening on it (for VFIO the device's
 * interrupt is disabled before this). */
void vfkvm_irqfd_release(struct vfkvm_vm *vm, struct vfkvm_irq *irq)
{
	struct kvm_irqfd f = { .fd = irq->efd, .gsi = irq->gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

	if (irq->efd < 0)
		return;
	if (vm->vm_fd >= 0 && ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0)
		err("KVM_IRQFD deassign (gsi %u): %s", irq->gsi, strerror(errno));
	close(irq->efd);
	irq->efd = -1;
}

int vfkvm_signal_msi(struct vfkvm_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi m = { .address_lo = (uint32_t)addr, .address_hi = addr >> 32, .data = data };
	int n = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &m);

	if (n < 0) {
		n = -errno;
		err("KVM_SIGNAL_MSI (0x%llx/0x%x): %s", (unsigned long long)addr, data,
		    strerror(-n));
		return n;
	}
	/* 0: the guest's LAPIC blocked it */
	if (n == 0) {
		err("KVM_SIGNAL_MSI (0x%llx/0x%x): not delivered; the guest's LAPIC is "
		    "software-disabled or the destination does not exist", (unsigned long long)addr,
		    data);
		return -EAGAIN;
	}
	return 0;
}

int vfkvm_ioeventfd(struct vfkvm_vm *vm, uint64_t gpa, unsigned len, int *efd)
{
	struct kvm_ioeventfd io = { .addr = gpa, .len = len };
	int fd, r;

	if (vm->nioevents == sizeof(vm->ioevents) / sizeof(vm->ioevents[0])) {
		err("ioeventfd at 0x%llx: vfkvm holds %zu at most", (unsigned long long)gpa,
		    sizeof(vm->ioevents) / sizeof(vm->ioevents[0]));
		return -ENOSPC;
	}
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		err("eventfd for the ioeventfd at 0x%llx: %s", (unsigned long long)gpa, strerror(-r));
		return r;
	}
	io.fd = fd;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		r = -errno;
		err("KVM_IOEVENTFD (gpa 0x%llx, %u bytes): %s", (unsigned long long)gpa, len,
		    strerror(-r));
		close(fd);
		return r;
	}
	vm->ioevents[vm->nioevents++] = (struct vfkvm_ioevent){ gpa, len, fd };
	*efd = fd;
	return 0;
}

/* Page tables, GDT, TSS and IDT in guest RAM; the vCPU in 64-bit ring 0. */
#define GDT_GPA		0x1000
#define TSS_GPA		0x1100
#define IDT_GPA		0x2000
#define PML4_GPA	0x3000
#define PDPT_GPA	0x4000
#define PD0_GPA		0x5000
#define PD3_GPA		0x6000
#define STACK0_TOP	0x80000
#define PTE_PRW_U	0x7ULL
#define PTE_PS		0x80ULL

struct guest_hdr {
	char magic[8];
	uint64_t entry, nvec, handler[];
};

static void setup_tables(struct vfkvm_vm *vm, const struct guest_hdr *h)
{
	uint8_t *m = vm->ram;
	uint64_t *pml4 = (uint64_t *)(m + PML4_GPA), *pdpt = (uint64_t *)(m + PDPT_GPA);
	uint64_t *pd0 = (uint64_t *)(m + PD0_GPA), *pd3 = (uint64_t *)(m + PD3_GPA);
	uint64_t *gdt = (uint64_t *)(m + GDT_GPA), *idt = (uint64_t *)(m + IDT_GPA);

	/* user-accessible so the ring-3 driver reaches RAM and the device window */
	pml4[0] = PDPT_GPA | PTE_PRW_U;
	pdpt[0] = PD0_GPA | PTE_PRW_U;
	pdpt[3] = PD3_GPA | PTE_PRW_U;
	for (uint64_t i = 0; i < 512; i++) {
		pd0[i] = (i << 21) | PTE_PRW_U | PTE_PS;
		pd3[i] = (0xc0000000ULL + (i << 21)) | PTE_PRW_U | PTE_PS;
	}
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL;	/* 0x08 ring-0 code, 64-bit */
	gdt[2] = 0x00cf92000000ffffULL;	/* 0x10 ring-0 data */
	gdt[3] = 0x00cff2000000ffffULL;	/* 0x18 ring-3 data */
	gdt[4] = 0x00affa000000ffffULL;	/* 0x20 ring-3 code, 64-bit */
	gdt[5] = 0x67 | ((uint64_t)(TSS_GPA & 0xffffff) << 16) | (0x89ULL << 40) |
		 ((uint64_t)(TSS_GPA >> 24) << 56);	/* 0x28 TSS, available */
	gdt[6] = 0;
	memset(m + TSS_GPA, 0, 0x68);
	memcpy(m + TSS_GPA + 4, &(uint64_t){ STACK0_TOP }, 8);	/* RSP0: ring 3 -> 0 */
	memcpy(m + TSS_GPA + 0x66, &(uint16_t){ 0x68 }, 2);	/* no I/O bitmap */
	for (uint64_t v = 0; v < h->nvec; v++) {
		uint64_t a = h->handler[v];
		if (!a)
			continue;
		/* interrupt gate, DPL 0, selector 0x08 */
		idt[2 * v] = (a & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) |
			     ((a >> 16 & 0xffff) << 48);
		idt[2 * v + 1] = a >> 32;
	}
}

static int setup_vcpu(struct vfkvm_vm *vm, const struct guest_hdr *h)
{
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs s;
	struct kvm_regs regs = { .rip = h->entry, .rsp = STACK0_TOP, .rflags = 2 };
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11,
				    .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = { .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3,
				    .present = 1, .s = 1, .db = 1, .g = 1 };
	struct kvm_segment tr = { .base = TSS_GPA, .limit = 0x67, .selector = 0x28, .type = 11,
				  .present = 1 };
	const char *what;
	int r;

	/* long mode needs CPUID to show LM: give the guest what KVM supports */
	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = 256;
	what = "KVM_GET_SUPPORTED_CPUID";
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
		goto fail;
	what = "KVM_SET_CPUID2";
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		goto fail;
	what = "KVM_GET_SREGS";
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		goto fail;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = tr;
	s.gdt.base = GDT_GPA;
	s.gdt.limit = 7 * 8 - 1;
	s.idt.base = IDT_GPA;
	s.idt.limit = h->nvec ? h->nvec * 16 - 1 : 0;
	s.cr3 = PML4_GPA;
	s.cr4 = 0x20 | 0x200;			/* PAE, OSFXSR */
	s.cr0 = 0x80050033;			/* PG, WP, NE, ET, MP, PE */
	s.efer = 0x500;				/* LME, LMA */
	what = "KVM_SET_SREGS (long mode)";
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		goto fail;
	what = "KVM_SET_REGS";
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		goto fail;
	free(cpuid);
	return 0;
fail:
	r = -errno;
	err("%s: %s", what, strerror(-r));
	free(cpuid);
	return r;
}

int vfkvm_load_guest(struct vfkvm_vm *vm, const void *img, size_t len)
{
	const struct guest_hdr *h = img;
	uint64_t end = VFKVM_GUEST_LOAD + len;
	int r, sz;

	if (len < sizeof(*h) || memcmp(h->magic, "VFKVMG01", 8) ||
	    h->nvec > 256 || len < sizeof(*h) + h->nvec * 8) {
		err("the guest image has no VFKVMG01 header: build it as src/vfkvm/guest/ is built");
		return -EINVAL;
	}
	if (end > vm->ram_size || h->entry < VFKVM_GUEST_LOAD || h->entry >= end) {
		err("the guest image (%zu bytes at 0x%llx, entry 0x%llx) does not fit in %llu MiB "
		    "of RAM: raise --mem", len, VFKVM_GUEST_LOAD, (unsigned long long)h->entry,
		    (unsigned long long)vm->ram_size >> 20);
		return -E2BIG;
	}
	memcpy((uint8_t *)vm->ram + VFKVM_GUEST_LOAD, img, len);
	h = (const void *)((uint8_t *)vm->ram + VFKVM_GUEST_LOAD);
	setup_tables(vm, h);

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0) {
		r = -errno;
		err("KVM_CREATE_VCPU: %s", strerror(-r));
		return r;
	}
	sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < 0) {
		r = -errno;
		err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(-r));
		return r;
	}
	vm->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		r = -errno;
		vm->run = NULL;
		err("mmap of the vCPU's kvm_run: %s", strerror(-r));
		return r;
	}
	vm->run_size = sz;
	return setup_vcpu(vm, h);
}
