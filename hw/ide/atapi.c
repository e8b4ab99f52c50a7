/*
 * ATAPI CD/DVD-ROM: the PACKET protocol (ATA6 8.21, 9.10, 9.11) and the
 * MMC commands an operating system or SeaBIOS sends to a read-only drive,
 * decoded through atapi_cmd_table[]. References: ATA/ATAPI-6 ("ATA6"),
 * SCSI Multimedia Commands-3 (T10/1363-D rev 10g, "MMC3"), SCSI Primary
 * Commands-3 ("SPC3") for sense data and INQUIRY.
 *
 * Media: an image opened by the block layer or none. The host changes it
 * through ide_cd_change_media() (hw/ide/ide.h); the guest sees the tray
 * open and NOT READY while empty, one UNIT ATTENTION after an insert, and
 * GET EVENT STATUS NOTIFICATION media events.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "block/block.h" /* blk_preadv, blk_size, blk_close */
#include "dm/log.h"      /* GUEST_ERR */
#include "hw/ide/internal.h"

#define ATAPI_CHUNK_SECTORS (IDE_BUF_SIZE / CD_SECTOR)
/* A CD holds at most 80 minutes of 75 sectors a second (QEMU's limit). */
#define CD_MAX_SECTORS      (80u * 60 * 75)
/* Longest DMA a full PRD table can take (BMIDE 1.2, 512 x 64 KiB). */
#define ATAPI_DMA_MAX       (BM_PRD_MAX * 65536u)

/* Sense keys and additional sense codes (SPC3 4.5.6, MMC3 annex F). */
#define SENSE_NONE              0x0
#define SENSE_NOT_READY         0x2
#define SENSE_MEDIUM_ERROR      0x3
#define SENSE_ILLEGAL_REQUEST   0x5
#define SENSE_UNIT_ATTENTION    0x6
#define ASC_UNRECOVERED_READ    0x11
#define ASC_INVALID_OPCODE      0x20
#define ASC_LBA_OUT_OF_RANGE    0x21
#define ASC_INVALID_FIELD       0x24
#define ASC_MEDIUM_CHANGED      0x28
#define ASC_SAVING_PARAMS       0x39
#define ASC_MEDIUM_NOT_PRESENT  0x3a
#define ASC_REMOVAL_PREVENTED   0x53

/* GESN media event codes (MMC3 6.1.6.3.4). */
#define MEC_NO_CHANGE       0
#define MEC_NEW_MEDIA       2
#define MEC_MEDIA_REMOVAL   3

/* MMC profiles (MMC3 5.3.1). */
#define PROFILE_NONE        0x0000
#define PROFILE_CD_ROM      0x0008
#define PROFILE_DVD_ROM     0x0010

/* Flags of atapi_cmd_table entries. */
#define ATAPI_ALLOW_UA      0x01    /* runs with a UNIT ATTENTION pending */
#define ATAPI_CHECK_READY   0x02    /* needs a medium */
#define ATAPI_NONDATA       0x04    /* no data phase */

#define ATAPI_MODEL         "HVMDM DVD-ROM"
#define ATAPI_VENDOR        "HVMDM"
#define ATAPI_REVISION      "1.0"

struct atapi_cmd {
    void (*fn)(struct ide_drive *d);
    unsigned int flags;
};

static const struct atapi_cmd atapi_cmd_table[0x100];

/* ---- helpers ------------------------------------------------------------- */

static uint32_t
be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static void
put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v);
}

static void
put_str(uint8_t *p, const char *s, size_t len)
{
    size_t n = strlen(s);

    memset(p, ' ', len);
    memcpy(p, s, MIN(n, len));
}

static bool
atapi_medium_ready(const struct ide_drive *d)
{
    return d->blk && !d->tray_open;
}

/* Interrupt reason I/O and C/D: the status phase (ATA6 9.10). */
static void
atapi_status_phase(struct ide_drive *d)
{
    d->phase = IDE_IDLE;
    d->dma = IDE_DMA_NONE;
    d->nsector = ATAPI_INT_IO | ATAPI_INT_COD;
    ide_set_irq(d);
}

