/*
 * The fw_cfg device: a selector at 0x510 (16-bit), a data byte at 0x511
 * and the DMA address registers at 0x514 (high) and 0x518 (low, starts
 * the transfer), both big-endian. Reference: QEMU docs/specs/fw_cfg.rst
 * ("FWCFG"), SeaBIOS src/fw/paravirt.c (qemu_cfg_init, the reader).
 *
 * Every item is host data set up before the guest runs; the guest only
 * reads (no writable item exists, so DMA writes fail with the error bit).
 * A DMA descriptor is guest memory: it is copied once, each field is
 * taken from the copy, and every guest address goes through gm_read and
 * gm_write, which refuse what is not guest RAM.
 */
#include "hw/fw_cfg/fw_cfg.h"

#include <endian.h>
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/config.h"  /* cfg->kernel, cfg->vcpus */
#include "dm/dev.h"     /* dm_dev_register */
#include "dm/gmem.h"    /* gm_read, gm_write */
#include "dm/iomap.h"
#include "dm/log.h"
#include "dm/machine.h" /* struct dm */
#include "hw/board.h"       /* dm->board->fw_cfg */

#define FW_CFG_STD_SLOTS  (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
#define FW_CFG_ARCH_SLOTS 8
#define FW_CFG_SLOTS      (FW_CFG_STD_SLOTS + FW_CFG_ARCH_SLOTS)
#define FW_CFG_NAME_LEN   56
/* Default below-4 GiB RAM top when libxl gives no max-ram-below-4g. */
#define FW_CFG_LOWMEM_MAX 0xf0000000ull

struct fw_cfg_item {
    uint8_t *data;
    uint32_t len;
};

/* FW_CFG_FILE_DIR entry (FWCFG "File Directory"), big-endian. */
struct fw_cfg_file {
    uint32_t size;
    uint16_t select;
    uint16_t reserved;
    char name[FW_CFG_NAME_LEN];
};
_Static_assert(sizeof(struct fw_cfg_file) == 64, "FWCfgFile");

struct fw_cfg {
    struct dm *dm;
    struct iomap_region ports;          /* 0x510-0x511 */
    struct iomap_region dma;            /* 0x514-0x51b */
    struct fw_cfg_item items[FW_CFG_SLOTS];
    struct fw_cfg_file files[FW_CFG_FILE_SLOTS];
    unsigned int nr_files;
    /* Guest-visible state. */
    uint16_t key;                       /* selector as written */
    uint32_t offset;                    /* next byte of the item */
    uint64_t dma_addr;                  /* high half latched at 0x514 */
    struct dm_dev dev;
};

struct fw_cfg_rec {
    uint64_t dma_addr;
    uint32_t offset;
    uint16_t key;
    uint8_t reserved[2];
};
_Static_assert(sizeof(struct fw_cfg_rec) == 16, "fw_cfg_rec layout");

/* ---- items ------------------------------------------------------------- */

/* Slot of a key: the write-channel bit is ignored, arch keys follow. */
static int
fw_cfg_slot(uint16_t key)
{
    unsigned int idx = key & ~(FW_CFG_WRITE_CHANNEL | FW_CFG_ARCH_LOCAL);

    if (key & FW_CFG_ARCH_LOCAL) {
        return idx < FW_CFG_ARCH_SLOTS ? (int)(FW_CFG_STD_SLOTS + idx) : -1;
    }
    return idx < FW_CFG_STD_SLOTS ? (int)idx : -1;
}

static const struct fw_cfg_item *
fw_cfg_cur(const struct fw_cfg *s)
{
    int slot = fw_cfg_slot(s->key);

    return slot >= 0 && s->items[slot].data ? &s->items[slot] : NULL;
}

void
fw_cfg_add_bytes(struct fw_cfg *s, uint16_t key, void *data, uint32_t len)
{
    int slot = fw_cfg_slot(key);

    g_assert(slot >= 0);
    g_free(s->items[slot].data);
    s->items[slot].data = data;
    s->items[slot].len = len;
}

void
fw_cfg_add_i16(struct fw_cfg *s, uint16_t key, uint16_t v)
{
    uint16_t le = htole16(v);

    fw_cfg_add_bytes(s, key, g_memdup2(&le, sizeof(le)), sizeof(le));
}

void
fw_cfg_add_i32(struct fw_cfg *s, uint16_t key, uint32_t v)
{
    uint32_t le = htole32(v);

    fw_cfg_add_bytes(s, key, g_memdup2(&le, sizeof(le)), sizeof(le));
}

