/*
 * PCI bus core tests, driven as firmware and drivers do: hvmloader's
 * pci_setup (X:tools/firmware/hvmloader/pci.c, with its util.c pci_read/
 * pci_write port sequence) over the board plus a test function with every
 * BAR type, SeaBIOS's bus walk, BAR sizing, moves and decode enables seen
 * in the address map and in the hypervisor's io ranges, write-1-to-clear
 * status bits, capabilities, INTx, hot-unplug and the config record.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/log.h"
#include "dm/machine.h"
#include "hw/board.h"
#include "hw/pci/pci.h"
#include "tests/harness.h"
#include "tests/t.h"

#define TDEV_SLOT   29
#define TDEV_DEVFN  PCI_DEVFN(TDEV_SLOT, 0)
#define TDEV_IO_SIZE    32
#define TDEV_MEM_SIZE   4096
#define TDEV_MEM64_SIZE 0x100000
#define TDEV_ROM_LEN    6000        /* rounds up to an 8 KiB ROM BAR */
#define TDEV_ROM_SIZE   0x2000

/* A function with one BAR of each kind, two capabilities and INTA#. */
struct tdev {
    struct pci_dev pci;
    uint8_t io[TDEV_IO_SIZE];
    uint8_t mem[TDEV_MEM_SIZE];
    uint8_t rom[TDEV_ROM_LEN];
};

static uint64_t
buf_read(const uint8_t *buf, uint64_t off, unsigned int size)
{
    uint64_t v = 0;

    memcpy(&v, buf + off, size);
    return v;
}

static uint64_t
tdev_io_read(void *opaque, uint64_t off, unsigned int size)
{
    return buf_read(((struct tdev *)opaque)->io, off, size);
}

static void
tdev_io_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    memcpy(((struct tdev *)opaque)->io + off, &val, size);
}

static uint64_t
tdev_mem_read(void *opaque, uint64_t off, unsigned int size)
{
    return buf_read(((struct tdev *)opaque)->mem, off, size);
}

static void
tdev_mem_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    memcpy(((struct tdev *)opaque)->mem + off, &val, size);
}

/* The 1 MiB BAR answers with its own offset. */
static uint64_t
tdev_mem64_read(void *opaque, uint64_t off, unsigned int size)
{
    return off;
}

static void
tdev_mem64_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
}

static const struct iomap_ops tdev_io_ops = {
    .read = tdev_io_read, .write = tdev_io_write, .min_size = 1,
    .max_size = 4,
};

static const struct iomap_ops tdev_mem_ops = {
    .read = tdev_mem_read, .write = tdev_mem_write, .min_size = 1,
    .max_size = 8,
};

static const struct iomap_ops tdev_mem64_ops = {
    .read = tdev_mem64_read, .write = tdev_mem64_write, .min_size = 1,
    .max_size = 8,
};

static const struct pci_dev_info tdev_info = {
    .name = "pci-testdev",
    .vendor_id = 0x1b36,
    .device_id = 0x0005,
    .subsystem_vendor_id = PCI_SUBVENDOR_ID_QEMU,
    .subsystem_id = PCI_SUBDEVICE_ID_QEMU,
    .class_code = 0x00ff00,
    .revision = 0x01,
    .interrupt_pin = 1,
};

static struct tdev *
tdev_new(struct t_machine *t)
{
    struct tdev *td = g_new0(struct tdev, 1);
    struct pci_bar_info io = { "tdev-io", PCI_BAR_IO, false, TDEV_IO_SIZE,
                               &tdev_io_ops, td };
    struct pci_bar_info mem = { "tdev-mem", PCI_BAR_MEM32, false,
                                TDEV_MEM_SIZE, &tdev_mem_ops, td };
    struct pci_bar_info mem64 = { "tdev-mem64", PCI_BAR_MEM64, true,
                                  TDEV_MEM64_SIZE, &tdev_mem64_ops, td };

    td->rom[0] = 0x55;
    td->rom[1] = 0xaa;
    td->rom[TDEV_ROM_LEN - 1] = 0x77;
    pci_dev_init(&td->pci, &tdev_info);
    pci_register_bar(&td->pci, 0, &io);
    pci_register_bar(&td->pci, 1, &mem);
    pci_register_bar(&td->pci, 2, &mem64);
    pci_register_rom(&td->pci, "tdev-rom", td->rom, TDEV_ROM_LEN);
    pci_add_capability(&td->pci, 0x01, 0x40, 8);    /* power management */
    pci_add_capability(&td->pci, 0x09, 0x50, 8);    /* vendor specific */
    T_EQ(pci_bus_add(t->dm->board->pci, &td->pci, TDEV_DEVFN), 0);
    return td;
}

static void
tdev_free(struct tdev *td)
{
    pci_dev_fini(&td->pci);
    g_free(td);
}

