/*
 * bench/ioreq: round trip of a synchronous PIO read through hvmdm's loop
 * (dm/loop.c with the event channel on its fast path, the ioreq service,
 * the address map, a device) over an eventfd pair, one thread playing the
 * hypervisor. The baseline is a bare eventfd ping-pong between the same two
 * threads, measured in the same run and interleaved with hvmdm without
 * spin and hvmdm with its adaptive spin in batches of 1,000 requests, so
 * machine noise hits all three alike.
 *
 * A wake-up's cost depends on the machine's state: a CPU in deep idle
 * takes tens of microseconds to wake, a busy one one or two, and a host
 * flips between the two for tens of milliseconds at a time. So every
 * round trip is classed cheap (< 10 us) or expensive, and the two kinds
 * are compared apart: each round prints, per side, the share of expensive
 * ones, the median of each kind, p99 and p99.9, and the ratio of hvmdm's
 * median over the baseline's for each kind (a median over a mix of both
 * kinds compares whichever kind happens to hold the middle). The rounds
 * run under two conditions: "idle" (nothing else from us runs) and "busy"
 * (a SCHED_IDLE helper spins on every CPU to keep it out of deep idle;
 * any real thread preempts it at once). Targets: ratio <= 1.3 on either
 * kind, no more expensive wake-ups than the baseline; an idle guest costs
 * 0 wake-ups and no CPU, spin or no spin.
 *
 *   ioreq [-n ITERATIONS] [-r ROUNDS] [-s SPIN_US] [-c idle|busy|both]
 */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <sched.h>
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
    uint64_t answers;           /* notifications sent */
    bool timing;                /* time event -> notify (an untimed pass) */
    uint64_t t_event;           /* when the pending port was read */
    uint64_t inside_ns;         /* summed event -> notify */
    uint64_t inside_n;
};

enum mode { M_WAIT, M_BASE, M_DM, M_QUIT, M_IDLE };

struct bench {
    struct bench_hv *bh;
    struct dm *dm;
    struct iomap_region reg;
    uint8_t value;
    int mode;                   /* enum mode */
    GMutex lock;
    GCond cond;
    int ping, pong;             /* baseline eventfds */
    unsigned int iters;         /* requests per side per round */
    unsigned int n;             /* requests in the current batch */
    uint64_t target;            /* answers to reach in M_DM */
    uint64_t spin_ns;           /* for the next M_DM */
    uint64_t idle_sleeps;       /* M_IDLE: sleeps, CPU of the dm thread */
    uint64_t idle_cpu_us;
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
    if (b->timing) {
        b->t_event = now_ns();
    }
    return VCPU_PORT;
}

static int
bh_evtchn_unmask(struct hv *hv, int port)
{
    return 0;
}

