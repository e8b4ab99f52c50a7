/*
 * The VNC server (ui/vnc.c) and keymaps (ui/keymap.c), driven as clients
 * drive them: an RFB 3.8 client written here against RFC 6143 (handshake,
 * VNC authentication, raw updates, DesktopSize, the QEMU extended key
 * event), hostile byte streams, QMP query-vnc/change-vnc-password, and a
 * real client (gvnccapture, gtk-vnc) whose capture must match the surface
 * byte for byte. The display is a test one with known pixels; keys are
 * read back from the i8042 as a guest driver reads them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <rfb/rfb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <zlib.h>

#include "dm/config.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "hw/board.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/display.h"
#include "ui/input.h"
#include "ui/keymap.h"
#include "ui/vnc.h"

#define TIMEOUT_US      (10 * G_USEC_PER_SEC)

/* ---- a display with known pixels -------------------------------------- */

static uint32_t
pattern(int x, int y, uint32_t seed)
{
    uint32_t v = (uint32_t)x * 2654435761u ^ (uint32_t)y * 40503u ^ seed;

    return (v ^ v >> 13) & 0x00ffffff;
}

static void
fill(struct display *d, int x0, int y0, int w, int h, uint32_t seed)
{
    pixman_image_t *img = display_image(d);
    uint32_t *p = pixman_image_get_data(img);
    int stride = pixman_image_get_stride(img) / 4, x, y;

    for (y = y0; y < y0 + h; y++) {
        for (x = x0; x < x0 + w; x++) {
            p[y * stride + x] = pattern(x, y, seed);
        }
    }
    display_dirty(d, x0, y0, w, h);
}

struct vt {
    struct t_machine *t;
    struct display *d;
    struct vnc *v;
};

static void
vt_start(struct vt *vt, const char *arg, const char *keymap)
{
    struct t_opts o = { 0 };
    char err[256];

    vt->t = t_machine_new(&o);
    vt->d = display_new(vt->t->dm, NULL, NULL);
    T_ASSERT(vt->d);
    fill(vt->d, 0, 0, 640, 480, 1);
    vt->v = vnc_start(vt->t->dm, arg, keymap, err, sizeof(err));
    if (!vt->v) {
        t_fail(__FILE__, __LINE__, "vnc_start %s: %s", arg, err);
    }
}

static void
vt_stop(struct vt *vt)
{
    vnc_stop(vt->v);
    display_free(vt->d);
    t_machine_free(vt->t);
}

/* ---- a minimal RFB client ------------------------------------------- */

struct rc {
    struct vt *vt;
    int fd;
    int w, h;
};

static int
rc_connect_raw(struct vt *vt)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons(vnc_port(vt->v)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    T_ASSERT(fd >= 0);
    T_ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    return fd;
}

/* Run the loop while waiting, as the device model does. */
static void
vt_pump(struct vt *vt)
{
    int i;

    for (i = 0; i < 4; i++) {
        dm_loop_iterate(vt->t->dm, 0);
    }
}

static void
rc_read(struct rc *c, void *buf, size_t n)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    size_t got = 0;
    ssize_t r;

    while (got < n) {
        if (g_get_monotonic_time() > end) {
            t_fail(__FILE__, __LINE__, "server sent %zu of %zu bytes", got,
                   n);
        }
        vt_pump(c->vt);
        if (poll(&p, 1, 2) <= 0) {
            continue;
        }
        r = recv(c->fd, (char *)buf + got, n - got, 0);
        if (r <= 0) {
            t_fail(__FILE__, __LINE__, "connection closed after %zu of %zu "
                   "bytes", got, n);
        }
        got += (size_t)r;
    }
}

/* True if the server closed the connection within the timeout. */
static bool
rc_closed(struct rc *c)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    char buf[4096];

    while (g_get_monotonic_time() < end) {
        vt_pump(c->vt);
        if (poll(&p, 1, 2) > 0 && recv(c->fd, buf, sizeof(buf), 0) <= 0) {
            return true;
        }
    }
    return false;
}

static void
rc_write(struct rc *c, const void *buf, size_t n)
{
    T_EQ(send(c->fd, buf, n, MSG_NOSIGNAL), n);
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint16_t
be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 6143 7.1: version, security, (VNC auth), result, init. */
static bool
rc_handshake(struct rc *c, const char *password)
{
    uint8_t buf[64], n, ch[16];
    uint8_t type = password ? rfbVncAuth : rfbNoAuth;
    uint32_t len;

    rc_read(c, buf, 12);
    T_ASSERT(memcmp(buf, "RFB 003.008\n", 12) == 0);
    rc_write(c, "RFB 003.008\n", 12);
    rc_read(c, &n, 1);
    T_ASSERT(n > 0 && n < 16);
    rc_read(c, buf, n);
    T_ASSERT(memchr(buf, type, n) != NULL);
    rc_write(c, &type, 1);
    if (password) {
        rc_read(c, ch, 16);
        rfbEncryptBytes(ch, (char *)password);
        rc_write(c, ch, 16);
    }
    rc_read(c, buf, 4);
    if (be32(buf) != 0) {
        return false;
    }
    rc_write(c, "\1", 1);                       /* shared */
    rc_read(c, buf, 24);
    c->w = be16(buf);
    c->h = be16(buf + 2);
    T_EQ(buf[4], 32);                           /* bits per pixel */
    T_EQ(buf[14], 16);                          /* red shift */
    len = be32(buf + 20);
    T_ASSERT(len < sizeof(buf));
    rc_read(c, buf, len);
    return true;
}

static struct rc
rc_open(struct vt *vt, const char *password)
{
    struct rc c = { .vt = vt };

    c.fd = rc_connect_raw(vt);
    T_ASSERT(rc_handshake(&c, password));
    return c;
}

static void
rc_close(struct rc *c)
{
    close(c->fd);
    c->fd = -1;
}

static void
rc_set_encodings(struct rc *c, const int32_t *enc, unsigned int n)
{
    uint8_t msg[4 + 4 * 16] = { rfbSetEncodings, 0, 0, (uint8_t)n };
    unsigned int i;

    T_ASSERT(n <= 16);
    for (i = 0; i < n; i++) {
        uint32_t e = htonl((uint32_t)enc[i]);

        memcpy(msg + 4 + 4 * i, &e, 4);
    }
    rc_write(c, msg, 4 + 4 * n);
}

static void
rc_request(struct rc *c, bool incremental)
{
    uint8_t msg[10] = { rfbFramebufferUpdateRequest, incremental };
    uint16_t w = htons((uint16_t)c->w), h = htons((uint16_t)c->h);

    memcpy(msg + 6, &w, 2);
    memcpy(msg + 8, &h, 2);
    rc_write(c, msg, sizeof(msg));
}

struct rect {
    int x, y, w, h;
    int32_t enc;
};

/* One FramebufferUpdate; raw pixels land in fb (c->w x c->h). */
static unsigned int
rc_update(struct rc *c, uint32_t *fb, struct rect *rects, unsigned int max)
{
    uint8_t hdr[12];
    unsigned int n, i;
    int row;

    rc_read(c, hdr, 4);
    T_EQ(hdr[0], rfbFramebufferUpdate);
    n = be16(hdr + 2);
    for (i = 0; i < n; i++) {
        struct rect r;

        rc_read(c, hdr, 12);
        r = (struct rect){ be16(hdr), be16(hdr + 2), be16(hdr + 4),
                           be16(hdr + 6), (int32_t)be32(hdr + 8) };
        if (r.enc == rfbEncodingRaw) {
            T_ASSERT(r.x + r.w <= c->w && r.y + r.h <= c->h);
            for (row = 0; row < r.h; row++) {
                rc_read(c, fb + (size_t)(r.y + row) * c->w + r.x,
                        (size_t)r.w * 4);
            }
        } else if (r.enc == (int32_t)rfbEncodingNewFBSize) {
            c->w = r.w;
            c->h = r.h;
        }
        if (i < max) {
            rects[i] = r;
        }
    }
    return n;
}

static void
expect_picture(const uint32_t *fb, int w, int h, uint32_t seed)
{
    int x, y;

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            if ((fb[y * w + x] & 0xffffff) != pattern(x, y, seed)) {
                t_fail(__FILE__, __LINE__, "pixel %d,%d: %06x != %06x", x,
                       y, fb[y * w + x] & 0xffffff, pattern(x, y, seed));
            }
        }
    }
}

