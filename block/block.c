/*
 * The generic block layer: opens an image with the format the toolstack
 * named (never probed), applies the cache mode, enforces read-only,
 * accounts requests and hands them to the asynchronous engine
 * (block/aio.c), either straight (raw, aligned) or as a synchronous job
 * on a worker thread (qcow2, O_DIRECT bounce buffers).
 *
 * cache= as libxl passes it (xen-dm-interface.md 3.2, -drive):
 *   writeback     page cache; a flush is fdatasync()
 *   writethrough  O_DSYNC: every write is durable when it completes
 *   none          O_DIRECT; requests not aligned to the device's logical
 *                 block size go through an aligned bounce buffer; flush
 *                 is still fdatasync() (the disk's own cache)
 *   unsafe        page cache, flush is a no-op
 * With the guest's write cache off (blk_set_write_cache) every write is
 * made durable before it completes (RWF_DSYNC or fdatasync), except under
 * cache=unsafe, which promises nothing.
 */
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <linux/fs.h>       /* BLKGETSIZE64, BLKSSZGET */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/magic.h>    /* PROC_SUPER_MAGIC, SYSFS_MAGIC */
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "block/aio.h"      /* blk_aio_* */
#include "block/blk-int.h"  /* struct blk, struct blk_driver */
#include "dm/config.h"      /* struct dm_drive_cfg */
#include "dm/log.h"         /* dm_log_ratelimited */
#include "dm/machine.h"     /* dm->cfg (the -block-backing policy) */

#define BLK_SECTOR_SIZE     512
/* O_DIRECT alignment when the kernel cannot tell us (statx DIOALIGN). */
#define BLK_DEFAULT_ALIGN   4096

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH };

struct blk_req {
    struct blk *b;
    enum blk_op op;
    uint64_t offset;
    struct iovec *iov;          /* our copy of the caller's array */
    int iovcnt;
    size_t len;
    unsigned int flags;         /* BLK_AIO_DSYNC */
    bool direct;                /* straight to the engine */
    bool exclusive;             /* O_DIRECT read-modify-write */
    bool started;
    blk_cb *cb;
    void *opaque;
    struct blk_req *next;
};

static const struct blk_driver *const blk_drivers[] = {
    &blk_raw_driver,
    &blk_qcow2_driver,
};

/* ---- iovec helpers ---- */

/* Copy len bytes between the iovec from byte skip and buf. */
static void
iov_copy(const struct iovec *iov, int iovcnt, size_t skip, uint8_t *buf,
         size_t len, bool to_iov)
{
    size_t done = 0;
    int i;

    for (i = 0; i < iovcnt && done < len; i++) {
        size_t n;

        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        n = MIN(iov[i].iov_len - skip, len - done);
        if (to_iov) {
            memcpy((uint8_t *)iov[i].iov_base + skip, buf + done, n);
        } else {
            memcpy(buf + done, (uint8_t *)iov[i].iov_base + skip, n);
        }
        done += n;
        skip = 0;
    }
}

void
blk_iov_to_buf_at(const struct iovec *iov, int iovcnt, size_t skip,
                  void *buf, size_t len)
{
    iov_copy(iov, iovcnt, skip, buf, len, false);
}

void
blk_iov_from_buf_at(const struct iovec *iov, int iovcnt, size_t skip,
                    const void *buf, size_t len)
{
    iov_copy(iov, iovcnt, skip, (uint8_t *)buf, len, true);
}

void
blk_iov_to_buf(const struct iovec *iov, int iovcnt, void *buf, size_t len)
{
    iov_copy(iov, iovcnt, 0, buf, len, false);
}

void
blk_iov_from_buf(const struct iovec *iov, int iovcnt, const void *buf,
                 size_t len)
{
    iov_copy(iov, iovcnt, 0, (uint8_t *)buf, len, true);
}

/* ---- synchronous file I/O (worker threads) ---- */

