/*
 * ATAPI CD-ROM through the machine harness: the PACKET protocol as SeaBIOS
 * (src/hw/ata.c atapi_cmd_data, src/cdrom.c) and Linux (libata-sff
 * atapi_pio_bytes) run it, on an El Torito ISO that xorriso builds in the
 * test, plus host media changes (ide_cd_change_media) and hostile input.
 */
#include <errno.h>
#include <stdlib.h>

#include "block/block.h"
#include "dm/log.h"
#include "hw/ide/ide.h"
#include "tests/ide-util.h"

#define CD_BASE     IDE_SEC             /* hdc: secondary master */
#define CD_IRQ      15
#define CD_INDEX    2
#define BOOT_LEN    8192
#define BIG_READ    40                  /* sectors: crosses a 64 KiB chunk */

struct cd_t {
    struct t_machine *t;
    char *dir;
    char *iso;
    char *opt;
    uint8_t *img;
    size_t img_len;
};

static const char hello_text[] = "hvmdm ATAPI test file, line ";

/* An El Torito no-emulation ISO with boot.img and hello.txt. */
static char *
make_iso(const char *dir)
{
    char *src = g_build_filename(dir, "src", NULL);
    char *iso = g_build_filename(dir, "cd.iso", NULL);
    char *boot = g_build_filename(src, "boot.img", NULL);
    char *hello = g_build_filename(src, "hello.txt", NULL);
    GString *text = g_string_new(NULL);
    uint8_t *bimg = g_malloc(BOOT_LEN);
    const char *argv[] = { "xorriso", "-as", "mkisofs", "-quiet", "-o", iso,
                           "-b", "boot.img", "-c", "boot.cat",
                           "-no-emul-boot", "-boot-load-size", "4", src,
                           NULL };
    int status = -1;

    T_ASSERT(g_mkdir(src, 0700) == 0);
    for (unsigned int i = 0; i < BOOT_LEN; i++) {
        bimg[i] = (uint8_t)(i * 3 + (i >> 9));
    }
    T_ASSERT(g_file_set_contents(boot, (char *)bimg, BOOT_LEN, NULL));
    for (unsigned int i = 0; i < 400; i++) {
        g_string_append_printf(text, "%s%u\n", hello_text, i);
    }
    T_ASSERT(g_file_set_contents(hello, text->str, (gssize)text->len, NULL));
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
                      G_SPAWN_STDOUT_TO_DEV_NULL |
                      G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                      &status, NULL) || status != 0) {
        t_fail(__FILE__, __LINE__, "xorriso failed or is missing "
               "(scripts/install-deps installs it)");
    }
    g_remove(boot);
    g_remove(hello);
    g_rmdir(src);
    g_string_free(text, TRUE);
    g_free(bimg);
    g_free(boot);
    g_free(hello);
    g_free(src);
    return iso;
}

static struct cd_t
cd_new_args(bool empty)
{
    struct cd_t c = { 0 };
    const char *argv[5] = { "-drive", NULL, "-device", NULL, NULL };

    c.dir = ide_tmpdir();
    c.iso = make_iso(c.dir);
    T_ASSERT(g_file_get_contents(c.iso, (char **)&c.img, &c.img_len, NULL));
    /* libxl's form for a CD (xen-dm-interface.md 3.2 step 13). */
    c.opt = empty ? g_strdup("if=none,readonly=on,id=ide-5696") :
            g_strdup_printf("if=none,readonly=on,id=ide-5696,file=%s,"
                            "format=raw", c.iso);
    argv[1] = c.opt;
    argv[3] = "ide-cd,id=ide-5696,drive=ide-5696,bus=ide.1,unit=0";
    c.t = ide_machine(argv);
    return c;
}

static struct cd_t
cd_new(void)
{
    return cd_new_args(false);
}

static void
cd_free(struct cd_t *c)
{
    t_machine_free(c->t);
    g_free(c->img);
    g_free(c->iso);
    g_free(c->opt);
    ide_rmtree(c->dir);
}

/*
 * One PACKET command by PIO: the CDB on DRQ with C/D set, then data
 * blocks of the byte count the device puts in LBA mid/high, each after
 * INTRQ, until the status phase (I/O and C/D). Data lands at G_BUF.
 */
