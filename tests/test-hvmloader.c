/*
 * firmware/hvmloader's pure parts on the host: BAR placement, interrupt
 * routing, the E820 map, the ACPI, SMBIOS, MP and $PIR tables, the
 * SeaBIOS info block and an AP's start state. Every ACPI table is also
 * written out and decoded by iasl -d (acpica-tools), as an OS's parser
 * would read it.
 */
#define HVMLOADER_HOST
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/hvmloader/acpi.h"
#include "firmware/hvmloader/bios-info.h"
#include "firmware/hvmloader/e820.h"
#include "firmware/hvmloader/mptable.h"
#include "firmware/hvmloader/pci-alloc.h"
#include "firmware/hvmloader/pci-route.h"
#include "firmware/hvmloader/smbios.h"
#include "firmware/hvmloader/vcpu-ctx.h"
#include "tests/t.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)
#define AREA_PHYS 0x0ff00000u
#define AREA_SIZE (512 * 1024)

static struct fw_area
area_new(void)
{
    struct fw_area a = { g_malloc0(AREA_SIZE), AREA_PHYS, AREA_SIZE, 0 };

    return a;
}

/* The host pointer of guest-physical address phys inside the area. */
static uint8_t *
at(const struct fw_area *a, uint64_t phys)
{
    T_ASSERT(phys >= a->phys && phys < (uint64_t)a->phys + a->used);
    return a->ptr + (phys - a->phys);
}

static uint32_t
rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static uint64_t
rd64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static uint8_t
sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--) {
        s += *p++;
    }
    return s;
}

/* --- BAR placement */

static struct pci_layout
layout(uint32_t low, uint64_t high, bool relocate)
{
    struct pci_layout l = { .hole_start = PCI_HOLE_START,
                            .low_mem_end = low, .high_mem_end = high,
                            .allow_relocate = relocate };

    return l;
}

static void
bar(struct bar *b, uint8_t devfn, uint8_t reg, uint8_t flags, uint64_t size)
{
    memset(b, 0, sizeof(*b));
    b->devfn = devfn;
    b->reg = reg;
    b->flags = flags;
    b->size = size;
}

/* Largest first, each aligned to its size, all inside the 256 MiB hole. */
T_TEST(hvmloader_bars_default_hole)
{
    struct bar b[5];
    struct pci_layout l = layout(32 * MIB, 0, false);
    unsigned i;

    bar(&b[0], 0x09, 0x20, BAR_IO, 16);             /* IDE BMDMA */
    bar(&b[1], 0x18, 0x10, 0, 0x1000);
    bar(&b[2], 0x18, 0x14, BAR_PREFETCH, 16 * MIB);
    bar(&b[3], 0x20, 0x30, 0, 0x10000);             /* ROM */
    bar(&b[4], 0x20, 0x14, BAR_IO, 0x40);
    T_EQ(pci_bars_place(b, 5, &l), 0);
    T_EQ(l.mem_start, PCI_HOLE_START);
    for (i = 1; i < 5; i++) {
        T_ASSERT(b[i - 1].size >= b[i].size);
    }
    T_EQ(b[0].size, 16 * MIB);
    T_EQ(b[0].addr, 0xf0000000u);
    T_EQ(b[1].addr, 0xf1000000u);                   /* ROM 64 KiB */
    T_EQ(b[2].addr, 0xf1010000u);
    T_EQ(b[3].addr, 0xc000);                        /* I/O 0x40 */
    T_EQ(b[4].addr, 0xc040);
    for (i = 0; i < 5; i++) {
        T_EQ(b[i].addr & (b[i].size - 1), 0);
    }
}

/* 300 MiB of BARs: the hole doubles to 0xE0000000 over no RAM. */
T_TEST(hvmloader_bars_hole_grows)
{
    struct bar b[3];
    struct pci_layout l = layout(1 * GIB, 0, false);

    bar(&b[0], 0x18, 0x10, 0, 256 * MIB);
    bar(&b[1], 0x20, 0x10, 0, 32 * MIB);
    bar(&b[2], 0x28, 0x10, 0, 16 * MIB);
    T_EQ(pci_bars_place(b, 3, &l), 0);
    T_EQ(l.mem_start, 0xe0000000u);
    T_EQ(l.relocate_start, l.low_mem_end);          /* nothing moves */
    T_EQ(b[0].addr, 0xe0000000u);
    T_EQ(b[1].addr, 0xf0000000u);
    T_EQ(b[2].addr, 0xf2000000u);
}