void
fw_cfg_add_i64(struct fw_cfg *s, uint16_t key, uint64_t v)
{
    uint64_t le = htole64(v);

    fw_cfg_add_bytes(s, key, g_memdup2(&le, sizeof(le)), sizeof(le));
}

/* FW_CFG_FILE_DIR: a big-endian count, then the entries. */
static void
fw_cfg_build_dir(struct fw_cfg *s)
{
    size_t len = 4 + s->nr_files * sizeof(struct fw_cfg_file);
    uint8_t *dir = g_malloc0(len);
    uint32_t count = htobe32(s->nr_files);

    memcpy(dir, &count, 4);
    memcpy(dir + 4, s->files, s->nr_files * sizeof(struct fw_cfg_file));
    fw_cfg_add_bytes(s, FW_CFG_FILE_DIR, dir, (uint32_t)len);
}

int
fw_cfg_add_file(struct fw_cfg *s, const char *name, void *data, uint32_t len)
{
    struct fw_cfg_file *f;
    uint16_t key;

    if (s->nr_files == FW_CFG_FILE_SLOTS) {
        g_free(data);
        return -ENOSPC;
    }
    key = (uint16_t)(FW_CFG_FILE_FIRST + s->nr_files);
    f = &s->files[s->nr_files++];
    f->size = htobe32(len);
    f->select = htobe16(key);
    g_strlcpy(f->name, name, sizeof(f->name));
    fw_cfg_add_bytes(s, key, data, len);
    fw_cfg_build_dir(s);
    return 0;
}

/* ---- the traditional interface: selector and data byte ------------------ */

static void
fw_cfg_select(struct fw_cfg *s, uint16_t key)
{
    s->key = key;
    s->offset = 0;
}

/* Past the end, or with no item, the data port reads 0 (FWCFG). */
static uint8_t
fw_cfg_data_byte(struct fw_cfg *s)
{
    const struct fw_cfg_item *it = fw_cfg_cur(s);

    if (!it || s->offset >= it->len) {
        return 0;
    }
    return it->data[s->offset++];
}

static uint64_t
fw_cfg_port_read(void *opaque, uint64_t off, unsigned int size)
{
    struct fw_cfg *s = opaque;

    if (off == 1 && size == 1) {
        return fw_cfg_data_byte(s);
    }
    return 0;
}

static void
fw_cfg_port_read_rep(void *opaque, uint64_t off, unsigned int size,
                     void *buf, uint32_t count)
{
    struct fw_cfg *s = opaque;
    uint8_t *p = buf;
    uint32_t i;

    for (i = 0; i < count; i++) {
        if (off == 1 && size == 1) {
            p[i] = fw_cfg_data_byte(s);
        } else {
            memset(p + (size_t)i * size, 0, size);
        }
    }
}

/* The selector is a 16-bit register; data writes are ignored (FWCFG). */
static void
fw_cfg_port_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct fw_cfg *s = opaque;

    if (off == 0 && size == 2) {
        fw_cfg_select(s, (uint16_t)val);
        return;
    }
    GUEST_ERR("fw_cfg: %u-byte write 0x%" PRIx64 " to port 0x%x ignored",
              size, val, (unsigned int)(FW_CFG_PORT_SEL + off));
}

/* ---- the DMA interface -------------------------------------------------- */

/* Zeros for reads past an item's end, chunk by chunk. */
static int
fw_cfg_dma_zero(struct fw_cfg *s, uint64_t gpa, uint32_t len)
{
    static const uint8_t zero[4096];
    uint32_t n;

    while (len) {
        n = MIN(len, (uint32_t)sizeof(zero));
        if (gm_write(s->dm->gm, gpa, zero, n) < 0) {
            return -EFAULT;
        }
        gpa += n;
        len -= n;
    }
    return 0;
}

/* READ copies the item from the offset on, then zeros; SKIP moves on. */
static int
fw_cfg_dma_read(struct fw_cfg *s, uint64_t gpa, uint32_t len, bool skip)
{
    const struct fw_cfg_item *it = fw_cfg_cur(s);
    uint32_t avail = it && s->offset < it->len ? it->len - s->offset : 0;
    uint32_t n = MIN(len, avail);

    if (!skip && n && gm_write(s->dm->gm, gpa, it->data + s->offset, n) < 0) {
        return -EFAULT;
    }
    s->offset += n;
    if (skip || n == len) {
        return 0;
    }
    if (gpa + n < gpa) {
        return -EFAULT;
    }
    return fw_cfg_dma_zero(s, gpa + n, len - n);
}