static struct t_machine *
pci_machine(void)
{
    struct t_opts o = { 0 };

    return t_machine_new(&o);
}

static bool
log_has(struct t_machine *t, const char *line)
{
    return t_hv_count(t, line) > 0;
}

/* ---- hvmloader's accessors (util.c) ----------------------------------- */

static uint32_t
hvm_pci_read(struct t_machine *t, unsigned int devfn, unsigned int reg,
             unsigned int len)
{
    t_outl(t, 0xcf8, 0x80000000u | devfn << 8 | (reg & ~3u));
    if (len == 1) {
        return t_inb(t, (uint16_t)(0xcfc + (reg & 3)));
    }
    if (len == 2) {
        return t_inw(t, (uint16_t)(0xcfc + (reg & 2)));
    }
    return t_inl(t, 0xcfc);
}

static void
hvm_pci_write(struct t_machine *t, unsigned int devfn, unsigned int reg,
              unsigned int len, uint32_t val)
{
    t_outl(t, 0xcf8, 0x80000000u | devfn << 8 | (reg & ~3u));
    if (len == 1) {
        t_outb(t, (uint16_t)(0xcfc + (reg & 3)), (uint8_t)val);
    } else if (len == 2) {
        t_outw(t, (uint16_t)(0xcfc + (reg & 2)), (uint16_t)val);
    } else {
        t_outl(t, 0xcfc, val);
    }
}

/* ---- hvmloader's pci_setup, step by step ------------------------------ */

struct hvm_bar {
    unsigned int devfn;
    unsigned int reg;
    uint64_t size;
    bool is64;
};

struct hvm_scan {
    unsigned int nr_fn;
    unsigned int devfn[256];
    uint16_t vendor[256];
    uint16_t device[256];
    uint16_t class[256];
    struct hvm_bar bars[64];
    unsigned int nr_bars;
    uint8_t decode[256];
};

/* Size one BAR as hvmloader does: write all-ones, read, restore. */
static uint64_t
hvm_size_bar(struct t_machine *t, unsigned int devfn, unsigned int reg,
             bool *is64)
{
    uint32_t data = hvm_pci_read(t, devfn, reg, 4), sz, hi;
    uint64_t bar_sz;

    *is64 = reg != PCI_ROM_ADDRESS && (data & 0x7) == 0x4;
    if (reg == PCI_ROM_ADDRESS) {
        hvm_pci_write(t, devfn, reg, 4, (data | 0xfffff800u) & ~1u);
    } else {
        hvm_pci_write(t, devfn, reg, 4, ~0u);
    }
    sz = hvm_pci_read(t, devfn, reg, 4);
    hvm_pci_write(t, devfn, reg, 4, data);
    if (reg == PCI_ROM_ADDRESS) {
        sz &= 0xfffff800u;
    } else {
        sz &= (data & 1) ? 0xfffcu : 0xfffffff0u;
    }
    bar_sz = sz;
    if (*is64) {
        hi = hvm_pci_read(t, devfn, reg + 4, 4);
        hvm_pci_write(t, devfn, reg + 4, 4, ~0u);
        bar_sz |= (uint64_t)hvm_pci_read(t, devfn, reg + 4, 4) << 32;
        hvm_pci_write(t, devfn, reg + 4, 4, hi);
    }
    return bar_sz & ~(bar_sz - 1);
}

static void
hvm_add_bar(struct hvm_scan *s, unsigned int devfn, unsigned int reg,
            uint64_t size, bool is64)
{
    unsigned int i;

    T_ASSERT(s->nr_bars < G_N_ELEMENTS(s->bars));
    for (i = 0; i < s->nr_bars && s->bars[i].size >= size; i++) {
        continue;
    }
    memmove(&s->bars[i + 1], &s->bars[i],
            (s->nr_bars - i) * sizeof(s->bars[0]));
    s->bars[i] = (struct hvm_bar){ devfn, reg, size, is64 };
    s->nr_bars++;
}

