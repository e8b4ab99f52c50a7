/*
 * The VGA renderer: brings the display surface (ui/display.h) up to date
 * with VRAM and the registers. VBE modes whose pixels pixman can read as
 * they are (15, 16, 24, 32 bpp with aligned lines) are wrapped without a
 * copy and only reported dirty; 8 bpp, 4 bpp and the legacy graphics modes
 * are converted line by line where VRAM pages changed; text modes are
 * drawn cell by cell from a shadow of the last drawn cells, with the font
 * read from plane 2 (IBM VGA "Alphanumeric Modes", "Character Map Select
 * Register").
 */
#include "hw/vga/vga-int.h"

#include <glib.h>
#include <string.h>

#include "ui/display.h"

#define VGA_PLANE_BYTES     0x40000u    /* 64 Ki words of four planes */
#define VGA_FONT_BYTES      (256 * 32)  /* one character map in plane 2 */
/* Cursor blink: 16 frames on, 16 off at 60 Hz; characters at half that
 * (IBM VGA "Cursor", "Attribute Mode Control Register" bit 3). */
#define VGA_CURSOR_PHASE_NS (266666667ull)
#define VGA_MAX_CELLS       (256 * 1024)

enum vga_kind { KIND_NONE, KIND_BLANK, KIND_TEXT, KIND_GRAPHIC, KIND_VBE };

struct vga_render {
    enum vga_kind kind;
    bool full;
    /* Geometry of the current image. */
    int width, height;
    unsigned int bpp;
    uint32_t line_offset, start;
    bool wrapped;
    uint32_t pal[256];
    /* Text mode. */
    unsigned int cols, rows, cw, ch;
    uint16_t *cells;                /* char | attr << 8 as last drawn */
    uint8_t cell_state[VGA_MAX_CELLS / 8];  /* bit: cell had cursor */
    uint8_t font[2][VGA_FONT_BYTES];
    uint8_t font_sel[2];            /* map each font copy came from */
    uint32_t cursor;                /* cell index, or UINT32_MAX */
    bool cursor_on, blink_on;
};

struct vga_render *
vga_render_new(void)
{
    struct vga_render *r = g_new0(struct vga_render, 1);

    r->cells = g_new0(uint16_t, VGA_MAX_CELLS);
    r->full = true;
    r->font_sel[0] = r->font_sel[1] = 0xff;
    return r;
}

void
vga_render_free(struct vga_render *r)
{
    if (r) {
        g_free(r->cells);
        g_free(r);
    }
}

void
vga_render_invalidate(struct vga *s)
{
    s->render->full = true;
    s->render->kind = KIND_NONE;
}

static uint32_t
vga_rgb(const struct vga *s, unsigned int idx)
{
    const uint8_t *p = &s->r.palette[3 * (idx & 0xff)];

    return 0xff000000u | (uint32_t)vga_dac_to_8(s, p[0]) << 16 |
           (uint32_t)vga_dac_to_8(s, p[1]) << 8 | vga_dac_to_8(s, p[2]);
}

/*
 * IBM VGA attribute palette: a 4-bit colour through AR00-AR0F, then
 * AR14 (colour select) with AR10 bit 7 (P5/P4 select), then the DAC.
 */
static void
vga_palette16(struct vga *s)
{
    struct vga_render *r = s->render;
    unsigned int i, v;

    for (i = 0; i < 16; i++) {
        v = s->r.ar[i];
        if (s->r.ar[VGA_AR_MODE] & 0x80) {
            v = ((s->r.ar[VGA_AR_COLOR_SELECT] & 0x0f) << 4) | (v & 0x0f);
        } else {
            v = ((s->r.ar[VGA_AR_COLOR_SELECT] & 0x0c) << 4) | (v & 0x3f);
        }
        r->pal[i] = vga_rgb(s, v & s->r.pel_mask);
    }
}

