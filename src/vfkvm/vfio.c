// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfkvm --vf: a PCI function bound to vfio-pci, opened through libvfctl's
 * VFIO module (the container/group interface, type1v2 IOMMU). vfkvm keeps
 * the KVM side: BAR0 becomes a KVM memory slot at VFKVM_BAR_GPA (mmapped)
 * or a trapped region (pread/pwrite on the device fd); guest RAM is
 * DMA-mapped with IOVA = guest-physical; MSI-X vectors go to irqfds. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfkvm.h"

#define err(fmt, ...) fprintf(stderr, "vfkvm: " fmt "\n", ##__VA_ARGS__)
/* a libvfctl failure: its message names the device, the call and what to do */
#define lib_err(vf) err("%s", vfctl_ctx_error((vf)->ctx))

/* trapped BAR access: the guest's MMIO is a pread/pwrite on the device fd */
static int bar_access(struct vfkvm_region *r, uint64_t off, void *data, unsigned len,
		      bool write)
{
	struct vfkvm_vfio *vf = r->priv;
	ssize_t n = write ? pwrite(vf->device, data, len, r->fd_off + off)
			  : pread(vf->device, data, len, r->fd_off + off);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/* The BAR with the MSI-X table: the guest reads it (a read-only slot), but
 * vfkvm owns the table, which VFIO_DEVICE_SET_IRQS programmed with the
 * host's MSI addresses: a guest write there is dropped (said once); other
 * writes go to the device. */
static int msix_bar_access(struct vfkvm_region *r, uint64_t off, void *data, unsigned len,
			   bool write)
{
	struct vfkvm_vfio *vf = r->priv;
	uint64_t boff = r->fd_off + off - vf->bar_off[vf->msix_bar];

	if (write && boff < vf->msix_table_off + vf->msix_table_size &&
	    boff + len > vf->msix_table_off) {
		if (!vf->msix_write_seen)
			printf("vfio: %s guest write to the MSI-X table (BAR%d offset 0x%llx) "
			       "dropped: vfkvm wires the vectors\n", vf->bdf, vf->msix_bar,
			       (unsigned long long)boff);
		vf->msix_write_seen = true;
		return 0;
	}
	if (!write && r->map) {
		memcpy(data, (uint8_t *)r->map + off, len);
		return 0;
	}
	return bar_access(r, off, data, len, write);
}

static int config_rw(struct vfkvm_vfio *vf, unsigned off, void *buf, unsigned len, bool write)
{
	int r = vfctl_vfio_dev_rw(vf->dev, VFCTL_VFIO_CONFIG, off, buf, len, write);

	if (r < 0)
		lib_err(vf);
	return r;
}

/* Where the MSI-X capability puts the table and the PBA (BIR, offset). */
static int find_msix(struct vfkvm_vfio *vf)
{
	uint8_t pos = 0, id;
	uint16_t status, ctl;
	uint32_t table, pba;
	int r;

	vf->msix_bar = -1;
	r = config_rw(vf, PCI_STATUS, &status, 2, false);
	if (r < 0 || !(status & PCI_STATUS_CAP_LIST))
		return r;
	r = config_rw(vf, PCI_CAPABILITY_LIST, &pos, 1, false);
	for (unsigned hops = 0; r == 0 && pos >= 0x40 && hops < 48; hops++) {
		r = config_rw(vf, pos, &id, 1, false);
		if (r < 0)
			return r;
		if (id == PCI_CAP_ID_MSIX) {
			if ((r = config_rw(vf, pos + PCI_MSIX_FLAGS, &ctl, 2, false)) < 0 ||
			    (r = config_rw(vf, pos + PCI_MSIX_TABLE, &table, 4, false)) < 0 ||
			    (r = config_rw(vf, pos + PCI_MSIX_PBA, &pba, 4, false)) < 0)
				return r;
			vf->msix_bar = table & PCI_MSIX_TABLE_BIR;
			vf->msix_table_off = table & PCI_MSIX_TABLE_OFFSET;
			vf->msix_table_size = ((ctl & PCI_MSIX_FLAGS_QSIZE) + 1) * 16ULL;
			vf->msix_pba_off = pba & PCI_MSIX_PBA_OFFSET;
			vf->msix_pba_size = ((ctl & PCI_MSIX_FLAGS_QSIZE) + 64) / 64 * 8ULL;
			return 0;
		}
		r = config_rw(vf, pos + PCI_CAP_LIST_NEXT, &pos, 1, false);
	}
	return r;
}

static struct vfkvm_region *new_region(struct vfkvm_vfio *vf, struct vfkvm_dev *d)
{
	if (d->nregions == VFKVM_MAX_REGIONS) {
		err("%s: more than %d BAR pieces to map", vf->bdf, VFKVM_MAX_REGIONS);
		return NULL;
	}
	return &d->regions[d->nregions++];
}

/* BAR k at its window (BAR0 at VFKVM_BAR_GPA, others at VFKVM_BARN_GPA):
 * what VFIO lets be mmapped becomes memory slots, the rest is trapped (a
 * pread or pwrite on the device fd for each access). The BAR with the
 * MSI-X table is read-only to the guest (msix_bar_access). */
static int setup_bar(struct vfkvm_vfio *vf, struct vfkvm_vm *vm, struct vfkvm_dev *d,
		     unsigned k)
{
	static const char *const names[] = { "BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5" };
	uint64_t gpa = k ? VFKVM_BARN_GPA(k) : VFKVM_BAR_GPA;
	uint64_t window = k ? VFKVM_BARN_SIZE : VFKVM_BAR_SIZE;
	struct vfctl_vfio_region ri = { .size = sizeof(ri) };
	struct vfkvm_region *bar;
	bool msix = (int)k == vf->msix_bar;
	unsigned n;
	int r;

	r = vfctl_vfio_dev_region(vf->dev, VFCTL_VFIO_BAR0 + k, &ri);
	if (r < 0) {
		lib_err(vf);
		return r;
	}
	vf->bar_off[k] = ri.offset;
	vf->bar_size[k] = ri.length;
	if (!ri.length || !(ri.flags & (VFCTL_VFIO_REGION_READ | VFCTL_VFIO_REGION_WRITE)))
		return 0;	/* not implemented, an I/O port BAR VFIO hides, or an upper half */
	if (ri.length > window) {
		err("%s: %s is %llu KiB, more than the %llu KiB window at 0x%llx", vf->bdf,
		    names[k], (unsigned long long)ri.length >> 10,
		    (unsigned long long)window >> 10, (unsigned long long)gpa);
		return -E2BIG;
	}
	n = ri.n_areas;
	for (unsigned i = 0; i < n; i++) {
		bar = new_region(vf, d);
		if (!bar)
			return -ENOSPC;
		*bar = (struct vfkvm_region){ .name = names[k], .gpa = gpa + ri.areas[i].offset,
					      .size = ri.areas[i].length, .fd = vf->device,
					      .fd_off = ri.offset + ri.areas[i].offset, .slot = -1,
					      .readonly = msix,
					      .access = msix ? msix_bar_access : bar_access,
					      .priv = vf };
		r = vfkvm_map_region(vm, bar);
		bar->fd = -1;	/* the mapping holds the device; vf owns the fd */
		if (r < 0) {
			d->nregions--;
			return r;
		}
	}
	/* the whole BAR trapped too: the slots take what they cover, the
	 * exits for the rest come here */
	if (n != 1 || ri.areas[0].length != ri.length) {
		bar = new_region(vf, d);
		if (!bar)
			return -ENOSPC;
		*bar = (struct vfkvm_region){ .name = names[k], .gpa = gpa, .size = ri.length,
					      .fd = -1, .fd_off = ri.offset, .slot = -1,
					      .access = msix ? msix_bar_access : bar_access,
					      .priv = vf };
		r = vfkvm_trap_region(vm, bar);
		if (r < 0) {
			d->nregions--;
			return r;
		}
	}
	if (n == 1 && ri.areas[0].length == ri.length)
		printf("vfio: %s %s %llu KiB mmapped at gpa 0x%llx (slot %d)%s\n", vf->bdf,
		       names[k], (unsigned long long)ri.length >> 10, (unsigned long long)gpa,
		       d->regions[d->nregions - 1].slot, msix ? ", read-only: MSI-X" : "");
	else
		printf("vfio: %s %s %llu KiB at gpa 0x%llx: %u mmapped piece%s, the rest "
		       "trapped%s\n", vf->bdf, names[k], (unsigned long long)ri.length >> 10,
		       (unsigned long long)gpa, n, n == 1 ? "" : "s",
		       msix ? ", read-only: MSI-X" : "");
	return 0;
}

/* Every BAR VFIO implements; BAR0 first (d->regions[0] is BAR0's start). */
static int setup_bars(struct vfkvm_vfio *vf, struct vfkvm_vm *vm, struct vfkvm_dev *d)
{
	int r = find_msix(vf);

	if (r < 0)
		return r;
	for (unsigned k = 0; k < 6; k++) {
		unsigned before = d->nregions;

		r = setup_bar(vf, vm, d, k);
		if (r < 0)
			return r;
		if (k == 0 && d->nregions == before) {
			err("%s: BAR0 is not implemented; the guest's device window is BAR0",
			    vf->bdf);
			return -ENODEV;
		}
	}
	return 0;
}

/* MSI-X vector K -> an eventfd (VFIO_DEVICE_SET_IRQS) -> KVM_IRQFD on an
 * MSI route (GSI 24 + K) -> vector VFKVM_IRQ_VEC + K of LAPIC 0. Vector 0
 * is the stand-in's interrupt; an igb VF has 3 (rx, tx, mailbox). */
static int setup_msix(struct vfkvm_vfio *vf, struct vfkvm_vm *vm, struct vfkvm_dev *d)
{
	struct vfctl_vfio_irq_info ii = { .size = sizeof(ii) };
	int efds[VFKVM_MAX_IRQS];
	unsigned n;
	int r;

	r = vfctl_vfio_dev_irq_info(vf->dev, VFCTL_VFIO_IRQ_MSIX, &ii);
	if (r < 0) {
		lib_err(vf);
		return r;
	}
	if (!ii.count || !(ii.flags & VFCTL_VFIO_IRQ_EVENTFD)) {
		printf("vfio: %s has no MSI-X: no device interrupt\n", vf->bdf);
		return 0;
	}
	n = ii.count < VFKVM_MAX_IRQS ? ii.count : VFKVM_MAX_IRQS;
	for (unsigned i = 0; i < n; i++) {
		struct vfkvm_irq *irq = &d->irqs[i];

		*irq = (struct vfkvm_irq){ .gsi = 24 + i, .efd = -1, .msi_addr = 0xfee00000ULL,
					   .msi_data = VFKVM_IRQ_VEC + i };
		r = vfkvm_add_msi_route(vm, irq);
		if (r < 0)
			return r;
		r = vfkvm_irqfd(vm, irq);
		if (r < 0)
			return r;
		d->nirqs = i + 1;
		efds[i] = irq->efd;
	}
	/* all vectors in one call: growing an enabled MSI-X set means
	 * disabling it first */
	r = vfctl_vfio_dev_set_irqs(vf->dev, VFCTL_VFIO_IRQ_MSIX, 0, n, efds);
	if (r < 0) {
		lib_err(vf);
		return r;
	}
	vf->msix_on = n;
	for (unsigned i = 0; i < n; i++)
		printf("vfio: %s MSI-X vector %u of %u -> irqfd gsi %u -> vector 0x%x\n", vf->bdf,
		       i, ii.count, d->irqs[i].gsi, d->irqs[i].msi_data);
	return 0;
}

static int map_dma(struct vfkvm_vfio *vf, struct vfkvm_vm *vm)
{
	double t0 = vfkvm_now_ms();
	int r = vfctl_vfio_dma_map(vf->dev, vm->ram, 0, vm->ram_size,
				   VFCTL_VFIO_DMA_READ | VFCTL_VFIO_DMA_WRITE);

	if (r == -EADDRINUSE) {
		err("%s; guest RAM is DMA-mapped at its guest-physical address: use a smaller "
		    "--mem", vfctl_ctx_error(vf->ctx));
		return r;
	}
	if (r < 0) {
		lib_err(vf);
		return r;
	}
	vf->dma_size = vm->ram_size;
	/* the pinning: a figure for the bench, not a promise */
	printf("vfio: guest RAM DMA-mapped: iova 0x0-0x%llx (%llu MiB of %s pages by %s in "
	       "%.1f ms; prefaulted before in %.1f ms)\n",
	       (unsigned long long)vm->ram_size - 1, (unsigned long long)vm->ram_size >> 20,
	       vm->huge ? "2 MiB" : "4 KiB",
	       vfctl_vfio_dev_uses_iommufd(vf->dev) ? "IOMMU_IOAS_MAP" : "VFIO_IOMMU_MAP_DMA",
	       vfkvm_now_ms() - t0, vm->prefault_ms);
	return 0;
}

/* vfio-pci leaves bus mastering off: without it the device's DMA goes nowhere */
static int enable_bus_master(struct vfkvm_vfio *vf)
{
	uint16_t cmd;
	int r = config_rw(vf, PCI_COMMAND, &cmd, 2, false);

	if (r < 0)
		return r;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	r = config_rw(vf, PCI_COMMAND, &cmd, 2, true);
	if (r < 0)
		return r;
	printf("vfio: %s bus mastering on (command 0x%04x)\n", vf->bdf, cmd);
	return 0;
}

/* Which of the built-in guest's drivers will drive it. */
static void vfio_print_driver(const struct vfkvm_vfio *vf)
{
	for (const struct vfkvm_vf_family *f = vfkvm_vf_families(); f->vendor; f++)
		if (f->vendor == vf->vendor && f->device == vf->device_id) {
			printf("vfio: %s is %04x:%04x (%s): built-in guest driver %s\n", vf->bdf,
			       vf->vendor, vf->device_id, f->name, f->driver);
			return;
		}
	printf("vfio: %s is %04x:%04x: no built-in guest driver for it; the guest tries "
	       "igbvf's\n", vf->bdf, vf->vendor, vf->device_id);
}

/* The device is open (group in a type1v2 container, or cdev on an IOAS): reset it, then DMA,
 * BARs, MSI-X, bus mastering. */
static int vfio_setup(struct vfkvm_vfio *vf, struct vfkvm_vm *vm, struct vfkvm_dev *d)
{
	int r;

	vf->device = vfctl_vfio_dev_fd(vf->dev);
	if (vfctl_vfio_dev_uses_iommufd(vf->dev))
		printf("vfio: %s in group %d, cdev bound to iommufd, IOAS attached\n", vf->bdf,
		       vfctl_vfio_dev_group(vf->dev));
	else
		printf("vfio: %s in group %d, container type1v2\n", vf->bdf,
		       vfctl_vfio_dev_group(vf->dev));
	if (vfctl_vfio_dev_can_reset(vf->dev)) {
		r = vfctl_vfio_dev_reset(vf->dev);
		if (r < 0) {
			lib_err(vf);
			return r;
		}
		printf("vfio: %s reset\n", vf->bdf);
	}
	printf("vfio: %s device fd: %u regions, %u irqs\n", vf->bdf,
	       vfctl_vfio_dev_num_regions(vf->dev), vfctl_vfio_dev_num_irqs(vf->dev));
	r = config_rw(vf, PCI_VENDOR_ID, &vf->vendor, 2, false);
	if (r >= 0)
		r = config_rw(vf, PCI_DEVICE_ID, &vf->device_id, 2, false);
	if (r < 0)
		return r;
	vfio_print_driver(vf);
	r = map_dma(vf, vm);
	if (r < 0)
		return r;
	r = setup_bars(vf, vm, d);
	if (r < 0)
		return r;
	r = setup_msix(vf, vm, d);
	if (r < 0)
		return r;
	return enable_bus_master(vf);
}

static void vfio_init(struct vfkvm_vfio *vf, struct vfctl_ctx *ctx, const char *bdf,
		      struct vfkvm_dev *d)
{
	*vf = (struct vfkvm_vfio){ .ctx = ctx, .device = -1, .msix_bar = -1 };
	snprintf(vf->bdf, sizeof(vf->bdf), "%s", bdf);
	d->name = vf->bdf;
}

static unsigned lib_flags(enum vfkvm_iommu iommu)
{
	return iommu == VFKVM_IOMMU_LEGACY ? 0 : VFCTL_VFIO_IOMMUFD;
}

/* Asked for iommufd but the kernel gave the container: say so, do nothing */
static int check_path(struct vfkvm_vfio *vf, enum vfkvm_iommu iommu)
{
	if (iommu != VFKVM_IOMMU_IOMMUFD || vfctl_vfio_dev_uses_iommufd(vf->dev))
		return 0;
	fprintf(stderr, "vfkvm: --iommu iommufd: %s has no VFIO device cdev or this kernel no /dev/iommu "
		"(iommufd and the cdev need Linux 6.6+ with CONFIG_IOMMUFD and "
		"CONFIG_VFIO_DEVICE_CDEV; Debian's kernels have neither): use --iommu legacy (or auto) for "
		"the container path\n", vf->bdf);
	vfctl_vfio_dev_free(vf->dev);
	vf->dev = NULL;
	return -EOPNOTSUPP;
}

int vfkvm_vfio_open(struct vfkvm_vfio *vf, struct vfctl_ctx *ctx, const char *bdf,
		    enum vfkvm_iommu iommu, struct vfkvm_vm *vm, struct vfkvm_dev *d)
{
	int r;

	vfio_init(vf, ctx, bdf, d);
	r = vfctl_vfio_dev_open(ctx, bdf, lib_flags(iommu), &vf->dev);
	if (r < 0) {
		lib_err(vf);
		return r;
	}
	r = check_path(vf, iommu);
	if (r < 0)
		return r;
	return vfio_setup(vf, vm, d);
}

/* vfctld opened the nodes for us; the group is not in a container yet and
 * the container has no IOMMU type (vfctld(8), "open"); on iommufd kernels
 * /dev/iommu and the cdev came too, unbound. */
int vfkvm_vfio_adopt(struct vfkvm_vfio *vf, struct vfctl_ctx *ctx, struct vfctl_lease_fds *lf,
		     enum vfkvm_iommu iommu, struct vfkvm_vm *vm, struct vfkvm_dev *d)
{
	int r;

	vfio_init(vf, ctx, lf->addr, d);
	printf("vfio: %s: container and group %d fds from vfctld%s\n", vf->bdf, lf->group,
	       lf->iommufd >= 0 && lf->device_fd >= 0 ? ", /dev/iommu and the cdev too" : "");
	r = vfctl_vfio_dev_adopt(ctx, lf, lib_flags(iommu), &vf->dev);
	if (r < 0) {
		lib_err(vf);
		return r;
	}
	r = check_path(vf, iommu);
	if (r < 0)
		return r;
	return vfio_setup(vf, vm, d);
}

/* Teardown, first half, while guest RAM is still mapped: MSI-X off, bus
 * mastering off (no DMA in flight), guest RAM DMA-unmapped (while the group
 * still gives the container its IOMMU), the device fd closed. */
void vfkvm_vfio_close_device(struct vfkvm_vfio *vf)
{
	uint16_t cmd;

	if (!vf->dev)
		return;
	if (vf->device >= 0 && vf->msix_on) {
		if (vfctl_vfio_dev_set_irqs(vf->dev, VFCTL_VFIO_IRQ_MSIX, 0, 0, NULL) < 0)
			lib_err(vf);
		vf->msix_on = 0;
	}
	if (vf->device >= 0 &&
	    vfctl_vfio_dev_rw(vf->dev, VFCTL_VFIO_CONFIG, PCI_COMMAND, &cmd, 2, false) == 0) {
		cmd &= ~PCI_COMMAND_MASTER;
		if (vfctl_vfio_dev_rw(vf->dev, VFCTL_VFIO_CONFIG, PCI_COMMAND, &cmd, 2, true) < 0)
			lib_err(vf);
	}
	if (vf->dma_size) {
		if (vfctl_vfio_dma_unmap(vf->dev, 0, vf->dma_size) < 0)
			lib_err(vf);
		vf->dma_size = 0;
	}
	vfctl_vfio_dev_close_device(vf->dev);
	vf->device = -1;
}

/* Second half, after the VM and the BAR mappings are gone (an mmap of a BAR
 * keeps the device open, and the group cannot leave its container while a
 * device is open: EBUSY): the group leaves, then the container is closed. */
void vfkvm_vfio_close(struct vfkvm_vfio *vf)
{
	vfkvm_vfio_close_device(vf);
	vfctl_vfio_dev_free(vf->dev);
	vf->dev = NULL;
}