static void
hvm_scan_function(struct t_machine *t, struct hvm_scan *s, unsigned int devfn)
{
    unsigned int bar, pin, link;
    uint32_t cmd;

    if (s->class[s->nr_fn] == 0x0680) {
        /* PIIX4 ACPI PM, hvmloader's special case. */
        hvm_pci_write(t, devfn, 0x20, 2, 0x0000);
        hvm_pci_write(t, devfn, 0xd2, 2, 0x0000);
        hvm_pci_write(t, devfn, 0x22, 2, 0x0000);
        hvm_pci_write(t, devfn, 0x3c, 2, 0x0009);
        hvm_pci_write(t, devfn, 0x3d, 2, 0x0001);
        hvm_pci_write(t, devfn, 0x40, 4, 0xb000 | 1);
        hvm_pci_write(t, devfn, 0x80, 1, 0x01);
    }
    cmd = hvm_pci_read(t, devfn, PCI_COMMAND, 2);
    hvm_pci_write(t, devfn, PCI_COMMAND, 2,
                  cmd & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
    for (bar = 0; bar < 7; bar++) {
        unsigned int reg = bar == 6 ? PCI_ROM_ADDRESS
                                    : PCI_BASE_ADDRESS_0 + 4 * bar;
        bool is64;
        uint64_t size = hvm_size_bar(t, devfn, reg, &is64);

        if (size) {
            hvm_add_bar(s, devfn, reg, size, is64);
            bar += is64;
        }
    }
    pin = hvm_pci_read(t, devfn, PCI_INTERRUPT_PIN, 1);
    if (pin) {
        link = ((pin - 1) + (devfn >> 3)) & 3;
        hvm_pci_write(t, devfn, PCI_INTERRUPT_LINE, 1,
                      hvm_pci_read(t, PCI_DEVFN(1, 0), 0x60 + link, 1));
    }
    s->decode[devfn] = PCI_COMMAND_MASTER;
}

static void
hvm_assign_bars(struct t_machine *t, struct hvm_scan *s)
{
    uint64_t mem = 0xf0000000u, io = 0xc000;
    unsigned int i;

    for (i = 0; i < s->nr_bars; i++) {
        struct hvm_bar *b = &s->bars[i];
        uint32_t data = hvm_pci_read(t, b->devfn, b->reg, 4);
        bool is_mem = b->reg == PCI_ROM_ADDRESS || !(data & 1);
        uint64_t *res = is_mem ? &mem : &io;
        uint64_t base = (*res + b->size - 1) & ~(b->size - 1);

        data &= is_mem ? 0xfu : 0x3u;
        hvm_pci_write(t, b->devfn, b->reg, 4, data | (uint32_t)base);
        *res = base + b->size;
        s->decode[b->devfn] |= is_mem ? PCI_COMMAND_MEMORY : PCI_COMMAND_IO;
    }
    for (i = 0; i < 256; i++) {
        if (s->decode[i]) {
            uint32_t cmd = hvm_pci_read(t, i, PCI_COMMAND, 2);

            hvm_pci_write(t, i, PCI_COMMAND, 2, cmd | s->decode[i]);
        }
    }
}

/* PCI-ISA links 0..3 get IRQs 5, 10, 11, 5 (PCI_ISA_IRQ_MASK 0x0c20). */
static void
hvm_route_links(struct t_machine *t)
{
    unsigned int link, irq = 0;

    for (link = 0; link < 4; link++) {
        do {
            irq = (irq + 1) & 15;
        } while (!(0x0c20u & (1u << irq)));
        hvm_pci_write(t, PCI_DEVFN(1, 0), 0x60 + link, 1, irq);
    }
}

static void
hvm_pci_setup(struct t_machine *t, struct hvm_scan *s)
{
    unsigned int devfn;

    memset(s, 0, sizeof(*s));
    hvm_route_links(t);
    for (devfn = 0; devfn < 256; devfn++) {
        uint16_t class = (uint16_t)hvm_pci_read(t, devfn, PCI_CLASS_DEVICE, 2);
        uint16_t vendor = (uint16_t)hvm_pci_read(t, devfn, PCI_VENDOR_ID, 2);
        uint16_t device = (uint16_t)hvm_pci_read(t, devfn, PCI_DEVICE_ID, 2);

        if (vendor == 0xffff && device == 0xffff) {
            continue;
        }
        s->devfn[s->nr_fn] = devfn;
        s->vendor[s->nr_fn] = vendor;
        s->device[s->nr_fn] = device;
        s->class[s->nr_fn] = class;
        hvm_scan_function(t, s, devfn);
        s->nr_fn++;
    }
    hvm_assign_bars(t, s);
}

static int
hvm_find(const struct hvm_scan *s, unsigned int devfn)
{
    unsigned int i;

    for (i = 0; i < s->nr_fn; i++) {
        if (s->devfn[i] == devfn) {
            return (int)i;
        }
    }
    return -1;
}

static uint64_t
hvm_bar_size(const struct hvm_scan *s, unsigned int devfn, unsigned int reg)
{
    unsigned int i;

    for (i = 0; i < s->nr_bars; i++) {
        if (s->bars[i].devfn == devfn && s->bars[i].reg == reg) {
            return s->bars[i].size;
        }
    }
    return 0;
}

T_TEST(pci_hvmloader_enumeration)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);
    struct hvm_scan *s = g_new0(struct hvm_scan, 1);
    int i;

    t_hv_log_clear(t);
    hvm_pci_setup(t, s);
    /* The link routes hvmloader programs reach the hypervisor. */
    T_ASSERT(log_has(t, "link_route 0 5"));
    T_ASSERT(log_has(t, "link_route 1 10"));
    T_ASSERT(log_has(t, "link_route 2 11"));
    T_ASSERT(log_has(t, "link_route 3 5"));
    T_EQ(t_hv_count(t, "link_route"), 4);
    /* The chipset: ids and classes as hvmloader's checks want them. */
    i = hvm_find(s, PCI_DEVFN(0, 0));
    T_ASSERT(i >= 0);
    T_EQ(s->vendor[i], 0x8086);
    T_EQ(s->device[i], 0x1237);
    T_EQ(s->class[i], 0x0600);
    i = hvm_find(s, PCI_DEVFN(1, 0));
    T_ASSERT(i >= 0);
    T_EQ(s->device[i], 0x7000);
    T_EQ(s->class[i], 0x0601);
    i = hvm_find(s, PCI_DEVFN(1, 3));
    T_ASSERT(i >= 0);
    T_EQ(s->device[i], 0x7113);
    T_EQ(s->class[i], 0x0680);
    /* BAR sizes of the test function, in hvmloader's arithmetic. */
    T_EQ(hvm_bar_size(s, TDEV_DEVFN, 0x10), TDEV_IO_SIZE);
    T_EQ(hvm_bar_size(s, TDEV_DEVFN, 0x14), TDEV_MEM_SIZE);
    T_EQ(hvm_bar_size(s, TDEV_DEVFN, 0x18), TDEV_MEM64_SIZE);
    T_EQ(hvm_bar_size(s, TDEV_DEVFN, 0x20), 0);
    T_EQ(hvm_bar_size(s, TDEV_DEVFN, PCI_ROM_ADDRESS), TDEV_ROM_SIZE);
    /* INTx lines: barber's pole, PM (01.3, INTA) on link 1 = IRQ 10. */
    T_EQ(hvm_pci_read(t, PCI_DEVFN(1, 3), PCI_INTERRUPT_LINE, 1), 10);
    T_EQ(hvm_pci_read(t, TDEV_DEVFN, PCI_INTERRUPT_LINE, 1),
         hvm_pci_read(t, PCI_DEVFN(1, 0), 0x60 + ((TDEV_SLOT) & 3), 1));
    /* Largest first from 0xF0000000; the ROM is placed but not enabled. */
    T_EQ(hvm_pci_read(t, TDEV_DEVFN, 0x18, 4), 0xf000000cu);
    T_EQ(hvm_pci_read(t, TDEV_DEVFN, PCI_ROM_ADDRESS, 4), 0xf0100000u);
    T_EQ(hvm_pci_read(t, TDEV_DEVFN, 0x14, 4), 0xf0102000u);
    T_EQ(hvm_pci_read(t, TDEV_DEVFN, 0x10, 4), 0xc001u);
    T_ASSERT(log_has(t, "map_io mmio 0xf0000000-0xf00fffff"));
    T_ASSERT(log_has(t, "map_io mmio 0xf0102000-0xf0102fff"));
    T_ASSERT(log_has(t, "map_io port 0xc000-0xc01f"));
    T_EQ(t_hv_count(t, "map_io mmio 0xf0100000"), 0);
    /* Decode enabled: the BARs answer where hvmloader put them. */
    T_EQ(hvm_pci_read(t, TDEV_DEVFN, PCI_COMMAND, 2),
         PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    t_outl(t, 0xc004, 0x12345678);
    T_EQ(t_inl(t, 0xc004), 0x12345678);
    T_EQ(t_readl(t, 0xf0000120), 0x120);
    g_free(s);
    tdev_free(td);
    t_machine_free(t);
}

