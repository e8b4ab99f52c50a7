/*
 * qcow2 images, versions 2 and 3, after QEMU's docs/interop/qcow2.txt
 * ("the spec" below). Every header field and table entry is hostile input:
 * it is bounded before use and a bad one fails the open (header) or the
 * request (-EIO, tables), never the process.
 *
 * Supported: reads of standard, zero (v3) and zlib-compressed clusters,
 * unallocated clusters from a read-only backing file (raw or qcow2, from
 * the backing format extension; an image that names none is refused unless
 * the operator said -block-backing raw-ok, and -block-backing off refuses
 * every backing file) or as zeros; writes that
 * allocate clusters at the end of the file with copy-on-write of the rest
 * of the cluster, L2 table allocation, and refcount blocks and the
 * refcount table kept consistent (the table grows when needed). Refused:
 * encryption, external data files, extended L2 entries, non-zlib
 * compression; dirty, corrupt or snapshotted images open read-only only.
 *
 * All I/O is synchronous on the engine's worker threads under one mutex
 * per image. Metadata is written through at once (no dirty cache), so a
 * flush (fdatasync) covers it. A newly allocated cluster is written and
 * refcounted, then a barrier, then its L2 entry, so a crash never leaves
 * an L2 entry pointing at an unwritten cluster.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>           /* inflate, raw deflate streams */

#include "block/blk-int.h"  /* struct blk, blk_file_*, blk_open_backing */

#define QCOW2_MAGIC             0x514649fbu    /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN     72
#define QCOW2_V3_HEADER_LEN     104
#define QCOW2_MIN_CLUSTER_BITS  9              /* spec: >= 512 bytes */
#define QCOW2_MAX_CLUSTER_BITS  21             /* QEMU's 2 MiB limit */
#define QCOW2_MAX_L1_BYTES      (32u << 20)    /* QEMU's limit */
#define QCOW2_MAX_RT_BYTES      (8u << 20)     /* QEMU's limit */
#define QCOW2_MAX_BACKING_NAME  1023           /* spec, backing_file_size */
#define QCOW2_MAX_FORMAT_NAME   16
#define QCOW2_MAX_HOST_OFFSET   (1ull << 56)   /* L2 entry bits 9-55 */
#define QCOW2_MAX_SIZE          (1ull << 61)

/* L1/L2/refcount table entries (spec, "Cluster mapping", "Refcounts"). */
#define QCOW2_OFFSET_MASK       0x00fffffffffffe00ull  /* bits 9-55 */
#define QCOW2_RT_OFFSET_MASK    0xfffffffffffffe00ull  /* bits 9-63 */
#define QCOW2_COPIED            (1ull << 63)
#define QCOW2_COMPRESSED        (1ull << 62)
#define QCOW2_ZERO              1ull
#define QCOW2_L1_RESERVED       0x7f000000000001ffull  /* 0-8, 56-62 */
#define QCOW2_L2_RESERVED       0x3f000000000001feull  /* 1-8, 56-61 */

/* incompatible_features (header bytes 72-79) */
#define QCOW2_INCOMPAT_DIRTY        (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT      (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE    (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION  (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2        (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN        0x1full

/* Header extension types (spec, "Header extensions"). */
#define QCOW2_EXT_END           0x00000000u
#define QCOW2_EXT_BACKING_FMT   0xe2792acau

#define QCOW2_MAX_SCAN          65536          /* see reserve_clusters */
#define QCOW2_L2_CACHE_SIZE     16
#define QCOW2_RB_CACHE_SIZE     4

enum qcow2_kind { QCOW2_UNALLOC, QCOW2_ZERO_CL, QCOW2_NORMAL,
                  QCOW2_COMPRESSED_CL };

/* Header fields in host order (spec, "Header"). */
struct qcow2_header {
    uint32_t magic;
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
};

/* A write-through cache of whole-cluster tables (L2, refcount blocks). */
struct qcow2_cache_ent {
    uint64_t offset;
    uint64_t stamp;
    uint8_t *data;
    bool valid;
};

struct qcow2_cache {
    struct qcow2_cache_ent ent[QCOW2_L2_CACHE_SIZE];
    unsigned int n;
    uint64_t clock;
};

/* A cluster allocated by a write whose L2 entry is still to be set. */
struct qcow2_alloc {
    uint64_t guest_cluster;
    uint64_t host;
    uint64_t old_entry;
};

struct qcow2 {
    GMutex lock;
    struct blk *b;
    struct blk *backing;
    struct qcow2_header h;
    uint64_t cs;                /* cluster size */
    uint64_t l2_entries;
    uint64_t *l1;               /* host order */
    uint64_t *rt;               /* host order */
    uint64_t rt_entries;
    uint64_t rb_entries;        /* refcounts per refcount block */
    uint64_t refcount_max;
    uint64_t next_free;         /* where the next cluster is appended */
    bool growing_rt;
    struct qcow2_cache l2c;
    struct qcow2_cache rbc;
    uint8_t *cbuf;              /* one cluster: COW data, inflate output */
    uint8_t *zbuf;              /* two clusters: compressed input */
};

/* ---- byte order ---- */

static uint64_t
ld64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return GUINT64_FROM_BE(v);
}

static uint32_t
ld32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return GUINT32_FROM_BE(v);
}

static void
st64(uint8_t *p, uint64_t v)
{
    v = GUINT64_TO_BE(v);
    memcpy(p, &v, 8);
}

