/*
 * 00:02.0, the Xen platform PCI device, and the unplug protocol on the
 * fixed ports 0x10-0x1F. References: xen-dm-interface.md section 4
 * ("4.1" identity, "4.2" ports, "4.3" what unplug removes, "4.4" guests),
 * X:docs/misc/hvm-emulated-unplug.pandoc, L:drivers/xen/platform-pci.c.
 *
 * The PV drivers find the device, read the magic, announce themselves
 * (product, build), and write an unplug mask; the emulated disks and NICs
 * are then drained, flushed, closed and removed so that blkfront and
 * netfront alone reach the images. Nothing is freed on unplug: a removed
 * device stays allocated, unrouted and absent, so a request already on its
 * way cannot reach freed memory (XSA-139 was a use-after-free here).
 *
 * The callback interrupt through INTA (HVM_PARAM_CALLBACK_IRQ in PCI INTx
 * form) is asserted by Xen itself: this device never drives its INTx, so
 * it never deasserts what Xen asserted.
 */
#include "hw/xen-platform/xen-platform.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/config.h"  /* cfg->xen_platform, cfg->domid */
#include "dm/dev.h"     /* dm_dev_register */
#include "dm/log.h"     /* dm_log_ratelimited */
#include "dm/machine.h" /* struct dm, dm->hv */
#include "dm/timer.h"   /* dm_clock_ns */
#include "hw/board.h"   /* board_unplug_nics, dm->board */
#include "hw/ide/ide.h" /* ide_unplug_disks */
#include "hw/pci/pci.h"

#define XENPLAT_VENDOR_ID  0x5853      /* XenSource (4.1) */
#define XENPLAT_DEVICE_ID  0x0001
/* Upstream xenfv creates the device before -device VGA: first free slot. */
#define XENPLAT_DEVFN      PCI_DEVFN(2, 0)
#define XENPLAT_CLASS      0xff8000    /* unclassified, subclass 0x80 */
#define XENPLAT_BAR0_SIZE  0x100       /* I/O */
#define XENPLAT_BAR1_SIZE  0x1000000   /* 16 MiB GFN space for PV drivers */

/* The fixed ports (4.2). */
#define XENPLAT_PORT_BASE  0x10
#define XENPLAT_PORT_LEN   0x10
#define XENPLAT_MAGIC      0x49d2
#define XENPLAT_MAGIC_BL   0xd249      /* these drivers are blacklisted */
#define XENPLAT_VERSION    1           /* Linux requires exactly 1 (4.4) */

/* Platform flags byte: bit 0 locks 0xC0000-0xFFFFF read-only (4.2). */
#define PFFLAG_ROM_LOCK    0x01
#define XENPLAT_ROM_GFN    0xc0
#define XENPLAT_ROM_FRAMES 0x40

/* BAR0 register map (4.2, newest Q). */
#define XENPLAT_BAR0_FLAGS 0x00
#define XENPLAT_BAR0_SUSE  0x04        /* write 1: unplug disks and NICs */
#define XENPLAT_BAR0_VMDP  0x08        /* 1 disks, 2 NICs, else a log byte */

/* Guest log: line buffer and token bucket (4.2, after qemu-trad). */
#define XENPLAT_LOG_LINE   4095
#define XENPLAT_LOG_BUCKET (128u * 1024)
#define XENPLAT_LOG_RATE   256u        /* bytes per second */

struct xenplat {
    struct pci_dev pci;
    struct dm *dm;
    struct iomap_region ports;          /* 0x10-0x1F */
    uint8_t flags;                      /* platform flags, port 0x10 byte */
    uint16_t product;                   /* port 0x12 word */
    uint32_t build;                     /* port 0x10 dword */
    bool blacklisted;
    uint16_t unplugged;                 /* unplug bits already acted on */
    char line[XENPLAT_LOG_LINE + 1];
    unsigned int line_len;
    bool throttle;                      /* log-throttling != "0" */
    uint64_t tokens;                    /* log bytes we may still print */
    uint64_t tokens_ns;                 /* when tokens was last topped up */
    struct xenplat_stats stats;
    struct dm_ratelimit rl;
    struct dm_dev dev;
};

