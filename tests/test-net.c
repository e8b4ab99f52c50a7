/*
 * The network backends behind the e1000: tap (in a network namespace the
 * test creates, with IFF_VNET_HDR) and user-mode networking (libslirp,
 * reached from the host only through hostfwd to 127.0.0.1). Nothing leaves
 * this machine: the tap lives in a private namespace, slirp answers ARP
 * itself and the forwarded connection comes from loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "config.h"       /* CONFIG_SLIRP */
#include "dm/loop.h"       /* dm_loop_iterate, dm_loop_stats */
#include "dm/machine.h"    /* struct dm */
#include "dm/qmp.h"
#include "net/csum.h"
/* <sys/ioctl.h> brings termios's CTRL(); here CTRL is the e1000's. */
#undef CTRL
#include "tests/e1000-util.h"

#define GUEST_IP "\x0a\x09\x00\x02"     /* 10.9.0.2 */
#define HOST_IP  "\x0a\x09\x00\x01"     /* 10.9.0.1 */

/* An ARP request (RFC 826) from the NIC: who has tip, tell sip. */
static size_t
arp_request(uint8_t *f, const char *sip, const char *tip)
{
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, NIC_MAC, 6);
    memcpy(f + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
    memcpy(f + 22, NIC_MAC, 6);
    memcpy(f + 28, sip, 4);
    memcpy(f + 38, tip, 4);
    return 60;
}

/* Pump until receive descriptor i is done or about a second passes. */
static bool
wait_rx(struct nic *n, unsigned int i)
{
    unsigned int k;

    for (k = 0; k < 1000; k++) {
        g_main_context_iteration(NULL, FALSE);
        if (nic_rxd(n, i).status & 1) {
            return true;
        }
        t_clock_step(n->t, 1000000);
        g_usleep(1000);
    }
    return false;
}

/* Find an ARP reply among the first count received frames. */
static bool
got_arp_reply(struct nic *n, unsigned int count, const char *from_ip,
              uint8_t mac[6])
{
    unsigned int i;
    uint8_t f[64];

    for (i = 0; i < count; i++) {
        t_memread(n->t, G_RXBUF + i * RX_STRIDE, f, sizeof(f));
        if (memcmp(f + 12, "\x08\x06", 2) == 0 && f[21] == 2 &&
            memcmp(f + 28, from_ip, 4) == 0 && memcmp(f, NIC_MAC, 6) == 0) {
            memcpy(mac, f + 22, 6);
            return true;
        }
    }
    return false;
}

/* The e1000 on netdev, and up to 4 more arguments (a QMP monitor). */
static void
nic_open_extra(struct nic *n, const char *netdev, const char *const *extra)
{
    const char *argv[9] = { "-device", "e1000,id=nic0,netdev=n0,"
                            "mac=00:16:3e:12:34:56", "-netdev", netdev };
    struct t_opts o = { .argv = argv };
    unsigned int i;

    for (i = 0; extra && extra[i]; i++) {
        T_ASSERT(i < 4);
        argv[4 + i] = extra[i];
    }
    memset(n, 0, sizeof(*n));
    n->peer = -1;
    n->t = t_machine_new(&o);
    nic_program_pci(n->t);
}

static void
nic_open_with(struct nic *n, const char *netdev)
{
    nic_open_extra(n, netdev, NULL);
}

static void
sh(const char *cmd)
{
    T_EQ(system(cmd), 0);
}

/* Frames the kernel took from the tap (/proc/net/dev follows our netns). */
static uint64_t
tap_rx_packets(void)
{
    gchar *s = NULL, *line;
    uint64_t bytes = 0, pkts = 0;

    T_ASSERT(g_file_get_contents("/proc/self/net/dev", &s, NULL, NULL));
    line = strstr(s, "hvmdmt0:");
    T_ASSERT(line != NULL);
    T_EQ(sscanf(line + 8, "%" SCNu64 " %" SCNu64, &bytes, &pkts), 2);
    g_free(s);
    return pkts;
}

/*
 * An 8000-byte TSO send to a closed port of 10.9.0.1 enters the kernel as
 * one GSO packet (one frame on the tap, not six) and is answered with one
 * RST whose ACK covers all 8000 bytes.
 */