/* RAM up to 0xE8000000 stays put: a 64-bit BAR goes above RAM instead. */
T_TEST(hvmloader_bars_64bit_high)
{
    struct bar b[2];
    struct pci_layout l = layout(0xe8000000u, 6 * GIB, false);

    bar(&b[0], 0x18, 0x10, BAR_MEM64 | BAR_PREFETCH, 1 * GIB);
    bar(&b[1], 0x20, 0x10, 0, 64 * MIB);
    T_EQ(pci_bars_place(b, 2, &l), 0);
    T_EQ(l.mem_start, PCI_HOLE_START);
    T_ASSERT(b[0].flags & BAR_HIGH);
    T_EQ(b[0].addr, 6 * GIB);
    T_EQ(l.high_start, 6 * GIB);
    T_EQ(l.high_end, 7 * GIB);
    T_EQ(b[1].addr, 0xf0000000u);
    T_ASSERT(!(b[1].flags & BAR_HIGH));
}

/* 32-bit BARs that cannot fit are refused (left at 0), others placed. */
T_TEST(hvmloader_bars_overflow_refused)
{
    struct bar b[2];
    struct pci_layout l = layout(0xe8000000u, 0, false);

    bar(&b[0], 0x18, 0x10, 0, 512 * MIB);
    bar(&b[1], 0x20, 0x10, 0, 1 * MIB);
    T_EQ(pci_bars_place(b, 2, &l), -1);
    T_EQ(b[0].addr, 0);
    T_EQ(b[1].addr, 0xf0000000u);
}

/* With relocation allowed the hole grows over RAM, which moves up. */
T_TEST(hvmloader_bars_relocate)
{
    struct bar b[1];
    struct pci_layout l = layout(0xe8000000u, 5 * GIB, true);

    bar(&b[0], 0x18, 0x10, 0, 512 * MIB);
    T_EQ(pci_bars_place(b, 1, &l), 0);
    T_EQ(l.mem_start, 0xc0000000u);
    T_EQ(l.relocate_start, 0xc0000000u);
    T_EQ(b[0].addr, 0xc0000000u);
    /* The 640 MiB that move land above the old high end. */
    T_ASSERT(l.high_start >= 5 * GIB + (0xe8000000u - 0xc0000000u));
}

T_TEST(hvmloader_bars_io_exhausted)
{
    struct bar b[2];
    struct pci_layout l = layout(32 * MIB, 0, false);

    bar(&b[0], 0x18, 0x10, BAR_IO, 0x8000);
    bar(&b[1], 0x20, 0x10, BAR_IO, 0x100);
    T_EQ(pci_bars_place(b, 2, &l), -1);
    T_EQ(b[0].addr, 0);                 /* 32 KiB: not in 0xC000-0xFFFF */
    T_EQ(b[1].addr, 0xc000);
}

/* --- interrupt routing */

T_TEST(hvmloader_pirq_links_and_elcr)
{
    uint8_t irq[PCI_LINKS];

    pci_link_irqs(irq);
    T_EQ(irq[0], 5);
    T_EQ(irq[1], 10);
    T_EQ(irq[2], 11);
    T_EQ(irq[3], 5);
    T_EQ(pci_elcr(irq), 0x0c20);
}

/* The barber's pole: each slot's INTA is the previous slot's INTB. */
T_TEST(hvmloader_intx_routing)
{
    unsigned dev, pin;

    T_EQ(pci_intx_link(1, 1), 1);       /* PIIX3 functions: LNKB */
    T_EQ(pci_intx_link(3, 1), 3);
    T_EQ(pci_intx_link(4, 1), 0);
    T_EQ(pci_intx_link(2, 4), 1);
    T_EQ(pci_intx_gsi(1, 1), 20);
    T_EQ(pci_intx_gsi(2, 1), 24);
    T_EQ(pci_intx_gsi(8, 1), 17);       /* (32 + 1) & 31 */
    for (dev = 1; dev < 32; dev++) {
        for (pin = 1; pin < 4; pin++) {
            T_EQ(pci_intx_link(dev, pin + 1),
                 (pci_intx_link(dev, pin) + 1) & 3);
            T_ASSERT(pci_intx_gsi(dev, pin) >= 16);
            T_ASSERT(pci_intx_gsi(dev, pin) < 48);
        }
    }
}

