/*
 * PIIX3 IDE and ATA disks through the machine harness, driven the way
 * SeaBIOS (src/hw/ata.c: send_cmd, ata_pio_transfer, ata_try_dma,
 * ata_dma_transfer, ata_reset) and Linux (ata_piix, libata-sff:
 * ata_sff_exec_command, ata_bmdma_setup/start/stop, ata_sff_softreset) do.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "block/block.h" /* struct blk_stats */
#include "dm/dev.h"
#include "dm/gmem.h"  /* gm_buckets_for_ram */
#include "dm/log.h"
#include "hw/ide/ide.h"
#include "tests/ide-util.h"

#define DISK_SECTORS    4096            /* 2 MiB test disk */

struct disk_t {
    struct t_machine *t;
    char *dir;
    char *path;
    char *opt;
};

static struct disk_t
disk_new(uint64_t size, uint64_t pattern)
{
    struct disk_t d;
    const char *argv[3] = { "-drive", NULL, NULL };

    d.dir = ide_tmpdir();
    d.path = ide_make_image(d.dir, "disk.img", size, pattern);
    d.opt = g_strdup_printf("file=%s,if=ide,index=0,media=disk,format=raw",
                            d.path);
    argv[1] = d.opt;
    d.t = ide_machine(argv);
    return d;
}

static void
disk_free(struct disk_t *d)
{
    t_machine_free(d->t);
    g_free(d->path);
    g_free(d->opt);
    ide_rmtree(d->dir);
}

static void
expect_sector(const struct disk_t *d, uint64_t lba, const uint8_t *got)
{
    uint8_t want[512];

    ide_file_read(d->path, lba * 512, want, sizeof(want));
    T_ASSERT(memcmp(want, got, 512) == 0);
}

/* IDENTIFY word w from a 512-byte block. */
static uint16_t
idw(const uint8_t *id, unsigned int w)
{
    return (uint16_t)(id[2 * w] | id[2 * w + 1] << 8);
}

static void
identify(struct t_machine *t, uint8_t *id)
{
    ide_send(t, IDE_PRI, 0, 0xec, 0, 0, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, IDE_PRI, 2, G_SCRATCH, 256, false);
    t_memread(t, G_SCRATCH, id, 512);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
}

T_TEST(ide_pci_function)
{
    struct t_opts o = { 0 };
    struct t_machine *t = t_machine_new(&o);

    T_EQ(t_cfg_read(t, IDE_BDF, 0x00, 4), 0x70108086);
    T_EQ(t_cfg_read(t, IDE_BDF, 0x08, 4) >> 8, 0x010180);
    T_EQ(t_cfg_read(t, IDE_BDF, 0x20, 4), 0x00000001);     /* I/O BAR */
    T_EQ(t_cfg_read(t, IDE_BDF, 0x40, 2), 0);
    /* Not decoded before hvmloader enables it (PIIX3 IDETIM.IDE). */
    T_EQ(t_inb(t, IDE_PRI + R_STAT), 0xff);
    ide_program(t);
    T_EQ(t_cfg_read(t, IDE_BDF, 0x40, 2), 0x8000);
    /* Two empty channels read 0 (as QEMU). */
    T_EQ(t_inb(t, IDE_PRI + R_STAT), 0);
    T_EQ(t_inb(t, IDE_SEC + R_STAT), 0);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0);
    t_machine_free(t);
}

