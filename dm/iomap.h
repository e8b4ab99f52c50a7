/*
 * Address map for port I/O and MMIO: sorted, non-overlapping regions, each
 * with an ops table and a declared access contract. The core splits or
 * widens accesses so a device only ever sees sizes inside
 * [min_size, max_size], aligned unless it declared unaligned_ok, and never
 * crossing its end. Unclaimed reads return all-ones; unclaimed writes are
 * dropped and counted. Adding, removing or moving a region also updates the
 * ioreq server's routing (one source of truth).
 */
#ifndef DM_IOMAP_H
#define DM_IOMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/hv.h" /* enum hv_io_space */

struct iomap;

struct iomap_ops {
    /* off is relative to the region base; size within the contract. */
    uint64_t (*read)(void *opaque, uint64_t off, unsigned int size);
    void (*write)(void *opaque, uint64_t off, uint64_t val, unsigned int size);
    /*
     * Optional string forms for FIFO-like ports (IDE data, UART): count
     * elements of size bytes, all at the same offset, packed in buf.
     */
    void (*read_rep)(void *opaque, uint64_t off, unsigned int size,
                     void *buf, uint32_t count);
    void (*write_rep)(void *opaque, uint64_t off, unsigned int size,
                      const void *buf, uint32_t count);
    uint8_t min_size;   /* 1, 2, 4 or 8; 0 means 1 */
    uint8_t max_size;   /* 1, 2, 4 or 8; 0 means 8 */
    bool unaligned_ok;
};

struct iomap_region {
    const char *name;
    uint64_t base;
    uint64_t len;
    const struct iomap_ops *ops;    /* NULL for a RAM-backed region */
    void *opaque;
    uint8_t *ram;                   /* RAM-backed region: host memory */
    unsigned long *dirty;           /* one bit per 4 KiB page of ram */
    struct iomap *map;              /* non-NULL while mapped */
};

struct iomap_stats {
    uint64_t unclaimed_reads;
    uint64_t unclaimed_writes;
    uint64_t dropped_writes;        /* narrower than a region's min_size */
    uint64_t rejected;              /* bad size, zero length or wrapping */
};

struct iomap *iomap_new(struct hv *hv, enum hv_io_space space, uint64_t limit);
void iomap_free(struct iomap *map);

void iomap_region_init(struct iomap_region *r, const char *name, uint64_t len,
                       const struct iomap_ops *ops, void *opaque);
/* A RAM-backed region (VRAM): reads and writes hit ram, writes mark dirty. */
void iomap_region_init_ram(struct iomap_region *r, const char *name,
                           uint64_t len, void *ram);
void iomap_region_destroy(struct iomap_region *r);

int iomap_add(struct iomap *map, struct iomap_region *r, uint64_t base)
    __attribute__((warn_unused_result));
void iomap_del(struct iomap_region *r);
int iomap_move(struct iomap_region *r, uint64_t new_base)
    __attribute__((warn_unused_result));
static inline bool
iomap_region_mapped(const struct iomap_region *r)
{
    return r->map != NULL;
}

/* All-ones in the low size bytes (size 1..8): an unclaimed read's value. */
static inline uint64_t
iomap_size_mask(unsigned int size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

struct iomap_region *iomap_find(struct iomap *map, uint64_t addr);
uint64_t iomap_read(struct iomap *map, uint64_t addr, unsigned int size);
void iomap_write(struct iomap *map, uint64_t addr, unsigned int size,
                 uint64_t val);
/* count accesses of size bytes at the same address, packed in buf. */
void iomap_read_rep(struct iomap *map, uint64_t addr, unsigned int size,
                    void *buf, uint32_t count);
void iomap_write_rep(struct iomap *map, uint64_t addr, unsigned int size,
                     const void *buf, uint32_t count);

/*
 * Dirty tracking of a RAM region: copy the bitmap of pages written since the
 * last call into bitmap (one bit per page, bitmap sized for the region) and
 * clear it. Returns the number of dirty pages.
 */
size_t iomap_ram_sync_dirty(struct iomap_region *r, unsigned long *bitmap);
void iomap_ram_mark_dirty(struct iomap_region *r, uint64_t off, uint64_t len);

const struct iomap_stats *iomap_stats(const struct iomap *map);
size_t iomap_count(const struct iomap *map);

#endif
