/*
 * bench/ioreq: round trip of a synchronous PIO read through hvmdm's service
 * loop (GLib main loop, ioreq service, address map, a device) over an
 * eventfd pair, one thread playing the hypervisor. The baseline is a bare
 * eventfd ping-pong between the same two threads, measured in the same run
 * and interleaved in rounds so machine noise hits both alike.
 *
 * Prints the median and p99 round trip of each, their ratio (target <= 1.3)
 * and the time per request spent inside hvmdm, from the event read to the
 * notify (target < 0.5 us).
 *
 *   ioreq [-n ITERATIONS] [-r ROUNDS]
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <xen/hvm/ioreq.h>

#include "dm/hv.h"
#include "dm/ioreq.h"
#include "dm/iomap.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"

#define VCPU_PORT 10

struct bench_hv {
    struct hv hv;
    ioreq_t *sync;
    int to_dm;                  /* the "event channel" into hvmdm */
    int to_hv;                  /* notifications back */
    uint64_t t_event;           /* when the pending port was read */
    uint64_t inside_ns;         /* summed event -> notify */
    uint64_t inside_n;
};

struct bench {
    struct bench_hv *bh;
    struct dm *dm;
    struct iomap_region reg;
    uint8_t value;
    int mode;                   /* 0 idle, 1 baseline, 2 hvmdm, 3 quit */
    GMutex lock;
    GCond cond;
    int ping, pong;             /* baseline eventfds */
    unsigned int iters;
};

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
efd_write(int fd)
{
    uint64_t one = 1;

    while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

static uint64_t
efd_read(int fd)
{
    uint64_t v = 0;

    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
    return v;
}

static struct bench_hv *
to_bh(struct hv *hv)
{
    return (struct bench_hv *)hv;
}

static void *
bh_sync_page(struct hv *hv)
{
    return to_bh(hv)->sync;
}

static void *
bh_buf_page(struct hv *hv)
{
    return NULL;
}

static unsigned int
bh_nr_vcpus(struct hv *hv)
{
    return 1;
}

static int
bh_evtchn_fd(struct hv *hv)
{
    return to_bh(hv)->to_dm;
}

static int
bh_evtchn_pending(struct hv *hv)
{
    struct bench_hv *b = to_bh(hv);
    uint64_t v;

    if (read(b->to_dm, &v, sizeof(v)) != sizeof(v)) {
        return -1;
    }
    b->t_event = now_ns();
    return VCPU_PORT;
}

static void
bh_evtchn_unmask(struct hv *hv, int port)
{
}

static void
bh_evtchn_notify(struct hv *hv, int port)
{
    struct bench_hv *b = to_bh(hv);

    b->inside_ns += now_ns() - b->t_event;
    b->inside_n++;
    efd_write(b->to_hv);
}

static int
bh_vcpu_port(struct hv *hv, unsigned int vcpu)
{
    return VCPU_PORT;
}

static int
bh_buf_port(struct hv *hv)
{
    return -1;
}

static int
bh_io_range(struct hv *hv, enum hv_io_space space, uint64_t s, uint64_t e)
{
    return 0;
}

static int
bh_pcidev(struct hv *hv, unsigned int bus, unsigned int dev, unsigned int fn)
{
    return 0;
}

static const struct hv_ops bench_hv_ops = {
    .name = "bench",
    .sync_page = bh_sync_page,
    .buf_page = bh_buf_page,
    .nr_vcpus = bh_nr_vcpus,
    .evtchn_fd = bh_evtchn_fd,
    .evtchn_pending = bh_evtchn_pending,
    .evtchn_unmask = bh_evtchn_unmask,
    .evtchn_notify = bh_evtchn_notify,
    .vcpu_port = bh_vcpu_port,
    .buf_port = bh_buf_port,
    .map_io_range = bh_io_range,
    .unmap_io_range = bh_io_range,
    .map_pcidev = bh_pcidev,
    .unmap_pcidev = bh_pcidev,
};

/* The device under the request: one scratch register. */
static uint64_t
scratch_read(void *opaque, uint64_t off, unsigned int size)
{
    return ((struct bench *)opaque)->value;
}

static void
scratch_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    ((struct bench *)opaque)->value = (uint8_t)val;
}

