/*
 * Chipset tests: the i440FX host bridge, PIIX3 ISA bridge and PIIX4 power
 * management function as hvmloader, SeaBIOS and ACPI guests drive them.
 * Every register at widths 1, 2 and 4 against masks written from the
 * datasheets; SMRAM locking; PIRQ routes; the 0xCF9 reset; the ACPI enable
 * handshake (hvmloader acpi_enable_sci); S5 and S3 through PM1a_CNT; GPE0
 * and the SCI; reset; and every device's record.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"
#include "dm/hv.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "hw/pci/chipset.h"
#include "hw/pci/pci.h"
#include "tests/harness.h"
#include "tests/t.h"

#define I440FX  PCI_DEVFN(0, 0)
#define PIIX3   PCI_DEVFN(1, 0)
#define PIIX4PM PCI_DEVFN(1, 3)

#define PM1A_CNT    0xb004      /* hvmloader: PMBA 0xB000 + 4 */
#define SCI_EN      0x0001
#define SLP_TYP(n)  ((n) << 10)
#define SLP_EN      0x2000
#define APMC        0xb2
#define APMS        0xb3
#define GPE0_STS    0xafe0
#define GPE0_EN     0xafe2

static struct t_machine *
chipset_machine(void)
{
    struct t_opts o = { 0 };

    return t_machine_new(&o);
}

/* hvmloader's special case for class 0x0680, then acpi_enable_sci's
 * preconditions: PMBA 0xB001 and PMIOSE. */
static void
pm_setup_like_hvmloader(struct t_machine *t)
{
    t_cfg_write(t, PIIX4PM, 0x40, 0xb000 | 1, 4);
    t_cfg_write(t, PIIX4PM, 0x80, 0x01, 1);
}

/* ---- every register at every width ------------------------------------ */

/* Writable and write-1-to-clear bits, from the datasheets and PCI30. */
struct exp_reg {
    uint8_t off;
    uint8_t size;
    uint32_t wmask;
    uint32_t w1c;
};

static const struct exp_reg i440fx_exp[] = {
    { 0x04, 2, 0x0547, 0 }, { 0x06, 2, 0, 0xf900 }, { 0x0c, 1, 0xff, 0 },
    { 0x0d, 1, 0xf8, 0 },   { 0x3c, 1, 0xff, 0 },   { 0x59, 1, 0x30, 0 },
    { 0x5a, 1, 0x33, 0 },   { 0x5b, 1, 0x33, 0 },   { 0x5c, 1, 0x33, 0 },
    { 0x5d, 1, 0x33, 0 },   { 0x5e, 1, 0x33, 0 },   { 0x5f, 1, 0x33, 0 },
};

static const struct exp_reg piix3_exp[] = {
    { 0x04, 2, 0x010f, 0 }, { 0x06, 2, 0, 0xf900 }, { 0x0c, 1, 0xff, 0 },
    { 0x3c, 1, 0xff, 0 },   { 0x4c, 1, 0x7f, 0 },   { 0x4e, 2, 0x00ff, 0 },
    { 0x60, 1, 0x8f, 0 },   { 0x61, 1, 0x8f, 0 },   { 0x62, 1, 0x8f, 0 },
    { 0x63, 1, 0x8f, 0 },   { 0x69, 1, 0xff, 0 },   { 0x70, 1, 0xff, 0 },
    { 0x71, 1, 0xff, 0 },   { 0x76, 1, 0xff, 0 },   { 0x77, 1, 0xff, 0 },
    { 0x78, 2, 0xffff, 0 }, { 0x80, 1, 0x7f, 0 },   { 0x82, 1, 0x0f, 0 },
    { 0xa0, 1, 0xff, 0 },   { 0xa2, 2, 0xffff, 0 }, { 0xa4, 4, ~0u, 0 },
    { 0xa8, 1, 0xff, 0 },   { 0xaa, 2, 0xffff, 0 }, { 0xac, 1, 0xff, 0 },
    { 0xae, 1, 0xff, 0 },
};

