/*
 * ATA devices on a PIIX3 IDE channel: the task file, the status/interrupt
 * protocol, PIO data transfers and the ATA command set of a hard disk (and
 * the few ATA commands an ATAPI device takes). References: ATA/ATAPI-6
 * (T13/1410D rev 3b, "ATA6"): 7 (registers), 8 (commands), 9 (protocols).
 *
 * Every command is decoded through ide_cmd_table[]; anything without an
 * entry, or not allowed for the device type, ends in ERR + ABRT. PIO data
 * moves through a staging buffer of IDE_BUF_SIZE bytes: reads fetch a chunk
 * of sectors with one block request and hand it out DRQ block by DRQ block;
 * writes collect a chunk and store it with one request.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "block/block.h" /* blk_preadv, blk_pwritev, blk_flush */
#include "dm/config.h"   /* struct dm_drive_cfg */
#include "dm/log.h"      /* GUEST_ERR */
#include "hw/ide/internal.h"

#define ATA_CHUNK_SECTORS   (IDE_BUF_SIZE / IDE_SECTOR)
#define ATA_LBA28_MAX       0x0fffffffull
#define ATA_CHS_MAX_CYLS    16383
#define ATA_MODEL           "HVMDM HARDDISK"
#define ATA_FIRMWARE        "1.0"

/* Flags of ide_cmd_table entries. */
#define CMD_DISK    0x01        /* an ATA disk takes it */
#define CMD_CD      0x02        /* an ATAPI device takes it */
#define CMD_LBA48   0x04        /* 48-bit task file (ATA6 7.1) */
#define CMD_WRITE   0x08        /* data from the host */
#define CMD_MULT    0x10        /* DRQ blocks of SET MULTIPLE sectors */
#define CMD_DMA     0x20        /* data through the bus master */
#define CMD_BSY_OK  0x40        /* accepted while BSY (DEVICE RESET) */

/* A handler returns true when the command completed without data. */
typedef bool ide_cmd_fn(struct ide_drive *d, unsigned int flags);

struct ide_cmd {
    ide_cmd_fn *fn;
    unsigned int flags;
};

static const struct ide_cmd ide_cmd_table[0x100];

struct dm *
ide_dm(const struct ide_drive *d)
{
    return d->ch->ctl->dm;
}

/* ---- interrupts and completion ----------------------------------------- */

/* INTRQ (ATA6 5.2.9); the bus master latches it while nIEN is clear. */
void
ide_set_irq(struct ide_drive *d)
{
    d->intrq = true;
    if (!(d->ch->devctl & ATA_DC_NIEN)) {
        d->ch->bm.status |= BM_ST_INTR;
    }
    ide_update_irq(d->ch);
}

static void
ide_complete(struct ide_drive *d)
{
    d->phase = IDE_IDLE;
    d->dma = IDE_DMA_NONE;
    d->status = ATA_SR_DRDY | ATA_SR_DSC;
    ide_set_irq(d);
}

void
ide_abort(struct ide_drive *d, uint8_t error)
{
    d->phase = IDE_IDLE;
    d->dma = IDE_DMA_NONE;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_ERR;
    d->error = error;
    ide_set_irq(d);
}

/* Device signature after reset or diagnostics (ATA6 9.12). */
void
ide_set_signature(struct ide_drive *d)
{
    d->nsector = d->hob_nsector = 1;
    d->sector = d->hob_sector = 1;
    d->hob_lcyl = d->hob_hcyl = 0;
    d->select = ATA_DH_OBS | (uint8_t)(d->unit << 4);
    if (d->kind == IDE_CD) {
        d->lcyl = 0x14;
        d->hcyl = 0xeb;
    } else if (d->kind == IDE_DISK) {
        d->lcyl = d->hcyl = 0;
    } else {
        d->lcyl = d->hcyl = 0xff;
    }
}

/* ---- block requests ------------------------------------------------------ */

void
ide_drive_drain(struct ide_drive *d)
{
    unsigned int i;

    for (i = 0; i < 4 && d->inflight && d->blk; i++) {
        blk_drain(d->blk);
    }
}

static void
ata_io_error(struct ide_drive *d, bool write, long ret)
{
    static struct dm_ratelimit rl;

    dm_log_ratelimited(&rl, DM_LOG_ERROR, "ide%u: host %s error at sector "
                       "%" PRIu64 ": %s", d->index, write ? "write" : "read",
                       d->lba, g_strerror(ret < 0 ? (int)-ret : EIO));
    ide_abort(d, write ? ATA_ER_ABRT : ATA_ER_UNC);
}

static void ata_pio_read_cb(void *opaque, long ret);
static void ata_pio_write_cb(void *opaque, long ret);