/* The colours in use; any change redraws everything. */
static void
vga_update_palette(struct vga *s)
{
    struct vga_render *r = s->render;
    uint32_t old[256];
    unsigned int i;

    memcpy(old, r->pal, sizeof(old));
    s->palette_dirty = false;
    if (s->r.gr[VGA_GR_MODE] & 0x40 || (vbe_enabled(s) && !vbe_planar(s))) {
        for (i = 0; i < 256; i++) {
            r->pal[i] = vga_rgb(s, i & s->r.pel_mask);
        }
    } else {
        vga_palette16(s);
    }
    if (memcmp(old, r->pal, sizeof(old))) {
        r->full = true;
    }
}

/*
 * IBM VGA "Attribute Address Register" bit 5 (PAS): 0 gives the host the
 * palette and takes it from the display, which goes blank (black, at the
 * size it had); this holds in the DISPI modes too, whose pixels pass the
 * same attribute controller stage (QEMU's std VGA blanks them as well;
 * bochs-drm sets PAS to unblank and clears it to blank).
 */
static enum vga_kind
vga_kind(const struct vga *s)
{
    if (!(s->r.ar_index & VGA_AR_PAS)) {
        return KIND_BLANK;
    }
    if (vbe_enabled(s)) {
        return KIND_VBE;
    }
    return (s->r.gr[VGA_GR_MISC] & 1) ? KIND_GRAPHIC : KIND_TEXT;
}

static bool
page_dirty(const struct vga *s, const unsigned long *dirty, uint32_t page)
{
    return !dirty || vga_test_bit(dirty, page) ||
           vga_test_bit(s->self_dirty, page);
}

static bool
range_dirty(const struct vga *s, const unsigned long *dirty, uint64_t off,
            uint64_t len)
{
    uint64_t p, last;

    if (!len) {
        return false;
    }
    if (off >= s->vram_size) {
        return false;
    }
    last = MIN(off + len - 1, (uint64_t)s->vram_size - 1);
    for (p = off >> VGA_PAGE_SHIFT; p <= last >> VGA_PAGE_SHIFT; p++) {
        if (page_dirty(s, dirty, (uint32_t)p)) {
            return true;
        }
    }
    return false;
}

/* Written from outside hvmdm (the dirty-VRAM log; NULL: everything). */
static bool
ext_dirty(const unsigned long *dirty, uint32_t off, uint32_t len)
{
    uint32_t p;

    for (p = off >> VGA_PAGE_SHIFT; dirty && p <= (off + len - 1) >>
         VGA_PAGE_SHIFT; p++) {
        if (vga_test_bit(dirty, p)) {
            return true;
        }
    }
    return !dirty;
}

/* (Re)size the surface when the geometry changed; true if it did. */
static bool
vga_set_size(struct vga *s, struct display *d, enum vga_kind kind, int w,
             int h)
{
    struct vga_render *r = s->render;

    if (r->kind == kind && r->width == w && r->height == h && !r->wrapped) {
        return false;
    }
    if (display_resize(d, w, h) < 0) {
        return false;
    }
    r->kind = kind;
    r->width = w;
    r->height = h;
    r->wrapped = false;
    r->full = true;
    return true;
}

/* ---- text ------------------------------------------------------------ */

bool
vga_text_geometry(const struct vga *s, unsigned int *cols,
                  unsigned int *rows, unsigned int *cw, unsigned int *ch)
{
    unsigned int vde = s->r.cr[VGA_CR_V_DISP_END] |
                       ((s->r.cr[VGA_CR_OVERFLOW] & 0x02) << 7) |
                       ((s->r.cr[VGA_CR_OVERFLOW] & 0x40) << 3);

    *ch = (s->r.cr[VGA_CR_MAX_SCAN] & 0x1f) + 1u;
    *cw = (s->r.sr[VGA_SR_CLOCK] & 0x01) ? 8 : 9;
    if (s->r.sr[VGA_SR_CLOCK] & 0x08) {
        *cw = 16;
    }
    *cols = s->r.cr[VGA_CR_H_DISP_END] + 1u;
    *rows = (vde + 1) / *ch;
    return *rows > 0 && *cols * *rows <= VGA_MAX_CELLS;
}

