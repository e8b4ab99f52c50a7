/*
 * The VNC server on libvncserver (ui/vnc.h).
 *
 * Threads: the dm loop thread owns the display, the input devices and the
 * staging copy of the picture; the VNC thread owns every libvncserver
 * object (screen, clients, sockets) and its own framebuffer, and is the
 * only one to call into libvncserver after vnc_start(). They meet in
 * struct vnc's lock-protected fields: the staging buffer with its dirty
 * region (dm -> VNC; at each update the two buffers swap roles, so a frame
 * is copied once, from the display to the stage) and the input queue
 * (VNC -> dm, drained by a dm_post() callback). A slow or hostile client
 * can stall the VNC thread (for at most VNC_CLIENT_WAIT_MS, then it is
 * dropped) but never the loop.
 */
#include "ui/vnc.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pixman.h>
#include <rfb/rfb.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm/config.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/qmp-cmd.h"
#include "dm/report.h"                /* HVMDM_VERSION */
#include "hw/board.h"
#include "ui/display.h"
#include "ui/input.h"
#include "ui/keymap.h"
#include "ui/module.h"

#define VNC_MAX_EVENTS      1024    /* input queue bound, per server */
#define VNC_CLIENT_WAIT_MS  10000   /* a stuck client is dropped after */
#define VNC_MAX_MOTION      1024    /* one pointer step, in counts */

enum vnc_ev_type {
    VNC_EV_KEYSYM,                  /* a = keysym */
    VNC_EV_QNUM,                    /* a = QEMU key number (ext. key) */
    VNC_EV_POINTER,                 /* dx, dy, dz, a = buttons */
    VNC_EV_CLIENTS,                 /* the client count changed */
    VNC_EV_RELEASE,                 /* a client left: release its keys */
};

struct vnc_event {
    enum vnc_ev_type type;
    bool down;
    uint32_t a;
    int dx, dy, dz;
};

/* Per connection, on the VNC thread (cl->clientData). */
struct vnc_client {
    struct vnc *v;
    rfbClientPtr cl;
    int last_x, last_y;
    bool have_pos;
    unsigned int buttons;
    char host[INET6_ADDRSTRLEN];
    char service[8];
    const char *family;
    bool websocket;
};

struct vnc {
    struct dm *dm;
    struct vnc_opts opts;
    struct keymap *keymap;
    struct keymap_state kbd;        /* loop thread */
    struct display_listener listener;
    bool listening;                 /* loop thread */
    int port;
    char host[INET6_ADDRSTRLEN];
    const char *family;

    /* VNC thread */
    rfbScreenInfoPtr screen;
    GThread *thread;
    int wake_fd;
    pixman_image_t *front;          /* libvncserver's framebuffer */
    uint64_t wakeups;
    uint64_t updates_applied;

    GMutex lock;                    /* everything below */
    bool quit;
    pixman_image_t *stage;          /* x8r8g8b8 copy of the display */
    pixman_region32_t stage_dirty;
    pixman_region32_t stage_stale;  /* older than the display: the last
                                     * swap's region, from two frames ago */
    bool stage_resized;
    bool release_held;              /* the picture is there for them */
    bool wake_pending;
    struct vnc_event events[VNC_MAX_EVENTS];
    unsigned int ev_head, nr_events;
    bool drain_posted;
    GPtrArray *clients;             /* struct vnc_client * */
    char password[VNC_MAX_PASSWORD + 1];
    bool password_set;
};

/* ---- the -vnc argument ------------------------------------------------ */

static int
vnc_opt_bool(const char *key, const char *val, bool *out, char *err,
             size_t errlen)
{
    if (!val || !strcmp(val, "on") || !strcmp(val, "yes") ||
        !strcmp(val, "true")) {
        *out = true;
    } else if (!strcmp(val, "off") || !strcmp(val, "no") ||
               !strcmp(val, "false")) {
        *out = false;
    } else {
        snprintf(err, errlen, "-vnc: %s=%s: use %s=on or %s=off", key, val,
                 key, key);
        return -EINVAL;
    }
    return 0;
}

static int
vnc_opt_int(const char *key, const char *val, int max, int *out, char *err,
            size_t errlen)
{
    char *end;
    long n = val ? strtol(val, &end, 10) : -1;

    if (!val || *end || n < 0 || n > max) {
        snprintf(err, errlen, "-vnc: %s=%s: expected a number 0..%d", key,
                 val ? val : "", max);
        return -EINVAL;
    }
    *out = (int)n;
    return 0;
}

static int
vnc_parse_option(struct vnc_opts *o, char *kv, char *err, size_t errlen)
{
    char *val = strchr(kv, '=');
    bool b = false;

    if (val) {
        *val++ = '\0';
    }
    if (!strcmp(kv, "password")) {
        return vnc_opt_bool(kv, val, &o->password, err, errlen);
    } else if (!strcmp(kv, "to")) {
        return vnc_opt_int(kv, val, 65535 - VNC_PORT_BASE, &o->to, err,
                           errlen);
    } else if (!strcmp(kv, "ipv4")) {
        return vnc_opt_bool(kv, val, &o->ipv4_only, err, errlen);
    } else if (!strcmp(kv, "ipv6")) {
        return vnc_opt_bool(kv, val, &o->ipv6_only, err, errlen);
    } else if (!strcmp(kv, "websocket") && (!val || vnc_opt_bool(
                   kv, val, &b, err, errlen) == 0)) {
        o->websocket = true;        /* detected on the VNC port itself */
        return 0;
    }
    snprintf(err, errlen, "-vnc: option '%s' is not supported (hvmdm takes "
             "HOST:DISPLAY[,password=on][,to=N][,ipv4=on|ipv6=on]; "
             "WebSocket clients such as noVNC connect to the VNC port)", kv);
    return -EINVAL;
}