T_TEST(ide_identify_seabios)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 0);
    struct t_machine *t = d.t;
    uint8_t id[512], sum = 0;
    char model[41];

    /* Signature after reset: ATA disk (ATA6 9.12). */
    T_EQ(t_inb(t, IDE_PRI + R_NSECT), 1);
    T_EQ(t_inb(t, IDE_PRI + R_LBAM), 0);
    T_EQ(t_inb(t, IDE_PRI + R_LBAH), 0);
    t_outb(t, IDE_PRI_CTL, 0x08);               /* HD15, interrupts on */
    ide_send(t, IDE_PRI, 0, 0xec, 0, 0, false);
    T_EQ(t_isa_irq(t, 14), 1);
    /* Alternate status leaves INTRQ alone; Status clears it. */
    T_EQ(t_inb(t, IDE_PRI_CTL), S_DRDY | S_DSC | S_DRQ);
    T_EQ(t_isa_irq(t, 14), 1);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_DRQ);
    T_EQ(t_isa_irq(t, 14), 0);
    t_ins(t, IDE_PRI, 2, G_SCRATCH, 256, false);
    t_memread(t, G_SCRATCH, id, sizeof(id));
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    T_EQ(t_isa_irq(t, 14), 0);                  /* none after the last */
    for (unsigned int i = 0; i < 20; i++) {
        model[2 * i] = (char)id[54 + 2 * i + 1];
        model[2 * i + 1] = (char)id[54 + 2 * i];
    }
    model[40] = 0;
    T_ASSERT(strncmp(model, "HVMDM HARDDISK    ", 18) == 0);
    T_EQ(idw(id, 60) | (uint32_t)idw(id, 61) << 16, DISK_SECTORS);
    T_EQ(idw(id, 100), DISK_SECTORS);
    T_EQ(idw(id, 83) & 0x3400, 0x3400);         /* LBA48, FLUSH, EXT */
    T_EQ(idw(id, 82) & 0x0020, 0x0020);         /* write cache */
    T_EQ(idw(id, 85) & 0x0020, 0x0020);         /* ... enabled */
    T_EQ(idw(id, 49) & 0x0300, 0x0300);         /* LBA, DMA */
    T_EQ(idw(id, 63) & 7, 7);
    T_EQ(idw(id, 88) & 0x3f, 0x3f);
    T_EQ(idw(id, 47) & 0xff, 16);
    T_EQ(id[510], 0xa5);
    for (unsigned int i = 0; i < 512; i++) {
        sum += id[i];
    }
    T_EQ(sum, 0);
    /* Serial from the drive index. */
    T_EQ(id[20], 'V');
    T_EQ(id[21], 'H');
    disk_free(&d);
}

T_TEST(ide_pio_read_single_and_multiple)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 64);
    struct t_machine *t = d.t;
    uint8_t buf[512];

    t_outb(t, IDE_PRI_CTL, 0x0a);               /* SeaBIOS: nIEN */
    ide_send(t, IDE_PRI, 0, 0x20, 5, 3, false); /* READ SECTORS */
    for (unsigned int s = 0; s < 3; s++) {
        T_EQ(ide_wait(t, IDE_PRI) & (S_BSY | S_DRQ | S_ERR), S_DRQ);
        t_ins(t, IDE_PRI, 2, G_SCRATCH, 256, false);
        t_memread(t, G_SCRATCH, buf, sizeof(buf));
        expect_sector(&d, 5 + s, buf);
    }
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    T_EQ(t_isa_irq(t, 14), 0);                  /* nIEN */

    /* SET MULTIPLE 4, READ MULTIPLE 10: DRQ blocks of 4, 4, 2 with IRQs. */
    t_outb(t, IDE_PRI_CTL, 0x08);
    ide_send(t, IDE_PRI, 0, 0xc6, 0, 4, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    ide_send(t, IDE_PRI, 0, 0xc4, 20, 10, false);
    for (unsigned int blk = 0, s = 20; blk < 3; blk++) {
        unsigned int n = blk < 2 ? 4 : 2;

        t_settle(t);
        T_EQ(t_isa_irq(t, 14), 1);
        T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_DRQ);
        /* 32-bit string reads as with CONFIG_ATA_PIO32. */
        t_ins(t, IDE_PRI, 4, G_SCRATCH, n * 128, false);
        for (unsigned int i = 0; i < n; i++, s++) {
            t_memread(t, G_SCRATCH + i * 512, buf, sizeof(buf));
            expect_sector(&d, s, buf);
        }
    }
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    /* A multiple command without SET MULTIPLE 0 aborts. */
    ide_send(t, IDE_PRI, 0, 0xc6, 0, 0, false);
    ide_send(t, IDE_PRI, 0, 0xc4, 0, 1, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x04);
    disk_free(&d);
}