static const int32_t enc_raw[] = {
    rfbEncodingRaw, rfbEncodingNewFBSize,
    (int32_t)rfbEncodingQemuExtendedKeyEvent,
};

/* ---- -vnc option strings ---------------------------------------------- */

T_TEST(vnc_parse_options)
{
    struct vnc_opts o;
    char err[256];

    T_EQ(vnc_parse_opts("127.0.0.1:3,password=on,to=99", &o, err,
                        sizeof(err)), 0);
    T_ASSERT(strcmp(o.host, "127.0.0.1") == 0);
    T_EQ(o.display, 3);
    T_EQ(o.to, 99);
    T_ASSERT(o.password);
    vnc_opts_free(&o);
    T_EQ(vnc_parse_opts("[::1]:0,password", &o, err, sizeof(err)), 0);
    T_ASSERT(strcmp(o.host, "::1") == 0 && o.password);
    vnc_opts_free(&o);
    T_EQ(vnc_parse_opts(":1,websocket=on", &o, err, sizeof(err)), 0);
    T_ASSERT(o.host[0] == '\0' && o.display == 1 && o.websocket);
    vnc_opts_free(&o);
    T_EQ(vnc_parse_opts("none", &o, err, sizeof(err)), 0);
    T_ASSERT(o.none);
    T_EQ(vnc_parse_opts("127.0.0.1", &o, err, sizeof(err)), -EINVAL);
    T_ASSERT(strstr(err, "HOST:DISPLAY"));
    T_EQ(vnc_parse_opts("unix:/tmp/s", &o, err, sizeof(err)), -EINVAL);
    T_EQ(vnc_parse_opts("127.0.0.1:x", &o, err, sizeof(err)), -EINVAL);
    T_EQ(vnc_parse_opts("127.0.0.1:0,tls-creds=x", &o, err, sizeof(err)),
         -EINVAL);
    T_ASSERT(strstr(err, "tls-creds"));
    T_EQ(vnc_parse_opts("127.0.0.1:0,password=maybe", &o, err, sizeof(err)),
         -EINVAL);
    T_EQ(vnc_parse_opts(":0,ipv4=on,ipv6=on", &o, err, sizeof(err)),
         -EINVAL);
    T_EQ(vnc_parse_opts(":70000", &o, err, sizeof(err)), -EINVAL);
}

/* ---- keymaps ---------------------------------------------------------- */

struct keylog {
    unsigned int n;
    unsigned int key[32];
    bool down[32];
};

static void
keylog_emit(void *opaque, unsigned int key, bool down)
{
    struct keylog *l = opaque;

    T_ASSERT(l->n < 32);
    l->key[l->n] = key;
    l->down[l->n++] = down;
}

#define KD(k)   ((k) | 0x10000u)
#define KU(k)   (k)

static void
expect_keys(struct keylog *l, const unsigned int *want, unsigned int n,
            int line)
{
    unsigned int i;

    if (l->n != n) {
        t_fail(__FILE__, line, "%u key events, expected %u", l->n, n);
    }
    for (i = 0; i < n; i++) {
        unsigned int got = l->key[i] | (l->down[i] ? 0x10000u : 0);

        if (got != want[i]) {
            t_fail(__FILE__, line, "event %u: %05x, expected %05x", i, got,
                   want[i]);
        }
    }
    l->n = 0;
}

#define EXPECT_KEYS(l, ...)                                             \
    do {                                                                \
        static const unsigned int want_[] = { __VA_ARGS__ };            \
        expect_keys((l), want_, G_N_ELEMENTS(want_), __LINE__);         \
    } while (0)

static struct keymap *
load(const char *name)
{
    char err[256];
    struct keymap *km = keymap_load(KEYMAP_DIR, name, err, sizeof(err));

    if (!km) {
        t_fail(__FILE__, __LINE__, "%s", err);
    }
    return km;
}

T_TEST(keymap_files_load_and_map)
{
    struct keymap *us = load("en-us"), *de = load("de");
    unsigned int q, m;
    char err[256];

    T_ASSERT(keymap_size(us) > 100);
    T_ASSERT(keymap_lookup(us, 'a', &q, &m) && q == 0x1e && m == 0);
    T_ASSERT(keymap_lookup(us, 'A', &q, &m) && q == 0x1e &&
             m == KEYMAP_SHIFT);
    T_ASSERT(keymap_lookup(us, 0xff52, &q, &m) && q == 0xc8);   /* Up */
    T_ASSERT(keymap_lookup(de, 'z', &q, &m) && q == 0x15);      /* QWERTZ */
    T_ASSERT(keymap_lookup(de, '@', &q, &m) && q == 0x10 &&
             m == KEYMAP_ALTGR);
    T_EQ(keymap_qnum_to_key(0xc8), INPUT_KEY_E0 | 0x48);
    T_EQ(keymap_qnum_to_key(0x1e), 0x1e);
    T_EQ(keymap_qnum_to_key(0xc6), INPUT_KEY_PAUSE);
    T_EQ(keymap_qnum_to_key(0x54), INPUT_KEY_E0 | 0x37);
    T_EQ(keymap_qnum_to_key(0x100), 0);
    T_ASSERT(keymap_load(KEYMAP_DIR, "xx-nope", err, sizeof(err)) == NULL);
    T_ASSERT(strstr(err, "qemu-system-data"));
    T_ASSERT(keymap_load(KEYMAP_DIR, "../etc/passwd", err,
                         sizeof(err)) == NULL);
    keymap_free(us);
    keymap_free(de);
}

