/*
 * Legacy VGA: the register file behind ports 0x3B0-0x3DF and the four
 * planes behind 0xA0000-0xBFFFF (IBM VGA, "Video Subsystem"). The port
 * decode is one table indexed by port; memory accesses follow the
 * sequencer's memory mode and the graphics controller's read/write modes.
 * Everything a guest writes is masked to the register's width, and every
 * VRAM index is bounded by the plane size (64 KiB words) or vram_size.
 */
#include "hw/vga/vga-int.h"

#include <string.h>

#include "dm/log.h"                 /* GUEST_ERR */

#define VGA_PORT_BASE   0x3b0
#define VGA_PORT_COUNT  0x30
/* Words per plane: the VGA's 64 KiB of address space per plane. */
#define VGA_PLANE_WORDS 0x10000u

/* A byte replicated into the planes set in a 4-bit mask. */
static uint32_t
vga_expand4(unsigned int mask4)
{
    uint32_t v = 0;
    unsigned int p;

    for (p = 0; p < 4; p++) {
        if (mask4 & (1u << p)) {
            v |= 0xffu << (8 * p);
        }
    }
    return v;
}

static uint32_t
vga_expand_byte(uint8_t b)
{
    return b * 0x01010101u;
}

uint8_t
vga_dac_to_8(const struct vga *s, uint8_t v)
{
    if (s->r.vbe_regs[VBE_INDEX_ENABLE] & VBE_8BIT_DAC) {
        return v;
    }
    v &= 0x3f;
    return (uint8_t)((v << 2) | ((v & 1) << 1) | (v & 1));
}

void
vga_mark_dirty(struct vga *s, uint32_t off, uint32_t len)
{
    uint32_t p;

    if (!len || off >= s->vram_size) {
        return;
    }
    if (len > s->vram_size - off) {
        len = s->vram_size - off;
    }
    if (s->wrote) {
        s->wrote(s->wrote_opaque, off, len);
    }
    for (p = off >> VGA_PAGE_SHIFT; p <= (off + len - 1) >> VGA_PAGE_SHIFT;
         p++) {
        vga_set_bit(s->self_dirty, p);
    }
}

/* ---- registers ------------------------------------------------------- */

/* Is the CRTC at 0x3Dx (colour) or 0x3Bx (mono)? IBM VGA Miscellaneous
 * Output Register bit 0 (I/OAS). */
static bool
vga_port_ok(const struct vga *s, uint16_t port)
{
    bool color = s->r.misc & 1;

    if (port >= 0x3b0 && port <= 0x3bf) {
        return !color;
    }
    if (port >= 0x3d0 && port <= 0x3df) {
        return color;
    }
    return true;
}

struct vga_port {
    uint8_t (*read)(struct vga *s);
    void (*write)(struct vga *s, uint8_t val);
};

static uint8_t
ar_index_read(struct vga *s)
{
    return s->r.ar_index;
}

/* IBM VGA Attribute Address Register: index and data share the port; a
 * flip-flop (reset by reading input status 1) says which comes next. */
static void
ar_write(struct vga *s, uint8_t val)
{
    if (!s->r.ar_flip_flop) {
        s->r.ar_index = val & 0x3f;
    } else {
        unsigned int i = s->r.ar_index & 0x1f;
        static const uint8_t ar_mask[VGA_AR_COUNT] = {
            0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
            0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
            0xef, 0xff, 0x3f, 0x0f, 0x0f,
        };

        if (i < VGA_AR_COUNT) {
            s->r.ar[i] = val & ar_mask[i];
            s->palette_dirty = true;
        }
    }
    s->r.ar_flip_flop ^= 1;
}

static uint8_t
ar_data_read(struct vga *s)
{
    unsigned int i = s->r.ar_index & 0x1f;

    return i < VGA_AR_COUNT ? s->r.ar[i] : 0;
}

static uint8_t
st00_read(struct vga *s)
{
    return 0;
}

static void
misc_write(struct vga *s, uint8_t val)
{
    s->r.misc = val & 0xef;
    s->regs_dirty = true;
}

static uint8_t
misc_read(struct vga *s)
{
    return s->r.misc;
}

static uint8_t
sr_index_read(struct vga *s)
{
    return s->r.sr_index;
}

static void
sr_index_write(struct vga *s, uint8_t val)
{
    s->r.sr_index = val & 7;
}

static uint8_t
sr_data_read(struct vga *s)
{
    return s->r.sr[s->r.sr_index & 7];
}

/* Writable bits of each sequencer register (IBM VGA SR00-SR04). */
static const uint8_t sr_mask[VGA_SR_COUNT] = {
    0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0x00,
};

