/*
 * 00:01.0, the Intel 82371SB PIIX3 PCI-to-ISA bridge (function 0). Its
 * PIRQ route registers steer the four PCI interrupt links to ISA IRQs; Xen
 * owns the PIC, the IOAPIC and the ELCR (0x4D0/0x4D1), so the routes go to
 * the hypervisor (xen-dm-interface.md 2.3). It also holds the Reset Control
 * Register at port 0xCF9. Reference: Intel 82371FB/SB PIIX/PIIX3 datasheet
 * (290550-002), PCI-to-ISA bridge configuration registers and RC register.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"     /* dm_dev_register */
#include "dm/hv.h"      /* HV_SHUTDOWN_REBOOT */
#include "dm/irq.h"     /* dm_pci_link_route */
#include "dm/machine.h" /* struct dm, dm_request_shutdown */
#include "hw/board.h"   /* dm->board->pci */
#include "hw/pci/chipset.h"
#include "hw/pci/pci.h"

#define PIIX3_DEVICE_ID 0x7000          /* hvmloader requires 8086:7000 */
#define PIIX3_DEVFN     PCI_DEVFN(1, 0)

/* Function 0 configuration registers (datasheet register map). */
#define PIIX3_IORT      0x4c    /* ISA I/O recovery timer */
#define PIIX3_XBCS      0x4e    /* X-bus chip select */
#define PIIX3_PIRQRC    0x60    /* PIRQRC[A:D], 60h-63h */
#define PIIX3_PIRQ_NR   4
#define PIIX3_TOM       0x69    /* top of memory */
#define PIIX3_MBIRQ0    0x70    /* motherboard device IRQ route 0/1 */
#define PIIX3_MBDMA0    0x76    /* motherboard device DMA 0/1 */
#define PIIX3_PCSC      0x78    /* programmable chip select control */
#define PIIX3_APICBASE  0x80    /* APIC base address relocation */
#define PIIX3_DLC       0x82    /* deterministic latency control */
#define PIIX3_SMICNTL   0xa0
#define PIIX3_SMIEN     0xa2
#define PIIX3_SEE       0xa4    /* system event enable */
#define PIIX3_FTMR      0xa8    /* fast off timer */
#define PIIX3_SMIREQ    0xaa
#define PIIX3_CTLTMR    0xac
#define PIIX3_CTHTMR    0xae

/* PIRQRC: bit 7 IRQROUTEN (1 = not routed), 6:4 reserved, 3:0 IRQ. */
#define PIIX3_PIRQ_WMASK 0x8f
#define PIIX3_PIRQ_RESET 0x80

/* RC, I/O 0CF9h: bit 2 RCPU starts a reset, bit 1 SRST picks hard (1) or
 * soft (0); the other bits are reserved. */
#define PIIX3_RC_SRST   0x02
#define PIIX3_RC_RCPU   0x04

struct piix3 {
    struct pci_dev pci;
    struct dm *dm;
    uint8_t rc;                 /* Reset Control, 0xCF9 (SRST only) */
    struct dm_dev dev;
};

/*
 * The saved record (version 1). check() enforces: the PCI function's state
 * (pci_dev_state_check_fixed: this vendor and device ID, boolean INTx
 * level, present, reserved bytes zero; config bytes are re-masked on load by
 * the write masks); RC only the SRST bit; reserved bytes zero.
 * Property, held by fuzz/state-piix3.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct piix3_rec {
    struct pci_dev_state pci;
    uint8_t rc;
    uint8_t reserved[7];
};

/*
 * Reset values are the datasheet defaults. Besides PIRQRC, APICBASE and
 * DLC (Linux sets DLC bit 1, passive release, on i440FX boards) these
 * registers only tune ISA timing and SMI sources that a virtual machine
 * does not have: they keep what is written, byte for byte.
 */
static const struct pci_reg piix3_regs[] = {
    { PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
      PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
      PCI_COMMAND_SPECIAL | PCI_COMMAND_SERR, 0 },
    { PIIX3_IORT, 1, 0x4d, 0x7f, 0 },
    { PIIX3_XBCS, 2, 0x0003, 0x00ff, 0 },
    { PIIX3_PIRQRC + 0, 1, PIIX3_PIRQ_RESET, PIIX3_PIRQ_WMASK, 0 },
    { PIIX3_PIRQRC + 1, 1, PIIX3_PIRQ_RESET, PIIX3_PIRQ_WMASK, 0 },
    { PIIX3_PIRQRC + 2, 1, PIIX3_PIRQ_RESET, PIIX3_PIRQ_WMASK, 0 },
    { PIIX3_PIRQRC + 3, 1, PIIX3_PIRQ_RESET, PIIX3_PIRQ_WMASK, 0 },
    { PIIX3_TOM, 1, 0x02, 0xff, 0 },
    { PIIX3_MBIRQ0, 1, 0x80, 0xff, 0 },
    { PIIX3_MBIRQ0 + 1, 1, 0x80, 0xff, 0 },
    { PIIX3_MBDMA0, 1, 0x0c, 0xff, 0 },
    { PIIX3_MBDMA0 + 1, 1, 0x0c, 0xff, 0 },
    { PIIX3_PCSC, 2, 0x0002, 0xffff, 0 },
    { PIIX3_APICBASE, 1, 0x00, 0x7f, 0 },
    { PIIX3_DLC, 1, 0x00, 0x0f, 0 },
    { PIIX3_SMICNTL, 1, 0x08, 0xff, 0 },
    { PIIX3_SMIEN, 2, 0x0000, 0xffff, 0 },
    { PIIX3_SEE, 4, 0x00000000, 0xffffffffu, 0 },
    { PIIX3_FTMR, 1, 0x0f, 0xff, 0 },
    { PIIX3_SMIREQ, 2, 0x0000, 0xffff, 0 },
    { PIIX3_CTLTMR, 1, 0x00, 0xff, 0 },
    { PIIX3_CTHTMR, 1, 0x00, 0xff, 0 },
};

