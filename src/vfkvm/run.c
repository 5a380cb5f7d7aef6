// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfkvm's guest platform: the control region, the read-only slot, the
 * doorbell, the stand-in BAR and its MSI, and the vCPU run loop. */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfkvm.h"

#define err(fmt, ...) fprintf(stderr, "vfkvm: " fmt "\n", ##__VA_ARGS__)

#define MSI_ADDR	0xfee00000ULL	/* LAPIC 0, physical, fixed */
#define IRQ_GSI		24		/* above the split irqchip's 24 IOAPIC pins */
#define BAR_MAGIC	0x1122334455667788ULL
#define CTRL_PATTERN	0x0123456789abcdefULL

/* control region offsets (the guest's side is src/vfkvm/guest/guest.S) */
enum { C_EXIT = 0x00, C_IRQFD = 0x08, C_MSI = 0x10, C_DOORBELLS = 0x18, C_FAULT_VEC = 0x28,
       C_FAULT_RIP = 0x30, C_MODE = 0x38, C_DELAY = 0x40, C_FAILVAL = 0x48, C_GFAIL = 0x50,
       C_BARS = 0x58, C_DEVID = 0x60,
       C_REPORT = 0x100, C_PATTERN = 0x210 };

#define DELAY_MAX_US	100000	/* one C_DELAY sleeps at most this long */

enum { R_VF_MAC = 13 };
static const char *const report_names[] = {
	"bar[0]", "read8", "read16", "read32", "read64", "roslot[0]", "doorbells", "irqfd",
	"msi", "vf.status", "vf.msix", "vf.rst", "vf.reply", "vf.mac", "vf.tx.status",
	"vf.tx.head", "vf.tx.packets", "vf.tx.irq", "vf.bar3[0]",
	"vf.bar3[0x2000]", "vf.mc_filter_type",
};

/* What a guest-side failure code (C_GFAIL) means and what to do about it:
 * 1-7 from the igbvf driver (82576 VF), 8-14 from the ixgbevf driver
 * (82599/X540/X550 VF); the drivers are src/vfkvm/guest/guest.S. */
static const char *const gfail_text[] = {
	[1] = "VF mailbox: the PF still signals a reset in progress (V2PMAILBOX RSTI) after "
	      "2 s: bring the PF's interface up (ip link set PF up)",
	[2] = "VF mailbox: the PF holds the mailbox buffer (VFU never set) for 2 s: the PF's "
	      "driver is stuck; reload igb",
	[3] = "VF mailbox: the PF did not acknowledge E1000_VF_RESET within 2 s: the PF's "
	      "interface must be up (ip link set PF up) for igb to serve its VFs' mailboxes",
	[4] = "VF mailbox: the PF acknowledged E1000_VF_RESET but sent no reply within 2 s: "
	      "check the PF's driver log (dmesg)",
	[6] = "VF mailbox: the PF's reply to E1000_VF_RESET is neither ACK nor NACK",
	[7] = "VF transmit: descriptor 0 not written back (DD) within 2 s: the PF must be up "
	      "(its TCTL.EN) and have enabled the VF's transmit (VFTE) after the mailbox "
	      "reset; the value is the VF's TDH",
	[8] = "ixgbevf: VFMAILBOX (0x2fc) still has RSTI (PF reset in progress) 2 s after "
	      "VFCTRL.RST: bring the PF's interface up (ip link set PF up); the value is "
	      "VFMAILBOX",
	[9] = "ixgbevf: VFMAILBOX (0x2fc) VFU not granted for 2 s (the PF holds the buffer, "
	      "PFU): the PF's driver is stuck; reload ixgbe",
	[10] = "ixgbevf: VFMAILBOX (0x2fc) PFACK not set within 2 s of IXGBE_VF_RESET (REQ): "
	       "the PF's interface must be up (ip link set PF up) for ixgbe to serve its "
	       "VFs' mailboxes; the value is every VFMAILBOX bit seen",
	[11] = "ixgbevf: VFMAILBOX (0x2fc) PFSTS not set within 2 s of the PF's PFACK: no "
	       "reply to IXGBE_VF_RESET; check the PF's driver log (dmesg)",
	[12] = "ixgbevf: the reply to IXGBE_VF_RESET (VFMBMEM word 0) is neither ACK nor NACK; "
	       "the value is that word",
	[13] = "ixgbevf: VFTXDCTL(0) (0x2028) ENABLE did not read back set within 2 s; the "
	       "value is VFTXDCTL",
	[14] = "ixgbevf: TX descriptor 1 not written back (DD) within 2 s: the PF must be up "
	       "and have enabled the VF's transmit (PFVFTE) after IXGBE_VF_RESET; the value "
	       "is VFTDH(0)",
};