static const struct iomap_ops scratch_ops = {
    .read = scratch_read,
    .write = scratch_write,
    .min_size = 1,
    .max_size = 1,
};

static void
on_event(void *opaque)
{
    struct bench *b = opaque;

    ioreq_svc_event(b->dm->ioreq);
}

/* The device-model thread: baseline echo, or hvmdm's loop, on request. */
static gpointer
dm_thread(gpointer opaque)
{
    struct bench *b = opaque;
    GMainContext *ctx = g_main_context_default();

    for (;;) {
        int mode;

        g_mutex_lock(&b->lock);
        while (b->mode == 0) {
            g_cond_wait(&b->cond, &b->lock);
        }
        mode = b->mode;
        g_mutex_unlock(&b->lock);
        if (mode == 3) {
            return NULL;
        }
        if (mode == 1) {
            for (unsigned int i = 0; i < b->iters; i++) {
                efd_read(b->ping);
                efd_write(b->pong);
            }
        } else {
            /* An iteration may serve no request (or, in principle, more
             * than one): count answered requests, not iterations. */
            uint64_t target = b->bh->inside_n + b->iters;

            while (b->bh->inside_n < target) {
                g_main_context_iteration(ctx, TRUE);
            }
        }
        g_mutex_lock(&b->lock);
        b->mode = 0;
        g_cond_signal(&b->cond);
        g_mutex_unlock(&b->lock);
    }
}

static void
set_mode(struct bench *b, int mode)
{
    g_mutex_lock(&b->lock);
    b->mode = mode;
    g_cond_signal(&b->cond);
    g_mutex_unlock(&b->lock);
}

static void
wait_idle(struct bench *b)
{
    g_mutex_lock(&b->lock);
    while (b->mode != 0) {
        g_cond_wait(&b->cond, &b->lock);
    }
    g_mutex_unlock(&b->lock);
}

static void
run_baseline(struct bench *b, uint64_t *lat)
{
    set_mode(b, 1);
    for (unsigned int i = 0; i < b->iters; i++) {
        uint64_t t0 = now_ns();

        efd_write(b->ping);
        efd_read(b->pong);
        lat[i] = now_ns() - t0;
    }
    wait_idle(b);
}

/* Xen's side of one PIO read (X:common/ioreq.c ioreq_send). */
static void
run_hvmdm(struct bench *b, uint64_t *lat)
{
    ioreq_t *slot = b->bh->sync;
    uint8_t *flags = (uint8_t *)slot + 30;

    set_mode(b, 2);
    for (unsigned int i = 0; i < b->iters; i++) {
        uint64_t t0 = now_ns();

        slot->addr = 0x80;
        slot->data = 0;
        slot->count = 1;
        slot->size = 1;
        slot->type = IOREQ_TYPE_PIO;
        __atomic_store_n(flags, (uint8_t)(IOREQ_READ << 5 | STATE_IOREQ_READY),
                         __ATOMIC_RELEASE);
        efd_write(b->bh->to_dm);
        efd_read(b->bh->to_hv);
        if ((__atomic_load_n(flags, __ATOMIC_ACQUIRE) & 0xf) !=
            STATE_IORESP_READY || slot->data != b->value) {
            fprintf(stderr, "ioreq: bad response at iteration %u\n", i);
            exit(1);
        }
        __atomic_store_n(flags, 0, __ATOMIC_RELEASE);
        lat[i] = now_ns() - t0;
    }
    wait_idle(b);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static double
pct(uint64_t *v, size_t n, double p)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    return (double)v[(size_t)(p * (double)(n - 1))] / 1000.0;
}

