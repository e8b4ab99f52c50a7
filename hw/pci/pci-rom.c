/*
 * An expansion ROM as guest RAM (xen-dm-interface.md 2.5). Served through
 * requests, a ROM costs one round trip per read: SeaBIOS copies iPXE's
 * e1000 ROM with about 19,000 of them, seconds of every boot. So the image
 * is copied once into frames hvmdm populates above guest RAM (read-only to
 * the guest, HVMMEM_ram_ro), and while the ROM BAR decodes those frames
 * move under it (XEN_DMOP_relocate_memory), so the guest reads its ROM
 * from memory. When the BAR stops decoding or moves, they follow it or go
 * home. Where that cannot work (no such hypervisor calls, no room, an
 * address that is not in the PCI hole) the BAR region still serves every
 * read through requests, as before.
 */
#include "hw/pci/pci.h"

#include <glib.h>
#include <string.h>

#include "dm/gmem.h"        /* gm_invalidate */
#include "dm/hv.h"
#include "dm/log.h"
#include "dm/machine.h"     /* dm_extra_frames, dm_low_ram_end_gfn */

#define PCI_ROM_PAGE_SHIFT  12
#define PCI_ROM_PAGE        (1u << PCI_ROM_PAGE_SHIFT)
/* hvmloader's PCI hole ends here; its tables and firmware follow. */
#define PCI_ROM_HOLE_END    0xfc000000ull

struct pci_rom_ram {
    struct dm *dm;
    uint64_t home_gfn;      /* where the frames were populated */
    uint64_t cur_gfn;       /* where they are now */
    uint32_t pages;
};

static bool
pci_rom_ram_can(const struct hv *hv)
{
    return hv->ops->populate_ram && hv->ops->relocate_memory &&
           hv->ops->map_guest && hv->ops->unmap_guest &&
           hv->ops->set_mem_type;
}

/* Copy the image into the populated frames (the tail of the last is 0). */
static int
pci_rom_ram_fill(struct pci_dev *d, struct hv *hv, uint64_t gfn,
                 uint32_t pages)
{
    int *err = g_new0(int, pages);
    uint8_t *map = hv->ops->map_guest(hv, gfn, pages, 1, err);
    uint32_t i;
    int rc = map ? 0 : -1;

    for (i = 0; map && i < pages; i++) {
        rc = err[i] ? -1 : rc;
    }
    if (rc == 0) {
        memcpy(map, d->rom_image, d->rom_len);
        memset(map + d->rom_len, 0,
               (size_t)pages * PCI_ROM_PAGE - d->rom_len);
    }
    if (map) {
        hv->ops->unmap_guest(hv, map, pages);
    }
    g_free(err);
    return rc;
}

void
pci_rom_ram_init(struct pci_dev *d, struct dm *dm)
{
    struct hv *hv = dm->hv;
    uint32_t pages = (uint32_t)((d->rom_len + PCI_ROM_PAGE - 1) /
                                PCI_ROM_PAGE);
    uint64_t gfn;

    if (!d->rom_len || d->rom_ram || !pci_rom_ram_can(hv)) {
        return;
    }
    gfn = dm_extra_frames(dm, pages);
    if (hv->ops->populate_ram(hv, gfn, pages) < 0 ||
        pci_rom_ram_fill(d, hv, gfn, pages) < 0) {
        DM_WARN("%s: its ROM stays in hvmdm (each read a request; the "
                "guest boots slower): no room for %u frames in the guest",
                d->info->name, pages);
        return;
    }
    if (hv->ops->set_mem_type(hv, HV_MEM_RAM_RO, gfn, pages) < 0) {
        DM_WARN("%s: its ROM copy in the guest is not read-only",
                d->info->name);
    }
    d->rom_ram = g_new0(struct pci_rom_ram, 1);
    d->rom_ram->dm = dm;
    d->rom_ram->home_gfn = d->rom_ram->cur_gfn = gfn;
    d->rom_ram->pages = pages;
}

/* Only page-aligned addresses in the PCI hole: never over guest RAM,
 * hvmloader's tables, the firmware or the frames of VRAM and ROMs at
 * home (the guest may put a BAR anywhere). */
static bool
pci_rom_ram_fits(const struct pci_rom_ram *r, uint64_t base)
{
    const struct dm *dm = r->dm;
    uint64_t gfn = base >> PCI_ROM_PAGE_SHIFT, end = gfn + r->pages;

    return base % PCI_ROM_PAGE == 0 && gfn >= dm_low_ram_end_gfn(dm) &&
           end <= PCI_ROM_HOLE_END >> PCI_ROM_PAGE_SHIFT &&
           (end <= dm->extra_first_gfn || gfn >= dm->extra_next_gfn);
}

void
pci_rom_ram_moved(struct pci_dev *d)
{
    struct pci_rom_ram *r = d->rom_ram;
    const struct iomap_region *reg = &d->bars[PCI_ROM_SLOT].region;
    struct hv *hv;
    uint64_t dst;

    if (!r) {
        return;
    }
    hv = r->dm->hv;
    dst = r->home_gfn;
    if (iomap_region_mapped(reg) && pci_rom_ram_fits(r, reg->base)) {
        dst = reg->base >> PCI_ROM_PAGE_SHIFT;
    }
    if (dst == r->cur_gfn) {
        return;
    }
    if (hv->ops->relocate_memory(hv, r->cur_gfn, dst, r->pages) < 0) {
        GUEST_ERR("%s: cannot move its ROM to 0x%" PRIx64 "; reads go "
                  "through requests", d->info->name,
                  dst << PCI_ROM_PAGE_SHIFT);
        return;
    }
    r->cur_gfn = dst;
    gm_invalidate(r->dm->gm);
    /* A moved frame is writable again (XENMAPSPACE_gmfn_range). */
    if (hv->ops->set_mem_type(hv, HV_MEM_RAM_RO, dst, r->pages) < 0) {
        GUEST_ERR("%s: its ROM at 0x%" PRIx64 " is not read-only",
                  d->info->name, dst << PCI_ROM_PAGE_SHIFT);
    }
}

void
pci_rom_ram_free(struct pci_dev *d)
{
    g_free(d->rom_ram);
    d->rom_ram = NULL;
}