/* --- E820 */

static void
e820_check_sorted(const struct e820_map *m)
{
    unsigned i;

    for (i = 1; i < m->nr; i++) {
        T_ASSERT(m->e[i - 1].addr + m->e[i - 1].size <= m->e[i].addr);
    }
}

T_TEST(hvmloader_e820_small_guest)
{
    struct e820_map m;
    struct e820_layout l = { .low_mem_end = 32 * MIB, .bios_start = 0xc0000,
                             .tables_start = 32 * MIB - 0x20000 };

    T_EQ(e820_build(&m, &l), 0);
    e820_check_sorted(&m);
    T_EQ(m.nr, 5);
    T_EQ(m.e[0].addr, 0);
    T_EQ(m.e[0].size, 0xa0000);
    T_EQ(m.e[0].type, E820_RAM);
    T_EQ(m.e[1].addr, 0xc0000);
    T_EQ(m.e[1].size, 0x40000);
    T_EQ(m.e[1].type, E820_RESERVED);
    T_EQ(m.e[2].addr, 0x100000);
    T_EQ(m.e[2].size, 32 * MIB - 0x20000 - 0x100000);
    T_EQ(m.e[2].type, E820_RAM);
    T_EQ(m.e[3].type, E820_RESERVED);
    T_EQ(m.e[3].addr + m.e[3].size, 32 * MIB);
    T_EQ(m.e[4].addr, 0xfc000000u);
    T_EQ(m.e[4].size, 0x04000000u);
}

/* High RAM, and a reserved range from the toolstack that splits RAM. */
T_TEST(hvmloader_e820_high_and_rdm)
{
    struct e820_entry rdm[2] = {
        { 0x40000000ull, 0x100000, E820_RESERVED },
        { 0x1000000ull, 0x1000, E820_RAM },         /* RAM: ignored */
    };
    struct e820_layout l = { .low_mem_end = 0xf0000000u,
                             .high_mem_end = 6 * GIB,
                             .bios_start = 0xe0000,
                             .tables_start = 0xf0000000u - 0x20000,
                             .extra = rdm, .nr_extra = 2 };
    struct e820_map m;

    T_EQ(e820_build(&m, &l), 0);
    e820_check_sorted(&m);
    T_EQ(m.nr, 8);
    T_EQ(m.e[2].addr, 0x100000);
    T_EQ(m.e[2].size, 0x40000000ull - 0x100000);
    T_EQ(m.e[3].addr, 0x40000000ull);
    T_EQ(m.e[3].type, E820_RESERVED);
    T_EQ(m.e[4].addr, 0x40100000ull);
    T_EQ(m.e[4].type, E820_RAM);
    T_EQ(m.e[7].addr, 4 * GIB);
    T_EQ(m.e[7].size, 2 * GIB);
    T_EQ(m.e[7].type, E820_RAM);
}

/* Adjacent ranges of one type merge; a full map refuses more. */
T_TEST(hvmloader_e820_merge_and_limit)
{
    struct e820_map m = { .nr = 0 };
    unsigned i;

    T_EQ(e820_add(&m, 0x1000, 0x1000, E820_RAM), 0);
    T_EQ(e820_add(&m, 0x2000, 0x1000, E820_RAM), 0);
    T_EQ(m.nr, 1);
    T_EQ(m.e[0].size, 0x2000);
    for (i = 0; i < E820_MAX - 1; i++) {
        T_EQ(e820_add(&m, 0x100000 + i * 0x2000ull, 0x1000,
                      E820_RESERVED), 0);
    }
    T_EQ(m.nr, E820_MAX);
    T_EQ(e820_add(&m, 0x10000000, 0x1000, E820_NVS), -1);
    T_EQ(e820_add(&m, ~0ull - 10, 0x1000, E820_NVS), -1);
}

/* --- ACPI */

