/*
 * SMBIOS structures. Section numbers are of DMTF DSP0134 2.7.1; the
 * layouts are those of version 2.4, which SeaBIOS copies as they are.
 */
#include "firmware/hvmloader/smbios.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

/* 5.2.1 SMBIOS 2.1 (32-bit) entry point structure. */
struct smbios_entry {
    char anchor[4];
    uint8_t checksum, length, major, minor;
    uint16_t max_size;
    uint8_t revision;
    uint8_t formatted[5];
    char dmi_anchor[5];
    uint8_t dmi_checksum;
    uint16_t table_length;
    uint32_t table_addr;
    uint16_t count;
    uint8_t bcd_revision;
} __attribute__((packed));

/* 6.1.2 structure header. */
struct smbios_header {
    uint8_t type, length;
    uint16_t handle;
} __attribute__((packed));

/* One structure under construction: formatted area then strings. */
struct smbios_writer {
    struct fw_area *a;
    const struct smbios_config *c;
    uint8_t *start;         /* of the structure table */
    uint8_t *s;             /* current structure */
    uint8_t nstrings;
    uint16_t count, max_size, handle;
    bool failed;
};

static uint8_t *
room(struct smbios_writer *w, uint32_t n)
{
    uint8_t *p = fw_alloc(w->a, n, 1);

    if (!p) {
        w->failed = true;
    }
    return p;
}

/* Open a structure of formatted length len; returns its bytes. */
static uint8_t *
open_struct(struct smbios_writer *w, uint8_t type, uint8_t len)
{
    struct smbios_header *h = (struct smbios_header *)room(w, len);

    if (!h) {
        return NULL;
    }
    h->type = type;
    h->length = len;
    h->handle = w->handle++;
    w->s = (uint8_t *)h;
    w->nstrings = 0;
    return w->s;
}

/* Add a string; returns its number for the formatted area (0: none). */
static uint8_t
add_string(struct smbios_writer *w, const char *str)
{
    uint32_t n = str ? (uint32_t)strlen(str) : 0;
    uint8_t *p;

    if (!n || w->nstrings == 255) {
        return 0;
    }
    p = room(w, n + 1);
    if (!p) {
        return 0;
    }
    memcpy(p, str, n);
    return ++w->nstrings;
}

/* A bios-strings override of key, else def. */
static uint8_t
string(struct smbios_writer *w, const char *key, const char *def)
{
    const char *v = w->c->string ? w->c->string(w->c->opaque, key) : NULL;

    return add_string(w, v ? v : def);
}

/* End the string set (one NUL, two when there were no strings). */
static void
close_struct(struct smbios_writer *w)
{
    uint8_t *end;
    uint32_t size;

    room(w, w->nstrings ? 1 : 2);
    if (w->failed) {
        return;
    }
    end = w->a->ptr + w->a->used;
    size = (uint32_t)(end - w->s);
    if (size > w->max_size) {
        w->max_size = (uint16_t)size;
    }
    w->count++;
}

static void
put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* 7.1 BIOS information (type 0). */
static void
type0(struct smbios_writer *w)
{
    uint8_t *p = open_struct(w, 0, 0x18);
    uint64_t chars = (1u << 7) |    /* PCI */
                     (1u << 11) |   /* upgradeable */
                     (1u << 12) |   /* shadowing */
                     (1u << 15) |   /* boot from CD */
                     (1u << 16) |   /* selectable boot */
                     (1u << 19);    /* EDD */

    if (!p) {
        return;
    }
    p[4] = string(w, "bios-vendor", "hvmdm");
    p[5] = string(w, "bios-version", "hvmloader");
    put16(p + 6, 0xe800);           /* start segment */
    p[8] = string(w, "bios-release-date", "12/01/2026");
    p[9] = 0;                       /* 64 KiB */
    memcpy(p + 10, &chars, 8);
    p[0x12] = 0x03;                 /* ACPI, USB legacy */
    p[0x13] = 0x04 | 0x10;          /* network boot, virtual machine */
    p[0x14] = 1;                    /* system BIOS release 1.0 */
    p[0x15] = 0;
    p[0x16] = 0xff;                 /* no embedded controller */
    p[0x17] = 0xff;
    close_struct(w);
}

