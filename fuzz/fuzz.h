/*
 * libFuzzer targets, one per input surface (issue 14). Every target is
 * built with clang -fsanitize=fuzzer,address,undefined (make fuzz) and
 * plays the guest, Xen and the host through the test harness
 * (tests/harness.h), so a crash here is a crash of the production code.
 *
 * Shared pieces, so a new target is a small file:
 *  - struct fz: reads the fuzzer's bytes as little-endian fields; reads
 *    past the end give zeros, so every input is a valid program;
 *  - fuzz_machine(): the whole board (-machine xenfv, a disk at hda, a CD
 *    at hdc, an empty CD at hdd, VGA, an e1000 on a socket pair whose far
 *    end the fuzzer writes frames to) with every PCI function's BARs placed
 *    and decoding as hvmloader leaves them, on fresh images each time;
 *  - fuzz_guest_ops(): a structure-aware guest: port and MMIO accesses at
 *    every width aimed at what the board decodes (found by scanning the
 *    address maps, so a new device is covered without changes here), PCI
 *    configuration both ways, descriptors in guest RAM (PRD tables, rings),
 *    string I/O, buffered writes, frames from the wire, time;
 *  - FUZZ_STATE_TARGET(name): a device's saved record through check() and
 *    load() plus guest operations (fuzz/state-*.c are one line each);
 *  - seeds are generated at build time: run a target with FUZZ_SEEDS=DIR
 *    and it writes its seeds there and exits (nothing binary in git).
 */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

struct t_machine;

/* The harness's failure hook (tests/t.h): here an abort libFuzzer sees. */
void t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

struct fz {
    const uint8_t *p;
    size_t n;
};

uint8_t fz_u8(struct fz *f);
uint16_t fz_u16(struct fz *f);
uint32_t fz_u32(struct fz *f);
uint64_t fz_u64(struct fz *f);
/* Up to len bytes (fewer at the end); returns how many were copied. */
size_t fz_bytes(struct fz *f, void *buf, size_t len);

/* Logs quiet, SIGPIPE ignored as the process does, block completions
 * awaited in short polls (every target). */
void fuzz_quiet(void);
/* The board every guest-facing target runs; free with t_machine_free. */
struct t_machine *fuzz_machine(void);
/* Run at most max_ops guest operations decoded from f, then settle. */
void fuzz_guest_ops(struct t_machine *t, struct fz *f, unsigned int max_ops);
/* The machine still answers: the host bridge's ID reads back. */
void fuzz_check_alive(struct t_machine *t);

/* A socket client's input: send len bytes of p on the non-blocking
 * socket fd in at most 4 * rounds attempts, calling pump(fd) after each
 * to let the server run; stops early once pump says the peer closed. */
void fuzz_send_all(int fd, const uint8_t *p, size_t len, unsigned int rounds,
                   bool (*pump)(int fd));

/* Guest operation encoders (seeds): the inverse of fuzz_guest_ops. */
void fuzz_enc_out(GByteArray *s, uint16_t port, unsigned int size,
                  uint32_t val);
void fuzz_enc_in(GByteArray *s, uint16_t port, unsigned int size);
void fuzz_enc_cfg_write(GByteArray *s, uint8_t devfn, uint8_t reg,
                        unsigned int size, uint32_t val);
void fuzz_enc_ram(GByteArray *s, uint32_t gpa, const void *data,
                  uint8_t len);
void fuzz_enc_ins(GByteArray *s, uint16_t port, unsigned int size,
                  uint32_t gpa, uint16_t count);
void fuzz_enc_mmio_w(GByteArray *s, uint64_t addr, unsigned int size,
                     uint32_t val);
void fuzz_enc_net_rx(GByteArray *s, const void *frame, uint16_t len);
void fuzz_enc_settle(GByteArray *s);
/* Driver sequences a real guest runs (IDE, ATAPI, UART, i8042, ...). */
void fuzz_enc_driver_seeds(GPtrArray *seeds);

/* A seed for this target, when FUZZ_SEEDS names a directory. */
void fuzz_seed(const char *name, const void *data, size_t len);
/* True (after writing them with fn) when this run only makes seeds. */
bool fuzz_make_seeds(void (*fn)(void));

/* A device's record: fuzz/fuzz-state.c. */
int fuzz_state_one(const char *dev, const uint8_t *data, size_t size);
void fuzz_state_seeds(const char *dev);

#define FUZZ_STATE_TARGET(dev_)                                         \
    static void                                                         \
    fuzz_target_seeds_(void)                                            \
    {                                                                   \
        fuzz_state_seeds(dev_);                                         \
    }                                                                   \
    int LLVMFuzzerInitialize(int *argc, char ***argv);                  \
    int                                                                 \
    LLVMFuzzerInitialize(int *argc, char ***argv)                       \
    {                                                                   \
        (void)argc;                                                     \
        (void)argv;                                                     \
        if (fuzz_make_seeds(fuzz_target_seeds_)) {                      \
            exit(0);                                                    \
        }                                                               \
        return 0;                                                       \
    }                                                                   \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);       \
    int                                                                 \
    LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)            \
    {                                                                   \
        return fuzz_state_one(dev_, data, size);                        \
    }

#endif