static struct piix3 *
piix3_of(struct pci_dev *d)
{
    return (struct piix3 *)((char *)d - offsetof(struct piix3, pci));
}

/* ---- PIRQ routing ------------------------------------------------------ */

static void
piix3_route_link(struct piix3 *s, unsigned int link)
{
    dm_pci_link_route(s->dm, link, pci_get_byte(&s->pci, PIIX3_PIRQRC + link));
}

static void
piix3_cfg_write(struct pci_dev *d, unsigned int reg, unsigned int size)
{
    struct piix3 *s = piix3_of(d);
    unsigned int link;

    for (link = 0; link < PIIX3_PIRQ_NR; link++) {
        if (pci_range_hit(reg, size, PIIX3_PIRQRC + link, 1)) {
            piix3_route_link(s, link);
        }
    }
}

static void
piix3_route_all(struct piix3 *s)
{
    unsigned int link;

    for (link = 0; link < PIIX3_PIRQ_NR; link++) {
        piix3_route_link(s, link);
    }
}

/* ---- Reset Control Register, port 0xCF9 -------------------------------- */

static uint8_t
piix3_rc_read(void *opaque)
{
    const struct piix3 *s = opaque;

    return s->rc;
}

/*
 * RCPU going to 1 resets the system, hard or soft per SRST. Both become a
 * domain reboot: Xen has no INIT-only reset for a device model to ask for,
 * and the FADT reset register (0xCF9, value 6, X:tools/libacpi) is the
 * hard form. RCPU itself reads back 0, so every write with it set resets.
 */
static void
piix3_rc_write(void *opaque, uint8_t val)
{
    struct piix3 *s = opaque;

    s->rc = val & PIIX3_RC_SRST;
    if (val & PIIX3_RC_RCPU) {
        dm_request_shutdown(s->dm, HV_SHUTDOWN_REBOOT);
    }
}

/* ---- lifecycle --------------------------------------------------------- */

static void
piix3_reset(void *opaque)
{
    struct piix3 *s = opaque;

    s->rc = 0;
    pci_dev_reset(&s->pci);
    piix3_route_all(s);
}

static void
piix3_save(void *opaque, void *rec)
{
    const struct piix3 *s = opaque;
    struct piix3_rec *r = rec;

    memset(r, 0, sizeof(*r));
    pci_dev_save(&s->pci, &r->pci);
    r->rc = s->rc;
}

static int
piix3_check(const void *rec)
{
    const struct piix3_rec *r = rec;
    unsigned int i;

    if (r->rc & ~PIIX3_RC_SRST) {
        return -EINVAL;
    }
    for (i = 0; i < sizeof(r->reserved); i++) {
        if (r->reserved[i]) {
            return -EINVAL;
        }
    }
    return pci_dev_state_check_fixed(&r->pci, PCI_VENDOR_ID_INTEL,
                                     PIIX3_DEVICE_ID);
}

static void
piix3_load(void *opaque, const void *rec)
{
    struct piix3 *s = opaque;
    const struct piix3_rec *r = rec;

    s->rc = r->rc;
    pci_dev_load(&s->pci, &r->pci);
    piix3_route_all(s);
}

static void
piix3_destroy(void *opaque)
{
    struct piix3 *s = opaque;

    pci_bus_set_cf9(s->pci.bus, NULL, NULL);
    pci_dev_fini(&s->pci);
    g_free(s);
}

/* ---- tables ------------------------------------------------------------ */

static const struct pci_dev_info piix3_info = {
    .name = "piix3",
    .vendor_id = PCI_VENDOR_ID_INTEL,
    .device_id = PIIX3_DEVICE_ID,
    .subsystem_vendor_id = PCI_SUBVENDOR_ID_QEMU,
    .subsystem_id = PCI_SUBDEVICE_ID_QEMU,
    .class_code = 0x060100,             /* ISA bridge */
    .revision = 0x00,
    /* Multi-function, or SeaBIOS never looks at 00:01.1-7. */
    .header_type = PCI_HEADER_TYPE_MULTI_FUNCTION,
    .interrupt_pin = 0,
    .cfg_write = piix3_cfg_write,
};

static const struct pci_cf9_ops piix3_cf9_ops = {
    .read = piix3_rc_read,
    .write = piix3_rc_write,
};

static const struct dm_dev_ops piix3_dev_ops = {
    .name = "piix3",
    .state_version = 1,
    .state_size = sizeof(struct piix3_rec),
    .reset = piix3_reset,
    .save = piix3_save,
    .check = piix3_check,
    .load = piix3_load,
    .destroy = piix3_destroy,
};

int
piix3_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct piix3 *s = g_new0(struct piix3, 1);
    int rc;

    if (!dm->board->pci) {
        g_free(s);
        return -ENODEV;
    }
    s->dm = dm;
    pci_dev_init(&s->pci, &piix3_info);
    pci_init_regs(&s->pci, piix3_regs, G_N_ELEMENTS(piix3_regs));
    rc = pci_bus_add(dm->board->pci, &s->pci, PIIX3_DEVFN);
    if (rc < 0) {
        g_free(s);
        return rc;
    }
    pci_bus_set_cf9(dm->board->pci, &piix3_cf9_ops, s);
    dm_dev_register(dm, &s->dev, &piix3_dev_ops, s, 0);
    return 0;
}
