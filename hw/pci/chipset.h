/*
 * The chipset functions on bus 0, in the board table's order: the i440FX
 * host bridge (00:00.0), the PIIX3 PCI-ISA bridge (00:01.0) and the PIIX4
 * power management function (00:01.3). Each needs the bus from
 * pci_board_init (hw/pci/pci.h) first.
 */
#ifndef HW_PCI_CHIPSET_H
#define HW_PCI_CHIPSET_H

struct dm;
struct dm_config;

int i440fx_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));
int piix3_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));
int piix4pm_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

/*
 * Set a general-purpose event status bit (0..15) in GPE0_STS; the SCI
 * follows GPE0_STS & GPE0_EN. For event sources such as PCI hotplug.
 */
void piix4pm_gpe_raise(struct dm *dm, unsigned int bit);

/*
 * Press the ACPI power button (ACPI 6.4 4.8.3.1.1 PWRBTN_STS): the guest's
 * OS shuts down cleanly, as when a PC's button is pressed. PM1a_STS lives
 * in the hypervisor on Xen, so this asks it. 0 or -errno.
 */
int piix4pm_power_button(struct dm *dm);

#endif
