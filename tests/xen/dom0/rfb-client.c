/*
 * rfb-client: the VNC client dom0 runs in the tests/xen VNC scenarios
 * (tests/xen/dom0/vnc.sh), built at test time against libvncclient (the
 * RFB client half of libvncserver) and copied into dom0 with its libraries.
 *
 *   rfb-client [-p PASSWORD] [-t SECONDS] [-d MS] HOST PORT capture FILE
 *       Take the screen: full (non-incremental) updates in raw encoding,
 *       every pixel covered, repeated 0.5 s apart until two in a row are
 *       the same picture (the device model's display refresh has caught
 *       up with the guest), written as a binary PPM (P6).
 *   rfb-client ... HOST PORT type TEXT
 *       Type TEXT and Enter as a VNC client on a US layout does: X keysyms
 *       (RFB 6.4.4 KeyEvent), Shift_L held around shifted characters, MS
 *       milliseconds (default 100) after each event.
 *   rfb-client ... HOST PORT xtype TEXT
 *       Type TEXT and keypad Enter as TigerVNC, noVNC or virt-viewer on a
 *       German (QWERTZ) desktop do when the user presses the keys a US
 *       keyboard has TEXT on: QEMU extended key events (message 255
 *       subtype 0, once the server has acknowledged the pseudo-encoding
 *       -258) carrying each key's scancode and the keysym QWERTZ gives it
 *       (y and z swapped). A server that typed the keysyms through its
 *       US keymap would swap them back; only the scancodes give TEXT.
 *       TEXT: letters, digits, space, ',' and '.'.
 *
 * Exit status: 0 done, 1 usage or local error, 2 connection or
 * authentication refused (the message says which), 3 timeout.
 */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define XK_SHIFT_L      0xffe1
#define XK_RETURN       0xff0d
#define XK_KP_ENTER     0xff8d

/* QEMU key numbers: PC scancode set 1, 0x80 | code after an 0xe0 prefix */
#define QNUM_SHIFT_L    0x2a
#define QNUM_KP_ENTER   0x9c

struct cap {
    MallocFrameBufferProc malloc_fb;    /* the library's own */
    unsigned char *covered;             /* one byte per pixel */
    unsigned char *prev;                /* the last whole frame */
    size_t prev_len;
    int complete;                       /* two whole frames alike */
};

static const char *password;
static struct cap cap;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
get_password(rfbClient *c)
{
    (void)c;
    return strdup(password ? password : "");
}

static size_t
fb_pixels(rfbClient *c)
{
    return (size_t)c->width * (size_t)c->height;
}

static rfbBool
on_resize(rfbClient *c)
{
    free(cap.covered);
    cap.covered = calloc(fb_pixels(c) ? fb_pixels(c) : 1, 1);
    free(cap.prev);
    cap.prev = NULL;
    return cap.covered != NULL && cap.malloc_fb(c);
}

static void
on_rect(rfbClient *c, int x, int y, int w, int h)
{
    int row;

    if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > c->width ||
        y + h > c->height) {
        return;
    }
    for (row = y; row < y + h; row++) {
        memset(cap.covered + (size_t)row * c->width + x, 1, (size_t)w);
    }
}

static int
all_covered(rfbClient *c)
{
    return memchr(cap.covered, 0, fb_pixels(c)) == NULL;
}

static void
full_request(rfbClient *c)
{
    memset(cap.covered, 0, fb_pixels(c));
    SendFramebufferUpdateRequest(c, 0, 0, c->width, c->height, FALSE);
}

/* A whole frame: the same as the last one ends the capture. */
static void
on_finished(rfbClient *c)
{
    size_t len = fb_pixels(c) * 4;

    if (!all_covered(c)) {
        return;
    }
    if (cap.prev != NULL && cap.prev_len == len &&
        memcmp(cap.prev, c->frameBuffer, len) == 0) {
        cap.complete = 1;
        return;
    }
    free(cap.prev);
    cap.prev = malloc(len);
    cap.prev_len = len;
    if (cap.prev != NULL) {
        memcpy(cap.prev, c->frameBuffer, len);
    }
    usleep(500 * 1000);
    full_request(c);
}