/* 7.2 System information (type 1). */
static void
type1(struct smbios_writer *w)
{
    uint8_t *p = open_struct(w, 1, 0x1b);

    if (!p) {
        return;
    }
    p[4] = string(w, "system-manufacturer", "hvmdm");
    p[5] = string(w, "system-product-name", "HVM domU");
    p[6] = string(w, "system-version", "1");
    p[7] = string(w, "system-serial-number", NULL);
    memcpy(p + 8, w->c->uuid, 16);
    p[0x18] = 6;                    /* wake-up: power switch */
    p[0x19] = string(w, "system-sku-number", NULL);
    p[0x1a] = string(w, "system-family", NULL);
    close_struct(w);
}

/* 7.4 System enclosure (type 3). */
static void
type3(struct smbios_writer *w)
{
    uint8_t *p = open_struct(w, 3, 0x15);

    if (!p) {
        return;
    }
    p[4] = string(w, "enclosure-manufacturer", "hvmdm");
    p[5] = 0x01;                    /* other */
    p[6] = string(w, "enclosure-version", NULL);
    p[7] = string(w, "enclosure-serial-number", NULL);
    p[8] = string(w, "enclosure-asset-tag", NULL);
    p[9] = p[10] = p[11] = 0x03;    /* safe */
    p[12] = 0x02;                   /* security: unknown */
    close_struct(w);
}

/* 7.5 Processor information (type 4), one per vCPU. */
static void
type4(struct smbios_writer *w, unsigned cpu)
{
    uint8_t *p = open_struct(w, 4, 0x23);
    char name[12] = "CPU ";
    unsigned n = 4;

    if (!p) {
        return;
    }
    if (cpu >= 100) {
        name[n++] = (char)('0' + cpu / 100);
    }
    if (cpu >= 10) {
        name[n++] = (char)('0' + cpu / 10 % 10);
    }
    name[n++] = (char)('0' + cpu % 10);
    name[n] = 0;
    p[4] = add_string(w, name);
    p[5] = 0x03;                    /* central processor */
    p[6] = 0x01;                    /* family: other */
    p[7] = string(w, "processor-manufacturer", NULL);
    put32(p + 8, w->c->cpuid_eax);
    put32(p + 12, w->c->cpuid_edx);
    p[0x11] = 0;
    put16(p + 0x14, 3000);          /* max speed, MHz */
    put16(p + 0x16, 3000);
    p[0x18] = 0x41;                 /* populated, enabled */
    p[0x19] = 0x01;                 /* upgrade: other */
    put16(p + 0x1a, 0xffff);
    put16(p + 0x1c, 0xffff);
    put16(p + 0x1e, 0xffff);
    close_struct(w);
}

/* 7.17 Physical memory array (type 16). */
static uint16_t
type16(struct smbios_writer *w, unsigned ndev)
{
    uint8_t *p = open_struct(w, 16, 0x0f);
    uint64_t kib = (w->c->low_mem + w->c->high_mem) >> 10;

    if (!p) {
        return 0;
    }
    p[4] = 0x01;                    /* location: other */
    p[5] = 0x03;                    /* system memory */
    p[6] = 0x06;                    /* multi-bit ECC */
    put32(p + 7, kib > 0x7fffffffu ? 0x80000000u : (uint32_t)kib);
    put16(p + 0x0b, 0xfffe);        /* no error information */
    put16(p + 0x0d, (uint16_t)ndev);
    close_struct(w);
    return ((struct smbios_header *)p)->handle;
}

