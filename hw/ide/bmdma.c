/*
 * The PIIX3 bus master (BMIBA, BAR4): per channel a command register
 * (+0), a status register (+2) and the PRD table pointer (+4). Reference:
 * Bus Master Programming Interface for IDE ATA Controllers rev 1.0
 * ("BMIDE"): 1.2 (PRD format), 2 (registers), 3 (status interpretation);
 * PIIX3 datasheet 2.7 (BMIBA registers).
 *
 * A transfer is one block request per ATA command: the PRD table is copied
 * entry by entry (8 bytes each, at most BM_PRD_MAX), the regions become an
 * iovec of gm_map() pieces, and the request goes to the block layer in one
 * piece. When the pieces cannot all be mapped (a full map cache) the data
 * goes through a bounce buffer of at most BM_BOUNCE_MAX bytes and
 * gm_read/gm_write, one block request per bounce-full (a request never
 * allocates more, issue 14). A table that is not guest RAM or never ends
 * is a bus error: error bit and interrupt.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "block/block.h" /* blk_preadv, blk_pwritev */
#include "dm/gmem.h"     /* gm_map, gm_read, gm_write */
#include "dm/log.h"      /* GUEST_ERR */
#include "dm/machine.h"  /* dm->gm */
#include "hw/ide/internal.h"

#define BM_ENTRY_SIZE       8
#define BM_PRD_EOT          0x80000000u     /* BMIDE 1.2: end of table */
#define BM_PRD_MAX_BYTES    0x10000u        /* 0 in the count: 64 KiB */
/* Distinct map-cache buckets one request may pin, at most a quarter of the
 * cache (both channels together never pin half of it); beyond: bounce. A
 * Linux request of 128 scattered 4 KiB pages needs up to 128. */
#define BM_MAX_PINNED       128
/* The bounce buffer, when the transfer cannot be mapped: streamed. */
#define BM_BOUNCE_MAX       (256u * 1024)
#define BM_STATUS_WMASK     (BM_ST_DMA0 | BM_ST_DMA1)
#define BM_STATUS_W1C       (BM_ST_ERROR | BM_ST_INTR)

enum bm_walk {
    BM_WALK_OK,
    BM_WALK_SHORT,      /* the table ended before the transfer */
    BM_WALK_FAULT,      /* unreadable table or no end within the cap */
};

struct bm_piece {
    uint64_t gpa;
    uint32_t len;
};

struct bm_req {
    struct ide_drive *d;
    struct gmem *gm;
    uint32_t len;
    bool to_mem;                    /* the bus master writes memory */
    bool exact;                     /* the table ends with the transfer */
    unsigned int npieces;
    struct bm_piece piece[BM_PRD_MAX];
    unsigned int niov;
    struct iovec iov[2 * BM_PRD_MAX];
    uint8_t *bounce;                /* BM_BOUNCE_MAX at most */
    uint32_t done;                  /* bytes moved through the bounce */
    uint32_t chunk;                 /* bytes of the bounce request */
};

static uint32_t
le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* ---- PRD table ----------------------------------------------------------- */

/* Copy each entry once, then use the copy (rule 5; BMIDE 1.2). */
static enum bm_walk
bm_walk(struct ide_channel *ch, struct bm_req *r)
{
    uint32_t covered = 0;
    unsigned int i;

    for (i = 0; i < BM_PRD_MAX; i++) {
        uint8_t e[BM_ENTRY_SIZE];
        uint32_t cnt, take, flags;

        if (gm_read(r->gm, (uint64_t)ch->bm.prdt + i * BM_ENTRY_SIZE, e,
                    sizeof(e)) < 0) {
            GUEST_ERR("ide: PRD table at 0x%x is not guest RAM", ch->bm.prdt);
            return BM_WALK_FAULT;
        }
        flags = le32(e + 4);
        cnt = flags & 0xfffe;
        cnt = cnt ? cnt : BM_PRD_MAX_BYTES;
        take = MIN(cnt, r->len - covered);
        r->piece[r->npieces].gpa = le32(e) & ~1u;
        r->piece[r->npieces++].len = take;
        covered += take;
        if (covered == r->len) {
            r->exact = (flags & BM_PRD_EOT) && take == cnt;
            return BM_WALK_OK;
        }
        if (flags & BM_PRD_EOT) {
            return BM_WALK_SHORT;
        }
    }
    GUEST_ERR("ide: PRD table at 0x%x has no end in %u entries",
              ch->bm.prdt, BM_PRD_MAX);
    return BM_WALK_FAULT;
}

/* ---- guest memory -------------------------------------------------------- */

