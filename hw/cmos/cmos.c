/*
 * CMOS NVRAM of the PC's MC146818-compatible RTC, the part Xen leaves to
 * the device model (xen-dm-interface.md 5.3).
 *
 * Xen 4.17 emulates the RTC itself (xen/arch/x86/hvm/rtc.c) on ports
 * 0x70/0x71 for byte accesses and passes on (X86EMUL_UNHANDLEABLE, so the
 * ioreq server mapping the port gets it):
 *   - a write of index 14 or more to 0x70 (after masking bit 7, the NMI
 *     mask); Xen latches that index too, lower indexes stay in Xen;
 *   - reads of 0x70 and accesses to 0x71 while Xen's latched index is 14
 *     or more.
 * So hvmdm keeps its own copy of the index, sees every data access for
 * indexes 14-127, and never sees indexes 0-13. Ports 0x72/0x73 (the upper
 * 128 bytes of the PIIX4-style extended bank) have no handler in Xen and
 * come here whole.
 *
 * NVRAM is battery backed: a machine reset keeps its contents. The board
 * bytes are those firmware reads (SeaBIOS src/hw/rtc.h, src/boot.c,
 * src/fw/paravirt.c) and QEMU fills (hw/i386/pc.c pc_cmos_init_late,
 * set_boot_dev).
 */
#include "hw/cmos/cmos.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <time.h>

#include "dm/config.h"      /* cfg->boot_order, cfg->vcpus */
#include "dm/dev.h"         /* dm_dev_register */
#include "dm/iomap.h"       /* iomap_region_init, iomap_add */
#include "dm/log.h"         /* DM_ERR */
#include "dm/machine.h"     /* dm->ram_size, dm->rtc_timeoffset */

#define CMOS_INDEX_PORT     0x70
#define CMOS_EXT_INDEX_PORT 0x72
#define CMOS_SIZE           128
#define CMOS_INDEX_MASK     0x7f    /* bit 7 of 0x70 masks NMI: ignored */
/* Xen's RTC_CMOS_SIZE: indexes below it are the RTC, emulated by Xen. */
#define CMOS_XEN_RTC_SIZE   14

/* Bytes firmware reads (IBM PC AT Technical Reference "CMOS RAM";
 * SeaBIOS src/hw/rtc.h). */
#define CMOS_FLOPPY_TYPES       0x10
#define CMOS_EQUIPMENT          0x14
#define CMOS_BASE_MEM_LO        0x15    /* KiB below 1 MiB */
#define CMOS_BASE_MEM_HI        0x16
#define CMOS_EXT_MEM_LO         0x17    /* KiB above 1 MiB, up to 64 MiB */
#define CMOS_EXT_MEM_HI         0x18
#define CMOS_BOOT_FLAGS         0x2d
#define CMOS_CHECKSUM_HI        0x2e    /* sum of 0x10-0x2d */
#define CMOS_CHECKSUM_LO        0x2f
#define CMOS_POST_EXT_MEM_LO    0x30    /* the same, as POST found it */
#define CMOS_POST_EXT_MEM_HI    0x31
#define CMOS_CENTURY            0x32    /* BCD */
#define CMOS_MEM_16M_LO         0x34    /* 64 KiB units above 16 MiB */
#define CMOS_MEM_16M_HI         0x35
#define CMOS_BOOT_ORDER_3RD     0x38    /* bits 7:4 3rd device; bit 0 no
                                         * floppy signature check */
#define CMOS_BOOT_ORDER_1ST_2ND 0x3d    /* bits 3:0 1st, 7:4 2nd device */
#define CMOS_MEM_4G_LO          0x5b    /* 64 KiB units above 4 GiB */
#define CMOS_MEM_4G_MID         0x5c
#define CMOS_MEM_4G_HI          0x5d
#define CMOS_SMP_COUNT          0x5f    /* vCPUs - 1 */

#define CMOS_EQUIP_FPU          0x02
#define CMOS_EQUIP_PS2_MOUSE    0x04
#define CMOS_BOOT_FLAGS_A_FIRST 0x20    /* boot A: before C: (Bochs) */

/* Guest RAM below 4 GiB on xenfv (QEMU xen_ram_init, HVM_BELOW_4G_RAM_END);
 * the rest sits above 4 GiB. */
#define CMOS_BELOW_4G_END       0xf0000000ull
#define KIB                     1024ull
#define MIB                     (1024 * KIB)

/*
 * State, also the saved record (version 1). check() enforces: index and
 * ext_index within CMOS_INDEX_MASK (inside both banks); the bytes Xen's
 * RTC owns (ram[0, CMOS_XEN_RTC_SIZE)) zero; reserved bytes zero.
 * Property, held by fuzz/state-cmos.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct cmos_regs {
    uint8_t ram[CMOS_SIZE];         /* 0-13 are Xen's and stay 0 here */
    uint8_t ext[CMOS_SIZE];         /* upper bank, 0x72/0x73 */
    uint8_t index;                  /* last index that reached us */
    uint8_t ext_index;
    uint8_t reserved[6];
};

