/*
 * The standard VGA (hw/vga/): PCI identity and BARs as hvmloader programs
 * them, the Bochs VBE mode set through DISPI ports and BAR2, VRAM moving
 * under BAR0 with Xen's dirty-VRAM log driving the surface, hostile DISPI
 * values, screendump, and (further down) the legacy VGA planes and modes
 * against references the tests compute themselves.
 */
#include <errno.h>
#include <stddef.h>
#include <glib.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dm/machine.h"
#include "hw/board.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/display.h"
#include "ui/screendump.h"
#include "dm/dev.h"
#include "hw/pci/pci.h"
#include "hw/vga/vga-int.h"

#define VGA_BDF_NONE    0xffff
#define LFB_BASE        0xf0000000u
#define MMIO_BASE       0xf1000000u
#define ROM_BASE        0xf1010000u
#define VRAM_MB         16

/* DISPI (bochs vbe_display_api.txt). */
enum { ID, XRES, YRES, BPP, ENABLE, BANK, VIRT_W, VIRT_H, XOFF, YOFF,
       VMEM64K };
#define EN_ENABLED 0x01
#define EN_GETCAPS 0x02
#define EN_LFB     0x40
#define EN_NOCLEAR 0x80

static struct t_machine *
vga_machine(const char *dev)
{
    const char *argv[] = { "-device", dev, NULL };
    struct t_opts o = { .argv = argv };

    return t_machine_new(&o);
}

static unsigned int
vga_bdf(struct t_machine *t)
{
    for (unsigned int devfn = 0; devfn < 256; devfn += 8) {
        if (t_pcicfg_read(t, devfn, 0, 4) == 0x11111234u) {
            return devfn;
        }
    }
    return VGA_BDF_NONE;
}

/* hvmloader's order: size each BAR, place it, then enable decoding. */
static void
vga_place_bars(struct t_machine *t, unsigned int bdf)
{
    t_pcicfg_write(t, bdf, 0x10, 0xffffffff, 4);
    T_EQ(t_pcicfg_read(t, bdf, 0x10, 4), ~((VRAM_MB << 20) - 1u) | 0x8);
    t_pcicfg_write(t, bdf, 0x10, LFB_BASE, 4);
    t_pcicfg_write(t, bdf, 0x18, 0xffffffff, 4);
    T_EQ(t_pcicfg_read(t, bdf, 0x18, 4), 0xfffff000u);
    t_pcicfg_write(t, bdf, 0x18, MMIO_BASE, 4);
    t_pcicfg_write(t, bdf, 0x30, ROM_BASE | 1, 4);
    t_pcicfg_write(t, bdf, 0x04, 0x0003, 2);
}

static void
dispi_out(struct t_machine *t, uint16_t index, uint16_t val)
{
    t_outw(t, 0x1ce, index);
    t_outw(t, 0x1cf, val);
}

static uint16_t
dispi_in(struct t_machine *t, uint16_t index)
{
    t_outw(t, 0x1ce, index);
    return t_inw(t, 0x1cf);
}

static void
dispi_mmio_out(struct t_machine *t, uint16_t index, uint16_t val)
{
    t_writew(t, MMIO_BASE + 0x500 + 2u * index, val);
}

/* Display on (IBM VGA attribute address PAS), as bochs-drm's unblank:
 * input status 1 resets the flip-flop, then 0x20 to 0x3C0. */
static void
vga_unblank(struct t_machine *t, bool mmio)
{
    if (mmio) {
        (void)t_readb(t, MMIO_BASE + 0x400 + 0x1a);
        t_writeb(t, MMIO_BASE + 0x400, 0x20);
    } else {
        (void)t_inb(t, 0x3da);
        t_outb(t, 0x3c0, 0x20);
    }
}

/* The sequence SeaBIOS's bochsvga.c and Linux bochs-drm use. */
static void
vbe_set_mode(struct t_machine *t, bool mmio, uint16_t w, uint16_t h,
             uint16_t bpp, uint16_t flags)
{
    void (*out)(struct t_machine *, uint16_t, uint16_t) =
        mmio ? dispi_mmio_out : dispi_out;

    vga_unblank(t, mmio);
    out(t, ENABLE, 0);
    out(t, BPP, bpp);
    out(t, XRES, w);
    out(t, YRES, h);
    out(t, BANK, 0);
    out(t, VIRT_W, w);
    out(t, XOFF, 0);
    out(t, YOFF, 0);
    out(t, ENABLE, EN_ENABLED | EN_LFB | flags);
}

