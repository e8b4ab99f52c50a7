/*
 * The block layer's asynchronous engine. Requests go to io_uring when it
 * is built in and the kernel gives us a ring (block/aio-uring.c), else to
 * a GThreadPool of a few workers doing preadv/pwritev. Both signal one
 * eventfd that the dm loop watches (dm_loop_watch_fd); the loop thread
 * then runs the callbacks. blk_aio_drain() polls the same eventfd, so it
 * can wait for everything without running anyone else's posted work.
 *
 * A write of whole pages through the page cache is a copy into it, which
 * the kernel does not do without blocking for io_uring on every filesystem
 * (ext4 has no non-blocking buffered write: io_uring hands each one to a
 * kernel worker, then the completion wakes the loop, two wake-ups per
 * request that a plain pwrite does not pay: bench/ide dma-write 0.45x on
 * a fresh machine). Such writes are done on the loop thread, as a plain
 * pwrite would; their completion still runs from the loop later. One that
 * blocked in the kernel for long (dirty-page throttling, the journal; not
 * a preemption, which a worker would suffer too) sends the writes to the
 * engine for a while, doubling while they stay slow, so the loop stalls at
 * most once per back-off period.
 */
#include "block/aio.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block/aio-uring.h"    /* struct blk_aio_req, blk_aio_uring_* */
#include "config.h"             /* CONFIG_LIBURING */
#include "dm/log.h"             /* DM_WARN */
#include "dm/loop.h"            /* dm_loop_watch_fd */
#include "dm/machine.h"         /* struct dm: aio_in_flight */

#define AIO_POOL_THREADS 4
#define AIO_RING_DEPTH   64
#define INLINE_ALIGN     4096u                  /* whole pages only */
#define INLINE_SLOW_US   2000                   /* a stall of the loop */
#define INLINE_BACKOFF_US      (G_USEC_PER_SEC / 10)
#define INLINE_BACKOFF_MAX_US  (10 * G_USEC_PER_SEC)

struct blk_aio {
    struct dm *dm;
    int efd;                    /* completions pending (pool and ring) */
    unsigned int watch;
    GThreadPool *pool;
    struct blk_aio_uring *uring;
    GMutex lock;                /* protects the done list */
    struct blk_aio_req *done_head;
    struct blk_aio_req *done_tail;
    unsigned int in_flight;     /* loop thread only */
    gint64 inline_resume_us;    /* no inline write before (monotonic) */
    gint64 inline_backoff_us;   /* the next back-off period */
    uint64_t inline_writes;
    uint64_t inline_slow;
};

/* ---- iovec helpers ---- */

size_t
blk_aio_iov_len(const struct iovec *iov, int iovcnt)
{
    size_t n = 0;
    int i;

    for (i = 0; i < iovcnt; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

/* Drop n bytes from the front of a private iovec copy. */
static void
iov_advance(struct iovec **iov, int *iovcnt, size_t n)
{
    while (n && *iovcnt) {
        size_t step = MIN(n, (*iov)->iov_len);

        (*iov)->iov_base = (char *)(*iov)->iov_base + step;
        (*iov)->iov_len -= step;
        n -= step;
        if ((*iov)->iov_len == 0) {
            (*iov)++;
            (*iovcnt)--;
        }
    }
    while (*iovcnt && (*iov)->iov_len == 0) {
        (*iov)++;
        (*iovcnt)--;
    }
}

static void
iov_zero(const struct iovec *iov, int iovcnt)
{
    int i;

    for (i = 0; i < iovcnt; i++) {
        memset(iov[i].iov_base, 0, iov[i].iov_len);
    }
}

/*
 * After a short read: is off the end of the file? Then the rest reads as
 * zeros. Asking again would fail under O_DIRECT on filesystems that check
 * alignment before end of file (the short count need not be aligned).
 */
static bool
at_eof(int fd, uint64_t off)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        return false;
    }
    if (S_ISBLK(st.st_mode)) {
        return true;            /* block devices stop short only at the end */
    }
    return S_ISREG(st.st_mode) && off >= (uint64_t)st.st_size;
}

/* ---- synchronous transfers (pool workers, qcow2) ---- */

