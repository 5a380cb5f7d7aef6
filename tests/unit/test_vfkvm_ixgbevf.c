// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The built-in guest's ixgbevf driver (82599/X540/X550 VF) against a
 * register model of the 82599 VF's mailbox and TX path. No emulator of the
 * 82599 exists and this host has no /dev/kvm, so the test runs the very
 * bytes vfkvm loads into its guest (vfkvm_guest_start, linked at
 * VFKVM_GUEST_LOAD) natively, at the guest-physical addresses it is built
 * for, in a child process: guest RAM is mapped there, while the control
 * region, BAR0 and the LAPIC are left unmapped, so each access faults and
 * the SIGSEGV handler does what KVM and vfkvm do for an MMIO exit: decode
 * the instruction, serve it (BAR0 from the model), step over it, and
 * deliver the MSI-X vectors the model raises through the image's own
 * interrupt handlers.
 *
 * The model follows the 82599 datasheet (8.3.5 the VF registers, 7.9.2 the
 * PF/VF mailbox, 7.2.3 the advanced TX descriptors, 7.3 interrupts), not the
 * driver: VFMAILBOX's REQ/ACK (write pulses), VFU (granted unless the PF
 * holds PFU), PFSTS/PFACK/RSTD (cleared by a read), RSTI; VFMBMEM only to
 * the owner of VFU; VFCTRL.RST; the PF's answer to IXGBE_VF_RESET (ACK, the
 * MAC and the multicast filter type; NACK; silence); TX descriptors fetched
 * and the frame read by DMA from guest RAM, DD written back on RS; causes
 * routed by VTIVAR/VTIVAR_MISC to vectors, VTEIMS/VTEIMC/VTEIAM.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfkvm.h"

/* ---- the 82599 VF, from the datasheet -------------------------------- */
enum {
	VFCTRL = 0x0000, VFSTATUS = 0x0008, VTEICR = 0x0100, VTEICS = 0x0104, VTEIMS = 0x0108,
	VTEIMC = 0x010c, VTEIAC = 0x0110, VTEIAM = 0x0114, VTIVAR0 = 0x0120,
	VTIVAR_MISC = 0x0140, VFMBMEM = 0x0200, VFMAILBOX = 0x02fc, VTEITR0 = 0x0820,
	VFTDBAL = 0x2000, VFTDBAH = 0x2004, VFTDLEN = 0x2008, VFTDH = 0x2010, VFTDT = 0x2018,
	VFGPTC = 0x201c, VFTXDCTL = 0x2028,
};
enum {
	MB_REQ = 1 << 0, MB_ACK = 1 << 1, MB_VFU = 1 << 2, MB_PFU = 1 << 3, MB_PFSTS = 1 << 4,
	MB_PFACK = 1 << 5, MB_RSTI = 1 << 6, MB_RSTD = 1 << 7,
};
#define VFCTRL_RST	(1u << 26)
#define TXDCTL_ENABLE	(1u << 25)
#define MSG_VF_RESET	0x01
#define MSG_ACK		0x80000000u
#define MSG_NACK	0x40000000u
#define MSG_CTS		0x20000000u
#define PF_ACK_US	300	/* the PF's service of the mailbox, after REQ */
#define PF_REPLY_US	200	/* then its reply (PFSTS) */
#define TXEN_US		50	/* VFTXDCTL.ENABLE reads back set after this */

enum pf_mode {
	PF_ACK,		/* a MAC for the VF: ACK, MAC, filter type */
	PF_NACK,	/* no MAC for the VF */
	PF_SILENT,	/* never services the mailbox (its interface down) */
	PF_GARBLED,	/* answers neither ACK nor NACK */
	PF_RSTI,	/* stuck in its own reset: RSTI stays set */
	PF_NO_VFTE,	/* answers, but never enables the VF's transmit */
};

