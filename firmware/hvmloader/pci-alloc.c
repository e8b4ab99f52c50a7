/*
 * BAR placement (the rules of X:tools/firmware/hvmloader/pci.c as
 * described in shared/docs/xen-dm-interface.md 6.3; own implementation).
 * PCI Local Bus Specification 3.0, 6.2.5.1: a BAR's size is a power of two
 * and its address is aligned to it, so placing largest first packs the
 * window without gaps.
 */
#include "firmware/hvmloader/pci-alloc.h"

void
pci_bars_sort(struct bar *bars, unsigned n)
{
    unsigned i, j;
    struct bar t;

    for (i = 1; i < n; i++) {
        t = bars[i];
        for (j = i; j > 0 && bars[j - 1].size < t.size; j--) {
            bars[j] = bars[j - 1];
        }
        bars[j] = t;
    }
}

static uint64_t
low_mem_total(const struct bar *bars, unsigned n)
{
    uint64_t total = 0;
    unsigned i;

    for (i = 0; i < n; i++) {
        if (!(bars[i].flags & (BAR_IO | BAR_HIGH))) {
            total += bars[i].size;
        }
    }
    return total;
}

/* The next, doubled hole start, or 0 when it may not grow. */
static uint32_t
hole_grow(uint32_t start, const struct pci_layout *l)
{
    uint32_t next = (uint32_t)(GIB4 - 2 * (GIB4 - start));

    if (start <= PCI_HOLE_MIN_START) {
        return 0;
    }
    if (next < l->low_mem_end && !l->allow_relocate) {
        return 0;
    }
    return next;
}

/* Send the largest 64-bit BAR still in the hole above 4 GiB. */
static bool
move_one_high(struct bar *bars, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if ((bars[i].flags & (BAR_MEM64 | BAR_HIGH | BAR_IO)) == BAR_MEM64) {
            bars[i].flags |= BAR_HIGH;
            return true;
        }
    }
    return false;
}

/* Choose the hole and which BARs go high. */
static void
choose_windows(struct bar *bars, unsigned n, struct pci_layout *l)
{
    uint32_t start = l->hole_start, next;

    if (start > PCI_HOLE_START || start < PCI_HOLE_MIN_START) {
        start = PCI_HOLE_START;
    }
    /* The hole never starts below RAM that may not move. */
    if (start < l->low_mem_end && !l->allow_relocate) {
        start = ALIGN_UP(l->low_mem_end, 0x10000000u);
    }
    for (;;) {
        if (low_mem_total(bars, n) <= PCI_HOLE_END - start) {
            break;
        }
        next = hole_grow(start, l);
        if (next) {
            start = next;
        } else if (!move_one_high(bars, n)) {
            break;
        }
    }
    l->mem_start = start;
    l->relocate_start = start < l->low_mem_end ? start : l->low_mem_end;
}

/* Place bars of one kind (match under mask) from *cursor up to end. */
static int
place_run(struct bar *bars, unsigned n, uint8_t mask, uint8_t match,
          uint64_t *cursor, uint64_t end)
{
    unsigned i;
    uint64_t a;
    int rc = 0;

    for (i = 0; i < n; i++) {
        if ((bars[i].flags & mask) != match) {
            continue;
        }
        a = ALIGN_UP(*cursor, bars[i].size);
        if (a < *cursor || a > end || end - a < bars[i].size) {
            bars[i].addr = 0;
            rc = -1;
            continue;
        }
        bars[i].addr = a;
        *cursor = a + bars[i].size;
    }
    return rc;
}

int
pci_bars_place(struct bar *bars, unsigned n, struct pci_layout *l)
{
    uint64_t cursor, end;
    int rc = 0;

    pci_bars_sort(bars, n);
    choose_windows(bars, n, l);

    cursor = l->mem_start;
    rc |= place_run(bars, n, BAR_IO | BAR_HIGH, 0, &cursor, PCI_HOLE_END);

    l->high_start = l->high_mem_end > GIB4 ? l->high_mem_end : GIB4;
    /* Relocated RAM lands at the old high end: stay above it. */
    l->high_start += l->low_mem_end - l->relocate_start;
    l->high_start = ALIGN_UP(l->high_start, 0x40000000ull);
    cursor = l->high_start;
    end = 1ull << 46;       /* a physical-address width every CPU has */
    rc |= place_run(bars, n, BAR_HIGH, BAR_HIGH, &cursor, end);
    l->high_end = cursor;

    cursor = PCI_IO_START;
    rc |= place_run(bars, n, BAR_IO, BAR_IO, &cursor, PCI_IO_END);
    return rc;
}
