/*
 * 8042 keyboard controller, PS/2 keyboard and mouse tests, written as the
 * guest drivers talk to them: Linux drivers/input/serio/i8042.c probing,
 * SeaBIOS src/hw/ps2port.c keyboard setup, atkbd and psmouse commands. Key
 * presses come in through ui/input.h as a UI would send them. Values are
 * named after the IBM PS/2 Technical Reference.
 */
#include <glib.h>
#include <string.h>

#include "dm/dev.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "hw/board.h"
#include "hw/i8042/ps2.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/input.h"

#define DATA    0x60
#define STATUS  0x64
#define CMD     0x64

/* Status register. */
#define STR_OBF     0x01
#define STR_IBF     0x02
#define STR_SYS     0x04
#define STR_CMDDAT  0x08
#define STR_KEYLOCK 0x10
#define STR_AUXDATA 0x20

/* Command byte. */
#define CTR_KBDINT  0x01
#define CTR_AUXINT  0x02
#define CTR_SYS     0x04
#define CTR_KBDDIS  0x10
#define CTR_AUXDIS  0x20
#define CTR_XLATE   0x40

#define ACK     0xfa
#define RESEND  0xfe

#define KBD_IRQ 1
#define AUX_IRQ 12

#define MS      1000000ull

static struct t_machine *
kbc_machine(void)
{
    struct t_opts o = { 0 };

    return t_machine_new(&o);
}

/* The controller is never busy: IBF must read clear before each write. */
static void
kbc_cmd(struct t_machine *t, uint8_t cmd)
{
    T_EQ(t_inb(t, STATUS) & STR_IBF, 0);
    t_outb(t, CMD, cmd);
}

static void
kbc_data(struct t_machine *t, uint8_t val)
{
    T_EQ(t_inb(t, STATUS) & STR_IBF, 0);
    t_outb(t, DATA, val);
}

/* One byte from the output buffer; aux tells which device it must be from
 * (-1: do not care). */
static uint8_t
kbc_read_from(struct t_machine *t, int aux, int line)
{
    uint8_t st = t_inb(t, STATUS);

    if (!(st & STR_OBF)) {
        t_fail(__FILE__, line, "output buffer empty (status 0x%02x)", st);
    }
    if (aux >= 0 && !!(st & STR_AUXDATA) != aux) {
        t_fail(__FILE__, line, "byte from the wrong port (status 0x%02x)",
               st);
    }
    return t_inb(t, DATA);
}

#define kbc_read(t)     kbc_read_from((t), 0, __LINE__)
#define aux_read(t)     kbc_read_from((t), 1, __LINE__)
#define kbc_empty(t)    T_EQ(t_inb((t), STATUS) & STR_OBF, 0)

/* A controller command with one reply. */
static uint8_t
kbc_query(struct t_machine *t, uint8_t cmd)
{
    kbc_cmd(t, cmd);
    return kbc_read(t);
}

static void
kbc_write_ctr(struct t_machine *t, uint8_t ctr)
{
    kbc_cmd(t, 0x60);
    kbc_data(t, ctr);
}

/* Linux i8042_flush(): at most I8042_BUFFER_SIZE (16) bytes. */
static unsigned int
kbc_flush(struct t_machine *t)
{
    unsigned int n = 0;

    while (t_inb(t, STATUS) & STR_OBF) {
        T_ASSERT(n < 16);
        t_inb(t, DATA);
        n++;
    }
    return n;
}

static void
aux_send(struct t_machine *t, uint8_t val)
{
    kbc_cmd(t, 0xd4);
    kbc_data(t, val);
}

/* Send a byte to the mouse and expect its ACK. */
static void
aux_cmd(struct t_machine *t, uint8_t val)
{
    aux_send(t, val);
    T_EQ(aux_read(t), ACK);
}

static void
kbd_cmd(struct t_machine *t, uint8_t val)
{
    kbc_data(t, val);
    T_EQ(kbc_read(t), ACK);
}

/* Translated keyboard, interrupts on, as SeaBIOS leaves it plus the
 * mouse interface enabled. */
static struct t_machine *
kbc_ready(uint8_t ctr)
{
    struct t_machine *t = kbc_machine();

    kbc_write_ctr(t, ctr);
    kbc_flush(t);
    return t;
}

static void
key(struct t_machine *t, unsigned int k, bool down)
{
    input_key_event(t->dm, k, down);
}

/* Read what the output buffer delivers until it is empty. */
static unsigned int
kbc_drain(struct t_machine *t, uint8_t *buf, unsigned int max)
{
    unsigned int n = 0;

    while ((t_inb(t, STATUS) & STR_OBF) && n < max) {
        buf[n++] = t_inb(t, DATA);
    }
    return n;
}

static void
expect_bytes(struct t_machine *t, const uint8_t *want, unsigned int n,
             int line)
{
    uint8_t got[64];
    unsigned int i, len = kbc_drain(t, got, sizeof(got));

    if (len != n) {
        t_fail(__FILE__, line, "%u bytes, expected %u (first 0x%02x)", len,
               n, len ? got[0] : 0);
    }
    for (i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            t_fail(__FILE__, line, "byte %u: 0x%02x, expected 0x%02x", i,
                   got[i], want[i]);
        }
    }
}

#define EXPECT(t, ...)                                                  \
    do {                                                                \
        static const uint8_t want_[] = { __VA_ARGS__ };                 \
        expect_bytes((t), want_, sizeof(want_), __LINE__);              \
    } while (0)

/* ---- the controller --------------------------------------------------- */

