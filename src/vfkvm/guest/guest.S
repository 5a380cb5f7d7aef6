/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfkvm's built-in guest: no OS. vfkvm loads it at 0x100000 and enters it in
 * 64-bit long mode at ring 0 with its page tables, GDT, TSS and IDT set up
 * (see vfkvm.h for the header and the guest-physical layout). Ring 0 only
 * enables the LAPIC and drops to ring 3, because ring-0 code is emulated on
 * the test host; the driver loop runs at ring 3 and talks to vfkvm through
 * MMIO (ring 3 cannot use in/out): the control region (trapped), the
 * stand-in BAR (a memory slot) and the doorbell (an ioeventfd).
 */
#define CTRL		0xfebe0000
#define DOORBELL	0xfebe1000
#define ROSLOT		0xfebd0000
#define BAR		0xfebf0000
#define LAPIC		0xfee00000
/* control region offsets (run.c) */
#define DELAY		0x40	/* write: vfkvm sleeps that many microseconds */
#define FAILVAL		0x48	/* write: the value for the next failure */
#define GFAIL		0x50	/* write: guest-side failure code, stops */
#define R_VF_STATUS	0x148	/* reports: 0x100 + 8 * K */
#define R_VF_MSIX	0x150
#define R_VF_RST	0x158
#define R_VF_REPLY	0x160
#define R_VF_MAC	0x168
#define R_VF_TXSTATUS	0x170
#define R_VF_TXHEAD	0x178
#define R_VF_TXPKTS	0x180
#define R_VF_TXIRQ	0x188
#define R_VF_BAR3	0x190
#define R_VF_PBA	0x198
#define R_VF_MCTYPE	0x1a0
#define DEVID		0x60	/* read: the VF's vendor << 16 | device id */
#define BARS		0x58	/* read: bit K BAR K mapped; bits 8-10 MSI-X BAR + 1 */
#define BAR3		0xfe300000	/* VFKVM_BARN_GPA(3) */
/* failure codes (run.c says what each means and what to do) */
#define F_RSTI		1
#define F_NOLOCK	2
#define F_NOACK		3
#define F_NOREPLY	4
#define F_BADREPLY	6
#define F_TXTIMEOUT	7
/* the ixgbevf driver's (its messages name the 82599 VF's registers) */
#define F_X_RSTI	8
#define F_X_NOLOCK	9
#define F_X_NOACK	10
#define F_X_NOREPLY	11
#define F_X_BADREPLY	12
#define F_X_TXEN	13
#define F_X_TXTIMEOUT	14
#define POLL_US		100
#define POLL_2S		20000	/* polls of POLL_US: 2 s at least */
/* 82576 VF registers (BAR0 offsets; Linux igbvf regs.h, defines.h, mbx.h) */
#define V_CTRL		0x0000
#define V_STATUS	0x0008
#define V_VMBMEM	0x0800	/* mailbox buffer, 16 words */
#define V_MBX		0x0c40	/* V2PMAILBOX */
#define V_GPTC		0x0f14	/* good packets transmitted */
#define V_EICS		0x1520
#define V_EIMS		0x1524
#define V_EIMC		0x1528
#define V_EITR1		0x1684
#define V_IVAR0		0x1700
#define V_TDBAL		0x3800
#define V_TDBAH		0x3804
#define V_TDLEN		0x3808
#define V_TDH		0x3810
#define V_TDT		0x3818
#define V_TXDCTL	0x3828
#define CTRL_RST	0x04000000
#define MBX_REQ		0x01
#define MBX_ACK		0x02
#define MBX_VFU		0x04
#define MBX_PFSTS	0x10
#define MBX_PFACK	0x20
#define MBX_RSTI	0x40
#define MBX_RSTD	0x80
#define VF_RESET	0x01
#define MSG_ACK		0x80000000
#define MSG_NACK	0x40000000
#define MSG_CTS		0x20000000
#define IVAR_VALID	0x80
#define TXDCTL_ENABLE	0x02000000
/* DEXT | RS | IFCS | EOP, DTYP advanced data */
#define TXD_CMD		(0x20000000 | 0x08000000 | 0x02000000 | 0x01000000 | 0x00300000)
/* 82599/X540/X550 VF registers (BAR0 offsets; 82599 datasheet 8.3.5, Linux
 * ixgbevf regs.h, defines.h, mbx.h) */