/* [HOST]:DISPLAY with HOST possibly "[v6 address]". */
static int
vnc_parse_addr(struct vnc_opts *o, const char *addr, char *err,
               size_t errlen)
{
    const char *colon = strrchr(addr, ':');
    size_t hl;

    if (!colon || strncmp(addr, "unix:", 5) == 0) {
        snprintf(err, errlen, "-vnc %s: expected HOST:DISPLAY (e.g. "
                 "127.0.0.1:0, the vnclisten and vncdisplay of xl.cfg)",
                 addr);
        return -EINVAL;
    }
    hl = (size_t)(colon - addr);
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
        o->host = g_strndup(addr + 1, hl - 2);
    } else {
        o->host = g_strndup(addr, hl);
    }
    if (vnc_opt_int("display", colon + 1, 65535 - VNC_PORT_BASE,
                    &o->display, err, errlen) < 0) {
        return -EINVAL;
    }
    o->to = o->display;
    return 0;
}

int
vnc_parse_opts(const char *arg, struct vnc_opts *o, char *err,
               size_t errlen)
{
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
    int i, rc;

    memset(o, 0, sizeof(*o));
    if (!strcmp(arg, "none")) {
        o->none = true;
        return 0;
    }
    rc = vnc_parse_addr(o, parts[0], err, errlen);
    for (i = 1; rc == 0 && parts[i]; i++) {
        rc = vnc_parse_option(o, parts[i], err, errlen);
    }
    if (rc == 0 && o->to < o->display) {
        o->to = o->display;
    }
    if (rc == 0 && o->ipv4_only && o->ipv6_only) {
        snprintf(err, errlen, "-vnc: ipv4=on and ipv6=on exclude each "
                 "other; give one, or neither for both");
        rc = -EINVAL;
    }
    if (rc < 0) {
        vnc_opts_free(o);
    }
    return rc;
}

void
vnc_opts_free(struct vnc_opts *o)
{
    g_free(o->host);
    o->host = NULL;
}

/* ---- listening -------------------------------------------------------- */

static int
vnc_listen_one(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
                    SOCK_NONBLOCK, ai->ai_protocol);
    int one = 1, err;

    if (fd < 0) {
        return -errno;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 8) < 0) {
        err = errno;
        close(fd);
        return -err;
    }
    if (fd >= FD_SETSIZE) {                 /* libvncserver uses select() */
        close(fd);
        return -EMFILE;
    }
    return fd;
}

static void
vnc_addr_name(const struct sockaddr *sa, socklen_t len, char *host,
              size_t hostlen, char *serv, size_t servlen,
              const char **family)
{
    if (getnameinfo(sa, len, host, (socklen_t)hostlen, serv,
                    (socklen_t)servlen, NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(host, hostlen, "?");
        snprintf(serv, servlen, "0");
    }
    *family = sa->sa_family == AF_INET6 ? "ipv6" :
              sa->sa_family == AF_INET ? "ipv4" : "unknown";
}

/* Bind every address of HOST on one port; up to two sockets. */
static int
vnc_listen_port(struct vnc *v, const struct addrinfo *list, int fds[2])
{
    const struct addrinfo *ai;
    int n = 0, fd;

    for (ai = list; ai && n < 2; ai = ai->ai_next) {
        if ((v->opts.ipv4_only && ai->ai_family != AF_INET) ||
            (v->opts.ipv6_only && ai->ai_family != AF_INET6)) {
            continue;
        }
        fd = vnc_listen_one(ai);
        if (fd < 0) {
            while (n > 0) {
                close(fds[--n]);
            }
            return fd;
        }
        if (n == 0) {
            vnc_addr_name(ai->ai_addr, ai->ai_addrlen, v->host,
                          sizeof(v->host), (char[8]){ 0 }, 8, &v->family);
        }
        fds[n++] = fd;
    }
    return n ? n : -EADDRNOTAVAIL;
}

/* Display N = port 5900 + N; with to=M the first free one up to M. */
static int
vnc_listen(struct vnc *v, int fds[2], char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    const char *host = v->opts.host && v->opts.host[0] ? v->opts.host : NULL;
    struct addrinfo *list;
    char port[16];
    int d, rc = -EADDRINUSE;

    for (d = v->opts.display; d <= v->opts.to; d++) {
        snprintf(port, sizeof(port), "%d", VNC_PORT_BASE + d);
        rc = getaddrinfo(host, port, &hints, &list);
        if (rc) {
            snprintf(err, errlen, "-vnc: cannot resolve '%s': %s (give an "
                     "address such as 127.0.0.1 or ::1)", host,
                     gai_strerror(rc));
            return -EINVAL;
        }
        rc = vnc_listen_port(v, list, fds);
        freeaddrinfo(list);
        if (rc > 0) {
            v->port = VNC_PORT_BASE + d;
            return rc;
        }
        if (rc != -EADDRINUSE) {
            break;
        }
    }
    snprintf(err, errlen, "-vnc: cannot listen on %s display %d%s: %s "
             "(choose another vncdisplay, or vncunused=1)",
             host ? host : "*", v->opts.display,
             v->opts.to > v->opts.display ? " or the ones after" : "",
             g_strerror(-rc));
    return rc;
}

/* ---- display side (loop thread) --------------------------------------- */

/* A zeroed x8r8g8b8 picture, rows packed (w * 4 bytes) as libvncserver
 * reads them; NULL without memory. */
static pixman_image_t *
vnc_picture_new(int w, int h)
{
    return pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, NULL, w * 4);
}

