/*
 * Seeds for the guest-facing targets: the register sequences real drivers
 * use (SeaBIOS and Linux for IDE and ATAPI, 8250 and i8042 drivers,
 * hvmloader's PCI and ACPI set-up), encoded as fuzz_guest_ops() programs,
 * plus pseudo-random programs. Written at build time, never committed.
 */
#include "fuzz/fuzz.h"

#include "tests/harness.h"

#define FZ_PRD      0x1000u
#define FZ_BUF      0x2000u
#define FZ_CDB      0x3000u

static uint16_t fz_bm;          /* the IDE bus master's I/O BAR */

static void
enc_outs(GByteArray *s, uint16_t port, unsigned int size, uint32_t gpa,
         uint16_t count)
{
    /* FZ_OUTS follows FZ_INS in the op table: same operands. */
    fuzz_enc_ins(s, port, size, gpa, count);
    s->data[s->len - 11] += 1;
}

static void
seed_ide_pio(GByteArray *s)
{
    fuzz_enc_out(s, 0x1f6, 1, 0xa0);
    fuzz_enc_out(s, 0x1f7, 1, 0xec);                 /* IDENTIFY DEVICE */
    fuzz_enc_in(s, 0x3f6, 1);
    fuzz_enc_ins(s, 0x1f0, 2, FZ_BUF, 256);
    fuzz_enc_out(s, 0x1f6, 1, 0xe0);
    fuzz_enc_out(s, 0x1f2, 1, 2);
    fuzz_enc_out(s, 0x1f3, 1, 3);
    fuzz_enc_out(s, 0x1f7, 1, 0x20);                 /* READ SECTORS */
    fuzz_enc_settle(s);
    fuzz_enc_ins(s, 0x1f0, 2, FZ_BUF, 256);
    fuzz_enc_settle(s);
    fuzz_enc_ins(s, 0x1f0, 2, FZ_BUF, 256);
    fuzz_enc_out(s, 0x1f2, 1, 1);
    fuzz_enc_out(s, 0x1f7, 1, 0x30);                 /* WRITE SECTORS */
    enc_outs(s, 0x1f0, 2, FZ_BUF, 256);
    fuzz_enc_settle(s);
    fuzz_enc_in(s, 0x1f7, 1);
}

static void
seed_ide_dma(GByteArray *s, uint8_t cmd, uint8_t bm_dir)
{
    uint32_t prd[2] = { FZ_BUF, 0x80000000u | 1024 };

    fuzz_enc_ram(s, FZ_PRD, prd, sizeof(prd));
    fuzz_enc_out(s, fz_bm + 4, 4, FZ_PRD);
    fuzz_enc_out(s, fz_bm, 1, bm_dir);
    fuzz_enc_out(s, fz_bm + 2, 1, 0x06);
    fuzz_enc_out(s, 0x1f6, 1, 0xe0);
    fuzz_enc_out(s, 0x1f2, 1, 2);
    fuzz_enc_out(s, 0x1f3, 1, 5);
    fuzz_enc_out(s, 0x1f7, 1, cmd);
    fuzz_enc_out(s, fz_bm, 1, bm_dir | 1);
    fuzz_enc_settle(s);
    fuzz_enc_in(s, fz_bm + 2, 1);
    fuzz_enc_out(s, fz_bm, 1, bm_dir);
    fuzz_enc_in(s, 0x1f7, 1);
}

/* A PACKET command on hdc: by PIO (dma 0) or by the bus master. */
static void
seed_atapi(GByteArray *s, const uint8_t *cdb, bool dma)
{
    uint32_t prd[2] = { FZ_BUF, 0x80000000u | 4096 };

    fuzz_enc_ram(s, FZ_CDB, cdb, 12);
    if (dma) {
        fuzz_enc_ram(s, FZ_PRD + 64, prd, sizeof(prd));
        fuzz_enc_out(s, fz_bm + 12, 4, FZ_PRD + 64);
        fuzz_enc_out(s, fz_bm + 8, 1, 0x08);
    }
    fuzz_enc_out(s, 0x176, 1, 0xa0);
    fuzz_enc_out(s, 0x171, 1, dma);
    fuzz_enc_out(s, 0x174, 1, 0x00);
    fuzz_enc_out(s, 0x175, 1, 0x08);
    fuzz_enc_out(s, 0x177, 1, 0xa0);                 /* PACKET */
    enc_outs(s, 0x170, 2, FZ_CDB, 6);
    if (dma) {
        fuzz_enc_out(s, fz_bm + 8, 1, 0x09);
    }
    fuzz_enc_settle(s);
    fuzz_enc_in(s, 0x172, 1);
    fuzz_enc_in(s, 0x174, 1);
    fuzz_enc_ins(s, 0x170, 2, FZ_BUF, 1024);
    fuzz_enc_in(s, 0x177, 1);
}

