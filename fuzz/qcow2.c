/*
 * qcow2 images as hostile input: the input is the image file. It is
 * opened read-write (a backing file "base.raw" and the chain checks are
 * there to be found), then read across its first megabyte, written at a
 * few places (allocation, COW, refcount updates), flushed, read again and
 * closed. Seeds are images qemu-img makes at build time.
 */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/block.h"
#include "dm/config.h"
#include "dm/log.h"
#include "fuzz/fuzz.h"
#include "tests/harness.h"

#define FZ_SPAN     (1u << 20)
#define FZ_PIECE    (64u * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    struct t_machine *t;
    char *dir, *img;
    uint8_t *buf;
} q;

static void
done_cb(void *opaque, long ret)
{
    *(long *)opaque = ret;
}

static void
io(struct blk *b, bool write, uint64_t off, size_t len)
{
    struct iovec v = { q.buf, len };
    long ret = 0;

    if (write) {
        memset(q.buf, (int)(off >> 9), len);
        blk_pwritev(b, off, &v, 1, done_cb, &ret);
    } else {
        blk_preadv(b, off, &v, 1, done_cb, &ret);
    }
    blk_drain(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dm_drive_cfg cfg = { .file = q.img, .format = "qcow2" };
    char err[512];
    struct blk *b;
    long ret = 0;

    int fd = open(q.img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    /* No g_file_set_contents: it fsyncs, and this runs per input. */
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        t_fail(__FILE__, __LINE__, "cannot write %s", q.img);
    }
    close(fd);
    b = blk_open(q.t->dm, &cfg, err, sizeof(err));
    if (!b) {
        return 0;
    }
    for (uint64_t off = 0; off < MIN(blk_size(b), FZ_SPAN); off += FZ_PIECE) {
        io(b, false, off, FZ_PIECE);
    }
    io(b, true, 0, 4096);
    io(b, true, 70000 & ~511u, 1536);
    io(b, true, blk_size(b) > 8192 ? blk_size(b) - 8192 : 0, 8192);
    blk_flush(b, done_cb, &ret);
    blk_drain(b);
    io(b, false, 0, FZ_PIECE);
    blk_close(b);
    return 0;
}

static void
qcow2_workdir(void)
{
    static const char base[4096] = "a raw backing file";
    char *path;

    q.dir = g_build_filename(g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
                             ? "/dev/shm" : g_get_tmp_dir(),
                             "hvmdm-fuzz-qcow2-XXXXXX", NULL);
    if (!g_mkdtemp(q.dir)) {
        t_fail(__FILE__, __LINE__, "mkdtemp");
    }
    q.img = g_build_filename(q.dir, "img.qcow2", NULL);
    path = g_build_filename(q.dir, "base.raw", NULL);
    g_file_set_contents(path, base, sizeof(base), NULL);
    g_free(path);
}

static void
qcow2_cleanup(void)
{
    g_autofree char *base = g_build_filename(q.dir, "base.raw", NULL);

    g_remove(q.img);
    g_remove(base);
    g_rmdir(q.dir);
}

/* Replace the first "%s" of cmd (freed) with s. */
static char *
qcow2_subst(char *cmd, const char *s)
{
    char *at = strstr(cmd, "%s"), *out;

    if (!at) {
        return cmd;
    }
    *at = 0;
    out = g_strconcat(cmd, s, at + 2, NULL);
    g_free(cmd);
    return out;
}

/* Small images (512-byte and 4 KiB clusters) of every kind qemu-img
 * writes: v2, v3, data, zero runs, compressed, backing, refcount widths. */
static void
qcow2_seeds(void)
{
    static const char *const cmds[] = {
        "qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=512 %s 1M",
        "qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=1 "
        "%s 1M",
        "qemu-img create -q -f qcow2 -o cluster_size=4096,refcount_bits=64 "
        "%s 2M",
        "qemu-img convert -q -f raw -O qcow2 -o cluster_size=512 %s %s",
        "qemu-img convert -q -c -f raw -O qcow2 -o cluster_size=4096 %s %s",
        "qemu-img create -q -f qcow2 -o cluster_size=512 -b base.raw -F raw "
        "%s 1M",
        "qemu-img create -q -f qcow2 -o cluster_size=512,lazy_refcounts=on "
        "%s 1M",
    };
    g_autofree char *src = g_strdup_printf("%s.src", q.img);
    uint8_t pat[16384];

    for (size_t i = 0; i < sizeof(pat); i++) {
        pat[i] = (uint8_t)(i % 4096 < 2048 ? i * 7 : 0);
    }
    g_file_set_contents(src, (char *)pat, sizeof(pat), NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        g_autofree char *cmd = NULL, *img = NULL;
        gint status = -1;
        gsize len = 0;

        g_remove(q.img);
        cmd = g_strdup(cmds[i]);
        if (strstr(strstr(cmd, "%s") + 2, "%s")) {
            cmd = qcow2_subst(cmd, src);        /* convert SRC IMG */
        }
        cmd = qcow2_subst(cmd, q.img);
        if (!g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL) ||
            status != 0) {
            fprintf(stderr, "fuzz: qcow2 seed: '%s' failed (qemu-utils)\n",
                    cmd);
            continue;
        }
        if (g_file_get_contents(q.img, (char **)&img, &len, NULL)) {
            fuzz_seed("qcow2", img, len);
        }
    }
    g_remove(src);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct t_opts o = { .no_board = true };

    (void)argc;
    (void)argv;
    fuzz_quiet();
    qcow2_workdir();
    atexit(qcow2_cleanup);
    if (fuzz_make_seeds(qcow2_seeds)) {
        exit(0);
    }
    q.t = t_machine_new(&o);
    q.buf = g_malloc(FZ_PIECE);
    return 0;
}
