/*
 * PCI set-up on the bus: PIRQ links and ELCR, the scan, BAR sizing (PCI
 * Local Bus Specification 3.0, 6.2.5.1), placement by pci-alloc.c, INTx
 * lines by pci-route.c, the chipset functions' own registers, command
 * bits. Facts: shared/docs/xen-dm-interface.md 6.3.
 */
#include "firmware/hvmloader/acpi.h"
#include "firmware/hvmloader/console.h"
#include "firmware/hvmloader/io.h"
#include "firmware/hvmloader/loader.h"
#include "firmware/hvmloader/pci-route.h"

#define PCI_MAX_BARS        128
#define PCI_COMMAND         0x04
#define CMD_IO              0x1
#define CMD_MEM             0x2
#define CMD_MASTER          0x4
#define PCI_CLASS           0x0a
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_ROM             0x30
#define PCI_INT_LINE        0x3c
#define PCI_INT_PIN         0x3d
#define PIIX3_DEVFN         0x08
#define PIIX4PM_DEVFN       0x0b

/*
 * Configuration mechanism #1 (PCI Local Bus Specification 3.0,
 * 3.2.2.3.2). Each access is a round trip to the device model, so the
 * address port is only written when it changes.
 */
static uint32_t cf8_last;
static unsigned cf8_writes, cfc_accesses;  /* for the log */

static void
pci_select(unsigned devfn, unsigned reg)
{
    uint32_t a = 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xfc);

    if (a != cf8_last) {
        outl(0xcf8, a);
        cf8_last = a;
        cf8_writes++;
    }
    cfc_accesses++;
}

static uint32_t
pci_read32(unsigned devfn, unsigned reg)
{
    pci_select(devfn, reg);
    return inl(0xcfc);
}

static uint16_t
pci_read16(unsigned devfn, unsigned reg)
{
    pci_select(devfn, reg);
    return inw((uint16_t)(0xcfc + (reg & 2)));
}

static uint8_t
pci_read8(unsigned devfn, unsigned reg)
{
    pci_select(devfn, reg);
    return inb((uint16_t)(0xcfc + (reg & 3)));
}

static void
pci_write32(unsigned devfn, unsigned reg, uint32_t v)
{
    pci_select(devfn, reg);
    outl(0xcfc, v);
}

static void
pci_write16(unsigned devfn, unsigned reg, uint16_t v)
{
    pci_select(devfn, reg);
    outw((uint16_t)(0xcfc + (reg & 2)), v);
}

static void
pci_write8(unsigned devfn, unsigned reg, uint8_t v)
{
    pci_select(devfn, reg);
    outb((uint16_t)(0xcfc + (reg & 3)), v);
}

struct pci_scan {
    struct bar bars[PCI_MAX_BARS];
    unsigned nbars;
    uint8_t cmd[256];       /* decode bits each function will get */
};

/*
 * Size one BAR: write all ones and read back; the type bits are read-only
 * so the same read tells the kind. Decode is off and every sized BAR is
 * written again by program_bars(), so nothing is restored (two accesses a
 * BAR instead of three). Returns the registers it takes (2 if 64-bit).
 */
static unsigned
bar_size(unsigned devfn, unsigned reg, struct bar *b)
{
    bool rom = reg == PCI_ROM, io, mem64;
    uint32_t mask, himask = 0xffffffff;
    uint64_t size;

    pci_write32(devfn, reg, rom ? 0xfffff800 : 0xffffffff);
    mask = pci_read32(devfn, reg);
    io = !rom && (mask & 1);
    mem64 = !rom && !io && (mask & 6) == 4;
    b->flags = (uint8_t)((io ? BAR_IO : 0) | (mem64 ? BAR_MEM64 : 0) |
                         (!io && !rom && (mask & 8) ? BAR_PREFETCH : 0));
    if (mem64) {
        pci_write32(devfn, reg + 4, 0xffffffff);
        himask = pci_read32(devfn, reg + 4);
    }
    mask &= io ? ~3u : rom ? ~0x7ffu : ~0xfu;
    if (io) {
        mask |= 0xffff0000u;        /* 16-bit decoders read 0 above */
    }
    size = (uint64_t)himask << 32 | mask;
    size = mask ? (~size + 1) & (mem64 ? ~0ull : 0xffffffffull) : 0;
    b->reg = (uint8_t)reg;
    b->size = size;
    return mem64 ? 2 : 1;
}

static void
scan_bars(struct pci_scan *s, unsigned devfn)
{
    unsigned reg = PCI_BAR0;
    struct bar b;

    while (reg <= PCI_ROM) {
        memset(&b, 0, sizeof(b));
        reg += 4 * bar_size(devfn, reg, &b);
        if (reg >= 0x28 && reg < PCI_ROM) {
            reg = PCI_ROM;              /* skip CardBus CIS, subsystem */
        }
        if (!b.size || s->nbars == PCI_MAX_BARS) {
            continue;
        }
        b.devfn = (uint8_t)devfn;
        s->bars[s->nbars++] = b;
    }
}

/* The chipset functions' own set-up (xen-dm-interface.md 6.3). */
static void
chipset_quirks(unsigned devfn, uint32_t id, uint16_t cls)
{
    if (id == 0x71138086 && cls == 0x0680) {        /* PIIX4 PM */
        pci_write32(devfn, 0x40, ACPI_PMBA | 1);
        pci_write8(devfn, 0x80, 0x01);              /* PMIOSE */
        pci_write8(devfn, PCI_INT_LINE, SCI_IRQ);
    } else if ((id & 0xffff) == 0x8086 && cls == 0x0101) {   /* IDE */
        pci_write16(devfn, 0x40, 0x8000);           /* IDETIM: enable */
        pci_write16(devfn, 0x42, 0x8000);
    }
}

