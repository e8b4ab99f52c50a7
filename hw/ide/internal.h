/*
 * Shared state of the IDE model: the PCI function (piix-ide.c), the ATA
 * task file and commands (ata.c), ATAPI packet commands (atapi.c) and the
 * bus master (bmdma.c). References: ATA/ATAPI-6 (T13/1410D rev 3b,
 * "ATA6"), Bus Master Programming Interface for IDE ATA Controllers rev 1.0
 * ("BMIDE"), SCSI Multimedia Commands MMC-3 ("MMC3"), Intel 82371FB/SB
 * PIIX/PIIX3 datasheet (290550-002, "PIIX3").
 */
#ifndef HW_IDE_INTERNAL_H
#define HW_IDE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "dm/dev.h"     /* struct dm_dev */
#include "dm/iomap.h"   /* struct iomap_region */
#include "hw/pci/pci.h" /* struct pci_dev */

struct dm;
struct blk;
struct dm_drive_cfg;

#define IDE_CHANNELS    2
#define IDE_UNITS       2
#define IDE_SECTOR      512
#define CD_SECTOR       2048
/* PIO staging buffer: 128 disk sectors or 32 CD sectors per chunk. */
#define IDE_BUF_SIZE    (64 * 1024)
#define IDE_MAX_MULT    16          /* IDENTIFY word 47 */

/* Command block registers, offsets from 1F0h/170h (ATA6 7.1). */
#define ATA_REG_DATA    0
#define ATA_REG_ERROR   1           /* read; FEATURE on write */
#define ATA_REG_NSECTOR 2
#define ATA_REG_SECTOR  3           /* LBA low */
#define ATA_REG_LCYL    4           /* LBA mid */
#define ATA_REG_HCYL    5           /* LBA high */
#define ATA_REG_SELECT  6           /* device/head */
#define ATA_REG_STATUS  7           /* read; COMMAND on write */

/* Status register (ATA6 7.15.6). */
#define ATA_SR_BSY      0x80
#define ATA_SR_DRDY     0x40
#define ATA_SR_DF       0x20
#define ATA_SR_DSC      0x10
#define ATA_SR_DRQ      0x08
#define ATA_SR_ERR      0x01

/* Error register (ATA6 7.9). */
#define ATA_ER_UNC      0x40
#define ATA_ER_IDNF     0x10
#define ATA_ER_ABRT     0x04

/* Device control register, 3F6h/376h (ATA6 7.8). */
#define ATA_DC_HOB      0x80
#define ATA_DC_SRST     0x04
#define ATA_DC_NIEN     0x02

/* Device register (ATA6 7.10). */
#define ATA_DH_LBA      0x40
#define ATA_DH_DEV      0x10
#define ATA_DH_OBS      0xa0

/* ATAPI interrupt reason in the sector count register (ATA6 8.21). */
#define ATAPI_INT_COD   0x01
#define ATAPI_INT_IO    0x02

/* Bus master registers, per channel (BMIDE section 2). */
#define BM_CMD          0
#define BM_STATUS       2
#define BM_PRDT         4
#define BM_CMD_START    0x01
#define BM_CMD_WRITE    0x08        /* 1: bus master writes memory */
#define BM_ST_ACTIVE    0x01
#define BM_ST_ERROR     0x02
#define BM_ST_INTR      0x04
#define BM_ST_DMA0      0x20
#define BM_ST_DMA1      0x40
/* A PRD table is at most one page of 8-byte entries (issue 4). */
#define BM_PRD_MAX      512

enum ide_kind {
    IDE_NONE,
    IDE_DISK,
    IDE_CD,
};

/* What the drive is doing between register accesses. */
enum ide_phase {
    IDE_IDLE,
    IDE_PIO_IN,         /* guest reads buf[pos, drq_end) */
    IDE_PIO_OUT,        /* guest writes buf[pos, drq_end) */
    IDE_DMA_WAIT,       /* waiting for the bus master to start */
    IDE_BUSY,           /* a block request is in flight */
    IDE_PHASE_NR,
};

/* What follows when a PIO buffer is drained or filled. */
enum ide_end {
    IDE_END_DONE,       /* command complete */
    IDE_END_ATA_READ,   /* read the next chunk or finish */
    IDE_END_ATA_WRITE,  /* write the chunk, then next block or finish */
    IDE_END_PACKET,     /* the CDB has arrived */
    IDE_END_ATAPI_IN,   /* next ATAPI data block or completion */
    IDE_END_NR,
};

/* The data source or sink of a pending DMA (bmdma.c). */
enum ide_dma_kind {
    IDE_DMA_NONE,
    IDE_DMA_READ,       /* disk -> memory, block request */
    IDE_DMA_WRITE,      /* memory -> disk, block request */
    IDE_DMA_BUF,        /* buf[0, len) -> memory (ATAPI replies) */
};

struct ide_channel;

struct ide_drive {
    struct ide_channel *ch;
    unsigned int unit;
    unsigned int index;             /* channel * 2 + unit */
    enum ide_kind kind;
    struct blk *blk;                /* NULL: empty CD drive */
    uint64_t nb_sectors;            /* 512-byte sectors (disk) */
    char serial[21];