T_TEST(ide_pio_write_single_and_multiple)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 0);
    struct t_machine *t = d.t;
    uint8_t data[8 * 512], back[8 * 512];

    for (unsigned int i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 13 + 1);
    }
    t_memwrite(t, G_SCRATCH, data, sizeof(data));
    t_outb(t, IDE_PRI_CTL, 0x08);
    /* WRITE SECTORS 2 at 100: DRQ without IRQ, then IRQ per block. */
    ide_send(t, IDE_PRI, 0, 0x30, 100, 2, false);
    T_EQ(t_inb(t, IDE_PRI_CTL), S_DRDY | S_DSC | S_DRQ);
    T_EQ(t_isa_irq(t, 14), 0);
    t_outs(t, IDE_PRI, 2, G_SCRATCH, 256, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    T_EQ(t_isa_irq(t, 14), 1);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_DRQ);
    t_outs(t, IDE_PRI, 2, G_SCRATCH + 512, 256, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC);
    T_EQ(t_isa_irq(t, 14), 1);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    ide_file_read(d.path, 100 * 512, back, 1024);
    T_ASSERT(memcmp(back, data, 1024) == 0);

    /* WRITE MULTIPLE EXT, 8 sectors in blocks of 4. */
    ide_send(t, IDE_PRI, 0, 0xc6, 0, 4, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    ide_send(t, IDE_PRI, 0, 0x39, 200, 8, true);
    t_outs(t, IDE_PRI, 2, G_SCRATCH, 1024, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_outs(t, IDE_PRI, 2, G_SCRATCH + 2048, 1024, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC);
    ide_file_read(d.path, 200 * 512, back, sizeof(back));
    T_ASSERT(memcmp(back, data, sizeof(back)) == 0);
    disk_free(&d);
}

/* DMA read of 9 sectors through PRDs of odd sizes (1030, 2000, rest). */
T_TEST(ide_dma_read_write_several_prds)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 256);
    struct t_machine *t = d.t;
    static const uint32_t sizes[3] = { 1030, 2000, 9 * 512 - 3030 };
    static const uint32_t addrs[3] = { 0x200000, 0x3ff000, 0x500002 };
    uint8_t got[9 * 512], want[9 * 512];
    uint32_t off = 0;

    for (unsigned int i = 0; i < 3; i++) {
        ide_prd(t, i, addrs[i], sizes[i], i == 2);
    }
    t_outb(t, IDE_PRI_CTL, 0x08);
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 0, 0xc8, 30, 9, false);    /* READ DMA */
    T_EQ(t_inb(t, IDE_PRI_CTL) & S_BSY, 0);
    ide_bm_start(t, 0, true);
    t_settle(t);
    /* Exact table: interrupt set, active clear (BMIDE 3). */
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    T_EQ(t_isa_irq(t, 14), 1);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    T_EQ(t_isa_irq(t, 14), 0);
    for (unsigned int i = 0; i < 3; i++) {
        t_memread(t, addrs[i], got + off, sizes[i]);
        off += sizes[i];
    }
    ide_file_read(d.path, 30 * 512, want, sizeof(want));
    T_ASSERT(memcmp(got, want, sizeof(want)) == 0);

    /* WRITE DMA EXT of the same pieces to sector 1000. */
    ide_bm_setup(t, 0, false);
    ide_send(t, IDE_PRI, 0, 0x35, 1000, 9, true);
    ide_bm_start(t, 0, false);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    ide_file_read(d.path, 1000 * 512, want, sizeof(want));
    T_ASSERT(memcmp(got, want, sizeof(want)) == 0);
    disk_free(&d);
}

/* A count of 0 is 64 KiB; a table longer than the transfer stays active. */
T_TEST(ide_dma_zero_count_prd_and_long_table)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 256);
    struct t_machine *t = d.t;
    uint8_t *got = g_malloc(65536), *want = g_malloc(65536);

    ide_prd(t, 0, G_BUF, 0, true);
    ide_bm_setup(t, 0, true);
    ide_bm_start(t, 0, true);                   /* start before command */
    ide_send(t, IDE_PRI, 0, 0xc8, 0, 128, false);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    ide_bm_stop(t, 0);
    t_memread(t, G_BUF, got, 65536);
    ide_file_read(d.path, 0, want, 65536);
    T_ASSERT(memcmp(got, want, 65536) == 0);

    /* 64 KiB table, 1-sector transfer: interrupt and active both set. */
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 0, 0xc8, 3, 1, false);
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x05);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    g_free(got);
    g_free(want);
    disk_free(&d);
}

/* LBA48 past 128 GiB on a sparse 200 GiB image. */
T_TEST(ide_lba48_beyond_128g)
{
    uint64_t size = 200ull << 30, lba = 300000000ull;  /* > 2^28 */
    struct disk_t d = disk_new(size, 0);
    struct t_machine *t = d.t;
    uint8_t sec[1024], id[512], got[1024];

    for (unsigned int i = 0; i < sizeof(sec); i++) {
        sec[i] = (uint8_t)(i ^ 0x5a);
    }
    ide_file_write(d.path, lba * 512, sec, sizeof(sec));
    identify(t, id);
    T_EQ(idw(id, 60) | (uint32_t)idw(id, 61) << 16, 0x0fffffff);
    T_EQ(idw(id, 100) | (uint64_t)idw(id, 101) << 16 |
         (uint64_t)idw(id, 102) << 32, size / 512);
    /* READ SECTORS EXT, 2 sectors. */
    ide_send(t, IDE_PRI, 0, 0x24, lba, 2, true);
    for (unsigned int s = 0; s < 2; s++) {
        T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
        t_ins(t, IDE_PRI, 2, G_SCRATCH + s * 512, 256, false);
    }
    t_memread(t, G_SCRATCH, got, sizeof(got));
    T_ASSERT(memcmp(got, sec, sizeof(sec)) == 0);
    /* HOB reads back the high bytes (ATA6 7.8). */
    t_outb(t, IDE_PRI_CTL, DC_HOB);
    T_EQ(t_inb(t, IDE_PRI + R_LBAL), (uint8_t)(lba >> 24));
    t_outb(t, IDE_PRI_CTL, 0);
    T_EQ(t_inb(t, IDE_PRI + R_LBAL), (uint8_t)lba);
    /* READ DMA EXT of the same sectors. */
    ide_prd(t, 0, G_BUF, 1024, true);
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 0, 0x25, lba, 2, true);
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    ide_bm_stop(t, 0);
    t_memread(t, G_BUF, got, sizeof(got));
    T_ASSERT(memcmp(got, sec, sizeof(sec)) == 0);
    /* The last sector is reachable, one past is not. */
    ide_send(t, IDE_PRI, 0, 0x24, size / 512 - 1, 1, true);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, IDE_PRI, 2, G_SCRATCH, 256, false);
    ide_send(t, IDE_PRI, 0, 0x24, size / 512, 1, true);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_ERR);
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x10);
    disk_free(&d);
}

