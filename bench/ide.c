/*
 * bench/ide: PIIX3 IDE throughput through the whole stack (ioreq service,
 * address map, bus master, block layer) in the machine harness, against a
 * plain pread/pwrite loop of the same sizes on the same file in the same
 * run. The image sits in the page cache, so both sides measure software.
 *
 *   DMA: READ/WRITE DMA EXT of 2048 sectors through 16 x 64 KiB PRDs.
 *   PIO: READ MULTIPLE EXT of 256 sectors in 16-sector DRQ blocks, each
 *        block moved by rep INSW requests clipped to a page, as Xen issues
 *        them; the baseline is one pread of 128 KiB per command.
 *
 * Twice: cache=writeback against plain I/O through the page cache, and
 * cache=none (O_DIRECT, what a durable guest disk costs) against plain
 * I/O on an O_DIRECT fd. Each round runs both sides over the whole image,
 * command by command in turns (who goes first alternates), after one
 * untimed round, on an image whose blocks are allocated and whose pages
 * are clean and cached; a pair of commands during which another process
 * preempted us is measured again ("pairs again"). Prints MiB/s for each,
 * the ratio over all rounds, the median round's ratio (a burst of load on
 * a shared host lands on one side of one round; the median pairs like with
 * like) and the worst and best round's. Target for DMA: >= 0.7.
 *
 *   ide [-r ROUNDS] [-s FILE_MIB] [-k dma-read|dma-write|pio-read]
 *       [-c writeback|none]
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"         /* bench_now_s, t_fail */
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"

#define BM_BASE     0xc000
#define PRI         0x1f0
#define PRD_GPA     0x10000u
#define DMA_GPA     0x1000000u
#define DMA_BYTES   (16u * 65536)
#define PIO_SECTORS 256
#define PIO_BLOCK   16

/* Run the loop until the bus master reports the interrupt. */
static void
wait_bm(struct t_machine *t)
{
    while (!(t_inb(t, BM_BASE + 2) & 0x04)) {
        if (dm_run_posted(t->dm) == 0) {
            g_main_context_iteration(NULL, TRUE);
        }
    }
}

static void
lba48(struct t_machine *t, uint8_t cmd, uint64_t lba, uint32_t count)
{
    t_outb(t, PRI + 6, 0xe0);
    t_outb(t, PRI + 2, (uint8_t)(count >> 8));
    t_outb(t, PRI + 3, (uint8_t)(lba >> 24));
    t_outb(t, PRI + 4, (uint8_t)(lba >> 32));
    t_outb(t, PRI + 5, (uint8_t)(lba >> 40));
    t_outb(t, PRI + 2, (uint8_t)count);
    t_outb(t, PRI + 3, (uint8_t)lba);
    t_outb(t, PRI + 4, (uint8_t)(lba >> 8));
    t_outb(t, PRI + 5, (uint8_t)(lba >> 16));
    t_outb(t, PRI + 7, cmd);
}

static void
dma_cmd(struct t_machine *t, bool write, uint64_t lba)
{
    t_outl(t, BM_BASE + 4, PRD_GPA);
    t_outb(t, BM_BASE, write ? 0x00 : 0x08);
    t_outb(t, BM_BASE + 2, 0x06);
    lba48(t, write ? 0x35 : 0x25, lba, DMA_BYTES / 512);
    t_outb(t, BM_BASE, write ? 0x01 : 0x09);
    wait_bm(t);
    t_outb(t, BM_BASE, 0x00);
    if (t_inb(t, PRI + 7) != 0x50) {
        t_fail(__FILE__, __LINE__, "DMA command failed");
    }
}