#define X_CTRL		0x0000	/* VFCTRL */
#define X_STATUS	0x0008	/* VFSTATUS */
#define X_EIMS		0x0108	/* VTEIMS */
#define X_EIMC		0x010c	/* VTEIMC */
#define X_EIAM		0x0114	/* VTEIAM */
#define X_IVAR0		0x0120	/* VTIVAR(0): RX/TX queues 0 and 1 */
#define X_IVAR_MISC	0x0140	/* VTIVAR_MISC: the mailbox cause */
#define X_VFMBMEM	0x0200	/* mailbox buffer, 16 words */
#define X_MBX		0x02fc	/* VFMAILBOX */
#define X_EITR0		0x0820	/* VTEITR(0) */
#define X_TDBAL		0x2000	/* VFTDBAL(0) ... */
#define X_TDBAH		0x2004
#define X_TDLEN		0x2008
#define X_TDH		0x2010
#define X_TDT		0x2018
#define X_TXDCTL	0x2028
#define X_GPTC		0x201c	/* VFGPTC */
#define X_MSG_NACK	0x40000000
/* context descriptor: DEXT, DTYP context; data descriptor: CC (check
 * context, which the 82599 wants from a VF's queue: Tx switching is on) */
#define X_CTX_TUCMD	(0x20000000 | 0x00200000)
#define X_MACLEN	(14 << 9)
#define X_OLINFO_CC	0x80
/* guest RAM the VF reads by DMA (IOVA = guest-physical) */
#define RING_GPA	0x180000
#define RING_LEN	128	/* 8 descriptors of 16 bytes */
#define FRAME_GPA	0x181000
#define OWN_MAC_LO	0x6b667602	/* 02:76:66:6b:76:00, the bytes in order */
#define OWN_MAC_HI	0x0076
#define FRAME_LEN	80	/* 14 header bytes, the payload text, zeros */
#define USER_CS		0x23
#define USER_SS		0x1b
#define USER_STACK	0x90000
#define IRQ_VEC		0x40	/* device vector K (MSI-X K): IRQ_VEC + K */
#define MSI_VEC		0x44
#define NVEC		0x45

	.code64
	.text
	.globl _start
_start:
header:
	.ascii "VFKVMG01"
	.quad entry
	.quad NVEC
	.set vec, 0
	.rept 32
	.quad fault_stub_0 + vec * 16
	.set vec, vec + 1
	.endr
	.rept IRQ_VEC - 32
	.quad 0
	.endr
	.quad irq_handler_0
	.quad irq_handler_1
	.quad irq_handler_2
	.quad irq_handler_3
	.quad msi_handler

/* Ring 0: software-enable the LAPIC (SVR), then iretq to ring 3, IF=1. */
entry:
	mov $LAPIC + 0xf0, %eax
	movl $0x1ff, (%rax)
	pushq $USER_SS
	pushq $USER_STACK
	pushq $0x202
	pushq $USER_CS
	pushq $user_main
	iretq

/* One 16-byte stub per exception: push a dummy error code where the CPU
 * pushes none, then the vector. */
	.balign 16
fault_stub_0:
	.set vec, 0
	.rept 32
	.balign 16
	.if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21)
	nop
	nop
	.else
	pushq $0
	.endif
	pushq $vec
	jmp fault_common
	.set vec, vec + 1
	.endr

/* Report vector and RIP; vfkvm stops the guest on that write. */
fault_common:
	mov $CTRL, %ebx
	mov 16(%rsp), %rax
	mov %rax, 0x30(%rbx)
	mov (%rsp), %rax
	mov %rax, 0x28(%rbx)
1:	cli
	hlt
	jmp 1b

/* Interrupt handlers: count, EOI the xAPIC, return to ring 3. */
	.irp k, 0, 1, 2, 3
irq_handler_\k:
	push %rax
	lock incq irq_count + 8 * \k
	jmp eoi
	.endr
