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
static uint32_t fz_nic;         /* the e1000's register BAR */
static uint32_t fz_lfb;         /* the VGA's frame buffer BAR */

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

/* Linux e1000_configure_tx/rx: rings, a frame out, a frame in. */
static void
seed_e1000(GByteArray *s)
{
    uint32_t txd[4] = { 0x5000, 0, 60 | 0x0b000000u, 0 };
    uint32_t rxd[4] = { 0x7000, 0, 0, 0 };
    static const uint8_t frame[64] = { 0x00, 0x16, 0x3e, 0, 0, 1,
                                       0x02, 0, 0, 0, 0, 2, 0x08, 0x00 };
    static const uint32_t regs[][2] = {
        { 0x0000, 0x04000000 }, { 0x00d0, 0x9d }, { 0x3800, 0x4000 },
        { 0x3804, 0 }, { 0x3808, 128 }, { 0x3810, 0 }, { 0x3818, 0 },
        { 0x0400, 0x010400fa }, { 0x2800, 0x6000 }, { 0x2804, 0 },
        { 0x2808, 128 }, { 0x2810, 0 }, { 0x2818, 7 },
        { 0x0100, 0x0400801a }, { 0x3818, 1 },
    };

    fuzz_enc_ram(s, 0x4000, txd, sizeof(txd));
    fuzz_enc_ram(s, 0x6000, rxd, sizeof(rxd));
    for (unsigned int i = 0; i < G_N_ELEMENTS(regs); i++) {
        fuzz_enc_mmio_w(s, fz_nic + regs[i][0], 4, regs[i][1]);
    }
    fuzz_enc_settle(s);
    fuzz_enc_net_rx(s, frame, sizeof(frame));
    fuzz_enc_settle(s);
}

/* A VBE mode through the Bochs ports, pixels, and a legacy mode 12h. */
static void
seed_vga(GByteArray *s)
{
    static const uint16_t dispi[][2] = {
        { 4, 0 }, { 1, 640 }, { 2, 480 }, { 3, 32 }, { 4, 0x41 },
    };

    for (unsigned int i = 0; i < G_N_ELEMENTS(dispi); i++) {
        fuzz_enc_out(s, 0x1ce, 2, dispi[i][0]);
        fuzz_enc_out(s, 0x1cf, 2, dispi[i][1]);
    }
    fuzz_enc_mmio_w(s, fz_lfb, 4, 0x00ff00ff);
    fuzz_enc_mmio_w(s, fz_lfb + 640 * 4 * 100, 4, 0x12345678);
    fuzz_enc_out(s, 0x1ce, 2, 4);
    fuzz_enc_out(s, 0x1cf, 2, 0);
    fuzz_enc_out(s, 0x3c2, 1, 0xe3);
    fuzz_enc_out(s, 0x3c4, 2, 0x0f02);
    fuzz_enc_out(s, 0x3d4, 2, 0x0011);
    fuzz_enc_out(s, 0x3ce, 2, 0x0205);
    fuzz_enc_in(s, 0x3da, 1);
    fuzz_enc_out(s, 0x3c0, 1, 0x30);
    fuzz_enc_out(s, 0x3c0, 1, 0x01);
    fuzz_enc_out(s, 0x3c8, 1, 0x00);
    fuzz_enc_out(s, 0x3c9, 1, 0x3f);
    fuzz_enc_mmio_w(s, 0xa0000, 1, 0xaa);
}

/* fw_cfg: signature and file directory by port, then a DMA read. */
static void
seed_fw_cfg(GByteArray *s)
{
    /* FWCfgDmaAccess, big endian: control (select 0x19, SELECT|READ),
     * length, address. */
    static const uint8_t dma[16] = { 0x00, 0x19, 0x00, 0x0a, 0, 0, 0x01, 0,
                                     0, 0, 0, 0, 0, 0, 0x90, 0x00 };

    fuzz_enc_out(s, 0x510, 2, 0x0000);
    for (unsigned int i = 0; i < 4; i++) {
        fuzz_enc_in(s, 0x511, 1);
    }
    fuzz_enc_out(s, 0x510, 2, 0x0019);
    fuzz_enc_ins(s, 0x511, 1, 0x8000, 64);
    fuzz_enc_ram(s, 0x8800, dma, sizeof(dma));
    fuzz_enc_out(s, 0x514, 4, 0);
    fuzz_enc_out(s, 0x518, 4, 0x00880000);       /* 0x8800, big endian */
    fuzz_enc_settle(s);
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
    for (unsigned int devfn = 0; devfn < 256; devfn++) {
        uint32_t id = t_pcicfg_read(t, devfn, 0, 4);

        if (id == 0x100e8086) {
            fz_nic = t_pcicfg_read(t, devfn, 0x10, 4) & ~0xfu;
        } else if (id == 0x11111234) {
            fz_lfb = t_pcicfg_read(t, devfn, 0x10, 4) & ~0xfu;
        }
    }
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
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_e1000(s);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_vga(s);
    g_ptr_array_add(seeds, s = g_byte_array_new());
    seed_fw_cfg(s);
    for (guint32 i = 1; i <= 3; i++) {
        g_ptr_array_add(seeds, s = g_byte_array_new());
        seed_random(s, i);
    }
}
