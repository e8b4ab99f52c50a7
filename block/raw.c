/*
 * Raw images: regular files and block devices, byte for byte. The size is
 * the file's length (fstat) or the device's (BLKGETSIZE64). Aligned
 * requests go straight to the engine from the caller's iovec; unaligned
 * ones under O_DIRECT take the bounce path in block.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "block/blk-int.h"  /* struct blk, blk_file_* */

static int
raw_open(struct blk *b, char *err, size_t errlen)
{
    int64_t len = blk_file_length(b);

    if (len < 0) {
        snprintf(err, errlen, "'%s': cannot find its size: %s", b->filename,
                 strerror((int)-len));
        return (int)len;
    }
    b->size = (uint64_t)len;
    return 0;
}

static long
raw_sync_rw(struct blk *b, bool write, uint64_t offset,
            const struct iovec *iov, int iovcnt)
{
    if (write) {
        return blk_file_pwritev(b, offset, iov, iovcnt);
    }
    return blk_file_preadv(b, offset, iov, iovcnt);
}

const struct blk_driver blk_raw_driver = {
    .format = "raw",
    .open = raw_open,
    .sync_rw = raw_sync_rw,
    .direct_ok = blk_file_aligned,
};