/* SeaBIOS pci_probe_devices: function 0's header type bit 7 decides
 * whether functions 1-7 are looked at; qemu_detect reads 00:00.0's
 * subsystem ids. */
T_TEST(pci_seabios_walk_finds_every_function)
{
    struct t_machine *t = pci_machine();
    unsigned int bdf = 0, found = 0;
    bool saw_pm = false;

    while (bdf < 256) {
        uint16_t v = (uint16_t)t_cfg_read(t, bdf, PCI_VENDOR_ID, 2);
        bool multi;

        if (v == 0xffff || v == 0x0000) {
            bdf += PCI_FUNC(bdf) == 0 ? 8 : 1;
            continue;
        }
        found++;
        saw_pm |= bdf == PCI_DEVFN(1, 3);
        multi = t_cfg_read(t, bdf, PCI_HEADER_TYPE, 1) & 0x80;
        bdf += (PCI_FUNC(bdf) == 0 && !multi) ? 8 : 1;
    }
    T_ASSERT(found >= 3);
    T_ASSERT(saw_pm);
    T_EQ(t_cfg_read(t, 0, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
    T_EQ(t_cfg_read(t, 0, PCI_SUBSYSTEM_ID, 2), 0x1100);
    t_machine_free(t);
}

T_TEST(pci_same_space_through_pci_config_requests)
{
    struct t_machine *t = pci_machine();
    unsigned int reg, size;

    for (size = 1; size <= 4; size <<= 1) {
        for (reg = 0; reg < 0x40; reg += size) {
            T_EQ(t_pcicfg_read(t, PCI_DEVFN(1, 0), reg, size),
                 t_cfg_read(t, PCI_DEVFN(1, 0), reg, size));
        }
    }
    T_EQ(t_pcicfg_read(t, PCI_DEVFN(1, 3), PCI_VENDOR_ID, 4), 0x71138086u);
    /* PIRQ programming by PCI_CONFIG reaches the hypervisor too. */
    t_hv_log_clear(t);
    t_pcicfg_write(t, PCI_DEVFN(1, 0), 0x61, 10, 1);
    T_ASSERT(log_has(t, "link_route 1 10"));
    T_EQ(t_cfg_read(t, PCI_DEVFN(1, 0), 0x61, 1), 10);
    t_machine_free(t);
}

T_TEST(pci_absent_functions_read_all_ones)
{
    struct t_machine *t = pci_machine();
    unsigned int size;

    for (size = 1; size <= 4; size <<= 1) {
        uint32_t ones = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

        T_EQ(t_cfg_read(t, PCI_DEVFN(31, 7), 0, size), ones);
        T_EQ(t_pcicfg_read(t, PCI_DEVFN(31, 7), 0, size), ones);
        /* Bus 1 does not exist. */
        T_EQ(t_cfg_read(t, 0x100, 0, size), ones);
        T_EQ(t_pcicfg_read(t, 0x100, 0, size), ones);
    }
    /* Writes to nothing are dropped, not crashes. */
    t_cfg_write(t, PCI_DEVFN(31, 7), PCI_COMMAND, 0xffff, 2);
    t_pcicfg_write(t, 0x1ff, PCI_COMMAND, 0xffff, 2);
    /* CONFIG_ADDRESS without the enable bit: no configuration cycle. */
    t_outl(t, 0xcf8, 0x00000000);
    T_EQ(t_inl(t, 0xcfc), 0xffffffffu);
    t_machine_free(t);
}

/* Only a dword at 0xCF8 is CONFIG_ADDRESS (PCI30 3.2.2.3.2). */
T_TEST(pci_config_address_latch)
{
    struct t_machine *t = pci_machine();

    t_outl(t, 0xcf8, 0xffffffffu);
    T_EQ(t_inl(t, 0xcf8), 0x80fffffcu);     /* reserved 30:24 and 1:0 */
    t_outl(t, 0xcf8, 0x80000800u);
    t_outb(t, 0xcf8, 0x12);
    t_outw(t, 0xcfa, 0x3456);
    T_EQ(t_inl(t, 0xcf8), 0x80000800u);
    T_EQ(t_inb(t, 0xcf8), 0xff);
    T_EQ(t_inw(t, 0xcfa), 0xffff);
    /* Data port at every offset and width, including hvmloader's. */
    T_EQ(t_inw(t, 0xcfc), 0x8086);
    T_EQ(t_inw(t, 0xcfe), 0x7000);
    T_EQ(t_inb(t, 0xcff), 0x70);
    t_outl(t, 0xcf8, 0x80000808u);
    T_EQ(t_inl(t, 0xcfc) >> 8, 0x060100);
    T_EQ(t_inb(t, 0xcfe), 0x01);
    T_EQ(t_inw(t, 0xcfd), 0x0100);          /* unaligned word */
    t_machine_free(t);
}

T_TEST(pci_bar_sizing_reads_back_size_masks)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);
    unsigned int reg;

    for (reg = 0x10; reg <= 0x24; reg += 4) {
        t_cfg_write(t, TDEV_DEVFN, reg, 0xffffffffu, 4);
    }
    t_cfg_write(t, TDEV_DEVFN, PCI_ROM_ADDRESS, 0xfffff800u, 4);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, 0x10, 4), 0xffffffe1u);   /* I/O 32 */
    T_EQ(t_cfg_read(t, TDEV_DEVFN, 0x14, 4), 0xfffff000u);   /* mem 4K */
    T_EQ(t_cfg_read(t, TDEV_DEVFN, 0x18, 4), 0xfff0000cu);   /* 64 pf */
    T_EQ(t_cfg_read(t, TDEV_DEVFN, 0x1c, 4), 0xffffffffu);   /* high */
    T_EQ(t_cfg_read(t, TDEV_DEVFN, 0x20, 4), 0);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, 0x24, 4), 0);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_ROM_ADDRESS, 4), 0xffffe000u);
    /* Sizing with decode on maps nothing (the pattern is unassigned). */
    t_hv_log_clear(t);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND,
                PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    T_EQ(t_hv_count(t, "map_io"), 0);
    tdev_free(td);
    t_machine_free(t);
}