static uint8_t
atapi_pio(struct t_machine *t, const uint8_t *cdb, uint16_t bcl,
          size_t *got)
{
    uint8_t st;

    *got = 0;
    t_outb(t, CD_BASE + R_DEV, 0xa0);
    t_outb(t, CD_BASE + R_FEAT, 0);
    t_outb(t, CD_BASE + R_LBAM, (uint8_t)bcl);
    t_outb(t, CD_BASE + R_LBAH, (uint8_t)(bcl >> 8));
    t_outb(t, CD_BASE + R_CMD, 0xa0);
    T_EQ(t_inb(t, IDE_SEC_CTL), S_DRDY | S_DSC | S_DRQ);
    T_EQ(t_inb(t, CD_BASE + R_NSECT) & 3, 1);   /* C/D */
    t_memwrite(t, G_SCRATCH, cdb, 12);
    t_outs(t, CD_BASE, 2, G_SCRATCH, 6, false);
    for (;;) {
        uint32_t n;

        ide_wait(t, CD_BASE);
        st = t_inb(t, CD_BASE + R_STAT);
        if (!(st & S_DRQ)) {
            break;
        }
        T_EQ(t_inb(t, CD_BASE + R_NSECT) & 3, 2);   /* I/O, data */
        n = t_inb(t, CD_BASE + R_LBAM) | t_inb(t, CD_BASE + R_LBAH) << 8;
        T_ASSERT(n > 0 && n <= (bcl & 0xfffe));
        if (*got + n > 0x200000) {
            t_fail(__FILE__, __LINE__, "runaway: cdb %02x got %zu n %u",
                   cdb[0], *got, n);
        }
        ide_ins(t, CD_BASE, 2, G_BUF + *got, (n + 1) / 2);
        *got += n;
    }
    T_EQ(t_inb(t, CD_BASE + R_NSECT) & 3, 3);       /* status phase */
    return st;
}

/* Sense as key << 16 | ASC << 8 | ASCQ, by REQUEST SENSE. */
static uint32_t
sense(struct t_machine *t)
{
    uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 }, s[18];
    size_t got;

    T_EQ(atapi_pio(t, cdb, 18, &got), S_DRDY | S_DSC);
    T_EQ(got, 18);
    t_memread(t, G_BUF, s, sizeof(s));
    T_EQ(s[0], 0x70);
    return (uint32_t)(s[2] & 0xf) << 16 | s[12] << 8 | s[13];
}

/* A command expected to end in CHECK CONDITION with sense k/asc/ascq. */
static void
expect_check(struct t_machine *t, const uint8_t *cdb, uint32_t want)
{
    size_t got;

    T_EQ(atapi_pio(t, cdb, 2048, &got), S_DRDY | S_ERR);
    T_EQ(t_inb(t, CD_BASE + R_ERR) >> 4, want >> 16);
    T_EQ(sense(t), want);
}

static void
expect_ok(struct t_machine *t, const uint8_t *cdb, uint16_t bcl,
          size_t want_len)
{
    size_t got;

    T_EQ(atapi_pio(t, cdb, bcl, &got), S_DRDY | S_DSC);
    T_EQ(got, want_len);
}

static void
read10_cdb(uint8_t *cdb, uint32_t lba, uint16_t n)
{
    memset(cdb, 0, 12);
    cdb[0] = 0x28;
    cdb[2] = (uint8_t)(lba >> 24);
    cdb[3] = (uint8_t)(lba >> 16);
    cdb[4] = (uint8_t)(lba >> 8);
    cdb[5] = (uint8_t)lba;
    cdb[7] = (uint8_t)(n >> 8);
    cdb[8] = (uint8_t)n;
}

static void
expect_image(struct cd_t *c, uint32_t lba, size_t len)
{
    uint8_t *got = g_malloc(len);

    T_ASSERT((uint64_t)lba * 2048 + len <= c->img_len);
    t_memread(c->t, G_BUF, got, len);
    T_ASSERT(memcmp(got, c->img + (size_t)lba * 2048, len) == 0);
    g_free(got);
}

