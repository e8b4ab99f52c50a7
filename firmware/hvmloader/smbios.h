/*
 * SMBIOS 2.4 tables (DMTF DSP0134): types 0, 1, 3, 4 (one per vCPU), 16,
 * 17, 19, 32 and 127, strings overridable by the xenstore keys under
 * bios-strings.
 * Pure.
 */
#ifndef HVMLOADER_SMBIOS_H
#define HVMLOADER_SMBIOS_H

#include "firmware/hvmloader/lib.h"

struct smbios_config {
    unsigned nr_vcpus;
    uint32_t cpuid_eax, cpuid_edx;  /* leaf 1: the processor ID */
    uint64_t low_mem;       /* RAM below 4 GiB, bytes (from 0) */
    uint64_t high_mem;      /* RAM above 4 GiB, bytes */
    uint8_t uuid[16];
    /* A bios-strings key ("bios-vendor", ...) or NULL for the default. */
    const char *(*string)(void *opaque, const char *key);
    void *opaque;
};

/* Builds the structures and the entry point; returns its address or 0. */
uint32_t smbios_build(struct fw_area *a, const struct smbios_config *c);

#endif
