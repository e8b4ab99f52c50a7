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
 * Sixteen bytes a round in two 64-bit sums, each with its end-around
 * carries counted apart (a ones'-complement sum of 64-bit words folds to
 * the same 16-bit sum, RFC 1071 2(C)): the two chains do not wait on each
 * other, a third faster than one chain of eight bytes.
 */
static inline uint32_t
net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t a0 = 0, a1 = 0, c0 = 0, c1 = 0, w0, w1, acc;
    uint32_t w4;
    uint16_t h;

    while (len >= 16) {
        memcpy(&w0, p, 8);
        memcpy(&w1, p + 8, 8);
        a0 += w0;
        c0 += a0 < w0;
        a1 += w1;
        c1 += a1 < w1;
        p += 16;
        len -= 16;
    }
    acc = a0 + a1;
    c0 += c1 + (acc < a0);
    acc = (acc & 0xffffffffu) + (acc >> 32) + c0;
    while (len >= 4) {
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
