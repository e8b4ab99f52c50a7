/*
 * Helpers shared by the IDE and ATAPI tests: a machine with the PIIX3 IDE
 * function programmed as hvmloader leaves it, images in a temporary
 * directory, and the register sequences SeaBIOS (src/hw/ata.c) and Linux
 * (drivers/ata/libata-sff.c) use.
 */
#ifndef TESTS_IDE_UTIL_H
#define TESTS_IDE_UTIL_H

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"

#define IDE_BDF         0x0009      /* 00:01.1 */
#define IDE_PRI         0x1f0
#define IDE_PRI_CTL     0x3f6
#define IDE_SEC         0x170
#define IDE_SEC_CTL     0x376
#define IDE_BM          0xc000      /* BAR4 as the tests program it */

/* Task file offsets and bits (ATA/ATAPI-6 7). */
#define R_DATA      0
#define R_ERR       1
#define R_FEAT      1
#define R_NSECT     2
#define R_LBAL      3
#define R_LBAM      4
#define R_LBAH      5
#define R_DEV       6
#define R_STAT      7
#define R_CMD       7
#define S_BSY       0x80
#define S_DRDY      0x40
#define S_DSC       0x10
#define S_DRQ       0x08
#define S_ERR       0x01
#define DC_NIEN     0x02
#define DC_SRST     0x04
#define DC_HOB      0x80

/* Bus master (BMIDE 2). */
#define BM_CMD      0
#define BM_STAT     2
#define BM_PRD      4

/* Guest memory the tests use. */
#define G_PRD       0x10000u
#define G_BUF       0x100000u
#define G_SCRATCH   0x80000u

struct ide_t {
    struct t_machine *t;
    char *dir;
};

static inline char *
ide_tmpdir(void)
{
    char *dir = g_build_filename(g_get_tmp_dir(), "hvmdm-ide-XXXXXX", NULL);

    T_ASSERT(g_mkdtemp(dir) != NULL);
    return dir;
}

/* A raw image of size bytes: sector s filled with (s * 7 + i) bytes. */
static inline char *
ide_make_image(const char *dir, const char *name, uint64_t size,
               uint64_t pattern_sectors)
{
    char *path = g_build_filename(dir, name, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    uint8_t sec[512];
    uint64_t s;

    T_ASSERT(fd >= 0);
    T_ASSERT(ftruncate(fd, (off_t)size) == 0);
    for (s = 0; s < pattern_sectors; s++) {
        for (unsigned int i = 0; i < 512; i++) {
            sec[i] = (uint8_t)(s * 7 + i + (s >> 8));
        }
        T_ASSERT(pwrite(fd, sec, 512, (off_t)(s * 512)) == 512);
    }
    close(fd);
    return path;
}

static inline void
ide_file_read(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    T_ASSERT(fd >= 0);
    T_EQ(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static inline void
ide_file_write(const char *path, uint64_t off, const void *buf, size_t len)
{
    int fd = open(path, O_RDWR);

    T_ASSERT(fd >= 0);
    T_EQ(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

/* hvmloader: IDETIM decode enable on both channels, BAR4, I/O + master. */
static inline void
ide_program(struct t_machine *t)
{
    t_pcicfg_write(t, IDE_BDF, 0x40, 0x8000, 2);
    t_pcicfg_write(t, IDE_BDF, 0x42, 0x8000, 2);
    t_pcicfg_write(t, IDE_BDF, 0x20, IDE_BM | 1, 4);
    t_pcicfg_write(t, IDE_BDF, 0x04, 0x0005, 2);
}

static inline struct t_machine *
ide_machine(const char *const *argv)
{
    struct t_opts o = { .argv = argv };
    struct t_machine *t = t_machine_new(&o);

    ide_program(t);
    return t;
}

static inline void
ide_rmtree(char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;

    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, n, NULL);

        g_remove(p);
        g_free(p);
    }
    if (d) {
        g_dir_close(d);
    }
    g_rmdir(dir);
    g_free(dir);
}

/* SeaBIOS send_cmd: select, LBA48 HOB bytes first, then the command. */
static inline void
ide_send(struct t_machine *t, uint16_t base, unsigned int unit, uint8_t cmd,
         uint64_t lba, uint32_t count, bool lba48)
{
    t_outb(t, base + R_DEV, (uint8_t)(0xe0 | unit << 4 |
                                      (lba48 ? 0 : (lba >> 24) & 0xf)));
    if (lba48) {
        t_outb(t, base + R_FEAT, 0);
        t_outb(t, base + R_NSECT, (uint8_t)(count >> 8));
        t_outb(t, base + R_LBAL, (uint8_t)(lba >> 24));
        t_outb(t, base + R_LBAM, (uint8_t)(lba >> 32));
        t_outb(t, base + R_LBAH, (uint8_t)(lba >> 40));
    }
    t_outb(t, base + R_FEAT, 0);
    t_outb(t, base + R_NSECT, (uint8_t)count);
    t_outb(t, base + R_LBAL, (uint8_t)lba);
    t_outb(t, base + R_LBAM, (uint8_t)(lba >> 8));
    t_outb(t, base + R_LBAH, (uint8_t)(lba >> 16));
    t_outb(t, base + R_CMD, cmd);
}

/* One PRD entry (BMIDE 1.2): address, count (0 = 64 KiB), EOT. */
static inline void
ide_prd(struct t_machine *t, unsigned int i, uint32_t addr, uint32_t count,
        bool eot)
{
    uint32_t e[2] = { addr, (count & 0xffff) | (eot ? 0x80000000u : 0) };

    t_memwrite(t, G_PRD + 8 * i, e, sizeof(e));
}

/* ata_bmdma_setup: table, direction (8 = to memory), clear INTR/ERR. */
static inline void
ide_bm_setup(struct t_machine *t, unsigned int ch, bool to_mem)
{
    uint16_t bm = (uint16_t)(IDE_BM + 8 * ch);

    t_outl(t, bm + BM_PRD, G_PRD);
    t_outb(t, bm + BM_CMD, to_mem ? 0x08 : 0x00);
    t_outb(t, bm + BM_STAT, 0x06);
}

static inline void
ide_bm_start(struct t_machine *t, unsigned int ch, bool to_mem)
{
    t_outb(t, (uint16_t)(IDE_BM + 8 * ch + BM_CMD), to_mem ? 0x09 : 0x01);
}

static inline void
ide_bm_stop(struct t_machine *t, unsigned int ch)
{
    uint16_t bm = (uint16_t)(IDE_BM + 8 * ch);

    t_outb(t, bm + BM_CMD, t_inb(t, bm + BM_CMD) & ~1);
}

/* rep INS as Xen issues it: clipped so the buffer stays in one page. */
static inline void
ide_ins(struct t_machine *t, uint16_t port, unsigned int size, uint64_t gpa,
        uint32_t count)
{
    while (count) {
        uint32_t room = (uint32_t)((4096 - (gpa & 4095)) / size);
        uint32_t n = count < room ? count : room;

        t_ins(t, port, size, gpa, n ? n : 1, false);
        n = n ? n : 1;
        gpa += (uint64_t)n * size;
        count -= n;
    }
}

/* Wait for BSY to clear, running block completions (await_not_bsy). */
static inline uint8_t
ide_wait(struct t_machine *t, uint16_t base)
{
    uint8_t st = 0;

    for (int i = 0; i < 100; i++) {
        st = t_inb(t, (uint16_t)(base == IDE_PRI ? IDE_PRI_CTL : IDE_SEC_CTL));
        if (!(st & S_BSY)) {
            return st;
        }
        t_settle(t);
    }
    return st;
}

#endif
