/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfkvm: a minimal KVM launcher for one guest and its devices.
 *
 * Guest-physical layout (fixed, documented in vfkvm(1)):
 *   0x0000_1000  GDT (null, ring-0 code/data, ring-3 data/code, TSS)
 *   0x0000_1100  TSS (RSP0 = 0x80000)
 *   0x0000_2000  IDT
 *   0x0000_3000  page tables (PML4, PDPT, PDs: 2 MiB pages, user-accessible,
 *                0-1 GiB and 3-4 GiB identity-mapped)
 *   0x0008_0000  ring-0 stack top; 0x0009_0000 ring-3 stack top
 *   0x0010_0000  guest image (header: "VFKVMG01", entry, nvec, handlers[nvec])
 *   0xfebd_0000  read-only slot (4 KiB; writes become MMIO exits)
 *   0xfebe_0000  control region (4 KiB, trapped: every access is an MMIO exit)
 *   0xfebe_1000  doorbell (4 bytes, an ioeventfd: no exit)
 *   0xfebf_0000  stand-in BAR (64 KiB memfd, a memory slot the host shares)
 *   0xfee0_0000  LAPIC (in-kernel, split irqchip)
 * Guest RAM starts at 0 and may not reach 0xc000_0000 (the 3-4 GiB hole).
 */
#ifndef VFKVM_H
#define VFKVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfctl.h"

#define VFKVM_GUEST_LOAD	0x100000ULL
#define VFKVM_RAM_MAX		0xc0000000ULL
#define VFKVM_RAM_MIN		(2ULL << 20)
#define VFKVM_ROSLOT_GPA	0xfebd0000ULL
#define VFKVM_CTRL_GPA		0xfebe0000ULL
#define VFKVM_DOORBELL_GPA	0xfebe1000ULL
#define VFKVM_BAR_GPA		0xfebf0000ULL
#define VFKVM_BAR_SIZE		0x10000ULL
/* BARs 1-5 of a --vf device: a 1 MiB window each at 0xfe000000 + K MiB */
#define VFKVM_BARN_GPA(k)	(0xfe000000ULL + ((uint64_t)(k) << 20))
#define VFKVM_BARN_SIZE		0x100000ULL
#define VFKVM_IRQ_VEC		0x40	/* device interrupt K: vector 0x40 + K */
#define VFKVM_MSI_VEC		0x44
#define VFKVM_MAX_REGIONS	16
#define VFKVM_MAX_IRQS		4
#define VFKVM_MAX_TRAPS		16

struct vfkvm_region;
/* Serves a guest access to a region that is not a memory slot (or a write to
 * a read-only slot). For VFIO: pread/pwrite on the device fd at the region's
 * offset. Returns 0 or -errno. */
typedef int (*vfkvm_access_fn)(struct vfkvm_region *r, uint64_t off, void *data,
			       unsigned len, bool write);

struct vfkvm_region {
	const char *name;
	uint64_t gpa, size;
	int fd;			/* backing fd (memfd; VFIO device fd), -1 if none */
	off_t fd_off;		/* the region's offset in fd */
	void *map;		/* host mapping when mapped as a slot, else NULL */
	bool readonly;		/* KVM_MEM_READONLY: writes trap to access() */
	int slot;		/* KVM slot, -1 if trapped only */
	vfkvm_access_fn access;
	void *priv;
};

struct vfkvm_irq {
	uint32_t gsi;
	int efd;		/* eventfd wired with KVM_IRQFD, -1 if none */
	uint64_t msi_addr;
	uint32_t msi_data;
};

/* One device the guest sees: regions (BARs) and interrupts. The stand-in
 * BAR fills it now; a VFIO VF (--vf) will fill it from the device fd. */
struct vfkvm_dev {
	const char *name;
	struct vfkvm_region regions[VFKVM_MAX_REGIONS];
	unsigned nregions;
	struct vfkvm_irq irqs[VFKVM_MAX_IRQS];
	unsigned nirqs;
};

struct vfkvm_ioevent {
	uint64_t gpa;
	unsigned len;
	int efd;
};

struct vfkvm_vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	int ram_fd;
	void *ram;
	uint64_t ram_size;
	unsigned nslots;
	struct vfkvm_region *traps[VFKVM_MAX_TRAPS];
	unsigned ntraps;
	struct vfkvm_ioevent ioevents[2];
	unsigned nioevents;
	struct kvm_irq_routing *routing;
	unsigned long mmio_exits;
	double prefault_ms;	/* the guest RAM's MAP_POPULATE, -1 when not prefaulted */
	bool huge;		/* guest RAM in 2 MiB hugetlb pages */
};

/* --iommu: how the VF's DMA is set up */
enum vfkvm_iommu {
	VFKVM_IOMMU_AUTO,	/* iommufd and the cdev where the kernel has them */
	VFKVM_IOMMU_LEGACY,	/* the container and type1v2 */
	VFKVM_IOMMU_IOMMUFD,	/* iommufd and the cdev, or refuse */
};

struct vfkvm_opts {
	uint64_t mem;
	bool hugepages;
	const char *guest;	/* NULL: the built-in image */
	bool stand_in_bar;
	const char *vf;		/* --vf: a PCI address, NULL if none */
	/* --lease: the VF's fds from vfctld (vf names the VF); vfkvm_setup()
	 * takes them, also on failure. NULL for --vf */
	struct vfctl_lease_fds *lease_fds;
	const char *lease;	/* the lease id, for messages */
	struct vfctl_ctx *ctx;	/* libvfctl's, for --vf and --lease */
	bool trace;
	enum vfkvm_iommu iommu;	/* --iommu */
	bool prefault;		/* --prefault */
};

