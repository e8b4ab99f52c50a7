/*
 * Interrupt lines (xen-dm-interface.md 2.3). Levels are cached so the
 * hypervisor is called only on a change; PCI INTx is the OR of the functions
 * of one slot that assert the same pin.
 */
#ifndef DM_IRQ_H
#define DM_IRQ_H

#include <stdint.h>

struct dm;

#define DM_ISA_IRQS 16
#define DM_PCI_SLOTS 32

struct dm_irq {
    uint8_t isa_level[DM_ISA_IRQS];
    uint8_t intx_funcs[DM_PCI_SLOTS][4];  /* bit per function asserting */
    uint8_t link_route[4];                /* 0 = disabled */
};

void dm_isa_irq_set(struct dm *dm, unsigned int irq, int level);
/* An edge-triggered ISA source: assert then deassert. */
void dm_isa_irq_pulse(struct dm *dm, unsigned int irq);
int dm_isa_irq_level(const struct dm *dm, unsigned int irq);
/* devfn as in PCI config addresses; pin 0..3 = INTA..INTD. */
void dm_pci_intx_set(struct dm *dm, unsigned int devfn, unsigned int pin,
                     int level);
/* PIIX3 PIRQ route register value: bit 7 disables, bits 3:0 the IRQ. */
void dm_pci_link_route(struct dm *dm, unsigned int link, uint8_t value);
void dm_irq_reset(struct dm *dm);

#endif
