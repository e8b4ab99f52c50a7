/*
 * 00:01.3, the Intel 82371AB PIIX4 power management function, cut to what
 * reaches a device model under Xen. Xen emulates the PM1a event block
 * (PMSTS/PMEN at 0xB000) and the PM timer (0xB008) itself and raises their
 * SCI (X:xen/arch/x86/hvm/pmtimer.c: "PM1a_CNT is between PM1a_EN and
 * TMR_VAL and is handled by qemu"). hvmdm serves:
 *   - PMCNTRL (ACPI PM1a_CNT) at PMBA + 04h, decoded while PMREGMISC.PMIOSE
 *     is set; hvmloader puts PMBA at 0xB000, its FADT says PM1a_CNT 0xB004;
 *   - the APM control/status ports 0xB2/0xB3 with the firmware's ACPI
 *     enable (0xF1) and disable (0xF0) commands, which hvmloader uses
 *     before it BUG()s unless SCI_EN is set;
 *   - the FADT's GPE0 block at 0xAFE0 (2 bytes status, 2 bytes enable);
 *   - the SCI on ISA IRQ 9 (FADT SCI_INT) while GPE0_STS & GPE0_EN != 0.
 * The FADT reset register (0xCF9, value 6) is the PIIX3 RC (piix3.c).
 * References: Intel 82371AB PIIX4 datasheet (290562-001), function 3
 * registers and PM I/O registers; ACPI specification, PM1 control and
 * general-purpose event register blocks; X:tools/libacpi/static_tables.c
 * (FADT) and dsdt.asl/ssdt_s3.asl/ssdt_s4.asl (sleep types).
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"     /* dm_dev_register */
#include "dm/hv.h"      /* set_acpi_s_state, HV_SHUTDOWN_POWEROFF */
#include "dm/iomap.h"   /* iomap_add */
#include "dm/irq.h"     /* dm_isa_irq_set */
#include "dm/log.h"     /* GUEST_ERR */
#include "dm/machine.h" /* struct dm, dm_request_shutdown */
#include "dm/timer.h"   /* the deferred S3 entry */
#include "hw/board.h"   /* dm->board->pci */
#include "hw/pci/chipset.h"
#include "hw/pci/pci.h"

#define PIIX4PM_DEVICE_ID 0x7113
#define PIIX4PM_DEVFN     PCI_DEVFN(1, 3)

/* Function 3 configuration registers. */
#define PIIX4PM_PMBA        0x40    /* PM base address, 64 bytes of I/O */
#define PIIX4PM_PMBA_MASK   0x0000ffc0u
#define PIIX4PM_PMBA_RTE    0x00000001u     /* hardwired: I/O space */
#define PIIX4PM_PMREGMISC   0x80
#define PIIX4PM_PMIOSE      0x01            /* PM I/O space enable */
#define PIIX4PM_SMBBA       0x90    /* SMBus base address */

/* PM I/O register offsets from PMBA. */
#define PIIX4PM_PMCNTRL     0x04
#define PIIX4PM_PMCNTRL_LEN 2

/* PMCNTRL (ACPI PM1_CNT) bits. */
#define PMCNTRL_SCI_EN      0x0001
#define PMCNTRL_BRLD_EN_BM  0x0002
#define PMCNTRL_GBL_RLS     0x0004  /* write-only: SMI to the BIOS */
#define PMCNTRL_SUS_TYP_SHIFT 10
#define PMCNTRL_SUS_TYP     0x1c00
#define PMCNTRL_SUS_EN      0x2000  /* write-only: enter SUS_TYP */
#define PMCNTRL_WMASK       (PMCNTRL_SCI_EN | PMCNTRL_BRLD_EN_BM | \
                             PMCNTRL_SUS_TYP)

/* Fixed ports: FADT GPE0_BLK (ACPI_GPE0_BLK_ADDRESS_V1, length 4) and APM. */
#define PIIX4PM_GPE0_PORT   0xafe0
#define PIIX4PM_GPE0_LEN    4       /* GPE0_STS 2 bytes, GPE0_EN 2 bytes */
#define PIIX4PM_GPE0_EN_OFF 2
#define PIIX4PM_GPE_BITS    16
#define PIIX4PM_APM_PORT    0xb2    /* APMC 0xB2, APMS 0xB3 */
#define PIIX4PM_APM_LEN     2
#define PIIX4PM_APMC        0
#define PIIX4PM_APMS        1