static void
st32(uint8_t *p, uint32_t v)
{
    v = GUINT32_TO_BE(v);
    memcpy(p, &v, 4);
}

/* ---- table cache ---- */

static uint8_t *
cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t off, long *err)
{
    struct qcow2_cache_ent *victim = &c->ent[0];
    unsigned int i;
    long ret;

    for (i = 0; i < c->n; i++) {
        struct qcow2_cache_ent *e = &c->ent[i];

        if (e->valid && e->offset == off) {
            e->stamp = ++c->clock;
            return e->data;
        }
        if (victim->valid && (!e->valid || e->stamp < victim->stamp)) {
            victim = e;
        }
    }
    if (!victim->data) {
        victim->data = g_malloc(q->cs);
    }
    victim->valid = false;
    ret = blk_file_pread(q->b, off, victim->data, q->cs);
    if (ret < 0) {
        *err = ret;
        return NULL;
    }
    victim->valid = true;
    victim->offset = off;
    victim->stamp = ++c->clock;
    return victim->data;
}

static void
cache_drop(struct qcow2_cache *c, uint64_t off)
{
    unsigned int i;

    for (i = 0; i < c->n; i++) {
        if (c->ent[i].valid && c->ent[i].offset == off) {
            c->ent[i].valid = false;
        }
    }
}

/* Write len bytes at pos of the table at off, and into its cached copy. */
static long
cache_write(struct qcow2 *q, struct qcow2_cache *c, uint64_t off,
            uint64_t pos, const uint8_t *bytes, size_t len)
{
    unsigned int i;

    for (i = 0; i < c->n; i++) {
        if (c->ent[i].valid && c->ent[i].offset == off) {
            memcpy(c->ent[i].data + pos, bytes, len);
        }
    }
    return blk_file_pwrite(q->b, off + pos, bytes, len);
}

static void
cache_free(struct qcow2_cache *c)
{
    unsigned int i;

    for (i = 0; i < c->n; i++) {
        g_free(c->ent[i].data);
    }
}

/* ---- refcounts (spec, "Host cluster management") ---- */

