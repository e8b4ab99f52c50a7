/*
 * RFB from VNC clients: the bytes a client sends to the VNC server on
 * loopback (by default after the version and "None" security handshake,
 * so the fuzzer reaches the client messages: pixel formats, encodings,
 * update requests, key and pointer events, cut text, QEMU extensions).
 * Each input is one connection; the server lives across inputs as it
 * does across clients. The display has a picture to send.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm/loop.h"
#include "fuzz/fuzz.h"
#include "tests/harness.h"
#include "ui/display.h"
#include "ui/vnc.h"

#define FZ_ROUNDS   16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    struct t_machine *t;
    struct display *d;
    struct vnc *v;
} m;

/* Let the server thread and the loop run; read and drop what it sent.
 * True once the server closed the connection. */
static bool
pump(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char buf[65536];
    ssize_t n = 1;

    dm_loop_iterate(m.t->dm, 0);
    if (poll(&p, 1, 1) > 0) {
        while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        }
    }
    return n == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* RFB 7.1.1 version, 7.1.2 security "None", 7.3.1 ClientInit. */
    static const uint8_t hello[] = "RFB 003.008\n\x01\x01";
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)vnc_port(m.v)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        t_fail(__FILE__, __LINE__, "connect to the VNC server");
    }
    if (!size || data[0] != '!') {
        fuzz_send_all(fd, hello, sizeof(hello) - 1, FZ_ROUNDS, pump);
    }
    fuzz_send_all(fd, data, size, FZ_ROUNDS, pump);
    for (unsigned int i = 0; i < FZ_ROUNDS; i++) {
        if (pump(fd)) {
            break;
        }
    }
    close(fd);
    for (unsigned int i = 0; i < 4 && vnc_client_count(m.v); i++) {
        dm_loop_iterate(m.t->dm, 0);
        g_usleep(200);
    }
    return 0;
}

static void
vnc_seeds(void)
{
    /* SetPixelFormat 32 bpp, SetEncodings (raw, copyrect, tight, zrle,
     * desktop size, QEMU ext key), an update request, a key, a pointer,
     * cut text, a QEMU extended key event. */
    static const uint8_t msgs[] = {
        0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0,
        2, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 16,
        0xff, 0xff, 0xff, 0x21, 0xff, 0xff, 0xfe, 0xfe,
        3, 0, 0, 0, 0, 0, 2, 128, 1, 224,
        4, 1, 0, 0, 0, 0, 0, 0x61, 4, 0, 0, 0, 0, 0, 0, 0x61,
        5, 1, 0, 10, 0, 20, 5, 0, 0, 30, 0, 40,
        6, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o',
        255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 0x1e,
        3, 1, 0, 0, 0, 0, 2, 128, 1, 224,
    };
    static const uint8_t bad[] = "!RFB 003.003\n";

    fuzz_seed("vnc", msgs, sizeof(msgs));
    fuzz_seed("vnc", msgs, 20);
    fuzz_seed("vnc", bad, sizeof(bad) - 1);
}

static void
vnc_cleanup(void)
{
    vnc_stop(m.v);
    display_free(m.d);
    t_machine_free(m.t);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct t_opts o = { 0 };
    char err[256];

    (void)argc;
    (void)argv;
    if (fuzz_make_seeds(vnc_seeds)) {
        exit(0);
    }
    fuzz_quiet();
    m.t = t_machine_new(&o);
    m.d = display_new(m.t->dm, NULL, NULL);
    if (!m.d) {
        t_fail(__FILE__, __LINE__, "display_new");
    }
    /* A free display on loopback, as the VNC tests take one. */
    m.v = vnc_start(m.t->dm, "127.0.0.1:40,to=99", NULL, err, sizeof(err));
    if (!m.v) {
        t_fail(__FILE__, __LINE__, "vnc_start: %s", err);
    }
    atexit(vnc_cleanup);
    return 0;
}
