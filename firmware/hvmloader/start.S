/*
 * Entry from libxenguest (32-bit flat protected mode, paging off, EBX =
 * hvm_start_info) and the final drop to real mode at F000:FFF0.
 * Intel SDM vol. 3A, 9.9.2 "Switching Back to Real-Address Mode".
 */
#define TRAMPOLINE 0x3000       /* the real-mode hop, copied below 1 MiB */

/* Our GDT's flat code (0x08) and data (0x10) descriptors, loaded. */
.macro flat_segments
    cli
    cld
    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
.endm

    .section .text.start, "ax"
    .code32
    .globl _start
_start:
    flat_segments
    movl $stack_top, %esp
    pushl %ebx
    call main
2:  hlt
    jmp 2b

/* An application processor, started by smp.c in flat 32-bit mode with
 * its stack in ESP: our descriptors, then ap_main (which never returns). */
    .globl ap_entry
ap_entry:
    flat_segments
    call ap_main
2:  hlt
    jmp 2b

/* void enter_bios(void): copy the trampoline to TRAMPOLINE and go. */
    .globl enter_bios
enter_bios:
    cli
    movl $tramp_start, %esi
    movl $TRAMPOLINE, %edi
    movl $(tramp_end - tramp_start), %ecx
    rep movsb
    lidt rm_idt
    ljmp $0x18, $TRAMPOLINE

    .code16
tramp_start:
    movw $0x20, %ax             /* 16-bit data, limit 64 KiB */
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl %cr0, %eax
    andl $0x7ffffffe, %eax      /* PE and PG off */
    movl %eax, %cr0
    ljmp $(TRAMPOLINE >> 4), $(3f - tramp_start)
3:  xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movw $0x7c00, %sp
    ljmp $0xf000, $0xfff0
tramp_end:

    .code32
    .section .rodata
    .balign 8
gdt:
    .quad 0                     /* null */
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code, flat */
    .quad 0x00cf92000000ffff    /* 0x10: 32-bit data, flat */
    .quad 0x00009a000000ffff    /* 0x18: 16-bit code, base 0, 64 KiB */
    .quad 0x000092000000ffff    /* 0x20: 16-bit data, base 0, 64 KiB */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
rm_idt:
    .word 0x3ff                 /* the real-mode vector table at 0 */
    .long 0

    .section .bss
    .balign 16
    .space 16384
stack_top:
    .section .note.GNU-stack, "", @progbits
