/*
 * The VGA core shared by the std VGA PCI device (hw/vga/stdvga.c): the
 * legacy registers and planes (hw/vga/vga.c), the Bochs VBE DISPI
 * registers (hw/vga/vbe.c) and the renderer into the display surface
 * (hw/vga/vga-render.c).
 *
 * References: IBM "VGA Technical Reference" (Personal System/2 Hardware
 * Interface Technical Reference, 1988, section "Video Subsystem"), cited
 * as "IBM VGA" with the register name; the Bochs VBE DISPI interface
 * (bochs vgabios "vbe_display_api.txt"), cited as "DISPI".
 *
 * VRAM layout: plane p of VGA word address a is byte 4 * a + p, so
 * chain-4 and VBE modes see VRAM as linear bytes, and planar modes see
 * one 32-bit word (four planes) per address.
 */
#ifndef HW_VGA_VGA_INT_H
#define HW_VGA_VGA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct display;

/* Sequencer registers (IBM VGA "Sequencer Registers"). */
#define VGA_SR_RESET        0x00
#define VGA_SR_CLOCK        0x01    /* bit 0: 8-dot chars, bit 3: dot/2 */
#define VGA_SR_MAP_MASK     0x02
#define VGA_SR_CHAR_MAP     0x03
#define VGA_SR_MEM_MODE     0x04    /* bit 2: no odd/even, bit 3: chain 4 */
#define VGA_SR_COUNT        8

/* Graphics controller (IBM VGA "Graphics Controller Registers"). */
#define VGA_GR_SET_RESET    0x00
#define VGA_GR_EN_SET_RESET 0x01
#define VGA_GR_COLOR_CMP    0x02
#define VGA_GR_ROTATE       0x03    /* bits 0-2 count, 3-4 function */
#define VGA_GR_READ_MAP     0x04
#define VGA_GR_MODE         0x05    /* 0-1 write mode, 3 read mode,
                                       4 odd/even, 5-6 shift */
#define VGA_GR_MISC         0x06    /* 0 graphics, 2-3 memory map */
#define VGA_GR_DONT_CARE    0x07
#define VGA_GR_BIT_MASK     0x08
#define VGA_GR_COUNT        16

/* CRT controller (IBM VGA "CRT Controller Registers"). */
#define VGA_CR_H_DISP_END   0x01
#define VGA_CR_OVERFLOW     0x07
#define VGA_CR_MAX_SCAN     0x09
#define VGA_CR_CURSOR_START 0x0a
#define VGA_CR_CURSOR_END   0x0b
#define VGA_CR_START_HI     0x0c
#define VGA_CR_START_LO     0x0d
#define VGA_CR_CURSOR_HI    0x0e
#define VGA_CR_CURSOR_LO    0x0f
#define VGA_CR_V_RETRACE_END 0x11   /* bit 7: protect CR0-CR7 */
#define VGA_CR_V_DISP_END   0x12
#define VGA_CR_OFFSET       0x13
#define VGA_CR_MODE         0x17
#define VGA_CR_LINE_COMPARE 0x18
#define VGA_CR_COUNT        0x19    /* CR00-CR18; other indexes read 0 */

/* Attribute controller (IBM VGA "Attribute Controller Registers"). */
#define VGA_AR_MODE         0x10    /* 0 graphics, 2 line graphics,
                                       3 blink, 7 P5/P4 select */
#define VGA_AR_PLANE_ENABLE 0x12
#define VGA_AR_COLOR_SELECT 0x14
#define VGA_AR_COUNT        0x15
#define VGA_AR_PAS          0x20    /* palette address source */

/* Bochs DISPI (DISPI "VBE_DISPI_INDEX_*"). */
enum {
    VBE_INDEX_ID, VBE_INDEX_XRES, VBE_INDEX_YRES, VBE_INDEX_BPP,
    VBE_INDEX_ENABLE, VBE_INDEX_BANK, VBE_INDEX_VIRT_WIDTH,
    VBE_INDEX_VIRT_HEIGHT, VBE_INDEX_X_OFFSET, VBE_INDEX_Y_OFFSET,
    VBE_INDEX_VIDEO_MEMORY_64K, VBE_INDEX_COUNT,
};
#define VBE_ID0             0xb0c0
#define VBE_ID5             0xb0c5
#define VBE_ENABLED         0x01
#define VBE_GETCAPS         0x02
#define VBE_8BIT_DAC        0x20
#define VBE_LFB_ENABLED     0x40
#define VBE_NOCLEARMEM      0x80
#define VBE_MAX_XRES        2560
#define VBE_MAX_YRES        1600
#define VBE_MAX_BPP         32

