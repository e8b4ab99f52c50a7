/*
 * The display surface (ui/display.c): listeners, dirty rectangles, resize,
 * and the rule that a display nobody watches does no refresh work.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/display.h"

struct fake_hw {
    unsigned int refreshes;
    int active;
    int dirty_x, dirty_w;           /* what the next refresh reports */
};

static void
fake_refresh(void *opaque, struct display *d)
{
    struct fake_hw *hw = opaque;

    hw->refreshes++;
    if (hw->dirty_w) {
        display_dirty(d, hw->dirty_x, 0, hw->dirty_w, 1);
        hw->dirty_w = 0;
    }
}

static void
fake_active(void *opaque, bool active)
{
    struct fake_hw *hw = opaque;

    hw->active += active ? 1 : -1;
}

static const struct display_hw_ops fake_hw_ops = {
    .refresh = fake_refresh,
    .active = fake_active,
};

struct rec {
    struct display_listener l;
    int resizes, updates;
    int x, y, w, h;
};

static void
rec_resize(struct display_listener *l, struct display *d)
{
    struct rec *r = l->opaque;

    r->resizes++;
}

static void
rec_update(struct display_listener *l, struct display *d, int x, int y,
           int w, int h)
{
    struct rec *r = l->opaque;

    r->updates++;
    r->x = x;
    r->y = y;
    r->w = w;
    r->h = h;
}

static const struct display_listener_ops rec_ops = {
    .resize = rec_resize,
    .update = rec_update,
};

static struct t_machine *
display_machine(void)
{
    struct t_opts o = { 0 };

    return t_machine_new(&o);
}

/* No listener: no timer, so virtual time passing refreshes nothing. */
T_TEST(display_idle_without_listener_does_no_work)
{
    struct t_machine *t = display_machine();
    struct fake_hw hw = { 0 };
    struct display *d = display_new(t->dm, &fake_hw_ops, &hw);

    T_ASSERT(d != NULL);
    T_EQ(display_width(d), 640);
    T_EQ(display_height(d), 480);
    t_clock_step(t, 10ull * 1000 * 1000 * 1000);
    T_EQ(hw.refreshes, 0);
    T_EQ(display_refresh_count(d), 0);
    T_EQ(hw.active, 0);
    display_free(d);
    t_machine_free(t);
}

/* A listener starts the timer; dirty rectangles are clipped and delivered;
 * the rate backs off while static; removing the listener stops it all. */
T_TEST(display_listener_gets_clipped_updates_and_rate_backs_off)
{
    struct t_machine *t = display_machine();
    struct fake_hw hw = { 0 };
    struct display *d = display_new(t->dm, &fake_hw_ops, &hw);
    struct rec r = { .l = { .ops = &rec_ops } };
    unsigned int n;

    r.l.opaque = &r;
    display_listener_add(d, &r.l);
    T_EQ(hw.active, 1);
    T_EQ(hw.refreshes, 1);              /* drawn before the first picture */
    T_EQ(r.resizes, 1);                 /* told the size at once */
    T_EQ(r.updates, 0);
    hw.dirty_x = 600;
    hw.dirty_w = 100;                   /* runs past the right edge */
    t_clock_step(t, DISPLAY_REFRESH_FAST_MS * 1000000ull);
    T_EQ(hw.refreshes, 2);
    T_EQ(r.updates, 1);
    T_EQ(r.x, 600);
    T_EQ(r.w, 40);
    T_EQ(r.h, 1);
    /* Ten static seconds cost far fewer refreshes than the fast rate. */
    n = hw.refreshes;
    t_clock_step(t, 10ull * 1000 * 1000 * 1000);
    T_ASSERT(hw.refreshes - n <= 10000 / DISPLAY_REFRESH_SLOW_MS + 5);
    T_ASSERT(hw.refreshes - n >= 10000 / DISPLAY_REFRESH_SLOW_MS - 1);
    display_listener_remove(d, &r.l);
    T_EQ(hw.active, 0);
    n = hw.refreshes;
    t_clock_step(t, 10ull * 1000 * 1000 * 1000);
    T_EQ(hw.refreshes, n);
    display_free(d);
    t_machine_free(t);
}

/* The guest changed mode while nobody watched: the first listener is told
 * the current size, drawn before it is told, not the last one rendered. */
static void
mode_refresh(void *opaque, struct display *d)
{
    struct fake_hw *hw = opaque;

    hw->refreshes++;
    if (display_width(d) != 720) {
        T_EQ(display_resize(d, 720, 400), 0);
    }
}

static const struct display_hw_ops mode_hw_ops = {
    .refresh = mode_refresh,
    .active = fake_active,
};

static void
size_resize(struct display_listener *l, struct display *d)
{
    struct rec *r = l->opaque;

    r->resizes++;
    r->w = display_width(d);
    r->h = display_height(d);
}

static const struct display_listener_ops size_ops = {
    .resize = size_resize,
    .update = rec_update,
};

T_TEST(display_first_listener_sees_the_current_mode)
{
    struct t_machine *t = display_machine();
    struct fake_hw hw = { 0 };
    struct display *d = display_new(t->dm, &mode_hw_ops, &hw);
    struct rec r = { .l = { .ops = &size_ops } };

    r.l.opaque = &r;
    T_EQ(display_width(d), 640);        /* what was rendered last */
    display_listener_add(d, &r.l);
    T_EQ(hw.refreshes, 1);
    T_EQ(r.resizes, 1);                 /* once, with the new size */
    T_EQ(r.w, 720);
    T_EQ(r.h, 400);
    T_EQ(r.updates, 0);
    display_listener_remove(d, &r.l);
    display_free(d);
    t_machine_free(t);
}

/* A resize replaces the image, tells every listener and drops stale dirt;
 * absurd sizes and short strides are refused. */
T_TEST(display_resize_and_wrap)
{
    struct t_machine *t = display_machine();
    struct display *d = display_new(t->dm, NULL, NULL);
    struct rec r = { .l = { .ops = &rec_ops } };
    static uint32_t vram[64 * 32];

    r.l.opaque = &r;
    display_listener_add(d, &r.l);
    display_dirty(d, 0, 0, 10, 10);
    T_EQ(display_resize(d, 720, 400), 0);
    display_refresh(d);
    T_EQ(r.resizes, 2);
    T_EQ(r.updates, 0);
    T_EQ(display_width(d), 720);
    T_EQ(display_resize(d, 0, 400), -EINVAL);
    T_EQ(display_resize(d, 20000, 400), -EINVAL);
    T_EQ(display_resize_wrap(d, 64, 32, PIXMAN_x8r8g8b8, vram, 64 * 4), 0);
    T_EQ(display_resize_wrap(d, 64, 32, PIXMAN_x8r8g8b8, vram, 63 * 4),
         -EINVAL);
    vram[5] = 0x00ff0000;
    T_EQ(pixman_image_get_data(display_image(d))[5], 0x00ff0000);
    T_ASSERT(display_get(t->dm) == d);
    display_listener_remove(d, &r.l);
    display_free(d);
    T_ASSERT(display_get(t->dm) == NULL);
    t_machine_free(t);
}
