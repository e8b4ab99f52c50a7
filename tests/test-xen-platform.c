/*
 * The Xen platform PCI device and the unplug protocol, driven the way the
 * PV drivers do (X:docs/misc/hvm-emulated-unplug.pandoc; Linux
 * arch/x86/xen/platform-pci-unplug.c check_platform_magic and
 * xen_unplug_emulated_devices; Windows xenbus unplug.c): one test per step
 * of the hand-shake, then hostile orders and an unplug in the middle of a
 * bus-master transfer.
 */
#include <errno.h>
#include <stdlib.h>

#include "dm/dev.h"
#include "dm/log.h"
#include "hw/board.h"
#include "hw/pci/pci.h"
#include "hw/xen-platform/xen-platform.h"
#include "tests/ide-util.h"

#define XP_BDF          0x0010      /* 00:02.0 */
#define XP_PORT         0x10
#define XP_PORT_VER     0x12
#define XP_BAR0         0xc100      /* as the tests program it */
#define XP_BAR1         0xf2000000u
#define DISK_SECTORS    2048        /* 1 MiB */

struct xp_t {
    struct t_machine *t;
    char *dir;
    char *disk;
    char *cd;
    char *opt_disk;
    char *opt_slave;
    char *opt_cd;
};

/* xenfv with disks at the primary master and slave, a CD-ROM at hdc. */
static struct xp_t
xp_new_with(const char *const *xenstore)
{
    struct xp_t x;
    const char *argv[10];
    struct t_opts o = { 0 };
    g_autofree char *slave = NULL;

    x.dir = ide_tmpdir();
    x.disk = ide_make_image(x.dir, "disk.img", DISK_SECTORS * 512ull,
                            DISK_SECTORS);
    slave = ide_make_image(x.dir, "slave.img", DISK_SECTORS * 512ull, 8);
    x.cd = ide_make_image(x.dir, "cd.iso", 64 * 2048, 0);
    x.opt_disk = g_strdup_printf("file=%s,if=ide,index=0,media=disk,"
                                 "format=raw", x.disk);
    x.opt_slave = g_strdup_printf("file=%s,if=ide,index=1,media=disk,"
                                  "format=raw", slave);
    x.opt_cd = g_strdup_printf("file=%s,if=ide,index=2,media=cdrom", x.cd);
    argv[0] = "-machine";
    argv[1] = "xenfv";
    argv[2] = "-drive";
    argv[3] = x.opt_disk;
    argv[4] = "-drive";
    argv[5] = x.opt_slave;
    argv[6] = "-drive";
    argv[7] = x.opt_cd;
    argv[8] = NULL;
    o.argv = argv;
    o.xenstore = xenstore;
    x.t = t_machine_new(&o);
    ide_program(x.t);
    return x;
}

static struct xp_t
xp_new(void)
{
    return xp_new_with(NULL);
}

static void
xp_free(struct xp_t *x)
{
    t_machine_free(x->t);
    g_free(x->disk);
    g_free(x->cd);
    g_free(x->opt_disk);
    g_free(x->opt_slave);
    g_free(x->opt_cd);
    ide_rmtree(x->dir);
}

static struct xenplat_stats
xp_stats(struct t_machine *t)
{
    struct xenplat_stats st;

    T_EQ(xenplat_get_stats(t->dm, &st), 0);
    return st;
}

/* IDENTIFY's status on the primary (0) or secondary (1) channel, unit u. */
static uint8_t
xp_drive_status(struct t_machine *t, unsigned int ch, unsigned int u)
{
    uint16_t base = ch ? IDE_SEC : IDE_PRI;

    t_outb(t, base + R_DEV, (uint8_t)(0xa0 | u << 4));
    return t_inb(t, base + R_STAT);
}

/* Linux check_platform_magic + xen_unplug_emulated_devices, step by step. */
static void
xp_linux_handshake(struct t_machine *t, uint16_t mask)
{
    T_EQ(t_inw(t, XP_PORT), 0x49d2);        /* 1: magic */
    T_EQ(t_inb(t, XP_PORT_VER), 1);         /* 2: protocol version */
    t_outw(t, XP_PORT_VER, 3);              /* 3: product "linux" */
    t_outl(t, XP_PORT, 1);                  /* 4: build 1 */
    T_EQ(t_inw(t, XP_PORT), 0x49d2);        /* 5: not blacklisted */
    t_outw(t, XP_PORT, mask);               /* 6: unplug */
}

