/*
 * The PCI bus: one bus 0 per machine with configuration mechanism #1 at
 * 0xCF8/0xCFC and Xen's IOREQ_TYPE_PCI_CONFIG, type-0 configuration headers
 * with per-byte write and write-1-to-clear masks, BARs backed by address-map
 * regions that follow the guest's programming, and INTx through the
 * hypervisor. References: PCI Local Bus Specification 3.0 ("PCI30").
 *
 * A device embeds a struct pci_dev, fills it with pci_dev_init(), its own
 * registers (pci_init_regs), BARs (pci_register_bar) and capabilities, then
 * puts it on the bus with pci_bus_add(). The device's dm_dev ops call
 * pci_dev_reset/save/load and pci_dev_state_check for the common part.
 */
#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/iomap.h" /* struct iomap_region, struct iomap_ops */

struct dm;
struct dm_config;
struct pci_bus;
struct pci_dev;
struct pci_rom_ram;

/* Type-0 configuration header (PCI30 6.1, figure 6-1). */
#define PCI_CONFIG_SIZE         256
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a
#define PCI_CACHE_LINE_SIZE     0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define PCI_BIST                0x0f
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_CARDBUS_CIS         0x28
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_MIN_GNT             0x3e
#define PCI_MAX_LAT             0x3f
#define PCI_HEADER_END          0x40   /* device-specific space starts */

/* Command register bits (PCI30 6.2.2, table 6-1). */
#define PCI_COMMAND_IO           0x0001
#define PCI_COMMAND_MEMORY       0x0002
#define PCI_COMMAND_MASTER       0x0004
#define PCI_COMMAND_SPECIAL      0x0008
#define PCI_COMMAND_PARITY       0x0040
#define PCI_COMMAND_SERR         0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* Status register bits (PCI30 6.2.3, table 6-2). */
#define PCI_STATUS_INTERRUPT      0x0008   /* RO: INTx asserted */
#define PCI_STATUS_CAP_LIST       0x0010
#define PCI_STATUS_FAST_BACK      0x0080
#define PCI_STATUS_PARITY         0x0100   /* master data parity error */
#define PCI_STATUS_DEVSEL_MEDIUM  0x0200
#define PCI_STATUS_SIG_TARGET_ABORT 0x0800
#define PCI_STATUS_REC_TARGET_ABORT 0x1000
#define PCI_STATUS_REC_MASTER_ABORT 0x2000
#define PCI_STATUS_SIG_SYSTEM_ERROR 0x4000
#define PCI_STATUS_DETECTED_PARITY  0x8000
/* The error bits, all write-1-to-clear (PCI30 6.2.3). */
#define PCI_STATUS_W1C            0xf900

#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80

/* Base address register low bits (PCI30 6.2.5.1, figures 6-5 and 6-6). */
#define PCI_BASE_ADDRESS_SPACE_IO    0x01
#define PCI_BASE_ADDRESS_MEM_TYPE_64 0x04
#define PCI_BASE_ADDRESS_MEM_PREFETCH 0x08
#define PCI_ROM_ADDRESS_ENABLE       0x01   /* PCI30 6.2.5.2 */

#define PCI_NUM_BARS  6
#define PCI_ROM_SLOT  6
#define PCI_NUM_REGIONS 7

/* Capability list (PCI30 6.7): id at +0, next pointer at +1. */
#define PCI_CAP_LIST_ID   0
#define PCI_CAP_LIST_NEXT 1

#define PCI_DEVFN(slot, fn) ((((slot) & 0x1f) << 3) | ((fn) & 0x07))
#define PCI_SLOT(devfn)     (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)     ((devfn) & 0x07)

#define PCI_VENDOR_ID_INTEL 0x8086
/*
 * The subsystem ids QEMU gives every non-bridge function. Using the same
 * ones keeps the guest's hardware ids (Windows PnP: SUBSYS_11001AF4) when a
 * domain moves from qemu-xen to hvmdm.
 */
#define PCI_SUBVENDOR_ID_QEMU 0x1af4
#define PCI_SUBDEVICE_ID_QEMU 0x1100

/* What a BAR decodes (PCI30 6.2.5). */
enum pci_bar_type {
    PCI_BAR_IO,
    PCI_BAR_MEM32,
    PCI_BAR_MEM64,      /* takes this BAR and the next */
    PCI_BAR_ROM,        /* only in slot PCI_ROM_SLOT */
};

