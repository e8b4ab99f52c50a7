/*
 * Intel MultiProcessor Specification 1.4 tables and the PCI IRQ Routing
 * Table ($PIR, Microsoft PCI IRQ Routing Table Specification 1.0), both
 * from pci-route.c's rules. Pure.
 */
#ifndef HVMLOADER_MPTABLE_H
#define HVMLOADER_MPTABLE_H

#include "firmware/hvmloader/lib.h"

/*
 * The MP floating pointer's address, or 0. PCI INTx entries are written
 * for the device slots set in intx_slots only: SeaBIOS copies MP tables of
 * at most 600 bytes into the F segment.
 */
uint32_t mptable_build(struct fw_area *a, unsigned nr_vcpus,
                       const uint8_t *vcpu_online, uint32_t intx_slots);

/* The $PIR table's address, or 0. */
uint32_t pir_build(struct fw_area *a);

#endif
