/*
 * xwd2ppm: an xwd capture (XWD file format, X11R6 XWDFile.h: a big-endian
 * header of 25 CARD32, the window name, the colours, then ZPixmap rows) of
 * a TrueColor 24 or 32 bits-per-pixel window (8-bit channels, either byte
 * order) to a binary PPM (P6), for the tests/xen SDL scenario
 * (tests/xen/dom0/sdl.sh) to compare the window with the device model's
 * screendump. Built at test time. A capture it cannot take is refused
 * with its header fields and length.
 *
 *   xwd2ppm IN.xwd OUT.ppm
 *   xwd2ppm -f REF.ppm IN.xwd
 *       Where the picture REF.ppm appears, pixel for pixel, in IN.xwd (a
 *       capture of the root window): prints "X Y" of the first place and
 *       exits 0, or exits 2 when it is nowhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XWD_MAX (64u << 20)

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(XWD_MAX);

    if (f == NULL || buf == NULL) {
        perror(path);
        exit(1);
    }
    *len = fread(buf, 1, XWD_MAX, f);
    fclose(f);
    return buf;
}

/* Header fields used (XWDFile.h order). */
enum {
    XWD_HEADER_SIZE = 0, XWD_VERSION = 1, XWD_FORMAT = 2, XWD_DEPTH = 3,
    XWD_WIDTH = 4, XWD_HEIGHT = 5, XWD_BYTE_ORDER = 7, XWD_BPP = 11,
    XWD_BPL = 12, XWD_CLASS = 13, XWD_RED = 14, XWD_GREEN = 15,
    XWD_BLUE = 16, XWD_NCOLORS = 19, XWD_FIELDS = 25
};

/* One pixel of bpp/8 bytes (24 or 32 bits) in the capture's byte order. */
static uint32_t
pixel(const uint32_t *hdr, const uint8_t *q)
{
    uint32_t v = 0;
    unsigned int i, n = hdr[XWD_BPP] / 8;

    for (i = 0; i < n; i++) {
        if (hdr[XWD_BYTE_ORDER]) {              /* MSBFirst */
            v = v << 8 | q[i];
        } else {
            v |= (uint32_t)q[i] << (8 * i);
        }
    }
    return v;
}

/* Why the header/length cannot be taken, or NULL. */
static const char *
xwd_reject(const uint32_t *hdr, size_t len, size_t off)
{
    size_t w = hdr[XWD_WIDTH], h = hdr[XWD_HEIGHT], bpl = hdr[XWD_BPL];
    uint32_t bpp = hdr[XWD_BPP];

    if (hdr[XWD_VERSION] != 7) {
        return "not XWD version 7";
    }
    if (hdr[XWD_FORMAT] != 2 || (bpp != 24 && bpp != 32)) {
        return "not a 24 or 32 bits-per-pixel ZPixmap";
    }
    if (hdr[XWD_RED] != 0xff0000 || hdr[XWD_GREEN] != 0xff00 ||
        hdr[XWD_BLUE] != 0xff) {
        return "not 8-bit red, green, blue masks";
    }
    if (w == 0 || h == 0 || w > 8192 || h > 8192 || bpl < w * (bpp / 8)) {
        return "bad size";
    }
    if (off > len || (len - off) / bpl < h) {
        return "truncated";
    }
    return NULL;
}

