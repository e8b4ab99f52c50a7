/*
 * The E820 map: RAM below 640 KiB, the BIOS up to 1 MiB, RAM from 1 MiB,
 * our tables, the fixed-device area from RESERVED_MEMBASE to 4 GiB, RAM
 * above 4 GiB, and the toolstack's reserved ranges (facts:
 * shared/docs/xen-dm-interface.md 6.5). The VGA window and the MMIO hole
 * are left out, as on real PCs.
 */
#include "firmware/hvmloader/e820.h"

#define RESERVED_MEMBASE 0xfc000000ull
#define GIB4_E820 0x100000000ull

static void
e820_sort(struct e820_map *m)
{
    unsigned i, j;
    struct e820_entry t;

    for (i = 1; i < m->nr; i++) {
        t = m->e[i];
        for (j = i; j > 0 && m->e[j - 1].addr > t.addr; j--) {
            m->e[j] = m->e[j - 1];
        }
        m->e[j] = t;
    }
}

static int
e820_push(struct e820_map *m, uint64_t addr, uint64_t size, uint32_t type)
{
    if (!size) {
        return 0;
    }
    if (m->nr >= E820_MAX) {
        return -1;
    }
    m->e[m->nr].addr = addr;
    m->e[m->nr].size = size;
    m->e[m->nr].type = type;
    m->nr++;
    return 0;
}

/* Cut [addr, end) out of every entry, splitting where needed. */
static int
e820_punch(struct e820_map *m, uint64_t addr, uint64_t end)
{
    unsigned i, n = m->nr;
    uint64_t s, e;

    for (i = 0; i < n; i++) {
        s = m->e[i].addr;
        e = s + m->e[i].size;
        if (e <= addr || s >= end) {
            continue;
        }
        m->e[i].size = s < addr ? addr - s : 0;
        if (e > end && e820_push(m, end, e - end, m->e[i].type) < 0) {
            return -1;
        }
    }
    /* Drop emptied entries. */
    for (i = n = 0; i < m->nr; i++) {
        if (m->e[i].size) {
            m->e[n++] = m->e[i];
        }
    }
    m->nr = n;
    return 0;
}

/* Join neighbours of one type. */
static void
e820_merge(struct e820_map *m)
{
    unsigned i, n = 0;

    for (i = 0; i < m->nr; i++) {
        if (n && m->e[n - 1].type == m->e[i].type &&
            m->e[n - 1].addr + m->e[n - 1].size == m->e[i].addr) {
            m->e[n - 1].size += m->e[i].size;
        } else {
            m->e[n++] = m->e[i];
        }
    }
    m->nr = n;
}

int
e820_add(struct e820_map *m, uint64_t addr, uint64_t size, uint32_t type)
{
    if (!size) {
        return 0;
    }
    if (addr + size < addr) {
        return -1;
    }
    if (e820_punch(m, addr, addr + size) < 0 ||
        e820_push(m, addr, size, type) < 0) {
        return -1;
    }
    e820_sort(m);
    e820_merge(m);
    return 0;
}

int
e820_build(struct e820_map *m, const struct e820_layout *l)
{
    unsigned i;
    int rc = 0;

    m->nr = 0;
    rc |= e820_add(m, 0, 0xa0000, E820_RAM);
    rc |= e820_add(m, l->bios_start, 0x100000 - l->bios_start,
                   E820_RESERVED);
    rc |= e820_add(m, 0x100000, l->tables_start - 0x100000, E820_RAM);
    rc |= e820_add(m, l->tables_start, l->low_mem_end - l->tables_start,
                   E820_RESERVED);
    rc |= e820_add(m, RESERVED_MEMBASE, GIB4_E820 - RESERVED_MEMBASE,
                   E820_RESERVED);
    if (l->high_mem_end > GIB4_E820) {
        rc |= e820_add(m, GIB4_E820, l->high_mem_end - GIB4_E820, E820_RAM);
    }
    for (i = 0; i < l->nr_extra; i++) {
        if (l->extra[i].type != E820_RAM) {
            rc |= e820_add(m, l->extra[i].addr, l->extra[i].size,
                           l->extra[i].type);
        }
    }
    return rc ? -1 : 0;
}
