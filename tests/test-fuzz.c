/*
 * Hostile-guest smoke tests: seeded random streams of port, MMIO, PCI
 * configuration and string accesses against the whole board (with a disk
 * and a CD-ROM), biased toward the ports and registers the devices decode.
 * The only expectations are the hard ones: hvmdm never crashes, hangs or
 * trips a sanitizer, every request is answered, and the machine still
 * answers PCI configuration reads afterwards. A failing seed is turned into
 * a tests/replay file.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/t.h"

/* Ports the board decodes, and the PCI functions it has. */
static const uint16_t fuzz_ports[] = {
    0x60, 0x64, 0x70, 0x71, 0x72, 0x73, 0x80, 0x92, 0xb2, 0xb3,
    0x170, 0x176, 0x177, 0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6,
    0x1f7, 0x2f8, 0x2fd, 0x376, 0x3f6, 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc,
    0x3fd, 0xafe0, 0xafe2, 0xb004, 0xc000, 0xc002, 0xc004, 0xc008,
    0xcf8, 0xcf9, 0xcfc, 0xcfd, 0xcfe,
};
static const uint16_t fuzz_bdfs[] = { 0x00, 0x08, 0x09, 0x0b, 0x10 };

struct fuzz {
    struct t_machine *t;
    GRand *rng;
    char dir[64];
};

static unsigned int
fuzz_size(GRand *rng)
{
    static const unsigned int sizes[] = { 1, 2, 4 };

    return sizes[g_rand_int_range(rng, 0, 3)];
}

static uint16_t
fuzz_port(GRand *rng)
{
    if (g_rand_int_range(rng, 0, 8) == 0) {
        return (uint16_t)g_rand_int_range(rng, 0, 0x10000);
    }
    return fuzz_ports[g_rand_int_range(rng, 0, G_N_ELEMENTS(fuzz_ports))] +
           (uint16_t)g_rand_int_range(rng, 0, 2);
}

static uint32_t
fuzz_value(GRand *rng)
{
    static const uint32_t special[] = { 0, 0xffffffff, 0x80000000, 1, 6,
                                        0xf1, 0x2001, 0xc8, 0x25, 0xa0 };

    if (g_rand_boolean(rng)) {
        return special[g_rand_int_range(rng, 0, G_N_ELEMENTS(special))];
    }
    return g_rand_int(rng);
}

static void
fuzz_pio(struct fuzz *f)
{
    uint16_t port = fuzz_port(f->rng);
    uint32_t val = fuzz_value(f->rng);
    bool in = g_rand_boolean(f->rng);

    switch (fuzz_size(f->rng)) {
    case 1:
        in ? (void)t_inb(f->t, port) : t_outb(f->t, port, (uint8_t)val);
        break;
    case 2:
        in ? (void)t_inw(f->t, port) : t_outw(f->t, port, (uint16_t)val);
        break;
    default:
        in ? (void)t_inl(f->t, port) : t_outl(f->t, port, val);
        break;
    }
}

static void
fuzz_cfg(struct fuzz *f)
{
    unsigned int bdf = fuzz_bdfs[g_rand_int_range(f->rng, 0,
                                                  G_N_ELEMENTS(fuzz_bdfs))];
    unsigned int size = fuzz_size(f->rng);
    unsigned int reg = (unsigned int)g_rand_int_range(f->rng, 0, 256) &
                       ~(size - 1);

    if (g_rand_boolean(f->rng)) {
        t_pcicfg_write(f->t, bdf, reg, fuzz_value(f->rng), size);
    } else {
        t_cfg_read(f->t, bdf, reg, size);
    }
}

