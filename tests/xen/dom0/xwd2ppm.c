/*
 * xwd2ppm: an xwd capture (XWD file format, X11R6 XWDFile.h: a big-endian
 * header of 25 CARD32, the window name, the colours, then ZPixmap rows) of
 * a TrueColor 32 bits-per-pixel window to a binary PPM (P6), for the
 * tests/xen SDL scenario (tests/xen/dom0/sdl.sh) to compare the window
 * with the device model's screendump. Built at test time.
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

static int
mask_shift(uint32_t m)
{
    int s = 0;

    while (m && !(m & 1)) {
        m >>= 1;
        s++;
    }
    return s;
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

static uint32_t
pixel(const uint32_t *hdr, const uint8_t *q)
{
    if (hdr[7]) {                               /* byte order: MSBFirst */
        return be32(q);
    }
    return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 |
           (uint32_t)q[1] << 8 | q[0];
}

/* IN.xwd as packed RGB, *w by *h; exits on a file it cannot take. */
static uint8_t *
xwd_rgb(const char *path, size_t *w, size_t *h)
{
    uint32_t hdr[25], v;
    size_t len, bpl, x, y, off;
    uint8_t *p, *rgb, *o;
    int i;

    p = slurp(path, &len);
    if (len < 100) {
        fprintf(stderr, "xwd2ppm: %s: too short for an XWD header\n", path);
        exit(1);
    }
    for (i = 0; i < 25; i++) {
        hdr[i] = be32(p + 4 * i);
    }
    *w = hdr[4];
    *h = hdr[5];
    bpl = hdr[12];
    off = (size_t)hdr[0] + (size_t)hdr[19] * 12;
    if (hdr[1] != 7 || hdr[11] != 32 || *w == 0 || *h == 0 || *w > 8192 ||
        *h > 8192 || bpl < *w * 4 || off > len || (len - off) / bpl < *h) {
        fprintf(stderr, "xwd2ppm: %s: not a whole 32 bpp XWD v7 picture\n",
                path);
        exit(1);
    }
    o = rgb = malloc(*w * *h * 3);
    if (rgb == NULL) {
        exit(1);
    }
    for (y = 0; y < *h; y++) {
        for (x = 0; x < *w; x++) {
            v = pixel(hdr, p + off + y * bpl + x * 4);
            *o++ = (uint8_t)((v & hdr[14]) >> mask_shift(hdr[14]));
            *o++ = (uint8_t)((v & hdr[15]) >> mask_shift(hdr[15]));
            *o++ = (uint8_t)((v & hdr[16]) >> mask_shift(hdr[16]));
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