/* The guest-visible register state: saved and loaded as it is. */
struct vga_regs {
    uint8_t misc;                   /* 3C2 write, 3CC read */
    uint8_t fcr;                    /* feature control */
    uint8_t st01;                   /* input status 1 (retrace toggles) */
    uint8_t sr_index;
    uint8_t sr[VGA_SR_COUNT];
    uint8_t gr_index;
    uint8_t gr[VGA_GR_COUNT];
    uint8_t cr_index;
    uint8_t cr[VGA_CR_COUNT];
    uint8_t ar_index;               /* with PAS in bit 5 */
    uint8_t ar_flip_flop;           /* 0: next 3C0 write is an index */
    uint8_t ar[VGA_AR_COUNT];
    uint8_t dac_state;              /* 3C7 read: 0 write mode, 3 read */
    uint8_t dac_read_index;
    uint8_t dac_write_index;
    uint8_t dac_sub_index;          /* 0..2: R, G, B */
    uint8_t dac_cache[3];
    uint8_t pel_mask;
    uint8_t palette[768];
    uint8_t reserved[3];
    uint32_t latch;
    uint16_t vbe_index;
    uint16_t vbe_regs[VBE_INDEX_COUNT];
};

/* Geometry of an enabled VBE mode, derived from vbe_regs by vbe_fixup. */
struct vbe_mode {
    unsigned int width, height, bpp;
    uint32_t line_offset;           /* bytes */
    uint32_t start;                 /* byte offset of the visible window */
};

struct vga {
    struct vga_regs r;
    uint8_t *vram;                  /* vram_size bytes, host mapping */
    uint32_t vram_size;             /* power of two, >= 256 KiB */
    /* VRAM pages hvmdm itself wrote (legacy window, banks, BAR fallback):
     * one bit per 4 KiB page, collected by the renderer. */
    unsigned long *self_dirty;
    bool palette_dirty;             /* DAC or attribute palette changed */
    bool regs_dirty;                /* a register that moves the picture */
    bool plane2_written;            /* the font plane changed (hvmdm side) */
    /* Called for every VRAM range hvmdm writes (live-migration log). */
    void (*wrote)(void *opaque, uint32_t off, uint32_t len);
    void *wrote_opaque;

    /* Renderer state (not saved: rebuilt with a full redraw). */
    struct vga_render *render;
};

/* hw/vga/vga.c: legacy VGA */
void vga_reset(struct vga *s);
uint8_t vga_ioport_read(struct vga *s, uint16_t port);
void vga_ioport_write(struct vga *s, uint16_t port, uint8_t val);
/* addr is relative to 0xA0000 (0..0x1FFFF). */
uint8_t vga_mem_read(struct vga *s, uint32_t addr);
void vga_mem_write(struct vga *s, uint32_t addr, uint8_t val);
void vga_mark_dirty(struct vga *s, uint32_t off, uint32_t len);
/* 6-bit DAC component to 8 bits, as QEMU's std VGA shows it. */
uint8_t vga_dac_to_8(const struct vga *s, uint8_t v);

/* hw/vga/vbe.c: Bochs DISPI */
uint16_t vbe_read(struct vga *s, uint16_t index);
void vbe_write(struct vga *s, uint16_t index, uint16_t val);
bool vbe_enabled(const struct vga *s);
bool vbe_planar(const struct vga *s);
/* The checked geometry of the current VBE mode; false if none. */
bool vbe_mode(const struct vga *s, struct vbe_mode *m);
/* Byte offset in VRAM of the 64 KiB bank window at 0xA0000. */
uint32_t vbe_bank_offset(const struct vga *s);

/* hw/vga/edid.c: the EDID block QEMU's std VGA shows at BAR2 offset 0 */
#define VGA_EDID_BLOCK      128
/* A monitor preferring xres x yres; -1 if that mode does not fit. */
int vga_edid_build(uint8_t *edid, unsigned int xres, unsigned int yres,
                   uint32_t vram_size);

/* hw/vga/vga-render.c */
struct vga_render *vga_render_new(void);
void vga_render_free(struct vga_render *r);
/* Force a full redraw (load, mode set, listener change). */
void vga_render_invalidate(struct vga *s);
/*
 * Bring the surface up to date. dirty: one bit per VRAM page the guest
 * wrote since the last call (merged with self_dirty), or NULL for all.
 */
void vga_render(struct vga *s, struct display *d, const unsigned long *dirty,
                uint64_t now_ns);
/* Test support: the cell geometry of the current text mode. */
bool vga_text_geometry(const struct vga *s, unsigned int *cols,
                       unsigned int *rows, unsigned int *cw,
                       unsigned int *ch);

#define VGA_PAGE_SHIFT 12
#define VGA_BITS_PER_LONG (8 * sizeof(unsigned long))

static inline bool
vga_test_bit(const unsigned long *map, size_t bit)
{
    return (map[bit / VGA_BITS_PER_LONG] >> (bit % VGA_BITS_PER_LONG)) & 1;
}

static inline void
vga_set_bit(unsigned long *map, size_t bit)
{
    map[bit / VGA_BITS_PER_LONG] |= 1ul << (bit % VGA_BITS_PER_LONG);
}

#endif
