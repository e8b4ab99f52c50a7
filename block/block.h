/*
 * The block layer: a disk or CD image opened with the format and cache mode
 * the toolstack gave (never probed), served asynchronously. Requests are
 * byte-addressed and vectored; completions run on the dm loop thread
 * (dm_post), never inside the submitting call. Read-only images refuse
 * writes on every path with -EROFS.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct dm;
struct dm_drive_cfg;
struct blk;

/* ret: bytes transferred (>= 0) or -errno. */
typedef void blk_cb(void *opaque, long ret);

struct blk_stats {
    uint64_t rd_ops, wr_ops, flush_ops;
    uint64_t rd_bytes, wr_bytes;
    uint64_t errors;
    unsigned int in_flight;
};

/* Open cfg->file per cfg->format/cache/readonly; NULL + message on error. */
struct blk *blk_open(struct dm *dm, const struct dm_drive_cfg *cfg,
                     char *err, size_t errlen);
void blk_close(struct blk *b);          /* drains first */

uint64_t blk_size(const struct blk *b); /* bytes */
bool blk_read_only(const struct blk *b);
const char *blk_filename(const struct blk *b);
const char *blk_format(const struct blk *b);

int blk_preadv(struct blk *b, uint64_t offset, const struct iovec *iov,
               int iovcnt, blk_cb *cb, void *opaque);
int blk_pwritev(struct blk *b, uint64_t offset, const struct iovec *iov,
                int iovcnt, blk_cb *cb, void *opaque);
/* Completes once everything written before it is on stable storage. */
int blk_flush(struct blk *b, blk_cb *cb, void *opaque);
/* Guest-visible write cache (ATA SET FEATURES 02h/82h): off makes every
 * write durable before it completes. */
void blk_set_write_cache(struct blk *b, bool enabled);
bool blk_write_cache(const struct blk *b);
/* Wait for every request in flight and run their completions. */
void blk_drain(struct blk *b);

const struct blk_stats *blk_stats(const struct blk *b);

#endif