static void
sr_data_write(struct vga *s, uint8_t val)
{
    unsigned int i = s->r.sr_index & 7;

    s->r.sr[i] = val & sr_mask[i];
    s->regs_dirty = true;
}

static uint8_t
pel_mask_read(struct vga *s)
{
    return s->r.pel_mask;
}

static void
pel_mask_write(struct vga *s, uint8_t val)
{
    s->r.pel_mask = val;
    s->palette_dirty = true;
}

/* IBM VGA "DAC State Register": 3 after a read index, 0 after a write. */
static uint8_t
dac_state_read(struct vga *s)
{
    return s->r.dac_state;
}

static void
dac_read_index_write(struct vga *s, uint8_t val)
{
    s->r.dac_read_index = val;
    s->r.dac_sub_index = 0;
    s->r.dac_state = 3;
}

static uint8_t
dac_write_index_read(struct vga *s)
{
    return s->r.dac_write_index;
}

static void
dac_write_index_write(struct vga *s, uint8_t val)
{
    s->r.dac_write_index = val;
    s->r.dac_sub_index = 0;
    s->r.dac_state = 0;
}

/* Three reads (R, G, B) per entry, then the read index advances. */
static uint8_t
dac_data_read(struct vga *s)
{
    uint8_t v = s->r.palette[s->r.dac_read_index * 3 + s->r.dac_sub_index];

    if (++s->r.dac_sub_index == 3) {
        s->r.dac_sub_index = 0;
        s->r.dac_read_index++;
    }
    return v;
}

/* Three writes are collected, then the entry is written at once. */
static void
dac_data_write(struct vga *s, uint8_t val)
{
    bool wide = s->r.vbe_regs[VBE_INDEX_ENABLE] & VBE_8BIT_DAC;

    s->r.dac_cache[s->r.dac_sub_index] = wide ? val : (val & 0x3f);
    if (++s->r.dac_sub_index == 3) {
        memcpy(&s->r.palette[s->r.dac_write_index * 3], s->r.dac_cache, 3);
        s->r.dac_sub_index = 0;
        s->r.dac_write_index++;
        s->palette_dirty = true;
    }
}

static uint8_t
fcr_read(struct vga *s)
{
    return s->r.fcr;
}

static void
fcr_write(struct vga *s, uint8_t val)
{
    s->r.fcr = val & 0x0b;
}

static uint8_t
gr_index_read(struct vga *s)
{
    return s->r.gr_index;
}

static void
gr_index_write(struct vga *s, uint8_t val)
{
    s->r.gr_index = val & 0x0f;
}

/* Writable bits of GR00-GR08 (IBM VGA graphics controller). */
static const uint8_t gr_mask[VGA_GR_COUNT] = {
    0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff,
};

static uint8_t
gr_data_read(struct vga *s)
{
    return s->r.gr[s->r.gr_index & 0x0f];
}

static void
gr_data_write(struct vga *s, uint8_t val)
{
    unsigned int i = s->r.gr_index & 0x0f;

    s->r.gr[i] = val & gr_mask[i];
    s->regs_dirty = true;
}

static uint8_t
cr_index_read(struct vga *s)
{
    return s->r.cr_index;
}

static void
cr_index_write(struct vga *s, uint8_t val)
{
    s->r.cr_index = val;
}

static uint8_t
cr_data_read(struct vga *s)
{
    return s->r.cr_index < VGA_CR_COUNT ? s->r.cr[s->r.cr_index] : 0;
}

/* IBM VGA CR11 bit 7: CR00-CR07 are read-only, except CR07 bit 4. */
static void
cr_data_write(struct vga *s, uint8_t val)
{
    unsigned int i = s->r.cr_index;

    if (i >= VGA_CR_COUNT) {
        return;
    }
    if ((s->r.cr[VGA_CR_V_RETRACE_END] & 0x80) && i <= 7) {
        if (i == VGA_CR_OVERFLOW) {
            s->r.cr[i] = (uint8_t)((s->r.cr[i] & ~0x10) | (val & 0x10));
        }
        return;
    }
    s->r.cr[i] = val;
    s->regs_dirty = true;
}

/*
 * IBM VGA Input Status Register 1: bit 0 display disabled and bit 3
 * vertical retrace. They toggle on every read so polling loops that wait
 * for retrace, then for its end, finish. Reading resets the attribute
 * flip-flop.
 */
static uint8_t
st01_read(struct vga *s)
{
    s->r.st01 ^= 0x09;
    s->r.ar_flip_flop = 0;
    return s->r.st01;
}

static uint8_t
no_read(struct vga *s)
{
    return 0xff;
}

static void
no_write(struct vga *s, uint8_t val)
{
}

