/*
 * 00:00.0, the Intel 82441FX PCI and Memory Controller (i440FX host
 * bridge), as hvmloader, SeaBIOS and guests probe it. Under Xen the
 * hypervisor owns guest memory, so the PAM and SMRAM registers change no
 * mapping here: they keep the values the datasheet's masks allow.
 * Reference: Intel 82441FX PMC datasheet (290549-001), register section.
 */
#include <errno.h>
#include <glib.h>

#include "dm/dev.h"     /* dm_dev_register */
#include "dm/machine.h" /* struct dm */
#include "hw/board.h"   /* dm->board->pci */
#include "hw/pci/chipset.h"
#include "hw/pci/pci.h"

#define I440FX_DEVICE_ID 0x1237
#define I440FX_DEVFN     PCI_DEVFN(0, 0)

/* 82441FX configuration registers (datasheet register map). */
#define I440FX_MLT      0x0d    /* Master Latency Timer, bits 7:3 */
#define I440FX_PAM0     0x59    /* PAM0: bits 5:4 for 0F0000h-0FFFFFh */
#define I440FX_PAM1     0x5a    /* PAM1-6: two 16 KiB segments each */
#define I440FX_PAM_NR   7
#define I440FX_SMRAM    0x72    /* System Management RAM Control */

/* PAM: per segment RE (bit 0/4) and WE (bit 1/5); the cache bits 2/6 and
 * PAM0's low nibble are reserved on the 82441FX. */
#define I440FX_PAM0_WMASK 0x30
#define I440FX_PAM_WMASK  0x33

/* SMRAM bits: C_BASE_SEG 2:0 is hardwired to 010b (A0000h). */
#define SMRAM_C_BASE_SEG  0x02
#define SMRAM_G_SMRAME    0x08
#define SMRAM_D_LCK       0x10
#define SMRAM_D_CLS       0x20
#define SMRAM_D_OPEN      0x40
#define SMRAM_WMASK       (SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | \
                           SMRAM_G_SMRAME)
/* With D_LCK set, D_OPEN is cleared and D_LCK and D_OPEN become read-only
 * until reset; D_CLS and G_SMRAME stay writable. */
#define SMRAM_LOCKED_WMASK (SMRAM_D_CLS | SMRAM_G_SMRAME)

struct i440fx {
    struct pci_dev pci;
    struct dm_dev dev;
};

/*
 * The saved record (version 1): the PCI function's state only; check() is
 * pci_dev_state_check_fixed (vendor and device ID, booleans, reserved zero,
 * present: the host bridge cannot be unplugged; config bytes re-masked on
 * load).
 * Property, held by fuzz/state-i440fx.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct i440fx_rec {
    struct pci_dev_state pci;
};

static const struct pci_reg i440fx_regs[] = {
    /* PCISTS: fast back-to-back capable, DEVSEL medium. */
    { PCI_STATUS, 2, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM, 0,
      PCI_STATUS_W1C },
    { I440FX_MLT, 1, 0, 0xf8, 0 },
    { I440FX_PAM0, 1, 0, I440FX_PAM0_WMASK, 0 },
    { I440FX_PAM1 + 0, 1, 0, I440FX_PAM_WMASK, 0 },
    { I440FX_PAM1 + 1, 1, 0, I440FX_PAM_WMASK, 0 },
    { I440FX_PAM1 + 2, 1, 0, I440FX_PAM_WMASK, 0 },
    { I440FX_PAM1 + 3, 1, 0, I440FX_PAM_WMASK, 0 },
    { I440FX_PAM1 + 4, 1, 0, I440FX_PAM_WMASK, 0 },
    { I440FX_PAM1 + 5, 1, 0, I440FX_PAM_WMASK, 0 },
    { I440FX_SMRAM, 1, SMRAM_C_BASE_SEG, SMRAM_WMASK, 0 },
};

static struct i440fx *
i440fx_of(struct pci_dev *d)
{
    return (struct i440fx *)((char *)d - offsetof(struct i440fx, pci));
}

/* Apply the D_LCK rule to the current SMRAM value. */
static void
i440fx_smram_lock(struct i440fx *s)
{
    uint8_t smram = pci_get_byte(&s->pci, I440FX_SMRAM);

    if (smram & SMRAM_D_LCK) {
        pci_set_byte(&s->pci, I440FX_SMRAM, smram & ~SMRAM_D_OPEN);
        s->pci.wmask[I440FX_SMRAM] = SMRAM_LOCKED_WMASK;
    }
}

static void
i440fx_cfg_write(struct pci_dev *d, unsigned int reg, unsigned int size)
{
    if (pci_range_hit(reg, size, I440FX_SMRAM, 1)) {
        i440fx_smram_lock(i440fx_of(d));
    }
}

static void
i440fx_reset(void *opaque)
{
    struct i440fx *s = opaque;

    s->pci.wmask[I440FX_SMRAM] = SMRAM_WMASK;
    pci_dev_reset(&s->pci);
}

static void
i440fx_save(void *opaque, void *rec)
{
    const struct i440fx *s = opaque;
    struct i440fx_rec *r = rec;

    pci_dev_save(&s->pci, &r->pci);
}

static int
i440fx_check(const void *rec)
{
    const struct i440fx_rec *r = rec;

    return pci_dev_state_check_fixed(&r->pci, PCI_VENDOR_ID_INTEL,
                                     I440FX_DEVICE_ID);
}

static void
i440fx_load(void *opaque, const void *rec)
{
    struct i440fx *s = opaque;
    const struct i440fx_rec *r = rec;

    s->pci.wmask[I440FX_SMRAM] = SMRAM_WMASK;
    pci_dev_load(&s->pci, &r->pci);
    i440fx_smram_lock(s);
}

static void
i440fx_destroy(void *opaque)
{
    struct i440fx *s = opaque;

    pci_dev_fini(&s->pci);
    g_free(s);
}

/* ---- tables ----------------------------------------------------------- */

static const struct pci_dev_info i440fx_info = {
    .name = "i440fx",
    .vendor_id = PCI_VENDOR_ID_INTEL,
    .device_id = I440FX_DEVICE_ID,
    .subsystem_vendor_id = PCI_SUBVENDOR_ID_QEMU,
    .subsystem_id = PCI_SUBDEVICE_ID_QEMU,
    .class_code = 0x060000,             /* host bridge */
    .revision = 0x02,
    .header_type = 0x00,
    .interrupt_pin = 0,
    .cfg_write = i440fx_cfg_write,
};

static const struct dm_dev_ops i440fx_dev_ops = {
    .name = "i440fx",
    .state_version = 1,
    .state_size = sizeof(struct i440fx_rec),
    .reset = i440fx_reset,
    .save = i440fx_save,
    .check = i440fx_check,
    .load = i440fx_load,
    .destroy = i440fx_destroy,
};

int
i440fx_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct i440fx *s = g_new0(struct i440fx, 1);
    int rc;

    if (!dm->board->pci) {
        g_free(s);
        return -ENODEV;
    }
    pci_dev_init(&s->pci, &i440fx_info);
    pci_init_regs(&s->pci, i440fx_regs, G_N_ELEMENTS(i440fx_regs));
    rc = pci_bus_add(dm->board->pci, &s->pci, I440FX_DEVFN);
    if (rc < 0) {
        g_free(s);
        return rc;
    }
    dm_dev_register(dm, &s->dev, &i440fx_dev_ops, s, 0);
    return 0;
}
