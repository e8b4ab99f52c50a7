/*
 * PCI standard VGA (1234:1111, class 0300), the adapter QEMU calls "VGA"
 * and libxl selects with vga="stdvga": the legacy VGA (hw/vga/vga.c), the
 * Bochs VBE DISPI registers (hw/vga/vbe.c) at 0x1CE/0x1CF, and
 *
 *   BAR0  prefetchable linear framebuffer over all of VRAM
 *   BAR2  4 KiB MMIO: VGA ports 0x3C0-0x3DF at 0x400, DISPI at 0x500,
 *         QEMU's extended registers at 0x600 (what bochs-drm uses)
 *   ROM   SeaBIOS's vgabios-stdvga.bin, read at start-up
 *
 * VRAM is guest RAM that hvmdm populates above the guest's own RAM
 * (xen-dm-interface.md 2.5) and maps once. When the guest places BAR0,
 * the frames move under it (relocate_memory, write-back pinned), so guest
 * framebuffer writes never reach hvmdm; what changed comes back from Xen's
 * dirty-VRAM log, which runs only while a front end watches the display.
 * The 0xA0000 window reaches hvmdm as buffered writes and synchronous
 * reads (1.7, 5.4) and is served from the same VRAM.
 */
#include "hw/vga/stdvga.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/config.h"
#include "dm/dev.h"
#include "dm/gmem.h"                /* gm_invalidate */
#include "dm/hv.h"
#include "dm/iomap.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/timer.h"               /* dm_clock_ns */
#include "hw/board.h"
#include "hw/pci/pci.h"
#include "hw/vga/vga-int.h"
#include "ui/display.h"

#define STDVGA_FIRST_SLOT   2   /* first free slot from 2, as QEMU's -1 */
#define STDVGA_VENDOR_ID    0x1234
#define STDVGA_DEVICE_ID    0x1111
#define STDVGA_ROM_PATH     "/usr/share/seabios/vgabios-stdvga.bin"
#define STDVGA_ROM_MAX      (256u << 10)

#define STDVGA_PORTS        0x3b0
#define STDVGA_PORTS_LEN    0x30
#define STDVGA_VBE_PORT     0x1ce
#define STDVGA_VBE_LEN      3           /* index, data, data (0x1D0) */
#define STDVGA_WINDOW       0xa0000
#define STDVGA_WINDOW_LEN   0x20000

/* BAR2 layout (QEMU hw/display/vga-pci.c, the bochs-drm contract). */
#define STDVGA_MMIO_SIZE    0x1000
#define STDVGA_MMIO_VGA     0x400       /* ports 0x3C0-0x3DF */
#define STDVGA_MMIO_VGA_LEN 0x20
#define STDVGA_MMIO_VBE     0x500       /* DISPI index i at 0x500 + 2i */
#define STDVGA_MMIO_QEXT    0x600
#define STDVGA_QEXT_SIZE    8           /* bytes of extended registers */
#define STDVGA_QEXT_LE      0x1e1e1e1e  /* framebuffer byte order: LE */

#define STDVGA_VRAM_MIN_MB  4       /* cirrus-vga,vgamem_mb=4 too */
#define STDVGA_VRAM_MAX_MB  256
#define STDVGA_PAGE         4096u

struct stdvga {
    struct pci_dev pci;             /* first: pci_dev -> stdvga */
    struct vga vga;
    struct dm *dm;
    struct dm_dev dev;
    struct iomap_region ports;
    struct iomap_region vbe_ports;
    struct iomap_region window;
    struct display *display;

    uint8_t *rom;
    size_t rom_len;

    uint64_t vram_gfn;              /* where hvmdm populated VRAM */
    uint64_t cur_gfn;               /* where it is now (BAR0 or home) */
    uint32_t vram_pages;
    void *vram_map;                 /* the one foreign mapping of VRAM */
    unsigned long *xen_dirty;       /* track_dirty_vram's bitmap */
    bool watched;                   /* a display listener exists */
    bool tracking;                  /* Xen's dirty-VRAM log is on */
    bool destroying;
    uint16_t qext_le;               /* QEMU ext 0x604 as written */
    bool has_edid;
    uint8_t edid[VGA_EDID_BLOCK];   /* BAR2 0x000 (hw/vga/edid.c) */
};

