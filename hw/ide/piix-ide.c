/*
 * 00:01.1, the Intel 82371SB PIIX3 IDE function (8086:7010) in
 * compatibility mode: the primary channel at 1F0h-1F7h/3F6h on IRQ14, the
 * secondary at 170h-177h/376h on IRQ15, and the bus-master registers in
 * BAR4 (BMIBA, 16 bytes of I/O). The legacy ports decode while PCICMD.IOSE
 * and the channel's IDETIM.IDE decode enable are set; hvmloader writes
 * 8000h to IDETIM at 40h and 42h. Drives come from -drive ...,if=ide,
 * index=N (channel N / 2, unit N % 2). References: PIIX3 datasheet
 * (290550-002) 2.3 (PCI configuration registers) and 2.6 (IDE).
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "block/block.h"  /* blk_open, blk_set_write_cache */
#include "dm/config.h"   /* struct dm_config, DM_IF_IDE */
#include "dm/dev.h"      /* dm_dev_register */
#include "dm/irq.h"      /* dm_isa_irq_set */
#include "dm/log.h"      /* DM_WARN */
#include "dm/machine.h"  /* struct dm */
#include "dm/qmp.h"      /* struct qmp_medium */
#include "hw/board.h"    /* dm->board->pci */
#include "hw/ide/ide.h"
#include "hw/ide/internal.h"

#define PIIX_IDE_DEVICE_ID 0x7010
#define PIIX_IDE_DEVFN     PCI_DEVFN(1, 1)

/* Function 1 configuration registers (PIIX3 2.3). */
#define PIIX_IDETIM_PRI    0x40    /* IDE timing, primary */
#define PIIX_IDETIM_SEC    0x42    /* IDE timing, secondary */
#define PIIX_SIDETIM       0x44    /* slave IDE timing */
#define PIIX_IDETIM_IDE    0x8000  /* IDE decode enable */
#define PIIX_IDETIM_WMASK  0xf3ff  /* 11:10 reserved */
#define PIIX_BMIBA_BAR     4

static const struct {
    uint16_t cmd, ctl;
    unsigned int irq;
    uint8_t idetim;
} piix_ide_legacy[IDE_CHANNELS] = {
    { 0x1f0, 0x3f6, 14, PIIX_IDETIM_PRI },
    { 0x170, 0x376, 15, PIIX_IDETIM_SEC },
};

/*
 * Saved state (rule 13): one record for the function, little-endian, fixed
 * width. check() treats it as untrusted input and enforces, per drive:
 *  - ranges: kind <= CD; phase < IDE_PHASE_NR and never BUSY (nothing is in
 *    flight in a record); end < IDE_END_NR; dma <= BUF; sense_key <= 0fh;
 *    reserved bytes zero;
 *  - PIO window inside the 64 KiB buffer: pos <= drq_end <= buf_len <=
 *    IDE_BUF_SIZE, drq_size <= IDE_BUF_SIZE, chunk <= IDE_BUF_SIZE / 512;
 *  - DMA: a buffer DMA (ATAPI reply) copies dma_len <= IDE_BUF_SIZE bytes
 *    of buf; a block DMA moves at most BM_PRD_MAX * 64 KiB + one CD sector;
 *    dma != NONE exactly when phase == DMA_WAIT;
 *  - phase against device type: an absent drive is idle with no DMA; a
 *    disk's PIO continues only an ATA command and a CD's only a packet
 *    command; buffer DMA is a CD's, DMA WRITE a disk's;
 *  - geometry and counts: mult a power of two <= 16, 1 <= drq_sectors <=
 *    16, 1 <= cur_heads <= 16, 1 <= cur_secs <= 255, left <= 65536, lba <
 *    2^48, dma_off < 2^60.
 * load() then checks the record against the live drive: a record of a
 * different device type resets the drive, and one that needs a medium
 * (block DMA, or PIO that continues with a block request) on a drive
 * without one resets it too. The fuzz target fuzz/state-ide.c holds the
 * property: any record check() accepts, loaded, then driven by any guest
 * I/O, is memory safe and terminates, and what the device then saves
 * passes check() again.
 */
