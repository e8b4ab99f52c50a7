/*
 * The main loop's fast path (dm/loop.c): the event channel served straight
 * from the poll, every pending port and READY slot per wake-up, a re-check
 * of the slots before sleeping, the bounded adaptive spin, and an idle
 * guest that costs no wake-up and no CPU. The test hypervisor's event
 * channel is a real fd here, so the loop really polls and sleeps.
 */
#include <fcntl.h>
#include <glib.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dm/ioreq.h"
#include "dm/iomap.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/probe.h"
#include "tests/t.h"

#define PORT 0x80

#define MMIO 0x1000             /* buffered writes go to MMIO */

struct lt {
    struct t_machine *t;
    struct probe p;
    struct probe m;
};

static unsigned int
serve(void *opaque)
{
    return ioreq_svc_event(opaque);
}

static bool
peek(void *opaque)
{
    return ioreq_svc_peek(opaque);
}

static const struct dm_loop_fast_ops lt_fast_ops = {
    .serve = serve,
    .peek = peek,
};

static void
lt_init(struct lt *l, unsigned int vcpus)
{
    struct t_opts o = { .no_board = true, .vcpus = vcpus };

    l->t = t_machine_new(&o);
    probe_init(&l->p, "p", 4, 1, 4, 0, 0);
    l->p.user = l;
    T_EQ(iomap_add(l->t->dm->pio, &l->p.region, PORT), 0);
    probe_init(&l->m, "m", 4, 1, 4, 0, 0);
    T_EQ(iomap_add(l->t->dm->mmio, &l->m.region, MMIO), 0);
    dm_loop_set_fast(l->t->dm, l->t->dm->hv->ops->evtchn_fd(l->t->dm->hv),
                     &lt_fast_ops, l->t->dm->ioreq);
}

static ioreq_t
pio(int dir, uint64_t data)
{
    ioreq_t r = { .addr = PORT, .data = data, .count = 1, .size = 1,
                  .type = IOREQ_TYPE_PIO };

    r.dir = dir;
    return r;
}

static const struct dm_loop_stats *
lstats(struct lt *l)
{
    return dm_loop_stats(l->t->dm);
}

static const struct ioreq_stats *
istats(struct lt *l)
{
    return ioreq_svc_stats(l->t->dm->ioreq);
}

static uint64_t
cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * How long this thread has waited for a CPU while runnable (the second
 * field of /proc/thread-self/schedstat): on a loaded host, what a wall
 * clock measures of our own work includes it.
 */
static uint64_t
runq_wait_ns(void)
{
    g_autofree char *s = NULL;
    unsigned long long on_cpu, waited;

    T_ASSERT(g_file_get_contents("/proc/thread-self/schedstat", &s, NULL,
                                 NULL));
    T_EQ(sscanf(s, "%llu %llu", &on_cpu, &waited), 2);
    return waited;
}

T_TEST(loop_serves_every_slot_and_the_ring_in_one_wakeup)
{
    struct lt l;
    ioreq_t w = pio(IOREQ_WRITE, 0x77), r = pio(IOREQ_READ, 0), done;

    lt_init(&l, 4);
    t_request(l.t, &w);
    T_ASSERT(t_buf_push(l.t, MMIO + 1, 1, 0x11));
    T_ASSERT(t_buf_push(l.t, MMIO + 2, 1, 0x22));
    t_raise_buf_port(l.t);
    for (unsigned int v = 0; v < 4; v++) {
        t_post_request(l.t, v, &r, true);
    }
    dm_loop_iterate(l.t->dm, 1);
    T_EQ(lstats(&l)->iterations, 1);
    T_EQ(lstats(&l)->fast_events, 1);
    T_EQ(lstats(&l)->fast_served, 6);       /* 4 slots, 2 buffered */
    for (unsigned int v = 0; v < 4; v++) {
        T_ASSERT(t_take_response(l.t, v, &done));
        T_EQ(done.data, 0x77);
        T_EQ(t_notified(l.t, v), v == 0 ? 2 : 1);
    }
    T_EQ(l.m.regs[1], 0x11);
    T_EQ(l.m.regs[2], 0x22);
    T_EQ(t_buf_read_pointer(l.t), 2);
    T_EQ(istats(&l)->events, 1 + 5);        /* t_request's, then 5 ports */
    T_EQ(istats(&l)->spurious, 0);
    /* Nothing left: a non-blocking pass finds the fd quiet. */
    dm_loop_iterate(l.t->dm, 0);
    T_EQ(lstats(&l)->fast_events, 1);
    t_machine_free(l.t);
}