/* IN.xwd as packed RGB, *w by *h; exits on a file it cannot take. */
static uint8_t *
xwd_rgb(const char *path, size_t *w, size_t *h)
{
    uint32_t hdr[XWD_FIELDS], v;
    size_t len, bpl, x, y, off, step;
    uint8_t *p, *rgb, *o;
    const char *why;
    int i;

    p = slurp(path, &len);
    if (len < 4 * XWD_FIELDS) {
        fprintf(stderr, "xwd2ppm: %s: %zu bytes, too short for an XWD "
                "header\n", path, len);
        exit(1);
    }
    for (i = 0; i < XWD_FIELDS; i++) {
        hdr[i] = be32(p + 4 * i);
    }
    *w = hdr[XWD_WIDTH];
    *h = hdr[XWD_HEIGHT];
    bpl = hdr[XWD_BPL];
    off = (size_t)hdr[XWD_HEADER_SIZE] + (size_t)hdr[XWD_NCOLORS] * 12;
    why = xwd_reject(hdr, len, off);
    if (why != NULL) {
        fprintf(stderr, "xwd2ppm: %s: %s: version %u format %u depth %u "
                "%zux%zu bpp %u bytes/line %zu byte order %u class %u "
                "masks %x/%x/%x; header %u + %u colours, %zu bytes in the "
                "file\n", path, why, hdr[XWD_VERSION], hdr[XWD_FORMAT],
                hdr[XWD_DEPTH], *w, *h, hdr[XWD_BPP], bpl,
                hdr[XWD_BYTE_ORDER], hdr[XWD_CLASS], hdr[XWD_RED],
                hdr[XWD_GREEN], hdr[XWD_BLUE], hdr[XWD_HEADER_SIZE],
                hdr[XWD_NCOLORS], len);
        exit(1);
    }
    step = hdr[XWD_BPP] / 8;
    o = rgb = malloc(*w * *h * 3);
    if (rgb == NULL) {
        exit(1);
    }
    for (y = 0; y < *h; y++) {
        for (x = 0; x < *w; x++) {
            v = pixel(hdr, p + off + y * bpl + x * step);
            *o++ = (uint8_t)(v >> 16);
            *o++ = (uint8_t)(v >> 8);
            *o++ = (uint8_t)v;
        }
    }
    free(p);
    return rgb;
}

/* REF.ppm (binary P6, maxval 255) as packed RGB. */
static uint8_t *
ppm_rgb(const char *path, size_t *w, size_t *h)
{
    size_t len;
    uint8_t *p = slurp(path, &len);
    unsigned int pw, ph, maxval;
    int n = 0;

    if (len < 3 || sscanf((const char *)p, "P6 %u %u %u%n", &pw, &ph,
                          &maxval, &n) != 3 || maxval != 255 || pw == 0 ||
        ph == 0 || pw > 8192 || ph > 8192 ||
        (size_t)n + 1 + (size_t)pw * ph * 3 > len) {
        fprintf(stderr, "xwd2ppm: %s: not a binary PPM\n", path);
        exit(1);
    }
    *w = pw;
    *h = ph;
    memmove(p, p + n + 1, (size_t)pw * ph * 3);
    return p;
}

static int
matches_at(const uint8_t *big, size_t bw, const uint8_t *ref, size_t rw,
           size_t rh, size_t x, size_t y)
{
    size_t r;

    for (r = 0; r < rh; r++) {
        if (memcmp(big + ((y + r) * bw + x) * 3, ref + r * rw * 3,
                   rw * 3) != 0) {
            return 0;
        }
    }
    return 1;
}

static int
find(const char *ref_path, const char *xwd_path)
{
    size_t bw, bh, rw, rh, x, y;
    uint8_t *big = xwd_rgb(xwd_path, &bw, &bh);
    uint8_t *ref = ppm_rgb(ref_path, &rw, &rh);

    for (y = 0; rh <= bh && y <= bh - rh; y++) {
        for (x = 0; rw <= bw && x <= bw - rw; x++) {
            if (matches_at(big, bw, ref, rw, rh, x, y)) {
                printf("%zu %zu\n", x, y);
                return 0;
            }
        }
    }
    return 2;
}

static int
convert(const char *in, const char *out_path)
{
    size_t w, h;
    uint8_t *rgb = xwd_rgb(in, &w, &h);
    FILE *out = fopen(out_path, "wb");

    if (out == NULL) {
        perror(out_path);
        return 1;
    }
    fprintf(out, "P6\n%zu %zu\n255\n", w, h);
    fwrite(rgb, 3, w * h, out);
    return fclose(out) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "-f") == 0) {
        return find(argv[2], argv[3]);
    }
    if (argc == 3) {
        return convert(argv[1], argv[2]);
    }
    fprintf(stderr, "usage: xwd2ppm IN.xwd OUT.ppm | -f REF.ppm IN.xwd\n");
    return 1;
}