const char *vfkvm_guest_failure(uint64_t code)
{
	if (code < sizeof(gfail_text) / sizeof(gfail_text[0]))
		return gfail_text[code];
	return NULL;
}

static const struct vfkvm_vf_family families[] = {
	{ 0x8086, 0x10ca, "igbvf", "82576 VF" },
	{ 0x8086, 0x10ed, "ixgbevf", "82599 VF" },
	{ 0x8086, 0x1515, "ixgbevf", "X540 VF" },
	{ 0x8086, 0x1565, "ixgbevf", "X550 VF" },
	{ 0 },
};

const struct vfkvm_vf_family *vfkvm_vf_families(void)
{
	return families;
}

struct vfkvm {
	struct vfkvm_opts o;
	struct vfkvm_vm vm;
	struct vfkvm_region ctrl, roslot;
	struct vfkvm_dev dev;		/* the stand-in or the VF */
	struct vfkvm_vfio vfio;		/* --vf */
	bool have_vfio;
	int doorbell_efd;
	bool done;
	int status;
	uint64_t fault_rip;
	uint64_t fail_val;
	void *img;
	size_t img_len;
};

volatile int vfkvm_stop_signal;
static struct kvm_run *volatile signal_run;

void vfkvm_on_signal(int sig)
{
	vfkvm_stop_signal = sig;
	/* a signal that lands between the check and KVM_RUN must still stop it */
	if (signal_run)
		signal_run->immediate_exit = 1;
}

static uint64_t get_le(const void *p, unsigned len)
{
	uint64_t v = 0;
	memcpy(&v, p, len < 8 ? len : 8);
	return v;
}

static int ctrl_access(struct vfkvm_region *r, uint64_t off, void *data, unsigned len,
		       bool write)
{
	struct vfkvm *v = r->priv;
	uint64_t val = write ? get_le(data, len) : 0;
	struct vfkvm_irq *irq = v->dev.nirqs ? &v->dev.irqs[0] : NULL;
	int ret = 0;

	if (!write) {
		if (off == C_DOORBELLS) {
			eventfd_t n = 0;
			/* nonblocking: 0 doorbells reads as EAGAIN */
			if (eventfd_read(v->doorbell_efd, &n) < 0 && errno != EAGAIN)
				return -errno;
			val = n;
		} else if (off == C_MODE) {
			val = v->o.vf ? 1 : 0;	/* 1: BAR0 is a VFIO VF's */
		} else if (off == C_BARS && v->have_vfio) {
			/* bit K: BAR K is in its window; bits 8-10: the MSI-X BAR + 1 */
			for (unsigned k = 0; k < 6; k++)
				val |= v->vfio.bar_size[k] ? 1ULL << k : 0;
			val |= (uint64_t)(v->vfio.msix_bar + 1) << 8;
		} else if (off == C_DEVID && v->have_vfio) {
			/* the guest picks its driver by it, as a driver's id table */
			val = (uint32_t)v->vfio.vendor << 16 | v->vfio.device_id;
		} else if (off >= C_PATTERN && off < C_PATTERN + 8) {
			val = CTRL_PATTERN >> 8 * (off - C_PATTERN);
		}
		memcpy(data, &val, len);
		return 0;
	}
	switch (off) {
	case C_EXIT:
		v->done = true;
		v->status = val & 0xff;
		break;
	case C_IRQFD:
		if (!irq) {
			err("guest asked for the device interrupt but there is no device: "
			    "add --stand-in-bar");
			return -ENODEV;
		}
		if (eventfd_write(irq->efd, 1) < 0)
			return -errno;
		break;
	case C_MSI:
		ret = vfkvm_signal_msi(&v->vm, MSI_ADDR, (uint32_t)val);
		break;
	case C_FAULT_RIP:
		v->fault_rip = val;
		break;
	case C_FAULT_VEC:
		err("guest failure: exception %" PRIu64 " at rip 0x%" PRIx64, val, v->fault_rip);
		v->done = true;
		v->status = -EFAULT;
		break;
	case C_DELAY:
		/* the guest's clock for its poll loops: ring 3 has no timer */
		usleep(val < DELAY_MAX_US ? (useconds_t)val : DELAY_MAX_US);
		break;
	case C_FAILVAL:
		v->fail_val = val;
		break;
	case C_GFAIL:
		if (vfkvm_guest_failure(val))
			err("guest failure on %s: %s (value 0x%" PRIx64 ")",
			    v->dev.name ? v->dev.name : "no device", vfkvm_guest_failure(val),
			    v->fail_val);
		else
			err("guest failure: code %" PRIu64 " (value 0x%" PRIx64 ")", val,
			    v->fail_val);
		v->done = true;
		v->status = -EIO;
		break;
	default:
		if (off < C_REPORT || off >= C_REPORT + 8 * sizeof(report_names) / sizeof(char *) ||
		    off % 8)
			break;
		if ((off - C_REPORT) / 8 == R_VF_MAC) {
			/* the MAC's bytes in wire order, as the mailbox carried them */
			printf("guest: vf.mac = %02x:%02x:%02x:%02x:%02x:%02x\n",
			       (unsigned)(val & 0xff), (unsigned)(val >> 8 & 0xff),
			       (unsigned)(val >> 16 & 0xff), (unsigned)(val >> 24 & 0xff),
			       (unsigned)(val >> 32 & 0xff), (unsigned)(val >> 40 & 0xff));
			break;
		}
		printf("guest: %s = 0x%" PRIx64 "\n", report_names[(off - C_REPORT) / 8], val);
		break;
	}
	return ret;
}

