/*
 * The address map: a sorted array of non-overlapping regions per address
 * space, found by binary search. Every access is cut into pieces that fit
 * one region's declared contract before the device sees it; whatever no
 * region claims reads as all-ones and is counted.
 */
#include "dm/iomap.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/log.h"

#define IOMAP_PAGE_SHIFT 12
#define BITS_PER_LONG (8 * sizeof(unsigned long))

struct iomap {
    struct hv *hv;
    enum hv_io_space space;
    uint64_t limit;                 /* last valid address */
    struct iomap_region **regions;  /* sorted by base */
    size_t nr;
    size_t cap;
    struct iomap_stats stats;
};

static const char *const space_names[] = {
    [HV_IO_PORT] = "pio",
    [HV_IO_MMIO] = "mmio",
};

struct iomap *
iomap_new(struct hv *hv, enum hv_io_space space, uint64_t limit)
{
    struct iomap *map = g_new0(struct iomap, 1);

    map->hv = hv;
    map->space = space;
    map->limit = limit;
    return map;
}

void
iomap_free(struct iomap *map)
{
    if (!map) {
        return;
    }
    while (map->nr) {
        iomap_del(map->regions[map->nr - 1]);
    }
    g_free(map->regions);
    g_free(map);
}

void
iomap_region_init(struct iomap_region *r, const char *name, uint64_t len,
                  const struct iomap_ops *ops, void *opaque)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->len = len;
    r->ops = ops;
    r->opaque = opaque;
}

static uint64_t
ram_pages(uint64_t len)
{
    return (len + (1u << IOMAP_PAGE_SHIFT) - 1) >> IOMAP_PAGE_SHIFT;
}

static size_t
bitmap_words(uint64_t bits)
{
    return (size_t)((bits + BITS_PER_LONG - 1) / BITS_PER_LONG);
}

void
iomap_region_init_ram(struct iomap_region *r, const char *name, uint64_t len,
                      void *ram)
{
    iomap_region_init(r, name, len, NULL, NULL);
    r->ram = ram;
    r->dirty = g_new0(unsigned long, bitmap_words(ram_pages(len)));
}

void
iomap_region_destroy(struct iomap_region *r)
{
    if (r->map) {
        iomap_del(r);
    }
    g_free(r->dirty);
    r->dirty = NULL;
}