struct ide_drive_rec {
    uint8_t kind, phase, end, dma;
    uint8_t feature, hob_feature, nsector, hob_nsector;
    uint8_t sector, hob_sector, lcyl, hob_lcyl;
    uint8_t hcyl, hob_hcyl, select, status;
    uint8_t error, cmd, intrq, mult;
    uint8_t xfer_mode, wcache, standby, sense_key;
    uint8_t asc, ascq, ua, tray_open;
    uint8_t locked, media_event, reserved[2];
    uint8_t cdb[12];
    uint16_t cur_heads, cur_secs;
    uint32_t pos, drq_end, buf_len, drq_size;
    uint32_t left, chunk, drq_sectors, dma_len;
    uint32_t bcl, atapi_left;
    uint64_t lba, dma_off;
    uint8_t buf[IDE_BUF_SIZE];
};

struct ide_channel_rec {
    uint8_t devctl, cur, bm_cmd, bm_status;
    uint32_t bm_prdt;
};

struct piix_ide_rec {
    struct pci_dev_state pci;
    struct ide_channel_rec ch[IDE_CHANNELS];
    struct ide_drive_rec drv[IDE_CHANNELS * IDE_UNITS];
};
_Static_assert(sizeof(struct ide_drive_rec) == 104 + IDE_BUF_SIZE,
               "ide_drive_rec layout");
_Static_assert(sizeof(struct ide_channel_rec) == 8, "ide_channel_rec layout");

static const struct pci_reg piix_ide_regs[] = {
    { PCI_COMMAND, 2, 0, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 0 },
    { PCI_LATENCY_TIMER, 1, 0, 0xf0, 0 },
    { PIIX_IDETIM_PRI, 2, 0, PIIX_IDETIM_WMASK, 0 },
    { PIIX_IDETIM_SEC, 2, 0, PIIX_IDETIM_WMASK, 0 },
    { PIIX_SIDETIM, 1, 0, 0xff, 0 },
};

static struct piix_ide *
piix_ide_of(struct pci_dev *d)
{
    return (struct piix_ide *)((char *)d - offsetof(struct piix_ide, pci));
}

struct ide_drive *
ide_cur(struct ide_channel *ch)
{
    return &ch->drv[ch->cur & 1];
}

/* INTRQ of the selected device unless nIEN (ATA6 5.2.9, 7.8). */
static bool
ide_irq_wanted(struct ide_channel *ch)
{
    const struct ide_drive *d = ide_cur(ch);

    return d->intrq && d->kind != IDE_NONE && !(ch->devctl & ATA_DC_NIEN);
}

void
ide_update_irq(struct ide_channel *ch)
{
    bool level = ide_irq_wanted(ch);

    if (level != ch->irq_level) {
        ch->irq_level = level;
        dm_isa_irq_set(ch->ctl->dm, ch->irq, level);
    }
}

/* Drive the line from scratch (reset, load); dm/irq.c filters repeats. */
static void
ide_sync_irq(struct ide_channel *ch)
{
    ch->irq_level = ide_irq_wanted(ch);
    dm_isa_irq_set(ch->ctl->dm, ch->irq, ch->irq_level);
}

/* ---- legacy ports -------------------------------------------------------- */

static uint64_t
ide_cmd_port_read(void *opaque, uint64_t off, unsigned int size)
{
    struct ide_channel *ch = opaque;
    uint64_t val = 0;
    uint8_t buf[4];
    unsigned int i;

    if (off == ATA_REG_DATA) {
        ide_data_read(ch, buf, size);
        for (i = 0; i < size; i++) {
            val |= (uint64_t)buf[i] << (8 * i);
        }
        return val;
    }
    for (i = 0; i < size; i++) {
        val |= ide_cmd_read(ch, (unsigned int)off + i) << (8 * i);
    }
    return val;
}

static void
ide_cmd_port_write(void *opaque, uint64_t off, uint64_t val,
                   unsigned int size)
{
    struct ide_channel *ch = opaque;
    uint8_t buf[4];
    unsigned int i;

    for (i = 0; i < size; i++) {
        buf[i] = (uint8_t)(val >> (8 * i));
    }
    if (off == ATA_REG_DATA) {
        ide_data_write(ch, buf, size);
        return;
    }
    for (i = 0; i < size; i++) {
        ide_cmd_write(ch, (unsigned int)off + i, buf[i]);
    }
}

