/*
 * Helpers shared by the firmware and the host tests.
 */
#include "firmware/hvmloader/lib.h"

uint8_t
fw_checksum(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t sum = 0;

    while (n--) {
        sum += *b++;
    }
    return (uint8_t)-sum;
}

static bool
digit_value(char c, unsigned base, unsigned *v)
{
    if (c >= '0' && c <= '9') {
        *v = (unsigned)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
        *v = (unsigned)(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
        *v = (unsigned)(c - 'A' + 10);
    } else {
        return false;
    }
    return *v < base;
}

bool
fw_strtou64(const char *s, uint64_t *out)
{
    unsigned base = 10, v;
    uint64_t n = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!digit_value(*s, base, &v)) {
            return false;
        }
        if (n > UINT64_MAX / 16 - 1) {   /* no 64-bit division */
            return false;
        }
        n = n * base + v;
    }
    *out = n;
    return true;
}

void *
fw_alloc(struct fw_area *a, uint32_t n, uint32_t align)
{
    uint32_t off = ALIGN_UP(a->used, align);
    uint8_t *p;

    if (off < a->used || off > a->size || a->size - off < n) {
        return NULL;
    }
    p = a->ptr + off;
    memset(p, 0, n);
    a->used = off + n;
    return p;
}

uint32_t
fw_phys(const struct fw_area *a, const void *p)
{
    return a->phys + (uint32_t)((const uint8_t *)p - a->ptr);
}