struct rec {
    struct display_listener l;
    int resizes, updates;
    int x0, y0, x1, y1;             /* union of updates */
};

static void
rec_resize(struct display_listener *l, struct display *d)
{
    ((struct rec *)l->opaque)->resizes++;
}

static void
rec_update(struct display_listener *l, struct display *d, int x, int y,
           int w, int h)
{
    struct rec *r = l->opaque;

    if (!r->updates++) {
        r->x0 = x, r->y0 = y, r->x1 = x + w, r->y1 = y + h;
        return;
    }
    r->x0 = MIN(r->x0, x);
    r->y0 = MIN(r->y0, y);
    r->x1 = MAX(r->x1, x + w);
    r->y1 = MAX(r->y1, y + h);
}

static const struct display_listener_ops rec_ops = {
    .resize = rec_resize,
    .update = rec_update,
};

static void
rec_clear(struct rec *r)
{
    r->resizes = r->updates = 0;
}

static uint32_t
pixel(struct display *d, int x, int y)
{
    pixman_image_t *img = display_image(d);
    uint32_t out;
    pixman_image_t *dst = pixman_image_create_bits(PIXMAN_x8r8g8b8, 1, 1,
                                                   &out, 4);

    pixman_image_composite32(PIXMAN_OP_SRC, img, NULL, dst, x, y, 0, 0, 0, 0,
                             1, 1);
    pixman_image_unref(dst);
    return out & 0xffffff;
}

/* Relocations of all of VRAM (the ROM's frames move too, pci-rom.c). */
static unsigned int
vram_moves(struct t_machine *t)
{
    g_auto(GStrv) lines = g_strsplit(t_hv_log(t), "\n", -1);
    g_autofree char *tail = g_strdup_printf(" %u", VRAM_MB << 8);
    unsigned int i, n = 0;

    for (i = 0; lines[i]; i++) {
        n += g_str_has_prefix(lines[i], "relocate ") &&
             g_str_has_suffix(lines[i], tail);
    }
    return n;
}

T_TEST(vga_pci_identity_and_bars)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    unsigned int bdf = vga_bdf(t);

    T_ASSERT(bdf != VGA_BDF_NONE);
    T_EQ(bdf >> 3, 2);
    T_EQ(t_pcicfg_read(t, bdf, 0x08, 4) >> 8, 0x030000);
    T_EQ(t_pcicfg_read(t, bdf, 0x2c, 4), 0x11001af4);
    vga_place_bars(t, bdf);
    /* ROM BAR: SeaBIOS's VGA BIOS, 55 AA and the VBE signature inside. */
    T_EQ(t_readw(t, ROM_BASE), 0xaa55);
    /* BAR2: QEMU extended registers (size, little endian). */
    T_EQ(t_readl(t, MMIO_BASE + 0x600), 8);
    T_EQ(t_readl(t, MMIO_BASE + 0x604), 0x1e1e1e1e);
    /* VRAM moved under BAR0, pinned write-back (XEN_DMOP 6). */
    T_ASSERT(t_gfn_extra(t, LFB_BASE >> 12));
    T_ASSERT(t_gfn_extra(t, (LFB_BASE >> 12) + (VRAM_MB << 8) - 1));
    T_ASSERT(!t_gfn_extra(t, t_ram_size(t) >> 12));
    T_EQ(vram_moves(t), 1);
    T_ASSERT(strstr(t_hv_log(t), "pin_cacheattr 0xf0000-0xf0fff 6"));
    /* Moving BAR0 moves VRAM again; disabling MEM sends it home. */
    t_pcicfg_write(t, bdf, 0x10, LFB_BASE + (VRAM_MB << 21), 4);
    T_ASSERT(t_gfn_extra(t, (LFB_BASE + (VRAM_MB << 21)) >> 12));
    t_pcicfg_write(t, bdf, 0x04, 0x0000, 2);
    T_ASSERT(t_gfn_extra(t, t_ram_size(t) >> 12));
    /* map, unmap + map (a move goes home first, as QEMU does), unmap */
    T_EQ(vram_moves(t), 4);
    t_machine_free(t);
}