struct stdvga_rec {
    struct pci_dev_state pci;
    struct vga_regs regs;
    uint32_t vram_size;
    uint32_t reserved;
};

static struct stdvga *
stdvga_of(struct pci_dev *d)
{
    return (struct stdvga *)d;
}

/* ---- legacy ports and window ---------------------------------------- */

static uint64_t
stdvga_port_read(void *opaque, uint64_t off, unsigned int size)
{
    struct stdvga *v = opaque;

    return vga_ioport_read(&v->vga, (uint16_t)(STDVGA_PORTS + off));
}

static void
stdvga_port_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct stdvga *v = opaque;

    vga_ioport_write(&v->vga, (uint16_t)(STDVGA_PORTS + off), (uint8_t)val);
}

/* DISPI: 0x1CE is the index, 0x1CF (and 0x1D0) the data (16 bits). */
static uint64_t
stdvga_vbe_read(void *opaque, uint64_t off, unsigned int size)
{
    struct stdvga *v = opaque;

    if (off == 0) {
        return v->vga.r.vbe_index;
    }
    return vbe_read(&v->vga, v->vga.r.vbe_index);
}

static void
stdvga_vbe_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct stdvga *v = opaque;

    if (off == 0) {
        v->vga.r.vbe_index = (uint16_t)val;
        return;
    }
    vbe_write(&v->vga, v->vga.r.vbe_index, (uint16_t)val);
}

static uint64_t
stdvga_window_read(void *opaque, uint64_t off, unsigned int size)
{
    struct stdvga *v = opaque;
    uint64_t val = 0;
    unsigned int i;

    for (i = 0; i < size; i++) {
        val |= (uint64_t)vga_mem_read(&v->vga, (uint32_t)(off + i)) << (8 * i);
    }
    return val;
}

static void
stdvga_window_write(void *opaque, uint64_t off, uint64_t val,
                    unsigned int size)
{
    struct stdvga *v = opaque;
    unsigned int i;

    for (i = 0; i < size; i++) {
        vga_mem_write(&v->vga, (uint32_t)(off + i), (uint8_t)(val >> (8 * i)));
    }
}

/* ---- BAR0: the framebuffer when Xen forwards it ---------------------- */

/*
 * Only reached while VRAM is not under BAR0 (relocation refused, or the
 * test hypervisor's requests): served from VRAM like RAM would be.
 */
static uint64_t
stdvga_lfb_read(void *opaque, uint64_t off, unsigned int size)
{
    struct stdvga *v = opaque;
    uint64_t val = 0;

    if (off + size <= v->vga.vram_size) {
        memcpy(&val, v->vga.vram + off, size);
    }
    return val;
}

static void
stdvga_lfb_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct stdvga *v = opaque;

    if (off + size <= v->vga.vram_size) {
        memcpy(v->vga.vram + off, &val, size);
        vga_mark_dirty(&v->vga, (uint32_t)off, size);
        v->vga.plane2_written = true;
    }
}

/* ---- BAR2: MMIO registers -------------------------------------------- */

static uint64_t
stdvga_mmio_read(void *opaque, uint64_t off, unsigned int size)
{
    struct stdvga *v = opaque;

    if (off >= STDVGA_MMIO_VGA && off < STDVGA_MMIO_VGA + STDVGA_MMIO_VGA_LEN) {
        return vga_ioport_read(&v->vga,
                               (uint16_t)(0x3c0 + off - STDVGA_MMIO_VGA));
    }
    if (off >= STDVGA_MMIO_VBE && off < STDVGA_MMIO_VBE + 2 * VBE_INDEX_COUNT) {
        return vbe_read(&v->vga, (uint16_t)((off - STDVGA_MMIO_VBE) / 2));
    }
    if (off < VGA_EDID_BLOCK && v->has_edid) {
        return v->edid[off];
    }
    if (off == STDVGA_MMIO_QEXT) {
        return STDVGA_QEXT_SIZE;
    }
    if (off == STDVGA_MMIO_QEXT + 4) {
        return STDVGA_QEXT_LE;
    }
    return 0;                       /* past the EDID, holes: no data */
}