static uint32_t
rd32le(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t
rd32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

T_TEST(atapi_signature_and_identify)
{
    struct cd_t c = cd_new();
    struct t_machine *t = c.t;
    uint8_t id[512];

    T_EQ(t_inb(t, CD_BASE + R_LBAM), 0x14);
    T_EQ(t_inb(t, CD_BASE + R_LBAH), 0xeb);
    T_EQ(t_inb(t, CD_BASE + R_STAT) & S_DRDY, 0);
    /* IDENTIFY DEVICE: aborted with the signature (ATA6 8.15). */
    t_outb(t, CD_BASE + R_DEV, 0xa0);
    t_outb(t, CD_BASE + R_CMD, 0xec);
    T_EQ(t_isa_irq(t, CD_IRQ), 1);
    T_EQ(t_inb(t, CD_BASE + R_STAT) & S_ERR, S_ERR);
    T_EQ(t_inb(t, CD_BASE + R_ERR), 0x04);
    T_EQ(t_inb(t, CD_BASE + R_LBAH), 0xeb);
    t_outb(t, CD_BASE + R_CMD, 0xa1);
    T_EQ(t_inb(t, CD_BASE + R_STAT), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, CD_BASE, 2, G_SCRATCH, 256, false);
    t_memread(t, G_SCRATCH, id, sizeof(id));
    T_EQ(id[0] | id[1] << 8, 0x85c0);
    T_EQ(id[54], 'V');                  /* "HVMDM DVD-ROM", swapped */
    T_EQ(id[55], 'H');
    T_EQ(id[510], 0xa5);
    /* DEVICE RESET: signature, no interrupt. */
    t_outb(t, CD_BASE + R_CMD, 0x08);
    T_EQ(t_isa_irq(t, CD_IRQ), 0);
    T_EQ(t_inb(t, CD_BASE + R_LBAM), 0x14);
    T_EQ(t_inb(t, CD_BASE + R_ERR), 0x01);
    cd_free(&c);
}

/* SeaBIOS cdrom_boot: TEST UNIT READY, READ CAPACITY, the catalog. */
T_TEST(atapi_el_torito_boot_byte_exact)
{
    struct cd_t c = cd_new();
    struct t_machine *t = c.t;
    uint8_t cdb[12] = { 0 }, d[2048];
    uint32_t cat, rba;
    size_t got;
    const uint8_t *hello;

    expect_ok(t, cdb, 0, 0);                    /* TEST UNIT READY */
    cdb[0] = 0x25;                              /* READ CAPACITY */
    expect_ok(t, cdb, 8, 8);
    t_memread(t, G_BUF, d, 8);
    T_EQ(rd32be(d), c.img_len / 2048 - 1);
    T_EQ(rd32be(d + 4), 2048);
    /* Boot record volume descriptor, sector 17 (El Torito 2.0). */
    read10_cdb(cdb, 17, 1);
    expect_ok(t, cdb, 2048, 2048);
    expect_image(&c, 17, 2048);
    t_memread(t, G_BUF, d, 2048);
    T_ASSERT(memcmp(d + 7, "EL TORITO SPECIFICATION", 23) == 0);
    cat = rd32le(d + 0x47);
    read10_cdb(cdb, cat, 1);
    expect_ok(t, cdb, 2048, 2048);
    expect_image(&c, cat, 2048);
    t_memread(t, G_BUF, d, 64);
    T_EQ(d[0], 0x01);                           /* validation entry */
    T_EQ(d[30], 0x55);
    T_EQ(d[31], 0xaa);
    T_EQ(d[32], 0x88);                          /* bootable */
    T_EQ(d[32 + 6] | d[32 + 7] << 8, 4);        /* 4 virtual sectors */
    rba = rd32le(d + 32 + 8);
    read10_cdb(cdb, rba, 4);
    expect_ok(t, cdb, 2048, 4 * 2048);
    for (unsigned int i = 0; i < 4 * 2048; i += 997) {
        T_EQ(t_ram(t)[G_BUF + i], (uint8_t)(i * 3 + (i >> 9)));
    }
    /* The file, found in the image, by READ(12) with a large limit. */
    hello = memmem(c.img, c.img_len, hello_text, strlen(hello_text));
    T_ASSERT(hello && (hello - c.img) % 2048 == 0);
    memset(cdb, 0, 12);
    cdb[0] = 0xa8;
    cdb[5] = (uint8_t)((hello - c.img) / 2048);
    cdb[4] = (uint8_t)((hello - c.img) / 2048 >> 8);
    cdb[9] = 6;
    T_EQ(atapi_pio(t, cdb, 0xffff, &got), S_DRDY | S_DSC);
    T_EQ(got, 6 * 2048);
    expect_image(&c, (uint32_t)((hello - c.img) / 2048), got);
    /* A read across the 64 KiB staging chunk with the odd limit FFFFh. */
    read10_cdb(cdb, 0, BIG_READ);
    T_EQ(atapi_pio(t, cdb, 0xffff, &got), S_DRDY | S_DSC);
    T_EQ(got, BIG_READ * 2048);
    expect_image(&c, 0, got);
    /* READ CD, user data only. */
    memset(cdb, 0, 12);
    cdb[0] = 0xbe;
    cdb[5] = 17;
    cdb[8] = 1;
    cdb[9] = 0x10;
    expect_ok(t, cdb, 2048, 2048);
    expect_image(&c, 17, 2048);
    cd_free(&c);
}

T_TEST(atapi_dma_read)
{
    struct cd_t c = cd_new();
    struct t_machine *t = c.t;
    uint8_t cdb[12];
    uint8_t *got = g_malloc(5 * 2048);

    ide_prd(t, 0, G_BUF, 3000, false);
    ide_prd(t, 1, G_BUF + 3000, 5 * 2048 - 3000, true);
    ide_bm_setup(t, 1, true);
    read10_cdb(cdb, 16, 5);
    t_outb(t, CD_BASE + R_DEV, 0xa0);
    t_outb(t, CD_BASE + R_FEAT, 0x01);           /* DMA */
    t_outb(t, CD_BASE + R_CMD, 0xa0);
    t_memwrite(t, G_SCRATCH, cdb, 12);
    t_outs(t, CD_BASE, 2, G_SCRATCH, 6, false);
    ide_bm_start(t, 1, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + 8 + BM_STAT), 0x04);
    T_EQ(t_isa_irq(t, CD_IRQ), 1);
    ide_bm_stop(t, 1);
    T_EQ(t_inb(t, CD_BASE + R_STAT), S_DRDY | S_DSC);
    T_EQ(t_inb(t, CD_BASE + R_NSECT) & 3, 3);
    expect_image(&c, 16, 5 * 2048);
    /* INQUIRY by DMA; the table is longer than the reply. */
    memset(cdb, 0, 12);
    cdb[0] = 0x12;
    cdb[4] = 36;
    ide_bm_setup(t, 1, true);
    t_outb(t, CD_BASE + R_FEAT, 0x01);
    t_outb(t, CD_BASE + R_CMD, 0xa0);
    t_memwrite(t, G_SCRATCH, cdb, 12);
    t_outs(t, CD_BASE, 2, G_SCRATCH, 6, false);
    ide_bm_start(t, 1, true);
    T_EQ(t_inb(t, IDE_BM + 8 + BM_STAT), 0x05);
    ide_bm_stop(t, 1);
    t_memread(t, G_BUF, got, 36);
    T_EQ(got[0], 0x05);
    T_ASSERT(memcmp(got + 8, "HVMDM   ", 8) == 0);
    /* A PRD table beyond RAM: error bit, ABRT, and the drive recovers. */
    ide_bm_setup(t, 1, true);
    t_outl(t, IDE_BM + 8 + BM_PRD, 0xfff00000);
    read10_cdb(cdb, 0, 1);
    t_outb(t, CD_BASE + R_FEAT, 0x01);
    t_outb(t, CD_BASE + R_CMD, 0xa0);
    t_memwrite(t, G_SCRATCH, cdb, 12);
    t_outs(t, CD_BASE, 2, G_SCRATCH, 6, false);
    ide_bm_start(t, 1, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + 8 + BM_STAT), 0x06);
    ide_bm_stop(t, 1);
    T_EQ(t_inb(t, CD_BASE + R_STAT), S_DRDY | S_ERR);
    T_EQ(t_inb(t, CD_BASE + R_ERR), 0x04);
    read10_cdb(cdb, 17, 1);
    expect_ok(t, cdb, 2048, 2048);
    expect_image(&c, 17, 2048);
    g_free(got);
    cd_free(&c);
}