static void
vbe_mode_set_and_draw(bool mmio)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    struct display *d = display_get(t->dm);
    struct rec r = { .l = { .ops = &rec_ops } };
    uint32_t px = 0x00123456;

    r.l.opaque = &r;
    vga_place_bars(t, vga_bdf(t));
    T_EQ(dispi_in(t, ID), 0xb0c5);
    dispi_out(t, ID, 0xb0c0);
    T_EQ(dispi_in(t, ID), 0xb0c0);
    dispi_out(t, ID, 0x1234);               /* not an id: ignored */
    T_EQ(dispi_in(t, ID), 0xb0c0);
    T_EQ(dispi_in(t, VMEM64K), VRAM_MB * 16);
    dispi_out(t, ENABLE, EN_GETCAPS);
    T_EQ(dispi_in(t, XRES), 2560);
    T_EQ(dispi_in(t, YRES), 1600);
    T_EQ(dispi_in(t, BPP), 32);
    vbe_set_mode(t, mmio, 1024, 768, 32, 0);
    T_EQ(dispi_in(t, XRES), 1024);
    T_EQ(dispi_in(t, VIRT_H), (VRAM_MB << 20) / 4096);
    display_listener_add(d, &r.l);
    display_refresh(d);
    T_EQ(display_width(d), 1024);
    T_EQ(display_height(d), 768);
    /* The guest CPU draws into the LFB: no ioreq reaches hvmdm. */
    t_memwrite(t, LFB_BASE + 4096u * 100 + 40, &px, 4);
    rec_clear(&r);
    display_refresh(d);
    T_EQ(pixel(d, 10, 100), 0x123456);
    T_EQ(r.updates, 1);
    T_EQ(r.y0, 100);
    T_EQ(r.y1, 101);
    rec_clear(&r);
    display_refresh(d);                      /* nothing changed */
    T_EQ(r.updates, 0);
    T_ASSERT(t_hv_count(t, "track_dirty 0xf0000 4096") >= 3);
    display_listener_remove(d, &r.l);
    T_ASSERT(strstr(t_hv_log(t), "track_dirty 0x0 0"));
    t_machine_free(t);
}

T_TEST(vga_vbe_1024x768x32_dispi_ports)
{
    vbe_mode_set_and_draw(false);
}

T_TEST(vga_vbe_1024x768x32_bar2_mmio)
{
    vbe_mode_set_and_draw(true);
}

/*
 * bochs-drm as Linux 6.1 drives it through BAR2: unblank through the VGA
 * block (input status 1 resets the flip-flop, then PAS), the mode, then
 * bochs_hw_setbase for a framebuffer object at 4 MiB: VIRT_WIDTH from the
 * pitch, X/Y offsets from the object's offset. The picture comes from
 * there, and on xenfv (libxl's machine with the platform device) the EDID
 * area reads empty, as QEMU's (bochs-drm then offers its 1024x768).
 */
T_TEST(vga_bochs_drm_setbase_through_bar2)
{
    const char *argv[] = { "-machine", "xenfv,suppress-vmdesc=on",
                           "-device", "VGA,vgamem_mb=16", NULL };
    struct t_opts o = { .argv = argv };
    struct t_machine *t = t_machine_new(&o);
    struct display *d = display_get(t->dm);
    struct rec r = { .l = { .ops = &rec_ops } };
    uint32_t fb = 4u << 20, pitch = 1024 * 4, px = 0x00abcdef;

    r.l.opaque = &r;
    vga_place_bars(t, vga_bdf(t));
    T_EQ(t_readl(t, MMIO_BASE + 0x600), 8);             /* QEXT size */
    T_EQ(t_readl(t, MMIO_BASE + 0x604), 0x1e1e1e1e);    /* little end. */
    T_EQ(t_readl(t, MMIO_BASE + 0x000), 0);             /* no EDID */
    T_EQ(t_readw(t, MMIO_BASE + 0x500 + 2 * ID), 0xb0c5);
    vbe_set_mode(t, true, 1024, 768, 32, 0);
    dispi_mmio_out(t, VIRT_W, (uint16_t)(pitch / 4));
    dispi_mmio_out(t, XOFF, (uint16_t)(fb % pitch / 4));
    dispi_mmio_out(t, YOFF, (uint16_t)(fb / pitch));
    t_memwrite(t, LFB_BASE + fb + 5 * pitch + 7 * 4, &px, 4);
    display_listener_add(d, &r.l);
    display_refresh(d);
    T_EQ(display_width(d), 1024);
    T_EQ(display_height(d), 768);
    T_EQ(pixel(d, 7, 5), 0xabcdef);
    T_EQ(pixel(d, 0, 0), 0);
    display_listener_remove(d, &r.l);
    t_machine_free(t);
}

