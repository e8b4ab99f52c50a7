/*
 * ioreq service tests: the synchronous state machine, the buffered ring
 * (wrap, 8-byte writes over two slots, ordering against synchronous
 * requests), rep forms with data_is_ptr and df across page and bucket
 * boundaries, PCI_CONFIG decoding, and malformed requests, which must all
 * complete with all-ones and never stop the service.
 */
#include <glib.h>
#include <string.h>

#include "dm/gmem.h"
#include "dm/ioreq.h"
#include "dm/iomap.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/probe.h"
#include "tests/t.h"

static struct t_machine *
core_machine_vcpus(unsigned int vcpus)
{
    struct t_opts o = { .no_board = true, .vcpus = vcpus };

    return t_machine_new(&o);
}

static const struct ioreq_stats *
stats(struct t_machine *t)
{
    return ioreq_svc_stats(t->dm->ioreq);
}

T_TEST(ioreq_pio_round_trip_and_write_masking)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;
    ioreq_t req = { .addr = 0x80, .data = 0xffffff5a, .count = 1, .size = 1,
                    .type = IOREQ_TYPE_PIO };

    probe_init(&p, "p", 4, 1, 4, 0, 0);
    T_EQ(iomap_add(t->dm->pio, &p.region, 0x80), 0);
    req.dir = IOREQ_WRITE;
    t_request(t, &req);
    T_EQ(p.log[0].val, 0x5a);               /* masked to the access size */
    T_EQ(t_inb(t, 0x80), 0x5a);
    t_outl(t, 0x80, 0x11223344);
    T_EQ(t_inl(t, 0x80), 0x11223344);
    T_EQ(t_inw(t, 0x82), 0x1122);
    T_EQ(stats(t)->sync, 5);
    T_EQ(stats(t)->malformed, 0);
    t_machine_free(t);
}

T_TEST(ioreq_each_vcpu_uses_its_own_slot_and_port)
{
    struct t_machine *t = core_machine_vcpus(4);
    struct probe p;

    probe_init(&p, "p", 4, 1, 4, 0, 0);
    T_EQ(iomap_add(t->dm->pio, &p.region, 0x80), 0);
    for (unsigned int v = 0; v < 4; v++) {
        t->vcpu = v;
        t_outb(t, 0x80, (uint8_t)(v + 1));
        T_EQ(t_inb(t, 0x80), v + 1);
        T_EQ(t_slot(t, v)->state, STATE_IOREQ_NONE);
    }
    t_machine_free(t);
}

T_TEST(ioreq_spurious_event_is_ignored)
{
    struct t_machine *t = core_machine_vcpus(2);

    /* A port fires while the slot is idle: nothing answers. */
    t_buf_kick(t);
    ioreq_svc_handle_vcpu(t->dm->ioreq, 0);
    ioreq_svc_handle_vcpu(t->dm->ioreq, 7);         /* no such vCPU */
    T_EQ(stats(t)->spurious, 1);
    T_EQ(t_slot(t, 0)->state, STATE_IOREQ_NONE);
    T_EQ(t_inb(t, 0x99), 0xff);                     /* still serving */
    t_machine_free(t);
}

static void
clobber_state(struct probe *p, uint64_t off, uint64_t val)
{
    struct t_machine *t = p->user;
    uint8_t *flags = (uint8_t *)t_slot(t, 0) + 30;

    *flags = (uint8_t)((*flags & 0xf0) | STATE_IOREQ_NONE);
}

T_TEST(ioreq_state_changed_in_process_is_not_answered)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;
    ioreq_t *slot = t_slot(t, 0);

    probe_init(&p, "p", 4, 1, 4, 0, 0);
    p.on_write = clobber_state;
    p.user = t;
    T_EQ(iomap_add(t->dm->pio, &p.region, 0x80), 0);
    /* Drive the slot by hand: the harness would fail on no response. */
    memset(slot, 0, 30);
    slot->addr = 0x80;
    slot->count = 1;
    slot->size = 1;
    slot->vp_eport = 10;
    slot->type = IOREQ_TYPE_PIO;
    slot->state = STATE_IOREQ_READY;
    ioreq_svc_handle_vcpu(t->dm->ioreq, 0);
    T_EQ(stats(t)->badness, 1);
    T_EQ(slot->state, STATE_IOREQ_NONE);            /* not IORESP_READY */
    T_EQ(t_inb(t, 0x80), 0);                        /* service continues */
    t_machine_free(t);
}

/* ---- malformed requests ---------------------------------------------- */