#define PIIX4PM_SCI_IRQ     9       /* FADT SCI_INT */
#define PIIX4PM_S3          3

struct piix4pm {
    struct pci_dev pci;
    struct dm *dm;
    struct iomap_region cnt;    /* PMCNTRL at PMBA + 04h */
    struct iomap_region gpe;    /* GPE0_BLK at 0xAFE0 */
    struct iomap_region apm;    /* APMC/APMS at 0xB2 */
    struct dm_timer s3_timer;   /* S3 entry after the SUS_EN write completes */
    uint16_t pmcntrl;           /* PM base + 04h */
    uint8_t gpe0[PIIX4PM_GPE0_LEN];     /* 0xAFE0: STS[15:0], EN[15:0] */
    uint8_t apmc;               /* 0xB2 */
    uint8_t apms;               /* 0xB3 */
    struct dm_dev dev;
};

/*
 * The saved record (version 1). check() enforces: PMCNTRL within its write
 * mask; s3_pending boolean; reserved bytes zero; the PCI function's state
 * (pci_dev_state_check_fixed: identity, present, booleans).
 * Property, held by fuzz/state-piix4pm.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct piix4pm_rec {
    struct pci_dev_state pci;
    uint16_t pmcntrl;
    uint8_t gpe0[PIIX4PM_GPE0_LEN];
    uint8_t apmc;
    uint8_t apms;
    uint8_t s3_pending;
    uint8_t reserved[7];
};

/*
 * SMBBA reads as its hardwired I/O indicator only: the SMBus host
 * controller is not emulated (hvmloader clears its enable, 0xD2, anyway),
 * so Linux's i2c-piix4 sees an unassigned base and leaves it alone.
 */
static const struct pci_reg piix4pm_regs[] = {
    { PCI_STATUS, 2, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM, 0,
      PCI_STATUS_W1C },
    { PIIX4PM_PMBA, 4, PIIX4PM_PMBA_RTE, PIIX4PM_PMBA_MASK, 0 },
    { PIIX4PM_PMREGMISC, 1, 0, PIIX4PM_PMIOSE, 0 },
    { PIIX4PM_SMBBA, 4, PIIX4PM_PMBA_RTE, 0, 0 },
};

static struct piix4pm *
piix4pm_of(struct pci_dev *d)
{
    return (struct piix4pm *)((char *)d - offsetof(struct piix4pm, pci));
}

/* ---- SCI and GPE0 ------------------------------------------------------ */

static void
piix4pm_update_sci(struct piix4pm *pm)
{
    unsigned int sts = pm->gpe0[0] | pm->gpe0[1] << 8;
    unsigned int en = pm->gpe0[2] | pm->gpe0[3] << 8;

    dm_isa_irq_set(pm->dm, PIIX4PM_SCI_IRQ, (sts & en) != 0);
}

static uint64_t
piix4pm_gpe_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct piix4pm *pm = opaque;

    return off < PIIX4PM_GPE0_LEN ? pm->gpe0[off] : 0xff;
}

/* Status bytes are write-1-to-clear, enable bytes read/write (ACPI GPE). */
static void
piix4pm_gpe_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct piix4pm *pm = opaque;

    if (off < PIIX4PM_GPE0_EN_OFF) {
        pm->gpe0[off] &= (uint8_t)~val;
    } else if (off < PIIX4PM_GPE0_LEN) {
        pm->gpe0[off] = (uint8_t)val;
    }
    piix4pm_update_sci(pm);
}

/* ---- sleep states ------------------------------------------------------ */

static void
piix4pm_soft_off(struct piix4pm *pm)
{
    dm_request_shutdown(pm->dm, HV_SHUTDOWN_POWEROFF);
}

/* Like qemu-xen, S3 is entered once the SUS_EN write has completed. */
static void
piix4pm_suspend(struct piix4pm *pm)
{
    dm_timer_mod(&pm->s3_timer, dm_clock_ns(pm->dm));
}