/* Linux bochs-drm's bochs_hw_blank through BAR2: colour misc output, the
 * attribute flip-flop reset by input status 1, then the index with or
 * without PAS. */
static void
bochs_blank(struct t_machine *t, bool blank)
{
    t_writeb(t, MMIO_BASE + 0x400 + 0x02, 0x01);        /* 0x3C2 */
    (void)t_readb(t, MMIO_BASE + 0x400 + 0x1a);         /* 0x3DA */
    t_writeb(t, MMIO_BASE + 0x400, blank ? 0x00 : 0x20);
}

/*
 * IBM VGA Attribute Address Register bit 5 (PAS) clear blanks a DISPI
 * mode as well (as QEMU's std VGA does): black at the mode's size, VRAM
 * (the wrapped surface) untouched, guest drawing kept for the unblank.
 */
T_TEST(vga_pas_clear_blanks_vbe)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    struct display *d = display_get(t->dm);
    struct rec r = { .l = { .ops = &rec_ops } };
    uint32_t px = 0x00a1b2c3, px2 = 0x00102030, got = 0;

    r.l.opaque = &r;
    vga_place_bars(t, vga_bdf(t));
    vbe_set_mode(t, true, 640, 480, 32, 0);
    t_memwrite(t, LFB_BASE + (20 * 640 + 10) * 4, &px, 4);
    display_listener_add(d, &r.l);
    display_refresh(d);
    T_EQ(pixel(d, 10, 20), px);
    bochs_blank(t, true);
    rec_clear(&r);
    display_refresh(d);
    T_EQ(display_width(d), 640);
    T_EQ(display_height(d), 480);
    T_EQ(pixel(d, 10, 20), 0);
    T_ASSERT(r.resizes + r.updates > 0);
    t_memread(t, LFB_BASE + (20 * 640 + 10) * 4, &got, 4);
    T_EQ(got, px);
    t_memwrite(t, LFB_BASE + (40 * 640 + 30) * 4, &px2, 4);
    display_refresh(d);
    T_EQ(pixel(d, 30, 40), 0);
    bochs_blank(t, false);
    display_refresh(d);
    T_EQ(display_width(d), 640);
    T_EQ(pixel(d, 10, 20), px);
    T_EQ(pixel(d, 30, 40), px2);
    display_listener_remove(d, &r.l);
    t_machine_free(t);
}

static struct t_machine *
edid_machine(const char *machine, const char *dev)
{
    const char *argv[] = { "-machine", machine, "-device", dev, NULL };
    struct t_opts o = { .argv = argv };

    return t_machine_new(&o);
}

/* The EDID block as bochs-drm reads it (bochs_get_edid_block: readb). */
static void
edid_read(struct t_machine *t, uint8_t *e)
{
    unsigned int i, bdf = vga_bdf(t);

    t_pcicfg_write(t, bdf, 0x18, MMIO_BASE, 4);     /* BAR2 only */
    t_pcicfg_write(t, bdf, 0x04, 0x0002, 2);
    for (i = 0; i < 128; i++) {
        e[i] = t_readb(t, MMIO_BASE + i);
    }
    T_EQ(t_readl(t, MMIO_BASE + 8), (uint32_t)(e[8] | e[9] << 8 |
                                                e[10] << 16 | e[11] << 24));
    T_EQ(t_readb(t, MMIO_BASE + 128), 0);           /* no extension */
}

struct edid_dtd {
    unsigned int clock_khz, w, h, htotal, vtotal;
};

static void
edid_parse_dtd(const uint8_t *d, struct edid_dtd *m)
{
    m->clock_khz = (d[0] | d[1] << 8) * 10u;
    m->w = d[2] | (d[4] >> 4) << 8;
    m->h = d[5] | (d[7] >> 4) << 8;
    m->htotal = m->w + (d[3] | (d[4] & 0xf) << 8);
    m->vtotal = m->h + (d[6] | (d[7] & 0xf) << 8);
}

/* Descriptors 2-4: one range limits block covering the preferred timing
 * m and 640x480 at 60 Hz, one name. */