/* Shift and AltGr are added or lifted around a symbol that needs them. */
T_TEST(keymap_translator_modifiers)
{
    struct keymap *us = load("en-us"), *de = load("de");
    struct keymap_state s;
    struct keylog l = { 0 };

    keymap_state_init(&s, us);
    T_ASSERT(keymap_key_event(&s, 'a', true, 0, keylog_emit, &l));
    T_ASSERT(keymap_key_event(&s, 'a', false, 0, keylog_emit, &l));
    EXPECT_KEYS(&l, KD(0x1e), KU(0x1e));
    /* 'A' without Shift held: Shift is pressed around it. */
    keymap_key_event(&s, 'A', true, 0, keylog_emit, &l);
    keymap_key_event(&s, 'A', false, 0, keylog_emit, &l);
    EXPECT_KEYS(&l, KD(0x2a), KD(0x1e), KU(0x2a), KU(0x1e));
    /* Shift held by the client: nothing added. */
    keymap_key_event(&s, 0xffe1, true, 0, keylog_emit, &l);
    keymap_key_event(&s, 'A', true, 0, keylog_emit, &l);
    EXPECT_KEYS(&l, KD(0x2a), KD(0x1e));
    /* Shift held, '/' on en-us is unshifted: lifted and put back. */
    keymap_key_event(&s, '/', true, 0, keylog_emit, &l);
    EXPECT_KEYS(&l, KU(0x2a), KD(0x35), KD(0x2a));
    /* Shift+Home keeps Shift (selection). */
    keymap_key_event(&s, 0xff50, true, 0, keylog_emit, &l);
    EXPECT_KEYS(&l, KD(INPUT_KEY_E0 | 0x47));
    keymap_release_all(&s, keylog_emit, &l);
    T_EQ(l.n, 4);
    l.n = 0;
    /* Caps Lock on in the guest: 'A' needs no Shift. */
    keymap_key_event(&s, 'A', true, INPUT_LED_CAPS, keylog_emit, &l);
    EXPECT_KEYS(&l, KD(0x1e));
    keymap_release_all(&s, keylog_emit, &l);
    l.n = 0;
    /* de: '@' is AltGr+Q. */
    keymap_state_init(&s, de);
    keymap_key_event(&s, '@', true, 0, keylog_emit, &l);
    keymap_key_event(&s, '@', false, 0, keylog_emit, &l);
    EXPECT_KEYS(&l, KD(INPUT_KEY_E0 | 0x38), KD(0x10),
                KU(INPUT_KEY_E0 | 0x38), KU(0x10));
    /* Keypad 1 with the guest's Num Lock off: Num Lock is toggled. */
    keymap_key_event(&s, 0xffb1, true, 0, keylog_emit, &l);
    EXPECT_KEYS(&l, KD(0x45), KU(0x45), KD(0x4f));
    /* A keysym the layout lacks is refused, not guessed. */
    T_ASSERT(!keymap_key_event(&s, 0x1234567, true, 0, keylog_emit, &l));
    T_EQ(l.n, 0);
    keymap_free(us);
    keymap_free(de);
}

/* ---- the server ------------------------------------------------------- */

/* Picture, then only the dirty rectangle, then DesktopSize on a mode
 * change; no refresh work at all before a client comes. */
T_TEST(vnc_updates_follow_dirty_rectangles)
{
    struct vt vt;
    struct rc c;
    uint32_t *fb = g_new0(uint32_t, 800 * 600);
    struct rect r[8];
    unsigned int n;

    vt_start(&vt, "127.0.0.1:20,to=99", NULL);
    t_clock_step(vt.t, 5ull * G_USEC_PER_SEC * 1000);
    T_EQ(display_refresh_count(vt.d), 0);
    T_EQ(vnc_thread_wakeups(vt.v), 0);
    c = rc_open(&vt, NULL);
    T_EQ(c.w, 640);
    T_EQ(c.h, 480);
    rc_set_encodings(&c, enc_raw, 3);
    n = rc_update(&c, fb, r, 8);                /* extended key ack */
    T_EQ(n, 1);
    T_EQ(r[0].enc, (int32_t)rfbEncodingQemuExtendedKeyEvent);
    rc_request(&c, false);
    rc_update(&c, fb, r, 8);
    expect_picture(fb, 640, 480, 1);
    /* A change in one rectangle sends that rectangle. */
    fill(vt.d, 100, 50, 30, 20, 2);
    display_refresh(vt.d);
    rc_request(&c, true);
    n = rc_update(&c, fb, r, 8);
    T_EQ(n, 1);
    T_EQ(r[0].x, 100);
    T_EQ(r[0].y, 50);
    T_EQ(r[0].w, 30);
    T_EQ(r[0].h, 20);
    T_EQ(fb[60 * 640 + 110] & 0xffffff, pattern(110, 60, 2));
    /* Mode change: DesktopSize, then the new picture. */
    T_EQ(display_resize(vt.d, 800, 600), 0);
    fill(vt.d, 0, 0, 800, 600, 3);
    display_refresh(vt.d);
    rc_request(&c, true);
    n = rc_update(&c, fb, r, 8);
    T_ASSERT(n >= 1);
    T_EQ(r[0].enc, (int32_t)rfbEncodingNewFBSize);
    T_EQ(c.w, 800);
    T_EQ(c.h, 600);
    if (n == 1) {
        rc_request(&c, false);
        rc_update(&c, fb, r, 8);
    }
    expect_picture(fb, 800, 600, 3);
    rc_close(&c);
    vt_stop(&vt);
    g_free(fb);
}

/*
 * Updates in different places, one after another, each taken
 * incrementally: after every one, a full request must show all of them on
 * the first picture (the server's two framebuffers swap roles at each
 * update; the one coming back must be brought up to date where the last
 * one drew).
 */