bool
blk_file_aligned(const struct blk *b, uint64_t offset,
                 const struct iovec *iov, int iovcnt)
{
    int i;

    if (b->align <= 1) {
        return true;
    }
    if (offset % b->align) {
        return false;
    }
    for (i = 0; i < iovcnt; i++) {
        if ((uintptr_t)iov[i].iov_base % b->mem_align ||
            iov[i].iov_len % b->align) {
            return false;
        }
    }
    return true;
}

static void *
bounce_alloc(const struct blk *b, size_t len)
{
    void *p = NULL;

    if (posix_memalign(&p, MAX(b->mem_align, b->align), len)) {
        return NULL;
    }
    return p;
}

static long
file_read_flat(const struct blk *b, uint64_t offset, void *buf, size_t len)
{
    struct iovec v = { .iov_base = buf, .iov_len = len };

    return blk_aio_sync_preadv(b->fd, offset, &v, 1);
}

/* Unaligned read under O_DIRECT: read the covering aligned range of
 * len bytes at offset into iov from byte skip. */
static long
bounce_read_one(const struct blk *b, uint8_t *buf, uint64_t offset,
                const struct iovec *iov, int iovcnt, size_t skip, size_t len)
{
    uint64_t lo = offset - offset % b->align;
    uint64_t hi = (offset + len + b->align - 1) / b->align * b->align;
    long ret = file_read_flat(b, lo, buf, hi - lo);

    if (ret >= 0) {
        blk_iov_from_buf_at(iov, iovcnt, skip, buf + (offset - lo), len);
    }
    return ret;
}

/* Unaligned write under O_DIRECT: read-modify-write of the edge blocks.
 * Callers serialise (exclusive requests, the qcow2 lock). */
static long
bounce_write_one(const struct blk *b, uint8_t *buf, uint64_t offset,
                 const struct iovec *iov, int iovcnt, size_t skip, size_t len)
{
    uint64_t lo = offset - offset % b->align;
    uint64_t hi = (offset + len + b->align - 1) / b->align * b->align;
    struct iovec v;
    long ret = 0;

    if (offset != lo) {
        ret = file_read_flat(b, lo, buf, b->align);
    }
    if (ret >= 0 && (offset + len) % b->align &&
        (offset == lo || hi - b->align != lo)) {
        ret = file_read_flat(b, hi - b->align, buf + (hi - b->align - lo),
                             b->align);
    }
    if (ret >= 0) {
        blk_iov_to_buf_at(iov, iovcnt, skip, buf + (offset - lo), len);
        v.iov_base = buf;
        v.iov_len = hi - lo;
        ret = blk_aio_sync_pwritev(b->fd, lo, &v, 1, 0);
    }
    return ret;
}

/* Through one bounce buffer of BLK_REQ_CHUNK plus the edge blocks, piece
 * by piece: a request never allocates more than that (issue 14). */
static long
bounce_rw(const struct blk *b, bool write, uint64_t offset,
          const struct iovec *iov, int iovcnt, size_t len)
{
    uint8_t *buf = bounce_alloc(b, MIN(len, BLK_REQ_CHUNK) +
                                   2 * (size_t)b->align);
    size_t done = 0;
    long ret = 0;

    if (!buf) {
        return -ENOMEM;
    }
    while (done < len && ret >= 0) {
        size_t n = MIN(len - done, BLK_REQ_CHUNK);

        ret = write ? bounce_write_one(b, buf, offset + done, iov, iovcnt,
                                       done, n)
                    : bounce_read_one(b, buf, offset + done, iov, iovcnt,
                                      done, n);
        done += n;
    }
    free(buf);
    return ret < 0 ? ret : (long)len;
}

long
blk_file_preadv(const struct blk *b, uint64_t offset,
                const struct iovec *iov, int iovcnt)
{
    if (blk_file_aligned(b, offset, iov, iovcnt)) {
        return blk_aio_sync_preadv(b->fd, offset, iov, iovcnt);
    }
    return bounce_rw(b, false, offset, iov, iovcnt,
                     blk_aio_iov_len(iov, iovcnt));
}

