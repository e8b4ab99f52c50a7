/*
 * The application processors: Xen creates them down. Each is started once
 * (VCPUOP_initialise in 32-bit flat mode, VCPUOP_up), programs the same
 * MTRRs as the boot processor, calls in and is taken down again
 * (VCPUOP_down), so the OS's INIT-SIPI finds every CPU with one memory
 * type map (Intel SDM vol. 3A, 11.11.8 "MTRR Considerations in MP
 * Systems"). Xen public vcpu.h, hvm/hvm_vcpu.h.
 */
#include "firmware/hvmloader/console.h"
#include "firmware/hvmloader/loader.h"
#include "firmware/hvmloader/vcpu-ctx.h"

/* Yields to the hypervisor while an AP starts: the emulated test host has
 * one physical CPU, so the AP runs only when the BSP gives way. */
#define CALLIN_TRIES 1000000u

/* Shared with the AP being started (one at a time). */
static const struct loader *ap_loader;
static volatile unsigned ap_cpu;
static volatile uint32_t ap_callin;
static uint8_t ap_stack[4096] __attribute__((aligned(16)));

/* start.S: the AP's entry, which reloads the segments and calls ap_main. */
void ap_entry(void);
void ap_main(void) __attribute__((noreturn));

void
ap_main(void)
{
    mtrr_setup(ap_loader);
    printf("CPU%u: MTRRs set\n", ap_cpu);
    __asm__ volatile("" : : : "memory");
    ap_callin = 1;
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

static bool
ap_start(unsigned cpu)
{
    static struct vcpu_hvm_context ctx;
    unsigned i;

    ap_cpu = cpu;
    ap_callin = 0;
    vcpu_ctx_flat32(&ctx, (uint32_t)ap_entry,
                    (uint32_t)ap_stack + sizeof(ap_stack));
    if (xen_vcpu_op(VCPUOP_initialise, cpu, &ctx) < 0 ||
        xen_vcpu_op(VCPUOP_up, cpu, NULL) < 0) {
        printf("CPU%u: Xen refused to start it\n", cpu);
        return false;
    }
    for (i = 0; i < CALLIN_TRIES && !ap_callin; i++) {
        xen_yield();
    }
    if (xen_vcpu_op(VCPUOP_down, cpu, NULL) < 0) {
        panic("CPU%u: VCPUOP_down failed", cpu);
    }
    return ap_callin != 0;
}

void
smp_setup(const struct loader *l)
{
    unsigned cpu, up = 1;

    ap_loader = l;
    for (cpu = 1; cpu < l->nr_vcpus; cpu++) {
        if (!(l->vcpu_online[cpu / 8] & (1u << (cpu % 8)))) {
            continue;   /* hot-pluggable later: the OS starts it */
        }
        if (ap_start(cpu)) {
            up++;
        } else {
            printf("CPU%u did not call in\n", cpu);
        }
    }
    printf("%u of %u vCPUs have their MTRRs set\n", up, l->nr_vcpus);
}
