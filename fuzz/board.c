/*
 * The guest's I/O stream against the whole board: ports, MMIO, PCI
 * configuration, descriptors in guest RAM, string I/O, buffered writes
 * and time (fuzz_guest_ops). A device added to hw/board.c is reached
 * without changes here: the ports and BARs come from the address maps.
 */
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "tests/harness.h"

static void
board_seeds(void)
{
    GPtrArray *seeds = g_ptr_array_new();

    fuzz_enc_driver_seeds(seeds);
    for (guint i = 0; i < seeds->len; i++) {
        GByteArray *s = seeds->pdata[i];

        fuzz_seed("board", s->data, s->len);
        g_byte_array_free(s, TRUE);
    }
    g_ptr_array_free(seeds, TRUE);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fuzz_make_seeds(board_seeds)) {
        exit(0);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct t_machine *t = fuzz_machine();
    struct fz f = { data, size };

    fuzz_guest_ops(t, &f, 4096);
    fuzz_check_alive(t);
    t_machine_free(t);
    return 0;
}