struct model {
	enum pf_mode mode;
	uint16_t device;
	uint8_t mac[6];
	uint32_t mc_type;
	uint64_t now_us;	/* virtual time: the guest's delay writes */
	/* mailbox */
	bool vfu, pfu, rsti;
	uint32_t r2c;		/* PFSTS, PFACK, RSTD: latched until read */
	uint32_t mbmem[16];
	bool req;		/* a VF message the PF has not yet taken */
	uint64_t ack_at, reply_at;	/* 0: nothing scheduled */
	uint32_t request;	/* word 0 of the VF's last message */
	unsigned vf_acks;	/* the VF's ACKs of PF messages */
	bool vfte;		/* the PF enabled the VF's transmit */
	unsigned resets;	/* VFCTRL.RST */
	/* interrupts */
	uint32_t eicr, eims, eiac, eiam, ivar0, ivar_misc;
	uint32_t pending;	/* MSI-X vectors raised, not yet delivered */
	unsigned fired[3];
	/* TX queue 0 */
	uint64_t tdba;
	uint32_t tdlen, tdh, tdt, txdctl, gptc;
	uint64_t txen_at;
	bool ctx_valid[2];
	uint8_t frame[2048];	/* the frame being gathered */
	size_t frame_len;
	uint8_t sent[2048];	/* the last frame the model sent */
	size_t sent_len;
	unsigned frames;
	char error[256];	/* the first thing the driver did the datasheet forbids */
};

/* ---- the platform (what KVM and vfkvm's control region do) ------------ */
#define LOW_RAM		0x60000UL	/* ring-0 stack (top 0x80000) .. guest RAM */
#define LOW_RAM_END	0x200000UL	/* the image, the TX ring and the frame */
#define RSP0		0x80000UL	/* the TSS's ring-0 stack (vfkvm.h) */
#define LAPIC		0xfee00000UL
#define RING_GPA	0x180000UL	/* guest.S */
#define FRAME_GPA	0x181000UL
#define N_REPORTS	32

struct run {
	struct model m;
	uint32_t devid;		/* what the control region's 0x60 reads */
	bool done;
	int status;		/* C_EXIT's */
	uint64_t gfail, failval;
	uint64_t reports[N_REPORTS];
	bool reported[N_REPORTS];
	unsigned traps, irqs_delivered, eois;
	bool in_irq, lapic_on, in_user;
	uint8_t guest_frame[80];	/* guest RAM at FRAME_GPA when it stopped */
	char error[256];	/* the platform's: a fault it cannot serve */
};

static struct run *R;	/* shared with the parent */

