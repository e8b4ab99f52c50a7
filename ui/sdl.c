/*
 * The SDL2 window (ui/sdl.h).
 *
 * Same split as ui/vnc.c: the display listener (loop thread) copies
 * changed rectangles into a staging image under the lock and wakes the SDL
 * thread with a user event; the SDL thread owns window, renderer and
 * texture; input goes back through a bounded queue drained by a dm_post()
 * callback on the loop thread.
 */
#include "ui/sdl.h"

#include <SDL.h>
#include <errno.h>
#include <glib.h>
#include <pixman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/config.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/report.h"                /* HVMDM_VERSION */
#include "hw/pci/chipset.h"
#include "ui/display.h"
#include "ui/input.h"
#include "ui/module.h"

#define SDL_MAX_EVENTS      256
#define SDL_MAX_DOWN        32

enum sdl_ev_type { SDL_EV_KEY, SDL_EV_MOUSE, SDL_EV_POWER, SDL_EV_RELEASE };

struct sdl_event {
    enum sdl_ev_type type;
    bool down;
    unsigned int key;               /* key, or mouse buttons */
    int dx, dy, dz;
};

struct sdl {
    struct dm *dm;
    struct display_listener listener;
    bool listening;                 /* loop thread */
    unsigned int down[SDL_MAX_DOWN];    /* keys held, loop thread */
    unsigned int nr_down;
    GThread *thread;
    char *name;

    /* SDL thread */
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int tw, th;
    bool grabbed;
    unsigned int buttons;

    GMutex lock;                    /* everything below */
    GCond cond;
    bool init_done;
    char init_err[256];
    bool quit;
    Uint32 wake_type;               /* SDL user event number */
    pixman_image_t *stage;
    pixman_region32_t dirty;
    bool resized;
    bool wake_pending;
    uint64_t presents;
    char title[256];
    struct sdl_event ev[SDL_MAX_EVENTS];
    unsigned int ev_head, nr_events;
    bool drain_posted;
};

/* ---- keys: SDL scancodes are USB HID usages (HUT 1.12 section 10) ---- */

#define E0(k)   (INPUT_KEY_E0 | (k))

