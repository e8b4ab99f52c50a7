/*
 * Images and requests as hostile input (issue 14, findings 5 and 6): what
 * a qcow2 backing file may be and how its format is known, loops and the
 * memory a chain may pin, and the memory one guest request may allocate
 * (checked under RLIMIT_DATA: a 32 MiB transfer must stream through
 * bounded buffers instead of allocating its length).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/block.h"
#include "dm/config.h"
#include "dm/log.h"
#include "tests/ide-util.h"

#define MIB         (1024 * 1024)
#define BIG         (32 * MIB)          /* the largest ATA DMA command */

static bool
qemu_img_ok(const char *test)
{
    char *p = g_find_program_in_path("qemu-img");

    if (!p) {
        printf("note: %s: qemu-img not installed; skipped\n", test);
        return false;
    }
    g_free(p);
    return true;
}

/* A machine whose command line sets the backing policy (or not). */
static struct t_machine *
policy_machine(const char *policy)
{
    const char *argv[3] = { "-block-backing", policy, NULL };
    struct t_opts o = { .argv = policy ? argv : NULL };

    dm_log_set_quiet(1);
    return t_machine_new(&o);
}

/* Open path as a read-only qcow2 drive; the error text in err. */
static struct blk *
open_qcow2(struct t_machine *t, const char *path, char *err, size_t errlen)
{
    struct dm_drive_cfg cfg = { .file = (char *)path, .format = "qcow2",
                                .readonly = true };

    *err = 0;
    return blk_open(t->dm, &cfg, err, errlen);
}

/* Turn the backing format extension (0xe2792aca) into an unknown one,
 * as an image written by an old qemu-img or by hand would lack it. */
static void
strip_backing_format(const char *img)
{
    static const uint8_t ext[4] = { 0xe2, 0x79, 0x2a, 0xca };
    uint8_t c0[4096];
    size_t i;

    ide_file_read(img, 0, c0, sizeof(c0));
    for (i = 72; i + 4 <= sizeof(c0); i += 4) {
        if (!memcmp(c0 + i, ext, 4)) {
            c0[i] = 0x7e;
            ide_file_write(img, 0, c0, sizeof(c0));
            return;
        }
    }
    t_fail(__FILE__, __LINE__, "%s: no backing format extension", img);
}

/* An overlay in dir naming backing (format fmt, or none). */
static char *
overlay(const char *dir, const char *backing, const char *fmt)
{
    char *img = g_build_filename(dir, "top.qcow2", NULL);

    g_remove(img);
    T_EQ(t_sh("qemu-img create -q -f qcow2 -u -b %s -F %s %s 1M", backing,
             fmt ? fmt : "raw", img), 0);
    if (!fmt) {
        strip_backing_format(img);
    }
    return img;
}

static void
expect_refused(struct t_machine *t, const char *img, const char *why)
{
    char err[512];
    struct blk *b = open_qcow2(t, img, err, sizeof(err));

    if (b) {
        blk_close(b);
        t_fail(__FILE__, __LINE__, "%s opened; wanted '%s'", img, why);
    }
    if (!strstr(err, why)) {
        t_fail(__FILE__, __LINE__, "error '%s' lacks '%s'", err, why);
    }
}

/* Finding 5: no format named means no open, unless the operator says. */
T_TEST(hostile_backing_format_must_be_named)
{
    struct t_machine *t = policy_machine(NULL), *raw_ok;
    char *dir = ide_tmpdir(), *base, *img, err[512];
    struct blk *b;

    if (!qemu_img_ok(__func__)) {
        t_machine_free(t);
        ide_rmtree(dir);
        return;
    }
    base = ide_make_image(dir, "secret", 4096, 8);
    img = overlay(dir, "secret", NULL);
    expect_refused(t, img, "has no backing format");
    g_free(img);
    img = overlay(dir, "/etc/passwd", NULL);
    expect_refused(t, img, "has no backing format");
    raw_ok = policy_machine("raw-ok");
    b = open_qcow2(raw_ok, img, err, sizeof(err));
    T_ASSERT(b != NULL);
    blk_close(b);
    g_free(img);
    img = overlay(dir, "secret", "raw");
    b = open_qcow2(t, img, err, sizeof(err));
    T_ASSERT(b != NULL);
    blk_close(b);
    t_machine_free(raw_ok);
    g_free(img);
    g_free(base);
    t_machine_free(t);
    ide_rmtree(dir);
}

/* Finding 5: devices, FIFOs, directories and /proc are never backing
 * files, and opening a FIFO does not block (alarm: a hang fails). */
