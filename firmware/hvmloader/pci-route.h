/*
 * PCI interrupt routing of the Xen HVM board: the four PIIX3 PIRQ links
 * and the "barber's pole" from a device's INTx pin to a link (and, in APIC
 * mode, to an IOAPIC pin). Pure, shared by pci.c, the DSDT's _PRT
 * generator, the MP table and $PIR, so that they all agree.
 */
#ifndef HVMLOADER_PCI_ROUTE_H
#define HVMLOADER_PCI_ROUTE_H

#include "firmware/hvmloader/lib.h"

#define PCI_ISA_IRQ_MASK    0x0c20u     /* IRQs 5, 10, 11 */
#define PCI_LINKS           4
#define PIIX3_PIRQRC        0x60        /* 82371SB 2.3.x: PIRQRC[A:D] */
#define SCI_IRQ             9

/* The ISA IRQ of each link: round robin over PCI_ISA_IRQ_MASK. */
void pci_link_irqs(uint8_t irq[PCI_LINKS]);

/* ELCR (0x4D0 low byte, 0x4D1 high byte): level for every link IRQ. */
uint16_t pci_elcr(const uint8_t irq[PCI_LINKS]);

/* Link (0 = A) of INTx pin (1 = INTA) of device slot dev. */
unsigned pci_intx_link(unsigned dev, unsigned pin);

/* IOAPIC input of the same pin in APIC mode (Xen's hvm_pci_intx_gsi). */
unsigned pci_intx_gsi(unsigned dev, unsigned pin);

#endif
