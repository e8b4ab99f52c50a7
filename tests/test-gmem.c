/*
 * Guest-memory tests: copies across page and bucket boundaries, faults on
 * holes, past RAM and on wrapping ranges, the bound on mapped memory,
 * pinning, invalidation and log-dirty reporting.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/gmem.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"

static struct t_machine *
gm_machine(unsigned int buckets, uint64_t ram)
{
    struct t_opts o = { .no_board = true, .gm_buckets = buckets,
                        .ram_size = ram };

    return t_machine_new(&o);
}

T_TEST(gmem_copies_cross_pages_and_buckets)
{
    struct t_machine *t = gm_machine(4, 8 << 20);
    uint8_t src[9000], dst[9000];

    for (unsigned int i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t)(i * 13 + 1);
    }
    T_EQ(gm_write(t->dm->gm, 0x200000 - 4500, src, sizeof(src)), 0);
    t_memread(t, 0x200000 - 4500, dst, sizeof(dst));
    T_ASSERT(memcmp(src, dst, sizeof(src)) == 0);
    memset(dst, 0, sizeof(dst));
    T_EQ(gm_read(t->dm->gm, 0x200000 - 4500, dst, sizeof(dst)), 0);
    T_ASSERT(memcmp(src, dst, sizeof(src)) == 0);
    T_EQ(gm_read(t->dm->gm, 0, dst, 0), 0);
    t_machine_free(t);
}

T_TEST(gmem_faults_are_errors_not_crashes)
{
    struct t_machine *t = gm_machine(4, 8 << 20);
    uint8_t b[64];

    t_ram_hole(t, 0x10000, 0x1000);
    T_EQ(gm_read(t->dm->gm, 0x10000, b, 1), -EFAULT);
    T_EQ(gm_read(t->dm->gm, 0x10000 - 8, b, 16), -EFAULT); /* runs in */
    T_EQ(gm_write(t->dm->gm, 0x11000, b, 16), 0);          /* after it */
    T_EQ(gm_read(t->dm->gm, (8 << 20) - 8, b, 16), -EFAULT); /* past RAM */
    T_EQ(gm_read(t->dm->gm, 1ull << 40, b, 16), -EFAULT);
    T_EQ(gm_read(t->dm->gm, UINT64_MAX - 4, b, 16), -EFAULT); /* wraps */
    T_ASSERT(gm_stats(t->dm->gm)->faults >= 5);
    t_machine_free(t);
}

T_TEST(gmem_mapped_memory_is_bounded)
{
    struct t_machine *t = gm_machine(4, 64 << 20);
    uint64_t peak = 0, sum = 0;
    uint8_t b[4096];

    for (unsigned int i = 0; i < 256; i++) {
        t_memset(t, (uint64_t)i << 18, (int)i, 1);
    }
    /* Touch all 64 MiB: far more than the 4 MiB the cache may hold. */
    for (uint64_t gpa = 0; gpa < (64 << 20); gpa += sizeof(b)) {
        T_EQ(gm_read(t->dm->gm, gpa, b, sizeof(b)), 0);
        if (!(gpa & ((1 << 18) - 1))) {
            sum += b[0];
        }
    }
    T_EQ(sum, 255 * 256 / 2);
    t_mapped_pages(t, &peak);
    T_ASSERT(peak <= 4 * GM_BUCKET_PAGES);
    T_ASSERT(gm_stats(t->dm->gm)->peak_mapped <= 4);
    T_EQ(gm_stats(t->dm->gm)->evictions, 64 - 4);
    t_machine_free(t);
}

T_TEST(gmem_pinned_buckets_survive_pressure)
{
    struct t_machine *t = gm_machine(2, 16 << 20);
    size_t len = 64;
    int err = 1;
    uint8_t *host, b[8];

    t_memset(t, 0x100000, 0xab, 64);
    host = gm_map(t->dm->gm, 0x100000, &len, 1, &err);
    T_ASSERT(host);
    T_EQ(err, 0);
    T_EQ(len, 64);
    for (uint64_t gpa = 0x200000; gpa < (16 << 20); gpa += 0x100000) {
        T_EQ(gm_read(t->dm->gm, gpa, b, sizeof(b)), 0);
    }
    T_EQ(host[10], 0xab);               /* still mapped */
    host[11] = 0xcd;
    /* Both buckets pinned: copies fail instead of evicting them. */
    len = 8;
    T_ASSERT(gm_map(t->dm->gm, 0x300000, &len, 1, &err));
    T_EQ(gm_read(t->dm->gm, 0x500000, b, sizeof(b)), -EFAULT);
    gm_unmap(t->dm->gm, host, 64, 1);
    T_EQ(t_ram(t)[0x10000b], 0xcd);
    T_EQ(gm_read(t->dm->gm, 0x500000, b, sizeof(b)), 0);
    t_machine_free(t);
}

T_TEST(gmem_map_clips_to_bucket_and_holes)
{
    struct t_machine *t = gm_machine(4, 8 << 20);
    size_t len = 0x3000;
    int err;
    void *host;

    host = gm_map(t->dm->gm, 0x100000 - 0x1000, &len, 0, &err);
    T_ASSERT(host);
    T_EQ(len, 0x1000);                  /* stops at the bucket end */
    gm_unmap(t->dm->gm, host, len, 0);
    t_ram_hole(t, 0x202000, 0x1000);
    len = 0x4000;
    host = gm_map(t->dm->gm, 0x200000, &len, 0, &err);
    T_EQ(len, 0x2000);                  /* stops at the hole */
    gm_unmap(t->dm->gm, host, len, 0);
    len = 16;
    T_ASSERT(!gm_map(t->dm->gm, 0x202000, &len, 0, &err));
    T_EQ(err, -EFAULT);
    t_machine_free(t);
}

T_TEST(gmem_invalidate_waits_for_pinned_dma)
{
    struct t_machine *t = gm_machine(4, 8 << 20);
    size_t len = 16;
    int err;
    uint8_t b[4];
    void *host;

    T_EQ(gm_read(t->dm->gm, 0x0, b, sizeof(b)), 0);
    host = gm_map(t->dm->gm, 0x100000, &len, 1, &err);
    T_ASSERT(host);
    gm_invalidate(t->dm->gm);
    T_EQ(t_mapped_pages(t, NULL), GM_BUCKET_PAGES);     /* the pinned one */
    /* New accesses to the same bucket get a fresh mapping. */
    T_EQ(gm_read(t->dm->gm, 0x100000, b, sizeof(b)), 0);
    T_EQ(t_mapped_pages(t, NULL), 2 * GM_BUCKET_PAGES);
    gm_unmap(t->dm->gm, host, len, 0);
    T_EQ(t_mapped_pages(t, NULL), GM_BUCKET_PAGES);
    gm_invalidate(t->dm->gm);
    T_EQ(t_mapped_pages(t, NULL), 0);
    t_machine_free(t);
}

T_TEST(gmem_log_dirty_reports_writes)
{
    struct t_machine *t = gm_machine(4, 8 << 20);
    uint8_t b[8192] = { 0 };

    T_EQ(gm_write(t->dm->gm, 0x1000, b, 16), 0);
    T_EQ(t_hv_count(t, "modified"), 0);
    gm_set_log_dirty(t->dm->gm, 1);
    T_EQ(gm_write(t->dm->gm, 0x1ff0, b, 8192), 0);
    T_EQ(t_hv_count(t, "modified 0x1 3"), 1);
    T_EQ(gm_read(t->dm->gm, 0x1000, b, 16), 0);
    T_EQ(t_hv_count(t, "modified"), 1);
    t_machine_free(t);
}