T_TEST(vnc_successive_updates_keep_the_whole_picture)
{
    static const int box[4][4] = {
        { 10, 10, 50, 40 }, { 300, 200, 80, 60 }, { 30, 20, 40, 30 },
        { 0, 470, 640, 10 },
    };
    struct vt vt;
    struct rc c;
    uint32_t *fb = g_new0(uint32_t, 640 * 480);
    uint32_t *want = g_new0(uint32_t, 640 * 480);
    struct rect r[8];
    int i, x, y;

    vt_start(&vt, "127.0.0.1:20,to=99", NULL);
    c = rc_open(&vt, NULL);
    rc_set_encodings(&c, enc_raw, 2);
    for (y = 0; y < 480; y++) {
        for (x = 0; x < 640; x++) {
            want[y * 640 + x] = pattern(x, y, 1);
        }
    }
    for (i = 0; i < 4; i++) {
        fill(vt.d, box[i][0], box[i][1], box[i][2], box[i][3], 10 + i);
        for (y = box[i][1]; y < box[i][1] + box[i][3]; y++) {
            for (x = box[i][0]; x < box[i][0] + box[i][2]; x++) {
                want[y * 640 + x] = pattern(x, y, 10 + i);
            }
        }
        display_refresh(vt.d);
        rc_request(&c, true);
        rc_update(&c, fb, r, 8);
        memset(fb, 0, 640 * 480 * 4);
        rc_request(&c, false);
        rc_update(&c, fb, r, 8);
        for (y = 0; y < 480 * 640; y++) {
            if ((fb[y] & 0xffffff) != want[y]) {
                t_fail(__FILE__, __LINE__, "after update %d: pixel %d,%d "
                       "%06x != %06x", i, y % 640, y / 640,
                       fb[y] & 0xffffff, want[y]);
            }
        }
    }
    rc_close(&c);
    vt_stop(&vt);
    g_free(fb);
    g_free(want);
}

/* Drain the i8042 as a guest would and return the bytes. */
static unsigned int
kbc_bytes(struct t_machine *t, uint8_t *out, unsigned int max)
{
    unsigned int n = 0;

    while ((t_inb(t, 0x64) & 1) && n < max) {
        out[n++] = t_inb(t, 0x60);
    }
    return n;
}

static void
kbc_setup(struct t_machine *t)
{
    uint8_t junk[16];

    t_outb(t, 0x64, 0x60);
    t_outb(t, 0x60, 0x45);          /* XLATE | SYS | KBDINT */
    kbc_bytes(t, junk, sizeof(junk));
}

static void
rc_ext_key(struct rc *c, uint32_t keysym, uint32_t qnum, bool down)
{
    uint8_t m[12] = { rfbQemuEvent, 0, 0, down };
    uint32_t s = htonl(keysym), q = htonl(qnum);

    memcpy(m + 4, &s, 4);
    memcpy(m + 8, &q, 4);
    rc_write(c, m, sizeof(m));
}

static void
rc_key(struct rc *c, uint32_t keysym, bool down)
{
    uint8_t m[8] = { rfbKeyEvent, down };
    uint32_t s = htonl(keysym);

    memcpy(m + 4, &s, 4);
    rc_write(c, m, sizeof(m));
}

/* Wait until the guest's keyboard has n bytes. */
static void
expect_kbd(struct rc *c, const uint8_t *want, unsigned int n, int line)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    uint8_t got[32];
    unsigned int have = 0;

    while (have < n && g_get_monotonic_time() < end) {
        vt_pump(c->vt);
        have += kbc_bytes(c->vt->t, got + have, sizeof(got) - have);
        g_usleep(1000);
    }
    if (have != n || memcmp(got, want, n) != 0) {
        t_fail(__FILE__, line, "guest read %u scancode bytes (first %02x), "
               "expected %u (first %02x)", have, have ? got[0] : 0, n,
               want[0]);
    }
}

#define EXPECT_KBD(c, ...)                                              \
    do {                                                                \
        static const uint8_t want_[] = { __VA_ARGS__ };                 \
        expect_kbd((c), want_, sizeof(want_), __LINE__);                \
    } while (0)

/* Extended key events go straight through; keysyms through -k de;
 * Ctrl-Alt-Del arrives as the three keys. */
T_TEST(vnc_keys_reach_the_ps2_keyboard)
{
    struct vt vt;
    struct rc c;
    uint32_t fb[1];
    struct rect r[1];

    vt_start(&vt, "127.0.0.1:20,to=99", "de");
    kbc_setup(vt.t);
    c = rc_open(&vt, NULL);
    rc_set_encodings(&c, enc_raw, 3);
    rc_update(&c, fb, r, 1);
    rc_ext_key(&c, 'a', 0x1e, true);
    rc_ext_key(&c, 'a', 0x1e, false);
    EXPECT_KBD(&c, 0x1e, 0x9e);
    rc_ext_key(&c, 0xff52, 0xc8, true);         /* Up: 0xe0 prefix */
    rc_ext_key(&c, 0xff52, 0xc8, false);
    EXPECT_KBD(&c, 0xe0, 0x48, 0xe0, 0xc8);
    rc_key(&c, 'y', true);                      /* de: Y is where Z is */
    rc_key(&c, 'y', false);
    EXPECT_KBD(&c, 0x2c, 0xac);
    rc_key(&c, 0xffe3, true);                   /* Ctrl-Alt-Del */
    rc_key(&c, 0xffe9, true);
    rc_key(&c, 0xffff, true);
    EXPECT_KBD(&c, 0x1d, 0x38, 0xe0, 0x53);
    rc_close(&c);                               /* gone: keys released */
    EXPECT_KBD(&c, 0xe0, 0xd3, 0xb8, 0x9d);
    vt_stop(&vt);
}

/* Pointer motion becomes relative PS/2 movement. */
T_TEST(vnc_pointer_moves_the_ps2_mouse)
{
    struct vt vt;
    struct rc c;
    uint8_t m[6] = { rfbPointerEvent, 0, 0, 10, 0, 10 };
    uint8_t pkt[6];
    gint64 end;
    unsigned int n = 0;

    vt_start(&vt, "127.0.0.1:20,to=99", NULL);
    kbc_setup(vt.t);
    t_outb(vt.t, 0x64, 0xd4);                   /* mouse: enable */
    t_outb(vt.t, 0x60, 0xf4);
    T_EQ(t_inb(vt.t, 0x60), 0xfa);
    c = rc_open(&vt, NULL);
    rc_write(&c, m, 6);
    m[3] = 15;                                  /* x 10 -> 15 */
    m[5] = 8;                                   /* y 10 -> 8 */
    m[1] = 1;                                   /* left button */
    rc_write(&c, m, 6);
    end = g_get_monotonic_time() + TIMEOUT_US;
    while (n < 6 && g_get_monotonic_time() < end) {
        vt_pump(&vt);
        n += kbc_bytes(vt.t, pkt + n, 6 - n);
    }
    T_EQ(n, 6);
    T_EQ(pkt[0] & 0x07, 0x00);                  /* move there, then */
    T_EQ(pkt[1], 5);                            /* dx +5 */
    T_EQ(pkt[2], 2);                            /* dy: PS/2 y is up */
    T_EQ(pkt[3] & 0x07, 0x01);                  /* press left */
    T_EQ(pkt[4], 0);
    T_EQ(pkt[5], 0);
    rc_close(&c);
    vt_stop(&vt);
}