static int
write_ppm(rfbClient *c, const char *path)
{
    FILE *f = fopen(path, "wb");
    const uint8_t *p = c->frameBuffer;
    size_t i, n = fb_pixels(c);
    uint32_t v;

    if (f == NULL) {
        perror(path);
        return 1;
    }
    fprintf(f, "P6\n%d %d\n255\n", c->width, c->height);
    for (i = 0; i < n; i++, p += 4) {
        v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
            (uint32_t)p[3] << 24;
        fputc((int)(v >> c->format.redShift & 0xff), f);
        fputc((int)(v >> c->format.greenShift & 0xff), f);
        fputc((int)(v >> c->format.blueShift & 0xff), f);
    }
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* Serve the connection until the capture completes or the deadline. */
static int
capture(rfbClient *c, const char *path, double deadline)
{
    int n = 1;

    while (!cap.complete) {
        if (now_s() > deadline) {
            fprintf(stderr, "rfb-client: no stable whole frame in time\n");
            return 3;
        }
        /* Bytes the library has buffered are not on the socket. */
        if (c->buffered == 0) {
            n = WaitForMessage(c, 100000);
            if (n == 0) {
                continue;
            }
        }
        if (n < 0 || !HandleRFBServerMessage(c)) {
            fprintf(stderr, "rfb-client: connection lost\n");
            return 2;
        }
    }
    return write_ppm(c, path);
}

/* Is ASCII character ch typed with Shift on a US keyboard? */
static int
shifted(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || strchr("~!@#$%^&*()_+{}|:\"<>?", ch);
}

static int
key(rfbClient *c, uint32_t sym, int down, int ms)
{
    if (!SendKeyEvent(c, sym, down ? TRUE : FALSE)) {
        fprintf(stderr, "rfb-client: connection lost while typing\n");
        return 2;
    }
    usleep((useconds_t)ms * 1000);
    return 0;
}

static int
type_text(rfbClient *c, const char *text, int ms)
{
    int sh, rc = 0;

    for (; *text != '\0' && rc == 0; text++) {
        if (*text < 0x20 || *text > 0x7e) {
            fprintf(stderr, "rfb-client: only printable ASCII\n");
            return 1;
        }
        sh = shifted(*text);
        if (sh) {
            rc = key(c, XK_SHIFT_L, 1, ms);
        }
        rc = rc ? rc : key(c, (uint32_t)*text, 1, ms);
        rc = rc ? rc : key(c, (uint32_t)*text, 0, ms);
        if (sh && rc == 0) {
            rc = key(c, XK_SHIFT_L, 0, ms);
        }
    }
    rc = rc ? rc : key(c, XK_RETURN, 1, ms);
    return rc ? rc : key(c, XK_RETURN, 0, ms);
}

/* Set 1 scancode of the US key that has ASCII ch unshifted, or 0. */
static unsigned int
us_scancode(int ch)
{
    static const char *const rows[] = {
        "1234567890-=", "qwertyuiop[]", "asdfghjkl;'`", "\\zxcvbnm,./",
    };
    static const unsigned int first[] = { 0x02, 0x10, 0x1e, 0x2b };
    const char *at;
    unsigned int i;

    if (ch == ' ') {
        return 0x39;
    }
    for (i = 0; i < 4; i++) {
        at = strchr(rows[i], ch);
        if (at != NULL && ch != '\0') {
            return first[i] + (unsigned int)(at - rows[i]);
        }
    }
    return 0;
}

/* The keysym a German (QWERTZ) layout gives the key of US character ch. */
static uint32_t
qwertz_keysym(int ch)
{
    static const char us[] = "yzYZ", de[] = "zyZY";
    const char *at = strchr(us, ch);

    return at != NULL ? (uint32_t)de[at - us] : (uint32_t)ch;
}

static int
xkey(rfbClient *c, uint32_t sym, unsigned int qnum, int down, int ms)
{
    if (!SendExtendedKeyEvent(c, sym, qnum, down ? TRUE : FALSE)) {
        fprintf(stderr, "rfb-client: connection lost while typing\n");
        return 2;
    }
    usleep((useconds_t)ms * 1000);
    return 0;
}

/* Serve the connection until the server acknowledges extended keys. */
static int
wait_ext_keys(rfbClient *c, double deadline)
{
    int n;

    while (!SupportsClient2Server(c, rfbQemuEvent)) {
        if (now_s() > deadline) {
            fprintf(stderr, "rfb-client: the server never acknowledged "
                    "QEMU extended key events (encoding -258)\n");
            return 3;
        }
        n = c->buffered ? 1 : WaitForMessage(c, 100000);
        if (n < 0 || (n > 0 && !HandleRFBServerMessage(c))) {
            fprintf(stderr, "rfb-client: connection lost\n");
            return 2;
        }
    }
    return 0;
}

static int
xtype_char(rfbClient *c, int ch, int ms)
{
    int lower = (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
    unsigned int code = us_scancode(lower);
    int rc = 0;

    if (!((lower >= 'a' && lower <= 'z') || (ch >= '0' && ch <= '9') ||
          ch == ' ' || ch == ',' || ch == '.') || code == 0) {
        fprintf(stderr, "rfb-client: xtype takes letters, digits, space, "
                "',' and '.'\n");
        return 1;
    }
    if (lower != ch) {
        rc = xkey(c, XK_SHIFT_L, QNUM_SHIFT_L, 1, ms);
    }
    rc = rc ? rc : xkey(c, qwertz_keysym(ch), code, 1, ms);
    rc = rc ? rc : xkey(c, qwertz_keysym(ch), code, 0, ms);
    if (lower != ch && rc == 0) {
        rc = xkey(c, XK_SHIFT_L, QNUM_SHIFT_L, 0, ms);
    }
    return rc;
}

static int
xtype_text(rfbClient *c, const char *text, int ms, double deadline)
{
    int rc = wait_ext_keys(c, deadline);

    for (; *text != '\0' && rc == 0; text++) {
        rc = xtype_char(c, (unsigned char)*text, ms);
    }
    rc = rc ? rc : xkey(c, XK_KP_ENTER, QNUM_KP_ENTER, 1, ms);
    return rc ? rc : xkey(c, XK_KP_ENTER, QNUM_KP_ENTER, 0, ms);
}

static int
usage(void)
{
    fprintf(stderr, "usage: rfb-client [-p PASSWORD] [-t SECONDS] [-d MS] "
            "HOST PORT capture FILE | type TEXT | xtype TEXT\n");
    return 1;
}

static rfbClient *
connect_to(const char *host, const char *port)
{
    rfbClient *c = rfbGetClient(8, 3, 4);

    if (c == NULL) {
        return NULL;
    }
    c->serverHost = strdup(host);
    c->serverPort = atoi(port);
    c->GetPassword = get_password;
    /* raw only: the picture must be exact (no JPEG), and cheap to make */
    c->appData.encodingsString = "raw";
    c->canHandleNewFBSize = TRUE;
    cap.malloc_fb = c->MallocFrameBuffer;
    c->MallocFrameBuffer = on_resize;
    c->GotFrameBufferUpdate = on_rect;
    c->FinishedFrameBufferUpdate = on_finished;
    /* On failure the library frees the client and says why. */
    if (!rfbInitClient(c, NULL, NULL)) {
        return NULL;
    }
    return c;
}

int
main(int argc, char **argv)
{
    int opt, ms = 100, rc;
    double timeout = 60;
    rfbClient *c;

    while ((opt = getopt(argc, argv, "p:t:d:")) != -1) {
        switch (opt) {
        case 'p': password = optarg; break;
        case 't': timeout = atof(optarg); break;
        case 'd': ms = atoi(optarg); break;
        default: return usage();
        }
    }
    if (argc - optind != 4 || (strcmp(argv[optind + 2], "capture") != 0 &&
        strcmp(argv[optind + 2], "type") != 0 &&
        strcmp(argv[optind + 2], "xtype") != 0)) {
        return usage();
    }
    c = connect_to(argv[optind], argv[optind + 1]);
    if (c == NULL) {
        fprintf(stderr, "rfb-client: connection or authentication "
                "refused\n");
        return 2;
    }
    if (strcmp(argv[optind + 2], "capture") == 0) {
        rc = capture(c, argv[optind + 3], now_s() + timeout);
    } else if (strcmp(argv[optind + 2], "type") == 0) {
        rc = type_text(c, argv[optind + 3], ms);
    } else {
        rc = xtype_text(c, argv[optind + 3], ms, now_s() + timeout);
    }
    rfbClientCleanup(c);
    return rc;
}
