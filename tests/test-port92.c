/*
 * System Control Port A (0x92) and the POST code port (0x80), driven as
 * Linux arch/x86/boot/a20.c and firmware use them.
 */
#include <glib.h>
#include <string.h>

#include "dm/dev.h"
#include "dm/iomap.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"

#define PORT_A      0x92
#define POST        0x80
#define FAST_RESET  0x01
#define FAST_A20    0x02

static struct t_machine *
misc_machine(void)
{
    struct t_opts o = { 0 };

    return t_machine_new(&o);
}

/* enable_a20_fast(): read, set A20, clear reset, write back. */
T_TEST(port92_fast_a20)
{
    struct t_machine *t = misc_machine();
    uint8_t a = t_inb(t, PORT_A);

    T_EQ(a, FAST_A20);                      /* enabled after reset */
    t_outb(t, PORT_A, a & ~FAST_A20);
    T_EQ(t_inb(t, PORT_A), 0x00);
    a = t_inb(t, PORT_A);
    t_outb(t, PORT_A, (a | FAST_A20) & ~FAST_RESET);
    T_EQ(t_inb(t, PORT_A), FAST_A20);
    t_outb(t, PORT_A, 0xfe);                /* reserved bits read 0 */
    T_EQ(t_inb(t, PORT_A), FAST_A20);
    T_EQ(t_inw(t, PORT_A), 0xff00 | FAST_A20); /* 0x93 is nobody's */
    T_EQ(t_shutdown_reason(t), -1);
    t_machine_free(t);
}

/* Only a 0 -> 1 transition of bit 0 resets. */
T_TEST(port92_fast_reset_reboots)
{
    struct t_machine *t = misc_machine();

    t_outb(t, PORT_A, FAST_A20 | FAST_RESET);
    T_EQ(t_shutdown_reason(t), HV_SHUTDOWN_REBOOT);
    T_EQ(t_hv_count(t, "shutdown"), 1);
    t->dm->shutdown_pending = false;        /* as if the domain went on */
    t_outb(t, PORT_A, FAST_A20 | FAST_RESET);
    T_EQ(t_hv_count(t, "shutdown"), 1);
    t_outb(t, PORT_A, FAST_A20);
    t_outb(t, PORT_A, FAST_RESET);
    T_EQ(t_hv_count(t, "shutdown"), 2);
    t_machine_free(t);
}

T_TEST(port92_post_port_is_claimed)
{
    struct t_machine *t = misc_machine();
    const struct iomap_stats *st = iomap_stats(t->dm->pio);
    uint64_t w = st->unclaimed_writes, r = st->unclaimed_reads;
    unsigned int i;

    for (i = 0; i < 256; i++) {
        t_outb(t, POST, i);
    }
    T_EQ(t_inb(t, POST), 0xff);
    T_EQ(st->unclaimed_writes, w);
    T_EQ(st->unclaimed_reads, r);
    t_machine_free(t);
}

T_TEST(port92_save_load_and_check)
{
    struct t_machine *t = misc_machine(), *t2;
    struct dm_dev *d = t_find_dev(t, "port92");
    uint8_t rec[8];

    t_outb(t, PORT_A, 0x00);
    t2 = misc_machine();
    T_EQ(t_inb(t2, PORT_A), FAST_A20);
    t_state_round_trip(t, t2);
    T_EQ(t_inb(t2, PORT_A), 0x00);
    T_ASSERT(d != NULL);
    T_EQ(d->ops->state_size, sizeof(rec));
    d->ops->save(d->opaque, rec);
    T_EQ(d->ops->check(rec), 0);
    rec[0] = 0x04;
    T_ASSERT(d->ops->check(rec) < 0);
    rec[0] = 0x00;
    rec[7] = 0x01;
    T_ASSERT(d->ops->check(rec) < 0);
    dm_reset_all(t2->dm);
    T_EQ(t_inb(t2, PORT_A), FAST_A20);
    T_EQ(t_shutdown_reason(t2), -1);
    t_machine_free(t2);
    t_machine_free(t);
}
