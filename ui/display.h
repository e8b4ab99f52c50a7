/*
 * The display surface: what a display adapter (hw/vga/) shows, as one
 * pixman image, and the front ends (VNC, SDL, QMP screendump) that read it.
 *
 * The adapter owns the guest-side state and brings the surface up to date in
 * its refresh callback, reporting what changed with display_dirty() and
 * display_resize*(). Front ends register a listener and get resize and
 * update calls with the dirty rectangles. With no listener there is no
 * refresh timer and no refresh work at all; with listeners the display runs
 * one timer on the dm clock at an adaptive interval: fast while the picture
 * changes, backing off to a slow rate while it is static.
 *
 * Everything here runs on the dm loop thread. A front end with its own
 * thread (libvncserver, SDL) copies what it needs inside its update call,
 * or hands events over with dm_post(); it never reads the image from
 * another thread.
 */
#ifndef UI_DISPLAY_H
#define UI_DISPLAY_H

#include <pixman.h>
#include <stdbool.h>
#include <stdint.h>

struct dm;
struct display;
struct display_listener;

/* Adapter side. */
struct display_hw_ops {
    /*
     * Bring the surface up to date with the guest: render what changed,
     * call display_resize*() on a mode change and display_dirty() for
     * every changed rectangle. Called by the refresh timer while a
     * listener exists, and by display_refresh().
     */
    void (*refresh)(void *opaque, struct display *d);
    /* Optional: a listener appeared (true) or the last one went (false),
     * e.g. to start or stop dirty tracking. */
    void (*active)(void *opaque, bool active);
};

/* Front-end side. */
struct display_listener_ops {
    /* The image was replaced (new size or format): re-read display_image()
     * and treat all of it as changed. */
    void (*resize)(struct display_listener *l, struct display *d);
    /* A rectangle of the image changed; called once per rectangle after
     * each refresh that changed something. */
    void (*update)(struct display_listener *l, struct display *d,
                   int x, int y, int w, int h);
};

struct display_listener {
    const struct display_listener_ops *ops;
    void *opaque;
    struct display_listener *next;      /* owned by the display */
};

/* Interval bounds of the refresh timer, milliseconds. */
#define DISPLAY_REFRESH_FAST_MS     30
#define DISPLAY_REFRESH_SLOW_MS     500

/*
 * Create the machine's display (at most one; it hangs off dm->board) with
 * a 640x480 black surface. NULL on allocation failure.
 */
struct display *display_new(struct dm *dm, const struct display_hw_ops *ops,
                            void *opaque);
void display_free(struct display *d);
/* The machine's display, or NULL when the board has no adapter. */
struct display *display_get(struct dm *dm);

/* Adapter: replace the image by a zeroed w x h PIXMAN_x8r8g8b8 one that
 * the display owns. 0, or -EINVAL for a size out of 1..16384. */
int display_resize(struct display *d, int w, int h);
/*
 * Adapter: replace the image by one that wraps memory the adapter owns
 * (e.g. VRAM in a 32 bpp mode), with no copy. The memory must stay valid
 * until the next display_resize*() or display_free(). 0 or -EINVAL.
 */
int display_resize_wrap(struct display *d, int w, int h,
                        pixman_format_code_t format, void *data,
                        int stride);
/* Adapter: this rectangle changed (clipped to the image). */
void display_dirty(struct display *d, int x, int y, int w, int h);

pixman_image_t *display_image(const struct display *d);
int display_width(const struct display *d);
int display_height(const struct display *d);

/* Front ends. Adding the first listener starts the refresh timer. */
void display_listener_add(struct display *d, struct display_listener *l);
void display_listener_remove(struct display *d, struct display_listener *l);
/* Refresh now: the adapter's refresh, then the dirty rectangles to every
 * listener. Screendump and tests call it; the timer calls it too. */
void display_refresh(struct display *d);
/* Refreshes done so far (tests, and proof that an idle display does no
 * work). */
uint64_t display_refresh_count(const struct display *d);

#endif
