/*
 * Xen from inside the guest: the hypercall page (found through CPUID
 * 0x40000000.., Xen's public arch-x86/cpuid.h), the few hypercalls the
 * loader makes (public xen.h numbers; 32-bit calling convention: EBX,
 * ECX, EDX, ESI, EDI, result in EAX) and xenstore over the shared ring
 * (public io/xs_wire.h).
 */
#ifndef HVMLOADER_XEN_H
#define HVMLOADER_XEN_H

#include "firmware/hvmloader/lib.h"

#define HYPERCALL_PAGE          0x80000u

#define HVM_PARAM_STORE_PFN             1
#define HVM_PARAM_STORE_EVTCHN          2
#define HVM_PARAM_HPET_ENABLED          11
#define HVM_PARAM_ACPI_IOPORTS_LOCATION 19
#define HVM_PARAM_VM_GENERATION_ID_ADDR 34
#define HVM_PARAM_VM86_TSS_SIZED        37

/* Install the hypercall page; returns Xen's version (major << 16 | minor). */
uint32_t xen_hypercall_init(void);

int xen_get_param(uint32_t index, uint64_t *value);
int xen_set_param(uint32_t index, uint64_t value);

/* XENMEM_memory_map: the toolstack's E820-format map; entries read. */
int xen_memory_map(void *buf, unsigned max_entries);

/* VCPUOP_* on vCPU cpu (public vcpu.h); arg as the command wants it. */
#define VCPUOP_initialise   0
#define VCPUOP_up           1
#define VCPUOP_down         2
int xen_vcpu_op(unsigned cmd, unsigned cpu, void *arg);

/* SCHEDOP_yield: let another vCPU of this domain run. */
void xen_yield(void);

/* XENVER_guest_handle: the domain's UUID. */
int xen_domain_handle(uint8_t uuid[16]);

/* xenstore, relative to /local/domain/<domid>/. */
struct xenbus {
    volatile struct xs_ring *ring;
    uint32_t port;
    unsigned reads;             /* requests made, for the log */
};

int xenbus_open(struct xenbus *xb);
/* Read key into buf (NUL-terminated); -1 when absent or on error. */
int xenbus_read(struct xenbus *xb, const char *key, char *buf,
                uint32_t size);
/* The child names of key, NUL-separated, total length in *len. */
int xenbus_directory(struct xenbus *xb, const char *key, char *buf,
                     uint32_t size, uint32_t *len);

#endif