_Static_assert(sizeof(struct cmos_regs) == 2 * CMOS_SIZE + 8,
               "CMOS record has no padding");

struct cmos {
    struct dm *dm;
    struct dm_dev dev;
    struct iomap_region io;         /* 0x70-0x71 */
    struct iomap_region ext_io;     /* 0x72-0x73 */
    struct cmos_regs r;
};

/* ---- register access ---------------------------------------------------- */

/* Offset 0 (index) is write-only and reads 0xff, as Xen returns for it. */
static uint64_t
cmos_io_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct cmos *s = opaque;

    if (off == 0 || s->r.index < CMOS_XEN_RTC_SIZE) {
        return 0xff;
    }
    return s->r.ram[s->r.index];
}

/* Under Xen an index below 14 or its data never arrives; should one, it
 * is not ours: the index is noted so data accesses are refused. */
static void
cmos_io_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct cmos *s = opaque;

    if (off == 0) {
        s->r.index = val & CMOS_INDEX_MASK;
    } else if (s->r.index >= CMOS_XEN_RTC_SIZE) {
        s->r.ram[s->r.index] = (uint8_t)val;
    }
}

static uint64_t
cmos_ext_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct cmos *s = opaque;

    return off == 0 ? 0xff : s->r.ext[s->r.ext_index];
}

static void
cmos_ext_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct cmos *s = opaque;

    if (off == 0) {
        s->r.ext_index = val & CMOS_INDEX_MASK;
    } else {
        s->r.ext[s->r.ext_index] = (uint8_t)val;
    }
}

/* ---- board bytes -------------------------------------------------------- */

static void
cmos_set16(struct cmos *s, unsigned int lo, uint64_t val)
{
    s->r.ram[lo] = val & 0xff;
    s->r.ram[lo + 1] = (val >> 8) & 0xff;
}

/* Memory sizes as pc_cmos_init_late() writes them (and SeaBIOS reads them
 * when it has no e820 table; under Xen it takes hvmloader's instead). */
static void
cmos_set_memory(struct cmos *s, uint64_t ram)
{
    uint64_t below = MIN(ram, CMOS_BELOW_4G_END);
    uint64_t above = ram - below;
    uint64_t ext = below > MIB ? MIN((below - MIB) / KIB, 0xffff) : 0;
    uint64_t m16 = below > 16 * MIB ?
                   MIN((below - 16 * MIB) / (64 * KIB), 0xffff) : 0;
    uint64_t m4g = MIN(above / (64 * KIB), 0xffffff);

    cmos_set16(s, CMOS_BASE_MEM_LO, MIN(below / KIB, 640));
    cmos_set16(s, CMOS_EXT_MEM_LO, ext);
    cmos_set16(s, CMOS_POST_EXT_MEM_LO, ext);
    cmos_set16(s, CMOS_MEM_16M_LO, m16);
    s->r.ram[CMOS_MEM_4G_LO] = m4g & 0xff;
    s->r.ram[CMOS_MEM_4G_MID] = (m4g >> 8) & 0xff;
    s->r.ram[CMOS_MEM_4G_HI] = (m4g >> 16) & 0xff;
}

/* Boot device codes of SeaBIOS boot_init(): 1 floppy, 2 disk, 3 CD-ROM,
 * 4 network; 0 for anything else. */
static unsigned int
cmos_boot_code(char dev)
{
    switch (dev) {
    case 'a':
    case 'b':
        return 1;
    case 'c':
        return 2;
    case 'd':
        return 3;
    case 'n':
        return 4;
    default:
        return 0;
    }
}

/* Up to three devices, nibbles in 0x3d (1st, 2nd) and 0x38 (3rd); the
 * floppy signature check stays on (0x38 bit 0 clear). */
static int
cmos_set_boot_order(struct cmos *s, const char *order)
{
    unsigned int code[3] = { 0, 0, 0 };
    size_t i, n = strlen(order);

    if (n > 3) {
        DM_ERR("-boot order=%s: the PC BIOS takes at most 3 boot devices; "
               "give up to 3 of a, c, d, n", order);
        return -EINVAL;
    }
    for (i = 0; i < n; i++) {
        code[i] = cmos_boot_code(order[i]);
        if (!code[i]) {
            DM_ERR("-boot order=%s: '%c' is not a PC boot device; use a "
                   "(floppy), c (disk), d (CD-ROM) or n (network)", order,
                   order[i]);
            return -EINVAL;
        }
    }
    s->r.ram[CMOS_BOOT_ORDER_1ST_2ND] = (uint8_t)(code[1] << 4 | code[0]);
    s->r.ram[CMOS_BOOT_ORDER_3RD] = (uint8_t)(code[2] << 4);
    s->r.ram[CMOS_BOOT_FLAGS] = code[0] == 1 ? CMOS_BOOT_FLAGS_A_FIRST : 0;
    return 0;
}

/* The century SeaBIOS keeps for INT 1Ah (src/clock.c): the guest's RTC
 * year is the host's moved by the offset Xen reported. */