static void
vnc_wake(struct vnc *v)
{
    uint64_t one = 1;

    if (write(v->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        DM_WARN("vnc: wake-up eventfd: %s", g_strerror(errno));
    }
}

/* Called with the lock held; the caller wakes the thread. */
static bool
vnc_stage_mark(struct vnc *v)
{
    bool wake = !v->wake_pending;

    v->wake_pending = true;
    return wake;
}

static void
vnc_copy_rect(struct vnc *v, struct display *d, int x, int y, int w, int h)
{
    pixman_image_composite32(PIXMAN_OP_SRC, display_image(d), NULL,
                             v->stage, x, y, 0, 0, x, y, w, h);
}

/*
 * The stage and libvncserver's framebuffer swap roles at each update
 * (vnc_apply_rects): the old front comes back as the stage holding the
 * picture before the last update. Bring that region up to the display
 * before anything new is drawn, so the stage is whole whenever it has a
 * dirty region.
 */
static void
vnc_refresh_stale(struct vnc *v, struct display *d)
{
    pixman_box32_t *b;
    int n, i;

    b = pixman_region32_rectangles(&v->stage_stale, &n);
    for (i = 0; i < n; i++) {
        vnc_copy_rect(v, d, b[i].x1, b[i].y1, b[i].x2 - b[i].x1,
                      b[i].y2 - b[i].y1);
    }
    pixman_region32_clear(&v->stage_stale);
}

static void
vnc_display_resize(struct display_listener *l, struct display *d)
{
    struct vnc *v = l->opaque;
    int w = display_width(d), h = display_height(d);
    pixman_image_t *img = vnc_picture_new(w, h);
    bool wake;

    if (!img) {
        DM_WARN("vnc: no memory for a %dx%d picture", w, h);
        return;
    }
    g_mutex_lock(&v->lock);
    pixman_image_unref(v->stage);
    v->stage = img;
    vnc_copy_rect(v, d, 0, 0, w, h);
    pixman_region32_clear(&v->stage_dirty);
    pixman_region32_clear(&v->stage_stale);
    v->stage_resized = true;
    wake = vnc_stage_mark(v);
    g_mutex_unlock(&v->lock);
    if (wake) {
        vnc_wake(v);
    }
}

static void
vnc_display_update(struct display_listener *l, struct display *d, int x,
                   int y, int w, int h)
{
    struct vnc *v = l->opaque;
    bool wake;

    g_mutex_lock(&v->lock);
    if (pixman_image_get_width(v->stage) != display_width(d) ||
        pixman_image_get_height(v->stage) != display_height(d)) {
        g_mutex_unlock(&v->lock);
        return;                     /* a resize that failed: skip */
    }
    vnc_refresh_stale(v, d);
    vnc_copy_rect(v, d, x, y, w, h);
    pixman_region32_union_rect(&v->stage_dirty, &v->stage_dirty, x, y,
                               (unsigned int)w, (unsigned int)h);
    wake = vnc_stage_mark(v);
    g_mutex_unlock(&v->lock);
    if (wake) {
        vnc_wake(v);
    }
}

static const struct display_listener_ops vnc_display_ops = {
    .resize = vnc_display_resize,
    .update = vnc_display_update,
};

/*
 * Watch the display only while someone is connected. A new client waits
 * on hold until the picture it will be sent has been copied.
 */
static void
vnc_clients_changed(struct vnc *v)
{
    struct display *d = display_get(v->dm);
    bool want;

    bool wake;

    g_mutex_lock(&v->lock);
    want = v->clients->len > 0;
    g_mutex_unlock(&v->lock);
    if (d && want != v->listening) {
        v->listening = want;
        if (want) {
            display_listener_add(d, &v->listener);   /* copies it all */
        } else {
            display_listener_remove(d, &v->listener);
        }
    }
    g_mutex_lock(&v->lock);
    v->release_held = true;
    wake = vnc_stage_mark(v);
    g_mutex_unlock(&v->lock);
    if (wake) {
        vnc_wake(v);
    }
}

/* ---- input (loop thread) ---------------------------------------------- */

static void
vnc_emit_key(void *opaque, unsigned int key, bool down)
{
    struct vnc *v = opaque;

    input_key_event(v->dm, key, down);
}

static void
vnc_keysym(struct vnc *v, uint32_t sym, bool down)
{
    static struct dm_ratelimit rl;

    if (!keymap_key_event(&v->kbd, sym, down, input_kbd_leds(v->dm),
                          vnc_emit_key, v) && down) {
        dm_log_ratelimited(&rl, DM_LOG_INFO, "vnc: keysym 0x%x is not in "
                           "the keymap (-k); a client sending QEMU "
                           "extended key events needs none", sym);
    }
}

static void
vnc_handle_event(struct vnc *v, const struct vnc_event *e)
{
    unsigned int key;

    switch (e->type) {
    case VNC_EV_KEYSYM:
        vnc_keysym(v, e->a, e->down);
        break;
    case VNC_EV_QNUM:
        key = keymap_qnum_to_key(e->a);
        if (key) {
            input_key_event(v->dm, key, e->down);
        }
        break;
    case VNC_EV_POINTER:
        if (e->dx || e->dy || e->dz) {
            input_mouse_move(v->dm, e->dx, e->dy, e->dz);
        }
        input_mouse_buttons(v->dm, e->a);
        break;
    case VNC_EV_CLIENTS:
        vnc_clients_changed(v);
        break;
    case VNC_EV_RELEASE:
        keymap_release_all(&v->kbd, vnc_emit_key, v);
        input_mouse_buttons(v->dm, 0);
        break;
    }
}

static void
vnc_drain(void *opaque)
{
    struct vnc *v = opaque;
    struct vnc_event batch[64];
    unsigned int n, i;

    do {
        g_mutex_lock(&v->lock);
        n = MIN(v->nr_events, G_N_ELEMENTS(batch));
        for (i = 0; i < n; i++) {
            batch[i] = v->events[(v->ev_head + i) % VNC_MAX_EVENTS];
        }
        v->ev_head = (v->ev_head + n) % VNC_MAX_EVENTS;
        v->nr_events -= n;
        if (!v->nr_events) {
            v->drain_posted = false;
        }
        g_mutex_unlock(&v->lock);
        for (i = 0; i < n; i++) {
            vnc_handle_event(v, &batch[i]);
        }
    } while (n == G_N_ELEMENTS(batch));
}

/* ---- input (VNC thread) ----------------------------------------------- */

static struct vnc_event *
vnc_last_event(struct vnc *v)
{
    if (!v->nr_events) {
        return NULL;
    }
    return &v->events[(v->ev_head + v->nr_events - 1) % VNC_MAX_EVENTS];
}

/* Queue an event for the loop; pointer motion merges into the last one. */
static void
vnc_queue(struct vnc *v, const struct vnc_event *e)
{
    static struct dm_ratelimit rl;
    struct vnc_event *last;
    bool post = false;

    g_mutex_lock(&v->lock);
    last = vnc_last_event(v);
    if (e->type == VNC_EV_POINTER && last && last->type == VNC_EV_POINTER &&
        last->a == e->a && !e->dz && !last->dz) {
        last->dx += e->dx;
        last->dy += e->dy;
    } else if (v->nr_events < VNC_MAX_EVENTS) {
        v->events[(v->ev_head + v->nr_events++) % VNC_MAX_EVENTS] = *e;
        post = !v->drain_posted;
        v->drain_posted = true;
    } else {
        dm_log_ratelimited(&rl, DM_LOG_WARN, "vnc: input queue full; "
                           "dropping client events");
    }
    g_mutex_unlock(&v->lock);
    if (post) {
        dm_post(v->dm, vnc_drain, v);
    }
}

static void
vnc_kbd_event(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    struct vnc_event e = { .type = VNC_EV_KEYSYM, .down = down,
                           .a = (uint32_t)sym };

    vnc_queue(c->v, &e);
}

/* RFB 7.5.5 button mask: 1 left, 2 middle, 4 right, 8/16 wheel up/down. */
static unsigned int
vnc_buttons(int mask)
{
    return (mask & 1 ? INPUT_BTN_LEFT : 0) |
           (mask & 2 ? INPUT_BTN_MIDDLE : 0) |
           (mask & 4 ? INPUT_BTN_RIGHT : 0);
}

/*
 * Relative PS/2 mouse: the motion is the difference to the client's last
 * position (the guest's pointer follows with its own acceleration; an
 * absolute device, the USB tablet, will take x/y as they are). A wheel
 * click is a button press in RFB; count presses, not releases.
 */
static void
vnc_ptr_event(int mask, int x, int y, rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    struct vnc_event e = { .type = VNC_EV_POINTER, .a = vnc_buttons(mask) };

    if (c->have_pos) {
        e.dx = CLAMP(x - c->last_x, -VNC_MAX_MOTION, VNC_MAX_MOTION);
        e.dy = CLAMP(y - c->last_y, -VNC_MAX_MOTION, VNC_MAX_MOTION);
    }
    if ((mask & 8) && !(c->buttons & 8)) {
        e.dz = 1;
    } else if ((mask & 16) && !(c->buttons & 16)) {
        e.dz = -1;
    }
    c->last_x = x;
    c->last_y = y;
    c->have_pos = true;
    c->buttons = (unsigned int)mask;
    vnc_queue(c->v, &e);
}

/* ---- QEMU extended key event (RFB pseudo-encoding -258) -------------- */

/*
 * A client announces the pseudo-encoding in SetEncodings; the server
 * acknowledges with a FramebufferUpdate holding one rectangle of that
 * encoding, after which the client sends message 255 subtype 0:
 * u8 255, u8 0, u16 down, u32 keysym, u32 keycode (the qnum).
 */
static rfbBool
vnc_ext_new_client(rfbClientPtr cl, void **data)
{
    return TRUE;
}

static rfbBool
vnc_ext_enable(rfbClientPtr cl, void **data, int enc)
{
    uint8_t msg[16] = { rfbFramebufferUpdate, 0, 0, 1 };
    uint32_t e = htonl((uint32_t)rfbEncodingQemuExtendedKeyEvent);
    uint16_t w = htons((uint16_t)cl->screen->width);
    uint16_t h = htons((uint16_t)cl->screen->height);

    if ((uint32_t)enc != rfbEncodingQemuExtendedKeyEvent) {
        return FALSE;
    }
    memcpy(msg + 8, &w, 2);
    memcpy(msg + 10, &h, 2);
    memcpy(msg + 12, &e, 4);
    if (rfbWriteExact(cl, (const char *)msg, sizeof(msg)) < 0) {
        rfbCloseClient(cl);
    }
    return TRUE;
}

static rfbBool
vnc_ext_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *m)
{
    struct vnc_client *c = cl->clientData;
    uint8_t b[11];
    struct vnc_event e = { .type = VNC_EV_QNUM };
    uint32_t sym, code;

    if (m->type != rfbQemuEvent) {
        return FALSE;
    }
    if (rfbReadExact(cl, (char *)b, sizeof(b)) <= 0 || b[0] != 0) {
        rfbCloseClient(cl);         /* only subtype 0 is announced */
        return TRUE;
    }
    e.down = (b[1] << 8 | b[2]) != 0;
    sym = (uint32_t)b[3] << 24 | b[4] << 16 | b[5] << 8 | b[6];
    code = (uint32_t)b[7] << 24 | b[8] << 16 | b[9] << 8 | b[10];
    if (code == 0 || code > 0xff) {
        e.type = VNC_EV_KEYSYM;     /* no key number: use the keysym */
        code = sym;
    }
    e.a = code;
    vnc_queue(c->v, &e);
    return TRUE;
}

