/*
 * bench/vnc: the VNC server (ui/vnc.c) in the machine harness with a
 * display of 1920x1080 and a local RFB client on loopback.
 *
 *   1. Full-screen updates: each frame changes every pixel, the display
 *      refreshes, the client asks for an incremental update and reads it
 *      (raw encoding: the server's own cost, no compression). Frames/s,
 *      against a baseline measured in the same run: the same bytes sent
 *      over a loopback TCP connection and read back (what any server must
 *      at least pay), as a ratio.
 *   2. No client: wake-ups of the VNC thread and refreshes of the display
 *      over one second of loop time. Must be 0.
 *   3. A client on a static screen: VNC-thread wake-ups and process CPU
 *      time per second while the display's refresh timer runs.
 *
 *   vnc [-f FRAMES] [-t SECONDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"         /* bench_now_s, t_fail */
#include "dm/loop.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/display.h"
#include "ui/vnc.h"

#define W   1920
#define H   1080

struct bench {
    struct t_machine *t;
    struct display *d;
    struct vnc *v;
    int fd;
    uint8_t *buf;
};

static void
pump(struct bench *b)
{
    dm_loop_iterate(b->t->dm, 0);
}

static void
rd(struct bench *b, void *buf, size_t n)
{
    struct pollfd p = { .fd = b->fd, .events = POLLIN };
    size_t got = 0;
    ssize_t r;

    while (got < n) {
        pump(b);
        if (poll(&p, 1, 1) <= 0) {
            continue;
        }
        r = recv(b->fd, (char *)buf + got, n - got, 0);
        if (r <= 0) {
            t_fail(__FILE__, __LINE__, "connection closed");
        }
        got += (size_t)r;
    }
}

static void
wr(struct bench *b, const void *buf, size_t n)
{
    if (send(b->fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n) {
        t_fail(__FILE__, __LINE__, "send: %s", strerror(errno));
    }
}

static int
connect_loopback(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        t_fail(__FILE__, __LINE__, "connect: %s", strerror(errno));
    }
    return fd;
}

/* RFC 6143 7.1-7.3 with no authentication, raw encoding only. */
static void
handshake(struct bench *b)
{
    static const uint8_t enc[8] = { rfbSetEncodings, 0, 0, 1, 0, 0, 0, 0 };
    uint8_t m[64], n;
    uint32_t len;

    b->fd = connect_loopback(vnc_port(b->v));
    rd(b, m, 12);
    wr(b, "RFB 003.008\n", 12);
    rd(b, &n, 1);
    rd(b, m, n);
    wr(b, "\1", 1);
    rd(b, m, 4);
    wr(b, "\1", 1);
    rd(b, m, 24);
    len = (uint32_t)m[20] << 24 | m[21] << 16 | m[22] << 8 | m[23];
    rd(b, m, MIN(len, sizeof(m)));
    wr(b, enc, sizeof(enc));
}

static void
request(struct bench *b, bool incremental)
{
    uint8_t m[10] = { rfbFramebufferUpdateRequest, incremental, 0, 0, 0, 0,
                      W >> 8, W & 0xff, H >> 8, H & 0xff };

    wr(b, m, sizeof(m));
}

/* One update; returns the pixels it carried. */
static size_t
read_update(struct bench *b)
{
    uint8_t h[12];
    unsigned int n, i;
    size_t px = 0, sz;

    rd(b, h, 4);
    n = (unsigned int)h[2] << 8 | h[3];
    for (i = 0; i < n; i++) {
        rd(b, h, 12);
        sz = (size_t)(h[4] << 8 | h[5]) * (h[6] << 8 | h[7]);
        rd(b, b->buf, sz * 4);
        px += sz;
    }
    return px;
}

static void
fill(struct display *d, uint32_t seed)
{
    uint32_t *p = pixman_image_get_data(display_image(d));
    size_t i;

    for (i = 0; i < (size_t)W * H; i++) {
        p[i] = (uint32_t)i * 2654435761u ^ seed;
    }
    display_dirty(d, 0, 0, W, H);
}

static double
frames_vnc(struct bench *b, int frames)
{
    double t0;
    int i;

    request(b, false);
    read_update(b);
    t0 = bench_now_s();
    for (i = 0; i < frames; i++) {
        fill(b->d, (uint32_t)i);
        display_refresh(b->d);
        request(b, true);
        if (read_update(b) != (size_t)W * H) {
            t_fail(__FILE__, __LINE__, "partial full-screen update");
        }
    }
    return frames / (bench_now_s() - t0);
}

/* Baseline: the same bytes through a loopback TCP pair, one thread each
 * side as the VNC thread and the client are. */