/* rep INS/OUTS on the data port: one call moves the whole string. */
static void
ide_cmd_port_read_rep(void *opaque, uint64_t off, unsigned int size,
                      void *buf, uint32_t count)
{
    uint8_t *p = buf;
    uint32_t i;

    if (off == ATA_REG_DATA) {
        ide_data_read(opaque, buf, (size_t)size * count);
        return;
    }
    for (i = 0; i < count; i++) {
        uint64_t v = ide_cmd_port_read(opaque, off, size);

        memcpy(p + (size_t)i * size, &v, size);
    }
}

static void
ide_cmd_port_write_rep(void *opaque, uint64_t off, unsigned int size,
                       const void *buf, uint32_t count)
{
    const uint8_t *p = buf;
    uint32_t i;

    if (off == ATA_REG_DATA) {
        ide_data_write(opaque, buf, (size_t)size * count);
        return;
    }
    for (i = 0; i < count; i++) {
        uint64_t v = 0;

        memcpy(&v, p + (size_t)i * size, size);
        ide_cmd_port_write(opaque, off, v, size);
    }
}

/* 3F6h/376h: Alternate Status (no INTRQ side effect) / Device Control. */
static uint64_t
ide_ctl_port_read(void *opaque, uint64_t off, unsigned int size)
{
    return ide_altstatus(opaque);
}

static void
ide_ctl_port_write(void *opaque, uint64_t off, uint64_t val,
                   unsigned int size)
{
    ide_devctl_write(opaque, (uint8_t)val);
}

static uint64_t
ide_bm_port_read(void *opaque, uint64_t off, unsigned int size)
{
    struct piix_ide *s = opaque;

    return bmdma_read(&s->ch[(off >> 3) & 1], (unsigned int)off & 7, size);
}

static void
ide_bm_port_write(void *opaque, uint64_t off, uint64_t val,
                  unsigned int size)
{
    struct piix_ide *s = opaque;

    bmdma_write(&s->ch[(off >> 3) & 1], (unsigned int)off & 7,
                (uint32_t)val, size);
}

/* ---- decoding ---------------------------------------------------------- */

static void
piix_ide_decode(struct piix_ide *s, struct ide_channel *ch)
{
    bool want = (pci_get_word(&s->pci, PCI_COMMAND) & PCI_COMMAND_IO) &&
                (pci_get_word(&s->pci, piix_ide_legacy[ch->idx].idetim) &
                 PIIX_IDETIM_IDE) && s->pci.present;

    if (want == ch->decoding) {
        return;
    }
    if (!want) {
        iomap_del(&ch->cmd_region);
        iomap_del(&ch->ctl_region);
        ch->decoding = false;
        return;
    }
    if (iomap_add(s->dm->pio, &ch->cmd_region, ch->cmd_base) < 0) {
        DM_WARN("piix-ide: ports 0x%x-0x%x are taken", ch->cmd_base,
                ch->cmd_base + 7);
        return;
    }
    if (iomap_add(s->dm->pio, &ch->ctl_region, ch->ctl_base) < 0) {
        DM_WARN("piix-ide: port 0x%x is taken", ch->ctl_base);
        iomap_del(&ch->cmd_region);
        return;
    }
    ch->decoding = true;
}

static void
piix_ide_decode_all(struct piix_ide *s)
{
    unsigned int c;

    for (c = 0; c < IDE_CHANNELS; c++) {
        piix_ide_decode(s, &s->ch[c]);
    }
}

static void
piix_ide_cfg_write(struct pci_dev *d, unsigned int reg, unsigned int size)
{
    if (pci_range_hit(reg, size, PCI_COMMAND, 2) ||
        pci_range_hit(reg, size, PIIX_IDETIM_PRI, 4)) {
        piix_ide_decode_all(piix_ide_of(d));
    }
}

/* ---- lifecycle ----------------------------------------------------------- */

static void
piix_ide_drain(struct piix_ide *s)
{
    unsigned int c, u;

    for (c = 0; c < IDE_CHANNELS; c++) {
        for (u = 0; u < IDE_UNITS; u++) {
            ide_drive_drain(&s->ch[c].drv[u]);
        }
    }
}