static void
xp_program_bars(struct t_machine *t)
{
    t_pcicfg_write(t, XP_BDF, 0x10, XP_BAR0 | 1, 4);
    t_pcicfg_write(t, XP_BDF, 0x14, XP_BAR1, 4);
}

/* 4.1: identity, BAR sizes and kinds, INTA, slot 2 with xenfv. */
T_TEST(xenplat_pci_identity)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    T_EQ(t_cfg_read(t, XP_BDF, 0x00, 4), 0x00015853);
    T_EQ(t_cfg_read(t, XP_BDF, 0x2c, 4), 0x00015853);
    T_EQ(t_cfg_read(t, XP_BDF, 0x08, 4), 0xff800001);  /* class, rev 1 */
    T_EQ(t_cfg_read(t, XP_BDF, 0x3d, 1), 1);           /* INTA# */
    T_EQ(t_cfg_read(t, XP_BDF, 0x04, 2) & 3, 3);       /* I/O + memory */
    T_EQ(t_cfg_read(t, XP_BDF, 0x0e, 1), 0);
    /* Sizing as hvmloader's pci_setup does it. */
    t_cfg_write(t, XP_BDF, 0x10, 0xffffffff, 4);
    T_EQ(t_cfg_read(t, XP_BDF, 0x10, 4), 0xffffff01);  /* 0x100 of I/O */
    t_cfg_write(t, XP_BDF, 0x14, 0xffffffff, 4);
    T_EQ(t_cfg_read(t, XP_BDF, 0x14, 4), 0xff000008);  /* 16 MiB, pref */
    T_EQ(t_cfg_read(t, XP_BDF, 0x18, 4), 0);
    xp_free(&x);
}

/* pc,accel=xen (xen_platform_pci=0): no device, the ports unclaimed. */
T_TEST(xenplat_absent_without_xenfv)
{
    const char *argv[] = { "-machine", "pc,accel=xen", NULL };
    struct t_opts o = { .argv = argv };
    struct t_machine *t = t_machine_new(&o);
    struct xenplat_stats st;

    T_EQ(t_cfg_read(t, XP_BDF, 0x00, 4), 0xffffffff);
    T_EQ(t_inw(t, XP_PORT), 0xffff);
    T_EQ(xenplat_get_stats(t->dm, &st), -ENODEV);
    T_EQ(board_unplug_nics(t->dm), 0);
    t_machine_free(t);
}

/* Step 1: the magic at 0x10 as a word; other widths are not the magic. */
T_TEST(xenplat_step1_magic)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    T_EQ(t_inw(x.t, XP_PORT), 0x49d2);
    T_EQ(t_inb(t, XP_PORT), 0);                /* the flags byte */
    T_EQ(t_inl(t, XP_PORT), 0xffffffff);
    T_EQ(t_inw(t, XP_PORT + 4), 0xffff);
    T_EQ(t_inb(t, XP_PORT + 15), 0xff);
    xp_free(&x);
}

/* Step 2: protocol version 1 as a byte at 0x12 (Linux requires 1). */
T_TEST(xenplat_step2_version)
{
    struct xp_t x = xp_new();

    T_EQ(t_inb(x.t, XP_PORT_VER), 1);
    T_EQ(t_inw(x.t, XP_PORT_VER), 0xffff);
    T_EQ(t_inb(x.t, XP_PORT_VER + 1), 0xff);
    xp_free(&x);
}

/* Steps 3 and 4: product (word at 0x12) then build (dword at 0x10). */
T_TEST(xenplat_step3_4_product_and_build)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;
    struct xenplat_stats st;

    t_outw(t, XP_PORT_VER, 0xffff);         /* Windows xenbus: "FIXME" */
    t_outl(t, XP_PORT, 0x090102);           /* 9.1.2 */
    st = xp_stats(t);
    T_EQ(st.product, 0xffff);
    T_EQ(st.build, 0x090102);
    T_EQ(st.unplugged, 0);                  /* a dword is not a mask */
    /* The blacklist lookup used the product's registry name. */
    T_ASSERT(strstr(t_hv_log(t),
                    "xs_read /mh/driver-blacklist/experimental/590082"));
    T_EQ(xp_drive_status(t, 0, 0), S_DRDY | S_DSC);
    xp_free(&x);
}

