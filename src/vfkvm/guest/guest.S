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
#define USER_CS		0x23
#define USER_SS		0x1b
#define USER_STACK	0x90000
#define IRQ_VEC		0x40
#define MSI_VEC		0x41
#define NVEC		0x42

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
	.quad irq_handler
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
irq_handler:
	push %rax
	lock incq irq_count
	jmp eoi
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
 * (EIMC 0x1528). */
vf_main:
	movl 8(%rsi), %eax
	mov %rax, 0x148(%rbx)
	movl $1, 0x1524(%rsi)
	movl $1, 0x1520(%rsi)
	lea irq_count(%rip), %rdi
	mov $10000000, %ecx
	call wait_count_n
	mov %rax, 0x150(%rbx)
	movl $1, 0x1528(%rsi)
	movq $0, 0x00(%rbx)
1:	jmp 1b

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

	.data
	.balign 8
irq_count:	.quad 0
msi_count:	.quad 0
	.section .note.GNU-stack,"",@progbits