T_TEST(i8042_reset_values)
{
    struct t_machine *t = kbc_machine();

    /* A2 set (last "write" was a command), keylock off, buffer empty. */
    T_EQ(t_inb(t, STATUS), STR_CMDDAT | STR_KEYLOCK);
    T_EQ(kbc_query(t, 0x20), CTR_KBDINT | CTR_AUXINT);
    T_EQ(kbc_query(t, 0xd0), 0xcf);         /* reset high, A20 on */
    T_EQ(kbc_query(t, 0xc0), 0xa0);
    T_EQ(kbc_query(t, 0xa4), 0xf1);         /* no password installed */
    T_EQ(t_isa_irq(t, KBD_IRQ), 0);
    T_EQ(t_isa_irq(t, AUX_IRQ), 0);
    t_machine_free(t);
}

/* drivers/input/serio/i8042.c: i8042_controller_check, _selftest, _init,
 * i8042_check_aux and the AUX IRQ test, then atkbd's reset and GETID. */
T_TEST(i8042_linux_probe_sequence)
{
    struct t_machine *t = kbc_machine();
    uint8_t ctr;

    /* SeaBIOS left a translated keyboard with IRQ1 and a pending key. */
    kbc_write_ctr(t, CTR_XLATE | CTR_KBDINT | CTR_AUXDIS);
    key(t, 0x1e, true);
    T_EQ(t_isa_irq(t, KBD_IRQ), 1);
    T_EQ(kbc_flush(t), 1);
    T_EQ(t_isa_irq(t, KBD_IRQ), 0);

    T_EQ(kbc_query(t, 0xaa), 0x55);          /* self test */
    T_ASSERT(t_inb(t, STATUS) & STR_SYS);
    ctr = kbc_query(t, 0x20);
    T_EQ(ctr, CTR_XLATE | CTR_KBDINT | CTR_AUXDIS | CTR_SYS);
    T_EQ(kbc_query(t, 0x20), ctr);           /* read twice, must match */
    ctr = (ctr | CTR_KBDDIS) & ~CTR_KBDINT;
    kbc_write_ctr(t, ctr);
    T_EQ(t_inb(t, STATUS) & STR_CMDDAT, 0);  /* last write was data */
    T_EQ(kbc_query(t, 0x20), ctr);

    /* i8042_check_aux: loopback must come back as AUX data. */
    kbc_flush(t);
    kbc_cmd(t, 0xd3);
    kbc_data(t, 0x5a);
    T_EQ(aux_read(t), 0x5a);
    kbc_cmd(t, 0xa7);
    T_ASSERT(kbc_query(t, 0x20) & CTR_AUXDIS);
    kbc_cmd(t, 0xa8);
    T_EQ(kbc_query(t, 0x20) & CTR_AUXDIS, 0);
    T_EQ(kbc_query(t, 0xa9), 0x00);          /* aux interface test */

    /* AUX IRQ delivery test: loop 0xa5 with AUXINT on. */
    ctr = (ctr & ~CTR_AUXDIS) | CTR_AUXINT;
    kbc_write_ctr(t, ctr);
    kbc_cmd(t, 0xd3);
    kbc_data(t, 0xa5);
    T_EQ(t_isa_irq(t, AUX_IRQ), 1);
    T_EQ(t_isa_irq(t, KBD_IRQ), 0);
    T_EQ(aux_read(t), 0xa5);
    T_EQ(t_isa_irq(t, AUX_IRQ), 0);

    /* Keyboard side: interface test, port enabled, atkbd reset, GETID. */
    T_EQ(kbc_query(t, 0xab), 0x00);
    ctr = (ctr & ~CTR_KBDDIS) | CTR_KBDINT;
    kbc_write_ctr(t, ctr);
    kbc_data(t, 0xff);
    T_EQ(t_isa_irq(t, KBD_IRQ), 1);
    EXPECT(t, ACK, 0xaa);
    kbc_data(t, 0xf2);
    EXPECT(t, ACK, 0xab, 0x41);              /* 0x83 translated */
    kbc_cmd(t, 0xad);
    kbc_data(t, 0xf2);                       /* as QEMU: re-enables */
    EXPECT(t, ACK, 0xab, 0x41);
    T_EQ(kbc_query(t, 0x20) & CTR_KBDDIS, 0);
    t_machine_free(t);
}

/* src/hw/ps2port.c ps2_keyboard_setup(), as SeaBIOS runs it at POST. */
T_TEST(i8042_seabios_keyboard_setup)
{
    struct t_machine *t = kbc_machine();
    uint8_t ctr = CTR_KBDDIS | CTR_AUXDIS;

    T_EQ(kbc_flush(t), 0);
    kbc_cmd(t, 0xad);
    kbc_cmd(t, 0xa7);
    T_EQ(kbc_flush(t), 0);
    T_EQ(kbc_query(t, 0xaa), 0x55);
    T_EQ(kbc_query(t, 0xab), 0x00);
    /* ps2_command: disable both, then enable the keyboard port. */
    kbc_write_ctr(t, ctr);
    kbc_write_ctr(t, ctr & ~CTR_KBDDIS);
    kbc_data(t, 0xff);
    EXPECT(t, ACK, 0xaa);
    kbd_cmd(t, 0xf5);
    kbd_cmd(t, 0xf0);
    kbd_cmd(t, 0x02);
    kbc_write_ctr(t, CTR_AUXDIS | CTR_XLATE | CTR_KBDINT);
    kbd_cmd(t, 0xf4);
    key(t, 0x1c, true);                      /* Enter */
    T_EQ(t_isa_irq(t, KBD_IRQ), 1);
    EXPECT(t, 0x1c);
    t_machine_free(t);
}