/* Step 5: a blacklisted build reads 0xD249 and its unplug is ignored. */
T_TEST(xenplat_step5_blacklist)
{
    static const char *const xs[] = {
        "/mh/driver-blacklist/linux/7", "1", NULL,
    };
    struct xp_t x = xp_new_with(xs);
    struct t_machine *t = x.t;

    t_outw(t, XP_PORT_VER, 3);
    t_outl(t, XP_PORT, 1);
    T_EQ(t_inw(t, XP_PORT), 0x49d2);        /* build 1 is fine */
    t_outl(t, XP_PORT, 7);
    T_EQ(t_inw(t, XP_PORT), 0xd249);
    T_EQ(xp_stats(t).blacklisted, 1);
    t_outw(t, XP_PORT, 0x0003);
    T_EQ(xp_stats(t).unplugged, 0);
    T_EQ(xp_drive_status(t, 0, 0), S_DRDY | S_DSC);
    /* A newer build is let through again. */
    t_outl(t, XP_PORT, 8);
    T_EQ(t_inw(t, XP_PORT), 0x49d2);
    t_outw(t, XP_PORT, 0x0001);
    T_EQ(xp_stats(t).unplugged, 1);
    T_EQ(xp_drive_status(t, 0, 0), 0);
    xp_free(&x);
}

/* Step 6, Linux's mask 3: every IDE disk goes, the CD-ROM stays. */
T_TEST(xenplat_step6_unplug_disks_and_nics)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;
    struct xenplat_stats st;

    T_EQ(xp_drive_status(t, 0, 0), S_DRDY | S_DSC);
    T_EQ(xp_drive_status(t, 0, 1), S_DRDY | S_DSC);
    xp_linux_handshake(t, 0x0003);
    st = xp_stats(t);
    T_EQ(st.unplugged, 3);
    T_EQ(st.unplug_events, 1);
    T_EQ(st.product, 3);
    T_EQ(xp_drive_status(t, 0, 0), 0);
    T_EQ(xp_drive_status(t, 0, 1), 0);
    /* The CD-ROM answers with its ATAPI signature (ATA6 9.12). */
    t_outb(t, IDE_SEC + R_DEV, 0xa0);
    T_EQ(t_inb(t, IDE_SEC + R_LBAM), 0x14);
    T_EQ(t_inb(t, IDE_SEC + R_LBAH), 0xeb);
    /* The IDE function itself stays: CD-ROMs still need it. */
    T_EQ(t_cfg_read(t, IDE_BDF, 0x00, 4), 0x70108086);
    xp_free(&x);
}

/* Bit 2 keeps the primary master; bit 0 with it overrides it. */
T_TEST(xenplat_unplug_aux_disks)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    t_outw(t, XP_PORT, 0x0004);
    T_EQ(xp_drive_status(t, 0, 0), S_DRDY | S_DSC);
    T_EQ(xp_drive_status(t, 0, 1), 0);
    t_outw(t, XP_PORT, 0x0005);
    T_EQ(xp_drive_status(t, 0, 0), 0);
    T_EQ(xp_stats(t).unplug_events, 2);
    T_EQ(xp_stats(t).unplugged, 5);
    xp_free(&x);
}

/* Bit 3 (NVMe) and bit 1 without NICs remove nothing and hurt nothing. */
T_TEST(xenplat_unplug_nvme_and_nics_without_devices)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    t_outw(t, XP_PORT, 0x000a);
    T_EQ(xp_stats(t).unplug_events, 0);
    T_EQ(xp_stats(t).unplugged, 0x000a);
    T_EQ(xp_drive_status(t, 0, 0), S_DRDY | S_DSC);
    xp_free(&x);
}

/* Platform flags: PFFLAG_ROM_LOCK through the stable call, reset clears. */
T_TEST(xenplat_rom_lock_flag)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    t_hv_log_clear(t);
    t_outb(t, XP_PORT, 0xff);
    T_EQ(t_inb(t, XP_PORT), 1);             /* only bit 0 exists */
    T_ASSERT(strstr(t_hv_log(t), "mem_type 1 0xc0 64"));
    t_outb(t, XP_PORT, 0);
    T_EQ(t_inb(t, XP_PORT), 0);
    T_ASSERT(strstr(t_hv_log(t), "mem_type 0 0xc0 64"));
    t_outb(t, XP_PORT, 1);
    t_hv_log_clear(t);
    dm_reset_all(t->dm);
    T_EQ(t_inb(t, XP_PORT), 0);
    T_ASSERT(strstr(t_hv_log(t), "mem_type 0 0xc0 64"));
    xp_free(&x);
}

static void
xp_log_string(struct t_machine *t, const char *s)
{
    for (; *s; s++) {
        t_outb(t, XP_PORT_VER, (uint8_t)*s);
    }
}

