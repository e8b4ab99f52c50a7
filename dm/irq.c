/*
 * Interrupt routing to the hypervisor (xen-dm-interface.md 2.3). Xen owns the
 * PIC and IOAPIC; hvmdm only drives levels. Each line's level is cached so a
 * device that re-asserts an asserted line costs no hypercall.
 */
#include "dm/irq.h"

#include <string.h>

#include "dm/hv.h"
#include "dm/log.h"
#include "dm/machine.h"

void
dm_isa_irq_set(struct dm *dm, unsigned int irq, int level)
{
    uint8_t l = level != 0;

    if (irq >= DM_ISA_IRQS) {
        DM_ERR("ISA IRQ %u out of range", irq);
        return;
    }
    if (dm->irq.isa_level[irq] == l) {
        return;
    }
    dm->irq.isa_level[irq] = l;
    dm->hv->ops->set_isa_irq(dm->hv, irq, l);
}

void
dm_isa_irq_pulse(struct dm *dm, unsigned int irq)
{
    dm_isa_irq_set(dm, irq, 1);
    dm_isa_irq_set(dm, irq, 0);
}

int
dm_isa_irq_level(const struct dm *dm, unsigned int irq)
{
    return irq < DM_ISA_IRQS ? dm->irq.isa_level[irq] : 0;
}

void
dm_pci_intx_set(struct dm *dm, unsigned int devfn, unsigned int pin,
                int level)
{
    unsigned int slot = (devfn >> 3) & 31, fn = devfn & 7;
    uint8_t *funcs = &dm->irq.intx_funcs[slot][pin & 3];
    uint8_t before = *funcs != 0;

    if (level) {
        *funcs |= (uint8_t)(1u << fn);
    } else {
        *funcs &= (uint8_t)~(1u << fn);
    }
    if ((*funcs != 0) != before) {
        dm->hv->ops->set_pci_intx(dm->hv, slot, pin & 3, *funcs != 0);
    }
}

/* PIIX3 PIRQRC[A:D] (PIIX3 datasheet 2.3.8): bit 7 IRQROUTEN disables. */
void
dm_pci_link_route(struct dm *dm, unsigned int link, uint8_t value)
{
    uint8_t irq = (value & 0x80) ? 0 : (value & 0x0f);

    if (link >= 4 || dm->irq.link_route[link] == irq) {
        return;
    }
    dm->irq.link_route[link] = irq;
    dm->hv->ops->set_pci_link_route(dm->hv, link, irq);
}

void
dm_irq_reset(struct dm *dm)
{
    unsigned int i, s, p;

    for (i = 0; i < DM_ISA_IRQS; i++) {
        dm_isa_irq_set(dm, i, 0);
    }
    for (s = 0; s < DM_PCI_SLOTS; s++) {
        for (p = 0; p < 4; p++) {
            if (dm->irq.intx_funcs[s][p]) {
                dm->irq.intx_funcs[s][p] = 0;
                dm->hv->ops->set_pci_intx(dm->hv, s, p, 0);
            }
        }
    }
}
