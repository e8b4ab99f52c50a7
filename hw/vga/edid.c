/*
 * The std VGA's EDID (BAR2 offset 0, where QEMU's std VGA puts it and
 * Linux bochs-drm reads it to learn the monitor's modes): one VESA E-EDID
 * 1.4 base block (VESA "Enhanced Extended Display Identification Data
 * Standard", Release A Rev. 2, cited as "E-EDID" with the section).
 *
 * The monitor prefers xres x yres (1024x768 unless set) at 60 Hz; it lists
 * the established and standard timings that fit VRAM at 32 bits per pixel
 * and the Bochs VBE limits, and a range limits descriptor that covers all
 * of them. Timings follow the shape of VESA CVT reduced blanking (fixed
 * 160-pixel horizontal blank, vertical blank of at least 460 us).
 */
#include "hw/vga/vga-int.h"

#include <string.h>

#define EDID_REFRESH_HZ     60
#define EDID_DPI            100
#define EDID_HBLANK         160     /* CVT-RB: blank, front porch, sync */
#define EDID_HFRONT         48
#define EDID_HSYNC          32
#define EDID_VFRONT         3
#define EDID_VSYNC          5
#define EDID_VBLANK_MIN_US  460

struct edid_mode {
    unsigned int w, h;
    unsigned int byte, bit;         /* established timing bit, or 0 */
    unsigned int aspect;            /* standard timing aspect code */
    unsigned int clock_khz, hfreq_hz;   /* its VESA DMT timing */
};

/*
 * E-EDID 3.8 (established timings I and II: 640x480, 800x600, 1024x768
 * at 60 Hz) and 3.9 (standard timings; aspect 0 16:10, 1 4:3, 2 5:4,
 * 3 16:9), smallest first, with the pixel clock and line rate of the VESA
 * DMT timing a display reads each as (for the range limits).
 */
static const struct edid_mode edid_modes[] = {
    { 640, 480, 35, 5, 0, 25175, 31469 },
    { 800, 600, 35, 0, 0, 40000, 37879 },
    { 1024, 768, 36, 3, 0, 65000, 48363 },
    { 1280, 960, 0, 0, 1, 108000, 60000 },
    { 1280, 1024, 0, 0, 2, 108000, 63981 },
    { 1440, 900, 0, 0, 0, 106500, 55935 },
    { 1600, 1200, 0, 0, 1, 162000, 75000 },
    { 1680, 1050, 0, 0, 0, 146250, 65290 },
    { 1920, 1080, 0, 0, 3, 148500, 67500 },
    { 1920, 1200, 0, 0, 0, 193250, 74556 },  /* standard timings end */
};                                          /* at 2288 pixels */

/* What the range limits descriptor must cover. */
struct edid_range {
    unsigned int hfreq_min_hz, hfreq_max_hz, clock_max_khz;
};

static void
edid_range_add(struct edid_range *r, unsigned int clock_khz,
               unsigned int hfreq_hz)
{
    if (!r->hfreq_min_hz || hfreq_hz < r->hfreq_min_hz) {
        r->hfreq_min_hz = hfreq_hz;
    }
    if (hfreq_hz > r->hfreq_max_hz) {
        r->hfreq_max_hz = hfreq_hz;
    }
    if (clock_khz > r->clock_max_khz) {
        r->clock_max_khz = clock_khz;
    }
}

struct edid_timing {
    unsigned int w, h, hblank, vblank;
    unsigned int clock_10khz;       /* pixel clock, 10 kHz units */
};

/* A CVT-RB shaped timing for w x h at EDID_REFRESH_HZ. */
static void
edid_timing(unsigned int w, unsigned int h, struct edid_timing *t)
{
    unsigned int vblank = EDID_VFRONT + EDID_VSYNC + 1;
    uint64_t clock;

    /* Smallest blank that lasts 460 us: vblank / (refresh * vtotal). */
    while ((uint64_t)vblank * 1000000 <
           (uint64_t)EDID_VBLANK_MIN_US * EDID_REFRESH_HZ * (h + vblank)) {
        vblank++;
    }
    clock = (uint64_t)(w + EDID_HBLANK) * (h + vblank) * EDID_REFRESH_HZ;
    t->w = w;
    t->h = h;
    t->hblank = EDID_HBLANK;
    t->vblank = vblank;
    t->clock_10khz = (unsigned int)((clock + 5000) / 10000);
}

static bool
edid_mode_fits(unsigned int w, unsigned int h, uint32_t vram_size)
{
    return w <= VBE_MAX_XRES && h <= VBE_MAX_YRES &&
           (uint64_t)w * h * 4 <= vram_size;
}

/* E-EDID 3.10.2: the 18-byte detailed timing descriptor. */
static void
edid_dtd(uint8_t *d, const struct edid_timing *t)
{
    unsigned int wmm = t->w * 254 / (EDID_DPI * 10);
    unsigned int hmm = t->h * 254 / (EDID_DPI * 10);

    d[0] = (uint8_t)t->clock_10khz;
    d[1] = (uint8_t)(t->clock_10khz >> 8);
    d[2] = (uint8_t)t->w;
    d[3] = (uint8_t)t->hblank;
    d[4] = (uint8_t)(((t->w >> 8) & 0xf) << 4 | ((t->hblank >> 8) & 0xf));
    d[5] = (uint8_t)t->h;
    d[6] = (uint8_t)t->vblank;
    d[7] = (uint8_t)(((t->h >> 8) & 0xf) << 4 | ((t->vblank >> 8) & 0xf));
    d[8] = EDID_HFRONT;
    d[9] = EDID_HSYNC;
    d[10] = EDID_VFRONT << 4 | EDID_VSYNC;
    d[11] = 0;                      /* the high bits above are all 0 */
    d[12] = (uint8_t)wmm;
    d[13] = (uint8_t)hmm;
    d[14] = (uint8_t)(((wmm >> 8) & 0xf) << 4 | ((hmm >> 8) & 0xf));
    d[15] = 0;
    d[16] = 0;
    d[17] = 0x1e;                   /* digital separate sync, +H +V */
}

