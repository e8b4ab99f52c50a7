/*
 * fw_cfg through the machine harness, read the way SeaBIOS does
 * (src/fw/paravirt.c qemu_cfg_init: signature by the data port, then the
 * ID, the legacy items and the file directory by DMA) and the way QEMU's
 * linuxboot_dma.bin does (bios_cfg_read_entry: one DMA per item, the
 * descriptor on its stack, only the low address written), then with
 * hostile descriptors.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm/config.h"
#include "dm/dev.h"
#include "dm/log.h"
#include "hw/fw_cfg/fw_cfg.h"
#include "tests/ide-util.h"

#define G_DESC      0x7000u         /* the ROM's stack, roughly */
#define G_DATA      0x90000u
#define SETUP_SECTS 3
#define KERNEL_LEN  (64 * 1024)     /* setup + protected-mode part */
#define INITRD_LEN  (40 * 1024 + 17)

struct fc_t {
    struct t_machine *t;
    char *dir;
    char *kernel;
    char *initrd;
    uint8_t *kimg;
    uint8_t *iimg;
};

/* A bzImage as boot.rst describes its header; the rest a pattern. */
static uint8_t *
fc_make_kernel(uint16_t version)
{
    uint8_t *k = g_malloc(KERNEL_LEN);
    unsigned int i;

    for (i = 0; i < KERNEL_LEN; i++) {
        k[i] = (uint8_t)(i * 13 + (i >> 9));
    }
    k[0x1f1] = SETUP_SECTS;
    memcpy(k + 0x202, "HdrS", 4);
    k[0x206] = (uint8_t)version;
    k[0x207] = (uint8_t)(version >> 8);
    k[0x210] = 0;
    k[0x211] = 0x01;                        /* LOADED_HIGH */
    memset(k + 0x218, 0, 8);
    memcpy(k + 0x22c, "\xff\xff\xff\x7f", 4);  /* initrd_addr_max */
    return k;
}

static void
fc_write_file(const char *path, const void *data, size_t len)
{
    T_ASSERT(g_file_set_contents(path, data, (gssize)len, NULL));
}

static char *
fc_make_rom_dir(const char *dir)
{
    char *romdir = g_build_filename(dir, "roms", NULL);
    g_autofree char *rom = g_build_filename(romdir, "linuxboot_dma.bin",
                                            NULL);
    uint8_t img[1536] = { 0x55, 0xaa, 3 };

    T_ASSERT(g_mkdir(romdir, 0700) == 0);
    fc_write_file(rom, img, sizeof(img));
    return romdir;
}

static struct fc_t
fc_new(const char *append, bool with_initrd)
{
    struct fc_t f = { 0 };
    g_autofree char *romdir = NULL;
    const char *argv[12];
    struct t_opts o = { .ram_size = 64ull << 20, .argv = argv };
    unsigned int n = 0, i;

    f.dir = ide_tmpdir();
    f.kernel = g_build_filename(f.dir, "vmlinuz", NULL);
    f.initrd = g_build_filename(f.dir, "initrd", NULL);
    f.kimg = fc_make_kernel(0x020f);
    f.iimg = g_malloc(INITRD_LEN);
    for (i = 0; i < INITRD_LEN; i++) {
        f.iimg[i] = (uint8_t)(i * 7 + 3);
    }
    fc_write_file(f.kernel, f.kimg, KERNEL_LEN);
    fc_write_file(f.initrd, f.iimg, INITRD_LEN);
    romdir = fc_make_rom_dir(f.dir);
    argv[n++] = "-kernel";
    argv[n++] = f.kernel;
    if (with_initrd) {
        argv[n++] = "-initrd";
        argv[n++] = f.initrd;
    }
    if (append) {
        argv[n++] = "-append";
        argv[n++] = append;
    }
    argv[n++] = "-L";
    argv[n++] = romdir;
    argv[n] = NULL;
    f.t = t_machine_new(&o);
    return f;
}

static void
fc_free(struct fc_t *f)
{
    t_machine_free(f->t);
    g_free(f->kernel);
    g_free(f->initrd);
    g_free(f->kimg);
    g_free(f->iimg);
    ide_rmtree(f->dir);
}

static struct t_machine *
fc_plain(void)
{
    struct t_opts o = { 0 };

    return t_machine_new(&o);
}

