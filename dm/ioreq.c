/*
 * The ioreq service (xen-dm-interface.md section 1, Xen public header
 * hvm/ioreq.h).
 *
 * Synchronous slots: Xen fills vCPU v's slot, sets READY and signals v's
 * event channel. We see READY, copy the slot once (XSA-197: never re-read a
 * field while emulating), mark it INPROCESS, emulate from the copy, write
 * back only data, then publish IORESP_READY behind a write barrier and
 * notify. Before any synchronous request the buffered ring is drained so
 * earlier posted writes are visible to a later read (1.7).
 *
 * Every request is validated before dispatch: a bad size, count or an
 * address range that wraps completes with all-ones data and a rate-limited
 * log line; nothing here is fatal.
 */
#include "dm/ioreq.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>
#include <xen/hvm/ioreq.h> /* ioreq_t, buffered_iopage_t, IOREQ_* */

#include "dm/gmem.h"
#include "dm/hv.h"
#include "dm/iomap.h"
#include "dm/ioreq-info.h"
#include "dm/log.h"
#include "dm/machine.h"

_Static_assert(sizeof(ioreq_t) == 32, "ioreq_t is 32 bytes (ioreq.h)");
_Static_assert(sizeof(buf_ioreq_t) == 8, "buf_ioreq_t is 8 bytes");
_Static_assert(sizeof(buffered_iopage_t) <= 4096, "buffered page fits");

/* Byte 30 of ioreq_t holds state:4, data_is_ptr:1, dir:1, df:1. */
#define IOREQ_FLAGS_OFFSET  30
#define IOREQ_STATE_MASK    0x0f

/*
 * Xen clips a rep so that its RAM buffer stays within one page and a rep
 * MMIO access does not cross a frame (X:emulate.c hvmemul_do_io,
 * hvmemul_do_io_addr): count * size never exceeds a page unless count is 1.
 */
#define IOREQ_MAX_REP_BYTES 4096u

struct ioreq_svc {
    struct dm *dm;
    ioreq_t *slots;
    buffered_iopage_t *buf;
    unsigned int nr_vcpus;
    int buf_port;
    GHashTable *vcpu_of_port;       /* local port -> vcpu + 1 */
    int *port_of_vcpu;              /* per vCPU: its local port */
    unsigned int hint;              /* the vCPU whose port came last */
    bool *fired;                    /* per vCPU: its port was read */
    uint64_t *port_events;          /* per vCPU: events read on its port */
    bool *masked;                   /* per vCPU: the last unmask failed */
    uint64_t buf_events;
    bool buf_masked;
    uint64_t *ahead;                /* per vCPU: served before its event */
    uint64_t *served;               /* per vCPU: synchronous requests */
    struct ioreq_stats stats;
    uint8_t bounce[IOREQ_MAX_REP_BYTES];
};

typedef void ioreq_handler(struct ioreq_svc *s, ioreq_t *req);

struct ioreq_svc *
ioreq_svc_new(struct dm *dm)
{
    struct hv *hv = dm->hv;
    struct ioreq_svc *s = g_new0(struct ioreq_svc, 1);
    unsigned int v;

    s->dm = dm;
    s->slots = hv->ops->sync_page(hv);
    s->buf = hv->ops->buf_page(hv);
    s->nr_vcpus = hv->ops->nr_vcpus(hv);
    s->buf_port = s->buf ? hv->ops->buf_port(hv) : -1;
    s->vcpu_of_port = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->fired = g_new0(bool, s->nr_vcpus);
    s->port_events = g_new0(uint64_t, s->nr_vcpus);
    s->masked = g_new0(bool, s->nr_vcpus);
    s->ahead = g_new0(uint64_t, s->nr_vcpus);
    s->served = g_new0(uint64_t, s->nr_vcpus);
    s->port_of_vcpu = g_new0(int, s->nr_vcpus);
    for (v = 0; v < s->nr_vcpus; v++) {
        s->port_of_vcpu[v] = hv->ops->vcpu_port(hv, v);
        g_hash_table_insert(s->vcpu_of_port,
                            GINT_TO_POINTER(s->port_of_vcpu[v]),
                            GUINT_TO_POINTER(v + 1));
    }
    dm->ioreq = s;
    if (ioreq_info_register() < 0) {
        DM_WARN("QMP query-ioreq could not be registered");
    }
    return s;
}

