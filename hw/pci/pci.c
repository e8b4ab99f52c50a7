/*
 * The PCI bus core (PCI Local Bus Specification 3.0, "PCI30"): bus 0 with
 * configuration mechanism #1 (PCI30 3.2.2.3.2) on ports 0xCF8-0xCFF and the
 * same configuration space through Xen's IOREQ_TYPE_PCI_CONFIG
 * (xen-dm-interface.md 1.3), per-byte masks on every configuration write,
 * and BARs whose address-map regions follow the guest's programming.
 */
#include "hw/pci/pci.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"     /* dm_dev_register */
#include "dm/hv.h"      /* map_pcidev, unmap_pcidev */
#include "dm/irq.h"     /* dm_pci_intx_set */
#include "dm/log.h"     /* GUEST_ERR, DM_ERR */
#include "dm/machine.h" /* struct dm, dm_set_pci_cfg */
#include "hw/board.h"   /* dm->board->pci */

/* Configuration mechanism #1 (PCI30 3.2.2.3.2). */
#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_PORTS_LEN           8       /* 0xCF8-0xCFF */
#define PCI_CONFIG_DATA_OFF     4       /* 0xCFC from 0xCF8 */
#define PCI_CF9_OFF             1       /* PIIX3 Reset Control, 0xCF9 */
#define PCI_CONFADD_ENABLE      0x80000000u
/* Bits 30:24 are reserved and bits 1:0 read as 0 (PCI30 3.2.2.3.2). */
#define PCI_CONFADD_MASK        0x80fffffcu
#define PCI_CONFADD_BUS(a)      (((a) >> 16) & 0xff)
#define PCI_CONFADD_DEVFN(a)    (((a) >> 8) & 0xff)
#define PCI_CONFADD_REG(a)      ((a) & 0xfc)

#define PCI_NR_DEVFN 256
#define PCI_ROM_MIN_SIZE 0x800u         /* address bits 31:11 (PCI30 6.2.5.2) */
#define PCI_CAP_MAX 48                  /* 192 bytes / 4 (PCI30 6.7) */

struct pci_bus {
    struct dm *dm;
    struct pci_dev *devs[PCI_NR_DEVFN];
    uint32_t config_address;            /* CONFIG_ADDRESS, 0xCF8 */
    struct iomap_region ports;          /* 0xCF8-0xCFF */
    const struct pci_cf9_ops *cf9;
    void *cf9_opaque;
    struct dm_dev dev;
};

/*
 * The saved record of the bus itself: the CONFIG_ADDRESS latch. check()
 * enforces: only the bits PCI_CONFADD_MASK keeps; reserved zero.
 * Property, held by fuzz/state-pci-bus.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct pci_bus_rec {
    uint32_t config_address;
    uint32_t reserved;
};

/* How each BAR type decodes (PCI30 6.2.5.1, 6.2.5.2). */
struct pci_bar_kind {
    uint32_t addr_mask;                 /* address bits of the low dword */
    uint32_t type_bits;                 /* read-only low bits */
    uint16_t decode;                    /* command bit enabling it */
    bool io;
};

static const struct pci_bar_kind pci_bar_kinds[] = {
    [PCI_BAR_IO] = { 0xfffffffcu, PCI_BASE_ADDRESS_SPACE_IO,
                     PCI_COMMAND_IO, true },
    [PCI_BAR_MEM32] = { 0xfffffff0u, 0, PCI_COMMAND_MEMORY, false },
    [PCI_BAR_MEM64] = { 0xfffffff0u, PCI_BASE_ADDRESS_MEM_TYPE_64,
                        PCI_COMMAND_MEMORY, false },
    [PCI_BAR_ROM] = { 0xfffff800u, 0, PCI_COMMAND_MEMORY, false },
};

/* Header registers every function has (PCI30 6.2.2-6.2.4). */
static const struct pci_reg pci_header_regs[] = {
    /* The enables guests use; the rest hardwired to 0 (PCI30 6.2.2). */
    { PCI_COMMAND, 2, 0,
      PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
      PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE, 0 },
    /* Error bits are write-1-to-clear; DEVSEL timing medium (6.2.3). */
    { PCI_STATUS, 2, PCI_STATUS_DEVSEL_MEDIUM, 0, PCI_STATUS_W1C },
    { PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0 },
    { PCI_INTERRUPT_LINE, 1, 0, 0xff, 0 },
};

