/*
 * CMOS NVRAM tests: the bytes SeaBIOS reads (boot order, memory sizes,
 * equipment, century), the index/data protocol at every width, the split
 * with Xen's RTC (indexes 0-13 are never ours) and save/restore.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/config.h"
#include "dm/dev.h"
#include "dm/iomap.h"
#include "dm/machine.h"
#include "hw/cmos/cmos.h"
#include "tests/harness.h"
#include "tests/t.h"

#define CMOS_INDEX      0x70
#define CMOS_DATA       0x71
#define CMOS_EXT_INDEX  0x72
#define CMOS_EXT_DATA   0x73
#define NMI_DISABLE     0x80        /* SeaBIOS sets it on every access */

static struct t_machine *
cmos_machine(const char *const *argv)
{
    struct t_opts o = { .argv = argv };

    return t_machine_new(&o);
}

/* SeaBIOS rtc_read(). */
static uint8_t
rtc_read(struct t_machine *t, uint8_t index)
{
    t_outb(t, CMOS_INDEX, index | NMI_DISABLE);
    return t_inb(t, CMOS_DATA);
}

static void
rtc_write(struct t_machine *t, uint8_t index, uint8_t val)
{
    t_outb(t, CMOS_INDEX, index | NMI_DISABLE);
    t_outb(t, CMOS_DATA, val);
}

/* SeaBIOS boot_init(): priorities of floppy (1), disk (2), CD (3), BEV
 * (4) from 0x3d and the high nibble of 0x38. */
static unsigned int
seabios_boot_order(struct t_machine *t, unsigned int *order)
{
    uint32_t bits = rtc_read(t, 0x3d) | ((rtc_read(t, 0x38) & 0xf0) << 4);
    unsigned int i, n = 0;

    for (i = 0; i < 3; i++) {
        if (bits & 0x0f) {
            order[n++] = bits & 0x0f;
        }
        bits >>= 4;
    }
    return n;
}

T_TEST(cmos_boot_order_dc)
{
    const char *argv[] = { "-boot", "order=dc", NULL };
    struct t_machine *t = cmos_machine(argv);
    unsigned int order[3];

    T_EQ(rtc_read(t, 0x3d), 0x23);          /* 1st CD-ROM, 2nd disk */
    T_EQ(rtc_read(t, 0x38), 0x00);          /* floppy check on */
    T_EQ(rtc_read(t, 0x2d), 0x00);          /* C: before A: */
    T_EQ(seabios_boot_order(t, order), 2);
    T_EQ(order[0], 3);
    T_EQ(order[1], 2);
    t_machine_free(t);
}

T_TEST(cmos_boot_order_three_devices_and_floppy)
{
    const char *argv[] = { "-boot", "order=ncd", NULL };
    const char *argv2[] = { "-boot", "order=ac", NULL };
    struct t_machine *t = cmos_machine(argv);

    T_EQ(rtc_read(t, 0x3d), 0x24);
    T_EQ(rtc_read(t, 0x38), 0x30);
    t_machine_free(t);
    t = cmos_machine(argv2);
    T_EQ(rtc_read(t, 0x3d), 0x21);
    T_EQ(rtc_read(t, 0x2d), 0x20);          /* A: first */
    t_machine_free(t);
}

/* A machine without a board, then the CMOS alone with this config. */
static struct t_machine *
bare_machine(void)
{
    struct t_opts o = { .no_board = true };

    return t_machine_new(&o);
}

T_TEST(cmos_bad_boot_order_is_refused)
{
    static const char *const bad[] = { "cdna", "ce", "cp" };
    struct t_machine *t = bare_machine();
    struct dm_config cfg;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        dm_config_defaults(&cfg);
        g_strlcpy(cfg.boot_order, bad[i], sizeof(cfg.boot_order));
        T_EQ(cmos_board_init(t->dm, &cfg), -EINVAL);
    }
    T_EQ(iomap_find(t->dm->pio, CMOS_INDEX) == NULL, 1);
    dm_config_defaults(&cfg);
    T_EQ(cmos_board_init(t->dm, &cfg), 0);  /* default "cad" */
    T_EQ(rtc_read(t, 0x3d), 0x12);
    T_EQ(rtc_read(t, 0x38), 0x30);
    dm_config_free(&cfg);
    t_machine_free(t);
}

static unsigned int
rtc_read16(struct t_machine *t, uint8_t lo)
{
    return rtc_read(t, lo) | rtc_read(t, lo + 1) << 8;
}

