/*
 * The Xen platform PCI device (5853:0001) and the emulated-device unplug
 * protocol at ports 0x10-0x1F (xen-dm-interface.md section 4,
 * X:docs/misc/hvm-emulated-unplug.pandoc). Present with -machine xenfv.
 */
#ifndef HW_XEN_PLATFORM_XEN_PLATFORM_H
#define HW_XEN_PLATFORM_XEN_PLATFORM_H

#include <stdint.h>

struct dm;
struct dm_config;

/* Unplug mask bits written to port 0x10 (hvm-emulated-unplug). */
#define XENPLAT_UNPLUG_IDE_DISKS     0x0001  /* all IDE disks, not CD-ROMs */
#define XENPLAT_UNPLUG_NICS          0x0002  /* all emulated NICs */
#define XENPLAT_UNPLUG_AUX_IDE_DISKS 0x0004  /* all but the primary master */
#define XENPLAT_UNPLUG_NVME_DISKS    0x0008  /* no NVMe here: nothing */

/* What the device did, for tests and the QMP side. */
struct xenplat_stats {
    uint16_t unplugged;         /* unplug bits acted on so far */
    uint16_t product;           /* last product number written */
    uint32_t build;             /* last build number written */
    uint64_t unplug_events;     /* writes that removed something */
    uint64_t log_lines;         /* guest log lines written to our log */
    uint64_t log_dropped;       /* guest log bytes over the rate limit */
    uint8_t blacklisted;
};

int xenplat_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

/* 0 and the counters, or -ENODEV without a platform device. */
int xenplat_get_stats(struct dm *dm, struct xenplat_stats *out);

#endif
