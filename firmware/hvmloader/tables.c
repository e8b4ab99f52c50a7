/*
 * The tables an OS and SeaBIOS read, built by the pure builders into the
 * area at the top of low RAM (reserved in the E820 map): ACPI (when
 * platform/acpi allows), SMBIOS, MP and $PIR; then the E820 map and the
 * SeaBIOS info block at 0x1000.
 */
#include "firmware/hvmloader/acpi.h"
#include "firmware/hvmloader/bios-info.h"
#include "firmware/hvmloader/console.h"
#include "firmware/hvmloader/io.h"
#include "firmware/hvmloader/loader.h"
#include "firmware/hvmloader/mptable.h"
#include "firmware/hvmloader/smbios.h"

#define VM86_TSS_SIZE   384u

/* A xenstore flag: "1" true, "0" false, absent: def. */
static bool
xs_flag(struct loader *l, const char *key, bool def)
{
    char buf[8];

    if (xenbus_read(&l->xb, key, buf, sizeof(buf)) < 0) {
        return def;
    }
    return strcmp(buf, "0") != 0;
}

/* platform/generation-id: "LOW:HIGH", two decimal 64-bit halves. */
static void
vm_gen_id_read(struct loader *l, uint64_t id[2])
{
    char buf[48], *colon;

    id[0] = id[1] = 0;
    if (xenbus_read(&l->xb, "platform/generation-id", buf, sizeof(buf))) {
        return;
    }
    for (colon = buf; *colon && *colon != ':'; colon++) {
    }
    if (!*colon) {
        return;
    }
    *colon = 0;
    if (!fw_strtou64(buf, &id[0]) || !fw_strtou64(colon + 1, &id[1])) {
        id[0] = id[1] = 0;
    }
}

static void
acpi_setup(struct loader *l)
{
    struct acpi_config c = {
        .nr_vcpus = l->nr_vcpus, .vcpu_online = l->vcpu_online,
        .pci_mem_start = l->pci.mem_start, .pci_mem_end = PCI_HOLE_END,
        .pci_high_start = l->pci.high_start,
        .pci_high_end = l->pci.high_end,
        .hpet_id = hpet_probe(), .uarts = uart_probe(),
        .s3 = xs_flag(l, "platform/acpi_s3", false),
        .s4 = xs_flag(l, "platform/acpi_s4", false),
        .dsdt = hvmdm_dsdt_aml, .dsdt_len = hvmdm_dsdt_aml_len,
        .ssdt_s3 = hvmdm_ssdt_s3_aml, .ssdt_s3_len = hvmdm_ssdt_s3_aml_len,
        .ssdt_s4 = hvmdm_ssdt_s4_aml, .ssdt_s4_len = hvmdm_ssdt_s4_aml_len,
    };
    struct acpi_result r;

    vm_gen_id_read(l, c.vm_gen_id);
    c.ssdt_vgid = hvmdm_ssdt_vgid_aml;
    c.ssdt_vgid_len = hvmdm_ssdt_vgid_aml_len;
    if (c.pci_high_end == c.pci_high_start) {
        c.pci_high_start = c.pci_high_end = 0;
    }
    if (acpi_build(&l->tables, &c, &r) < 0) {
        panic("ACPI tables do not fit in %u KiB", TABLES_SIZE >> 10);
    }
    l->rsdp = r.rsdp;
    if (r.vm_gen_id) {
        xen_set_param(HVM_PARAM_VM_GENERATION_ID_ADDR, r.vm_gen_id);
    }
    acpi_enable_sci();
    xen_set_param(HVM_PARAM_ACPI_IOPORTS_LOCATION, 1);
    printf("ACPI tables: RSDP at 0x%x (HPET %s, COM mask %x, S3 %u)\n",
           r.rsdp, c.hpet_id ? "yes" : "no", c.uarts, c.s3);
}

/* bios-strings: one directory read, then only the keys that exist. */
struct bios_strings {
    struct loader *l;
    char names[512];
    uint32_t len;
    char value[128];
};

static const char *
bios_string(void *opaque, const char *key)
{
    struct bios_strings *bs = opaque;
    char path[64] = "bios-strings/";
    uint32_t off;

    for (off = 0; off < bs->len; off += (uint32_t)strlen(bs->names + off)
         + 1) {
        if (strcmp(bs->names + off, key) || strlen(key) > 48) {
            continue;
        }
        memcpy(path + 13, key, strlen(key) + 1);
        if (xenbus_read(&bs->l->xb, path, bs->value, sizeof(bs->value))) {
            return NULL;
        }
        return bs->value;
    }
    return NULL;
}

static void
smbios_setup(struct loader *l)
{
    static struct bios_strings bs;
    struct smbios_config c = {
        .nr_vcpus = l->nr_vcpus, .low_mem = l->low_mem_end,
        .high_mem = l->high_mem_end > GIB4 ? l->high_mem_end - GIB4 : 0,
        .string = bios_string, .opaque = &bs,
    };
    uint32_t b, cx;

    bs.l = l;
    if (xenbus_directory(&l->xb, "bios-strings", bs.names,
                         sizeof(bs.names), &bs.len) < 0) {
        bs.len = 0;
    }
    cpuid(1, &c.cpuid_eax, &b, &cx, &c.cpuid_edx);
    xen_domain_handle(c.uuid);
    l->smbios = smbios_build(&l->tables, &c);
    if (!l->smbios) {
        panic("SMBIOS tables do not fit");
    }
}

/* Real mode on VMX without unrestricted guests needs Xen a TSS. */
static void
vm86_tss_setup(struct loader *l)
{
    void *tss = fw_alloc(&l->tables, VM86_TSS_SIZE, 128);

    if (tss) {
        xen_set_param(HVM_PARAM_VM86_TSS_SIZED,
                      (uint64_t)VM86_TSS_SIZE << 32 |
                      fw_phys(&l->tables, tss));
    }
}

void
tables_setup(struct loader *l)
{
    l->tables.phys = l->low_mem_end - TABLES_SIZE;
    l->tables.ptr = (uint8_t *)l->tables.phys;
    l->tables.size = TABLES_SIZE;
    l->tables.used = 0;
    if (xs_flag(l, "platform/acpi", true)) {
        acpi_setup(l);
    }
    smbios_setup(l);
    l->mp = mptable_build(&l->tables, l->nr_vcpus, l->vcpu_online,
                          l->intx_slots);
    l->pir = pir_build(&l->tables);
    vm86_tss_setup(l);
    printf("tables: %u bytes at 0x%x\n", l->tables.used, l->tables.phys);
}

void
e820_and_bios_info(struct loader *l)
{
    struct e820_layout el = {
        .low_mem_end = l->low_mem_end, .high_mem_end = l->high_mem_end,
        .bios_start = l->bios_start, .tables_start = l->tables.phys,
        .extra = l->xen_map, .nr_extra = l->xen_map_nr,
    };
    struct e820_map m;
    struct fw_area info = { (uint8_t *)BIOS_INFO_ADDR, BIOS_INFO_ADDR,
                            0x1000, 0 };
    uint32_t tables[4] = { l->rsdp, l->mp, l->smbios, l->pir };
    unsigned i;

    if (e820_build(&m, &el) < 0) {
        panic("E820 map does not fit in %u entries", E820_MAX);
    }
    for (i = 0; i < m.nr; i++) {
        printf(" [%02u] %016llx-%016llx type %u\n", i, m.e[i].addr,
               m.e[i].addr + m.e[i].size, m.e[i].type);
    }
    if (bios_info_build(&info, tables, &m) < 0) {
        panic("SeaBIOS info block does not fit");
    }
}