/* Writes to the read-only slot exit as MMIO; the memory keeps its value. */
static int roslot_access(struct vfkvm_region *r, uint64_t off, void *data, unsigned len,
			 bool write)
{
	if (!write)
		memcpy(data, (uint8_t *)r->map + off, len);
	return 0;
}

static int memfd_region(struct vfkvm_region *r, const char *name, uint64_t gpa, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, size) < 0) {
		int ret = -errno;
		err("memfd for %s: %s", name, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	*r = (struct vfkvm_region){ .name = name, .gpa = gpa, .size = size, .fd = fd, .slot = -1 };
	return 0;
}

static void region_release(struct vfkvm_region *r)
{
	if (r->map)
		munmap(r->map, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

/* The stand-in for a VF: one memfd BAR as a memory slot, one MSI on an irqfd. */
static int stand_in_dev(struct vfkvm *v)
{
	struct vfkvm_dev *d = &v->dev;
	struct vfkvm_region *bar = &d->regions[0];
	struct vfkvm_irq *irq = &d->irqs[0];
	int r;

	d->name = "stand-in";
	r = memfd_region(bar, "vfkvm-stand-in-bar0", VFKVM_BAR_GPA, VFKVM_BAR_SIZE);
	if (r < 0)
		return r;
	d->nregions = 1;
	r = vfkvm_map_region(&v->vm, bar);
	if (r < 0)
		return r;
	memcpy(bar->map, &(uint64_t){ BAR_MAGIC }, 8);

	*irq = (struct vfkvm_irq){ .gsi = IRQ_GSI, .efd = -1, .msi_addr = MSI_ADDR,
				   .msi_data = VFKVM_IRQ_VEC };
	d->nirqs = 1;
	r = vfkvm_add_msi_route(&v->vm, irq);
	if (r < 0)
		return r;
	return vfkvm_irqfd(&v->vm, irq);
}

static int load_image(struct vfkvm *v)
{
	struct stat st;
	FILE *f;
	int r;

	if (!v->o.guest) {
		v->img_len = vfkvm_guest_end - vfkvm_guest_start;
		v->img = malloc(v->img_len);
		if (!v->img)
			return -ENOMEM;
		memcpy(v->img, vfkvm_guest_start, v->img_len);
		return 0;
	}
	f = fopen(v->o.guest, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		r = -errno;
		err("%s: %s; --guest takes a raw image with a VFKVMG01 header", v->o.guest,
		    strerror(-r));
		goto out;
	}
	v->img_len = st.st_size;
	v->img = malloc(v->img_len ? v->img_len : 1);
	r = -ENOMEM;
	if (!v->img)
		goto out;
	r = 0;
	if (fread(v->img, 1, v->img_len, f) != v->img_len) {
		r = -EIO;
		err("%s: short read", v->o.guest);
	}
out:
	if (f)
		fclose(f);
	return r;
}

bool vfkvm_prefault_wanted(const struct vfkvm_opts *o)
{
	/* --lease sets vf too; the stand-in BAR is a slot, it does no DMA */
	return o->prefault || o->vf;
}

int vfkvm_setup(struct vfkvm **out, const struct vfkvm_opts *o)
{
	struct vfkvm *v;
	int r;

	v = calloc(1, sizeof(*v));
	if (!v) {
		if (o->lease_fds)
			vfctl_lease_fds_close(o->lease_fds);
		return -ENOMEM;
	}
	v->o = *o;
	v->doorbell_efd = -1;
	v->ctrl = (struct vfkvm_region){ .name = "control", .gpa = VFKVM_CTRL_GPA,
					 .size = 0x1000, .fd = -1, .slot = -1,
					 .access = ctrl_access, .priv = v };
	v->roslot.fd = -1;
	v->vm = (struct vfkvm_vm){ .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1, .ram_fd = -1 };
	for (unsigned i = 0; i < VFKVM_MAX_REGIONS; i++)
		v->dev.regions[i].fd = -1;

	r = load_image(v);
	if (r < 0)
		goto err;
	/* a device will DMA into guest RAM: all of it must be pinnable */
	if (o->stand_in_bar || o->vf) {
		r = vfkvm_check_memlock(o->mem);
		if (r < 0)
			goto err;
	}
	r = vfkvm_vm_create(&v->vm, o->mem, o->hugepages, vfkvm_prefault_wanted(o));
	if (r < 0)
		goto err;
	if (v->vm.prefault_ms >= 0)
		printf("vfkvm: guest RAM prefaulted: %llu MiB of %s pages in %.1f ms\n",
		       (unsigned long long)o->mem >> 20, o->hugepages ? "2 MiB" : "4 KiB",
		       v->vm.prefault_ms);
	r = vfkvm_trap_region(&v->vm, &v->ctrl);
	if (r < 0)
		goto err;
	r = memfd_region(&v->roslot, "vfkvm-roslot", VFKVM_ROSLOT_GPA, 0x1000);
	if (r < 0)
		goto err;
	v->roslot.readonly = true;
	v->roslot.access = roslot_access;
	/* the host fills it before KVM sees it read-only */
	if (pwrite(v->roslot.fd, &(uint64_t){ 0x526f536c6f74ULL }, 8, 0) != 8) {
		r = -errno;
		goto err;
	}
	r = vfkvm_map_region(&v->vm, &v->roslot);
	if (r < 0)
		goto err;
	r = vfkvm_ioeventfd(&v->vm, VFKVM_DOORBELL_GPA, 4, &v->doorbell_efd);
	if (r < 0)
		goto err;
	if (o->stand_in_bar) {
		r = stand_in_dev(v);
		if (r < 0)
			goto err;
	}
	if (o->vf) {
		v->have_vfio = true;
		if (o->lease_fds)
			r = vfkvm_vfio_adopt(&v->vfio, o->ctx, o->lease_fds, o->iommu, &v->vm,
					     &v->dev);
		else
			r = vfkvm_vfio_open(&v->vfio, o->ctx, o->vf, o->iommu, &v->vm, &v->dev);
		if (r < 0)
			goto err;
	}
	r = vfkvm_load_guest(&v->vm, v->img, v->img_len);
	if (r < 0)
		goto err;
	*out = v;
	return 0;
err:
	/* the lease's fds are ours from the start; vfkvm_vfio_close() has them
	 * once adopted */
	if (o->lease_fds && !v->have_vfio)
		vfctl_lease_fds_close(o->lease_fds);
	vfkvm_teardown(v);
	return r;
}

void *vfkvm_bar(struct vfkvm *v)
{
	return v->dev.nregions && !v->have_vfio ? v->dev.regions[0].map : NULL;
}

/* A 32-bit VF BAR register read the host's way: pread on the VFIO device
 * fd (the kernel's access path, not the guest's mmapped slot). */
int vfkvm_vf_read32(struct vfkvm *v, unsigned bar, uint64_t off, uint32_t *val)
{
	if (!v->have_vfio || bar > 5 || off + 4 > v->vfio.bar_size[bar])
		return -ENODEV;
	errno = 0;
	if (pread(v->vfio.device, val, 4, v->vfio.bar_off[bar] + off) != 4)
		return errno ? -errno : -EIO;
	return 0;
}

/* The device's interrupts first (deassigned, then closed), then the VM and
 * its RAM, then the device regions its slots pointed at. With --vf: bus
 * mastering off, DMA unmap and the device fd before the VM and guest RAM go
 * (vfkvm_vfio_close_device); the group leaves its container and the
 * container closes only after the BAR mmap is gone (vfkvm_vfio_close). */
void vfkvm_teardown(struct vfkvm *v)
{
	if (!v)
		return;
	signal_run = NULL;
	for (unsigned i = 0; i < v->dev.nirqs; i++)
		vfkvm_irqfd_release(&v->vm, &v->dev.irqs[i]);
	if (v->have_vfio)
		vfkvm_vfio_close_device(&v->vfio);
	vfkvm_vm_destroy(&v->vm);
	for (unsigned i = 0; i < v->dev.nregions; i++)
		region_release(&v->dev.regions[i]);
	if (v->have_vfio)
		vfkvm_vfio_close(&v->vfio);
	region_release(&v->roslot);
	free(v->img);
	free(v);
}

static struct vfkvm_region *find_trap(struct vfkvm *v, uint64_t gpa, unsigned len)
{
	for (unsigned i = 0; i < v->vm.ntraps; i++) {
		struct vfkvm_region *r = v->vm.traps[i];
		if (gpa >= r->gpa && gpa + len <= r->gpa + r->size)
			return r;
	}
	return NULL;
}

static int handle_mmio(struct vfkvm *v)
{
	struct kvm_run *run = v->vm.run;
	uint64_t gpa = run->mmio.phys_addr;
	unsigned len = run->mmio.len;
	struct vfkvm_region *r = find_trap(v, gpa, len);
	int ret;

	v->vm.mmio_exits++;
	if (v->o.trace && run->mmio.is_write)
		printf("mmio: write 0x%" PRIx64 " size %u data 0x%" PRIx64 "\n", gpa, len,
		       get_le(run->mmio.data, len));
	if (!r) {
		err("guest failure: MMIO %s of %u bytes at 0x%" PRIx64 " that no region backs%s",
		    run->mmio.is_write ? "write" : "read", len, gpa,
		    v->o.stand_in_bar ? "" : " (the built-in guest needs --stand-in-bar)");
		return -EFAULT;
	}
	ret = r->access(r, gpa - r->gpa, run->mmio.data, len, run->mmio.is_write);
	if (v->o.trace && !run->mmio.is_write)
		printf("mmio: read 0x%" PRIx64 " size %u data 0x%" PRIx64 "\n", gpa, len,
		       get_le(run->mmio.data, len));
	if (ret < 0)
		err("%s: serving the guest's MMIO at 0x%" PRIx64 ": %s", r->name, gpa,
		    strerror(-ret));
	return ret;
}

int vfkvm_run(struct vfkvm *v)
{
	struct kvm_run *run = v->vm.run;
	int r;

	signal_run = run;
	while (!v->done) {
		if (vfkvm_stop_signal) {
			err("stopping the guest on signal %d (%s)", vfkvm_stop_signal,
			    strsignal(vfkvm_stop_signal));
			return -EINTR;
		}
		if (ioctl(v->vm.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				continue;
			}
			r = -errno;
			err("KVM_RUN: %s", strerror(-r));
			return r;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			r = handle_mmio(v);
			if (r < 0)
				return r;
			break;
		case KVM_EXIT_IO:
			err("guest failure: port I/O at 0x%x: vfkvm guests signal through MMIO",
			    run->io.port);
			return -EFAULT;
		case KVM_EXIT_HLT:
			err("guest failure: halted");
			return -EFAULT;
		case KVM_EXIT_SHUTDOWN:
			err("guest failure: shutdown (triple fault): check the guest's IDT and stack");
			return -EFAULT;
		case KVM_EXIT_INTERNAL_ERROR:
			err("guest failure: KVM internal error, suberror %u (2: emulation failed)",
			    run->internal.suberror);
			return -EFAULT;
		case KVM_EXIT_FAIL_ENTRY:
			err("guest failure: VM entry failed, reason 0x%llx",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return -EFAULT;
		default:
			err("guest failure: unexpected KVM exit reason %u", run->exit_reason);
			return -EFAULT;
		}
	}
	return v->status;
}