/* Submit one request on the staging buffer; errors complete at once. */
static void
ata_buf_io(struct ide_drive *d, bool write, uint32_t len, blk_cb *cb)
{
    struct iovec iov = { d->buf, len };
    int rc;

    d->phase = IDE_BUSY;
    d->status = ATA_SR_BSY | ATA_SR_DRDY | ATA_SR_DSC;
    d->inflight = true;
    if (write) {
        rc = blk_pwritev(d->blk, d->lba * IDE_SECTOR, &iov, 1, cb, d);
    } else {
        rc = blk_preadv(d->blk, d->lba * IDE_SECTOR, &iov, 1, cb, d);
    }
    if (rc < 0) {
        cb(d, rc);
    }
}

/* ---- PIO data ------------------------------------------------------------ */

void
ide_pio_start(struct ide_drive *d, enum ide_phase phase, enum ide_end end,
              uint32_t len, uint32_t drq)
{
    d->phase = phase;
    d->end = end;
    d->pos = 0;
    d->buf_len = len < IDE_BUF_SIZE ? len : IDE_BUF_SIZE;
    d->drq_size = drq ? drq : d->buf_len;
    d->drq_end = d->drq_size < d->buf_len ? d->drq_size : d->buf_len;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
}

/* The next DRQ block of the buffer: DRQ and INTRQ (ATA6 9.7, 9.8). */
static void
ata_next_drq(struct ide_drive *d)
{
    uint32_t left = d->buf_len - d->pos;

    d->drq_end = d->pos + (d->drq_size < left ? d->drq_size : left);
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    ide_set_irq(d);
}

static uint32_t
ata_chunk(const struct ide_drive *d)
{
    uint32_t max = ATA_CHUNK_SECTORS - ATA_CHUNK_SECTORS % d->drq_sectors;

    return d->left < max ? d->left : max;
}

static void
ata_read_chunk(struct ide_drive *d)
{
    d->chunk = ata_chunk(d);
    ata_buf_io(d, false, d->chunk * IDE_SECTOR, ata_pio_read_cb);
}

static void
ata_pio_read_cb(void *opaque, long ret)
{
    struct ide_drive *d = opaque;

    d->inflight = false;
    if (ret != (long)(d->chunk * IDE_SECTOR)) {
        ata_io_error(d, false, ret < 0 ? ret : -EIO);
        return;
    }
    d->lba += d->chunk;
    d->left -= d->chunk;
    ide_pio_start(d, IDE_PIO_IN, IDE_END_ATA_READ, d->chunk * IDE_SECTOR,
                  d->drq_sectors * IDE_SECTOR);
    ide_set_irq(d);
}

static void
ata_pio_write_cb(void *opaque, long ret)
{
    struct ide_drive *d = opaque;

    d->inflight = false;
    if (ret != (long)(d->chunk * IDE_SECTOR)) {
        ata_io_error(d, true, ret < 0 ? ret : -EIO);
        return;
    }
    d->lba += d->chunk;
    d->left -= d->chunk;
    if (!d->left) {
        ide_complete(d);
        return;
    }
    d->chunk = ata_chunk(d);
    ide_pio_start(d, IDE_PIO_OUT, IDE_END_ATA_WRITE, d->chunk * IDE_SECTOR,
                  d->drq_sectors * IDE_SECTOR);
    ide_set_irq(d);
}

static void
ide_end_done(struct ide_drive *d)
{
    d->phase = IDE_IDLE;
    d->status = ATA_SR_DRDY | ATA_SR_DSC;
}

/* PIO data-in: no interrupt after the last block (ATA6 9.7). */
static void
ide_end_ata_read(struct ide_drive *d)
{
    if (d->pos < d->buf_len) {
        ata_next_drq(d);
    } else if (d->left) {
        ata_read_chunk(d);
    } else {
        ide_end_done(d);
    }
}

static void
ide_end_ata_write(struct ide_drive *d)
{
    if (d->pos < d->buf_len) {
        ata_next_drq(d);
    } else {
        ata_buf_io(d, true, d->chunk * IDE_SECTOR, ata_pio_write_cb);
    }
}

typedef void ide_end_fn(struct ide_drive *d);

static ide_end_fn *const ide_end_table[IDE_END_NR] = {
    [IDE_END_DONE] = ide_end_done,
    [IDE_END_ATA_READ] = ide_end_ata_read,
    [IDE_END_ATA_WRITE] = ide_end_ata_write,
    [IDE_END_PACKET] = atapi_cdb_ready,
    [IDE_END_ATAPI_IN] = atapi_pio_block_done,
};

static void
ide_block_end(struct ide_drive *d)
{
    ide_end_table[d->end < IDE_END_NR ? d->end : IDE_END_DONE](d);
}

/*
 * The data port: len bytes of one access or a whole rep string. A 32-bit
 * access is two 16-bit transfers (PIIX3 2.6.1); anything past the current
 * DRQ block reads as all-ones or is dropped.
 */
void
ide_data_read(struct ide_channel *ch, uint8_t *buf, size_t len)
{
    struct ide_drive *d = ide_cur(ch);

    while (len) {
        size_t n;

        if (d->phase != IDE_PIO_IN || d->pos >= d->drq_end) {
            GUEST_ERR("ide%u: data read of %zu bytes without DRQ", d->index,
                      len);
            memset(buf, 0xff, len);
            return;
        }
        n = d->drq_end - d->pos < len ? d->drq_end - d->pos : len;
        memcpy(buf, d->buf + d->pos, n);
        d->pos += (uint32_t)n;
        buf += n;
        len -= n;
        if (d->pos == d->drq_end) {
            ide_block_end(d);
        }
    }
}