/* The guest log: a line per '\n', or per 4095 bytes without one. */
T_TEST(xenplat_guest_log_lines)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;
    unsigned int i;

    xp_log_string(t, "xen-platform-pci: hello\n");
    T_EQ(xp_stats(t).log_lines, 1);
    xp_log_string(t, "no newline yet");
    T_EQ(xp_stats(t).log_lines, 1);
    for (i = 0; i < 4095 - 14; i++) {
        t_outb(t, XP_PORT_VER, 'a');
    }
    T_EQ(xp_stats(t).log_lines, 2);
    t_outb(t, XP_PORT_VER, '\n');           /* nothing buffered: no line */
    T_EQ(xp_stats(t).log_lines, 2);
    t_outb(t, XP_PORT_VER, 0);              /* NUL and escapes are fine */
    t_outb(t, XP_PORT_VER, 0x1b);
    t_outb(t, XP_PORT_VER, '\n');
    T_EQ(xp_stats(t).log_lines, 3);
    xp_free(&x);
}

/* 128 KiB bucket, 256 bytes/s; the vCPU is never blocked. */
T_TEST(xenplat_guest_log_rate_limit)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;
    struct xenplat_stats st;
    unsigned int i;

    dm_log_set_quiet(1);
    for (i = 0; i < 128 * 1024 + 100; i++) {
        t_outb(t, XP_PORT_VER, (i % 64) == 63 ? '\n' : 'x');
    }
    st = xp_stats(t);
    T_EQ(st.log_dropped, 100);
    T_EQ(st.log_lines, 128 * 1024 / 64);
    t_clock_step(t, 1000000000ull);         /* one second: 256 bytes */
    for (i = 0; i < 300; i++) {
        t_outb(t, XP_PORT_VER, 'y');
    }
    T_EQ(xp_stats(t).log_dropped, 100 + 300 - 256);
    xp_free(&x);
}

/* /local/domain/<domid>/log-throttling = "0" turns the limit off. */
T_TEST(xenplat_guest_log_unthrottled)
{
    static const char *const xs[] = {
        "/local/domain/1/log-throttling", "0", NULL,
    };
    struct xp_t x = xp_new_with(xs);
    unsigned int i;

    dm_log_set_quiet(1);
    for (i = 0; i < 200 * 1024; i++) {
        t_outb(x.t, XP_PORT_VER, (i % 128) == 127 ? '\n' : 'z');
    }
    T_EQ(xp_stats(x.t).log_dropped, 0);
    T_EQ(xp_stats(x.t).log_lines, 200 * 1024 / 128);
    xp_free(&x);
}

/* BAR0: the flags byte at 0, SUSE unplug at 4, VMDP at 8, else ~0. */
T_TEST(xenplat_bar0_register_map)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    xp_program_bars(t);
    T_EQ(t_inb(t, XP_BAR0), 0);
    t_outb(t, XP_BAR0, 1);
    T_EQ(t_inb(t, XP_PORT), 1);             /* same flags as port 0x10 */
    T_EQ(t_inb(t, XP_BAR0), 1);
    T_EQ(t_inw(t, XP_BAR0), 0xff01);
    T_EQ(t_inl(t, XP_BAR0 + 0x40), 0xffffffff);
    t_outl(t, XP_BAR0 + 4, 2);              /* not 1: nothing */
    T_EQ(xp_stats(t).unplugged, 0);
    t_outb(t, XP_BAR0 + 8, 'v');            /* a log byte */
    t_outb(t, XP_BAR0 + 8, '\n');
    T_EQ(xp_stats(t).log_lines, 1);
    t_outb(t, XP_BAR0 + 8, 2);              /* VMDP NICs */
    T_EQ(xp_stats(t).unplugged, 2);
    T_EQ(xp_drive_status(t, 0, 0), S_DRDY | S_DSC);
    t_outl(t, XP_BAR0 + 4, 1);              /* SUSE: disks and NICs */
    T_EQ(xp_stats(t).unplugged, 3);
    T_EQ(xp_drive_status(t, 0, 0), 0);
    xp_free(&x);
}

/* BAR1: the GFN hole reads 0 at every width and ignores writes. */
T_TEST(xenplat_bar1_reads_zero)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    xp_program_bars(t);
    T_EQ(t_readl(t, XP_BAR1), 0);
    t_writel(t, XP_BAR1 + 0x1000, 0xdeadbeef);
    T_EQ(t_readl(t, XP_BAR1 + 0x1000), 0);
    T_EQ(t_readq(t, XP_BAR1 + 0xfffff8), 0);
    T_EQ(t_readb(t, XP_BAR1 + 0xffffff), 0);
    xp_free(&x);
}

