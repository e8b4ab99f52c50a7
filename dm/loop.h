/*
 * The main loop: GLib's default context for timers, backend fds, QMP and
 * the completion queue, driven by hvmdm's own iteration so that one fd,
 * the hypervisor's event channel, takes a fast path: it sits in the same
 * epoll set as GLib's fds (mirrored there, dm/loop.c), but is served
 * straight from the wait's result, until nothing is left, and re-checked
 * before every sleep, without going through GLib's dispatch. Device code
 * runs only on this thread; worker threads hand completions back with
 * dm_post(). Sources live on GLib's default main context, so a device may
 * also use g_unix_fd_add() for output watches.
 */
#ifndef DM_LOOP_H
#define DM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct dm;
struct dm_loop;

typedef void dm_fd_cb(void *opaque);
typedef void dm_post_cb(void *opaque);

/* The fast path's callbacks (the ioreq service). */
struct dm_loop_fast_ops {
    /* Serve everything pending; returns the requests served. */
    unsigned int (*serve)(void *opaque);
    /* Work waiting in shared memory (no system call); may be NULL. */
    bool (*peek)(void *opaque);
};

/* What the loop did, for the ioreq state dump and the tests. */
struct dm_loop_stats {
    uint64_t iterations;    /* polls, blocking or not */
    uint64_t sleeps;        /* polls that could block (a wake-up each) */
    uint64_t fast_events;   /* polls that found the fast fd readable */
    uint64_t fast_served;   /* requests the fast path served */
    uint64_t rechecks;      /* requests found by the re-check before sleep */
    uint64_t spins;         /* spins before a sleep */
    uint64_t spin_hits;     /* ... that found work and saved the sleep */
    uint64_t spin_ns;       /* time spent spinning */
    uint64_t timer_runs;    /* timer source dispatches */
    uint64_t posted;        /* completions run from worker threads */
};

int dm_loop_init(struct dm *dm);
void dm_loop_fini(struct dm *dm);
/* Watch fd for input; returns a GLib source id (0 on failure). */
unsigned int dm_loop_watch_fd(struct dm *dm, int fd, dm_fd_cb *cb,
                              void *opaque);
void dm_loop_unwatch(struct dm *dm, unsigned int id);
/*
 * The fast-path fd (one per loop); fd < 0 or ops NULL removes it. While
 * removed nothing on it is served (a paused machine).
 */
void dm_loop_set_fast(struct dm *dm, int fd,
                      const struct dm_loop_fast_ops *ops, void *opaque);
/*
 * Spin on the fast path's peek() for up to max_ns before sleeping, adapted
 * to how soon work has come lately (0: never spin, the default). Only
 * right after serving: an idle guest costs no spin and no wake-up.
 */
void dm_loop_set_spin(struct dm *dm, uint64_t max_ns);
uint64_t dm_loop_spin_now(const struct dm *dm);
uint64_t dm_loop_spin_max(const struct dm *dm);
/* The fast-path fd, -1 while there is none (paused). */
int dm_loop_fast_fd(const struct dm *dm);
/* Thread-safe: run cb(opaque) on the loop thread soon. */
void dm_post(struct dm *dm, dm_post_cb *cb, void *opaque);
/* Run everything posted so far (the loop and the test harness call it). */
unsigned int dm_run_posted(struct dm *dm);
int dm_loop_run(struct dm *dm);
void dm_loop_quit(struct dm *dm);
/*
 * dm_loop_run's iterations, with the context held throughout, until
 * done(opaque) (checked before each iteration): the benchmarks.
 */
typedef bool dm_loop_done_cb(void *opaque);
void dm_loop_run_until(struct dm *dm, dm_loop_done_cb *done, void *opaque);
/* One iteration (tests); may_block: wait for an event or a timer. */
void dm_loop_iterate(struct dm *dm, int may_block);

const struct dm_loop_stats *dm_loop_stats(const struct dm *dm);
/* Each fd watch: its fd and how often it fired. */
typedef void dm_loop_source_cb(void *opaque, const char *kind, int fd,
                               uint64_t fired);
void dm_loop_foreach_source(const struct dm *dm, dm_loop_source_cb *cb,
                            void *opaque);

#endif