T_TEST(atapi_informational_commands)
{
    struct cd_t c = cd_new();
    struct t_machine *t = c.t;
    uint32_t sectors = (uint32_t)(c.img_len / 2048);
    uint8_t cdb[12] = { 0 }, d[64];

    cdb[0] = 0x12;                              /* INQUIRY */
    cdb[4] = 96;
    expect_ok(t, cdb, 2048, 36);
    t_memread(t, G_BUF, d, 36);
    T_EQ(d[0], 0x05);
    T_EQ(d[1], 0x80);
    T_ASSERT(memcmp(d + 16, "HVMDM DVD-ROM   ", 16) == 0);
    cdb[1] = 1;                                 /* EVPD: not supported */
    expect_check(t, cdb, 0x052400);
    /* MODE SENSE(10) 2Ah: tray, eject, lock. */
    memset(cdb, 0, 12);
    cdb[0] = 0x5a;
    cdb[2] = 0x2a;
    cdb[8] = 64;
    expect_ok(t, cdb, 2048, 28);
    t_memread(t, G_BUF, d, 28);
    T_EQ(d[0] << 8 | d[1], 26);
    T_EQ(d[8], 0x2a);
    T_EQ(d[14], 0x29);
    cdb[2] = 0x3f;                              /* all pages */
    expect_ok(t, cdb, 2048, 40);
    cdb[2] = 0xea;                              /* saved values */
    expect_check(t, cdb, 0x053900);
    memset(cdb, 0, 12);                         /* MODE SENSE(6) 01h */
    cdb[0] = 0x1a;
    cdb[2] = 0x01;
    cdb[4] = 255;
    expect_ok(t, cdb, 2048, 16);
    /* READ TOC format 0, LBA then MSF: the lead-out at the end. */
    memset(cdb, 0, 12);
    cdb[0] = 0x43;
    cdb[8] = 64;
    expect_ok(t, cdb, 2048, 20);
    t_memread(t, G_BUF, d, 20);
    T_EQ(d[1], 18);
    T_EQ(d[6], 1);
    T_EQ(d[14], 0xaa);
    T_EQ(rd32be(d + 16), sectors);
    cdb[1] = 2;
    expect_ok(t, cdb, 2048, 20);
    t_memread(t, G_BUF, d, 20);
    T_EQ(d[9] * 60 * 75 + d[10] * 75 + d[11], 150);
    T_EQ(d[17] * 60 * 75 + d[18] * 75 + d[19], sectors + 150);
    cdb[1] = 0;
    cdb[2] = 1;                                 /* sessions */
    expect_ok(t, cdb, 2048, 12);
    cdb[2] = 2;                                 /* raw TOC */
    expect_ok(t, cdb, 2048, 48);
    t_memread(t, G_BUF, d, 48);
    T_EQ(d[4 + 22 + 3], 0xa2);
    T_EQ(d[4 + 22 + 8] * 60 * 75 + d[4 + 22 + 9] * 75 + d[4 + 22 + 10],
         sectors + 150);
    cdb[2] = 5;
    expect_check(t, cdb, 0x052400);
    /* GET CONFIGURATION: a small image is a CD-ROM. */
    memset(cdb, 0, 12);
    cdb[0] = 0x46;
    cdb[8] = 64;
    expect_ok(t, cdb, 2048, 48);
    t_memread(t, G_BUF, d, 48);
    T_EQ(rd32be(d), 44);
    T_EQ(d[6] << 8 | d[7], 0x0008);
    T_EQ(d[12] << 8 | d[13], 0x0010);           /* DVD-ROM: not current */
    T_EQ(d[14], 0);
    T_EQ(d[16] << 8 | d[17], 0x0008);           /* CD-ROM: current */
    T_EQ(d[18], 1);
    cdb[1] = 2;                                 /* just feature 1 */
    cdb[3] = 1;
    expect_ok(t, cdb, 2048, 20);
    /* READ DISC INFORMATION, MECHANISM STATUS, SET CD SPEED. */
    memset(cdb, 0, 12);
    cdb[0] = 0x51;
    cdb[8] = 34;
    expect_ok(t, cdb, 2048, 34);
    memset(cdb, 0, 12);
    cdb[0] = 0xbd;
    cdb[9] = 8;
    expect_ok(t, cdb, 2048, 8);
    memset(cdb, 0, 12);
    cdb[0] = 0xbb;
    expect_ok(t, cdb, 2048, 0);
    /* Errors: unknown opcode, LBA past the end, raw READ CD. */
    memset(cdb, 0, 12);
    cdb[0] = 0x55;
    expect_check(t, cdb, 0x052000);
    read10_cdb(cdb, sectors - 1, 2);
    expect_check(t, cdb, 0x052100);
    memset(cdb, 0, 12);
    cdb[0] = 0xbe;
    cdb[8] = 1;
    cdb[9] = 0xf8;
    expect_check(t, cdb, 0x052400);
    /* GESN without the polled bit. */
    memset(cdb, 0, 12);
    cdb[0] = 0x4a;
    cdb[4] = 0x10;
    cdb[8] = 8;
    expect_check(t, cdb, 0x052400);
    cd_free(&c);
}

