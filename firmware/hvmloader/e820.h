/*
 * The guest's E820 map (ACPI 6.4, 15.1 "INT 15H, E820H"), handed to
 * SeaBIOS in its info block. Pure.
 */
#ifndef HVMLOADER_E820_H
#define HVMLOADER_E820_H

#include "firmware/hvmloader/lib.h"

#define E820_RAM        1
#define E820_RESERVED   2
#define E820_ACPI       3
#define E820_NVS        4
#define E820_MAX        16      /* SeaBIOS's info block takes 16 */

struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

struct e820_map {
    struct e820_entry e[E820_MAX];
    unsigned nr;
};

/* What the map is made of. */
struct e820_layout {
    uint32_t low_mem_end;       /* RAM [1 MiB, this) */
    uint64_t high_mem_end;      /* RAM [4 GiB, this); 0: none */
    uint32_t bios_start;        /* SeaBIOS image [this, 1 MiB) */
    uint32_t tables_start;      /* [this, low_mem_end): our tables */
    /* Non-RAM entries of the toolstack's map (RDM and the like). */
    const struct e820_entry *extra;
    unsigned nr_extra;
};

/* Sort by address; a later range overrides an earlier one it overlaps. */
int e820_add(struct e820_map *m, uint64_t addr, uint64_t size,
             uint32_t type);
int e820_build(struct e820_map *m, const struct e820_layout *l);

#endif