static uint32_t
pci_ones(unsigned int size)
{
    return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static unsigned int
pci_bar_reg(unsigned int bar)
{
    return bar == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar;
}

static struct iomap *
pci_bar_map_of(const struct pci_dev *d, unsigned int bar)
{
    return pci_bar_kinds[d->bars[bar].type].io ? d->bus->dm->pio
                                               : d->bus->dm->mmio;
}

/* ---- INTx ------------------------------------------------------------- */

/*
 * Status bit 3 mirrors the function's interrupt; the pin is driven only
 * while the command register's Interrupt Disable is clear (PCI30 6.2.2,
 * 6.2.3). The hypervisor ORs the functions of a slot (dm/irq.c).
 */
static void
pci_update_intx(struct pci_dev *d)
{
    uint16_t status = pci_get_word(d, PCI_STATUS) & ~PCI_STATUS_INTERRUPT;
    uint8_t pin = pci_get_byte(d, PCI_INTERRUPT_PIN);
    bool out;

    if (d->intx_level) {
        status |= PCI_STATUS_INTERRUPT;
    }
    pci_set_word(d, PCI_STATUS, status);
    if (!d->present || pin < 1 || pin > 4) {
        return;
    }
    out = d->intx_level &&
          !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
    dm_pci_intx_set(d->bus->dm, d->devfn, pin - 1u, out);
}

/* A level the device already drives, with PCI_STATUS already showing it,
 * changes nothing: every path that changes the command register, presence
 * or the level itself calls pci_update_intx. */
void
pci_set_irq(struct pci_dev *d, int level)
{
    bool l = level != 0;

    if (d->intx_level == l &&
        !!(pci_get_word(d, PCI_STATUS) & PCI_STATUS_INTERRUPT) == l) {
        return;
    }
    d->intx_level = l;
    pci_update_intx(d);
}

/* ---- BAR mapping ------------------------------------------------------ */

/*
 * Where BAR bar should decode, if anywhere: implemented, its space enabled
 * in the command register (and the ROM enable bit for the ROM BAR), and
 * assigned. Address 0 is unassigned, and a range ending at the top of the
 * BAR's width is the sizing pattern still in the register (PCI30 6.2.5.1).
 */
static bool
pci_bar_target(const struct pci_dev *d, unsigned int bar, uint64_t *base)
{
    const struct pci_bar *b = &d->bars[bar];
    const struct pci_bar_kind *k = &pci_bar_kinds[b->type];
    unsigned int reg = pci_bar_reg(bar);
    uint32_t lo = pci_get_long(d, reg);
    uint64_t addr = lo & k->addr_mask, top = UINT32_MAX;

    if (!b->size || !(pci_get_word(d, PCI_COMMAND) & k->decode)) {
        return false;
    }
    if (b->type == PCI_BAR_ROM && !(lo & PCI_ROM_ADDRESS_ENABLE)) {
        return false;
    }
    if (b->type == PCI_BAR_MEM64) {
        addr |= (uint64_t)pci_get_long(d, reg + 4) << 32;
        top = UINT64_MAX;
    }
    if (addr == 0 || addr + (b->size - 1) >= top) {
        return false;
    }
    *base = addr;
    return true;
}

static void
pci_bar_moved(struct pci_dev *d, unsigned int bar)
{
    if (bar == PCI_ROM_SLOT) {
        pci_rom_ram_moved(d);
    }
    if (d->info->bar_moved) {
        d->info->bar_moved(d, bar);
    }
}

/* Unmap every BAR that no longer decodes where it is mapped. */
static bool
pci_bus_unmap_stale(struct pci_bus *bus)
{
    bool freed = false;
    unsigned int devfn, bar;

    for (devfn = 0; devfn < PCI_NR_DEVFN; devfn++) {
        struct pci_dev *d = bus->devs[devfn];

        for (bar = 0; d && bar < PCI_NUM_REGIONS; bar++) {
            struct iomap_region *r = &d->bars[bar].region;
            uint64_t base;

            if (iomap_region_mapped(r) &&
                (!pci_bar_target(d, bar, &base) || base != r->base)) {
                iomap_del(r);
                pci_bar_moved(d, bar);
                freed = true;
            }
        }
    }
    return freed;
}

static void
pci_bar_map(struct pci_dev *d, unsigned int bar, uint64_t base)
{
    struct pci_bar *b = &d->bars[bar];
    int rc = iomap_add(pci_bar_map_of(d, bar), &b->region, base);

    if (rc < 0) {
        b->refused_base = base;
        GUEST_ERR("PCI 00:%02x.%u BAR %u at 0x%" PRIx64 " claims nothing: %s",
                  PCI_SLOT(d->devfn), PCI_FUNC(d->devfn), bar, base,
                  g_strerror(-rc));
        return;
    }
    b->refused_base = UINT64_MAX;
    pci_bar_moved(d, bar);
}

/* Map every BAR that should decode and does not; retry refused ones only
 * when their address changed or a region went away. */
static void
pci_bus_map_wanted(struct pci_bus *bus, bool retry)
{
    unsigned int devfn, bar;

    for (devfn = 0; devfn < PCI_NR_DEVFN; devfn++) {
        struct pci_dev *d = bus->devs[devfn];

        for (bar = 0; d && bar < PCI_NUM_REGIONS; bar++) {
            uint64_t base;

            if (iomap_region_mapped(&d->bars[bar].region) ||
                !pci_bar_target(d, bar, &base) ||
                (base == d->bars[bar].refused_base && !retry)) {
                continue;
            }
            pci_bar_map(d, bar, base);
        }
    }
}

/*
 * Bring the address maps (and with them the ioreq server's ranges) in line
 * with every BAR and command register on the bus. Unmapping first lets two
 * BARs swap places in one step.
 */
static void
pci_bus_remap(struct pci_bus *bus, bool retry)
{
    if (pci_bus_unmap_stale(bus)) {
        retry = true;
    }
    pci_bus_map_wanted(bus, retry);
}

/* ---- configuration space ---------------------------------------------- */

static uint32_t
pci_cfg_read(struct pci_bus *bus, unsigned int devfn, unsigned int reg,
             unsigned int size)
{
    const struct pci_dev *d = bus->devs[devfn & 0xff];
    uint32_t v = 0;
    unsigned int i;

    /* No function: master abort, all-ones (PCI30 6.1). */
    if (!d || size > 4 || reg >= PCI_CONFIG_SIZE ||
        size > PCI_CONFIG_SIZE - reg) {
        return pci_ones(size);
    }
    for (i = 0; i < size; i++) {
        v |= (uint32_t)d->config[reg + i] << (8 * i);
    }
    return v;
}

static void
pci_write_byte(struct pci_dev *d, unsigned int off, uint8_t v)
{
    uint8_t w = d->wmask[off];

    d->config[off] = (uint8_t)((d->config[off] & ~w) | (v & w));
    d->config[off] &= (uint8_t)~(v & d->w1cmask[off]);
}

static void
pci_after_write(struct pci_dev *d, unsigned int reg, unsigned int size)
{
    bool cmd = pci_range_hit(reg, size, PCI_COMMAND, 2);

    if (cmd) {
        pci_update_intx(d);
    }
    if (cmd || pci_range_hit(reg, size, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS) ||
        pci_range_hit(reg, size, PCI_ROM_ADDRESS, 4)) {
        pci_bus_remap(d->bus, false);
    }
    if (d->info->cfg_write) {
        d->info->cfg_write(d, reg, size);
    }
}

static void
pci_cfg_write(struct pci_bus *bus, unsigned int devfn, unsigned int reg,
              uint32_t val, unsigned int size)
{
    struct pci_dev *d = bus->devs[devfn & 0xff];
    unsigned int i;

    if (!d || size > 4 || reg >= PCI_CONFIG_SIZE ||
        size > PCI_CONFIG_SIZE - reg) {
        return;
    }
    for (i = 0; i < size; i++) {
        pci_write_byte(d, reg + i, (uint8_t)(val >> (8 * i)));
    }
    pci_after_write(d, reg, size);
}

/* IOREQ_TYPE_PCI_CONFIG: bdf = bus << 8 | devfn; only bus 0 exists. */
static uint32_t
pci_ioreq_read(void *opaque, uint16_t bdf, uint16_t reg, unsigned int size)
{
    if (bdf >> 8) {
        return pci_ones(size);
    }
    return pci_cfg_read(opaque, bdf & 0xff, reg, size);
}

static void
pci_ioreq_write(void *opaque, uint16_t bdf, uint16_t reg, uint32_t val,
                unsigned int size)
{
    if (!(bdf >> 8)) {
        pci_cfg_write(opaque, bdf & 0xff, reg, val, size);
    }
}

/* ---- ports 0xCF8-0xCFF ------------------------------------------------ */

/* CONFIG_DATA at doff (0..3): through CONFIG_ADDRESS when enabled. */
static uint32_t
pci_data_read(struct pci_bus *bus, unsigned int doff, unsigned int size)
{
    uint32_t ca = bus->config_address;

    if (!(ca & PCI_CONFADD_ENABLE) || PCI_CONFADD_BUS(ca) != 0) {
        return pci_ones(size);
    }
    return pci_cfg_read(bus, PCI_CONFADD_DEVFN(ca), PCI_CONFADD_REG(ca) + doff,
                        size);
}

static void
pci_data_write(struct pci_bus *bus, unsigned int doff, uint32_t val,
               unsigned int size)
{
    uint32_t ca = bus->config_address;

    if ((ca & PCI_CONFADD_ENABLE) && PCI_CONFADD_BUS(ca) == 0) {
        pci_cfg_write(bus, PCI_CONFADD_DEVFN(ca), PCI_CONFADD_REG(ca) + doff,
                      val, size);
    }
}

/*
 * Only a dword at 0xCF8 is CONFIG_ADDRESS; byte and word cycles there pass
 * through as ordinary I/O (PCI30 3.2.2.3.2), where the PIIX3 claims 0xCF9.
 */
static uint8_t
pci_port_read_byte(struct pci_bus *bus, unsigned int off)
{
    if (off >= PCI_CONFIG_DATA_OFF) {
        return (uint8_t)pci_data_read(bus, off - PCI_CONFIG_DATA_OFF, 1);
    }
    if (off == PCI_CF9_OFF && bus->cf9) {
        return bus->cf9->read(bus->cf9_opaque);
    }
    return 0xff;
}

static void
pci_port_write_byte(struct pci_bus *bus, unsigned int off, uint8_t val)
{
    if (off >= PCI_CONFIG_DATA_OFF) {
        pci_data_write(bus, off - PCI_CONFIG_DATA_OFF, val, 1);
    } else if (off == PCI_CF9_OFF && bus->cf9) {
        bus->cf9->write(bus->cf9_opaque, val);
    }
}

static uint64_t
pci_port_read(void *opaque, uint64_t off, unsigned int size)
{
    struct pci_bus *bus = opaque;
    uint32_t v = 0;
    unsigned int i;

    if (off == 0 && size == 4) {
        return bus->config_address;
    }
    if (off >= PCI_CONFIG_DATA_OFF) {
        return pci_data_read(bus, (unsigned int)off - PCI_CONFIG_DATA_OFF,
                             size);
    }
    for (i = 0; i < size; i++) {
        v |= (uint32_t)pci_port_read_byte(bus, (unsigned int)off + i)
             << (8 * i);
    }
    return v;
}

static void
pci_port_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct pci_bus *bus = opaque;
    unsigned int i;

    if (off == 0 && size == 4) {
        bus->config_address = (uint32_t)val & PCI_CONFADD_MASK;
        return;
    }
    if (off >= PCI_CONFIG_DATA_OFF) {
        pci_data_write(bus, (unsigned int)off - PCI_CONFIG_DATA_OFF,
                       (uint32_t)val, size);
        return;
    }
    for (i = 0; i < size; i++) {
        pci_port_write_byte(bus, (unsigned int)off + i,
                            (uint8_t)(val >> (8 * i)));
    }
}

