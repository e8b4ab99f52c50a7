/*
 * hvmloader: the first code of an HVM guest under Xen with hvmdm. It reads
 * what the toolstack left (hvm_start_info, hvm_info_table, xenstore, the
 * memory map), sets up the interrupt controllers and PCI, writes the
 * tables an OS reads (ACPI, SMBIOS, MP, $PIR, E820) and hands the machine
 * to SeaBIOS in real mode. Facts: shared/docs/xen-dm-interface.md 6.
 * main() is the table of contents.
 */
#include "firmware/hvmloader/console.h"
#include "firmware/hvmloader/loader.h"

#define HVM_START_MAGIC 0x336ec578u     /* arch-x86/hvm/start_info.h */

void main(uint32_t start_info) __attribute__((noreturn));

static void
read_platform(struct loader *l)
{
    char bios[16];
    int n;

    if (xenbus_open(&l->xb) < 0) {
        panic("no xenstore ring (HVM_PARAM_STORE_PFN)");
    }
    if (xenbus_read(&l->xb, "hvmloader/bios", bios, sizeof(bios)) == 0 &&
        strcmp(bios, "seabios")) {
        panic("hvmloader/bios is \"%s\": this loader boots SeaBIOS only"
              " (set bios=\"seabios\" in xl.cfg)", bios);
    }
    n = xen_memory_map(l->xen_map, E820_MAX);
    l->xen_map_nr = n > 0 ? (unsigned)n : 0;
}

void
main(uint32_t start_info)
{
    struct loader l;
    uint32_t ver;

    memset(&l, 0, sizeof(l));
    printf("HVM Loader (hvmdm)\n");
    l.start_info = start_info;
    if (*(const uint32_t *)start_info != HVM_START_MAGIC) {
        panic("bad hvm_start_info magic at 0x%x", start_info);
    }
    ver = xen_hypercall_init();
    printf("Detected Xen v%u.%u\n", ver >> 16, ver & 0xffff);
    hvm_info_read(&l);
    read_platform(&l);
    seabios_find(&l);
    apic_setup();
    pci_setup(&l);
    mtrr_setup(&l);
    smp_setup(&l);
    tables_setup(&l);
    cmos_setup(&l);
    e820_and_bios_info(&l);
    seabios_load(&l);
    printf("%u xenstore requests\n", l.xb.reads);
    printf("Invoking SeaBIOS ...\n");
    enter_bios();
}