T_TEST(cmos_memory_and_equipment_64m)
{
    const char *argv[] = { "-smp", "4", NULL };
    struct t_machine *t = cmos_machine(argv);
    unsigned int i, sum = 0;

    T_EQ(t_ram_size(t), 64 << 20);
    T_EQ(rtc_read16(t, 0x15), 640);             /* base memory, KiB */
    T_EQ(rtc_read16(t, 0x17), 63 * 1024);       /* above 1 MiB, KiB */
    T_EQ(rtc_read16(t, 0x30), 63 * 1024);
    T_EQ(rtc_read16(t, 0x34), 48 * 16);         /* above 16 MiB, 64 KiB */
    T_EQ(rtc_read(t, 0x5b), 0);
    T_EQ(rtc_read(t, 0x5c), 0);
    T_EQ(rtc_read(t, 0x5d), 0);
    T_EQ(rtc_read(t, 0x10), 0x00);              /* no floppy */
    T_EQ(rtc_read(t, 0x14), 0x06);              /* FPU, PS/2 mouse */
    T_EQ(rtc_read(t, 0x5f), 3);                 /* 4 vCPUs */
    T_EQ(rtc_read(t, 0x32), 0x20);              /* century, BCD */
    for (i = 0x10; i <= 0x2d; i++) {
        sum += rtc_read(t, i);
    }
    T_EQ(rtc_read(t, 0x2e), sum >> 8);
    T_EQ(rtc_read(t, 0x2f), sum & 0xff);
    t_machine_free(t);
}

/* 6 GiB: 3.75 GiB below the hole at 0xf0000000, 2.25 GiB above 4 GiB. */
T_TEST(cmos_memory_above_4g)
{
    struct t_machine *t = bare_machine();
    struct dm_config cfg;

    dm_config_defaults(&cfg);
    t->dm->ram_size = 6ull << 30;
    T_EQ(cmos_board_init(t->dm, &cfg), 0);
    T_EQ(rtc_read16(t, 0x15), 640);
    T_EQ(rtc_read16(t, 0x17), 0xffff);          /* capped */
    T_EQ(rtc_read16(t, 0x30), 0xffff);
    T_EQ(rtc_read16(t, 0x34), (3840 - 16) * 16);
    T_EQ(rtc_read(t, 0x5b), 0x00);              /* 36864 x 64 KiB */
    T_EQ(rtc_read(t, 0x5c), 0x90);
    T_EQ(rtc_read(t, 0x5d), 0x00);
    T_EQ(rtc_read(t, 0x5f), 0);                 /* 1 vCPU */
    dm_config_free(&cfg);
    t_machine_free(t);
}

T_TEST(cmos_index_data_at_widths)
{
    struct t_machine *t = cmos_machine(NULL);

    rtc_write(t, 0x40, 0x5a);
    T_EQ(rtc_read(t, 0x40), 0x5a);
    t_outb(t, CMOS_INDEX, 0x40);                /* NMI bit: same index */
    T_EQ(t_inb(t, CMOS_DATA), 0x5a);
    T_EQ(t_inb(t, CMOS_INDEX), 0xff);           /* index is write-only */
    t_outw(t, CMOS_INDEX, 0xa541);              /* index 0x41, data 0xa5 */
    T_EQ(rtc_read(t, 0x41), 0xa5);
    T_EQ(t_inw(t, CMOS_INDEX), 0xa5ff);
    t_outb(t, CMOS_EXT_INDEX, 0x05);
    t_outb(t, CMOS_EXT_DATA, 0x77);
    T_EQ(t_inl(t, CMOS_INDEX), 0x77ffa5ffu);
    t_outl(t, CMOS_INDEX, 0x11061242u);         /* both banks at once */
    T_EQ(rtc_read(t, 0x42), 0x12);
    t_outb(t, CMOS_EXT_INDEX, 0x06);
    T_EQ(t_inb(t, CMOS_EXT_DATA), 0x11);
    t_machine_free(t);
}

/* Xen keeps indexes 0-13; an access that reached us anyway touches
 * nothing, and our bytes stay where they are. */