/* The saved record (rule 13). The log line in flight is not kept. */
struct xenplat_rec {
    struct pci_dev_state pci;
    uint32_t build;
    uint16_t product;
    uint16_t unplugged;
    uint8_t flags;
    uint8_t blacklisted;
    uint8_t reserved[6];
};
_Static_assert(sizeof(struct xenplat_rec) == 280, "xenplat_rec layout");

#define XENPLAT_UNPLUG_MASK (XENPLAT_UNPLUG_IDE_DISKS | XENPLAT_UNPLUG_NICS | \
                             XENPLAT_UNPLUG_AUX_IDE_DISKS |                 \
                             XENPLAT_UNPLUG_NVME_DISKS)

static struct xenplat *
xenplat_of(struct dm *dm)
{
    return dm->board ? dm->board->xenplat : NULL;
}

/* ---- platform flags: the ROM lock ------------------------------------- */

static void
xenplat_apply_rom_lock(struct xenplat *s)
{
    struct hv *hv = s->dm->hv;
    enum hv_mem_type t = (s->flags & PFFLAG_ROM_LOCK) ? HV_MEM_RAM_RO
                                                      : HV_MEM_RAM_RW;

    if (hv->ops->set_mem_type &&
        hv->ops->set_mem_type(hv, t, XENPLAT_ROM_GFN, XENPLAT_ROM_FRAMES) < 0) {
        dm_log_ratelimited(&s->rl, DM_LOG_WARN, "xen-platform: cannot make "
                           "0xC0000-0xFFFFF %s", t == HV_MEM_RAM_RO ?
                           "read-only" : "writable");
    }
}

static void
xenplat_set_flags(struct xenplat *s, uint8_t val)
{
    s->flags = val & PFFLAG_ROM_LOCK;
    xenplat_apply_rom_lock(s);
}

/* ---- the guest log ------------------------------------------------------ */

/* Top the bucket up by the time since the last byte (token bucket). */
static bool
xenplat_log_take(struct xenplat *s)
{
    uint64_t now = dm_clock_ns(s->dm);
    uint64_t earned;

    if (!s->throttle) {
        return true;
    }
    earned = (now - s->tokens_ns) / (1000000000ull / XENPLAT_LOG_RATE);
    if (earned) {
        s->tokens = MIN(XENPLAT_LOG_BUCKET, s->tokens + earned);
        s->tokens_ns = now;
    }
    if (!s->tokens) {
        return false;
    }
    s->tokens--;
    return true;
}

static void
xenplat_log_flush(struct xenplat *s)
{
    g_autofree char *text = NULL;

    if (!s->line_len) {
        return;
    }
    s->line[s->line_len] = '\0';
    text = g_strescape(s->line, NULL);
    DM_INFO("xen-platform: guest: %s", text);
    s->stats.log_lines++;
    s->line_len = 0;
}

/* Port 0x12 byte writes: buffered up to '\n' or 4095 bytes (4.2). */
static void
xenplat_log_byte(struct xenplat *s, uint8_t c)
{
    if (!xenplat_log_take(s)) {
        if (!s->stats.log_dropped++) {
            DM_WARN("xen-platform: guest log over %u bytes/s; dropping",
                    XENPLAT_LOG_RATE);
        }
        return;
    }
    if (c == '\n') {
        xenplat_log_flush(s);
        return;
    }
    s->line[s->line_len++] = c ? (char)c : ' ';
    if (s->line_len == XENPLAT_LOG_LINE) {
        xenplat_log_flush(s);
    }
}

/* ---- the driver hand-shake --------------------------------------------- */