static void
bm_unmap(struct bm_req *r, bool written)
{
    unsigned int i;

    for (i = 0; i < r->niov; i++) {
        gm_unmap(r->gm, r->iov[i].iov_base, r->iov[i].iov_len, written);
    }
    r->niov = 0;
}

static bool
bm_pin_ok(uint64_t *bkt, unsigned int *nbkt, unsigned int max, uint64_t gpa)
{
    uint64_t b = gpa >> GM_BUCKET_SHIFT;
    unsigned int i;

    for (i = 0; i < *nbkt; i++) {
        if (bkt[i] == b) {
            return true;
        }
    }
    if (*nbkt == max) {
        return false;
    }
    bkt[(*nbkt)++] = b;
    return true;
}

/* Do the pieces lie in at most max buckets? Checked before mapping any,
 * so a transfer that will bounce maps (and evicts) nothing first. */
static bool
bm_buckets_fit(const struct bm_req *r, unsigned int max)
{
    uint64_t bkt[BM_MAX_PINNED];
    unsigned int nbkt = 0, i;
    uint64_t gpa;

    for (i = 0; i < r->npieces; i++) {
        uint64_t end = r->piece[i].gpa + r->piece[i].len;

        for (gpa = r->piece[i].gpa; gpa < end;
             gpa = (gpa | (GM_BUCKET_SIZE - 1)) + 1) {
            if (!bm_pin_ok(bkt, &nbkt, max, gpa)) {
                return false;
            }
        }
    }
    return true;
}

/* Zero-copy: every piece mapped, or nothing (false). */
static bool
bm_map(struct bm_req *r)
{
    uint64_t bkt[BM_MAX_PINNED];
    unsigned int max = MIN(BM_MAX_PINNED, gm_capacity(r->gm) / 4);
    unsigned int nbkt = 0, i;

    if (!bm_buckets_fit(r, max)) {
        return false;
    }

    for (i = 0; i < r->npieces; i++) {
        uint32_t off = 0;

        while (off < r->piece[i].len) {
            uint64_t gpa = r->piece[i].gpa + off;
            size_t n = r->piece[i].len - off;
            int err;
            void *p;

            if (r->niov == G_N_ELEMENTS(r->iov) ||
                !bm_pin_ok(bkt, &nbkt, max, gpa)) {
                bm_unmap(r, false);
                return false;
            }
            p = gm_map(r->gm, gpa, &n, r->to_mem, &err);
            if (!p) {
                bm_unmap(r, false);
                return false;
            }
            r->iov[r->niov].iov_base = p;
            r->iov[r->niov++].iov_len = n;
            off += (uint32_t)n;
        }
    }
    return true;
}

/*
 * Copy bytes [skip, skip + len) of the transfer between buf and the PRD
 * regions; false when a region is not guest RAM.
 */
static bool
bm_copy_range(struct bm_req *r, uint8_t *buf, uint32_t skip, uint32_t len,
              bool to_mem)
{
    uint32_t pos = 0, done = 0;
    unsigned int i;

    for (i = 0; i < r->npieces && done < len; pos += r->piece[i++].len) {
        const struct bm_piece *p = &r->piece[i];
        uint32_t in, n;
        int rc;

        if (skip >= pos + p->len) {
            continue;
        }
        in = skip + done - pos;
        n = MIN(p->len - in, len - done);
        rc = to_mem ? gm_write(r->gm, p->gpa + in, buf + done, n)
                    : gm_read(r->gm, p->gpa + in, buf + done, n);
        if (rc < 0) {
            GUEST_ERR("ide: PRD region 0x%" PRIx64 "+%u is not guest RAM",
                      p->gpa, p->len);
            return false;
        }
        done += n;
    }
    return true;
}

static bool
bm_copy(struct bm_req *r, uint8_t *buf, bool to_mem)
{
    return bm_copy_range(r, buf, 0, r->len, to_mem);
}

/* ---- completion ---------------------------------------------------------- */

static void
bm_device_done(struct ide_drive *d, long ret)
{
    if (d->kind == IDE_CD) {
        atapi_dma_done(d, ret);
    } else {
        ata_dma_done(d, ret);
    }
}

/* A bus error (master abort): BMIDE 2.2 error bit with the interrupt. */
static void
bm_fault(struct ide_drive *d)
{
    struct ide_channel *ch = d->ch;

    ch->bm.status = (uint8_t)((ch->bm.status & ~BM_ST_ACTIVE) |
                              BM_ST_ERROR | BM_ST_INTR);
    bm_device_done(d, -EFAULT);
}

