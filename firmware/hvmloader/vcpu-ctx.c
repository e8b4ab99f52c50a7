/*
 * The start state of an application processor (see vcpu-ctx.h).
 */
#include "firmware/hvmloader/vcpu-ctx.h"

/* Layout of Xen's public hvm/hvm_vcpu.h (its copy_from_guest reads 128
 * bytes). */
_Static_assert(offsetof(struct vcpu_hvm_x86_32, eip) == 32, "eip");
_Static_assert(offsetof(struct vcpu_hvm_x86_32, efer) == 56, "efer");
_Static_assert(offsetof(struct vcpu_hvm_x86_32, cs_ar) == 104, "cs_ar");
_Static_assert(sizeof(struct vcpu_hvm_context) == 128, "context size");

/* Segment access rights as hvm_vcpu.h packs them: type in bits 0-3, S 4,
 * DPL 5-6, P 7, AVL 8, L 9, D/B 10, G 11 (Intel SDM vol. 3A, 3.4.5). */
#define AR_G        0x800
#define AR_DB       0x400
#define AR_P        0x080
#define AR_S        0x010
#define AR_CODE     0x00b   /* execute/read, accessed */
#define AR_DATA     0x003   /* read/write, accessed */
#define AR_TSS_BUSY 0x00b   /* 32-bit TSS, busy (system segment) */
#define CR0_PE      0x1
#define EFLAGS_RSVD 0x2     /* bit 1 always reads 1 */

void
vcpu_ctx_flat32(struct vcpu_hvm_context *c, uint32_t eip, uint32_t esp)
{
    struct vcpu_hvm_x86_32 *r = &c->x86_32;

    memset(c, 0, sizeof(*c));
    c->mode = VCPU_HVM_MODE_32B;
    r->eip = eip;
    r->esp = esp;
    r->eflags = EFLAGS_RSVD;
    r->cr0 = CR0_PE;
    r->cs_limit = r->ds_limit = r->ss_limit = r->es_limit = ~0u;
    r->cs_ar = AR_G | AR_DB | AR_P | AR_S | AR_CODE;
    r->ds_ar = r->ss_ar = r->es_ar = AR_G | AR_DB | AR_P | AR_S | AR_DATA;
    /* Xen wants a present busy TSS in TR; nothing ever switches to it. */
    r->tr_limit = 0x67;
    r->tr_ar = AR_P | AR_TSS_BUSY;
}