/*
 * vCPU 0 traps while vCPU 1's write is in process (after the scan passed
 * vCPU 0); its port comes late.
 */
static void
post_vcpu0(struct probe *p, uint64_t off, uint64_t val)
{
    struct lt *l = p->user;
    ioreq_t r = pio(IOREQ_READ, 0);

    if (val == 0x42) {
        t_post_request(l->t, 0, &r, false);
    }
}

T_TEST(loop_rechecks_the_slots_before_sleeping)
{
    struct lt l;
    ioreq_t w = pio(IOREQ_WRITE, 0x42), done;

    lt_init(&l, 2);
    l.p.on_write = post_vcpu0;
    t_post_request(l.t, 1, &w, true);
    dm_loop_iterate(l.t->dm, 1);
    T_ASSERT(t_take_response(l.t, 1, &done));
    T_ASSERT(t_take_response(l.t, 0, &done));
    T_EQ(done.data, 0x42);
    T_EQ(lstats(&l)->sleeps, 1);
    T_EQ(lstats(&l)->rechecks, 1);
    /* The late port finds its request answered: early, not spurious. */
    t_raise_port(l.t, 0);
    dm_loop_iterate(l.t->dm, 1);
    T_EQ(istats(&l)->early, 1);
    T_EQ(istats(&l)->spurious, 0);
    T_EQ(t_notified(l.t, 0), 1);
    t_machine_free(l.t);
}

T_TEST(loop_without_fast_path_serves_nothing)
{
    struct lt l;
    ioreq_t r = pio(IOREQ_READ, 0), done;

    lt_init(&l, 1);
    dm_loop_set_fast(l.t->dm, -1, NULL, NULL);     /* paused */
    t_post_request(l.t, 0, &r, true);
    dm_loop_iterate(l.t->dm, 0);
    T_ASSERT(!t_take_response(l.t, 0, &done));
    T_EQ(t_slot(l.t, 0)->state, STATE_IOREQ_READY);
    dm_loop_set_fast(l.t->dm, l.t->dm->hv->ops->evtchn_fd(l.t->dm->hv),
                     &lt_fast_ops, l.t->dm->ioreq);
    dm_loop_iterate(l.t->dm, 0);
    T_ASSERT(t_take_response(l.t, 0, &done));
    t_machine_free(l.t);
}

static gboolean
set_flag(gpointer opaque)
{
    *(bool *)opaque = true;
    return G_SOURCE_REMOVE;
}

/* Run the loop for ms of wall time with nothing but the timer that ends. */
static void
idle_for(struct lt *l, unsigned int ms)
{
    bool over = false;

    g_timeout_add(ms, set_flag, &over);
    while (!over) {
        dm_loop_iterate(l->t->dm, 1);
    }
}

static void
burst(struct lt *l, unsigned int n)
{
    ioreq_t r = pio(IOREQ_READ, 0), done;

    for (unsigned int i = 0; i < n; i++) {
        t_post_request(l->t, 0, &r, true);
        dm_loop_iterate(l->t->dm, 1);
        T_ASSERT(t_take_response(l->t, 0, &done));
    }
}