/* Plane 2 offset of character map sel (0..7), IBM VGA SR03. */
static uint32_t
vga_font_base(unsigned int sel)
{
    static const uint32_t base[8] = {
        0x0000, 0x4000, 0x8000, 0xc000, 0x2000, 0x6000, 0xa000, 0xe000,
    };

    return base[sel & 7];
}

/*
 * Copy the two selected character maps out of plane 2 when their pages
 * were written (or the selection moved); true if a glyph changed.
 */
static bool
vga_fetch_fonts(struct vga *s, const unsigned long *dirty)
{
    struct vga_render *r = s->render;
    uint8_t v = s->r.sr[VGA_SR_CHAR_MAP];
    unsigned int sel[2] = {
        ((v >> 4) & 1) | ((v << 1) & 6),      /* map A: attr bit 3 set */
        ((v >> 5) & 1) | ((v >> 1) & 6),      /* map B: attr bit 3 clear */
    };
    uint8_t font[VGA_FONT_BYTES];
    bool changed = false;
    unsigned int m, i;

    for (m = 0; m < 2; m++) {
        uint32_t w = vga_font_base(sel[m]);

        if (!r->full && r->font_sel[m] == sel[m] && !s->plane2_written &&
            !ext_dirty(dirty, 4 * w, 4 * VGA_FONT_BYTES)) {
            continue;
        }
        r->font_sel[m] = (uint8_t)sel[m];
        for (i = 0; i < VGA_FONT_BYTES; i++) {
            font[i] = s->vram[4 * (w + i) + 2];
        }
        if (memcmp(font, s->render->font[m], sizeof(font))) {
            memcpy(s->render->font[m], font, sizeof(font));
            changed = true;
        }
    }
    return changed;
}

static void
vga_draw_glyph(struct vga *s, struct display *d, unsigned int cx,
               unsigned int cy, uint16_t cell, bool cursor)
{
    struct vga_render *r = s->render;
    uint32_t *bits = pixman_image_get_data(display_image(d));
    int stride = pixman_image_get_stride(display_image(d)) / 4;
    uint8_t c = (uint8_t)cell, attr = (uint8_t)(cell >> 8);
    /* AR10 bit 3: attribute bit 7 blinks instead of a bright background. */
    bool blink = s->r.ar[VGA_AR_MODE] & 0x08;
    const uint8_t *glyph = r->font[(attr & 0x08) ? 0 : 1] + 32u * c;
    uint32_t fg = r->pal[attr & 0x0f];
    uint32_t bg = r->pal[blink ? (attr >> 4) & 7 : attr >> 4];
    /* AR10 bit 2: the 9th column repeats the 8th for C0h-DFh. */
    bool dup9 = (s->r.ar[VGA_AR_MODE] & 0x04) && c >= 0xc0 && c <= 0xdf;
    unsigned int cur0 = s->r.cr[VGA_CR_CURSOR_START] & 0x1f;
    unsigned int cur1 = MIN(s->r.cr[VGA_CR_CURSOR_END] & 0x1fu, r->ch - 1);
    unsigned int y, x;

    if (blink && (attr & 0x80) && !r->blink_on) {
        fg = bg;
    }
    for (y = 0; y < r->ch; y++) {
        unsigned int row = glyph[y];
        uint32_t *p = bits + (size_t)(cy * r->ch + y) * stride + cx * r->cw;

        if (cursor && y >= cur0 && y <= cur1) {
            row = 0x1ff;
        } else if (r->cw == 9) {
            row = (row << 1) | (dup9 ? row & 1 : 0);
        }
        for (x = 0; x < r->cw; x++) {
            unsigned int bit = r->cw == 16 ? (row >> (7 - x / 2)) & 1
                             : r->cw == 9 ? (row >> (8 - x)) & 1
                             : (row >> (7 - x)) & 1;

            p[x] = bit ? fg : bg;
        }
    }
}

