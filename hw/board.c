/*
 * The board table: every device hvmdm builds, in creation order. A device's
 * init function creates its state, maps its regions and registers its
 * dm_dev (reset/save/check/load/destroy); dm_free() tears them down in
 * reverse order and then frees struct board.
 */
#include "hw/board.h"

#include <errno.h>
#include <glib.h>

#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "hw/cmos/cmos.h"
#include "hw/fw_cfg/fw_cfg.h"
#include "hw/e1000/e1000.h"
#include "hw/i8042/i8042.h"
#include "hw/ide/ide.h"
#include "hw/misc/port92.h"
#include "hw/pci/chipset.h"
#include "hw/pci/pci.h"
#include "hw/uart/uart16550.h"
#include "hw/xen-platform/xen-platform.h"
#include "hw/vga/stdvga.h"

static const struct board_device board_devices[] = {
    { "pci", pci_board_init },
    { "i440fx", i440fx_board_init },
    { "piix3", piix3_board_init },
    { "piix-ide", piix_ide_board_init },
    { "piix4-pm", piix4pm_board_init },
    /* 00:02.0 with -machine xenfv, as upstream: VGA goes after it. */
    { "xen-platform", xenplat_board_init },
    { "vga", stdvga_board_init },
    { "uart16550", uart16550_board_init },
    { "i8042", i8042_board_init },
    { "cmos", cmos_board_init },
    { "port92", port92_board_init },
    { "fw_cfg", fw_cfg_board_init },
    { "e1000", e1000_board_init },
    /* fw_cfg's "bootorder" names devices: after every boot device. */
    { "bootorder", fw_cfg_bootorder_init },
    { NULL, NULL },
};

int
board_init(struct dm *dm, const struct dm_config *cfg)
{
    const struct board_device *d;
    int rc;

    dm->board = g_new0(struct board, 1);
    for (d = board_devices; d->name; d++) {
        rc = d->init(dm, cfg);
        if (rc < 0) {
            DM_ERR("%s: initialisation failed: %s", d->name, g_strerror(-rc));
            return rc;
        }
    }
    return 0;
}

unsigned int
board_unplug_nics(struct dm *dm)
{
    unsigned int devfn, n = 0;
    struct pci_dev *d;

    if (!dm->board || !dm->board->pci) {
        return 0;
    }
    for (devfn = 0; devfn < 256; devfn++) {
        d = pci_bus_find(dm->board->pci, devfn);
        if (!d || d->info->class_code >> 16 != 0x02) {
            continue;
        }
        if (d->info->unplug) {
            d->info->unplug(d);
        }
        pci_unplug(d);
        n++;
    }
    return n;
}