void
ide_data_write(struct ide_channel *ch, const uint8_t *buf, size_t len)
{
    struct ide_drive *d = ide_cur(ch);

    while (len) {
        size_t n;

        if (d->phase != IDE_PIO_OUT || d->pos >= d->drq_end) {
            GUEST_ERR("ide%u: data write of %zu bytes without DRQ",
                      d->index, len);
            return;
        }
        n = d->drq_end - d->pos < len ? d->drq_end - d->pos : len;
        memcpy(d->buf + d->pos, buf, n);
        d->pos += (uint32_t)n;
        buf += n;
        len -= n;
        if (d->pos == d->drq_end) {
            ide_block_end(d);
        }
    }
}

/* ---- addressing ---------------------------------------------------------- */

static uint32_t
ata_count(const struct ide_drive *d, bool lba48)
{
    uint32_t n = d->nsector | (lba48 ? (uint32_t)d->hob_nsector << 8 : 0);

    return n ? n : (lba48 ? 65536 : 256);
}

/* LBA48, LBA28 or CHS per the device register (ATA6 7.10, 6.2). */
static bool
ata_lba(const struct ide_drive *d, bool lba48, uint64_t *lba)
{
    uint32_t cyl = d->lcyl | (uint32_t)d->hcyl << 8;
    uint32_t head = d->select & 0x0f;

    if (lba48) {
        *lba = d->sector | (uint64_t)d->lcyl << 8 | (uint64_t)d->hcyl << 16 |
               (uint64_t)d->hob_sector << 24 | (uint64_t)d->hob_lcyl << 32 |
               (uint64_t)d->hob_hcyl << 40;
        return true;
    }
    if (d->select & ATA_DH_LBA) {
        *lba = d->sector | (uint64_t)d->lcyl << 8 | (uint64_t)d->hcyl << 16 |
               (uint64_t)head << 24;
        return true;
    }
    if (d->sector == 0 || d->sector > d->cur_secs || head >= d->cur_heads) {
        return false;
    }
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_secs +
           d->sector - 1;
    return true;
}

/* Overflow-safe range check; IDNF for addresses past the end (ATA6 8.x). */
static bool
ata_range(struct ide_drive *d, bool lba48, uint64_t *lba, uint32_t *n)
{
    *n = ata_count(d, lba48);
    if (!ata_lba(d, lba48, lba) || *lba > d->nb_sectors ||
        *n > d->nb_sectors - *lba) {
        GUEST_ERR("ide%u: sectors out of range (%u at %" PRIu64 ", size %"
                  PRIu64 ")", d->index, *n, *lba, d->nb_sectors);
        ide_abort(d, ATA_ER_IDNF);
        return false;
    }
    return true;
}

/* ---- commands ------------------------------------------------------------ */

void
ide_put_str(uint16_t *w, const char *s, unsigned int words)
{
    size_t len = strlen(s);
    unsigned int i;

    /* ATA strings: two characters per word, first in the high byte. */
    for (i = 0; i < words * 2; i++) {
        uint8_t c = i < len ? (uint8_t)s[i] : ' ';

        w[i / 2] = (uint16_t)((i & 1) ? (w[i / 2] | c) : c << 8);
    }
}