T_TEST(pci_bar_move_follows_address_map_and_hypervisor)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);

    td->mem[0x10] = 0xab;
    t_cfg_write(t, TDEV_DEVFN, 0x14, 0xe0000000u, 4);
    t_hv_log_clear(t);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    T_ASSERT(log_has(t, "map_io mmio 0xe0000000-0xe0000fff"));
    T_EQ(t_readb(t, 0xe0000010), 0xab);
    T_EQ(pci_bar_address(&td->pci, 1), 0xe0000000u);
    /* Move with decode on: unmap the old range, map the new one. */
    t_hv_log_clear(t);
    t_cfg_write(t, TDEV_DEVFN, 0x14, 0xe0010000u, 4);
    T_EQ(strcmp(t_hv_log(t), "unmap_io mmio 0xe0000000-0xe0000fff\n"
                "map_io mmio 0xe0010000-0xe0010fff\n"), 0);
    T_EQ(t_readb(t, 0xe0000010), 0xff);
    T_EQ(t_readb(t, 0xe0010010), 0xab);
    t_writel(t, 0xe0010020, 0xcafef00d);
    T_EQ(td->mem[0x20], 0x0d);
    /* A byte write to the BAR moves it too (bits 15:12 here). */
    t_cfg_write(t, TDEV_DEVFN, 0x15, 0x30, 1);
    T_EQ(t_readb(t, 0xe0013010), 0xab);
    /* The 64-bit BAR above 4 GiB: low dword, then high dword. */
    t_cfg_write(t, TDEV_DEVFN, 0x18, 0x00100000u, 4);
    t_cfg_write(t, TDEV_DEVFN, 0x1c, 0x00000002u, 4);
    T_ASSERT(log_has(t, "map_io mmio 0x200100000-0x2001fffff"));
    T_EQ(t_readq(t, 0x200100008ull), 8);
    T_EQ(pci_bar_address(&td->pci, 2), 0x200100000ull);
    tdev_free(td);
    t_machine_free(t);
}