void
ioreq_svc_free(struct ioreq_svc *s)
{
    if (!s) {
        return;
    }
    if (s->dm->ioreq == s) {
        s->dm->ioreq = NULL;
    }
    g_hash_table_destroy(s->vcpu_of_port);
    g_free(s->fired);
    g_free(s->port_events);
    g_free(s->masked);
    g_free(s->ahead);
    g_free(s->served);
    g_free(s->port_of_vcpu);
    g_free(s);
}

const struct ioreq_stats *
ioreq_svc_stats(const struct ioreq_svc *s)
{
    return &s->stats;
}

/* ---- validation ------------------------------------------------------ */

static bool
size_ok(const ioreq_t *req)
{
    switch (req->size) {
    case 1:
    case 2:
    case 4:
        return true;
    case 8:
        return req->type == IOREQ_TYPE_COPY;
    default:
        return false;
    }
}

/*
 * count elements of size bytes starting at base and stepping up (or down
 * when df): the whole span must neither wrap nor leave the space.
 */
static bool
span_ok(uint64_t base, uint32_t count, unsigned int size, bool df,
        uint64_t limit)
{
    uint64_t step = (uint64_t)(count - 1) * size;
    uint64_t lo = base, hi;

    if (df) {
        if (base < step) {
            return false;
        }
        lo = base - step;
    } else if (base > UINT64_MAX - step) {
        return false;
    }
    hi = df ? base : base + step;
    return lo <= limit && hi <= limit && size - 1 <= limit - hi;
}

static bool
ioreq_valid(const ioreq_t *req)
{
    if (!size_ok(req) || req->count == 0) {
        return false;
    }
    if (req->count > 1 &&
        (uint64_t)req->count * req->size > IOREQ_MAX_REP_BYTES) {
        return false;
    }
    if (req->type == IOREQ_TYPE_PIO) {
        /* Every element goes to the same port. */
        if (!span_ok(req->addr, 1, req->size, false, 0xffff)) {
            return false;
        }
    } else if (!span_ok(req->addr, req->count, req->size, req->df,
                        UINT64_MAX)) {
        return false;
    }
    return !req->data_is_ptr ||
           span_ok(req->data, req->count, req->size, req->df, UINT64_MAX);
}

static void
ioreq_malformed(struct ioreq_svc *s, ioreq_t *req)
{
    s->stats.malformed++;
    GUEST_ERR("malformed ioreq type %u addr 0x%" PRIx64 " size %u count %u"
              " ptr %u df %u dir %u: completed with all-ones",
              req->type, req->addr, req->size, req->count, req->data_is_ptr,
              req->df, req->dir);
    if (!req->data_is_ptr) {
        req->data = ~0ull;
    }
}

/* ---- rep / data_is_ptr ----------------------------------------------- */

/* Guest address of the lowest element of batch [first, first + n). */
static uint64_t
batch_gpa(const ioreq_t *req, uint32_t first, uint32_t n)
{
    uint64_t size = req->size;

    if (req->df) {
        return req->data - (uint64_t)(first + n - 1) * size;
    }
    return req->data + (uint64_t)first * size;
}

/* With df the elements sit in memory in the reverse of access order. */
static void
batch_reverse(uint8_t *buf, uint32_t n, unsigned int size)
{
    uint32_t i;

    for (i = 0; i < n / 2; i++) {
        uint8_t tmp[8];
        uint8_t *a = buf + (size_t)i * size;
        uint8_t *b = buf + (size_t)(n - 1 - i) * size;

        memcpy(tmp, a, size);
        memcpy(a, b, size);
        memcpy(b, tmp, size);
    }
}

static bool
batch_fault(struct ioreq_svc *s, const ioreq_t *req, uint64_t gpa)
{
    s->stats.gm_faults++;
    GUEST_ERR("ioreq type %u rep buffer at 0x%" PRIx64 " is not guest RAM",
              req->type, gpa);
    return false;
}

