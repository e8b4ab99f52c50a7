/*
 * The register state VCPUOP_initialise starts an HVM vCPU with (Xen public
 * hvm/hvm_vcpu.h, struct vcpu_hvm_context; checked by Xen 4.17's
 * arch_set_info_hvm_guest, xen/arch/x86/hvm/domain.c).
 */
#ifndef HVMLOADER_VCPU_CTX_H
#define HVMLOADER_VCPU_CTX_H

#include "firmware/hvmloader/lib.h"

#define VCPU_HVM_MODE_32B 0

/* struct vcpu_hvm_x86_32, field for field. */
struct vcpu_hvm_x86_32 {
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, eip, eflags;
    uint32_t cr0, cr3, cr4;
    uint32_t pad1;
    uint64_t efer;
    uint32_t cs_base, ds_base, ss_base, es_base, tr_base;
    uint32_t cs_limit, ds_limit, ss_limit, es_limit, tr_limit;
    uint16_t cs_ar, ds_ar, ss_ar, es_ar, tr_ar;
    uint16_t pad2[3];
};

/* struct vcpu_hvm_context: the union's larger member (x86_64) is 112
 * bytes, so the 32-bit one sets its size (128 in all). */
struct vcpu_hvm_context {
    uint32_t mode;
    uint32_t pad;
    struct vcpu_hvm_x86_32 x86_32;
};

/* 32-bit protected mode, paging off, flat 4 GiB code and data segments,
 * interrupts off, at eip with stack esp. */
void vcpu_ctx_flat32(struct vcpu_hvm_context *c, uint32_t eip, uint32_t esp);

#endif
