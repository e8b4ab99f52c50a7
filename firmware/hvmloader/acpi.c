/*
 * ACPI table builders. Section numbers are of the ACPI Specification 6.4;
 * the register blocks are the ones hvmdm and Xen serve
 * (shared/docs/xen-dm-interface.md 5.1, 5.2, 6.4).
 */
#include "firmware/hvmloader/acpi.h"

#include "firmware/hvmloader/pci-route.h"

#define OEM_ID          "HVMDM "
#define OEM_TABLE_ID    "HVMDM   "
#define CREATOR_ID      "HVML"
#define SIG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
                         (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* 5.2.6 System Description Table Header. */
struct acpi_header {
    uint32_t signature;
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
} __attribute__((packed));

/* 5.2.5.3 Root System Description Pointer, revision 2. */
struct acpi_rsdp {
    char signature[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t ext_checksum;
    uint8_t reserved[3];
} __attribute__((packed));

/* 5.2.3.2 Generic Address Structure. */
struct acpi_gas {
    uint8_t space;          /* 0 memory, 1 I/O */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;    /* 1 byte, 2 word, 3 dword, 4 qword */
    uint64_t address;
} __attribute__((packed));

/* 5.2.9 Fixed ACPI Description Table, revision 4 (244 bytes). */
struct acpi_fadt {
    struct acpi_header h;
    uint32_t firmware_ctrl, dsdt;
    uint8_t reserved0, pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr;
    uint32_t gpe0, gpe1;
    uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
    uint8_t gpe0_len, gpe1_len, gpe1_base, cst_cnt;
    uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
    uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags;
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    uint8_t reserved2[3];
    uint64_t x_firmware_ctrl, x_dsdt;
    struct acpi_gas x_pm1a_evt, x_pm1b_evt, x_pm1a_cnt, x_pm1b_cnt;
    struct acpi_gas x_pm2_cnt, x_pm_tmr, x_gpe0, x_gpe1;
} __attribute__((packed));

/* 5.2.9 Table 5.10: fixed feature flags. */
#define FADT_WBINVD         (1u << 0)
#define FADT_PROC_C1        (1u << 2)
#define FADT_SLP_BUTTON     (1u << 5)   /* no fixed sleep button */
#define FADT_FIX_RTC        (1u << 6)
#define FADT_TMR_VAL_EXT    (1u << 8)   /* Xen's PM timer has 32 bits */
#define FADT_RESET_REG_SUP  (1u << 10)
/* 5.2.9.3 IA-PC boot architecture flags. */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042           (1u << 1)

/* 5.2.10 Firmware ACPI Control Structure. */
struct acpi_facs {
    uint32_t signature;
    uint32_t length;
    uint32_t hw_signature;
    uint32_t waking_vector;
    uint32_t global_lock;
    uint32_t flags;
    uint64_t x_waking_vector;
    uint8_t version;
    uint8_t reserved[31];
} __attribute__((packed));

/* 5.2.12 Multiple APIC Description Table. */
struct acpi_madt {
    struct acpi_header h;
    uint32_t lapic_addr;
    uint32_t flags;
} __attribute__((packed));
#define MADT_PCAT_COMPAT    1u

struct madt_lapic {             /* 5.2.12.2, type 0 */
    uint8_t type, length, acpi_id, apic_id;
    uint32_t flags;             /* bit 0: enabled */
} __attribute__((packed));

struct madt_ioapic {            /* 5.2.12.3, type 1 */
    uint8_t type, length, id, reserved;
    uint32_t addr, gsi_base;
} __attribute__((packed));

struct madt_override {          /* 5.2.12.5, type 2 */
    uint8_t type, length, bus, source;
    uint32_t gsi;
    uint16_t flags;
} __attribute__((packed));
#define MPS_ACTIVE_LOW      0x3u
#define MPS_LEVEL           0xcu

struct madt_lapic_nmi {         /* 5.2.12.7, type 4 */
    uint8_t type, length, acpi_id;
    uint16_t flags;
    uint8_t lint;
} __attribute__((packed));

/* IA-PC HPET Specification 1.0a, 3.2.4. */
struct acpi_hpet {
    struct acpi_header h;
    uint32_t block_id;
    struct acpi_gas base;
    uint8_t number;
    uint16_t min_tick;
    uint8_t page_prot;
} __attribute__((packed));

/* Windows ACPI Emulated Devices Table (Microsoft, 2009). */
struct acpi_waet {
    struct acpi_header h;
    uint32_t flags;
} __attribute__((packed));
#define WAET_RTC_GOOD       (1u << 0)
#define WAET_PMTMR_GOOD     (1u << 1)

unsigned
acpi_lapic_id(unsigned vcpu)
{
    return vcpu * 2;
}

static void
header_init(struct acpi_header *h, uint32_t sig, uint32_t len, uint8_t rev)
{
    h->signature = sig;
    h->length = len;
    h->revision = rev;
    memcpy(h->oem_id, OEM_ID, 6);
    memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
    h->oem_revision = 1;
    memcpy(h->creator_id, CREATOR_ID, 4);
    h->creator_revision = 1;
}

static void
header_sum(struct acpi_header *h)
{
    h->checksum = 0;
    h->checksum = fw_checksum(h, h->length);
}

static void
gas_io(struct acpi_gas *g, uint16_t port, uint8_t bits, uint8_t access)
{
    g->space = 1;
    g->bit_width = bits;
    g->access_size = access;
    g->address = port;
}

static void
fadt_blocks(struct acpi_fadt *f)
{
    f->sci_int = SCI_IRQ;
    f->pm1a_evt = ACPI_PM1A_EVT;
    f->pm1a_cnt = ACPI_PM1A_CNT;
    f->pm_tmr = ACPI_PM_TMR;
    f->gpe0 = ACPI_GPE0;
    f->pm1_evt_len = 4;
    f->pm1_cnt_len = 2;
    f->pm_tmr_len = 4;
    f->gpe0_len = 4;
    gas_io(&f->x_pm1a_evt, ACPI_PM1A_EVT, 32, 2);
    gas_io(&f->x_pm1a_cnt, ACPI_PM1A_CNT, 16, 2);
    gas_io(&f->x_pm_tmr, ACPI_PM_TMR, 32, 3);
    gas_io(&f->x_gpe0, ACPI_GPE0, 32, 1);
    gas_io(&f->reset_reg, ACPI_RESET_PORT, 8, 1);
    f->reset_value = ACPI_RESET_VALUE;
}

static struct acpi_fadt *
build_fadt(struct fw_area *a, uint32_t facs, uint32_t dsdt)
{
    struct acpi_fadt *f = fw_alloc(a, sizeof(*f), 16);

    if (!f) {
        return NULL;
    }
    header_init(&f->h, SIG('F', 'A', 'C', 'P'), sizeof(*f), 4);
    f->firmware_ctrl = facs;
    f->dsdt = dsdt;
    f->x_firmware_ctrl = facs;
    f->x_dsdt = dsdt;
    f->pm_profile = 0;          /* unspecified */
    fadt_blocks(f);
    f->p_lvl2_lat = 0x0fff;     /* > 100: no C2 */
    f->p_lvl3_lat = 0x0fff;     /* > 1000: no C3 */
    f->century = 0x32;
    f->iapc_boot_arch = BOOT_LEGACY_DEVICES | BOOT_8042;
    f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC |
               FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP;
    header_sum(&f->h);
    return f;
}

static struct acpi_facs *
build_facs(struct fw_area *a)
{
    struct acpi_facs *f = fw_alloc(a, sizeof(*f), 64);

    if (f) {
        f->signature = SIG('F', 'A', 'C', 'S');
        f->length = sizeof(*f);
        f->version = 1;
    }
    return f;
}

static bool
vcpu_online(const struct acpi_config *c, unsigned i)
{
    return !c->vcpu_online || (c->vcpu_online[i / 8] & (1u << (i % 8)));
}

static void
madt_override(struct madt_override *o, uint8_t irq, uint32_t gsi,
              uint16_t flags)
{
    o->type = 2;
    o->length = sizeof(*o);
    o->bus = 0;                 /* ISA */
    o->source = irq;
    o->gsi = gsi;
    o->flags = flags;
}

/* IRQ 0 -> GSI 2, then the PCI link IRQs and the SCI: level, low. */
static unsigned
madt_overrides(struct madt_override *o)
{
    unsigned irq, n = 0;

    madt_override(&o[n++], 0, 2, 0);
    for (irq = 1; irq < 16; irq++) {
        if ((PCI_ISA_IRQ_MASK | 1u << SCI_IRQ) & (1u << irq)) {
            madt_override(&o[n++], (uint8_t)irq, irq,
                          MPS_ACTIVE_LOW | MPS_LEVEL);
        }
    }
    return n;
}

static struct acpi_madt *
build_madt(struct fw_area *a, const struct acpi_config *c)
{
    struct madt_override ov[16];
    unsigned i, nov = madt_overrides(ov);
    uint32_t len = sizeof(struct acpi_madt) +
                   c->nr_vcpus * sizeof(struct madt_lapic) +
                   sizeof(struct madt_ioapic) + nov * sizeof(ov[0]) +
                   sizeof(struct madt_lapic_nmi);
    struct acpi_madt *m = fw_alloc(a, len, 16);
    struct madt_lapic *l;
    struct madt_ioapic *io;
    struct madt_lapic_nmi *nmi;

    if (!m) {
        return NULL;
    }
    header_init(&m->h, SIG('A', 'P', 'I', 'C'), len, 3);
    m->lapic_addr = LAPIC_BASE;
    m->flags = MADT_PCAT_COMPAT;
    l = (struct madt_lapic *)(m + 1);
    for (i = 0; i < c->nr_vcpus; i++, l++) {
        l->type = 0;
        l->length = sizeof(*l);
        l->acpi_id = (uint8_t)i;
        l->apic_id = (uint8_t)acpi_lapic_id(i);
        l->flags = vcpu_online(c, i) ? 1 : 0;
    }
    io = (struct madt_ioapic *)l;
    io->type = 1;
    io->length = sizeof(*io);
    io->id = IOAPIC_ID;
    io->addr = IOAPIC_BASE;
    memcpy(io + 1, ov, nov * sizeof(ov[0]));
    nmi = (struct madt_lapic_nmi *)((struct madt_override *)(io + 1) + nov);
    nmi->type = 4;
    nmi->length = sizeof(*nmi);
    nmi->acpi_id = 0xff;        /* all processors */
    nmi->lint = 1;
    header_sum(&m->h);
    return m;
}

static struct acpi_hpet *
build_hpet(struct fw_area *a, uint32_t hpet_id)
{
    struct acpi_hpet *h = fw_alloc(a, sizeof(*h), 16);

    if (!h) {
        return NULL;
    }
    header_init(&h->h, SIG('H', 'P', 'E', 'T'), sizeof(*h), 1);
    h->block_id = hpet_id;
    h->base.space = 0;
    h->base.bit_width = 64;
    h->base.address = HPET_BASE;
    h->min_tick = 0x80;
    header_sum(&h->h);
    return h;
}

static struct acpi_waet *
build_waet(struct fw_area *a)
{
    struct acpi_waet *w = fw_alloc(a, sizeof(*w), 16);

    if (!w) {
        return NULL;
    }
    header_init(&w->h, SIG('W', 'A', 'E', 'T'), sizeof(*w), 1);
    w->flags = WAET_RTC_GOOD | WAET_PMTMR_GOOD;
    header_sum(&w->h);
    return w;
}

int
aml_patch_name(uint8_t *aml, uint32_t len, const char *name, uint64_t value)
{
    uint32_t i;
    int n = 0;

    for (i = 0; i + 6 <= len; i++) {
        if (aml[i] != 0x08 || memcmp(aml + i + 1, name, 4)) {
            continue;
        }
        if (aml[i + 5] == 0x0c && i + 10 <= len) {
            value &= 0xffffffffu;
            memcpy(aml + i + 6, &value, 4);
            n++;
        } else if (aml[i + 5] == 0x0e && i + 14 <= len) {
            memcpy(aml + i + 6, &value, 8);
            n++;
        }
    }
    return n;
}

/* The DSDT with this guest's numbers (names declared in dsdt.asl). */
static struct acpi_header *
build_dsdt(struct fw_area *a, const struct acpi_config *c)
{
    struct acpi_header *h = fw_alloc(a, c->dsdt_len, 16);
    uint8_t *aml = (uint8_t *)h;
    uint64_t hlen = c->pci_high_end - c->pci_high_start;
    int n = 0;

    if (!h || c->dsdt_len < sizeof(*h)) {
        return NULL;
    }
    memcpy(h, c->dsdt, c->dsdt_len);
    n += aml_patch_name(aml, c->dsdt_len, "PMIN", c->pci_mem_start);
    n += aml_patch_name(aml, c->dsdt_len, "PLEN",
                        c->pci_mem_end - c->pci_mem_start);
    n += aml_patch_name(aml, c->dsdt_len, "PHBL", c->pci_high_start);
    n += aml_patch_name(aml, c->dsdt_len, "PHBH", c->pci_high_start >> 32);
    n += aml_patch_name(aml, c->dsdt_len, "PHLL", hlen);
    n += aml_patch_name(aml, c->dsdt_len, "PHLH", hlen >> 32);
    n += aml_patch_name(aml, c->dsdt_len, "NCPU", c->nr_vcpus);
    n += aml_patch_name(aml, c->dsdt_len, "UAEN", c->uarts);
    if (n != 8) {
        return NULL;            /* dsdt.asl and this file disagree */
    }
    header_sum(h);
    return h;
}

static struct acpi_header *
copy_table(struct fw_area *a, const uint8_t *t, uint32_t len)
{
    struct acpi_header *h = fw_alloc(a, len, 16);

    if (h && len >= sizeof(*h)) {
        memcpy(h, t, len);
        header_sum(h);
        return h;
    }
    return NULL;
}

/* RSDT and XSDT over the same list of tables (5.2.7, 5.2.8). */
static int
build_roots(struct fw_area *a, const uint32_t *t, unsigned n,
            struct acpi_result *r)
{
    struct acpi_header *rsdt, *xsdt;
    uint32_t *r32;
    uint8_t *x64;
    unsigned i;
    uint64_t v;

    rsdt = fw_alloc(a, sizeof(*rsdt) + 4 * n, 16);
    xsdt = fw_alloc(a, sizeof(*xsdt) + 8 * n, 16);
    if (!rsdt || !xsdt) {
        return -1;
    }
    header_init(rsdt, SIG('R', 'S', 'D', 'T'), sizeof(*rsdt) + 4 * n, 1);
    header_init(xsdt, SIG('X', 'S', 'D', 'T'), sizeof(*xsdt) + 8 * n, 1);
    r32 = (uint32_t *)(rsdt + 1);
    x64 = (uint8_t *)(xsdt + 1);
    for (i = 0; i < n; i++) {
        r32[i] = t[i];
        v = t[i];
        memcpy(x64 + 8 * i, &v, 8);
    }
    header_sum(rsdt);
    header_sum(xsdt);
    r->rsdt = fw_phys(a, rsdt);
    r->xsdt = fw_phys(a, xsdt);
    return 0;
}

static int
build_rsdp(struct fw_area *a, struct acpi_result *r)
{
    struct acpi_rsdp *p = fw_alloc(a, sizeof(*p), 16);

    if (!p) {
        return -1;
    }
    memcpy(p->signature, "RSD PTR ", 8);
    memcpy(p->oem_id, OEM_ID, 6);
    p->revision = 2;
    p->rsdt = r->rsdt;
    p->length = sizeof(*p);
    p->xsdt = r->xsdt;
    p->checksum = fw_checksum(p, 20);
    p->ext_checksum = fw_checksum(p, sizeof(*p));
    r->rsdp = fw_phys(a, p);
    return 0;
}

/* The generation ID (16 bytes, 8-aligned) and its SSDT, patched. */
static struct acpi_header *
build_vgid(struct fw_area *a, const struct acpi_config *c,
           struct acpi_result *r)
{
    uint8_t *id = fw_alloc(a, 16, 16);
    struct acpi_header *h = fw_alloc(a, c->ssdt_vgid_len, 16);

    if (!id || !h || c->ssdt_vgid_len < sizeof(*h)) {
        return NULL;
    }
    memcpy(id, c->vm_gen_id, 16);
    r->vm_gen_id = fw_phys(a, id);
    memcpy(h, c->ssdt_vgid, c->ssdt_vgid_len);
    if (aml_patch_name((uint8_t *)h, c->ssdt_vgid_len, "VGIA",
                       r->vm_gen_id) != 1) {
        return NULL;
    }
    header_sum(h);
    return h;
}

/* The optional SSDTs; their addresses are appended to t. */
static int
build_ssdts(struct fw_area *a, const struct acpi_config *c,
            struct acpi_result *r, uint32_t *t, unsigned *n)
{
    struct acpi_header *h;

    if (c->s3) {
        h = copy_table(a, c->ssdt_s3, c->ssdt_s3_len);
        if (!h) {
            return -1;
        }
        t[(*n)++] = r->ssdt[0] = fw_phys(a, h);
    }
    if (c->s4) {
        h = copy_table(a, c->ssdt_s4, c->ssdt_s4_len);
        if (!h) {
            return -1;
        }
        t[(*n)++] = r->ssdt[1] = fw_phys(a, h);
    }
    if (c->vm_gen_id[0] || c->vm_gen_id[1]) {
        h = build_vgid(a, c, r);
        if (!h) {
            return -1;
        }
        t[(*n)++] = r->ssdt[2] = fw_phys(a, h);
    }
    return 0;
}

/* The tables every guest gets; their addresses go into t. */
static int
build_fixed(struct fw_area *a, const struct acpi_config *c,
            struct acpi_result *r, uint32_t *t, unsigned *n)
{
    struct acpi_facs *facs = build_facs(a);
    struct acpi_header *dsdt = build_dsdt(a, c);
    struct acpi_fadt *fadt;
    struct acpi_madt *madt = build_madt(a, c);
    struct acpi_waet *waet = build_waet(a);

    if (!facs || !dsdt || !madt || !waet) {
        return -1;
    }
    r->facs = fw_phys(a, facs);
    r->dsdt = fw_phys(a, dsdt);
    fadt = build_fadt(a, r->facs, r->dsdt);
    if (!fadt) {
        return -1;
    }
    t[(*n)++] = r->fadt = fw_phys(a, fadt);
    t[(*n)++] = r->madt = fw_phys(a, madt);
    t[(*n)++] = r->waet = fw_phys(a, waet);
    return 0;
}

int
acpi_build(struct fw_area *a, const struct acpi_config *c,
           struct acpi_result *r)
{
    uint32_t t[8];
    unsigned n = 0;
    struct acpi_hpet *hpet;

    memset(r, 0, sizeof(*r));
    if (!c->nr_vcpus || c->nr_vcpus > ACPI_MAX_VCPUS) {
        return -1;
    }
    if (build_fixed(a, c, r, t, &n) < 0) {
        return -1;
    }
    if (c->hpet_id) {
        hpet = build_hpet(a, c->hpet_id);
        if (!hpet) {
            return -1;
        }
        t[n++] = r->hpet = fw_phys(a, hpet);
    }
    if (build_ssdts(a, c, r, t, &n) < 0 || build_roots(a, t, n, r) < 0) {
        return -1;
    }
    return build_rsdp(a, r);
}
