/*
 * SeaBIOS: the "firmware" module libxl passes (hvm_start_info's module
 * list), copied so that it ends at 1 MiB (shared/docs/
 * xen-dm-interface.md 6.6).
 */
#include "firmware/hvmloader/console.h"
#include "firmware/hvmloader/loader.h"

/* arch-x86/hvm/start_info.h */
struct start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
} __attribute__((packed));

struct start_module {
    uint64_t paddr, size, cmdline_paddr, reserved;
} __attribute__((packed));

void
seabios_find(struct loader *l)
{
    const struct start_info *si = (const void *)l->start_info;
    const struct start_module *m;
    const char *name;
    unsigned i;

    m = (const void *)(uint32_t)si->modlist_paddr;
    for (i = 0; i < si->nr_modules; i++) {
        name = (const char *)(uint32_t)m[i].cmdline_paddr;
        if (m[i].cmdline_paddr && !strcmp(name, "firmware")) {
            break;
        }
    }
    if (i == si->nr_modules) {
        panic("no \"firmware\" module (SeaBIOS) from the toolstack");
    }
    if (m[i].size > 0x40000 || m[i].size < 0x10000 ||
        (m[i].size & 0xffff)) {
        panic("firmware module of %u bytes: want 64-256 KiB",
              (uint32_t)m[i].size);
    }
    l->bios_image = (const uint8_t *)(uint32_t)m[i].paddr;
    l->bios_size = (uint32_t)m[i].size;
    l->bios_start = 0x100000 - l->bios_size;
}

void
seabios_load(const struct loader *l)
{
    printf("Loading SeaBIOS (%u KiB) at 0x%05x\n", l->bios_size >> 10,
           l->bios_start);
    memcpy((void *)l->bios_start, l->bios_image, l->bios_size);
}