static void
ata_put_le(uint8_t *buf, const uint16_t *w)
{
    unsigned int i;

    for (i = 0; i < 256; i++) {
        buf[2 * i] = (uint8_t)w[i];
        buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
}

/* Word 255: signature A5h and a checksum making the 512 bytes sum to 0. */
static void
ata_checksum(uint16_t *w)
{
    uint8_t sum = 0xa5;
    unsigned int i;

    for (i = 0; i < 255; i++) {
        sum += (uint8_t)w[i] + (uint8_t)(w[i] >> 8);
    }
    w[255] = (uint16_t)((uint8_t)-sum << 8 | 0xa5);
}

unsigned int
ide_mode_bit(const struct ide_drive *d, unsigned int class)
{
    if ((d->xfer_mode >> 3) != class) {
        return 0;
    }
    return 1u << (8 + (d->xfer_mode & 7));
}

static void
ata_identify_words(const struct ide_drive *d, uint16_t *w)
{
    uint64_t lba28 = MIN(d->nb_sectors, ATA_LBA28_MAX);
    uint64_t chs;
    uint16_t cur_cyls = (uint16_t)MIN(d->nb_sectors /
                                      (d->cur_heads * d->cur_secs), 65535);
    uint16_t cache = d->wcache ? 0x0020 : 0;

    w[0] = 0x0040;                          /* fixed device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->secs;
    ide_put_str(&w[10], d->serial, 10);
    ide_put_str(&w[23], ATA_FIRMWARE, 4);
    ide_put_str(&w[27], ATA_MODEL, 20);
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[49] = 0x0b00;                         /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = w[52] = 0x0200;
    w[53] = 0x0007;                         /* words 54-58, 64-70, 88 */
    w[54] = cur_cyls;
    w[55] = d->cur_heads;
    w[56] = d->cur_secs;
    chs = MIN((uint64_t)cur_cyls * d->cur_heads * d->cur_secs, lba28);
    w[57] = (uint16_t)chs;
    w[58] = (uint16_t)(chs >> 16);
    w[59] = d->mult ? 0x0100 | d->mult : 0;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    w[63] = 0x0007 | ide_mode_bit(d, 4);    /* MWDMA 0-2 */
    w[64] = 0x0003;                         /* PIO 3-4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x00f0;                         /* ATA/ATAPI-4 to -7 */
    w[82] = 0x4048 | cache;                 /* NOP, look-ahead, PM, WC */
    w[83] = 0x7400;                         /* FLUSH EXT, FLUSH, LBA48 */
    w[84] = 0x4000;
    w[85] = 0x4048 | cache;
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[88] = 0x003f | ide_mode_bit(d, 8);    /* UDMA 0-5 */
    w[93] = 0x6001 | (d->unit ? 0x0100 : 0x0008);
    w[100] = (uint16_t)d->nb_sectors;
    w[101] = (uint16_t)(d->nb_sectors >> 16);
    w[102] = (uint16_t)(d->nb_sectors >> 32);
    w[103] = (uint16_t)(d->nb_sectors >> 48);
}

/* Checksum, then one 512-byte PIO data-in block with INTRQ (ATA6 9.7). */
void
ide_identify_out(struct ide_drive *d, uint16_t *w)
{
    ata_checksum(w);
    ata_put_le(d->buf, w);
    ide_pio_start(d, IDE_PIO_IN, IDE_END_DONE, IDE_SECTOR, IDE_SECTOR);
    ide_set_irq(d);
}

/* IDENTIFY DEVICE (ATA6 8.15): one 512-byte PIO data-in block. */
static bool
ata_cmd_identify(struct ide_drive *d, unsigned int flags)
{
    uint16_t w[256] = { 0 };

    if (d->kind == IDE_CD) {
        /* ATAPI devices abort it and show their signature (ATA6 8.15). */
        ide_set_signature(d);
        ide_abort(d, ATA_ER_ABRT);
        return false;
    }
    ata_identify_words(d, w);
    ide_identify_out(d, w);
    return false;
}

/* READ/WRITE SECTORS, MULTIPLE, DMA and their EXT forms (ATA6 8.x). */
static bool
ata_cmd_rw(struct ide_drive *d, unsigned int flags)
{
    bool write = flags & CMD_WRITE;
    uint64_t lba;
    uint32_t n;

    if ((flags & CMD_MULT) && !d->mult) {
        GUEST_ERR("ide%u: multiple command without SET MULTIPLE", d->index);
        ide_abort(d, ATA_ER_ABRT);
        return false;
    }
    if (!ata_range(d, flags & CMD_LBA48, &lba, &n)) {
        return false;
    }
    d->standby = false;
    d->lba = lba;
    d->left = n;
    d->drq_sectors = (flags & CMD_MULT) ? d->mult : 1;
    if (flags & CMD_DMA) {
        d->dma = write ? IDE_DMA_WRITE : IDE_DMA_READ;
        d->dma_off = lba * IDE_SECTOR;
        d->dma_len = n * IDE_SECTOR;
        d->phase = IDE_DMA_WAIT;
        d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        bmdma_dma_ready(d);
    } else if (write) {
        d->chunk = ata_chunk(d);
        ide_pio_start(d, IDE_PIO_OUT, IDE_END_ATA_WRITE,
                      d->chunk * IDE_SECTOR, d->drq_sectors * IDE_SECTOR);
    } else {
        ata_read_chunk(d);
    }
    return false;
}

/* Bus-master transfer finished (bmdma.c): ret bytes or -errno. */
void
ata_dma_done(struct ide_drive *d, long ret)
{
    bool write = d->dma == IDE_DMA_WRITE;

    if (ret == -EFAULT) {
        ide_abort(d, ATA_ER_ABRT);      /* bus error, bmdma.c logged it */
        return;
    }
    if (ret != (long)d->dma_len) {
        ata_io_error(d, write, ret < 0 ? ret : -EIO);
        return;
    }
    d->lba += d->left;
    d->left = 0;
    ide_complete(d);
}

/* READ VERIFY SECTORS (EXT) (ATA6 8.31): the range is checked; the image
 * is not read back, as nothing in it can be unreadable short of a host
 * error that the next read reports. */
static bool
ata_cmd_verify(struct ide_drive *d, unsigned int flags)
{
    uint64_t lba;
    uint32_t n;

    return ata_range(d, flags & CMD_LBA48, &lba, &n);
}

static void
ata_flush_cb(void *opaque, long ret)
{
    struct ide_drive *d = opaque;

    d->inflight = false;
    if (ret < 0) {
        ata_io_error(d, true, ret);
        return;
    }
    ide_complete(d);
}

/* FLUSH CACHE (EXT): completes once the data is on stable storage. */
static bool
ata_cmd_flush(struct ide_drive *d, unsigned int flags)
{
    int rc;

    if (!d->blk || d->kind == IDE_CD) {
        return true;                    /* nothing cached to write back */
    }
    d->phase = IDE_BUSY;
    d->status = ATA_SR_BSY | ATA_SR_DRDY | ATA_SR_DSC;
    d->inflight = true;
    rc = blk_flush(d->blk, ata_flush_cb, d);
    if (rc < 0) {
        ata_flush_cb(d, rc);
    }
    return false;
}

/* SET MULTIPLE MODE (ATA6 8.41): powers of two up to word 47's limit. */
static bool
ata_cmd_set_multiple(struct ide_drive *d, unsigned int flags)
{
    uint8_t n = d->nsector;

    if (n > IDE_MAX_MULT || (n & (n - 1))) {
        GUEST_ERR("ide%u: SET MULTIPLE %u", d->index, n);
        ide_abort(d, ATA_ER_ABRT);
        return false;
    }
    d->mult = n;
    return true;
}

/* SET FEATURES 03h: PIO 0-4, MWDMA 0-2, UDMA 0-5 (ATA6 8.37.10). */
static bool
ata_xfer_mode_ok(uint8_t val)
{
    unsigned int mode = val & 7;

    switch (val >> 3) {
    case 0:
        return mode <= 1;
    case 1:
        return mode <= 4;
    case 4:
        return mode <= 2;
    case 8:
        return mode <= 5;
    default:
        return false;
    }
}

static bool
ata_feat_xfer(struct ide_drive *d)
{
    if (!ata_xfer_mode_ok(d->nsector)) {
        return false;
    }
    d->xfer_mode = d->nsector;
    return true;
}

static bool
ata_feat_wcache(struct ide_drive *d)
{
    if (d->kind != IDE_DISK) {
        return false;
    }
    d->wcache = d->feature == 0x02;
    if (d->blk) {
        blk_set_write_cache(d->blk, d->wcache);
    }
    return true;
}

static bool
ata_feat_nop(struct ide_drive *d)
{
    return true;
}

/* SET FEATURES subcommands we implement (ATA6 table 44). */
static const struct {
    uint8_t sub;
    bool (*fn)(struct ide_drive *d);
} ata_features[] = {
    { 0x02, ata_feat_wcache },      /* enable write cache */
    { 0x03, ata_feat_xfer },        /* set transfer mode */
    { 0x55, ata_feat_nop },         /* disable read look-ahead */
    { 0x66, ata_feat_nop },         /* disable reverting to defaults */
    { 0x82, ata_feat_wcache },      /* disable write cache */
    { 0xaa, ata_feat_nop },         /* enable read look-ahead */
    { 0xcc, ata_feat_nop },         /* enable reverting to defaults */
};

static bool
ata_cmd_set_features(struct ide_drive *d, unsigned int flags)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(ata_features); i++) {
        if (ata_features[i].sub == d->feature && ata_features[i].fn(d)) {
            return true;
        }
    }
    GUEST_ERR("ide%u: SET FEATURES %02x/%02x", d->index, d->feature,
              d->nsector);
    ide_abort(d, ATA_ER_ABRT);
    return false;
}