T_TEST(pci_command_decode_off_claims_nothing)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);

    td->io[4] = 0x42;
    td->mem[0] = 0x99;
    t_cfg_write(t, TDEV_DEVFN, 0x10, 0xd000, 4);
    t_cfg_write(t, TDEV_DEVFN, 0x14, 0xe0000000u, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND,
                PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    T_EQ(t_inb(t, 0xd004), 0x42);
    T_EQ(t_readb(t, 0xe0000000), 0x99);
    t_hv_log_clear(t);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
    T_ASSERT(log_has(t, "unmap_io mmio 0xe0000000-0xe0000fff"));
    T_EQ(t_readb(t, 0xe0000000), 0xff);
    T_EQ(t_inb(t, 0xd004), 0x42);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, 0, 2);
    T_ASSERT(log_has(t, "unmap_io port 0xd000-0xd01f"));
    T_EQ(t_inb(t, 0xd004), 0xff);
    t_outb(t, 0xd004, 0x00);
    T_EQ(td->io[4], 0x42);
    /* Back on: the same addresses decode again. */
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND,
                PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    T_EQ(t_inb(t, 0xd004), 0x42);
    T_EQ(t_readb(t, 0xe0000000), 0x99);
    /* Address 0 is unassigned: decode on, nothing claimed. */
    t_cfg_write(t, TDEV_DEVFN, 0x14, 0, 4);
    T_EQ(pci_bar_address(&td->pci, 1), UINT64_MAX);
    tdev_free(td);
    t_machine_free(t);
}

/* Two BARs programmed onto each other: the second is refused until the
 * first moves away. */
T_TEST(pci_overlapping_bars_resolve_when_one_moves)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);

    dm_log_set_quiet(1);
    t_cfg_write(t, TDEV_DEVFN, 0x14, 0xe0000000u, 4);
    t_cfg_write(t, TDEV_DEVFN, 0x18, 0xe0000000u, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    T_EQ(pci_bar_address(&td->pci, 1), 0xe0000000u);
    T_EQ(pci_bar_address(&td->pci, 2), UINT64_MAX);
    t_cfg_write(t, TDEV_DEVFN, 0x14, 0xe8000000u, 4);
    T_EQ(pci_bar_address(&td->pci, 1), 0xe8000000u);
    T_EQ(pci_bar_address(&td->pci, 2), 0xe0000000u);
    T_EQ(t_readl(t, 0xe0000040), 0x40);
    tdev_free(td);
    t_machine_free(t);
}

T_TEST(pci_rom_bar_needs_enable_and_memory_decode)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);

    t_cfg_write(t, TDEV_DEVFN, PCI_ROM_ADDRESS, 0xe0100000u, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    T_EQ(t_readw(t, 0xe0100000), 0xffff);
    t_cfg_write(t, TDEV_DEVFN, PCI_ROM_ADDRESS, 0xe0100001u, 4);
    T_EQ(t_readw(t, 0xe0100000), 0xaa55);           /* ROM signature */
    T_EQ(t_readb(t, 0xe0100000 + TDEV_ROM_LEN - 1), 0x77);
    T_EQ(t_readb(t, 0xe0100000 + TDEV_ROM_SIZE - 1), 0);
    dm_log_set_quiet(1);
    t_writeb(t, 0xe0100000, 0x00);
    T_EQ(t_readb(t, 0xe0100000), 0x55);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_ROM_ADDRESS, 4), 0xe0100001u);
    tdev_free(td);
    t_machine_free(t);
}

