/*
 * The 8042 keyboard controller, after the IBM Personal System/2 Hardware
 * Interface Technical Reference, "Keyboard and Auxiliary Device Controller":
 * status register, command byte (controller RAM byte 0), the commands
 * written to port 0x64 and the input and output ports. The keyboard and the
 * mouse behind it are hw/i8042/ps2.c.
 *
 * The controller has one output buffer. Whenever it is empty it takes the
 * next byte of the keyboard, else of the mouse, as long as that device's
 * interface is enabled in the command byte, translating keyboard bytes from
 * scan code set 2 to set 1 when the command byte asks for it. A reply of
 * the controller itself goes straight into the output buffer. OBF raises
 * IRQ1, or IRQ12 for mouse data (status bit 5), when the command byte
 * enables that interrupt.
 *
 * Pulsing output port bit 0 resets the machine: Xen reboots the domain.
 * The A20 gate bit is kept but has no effect, as under Xen HVM memory is
 * never wrapped at 1 MiB.
 */
#include "hw/i8042/i8042.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"         /* dm_dev_register */
#include "dm/iomap.h"       /* iomap_region_init, iomap_add */
#include "dm/irq.h"         /* dm_isa_irq_set */
#include "dm/log.h"         /* GUEST_ERR, DM_ERR */
#include "dm/machine.h"     /* dm_request_shutdown */
#include "hw/i8042/ps2.h"   /* the keyboard and the mouse */

#define I8042_DATA_PORT     0x60
#define I8042_CMD_PORT      0x64
#define I8042_KBD_IRQ       1
#define I8042_AUX_IRQ       12

/* Status register (read port 0x64). */
#define I8042_STR_OBF       0x01    /* output buffer full */
#define I8042_STR_IBF       0x02    /* input buffer full: never, we are fast */
#define I8042_STR_SYS       0x04    /* system flag, command byte bit 2 */
#define I8042_STR_CMD       0x08    /* A2: last write was to port 0x64 */
#define I8042_STR_INH       0x10    /* 1: keyboard not inhibited (keylock) */
#define I8042_STR_AUXB      0x20    /* output buffer holds mouse data */
#define I8042_STR_TIMEOUT   0x40    /* never: both devices always answer */
#define I8042_STR_PARITY    0x80    /* never: no line errors */
#define I8042_STR_STORED    (I8042_STR_OBF | I8042_STR_SYS | I8042_STR_CMD | \
                             I8042_STR_AUXB)

/* Command byte (controller RAM byte 0, commands 0x20/0x60). */
#define I8042_CTR_KBDINT    0x01    /* IRQ1 on keyboard data */
#define I8042_CTR_AUXINT    0x02    /* IRQ12 on mouse data */
#define I8042_CTR_SYS       0x04    /* system flag */
#define I8042_CTR_KBDDIS    0x10    /* keyboard interface disabled */
#define I8042_CTR_AUXDIS    0x20    /* mouse interface disabled */
#define I8042_CTR_XLATE     0x40    /* translate set 2 to set 1 */
#define I8042_CTR_MASK      0x7f    /* bit 7 is reserved, reads 0 */
/* After reset, before firmware writes it. */
#define I8042_CTR_RESET     (I8042_CTR_KBDINT | I8042_CTR_AUXINT)

/* Output port (commands 0xd0/0xd1). */
#define I8042_OUT_RESET     0x01    /* 0 holds the processor in reset */
#define I8042_OUT_A20       0x02    /* A20 gate */
#define I8042_OUT_KBDOBF    0x10    /* output buffer full, keyboard data */
#define I8042_OUT_AUXOBF    0x20    /* output buffer full, mouse data */
#define I8042_OUT_STATUS    (I8042_OUT_KBDOBF | I8042_OUT_AUXOBF)
/* Reset, A20 on, clock and data lines of both interfaces idle high. */
#define I8042_OUT_DEFAULT   0xcf

/* Input port (command 0xc0): keyboard not inhibited (bit 7), no
 * manufacturing jumper (bit 5). */
#define I8042_INPORT        0xa0

/* Replies of the interface tests (0xa9/0xab) and self test (0xaa). */
#define I8042_TEST_OK       0x00
#define I8042_SELFTEST_OK   0x55
#define I8042_NO_PASSWORD   0xf1

#define I8042_RAM_SIZE      32

