/*
 * bench/e1000: packets per second and Mb/s through the 82540EM's transmit
 * and receive rings in the machine harness (ioreq service, address map,
 * descriptor walk, guest-memory copies, the socket backend), against a
 * plain loop that moves the same frames through the same kind of socket
 * pair in the same run.
 *
 *   tx 64 B, tx 1500 B: one legacy descriptor per frame and one TDT write
 *     (an ioreq) per frame, as Linux's e1000_xmit_frame rings it; the
 *     wire's far end receives every frame.
 *   rx 64 B, rx 1500 B: frames written into the wire, hvmdm's own main
 *     loop (dm_loop_iterate: its epoll wait, then GLib's sources) wakes for
 *     them and the NIC places them in 2 KiB buffers; the guest, between
 *     turns of that loop, waits for each descriptor's DD bit in
 *     memory (never reading RDH, as Linux's e1000_clean_rx_irq), reads
 *     ICR, clears the status bytes and hands 32 buffers back with one RDT
 *     write per 32 frames (E1000_RX_BUFFER_WRITE is 16 in Linux). A second
 *     line sets the same frames against a receiver that, like any event
 *     loop, waits in poll(2) and reads until EAGAIN: the gap between the
 *     two plain loops is the I/O model's, not the NIC's.
 *   tso 64 KiB: one context, a header and sixteen 4 KiB data descriptors
 *     per send, cut into 45 MSS-1448 segments with checksums; the plain
 *     loop sends the same 45 finished segments.
 *
 * Targets (issue 9): ">= 0.5x for 64-byte packets, >= 0.8x for 1500-byte
 * and TSO 64 KiB sends": 0.5 for both 64 B cases, 0.8 for tx 1500 B and
 * TSO. rx 1500 B has no target of its own; it is printed against both
 * plain receivers (its gap to the blocking one is the one wait per batch
 * that any event loop pays, see the second rx lines). Prints each figure
 * with the baseline and the ratio.
 *
 * Both sides are timed in the process's CPU time, not wall time: on a
 * shared host a side that is descheduled would otherwise be charged for
 * the other tenants' work. Each case alternates the two sides in short
 * rounds; the ratio printed is the median of the rounds' ratios, with the
 * worst and best round beside it.
 *
 *   e1000 [-t SECONDS_PER_CASE] [-r ROUNDS] [-c CASE]
 *   (default 1 s of CPU in 10 rounds, every case; -c runs the cases whose name
 *   contains CASE, e.g. -c "tx 1500B", to profile one)
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"         /* t_fail */
#include "dm/log.h"
#include "dm/loop.h"
#include "tests/e1000-util.h"

#define BATCH 32
#define POLLED "plain = poll + recv to EAGAIN"
#define RXD_STA_DD 0x01     /* descriptor done, 8254x SDM 3.2.3.1 */

struct rate {
    uint64_t pkts, bytes;
    double secs;
};

static double seconds = 1.0;
static unsigned int rounds = 10;
static const char *only;
static uint8_t sink[70000];

static void
drain(int fd, unsigned int n, struct rate *r)
{
    unsigned int i;

    for (i = 0; i < n; i++) {
        ssize_t got = recv(fd, sink, sizeof(sink), 0);

        if (got < 0) {
            fprintf(stderr, "e1000: frame lost on the wire: %s\n",
                    strerror(errno));
            exit(1);
        }
        r->pkts++;
        r->bytes += (uint64_t)got;
    }
}

/* Seconds of CPU time of the whole process (every thread, user and
 * kernel): what a case costs, whoever else runs on the host. */
static double
cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- plain socket-pair loop --------------------------------------------- */

/* An event loop's receiver: poll(2) for the fd, then read until EAGAIN
 * (the one recv that finds the queue empty is part of the cost). */
static void
drain_polled(int fd, struct rate *r)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t got;

    T_EQ(poll(&p, 1, -1), 1);
    while ((got = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) >= 0) {
        r->pkts++;
        r->bytes += (uint64_t)got;
    }
    T_EQ(errno, EAGAIN);
}

/* len-byte frames through a socket pair, received 8 at a time: blocking
 * recv of the 8 (the plain loop) or, polled, as an event loop would. */
static struct rate
plain(size_t len, bool polled)
{
    static uint8_t f[1514];
    struct rate r = { 0 };
    int sv[2];
    double t0 = cpu_s();
    unsigned int i;

    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, len);
    T_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    while ((r.secs = cpu_s() - t0) < seconds) {
        for (i = 0; i < BATCH; i++) {
            T_EQ(send(sv[0], f, len, 0), (ssize_t)len);
            if (i % 8 != 7) {
                continue;
            }
            if (polled) {
                drain_polled(sv[1], &r);
            } else {
                drain(sv[1], 8, &r);
            }
        }
    }
    close(sv[0]);
    close(sv[1]);
    return r;
}

