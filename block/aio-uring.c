/*
 * io_uring backend for block/aio.c through liburing. The ring's
 * completions signal the engine's eventfd (io_uring_register_eventfd), the
 * same one the thread pool signals, and the dm loop reaps them.
 */
#include "block/aio-uring.h"

#include <errno.h>
#include <glib.h>
#include <liburing.h>       /* io_uring_* */
#include <sys/uio.h>        /* RWF_DSYNC */

struct blk_aio_uring {
    struct io_uring ring;
    unsigned int depth;
    unsigned int busy;          /* submitted, not yet reaped */
};

struct blk_aio_uring *
blk_aio_uring_new(int efd, unsigned int depth)
{
    struct blk_aio_uring *u = g_new0(struct blk_aio_uring, 1);

    if (io_uring_queue_init(depth, &u->ring, 0) < 0) {
        g_free(u);
        return NULL;
    }
    if (io_uring_register_eventfd(&u->ring, efd) < 0) {
        io_uring_queue_exit(&u->ring);
        g_free(u);
        return NULL;
    }
    u->depth = depth;
    return u;
}

void
blk_aio_uring_free(struct blk_aio_uring *u)
{
    if (u) {
        io_uring_queue_exit(&u->ring);
        g_free(u);
    }
}

static void
uring_prep(struct io_uring_sqe *sqe, struct blk_aio_req *r)
{
    switch (r->op) {
    case BLK_AIO_READ:
        io_uring_prep_readv(sqe, r->fd, r->iov, r->iovcnt, r->offset);
        break;
    case BLK_AIO_WRITE:
        io_uring_prep_writev(sqe, r->fd, r->iov, r->iovcnt, r->offset);
        if (r->flags & BLK_AIO_DSYNC) {
            sqe->rw_flags = RWF_DSYNC;
        }
        break;
    default:
        io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
        break;
    }
    io_uring_sqe_set_data(sqe, r);
}

bool
blk_aio_uring_submit(struct blk_aio_uring *u, struct blk_aio_req *r)
{
    struct io_uring_sqe *sqe;

    if (u->busy >= u->depth) {
        return false;
    }
    sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {
        return false;
    }
    uring_prep(sqe, r);
    u->busy++;
    if (io_uring_submit(&u->ring) < 0) {
        /* The sqe cannot be taken back: neutralise it (it goes out with
         * a later submit and is skipped when reaped); r uses the pool. */
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data(sqe, NULL);
        return false;
    }
    return true;
}

unsigned int
blk_aio_uring_reap(struct blk_aio_uring *u,
                   void (*done)(struct blk_aio_req *r, int res))
{
    struct io_uring_cqe *cqe;
    unsigned int n = 0;

    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        struct blk_aio_req *r = io_uring_cqe_get_data(cqe);
        int res = cqe->res;

        io_uring_cqe_seen(&u->ring, cqe);
        u->busy--;
        if (r) {
            n++;
            done(r, res);
        }
    }
    return n;
}