static void
piix4pm_s3_enter(void *opaque)
{
    struct piix4pm *pm = opaque;
    struct hv *hv = pm->dm->hv;
    int rc = hv->ops->set_acpi_s_state(hv, PIIX4PM_S3);

    if (rc < 0) {
        DM_LOG_LIMITED(DM_LOG_ERROR, "cannot suspend the domain to S3: %s",
                       g_strerror(-rc));
        return;
    }
    DM_LOG_LIMITED(DM_LOG_INFO, "guest suspended to RAM (S3)");
}

/*
 * SUS_TYP values the hvmloader ACPI tables use: \_S5 and \_S4 are 0 and
 * \_S3 is 1 ("must match piix emulation", X:tools/libacpi). S4 is the
 * guest's hibernation: it saved its image and wants the power off.
 */
struct piix4pm_sleep_type {
    void (*enter)(struct piix4pm *pm);
};

static const struct piix4pm_sleep_type piix4pm_sleep_types[8] = {
    [0] = { piix4pm_soft_off },     /* S5, S4 */
    [1] = { piix4pm_suspend },      /* S3 */
};

static void
piix4pm_sleep(struct piix4pm *pm)
{
    unsigned int typ = (pm->pmcntrl & PMCNTRL_SUS_TYP) >>
                       PMCNTRL_SUS_TYP_SHIFT;
    const struct piix4pm_sleep_type *t = &piix4pm_sleep_types[typ & 7];

    if (!t->enter) {
        GUEST_ERR("PM1a_CNT: sleep type %u not in the ACPI tables, ignored",
                  typ);
        return;
    }
    t->enter(pm);
}

/* ---- PMCNTRL (PM1a_CNT) ------------------------------------------------ */

static uint64_t
piix4pm_cnt_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct piix4pm *pm = opaque;

    return (pm->pmcntrl >> (8 * (off & 1))) & 0xff;
}

static void
piix4pm_cnt_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct piix4pm *pm = opaque;
    unsigned int shift = 8 * (unsigned int)(off & 1);
    uint16_t bytes = (uint16_t)(0xff << shift);
    uint16_t v = (uint16_t)((val & 0xff) << shift);
    uint16_t w = PMCNTRL_WMASK & bytes;

    pm->pmcntrl = (uint16_t)((pm->pmcntrl & ~w) | (v & w));
    if (v & PMCNTRL_SUS_EN) {
        piix4pm_sleep(pm);
    }
}

/* Decode PMCNTRL at PMBA + 04h while PMIOSE is set and PMBA assigned; the
 * PCI command register does not gate PM I/O (PMREGMISC does). */
static void
piix4pm_update_io(struct piix4pm *pm)
{
    uint32_t pmba = pci_get_long(&pm->pci, PIIX4PM_PMBA) & PIIX4PM_PMBA_MASK;
    bool on = pm->pci.present && pmba != 0 &&
              (pci_get_byte(&pm->pci, PIIX4PM_PMREGMISC) & PIIX4PM_PMIOSE);
    uint64_t base = pmba + PIIX4PM_PMCNTRL;
    int rc;

    if (iomap_region_mapped(&pm->cnt)) {
        if (on && pm->cnt.base == base) {
            return;
        }
        iomap_del(&pm->cnt);
    }
    if (!on) {
        return;
    }
    rc = iomap_add(pm->dm->pio, &pm->cnt, base);
    if (rc < 0) {
        GUEST_ERR("PIIX4 PM I/O at 0x%04x claims nothing: %s", pmba,
                  g_strerror(-rc));
    }
}

static void
piix4pm_cfg_write(struct pci_dev *d, unsigned int reg, unsigned int size)
{
    if (pci_range_hit(reg, size, PIIX4PM_PMBA, 4) ||
        pci_range_hit(reg, size, PIIX4PM_PMREGMISC, 1)) {
        piix4pm_update_io(piix4pm_of(d));
    }
}

/* ---- APM control and status, 0xB2/0xB3 --------------------------------- */