static void
atapi_ok(struct ide_drive *d)
{
    d->sense_key = SENSE_NONE;
    d->asc = d->ascq = 0;
    d->error = 0;
    d->status = ATA_SR_DRDY | ATA_SR_DSC;
    atapi_status_phase(d);
}

/* CHECK CONDITION: the sense key in ERROR bits 7:4 (ATA6 8.21). */
static void
atapi_error(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->error = (uint8_t)(key << 4);
    d->status = ATA_SR_DRDY | ATA_SR_ERR;
    atapi_status_phase(d);
}

static void
atapi_invalid_field(struct ide_drive *d)
{
    GUEST_ERR("ide%u: ATAPI command %02x: invalid field in CDB", d->index,
              d->cdb[0]);
    atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

/* Command aborted: a PIO data phase with a byte count limit of 0. */
static void
atapi_abort(struct ide_drive *d)
{
    GUEST_ERR("ide%u: ATAPI byte count limit 0", d->index);
    d->sense_key = SENSE_ILLEGAL_REQUEST;
    d->asc = ASC_INVALID_FIELD;
    d->ascq = 0;
    d->error = ATA_ER_ABRT;
    d->status = ATA_SR_DRDY | ATA_SR_ERR;
    atapi_status_phase(d);
}

static bool
atapi_use_dma(const struct ide_drive *d)
{
    return d->feature & 0x01;       /* PACKET features bit 0: DMA */
}

/* The even byte count of a DRQ block (ATA6 8.21: FFFFh means FFFEh). */
static uint32_t
atapi_drq_limit(const struct ide_drive *d)
{
    return d->bcl & 0xfffe;
}

/* One PIO DRQ block: byte count in LBA mid/high, I/O set, INTRQ. */
static void
atapi_pio_block(struct ide_drive *d)
{
    uint32_t n = MIN(d->drq_size, d->buf_len - d->pos);

    d->drq_end = d->pos + n;
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    d->nsector = ATAPI_INT_IO;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    ide_set_irq(d);
}

static void
atapi_pio_in(struct ide_drive *d, uint32_t len)
{
    ide_pio_start(d, IDE_PIO_IN, IDE_END_ATAPI_IN, len, atapi_drq_limit(d));
    atapi_pio_block(d);
}

/* Send buf[0, MIN(len, alloc)) to the host by PIO or DMA. */
static void
atapi_reply(struct ide_drive *d, uint32_t len, uint32_t alloc)
{
    uint32_t n = MIN(len, alloc);

    d->atapi_left = 0;
    if (n == 0) {
        atapi_ok(d);
    } else if (atapi_use_dma(d)) {
        d->dma = IDE_DMA_BUF;
        d->dma_len = n;
        d->phase = IDE_DMA_WAIT;
        d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        bmdma_dma_ready(d);
    } else if (atapi_drq_limit(d) == 0) {
        atapi_abort(d);
    } else {
        atapi_pio_in(d, n);
    }
}

/* ---- reads --------------------------------------------------------------- */

static void atapi_read_cb(void *opaque, long ret);

static void
atapi_read_error(struct ide_drive *d, long ret)
{
    static struct dm_ratelimit rl;

    dm_log_ratelimited(&rl, DM_LOG_ERROR, "ide%u: host read error at CD "
                       "sector %" PRIu64 ": %s", d->index, d->lba,
                       g_strerror(ret < 0 ? (int)-ret : EIO));
    atapi_error(d, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
}

static void
atapi_read_chunk(struct ide_drive *d)
{
    struct iovec iov;
    int rc;

    d->chunk = MIN(d->atapi_left, ATAPI_CHUNK_SECTORS);
    iov.iov_base = d->buf;
    iov.iov_len = d->chunk * CD_SECTOR;
    d->phase = IDE_BUSY;
    d->status = ATA_SR_BSY | ATA_SR_DRDY;
    d->inflight = true;
    rc = blk_preadv(d->blk, d->lba * CD_SECTOR, &iov, 1, atapi_read_cb, d);
    if (rc < 0) {
        atapi_read_cb(d, rc);
    }
}

static void
atapi_read_cb(void *opaque, long ret)
{
    struct ide_drive *d = opaque;

    d->inflight = false;
    if (ret != (long)(d->chunk * CD_SECTOR)) {
        atapi_read_error(d, ret < 0 ? ret : -EIO);
        return;
    }
    d->lba += d->chunk;
    d->atapi_left -= d->chunk;
    atapi_pio_in(d, d->chunk * CD_SECTOR);
}

/* READ(10)/(12)/CD: n 2048-byte sectors at lba (MMC3 6.1.15, 6.1.16). */
static void
atapi_start_read(struct ide_drive *d, uint32_t lba, uint32_t n)
{
    if (lba > d->cd_sectors || n > d->cd_sectors - lba) {
        GUEST_ERR("ide%u: CD read of %u sectors at %u past %u", d->index, n,
                  lba, d->cd_sectors);
        atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (n == 0) {
        atapi_ok(d);
        return;
    }
    d->lba = lba;
    if (atapi_use_dma(d)) {
        /* Longer than any PRD table: bmdma.c reports the short table. */
        d->dma = IDE_DMA_READ;
        d->dma_off = (uint64_t)lba * CD_SECTOR;
        d->dma_len = (uint32_t)MIN((uint64_t)n * CD_SECTOR,
                                   ATAPI_DMA_MAX + CD_SECTOR);
        d->phase = IDE_DMA_WAIT;
        d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        bmdma_dma_ready(d);
    } else if (atapi_drq_limit(d) == 0) {
        atapi_abort(d);
    } else {
        d->atapi_left = n;
        atapi_read_chunk(d);
    }
}

void
atapi_dma_done(struct ide_drive *d, long ret)
{
    if (ret == -EFAULT) {
        d->error = ATA_ER_ABRT;
        d->status = ATA_SR_DRDY | ATA_SR_ERR;
        atapi_status_phase(d);
    } else if (ret != (long)d->dma_len) {
        atapi_read_error(d, ret < 0 ? ret : -EIO);
    } else {
        atapi_ok(d);
    }
}

/* The end of a DRQ block (ata.c): next block, next chunk or status. */
void
atapi_pio_block_done(struct ide_drive *d)
{
    if (d->pos < d->buf_len) {
        atapi_pio_block(d);
    } else if (d->atapi_left) {
        atapi_read_chunk(d);
    } else {
        atapi_ok(d);
    }
}

static void
atapi_cmd_read10(struct ide_drive *d)
{
    atapi_start_read(d, be32(d->cdb + 2), be16(d->cdb + 7));
}

static void
atapi_cmd_read12(struct ide_drive *d)
{
    atapi_start_read(d, be32(d->cdb + 2), be32(d->cdb + 6));
}

/* READ CD (MMC3 6.1.18): Mode 1 user data only, or no data at all. */
static void
atapi_cmd_read_cd(struct ide_drive *d)
{
    uint32_t n = (uint32_t)d->cdb[6] << 16 | be16(d->cdb + 7);
    unsigned int type = (d->cdb[1] >> 2) & 7;
    uint8_t fields = d->cdb[9] & 0xf8;

    if ((type != 0 && type != 2) || (fields != 0x10 && fields != 0)) {
        atapi_invalid_field(d);
        return;
    }
    if (fields == 0) {
        n = 0;
    }
    atapi_start_read(d, be32(d->cdb + 2), n);
}

/* ---- informational commands ---------------------------------------------- */

static void
atapi_cmd_test_unit_ready(struct ide_drive *d)
{
    atapi_ok(d);
}

/* REQUEST SENSE (SPC3 6.27): fixed format, then the sense is consumed. */
static void
atapi_cmd_request_sense(struct ide_drive *d)
{
    uint8_t *b = d->buf;

    if (d->ua) {
        d->ua = false;
        d->sense_key = SENSE_UNIT_ATTENTION;
        d->asc = ASC_MEDIUM_CHANGED;
        d->ascq = 0;
    }
    memset(b, 0, 18);
    b[0] = 0x70;                    /* current error, fixed format */
    b[2] = d->sense_key;
    b[7] = 10;                      /* additional sense length */
    b[12] = d->asc;
    b[13] = d->ascq;
    atapi_reply(d, 18, d->cdb[4]);
}

/* INQUIRY (SPC3 6.4): standard data only. */
static void
atapi_cmd_inquiry(struct ide_drive *d)
{
    uint8_t *b = d->buf;

    if ((d->cdb[1] & 0x01) || d->cdb[2]) {
        atapi_invalid_field(d);
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05;                    /* CD/DVD device */
    b[1] = 0x80;                    /* removable */
    b[3] = 0x21;                    /* ATAPI, response data format 1 */
    b[4] = 31;                      /* additional length */
    put_str(b + 8, ATAPI_VENDOR, 8);
    put_str(b + 16, ATAPI_MODEL, 16);
    put_str(b + 32, ATAPI_REVISION, 4);
    atapi_reply(d, 36, be16(d->cdb + 3));
}

/* Read error recovery parameters page 01h (MMC3 6.3.4). */
static uint32_t
mode_page_01(const struct ide_drive *d, uint8_t *p)
{
    memset(p, 0, 12);
    p[0] = 0x01;
    p[1] = 10;
    p[3] = 5;                       /* read retry count */
    return 12;
}

/* CD/DVD capabilities and mechanical status page 2Ah (MMC3 6.3.11). */
static uint32_t
mode_page_2a(const struct ide_drive *d, uint8_t *p)
{
    memset(p, 0, 20);
    p[0] = 0x2a;
    p[1] = 18;
    p[2] = 0x0b;                    /* reads CD-R, CD-RW, DVD-ROM */
    p[4] = 0x40;                    /* multi-session */
    p[6] = 0x29 | (d->locked ? 0x02 : 0); /* tray, eject, lock (+state) */
    put_be16(p + 8, 2816);          /* max read speed, KB/s (16x) */
    put_be16(p + 12, 512);          /* buffer, KiB */
    put_be16(p + 14, 2816);         /* current read speed */
    return 20;
}

static const struct {
    uint8_t page;
    uint32_t (*fill)(const struct ide_drive *d, uint8_t *p);
} mode_pages[] = {
    { 0x01, mode_page_01 },
    { 0x2a, mode_page_2a },
};

/* MODE SENSE(6)/(10) (SPC3 6.9, 6.10): pages 01h, 2Ah and 3Fh (all). */
static void
atapi_mode_sense(struct ide_drive *d, uint32_t hdr, uint32_t alloc)
{
    unsigned int pc = d->cdb[2] >> 6, page = d->cdb[2] & 0x3f;
    uint32_t len = hdr, n;
    size_t i;

    if (pc == 3) {
        atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_PARAMS, 0);
        return;
    }
    memset(d->buf, 0, hdr);
    for (i = 0; i < G_N_ELEMENTS(mode_pages); i++) {
        if (page == 0x3f || page == mode_pages[i].page) {
            n = mode_pages[i].fill(d, d->buf + len);
            if (pc == 1) {          /* changeable: nothing is */
                memset(d->buf + len + 2, 0, n - 2);
            }
            len += n;
        }
    }
    if (len == hdr) {
        atapi_invalid_field(d);
        return;
    }
    if (hdr == 8) {
        put_be16(d->buf, len - 2);
    } else {
        d->buf[0] = (uint8_t)(len - 1);
    }
    atapi_reply(d, len, alloc);
}

static void
atapi_cmd_mode_sense6(struct ide_drive *d)
{
    atapi_mode_sense(d, 4, d->cdb[4]);
}

static void
atapi_cmd_mode_sense10(struct ide_drive *d)
{
    atapi_mode_sense(d, 8, be16(d->cdb + 7));
}

/* START STOP UNIT (MMC3 6.1.22): LoEj with Start loads, without ejects. */
static void
atapi_cmd_start_stop(struct ide_drive *d)
{
    bool loej = d->cdb[4] & 0x02, start = d->cdb[4] & 0x01;

    if (!loej) {
        atapi_ok(d);
        return;
    }
    if (!start) {
        if (d->locked) {
            atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 2);
            return;
        }
        d->tray_open = true;
        d->media_event = d->blk ? MEC_MEDIA_REMOVAL : d->media_event;
        DM_LOG_LIMITED(DM_LOG_INFO, "ide%u-cd%u: the guest opened the tray",
                       d->index / 2, d->index % 2);
    } else if (d->tray_open) {
        d->tray_open = false;
        DM_LOG_LIMITED(DM_LOG_INFO, "ide%u-cd%u: the guest closed the tray",
                       d->index / 2, d->index % 2);
        if (d->blk) {
            d->media_event = MEC_NEW_MEDIA;
            d->ua = true;
        }
    }
    atapi_ok(d);
}

/* PREVENT ALLOW MEDIUM REMOVAL (MMC3 6.1.11). */
static void
atapi_cmd_prevent_allow(struct ide_drive *d)
{
    d->locked = d->cdb[4] & 0x01;
    atapi_ok(d);
}

/* READ CAPACITY (MMC3 6.1.19): last LBA and the block length. */
static void
atapi_cmd_read_capacity(struct ide_drive *d)
{
    put_be32(d->buf, d->cd_sectors ? d->cd_sectors - 1 : 0);
    put_be32(d->buf + 4, CD_SECTOR);
    atapi_reply(d, 8, 8);
}

static void
put_msf(uint8_t *p, uint32_t lba)
{
    uint32_t f = lba + 150;         /* 2 s pre-gap (MMC3 annex H) */

    p[0] = (uint8_t)(f / (75 * 60));
    p[1] = (uint8_t)((f / 75) % 60);
    p[2] = (uint8_t)(f % 75);
}

static void
put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        p[0] = 0;
        put_msf(p + 1, lba);
    } else {
        put_be32(p, lba);
    }
}