T_TEST(atapi_dvd_profile_by_size)
{
    char *dir = ide_tmpdir();
    char *img = ide_make_image(dir, "dvd.iso", 1ull << 30, 1);
    char *opt = g_strdup_printf("file=%s,if=ide,index=2,media=cdrom,"
                                "format=raw", img);
    const char *argv[] = { "-drive", opt, NULL };
    struct t_machine *t = ide_machine(argv);
    uint8_t cdb[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 16 }, d[16];
    size_t got;

    T_EQ(atapi_pio(t, cdb, 2048, &got), S_DRDY | S_DSC);
    t_memread(t, G_BUF, d, 8);
    T_EQ(d[6] << 8 | d[7], 0x0010);             /* DVD-ROM */
    t_machine_free(t);
    g_free(opt);
    g_free(img);
    ide_rmtree(dir);
}

static uint8_t
gesn(struct t_machine *t, uint8_t *media_status)
{
    uint8_t cdb[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 }, d[8];

    expect_ok(t, cdb, 2048, 8);
    t_memread(t, G_BUF, d, 8);
    T_EQ(d[2], 0x04);
    *media_status = d[5];
    return d[4];
}

T_TEST(atapi_media_change_sequence)
{
    struct cd_t c = cd_new();
    struct t_machine *t = c.t;
    uint8_t tur[12] = { 0 }, st;
    char err[256];

    T_EQ(gesn(t, &st), 0);                      /* no change */
    T_EQ(st, 0x02);                             /* present, closed */
    T_EQ(ide_cd_eject(t->dm, CD_INDEX, false, err, sizeof(err)), 0);
    expect_check(t, tur, 0x023a02);             /* tray open */
    T_EQ(gesn(t, &st), 3);                      /* media removal */
    T_EQ(st, 0x01);
    T_EQ(gesn(t, &st), 0);
    T_EQ(ide_cd_change_media(t->dm, CD_INDEX, c.iso, "raw", false, err,
                             sizeof(err)), 0);
    T_EQ(gesn(t, &st), 2);                      /* new media */
    T_EQ(st, 0x02);
    /* One UNIT ATTENTION, then ready. */
    expect_check(t, tur, 0x062800);
    expect_ok(t, tur, 0, 0);
    /* Not a CD position, and a bad image, are refused. */
    T_EQ(ide_cd_eject(t->dm, 0, false, err, sizeof(err)), -ENODEV);
    T_ASSERT(ide_cd_change_media(t->dm, CD_INDEX, "/nonexistent/x.iso",
                                 "raw", false, err, sizeof(err)) < 0);
    cd_free(&c);
}