T_TEST(ide_flush_and_write_cache)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 0);
    struct t_machine *t = d.t;
    uint8_t id[512];

    t_outb(t, IDE_PRI_CTL, 0x08);
    ide_send(t, IDE_PRI, 0, 0xe7, 0, 0, false);     /* FLUSH CACHE */
    T_EQ(t_inb(t, IDE_PRI_CTL) & S_BSY, S_BSY);
    T_EQ(t_isa_irq(t, 14), 0);
    t_settle(t);
    T_EQ(t_isa_irq(t, 14), 1);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    ide_send(t, IDE_PRI, 0, 0xea, 0, 0, false);     /* FLUSH CACHE EXT */
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC);
    /* SET FEATURES 82h: write cache off, IDENTIFY word 85 follows. */
    t_outb(t, IDE_PRI + R_FEAT, 0x82);
    t_outb(t, IDE_PRI + R_CMD, 0xef);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    identify(t, id);
    T_EQ(idw(id, 85) & 0x20, 0);
    t_outb(t, IDE_PRI + R_FEAT, 0x02);
    t_outb(t, IDE_PRI + R_CMD, 0xef);
    identify(t, id);
    T_EQ(idw(id, 85) & 0x20, 0x20);
    /* Transfer mode UDMA 2 shows in word 88; UDMA 7 is refused. */
    t_outb(t, IDE_PRI + R_FEAT, 0x03);
    t_outb(t, IDE_PRI + R_NSECT, 0x42);
    t_outb(t, IDE_PRI + R_CMD, 0xef);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    identify(t, id);
    T_EQ(idw(id, 88), 0x043f);
    t_outb(t, IDE_PRI + R_FEAT, 0x03);
    t_outb(t, IDE_PRI + R_NSECT, 0x47);
    t_outb(t, IDE_PRI + R_CMD, 0xef);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x04);
    disk_free(&d);
}

T_TEST(ide_out_of_range_idnf)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 64);
    struct t_machine *t = d.t;
    uint8_t buf[512];

    t_outb(t, IDE_PRI_CTL, 0x08);
    ide_send(t, IDE_PRI, 0, 0x20, DISK_SECTORS - 1, 2, false);
    T_EQ(t_isa_irq(t, 14), 1);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x10);
    /* LBA28 with the top nibble in the device register. */
    ide_send(t, IDE_PRI, 0, 0xc8, 0x0fffff00, 1, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    ide_send(t, IDE_PRI, 0, 0x40, DISK_SECTORS, 1, false); /* VERIFY */
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    ide_send(t, IDE_PRI, 0, 0x40, 0, 16, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    /* Still works. */
    ide_send(t, IDE_PRI, 0, 0x20, 7, 1, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, IDE_PRI, 2, G_SCRATCH, 256, false);
    t_memread(t, G_SCRATCH, buf, sizeof(buf));
    expect_sector(&d, 7, buf);
    disk_free(&d);
}

/* ata_reset (SeaBIOS) and ata_sff_softreset: pulse SRST mid-command. */
T_TEST(ide_srst)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 64);
    struct t_machine *t = d.t;
    uint8_t id[512];

    ide_send(t, IDE_PRI, 0, 0x20, 0, 4, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_outb(t, IDE_PRI + R_DEV, 0xb0);           /* select the slave... */
    t_outb(t, IDE_PRI_CTL, 0x08 | DC_NIEN | DC_SRST);
    T_EQ(t_inb(t, IDE_PRI_CTL), 0);             /* absent slave: 0 */
    t_outb(t, IDE_PRI + R_DEV, 0xa0);
    T_EQ(t_inb(t, IDE_PRI_CTL), S_BSY);
    t_outb(t, IDE_PRI_CTL, 0x08 | DC_NIEN);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC);
    T_EQ(t_inb(t, IDE_PRI + R_DEV) & 0x10, 0);  /* device 0 selected */
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x01);
    T_EQ(t_inb(t, IDE_PRI + R_NSECT), 1);
    T_EQ(t_inb(t, IDE_PRI + R_LBAL), 1);
    T_EQ(t_inb(t, IDE_PRI + R_LBAM), 0);
    T_EQ(t_inb(t, IDE_PRI + R_LBAH), 0);
    T_EQ(t_isa_irq(t, 14), 0);
    /* The aborted transfer is gone: no DRQ data. */
    T_EQ(t_inw(t, IDE_PRI), 0xffff);
    t_outb(t, IDE_PRI_CTL, 0x08);
    identify(t, id);
    T_EQ(idw(id, 0), 0x0040);
    disk_free(&d);
}