long
blk_file_pwritev(const struct blk *b, uint64_t offset,
                 const struct iovec *iov, int iovcnt)
{
    if (b->read_only) {
        return -EROFS;
    }
    if (blk_file_aligned(b, offset, iov, iovcnt)) {
        return blk_aio_sync_pwritev(b->fd, offset, iov, iovcnt, 0);
    }
    return bounce_rw(b, true, offset, iov, iovcnt,
                     blk_aio_iov_len(iov, iovcnt));
}

long
blk_file_pread(const struct blk *b, uint64_t offset, void *buf, size_t len)
{
    struct iovec v = { .iov_base = buf, .iov_len = len };

    return blk_file_preadv(b, offset, &v, 1);
}

long
blk_file_pwrite(const struct blk *b, uint64_t offset, const void *buf,
                size_t len)
{
    struct iovec v = { .iov_base = (void *)buf, .iov_len = len };

    return blk_file_pwritev(b, offset, &v, 1);
}

int
blk_file_barrier(const struct blk *b)
{
    if (b->cache == DM_CACHE_UNSAFE || b->cache == DM_CACHE_WRITETHROUGH) {
        return 0;
    }
    return fdatasync(b->fd) < 0 ? -errno : 0;
}

int64_t
blk_file_length(const struct blk *b)
{
    struct stat st;
    uint64_t bytes;

    if (fstat(b->fd, &st) < 0) {
        return -errno;
    }
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0) {
            return -errno;
        }
        return (int64_t)MIN(bytes, (uint64_t)INT64_MAX);
    }
    return st.st_size;
}

long
blk_sync_pread(struct blk *b, uint64_t offset, void *buf, size_t len)
{
    size_t n = offset >= b->size ? 0 : (size_t)MIN(len, b->size - offset);
    struct iovec v = { .iov_base = buf, .iov_len = n };
    long ret = 0;

    memset((uint8_t *)buf + n, 0, len - n);
    if (n) {
        ret = b->drv->sync_rw(b, false, offset, &v, 1);
    }
    return ret < 0 ? ret : (long)len;
}

/* ---- requests ---- */

static void req_start(struct blk_req *req);

static void
req_account(struct blk *b, const struct blk_req *req, long ret)
{
    static const char *const names[] = { "read", "write", "flush" };
    struct blk_stats *s = &b->stats;

    switch (req->op) {
    case BLK_OP_READ:
        s->rd_ops++;
        s->rd_bytes += ret > 0 ? (uint64_t)ret : 0;
        break;
    case BLK_OP_WRITE:
        s->wr_ops++;
        s->wr_bytes += ret > 0 ? (uint64_t)ret : 0;
        break;
    default:
        s->flush_ops++;
        break;
    }
    if (ret < 0) {
        static struct dm_ratelimit rl;

        s->errors++;
        dm_log_ratelimited(&rl, DM_LOG_WARN, "block: %s: %s of %zu bytes "
                           "at %" PRIu64 ": %s", b->filename,
                           names[req->op], req->len, req->offset,
                           g_strerror((int)-ret));
    }
}

/* Start held-back requests once nothing exclusive is in the way. */
static void
req_pump(struct blk *b)
{
    while (b->wait_head && !b->exclusive &&
           !(b->wait_head->exclusive && b->running)) {
        struct blk_req *req = b->wait_head;

        b->wait_head = req->next;
        if (!b->wait_head) {
            b->wait_tail = NULL;
        }
        req_start(req);
    }
}

