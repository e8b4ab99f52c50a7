/*
 * Hypercalls and xenstore (facts: shared/docs/xen-dm-interface.md 6.2;
 * Xen public headers arch-x86/cpuid.h, hvm/hvm_op.h, memory.h,
 * version.h, event_channel.h, sched.h, io/xs_wire.h).
 */
#include "firmware/hvmloader/xen.h"

#include "firmware/hvmloader/console.h"
#include "firmware/hvmloader/io.h"

#define HC_MEMORY_OP        12
#define HC_XEN_VERSION      17
#define HC_SCHED_OP         29
#define HC_EVENT_CHANNEL_OP 32
#define HC_HVM_OP           34
#define HC_VCPU_OP          24

#define XENVER_version      0
#define XENVER_guest_handle 8
#define XENMEM_memory_map   9
#define HVMOP_set_param     0
#define HVMOP_get_param     1
#define EVTCHNOP_send       4
#define SCHEDOP_yield       0

#define XS_DIRECTORY        1
#define XS_READ             2
#define XS_ERROR            16
#define XS_RING_SIZE        1024

struct xs_ring {
    char req[XS_RING_SIZE];
    char rsp[XS_RING_SIZE];
    uint32_t req_cons, req_prod;
    uint32_t rsp_cons, rsp_prod;
};

struct xs_msg {
    uint32_t type, req_id, tx_id, len;
};

struct hvm_param {
    uint16_t domid;
    uint16_t pad;
    uint32_t index;
    uint64_t value;
} __attribute__((packed));

static long
hypercall2(unsigned nr, uint32_t a1, uint32_t a2)
{
    long r;

    __asm__ volatile("call *%%eax"
                     : "=a"(r), "+b"(a1), "+c"(a2)
                     : "0"(HYPERCALL_PAGE + nr * 32)
                     : "memory", "edx", "esi", "edi");
    return r;
}

static long
hypercall3(unsigned nr, uint32_t a1, uint32_t a2, uint32_t a3)
{
    long r;

    __asm__ volatile("call *%%eax"
                     : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3)
                     : "0"(HYPERCALL_PAGE + nr * 32)
                     : "memory", "esi", "edi");
    return r;
}

int
xen_vcpu_op(unsigned cmd, unsigned cpu, void *arg)
{
    return hypercall3(HC_VCPU_OP, cmd, cpu, (uint32_t)arg) ? -1 : 0;
}

void
xen_yield(void)
{
    hypercall2(HC_SCHED_OP, SCHEDOP_yield, 0);
}

static void
barrier(void)
{
    __asm__ volatile("" : : : "memory");
}

uint32_t
xen_hypercall_init(void)
{
    uint32_t base, a, b, c, d, i;

    for (base = 0x40000000u; base < 0x40010000u; base += 0x100) {
        cpuid(base, &a, &b, &c, &d);
        if (b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e &&
            a - base >= 2) {
            break;      /* "XenVMMXenVMM" */
        }
    }
    if (base >= 0x40010000u) {
        panic("not running on Xen (no XenVMMXenVMM CPUID leaves)");
    }
    cpuid(base + 2, &a, &b, &c, &d);
    for (i = 0; i < a; i++) {
        wrmsr(b, HYPERCALL_PAGE + i * 4096 + i);
    }
    return (uint32_t)hypercall2(HC_XEN_VERSION, XENVER_version, 0);
}

static int
hvm_param(uint32_t op, uint32_t index, uint64_t *value)
{
    struct hvm_param p = { .domid = 0x7ff0, .index = index };   /* self */
    long rc;

    p.value = *value;
    rc = hypercall2(HC_HVM_OP, op, (uint32_t)&p);
    *value = p.value;
    return rc ? -1 : 0;
}

int
xen_get_param(uint32_t index, uint64_t *value)
{
    *value = 0;
    return hvm_param(HVMOP_get_param, index, value);
}

int
xen_set_param(uint32_t index, uint64_t value)
{
    return hvm_param(HVMOP_set_param, index, &value);
}

int
xen_memory_map(void *buf, unsigned max_entries)
{
    struct {
        uint32_t nr;
        uint32_t buffer;
    } map = { max_entries, (uint32_t)buf };

    if (hypercall2(HC_MEMORY_OP, XENMEM_memory_map, (uint32_t)&map)) {
        return -1;
    }
    return (int)map.nr;
}

int
xen_domain_handle(uint8_t uuid[16])
{
    return hypercall2(HC_XEN_VERSION, XENVER_guest_handle,
                      (uint32_t)uuid) ? -1 : 0;
}

/* --- xenstore ------------------------------------------------------------ */

static void
xenbus_notify(struct xenbus *xb)
{
    uint32_t port = xb->port;

    hypercall2(HC_EVENT_CHANNEL_OP, EVTCHNOP_send, (uint32_t)&port);
}


int
xenbus_open(struct xenbus *xb)
{
    uint64_t pfn, port;

    if (xen_get_param(HVM_PARAM_STORE_PFN, &pfn) < 0 ||
        xen_get_param(HVM_PARAM_STORE_EVTCHN, &port) < 0 || !pfn) {
        return -1;
    }
    xb->ring = (volatile struct xs_ring *)(uint32_t)(pfn << 12);
    xb->port = (uint32_t)port;
    xb->reads = 0;
    return 0;
}

/* Copy n bytes into the request ring, waiting for room. */
static void
ring_write(struct xenbus *xb, const void *data, uint32_t n)
{
    volatile struct xs_ring *r = xb->ring;
    const char *p = data;

    while (n) {
        while (r->req_prod - r->req_cons >= XS_RING_SIZE) {
            xenbus_notify(xb);
            xen_yield();
        }
        r->req[r->req_prod & (XS_RING_SIZE - 1)] = *p++;
        barrier();
        r->req_prod++;
        n--;
    }
}

/* Copy n bytes out of the response ring (dropped when dst is NULL). */
static void
ring_read(struct xenbus *xb, void *dst, uint32_t n)
{
    volatile struct xs_ring *r = xb->ring;
    char *p = dst;

    while (n) {
        while (r->rsp_prod == r->rsp_cons) {
            xen_yield();
        }
        barrier();
        if (p) {
            *p++ = r->rsp[r->rsp_cons & (XS_RING_SIZE - 1)];
        }
        barrier();
        r->rsp_cons++;
        n--;
    }
}

/* One request with a string argument; the reply into buf. */
static int
xenbus_request(struct xenbus *xb, uint32_t type, const char *key,
               char *buf, uint32_t size, uint32_t *len)
{
    struct xs_msg m = { type, 0x4856, 0, (uint32_t)strlen(key) + 1 };
    uint32_t keep;

    if (m.len > 256 || size == 0) {
        return -1;
    }
    ring_write(xb, &m, sizeof(m));
    ring_write(xb, key, m.len);
    xenbus_notify(xb);
    xb->reads++;
    ring_read(xb, &m, sizeof(m));
    keep = m.len < size - 1 ? m.len : size - 1;
    ring_read(xb, buf, keep);
    ring_read(xb, NULL, m.len - keep);
    buf[keep] = 0;
    *len = keep;
    xenbus_notify(xb);
    return m.type == XS_ERROR ? -1 : 0;
}

int
xenbus_read(struct xenbus *xb, const char *key, char *buf, uint32_t size)
{
    uint32_t len;

    return xenbus_request(xb, XS_READ, key, buf, size, &len);
}

int
xenbus_directory(struct xenbus *xb, const char *key, char *buf,
                 uint32_t size, uint32_t *len)
{
    return xenbus_request(xb, XS_DIRECTORY, key, buf, size, len);
}