/* bios_cfg_read_entry: descriptor at desc, only the low half written. */
static uint32_t
fc_dma(struct t_machine *t, uint64_t desc, uint32_t control, uint32_t len,
       uint64_t addr)
{
    struct fw_cfg_dma_access d = {
        .control = htobe32(control), .length = htobe32(len),
        .address = htobe64(addr),
    };

    t_memwrite(t, desc, &d, sizeof(d));
    t_outl(t, 0x518, htobe32((uint32_t)desc));
    t_memread(t, desc, &d, sizeof(d));
    return be32toh(d.control);
}

static uint32_t
fc_read_entry(struct t_machine *t, uint16_t key, void *buf, uint32_t len)
{
    uint32_t rc = fc_dma(t, G_DESC, (uint32_t)key << 16 |
                         FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, len,
                         G_DATA);

    t_memread(t, G_DATA, buf, len);
    return rc;
}

static uint32_t
fc_read32(struct t_machine *t, uint16_t key)
{
    uint32_t v = 0;

    T_EQ(fc_read_entry(t, key, &v, 4), 0);
    return le32toh(v);
}

/* qemu_cfg_init: "QEMU" byte by byte on the data port. */
T_TEST(fw_cfg_seabios_signature_and_id)
{
    struct t_machine *t = fc_plain();
    char sig[5] = { 0 };
    uint32_t id = 0;
    unsigned int i;

    t_outw(t, 0x510, FW_CFG_SIGNATURE);
    for (i = 0; i < 4; i++) {
        sig[i] = (char)t_inb(t, 0x511);
    }
    T_ASSERT(strcmp(sig, "QEMU") == 0);
    T_EQ(t_inb(t, 0x511), 0);               /* past the end */
    t_outw(t, 0x510, FW_CFG_ID);
    for (i = 0; i < 4; i++) {
        id |= (uint32_t)t_inb(t, 0x511) << (8 * i);
    }
    T_EQ(id, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    T_EQ(fc_read32(t, FW_CFG_ID), 3);       /* and by DMA */
    t_machine_free(t);
}

/* The DMA register reads back "QEMU CFG" in memory order (FWCFG). */
T_TEST(fw_cfg_dma_signature)
{
    struct t_machine *t = fc_plain();

    T_EQ(t_inl(t, 0x514), 0x554d4551);      /* "QEMU" */
    T_EQ(t_inl(t, 0x518), 0x47464320);      /* " CFG" */
    T_EQ(t_inb(t, 0x517), 'U');
    T_EQ(t_inw(t, 0x51a), 0x4746);
    t_machine_free(t);
}

/* libxl's -nographic (no VNC, no SDL) must not turn on SeaBIOS's serial
 * console, which takes COM1's input: NOGRAPHIC reads 0 as on qemu-xen. */
T_TEST(fw_cfg_nographic_reads_zero)
{
    const char *argv[] = { "-nographic", NULL };
    struct t_opts o = { .argv = argv };
    struct t_machine *t = t_machine_new(&o);
    uint16_t v = 1;

    T_ASSERT(t->dm->cfg->nographic);
    T_EQ(fc_read_entry(t, FW_CFG_NOGRAPHIC, &v, 2), 0);
    T_EQ(v, 0);
    t_machine_free(t);
}

/* qemu_cfg_legacy and the directory, as SeaBIOS reads them by DMA. */
T_TEST(fw_cfg_seabios_legacy_and_file_dir)
{
    struct t_machine *t = fc_plain();
    uint8_t buf[64];
    uint64_t numa = 1;
    uint16_t cnt = 1;

    T_EQ(fc_read_entry(t, FW_CFG_NUMA, &numa, 8), 0);
    T_EQ(numa, 0);
    T_EQ(fc_read_entry(t, FW_CFG_ARCH_LOCAL + 0, &cnt, 2), 0);  /* ACPI */
    T_EQ(cnt, 0);
    T_EQ(fc_read_entry(t, FW_CFG_ARCH_LOCAL + 1, &cnt, 2), 0);  /* SMBIOS */
    T_EQ(cnt, 0);
    T_EQ(fc_read_entry(t, FW_CFG_MAX_CPUS, &cnt, 2), 0);
    T_EQ(cnt, 1);
    T_EQ(fc_read_entry(t, FW_CFG_RAM_SIZE, buf, 8), 0);
    T_EQ(le64toh(*(uint64_t *)buf), 64ull << 20);
    /* No -kernel: an empty directory, so no "bootorder" either. */
    T_EQ(fc_read_entry(t, FW_CFG_FILE_DIR, buf, 4), 0);
    T_EQ(be32toh(*(uint32_t *)buf), 0);
    t_machine_free(t);
}

struct fc_file {
    uint32_t size;
    uint16_t select;
    char name[57];
};

/* The directory walk of qemu_cfg_init: count, then entries by DMA READ. */
static unsigned int
fc_dir(struct t_machine *t, struct fc_file *out, unsigned int max)
{
    uint32_t count;
    uint8_t e[64];
    unsigned int i;

    T_EQ(fc_read_entry(t, FW_CFG_FILE_DIR, &count, 4), 0);
    count = be32toh(count);
    T_ASSERT(count <= max);
    for (i = 0; i < count; i++) {
        T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_READ, 64, G_DATA), 0);
        t_memread(t, G_DATA, e, sizeof(e));
        out[i].size = be32toh(*(uint32_t *)e);
        out[i].select = be16toh(*(uint16_t *)(e + 4));
        memcpy(out[i].name, e + 8, 56);
        out[i].name[56] = '\0';
    }
    return count;
}

