/*
 * QMP screendump (as QEMU has it: filename, format "ppm" or "png"): the
 * display brought up to date, converted to 8-bit RGB and written as a
 * binary PPM (netpbm P6) or, through libpng, a PNG.
 */
#include "ui/screendump.h"

#include <errno.h>
#include <glib.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dm/log.h"
#include "dm/qmp-cmd.h"
#include "ui/display.h"

/* The image as x8r8g8b8 rows (pixman converts any wrapped format). */
static uint32_t *
screendump_pixels(struct display *d, int *w, int *h)
{
    pixman_image_t *src = display_image(d), *dst;
    uint32_t *bits;

    *w = display_width(d);
    *h = display_height(d);
    bits = g_try_malloc((size_t)*w * (size_t)*h * 4);
    if (!bits) {
        return NULL;
    }
    dst = pixman_image_create_bits(PIXMAN_x8r8g8b8, *w, *h, bits, *w * 4);
    if (!dst) {
        g_free(bits);
        return NULL;
    }
    pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, dst, 0, 0, 0, 0, 0, 0,
                             *w, *h);
    pixman_image_unref(dst);
    return bits;
}

static void
screendump_row_rgb(const uint32_t *px, int w, uint8_t *out)
{
    int x;

    for (x = 0; x < w; x++) {
        out[3 * x] = (uint8_t)(px[x] >> 16);
        out[3 * x + 1] = (uint8_t)(px[x] >> 8);
        out[3 * x + 2] = (uint8_t)px[x];
    }
}

static int
screendump_ppm(FILE *f, const uint32_t *px, int w, int h)
{
    g_autofree uint8_t *row = g_malloc((size_t)w * 3);
    int y;

    if (fprintf(f, "P6\n%d %d\n255\n", w, h) < 0) {
        return -EIO;
    }
    for (y = 0; y < h; y++) {
        screendump_row_rgb(px + (size_t)y * w, w, row);
        if (fwrite(row, 3, (size_t)w, f) != (size_t)w) {
            return -EIO;
        }
    }
    return 0;
}

/* libpng reports errors by longjmp; everything it owns is freed here. */
static int
screendump_png(FILE *f, const uint32_t *px, int w, int h)
{
    png_structp png;
    png_infop info = NULL;
    uint8_t *volatile row = g_malloc((size_t)w * 3);
    int y, rc = -EIO;

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (png) {
        info = png_create_info_struct(png);
    }
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        goto out;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (y = 0; y < h; y++) {
        screendump_row_rgb(px + (size_t)y * w, w, row);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    rc = 0;
out:
    png_destroy_write_struct(&png, &info);
    g_free(row);
    return rc;
}

int
display_screendump(struct display *d, const char *path, bool png, char *err,
                   size_t errlen)
{
    g_autofree uint32_t *px = NULL;
    FILE *f;
    int w, h, rc;

    display_refresh(d);
    px = screendump_pixels(d, &w, &h);
    if (!px) {
        snprintf(err, errlen, "out of memory for a %dx%d screen dump",
                 display_width(d), display_height(d));
        return -ENOMEM;
    }
    f = fopen(path, "wb");
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "cannot create '%s': %s", path,
                 g_strerror(-rc));
        return rc;
    }
    rc = png ? screendump_png(f, px, w, h) : screendump_ppm(f, px, w, h);
    if (fclose(f) != 0 && rc == 0) {
        rc = -EIO;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, g_strerror(-rc));
        unlink(path);
    }
    return rc;
}

/* ---- QMP ------------------------------------------------------------- */

static JsonNode *
qmp_screendump(struct qmp_req *r)
{
    struct display *d = display_get(qmp_req_dm(r));
    const char *path = qmp_arg_str(r, "filename");
    const char *fmt = qmp_arg_has(r, "format") ? qmp_arg_str(r, "format")
                                               : "ppm";
    char err[256];

    if (strcmp(fmt, "ppm") && strcmp(fmt, "png")) {
        qmp_fail(r, "GenericError", "format '%s': use 'ppm' or 'png'", fmt);
        return NULL;
    }
    if (!d) {
        qmp_fail(r, "GenericError", "there is no display (the domain has "
                 "vga=\"none\")");
        return NULL;
    }
    if (display_screendump(d, path, strcmp(fmt, "png") == 0, err,
                           sizeof(err)) < 0) {
        qmp_fail(r, "GenericError", "%s", err);
        return NULL;
    }
    return qmp_empty_object();
}

static const struct qmp_arg screendump_args[] = {
    { "filename", QMP_ARG_STR, true },
    { "format", QMP_ARG_STR, false },
    { "device", QMP_ARG_STR, false },
    { "head", QMP_ARG_INT, false },
    { NULL, 0, false },
};

static const struct qmp_cmd screendump_cmds[] = {
    { "screendump", qmp_screendump, false, screendump_args },
    { NULL, NULL, false, NULL },
};

void
screendump_register(void)
{
    if (qmp_register_cmds(screendump_cmds) < 0) {
        DM_WARN("screendump: QMP command table full");
    }
}
