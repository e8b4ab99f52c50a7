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

static int
usage(void)
{
    fprintf(stderr, "usage: rfb-client [-p PASSWORD] [-t SECONDS] [-d MS] "
            "HOST PORT capture FILE | type TEXT\n");
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
        strcmp(argv[optind + 2], "type") != 0)) {
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
    } else {
        rc = type_text(c, argv[optind + 3], ms);
    }
    rfbClientCleanup(c);
    return rc;
}