/* Move one batch between guest RAM and s->bounce. */
static bool
batch_from_guest(struct ioreq_svc *s, const ioreq_t *req, uint32_t first,
                 uint32_t n)
{
    uint64_t gpa = batch_gpa(req, first, n);

    if (gm_read(s->dm->gm, gpa, s->bounce, (size_t)n * req->size) < 0) {
        return batch_fault(s, req, gpa);
    }
    if (req->df) {
        batch_reverse(s->bounce, n, req->size);
    }
    return true;
}

static bool
batch_to_guest(struct ioreq_svc *s, const ioreq_t *req, uint32_t first,
               uint32_t n)
{
    uint64_t gpa = batch_gpa(req, first, n);

    if (req->df) {
        batch_reverse(s->bounce, n, req->size);
    }
    if (gm_write(s->dm->gm, gpa, s->bounce, (size_t)n * req->size) < 0) {
        return batch_fault(s, req, gpa);
    }
    return true;
}

/* REP INS / OUTS: every element at the same port. */
static void
pio_rep(struct ioreq_svc *s, ioreq_t *req)
{
    uint32_t per = IOREQ_MAX_REP_BYTES / req->size;
    uint32_t done, n;

    for (done = 0; done < req->count; done += n) {
        n = req->count - done < per ? req->count - done : per;
        if (req->dir == IOREQ_READ) {
            iomap_read_rep(s->dm->pio, req->addr, req->size, s->bounce, n);
            if (!batch_to_guest(s, req, done, n)) {
                return;
            }
        } else {
            if (!batch_from_guest(s, req, done, n)) {
                return;
            }
            iomap_write_rep(s->dm->pio, req->addr, req->size, s->bounce, n);
        }
    }
}

static void
ioreq_pio(struct ioreq_svc *s, ioreq_t *req)
{
    uint32_t i;

    s->stats.pio++;
    if (req->data_is_ptr) {
        pio_rep(s, req);
        return;
    }
    for (i = 0; i < req->count; i++) {
        if (req->dir == IOREQ_READ) {
            req->data = iomap_read(s->dm->pio, req->addr, req->size);
        } else {
            iomap_write(s->dm->pio, req->addr, req->size, req->data);
        }
    }
}

static uint64_t
mmio_elem_addr(const ioreq_t *req, uint32_t i)
{
    uint64_t step = (uint64_t)i * req->size;

    return req->df ? req->addr - step : req->addr + step;
}

/* REP MOVS between MMIO and RAM. */
static void
copy_rep(struct ioreq_svc *s, ioreq_t *req)
{
    uint32_t per = IOREQ_MAX_REP_BYTES / req->size;
    uint32_t done, n, i;

    for (done = 0; done < req->count; done += n) {
        n = req->count - done < per ? req->count - done : per;
        if (req->dir == IOREQ_WRITE && !batch_from_guest(s, req, done, n)) {
            return;
        }
        for (i = 0; i < n; i++) {
            uint64_t a = mmio_elem_addr(req, done + i);
            uint8_t *e = s->bounce + (size_t)i * req->size;
            uint64_t v = 0;

            if (req->dir == IOREQ_READ) {
                v = iomap_read(s->dm->mmio, a, req->size);
                memcpy(e, &v, req->size);
            } else {
                memcpy(&v, e, req->size);
                iomap_write(s->dm->mmio, a, req->size, v);
            }
        }
        if (req->dir == IOREQ_READ && !batch_to_guest(s, req, done, n)) {
            return;
        }
    }
}

static void
ioreq_copy(struct ioreq_svc *s, ioreq_t *req)
{
    uint32_t i;

    s->stats.copy++;
    if (req->data_is_ptr) {
        copy_rep(s, req);
        return;
    }
    for (i = 0; i < req->count; i++) {
        uint64_t a = mmio_elem_addr(req, i);

        if (req->dir == IOREQ_READ) {
            req->data = iomap_read(s->dm->mmio, a, req->size);
        } else {
            iomap_write(s->dm->mmio, a, req->size, req->data);
        }
    }
}

