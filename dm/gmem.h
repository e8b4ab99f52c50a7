/*
 * Guest memory through a bounded copy API over a map cache of foreign
 * mappings. The cache maps 1 MiB buckets and never holds more than
 * max_buckets of them, so what hvmdm maps is bounded however large the
 * guest is (gm_buckets_for_ram: 2 GiB at most). An
 * access that touches an unpopulated or out-of-range frame fails with
 * -EFAULT and the device turns that into its hardware's error.
 */
#ifndef DM_GMEM_H
#define DM_GMEM_H

#include <stddef.h>
#include <stdint.h>

struct hv;
struct gmem;

#define GM_PAGE_SHIFT   12
#define GM_PAGE_SIZE    (1u << GM_PAGE_SHIFT)
#define GM_BUCKET_SHIFT 20
#define GM_BUCKET_SIZE  (1u << GM_BUCKET_SHIFT)
#define GM_BUCKET_PAGES (GM_BUCKET_SIZE >> GM_PAGE_SHIFT)
/* Default cap on mapped guest memory: 64 MiB. */
#define GM_DEFAULT_BUCKETS 64
/* hvmdm's cap for a domain (gm_buckets_for_ram): its RAM plus 256 MiB,
 * at least 512 MiB and at most 2 GiB of mappings. */
#define GM_MIN_BUCKETS     512
#define GM_MAX_BUCKETS     2048

struct gm_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t evictions;
    uint64_t faults;
    uint64_t invalidations;
    unsigned int mapped;        /* buckets mapped now */
    unsigned int peak_mapped;
    unsigned int locked;        /* buckets pinned by gm_map now */
};

struct gmem *gm_new(struct hv *hv, unsigned int max_buckets);
/*
 * The cap hvmdm uses for a guest of ram_size bytes: all of a small guest's
 * RAM stays mapped, so DMA to scattered pages (a Linux request's 4 KiB
 * pages lie all over RAM) does not evict and remap buckets each time.
 * Foreign mappings are the guest's frames, not memory hvmdm allocates:
 * dom0 pays their page tables (2 KiB per MiB).
 */
unsigned int gm_buckets_for_ram(uint64_t ram_size);
/* The cap gm_new was given. */
unsigned int gm_capacity(const struct gmem *gm);
void gm_free(struct gmem *gm);

int gm_read(struct gmem *gm, uint64_t gpa, void *buf, size_t len)
    __attribute__((warn_unused_result));
int gm_write(struct gmem *gm, uint64_t gpa, const void *buf, size_t len)
    __attribute__((warn_unused_result));

/*
 * Zero-copy access for DMA scatter lists: returns a host pointer to guest
 * memory at gpa, valid for *len bytes (clipped to the end of the bucket and
 * to the first bad frame), and pins the bucket until gm_unmap(). NULL and
 * -EFAULT in *err when gpa itself is not mapped.
 */
void *gm_map(struct gmem *gm, uint64_t gpa, size_t *len, int writable,
             int *err);
void gm_unmap(struct gmem *gm, void *host, size_t len, int written);

/* IOREQ_TYPE_INVALIDATE: drop every unpinned mapping. */
void gm_invalidate(struct gmem *gm);
/* Report every guest page hvmdm writes (live migration log-dirty). */
void gm_set_log_dirty(struct gmem *gm, int enabled);
/* Is it on? Devices that write guest RAM without gm_write (VRAM) report
 * their writes with hv modified_memory while it is. */
int gm_log_dirty(const struct gmem *gm);

const struct gm_stats *gm_stats(const struct gmem *gm);

#endif
