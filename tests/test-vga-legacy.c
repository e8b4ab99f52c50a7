/*
 * Legacy VGA (hw/vga/vga.c, vga-render.c) driven as the BIOS drives it:
 * mode sets from the IBM VGA parameter tables, a font loaded into plane 2
 * through the buffered ring, text rendered and compared with a reference
 * computed here from the same font bytes, every write and read mode
 * against hand-computed plane contents, the DAC and attribute state
 * machines, modes 4 (CGA), 7 (mono text), 12h and 13h, VBE 16 colours
 * (planar, banked), chain 4 and odd/even addressing, the PEL mask and the
 * 8-bit DAC, CRTC start addresses that wrap, and a hostile register/memory
 * stream.
 */
#include <glib.h>
#include <string.h>

#include "dm/gmem.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/display.h"

struct vga_mode_regs {
    uint8_t misc;
    uint8_t sr[4];                  /* SR01-SR04 */
    uint8_t cr[25];
    uint8_t ar[21];
    uint8_t gr[9];
};

/* IBM VGA BIOS parameter tables (VGA Technical Reference, "Video BIOS"). */
static const struct vga_mode_regs mode3 = {
    0x67, { 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e,
      0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3,
      0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
      0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff },
};

static const struct vga_mode_regs mode12 = {
    0xe3, { 0x01, 0x0f, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3,
      0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
      0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
};

static const struct vga_mode_regs mode13 = {
    0x63, { 0x01, 0x0f, 0x00, 0x0e },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3,
      0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
      0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff },
};

/* Mode 7: monochrome text at B0000, 720x350, 9x14 cells, CRTC at 0x3B4. */
static const struct vga_mode_regs mode7 = {
    0xa6, { 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4d, 0x0b, 0x0c,
      0x00, 0x00, 0x00, 0x00, 0x83, 0x85, 0x5d, 0x28, 0x0d, 0x63, 0xba, 0xa3,
      0xff },
    { 0x00, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x10, 0x18, 0x18, 0x18,
      0x18, 0x18, 0x18, 0x18, 0x0e, 0x00, 0x0f, 0x08, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0a, 0x0f, 0xff },
};

/* Mode 4: CGA 320x200 in four colours, even rows at B8000, odd at BA000. */
static const struct vga_mode_regs mode4 = {
    0x63, { 0x09, 0x03, 0x00, 0x02 },
    { 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2,
      0xff },
    { 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13,
      0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x00, 0xff },
};

/* Mode 6: CGA 640x200 in two colours, even rows at B8000, odd at BA000,
 * one bit per pixel in plane 0. */
static const struct vga_mode_regs mode6 = {
    0x63, { 0x01, 0x01, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x00, 0x96, 0xb9, 0xc2,
      0xff },
    { 0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
      0x17, 0x17, 0x17, 0x17, 0x01, 0x00, 0x01, 0x00, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x0f, 0xff },
};

static struct t_machine *
vga_machine(void)
{
    const char *argv[] = { "-device", "VGA,vgamem_mb=16", NULL };
    struct t_opts o = { .argv = argv };

    return t_machine_new(&o);
}

static void
seq(struct t_machine *t, uint8_t i, uint8_t v)
{
    t_outw(t, 0x3c4, (uint16_t)(i | v << 8));
}

static void
gr(struct t_machine *t, uint8_t i, uint8_t v)
{
    t_outw(t, 0x3ce, (uint16_t)(i | v << 8));
}

static void
crtc(struct t_machine *t, uint8_t i, uint8_t v)
{
    t_outb(t, 0x3d4, i);
    t_outb(t, 0x3d5, v);
}

/* The BIOS's order: sequencer in reset, misc, sequencer, unlocked CRTC,
 * attribute controller (flip-flop reset first), graphics, display on.
 * The CRTC and input status 1 are at 0x3Bx when misc bit 0 is clear. */
static void
set_mode(struct t_machine *t, const struct vga_mode_regs *m)
{
    uint16_t crt = (m->misc & 1) ? 0x3d4 : 0x3b4;
    unsigned int i;

    seq(t, 0, 0x01);
    t_outb(t, 0x3c2, m->misc);
    for (i = 0; i < 4; i++) {
        seq(t, (uint8_t)(i + 1), m->sr[i]);
    }
    seq(t, 0, 0x03);
    t_outw(t, crt, 0x0011);
    for (i = 0; i < 25; i++) {
        t_outw(t, crt, (uint16_t)(i | m->cr[i] << 8));
    }
    (void)t_inb(t, (uint16_t)(crt + 6));
    for (i = 0; i < 21; i++) {
        t_outb(t, 0x3c0, (uint8_t)i);
        t_outb(t, 0x3c0, m->ar[i]);
    }
    for (i = 0; i < 9; i++) {
        gr(t, (uint8_t)i, m->gr[i]);
    }
    t_outb(t, 0x3c0, 0x20);
}

/* Posted writes to the window, as Xen sends them (xen-dm-interface 1.7). */
static void
buf_write(struct t_machine *t, uint32_t addr, uint8_t v)
{
    if (!t_buf_push(t, addr, 1, v)) {
        t_buf_kick(t);
        T_ASSERT(t_buf_push(t, addr, 1, v));
    }
}

static void
dac_set(struct t_machine *t, uint8_t idx, uint8_t r, uint8_t g, uint8_t b)
{
    t_outb(t, 0x3c8, idx);
    t_outb(t, 0x3c9, r);
    t_outb(t, 0x3c9, g);
    t_outb(t, 0x3c9, b);
}