/*
 * Controller state, also the saved record (version 1): bytes only. check()
 * enforces: status only the stored bits, AUXB only with OBF; the command
 * byte (ram[0]) within its mask; the output port with its status bits
 * clear and the reset line high; a pending command one that takes a data
 * byte (an index into the command table); xlate_f0 boolean; reserved zero.
 * Property, held by fuzz/state-i8042.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct i8042_regs {
    uint8_t ram[I8042_RAM_SIZE];    /* ram[0] is the command byte */
    uint8_t status;                 /* I8042_STR_STORED bits */
    uint8_t obuf;                   /* output buffer */
    uint8_t outport;                /* without I8042_OUT_STATUS */
    uint8_t pending;                /* command waiting for its data byte */
    uint8_t xlate_f0;               /* translation saw a 0xf0 prefix */
    uint8_t reserved[3];
};

_Static_assert(sizeof(struct i8042_regs) == I8042_RAM_SIZE + 8,
               "controller record has no padding");

struct i8042 {
    struct dm *dm;
    struct dm_dev dev;
    struct iomap_region data_io;    /* 0x60 */
    struct iomap_region cmd_io;     /* 0x64 */
    struct ps2_kbd *kbd;
    struct ps2_mouse *mouse;
    struct i8042_regs r;
};

/*
 * The 8042's scan code translation for set 2 bytes 0x00-0x7f (set 1 code
 * each produces); bytes from 0x80 pass unchanged but for 0x83 (F7) and 0x84
 * (SysRq). A 0xf0 prefix is swallowed and sets bit 7 of the next byte.
 */
static const uint8_t i8042_xlate[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,     /* 0x00 */
    0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,     /* 0x08 */
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,     /* 0x10 */
    0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,     /* 0x18 */
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,     /* 0x20 */
    0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,     /* 0x28 */
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,     /* 0x30 */
    0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,     /* 0x38 */
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,     /* 0x40 */
    0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,     /* 0x48 */
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,     /* 0x50 */
    0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,     /* 0x58 */
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,     /* 0x60 */
    0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,     /* 0x68 */
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,     /* 0x70 */
    0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,     /* 0x78 */
};

static uint8_t
i8042_translate(uint8_t b)
{
    if (b < 0x80) {
        return i8042_xlate[b];
    }
    return b == 0x83 ? 0x41 : b == 0x84 ? 0x54 : b;
}

static uint8_t
i8042_ctr(const struct i8042 *s)
{
    return s->r.ram[0];
}

/* ---- output buffer and interrupts --------------------------------------- */

static void
i8042_update_irq(struct i8042 *s)
{
    bool obf = s->r.status & I8042_STR_OBF;
    bool aux = s->r.status & I8042_STR_AUXB;

    dm_isa_irq_set(s->dm, I8042_KBD_IRQ,
                   obf && !aux && (i8042_ctr(s) & I8042_CTR_KBDINT));
    dm_isa_irq_set(s->dm, I8042_AUX_IRQ,
                   obf && aux && (i8042_ctr(s) & I8042_CTR_AUXINT));
}

static void
i8042_put(struct i8042 *s, uint8_t val, bool aux)
{
    s->r.obuf = val;
    s->r.status |= I8042_STR_OBF;
    if (aux) {
        s->r.status |= I8042_STR_AUXB;
    } else {
        s->r.status &= ~I8042_STR_AUXB;
    }
}

/* The next keyboard byte as the host sees it, if there is one. */
static bool
i8042_kbd_byte(struct i8042 *s, uint8_t *val)
{
    uint8_t b;

    while (ps2_kbd_read(s->kbd, &b)) {
        if (!(i8042_ctr(s) & I8042_CTR_XLATE)) {
            *val = b;
            return true;
        }
        if (b == 0xf0) {
            s->r.xlate_f0 = 1;
            continue;
        }
        *val = i8042_translate(b) | (s->r.xlate_f0 ? 0x80 : 0);
        s->r.xlate_f0 = 0;
        return true;
    }
    return false;
}

/* Fill an empty output buffer from an enabled device. */
static void
i8042_fill(struct i8042 *s)
{
    uint8_t b;

    if (s->r.status & I8042_STR_OBF) {
        return;
    }
    if (!(i8042_ctr(s) & I8042_CTR_KBDDIS) && i8042_kbd_byte(s, &b)) {
        i8042_put(s, b, false);
    } else if (!(i8042_ctr(s) & I8042_CTR_AUXDIS) &&
               ps2_mouse_read(s->mouse, &b)) {
        i8042_put(s, b, true);
    }
}