/*
 * What the firmware's SMI handler does for an APMC write: the ACPI enable
 * and disable commands of the QEMU/hvmloader convention set and clear
 * SCI_EN (hvmloader acpi_enable_sci). There is no SMM behind them.
 */
struct piix4pm_apm_cmd {
    uint8_t cmd;
    bool sci_en;
};

static const struct piix4pm_apm_cmd piix4pm_apm_cmds[] = {
    { 0xf0, false },    /* ACPI disable */
    { 0xf1, true },     /* ACPI enable */
};

static uint64_t
piix4pm_apm_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct piix4pm *pm = opaque;

    return off == PIIX4PM_APMC ? pm->apmc : pm->apms;
}

static void
piix4pm_apm_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct piix4pm *pm = opaque;
    size_t i;

    if (off != PIIX4PM_APMC) {
        pm->apms = (uint8_t)val;
        return;
    }
    pm->apmc = (uint8_t)val;
    for (i = 0; i < G_N_ELEMENTS(piix4pm_apm_cmds); i++) {
        if (piix4pm_apm_cmds[i].cmd != pm->apmc) {
            continue;
        }
        pm->pmcntrl &= (uint16_t)~PMCNTRL_SCI_EN;
        if (piix4pm_apm_cmds[i].sci_en) {
            pm->pmcntrl |= PMCNTRL_SCI_EN;
        }
    }
}

/* ---- lifecycle --------------------------------------------------------- */

static void
piix4pm_reset(void *opaque)
{
    struct piix4pm *pm = opaque;

    dm_timer_del(&pm->s3_timer);
    pm->pmcntrl = 0;
    memset(pm->gpe0, 0, sizeof(pm->gpe0));
    pm->apmc = 0;
    pm->apms = 0;
    pci_dev_reset(&pm->pci);
    piix4pm_update_io(pm);
    piix4pm_update_sci(pm);
}

static void
piix4pm_save(void *opaque, void *rec)
{
    const struct piix4pm *pm = opaque;
    struct piix4pm_rec *r = rec;

    memset(r, 0, sizeof(*r));
    pci_dev_save(&pm->pci, &r->pci);
    r->pmcntrl = pm->pmcntrl;
    memcpy(r->gpe0, pm->gpe0, sizeof(r->gpe0));
    r->apmc = pm->apmc;
    r->apms = pm->apms;
    r->s3_pending = dm_timer_pending(&pm->s3_timer);
}

static int
piix4pm_check(const void *rec)
{
    const struct piix4pm_rec *r = rec;
    unsigned int i;

    if ((r->pmcntrl & ~PMCNTRL_WMASK) || r->s3_pending > 1) {
        return -EINVAL;
    }
    for (i = 0; i < sizeof(r->reserved); i++) {
        if (r->reserved[i]) {
            return -EINVAL;
        }
    }
    return pci_dev_state_check_fixed(&r->pci, PCI_VENDOR_ID_INTEL,
                                     PIIX4PM_DEVICE_ID);
}

static void
piix4pm_load(void *opaque, const void *rec)
{
    struct piix4pm *pm = opaque;
    const struct piix4pm_rec *r = rec;

    pm->pmcntrl = r->pmcntrl;
    memcpy(pm->gpe0, r->gpe0, sizeof(pm->gpe0));
    pm->apmc = r->apmc;
    pm->apms = r->apms;
    pci_dev_load(&pm->pci, &r->pci);
    piix4pm_update_io(pm);
    piix4pm_update_sci(pm);
    dm_timer_del(&pm->s3_timer);
    if (r->s3_pending) {
        piix4pm_suspend(pm);
    }
}

static void
piix4pm_destroy(void *opaque)
{
    struct piix4pm *pm = opaque;

    dm_timer_del(&pm->s3_timer);
    iomap_region_destroy(&pm->cnt);
    iomap_region_destroy(&pm->gpe);
    iomap_region_destroy(&pm->apm);
    pci_dev_fini(&pm->pci);
    g_free(pm);
}

/* ---- tables ------------------------------------------------------------ */

