/* The probe device (tests/probe.h). */
#include "tests/probe.h"

#include <string.h>

static void
probe_record(struct probe *p, char kind, uint64_t off, unsigned int size,
             uint64_t val)
{
    if (p->nlog < PROBE_LOG_MAX) {
        p->log[p->nlog++] = (struct probe_access){ kind, off, size, val };
    }
}

static uint64_t
probe_read(void *opaque, uint64_t off, unsigned int size)
{
    struct probe *p = opaque;
    uint64_t v = 0;

    if (off + size <= sizeof(p->regs)) {
        memcpy(&v, p->regs + off, size);
    }
    probe_record(p, 'r', off, size, v);
    return v;
}

static void
probe_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct probe *p = opaque;

    if (off + size <= sizeof(p->regs)) {
        memcpy(p->regs + off, &val, size);
    }
    probe_record(p, 'w', off, size, val);
    if (p->on_write) {
        p->on_write(p, off, val);
    }
}

/* FIFO semantics: each element read is the next counter value. */
static void
probe_read_rep(void *opaque, uint64_t off, unsigned int size, void *buf,
               uint32_t count)
{
    struct probe *p = opaque;
    uint8_t *b = buf;

    for (uint32_t i = 0; i < count; i++) {
        uint64_t v = p->fifo_next++;

        memcpy(b + (size_t)i * size, &v, size);
    }
    probe_record(p, 'R', off, size, count);
}

static void
probe_write_rep(void *opaque, uint64_t off, unsigned int size,
                const void *buf, uint32_t count)
{
    struct probe *p = opaque;
    const uint8_t *b = buf;

    probe_record(p, 'W', off, size, count);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t v = 0;

        memcpy(&v, b + (size_t)i * size, size);
        probe_record(p, 'w', off, size, v);
    }
}

void
probe_init(struct probe *p, const char *name, uint64_t len, unsigned int min,
           unsigned int max, int unaligned, int fifo)
{
    memset(p, 0, sizeof(*p));
    p->ops.read = probe_read;
    p->ops.write = probe_write;
    if (fifo) {
        p->ops.read_rep = probe_read_rep;
        p->ops.write_rep = probe_write_rep;
    }
    p->ops.min_size = (uint8_t)min;
    p->ops.max_size = (uint8_t)max;
    p->ops.unaligned_ok = unaligned != 0;
    iomap_region_init(&p->region, name, len, &p->ops, p);
}