static void
i8042_update(struct i8042 *s)
{
    i8042_fill(s);
    i8042_update_irq(s);
}

/* A device has a new byte to offer. */
static void
i8042_notify(void *opaque)
{
    i8042_update(opaque);
}

/* A controller reply takes the output buffer, overwriting what it held. */
static void
i8042_reply(struct i8042 *s, uint8_t val)
{
    i8042_put(s, val, false);
    i8042_update_irq(s);
}

/* ---- controller commands (port 0x64) ------------------------------------ */

/* 0x20-0x3f: read controller RAM; byte 0 is the command byte. */
static void
i8042_read_ram(struct i8042 *s, uint8_t cmd)
{
    i8042_reply(s, s->r.ram[cmd & (I8042_RAM_SIZE - 1)]);
}

/* 0x60-0x7f: write controller RAM. The command byte's system flag shows
 * in the status register; its enable bits take effect at once. */
static void
i8042_write_ram(struct i8042 *s, uint8_t cmd, uint8_t val)
{
    unsigned int i = cmd & (I8042_RAM_SIZE - 1);

    if (i != 0) {
        s->r.ram[i] = val;
        return;
    }
    s->r.ram[0] = val & I8042_CTR_MASK;
    s->r.status &= ~I8042_STR_SYS;
    s->r.status |= (val & I8042_CTR_SYS) ? I8042_STR_SYS : 0;
    if (!(val & I8042_CTR_XLATE)) {
        s->r.xlate_f0 = 0;
    }
    i8042_update(s);
}

static void
i8042_set_ctr_bits(struct i8042 *s, uint8_t set, uint8_t clear)
{
    s->r.ram[0] = (s->r.ram[0] | set) & ~clear;
    i8042_update(s);
}

static void
i8042_password_test(struct i8042 *s, uint8_t cmd)
{
    i8042_reply(s, I8042_NO_PASSWORD);
}

static void
i8042_aux_disable(struct i8042 *s, uint8_t cmd)
{
    i8042_set_ctr_bits(s, I8042_CTR_AUXDIS, 0);
}

static void
i8042_aux_enable(struct i8042 *s, uint8_t cmd)
{
    i8042_set_ctr_bits(s, 0, I8042_CTR_AUXDIS);
}

static void
i8042_interface_test(struct i8042 *s, uint8_t cmd)
{
    i8042_reply(s, I8042_TEST_OK);
}

/* 0xaa: self test passed; the controller sets the system flag. */
static void
i8042_self_test(struct i8042 *s, uint8_t cmd)
{
    s->r.ram[0] |= I8042_CTR_SYS;
    s->r.status |= I8042_STR_SYS;
    i8042_reply(s, I8042_SELFTEST_OK);
}

static void
i8042_kbd_disable(struct i8042 *s, uint8_t cmd)
{
    i8042_set_ctr_bits(s, I8042_CTR_KBDDIS, 0);
}

static void
i8042_kbd_enable(struct i8042 *s, uint8_t cmd)
{
    i8042_set_ctr_bits(s, 0, I8042_CTR_KBDDIS);
}

static void
i8042_read_inport(struct i8042 *s, uint8_t cmd)
{
    i8042_reply(s, I8042_INPORT);
}

/* 0xd0: bits 4 and 5 show which device the output buffer holds data of. */
static void
i8042_read_outport(struct i8042 *s, uint8_t cmd)
{
    uint8_t val = s->r.outport;

    if (s->r.status & I8042_STR_OBF) {
        val |= (s->r.status & I8042_STR_AUXB) ? I8042_OUT_AUXOBF
                                                : I8042_OUT_KBDOBF;
    }
    i8042_reply(s, val);
}

static void
i8042_system_reset(struct i8042 *s)
{
    DM_LOG_LIMITED(DM_LOG_INFO, "i8042: guest pulsed the reset line");
    dm_request_shutdown(s->dm, HV_SHUTDOWN_REBOOT);
}

/* 0xd1: bit 0 low resets the processor, bit 1 is the A20 gate. */
static void
i8042_write_outport(struct i8042 *s, uint8_t cmd, uint8_t val)
{
    s->r.outport = (val & ~I8042_OUT_STATUS) | I8042_OUT_RESET;
    if (!(val & I8042_OUT_RESET)) {
        i8042_system_reset(s);
    }
}