msi_handler:
	push %rax
	lock incq msi_count
eoi:
	mov $LAPIC + 0xb0, %eax
	movl $0, (%rax)
	pop %rax
	iretq

/* Ring 3: the driver loop. Each result is one 8-byte write to a report
 * offset of the control region, which vfkvm prints. */
user_main:
#ifdef FAULT_TEST
	ud2		/* the test image: #UD at ring 3 must reach the IDT stub */
#endif
	mov $CTRL, %ebx
	mov $BAR, %esi
	mov 0x38(%rbx), %rax	/* 1: BAR0 is a real VF's (vfkvm --vf) */
	test %rax, %rax
	jnz vf_main

	/* stand-in BAR: what the host wrote, and write back its complement */
	mov (%rsi), %rax
	mov %rax, 0x100(%rbx)
	not %rax
	mov %rax, 8(%rsi)

	/* trap path: writes and reads of every size */
	movb $0x11, 0x200(%rbx)
	movw $0x2233, 0x202(%rbx)
	movl $0x44556677, 0x204(%rbx)
	movabs $0x8899aabbccddeeff, %rax
	mov %rax, 0x208(%rbx)
	movzbq 0x210(%rbx), %rax
	mov %rax, 0x108(%rbx)
	movzwq 0x210(%rbx), %rax
	mov %rax, 0x110(%rbx)
	movl 0x210(%rbx), %eax
	mov %rax, 0x118(%rbx)
	mov 0x210(%rbx), %rax
	mov %rax, 0x120(%rbx)

	/* read-only slot: the write exits, the memory keeps its value */
	mov $ROSLOT, %edi
	movl $0xdeadbeef, 4(%rdi)
	mov (%rdi), %rax
	mov %rax, 0x128(%rbx)

	/* doorbell: an ioeventfd, no exit; then ask vfkvm what it counted */
	mov $DOORBELL, %edi
	movl $1, (%rdi)
	mov 0x18(%rbx), %rax
	mov %rax, 0x130(%rbx)

	/* irqfd on an MSI route: ask vfkvm to signal the eventfd, wait */
	movq $1, 0x08(%rbx)
	lea irq_count(%rip), %rdi
	call wait_count
	mov %rax, 0x138(%rbx)

	/* KVM_SIGNAL_MSI */
	movq $MSI_VEC, 0x10(%rbx)
	lea msi_count(%rip), %rdi
	call wait_count
	mov %rax, 0x140(%rbx)

	/* done: exit status 0 */
	movq $0, 0x00(%rbx)
1:	jmp 1b

/* A VFIO VF's BAR0 through its memory slot (igb VF, igbvf regs.h): read
 * STATUS (0x8); then unmask interrupt cause 0 (EIMS 0x1524), set it (EICS
 * 0x1520) and wait for MSI-X vector 0 to arrive as IRQ_VEC; mask it again
 * (EIMC 0x1528). Then the igbvf driver proper: the mailbox reset handshake
 * with the PF and one frame sent by DMA. */
vf_main:
	/* the driver by the VF's device id: 82599, X540 and X550 VFs
	 * (ixgbevf); anything else gets the igbvf driver below */
	movl DEVID(%rbx), %eax
	cmp $0x808610ed, %eax
	je ixgbe_main
	cmp $0x80861515, %eax
	je ixgbe_main
	cmp $0x80861565, %eax
	je ixgbe_main
	movl V_STATUS(%rsi), %eax
	mov %rax, R_VF_STATUS(%rbx)
	movl $1, V_EIMS(%rsi)
	movl $1, V_EICS(%rsi)
	lea irq_count(%rip), %rdi
	mov $10000000, %ecx
	call wait_count_n
	mov %rax, R_VF_MSIX(%rbx)
	movl $1, V_EIMC(%rsi)

	/* BAR3, the MSI-X table (a read-only slot): entry 0's address as
	 * VFIO programmed it, after a write vfkvm must drop; and the PBA */
	mov BARS(%rbx), %rax
	shr $8, %rax
	cmp $4, %eax
	jne 1f
	mov $BAR3, %edi
	movl $0, (%rdi)
	movl (%rdi), %eax
	mov %rax, R_VF_BAR3(%rbx)
	movl 0x2000(%rdi), %eax
	mov %rax, R_VF_PBA(%rbx)
