/*
 * A probe device for the core tests: it records every access it receives,
 * so tests can check exactly how the address map and the ioreq service cut,
 * order and deliver guest accesses.
 */
#ifndef TESTS_PROBE_H
#define TESTS_PROBE_H

#include <stdint.h>

#include "dm/iomap.h"

#define PROBE_LOG_MAX 8192

struct probe_access {
    char kind;                  /* 'r', 'w', 'R' (read_rep), 'W' (write_rep) */
    uint64_t off;
    unsigned int size;
    uint64_t val;               /* write value / read result / rep count */
};

struct probe {
    struct iomap_region region;
    struct iomap_ops ops;
    uint8_t regs[256];          /* backing store, little endian */
    uint64_t fifo_next;         /* next value the FIFO read_rep returns */
    struct probe_access log[PROBE_LOG_MAX];
    unsigned int nlog;
    void (*on_write)(struct probe *p, uint64_t off, uint64_t val);
    void *user;
};

/* min/max size and unaligned flag form the region's contract; fifo adds
 * read_rep/write_rep. The region is not mapped yet. */
void probe_init(struct probe *p, const char *name, uint64_t len,
                unsigned int min, unsigned int max, int unaligned, int fifo);

#endif
