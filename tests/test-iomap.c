/*
 * Address-map tests: registration rules, the access contract (splitting,
 * widening, dropping), unclaimed space, moves and the ioreq-server routing
 * that follows every change, RAM regions with dirty tracking.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/iomap.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/probe.h"
#include "tests/t.h"

static struct t_machine *
core_machine(void)
{
    struct t_opts o = { .no_board = true };

    return t_machine_new(&o);
}

T_TEST(iomap_overlap_refused)
{
    struct t_machine *t = core_machine();
    struct probe a, b, c;

    probe_init(&a, "a", 0x10, 1, 4, 0, 0);
    probe_init(&b, "b", 0x10, 1, 4, 0, 0);
    probe_init(&c, "c", 0x10, 1, 4, 0, 0);
    T_EQ(iomap_add(t->dm->pio, &a.region, 0x100), 0);
    T_EQ(iomap_add(t->dm->pio, &b.region, 0x108), -EEXIST);
    T_EQ(iomap_add(t->dm->pio, &b.region, 0xf8), -EEXIST);
    T_EQ(iomap_add(t->dm->pio, &b.region, 0x110), 0);     /* adjacent */
    T_EQ(iomap_add(t->dm->pio, &c.region, 0xf0), 0);      /* adjacent */
    T_EQ(iomap_count(t->dm->pio), 3);
    T_EQ(t_hv_count(t, "map_io port"), 3);
    T_ASSERT(iomap_find(t->dm->pio, 0x10f) == &a.region);
    T_ASSERT(iomap_find(t->dm->pio, 0x110) == &b.region);
    T_ASSERT(iomap_find(t->dm->pio, 0xef) == NULL);
    t_machine_free(t);
}

T_TEST(iomap_bad_ranges_refused)
{
    struct t_machine *t = core_machine();
    struct probe a, z;

    probe_init(&a, "a", 0x20, 1, 4, 0, 0);
    probe_init(&z, "zero", 0, 1, 4, 0, 0);
    T_EQ(iomap_add(t->dm->pio, &a.region, 0xfff0), -EINVAL);  /* past 64K */
    T_EQ(iomap_add(t->dm->pio, &z.region, 0x10), -EINVAL);
    a.region.len = 0x20;
    T_EQ(iomap_add(t->dm->mmio, &a.region, UINT64_MAX - 0x10), -EINVAL);
    T_EQ(iomap_add(t->dm->mmio, &a.region, UINT64_MAX - 0x1f), 0);
    T_EQ(iomap_add(t->dm->mmio, &a.region, 0), -EINVAL);       /* twice */
    T_EQ(t_hv_count(t, "map_io"), 1);
    t_machine_free(t);
}

T_TEST(iomap_hv_refusal_leaves_map_unchanged)
{
    struct t_machine *t = core_machine();
    struct probe a;

    probe_init(&a, "a", 0x10, 1, 4, 0, 0);
    /* Another user of the ioreq server already routes the range. */
    T_EQ(t->dm->hv->ops->map_io_range(t->dm->hv, HV_IO_PORT, 0x208, 0x208),
         0);
    T_EQ(iomap_add(t->dm->pio, &a.region, 0x200), -EEXIST);
    T_EQ(iomap_count(t->dm->pio), 0);
    T_ASSERT(!iomap_region_mapped(&a.region));
    t_machine_free(t);
}

T_TEST(iomap_unclaimed_reads_all_ones)
{
    struct t_machine *t = core_machine();
    const struct iomap_stats *st = iomap_stats(t->dm->pio);

    T_EQ(t_inb(t, 0x1234), 0xff);
    T_EQ(t_inw(t, 0x1234), 0xffff);
    T_EQ(t_inl(t, 0x1234), 0xffffffff);
    T_EQ(t_readq(t, 0xfee00000ull), UINT64_MAX);
    T_EQ(st->unclaimed_reads, 3);
    t_outl(t, 0x1234, 0xdeadbeef);
    t_outb(t, 0x1235, 1);
    T_EQ(st->unclaimed_writes, 2);
    t_machine_free(t);
}