T_TEST(i8042_output_port_and_a20)
{
    struct t_machine *t = kbc_machine();

    kbc_cmd(t, 0xd1);
    kbc_data(t, 0xdd);                       /* A20 off, reset high */
    T_EQ(kbc_query(t, 0xd0), 0xcd);
    kbc_cmd(t, 0xdf);                        /* A20 on (HP style) */
    T_EQ(kbc_query(t, 0xd0), 0xcf);
    kbc_cmd(t, 0xdd);
    T_EQ(kbc_query(t, 0xd0), 0xcd);
    /* Bit 4 shows keyboard data in the output buffer. */
    kbc_write_ctr(t, CTR_XLATE);
    key(t, 0x10, true);
    T_EQ(t_inb(t, STATUS) & STR_OBF, STR_OBF);
    kbc_cmd(t, 0xd0);
    T_EQ(kbc_read(t), 0xcd | 0x10);
    kbc_cmd(t, 0xff);                        /* pulse nothing */
    kbc_cmd(t, 0xf1);                        /* bit 0 not pulsed */
    T_EQ(t_shutdown_reason(t), -1);
    t_machine_free(t);
}

T_TEST(i8042_pulse_reset_reboots)
{
    struct t_machine *t = kbc_machine();

    kbc_cmd(t, 0xfe);                        /* Linux reboot=k */
    T_EQ(t_shutdown_reason(t), HV_SHUTDOWN_REBOOT);
    t_machine_free(t);
}

T_TEST(i8042_output_port_reset_reboots)
{
    struct t_machine *t = kbc_machine();

    kbc_cmd(t, 0xd1);
    kbc_data(t, 0xfe);                       /* bit 0 low */
    T_EQ(t_shutdown_reason(t), HV_SHUTDOWN_REBOOT);
    T_EQ(kbc_query(t, 0xd0) & 0x01, 0x01);
    t_machine_free(t);
}

T_TEST(i8042_ram_and_unknown_commands)
{
    struct t_machine *t = kbc_machine();
    uint64_t errs = dm_log_guest_errors();

    kbc_cmd(t, 0x65);
    kbc_data(t, 0x99);
    T_EQ(kbc_query(t, 0x25), 0x99);
    kbc_write_ctr(t, 0xff);                  /* bit 7 reserved */
    T_EQ(kbc_query(t, 0x20), 0x7f);
    kbc_cmd(t, 0x00);
    kbc_cmd(t, 0xe5);
    kbc_empty(t);
    T_EQ(dm_log_guest_errors() - errs, 2);
    /* A command cancels one still waiting for its data byte. */
    kbc_cmd(t, 0xd3);
    kbc_cmd(t, 0xab);
    T_EQ(kbc_read(t), 0x00);
    kbc_data(t, 0xff);                       /* goes to the keyboard */
    T_EQ(kbc_read(t), ACK);
    t_machine_free(t);
}

/* ---- keyboard scan codes ------------------------------------------------ */