/* ---- expansion ROM ---------------------------------------------------- */

static uint64_t
pci_rom_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct pci_dev *d = opaque;
    uint64_t v = 0;
    unsigned int i;

    for (i = 0; i < size; i++) {
        uint8_t b = off + i < d->rom_len ? d->rom_image[off + i] : 0;

        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

/* The ROM is read-only (PCI30 6.2.5.2): writes have no effect. */
static void
pci_rom_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    const struct pci_dev *d = opaque;

    GUEST_ERR("write to the expansion ROM of %s ignored", d->info->name);
}

/* ---- building a function ---------------------------------------------- */

void
pci_init_regs(struct pci_dev *d, const struct pci_reg *regs, size_t n)
{
    size_t i;
    unsigned int b;

    for (i = 0; i < n; i++) {
        const struct pci_reg *r = &regs[i];

        g_assert(r->size == 1 || r->size == 2 || r->size == 4);
        g_assert(r->off + r->size <= PCI_CONFIG_SIZE);
        g_assert(!(r->wmask & r->w1cmask));
        for (b = 0; b < r->size; b++) {
            d->config[r->off + b] = (uint8_t)(r->reset >> (8 * b));
            d->wmask[r->off + b] = (uint8_t)(r->wmask >> (8 * b));
            d->w1cmask[r->off + b] = (uint8_t)(r->w1cmask >> (8 * b));
        }
    }
}