1:
	/* VF reset: CTRL.RST resets the VF's queues and interrupts and tells
	 * the PF (VFLRE); its driver must then hear E1000_VF_RESET from us
	 * before it enables our transmit (VFTE) again. */
	xor %r12d, %r12d		/* mailbox bits earlier reads cleared */
	movl V_CTRL(%rsi), %eax
	or $CTRL_RST, %eax
	movl %eax, V_CTRL(%rsi)
	/* wait while the PF signals reset in progress (RSTI) or just done
	 * (RSTD, cleared by the read); report the first word seen */
	movl V_MBX(%rsi), %eax
	mov %rax, R_VF_RST(%rbx)
	mov $POLL_2S, %ecx
1:	test $MBX_RSTI | MBX_RSTD, %eax
	jz 2f
	call delay
	movl V_MBX(%rsi), %eax
	dec %ecx
	jnz 1b
	mov %rax, FAILVAL(%rbx)
	mov $F_RSTI, %edx
	jmp vf_fail

2:	/* send E1000_VF_RESET: take the buffer (VFU), write, request (REQ) */
	call mbx_lock
	and $~(MBX_PFACK | MBX_PFSTS), %r12d	/* stale: we overwrite the buffer */
	movl $VF_RESET, V_VMBMEM(%rsi)
	movl $MBX_REQ, V_MBX(%rsi)
	mov $MBX_PFACK, %edx
	call mbx_wait
	jnz 3f
	mov $F_NOACK, %edx
	jmp vf_fail
3:	mov $MBX_PFSTS, %edx
	call mbx_wait
	jnz 4f
	mov $F_NOREPLY, %edx
	jmp vf_fail
4:	/* the reply: word 0, then the MAC in words 1-2; ACK frees the buffer */
	call mbx_lock
	movl V_VMBMEM(%rsi), %r13d
	movl V_VMBMEM + 4(%rsi), %r14d
	movl V_VMBMEM + 8(%rsi), %r15d
	movl $MBX_ACK, V_MBX(%rsi)
	mov %r13, R_VF_REPLY(%rbx)
	mov %r13d, %eax
	and $~MSG_CTS, %eax
	cmp $VF_RESET | MSG_ACK, %eax
	je 5f
	mov %r13, FAILVAL(%rbx)
	mov $F_BADREPLY, %edx
	cmp $VF_RESET | MSG_NACK, %eax
	jne vf_fail
	/* NACK: the reset is done (the PF enabled our transmit all the same)
	 * but it holds no MAC for us: report none and send from a locally
	 * administered address of our own, as igbvf picks a random one */
	movq $0, R_VF_MAC(%rbx)
	mov $OWN_MAC_LO, %r14d
	mov $OWN_MAC_HI, %r15d
	jmp 6f
5:	movzwl %r15w, %eax
	shl $32, %rax
	or %r14, %rax
	mov %rax, R_VF_MAC(%rbx)

6:	call build_frame
	/* TX descriptor 0 of an 8-entry ring (advanced data descriptor) */
	mov $RING_GPA, %edi
	movq $FRAME_GPA, (%rdi)
	movl $TXD_CMD | FRAME_LEN, 8(%rdi)
	movl $FRAME_LEN << 14, 12(%rdi)	/* PAYLEN */
	/* queue 0: off, ring at its guest-physical address (= IOVA), head and
	 * tail 0; its TX cause on MSI-X vector 1 (IVAR0 bits 15:8), unmasked */
	movl $0, V_TXDCTL(%rsi)
	movl $RING_GPA, V_TDBAL(%rsi)
	movl $0, V_TDBAH(%rsi)
	movl $RING_LEN, V_TDLEN(%rsi)
	movl $0, V_TDH(%rsi)
	movl $0, V_TDT(%rsi)
	movl $(IVAR_VALID | 1) << 8, V_IVAR0(%rsi)
	movl $0, V_EITR1(%rsi)
	movl $2, V_EIMS(%rsi)
	movl V_GPTC(%rsi), %r13d
	movl $TXDCTL_ENABLE, V_TXDCTL(%rsi)
	movl $1, V_TDT(%rsi)		/* the doorbell: descriptor 0 is ready */
	/* wait for the write-back: DD in the descriptor's status word */
	mov $POLL_2S, %ecx
