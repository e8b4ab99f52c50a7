/*
 * The SeaBIOS info block: signature, length and checksum that SeaBIOS's
 * xen_ramsize_preinit validates, the table list xen_biostable_setup
 * copies, and the E820 map it adopts.
 */
#include "firmware/hvmloader/bios-info.h"

int
bios_info_build(struct fw_area *a, const uint32_t tables[4],
                const struct e820_map *m)
{
    struct bios_info *b = fw_alloc(a, sizeof(*b), 16);
    uint32_t *t = fw_alloc(a, 4 * BIOS_INFO_MAX_TABLES, 4);
    struct e820_entry *e = fw_alloc(a, m->nr * sizeof(*e), 4);
    unsigned i, n = 0;

    if (!b || !t || !e) {
        return -1;
    }
    for (i = 0; i < BIOS_INFO_MAX_TABLES; i++) {
        if (tables[i]) {
            t[n++] = tables[i];
        }
    }
    memcpy(e, m->e, m->nr * sizeof(*e));
    memcpy(b->signature, "XenHVMSeaBIOS", 14);
    b->length = sizeof(*b);
    b->tables = fw_phys(a, t);
    b->tables_nr = n;
    b->e820 = fw_phys(a, e);
    b->e820_nr = m->nr;
    b->checksum = fw_checksum(b, b->length);
    return 0;
}
