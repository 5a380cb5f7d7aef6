// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfkvm --vf: a PCI function bound to vfio-pci, opened through the legacy
 * VFIO container/group interface (type1v2 IOMMU). BAR0 becomes a KVM memory
 * slot at VFKVM_BAR_GPA (mmapped) or a trapped region (pread/pwrite on the
 * device fd); guest RAM is DMA-mapped with IOVA = guest-physical. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vfkvm.h"

#define err(fmt, ...) fprintf(stderr, "vfkvm: " fmt "\n", ##__VA_ARGS__)

#define VFIO_CONTAINER	"/dev/vfio/vfio"
#define SYSFS_PCI	"/sys/bus/pci/devices"

/* VFKVM_VFIO_CONTAINER: another container node, for the tests */
static const char *container_path(void)
{
	const char *p = getenv("VFKVM_VFIO_CONTAINER");
	return p && *p ? p : VFIO_CONTAINER;
}

/* hex digits up to the delimiter (or the end if delim is 0): 1 to max of them */
static const char *hex_field(const char *p, unsigned max, char delim, unsigned *out)
{
	unsigned n = 0, v = 0;

	for (; *p && *p != delim; p++, n++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' :
			*p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
			*p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
		if (d < 0 || n == max)
			return NULL;
		v = v << 4 | d;
	}
	if (!n || *p != delim)
		return NULL;
	*out = v;
	return delim ? p + 1 : p;
}