/* E-EDID 3.10.3: a display descriptor: 0, 0, 0, tag, 0, then 13 bytes. */
static uint8_t *
edid_descriptor(uint8_t *d, uint8_t tag)
{
    memset(d, 0, 18);
    d[3] = tag;
    return d + 5;
}

/* E-EDID 3.10.3.1/3.10.3.4: text ends with 0x0a, padded with spaces. */
static void
edid_text(uint8_t *d, uint8_t tag, const char *text)
{
    uint8_t *p = edid_descriptor(d, tag);
    size_t n = strlen(text);

    memset(p, ' ', 13);
    memcpy(p, text, n < 12 ? n : 12);
    p[n < 12 ? n : 12] = 0x0a;
}

/* E-EDID 3.10.3.3: display range limits covering every listed timing. */
static void
edid_ranges(uint8_t *d, const struct edid_range *r)
{
    uint8_t *p = edid_descriptor(d, 0xfd);
    unsigned int lo = r->hfreq_min_hz / 1000, hi = r->hfreq_max_hz / 1000 + 1;

    p[0] = EDID_REFRESH_HZ - 10;    /* vertical rate, Hz */
    p[1] = EDID_REFRESH_HZ + 15;
    p[2] = (uint8_t)(lo > 1 ? lo - 1 : 1);          /* horizontal, kHz */
    p[3] = (uint8_t)(hi < 254 ? hi + 1 : 255);
    p[4] = (uint8_t)(r->clock_max_khz / 10000 + 1); /* 10 MHz units */
    p[5] = 0x01;                    /* range limits only */
    p[6] = 0x0a;
    memset(p + 7, ' ', 6);
}

/* E-EDID 3.4: manufacturer ID, three letters of five bits, big-endian. */
static void
edid_vendor(uint8_t *e, const char *id)
{
    unsigned int v = ((unsigned int)(id[0] - '@') & 0x1f) << 10 |
                     ((unsigned int)(id[1] - '@') & 0x1f) << 5 |
                     ((unsigned int)(id[2] - '@') & 0x1f);

    e[8] = (uint8_t)(v >> 8);
    e[9] = (uint8_t)v;
}

/* E-EDID 3.8/3.9: the timings that fit, into the bitmaps and slots. */
static void
edid_fill_timings(uint8_t *e, uint32_t vram_size, struct edid_range *r)
{
    unsigned int i, slot = 38;

    for (i = 38; i < 54; i++) {
        e[i] = 0x01;                /* unused standard timing: 01 01 */
    }
    for (i = 0; i < sizeof(edid_modes) / sizeof(edid_modes[0]); i++) {
        const struct edid_mode *m = &edid_modes[i];

        if (!edid_mode_fits(m->w, m->h, vram_size)) {
            continue;
        }
        edid_range_add(r, m->clock_khz, m->hfreq_hz);
        if (m->byte) {
            e[m->byte] |= (uint8_t)(1u << m->bit);
        } else if (slot < 54) {
            e[slot++] = (uint8_t)(m->w / 8 - 31);
            e[slot++] = (uint8_t)(m->aspect << 6 | (EDID_REFRESH_HZ - 60));
        }
    }
}

int
vga_edid_build(uint8_t *e, unsigned int xres, unsigned int yres,
               uint32_t vram_size)
{
    static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0 };
    /* sRGB primaries and D65 white, 10-bit CIE x/y (E-EDID 3.7). */
    static const uint8_t srgb[10] = { 0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99,
                                      0x26, 0x0f, 0x50, 0x54 };
    struct edid_range range = { 0 };
    struct edid_timing pref;
    unsigned int i, sum = 0;

    if (!edid_mode_fits(xres, yres, vram_size) || xres < 640 || yres < 480) {
        return -1;
    }
    memset(e, 0, VGA_EDID_BLOCK);
    memcpy(e, header, sizeof(header));
    edid_vendor(e, "HVM");
    e[10] = 0x11;                   /* product code 0x1111, little-endian */
    e[11] = 0x11;
    e[16] = 0xff;                   /* no week: e[17] is the model year */
    e[17] = 2026 - 1990;
    e[18] = 1;                      /* EDID 1.4 */
    e[19] = 4;
    e[20] = 0xa5;                   /* digital, 8 bits per colour, DP */
    e[21] = (uint8_t)((xres * 254 / (EDID_DPI * 10) + 5) / 10);   /* cm */
    e[22] = (uint8_t)((yres * 254 / (EDID_DPI * 10) + 5) / 10);
    e[23] = 220 - 100;              /* gamma 2.2 */
    e[24] = 0x06;                   /* sRGB default, preferred timing */
    memcpy(e + 25, srgb, sizeof(srgb));
    edid_fill_timings(e, vram_size, &range);
    edid_timing(xres, yres, &pref);
    edid_range_add(&range, pref.clock_10khz * 10, (unsigned int)
                   ((uint64_t)pref.clock_10khz * 10000 / (xres + pref.hblank)));
    edid_dtd(e + 54, &pref);
    edid_ranges(e + 72, &range);
    edid_text(e + 90, 0xfc, "hvmdm VGA");
    edid_descriptor(e + 108, 0x10); /* dummy */
    e[126] = 0;                     /* no extension blocks */
    for (i = 0; i < 127; i++) {
        sum += e[i];
    }
    e[127] = (uint8_t)(0x100 - (sum & 0xff));
    return 0;
}