/* Index of the first region whose end is above addr. */
static size_t
iomap_lower_bound(const struct iomap *map, uint64_t addr)
{
    size_t lo = 0, hi = map->nr;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct iomap_region *r = map->regions[mid];

        if (r->base + (r->len - 1) < addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct iomap_region *
iomap_find(struct iomap *map, uint64_t addr)
{
    size_t i = iomap_lower_bound(map, addr);

    if (i < map->nr && map->regions[i]->base <= addr) {
        return map->regions[i];
    }
    return NULL;
}

static int
iomap_hv_map(struct iomap *map, const struct iomap_region *r, bool add)
{
    struct hv *hv = map->hv;
    uint64_t end = r->base + r->len - 1;
    int rc;

    if (!hv) {
        return 0;
    }
    if (add) {
        rc = hv->ops->map_io_range(hv, map->space, r->base, end);
    } else {
        rc = hv->ops->unmap_io_range(hv, map->space, r->base, end);
    }
    if (rc < 0) {
        DM_ERR("%s %s [0x%" PRIx64 "-0x%" PRIx64 "] (%s): %s",
               add ? "cannot route" : "cannot unroute",
               space_names[map->space], r->base, end, r->name,
               g_strerror(-rc));
    }
    return rc;
}

static bool
iomap_range_ok(const struct iomap *map, uint64_t base, uint64_t len)
{
    return len != 0 && base <= map->limit && len - 1 <= map->limit - base;
}

int
iomap_add(struct iomap *map, struct iomap_region *r, uint64_t base)
{
    size_t i;
    int rc;

    if (r->map || !iomap_range_ok(map, base, r->len)) {
        return -EINVAL;
    }
    i = iomap_lower_bound(map, base);
    if (i < map->nr && map->regions[i]->base <= base + (r->len - 1)) {
        /* A guest reaches this by programming overlapping BARs. */
        GUEST_ERR("%s region %s at 0x%" PRIx64 " overlaps %s",
                  space_names[map->space], r->name, base,
                  map->regions[i]->name);
        return -EEXIST;
    }
    r->base = base;
    rc = iomap_hv_map(map, r, true);
    if (rc < 0) {
        return rc;
    }
    if (map->nr == map->cap) {
        map->cap = map->cap ? map->cap * 2 : 16;
        map->regions = g_renew(struct iomap_region *, map->regions, map->cap);
    }
    memmove(&map->regions[i + 1], &map->regions[i],
            (map->nr - i) * sizeof(map->regions[0]));
    map->regions[i] = r;
    map->nr++;
    r->map = map;
    return 0;
}

void
iomap_del(struct iomap_region *r)
{
    struct iomap *map = r->map;
    size_t i;

    if (!map) {
        return;
    }
    i = iomap_lower_bound(map, r->base);
    g_assert(i < map->nr && map->regions[i] == r);
    memmove(&map->regions[i], &map->regions[i + 1],
            (map->nr - i - 1) * sizeof(map->regions[0]));
    map->nr--;
    iomap_hv_map(map, r, false);
    r->map = NULL;
}

/* Does [base, base + len) collide with a region other than self? */
static bool
iomap_collides(const struct iomap *map, const struct iomap_region *self,
               uint64_t base, uint64_t len)
{
    size_t i;

    for (i = iomap_lower_bound(map, base); i < map->nr; i++) {
        const struct iomap_region *o = map->regions[i];

        if (o->base > base + (len - 1)) {
            return false;
        }
        if (o != self) {
            return true;
        }
    }
    return false;
}

int
iomap_move(struct iomap_region *r, uint64_t new_base)
{
    struct iomap *map = r->map;
    uint64_t old_base = r->base;
    int rc;

    if (!map || !iomap_range_ok(map, new_base, r->len)) {
        return -EINVAL;
    }
    if (new_base == old_base) {
        return 0;
    }
    if (iomap_collides(map, r, new_base, r->len)) {
        GUEST_ERR("%s region %s cannot move to 0x%" PRIx64 ": overlap",
               space_names[map->space], r->name, new_base);
        return -EEXIST;
    }
    iomap_del(r);
    rc = iomap_add(map, r, new_base);
    if (rc < 0 && iomap_add(map, r, old_base) < 0) {
        DM_ERR("region %s lost while moving", r->name);
    }
    return rc;
}

/* ---- RAM-backed regions -------------------------------------------- */

void
iomap_ram_mark_dirty(struct iomap_region *r, uint64_t off, uint64_t len)
{
    uint64_t first, last, p;

    if (!r->dirty || len == 0 || off >= r->len) {
        return;
    }
    if (len > r->len - off) {
        len = r->len - off;
    }
    first = off >> IOMAP_PAGE_SHIFT;
    last = (off + len - 1) >> IOMAP_PAGE_SHIFT;
    for (p = first; p <= last; p++) {
        r->dirty[p / BITS_PER_LONG] |= 1ul << (p % BITS_PER_LONG);
    }
}

size_t
iomap_ram_sync_dirty(struct iomap_region *r, unsigned long *bitmap)
{
    size_t words = bitmap_words(ram_pages(r->len));
    size_t i, n = 0;

    if (!r->dirty) {
        return 0;
    }
    for (i = 0; i < words; i++) {
        bitmap[i] = r->dirty[i];
        n += (size_t)__builtin_popcountl(r->dirty[i]);
        r->dirty[i] = 0;
    }
    return n;
}

static uint64_t
ram_read(struct iomap_region *r, uint64_t off, unsigned int size)
{
    uint64_t v = 0;

    memcpy(&v, r->ram + off, size);
    return v;
}

static void
ram_write(struct iomap_region *r, uint64_t off, uint64_t val,
          unsigned int size)
{
    memcpy(r->ram + off, &val, size);
    iomap_ram_mark_dirty(r, off, size);
}

/* ---- access splitting ------------------------------------------------ */

static unsigned int
contract_min(const struct iomap_region *r)
{
    return (r->ops && r->ops->min_size) ? r->ops->min_size : 1;
}

static unsigned int
contract_max(const struct iomap_region *r)
{
    return (r->ops && r->ops->max_size) ? r->ops->max_size : 8;
}

static bool
contract_unaligned(const struct iomap_region *r)
{
    return !r->ops || r->ops->unaligned_ok;
}

/*
 * The largest power-of-two piece that starts at off, is at most want bytes,
 * fits the region and its max_size, and is aligned unless unaligned_ok.
 */
static unsigned int
piece_size(const struct iomap_region *r, uint64_t off, unsigned int want)
{
    unsigned int n = contract_max(r);
    uint64_t room = r->len - off;

    while (n > 1 && (n > want || n > room ||
                     (!contract_unaligned(r) && (off & (n - 1))))) {
        n >>= 1;
    }
    return n;
}

static uint64_t
region_read(struct iomap_region *r, uint64_t off, unsigned int size)
{
    unsigned int min = contract_min(r);
    uint64_t wide_off, v;

    if (r->ram) {
        return ram_read(r, off, size);
    }
    if (size >= min) {
        return r->ops->read(r->opaque, off, size) & iomap_size_mask(size);
    }
    /* Narrower than the device implements: read the containing unit. */
    wide_off = off & ~(uint64_t)(min - 1);
    if (min > r->len - wide_off) {
        return iomap_size_mask(size);
    }
    v = r->ops->read(r->opaque, wide_off, min);
    return (v >> ((off - wide_off) * 8)) & iomap_size_mask(size);
}

static void
region_write(struct iomap *map, struct iomap_region *r, uint64_t off,
             uint64_t val, unsigned int size)
{
    if (r->ram) {
        ram_write(r, off, val, size);
        return;
    }
    if (size < contract_min(r)) {
        map->stats.dropped_writes++;
        GUEST_ERR("%s write of %u bytes to %s+0x%" PRIx64 " below its "
                  "minimum access size, dropped", space_names[map->space],
                  size, r->name, off);
        return;
    }
    r->ops->write(r->opaque, off, val & iomap_size_mask(size), size);
}

/* Bytes from addr up to the next region (or the end of the space). */
static uint64_t
unclaimed_span(struct iomap *map, uint64_t addr, unsigned int want)
{
    size_t i = iomap_lower_bound(map, addr);
    uint64_t gap = want;

    if (i < map->nr && map->regions[i]->base - addr < gap) {
        gap = map->regions[i]->base - addr;
    }
    return gap ? gap : 1;
}

static bool
access_ok(struct iomap *map, uint64_t addr, unsigned int size)
{
    if ((size != 1 && size != 2 && size != 4 && size != 8) ||
        addr > map->limit || size - 1 > map->limit - addr) {
        map->stats.rejected++;
        return false;
    }
    return true;
}

uint64_t
iomap_read(struct iomap *map, uint64_t addr, unsigned int size)
{
    uint64_t val = 0;
    unsigned int done = 0;

    if (!access_ok(map, addr, size)) {
        return iomap_size_mask(size);
    }
    while (done < size) {
        struct iomap_region *r = iomap_find(map, addr + done);
        unsigned int n;
        uint64_t piece;

        if (r) {
            n = piece_size(r, addr + done - r->base, size - done);
            piece = region_read(r, addr + done - r->base, n);
        } else {
            n = (unsigned int)unclaimed_span(map, addr + done, size - done);
            piece = iomap_size_mask(n);
            map->stats.unclaimed_reads++;
        }
        val |= (piece & iomap_size_mask(n)) << (done * 8);
        done += n;
    }
    return val;
}

void
iomap_write(struct iomap *map, uint64_t addr, unsigned int size, uint64_t val)
{
    unsigned int done = 0;

    if (!access_ok(map, addr, size)) {
        return;
    }
    while (done < size) {
        struct iomap_region *r = iomap_find(map, addr + done);
        unsigned int n;

        if (r) {
            n = piece_size(r, addr + done - r->base, size - done);
            region_write(map, r, addr + done - r->base,
                         (val >> (done * 8)) & iomap_size_mask(n), n);
        } else {
            n = (unsigned int)unclaimed_span(map, addr + done, size - done);
            map->stats.unclaimed_writes++;
        }
        done += n;
    }
}

/* A rep access the region can take whole through its string op. */
static struct iomap_region *
rep_target(struct iomap *map, uint64_t addr, unsigned int size, bool write)
{
    struct iomap_region *r = iomap_find(map, addr);

    if (!r || !r->ops || size - 1 > r->len - 1 - (addr - r->base) ||
        size < contract_min(r) || size > contract_max(r) ||
        (!contract_unaligned(r) && ((addr - r->base) & (size - 1)))) {
        return NULL;
    }
    if (write ? !r->ops->write_rep : !r->ops->read_rep) {
        return NULL;
    }
    return r;
}

void
iomap_read_rep(struct iomap *map, uint64_t addr, unsigned int size,
               void *buf, uint32_t count)
{
    struct iomap_region *r;
    uint8_t *p = buf;
    uint32_t i;

    if (!access_ok(map, addr, size)) {
        memset(buf, 0xff, (size_t)size * count);
        return;
    }
    r = rep_target(map, addr, size, false);
    if (r) {
        r->ops->read_rep(r->opaque, addr - r->base, size, buf, count);
        return;
    }
    for (i = 0; i < count; i++) {
        uint64_t v = iomap_read(map, addr, size);

        memcpy(p + (size_t)i * size, &v, size);
    }
}

void
iomap_write_rep(struct iomap *map, uint64_t addr, unsigned int size,
                const void *buf, uint32_t count)
{
    struct iomap_region *r;
    const uint8_t *p = buf;
    uint32_t i;

    if (!access_ok(map, addr, size)) {
        return;
    }
    r = rep_target(map, addr, size, true);
    if (r) {
        r->ops->write_rep(r->opaque, addr - r->base, size, buf, count);
        return;
    }
    for (i = 0; i < count; i++) {
        uint64_t v = 0;

        memcpy(&v, p + (size_t)i * size, size);
        iomap_write(map, addr, size, v);
    }
}

const struct iomap_stats *
iomap_stats(const struct iomap *map)
{
    return &map->stats;
}

size_t
iomap_count(const struct iomap *map)
{
    return map->nr;
}
