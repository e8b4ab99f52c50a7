/*
 * Device registry and the machine's device-state stream. The stream is
 * "HVMDMST1", a record count, padding to 16, then per device a fixed header
 * (name, instance, version, size) and the device's own fixed-width record,
 * padded to 8 bytes. Loading parses and check()s every record before any
 * device's load() runs, so a bad image leaves the machine as it was.
 */
#include "dm/dev.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/log.h"
#include "dm/machine.h"

#define DM_STATE_MAGIC "HVMDMST1"
#define DM_STATE_NAME_LEN 24

struct dm_state_hdr {
    char name[DM_STATE_NAME_LEN];
    uint32_t instance;
    uint32_t version;
    uint32_t size;
    uint32_t reserved;
};

/* Records start 8-byte aligned so devices may cast them to their struct. */
#define DM_STATE_START 16
#define DM_STATE_PAD(n) (((size_t)(n) + 7) & ~(size_t)7)

void
dm_dev_register(struct dm *dm, struct dm_dev *d, const struct dm_dev_ops *ops,
                void *opaque, uint32_t instance)
{
    g_assert(strlen(ops->name) < DM_STATE_NAME_LEN);
    d->ops = ops;
    d->opaque = opaque;
    d->instance = instance;
    d->next = NULL;
    if (dm->devs_tail) {
        dm->devs_tail->next = d;
    } else {
        dm->devs = d;
    }
    dm->devs_tail = d;
}

void
dm_dev_unregister(struct dm *dm, struct dm_dev *d)
{
    struct dm_dev **pp = &dm->devs, *prev = NULL;

    while (*pp && *pp != d) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp) {
        return;
    }
    *pp = d->next;
    if (dm->devs_tail == d) {
        dm->devs_tail = prev;
    }
    d->next = NULL;
}

void
dm_reset_all(struct dm *dm)
{
    struct dm_dev *d;

    for (d = dm->devs; d; d = d->next) {
        if (d->ops->reset) {
            d->ops->reset(d->opaque);
        }
    }
}

int
dm_save_all(struct dm *dm, uint8_t **buf, size_t *len)
{
    GByteArray *out = g_byte_array_new();
    uint32_t nr = 0;
    struct dm_dev *d;

    g_byte_array_append(out, (const guint8 *)DM_STATE_MAGIC, 8);
    g_byte_array_set_size(out, DM_STATE_START);
    memset(out->data + 8, 0, DM_STATE_START - 8);
    for (d = dm->devs; d; d = d->next) {
        struct dm_state_hdr h = { .instance = d->instance,
                                  .version = d->ops->state_version,
                                  .size = d->ops->state_size };
        size_t at;

        if (!d->ops->state_size || !d->ops->save) {
            continue;
        }
        strncpy(h.name, d->ops->name, sizeof(h.name) - 1);
        g_byte_array_append(out, (const guint8 *)&h, sizeof(h));
        at = out->len;
        g_byte_array_set_size(out, out->len + DM_STATE_PAD(h.size));
        memset(out->data + at, 0, DM_STATE_PAD(h.size));
        d->ops->save(d->opaque, out->data + at);
        nr++;
    }
    memcpy(out->data + 8, &nr, sizeof(nr));
    *len = out->len;
    *buf = g_byte_array_free(out, FALSE);
    return 0;
}

/* The record for d in buf, or NULL. Every header was bounds-checked. */
static const uint8_t *
state_find(const struct dm_dev *d, const uint8_t *buf, size_t len)
{
    size_t off = DM_STATE_START;

    while (off + sizeof(struct dm_state_hdr) <= len) {
        struct dm_state_hdr h;

        memcpy(&h, buf + off, sizeof(h));
        off += sizeof(h);
        if (strncmp(h.name, d->ops->name, sizeof(h.name)) == 0 &&
            h.instance == d->instance) {
            return (h.version == d->ops->state_version &&
                    h.size == d->ops->state_size) ? buf + off : NULL;
        }
        off += DM_STATE_PAD(h.size);
    }
    return NULL;
}

/* Walk the headers: every record inside the buffer, names terminated. */
static int
state_parse(const uint8_t *buf, size_t len, uint32_t *nr)
{
    size_t off = DM_STATE_START;
    uint32_t i;

    if (len < DM_STATE_START || memcmp(buf, DM_STATE_MAGIC, 8) != 0) {
        return -EINVAL;
    }
    memcpy(nr, buf + 8, sizeof(*nr));
    for (i = 0; i < *nr; i++) {
        struct dm_state_hdr h;

        if (len - off < sizeof(h)) {
            return -EINVAL;
        }
        memcpy(&h, buf + off, sizeof(h));
        off += sizeof(h);
        if (!memchr(h.name, 0, sizeof(h.name)) ||
            DM_STATE_PAD(h.size) > len - off || h.size > len) {
            return -EINVAL;
        }
        off += DM_STATE_PAD(h.size);
    }
    return off == len ? 0 : -EINVAL;
}

static int
load_checked(struct dm *dm, const uint8_t *buf, size_t len)
{
    struct dm_dev *d;
    uint32_t nr, expected = 0;

    if (state_parse(buf, len, &nr) < 0) {
        DM_ERR("device state: malformed stream");
        return -EINVAL;
    }
    for (d = dm->devs; d; d = d->next) {
        const uint8_t *rec;

        if (!d->ops->state_size || !d->ops->save) {
            continue;
        }
        expected++;
        rec = state_find(d, buf, len);
        if (!rec || (d->ops->check && d->ops->check(rec) < 0)) {
            DM_ERR("device state: %s.%u missing or invalid", d->ops->name,
                   d->instance);
            return -EINVAL;
        }
    }
    if (expected != nr) {
        DM_ERR("device state: %u records for %u devices", nr, expected);
        return -EINVAL;
    }
    for (d = dm->devs; d; d = d->next) {
        if (d->ops->state_size && d->ops->save && d->ops->load) {
            d->ops->load(d->opaque, state_find(d, buf, len));
        }
    }
    return 0;
}

int
dm_load_all(struct dm *dm, const uint8_t *buf, size_t len)
{
    /* An aligned private copy: the records are cast by their devices. */
    uint8_t *copy = g_memdup2(buf, len);
    int rc = load_checked(dm, copy, len);

    g_free(copy);
    return rc;
}