/* TOC format 0 (MMC3 6.1.33.2.1): track 1 and the lead-out. */
static uint32_t
toc_format0(struct ide_drive *d, bool msf, unsigned int start)
{
    uint8_t *p = d->buf + 4;

    if (start > 1 && start != 0xaa) {
        return 0;
    }
    if (start <= 1) {
        p[0] = 0;
        p[1] = 0x14;                /* ADR 1, data track */
        p[2] = 1;
        p[3] = 0;
        put_addr(p + 4, 0, msf);
        p += 8;
    }
    p[0] = 0;
    p[1] = 0x14;
    p[2] = 0xaa;
    p[3] = 0;
    put_addr(p + 4, d->cd_sectors, msf);
    p += 8;
    return (uint32_t)(p - d->buf);
}

/* TOC format 1 (MMC3 6.1.33.2.2): session information. */
static uint32_t
toc_format1(struct ide_drive *d, bool msf, unsigned int start)
{
    uint8_t *p = d->buf + 4;

    memset(p, 0, 8);
    p[1] = 0x14;
    p[2] = 1;                       /* first track in the last session */
    put_addr(p + 4, 0, msf);
    return 12;
}

static void
toc_raw_entry(uint8_t *p, uint8_t point, uint32_t lba, uint8_t pmin)
{
    memset(p, 0, 11);
    p[0] = 1;                       /* session */
    p[1] = 0x14;
    p[3] = point;
    if (pmin) {
        p[8] = pmin;                /* first/last track number */
    } else {
        put_msf(p + 8, lba);
    }
}

