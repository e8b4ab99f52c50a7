/*
 * Timers: a deadline-sorted list on the machine. The main loop's timer
 * source recomputes its sleep from the first deadline on every iteration
 * (dm/loop.c); the harness runs them from its virtual clock.
 */
#include "dm/timer.h"

#include <time.h>

#include "dm/machine.h"

uint64_t
dm_clock_ns(const struct dm *dm)
{
    struct timespec ts;

    if (dm->virtual_clock) {
        return dm->virtual_ns;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
dm_timer_init(struct dm_timer *t, struct dm *dm, void (*cb)(void *),
              void *opaque)
{
    t->dm = dm;
    t->cb = cb;
    t->opaque = opaque;
    t->armed = false;
    t->deadline_ns = 0;
    t->next = NULL;
}

static void
timer_unlink(struct dm_timer *t)
{
    struct dm_timer **pp = &t->dm->timers;

    while (*pp && *pp != t) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = t->next;
    }
    t->next = NULL;
    t->armed = false;
}

void
dm_timer_mod(struct dm_timer *t, uint64_t deadline_ns)
{
    struct dm_timer **pp;

    if (t->armed) {
        timer_unlink(t);
    }
    pp = &t->dm->timers;
    while (*pp && (*pp)->deadline_ns <= deadline_ns) {
        pp = &(*pp)->next;
    }
    t->deadline_ns = deadline_ns;
    t->next = *pp;
    *pp = t;
    t->armed = true;
}

void
dm_timer_del(struct dm_timer *t)
{
    if (t->armed) {
        timer_unlink(t);
    }
}

uint64_t
dm_timers_next_deadline(const struct dm *dm)
{
    return dm->timers ? dm->timers->deadline_ns : UINT64_MAX;
}

uint64_t
dm_timers_run(struct dm *dm)
{
    uint64_t now = dm_clock_ns(dm);
    unsigned int budget = 10000;

    /* A callback may re-arm its own timer; the budget stops a timer that
     * keeps re-arming in the past from holding the loop forever. */
    while (dm->timers && dm->timers->deadline_ns <= now && budget--) {
        struct dm_timer *t = dm->timers;

        dm->timers = t->next;
        t->next = NULL;
        t->armed = false;
        t->cb(t->opaque);
    }
    return dm_timers_next_deadline(dm);
}