/* IBM VGA CR0A bit 5 (cursor off), CR0E/CR0F (location). */
static uint32_t
vga_cursor_cell(const struct vga *s, uint32_t start, unsigned int ncells)
{
    const struct vga_render *r = s->render;
    uint32_t loc = (uint32_t)s->r.cr[VGA_CR_CURSOR_HI] << 8 |
                   s->r.cr[VGA_CR_CURSOR_LO];
    uint32_t off = (loc - start) & 0xffff;

    if ((s->r.cr[VGA_CR_CURSOR_START] & 0x20) || !r->cursor_on ||
        off >= ncells || (s->r.cr[VGA_CR_CURSOR_START] & 0x1f) >= r->ch) {
        return UINT32_MAX;
    }
    return off;
}

static void
vga_render_text(struct vga *s, struct display *d, const unsigned long *dirty,
                uint64_t now)
{
    struct vga_render *r = s->render;
    unsigned int cols, rows, cw, ch, cx, cy;
    uint32_t start = (uint32_t)s->r.cr[VGA_CR_START_HI] << 8 |
                     s->r.cr[VGA_CR_START_LO];
    uint32_t stride = s->r.cr[VGA_CR_OFFSET] * 2u, cursor;
    bool blink_on = (now / (2 * VGA_CURSOR_PHASE_NS)) & 1, blinked;

    if (!vga_text_geometry(s, &cols, &rows, &cw, &ch)) {
        return;
    }
    if (r->cols != cols || r->rows != rows || r->cw != cw || r->ch != ch ||
        r->start != start || r->line_offset != stride) {
        r->full = true;
    }
    r->cols = cols;
    r->rows = rows;
    r->cw = cw;
    r->ch = ch;
    r->start = start;
    r->line_offset = stride;
    vga_set_size(s, d, KIND_TEXT, (int)(cols * cw), (int)(rows * ch));
    r->full |= vga_fetch_fonts(s, dirty);
    blinked = blink_on != r->blink_on && (s->r.ar[VGA_AR_MODE] & 0x08);
    r->blink_on = blink_on;
    r->cursor_on = (now / VGA_CURSOR_PHASE_NS) & 1;
    cursor = vga_cursor_cell(s, start, cols * rows);
    for (cy = 0; cy < rows; cy++) {
        for (cx = 0; cx < cols; cx++) {
            uint32_t i = cy * cols + cx;
            uint32_t w = (start + cy * stride + cx) & 0xffff;
            uint16_t cell = (uint16_t)(s->vram[4 * w] |
                                       s->vram[4 * w + 1] << 8);
            bool cur = i == cursor;
            bool had = (r->cell_state[i / 8] >> (i % 8)) & 1;

            if (!r->full && cell == r->cells[i] && cur == had &&
                !(blinked && (cell & 0x8000))) {
                continue;
            }
            r->cells[i] = cell;
            r->cell_state[i / 8] = (uint8_t)((r->cell_state[i / 8] &
                                              ~(1u << (i % 8))) |
                                             (unsigned int)cur << (i % 8));
            vga_draw_glyph(s, d, cx, cy, cell, cur);
            display_dirty(d, (int)(cx * cw), (int)(cy * ch), (int)cw,
                          (int)ch);
        }
    }
    r->full = false;
}

/* ---- legacy graphics ------------------------------------------------- */

static uint32_t
vga_plane_word(const struct vga *s, uint32_t byte_addr)
{
    uint32_t w;

    memcpy(&w, s->vram + (byte_addr & (VGA_PLANE_BYTES - 4)), 4);
    return w;
}

/* Eight 4-bit pixels from one planar word (a byte per plane). */
static void
vga_planar_pixels(const struct vga *s, uint32_t *dst, uint32_t w, bool wide)
{
    const struct vga_render *r = s->render;
    uint8_t en = s->r.ar[VGA_AR_PLANE_ENABLE] & 0x0f;
    unsigned int k, p;

    for (k = 0; k < 8; k++) {
        unsigned int idx = 0;

        for (p = 0; p < 4; p++) {
            idx |= ((w >> (8 * p + 7 - k)) & 1) << p;
        }
        *dst++ = r->pal[idx & en];
        if (wide) {
            *dst++ = r->pal[idx & en];
        }
    }
}