/* password=on: nobody without a password set; the right one gets in;
 * a wrong one is refused; QEMU's 8-character rule. */
T_TEST(vnc_password_authentication)
{
    struct vt vt;
    struct rc c = { .vt = &vt };

    vt_start(&vt, "127.0.0.1:20,password=on,to=99", NULL);
    c.fd = rc_connect_raw(&vt);
    T_ASSERT(!rc_handshake(&c, "anything"));
    rc_close(&c);
    T_EQ(vnc_set_password(vt.v, "123456789"), -E2BIG);
    T_EQ(vnc_set_password(vt.v, "s3cret"), 0);
    c.fd = rc_connect_raw(&vt);
    T_ASSERT(!rc_handshake(&c, "wrong"));
    rc_close(&c);
    c = rc_open(&vt, "s3cret");
    T_EQ(c.w, 640);
    rc_close(&c);
    vt_stop(&vt);

    vt_start(&vt, "127.0.0.1:20,to=99", NULL);
    T_EQ(vnc_set_password(vt.v, "x"), -EPERM);
    vt_stop(&vt);
}

/* ---- hostile clients -------------------------------------------------- */

static void
hostile(struct vt *vt, const void *bytes, size_t n, bool handshake)
{
    struct rc c = { .vt = vt };

    c.fd = rc_connect_raw(vt);
    if (handshake) {
        T_ASSERT(rc_handshake(&c, NULL));
    }
    send(c.fd, bytes, n, MSG_NOSIGNAL);
    shutdown(c.fd, SHUT_WR);                    /* and then nothing */
    T_ASSERT(rc_closed(&c));
    rc_close(&c);
}

/*
 * Each stream gets its connection closed, and afterwards a good client
 * still gets the picture: garbage versions, unknown messages, a cut text
 * of 4 GiB, a QEMU message of an unknown subtype, a huge SetEncodings
 * that is then cut off.
 */
T_TEST(vnc_hostile_streams_close_only_their_connection)
{
    static const uint8_t cut[] = { rfbClientCutText, 0, 0, 0,
                                   0xff, 0xff, 0xff, 0xff, 'x' };
    static const uint8_t unknown[] = { 77, 1, 2, 3 };
    static const uint8_t qemu_bad[] = { rfbQemuEvent, 9, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0 };
    static const uint8_t setenc[] = { rfbSetEncodings, 0, 0xff, 0xff,
                                      0, 0, 0, 0 };
    struct vt vt;
    struct rc c;
    uint32_t *fb = g_new0(uint32_t, 640 * 480);
    struct rect r[2];
    uint8_t junk[512];
    unsigned int i;

    vt_start(&vt, "127.0.0.1:20,to=99", NULL);
    hostile(&vt, "RFB 999.999\n", 12, false);
    hostile(&vt, cut, sizeof(cut), true);
    hostile(&vt, unknown, sizeof(unknown), true);
    hostile(&vt, qemu_bad, sizeof(qemu_bad), true);
    hostile(&vt, setenc, sizeof(setenc), true);
    for (i = 0; i < sizeof(junk); i++) {
        junk[i] = (uint8_t)g_random_int();
    }
    junk[0] = 200;                              /* no such message */
    hostile(&vt, junk, sizeof(junk), true);
    /* A SetEncodings flood from a client that then behaves. */
    c = rc_open(&vt, NULL);
    for (i = 0; i < 3000; i++) {
        static const int32_t many[16] = { 16, 7, 6, 5, 2, 1, 0, -223,
                                          -239, -240, -224, -307, -308,
                                          -309, -312, -257 };

        rc_set_encodings(&c, many, 16);
    }
    rc_set_encodings(&c, enc_raw, 2);
    rc_request(&c, false);
    rc_update(&c, fb, r, 2);
    expect_picture(fb, 640, 480, 1);
    rc_close(&c);
    vt_stop(&vt);
    g_free(fb);
}

/* A client that asks for updates and never reads: the loop thread's
 * display work never waits for it. */
T_TEST(vnc_client_that_never_reads_does_not_block_the_loop)
{
    struct vt vt;
    struct rc c;
    gint64 t0, worst = 0;
    int i;

    vt_start(&vt, "127.0.0.1:20,to=99", NULL);
    c = rc_open(&vt, NULL);
    rc_set_encodings(&c, enc_raw, 2);
    for (i = 0; i < 200; i++) {
        rc_request(&c, false);
        fill(vt.d, 0, 0, 640, 480, (uint32_t)i);
        t0 = g_get_monotonic_time();
        display_refresh(vt.d);
        vt_pump(&vt);
        worst = MAX(worst, g_get_monotonic_time() - t0);
    }
    /* Blocked, it would wait VNC_CLIENT_WAIT_MS (10 s); loaded CI
     * machines get a wide margin below that. */
    T_ASSERT(worst < 3 * G_USEC_PER_SEC);
    rc_close(&c);
    vt_stop(&vt);
}

/* ---- QMP --------------------------------------------------------------- */

static JsonObject *
qmp_roundtrip(struct vt *vt, int fd, const char *req)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    GString *buf = g_string_new(NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = NULL;
    char tmp[4096];
    ssize_t n;

    if (req) {
        T_EQ(send(fd, req, strlen(req), MSG_NOSIGNAL), strlen(req));
    }
    while (!strchr(buf->str, '\n') && g_get_monotonic_time() < end) {
        vt_pump(vt);
        n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n > 0) {
            g_string_append_len(buf, tmp, n);
        }
    }
    T_ASSERT(json_parser_load_from_data(p, buf->str, -1, NULL));
    o = json_object_ref(json_node_get_object(json_parser_get_root(p)));
    g_string_free(buf, TRUE);
    return o;
}

/* libxl's sequence (xen-dm-interface.md 3.4): query-vnc for the port it
 * publishes as console/vnc-port, then change-vnc-password. */