/* Product numbers (H:xen/include/public/hvm/pvdrivers.h). */
static const char *
xenplat_product_name(uint16_t product)
{
    static const char *const names[] = {
        [1] = "xensource-windows", [2] = "gplpv-windows", [3] = "linux",
        [4] = "xenserver-windows-v7.0+", [5] = "xenserver-windows-v7.2+",
    };

    if (product == 0xffff) {
        return "experimental";
    }
    return product < G_N_ELEMENTS(names) ? names[product] : NULL;
}

/* A build is blacklisted when /mh/driver-blacklist/<product>/<build>
 * exists (4.2, as qemu-trad). */
static bool
xenplat_build_blacklisted(struct xenplat *s)
{
    const char *name = xenplat_product_name(s->product);
    struct hv *hv = s->dm->hv;
    g_autofree char *path = NULL, *val = NULL;

    if (!name || !hv->ops->xs_read) {
        return false;
    }
    path = g_strdup_printf("/mh/driver-blacklist/%s/%u", name, s->build);
    val = hv->ops->xs_read(hv, path);
    return val != NULL;
}

static void
xenplat_write_product(struct xenplat *s, uint16_t product)
{
    s->product = product;
    s->stats.product = product;
}

static void
xenplat_write_build(struct xenplat *s, uint32_t build)
{
    const char *name = xenplat_product_name(s->product);

    s->build = build;
    s->stats.build = build;
    s->blacklisted = xenplat_build_blacklisted(s);
    s->stats.blacklisted = s->blacklisted;
    dm_log_ratelimited(&s->rl, DM_LOG_INFO, "xen-platform: PV drivers: "
                       "product %u (%s), build %u%s", s->product,
                       name ? name : "unknown", build,
                       s->blacklisted ? ": blacklisted, no unplug" : "");
}

/* ---- unplug (4.3) ------------------------------------------------------ */

static void
xenplat_describe_ide(GString *what, unsigned int mask)
{
    static const char *const pos[] = {
        "primary master", "primary slave", "secondary master",
        "secondary slave",
    };
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(pos); i++) {
        if (mask & (1u << i)) {
            g_string_append_printf(what, "%sIDE disk %u (%s)",
                                   what->len ? ", " : "", i, pos[i]);
        }
    }
}

/*
 * Disks first, then NICs, as QEMU does. Bit 0 overrides bit 2; bit 3
 * (NVMe) has nothing to remove here. Repeated or partial masks only act
 * on what is still plugged: every step is idempotent.
 */
static void
xenplat_unplug(struct xenplat *s, uint16_t mask, const char *via)
{
    g_autoptr(GString) what = g_string_new(NULL);
    unsigned int ide = 0, nics = 0;

    if (mask & ~XENPLAT_UNPLUG_MASK) {
        dm_log_ratelimited(&s->rl, DM_LOG_WARN, "xen-platform: unknown "
                           "unplug bits 0x%x ignored", mask &
                           ~XENPLAT_UNPLUG_MASK);
    }
    if (s->blacklisted) {
        dm_log_ratelimited(&s->rl, DM_LOG_WARN, "xen-platform: blacklisted "
                           "drivers asked for unplug 0x%x: ignored", mask);
        return;
    }
    if (mask & XENPLAT_UNPLUG_IDE_DISKS) {
        ide = ide_unplug_disks(s->dm, false);
    } else if (mask & XENPLAT_UNPLUG_AUX_IDE_DISKS) {
        ide = ide_unplug_disks(s->dm, true);
    }
    if (mask & XENPLAT_UNPLUG_NICS) {
        nics = board_unplug_nics(s->dm);
    }
    s->unplugged |= mask & XENPLAT_UNPLUG_MASK;
    s->stats.unplugged = s->unplugged;
    xenplat_describe_ide(what, ide);
    if (nics) {
        g_string_append_printf(what, "%s%u NIC%s", what->len ? ", " : "",
                               nics, nics == 1 ? "" : "s");
    }
    if (what->len) {
        s->stats.unplug_events++;
        DM_INFO("xen-platform: unplug 0x%x (%s): removed %s", mask, via,
                what->str);
    } else {
        dm_log_ratelimited(&s->rl, DM_LOG_INFO, "xen-platform: unplug 0x%x "
                           "(%s): nothing left to remove", mask, via);
    }
}