static void
edid_check_descriptors(const uint8_t *e, const struct edid_dtd *m)
{
    unsigned int i, ranges = 0, names = 0, khz = m->clock_khz / m->htotal;

    for (i = 72; i < 126; i += 18) {
        const uint8_t *d = e + i;

        T_ASSERT(d[0] == 0 && d[1] == 0 && d[2] == 0 && d[4] == 0);
        if (d[3] == 0xfd) {
            ranges++;
            T_ASSERT(d[5] <= 60 && d[6] >= 60);
            T_ASSERT(d[7] <= khz && d[8] >= khz);
            T_ASSERT(d[7] <= 31);           /* 640x480 at 60 Hz: 31.5 kHz */
            T_ASSERT(d[9] * 10000u >= m->clock_khz);
        } else if (d[3] == 0xfc) {
            names++;
            T_ASSERT(memchr(d + 5, 0x0a, 13) != NULL);
        }
    }
    T_EQ(ranges, 1);
    T_EQ(names, 1);
}

/*
 * VESA E-EDID 1.4 as a driver checks it: header, checksum, version, the
 * preferred detailed timing first (want_w x want_h at 60 Hz), a range
 * limits descriptor covering it and 640x480, a name, and every listed
 * timing inside the Bochs VBE limits and vram_mb of VRAM at 32 bpp.
 */
static void
edid_check(const uint8_t *e, unsigned int want_w, unsigned int want_h,
           unsigned int vram_mb)
{
    static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0 };
    static const unsigned int aspect[4][2] = { { 16, 10 }, { 4, 3 },
                                               { 5, 4 }, { 16, 9 } };
    struct edid_dtd m;
    unsigned int i, sum = 0, hz;

    T_ASSERT(memcmp(e, header, 8) == 0);
    for (i = 0; i < 128; i++) {
        sum += e[i];
    }
    T_EQ(sum % 256, 0);
    T_EQ(e[18], 1);
    T_EQ(e[19], 4);
    T_EQ(e[126], 0);
    for (i = 0; i < 3; i++) {               /* three letters A-Z */
        unsigned int c = ((e[8] << 8 | e[9]) >> (10 - 5 * i)) & 0x1f;

        T_ASSERT(c >= 1 && c <= 26);
    }
    T_ASSERT(e[24] & 0x02);                 /* preferred timing mode */
    edid_parse_dtd(e + 54, &m);
    T_EQ(m.w, want_w);
    T_EQ(m.h, want_h);
    T_ASSERT(m.clock_khz > 0);
    hz = (unsigned int)((uint64_t)m.clock_khz * 1000 / m.htotal / m.vtotal);
    T_ASSERT(hz >= 59 && hz <= 61);
    edid_check_descriptors(e, &m);
    T_ASSERT(e[35] & 0x20);                 /* 640x480 at 60 Hz */
    for (i = 38; i < 54; i += 2) {
        unsigned int w, h;

        if (e[i] == 0x01 && e[i + 1] == 0x01) {
            continue;
        }
        w = (e[i] + 31u) * 8;
        h = w * aspect[e[i + 1] >> 6][1] / aspect[e[i + 1] >> 6][0];
        T_EQ(e[i + 1] & 0x3f, 0);           /* 60 Hz */
        T_ASSERT(w >= 640 && w <= 2560 && h <= 1600);
        T_ASSERT((uint64_t)w * h * 4 <= (uint64_t)vram_mb << 20);
    }
}

/* Debian's edid-decode (scripts/install-deps) agrees, with no warning. */
static void
edid_decode_check(const uint8_t *e)
{
    g_autofree char *path = g_build_filename(g_get_tmp_dir(),
                                             "hvmdm-edid-XXXXXX", NULL);
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int fd = g_mkstemp(path), status = -1;
    char *argv[] = { "edid-decode", "--check", path, NULL };

    T_ASSERT(fd >= 0);
    T_EQ(write(fd, e, 128), 128);
    close(fd);
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                      &out, &err, &status, &gerr)) {
        t_fail(__FILE__, __LINE__, "edid-decode: %s (scripts/install-deps "
               "installs it)", gerr->message);
    }
    unlink(path);
    if (!strstr(out, "EDID conformity: PASS") || strstr(out, "Warnings:")) {
        t_fail(__FILE__, __LINE__, "edid-decode --check:\n%s%s", out, err);
    }
}

/* Standard timing slot for w (aspect code a), or -1 if not listed. */
static int
edid_std_slot(const uint8_t *e, unsigned int w, unsigned int a)
{
    for (int i = 38; i < 54; i += 2) {
        if (e[i] == w / 8 - 31 && e[i + 1] >> 6 == a) {
            return i;
        }
    }
    return -1;
}

