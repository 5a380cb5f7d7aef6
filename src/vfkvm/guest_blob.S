/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in guest image, linked into vfkvm. */
	.section .rodata
	.balign 16
	.globl vfkvm_guest_start, vfkvm_guest_end
vfkvm_guest_start:
	.incbin GUEST_BIN
vfkvm_guest_end:
	.section .note.GNU-stack,"",@progbits
