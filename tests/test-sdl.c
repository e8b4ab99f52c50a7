/*
 * The SDL window (ui/sdl.c) on a real X server: Xvfb started by the test,
 * the window captured with xwd (x11-apps) and compared with the surface
 * pixel for pixel; a guest mode change resizes it; closing it presses the
 * ACPI power button; no DISPLAY is one clear error.
 */
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dm/loop.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/display.h"
#include "ui/input.h"
#include "ui/sdl.h"

#define TIMEOUT_US      (20 * G_USEC_PER_SEC)

static uint32_t
pattern(int x, int y, uint32_t seed)
{
    uint32_t v = (uint32_t)x * 2246822519u ^ (uint32_t)y * 3266489917u ^
                 seed;

    return (v ^ v >> 15) & 0x00ffffff;
}

static void
fill(struct display *d, uint32_t seed)
{
    pixman_image_t *img = display_image(d);
    uint32_t *p = pixman_image_get_data(img);
    int w = display_width(d), h = display_height(d), x, y;

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            p[y * (pixman_image_get_stride(img) / 4) + x] =
                pattern(x, y, seed);
        }
    }
    display_dirty(d, 0, 0, w, h);
}

T_TEST(sdl_scancodes_are_pc_keys)
{
    T_EQ(sdl_scancode_to_key(4), 0x1e);                 /* A */
    T_EQ(sdl_scancode_to_key(40), 0x1c);                /* Return */
    T_EQ(sdl_scancode_to_key(82), INPUT_KEY_E0 | 0x48); /* Up */
    T_EQ(sdl_scancode_to_key(88), INPUT_KEY_E0 | 0x1c); /* keypad Enter */
    T_EQ(sdl_scancode_to_key(72), INPUT_KEY_PAUSE);
    T_EQ(sdl_scancode_to_key(230), INPUT_KEY_E0 | 0x38);/* AltGr */
    T_EQ(sdl_scancode_to_key(100), 0x56);               /* ISO <> key */
    T_EQ(sdl_scancode_to_key(0), 0);
    T_EQ(sdl_scancode_to_key(100000), 0);
}

T_TEST(sdl_without_display_is_one_clear_error)
{
    struct t_opts o = { 0 };
    struct t_machine *t = t_machine_new(&o);
    char err[256] = "";

    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    T_ASSERT(sdl_start(t->dm, err, sizeof(err)) == NULL);
    T_ASSERT(strstr(err, "DISPLAY is not set") && strstr(err, "vnc=1"));
    t_machine_free(t);
}

/* ---- Xvfb ------------------------------------------------------------- */

static GPid
xvfb_start(void)
{
    g_autofree char *fdarg = NULL;
    GError *err = NULL;
    char buf[16] = "";
    GPid pid;
    int p[2];
    ssize_t n;

    T_ASSERT(pipe(p) == 0);
    fdarg = g_strdup_printf("%d", p[1]);
    {
        char *argv[] = { "Xvfb", "-displayfd", fdarg, "-screen", "0",
                         "1280x1024x24", "-nolisten", "tcp", NULL };

        if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
                           G_SPAWN_LEAVE_DESCRIPTORS_OPEN |
                           G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid,
                           &err)) {
            t_fail(__FILE__, __LINE__, "Xvfb: %s (apt-get install xvfb; "
                   "scripts/install-deps)", err->message);
        }
    }
    close(p[1]);
    n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    T_ASSERT(n > 0);
    buf[strcspn(buf, "\n")] = '\0';
    {
        g_autofree char *disp = g_strdup_printf(":%s", buf);

        setenv("DISPLAY", disp, 1);
    }
    return pid;
}