/* GR05 bits 5-6 = 0: four planes give one 4-bit pixel per bit. */
static void
vga_line_planar(const struct vga *s, uint32_t *dst, uint32_t addr,
                unsigned int words, bool wide)
{
    unsigned int i;

    for (i = 0; i < words; i++, addr += 4) {
        vga_planar_pixels(s, dst, vga_plane_word(s, addr), wide);
        dst += wide ? 16 : 8;
    }
}

/* The same from a line the caller bounded inside VRAM (VBE 4 bpp). */
static void
vga_line_planar_at(const struct vga *s, uint32_t *dst, const uint8_t *src,
                   unsigned int words)
{
    unsigned int i;
    uint32_t w;

    for (i = 0; i < words; i++, src += 4, dst += 8) {
        memcpy(&w, src, 4);
        vga_planar_pixels(s, dst, w, false);
    }
}

/* GR05 bit 5: CGA 4-colour shift mode, 2 bits per pixel from planes 0/1
 * (and 2/3 for the upper bits). */
static void
vga_line_cga(const struct vga *s, uint32_t *dst, uint32_t addr,
             unsigned int words, bool wide)
{
    const struct vga_render *r = s->render;
    uint8_t en = s->r.ar[VGA_AR_PLANE_ENABLE] & 0x0f;
    unsigned int i, k;

    for (i = 0; i < words; i++, addr += 4) {
        uint32_t w = vga_plane_word(s, addr);

        for (k = 0; k < 8; k++) {
            unsigned int sh = 8 * (k / 4) + 6 - 2 * (k % 4);
            unsigned int idx = ((w >> sh) & 3) | (((w >> (sh + 16)) & 3) << 2);

            *dst++ = r->pal[idx & en];
            if (wide) {
                *dst++ = r->pal[idx & en];
            }
        }
    }
}

/* GR05 bit 6: 256 colours, one byte per pixel, each shown twice. */
static void
vga_line_256(const struct vga *s, uint32_t *dst, uint32_t addr,
             unsigned int words)
{
    const struct vga_render *r = s->render;
    unsigned int i, p;

    for (i = 0; i < words; i++, addr += 4) {
        uint32_t w = vga_plane_word(s, addr);

        for (p = 0; p < 4; p++) {
            uint32_t c = r->pal[(w >> (8 * p)) & 0xff];

            *dst++ = c;
            *dst++ = c;
        }
    }
}

/*
 * IBM VGA CR17 bits 0-1: in CGA/Hercules compatibility the row scan
 * counter's bits replace memory address bits 13 and 14.
 */
static uint32_t
vga_cga_addr(const struct vga *s, uint32_t addr, unsigned int y1)
{
    uint8_t mode = s->r.cr[VGA_CR_MODE];

    if (!(mode & 1)) {
        unsigned int shift = 14 + ((mode >> 6) & 1);

        addr = (addr & ~(1u << shift)) | ((y1 & 1u) << shift);
    }
    if (!(mode & 2)) {
        addr = (addr & ~0x8000u) | ((y1 & 2u) << 14);
    }
    return addr;
}

struct vga_gfx {
    unsigned int shift, width, height, words, multi_scan;
    bool wide;
    uint32_t start, line_offset, line_compare;
};