static uint8_t
cmos_century_bcd(const struct dm *dm)
{
    time_t now = (time_t)(g_get_real_time() / G_USEC_PER_SEC +
                          dm->rtc_timeoffset);
    struct tm tm;
    unsigned int century = 20;

    if (gmtime_r(&now, &tm)) {
        century = (unsigned int)(tm.tm_year + 1900) / 100;
    }
    return (uint8_t)((century / 10) << 4 | (century % 10));
}

/* IBM AT checksum: 16-bit sum of 0x10-0x2d, big endian in 0x2e/0x2f. */
static void
cmos_set_checksum(struct cmos *s)
{
    unsigned int i, sum = 0;

    for (i = CMOS_FLOPPY_TYPES; i < CMOS_CHECKSUM_HI; i++) {
        sum += s->r.ram[i];
    }
    s->r.ram[CMOS_CHECKSUM_HI] = (sum >> 8) & 0xff;
    s->r.ram[CMOS_CHECKSUM_LO] = sum & 0xff;
}

static int
cmos_fill(struct cmos *s, const struct dm_config *cfg)
{
    unsigned int vcpus = cfg ? cfg->vcpus : 1;
    int rc;

    rc = cmos_set_boot_order(s, cfg ? cfg->boot_order : "cad");
    if (rc < 0) {
        return rc;
    }
    s->r.ram[CMOS_FLOPPY_TYPES] = 0;    /* no floppy drives */
    s->r.ram[CMOS_EQUIPMENT] = CMOS_EQUIP_FPU | CMOS_EQUIP_PS2_MOUSE;
    cmos_set_memory(s, s->dm->ram_size);
    s->r.ram[CMOS_CENTURY] = cmos_century_bcd(s->dm);
    /* More than 255 CPUs do not fit: 0 then, as QEMU writes. */
    s->r.ram[CMOS_SMP_COUNT] = (vcpus >= 1 && vcpus <= 255) ? vcpus - 1 : 0;
    cmos_set_checksum(s);
    return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* A reset keeps the battery-backed contents; only the index latches go. */
static void
cmos_reset(void *opaque)
{
    struct cmos *s = opaque;

    s->r.index = 0;
    s->r.ext_index = 0;
}

static void
cmos_save(void *opaque, void *rec)
{
    const struct cmos *s = opaque;

    memcpy(rec, &s->r, sizeof(s->r));
}

static int
cmos_check(const void *rec)
{
    const struct cmos_regs *r = rec;
    static const uint8_t zero[CMOS_XEN_RTC_SIZE];

    if (r->index > CMOS_INDEX_MASK || r->ext_index > CMOS_INDEX_MASK ||
        memcmp(r->ram, zero, CMOS_XEN_RTC_SIZE) != 0 ||
        memcmp(r->reserved, zero, sizeof(r->reserved)) != 0) {
        return -EINVAL;
    }
    return 0;
}

static void
cmos_load(void *opaque, const void *rec)
{
    struct cmos *s = opaque;

    memcpy(&s->r, rec, sizeof(s->r));
}

static void
cmos_destroy(void *opaque)
{
    struct cmos *s = opaque;

    iomap_region_destroy(&s->io);
    iomap_region_destroy(&s->ext_io);
    g_free(s);
}

/* ---- ops tables --------------------------------------------------------- */

static const struct iomap_ops cmos_io_ops = {
    .read = cmos_io_read,
    .write = cmos_io_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct iomap_ops cmos_ext_ops = {
    .read = cmos_ext_read,
    .write = cmos_ext_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct dm_dev_ops cmos_dev_ops = {
    .name = "cmos",
    .state_version = 1,
    .state_size = sizeof(struct cmos_regs),
    .reset = cmos_reset,
    .save = cmos_save,
    .check = cmos_check,
    .load = cmos_load,
    .destroy = cmos_destroy,
};

/* ---- board -------------------------------------------------------------- */

int
cmos_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct cmos *s = g_new0(struct cmos, 1);
    int rc;

    s->dm = dm;
    rc = cmos_fill(s, cfg);
    if (rc < 0) {
        g_free(s);
        return rc;
    }
    iomap_region_init(&s->io, "cmos", 2, &cmos_io_ops, s);
    iomap_region_init(&s->ext_io, "cmos-ext", 2, &cmos_ext_ops, s);
    rc = iomap_add(dm->pio, &s->io, CMOS_INDEX_PORT);
    if (rc == 0) {
        rc = iomap_add(dm->pio, &s->ext_io, CMOS_EXT_INDEX_PORT);
    }
    if (rc < 0) {
        DM_ERR("cmos: ports 0x%x-0x%x are taken", CMOS_INDEX_PORT,
               CMOS_EXT_INDEX_PORT + 1);
        iomap_region_destroy(&s->io);
        g_free(s);
        return rc;
    }
    dm_dev_register(dm, &s->dev, &cmos_dev_ops, s, 0);
    return 0;
}
