/*
 * System Control Port A at 0x92 (Intel 82371SB PIIX3 / 82371AB PIIX4
 * datasheets, "Port 92h"): bit 1 is the fast A20 gate, a 0-to-1 transition
 * of bit 0 resets the processor, which under Xen reboots the domain. A20
 * has no effect on an HVM guest's memory; the bit only reads back.
 *
 * Port 0x80, the POST code port, is accepted and ignored so firmware and
 * the "outb to 0x80" I/O delay are not counted as unclaimed. Xen 4.17 lets
 * HVM guests reach port 0x80 directly (hvm_io_bitmap leaves it open unless
 * the hvm_port80=0 option or a DMI quirk closes it, xen/arch/x86/hvm/
 * quirks.c); when it is closed Xen has no handler for it and the access
 * comes here.
 */
#include "hw/misc/port92.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"         /* dm_dev_register */
#include "dm/iomap.h"       /* iomap_region_init, iomap_add */
#include "dm/log.h"         /* DM_ERR, DM_INFO */
#include "dm/machine.h"     /* dm_request_shutdown */

#define PORT92_PORT         0x92
#define POST_PORT           0x80

#define PORT92_FAST_RESET   0x01    /* 0 -> 1 resets the processor */
#define PORT92_A20          0x02    /* alternate A20 gate */
#define PORT92_MASK         0x03    /* bits 7:2 reserved, read 0 */

/*
 * State, also the saved record (version 1). check() enforces: port_a only
 * PORT92_MASK bits (fast A20, fast reset); reserved bytes zero.
 * Property, held by fuzz/state-port92.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct port92_regs {
    uint8_t port_a;
    uint8_t reserved[7];
};

struct port92 {
    struct dm *dm;
    struct dm_dev dev;
    struct iomap_region io92;
    struct iomap_region io80;
    struct port92_regs r;
};

/* ---- register access ---------------------------------------------------- */

static uint64_t
port92_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct port92 *s = opaque;

    return s->r.port_a;
}

static void
port92_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct port92 *s = opaque;
    uint8_t old = s->r.port_a;

    s->r.port_a = val & PORT92_MASK;
    if ((s->r.port_a & PORT92_FAST_RESET) && !(old & PORT92_FAST_RESET)) {
        DM_LOG_LIMITED(DM_LOG_INFO, "port 0x92: guest requested a fast reset");
        dm_request_shutdown(s->dm, HV_SHUTDOWN_REBOOT);
    }
}

/* POST codes: no register behind them, reads float high. */
static uint64_t
post_read(void *opaque, uint64_t off, unsigned int size)
{
    return 0xff;
}

static void
post_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
}

/* ---- lifecycle ---------------------------------------------------------- */

/* After reset A20 is enabled, as the other A20 source (the 8042). */
static void
port92_reset(void *opaque)
{
    struct port92 *s = opaque;

    memset(&s->r, 0, sizeof(s->r));
    s->r.port_a = PORT92_A20;
}

static void
port92_save(void *opaque, void *rec)
{
    const struct port92 *s = opaque;

    memcpy(rec, &s->r, sizeof(s->r));
}

static int
port92_check(const void *rec)
{
    const struct port92_regs *r = rec;
    static const uint8_t zero[sizeof(r->reserved)];

    if ((r->port_a & ~PORT92_MASK) ||
        memcmp(r->reserved, zero, sizeof(zero)) != 0) {
        return -EINVAL;
    }
    return 0;
}

static void
port92_load(void *opaque, const void *rec)
{
    struct port92 *s = opaque;

    memcpy(&s->r, rec, sizeof(s->r));
}

static void
port92_destroy(void *opaque)
{
    struct port92 *s = opaque;

    iomap_region_destroy(&s->io92);
    iomap_region_destroy(&s->io80);
    g_free(s);
}

/* ---- ops tables --------------------------------------------------------- */

static const struct iomap_ops port92_ops = {
    .read = port92_read,
    .write = port92_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct iomap_ops post_ops = {
    .read = post_read,
    .write = post_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct dm_dev_ops port92_dev_ops = {
    .name = "port92",
    .state_version = 1,
    .state_size = sizeof(struct port92_regs),
    .reset = port92_reset,
    .save = port92_save,
    .check = port92_check,
    .load = port92_load,
    .destroy = port92_destroy,
};

/* ---- board -------------------------------------------------------------- */

int
port92_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct port92 *s = g_new0(struct port92, 1);
    int rc;

    s->dm = dm;
    iomap_region_init(&s->io92, "port92", 1, &port92_ops, s);
    iomap_region_init(&s->io80, "post", 1, &post_ops, s);
    rc = iomap_add(dm->pio, &s->io92, PORT92_PORT);
    if (rc == 0) {
        rc = iomap_add(dm->pio, &s->io80, POST_PORT);
    }
    if (rc < 0) {
        DM_ERR("port92: port 0x%x or 0x%x is taken", PORT92_PORT, POST_PORT);
        iomap_region_destroy(&s->io92);
        g_free(s);
        return rc;
    }
    port92_reset(s);
    dm_dev_register(dm, &s->dev, &port92_dev_ops, s, 0);
    return 0;
}
