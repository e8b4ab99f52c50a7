/*
 * "info pci" for the human monitor (dm/hmp.h): every function on the bus
 * with its identity, interrupt pin and where its BARs decode now, in the
 * shape of QEMU's listing.
 */
#include <glib.h>
#include <inttypes.h>

#include "dm/hmp.h"
#include "dm/machine.h"
#include "dm/qmp-cmd.h"
#include "hw/board.h"
#include "hw/pci/pci.h"

static const struct {
    uint16_t class;             /* base << 8 | sub */
    const char *name;
} pci_class_names[] = {
    { 0x0101, "IDE controller" }, { 0x0200, "Ethernet controller" },
    { 0x0300, "VGA controller" }, { 0x0600, "Host bridge" },
    { 0x0601, "ISA bridge" }, { 0x0680, "Bridge" },
    { 0x0c03, "USB controller" }, { 0xff80, "Class ff80" },
};

static const char *
pci_class_name(uint16_t class)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(pci_class_names); i++) {
        if (pci_class_names[i].class == class) {
            return pci_class_names[i].name;
        }
    }
    return "Device";
}

static void
pci_info_bars(const struct pci_dev *d, GString *out)
{
    unsigned int i;
    uint64_t base, size;

    for (i = 0; i < PCI_NUM_REGIONS; i++) {
        size = d->bars[i].size;
        if (!size || d->bars[i].upper_half) {
            continue;
        }
        base = pci_bar_address(d, i);
        g_string_append_printf(out, "      %s%u: %s at ",
                               i == PCI_ROM_SLOT ? "ROM" : "BAR",
                               i == PCI_ROM_SLOT ? 0 : i,
                               d->bars[i].type == PCI_BAR_IO ? "I/O" :
                               d->bars[i].type == PCI_BAR_MEM64 ?
                               "64 bit memory" : "32 bit memory");
        if (base == UINT64_MAX) {
            g_string_append_printf(out, "(not mapped) [size 0x%" PRIx64
                                   "].\r\n", size);
        } else {
            g_string_append_printf(out, "0x%" PRIx64 " [0x%" PRIx64
                                   "].\r\n", base, base + size - 1);
        }
    }
}

static void
pci_info_dev(const struct pci_dev *d, GString *out)
{
    uint8_t pin = pci_get_byte(d, PCI_INTERRUPT_LINE + 1);

    g_string_append_printf(out, "  Bus  0, device %3u, function %u:\r\n"
                           "    %s: PCI device %04x:%04x (%s)\r\n",
                           d->devfn >> 3, d->devfn & 7,
                           pci_class_name((uint16_t)(d->info->class_code >>
                                                     8)),
                           d->info->vendor_id, d->info->device_id,
                           d->info->name);
    if (pin) {
        g_string_append_printf(out, "      IRQ %u, pin %c.\r\n",
                               pci_get_byte(d, PCI_INTERRUPT_LINE),
                               'A' + (pin - 1) % 4);
    }
    pci_info_bars(d, out);
}

static void
info_pci(struct qmp_req *r, GString *out)
{
    struct dm *dm = qmp_req_dm(r);
    struct pci_dev *d;
    unsigned int devfn;

    if (!dm || !dm->board || !dm->board->pci) {
        return;
    }
    for (devfn = 0; devfn < 256; devfn++) {
        d = pci_bus_find(dm->board->pci, devfn);
        if (d && d->present) {
            pci_info_dev(d, out);
        }
    }
}

static const struct hmp_info pci_infos[] = {
    { "pci", "the PCI functions and their BARs", info_pci },
    { NULL, NULL, NULL },
};

void
pci_info_register(void)
{
    hmp_register_info(pci_infos);
}