static long
sync_rw(int fd, uint64_t offset, const struct iovec *iov, int iovcnt,
        bool write, unsigned int flags)
{
    struct iovec *copy = g_memdup2(iov, sizeof(*iov) * (size_t)iovcnt);
    struct iovec *cur = copy;
    size_t done = 0, total = blk_aio_iov_len(iov, iovcnt);
    long ret = 0;

    iov_advance(&cur, &iovcnt, 0);
    while (done < total) {
        ssize_t n = write
            ? pwritev2(fd, cur, MIN(iovcnt, IOV_MAX), (off_t)(offset + done),
                       (flags & BLK_AIO_DSYNC) ? RWF_DSYNC : 0)
            : preadv(fd, cur, MIN(iovcnt, IOV_MAX), (off_t)(offset + done));

        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n < 0) {
            ret = -errno;
            break;
        }
        if (n == 0 && write) {
            ret = -EIO;
            break;
        }
        done += (size_t)n;
        iov_advance(&cur, &iovcnt, (size_t)n);
        if (!write && done < total &&
            (n == 0 || at_eof(fd, offset + done))) {
            iov_zero(cur, iovcnt);      /* past end of file: zeros */
            done = total;
        }
    }
    g_free(copy);
    return ret < 0 ? ret : (long)done;
}

long
blk_aio_sync_preadv(int fd, uint64_t offset, const struct iovec *iov,
                    int iovcnt)
{
    return sync_rw(fd, offset, iov, iovcnt, false, 0);
}

long
blk_aio_sync_pwritev(int fd, uint64_t offset, const struct iovec *iov,
                     int iovcnt, unsigned int flags)
{
    return sync_rw(fd, offset, iov, iovcnt, true, flags);
}

/* ---- completion ---- */