/* Ports 0x3B0-0x3DF; the 0x3Bx/0x3Dx halves answer per misc bit 0. */
static const struct vga_port vga_ports[VGA_PORT_COUNT] = {
    [0x04] = { cr_index_read, cr_index_write },
    [0x05] = { cr_data_read, cr_data_write },
    [0x0a] = { st01_read, fcr_write },
    [0x10] = { ar_index_read, ar_write },
    [0x11] = { ar_data_read, no_write },
    [0x12] = { st00_read, misc_write },
    [0x14] = { sr_index_read, sr_index_write },
    [0x15] = { sr_data_read, sr_data_write },
    [0x16] = { pel_mask_read, pel_mask_write },
    [0x17] = { dac_state_read, dac_read_index_write },
    [0x18] = { dac_write_index_read, dac_write_index_write },
    [0x19] = { dac_data_read, dac_data_write },
    [0x1a] = { fcr_read, no_write },
    [0x1c] = { misc_read, no_write },
    [0x1e] = { gr_index_read, gr_index_write },
    [0x1f] = { gr_data_read, gr_data_write },
    [0x24] = { cr_index_read, cr_index_write },
    [0x25] = { cr_data_read, cr_data_write },
    [0x2a] = { st01_read, fcr_write },
};

uint8_t
vga_ioport_read(struct vga *s, uint16_t port)
{
    unsigned int i = (unsigned int)(port - VGA_PORT_BASE);

    if (i >= VGA_PORT_COUNT || !vga_port_ok(s, port) ||
        !vga_ports[i].read) {
        return no_read(s);
    }
    return vga_ports[i].read(s);
}

void
vga_ioport_write(struct vga *s, uint16_t port, uint8_t val)
{
    unsigned int i = (unsigned int)(port - VGA_PORT_BASE);

    if (i >= VGA_PORT_COUNT || !vga_port_ok(s, port) ||
        !vga_ports[i].write) {
        return;
    }
    vga_ports[i].write(s, val);
}

/* ---- memory ---------------------------------------------------------- */

/*
 * IBM VGA GR06 bits 2-3 (memory map select): where the window decodes.
 * Returns the offset inside the window, or -1 for an address outside it.
 * A VBE bank adds its offset in the 64 KiB window (DISPI BANK).
 */
static int64_t
vga_window_offset(const struct vga *s, uint32_t addr)
{
    static const uint32_t base[4] = { 0x00000, 0x00000, 0x10000, 0x18000 };
    static const uint32_t size[4] = { 0x20000, 0x10000, 0x08000, 0x08000 };
    unsigned int map = (s->r.gr[VGA_GR_MISC] >> 2) & 3;

    if (addr < base[map] || addr - base[map] >= size[map]) {
        return -1;
    }
    addr -= base[map];
    if (map == 1) {
        return (int64_t)addr + vbe_bank_offset(s);
    }
    return addr;
}

static bool
vga_chain4(const struct vga *s)
{
    return s->r.sr[VGA_SR_MEM_MODE] & 0x08;
}

/* Odd/even writes: SR04 bit 2 clear (IBM VGA "Memory Mode Register"). */
static bool
vga_odd_even(const struct vga *s)
{
    return !(s->r.sr[VGA_SR_MEM_MODE] & 0x04);
}

/*
 * The planar word a window offset addresses: 64 Ki words per plane on the
 * VGA; a VBE 4 bpp mode's banks reach all of VRAM (as QEMU's std VGA,
 * whose bank offset counts planar addresses there).
 */
static uint32_t
vga_word_index(const struct vga *s, uint32_t word)
{
    return word % (vbe_enabled(s) ? s->vram_size / 4 : VGA_PLANE_WORDS);
}

static uint32_t *
vga_word(struct vga *s, uint32_t word)
{
    return (uint32_t *)(s->vram + 4u * vga_word_index(s, word));
}

/* IBM VGA GR05 read mode 1: colour compare against GR02, GR07 don't care. */
static uint8_t
vga_color_compare(const struct vga *s)
{
    uint32_t v = (s->r.latch ^ vga_expand4(s->r.gr[VGA_GR_COLOR_CMP])) &
                 vga_expand4(s->r.gr[VGA_GR_DONT_CARE]);

    v |= v >> 16;
    v |= v >> 8;
    return (uint8_t)~v;
}

