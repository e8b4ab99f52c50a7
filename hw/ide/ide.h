/*
 * The PIIX3 IDE function (00:01.1): two compatibility-mode channels with
 * ATA disks and ATAPI CD-ROMs, bus-master DMA in BAR4 (hw/ide/ sources).
 */
#ifndef HW_IDE_IDE_H
#define HW_IDE_IDE_H

#include <stdbool.h>
#include <stddef.h>

struct blk_stats;
struct dm;
struct dm_config;

int piix_ide_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

/*
 * Host-side media change of the CD-ROM at IDE position index (0..3), for
 * the QMP eject and blockdev-change-medium commands. path NULL or "" ejects
 * (opens the tray, leaves it empty); otherwise the image is opened with
 * format (NULL = raw) and inserted. A guest lock (PREVENT ALLOW MEDIUM
 * REMOVAL) refuses an eject unless force. Returns 0 or -errno with a
 * message in err.
 */
int ide_cd_change_media(struct dm *dm, int index, const char *path,
                        const char *format, bool force, char *err,
                        size_t errlen);
int ide_cd_eject(struct dm *dm, int index, bool force, char *err,
                 size_t errlen);

/*
 * Xen platform unplug (hvm-emulated-unplug): flush and detach the IDE hard
 * disks, CD-ROMs stay; with aux_only the primary master stays too. The
 * drives read as absent afterwards and the bus-master engine of their
 * channel is stopped. Returns a mask of the positions unplugged (bit 0 primary master,
 * bit 1 primary slave, bit 2 secondary master, bit 3 secondary slave).
 */
unsigned int ide_unplug_disks(struct dm *dm, bool aux_only);

/* The medium at IDE position index now (query-block, info block); false
 * when there is no drive there. */
struct qmp_medium;
bool ide_medium(struct dm *dm, int index, struct qmp_medium *out);

/* Block statistics of IDE position index for QMP query-blockstats; false
 * when the position has no image (absent drive or empty CD-ROM). */
bool ide_blk_stats(struct dm *dm, int index, struct blk_stats *out);

#endif