/* What the display shows for a 6-bit DAC entry (QEMU's expansion). */
static uint32_t
c6to8(uint8_t v)
{
    return (uint32_t)((v << 2) | (v & 1) * 3);
}

static uint32_t
dac_rgb(const uint8_t (*dac)[3], unsigned int i)
{
    return c6to8(dac[i][0]) << 16 | c6to8(dac[i][1]) << 8 | c6to8(dac[i][2]);
}

static uint32_t
pixel(struct display *d, int x, int y)
{
    uint32_t *bits = pixman_image_get_data(display_image(d));
    int stride = pixman_image_get_stride(display_image(d)) / 4;

    T_EQ(PIXMAN_FORMAT_BPP(pixman_image_get_format(display_image(d))), 32);
    return bits[(size_t)y * stride + x] & 0xffffff;
}

/* Plane 2 font load the way SeaBIOS's stdvga_load_font does it. */
static void
load_font(struct t_machine *t, const uint8_t *font, unsigned int height)
{
    unsigned int c, y;

    seq(t, 2, 0x04);
    seq(t, 4, 0x07);
    gr(t, 4, 0x02);
    gr(t, 5, 0x00);
    gr(t, 6, 0x04);
    for (c = 0; c < 256; c++) {
        for (y = 0; y < height; y++) {
            buf_write(t, 0xa0000 + c * 32 + y, font[c * height + y]);
        }
    }
    t_buf_kick(t);
    seq(t, 2, 0x03);
    seq(t, 4, 0x02);
    gr(t, 4, 0x00);
    gr(t, 5, 0x10);
    gr(t, 6, 0x0e);
}

static void
text_setup(struct t_machine *t, uint8_t *font, uint8_t (*dac)[3],
           uint16_t *cells)
{
    GRand *rnd = g_rand_new_with_seed(1234);
    unsigned int i;

    for (i = 0; i < 256 * 16; i++) {
        font[i] = (uint8_t)g_rand_int(rnd);
    }
    for (i = 0; i < 64; i++) {
        dac[i][0] = (uint8_t)g_rand_int_range(rnd, 0, 64);
        dac[i][1] = (uint8_t)g_rand_int_range(rnd, 0, 64);
        dac[i][2] = (uint8_t)g_rand_int_range(rnd, 0, 64);
    }
    for (i = 0; i < 80 * 25; i++) {
        cells[i] = (uint16_t)g_rand_int(rnd);
    }
    memset(font, 0, 16);                /* character 0 is blank */
    cells[0] = 0x1fc4;                  /* line graphics: 9th column */
    cells[1] = 0x1f41;
    g_rand_free(rnd);
    set_mode(t, &mode3);
    for (i = 0; i < 64; i++) {
        dac_set(t, (uint8_t)i, dac[i][0], dac[i][1], dac[i][2]);
    }
    load_font(t, font, 16);
    for (i = 0; i < 80 * 25; i++) {
        buf_write(t, 0xb8000 + 2 * i, (uint8_t)cells[i]);
        buf_write(t, 0xb8000 + 2 * i + 1, (uint8_t)(cells[i] >> 8));
    }
    t_buf_kick(t);
}

/* The picture mode 3 must show, from the font and DAC bytes alone. */
static uint32_t
text_ref(const uint8_t *font, const uint8_t (*dac)[3], const uint16_t *cells,
         unsigned int x, unsigned int y, bool blink_on)
{
    uint16_t cell = cells[(y / 16) * 80 + x / 9];
    uint8_t c = (uint8_t)cell, a = (uint8_t)(cell >> 8);
    unsigned int fgi = a & 0x0f, bgi = (a >> 4) & 7, col = x % 9;
    uint8_t row = font[c * 16 + y % 16];
    bool on;

    if (col < 8) {
        on = (row >> (7 - col)) & 1;
    } else {
        on = c >= 0xc0 && c <= 0xdf && (row & 1);
    }
    if ((a & 0x80) && !blink_on) {
        on = false;
    }
    /* Mode 3's attribute palette: AR06 = 0x14, AR08-0F = 0x38-0x3F. */
    return dac_rgb(dac, mode3.ar[on ? fgi : bgi]);
}

T_TEST(vga_text_mode3_font_from_plane2)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    g_autofree uint8_t *font = g_malloc(256 * 16);
    uint8_t dac[64][3];
    uint16_t cells[80 * 25];
    unsigned int x, y;
    bool blink_on;

    text_setup(t, font, dac, cells);
    crtc(t, 0x0a, 0x20);                /* cursor off for the compare */
    display_refresh(d);
    T_EQ(display_width(d), 720);
    T_EQ(display_height(d), 400);
    blink_on = (t_clock_ns(t) / 533333334ull) & 1;
    for (y = 0; y < 400; y++) {
        for (x = 0; x < 720; x++) {
            uint32_t want = text_ref(font, dac, cells, x, y, blink_on);

            if (pixel(d, (int)x, (int)y) != want) {
                t_fail(__FILE__, __LINE__, "(%u,%u): 0x%06x != 0x%06x", x,
                       y, pixel(d, (int)x, (int)y), want);
            }
        }
    }
    t_machine_free(t);
}