static struct rate
plain_polled(size_t len)
{
    return plain(len, true);
}

/* ---- transmit ----------------------------------------------------------- */

static struct rate
nic_tx(size_t len)
{
    struct rate r = { 0 };
    uint8_t f[1514];
    struct nic n;
    double t0;
    unsigned int i;

    nic_open(&n);
    nic_rings(&n, 256, 8, RCTL_EN);
    nic_frame(f, (const uint8_t *)"\x02\x00\x00\x00\x00\x02", 0x0800, len);
    t_memwrite(n.t, G_TXBUF, f, len);
    t0 = cpu_s();
    while ((r.secs = cpu_s() - t0) < seconds) {
        for (i = 0; i < BATCH; i++) {
            nic_txd(&n, G_TXBUF, (uint32_t)len | 0x0bu << 24, 0);
            nic_tx_ring(&n);
            if (i % 8 == 7) {
                drain(n.peer, 8, &r);
            }
        }
        (void)nic_rd(&n, ICR);
    }
    nic_close(&n);
    return r;
}

/* ---- receive ------------------------------------------------------------ */

static struct rate
nic_rx(size_t len)
{
    struct rate r = { 0 };
    uint8_t f[1514];
    struct nic n;
    double t0;
    unsigned int i, rdh = 0;

    nic_open(&n);
    nic_rings(&n, 8, 256, RCTL_EN | RCTL_SECRC);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, len);
    t0 = cpu_s();
    while ((r.secs = cpu_s() - t0) < seconds) {
        for (i = 0; i < BATCH; i++) {
            T_EQ(send(n.peer, f, len, 0), (ssize_t)len);
            if (i % 8 == 7) {
                unsigned int last = (rdh + i) % 256;

                while (!(nic_rxd(&n, last).status & RXD_STA_DD)) {
                    dm_loop_iterate(n.t->dm, 0);
                }
            }
        }
        (void)nic_rd(&n, ICR);
        for (i = 0; i < BATCH; i++) {
            unsigned int k = (rdh + i) % 256;
            struct nic_rxd d = nic_rxd(&n, k);

            r.pkts++;
            r.bytes += d.len;
            t_memset(n.t, G_RXR + 16 * k + 12, 0, 4);
        }
        rdh = (rdh + BATCH) % 256;
        nic_wr(&n, RDT, (rdh + 255) % 256);
    }
    nic_close(&n);
    return r;
}

/* ---- TSO ---------------------------------------------------------------- */

#define TSO_PAYLOAD (65536 - 54)
#define TSO_MSS     1448

static size_t
tso_packet(uint8_t *f)
{
    size_t i;

    memset(f, 0, 54);
    memcpy(f, "\x02\x00\x00\x00\x00\x02", 6);
    memcpy(f + 6, NIC_MAC, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    f[46] = 0x50;
    f[47] = 0x10;
    for (i = 54; i < 54 + TSO_PAYLOAD; i++) {
        f[i] = (uint8_t)i;
    }
    return 54 + TSO_PAYLOAD;
}

static void
tso_queue(struct nic *n, size_t len)
{
    size_t off;

    nic_txd(n, 14u | 24u << 8 | 33u << 16 | (uint64_t)(34u | 50u << 8) << 32,
            (uint32_t)TSO_PAYLOAD | 0x27u << 24, 54u << 8 | TSO_MSS << 16);
    nic_txd(n, G_TXBUF, 54u | 1u << 20 | 0x24u << 24, 3u << 8);
    for (off = 54; off < len; off += 4096) {
        size_t chunk = MIN((size_t)4096, len - off);
        uint32_t cmd = 0x24u | (off + chunk == len ? 0x0bu : 0);

        nic_txd(n, G_TXBUF + off, (uint32_t)chunk | 1u << 20 | cmd << 24,
                3u << 8);
    }
    nic_tx_ring(n);
}

static struct rate
nic_tso(void)
{
    static uint8_t f[70000];
    struct rate r = { 0 };
    size_t len = tso_packet(f);
    unsigned int segs = (TSO_PAYLOAD + TSO_MSS - 1) / TSO_MSS;
    struct nic n;
    double t0;

    nic_open(&n);
    T_EQ(setsockopt(n.peer, SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 },
                    sizeof(int)), 0);
    nic_rings(&n, 256, 8, RCTL_EN);
    t_memwrite(n.t, G_TXBUF, f, len);
    t0 = cpu_s();
    while ((r.secs = cpu_s() - t0) < seconds) {
        tso_queue(&n, len);
        drain(n.peer, segs, &r);
    }
    nic_close(&n);
    return r;
}