/* With -kernel: the ROM as a genroms file, named first in bootorder. */
T_TEST(fw_cfg_linuxboot_files)
{
    struct fc_t f = fc_new("console=ttyS0 quiet", true);
    struct fc_file files[8];
    char order[64];
    uint8_t rom[4];

    T_EQ(fc_dir(f.t, files, 8), 2);
    T_ASSERT(strcmp(files[0].name, "genroms/linuxboot_dma.bin") == 0);
    T_EQ(files[0].size, 1536);
    T_EQ(files[0].select, 0x20);
    T_ASSERT(strcmp(files[1].name, "bootorder") == 0);
    T_EQ(fc_read_entry(f.t, files[1].select, order, files[1].size), 0);
    T_ASSERT(strcmp(order, "/rom@genroms/linuxboot_dma.bin") == 0);
    T_EQ(fc_read_entry(f.t, files[0].select, rom, 4), 0);
    T_EQ(rom[0], 0x55);
    T_EQ(rom[1], 0xaa);
    fc_free(&f);
}

/* linuxboot_dma.c load_kernel, item by item, then the layout checks. */
T_TEST(fw_cfg_linuxboot_dma_sequence)
{
    struct fc_t f = fc_new("console=ttyS0 quiet", true);
    struct t_machine *t = f.t;
    uint32_t setup_addr, setup_size, kaddr, ksize, iaddr, isize;
    uint32_t caddr, csize;
    uint8_t *buf = g_malloc(KERNEL_LEN);
    uint8_t hdr[0x230];
    char cmd[32];

    setup_addr = fc_read32(t, FW_CFG_SETUP_ADDR);
    setup_size = fc_read32(t, FW_CFG_SETUP_SIZE);
    T_EQ(setup_addr, 0x10000);
    T_EQ(setup_size, (SETUP_SECTS + 1) * 512);
    T_EQ(fc_dma(t, G_DESC, FW_CFG_SETUP_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
                FW_CFG_DMA_CTL_READ, setup_size, setup_addr), 0);
    t_memread(t, setup_addr, hdr, sizeof(hdr));
    T_EQ(hdr[0x210], 0xb0);                 /* type_of_loader */
    T_EQ(hdr[0x211], 0x81);                 /* LOADED_HIGH|CAN_USE_HEAP */
    T_EQ(le16toh(*(uint16_t *)(hdr + 0x224)), 0x20000 - 0x10000 - 0x200);
    T_EQ(le32toh(*(uint32_t *)(hdr + 0x228)), 0x20000);
    iaddr = fc_read32(t, FW_CFG_INITRD_ADDR);
    isize = fc_read32(t, FW_CFG_INITRD_SIZE);
    T_EQ(isize, INITRD_LEN);
    T_EQ(le32toh(*(uint32_t *)(hdr + 0x218)), iaddr);
    T_EQ(le32toh(*(uint32_t *)(hdr + 0x21c)), INITRD_LEN);
    T_EQ(iaddr & 0xfff, 0);
    T_ASSERT(iaddr + isize <= (64u << 20) - 0x28000);
    T_EQ(fc_dma(t, G_DESC, FW_CFG_INITRD_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
                FW_CFG_DMA_CTL_READ, isize, iaddr), 0);
    t_memread(t, iaddr, buf, isize);
    T_ASSERT(memcmp(buf, f.iimg, INITRD_LEN) == 0);
    kaddr = fc_read32(t, FW_CFG_KERNEL_ADDR);
    ksize = fc_read32(t, FW_CFG_KERNEL_SIZE);
    T_EQ(kaddr, 0x100000);
    T_EQ(ksize, KERNEL_LEN - setup_size);
    T_EQ(fc_dma(t, G_DESC, FW_CFG_KERNEL_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
                FW_CFG_DMA_CTL_READ, ksize, kaddr), 0);
    t_memread(t, kaddr, buf, ksize);
    T_ASSERT(memcmp(buf, f.kimg + setup_size, ksize) == 0);
    caddr = fc_read32(t, FW_CFG_CMDLINE_ADDR);
    csize = fc_read32(t, FW_CFG_CMDLINE_SIZE);
    T_EQ(caddr, 0x20000);
    T_EQ(csize, strlen("console=ttyS0 quiet") + 1);
    T_EQ(fc_read_entry(t, FW_CFG_CMDLINE_DATA, cmd, csize), 0);
    T_ASSERT(strcmp(cmd, "console=ttyS0 quiet") == 0);
    g_free(buf);
    fc_free(&f);
}