static struct acpi_config
acpi_cfg(unsigned vcpus, uint32_t low, uint64_t high)
{
    struct acpi_config c = {
        .nr_vcpus = vcpus,
        .pci_mem_start = low > 0xe0000000u ? PCI_HOLE_START : 0xe0000000u,
        .pci_mem_end = PCI_HOLE_END,
        .pci_high_start = high ? high : 0,
        .pci_high_end = high ? high + 4 * GIB : 0,
        .hpet_id = 0x8086a201,
        .uarts = ACPI_UART_COM1,
        .s3 = vcpus == 2, .s4 = vcpus == 2,
        .dsdt = hvmdm_dsdt_aml, .dsdt_len = hvmdm_dsdt_aml_len,
        .ssdt_s3 = hvmdm_ssdt_s3_aml, .ssdt_s3_len = hvmdm_ssdt_s3_aml_len,
        .ssdt_s4 = hvmdm_ssdt_s4_aml, .ssdt_s4_len = hvmdm_ssdt_s4_aml_len,
        .ssdt_vgid = hvmdm_ssdt_vgid_aml,
        .ssdt_vgid_len = hvmdm_ssdt_vgid_aml_len,
    };

    if (vcpus == 8) {
        c.vm_gen_id[0] = 0x0123456789abcdefull;
        c.vm_gen_id[1] = 0xfedcba9876543210ull;
    }
    return c;
}

/* A table at phys: right signature, length inside the area, sum 0. */
static const uint8_t *
table(const struct fw_area *a, uint64_t phys, const char *sig)
{
    const uint8_t *t = at(a, phys);
    uint32_t len = rd32(t + 4);

    T_ASSERT(!memcmp(t, sig, 4));
    T_ASSERT(len >= 36 || !strcmp(sig, "FACS"));
    T_ASSERT(phys + len <= (uint64_t)a->phys + a->used);
    if (strcmp(sig, "FACS")) {
        T_EQ(sum(t, len), 0);
    }
    return t;
}

/* Walk RSDP -> XSDT/RSDT -> tables as an OS does; returns the count. */
static unsigned
acpi_walk(const struct fw_area *a, const struct acpi_result *r)
{
    const uint8_t *rsdp = at(a, r->rsdp), *x, *rs, *t;
    unsigned n, i;

    T_ASSERT(!memcmp(rsdp, "RSD PTR ", 8));
    T_EQ(sum(rsdp, 20), 0);
    T_EQ(sum(rsdp, 36), 0);
    T_EQ(r->rsdp & 15, 0);
    x = table(a, rd64(rsdp + 24), "XSDT");
    rs = table(a, rd32(rsdp + 16), "RSDT");
    n = (rd32(x + 4) - 36) / 8;
    T_EQ((rd32(rs + 4) - 36) / 4, n);
    for (i = 0; i < n; i++) {
        T_EQ(rd64(x + 36 + 8 * i), rd32(rs + 36 + 4 * i));
        t = at(a, rd64(x + 36 + 8 * i));
        T_EQ(sum(t, rd32(t + 4)), 0);
    }
    t = table(a, r->fadt, "FACP");
    T_EQ(rd32(t + 36), r->facs);
    T_EQ(rd32(t + 40), r->dsdt);
    T_EQ(rd64(t + 140), r->dsdt);
    table(a, rd32(t + 40), "DSDT");
    table(a, rd32(t + 36), "FACS");
    T_EQ(r->facs & 63, 0);
    return n;
}

T_TEST(hvmloader_acpi_tables_walk)
{
    struct fw_area a = area_new();
    struct acpi_config c = acpi_cfg(2, 32 * MIB, 0);
    struct acpi_result r;
    const uint8_t *fadt, *madt;
    unsigned i;

    T_EQ(acpi_build(&a, &c, &r), 0);
    T_EQ(acpi_walk(&a, &r), 6);             /* FACP APIC WAET HPET 2 SSDT */
    fadt = at(&a, r.fadt);
    T_EQ(rd32(fadt + 4), 244);
    T_EQ(fadt[46], SCI_IRQ);
    T_EQ(rd32(fadt + 56), ACPI_PM1A_EVT);
    T_EQ(rd32(fadt + 64), ACPI_PM1A_CNT);
    T_EQ(rd32(fadt + 76), ACPI_PM_TMR);
    T_EQ(rd32(fadt + 80), ACPI_GPE0);
    T_EQ(rd64(fadt + 116 + 4), ACPI_RESET_PORT);
    T_EQ(fadt[128], ACPI_RESET_VALUE);
    T_EQ(rd32(fadt + 48), 0);               /* no SMI_CMD at OS time */
    madt = at(&a, r.madt);
    /* LAPICs 0 and 2, then the IOAPIC with ID 1. */
    T_EQ(madt[44], 0);
    T_EQ(madt[44 + 3], 0);
    T_EQ(madt[52 + 3], 2);
    T_EQ(madt[60], 1);
    T_EQ(madt[60 + 2], IOAPIC_ID);
    T_EQ(rd32(madt + 60 + 4), IOAPIC_BASE);
    /* IRQ 0 -> GSI 2; every override is on bus 0 (ISA). */
    for (i = 72; i < 72 + 5 * 10; i += 10) {
        T_EQ(madt[i], 2);
        T_EQ(madt[i + 2], 0);
    }
    T_EQ(madt[72], 2);
    T_EQ(madt[72 + 3], 0);
    T_EQ(rd32(madt + 72 + 4), 2);
    g_free(a.ptr);
}