static int vnc_ext_encodings[] = { (int)rfbEncodingQemuExtendedKeyEvent, 0 };

static rfbProtocolExtension vnc_ext_key = {
    .newClient = vnc_ext_new_client,
    .pseudoEncodings = vnc_ext_encodings,
    .enablePseudoEncoding = vnc_ext_enable,
    .handleMessage = vnc_ext_message,
};

/* ---- clients and authentication (VNC thread) -------------------------- */

/*
 * libvncserver 0.9.14 never frees a client's rfbExtensionData nodes nor
 * its WebSocket context (45 KiB, calloc'd in webSocketsHandshake), and
 * reads neither after the client-gone hook: free them as the client goes.
 */
static void
vnc_free_client_leftovers(rfbClientPtr cl)
{
    rfbExtensionData *e, *next;

    for (e = cl->extensions; e; e = next) {
        next = e->next;
        free(e->data);
        free(e);
    }
    cl->extensions = NULL;
    free(cl->wsctx);
    cl->wsctx = NULL;
}

static void
vnc_client_gone(rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    struct vnc *v = c->v;
    struct vnc_event rel = { .type = VNC_EV_RELEASE };
    struct vnc_event ch = { .type = VNC_EV_CLIENTS };

    g_mutex_lock(&v->lock);
    g_ptr_array_remove_fast(v->clients, c);
    g_mutex_unlock(&v->lock);
    DM_INFO("vnc: client %s:%s disconnected", c->host, c->service);
    g_free(c);
    cl->clientData = NULL;
    vnc_free_client_leftovers(cl);
    vnc_queue(v, &rel);
    vnc_queue(v, &ch);
}