static const struct exp_reg piix4pm_exp[] = {
    { 0x04, 2, 0x0547, 0 }, { 0x06, 2, 0, 0xf900 }, { 0x0c, 1, 0xff, 0 },
    { 0x3c, 1, 0xff, 0 },   { 0x40, 4, 0xffc0, 0 }, { 0x80, 1, 0x01, 0 },
};

struct exp_masks {
    uint8_t wmask[256];
    uint8_t w1c[256];
    uint8_t skip[256];
};

static void
exp_build(struct exp_masks *m, const struct exp_reg *regs, size_t n)
{
    size_t i;
    unsigned int b;

    memset(m, 0, sizeof(*m));
    for (i = 0; i < n; i++) {
        for (b = 0; b < regs[i].size; b++) {
            m->wmask[regs[i].off + b] = (uint8_t)(regs[i].wmask >> (8 * b));
            m->w1c[regs[i].off + b] = (uint8_t)(regs[i].w1c >> (8 * b));
        }
    }
}

static void
widths_check_one(struct t_machine *t, unsigned int devfn,
                 const struct exp_masks *m, unsigned int off,
                 unsigned int w, uint32_t pat)
{
    uint8_t old[4];
    uint32_t whole = 0;
    unsigned int i;

    for (i = 0; i < w; i++) {
        old[i] = (uint8_t)t_pcicfg_read(t, devfn, off + i, 1);
        whole |= (uint32_t)old[i] << (8 * i);
    }
    T_EQ(t_cfg_read(t, devfn, off, w), whole);
    t_cfg_write(t, devfn, off, pat, w);
    for (i = 0; i < w; i++) {
        uint8_t p = (uint8_t)(pat >> (8 * i)), wm = m->wmask[off + i];
        uint8_t want = (uint8_t)(((old[i] & ~wm) | (p & wm)) &
                                 ~(p & m->w1c[off + i]));
        uint8_t got = (uint8_t)t_pcicfg_read(t, devfn, off + i, 1);

        if (got != want) {
            t_fail(__FILE__, __LINE__, "%02x.%u reg 0x%02x width %u "
                   "pattern 0x%08x: 0x%02x, want 0x%02x", PCI_SLOT(devfn),
                   PCI_FUNC(devfn), off + i, w, pat, got, want);
        }
    }
}

static void
widths_check(struct t_machine *t, unsigned int devfn,
             const struct exp_masks *m)
{
    static const uint32_t pats[] = { 0xffffffffu, 0x5aa5c33cu, 0x00000000u };
    unsigned int w, off, p, i;

    for (w = 1; w <= 4; w <<= 1) {
        for (off = 0; off < 256; off += w) {
            bool skip = false;

            for (i = 0; i < w; i++) {
                skip |= m->skip[off + i];
            }
            for (p = 0; !skip && p < G_N_ELEMENTS(pats); p++) {
                widths_check_one(t, devfn, m, off, w, pats[p]);
            }
        }
    }
}

T_TEST(chipset_every_register_every_width)
{
    struct t_machine *t = chipset_machine();
    struct exp_masks *m = g_new0(struct exp_masks, 1);

    exp_build(m, i440fx_exp, G_N_ELEMENTS(i440fx_exp));
    m->skip[0x72] = 1;      /* SMRAM locks itself: its own test */
    widths_check(t, I440FX, m);
    exp_build(m, piix3_exp, G_N_ELEMENTS(piix3_exp));
    widths_check(t, PIIX3, m);
    exp_build(m, piix4pm_exp, G_N_ELEMENTS(piix4pm_exp));
    widths_check(t, PIIX4PM, m);
    g_free(m);
    t_machine_free(t);
}