/* linuxboot.bin (no DMA): rep insb on the data port, and SKIP by DMA. */
T_TEST(fw_cfg_linuxboot_pio_and_skip)
{
    struct fc_t f = fc_new(NULL, false);
    struct t_machine *t = f.t;
    uint32_t setup = (SETUP_SECTS + 1) * 512;
    uint8_t buf[4096];
    char cmd[4] = "x";

    t_outw(t, 0x510, FW_CFG_KERNEL_DATA);
    t_ins(t, 0x511, 1, G_DATA, sizeof(buf), false);
    t_memread(t, G_DATA, buf, sizeof(buf));
    T_ASSERT(memcmp(buf, f.kimg + setup, sizeof(buf)) == 0);
    /* SKIP 1000 bytes, then READ continues at the offset. */
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_SKIP, 1000, 0), 0);
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_READ, 16, G_DATA), 0);
    t_memread(t, G_DATA, buf, 16);
    T_ASSERT(memcmp(buf, f.kimg + setup + 4096 + 1000, 16) == 0);
    /* No -initrd, no -append: empty items, zero addresses. */
    T_EQ(fc_read32(t, FW_CFG_INITRD_SIZE), 0);
    T_EQ(fc_read32(t, FW_CFG_INITRD_ADDR), 0);
    T_EQ(fc_read32(t, FW_CFG_CMDLINE_SIZE), 1);
    T_EQ(fc_read_entry(t, FW_CFG_CMDLINE_DATA, cmd, 1), 0);
    T_EQ(cmd[0], 0);
    fc_free(&f);
}