/* DDDD:BB:DD.F (the domain may be left out) */
int vfkvm_vfio_parse_bdf(const char *s, char *out, size_t n)
{
	unsigned dom = 0, bus, dev, fn;
	const char *p = s;

	if (strchr(s, ':') != strrchr(s, ':') && !(p = hex_field(p, 4, ':', &dom)))
		return -EINVAL;
	if (!(p = hex_field(p, 2, ':', &bus)) || !(p = hex_field(p, 2, '.', &dev)) ||
	    !hex_field(p, 1, 0, &fn))
		return -EINVAL;
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, n, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

static int group_number(const char *bdf, int *group)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t len;
	const char *slash;

	snprintf(path, sizeof(path), "%s/%s", SYSFS_PCI, bdf);
	if (access(path, F_OK) < 0) {
		int r = -errno;
		err("%s: %s; --vf takes the PCI address of a function that exists "
		    "(vfctl list shows them)", path, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/%s/iommu_group", SYSFS_PCI, bdf);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0) {
		int r = -errno;
		err("%s: %s; %s is in no IOMMU group: enable the IOMMU (intel_iommu=on or "
		    "amd_iommu=on) to pass it through", path, strerror(-r), bdf);
		return r;
	}
	link[len] = 0;
	slash = strrchr(link, '/');
	*group = atoi(slash ? slash + 1 : link);
	return 0;
}

/* The group's reserved IOVA ranges (sysfs reserved_regions: "start end type"
 * per line); guest RAM [0, ram_size) is mapped 1:1 and must miss all of them.
 * A missing file (older kernels) has nothing to check against. */
int vfkvm_vfio_check_reserved(const char *bdf, const char *path, uint64_t ram_size)
{
	char type[32];
	unsigned long long start, end;
	FILE *f;
	int r = 0, n;

	f = fopen(path, "r");
	if (!f) {
		r = -errno;
		if (r == -ENOENT)
			return 0;
		err("%s: %s: %s; vfkvm cannot tell whether guest RAM may be DMA-mapped at "
		    "IOVA 0: run as root", bdf, path, strerror(-r));
		return r;
	}
	while ((n = fscanf(f, "%llx %llx %31s", &start, &end, type)) == 3) {
		if (start < ram_size) {
			err("%s: %s: IOVA 0x%llx-0x%llx (%s) overlaps guest RAM 0-0x%llx, which "
			    "is DMA-mapped at its guest-physical address: use a smaller --mem",
			    bdf, path, start, end, type, (unsigned long long)ram_size - 1);
			r = -EADDRINUSE;
			break;
		}
	}
	/* a line that does not parse must not pass as "no overlap" */
	if (!r && n != EOF) {
		err("%s: %s: not a reserved_regions list (\"START END TYPE\" lines)", bdf, path);
		r = -EINVAL;
	}
	fclose(f);
	return r;
}

static int check_reserved(const char *bdf, int group, uint64_t ram_size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/reserved_regions", group);
	return vfkvm_vfio_check_reserved(bdf, path, ram_size);
}

/* VFIO_DEVICE_GET_REGION_INFO with room for its capability chain (argsz
 * says how much the kernel wants). The caller frees *out. */
static int region_info(struct vfkvm_vfio *vf, unsigned index, struct vfio_region_info **out)
{
	struct vfio_region_info *ri = calloc(1, sizeof(*ri)), *big;
	int r;

	if (!ri)
		return -ENOMEM;
	*ri = (struct vfio_region_info){ .argsz = sizeof(*ri), .index = index };
	if (ioctl(vf->device, VFIO_DEVICE_GET_REGION_INFO, ri) < 0)
		goto fail;
	if (ri->argsz > sizeof(*ri)) {
		uint32_t sz = ri->argsz;

		big = realloc(ri, sz);
		if (!big) {
			free(ri);
			return -ENOMEM;
		}
		ri = big;
		memset(ri, 0, sz);
		*ri = (struct vfio_region_info){ .argsz = sz, .index = index };
		if (ioctl(vf->device, VFIO_DEVICE_GET_REGION_INFO, ri) < 0)
			goto fail;
	}
	*out = ri;
	return 0;
fail:
	r = -errno;
	err("%s: VFIO_DEVICE_GET_REGION_INFO (region %u): %s", vf->bdf, index, strerror(-r));
	free(ri);
	return r;
}

/* The parts of a region that may be mmapped: the whole region, the areas
 * of a sparse-mmap capability (the rest must be trapped), or none. Areas
 * that are not page-aligned are left to the trap. Returns their number or
 * -EINVAL for a capability chain that runs outside the info. */
int vfkvm_vfio_mmap_areas(const struct vfio_region_info *ri, uint64_t page_size,
			  struct vfkvm_area *areas, unsigned max)
{
	uint32_t off;
	unsigned n = 0;

	if (!(ri->flags & VFIO_REGION_INFO_FLAG_MMAP) || !ri->size || !max)
		return 0;
	off = ri->flags & VFIO_REGION_INFO_FLAG_CAPS ? ri->cap_offset : 0;
	for (unsigned hops = 0; off; hops++) {
		const struct vfio_info_cap_header *h = (const void *)((const char *)ri + off);
		const struct vfio_region_info_cap_sparse_mmap *sp = (const void *)h;

		if (hops > 32 || off < sizeof(*ri) || (uint64_t)off + sizeof(*h) > ri->argsz)
			return -EINVAL;
		if (h->id != VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			off = h->next;
			continue;
		}
		if ((uint64_t)off + sizeof(*sp) + (uint64_t)sp->nr_areas * sizeof(sp->areas[0]) >
		    ri->argsz)
			return -EINVAL;
		for (uint32_t i = 0; i < sp->nr_areas && n < max; i++) {
			uint64_t ao = sp->areas[i].offset, as = sp->areas[i].size;

			if (!as || ao % page_size || as % page_size || ao + as > ri->size ||
			    ao + as < ao)
				continue;
			areas[n++] = (struct vfkvm_area){ ao, as };
		}
		return n;
	}
	if (ri->size % page_size)
		return 0;
	areas[0] = (struct vfkvm_area){ 0, ri->size };
	return 1;
}

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
	ssize_t n = write ? pwrite(vf->device, buf, len, vf->config_off + off)
			  : pread(vf->device, buf, len, vf->config_off + off);

	if (n != (ssize_t)len) {
		int r = n < 0 ? -errno : -EIO;
		err("%s: config space %s at 0x%x through the VFIO device fd: %s", vf->bdf,
		    write ? "write" : "read", off, strerror(-r));
		return r;
	}
	return 0;
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
	struct vfkvm_area areas[8];
	struct vfio_region_info *ri = NULL;
	struct vfkvm_region *bar;
	bool msix = (int)k == vf->msix_bar;
	int r, n;

	r = region_info(vf, VFIO_PCI_BAR0_REGION_INDEX + k, &ri);
	if (r < 0)
		return r;
	vf->bar_off[k] = ri->offset;
	vf->bar_size[k] = ri->size;
	if (!ri->size || !(ri->flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)))
		goto out;	/* not implemented, an I/O port BAR VFIO hides, or an upper half */
	if (ri->size > window) {
		err("%s: %s is %llu KiB, more than the %llu KiB window at 0x%llx", vf->bdf,
		    names[k], (unsigned long long)ri->size >> 10,
		    (unsigned long long)window >> 10, (unsigned long long)gpa);
		r = -E2BIG;
		goto out;
	}
	n = vfkvm_vfio_mmap_areas(ri, sysconf(_SC_PAGESIZE), areas,
				  sizeof(areas) / sizeof(areas[0]));
	if (n < 0) {
		err("%s: %s: VFIO's region info has a broken capability chain", vf->bdf,
		    names[k]);
		r = n;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		bar = new_region(vf, d);
		if (!bar) {
			r = -ENOSPC;
			goto out;
		}
		*bar = (struct vfkvm_region){ .name = names[k], .gpa = gpa + areas[i].offset,
					      .size = areas[i].size, .fd = vf->device,
					      .fd_off = ri->offset + areas[i].offset, .slot = -1,
					      .readonly = msix,
					      .access = msix ? msix_bar_access : bar_access,
					      .priv = vf };
		r = vfkvm_map_region(vm, bar);
		bar->fd = -1;	/* the mapping holds the device; vf owns the fd */
		if (r < 0) {
			d->nregions--;
			goto out;
		}
	}
	/* the whole BAR trapped too: the slots take what they cover, the
	 * exits for the rest come here */
	if (n != 1 || areas[0].size != ri->size) {
		bar = new_region(vf, d);
		if (!bar) {
			r = -ENOSPC;
			goto out;
		}
		*bar = (struct vfkvm_region){ .name = names[k], .gpa = gpa, .size = ri->size,
					      .fd = -1, .fd_off = ri->offset, .slot = -1,
					      .access = msix ? msix_bar_access : bar_access,
					      .priv = vf };
		r = vfkvm_trap_region(vm, bar);
		if (r < 0) {
			d->nregions--;
			goto out;
		}
	}
	if (n == 1 && areas[0].size == ri->size)
		printf("vfio: %s %s %llu KiB mmapped at gpa 0x%llx (slot %d)%s\n", vf->bdf,
		       names[k], (unsigned long long)ri->size >> 10, (unsigned long long)gpa,
		       d->regions[d->nregions - 1].slot, msix ? ", read-only: MSI-X" : "");
	else
		printf("vfio: %s %s %llu KiB at gpa 0x%llx: %d mmapped piece%s, the rest "
		       "trapped%s\n", vf->bdf, names[k], (unsigned long long)ri->size >> 10,
		       (unsigned long long)gpa, n, n == 1 ? "" : "s",
		       msix ? ", read-only: MSI-X" : "");
	r = 0;