static void
xvfb_stop(GPid pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* ---- xwd -------------------------------------------------------------- */

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
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

/* The window titled `title` as 0xRRGGBB pixels (XWD file format, X11R6
 * XWDFile.h: a big-endian header of 25 CARD32, the name, the colours). */
static uint32_t *
xwd_capture(const char *title, int *w, int *h)
{
    g_autofree char *dir = g_dir_make_tmp("hvmdm-sdl-XXXXXX", NULL);
    g_autofree char *path = g_strdup_printf("%s/win.xwd", dir);
    char *argv[] = { "xwd", "-silent", "-name", (char *)title, "-out", path,
                     NULL };
    g_autofree char *data = NULL;
    const uint8_t *p, *px;
    uint32_t hdr[25], rm, gm, bm, v, *out;
    GError *err = NULL;
    gsize len;
    int status, x, y, i, bpl;

    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                      NULL, NULL, &status, &err)) {
        t_fail(__FILE__, __LINE__, "xwd: %s (apt-get install x11-apps)",
               err->message);
    }
    T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    T_ASSERT(g_file_get_contents(path, &data, &len, NULL));
    T_ASSERT(len >= 100);
    p = (const uint8_t *)data;
    for (i = 0; i < 25; i++) {
        hdr[i] = be32(p + 4 * i);
    }
    T_EQ(hdr[1], 7);                            /* file version */
    T_EQ(hdr[11], 32);                          /* bits per pixel */
    *w = (int)hdr[4];
    *h = (int)hdr[5];
    bpl = (int)hdr[12];
    rm = hdr[14];
    gm = hdr[15];
    bm = hdr[16];
    px = p + hdr[0] + (size_t)hdr[19] * 12;
    T_ASSERT(px + (size_t)bpl * *h <= p + len);
    out = g_new(uint32_t, (size_t)*w * *h);
    for (y = 0; y < *h; y++) {
        for (x = 0; x < *w; x++) {
            const uint8_t *q = px + (size_t)y * bpl + x * 4;

            v = hdr[7] ? be32(q) : (uint32_t)q[3] << 24 | q[2] << 16 |
                                   q[1] << 8 | q[0];
            out[y * *w + x] = ((v & rm) >> mask_shift(rm)) << 16 |
                              ((v & gm) >> mask_shift(gm)) << 8 |
                              ((v & bm) >> mask_shift(bm));
        }
    }
    unlink(path);
    rmdir(dir);
    return out;
}

/* Serve the loop until the window has shown n frames. */
static void
wait_presents(struct t_machine *t, struct sdl *s, uint64_t n)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;

    while (sdl_presents(s) < n) {
        T_ASSERT(g_get_monotonic_time() < end);
        dm_loop_iterate(t->dm, 0);
        g_usleep(2000);
    }
    g_usleep(100000);               /* the X server draws it */
}

/* The first pixel that differs, or -1. */
static int
window_diff(const uint32_t *px, int w, int h, uint32_t seed)
{
    int i;

    for (i = 0; i < w * h; i++) {
        if (px[i] != pattern(i % w, i / w, seed)) {
            return i;
        }
    }
    return -1;
}

/* The X server may draw a little after SDL presents (a loaded machine):
 * capture again for up to 10 s before calling a difference a failure. */
static void
expect_window(struct sdl *s, int w, int h, uint32_t seed)
{
    char title[256];
    uint32_t *px = NULL;
    int cw = 0, ch = 0, bad = -1, tries;

    sdl_title(s, title, sizeof(title));
    for (tries = 0; tries < 40; tries++) {
        g_free(px);
        px = xwd_capture(title, &cw, &ch);
        bad = cw == w && ch == h ? window_diff(px, w, h, seed) : 0;
        if (bad < 0) {
            break;
        }
        g_usleep(250000);
    }
    T_EQ(cw, w);
    T_EQ(ch, h);
    if (bad >= 0) {
        t_fail(__FILE__, __LINE__, "window pixel %d,%d: %06x != %06x",
               bad % w, bad / w, px[bad], pattern(bad % w, bad / w, seed));
    }
    g_free(px);
}

T_TEST(sdl_window_under_xvfb_shows_the_surface)
{
    struct t_opts o = { 0 };
    struct t_machine *t = t_machine_new(&o);
    struct display *d = display_new(t->dm, NULL, NULL);
    GPid xvfb = xvfb_start();
    char err[256], title[256];
    struct sdl *s;
    uint64_t n;
    gint64 end;

    fill(d, 1);
    s = sdl_start(t->dm, err, sizeof(err));
    if (!s) {
        t_fail(__FILE__, __LINE__, "%s", err);
    }
    sdl_title(s, title, sizeof(title));
    T_ASSERT(strstr(title, "Ctrl-Alt-G"));
    wait_presents(t, s, 1);
    expect_window(s, 640, 480, 1);
    /* A guest mode change: the window follows. */
    n = sdl_presents(s);
    T_EQ(display_resize(d, 800, 600), 0);
    fill(d, 2);
    display_refresh(d);
    wait_presents(t, s, n + 1);
    expect_window(s, 800, 600, 2);
    /* Closing the window is the power button, not an exit. */
    t_hv_log_clear(t);
    sdl_request_close(s);
    end = g_get_monotonic_time() + TIMEOUT_US;
    while (!strstr(t_hv_log(t), "power_button")) {
        T_ASSERT(g_get_monotonic_time() < end);
        dm_loop_iterate(t->dm, 0);
        g_usleep(2000);
    }
    sdl_stop(s);
    display_free(d);
    xvfb_stop(xvfb);
    t_machine_free(t);
}