static enum rfbNewClientAction
vnc_new_client(rfbClientPtr cl)
{
    struct vnc *v = cl->screen->screenData;
    struct vnc_client *c;
    struct vnc_event ch = { .type = VNC_EV_CLIENTS };
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    bool full;

    g_mutex_lock(&v->lock);
    full = v->clients->len >= VNC_MAX_CLIENTS;
    g_mutex_unlock(&v->lock);
    if (full) {
        DM_WARN("vnc: %d clients connected; refusing another",
                VNC_MAX_CLIENTS);
        vnc_free_client_leftovers(cl);
        return RFB_CLIENT_REFUSE;
    }
    c = g_new0(struct vnc_client, 1);
    c->v = v;
    c->cl = cl;
    c->websocket = cl->wsctx != NULL;
    if (getpeername(cl->sock, (struct sockaddr *)&ss, &len) < 0) {
        ss.ss_family = AF_UNSPEC;
        len = sizeof(ss);
    }
    vnc_addr_name((struct sockaddr *)&ss, len, c->host, sizeof(c->host),
                  c->service, sizeof(c->service), &c->family);
    cl->clientData = c;
    cl->clientGoneHook = vnc_client_gone;
    g_mutex_lock(&v->lock);
    g_ptr_array_add(v->clients, c);
    g_mutex_unlock(&v->lock);
    DM_INFO("vnc: client %s:%s connected%s", c->host, c->service,
            c->websocket ? " over WebSocket" : "");
    vnc_queue(v, &ch);
    return RFB_CLIENT_ON_HOLD;      /* until the picture is copied */
}