uint8_t
vga_mem_read(struct vga *s, uint32_t addr)
{
    int64_t off = vga_window_offset(s, addr & 0x1ffff);
    unsigned int plane;

    if (off < 0) {
        return 0xff;
    }
    if (vga_chain4(s)) {
        return (uint64_t)off < s->vram_size ? s->vram[off] : 0xff;
    }
    if (s->r.gr[VGA_GR_MODE] & 0x10) {
        /* GR05 bit 4: host odd/even for reads (graphics controller). */
        plane = (s->r.gr[VGA_GR_READ_MAP] & 2) | (off & 1);
        return s->vram[4u * (((uint32_t)off >> 1) % VGA_PLANE_WORDS) +
                       plane];
    }
    s->r.latch = *vga_word(s, (uint32_t)off);
    if (s->r.gr[VGA_GR_MODE] & 0x08) {
        return vga_color_compare(s);
    }
    plane = s->r.gr[VGA_GR_READ_MAP] & 3;
    return (uint8_t)(s->r.latch >> (8 * plane));
}

/* GR03 bits 0-2: rotate right. */
static uint8_t
vga_rotate(const struct vga *s, uint8_t v)
{
    unsigned int n = s->r.gr[VGA_GR_ROTATE] & 7;

    return (uint8_t)((v >> n) | (v << (8 - n)));
}

/* GR03 bits 3-4 (function select), then GR08 (bit mask) against latches. */
static uint32_t
vga_alu(const struct vga *s, uint32_t v, uint8_t bit_mask)
{
    uint32_t mask = vga_expand_byte(bit_mask);

    switch ((s->r.gr[VGA_GR_ROTATE] >> 3) & 3) {
    case 1:
        v &= s->r.latch;
        break;
    case 2:
        v |= s->r.latch;
        break;
    case 3:
        v ^= s->r.latch;
        break;
    default:
        break;
    }
    return (v & mask) | (s->r.latch & ~mask);
}

/* The four plane bytes for one write, per GR05 write mode 0-3. */
static uint32_t
vga_write_value(const struct vga *s, uint8_t val)
{
    uint32_t sr = vga_expand4(s->r.gr[VGA_GR_SET_RESET]);
    uint32_t en = vga_expand4(s->r.gr[VGA_GR_EN_SET_RESET]);
    uint32_t v;

    switch (s->r.gr[VGA_GR_MODE] & 3) {
    case 0:
        v = vga_expand_byte(vga_rotate(s, val));
        v = (v & ~en) | (sr & en);
        return vga_alu(s, v, s->r.gr[VGA_GR_BIT_MASK]);
    case 1:
        return s->r.latch;
    case 2:
        return vga_alu(s, vga_expand4(val & 0x0f), s->r.gr[VGA_GR_BIT_MASK]);
    default:
        return vga_alu(s, sr, (uint8_t)(s->r.gr[VGA_GR_BIT_MASK] &
                                        vga_rotate(s, val)));
    }
}

static void
vga_write_planar(struct vga *s, uint32_t word, uint8_t val)
{
    uint32_t *p = vga_word(s, word);
    uint32_t mask = vga_expand4(s->r.sr[VGA_SR_MAP_MASK]);

    *p = (*p & ~mask) | (vga_write_value(s, val) & mask);
    s->plane2_written |= (s->r.sr[VGA_SR_MAP_MASK] & 4) != 0;
    vga_mark_dirty(s, 4u * vga_word_index(s, word), 4);
}

void
vga_mem_write(struct vga *s, uint32_t addr, uint8_t val)
{
    int64_t off = vga_window_offset(s, addr & 0x1ffff);
    unsigned int plane;
    uint32_t i;

    if (off < 0) {
        return;
    }
    if (vga_chain4(s)) {
        if ((uint64_t)off < s->vram_size &&
            (s->r.sr[VGA_SR_MAP_MASK] & (1u << (off & 3)))) {
            s->vram[off] = val;
            s->plane2_written |= (off & 3) == 2;
            vga_mark_dirty(s, (uint32_t)off, 1);
        }
        return;
    }
    if (vga_odd_even(s)) {
        /* SR04 bit 2 clear: odd/even for writes (sequencer). */
        plane = (s->r.gr[VGA_GR_READ_MAP] & 2) | (off & 1);
        if (s->r.sr[VGA_SR_MAP_MASK] & (1u << plane)) {
            i = 4u * (((uint32_t)off >> 1) % VGA_PLANE_WORDS) + plane;
            s->vram[i] = val;
            s->plane2_written |= plane == 2;
            vga_mark_dirty(s, i, 1);
        }
        return;
    }
    vga_write_planar(s, (uint32_t)off, val);
}

void
vga_reset(struct vga *s)
{
    memset(&s->r, 0, sizeof(s->r));
    s->r.pel_mask = 0xff;
    s->r.vbe_regs[VBE_INDEX_ID] = VBE_ID5;
    s->r.vbe_regs[VBE_INDEX_VIDEO_MEMORY_64K] =
        (uint16_t)(s->vram_size >> 16);
    s->palette_dirty = true;
    s->regs_dirty = true;
}