static void
expect_malformed(struct t_machine *t, ioreq_t req)
{
    uint64_t before = stats(t)->malformed;
    ioreq_t done = t_request(t, &req);

    T_EQ(stats(t)->malformed, before + 1);
    if (!req.data_is_ptr) {
        T_EQ(done.data, UINT64_MAX);
    }
}

T_TEST(ioreq_malformed_requests_complete_with_all_ones)
{
    struct t_machine *t = core_machine_vcpus(1);
    ioreq_t r = { .addr = 0x80, .count = 1, .size = 3,
                  .type = IOREQ_TYPE_PIO };

    r.dir = IOREQ_READ;
    expect_malformed(t, r);                         /* size 3 */
    r.size = 8;
    expect_malformed(t, r);                         /* PIO size 8 */
    r.size = 16;
    r.type = IOREQ_TYPE_COPY;
    expect_malformed(t, r);                         /* MMIO size 16 */
    r.size = 2;
    r.type = IOREQ_TYPE_PIO;
    r.addr = 0xffff;
    expect_malformed(t, r);                         /* port wraps */
    r.addr = 0x1ffff;
    expect_malformed(t, r);                         /* port > 0xffff */
    r.addr = 0x80;
    r.count = 0;
    expect_malformed(t, r);                         /* count 0 */
    r.count = 5;
    r.type = 5;
    expect_malformed(t, r);                         /* unknown type */
    r.type = IOREQ_TYPE_COPY;
    r.size = 4;
    r.count = 2000;
    expect_malformed(t, r);                         /* > a page of reps */
    r.count = 4;
    r.addr = UINT64_MAX - 8;
    expect_malformed(t, r);                         /* MMIO wraps up */
    r.df = 1;
    r.addr = 8;
    expect_malformed(t, r);                         /* MMIO wraps down */
    T_EQ(t_inb(t, 0x99), 0xff);                     /* still serving */
    t_machine_free(t);
}

T_TEST(ioreq_rep_count_and_pointer_overflow)
{
    struct t_machine *t = core_machine_vcpus(1);
    ioreq_t r = { .addr = 0x1f0, .count = UINT32_MAX, .size = 4,
                  .type = IOREQ_TYPE_PIO };

    r.data_is_ptr = 1;
    r.dir = IOREQ_READ;
    r.data = 0x1000;
    expect_malformed(t, r);                         /* count * size huge */
    r.count = 16;
    r.data = UINT64_MAX - 16;
    expect_malformed(t, r);                         /* buffer wraps up */
    r.df = 1;
    r.data = 32;
    expect_malformed(t, r);                         /* buffer wraps down */
    r.df = 0;
    r.data = 0x1000;
    t_request(t, &r);                               /* and a good one */
    T_EQ(stats(t)->malformed, 3);
    t_machine_free(t);
}

/* ---- rep string I/O --------------------------------------------------- */

T_TEST(ioreq_rep_ins_across_page_boundary)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe fifo;
    uint16_t got[100];

    probe_init(&fifo, "fifo", 8, 1, 4, 0, 1);
    T_EQ(iomap_add(t->dm->pio, &fifo.region, 0x1f0), 0);
    fifo.fifo_next = 1000;
    t_ins(t, 0x1f0, 2, 0x2000 - 50, 100, false);
    t_memread(t, 0x2000 - 50, got, sizeof(got));
    for (unsigned int i = 0; i < 100; i++) {
        T_EQ(got[i], 1000 + i);
    }
    T_EQ(fifo.nlog, 1);                             /* one batch */
    t_machine_free(t);
}

T_TEST(ioreq_rep_ins_descending)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe fifo;
    uint32_t got[64];

    probe_init(&fifo, "fifo", 8, 1, 4, 0, 1);
    T_EQ(iomap_add(t->dm->pio, &fifo.region, 0x1f0), 0);
    /* df: element i lands at gpa - i * size; end at a page start. */
    t_ins(t, 0x1f0, 4, 0x3000 + 63 * 4 - 0x80, 64, true);
    t_memread(t, 0x3000 - 0x80, got, sizeof(got));
    for (unsigned int i = 0; i < 64; i++) {
        T_EQ(got[63 - i], i);
    }
    t_machine_free(t);
}