T_TEST(ide_interrupts_and_misc_commands)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 0);
    struct t_machine *t = d.t;

    /* nIEN masks INTRQ; the pending interrupt shows when it clears. */
    t_outb(t, IDE_PRI_CTL, 0x08 | DC_NIEN);
    ide_send(t, IDE_PRI, 0, 0xe5, 0, 0, false); /* CHECK POWER MODE */
    T_EQ(t_isa_irq(t, 14), 0);
    T_EQ(t_inb(t, IDE_PRI + R_NSECT), 0xff);
    t_outb(t, IDE_PRI_CTL, 0x08);
    T_EQ(t_isa_irq(t, 14), 1);
    /* Writing a command clears INTRQ. */
    ide_send(t, IDE_PRI, 0, 0xe0, 0, 0, false); /* STANDBY IMMEDIATE */
    T_EQ(t_isa_irq(t, 14), 1);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    ide_send(t, IDE_PRI, 0, 0xe5, 0, 0, false);
    T_EQ(t_inb(t, IDE_PRI + R_NSECT), 0x00);    /* standby */
    /* NOP and unknown commands abort. */
    ide_send(t, IDE_PRI, 0, 0x00, 0, 0, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x04);
    ide_send(t, IDE_PRI, 0, 0xf8, 0, 0, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    ide_send(t, IDE_PRI, 0, 0xa1, 0, 0, false); /* ATAPI only */
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x04);
    ide_send(t, IDE_PRI, 0, 0xc6, 0, 3, false); /* SET MULTIPLE 3 */
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    /* EXECUTE DEVICE DIAGNOSTIC: passed, signature, INTRQ. */
    ide_send(t, IDE_PRI, 0, 0x90, 0, 0, false);
    T_EQ(t_isa_irq(t, 14), 1);
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x01);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    /* Commands to the absent slave are ignored. */
    ide_send(t, IDE_PRI, 1, 0xec, 0, 0, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), 0);
    T_EQ(t_isa_irq(t, 14), 0);
    disk_free(&d);
}

/* INITIALIZE DEVICE PARAMETERS and a CHS read. */
T_TEST(ide_chs_translation)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 1200);
    struct t_machine *t = d.t;
    uint8_t buf[512];

    t_outb(t, IDE_PRI + R_DEV, 0xa0 | 15);      /* 16 heads */
    t_outb(t, IDE_PRI + R_NSECT, 63);
    t_outb(t, IDE_PRI + R_CMD, 0x91);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    /* C/H/S 1/2/3 = (1 * 16 + 2) * 63 + 2 = 1136. */
    t_outb(t, IDE_PRI + R_DEV, 0xa0 | 2);
    t_outb(t, IDE_PRI + R_NSECT, 1);
    t_outb(t, IDE_PRI + R_LBAL, 3);
    t_outb(t, IDE_PRI + R_LBAM, 1);
    t_outb(t, IDE_PRI + R_LBAH, 0);
    t_outb(t, IDE_PRI + R_CMD, 0x20);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, IDE_PRI, 2, G_SCRATCH, 256, false);
    t_memread(t, G_SCRATCH, buf, sizeof(buf));
    expect_sector(&d, 1136, buf);
    /* Sector 0 does not exist in CHS. */
    t_outb(t, IDE_PRI + R_LBAL, 0);
    t_outb(t, IDE_PRI + R_CMD, 0x20);
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x10);
    disk_free(&d);
}

/* ---- hostile input ----------------------------------------------------- */

static void
dma_read_ok(struct disk_t *d, uint64_t lba)
{
    struct t_machine *t = d->t;
    uint8_t buf[512];

    ide_prd(t, 0, G_BUF, 512, true);
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 0, 0xc8, lba, 1, false);
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    t_memread(t, G_BUF, buf, sizeof(buf));
    expect_sector(d, lba, buf);
}