static void
idle_costs_nothing(uint64_t spin_max_ns)
{
    struct lt l;
    struct dm_loop_stats before;
    uint64_t cpu, waited;

    lt_init(&l, 1);
    dm_loop_set_spin(l.t->dm, spin_max_ns);
    burst(&l, 50);
    before = *lstats(&l);
    cpu = cpu_ns();
    waited = runq_wait_ns();
    idle_for(&l, 300);
    cpu = cpu_ns() - cpu;
    waited = runq_wait_ns() - waited;
    /* One sleep, ended by the test's own timer; no event, at most one
     * bounded spin right after the burst. The spin's wall time is its
     * budget, plus any time a loaded host preempted us in it. */
    T_EQ(lstats(&l)->sleeps - before.sleeps, 1);
    T_EQ(lstats(&l)->fast_events - before.fast_events, 0);
    T_ASSERT(lstats(&l)->spins - before.spins <= 1);
    T_ASSERT(lstats(&l)->spin_ns - before.spin_ns <=
             spin_max_ns + 1000000 + waited);
    T_ASSERT(cpu < 20000000);                   /* 20 ms: scheduler slack */
    t_machine_free(l.t);
}

T_TEST(loop_idle_guest_costs_no_wakeup)
{
    idle_costs_nothing(0);
}

T_TEST(loop_idle_guest_costs_no_wakeup_with_spin)
{
    idle_costs_nothing(200000);
}

struct poster {
    struct lt *l;
    unsigned int delay_us;
    bool when_spinning;         /* post once the loop has begun to spin */
    uint64_t spins;
};

static gpointer
post_later(gpointer opaque)
{
    struct poster *ps = opaque;
    ioreq_t r = pio(IOREQ_READ, 0);
    const struct dm_loop_stats *st = lstats(ps->l);

    while (ps->when_spinning &&
           __atomic_load_n(&st->spins, __ATOMIC_RELAXED) == ps->spins) {
        g_usleep(50);
    }
    g_usleep(ps->delay_us);
    t_post_request(ps->l->t, 0, &r, true);
    return NULL;
}

/* One request posted from another thread delay_us from now (or from when
 * the loop spins), served. */
static void
serve_posted(struct lt *l, unsigned int delay_us, bool when_spinning)
{
    struct poster ps = { l, delay_us, when_spinning, lstats(l)->spins };
    GThread *th = g_thread_new("poster", post_later, &ps);
    ioreq_t done;

    while (!t_take_response(l->t, 0, &done)) {
        dm_loop_iterate(l->t->dm, 1);
    }
    g_thread_join(th);
}

static void
serve_posted_after(struct lt *l, unsigned int delay_us)
{
    serve_posted(l, delay_us, false);
}

T_TEST(loop_spin_catches_a_request_without_sleeping)
{
    struct lt l;
    struct dm_loop_stats before;

    lt_init(&l, 1);
    /* 2 s to start with, 4 s after the burst: the poster needs the CPU
     * twice during the spin, which a loaded host can delay for 100 ms. */
    dm_loop_set_spin(l.t->dm, 16000000000ull);
    burst(&l, 1);
    before = *lstats(&l);
    serve_posted(&l, 1000, true);
    T_EQ(lstats(&l)->spin_hits - before.spin_hits, 1);
    T_EQ(lstats(&l)->sleeps - before.sleeps, 0);
    t_machine_free(l.t);
}

T_TEST(loop_spin_shrinks_to_nothing_when_requests_come_slowly)
{
    struct lt l;
    unsigned int i;

    lt_init(&l, 1);
    dm_loop_set_spin(l.t->dm, 100000);          /* 100 us at most */
    burst(&l, 1);
    T_ASSERT(dm_loop_spin_now(l.t->dm) > 0);
    for (i = 0; i < 20 && dm_loop_spin_now(l.t->dm); i++) {
        serve_posted_after(&l, 2000);           /* 2 ms > the maximum */
    }
    T_EQ(dm_loop_spin_now(l.t->dm), 0);
    /* A request that ends a sleep within the maximum makes it grow again:
     * after a quiet pass, one whose event is already waiting (again if we
     * were preempted in that sleep: it was longer than the maximum). */
    for (i = 0; i < 100 && !dm_loop_spin_now(l.t->dm); i++) {
        uint64_t waited = runq_wait_ns();

        dm_loop_iterate(l.t->dm, 0);
        burst(&l, 1);
        if (runq_wait_ns() == waited) {
            break;
        }
    }
    T_ASSERT(dm_loop_spin_now(l.t->dm) > 0);
    T_ASSERT(dm_loop_spin_now(l.t->dm) <= 100000);
    t_machine_free(l.t);
}

