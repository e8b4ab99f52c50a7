/*
 * Core tests: timers on the virtual clock, completions posted from worker
 * threads, IRQ level caching, the device-state stream (round trip and
 * hostile images), the replay interpreter and log rate limiting.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"
#include "dm/irq.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/timer.h"
#include "tests/harness.h"
#include "tests/t.h"

static struct t_machine *
core_machine(void)
{
    struct t_opts o = { .no_board = true };

    return t_machine_new(&o);
}

struct tick {
    struct dm_timer timer;
    unsigned int fired;
    uint64_t at[8];
    uint64_t rearm_ns;
};

static void
tick_cb(void *opaque)
{
    struct tick *k = opaque;

    if (k->fired < 8) {
        k->at[k->fired] = dm_clock_ns(k->timer.dm);
    }
    k->fired++;
    if (k->rearm_ns && k->fired < 5) {
        dm_timer_mod(&k->timer, dm_clock_ns(k->timer.dm) + k->rearm_ns);
    }
}

T_TEST(core_timers_fire_in_deadline_order)
{
    struct t_machine *t = core_machine();
    struct tick a = { 0 }, b = { 0 }, c = { 0 };

    dm_timer_init(&a.timer, t->dm, tick_cb, &a);
    dm_timer_init(&b.timer, t->dm, tick_cb, &b);
    dm_timer_init(&c.timer, t->dm, tick_cb, &c);
    dm_timer_mod(&a.timer, 3000);
    dm_timer_mod(&b.timer, 1000);
    dm_timer_mod(&c.timer, 2000);
    dm_timer_del(&c.timer);
    T_ASSERT(!dm_timer_pending(&c.timer));
    t_clock_step(t, 999);
    T_EQ(b.fired, 0);
    t_clock_step(t, 1);
    T_EQ(b.fired, 1);
    T_EQ(b.at[0], 1000);
    t_clock_step(t, 5000);
    T_EQ(a.fired, 1);
    T_EQ(a.at[0], 3000);
    T_EQ(c.fired, 0);
    /* Re-arming from the callback: periodic until it stops itself. */
    b.rearm_ns = 100;
    dm_timer_mod(&b.timer, t_clock_ns(t) + 100);
    t_clock_step(t, 10000);
    T_EQ(b.fired, 5);
    T_EQ(b.at[4] - b.at[3], 100);
    t_machine_free(t);
}

struct posted {
    struct dm *dm;
    int done;
};

static void
posted_cb(void *opaque)
{
    ((struct posted *)opaque)->done++;
}

static gpointer
worker(gpointer opaque)
{
    struct posted *p = opaque;

    for (int i = 0; i < 100; i++) {
        dm_post(p->dm, posted_cb, p);
    }
    return NULL;
}

T_TEST(core_worker_completions_run_on_the_loop)
{
    struct t_machine *t = core_machine();
    struct posted p = { t->dm, 0 };
    GThread *th = g_thread_new("worker", worker, &p);

    g_thread_join(th);
    T_EQ(p.done, 0);                /* nothing runs behind the loop's back */
    t_settle(t);
    T_EQ(p.done, 100);
    t_machine_free(t);
}

T_TEST(core_irq_levels_are_cached)
{
    struct t_machine *t = core_machine();

    dm_isa_irq_set(t->dm, 4, 1);
    dm_isa_irq_set(t->dm, 4, 1);
    T_EQ(t_hv_count(t, "isa_irq 4 1"), 1);
    T_EQ(t_isa_irq(t, 4), 1);
    dm_isa_irq_pulse(t->dm, 3);
    T_EQ(t_hv_count(t, "isa_irq 3"), 2);
    T_EQ(t_isa_irq(t, 3), 0);
    dm_isa_irq_set(t->dm, 99, 1);   /* out of range: ignored */
    /* Two functions of slot 1 share INTA: the line is their OR. */
    dm_pci_intx_set(t->dm, 0x08 | 1, 0, 1);
    dm_pci_intx_set(t->dm, 0x08 | 3, 0, 1);
    dm_pci_intx_set(t->dm, 0x08 | 1, 0, 0);
    T_EQ(t_pci_intx(t, 1, 0), 1);
    dm_pci_intx_set(t->dm, 0x08 | 3, 0, 0);
    T_EQ(t_pci_intx(t, 1, 0), 0);
    T_EQ(t_hv_count(t, "pci_intx 1 0"), 2);
    /* PIRQ route: bit 7 disables, low nibble is the IRQ. */
    dm_pci_link_route(t->dm, 0, 0x0b);
    T_EQ(t_link_route(t, 0), 11);
    dm_pci_link_route(t->dm, 0, 0x8b);
    T_EQ(t_link_route(t, 0), 0);
    dm_pci_link_route(t->dm, 7, 0x05);
    T_EQ(t_hv_count(t, "link_route"), 2);
    t_machine_free(t);
}

/* ---- device state ---------------------------------------------------- */

struct counter_state {
    uint32_t value;
    uint8_t mode;                   /* 0..2 */
    uint8_t pad[3];
};

struct counter {
    struct dm_dev dev;
    uint32_t value;
    uint8_t mode;
    int resets;
};

static void
counter_reset(void *opaque)
{
    struct counter *c = opaque;

    c->value = 0;
    c->mode = 0;
    c->resets++;
}

static void
counter_save(void *opaque, void *rec)
{
    struct counter *c = opaque;
    struct counter_state *s = rec;

    s->value = c->value;
    s->mode = c->mode;
}