/* Datasheet defaults (and QEMU's identities) after power-on. */
T_TEST(chipset_reset_values)
{
    struct t_machine *t = chipset_machine();

    T_EQ(t_cfg_read(t, I440FX, 0x00, 4), 0x12378086u);
    T_EQ(t_cfg_read(t, I440FX, 0x06, 2), 0x0280);
    T_EQ(t_cfg_read(t, I440FX, 0x08, 4), 0x06000002u);
    T_EQ(t_cfg_read(t, I440FX, 0x0e, 1), 0x00);
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x02);
    T_EQ(t_cfg_read(t, PIIX3, 0x00, 4), 0x70008086u);
    T_EQ(t_cfg_read(t, PIIX3, 0x04, 4), 0x02000007u);
    T_EQ(t_cfg_read(t, PIIX3, 0x08, 4), 0x06010000u);
    T_EQ(t_cfg_read(t, PIIX3, 0x0e, 1), 0x80);
    T_EQ(t_cfg_read(t, PIIX3, 0x4c, 4), 0x0003004du);
    T_EQ(t_cfg_read(t, PIIX3, 0x60, 4), 0x80808080u);
    T_EQ(t_cfg_read(t, PIIX3, 0x69, 1), 0x02);
    T_EQ(t_cfg_read(t, PIIX3, 0x70, 2), 0x8080);
    T_EQ(t_cfg_read(t, PIIX3, 0x74, 4), 0x0c0c0000u);
    T_EQ(t_cfg_read(t, PIIX3, 0x78, 2), 0x0002);
    T_EQ(t_cfg_read(t, PIIX3, 0xa0, 1), 0x08);
    T_EQ(t_cfg_read(t, PIIX3, 0xa8, 1), 0x0f);
    T_EQ(t_cfg_read(t, PIIX4PM, 0x00, 4), 0x71138086u);
    T_EQ(t_cfg_read(t, PIIX4PM, 0x08, 4), 0x06800003u);
    T_EQ(t_cfg_read(t, PIIX4PM, 0x0e, 1), 0x00);
    T_EQ(t_cfg_read(t, PIIX4PM, 0x3d, 1), 0x01);
    T_EQ(t_cfg_read(t, PIIX4PM, 0x40, 4), 0x00000001u);
    T_EQ(t_cfg_read(t, PIIX4PM, 0x80, 1), 0x00);
    T_EQ(t_cfg_read(t, PIIX4PM, 0x90, 4), 0x00000001u);
    T_EQ(t_cfg_read(t, PIIX4PM, 0xd2, 1), 0x00);
    T_ASSERT(t_hv_count(t, "map_pcidev 00:00.0") == 1);
    T_ASSERT(t_hv_count(t, "map_pcidev 00:01.0") == 1);
    T_ASSERT(t_hv_count(t, "map_pcidev 00:01.3") == 1);
    t_machine_free(t);
}

/* 82441FX SMRAM: D_LCK clears D_OPEN and makes D_OPEN and D_LCK
 * read-only until reset; C_BASE_SEG is hardwired to 010b. */
T_TEST(chipset_smram_lock)
{
    struct t_machine *t = chipset_machine();

    t_cfg_write(t, I440FX, 0x72, 0xff, 1);
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x3a);     /* open cleared */
    dm_reset_all(t->dm);
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x02);
    t_cfg_write(t, I440FX, 0x72, 0x48, 1);          /* D_OPEN|G_SMRAME */
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x4a);
    t_cfg_write(t, I440FX, 0x72, 0x00, 1);
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x02);
    t_cfg_write(t, I440FX, 0x72, 0x58, 1);          /* + D_LCK */
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x1a);
    t_cfg_write(t, I440FX, 0x70, 0x00400000u, 4);   /* D_OPEN, G off */
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x12);
    t_cfg_write(t, I440FX, 0x72, 0x20, 1);          /* D_CLS */
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x32);
    t_machine_free(t);
}