static void
tap_tso_reaches_kernel_whole(struct nic *n, const uint8_t *kmac)
{
    static uint8_t f[8192];
    const size_t payload = 8000;
    uint64_t rx0 = tap_rx_packets();
    unsigned int i, r0 = nic_rd(n, RDH);
    size_t off;

    memset(f, 0, 54);
    memcpy(f, kmac, 6);
    memcpy(f + 6, NIC_MAC, 6);
    memcpy(f + 12, "\x08\x00\x45\x00", 4);
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, GUEST_IP HOST_IP, 8);
    memcpy(f + 34, "\x30\x39\x00\x09\x10\x00\x00\x00", 8);  /* -> port 9 */
    f[46] = 0x50;
    f[47] = 0x08;                       /* PSH alone: the RST ACKs it all */
    f[48] = 0xff;
    /* Linux's e1000_tso seed: pseudo-header without the length. */
    {
        uint32_t sum = 0x0a09 + 0x0002 + 0x0a09 + 0x0001 + 6;

        f[50] = (uint8_t)(sum >> 8);
        f[51] = (uint8_t)sum;
    }
    for (off = 54; off < 54 + payload; off++) {
        f[off] = (uint8_t)off;
    }
    t_memwrite(n->t, G_TXBUF, f, 54 + payload);
    nic_txd(n, 14u | 24u << 8 | 33u << 16 | (uint64_t)(34u | 50u << 8) << 32,
            (uint32_t)payload | 0x27u << 24, 54u << 8 | 1448u << 16);
    nic_txd(n, G_TXBUF, (uint32_t)(54 + payload) | 1u << 20 | 0x2fu << 24,
            3u << 8);
    nic_tx_ring(n);
    T_EQ(tap_rx_packets() - rx0, 1);
    for (i = 0; i < 1000; i++) {
        g_main_context_iteration(NULL, FALSE);
        t_memread(n->t, G_RXBUF + r0 * RX_STRIDE, f, 64);
        if ((nic_rxd(n, r0).status & 1) && f[23] == 6) {
            break;
        }
        if (nic_rxd(n, r0).status & 1) {
            r0 = (r0 + 1) % n->nrx;     /* something else (IPv6, ARP) */
        }
        g_usleep(1000);
    }
    T_ASSERT(i < 1000);
    T_EQ(f[47] & 0x14, 0x14);           /* RST, ACK */
    T_EQ((uint32_t)(f[42] << 24 | f[43] << 16 | f[44] << 8 | f[45]),
         0x10000000u + payload);
}

/*
 * A tap in a fresh network namespace with 10.9.0.1/24: the guest asks
 * for 10.9.0.1 through the e1000 and the kernel's ARP reply comes back
 * through the tap, each frame with its virtio_net_hdr.
 */
/* net_csum_add against 16-bit big-endian words summed one by one (RFC
 * 1071), every length to 300 at every alignment, all-ones data too. */
T_TEST(net_csum_matches_rfc1071_words)
{
    uint8_t buf[320];
    unsigned int off, len, i;

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(i * 151 + 7);
    }
    for (int ones = 0; ones < 2; ones++) {
        if (ones) {
            memset(buf, 0xff, sizeof(buf));
        }
        for (off = 0; off < 8; off++) {
            for (len = 0; len <= 300; len++) {
                uint64_t ref = 0x1234;

                for (i = 0; i < len; i += 2) {
                    ref += (uint32_t)buf[off + i] << 8 |
                           (i + 1 < len ? buf[off + i + 1] : 0);
                }
                T_EQ(net_csum_fold(net_csum_add(0x1234, buf + off, len)),
                     net_csum_fold(ref));
            }
        }
    }
}

/* Root in a fresh network namespace with /dev/net/tun, or say why not. */
static bool
tap_namespace(void)
{
    if (geteuid() != 0) {
        printf("skip: the tap test needs root (CAP_NET_ADMIN) for its "
               "network namespace\n");
        return false;
    }
    if (unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK) < 0) {
        printf("skip: no network namespace or /dev/net/tun here (%s)\n",
               strerror(errno));
        return false;
    }
    return true;
}