/* PCI30 6.2.2/6.2.3: command bits outside the implemented set read 0;
 * error status bits clear on 1 only; the rest of status is read-only. */
T_TEST(pci_command_and_status_masks)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);
    uint16_t status;

    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, 0xffff, 2);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_COMMAND, 2), 0x0547);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, 0, 2);
    status = (uint16_t)t_cfg_read(t, TDEV_DEVFN, PCI_STATUS, 2);
    T_EQ(status, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_CAP_LIST);
    /* The device reports errors; the guest clears them one by one. */
    pci_set_word(&td->pci, PCI_STATUS, status | 0xf900);
    t_cfg_write(t, TDEV_DEVFN, PCI_STATUS, 0x0000, 2);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_STATUS, 2), status | 0xf900);
    t_cfg_write(t, TDEV_DEVFN, PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT, 2);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_STATUS, 2),
         status | (0xf900 & ~PCI_STATUS_REC_MASTER_ABORT));
    t_cfg_write(t, TDEV_DEVFN, PCI_STATUS + 1, 0xff, 1);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_STATUS, 2), status);
    /* Identity, header type, BIST, pin, capability pointer: read-only. */
    t_cfg_write(t, TDEV_DEVFN, PCI_VENDOR_ID, 0xffffffffu, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_REVISION_ID, 0xffffffffu, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_CACHE_LINE_SIZE, 0xffffffffu, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_CAPABILITY_LIST, 0xffffffffu, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_INTERRUPT_LINE, 0xffffffffu, 4);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_VENDOR_ID, 4), 0x00051b36u);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_REVISION_ID, 4), 0x00ff0001u);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_CACHE_LINE_SIZE, 4), 0x000000ffu);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_CAPABILITY_LIST, 4), 0x50);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_INTERRUPT_LINE, 4), 0x000001ffu);
    tdev_free(td);
    t_machine_free(t);
}

T_TEST(pci_capability_list_walk)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);
    uint8_t ptr, ids[4];
    unsigned int n = 0;

    T_ASSERT(t_cfg_read(t, TDEV_DEVFN, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    ptr = (uint8_t)t_cfg_read(t, TDEV_DEVFN, PCI_CAPABILITY_LIST, 1);
    while (ptr && n < 4) {
        ids[n++] = (uint8_t)t_cfg_read(t, TDEV_DEVFN, ptr, 1);
        ptr = (uint8_t)t_cfg_read(t, TDEV_DEVFN, ptr + 1, 1);
    }
    T_EQ(n, 2);
    T_EQ(ids[0], 0x09);
    T_EQ(ids[1], 0x01);
    T_EQ(pci_find_capability(&td->pci, 0x01), 0x40);
    T_EQ(pci_find_capability(&td->pci, 0x05), 0);
    /* Id and next pointer are read-only. */
    t_cfg_write(t, TDEV_DEVFN, 0x50, 0xffff, 2);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, 0x50, 2), 0x4009);
    tdev_free(td);
    t_machine_free(t);
}

T_TEST(pci_intx_follows_device_and_interrupt_disable)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);

    pci_set_irq(&td->pci, 1);
    T_EQ(t_pci_intx(t, TDEV_SLOT, 0), 1);
    T_ASSERT(t_cfg_read(t, TDEV_DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    T_EQ(t_pci_intx(t, TDEV_SLOT, 0), 0);
    T_ASSERT(t_cfg_read(t, TDEV_DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, 0, 2);
    T_EQ(t_pci_intx(t, TDEV_SLOT, 0), 1);
    pci_set_irq(&td->pci, 0);
    T_EQ(t_pci_intx(t, TDEV_SLOT, 0), 0);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    tdev_free(td);
    t_machine_free(t);
}

T_TEST(pci_hot_unplug_leaves_nothing_behind)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);

    T_ASSERT(log_has(t, "map_pcidev 00:1d.0"));
    t_cfg_write(t, TDEV_DEVFN, 0x10, 0xd000, 4);
    t_cfg_write(t, TDEV_DEVFN, 0x14, 0xe0000000u, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND,
                PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    pci_set_irq(&td->pci, 1);
    T_EQ(t_pci_intx(t, TDEV_SLOT, 0), 1);
    t_hv_log_clear(t);
    pci_unplug(&td->pci);
    T_ASSERT(log_has(t, "unmap_pcidev 00:1d.0"));
    T_ASSERT(log_has(t, "unmap_io port 0xd000-0xd01f"));
    T_ASSERT(log_has(t, "unmap_io mmio 0xe0000000-0xe0000fff"));
    T_EQ(t_pci_intx(t, TDEV_SLOT, 0), 0);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_VENDOR_ID, 4), 0xffffffffu);
    T_EQ(t_pcicfg_read(t, TDEV_DEVFN, PCI_VENDOR_ID, 4), 0xffffffffu);
    T_EQ(t_inb(t, 0xd000), 0xff);
    T_EQ(t_readl(t, 0xe0000000), 0xffffffffu);
    /* The device still raising its line changes nothing now. */
    t_hv_log_clear(t);
    pci_set_irq(&td->pci, 1);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    T_EQ(t_hv_count(t, ""), 0);
    T_EQ(pci_bus_find(t->dm->board->pci, TDEV_DEVFN), NULL);
    pci_unplug(&td->pci);
    tdev_free(td);
    t_machine_free(t);
}