/* The cursor: CR0A/CR0B scan lines of the CR0E/CR0F cell, blinking. */
T_TEST(vga_text_cursor)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    g_autofree uint8_t *font = g_malloc(256 * 16);
    uint8_t dac[64][3];
    uint16_t cells[80 * 25];
    unsigned int cell = 81, y, on = 0, off = 0, step;

    text_setup(t, font, dac, cells);
    cells[cell] = 0x0700;                   /* blank glyph, grey on black */
    buf_write(t, 0xb8000 + 2 * cell, 0);
    buf_write(t, 0xb8000 + 2 * cell + 1, 0x07);
    t_buf_kick(t);
    crtc(t, 0x0a, 0x0e);
    crtc(t, 0x0b, 0x0f);
    crtc(t, 0x0e, 0);
    crtc(t, 0x0f, (uint8_t)cell);
    for (step = 0; step < 8; step++) {
        uint32_t fg = dac_rgb(dac, mode3.ar[7]);
        uint32_t bg = dac_rgb(dac, 0);
        bool lit;

        t_clock_step(t, 150000000);
        display_refresh(d);
        lit = pixel(d, 9 + 3, 16 + 14) == fg;
        T_EQ(pixel(d, 9 + 3, 16 + 15), lit ? fg : bg);
        for (y = 0; y < 14; y++) {
            T_EQ(pixel(d, 9 + 3, (int)(16 + y)), bg);
        }
        on += lit;
        off += !lit;
    }
    T_ASSERT(on >= 2 && off >= 2);
    t_machine_free(t);
}

/* ---- planes ---------------------------------------------------------- */

static void
planes_fill(struct t_machine *t, uint32_t addr, const uint8_t v[4])
{
    unsigned int p;

    gr(t, 5, 0x00);
    gr(t, 1, 0x00);
    gr(t, 3, 0x00);
    gr(t, 8, 0xff);
    for (p = 0; p < 4; p++) {
        seq(t, 2, (uint8_t)(1u << p));
        t_writeb(t, addr, v[p]);
    }
    seq(t, 2, 0x0f);
}

static void
planes_expect(struct t_machine *t, uint32_t addr, uint8_t p0, uint8_t p1,
              uint8_t p2, uint8_t p3)
{
    uint8_t want[4] = { p0, p1, p2, p3 };
    unsigned int p;

    gr(t, 5, 0x00);
    for (p = 0; p < 4; p++) {
        gr(t, 4, (uint8_t)p);
        T_EQ(t_readb(t, addr), want[p]);
    }
}

static const uint8_t init_planes[4] = { 0x0f, 0x33, 0x55, 0xaa };

T_TEST(vga_write_modes_and_read_modes)
{
    struct t_machine *t = vga_machine();
    uint32_t a = 0xa0000 + 1234, b = 0xa0000 + 4321;

    set_mode(t, &mode12);
    planes_fill(t, a, init_planes);
    planes_expect(t, a, 0x0f, 0x33, 0x55, 0xaa);

    /* Mode 0: rotate 1, OR, set/reset on planes 0 and 2, bit mask F0. */
    (void)t_readb(t, a);
    gr(t, 0, 0x01);
    gr(t, 1, 0x05);
    gr(t, 3, (2 << 3) | 1);
    gr(t, 8, 0xf0);
    t_writeb(t, a, 0x81);
    planes_expect(t, a, 0xff, 0xf3, 0x55, 0xea);

    /* Mode 1: the latches of a copied to b. */
    planes_fill(t, a, init_planes);
    (void)t_readb(t, a);
    gr(t, 5, 0x01);
    t_writeb(t, b, 0x00);
    planes_expect(t, b, 0x0f, 0x33, 0x55, 0xaa);

    /* Mode 2: colour 0x0A to every plane's bits, bit mask 3C. */
    (void)t_readb(t, a);
    gr(t, 3, 0x00);
    gr(t, 8, 0x3c);
    gr(t, 5, 0x02);
    t_writeb(t, a, 0x0a);
    planes_expect(t, a, 0x03, 0x3f, 0x41, 0xbe);

    /* Mode 3: set/reset 0x6 through (bit mask F0 & data 3C). */
    planes_fill(t, a, init_planes);
    (void)t_readb(t, a);
    gr(t, 0, 0x06);
    gr(t, 8, 0xf0);
    gr(t, 5, 0x03);
    t_writeb(t, a, 0x3c);
    planes_expect(t, a, 0x0f, 0x33, 0x75, 0x8a);

    /* Mode 0 XOR and AND against the latches. */
    planes_fill(t, a, init_planes);
    (void)t_readb(t, a);
    gr(t, 3, 3 << 3);
    t_writeb(t, a, 0xff);
    planes_expect(t, a, 0xf0, 0xcc, 0xaa, 0x55);
    planes_fill(t, a, init_planes);
    (void)t_readb(t, a);
    gr(t, 3, 1 << 3);
    t_writeb(t, a, 0x3c);
    planes_expect(t, a, 0x0c, 0x30, 0x14, 0x28);

    /* Read mode 1: colour compare 0101b over all planes, then one. */
    planes_fill(t, a, init_planes);
    gr(t, 2, 0x05);
    gr(t, 7, 0x0f);
    gr(t, 5, 0x08);
    T_EQ(t_readb(t, a), 0x04);
    gr(t, 7, 0x01);
    T_EQ(t_readb(t, a), 0x0f);
    gr(t, 7, 0x00);
    T_EQ(t_readb(t, a), 0xff);
    t_machine_free(t);
}