/* Hostile descriptors: every one ends in the error bit or in bounds. */
T_TEST(fw_cfg_hostile_dma_descriptors)
{
    struct t_machine *t = fc_plain();
    uint64_t ram = t_ram_size(t);
    uint8_t guard[64], want[64];
    uint32_t v;

    dm_log_set_quiet(1);
    memset(want, 0x5a, sizeof(want));
    t_memwrite(t, ram - 64, want, sizeof(want));
    /* Target past the end of RAM, and one straddling it. */
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4,
                ram + 0x1000), FW_CFG_DMA_CTL_ERROR);
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_READ, 0xffffffff, ram - 64),
         FW_CFG_DMA_CTL_ERROR);
    /* The address wraps around the top of the 64-bit space. */
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
                0x100, 0xfffffffffffffff0ull), FW_CFG_DMA_CTL_ERROR);
    /* Writes: no item is writable. */
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE |
                FW_CFG_WRITE_CHANNEL << 16, 4, G_DATA),
         FW_CFG_DMA_CTL_ERROR);
    /* Unknown keys read as zeros; SKIP past the end is fine. */
    v = 0xffffffff;
    T_EQ(fc_read_entry(t, 0x7fff, &v, 4), 0);
    T_EQ(v, 0);
    T_EQ(fc_read_entry(t, 0xffff, &v, 4), 0);
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_SKIP, 0xffffffff, 0), 0);
    /* No operation bit: nothing moves, success. */
    T_EQ(fc_dma(t, G_DESC, 0, 0x1000, G_DATA), 0);
    /* The descriptor in an unpopulated frame: nothing written anywhere. */
    t_ram_hole(t, 0x200000, 0x1000);
    t_outl(t, 0x518, htobe32(0x200000));
    /* Descriptor at the last bytes of RAM, crossing the end. */
    t_outl(t, 0x518, htobe32((uint32_t)(ram - 8)));
    /* Descriptor that the transfer itself overwrites: control wins. */
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 16,
                G_DESC), 0);
    /* A high half latched: the descriptor is above 4 GiB, outside RAM,
     * so the one at G_DESC stays untouched; the latch then clears. */
    t_outl(t, 0x514, htobe32(1));
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_READ, 4, G_DATA),
         FW_CFG_DMA_CTL_READ);
    T_EQ(fc_dma(t, G_DESC, FW_CFG_DMA_CTL_READ, 4, G_DATA), 0);
    /* Odd widths at the DMA registers are ignored. */
    t_outw(t, 0x518, 0x1234);
    t_outb(t, 0x51b, 0x12);
    t_outb(t, 0x510, 0x01);                  /* selector is 16-bit */
    t_outw(t, 0x511, 0x0001);
    /* The straddling READ filled RAM up to its end, like hardware. */
    t_memread(t, ram - 64, guard, sizeof(guard));
    T_ASSERT(memcmp(guard, "QEMU", 4) == 0);
    T_EQ(guard[4], 0);
    /* Still serving the signature afterwards. */
    t_outw(t, 0x510, FW_CFG_SIGNATURE);
    T_EQ(t_inb(t, 0x511), 'Q');
    t_machine_free(t);
}

/* Random descriptors: never a crash, never a write outside RAM. */
T_TEST(fw_cfg_dma_fuzz)
{
    struct t_machine *t = fc_plain();
    uint64_t ram = t_ram_size(t);
    unsigned int i;

    dm_log_set_quiet(1);
    srand(8);
    for (i = 0; i < 3000; i++) {
        uint32_t ctl = (uint32_t)rand();
        uint32_t len = (rand() % 4) ? (uint32_t)(rand() % 0x3000)
                                    : (uint32_t)rand() << 1;
        uint64_t addr = (rand() % 3) ? (uint64_t)(rand() % (int)ram)
                                     : (uint64_t)rand() << 32 | rand();
        uint64_t desc = (uint64_t)(rand() % (int)(ram - 16)) & ~15ull;

        if (len > (1u << 24)) {
            len &= 0xffffff;                /* keep the run short */
        }
        (void)fc_dma(t, desc, ctl & 0xffff001f, len, addr);
    }
    t_outw(t, 0x510, FW_CFG_SIGNATURE);
    T_EQ(t_inb(t, 0x511), 'Q');
    t_machine_free(t);
}

/* Setup errors name the fix; they stop the machine before it runs. */
T_TEST(fw_cfg_linuxboot_errors)
{
    struct fc_t f = fc_new(NULL, true);
    struct dm_dev *dev = t_find_dev(f.t, "fw_cfg");
    struct dm_config cfg;
    uint8_t *small;
    char err[512];
    g_autofree char *bad = g_build_filename(f.dir, "bad", NULL);
    g_autofree char *romdir = g_build_filename(f.dir, "roms", NULL);

    T_ASSERT(dev != NULL);
    dm_config_defaults(&cfg);
    cfg.ram_size = 64ull << 20;
    cfg.kernel = f.kernel;
    cfg.firmware_dir = f.dir;               /* no ROM in there */
    T_EQ(linuxboot_setup(dev->opaque, &cfg, 64ull << 20, err, sizeof(err)),
         -1);
    T_ASSERT(strstr(err, "qemu-system-data"));
    cfg.firmware_dir = romdir;
    fc_write_file(bad, "MZ not a kernel", 15);
    cfg.kernel = bad;
    T_EQ(linuxboot_setup(dev->opaque, &cfg, 64ull << 20, err, sizeof(err)),
         -1);
    T_ASSERT(strstr(err, "not a Linux bzImage"));
    small = fc_make_kernel(0x0201);
    fc_write_file(bad, small, KERNEL_LEN);
    T_EQ(linuxboot_setup(dev->opaque, &cfg, 64ull << 20, err, sizeof(err)),
         -1);
    T_ASSERT(strstr(err, "2.02 or later"));
    g_free(small);
    cfg.kernel = f.kernel;
    cfg.initrd = f.kernel;
    T_EQ(linuxboot_setup(dev->opaque, &cfg, 0x120000, err, sizeof(err)), -1);
    T_ASSERT(strstr(err, "do not fit"));
    cfg.initrd = NULL;
    cfg.kernel = g_build_filename(f.dir, "missing", NULL);
    T_EQ(linuxboot_setup(dev->opaque, &cfg, 64ull << 20, err, sizeof(err)),
         -1);
    T_ASSERT(strstr(err, "missing"));
    g_free(cfg.kernel);
    fc_free(&f);
}

