/*
 * MP tables (MP Specification 1.4, chapter 4) and $PIR. Section numbers
 * are of the MP Specification.
 */
#include "firmware/hvmloader/mptable.h"

#include "firmware/hvmloader/acpi.h"
#include "firmware/hvmloader/pci-route.h"

#define BUS_PCI 0
#define BUS_ISA 1

/* 4.1 MP floating pointer structure. */
struct mp_float {
    char signature[4];
    uint32_t config;
    uint8_t length, revision, checksum;
    uint8_t features[5];
} __attribute__((packed));

/* 4.2 MP configuration table header. */
struct mp_config {
    char signature[4];
    uint16_t length;
    uint8_t revision, checksum;
    char oem[8];
    char product[12];
    uint32_t oem_table;
    uint16_t oem_size, count;
    uint32_t lapic;
    uint16_t ext_length;
    uint8_t ext_checksum, reserved;
} __attribute__((packed));

struct mp_cpu {                 /* 4.3.1 */
    uint8_t type, lapic_id, lapic_version, flags;
    uint32_t signature, features;
    uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {                 /* 4.3.2 */
    uint8_t type, id;
    char name[6];
} __attribute__((packed));

struct mp_ioapic {              /* 4.3.3 */
    uint8_t type, id, version, flags;
    uint32_t addr;
} __attribute__((packed));

struct mp_intr {                /* 4.3.4 and 4.3.5 */
    uint8_t type, kind;
    uint16_t flags;
    uint8_t bus, bus_irq, dst_id, dst_pin;
} __attribute__((packed));

#define MP_CPU_ENABLED  0x01
#define MP_CPU_BSP      0x02
#define MP_INT          0
#define MP_NMI          1
#define MP_EXTINT       3
#define MP_LEVEL_LOW    0x0f    /* active low, level triggered */
#define MP_MAX_ENTRIES  (128 + 2 + 1 + 16 + 124 + 2)

struct mp_builder {
    uint8_t *p;
    uint16_t count;
};

static void *
mp_entry(struct mp_builder *b, uint32_t len)
{
    void *e = b->p;

    b->p += len;
    b->count++;
    return e;
}

static void
mp_irq(struct mp_builder *b, uint8_t type, uint8_t kind, uint16_t flags,
       uint8_t bus, uint8_t irq, uint8_t dst, uint8_t pin)
{
    struct mp_intr *e = mp_entry(b, sizeof(*e));

    e->type = type;
    e->kind = kind;
    e->flags = flags;
    e->bus = bus;
    e->bus_irq = irq;
    e->dst_id = dst;
    e->dst_pin = pin;
}

static void
mp_cpus(struct mp_builder *b, unsigned n, const uint8_t *online)
{
    struct mp_cpu *c;
    unsigned i;

    for (i = 0; i < n; i++) {
        c = mp_entry(b, sizeof(*c));
        c->type = 0;
        c->lapic_id = (uint8_t)acpi_lapic_id(i);
        c->lapic_version = 0x14;
        if (!online || (online[i / 8] & (1u << (i % 8)))) {
            c->flags = MP_CPU_ENABLED;
        }
        c->flags |= i == 0 ? MP_CPU_BSP : 0;
        c->signature = 0x600;
        c->features = 0x201;        /* FPU, APIC */
    }
}

static void
mp_buses(struct mp_builder *b)
{
    struct mp_bus *bus = mp_entry(b, sizeof(*bus));
    struct mp_ioapic *io;

    bus->type = 1;
    bus->id = BUS_PCI;
    memcpy(bus->name, "PCI   ", 6);
    bus = mp_entry(b, sizeof(*bus));
    bus->type = 1;
    bus->id = BUS_ISA;
    memcpy(bus->name, "ISA   ", 6);
    io = mp_entry(b, sizeof(*io));
    io->type = 2;
    io->id = IOAPIC_ID;
    io->version = 0x11;
    io->flags = 1;
    io->addr = IOAPIC_BASE;
}

/* ISA IRQs (IRQ 0 on pin 2), PCI INTx, then the local ExtINT and NMI. */
static void
mp_irqs(struct mp_builder *b, uint32_t slots)
{
    unsigned irq, dev, pin;
    uint16_t level = PCI_ISA_IRQ_MASK | 1u << SCI_IRQ;

    for (irq = 0; irq < 16; irq++) {
        if (irq == 2) {
            continue;
        }
        mp_irq(b, 3, MP_INT, (level >> irq) & 1 ? MP_LEVEL_LOW : 0,
               BUS_ISA, (uint8_t)irq, IOAPIC_ID,
               (uint8_t)(irq ? irq : 2));
    }
    for (dev = 1; dev < 32; dev++) {
        for (pin = 1; pin <= 4 && (slots & (1u << dev)); pin++) {
            mp_irq(b, 3, MP_INT, MP_LEVEL_LOW, BUS_PCI,
                   (uint8_t)(dev << 2 | (pin - 1)), IOAPIC_ID,
                   (uint8_t)pci_intx_gsi(dev, pin));
        }
    }
    mp_irq(b, 4, MP_EXTINT, 0, BUS_ISA, 0, 0xff, 0);
    mp_irq(b, 4, MP_NMI, 0, BUS_ISA, 0, 0xff, 1);
}

uint32_t
mptable_build(struct fw_area *a, unsigned nr_vcpus,
              const uint8_t *vcpu_online, uint32_t intx_slots)
{
    uint32_t max = sizeof(struct mp_config) + MP_MAX_ENTRIES * 20;
    struct mp_float *f;
    struct mp_config *c;
    struct mp_builder b;

    if (nr_vcpus > 128) {
        return 0;
    }
    f = fw_alloc(a, sizeof(*f), 16);
    c = fw_alloc(a, max, 16);
    if (!f || !c) {
        return 0;
    }
    b.p = (uint8_t *)(c + 1);
    b.count = 0;
    mp_cpus(&b, nr_vcpus, vcpu_online);
    mp_buses(&b);
    mp_irqs(&b, intx_slots);
    memcpy(c->signature, "PCMP", 4);
    c->length = (uint16_t)(b.p - (uint8_t *)c);
    c->revision = 4;
    memcpy(c->oem, "HVMDM   ", 8);
    memcpy(c->product, "HVM domU    ", 12);
    c->count = b.count;
    c->lapic = LAPIC_BASE;
    c->checksum = fw_checksum(c, c->length);
    a->used = fw_phys(a, b.p) - a->phys;    /* give back the slack */
    memcpy(f->signature, "_MP_", 4);
    f->config = fw_phys(a, c);
    f->length = 1;
    f->revision = 4;
    f->checksum = fw_checksum(f, sizeof(*f));
    return fw_phys(a, f);
}

/* PCI IRQ Routing Table Specification 1.0, 3.1 and 3.2. */
struct pir_slot {
    uint8_t bus, devfn;
    struct {
        uint8_t link;
        uint16_t bitmap;
    } __attribute__((packed)) pin[4];
    uint8_t slot, reserved;
} __attribute__((packed));

struct pir_header {
    char signature[4];
    uint16_t version, size;
    uint8_t router_bus, router_devfn;
    uint16_t exclusive_irqs;
    uint32_t compat_router;
    uint32_t miniport;
    uint8_t reserved[11];
    uint8_t checksum;
} __attribute__((packed));

uint32_t
pir_build(struct fw_area *a)
{
    uint32_t size = sizeof(struct pir_header) + 31 * sizeof(struct pir_slot);
    struct pir_header *h = fw_alloc(a, size, 16);
    struct pir_slot *s;
    unsigned dev, pin;

    if (!h) {
        return 0;
    }
    memcpy(h->signature, "$PIR", 4);
    h->version = 0x0100;
    h->size = (uint16_t)size;
    h->router_devfn = 0x08;                 /* PIIX3, 00:01.0 */
    h->compat_router = 0x70008086u;         /* 8086:7000 */
    s = (struct pir_slot *)(h + 1);
    for (dev = 1; dev < 32; dev++, s++) {
        s->devfn = (uint8_t)(dev << 3);
        for (pin = 1; pin <= 4; pin++) {
            s->pin[pin - 1].link =
                (uint8_t)(PIIX3_PIRQRC + pci_intx_link(dev, pin));
            s->pin[pin - 1].bitmap = PCI_ISA_IRQ_MASK;
        }
        s->slot = (uint8_t)dev;
    }
    h->checksum = fw_checksum(h, size);
    return fw_phys(a, h);
}