/* 0xd2/0xd3: the byte comes back as if the device had sent it (no
 * translation). */
static void
i8042_write_kbd_obuf(struct i8042 *s, uint8_t cmd, uint8_t val)
{
    i8042_reply(s, val);
}

static void
i8042_write_aux_obuf(struct i8042 *s, uint8_t cmd, uint8_t val)
{
    i8042_put(s, val, true);
    i8042_update_irq(s);
}

/*
 * 0xd4: the byte goes to the mouse. Sending to a device enables its
 * interface, as QEMU's 8042 does (hw/input/pckbd.c): drivers that talk to
 * a device with its interface disabled still get their reply.
 */
static void
i8042_write_aux(struct i8042 *s, uint8_t cmd, uint8_t val)
{
    s->r.ram[0] &= ~I8042_CTR_AUXDIS;
    ps2_mouse_write(s->mouse, val);
    i8042_update(s);
}

static void
i8042_a20_off(struct i8042 *s, uint8_t cmd)
{
    s->r.outport &= ~I8042_OUT_A20;
}

static void
i8042_a20_on(struct i8042 *s, uint8_t cmd)
{
    s->r.outport |= I8042_OUT_A20;
}

/* 0xf0-0xff: bits 3:0 low pulse output port bits 3:0; bit 0 is reset. */
static void
i8042_pulse(struct i8042 *s, uint8_t cmd)
{
    if (!(cmd & I8042_OUT_RESET)) {
        i8042_system_reset(s);
    }
}

struct i8042_cmd {
    void (*run)(struct i8042 *s, uint8_t cmd);
    /* Non-NULL: the command takes the next byte written to port 0x60. */
    void (*data)(struct i8042 *s, uint8_t cmd, uint8_t val);
};

static const struct i8042_cmd i8042_cmds[256] = {
    [0x20 ... 0x3f] = { i8042_read_ram, NULL },
    [0x60 ... 0x7f] = { NULL, i8042_write_ram },
    [0xa4] = { i8042_password_test, NULL },
    [0xa7] = { i8042_aux_disable, NULL },
    [0xa8] = { i8042_aux_enable, NULL },
    [0xa9] = { i8042_interface_test, NULL },
    [0xaa] = { i8042_self_test, NULL },
    [0xab] = { i8042_interface_test, NULL },
    [0xad] = { i8042_kbd_disable, NULL },
    [0xae] = { i8042_kbd_enable, NULL },
    [0xc0] = { i8042_read_inport, NULL },
    [0xd0] = { i8042_read_outport, NULL },
    [0xd1] = { NULL, i8042_write_outport },
    [0xd2] = { NULL, i8042_write_kbd_obuf },
    [0xd3] = { NULL, i8042_write_aux_obuf },
    [0xd4] = { NULL, i8042_write_aux },
    [0xdd] = { i8042_a20_off, NULL },
    [0xdf] = { i8042_a20_on, NULL },
    [0xf0 ... 0xff] = { i8042_pulse, NULL },
};

/* ---- port access -------------------------------------------------------- */

/* Reading the data port empties the output buffer; the next byte then
 * raises a fresh interrupt edge. Without OBF the old byte reads again. */
static uint8_t
i8042_read_data(struct i8042 *s)
{
    uint8_t val = s->r.obuf;

    if (s->r.status & I8042_STR_OBF) {
        s->r.status &= ~(I8042_STR_OBF | I8042_STR_AUXB);
        i8042_update_irq(s);
        i8042_update(s);
    }
    return val;
}

/* A data byte completes a pending command or goes to the keyboard. */
static void
i8042_write_data(struct i8042 *s, uint8_t val)
{
    uint8_t cmd = s->r.pending;

    s->r.status &= ~I8042_STR_CMD;
    s->r.pending = 0;
    if (cmd) {
        i8042_cmds[cmd].data(s, cmd, val);
        return;
    }
    s->r.ram[0] &= ~I8042_CTR_KBDDIS;   /* as for 0xd4 above */
    ps2_kbd_write(s->kbd, val);
    i8042_update(s);
}

