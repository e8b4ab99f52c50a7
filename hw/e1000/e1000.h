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

#define E1000_FIRST_SLOT 4      /* after VGA (2) and the platform device (3) */

int e1000_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

/*
 * Xen platform device unplug, bit 1 (xen-dm-interface.md 4.3): remove
 * every e1000 from the bus and close its backend. Returns how many went.
 */
unsigned int e1000_unplug_all(struct dm *dm);

#endif