static void
req_done(void *opaque, long ret)
{
    struct blk_req *req = opaque;
    struct blk *b = req->b;

    if (ret >= 0 && req->op != BLK_OP_FLUSH) {
        ret = (long)req->len;
    }
    req_account(b, req, ret);
    if (req->started) {
        b->running--;
        if (req->exclusive) {
            b->exclusive = false;
        }
        req_pump(b);
    }
    b->stats.in_flight--;
    req->cb(req->opaque, ret);
    g_free(req->iov);
    g_free(req);
}

/* Worker thread: the format driver's synchronous path. */
static long
req_job(void *arg)
{
    struct blk_req *req = arg;
    struct blk *b = req->b;
    bool write = req->op == BLK_OP_WRITE;
    long ret = b->drv->sync_rw(b, write, req->offset, req->iov,
                               req->iovcnt);

    if (write && ret >= 0 && (req->flags & BLK_AIO_DSYNC) &&
        fdatasync(b->fd) < 0) {
        ret = -errno;
    }
    return ret;
}

static void
req_start(struct blk_req *req)
{
    struct blk *b = req->b;

    req->started = true;
    b->running++;
    if (req->exclusive) {
        b->exclusive = true;
    }
    if (req->op == BLK_OP_FLUSH) {
        blk_aio_fdatasync(b->aio, b->fd, req_done, req);
    } else if (!req->direct) {
        blk_aio_call(b->aio, req_job, req, req_done, req);
    } else if (req->op == BLK_OP_READ) {
        blk_aio_preadv(b->aio, b->fd, req->offset, req->iov, req->iovcnt,
                       req_done, req);
    } else {
        blk_aio_pwritev(b->aio, b->fd, req->offset, req->iov, req->iovcnt,
                        req->flags, req_done, req);
    }
}

static void
req_submit(struct blk_req *req)
{
    struct blk *b = req->b;

    b->stats.in_flight++;
    if (b->wait_head || b->exclusive || (req->exclusive && b->running)) {
        req->next = NULL;
        if (b->wait_tail) {
            b->wait_tail->next = req;
        } else {
            b->wait_head = req;
        }
        b->wait_tail = req;
        return;
    }
    req_start(req);
}

/* Fail or finish a request from the loop, never inside the caller. */
static void
req_complete_later(struct blk_req *req, long ret)
{
    req->b->stats.in_flight++;
    blk_aio_complete_later(req->b->aio, ret, req_done, req);
}

static struct blk_req *
req_new(struct blk *b, enum blk_op op, uint64_t offset,
        const struct iovec *iov, int iovcnt, blk_cb *cb, void *opaque)
{
    struct blk_req *req = g_new0(struct blk_req, 1);

    req->b = b;
    req->op = op;
    req->offset = offset;
    req->iov = iovcnt ? g_memdup2(iov, sizeof(*iov) * (size_t)iovcnt) : NULL;
    req->iovcnt = iovcnt;
    req->len = blk_aio_iov_len(iov, iovcnt);
    req->cb = cb;
    req->opaque = opaque;
    return req;
}

/* Requests may reach the image size rounded up to a sector; the tail of
 * a raw file that is not a whole number of sectors reads as zeros. */
static bool
req_in_range(const struct blk *b, const struct blk_req *req)
{
    uint64_t limit = (b->size + BLK_SECTOR_SIZE - 1) /
                     BLK_SECTOR_SIZE * BLK_SECTOR_SIZE;

    return req->offset <= limit && req->len <= limit - req->offset;
}

