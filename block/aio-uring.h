/*
 * The io_uring backend of block/aio.c, built only when configure found
 * liburing (CONFIG_LIBURING); aio.c calls it under if (CONFIG_LIBURING).
 * Internal to block/.
 */
#ifndef BLOCK_AIO_URING_H
#define BLOCK_AIO_URING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/aio.h"      /* blk_aio_cb, blk_aio_job */

enum blk_aio_op { BLK_AIO_READ, BLK_AIO_WRITE, BLK_AIO_FSYNC, BLK_AIO_JOB,
                  BLK_AIO_NOP };

/* One request: its own copy of the iovec, advanced on short transfers. */
struct blk_aio_req {
    struct blk_aio *a;
    enum blk_aio_op op;
    int fd;
    unsigned int flags;         /* BLK_AIO_DSYNC */
    uint64_t offset;            /* of the part not yet transferred */
    struct iovec *iov;
    int iovcnt;
    size_t done;                /* bytes transferred so far */
    size_t total;
    blk_aio_job *job;
    void *arg;
    long ret;
    blk_aio_cb *cb;
    void *opaque;
    struct blk_aio_req *next;   /* completion list */
};

struct blk_aio_uring;

/* NULL when the kernel refuses a ring (old kernel, seccomp, limits). */
struct blk_aio_uring *blk_aio_uring_new(int efd, unsigned int depth);
void blk_aio_uring_free(struct blk_aio_uring *u);
/* Queue r on the ring; false when the ring is full (use the pool). */
bool blk_aio_uring_submit(struct blk_aio_uring *u, struct blk_aio_req *r);
/* Hand every finished request to done(r, res); returns how many. */
unsigned int blk_aio_uring_reap(struct blk_aio_uring *u,
                                void (*done)(struct blk_aio_req *r,
                                             int res));

#endif