10:	movl 12(%rdi), %eax
	test $1, %eax
	jnz 7f
	call delay
	dec %ecx
	jnz 10b
	movl V_TDH(%rsi), %eax
	mov %rax, FAILVAL(%rbx)
	mov $F_TXTIMEOUT, %edx
	jmp vf_fail
7:	mov %rax, R_VF_TXSTATUS(%rbx)
	movl V_TDH(%rsi), %eax
	mov %rax, R_VF_TXHEAD(%rbx)
	movl V_GPTC(%rsi), %eax
	sub %r13d, %eax
	mov %rax, R_VF_TXPKTS(%rbx)
	/* the TX-done interrupt, MSI-X vector 1 */
	lea irq_count + 8(%rip), %rdi
	mov $POLL_2S, %ecx
8:	mov (%rdi), %rax
	test %rax, %rax
	jnz 9f
	call delay
	dec %ecx
	jnz 8b
9:	mov %rax, R_VF_TXIRQ(%rbx)
	movl $2, V_EIMC(%rsi)
	movl $0, V_TXDCTL(%rsi)		/* queue off: nothing points at RAM */
	movq $0, 0x00(%rbx)
1:	jmp 1b

/* The ixgbevf driver (82599 VF, X540 VF, X550 VF), written from the 82599
 * datasheet's VF registers (8.3.5) and the reset flow of Linux ixgbevf
 * (vf.c ixgbevf_reset_hw_vf, mbx.c): VFCTRL.RST, the IXGBE_VF_RESET
 * handshake, the PF-assigned MAC, one frame from a TX ring in guest RAM and
 * its MSI-X interrupt. Tested only against the register model of
 * tests/unit/test_vfkvm_ixgbevf.c, never yet on a real 82599. */
ixgbe_main:
	movl X_STATUS(%rsi), %eax
	mov %rax, R_VF_STATUS(%rbx)
	/* VF reset: the VF's queues and interrupts; the PF hears of it and
	 * keeps our transmit off until it answers IXGBE_VF_RESET */
	xor %r12d, %r12d
	movl $CTRL_RST, X_CTRL(%rsi)
	movl X_MBX(%rsi), %eax
	mov %rax, R_VF_RST(%rbx)
	mov $POLL_2S, %ecx
1:	test $MBX_RSTI | MBX_RSTD, %eax
	jz 2f
	call delay
	movl X_MBX(%rsi), %eax
	dec %ecx
	jnz 1b
	mov %rax, FAILVAL(%rbx)
	mov $F_X_RSTI, %edx
	jmp vf_fail

2:	/* IXGBE_VF_RESET: take the buffer (VFU), write word 0, REQ */
	call x_mbx_lock
	and $~(MBX_PFACK | MBX_PFSTS), %r12d
	movl $VF_RESET, X_VFMBMEM(%rsi)
	movl $MBX_REQ, X_MBX(%rsi)
	mov $MBX_PFACK, %edx
	call x_mbx_wait
	jnz 3f
	mov $F_X_NOACK, %edx
	jmp vf_fail
3:	mov $MBX_PFSTS, %edx
	call x_mbx_wait
	jnz 4f
	mov $F_X_NOREPLY, %edx
	jmp vf_fail
4:	/* the reply: word 0, the MAC in words 1-2, the multicast filter
	 * type in word 3; ACK releases the buffer */
	call x_mbx_lock
	movl X_VFMBMEM(%rsi), %r13d
	movl X_VFMBMEM + 4(%rsi), %r14d
	movl X_VFMBMEM + 8(%rsi), %r15d
	movl X_VFMBMEM + 12(%rsi), %eax
	movl $MBX_ACK, X_MBX(%rsi)
	mov %r13, R_VF_REPLY(%rbx)
	mov %rax, R_VF_MCTYPE(%rbx)
	mov %r13d, %eax
	and $~MSG_CTS, %eax
	cmp $VF_RESET | MSG_ACK, %eax
	je 5f
	mov %r13, FAILVAL(%rbx)
	mov $F_X_BADREPLY, %edx
	cmp $VF_RESET | X_MSG_NACK, %eax
	jne vf_fail
	/* NACK: reset done, but the PF holds no MAC for us (ixgbevf then
	 * picks a random one): report none, send from our own address */
	movq $0, R_VF_MAC(%rbx)
	mov $OWN_MAC_LO, %r14d
	mov $OWN_MAC_HI, %r15d
	jmp 6f