static void
pio_cmd(struct t_machine *t, uint64_t lba)
{
    lba48(t, 0x29, lba, PIO_SECTORS);
    for (unsigned int b = 0; b < PIO_SECTORS / PIO_BLOCK; b++) {
        while (!(t_inb(t, PRI + 7) & 0x08)) {
            if (dm_run_posted(t->dm) == 0) {
                g_main_context_iteration(NULL, TRUE);
            }
        }
        for (unsigned int p = 0; p < PIO_BLOCK * 512 / 4096; p++) {
            t_ins(t, PRI, 2, DMA_GPA + p * 4096, 2048, false);
        }
    }
}

#define MAX_ROUNDS 256

struct result {
    double dm_s;
    double base_s;
    double min_ratio;           /* the worst round */
    double max_ratio;
    double ratio[MAX_ROUNDS];   /* per round, for the median */
    unsigned int rounds;
    unsigned int pairs;         /* chunks measured */
    unsigned int again;         /* ... measured again after a preemption */
    bool no_again;              /* the path itself gets us preempted */
};

/* Times this thread lost the CPU to another runnable thread. */
static long
preemptions(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_THREAD, &ru) < 0 ? 0 : ru.ru_nivcsw;
}

static uint64_t
chunk_bytes(int kind)
{
    return kind == 2 ? PIO_SECTORS * 512 : DMA_BYTES;
}

/* One guest command on chunk i; its time. */
static double
one_dm(struct t_machine *t, int kind, uint64_t i)
{
    uint64_t lba = i * chunk_bytes(kind) / 512;
    double t0 = bench_now_s();

    if (kind == 2) {
        pio_cmd(t, lba);
    } else {
        dma_cmd(t, kind == 1, lba);
    }
    return bench_now_s() - t0;
}

/* The plain system call on chunk i; its time. */
static double
one_plain(int fd, int kind, uint64_t i, uint8_t *buf)
{
    uint64_t chunk = chunk_bytes(kind);
    double t0 = bench_now_s();
    ssize_t rc = kind == 1 ? pwrite(fd, buf, chunk, (off_t)(i * chunk))
                           : pread(fd, buf, chunk, (off_t)(i * chunk));

    if (rc != (ssize_t)chunk) {
        t_fail(__FILE__, __LINE__, "baseline I/O: %s", g_strerror(errno));
    }
    return bench_now_s() - t0;
}

#define PAIR_TRIES 4

/*
 * Chunk i by hvmdm and chunk j by the plain loop, in turn. A pair during
 * which another process took our CPU (a shared host: milliseconds, on a
 * command of 0.1 ms) is measured again, up to PAIR_TRIES times: that wait
 * is neither side's cost. Time the kernel made us wait (a worker,
 * throttling, a wake-up) counts.
 */
static void
one_pair(struct t_machine *t, int fd, int kind, uint64_t i, uint64_t j,
         bool dm_first, uint8_t *buf, double *dm_s, double *base_s,
         struct result *r)
{
    double a, b;
    unsigned int max = PAIR_TRIES;

    /* A path whose own requests get us preempted (O_DIRECT: the kernel
     * threads that complete them) gains nothing from measuring again. */
    if (r && r->pairs >= 64 && r->again > r->pairs / 2) {
        r->no_again = true;
    }
    if (!r || r->no_again) {
        max = 1;
    }
    for (unsigned int tries = 1;; tries++) {
        long p0 = preemptions();

        if (dm_first) {
            a = one_dm(t, kind, i);
            b = one_plain(fd, kind, j, buf);
        } else {
            b = one_plain(fd, kind, j, buf);
            a = one_dm(t, kind, i);
        }
        if (preemptions() == p0 || tries >= max) {
            break;
        }
        r->again++;
    }
    if (r) {
        r->pairs++;
    }
    *dm_s += a;
    *base_s += b;
}

/*
 * One round: each side over the whole image, command by command in turns,
 * so that a burst of load, the kernel's writeback or its dirty throttling
 * hit both alike. They work half the image apart: a chunk one side just
 * moved would still be in the CPU's caches for the other (and the plain
 * loop, a bare copy, gains most from that). Who goes first alternates
 * from pair to pair and from round to round.
 */
