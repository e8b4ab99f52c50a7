/*
 * ACPI tables for hvmdm's board (ACPI Specification 6.4, chapter 5):
 * RSDP, RSDT, XSDT, FADT, FACS, MADT, HPET, WAET, the DSDT compiled from
 * dsdt.asl at build time (patched with this guest's numbers) and the S3/S4
 * SSDTs. Pure: builds into a struct fw_area.
 */
#ifndef HVMLOADER_ACPI_H
#define HVMLOADER_ACPI_H

#include "firmware/hvmloader/lib.h"

#define ACPI_MAX_VCPUS      128     /* HVM_MAX_VCPUS; dsdt.asl has 128 */
#define ACPI_PMBA           0xb000  /* PIIX4 PMBA as hvmloader sets it */
#define ACPI_PM1A_EVT       0xb000  /* Xen's pmtimer.c, V1 location */
#define ACPI_PM1A_CNT       0xb004  /* hvmdm's piix4pm.c */
#define ACPI_PM_TMR         0xb008  /* Xen's pmtimer.c */
#define ACPI_GPE0           0xafe0  /* hvmdm's piix4pm.c */
#define ACPI_RESET_PORT     0xcf9   /* PIIX3 reset control */
#define ACPI_RESET_VALUE    6
#define LAPIC_BASE          0xfee00000u
#define IOAPIC_BASE         0xfec00000u
#define IOAPIC_ID           1
#define HPET_BASE           0xfed00000u

/* COM ports the DSDT reports present (acpi_config.uarts). */
#define ACPI_UART_COM1      0x01u
#define ACPI_UART_COM2      0x02u

struct acpi_config {
    unsigned nr_vcpus;
    const uint8_t *vcpu_online;     /* bitmap; NULL: all online */
    uint32_t pci_mem_start, pci_mem_end;    /* 32-bit window */
    uint64_t pci_high_start, pci_high_end;  /* 64-bit window (may be empty) */
    uint32_t hpet_id;       /* HPET general capabilities; 0: no HPET */
    uint32_t uarts;
    bool s3, s4;
    const uint8_t *dsdt;    /* AML from iasl */
    uint32_t dsdt_len;
    const uint8_t *ssdt_s3, *ssdt_s4;
    uint32_t ssdt_s3_len, ssdt_s4_len;
    /* VM generation ID (platform/generation-id); 0 and 0: none. */
    uint64_t vm_gen_id[2];
    const uint8_t *ssdt_vgid;
    uint32_t ssdt_vgid_len;
};

/* Where the tables went (guest-physical), for the info block and tests. */
struct acpi_result {
    uint32_t rsdp, rsdt, xsdt, fadt, facs, dsdt, madt, hpet, waet;
    uint32_t ssdt[3];
    uint32_t vm_gen_id;     /* the 16-byte ID, for Xen's parameter */
};

int acpi_build(struct fw_area *a, const struct acpi_config *c,
               struct acpi_result *r);

/* APIC ID of vCPU i (Xen gives vCPU i the LAPIC ID 2i). */
unsigned acpi_lapic_id(unsigned vcpu);

/*
 * Replace the value of "Name (NAME, placeholder)" in AML: the NameOp,
 * the four-character name, then a DWord (0x0C) or QWord (0x0E) constant.
 * Returns the number of places patched (the header checksum is not
 * updated).
 */
int aml_patch_name(uint8_t *aml, uint32_t len, const char *name,
                   uint64_t value);

/* The AML of dsdt.asl and the SSDTs, from iasl (aml.c). */
extern const uint8_t *const hvmdm_dsdt_aml, *const hvmdm_ssdt_s3_aml,
    *const hvmdm_ssdt_s4_aml, *const hvmdm_ssdt_vgid_aml;
extern const uint32_t hvmdm_dsdt_aml_len, hvmdm_ssdt_s3_aml_len,
    hvmdm_ssdt_s4_aml_len, hvmdm_ssdt_vgid_aml_len;

#endif