T_TEST(vnc_qmp_query_and_password)
{
    g_autofree char *dir = g_dir_make_tmp("hvmdm-vnc-XXXXXX", NULL);
    g_autofree char *path = g_strdup_printf("%s/qmp", dir);
    g_autofree char *chardev = g_strdup_printf(
        "socket,id=libxl-cmd,path=%s,server=on,wait=off", path);
    const char *argv[] = { "-chardev", chardev, "-mon",
                           "chardev=libxl-cmd,mode=control", NULL };
    struct t_opts o = { .argv = argv };
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct vt vt = { 0 };
    struct qmp *q;
    struct rc c;
    JsonObject *r, *ret, *cl;
    char err[256], port[16];
    int fd;

    vt.t = t_machine_new(&o);
    vt.d = display_new(vt.t->dm, NULL, NULL);
    vt.v = vnc_start(vt.t->dm, "127.0.0.1:20,password=on,to=99", NULL, err,
                     sizeof(err));
    T_ASSERT(vt.v);
    q = qmp_start_all(vt.t->dm, vt.t->dm->cfg, err, sizeof(err));
    T_ASSERT(q);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    T_ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    json_object_unref(qmp_roundtrip(&vt, fd, NULL));        /* greeting */
    json_object_unref(qmp_roundtrip(&vt, fd,
                      "{\"execute\":\"qmp_capabilities\"}\n"));
    r = qmp_roundtrip(&vt, fd, "{\"execute\":\"change-vnc-password\","
                      "\"arguments\":{\"password\":\"toolong99\"}}\n");
    T_ASSERT(json_object_has_member(r, "error"));
    json_object_unref(r);
    r = qmp_roundtrip(&vt, fd, "{\"execute\":\"change-vnc-password\","
                      "\"arguments\":{\"password\":\"pw\"}}\n");
    T_ASSERT(json_object_has_member(r, "return"));
    json_object_unref(r);
    c = rc_open(&vt, "pw");
    r = qmp_roundtrip(&vt, fd, "{\"execute\":\"query-vnc\"}\n");
    ret = json_object_get_object_member(r, "return");
    T_ASSERT(json_object_get_boolean_member(ret, "enabled"));
    T_ASSERT(!strcmp(json_object_get_string_member(ret, "host"),
                     "127.0.0.1"));
    snprintf(port, sizeof(port), "%d", vnc_port(vt.v));
    T_ASSERT(!strcmp(json_object_get_string_member(ret, "service"), port));
    T_ASSERT(!strcmp(json_object_get_string_member(ret, "family"), "ipv4"));
    T_ASSERT(!strcmp(json_object_get_string_member(ret, "auth"), "vnc"));
    T_EQ(json_array_get_length(json_object_get_array_member(ret,
                                                            "clients")), 1);
    cl = json_array_get_object_element(
        json_object_get_array_member(ret, "clients"), 0);
    T_ASSERT(!strcmp(json_object_get_string_member(cl, "host"),
                     "127.0.0.1"));
    json_object_unref(r);
    rc_close(&c);
    close(fd);
    qmp_free(q);
    vt_stop(&vt);
    unlink(path);
    rmdir(dir);
}

/* IPv6 and to=: the next display when one is taken. */
T_TEST(vnc_listens_on_ipv6_and_takes_the_next_free_display)
{
    struct vt vt, vt2;
    char err[256], arg[64];
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
                               .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int fd;

    vt_start(&vt, "[::1]:30,to=99", NULL);
    vt2.v = vnc_start(vt.t->dm, "[::1]:30,to=99", NULL, err, sizeof(err));
    T_ASSERT(vt2.v);
    T_ASSERT(vnc_port(vt2.v) > vnc_port(vt.v));
    sa.sin6_port = htons(vnc_port(vt.v));
    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T_ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    close(fd);
    vnc_stop(vt2.v);
    vt.t->dm->board->vnc = vt.v;
    /* Without to=, a taken display is an error that names the fix. */
    snprintf(arg, sizeof(arg), "[::1]:%d", vnc_port(vt.v) - VNC_PORT_BASE);
    T_ASSERT(vnc_start(vt.t->dm, arg, NULL, err, sizeof(err)) == NULL);
    T_ASSERT(strstr(err, "vncunused"));
    vt.t->dm->board->vnc = vt.v;
    vt_stop(&vt);
}

/* ---- a real client: gvnccapture (gtk-vnc) ------------------------------ */

static int
paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* PNG (ISO/IEC 15948) 8-bit RGB or RGBA, non-interlaced: filters undone
 * in place; returns the rows and sets w, h and bytes per pixel. */
static uint8_t *
png_decode(const uint8_t *p, size_t len, int *w, int *h, int *bpp)
{
    GByteArray *idat = g_byte_array_new();
    size_t off = 8, rowlen;
    uLongf outlen;
    uint8_t *out = NULL;
    int x, y;

    T_ASSERT(len > 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0);
    while (off + 12 <= len) {
        uint32_t n = be32(p + off);

        T_ASSERT(off + 12 + n <= len);
        if (!memcmp(p + off + 4, "IHDR", 4)) {
            *w = (int)be32(p + off + 8);
            *h = (int)be32(p + off + 12);
            T_EQ(p[off + 16], 8);
            T_ASSERT(p[off + 17] == 2 || p[off + 17] == 6);
            T_EQ(p[off + 20], 0);
            *bpp = p[off + 17] == 2 ? 3 : 4;
        } else if (!memcmp(p + off + 4, "IDAT", 4)) {
            g_byte_array_append(idat, p + off + 8, n);
        }
        off += 12 + n;
    }
    rowlen = (size_t)*w * *bpp + 1;
    outlen = rowlen * *h;
    out = g_malloc(outlen);
    T_EQ(uncompress(out, &outlen, idat->data, idat->len), Z_OK);
    T_EQ(outlen, rowlen * *h);
    for (y = 0; y < *h; y++) {
        uint8_t *r = out + y * rowlen + 1, *u = y ? r - rowlen : NULL;
        int f = r[-1];

        for (x = 0; x < *w * *bpp; x++) {
            int a = x >= *bpp ? r[x - *bpp] : 0, b = u ? u[x] : 0;
            int c = u && x >= *bpp ? u[x - *bpp] : 0;

            r[x] += f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 :
                    f == 4 ? paeth(a, b, c) : 0;
        }
    }
    g_byte_array_free(idat, TRUE);
    return out;
}

/*
 * gvnccapture reads the password from its terminal with echo off (and
 * flushes what was typed before): give it a pty, wait for echo to go off,
 * then type.
 */
