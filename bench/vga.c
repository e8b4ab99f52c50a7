/*
 * bench/vga: what the display costs hvmdm, in the machine harness.
 *
 *   full frame: a 1920x1080x32 VBE mode, the guest rewrites every pixel
 *               through the LFB, one display refresh (dirty-VRAM log,
 *               surface, dirty rectangles to a listener that copies them
 *               out as a front end would); baseline: memcpy of the
 *               surface's bytes (1920x1080x4).
 *               Also at 8 bpp, where the surface converts through the DAC.
 *   text line:  mode 3, the guest rewrites one 80-column line through the
 *               buffered ring; one refresh; baseline: memcpy of that line's
 *               pixels (720x16x4 bytes).
 *   idle:       the real main loop for 2 s with an idle guest: CPU time and
 *               wake-ups, without a listener and with one.
 *
 *   vga [-r ROUNDS]
 */
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"         /* bench_now_s, t_fail */
#include "dm/loop.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/display.h"

#define LFB_BASE 0xf0000000u

/* A front end's share: copy every dirty rectangle out of the surface. */
struct copier {
    struct display_listener l;
    uint32_t *dst;
    uint64_t bytes;
};

static void
copier_update(struct display_listener *l, struct display *d, int x, int y,
              int w, int h)
{
    struct copier *c = l->opaque;
    pixman_image_t *img = display_image(d);
    int bpp = PIXMAN_FORMAT_BPP(pixman_image_get_format(img)) / 8;
    int stride = pixman_image_get_stride(img);
    uint8_t *src = (uint8_t *)pixman_image_get_data(img);
    int row;

    for (row = y; row < y + h; row++) {
        memcpy((uint8_t *)c->dst + (size_t)row * stride + (size_t)x * bpp,
               src + (size_t)row * stride + (size_t)x * bpp,
               (size_t)w * bpp);
        c->bytes += (uint64_t)w * bpp;
    }
}

static const struct display_listener_ops copier_ops = {
    .update = copier_update,
};

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median of n samples (sorts them): a loaded shared host stalls single
 * rounds, the median is what a round costs. */
static double
median(double *v, unsigned int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct t_machine *
vga_machine(void)
{
    const char *argv[] = { "-device", "VGA,vgamem_mb=16", NULL };
    struct t_opts o = { .argv = argv };

    return t_machine_new(&o);
}

static void
dispi(struct t_machine *t, uint16_t i, uint16_t v)
{
    t_outw(t, 0x1ce, i);
    t_outw(t, 0x1cf, v);
}

static void
vbe_mode(struct t_machine *t, uint16_t w, uint16_t h, uint16_t bpp)
{
    unsigned int bdf;

    for (bdf = 0; bdf < 256; bdf += 8) {
        if (t_pcicfg_read(t, bdf, 0, 4) == 0x11111234u) {
            break;
        }
    }
    t_pcicfg_write(t, bdf, 0x10, LFB_BASE, 4);
    t_pcicfg_write(t, bdf, 0x04, 0x0003, 2);
    (void)t_inb(t, 0x3da);                  /* display on: PAS, as the */
    t_outb(t, 0x3c0, 0x20);                 /* BIOS and bochs-drm do */
    dispi(t, 4, 0);
    dispi(t, 3, bpp);
    dispi(t, 1, w);
    dispi(t, 2, h);
    dispi(t, 6, w);
    dispi(t, 4, 0x41);
}

static void
bench_frame(unsigned int rounds, uint16_t bpp)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    size_t bytes = 1920u * 1080 * (bpp / 8), surf = 1920u * 1080 * 4;
    struct copier c = { .l = { .ops = &copier_ops } };
    g_autofree uint8_t *a = g_malloc(surf), *b = g_malloc(surf);
    g_autofree double *dm_s = g_new(double, rounds);
    g_autofree double *base_s = g_new(double, rounds);
    double t0, dm, base;
    unsigned int i;

    c.l.opaque = &c;
    c.dst = g_malloc(1920u * 1080 * 4);
    vbe_mode(t, 1920, 1080, bpp);
    display_listener_add(d, &c.l);
    display_refresh(d);
    if (display_width(d) != 1920 || display_height(d) != 1080) {
        fprintf(stderr, "bench vga: the 1920x1080 mode did not show "
                "(%dx%d)\n", display_width(d), display_height(d));
        exit(1);
    }
    c.bytes = 0;
    for (i = 0; i < rounds; i++) {
        t_memset(t, LFB_BASE, (int)(i & 0xff), bytes);
        t0 = bench_now_s();
        display_refresh(d);
        dm_s[i] = bench_now_s() - t0;
        memset(a, (int)i, surf);
        t0 = bench_now_s();
        memcpy(b, a, surf);
        base_s[i] = bench_now_s() - t0;
    }
    dm = median(dm_s, rounds);
    base = median(base_s, rounds);
    printf("full frame 1920x1080x%-2u hvmdm %7.3f ms/frame  memcpy %7.3f "
           "ms  ratio %.2f  (%" PRIu64 " bytes to the listener)\n", bpp,
           dm * 1e3, base * 1e3, dm / base, c.bytes / rounds);
    display_listener_remove(d, &c.l);
    g_free(c.dst);
    t_machine_free(t);
}

