/*
 * The fw_cfg "bootorder" file from -boot order= (libxl passes xl.cfg
 * boot=), which SeaBIOS reads in boot.c loadBootOrder: one OpenFirmware
 * device path a line, most wanted first. A device SeaBIOS finds is matched
 * against the lines (find_prio, glob_prefix); the ones it matches boot
 * before everything the CMOS order (hw/cmos) ranks.
 *
 * Letters as for QEMU's -boot: a and b are floppies (this board has none),
 * c the hard disks, d the CD-ROMs, n to p the first to third NIC. Paths as
 * SeaBIOS builds them: PIIX IDE at 00:01.1 is
 * /pci@i0cf8/ide@1,1/drive@<channel>/disk@<unit>, a NIC's option ROM is
 * /pci@i0cf8/ethernet@<slot>[,<fn>]. With -kernel, linuxboot_dma.bin's
 * /rom@genroms/ path comes first.
 *
 * Runs after the devices are on the bus (a board row after the NICs).
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/config.h"
#include "dm/machine.h"     /* struct dm */
#include "hw/board.h"
#include "hw/fw_cfg/fw_cfg.h"
#include "hw/pci/pci.h"

#define BO_IDE_PATH "/pci@i0cf8/ide@1,1"
#define BO_NIC_CLASS 0x02   /* PCI base class: network controller */
#define BO_MAX_NICS  3      /* n, o, p */

static void
bo_ide(GString *out, const struct dm_config *cfg, enum dm_drive_media media)
{
    const struct dm_drive_cfg *dc;
    int idx;
    unsigned int i;

    for (idx = 0; idx < 4; idx++) {
        for (i = 0; i < cfg->nr_drives; i++) {
            dc = &cfg->drives[i];
            if (dc->iface == DM_IF_IDE && dc->index == idx &&
                dc->media == media) {
                g_string_append_printf(out, BO_IDE_PATH
                                       "/drive@%d/disk@%d\n",
                                       idx / 2, idx % 2);
            }
        }
    }
}

/* NIC number nth (0 = n) in devfn order, as QEMU counts -device NICs. */
static void
bo_nic(GString *out, struct pci_bus *bus, unsigned int nth)
{
    const struct pci_dev *d;
    unsigned int devfn;

    for (devfn = 0; bus && devfn < 256; devfn++) {
        d = pci_bus_find(bus, devfn);
        if (!d || d->info->class_code >> 16 != BO_NIC_CLASS) {
            continue;
        }
        if (nth-- > 0) {
            continue;
        }
        g_string_append_printf(out, "/pci@i0cf8/ethernet@%x",
                               PCI_SLOT(devfn));
        if (PCI_FUNC(devfn)) {
            g_string_append_printf(out, ",%x", PCI_FUNC(devfn));
        }
        g_string_append_c(out, '\n');
        return;
    }
}

/*
 * The file's text: lines joined by '\n' with none after the last (as QEMU
 * writes it); "" when nothing is named.
 */
char *
fw_cfg_bootorder_text(const struct dm_config *cfg, struct pci_bus *bus)
{
    GString *out = g_string_new(NULL);
    const char *p;

    if (cfg->kernel) {
        g_string_append(out, "/rom@genroms/linuxboot_dma.bin\n");
    }
    for (p = cfg->boot_order; *p; p++) {
        if (*p == 'c') {
            bo_ide(out, cfg, DM_MEDIA_DISK);
        } else if (*p == 'd') {
            bo_ide(out, cfg, DM_MEDIA_CDROM);
        } else if (*p >= 'n' && *p < 'n' + BO_MAX_NICS) {
            bo_nic(out, bus, (unsigned int)(*p - 'n'));
        }
    }
    if (out->len > 0) {
        g_string_truncate(out, out->len - 1);
    }
    return g_string_free(out, false);
}

/* Board row: the "bootorder" file, once every boot device is placed. */
int
fw_cfg_bootorder_init(struct dm *dm, const struct dm_config *cfg)
{
    char *text;
    size_t len;

    if (!dm->board->fw_cfg) {
        return 0;
    }
    text = fw_cfg_bootorder_text(cfg, dm->board->pci);
    len = strlen(text);
    if (len == 0) {
        g_free(text);
        return 0;
    }
    /* SeaBIOS reads the file as a string: the NUL is part of it. */
    return fw_cfg_add_file(dm->board->fw_cfg, "bootorder", text,
                           (uint32_t)len + 1);
}