out:
	free(ri);
	return r;
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
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	char buf[sizeof(struct vfio_irq_set) + VFKVM_MAX_IRQS * sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	unsigned n;
	int r;

	if (ioctl(vf->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0) {
		r = -errno;
		err("%s: VFIO_DEVICE_GET_IRQ_INFO (MSI-X): %s", vf->bdf, strerror(-r));
		return r;
	}
	if (!ii.count || !(ii.flags & VFIO_IRQ_INFO_EVENTFD)) {
		printf("vfio: %s has no MSI-X: no device interrupt\n", vf->bdf);
		return 0;
	}
	n = ii.count < VFKVM_MAX_IRQS ? ii.count : VFKVM_MAX_IRQS;
	/* all vectors in one call: growing an enabled MSI-X set means
	 * disabling it first */
	*set = (struct vfio_irq_set){ .argsz = sizeof(*set) + n * sizeof(int32_t),
				      .index = VFIO_PCI_MSIX_IRQ_INDEX,
				      .flags = VFIO_IRQ_SET_DATA_EVENTFD |
					       VFIO_IRQ_SET_ACTION_TRIGGER,
				      .start = 0, .count = n };
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
		memcpy((int32_t *)set->data + i, &irq->efd, sizeof(int32_t));
	}
	if (ioctl(vf->device, VFIO_DEVICE_SET_IRQS, set) < 0) {
		r = -errno;
		err("%s: VFIO_DEVICE_SET_IRQS (MSI-X vectors 0-%u -> eventfds): %s", vf->bdf,
		    n - 1, strerror(-r));
		return r;
	}
	vf->msix_on = n;
	for (unsigned i = 0; i < n; i++)
		printf("vfio: %s MSI-X vector %u of %u -> irqfd gsi %u -> vector 0x%x\n", vf->bdf,
		       i, ii.count, d->irqs[i].gsi, d->irqs[i].msi_data);
	return 0;
}