/* ---- PCI_CONFIG (1.3) ------------------------------------------------ */

static uint32_t
pcicfg_read(struct dm *dm, uint16_t bdf, uint32_t reg, unsigned int size)
{
    uint32_t v = 0;
    unsigned int i;

    if (!dm->pci_cfg) {
        return (uint32_t)iomap_size_mask(size);
    }
    if (!(reg & (size - 1))) {
        return dm->pci_cfg->read(dm->pci_cfg_opaque, bdf, (uint16_t)reg, size);
    }
    for (i = 0; i < size; i++) {
        v |= (dm->pci_cfg->read(dm->pci_cfg_opaque, bdf,
                                (uint16_t)(reg + i), 1) & 0xff) << (8 * i);
    }
    return v;
}

static void
pcicfg_write(struct dm *dm, uint16_t bdf, uint32_t reg, uint32_t val,
             unsigned int size)
{
    unsigned int i;

    if (!dm->pci_cfg) {
        return;
    }
    if (!(reg & (size - 1))) {
        dm->pci_cfg->write(dm->pci_cfg_opaque, bdf, (uint16_t)reg, val, size);
        return;
    }
    for (i = 0; i < size; i++) {
        dm->pci_cfg->write(dm->pci_cfg_opaque, bdf, (uint16_t)(reg + i),
                           (val >> (8 * i)) & 0xff, 1);
    }
}

static void
ioreq_pci_config(struct ioreq_svc *s, ioreq_t *req)
{
    uint32_t sbdf = (uint32_t)(req->addr >> 32);
    uint32_t reg = (uint32_t)req->addr;
    bool present = (sbdf >> 16) == 0 && reg < 256 && req->size <= 256 - reg;
    uint32_t val = (uint32_t)iomap_size_mask(req->size);

    s->stats.pci_config++;
    if (req->count != 1 || req->size > 4) {
        ioreq_malformed(s, req);
        return;
    }
    if (req->dir == IOREQ_READ) {
        if (present) {
            val = pcicfg_read(s->dm, sbdf & 0xffff, reg, req->size);
        }
        if (!req->data_is_ptr) {
            req->data = val;
        } else if (gm_write(s->dm->gm, req->data, &val, req->size) < 0) {
            batch_fault(s, req, req->data);
        }
        return;
    }
    if (req->data_is_ptr) {
        val = 0;
        if (gm_read(s->dm->gm, req->data, &val, req->size) < 0) {
            batch_fault(s, req, req->data);
            return;
        }
    } else {
        val = (uint32_t)req->data;
    }
    if (present) {
        pcicfg_write(s->dm, sbdf & 0xffff, reg, val, req->size);
    }
}

/* ---- the rest -------------------------------------------------------- */

static void
ioreq_timeoffset(struct ioreq_svc *s, ioreq_t *req)
{
    int64_t off;

    s->stats.timeoffset++;
    /* Saturating: a broken ioreq page must not make the sum undefined. */
    if (__builtin_add_overflow(s->dm->rtc_timeoffset, (int64_t)req->data,
                               &off)) {
        off = (int64_t)req->data < 0 ? -DM_RTC_OFFSET_MAX : DM_RTC_OFFSET_MAX;
    }
    s->dm->rtc_timeoffset = CLAMP(off, -DM_RTC_OFFSET_MAX, DM_RTC_OFFSET_MAX);
    DM_LOG_LIMITED(DM_LOG_INFO, "guest RTC offset now %" PRId64 " s",
                   s->dm->rtc_timeoffset);
}

static void
ioreq_invalidate(struct ioreq_svc *s, ioreq_t *req)
{
    s->stats.invalidate++;
    gm_invalidate(s->dm->gm);
}

static ioreq_handler *const ioreq_handlers[] = {
    [IOREQ_TYPE_PIO] = ioreq_pio,
    [IOREQ_TYPE_COPY] = ioreq_copy,
    [IOREQ_TYPE_PCI_CONFIG] = ioreq_pci_config,
    [IOREQ_TYPE_TIMEOFFSET] = ioreq_timeoffset,
    [IOREQ_TYPE_INVALIDATE] = ioreq_invalidate,
};