static int
open_pty(int *slave)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

    T_ASSERT(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
    *slave = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
    T_ASSERT(*slave >= 0);
    return m;
}

static void
type_password(int master, const char *password, bool *typed)
{
    struct termios tio;
    char junk[256];

    while (read(master, junk, sizeof(junk)) > 0) {
        /* prompt and output */
    }
    if (!*typed && tcgetattr(master, &tio) == 0 && !(tio.c_lflag & ECHO)) {
        T_EQ(write(master, password, strlen(password)), strlen(password));
        T_EQ(write(master, "\n", 1), 1);
        *typed = true;
    }
}

/* Run argv while serving the loop; its exit status. */
static int
run_client(struct vt *vt, char **argv, const char *password)
{
    GError *err = NULL;
    GPid pid;
    int master = -1, slave = -1, status = -1;
    bool typed = false;
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

    if (password) {
        master = open_pty(&slave);
        fcntl(master, F_SETFL, O_NONBLOCK);
    }
    if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
                                G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                slave, slave, -1, &err)) {
        t_fail(__FILE__, __LINE__, "%s: %s (scripts/install-deps installs "
               "it)", argv[0], err->message);
    }
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (g_get_monotonic_time() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            t_fail(__FILE__, __LINE__, "%s timed out", argv[0]);
        }
        if (password) {
            type_password(master, password, &typed);
        }
        vt_pump(vt);
        g_usleep(1000);
    }
    if (password) {
        close(master);
        close(slave);
    }
    return status;
}

static void
capture_matches(struct vt *vt, const char *password, uint32_t seed, int w,
                int h)
{
    g_autofree char *dir = g_dir_make_tmp("hvmdm-vnc-XXXXXX", NULL);
    g_autofree char *png = g_strdup_printf("%s/shot.png", dir);
    g_autofree char *target = g_strdup_printf("127.0.0.1:%d",
                                              vnc_port(vt->v) -
                                              VNC_PORT_BASE);
    char *argv[] = { "gvnccapture", "--quiet", target, png, NULL };
    g_autofree char *data = NULL;
    g_autofree uint8_t *px = NULL;
    gsize len;
    int pw = 0, ph = 0, bpp = 0, x, y, status;

    status = run_client(vt, argv, password);
    T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    T_ASSERT(g_file_get_contents(png, &data, &len, NULL));
    px = png_decode((const uint8_t *)data, len, &pw, &ph, &bpp);
    T_EQ(pw, w);
    T_EQ(ph, h);
    for (y = 0; y < h; y++) {
        const uint8_t *row = px + (size_t)y * (w * bpp + 1) + 1;

        for (x = 0; x < w; x++) {
            uint32_t want = pattern(x, y, seed);
            uint32_t got = (uint32_t)row[x * bpp] << 16 |
                           row[x * bpp + 1] << 8 | row[x * bpp + 2];

            if (got != want) {
                t_fail(__FILE__, __LINE__, "capture pixel %d,%d: %06x != "
                       "%06x", x, y, got, want);
            }
        }
    }
    unlink(png);
    rmdir(dir);
}

/* gtk-vnc negotiates its preferred encodings (Tight, ZRLE, ...) and its
 * pixel format; the capture must still be the surface, byte for byte. */
T_TEST(vnc_gvnccapture_matches_the_surface)
{
    struct vt vt;

    vt_start(&vt, "127.0.0.1:20,to=99", NULL);
    capture_matches(&vt, NULL, 1, 640, 480);
    T_EQ(display_resize(vt.d, 1024, 768), 0);
    fill(vt.d, 0, 0, 1024, 768, 7);
    capture_matches(&vt, NULL, 7, 1024, 768);
    vt_stop(&vt);
}

T_TEST(vnc_gvnccapture_with_password)
{
    struct vt vt;

    vt_start(&vt, "127.0.0.1:20,password=on,to=99", NULL);
    T_EQ(vnc_set_password(vt.v, "hvm-pw"), 0);
    capture_matches(&vt, "hvm-pw", 1, 640, 480);
    vt_stop(&vt);
}

/* ---- WebSocket (RFC 6455), as noVNC connects ----------------------------- */

/* Read one unmasked server frame's payload (RFC 6455 5.2). */
static size_t
ws_frame(struct rc *c, uint8_t *buf, size_t max)
{
    uint8_t h[2], ext[8];
    size_t len;

    rc_read(c, h, 2);
    T_EQ(h[0], 0x82);                           /* FIN, binary */
    T_EQ(h[1] & 0x80, 0);                       /* servers do not mask */
    len = h[1] & 0x7f;
    if (len == 126) {
        rc_read(c, ext, 2);
        len = be16(ext);
    } else if (len == 127) {
        rc_read(c, ext, 8);
        len = be32(ext + 4);
    }
    T_ASSERT(len <= max);
    rc_read(c, buf, len);
    return len;
}

static void
ws_send(struct rc *c, const void *data, size_t n)
{
    uint8_t f[6 + 64] = { 0x82, (uint8_t)(0x80 | n), 0x12, 0x34, 0x56,
                          0x78 };
    size_t i;

    T_ASSERT(n < 64);
    for (i = 0; i < n; i++) {
        f[6 + i] = ((const uint8_t *)data)[i] ^ f[2 + i % 4];
    }
    rc_write(c, f, 6 + n);
}

/* The upgrade on the VNC port itself, then RFB inside binary frames; the
 * server reports the client as a WebSocket one. */
