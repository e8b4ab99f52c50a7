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

/* Pointers the devices need to find each other; owned by their devices. */
struct board {
    struct pci_bus *pci;
    struct ps2_kbd *ps2_kbd;        /* hw/i8042/ps2.c, for ui/input.h */
    struct ps2_mouse *ps2_mouse;    /* hw/i8042/ps2.c, for ui/input.h */
    struct display *display;        /* ui/display.c, owned by the adapter */
};

struct board_device {
    const char *name;
    int (*init)(struct dm *dm, const struct dm_config *cfg);
};

/* Builds dm->board and every device; dm_free() tears them down. */
int board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

#endif