/*
 * QEMU's std VGA has an EDID by default, not on xenfv (xenfv-3.1);
 * edid=on|off decides; xres/yres pick the preferred mode; the timings
 * offered fit VRAM.
 */
T_TEST(vga_edid_block)
{
    struct t_machine *t;
    uint8_t e[128];

    t = edid_machine("pc,accel=xen", "VGA,vgamem_mb=16");
    edid_read(t, e);
    edid_check(e, 1024, 768, 16);
    edid_decode_check(e);
    T_ASSERT(edid_std_slot(e, 1920, 0) >= 0);       /* 1920x1200 fits */
    t_machine_free(t);
    t = edid_machine("xenfv", "VGA,vgamem_mb=8,edid=on,xres=1280,yres=800");
    edid_read(t, e);
    edid_check(e, 1280, 800, 8);
    edid_decode_check(e);
    T_ASSERT(edid_std_slot(e, 1920, 3) >= 0);       /* 1920x1080: 7.9 MiB */
    T_ASSERT(edid_std_slot(e, 1920, 0) < 0);        /* 1920x1200: 8.8 MiB */
    t_machine_free(t);
    t = edid_machine("xenfv-4.2", "VGA,vgamem_mb=16");
    edid_read(t, e);
    edid_check(e, 1024, 768, 16);
    t_machine_free(t);
    t = edid_machine("pc,accel=xen", "VGA,vgamem_mb=16,edid=off");
    edid_read(t, e);
    T_EQ(e[0] | e[1] | e[7], 0);
    t_machine_free(t);
    t = edid_machine("xenfv-3.1", "VGA,vgamem_mb=16");
    edid_read(t, e);
    T_EQ(e[1], 0);
    /* The guest cannot write it. */
    t_writel(t, MMIO_BASE + 0, 0xffffffff);
    T_EQ(t_readl(t, MMIO_BASE + 0), 0);
    t_machine_free(t);
}

/* No listener: no timer, no dirty-log call, however much the guest draws. */
T_TEST(vga_unwatched_display_does_nothing)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    struct display *d = display_get(t->dm);
    uint64_t n = display_refresh_count(d);

    vga_place_bars(t, vga_bdf(t));
    vbe_set_mode(t, false, 800, 600, 32, 0);
    t_memset(t, LFB_BASE, 0x55, 800 * 600 * 4);
    t_clock_step(t, 5000000000ull);
    T_EQ(display_refresh_count(d), n);
    T_EQ(t_hv_count(t, "track_dirty"), 0);
    t_machine_free(t);
}

/* Migration owns log-dirty: ENODATA means redraw everything. */
T_TEST(vga_dirty_log_enodata_redraws_all)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    struct display *d = display_get(t->dm);
    struct rec r = { .l = { .ops = &rec_ops } };

    r.l.opaque = &r;
    vga_place_bars(t, vga_bdf(t));
    vbe_set_mode(t, false, 640, 480, 16, 0);
    display_listener_add(d, &r.l);
    display_refresh(d);
    rec_clear(&r);
    t_hv_set_logdirty(t, true);
    display_refresh(d);
    T_EQ(r.y0, 0);
    T_EQ(r.y1, 480);
    t_hv_set_logdirty(t, false);
    t_machine_free(t);
}

/* 8 bpp through the DAC, written through the 64 KiB bank window. */
T_TEST(vga_vbe_8bpp_banked_window)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    struct display *d = display_get(t->dm);

    vbe_set_mode(t, false, 640, 480, 8, 0);
    t_outb(t, 0x3c8, 7);
    t_outb(t, 0x3c9, 0x3f);
    t_outb(t, 0x3c9, 0x00);
    t_outb(t, 0x3c9, 0x2a);
    dispi_out(t, BANK, 2);                   /* bytes 0x20000.. */
    t_writeb(t, 0xa0000 + 5, 7);             /* (5, 204) */
    display_refresh(d);
    T_EQ(display_width(d), 640);
    /* 6-bit DAC to 8 bits as QEMU shows it: v << 2 | (v & 1) * 3. */
    T_EQ(pixel(d, 5 + (0x20000 % 640), 0x20000 / 640), 0xff00a8);
    T_EQ(t_readb(t, 0xa0005), 7);
    t_machine_free(t);
}

