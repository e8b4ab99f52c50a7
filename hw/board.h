/*
 * The PC board: one explicit list of the devices hvmdm builds for a domain,
 * in the order hvmloader and SeaBIOS expect them (hw/board.c).
 */
#ifndef HW_BOARD_H
#define HW_BOARD_H

struct dm;
struct dm_config;
struct pci_bus;
struct ps2_kbd;
struct ps2_mouse;
struct display;
struct fw_cfg;
struct xenplat;
struct vnc;

/* Pointers the devices need to find each other; owned by their devices. */
struct board {
    struct pci_bus *pci;
    struct ps2_kbd *ps2_kbd;        /* hw/i8042/ps2.c, for ui/input.h */
    struct ps2_mouse *ps2_mouse;    /* hw/i8042/ps2.c, for ui/input.h */
    struct display *display;        /* ui/display.c, owned by the adapter */
    struct xenplat *xenplat;        /* hw/xen-platform, NULL without */
    struct vnc *vnc;                /* ui/vnc.c, the VNC server or NULL */
    struct fw_cfg *fw_cfg;          /* hw/fw_cfg, for the bootorder row */
};

struct board_device {
    const char *name;
    int (*init)(struct dm *dm, const struct dm_config *cfg);
};

/* Builds dm->board and every device; dm_free() tears them down. */
int board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

/*
 * Xen platform unplug bit 1 (xen-dm-interface.md 4.3): every PCI function
 * of class 0x02 (network) runs its unplug hook and leaves the bus. Returns
 * how many were removed; 0 while the board has no NIC.
 */
unsigned int board_unplug_nics(struct dm *dm);

#endif
