/*
 * bench/fw_cfg: direct kernel boot's load of an 8 MiB kernel through
 * fw_cfg in the machine harness, both ways a boot ROM can do it:
 *
 *   DMA: one FWCfgDmaAccess for the whole item (linuxboot_dma.bin, what
 *        hvmdm offers), one ioreq;
 *   PIO: the data port read by rep INSB clipped to a page, as Xen issues
 *        it (linuxboot.bin, what qemu-xen offers under Xen): one ioreq per
 *        4 KiB.
 *
 * The baseline, measured in the same run, is a plain memcpy of the same
 * bytes. Under real Xen an ioreq round trip costs milliseconds, so the
 * request counts printed next to the rates decide the boot time.
 *
 *   fw_cfg [-r ROUNDS]
 */
#include <endian.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"         /* bench_now_s, t_fail */
#include "dm/log.h"
#include "hw/fw_cfg/fw_cfg.h"
#include "tests/harness.h"
#include "tests/t.h"

#define KERNEL_BYTES (8u << 20)
#define SETUP_BYTES  (5 * 512)
#define LOAD_GPA     0x100000u
#define DESC_GPA     0x7000u

/* A bzImage header (boot protocol 2.15) in front of a pattern. */
static void
write_files(const char *dir, char **kernel, char **romdir)
{
    uint8_t *k = g_malloc0(KERNEL_BYTES + SETUP_BYTES);
    uint8_t rom[1024] = { 0x55, 0xaa, 2 };
    g_autofree char *rom_path = NULL;
    unsigned int i;

    for (i = 0; i < KERNEL_BYTES + SETUP_BYTES; i++) {
        k[i] = (uint8_t)(i * 31);
    }
    k[0x1f1] = 4;
    memcpy(k + 0x202, "HdrS", 4);
    k[0x206] = 0x0f;
    k[0x207] = 0x02;
    k[0x211] = 0x01;
    memcpy(k + 0x22c, "\xff\xff\xff\x7f", 4);
    *kernel = g_build_filename(dir, "vmlinuz", NULL);
    *romdir = g_strdup(dir);
    rom_path = g_build_filename(dir, "linuxboot_dma.bin", NULL);
    if (!g_file_set_contents(*kernel, (char *)k, KERNEL_BYTES + SETUP_BYTES,
                             NULL) ||
        !g_file_set_contents(rom_path, (char *)rom, sizeof(rom), NULL)) {
        fprintf(stderr, "fw_cfg: cannot write the test files\n");
        exit(1);
    }
    g_free(k);
}

static uint32_t
kernel_size(struct t_machine *t)
{
    struct fw_cfg_dma_access d = {
        .control = htobe32(FW_CFG_KERNEL_SIZE << 16 | FW_CFG_DMA_CTL_SELECT |
                           FW_CFG_DMA_CTL_READ),
        .length = htobe32(4), .address = htobe64(LOAD_GPA),
    };
    uint32_t v;

    t_memwrite(t, DESC_GPA, &d, sizeof(d));
    t_outl(t, 0x518, htobe32(DESC_GPA));
    t_memread(t, LOAD_GPA, &v, 4);
    return le32toh(v);
}

static void
load_dma(struct t_machine *t, uint32_t len)
{
    struct fw_cfg_dma_access d = {
        .control = htobe32(FW_CFG_KERNEL_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
                           FW_CFG_DMA_CTL_READ),
        .length = htobe32(len), .address = htobe64(LOAD_GPA),
    };

    t_memwrite(t, DESC_GPA, &d, sizeof(d));
    t_outl(t, 0x518, htobe32(DESC_GPA));
}

static unsigned int
load_pio(struct t_machine *t, uint32_t len)
{
    unsigned int reqs = 0;
    uint32_t off;

    t_outw(t, 0x510, FW_CFG_KERNEL_DATA);
    for (off = 0; off < len; off += 4096) {
        t_ins(t, 0x511, 1, LOAD_GPA + off, MIN(4096u, len - off), false);
        reqs++;
    }
    return reqs;
}

int
main(int argc, char **argv)
{
    unsigned int rounds = 20, r, pio_reqs = 0;
    g_autofree char *dir = g_build_filename(g_get_tmp_dir(),
                                            "hvmdm-bench-XXXXXX", NULL);
    char *kernel, *romdir;
    const char *args[5];
    struct t_opts o = { .ram_size = 64ull << 20, .argv = args };
    struct t_machine *t;
    uint8_t *src, *dst;
    double t0, dma_s, pio_s, cpy_s;
    double mib = (double)KERNEL_BYTES / (1 << 20);
    uint32_t len;

    if (argc == 3 && strcmp(argv[1], "-r") == 0) {
        rounds = (unsigned int)atoi(argv[2]);
    }
    rounds = rounds ? rounds : 1;
    dm_log_set_quiet(1);
    if (!g_mkdtemp(dir)) {
        fprintf(stderr, "fw_cfg: cannot create %s\n", dir);
        return 1;
    }
    write_files(dir, &kernel, &romdir);
    args[0] = "-kernel";
    args[1] = kernel;
    args[2] = "-L";
    args[3] = romdir;
    args[4] = NULL;
    t = t_machine_new(&o);
    len = kernel_size(t);
    t0 = bench_now_s();
    for (r = 0; r < rounds; r++) {
        load_dma(t, len);
    }
    dma_s = (bench_now_s() - t0) / rounds;
    t0 = bench_now_s();
    for (r = 0; r < rounds; r++) {
        pio_reqs = load_pio(t, len);
    }
    pio_s = (bench_now_s() - t0) / rounds;
    src = t_ram(t) + LOAD_GPA;
    dst = g_malloc0(len);
    memcpy(dst, src, len);              /* fault the pages in first */
    t0 = bench_now_s();
    for (r = 0; r < rounds; r++) {
        memcpy(dst, src, len);
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    cpy_s = (bench_now_s() - t0) / rounds;
    printf("bench/fw_cfg: %u rounds, an %.0f MiB kernel item\n", rounds, mib);
    printf("DMA   hvmdm %8.1f MiB/s (1 ioreq)      memcpy %8.1f MiB/s  "
           "ratio %.2f\n", mib / dma_s, mib / cpy_s, cpy_s / dma_s);
    printf("PIO   hvmdm %8.1f MiB/s (%u ioreqs)  memcpy %8.1f MiB/s  "
           "ratio %.2f\n", mib / pio_s, pio_reqs, mib / cpy_s,
           cpy_s / pio_s);
    printf("DMA/PIO %.1fx faster, %ux fewer ioreqs\n", pio_s / dma_s,
           pio_reqs);
    t_machine_free(t);
    g_free(dst);
    g_unlink(kernel);
    g_free(kernel);
    kernel = g_build_filename(romdir, "linuxboot_dma.bin", NULL);
    g_unlink(kernel);
    g_free(kernel);
    g_rmdir(romdir);
    g_free(romdir);
    return 0;
}