/*
 * RFB 7.2.2 VNC authentication: the response is the challenge encrypted
 * with DES keyed by the password (up to 8 characters). With password=on
 * and no password set yet, nobody gets in.
 */
static rfbBool
vnc_check_password(rfbClientPtr cl, const char *response, int len)
{
    struct vnc *v = cl->screen->screenData;
    unsigned char expect[CHALLENGESIZE];
    char pw[VNC_MAX_PASSWORD + 1];
    bool set;
    int i, diff = 0;

    g_mutex_lock(&v->lock);
    set = v->password_set;
    memcpy(pw, v->password, sizeof(pw));
    g_mutex_unlock(&v->lock);
    if (!set || len != CHALLENGESIZE) {
        DM_WARN("vnc: client %s refused: %s", cl->host,
                set ? "bad response" : "no password set yet "
                "(QMP change-vnc-password)");
        return FALSE;
    }
    memcpy(expect, cl->authChallenge, CHALLENGESIZE);
    rfbEncryptBytes(expect, pw);
    for (i = 0; i < CHALLENGESIZE; i++) {
        diff |= expect[i] ^ (unsigned char)response[i];
    }
    explicit_bzero(pw, sizeof(pw));
    if (diff) {
        DM_WARN("vnc: client %s: wrong password", cl->host);
    }
    return diff == 0;
}

/* ---- the VNC thread --------------------------------------------------- */

static void
vnc_fix_format(rfbScreenInfoPtr s)
{
    /* pixman x8r8g8b8 in host order: red in bits 16..23. */
    s->serverFormat.redShift = 16;
    s->serverFormat.greenShift = 8;
    s->serverFormat.blueShift = 0;
}

static void
vnc_apply_resize(struct vnc *v)
{
    int w = pixman_image_get_width(v->stage);
    int h = pixman_image_get_height(v->stage);
    pixman_image_t *front = vnc_picture_new(w, h), *old = v->front;
    rfbClientIteratorPtr it;
    rfbClientPtr cl;

    if (!front) {
        DM_WARN("vnc: no memory for a %dx%d picture", w, h);
        return;
    }
    memcpy(pixman_image_get_data(front), pixman_image_get_data(v->stage),
           (size_t)w * h * 4);
    v->front = front;
    rfbNewFramebuffer(v->screen, (char *)pixman_image_get_data(front), w, h,
                      8, 3, 4);
    vnc_fix_format(v->screen);
    it = rfbGetClientIterator(v->screen);
    while ((cl = rfbClientIteratorNext(it))) {
        v->screen->setTranslateFunction(cl);
    }
    rfbReleaseClientIterator(it);
    pixman_image_unref(old);
}

/*
 * The stage, whole and newer, becomes libvncserver's framebuffer (no copy:
 * libvncserver reads it only on this thread, between our calls); the old
 * framebuffer becomes the stage, stale where this update drew.
 */
static void
vnc_apply_rects(struct vnc *v, pixman_region32_t *out)
{
    pixman_image_t *t;

    if (!pixman_region32_not_empty(&v->stage_dirty) ||
        pixman_image_get_width(v->front) != pixman_image_get_width(v->stage)
        || pixman_image_get_height(v->front) !=
        pixman_image_get_height(v->stage)) {
        return;
    }
    t = v->front;
    v->front = v->stage;
    v->stage = t;
    v->screen->frameBuffer = (char *)pixman_image_get_data(v->front);
    pixman_region32_copy(out, &v->stage_dirty);
    pixman_region32_copy(&v->stage_stale, &v->stage_dirty);
    pixman_region32_clear(&v->stage_dirty);
}

static void
vnc_release_held(struct vnc *v)
{
    rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
    rfbClientPtr cl;

    while ((cl = rfbClientIteratorNext(it))) {
        cl->onHold = FALSE;
    }
    rfbReleaseClientIterator(it);
}

/* Bring libvncserver's framebuffer up to the staging copy. */
static void
vnc_apply_stage(struct vnc *v)
{
    pixman_region32_t dirty;
    pixman_box32_t *b;
    bool release;
    int n, i;

    pixman_region32_init(&dirty);
    g_mutex_lock(&v->lock);
    v->wake_pending = false;
    release = v->release_held;
    v->release_held = false;
    if (v->stage_resized) {
        v->stage_resized = false;
        pixman_region32_clear(&v->stage_dirty);
        vnc_apply_resize(v);
    } else {
        vnc_apply_rects(v, &dirty);
    }
    g_mutex_unlock(&v->lock);
    if (release) {
        vnc_release_held(v);
    }
    b = pixman_region32_rectangles(&dirty, &n);
    for (i = 0; i < n; i++) {
        rfbMarkRectAsModified(v->screen, b[i].x1, b[i].y1, b[i].x2,
                              b[i].y2);
    }
    v->updates_applied++;
    pixman_region32_fini(&dirty);
}