static bool
ata_cmd_standby(struct ide_drive *d, unsigned int flags)
{
    d->standby = true;
    return true;
}

static bool
ata_cmd_idle(struct ide_drive *d, unsigned int flags)
{
    d->standby = false;
    return true;
}

/* CHECK POWER MODE (ATA6 8.6): 00h standby, FFh active or idle. */
static bool
ata_cmd_check_power(struct ide_drive *d, unsigned int flags)
{
    d->nsector = d->standby ? 0x00 : 0xff;
    return true;
}

/* INITIALIZE DEVICE PARAMETERS (ATA6 8.16): the CHS translation. */
static bool
ata_cmd_init_params(struct ide_drive *d, unsigned int flags)
{
    if (d->nsector == 0) {
        ide_abort(d, ATA_ER_ABRT);
        return false;
    }
    d->cur_secs = d->nsector;
    d->cur_heads = (uint16_t)((d->select & 0x0f) + 1);
    return true;
}

static bool
ata_cmd_seek(struct ide_drive *d, unsigned int flags)
{
    return true;
}

/* NOP (ATA6 8.18) always ends in ABRT, with the registers unchanged. */
static bool
ata_cmd_nop(struct ide_drive *d, unsigned int flags)
{
    ide_abort(d, ATA_ER_ABRT);
    return false;
}

static void
ide_diag_one(struct ide_drive *d)
{
    ide_set_signature(d);
    d->error = 0x01;                        /* passed */
    d->status = d->kind == IDE_DISK ? ATA_SR_DRDY | ATA_SR_DSC : 0;
    d->phase = IDE_IDLE;
}