static void
stdvga_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct stdvga *v = opaque;

    if (off >= STDVGA_MMIO_VGA && off < STDVGA_MMIO_VGA + STDVGA_MMIO_VGA_LEN) {
        vga_ioport_write(&v->vga, (uint16_t)(0x3c0 + off - STDVGA_MMIO_VGA),
                         (uint8_t)val);
    } else if (off >= STDVGA_MMIO_VBE &&
               off < STDVGA_MMIO_VBE + 2 * VBE_INDEX_COUNT) {
        vbe_write(&v->vga, (uint16_t)((off - STDVGA_MMIO_VBE) / 2),
                  (uint16_t)val);
    } else if (off == STDVGA_MMIO_QEXT + 4 && val != STDVGA_QEXT_LE) {
        GUEST_ERR("vga: big-endian framebuffer requested; it stays "
                  "little-endian");
    }
}

/* The VGA port block and DISPI are byte/word registers: BAR2 decodes
 * bytes for 0x400 and words for 0x500; others are split by the core. */
static uint64_t
stdvga_mmio_read_any(void *opaque, uint64_t off, unsigned int size)
{
    uint64_t val = 0;
    unsigned int i;

    if (off >= STDVGA_MMIO_VBE || size == 1) {
        return stdvga_mmio_read(opaque, off, size);
    }
    for (i = 0; i < size; i++) {
        val |= (stdvga_mmio_read(opaque, off + i, 1) & 0xff) << (8 * i);
    }
    return val;
}

static void
stdvga_mmio_write_any(void *opaque, uint64_t off, uint64_t val,
                      unsigned int size)
{
    unsigned int i;

    if (off >= STDVGA_MMIO_VBE || size == 1) {
        stdvga_mmio_write(opaque, off, val, size);
        return;
    }
    for (i = 0; i < size; i++) {
        stdvga_mmio_write(opaque, off + i, (val >> (8 * i)) & 0xff, 1);
    }
}

/* ---- VRAM ------------------------------------------------------------ */

static int
stdvga_vram_init(struct stdvga *v)
{
    struct hv *hv = v->dm->hv;
    int *err;
    int rc;

    v->vram_pages = v->vga.vram_size / STDVGA_PAGE;
    /* Right above guest RAM, as QEMU's RAM block layout has it. */
    v->vram_gfn = v->cur_gfn = dm_extra_frames(v->dm, v->vram_pages);
    if (!hv->ops->populate_ram) {
        return -ENOSYS;
    }
    rc = hv->ops->populate_ram(hv, v->vram_gfn, v->vram_pages);
    if (rc < 0) {
        DM_ERR("vga: cannot allocate %u MiB of VRAM in the guest: %s",
               v->vga.vram_size >> 20, g_strerror(-rc));
        return rc;
    }
    err = g_new0(int, v->vram_pages);
    v->vram_map = hv->ops->map_guest(hv, v->vram_gfn, v->vram_pages, 1, err);
    for (uint32_t i = 0; v->vram_map && i < v->vram_pages; i++) {
        if (err[i]) {
            hv->ops->unmap_guest(hv, v->vram_map, v->vram_pages);
            v->vram_map = NULL;
        }
    }
    g_free(err);
    if (!v->vram_map) {
        DM_ERR("vga: cannot map the VRAM it populated");
        return -EFAULT;
    }
    v->vga.vram = v->vram_map;
    return 0;
}

