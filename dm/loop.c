/*
 * The main loop on GLib's default context: a timer source driven by the
 * machine's timer list, fd watches, and a completion queue that worker
 * threads feed through an eventfd.
 */
#include "dm/loop.h"

#include <errno.h>
#include <glib.h>
#include <glib-unix.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dm/log.h"
#include "dm/machine.h"
#include "dm/timer.h"

struct dm_post_item {
    dm_post_cb *cb;
    void *opaque;
};

struct dm_loop {
    GMainLoop *main_loop;
    GSource *timer_src;
    int post_fd;
    unsigned int post_watch;
    GMutex post_lock;
    GQueue posted;
};

struct dm_timer_source {
    GSource source;
    struct dm *dm;
};

static gboolean
timer_src_prepare(GSource *src, gint *timeout)
{
    struct dm *dm = ((struct dm_timer_source *)src)->dm;
    uint64_t next = dm_timers_next_deadline(dm), now;

    *timeout = -1;
    if (next == UINT64_MAX || dm->virtual_clock) {
        return FALSE;
    }
    now = dm_clock_ns(dm);
    if (next <= now) {
        return TRUE;
    }
    *timeout = (gint)MIN((next - now + 999999) / 1000000, (uint64_t)G_MAXINT);
    return FALSE;
}

static gboolean
timer_src_check(GSource *src)
{
    struct dm *dm = ((struct dm_timer_source *)src)->dm;

    return !dm->virtual_clock &&
           dm_timers_next_deadline(dm) <= dm_clock_ns(dm);
}

static gboolean
timer_src_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    dm_timers_run(((struct dm_timer_source *)src)->dm);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_src_funcs = {
    .prepare = timer_src_prepare,
    .check = timer_src_check,
    .dispatch = timer_src_dispatch,
};

static void
post_fd_ready(void *opaque)
{
    struct dm *dm = opaque;
    uint64_t n;

    if (read(dm->loop->post_fd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
        DM_WARN("completion eventfd: %s", g_strerror(errno));
    }
    dm_run_posted(dm);
}

int
dm_loop_init(struct dm *dm)
{
    struct dm_loop *l = g_new0(struct dm_loop, 1);
    struct dm_timer_source *ts;

    l->post_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->post_fd < 0) {
        int err = errno;

        g_free(l);
        return -err;
    }
    g_mutex_init(&l->post_lock);
    g_queue_init(&l->posted);
    l->main_loop = g_main_loop_new(NULL, FALSE);
    ts = (struct dm_timer_source *)g_source_new(&timer_src_funcs,
                                                sizeof(*ts));
    ts->dm = dm;
    l->timer_src = &ts->source;
    g_source_attach(l->timer_src, NULL);
    dm->loop = l;
    l->post_watch = dm_loop_watch_fd(dm, l->post_fd, post_fd_ready, dm);
    return 0;
}

void
dm_loop_fini(struct dm *dm)
{
    struct dm_loop *l = dm->loop;

    if (!l) {
        return;
    }
    dm_run_posted(dm);
    dm_loop_unwatch(dm, l->post_watch);
    g_source_destroy(l->timer_src);
    g_source_unref(l->timer_src);
    g_main_loop_unref(l->main_loop);
    close(l->post_fd);
    g_mutex_clear(&l->post_lock);
    g_free(l);
    dm->loop = NULL;
}

struct dm_fd_watch {
    dm_fd_cb *cb;
    void *opaque;
};

static gboolean
fd_watch_cb(gint fd, GIOCondition cond, gpointer data)
{
    struct dm_fd_watch *w = data;

    w->cb(w->opaque);
    return G_SOURCE_CONTINUE;
}

unsigned int
dm_loop_watch_fd(struct dm *dm, int fd, dm_fd_cb *cb, void *opaque)
{
    struct dm_fd_watch *w = g_new0(struct dm_fd_watch, 1);

    w->cb = cb;
    w->opaque = opaque;
    return g_unix_fd_add_full(G_PRIORITY_DEFAULT, fd, G_IO_IN, fd_watch_cb,
                              w, g_free);
}

void
dm_loop_unwatch(struct dm *dm, unsigned int id)
{
    if (id) {
        g_source_remove(id);
    }
}

void
dm_post(struct dm *dm, dm_post_cb *cb, void *opaque)
{
    struct dm_loop *l = dm->loop;
    struct dm_post_item *item = g_new(struct dm_post_item, 1);
    uint64_t one = 1;

    item->cb = cb;
    item->opaque = opaque;
    g_mutex_lock(&l->post_lock);
    g_queue_push_tail(&l->posted, item);
    g_mutex_unlock(&l->post_lock);
    if (write(l->post_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        DM_ERR("completion eventfd: %s", g_strerror(errno));
    }
}

unsigned int
dm_run_posted(struct dm *dm)
{
    struct dm_loop *l = dm->loop;
    GQueue batch = G_QUEUE_INIT;
    struct dm_post_item *item;
    unsigned int n = 0;

    g_mutex_lock(&l->post_lock);
    batch = l->posted;
    g_queue_init(&l->posted);
    g_mutex_unlock(&l->post_lock);
    while ((item = g_queue_pop_head(&batch))) {
        item->cb(item->opaque);
        g_free(item);
        n++;
    }
    return n;
}

int
dm_loop_run(struct dm *dm)
{
    g_main_loop_run(dm->loop->main_loop);
    return 0;
}

void
dm_loop_quit(struct dm *dm)
{
    g_main_loop_quit(dm->loop->main_loop);
}

void
dm_loop_iterate(struct dm *dm, int may_block)
{
    g_main_context_iteration(NULL, may_block != 0);
}
