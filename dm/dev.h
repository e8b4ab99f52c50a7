/*
 * Device lifecycle: every device registers one of these so the machine can
 * reset it, save it, check a saved record as untrusted input, and load it.
 * A record is a versioned fixed-width little-endian struct of the device's
 * own (rule 13); check() runs on every record before any load() touches
 * live state.
 */
#ifndef DM_DEV_H
#define DM_DEV_H

#include <stddef.h>
#include <stdint.h>

struct dm;

struct dm_dev_ops {
    const char *name;
    uint32_t state_version;
    uint32_t state_size;        /* bytes of the record; 0: no state */
    void (*reset)(void *opaque);
    void (*save)(void *opaque, void *rec);
    int (*check)(const void *rec);       /* 0 or -EINVAL */
    void (*load)(void *opaque, const void *rec);
    /* Free the device; called in reverse registration order by dm_free. */
    void (*destroy)(void *opaque);
};

struct dm_dev {
    const struct dm_dev_ops *ops;
    void *opaque;
    uint32_t instance;
    struct dm_dev *next;
};

void dm_dev_register(struct dm *dm, struct dm_dev *d,
                     const struct dm_dev_ops *ops, void *opaque,
                     uint32_t instance);
void dm_dev_unregister(struct dm *dm, struct dm_dev *d);
void dm_reset_all(struct dm *dm);

/* Whole-machine device state; returns 0 or -errno. *buf is g_malloc'd. */
int dm_save_all(struct dm *dm, uint8_t **buf, size_t *len);
int dm_load_all(struct dm *dm, const uint8_t *buf, size_t len);

#endif