/* GR06 memory map select: outside the window reads float, writes drop. */
T_TEST(vga_memory_map_select)
{
    struct t_machine *t = vga_machine();

    set_mode(t, &mode3);                    /* B8000, 32 KiB, odd/even */
    t_writeb(t, 0xb8000, 'A');
    t_writeb(t, 0xb8001, 0x1e);
    T_EQ(t_readb(t, 0xb8000), 'A');
    T_EQ(t_readb(t, 0xb8001), 0x1e);
    T_EQ(t_readb(t, 0xa0000), 0xff);
    T_EQ(t_readb(t, 0xb0000), 0xff);
    t_writeb(t, 0xb0000, 0x12);             /* dropped */
    gr(t, 6, 0x0a);                         /* B0000 */
    T_EQ(t_readb(t, 0xb0000), 'A');
    T_EQ(t_readb(t, 0xb8000), 0xff);
    t_machine_free(t);
}

T_TEST(vga_dac_and_attribute_state_machines)
{
    struct t_machine *t = vga_machine();
    unsigned int i;
    uint8_t a, b;

    t_outb(t, 0x3c2, 0x67);                 /* colour ports (misc bit 0) */
    dac_set(t, 5, 1, 2, 3);
    t_outb(t, 0x3c9, 4);                    /* entry 6, auto-increment */
    t_outb(t, 0x3c9, 5);
    t_outb(t, 0x3c9, 0x46);                 /* 6 bits kept */
    T_EQ(t_inb(t, 0x3c7) & 3, 0);
    T_EQ(t_inb(t, 0x3c8), 7);
    t_outb(t, 0x3c7, 5);
    T_EQ(t_inb(t, 0x3c7) & 3, 3);
    for (i = 1; i <= 6; i++) {
        T_EQ(t_inb(t, 0x3c9), i);
    }
    /* Attribute flip-flop: reset by input status 1, index then data. */
    (void)t_inb(t, 0x3da);
    t_outb(t, 0x3c0, 0x31);                 /* AR11 with PAS */
    t_outb(t, 0x3c0, 0x2a);
    T_EQ(t_inb(t, 0x3c0), 0x31);
    T_EQ(t_inb(t, 0x3c1), 0x2a);
    /* Retrace toggles so polling loops end. */
    a = t_inb(t, 0x3da);
    b = t_inb(t, 0x3da);
    T_EQ((a ^ b) & 0x08, 0x08);
    /* Mono ports are dead while the colour ones decode. */
    T_EQ(t_inb(t, 0x3b5), 0xff);
    /* CR11 bit 7 protects CR00-CR07 except CR07 bit 4. */
    crtc(t, 0x11, 0x80);
    crtc(t, 0x01, 0x12);
    crtc(t, 0x07, 0xff);
    t_outb(t, 0x3d4, 0x01);
    T_EQ(t_inb(t, 0x3d5), 0x00);
    t_outb(t, 0x3d4, 0x07);
    T_EQ(t_inb(t, 0x3d5), 0x10);
    t_machine_free(t);
}

/* Mode 13h: chain-4 bytes, each shown as 2x2 pixels at 640x400. */
T_TEST(vga_mode13h_chain4)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    unsigned int x, y;

    set_mode(t, &mode13);
    dac_set(t, 0x21, 0x3f, 0x10, 0x01);
    dac_set(t, 0x22, 0x00, 0x3f, 0x2a);
    for (y = 0; y < 200; y++) {
        for (x = 0; x < 320; x++) {
            if ((x + y) % 7 == 0) {
                buf_write(t, 0xa0000 + y * 320 + x, (x & 1) ? 0x21 : 0x22);
            }
        }
    }
    t_buf_kick(t);
    display_refresh(d);
    T_EQ(display_width(d), 640);
    T_EQ(display_height(d), 400);
    for (y = 0; y < 200; y++) {
        for (x = 0; x < 320; x++) {
            uint32_t want = (x + y) % 7 ? 0
                          : (x & 1) ? 0xff4007 : 0x00ffa8;

            T_EQ(pixel(d, (int)(2 * x), (int)(2 * y)), want);
            T_EQ(pixel(d, (int)(2 * x + 1), (int)(2 * y + 1)), want);
        }
    }
    t_machine_free(t);
}

/* Mode 12h: the BIOS's write-mode-2 pixel writes, 16 colours. */
T_TEST(vga_mode12h_planar)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    unsigned int i, x, y;

    set_mode(t, &mode12);
    for (i = 0; i < 64; i++) {
        dac_set(t, (uint8_t)i, (uint8_t)i, (uint8_t)(63 - i),
                (uint8_t)(i / 2));
    }
    gr(t, 5, 0x02);
    for (y = 0; y < 480; y += 3) {
        for (x = 0; x < 640; x += 5) {
            uint32_t addr = 0xa0000 + y * 80 + x / 8;

            gr(t, 8, (uint8_t)(0x80 >> (x % 8)));
            (void)t_readb(t, addr);
            t_writeb(t, addr, (uint8_t)((x + y) & 15));
        }
    }
    display_refresh(d);
    T_EQ(display_width(d), 640);
    T_EQ(display_height(d), 480);
    for (y = 0; y < 480; y += 3) {
        for (x = 0; x < 640; x += 5) {
            unsigned int c = mode12.ar[(x + y) & 15];
            uint32_t want = c6to8((uint8_t)c) << 16 |
                            c6to8((uint8_t)(63 - c)) << 8 |
                            c6to8((uint8_t)(c / 2));

            T_EQ(pixel(d, (int)x, (int)y), want);
        }
    }
    t_machine_free(t);
}

/* CGA graphics memory: even rows in the first 8 KiB, odd in the second. */
static uint32_t
cga_row(unsigned int y)
{
    return (y & 1) * 0x2000 + (y / 2) * 80;
}