/* A tap made here, as a toolstack would before handing it over. */
static int
tap_create(const char *ifname)
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    T_ASSERT(fd >= 0);
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    T_EQ(ioctl(fd, TUNSETIFF, &ifr), 0);
    return fd;
}

/*
 * Give ifname 10.9.0.1/24: the guest asks for 10.9.0.1 through the e1000
 * and the kernel's ARP reply comes back through the tap, each frame with
 * its virtio_net_hdr. The peer's MAC in mac.
 */
static void
tap_arp_exchange(struct nic *n, const char *ifname, uint8_t mac[6])
{
    g_autofree char *up = g_strdup_printf("ip link set lo up && ip addr "
                                          "add 10.9.0.1/24 dev %s && ip "
                                          "link set %s up", ifname, ifname);
    g_autofree char *neigh = g_strdup_printf("ip neigh show dev %s | grep "
                                             "-q 00:16:3e:12:34:56", ifname);
    uint8_t f[64];
    unsigned int i;

    sh(up);
    nic_rings(n, 8, 32, RCTL_EN | RCTL_SECRC | RCTL_BAM);
    for (i = 0; i < 3; i++) {
        arp_request(f, GUEST_IP, HOST_IP);
        nic_send_legacy(n, f, 60);
        if (wait_rx(n, 0)) {
            break;
        }
    }
    T_ASSERT(nic_rxd(n, 0).status & 1);
    T_ASSERT(got_arp_reply(n, 8, HOST_IP, mac));
    sh(neigh);
    T_EQ(nic_rd(n, GPTC), i + 1);
}

T_TEST(net_tap_arp_in_namespace)
{
    uint8_t mac[6];
    struct nic n;

    if (!tap_namespace()) {
        return;
    }
    nic_open_with(&n, "type=tap,id=n0,ifname=hvmdmt0,script=no,"
                  "downscript=no,br=xenbr0");
    tap_arp_exchange(&n, "hvmdmt0", mac);
    tap_tso_reaches_kernel_whole(&n, mac);
    t_machine_free(n.t);
}

/* -netdev tap,fd=N: a tap fd inherited from the process that started us
 * (the toolstack opened it); hvmdm owns it from then on. */
T_TEST(net_tap_inherited_fd)
{
    char netdev[64];
    uint8_t mac[6];
    struct nic n;
    int fd;

    if (!tap_namespace()) {
        return;
    }
    fd = tap_create("hvmdmt0");
    snprintf(netdev, sizeof(netdev), "type=tap,id=n0,fd=%d", fd);
    nic_open_with(&n, netdev);
    tap_arp_exchange(&n, "hvmdmt0", mac);
    tap_tso_reaches_kernel_whole(&n, mac);
    t_machine_free(n.t);
    T_ASSERT(fcntl(fd, F_GETFD) < 0);   /* closed with the machine */
}

/* ---- a QMP client, for getfd ------------------------------------------ */

/* One line from the monitor, the machine's loop running meanwhile. */
static char *
qmp_line(struct nic *n, int c)
{
    GString *b = g_string_new(NULL);
    unsigned int k;
    char ch;

    for (k = 0; k < 200000; k++) {
        ssize_t got = recv(c, &ch, 1, MSG_DONTWAIT);

        if (got == 1 && ch == '\n') {
            return g_string_free(b, FALSE);
        }
        if (got == 1) {
            g_string_append_c(b, ch);
            continue;
        }
        T_ASSERT(got < 0 && errno == EAGAIN);
        dm_loop_iterate(n->t->dm, 0);
        g_usleep(50);
    }
    t_fail(__FILE__, __LINE__, "no reply from the monitor: '%s'", b->str);
    return NULL;
}