static int open_device(struct vfkvm_vfio *vf)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	int r;

	vf->device = ioctl(vf->group, VFIO_GROUP_GET_DEVICE_FD, vf->bdf);
	if (vf->device < 0) {
		r = -errno;
		vf->device = -1;
		err("%s: VFIO_GROUP_GET_DEVICE_FD on /dev/vfio/%d: %s; is it bound to vfio-pci "
		    "and not open elsewhere?", vf->bdf, vf->group_nr, strerror(-r));
		return r;
	}
	if (ioctl(vf->device, VFIO_DEVICE_GET_INFO, &di) < 0) {
		r = -errno;
		err("%s: VFIO_DEVICE_GET_INFO: %s", vf->bdf, strerror(-r));
		return r;
	}
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) || di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		err("%s: not a VFIO PCI device (flags 0x%x, %u regions)", vf->bdf, di.flags,
		    di.num_regions);
		return -ENODEV;
	}
	if (di.flags & VFIO_DEVICE_FLAGS_RESET) {
		if (ioctl(vf->device, VFIO_DEVICE_RESET) < 0) {
			r = -errno;
			err("%s: VFIO_DEVICE_RESET: %s", vf->bdf, strerror(-r));
			return r;
		}
		printf("vfio: %s reset\n", vf->bdf);
	}
	if (ioctl(vf->device, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0) {
		r = -errno;
		err("%s: VFIO_DEVICE_GET_REGION_INFO (config space): %s", vf->bdf, strerror(-r));
		return r;
	}
	vf->config_off = ri.offset;
	printf("vfio: %s device fd: %u regions, %u irqs\n", vf->bdf, di.num_regions, di.num_irqs);
	return 0;
}

static int map_dma(struct vfkvm_vfio *vf, struct vfkvm_vm *vm)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vm->ram, .iova = 0, .size = vm->ram_size,
	};
	int r;

	if (ioctl(vf->container, VFIO_IOMMU_MAP_DMA, &m) < 0) {
		r = -errno;
		err("VFIO_IOMMU_MAP_DMA of guest RAM (iova 0, %llu KiB): %s%s",
		    (unsigned long long)vm->ram_size >> 10, strerror(-r),
		    r == -ENOMEM ? "; RLIMIT_MEMLOCK too low? (ulimit -l)" : "");
		return r;
	}
	vf->dma_size = vm->ram_size;
	printf("vfio: guest RAM DMA-mapped: iova 0x0-0x%llx\n",
	       (unsigned long long)vm->ram_size - 1);
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

/* The container and group are open: check them, join the group to the
 * container, then the device, DMA, BARs, MSI-X. */