/* TOC format 2 (MMC3 6.1.33.2.3): raw TOC, A0h-A2h and track 1. */
static uint32_t
toc_format2(struct ide_drive *d, bool msf, unsigned int start)
{
    uint8_t *p = d->buf + 4;

    toc_raw_entry(p, 0xa0, 0, 1);
    toc_raw_entry(p + 11, 0xa1, 0, 1);
    toc_raw_entry(p + 22, 0xa2, d->cd_sectors, 0);
    toc_raw_entry(p + 33, 0x01, 0, 0);
    return 4 + 44;
}

static uint32_t (*const toc_formats[])(struct ide_drive *d, bool msf,
                                       unsigned int start) = {
    toc_format0, toc_format1, toc_format2,
};

/* READ TOC/PMA/ATIP (MMC3 6.1.33). */
static void
atapi_cmd_read_toc(struct ide_drive *d)
{
    unsigned int format = d->cdb[2] & 0x0f;
    bool msf = d->cdb[1] & 0x02;
    uint32_t len;

    if (format == 0) {
        format = d->cdb[9] >> 6;    /* the older vendor-field form */
    }
    len = format < G_N_ELEMENTS(toc_formats) ?
          toc_formats[format](d, msf, d->cdb[6]) : 0;
    if (len == 0) {
        atapi_invalid_field(d);
        return;
    }
    put_be16(d->buf, len - 2);
    d->buf[2] = 1;                  /* first track or session */
    d->buf[3] = 1;                  /* last */
    atapi_reply(d, len, be16(d->cdb + 7));
}