5:	movzwl %r15w, %eax
	shl $32, %rax
	or %r14, %rax
	mov %rax, R_VF_MAC(%rbx)

6:	call build_frame
	/* descriptor 0: a context descriptor (MACLEN 14, no offloads) in
	 * slot 0; descriptor 1: the data descriptor that checks it (CC) */
	mov $RING_GPA, %edi
	movl $X_MACLEN, (%rdi)
	movl $0, 4(%rdi)
	movl $X_CTX_TUCMD, 8(%rdi)
	movl $0, 12(%rdi)
	movq $FRAME_GPA, 16(%rdi)
	movl $TXD_CMD | FRAME_LEN, 24(%rdi)
	movl $FRAME_LEN << 14 | X_OLINFO_CC, 28(%rdi)
	/* queue 0 off, its ring, head and tail 0 */
	movl $0, X_TXDCTL(%rsi)
	movl $RING_GPA, X_TDBAL(%rsi)
	movl $0, X_TDBAH(%rsi)
	movl $RING_LEN, X_TDLEN(%rsi)
	movl $0, X_TDH(%rsi)
	movl $0, X_TDT(%rsi)
	/* interrupts as ixgbevf lays them out: the queue's TX cause on
	 * MSI-X vector 0 (VTIVAR(0) bits 15:8), the mailbox on vector 1
	 * (VTIVAR_MISC bits 7:0); vector 0 auto-masked when it fires
	 * (VTEIAM) and unmasked (VTEIMS); the mailbox stays masked */
	movl $(IVAR_VALID | 0) << 8, X_IVAR0(%rsi)
	movl $IVAR_VALID | 1, X_IVAR_MISC(%rsi)
	movl $0, X_EITR0(%rsi)
	movl $1, X_EIAM(%rsi)
	movl $1, X_EIMS(%rsi)
	movl X_GPTC(%rsi), %r13d
	movl $TXDCTL_ENABLE, X_TXDCTL(%rsi)
	/* the queue is on once ENABLE reads back set (ixgbevf polls it) */
	mov $POLL_2S, %ecx
11:	movl X_TXDCTL(%rsi), %eax
	test $TXDCTL_ENABLE, %eax
	jnz 12f
	call delay
	dec %ecx
	jnz 11b
	mov %rax, FAILVAL(%rbx)
	mov $F_X_TXEN, %edx
	jmp vf_fail
12:	movl $2, X_TDT(%rsi)		/* descriptors 0 and 1 are ready */
	mov $POLL_2S, %ecx
10:	movl 28(%rdi), %eax
	test $1, %eax
	jnz 7f
	call delay
	dec %ecx
	jnz 10b
	movl X_TDH(%rsi), %eax
	mov %rax, FAILVAL(%rbx)
	mov $F_X_TXTIMEOUT, %edx
	jmp vf_fail
7:	mov %rax, R_VF_TXSTATUS(%rbx)
	movl X_TDH(%rsi), %eax
	mov %rax, R_VF_TXHEAD(%rbx)
	movl X_GPTC(%rsi), %eax
	sub %r13d, %eax
	mov %rax, R_VF_TXPKTS(%rbx)
	/* the TX-done interrupt, MSI-X vector 0 */
	lea irq_count(%rip), %rdi
	mov $POLL_2S, %ecx
8:	mov (%rdi), %rax
	test %rax, %rax
	jnz 9f
	call delay
	dec %ecx
	jnz 8b
9:	mov %rax, R_VF_TXIRQ(%rbx)
	movl $1, X_EIMC(%rsi)
	movl $0, X_TXDCTL(%rsi)		/* queue off: nothing points at RAM */
	movq $0, 0x00(%rbx)
