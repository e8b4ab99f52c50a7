/*
 * PC glue ports: System Control Port A (0x92, fast A20 and fast reset) and
 * the POST code port 0x80.
 */
#ifndef HW_MISC_PORT92_H
#define HW_MISC_PORT92_H

struct dm;
struct dm_config;

/* Board table entry. */
int port92_board_init(struct dm *dm, const struct dm_config *cfg)
    __attribute__((warn_unused_result));

#endif