/* hvmloader's pci_writew(devfn, 0x3d, 1) goes out as outw(0xcfc): it
 * lands on 0x3C (line) and the read-only pin byte. */
T_TEST(pci_hvmloader_word_write_to_odd_register)
{
    struct t_machine *t = pci_machine();

    hvm_pci_write(t, PCI_DEVFN(1, 3), 0x3c, 2, 0x0009);
    T_EQ(hvm_pci_read(t, PCI_DEVFN(1, 3), 0x3c, 2), 0x0109);
    hvm_pci_write(t, PCI_DEVFN(1, 3), 0x3d, 2, 0x0001);
    T_EQ(hvm_pci_read(t, PCI_DEVFN(1, 3), 0x3c, 2), 0x0101);
    /* A real unaligned word through 0xCFD, and one split at 0xCFF. */
    t_outl(t, 0xcf8, 0x80000000u | PCI_DEVFN(1, 3) << 8 | 0x3c);
    t_outw(t, 0xcfd, 0x0203);
    T_EQ(hvm_pci_read(t, PCI_DEVFN(1, 3), 0x3c, 4), 0x00000101u);
    t_outl(t, 0xcf8, 0x80000000u | PCI_DEVFN(1, 3) << 8 | 0x3c);
    T_EQ(t_inw(t, 0xcff), 0xff00);
    t_machine_free(t);
}

T_TEST(pci_config_record_round_trip_and_checks)
{
    struct t_machine *t = pci_machine();
    struct tdev *td = tdev_new(t);
    struct pci_dev_state s, s2;

    t_cfg_write(t, TDEV_DEVFN, 0x14, 0xe0000000u, 4);
    t_cfg_write(t, TDEV_DEVFN, PCI_INTERRUPT_LINE, 11, 1);
    t_cfg_write(t, TDEV_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    pci_set_irq(&td->pci, 1);
    pci_dev_save(&td->pci, &s);
    T_EQ(pci_dev_state_check(&s, 0x1b36, 0x0005), 0);
    T_EQ(pci_dev_state_check(&s, 0x8086, 0x0005), -EINVAL);
    s2 = s;
    s2.intx_level = 2;
    T_EQ(pci_dev_state_check(&s2, 0x1b36, 0x0005), -EINVAL);
    s2 = s;
    s2.reserved[3] = 1;
    T_EQ(pci_dev_state_check(&s2, 0x1b36, 0x0005), -EINVAL);
    pci_dev_reset(&td->pci);
    T_EQ(pci_bar_address(&td->pci, 1), UINT64_MAX);
    T_EQ(t_pci_intx(t, TDEV_SLOT, 0), 0);
    /* A record cannot change read-only bits: the class stays. */
    s.config[PCI_CLASS_DEVICE + 1] = 0x03;
    pci_dev_load(&td->pci, &s);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_CLASS_DEVICE, 2), 0x00ff);
    T_EQ(pci_bar_address(&td->pci, 1), 0xe0000000u);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_INTERRUPT_LINE, 1), 11);
    T_EQ(t_pci_intx(t, TDEV_SLOT, 0), 1);
    pci_dev_save(&td->pci, &s2);
    s.config[PCI_CLASS_DEVICE + 1] = 0x00;
    T_EQ(memcmp(&s, &s2, sizeof(s)), 0);
    /* An unplugged function's record unplugs it on load, and back. */
    pci_unplug(&td->pci);
    pci_dev_save(&td->pci, &s2);
    T_EQ(s2.present, 0);
    pci_dev_load(&td->pci, &s);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_VENDOR_ID, 2), 0x1b36);
    T_EQ(pci_bar_address(&td->pci, 1), 0xe0000000u);
    pci_dev_load(&td->pci, &s2);
    T_EQ(t_cfg_read(t, TDEV_DEVFN, PCI_VENDOR_ID, 2), 0xffff);
    tdev_free(td);
    t_machine_free(t);
}