static void
piix_ide_reset(void *opaque)
{
    struct piix_ide *s = opaque;
    unsigned int c, u;

    pci_dev_reset(&s->pci);
    for (c = 0; c < IDE_CHANNELS; c++) {
        struct ide_channel *ch = &s->ch[c];

        for (u = 0; u < IDE_UNITS; u++) {
            ide_drive_reset(&ch->drv[u], true);
        }
        ch->devctl = 0;
        ch->cur = 0;
        bmdma_reset(ch);
        ide_sync_irq(ch);
    }
    piix_ide_decode_all(s);
}

static void
drive_save(const struct ide_drive *d, struct ide_drive_rec *r)
{
    r->kind = (uint8_t)d->kind;
    r->phase = (uint8_t)d->phase;
    r->end = (uint8_t)d->end;
    r->dma = (uint8_t)d->dma;
    r->feature = d->feature;
    r->hob_feature = d->hob_feature;
    r->nsector = d->nsector;
    r->hob_nsector = d->hob_nsector;
    r->sector = d->sector;
    r->hob_sector = d->hob_sector;
    r->lcyl = d->lcyl;
    r->hob_lcyl = d->hob_lcyl;
    r->hcyl = d->hcyl;
    r->hob_hcyl = d->hob_hcyl;
    r->select = d->select;
    r->status = d->status;
    r->error = d->error;
    r->cmd = d->cmd;
    r->intrq = d->intrq;
    r->mult = d->mult;
    r->xfer_mode = d->xfer_mode;
    r->wcache = d->wcache;
    r->standby = d->standby;
    r->sense_key = d->sense_key;
    r->asc = d->asc;
    r->ascq = d->ascq;
    r->ua = d->ua;
    r->tray_open = d->tray_open;
    r->locked = d->locked;
    r->media_event = d->media_event;
    memcpy(r->cdb, d->cdb, sizeof(r->cdb));
    r->cur_heads = d->cur_heads;
    r->cur_secs = d->cur_secs;
    r->pos = d->pos;
    r->drq_end = d->drq_end;
    r->buf_len = d->buf_len;
    r->drq_size = d->drq_size;
    r->left = d->left;
    r->chunk = d->chunk;
    r->drq_sectors = d->drq_sectors;
    r->dma_len = d->dma_len;
    r->bcl = d->bcl;
    r->atapi_left = d->atapi_left;
    r->lba = d->lba;
    r->dma_off = d->dma_off;
    memcpy(r->buf, d->buf, IDE_BUF_SIZE);
}

static void
piix_ide_save(void *opaque, void *rec)
{
    struct piix_ide *s = opaque;
    struct piix_ide_rec *r = rec;
    unsigned int c, u;

    /* Nothing may be in flight in a record (issue 4). */
    piix_ide_drain(s);
    memset(r, 0, sizeof(*r));
    pci_dev_save(&s->pci, &r->pci);
    for (c = 0; c < IDE_CHANNELS; c++) {
        const struct ide_channel *ch = &s->ch[c];

        r->ch[c].devctl = ch->devctl;
        r->ch[c].cur = (uint8_t)ch->cur;
        r->ch[c].bm_cmd = ch->bm.cmd;
        r->ch[c].bm_status = ch->bm.status;
        r->ch[c].bm_prdt = ch->bm.prdt;
        for (u = 0; u < IDE_UNITS; u++) {
            drive_save(&ch->drv[u], &r->drv[c * IDE_UNITS + u]);
        }
    }
}

/* The continuation a drive of this type may be in the middle of. */
static bool
drive_rec_end_ok(const struct ide_drive_rec *r)
{
    if (r->phase != IDE_PIO_IN && r->phase != IDE_PIO_OUT) {
        return true;
    }
    if (r->kind == IDE_DISK) {
        return r->end == IDE_END_DONE || r->end == IDE_END_ATA_READ ||
               r->end == IDE_END_ATA_WRITE;
    }
    return r->kind == IDE_CD &&
           (r->end == IDE_END_DONE || r->end == IDE_END_PACKET ||
            r->end == IDE_END_ATAPI_IN);
}