/* A hostile DISPI: every geometry stays inside VRAM, nothing crashes. */
T_TEST(vga_vbe_hostile_values)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    struct display *d = display_get(t->dm);
    struct rec r = { .l = { .ops = &rec_ops } };
    static const uint16_t vals[] = { 0, 1, 7, 0x7fff, 0x8000, 0xffff, 2561,
                                     4 };
    unsigned int i, k;

    r.l.opaque = &r;
    vga_place_bars(t, vga_bdf(t));
    display_listener_add(d, &r.l);
    for (i = 0; i < G_N_ELEMENTS(vals); i++) {
        for (k = XRES; k <= YOFF; k++) {
            if (k == ENABLE) {
                continue;
            }
            dispi_out(t, (uint16_t)k, vals[(i + k) % G_N_ELEMENTS(vals)]);
        }
        dispi_out(t, ENABLE, EN_ENABLED | EN_LFB);
        display_refresh(d);
        T_ASSERT(display_width(d) <= 2560 && display_height(d) <= 1600);
        T_ASSERT((uint64_t)pixman_image_get_stride(display_image(d)) *
                 (uint64_t)display_height(d) <= (VRAM_MB << 20));
        T_EQ(t_readb(t, 0xa0000 + 0xffff) | 0x100, 0x100 | t_readb(t,
                                                  0xa0000 + 0xffff));
        t_writeb(t, 0xaffff, 0x5a);
        dispi_out(t, 0x55, 1);               /* index past the end */
        T_EQ(dispi_in(t, 0x55), 0);
    }
    /* BPP 0 is taken as 8. */
    vbe_set_mode(t, false, 640, 480, 0, EN_NOCLEAR);
    display_refresh(d);
    T_EQ(display_width(d), 640);
    t_machine_free(t);
}

static void
read_ppm(const char *path, int *w, int *h, uint8_t **rgb)
{
    g_autofree char *data = NULL;
    gsize len;
    int n = 0;

    T_ASSERT(g_file_get_contents(path, &data, &len, NULL));
    T_ASSERT(sscanf(data, "P6\n%d %d\n255\n%n", w, h, &n) == 2 && n > 0);
    T_EQ(len, (gsize)n + (gsize)*w * *h * 3);
    *rgb = g_memdup2(data + n, (gsize)*w * *h * 3);
}

static void
read_png(const char *path, int *w, int *h, uint8_t **rgb)
{
    png_image img = { .version = PNG_IMAGE_VERSION };

    T_ASSERT(png_image_begin_read_from_file(&img, path));
    img.format = PNG_FORMAT_RGB;
    *w = (int)img.width;
    *h = (int)img.height;
    *rgb = g_malloc(PNG_IMAGE_SIZE(img));
    T_ASSERT(png_image_finish_read(&img, NULL, *rgb, 0, NULL));
}

T_TEST(vga_screendump_ppm_and_png)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    struct display *d = display_get(t->dm);
    g_autofree char *dir = g_dir_make_tmp("vga-XXXXXX", NULL);
    g_autofree char *ppm = g_build_filename(dir, "s.ppm", NULL);
    g_autofree char *pngf = g_build_filename(dir, "s.png", NULL);
    char err[256];
    uint16_t px[2] = { 0xf800, 0x07e0 };     /* red, green in RGB565 */
    uint8_t *a, *b;
    int w, h, w2, h2;

    vga_place_bars(t, vga_bdf(t));
    vbe_set_mode(t, false, 320, 240, 16, 0);
    t_memwrite(t, LFB_BASE + 320 * 2 * 7 + 2 * 3, px, sizeof(px));
    T_EQ(display_screendump(d, ppm, false, err, sizeof(err)), 0);
    T_EQ(display_screendump(d, pngf, true, err, sizeof(err)), 0);
    read_ppm(ppm, &w, &h, &a);
    read_png(pngf, &w2, &h2, &b);
    T_EQ(w, 320);
    T_EQ(h, 240);
    T_EQ(w2, 320);
    T_EQ(h2, 240);
    T_ASSERT(memcmp(a, b, (size_t)w * h * 3) == 0);
    T_EQ(a[(7 * 320 + 3) * 3], 0xff);
    T_EQ(a[(7 * 320 + 3) * 3 + 1], 0);
    T_EQ(a[(7 * 320 + 4) * 3 + 1], 0xff);
    T_EQ(a[0], 0);
    T_ASSERT(display_screendump(d, "/nonexistent/x.ppm", false, err,
                                sizeof(err)) < 0);
    T_ASSERT(strstr(err, "/nonexistent/x.ppm"));
    g_free(a);
    g_free(b);
    unlink(ppm);
    unlink(pngf);
    rmdir(dir);
    t_machine_free(t);
}