static void
text_mode3(struct t_machine *t)
{
    static const uint8_t cr[25] = {
        0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x20,
        0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96,
        0xb9, 0xa3, 0xff,
    };
    unsigned int i;

    t_outb(t, 0x3c2, 0x67);
    t_outw(t, 0x3c4, 0x0001);
    t_outw(t, 0x3c4, 0x0302);
    t_outw(t, 0x3c4, 0x0204);
    for (i = 0; i < 25; i++) {
        t_outw(t, 0x3d4, (uint16_t)(i | cr[i] << 8));
    }
    t_outw(t, 0x3ce, 0x1005);
    t_outw(t, 0x3ce, 0x0e06);
    (void)t_inb(t, 0x3da);
    for (i = 0; i < 16; i++) {
        t_outb(t, 0x3c0, (uint8_t)i);
        t_outb(t, 0x3c0, (uint8_t)i);
    }
    t_outb(t, 0x3c0, 0x10);
    t_outb(t, 0x3c0, 0x04);                 /* no blink */
    t_outb(t, 0x3c0, 0x12);
    t_outb(t, 0x3c0, 0x0f);
    t_outb(t, 0x3c0, 0x20);
}

static void
bench_text_line(unsigned int rounds)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    struct copier c = { .l = { .ops = &copier_ops } };
    size_t bytes = 720u * 16 * 4;
    g_autofree uint8_t *a = g_malloc(bytes), *b = g_malloc(bytes);
    g_autofree double *dm_s = g_new(double, rounds);
    g_autofree double *base_s = g_new(double, rounds);
    double t0, dm, base;
    unsigned int i, x;

    c.l.opaque = &c;
    c.dst = g_malloc(720u * 400 * 4);
    text_mode3(t);
    display_listener_add(d, &c.l);
    display_refresh(d);
    c.bytes = 0;
    for (i = 0; i < rounds; i++) {
        for (x = 0; x < 80; x++) {
            t_buf_push(t, 0xb8000 + 2 * (80 * 12 + x), 1,
                       'A' + (i + x) % 26);
            t_buf_push(t, 0xb8000 + 2 * (80 * 12 + x) + 1, 1, 0x07);
        }
        t_buf_kick(t);
        t0 = bench_now_s();
        display_refresh(d);
        dm_s[i] = bench_now_s() - t0;
        memset(a, (int)i, bytes);
        t0 = bench_now_s();
        memcpy(b, a, bytes);
        base_s[i] = bench_now_s() - t0;
    }
    dm = median(dm_s, rounds);
    base = median(base_s, rounds);
    printf("text line  80 cells        hvmdm %7.3f ms/line   memcpy %7.3f "
           "ms  ratio %.2f  (%" PRIu64 " bytes to the listener)\n",
           dm * 1e3, base * 1e3, dm / base, c.bytes / rounds);
    display_listener_remove(d, &c.l);
    g_free(c.dst);
    t_machine_free(t);
}

static double
cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static gboolean
stop_cb(gpointer opaque)
{
    *(bool *)opaque = true;
    return G_SOURCE_REMOVE;
}

/* The real loop on the real clock: an idle text screen for secs. */
static void
bench_idle(bool listener, double secs)
{
    struct t_machine *t = vga_machine();
    struct display *d = display_get(t->dm);
    struct copier c = { .l = { .ops = &copier_ops } };
    uint64_t sleeps0, wakeups;
    double cpu0, t0;
    bool done = false;

    c.l.opaque = &c;
    c.dst = g_malloc(720u * 400 * 4);
    text_mode3(t);
    t->dm->virtual_clock = false;
    if (listener) {
        display_listener_add(d, &c.l);
    }
    g_timeout_add((guint)(secs * 1000), stop_cb, &done);
    sleeps0 = dm_loop_stats(t->dm)->sleeps;
    cpu0 = cpu_s();
    t0 = bench_now_s();
    while (!done) {
        dm_loop_iterate(t->dm, 1);
    }
    t0 = bench_now_s() - t0;
    /* The stop timer's own wake-up is not hvmdm's. */
    wakeups = dm_loop_stats(t->dm)->sleeps - sleeps0 - 1;
    printf("idle %-9s %4.1f s  CPU %6.3f %%  wake-ups %" PRIu64 " (%.1f/s)"
           "  refreshes %" PRIu64 "\n", listener ? "watched" : "unwatched",
           t0, (cpu_s() - cpu0) * 100 / t0, wakeups, (double)wakeups / t0,
           display_refresh_count(d));
    if (listener) {
        display_listener_remove(d, &c.l);
    }
    g_free(c.dst);
    t_machine_free(t);
}

int
main(int argc, char **argv)
{
    unsigned int rounds = 50;
    int opt;

    while ((opt = getopt(argc, argv, "r:")) != -1) {
        if (opt != 'r' || atoi(optarg) <= 0) {
            fprintf(stderr, "usage: vga [-r ROUNDS]\n");
            return 2;
        }
        rounds = (unsigned int)atoi(optarg);
    }
    printf("bench/vga: %u rounds, median per round; baseline memcpy of "
           "the same bytes\n", rounds);
    bench_frame(rounds, 32);
    bench_frame(rounds, 8);
    bench_text_line(rounds * 10);
    bench_idle(false, 2.0);
    bench_idle(true, 2.0);
    return 0;
}