static int
fw_cfg_dma_run(struct fw_cfg *s, const struct fw_cfg_dma_access *d)
{
    uint32_t control = be32toh(d->control);
    uint32_t len = be32toh(d->length);
    uint64_t gpa = be64toh(d->address);

    if (control & FW_CFG_DMA_CTL_SELECT) {
        fw_cfg_select(s, (uint16_t)(control >> 16));
    }
    if (control & FW_CFG_DMA_CTL_READ) {
        return fw_cfg_dma_read(s, gpa, len, false);
    }
    if (control & FW_CFG_DMA_CTL_WRITE) {
        GUEST_ERR("fw_cfg: DMA write to read-only item 0x%x", s->key);
        return -EPERM;
    }
    if (control & FW_CFG_DMA_CTL_SKIP) {
        return fw_cfg_dma_read(s, gpa, len, true);
    }
    return 0;
}

/*
 * One transfer: the descriptor is copied once, then the result (0 or the
 * error bit) is written back to its control word. The address latch
 * clears, so the next transfer starts from a zero high half (FWCFG).
 */
static void
fw_cfg_dma_transfer(struct fw_cfg *s)
{
    struct fw_cfg_dma_access d;
    uint64_t addr = s->dma_addr;
    uint32_t result = 0;

    s->dma_addr = 0;
    if (gm_read(s->dm->gm, addr, &d, sizeof(d)) < 0) {
        GUEST_ERR("fw_cfg: DMA descriptor at 0x%" PRIx64 " unreadable",
                  addr);
        result = htobe32(FW_CFG_DMA_CTL_ERROR);
    } else if (fw_cfg_dma_run(s, &d) < 0) {
        result = htobe32(FW_CFG_DMA_CTL_ERROR);
    }
    if (gm_write(s->dm->gm, addr, &result, sizeof(result)) < 0) {
        GUEST_ERR("fw_cfg: DMA control at 0x%" PRIx64 " unwritable", addr);
    }
}

/* The signature "QEMU CFG" in memory order at 0x514-0x51b. */
static uint64_t
fw_cfg_dma_port_read(void *opaque, uint64_t off, unsigned int size)
{
    static const char sig[] = FW_CFG_DMA_SIGNATURE;
    uint64_t v = 0;
    unsigned int i;

    for (i = 0; i < size && off + i < 8; i++) {
        v |= (uint64_t)(uint8_t)sig[off + i] << (8 * i);
    }
    return v;
}

/* 32-bit big-endian halves: 0x514 latches high, 0x518 starts (FWCFG). */
static void
fw_cfg_dma_port_write(void *opaque, uint64_t off, uint64_t val,
                      unsigned int size)
{
    struct fw_cfg *s = opaque;
    uint32_t half = be32toh((uint32_t)val);

    if (size != 4 || (off != 0 && off != 4)) {
        GUEST_ERR("fw_cfg: %u-byte DMA address write at +%u ignored", size,
                  (unsigned int)off);
        return;
    }
    if (off == 0) {
        s->dma_addr = (uint64_t)half << 32;
        return;
    }
    s->dma_addr |= half;
    fw_cfg_dma_transfer(s);
}

/* ---- lifecycle -------------------------------------------------------- */

static void
fw_cfg_reset(void *opaque)
{
    struct fw_cfg *s = opaque;

    fw_cfg_select(s, FW_CFG_SIGNATURE);
    s->dma_addr = 0;
}

static void
fw_cfg_save(void *opaque, void *rec)
{
    const struct fw_cfg *s = opaque;
    struct fw_cfg_rec *r = rec;

    memset(r, 0, sizeof(*r));
    r->dma_addr = s->dma_addr;
    r->offset = s->offset;
    r->key = s->key;
}

/* Any key and offset are harmless (reads past the end give 0). */
static int
fw_cfg_check(const void *rec)
{
    const struct fw_cfg_rec *r = rec;

    if (r->reserved[0] || r->reserved[1] || (r->dma_addr & 0xffffffffu)) {
        return -EINVAL;
    }
    return 0;
}

static void
fw_cfg_load(void *opaque, const void *rec)
{
    struct fw_cfg *s = opaque;
    const struct fw_cfg_rec *r = rec;

    s->key = r->key;
    s->offset = r->offset;
    s->dma_addr = r->dma_addr;
}

