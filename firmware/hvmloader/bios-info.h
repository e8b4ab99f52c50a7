/*
 * The SeaBIOS info block at 0x1000 (shared/docs/xen-dm-interface.md 6.6;
 * SeaBIOS src/fw/xen.c reads it). Pure.
 */
#ifndef HVMLOADER_BIOS_INFO_H
#define HVMLOADER_BIOS_INFO_H

#include "firmware/hvmloader/e820.h"

#define BIOS_INFO_ADDR  0x1000u
#define BIOS_INFO_MAX_TABLES 4

struct bios_info {
    char signature[14];         /* "XenHVMSeaBIOS" */
    uint8_t length;
    uint8_t checksum;
    uint32_t tables;
    uint32_t tables_nr;
    uint32_t e820;
    uint32_t e820_nr;
} __attribute__((packed));

/*
 * Fill the block at the start of area a (which must be at
 * BIOS_INFO_ADDR in the guest), followed by the table pointers (RSDP, MP,
 * SMBIOS, $PIR; zeros are left out) and the E820 map.
 */
int bios_info_build(struct fw_area *a, const uint32_t tables[4],
                    const struct e820_map *m);

#endif
