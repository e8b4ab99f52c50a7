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

static const struct board_device board_devices[] = {
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