/*
 * The callback via INTx (HVM_PARAM_CALLBACK_IRQ, PCI form) is asserted by
 * Xen: the device must never drive, and so never deassert, INTA itself.
 */
T_TEST(xenplat_never_drives_intx)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    t_hv_log_clear(t);
    xp_program_bars(t);
    t_pcicfg_write(t, XP_BDF, 0x3c, 10, 1);             /* line 10 */
    t_pcicfg_write(t, XP_BDF, 0x04, 0x0407, 2);         /* INTx disable */
    t_pcicfg_write(t, XP_BDF, 0x04, 0x0007, 2);
    xp_linux_handshake(t, 0x0003);
    dm_reset_all(t->dm);
    T_EQ(t_hv_count(t, "pci_intx 2 "), 0);
    T_EQ(t_cfg_read(t, XP_BDF, 0x06, 2) & 0x08, 0);
    xp_free(&x);
}

/* Hostile orders: unplug first, twice, build before product, odd widths. */
T_TEST(xenplat_hostile_sequences)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;
    uint8_t want[512], got[512];
    unsigned int i, port;

    dm_log_set_quiet(1);
    ide_file_read(x.disk, 5 * 512, want, sizeof(want));
    t_outw(t, XP_PORT, 0x0001);             /* no magic read first */
    t_outw(t, XP_PORT, 0x0001);
    t_outw(t, XP_PORT, 0xffff);             /* unknown bits too */
    t_outl(t, XP_PORT, 1);                  /* build, no product */
    t_outw(t, XP_PORT_VER, 3);
    t_outw(t, XP_PORT_VER, 0x7777);         /* unknown product */
    t_outl(t, XP_PORT, 0xffffffff);
    T_EQ(t_inw(t, XP_PORT), 0x49d2);
    for (i = 0; i < 2000; i++) {
        port = XP_PORT + (unsigned int)(rand() % 16);
        switch (rand() % 6) {
        case 0: t_outb(t, (uint16_t)port, (uint8_t)rand()); break;
        case 1: t_outw(t, (uint16_t)port, (uint16_t)rand()); break;
        case 2: t_outl(t, (uint16_t)port, (uint32_t)rand()); break;
        case 3: (void)t_inb(t, (uint16_t)port); break;
        case 4: (void)t_inw(t, (uint16_t)port); break;
        default: (void)t_inl(t, (uint16_t)port); break;
        }
    }
    T_EQ(xp_stats(t).unplug_events, 1);     /* only the first removed */
    T_EQ(xp_drive_status(t, 0, 0), 0);
    ide_file_read(x.disk, 5 * 512, got, sizeof(got));
    T_ASSERT(memcmp(want, got, sizeof(got)) == 0);
    /* The CD-ROM still answers. */
    t_outb(t, IDE_SEC + R_DEV, 0xa0);
    T_EQ(t_inb(t, IDE_SEC + R_LBAH), 0xeb);
    xp_free(&x);
}

/*
 * Unplug while a bus-master write is in flight (Linux ata_bmdma_start,
 * then the unplug): the transfer is drained, flushed, the engine stopped,
 * and no completion touches freed state later (ASan checks this). Every
 * sector then holds either its old or its new contents.
 */
T_TEST(xenplat_unplug_during_dma)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;
    enum { N = 128 };
    uint8_t *buf = g_malloc(N * 512), *img = g_malloc(N * 512);
    uint8_t old[512];
    unsigned int s;

    ide_file_read(x.disk, 0, img, N * 512);
    memset(buf, 0xa5, N * 512);
    t_memwrite(t, G_BUF, buf, N * 512);
    ide_prd(t, 0, G_BUF, N * 512, true);
    ide_bm_setup(t, 0, false);
    ide_send(t, IDE_PRI, 0, 0xca, 0, N, false);     /* WRITE DMA */
    ide_bm_start(t, 0, false);
    T_EQ(t_inb(t, IDE_BM + BM_STAT) & 1, 1);        /* in flight */
    t_outw(t, XP_PORT, 0x0001);                     /* before it settles */
    t_settle(t);
    t_clock_step(t, 1000000000ull);
    T_EQ(t_inb(t, IDE_BM + BM_STAT) & 1, 0);        /* engine stopped */
    T_EQ(xp_drive_status(t, 0, 0), 0);
    ide_file_read(x.disk, 0, buf, N * 512);
    for (s = 0; s < N; s++) {
        memcpy(old, img + s * 512, 512);
        memset(img + s * 512, 0xa5, 512);
        T_ASSERT(memcmp(buf + s * 512, old, 512) == 0 ||
                 memcmp(buf + s * 512, img + s * 512, 512) == 0);
    }
    /* The same again with a read into guest memory. */
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 1, 0xc8, 0, 8, false);     /* the slave is gone */
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT) & 2, 0);
    g_free(buf);
    g_free(img);
    xp_free(&x);
}

