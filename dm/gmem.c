/*
 * The guest-memory map cache. Guest RAM is reached in 1 MiB buckets of
 * foreign mappings; at most max_buckets are mapped at once and the least
 * recently used unpinned bucket is evicted to make room, so mapped memory is
 * bounded whatever the guest's size. Each bucket remembers which of its
 * frames mapped (unpopulated frames fail individually), and every copy is
 * checked against that before it touches host memory.
 */
#include "dm/gmem.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "dm/hv.h"
#include "dm/log.h"

#define VALID_WORDS (GM_BUCKET_PAGES / 64)

struct gm_bucket {
    uint64_t index;                 /* gpa >> GM_BUCKET_SHIFT */
    uint8_t *host;                  /* NULL: slot free */
    uint64_t valid[VALID_WORDS];    /* frames that mapped */
    uint64_t last_use;
    unsigned int pins;
    bool stale;                     /* invalidated while pinned */
};

struct gmem {
    struct hv *hv;
    struct gm_bucket *buckets;
    unsigned int nr_buckets;
    GHashTable *by_index;           /* index -> struct gm_bucket * */
    struct gm_bucket *last;         /* fast path: the last two buckets */
    struct gm_bucket *prev;         /* (a ring and its buffers) */
    uint64_t clock;
    bool log_dirty;
    struct gm_stats stats;
};

struct gmem *
gm_new(struct hv *hv, unsigned int max_buckets)
{
    struct gmem *gm = g_new0(struct gmem, 1);

    gm->hv = hv;
    gm->nr_buckets = max_buckets ? max_buckets : GM_DEFAULT_BUCKETS;
    gm->buckets = g_new0(struct gm_bucket, gm->nr_buckets);
    gm->by_index = g_hash_table_new(g_int64_hash, g_int64_equal);
    return gm;
}

/* b leaves the fast path. */
static void
bucket_forget(struct gmem *gm, const struct gm_bucket *b)
{
    if (gm->last == b) {
        gm->last = NULL;
    }
    if (gm->prev == b) {
        gm->prev = NULL;
    }
}

static void
bucket_unmap(struct gmem *gm, struct gm_bucket *b)
{
    if (!b->stale) {
        g_hash_table_remove(gm->by_index, &b->index);
    }
    gm->hv->ops->unmap_guest(gm->hv, b->host, GM_BUCKET_PAGES);
    bucket_forget(gm, b);
    b->host = NULL;
    b->stale = false;
    gm->stats.mapped--;
}

void
gm_free(struct gmem *gm)
{
    unsigned int i;

    if (!gm) {
        return;
    }
    for (i = 0; i < gm->nr_buckets; i++) {
        if (gm->buckets[i].host) {
            bucket_unmap(gm, &gm->buckets[i]);
        }
    }
    g_hash_table_destroy(gm->by_index);
    g_free(gm->buckets);
    g_free(gm);
}

/* A free slot, or the least recently used unpinned one after unmapping. */
static struct gm_bucket *
bucket_victim(struct gmem *gm)
{
    struct gm_bucket *victim = NULL;
    unsigned int i;

    for (i = 0; i < gm->nr_buckets; i++) {
        struct gm_bucket *b = &gm->buckets[i];

        if (!b->host) {
            return b;
        }
        if (!b->pins && (!victim || b->last_use < victim->last_use)) {
            victim = b;
        }
    }
    if (victim) {
        bucket_unmap(gm, victim);
        gm->stats.evictions++;
    }
    return victim;
}

static struct gm_bucket *
bucket_map(struct gmem *gm, uint64_t index)
{
    int err[GM_BUCKET_PAGES];
    struct gm_bucket *b = bucket_victim(gm);
    unsigned int i;
    void *host;

    if (!b) {
        DM_LOG_LIMITED(DM_LOG_WARN, "guest memory map cache: all %u "
                       "buckets pinned", gm->nr_buckets);
        return NULL;
    }
    host = gm->hv->ops->map_guest(gm->hv, index << (GM_BUCKET_SHIFT -
                                  GM_PAGE_SHIFT), GM_BUCKET_PAGES, 1, err);
    if (!host) {
        return NULL;
    }
    memset(b->valid, 0, sizeof(b->valid));
    for (i = 0; i < GM_BUCKET_PAGES; i++) {
        if (err[i] == 0) {
            b->valid[i / 64] |= 1ull << (i % 64);
        }
    }
    b->index = index;
    b->host = host;
    b->pins = 0;
    b->stale = false;
    g_hash_table_insert(gm->by_index, &b->index, b);
    gm->stats.mapped++;
    if (gm->stats.mapped > gm->stats.peak_mapped) {
        gm->stats.peak_mapped = gm->stats.mapped;
    }
    return b;
}

static struct gm_bucket *
bucket_get(struct gmem *gm, uint64_t index)
{
    struct gm_bucket *b = gm->last;

    if (!b || b->index != index) {
        b = gm->prev && gm->prev->index == index
            ? gm->prev : g_hash_table_lookup(gm->by_index, &index);
    }
    if (b) {
        gm->stats.hits++;
    } else {
        gm->stats.misses++;
        b = bucket_map(gm, index);
        if (!b) {
            return NULL;
        }
    }
    b->last_use = ++gm->clock;
    if (gm->last != b) {
        gm->prev = gm->last;
        gm->last = b;
    }
    return b;
}

/* Bytes usable from offset off in bucket b, up to want, stopping at the
 * first frame that did not map. */