/* Send a request (with fd in SCM_RIGHTS if fd >= 0); its reply. */
static char *
qmp_call(struct nic *n, int c, const char *req, int fd)
{
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = { .iov_base = (void *)req, .iov_len = strlen(req) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (fd >= 0) {
        struct cmsghdr *cm;

        msg.msg_control = ctl.space;
        msg.msg_controllen = sizeof(ctl.space);
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    T_EQ(sendmsg(c, &msg, MSG_NOSIGNAL), (ssize_t)strlen(req));
    return qmp_line(n, c);
}

static int
qmp_client(struct nic *n, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int c = socket(AF_UNIX, SOCK_STREAM, 0);

    T_ASSERT(c >= 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    T_EQ(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
    g_free(qmp_line(n, c));                     /* the greeting */
    g_free(qmp_call(n, c, "{\"execute\":\"qmp_capabilities\"}\n", -1));
    return c;
}

/* getfd of name with fd; the reply must contain want. */
static void
getfd_expect(struct nic *n, int c, const char *name, int fd,
             const char *want)
{
    g_autofree char *req = g_strdup_printf("{\"execute\":\"getfd\","
                                           "\"arguments\":{\"fdname\":"
                                           "\"%s\"}}\n", name);
    g_autofree char *r = qmp_call(n, c, req, fd);

    if (!strstr(r, want)) {
        t_fail(__FILE__, __LINE__, "getfd %s: '%s', expected '%s'", name, r,
               want);
    }
}

static unsigned int
open_fds(void)
{
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    unsigned int k = 0;

    T_ASSERT(d);
    while (g_dir_read_name(d)) {
        k++;
    }
    g_dir_close(d);
    return k;
}

/*
 * -netdev tap,fd=NAME waits for QMP getfd with that name: an fd that is
 * not a tap, a missing fd, a name nobody waits for are refused (and the
 * fd closed); a tap is adopted and carries the guest's frames; the same
 * name again is refused, the netdev has its tap.
 */
T_TEST(net_tap_fd_from_qmp_getfd)
{
    g_autofree char *dir = g_dir_make_tmp("hvmdm-net-XXXXXX", NULL);
    g_autofree char *sock = g_strdup_printf("%s/qmp", dir);
    g_autofree char *chardev = g_strdup_printf("socket,id=m0,path=%s,"
                                               "server=on,wait=off", sock);
    const char *extra[] = { "-chardev", chardev, "-mon",
                            "chardev=m0,mode=control", NULL };
    struct qmp *q;
    struct nic n;
    char err[256];
    unsigned int nfds;
    uint8_t mac[6];
    int c, p[2], fd;

    nic_open_extra(&n, "type=tap,id=n0,fd=tapfd", extra);
    q = qmp_start_all(n.t->dm, n.t->dm->cfg, err, sizeof(err));
    T_ASSERT(q);
    c = qmp_client(&n, sock);
    T_EQ(pipe(p), 0);
    nfds = open_fds();
    getfd_expect(&n, c, "tapfd", -1, "No file descriptor supplied");
    getfd_expect(&n, c, "tapfd", p[0], "not an open tap device");
    getfd_expect(&n, c, "other", p[0], "no -netdev tap,fd=other is waiting");
    getfd_expect(&n, c, "1tap", p[0], "is waiting");
    T_EQ(open_fds(), nfds);                     /* every one closed */
    if (tap_namespace()) {
        fd = tap_create("hvmdmt0");
        getfd_expect(&n, c, "tapfd", fd, "{\"return\":{}}");
        close(fd);                              /* hvmdm holds its copy */
        tap_arp_exchange(&n, "hvmdmt0", mac);
        getfd_expect(&n, c, "tapfd", p[0], "is waiting");
    }
    close(p[0]);
    close(p[1]);
    close(c);
    qmp_free(q);
    t_machine_free(n.t);
    T_EQ(rmdir(dir), 0);
}

T_TEST(net_tap_refuses_scripts_and_bad_fd)
{
    const char *bad[] = {
        "type=tap,id=n0,ifname=x,script=/etc/qemu-ifup",
        "type=tap,id=n0,fd=0",
        "type=tap,id=n0,fd=tapfd",          /* no QMP monitor to send it */
        "type=tap,id=n0,fd=3x",
        "type=tap,id=n0,fd=",
        "type=tap,id=n0,fd=-1",
        "type=tap,id=n0,fd=a/b",
        "type=tap,id=n0,fd=7,ifname=x",
        "type=tap,id=n0,fd=7,vnet_hdr=on",
        "type=tap,id=n0,ifname=abcdefghijklmnopqrstuvwxyz",
        "user,id=n0,hostfwd=tcp:127.0.0.1:x-:22",
        "user,id=n0,foo=bar",
        "socket,id=n0",
    };
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        pid_t pid = fork();
        int st;

        if (pid == 0) {
            struct nic n;

            nic_open_with(&n, bad[i]);  /* board_init fails: t_fail */
            _exit(0);
        }
        T_ASSERT(waitpid(pid, &st, 0) == pid);
        T_ASSERT(!WIFEXITED(st) || WEXITSTATUS(st) != 0);
    }
}

static int
free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t l = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    T_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    T_EQ(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/*
 * -netdev user: slirp answers the guest's ARP for its gateway, and a
 * connection to the hostfwd port on 127.0.0.1 reaches the guest as a SYN
 * to 10.0.2.15:22.
 */
T_TEST(net_user_arp_and_hostfwd)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    char netdev[128];
    uint8_t f[64], mac[6];
    unsigned int i;
    struct nic n;
    int port, c;

    if (!CONFIG_SLIRP) {
        printf("skip: built without libslirp\n");
        return;
    }
    port = free_port();
    snprintf(netdev, sizeof(netdev), "user,id=n0,hostfwd=tcp:127.0.0.1:%d-"
             ":22", port);
    nic_open_with(&n, netdev);
    nic_rings(&n, 8, 32, RCTL_EN | RCTL_SECRC | RCTL_BAM);
    arp_request(f, "\x0a\x00\x02\x0f", "\x0a\x00\x02\x02");
    nic_send_legacy(&n, f, 60);
    T_ASSERT(wait_rx(&n, 0));
    T_ASSERT(got_arp_reply(&n, 1, "\x0a\x00\x02\x02", mac));
    T_ASSERT(memcmp(mac, "\x52\x55\x0a\x00\x02\x02", 6) == 0);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    T_ASSERT(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0 ||
             errno == EINPROGRESS);
    T_ASSERT(wait_rx(&n, 1));
    for (i = 1; i < 8 && (nic_rxd(&n, i).status & 1); i++) {
        t_memread(n.t, G_RXBUF + i * RX_STRIDE, f, sizeof(f));
        if (memcmp(f + 12, "\x08\x00", 2) == 0 && f[23] == 6) {
            break;
        }
    }
    T_ASSERT(i < 8);
    T_ASSERT(memcmp(f + 30, "\x0a\x00\x02\x0f", 4) == 0);  /* 10.0.2.15 */
    T_EQ(f[36] << 8 | f[37], 22);                         /* port 22 */
    T_EQ(f[47] & 0x12, 0x02);                             /* SYN */
    close(c);
    t_machine_free(n.t);
}

static gboolean
set_flag(gpointer opaque)
{
    *(bool *)opaque = true;
    return G_SOURCE_REMOVE;
}

/*
 * An idle guest on -netdev user costs the loop no wake-ups: libslirp's
 * sockets are handed to GLib again before every poll, and GLib wakes its
 * context up on every poll added or removed, so re-adding them had every
 * poll return at once (150,000 iterations and 40% of a CPU in 500 ms).
 * Allowed: the timer that ends the wait and libslirp's slow timer.
 */
T_TEST(net_user_idle_costs_no_wakeups)
{
    const struct dm_loop_stats *st;
    char netdev[128];
    struct nic n;
    bool over = false;
    uint64_t it0;

    if (!CONFIG_SLIRP) {
        printf("skip: built without libslirp\n");
        return;
    }
    snprintf(netdev, sizeof(netdev), "user,id=n0,hostfwd=tcp:127.0.0.1:%d-"
             ":22", free_port());
    nic_open_with(&n, netdev);
    st = dm_loop_stats(n.t->dm);
    dm_loop_iterate(n.t->dm, 0);                /* slirp's first poll set */
    it0 = st->iterations;
    g_timeout_add(300, set_flag, &over);
    while (!over && st->iterations - it0 < 100) {
        dm_loop_iterate(n.t->dm, 1);
    }
    T_ASSERT(over);
    T_ASSERT(st->iterations - it0 <= 4);
    t_machine_free(n.t);
}