T_TEST(ide_bad_prd_tables)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 64);
    struct t_machine *t = d.t;
    uint64_t errs = dm_log_guest_errors();

    t_outb(t, IDE_PRI_CTL, 0x08);
    /* 512 entries of 2 bytes and no EOT: bus error after the cap. */
    for (unsigned int i = 0; i < 600; i++) {
        ide_prd(t, i, G_BUF, 2, false);
    }
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 0, 0xc8, 0, 4, false);
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x06);     /* error + interrupt */
    T_EQ(t_isa_irq(t, 14), 1);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    T_EQ(t_inb(t, IDE_PRI + R_ERR), 0x04);
    dma_read_ok(&d, 1);

    /* Table beyond guest RAM. */
    ide_bm_setup(t, 0, true);
    t_outl(t, IDE_BM + BM_PRD, 0xf0000000);
    ide_send(t, IDE_PRI, 0, 0xc8, 0, 1, false);
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x06);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    dma_read_ok(&d, 2);

    /* Regions beyond guest RAM, both directions. */
    for (int w = 0; w < 2; w++) {
        ide_prd(t, 0, 0x7f000000, 512, true);
        ide_bm_setup(t, 0, !w);
        ide_send(t, IDE_PRI, 0, w ? 0xca : 0xc8, 0, 1, false);
        ide_bm_start(t, 0, !w);
        t_settle(t);
        T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x06);
        ide_bm_stop(t, 0);
        T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    }
    dma_read_ok(&d, 3);

    /* A short table: active and interrupt clear, no INTRQ (BMIDE 3). */
    ide_prd(t, 0, G_BUF, 512, true);
    ide_bm_setup(t, 0, true);
    t_inb(t, IDE_PRI + R_STAT);
    ide_send(t, IDE_PRI, 0, 0xc8, 0, 2, false);
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x00);
    T_EQ(t_isa_irq(t, 14), 0);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC | S_ERR);
    dma_read_ok(&d, 4);
    T_ASSERT(dm_log_guest_errors() > errs);
    disk_free(&d);
}

T_TEST(ide_commands_while_busy_and_odd_pio)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 64);
    struct t_machine *t = d.t;
    uint8_t buf[512], tail[8];

    /* A command written while BSY is ignored. */
    ide_prd(t, 0, G_BUF, 512, true);
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 0, 0xc8, 9, 1, false);
    ide_bm_start(t, 0, true);
    T_EQ(t_inb(t, IDE_PRI_CTL) & S_BSY, S_BSY);
    t_outb(t, IDE_PRI + R_CMD, 0xec);
    t_outb(t, IDE_PRI + R_CMD, 0x30);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    t_memread(t, G_BUF, buf, sizeof(buf));
    expect_sector(&d, 9, buf);

    /* Data port without DRQ reads all-ones. */
    T_EQ(t_inw(t, IDE_PRI), 0xffff);
    t_outw(t, IDE_PRI, 0x1234);                 /* dropped */

    /* 255 words then a dword across the end of the sector. */
    ide_send(t, IDE_PRI, 0, 0x20, 11, 1, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, IDE_PRI, 2, G_SCRATCH, 255, false);
    t_ins(t, IDE_PRI, 4, G_SCRATCH + 510, 1, false);
    t_memread(t, G_SCRATCH, buf, sizeof(buf));
    expect_sector(&d, 11, buf);
    t_memread(t, G_SCRATCH + 512, tail, 2);
    T_EQ(tail[0], 0xff);
    T_EQ(tail[1], 0xff);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    /* Byte-wide reads and a write of half a sector, then a reset. */
    ide_send(t, IDE_PRI, 0, 0x20, 12, 1, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    T_EQ(t_inb(t, IDE_PRI), (uint8_t)(12 * 7));
    ide_send(t, IDE_PRI, 0, 0x30, 13, 1, false);
    t_outs(t, IDE_PRI, 2, G_SCRATCH, 128, false);
    T_EQ(t_inb(t, IDE_PRI_CTL), S_DRDY | S_DSC | S_DRQ);
    t_outb(t, IDE_PRI_CTL, DC_SRST);
    t_outb(t, IDE_PRI_CTL, 0);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC);
    ide_file_read(d.path, 13 * 512, buf, sizeof(buf));
    T_EQ(buf[0], (uint8_t)(13 * 7));            /* nothing was written */
    dma_read_ok(&d, 14);
    disk_free(&d);
}