static size_t
bucket_span(const struct gm_bucket *b, size_t off, size_t want)
{
    size_t done = 0;

    while (done < want) {
        size_t page = (off + done) >> GM_PAGE_SHIFT;
        size_t in_page = GM_PAGE_SIZE - ((off + done) & (GM_PAGE_SIZE - 1));

        if (!(b->valid[page / 64] & (1ull << (page % 64)))) {
            break;
        }
        done += in_page;
    }
    return done < want ? done : want;
}

static bool
range_ok(uint64_t gpa, size_t len)
{
    return len == 0 || gpa + (len - 1) >= gpa;
}

static void
log_dirty(struct gmem *gm, uint64_t gpa, size_t len)
{
    uint64_t first = gpa >> GM_PAGE_SHIFT;
    uint64_t last = (gpa + len - 1) >> GM_PAGE_SHIFT;

    if (gm->log_dirty && len) {
        gm->hv->ops->modified_memory(gm->hv, first, last - first + 1);
    }
}

/* Copy between buf and guest memory, bucket by bucket. */
static int
gm_copy(struct gmem *gm, uint64_t gpa, void *buf, size_t len, bool write)
{
    uint8_t *p = buf;

    if (!range_ok(gpa, len)) {
        gm->stats.faults++;
        return -EFAULT;
    }
    while (len) {
        struct gm_bucket *b = bucket_get(gm, gpa >> GM_BUCKET_SHIFT);
        size_t off = gpa & (GM_BUCKET_SIZE - 1);
        size_t want = GM_BUCKET_SIZE - off < len ? GM_BUCKET_SIZE - off : len;
        size_t n = b ? bucket_span(b, off, want) : 0;

        if (n == 0) {
            gm->stats.faults++;
            return -EFAULT;
        }
        if (write) {
            memcpy(b->host + off, p, n);
            log_dirty(gm, gpa, n);
        } else {
            memcpy(p, b->host + off, n);
        }
        gpa += n;
        p += n;
        len -= n;
    }
    return 0;
}

int
gm_read(struct gmem *gm, uint64_t gpa, void *buf, size_t len)
{
    return gm_copy(gm, gpa, buf, len, false);
}

int
gm_write(struct gmem *gm, uint64_t gpa, const void *buf, size_t len)
{
    return gm_copy(gm, gpa, (void *)buf, len, true);
}

void *
gm_map(struct gmem *gm, uint64_t gpa, size_t *len, int writable, int *err)
{
    struct gm_bucket *b = bucket_get(gm, gpa >> GM_BUCKET_SHIFT);
    size_t off = gpa & (GM_BUCKET_SIZE - 1);
    size_t want = GM_BUCKET_SIZE - off < *len ? GM_BUCKET_SIZE - off : *len;
    size_t n = b ? bucket_span(b, off, want) : 0;

    if (n == 0 || !range_ok(gpa, *len)) {
        gm->stats.faults++;
        *err = -EFAULT;
        *len = 0;
        return NULL;
    }
    *err = 0;
    *len = n;
    if (b->pins++ == 0) {
        gm->stats.locked++;
    }
    return b->host + off;
}

/* The pinned bucket holding host (only pinned ones are ever unmapped). */
static struct gm_bucket *
bucket_of_host(struct gmem *gm, const void *host)
{
    const uint8_t *h = host;
    unsigned int i;

    for (i = 0; i < gm->nr_buckets; i++) {
        struct gm_bucket *b = &gm->buckets[i];

        if (b->host && b->pins && h >= b->host &&
            h < b->host + GM_BUCKET_SIZE) {
            return b;
        }
    }
    return NULL;
}

void
gm_unmap(struct gmem *gm, void *host, size_t len, int written)
{
    struct gm_bucket *b = bucket_of_host(gm, host);

    g_assert(b && b->pins > 0);
    if (written && len) {
        log_dirty(gm, (b->index << GM_BUCKET_SHIFT) +
                  (uint64_t)((uint8_t *)host - b->host), len);
    }
    if (--b->pins == 0) {
        gm->stats.locked--;
        if (b->stale) {
            bucket_unmap(gm, b);
        }
    }
}

void
gm_invalidate(struct gmem *gm)
{
    unsigned int i;

    gm->stats.invalidations++;
    for (i = 0; i < gm->nr_buckets; i++) {
        struct gm_bucket *b = &gm->buckets[i];

        if (!b->host || b->stale) {
            continue;
        }
        if (b->pins) {
            DM_LOG_LIMITED(DM_LOG_WARN, "map cache invalidate: bucket 0x%"
                           PRIx64 " pinned by DMA in flight; unmapped when "
                           "released", b->index << GM_BUCKET_SHIFT);
            g_hash_table_remove(gm->by_index, &b->index);
            bucket_forget(gm, b);
            b->stale = true;
            continue;
        }
        bucket_unmap(gm, b);
    }
}

void
gm_set_log_dirty(struct gmem *gm, int enabled)
{
    gm->log_dirty = enabled != 0;
}

int
gm_log_dirty(const struct gmem *gm)
{
    return gm->log_dirty;
}

unsigned int
gm_buckets_for_ram(uint64_t ram_size)
{
    uint64_t n = (ram_size >> GM_BUCKET_SHIFT) + 256;

    return (unsigned int)MIN(MAX(n, GM_MIN_BUCKETS), GM_MAX_BUCKETS);
}

unsigned int
gm_capacity(const struct gmem *gm)
{
    return gm->nr_buckets;
}

const struct gm_stats *
gm_stats(const struct gmem *gm)
{
    return &gm->stats;
}
