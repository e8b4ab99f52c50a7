/*
 * What the loader learns and decides on the way, passed from step to step
 * of main() (hvmloader.c).
 */
#ifndef HVMLOADER_LOADER_H
#define HVMLOADER_LOADER_H

#include "firmware/hvmloader/e820.h"
#include "firmware/hvmloader/lib.h"
#include "firmware/hvmloader/pci-alloc.h"
#include "firmware/hvmloader/xen.h"

#define TABLES_SIZE     0x20000u    /* ours, at the top of low RAM */

struct loader {
    uint32_t start_info;
    struct xenbus xb;
    /* hvm_info_table (H: hvm/hvm_info_table.h). */
    unsigned nr_vcpus;
    uint8_t vcpu_online[16];
    uint32_t low_mem_end;
    uint64_t high_mem_end;
    /* The toolstack's memory map. */
    struct e820_entry xen_map[E820_MAX];
    unsigned xen_map_nr;
    /* PCI. */
    struct pci_layout pci;
    uint8_t link_irq[4];
    uint32_t intx_slots;        /* device slots with an INTx pin */
    /* Tables: [tables.phys, low_mem_end) and the pointers for SeaBIOS. */
    struct fw_area tables;
    uint32_t rsdp, mp, smbios, pir;
    /* SeaBIOS. */
    uint32_t bios_start, bios_size;
    const uint8_t *bios_image;
};

/* pci.c */
void pci_setup(struct loader *l);

/* platform.c: the board outside PCI. */
void hvm_info_read(struct loader *l);
void apic_setup(void);
void mtrr_setup(const struct loader *l);
void cmos_setup(const struct loader *l);
uint32_t uart_probe(void);
uint32_t hpet_probe(void);
void acpi_enable_sci(void);

/* smp.c: the other vCPUs get the boot CPU's MTRRs (after mtrr_setup). */
void smp_setup(const struct loader *l);

/* tables.c */
void tables_setup(struct loader *l);
void e820_and_bios_info(struct loader *l);

/* bios.c */
void seabios_find(struct loader *l);
void seabios_load(const struct loader *l);

/* start.S */
void enter_bios(void) __attribute__((noreturn));

#endif