static uint16_t
atapi_profile(const struct ide_drive *d)
{
    if (!atapi_medium_ready(d)) {
        return PROFILE_NONE;
    }
    return d->cd_sectors > CD_MAX_SECTORS ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
}

static uint32_t
feat_profiles(const struct ide_drive *d, uint8_t *p)
{
    uint16_t cur = atapi_profile(d);

    memset(p, 0, 12);
    p[2] = 0x03;                    /* persistent, current */
    p[3] = 8;
    put_be16(p + 4, PROFILE_DVD_ROM);
    p[6] = cur == PROFILE_DVD_ROM;
    put_be16(p + 8, PROFILE_CD_ROM);
    p[10] = cur == PROFILE_CD_ROM;
    return 12;
}

static uint32_t
feat_core(const struct ide_drive *d, uint8_t *p)
{
    memset(p, 0, 12);
    put_be16(p, 0x0001);
    p[2] = 0x0b;                    /* version 2, persistent, current */
    p[3] = 8;
    put_be32(p + 4, 2);             /* physical interface: ATAPI */
    return 12;
}

static uint32_t
feat_morphing(const struct ide_drive *d, uint8_t *p)
{
    memset(p, 0, 8);
    put_be16(p, 0x0002);
    p[2] = 0x07;                    /* version 1, persistent, current */
    p[3] = 4;
    p[4] = 0x02;                    /* OCEvent: GESN polling */
    return 8;
}