/* The 45 segments the NIC puts on the wire, for the plain loop. */
static struct rate
plain_tso(void)
{
    static uint8_t seg[48][1514];
    const uint8_t *frames[48];
    size_t lens[48];
    unsigned int i, segs = (TSO_PAYLOAD + TSO_MSS - 1) / TSO_MSS;
    struct rate r = { 0 };
    int sv[2];
    double t0;

    for (i = 0; i < segs; i++) {
        lens[i] = 54 + MIN((size_t)TSO_MSS, TSO_PAYLOAD - (size_t)i * TSO_MSS);
        memset(seg[i], (int)i, lens[i]);
        frames[i] = seg[i];
    }
    T_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    T_EQ(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 },
                    sizeof(int)), 0);
    t0 = cpu_s();
    while ((r.secs = cpu_s() - t0) < seconds) {
        for (i = 0; i < segs; i++) {
            T_EQ(send(sv[0], frames[i], lens[i], 0), (ssize_t)lens[i]);
        }
        drain(sv[1], segs, &r);
    }
    close(sv[0]);
    close(sv[1]);
    return r;
}

/* ---- report ------------------------------------------------------------ */

typedef struct rate case_fn(size_t len);

static struct rate
case_tso(size_t len)
{
    return nic_tso();
}

static struct rate
case_plain_tso(size_t len)
{
    return plain_tso();
}

static struct rate
plain_frames(size_t len)
{
    return plain(len, false);
}

static double
mbps(struct rate r)
{
    return r.bytes * 8 / r.secs / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/*
 * Rounds alternate hvmdm and the plain loop so both see the same load on
 * this shared host; the figures add the rounds up, the ratio is the median
 * round's, the range the worst and best round's.
 */
static void
run_case(const char *name, case_fn *dm, case_fn *base, size_t len,
         const char *what)
{
    struct rate d = { 0 }, p = { 0 };
    double q[64];
    unsigned int i, n = MIN(rounds, G_N_ELEMENTS(q));

    if (only && !strstr(name, only)) {
        return;
    }
    for (i = 0; i < n; i++) {
        struct rate a = dm(len), b = base(len);

        q[i] = mbps(a) / mbps(b);
        d.pkts += a.pkts;
        d.bytes += a.bytes;
        d.secs += a.secs;
        p.pkts += b.pkts;
        p.bytes += b.bytes;
        p.secs += b.secs;
    }
    qsort(q, n, sizeof(q[0]), cmp_double);
    printf("  %-10s hvmdm %9.0f pps %8.1f Mb/s  plain %9.0f pps %8.1f Mb/s"
           "  ratio %.2f (rounds %.2f-%.2f, %s)\n", name,
           d.pkts / d.secs, mbps(d), p.pkts / p.secs, mbps(p),
           n % 2 ? q[n / 2] : (q[n / 2 - 1] + q[n / 2]) / 2, q[0], q[n - 1],
           what);
}

int
main(int argc, char **argv)
{
    double total = 1.0;
    int opt;

    while ((opt = getopt(argc, argv, "t:r:c:")) != -1) {
        if (opt == 'c') {
            only = optarg;
        } else if (opt == 't') {
            total = atof(optarg);
        } else if (opt == 'r') {
            rounds = (unsigned int)MAX(1, atoi(optarg));
        } else {
            fprintf(stderr, "usage: e1000 [-t SECONDS_PER_CASE] "
                    "[-r ROUNDS] [-c CASE]\n");
            return 2;
        }
    }
    seconds = total / rounds;
    dm_log_set_quiet(1);
    printf("bench/e1000: 82540EM rings through the harness into an AF_UNIX "
           "datagram pair; plain: send/recv of the same frames on such a "
           "pair, same run, %.1f CPU s per side and case in %u rounds; "
           "rates per CPU second, ratio the median round's\n", total,
           rounds);
    run_case("tx 64B", nic_tx, plain_frames, 64, "target 0.5");
    run_case("tx 1500B", nic_tx, plain_frames, 1500, "target 0.8");
    run_case("rx 64B", nic_rx, plain_frames, 64, "target 0.5");
    run_case("rx 1500B", nic_rx, plain_frames, 1500,
             "no target: issue 9's 0.8 is for sends");
    run_case("rx 64B", nic_rx, plain_polled, 64, POLLED);
    run_case("rx 1500B", nic_rx, plain_polled, 1500, POLLED);
    run_case("tso 64KiB", case_tso, case_plain_tso, 0, "target 0.8");
    return 0;
}