static void model_error(struct model *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void model_error(struct model *m, const char *fmt, ...)
{
	va_list ap;

	if (m->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
}

/* The device's DMA: guest RAM is identity-mapped at IOVA 0 (vfkvm's
 * map_dma), and here guest-physical is this process's virtual address. */
static bool dma(struct model *m, uint64_t iova, void *buf, size_t len, bool write)
{
	if (iova < LOW_RAM || iova + len > LOW_RAM_END) {
		model_error(m, "DMA %s of %zu bytes at IOVA 0x%lx: outside guest RAM",
			    write ? "write" : "read", len, (unsigned long)iova);
		return false;
	}
	if (write)
		memcpy((void *)(uintptr_t)iova, buf, len);
	else
		memcpy(buf, (void *)(uintptr_t)iova, len);
	return true;
}

/* Cause bit = MSI-X vector; it fires when unmasked (7.3.1.2), then the
 * vector's EIAM bit masks it again and its EIAC bit clears the cause. */
static void model_cause(struct model *m, uint32_t bits)
{
	uint32_t fire;

	m->eicr |= bits & 7;
	fire = m->eicr & m->eims;
	if (!fire)
		return;
	m->pending |= fire;
	m->eims &= ~(fire & m->eiam);
	m->eicr &= ~(fire & m->eiac);
}

/* A queue's cause goes to the vector its IVAR entry allocates (valid bit 7). */
static void model_ivar_cause(struct model *m, uint32_t entry)
{
	if (entry & 0x80)
		model_cause(m, 1u << (entry & 3));
}

static void model_mbx_cause(struct model *m)
{
	model_ivar_cause(m, m->ivar_misc & 0xff);
}

static void model_vf_reset(struct model *m)
{
	m->resets++;
	m->vfte = false;	/* until the PF hears IXGBE_VF_RESET */
	m->eicr = m->eims = m->eiac = m->eiam = m->ivar0 = m->ivar_misc = 0;
	m->txdctl = m->tdh = m->tdt = 0;
	m->txen_at = 0;
	m->ctx_valid[0] = m->ctx_valid[1] = false;
	m->frame_len = 0;
}

static void model_tx(struct model *m);

/* The PF side and the device's own delays, as virtual time passes. */
static void model_tick(struct model *m)
{
	if (m->ack_at && m->now_us >= m->ack_at) {
		m->ack_at = 0;
		m->req = false;
		m->request = m->mbmem[0];
		m->r2c |= MB_PFACK;
		model_mbx_cause(m);
		if ((m->request & 0xffff) == MSG_VF_RESET)
			m->reply_at = m->now_us + PF_REPLY_US;
	}
	/* the PF writes its reply when the VF does not hold the buffer */
	if (m->reply_at && m->now_us >= m->reply_at && !m->vfu) {
		uint32_t w0 = MSG_VF_RESET | MSG_CTS;

		m->reply_at = 0;
		m->pfu = true;
		memset(m->mbmem, 0, sizeof(m->mbmem));
		if (m->mode == PF_NACK) {
			w0 |= MSG_NACK;
		} else if (m->mode != PF_GARBLED) {
			w0 |= MSG_ACK;
			memcpy(&m->mbmem[1], m->mac, 6);
		}
		m->mbmem[0] = w0;
		m->mbmem[3] = m->mc_type;
		m->pfu = false;
		m->r2c |= MB_PFSTS;
		m->vfte = m->mode != PF_NO_VFTE;
		model_mbx_cause(m);
		model_tx(m);
	}
	if (m->txen_at && m->now_us >= m->txen_at) {
		m->txen_at = 0;
		m->txdctl |= TXDCTL_ENABLE;
		model_tx(m);
	}
}

/* Transmit what lies between head and tail (7.2.3): context descriptors
 * (DTYP 2) load a context slot; data descriptors (DTYP 3) gather the frame
 * by DMA; the VF's packets must check a context (CC: Tx switching is on
 * with VFs), or the 82599 drops them; RS writes DD back. */
static void model_tx(struct model *m)
{
	unsigned n = m->tdlen / 16;
	bool wrote_back = false;

	if (!(m->txdctl & TXDCTL_ENABLE) || !m->vfte || !n)
		return;
	while (m->tdh != m->tdt) {
		uint64_t a = m->tdba + 16ULL * m->tdh;
		uint32_t d[4];
		unsigned dtyp, idx;

		if (!dma(m, a, d, sizeof(d), false))
			return;
		dtyp = d[2] >> 20 & 0xf;
		if (!(d[2] & 1u << 29)) {
			model_error(m, "TX descriptor %u: legacy format (DEXT clear)", m->tdh);
			return;
		}
		idx = d[3] >> 4 & 7;
		if (idx > 1) {
			model_error(m, "TX descriptor %u: IDX %u (a queue has 2 contexts)",
				    m->tdh, idx);
			return;
		}
		if (dtyp == 2) {
			m->ctx_valid[idx] = true;
		} else if (dtyp == 3) {
			uint64_t buf;
			uint32_t len = d[2] & 0xffff;

			memcpy(&buf, d, 8);
			if (!(d[3] & 0x80) || !m->ctx_valid[idx]) {
				model_error(m, "TX descriptor %u: data without a checked context "
					    "(CC, IDX %u): the 82599 drops a VF's packet", m->tdh,
					    idx);
				return;
			}
			if (m->frame_len + len > sizeof(m->frame) ||
			    !dma(m, buf, m->frame + m->frame_len, len, false))
				return;
			m->frame_len += len;
			if (d[2] & 1u << 24) {	/* EOP */
				if (d[3] >> 14 != m->frame_len)
					model_error(m, "TX descriptor %u: PAYLEN %u, frame %zu",
						    m->tdh, d[3] >> 14, m->frame_len);
				memcpy(m->sent, m->frame, m->frame_len);
				m->sent_len = m->frame_len;
				m->frame_len = 0;
				m->frames++;
				m->gptc++;
			}
			if (d[2] & 1u << 27) {	/* RS: write DD back */
				d[3] |= 1;
				if (!dma(m, a + 12, &d[3], 4, true))
					return;
				wrote_back = true;
			}
		} else {
			model_error(m, "TX descriptor %u: DTYP %u", m->tdh, dtyp);
			return;
		}
		m->tdh = (m->tdh + 1) % n;
	}
	if (wrote_back)
		model_ivar_cause(m, m->ivar0 >> 8 & 0xff);
}

static uint32_t model_read(struct model *m, uint32_t off)
{
	uint32_t v;

	switch (off) {
	case VFCTRL:
		return 0;	/* RST self-clears */
	case VFSTATUS:
		return 0x00000083;	/* link up, 10 Gb/s */
	case VFMAILBOX:
		v = (m->vfu ? MB_VFU : 0) | (m->pfu ? MB_PFU : 0) | (m->rsti ? MB_RSTI : 0) | m->r2c;
		m->r2c = 0;
		return v;
	case VTEICR:
		v = m->eicr;
		m->eicr = 0;
		return v;
	case VTEIMS:
		return m->eims;
	case VTEIAM:
		return m->eiam;
	case VTIVAR0:
		return m->ivar0;
	case VTIVAR_MISC:
		return m->ivar_misc;
	case VFTDBAL:
		return (uint32_t)m->tdba;
	case VFTDBAH:
		return m->tdba >> 32;
	case VFTDLEN:
		return m->tdlen;
	case VFTDH:
		return m->tdh;
	case VFTDT:
		return m->tdt;
	case VFTXDCTL:
		return m->txdctl;
	case VFGPTC:
		return m->gptc;
	}
	if (off >= VFMBMEM && off < VFMBMEM + 64) {
		if (!m->vfu)
			model_error(m, "VFMBMEM read without VFU");
		return m->vfu ? m->mbmem[(off - VFMBMEM) / 4] : 0;
	}
	return 0;
}

static void model_write(struct model *m, uint32_t off, uint32_t v)
{
	switch (off) {
	case VFCTRL:
		if (v & VFCTRL_RST)
			model_vf_reset(m);
		return;
	case VFMAILBOX:
		/* REQ and ACK are pulses; VFU is what the VF writes, granted
		 * only while the PF does not hold the buffer */
		if (v & MB_REQ) {
			if (!m->vfu)
				model_error(m, "VFMAILBOX.REQ without holding VFU");
			m->req = true;
			m->ack_at = m->mode == PF_SILENT ? 0 : m->now_us + PF_ACK_US;
		}
		if (v & MB_ACK)
			m->vf_acks++;
		m->vfu = (v & MB_VFU) && !m->pfu;
		return;
	case VTEICS:
		model_cause(m, v);
		return;
	case VTEIMS:
		m->eims |= v & 7;
		model_cause(m, 0);	/* a pending cause fires once unmasked */
		return;
	case VTEIMC:
		m->eims &= ~v;
		return;
	case VTEIAC:
		m->eiac = v & 7;
		return;
	case VTEIAM:
		m->eiam = v & 7;
		return;
	case VTIVAR0:
		m->ivar0 = v;
		return;
	case VTIVAR_MISC:
		m->ivar_misc = v & 0xff;
		return;
	case VTEITR0:
		return;
	case VFTDBAL:
		if (v & 0x7f)
			model_error(m, "VFTDBAL 0x%x: not 128-byte aligned", v);
		m->tdba = (m->tdba & ~0xffffffffULL) | v;
		return;
	case VFTDBAH:
		m->tdba = (m->tdba & 0xffffffffULL) | (uint64_t)v << 32;
		return;
	case VFTDLEN:
		if (!v || v % 128)
			model_error(m, "VFTDLEN %u: not a multiple of 128", v);
		m->tdlen = v;
		return;
	case VFTDH:
		m->tdh = v;
		return;
	case VFTDT:
		m->tdt = v;
		model_tx(m);
		return;
	case VFTXDCTL:
		if (v & TXDCTL_ENABLE && !(m->txdctl & TXDCTL_ENABLE)) {
			m->txen_at = m->now_us + TXEN_US;	/* ENABLE reads back later */
			m->txdctl = v & ~TXDCTL_ENABLE;
		} else {
			m->txdctl = v;
		}
		return;
	}
	if (off >= VFMBMEM && off < VFMBMEM + 64) {
		if (!m->vfu)
			model_error(m, "VFMBMEM written without VFU");
		else
			m->mbmem[(off - VFMBMEM) / 4] = v;
		return;
	}
	model_error(m, "write 0x%x to BAR0 0x%x: no such register in the model", v, off);
}

/* ---- the MMIO exit: decode, serve, step ------------------------------- */
static const int gpr[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void platform_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void platform_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(R->error, sizeof(R->error), fmt, ap);
	va_end(ap);
	_exit(3);
}

static void stop(void)
{
	memcpy(R->guest_frame, (void *)FRAME_GPA, sizeof(R->guest_frame));
	_exit(0);
}

/* vfkvm's control region (run.c's ctrl_access, as far as this guest path
 * uses it; vfkvm's own is covered on KVM by test_vfkvm_run and the VM). */
static uint64_t ctrl_rw(uint64_t off, uint64_t val, bool write)
{
	if (!write)
		return off == 0x38 ? 1 : off == 0x60 ? R->devid : 0;
	if (off == 0x00) {
		R->done = true;
		R->status = (int)(val & 0xff);
		stop();
	} else if (off == 0x40) {
		R->m.now_us += val;
		model_tick(&R->m);
		if (R->m.now_us > 60ULL * 1000000)
			platform_error("the guest ran for 60 s of its time");
	} else if (off == 0x48) {
		R->failval = val;
	} else if (off == 0x50) {
		R->gfail = val;
		stop();
	} else if (off == 0x28 || off == 0x30) {
		platform_error("guest exception report at 0x%lx", (unsigned long)off);
	} else if (off >= 0x100 && off < 0x100 + 8 * N_REPORTS && !(off % 8)) {
		R->reports[(off - 0x100) / 8] = val;
		R->reported[(off - 0x100) / 8] = true;
	}
	return 0;
}

/* Ring 0's way to ring 3 in the image's entry: pushq SS, RSP, RFLAGS, CS,
 * RIP; iretq. Here the guest already runs at ring 3 with this process's
 * selectors, so take RSP and RIP from the pushes and keep the rest. */
static void enter_user(greg_t *g)
{
	const uint8_t *p = (const uint8_t *)g[REG_RIP];
	uint64_t push[5];

	for (unsigned i = 0; i < 5; i++) {
		if (p[0] == 0x68) {
			push[i] = (uint64_t)(int64_t)(int32_t)(p[1] | p[2] << 8 | p[3] << 16 |
							       (uint32_t)p[4] << 24);
			p += 5;
		} else if (p[0] == 0x6a) {
			push[i] = (uint64_t)(int64_t)(int8_t)p[1];
			p += 2;
		} else {
			platform_error("entry: no pushq at 0x%lx", (unsigned long)(uintptr_t)p);
		}
	}
	if (p[0] != 0x48 || p[1] != 0xcf)
		platform_error("entry: no iretq at 0x%lx", (unsigned long)(uintptr_t)p);
	g[REG_RSP] = (greg_t)push[1];
	g[REG_RIP] = (greg_t)push[4];
	R->in_user = true;
}

/* An MSI-X vector K arrives as vector 0x40 + K (vfio.c's routes): the CPU
 * switches to RSP0 and pushes SS, RSP, RFLAGS, CS, RIP, then runs the
 * image's handler from its header (VFKVMG01, entry, nvec, handlers[]). */
static void deliver(greg_t *g)
{
	const uint64_t *hdr = (const uint64_t *)VFKVM_GUEST_LOAD;
	uint64_t *frame = (uint64_t *)(RSP0 - 40);
	unsigned k, vec;
	uint16_t cs, ss;

	if (R->in_irq || !R->in_user || !R->m.pending)
		return;
	k = (unsigned)__builtin_ctz(R->m.pending);
	R->m.pending &= ~(1u << k);
	vec = VFKVM_IRQ_VEC + k;
	if (vec >= hdr[2] || !hdr[3 + vec])
		platform_error("vector 0x%x: no handler in the image", vec);
	__asm__("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
	frame[0] = (uint64_t)g[REG_RIP];
	frame[1] = cs;
	frame[2] = (uint64_t)g[REG_EFL];
	frame[3] = (uint64_t)g[REG_RSP];
	frame[4] = ss;
	g[REG_RSP] = (greg_t)(uintptr_t)frame;
	g[REG_RIP] = (greg_t)hdr[3 + vec];
	R->m.fired[k]++;
	R->in_irq = true;
	R->irqs_delivered++;
}

static uint64_t disp_of(const uint8_t **p, unsigned mod)
{
	uint64_t d = 0;

	if (mod == 1) {
		d = (uint64_t)(int64_t)(int8_t)**p;
		*p += 1;
	} else if (mod == 2) {
		d = (uint64_t)(int64_t)(int32_t)((*p)[0] | (*p)[1] << 8 | (*p)[2] << 16 |
						 (uint32_t)(*p)[3] << 24);
		*p += 4;
	}
	return d;
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	const uint8_t *p = (const uint8_t *)g[REG_RIP];
	uint64_t addr = (uint64_t)(uintptr_t)si->si_addr, val = 0, imm = 0;
	unsigned rex = 0, len = 4, op, modrm, reg, rm;
	bool write;

	if (sig != SIGSEGV)
		platform_error("signal %d at rip 0x%lx", sig, (unsigned long)g[REG_RIP]);
	R->traps++;
	if (*p == 0x66) {
		len = 2;
		p++;
	}
	if ((*p & 0xf0) == 0x40)
		rex = *p++;
	if (rex & 8)
		len = 8;
	op = *p++;
	modrm = *p++;
	reg = (modrm >> 3 & 7) | (rex & 4 ? 8 : 0);
	rm = modrm & 7;
	if (modrm >> 6 == 3 || rm == 4 || (modrm >> 6 == 0 && rm == 5))
		platform_error("MMIO at 0x%lx by an instruction this decoder lacks (rip 0x%lx)",
			       (unsigned long)addr, (unsigned long)g[REG_RIP]);
	disp_of(&p, modrm >> 6);
	switch (op) {
	case 0x8b:	/* mov m, r */
		write = false;
		break;
	case 0x89:	/* mov r, m */
		write = true;
		val = (uint64_t)g[gpr[reg]];
		break;
	case 0xc7:	/* mov $imm32, m */
		write = true;
		imm = (uint64_t)(int64_t)(int32_t)(p[0] | p[1] << 8 | p[2] << 16 |
						   (uint32_t)p[3] << 24);
		p += len == 2 ? 2 : 4;
		val = len == 2 ? (uint16_t)imm : imm;
		break;
	default:
		platform_error("MMIO at 0x%lx by opcode 0x%x (rip 0x%lx)", (unsigned long)addr, op,
			       (unsigned long)g[REG_RIP]);
	}
	if (len < 8)
		val &= (1ULL << 8 * len) - 1;
	g[REG_RIP] = (greg_t)(uintptr_t)p;

	if (addr >= VFKVM_CTRL_GPA && addr < VFKVM_CTRL_GPA + 0x1000) {
		val = ctrl_rw(addr - VFKVM_CTRL_GPA, val, write);
	} else if (addr >= VFKVM_BAR_GPA && addr < VFKVM_BAR_GPA + 0x4000) {
		if (len != 4 || addr % 4)
			model_error(&R->m, "BAR0 0x%lx: a %u-byte access (registers are 32-bit)",
				    (unsigned long)(addr - VFKVM_BAR_GPA), len);
		if (write)
			model_write(&R->m, (uint32_t)(addr - VFKVM_BAR_GPA), (uint32_t)val);
		else
			val = model_read(&R->m, (uint32_t)(addr - VFKVM_BAR_GPA));
	} else if (addr == LAPIC + 0xf0 && write) {
		R->lapic_on = true;	/* SVR: the image's entry, at ring 0 */
		enter_user(g);
		return;
	} else if (addr == LAPIC + 0xb0 && write) {
		R->in_irq = false;	/* EOI */
		R->eois++;
	} else {
		platform_error("%s of 0x%lx at rip 0x%lx: no such region",
			       write ? "write" : "read", (unsigned long)addr,
			       (unsigned long)g[REG_RIP]);
	}
	if (!write)
		/* a 32-bit load zero-extends into the 64-bit register */
		g[gpr[reg]] = (greg_t)(len == 8 ? val : val & 0xffffffffULL);
	deliver(g);
}

/* The child: the image and guest RAM where vfkvm puts them, the trapped
 * regions left unmapped, the guest entered at its header's entry at ring
 * "0" (RSP0) as KVM's vCPU would be. */
static void guest_child(void)
{
	static uint8_t altstack[64 * 1024];
	size_t len = (size_t)(vfkvm_guest_end - vfkvm_guest_start);
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	void *ram;
	uint64_t entry;

	ram = mmap((void *)LOW_RAM, LOW_RAM_END - LOW_RAM, PROT_READ | PROT_WRITE | PROT_EXEC,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (ram != (void *)LOW_RAM)
		platform_error("guest RAM at 0x%lx: %s", LOW_RAM, strerror(errno));
	if (len > RING_GPA - VFKVM_GUEST_LOAD)
		platform_error("the image (%zu bytes) reaches the TX ring", len);
	memcpy((void *)VFKVM_GUEST_LOAD, vfkvm_guest_start, len);
	if (sigaltstack(&ss, NULL) < 0 || sigaction(SIGSEGV, &sa, NULL) < 0 ||
	    sigaction(SIGILL, &sa, NULL) < 0 || sigaction(SIGBUS, &sa, NULL) < 0)
		platform_error("signals: %s", strerror(errno));
	/* the trapped regions stay without memory (ASan's shadow gap, where
	 * it runs, already is) */
	mmap((void *)VFKVM_CTRL_GPA, 0x1000, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	mmap((void *)VFKVM_BAR_GPA, 0x4000, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	mmap((void *)LAPIC, 0x1000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
	     -1, 0);
	memcpy(&entry, (void *)(VFKVM_GUEST_LOAD + 8), 8);
	__asm__ volatile("mov %0, %%rsp\n\tjmp *%1" : : "r"(RSP0), "r"(entry) : "memory");
	__builtin_unreachable();
}

/* Runs the image against a model in mode; the result in R (shared). */
static void run_guest(enum pf_mode mode, uint16_t device)
{
	static const uint8_t mac[6] = { 0x02, 0x09, 0x95, 0x10, 0xed, 0x01 };
	pid_t pid;
	int st;

	memset(R, 0, sizeof(*R));
	R->m.mode = mode;
	R->m.device = device;
	memcpy(R->m.mac, mac, 6);
	R->m.mc_type = 2;	/* MCSTCTRL.MO: MTA offset [45:34] */
	R->m.rsti = mode == PF_RSTI;
	R->m.r2c = MB_RSTD;	/* the PF's own reset done, not yet read */
	R->devid = 0x8086u << 16 | device;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		guest_child();
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (R->error[0])
		fprintf(stderr, "# platform: %s\n", R->error);
	if (R->m.error[0])
		fprintf(stderr, "# model: %s\n", R->m.error);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(R->error, "");
	printf("# figure: ixgbevf %04x mode %d: %u MMIO exits, %lu us of guest time\n", device,
	       mode, R->traps, (unsigned long)R->m.now_us);
}

enum { RP_STATUS = 9, RP_RST = 11, RP_REPLY = 12, RP_MAC = 13, RP_TXSTATUS = 14, RP_TXHEAD = 15,
       RP_TXPKTS = 16, RP_TXIRQ = 17, RP_MCTYPE = 20 };

static void expect_frame(const uint8_t src[6])
{
	static const char text[] = "vfkvm: one frame from the guest, sent by DMA through the VF";
	uint8_t want[80] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memcpy(want + 6, src, 6);
	want[12] = 0x88;
	want[13] = 0xb5;
	memcpy(want + 14, text, sizeof(text));
	assert_int_equal(R->m.frames, 1);
	assert_int_equal(R->m.sent_len, sizeof(want));
	assert_memory_equal(R->m.sent, want, sizeof(want));
}

static uint64_t mac_word(const uint8_t *mac)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 6; i++)
		v |= (uint64_t)mac[i] << 8 * i;
	return v;
}

/* Reset, handshake, MAC, one frame by DMA and its interrupt: for each
 * device id of the family, which the guest must pick the driver by. */
static void ixgbevf_sends_one_frame(void **state)
{
	static const uint16_t ids[] = { 0x10ed, 0x1515, 0x1565 };

	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		run_guest(PF_ACK, ids[i]);
		assert_string_equal(R->m.error, "");
		assert_true(R->done);
		assert_int_equal(R->status, 0);
		assert_int_equal(R->gfail, 0);
		assert_true(R->lapic_on);
		assert_int_equal(R->m.resets, 1);
		/* the first VFMAILBOX read after VFCTRL.RST saw the PF's RSTD */
		assert_int_equal(R->reports[RP_RST] & MB_RSTD, MB_RSTD);
		/* the handshake: one VF_RESET, acknowledged; the reply read */
		assert_int_equal(R->m.request, MSG_VF_RESET);
		assert_int_equal(R->m.vf_acks, 1);
		assert_int_equal(R->reports[RP_REPLY], MSG_VF_RESET | MSG_ACK | MSG_CTS);
		assert_int_equal(R->reports[RP_MAC], mac_word(R->m.mac));
		assert_true(R->reported[RP_MCTYPE]);
		assert_int_equal(R->reports[RP_MCTYPE], R->m.mc_type);
		/* the frame the model read by DMA is the one the guest built */
		expect_frame(R->m.mac);
		assert_memory_equal(R->m.sent, R->guest_frame, sizeof(R->guest_frame));
		assert_int_equal(R->reports[RP_TXSTATUS] & 1, 1);	/* DD */
		assert_int_equal(R->reports[RP_TXHEAD], 2);
		assert_int_equal(R->reports[RP_TXPKTS], 1);
		assert_int_equal(R->m.tdh, 2);
		/* TX cause -> VTIVAR(0) -> vector 0, once; auto-masked; the
		 * guest's handler ran and EOIed; the mailbox vector stayed off */
		assert_int_equal(R->m.fired[0], 1);
		assert_int_equal(R->m.fired[1], 0);
		assert_int_equal(R->reports[RP_TXIRQ], 1);
		assert_int_equal(R->eois, 1);
		assert_int_equal(R->m.ivar_misc, 0x81);
		assert_int_equal(R->m.eims & 1, 0);
		assert_int_equal(R->m.txdctl & TXDCTL_ENABLE, 0);	/* queue off at the end */
	}
}

/* The message vfkvm prints for a guest failure code must name the register. */
static void expect_failure(uint64_t code, const char *reg, const char *what)
{
	const char *text = vfkvm_guest_failure(code);

	assert_int_equal(R->gfail, code);
	assert_false(R->done);
	assert_non_null(text);
	assert_non_null(strstr(text, reg));
	assert_non_null(strstr(text, what));
	assert_int_equal(R->m.frames, 0);
	printf("# vfkvm: guest failure on VF: %s (value 0x%lx)\n", text,
	       (unsigned long)R->failval);
}

static void pf_never_acks(void **state)
{
	run_guest(PF_SILENT, 0x10ed);
	assert_string_equal(R->m.error, "");
	assert_true(R->m.req);	/* the request went out, nobody took it */
	expect_failure(8 + 2, "VFMAILBOX", "PFACK");
	assert_int_equal(R->failval & MB_PFACK, 0);
	/* it waited its 2 s of guest time, not less */
	assert_true(R->m.now_us >= 2000000);
}

/* NACK: the reset is done but the PF has no MAC for the VF: no MAC
 * reported, the frame from the driver's own locally administered address. */
static void pf_nacks(void **state)
{
	static const uint8_t own[6] = { 0x02, 0x76, 0x66, 0x6b, 0x76, 0x00 };

	run_guest(PF_NACK, 0x1515);
	assert_string_equal(R->m.error, "");
	assert_int_equal(R->status, 0);
	assert_int_equal(R->reports[RP_REPLY], MSG_VF_RESET | MSG_NACK | MSG_CTS);
	assert_true(R->reported[RP_MAC]);
	assert_int_equal(R->reports[RP_MAC], 0);
	expect_frame(own);
}

static void pf_garbled_reply(void **state)
{
	run_guest(PF_GARBLED, 0x1565);
	assert_string_equal(R->m.error, "");
	expect_failure(8 + 4, "VFMBMEM", "neither ACK nor NACK");
	assert_int_equal(R->failval, MSG_VF_RESET | MSG_CTS);
}

static void rsti_stuck(void **state)
{
	run_guest(PF_RSTI, 0x10ed);
	assert_string_equal(R->m.error, "");
	expect_failure(8, "VFMAILBOX", "RSTI");
	assert_int_equal(R->failval & MB_RSTI, MB_RSTI);
	assert_int_equal(R->m.request, 0);	/* it never wrote the mailbox */
}

static void transmit_never_enabled(void **state)
{
	run_guest(PF_NO_VFTE, 0x10ed);
	assert_string_equal(R->m.error, "");
	expect_failure(8 + 6, "VFTDH", "PFVFTE");
	assert_int_equal(R->failval, 0);	/* VFTDH did not move */
	assert_int_equal(R->m.fired[0], 0);
}

/* Another VF (the 82576's) gets the igbvf driver, whose registers this
 * model does not have: its first write (EIMS, 0x1524) is refused, its
 * mailbox (0x0c40) never grants VFU, and it fails with igbvf's code. */
static void other_ids_get_igbvf(void **state)
{
	run_guest(PF_ACK, 0x10ca);
	assert_non_null(strstr(R->m.error, "BAR0 0x1524"));
	assert_int_equal(R->gfail, 2);
	assert_int_equal(R->m.request, 0);
}

static int setup(void **state)
{
	R = mmap(NULL, sizeof(*R), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return R == MAP_FAILED ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ixgbevf_sends_one_frame),
		cmocka_unit_test(pf_never_acks),
		cmocka_unit_test(pf_nacks),
		cmocka_unit_test(pf_garbled_reply),
		cmocka_unit_test(rsti_stuck),
		cmocka_unit_test(transmit_never_enabled),
		cmocka_unit_test(other_ids_get_igbvf),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
