/*
 * QEMU's firmware configuration interface (fw_cfg) on ports 0x510/0x511
 * with the DMA interface at 0x514, which SeaBIOS reads on Xen (PF_QEMU,
 * xen-dm-interface.md 6.6) and QEMU's linuxboot_dma.bin option ROM uses
 * for direct kernel boot. Reference: QEMU docs/specs/fw_cfg.rst ("FWCFG").
 */
#ifndef HW_FW_CFG_FW_CFG_H
#define HW_FW_CFG_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

struct dm;
struct dm_config;
struct fw_cfg;
struct pci_bus;

/* Selector keys (FWCFG "Selector Register"; SeaBIOS paravirt.c). */
#define FW_CFG_SIGNATURE      0x00
#define FW_CFG_ID             0x01
#define FW_CFG_UUID           0x02
#define FW_CFG_RAM_SIZE       0x03
#define FW_CFG_NOGRAPHIC      0x04
#define FW_CFG_NB_CPUS        0x05
#define FW_CFG_MACHINE_ID     0x06
#define FW_CFG_KERNEL_ADDR    0x07
#define FW_CFG_KERNEL_SIZE    0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR    0x0a
#define FW_CFG_INITRD_SIZE    0x0b
#define FW_CFG_BOOT_DEVICE    0x0c
#define FW_CFG_NUMA           0x0d
#define FW_CFG_BOOT_MENU      0x0e
#define FW_CFG_MAX_CPUS       0x0f
#define FW_CFG_KERNEL_ENTRY   0x10
#define FW_CFG_KERNEL_DATA    0x11
#define FW_CFG_INITRD_DATA    0x12
#define FW_CFG_CMDLINE_ADDR   0x13
#define FW_CFG_CMDLINE_SIZE   0x14
#define FW_CFG_CMDLINE_DATA   0x15
#define FW_CFG_SETUP_ADDR     0x16
#define FW_CFG_SETUP_SIZE     0x17
#define FW_CFG_SETUP_DATA     0x18
#define FW_CFG_FILE_DIR       0x19
#define FW_CFG_FILE_FIRST     0x20
#define FW_CFG_FILE_SLOTS     0x20        /* files 0x20-0x3f */
#define FW_CFG_WRITE_CHANNEL  0x4000
#define FW_CFG_ARCH_LOCAL     0x8000

/* FW_CFG_ID bits. */
#define FW_CFG_VERSION        0x01
#define FW_CFG_VERSION_DMA    0x02

/* FWCfgDmaAccess.control bits (FWCFG "DMA interface"). */
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10

/* The DMA descriptor in guest memory, all fields big-endian. */
struct fw_cfg_dma_access {
    uint32_t control;
    uint32_t length;
    uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct fw_cfg_dma_access) == 16, "FWCfgDmaAccess");

#define FW_CFG_PORT_SEL       0x510
#define FW_CFG_PORT_DATA      0x511
#define FW_CFG_PORT_DMA       0x514       /* high half; low at 0x518 */
#define FW_CFG_DMA_SIGNATURE  "QEMU CFG"

int fw_cfg_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

/* Items; data is taken over (g_malloc'd) and read-only for the guest. */
void fw_cfg_add_bytes(struct fw_cfg *s, uint16_t key, void *data,
                      uint32_t len);
void fw_cfg_add_i16(struct fw_cfg *s, uint16_t key, uint16_t v);
void fw_cfg_add_i32(struct fw_cfg *s, uint16_t key, uint32_t v);
void fw_cfg_add_i64(struct fw_cfg *s, uint16_t key, uint64_t v);
/* A named file in the directory; -ENOSPC when the 32 slots are full. */
int fw_cfg_add_file(struct fw_cfg *s, const char *name, void *data,
                    uint32_t len);

/* hw/fw_cfg/linuxboot.c: the -kernel/-initrd/-append items and the ROM. */
int linuxboot_setup(struct fw_cfg *s, const struct dm_config *cfg,
                    uint64_t lowmem, char *err, size_t errlen);

/*
 * hw/fw_cfg/bootorder.c: the "bootorder" file SeaBIOS reads, from -boot
 * order= (and -kernel). The board row runs after the NICs are placed;
 * the text (g_free it) is what the file holds without its NUL.
 */
int fw_cfg_bootorder_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));
char *fw_cfg_bootorder_text(const struct dm_config *cfg, struct pci_bus *bus);

#endif