static gpointer
baseline_sender(gpointer opaque)
{
    int *args = opaque, i;
    size_t sz = (size_t)W * H * 4;
    uint8_t *src = g_malloc0(sz);

    for (i = 0; i < args[1]; i++) {
        if (send(args[0], src, sz, MSG_NOSIGNAL) != (ssize_t)sz) {
            break;
        }
    }
    g_free(src);
    return NULL;
}

static double
frames_baseline(int frames)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), args[2], c, i;
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    size_t sz = (size_t)W * H * 4, got;
    uint8_t *dst = g_malloc(sz);
    GThread *th;
    double t0;
    ssize_t r;

    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(ls, 1) < 0 || getsockname(ls, (struct sockaddr *)&sa,
                                         &sl) < 0) {
        t_fail(__FILE__, __LINE__, "baseline socket: %s", strerror(errno));
    }
    c = connect_loopback(ntohs(sa.sin_port));
    args[0] = accept(ls, NULL, NULL);
    args[1] = frames;
    t0 = bench_now_s();
    th = g_thread_new("baseline", baseline_sender, args);
    for (i = 0; i < frames; i++) {
        for (got = 0; got < sz; got += (size_t)r) {
            r = recv(c, dst + got, sz - got, 0);
            if (r <= 0) {
                t_fail(__FILE__, __LINE__, "baseline recv");
            }
        }
    }
    t0 = frames / (bench_now_s() - t0);
    g_thread_join(th);
    close(c);
    close(args[0]);
    close(ls);
    g_free(dst);
    return t0;
}

static double
cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Serve the loop for `secs` of wall time, the display timer on the dm
 * clock advanced with it; returns (wake-ups, refreshes, cpu seconds). */
static void
idle_for(struct bench *b, double secs, uint64_t *wakeups,
         uint64_t *refreshes, double *cpu)
{
    uint64_t w0 = vnc_thread_wakeups(b->v);
    uint64_t r0 = display_refresh_count(b->d);
    double c0 = cpu_s(), end = bench_now_s() + secs;

    while (bench_now_s() < end) {
        t_clock_step(b->t, 10 * 1000 * 1000);   /* 10 ms */
        pump(b);
        g_usleep(10000);
    }
    *wakeups = vnc_thread_wakeups(b->v) - w0;
    *refreshes = display_refresh_count(b->d) - r0;
    *cpu = cpu_s() - c0;
}

int
main(int argc, char **argv)
{
    struct t_opts o = { 0 };
    struct bench b = { 0 };
    int frames = 60, opt;
    double secs = 1.0, fps, base, cpu;
    uint64_t wk, rf;
    char err[256];

    while ((opt = getopt(argc, argv, "f:t:")) != -1) {
        if (opt == 'f') {
            frames = atoi(optarg);
        } else if (opt == 't') {
            secs = atof(optarg);
        } else {
            fprintf(stderr, "usage: vnc [-f FRAMES] [-t SECONDS]\n");
            return 2;
        }
    }
    b.t = t_machine_new(&o);
    b.d = display_new(b.t->dm, NULL, NULL);
    display_resize(b.d, W, H);
    b.buf = g_malloc((size_t)W * H * 4);
    b.v = vnc_start(b.t->dm, "127.0.0.1:40,to=99", NULL, err, sizeof(err));
    if (!b.v) {
        t_fail(__FILE__, __LINE__, "vnc_start: %s", err);
    }
    idle_for(&b, secs, &wk, &rf, &cpu);
    printf("vnc: no client: %.1f wake-ups/s of the VNC thread, %.1f "
           "display refreshes/s, %.1f%% CPU of this process with its 10 ms "
           "loop driver (the first two must be 0)\n",
           wk / secs, rf / secs, 100 * cpu / secs);
    if (wk || rf) {
        t_fail(__FILE__, __LINE__, "work with no client");
    }
    handshake(&b);
    fps = frames_vnc(&b, frames);
    base = frames_baseline(frames);
    printf("vnc: full-screen %dx%d raw updates to a local client: %.1f "
           "frames/s (baseline: the same bytes over loopback TCP, %.1f "
           "frames/s; ratio %.2f)\n", W, H, fps, base, fps / base);
    request(&b, true);              /* outstanding, as a viewer keeps one */
    idle_for(&b, secs, &wk, &rf, &cpu);
    printf("vnc: one client, static screen: %.1f VNC-thread wake-ups/s, "
           "%.1f display refreshes/s, %.2f%% CPU of this process\n",
           wk / secs, rf / secs,
           100 * cpu / secs);
    close(b.fd);
    vnc_stop(b.v);
    display_free(b.d);
    t_machine_free(b.t);
    g_free(b.buf);
    return 0;
}