static void
bm_free(struct bm_req *r)
{
    g_free(r->bounce);
    g_free(r);
}

static void
bm_finish(struct bm_req *r, long ret)
{
    struct ide_drive *d = r->d;

    /* BMIDE 3: active clears when the table was used up exactly. */
    if (r->exact || ret < 0) {
        d->ch->bm.status &= (uint8_t)~BM_ST_ACTIVE;
    }
    bm_device_done(d, ret);
    bm_free(r);
}

static void
bm_blk_cb(void *opaque, long ret)
{
    struct bm_req *r = opaque;

    r->d->inflight = false;
    bm_unmap(r, r->to_mem && ret > 0);
    bm_finish(r, ret);
}

/* ---- the bounce buffer, a piece at a time ------------------------------ */

static void bm_bounce_next(struct bm_req *r);

static void
bm_bounce_cb(void *opaque, long ret)
{
    struct bm_req *r = opaque;

    r->d->inflight = false;
    if (ret != (long)r->chunk) {
        bm_finish(r, ret < 0 ? ret : (long)r->done + ret);
        return;
    }
    if (r->to_mem && !bm_copy_range(r, r->bounce, r->done, r->chunk, true)) {
        bm_fault(r->d);
        bm_free(r);
        return;
    }
    r->done += r->chunk;
    if (r->done < r->len) {
        bm_bounce_next(r);
    } else {
        bm_finish(r, r->len);
    }
}

static void
bm_bounce_next(struct bm_req *r)
{
    struct ide_drive *d = r->d;
    struct iovec v;
    int rc;

    r->chunk = MIN(r->len - r->done, BM_BOUNCE_MAX);
    if (!r->to_mem &&
        !bm_copy_range(r, r->bounce, r->done, r->chunk, false)) {
        bm_fault(d);
        bm_free(r);
        return;
    }
    v.iov_base = r->bounce;
    v.iov_len = r->chunk;
    d->inflight = true;
    rc = r->to_mem
        ? blk_preadv(d->blk, d->dma_off + r->done, &v, 1, bm_bounce_cb, r)
        : blk_pwritev(d->blk, d->dma_off + r->done, &v, 1, bm_bounce_cb, r);
    if (rc < 0) {
        bm_bounce_cb(r, rc);
    }
}

/* ---- starting a transfer ------------------------------------------------- */

static void
bm_submit(struct bm_req *r)
{
    struct ide_drive *d = r->d;
    int rc;

    d->phase = IDE_BUSY;
    d->status = ATA_SR_BSY | ATA_SR_DRDY | ATA_SR_DSC;
    if (!bm_map(r)) {
        r->bounce = g_malloc(MIN(r->len, BM_BOUNCE_MAX));
        bm_bounce_next(r);
        return;
    }
    d->inflight = true;
    if (r->to_mem) {
        rc = blk_preadv(d->blk, d->dma_off, r->iov, (int)r->niov, bm_blk_cb,
                        r);
    } else {
        rc = blk_pwritev(d->blk, d->dma_off, r->iov, (int)r->niov,
                         bm_blk_cb, r);
    }
    if (rc < 0) {
        bm_blk_cb(r, rc);
    }
}

/* ATAPI replies built in the drive's buffer: copied out at once. */
static void
bm_buf_out(struct bm_req *r)
{
    if (r->len > IDE_BUF_SIZE || !bm_copy(r, r->d->buf, true)) {
        bm_fault(r->d);
        bm_free(r);
        return;
    }
    bm_finish(r, r->len);
}

/* A table smaller than the transfer (BMIDE 3: interrupt 0, active 0). */
static void
bm_short(struct ide_drive *d)
{
    GUEST_ERR("ide%u: PRD table shorter than the %u-byte transfer",
              d->index, d->dma_len);
    d->ch->bm.status &= (uint8_t)~BM_ST_ACTIVE;
    d->phase = IDE_IDLE;
    d->dma = IDE_DMA_NONE;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_ERR;
    d->error = ATA_ER_ABRT;
    if (d->kind == IDE_CD) {
        d->nsector = ATAPI_INT_IO | ATAPI_INT_COD;
    }
}