static uint32_t
feat_removable(const struct ide_drive *d, uint8_t *p)
{
    memset(p, 0, 8);
    put_be16(p, 0x0003);
    p[2] = 0x03;
    p[3] = 4;
    p[4] = 0x29;                    /* tray, eject, lock */
    return 8;
}

static const struct {
    uint16_t code;
    uint32_t (*fill)(const struct ide_drive *d, uint8_t *p);
} atapi_features[] = {
    { 0x0000, feat_profiles },
    { 0x0001, feat_core },
    { 0x0002, feat_morphing },
    { 0x0003, feat_removable },
};

/* GET CONFIGURATION (MMC3 6.1.4): RT 0 and 1 from a start, 2 just one. */
static void
atapi_cmd_get_configuration(struct ide_drive *d)
{
    unsigned int rt = d->cdb[1] & 0x03;
    uint32_t start = be16(d->cdb + 2), len = 8;
    size_t i;

    if (rt == 3) {
        atapi_invalid_field(d);
        return;
    }
    memset(d->buf, 0, 8);
    put_be16(d->buf + 6, atapi_profile(d));
    for (i = 0; i < G_N_ELEMENTS(atapi_features); i++) {
        uint16_t code = atapi_features[i].code;

        if (rt == 2 ? code == start : code >= start) {
            len += atapi_features[i].fill(d, d->buf + len);
        }
    }
    put_be32(d->buf, len - 4);
    atapi_reply(d, len, be16(d->cdb + 7));
}