/* Phase and DMA against the device type (the record format's comment). */
static bool
drive_rec_phase_ok(const struct ide_drive_rec *r)
{
    if ((r->dma != IDE_DMA_NONE) != (r->phase == IDE_DMA_WAIT)) {
        return false;
    }
    if (r->kind == IDE_NONE && r->phase != IDE_IDLE) {
        return false;
    }
    if (r->dma == IDE_DMA_BUF &&
        (r->kind != IDE_CD || r->dma_len > IDE_BUF_SIZE)) {
        return false;
    }
    if (r->dma == IDE_DMA_WRITE && r->kind != IDE_DISK) {
        return false;
    }
    return drive_rec_end_ok(r);
}

static bool
drive_rec_ok(const struct ide_drive_rec *r)
{
    if (r->kind > IDE_CD || r->phase >= IDE_PHASE_NR ||
        r->phase == IDE_BUSY || r->end >= IDE_END_NR ||
        r->dma > IDE_DMA_BUF || r->sense_key > 0x0f) {
        return false;
    }
    if (r->buf_len > IDE_BUF_SIZE || r->drq_end > r->buf_len ||
        r->pos > r->drq_end || r->drq_size > IDE_BUF_SIZE) {
        return false;
    }
    if (r->mult > IDE_MAX_MULT || (r->mult & (r->mult - 1)) ||
        r->drq_sectors < 1 || r->drq_sectors > IDE_MAX_MULT ||
        r->chunk > IDE_BUF_SIZE / IDE_SECTOR || r->left > 65536) {
        return false;
    }
    if (r->cur_heads < 1 || r->cur_heads > 16 || r->cur_secs < 1 ||
        r->cur_secs > 255 || r->dma_len > BM_PRD_MAX * 65536u + CD_SECTOR ||
        r->lba >> 48 || r->dma_off >> 60) {
        return false;
    }
    if (!drive_rec_phase_ok(r)) {
        return false;
    }
    return r->reserved[0] == 0 && r->reserved[1] == 0;
}

static int
piix_ide_check(const void *rec)
{
    const struct piix_ide_rec *r = rec;
    unsigned int c, i;

    for (c = 0; c < IDE_CHANNELS; c++) {
        const struct ide_channel_rec *ch = &r->ch[c];

        if (ch->cur > 1 || (ch->devctl & ~(ATA_DC_HOB | ATA_DC_SRST |
                                             ATA_DC_NIEN)) ||
            (ch->bm_cmd & ~(BM_CMD_START | BM_CMD_WRITE)) ||
            (ch->bm_status & 0x98) || (ch->bm_prdt & 3)) {
            return -EINVAL;
        }
    }
    for (i = 0; i < IDE_CHANNELS * IDE_UNITS; i++) {
        if (!drive_rec_ok(&r->drv[i])) {
            return -EINVAL;
        }
    }
    return pci_dev_state_check_fixed(&r->pci, PCI_VENDOR_ID_INTEL,
                                     PIIX_IDE_DEVICE_ID);
}

static void
drive_load_regs(struct ide_drive *d, const struct ide_drive_rec *r)
{
    d->feature = r->feature;
    d->hob_feature = r->hob_feature;
    d->nsector = r->nsector;
    d->hob_nsector = r->hob_nsector;
    d->sector = r->sector;
    d->hob_sector = r->hob_sector;
    d->lcyl = r->lcyl;
    d->hob_lcyl = r->hob_lcyl;
    d->hcyl = r->hcyl;
    d->hob_hcyl = r->hob_hcyl;
    d->select = r->select;
    d->status = r->status;
    d->error = r->error;
    d->cmd = r->cmd;
    d->intrq = r->intrq;
    d->mult = r->mult;
    d->xfer_mode = r->xfer_mode;
    d->wcache = r->wcache;
    d->standby = r->standby;
    d->cur_heads = r->cur_heads;
    d->cur_secs = r->cur_secs;
}