T_TEST(atapi_empty_drive)
{
    struct cd_t c = cd_new_args(true);
    struct t_machine *t = c.t;
    uint8_t cdb[12] = { 0 }, d[8];
    struct blk_stats bs;
    char err[256];

    T_ASSERT(!ide_blk_stats(t->dm, CD_INDEX, &bs));     /* empty */
    T_ASSERT(!ide_blk_stats(t->dm, 0, &bs));            /* absent */
    expect_check(t, cdb, 0x023a01);             /* closed, no medium */
    cdb[0] = 0x25;
    expect_check(t, cdb, 0x023a01);
    memset(cdb, 0, 12);
    cdb[0] = 0x46;
    cdb[8] = 8;
    expect_ok(t, cdb, 2048, 8);
    t_memread(t, G_BUF, d, 8);
    T_EQ(d[6] << 8 | d[7], 0);                  /* no profile */
    memset(cdb, 0, 12);
    cdb[0] = 0x12;
    cdb[4] = 36;
    expect_ok(t, cdb, 2048, 36);
    T_EQ(ide_cd_change_media(t->dm, CD_INDEX, c.iso, NULL, false, err,
                             sizeof(err)), 0);
    memset(cdb, 0, 12);
    expect_check(t, cdb, 0x062800);
    read10_cdb(cdb, 16, 2);
    expect_ok(t, cdb, 2048, 4096);
    expect_image(&c, 16, 4096);
    T_ASSERT(ide_blk_stats(t->dm, CD_INDEX, &bs));
    T_EQ(bs.rd_bytes, 4096);
    cd_free(&c);
}

T_TEST(atapi_lock_and_forced_eject)
{
    struct cd_t c = cd_new();
    struct t_machine *t = c.t;
    uint8_t prevent[12] = { 0x1e, 0, 0, 0, 1 };
    uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 };
    uint8_t load[12] = { 0x1b, 0, 0, 0, 0x03 };
    uint8_t tur[12] = { 0 }, mode[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 28 };
    uint8_t d[28];
    char err[256];

    expect_ok(t, prevent, 0, 0);
    expect_ok(t, mode, 2048, 28);
    t_memread(t, G_BUF, d, 28);
    T_EQ(d[14], 0x2b);                          /* lock state */
    T_EQ(ide_cd_eject(t->dm, CD_INDEX, false, err, sizeof(err)), -EBUSY);
    T_ASSERT(strstr(err, "force") != NULL);
    expect_check(t, eject, 0x055302);
    expect_ok(t, tur, 0, 0);
    T_EQ(ide_cd_eject(t->dm, CD_INDEX, true, err, sizeof(err)), 0);
    expect_check(t, tur, 0x023a02);
    /* Guest eject and load of its own medium once unlocked. */
    T_EQ(ide_cd_change_media(t->dm, CD_INDEX, c.iso, NULL, false, err,
                             sizeof(err)), 0);
    expect_check(t, tur, 0x062800);
    expect_ok(t, eject, 0, 0);
    expect_check(t, tur, 0x023a02);
    expect_ok(t, load, 0, 0);
    expect_check(t, tur, 0x062800);
    expect_ok(t, tur, 0, 0);
    cd_free(&c);
}