/* The DSDT carries this guest's window and vCPU count. */
T_TEST(hvmloader_acpi_dsdt_patched)
{
    struct fw_area a = area_new();
    struct acpi_config c = acpi_cfg(8, 2 * GIB, 8 * GIB);
    struct acpi_result r;
    const uint8_t *d;
    uint8_t copy[64 * 1024];
    uint32_t len;

    T_EQ(acpi_build(&a, &c, &r), 0);
    d = at(&a, r.dsdt);
    len = rd32(d + 4);
    T_ASSERT(len <= sizeof(copy));
    memcpy(copy, d, len);
    /* Patching the same values again finds each name exactly once. */
    T_EQ(aml_patch_name(copy, len, "PMIN", 0xe0000000u), 1);
    T_EQ(memcmp(copy, d, len), 0);
    T_EQ(aml_patch_name(copy, len, "PHBL", 0), 1);
    T_EQ(aml_patch_name(copy, len, "PHBH", 2), 1);
    T_EQ(aml_patch_name(copy, len, "PHLL", 0), 1);
    T_EQ(aml_patch_name(copy, len, "PHLH", 1), 1);
    T_EQ(aml_patch_name(copy, len, "NCPU", 8), 1);
    T_EQ(memcmp(copy, d, len), 0);
    T_EQ(aml_patch_name(copy, len, "NONE", 1), 0);
    g_free(a.ptr);
}

/* Too many vCPUs, or no room: refused, never written past the area. */
T_TEST(hvmloader_acpi_refuses)
{
    struct fw_area a = area_new();
    struct acpi_config c = acpi_cfg(129, 32 * MIB, 0);
    struct acpi_result r;

    T_EQ(acpi_build(&a, &c, &r), -1);
    c.nr_vcpus = 0;
    T_EQ(acpi_build(&a, &c, &r), -1);
    c.nr_vcpus = 1;
    a.size = 4096;
    T_EQ(acpi_build(&a, &c, &r), -1);
    T_ASSERT(a.used <= a.size);
    g_free(a.ptr);
}

/* Write each table to dir/NAME.dat, run iasl -d, return its output. */
static char *
iasl_decode(const char *dir, const char *name, const uint8_t *t)
{
    char *path = g_strdup_printf("%s/%s.dat", dir, name);
    char *cmd, *out = NULL, *err = NULL, *dsl = NULL;
    gint status = -1;

    T_ASSERT(g_file_set_contents(path, (const char *)t, rd32(t + 4), NULL));
    cmd = g_strdup_printf("iasl -d %s", path);
    if (!g_spawn_command_line_sync(cmd, &out, &err, &status, NULL)) {
        t_fail(__FILE__, __LINE__, "cannot run iasl (install acpica-tools:"
               " scripts/install-deps)");
    }
    T_ASSERT(g_spawn_check_wait_status(status, NULL));
    g_free(cmd);
    g_free(path);
    /* The decoded table carries the disassembler's own complaints. */
    path = g_strdup_printf("%s/%s.dsl", dir, name);
    T_ASSERT(g_file_get_contents(path, &dsl, NULL, NULL));
    cmd = g_strconcat(out, err, dsl, NULL);
    g_free(path);
    g_free(dsl);
    g_free(out);
    g_free(err);
    return cmd;
}