/* Save mid-transfer, load into a fresh machine, finish the transfer. */
T_TEST(ide_save_load_round_trip)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 64);
    struct t_machine *t = d.t, *t2;
    const char *argv[3] = { "-drive", d.opt, NULL };
    uint8_t *rec = NULL, *rec2 = NULL, buf[512];
    size_t len = 0, len2 = 0;

    t_outb(t, IDE_PRI_CTL, 0x08);
    ide_send(t, IDE_PRI, 0, 0x20, 20, 2, false);
    T_EQ(ide_wait(t, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, IDE_PRI, 2, G_SCRATCH, 100, false);
    T_EQ(dm_save_all(t->dm, &rec, &len), 0);
    t2 = ide_machine(argv);
    T_EQ(dm_load_all(t2->dm, rec, len), 0);
    T_EQ(dm_save_all(t2->dm, &rec2, &len2), 0);
    T_EQ(len, len2);
    T_ASSERT(memcmp(rec, rec2, len) == 0);
    T_EQ(t_isa_irq(t2, 14), 1);
    t_ins(t2, IDE_PRI, 2, G_SCRATCH + 200, 156, false);
    t_memwrite(t2, G_SCRATCH, t_ram(t) + G_SCRATCH, 200);
    T_EQ(ide_wait(t2, IDE_PRI), S_DRDY | S_DSC | S_DRQ);
    t_ins(t2, IDE_PRI, 2, G_SCRATCH + 512, 256, false);
    t_memread(t2, G_SCRATCH, buf, sizeof(buf));
    expect_sector(&d, 20, buf);
    t_memread(t2, G_SCRATCH + 512, buf, sizeof(buf));
    expect_sector(&d, 21, buf);
    g_free(rec2);
    g_free(rec);
    t_machine_free(t2);
    disk_free(&d);
}

static struct dm_dev *
find_dev(struct dm *dm, const char *name)
{
    struct dm_dev *d;

    for (d = dm->devs; d; d = d->next) {
        if (strcmp(d->ops->name, name) == 0) {
            return d;
        }
    }
    t_fail(__FILE__, __LINE__, "no device %s", name);
}

/* check() treats the record as untrusted input (rule 13). */
T_TEST(ide_state_check_rejects_bad_records)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 0);
    struct dm_dev *dev = find_dev(d.t->dm, "piix-ide");
    const struct dm_dev_ops *ops = dev->ops;
    uint8_t *rec = g_malloc0(ops->state_size);
    uint8_t *again = g_malloc0(ops->state_size);
    /* struct pci_dev_state (264), two 8-byte channel records, drive 0 */
    const size_t ch0 = 264, drv0 = 264 + 16;

    ops->save(dev->opaque, rec);
    T_EQ(ops->check(rec), 0);
    rec[ch0] = 0x01;                            /* devctl reserved bit */
    T_EQ(ops->check(rec), -EINVAL);
    rec[ch0] = 0;
    rec[ch0 + 1] = 2;                           /* selected unit */
    T_EQ(ops->check(rec), -EINVAL);
    rec[ch0 + 1] = 0;
    rec[drv0] = 7;                              /* device type */
    T_EQ(ops->check(rec), -EINVAL);
    rec[drv0] = 1;
    rec[drv0 + 1] = 4;                          /* a request in flight */
    T_EQ(ops->check(rec), -EINVAL);
    rec[drv0 + 1] = 0;
    T_EQ(ops->check(rec), 0);
    ops->load(dev->opaque, rec);
    ops->save(dev->opaque, again);
    T_ASSERT(memcmp(rec, again, ops->state_size) == 0);
    g_free(rec);
    g_free(again);
    disk_free(&d);
}

