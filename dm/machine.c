/* The machine core: address maps, guest memory and device teardown. */
#include "dm/machine.h"

#include <glib.h>

#include "dm/config.h"    /* max_ram_below_4g */
#include "dm/gmem.h"
#include "dm/ioreq.h"
#include "dm/iomap.h"
#include "dm/log.h"
#include "dm/loop.h"

struct dm *
dm_new(struct hv *hv, uint64_t ram_size, unsigned int gm_buckets)
{
    struct dm *dm = g_new0(struct dm, 1);

    dm->hv = hv;
    dm->ram_size = ram_size;
    dm->pio = iomap_new(hv, HV_IO_PORT, 0xffff);
    dm->mmio = iomap_new(hv, HV_IO_MMIO, UINT64_MAX);
    dm->gm = gm_new(hv, gm_buckets);
    return dm;
}

/* Devices go in reverse order of registration. */
static void
dm_destroy_devices(struct dm *dm)
{
    GPtrArray *devs = g_ptr_array_new();
    struct dm_dev *d;
    guint i;

    for (d = dm->devs; d; d = d->next) {
        g_ptr_array_add(devs, d);
    }
    dm->devs = dm->devs_tail = NULL;
    for (i = devs->len; i > 0; i--) {
        d = g_ptr_array_index(devs, i - 1);
        if (d->ops->destroy) {
            d->ops->destroy(d->opaque);
        }
    }
    g_ptr_array_free(devs, TRUE);
}

void
dm_free(struct dm *dm)
{
    if (!dm) {
        return;
    }
    ioreq_svc_free(dm->ioreq);
    dm_destroy_devices(dm);
    dm_loop_fini(dm);
    iomap_free(dm->mmio);
    iomap_free(dm->pio);
    gm_free(dm->gm);
    g_free(dm->board);      /* pointers only; the devices are gone */
    g_free(dm);
}

void
dm_set_pci_cfg(struct dm *dm, const struct dm_pci_cfg_ops *ops, void *opaque)
{
    dm->pci_cfg = ops;
    dm->pci_cfg_opaque = opaque;
}

#define DM_PAGE_SHIFT 12
#define DM_LOWMEM_DEFAULT 0xf0000000ull

static uint64_t
dm_lowmem(const struct dm *dm)
{
    return dm->cfg && dm->cfg->max_ram_below_4g ? dm->cfg->max_ram_below_4g
                                                : DM_LOWMEM_DEFAULT;
}

uint64_t
dm_low_ram_end_gfn(const struct dm *dm)
{
    return MIN(dm->ram_size, dm_lowmem(dm)) >> DM_PAGE_SHIFT;
}

uint64_t
dm_extra_frames(struct dm *dm, uint64_t nr)
{
    uint64_t end = dm->ram_size, lowmem = dm_lowmem(dm), gfn;

    if (!dm->extra_next_gfn) {
        if (end > lowmem) {
            end = (4ull << 30) + dm->ram_size - lowmem;
        }
        dm->extra_next_gfn = (end + (1u << DM_PAGE_SHIFT) - 1) >>
                             DM_PAGE_SHIFT;
        dm->extra_first_gfn = dm->extra_next_gfn;
    }
    gfn = dm->extra_next_gfn;
    dm->extra_next_gfn += nr;
    return gfn;
}

void
dm_request_shutdown(struct dm *dm, enum hv_shutdown_reason reason)
{
    static const char *const names[] = {
        [HV_SHUTDOWN_POWEROFF] = "power-off",
        [HV_SHUTDOWN_REBOOT] = "reboot",
        [HV_SHUTDOWN_SUSPEND] = "suspend",
        [HV_SHUTDOWN_CRASH] = "crash",
    };
    int rc;

    if (dm->shutdown_pending) {
        return;
    }
    dm->shutdown_pending = true;
    dm->shutdown_reason = reason;
    DM_LOG_LIMITED(DM_LOG_INFO, "guest requested %s", names[reason]);
    rc = dm->hv->ops->shutdown(dm->hv, reason);
    if (rc < 0) {
        DM_LOG_LIMITED(DM_LOG_ERROR, "shutdown request (%s) failed: %s",
                       names[reason], g_strerror(-rc));
    }
}
