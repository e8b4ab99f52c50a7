/*
 * What every part of the loader may use: fixed-width types and the few
 * string routines. The pure parts (tables, allocators) are also compiled
 * for the host by the unit tests (HVMLOADER_HOST), where libc provides the
 * routines; in the firmware lib.c does.
 */
#ifndef HVMLOADER_LIB_H
#define HVMLOADER_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef HVMLOADER_HOST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))

/* The byte that makes the sum of n bytes at p zero. */
uint8_t fw_checksum(const void *p, size_t n);

/* Parse a decimal or 0x-prefixed number; false unless all of s is one. */
bool fw_strtou64(const char *s, uint64_t *out);

/*
 * A bump allocator over one block of guest memory: ptr is where the
 * loader writes (the guest-physical address itself in the firmware, a
 * buffer in the host tests), phys the address the tables refer to.
 */
struct fw_area {
    uint8_t *ptr;
    uint32_t phys;
    uint32_t size;
    uint32_t used;
};

/* Zeroed room for n bytes aligned to align (a power of two), or NULL. */
void *fw_alloc(struct fw_area *a, uint32_t n, uint32_t align);
uint32_t fw_phys(const struct fw_area *a, const void *p);

#endif