/* ---- the epoll set that mirrors GLib's fds ----------------------------- */

static gboolean
count_fd(gint fd, GIOCondition cond, gpointer opaque)
{
    char buf[16];

    (*(unsigned int *)opaque)++;
    if (cond & G_IO_IN) {
        (void)!read(fd, buf, sizeof(buf));
    }
    return G_SOURCE_CONTINUE;
}

/* Iterate, blocking, until *count moves or about ms pass. */
static bool
iterate_until(struct lt *l, const unsigned int *count, unsigned int ms)
{
    unsigned int before = *count;
    bool over = false;
    guint guard = g_timeout_add(ms, set_flag, &over);

    while (*count == before && !over) {
        dm_loop_iterate(l->t->dm, 1);
    }
    if (!over) {
        g_source_remove(guard);
    }
    return *count != before;
}

/*
 * A source closes its fd and another watches a new file under the same
 * number, between two passes: GLib's set looks the same, but the epoll
 * registration of the old file went with its close.
 */
T_TEST(loop_sees_a_glib_fd_replaced_under_the_same_number)
{
    struct lt l;
    unsigned int c1 = 0, c2 = 0;
    int p1[2], p2[2], fd;
    guint id;

    lt_init(&l, 1);
    T_EQ(pipe(p1), 0);
    T_EQ(pipe(p2), 0);
    fd = p1[0];
    id = g_unix_fd_add(fd, G_IO_IN, count_fd, &c1);
    T_EQ(write(p1[1], "a", 1), 1);
    T_ASSERT(iterate_until(&l, &c1, 1000));
    dm_loop_iterate(l.t->dm, 0);
    g_source_remove(id);
    close(p1[0]);
    T_EQ(dup2(p2[0], fd), fd);                  /* the same number */
    close(p2[0]);
    g_unix_fd_add(fd, G_IO_IN, count_fd, &c2);
    dm_loop_iterate(l.t->dm, 0);
    T_EQ(write(p2[1], "b", 1), 1);
    T_ASSERT(iterate_until(&l, &c2, 1000));
    T_EQ(c1, 1);
    g_source_remove_by_user_data(&c2);
    close(fd);
    close(p1[1]);
    close(p2[1]);
    t_machine_free(l.t);
}

/* epoll refuses /dev/null; poll(2) calls it readable: so does the loop. */
T_TEST(loop_reports_an_unpollable_fd_as_poll_does)
{
    struct lt l;
    unsigned int c = 0;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    lt_init(&l, 1);
    T_ASSERT(fd >= 0);
    g_unix_fd_add(fd, G_IO_IN, count_fd, &c);
    T_ASSERT(iterate_until(&l, &c, 1000));
    g_source_remove_by_user_data(&c);
    close(fd);
    /* Gone from the set: an idle pass sleeps again (the guard ends it). */
    T_ASSERT(!iterate_until(&l, &c, 100));
    t_machine_free(l.t);
}

/* Two sources on one fd (QMP's input and output watches): both served. */
T_TEST(loop_serves_two_sources_on_one_fd)
{
    struct lt l;
    unsigned int in = 0, out = 0;
    int sv[2];

    lt_init(&l, 1);
    T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    g_unix_fd_add(sv[0], G_IO_IN, count_fd, &in);
    g_unix_fd_add(sv[0], G_IO_OUT, count_fd, &out);
    T_ASSERT(iterate_until(&l, &out, 1000));
    T_EQ(in, 0);
    T_EQ(write(sv[1], "x", 1), 1);
    T_ASSERT(iterate_until(&l, &in, 1000));
    g_source_remove_by_user_data(&in);
    g_source_remove_by_user_data(&out);
    close(sv[0]);
    close(sv[1]);
    t_machine_free(l.t);
}