T_TEST(ioreq_rep_outs_both_directions)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe fifo;
    uint8_t src[300];

    for (unsigned int i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t)(i * 7);
    }
    probe_init(&fifo, "fifo", 8, 1, 4, 0, 1);
    T_EQ(iomap_add(t->dm->pio, &fifo.region, 0x3f8), 0);
    /* Across the 1 MiB map-cache bucket boundary. */
    t_memwrite(t, 0x100000 - 150, src, sizeof(src));
    t_outs(t, 0x3f8, 1, 0x100000 - 150, 300, false);
    T_EQ(fifo.log[0].kind, 'W');
    T_EQ(fifo.log[0].val, 300);
    for (unsigned int i = 0; i < 300; i++) {
        T_EQ(fifo.log[1 + i].val, src[i]);
    }
    fifo.nlog = 0;
    t_outs(t, 0x3f8, 1, 0x100000 - 150 + 299, 300, true);
    for (unsigned int i = 0; i < 300; i++) {
        T_EQ(fifo.log[1 + i].val, src[299 - i]);
    }
    t_machine_free(t);
}

T_TEST(ioreq_rep_without_string_ops_goes_element_wise)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;
    uint16_t src[4] = { 1, 2, 3, 4 };

    probe_init(&p, "p", 8, 1, 4, 0, 0);
    T_EQ(iomap_add(t->dm->pio, &p.region, 0x500), 0);
    t_memwrite(t, 0x5000, src, sizeof(src));
    t_outs(t, 0x500, 2, 0x5000, 4, false);
    T_EQ(p.nlog, 4);
    T_EQ(p.log[3].val, 4);
    t_machine_free(t);
}

T_TEST(ioreq_rep_into_unbacked_memory_faults_cleanly)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe fifo;

    probe_init(&fifo, "fifo", 8, 1, 4, 0, 1);
    T_EQ(iomap_add(t->dm->pio, &fifo.region, 0x1f0), 0);
    t_ram_hole(t, 0x8000, 0x1000);
    t_ins(t, 0x1f0, 2, 0x8000 - 16, 64, false);     /* runs into the hole */
    T_EQ(stats(t)->gm_faults, 1);
    t_ins(t, 0x1f0, 4, t_ram_size(t) - 8, 16, false);   /* past RAM */
    T_EQ(stats(t)->gm_faults, 2);
    t_outs(t, 0x1f0, 4, 0x8000, 4, false);
    T_EQ(stats(t)->gm_faults, 3);
    T_EQ(t_inb(t, 0x1f0), 0);                       /* service continues */
    t_machine_free(t);
}

/* ---- MMIO (COPY) ------------------------------------------------------ */

T_TEST(ioreq_mmio_every_width)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;

    probe_init(&p, "mmio", 0x100, 1, 8, 0, 0);
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xfebf0000), 0);
    t_writeq(t, 0xfebf0000, 0x0102030405060708ull);
    T_EQ(t_readq(t, 0xfebf0000), 0x0102030405060708ull);
    T_EQ(t_readl(t, 0xfebf0004), 0x01020304);
    T_EQ(t_readw(t, 0xfebf0002), 0x0506);
    T_EQ(t_readb(t, 0xfebf0001), 0x07);
    t_writew(t, 0xfebf0010, 0xabcd);
    t_writeb(t, 0xfebf0012, 0xef);
    t_writel(t, 0xfebf0014, 0x12345678);
    T_EQ(t_readq(t, 0xfebf0010), 0x1234567800efabcdull);
    t_machine_free(t);
}

T_TEST(ioreq_mmio_rep_stos_and_movs)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;
    ioreq_t stos = { .addr = 0xfebf0020, .data = 0x77, .count = 8, .size = 4,
                     .type = IOREQ_TYPE_COPY };
    uint32_t src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, dst[8];

    probe_init(&p, "mmio", 0x100, 1, 8, 0, 0);
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xfebf0000), 0);
    stos.dir = IOREQ_WRITE;
    t_request(t, &stos);
    for (unsigned int i = 0; i < 8; i++) {
        T_EQ(t_readl(t, 0xfebf0020 + 4 * i), 0x77);
    }
    t_memwrite(t, 0x4000, src, sizeof(src));
    t_movs_to_mmio(t, 0xfebf0040, 4, 0x4000, 8, false);
    T_EQ(t_readl(t, 0xfebf0040 + 28), 8);
    /* df: MMIO and RAM both walk down from the last element. */
    t_movs_from_mmio(t, 0xfebf0040 + 28, 4, 0x6000 + 28, 8, true);
    t_memread(t, 0x6000, dst, sizeof(dst));
    T_ASSERT(memcmp(src, dst, sizeof(src)) == 0);
    t_machine_free(t);
}

/* ---- PCI_CONFIG -------------------------------------------------------- */

