/*
 * The PCI standard VGA with Bochs VBE (hw/vga/stdvga.c).
 */
#ifndef HW_VGA_STDVGA_H
#define HW_VGA_STDVGA_H

struct dm;
struct dm_config;

/* Board entry: builds the adapter when the command line asks for one. */
int stdvga_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

#endif