static void
ioreq_dispatch(struct ioreq_svc *s, ioreq_t *req)
{
    ioreq_handler *h = NULL;

    if (req->type < G_N_ELEMENTS(ioreq_handlers)) {
        h = ioreq_handlers[req->type];
    }
    if (!h) {
        ioreq_malformed(s, req);
        return;
    }
    if (req->type <= IOREQ_TYPE_COPY) {
        if (!ioreq_valid(req)) {
            ioreq_malformed(s, req);
            return;
        }
        if (req->dir == IOREQ_WRITE && !req->data_is_ptr) {
            req->data &= iomap_size_mask(req->size);
        }
    }
    h(s, req);
}

/* ---- buffered ring (1.7) --------------------------------------------- */

static void
buf_slot_words(const buffered_iopage_t *bp, uint32_t index, uint32_t w[2])
{
    memcpy(w, &bp->buf_ioreq[index % IOREQ_BUFFER_SLOT_NUM], 2 * sizeof(*w));
}

/*
 * Handle the request at read pointer r; returns the slots it used, 0 if it
 * is an 8-byte write whose second half is not published yet.
 */
static unsigned int
buf_handle_one(struct ioreq_svc *s, uint32_t r, uint32_t w)
{
    uint32_t lo[2], hi[2];
    ioreq_t req;

    buf_slot_words(s->buf, r, lo);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memset(&req, 0, sizeof(req));
    req.type = lo[0] & 0xff;
    req.size = 1u << ((lo[0] >> 10) & 3);
    req.addr = lo[0] >> 12;
    req.data = lo[1];
    req.count = 1;
    req.dir = IOREQ_WRITE;
    if (req.size == 8) {
        if (w - r < 2) {
            return 0;
        }
        buf_slot_words(s->buf, r + 1, hi);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        req.data |= (uint64_t)hi[1] << 32;
    }
    s->stats.buffered++;
    ioreq_dispatch(s, &req);
    return req.size == 8 ? 2 : 1;
}

unsigned int
ioreq_svc_drain_buffered(struct ioreq_svc *s)
{
    buffered_iopage_t *bp = s->buf;
    unsigned int handled = 0, guard;

    if (!bp) {
        return 0;
    }
    /* Bounded: a ring holds at most 511 slots between two reads. */
    for (guard = 0; guard < 4 * IOREQ_BUFFER_SLOT_NUM; guard++) {
        uint32_t r = __atomic_load_n(&bp->read_pointer, __ATOMIC_ACQUIRE);
        uint32_t w = __atomic_load_n(&bp->write_pointer, __ATOMIC_ACQUIRE);
        unsigned int used;

        if (__atomic_load_n(&bp->read_pointer, __ATOMIC_ACQUIRE) != r) {
            continue;       /* Xen canonicalised the pointers under us */
        }
        if (r == w) {
            break;
        }
        if (w - r > IOREQ_BUFFER_SLOT_NUM) {
            DM_LOG_LIMITED(DM_LOG_ERROR, "buffered ioreq ring corrupt "
                           "(read %u write %u)", r, w);
            break;
        }
        used = buf_handle_one(s, r, w);
        if (!used) {
            break;
        }
        __atomic_fetch_add(&bp->read_pointer, used, __ATOMIC_RELEASE);
        handled++;
    }
    return handled;
}

/* ---- synchronous slots (1.4) ----------------------------------------- */

static uint8_t *
slot_flags(ioreq_t *slot)
{
    return (uint8_t *)slot + IOREQ_FLAGS_OFFSET;
}

static unsigned int
slot_state(ioreq_t *slot)
{
    return __atomic_load_n(slot_flags(slot), __ATOMIC_ACQUIRE) &
           IOREQ_STATE_MASK;
}