T_TEST(hostile_backing_must_be_regular_file)
{
    struct t_machine *t = policy_machine(NULL);
    char *dir = ide_tmpdir(), *fifo = g_build_filename(dir, "fifo", NULL);
    char *img;

    if (!qemu_img_ok(__func__)) {
        t_machine_free(t);
        g_free(fifo);
        ide_rmtree(dir);
        return;
    }
    T_EQ(mkfifo(fifo, 0600), 0);
    alarm(20);
    img = overlay(dir, "fifo", "raw");
    expect_refused(t, img, "is not a regular file");
    g_free(img);
    img = overlay(dir, "/dev/zero", "raw");
    expect_refused(t, img, "is not a regular file");
    g_free(img);
    img = overlay(dir, "/dev/loop0", "raw");
    expect_refused(t, img, "");
    g_free(img);
    img = overlay(dir, "/tmp", "raw");
    expect_refused(t, img, "is not a regular file");
    g_free(img);
    img = overlay(dir, "/proc/self/environ", "raw");
    expect_refused(t, img, "in /proc or /sys");
    g_free(img);
    alarm(0);
    g_free(fifo);
    t_machine_free(t);
    ide_rmtree(dir);
}

/* Finding 6: a drive that is a FIFO is refused at once, not waited on. */
T_TEST(hostile_drive_fifo_does_not_block)
{
    struct t_machine *t = policy_machine(NULL);
    char *dir = ide_tmpdir(), *fifo = g_build_filename(dir, "fifo", NULL);
    struct dm_drive_cfg cfg = { .file = fifo, .format = "raw",
                                .readonly = true };
    char err[512] = "";

    T_EQ(mkfifo(fifo, 0600), 0);
    alarm(20);
    T_ASSERT(blk_open(t->dm, &cfg, err, sizeof(err)) == NULL);
    alarm(0);
    T_ASSERT(strstr(err, "not a regular file or a block device") != NULL);
    g_free(fifo);
    t_machine_free(t);
    ide_rmtree(dir);
}

/* The operator's switch: no backing chains at all. */
T_TEST(hostile_backing_off_refuses_chains)
{
    struct t_machine *t = policy_machine("off");
    char *dir = ide_tmpdir(), *base, *img;

    if (qemu_img_ok(__func__)) {
        base = ide_make_image(dir, "base", 4096, 8);
        img = overlay(dir, "base", "raw");
        expect_refused(t, img, "-block-backing off refuses backing chains");
        g_free(img);
        g_free(base);
    }
    t_machine_free(t);
    ide_rmtree(dir);
}

/* Finding 6: a chain that loops through another image is refused at
 * the loop, and a chain pins a bounded amount of tables. */
T_TEST(hostile_backing_loops_and_chain_memory)
{
    struct t_machine *t = policy_machine(NULL);
    char *dir = ide_tmpdir(), *a, *b, *img;

    if (!qemu_img_ok(__func__)) {
        t_machine_free(t);
        ide_rmtree(dir);
        return;
    }
    a = g_build_filename(dir, "a.qcow2", NULL);
    b = g_build_filename(dir, "b.qcow2", NULL);
    T_EQ(t_sh("qemu-img create -q -f qcow2 -u -b b.qcow2 -F qcow2 %s 1M", a),
         0);
    T_EQ(t_sh("qemu-img create -q -f qcow2 -u -b a.qcow2 -F qcow2 %s 1M", b),
         0);
    expect_refused(t, a, "backing chain loops back to");
    /* 2 MiB clusters: each level may pin 46 MiB of caches. */
    T_EQ(t_sh("qemu-img create -q -f qcow2 -o cluster_size=2M %s/c0 4M",
             dir), 0);
    for (unsigned int i = 1; i < 4; i++) {
        T_EQ(t_sh("qemu-img create -q -f qcow2 -o cluster_size=2M -u -b c%u "
                 "-F qcow2 %s/c%u 4M", i - 1, dir, i), 0);
    }
    img = g_build_filename(dir, "c3", NULL);
    expect_refused(t, img, "would pin more than 96 MiB");
    g_free(img);
    g_free(a);
    g_free(b);
    t_machine_free(t);
    ide_rmtree(dir);
}

/* ---- bounded memory per request ---- */

/* Limit this (forked) test's data segment to what it uses now plus
 * slack; a request that allocates its whole 32 MiB length then fails
 * (g_malloc aborts). Not under ASan, whose allocator keeps a quarantine. */
static void
limit_data(size_t slack)
{
#if !defined(__SANITIZE_ADDRESS__)
    unsigned long kb = 0;
    char *status = NULL, *p;
    struct rlimit rl;

    T_ASSERT(g_file_get_contents("/proc/self/status", &status, NULL, NULL));
    p = strstr(status, "VmData:");
    T_ASSERT(p && sscanf(p, "VmData: %lu kB", &kb) == 1);
    g_free(status);
    rl.rlim_cur = rl.rlim_max = kb * 1024 + slack;
    T_EQ(setrlimit(RLIMIT_DATA, &rl), 0);
#else
    (void)slack;
#endif
}