/* GET EVENT STATUS NOTIFICATION (MMC3 6.1.6): polled, media class only. */
static void
atapi_cmd_gesn(struct ide_drive *d)
{
    uint8_t *b = d->buf;
    uint32_t len = 4;

    if (!(d->cdb[1] & 0x01)) {
        atapi_invalid_field(d);     /* asynchronous mode */
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;                    /* supported: media */
    if (d->cdb[4] & 0x10) {
        b[2] = 0x04;                /* media class */
        b[4] = d->media_event;
        b[5] = (uint8_t)((d->blk ? 0x02 : 0) | (d->tray_open ? 0x01 : 0));
        d->media_event = MEC_NO_CHANGE;
        len = 8;
    } else {
        b[2] = 0x80;                /* NEA: no event available */
    }
    put_be16(b, len - 2);
    atapi_reply(d, len, be16(d->cdb + 7));
}

/* READ DISC INFORMATION (MMC3 6.1.21): one complete session, one track. */
static void
atapi_cmd_disc_info(struct ide_drive *d)
{
    uint8_t *b = d->buf;

    if (d->cdb[1] & 0x07) {
        atapi_invalid_field(d);
        return;
    }
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 0x0e;                    /* last session and disc complete */
    b[3] = 1;                       /* first track */
    b[4] = 1;                       /* sessions */
    b[5] = 1;                       /* first track of the last session */
    b[6] = 1;                       /* last track of the last session */
    put_be32(b + 16, 0xffffffff);   /* no lead-in of a next session */
    put_be32(b + 20, 0xffffffff);
    atapi_reply(d, 34, be16(d->cdb + 7));
}

/* MECHANISM STATUS (MMC3 6.1.9): no changer, door state. */
static void
atapi_cmd_mechanism_status(struct ide_drive *d)
{
    memset(d->buf, 0, 8);
    d->buf[1] = d->tray_open ? 0x10 : 0;
    atapi_reply(d, 8, be16(d->cdb + 8));
}

static void
atapi_cmd_set_speed(struct ide_drive *d)
{
    atapi_ok(d);
}

static const struct atapi_cmd atapi_cmd_table[0x100] = {
    [0x00] = { atapi_cmd_test_unit_ready, ATAPI_CHECK_READY | ATAPI_NONDATA },
    [0x03] = { atapi_cmd_request_sense, ATAPI_ALLOW_UA },
    [0x12] = { atapi_cmd_inquiry, ATAPI_ALLOW_UA },
    [0x1a] = { atapi_cmd_mode_sense6, 0 },
    [0x1b] = { atapi_cmd_start_stop, ATAPI_NONDATA },
    [0x1e] = { atapi_cmd_prevent_allow, ATAPI_NONDATA },
    [0x25] = { atapi_cmd_read_capacity, ATAPI_CHECK_READY },
    [0x28] = { atapi_cmd_read10, ATAPI_CHECK_READY },
    [0x43] = { atapi_cmd_read_toc, ATAPI_CHECK_READY },
    [0x46] = { atapi_cmd_get_configuration, ATAPI_ALLOW_UA },
    [0x4a] = { atapi_cmd_gesn, ATAPI_ALLOW_UA },
    [0x51] = { atapi_cmd_disc_info, ATAPI_CHECK_READY },
    [0x5a] = { atapi_cmd_mode_sense10, 0 },
    [0xa8] = { atapi_cmd_read12, ATAPI_CHECK_READY },
    [0xbb] = { atapi_cmd_set_speed, ATAPI_NONDATA },
    [0xbd] = { atapi_cmd_mechanism_status, 0 },
    [0xbe] = { atapi_cmd_read_cd, ATAPI_CHECK_READY },
};

/* ---- the PACKET protocol ------------------------------------------------- */

/* PACKET (ATA6 8.21): DRQ for the 12-byte CDB, C/D set, no INTRQ. */
void
atapi_packet_cmd(struct ide_drive *d)
{
    d->bcl = d->lcyl | (uint32_t)d->hcyl << 8;
    ide_pio_start(d, IDE_PIO_OUT, IDE_END_PACKET, sizeof(d->cdb),
                  sizeof(d->cdb));
    d->nsector = ATAPI_INT_COD;
}

void
atapi_cdb_ready(struct ide_drive *d)
{
    const struct atapi_cmd *c;

    memcpy(d->cdb, d->buf, sizeof(d->cdb));
    c = &atapi_cmd_table[d->cdb[0]];
    d->phase = IDE_IDLE;
    d->status = ATA_SR_BSY | ATA_SR_DRDY;
    if (!c->fn) {
        GUEST_ERR("ide%u: ATAPI command %02x not supported", d->index,
                  d->cdb[0]);
        atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        return;
    }
    if (d->ua && !(c->flags & ATAPI_ALLOW_UA)) {
        d->ua = false;
        atapi_error(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        return;
    }
    if ((c->flags & ATAPI_CHECK_READY) && !atapi_medium_ready(d)) {
        atapi_error(d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT,
                    d->tray_open ? 2 : 1);
        return;
    }
    c->fn(d);
}

static void
atapi_identify_words(const struct ide_drive *d, uint16_t *w)
{
    w[0] = 0x85c0;      /* ATAPI, CD-ROM, removable, 50 us DRQ, 12 bytes */
    ide_put_str(&w[10], d->serial, 10);
    ide_put_str(&w[23], ATAPI_REVISION, 4);
    ide_put_str(&w[27], ATAPI_MODEL, 20);
    w[49] = 0x0b00;                 /* IORDY, LBA, DMA */
    w[53] = 0x0006;                 /* words 64-70 and 88 */
    w[63] = (uint16_t)(0x0007 | ide_mode_bit(d, 4));    /* MWDMA 0-2 */
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 120;
    w[71] = w[72] = 30;
    w[80] = 0x00f0;
    w[82] = w[85] = 0x4210;         /* NOP, DEVICE RESET, PACKET */
    w[83] = w[84] = w[87] = 0x4000;
    w[88] = (uint16_t)(0x003f | ide_mode_bit(d, 8));    /* UDMA 0-5 */
    w[93] = 0x6001 | (d->unit ? 0x0100 : 0x0008);
}

/* IDENTIFY PACKET DEVICE (ATA6 8.16). */
void
atapi_identify(struct ide_drive *d)
{
    uint16_t w[256] = { 0 };

    atapi_identify_words(d, w);
    ide_identify_out(d, w);
}

/* ---- reset and media ----------------------------------------------------- */

void
atapi_reset(struct ide_drive *d, bool power_on)
{
    d->sense_key = SENSE_NONE;
    d->asc = d->ascq = 0;
    d->atapi_left = 0;
    d->bcl = 0;
    memset(d->cdb, 0, sizeof(d->cdb));
    if (power_on) {
        d->ua = false;
        d->locked = false;
        d->media_event = MEC_NO_CHANGE;
        d->tray_open = d->blk == NULL && d->tray_open;
    }
}

/* Host media change: blk replaces the medium (NULL: tray open, empty). */
void
atapi_set_medium(struct ide_drive *d, struct blk *blk)
{
    ide_drive_drain(d);
    if (d->phase != IDE_IDLE) {
        d->phase = IDE_IDLE;
        d->dma = IDE_DMA_NONE;
        d->status = ATA_SR_DRDY | ATA_SR_DSC;
    }
    if (d->blk) {
        blk_close(d->blk);
    }
    d->blk = blk;
    d->cd_sectors = blk ? (uint32_t)MIN(blk_size(blk) / CD_SECTOR,
                                        UINT32_MAX) : 0;
    d->locked = false;
    if (blk) {
        d->tray_open = false;
        d->ua = true;
        d->media_event = MEC_NEW_MEDIA;
    } else {
        d->tray_open = true;
        d->ua = false;
        d->media_event = MEC_MEDIA_REMOVAL;
    }
}