static const uint16_t sdl_keys[SDL_NUM_SCANCODES] = {
    [SDL_SCANCODE_A] = 0x1e, [SDL_SCANCODE_B] = 0x30,
    [SDL_SCANCODE_C] = 0x2e, [SDL_SCANCODE_D] = 0x20,
    [SDL_SCANCODE_E] = 0x12, [SDL_SCANCODE_F] = 0x21,
    [SDL_SCANCODE_G] = 0x22, [SDL_SCANCODE_H] = 0x23,
    [SDL_SCANCODE_I] = 0x17, [SDL_SCANCODE_J] = 0x24,
    [SDL_SCANCODE_K] = 0x25, [SDL_SCANCODE_L] = 0x26,
    [SDL_SCANCODE_M] = 0x32, [SDL_SCANCODE_N] = 0x31,
    [SDL_SCANCODE_O] = 0x18, [SDL_SCANCODE_P] = 0x19,
    [SDL_SCANCODE_Q] = 0x10, [SDL_SCANCODE_R] = 0x13,
    [SDL_SCANCODE_S] = 0x1f, [SDL_SCANCODE_T] = 0x14,
    [SDL_SCANCODE_U] = 0x16, [SDL_SCANCODE_V] = 0x2f,
    [SDL_SCANCODE_W] = 0x11, [SDL_SCANCODE_X] = 0x2d,
    [SDL_SCANCODE_Y] = 0x15, [SDL_SCANCODE_Z] = 0x2c,
    [SDL_SCANCODE_1] = 0x02, [SDL_SCANCODE_2] = 0x03,
    [SDL_SCANCODE_3] = 0x04, [SDL_SCANCODE_4] = 0x05,
    [SDL_SCANCODE_5] = 0x06, [SDL_SCANCODE_6] = 0x07,
    [SDL_SCANCODE_7] = 0x08, [SDL_SCANCODE_8] = 0x09,
    [SDL_SCANCODE_9] = 0x0a, [SDL_SCANCODE_0] = 0x0b,
    [SDL_SCANCODE_RETURN] = 0x1c, [SDL_SCANCODE_ESCAPE] = 0x01,
    [SDL_SCANCODE_BACKSPACE] = 0x0e, [SDL_SCANCODE_TAB] = 0x0f,
    [SDL_SCANCODE_SPACE] = 0x39, [SDL_SCANCODE_MINUS] = 0x0c,
    [SDL_SCANCODE_EQUALS] = 0x0d, [SDL_SCANCODE_LEFTBRACKET] = 0x1a,
    [SDL_SCANCODE_RIGHTBRACKET] = 0x1b, [SDL_SCANCODE_BACKSLASH] = 0x2b,
    [SDL_SCANCODE_NONUSHASH] = 0x2b, [SDL_SCANCODE_SEMICOLON] = 0x27,
    [SDL_SCANCODE_APOSTROPHE] = 0x28, [SDL_SCANCODE_GRAVE] = 0x29,
    [SDL_SCANCODE_COMMA] = 0x33, [SDL_SCANCODE_PERIOD] = 0x34,
    [SDL_SCANCODE_SLASH] = 0x35, [SDL_SCANCODE_CAPSLOCK] = 0x3a,
    [SDL_SCANCODE_F1] = 0x3b, [SDL_SCANCODE_F2] = 0x3c,
    [SDL_SCANCODE_F3] = 0x3d, [SDL_SCANCODE_F4] = 0x3e,
    [SDL_SCANCODE_F5] = 0x3f, [SDL_SCANCODE_F6] = 0x40,
    [SDL_SCANCODE_F7] = 0x41, [SDL_SCANCODE_F8] = 0x42,
    [SDL_SCANCODE_F9] = 0x43, [SDL_SCANCODE_F10] = 0x44,
    [SDL_SCANCODE_F11] = 0x57, [SDL_SCANCODE_F12] = 0x58,
    [SDL_SCANCODE_PRINTSCREEN] = E0(0x37),
    [SDL_SCANCODE_SCROLLLOCK] = 0x46,
    [SDL_SCANCODE_PAUSE] = INPUT_KEY_PAUSE,
    [SDL_SCANCODE_INSERT] = E0(0x52), [SDL_SCANCODE_HOME] = E0(0x47),
    [SDL_SCANCODE_PAGEUP] = E0(0x49), [SDL_SCANCODE_DELETE] = E0(0x53),
    [SDL_SCANCODE_END] = E0(0x4f), [SDL_SCANCODE_PAGEDOWN] = E0(0x51),
    [SDL_SCANCODE_RIGHT] = E0(0x4d), [SDL_SCANCODE_LEFT] = E0(0x4b),
    [SDL_SCANCODE_DOWN] = E0(0x50), [SDL_SCANCODE_UP] = E0(0x48),
    [SDL_SCANCODE_NUMLOCKCLEAR] = 0x45,
    [SDL_SCANCODE_KP_DIVIDE] = E0(0x35), [SDL_SCANCODE_KP_MULTIPLY] = 0x37,
    [SDL_SCANCODE_KP_MINUS] = 0x4a, [SDL_SCANCODE_KP_PLUS] = 0x4e,
    [SDL_SCANCODE_KP_ENTER] = E0(0x1c), [SDL_SCANCODE_KP_1] = 0x4f,
    [SDL_SCANCODE_KP_2] = 0x50, [SDL_SCANCODE_KP_3] = 0x51,
    [SDL_SCANCODE_KP_4] = 0x4b, [SDL_SCANCODE_KP_5] = 0x4c,
    [SDL_SCANCODE_KP_6] = 0x4d, [SDL_SCANCODE_KP_7] = 0x47,
    [SDL_SCANCODE_KP_8] = 0x48, [SDL_SCANCODE_KP_9] = 0x49,
    [SDL_SCANCODE_KP_0] = 0x52, [SDL_SCANCODE_KP_PERIOD] = 0x53,
    [SDL_SCANCODE_NONUSBACKSLASH] = 0x56,
    [SDL_SCANCODE_APPLICATION] = E0(0x5d),
    [SDL_SCANCODE_INTERNATIONAL1] = 0x73,   /* Ro */
    [SDL_SCANCODE_INTERNATIONAL2] = 0x70,   /* Katakana/Hiragana */
    [SDL_SCANCODE_INTERNATIONAL3] = 0x7d,   /* Yen */
    [SDL_SCANCODE_INTERNATIONAL4] = 0x79,   /* Henkan */
    [SDL_SCANCODE_INTERNATIONAL5] = 0x7b,   /* Muhenkan */
    [SDL_SCANCODE_LCTRL] = 0x1d, [SDL_SCANCODE_LSHIFT] = 0x2a,
    [SDL_SCANCODE_LALT] = 0x38, [SDL_SCANCODE_LGUI] = E0(0x5b),
    [SDL_SCANCODE_RCTRL] = E0(0x1d), [SDL_SCANCODE_RSHIFT] = 0x36,
    [SDL_SCANCODE_RALT] = E0(0x38), [SDL_SCANCODE_RGUI] = E0(0x5c),
};