T_TEST(atapi_bad_byte_counts)
{
    struct cd_t c = cd_new();
    struct t_machine *t = c.t;
    uint8_t cdb[12] = { 0x12, 0, 0, 0, 36 }, tur[12] = { 0 };
    size_t got;

    /* Limit 0 for a data command: aborted, then the drive works. */
    T_EQ(atapi_pio(t, cdb, 0, &got), S_DRDY | S_ERR);
    T_EQ(t_inb(t, CD_BASE + R_ERR), 0x04);
    T_EQ(got, 0);
    expect_ok(t, tur, 0, 0);                    /* no data: 0 is fine */
    /* Odd limit 2047: blocks of 2046 bytes, data intact. */
    read10_cdb(cdb, 16, 2);
    T_EQ(atapi_pio(t, cdb, 2047, &got), S_DRDY | S_DSC);
    T_EQ(got, 4096);
    expect_image(&c, 16, 4096);
    /* Limit 1 rounds to 0. */
    T_EQ(atapi_pio(t, cdb, 1, &got), S_DRDY | S_ERR);
    /* A CDB of 7 words: the extra word is dropped; odd-sized reads. */
    t_outb(t, CD_BASE + R_LBAM, 0x00);
    t_outb(t, CD_BASE + R_LBAH, 0x08);
    t_outb(t, CD_BASE + R_CMD, 0xa0);
    read10_cdb(cdb, 17, 1);
    t_memwrite(t, G_SCRATCH, cdb, 12);
    t_outs(t, CD_BASE, 2, G_SCRATCH, 7, false);
    ide_wait(t, CD_BASE);
    T_EQ(t_inb(t, CD_BASE + R_STAT), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, CD_BASE, 4, G_BUF, 511, false);    /* 2044 bytes */
    t_ins(t, CD_BASE, 1, G_BUF + 2044, 4, false);
    T_EQ(t_inb(t, CD_BASE + R_STAT), S_DRDY | S_DSC);
    expect_image(&c, 17, 2048);
    /* A PACKET command while BSY is ignored; the reads still finish. */
    read10_cdb(cdb, 18, 1);
    t_outb(t, CD_BASE + R_CMD, 0xa0);
    t_memwrite(t, G_SCRATCH, cdb, 12);
    t_outs(t, CD_BASE, 2, G_SCRATCH, 6, false);
    T_EQ(t_inb(t, IDE_SEC_CTL) & S_BSY, S_BSY);
    t_outb(t, CD_BASE + R_CMD, 0xa1);
    t_settle(t);
    T_EQ(t_inb(t, CD_BASE + R_STAT), S_DRDY | S_DSC | S_DRQ);
    t_ins(t, CD_BASE, 2, G_BUF, 1024, false);
    expect_image(&c, 18, 2048);
    /* DEVICE RESET is taken while BSY (ATA6 8.10) and ends the read. */
    t_outb(t, CD_BASE + R_CMD, 0xa0);
    t_outs(t, CD_BASE, 2, G_SCRATCH, 6, false);
    T_EQ(t_inb(t, IDE_SEC_CTL) & S_BSY, S_BSY);
    t_outb(t, CD_BASE + R_CMD, 0x08);
    T_EQ(t_inb(t, IDE_SEC_CTL), 0);
    T_EQ(t_inb(t, CD_BASE + R_LBAH), 0xeb);
    T_EQ(t_inw(t, CD_BASE), 0xffff);
    expect_ok(t, tur, 0, 0);
    cd_free(&c);
}

/*
 * Saved records as untrusted input (issue 14). Offsets in the piix-ide
 * record: struct pci_dev_state (264), two 8-byte channel records, then the
 * drive records of 104 bytes plus the 64 KiB buffer.
 */
#define REC_DRV(i)      (264 + 16 + (size_t)(i) * (104 + 65536))
#define REC_PHASE       1
#define REC_END         2
#define REC_DMA         3
#define REC_POS         48
#define REC_DRQ_END     52
#define REC_BUF_LEN     56
#define REC_ATAPI_LEFT  84
#define REC_DMA_LEN     76
#define REC_BUF         104

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint8_t *
cd_record(struct t_machine *t, const struct dm_dev_ops **ops, void **opaque)
{
    struct dm_dev *dev = t_find_dev(t, "piix-ide");
    uint8_t *rec;

    T_ASSERT(dev != NULL);
    *ops = dev->ops;
    *opaque = dev->opaque;
    rec = g_malloc0(dev->ops->state_size);
    dev->ops->save(dev->opaque, rec);
    T_EQ(dev->ops->check(rec), 0);
    return rec;
}