/* Whether the saved command continues with a block request. */
static bool
drive_rec_needs_medium(const struct ide_drive_rec *r)
{
    if (r->dma == IDE_DMA_READ || r->dma == IDE_DMA_WRITE) {
        return true;
    }
    return (r->phase == IDE_PIO_IN || r->phase == IDE_PIO_OUT) &&
           (r->end == IDE_END_ATA_READ || r->end == IDE_END_ATA_WRITE ||
            r->end == IDE_END_ATAPI_IN);
}

static void
drive_load(struct ide_drive *d, const struct ide_drive_rec *r)
{
    if (r->kind == IDE_NONE && d->kind == IDE_DISK) {
        ide_drive_unplug(d);            /* unplugged before the save */
        return;
    }
    if (r->kind != d->kind) {
        DM_WARN("ide%u: saved device type differs; device reset", d->index);
        ide_drive_reset(d, true);
        return;
    }
    if (drive_rec_needs_medium(r) && !d->blk) {
        DM_WARN("ide%u: saved transfer needs a medium the drive does not "
                "have; device reset", d->index);
        ide_drive_reset(d, true);
        return;
    }
    drive_load_regs(d, r);
    d->phase = r->phase;
    d->end = r->end;
    d->dma = r->dma;
    d->sense_key = r->sense_key;
    d->asc = r->asc;
    d->ascq = r->ascq;
    d->ua = r->ua;
    d->tray_open = r->tray_open;
    d->locked = r->locked;
    d->media_event = r->media_event;
    memcpy(d->cdb, r->cdb, sizeof(d->cdb));
    d->pos = r->pos;
    d->drq_end = r->drq_end;
    d->buf_len = r->buf_len;
    d->drq_size = r->drq_size;
    d->left = r->left;
    d->chunk = r->chunk;
    d->drq_sectors = r->drq_sectors;
    d->dma_len = r->dma_len;
    d->bcl = r->bcl;
    d->atapi_left = r->atapi_left;
    d->lba = r->lba;
    d->dma_off = r->dma_off;
    memcpy(d->buf, r->buf, IDE_BUF_SIZE);
    if (d->kind == IDE_DISK && d->blk) {
        blk_set_write_cache(d->blk, d->wcache);
    }
}

static void
piix_ide_load(void *opaque, const void *rec)
{
    struct piix_ide *s = opaque;
    const struct piix_ide_rec *r = rec;
    unsigned int c, u;

    piix_ide_drain(s);
    pci_dev_load(&s->pci, &r->pci);
    for (c = 0; c < IDE_CHANNELS; c++) {
        struct ide_channel *ch = &s->ch[c];

        ch->devctl = r->ch[c].devctl;
        ch->cur = r->ch[c].cur;
        ch->bm.cmd = r->ch[c].bm_cmd;
        ch->bm.status = r->ch[c].bm_status;
        ch->bm.prdt = r->ch[c].bm_prdt;
        for (u = 0; u < IDE_UNITS; u++) {
            drive_load(&ch->drv[u], &r->drv[c * IDE_UNITS + u]);
        }
        ide_sync_irq(ch);
    }
    piix_ide_decode_all(s);
}

static void
piix_ide_destroy(void *opaque)
{
    struct piix_ide *s = opaque;
    unsigned int c, u;

    for (c = 0; c < IDE_CHANNELS; c++) {
        struct ide_channel *ch = &s->ch[c];

        if (ch->decoding) {
            iomap_del(&ch->cmd_region);
            iomap_del(&ch->ctl_region);
        }
        for (u = 0; u < IDE_UNITS; u++) {
            ide_drive_detach(&ch->drv[u]);
        }
    }
    pci_dev_fini(&s->pci);
    g_free(s);
}

/* ---- tables -------------------------------------------------------------- */

static const struct iomap_ops ide_cmd_ops = {
    .read = ide_cmd_port_read,
    .write = ide_cmd_port_write,
    .read_rep = ide_cmd_port_read_rep,
    .write_rep = ide_cmd_port_write_rep,
    .min_size = 1,
    .max_size = 4,
};