static void
vga_gfx_geometry(const struct vga *s, struct vga_gfx *g)
{
    const uint8_t *cr = s->r.cr;
    unsigned int dbl = cr[VGA_CR_MAX_SCAN] >> 7;

    g->shift = (s->r.gr[VGA_GR_MODE] >> 5) & 3;
    g->width = (cr[VGA_CR_H_DISP_END] + 1u) * 8;
    g->height = (cr[VGA_CR_V_DISP_END] | ((cr[VGA_CR_OVERFLOW] & 0x02) << 7) |
                 ((cr[VGA_CR_OVERFLOW] & 0x40) << 3)) + 1u;
    /* CR17 bit 0 clear (CGA interleave, modes 4-6): the row scan counter
     * picks the 8 KiB bank (vga_cga_addr), so each step of it is one
     * memory row and only the double scan repeats lines. */
    g->multi_scan = !(cr[VGA_CR_MODE] & 1) ? dbl
                  : (((cr[VGA_CR_MAX_SCAN] & 0x1fu) + 1) << dbl) - 1;
    g->wide = g->shift < 2 && (s->r.sr[VGA_SR_CLOCK] & 0x08);
    g->words = g->shift >= 2 ? g->width / 8 : g->width / 8;
    g->start = ((uint32_t)cr[VGA_CR_START_HI] << 8 | cr[VGA_CR_START_LO]) * 4;
    g->line_offset = cr[VGA_CR_OFFSET] * 8u;
    g->line_compare = cr[VGA_CR_LINE_COMPARE] |
                      ((cr[VGA_CR_OVERFLOW] & 0x10u) << 4) |
                      ((cr[VGA_CR_MAX_SCAN] & 0x40u) << 3);
}

static void
vga_render_graphic(struct vga *s, struct display *d,
                   const unsigned long *dirty)
{
    struct vga_render *r = s->render;
    struct vga_gfx g;
    uint32_t *bits;
    uint32_t addr1, addr, mask;
    unsigned int y, y1 = 0, run;
    int stride;

    vga_gfx_geometry(s, &g);
    vga_set_size(s, d, KIND_GRAPHIC, (int)(g.width << g.wide), (int)g.height);
    if (s->regs_dirty) {
        r->full = true;
    }
    bits = pixman_image_get_data(display_image(d));
    stride = pixman_image_get_stride(display_image(d)) / 4;
    addr1 = g.start;
    run = g.multi_scan;
    for (y = 0; y < g.height; y++) {
        addr = vga_cga_addr(s, addr1, y1) & (VGA_PLANE_BYTES - 1);
        if (r->full || range_dirty(s, dirty, addr, g.words * 4u)) {
            uint32_t *dst = bits + (size_t)y * stride;

            if (g.shift == 0) {
                vga_line_planar(s, dst, addr, g.words, g.wide);
            } else if (g.shift == 1) {
                vga_line_cga(s, dst, addr, g.words, g.wide);
            } else {
                vga_line_256(s, dst, addr, g.words);
            }
            display_dirty(d, 0, (int)y, (int)(g.width << g.wide), 1);
        }
        if (!run) {
            mask = (s->r.cr[VGA_CR_MODE] & 3) ^ 3;
            if ((y1 & mask) == mask) {
                addr1 += g.line_offset;
            }
            y1++;
            run = g.multi_scan;
        } else {
            run--;
        }
        if (y == g.line_compare) {
            addr1 = 0;
        }
    }
    r->full = false;
}

/* ---- VBE ------------------------------------------------------------- */

/* A format pixman reads straight from VRAM, or 0 to convert. */
static pixman_format_code_t
vbe_wrap_format(const struct vbe_mode *m)
{
    if (m->line_offset % 4 || m->start % 4) {
        return 0;
    }
    switch (m->bpp) {
    case 15:
        return PIXMAN_x1r5g5b5;
    case 16:
        return PIXMAN_r5g6b5;
    case 24:
        return PIXMAN_r8g8b8;
    case 32:
        return PIXMAN_x8r8g8b8;
    default:
        return 0;
    }
}

/*
 * 8 bpp through the DAC; 4 bpp is planar as the VGA's 16-colour modes
 * (one 32-bit word holds eight pixels, a byte per plane) through the
 * attribute palette and the plane enable register, as QEMU shows it.
 */
static void
vbe_line_convert(const struct vga *s, const struct vbe_mode *m,
                 uint32_t *dst, const uint8_t *src)
{
    const struct vga_render *r = s->render;
    unsigned int x;

    if (m->bpp == 4) {
        vga_line_planar_at(s, dst, src, m->width / 8);
        return;
    }
    for (x = 0; x < m->width; x++) {
        dst[x] = r->pal[src[x]];
    }
}

