/*
 * The ioreq service (xen-dm-interface.md section 1): per-vCPU synchronous
 * slots with the READY -> INPROCESS -> IORESP_READY state machine, the
 * buffered ring, and expansion of rep / data_is_ptr forms into accesses on
 * the address maps. Devices never see an ioreq_t.
 */
#ifndef DM_IOREQ_H
#define DM_IOREQ_H

#include <stdbool.h>
#include <stdint.h>

struct dm;
struct ioreq_svc;

struct ioreq_stats {
    uint64_t sync;
    uint64_t buffered;
    uint64_t events;        /* event-channel ports read */
    uint64_t early;         /* ports whose request was served before */
    uint64_t malformed;
    uint64_t spurious;
    uint64_t badness;       /* slot state changed under us */
    uint64_t invalidate;
    uint64_t timeoffset;
    uint64_t pci_config;
    uint64_t pio;           /* port I/O requests handled (sync + buffered) */
    uint64_t copy;          /* MMIO requests handled (sync + buffered) */
    uint64_t gm_faults;     /* rep buffers that hit bad guest memory */
};

struct ioreq_svc *ioreq_svc_new(struct dm *dm);
void ioreq_svc_free(struct ioreq_svc *s);

/*
 * The hypervisor's event channel fired: read one pending port, drain the
 * buffered ring and serve every READY slot, whichever port fired; then,
 * with the answers out, unmask the port and read the other pending ports
 * if something served was not announced by the one read. Returns the
 * requests served.
 */
unsigned int ioreq_svc_event(struct ioreq_svc *s);
/* A READY slot or buffered request waits (shared memory only). */
bool ioreq_svc_peek(const struct ioreq_svc *s);
/* Handle the synchronous slot of one vCPU (called for its port). */
void ioreq_svc_handle_vcpu(struct ioreq_svc *s, unsigned int vcpu);
/* Drain the buffered ring; returns the number of requests handled. */
unsigned int ioreq_svc_drain_buffered(struct ioreq_svc *s);

const struct ioreq_stats *ioreq_svc_stats(const struct ioreq_svc *s);

/* One vCPU's slot as it is now (a copy), its port and its counters. */
struct ioreq_vcpu_info {
    unsigned int state, type, dir, size, data_is_ptr, df;
    uint32_t count;
    uint64_t addr, data;
    int port;               /* ours (local) */
    uint32_t remote_port;   /* the guest's end (vp_eport) */
    uint64_t port_events;   /* events read on the port */
    bool masked;            /* the last unmask failed: still masked */
    uint64_t served;        /* synchronous requests served */
    uint64_t ahead;         /* served before their event was read */
};

struct ioreq_buf_info {
    uint32_t read_pointer, write_pointer;
    int port;
    uint64_t port_events;
    bool masked;
};

unsigned int ioreq_svc_nr_vcpus(const struct ioreq_svc *s);
void ioreq_svc_vcpu_info(const struct ioreq_svc *s, unsigned int v,
                         struct ioreq_vcpu_info *out);
/* False when the server has no buffered ring. */
bool ioreq_svc_buf_info(const struct ioreq_svc *s, struct ioreq_buf_info *out);

#endif
