/*
 * BAR placement: what pci.c found on the bus goes in, addresses come out.
 * Pure: no configuration-space access, so the host tests drive it.
 */
#ifndef HVMLOADER_PCI_ALLOC_H
#define HVMLOADER_PCI_ALLOC_H

#include "firmware/hvmloader/lib.h"

#define PCI_HOLE_END        0xfc000000u     /* RESERVED_MEMBASE */
#define PCI_HOLE_START      0xf0000000u     /* HVM_BELOW_4G_MMIO_START */
#define PCI_HOLE_MIN_START  0x80000000u     /* the hole grows to 2 GiB */
#define PCI_IO_START        0xc000u
#define PCI_IO_END          0x10000u
#define GIB4                0x100000000ull

#define BAR_IO      0x01u
#define BAR_MEM64   0x02u
#define BAR_PREFETCH 0x04u
#define BAR_HIGH    0x08u   /* output: placed above 4 GiB */

struct bar {
    uint8_t devfn;
    uint8_t reg;            /* config offset: 0x10..0x24, 0x30 (ROM) */
    uint8_t flags;
    uint64_t size;          /* a power of two */
    uint64_t addr;          /* output */
};

struct pci_layout {
    /* Inputs. */
    uint32_t hole_start;    /* 4 GiB - platform/mmio_hole_size */
    uint32_t low_mem_end;   /* end of RAM below 4 GiB */
    uint64_t high_mem_end;  /* end of RAM above 4 GiB (0: none) */
    bool allow_relocate;    /* hvmloader/allow-memory-relocate */
    /* Outputs. */
    uint32_t mem_start;     /* the hole as placed: [mem_start, HOLE_END) */
    uint32_t relocate_start;    /* RAM [this, low_mem_end) must move up */
    uint64_t high_start, high_end;  /* 64-bit window used above RAM */
};

/* Sort by size, largest first (stable for equal sizes). */
void pci_bars_sort(struct bar *bars, unsigned n);

/*
 * Place every BAR. Memory BARs go largest first into the hole, which
 * doubles towards 2 GiB while they do not fit (over RAM only when
 * relocation is allowed); 64-bit BARs that still do not fit go above
 * RAM. I/O BARs go into 0xC000-0xFFFF. Returns 0, or -1 when something
 * cannot be placed (its addr is then 0 and it must stay disabled).
 */
int pci_bars_place(struct bar *bars, unsigned n, struct pci_layout *l);

#endif