/* Xen platform unplug: the disk is written back and reads as absent. */
T_TEST(ide_platform_unplug)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 0);
    struct t_machine *t = d.t, *t2;
    const char *argv[3] = { "-drive", d.opt, NULL };
    uint8_t *rec = NULL;
    size_t len = 0;

    T_EQ(ide_unplug_disks(t->dm, true), 0);     /* keeps the master */
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    T_EQ(ide_unplug_disks(t->dm, false), 1);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), 0);
    ide_send(t, IDE_PRI, 0, 0xec, 0, 0, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), 0);
    T_EQ(t_isa_irq(t, 14), 0);
    T_EQ(ide_unplug_disks(t->dm, false), 0);
    /* The unplug survives migration. */
    T_EQ(dm_save_all(t->dm, &rec, &len), 0);
    t2 = ide_machine(argv);
    T_EQ(t_inb(t2, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    T_EQ(dm_load_all(t2->dm, rec, len), 0);
    T_EQ(t_inb(t2, IDE_PRI + R_STAT), 0);
    g_free(rec);
    t_machine_free(t2);
    disk_free(&d);
}

/*
 * Host I/O errors become the ATA error the guest expects, never a crash:
 * no write may reach past 1 MiB (RLIMIT_FSIZE, so pwrite fails with EFBIG
 * as it would with ENOSPC on a full sparse file), and writes past it
 * end in ERR + ABRT with the interrupt, by DMA and by PIO. The drive keeps
 * working afterwards.
 */
T_TEST(ide_host_write_error_is_abrt)
{
    struct disk_t d = disk_new(DISK_SECTORS * 512ull, 16);
    struct t_machine *t = d.t;
    struct rlimit rl = { 1 << 20, 1 << 20 };
    uint8_t sec[512];

    /* Writes past offset 1 MiB of the 2 MiB image now fail. */
    signal(SIGXFSZ, SIG_IGN);
    T_ASSERT(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    t_memset(t, G_BUF, 0x5a, 4096);
    ide_prd(t, 0, G_BUF, 4096, true);
    ide_bm_setup(t, 0, false);
    ide_send(t, IDE_PRI, 0, 0xca, 3000, 8, false);  /* WRITE DMA */
    ide_bm_start(t, 0, false);
    t_settle(t);
    T_EQ(t_isa_irq(t, 14), 1);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT) & (S_ERR | S_BSY | S_DRQ), S_ERR);
    T_EQ(t_inb(t, IDE_PRI + R_ERR) & 0x04, 0x04);   /* ABRT */
    /* PIO: WRITE SECTORS, one sector of data, then the error. */
    ide_send(t, IDE_PRI, 0, 0x30, 3100, 1, false);
    T_EQ(t_inb(t, IDE_PRI + R_STAT) & S_DRQ, S_DRQ);
    memset(sec, 0xa5, sizeof(sec));
    t_memwrite(t, G_SCRATCH, sec, sizeof(sec));
    t_outs(t, IDE_PRI, 2, G_SCRATCH, 256, false);
    t_settle(t);
    T_EQ(t_inb(t, IDE_PRI + R_STAT) & (S_ERR | S_BSY | S_DRQ), S_ERR);
    T_EQ(t_inb(t, IDE_PRI + R_ERR) & 0x04, 0x04);
    /* Still a working drive: read sector 1 by PIO. */
    ide_send(t, IDE_PRI, 0, 0x20, 1, 1, false);
    t_settle(t);
    T_EQ(t_inb(t, IDE_PRI + R_STAT) & (S_ERR | S_DRQ), S_DRQ);
    t_ins(t, IDE_PRI, 2, G_SCRATCH, 256, false);
    t_memread(t, G_SCRATCH, sec, sizeof(sec));
    expect_sector(&d, 1, sec);
    disk_free(&d);
}

/*
 * Linux's requests: 128 PRD entries of 4 KiB, each page in another MiB of
 * RAM. With the cache hvmdm sizes for a 256 MiB guest the transfer is
 * mapped in place, one block request; with a 64-bucket cache it may pin
 * only 16 buckets and goes through the bounce buffer (two requests of
 * 256 KiB), byte-exact both ways.
 */
static uint64_t
scattered_read_ops(unsigned int buckets, const char *path)
{
    g_autofree char *opt = g_strdup_printf("file=%s,if=ide,index=0,"
                                           "media=disk,format=raw", path);
    const char *argv[] = { "-drive", opt, NULL };
    struct t_opts o = { .argv = argv, .ram_size = 256ull << 20,
                        .gm_buckets = buckets };
    struct t_machine *t = t_machine_new(&o);
    uint8_t got[4096], want[4096];
    struct blk_stats bs;
    unsigned int i;

    ide_program(t);
    for (i = 0; i < 128; i++) {
        ide_prd(t, i, (i + 1) * 0x100000u + 0x3000u, 4096, i == 127);
    }
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 0, 0x25, 8, 1024, true);   /* READ DMA EXT */
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    for (i = 0; i < 128; i += 31) {
        t_memread(t, (i + 1) * 0x100000u + 0x3000u, got, sizeof(got));
        ide_file_read(path, (8 + i * 8) * 512ull, want, sizeof(want));
        T_ASSERT(memcmp(got, want, sizeof(want)) == 0);
    }
    T_ASSERT(ide_blk_stats(t->dm, 0, &bs));
    t_machine_free(t);
    return bs.rd_ops;
}

T_TEST(ide_dma_scattered_pages_mapped_in_place)
{
    char *dir = ide_tmpdir();
    char *path = ide_make_image(dir, "scatter.img", 4 << 20, 2048);

    T_EQ(scattered_read_ops(gm_buckets_for_ram(256ull << 20), path), 1);
    T_EQ(scattered_read_ops(GM_DEFAULT_BUCKETS, path), 2);
    g_free(path);
    ide_rmtree(dir);
}