T_TEST(i8042_translation_make_break_and_e0)
{
    struct t_machine *t = kbc_ready(CTR_XLATE | CTR_KBDINT);

    key(t, 0x1e, true);                      /* A */
    EXPECT(t, 0x1e);
    key(t, 0x1e, false);
    EXPECT(t, 0x9e);                         /* F0 1C folded */
    key(t, INPUT_KEY_E0 | 0x48, true);       /* Up */
    EXPECT(t, 0xe0, 0x48);
    key(t, INPUT_KEY_E0 | 0x48, false);
    EXPECT(t, 0xe0, 0xc8);
    key(t, 0x41, true);                      /* F7: set 2 code 0x83 */
    EXPECT(t, 0x41);
    key(t, 0x41, false);
    EXPECT(t, 0xc1);
    key(t, INPUT_KEY_E0 | 0x37, true);       /* PrintScreen alone */
    EXPECT(t, 0xe0, 0x2a, 0xe0, 0x37);
    key(t, INPUT_KEY_E0 | 0x37, false);
    EXPECT(t, 0xe0, 0xb7, 0xe0, 0xaa);
    key(t, 0x38, true);                      /* Alt + PrintScreen */
    EXPECT(t, 0x38);
    key(t, INPUT_KEY_E0 | 0x37, true);
    EXPECT(t, 0x54);                         /* SysRq */
    key(t, INPUT_KEY_E0 | 0x37, false);
    EXPECT(t, 0xd4);
    key(t, 0x38, false);
    EXPECT(t, 0xb8);
    key(t, INPUT_KEY_PAUSE, true);
    EXPECT(t, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    key(t, INPUT_KEY_PAUSE, false);          /* no break code */
    kbc_empty(t);
    key(t, INPUT_KEY_E0 | 0x1d, true);       /* RCtrl + Pause = Break */
    EXPECT(t, 0xe0, 0x1d);
    key(t, INPUT_KEY_PAUSE, true);
    EXPECT(t, 0xe0, 0x46, 0xe0, 0xc6);
    t_machine_free(t);
}

T_TEST(i8042_untranslated_set2_and_set1)
{
    struct t_machine *t = kbc_ready(CTR_KBDINT);

    key(t, 0x1e, true);
    EXPECT(t, 0x1c);
    key(t, 0x1e, false);
    EXPECT(t, 0xf0, 0x1c);
    key(t, INPUT_KEY_E0 | 0x48, true);
    EXPECT(t, 0xe0, 0x75);
    key(t, INPUT_KEY_E0 | 0x48, false);
    EXPECT(t, 0xe0, 0xf0, 0x75);
    key(t, INPUT_KEY_PAUSE, true);
    EXPECT(t, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);

    kbd_cmd(t, 0xf0);
    kbd_cmd(t, 0x00);
    EXPECT(t, 0x02);                         /* current set */
    kbd_cmd(t, 0xf0);
    kbd_cmd(t, 0x01);
    key(t, 0x1e, true);
    EXPECT(t, 0x1e);
    key(t, 0x1e, false);
    EXPECT(t, 0x9e);
    kbd_cmd(t, 0xf0);
    kbc_data(t, 0x03);                       /* set 3: refused */
    EXPECT(t, RESEND);
    kbd_cmd(t, 0xf0);
    kbd_cmd(t, 0x00);
    EXPECT(t, 0x01);
    /* With translation on, the reply is translated too (2 -> 0x41). */
    kbd_cmd(t, 0xf0);
    kbd_cmd(t, 0x02);
    kbc_write_ctr(t, CTR_KBDINT | CTR_XLATE);
    kbd_cmd(t, 0xf0);
    kbd_cmd(t, 0x00);
    EXPECT(t, 0x41);
    t_machine_free(t);
}

/* Every key of the set 2 table comes out of the 8042's translation as its
 * set 1 code: the keyboard's table and the controller's agree. */
T_TEST(i8042_every_key_translates_to_its_set1_code)
{
    struct t_machine *t = kbc_ready(CTR_XLATE);
    unsigned int k, nkeys = 0;

    for (k = 0x01; k < 0x100; k++) {
        unsigned int code = k & 0x7f, num = k < 0x80 ? k : INPUT_KEY_E0 | code;
        uint8_t got[8], want[2];
        unsigned int n, w = 0;

        if (k == 0x80 || num == (INPUT_KEY_E0 | 0x37)) {
            continue;                        /* PrintScreen: see above */
        }
        key(t, num, true);
        n = kbc_drain(t, got, sizeof(got));
        if (n == 0) {
            continue;
        }
        if (k >= 0x80) {
            want[w++] = 0xe0;
        }
        want[w++] = code;
        T_EQ(n, w);
        T_ASSERT(memcmp(got, want, w) == 0);
        key(t, num, false);
        n = kbc_drain(t, got, sizeof(got));
        want[w - 1] |= 0x80;
        T_EQ(n, w);
        T_ASSERT(memcmp(got, want, w) == 0);
        nkeys++;
    }
    T_ASSERT(nkeys >= 130);
    key(t, 0x7f, true);                      /* no such key */
    key(t, INPUT_KEY_E0 | 0x01, true);
    key(t, 0x1234, true);
    kbc_empty(t);
    t_machine_free(t);
}

T_TEST(i8042_leds_and_parameter_commands)
{
    struct t_machine *t = kbc_ready(CTR_XLATE | CTR_KBDINT);

    kbd_cmd(t, 0xed);
    kbd_cmd(t, 0x07);
    T_EQ(input_kbd_leds(t->dm), INPUT_LED_SCROLL | INPUT_LED_NUM |
         INPUT_LED_CAPS);
    kbd_cmd(t, 0xed);
    kbd_cmd(t, 0x02);
    T_EQ(input_kbd_leds(t->dm), INPUT_LED_NUM);
    /* Keys typed while a parameter is due are held back, then sent. */
    kbd_cmd(t, 0xed);
    key(t, 0x1e, true);
    kbc_empty(t);
    kbd_cmd(t, 0x04);
    EXPECT(t, 0x1e);
    T_EQ(input_kbd_leds(t->dm), INPUT_LED_CAPS);
    /* A command in place of the parameter runs as a command. */
    kbd_cmd(t, 0xed);
    kbc_data(t, 0xee);
    EXPECT(t, 0xee);                         /* echo */
    T_EQ(input_kbd_leds(t->dm), INPUT_LED_CAPS);
    kbc_data(t, 0xfe);                       /* resend the echo */
    EXPECT(t, 0xee);
    kbc_data(t, 0x12);                       /* not a command */
    EXPECT(t, RESEND);
    kbd_cmd(t, 0xf5);                        /* default + disable */
    T_EQ(input_kbd_leds(t->dm), 0);
    key(t, 0x1f, true);
    kbc_empty(t);
    kbd_cmd(t, 0xf4);
    key(t, 0x1f, true);
    EXPECT(t, 0x1f);
    t_machine_free(t);
}

T_TEST(i8042_typematic_repeat)
{
    struct t_machine *t = kbc_ready(CTR_XLATE | CTR_KBDINT);

    /* Default: 500 ms delay, 10.9 cps (period 91.74 ms). */
    key(t, 0x1e, true);
    EXPECT(t, 0x1e);
    key(t, 0x1e, true);                      /* UI repeat: ignored */
    kbc_empty(t);
    t_clock_step(t, 499 * MS);
    kbc_empty(t);
    t_clock_step(t, 1 * MS);
    EXPECT(t, 0x1e);
    t_clock_step(t, 91 * MS);
    kbc_empty(t);
    t_clock_step(t, 1 * MS);
    EXPECT(t, 0x1e);
    key(t, 0x1e, false);
    EXPECT(t, 0x9e);
    t_clock_step(t, 2000 * MS);
    kbc_empty(t);

    /* 0x00: 250 ms delay, 30 cps (33.36 ms). The last key pressed
     * repeats; releasing another key does not stop it. */
    kbd_cmd(t, 0xf3);
    kbd_cmd(t, 0x00);
    key(t, 0x2a, true);                      /* LShift */
    key(t, 0x1e, true);
    EXPECT(t, 0x2a, 0x1e);
    t_clock_step(t, 250 * MS);
    EXPECT(t, 0x1e);
    key(t, 0x2a, false);
    EXPECT(t, 0xaa);
    t_clock_step(t, 34 * MS);
    EXPECT(t, 0x1e);
    t_clock_step(t, 34 * MS);
    EXPECT(t, 0x1e);
    kbd_cmd(t, 0xf5);                        /* stops scanning, repeat */
    t_clock_step(t, 1000 * MS);
    kbc_empty(t);
    t_machine_free(t);
}

/* The keyboard buffers 16 bytes of set 2 codes, then queues its overrun
 * code once (0x00 in set 2) and drops and counts what does not fit. */
T_TEST(i8042_keyboard_queue_overflow_is_bounded)
{
    struct t_machine *t = kbc_ready(CTR_KBDINT);
    struct ps2_kbd *k = t->dm->board->ps2_kbd;
    uint8_t buf[64];
    unsigned int i, n;

    /* 80 events: the first make goes to the output buffer, then breaks
     * (2 bytes) and makes (1 byte) fill 15 of the 16 bytes. */
    for (i = 0; i < 40; i++) {
        key(t, 0x10 + (i % 10), true);
        key(t, 0x10 + (i % 10), false);
    }
    n = kbc_drain(t, buf, sizeof(buf));
    T_EQ(n, 1 + 16);
    T_EQ(buf[0], 0x15);                      /* Q make */
    T_EQ(buf[1], 0xf0);
    T_EQ(buf[2], 0x15);
    T_EQ(buf[3], 0x1d);                      /* W make */
    T_EQ(buf[16], 0x00);                     /* overrun */
    T_EQ(ps2_kbd_dropped(k), 80 - 11);
    key(t, 0x1e, true);
    EXPECT(t, 0x1c);
    /* Translated, the overrun code reads as set 1's 0xff. */
    kbc_write_ctr(t, CTR_KBDINT | CTR_XLATE);
    for (i = 0; i < 40; i++) {
        key(t, 0x20, i & 1);
    }
    n = kbc_drain(t, buf, sizeof(buf));
    T_ASSERT(n <= 1 + 16);
    T_EQ(buf[n - 1], 0xff);
    t_machine_free(t);
}

/* ---- interrupts --------------------------------------------------------- */

T_TEST(i8042_irq_levels_and_edges)
{
    struct t_machine *t = kbc_ready(CTR_XLATE);

    key(t, 0x1e, true);
    key(t, 0x30, true);
    T_EQ(t_inb(t, STATUS) & STR_OBF, STR_OBF);
    T_EQ(t_isa_irq(t, KBD_IRQ), 0);          /* KBDINT off: polled */
    kbc_write_ctr(t, CTR_XLATE | CTR_KBDINT);
    T_EQ(t_isa_irq(t, KBD_IRQ), 1);
    t_hv_log_clear(t);
    T_EQ(t_inb(t, DATA), 0x1e);
    /* The next byte is a new edge: the line drops and rises again. */
    T_EQ(t_hv_count(t, "isa_irq 1 0"), 1);
    T_EQ(t_hv_count(t, "isa_irq 1 1"), 1);
    T_EQ(t_inb(t, DATA), 0x30);
    T_EQ(t_isa_irq(t, KBD_IRQ), 0);
    T_EQ(t_inb(t, DATA), 0x30);              /* stale byte, no effect */

    /* Interface disabled: the keyboard holds its bytes. */
    kbc_cmd(t, 0xad);
    key(t, 0x1e, false);
    kbc_empty(t);
    kbc_cmd(t, 0xae);
    T_EQ(t_isa_irq(t, KBD_IRQ), 1);
    EXPECT(t, 0x9e);

    /* Mouse data raises IRQ12 only. */
    kbc_write_ctr(t, CTR_XLATE | CTR_KBDINT | CTR_AUXINT);
    aux_send(t, 0xf4);
    T_EQ(t_isa_irq(t, AUX_IRQ), 1);
    T_EQ(t_isa_irq(t, KBD_IRQ), 0);
    T_EQ(aux_read(t), ACK);
    T_EQ(t_isa_irq(t, AUX_IRQ), 0);
    input_mouse_move(t->dm, 1, 0, 0);
    T_EQ(t_isa_irq(t, AUX_IRQ), 1);
    kbc_write_ctr(t, CTR_XLATE | CTR_KBDINT);
    T_EQ(t_isa_irq(t, AUX_IRQ), 0);           /* AUXINT gates the line */
    T_EQ(aux_read(t), 0x08);
    T_EQ(aux_read(t), 1);
    T_EQ(aux_read(t), 0);
    t_machine_free(t);
}

/* ---- mouse -------------------------------------------------------------- */

static struct t_machine *
mouse_ready(void)
{
    struct t_machine *t = kbc_ready(CTR_XLATE | CTR_KBDINT | CTR_AUXINT);

    aux_send(t, 0xff);
    T_EQ(aux_read(t), ACK);
    T_EQ(aux_read(t), 0xaa);
    T_EQ(aux_read(t), 0x00);
    aux_cmd(t, 0xf4);
    return t;
}

static void
packet3(struct t_machine *t, uint8_t b0, uint8_t x, uint8_t y, int line)
{
    uint8_t got[3];
    unsigned int i;

    for (i = 0; i < 3; i++) {
        got[i] = kbc_read_from(t, 1, line);
    }
    if (got[0] != b0 || got[1] != x || got[2] != y) {
        t_fail(__FILE__, line, "packet %02x %02x %02x, expected %02x %02x "
               "%02x", got[0], got[1], got[2], b0, x, y);
    }
}

#define PACKET(t, b0, x, y) packet3((t), (b0), (x), (y), __LINE__)

T_TEST(i8042_mouse_stream_packets)
{
    struct t_machine *t = mouse_ready();

    input_mouse_move(t->dm, 10, -5, 0);      /* right, up */
    T_EQ(t_isa_irq(t, AUX_IRQ), 1);
    PACKET(t, 0x08, 10, 5);
    input_mouse_move(t->dm, -10, 20, 0);     /* left, down: both signs */
    PACKET(t, 0x38, 0xf6, 0xec);
    input_mouse_buttons(t->dm, INPUT_BTN_LEFT | INPUT_BTN_RIGHT);
    PACKET(t, 0x0b, 0, 0);
    input_mouse_buttons(t->dm, INPUT_BTN_LEFT | INPUT_BTN_RIGHT |
                        INPUT_BTN_SIDE);     /* invisible to id 0 */
    kbc_empty(t);
    input_mouse_buttons(t->dm, INPUT_BTN_MIDDLE);
    PACKET(t, 0x0c, 0, 0);
    /* 300 counts: 9-bit packets of at most 255, no overflow flag. */
    input_mouse_move(t->dm, 300, -300, 0);
    PACKET(t, 0x0c, 255, 255);
    PACKET(t, 0x0c, 45, 45);
    input_mouse_move(t->dm, -300, 0, 0);
    PACKET(t, 0x1c, 0x01, 0);                /* -255 */
    PACKET(t, 0x1c, 0xd3, 0);                /* -45 */
    kbc_empty(t);
    input_mouse_move(t->dm, 0, 0, 3);        /* no wheel on id 0 */
    kbc_empty(t);

    /* 2:1 scaling: 1->1, 2->1, 3->3, 4->6, 5->9, n->2n. */
    aux_cmd(t, 0xe7);
    input_mouse_move(t->dm, 4, -2, 0);
    PACKET(t, 0x0c, 6, 1);
    input_mouse_move(t->dm, 100, 0, 0);
    PACKET(t, 0x0c, 200, 0);
    aux_cmd(t, 0xe6);

    /* Status request: stream, enabled, 1:1, middle, 4 c/mm, 100/s. */
    aux_cmd(t, 0xe8);
    aux_cmd(t, 0x03);
    aux_cmd(t, 0xe9);
    T_EQ(aux_read(t), 0x20 | 0x02);
    T_EQ(aux_read(t), 0x03);
    T_EQ(aux_read(t), 100);
    aux_send(t, 0xe8);
    T_EQ(aux_read(t), ACK);
    aux_send(t, 0x04);                       /* no such resolution */
    T_EQ(aux_read(t), RESEND);
    aux_cmd(t, 0xf5);
    input_mouse_move(t->dm, 5, 5, 0);        /* disabled: not counted */
    kbc_empty(t);
    aux_cmd(t, 0xf4);
    kbc_empty(t);
    t_machine_free(t);
}

T_TEST(i8042_mouse_remote_mode_overflow)
{
    struct t_machine *t = mouse_ready();

    aux_cmd(t, 0xf0);                        /* remote mode */
    input_mouse_move(t->dm, 300, -400, 0);
    kbc_empty(t);
    aux_cmd(t, 0xeb);
    PACKET(t, 0x08 | 0x40 | 0x80, 0xff, 0xff);
    aux_cmd(t, 0xeb);                        /* counters were cleared */
    PACKET(t, 0x08, 0, 0);
    input_mouse_move(t->dm, -300, 256, 0);  /* y -256 still fits */
    aux_cmd(t, 0xeb);
    PACKET(t, 0x08 | 0x10 | 0x20 | 0x40, 0x00, 0x00);
    input_mouse_move(t->dm, 0, -256, 0);     /* y +256 does not */
    aux_cmd(t, 0xeb);
    PACKET(t, 0x08 | 0x80, 0x00, 0xff);
    aux_cmd(t, 0xe9);
    T_EQ(aux_read(t), 0x40 | 0x20);
    aux_read(t);
    aux_read(t);
    aux_cmd(t, 0xea);                        /* back to stream */
    input_mouse_move(t->dm, 1, 0, 0);
    PACKET(t, 0x08, 1, 0);
    t_machine_free(t);
}

static void
set_rate(struct t_machine *t, uint8_t rate)
{
    aux_cmd(t, 0xf3);
    aux_cmd(t, rate);
}

static uint8_t
get_id(struct t_machine *t)
{
    aux_cmd(t, 0xf2);
    return aux_read(t);
}

/* psmouse intellimouse_detect() and im_explorer_detect(). */
T_TEST(i8042_mouse_wheel_detection)
{
    struct t_machine *t = mouse_ready();

    T_EQ(get_id(t), 0x00);
    set_rate(t, 200);
    set_rate(t, 100);
    set_rate(t, 80);
    T_EQ(get_id(t), 0x03);
    aux_cmd(t, 0xf4);
    input_mouse_move(t->dm, 1, 1, 1);        /* wheel up: z = -1 */
    PACKET(t, 0x28, 1, 0xff);
    T_EQ(aux_read(t), 0xff);
    input_mouse_move(t->dm, 0, 0, -20);      /* -8..7 per packet */
    PACKET(t, 0x08, 0, 0);
    T_EQ(aux_read(t), 7);
    PACKET(t, 0x08, 0, 0);
    T_EQ(aux_read(t), 7);
    PACKET(t, 0x08, 0, 0);
    T_EQ(aux_read(t), 6);

    set_rate(t, 200);
    set_rate(t, 200);
    set_rate(t, 80);
    T_EQ(get_id(t), 0x04);
    aux_cmd(t, 0xf4);
    input_mouse_buttons(t->dm, INPUT_BTN_SIDE | INPUT_BTN_LEFT);
    PACKET(t, 0x09, 0, 0);
    T_EQ(aux_read(t), 0x10);
    input_mouse_move(t->dm, 0, 0, 2);
    PACKET(t, 0x09, 0, 0);
    T_EQ(aux_read(t), 0x1e);                 /* z = -2, button 4 */
    input_mouse_buttons(t->dm, INPUT_BTN_EXTRA);
    PACKET(t, 0x08, 0, 0);
    T_EQ(aux_read(t), 0x20);

    set_rate(t, 200);                        /* 200,100,80 keeps id 4 */
    set_rate(t, 100);
    set_rate(t, 80);
    T_EQ(get_id(t), 0x04);
    aux_send(t, 0xf3);
    T_EQ(aux_read(t), ACK);
    aux_send(t, 55);                         /* not a sample rate */
    T_EQ(aux_read(t), RESEND);
    aux_send(t, 0xff);
    T_EQ(aux_read(t), ACK);
    T_EQ(aux_read(t), 0xaa);
    T_EQ(aux_read(t), 0x00);
    T_EQ(get_id(t), 0x00);
    t_machine_free(t);
}

T_TEST(i8042_mouse_wrap_mode_and_resend)
{
    struct t_machine *t = mouse_ready();

    aux_cmd(t, 0xee);
    aux_send(t, 0x42);
    T_EQ(aux_read(t), 0x42);
    aux_send(t, 0xf4);                       /* echoed, not run */
    T_EQ(aux_read(t), 0xf4);
    aux_cmd(t, 0xec);
    aux_send(t, 0xfe);
    T_EQ(aux_read(t), ACK);                  /* last byte again */
    aux_send(t, 0x77);
    T_EQ(aux_read(t), RESEND);               /* unknown command */
    t_machine_free(t);
}

/* The mouse buffers at most 16 bytes (5 packets); motion beyond stays in
 * its counters and comes out once the host reads. */
T_TEST(i8042_mouse_queue_is_bounded)
{
    struct t_machine *t = mouse_ready();
    struct ps2_mouse *m = t->dm->board->ps2_mouse;
    int sum = 0, packets = 0;
    unsigned int i;

    for (i = 0; i < 100; i++) {
        input_mouse_move(t->dm, 10, 0, 0);
    }
    while (t_inb(t, STATUS) & STR_OBF) {
        uint8_t b0 = aux_read(t), x = aux_read(t);

        aux_read(t);
        T_EQ(b0 & 0xc0, 0);
        sum += (b0 & 0x10) ? x - 256 : x;
        packets++;
    }
    T_EQ(sum, 1000);
    T_ASSERT(packets >= 5 && packets <= 10);
    for (i = 0; i < 100; i++) {
        input_mouse_move(t->dm, 100, 0, 0);
    }
    T_ASSERT(ps2_mouse_dropped(m) > 0);
    t_machine_free(t);
}

/* ---- save, restore, hostile input --------------------------------------- */

T_TEST(i8042_save_load_round_trip)
{
    struct t_machine *t = mouse_ready(), *t2;

    set_rate(t, 200);
    set_rate(t, 100);
    set_rate(t, 80);
    aux_cmd(t, 0xf4);
    kbd_cmd(t, 0xed);
    kbd_cmd(t, 0x05);
    kbd_cmd(t, 0xf3);
    kbd_cmd(t, 0x1f);                        /* 250 ms, 2 cps */
    kbc_cmd(t, 0x61);
    kbc_data(t, 0x5c);
    kbd_cmd(t, 0xed);                        /* waiting for its LEDs */
    key(t, 0x2a, true);                      /* held back meanwhile */
    key(t, 0x1e, true);                      /* held and repeating */
    input_mouse_move(t->dm, 3, -4, 1);
    kbc_cmd(t, 0xd1);                        /* waiting for its byte */
    T_EQ(t_isa_irq(t, AUX_IRQ), 1);

    t2 = kbc_machine();
    t_state_round_trip(t, t2);
    T_EQ(t_isa_irq(t2, AUX_IRQ), 1);
    T_EQ(input_kbd_leds(t2->dm), 5);
    kbc_data(t2, 0xdf);                      /* completes 0xd1 */
    PACKET(t2, 0x08, 3, 4);
    T_EQ(aux_read(t2), 0xff);                /* wheel up */
    kbc_data(t2, 0x02);                      /* completes 0xed */
    EXPECT(t2, ACK, 0x2a, 0x1e);
    T_EQ(input_kbd_leds(t2->dm), INPUT_LED_NUM);
    T_EQ(kbc_query(t2, 0x21), 0x5c);
    T_EQ(kbc_query(t2, 0xd0), 0xdf & ~0x30);
    t_clock_step(t2, 1100 * MS);             /* repeats every 500.4 ms */
    EXPECT(t2, 0x1e, 0x1e);
    t_machine_free(t2);
    t_machine_free(t);
}

/* Records as saved, then one field broken at a time. */
T_TEST(i8042_check_rejects_bad_records)
{
    static const struct {
        const char *dev;
        unsigned int off;
        uint8_t val;
    } bad[] = {
        { "i8042", 0, 0x80 },           /* command byte bit 7 */
        { "i8042", 32, 0x20 },          /* AUXB without OBF */
        { "i8042", 32, 0x02 },          /* IBF is not state */
        { "i8042", 34, 0xce },          /* reset line held low */
        { "i8042", 34, 0xdf },          /* OBF bits are not state */
        { "i8042", 35, 0xab },          /* no command takes data */
        { "i8042", 36, 2 },             /* xlate_f0 */
        { "i8042", 37, 1 },             /* reserved */
        { "ps2-kbd", 32, 32 },          /* ring pointer */
        { "ps2-kbd", 33, 18 },          /* input beyond 16 + overrun */
        { "ps2-kbd", 67, 17 },          /* replies beyond 16 */
        { "ps2-kbd", 68, 0xf4 },        /* command takes no parameter */
        { "ps2-kbd", 69, 3 },           /* scan code set 3 */
        { "ps2-kbd", 70, 8 },           /* LEDs */
        { "ps2-kbd", 71, 0x80 },        /* typematic */
        { "ps2-kbd", 73, 2 },           /* scanning */
        { "ps2-kbd", 75, 0x7f },        /* repeat key that is no key */
        { "ps2-kbd", 76, 0x01 },        /* key index 0 held */
        { "ps2-mouse", 33, 17 },        /* input beyond 16 */
        { "ps2-mouse", 68, 0xf4 },      /* command takes no parameter */
        { "ps2-mouse", 69, 2 },         /* device id */
        { "ps2-mouse", 70, 50 },        /* sample rate */
        { "ps2-mouse", 71, 4 },         /* resolution */
        { "ps2-mouse", 75, 0x20 },      /* buttons */
        { "ps2-mouse", 78, 2 },         /* remote */
        { "ps2-mouse", 79, 2 },         /* wrap */
        { "ps2-mouse", 82, 1 },         /* padding */
        { "ps2-mouse", 86, 0x01 },      /* dx beyond the counter limit */
        { "ps2-mouse", 95, 0x80 },      /* dz below it */
    };
    struct t_machine *t = mouse_ready();
    uint8_t rec[128], tmp[128];
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct dm_dev *d = t_find_dev(t, bad[i].dev);

        T_ASSERT(d != NULL);
        T_ASSERT(d->ops->state_size <= sizeof(rec));
        d->ops->save(d->opaque, rec);
        T_EQ(d->ops->check(rec), 0);
        memcpy(tmp, rec, sizeof(rec));
        tmp[bad[i].off] = bad[i].val;
        if (d->ops->check(tmp) == 0) {
            t_fail(__FILE__, __LINE__, "%s offset %u value 0x%x accepted",
                   bad[i].dev, bad[i].off, bad[i].val);
        }
    }
    T_EQ(t_find_dev(t, "i8042")->ops->state_size, 40);
    T_EQ(t_find_dev(t, "ps2-kbd")->ops->state_size, 108);
    T_EQ(t_find_dev(t, "ps2-mouse")->ops->state_size, 96);
    t_machine_free(t);
}

