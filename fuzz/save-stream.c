/*
 * The whole save stream as untrusted input: dm_load_all() of a stream
 * saved after guest operations A, then patched and perhaps cut short;
 * when it loads, guest operations B follow. Nothing may crash, and what
 * the machine then saves must load again.
 *
 * Input: u16 length of A, A, u32 cut, u8 patches, patches, then B.
 */
#include <stdlib.h>
#include <string.h>

#include "dm/dev.h"
#include "dm/machine.h"
#include "fuzz/fuzz.h"
#include "tests/harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
stream_patch(struct fz *f, uint8_t *img, size_t len)
{
    unsigned int n = fz_u8(f) % 16;

    while (n-- && f->n) {
        size_t off = fz_u32(f) % len;
        size_t plen = fz_u8(f) % 32u + 1;

        plen = MIN(plen, len - off);

        fz_bytes(f, img + off, plen);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct t_machine *t = fuzz_machine();
    struct fz f = { data, size };
    size_t alen = fz_u16(&f) % 4096u, len;
    struct fz a;

    alen = MIN(alen, f.n);
    a.p = f.p;
    a.n = alen;
    uint8_t *img = NULL;
    uint32_t cut;

    fuzz_guest_ops(t, &a, 512);
    f.p += alen;
    f.n -= alen;
    if (dm_save_all(t->dm, &img, &len) != 0) {
        t_fail(__FILE__, __LINE__, "dm_save_all failed");
    }
    cut = fz_u32(&f);
    stream_patch(&f, img, len);
    if (cut & 1) {
        len = cut % (len + 1);
    }
    if (dm_load_all(t->dm, img, len) == 0) {
        fuzz_guest_ops(t, &f, 1024);
        g_free(img);
        if (dm_save_all(t->dm, &img, &len) != 0 ||
            dm_load_all(t->dm, img, len) != 0) {
            t_fail(__FILE__, __LINE__, "a state the machine reached does "
                   "not load again");
        }
    }
    fuzz_check_alive(t);
    g_free(img);
    t_machine_free(t);
    return 0;
}

static void
stream_seeds(void)
{
    GPtrArray *seeds = g_ptr_array_new();

    fuzz_enc_driver_seeds(seeds);
    for (guint i = 0; i < seeds->len; i++) {
        GByteArray *s = seeds->pdata[i], *in = g_byte_array_new();
        uint8_t hdr[2] = { (uint8_t)s->len, (uint8_t)(s->len >> 8) };
        uint8_t mid[5] = { 0 };

        g_byte_array_append(in, hdr, 2);
        g_byte_array_append(in, s->data, s->len);
        g_byte_array_append(in, mid, 5);
        g_byte_array_append(in, s->data, s->len);
        fuzz_seed("stream", in->data, in->len);
        g_byte_array_free(in, TRUE);
        g_byte_array_free(s, TRUE);
    }
    g_ptr_array_free(seeds, TRUE);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fuzz_make_seeds(stream_seeds)) {
        exit(0);
    }
    return 0;
}