struct pci_bar_info {
    const char *name;               /* region name, static storage */
    enum pci_bar_type type;
    bool prefetchable;              /* memory BARs only */
    uint64_t size;                  /* power of two */
    const struct iomap_ops *ops;
    void *opaque;
};

struct pci_bar {
    struct iomap_region region;     /* mapped while the BAR decodes */
    uint64_t size;                  /* 0: not implemented */
    enum pci_bar_type type;
    bool upper_half;                /* high dword of the 64-bit BAR below */
    /* An address the map refused (overlap); not retried until it changes
     * or another region goes away. UINT64_MAX when none. */
    uint64_t refused_base;
};

/* Identity and callbacks of one PCI function; a const table per device. */
struct pci_dev_info {
    const char *name;
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsystem_vendor_id;
    uint16_t subsystem_id;
    uint32_t class_code;            /* base << 16 | sub << 8 | prog-if */
    uint8_t revision;
    uint8_t header_type;            /* 0x00, or 0x80 on a multi-function fn 0 */
    uint8_t interrupt_pin;          /* 0 none, 1..4 INTA#..INTD# */
    /*
     * Called after a guest configuration write was applied through the
     * masks (and after BAR/command side effects); reg/size as written.
     */
    void (*cfg_write)(struct pci_dev *d, unsigned int reg, unsigned int size);
    /*
     * Optional. Xen platform unplug (xen-dm-interface.md 4.3): drain DMA
     * and release the backends; pci_unplug() follows.
     */
    void (*unplug)(struct pci_dev *d);
    /*
     * Optional: BAR bar was mapped at a new address or unmapped (see
     * pci_bar_address), e.g. to move VRAM under a framebuffer BAR.
     */
    void (*bar_moved)(struct pci_dev *d, unsigned int bar);
};

/* One device register for pci_init_regs(): reset value and masks. */
struct pci_reg {
    uint8_t off;
    uint8_t size;                   /* 1, 2 or 4 */
    uint32_t reset;
    uint32_t wmask;                 /* bits the guest may write */
    uint32_t w1cmask;               /* bits a guest 1 clears */
};

struct pci_dev {
    const struct pci_dev_info *info;
    struct pci_bus *bus;            /* set by pci_bus_add */
    uint8_t devfn;
    bool present;                   /* on the bus (false after unplug) */
    bool intx_level;                /* the device asserts INTx */
    uint8_t config[PCI_CONFIG_SIZE];
    uint8_t wmask[PCI_CONFIG_SIZE];
    uint8_t w1cmask[PCI_CONFIG_SIZE];
    uint8_t reset_config[PCI_CONFIG_SIZE];  /* snapshot at pci_bus_add */
    struct pci_bar bars[PCI_NUM_REGIONS];
    const uint8_t *rom_image;       /* pci_register_rom */
    size_t rom_len;
    struct pci_rom_ram *rom_ram;    /* its copy in guest RAM (pci-rom.c) */
};

/* The common part of every PCI device's saved record (rule 13). */
struct pci_dev_state {
    uint8_t config[PCI_CONFIG_SIZE];
    uint8_t intx_level;
    uint8_t present;
    uint8_t reserved[6];
};
_Static_assert(sizeof(struct pci_dev_state) == 264, "pci_dev_state layout");

/* Port 0xCF9 byte accesses: the PIIX3 Reset Control Register. */
struct pci_cf9_ops {
    uint8_t (*read)(void *opaque);
    void (*write)(void *opaque, uint8_t val);
};

/* ---- the bus ---------------------------------------------------------- */

/* Board entry: create the bus, claim 0xCF8-0xCFF, install PCI_CONFIG. */
int pci_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));
void pci_bus_set_cf9(struct pci_bus *bus, const struct pci_cf9_ops *ops,
                     void *opaque);
/* Put d at devfn and route its configuration cycles to us (map_pcidev). */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *d, unsigned int devfn)
    __attribute__((warn_unused_result));
/* The present function at devfn, or NULL. */
struct pci_dev *pci_bus_find(struct pci_bus *bus, unsigned int devfn);

/* ---- building a function ---------------------------------------------- */