unsigned int
sdl_scancode_to_key(unsigned int scancode)
{
    return scancode < SDL_NUM_SCANCODES ? sdl_keys[scancode] : 0;
}

/* ---- loop thread: display and input ----------------------------------- */

static void
sdl_wake_locked(struct sdl *s)
{
    SDL_Event e = { .type = s->wake_type };

    if (!s->wake_pending && s->wake_type != (Uint32)-1) {
        s->wake_pending = true;
        SDL_PushEvent(&e);          /* thread-safe */
    }
}

static void
sdl_display_resize(struct display_listener *l, struct display *d)
{
    struct sdl *s = l->opaque;
    int w = display_width(d), h = display_height(d);
    pixman_image_t *img = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h,
                                                   NULL, w * 4);

    if (!img) {
        return;
    }
    pixman_image_composite32(PIXMAN_OP_SRC, display_image(d), NULL, img,
                             0, 0, 0, 0, 0, 0, w, h);
    g_mutex_lock(&s->lock);
    pixman_image_unref(s->stage);
    s->stage = img;
    pixman_region32_clear(&s->dirty);
    s->resized = true;
    sdl_wake_locked(s);
    g_mutex_unlock(&s->lock);
}

static void
sdl_display_update(struct display_listener *l, struct display *d, int x,
                   int y, int w, int h)
{
    struct sdl *s = l->opaque;

    g_mutex_lock(&s->lock);
    if (pixman_image_get_width(s->stage) == display_width(d) &&
        pixman_image_get_height(s->stage) == display_height(d)) {
        pixman_image_composite32(PIXMAN_OP_SRC, display_image(d), NULL,
                                 s->stage, x, y, 0, 0, x, y, w, h);
        pixman_region32_union_rect(&s->dirty, &s->dirty, x, y,
                                   (unsigned int)w, (unsigned int)h);
        sdl_wake_locked(s);
    }
    g_mutex_unlock(&s->lock);
}

static const struct display_listener_ops sdl_display_ops = {
    .resize = sdl_display_resize,
    .update = sdl_display_update,
};

static void
sdl_key(struct sdl *s, unsigned int key, bool down)
{
    unsigned int i;

    for (i = 0; i < s->nr_down && s->down[i] != key; i++) {
    }
    if (down && i == s->nr_down && s->nr_down < SDL_MAX_DOWN) {
        s->down[s->nr_down++] = key;
    } else if (!down && i < s->nr_down) {
        s->down[i] = s->down[--s->nr_down];
    }
    input_key_event(s->dm, key, down);
}

static void
sdl_handle_event(struct sdl *s, const struct sdl_event *e)
{
    switch (e->type) {
    case SDL_EV_KEY:
        sdl_key(s, e->key, e->down);
        break;
    case SDL_EV_MOUSE:
        if (e->dx || e->dy || e->dz) {
            input_mouse_move(s->dm, e->dx, e->dy, e->dz);
        }
        input_mouse_buttons(s->dm, e->key);
        break;
    case SDL_EV_POWER:
        DM_INFO("sdl: window closed: pressing the guest's power button");
        piix4pm_power_button(s->dm);
        break;
    case SDL_EV_RELEASE:
        while (s->nr_down) {
            sdl_key(s, s->down[s->nr_down - 1], false);
        }
        input_mouse_buttons(s->dm, 0);
        break;
    }
}

static void
sdl_drain(void *opaque)
{
    struct sdl *s = opaque;
    struct sdl_event batch[32];
    unsigned int n, i;

    do {
        g_mutex_lock(&s->lock);
        n = MIN(s->nr_events, G_N_ELEMENTS(batch));
        for (i = 0; i < n; i++) {
            batch[i] = s->ev[(s->ev_head + i) % SDL_MAX_EVENTS];
        }
        s->ev_head = (s->ev_head + n) % SDL_MAX_EVENTS;
        s->nr_events -= n;
        s->drain_posted = s->nr_events != 0;
        g_mutex_unlock(&s->lock);
        for (i = 0; i < n; i++) {
            sdl_handle_event(s, &batch[i]);
        }
    } while (n == G_N_ELEMENTS(batch));
}