/* Rule 13: key, offset and a latched high half survive a round trip. */
T_TEST(fw_cfg_state_round_trip)
{
    struct t_machine *a = fc_plain(), *b = fc_plain();
    struct dm_dev *dev = t_find_dev(a, "fw_cfg");
    uint8_t rec[16];

    t_outw(a, 0x510, FW_CFG_SIGNATURE);
    (void)t_inb(a, 0x511);
    t_outl(a, 0x514, htobe32(0));
    t_state_round_trip(a, b);
    T_EQ(t_inb(b, 0x511), 'E');
    dev->ops->save(dev->opaque, rec);
    T_EQ(dev->ops->check(rec), 0);
    rec[15] = 1;
    T_EQ(dev->ops->check(rec), -EINVAL);
    dev->ops->save(dev->opaque, rec);
    rec[0] = 1;                             /* a low half never latches */
    T_EQ(dev->ops->check(rec), -EINVAL);
    t_machine_free(a);
    t_machine_free(b);
}

/*
 * The host's own Debian kernel and qemu-system-data's linuxboot_dma.bin,
 * when this machine has them (tests/xen boots the same pair under Xen):
 * the real header parses and is patched, the sizes add up, the ROM is
 * accepted whole.
 */
T_TEST(fw_cfg_linuxboot_host_kernel)
{
    g_autoptr(GDir) boot = g_dir_open("/boot", 0, NULL);
    g_autofree char *kernel = NULL;
    g_autofree uint8_t *file = NULL, *rom = NULL;
    const char *n, *argv[6];
    struct t_opts o = { .ram_size = 256ull << 20, .argv = argv };
    struct t_machine *t;
    gsize flen = 0, rlen = 0;
    uint8_t hdr[0x230];
    uint32_t setup;

    while (boot && (n = g_dir_read_name(boot)) && !kernel) {
        if (g_str_has_prefix(n, "vmlinuz-")) {
            kernel = g_build_filename("/boot", n, NULL);
        }
    }
    if (!kernel || !g_file_get_contents(kernel, (char **)&file, &flen,
                                        NULL) ||
        !g_file_get_contents("/usr/share/qemu/linuxboot_dma.bin",
                             (char **)&rom, &rlen, NULL)) {
        return;     /* no kernel or no qemu-system-data on this host */
    }
    argv[0] = "-kernel";
    argv[1] = kernel;
    argv[2] = "-append";
    argv[3] = "console=ttyS0 quiet";
    argv[4] = NULL;
    t = t_machine_new(&o);
    setup = fc_read32(t, FW_CFG_SETUP_SIZE);
    T_EQ(setup, ((file[0x1f1] ? file[0x1f1] : 4) + 1) * 512u);
    T_EQ(setup + fc_read32(t, FW_CFG_KERNEL_SIZE), flen);
    T_EQ(fc_read_entry(t, FW_CFG_SETUP_DATA, hdr, sizeof(hdr)), 0);
    T_ASSERT(memcmp(hdr + 0x202, "HdrS", 4) == 0);
    T_EQ(hdr[0x210], 0xb0);
    T_EQ(le32toh(*(uint32_t *)(hdr + 0x228)), 0x20000);
    T_ASSERT(memcmp(hdr + 0x230 - 0x30, file + 0x200, 0x10) == 0);
    T_EQ(fc_read32(t, FW_CFG_CMDLINE_SIZE), strlen("console=ttyS0 quiet") + 1);
    T_EQ(fc_read32(t, FW_CFG_FILE_DIR), 0x02000000u);  /* 2, big-endian */
    t_machine_free(t);
}