T_TEST(iomap_split_to_max_size)
{
    struct t_machine *t = core_machine();
    struct probe p;

    probe_init(&p, "bytes", 8, 1, 1, 0, 0);
    memcpy(p.regs, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    T_EQ(iomap_add(t->dm->pio, &p.region, 0x300), 0);
    T_EQ(t_inl(t, 0x300), 0x44332211);
    T_EQ(p.nlog, 4);
    for (unsigned int i = 0; i < 4; i++) {
        T_EQ(p.log[i].kind, 'r');
        T_EQ(p.log[i].off, i);
        T_EQ(p.log[i].size, 1);
    }
    t_outw(t, 0x306, 0xbeef);
    T_EQ(p.log[4].off, 6);
    T_EQ(p.log[4].val, 0xef);
    T_EQ(p.log[5].off, 7);
    T_EQ(p.log[5].val, 0xbe);
    t_machine_free(t);
}

T_TEST(iomap_widen_narrow_reads_drop_narrow_writes)
{
    struct t_machine *t = core_machine();
    struct probe p;

    probe_init(&p, "dwords", 8, 4, 4, 0, 0);
    memcpy(p.regs, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xf0000000), 0);
    T_EQ(t_readb(t, 0xf0000002), 0x33);
    T_EQ(p.log[0].off, 0);
    T_EQ(p.log[0].size, 4);
    T_EQ(t_readw(t, 0xf0000006), 0x8877);
    T_EQ(p.log[1].off, 4);
    t_writeb(t, 0xf0000001, 0xaa);
    T_EQ(p.nlog, 2);                                /* no write reached it */
    T_EQ(iomap_stats(t->dm->mmio)->dropped_writes, 1);
    T_EQ(t_readq(t, 0xf0000000), 0x8877665544332211ull);  /* two dwords */
    T_EQ(p.nlog, 4);
    t_machine_free(t);
}

T_TEST(iomap_unaligned_access_split_naturally)
{
    struct t_machine *t = core_machine();
    struct probe p;

    probe_init(&p, "aligned", 16, 1, 4, 0, 0);
    T_EQ(iomap_add(t->dm->pio, &p.region, 0x400), 0);
    t_outl(t, 0x401, 0x44332211);
    T_EQ(p.nlog, 3);
    T_EQ(p.log[0].off, 1);
    T_EQ(p.log[0].size, 1);
    T_EQ(p.log[1].off, 2);
    T_EQ(p.log[1].size, 2);
    T_EQ(p.log[2].off, 4);
    T_EQ(p.log[2].size, 1);
    T_EQ(t_inl(t, 0x401), 0x44332211);
    t_machine_free(t);
}

T_TEST(iomap_unaligned_ok_passes_through)
{
    struct t_machine *t = core_machine();
    struct probe p;

    probe_init(&p, "loose", 16, 1, 4, 1, 0);
    T_EQ(iomap_add(t->dm->pio, &p.region, 0x400), 0);
    t_outl(t, 0x401, 0x44332211);
    T_EQ(p.nlog, 1);
    T_EQ(p.log[0].off, 1);
    T_EQ(p.log[0].size, 4);
    t_machine_free(t);
}

T_TEST(iomap_access_straddling_region_end)
{
    struct t_machine *t = core_machine();
    struct probe p;

    probe_init(&p, "short", 2, 1, 2, 0, 0);
    p.regs[0] = 0x34;
    p.regs[1] = 0x12;
    T_EQ(iomap_add(t->dm->pio, &p.region, 0x500), 0);
    /* Low half from the device, high half unclaimed. */
    T_EQ(t_inl(t, 0x500), 0xffff1234);
    T_EQ(p.nlog, 1);
    T_EQ(iomap_stats(t->dm->pio)->unclaimed_reads, 1);
    /* And the other way round: the access starts in unclaimed space. */
    T_EQ(t_inw(t, 0x4ff), 0x34ff);
    t_machine_free(t);
}

T_TEST(iomap_access_spanning_two_regions)
{
    struct t_machine *t = core_machine();
    struct probe a, b;

    probe_init(&a, "a", 2, 1, 4, 0, 0);
    probe_init(&b, "b", 2, 1, 4, 0, 0);
    memcpy(a.regs, "\x11\x22", 2);
    memcpy(b.regs, "\x33\x44", 2);
    T_EQ(iomap_add(t->dm->pio, &a.region, 0x600), 0);
    T_EQ(iomap_add(t->dm->pio, &b.region, 0x602), 0);
    T_EQ(t_inl(t, 0x600), 0x44332211);
    T_EQ(a.nlog, 1);
    T_EQ(b.nlog, 1);
    t_machine_free(t);
}