/* The BIOS's way to fill the CGA window: 16 KiB at 0xB8000, shown
 * 640x400 (200 rows, each scanned twice). */
static void
cga_show(struct t_machine *t, struct display *d, const uint8_t mem[0x4000])
{
    for (uint32_t i = 0; i < 0x4000; i++) {
        buf_write(t, 0xb8000 + i, mem[i]);
    }
    t_buf_kick(t);
    display_refresh(d);
    T_EQ(display_width(d), 640);
    T_EQ(display_height(d), 400);
}

/* Mode 4: 2-bit pixels, CGA row interleave, each pixel shown 2x2. */
T_TEST(vga_mode4_cga)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    uint8_t mem[0x4000] = { 0 };
    unsigned int i, x, y;

    set_mode(t, &mode4);
    for (i = 0; i < 4; i++) {
        uint8_t c = mode4.ar[i];

        dac_set(t, c, (uint8_t)(c + 10), (uint8_t)(40 - c), (uint8_t)i);
    }
    for (y = 0; y < 200; y++) {
        for (x = 0; x < 320; x++) {
            unsigned int v = (x / 3 + y) & 3;
            uint32_t b = cga_row(y) + x / 4;

            mem[b] |= (uint8_t)(v << (6 - 2 * (x % 4)));
        }
    }
    cga_show(t, d, mem);
    for (y = 0; y < 200; y++) {
        for (x = 0; x < 320; x++) {
            uint8_t c = mode4.ar[(x / 3 + y) & 3];
            uint32_t want = c6to8((uint8_t)(c + 10)) << 16 |
                            c6to8((uint8_t)(40 - c)) << 8 |
                            c6to8((uint8_t)((x / 3 + y) & 3));

            T_EQ(pixel(d, (int)(2 * x), (int)(2 * y)), want);
            T_EQ(pixel(d, (int)(2 * x + 1), (int)(2 * y + 1)), want);
        }
    }
    t_machine_free(t);
}

static void
text_compare(struct t_machine *t, struct display *d, const uint8_t *font,
             const uint8_t (*dac)[3], const uint16_t *cells)
{
    bool blink_on = (t_clock_ns(t) / 533333334ull) & 1;
    unsigned int x, y;

    T_EQ(display_width(d), 720);
    T_EQ(display_height(d), 400);
    for (y = 0; y < 400; y++) {
        for (x = 0; x < 720; x++) {
            uint32_t want = text_ref(font, dac, cells, x, y, blink_on);

            if (pixel(d, (int)x, (int)y) != want) {
                t_fail(__FILE__, __LINE__, "(%u,%u): 0x%06x != 0x%06x", x,
                       y, pixel(d, (int)x, (int)y), want);
            }
        }
    }
}

/*
 * IBM VGA Attribute Address Register bit 5 (PAS): a palette load with it
 * clear (as the BIOS does) takes the palette from the display, which is
 * black at its size until PAS is set again; VRAM is not touched.
 */
T_TEST(vga_pas_clear_blanks_text)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    g_autofree uint8_t *font = g_malloc(256 * 16);
    uint8_t dac[64][3];
    uint16_t cells[80 * 25];
    unsigned int x, y;

    text_setup(t, font, dac, cells);
    crtc(t, 0x0a, 0x20);                /* cursor off for the compare */
    display_refresh(d);
    text_compare(t, d, font, dac, cells);
    (void)t_inb(t, 0x3da);
    t_outb(t, 0x3c0, 0x01);             /* AR01, PAS clear */
    t_outb(t, 0x3c0, mode3.ar[1]);
    T_EQ(t_inb(t, 0x3c0), 0x01);
    display_refresh(d);
    T_EQ(display_width(d), 720);
    T_EQ(display_height(d), 400);
    for (y = 0; y < 400; y++) {
        for (x = 0; x < 720; x++) {
            if (pixel(d, (int)x, (int)y)) {
                t_fail(__FILE__, __LINE__, "(%u,%u) is 0x%06x while PAS is "
                       "clear", x, y, pixel(d, (int)x, (int)y));
            }
        }
    }
    T_EQ(t_readb(t, 0xb8000 + 2), (uint8_t)cells[1]);
    t_outb(t, 0x3c0, 0x20);
    display_refresh(d);
    text_compare(t, d, font, dac, cells);
    t_machine_free(t);
}

/*
 * Mode 6: bit 7 of each byte is the leftmost pixel; 200 rows, each shown
 * twice (CR09 double scan) with the row scan counter picking the bank
 * (CR17 bit 0 clear), so all 200 rows appear once, in order.
 */
T_TEST(vga_mode6_cga_2colour)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    uint8_t mem[0x4000] = { 0 };
    unsigned int x, y;

    set_mode(t, &mode6);
    dac_set(t, 0x00, 0x01, 0x02, 0x03);         /* 07 08 0f */
    dac_set(t, 0x17, 0x3f, 0x2a, 0x15);         /* 6-bit: ff a8 57 */
    for (y = 0; y < 200; y++) {
        for (x = 0; x < 640; x++) {
            uint32_t b = cga_row(y) + x / 8;

            if ((x * 7 + y * 3) % 5 < 2) {
                mem[b] |= (uint8_t)(0x80 >> (x % 8));
            }
        }
    }
    cga_show(t, d, mem);
    for (y = 0; y < 200; y++) {
        for (x = 0; x < 640; x++) {
            uint32_t want = (x * 7 + y * 3) % 5 < 2 ? 0xffa857 : 0x07080f;

            T_EQ(pixel(d, (int)x, (int)(2 * y)), want);
            T_EQ(pixel(d, (int)x, (int)(2 * y + 1)), want);
        }
    }
    t_machine_free(t);
}