T_TEST(vga_state_round_trip)
{
    struct t_machine *a = vga_machine("VGA,vgamem_mb=16");
    struct t_machine *b = vga_machine("VGA,vgamem_mb=16");

    vga_place_bars(a, vga_bdf(a));
    vbe_set_mode(a, false, 800, 600, 24, 0);
    t_outb(a, 0x3c8, 3);
    t_outb(a, 0x3c9, 1);
    t_outb(a, 0x3c9, 2);
    t_state_round_trip(a, b);
    T_EQ(dispi_in(b, XRES), 800);
    t_machine_free(a);
    t_machine_free(b);
}

T_TEST(vga_none_and_cirrus)
{
    const char *none[] = { "-vga", "none", NULL };
    struct t_opts o = { .argv = none };
    struct t_machine *t = t_machine_new(&o);

    T_ASSERT(display_get(t->dm) == NULL);
    T_EQ(vga_bdf(t), VGA_BDF_NONE);
    t_machine_free(t);
    t = vga_machine("cirrus-vga,vgamem_mb=8");
    T_ASSERT(vga_bdf(t) != VGA_BDF_NONE);
    T_EQ(dispi_in(t, VMEM64K), 8 * 16);
    t_machine_free(t);
}

/* Saved state is untrusted: impossible values are refused; anything
 * check() accepts renders without reaching outside VRAM. */
T_TEST(vga_state_check_and_hostile_load)
{
    struct t_machine *t = vga_machine("VGA,vgamem_mb=16");
    struct dm_dev *dev = t_find_dev(t, "vga");
    struct display *d = display_get(t->dm);
    size_t regs = sizeof(struct pci_dev_state);
    g_autofree uint8_t *rec = NULL, *good = NULL;
    GRand *rnd = g_rand_new_with_seed(99);
    unsigned int i, k;

    T_ASSERT(dev != NULL);
    rec = g_malloc0(dev->ops->state_size);
    good = g_malloc0(dev->ops->state_size);
    dev->ops->save(dev->opaque, good);
    T_EQ(dev->ops->check(good), 0);
    memcpy(rec, good, dev->ops->state_size);
    rec[regs + offsetof(struct vga_regs, dac_sub_index)] = 3;
    T_EQ(dev->ops->check(rec), -EINVAL);
    memcpy(rec, good, dev->ops->state_size);
    rec[regs + offsetof(struct vga_regs, sr_index)] = 8;
    T_EQ(dev->ops->check(rec), -EINVAL);
    memcpy(rec, good, dev->ops->state_size);
    rec[regs + offsetof(struct vga_regs, ar_flip_flop)] = 2;
    T_EQ(dev->ops->check(rec), -EINVAL);
    memcpy(rec, good, dev->ops->state_size);
    rec[regs + sizeof(struct vga_regs)] ^= 1;     /* VRAM size */
    T_EQ(dev->ops->check(rec), -EINVAL);
    for (i = 0; i < 24; i++) {
        struct vga_regs *r;

        memcpy(rec, good, dev->ops->state_size);
        r = (struct vga_regs *)(rec + regs);
        for (k = 0; k < sizeof(*r); k++) {
            ((uint8_t *)r)[k] = (uint8_t)g_rand_int(rnd);
        }
        r->dac_sub_index %= 3;
        r->dac_state = 0;
        r->ar_flip_flop &= 1;
        r->sr_index &= 7;
        r->gr_index &= 15;
        r->ar_index &= 0x3f;
        r->vbe_regs[VBE_INDEX_VIDEO_MEMORY_64K] = VRAM_MB * 16;
        T_EQ(dev->ops->check(rec), 0);
        dev->ops->load(dev->opaque, rec);
        display_refresh(d);
        (void)t_readb(t, 0xa0000 + (g_rand_int(rnd) & 0x1ffff));
        t_writeb(t, 0xa0000 + (g_rand_int(rnd) & 0x1ffff), 0x5a);
        display_refresh(d);
    }
    g_rand_free(rnd);
    t_machine_free(t);
}
