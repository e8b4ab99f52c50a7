/*
 * The block layer's asynchronous engine, one per open image. Vectored
 * reads and writes on a file descriptor go to io_uring (liburing) when
 * the build has it and the kernel accepts a ring, otherwise to a small
 * thread pool; arbitrary jobs (qcow2, bounce buffers) always run in the
 * pool. Completions are collected behind one eventfd that the dm loop
 * watches, so every callback runs on the loop thread, never inside the
 * submitting call. Internal to block/.
 */
#ifndef BLOCK_AIO_H
#define BLOCK_AIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct dm;
struct blk_aio;

/* ret: bytes transferred (>= 0) or -errno. */
typedef void blk_aio_cb(void *opaque, long ret);
/* A pool job; runs on a worker thread and returns bytes or -errno. */
typedef long blk_aio_job(void *arg);

/* Make each write durable before it completes (RWF_DSYNC). */
#define BLK_AIO_DSYNC 1u
/*
 * fd goes through the page cache (neither O_DIRECT nor O_DSYNC): a write
 * of whole pages may be done on the calling thread (see aio.c).
 */
#define BLK_AIO_BUFFERED 2u

/* use_uring false forces the thread pool (tests, or the caller's choice). */
struct blk_aio *blk_aio_new(struct dm *dm, bool use_uring, char *err,
                            size_t errlen);
void blk_aio_free(struct blk_aio *a);  /* drains first */
bool blk_aio_uses_uring(const struct blk_aio *a);

/*
 * Vectored I/O straight from the caller's buffers (the iovec array itself
 * is copied). Reads past end of file are zero-filled, short transfers are
 * continued, EINTR/EAGAIN retried.
 */
void blk_aio_preadv(struct blk_aio *a, int fd, uint64_t offset,
                    const struct iovec *iov, int iovcnt, blk_aio_cb *cb,
                    void *opaque);
void blk_aio_pwritev(struct blk_aio *a, int fd, uint64_t offset,
                     const struct iovec *iov, int iovcnt, unsigned int flags,
                     blk_aio_cb *cb, void *opaque);
void blk_aio_fdatasync(struct blk_aio *a, int fd, blk_aio_cb *cb,
                       void *opaque);
void blk_aio_call(struct blk_aio *a, blk_aio_job *job, void *arg,
                  blk_aio_cb *cb, void *opaque);
/* Complete with ret from the loop later (immediate errors, no-ops). */
void blk_aio_complete_later(struct blk_aio *a, long ret, blk_aio_cb *cb,
                            void *opaque);

/* Wait for every request and run their callbacks (loop thread only). */
void blk_aio_drain(struct blk_aio *a);
unsigned int blk_aio_in_flight(const struct blk_aio *a);
/* Writes done on the loop thread, and how many of them were slow. */
uint64_t blk_aio_inline_writes(const struct blk_aio *a);
uint64_t blk_aio_inline_slow(const struct blk_aio *a);

/* The bytes an iovec array covers. */
size_t blk_aio_iov_len(const struct iovec *iov, int iovcnt);

/* Synchronous helpers with the same semantics (worker threads). */
long blk_aio_sync_preadv(int fd, uint64_t offset, const struct iovec *iov,
                         int iovcnt);
long blk_aio_sync_pwritev(int fd, uint64_t offset, const struct iovec *iov,
                          int iovcnt, unsigned int flags);

#endif