1:	jmp 1b

/* VFMAILBOX's VFU, as mbx_lock does V2PMAILBOX's */
x_mbx_lock:
	mov $POLL_2S, %ecx
1:	movl $MBX_VFU, X_MBX(%rsi)
	movl X_MBX(%rsi), %eax
	or %eax, %r12d
	test $MBX_VFU, %eax
	jnz 2f
	call delay
	dec %ecx
	jnz 1b
	mov %rax, FAILVAL(%rbx)
	mov $F_X_NOLOCK, %edx
	jmp vf_fail
2:	ret

/* VFMAILBOX's bit %edx, as mbx_wait does V2PMAILBOX's (PFSTS, PFACK and
 * RSTD are cleared by each read here too) */
x_mbx_wait:
	mov $POLL_2S, %ecx
1:	movl X_MBX(%rsi), %eax
	or %eax, %r12d
	test %edx, %r12d
	jnz 2f
	call delay
	dec %ecx
	jnz 1b
	mov %r12, FAILVAL(%rbx)
	xor %eax, %eax
	ret
2:	not %edx
	and %edx, %r12d
	or $1, %eax
	ret

/* A guest-side failure: code in %edx (the value in FAILVAL first). */
vf_fail:
	mov %rdx, GFAIL(%rbx)
1:	jmp 1b

/* The frame at FRAME_GPA: broadcast, from our MAC (%r14d, %r15w),
 * ethertype 0x88b5 (local experimental), then the payload text, FRAME_LEN
 * bytes in all. */
build_frame:
	mov $FRAME_GPA, %edi
	movl $0xffffffff, (%rdi)
	movw $0xffff, 4(%rdi)
	movl %r14d, 6(%rdi)
	movw %r15w, 10(%rdi)
	movw $0xb588, 12(%rdi)
	push %rsi
	lea payload(%rip), %rsi
	add $14, %rdi
	mov $FRAME_LEN - 14, %ecx
	rep movsb
	pop %rsi
	ret

/* Ask vfkvm to sleep: a real-time bound on each poll, ring 3 has no timer */
delay:
	movq $POLL_US, DELAY(%rbx)
	ret

/* Take the mailbox buffer: VFU, read back (the PF may hold it: PFU). */
mbx_lock:
	mov $POLL_2S, %ecx
1:	movl $MBX_VFU, V_MBX(%rsi)
	movl V_MBX(%rsi), %eax
	or %eax, %r12d
	test $MBX_VFU, %eax
	jnz 2f
	call delay
	dec %ecx
	jnz 1b
	mov %rax, FAILVAL(%rbx)
	mov $F_NOLOCK, %edx
	jmp vf_fail
2:	ret

/* Wait for a mailbox bit (%edx) for 2 s: reads clear PFSTS, PFACK and
 * RSTD, so %r12d keeps what each read saw until it is consumed here.
 * Returns ZF clear if the bit came. */
mbx_wait:
	mov $POLL_2S, %ecx
1:	movl V_MBX(%rsi), %eax
	or %eax, %r12d
	test %edx, %r12d
	jnz 2f
	call delay
	dec %ecx
	jnz 1b
	mov %r12, FAILVAL(%rbx)
	xor %eax, %eax			/* ZF set: timed out */
	ret
2:	not %edx
	and %edx, %r12d
	or $1, %eax			/* ZF clear */
	ret

/* Spin until *rdi is nonzero or a bound runs out; return *rdi. */
wait_count:
	mov $100000000, %ecx
wait_count_n:		/* the same with the bound in %ecx */
1:	mov (%rdi), %rax
	test %rax, %rax
	jnz 2f
	pause
	dec %ecx
	jnz 1b
2:	ret

	.section .rodata
payload:
	.ascii "vfkvm: one frame from the guest, sent by DMA through the VF\0"
	.fill 64, 1, 0

	.data
	.balign 8
irq_count:	.quad 0, 0, 0, 0	/* per device vector */
msi_count:	.quad 0
	.section .note.GNU-stack,"",@progbits