static bool
vnc_wait(struct vnc *v)
{
    fd_set fds = v->screen->allFds;
    int maxfd = MAX(v->screen->maxFd, v->wake_fd);
    uint64_t n;

    FD_SET(v->wake_fd, &fds);
    if (select(maxfd + 1, &fds, NULL, NULL, NULL) < 0) {
        return errno == EINTR;
    }
    v->wakeups++;
    if (FD_ISSET(v->wake_fd, &fds) &&
        read(v->wake_fd, &n, sizeof(n)) == sizeof(n)) {
        return true;
    }
    return false;
}

static gpointer
vnc_thread(gpointer opaque)
{
    struct vnc *v = opaque;
    bool quit = false, woken;

    while (!quit) {
        woken = vnc_wait(v);
        g_mutex_lock(&v->lock);
        quit = v->quit;
        g_mutex_unlock(&v->lock);
        if (woken && !quit) {
            vnc_apply_stage(v);
        }
        if (!quit) {
            rfbProcessEvents(v->screen, 0);
        }
    }
    return NULL;
}

/* ---- libvncserver's log ----------------------------------------------- */

static void vnc_rfb_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void vnc_rfb_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
vnc_rfb_vlog(struct dm_ratelimit *rl, enum dm_log_level lvl,
             const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);

    g_strchomp(msg);
    dm_log_ratelimited(rl, lvl, "vnc: %s", msg);
}

static void
vnc_rfb_log(const char *fmt, ...)
{
    static struct dm_ratelimit rl;
    va_list ap;

    if (dm_log_get_level() < DM_LOG_DEBUG) {
        return;
    }
    va_start(ap, fmt);
    vnc_rfb_vlog(&rl, DM_LOG_DEBUG, fmt, ap);
    va_end(ap);
}

static void
vnc_rfb_err(const char *fmt, ...)
{
    static struct dm_ratelimit rl;
    va_list ap;

    va_start(ap, fmt);
    vnc_rfb_vlog(&rl, DM_LOG_WARN, fmt, ap);
    va_end(ap);
}

/* ---- setup ------------------------------------------------------------ */

static void
vnc_register_once(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        rfbLog = vnc_rfb_log;
        rfbErr = vnc_rfb_err;
        rfbRegisterProtocolExtension(&vnc_ext_key);
        g_once_init_leave(&done, 1);
    }
}

static int
vnc_screen_new(struct vnc *v, const int fds[2], int nfds)
{
    rfbScreenInfoPtr s;
    int w = pixman_image_get_width(v->stage);
    int h = pixman_image_get_height(v->stage);

    v->front = vnc_picture_new(w, h);
    s = v->front ? rfbGetScreen(NULL, NULL, w, h, 8, 3, 4) : NULL;
    if (!s) {
        return -ENOMEM;
    }
    v->screen = s;
    s->frameBuffer = (char *)pixman_image_get_data(v->front);
    vnc_fix_format(s);
    s->screenData = v;
    s->desktopName = v->dm->cfg && v->dm->cfg->name ? v->dm->cfg->name
                                                    : "hvmdm";
    s->cursor = NULL;               /* the guest draws its own */
    s->deferUpdateTime = 0;         /* the display already paces us */
    s->deferPtrUpdateTime = 0;
    s->maxClientWait = VNC_CLIENT_WAIT_MS;
    s->ignoreSIGPIPE = FALSE;       /* main() already ignores it */
    s->kbdAddEvent = vnc_kbd_event;
    s->ptrAddEvent = vnc_ptr_event;
    s->newClientHook = vnc_new_client;
    if (v->opts.password) {
        s->authPasswdData = v;      /* offers VNC authentication */
        s->passwordCheck = vnc_check_password;
    }
    s->port = s->ipv6port = v->port;
    s->socketState = RFB_SOCKET_READY;
    FD_ZERO(&s->allFds);
    s->listenSock = fds[0];
    FD_SET(fds[0], &s->allFds);
    s->maxFd = fds[0];
    if (nfds > 1) {
        s->listen6Sock = fds[1];
        FD_SET(fds[1], &s->allFds);
        s->maxFd = MAX(fds[0], fds[1]);
    }
    rfbInitServer(s);
    return 0;
}

static struct vnc *
vnc_alloc(struct dm *dm)
{
    struct vnc *v = g_new0(struct vnc, 1);

    v->dm = dm;
    v->wake_fd = -1;
    v->listener.ops = &vnc_display_ops;
    v->listener.opaque = v;
    g_mutex_init(&v->lock);
    pixman_region32_init(&v->stage_dirty);
    pixman_region32_init(&v->stage_stale);
    v->clients = g_ptr_array_new();
    v->stage = vnc_picture_new(640, 480);
    return v;
}

static int
vnc_load_keymap(struct vnc *v, const char *name, char *err, size_t errlen)
{
    v->keymap = keymap_load(KEYMAP_DIR, name ? name : KEYMAP_DEFAULT, err,
                            errlen);
    if (!v->keymap && name) {
        return -ENOENT;
    }
    if (!v->keymap) {
        /* Only the default is missing: extended key events still work. */
        DM_WARN("vnc: %s; clients without QEMU extended key events will "
                "not type", err);
        err[0] = '\0';
    }
    keymap_state_init(&v->kbd, v->keymap);
    return 0;
}

