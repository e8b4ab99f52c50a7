/*
 * Inside the block layer: the image handle, the format driver interface
 * and the synchronous file helpers drivers use from worker threads.
 * Nothing outside block/ includes this.
 */
#ifndef BLOCK_BLK_INT_H
#define BLOCK_BLK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/block.h"
#include "dm/config.h"      /* enum dm_drive_cache */

struct blk_aio;
struct blk_req;

/* Backing chains longer than this are refused (a loop, or hostile). */
#define BLK_MAX_BACKING_DEPTH 16
/*
 * Metadata one drive's whole chain may pin (format tables and caches,
 * charged by the format driver at open): one qcow2 image at the format's
 * own limits (32 MiB L1, 8 MiB refcount table, 2 MiB clusters) fits.
 */
#define BLK_CHAIN_MEM_MAX   (96ull << 20)
/* Largest buffer one request allocates in the block layer (bounce and
 * format buffers); longer requests are streamed in pieces this size. */
#define BLK_REQ_CHUNK       (1u << 20)

struct blk_driver {
    const char *format;
    /* b->fd is open; find b->size, parse metadata. 0 or -errno + err. */
    int (*open)(struct blk *b, char *err, size_t errlen);
    void (*close)(struct blk *b);
    /*
     * Synchronous I/O on a worker thread (or for a backing read). The
     * range lies inside the image. Returns bytes or -errno.
     */
    long (*sync_rw)(struct blk *b, bool write, uint64_t offset,
                    const struct iovec *iov, int iovcnt);
    /* Optional: the request can go straight to the engine (raw). */
    bool (*direct_ok)(const struct blk *b, uint64_t offset,
                      const struct iovec *iov, int iovcnt);
};

struct blk {
    struct dm *dm;
    const struct blk_driver *drv;
    void *drv_state;
    char *filename;
    int fd;
    uint64_t size;              /* bytes the guest sees */
    bool read_only;
    enum dm_drive_cache cache;
    bool write_cache;           /* guest-visible write cache enabled */
    unsigned int depth;         /* 0: the drive, 1..: backing files */
    struct blk *parent;         /* the image this one backs, or NULL */
    uint64_t dev, ino;          /* the file, to find loops in a chain */
    uint64_t chain_mem;         /* depth 0: metadata the chain pins */
    /* O_DIRECT alignment (cache=none); 1 when there is none to honour. */
    unsigned int align;
    unsigned int mem_align;
    struct blk_aio *aio;        /* NULL for backing files (sync only) */
    struct blk_stats stats;
    /* Requests held back while an exclusive one (an O_DIRECT
     * read-modify-write) waits for or holds the image. */
    struct blk_req *wait_head;
    struct blk_req *wait_tail;
    unsigned int running;       /* dispatched to the engine */
    bool exclusive;             /* the running one is exclusive */
};

extern const struct blk_driver blk_raw_driver;
extern const struct blk_driver blk_qcow2_driver;

/*
 * Open a backing file read-only for b (format "raw" or "qcow2", relative
 * names resolved against b's directory). Synchronous access only.
 */
struct blk *blk_open_backing(struct blk *b, const char *name,
                             const char *format, char *err, size_t errlen);
/* Charge bytes of metadata to b's chain: 0, or -ENOMEM past the cap. */
int blk_chain_charge(struct blk *b, uint64_t bytes);
/* The operator's -block-backing policy (default: format must be named). */
enum dm_backing_policy blk_backing_policy(const struct blk *b);
/* Copy between part of an iovec (from byte skip) and a flat buffer. */
void blk_iov_to_buf_at(const struct iovec *iov, int iovcnt, size_t skip,
                       void *buf, size_t len);
void blk_iov_from_buf_at(const struct iovec *iov, int iovcnt, size_t skip,
                         const void *buf, size_t len);

/* Read from a (backing) image synchronously, zeros past its end. */
long blk_sync_pread(struct blk *b, uint64_t offset, void *buf, size_t len);

/* Whether a request meets the O_DIRECT alignment (always without it). */
bool blk_file_aligned(const struct blk *b, uint64_t offset,
                      const struct iovec *iov, int iovcnt);
/* File I/O honouring O_DIRECT alignment through a bounce buffer. */
long blk_file_preadv(const struct blk *b, uint64_t offset,
                     const struct iovec *iov, int iovcnt);
long blk_file_pwritev(const struct blk *b, uint64_t offset,
                      const struct iovec *iov, int iovcnt);
long blk_file_pread(const struct blk *b, uint64_t offset, void *buf,
                    size_t len);
long blk_file_pwrite(const struct blk *b, uint64_t offset, const void *buf,
                     size_t len);
/* Order earlier writes before later ones on stable storage (no-op for
 * cache=unsafe and O_DSYNC files). 0 or -errno. */
int blk_file_barrier(const struct blk *b);
/* The file's current length in bytes, or -errno. */
int64_t blk_file_length(const struct blk *b);

/* Copy between a flat buffer and an iovec. */
void blk_iov_to_buf(const struct iovec *iov, int iovcnt, void *buf,
                    size_t len);
void blk_iov_from_buf(const struct iovec *iov, int iovcnt, const void *buf,
                      size_t len);

#endif