static int
blk_rw(struct blk *b, enum blk_op op, uint64_t offset,
       const struct iovec *iov, int iovcnt, blk_cb *cb, void *opaque)
{
    struct blk_req *req;

    if (iovcnt < 0 || iovcnt > IOV_MAX || !cb) {
        return -EINVAL;
    }
    req = req_new(b, op, offset, iov, iovcnt, cb, opaque);
    if (op == BLK_OP_WRITE && b->read_only) {
        req_complete_later(req, -EROFS);
        return 0;
    }
    if (!req_in_range(b, req)) {
        req_complete_later(req, -EINVAL);
        return 0;
    }
    if (op == BLK_OP_WRITE && !b->write_cache &&
        b->cache != DM_CACHE_UNSAFE && b->cache != DM_CACHE_WRITETHROUGH) {
        req->flags |= BLK_AIO_DSYNC;
    }
    if (b->cache == DM_CACHE_WRITEBACK || b->cache == DM_CACHE_UNSAFE) {
        req->flags |= BLK_AIO_BUFFERED;         /* no O_DIRECT, no O_DSYNC */
    }
    req->direct = b->drv->direct_ok &&
                  b->drv->direct_ok(b, offset, req->iov, iovcnt);
    req->exclusive = op == BLK_OP_WRITE && !req->direct && b->align > 1 &&
                     b->drv->direct_ok;
    req_submit(req);
    return 0;
}

int
blk_preadv(struct blk *b, uint64_t offset, const struct iovec *iov,
           int iovcnt, blk_cb *cb, void *opaque)
{
    return blk_rw(b, BLK_OP_READ, offset, iov, iovcnt, cb, opaque);
}

int
blk_pwritev(struct blk *b, uint64_t offset, const struct iovec *iov,
            int iovcnt, blk_cb *cb, void *opaque)
{
    return blk_rw(b, BLK_OP_WRITE, offset, iov, iovcnt, cb, opaque);
}

int
blk_flush(struct blk *b, blk_cb *cb, void *opaque)
{
    struct blk_req *req;

    if (!cb) {
        return -EINVAL;
    }
    req = req_new(b, BLK_OP_FLUSH, 0, NULL, 0, cb, opaque);
    if (b->read_only || b->cache == DM_CACHE_UNSAFE) {
        req_complete_later(req, 0);
        return 0;
    }
    req_submit(req);
    return 0;
}

void
blk_drain(struct blk *b)
{
    if (b->aio) {
        blk_aio_drain(b->aio);
    }
}

/* ---- open and close ---- */

static const struct blk_driver *
blk_find_driver(const char *format)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(blk_drivers); i++) {
        if (!strcmp(blk_drivers[i]->format, format)) {
            return blk_drivers[i];
        }
    }
    return NULL;
}