static void
fuzz_string(struct fuzz *f)
{
    uint64_t ram = t_ram_size(f->t);
    uint64_t gpa = g_rand_boolean(f->rng) ? g_rand_int(f->rng) % ram
                                          : (uint64_t)g_rand_int(f->rng) << 12;
    unsigned int size = fuzz_size(f->rng);
    uint32_t count = (uint32_t)g_rand_int_range(f->rng, 1, 4096 / size + 1);
    bool df = g_rand_int_range(f->rng, 0, 4) == 0;

    if (g_rand_boolean(f->rng)) {
        t_ins(f->t, fuzz_port(f->rng), size, gpa, count, df);
    } else {
        t_outs(f->t, fuzz_port(f->rng), size, gpa, count, df);
    }
}

/* Guest RAM the devices may take as descriptors (PRD tables). */
static void
fuzz_ram(struct fuzz *f)
{
    uint32_t words[16];
    uint64_t gpa = (uint64_t)g_rand_int_range(f->rng, 0, 64) << 12;

    for (unsigned int i = 0; i < G_N_ELEMENTS(words); i++) {
        words[i] = fuzz_value(f->rng);
    }
    t_memwrite(f->t, gpa, words, sizeof(words));
}

static void
fuzz_mmio(struct fuzz *f)
{
    uint64_t addr = 0xf0000000ull + ((uint64_t)g_rand_int(f->rng) & 0x0fffffff);

    if (g_rand_boolean(f->rng)) {
        t_readl(f->t, addr & ~3ull);
    } else {
        t_writel(f->t, addr & ~3ull, fuzz_value(f->rng));
    }
}

static void
fuzz_make_images(struct fuzz *f, char *disk, char *iso, size_t len)
{
    g_autofree char *zeros = g_malloc0(1 << 20);

    snprintf(f->dir, sizeof(f->dir), "/tmp/hvmdm-fuzz-XXXXXX");
    T_ASSERT(g_mkdtemp(f->dir) != NULL);
    snprintf(disk, len, "%s/disk.img", f->dir);
    snprintf(iso, len, "%s/cd.iso", f->dir);
    T_ASSERT(g_file_set_contents(disk, zeros, 1 << 20, NULL));
    T_ASSERT(g_file_set_contents(iso, zeros, 1 << 20, NULL));
}

static void
fuzz_run(guint32 seed, unsigned int ops)
{
    char disk[96], iso[96], d0[192], d1[192];
    const char *argv[] = { "-serial", "null", "-drive", d0, "-drive", d1,
                           NULL };
    struct t_opts o = { .argv = argv };
    struct fuzz f = { 0 };

    fuzz_make_images(&f, disk, iso, sizeof(disk));
    snprintf(d0, sizeof(d0), "file=%s,if=ide,index=0,media=disk,format=raw",
             disk);
    snprintf(d1, sizeof(d1), "file=%s,if=ide,index=2,media=cdrom,"
             "format=raw", iso);
    f.t = t_machine_new(&o);
    f.rng = g_rand_new_with_seed(seed);
    for (unsigned int i = 0; i < ops; i++) {
        switch (g_rand_int_range(f.rng, 0, 10)) {
        case 0:
        case 1:
            fuzz_cfg(&f);
            break;
        case 2:
            fuzz_string(&f);
            break;
        case 3:
            fuzz_ram(&f);
            break;
        case 4:
            fuzz_mmio(&f);
            break;
        case 5:
            t_clock_step(f.t, (uint64_t)g_rand_int_range(f.rng, 0, 1000000));
            break;
        default:
            fuzz_pio(&f);
            break;
        }
        if (i % 256 == 0) {
            t_settle(f.t);
        }
    }
    t_settle(f.t);
    /* Still alive and decoding: the host bridge answers. */
    T_EQ(t_pcicfg_read(f.t, 0, 0, 4), 0x12378086);
    g_rand_free(f.rng);
    t_machine_free(f.t);
    unlink(disk);
    unlink(iso);
    rmdir(f.dir);
}

T_TEST(fuzz_board_seed_1)
{
    fuzz_run(1, 20000);
}

T_TEST(fuzz_board_seed_2)
{
    fuzz_run(2, 20000);
}

T_TEST(fuzz_board_seed_3)
{
    fuzz_run(0xdecafbad, 20000);
}