void
pci_dev_init(struct pci_dev *d, const struct pci_dev_info *info)
{
    unsigned int i;

    memset(d, 0, sizeof(*d));
    d->info = info;
    for (i = 0; i < PCI_NUM_REGIONS; i++) {
        d->bars[i].refused_base = UINT64_MAX;
    }
    pci_set_word(d, PCI_VENDOR_ID, info->vendor_id);
    pci_set_word(d, PCI_DEVICE_ID, info->device_id);
    pci_set_byte(d, PCI_REVISION_ID, info->revision);
    pci_set_byte(d, PCI_CLASS_PROG, (uint8_t)info->class_code);
    pci_set_word(d, PCI_CLASS_DEVICE, (uint16_t)(info->class_code >> 8));
    pci_set_byte(d, PCI_HEADER_TYPE, info->header_type);
    pci_set_word(d, PCI_SUBSYSTEM_VENDOR_ID, info->subsystem_vendor_id);
    pci_set_word(d, PCI_SUBSYSTEM_ID, info->subsystem_id);
    pci_set_byte(d, PCI_INTERRUPT_PIN, info->interrupt_pin);
    pci_init_regs(d, pci_header_regs, G_N_ELEMENTS(pci_header_regs));
}

/* BAR sizes allowed by PCI30 6.2.5.1: I/O 4-256 bytes, memory >= 16. */
static void
pci_bar_check_info(const struct pci_dev *d, unsigned int bar,
                   const struct pci_bar_info *info)
{
    uint64_t size = info->size;

    g_assert(bar < PCI_NUM_REGIONS);
    g_assert(size && !(size & (size - 1)));
    g_assert((bar == PCI_ROM_SLOT) == (info->type == PCI_BAR_ROM));
    g_assert(!d->bars[bar].size && !d->bars[bar].upper_half);
    g_assert(info->type != PCI_BAR_IO || (size >= 4 && size <= 256));
    g_assert(info->type == PCI_BAR_IO || size >= 16);
    g_assert(info->type == PCI_BAR_MEM64 || size <= 0x80000000u);
    g_assert(info->type != PCI_BAR_ROM || size >= PCI_ROM_MIN_SIZE);
    g_assert(info->type != PCI_BAR_MEM64 ||
             (bar + 1 < PCI_NUM_BARS && !d->bars[bar + 1].size));
}