/* PIRQRC[A:D]: bit 7 disables the link, bits 3:0 are the ISA IRQ. */
T_TEST(chipset_pirq_routes_reach_the_hypervisor)
{
    struct t_machine *t = chipset_machine();

    t_hv_log_clear(t);
    t_cfg_write(t, PIIX3, 0x60, 0x0b0a0905u, 4);
    T_EQ(t_link_route(t, 0), 5);
    T_EQ(t_link_route(t, 1), 9);
    T_EQ(t_link_route(t, 2), 10);
    T_EQ(t_link_route(t, 3), 11);
    T_EQ(t_hv_count(t, "link_route"), 4);
    t_cfg_write(t, PIIX3, 0x62, 0x8a, 1);           /* disable link 2 */
    T_EQ(t_link_route(t, 2), 0);
    T_EQ(t_cfg_read(t, PIIX3, 0x62, 1), 0x8a);
    t_cfg_write(t, PIIX3, 0x63, 0x7f, 1);           /* reserved 6:4 */
    T_EQ(t_cfg_read(t, PIIX3, 0x63, 1), 0x0f);
    T_EQ(t_link_route(t, 3), 15);
    /* Same value again: no new hypervisor call. */
    t_hv_log_clear(t);
    t_cfg_write(t, PIIX3, 0x60, 0x05, 1);
    T_EQ(t_hv_count(t, "link_route"), 0);
    t_machine_free(t);
}

/* PIIX3 RC at 0xCF9: SRST alone does nothing; RCPU resets (FADT reset
 * register: 0xCF9 value 6; SeaBIOS writes 2 then 6). */
T_TEST(chipset_cf9_reset_reboots)
{
    struct t_machine *t = chipset_machine();

    T_EQ(t_inb(t, 0xcf9), 0x00);
    t_outl(t, 0xcf8, 0x80000400u);  /* a dword is CONFIG_ADDRESS only */
    t_outb(t, 0xcf9, 0x02);
    T_EQ(t_inb(t, 0xcf9), 0x02);
    T_EQ(t_inl(t, 0xcf8), 0x80000400u);
    T_EQ(t_shutdown_reason(t), -1);
    t_outb(t, 0xcf9, 0x06);
    T_EQ(t_shutdown_reason(t), HV_SHUTDOWN_REBOOT);
    T_EQ(t_hv_count(t, "shutdown 1"), 1);
    t_machine_free(t);
}

/* hvmloader acpi_enable_sci: inb(PM1a_CNT); if SCI_EN is clear, outb
 * 0xF1 to 0xB2; then BUG_ON(!SCI_EN). */
T_TEST(chipset_acpi_enable_handshake)
{
    struct t_machine *t = chipset_machine();

    T_EQ(t_inb(t, PM1A_CNT), 0xff);         /* PM I/O not enabled yet */
    t_hv_log_clear(t);
    pm_setup_like_hvmloader(t);
    T_ASSERT(t_hv_count(t, "map_io port 0xb004-0xb005") == 1);
    T_EQ(t_inb(t, PM1A_CNT) & SCI_EN, 0);
    t_outb(t, APMC, 0xf1);
    T_EQ(t_inb(t, PM1A_CNT) & SCI_EN, SCI_EN);
    T_EQ(t_inw(t, PM1A_CNT), SCI_EN);
    T_EQ(t_inb(t, APMC), 0xf1);
    t_outb(t, APMS, 0x5a);
    T_EQ(t_inb(t, APMS), 0x5a);
    T_EQ(t_inb(t, PM1A_CNT) & SCI_EN, SCI_EN);
    t_outb(t, APMC, 0xf0);                  /* ACPI disable */
    T_EQ(t_inw(t, PM1A_CNT), 0);
    /* The PCI command register does not gate PM I/O; PMIOSE does. */
    t_cfg_write(t, PIIX4PM, PCI_COMMAND, 0, 2);
    T_EQ(t_inw(t, PM1A_CNT), 0);
    /* Reserved and write-only bits read 0; GBL_RLS has no SMM behind it. */
    t_outw(t, PM1A_CNT, 0xc3e6);
    T_EQ(t_inw(t, PM1A_CNT), 0x0002);
    /* Moving PMBA moves PM1a_CNT. */
    t_hv_log_clear(t);
    t_cfg_write(t, PIIX4PM, 0x40, 0xc000 | 1, 4);
    T_ASSERT(t_hv_count(t, "unmap_io port 0xb004-0xb005") == 1);
    T_ASSERT(t_hv_count(t, "map_io port 0xc004-0xc005") == 1);
    T_EQ(t_inw(t, PM1A_CNT), 0xffff);
    T_EQ(t_inw(t, 0xc004), 0x0002);
    t_cfg_write(t, PIIX4PM, 0x80, 0x00, 1);
    T_EQ(t_inw(t, 0xc004), 0xffff);
    t_machine_free(t);
}