/* Serve vCPU vcpu's slot, which was READY. */
static void
serve_slot(struct ioreq_svc *s, unsigned int vcpu)
{
    struct hv *hv = s->dm->hv;
    ioreq_t *slot = &s->slots[vcpu], req;
    uint8_t *flags = slot_flags(slot);
    uint8_t f = __atomic_load_n(flags, __ATOMIC_ACQUIRE);

    /* See READY, then read the contents: once, into our own copy. */
    memcpy(&req, slot, sizeof(req));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    __atomic_store_n(flags, (f & ~IOREQ_STATE_MASK) | STATE_IOREQ_INPROCESS,
                     __ATOMIC_RELAXED);

    ioreq_svc_drain_buffered(s);
    s->stats.sync++;
    s->served[vcpu]++;
    ioreq_dispatch(s, &req);

    f = __atomic_load_n(flags, __ATOMIC_ACQUIRE);
    if ((f & IOREQ_STATE_MASK) != STATE_IOREQ_INPROCESS) {
        s->stats.badness++;
        DM_LOG_LIMITED(DM_LOG_ERROR, "vcpu %u ioreq slot changed state to "
                       "%u while in process", vcpu, f & IOREQ_STATE_MASK);
        return;
    }
    /* Update the contents, then the state. */
    __atomic_store_n(&slot->data, req.data, __ATOMIC_RELAXED);
    __atomic_store_n(flags, (f & ~IOREQ_STATE_MASK) | STATE_IORESP_READY,
                     __ATOMIC_RELEASE);
    hv->ops->evtchn_notify(hv, hv->ops->vcpu_port(hv, vcpu));
}

void
ioreq_svc_handle_vcpu(struct ioreq_svc *s, unsigned int vcpu)
{
    if (vcpu >= s->nr_vcpus) {
        return;
    }
    if (slot_state(&s->slots[vcpu]) != STATE_IOREQ_READY) {
        s->stats.spurious++;
        return;
    }
    serve_slot(s, vcpu);
}

/*
 * The vCPU a local port belongs to, or -1. Each wake-up looks a port up
 * twice (read, unmask) and a busy vCPU's port comes again and again: the
 * last one found is checked before the table.
 */
static int
vcpu_of(struct ioreq_svc *s, int port)
{
    gpointer v;

    if (s->hint < s->nr_vcpus && s->port_of_vcpu[s->hint] == port) {
        return (int)s->hint;
    }
    v = g_hash_table_lookup(s->vcpu_of_port, GINT_TO_POINTER(port));
    if (!v) {
        return -1;
    }
    s->hint = GPOINTER_TO_UINT(v) - 1;
    return (int)s->hint;
}

/*
 * Read one pending port, if any, and note which vCPU (or the ring) it
 * belongs to. It stays masked until unmask_port(): Xen keeps an event that
 * comes meanwhile pending and raises it again on the unmask.
 */
static int
read_port(struct ioreq_svc *s)
{
    struct hv *hv = s->dm->hv;
    int port = hv->ops->evtchn_pending(hv);
    int v;

    if (port < 0) {
        return -1;
    }
    s->stats.events++;
    if (port == s->buf_port) {
        s->buf_events++;
        return port;
    }
    v = vcpu_of(s, port);
    if (v < 0) {
        s->stats.spurious++;
        return port;
    }
    s->fired[v] = true;
    s->port_events[v]++;
    return port;
}

static void
unmask_port(struct ioreq_svc *s, int port)
{
    struct hv *hv = s->dm->hv;
    bool masked = hv->ops->evtchn_unmask(hv, port) < 0;
    int v;

    if (port == s->buf_port) {
        s->buf_masked = masked;
        return;
    }
    v = vcpu_of(s, port);
    if (v >= 0) {
        s->masked[v] = masked;
    }
}

/*
 * Read and unmask every other pending port (bounded: the event-channel
 * device queues at most one event per masked port); the number read.
 */
static unsigned int
read_ports(struct ioreq_svc *s)
{
    unsigned int guard;
    int port;

    for (guard = 0; guard < 2 * (s->nr_vcpus + 1); guard++) {
        port = read_port(s);
        if (port < 0) {
            break;
        }
        unmask_port(s, port);
    }
    return guard;
}

/*
 * One vCPU after its port was read (fired) or not: a READY slot is served
 * either way; a port whose slot is idle was answered ahead of its event
 * (by a re-check or the spin), or is spurious.
 */