void
pci_register_bar(struct pci_dev *d, unsigned int bar,
                 const struct pci_bar_info *info)
{
    const struct pci_bar_kind *k = &pci_bar_kinds[info->type];
    uint64_t wmask = ~(info->size - 1);
    struct pci_reg r = { .off = (uint8_t)pci_bar_reg(bar), .size = 4 };
    struct pci_bar *b = &d->bars[bar];

    pci_bar_check_info(d, bar, info);
    b->size = info->size;
    b->type = info->type;
    iomap_region_init(&b->region, info->name, info->size, info->ops,
                      info->opaque);
    r.reset = k->type_bits;
    if (!k->io && info->type != PCI_BAR_ROM && info->prefetchable) {
        r.reset |= PCI_BASE_ADDRESS_MEM_PREFETCH;
    }
    r.wmask = (uint32_t)wmask & k->addr_mask;
    if (info->type == PCI_BAR_ROM) {
        r.wmask |= PCI_ROM_ADDRESS_ENABLE;
    }
    pci_init_regs(d, &r, 1);
    if (info->type == PCI_BAR_MEM64) {
        struct pci_reg hi = { .off = (uint8_t)(r.off + 4), .size = 4,
                              .wmask = (uint32_t)(wmask >> 32) };

        pci_init_regs(d, &hi, 1);
        d->bars[bar + 1].upper_half = true;
    }
}

