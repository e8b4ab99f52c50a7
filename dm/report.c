/* The start-up line and the exit summary (dm/report.h). */
#include "dm/report.h"

#include <glib.h>
#include <inttypes.h>

#include "dm/config.h"
#include "dm/dev.h"
#include "dm/gmem.h"
#include "dm/hv.h"
#include "dm/ioreq.h"
#include "dm/log.h"
#include "dm/machine.h"

static const char *const cache_names[] = {
    [DM_CACHE_WRITEBACK] = "writeback",
    [DM_CACHE_WRITETHROUGH] = "writethrough",
    [DM_CACHE_NONE] = "none",
    [DM_CACHE_UNSAFE] = "unsafe",
};

/* Device names in board order, an instance number past the first. */
static void
report_devices(GString *s, const struct dm *dm)
{
    const struct dm_dev *d;

    g_string_append(s, "; devices:");
    for (d = dm->devs; d; d = d->next) {
        g_string_append_printf(s, " %s", d->ops->name);
        if (d->instance) {
            g_string_append_printf(s, ".%u", d->instance);
        }
    }
}

/* "hda /images/a.img (qcow2, writeback)", "hdc cdrom empty". */
static void
report_disks(GString *s, const struct dm_config *cfg)
{
    const struct dm_drive_cfg *d;
    unsigned int i;

    g_string_append(s, "; disks:");
    if (!cfg->nr_drives) {
        g_string_append(s, " none");
    }
    for (i = 0; i < cfg->nr_drives; i++) {
        d = &cfg->drives[i];
        g_string_append_printf(s, "%s hd%c%s", i ? "," : "",
                               'a' + (d->index >= 0 ? d->index : 0),
                               d->media == DM_MEDIA_CDROM ? " cdrom" : "");
        if (!d->file || !d->file[0]) {
            g_string_append(s, " empty");
            continue;
        }
        g_string_append_printf(s, " %s (%s, %s%s)", d->file,
                               d->format ? d->format : "raw",
                               cache_names[d->cache],
                               d->readonly ? ", read-only" : "");
    }
}

static void
report_serial(GString *s, const struct dm_config *cfg)
{
    unsigned int i;

    g_string_append(s, "; serial:");
    if (!cfg->nr_serial) {
        g_string_append(s, " none");
    }
    for (i = 0; i < cfg->nr_serial; i++) {
        g_string_append_printf(s, "%s %s", i ? "," : "", cfg->serial[i]);
    }
}

void
dm_report_startup(const struct dm *dm)
{
    const struct dm_config *cfg = dm->cfg;
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "hvmdm " HVMDM_VERSION " starting: domain %u "
                           "\"%s\", %s, %u vCPU%s (max %u), %" PRIu64 " MiB",
                           cfg->domid, cfg->name ? cfg->name : "",
                           cfg->machine ? cfg->machine : "pc", cfg->vcpus,
                           cfg->vcpus == 1 ? "" : "s", cfg->maxcpus,
                           dm->ram_size >> 20);
    report_devices(s, dm);
    report_disks(s, cfg);
    report_serial(s, cfg);
    DM_INFO("%s", s->str);
    g_string_free(s, TRUE);
}

static const struct {
    const char *type;           /* /local/domain/0/backend/<type>/<domid> */
    const char *what;
} qemu_backends[] = {
    { "qdisk", "QEMU's PV disk backend (backendtype=qdisk) is not served: "
      "after the unplug the guest's PV drivers find no disk; use "
      "backendtype=phy" },
    { "vkbd", "the PV keyboard (vkb_device) is not served and never "
      "connects; set vkb_device=0" },
    { "vfb", "the PV framebuffer (vfb=) is not served" },
    { "qusb", "PV USB (usbctrl type=qusb) is not served" },
    { "9pfs", "9pfs (p9=) is not served" },
};

void
dm_report_backends(const struct dm *dm, unsigned int *reported)
{
    const struct dm_config *cfg = dm->cfg;
    char *v;
    size_t i;

    if (!cfg || !dm->hv || !dm->hv->ops->xs_read) {
        return;
    }
    for (i = 0; i < G_N_ELEMENTS(qemu_backends); i++) {
        g_autofree char *path = g_strdup_printf("/local/domain/0/backend/"
                                                "%s/%u", qemu_backends[i].type,
                                                cfg->domid);

        if (*reported & 1u << i) {
            continue;
        }
        v = dm->hv->ops->xs_read(dm->hv, path);
        if (v) {
            *reported |= 1u << i;
            DM_WARN("%s", qemu_backends[i].what);
            g_free(v);
        }
    }
}

void
dm_report_exit(const struct dm *dm, double uptime_s)
{
    static const struct ioreq_stats none;
    const struct ioreq_stats *st = dm && dm->ioreq ?
                                   ioreq_svc_stats(dm->ioreq) : &none;

    dm_log_always(DM_LOG_INFO, "exit after %.1f s: %" PRIu64 " requests "
                  "served (%" PRIu64 " synchronous, %" PRIu64 " buffered; "
                  "pio %" PRIu64 ", mmio %" PRIu64 ", pci-config %" PRIu64
                  ", timeoffset %" PRIu64 ", invalidate %" PRIu64 "); "
                  "guest errors %" PRIu64 " (malformed requests %" PRIu64
                  ", bad guest memory %" PRIu64 "); log %" PRIu64 " bytes",
                  uptime_s, st->sync + st->buffered, st->sync, st->buffered,
                  st->pio, st->copy, st->pci_config, st->timeoffset,
                  st->invalidate, dm_log_guest_errors(), st->malformed,
                  st->gm_faults, dm_log_bytes());
    if (dm && dm->gm) {
        const struct gm_stats *g = gm_stats(dm->gm);

        dm_log_always(DM_LOG_INFO, "guest memory map cache: %" PRIu64
                      " hits, %" PRIu64 " misses, %" PRIu64 " evictions, "
                      "%" PRIu64 " invalidations, peak %u MiB mapped",
                      g->hits, g->misses, g->evictions, g->invalidations,
                      g->peak_mapped);
    }
}
