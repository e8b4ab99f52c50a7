/*
 * The GLib main loop: event-channel fds, timers and backend fds all go
 * through it. Device code runs only on this thread; worker threads hand
 * completions back with dm_post(). Sources live on GLib's default main
 * context, so a device may also use g_unix_fd_add() for output watches.
 */
#ifndef DM_LOOP_H
#define DM_LOOP_H

struct dm;
struct dm_loop;

typedef void dm_fd_cb(void *opaque);
typedef void dm_post_cb(void *opaque);

int dm_loop_init(struct dm *dm);
void dm_loop_fini(struct dm *dm);
/* Watch fd for input; returns a GLib source id (0 on failure). */
unsigned int dm_loop_watch_fd(struct dm *dm, int fd, dm_fd_cb *cb,
                              void *opaque);
void dm_loop_unwatch(struct dm *dm, unsigned int id);
/* Thread-safe: run cb(opaque) on the loop thread soon. */
void dm_post(struct dm *dm, dm_post_cb *cb, void *opaque);
/* Run everything posted so far (the loop and the test harness call it). */
unsigned int dm_run_posted(struct dm *dm);
int dm_loop_run(struct dm *dm);
void dm_loop_quit(struct dm *dm);
/* One non-blocking iteration (tests). */
void dm_loop_iterate(struct dm *dm, int may_block);

#endif