/* ---- fixed ports 0x10-0x1F: one row per (offset, width) ----------------- */

struct xenplat_port {
    uint8_t off;
    uint8_t size;
    uint32_t (*read)(struct xenplat *s);
    void (*write)(struct xenplat *s, uint32_t val);
};

static uint32_t
port_read_magic(struct xenplat *s)
{
    return s->blacklisted ? XENPLAT_MAGIC_BL : XENPLAT_MAGIC;
}

static uint32_t
port_read_flags(struct xenplat *s)
{
    return s->flags;
}

static uint32_t
port_read_version(struct xenplat *s)
{
    return XENPLAT_VERSION;
}

static void
port_write_unplug(struct xenplat *s, uint32_t val)
{
    xenplat_unplug(s, (uint16_t)val, "port 0x10");
}

static void
port_write_build(struct xenplat *s, uint32_t val)
{
    xenplat_write_build(s, val);
}

static void
port_write_flags(struct xenplat *s, uint32_t val)
{
    xenplat_set_flags(s, (uint8_t)val);
}

static void
port_write_product(struct xenplat *s, uint32_t val)
{
    xenplat_write_product(s, (uint16_t)val);
}

static void
port_write_log(struct xenplat *s, uint32_t val)
{
    xenplat_log_byte(s, (uint8_t)val);
}

static const struct xenplat_port xenplat_ports[] = {
    { 0, 2, port_read_magic, port_write_unplug },
    { 0, 4, NULL, port_write_build },
    { 0, 1, port_read_flags, port_write_flags },
    { 2, 1, port_read_version, port_write_log },
    { 2, 2, NULL, port_write_product },
};

static const struct xenplat_port *
xenplat_port_find(uint64_t off, unsigned int size)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(xenplat_ports); i++) {
        if (xenplat_ports[i].off == off && xenplat_ports[i].size == size) {
            return &xenplat_ports[i];
        }
    }
    return NULL;
}

static uint64_t
xenplat_port_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct xenplat_port *p = xenplat_port_find(off, size);

    if (!p || !p->read) {
        return iomap_size_mask(size);
    }
    return p->read(opaque);
}

static void
xenplat_port_write(void *opaque, uint64_t off, uint64_t val,
                   unsigned int size)
{
    const struct xenplat_port *p = xenplat_port_find(off, size);

    if (!p || !p->write) {
        GUEST_ERR("xen-platform: %u-byte write 0x%" PRIx64 " to port 0x%x "
                  "ignored", size, val, (unsigned int)(XENPLAT_PORT_BASE +
                  off));
        return;
    }
    p->write(opaque, (uint32_t)val);
}

/* ---- BAR0 (I/O) and BAR1 (MMIO) ------------------------------------------ */

static uint64_t
xenplat_bar0_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct xenplat *s = opaque;

    if (off == XENPLAT_BAR0_FLAGS) {
        return (iomap_size_mask(size) & ~0xffull) | s->flags;
    }
    return iomap_size_mask(size);
}