static void
fw_cfg_destroy(void *opaque)
{
    struct fw_cfg *s = opaque;
    unsigned int i;

    iomap_region_destroy(&s->ports);
    iomap_region_destroy(&s->dma);
    for (i = 0; i < FW_CFG_SLOTS; i++) {
        g_free(s->items[i].data);
    }
    g_free(s);
}

/* ---- tables and board ------------------------------------------------ */

static const struct iomap_ops fw_cfg_port_ops = {
    .read = fw_cfg_port_read,
    .write = fw_cfg_port_write,
    .read_rep = fw_cfg_port_read_rep,
    .min_size = 1,
    .max_size = 2,
};

static const struct iomap_ops fw_cfg_dma_ops = {
    .read = fw_cfg_dma_port_read,
    .write = fw_cfg_dma_port_write,
    .min_size = 1,
    .max_size = 4,
};

static const struct dm_dev_ops fw_cfg_dev_ops = {
    .name = "fw_cfg",
    .state_version = 1,
    .state_size = sizeof(struct fw_cfg_rec),
    .reset = fw_cfg_reset,
    .save = fw_cfg_save,
    .check = fw_cfg_check,
    .load = fw_cfg_load,
    .destroy = fw_cfg_destroy,
};

/* The items SeaBIOS's qemu_cfg_init and qemu_cfg_legacy read. */
static void
fw_cfg_std_items(struct fw_cfg *s, const struct dm_config *cfg)
{
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, g_memdup2("QEMU", 4), 4);
    fw_cfg_add_i32(s, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    fw_cfg_add_bytes(s, FW_CFG_UUID, g_malloc0(16), 16);
    fw_cfg_add_i64(s, FW_CFG_RAM_SIZE, cfg->ram_size);
    /*
     * Always 0, as qemu-xen (its fw_cfg on Xen carries no such item): with
     * 1, SeaBIOS (qemu_cfg_init) turns on its serial console, which
     * mirrors the screen to COM1 and takes COM1's input as keystrokes
     * while the guest boots; libxl passes -nographic for every guest
     * without VNC or SDL.
     */
    fw_cfg_add_i16(s, FW_CFG_NOGRAPHIC, 0);
    fw_cfg_add_i16(s, FW_CFG_NB_CPUS, (uint16_t)cfg->vcpus);
    fw_cfg_add_i16(s, FW_CFG_MAX_CPUS, (uint16_t)MAX(cfg->maxcpus,
                                                     cfg->vcpus));
    fw_cfg_add_i16(s, FW_CFG_BOOT_MENU, 0);
    fw_cfg_add_i64(s, FW_CFG_NUMA, 0);
}

static uint64_t
fw_cfg_lowmem(const struct dm_config *cfg)
{
    uint64_t top = cfg->max_ram_below_4g ? cfg->max_ram_below_4g
                                         : FW_CFG_LOWMEM_MAX;

    return MIN(cfg->ram_size, top);
}

static int
fw_cfg_register(struct dm *dm, struct fw_cfg *s)
{
    int rc;

    iomap_region_init(&s->ports, "fw_cfg", 2, &fw_cfg_port_ops, s);
    iomap_region_init(&s->dma, "fw_cfg-dma", 8, &fw_cfg_dma_ops, s);
    rc = iomap_add(dm->pio, &s->ports, FW_CFG_PORT_SEL);
    if (rc == 0) {
        rc = iomap_add(dm->pio, &s->dma, FW_CFG_PORT_DMA);
    }
    if (rc < 0) {
        DM_ERR("fw_cfg: ports 0x510-0x51b are taken");
    }
    return rc;
}

int
fw_cfg_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct fw_cfg *s = g_new0(struct fw_cfg, 1);
    char err[512];
    int rc;

    s->dm = dm;
    fw_cfg_std_items(s, cfg);
    if (cfg->kernel &&
        linuxboot_setup(s, cfg, fw_cfg_lowmem(cfg), err, sizeof(err)) < 0) {
        DM_ERR("%s", err);
        fw_cfg_destroy(s);
        return -EINVAL;
    }
    fw_cfg_build_dir(s);
    rc = fw_cfg_register(dm, s);
    if (rc < 0) {
        fw_cfg_destroy(s);
        return rc;
    }
    fw_cfg_reset(s);
    dm_dev_register(dm, &s->dev, &fw_cfg_dev_ops, s, 0);
    dm->board->fw_cfg = s;
    return 0;
}