/* SeaBIOS loadBootOrder: "bootorder" found in the directory, read whole. */
static bool
fc_bootorder(struct t_machine *t, char *buf, size_t len)
{
    struct fc_file files[8];
    unsigned int n = fc_dir(t, files, 8), i;

    for (i = 0; i < n; i++) {
        if (strcmp(files[i].name, "bootorder") == 0) {
            T_ASSERT(files[i].size <= len);
            T_EQ(fc_read_entry(t, files[i].select, buf, files[i].size), 0);
            T_EQ(buf[files[i].size - 1], '\0');
            return true;
        }
    }
    return false;
}

/* hda a disk, hdd an empty CD-ROM, an e1000 (00:04.0) on sv[0]. */
static struct t_machine *
fc_boot_machine(const char *order, const char *dir, int *sv)
{
    char disk[256], cd[64], bo[32], net[64];
    const char *argv[] = { "-boot", bo, "-drive", disk, "-drive", cd,
                           "-device", "e1000,netdev=n0", "-netdev",
                           net, NULL };
    struct t_opts o = { .argv = argv };
    g_autofree char *img = g_build_filename(dir, "hda.img", NULL);

    T_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    snprintf(net, sizeof(net), "socket,id=n0,fd=%d", sv[0]);

    fc_write_file(img, "", 0);
    T_EQ(truncate(img, 1 << 20), 0);
    snprintf(bo, sizeof(bo), "order=%s", order);
    snprintf(disk, sizeof(disk), "file=%s,if=ide,index=0,media=disk,"
             "format=raw", img);
    snprintf(cd, sizeof(cd), "if=ide,index=3,media=cdrom");
    return t_machine_new(&o);
}

/* -boot order=: the paths SeaBIOS's bootprio_find_* match, in order. */
T_TEST(fw_cfg_bootorder_from_boot_order)
{
    static const struct { const char *order, *text; } cases[] = {
        { "dc", "/pci@i0cf8/ide@1,1/drive@1/disk@1\n"
                "/pci@i0cf8/ide@1,1/drive@0/disk@0" },
        { "ncd", "/pci@i0cf8/ethernet@4\n"
                 "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
                 "/pci@i0cf8/ide@1,1/drive@1/disk@1" },
        { "c", "/pci@i0cf8/ide@1,1/drive@0/disk@0" },
    };
    char *dir = ide_tmpdir();
    char buf[512];
    unsigned int i;
    int sv[2];

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct t_machine *t = fc_boot_machine(cases[i].order, dir, sv);

        memset(buf, 0x55, sizeof(buf));
        T_ASSERT(fc_bootorder(t, buf, sizeof(buf)));
        T_ASSERT(strcmp(buf, cases[i].text) == 0);
        t_machine_free(t);
        close(sv[1]);
    }
    ide_rmtree(dir);
}

/* No device a letter names (floppy, CD-ROM, NIC): no line, no file. */
T_TEST(fw_cfg_bootorder_names_only_present_devices)
{
    const char *argv[] = { "-boot", "order=adn", NULL };
    struct t_opts o = { .argv = argv };
    struct t_machine *t = t_machine_new(&o);
    char buf[64];

    T_ASSERT(!fc_bootorder(t, buf, sizeof(buf)));
    t_machine_free(t);
}

/* With -kernel the ROM stays first and -boot's devices follow it. */
T_TEST(fw_cfg_bootorder_kernel_first)
{
    struct dm_config cfg;
    char *text;

    dm_config_defaults(&cfg);
    cfg.kernel = g_strdup("/boot/vmlinuz");
    g_strlcpy(cfg.boot_order, "dc", sizeof(cfg.boot_order));
    cfg.drives[0].iface = DM_IF_IDE;
    cfg.drives[0].media = DM_MEDIA_DISK;
    cfg.drives[0].index = 1;
    cfg.nr_drives = 1;
    text = fw_cfg_bootorder_text(&cfg, NULL);
    T_ASSERT(strcmp(text, "/rom@genroms/linuxboot_dma.bin\n"
                    "/pci@i0cf8/ide@1,1/drive@0/disk@1") == 0);
    g_free(text);
    cfg.nr_drives = 0;
    dm_config_free(&cfg);
}
