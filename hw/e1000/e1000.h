/*
 * Intel 82540EM Gigabit Ethernet controller (8086:100E), the NIC libxl's
 * model=e1000 asks for. One PCI function per -device e1000 in slots
 * E1000_FIRST_SLOT and up, each bound to the -netdev its netdev= names.
 */
#ifndef HW_E1000_E1000_H
#define HW_E1000_E1000_H

#include <stdbool.h>

struct dm;
struct dm_config;

/* First slot tried; the platform device is 2, VGA 3 (hw/vga/stdvga.c).
 * Unplug goes through board_unplug_nics() and the PCI unplug hook. */
#define E1000_FIRST_SLOT 4

int e1000_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

#endif