/* EXECUTE DEVICE DIAGNOSTIC (ATA6 8.11): both devices, device 0 interrupts */
static bool
ata_cmd_diag(struct ide_drive *d, unsigned int flags)
{
    struct ide_channel *ch = d->ch;
    unsigned int u;

    for (u = 0; u < IDE_UNITS; u++) {
        ide_drive_drain(&ch->drv[u]);
        ide_diag_one(&ch->drv[u]);
    }
    ch->cur = 0;
    if (ch->drv[0].kind != IDE_NONE) {
        ide_set_irq(&ch->drv[0]);
    }
    return false;
}

/* DEVICE RESET (ATA6 8.10), ATAPI only: no interrupt. */
static bool
ata_cmd_device_reset(struct ide_drive *d, unsigned int flags)
{
    ide_drive_drain(d);
    atapi_reset(d, false);
    ide_diag_one(d);
    d->intrq = false;
    ide_update_irq(d->ch);
    return false;
}

static bool
ata_cmd_identify_packet(struct ide_drive *d, unsigned int flags)
{
    atapi_identify(d);
    return false;
}

static bool
ata_cmd_packet(struct ide_drive *d, unsigned int flags)
{
    atapi_packet_cmd(d);
    return false;
}

#define RW(f) { ata_cmd_rw, CMD_DISK | (f) }

static const struct ide_cmd ide_cmd_table[0x100] = {
    [0x00] = { ata_cmd_nop, CMD_DISK | CMD_CD },
    [0x08] = { ata_cmd_device_reset, CMD_CD | CMD_BSY_OK },
    [0x10] = { ata_cmd_seek, CMD_DISK },    /* RECALIBRATE */
    [0x20] = RW(0),                         /* READ SECTORS */
    [0x21] = RW(0),                         /* ... without retries */
    [0x24] = RW(CMD_LBA48),                 /* READ SECTORS EXT */
    [0x25] = RW(CMD_LBA48 | CMD_DMA),       /* READ DMA EXT */
    [0x29] = RW(CMD_LBA48 | CMD_MULT),      /* READ MULTIPLE EXT */
    [0x30] = RW(CMD_WRITE),                 /* WRITE SECTORS */
    [0x31] = RW(CMD_WRITE),
    [0x34] = RW(CMD_WRITE | CMD_LBA48),     /* WRITE SECTORS EXT */
    [0x35] = RW(CMD_WRITE | CMD_LBA48 | CMD_DMA),
    [0x39] = RW(CMD_WRITE | CMD_LBA48 | CMD_MULT),
    [0x40] = { ata_cmd_verify, CMD_DISK },  /* READ VERIFY SECTORS */
    [0x41] = { ata_cmd_verify, CMD_DISK },
    [0x42] = { ata_cmd_verify, CMD_DISK | CMD_LBA48 },
    [0x70] = { ata_cmd_seek, CMD_DISK },    /* SEEK */
    [0x90] = { ata_cmd_diag, CMD_DISK | CMD_CD },
    [0x91] = { ata_cmd_init_params, CMD_DISK },
    [0xa0] = { ata_cmd_packet, CMD_CD },
    [0xa1] = { ata_cmd_identify_packet, CMD_CD },
    [0xc4] = RW(CMD_MULT),                  /* READ MULTIPLE */
    [0xc5] = RW(CMD_WRITE | CMD_MULT),      /* WRITE MULTIPLE */
    [0xc6] = { ata_cmd_set_multiple, CMD_DISK },
    [0xc8] = RW(CMD_DMA),                   /* READ DMA */
    [0xc9] = RW(CMD_DMA),
    [0xca] = RW(CMD_WRITE | CMD_DMA),       /* WRITE DMA */
    [0xcb] = RW(CMD_WRITE | CMD_DMA),
    [0xe0] = { ata_cmd_standby, CMD_DISK | CMD_CD }, /* STANDBY IMMEDIATE */
    [0xe1] = { ata_cmd_idle, CMD_DISK | CMD_CD },    /* IDLE IMMEDIATE */
    [0xe2] = { ata_cmd_standby, CMD_DISK },          /* STANDBY */
    [0xe3] = { ata_cmd_idle, CMD_DISK },             /* IDLE */
    [0xe5] = { ata_cmd_check_power, CMD_DISK | CMD_CD },
    [0xe6] = { ata_cmd_standby, CMD_DISK | CMD_CD }, /* SLEEP */
    [0xe7] = { ata_cmd_flush, CMD_DISK | CMD_CD },   /* FLUSH CACHE */
    [0xea] = { ata_cmd_flush, CMD_DISK },            /* FLUSH CACHE EXT */
    [0xec] = { ata_cmd_identify, CMD_DISK | CMD_CD },
    [0xef] = { ata_cmd_set_features, CMD_DISK | CMD_CD },
};

/* ---- the command register ------------------------------------------------ */