static void
xenplat_bar0_write(void *opaque, uint64_t off, uint64_t val,
                   unsigned int size)
{
    struct xenplat *s = opaque;

    if (off == XENPLAT_BAR0_FLAGS) {
        xenplat_set_flags(s, (uint8_t)val);
    } else if (off == XENPLAT_BAR0_SUSE && val == 1) {
        xenplat_unplug(s, XENPLAT_UNPLUG_IDE_DISKS | XENPLAT_UNPLUG_NICS,
                       "SUSE BAR0+4");
    } else if (off == XENPLAT_BAR0_VMDP && val == 1) {
        xenplat_unplug(s, XENPLAT_UNPLUG_IDE_DISKS, "VMDP BAR0+8");
    } else if (off == XENPLAT_BAR0_VMDP && val == 2) {
        xenplat_unplug(s, XENPLAT_UNPLUG_NICS, "VMDP BAR0+8");
    } else if (off == XENPLAT_BAR0_VMDP) {
        xenplat_log_byte(s, (uint8_t)val);
    }
}

/* A hole the PV drivers fill with grant-table frames: reads 0. */
static uint64_t
xenplat_bar1_read(void *opaque, uint64_t off, unsigned int size)
{
    return 0;
}

static void
xenplat_bar1_write(void *opaque, uint64_t off, uint64_t val,
                   unsigned int size)
{
}

/* ---- lifecycle -------------------------------------------------------- */

static void
xenplat_reset(void *opaque)
{
    struct xenplat *s = opaque;

    pci_dev_reset(&s->pci);
    xenplat_log_flush(s);
    s->product = 0;
    s->build = 0;
    s->blacklisted = false;
    xenplat_set_flags(s, 0);        /* reset writes 0 (4.2) */
}

static void
xenplat_save(void *opaque, void *rec)
{
    const struct xenplat *s = opaque;
    struct xenplat_rec *r = rec;

    memset(r, 0, sizeof(*r));
    pci_dev_save(&s->pci, &r->pci);
    r->build = s->build;
    r->product = s->product;
    r->unplugged = s->unplugged;
    r->flags = s->flags;
    r->blacklisted = s->blacklisted;
}

static int
xenplat_check(const void *rec)
{
    const struct xenplat_rec *r = rec;
    static const uint8_t zero[sizeof(r->reserved)];

    if ((r->flags & ~PFFLAG_ROM_LOCK) || r->blacklisted > 1 ||
        (r->unplugged & ~XENPLAT_UNPLUG_MASK) ||
        memcmp(r->reserved, zero, sizeof(zero)) != 0) {
        return -EINVAL;
    }
    return pci_dev_state_check(&r->pci, XENPLAT_VENDOR_ID, XENPLAT_DEVICE_ID);
}

/* The unplugged devices restore their own absence from their records. */
static void
xenplat_load(void *opaque, const void *rec)
{
    struct xenplat *s = opaque;
    const struct xenplat_rec *r = rec;

    pci_dev_load(&s->pci, &r->pci);
    s->build = r->build;
    s->product = r->product;
    s->unplugged = r->unplugged;
    s->blacklisted = r->blacklisted != 0;
    s->stats.unplugged = s->unplugged;
    xenplat_set_flags(s, r->flags);
}

static void
xenplat_destroy(void *opaque)
{
    struct xenplat *s = opaque;

    xenplat_log_flush(s);
    iomap_region_destroy(&s->ports);
    pci_dev_fini(&s->pci);
    s->dm->board->xenplat = NULL;
    g_free(s);
}

int
xenplat_get_stats(struct dm *dm, struct xenplat_stats *out)
{
    const struct xenplat *s = xenplat_of(dm);

    if (!s) {
        return -ENODEV;
    }
    *out = s->stats;
    return 0;
}

/* ---- tables ------------------------------------------------------------ */

static const struct pci_reg xenplat_regs[] = {
    /* I/O and memory decode enabled at reset (4.1). */
    { PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY,
      PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
      PCI_COMMAND_INTX_DISABLE, 0 },
};

static const struct iomap_ops xenplat_port_ops = {
    .read = xenplat_port_read,
    .write = xenplat_port_write,
    .min_size = 1,
    .max_size = 4,
};

static const struct iomap_ops xenplat_bar0_ops = {
    .read = xenplat_bar0_read,
    .write = xenplat_bar0_write,
    .min_size = 1,
    .max_size = 4,
};