/* iasl's summary line must say 0 errors and no warning lines appear. */
static void
iasl_clean(const char *name, const char *log)
{
    if (strstr(log, "Error") || strstr(log, "Warning") ||
        strstr(log, "Invalid") || strstr(log, "Unknown") ||
        strstr(log, "Incorrect") || strstr(log, "****")) {
        t_fail(__FILE__, __LINE__, "iasl -d %s:\n%s", name, log);
    }
}

static void
iasl_check_config(unsigned vcpus, uint32_t low, uint64_t high)
{
    static const char *const names[] = { "facp", "apic", "hpet", "waet",
                                         "dsdt", "rsdt", "xsdt", "ssdt-s3",
                                         "ssdt-s4", "ssdt-vgid" };
    struct fw_area a = area_new();
    struct acpi_config c = acpi_cfg(vcpus, low, high);
    struct acpi_result r;
    char *dir = g_dir_make_tmp("hvmloader-acpi-XXXXXX", NULL);
    uint32_t all[G_N_ELEMENTS(names)];
    unsigned i;
    char *log;

    T_ASSERT(dir);
    T_EQ(acpi_build(&a, &c, &r), 0);
    T_EQ(acpi_walk(&a, &r), (c.s3 ? 6 : 4) + (vcpus == 8));
    all[0] = r.fadt;
    all[1] = r.madt;
    all[2] = r.hpet;
    all[3] = r.waet;
    all[4] = r.dsdt;
    all[5] = r.rsdt;
    all[6] = r.xsdt;
    all[7] = r.ssdt[0];
    all[8] = r.ssdt[1];
    all[9] = r.ssdt[2];
    if (vcpus == 8) {
        T_EQ(rd64(at(&a, r.vm_gen_id)), c.vm_gen_id[0]);
        T_EQ(rd64(at(&a, r.vm_gen_id) + 8), c.vm_gen_id[1]);
        T_EQ(r.vm_gen_id & 15, 0);
    }
    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        if (all[i]) {
            log = iasl_decode(dir, names[i], at(&a, all[i]));
            iasl_clean(names[i], log);
            g_free(log);
        }
    }
    log = g_strdup_printf("rm -rf '%s'", dir);
    T_ASSERT(system(log) == 0);
    g_free(log);
    g_free(dir);
    g_free(a.ptr);
}

T_TEST(hvmloader_acpi_iasl_1cpu_32m)
{
    iasl_check_config(1, 32 * MIB, 0);
}

T_TEST(hvmloader_acpi_iasl_2cpu_2g_s3s4)
{
    iasl_check_config(2, 2 * GIB, 0);
}

T_TEST(hvmloader_acpi_iasl_8cpu_6g)
{
    iasl_check_config(8, 0xf0000000u, 6 * GIB);
}

T_TEST(hvmloader_acpi_iasl_128cpu_1g)
{
    iasl_check_config(128, 1 * GIB, 0);
}

/* --- SMBIOS, MP, $PIR, SeaBIOS info */

struct smbios_strings {
    const char *key, *value;
};

static const char *
smbios_lookup(void *opaque, const char *key)
{
    const struct smbios_strings *s;

    for (s = opaque; s->key; s++) {
        if (!strcmp(s->key, key)) {
            return s->value;
        }
    }
    return NULL;
}

/* String number n (1-based) of the structure at p, or NULL. */
static const char *
smbios_string(const uint8_t *p, unsigned n)
{
    const char *s = (const char *)p + p[1];

    if (!n) {
        return NULL;
    }
    while (--n) {
        s += strlen(s) + 1;
    }
    return s;
}

/* The structure after p (skip formatted area and string set). */
static const uint8_t *
smbios_next(const uint8_t *p)
{
    const uint8_t *s = p + p[1];

    while (s[0] || s[1]) {
        s++;
    }
    return s + 2;
}