/* ---- SDL thread: input ------------------------------------------------ */

static void
sdl_queue(struct sdl *s, const struct sdl_event *e)
{
    bool post = false;

    g_mutex_lock(&s->lock);
    if (s->nr_events < SDL_MAX_EVENTS) {
        s->ev[(s->ev_head + s->nr_events++) % SDL_MAX_EVENTS] = *e;
        post = !s->drain_posted;
        s->drain_posted = true;
    }
    g_mutex_unlock(&s->lock);
    if (post) {
        dm_post(s->dm, sdl_drain, s);
    }
}

static void
sdl_make_title(struct sdl *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s - hvmdm%s", s->name,
             s->grabbed ? " - Press Ctrl-Alt-G to release grab"
                        : " - click to grab, Ctrl-Alt-G releases");
}

static void
sdl_set_grab(struct sdl *s, bool grab)
{
    char title[256];
    struct sdl_event rel = { .type = SDL_EV_RELEASE };

    s->grabbed = grab;
    SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowGrab(s->win, grab ? SDL_TRUE : SDL_FALSE);
    sdl_make_title(s, title, sizeof(title));
    SDL_SetWindowTitle(s->win, title);
    g_mutex_lock(&s->lock);
    g_strlcpy(s->title, title, sizeof(s->title));
    g_mutex_unlock(&s->lock);
    if (!grab) {
        sdl_queue(s, &rel);
    }
}

static void
sdl_on_key(struct sdl *s, const SDL_KeyboardEvent *k)
{
    struct sdl_event e = { .type = SDL_EV_KEY,
                           .down = k->type == SDL_KEYDOWN };
    SDL_Keymod mod = SDL_GetModState();

    if (k->repeat) {
        return;                     /* the keyboard repeats by itself */
    }
    if (k->keysym.scancode == SDL_SCANCODE_G && (mod & KMOD_CTRL) &&
        (mod & KMOD_ALT)) {
        if (e.down) {
            sdl_set_grab(s, !s->grabbed);
        }
        return;
    }
    e.key = sdl_scancode_to_key(k->keysym.scancode);
    if (e.key) {
        sdl_queue(s, &e);
    }
}

static unsigned int
sdl_buttons(Uint32 state)
{
    return (state & SDL_BUTTON_LMASK ? INPUT_BTN_LEFT : 0) |
           (state & SDL_BUTTON_MMASK ? INPUT_BTN_MIDDLE : 0) |
           (state & SDL_BUTTON_RMASK ? INPUT_BTN_RIGHT : 0) |
           (state & SDL_BUTTON_X1MASK ? INPUT_BTN_SIDE : 0) |
           (state & SDL_BUTTON_X2MASK ? INPUT_BTN_EXTRA : 0);
}

static void
sdl_on_mouse(struct sdl *s, const SDL_Event *ev)
{
    struct sdl_event e = { .type = SDL_EV_MOUSE };

    if (!s->grabbed) {
        if (ev->type == SDL_MOUSEBUTTONDOWN) {
            sdl_set_grab(s, true);  /* the grabbing click is not sent */
        }
        return;
    }
    if (ev->type == SDL_MOUSEMOTION) {
        e.dx = ev->motion.xrel;
        e.dy = ev->motion.yrel;
    } else if (ev->type == SDL_MOUSEWHEEL) {
        e.dz = ev->wheel.y;
    }
    e.key = sdl_buttons(SDL_GetMouseState(NULL, NULL));
    sdl_queue(s, &e);
}

/* ---- SDL thread: drawing ---------------------------------------------- */

static void
sdl_present(struct sdl *s)
{
    SDL_SetRenderDrawColor(s->ren, 0, 0, 0, 255);
    SDL_RenderClear(s->ren);
    SDL_RenderCopy(s->ren, s->tex, NULL, NULL);
    SDL_RenderPresent(s->ren);
    g_mutex_lock(&s->lock);
    s->presents++;
    g_mutex_unlock(&s->lock);
}

