/*
 * bench/vnc: the VNC server (ui/vnc.c) in the machine harness with a
 * display of 1920x1080 and a local RFB client on loopback.
 *
 *   1. Full-screen updates: each frame changes every pixel, the display
 *      refreshes, the client asks for an incremental update and reads it
 *      (raw encoding: the server's own cost, no compression). Frames/s,
 *      against a baseline measured in the same run: the same bytes sent
 *      over a loopback TCP connection and read back (what any server must
 *      at least pay), as a ratio. The two alternate in rounds, so a busy
 *      host slows both alike; the time the bench spends drawing each
 *      frame (the guest's work, not the server's) is left out. Also the
 *      CPU time per frame of each (all threads of this process).
 *   2. No client: wake-ups of the VNC thread and refreshes of the display
 *      over one second of loop time. Must be 0.
 *   3. A client on a static screen: VNC-thread wake-ups and process CPU
 *      time per second while the display's refresh timer runs.
 *
 *   vnc [-f FRAMES] [-r ROUNDS] [-t SECONDS]
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
#include <time.h>
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
    int base_fd[2];                 /* baseline: receiving, sending end */
};

/* Wall seconds and CPU seconds (all threads) of some frames. */
struct cost {
    double wall, cpu;
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
cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
thread_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Frames through the VNC server; the drawing is not counted. */
static void
frames_vnc(struct bench *b, int frames, uint32_t seed, struct cost *c)
{
    double t0, c0, f0, draw = 0, draw_cpu = 0;
    int i;

    t0 = bench_now_s();
    c0 = cpu_s();
    for (i = 0; i < frames; i++) {
        f0 = thread_cpu_s();
        draw -= bench_now_s();
        fill(b->d, seed + (uint32_t)i);
        draw += bench_now_s();
        draw_cpu += thread_cpu_s() - f0;
        display_refresh(b->d);
        request(b, true);
        if (read_update(b) != (size_t)W * H) {
            t_fail(__FILE__, __LINE__, "partial full-screen update");
        }
    }
    c->wall += bench_now_s() - t0 - draw;
    c->cpu += cpu_s() - c0 - draw_cpu;
}

/* Baseline: the same bytes through a loopback TCP pair, one thread each
 * side as the VNC thread and the client are. */
struct baseline_job {
    int fd, frames;
};

static gpointer
baseline_sender(gpointer opaque)
{
    struct baseline_job *job = opaque;
    size_t sz = (size_t)W * H * 4;
    uint8_t *src = g_malloc0(sz);
    int i;

    for (i = 0; i < job->frames; i++) {
        if (send(job->fd, src, sz, MSG_NOSIGNAL) != (ssize_t)sz) {
            break;
        }
    }
    g_free(src);
    return NULL;
}

static void
baseline_open(struct bench *b)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);

    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(ls, 1) < 0 || getsockname(ls, (struct sockaddr *)&sa,
                                         &sl) < 0) {
        t_fail(__FILE__, __LINE__, "baseline socket: %s", strerror(errno));
    }
    b->base_fd[0] = connect_loopback(ntohs(sa.sin_port));
    b->base_fd[1] = accept(ls, NULL, NULL);
    close(ls);
}

static void
frames_baseline(struct bench *b, int frames, struct cost *c)
{
    struct baseline_job job = { b->base_fd[1], frames };
    size_t sz = (size_t)W * H * 4, got;
    GThread *th;
    double t0 = bench_now_s(), c0 = cpu_s();
    ssize_t r;
    int i;

    th = g_thread_new("baseline", baseline_sender, &job);
    for (i = 0; i < frames; i++) {
        for (got = 0; got < sz; got += (size_t)r) {
            r = recv(b->base_fd[0], b->buf + got, sz - got, 0);
            if (r <= 0) {
                t_fail(__FILE__, __LINE__, "baseline recv");
            }
        }
    }
    g_thread_join(th);
    c->wall += bench_now_s() - t0;
    c->cpu += cpu_s() - c0;
}

/* Rounds of VNC frames then baseline frames; prints the figures. */
static void
full_screen(struct bench *b, int frames, int rounds)
{
    struct cost v = { 0 }, base = { 0 };
    int i, n = rounds * frames;

    request(b, false);
    read_update(b);
    baseline_open(b);
    for (i = 0; i < rounds; i++) {
        frames_vnc(b, frames, (uint32_t)(i * frames), &v);
        frames_baseline(b, frames, &base);
    }
    printf("vnc: full-screen %dx%d raw updates to a local client: %.1f "
           "frames/s, %.2f ms CPU/frame (baseline: the same bytes over "
           "loopback TCP, %.1f frames/s, %.2f ms CPU/frame; ratio %.2f "
           "frames/s, %.2f CPU) [%d rounds of %d]\n", W, H, n / v.wall,
           1e3 * v.cpu / n, n / base.wall, 1e3 * base.cpu / n,
           base.wall / v.wall, base.cpu / v.cpu, rounds, frames);
    close(b->base_fd[0]);
    close(b->base_fd[1]);
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
    int frames = 12, rounds = 5, opt;
    double secs = 1.0, cpu;
    uint64_t wk, rf;
    char err[256];

    while ((opt = getopt(argc, argv, "f:r:t:")) != -1) {
        if (opt == 'f') {
            frames = MAX(atoi(optarg), 1);
        } else if (opt == 'r') {
            rounds = MAX(atoi(optarg), 1);
        } else if (opt == 't') {
            secs = atof(optarg);
        } else {
            fprintf(stderr, "usage: vnc [-f FRAMES] [-r ROUNDS] "
                    "[-t SECONDS]\n");
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
    full_screen(&b, frames, rounds);
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