static void
bm_start(struct ide_drive *d)
{
    struct bm_req *r = g_new0(struct bm_req, 1);
    enum bm_walk w;

    r->d = d;
    r->gm = ide_dm(d)->gm;
    r->len = d->dma_len;
    r->to_mem = d->dma != IDE_DMA_WRITE;
    if (!!(d->ch->bm.cmd & BM_CMD_WRITE) != r->to_mem) {
        GUEST_ERR("ide%u: bus master direction does not match the command",
                  d->index);
    }
    w = bm_walk(d->ch, r);
    if (w != BM_WALK_OK) {
        if (w == BM_WALK_SHORT) {
            bm_short(d);
        } else {
            bm_fault(d);
        }
        bm_free(r);
        return;
    }
    if (d->dma == IDE_DMA_BUF) {
        bm_buf_out(r);
    } else {
        bm_submit(r);
    }
}

/* Start a waiting device if the engine runs (either order works). */
void
bmdma_kick(struct ide_channel *ch)
{
    struct ide_drive *d = ide_cur(ch);

    if (!(ch->bm.cmd & BM_CMD_START) || !(ch->bm.status & BM_ST_ACTIVE)) {
        return;
    }
    if (d->phase != IDE_DMA_WAIT) {
        d = &ch->drv[ch->cur ^ 1];
    }
    if (d->phase == IDE_DMA_WAIT && d->dma != IDE_DMA_NONE) {
        if (d->dma_len == 0) {
            bm_device_done(d, 0);
            return;
        }
        bm_start(d);
    }
}

void
bmdma_dma_ready(struct ide_drive *d)
{
    bmdma_kick(d->ch);
}

/* ---- registers ----------------------------------------------------------- */

/* BMICOM (BMIDE 2.1): start/stop and the direction, fixed while active. */
static void
bm_cmd_write(struct ide_channel *ch, uint8_t val)
{
    bool was = ch->bm.cmd & BM_CMD_START;
    unsigned int u;

    val &= BM_CMD_START | BM_CMD_WRITE;
    if (was && !(val & BM_CMD_START)) {
        /* Stopping aborts a transfer: let it settle first. */
        for (u = 0; u < IDE_UNITS; u++) {
            ide_drive_drain(&ch->drv[u]);
        }
        ch->bm.status &= (uint8_t)~BM_ST_ACTIVE;
        ch->bm.cmd = val;
        return;
    }
    if (was) {
        val = (uint8_t)((val & ~BM_CMD_WRITE) | (ch->bm.cmd & BM_CMD_WRITE));
    }
    ch->bm.cmd = val;
    if (!was && (val & BM_CMD_START)) {
        ch->bm.status |= BM_ST_ACTIVE;
        bmdma_kick(ch);
    }
}

static void
bm_status_write(struct ide_channel *ch, uint8_t val)
{
    uint8_t st = ch->bm.status;

    st &= (uint8_t)~(val & BM_STATUS_W1C);
    st = (uint8_t)((st & ~BM_STATUS_WMASK) | (val & BM_STATUS_WMASK));
    ch->bm.status = st;
}

static uint8_t
bm_read_byte(const struct ide_channel *ch, unsigned int off)
{
    switch (off) {
    case BM_CMD:
        return ch->bm.cmd;
    case BM_STATUS:
        return ch->bm.status;
    case BM_PRDT: case BM_PRDT + 1: case BM_PRDT + 2: case BM_PRDT + 3:
        return (uint8_t)(ch->bm.prdt >> (8 * (off - BM_PRDT)));
    default:
        return 0;
    }
}

uint64_t
bmdma_read(struct ide_channel *ch, unsigned int off, unsigned int size)
{
    uint64_t val = 0;
    unsigned int i;

    for (i = 0; i < size && off + i < 8; i++) {
        val |= (uint64_t)bm_read_byte(ch, off + i) << (8 * i);
    }
    return val;
}

/* BMIDTP (BMIDE 2.3): dword aligned, bits 1:0 read as zero. */
static void
bm_prdt_write(struct ide_channel *ch, unsigned int byte, uint8_t val)
{
    uint32_t shift = 8 * byte;

    ch->bm.prdt = (ch->bm.prdt & ~(0xffu << shift)) | (uint32_t)val << shift;
    ch->bm.prdt &= ~3u;
}

void
bmdma_write(struct ide_channel *ch, unsigned int off, uint32_t val,
            unsigned int size)
{
    unsigned int i;

    for (i = 0; i < size && off + i < 8; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        unsigned int o = off + i;

        if (o == BM_CMD) {
            bm_cmd_write(ch, b);
        } else if (o == BM_STATUS) {
            bm_status_write(ch, b);
        } else if (o >= BM_PRDT) {
            bm_prdt_write(ch, o - BM_PRDT, b);
        }
    }
}

void
bmdma_reset(struct ide_channel *ch)
{
    ch->bm.cmd = 0;
    ch->bm.status = 0;
    ch->bm.prdt = 0;
}