/* The O_DIRECT alignment of fd: logical block size, or statx's DIOALIGN. */
static void
blk_find_align(struct blk *b)
{
    struct statx stx;
    struct stat st;
    int lbs;

    b->align = BLK_DEFAULT_ALIGN;
    b->mem_align = BLK_DEFAULT_ALIGN;
    if (fstat(b->fd, &st) == 0 && S_ISBLK(st.st_mode) &&
        ioctl(b->fd, BLKSSZGET, &lbs) == 0 && lbs > 0) {
        b->align = (unsigned int)lbs;
        b->mem_align = (unsigned int)lbs;
        return;
    }
    if (statx(b->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align &&
        stx.stx_dio_mem_align) {
        b->align = stx.stx_dio_offset_align;
        b->mem_align = stx.stx_dio_mem_align;
    }
}

/*
 * What a file may be (issue 14): a drive is a regular file or a block
 * device the toolstack named; a backing file, named by an image, only a
 * regular file outside /proc and /sys. FIFOs, sockets, character devices
 * and directories are refused before open() could block or act on them.
 */
static int
blk_check_type(const struct blk *b, const struct stat *st, char *err,
               size_t errlen)
{
    if (S_ISREG(st->st_mode) || (S_ISBLK(st->st_mode) && !b->parent)) {
        return 0;
    }
    if (b->parent) {
        snprintf(err, errlen, "'%s': backing file '%s' is not a regular "
                 "file; refused", b->parent->filename, b->filename);
    } else {
        snprintf(err, errlen, "'%s' is not a regular file or a block "
                 "device (a FIFO, socket, character device or directory)",
                 b->filename);
    }
    return -EINVAL;
}

/* A backing file may not be the drive or any image between them. */
static int
blk_check_chain(const struct blk *b, const struct stat *st, char *err,
                size_t errlen)
{
    struct statfs sfs;
    const struct blk *p;

    for (p = b->parent; p; p = p->parent) {
        if (p->dev == (uint64_t)st->st_dev && p->ino == (uint64_t)st->st_ino) {
            snprintf(err, errlen, "'%s': backing chain loops back to '%s'",
                     b->parent->filename, p->filename);
            return -ELOOP;
        }
    }
    if (b->parent && fstatfs(b->fd, &sfs) == 0 &&
        (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC)) {
        snprintf(err, errlen, "'%s': backing file '%s' is in /proc or /sys; "
                 "refused", b->parent->filename, b->filename);
        return -EINVAL;
    }
    return 0;
}

/* open() that cannot block (O_NONBLOCK), then blocking I/O again (the
 * engines expect it), with the checks above on what was opened. */
static int
blk_open_checked(struct blk *b, int flags, char *err, size_t errlen)
{
    struct stat st, st2;
    int rc;

    if (stat(b->filename, &st) < 0) {
        return -errno;
    }
    if ((rc = blk_check_type(b, &st, err, errlen)) < 0) {
        return rc;
    }
    b->fd = open(b->filename, flags | O_NONBLOCK | O_NOCTTY);
    if (b->fd < 0) {
        return -errno;
    }
    if (fstat(b->fd, &st2) < 0 || st2.st_dev != st.st_dev ||
        st2.st_ino != st.st_ino ||
        (rc = blk_check_type(b, &st2, err, errlen)) < 0 ||
        (rc = blk_check_chain(b, &st2, err, errlen)) < 0 ||
        fcntl(b->fd, F_SETFL, flags & ~O_ACCMODE) < 0) {
        if (!*err) {
            snprintf(err, errlen, "'%s' changed while it was opened",
                     b->filename);
        }
        close(b->fd);
        b->fd = -1;
        return rc < 0 ? rc : -EINVAL;
    }
    b->dev = (uint64_t)st2.st_dev;
    b->ino = (uint64_t)st2.st_ino;
    return 0;
}

static int
blk_open_fd(struct blk *b, char *err, size_t errlen)
{
    int flags = (b->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    int rc;

    if (b->cache == DM_CACHE_WRITETHROUGH) {
        flags |= O_DSYNC;
    }
    if (b->cache == DM_CACHE_NONE) {
        flags |= O_DIRECT;
    }
    *err = 0;
    rc = blk_open_checked(b, flags, err, errlen);
    if (rc == 0) {
        if (b->cache == DM_CACHE_NONE) {
            blk_find_align(b);
        }
        return 0;
    }
    if (*err) {
        return rc;
    }
    errno = -rc;
    if (errno == EINVAL && b->cache == DM_CACHE_NONE) {
        snprintf(err, errlen, "cannot open '%s' with O_DIRECT (cache=none): "
                 "the filesystem does not support it; use cache=writeback",
                 b->filename);
    } else if ((errno == EACCES || errno == EROFS) && !b->read_only) {
        snprintf(err, errlen, "cannot open '%s' for writing: %s (give the "
                 "drive readonly=on or fix the permissions)", b->filename,
                 g_strerror(errno));
    } else {
        snprintf(err, errlen, "cannot open '%s': %s", b->filename,
                 g_strerror(errno));
    }
    return -errno;
}

static struct blk *
blk_open_internal(struct dm *dm, const char *file, const char *format,
                  enum dm_drive_cache cache, bool read_only,
                  struct blk *parent, char *err, size_t errlen)
{
    struct blk *b = g_new0(struct blk, 1);

    b->dm = dm;
    b->parent = parent;
    b->drv = blk_find_driver(format);
    b->filename = g_strdup(file);
    b->cache = cache;
    b->read_only = read_only;
    b->write_cache = true;
    b->depth = parent ? parent->depth + 1 : 0;
    b->align = 1;
    b->mem_align = 1;
    b->fd = -1;
    if (!b->drv) {
        snprintf(err, errlen, "'%s': unsupported image format '%s' "
                 "(supported: format=raw, format=qcow2)", file, format);
        goto fail;
    }
    if (blk_open_fd(b, err, errlen) < 0) {
        goto fail;
    }
    if (b->drv->open(b, err, errlen) < 0) {
        goto fail_close;
    }
    return b;

fail_close:
    close(b->fd);
fail:
    g_free(b->filename);
    g_free(b);
    return NULL;
}

struct blk *
blk_open(struct dm *dm, const struct dm_drive_cfg *cfg, char *err,
         size_t errlen)
{
    const char *format = cfg->format ? cfg->format : "raw";
    struct blk *b;

    if (!cfg->file || !cfg->file[0]) {
        snprintf(err, errlen, "drive has no file= to open");
        return NULL;
    }
    b = blk_open_internal(dm, cfg->file, format, cfg->cache, cfg->readonly,
                          NULL, err, errlen);
    if (!b) {
        return NULL;
    }
    b->aio = blk_aio_new(dm, true, err, errlen);
    if (!b->aio) {
        blk_close(b);
        return NULL;
    }
    return b;
}

struct blk *
blk_open_backing(struct blk *b, const char *name, const char *format,
                 char *err, size_t errlen)
{
    char *dir, *path;
    struct blk *bb;

    if (b->depth + 1 >= BLK_MAX_BACKING_DEPTH) {
        snprintf(err, errlen, "'%s': backing chain deeper than %u images "
                 "(a loop?)", b->filename, BLK_MAX_BACKING_DEPTH);
        return NULL;
    }
    if (g_path_is_absolute(name)) {
        path = g_strdup(name);
    } else {
        dir = g_path_get_dirname(b->filename);
        path = g_build_filename(dir, name, NULL);
        g_free(dir);
    }
    bb = blk_open_internal(b->dm, path, format, b->cache, true, b, err,
                           errlen);
    g_free(path);
    return bb;
}

int
blk_chain_charge(struct blk *b, uint64_t bytes)
{
    struct blk *root = b;

    while (root->parent) {
        root = root->parent;
    }
    if (bytes > BLK_CHAIN_MEM_MAX - root->chain_mem) {
        return -ENOMEM;
    }
    root->chain_mem += bytes;
    return 0;
}

enum dm_backing_policy
blk_backing_policy(const struct blk *b)
{
    return b->dm && b->dm->cfg ? b->dm->cfg->backing : DM_BACKING_NAMED;
}

/* Drain, then make what the guest wrote durable even if it never flushed
 * (a clean exit on SIGHUP/SIGTERM, an eject, an unplug). */
void
blk_close(struct blk *b)
{
    int rc;

    if (!b) {
        return;
    }
    blk_drain(b);
    if (!b->read_only && (rc = blk_file_barrier(b)) < 0) {
        DM_WARN("block: %s: flush on close: %s", b->filename,
                g_strerror(-rc));
    }
    blk_aio_free(b->aio);
    if (b->drv->close) {
        b->drv->close(b);
    }
    close(b->fd);
    g_free(b->filename);
    g_free(b);
}

/* ---- properties ---- */

uint64_t
blk_size(const struct blk *b)
{
    return b->size;
}

bool
blk_read_only(const struct blk *b)
{
    return b->read_only;
}

const char *
blk_filename(const struct blk *b)
{
    return b->filename;
}

const char *
blk_format(const struct blk *b)
{
    return b->drv->format;
}

void
blk_set_write_cache(struct blk *b, bool enabled)
{
    b->write_cache = enabled;
}

bool
blk_write_cache(const struct blk *b)
{
    return b->write_cache;
}

const struct blk_stats *
blk_stats(const struct blk *b)
{
    return &b->stats;
}