/* Finding 1: a buffer DMA may not copy past the 64 KiB drive buffer. */
T_TEST(atapi_state_buf_dma_bounded)
{
    struct cd_t c = cd_new();
    struct t_machine *t = c.t;
    const struct dm_dev_ops *ops;
    void *opaque;
    uint8_t *rec = cd_record(t, &ops, &opaque);
    uint8_t *drv = rec + REC_DRV(CD_INDEX), got[4096];

    drv[REC_PHASE] = 3;                         /* IDE_DMA_WAIT */
    drv[REC_DMA] = 3;                           /* IDE_DMA_BUF */
    put32(drv + REC_DMA_LEN, 32u << 20);
    T_EQ(ops->check(rec), -EINVAL);
    put32(drv + REC_DMA_LEN, 65536 + 1);
    T_EQ(ops->check(rec), -EINVAL);
    drv[0] = 1;                                 /* a disk's buffer DMA */
    put32(drv + REC_DMA_LEN, 4096);
    T_EQ(ops->check(rec), -EINVAL);
    drv[0] = 2;
    drv[REC_DMA] = 0;                           /* waiting without DMA */
    T_EQ(ops->check(rec), -EINVAL);
    drv[REC_DMA] = 3;
    for (unsigned int i = 0; i < 4096; i++) {
        drv[REC_BUF + i] = (uint8_t)(i * 7 + 1);
    }
    T_EQ(ops->check(rec), 0);
    ops->load(opaque, rec);
    ide_prd(t, 0, G_BUF, 4096, true);
    ide_bm_setup(t, 1, true);
    ide_bm_start(t, 1, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + 8 + BM_STAT), 0x04);
    ide_bm_stop(t, 1);
    t_memread(t, G_BUF, got, sizeof(got));
    T_ASSERT(memcmp(got, drv + REC_BUF, sizeof(got)) == 0);
    g_free(rec);
    cd_free(&c);
}

/* Finding 2: no mid-transfer state on a drive without a medium. */
T_TEST(atapi_state_needs_medium)
{
    struct cd_t c = cd_new_args(true);
    struct t_machine *t = c.t;
    const struct dm_dev_ops *ops;
    void *opaque;
    uint8_t *rec = cd_record(t, &ops, &opaque);
    uint8_t *drv = rec + REC_DRV(CD_INDEX), *none = rec + REC_DRV(3);
    uint16_t w;

    none[REC_PHASE] = 1;                        /* absent: PIO_IN */
    none[REC_END] = 1;                          /* ATA_READ */
    T_EQ(ops->check(rec), -EINVAL);
    none[REC_PHASE] = 0;
    none[REC_END] = 0;
    drv[REC_PHASE] = 1;                         /* a CD in an ATA read */
    drv[REC_END] = 1;
    T_EQ(ops->check(rec), -EINVAL);
    /* A CD read by DMA, loaded on the empty drive: reset, no request. */
    drv[REC_PHASE] = 3;
    drv[REC_END] = 0;
    drv[REC_DMA] = 1;                           /* IDE_DMA_READ */
    put32(drv + REC_DMA_LEN, 2048);
    T_EQ(ops->check(rec), 0);
    ops->load(opaque, rec);
    ide_prd(t, 0, G_BUF, 2048, true);
    ide_bm_setup(t, 1, true);
    ide_bm_start(t, 1, true);
    t_settle(t);
    ide_bm_stop(t, 1);
    T_EQ(t_inb(t, CD_BASE + R_STAT) & S_DRQ, 0);
    /* PIO data-in that continues with a read of the absent medium. */
    drv[REC_PHASE] = 1;
    drv[REC_END] = 4;                           /* ATAPI_IN */
    drv[REC_DMA] = 0;
    put32(drv + REC_DMA_LEN, 0);
    put32(drv + REC_POS, 0);
    put32(drv + REC_DRQ_END, 2);
    put32(drv + REC_BUF_LEN, 2);
    put32(drv + REC_ATAPI_LEFT, 4);
    T_EQ(ops->check(rec), 0);
    ops->load(opaque, rec);
    w = t_inw(t, CD_BASE);
    (void)w;
    t_settle(t);
    T_EQ(t_inb(t, CD_BASE + R_STAT) & S_DRQ, 0);
    g_free(rec);
    cd_free(&c);
}
