/*
 * The board outside PCI: hvm_info_table, local APIC and IOAPIC (Intel SDM
 * vol. 3A chapter 10; 82093AA IOAPIC datasheet 3.2), MTRRs (SDM 11.11),
 * CMOS memory sizes, UART and HPET probes, the ACPI enable handshake.
 */
#include "firmware/hvmloader/acpi.h"
#include "firmware/hvmloader/console.h"
#include "firmware/hvmloader/io.h"
#include "firmware/hvmloader/loader.h"

#define HVM_INFO_ADDR   0x9f800u

/* hvm/hvm_info_table.h */
struct hvm_info_table {
    char signature[8];
    uint32_t length;
    uint8_t checksum;
    uint8_t apic_mode;
    uint8_t pad[2];
    uint32_t nr_vcpus;
    uint32_t low_mem_pgend;
    uint32_t reserved_mem_pgstart;
    uint32_t high_mem_pgend;
    uint8_t vcpu_online[16];
} __attribute__((packed));

void
hvm_info_read(struct loader *l)
{
    const struct hvm_info_table *t = (const void *)HVM_INFO_ADDR;

    if (memcmp(t->signature, "HVM INFO", 8) || t->length < sizeof(*t) ||
        t->length > 4096 || fw_checksum(t, t->length) != 0) {
        panic("bad hvm_info_table at 0x%x", HVM_INFO_ADDR);
    }
    l->nr_vcpus = t->nr_vcpus;
    if (!l->nr_vcpus || l->nr_vcpus > ACPI_MAX_VCPUS) {
        panic("hvm_info_table: %u vCPUs", t->nr_vcpus);
    }
    memcpy(l->vcpu_online, t->vcpu_online, sizeof(l->vcpu_online));
    l->low_mem_end = t->low_mem_pgend << 12;
    l->high_mem_end = (uint64_t)t->high_mem_pgend << 12;
    if (l->low_mem_end < 0x1000000 || l->low_mem_end > PCI_HOLE_START) {
        panic("hvm_info_table: low memory ends at 0x%x", l->low_mem_end);
    }
    printf("%u vCPUs, RAM to 0x%x, above 4 GiB to 0x%llx\n", l->nr_vcpus,
           l->low_mem_end, l->high_mem_end);
}

/* --- APICs */

#define LAPIC_SVR       0x0f0
#define LAPIC_LVT0      0x350
#define LAPIC_LVT1      0x360
#define LVT_MASKED      0x10000u
#define DM_NMI          0x400u
#define DM_EXTINT       0x700u
#define IOAPIC_REGSEL   0x00
#define IOAPIC_WIN      0x10

static void
ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
    mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

/*
 * Virtual wire through the IOAPIC (MP Specification 1.4, 3.6.2.2): the
 * PIC's INTR reaches the BSP as ExtINT on IOAPIC pin 0; LINT1 is NMI.
 */
void
apic_setup(void)
{
    ioapic_write(0x00, (uint32_t)IOAPIC_ID << 24);
    mmio_write32(LAPIC_BASE + LAPIC_SVR, 0x100 | 0xff);
    mmio_write32(LAPIC_BASE + LAPIC_LVT0, DM_EXTINT | LVT_MASKED);
    mmio_write32(LAPIC_BASE + LAPIC_LVT1, DM_NMI);
    ioapic_write(0x10, DM_EXTINT);
    ioapic_write(0x11, 0);          /* destination: LAPIC 0 */
}

/* --- MTRRs */

#define MSR_MTRR_CAP        0xfe
#define MSR_MTRR_PHYSBASE0  0x200
#define MSR_MTRR_DEF_TYPE   0x2ff
#define MTRR_UC             0
#define MTRR_WB             6
#define MTRR_ENABLE         (1u << 11)

/* Write-back by default, the PCI hole to 4 GiB uncached (SDM 11.11.2). */
void
mtrr_setup(const struct loader *l)
{
    uint32_t a, b, c, d, bits = 36;
    uint64_t size = GIB4 - l->pci.mem_start, mask;

    cpuid(1, &a, &b, &c, &d);
    if (!(d & (1u << 12)) || !(rdmsr(MSR_MTRR_CAP) & 0xff)) {
        return;                     /* no MTRRs, or no variable ones */
    }
    cpuid(0x80000000u, &a, &b, &c, &d);
    if (a >= 0x80000008u) {
        cpuid(0x80000008u, &a, &b, &c, &d);
        bits = a & 0xff;
    }
    mask = ((1ull << bits) - 1) & ~(size - 1);
    wrmsr(MSR_MTRR_DEF_TYPE, 0);
    wrmsr(MSR_MTRR_PHYSBASE0, l->pci.mem_start | MTRR_UC);
    wrmsr(MSR_MTRR_PHYSBASE0 + 1, mask | 0x800);        /* valid */
    wrmsr(MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_WB);
}

/* --- CMOS */

static void
cmos_write(uint8_t index, uint8_t v)
{
    outb(0x70, index);
    outb(0x71, v);
}

static void
cmos_write16(uint8_t index, uint32_t v)
{
    if (v > 0xffff) {
        v = 0xffff;
    }
    cmos_write(index, (uint8_t)v);
    cmos_write((uint8_t)(index + 1), (uint8_t)(v >> 8));
}

/* Memory sizes (shared/docs/xen-dm-interface.md 5.3). */
void
cmos_setup(const struct loader *l)
{
    uint32_t ext = (l->low_mem_end - 0x100000) >> 10;

    cmos_write16(0x15, 640);
    cmos_write16(0x17, ext);
    cmos_write16(0x30, ext);
    cmos_write16(0x34, (l->low_mem_end - 0x1000000) >> 16);
}

/* --- probes */

/* A 16550's IER keeps what is written to its low four bits. */
static bool
uart_present(uint16_t base)
{
    uint8_t ier = inb((uint16_t)(base + 1));
    bool ok;

    outb((uint16_t)(base + 1), 0x05);
    ok = inb((uint16_t)(base + 1)) == 0x05;
    outb((uint16_t)(base + 1), 0x00);
    ok = ok && inb((uint16_t)(base + 1)) == 0x00;
    outb((uint16_t)(base + 1), ier);
    return ok;
}

uint32_t
uart_probe(void)
{
    return (uart_present(0x3f8) ? ACPI_UART_COM1 : 0) |
           (uart_present(0x2f8) ? ACPI_UART_COM2 : 0);
}

/* HPET capabilities (IA-PC HPET 1.0a, 2.3.4), or 0 without an HPET. */
uint32_t
hpet_probe(void)
{
    uint32_t id = mmio_read32(HPET_BASE);

    return (id >> 16) == 0x8086 ? id : 0;
}

/* --- ACPI mode */

/*
 * The firmware side of ACPI 6.4, 16.3.1: ask the chipset through the SMI
 * command port (PIIX4 APMC 0xB2, command 0xF1) and check SCI_EN.
 */
void
acpi_enable_sci(void)
{
    if (!(inw(ACPI_PM1A_CNT) & 1)) {
        outb(0xb2, 0xf1);
    }
    if (!(inw(ACPI_PM1A_CNT) & 1)) {
        panic("SCI_EN still clear after the ACPI enable command (0xB2)");
    }
}
