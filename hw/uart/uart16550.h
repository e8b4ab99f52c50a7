/*
 * 16550A UARTs on the ISA ports, one per -serial (COM1-COM4 as QEMU places
 * them: 0x3F8/IRQ4, 0x2F8/IRQ3, 0x3E8/IRQ4, 0x2E8/IRQ3).
 */
#ifndef HW_UART_UART16550_H
#define HW_UART_UART16550_H

struct dm;
struct dm_config;

/* Board table entry: creates nothing when cfg is NULL. */
int uart16550_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

#endif