struct cfg_log {
    uint16_t bdf;
    uint16_t reg;
    unsigned int size;
    uint32_t val;
    unsigned int reads;
    unsigned int writes;
};

static uint32_t
cfg_read(void *opaque, uint16_t bdf, uint16_t reg, unsigned int size)
{
    struct cfg_log *c = opaque;

    c->bdf = bdf;
    c->reg = reg;
    c->size = size;
    c->reads++;
    return 0x12345678u >> (8 * (reg & 3));
}

static void
cfg_write(void *opaque, uint16_t bdf, uint16_t reg, uint32_t val,
          unsigned int size)
{
    struct cfg_log *c = opaque;

    c->bdf = bdf;
    c->reg = reg;
    c->size = size;
    c->val = val;
    c->writes++;
}

static const struct dm_pci_cfg_ops cfg_ops = {
    .read = cfg_read,
    .write = cfg_write,
};

T_TEST(ioreq_pci_config_decoding)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct cfg_log c = { 0 };
    ioreq_t r = { .count = 1, .size = 4, .type = IOREQ_TYPE_PCI_CONFIG };
    uint32_t v;

    T_EQ(t_pcicfg_read(t, 0x0b, 0, 4), 0xffffffff);     /* no bus yet */
    dm_set_pci_cfg(t->dm, &cfg_ops, &c);
    T_EQ(t_pcicfg_read(t, 0x0b, 0x10, 4), 0x12345678);
    T_EQ(c.bdf, 0x0b);
    T_EQ(c.reg, 0x10);
    t_pcicfg_write(t, 0x0b, 0x3c, 0x0a, 1);
    T_EQ(c.val, 0x0a);
    T_EQ(c.size, 1);
    /* A word at offset 1 (outw to 0xcfd) goes out as aligned bytes. */
    c.reads = 0;
    T_EQ(t_pcicfg_read(t, 0x0b, 0x11, 2), 0x3456);
    T_EQ(c.reads, 2);
    /* Segment 1, or a register past 256: absent. */
    r.addr = (1ull << 48) | (0x0bull << 32);
    r.dir = IOREQ_READ;
    c.reads = 0;
    T_EQ(t_request(t, &r).data, 0xffffffff);
    r.addr = (0x0bull << 32) | 0x100;
    T_EQ(t_request(t, &r).data, 0xffffffff);
    T_EQ(c.reads, 0);
    /* data_is_ptr: the value goes through guest memory. */
    r.addr = (0x0bull << 32) | 0x10;
    r.data_is_ptr = 1;
    r.data = 0x7000;
    t_request(t, &r);
    t_memread(t, 0x7000, &v, 4);
    T_EQ(v, 0x12345678);
    /* count != 1 is malformed. */
    r.data_is_ptr = 0;
    r.count = 2;
    expect_malformed(t, r);
    t_machine_free(t);
}

/* ---- TIMEOFFSET and INVALIDATE --------------------------------------- */

T_TEST(ioreq_invalidate_drops_the_map_cache)
{
    struct t_machine *t = core_machine_vcpus(1);
    ioreq_t inv = { .data = ~0ull, .count = 1, .size = 4,
                    .type = IOREQ_TYPE_INVALIDATE };
    uint8_t b[16];

    T_EQ(gm_read(t->dm->gm, 0x100, b, sizeof(b)), 0);
    T_EQ(gm_read(t->dm->gm, 0x300000, b, sizeof(b)), 0);
    T_ASSERT(t_mapped_pages(t, NULL) > 0);
    inv.dir = IOREQ_WRITE;
    t_request(t, &inv);
    T_EQ(t_mapped_pages(t, NULL), 0);
    T_EQ(stats(t)->invalidate, 1);
    t_machine_free(t);
}

/* ---- buffered ring ---------------------------------------------------- */

T_TEST(ioreq_buffered_writes_in_order)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;

    probe_init(&p, "vga", 0x20000, 1, 8, 0, 0);
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xa0000), 0);
    T_ASSERT(t_buf_push(t, 0xa0000, 1, 0x11));
    T_ASSERT(t_buf_push(t, 0xa0002, 2, 0x2233));
    T_ASSERT(t_buf_push(t, 0xa0004, 4, 0x44556677));
    T_ASSERT(t_buf_push(t, 0xa0008, 8, 0x8899aabbccddeeffull));
    t_buf_kick(t);
    T_EQ(p.nlog, 4);
    T_EQ(p.log[0].off, 0);
    T_EQ(p.log[1].val, 0x2233);
    T_EQ(p.log[2].size, 4);
    T_EQ(p.log[3].size, 8);
    T_EQ(p.log[3].val, 0x8899aabbccddeeffull);
    T_EQ(t_buf_read_pointer(t), 5);             /* the qword took two */
    T_EQ(stats(t)->buffered, 4);
    t_machine_free(t);
}

