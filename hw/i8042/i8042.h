/*
 * The 8042 keyboard controller at ports 0x60/0x64 with its PS/2 keyboard
 * (IRQ1) and mouse (IRQ12).
 */
#ifndef HW_I8042_I8042_H
#define HW_I8042_I8042_H

struct dm;
struct dm_config;

/* Board table entry: the controller, the keyboard and the mouse. */
int i8042_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

#endif