T_TEST(i8042_reset_clears_state)
{
    struct t_machine *t = mouse_ready();

    key(t, 0x1e, true);
    input_mouse_move(t->dm, 1, 1, 0);
    T_EQ(t_isa_irq(t, KBD_IRQ) | t_isa_irq(t, AUX_IRQ), 1);
    dm_reset_all(t->dm);
    T_EQ(t_isa_irq(t, KBD_IRQ), 0);
    T_EQ(t_isa_irq(t, AUX_IRQ), 0);
    T_EQ(t_inb(t, STATUS), STR_CMDDAT | STR_KEYLOCK);
    T_EQ(kbc_query(t, 0x20), CTR_KBDINT | CTR_AUXINT);
    T_EQ(get_id(t), 0x00);
    t_clock_step(t, 1000 * MS);              /* no repeat survives */
    kbc_empty(t);
    t_machine_free(t);
}

/* A hostile guest: random bytes at both ports, random reads, random input.
 * Nothing may crash, and no more than the buffers' worth is ever pending. */
T_TEST(i8042_random_port_traffic)
{
    struct t_machine *t = kbc_machine();
    GRand *r = g_rand_new_with_seed(8042);
    unsigned int i, pending = 0;

    for (i = 0; i < 50000; i++) {
        uint32_t op = g_rand_int_range(r, 0, 8);
        uint8_t v = (uint8_t)g_rand_int(r);

        if (op < 2) {
            t_outb(t, CMD, v);
        } else if (op < 4) {
            t_outb(t, DATA, v);
        } else if (op < 5) {
            key(t, v | (g_rand_boolean(r) ? INPUT_KEY_E0 : 0),
                g_rand_boolean(r));
        } else if (op < 6) {
            input_mouse_move(t->dm, g_rand_int_range(r, -1000, 1000),
                             g_rand_int_range(r, -1000, 1000),
                             g_rand_int_range(r, -5, 5));
            input_mouse_buttons(t->dm, v);
        } else {
            t_inb(t, (op & 1) ? DATA : STATUS);
        }
        if ((i % 997) == 0) {
            t_clock_step(t, 50 * MS);
        }
    }
    while ((t_inb(t, STATUS) & STR_OBF) && pending < 1000) {
        t_inb(t, DATA);
        pending++;
    }
    T_ASSERT(pending < 1000);
    g_rand_free(r);
    t_machine_free(t);
}
