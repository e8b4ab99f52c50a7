/*
 * Timers on the dm clock. In production the clock is CLOCK_MONOTONIC and the
 * main loop fires timers; the test harness switches the machine to a virtual
 * clock it advances itself.
 */
#ifndef DM_TIMER_H
#define DM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct dm;

struct dm_timer {
    struct dm *dm;
    uint64_t deadline_ns;
    void (*cb)(void *opaque);
    void *opaque;
    bool armed;
    struct dm_timer *next;
};

uint64_t dm_clock_ns(const struct dm *dm);
void dm_timer_init(struct dm_timer *t, struct dm *dm, void (*cb)(void *),
                   void *opaque);
void dm_timer_mod(struct dm_timer *t, uint64_t deadline_ns);
void dm_timer_del(struct dm_timer *t);
static inline bool
dm_timer_pending(const struct dm_timer *t)
{
    return t->armed;
}

/* Run every expired timer; returns the next deadline or UINT64_MAX. */
uint64_t dm_timers_run(struct dm *dm);
uint64_t dm_timers_next_deadline(const struct dm *dm);

#endif