static void
run_round(struct t_machine *t, int fd, uint64_t file_bytes, int kind,
          struct result *r, uint8_t *buf, unsigned int round)
{
    uint64_t n = file_bytes / chunk_bytes(kind);
    double dm_s = 0, base_s = 0, ratio;

    for (uint64_t i = 0; i < n; i++) {
        one_pair(t, fd, kind, i, (i + n / 2) % n, (i + round) % 2 == 0, buf,
                 &dm_s, &base_s, r);
    }
    if (!r) {
        return;                 /* the warm-up */
    }
    ratio = base_s / dm_s;
    if (r->dm_s == 0 || ratio < r->min_ratio) {
        r->min_ratio = ratio;
    }
    if (r->dm_s == 0 || ratio > r->max_ratio) {
        r->max_ratio = ratio;
    }
    r->dm_s += dm_s;
    r->base_s += base_s;
    r->ratio[r->rounds++] = ratio;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/*
 * The median round: on a shared host a burst of scheduling delay lands on
 * one side of a round or the other; the median pairs like with like.
 */
static double
median_ratio(const struct result *r)
{
    double v[MAX_ROUNDS];
    unsigned int n = r->rounds;

    memcpy(v, r->ratio, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
report(const char *name, const struct result *r, uint64_t bytes)
{
    double mib = (double)bytes / (1 << 20);

    printf("  %-10s hvmdm %8.1f MiB/s  plain %8.1f MiB/s  ratio %.2f, "
           "median round %.2f (rounds %.2f-%.2f)", name, mib / r->dm_s,
           mib / r->base_s, r->base_s / r->dm_s, median_ratio(r),
           r->min_ratio, r->max_ratio);
    printf(" [%u of %u pairs again]", r->again, r->pairs);
    if (!strcmp(name, "pio-read")) {
        printf("  (%.0f sectors/s)", bytes / 512.0 / r->dm_s);
    }
    printf("\n");
}

/*
 * The image, written once so it sits in the page cache, and synced so that
 * its blocks are allocated and its pages clean: neither side meets the
 * allocation of a fresh file or the writeback of its creation.
 */
static int
make_image(const char *path, unsigned int mib, const uint8_t *zero)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

    for (uint64_t off = 0; fd >= 0 && off < (uint64_t)mib << 20;
         off += DMA_BYTES) {
        if (pwrite(fd, zero, DMA_BYTES, (off_t)off) != DMA_BYTES) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0 && fdatasync(fd) < 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        fprintf(stderr, "ide: writing %s failed\n", path);
    }
    return fd;
}

static void
setup_machine(struct t_machine *t)
{
    t_pcicfg_write(t, 0x09, 0x40, 0x8000, 2);
    t_pcicfg_write(t, 0x09, 0x20, BM_BASE | 1, 4);
    t_pcicfg_write(t, 0x09, 0x04, 0x0005, 2);
    for (unsigned int i = 0; i < 16; i++) {
        uint32_t e[2] = { DMA_GPA + i * 65536, i == 15 ? 0x80000000u : 0 };

        t_memwrite(t, PRD_GPA + 8 * i, e, sizeof(e));
    }
    t_outb(t, PRI + 2, PIO_BLOCK);             /* SET MULTIPLE 16 */
    t_outb(t, PRI + 7, 0xc6);
}

static const char *const names[3] = { "dma-read", "dma-write",
                                      "pio-read" };

/*
 * One cache mode: a machine with the drive opened that way, and the
 * baseline on an fd opened the same way (O_DIRECT for cache=none),
 * interleaved round by round.
 */
static void
run_cache_mode(const char *path, const char *cache, unsigned int rounds,
               unsigned int mib, int only)
{
    bool direct = !strcmp(cache, "none");
    struct result res[3];
    g_autofree char *opt = g_strdup_printf(
        "file=%s,if=ide,index=0,media=disk,format=raw,cache=%s", path, cache);
    const char *margv[] = { "-drive", opt, NULL };
    struct t_opts o = { .ram_size = 64ull << 20, .argv = margv };
    struct t_machine *t;
    void *buf = NULL;
    int fd;

    fd = open(path, O_RDWR | (direct ? O_DIRECT : 0));
    if (fd < 0 || posix_memalign(&buf, 4096, DMA_BYTES) != 0) {
        fprintf(stderr, "ide: %s (cache=%s): %s\n", path, cache,
                g_strerror(errno));
        exit(1);
    }
    memset(buf, 0, DMA_BYTES);
    memset(res, 0, sizeof(res));
    t = t_machine_new(&o);
    setup_machine(t);
    /* One untimed round of each path: the engine's first requests (io_uring
     * creates its kernel workers on demand) and the first rewrite of every
     * page are not what a guest pays request after request. */
    for (int k = 0; k < 3; k++) {
        if (only < 0 || k == only) {
            run_round(t, fd, (uint64_t)mib << 20, k, NULL, buf, 0);
        }
    }
    for (unsigned int r = 0; r < rounds; r++) {
        for (int k = 0; k < 3; k++) {
            if (only < 0 || k == only) {
                run_round(t, fd, (uint64_t)mib << 20, k, &res[k], buf, r);
            }
        }
    }
    t_machine_free(t);
    printf("cache=%s: %s; plain: pread/pwrite on an fd opened %s\n", cache,
           direct ? "O_DIRECT, what a durable guest disk costs"
                  : "the image in the page cache",
           direct ? "O_DIRECT" : "without O_DIRECT");
    for (int k = 0; k < 3; k++) {
        if (only < 0 || k == only) {
            report(names[k], &res[k], (uint64_t)rounds * mib << 20);
        }
    }
    close(fd);
    free(buf);
}

int
main(int argc, char **argv)
{
    unsigned int rounds = 20, mib = 64;
    char *dir = g_build_filename(g_get_tmp_dir(), "hvmdm-bench-XXXXXX", NULL);
    const char *caches[2] = { "writeback", "none" };
    uint8_t *buf;
    char *path;
    int fd, opt_c, only = -1, c0 = 0, c1 = 1;

    while ((opt_c = getopt(argc, argv, "r:s:k:c:")) != -1) {
        if (opt_c == 'k') {
            for (only = 2; only >= 0 && strcmp(names[only], optarg); only--) {
            }
        } else if (opt_c == 'c') {
            c0 = c1 = !strcmp(optarg, "none");
        } else if (opt_c == 'r') {
            rounds = (unsigned int)atoi(optarg);
            if (rounds < 1 || rounds > MAX_ROUNDS) {
                fprintf(stderr, "ide: -r takes 1 to %d rounds\n", MAX_ROUNDS);
                return 2;
            }
        } else if (opt_c == 's') {
            mib = (unsigned int)atoi(optarg);
        } else {
            fprintf(stderr, "usage: ide [-r ROUNDS] [-s FILE_MIB] "
                    "[-k dma-read|dma-write|pio-read] "
                    "[-c writeback|none]\n");
            return 2;
        }
    }
    if (!g_mkdtemp(dir)) {
        fprintf(stderr, "ide: cannot create %s: %s\n", dir, g_strerror(errno));
        return 1;
    }
    path = g_build_filename(dir, "disk.img", NULL);
    buf = g_malloc0(DMA_BYTES);
    fd = make_image(path, mib, buf);
    if (fd < 0) {
        return 1;
    }
    close(fd);
    dm_log_set_quiet(1);
    printf("bench/ide: %u rounds over a %u MiB image, each round hvmdm and "
           "the plain loop in turns\n", rounds, mib);
    for (int c = c0; c <= c1; c++) {
        run_cache_mode(path, caches[c], rounds, mib, only);
    }
    g_remove(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
    g_free(buf);
    return 0;
}