static int
counter_check(const void *rec)
{
    const struct counter_state *s = rec;

    return s->mode <= 2 ? 0 : -EINVAL;
}

static void
counter_load(void *opaque, const void *rec)
{
    struct counter *c = opaque;
    const struct counter_state *s = rec;

    c->value = s->value;
    c->mode = s->mode;
}

static const struct dm_dev_ops counter_ops = {
    .name = "counter",
    .state_version = 1,
    .state_size = sizeof(struct counter_state),
    .reset = counter_reset,
    .save = counter_save,
    .check = counter_check,
    .load = counter_load,
};

T_TEST(core_device_state_round_trip)
{
    struct t_machine *a = core_machine(), *b = core_machine();
    struct counter ca[2] = { { .value = 7, .mode = 1 },
                             { .value = 9, .mode = 2 } }, cb[2] = { 0 };
    uint8_t *img1, *img2;
    size_t len1, len2;

    for (uint32_t i = 0; i < 2; i++) {
        dm_dev_register(a->dm, &ca[i].dev, &counter_ops, &ca[i], i);
        dm_dev_register(b->dm, &cb[i].dev, &counter_ops, &cb[i], i);
    }
    T_EQ(dm_save_all(a->dm, &img1, &len1), 0);
    T_EQ(dm_load_all(b->dm, img1, len1), 0);
    T_EQ(cb[0].value, 7);
    T_EQ(cb[1].mode, 2);
    T_EQ(dm_save_all(b->dm, &img2, &len2), 0);
    T_EQ(len1, len2);
    T_ASSERT(memcmp(img1, img2, len1) == 0);
    dm_reset_all(b->dm);
    T_EQ(cb[1].resets, 1);
    T_EQ(cb[1].value, 0);
    g_free(img1);
    g_free(img2);
    t_machine_free(a);
    t_machine_free(b);
}

T_TEST(core_device_state_hostile_images)
{
    struct t_machine *t = core_machine();
    struct counter c[2] = { { .value = 5, .mode = 1 },
                            { .value = 6, .mode = 1 } };
    uint8_t *img;
    size_t len;

    dm_dev_register(t->dm, &c[0].dev, &counter_ops, &c[0], 0);
    dm_dev_register(t->dm, &c[1].dev, &counter_ops, &c[1], 1);
    T_EQ(dm_save_all(t->dm, &img, &len), 0);
    c[0].value = c[1].value = 42;
    /* Every truncation is refused and nothing is loaded. */
    for (size_t n = 0; n < len; n++) {
        T_EQ(dm_load_all(t->dm, img, n), -EINVAL);
    }
    /* A record that fails check(): the other device is untouched too. */
    img[len - 8 + 4] = 3;           /* second record's mode */
    T_EQ(dm_load_all(t->dm, img, len), -EINVAL);
    T_EQ(c[0].value, 42);
    img[len - 8 + 4] = 1;
    img[16 + 24] = 9;               /* first record's instance */
    T_EQ(dm_load_all(t->dm, img, len), -EINVAL);
    img[16 + 24] = 0;
    img[16 + 32] = 0xff;            /* first record's size */
    T_EQ(dm_load_all(t->dm, img, len), -EINVAL);
    img[16 + 32] = sizeof(struct counter_state);
    img[0] = 'X';
    T_EQ(dm_load_all(t->dm, img, len), -EINVAL);
    img[0] = 'H';
    T_EQ(dm_load_all(t->dm, img, len), 0);
    T_EQ(c[0].value, 5);
    dm_dev_unregister(t->dm, &c[1].dev);
    T_EQ(dm_load_all(t->dm, img, len), -EINVAL);    /* extra record */
    g_free(img);
    t_machine_free(t);
}

/* ---- replay ------------------------------------------------------------ */

T_TEST(core_replay_checks_and_reports)
{
    struct t_machine *t = core_machine();
    char err[256];

    T_EQ(t_replay_string(t, "# unclaimed space\n"
                         "inb 0x1234 == 0xff\n"
                         "inl 0x1234 == 0xffffffff\n"
                         "memwrite 0x1000 a1b2c3\n"
                         "memread 0x1000 3 == a1b2c3\n"
                         "outs 0x1234 1 0x1000 3\n"
                         "clock_step 1000\n", err, sizeof(err)), 0);
    T_EQ(t_replay_string(t, "inb 0x1234 == 0x12\n", err, sizeof(err)), -1);
    T_ASSERT(strstr(err, "got 0xff, expected 0x12 (line 1)"));
    T_EQ(t_replay_string(t, "\nbogus 1\n", err, sizeof(err)), -1);
    T_ASSERT(strstr(err, "unknown command 'bogus' (line 2)"));
    T_EQ(t_replay_string(t, "outb 0x80\n", err, sizeof(err)), -1);
    T_EQ(t_replay_string(t, "memread 0x3fffffff 16\n", err, sizeof(err)),
         -1);
    T_ASSERT(strstr(err, "outside RAM"));
    t_machine_free(t);
}

T_TEST(core_guest_errors_are_rate_limited)
{
    struct dm_ratelimit rl = { 0 };
    uint64_t before = dm_log_guest_errors();

    dm_log_set_quiet(1);
    for (int i = 0; i < 25; i++) {
        dm_log_ratelimited(&rl, DM_LOG_WARN, "guest: noise %d", i);
    }
    T_EQ(rl.printed, DM_RATELIMIT_BURST);
    T_EQ(rl.suppressed, 25 - DM_RATELIMIT_BURST);
    T_EQ(dm_log_guest_errors() - before, 25);
}