T_TEST(cmos_xen_rtc_range_untouched)
{
    struct t_machine *t = cmos_machine(NULL);
    struct dm_dev *d;
    uint8_t before = rtc_read(t, 0x3d), rec[512];
    unsigned int i;

    for (i = 0; i < 14; i++) {
        rtc_write(t, i, 0x55);
        T_EQ(rtc_read(t, i), 0xff);
    }
    t_outb(t, CMOS_INDEX, 0x3d);
    t_outb(t, CMOS_INDEX, 0x0a);                /* Xen's index now */
    t_outb(t, CMOS_DATA, 0x99);                 /* not into 0x3d */
    T_EQ(rtc_read(t, 0x3d), before);
    for (d = t->dm->devs; d && strcmp(d->ops->name, "cmos"); d = d->next) {
    }
    T_ASSERT(d != NULL);
    T_ASSERT(d->ops->state_size <= sizeof(rec));
    d->ops->save(d->opaque, rec);
    for (i = 0; i < 14; i++) {
        T_EQ(rec[i], 0);
    }
    t_machine_free(t);
}

T_TEST(cmos_upper_bank)
{
    struct t_machine *t = cmos_machine(NULL);
    unsigned int i;

    for (i = 0; i < 128; i++) {
        t_outb(t, CMOS_EXT_INDEX, i);
        t_outb(t, CMOS_EXT_DATA, i ^ 0xa5);
    }
    for (i = 0; i < 128; i++) {
        t_outb(t, CMOS_EXT_INDEX, i | 0x80);    /* bit 7 ignored */
        T_EQ(t_inb(t, CMOS_EXT_DATA), i ^ 0xa5);
    }
    T_EQ(t_inb(t, CMOS_EXT_INDEX), 0xff);
    T_EQ(rtc_read(t, 0x14), 0x06);              /* lower bank intact */
    t_machine_free(t);
}

/* Battery backed: a reset keeps the contents and forgets the indexes. */
T_TEST(cmos_reset_keeps_nvram)
{
    struct t_machine *t = cmos_machine(NULL);

    rtc_write(t, 0x70, 0x12);
    t_outb(t, CMOS_EXT_INDEX, 9);
    t_outb(t, CMOS_EXT_DATA, 0x34);
    dm_reset_all(t->dm);
    T_EQ(t_inb(t, CMOS_DATA), 0xff);            /* index 0: Xen's */
    T_EQ(t_inb(t, CMOS_EXT_DATA), 0x00);        /* ext index 0 */
    T_EQ(rtc_read(t, 0x70), 0x12);
    t_outb(t, CMOS_EXT_INDEX, 9);
    T_EQ(t_inb(t, CMOS_EXT_DATA), 0x34);
    t_machine_free(t);
}

T_TEST(cmos_save_load_round_trip)
{
    const char *argv[] = { "-boot", "order=dc", NULL };
    struct t_machine *t = cmos_machine(argv), *t2;

    rtc_write(t, 0x50, 0xab);
    t_outb(t, CMOS_EXT_INDEX, 0x7f);
    t_outb(t, CMOS_EXT_DATA, 0xcd);
    t_outb(t, CMOS_INDEX, 0x50);
    t2 = cmos_machine(NULL);
    T_EQ(rtc_read(t2, 0x3d), 0x12);             /* "cad" before load */
    t_outb(t2, CMOS_INDEX, 0x20);
    t_state_round_trip(t, t2);
    T_EQ(t_inb(t2, CMOS_DATA), 0xab);           /* index came along */
    T_EQ(t_inb(t2, CMOS_EXT_DATA), 0xcd);
    T_EQ(rtc_read(t2, 0x3d), 0x23);
    t_machine_free(t2);
    t_machine_free(t);
}

/* Record: ram[128], ext[128], index (256), ext_index, reserved[6]. */
T_TEST(cmos_check_rejects_bad_records)
{
    static const struct {
        unsigned int off;
        uint8_t val;
    } bad[] = {
        { 0, 1 },           /* Xen's seconds register */
        { 13, 0x80 },       /* Xen's register D */
        { 256, 0x80 },      /* index beyond 7 bits */
        { 257, 0x80 },
        { 258, 1 },         /* reserved */
        { 263, 1 },
    };
    struct t_machine *t = cmos_machine(NULL);
    struct dm_dev *d = t_find_dev(t, "cmos");
    uint8_t rec[264], tmp[264];
    size_t i;

    T_ASSERT(d != NULL);
    T_EQ(d->ops->state_size, sizeof(rec));
    d->ops->save(d->opaque, rec);
    T_EQ(d->ops->check(rec), 0);
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        memcpy(tmp, rec, sizeof(rec));
        tmp[bad[i].off] = bad[i].val;
        if (d->ops->check(tmp) == 0) {
            t_fail(__FILE__, __LINE__, "offset %u value 0x%x accepted",
                   bad[i].off, bad[i].val);
        }
    }
    t_machine_free(t);
}