/*
 * BAR0 moved: VRAM follows it (xendevicemodel_relocate_memory), pinned
 * write-back, or goes home when the BAR stops decoding. Only addresses
 * above the legacy window are taken, as QEMU does. If the move fails,
 * VRAM stays put and BAR0 keeps working through ioreqs.
 */
static void
stdvga_bar_moved(struct pci_dev *d, unsigned int bar)
{
    struct stdvga *v = stdvga_of(d);
    struct hv *hv = v->dm->hv;
    uint64_t base = pci_bar_address(d, 0), dst;
    int rc;

    if (bar != 0 || v->destroying || !hv->ops->relocate_memory) {
        return;
    }
    dst = (base != UINT64_MAX && base >= 0x100000) ? base / STDVGA_PAGE
                                                   : v->vram_gfn;
    if (dst == v->cur_gfn) {
        return;
    }
    rc = hv->ops->relocate_memory(hv, v->cur_gfn, dst, v->vram_pages);
    if (rc < 0) {
        GUEST_ERR("vga: cannot move VRAM to 0x%" PRIx64 ": %s",
                  dst * STDVGA_PAGE, g_strerror(-rc));
        return;
    }
    v->cur_gfn = dst;
    gm_invalidate(v->dm->gm);
    if (dst != v->vram_gfn && hv->ops->pin_cacheattr) {
        hv->ops->pin_cacheattr(hv, dst, dst + v->vram_pages - 1,
                               HV_CACHEATTR_WB);
    }
}

/*
 * VRAM is guest memory: while migration's log-dirty is on, every page
 * hvmdm writes there is reported as QEMU does (xen-dm-interface.md 7).
 */
static void
stdvga_wrote(void *opaque, uint32_t off, uint32_t len)
{
    struct stdvga *v = opaque;
    struct hv *hv = v->dm->hv;
    uint64_t first = off / STDVGA_PAGE, last = (off + len - 1) / STDVGA_PAGE;

    if (gm_log_dirty(v->dm->gm)) {
        hv->ops->modified_memory(hv, v->cur_gfn + first, last - first + 1);
    }
}

/* ---- display --------------------------------------------------------- */

/*
 * The dirty log of VRAM where it is now, or NULL (treat all as dirty)
 * when there is none: unwatched, ENODATA (migration owns log-dirty) or an
 * error.
 */
static const unsigned long *
stdvga_sync_dirty(struct stdvga *v)
{
    struct hv *hv = v->dm->hv;
    int rc;

    if (!v->watched || !hv->ops->track_dirty_vram) {
        return NULL;
    }
    rc = hv->ops->track_dirty_vram(hv, v->cur_gfn, v->vram_pages,
                                   v->xen_dirty);
    v->tracking = rc == 0;
    return rc == 0 ? v->xen_dirty : NULL;
}

static void
stdvga_refresh(void *opaque, struct display *d)
{
    struct stdvga *v = opaque;

    vga_render(&v->vga, d, stdvga_sync_dirty(v), dm_clock_ns(v->dm));
}

static void
stdvga_active(void *opaque, bool active)
{
    struct stdvga *v = opaque;
    struct hv *hv = v->dm->hv;

    v->watched = active;
    vga_render_invalidate(&v->vga);
    if (!active && v->tracking && hv->ops->track_dirty_vram) {
        hv->ops->track_dirty_vram(hv, 0, 0, NULL);
        v->tracking = false;
    }
}

/* ---- lifecycle ------------------------------------------------------- */

static void
stdvga_reset(void *opaque)
{
    struct stdvga *v = opaque;

    pci_dev_reset(&v->pci);
    vga_reset(&v->vga);
    vga_render_invalidate(&v->vga);
}

static void
stdvga_save(void *opaque, void *rec)
{
    struct stdvga *v = opaque;
    struct stdvga_rec *r = rec;

    memset(r, 0, sizeof(*r));
    pci_dev_save(&v->pci, &r->pci);
    r->regs = v->vga.r;
    r->vram_size = v->vga.vram_size;
}