static bool
vbe_same(const struct vga_render *r, const struct vbe_mode *m)
{
    return r->kind == KIND_VBE && r->width == (int)m->width &&
           r->height == (int)m->height && r->bpp == m->bpp &&
           r->line_offset == m->line_offset && r->start == m->start;
}

static void
vbe_set_mode(struct vga *s, struct display *d, const struct vbe_mode *m)
{
    struct vga_render *r = s->render;
    pixman_format_code_t fmt = vbe_wrap_format(m);
    int rc;

    if (fmt) {
        rc = display_resize_wrap(d, (int)m->width, (int)m->height, fmt,
                                 s->vram + m->start, (int)m->line_offset);
    } else {
        rc = display_resize(d, (int)m->width, (int)m->height);
    }
    if (rc < 0) {
        return;
    }
    r->kind = KIND_VBE;
    r->width = (int)m->width;
    r->height = (int)m->height;
    r->bpp = m->bpp;
    r->line_offset = m->line_offset;
    r->start = m->start;
    r->wrapped = fmt != 0;
    r->full = true;
}

static void
vga_render_vbe(struct vga *s, struct display *d, const unsigned long *dirty)
{
    struct vga_render *r = s->render;
    struct vbe_mode m;
    uint32_t *bits;
    unsigned int y;
    int stride;

    if (!vbe_mode(s, &m)) {
        return;
    }
    if (!vbe_same(r, &m)) {
        vbe_set_mode(s, d, &m);
    }
    bits = pixman_image_get_data(display_image(d));
    stride = pixman_image_get_stride(display_image(d)) / 4;
    for (y = 0; y < m.height; y++) {
        /* 4 bpp: planar words start on a word (QEMU's start address). */
        uint64_t off = (m.bpp == 4 ? m.start & ~3u : m.start) +
                       (uint64_t)y * m.line_offset;
        uint32_t bytes = m.bpp == 4 ? m.width / 2 : m.width * ((m.bpp + 7) / 8);

        if (!r->full && !range_dirty(s, dirty, off, bytes)) {
            continue;
        }
        if (!r->wrapped) {
            vbe_line_convert(s, &m, bits + (size_t)y * stride,
                             s->vram + off);
        }
        display_dirty(d, 0, (int)y, (int)m.width, 1);
    }
    r->full = false;
}

/* ---- entry ------------------------------------------------------------ */

static void
vga_render_blank(struct vga *s, struct display *d)
{
    struct vga_render *r = s->render;
    int w = r->width > 0 ? r->width : 640, h = r->height > 0 ? r->height : 480;

    if (r->kind == KIND_BLANK && !r->full) {
        return;
    }
    if (display_resize(d, w, h) == 0) {
        r->kind = KIND_BLANK;
        r->wrapped = false;
        r->full = false;
    }
}

void
vga_render(struct vga *s, struct display *d, const unsigned long *dirty,
           uint64_t now_ns)
{
    struct vga_render *r = s->render;
    enum vga_kind kind = vga_kind(s);

    if (kind != r->kind) {
        r->full = true;
        s->palette_dirty = true;
    }
    vga_update_palette(s);
    switch (kind) {
    case KIND_VBE:
        vga_render_vbe(s, d, dirty);
        break;
    case KIND_GRAPHIC:
        vga_render_graphic(s, d, dirty);
        break;
    case KIND_TEXT:
        vga_render_text(s, d, dirty, now_ns);
        break;
    default:
        vga_render_blank(s, d);
        break;
    }
    s->regs_dirty = false;
    s->plane2_written = false;
    memset(s->self_dirty, 0,
           ((s->vram_size >> VGA_PAGE_SHIFT) + VGA_BITS_PER_LONG - 1) /
           VGA_BITS_PER_LONG * sizeof(unsigned long));
}