struct cell_rec {
    struct display_listener l;
    int updates, x, y, w, h;
};

static void
cell_update(struct display_listener *l, struct display *d, int x, int y,
            int w, int h)
{
    struct cell_rec *r = l->opaque;

    r->updates++;
    r->x = x, r->y = y, r->w = w, r->h = h;
}

static const struct display_listener_ops cell_ops = {
    .update = cell_update,
};

/* Only the cells that changed are reported, even after cursor moves. */
T_TEST(vga_text_dirty_cells)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    struct cell_rec r = { .l = { .ops = &cell_ops } };
    g_autofree uint8_t *font = g_malloc(256 * 16);
    uint8_t dac[64][3];
    uint16_t cells[80 * 25];

    r.l.opaque = &r;
    text_setup(t, font, dac, cells);
    crtc(t, 0x0a, 0x20);
    (void)t_inb(t, 0x3da);
    t_outb(t, 0x3c0, 0x30);                 /* AR10: no blink */
    t_outb(t, 0x3c0, 0x04);
    display_listener_add(d, &r.l);
    display_refresh(d);
    r.updates = 0;
    buf_write(t, 0xb8000 + 2 * (80 * 3 + 5), 'x');
    t_buf_kick(t);
    crtc(t, 0x0f, 0x10);
    display_refresh(d);
    T_EQ(r.updates, 1);
    T_EQ(r.x, 5 * 9);
    T_EQ(r.y, 3 * 16);
    T_EQ(r.w, 9);
    T_EQ(r.h, 16);
    r.updates = 0;
    display_refresh(d);
    T_EQ(r.updates, 0);
    display_listener_remove(d, &r.l);
    t_machine_free(t);
}

/* A hostile stream of port and window accesses, rendered as it goes. */
T_TEST(vga_hostile_register_stream)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    GRand *rnd = g_rand_new_with_seed(77);
    unsigned int i;

    set_mode(t, &mode3);
    for (i = 0; i < 40000; i++) {
        uint32_t r = g_rand_int(rnd);
        uint16_t port = (uint16_t)(0x3b0 + (r % 0x30));
        uint8_t v = (uint8_t)(r >> 8);

        switch ((r >> 16) % 5) {
        case 0:
            t_outb(t, port, v);
            break;
        case 1:
            (void)t_inb(t, port);
            break;
        case 2:
            buf_write(t, 0xa0000 + (g_rand_int(rnd) & 0x1ffff), v);
            break;
        case 3:
            (void)t_readb(t, 0xa0000 + (g_rand_int(rnd) & 0x1ffff));
            break;
        default:
            t_outw(t, 0x1ce, (uint16_t)(r % 12));
            t_outw(t, 0x1cf, (uint16_t)g_rand_int(rnd));
            break;
        }
        if (i % 500 == 0) {
            t_buf_kick(t);
            display_refresh(d);
            T_ASSERT(display_width(d) > 0 && display_height(d) > 0);
        }
    }
    t_buf_kick(t);
    display_refresh(d);
    g_rand_free(rnd);
    t_machine_free(t);
}

/* Live migration: hvmdm's own VRAM writes reach Xen's dirty log. */
T_TEST(vga_vram_writes_logged_during_migration)
{
    struct t_machine *t = vga_machine();
    char want[64];

    set_mode(t, &mode13);
    t_writeb(t, 0xa0000 + 4096 * 3 + 5, 1);
    T_EQ(t_hv_count(t, "modified"), 0);
    gm_set_log_dirty(t->dm->gm, 1);
    t_writeb(t, 0xa0000 + 4096 * 3 + 5, 2);
    g_snprintf(want, sizeof(want), "modified 0x%" PRIx64 " 1",
               (t_ram_size(t) >> 12) + 3);
    T_ASSERT(strstr(t_hv_log(t), want) != NULL);
    gm_set_log_dirty(t->dm->gm, 0);
    t_machine_free(t);
}

/* Mode 7: the BIOS's monochrome text mode, 9x14 cells from a 14-line font
 * in plane 2, attributes through AR00-AR0F (0x08 normal, 0x18 bright). */