static void
seed_uart(GByteArray *s)
{
    static const uint8_t init[][2] = {
        { 3, 0x80 }, { 0, 1 }, { 1, 0 }, { 3, 3 }, { 2, 7 }, { 4, 0x0b },
        { 1, 0x0f }, { 0, 'h' }, { 0, 'v' }, { 4, 0x1b }, { 0, 'x' },
    };

    for (unsigned int i = 0; i < G_N_ELEMENTS(init); i++) {
        fuzz_enc_out(s, 0x3f8 + init[i][0], 1, init[i][1]);
    }
    for (unsigned int r = 0; r < 8; r++) {
        fuzz_enc_in(s, 0x3f8 + r, 1);
    }
}

static void
seed_i8042(GByteArray *s)
{
    static const uint8_t seq[][2] = {
        { 0x64, 0xaa }, { 0x64, 0x20 }, { 0x64, 0x60 }, { 0x60, 0x47 },
        { 0x60, 0xff }, { 0x60, 0xf2 }, { 0x64, 0xd4 }, { 0x60, 0xf4 },
        { 0x64, 0xd4 }, { 0x60, 0xf3 }, { 0x64, 0xd4 }, { 0x60, 200 },
        { 0x60, 0xed }, { 0x60, 0x07 },
    };

    for (unsigned int i = 0; i < G_N_ELEMENTS(seq); i++) {
        fuzz_enc_out(s, seq[i][0], 1, seq[i][1]);
        fuzz_enc_in(s, 0x64, 1);
        fuzz_enc_in(s, 0x60, 1);
    }
}

static void
seed_platform(GByteArray *s)
{
    fuzz_enc_out(s, 0x70, 1, 0x0f);
    fuzz_enc_in(s, 0x71, 1);
    fuzz_enc_out(s, 0x70, 1, 0x34);
    fuzz_enc_out(s, 0x71, 1, 0x12);
    fuzz_enc_out(s, 0x92, 1, 0x02);
    fuzz_enc_in(s, 0x10, 2);                         /* Xen unplug magic */
    fuzz_enc_out(s, 0x12, 2, 1);
    fuzz_enc_out(s, 0x10, 2, 0x0002);                /* unplug NICs */
    fuzz_enc_cfg_write(s, 0x0b, 0x40, 4, 0xb001);    /* PMBA */
    fuzz_enc_cfg_write(s, 0x0b, 0x80, 1, 0x01);
    fuzz_enc_out(s, 0xb2, 1, 0xf0);                  /* ACPI enable */
    fuzz_enc_in(s, 0xb004, 2);
    fuzz_enc_out(s, 0xafe2, 1, 0x02);
    for (unsigned int devfn = 0; devfn < 0x20; devfn++) {
        fuzz_enc_out(s, 0xcf8, 4, 0x80000000u | devfn << 8);
        fuzz_enc_in(s, 0xcfc, 4);
    }
}

static void
seed_random(GByteArray *s, guint32 seed)
{
    GRand *r = g_rand_new_with_seed(seed);

    for (unsigned int i = 0; i < 512; i++) {
        uint8_t b = (uint8_t)g_rand_int(r);

        g_byte_array_append(s, &b, 1);
    }
    g_rand_free(r);
}

void
fuzz_enc_driver_seeds(GPtrArray *seeds)
{
    static const uint8_t inquiry[12] = { 0x12, 0, 0, 0, 36 };
    static const uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 2 };
    static const uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24 };
    static const uint8_t sense[12] = { 0x03, 0, 0, 0, 18 };
    struct t_machine *t = fuzz_machine();
    GByteArray *s;

    fz_bm = (uint16_t)(t_pcicfg_read(t, 0x09, 0x20, 4) & ~3u);
    t_machine_free(t);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_ide_pio(s);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_ide_dma(s, 0xc8, 0x08);
    seed_ide_dma(s, 0xca, 0x00);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_atapi(s, inquiry, false);
    seed_atapi(s, sense, false);
    seed_atapi(s, toc, false);
    seed_atapi(s, read10, false);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_atapi(s, read10, true);
    seed_atapi(s, inquiry, true);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_uart(s);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_i8042(s);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_platform(s);
    for (guint32 i = 1; i <= 3; i++) {
        g_ptr_array_add(seeds, s = g_byte_array_new());
        seed_random(s, i);
    }
}