static void
bh_evtchn_notify(struct hv *hv, int port)
{
    struct bench_hv *b = to_bh(hv);

    if (b->timing && b->t_event) {
        b->inside_ns += now_ns() - b->t_event;
        b->inside_n++;
        b->t_event = 0;
    }
    b->answers++;
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

static unsigned int
fast_serve(void *opaque)
{
    return ioreq_svc_event(opaque);
}

static bool
fast_peek(void *opaque)
{
    return ioreq_svc_peek(opaque);
}

static const struct dm_loop_fast_ops fast_ops = {
    .serve = fast_serve,
    .peek = fast_peek,
};

static uint64_t
thread_cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static gboolean
idle_over(gpointer opaque)
{
    *(bool *)opaque = true;
    return G_SOURCE_REMOVE;
}

/*
 * An idle guest right after a burst (the spin's budget is at its largest):
 * one second in the loop, ended by a GLib timer, which is the one wake-up
 * this should cost.
 */
static void
dm_idle(struct bench *b)
{
    const struct dm_loop_stats *st = dm_loop_stats(b->dm);
    uint64_t sleeps = st->sleeps, cpu = thread_cpu_us();
    bool over = false;

    g_timeout_add(1000, idle_over, &over);
    while (!over) {
        dm_loop_iterate(b->dm, 1);
    }
    b->idle_sleeps = st->sleeps - sleeps;
    b->idle_cpu_us = thread_cpu_us() - cpu;
}

static bool
dm_served_all(void *opaque)
{
    struct bench *b = opaque;

    return b->bh->answers >= b->target;
}

/* As dm_loop_run runs the loop, until iters answers went out. */
static void
dm_serve(struct bench *b)
{
    b->target = b->bh->answers + b->n;
    dm_loop_set_spin(b->dm, b->spin_ns);
    dm_loop_run_until(b->dm, dm_served_all, b);
}

/* The device-model thread: baseline echo, or hvmdm's loop, on request. */
static gpointer
dm_thread(gpointer opaque)
{
    struct bench *b = opaque;

    for (;;) {
        int mode;

        g_mutex_lock(&b->lock);
        while (b->mode == M_WAIT) {
            g_cond_wait(&b->cond, &b->lock);
        }
        mode = b->mode;
        g_mutex_unlock(&b->lock);
        if (mode == M_QUIT) {
            return NULL;
        }
        if (mode == M_BASE) {
            for (unsigned int i = 0; i < b->n; i++) {
                efd_read(b->ping);
                efd_write(b->pong);
            }
        } else if (mode == M_IDLE) {
            dm_idle(b);
        } else {
            dm_serve(b);
        }
        g_mutex_lock(&b->lock);
        b->mode = M_WAIT;
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
    while (b->mode != M_WAIT) {
        g_cond_wait(&b->cond, &b->lock);
    }
    g_mutex_unlock(&b->lock);
}

/*
 * A batch: BATCH_LEAD requests that are not recorded (the device-model
 * thread is still on its way from the mode switch), then n recorded ones.
 */
#define BATCH_LEAD 2

static void
run_baseline(struct bench *b, uint64_t *lat, unsigned int n)
{
    b->n = n + BATCH_LEAD;
    set_mode(b, M_BASE);
    for (unsigned int i = 0; i < b->n; i++) {
        uint64_t t0 = now_ns();

        efd_write(b->ping);
        efd_read(b->pong);
        if (i >= BATCH_LEAD) {
            lat[i - BATCH_LEAD] = now_ns() - t0;
        }
    }
    wait_idle(b);
}

/* Xen's side of one PIO read (X:common/ioreq.c ioreq_send). */
static void
run_hvmdm(struct bench *b, uint64_t *lat, unsigned int n)
{
    ioreq_t *slot = b->bh->sync;
    uint8_t *flags = (uint8_t *)slot + 30;

    b->n = n + BATCH_LEAD;
    set_mode(b, M_DM);
    for (unsigned int i = 0; i < b->n; i++) {
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
        if (i >= BATCH_LEAD) {
            lat[i - BATCH_LEAD] = now_ns() - t0;
        }
    }
    wait_idle(b);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

#define CHEAP_WAKE_US 10.0
#define KIND_MIN_SHARE 0.05     /* a kind rarer than this has no median */

/*
 * One side's round, in microseconds: the share of expensive wake-ups
 * (round trips >= CHEAP_WAKE_US), the median of the cheap ones and of the
 * expensive ones (0: too few), the median, p99 and p99.9 of all.
 */
struct pcts {
    double exp_share, cheap, exp;
    double med, p99, p999;
};

static struct pcts
percentiles(uint64_t *v, size_t n)
{
    struct pcts p = { 0 };
    size_t c = 0;

    qsort(v, n, sizeof(*v), cmp_u64);
    while (c < n && (double)v[c] < CHEAP_WAKE_US * 1000.0) {
        c++;
    }
    p.exp_share = (double)(n - c) / (double)n;
    if ((double)c >= KIND_MIN_SHARE * (double)n) {
        p.cheap = (double)v[c / 2] / 1000.0;
    }
    if ((double)(n - c) >= KIND_MIN_SHARE * (double)n) {
        p.exp = (double)v[c + (n - c) / 2] / 1000.0;
    }
    p.med = (double)v[n / 2] / 1000.0;
    p.p99 = (double)v[(size_t)(0.99 * (double)(n - 1))] / 1000.0;
    p.p999 = (double)v[(size_t)(0.999 * (double)(n - 1))] / 1000.0;
    return p;
}

/* ---- helpers that keep the CPUs out of deep idle ---------------------- */

struct spinners {
    pthread_t th[64];
    unsigned int n;
    volatile bool stop;
};

static void *
spinner(void *opaque)
{
    struct spinners *sp = opaque;
    struct sched_param prio = { 0 };

    pthread_setschedparam(pthread_self(), SCHED_IDLE, &prio);
    while (!sp->stop) {
        __builtin_ia32_pause();
    }
    return NULL;
}

static void
spinners_start(struct spinners *sp)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    sp->stop = false;
    sp->n = 0;
    while (sp->n < (unsigned int)MIN(MAX(cpus, 1), 64)) {
        if (pthread_create(&sp->th[sp->n], NULL, spinner, sp) != 0) {
            break;
        }
        sp->n++;
    }
}

static void
spinners_stop(struct spinners *sp)
{
    sp->stop = true;
    while (sp->n) {
        pthread_join(sp->th[--sp->n], NULL);
    }
}

/* ---- rounds ------------------------------------------------------------ */

/* Per kind of wake-up (cheap, expensive): ratios of hvmdm's median over
 * the baseline's in the rounds that had enough of that kind. */
struct kind_sum {
    double ratio[2][64];        /* no spin, spin */
    double base[64];
    unsigned int rounds;
};

struct cond_sum {
    const char *name;
    struct kind_sum kind[2];
    double exp_share[3];        /* summed over rounds: base, hvmdm, spin */
    unsigned int rounds;
};

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
median_of(const double *v, unsigned int n)
{
    double tmp[64];

    memcpy(tmp, v, n * sizeof(*v));
    qsort(tmp, n, sizeof(*tmp), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void
print_pcts(const struct pcts *p)
{
    printf(" %3.0f%% %6.2f %6.2f %7.2f %7.2f", p->exp_share * 100, p->cheap,
           p->exp, p->p99, p->p999);
}

/* One kind's ratios for this round, if both sides had enough of it. */
static void
kind_round(struct kind_sum *k, double base, double dm, double spin)
{
    if (base > 0 && dm > 0 && spin > 0) {
        k->base[k->rounds] = base;
        k->ratio[0][k->rounds] = dm / base;
        k->ratio[1][k->rounds] = spin / base;
        k->rounds++;
    }
}

static void
print_ratio(double base, double side)
{
    if (base > 0 && side > 0) {
        printf(" %5.2f", side / base);
    } else {
        printf("     -");
    }
}

/*
 * The three sides take turns in batches of BATCH requests (who goes first
 * rotates): a wake-up's cost flips between cheap and expensive with the
 * host's state for tens of milliseconds at a time (the guest's halt
 * polling adapts, the host's load comes and goes), and a side measured in
 * one block of 20,000 requests could meet the other kind than the side
 * beside it (seen: baseline 56.7 us against hvmdm 2.0 us in one round).
 */
#define BATCH 1000

static void
run_batches(struct bench *b, uint64_t spin_ns, uint64_t *lat[3])
{
    for (unsigned int k = 0, turn = 0; k < b->iters; k += BATCH, turn++) {
        unsigned int n = MIN(BATCH, b->iters - k);

        for (unsigned int j = 0; j < 3; j++) {
            unsigned int side = (turn + j) % 3;

            b->spin_ns = side == 2 ? spin_ns : 0;
            if (side == 0) {
                run_baseline(b, lat[0] + k, n);
            } else {
                run_hvmdm(b, lat[side] + k, n);
            }
        }
    }
}

static void
one_round(struct bench *b, uint64_t spin_ns, uint64_t *lat[3],
          struct cond_sum *cs)
{
    struct pcts base, dm, spin;
    unsigned int r = cs->rounds++;

    run_batches(b, spin_ns, lat);
    base = percentiles(lat[0], b->iters);
    dm = percentiles(lat[1], b->iters);
    spin = percentiles(lat[2], b->iters);
    kind_round(&cs->kind[0], base.cheap, dm.cheap, spin.cheap);
    kind_round(&cs->kind[1], base.exp, dm.exp, spin.exp);
    cs->exp_share[0] += base.exp_share;
    cs->exp_share[1] += dm.exp_share;
    cs->exp_share[2] += spin.exp_share;
    printf("  %-4s %2u", cs->name, r + 1);
    print_pcts(&base);
    print_pcts(&dm);
    print_ratio(base.cheap, dm.cheap);
    print_ratio(base.exp, dm.exp);
    print_pcts(&spin);
    print_ratio(base.cheap, spin.cheap);
    print_ratio(base.exp, spin.exp);
    printf("\n");
}

static void
run_condition(struct bench *b, struct cond_sum *cs, unsigned int rounds,
              uint64_t spin_ns, uint64_t *lat[3])
{
    struct spinners sp;
    bool busy = !strcmp(cs->name, "busy");

    if (busy) {
        spinners_start(&sp);
    }
    for (unsigned int r = 0; r < rounds; r++) {
        one_round(b, spin_ns, lat, cs);
    }
    if (busy) {
        spinners_stop(&sp);
    }
}

static void
print_summary(const struct cond_sum *cs)
{
    static const char *const kinds[2] = { "cheap", "expensive" };

    printf("  %s: expensive wake-ups %.0f%% of the baseline's round trips, "
           "%.0f%% of hvmdm's, %.0f%% with spin\n", cs->name,
           cs->exp_share[0] * 100 / cs->rounds,
           cs->exp_share[1] * 100 / cs->rounds,
           cs->exp_share[2] * 100 / cs->rounds);
    for (unsigned int k = 0; k < 2; k++) {
        const struct kind_sum *ks = &cs->kind[k];

        if (!ks->rounds) {
            printf("    %s wake-ups: too few to compare\n", kinds[k]);
            continue;
        }
        printf("    %s wake-ups: baseline median %.2f us; ratio hvmdm %.2f, "
               "with spin %.2f (median of %u rounds; target <= 1.3)\n",
               kinds[k], median_of(ks->base, ks->rounds),
               median_of(ks->ratio[0], ks->rounds),
               median_of(ks->ratio[1], ks->rounds), ks->rounds);
    }
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
    dm_loop_set_fast(b->dm, bh->to_dm, &fast_ops, b->dm->ioreq);
    g_mutex_init(&b->lock);
    g_cond_init(&b->cond);
}

static void
usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-n ITERATIONS] [-r ROUNDS] [-s SPIN_US] "
            "[-c idle|busy|both]\n", argv0);
    exit(2);
}

static void
idle_cost(struct bench *b, uint64_t spin_ns)
{
    uint64_t *lat = g_new(uint64_t, b->iters);

    b->spin_ns = spin_ns;
    run_hvmdm(b, lat, b->iters);            /* the spin budget grows */
    g_free(lat);
    set_mode(b, M_IDLE);
    wait_idle(b);
    printf("  idle guest for 1 s after a burst (spin max %.0f us): "
           "%" PRIu64 " wake-ups besides the timer that ends it, "
           "%.2f ms CPU (target 0)\n", (double)spin_ns / 1e3,
           b->idle_sleeps ? b->idle_sleeps - 1 : 0,
           (double)b->idle_cpu_us / 1e3);
}

int
main(int argc, char **argv)
{
    struct bench b = { .iters = 20000 };
    struct cond_sum conds[2] = { { .name = "idle" }, { .name = "busy" } };
    unsigned int rounds = 5, first = 0, last = 1;
    uint64_t spin_ns = 20000, *lat[3];
    GThread *th;
    int opt;

    while ((opt = getopt(argc, argv, "n:r:s:c:")) != -1) {
        if (opt == 'n') {
            b.iters = (unsigned int)strtoul(optarg, NULL, 0);
        } else if (opt == 'r') {
            rounds = (unsigned int)strtoul(optarg, NULL, 0);
        } else if (opt == 's') {
            spin_ns = strtoull(optarg, NULL, 0) * 1000;
        } else if (opt == 'c' && strcmp(optarg, "both")) {
            if (strcmp(optarg, "idle") && strcmp(optarg, "busy")) {
                usage(argv[0]);
            }
            first = last = !strcmp(optarg, "busy");
        } else if (opt != 'c') {
            usage(argv[0]);
        }
    }
    if (b.iters < 1000 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "ioreq: need -n >= 1000 and 1 <= -r <= 64\n");
        return 2;
    }
    bench_setup(&b);
    for (unsigned int i = 0; i < 3; i++) {
        lat[i] = g_new(uint64_t, b.iters);
    }
    th = g_thread_new("dm", dm_thread, &b);
    run_hvmdm(&b, lat[0], b.iters);         /* warm-up */
    run_baseline(&b, lat[0], b.iters);

    printf("ioreq round trip: synchronous PIO read, %u requests per round, "
           "%ld CPUs online, spin max %.0f us\n", b.iters,
           sysconf(_SC_NPROCESSORS_ONLN), (double)spin_ns / 1e3);
    printf("  per side: share of expensive wake-ups (>= %.0f us), median of "
           "the cheap and of the expensive round trips, p99, p99.9 (us);\n"
           "  ratios: hvmdm's median over the baseline's, cheap and "
           "expensive apart\n", CHEAP_WAKE_US);
    printf("  cond  #  baseline: exp cheap    exp     p99   p99.9"
           "  hvmdm                                ratio c/e"
           "  hvmdm+spin                           ratio c/e\n");
    for (unsigned int c = first; c <= last; c++) {
        run_condition(&b, &conds[c], rounds, spin_ns, lat);
    }
    for (unsigned int c = first; c <= last; c++) {
        print_summary(&conds[c]);
    }
    /* Its own pass: the clock reads stay out of the timed rounds. */
    b.bh->timing = true;
    b.spin_ns = 0;
    run_hvmdm(&b, lat[0], b.iters);
    b.bh->timing = false;
    printf("  inside hvmdm, event to notify: %.3f us (target < 0.5)\n",
           (double)b.bh->inside_ns / (double)b.bh->inside_n / 1e3);
    idle_cost(&b, spin_ns);
    set_mode(&b, M_QUIT);
    g_thread_join(th);
    for (unsigned int i = 0; i < 3; i++) {
        g_free(lat[i]);
    }
    return 0;
}