/* kvm.c */
const char *vfkvm_kvm_path(void);
/* CLOCK_MONOTONIC in ms, for the figures vfkvm prints (prefault, DMA map) */
double vfkvm_now_ms(void);
int vfkvm_vm_create(struct vfkvm_vm *vm, uint64_t ram_size, bool hugepages, bool prefault);
void vfkvm_vm_destroy(struct vfkvm_vm *vm);
int vfkvm_map_region(struct vfkvm_vm *vm, struct vfkvm_region *r);
int vfkvm_trap_region(struct vfkvm_vm *vm, struct vfkvm_region *r);
int vfkvm_add_msi_route(struct vfkvm_vm *vm, struct vfkvm_irq *irq);
int vfkvm_irqfd(struct vfkvm_vm *vm, struct vfkvm_irq *irq);
void vfkvm_irqfd_release(struct vfkvm_vm *vm, struct vfkvm_irq *irq);
int vfkvm_signal_msi(struct vfkvm_vm *vm, uint64_t addr, uint32_t data);
int vfkvm_ioeventfd(struct vfkvm_vm *vm, uint64_t gpa, unsigned len, int *efd);
int vfkvm_load_guest(struct vfkvm_vm *vm, const void *img, size_t len);
int vfkvm_check_memlock(uint64_t need);

/* vfio.c: --vf, a PCI function bound to vfio-pci, through libvfctl */
struct vfkvm_vfio {
	char bdf[VFCTL_ADDR_LEN];
	struct vfctl_ctx *ctx;	/* the caller's: its messages */
	struct vfctl_vfio_dev *dev;
	int device;		/* dev's device fd: the trapped BAR accesses, -1 once closed */
	uint64_t bar_off[6];	/* each BAR's offset in the device fd */
	uint64_t bar_size[6];	/* 0: not implemented (or a 64-bit BAR's upper half) */
	int msix_bar;		/* the BAR holding the MSI-X table and PBA, -1 if none */
	uint64_t msix_table_off, msix_table_size;	/* within msix_bar */
	uint64_t msix_pba_off, msix_pba_size;
	bool msix_write_seen;	/* a guest write to the table was refused once */
	unsigned msix_on;	/* MSI-X vectors 0..msix_on-1 wired to irqfds */
	uint64_t dma_size;	/* guest RAM mapped at IOVA 0, 0 if not mapped */
	uint16_t vendor, device_id;	/* from config space: the guest's driver goes by them */
};
/* VFKVM_IOMMU_IOMMUFD: -EOPNOTSUPP if the kernel (or, for adopt, vfctld's
 * fds) offers no such path */
int vfkvm_vfio_open(struct vfkvm_vfio *vf, struct vfctl_ctx *ctx, const char *bdf,
		    enum vfkvm_iommu iommu,
		    struct vfkvm_vm *vm, struct vfkvm_dev *d);
/* The same with the fds vfctld handed over (vfkvm --lease): takes every fd
 * of lf, also on failure. */
int vfkvm_vfio_adopt(struct vfkvm_vfio *vf, struct vfctl_ctx *ctx, struct vfctl_lease_fds *lf,
		     enum vfkvm_iommu iommu, struct vfkvm_vm *vm, struct vfkvm_dev *d);
void vfkvm_vfio_close_device(struct vfkvm_vfio *vf);
void vfkvm_vfio_close(struct vfkvm_vfio *vf);

/* run.c: the guest, its stand-in device and the run loop */
struct vfkvm;
/* Fault all guest RAM in before the guest runs: when a device will DMA into
 * it (--vf, --lease) or --prefault asks; else the guest faults in what it
 * touches (a 1 GiB guest starts as fast as a 64 MiB one). */
bool vfkvm_prefault_wanted(const struct vfkvm_opts *o);
int vfkvm_setup(struct vfkvm **out, const struct vfkvm_opts *o);
/* Runs the guest to its end: returns its exit status (>= 0), or -errno. */
int vfkvm_run(struct vfkvm *v);
void vfkvm_teardown(struct vfkvm *v);
void *vfkvm_bar(struct vfkvm *v);
int vfkvm_vf_read32(struct vfkvm *v, unsigned bar, uint64_t off, uint32_t *val);
/* What guest-side failure code C_GFAIL means and what to do, NULL if
 * unknown (the test of the ixgbevf driver checks the text it leads to). */
const char *vfkvm_guest_failure(uint64_t code);
/* The VF families the built-in guest has a driver for (vfkvm --help), up
 * to an entry with vendor 0; any other VF gets the igbvf driver. */
struct vfkvm_vf_family {
	uint16_t vendor, device;
	const char *driver, *name;
};
const struct vfkvm_vf_family *vfkvm_vf_families(void);
extern volatile int vfkvm_stop_signal;
/* The handler for SIGTERM/SIGINT: stops vfkvm_run(), even mid-KVM_RUN. */
void vfkvm_on_signal(int sig);

extern const unsigned char vfkvm_guest_start[], vfkvm_guest_end[];

#endif