static unsigned int
scan_vcpu(struct ioreq_svc *s, unsigned int v, unsigned int *unread)
{
    bool fired = s->fired[v];

    s->fired[v] = false;
    if (slot_state(&s->slots[v]) == STATE_IOREQ_READY) {
        if (!fired) {
            s->ahead[v]++;
            (*unread)++;
        }
        serve_slot(s, v);
        return 1;
    }
    if (fired) {
        if (s->ahead[v]) {
            s->ahead[v]--;
            s->stats.early++;
        } else {
            s->stats.spurious++;
        }
    }
    return 0;
}

/*
 * The buffered ring, then every READY slot. unread counts the work whose
 * port may still be pending: slots served before their port was read, a
 * ring drained without its port.
 */
static unsigned int
serve_ready(struct ioreq_svc *s, int port, unsigned int *unread)
{
    unsigned int served, v;

    served = ioreq_svc_drain_buffered(s);
    if (served && port != s->buf_port) {
        (*unread)++;
    }
    for (v = 0; v < s->nr_vcpus; v++) {
        served += scan_vcpu(s, v, unread);
    }
    return served;
}

/*
 * One wake-up: the answers go out first (one port read, then every READY
 * slot and the ring), the bookkeeping after them, off the vCPU's critical
 * path: the unmask, then the other pending ports, only if something was
 * served that the port read did not announce (a second vCPU, the ring).
 * A port left unread keeps the fd readable: the next poll returns at once.
 */
unsigned int
ioreq_svc_event(struct ioreq_svc *s)
{
    unsigned int unread = 0, served;
    int port = read_port(s);

    served = serve_ready(s, port, &unread);
    if (port >= 0) {
        unmask_port(s, port);
    }
    if (unread && read_ports(s)) {
        served += serve_ready(s, -1, &unread);
    }
    return served;
}

bool
ioreq_svc_peek(const struct ioreq_svc *s)
{
    unsigned int v;

    for (v = 0; v < s->nr_vcpus; v++) {
        if (slot_state(&s->slots[v]) == STATE_IOREQ_READY) {
            return true;
        }
    }
    return s->buf && __atomic_load_n(&s->buf->read_pointer,
                                     __ATOMIC_ACQUIRE) !=
                     __atomic_load_n(&s->buf->write_pointer,
                                     __ATOMIC_ACQUIRE);
}

/* ---- the state on demand (dm/ioreq-info.c) --------------------------- */

unsigned int
ioreq_svc_nr_vcpus(const struct ioreq_svc *s)
{
    return s->nr_vcpus;
}

void
ioreq_svc_vcpu_info(const struct ioreq_svc *s, unsigned int v,
                    struct ioreq_vcpu_info *out)
{
    struct hv *hv = s->dm->hv;
    ioreq_t req;

    memset(out, 0, sizeof(*out));
    if (v >= s->nr_vcpus) {
        return;
    }
    memcpy(&req, &s->slots[v], sizeof(req));       /* one snapshot */
    out->state = req.state;
    out->type = req.type;
    out->dir = req.dir;
    out->data_is_ptr = req.data_is_ptr;
    out->df = req.df;
    out->size = req.size;
    out->count = req.count;
    out->addr = req.addr;
    out->data = req.data;
    out->port = hv->ops->vcpu_port(hv, v);
    out->remote_port = req.vp_eport;
    out->port_events = s->port_events[v];
    out->masked = s->masked[v];
    out->served = s->served[v];
    out->ahead = s->ahead[v];
}

bool
ioreq_svc_buf_info(const struct ioreq_svc *s, struct ioreq_buf_info *out)
{
    memset(out, 0, sizeof(*out));
    out->port = s->buf_port;
    if (!s->buf) {
        return false;
    }
    out->read_pointer = __atomic_load_n(&s->buf->read_pointer,
                                        __ATOMIC_ACQUIRE);
    out->write_pointer = __atomic_load_n(&s->buf->write_pointer,
                                         __ATOMIC_ACQUIRE);
    out->port_events = s->buf_events;
    out->masked = s->buf_masked;
    return true;
}
