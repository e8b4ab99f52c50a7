/*
 * The Internet checksum (RFC 1071) for the NICs' offloads: partial sums
 * add in big-endian 16-bit words, net_csum_fold() ends a sum. Summing in
 * host order and swapping once is equivalent (RFC 1071 2(B)) and lets the
 * loop read 32 bits at a time.
 */
#ifndef NET_CSUM_H
#define NET_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t
net_csum_fold(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/*
 * sum plus the bytes at p, as big-endian 16-bit words from an even start.
 * Eight bytes at a time with the end-around carry counted apart (a
 * ones'-complement sum of 64-bit words folds to the same 16-bit sum).
 */
static inline uint32_t
net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = 0, carry = 0, w;
    uint32_t w4;
    uint16_t h;

    while (len >= 8) {
        memcpy(&w, p, 8);
        acc += w;
        carry += acc < w;
        p += 8;
        len -= 8;
    }
    acc = (acc & 0xffffffffu) + (acc >> 32) + carry;
    if (len >= 4) {
        memcpy(&w4, p, 4);
        acc += w4;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        memcpy(&h, p, 2);
        acc += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = { p[0], 0 };

        memcpy(&h, last, 2);
        acc += h;
    }
    h = net_csum_fold(acc);
    if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        h = (uint16_t)(h << 8 | h >> 8);
    }
    return sum + h;
}

static inline uint16_t
net_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
net_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static inline void
net_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
net_put32(uint8_t *p, uint32_t v)
{
    net_put16(p, (uint16_t)(v >> 16));
    net_put16(p + 2, (uint16_t)v);
}

#endif