T_TEST(hvmloader_smbios_tables)
{
    struct smbios_strings ov[] = {
        { "bios-vendor", "Acme BIOS" },
        { "system-product-name", "Test Box" },
        { "system-serial-number", "" },         /* empty: string 0 */
        { NULL, NULL },
    };
    struct smbios_config c = { .nr_vcpus = 2, .low_mem = 2 * GIB,
                               .high_mem = 30 * GIB,
                               .string = smbios_lookup, .opaque = ov };
    struct fw_area a = area_new();
    uint32_t ep = smbios_build(&a, &c);
    const uint8_t *e, *p, *end;
    unsigned count = 0, types[8] = { 0 };
    uint16_t max = 0;

    T_ASSERT(ep);
    e = at(&a, ep);
    T_ASSERT(!memcmp(e, "_SM_", 4));
    T_EQ(sum(e, e[5]), 0);
    T_EQ(sum(e + 0x10, 15), 0);
    p = at(&a, rd32(e + 0x18));
    end = p + (e[0x16] | e[0x17] << 8);
    for (; p < end; p = smbios_next(p)) {
        count++;
        if ((size_t)(smbios_next(p) - p) > max) {
            max = (uint16_t)(smbios_next(p) - p);
        }
        switch (p[0]) {
        case 0:
            T_ASSERT(!strcmp(smbios_string(p, p[4]), "Acme BIOS"));
            T_ASSERT(!strcmp(smbios_string(p, p[5]), "hvmloader"));
            types[0]++;
            break;
        case 1:
            T_ASSERT(!strcmp(smbios_string(p, p[5]), "Test Box"));
            T_EQ(p[7], 0);
            types[1]++;
            break;
        case 4:
            types[2]++;
            break;
        case 17:
            T_EQ(p[0x0c] | p[0x0d] << 8, 16 * 1024);  /* 2 x 16 GiB */
            types[3]++;
            break;
        case 19:
            types[4]++;
            break;
        case 127:
            types[5]++;
            break;
        }
    }
    T_ASSERT(p == end);
    T_EQ(count, e[0x1c] | e[0x1d] << 8);
    T_EQ(max, e[8] | e[9] << 8);
    T_EQ(types[0], 1);
    T_EQ(types[1], 1);
    T_EQ(types[2], 2);
    T_EQ(types[3], 2);
    T_EQ(types[4], 2);
    T_EQ(types[5], 1);
    g_free(a.ptr);
}

T_TEST(hvmloader_mptable_and_pir)
{
    struct fw_area a = area_new();
    uint8_t online[16] = { 0x05 };          /* vCPUs 0 and 2 of 3 */
    uint32_t fp = mptable_build(&a, 3, online, 0xfffffffe);
    uint32_t pir = pir_build(&a);
    const uint8_t *f, *c, *p, *s;
    unsigned i, n, pci = 0;

    T_ASSERT(fp && pir);
    f = at(&a, fp);
    T_ASSERT(!memcmp(f, "_MP_", 4));
    T_EQ(sum(f, 16), 0);
    c = at(&a, rd32(f + 4));
    T_ASSERT(!memcmp(c, "PCMP", 4));
    T_EQ(sum(c, c[4] | c[5] << 8), 0);
    n = c[0x22] | c[0x23] << 8;
    p = c + 44;
    for (i = 0; i < n; i++) {
        if (p[0] == 0) {
            T_EQ(p[1], 2 * i);
            T_EQ(p[3] & 1, i != 1);         /* enabled */
            T_EQ((p[3] >> 1) & 1, i == 0);  /* BSP */
            p += 20;
            continue;
        }
        if (p[0] == 3 && p[4] == 0) {       /* PCI bus */
            T_EQ(p[7], pci_intx_gsi(p[5] >> 2, (p[5] & 3) + 1));
            pci++;
        }
        p += 8;
    }
    T_EQ(p - c, c[4] | c[5] << 8);
    T_EQ(pci, 31 * 4);
    s = at(&a, pir);
    T_ASSERT(!memcmp(s, "$PIR", 4));
    T_EQ(sum(s, s[6] | s[7] << 8), 0);
    T_EQ(s[9], 0x08);
    /* Slot 1 INTA -> PIRQB (0x61), INTB -> PIRQC. */
    T_EQ(s[32 + 1], 1 << 3);
    T_EQ(s[32 + 2], 0x61);
    T_EQ(s[32 + 5], 0x62);
    T_EQ(s[32 + 3] | s[32 + 4] << 8, PCI_ISA_IRQ_MASK);
    g_free(a.ptr);
}