static void
intx_route(struct loader *l, unsigned devfn, uint32_t id)
{
    uint8_t pin = pci_read8(devfn, PCI_INT_PIN);

    if (!pin || pin > 4 || id == 0x71138086) {
        return;
    }
    l->intx_slots |= 1u << (devfn >> 3);
    pci_write8(devfn, PCI_INT_LINE,
               l->link_irq[pci_intx_link(devfn >> 3, pin)]);
}

static void
scan_function(struct loader *l, struct pci_scan *s, unsigned devfn,
              uint32_t id)
{
    uint16_t cls = pci_read16(devfn, PCI_CLASS);
    uint16_t cmd = pci_read16(devfn, PCI_COMMAND);

    printf("PCI %02x:%x %04x:%04x class %04x\n", devfn >> 3, devfn & 7,
           id & 0xffff, id >> 16, cls);
    pci_write16(devfn, PCI_COMMAND, cmd & ~(CMD_IO | CMD_MEM));
    chipset_quirks(devfn, id, cls);
    intx_route(l, devfn, id);
    if ((pci_read8(devfn, PCI_HEADER_TYPE) & 0x7f) == 0) {
        scan_bars(s, devfn);
    }
    /* VGA decodes its legacy ports whatever its BARs are. */
    s->cmd[devfn] = CMD_MASTER | (cls == 0x0300 ? CMD_IO : 0);
}

/* Functions 1-7 only behind a multi-function device (fewer requests). */
static void
scan_bus(struct loader *l, struct pci_scan *s)
{
    unsigned dev, fn, nfn;
    uint32_t id;

    for (dev = 0; dev < 32; dev++) {
        nfn = 1;
        for (fn = 0; fn < nfn; fn++) {
            id = pci_read32(dev << 3 | fn, 0);
            if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
                continue;
            }
            if (fn == 0 && (pci_read8(dev << 3, PCI_HEADER_TYPE) & 0x80)) {
                nfn = 8;
            }
            scan_function(l, s, dev << 3 | fn, id);
        }
    }
}

static void
program_bars(struct pci_scan *s)
{
    struct bar *b;
    unsigned i;
    uint32_t lo;

    for (i = 0; i < s->nbars; i++) {
        b = &s->bars[i];
        if (!b->addr) {
            printf("PCI %02x:%x BAR %02x of 0x%llx bytes does not fit\n",
                   b->devfn >> 3, b->devfn & 7, b->reg, b->size);
            pci_write32(b->devfn, b->reg, 0);
            continue;
        }
        lo = (uint32_t)b->addr;
        pci_write32(b->devfn, b->reg, lo);
        if (b->flags & BAR_MEM64) {
            pci_write32(b->devfn, b->reg + 4, (uint32_t)(b->addr >> 32));
        }
        if (b->reg != PCI_ROM) {
            s->cmd[b->devfn] |= b->flags & BAR_IO ? CMD_IO : CMD_MEM;
        }
        printf("PCI %02x:%x BAR %02x = 0x%llx (%llx bytes)\n", b->devfn >> 3,
               b->devfn & 7, b->reg, b->addr, b->size);
    }
}

static void
links_setup(struct loader *l)
{
    uint16_t elcr;
    unsigned i;

    pci_link_irqs(l->link_irq);
    for (i = 0; i < PCI_LINKS; i++) {
        pci_write8(PIIX3_DEVFN, PIIX3_PIRQRC + i, l->link_irq[i]);
    }
    elcr = pci_elcr(l->link_irq);
    outb(0x4d0, (uint8_t)elcr);
    outb(0x4d1, (uint8_t)(elcr >> 8));
}

/* xenstore platform/mmio_hole_size and hvmloader/allow-memory-relocate. */
static void
hole_config(struct loader *l)
{
    char buf[24];
    uint64_t v;

    l->pci.hole_start = PCI_HOLE_START;
    if (!xenbus_read(&l->xb, "platform/mmio_hole_size", buf, sizeof(buf)) &&
        fw_strtou64(buf, &v) && v && v <= GIB4 - PCI_HOLE_MIN_START) {
        l->pci.hole_start = (uint32_t)(GIB4 - v);
    }
    if (!xenbus_read(&l->xb, "hvmloader/allow-memory-relocate", buf,
                     sizeof(buf)) && strcmp(buf, "0")) {
        printf("RAM relocation not implemented: large BARs go above RAM\n");
    }
    l->pci.allow_relocate = false;
    l->pci.low_mem_end = l->low_mem_end;
    l->pci.high_mem_end = l->high_mem_end;
}

void
pci_setup(struct loader *l)
{
    static struct pci_scan s;
    unsigned devfn;

    memset(&s, 0, sizeof(s));
    if (pci_read32(PIIX3_DEVFN, 0) != 0x70008086) {
        panic("no PIIX3 (8086:7000) at 00:01.0");
    }
    hole_config(l);
    links_setup(l);
    scan_bus(l, &s);
    if (pci_bars_place(s.bars, s.nbars, &l->pci) < 0) {
        printf("PCI: some BARs could not be placed\n");
    }
    program_bars(&s);
    for (devfn = 0; devfn < 256; devfn++) {
        if (s.cmd[devfn]) {
            pci_write16(devfn, PCI_COMMAND,
                        pci_read16(devfn, PCI_COMMAND) | s.cmd[devfn]);
        }
    }
    printf("PCI hole 0x%x-0x%x; %u config accesses, %u address writes\n",
           l->pci.mem_start, PCI_HOLE_END, cfc_accesses, cf8_writes);
}