/* Register values a guest could never have written are corruption. */
static int
stdvga_check(const void *rec)
{
    const struct stdvga_rec *r = rec;
    const struct vga_regs *g = &r->regs;

    if (pci_dev_state_check(&r->pci, STDVGA_VENDOR_ID, STDVGA_DEVICE_ID) ||
        r->vram_size < (STDVGA_VRAM_MIN_MB << 20) ||
        r->vram_size > (STDVGA_VRAM_MAX_MB << 20) ||
        (r->vram_size & (r->vram_size - 1)) ||
        g->dac_sub_index > 2 || (g->dac_state != 0 && g->dac_state != 3) ||
        g->ar_flip_flop > 1 || g->sr_index > 7 || g->gr_index > 15 ||
        g->ar_index > 0x3f ||
        g->vbe_regs[VBE_INDEX_VIDEO_MEMORY_64K] != r->vram_size >> 16) {
        return -EINVAL;
    }
    return 0;
}

static void
stdvga_load(void *opaque, const void *rec)
{
    struct stdvga *v = opaque;
    const struct stdvga_rec *r = rec;

    if (r->vram_size != v->vga.vram_size) {
        DM_ERR("vga: saved VRAM is %u MiB, this adapter has %u MiB; "
               "registers not restored", r->vram_size >> 20,
               v->vga.vram_size >> 20);
        return;
    }
    v->vga.r = r->regs;
    pci_dev_load(&v->pci, &r->pci);
    vga_render_invalidate(&v->vga);
}

static void
stdvga_destroy(void *opaque)
{
    struct stdvga *v = opaque;
    struct hv *hv = v->dm->hv;

    v->destroying = true;
    display_free(v->display);
    iomap_region_destroy(&v->ports);
    iomap_region_destroy(&v->vbe_ports);
    iomap_region_destroy(&v->window);
    pci_dev_fini(&v->pci);
    if (v->vram_map) {
        hv->ops->unmap_guest(hv, v->vram_map, v->vram_pages);
    }
    vga_render_free(v->vga.render);
    g_free(v->vga.self_dirty);
    g_free(v->xen_dirty);
    g_free(v->rom);
    g_free(v);
}

/* ---- tables ---------------------------------------------------------- */