/* hvmdm's board (slots 1 and 2 with pins): small enough for SeaBIOS. */
T_TEST(hvmloader_mptable_fits_seabios)
{
    struct fw_area a = area_new();
    uint32_t fp = mptable_build(&a, 4, NULL, 0x6);
    const uint8_t *c;

    T_ASSERT(fp);
    c = at(&a, rd32(at(&a, fp) + 4));
    T_ASSERT((c[4] | c[5] << 8) <= 600);
    T_EQ(sum(c, c[4] | c[5] << 8), 0);
    T_EQ(c[0x22] | c[0x23] << 8, 4 + 3 + 15 + 8 + 2);
    g_free(a.ptr);
}

T_TEST(hvmloader_bios_info_block)
{
    struct fw_area a = area_new();
    struct e820_layout l = { .low_mem_end = 32 * MIB, .bios_start = 0xc0000,
                             .tables_start = 32 * MIB - 0x20000 };
    struct e820_map m;
    uint32_t tables[4] = { 0x1234560, 0, 0x1234570, 0x1234580 };
    const uint8_t *b, *t;

    a.phys = BIOS_INFO_ADDR;
    T_EQ(e820_build(&m, &l), 0);
    T_EQ(bios_info_build(&a, tables, &m), 0);
    b = at(&a, BIOS_INFO_ADDR);
    T_ASSERT(!memcmp(b, "XenHVMSeaBIOS", 14));
    T_EQ(b[14], 32);
    T_EQ(sum(b, b[14]), 0);
    T_EQ(rd32(b + 20), 3);                  /* the zero left out */
    t = at(&a, rd32(b + 16));
    T_EQ(rd32(t + 4), 0x1234570);
    T_EQ(rd32(b + 28), m.nr);
    T_EQ(memcmp(at(&a, rd32(b + 24)), m.e, m.nr * 20), 0);
    g_free(a.ptr);
}

/* A segment's access rights as Xen 4.17's check_segment
 * (xen/arch/x86/hvm/domain.c) accepts them for VCPUOP_initialise, after
 * it sets the accessed (busy for TR) bit. */
static bool
xen_segment_ok(uint16_t ar, char seg)
{
    unsigned type = ar & 0xf, s = ar & 0x10, p = ar & 0x80, dpl = ar & 0x60;

    if (ar & 0xf000 || !ar || !p || dpl) {
        return false;
    }
    switch (seg) {
    case 't':
        return !s && (type | 2) == 0xb;
    case 'c':
        return s && (type & 0x8);
    case 's':
        return s && !(type & 0x8) && (type & 0x2);
    default:
        return s && !((type & 0x8) && !(type & 0x2));
    }
}

T_TEST(hvmloader_ap_start_state)
{
    struct vcpu_hvm_context c;
    const struct vcpu_hvm_x86_32 *r = &c.x86_32;
    uint32_t eip_limit;

    memset(&c, 0xa5, sizeof(c));
    vcpu_ctx_flat32(&c, 0x101234, 0x180000);
    T_EQ(sizeof(c), 128);
    T_EQ(c.mode, VCPU_HVM_MODE_32B);
    T_EQ(c.pad, 0);
    T_EQ(r->pad1, 0);
    T_ASSERT(!r->pad2[0] && !r->pad2[1] && !r->pad2[2]);
    T_EQ(r->eip, 0x101234);
    T_EQ(r->esp, 0x180000);
    T_EQ(r->eflags, 0x2);                   /* IF clear */
    T_EQ(r->cr0, 1);                        /* PE, no paging */
    T_EQ(r->cr4, 0);
    T_EQ(r->efer, 0);
    T_ASSERT(xen_segment_ok(r->cs_ar, 'c'));
    T_ASSERT(xen_segment_ok(r->ss_ar, 's'));
    T_ASSERT(xen_segment_ok(r->ds_ar, 'd'));
    T_ASSERT(xen_segment_ok(r->es_ar, 'd'));
    T_ASSERT(xen_segment_ok(r->tr_ar, 't'));
    /* 32-bit (D/B), 4 GiB flat (G, limit, base 0) */
    T_EQ(r->cs_ar & 0xc00, 0xc00);
    T_EQ(r->ss_ar & 0xc00, 0xc00);
    T_EQ(r->cs_base | r->ds_base | r->ss_base | r->es_base, 0);
    eip_limit = (r->cs_ar & 0x800) ? (r->cs_limit << 12) | 0xfff
                                   : r->cs_limit;
    T_EQ(eip_limit, 0xffffffffu);
    T_EQ(r->ds_limit & r->ss_limit & r->es_limit, 0xffffffffu);
}