static void
ide_exec_cmd(struct ide_channel *ch, uint8_t cmd)
{
    struct ide_drive *d = ide_cur(ch);
    const struct ide_cmd *c = &ide_cmd_table[cmd];
    unsigned int type = d->kind == IDE_CD ? CMD_CD : CMD_DISK;

    if (d->kind == IDE_NONE) {
        return;                 /* nobody answers (ATA6 9.1) */
    }
    if ((d->status & ATA_SR_BSY) &&
        (c->flags & (CMD_BSY_OK | type)) != (CMD_BSY_OK | type)) {
        GUEST_ERR("ide%u: command %02x while busy", d->index, cmd);
        return;
    }
    d->intrq = false;
    ide_update_irq(ch);
    d->cmd = cmd;
    d->phase = IDE_IDLE;
    d->dma = IDE_DMA_NONE;
    if (!c->fn || !(c->flags & type)) {
        GUEST_ERR("ide%u: unsupported command %02x", d->index, cmd);
        if (d->kind == IDE_CD) {
            ide_set_signature(d);
        }
        ide_abort(d, ATA_ER_ABRT);
        return;
    }
    d->error = 0;
    if (c->fn(d, c->flags)) {
        ide_complete(d);
    }
}

/* Task file registers: where a write lands, current and HOB copies. */
static const struct {
    size_t cur, hob;
} ata_tf[8] = {
    [ATA_REG_ERROR] = { offsetof(struct ide_drive, feature),
                        offsetof(struct ide_drive, hob_feature) },
    [ATA_REG_NSECTOR] = { offsetof(struct ide_drive, nsector),
                          offsetof(struct ide_drive, hob_nsector) },
    [ATA_REG_SECTOR] = { offsetof(struct ide_drive, sector),
                         offsetof(struct ide_drive, hob_sector) },
    [ATA_REG_LCYL] = { offsetof(struct ide_drive, lcyl),
                       offsetof(struct ide_drive, hob_lcyl) },
    [ATA_REG_HCYL] = { offsetof(struct ide_drive, hcyl),
                       offsetof(struct ide_drive, hob_hcyl) },
};

static uint8_t *
tf_reg(struct ide_drive *d, size_t off)
{
    return (uint8_t *)d + off;
}

/* Both devices latch task file writes (ATA6 7.1); HOB clears (7.8). */
void
ide_cmd_write(struct ide_channel *ch, unsigned int reg, uint8_t val)
{
    unsigned int u;

    reg &= 7;
    if (reg == ATA_REG_STATUS) {
        ide_exec_cmd(ch, val);
        return;
    }
    ch->devctl &= (uint8_t)~ATA_DC_HOB;
    for (u = 0; u < IDE_UNITS; u++) {
        struct ide_drive *d = &ch->drv[u];

        if (reg == ATA_REG_SELECT) {
            d->select = val;
        } else if (ata_tf[reg].cur) {
            *tf_reg(d, ata_tf[reg].hob) = *tf_reg(d, ata_tf[reg].cur);
            *tf_reg(d, ata_tf[reg].cur) = val;
        }
    }
    if (reg == ATA_REG_SELECT) {
        ch->cur = (val & ATA_DH_DEV) ? 1 : 0;
        ide_update_irq(ch);
    }
}

static bool
ide_channel_empty(const struct ide_channel *ch)
{
    return ch->drv[0].kind == IDE_NONE && ch->drv[1].kind == IDE_NONE;
}

/* Status of the selected device; 0 from an absent one (as QEMU). */
uint8_t
ide_altstatus(struct ide_channel *ch)
{
    const struct ide_drive *d = ide_cur(ch);

    return d->kind == IDE_NONE ? 0 : d->status;
}

uint64_t
ide_cmd_read(struct ide_channel *ch, unsigned int reg)
{
    struct ide_drive *d = ide_cur(ch);
    bool hob = ch->devctl & ATA_DC_HOB;

    reg &= 7;
    if (ide_channel_empty(ch)) {
        return 0;
    }
    switch (reg) {
    case ATA_REG_DATA:
        return 0xff;                    /* the data port is elsewhere */
    case ATA_REG_ERROR:
        return d->error;
    case ATA_REG_SELECT:
        return d->select;
    case ATA_REG_STATUS:
        /* Reading Status clears INTRQ (ATA6 7.15). */
        d->intrq = false;
        ide_update_irq(ch);
        return ide_altstatus(ch);
    default:
        return *tf_reg(d, hob ? ata_tf[reg].hob : ata_tf[reg].cur);
    }
}

/* ---- device control and reset -------------------------------------------- */

static void
ide_srst_done(struct ide_drive *d)
{
    ide_drive_reset(d, false);
    ide_diag_one(d);
}