static const struct iomap_ops ide_ctl_ops = {
    .read = ide_ctl_port_read,
    .write = ide_ctl_port_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct iomap_ops ide_bm_ops = {
    .read = ide_bm_port_read,
    .write = ide_bm_port_write,
    .min_size = 1,
    .max_size = 4,
};

static const struct pci_dev_info piix_ide_info = {
    .name = "piix-ide",
    .vendor_id = PCI_VENDOR_ID_INTEL,
    .device_id = PIIX_IDE_DEVICE_ID,
    .subsystem_vendor_id = PCI_SUBVENDOR_ID_QEMU,
    .subsystem_id = PCI_SUBDEVICE_ID_QEMU,
    .class_code = 0x010180,     /* IDE, bus master, compatibility mode */
    .revision = 0x00,
    .header_type = 0x00,
    .interrupt_pin = 0,
    .cfg_write = piix_ide_cfg_write,
};

static const struct dm_dev_ops piix_ide_dev_ops = {
    .name = "piix-ide",
    .state_version = 1,
    .state_size = sizeof(struct piix_ide_rec),
    .reset = piix_ide_reset,
    .save = piix_ide_save,
    .check = piix_ide_check,
    .load = piix_ide_load,
    .destroy = piix_ide_destroy,
};

static void
piix_ide_channel_init(struct piix_ide *s, unsigned int c)
{
    struct ide_channel *ch = &s->ch[c];
    unsigned int u;

    ch->ctl = s;
    ch->idx = c;
    ch->irq = piix_ide_legacy[c].irq;
    ch->cmd_base = piix_ide_legacy[c].cmd;
    ch->ctl_base = piix_ide_legacy[c].ctl;
    iomap_region_init(&ch->cmd_region, c ? "ide1-cmd" : "ide0-cmd", 8,
                      &ide_cmd_ops, ch);
    iomap_region_init(&ch->ctl_region, c ? "ide1-ctl" : "ide0-ctl", 1,
                      &ide_ctl_ops, ch);
    for (u = 0; u < IDE_UNITS; u++) {
        ide_drive_init(&ch->drv[u], ch, u);
    }
}

static int
piix_ide_attach_drives(struct piix_ide *s, const struct dm_config *cfg)
{
    unsigned int i;
    int rc;

    for (i = 0; cfg && i < cfg->nr_drives; i++) {
        const struct dm_drive_cfg *dc = &cfg->drives[i];
        struct ide_drive *d;

        if (dc->iface != DM_IF_IDE || dc->index < 0 || dc->index > 3) {
            continue;
        }
        d = &s->ch[dc->index / 2].drv[dc->index % 2];
        rc = ide_drive_attach(d, s->dm, dc);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static void
piix_ide_free(struct piix_ide *s)
{
    unsigned int c, u;

    for (c = 0; c < IDE_CHANNELS; c++) {
        for (u = 0; u < IDE_UNITS; u++) {
            ide_drive_detach(&s->ch[c].drv[u]);
        }
    }
    g_free(s);
}

int
piix_ide_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct piix_ide *s = g_new0(struct piix_ide, 1);
    struct pci_bar_info bar = {
        .name = "piix-ide-bm", .type = PCI_BAR_IO, .size = 16,
        .ops = &ide_bm_ops, .opaque = s,
    };
    unsigned int c;
    int rc;

    if (!dm->board->pci) {
        g_free(s);
        return -ENODEV;
    }
    s->dm = dm;
    pci_dev_init(&s->pci, &piix_ide_info);
    pci_init_regs(&s->pci, piix_ide_regs, G_N_ELEMENTS(piix_ide_regs));
    pci_register_bar(&s->pci, PIIX_BMIBA_BAR, &bar);
    for (c = 0; c < IDE_CHANNELS; c++) {
        piix_ide_channel_init(s, c);
    }
    rc = piix_ide_attach_drives(s, cfg);
    if (rc < 0) {
        goto fail;
    }
    rc = pci_bus_add(dm->board->pci, &s->pci, PIIX_IDE_DEVFN);
    if (rc < 0) {
        goto fail;
    }
    dm_dev_register(dm, &s->dev, &piix_ide_dev_ops, s, 0);
    piix_ide_reset(s);
    return 0;

fail:
    piix_ide_free(s);
    return rc;
}

/* ---- host media change and statistics (QMP) ------------------------ */

static struct ide_drive *
piix_ide_drive(struct dm *dm, int index)
{
    struct pci_dev *p;

    p = dm->board && dm->board->pci ?
        pci_bus_find(dm->board->pci, PIIX_IDE_DEVFN) : NULL;
    if (!p || p->info != &piix_ide_info || index < 0 || index > 3) {
        return NULL;
    }
    return &piix_ide_of(p)->ch[index / 2].drv[index % 2];
}

/*
 * Upstream QEMU resets the whole function after removing a disk
 * (xen-dm-interface.md 4.3). Here only the bus-master engine of a channel
 * that lost a disk is reset: a transfer it was running stops, and the
 * configuration a driver programmed (IDETIM decode, command register)
 * stays, so the CD-ROMs remain reachable.
 */
unsigned int
ide_unplug_disks(struct dm *dm, bool aux_only)
{
    unsigned int removed = 0;
    int i;

    for (i = aux_only ? 1 : 0; i < IDE_CHANNELS * IDE_UNITS; i++) {
        struct ide_drive *d = piix_ide_drive(dm, i);

        if (d && d->kind == IDE_DISK) {
            ide_drive_unplug(d);
            d->ch->bm.cmd &= (uint8_t)~BM_CMD_START;
            d->ch->bm.status &= (uint8_t)~BM_ST_ACTIVE;
            ide_sync_irq(d->ch);
            removed |= 1u << i;
        }
    }
    return removed;
}

bool
ide_blk_stats(struct dm *dm, int index, struct blk_stats *out)
{
    const struct ide_drive *d = piix_ide_drive(dm, index);

    if (!d || !d->blk) {
        return false;
    }
    *out = *blk_stats(d->blk);
    return true;
}

bool
ide_medium(struct dm *dm, int index, struct qmp_medium *out)
{
    const struct ide_drive *d = piix_ide_drive(dm, index);

    if (!d || d->kind == IDE_NONE) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->inserted = d->blk != NULL;
    out->tray_open = d->kind == IDE_CD && d->tray_open;
    out->locked = d->kind == IDE_CD && d->locked;
    out->read_only = d->blk ? blk_read_only(d->blk) : d->kind == IDE_CD;
    out->file = d->blk ? blk_filename(d->blk) : NULL;
    out->format = d->blk ? blk_format(d->blk) : NULL;
    return true;
}

static struct ide_drive *
piix_ide_cd(struct dm *dm, int index, char *err, size_t errlen)
{
    struct ide_drive *d = piix_ide_drive(dm, index);

    if (!d) {
        snprintf(err, errlen, "no IDE position %d", index);
        return NULL;
    }
    if (d->kind != IDE_CD) {
        snprintf(err, errlen, "IDE position %d is not a CD-ROM drive",
                 index);
        return NULL;
    }
    return d;
}

int
ide_cd_eject(struct dm *dm, int index, bool force, char *err, size_t errlen)
{
    return ide_cd_change_media(dm, index, NULL, NULL, force, err, errlen);
}

int
ide_cd_change_media(struct dm *dm, int index, const char *path,
                    const char *format, bool force, char *err, size_t errlen)
{
    struct ide_drive *d = piix_ide_cd(dm, index, err, errlen);
    struct dm_drive_cfg cfg = { 0 };
    struct blk *b = NULL;

    if (!d) {
        return -ENODEV;
    }
    if (d->locked && !force) {
        snprintf(err, errlen, "the guest has locked the CD-ROM tray at IDE "
                 "position %d; use force to eject anyway", index);
        return -EBUSY;
    }
    if (path && path[0]) {
        cfg.file = (char *)path;
        cfg.format = (char *)format;
        cfg.media = DM_MEDIA_CDROM;
        cfg.iface = DM_IF_IDE;
        cfg.index = index;
        cfg.readonly = true;
        b = blk_open(dm, &cfg, err, errlen);
        if (!b) {
            return -EINVAL;
        }
    }
    atapi_set_medium(d, b);
    if (b) {
        DM_INFO("ide%d-cd%d: medium changed to %s (%s)%s", index / 2,
                index % 2, blk_filename(b), blk_format(b),
                force ? " (forced)" : "");
    } else {
        DM_INFO("ide%d-cd%d: medium ejected%s", index / 2, index % 2,
                force ? " (forced)" : "");
    }
    return 0;
}