struct vnc *
vnc_start(struct dm *dm, const char *arg, const char *keymap, char *err,
          size_t errlen)
{
    struct vnc *v = vnc_alloc(dm);
    int fds[2], n;

    if (vnc_parse_opts(arg, &v->opts, err, errlen) < 0 ||
        vnc_load_keymap(v, keymap, err, errlen) < 0) {
        goto fail;
    }
    n = vnc_listen(v, fds, err, errlen);
    if (n < 0) {
        goto fail;
    }
    v->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    vnc_register_once();
    if (v->wake_fd < 0 || vnc_screen_new(v, fds, n) < 0) {
        snprintf(err, errlen, "vnc: cannot set up the server: %s",
                 g_strerror(errno));
        goto fail;
    }
    if (dm->board) {
        dm->board->vnc = v;
    }
    v->thread = g_thread_new("vnc", vnc_thread, v);
    DM_INFO("vnc: listening on %s port %d%s", v->host, v->port,
            v->opts.password ? " (VNC authentication)" : "");
    return v;
fail:
    vnc_stop(v);
    return NULL;
}

void
vnc_stop(struct vnc *v)
{
    if (!v) {
        return;
    }
    if (v->thread) {
        g_mutex_lock(&v->lock);
        v->quit = true;
        g_mutex_unlock(&v->lock);
        vnc_wake(v);
        g_thread_join(v->thread);
    }
    if (v->screen) {
        rfbShutdownServer(v->screen, TRUE);   /* client-gone hooks queue */
        rfbScreenCleanup(v->screen);
    }
    if (v->dm->loop) {
        dm_run_posted(v->dm);       /* no callback may outlive v */
    }
    if (v->listening) {
        display_listener_remove(display_get(v->dm), &v->listener);
    }
    if (v->dm->board && v->dm->board->vnc == v) {
        v->dm->board->vnc = NULL;
    }
    if (v->wake_fd >= 0) {
        close(v->wake_fd);
    }
    keymap_free(v->keymap);
    vnc_opts_free(&v->opts);
    g_ptr_array_free(v->clients, TRUE);
    pixman_region32_fini(&v->stage_dirty);
    pixman_region32_fini(&v->stage_stale);
    pixman_image_unref(v->stage);
    if (v->front) {
        pixman_image_unref(v->front);
    }
    g_mutex_clear(&v->lock);
    g_free(v);
}

/* ---- accessors -------------------------------------------------------- */

int
vnc_port(const struct vnc *v)
{
    return v->port;
}

unsigned int
vnc_client_count(struct vnc *v)
{
    unsigned int n;

    g_mutex_lock(&v->lock);
    n = v->clients->len;
    g_mutex_unlock(&v->lock);
    return n;
}

int
vnc_set_password(struct vnc *v, const char *password)
{
    if (!v->opts.password) {
        return -EPERM;
    }
    if (strlen(password) > VNC_MAX_PASSWORD) {
        return -E2BIG;
    }
    g_mutex_lock(&v->lock);
    explicit_bzero(v->password, sizeof(v->password));
    g_strlcpy(v->password, password, sizeof(v->password));
    v->password_set = password[0] != '\0';
    g_mutex_unlock(&v->lock);
    return 0;
}

uint64_t
vnc_updates_applied(struct vnc *v)
{
    return v->updates_applied;
}

uint64_t
vnc_thread_wakeups(struct vnc *v)
{
    return v->wakeups;
}

/* ---- QMP query-vnc (ui/vnc-qmp.c) ----------------------------------- */

static JsonNode *
vnc_qmp_client(const struct vnc_client *c)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "host", c->host);
    json_object_set_string_member(o, "service", c->service);
    json_object_set_string_member(o, "family", c->family);
    json_object_set_boolean_member(o, "websocket", c->websocket);
    return qmp_node_take_object(o);
}

/* QEMU's VncInfo: libxl reads enabled, host and service (3.4). */
JsonNode *
vnc_qmp_info(struct vnc *v)
{
    JsonObject *o = json_object_new();
    JsonArray *a;
    char port[16];
    unsigned int i;

    json_object_set_boolean_member(o, "enabled", true);
    snprintf(port, sizeof(port), "%d", v->port);
    json_object_set_string_member(o, "host", v->host);
    json_object_set_string_member(o, "service", port);
    json_object_set_string_member(o, "family", v->family);
    json_object_set_string_member(o, "auth", v->opts.password ? "vnc"
                                                              : "none");
    a = json_array_new();
    g_mutex_lock(&v->lock);
    for (i = 0; i < v->clients->len; i++) {
        json_array_add_element(a, vnc_qmp_client(v->clients->pdata[i]));
    }
    g_mutex_unlock(&v->lock);
    json_object_set_array_member(o, "clients", a);
    return qmp_node_take_object(o);
}

/* ---- the module's entry points (ui/module.h) -------------------------- */

const struct ui_vnc_module ui_vnc_module = {
    .head = { UI_MODULE_ABI, HVMDM_VERSION },
    .start = vnc_start,
    .stop = vnc_stop,
    .set_password = vnc_set_password,
    .qmp_info = vnc_qmp_info,
};
