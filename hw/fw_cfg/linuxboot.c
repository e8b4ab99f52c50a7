/*
 * Direct kernel boot: the fw_cfg items QEMU's linuxboot_dma.bin option ROM
 * reads (setup, kernel, initrd, command line and where each goes), the
 * patched real-mode header, and the ROM itself as "genroms/" file (first in
 * "bootorder", hw/fw_cfg/bootorder.c). Reference: Linux Documentation/arch/x86/boot.rst ("BOOT"),
 * the real-mode kernel header and the 2.02+ memory layout.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dm/config.h"
#include "hw/fw_cfg/fw_cfg.h"

#define LB_ROM_NAME      "linuxboot_dma.bin"
#define LB_ROM_DIR       "/usr/share/qemu"
#define LB_ROM_HINT      "install Debian's qemu-system-data " \
                         "(apt-get install qemu-system-data) or give -L DIR"

/* Header fields (BOOT "The real-mode kernel header"). */
#define HDR_SETUP_SECTS  0x1f1
#define HDR_MAGIC        0x202        /* "HdrS" */
#define HDR_VERSION      0x206
#define HDR_LOADER_TYPE  0x210
#define HDR_LOADFLAGS    0x211
#define HDR_RAMDISK_IMG  0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END     0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_MAX   0x22c
#define HDR_END          0x230

#define LF_LOADED_HIGH   0x01
#define LF_CAN_USE_HEAP  0x80
#define LOADER_QEMU      0xb0

/* The 2.02+ layout (BOOT "Loading the rest of the kernel"). */
#define LB_REAL_ADDR     0x10000u
#define LB_CMDLINE_ADDR  0x20000u
#define LB_PROT_ADDR     0x100000u
#define LB_CMDLINE_MAX   (0x10000u - 1)  /* up to the 64 KiB segment end */
/* What QEMU keeps free at the top of low RAM for firmware tables. */
#define LB_LOWMEM_RESERVE 0x28000u

struct lb_image {
    uint8_t *kernel;
    gsize kernel_len;
    uint8_t *initrd;
    gsize initrd_len;
    uint32_t setup_len;
    uint16_t version;
};

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static int
lb_read(const char *what, const char *path, uint8_t **data, gsize *len,
        char *err, size_t errlen)
{
    g_autoptr(GError) e = NULL;

    if (!g_file_get_contents(path, (char **)data, len, &e)) {
        snprintf(err, errlen, "%s %s: %s", what, path, e->message);
        return -1;
    }
    if (*len > UINT32_MAX) {
        snprintf(err, errlen, "%s %s: larger than 4 GiB", what, path);
        return -1;
    }
    return 0;
}

/* A bzImage with boot protocol 2.02 or later (BOOT "Details of header"). */
static int
lb_check_kernel(struct lb_image *im, const char *path, char *err,
                size_t errlen)
{
    const uint8_t *k = im->kernel;
    uint32_t sects;

    if (im->kernel_len < HDR_END || memcmp(k + HDR_MAGIC, "HdrS", 4) != 0) {
        snprintf(err, errlen, "-kernel %s: not a Linux bzImage (no HdrS "
                 "header); give the vmlinuz of a x86 kernel", path);
        return -1;
    }
    im->version = get16(k + HDR_VERSION);
    if (im->version < 0x202 || !(k[HDR_LOADFLAGS] & LF_LOADED_HIGH)) {
        snprintf(err, errlen, "-kernel %s: boot protocol %x.%02x without "
                 "a high-loaded bzImage; hvmdm needs 2.02 or later", path,
                 im->version >> 8, im->version & 0xff);
        return -1;
    }
    sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    im->setup_len = (sects + 1) * 512;
    if (im->setup_len > im->kernel_len) {
        snprintf(err, errlen, "-kernel %s: truncated (setup is %u bytes, "
                 "the file %zu)", path, im->setup_len,
                 (size_t)im->kernel_len);
        return -1;
    }
    return 0;
}

/* Where the initrd goes: page aligned below the kernel's and RAM's limit. */
static int
lb_initrd_addr(const struct lb_image *im, uint64_t lowmem, uint32_t *addr,
               char *err, size_t errlen)
{
    uint64_t max = im->version >= 0x203 ? get32(im->kernel + HDR_INITRD_MAX)
                                        : 0x37ffffffu;

    if (lowmem > LB_LOWMEM_RESERVE && max >= lowmem - LB_LOWMEM_RESERVE) {
        max = lowmem - LB_LOWMEM_RESERVE - 1;
    }
    if (im->initrd_len >= max || max - im->initrd_len < LB_PROT_ADDR +
        (im->kernel_len - im->setup_len)) {
        snprintf(err, errlen, "-initrd: %zu bytes do not fit below 0x%"
                 PRIx64 " with the kernel; give the guest more memory",
                 (size_t)im->initrd_len, max);
        return -1;
    }
    *addr = (uint32_t)((max - im->initrd_len) & ~0xfffull);
    return 0;
}