/* \_S5 = 0 (X:tools/libacpi/dsdt.asl): SLP_TYP 0 + SLP_EN powers off. */
T_TEST(chipset_s5_powers_off)
{
    struct t_machine *t = chipset_machine();

    pm_setup_like_hvmloader(t);
    t_outw(t, PM1A_CNT, SLP_TYP(0) | SCI_EN);       /* Linux: type first */
    T_EQ(t_shutdown_reason(t), -1);
    t_outw(t, PM1A_CNT, SLP_TYP(0) | SLP_EN | SCI_EN);
    T_EQ(t_shutdown_reason(t), HV_SHUTDOWN_POWEROFF);
    T_EQ(t_inw(t, PM1A_CNT) & SLP_EN, 0);           /* write-only */
    t_machine_free(t);
}

T_TEST(chipset_s5_by_byte_write)
{
    struct t_machine *t = chipset_machine();

    pm_setup_like_hvmloader(t);
    t_outb(t, PM1A_CNT + 1, (SLP_TYP(0) | SLP_EN) >> 8);
    T_EQ(t_shutdown_reason(t), HV_SHUTDOWN_POWEROFF);
    t_machine_free(t);
}

/* \_S3 = 1 (ssdt_s3.asl): the domain goes to S3 once the write has
 * completed, through HVM_PARAM_ACPI_S_STATE; other types are ignored. */
T_TEST(chipset_s3_suspends_through_the_hypervisor)
{
    struct t_machine *t = chipset_machine();

    pm_setup_like_hvmloader(t);
    t_outw(t, PM1A_CNT, SLP_TYP(1) | SLP_EN | SCI_EN);
    T_EQ(t_hv_count(t, "acpi_s_state"), 0);
    t_clock_step(t, 0);
    T_EQ(t_hv_count(t, "acpi_s_state 3"), 1);
    T_EQ(t_shutdown_reason(t), -1);
    T_EQ(t_inw(t, PM1A_CNT), SLP_TYP(1) | SCI_EN);
    dm_log_set_quiet(1);
    t_outw(t, PM1A_CNT, SLP_TYP(5) | SLP_EN);
    t_clock_step(t, 1000000);
    T_EQ(t_hv_count(t, "acpi_s_state"), 1);
    T_EQ(t_shutdown_reason(t), -1);
    t_machine_free(t);
}

/* A guest looping S3 requests gets a burst of log lines, not one each. */
T_TEST(chipset_s3_log_is_rate_limited)
{
    struct t_machine *t = chipset_machine();
    uint64_t before;

    pm_setup_like_hvmloader(t);
    dm_log_set_quiet(1);
    before = dm_log_lines();
    for (unsigned int i = 0; i < 1000; i++) {
        t_outw(t, PM1A_CNT, SLP_TYP(1) | SLP_EN | SCI_EN);
        t_clock_step(t, 0);
    }
    T_EQ(t_hv_count(t, "acpi_s_state 3"), 1000);
    T_ASSERT(dm_log_lines() - before <= 2 * DM_RATELIMIT_BURST + 2);
    t_machine_free(t);
}

