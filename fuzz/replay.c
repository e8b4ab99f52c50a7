/*
 * The replay format (tests/replay.c): the input is a script run against a
 * fresh default machine. A script may fail (a parse error or a mismatched
 * expectation is an error message), never crash. Seeds are the committed
 * replay files of tests/replay/, copied at build time.
 */
#include <stdlib.h>
#include <string.h>

#include "dm/log.h"
#include "fuzz/fuzz.h"
#include "tests/harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct t_opts o = { .ram_size = 16ull << 20 };
    struct t_machine *t;
    char *script = g_strndup((const char *)data, size), err[512];

    t = t_machine_new(&o);
    (void)t_replay_string(t, script, err, sizeof(err));
    fuzz_check_alive(t);
    g_free(script);
    t_machine_free(t);
    return 0;
}

static void
replay_seeds(void)
{
    const char *dir = getenv("FUZZ_REPLAY_DIR");
    GDir *d = g_dir_open(dir ? dir : "tests/replay", 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir ? dir : "tests/replay",
                                                 name, NULL);
        g_autofree char *text = NULL;
        gsize len;

        if (g_str_has_suffix(name, ".replay") &&
            g_file_get_contents(path, &text, &len, NULL)) {
            fuzz_seed(name, text, len);
        }
    }
    if (d) {
        g_dir_close(d);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    if (fuzz_make_seeds(replay_seeds)) {
        exit(0);
    }
    return 0;
}