static const struct iomap_ops stdvga_port_ops = {
    .read = stdvga_port_read,
    .write = stdvga_port_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct iomap_ops stdvga_vbe_ops = {
    .read = stdvga_vbe_read,
    .write = stdvga_vbe_write,
    .min_size = 1,
    .max_size = 2,
    .unaligned_ok = true,
};

static const struct iomap_ops stdvga_window_ops = {
    .read = stdvga_window_read,
    .write = stdvga_window_write,
    .min_size = 1,
    .max_size = 8,
};

static const struct iomap_ops stdvga_lfb_ops = {
    .read = stdvga_lfb_read,
    .write = stdvga_lfb_write,
    .min_size = 1,
    .max_size = 8,
};

static const struct iomap_ops stdvga_mmio_ops = {
    .read = stdvga_mmio_read_any,
    .write = stdvga_mmio_write_any,
    .min_size = 1,
    .max_size = 4,
};

static const struct display_hw_ops stdvga_display_ops = {
    .refresh = stdvga_refresh,
    .active = stdvga_active,
};

static const struct pci_dev_info stdvga_info = {
    .name = "VGA",
    .vendor_id = STDVGA_VENDOR_ID,
    .device_id = STDVGA_DEVICE_ID,
    .subsystem_vendor_id = PCI_SUBVENDOR_ID_QEMU,
    .subsystem_id = PCI_SUBDEVICE_ID_QEMU,
    .class_code = 0x030000,             /* display, VGA compatible */
    .revision = 0x02,
    .header_type = 0x00,
    .interrupt_pin = 0,
    .bar_moved = stdvga_bar_moved,
};

static const struct dm_dev_ops stdvga_dev_ops = {
    .name = "vga",
    .state_version = 1,
    .state_size = sizeof(struct stdvga_rec),
    .reset = stdvga_reset,
    .save = stdvga_save,
    .check = stdvga_check,
    .load = stdvga_load,
    .destroy = stdvga_destroy,
};

/* ---- board ----------------------------------------------------------- */

/* The VGA BIOS SeaBIOS runs from our ROM BAR (xen-dm-interface.md 6.6). */
static int
stdvga_load_rom(struct stdvga *v)
{
    const char *path = g_getenv("HVMDM_VGA_ROM");
    g_autoptr(GError) e = NULL;
    gchar *data;
    gsize len;

    if (!path) {
        path = STDVGA_ROM_PATH;
    }
    if (!g_file_get_contents(path, &data, &len, &e)) {
        DM_ERR("vga: cannot read the VGA BIOS %s: %s; install Debian's "
               "seabios package (apt-get install seabios)", path, e->message);
        return -ENOENT;
    }
    if (len < 512 || len > STDVGA_ROM_MAX) {
        DM_ERR("vga: %s is not a VGA BIOS (%zu bytes); reinstall the "
               "seabios package", path, (size_t)len);
        g_free(data);
        return -EINVAL;
    }
    v->rom = (uint8_t *)data;
    v->rom_len = len;
    return 0;
}

/* vgamem_mb as a power of two within 8..256 MiB (the BAR is one). */
static int
stdvga_vram_size(const struct dm_config *cfg, uint32_t *size)
{
    unsigned int mb = cfg->vgamem_mb, p = STDVGA_VRAM_MIN_MB;

    if (mb < STDVGA_VRAM_MIN_MB) {
        DM_ERR("vga: vgamem_mb=%u is too small; the standard VGA needs at "
               "least %u (videoram=16 in the domain config)", mb,
               STDVGA_VRAM_MIN_MB);
        return -EINVAL;
    }
    while (p * 2 <= mb && p * 2 <= STDVGA_VRAM_MAX_MB) {
        p *= 2;
    }
    if (p != mb) {
        DM_WARN("vga: vgamem_mb=%u: using %u MiB of VRAM (a power of two "
                "up to %u)", mb, p, STDVGA_VRAM_MAX_MB);
    }
    *size = p << 20;
    return 0;
}

/*
 * QEMU's std VGA shows an EDID unless edid=off, or the machine is xenfv
 * (QEMU's alias of xenfv-3.1, whose compat properties turn it off), which
 * is what libxl asks for with xen_platform_pci=1; pc,accel=xen has one.
 */
static int
stdvga_edid_setup(struct stdvga *v, const struct dm_config *cfg)
{
    unsigned int x = cfg->vga_xres ? cfg->vga_xres : 1024;
    unsigned int y = cfg->vga_yres ? cfg->vga_yres : 768;
    bool on = cfg->vga_edid_set ? cfg->vga_edid : !cfg->machine_no_edid;

    if (!on || strcmp(cfg->vga, "VGA") != 0) {
        if (cfg->vga_xres || cfg->vga_yres) {
            DM_WARN("vga: xres/yres set the EDID's preferred mode, and this "
                    "VGA has no EDID (%s); add edid=on to use them",
                    cfg->vga_edid_set ? "edid=off" : "machine xenfv");
        }
        return 0;
    }
    if (vga_edid_build(v->edid, x, y, v->vga.vram_size) < 0) {
        DM_ERR("vga: xres=%u,yres=%u: the EDID's preferred mode must be "
               "640x480 to %ux%u and fit %u MiB of VRAM at 32 bpp", x, y,
               VBE_MAX_XRES, VBE_MAX_YRES, v->vga.vram_size >> 20);
        return -EINVAL;
    }
    v->has_edid = true;
    return 0;
}

static void
stdvga_register_bars(struct stdvga *v)
{
    struct pci_bar_info lfb = {
        .name = "vga-lfb", .type = PCI_BAR_MEM32, .prefetchable = true,
        .size = v->vga.vram_size, .ops = &stdvga_lfb_ops, .opaque = v,
    };
    struct pci_bar_info mmio = {
        .name = "vga-mmio", .type = PCI_BAR_MEM32,
        .size = STDVGA_MMIO_SIZE, .ops = &stdvga_mmio_ops, .opaque = v,
    };

    pci_register_bar(&v->pci, 0, &lfb);
    pci_register_bar(&v->pci, 2, &mmio);
    pci_register_rom(&v->pci, "vga-rom", v->rom, v->rom_len);
}

static int
stdvga_map_legacy(struct stdvga *v)
{
    struct dm *dm = v->dm;
    int rc;

    iomap_region_init(&v->ports, "vga-ports", STDVGA_PORTS_LEN,
                      &stdvga_port_ops, v);
    iomap_region_init(&v->vbe_ports, "vbe-ports", STDVGA_VBE_LEN,
                      &stdvga_vbe_ops, v);
    iomap_region_init(&v->window, "vga-window", STDVGA_WINDOW_LEN,
                      &stdvga_window_ops, v);
    rc = iomap_add(dm->pio, &v->ports, STDVGA_PORTS);
    if (rc < 0) {
        return rc;
    }
    rc = iomap_add(dm->pio, &v->vbe_ports, STDVGA_VBE_PORT);
    if (rc < 0) {
        return rc;
    }
    return iomap_add(dm->mmio, &v->window, STDVGA_WINDOW);
}

/* After the Xen platform device (00:02.0 on xenfv), like QEMU's "-device
 * VGA" taking the first free slot. */
static unsigned int
stdvga_devfn(struct dm *dm)
{
    unsigned int slot = STDVGA_FIRST_SLOT;

    while (slot < 31 && pci_bus_find(dm->board->pci, PCI_DEVFN(slot, 0))) {
        slot++;
    }
    return PCI_DEVFN(slot, 0);
}

static int
stdvga_setup(struct stdvga *v, const struct dm_config *cfg)
{
    size_t longs;
    int rc;

    rc = stdvga_vram_size(cfg, &v->vga.vram_size);
    if (rc < 0) {
        return rc;
    }
    rc = stdvga_edid_setup(v, cfg);
    if (rc < 0) {
        return rc;
    }
    rc = stdvga_load_rom(v);
    if (rc < 0) {
        return rc;
    }
    rc = stdvga_vram_init(v);
    if (rc < 0) {
        return rc;
    }
    longs = (v->vram_pages + VGA_BITS_PER_LONG - 1) / VGA_BITS_PER_LONG;
    v->vga.self_dirty = g_new0(unsigned long, longs);
    v->xen_dirty = g_new0(unsigned long, longs);
    v->vga.render = vga_render_new();
    v->vga.wrote = stdvga_wrote;
    v->vga.wrote_opaque = v;
    pci_dev_init(&v->pci, &stdvga_info);
    stdvga_register_bars(v);
    vga_reset(&v->vga);
    rc = stdvga_map_legacy(v);
    if (rc < 0) {
        return rc;
    }
    v->display = display_new(v->dm, &stdvga_display_ops, v);
    if (!v->display) {
        return -ENOMEM;
    }
    return pci_bus_add(v->dm->board->pci, &v->pci, stdvga_devfn(v->dm));
}

int
stdvga_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct stdvga *v;
    int rc;

    if (!cfg || !cfg->vga) {
        return 0;                   /* -vga none, or no -device VGA */
    }
    if (!dm->board->pci) {
        return -ENODEV;
    }
    v = g_new0(struct stdvga, 1);
    v->dm = dm;
    rc = stdvga_setup(v, cfg);
    if (rc < 0) {
        iomap_del(&v->ports);
        iomap_del(&v->vbe_ports);
        iomap_del(&v->window);
        stdvga_destroy(v);
        return rc;
    }
    dm_dev_register(dm, &v->dev, &stdvga_dev_ops, v, 0);
    return 0;
}