/* Any thread: queue r for its callback and wake the loop. */
static void
aio_finish(struct blk_aio_req *r, long ret)
{
    struct blk_aio *a = r->a;
    uint64_t one = 1;

    r->ret = ret;
    r->next = NULL;
    g_mutex_lock(&a->lock);
    if (a->done_tail) {
        a->done_tail->next = r;
    } else {
        a->done_head = r;
    }
    a->done_tail = r;
    g_mutex_unlock(&a->lock);
    if (write(a->efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        DM_WARN("block: completion eventfd: %s", g_strerror(errno));
    }
}

static struct blk_aio_req *
aio_pop_done(struct blk_aio *a)
{
    struct blk_aio_req *r;

    g_mutex_lock(&a->lock);
    r = a->done_head;
    if (r) {
        a->done_head = r->next;
        if (!a->done_head) {
            a->done_tail = NULL;
        }
    }
    g_mutex_unlock(&a->lock);
    return r;
}

static void aio_dispatch(struct blk_aio_req *r);

/* Loop thread: a ring completion, possibly a short transfer to continue. */
static void
aio_ring_done(struct blk_aio_req *r, int res)
{
    if (res == -EINTR || res == -EAGAIN) {
        aio_dispatch(r);
        return;
    }
    if (res < 0 || r->op == BLK_AIO_FSYNC) {
        aio_finish(r, res);
        return;
    }
    if (res == 0 && r->op == BLK_AIO_WRITE) {
        aio_finish(r, -EIO);
        return;
    }
    r->done += (size_t)res;
    r->offset += (uint64_t)res;
    iov_advance(&r->iov, &r->iovcnt, (size_t)res);
    if (r->done < r->total && r->op == BLK_AIO_READ &&
        (res == 0 || at_eof(r->fd, r->offset))) {
        iov_zero(r->iov, r->iovcnt);    /* past end of file: zeros */
        r->done = r->total;
    }
    if (r->done < r->total) {
        aio_dispatch(r);
        return;
    }
    aio_finish(r, (long)r->total);
}

/* Run every finished request's callback; returns how many ran. */
static unsigned int
aio_process(struct blk_aio *a)
{
    struct blk_aio_req *r;
    uint64_t cnt;
    unsigned int n = 0;

    if (read(a->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN) {
        DM_WARN("block: completion eventfd: %s", g_strerror(errno));
    }
    if (CONFIG_LIBURING && a->uring) {
        blk_aio_uring_reap(a->uring, aio_ring_done);
    }
    while ((r = aio_pop_done(a))) {
        blk_aio_cb *cb = r->cb;
        void *opaque = r->opaque;
        long ret = r->ret;

        if (r->op == BLK_AIO_READ || r->op == BLK_AIO_WRITE) {
            g_free(r->arg);     /* the iovec copy */
        }
        g_free(r);
        a->in_flight--;
        a->dm->aio_in_flight--;
        n++;
        cb(opaque, ret);
    }
    return n;
}

static void
aio_fd_ready(void *opaque)
{
    aio_process(opaque);
}

/* ---- submission ---- */

static long
aio_pool_run(struct blk_aio_req *r)
{
    switch (r->op) {
    case BLK_AIO_READ:
        return sync_rw(r->fd, r->offset, r->iov, r->iovcnt, false, 0);
    case BLK_AIO_WRITE:
        return sync_rw(r->fd, r->offset, r->iov, r->iovcnt, true, r->flags);
    case BLK_AIO_FSYNC:
        return fdatasync(r->fd) < 0 ? -errno : 0;
    case BLK_AIO_JOB:
        return r->job(r->arg);
    default:
        return r->ret;
    }
}

static void
aio_worker(gpointer data, gpointer user_data)
{
    struct blk_aio_req *r = data;
    long ret = aio_pool_run(r);

    if (ret >= 0 && (r->op == BLK_AIO_READ || r->op == BLK_AIO_WRITE)) {
        ret = (long)r->total;
    }
    aio_finish(r, ret);
}

static void
aio_dispatch(struct blk_aio_req *r)
{
    struct blk_aio *a = r->a;

    if (CONFIG_LIBURING && a->uring && r->op != BLK_AIO_JOB &&
        blk_aio_uring_submit(a->uring, r)) {
        return;
    }
    g_thread_pool_push(a->pool, r, NULL);
}

static struct blk_aio_req *
aio_req_new(struct blk_aio *a, enum blk_aio_op op, blk_aio_cb *cb,
            void *opaque)
{
    struct blk_aio_req *r = g_new0(struct blk_aio_req, 1);

    r->a = a;
    r->op = op;
    r->fd = -1;
    r->cb = cb;
    r->opaque = opaque;
    a->in_flight++;
    a->dm->aio_in_flight++;
    return r;
}

/* May r be written on this thread now? Whole pages, through the cache. */
static bool
inline_ok(const struct blk_aio *a, const struct blk_aio_req *r)
{
    return r->op == BLK_AIO_WRITE && (r->flags & BLK_AIO_BUFFERED) &&
           !(r->flags & BLK_AIO_DSYNC) && r->offset % INLINE_ALIGN == 0 &&
           r->total % INLINE_ALIGN == 0 &&
           g_get_monotonic_time() >= a->inline_resume_us;
}

/* This thread's voluntary context switches: how often it blocked. */
static long
blocked_count(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_THREAD, &ru) < 0 ? 0 : ru.ru_nvcsw;
}

/* The write on this thread; its completion is queued as the engine's. */
static void
inline_write(struct blk_aio *a, struct blk_aio_req *r)
{
    long blocked = blocked_count();
    gint64 t0 = g_get_monotonic_time(), t;
    long ret = sync_rw(r->fd, r->offset, r->iov, r->iovcnt, true, 0);

    t = g_get_monotonic_time();
    a->inline_writes++;
    if (t - t0 > INLINE_SLOW_US && blocked_count() != blocked) {
        a->inline_slow++;
        a->inline_backoff_us = CLAMP(a->inline_backoff_us * 2,
                                     INLINE_BACKOFF_US,
                                     INLINE_BACKOFF_MAX_US);
        a->inline_resume_us = t + a->inline_backoff_us;
    } else {
        a->inline_backoff_us = 0;
    }
    aio_finish(r, ret);
}

static void
aio_rw(struct blk_aio *a, enum blk_aio_op op, int fd, uint64_t offset,
       const struct iovec *iov, int iovcnt, unsigned int flags,
       blk_aio_cb *cb, void *opaque)
{
    struct blk_aio_req *r = aio_req_new(a, op, cb, opaque);

    r->fd = fd;
    r->offset = offset;
    r->flags = flags;
    /* r->arg keeps the allocation; r->iov walks through it. */
    r->arg = g_memdup2(iov, sizeof(*iov) * (size_t)MAX(iovcnt, 1));
    r->iov = r->arg;
    r->iovcnt = iovcnt;
    r->total = blk_aio_iov_len(iov, iovcnt);
    iov_advance(&r->iov, &r->iovcnt, 0);
    if (r->total == 0) {
        aio_finish(r, 0);
        return;
    }
    if (inline_ok(a, r)) {
        inline_write(a, r);
        return;
    }
    aio_dispatch(r);
}

void
blk_aio_preadv(struct blk_aio *a, int fd, uint64_t offset,
               const struct iovec *iov, int iovcnt, blk_aio_cb *cb,
               void *opaque)
{
    aio_rw(a, BLK_AIO_READ, fd, offset, iov, iovcnt, 0, cb, opaque);
}

void
blk_aio_pwritev(struct blk_aio *a, int fd, uint64_t offset,
                const struct iovec *iov, int iovcnt, unsigned int flags,
                blk_aio_cb *cb, void *opaque)
{
    aio_rw(a, BLK_AIO_WRITE, fd, offset, iov, iovcnt, flags, cb, opaque);
}

void
blk_aio_fdatasync(struct blk_aio *a, int fd, blk_aio_cb *cb, void *opaque)
{
    struct blk_aio_req *r = aio_req_new(a, BLK_AIO_FSYNC, cb, opaque);

    r->fd = fd;
    aio_dispatch(r);
}

void
blk_aio_call(struct blk_aio *a, blk_aio_job *job, void *arg, blk_aio_cb *cb,
             void *opaque)
{
    struct blk_aio_req *r = aio_req_new(a, BLK_AIO_JOB, cb, opaque);

    r->job = job;
    r->arg = arg;
    aio_dispatch(r);
}

void
blk_aio_complete_later(struct blk_aio *a, long ret, blk_aio_cb *cb,
                       void *opaque)
{
    aio_finish(aio_req_new(a, BLK_AIO_NOP, cb, opaque), ret);
}

/* ---- lifecycle ---- */

void
blk_aio_drain(struct blk_aio *a)
{
    while (a->in_flight) {
        struct pollfd p = { .fd = a->efd, .events = POLLIN };

        if (aio_process(a) == 0 && a->in_flight) {
            if (poll(&p, 1, -1) < 0 && errno != EINTR) {
                DM_WARN("block: drain: poll: %s", g_strerror(errno));
            }
        }
    }
}

unsigned int
blk_aio_in_flight(const struct blk_aio *a)
{
    return a->in_flight;
}

uint64_t
blk_aio_inline_writes(const struct blk_aio *a)
{
    return a->inline_writes;
}

uint64_t
blk_aio_inline_slow(const struct blk_aio *a)
{
    return a->inline_slow;
}

bool
blk_aio_uses_uring(const struct blk_aio *a)
{
    return a->uring != NULL;
}

struct blk_aio *
blk_aio_new(struct dm *dm, bool use_uring, char *err, size_t errlen)
{
    struct blk_aio *a = g_new0(struct blk_aio, 1);
    GError *gerr = NULL;

    a->dm = dm;
    g_mutex_init(&a->lock);
    a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->efd < 0) {
        snprintf(err, errlen, "eventfd: %s", g_strerror(errno));
        goto err_free;
    }
    a->pool = g_thread_pool_new(aio_worker, a, AIO_POOL_THREADS, FALSE,
                                &gerr);
    if (!a->pool) {
        snprintf(err, errlen, "thread pool: %s", gerr->message);
        g_error_free(gerr);
        goto err_close;
    }
    if (CONFIG_LIBURING && use_uring) {
        a->uring = blk_aio_uring_new(a->efd, AIO_RING_DEPTH);
    }
    a->watch = dm_loop_watch_fd(dm, a->efd, aio_fd_ready, a);
    return a;

err_close:
    close(a->efd);
err_free:
    g_mutex_clear(&a->lock);
    g_free(a);
    return NULL;
}

void
blk_aio_free(struct blk_aio *a)
{
    if (!a) {
        return;
    }
    blk_aio_drain(a);
    g_thread_pool_free(a->pool, FALSE, TRUE);
    if (CONFIG_LIBURING) {
        blk_aio_uring_free(a->uring);
    }
    dm_loop_unwatch(a->dm, a->watch);
    close(a->efd);
    g_mutex_clear(&a->lock);
    g_free(a);
}