/* GPE0_STS is write-1-to-clear, GPE0_EN read/write; SCI = IRQ 9 while
 * STS & EN is non-zero. */
T_TEST(chipset_gpe0_drives_sci)
{
    struct t_machine *t = chipset_machine();

    piix4pm_gpe_raise(t->dm, 1);
    T_EQ(t_inb(t, GPE0_STS), 0x02);
    T_EQ(t_isa_irq(t, 9), 0);
    t_outb(t, GPE0_EN, 0x02);
    T_EQ(t_isa_irq(t, 9), 1);
    T_EQ(t_inl(t, GPE0_STS), 0x00020002u);
    t_outb(t, GPE0_STS, 0x00);                      /* 0 clears nothing */
    T_EQ(t_isa_irq(t, 9), 1);
    t_outb(t, GPE0_STS, 0x02);
    T_EQ(t_isa_irq(t, 9), 0);
    T_EQ(t_inb(t, GPE0_STS), 0x00);
    /* High byte, word accesses. */
    t_outw(t, GPE0_EN, 0x0200);
    piix4pm_gpe_raise(t->dm, 9);
    T_EQ(t_isa_irq(t, 9), 1);
    T_EQ(t_inw(t, GPE0_STS), 0x0200);
    t_outw(t, GPE0_EN, 0x0000);
    T_EQ(t_isa_irq(t, 9), 0);
    t_outw(t, GPE0_EN, 0x0200);
    T_EQ(t_isa_irq(t, 9), 1);
    t_outw(t, GPE0_STS, 0xffff);
    T_EQ(t_isa_irq(t, 9), 0);
    piix4pm_gpe_raise(t->dm, 16);                   /* out of range */
    T_EQ(t_inl(t, GPE0_STS), 0x02000000u);
    t_machine_free(t);
}

/* ---- reset and records ------------------------------------------------ */

/* Program a state in every chipset function worth carrying over. */
static void
chipset_program(struct t_machine *t)
{
    t_cfg_write(t, I440FX, 0x58, 0x33333000u, 4);  /* PAM0-PAM2 */
    t_cfg_write(t, I440FX, 0x72, 0x18, 1);          /* G_SMRAME, D_LCK */
    t_cfg_write(t, PIIX3, 0x60, 0x800b0a05u, 4);
    t_cfg_write(t, PIIX3, 0x82, 0x02, 1);
    t_outb(t, 0xcf9, 0x02);
    pm_setup_like_hvmloader(t);
    t_outb(t, APMC, 0xf1);
    t_outb(t, APMS, 0x5a);
    t_outw(t, PM1A_CNT, SLP_TYP(1) | SCI_EN);
    t_outb(t, GPE0_EN, 0x02);
    piix4pm_gpe_raise(t->dm, 1);
    t_outl(t, 0xcf8, 0x80000b40u);
}

static void
check_programmed(struct t_machine *t)
{
    T_EQ(t_inl(t, 0xcf8), 0x80000b40u);     /* before any config cycle */
    T_EQ(t_cfg_read(t, I440FX, 0x58, 4), 0x33333000u);
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x1a);
    t_cfg_write(t, I440FX, 0x72, 0x40, 1);          /* still locked */
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x12);
    T_EQ(t_link_route(t, 0), 5);
    T_EQ(t_link_route(t, 1), 10);
    T_EQ(t_link_route(t, 2), 11);
    T_EQ(t_link_route(t, 3), 0);
    T_EQ(t_cfg_read(t, PIIX3, 0x82, 1), 0x02);
    T_EQ(t_inb(t, 0xcf9), 0x02);
    T_EQ(t_inw(t, PM1A_CNT), SLP_TYP(1) | SCI_EN);
    T_EQ(t_inb(t, APMS), 0x5a);
    T_EQ(t_inl(t, GPE0_STS), 0x00020002u);
    T_EQ(t_isa_irq(t, 9), 1);
}

