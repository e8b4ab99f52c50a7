/*
 * Findings of the adversarial review (issue 14) that are not a device's
 * own: the TIMEOFFSET sum, and every log line a guest (or a broken ioreq
 * page) can repeat, driven in a loop: at most a burst per second reaches
 * the log.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"
#include "dm/gmem.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"

#define LOOPS       1000
/* One burst per call site, its "suppressed" summary, and a window edge. */
#define LINES_MAX   (2 * DM_RATELIMIT_BURST + 2)

static struct t_machine *
hostile_machine(unsigned int buckets)
{
    struct t_opts o = { .gm_buckets = buckets };
    struct t_machine *t = t_machine_new(&o);

    dm_log_set_quiet(1);
    return t;
}

static void
timeoffset(struct t_machine *t, uint64_t delta)
{
    ioreq_t req = { 0 };

    req.type = IOREQ_TYPE_TIMEOFFSET;
    req.size = 8;
    req.count = 1;
    req.data = delta;
    t_request(t, &req);
}

/* Finding 3: the sum saturates instead of overflowing. */
T_TEST(hostile_timeoffset_saturates)
{
    struct t_machine *t = hostile_machine(0);

    timeoffset(t, 0x7fffffffffffffffull);
    timeoffset(t, 0x7fffffffffffffffull);
    T_EQ(t->dm->rtc_timeoffset, DM_RTC_OFFSET_MAX);
    timeoffset(t, 0x8000000000000000ull);
    timeoffset(t, 0x8000000000000000ull);
    T_EQ(t->dm->rtc_timeoffset, -DM_RTC_OFFSET_MAX);
    timeoffset(t, (uint64_t)DM_RTC_OFFSET_MAX + 3600);
    T_EQ(t->dm->rtc_timeoffset, 3600);
    /* The RTC still reads (cmos.c adds the offset to the host time). */
    t_outb(t, 0x70, 0x32);
    T_ASSERT(t_inb(t, 0x71) != 0xff);
    t_machine_free(t);
}

/* Finding 4: a guest looping RTC writes does not fill the log. */
T_TEST(hostile_log_timeoffset_limited)
{
    struct t_machine *t = hostile_machine(0);
    uint64_t before = dm_log_lines();

    for (unsigned int i = 0; i < LOOPS; i++) {
        timeoffset(t, 1);
    }
    T_EQ(t->dm->rtc_timeoffset, LOOPS);
    T_ASSERT(dm_log_lines() - before <= LINES_MAX);
    t_machine_free(t);
}

T_TEST(hostile_log_map_cache_limited)
{
    struct t_machine *t = hostile_machine(2);
    struct gmem *gm = t->dm->gm;
    size_t l1 = 8, l2 = 8;
    int err;
    uint8_t b[8];
    void *p1 = gm_map(gm, 0x100000, &l1, 1, &err);
    void *p2 = gm_map(gm, 0x300000, &l2, 1, &err);
    uint64_t before = dm_log_lines();

    T_ASSERT(p1 && p2);
    for (unsigned int i = 0; i < LOOPS; i++) {
        T_ASSERT(gm_read(gm, 0x500000, b, sizeof(b)) < 0);
    }
    T_ASSERT(dm_log_lines() - before <= LINES_MAX);
    before = dm_log_lines();
    for (unsigned int i = 0; i < LOOPS; i++) {
        ioreq_t req = { .type = IOREQ_TYPE_INVALIDATE, .size = 1,
                        .count = 1 };

        t_request(t, &req);
    }
    T_ASSERT(dm_log_lines() - before <= 2 * LINES_MAX);
    gm_unmap(gm, p1, l1, 1);
    gm_unmap(gm, p2, l2, 1);
    t_machine_free(t);
}

/* Reset requests: port 92h fast reset, the i8042 reset pulse. */
T_TEST(hostile_log_reset_requests_limited)
{
    struct t_machine *t = hostile_machine(0);
    uint64_t before = dm_log_lines();

    for (unsigned int i = 0; i < LOOPS; i++) {
        t_outb(t, 0x92, 0x01);
        t_outb(t, 0x92, 0x00);
    }
    T_ASSERT(dm_log_lines() - before <= LINES_MAX);
    before = dm_log_lines();
    for (unsigned int i = 0; i < LOOPS; i++) {
        t_outb(t, 0x64, 0xfe);
    }
    T_ASSERT(dm_log_lines() - before <= LINES_MAX);
    t_machine_free(t);
}

/* GUEST_ERR itself: a malformed request in a loop. */
T_TEST(hostile_log_guest_errors_limited)
{
    struct t_machine *t = hostile_machine(0);
    uint64_t before = dm_log_lines(), errs = dm_log_guest_errors();

    for (unsigned int i = 0; i < LOOPS; i++) {
        ioreq_t req = { .type = IOREQ_TYPE_PIO, .size = 3, .count = 1,
                        .addr = 0x80 };

        t_request(t, &req);
    }
    T_ASSERT(dm_log_guest_errors() - errs >= LOOPS);
    T_ASSERT(dm_log_lines() - before <= LINES_MAX);
    t_machine_free(t);
}

/*
 * Found by fuzz/state-i440fx.c: a record of a chipset function saved as
 * unplugged passed check() and load() removed the host bridge. The
 * functions soldered to the board refuse such a record.
 */
T_TEST(hostile_state_chipset_cannot_be_unplugged)
{
    static const char *const fixed[] = { "i440fx", "piix3", "piix4-pm",
                                         "piix-ide" };
    struct t_machine *t = hostile_machine(0);

    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        struct dm_dev *d = t_find_dev(t, fixed[i]);
        uint8_t *rec;

        T_ASSERT(d != NULL);
        rec = g_malloc0(d->ops->state_size);
        d->ops->save(d->opaque, rec);
        T_EQ(d->ops->check(rec), 0);
        rec[257] = 0;               /* struct pci_dev_state.present */
        T_EQ(d->ops->check(rec), -EINVAL);
        g_free(rec);
    }
    T_EQ(t_pcicfg_read(t, 0, 0, 4), 0x12378086);
    t_machine_free(t);
}