static const struct iomap_ops piix4pm_cnt_ops = {
    .read = piix4pm_cnt_read,
    .write = piix4pm_cnt_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct iomap_ops piix4pm_gpe_ops = {
    .read = piix4pm_gpe_read,
    .write = piix4pm_gpe_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct iomap_ops piix4pm_apm_ops = {
    .read = piix4pm_apm_read,
    .write = piix4pm_apm_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct pci_dev_info piix4pm_info = {
    .name = "piix4-pm",
    .vendor_id = PCI_VENDOR_ID_INTEL,
    .device_id = PIIX4PM_DEVICE_ID,
    .subsystem_vendor_id = PCI_SUBVENDOR_ID_QEMU,
    .subsystem_id = PCI_SUBDEVICE_ID_QEMU,
    .class_code = 0x068000,             /* bridge, other (hvmloader: 0x0680) */
    .revision = 0x03,
    .header_type = 0x00,
    .interrupt_pin = 1,                 /* INTA# */
    .cfg_write = piix4pm_cfg_write,
};

static const struct dm_dev_ops piix4pm_dev_ops = {
    .name = "piix4-pm",
    .state_version = 1,
    .state_size = sizeof(struct piix4pm_rec),
    .reset = piix4pm_reset,
    .save = piix4pm_save,
    .check = piix4pm_check,
    .load = piix4pm_load,
    .destroy = piix4pm_destroy,
};

void
piix4pm_gpe_raise(struct dm *dm, unsigned int bit)
{
    struct pci_dev *d = NULL;
    struct piix4pm *pm;

    if (dm->board && dm->board->pci) {
        d = pci_bus_find(dm->board->pci, PIIX4PM_DEVFN);
    }
    if (!d || d->info != &piix4pm_info || bit >= PIIX4PM_GPE_BITS) {
        return;
    }
    pm = piix4pm_of(d);
    pm->gpe0[bit / 8] |= (uint8_t)(1u << (bit % 8));
    piix4pm_update_sci(pm);
}

int
piix4pm_power_button(struct dm *dm)
{
    struct hv *hv = dm->hv;
    int rc;

    if (!hv->ops->power_button) {
        return -ENOTSUP;
    }
    rc = hv->ops->power_button(hv);
    if (rc < 0) {
        DM_LOG_LIMITED(DM_LOG_ERROR, "cannot press the ACPI power button: "
                       "%s", g_strerror(-rc));
    }
    return rc;
}

int
piix4pm_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct piix4pm *pm = g_new0(struct piix4pm, 1);
    int rc = -ENODEV;

    if (!dm->board->pci) {
        goto err_free;
    }
    pm->dm = dm;
    dm_timer_init(&pm->s3_timer, dm, piix4pm_s3_enter, pm);
    pci_dev_init(&pm->pci, &piix4pm_info);
    pci_init_regs(&pm->pci, piix4pm_regs, G_N_ELEMENTS(piix4pm_regs));
    iomap_region_init(&pm->cnt, "piix4-pm1a-cnt", PIIX4PM_PMCNTRL_LEN,
                      &piix4pm_cnt_ops, pm);
    iomap_region_init(&pm->gpe, "piix4-gpe0", PIIX4PM_GPE0_LEN,
                      &piix4pm_gpe_ops, pm);
    iomap_region_init(&pm->apm, "piix4-apm", PIIX4PM_APM_LEN,
                      &piix4pm_apm_ops, pm);
    rc = iomap_add(dm->pio, &pm->gpe, PIIX4PM_GPE0_PORT);
    if (rc < 0) {
        goto err_free;
    }
    rc = iomap_add(dm->pio, &pm->apm, PIIX4PM_APM_PORT);
    if (rc < 0) {
        goto err_gpe;
    }
    rc = pci_bus_add(dm->board->pci, &pm->pci, PIIX4PM_DEVFN);
    if (rc < 0) {
        goto err_apm;
    }
    dm_dev_register(dm, &pm->dev, &piix4pm_dev_ops, pm, 0);
    return 0;

err_apm:
    iomap_del(&pm->apm);
err_gpe:
    iomap_del(&pm->gpe);
err_free:
    g_free(pm);
    return rc;
}