static const struct iomap_ops xenplat_bar1_ops = {
    .read = xenplat_bar1_read,
    .write = xenplat_bar1_write,
    .min_size = 1,
    .max_size = 8,
};

static const struct pci_dev_info xenplat_info = {
    .name = "xen-platform",
    .vendor_id = XENPLAT_VENDOR_ID,
    .device_id = XENPLAT_DEVICE_ID,
    /* Windows WHQL wants non-zero subsystem ids (4.1). */
    .subsystem_vendor_id = XENPLAT_VENDOR_ID,
    .subsystem_id = XENPLAT_DEVICE_ID,
    .class_code = XENPLAT_CLASS,
    .revision = 1,
    .header_type = 0,
    .interrupt_pin = 1,                 /* INTA#: the callback via INTx */
};

static const struct dm_dev_ops xenplat_dev_ops = {
    .name = "xen-platform",
    .state_version = 1,
    .state_size = sizeof(struct xenplat_rec),
    .reset = xenplat_reset,
    .save = xenplat_save,
    .check = xenplat_check,
    .load = xenplat_load,
    .destroy = xenplat_destroy,
};

/* /local/domain/<domid>/log-throttling = "0" turns the limit off (4.2). */
static bool
xenplat_throttle_wanted(struct dm *dm, const struct dm_config *cfg)
{
    struct hv *hv = dm->hv;
    g_autofree char *path = NULL, *val = NULL;

    if (!hv->ops->xs_read) {
        return true;
    }
    path = g_strdup_printf("/local/domain/%u/log-throttling", cfg->domid);
    val = hv->ops->xs_read(hv, path);
    return !val || strcmp(val, "0") != 0;
}

static void
xenplat_init_bars(struct xenplat *s)
{
    static const struct pci_bar_info bar0 = {
        .name = "xen-platform-io", .type = PCI_BAR_IO,
        .size = XENPLAT_BAR0_SIZE, .ops = &xenplat_bar0_ops,
    };
    static const struct pci_bar_info bar1 = {
        .name = "xen-platform-mmio", .type = PCI_BAR_MEM32,
        .prefetchable = true, .size = XENPLAT_BAR1_SIZE,
        .ops = &xenplat_bar1_ops,
    };
    struct pci_bar_info b0 = bar0, b1 = bar1;

    b0.opaque = s;
    b1.opaque = s;
    pci_register_bar(&s->pci, 0, &b0);
    pci_register_bar(&s->pci, 1, &b1);
}

int
xenplat_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct xenplat *s;
    int rc;

    if (!cfg->xen_platform) {
        return 0;                       /* pc,accel=xen: no device (4.1) */
    }
    if (!dm->board->pci) {
        return -ENODEV;
    }
    s = g_new0(struct xenplat, 1);
    s->dm = dm;
    s->throttle = xenplat_throttle_wanted(dm, cfg);
    s->tokens = XENPLAT_LOG_BUCKET;     /* starts full */
    s->tokens_ns = dm_clock_ns(dm);
    pci_dev_init(&s->pci, &xenplat_info);
    pci_init_regs(&s->pci, xenplat_regs, G_N_ELEMENTS(xenplat_regs));
    xenplat_init_bars(s);
    iomap_region_init(&s->ports, "xen-platform-ports", XENPLAT_PORT_LEN,
                      &xenplat_port_ops, s);
    rc = iomap_add(dm->pio, &s->ports, XENPLAT_PORT_BASE);
    if (rc == 0) {
        rc = pci_bus_add(dm->board->pci, &s->pci, XENPLAT_DEVFN);
    }
    if (rc < 0) {
        iomap_region_destroy(&s->ports);
        pci_dev_fini(&s->pci);
        g_free(s);
        return rc;
    }
    dm->board->xenplat = s;
    dm_dev_register(dm, &s->dev, &xenplat_dev_ops, s, 0);
    return 0;
}
