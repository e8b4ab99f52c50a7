/*
 * xwd2ppm: an xwd capture (XWD file format, X11R6 XWDFile.h: a big-endian
 * header of 25 CARD32, the window name, the colours, then ZPixmap rows) of
 * a TrueColor 32 bits-per-pixel window to a binary PPM (P6), for the
 * tests/xen SDL scenario (tests/xen/dom0/sdl.sh) to compare the window
 * with the device model's screendump. Built at test time.
 *
 *   xwd2ppm IN.xwd OUT.ppm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

int
main(int argc, char **argv)
{
    uint32_t hdr[25], v;
    size_t len, w, h, bpl, x, y, off;
    uint8_t *p;
    FILE *out;
    int i;

    if (argc != 3) {
        fprintf(stderr, "usage: xwd2ppm IN.xwd OUT.ppm\n");
        return 1;
    }
    p = slurp(argv[1], &len);
    if (len < 100) {
        fprintf(stderr, "xwd2ppm: %s: too short for an XWD header\n",
                argv[1]);
        return 1;
    }
    for (i = 0; i < 25; i++) {
        hdr[i] = be32(p + 4 * i);
    }
    w = hdr[4];
    h = hdr[5];
    bpl = hdr[12];
    off = (size_t)hdr[0] + (size_t)hdr[19] * 12;
    if (hdr[1] != 7 || hdr[11] != 32 || w == 0 || h == 0 || w > 8192 ||
        h > 8192 || bpl < w * 4 || off > len || (len - off) / bpl < h) {
        fprintf(stderr, "xwd2ppm: %s: not a whole 32 bpp XWD v7 picture\n",
                argv[1]);
        return 1;
    }
    out = fopen(argv[2], "wb");
    if (out == NULL) {
        perror(argv[2]);
        return 1;
    }
    fprintf(out, "P6\n%zu %zu\n255\n", w, h);
    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            v = pixel(hdr, p + off + y * bpl + x * 4);
            fputc((int)((v & hdr[14]) >> mask_shift(hdr[14])), out);
            fputc((int)((v & hdr[15]) >> mask_shift(hdr[15])), out);
            fputc((int)((v & hdr[16]) >> mask_shift(hdr[16])), out);
        }
    }
    return fclose(out) == 0 ? 0 : 1;
}