T_TEST(vnc_websocket_on_the_same_port)
{
    static const char req[] =
        "GET /websockify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Origin: http://127.0.0.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: binary\r\n\r\n";
    struct vt vt;
    struct rc c = { .vt = &vt };
    char resp[1024];
    uint8_t buf[256];
    size_t n = 0, len;

    vt_start(&vt, "127.0.0.1:20,to=99,websocket=on", NULL);
    c.fd = rc_connect_raw(&vt);
    rc_write(&c, req, strlen(req));
    while (n < 4 || memcmp(resp + n - 4, "\r\n\r\n", 4) != 0) {
        T_ASSERT(n < sizeof(resp) - 1);
        rc_read(&c, resp + n, 1);
        n++;
    }
    resp[n] = '\0';
    T_ASSERT(g_str_has_prefix(resp, "HTTP/1.1 101"));
    /* RFC 6455 1.3's example key and its accept value. */
    T_ASSERT(strstr(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    len = ws_frame(&c, buf, sizeof(buf));
    T_EQ(len, 12);
    T_ASSERT(memcmp(buf, "RFB 003.008\n", 12) == 0);
    ws_send(&c, "RFB 003.008\n", 12);
    len = ws_frame(&c, buf, sizeof(buf));
    T_ASSERT(len >= 2 && buf[0] == len - 1);
    T_ASSERT(memchr(buf + 1, rfbNoAuth, len - 1));
    ws_send(&c, "\1", 1);
    len = ws_frame(&c, buf, sizeof(buf));
    T_EQ(len, 4);
    T_EQ(be32(buf), 0);                         /* security result: OK */
    ws_send(&c, "\1", 1);
    len = ws_frame(&c, buf, sizeof(buf));
    T_ASSERT(len >= 24);
    T_EQ(be16(buf), 640);
    T_EQ(be16(buf + 2), 480);
    T_EQ(vnc_client_count(vt.v), 1);
    rc_close(&c);
    vt_stop(&vt);
}

/* ---- noVNC in headless Chromium ---------------------------------------- */

/*
 * noVNC asks for Tight with JPEG quality 6, and libvncserver sends JPEG
 * for many-coloured tiles: exact pixels need a picture of few colours per
 * tile (Tight's palette mode, lossless). 8x8 blocks of 4 colours.
 */
static uint32_t
blocks(int x, int y)
{
    static const uint32_t pal[4] = { 0x102030, 0xe0c040, 0x20a0f0,
                                     0xf04080 };

    return pal[((x >> 3) ^ (y >> 3) ^ (x >> 6)) & 3];
}

static void
fill_blocks(struct display *d)
{
    uint32_t *p = pixman_image_get_data(display_image(d));
    int x, y;

    for (y = 0; y < 480; y++) {
        for (x = 0; x < 640; x++) {
            p[y * 640 + x] = blocks(x, y);
        }
    }
    display_dirty(d, 0, 0, 640, 480);
}

static int
free_tcp_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    T_ASSERT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    T_ASSERT(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Debian's novnc pages from a local HTTP server (python3's http.server). */
static GPid
http_serve(const char *dir, int port)
{
    g_autofree char *p = g_strdup_printf("%d", port);
    char *argv[] = { "python3", "-m", "http.server", p, "--bind",
                     "127.0.0.1", "--directory", (char *)dir, NULL };
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    GError *err = NULL;
    GPid pid;
    int fd;

    if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
                       G_SPAWN_STDOUT_TO_DEV_NULL |
                       G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &err)) {
        t_fail(__FILE__, __LINE__, "python3: %s", err->message);
    }
    for (;;) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(fd);
            return pid;
        }
        close(fd);
        T_ASSERT(g_get_monotonic_time() < end);
        g_usleep(20000);
    }
}

/* Where the 640x480 pattern starts in an RGB(A) screenshot; -1 if not. */
static bool
find_pattern(const uint8_t *px, int w, int h, int bpp, int *ox, int *oy)
{
    int x, y, i;

    for (y = 0; y + 480 <= h; y++) {
        for (x = 0; x + 640 <= w; x++) {
            for (i = 0; i < 24; i++) {
                const uint8_t *q = px + (size_t)(y + i * 3) * (w * bpp + 1) +
                                   1 + (size_t)(x + i * 5) * bpp;

                if (((uint32_t)q[0] << 16 | q[1] << 8 | q[2]) !=
                    blocks(i * 5, i * 3)) {
                    break;
                }
            }
            if (i == 24) {
                *ox = x;
                *oy = y;
                return true;
            }
        }
    }
    return false;
}

/* One page load in headless Chromium; the screenshot's pixels. */
static uint8_t *
novnc_shot(struct vt *vt, const char *dir, int hp, int *w, int *h, int *bpp)
{
    g_autofree char *png = g_strdup_printf("%s/shot.png", dir);
    g_autofree char *profile = g_strdup_printf("--user-data-dir=%s/p", dir);
    g_autofree char *shot = g_strdup_printf("--screenshot=%s", png);
    g_autofree char *url = g_strdup_printf(
        "http://127.0.0.1:%d/vnc_lite.html?host=127.0.0.1&port=%d", hp,
        vnc_port(vt->v));
    char *argv[] = { "chromium", "--headless", "--no-sandbox",
                     "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--hide-scrollbars", profile, "--window-size=900,700",
                     "--virtual-time-budget=15000", shot, url, NULL };
    g_autofree char *data = NULL;
    gsize len;
    int status = run_client(vt, argv, NULL);

    T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    T_ASSERT(g_file_get_contents(png, &data, &len, NULL));
    unlink(png);
    return png_decode((const uint8_t *)data, len, w, h, bpp);
}

/*
 * noVNC (Debian's novnc, vnc_lite.html) in headless Chromium connects to
 * the VNC port over WebSocket with no proxy, and its canvas, in Chromium's
 * screenshot, is the surface pixel for pixel. Chromium's virtual time can
 * run out before the first update is drawn on a loaded machine: a page
 * without the picture is loaded again (three tries); a wrong pixel fails.
 */
T_TEST(vnc_novnc_in_headless_chromium)
{
    g_autofree char *dir = g_dir_make_tmp("hvmdm-novnc-XXXXXX", NULL);
    g_autofree uint8_t *px = NULL;
    struct vt vt;
    GPid http;
    int hp = free_tcp_port(), w = 0, h = 0, bpp = 0, ox, oy, x, y, tries;
    bool found = false;

    vt_start(&vt, "127.0.0.1:20,to=99,websocket=on", NULL);
    fill_blocks(vt.d);
    http = http_serve("/usr/share/novnc", hp);
    for (tries = 0; tries < 3 && !found; tries++) {
        g_free(px);
        px = novnc_shot(&vt, dir, hp, &w, &h, &bpp);
        found = find_pattern(px, w, h, bpp, &ox, &oy);
    }
    kill(http, SIGTERM);
    waitpid(http, NULL, 0);
    {
        char *rm[] = { "rm", "-rf", dir, NULL };

        g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     NULL, NULL, NULL);
    }
    if (!found) {
        t_fail(__FILE__, __LINE__, "the guest screen is not in noVNC's page "
               "(%dx%d screenshot, %d tries)", w, h, tries);
    }
    for (y = 0; y < 480; y++) {
        for (x = 0; x < 640; x++) {
            const uint8_t *q = px + (size_t)(oy + y) * (w * bpp + 1) + 1 +
                               (size_t)(ox + x) * bpp;
            uint32_t got = (uint32_t)q[0] << 16 | q[1] << 8 | q[2];

            if (got != blocks(x, y)) {
                t_fail(__FILE__, __LINE__, "noVNC pixel %d,%d: %06x != "
                       "%06x", x, y, got, blocks(x, y));
            }
        }
    }
    vt_stop(&vt);
}
