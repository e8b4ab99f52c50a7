/*
 * Saved state as untrusted input: the property every check() must hold
 * (issue 14). For a device's record: drive the board into some state
 * (guest operations A), save the device, patch the record anywhere, and
 * if check() accepts it, load it and run guest operations B. Nothing may
 * crash, hang or trip a sanitizer, and the state the device then reaches
 * must pass its own check() (a saved state is always loadable). The whole
 * save stream goes through dm_load_all the same way (fuzz/save-stream.c).
 *
 * Input: u16 length of A, A, u8 instance, u8 number of patches, patches
 * (u32 offset, u8 length, bytes), then B.
 */
#include "fuzz/fuzz.h"

#include <string.h>

#include "dm/dev.h"
#include "dm/machine.h"
#include "tests/harness.h"

#define FZ_OPS_A    512
#define FZ_OPS_B    1024

static struct dm_dev *
state_find(struct t_machine *t, const char *name, unsigned int pick)
{
    struct dm_dev *d, *first = NULL;
    unsigned int n = 0;

    for (d = t->dm->devs; d; d = d->next) {
        if (strcmp(d->ops->name, name) == 0 && d->ops->state_size) {
            first = first ? first : d;
            n++;
        }
    }
    if (!first) {
        t_fail(__FILE__, __LINE__, "no device %s with state", name);
    }
    pick %= n;
    for (d = first; d; d = d->next) {
        if (strcmp(d->ops->name, name) == 0 && pick-- == 0) {
            return d;
        }
    }
    return first;
}

/* Guest operations A from their own slice of the input. */
static void
state_prefix(struct t_machine *t, struct fz *f)
{
    size_t alen = fz_u16(f) % 4096u;
    struct fz a;

    alen = MIN(alen, f->n);
    a.p = f->p;
    a.n = alen;

    fuzz_guest_ops(t, &a, FZ_OPS_A);
    f->p += alen;
    f->n -= alen;
}

static void
state_patch(struct fz *f, uint8_t *rec, size_t len)
{
    unsigned int n = fz_u8(f) % 16;

    while (n-- && f->n) {
        size_t off = fz_u32(f) % len;
        size_t plen = fz_u8(f) % 32u + 1;

        plen = MIN(plen, len - off);

        fz_bytes(f, rec + off, plen);
    }
}

int
fuzz_state_one(const char *name, const uint8_t *data, size_t size)
{
    struct t_machine *t = fuzz_machine();
    struct fz f = { data, size };
    struct dm_dev *d;
    uint8_t *rec;

    state_prefix(t, &f);
    d = state_find(t, name, fz_u8(&f));
    rec = g_malloc0(d->ops->state_size);
    d->ops->save(d->opaque, rec);
    state_patch(&f, rec, d->ops->state_size);
    if (d->ops->check(rec) == 0) {
        d->ops->load(d->opaque, rec);
        fuzz_guest_ops(t, &f, FZ_OPS_B);
        d->ops->save(d->opaque, rec);
        if (d->ops->check(rec) != 0) {
            t_fail(__FILE__, __LINE__, "%s: a state the device reached "
                   "fails its own check()", name);
        }
    }
    fuzz_check_alive(t);
    g_free(rec);
    t_machine_free(t);
    return 0;
}

/* Each driver sequence as A, then once more as B, without patches. */
void
fuzz_state_seeds(const char *name)
{
    GPtrArray *seeds = g_ptr_array_new();
    struct t_machine *t = fuzz_machine();

    state_find(t, name, 0);             /* the name must exist */
    t_machine_free(t);
    fuzz_enc_driver_seeds(seeds);
    for (guint i = 0; i < seeds->len; i++) {
        GByteArray *s = seeds->pdata[i], *in = g_byte_array_new();
        uint8_t hdr[2] = { (uint8_t)s->len, (uint8_t)(s->len >> 8) };
        uint8_t mid[2] = { 0, 0 };

        g_byte_array_append(in, hdr, 2);
        g_byte_array_append(in, s->data, s->len);
        g_byte_array_append(in, mid, 2);
        g_byte_array_append(in, s->data, s->len);
        fuzz_seed(name, in->data, in->len);
        g_byte_array_free(in, TRUE);
        g_byte_array_free(s, TRUE);
    }
    g_ptr_array_free(seeds, TRUE);
}