uint8_t
pci_add_capability(struct pci_dev *d, uint8_t cap_id, uint8_t off,
                   uint8_t size)
{
    g_assert(off >= PCI_HEADER_END && !(off & 3) && size >= 2);
    g_assert(size <= PCI_CONFIG_SIZE - off);
    g_assert(!pci_find_capability(d, cap_id));
    pci_set_byte(d, off + PCI_CAP_LIST_ID, cap_id);
    pci_set_byte(d, off + PCI_CAP_LIST_NEXT,
                 pci_get_byte(d, PCI_CAPABILITY_LIST));
    d->wmask[off] = d->wmask[off + 1] = 0;
    d->w1cmask[off] = d->w1cmask[off + 1] = 0;
    /* New capabilities go to the head of the list (PCI30 6.7). */
    pci_set_byte(d, PCI_CAPABILITY_LIST, off);
    pci_set_word(d, PCI_STATUS,
                 pci_get_word(d, PCI_STATUS) | PCI_STATUS_CAP_LIST);
    return off;
}

uint8_t
pci_find_capability(const struct pci_dev *d, uint8_t cap_id)
{
    uint8_t off = pci_get_byte(d, PCI_CAPABILITY_LIST) & 0xfc;
    unsigned int n;

    if (!(pci_get_word(d, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    for (n = 0; n < PCI_CAP_MAX && off >= PCI_HEADER_END; n++) {
        if (pci_get_byte(d, off + PCI_CAP_LIST_ID) == cap_id) {
            return off;
        }
        off = pci_get_byte(d, off + PCI_CAP_LIST_NEXT) & 0xfc;
    }
    return 0;
}

/* ---- the bus ---------------------------------------------------------- */

static int
pci_plug(struct pci_dev *d)
{
    struct pci_bus *bus = d->bus;
    struct hv *hv = bus->dm->hv;
    int rc;

    rc = hv->ops->map_pcidev(hv, 0, PCI_SLOT(d->devfn), PCI_FUNC(d->devfn));
    if (rc < 0) {
        DM_ERR("cannot route PCI 00:%02x.%u (%s) to hvmdm: %s",
               PCI_SLOT(d->devfn), PCI_FUNC(d->devfn), d->info->name,
               g_strerror(-rc));
        return rc;
    }
    bus->devs[d->devfn] = d;
    d->present = true;
    pci_bus_remap(bus, false);
    pci_update_intx(d);
    return 0;
}

int
pci_bus_add(struct pci_bus *bus, struct pci_dev *d, unsigned int devfn)
{
    if (devfn >= PCI_NR_DEVFN || bus->devs[devfn]) {
        DM_ERR("%s: PCI 00:%02x.%u is taken", d->info->name,
               PCI_SLOT(devfn), PCI_FUNC(devfn));
        return -EEXIST;
    }
    d->bus = bus;
    d->devfn = (uint8_t)devfn;
    memcpy(d->reset_config, d->config, sizeof(d->reset_config));
    pci_rom_ram_init(d, bus->dm);
    return pci_plug(d);
}

struct pci_dev *
pci_bus_find(struct pci_bus *bus, unsigned int devfn)
{
    return devfn < PCI_NR_DEVFN ? bus->devs[devfn] : NULL;
}

void
pci_bus_set_cf9(struct pci_bus *bus, const struct pci_cf9_ops *ops,
                void *opaque)
{
    bus->cf9 = ops;
    bus->cf9_opaque = opaque;
}

/* Take d off the bus and out of the address maps. */
static void
pci_detach(struct pci_dev *d)
{
    unsigned int i;

    d->present = false;
    d->bus->devs[d->devfn] = NULL;
    for (i = 0; i < PCI_NUM_REGIONS; i++) {
        if (iomap_region_mapped(&d->bars[i].region)) {
            iomap_del(&d->bars[i].region);
            pci_bar_moved(d, i);
        }
    }
}

void
pci_unplug(struct pci_dev *d)
{
    struct pci_bus *bus = d->bus;
    uint8_t pin = pci_get_byte(d, PCI_INTERRUPT_PIN);
    struct hv *hv = bus->dm->hv;
    int rc;

    if (!d->present) {
        return;
    }
    if (pin >= 1 && pin <= 4) {
        dm_pci_intx_set(bus->dm, d->devfn, pin - 1u, 0);
    }
    pci_detach(d);
    rc = hv->ops->unmap_pcidev(hv, 0, PCI_SLOT(d->devfn), PCI_FUNC(d->devfn));
    if (rc < 0) {
        DM_ERR("cannot unroute PCI 00:%02x.%u (%s): %s", PCI_SLOT(d->devfn),
               PCI_FUNC(d->devfn), d->info->name, g_strerror(-rc));
    }
    /* A BAR that overlapped the removed function may decode now. */
    pci_bus_remap(bus, true);
}

/* At teardown the ioreq server goes away whole: no per-device unrouting. */
void
pci_dev_fini(struct pci_dev *d)
{
    unsigned int i;

    pci_rom_ram_free(d);        /* the domain is going: leave the frames */
    if (d->bus && d->present) {
        pci_detach(d);
    }
    for (i = 0; i < PCI_NUM_REGIONS; i++) {
        iomap_region_destroy(&d->bars[i].region);
    }
}

/* ---- reset and state -------------------------------------------------- */

void
pci_dev_reset(struct pci_dev *d)
{
    memcpy(d->config, d->reset_config, sizeof(d->config));
    d->intx_level = false;
    if (d->bus) {
        pci_bus_remap(d->bus, false);
        pci_update_intx(d);
    }
}

void
pci_dev_save(const struct pci_dev *d, struct pci_dev_state *s)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->config, d->config, sizeof(s->config));
    s->intx_level = d->intx_level;
    s->present = d->present;
}

int
pci_dev_state_check(const struct pci_dev_state *s, uint16_t vendor_id,
                    uint16_t device_id)
{
    unsigned int i;

    if (s->intx_level > 1 || s->present > 1) {
        return -EINVAL;
    }
    for (i = 0; i < sizeof(s->reserved); i++) {
        if (s->reserved[i]) {
            return -EINVAL;
        }
    }
    if ((s->config[PCI_VENDOR_ID] | s->config[PCI_VENDOR_ID + 1] << 8) !=
            vendor_id ||
        (s->config[PCI_DEVICE_ID] | s->config[PCI_DEVICE_ID + 1] << 8) !=
            device_id) {
        return -EINVAL;
    }
    return 0;
}

int
pci_dev_state_check_fixed(const struct pci_dev_state *s, uint16_t vendor_id,
                          uint16_t device_id)
{
    if (s->present != 1) {
        return -EINVAL;
    }
    return pci_dev_state_check(s, vendor_id, device_id);
}

/*
 * Only bits the guest could have written come from the record; read-only
 * bits keep what this function is. Then the mappings and INTx follow.
 */
void
pci_dev_load(struct pci_dev *d, const struct pci_dev_state *s)
{
    unsigned int i;

    for (i = 0; i < PCI_CONFIG_SIZE; i++) {
        uint8_t m = d->wmask[i] | d->w1cmask[i];

        d->config[i] = (uint8_t)((d->config[i] & ~m) | (s->config[i] & m));
    }
    d->intx_level = s->intx_level != 0;
    if (!d->bus) {
        return;
    }
    if (d->present && !s->present) {
        pci_unplug(d);
        return;
    }
    if (!d->present && s->present && pci_plug(d) < 0) {
        return;
    }
    pci_bus_remap(d->bus, false);
    pci_update_intx(d);
}

static void
pci_bus_reset(void *opaque)
{
    struct pci_bus *bus = opaque;

    bus->config_address = 0;
}

static void
pci_bus_save(void *opaque, void *rec)
{
    const struct pci_bus *bus = opaque;
    struct pci_bus_rec *r = rec;

    r->config_address = bus->config_address;
    r->reserved = 0;
}

static int
pci_bus_check(const void *rec)
{
    const struct pci_bus_rec *r = rec;

    if ((r->config_address & ~PCI_CONFADD_MASK) || r->reserved) {
        return -EINVAL;
    }
    return 0;
}

static void
pci_bus_load(void *opaque, const void *rec)
{
    struct pci_bus *bus = opaque;
    const struct pci_bus_rec *r = rec;

    bus->config_address = r->config_address;
}

static void
pci_bus_destroy(void *opaque)
{
    struct pci_bus *bus = opaque;
    struct dm *dm = bus->dm;

    iomap_region_destroy(&bus->ports);
    dm_set_pci_cfg(dm, NULL, NULL);
    if (dm->board && dm->board->pci == bus) {
        dm->board->pci = NULL;
    }
    g_free(bus);
}

/* ---- tables ----------------------------------------------------------- */

static const struct iomap_ops pci_port_ops = {
    .read = pci_port_read,
    .write = pci_port_write,
    .min_size = 1,
    .max_size = 4,
    .unaligned_ok = true,
};

static const struct iomap_ops pci_rom_ops = {
    .read = pci_rom_read,
    .write = pci_rom_write,
    .min_size = 1,
    .max_size = 8,
    .unaligned_ok = true,
};

static const struct dm_pci_cfg_ops pci_ioreq_ops = {
    .read = pci_ioreq_read,
    .write = pci_ioreq_write,
};

static const struct dm_dev_ops pci_bus_dev_ops = {
    .name = "pci-bus",
    .state_version = 1,
    .state_size = sizeof(struct pci_bus_rec),
    .reset = pci_bus_reset,
    .save = pci_bus_save,
    .check = pci_bus_check,
    .load = pci_bus_load,
    .destroy = pci_bus_destroy,
};

void
pci_register_rom(struct pci_dev *d, const char *name, const uint8_t *image,
                 size_t len)
{
    struct pci_bar_info info = {
        .name = name,
        .type = PCI_BAR_ROM,
        .size = PCI_ROM_MIN_SIZE,
        .ops = &pci_rom_ops,
        .opaque = d,
    };

    while (info.size < len) {
        info.size <<= 1;
    }
    d->rom_image = image;
    d->rom_len = len;
    pci_register_bar(d, PCI_ROM_SLOT, &info);
}

int
pci_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct pci_bus *bus = g_new0(struct pci_bus, 1);
    int rc;

    bus->dm = dm;
    iomap_region_init(&bus->ports, "pci-conf", PCI_PORTS_LEN, &pci_port_ops,
                      bus);
    rc = iomap_add(dm->pio, &bus->ports, PCI_CONFIG_ADDRESS_PORT);
    if (rc < 0) {
        g_free(bus);
        return rc;
    }
    dm_set_pci_cfg(dm, &pci_ioreq_ops, bus);
    dm->board->pci = bus;
    dm_dev_register(dm, &bus->dev, &pci_bus_dev_ops, bus, 0);
    pci_info_register();
    return 0;
}