/* A new guest mode: new texture, window to the mode's size. */
static void
sdl_new_texture(struct sdl *s, int w, int h)
{
    if (s->tex) {
        SDL_DestroyTexture(s->tex);
    }
    s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_ARGB8888,
                               SDL_TEXTUREACCESS_STREAMING, w, h);
    s->tw = w;
    s->th = h;
    SDL_RenderSetLogicalSize(s->ren, w, h);  /* scales, keeps aspect */
    SDL_SetWindowSize(s->win, w, h);
}

static void
sdl_apply_stage(struct sdl *s)
{
    const uint8_t *px;
    pixman_box32_t *b;
    int n, i, stride;

    g_mutex_lock(&s->lock);
    s->wake_pending = false;
    px = (const uint8_t *)pixman_image_get_data(s->stage);
    stride = pixman_image_get_stride(s->stage);
    if (s->resized || !s->tex) {
        s->resized = false;
        pixman_region32_clear(&s->dirty);
        sdl_new_texture(s, pixman_image_get_width(s->stage),
                        pixman_image_get_height(s->stage));
        SDL_UpdateTexture(s->tex, NULL, px, stride);
    }
    b = pixman_region32_rectangles(&s->dirty, &n);
    for (i = 0; i < n; i++) {
        SDL_Rect r = { b[i].x1, b[i].y1, b[i].x2 - b[i].x1,
                       b[i].y2 - b[i].y1 };

        SDL_UpdateTexture(s->tex, &r, px + (size_t)r.y * stride + r.x * 4,
                          stride);
    }
    pixman_region32_clear(&s->dirty);
    g_mutex_unlock(&s->lock);
    sdl_present(s);
}

static bool
sdl_on_window(struct sdl *s, const SDL_WindowEvent *w)
{
    struct sdl_event power = { .type = SDL_EV_POWER };
    struct sdl_event rel = { .type = SDL_EV_RELEASE };

    switch (w->event) {
    case SDL_WINDOWEVENT_CLOSE:
        sdl_queue(s, &power);
        return false;
    case SDL_WINDOWEVENT_FOCUS_LOST:
        sdl_queue(s, &rel);         /* no key stays stuck down */
        return false;
    case SDL_WINDOWEVENT_EXPOSED:
    case SDL_WINDOWEVENT_SIZE_CHANGED:
        return true;
    }
    return false;
}

/* One event; false when the thread must end. */
static bool
sdl_dispatch(struct sdl *s, const SDL_Event *e)
{
    struct sdl_event power = { .type = SDL_EV_POWER };
    bool quit;

    if (e->type == s->wake_type) {
        g_mutex_lock(&s->lock);
        quit = s->quit;
        g_mutex_unlock(&s->lock);
        if (!quit) {
            sdl_apply_stage(s);
        }
        return !quit;
    }
    switch (e->type) {
    case SDL_QUIT:
        sdl_queue(s, &power);       /* the last window: same as close */
        break;
    case SDL_WINDOWEVENT:
        if (sdl_on_window(s, &e->window) && s->tex) {
            sdl_present(s);
        }
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        sdl_on_key(s, &e->key);
        break;
    case SDL_MOUSEMOTION:
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
    case SDL_MOUSEWHEEL:
        sdl_on_mouse(s, e);
        break;
    }
    return true;
}

static int
sdl_open_window(struct sdl *s)
{
    char title[256];

    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, "0");
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_PING, "0");
    /* No D-Bus screensaver inhibition, no GL: a console window. */
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
    SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    if (SDL_Init(SDL_INIT_VIDEO) < 0) {
        return -1;
    }
    sdl_make_title(s, title, sizeof(title));
    g_strlcpy(s->title, title, sizeof(s->title));
    s->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED,
                              SDL_WINDOWPOS_UNDEFINED,
                              pixman_image_get_width(s->stage),
                              pixman_image_get_height(s->stage),
                              SDL_WINDOW_RESIZABLE);
    if (!s->win) {
        return -1;
    }
    s->ren = SDL_CreateRenderer(s->win, -1, SDL_RENDERER_SOFTWARE);
    s->wake_type = SDL_RegisterEvents(1);
    return s->ren && s->wake_type != (Uint32)-1 ? 0 : -1;
}

static void
sdl_close_window(struct sdl *s)
{
    if (s->tex) {
        SDL_DestroyTexture(s->tex);
    }
    if (s->ren) {
        SDL_DestroyRenderer(s->ren);
    }
    if (s->win) {
        SDL_DestroyWindow(s->win);
    }
    SDL_Quit();
}