T_TEST(iomap_move_and_del_update_routing)
{
    struct t_machine *t = core_machine();
    struct probe p, q;

    probe_init(&p, "bar", 0x1000, 4, 4, 0, 0);
    probe_init(&q, "other", 0x1000, 4, 4, 0, 0);
    p.regs[0] = 0x5a;
    T_EQ(iomap_add(t->dm->mmio, &p.region, 0xe0000000), 0);
    T_EQ(iomap_add(t->dm->mmio, &q.region, 0xe0002000), 0);
    t_hv_log_clear(t);
    T_EQ(iomap_move(&p.region, 0xe0010000), 0);
    T_ASSERT(strstr(t_hv_log(t), "unmap_io mmio 0xe0000000-0xe0000fff\n"
                    "map_io mmio 0xe0010000-0xe0010fff\n"));
    T_EQ(t_readl(t, 0xe0000000), 0xffffffff);
    T_EQ(t_readl(t, 0xe0010000), 0x5a);
    /* A move onto another region fails and leaves it where it was. */
    T_EQ(iomap_move(&p.region, 0xe0002800), -EEXIST);
    T_EQ(t_readl(t, 0xe0010000), 0x5a);
    iomap_del(&p.region);
    T_EQ(t_readl(t, 0xe0010000), 0xffffffff);
    T_EQ(t_hv_count(t, "unmap_io mmio 0xe0010000"), 1);
    t_machine_free(t);
}

T_TEST(iomap_ram_region_dirty_tracking)
{
    struct t_machine *t = core_machine();
    struct iomap_region vram;
    uint8_t *mem = g_malloc0(64 * 1024);
    unsigned long bm[1] = { 0 };

    iomap_region_init_ram(&vram, "vram", 64 * 1024, mem);
    T_EQ(iomap_add(t->dm->mmio, &vram, 0xa0000), 0);
    t_writel(t, 0xa0000 + 0x1ffe, 0xaabbccdd);      /* pages 1 and 2 */
    t_writeb(t, 0xa0000 + 0xf000, 7);               /* page 15 */
    T_EQ(mem[0x1ffe], 0xdd);
    T_EQ(mem[0x2001], 0xaa);
    T_EQ(t_readl(t, 0xa0000 + 0x1ffe), 0xaabbccdd);
    T_EQ(iomap_ram_sync_dirty(&vram, bm), 3);
    T_EQ(bm[0], (1ul << 1) | (1ul << 2) | (1ul << 15));
    T_EQ(iomap_ram_sync_dirty(&vram, bm), 0);       /* cleared */
    T_EQ(bm[0], 0);
    iomap_region_destroy(&vram);
    g_free(mem);
    t_machine_free(t);
}

T_TEST(iomap_rep_ops_take_whole_batch)
{
    struct t_machine *t = core_machine();
    struct probe fifo, plain;
    uint16_t words[8];

    probe_init(&fifo, "fifo", 8, 1, 4, 0, 1);
    probe_init(&plain, "plain", 8, 1, 4, 0, 0);
    T_EQ(iomap_add(t->dm->pio, &fifo.region, 0x1f0), 0);
    T_EQ(iomap_add(t->dm->pio, &plain.region, 0x170), 0);
    fifo.fifo_next = 100;
    iomap_read_rep(t->dm->pio, 0x1f0, 2, words, 8);
    T_EQ(fifo.nlog, 1);
    T_EQ(fifo.log[0].kind, 'R');
    T_EQ(fifo.log[0].val, 8);
    T_EQ(words[0], 100);
    T_EQ(words[7], 107);
    /* Without string ops the core falls back to one access per element. */
    iomap_write_rep(t->dm->pio, 0x170, 2, words, 8);
    T_EQ(plain.nlog, 8);
    T_EQ(plain.log[7].val, 107);
    t_machine_free(t);
}