    /* Task file (ATA6 7.1); hob_* are the LBA48 previous contents. */
    uint8_t feature, hob_feature;
    uint8_t nsector, hob_nsector;
    uint8_t sector, hob_sector;
    uint8_t lcyl, hob_lcyl;
    uint8_t hcyl, hob_hcyl;
    uint8_t select;
    uint8_t status;
    uint8_t error;
    uint8_t cmd;
    bool intrq;                     /* INTRQ pending */

    /* Settings. */
    uint16_t cyls, heads, secs;     /* default CHS geometry */
    uint16_t cur_heads, cur_secs;   /* INITIALIZE DEVICE PARAMETERS */
    uint8_t mult;                   /* SET MULTIPLE; 0 = disabled */
    uint8_t xfer_mode;              /* SET FEATURES 03h value */
    bool wcache;
    bool standby;

    /* The command in progress. */
    enum ide_phase phase;
    enum ide_end end;
    uint32_t pos, drq_end, buf_len;
    uint32_t drq_size;              /* bytes per DRQ block */
    uint64_t lba;                   /* next sector for the host */
    uint32_t left;                  /* sectors still to move */
    uint32_t chunk;                 /* sectors in the buffer */
    uint32_t drq_sectors;           /* DRQ block size in sectors */
    enum ide_dma_kind dma;
    uint64_t dma_off;               /* byte offset in the image */
    uint32_t dma_len;               /* bytes */
    bool inflight;                  /* a block request is running */

    /* ATAPI. */
    uint8_t cdb[12];
    uint8_t sense_key, asc, ascq;
    bool ua;                        /* UNIT ATTENTION pending */
    bool tray_open;
    bool locked;
    uint8_t media_event;            /* GESN media event code */
    uint32_t bcl;                   /* byte count limit */
    uint32_t atapi_left;            /* sectors still to read */
    uint32_t cd_sectors;            /* 2048-byte sectors of the medium */

    uint8_t *buf;                   /* IDE_BUF_SIZE */
};

struct ide_bm {
    uint8_t cmd;                    /* BMICOM, +0 */
    uint8_t status;                 /* BMISTA, +2 */
    uint32_t prdt;                  /* BMIDTP, +4 */
};

struct ide_channel {
    struct piix_ide *ctl;
    unsigned int idx;
    unsigned int irq;               /* 14 or 15 */
    uint16_t cmd_base, ctl_base;
    struct iomap_region cmd_region;
    struct iomap_region ctl_region;
    bool decoding;
    uint8_t devctl;
    unsigned int cur;               /* selected unit */
    bool irq_level;
    struct ide_bm bm;
    struct ide_drive drv[IDE_UNITS];
};

struct piix_ide {
    struct pci_dev pci;
    struct dm *dm;
    struct ide_channel ch[IDE_CHANNELS];
    struct dm_dev dev;
};

/* piix-ide.c */
void ide_update_irq(struct ide_channel *ch);
struct ide_drive *ide_cur(struct ide_channel *ch);

/* ata.c */
void ide_drive_init(struct ide_drive *d, struct ide_channel *ch,
                    unsigned int unit);
int ide_drive_attach(struct ide_drive *d, struct dm *dm,
                     const struct dm_drive_cfg *cfg);
void ide_drive_detach(struct ide_drive *d);
void ide_drive_unplug(struct ide_drive *d);
void ide_drive_reset(struct ide_drive *d, bool power_on);
void ide_drive_drain(struct ide_drive *d);
void ide_set_irq(struct ide_drive *d);
void ide_set_signature(struct ide_drive *d);
void ide_abort(struct ide_drive *d, uint8_t error);
uint64_t ide_cmd_read(struct ide_channel *ch, unsigned int reg);
void ide_cmd_write(struct ide_channel *ch, unsigned int reg, uint8_t val);
void ide_data_read(struct ide_channel *ch, uint8_t *buf, size_t len);
void ide_data_write(struct ide_channel *ch, const uint8_t *buf, size_t len);
void ide_devctl_write(struct ide_channel *ch, uint8_t val);
uint8_t ide_altstatus(struct ide_channel *ch);
void ide_pio_start(struct ide_drive *d, enum ide_phase phase,
                   enum ide_end end, uint32_t len, uint32_t drq);
struct dm *ide_dm(const struct ide_drive *d);
void ide_put_str(uint16_t *w, const char *s, unsigned int words);
unsigned int ide_mode_bit(const struct ide_drive *d, unsigned int class);
void ide_identify_out(struct ide_drive *d, uint16_t *w);

/* atapi.c */
void atapi_identify(struct ide_drive *d);
void atapi_packet_cmd(struct ide_drive *d);
void atapi_cdb_ready(struct ide_drive *d);
void atapi_pio_block_done(struct ide_drive *d);
void atapi_dma_done(struct ide_drive *d, long ret);
void atapi_reset(struct ide_drive *d, bool power_on);
void atapi_set_medium(struct ide_drive *d, struct blk *blk);

/* bmdma.c */
void bmdma_kick(struct ide_channel *ch);
void bmdma_dma_ready(struct ide_drive *d);
uint64_t bmdma_read(struct ide_channel *ch, unsigned int off,
                    unsigned int size);
void bmdma_write(struct ide_channel *ch, unsigned int off, uint32_t val,
                 unsigned int size);
void bmdma_reset(struct ide_channel *ch);

/* ata.c: DMA completion for ATA commands */
void ata_dma_done(struct ide_drive *d, long ret);

#endif