T_TEST(chipset_records_round_trip)
{
    static const char *const names[] = { "pci-bus", "i440fx", "piix3",
                                         "piix4-pm" };
    struct t_machine *a = chipset_machine(), *b = chipset_machine();
    size_t i;

    chipset_program(a);
    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        struct dm_dev *da = t_find_dev(a, names[i]);
        struct dm_dev *db = t_find_dev(b, names[i]);
        size_t n = da->ops->state_size;
        uint8_t *ra = g_malloc0(n), *rb = g_malloc0(n);

        da->ops->save(da->opaque, ra);
        T_EQ(da->ops->check(ra), 0);
        db->ops->load(db->opaque, ra);
        db->ops->save(db->opaque, rb);
        T_EQ(memcmp(ra, rb, n), 0);
        g_free(ra);
        g_free(rb);
    }
    check_programmed(b);
    t_machine_free(a);
    t_machine_free(b);
}

T_TEST(chipset_machine_state_stream_round_trip)
{
    struct t_machine *a = chipset_machine(), *b = chipset_machine();
    uint8_t *buf;
    size_t len;

    chipset_program(a);
    T_EQ(dm_save_all(a->dm, &buf, &len), 0);
    T_EQ(dm_load_all(b->dm, buf, len), 0);
    check_programmed(b);
    g_free(buf);
    t_machine_free(a);
    t_machine_free(b);
}

/* check() treats records as hostile input. */
T_TEST(chipset_records_reject_bad_input)
{
    static const struct {
        const char *name;
        size_t off;
        uint8_t val;
    } bad[] = {
        { "pci-bus", 3, 0x7f },             /* reserved CONFIG_ADDRESS */
        { "i440fx", 0, 0x87 },              /* vendor */
        { "piix3", 2, 0x01 },               /* device id */
        { "piix3", 264, 0x04 },             /* RC: RCPU is not state */
        { "piix4-pm", 265, 0x20 },          /* PMCNTRL: SUS_EN */
        { "piix4-pm", 272, 2 },             /* s3_pending */
        { "piix4-pm", 256, 2 },             /* intx_level */
    };
    struct t_machine *t = chipset_machine();
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct dm_dev *d = t_find_dev(t, bad[i].name);
        uint8_t *r = g_malloc0(d->ops->state_size);

        d->ops->save(d->opaque, r);
        T_EQ(d->ops->check(r), 0);
        T_ASSERT(bad[i].off < d->ops->state_size);
        r[bad[i].off] = bad[i].val;
        T_EQ(d->ops->check(r), -EINVAL);
        g_free(r);
    }
    t_machine_free(t);
}

T_TEST(chipset_reset_returns_to_power_on)
{
    struct t_machine *t = chipset_machine();

    chipset_program(t);
    t_hv_log_clear(t);
    dm_reset_all(t->dm);
    T_EQ(t_inl(t, 0xcf8), 0);
    T_EQ(t_link_route(t, 0), 0);
    T_EQ(t_link_route(t, 1), 0);
    T_EQ(t_cfg_read(t, PIIX3, 0x60, 4), 0x80808080u);
    T_EQ(t_inb(t, 0xcf9), 0);
    T_EQ(t_inw(t, PM1A_CNT), 0xffff);
    T_ASSERT(t_hv_count(t, "unmap_io port 0xb004-0xb005") == 1);
    T_EQ(t_isa_irq(t, 9), 0);
    T_EQ(t_inl(t, GPE0_STS), 0);
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x02);
    t_cfg_write(t, I440FX, 0x72, 0x40, 1);
    T_EQ(t_cfg_read(t, I440FX, 0x72, 1), 0x42);
    t_machine_free(t);
}