static void
bench_setup(struct bench *b)
{
    struct bench_hv *bh = g_new0(struct bench_hv, 1);

    bh->hv.ops = &bench_hv_ops;
    bh->sync = g_malloc0(4096);
    bh->sync[0].vp_eport = VCPU_PORT;
    bh->to_dm = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    bh->to_hv = eventfd(0, EFD_CLOEXEC);
    b->ping = eventfd(0, EFD_CLOEXEC);
    b->pong = eventfd(0, EFD_CLOEXEC);
    if (bh->to_dm < 0 || bh->to_hv < 0 || b->ping < 0 || b->pong < 0) {
        perror("eventfd");
        exit(1);
    }
    b->bh = bh;
    b->dm = dm_new(&bh->hv, 0, 1);
    if (dm_loop_init(b->dm) < 0) {
        fprintf(stderr, "ioreq: loop init failed\n");
        exit(1);
    }
    ioreq_svc_new(b->dm);
    iomap_region_init(&b->reg, "scratch", 1, &scratch_ops, b);
    if (iomap_add(b->dm->pio, &b->reg, 0x80) < 0) {
        exit(1);
    }
    b->value = 0x5a;
    dm_loop_watch_fd(b->dm, bh->to_dm, on_event, b);
    g_mutex_init(&b->lock);
    g_cond_init(&b->cond);
}

int
main(int argc, char **argv)
{
    struct bench b = { .iters = 20000 };
    unsigned int rounds = 5;
    uint64_t *base, *dm, *lat;
    GThread *th;
    int opt;

    while ((opt = getopt(argc, argv, "n:r:")) != -1) {
        if (opt == 'n') {
            b.iters = (unsigned int)strtoul(optarg, NULL, 0);
        } else if (opt == 'r') {
            rounds = (unsigned int)strtoul(optarg, NULL, 0);
        } else {
            fprintf(stderr, "usage: %s [-n ITERATIONS] [-r ROUNDS]\n",
                    argv[0]);
            return 2;
        }
    }
    if (b.iters < 100 || rounds < 1) {
        fprintf(stderr, "ioreq: need -n >= 100 and -r >= 1\n");
        return 2;
    }
    bench_setup(&b);
    base = g_new(uint64_t, (size_t)b.iters * rounds);
    dm = g_new(uint64_t, (size_t)b.iters * rounds);
    lat = g_new(uint64_t, b.iters);
    th = g_thread_new("dm", dm_thread, &b);
    run_hvmdm(&b, lat);                     /* warm-up */
    run_baseline(&b, lat);
    b.bh->inside_ns = b.bh->inside_n = 0;
    for (unsigned int r = 0; r < rounds; r++) {
        run_baseline(&b, base + (size_t)r * b.iters);
        run_hvmdm(&b, dm + (size_t)r * b.iters);
    }
    set_mode(&b, 3);
    g_thread_join(th);

    size_t n = (size_t)b.iters * rounds;
    double bmed = pct(base, n, 0.5), bp99 = pct(base, n, 0.99);
    double dmed = pct(dm, n, 0.5), dp99 = pct(dm, n, 0.99);
    double inside = (double)b.bh->inside_ns / (double)b.bh->inside_n / 1e3;

    printf("ioreq round trip, %zu requests in %u interleaved rounds\n", n,
           rounds);
    printf("  baseline eventfd ping-pong: median %.2f us  p99 %.2f us\n",
           bmed, bp99);
    printf("  hvmdm PIO read via loop:    median %.2f us  p99 %.2f us\n",
           dmed, dp99);
    printf("  ratio (median): %.2f  (target <= 1.3)\n", dmed / bmed);
    printf("  ratio (p99):    %.2f\n", dp99 / bp99);
    printf("  inside hvmdm, event to notify: %.3f us  (target < 0.5)\n",
           inside);
    g_free(base);
    g_free(dm);
    g_free(lat);
    return 0;
}