/* BOOT "Sample boot configuration": the fields a boot loader fills in. */
static void
lb_patch_header(uint8_t *setup, uint16_t version, uint32_t initrd_addr,
                uint32_t initrd_len)
{
    setup[HDR_LOADER_TYPE] = LOADER_QEMU;
    setup[HDR_LOADFLAGS] |= LF_CAN_USE_HEAP;
    put16(setup + HDR_HEAP_END, LB_CMDLINE_ADDR - LB_REAL_ADDR - 0x200);
    put32(setup + HDR_CMD_LINE_PTR, LB_CMDLINE_ADDR);
    put32(setup + HDR_RAMDISK_IMG, initrd_addr);
    put32(setup + HDR_RAMDISK_SIZE, initrd_len);
    if (version < 0x203) {
        put32(setup + HDR_INITRD_MAX, 0x37ffffffu);
    }
}

static void
lb_add_items(struct fw_cfg *s, struct lb_image *im, const char *cmdline,
             uint32_t initrd_addr)
{
    uint32_t kernel_len = (uint32_t)(im->kernel_len - im->setup_len);
    uint32_t cmd_len = (uint32_t)strlen(cmdline) + 1;

    lb_patch_header(im->kernel, im->version, im->initrd ? initrd_addr : 0,
                    (uint32_t)im->initrd_len);
    fw_cfg_add_i32(s, FW_CFG_SETUP_ADDR, LB_REAL_ADDR);
    fw_cfg_add_i32(s, FW_CFG_SETUP_SIZE, im->setup_len);
    fw_cfg_add_bytes(s, FW_CFG_SETUP_DATA,
                     g_memdup2(im->kernel, im->setup_len), im->setup_len);
    fw_cfg_add_i32(s, FW_CFG_KERNEL_ADDR, LB_PROT_ADDR);
    fw_cfg_add_i32(s, FW_CFG_KERNEL_ENTRY, LB_PROT_ADDR);
    fw_cfg_add_i32(s, FW_CFG_KERNEL_SIZE, kernel_len);
    fw_cfg_add_bytes(s, FW_CFG_KERNEL_DATA,
                     g_memdup2(im->kernel + im->setup_len, kernel_len),
                     kernel_len);
    fw_cfg_add_i32(s, FW_CFG_INITRD_ADDR, im->initrd ? initrd_addr : 0);
    fw_cfg_add_i32(s, FW_CFG_INITRD_SIZE, (uint32_t)im->initrd_len);
    fw_cfg_add_bytes(s, FW_CFG_INITRD_DATA, im->initrd,
                     (uint32_t)im->initrd_len);
    im->initrd = NULL;                  /* the item owns it now */
    fw_cfg_add_i32(s, FW_CFG_CMDLINE_ADDR, LB_CMDLINE_ADDR);
    fw_cfg_add_i32(s, FW_CFG_CMDLINE_SIZE, cmd_len);
    fw_cfg_add_bytes(s, FW_CFG_CMDLINE_DATA, g_memdup2(cmdline, cmd_len),
                     cmd_len);
}

/* The option ROM (hw/fw_cfg/bootorder.c names it first in "bootorder"). */
static int
lb_add_rom(struct fw_cfg *s, const struct dm_config *cfg, char *err,
           size_t errlen)
{
    g_autofree char *path = g_build_filename(cfg->firmware_dir ?
                                             cfg->firmware_dir : LB_ROM_DIR,
                                             LB_ROM_NAME, NULL);
    uint8_t *rom = NULL;
    gsize len = 0;

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        snprintf(err, errlen, "-kernel needs the option ROM %s, which is "
                 "missing: %s", path, LB_ROM_HINT);
        return -1;
    }
    if (lb_read("option ROM", path, &rom, &len, err, errlen) < 0) {
        return -1;
    }
    if (len < 512 || rom[0] != 0x55 || rom[1] != 0xaa || len > 0x10000) {
        g_free(rom);
        snprintf(err, errlen, "%s is not an option ROM: %s", path,
                 LB_ROM_HINT);
        return -1;
    }
    if (fw_cfg_add_file(s, "genroms/" LB_ROM_NAME, rom,
                        (uint32_t)len) < 0) {
        snprintf(err, errlen, "fw_cfg: no room for the option ROM");
        return -1;
    }
    return 0;
}

int
linuxboot_setup(struct fw_cfg *s, const struct dm_config *cfg,
                uint64_t lowmem, char *err, size_t errlen)
{
    const char *cmdline = cfg->append ? cfg->append : "";
    struct lb_image im = { 0 };
    uint32_t initrd_addr = 0;
    int rc = -1;

    if (strlen(cmdline) > LB_CMDLINE_MAX) {
        snprintf(err, errlen, "-append: the command line is longer than "
                 "%u bytes", LB_CMDLINE_MAX);
        return -1;
    }
    if (lb_read("-kernel", cfg->kernel, &im.kernel, &im.kernel_len, err,
                errlen) < 0 ||
        lb_check_kernel(&im, cfg->kernel, err, errlen) < 0) {
        goto out;
    }
    if (cfg->initrd &&
        (lb_read("-initrd", cfg->initrd, &im.initrd, &im.initrd_len, err,
                 errlen) < 0 ||
         lb_initrd_addr(&im, lowmem, &initrd_addr, err, errlen) < 0)) {
        goto out;
    }
    if (lb_add_rom(s, cfg, err, errlen) < 0) {
        goto out;
    }
    lb_add_items(s, &im, cmdline, initrd_addr);
    rc = 0;
out:
    g_free(im.kernel);
    g_free(im.initrd);
    return rc;
}