static gpointer
sdl_thread(gpointer opaque)
{
    struct sdl *s = opaque;
    int rc = sdl_open_window(s);
    SDL_Event e;

    g_mutex_lock(&s->lock);
    if (rc < 0) {
        snprintf(s->init_err, sizeof(s->init_err), "-display sdl: cannot "
                 "open a window: %s (or use vnc=1 instead of sdl=1)",
                 SDL_GetError());
    }
    s->init_done = true;
    g_cond_signal(&s->cond);
    g_mutex_unlock(&s->lock);
    while (rc == 0 && SDL_WaitEvent(&e) && sdl_dispatch(s, &e)) {
    }
    sdl_close_window(s);
    return NULL;
}

/* ---- start and stop --------------------------------------------------- */

static void
sdl_free(struct sdl *s)
{
    pixman_region32_fini(&s->dirty);
    pixman_image_unref(s->stage);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s->name);
    g_free(s);
}

static bool
sdl_wait_init(struct sdl *s, char *err, size_t errlen)
{
    bool ok;

    g_mutex_lock(&s->lock);
    while (!s->init_done) {
        g_cond_wait(&s->cond, &s->lock);
    }
    ok = s->init_err[0] == '\0';
    if (!ok) {
        snprintf(err, errlen, "%s", s->init_err);
    }
    g_mutex_unlock(&s->lock);
    return ok;
}

struct sdl *
sdl_start(struct dm *dm, char *err, size_t errlen)
{
    struct sdl *s;
    struct display *d = display_get(dm);

    if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")) {
        snprintf(err, errlen, "-display sdl: no X display (DISPLAY is not "
                 "set); xl passes DISPLAY and XAUTHORITY from the shell that "
                 "runs xl create, or use vnc=1 instead of sdl=1");
        return NULL;
    }
    s = g_new0(struct sdl, 1);
    s->dm = dm;
    s->name = g_strdup(dm->cfg && dm->cfg->name ? dm->cfg->name : "guest");
    s->listener.ops = &sdl_display_ops;
    s->listener.opaque = s;
    s->wake_type = (Uint32)-1;
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    pixman_region32_init(&s->dirty);
    s->stage = pixman_image_create_bits(PIXMAN_x8r8g8b8, 640, 480, NULL,
                                        640 * 4);
    s->thread = g_thread_new("sdl", sdl_thread, s);
    if (!sdl_wait_init(s, err, errlen)) {
        g_thread_join(s->thread);
        sdl_free(s);
        return NULL;
    }
    g_mutex_lock(&s->lock);
    sdl_wake_locked(s);             /* first picture */
    g_mutex_unlock(&s->lock);
    if (d) {
        s->listening = true;
        display_listener_add(d, &s->listener);
    }
    DM_INFO("sdl: window open on %s", getenv("DISPLAY") ? getenv("DISPLAY")
                                                        : "Wayland");
    return s;
}

void
sdl_stop(struct sdl *s)
{
    SDL_Event e;

    if (!s) {
        return;
    }
    if (s->listening) {
        display_listener_remove(display_get(s->dm), &s->listener);
    }
    g_mutex_lock(&s->lock);
    s->quit = true;
    e.type = s->wake_type;
    g_mutex_unlock(&s->lock);
    SDL_PushEvent(&e);
    g_thread_join(s->thread);
    dm_run_posted(s->dm);           /* no callback may outlive s */
    sdl_free(s);
}

void
sdl_title(struct sdl *s, char *buf, size_t len)
{
    g_mutex_lock(&s->lock);
    snprintf(buf, len, "%s", s->title);
    g_mutex_unlock(&s->lock);
}

uint64_t
sdl_presents(struct sdl *s)
{
    uint64_t n;

    g_mutex_lock(&s->lock);
    n = s->presents;
    g_mutex_unlock(&s->lock);
    return n;
}

void
sdl_request_close(struct sdl *s)
{
    SDL_Event e = { .type = SDL_WINDOWEVENT };

    e.window.event = SDL_WINDOWEVENT_CLOSE;
    e.window.windowID = SDL_GetWindowID(s->win);
    SDL_PushEvent(&e);
}

/* ---- the module's entry points (ui/module.h) -------------------------- */

const struct ui_sdl_module ui_sdl_module = {
    .head = { UI_MODULE_ABI, HVMDM_VERSION },
    .start = sdl_start,
    .stop = sdl_stop,
};