static int vfio_attach(struct vfkvm_vfio *vf, struct vfkvm_vm *vm, struct vfkvm_dev *d,
		       const char *cname)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[64];
	int r, api;

	snprintf(path, sizeof(path), "/dev/vfio/%d", vf->group_nr);
	api = ioctl(vf->container, VFIO_GET_API_VERSION);
	if (api != VFIO_API_VERSION) {
		err("%s: VFIO API version %d, vfkvm speaks %d", cname, api, VFIO_API_VERSION);
		return -EPROTO;
	}
	if (ioctl(vf->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		err("%s: no VFIO_TYPE1v2_IOMMU; load vfio_iommu_type1", cname);
		return -EOPNOTSUPP;
	}
	r = check_reserved(vf->bdf, vf->group_nr, vm->ram_size);
	if (r < 0)
		return r;
	if (ioctl(vf->group, VFIO_GROUP_GET_STATUS, &gs) < 0) {
		r = -errno;
		err("%s: VFIO_GROUP_GET_STATUS: %s", path, strerror(-r));
		return r;
	}
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		err("%s: IOMMU group %d is not viable: bind every device in it to vfio-pci "
		    "(vfctl groups shows them)", path, vf->group_nr);
		return -EPERM;
	}
	if (ioctl(vf->group, VFIO_GROUP_SET_CONTAINER, &vf->container) < 0) {
		r = -errno;
		err("%s: VFIO_GROUP_SET_CONTAINER: %s; is the group in use by another process?",
		    path, strerror(-r));
		return r;
	}
	vf->group_set = true;
	if (ioctl(vf->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		r = -errno;
		err("%s: VFIO_SET_IOMMU (type1v2): %s", cname, strerror(-r));
		return r;
	}
	printf("vfio: %s in group %d, container type1v2\n", vf->bdf, vf->group_nr);
	r = open_device(vf);
	if (r < 0)
		return r;
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

static void vfio_init(struct vfkvm_vfio *vf, const char *bdf, struct vfkvm_dev *d)
{
	*vf = (struct vfkvm_vfio){ .container = -1, .group = -1, .device = -1, .msix_bar = -1 };
	snprintf(vf->bdf, sizeof(vf->bdf), "%s", bdf);
	d->name = vf->bdf;
}

int vfkvm_vfio_open(struct vfkvm_vfio *vf, const char *bdf, struct vfkvm_vm *vm,
		    struct vfkvm_dev *d)
{
	char path[64];
	int r;

	vfio_init(vf, bdf, d);
	vf->container = open(container_path(), O_RDWR | O_CLOEXEC);
	if (vf->container < 0) {
		r = -errno;
		err("%s: %s; --vf needs VFIO: load vfio-pci (modprobe vfio-pci) and bind %s to it "
		    "(vfctl bind)", container_path(), strerror(-r), bdf);
		return r;
	}
	r = group_number(vf->bdf, &vf->group_nr);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/dev/vfio/%d", vf->group_nr);
	vf->group = open(path, O_RDWR | O_CLOEXEC);
	if (vf->group < 0) {
		r = -errno;
		err("%s: %s; bind every device of IOMMU group %d to vfio-pci "
		    "(vfctl groups shows them, vfctl bind binds them)", path, strerror(-r),
		    vf->group_nr);
		return r;
	}
	return vfio_attach(vf, vm, d, container_path());
}

/* vfctld opened both nodes for us; the group is not in a container yet and
 * the container has no IOMMU type (vfctld(8), "open"). */
int vfkvm_vfio_adopt(struct vfkvm_vfio *vf, const char *bdf, int container, int group,
		     int group_nr, struct vfkvm_vm *vm, struct vfkvm_dev *d)
{
	vfio_init(vf, bdf, d);
	vf->container = container;
	vf->group = group;
	vf->group_nr = group_nr;
	printf("vfio: %s: container and group %d fds from vfctld\n", vf->bdf, group_nr);
	return vfio_attach(vf, vm, d, "the container fd from vfctld");
}

/* Teardown, first half, while guest RAM is still mapped: bus mastering off
 * (no DMA in flight), guest RAM DMA-unmapped (while the group still gives
 * the container its IOMMU), the device fd closed. */
void vfkvm_vfio_close_device(struct vfkvm_vfio *vf)
{
	if (vf->device >= 0 && vf->msix_on) {
		struct vfio_irq_set set = { .argsz = sizeof(set), .index = VFIO_PCI_MSIX_IRQ_INDEX,
					    .flags = VFIO_IRQ_SET_DATA_NONE |
						     VFIO_IRQ_SET_ACTION_TRIGGER };
		if (ioctl(vf->device, VFIO_DEVICE_SET_IRQS, &set) < 0)
			err("%s: VFIO_DEVICE_SET_IRQS (MSI-X off): %s", vf->bdf, strerror(errno));
		vf->msix_on = 0;
	}
	if (vf->device >= 0) {
		uint16_t cmd;
		if (pread(vf->device, &cmd, 2, vf->config_off + PCI_COMMAND) == 2) {
			cmd &= ~PCI_COMMAND_MASTER;
			if (pwrite(vf->device, &cmd, 2, vf->config_off + PCI_COMMAND) != 2)
				err("%s: clearing bus mastering: %s", vf->bdf, strerror(errno));
		}
	}
	if (vf->dma_size && vf->container >= 0) {
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = 0,
							.size = vf->dma_size };
		if (ioctl(vf->container, VFIO_IOMMU_UNMAP_DMA, &u) < 0)
			err("VFIO_IOMMU_UNMAP_DMA of guest RAM: %s", strerror(errno));
		vf->dma_size = 0;
	}
	if (vf->device >= 0)
		close(vf->device);
	vf->device = -1;
}

/* Second half, after the VM and the BAR mappings are gone (an mmap of a BAR
 * keeps the device open, and the group cannot leave its container while a
 * device is open: EBUSY): the group leaves, then the container is closed. */
void vfkvm_vfio_close(struct vfkvm_vfio *vf)
{
	vfkvm_vfio_close_device(vf);
	if (vf->group_set) {
		if (ioctl(vf->group, VFIO_GROUP_UNSET_CONTAINER) < 0)
			err("/dev/vfio/%d: VFIO_GROUP_UNSET_CONTAINER: %s", vf->group_nr,
			    strerror(errno));
		vf->group_set = false;
	}
	if (vf->group >= 0)
		close(vf->group);
	if (vf->container >= 0)
		close(vf->container);
	vf->group = vf->container = -1;
}