/* A read DMA from the slave interrupted by an aux unplug. */
T_TEST(xenplat_unplug_during_read_dma)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;

    ide_prd(t, 0, G_BUF, 8 * 512, true);
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 1, 0xc8, 0, 8, false);     /* READ DMA, slave */
    ide_bm_start(t, 0, true);
    T_EQ(t_inb(t, IDE_BM + BM_STAT) & 1, 1);        /* in flight */
    t_outw(t, XP_PORT, 0x0004);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT) & 1, 0);
    T_EQ(xp_drive_status(t, 0, 1), 0);
    T_EQ(xp_drive_status(t, 0, 0), S_DRDY | S_DSC);
    xp_free(&x);
}

/* Rule 13: the record round-trips, and a hostile one is refused. */
T_TEST(xenplat_state_round_trip_and_check)
{
    struct xp_t a = xp_new(), b = xp_new();
    struct dm_dev *dev;
    uint8_t *rec;

    t_outb(a.t, XP_PORT, 1);
    xp_linux_handshake(a.t, 0x0003);
    t_state_round_trip(a.t, b.t);
    T_EQ(t_inb(b.t, XP_PORT), 1);
    T_EQ(xp_drive_status(b.t, 0, 0), 0);
    T_EQ(xp_stats(b.t).unplugged, 3);
    dev = t_find_dev(a.t, "xen-platform");
    T_ASSERT(dev != NULL);
    rec = g_malloc0(dev->ops->state_size);
    dev->ops->save(dev->opaque, rec);
    T_EQ(dev->ops->check(rec), 0);
    rec[dev->ops->state_size - 10] = 0x80;  /* unplugged: unknown bit */
    T_EQ(dev->ops->check(rec), -EINVAL);
    dev->ops->save(dev->opaque, rec);
    rec[dev->ops->state_size - 8] = 0x02;   /* flags: unknown bit */
    T_EQ(dev->ops->check(rec), -EINVAL);
    dev->ops->save(dev->opaque, rec);
    rec[dev->ops->state_size - 1] = 1;      /* reserved */
    T_EQ(dev->ops->check(rec), -EINVAL);
    g_free(rec);
    xp_free(&a);
    xp_free(&b);
}

/* ---- the NIC hook: a network-class function on the bus ----------------- */

struct fake_nic {
    struct pci_dev pci;
    unsigned int unplugs;
};

static void
fake_nic_unplug(struct pci_dev *d)
{
    ((struct fake_nic *)d)->unplugs++;
}

static const struct pci_dev_info fake_nic_info = {
    .name = "fake-nic",
    .vendor_id = 0x8086,
    .device_id = 0x100e,
    .class_code = 0x020000,
    .interrupt_pin = 1,
    .unplug = fake_nic_unplug,
};

/* Bit 1: the NIC's unplug hook runs, then it leaves the bus; once. */
T_TEST(xenplat_unplug_nics_runs_the_hook)
{
    struct xp_t x = xp_new();
    struct t_machine *t = x.t;
    struct fake_nic nic = { .unplugs = 0 };

    pci_dev_init(&nic.pci, &fake_nic_info);
    T_EQ(pci_bus_add(t->dm->board->pci, &nic.pci, PCI_DEVFN(4, 0)), 0);
    T_EQ(t_cfg_read(t, 0x0020, 0x00, 4), 0x100e8086);
    xp_linux_handshake(t, 0x0003);
    T_EQ(nic.unplugs, 1);
    T_EQ(t_cfg_read(t, 0x0020, 0x00, 4), 0xffffffff);
    T_EQ(xp_stats(t).unplug_events, 1);
    t_outw(t, XP_PORT, 0x0002);
    T_EQ(nic.unplugs, 1);
    pci_dev_fini(&nic.pci);
    xp_free(&x);
}
