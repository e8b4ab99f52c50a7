/*
 * PCI interrupt routing (facts: shared/docs/xen-dm-interface.md 6.3, 6.4;
 * Xen's vioapic routes device d pin p to GSI ((d*4 + d/8 + p) & 31) + 16).
 */
#include "firmware/hvmloader/pci-route.h"

void
pci_link_irqs(uint8_t irq[PCI_LINKS])
{
    unsigned link, bit = 0;

    for (link = 0; link < PCI_LINKS; link++) {
        do {
            bit = (bit + 1) & 15;
        } while (!(PCI_ISA_IRQ_MASK & (1u << bit)));
        irq[link] = (uint8_t)bit;
    }
}

uint16_t
pci_elcr(const uint8_t irq[PCI_LINKS])
{
    uint16_t elcr = 0;
    unsigned link;

    for (link = 0; link < PCI_LINKS; link++) {
        elcr |= (uint16_t)(1u << irq[link]);
    }
    return elcr;
}

unsigned
pci_intx_link(unsigned dev, unsigned pin)
{
    return ((pin - 1) + dev) & 3;
}

unsigned
pci_intx_gsi(unsigned dev, unsigned pin)
{
    return ((dev * 4 + dev / 8 + (pin - 1)) & 31) + 16;
}