/* 7.18 Memory device (type 17): one per 16 GiB of RAM. */
static void
type17(struct smbios_writer *w, uint16_t array, unsigned i, uint64_t bytes)
{
    uint8_t *p = open_struct(w, 17, 0x1b);
    char loc[8] = "DIMM ";

    if (!p) {
        return;
    }
    loc[5] = (char)('0' + i / 10 % 10);
    loc[6] = (char)('0' + i % 10);
    put16(p + 4, array);
    put16(p + 6, 0xfffe);
    put16(p + 8, 64);
    put16(p + 0x0a, 64);
    put16(p + 0x0c, (uint16_t)(bytes >> 20));   /* MiB, <= 16 GiB */
    p[0x0e] = 0x09;                 /* DIMM */
    p[0x10] = add_string(w, loc);
    p[0x12] = 0x07;                 /* RAM */
    put16(p + 0x13, 0x0002);        /* type detail: unknown */
    close_struct(w);
}

/* 7.20 Memory array mapped address (type 19), [start, end) in bytes. */
static void
type19(struct smbios_writer *w, uint16_t array, uint64_t start,
       uint64_t end)
{
    uint8_t *p = open_struct(w, 19, 0x0f);

    if (!p) {
        return;
    }
    put32(p + 4, (uint32_t)(start >> 10));
    put32(p + 8, (uint32_t)((end >> 10) - 1));
    put16(p + 0x0c, array);
    p[0x0e] = 1;
    close_struct(w);
}

static void
memory_structs(struct smbios_writer *w)
{
    uint64_t total = w->c->low_mem + w->c->high_mem, left = total, chunk;
    unsigned ndev = (unsigned)((total + 16 * GIB - 1) >> 34), i;
    uint16_t array = type16(w, ndev);

    for (i = 0; i < ndev; i++, left -= chunk) {
        chunk = left > 16 * GIB ? 16 * GIB : left;
        type17(w, array, i, chunk);
    }
    type19(w, array, 0, w->c->low_mem);
    if (w->c->high_mem) {
        type19(w, array, 4 * GIB, 4 * GIB + w->c->high_mem);
    }
}

/* 7.33 System boot information (type 32), 7.45 end of table (127). */
static void
tail_structs(struct smbios_writer *w)
{
    if (open_struct(w, 32, 0x0b)) {
        close_struct(w);            /* boot status 0: no errors */
    }
    if (open_struct(w, 127, 4)) {
        close_struct(w);
    }
}

static uint32_t
entry_point(struct smbios_writer *w)
{
    uint32_t len = (uint32_t)(w->a->ptr + w->a->used - w->start);
    struct smbios_entry *e = fw_alloc(w->a, sizeof(*e), 16);

    if (!e || len > 0xffff) {
        return 0;
    }
    memcpy(e->anchor, "_SM_", 4);
    e->length = sizeof(*e);
    e->major = 2;
    e->minor = 4;
    e->max_size = w->max_size;
    memcpy(e->dmi_anchor, "_DMI_", 5);
    e->table_length = (uint16_t)len;
    e->table_addr = fw_phys(w->a, w->start);
    e->count = w->count;
    e->bcd_revision = 0x24;
    e->dmi_checksum = fw_checksum(e->dmi_anchor, 15);
    e->checksum = fw_checksum(e, sizeof(*e));
    return fw_phys(w->a, e);
}

uint32_t
smbios_build(struct fw_area *a, const struct smbios_config *c)
{
    struct smbios_writer w = { .a = a, .c = c, .handle = 0 };
    unsigned cpu;

    w.start = a->ptr + a->used;
    type0(&w);
    type1(&w);
    type3(&w);
    for (cpu = 0; cpu < c->nr_vcpus; cpu++) {
        type4(&w, cpu);
    }
    memory_structs(&w);
    tail_structs(&w);
    if (w.failed) {
        return 0;
    }
    return entry_point(&w);
}