/* A command cancels one still waiting for its data byte. */
static void
i8042_write_cmd(struct i8042 *s, uint8_t val)
{
    const struct i8042_cmd *c = &i8042_cmds[val];

    s->r.status |= I8042_STR_CMD;
    s->r.pending = 0;
    if (c->data) {
        s->r.pending = val;
    } else if (c->run) {
        c->run(s, val);
    } else {
        GUEST_ERR("i8042: unknown controller command 0x%02x", val);
    }
}

static uint64_t
i8042_data_read(void *opaque, uint64_t off, unsigned int size)
{
    return i8042_read_data(opaque);
}

static void
i8042_data_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    i8042_write_data(opaque, (uint8_t)val);
}

static uint64_t
i8042_status_read(void *opaque, uint64_t off, unsigned int size)
{
    const struct i8042 *s = opaque;

    return s->r.status | I8042_STR_INH;
}

static void
i8042_cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    i8042_write_cmd(opaque, (uint8_t)val);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void
i8042_reset(void *opaque)
{
    struct i8042 *s = opaque;

    memset(&s->r, 0, sizeof(s->r));
    s->r.ram[0] = I8042_CTR_RESET;
    s->r.status = I8042_STR_CMD;
    s->r.outport = I8042_OUT_DEFAULT;
    i8042_update(s);
}

static void
i8042_save(void *opaque, void *rec)
{
    const struct i8042 *s = opaque;

    memcpy(rec, &s->r, sizeof(s->r));
}

static int
i8042_check(const void *rec)
{
    const struct i8042_regs *r = rec;
    static const uint8_t zero[sizeof(r->reserved)];

    if ((r->status & ~I8042_STR_STORED) ||
        ((r->status & I8042_STR_AUXB) && !(r->status & I8042_STR_OBF)) ||
        (r->ram[0] & ~I8042_CTR_MASK) ||
        (r->outport & I8042_OUT_STATUS) || !(r->outport & I8042_OUT_RESET) ||
        (r->pending && !i8042_cmds[r->pending].data) || r->xlate_f0 > 1 ||
        memcmp(r->reserved, zero, sizeof(zero)) != 0) {
        return -EINVAL;
    }
    return 0;
}

/* The devices were loaded first (registered first): refill and rebuild the
 * interrupt lines from the loaded state. */
static void
i8042_load(void *opaque, const void *rec)
{
    struct i8042 *s = opaque;

    memcpy(&s->r, rec, sizeof(s->r));
    i8042_update(s);
}

static void
i8042_destroy(void *opaque)
{
    struct i8042 *s = opaque;

    iomap_region_destroy(&s->data_io);
    iomap_region_destroy(&s->cmd_io);
    g_free(s);
}

/* ---- ops tables --------------------------------------------------------- */

static const struct iomap_ops i8042_data_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct iomap_ops i8042_cmd_ops = {
    .read = i8042_status_read,
    .write = i8042_cmd_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct dm_dev_ops i8042_dev_ops = {
    .name = "i8042",
    .state_version = 1,
    .state_size = sizeof(struct i8042_regs),
    .reset = i8042_reset,
    .save = i8042_save,
    .check = i8042_check,
    .load = i8042_load,
    .destroy = i8042_destroy,
};

/* ---- board -------------------------------------------------------------- */

int
i8042_board_init(struct dm *dm, const struct dm_config *cfg)
{
    struct i8042 *s = g_new0(struct i8042, 1);
    int rc;

    s->dm = dm;
    iomap_region_init(&s->data_io, "i8042-data", 1, &i8042_data_ops, s);
    iomap_region_init(&s->cmd_io, "i8042-cmd", 1, &i8042_cmd_ops, s);
    rc = iomap_add(dm->pio, &s->data_io, I8042_DATA_PORT);
    if (rc == 0) {
        rc = iomap_add(dm->pio, &s->cmd_io, I8042_CMD_PORT);
    }
    if (rc < 0) {
        DM_ERR("i8042: ports 0x%x/0x%x are taken", I8042_DATA_PORT,
               I8042_CMD_PORT);
        iomap_region_destroy(&s->data_io);
        g_free(s);
        return rc;
    }
    /* Devices first: they are loaded before the controller pulls bytes. */
    s->kbd = ps2_kbd_new(dm, i8042_notify, s);
    s->mouse = ps2_mouse_new(dm, i8042_notify, s);
    i8042_reset(s);
    dm_dev_register(dm, &s->dev, &i8042_dev_ops, s, 0);
    return 0;
}