T_TEST(ioreq_buffered_ring_wraps)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;
    uint32_t starts[] = { 505, 510, 0xfffffffd };

    probe_init(&p, "vga", 0x20000, 1, 8, 0, 0);
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xa0000), 0);
    for (unsigned int s = 0; s < G_N_ELEMENTS(starts); s++) {
        p.nlog = 0;
        t_buf_set_pointers(t, starts[s], starts[s]);
        for (unsigned int i = 0; i < 4; i++) {
            T_ASSERT(t_buf_push(t, 0xa0000 + 8 * i, 8,
                                0x0101010101010101ull * (i + 1)));
        }
        t_buf_kick(t);
        T_EQ(p.nlog, 4);
        for (unsigned int i = 0; i < 4; i++) {
            T_EQ(p.log[i].val, 0x0101010101010101ull * (i + 1));
        }
        T_EQ(t_buf_read_pointer(t), starts[s] + 8);
    }
    t_machine_free(t);
}

T_TEST(ioreq_buffered_ring_full_then_drained)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;
    unsigned int n = 0;

    probe_init(&p, "vga", 0x20000, 1, 8, 0, 0);
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xa0000), 0);
    while (t_buf_push(t, 0xa0000 + n, 1, n & 0xff)) {
        n++;
    }
    T_EQ(n, 511);           /* full at write - read >= 511 - qw */
    T_ASSERT(!t_buf_push(t, 0xa0000, 8, 0));
    t_buf_kick(t);
    T_EQ(p.nlog, 511);
    T_EQ(p.log[510].off, 510);
    T_EQ(t_buf_read_pointer(t), 511);
    t_machine_free(t);
}

T_TEST(ioreq_buffered_half_published_qword_waits)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;

    probe_init(&p, "vga", 0x20000, 1, 8, 0, 0);
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xa0000), 0);
    T_ASSERT(t_buf_push(t, 0xa0000, 8, 0x1122334455667788ull));
    t_buf_set_pointers(t, 0, 1);            /* only the first half visible */
    t_buf_kick(t);
    T_EQ(p.nlog, 0);
    T_EQ(t_buf_read_pointer(t), 0);
    t_buf_set_pointers(t, 0, 2);
    t_buf_kick(t);
    T_EQ(p.nlog, 1);
    T_EQ(p.log[0].val, 0x1122334455667788ull);
    t_machine_free(t);
}

T_TEST(ioreq_buffered_corrupt_pointers_do_not_hang)
{
    struct t_machine *t = core_machine_vcpus(1);

    t_buf_set_pointers(t, 0, 5000);
    t_buf_kick(t);
    T_EQ(t_buf_read_pointer(t), 0);
    T_EQ(t_inb(t, 0x80), 0xff);
    t_machine_free(t);
}

T_TEST(ioreq_buffered_drained_before_sync_request)
{
    struct t_machine *t = core_machine_vcpus(1);
    struct probe p;

    probe_init(&p, "vga", 0x20000, 1, 8, 0, 0);
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xa0000), 0);
    T_ASSERT(t_buf_push(t, 0xa0010, 4, 0xcafe));
    /* No kick: the synchronous read must still see the posted write. */
    T_EQ(t_readl(t, 0xa0010), 0xcafe);
    T_EQ(p.log[0].kind, 'w');
    T_EQ(p.log[1].kind, 'r');
    t_machine_free(t);
}

T_TEST(ioreq_buffered_timeoffset)
{
    struct t_machine *t = core_machine_vcpus(1);
    buffered_iopage_t *bp;
    uint32_t w0 = IOREQ_TYPE_TIMEOFFSET | 3u << 10;
    int64_t delta = -3600;
    uint32_t w[4] = { w0, (uint32_t)delta, w0, (uint32_t)(delta >> 32) };

    /* Xen posts TIMEOFFSET as an 8-byte buffered write (io.c). */
    bp = t->dm->hv->ops->buf_page(t->dm->hv);
    memcpy(&bp->buf_ioreq[0], w, sizeof(w));
    t_buf_set_pointers(t, 0, 2);
    t_buf_kick(t);
    T_EQ(t->dm->rtc_timeoffset, -3600);
    T_EQ(stats(t)->timeoffset, 1);
    t_machine_free(t);
}