T_TEST(vga_text_mode7_mono)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    static const uint8_t attrs[4] = { 0x07, 0x0f, 0x70, 0x78 };
    g_autofree uint8_t *font = g_malloc(256 * 14);
    GRand *rnd = g_rand_new_with_seed(7);
    uint16_t cells[80 * 25];
    unsigned int i, x, y;

    for (i = 0; i < 256 * 14; i++) {
        font[i] = (uint8_t)g_rand_int(rnd);
    }
    set_mode(t, &mode7);
    dac_set(t, 0x00, 0x00, 0x00, 0x00);
    dac_set(t, 0x08, 0x2a, 0x2a, 0x2a);
    dac_set(t, 0x10, 0x15, 0x15, 0x15);
    dac_set(t, 0x18, 0x3f, 0x3f, 0x3f);
    load_font(t, font, 14);
    gr(t, 6, mode7.gr[6]);                  /* back to B0000, 32 KiB */
    for (i = 0; i < 80 * 25; i++) {
        cells[i] = (uint16_t)((uint8_t)g_rand_int(rnd) |
                              attrs[g_rand_int_range(rnd, 0, 4)] << 8);
        buf_write(t, 0xb0000 + 2 * i, (uint8_t)cells[i]);
        buf_write(t, 0xb0000 + 2 * i + 1, (uint8_t)(cells[i] >> 8));
    }
    t_buf_kick(t);
    g_rand_free(rnd);
    t_outw(t, 0x3b4, 0x200a);               /* cursor off */
    T_EQ(t_readb(t, 0xb8000), 0xff);        /* B8000 does not decode */
    display_refresh(d);
    T_EQ(display_width(d), 720);
    T_EQ(display_height(d), 350);
    for (y = 0; y < 350; y++) {
        for (x = 0; x < 720; x++) {
            uint16_t cell = cells[(y / 14) * 80 + x / 9];
            uint8_t c = (uint8_t)cell, a = (uint8_t)(cell >> 8);
            uint8_t row = font[c * 14 + y % 14];
            bool on = x % 9 < 8 ? (row >> (7 - x % 9)) & 1
                                : c >= 0xc0 && c <= 0xdf && (row & 1);
            uint8_t dac = mode7.ar[on ? a & 0x0f : (a >> 4) & 7];
            uint8_t v = dac == 0x18 ? 0x3f : dac == 0x10 ? 0x15
                      : dac == 0x08 ? 0x2a : 0;
            uint32_t want = c6to8(v) * 0x010101u;

            if (pixel(d, (int)x, (int)y) != want) {
                t_fail(__FILE__, __LINE__, "(%u,%u): 0x%06x != 0x%06x", x,
                       y, pixel(d, (int)x, (int)y), want);
                t_machine_free(t);
                return;
            }
        }
    }
    t_machine_free(t);
}

static void
dispi(struct t_machine *t, uint16_t index, uint16_t val)
{
    t_outw(t, 0x1ce, index);
    t_outw(t, 0x1cf, val);
}

/*
 * VBE 16 colours (DISPI BPP 4) are planar, as SeaBIOS sets them up: the
 * legacy registers of an 800x600x16 mode first, then DISPI without the
 * LFB; pixels go through the banked window with write mode 2, banks count
 * planar addresses, colours go through the attribute palette.
 */
T_TEST(vga_vbe_4bpp_planar_banked)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    unsigned int i, x, y, bank = 0;

    set_mode(t, &mode12);
    for (i = 0; i < 64; i++) {
        dac_set(t, (uint8_t)i, (uint8_t)i, (uint8_t)(63 - i),
                (uint8_t)(i / 2));
    }
    dispi(t, 4, 0);
    dispi(t, 3, 4);
    dispi(t, 1, 1024);
    dispi(t, 2, 768);
    dispi(t, 5, 0);
    dispi(t, 6, 1024);
    dispi(t, 4, 0x01);
    gr(t, 5, 0x02);
    for (y = 0; y < 768; y += 7) {
        for (x = 0; x < 1024; x += 13) {
            uint32_t a = y * 128 + x / 8;

            if (a >> 16 != bank) {
                bank = a >> 16;
                dispi(t, 5, (uint16_t)bank);
            }
            gr(t, 8, (uint8_t)(0x80 >> (x % 8)));
            (void)t_readb(t, 0xa0000 + (a & 0xffff));
            t_writeb(t, 0xa0000 + (a & 0xffff), (uint8_t)((x + y) & 15));
        }
    }
    T_EQ(bank, 1);
    /* Read mode 0 through bank 1: plane 3 of the last word written. */
    gr(t, 5, 0x00);
    gr(t, 4, 3);
    T_EQ(t_readb(t, 0xa0000 + ((763 * 128 + 1014 / 8) & 0xffff)),
         ((763 + 1014) & 8) ? 0x80 >> (1014 % 8) : 0);
    display_refresh(d);
    T_EQ(display_width(d), 1024);
    T_EQ(display_height(d), 768);
    for (y = 0; y < 768; y += 7) {
        for (x = 0; x < 1024; x += 13) {
            unsigned int c = mode12.ar[(x + y) & 15];

            T_EQ(pixel(d, (int)x, (int)y),
                 c6to8((uint8_t)c) << 16 | c6to8((uint8_t)(63 - c)) << 8 |
                 c6to8((uint8_t)(c / 2)));
        }
    }
    T_EQ(pixel(d, 1, 0), c6to8(0) << 16 | c6to8(63) << 8 | c6to8(0));
    t_machine_free(t);
}

/* Chain 4 and odd/even place bytes in the planes as the VGA does: seen
 * again through planar reads (read map select). */
T_TEST(vga_chain4_and_odd_even_addressing)
{
    struct t_machine *t = vga_machine();

    set_mode(t, &mode13);                   /* chain 4: plane = addr & 3 */
    t_writeb(t, 0xa0000 + 4 * 9 + 2, 0x77);
    T_EQ(t_readb(t, 0xa0000 + 4 * 9 + 2), 0x77);
    seq(t, 4, 0x06);                        /* planar */
    gr(t, 5, 0x00);
    gr(t, 4, 2);
    T_EQ(t_readb(t, 0xa0000 + 9), 0x77);
    gr(t, 4, 1);
    T_EQ(t_readb(t, 0xa0000 + 9), 0x00);

    set_mode(t, &mode3);                    /* odd/even: plane = addr & 1 */
    t_writeb(t, 0xb8000 + 2 * 40, 'Q');
    t_writeb(t, 0xb8000 + 2 * 40 + 1, 0x1f);
    seq(t, 2, 0x01);                        /* map mask: plane 0 only */
    t_writeb(t, 0xb8000 + 2 * 41, 'R');
    t_writeb(t, 0xb8000 + 2 * 41 + 1, 0x2e);    /* plane 1: masked */
    seq(t, 2, 0x03);
    seq(t, 4, 0x06);
    gr(t, 5, 0x00);
    gr(t, 6, 0x05);                         /* A0000, 64 KiB, planar */
    gr(t, 4, 0);
    T_EQ(t_readb(t, 0xa0000 + 40), 'Q');
    T_EQ(t_readb(t, 0xa0000 + 41), 'R');
    gr(t, 4, 1);
    T_EQ(t_readb(t, 0xa0000 + 40), 0x1f);
    T_EQ(t_readb(t, 0xa0000 + 41), 0x00);   /* 0x2e was masked */
    gr(t, 4, 2);
    T_EQ(t_readb(t, 0xa0000 + 40), 0x00);   /* the font plane untouched */
    t_machine_free(t);
}