/* SRST (ATA6 9.2): BSY while asserted; both devices reset on release. */
void
ide_devctl_write(struct ide_channel *ch, uint8_t val)
{
    uint8_t old = ch->devctl;
    unsigned int u;

    ch->devctl = val & (ATA_DC_HOB | ATA_DC_SRST | ATA_DC_NIEN);
    for (u = 0; u < IDE_UNITS; u++) {
        struct ide_drive *d = &ch->drv[u];

        if (d->kind == IDE_NONE) {
            continue;
        }
        if (!(old & ATA_DC_SRST) && (val & ATA_DC_SRST)) {
            ide_drive_drain(d);
            d->phase = IDE_IDLE;
            d->dma = IDE_DMA_NONE;
            d->status = ATA_SR_BSY;
            d->intrq = false;
        } else if ((old & ATA_DC_SRST) && !(val & ATA_DC_SRST)) {
            ide_srst_done(d);
        }
    }
    if ((old & ATA_DC_SRST) && !(val & ATA_DC_SRST)) {
        ch->cur = 0;
    }
    ide_update_irq(ch);
}

/* Default CHS: 16 heads, 63 sectors, at most 16383 cylinders (ATA6 6.2). */
static void
ata_geometry(struct ide_drive *d)
{
    uint64_t cyls = d->nb_sectors / (16 * 63);

    d->heads = 16;
    d->secs = 63;
    d->cyls = (uint16_t)MAX(1, MIN(cyls, ATA_CHS_MAX_CYLS));
}

void
ide_drive_reset(struct ide_drive *d, bool power_on)
{
    ide_drive_drain(d);
    d->phase = IDE_IDLE;
    d->end = IDE_END_DONE;
    d->dma = IDE_DMA_NONE;
    d->pos = d->drq_end = d->buf_len = d->drq_size = 0;
    d->lba = 0;
    d->left = d->chunk = 0;
    d->drq_sectors = 1;
    d->intrq = false;
    d->feature = d->hob_feature = 0;
    d->cmd = 0;
    if (power_on) {
        d->mult = 0;
        d->xfer_mode = 0x0c;                /* PIO 4 */
        d->wcache = true;
        d->standby = false;
        d->cur_heads = d->heads;
        d->cur_secs = d->secs;
        if (d->kind == IDE_DISK && d->blk) {
            blk_set_write_cache(d->blk, true);
        }
    }
    if (d->kind == IDE_CD) {
        atapi_reset(d, power_on);
    }
    ide_set_signature(d);
    d->error = 0x01;
    d->status = d->kind == IDE_DISK ? ATA_SR_DRDY | ATA_SR_DSC : 0;
}

/* ---- set-up -------------------------------------------------------------- */

void
ide_drive_init(struct ide_drive *d, struct ide_channel *ch, unsigned int unit)
{
    memset(d, 0, sizeof(*d));
    d->ch = ch;
    d->unit = unit;
    d->index = ch->idx * IDE_UNITS + unit;
    d->kind = IDE_NONE;
    d->buf = g_malloc0(IDE_BUF_SIZE);
    snprintf(d->serial, sizeof(d->serial), "HVMDM%05u", d->index);
    d->heads = d->cur_heads = 16;
    d->secs = d->cur_secs = 63;
    d->cyls = 1;
    d->drq_sectors = 1;
}

int
ide_drive_attach(struct ide_drive *d, struct dm *dm,
                 const struct dm_drive_cfg *cfg)
{
    char err[256];

    if (cfg->media == DM_MEDIA_CDROM) {
        d->kind = IDE_CD;
        if (cfg->file && cfg->file[0]) {
            struct blk *b = blk_open(dm, cfg, err, sizeof(err));

            if (!b) {
                DM_ERR("ide%u: %s", d->index, err);
                return -EINVAL;
            }
            atapi_set_medium(d, b);
        }
        return 0;
    }
    d->blk = blk_open(dm, cfg, err, sizeof(err));
    if (!d->blk) {
        DM_ERR("ide%u: %s", d->index, err);
        return -EINVAL;
    }
    d->kind = IDE_DISK;
    d->nb_sectors = blk_size(d->blk) / IDE_SECTOR;
    ata_geometry(d);
    return 0;
}

static void
ata_unplug_flush_cb(void *opaque, long ret)
{
    struct ide_drive *d = opaque;

    d->inflight = false;
    if (ret < 0) {
        DM_ERR("ide%u: flush before unplug failed: %s", d->index,
               g_strerror((int)-ret));
    }
}

/* Platform unplug: write back, close, and read as absent from now on. */
void
ide_drive_unplug(struct ide_drive *d)
{
    ide_drive_drain(d);
    if (d->blk) {
        d->inflight = true;
        if (blk_flush(d->blk, ata_unplug_flush_cb, d) < 0) {
            d->inflight = false;
        }
        ide_drive_drain(d);
        blk_close(d->blk);
        d->blk = NULL;
    }
    d->kind = IDE_NONE;
    d->nb_sectors = 0;
    d->phase = IDE_IDLE;
    d->dma = IDE_DMA_NONE;
    d->intrq = false;
    ide_set_signature(d);
    d->status = 0;
    ide_update_irq(d->ch);
}

void
ide_drive_detach(struct ide_drive *d)
{
    ide_drive_drain(d);
    if (d->blk) {
        blk_close(d->blk);
        d->blk = NULL;
    }
    g_free(d->buf);
    d->buf = NULL;
}
