/*
 * The display surface and its listeners (ui/display.h).
 */
#include "ui/display.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/machine.h"
#include "dm/timer.h"
#include "hw/board.h"
#include "ui/screendump.h"

#define DISPLAY_MAX_DIM     16384

struct display {
    struct dm *dm;
    const struct display_hw_ops *ops;
    void *opaque;

    pixman_image_t *image;
    uint32_t *owned;                /* image bits when the display owns them */
    pixman_region32_t dirty;
    bool resized;                   /* listeners still to be told */

    struct display_listener *listeners;
    struct dm_timer timer;
    unsigned int interval_ms;
    uint64_t refreshes;
    uint64_t changes;               /* refreshes that changed something */
};

static void
display_arm(struct display *d)
{
    dm_timer_mod(&d->timer,
                 dm_clock_ns(d->dm) + (uint64_t)d->interval_ms * 1000000u);
}

/* Adaptive rate: back to fast on any change, halve the rate while static. */
static void
display_timer_cb(void *opaque)
{
    struct display *d = opaque;
    uint64_t before = d->changes;

    display_refresh(d);
    if (d->changes != before) {
        d->interval_ms = DISPLAY_REFRESH_FAST_MS;
    } else if (d->interval_ms < DISPLAY_REFRESH_SLOW_MS) {
        d->interval_ms = MIN(d->interval_ms * 2, DISPLAY_REFRESH_SLOW_MS);
    }
    if (d->listeners) {
        display_arm(d);
    }
}

static void
display_set_image(struct display *d, pixman_image_t *img, uint32_t *owned)
{
    if (d->image) {
        pixman_image_unref(d->image);
    }
    g_free(d->owned);
    d->image = img;
    d->owned = owned;
    pixman_region32_clear(&d->dirty);
    d->resized = true;
}

struct display *
display_new(struct dm *dm, const struct display_hw_ops *ops, void *opaque)
{
    struct display *d = g_new0(struct display, 1);

    d->dm = dm;
    d->ops = ops;
    d->opaque = opaque;
    d->interval_ms = DISPLAY_REFRESH_FAST_MS;
    pixman_region32_init(&d->dirty);
    dm_timer_init(&d->timer, dm, display_timer_cb, d);
    if (display_resize(d, 640, 480) < 0) {
        display_free(d);
        return NULL;
    }
    if (dm->board) {
        dm->board->display = d;
    }
    screendump_register();
    return d;
}

void
display_free(struct display *d)
{
    if (!d) {
        return;
    }
    dm_timer_del(&d->timer);
    if (d->dm->board && d->dm->board->display == d) {
        d->dm->board->display = NULL;
    }
    if (d->image) {
        pixman_image_unref(d->image);
    }
    g_free(d->owned);
    pixman_region32_fini(&d->dirty);
    g_free(d);
}

struct display *
display_get(struct dm *dm)
{
    return dm->board ? dm->board->display : NULL;
}

static bool
display_size_ok(int w, int h)
{
    return w > 0 && h > 0 && w <= DISPLAY_MAX_DIM && h <= DISPLAY_MAX_DIM;
}

int
display_resize(struct display *d, int w, int h)
{
    uint32_t *bits;
    pixman_image_t *img;

    if (!display_size_ok(w, h)) {
        return -EINVAL;
    }
    bits = g_try_malloc0((size_t)w * (size_t)h * 4);
    if (!bits) {
        return -ENOMEM;
    }
    img = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, bits, w * 4);
    if (!img) {
        g_free(bits);
        return -ENOMEM;
    }
    display_set_image(d, img, bits);
    return 0;
}

int
display_resize_wrap(struct display *d, int w, int h,
                    pixman_format_code_t format, void *data, int stride)
{
    pixman_image_t *img;

    if (!display_size_ok(w, h) || !data || stride <= 0 ||
        (uint64_t)stride * 8 < (uint64_t)w * PIXMAN_FORMAT_BPP(format)) {
        return -EINVAL;
    }
    img = pixman_image_create_bits(format, w, h, data, stride);
    if (!img) {
        return -EINVAL;
    }
    display_set_image(d, img, NULL);
    return 0;
}

void
display_dirty(struct display *d, int x, int y, int w, int h)
{
    int iw = display_width(d), ih = display_height(d);
    int x1 = MAX(x, 0), y1 = MAX(y, 0);
    int x2 = MIN((int64_t)x + w, iw), y2 = MIN((int64_t)y + h, ih);

    if (x2 <= x1 || y2 <= y1) {
        return;
    }
    pixman_region32_union_rect(&d->dirty, &d->dirty, x1, y1,
                               (unsigned int)(x2 - x1),
                               (unsigned int)(y2 - y1));
}

pixman_image_t *
display_image(const struct display *d)
{
    return d->image;
}

int
display_width(const struct display *d)
{
    return pixman_image_get_width(d->image);
}

int
display_height(const struct display *d)
{
    return pixman_image_get_height(d->image);
}

void
display_listener_add(struct display *d, struct display_listener *l)
{
    bool first = !d->listeners;

    l->next = d->listeners;
    d->listeners = l;
    if (first) {
        if (d->ops && d->ops->active) {
            d->ops->active(d->opaque, true);
        }
        /* Nothing rendered while nobody watched: draw the guest's screen
         * now, so the first picture is not a stale one (a VNC client took
         * an old mode's frame until the first timer refresh). */
        if (d->ops && d->ops->refresh) {
            d->refreshes++;
            d->ops->refresh(d->opaque, d);
        }
        d->resized = false;             /* nobody else to tell */
        pixman_region32_clear(&d->dirty);   /* resize() below sends all */
        d->interval_ms = DISPLAY_REFRESH_FAST_MS;
        display_arm(d);
    }
    if (l->ops->resize) {
        l->ops->resize(l, d);
    }
}

void
display_listener_remove(struct display *d, struct display_listener *l)
{
    struct display_listener **pp;

    for (pp = &d->listeners; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            l->next = NULL;
            break;
        }
    }
    if (!d->listeners) {
        dm_timer_del(&d->timer);
        if (d->ops && d->ops->active) {
            d->ops->active(d->opaque, false);
        }
    }
}

static void
display_notify(struct display *d)
{
    struct display_listener *l;
    pixman_box32_t *box;
    int i, n;

    if (d->resized) {
        d->resized = false;
        pixman_region32_clear(&d->dirty);
        for (l = d->listeners; l; l = l->next) {
            if (l->ops->resize) {
                l->ops->resize(l, d);
            }
        }
        return;
    }
    box = pixman_region32_rectangles(&d->dirty, &n);
    for (l = d->listeners; l; l = l->next) {
        for (i = 0; l->ops->update && i < n; i++) {
            l->ops->update(l, d, box[i].x1, box[i].y1,
                           box[i].x2 - box[i].x1, box[i].y2 - box[i].y1);
        }
    }
    pixman_region32_clear(&d->dirty);
}

void
display_refresh(struct display *d)
{
    d->refreshes++;
    if (d->ops && d->ops->refresh) {
        d->ops->refresh(d->opaque, d);
    }
    if (!d->resized && !pixman_region32_not_empty(&d->dirty)) {
        return;
    }
    d->changes++;
    display_notify(d);
}

uint64_t
display_refresh_count(const struct display *d)
{
    return d->refreshes;
}