/* DAC: PEL mask on the displayed index, read-back wraps at entry 255,
 * a write sequence restarted midway, and 8-bit entries under DISPI's
 * 8BIT_DAC. */
T_TEST(vga_dac_pel_mask_wrap_and_8bit)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);

    set_mode(t, &mode13);
    dac_set(t, 0x21, 0x3f, 0x00, 0x00);
    dac_set(t, 0x01, 0x00, 0x3f, 0x00);
    t_writeb(t, 0xa0000, 0x21);
    display_refresh(d);
    T_EQ(pixel(d, 0, 0), 0xff0000);
    t_outb(t, 0x3c6, 0x0f);                 /* only the low 4 bits */
    display_refresh(d);
    T_EQ(pixel(d, 0, 0), 0x00ff00);
    T_EQ(t_inb(t, 0x3c6), 0x0f);
    t_outb(t, 0x3c6, 0xff);
    /* Entry 255 then 0 on one read sequence. */
    dac_set(t, 0xff, 1, 2, 3);
    dac_set(t, 0x00, 4, 5, 6);
    t_outb(t, 0x3c7, 0xff);
    T_EQ(t_inb(t, 0x3c9), 1);
    T_EQ(t_inb(t, 0x3c9), 2);
    T_EQ(t_inb(t, 0x3c9), 3);
    T_EQ(t_inb(t, 0x3c9), 4);
    /* A new write index drops the half-written entry. */
    t_outb(t, 0x3c8, 0x21);
    t_outb(t, 0x3c9, 0x00);
    t_outb(t, 0x3c8, 0x21);
    t_outb(t, 0x3c9, 0x00);
    t_outb(t, 0x3c9, 0x00);
    t_outb(t, 0x3c9, 0x3f);
    display_refresh(d);
    T_EQ(pixel(d, 0, 0), 0x0000ff);
    /* VBE 8 bpp with an 8-bit DAC: entries keep all 8 bits. */
    dispi(t, 4, 0);
    dispi(t, 3, 8);
    dispi(t, 1, 640);
    dispi(t, 2, 480);
    dispi(t, 4, 0x01 | 0x20 | 0x80);        /* 8BIT_DAC, NOCLEARMEM */
    dac_set(t, 0x21, 0xff, 0x80, 0x01);
    t_outb(t, 0x3c7, 0x21);
    T_EQ(t_inb(t, 0x3c9), 0xff);
    display_refresh(d);
    T_EQ(display_width(d), 640);
    T_EQ(pixel(d, 0, 0), 0xff8001);
    t_machine_free(t);
}

/*
 * CRTC start addresses at the top of the planes: the scan wraps at 64 Ki
 * words as on the VGA, never outside VRAM; huge offsets, scan lines and
 * display ends render without touching memory past VRAM (ASan run).
 */
T_TEST(vga_crtc_start_address_wraps)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    GRand *rnd = g_rand_new_with_seed(99);
    unsigned int i;

    set_mode(t, &mode13);
    dac_set(t, 0x21, 0x3f, 0x10, 0x01);
    t_writeb(t, 0xa0000, 0x21);
    crtc(t, 0x0c, 0xff);                    /* start: word 0xfff8 */
    crtc(t, 0x0d, 0xf8);
    display_refresh(d);
    /* 8 words (32 pixels, 64 shown) before the wrap to word 0. */
    T_EQ(pixel(d, 62, 0), 0);
    T_EQ(pixel(d, 64, 0), 0xff4007);
    T_EQ(pixel(d, 65, 1), 0xff4007);
    for (i = 0; i < 60; i++) {
        const struct vga_mode_regs *m = i % 3 == 0 ? &mode3
                                      : i % 3 == 1 ? &mode12 : &mode13;

        set_mode(t, m);
        crtc(t, 0x11, 0x00);
        crtc(t, (uint8_t)g_rand_int_range(rnd, 0, 0x19),
             (uint8_t)g_rand_int(rnd));
        crtc(t, 0x0c, (uint8_t)g_rand_int(rnd));
        crtc(t, 0x0d, (uint8_t)g_rand_int(rnd));
        crtc(t, 0x13, (uint8_t)g_rand_int(rnd));
        crtc(t, 0x09, (uint8_t)g_rand_int(rnd));
        crtc(t, 0x12, (uint8_t)g_rand_int(rnd));
        crtc(t, 0x07, (uint8_t)g_rand_int(rnd));
        crtc(t, 0x01, (uint8_t)g_rand_int(rnd));
        display_refresh(d);
        T_ASSERT(display_width(d) > 0 && display_height(d) > 0);
    }
    g_rand_free(rnd);
    t_machine_free(t);
}