static uint64_t
rc_entry_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
    unsigned int bits = 1u << q->h.refcount_order, k;
    uint64_t v = 0;

    if (bits < 8) {
        return (blk[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
    }
    for (k = 0; k < bits / 8; k++) {
        v = v << 8 | blk[i * (bits / 8) + k];
    }
    return v;
}

/* Store v; returns the byte offset in the block that changed, *len bytes. */
static uint64_t
rc_entry_set(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v,
             size_t *len)
{
    unsigned int bits = 1u << q->h.refcount_order, k;
    uint64_t pos;

    if (bits < 8) {
        unsigned int shift = i * bits % 8, mask = (1u << bits) - 1;

        pos = i * bits / 8;
        blk[pos] = (uint8_t)((blk[pos] & ~(mask << shift)) | (v << shift));
        *len = 1;
        return pos;
    }
    pos = i * (bits / 8);
    for (k = bits / 8; k-- > 0; v >>= 8) {
        blk[pos + k] = (uint8_t)v;
    }
    *len = bits / 8;
    return pos;
}

/* The refcount block covering rt index idx, or 0 if none; -EIO if bad. */
static int64_t
rc_block(const struct qcow2 *q, uint64_t idx)
{
    uint64_t e;

    if (idx >= q->rt_entries) {
        return 0;
    }
    e = q->rt[idx];
    if ((e & ~QCOW2_RT_OFFSET_MASK) || (e & (q->cs - 1)) ||
        e >= QCOW2_MAX_HOST_OFFSET) {
        return -EIO;
    }
    return (int64_t)e;
}

static long
rc_get(struct qcow2 *q, uint64_t host, uint64_t *val)
{
    uint64_t ci = host >> q->h.cluster_bits;
    int64_t blk = rc_block(q, ci / q->rb_entries);
    const uint8_t *data;
    long err = 0;

    *val = 0;
    if (blk <= 0) {
        return blk;
    }
    data = cache_get(q, &q->rbc, (uint64_t)blk, &err);
    if (!data) {
        return err;
    }
    *val = rc_entry_get(q, data, ci % q->rb_entries);
    return 0;
}

static long rc_update(struct qcow2 *q, uint64_t host, int delta);

/*
 * First cluster at or after next_free with n free clusters after it.
 * Past the end of the file everything should be free; a hostile image
 * claiming otherwise gets QCOW2_MAX_SCAN clusters of patience.
 */
static long
reserve_clusters(struct qcow2 *q, uint64_t n, uint64_t *out)
{
    uint64_t off = q->next_free, i, rc, scanned = 0;
    long ret;

    for (i = 0; i < n; i++) {
        ret = rc_get(q, off + i * q->cs, &rc);
        if (ret < 0) {
            return ret;
        }
        if (rc) {
            if (++scanned > QCOW2_MAX_SCAN) {
                return -EIO;
            }
            off += (i + 1) * q->cs;
            i = (uint64_t)-1;
        }
    }
    if (off + n * q->cs > QCOW2_MAX_HOST_OFFSET) {
        return -EFBIG;
    }
    q->next_free = off + n * q->cs;
    for (i = 0; i < n; i++) {
        cache_drop(&q->l2c, off + i * q->cs);
        cache_drop(&q->rbc, off + i * q->cs);
    }
    *out = off;
    return 0;
}

/* Give rt index idx a refcount block (zeroed, written, then linked). */
static long
rc_alloc_block(struct qcow2 *q, uint64_t idx)
{
    uint8_t *buf = g_malloc0(q->cs), rte[8];
    uint64_t off, own;
    size_t len;
    bool self;
    long ret;

    ret = reserve_clusters(q, 1, &off);
    if (ret < 0) {
        goto out;
    }
    own = off >> q->h.cluster_bits;
    self = own / q->rb_entries == idx;
    if (self) {
        rc_entry_set(q, buf, own % q->rb_entries, 1, &len);
    }
    ret = blk_file_pwrite(q->b, off, buf, q->cs);
    if (ret < 0) {
        goto out;
    }
    q->rt[idx] = off;
    st64(rte, off);
    ret = blk_file_pwrite(q->b, q->h.refcount_table_offset + idx * 8, rte, 8);
    if (ret >= 0 && !self) {
        ret = rc_update(q, off, 1);
    }
out:
    g_free(buf);
    return ret;
}

static long rc_grow_table(struct qcow2 *q, uint64_t need_idx);

static long
rc_update(struct qcow2 *q, uint64_t host, int delta)
{
    uint64_t ci = host >> q->h.cluster_bits, idx = ci / q->rb_entries, v;
    uint8_t *data;
    int64_t blk;
    size_t len;
    uint64_t pos;
    long ret = 0;

    if (delta < 0 && (idx >= q->rt_entries || !q->rt[idx])) {
        return -EIO;            /* freeing what was never counted */
    }
    if (idx >= q->rt_entries) {
        ret = rc_grow_table(q, idx);
        if (ret < 0) {
            return ret;
        }
    }
    if (!q->rt[idx]) {
        ret = rc_alloc_block(q, idx);
        if (ret < 0) {
            return ret;
        }
    }
    blk = rc_block(q, idx);
    if (blk <= 0) {
        return -EIO;
    }
    data = cache_get(q, &q->rbc, (uint64_t)blk, &ret);
    if (!data) {
        return ret;
    }
    v = rc_entry_get(q, data, ci % q->rb_entries);
    if ((delta < 0 && v == 0) || (delta > 0 && v == q->refcount_max)) {
        return -EIO;
    }
    v = delta < 0 ? v - 1 : v + 1;
    pos = rc_entry_set(q, data, ci % q->rb_entries, v, &len);
    return blk_file_pwrite(q->b, (uint64_t)blk + pos, data + pos, len);
}

static long
rc_write_header_rt(struct qcow2 *q)
{
    uint8_t hdr[12];

    st64(hdr, q->h.refcount_table_offset);
    st32(hdr + 8, q->h.refcount_table_clusters);
    return blk_file_pwrite(q->b, 48, hdr, sizeof(hdr));
}

static long
rc_write_table(struct qcow2 *q)
{
    size_t bytes = (size_t)q->h.refcount_table_clusters * q->cs;
    uint8_t *buf = g_malloc0(bytes);
    uint64_t i;
    long ret;

    for (i = 0; i < q->rt_entries; i++) {
        st64(buf + i * 8, q->rt[i]);
    }
    ret = blk_file_pwrite(q->b, q->h.refcount_table_offset, buf, bytes);
    g_free(buf);
    return ret;
}

/*
 * Move the refcount table to a bigger one at the end of the file: write
 * it (with refcounts for its own clusters), barrier, point the header at
 * it, barrier, then free the old one. A crash leaks clusters at worst.
 */
static long
rc_grow_table(struct qcow2 *q, uint64_t need_idx)
{
    uint64_t *old_rt = q->rt, old_entries = q->rt_entries, i, off;
    uint64_t old_off = q->h.refcount_table_offset;
    uint32_t old_clusters = q->h.refcount_table_clusters;
    uint64_t entries = MAX(need_idx + 1, old_entries * 2);
    uint64_t clusters = (entries * 8 + q->cs - 1) / q->cs;
    long ret;

    if (q->growing_rt || clusters * q->cs > QCOW2_MAX_RT_BYTES) {
        return -EFBIG;
    }
    ret = reserve_clusters(q, clusters, &off);
    if (ret < 0) {
        return ret;
    }
    q->rt_entries = clusters * q->cs / 8;
    q->rt = g_new0(uint64_t, q->rt_entries);
    memcpy(q->rt, old_rt, old_entries * 8);
    q->h.refcount_table_offset = off;
    q->h.refcount_table_clusters = (uint32_t)clusters;
    q->growing_rt = true;
    for (i = 0; i < clusters && ret >= 0; i++) {
        ret = rc_update(q, off + i * q->cs, 1);
    }
    if (ret >= 0) {
        ret = rc_write_table(q);
    }
    if (ret >= 0) {
        ret = blk_file_barrier(q->b);
    }
    if (ret >= 0) {
        ret = rc_write_header_rt(q);
    }
    q->growing_rt = false;
    if (ret < 0) {
        g_free(q->rt);
        q->rt = old_rt;
        q->rt_entries = old_entries;
        q->h.refcount_table_offset = old_off;
        q->h.refcount_table_clusters = old_clusters;
        return ret;
    }
    g_free(old_rt);
    ret = blk_file_barrier(q->b);
    for (i = 0; i < old_clusters && ret >= 0; i++) {
        ret = rc_update(q, old_off + i * q->cs, -1);
    }
    return ret;
}

/* n contiguous new clusters, refcount 1 each. */
static long
alloc_clusters(struct qcow2 *q, uint64_t n, uint64_t *out)
{
    uint64_t i;
    long ret = reserve_clusters(q, n, out);

    for (i = 0; i < n && ret >= 0; i++) {
        ret = rc_update(q, *out + i * q->cs, 1);
    }
    return ret;
}

/* Drop the references an L2 entry being replaced held. */
static long
free_entry(struct qcow2 *q, uint64_t e)
{
    unsigned int x = 62 - (q->h.cluster_bits - 8);
    uint64_t start, end, c;
    long ret = 0;

    if (e & QCOW2_COMPRESSED) {
        start = (e & ((1ull << x) - 1)) & ~511ull;
        end = start + (((e >> x) & ((1ull << (q->h.cluster_bits - 8)) - 1))
                       + 1) * 512;
        for (c = start >> q->h.cluster_bits;
             c <= (end - 1) >> q->h.cluster_bits && ret >= 0; c++) {
            ret = rc_update(q, c << q->h.cluster_bits, -1);
        }
        return ret;
    }
    if (e & QCOW2_OFFSET_MASK) {
        return rc_update(q, e & QCOW2_OFFSET_MASK, -1);
    }
    return 0;
}

/* ---- cluster mapping (spec, "Cluster mapping") ---- */

static long
l2_get(struct qcow2 *q, uint64_t gc, uint64_t *entry)
{
    uint64_t l1i = gc / q->l2_entries, l1e, l2off;
    const uint8_t *tbl;
    long err = 0;

    *entry = 0;
    if (l1i >= q->h.l1_size) {
        return 0;
    }
    l1e = q->l1[l1i];
    l2off = l1e & QCOW2_OFFSET_MASK;
    if ((l1e & QCOW2_L1_RESERVED) || (l2off & (q->cs - 1))) {
        return -EIO;
    }
    if (!l2off) {
        return 0;
    }
    tbl = cache_get(q, &q->l2c, l2off, &err);
    if (!tbl) {
        return err;
    }
    *entry = ld64(tbl + (gc % q->l2_entries) * 8);
    return 0;
}

static long
l2_classify(const struct qcow2 *q, uint64_t e, enum qcow2_kind *kind)
{
    uint64_t host = e & QCOW2_OFFSET_MASK;

    if (e & QCOW2_COMPRESSED) {
        unsigned int x = 62 - (q->h.cluster_bits - 8);

        *kind = QCOW2_COMPRESSED_CL;
        return (e & ((1ull << x) - 1)) >= QCOW2_MAX_HOST_OFFSET ? -EIO : 0;
    }
    if ((e & QCOW2_L2_RESERVED) || (host & (q->cs - 1)) ||
        ((e & QCOW2_ZERO) && q->h.version < 3)) {
        return -EIO;
    }
    if (e & QCOW2_ZERO) {
        *kind = QCOW2_ZERO_CL;
    } else if (host) {
        *kind = QCOW2_NORMAL;
    } else if (e & QCOW2_COPIED) {
        return -EIO;            /* offset 0 only with external data files */
    } else {
        *kind = QCOW2_UNALLOC;
    }
    return 0;
}

static long
l1_alloc_l2(struct qcow2 *q, uint64_t l1i, uint64_t *l2off)
{
    uint8_t *zero = g_malloc0(q->cs), l1e[8];
    long ret = alloc_clusters(q, 1, l2off);

    if (ret >= 0) {
        ret = blk_file_pwrite(q->b, *l2off, zero, q->cs);
    }
    if (ret >= 0) {
        ret = blk_file_barrier(q->b);
    }
    if (ret >= 0) {
        q->l1[l1i] = *l2off | QCOW2_COPIED;
        st64(l1e, q->l1[l1i]);
        ret = blk_file_pwrite(q->b, q->h.l1_table_offset + l1i * 8, l1e, 8);
    }
    g_free(zero);
    return ret;
}

static long
l2_set(struct qcow2 *q, uint64_t gc, uint64_t entry)
{
    uint64_t l1i = gc / q->l2_entries, l2off;
    uint8_t e[8];
    long ret;

    if (l1i >= q->h.l1_size || (q->l1[l1i] & QCOW2_L1_RESERVED)) {
        return -EIO;
    }
    l2off = q->l1[l1i] & QCOW2_OFFSET_MASK;
    if (l2off & (q->cs - 1)) {
        return -EIO;
    }
    if (!l2off) {
        ret = l1_alloc_l2(q, l1i, &l2off);
        if (ret < 0) {
            return ret;
        }
    }
    st64(e, entry);
    return cache_write(q, &q->l2c, l2off, (gc % q->l2_entries) * 8, e, 8);
}

/* ---- reading ---- */

/* Inflate a compressed cluster (raw deflate, spec "Compressed Clusters
 * Descriptor") into q->cbuf. */
static long
read_compressed(struct qcow2 *q, uint64_t e)
{
    unsigned int x = 62 - (q->h.cluster_bits - 8);
    uint64_t off = e & ((1ull << x) - 1);
    uint64_t nsect = ((e >> x) & ((1ull << (q->h.cluster_bits - 8)) - 1)) + 1;
    size_t csize = (size_t)(nsect * 512 - (off & 511));
    z_stream z = { 0 };
    long ret = blk_file_pread(q->b, off, q->zbuf, csize);
    int zr;

    if (ret < 0) {
        return ret;
    }
    if (inflateInit2(&z, -15) != Z_OK) {
        return -ENOMEM;
    }
    z.next_in = q->zbuf;
    z.avail_in = (uInt)csize;
    z.next_out = q->cbuf;
    z.avail_out = (uInt)q->cs;
    zr = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK) ||
        z.avail_out != 0) {
        return -EIO;
    }
    return 0;
}

