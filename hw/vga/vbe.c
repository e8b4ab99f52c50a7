/*
 * Bochs VBE "DISPI" registers (DISPI, bochs vgabios vbe_display_api.txt):
 * an index/data pair at 0x1CE/0x1CF (and in BAR2 at 0x500). A mode is
 * programmed with ENABLE clear, then ENABLE set; the geometry the guest
 * wrote is checked against VRAM at every write, so the renderer and the
 * bank window never see a mode that reaches past VRAM.
 */
#include "hw/vga/vga-int.h"

#include <string.h>

#include "dm/log.h"                 /* GUEST_ERR */

bool
vbe_enabled(const struct vga *s)
{
    return s->r.vbe_regs[VBE_INDEX_ENABLE] & VBE_ENABLED;
}

/* DISPI BPP: 4, 8, 15, 16, 24 or 32; anything else is taken as 8. */
static unsigned int
vbe_bpp(const struct vga *s)
{
    unsigned int bpp = s->r.vbe_regs[VBE_INDEX_BPP];

    switch (bpp) {
    case 4: case 8: case 15: case 16: case 24: case 32:
        return bpp;
    default:
        return 8;
    }
}

/* A 4 bpp mode: planar, 16 colours through the attribute palette. */
bool
vbe_planar(const struct vga *s)
{
    return vbe_bpp(s) == 4;
}

static uint32_t
vbe_line_bytes(unsigned int width, unsigned int bpp)
{
    return bpp == 4 ? width / 2 : width * ((bpp + 7) / 8);
}

/*
 * The mode as the hardware shows it, every number bounded: width a
 * multiple of 8 within 8..VBE_MAX_XRES, height 1..VBE_MAX_YRES, the
 * virtual width at least the width, and the visible window, from the
 * X/Y offsets, inside VRAM (otherwise the height shrinks, then the
 * offsets go to 0).
 */
bool
vbe_mode(const struct vga *s, struct vbe_mode *m)
{
    const uint16_t *v = s->r.vbe_regs;
    unsigned int vw;
    uint64_t start, need;

    if (!vbe_enabled(s)) {
        return false;
    }
    m->bpp = vbe_bpp(s);
    m->width = v[VBE_INDEX_XRES] & ~7u;
    m->width = m->width < 8 ? 8 : m->width > VBE_MAX_XRES ? VBE_MAX_XRES
                                                          : m->width;
    m->height = v[VBE_INDEX_YRES];
    m->height = m->height < 1 ? 1 : m->height > VBE_MAX_YRES ? VBE_MAX_YRES
                                                              : m->height;
    vw = v[VBE_INDEX_VIRT_WIDTH] < m->width ? m->width
                                            : v[VBE_INDEX_VIRT_WIDTH];
    m->line_offset = vbe_line_bytes(vw, m->bpp);
    if ((uint64_t)m->line_offset * m->height > s->vram_size) {
        m->line_offset = vbe_line_bytes(m->width, m->bpp);
    }
    if ((uint64_t)m->line_offset * m->height > s->vram_size) {
        m->height = s->vram_size / m->line_offset;
    }
    start = (uint64_t)v[VBE_INDEX_Y_OFFSET] * m->line_offset +
            vbe_line_bytes(v[VBE_INDEX_X_OFFSET], m->bpp);
    need = (uint64_t)m->line_offset * (m->height - 1) +
           vbe_line_bytes(m->width, m->bpp);
    m->start = start + need <= s->vram_size ? (uint32_t)start : 0;
    return true;
}

uint32_t
vbe_bank_offset(const struct vga *s)
{
    uint32_t banks = s->vram_size >> 16;

    return (uint32_t)(s->r.vbe_regs[VBE_INDEX_BANK] & (banks - 1)) << 16;
}

/* DISPI GETCAPS: XRES/YRES/BPP read the maxima while it is set. */
static uint16_t
vbe_caps(uint16_t index)
{
    switch (index) {
    case VBE_INDEX_XRES:
        return VBE_MAX_XRES;
    case VBE_INDEX_YRES:
        return VBE_MAX_YRES;
    default:
        return VBE_MAX_BPP;
    }
}

uint16_t
vbe_read(struct vga *s, uint16_t index)
{
    struct vbe_mode m;

    if (index >= VBE_INDEX_COUNT) {
        return 0;
    }
    if ((s->r.vbe_regs[VBE_INDEX_ENABLE] & VBE_GETCAPS) &&
        index >= VBE_INDEX_XRES && index <= VBE_INDEX_BPP) {
        return vbe_caps(index);
    }
    if (index == VBE_INDEX_VIRT_HEIGHT && vbe_mode(s, &m)) {
        uint32_t h = s->vram_size / m.line_offset;

        return (uint16_t)(h > 0xffff ? 0xffff : h);
    }
    return s->r.vbe_regs[index];
}

/*
 * DISPI ENABLE: setting it clears the visible area unless NOCLEARMEM,
 * and (as the Bochs hardware does) puts the legacy registers into a
 * graphics, chain-4 state so the bank window at 0xA0000 is linear; a
 * 4 bpp mode stays planar (the window takes the planar write modes).
 */
static void
vbe_enable(struct vga *s, uint16_t val)
{
    struct vbe_mode m;

    s->r.vbe_regs[VBE_INDEX_ENABLE] = val & (VBE_ENABLED | VBE_GETCAPS |
                                             VBE_8BIT_DAC | VBE_LFB_ENABLED |
                                             VBE_NOCLEARMEM);
    s->regs_dirty = true;
    s->palette_dirty = true;
    if (!vbe_mode(s, &m)) {
        return;
    }
    if (!(val & VBE_NOCLEARMEM)) {
        uint64_t n = (uint64_t)m.line_offset * m.height;

        memset(s->vram + m.start, 0, n > s->vram_size - m.start
                                     ? s->vram_size - m.start : n);
        vga_mark_dirty(s, m.start, (uint32_t)n);
    }
    s->r.gr[VGA_GR_MISC] = (uint8_t)((s->r.gr[VGA_GR_MISC] & ~0x0c) | 0x05);
    if (m.bpp == 4) {
        /* 16 colours are planar, as mode 12h: no chain 4, no dot/2. */
        s->r.gr[VGA_GR_MODE] &= (uint8_t)~0x70;
        s->r.sr[VGA_SR_CLOCK] &= (uint8_t)~0x08;
    } else {
        s->r.gr[VGA_GR_MODE] =
            (uint8_t)((s->r.gr[VGA_GR_MODE] & ~0x70) | 0x40);
        s->r.sr[VGA_SR_MEM_MODE] |= 0x08;
        s->r.sr[VGA_SR_MAP_MASK] = 0x0f;
    }
    s->r.ar[VGA_AR_MODE] |= 0x01;
}

void
vbe_write(struct vga *s, uint16_t index, uint16_t val)
{
    if (index >= VBE_INDEX_COUNT) {
        GUEST_ERR("vga: DISPI index %u does not exist", index);
        return;
    }
    switch (index) {
    case VBE_INDEX_ID:
        if (val >= VBE_ID0 && val <= VBE_ID5) {
            s->r.vbe_regs[index] = val;
        }
        return;
    case VBE_INDEX_ENABLE:
        vbe_enable(s, val);
        return;
    case VBE_INDEX_VIRT_HEIGHT:
    case VBE_INDEX_VIDEO_MEMORY_64K:
        return;                     /* read-only: derived from VRAM */
    default:
        s->r.vbe_regs[index] = val;
        s->regs_dirty = true;
        return;
    }
}
