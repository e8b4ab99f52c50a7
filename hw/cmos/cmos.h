/*
 * CMOS NVRAM beyond the RTC: indexes 14-127 behind ports 0x70/0x71 (Xen
 * keeps indexes 0-13) and the upper 128 bytes behind 0x72/0x73.
 */
#ifndef HW_CMOS_CMOS_H
#define HW_CMOS_CMOS_H

struct dm;
struct dm_config;

/* Board table entry; fails with a message on a bad -boot order. */
int cmos_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

#endif