/* Read n bytes at guest offset off, inside one cluster with entry e. */
static long
read_in_cluster(struct qcow2 *q, uint64_t e, uint64_t off, uint8_t *buf,
                size_t n)
{
    uint64_t in = off & (q->cs - 1);
    enum qcow2_kind kind;
    long ret = l2_classify(q, e, &kind);

    if (ret < 0) {
        return ret;
    }
    switch (kind) {
    case QCOW2_UNALLOC:
        if (q->backing) {
            return blk_sync_pread(q->backing, off, buf, n);
        }
        memset(buf, 0, n);
        return 0;
    case QCOW2_ZERO_CL:
        memset(buf, 0, n);
        return 0;
    case QCOW2_NORMAL:
        return blk_file_pread(q->b, (e & QCOW2_OFFSET_MASK) + in, buf, n);
    default:
        ret = read_compressed(q, e);
        if (ret >= 0) {
            memmove(buf, q->cbuf + in, n);  /* buf may be q->cbuf (COW) */
        }
        return ret;
    }
}

static long
qcow2_read(struct qcow2 *q, uint64_t off, uint8_t *buf, size_t len)
{
    while (len) {
        size_t n = (size_t)MIN(len, q->cs - (off & (q->cs - 1)));
        uint64_t e;
        long ret = l2_get(q, off >> q->h.cluster_bits, &e);

        if (ret >= 0) {
            ret = read_in_cluster(q, e, off, buf, n);
        }
        if (ret < 0) {
            return ret;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

/* ---- writing ---- */

/* Write into a new cluster: the old contents around the new bytes (COW),
 * then its refcount; the L2 entry is set later by qcow2_link(). */
static long
write_new_cluster(struct qcow2 *q, uint64_t e, uint64_t off,
                  const uint8_t *buf, size_t n, struct qcow2_alloc *a)
{
    uint64_t in = off & (q->cs - 1), start = off - in;
    const uint8_t *src = buf;
    long ret;

    if (n < q->cs) {
        ret = read_in_cluster(q, e, start, q->cbuf, q->cs);
        if (ret < 0) {
            return ret;
        }
        memcpy(q->cbuf + in, buf, n);
        src = q->cbuf;
    }
    ret = reserve_clusters(q, 1, &a->host);
    if (ret >= 0) {
        ret = blk_file_pwrite(q->b, a->host, src, q->cs);
    }
    if (ret >= 0) {
        ret = rc_update(q, a->host, 1);
    }
    a->guest_cluster = off >> q->h.cluster_bits;
    a->old_entry = e;
    return ret;
}

/* After the data: barrier, L2 entries, then the old clusters' refs. */
static long
qcow2_link(struct qcow2 *q, const struct qcow2_alloc *a, size_t na)
{
    long ret = blk_file_barrier(q->b);
    size_t i;

    for (i = 0; i < na && ret >= 0; i++) {
        ret = l2_set(q, a[i].guest_cluster, a[i].host | QCOW2_COPIED);
    }
    for (i = 0; i < na && ret >= 0; i++) {
        ret = free_entry(q, a[i].old_entry);
    }
    return ret;
}

static long
qcow2_write(struct qcow2 *q, uint64_t off, const uint8_t *buf, size_t len)
{
    size_t max = len / q->cs + 2, na = 0;
    struct qcow2_alloc *a = g_new(struct qcow2_alloc, max);
    long ret = 0;

    while (len && ret >= 0) {
        size_t n = (size_t)MIN(len, q->cs - (off & (q->cs - 1)));
        enum qcow2_kind kind;
        uint64_t e;

        ret = l2_get(q, off >> q->h.cluster_bits, &e);
        if (ret >= 0) {
            ret = l2_classify(q, e, &kind);
        }
        if (ret < 0) {
            break;
        }
        if (kind == QCOW2_NORMAL && (e & QCOW2_COPIED)) {
            ret = blk_file_pwrite(q->b, (e & QCOW2_OFFSET_MASK) +
                                  (off & (q->cs - 1)), buf, n);
        } else {
            ret = write_new_cluster(q, e, off, buf, n, &a[na++]);
        }
        off += n;
        buf += n;
        len -= n;
    }
    if (ret >= 0 && na) {
        ret = qcow2_link(q, a, na);
    }
    g_free(a);
    return ret;
}

static long
qcow2_sync_rw(struct blk *b, bool write, uint64_t offset,
              const struct iovec *iov, int iovcnt)
{
    struct qcow2 *q = b->drv_state;
    size_t len = 0, done = 0;
    uint8_t *buf;
    long ret = 0;
    int i;

    for (i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    /* Streamed in pieces: one buffer of at most BLK_REQ_CHUNK. */
    buf = g_malloc(MAX(MIN(len, BLK_REQ_CHUNK), 1));
    while (done < len && ret >= 0) {
        size_t n = MIN(len - done, BLK_REQ_CHUNK);

        if (write) {
            blk_iov_to_buf_at(iov, iovcnt, done, buf, n);
        }
        g_mutex_lock(&q->lock);
        ret = write ? qcow2_write(q, offset + done, buf, n)
                    : qcow2_read(q, offset + done, buf, n);
        g_mutex_unlock(&q->lock);
        if (!write && ret >= 0) {
            blk_iov_from_buf_at(iov, iovcnt, done, buf, n);
        }
        done += n;
    }
    g_free(buf);
    return ret < 0 ? ret : (long)len;
}

/* ---- opening: the header as hostile input ---- */

static int G_GNUC_PRINTF(4, 5)
qerr(const struct qcow2 *q, char *err, size_t errlen, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "'%s': qcow2: %s", q->b->filename, msg);
    return -EINVAL;
}

static void
hdr_decode(struct qcow2_header *h, const uint8_t *p)
{
    h->magic = ld32(p + 0);
    h->version = ld32(p + 4);
    h->backing_file_offset = ld64(p + 8);
    h->backing_file_size = ld32(p + 16);
    h->cluster_bits = ld32(p + 20);
    h->size = ld64(p + 24);
    h->crypt_method = ld32(p + 32);
    h->l1_size = ld32(p + 36);
    h->l1_table_offset = ld64(p + 40);
    h->refcount_table_offset = ld64(p + 48);
    h->refcount_table_clusters = ld32(p + 56);
    h->nb_snapshots = ld32(p + 60);
    h->snapshots_offset = ld64(p + 64);
    if (h->version < 3) {
        h->refcount_order = 4;
        h->header_length = QCOW2_V2_HEADER_LEN;
        return;
    }
    h->incompatible_features = ld64(p + 72);
    h->compatible_features = ld64(p + 80);
    h->autoclear_features = ld64(p + 88);
    h->refcount_order = ld32(p + 96);
    h->header_length = ld32(p + 100);
    h->compression_type = h->header_length > 104 ? p[104] : 0;
}

static int
hdr_check_basic(struct qcow2 *q, char *err, size_t errlen)
{
    const struct qcow2_header *h = &q->h;

    if (h->magic != QCOW2_MAGIC) {
        return qerr(q, err, errlen, "not a qcow2 image (bad magic); check "
                    "the drive's format=");
    }
    if (h->version != 2 && h->version != 3) {
        return qerr(q, err, errlen, "version %u is not supported (2 and 3 "
                    "are)", h->version);
    }
    if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
        h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        return qerr(q, err, errlen, "cluster_bits %u out of range %u..%u",
                    h->cluster_bits, QCOW2_MIN_CLUSTER_BITS,
                    QCOW2_MAX_CLUSTER_BITS);
    }
    q->cs = 1ull << h->cluster_bits;
    if (h->version == 3 && (h->header_length < QCOW2_V3_HEADER_LEN ||
                            h->header_length % 8 ||
                            h->header_length > q->cs)) {
        return qerr(q, err, errlen, "bad header_length %u",
                    h->header_length);
    }
    if (h->crypt_method) {
        return qerr(q, err, errlen, "encrypted images (crypt_method %u) are "
                    "not supported; decrypt it with qemu-img convert",
                    h->crypt_method);
    }
    if (h->refcount_order > 6) {
        return qerr(q, err, errlen, "refcount_order %u out of range 0..6",
                    h->refcount_order);
    }
    if (h->size > QCOW2_MAX_SIZE) {
        return qerr(q, err, errlen, "virtual size %" PRIu64 " too large",
                    h->size);
    }
    return 0;
}

static int
hdr_check_features(struct qcow2 *q, char *err, size_t errlen)
{
    const struct qcow2_header *h = &q->h;
    uint64_t inc = h->incompatible_features;

    if (inc & ~QCOW2_INCOMPAT_KNOWN) {
        return qerr(q, err, errlen, "unknown incompatible features 0x%" PRIx64
                    "; this image needs a newer implementation",
                    (uint64_t)(inc & ~QCOW2_INCOMPAT_KNOWN));
    }
    if (inc & QCOW2_INCOMPAT_DATA_FILE) {
        return qerr(q, err, errlen, "external data files are not supported");
    }
    if (inc & QCOW2_INCOMPAT_EXTL2) {
        return qerr(q, err, errlen, "extended L2 entries are not supported; "
                    "convert with qemu-img convert -o extended_l2=off");
    }
    if ((inc & QCOW2_INCOMPAT_COMPRESSION) || h->compression_type) {
        return qerr(q, err, errlen, "compression type %u (incompatible bit "
                    "3) is not supported, only zlib; convert with qemu-img "
                    "convert -o compression_type=zlib", h->compression_type);
    }
    if (q->b->read_only) {
        return 0;
    }
    if (inc & (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT)) {
        return qerr(q, err, errlen, "image is marked %s; repair it with "
                    "qemu-img check -r all or open it readonly=on",
                    (inc & QCOW2_INCOMPAT_CORRUPT) ? "corrupt" : "dirty");
    }
    if (h->nb_snapshots) {
        return qerr(q, err, errlen, "image has %u internal snapshots, which "
                    "hvmdm only opens readonly=on (delete them with "
                    "qemu-img snapshot -d)", h->nb_snapshots);
    }
    return 0;
}

/* A cluster-aligned table of bytes length inside the file. */
static bool
table_ok(const struct qcow2 *q, uint64_t off, uint64_t bytes,
         uint64_t file_len)
{
    return off && !(off & (q->cs - 1)) && off <= file_len &&
           bytes <= file_len - off;
}

static int
hdr_check_tables(struct qcow2 *q, uint64_t file_len, char *err,
                 size_t errlen)
{
    const struct qcow2_header *h = &q->h;
    uint64_t per_l2 = q->cs * q->l2_entries;
    uint64_t need = (h->size + per_l2 - 1) / per_l2;
    uint64_t rt_bytes = (uint64_t)h->refcount_table_clusters * q->cs;

    if (h->l1_size < need || (uint64_t)h->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        return qerr(q, err, errlen, "l1_size %u does not fit the virtual "
                    "size (needs %" PRIu64 ", at most %u)", h->l1_size,
                    need, QCOW2_MAX_L1_BYTES / 8);
    }
    if (h->l1_size &&
        !table_ok(q, h->l1_table_offset, (uint64_t)h->l1_size * 8,
                  file_len)) {
        return qerr(q, err, errlen, "L1 table offset 0x%" PRIx64 " is not "
                    "cluster aligned inside the file", h->l1_table_offset);
    }
    if (!h->refcount_table_clusters || rt_bytes > QCOW2_MAX_RT_BYTES ||
        !table_ok(q, h->refcount_table_offset, rt_bytes, file_len)) {
        return qerr(q, err, errlen, "refcount table (offset 0x%" PRIx64
                    ", %u clusters) is not cluster aligned inside the file",
                    h->refcount_table_offset, h->refcount_table_clusters);
    }
    if (h->nb_snapshots && (h->snapshots_offset & (q->cs - 1))) {
        return qerr(q, err, errlen, "snapshot table offset not aligned");
    }
    return 0;
}

/* Header extensions after the header, inside the first cluster. */
static int
hdr_read_extensions(struct qcow2 *q, const uint8_t *c0, char *fmt,
                    size_t fmtlen, char *err, size_t errlen)
{
    uint64_t pos = q->h.header_length;

    while (pos + 8 <= q->cs) {
        uint32_t type = ld32(c0 + pos), len = ld32(c0 + pos + 4);

        if (type == QCOW2_EXT_END) {
            return 0;
        }
        pos += 8;
        if (len > q->cs - pos) {
            return qerr(q, err, errlen, "header extension 0x%08x runs past "
                        "the first cluster", type);
        }
        if (type == QCOW2_EXT_BACKING_FMT) {
            if (len >= fmtlen) {
                return qerr(q, err, errlen, "backing format name too long");
            }
            memcpy(fmt, c0 + pos, len);
            fmt[len] = 0;
        }
        pos += (len + 7ull) & ~7ull;
    }
    return 0;
}

/* The operator's policy and the format the image names (issue 14). */
static int
hdr_backing_open_checked(struct qcow2 *q, const char *name, const char *fmt,
                         char *err, size_t errlen)
{
    enum dm_backing_policy pol = blk_backing_policy(q->b);

    if (pol == DM_BACKING_OFF) {
        return qerr(q, err, errlen, "has a backing file ('%s') and "
                    "-block-backing off refuses backing chains; flatten it "
                    "with qemu-img convert", name);
    }
    if (!*fmt && pol == DM_BACKING_RAW_OK) {
        fmt = "raw";
    }
    if (!*fmt) {
        return qerr(q, err, errlen, "backing file '%s' has no backing "
                    "format; name it with qemu-img rebase -u -F raw|qcow2, "
                    "or allow raw with -block-backing raw-ok", name);
    }
    if (strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
        return qerr(q, err, errlen, "backing file format '%s' is not "
                    "supported (raw and qcow2 are)", fmt);
    }
    q->backing = blk_open_backing(q->b, name, fmt, err, errlen);
    return q->backing ? 0 : -EINVAL;
}

static int
hdr_open_backing(struct qcow2 *q, const uint8_t *c0, const char *fmt,
                 char *err, size_t errlen)
{
    const struct qcow2_header *h = &q->h;
    char name[QCOW2_MAX_BACKING_NAME + 1];

    if (!h->backing_file_offset) {
        return 0;
    }
    if (h->backing_file_size == 0 ||
        h->backing_file_size > QCOW2_MAX_BACKING_NAME ||
        h->backing_file_offset > q->cs ||
        h->backing_file_size > q->cs - h->backing_file_offset) {
        return qerr(q, err, errlen, "backing file name (offset 0x%" PRIx64
                    ", %u bytes) is not inside the first cluster",
                    h->backing_file_offset, h->backing_file_size);
    }
    memcpy(name, c0 + h->backing_file_offset, h->backing_file_size);
    name[h->backing_file_size] = 0;
    if (strlen(name) != h->backing_file_size) {
        return qerr(q, err, errlen, "backing file name contains NUL");
    }
    return hdr_backing_open_checked(q, name, fmt, err, errlen);
}


static long
load_table(struct qcow2 *q, uint64_t off, uint64_t n, uint64_t **out)
{
    uint8_t *raw = g_malloc(n ? n * 8 : 1);
    uint64_t i;
    long ret = blk_file_pread(q->b, off, raw, n * 8);

    *out = g_new0(uint64_t, n ? n : 1);
    for (i = 0; i < n && ret >= 0; i++) {
        (*out)[i] = ld64(raw + i * 8);
    }
    g_free(raw);
    return ret;
}

static int
qcow2_load_tables(struct qcow2 *q, char *err, size_t errlen)
{
    q->rt_entries = (uint64_t)q->h.refcount_table_clusters * q->cs / 8;
    if (load_table(q, q->h.l1_table_offset, q->h.l1_size, &q->l1) < 0 ||
        load_table(q, q->h.refcount_table_offset, q->rt_entries,
                   &q->rt) < 0) {
        return qerr(q, err, errlen, "cannot read the L1 or refcount table");
    }
    return 0;
}

/* Opening for writing: unknown auto-clear bits must be cleared (spec,
 * autoclear_features); we keep no bitmaps up to date either. */
static int
qcow2_clear_autoclear(struct qcow2 *q, char *err, size_t errlen)
{
    uint8_t zero[8] = { 0 };

    if (q->b->read_only || q->h.version < 3 || !q->h.autoclear_features) {
        return 0;
    }
    if (blk_file_pwrite(q->b, 88, zero, sizeof(zero)) < 0) {
        return qerr(q, err, errlen, "cannot clear the auto-clear features");
    }
    q->h.autoclear_features = 0;
    return 0;
}

/* Tables and caches this image may pin, against the chain's cap. */
static int
qcow2_charge(struct qcow2 *q, char *err, size_t errlen)
{
    uint64_t bytes = (uint64_t)q->h.l1_size * 8 +
                     (uint64_t)q->h.refcount_table_clusters * q->cs +
                     (QCOW2_L2_CACHE_SIZE + QCOW2_RB_CACHE_SIZE + 3) * q->cs;

    if (blk_chain_charge(q->b, bytes) < 0) {
        return qerr(q, err, errlen, "the backing chain would pin more than "
                    "%llu MiB of tables (%" PRIu64 " MiB for this image)",
                    BLK_CHAIN_MEM_MAX >> 20, bytes >> 20);
    }
    return 0;
}

static int
qcow2_parse(struct qcow2 *q, char *err, size_t errlen)
{
    char fmt[QCOW2_MAX_FORMAT_NAME] = "";
    int64_t file_len = blk_file_length(q->b);
    uint8_t hdr[QCOW2_V3_HEADER_LEN + 8] = { 0 }, *c0;
    int ret;

    if (file_len < QCOW2_V2_HEADER_LEN ||
        blk_file_pread(q->b, 0, hdr, sizeof(hdr)) < 0) {
        return qerr(q, err, errlen, "file too short or unreadable for a "
                    "qcow2 header");
    }
    hdr_decode(&q->h, hdr);
    ret = hdr_check_basic(q, err, errlen);
    if (ret < 0) {
        return ret;
    }
    q->l2_entries = q->cs / 8;
    q->rb_entries = q->cs * 8 >> q->h.refcount_order;
    q->refcount_max = q->h.refcount_order == 6
        ? UINT64_MAX : (1ull << (1u << q->h.refcount_order)) - 1;
    ret = hdr_check_features(q, err, errlen);
    if (ret >= 0) {
        ret = hdr_check_tables(q, (uint64_t)file_len, err, errlen);
    }
    if (ret >= 0) {
        ret = qcow2_charge(q, err, errlen);
    }
    if (ret < 0) {
        return ret;
    }
    c0 = g_malloc(q->cs);
    if (blk_file_pread(q->b, 0, c0, q->cs) < 0) {
        ret = qerr(q, err, errlen, "cannot read the first cluster");
    } else {
        ret = hdr_read_extensions(q, c0, fmt, sizeof(fmt), err, errlen);
    }
    if (ret >= 0) {
        ret = hdr_open_backing(q, c0, fmt, err, errlen);
    }
    g_free(c0);
    if (ret >= 0) {
        ret = qcow2_load_tables(q, err, errlen);
    }
    q->next_free = ((uint64_t)file_len + q->cs - 1) & ~(q->cs - 1);
    return ret < 0 ? ret : qcow2_clear_autoclear(q, err, errlen);
}

static void
qcow2_free(struct qcow2 *q)
{
    blk_close(q->backing);
    cache_free(&q->l2c);
    cache_free(&q->rbc);
    g_free(q->l1);
    g_free(q->rt);
    g_free(q->cbuf);
    g_free(q->zbuf);
    g_mutex_clear(&q->lock);
    g_free(q);
}

static int
qcow2_open(struct blk *b, char *err, size_t errlen)
{
    struct qcow2 *q = g_new0(struct qcow2, 1);
    int ret;

    g_mutex_init(&q->lock);
    q->b = b;
    q->l2c.n = QCOW2_L2_CACHE_SIZE;
    q->rbc.n = QCOW2_RB_CACHE_SIZE;
    ret = qcow2_parse(q, err, errlen);
    if (ret < 0) {
        qcow2_free(q);
        return ret;
    }
    q->cbuf = g_malloc(q->cs);
    q->zbuf = g_malloc(2 * q->cs);
    b->size = q->h.size;
    b->drv_state = q;
    return 0;
}

static void
qcow2_close(struct blk *b)
{
    qcow2_free(b->drv_state);
    b->drv_state = NULL;
}

const struct blk_driver blk_qcow2_driver = {
    .format = "qcow2",
    .open = qcow2_open,
    .close = qcow2_close,
    .sync_rw = qcow2_sync_rw,
};