/* Add "info pci" to the human monitor (hw/pci/pci-info.c). */
void pci_info_register(void);
void pci_dev_init(struct pci_dev *d, const struct pci_dev_info *info);
void pci_init_regs(struct pci_dev *d, const struct pci_reg *regs, size_t n);
void pci_register_bar(struct pci_dev *d, unsigned int bar,
                      const struct pci_bar_info *info);
/* An expansion ROM BAR serving image (kept by the caller, read-only). */
void pci_register_rom(struct pci_dev *d, const char *name,
                      const uint8_t *image, size_t len);
/*
 * hw/pci/pci-rom.c: the ROM image copied into guest frames of its own
 * (pci_bus_add does it), which sit under the ROM BAR while it decodes;
 * pci_rom_ram_moved follows the BAR, pci_rom_ram_free forgets the copy.
 */
void pci_rom_ram_init(struct pci_dev *d, struct dm *dm);
void pci_rom_ram_moved(struct pci_dev *d);
void pci_rom_ram_free(struct pci_dev *d);
/* Link a capability of size bytes at off into the list; returns off. */
uint8_t pci_add_capability(struct pci_dev *d, uint8_t cap_id, uint8_t off,
                           uint8_t size);
/* Offset of the first capability with cap_id, or 0. */
uint8_t pci_find_capability(const struct pci_dev *d, uint8_t cap_id);

/* ---- running ---------------------------------------------------------- */

/* INTx as the device drives it; gated by the command register's disable. */
void pci_set_irq(struct pci_dev *d, int level);
/* Hot-unplug: unmap BARs, drop INTx, stop Xen routing; reads all-ones. */
void pci_unplug(struct pci_dev *d);
/* Destroy time: off the bus and out of the maps (no Xen unrouting). */
void pci_dev_fini(struct pci_dev *d);

void pci_dev_reset(struct pci_dev *d);
void pci_dev_save(const struct pci_dev *d, struct pci_dev_state *s);
/* Validate an untrusted record against the function's identity. */
int pci_dev_state_check(const struct pci_dev_state *s, uint16_t vendor_id,
                        uint16_t device_id);
/* The same for a function soldered to the board (the chipset's): a record
 * may not have it unplugged. */
int pci_dev_state_check_fixed(const struct pci_dev_state *s,
                              uint16_t vendor_id, uint16_t device_id);
/* Restore only guest-writable bits, then rebuild mappings and INTx. */
void pci_dev_load(struct pci_dev *d, const struct pci_dev_state *s);

/* Does the access [reg, reg + size) touch [start, start + len)? */
static inline bool
pci_range_hit(unsigned int reg, unsigned int size, unsigned int start,
              unsigned int len)
{
    return reg < start + len && start < reg + size;
}

/* Raw little-endian accessors for device code (no masks applied). */
static inline uint8_t
pci_get_byte(const struct pci_dev *d, unsigned int off)
{
    return d->config[off & 0xff];
}

static inline uint16_t
pci_get_word(const struct pci_dev *d, unsigned int off)
{
    return (uint16_t)(pci_get_byte(d, off) | pci_get_byte(d, off + 1) << 8);
}

static inline uint32_t
pci_get_long(const struct pci_dev *d, unsigned int off)
{
    return (uint32_t)pci_get_word(d, off) |
           (uint32_t)pci_get_word(d, off + 2) << 16;
}

static inline void
pci_set_byte(struct pci_dev *d, unsigned int off, uint8_t v)
{
    d->config[off & 0xff] = v;
}

static inline void
pci_set_word(struct pci_dev *d, unsigned int off, uint16_t v)
{
    pci_set_byte(d, off, (uint8_t)v);
    pci_set_byte(d, off + 1, (uint8_t)(v >> 8));
}

static inline void
pci_set_long(struct pci_dev *d, unsigned int off, uint32_t v)
{
    pci_set_word(d, off, (uint16_t)v);
    pci_set_word(d, off + 2, (uint16_t)(v >> 16));
}

/* May the function master the bus (DMA)? PCI30 6.2.2 bit 2. */
static inline bool
pci_bus_master_enabled(const struct pci_dev *d)
{
    return d->present && (pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_MASTER);
}

/* Where BAR bar decodes now, or UINT64_MAX when it claims nothing. */
static inline uint64_t
pci_bar_address(const struct pci_dev *d, unsigned int bar)
{
    return (bar < PCI_NUM_REGIONS && iomap_region_mapped(&d->bars[bar].region))
           ? d->bars[bar].region.base : UINT64_MAX;
}

#endif