/* A 32 MiB bus-master transfer the map cache cannot hold (32 buckets):
 * through the bounce buffer, both ways, byte-exact. */
T_TEST(hostile_dma_bounce_is_streamed)
{
    char *dir = ide_tmpdir(), *path, *opt;
    const char *argv[3] = { "-drive", NULL, NULL };
    uint8_t *want = g_malloc(BIG), *got = g_malloc(BIG);
    struct t_machine *t;

    path = ide_make_image(dir, "big.img", BIG + MIB, 0);
    for (size_t i = 0; i < BIG; i++) {
        want[i] = (uint8_t)(i * 13 + (i >> 9));
    }
    ide_file_write(path, 0, want, BIG);
    opt = g_strdup_printf("file=%s,if=ide,index=0,media=disk,format=raw",
                          path);
    argv[1] = opt;
    t = ide_machine(argv);
    dm_log_set_quiet(1);
    for (unsigned int i = 0; i < 512; i++) {
        ide_prd(t, i, G_BUF + i * 65536u, 0, i == 511);
    }
    limit_data(16 * MIB);
    ide_bm_setup(t, 0, true);
    ide_send(t, IDE_PRI, 0, 0x25, 0, 65536, true);      /* READ DMA EXT */
    ide_bm_start(t, 0, true);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    T_ASSERT(memcmp(t_ram(t) + G_BUF, want, BIG) == 0);
    /* And back: WRITE DMA EXT of different bytes at sector 1. */
    for (size_t i = 0; i < BIG; i++) {
        t_ram(t)[G_BUF + i] = (uint8_t)(want[i] + 1);
    }
    ide_bm_setup(t, 0, false);
    ide_send(t, IDE_PRI, 0, 0x35, 1, 65536, true);
    ide_bm_start(t, 0, false);
    t_settle(t);
    T_EQ(t_inb(t, IDE_BM + BM_STAT), 0x04);
    ide_bm_stop(t, 0);
    T_EQ(t_inb(t, IDE_PRI + R_STAT), S_DRDY | S_DSC);
    t_machine_free(t);
    ide_file_read(path, 512, got, BIG);
    for (size_t i = 0; i < BIG; i++) {
        if (got[i] != (uint8_t)(want[i] + 1)) {
            t_fail(__FILE__, __LINE__, "byte %zu differs", i);
        }
    }
    g_free(want);
    g_free(got);
    g_free(opt);
    g_free(path);
    ide_rmtree(dir);
}

static void
done_cb(void *opaque, long ret)
{
    *(long *)opaque = ret;
}

/* A 32 MiB qcow2 request (mapped guest memory, no bounce in bmdma.c)
 * streams through the format's bounded buffer. */
T_TEST(hostile_qcow2_request_is_streamed)
{
    struct t_machine *t = policy_machine(NULL);
    char *dir = ide_tmpdir(), *img = g_build_filename(dir, "d.qcow2", NULL);
    struct dm_drive_cfg cfg = { .file = img, .format = "qcow2" };
    uint8_t *buf = g_malloc(BIG);
    struct iovec v = { buf, BIG };
    char err[512];
    struct blk *b;
    long ret = 1;

    if (!qemu_img_ok(__func__)) {
        g_free(buf);
        g_free(img);
        t_machine_free(t);
        ide_rmtree(dir);
        return;
    }
    T_EQ(t_sh("qemu-img create -q -f qcow2 %s 40M", img), 0);
    b = blk_open(t->dm, &cfg, err, sizeof(err));
    T_ASSERT(b != NULL);
    memset(buf, 0x5a, BIG);
    v.iov_len = 4096;                   /* start the worker threads */
    T_EQ(blk_pwritev(b, 0, &v, 1, done_cb, &ret), 0);
    blk_drain(b);
    T_EQ(ret, 4096);
    limit_data(16 * MIB);
    v.iov_len = BIG;
    T_EQ(blk_pwritev(b, MIB, &v, 1, done_cb, &ret), 0);
    blk_drain(b);
    T_EQ(ret, BIG);
    memset(buf, 0, BIG);
    T_EQ(blk_preadv(b, MIB, &v, 1, done_cb, &ret), 0);
    blk_drain(b);
    T_EQ(ret, BIG);
    for (size_t i = 0; i < BIG; i += 4096) {
        T_EQ(buf[i], 0x5a);
    }
    blk_close(b);
    g_free(buf);
    g_free(img);
    t_machine_free(t);
    ide_rmtree(dir);
}
