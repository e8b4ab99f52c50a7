/*
 * PS/2 keyboard and PS/2 mouse behind the 8042 (IBM Personal System/2
 * Hardware Interface Technical Reference, "Keyboard and Auxiliary Device
 * Controller" and "101/102-Key Keyboard"; IBM PS/2 mouse technical
 * reference; Microsoft IntelliMouse and Keyboard Scan Code Specification
 * rev. 1.3a).
 *
 * Each device keeps two bounded queues: command replies, sent first, and
 * input (scan codes, mouse packets) limited to the 16 bytes the devices
 * buffer themselves. Input that does not fit is dropped and counted; the
 * keyboard then sends its overrun code as the hardware does, the mouse keeps
 * accumulating motion in its counters. While a command waits for its
 * parameter byte the device holds its input back ("stops scanning").
 *
 * The keyboard produces scan code set 1 or 2; the 8042 does the set 2 to
 * set 1 translation (hw/i8042/i8042.c). It repeats the last key held at the
 * typematic rate the guest programmed.
 */
#include "hw/i8042/ps2.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/dev.h"         /* dm_dev_register */
#include "dm/log.h"         /* GUEST_ERR */
#include "dm/machine.h"     /* struct dm */
#include "dm/timer.h"       /* struct dm_timer, typematic repeat */
#include "hw/board.h"       /* struct board, ps2_kbd/ps2_mouse pointers */
#include "ui/input.h"       /* key numbers, INPUT_BTN_* */

#define PS2_QUEUE_SIZE  32      /* ring size, a power of two */
#define PS2_INPUT_MAX   16      /* the devices' own 16-byte buffer */
#define PS2_REPLY_MAX   16      /* replies waiting for the host */

struct ps2_queue {
    uint8_t data[PS2_QUEUE_SIZE];
    uint8_t rptr;
    uint8_t count;
};

/*
 * Keyboard state, also the saved record (version 1): bytes only. check()
 * enforces: both queues valid (head and count inside their buffers); a
 * pending command one that takes a parameter; scan code set 1 or 2; LEDs
 * <= 7; typematic <= 7fh; booleans 0 or 1; the repeat key and every pressed
 * key present in the set 2 table (indexes into it stay inside).
 * Property, held by fuzz/state-ps2-kbd.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct ps2_kbd_regs {
    struct ps2_queue in;        /* scan codes */
    struct ps2_queue reply;     /* command replies */
    uint8_t pending_cmd;        /* command waiting for its parameter */
    uint8_t scancode_set;       /* 1 or 2 (command 0xf0) */
    uint8_t leds;               /* command 0xed, bits 2:0 */
    uint8_t typematic;          /* command 0xf3, bits 6:0 */
    uint8_t last_sent;          /* for Resend (0xfe) */
    uint8_t scanning;           /* enabled by 0xf4, disabled by 0xf5 */
    uint8_t overrun;            /* overrun code is the last byte queued */
    uint8_t repeat_key;         /* key index repeating, 0 = none */
    uint8_t pressed[32];        /* bitmap of key indexes held down */
};

struct ps2_kbd {
    struct dm *dm;
    struct dm_dev dev;
    struct dm_timer repeat;
    ps2_notify_fn *notify;
    void *opaque;
    uint32_t dropped;
    struct ps2_kbd_regs r;
};

/*
 * Mouse state, also the saved record (version 1, counters little endian).
 * check() enforces: both queues valid; a pending command one that takes a
 * parameter; device ID 0, 3 or 4; resolution <= 3; a sample rate the
 * device accepts; button bits <= 1fh; booleans 0 or 1; padding zero;
 * movement counters within their range.
 * Property, held by fuzz/state-ps2-mouse.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct ps2_mouse_regs {
    struct ps2_queue in;        /* movement packets */
    struct ps2_queue reply;     /* command replies */
    uint8_t pending_cmd;
    uint8_t id;                 /* 0, 3 (wheel) or 4 (wheel, 5 buttons) */
    uint8_t rate;               /* samples per second (0xf3) */
    uint8_t resolution;         /* 0..3: 1, 2, 4, 8 counts/mm (0xe8) */
    uint8_t rates[3];           /* last three rates set, newest last */
    uint8_t buttons;            /* host button state, INPUT_BTN_* */
    uint8_t reported;           /* buttons in the last packet */
    uint8_t last_sent;
    uint8_t remote;             /* remote (0xf0) instead of stream mode */
    uint8_t wrap;               /* wrap (echo) mode, 0xee */
    uint8_t enabled;            /* data reporting, 0xf4 */
    uint8_t scale21;            /* 2:1 scaling, 0xe7 */
    uint8_t pad[2];
    int32_t dx;                 /* counts not reported yet, right */
    int32_t dy;                 /* up, as in the packet */
    int32_t dz;                 /* wheel, packet sign: towards the user */
};

_Static_assert(sizeof(struct ps2_kbd_regs) == 2 * 34 + 8 + 32,
               "keyboard record has no padding");
_Static_assert(sizeof(struct ps2_mouse_regs) == 2 * 34 + 16 + 12,
               "mouse record has no padding");

struct ps2_mouse {
    struct dm *dm;
    struct dm_dev dev;
    ps2_notify_fn *notify;
    void *opaque;
    uint32_t dropped;
    struct ps2_mouse_regs r;
};

/* ---- queues ------------------------------------------------------------ */

static bool
ps2_queue_push(struct ps2_queue *q, const uint8_t *buf, unsigned int n,
               unsigned int limit)
{
    unsigned int i;

    if (n > limit || q->count > limit - n) {
        return false;
    }
    for (i = 0; i < n; i++) {
        q->data[(q->rptr + q->count) & (PS2_QUEUE_SIZE - 1)] = buf[i];
        q->count++;
    }
    return true;
}

static bool
ps2_queue_pop(struct ps2_queue *q, uint8_t *val)
{
    if (!q->count) {
        return false;
    }
    *val = q->data[q->rptr];
    q->rptr = (q->rptr + 1) & (PS2_QUEUE_SIZE - 1);
    q->count--;
    return true;
}

static void
ps2_queue_clear(struct ps2_queue *q)
{
    q->rptr = 0;
    q->count = 0;
}

static bool
ps2_queue_valid(const struct ps2_queue *q, unsigned int limit)
{
    return q->rptr < PS2_QUEUE_SIZE && q->count <= limit;
}

/* A reply is pushed whole or not at all; a host that never reads them is
 * the only way to fill the reply queue. */
static void
ps2_reply(struct ps2_queue *q, const char *dev, const uint8_t *buf,
          unsigned int n)
{
    if (!ps2_queue_push(q, buf, n, PS2_REPLY_MAX)) {
        GUEST_ERR("ps2 %s: replies not read, reply dropped", dev);
    }
}

/* ---- keyboard: scan codes ----------------------------------------------- */

/*
 * Scan code set 2 make code of each key, indexed by the key's set 1 make
 * code, plus 0x80 for keys sent with the 0xe0 prefix (then the set 2 code
 * follows 0xe0 too). Microsoft Keyboard Scan Code Specification, appendix
 * A; 0 = no such key.
 */
static const uint8_t kbd_set2[256] = {
    [0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e,      /* Esc 1 2 */
    [0x04] = 0x26, [0x05] = 0x25, [0x06] = 0x2e,      /* 3 4 5 */
    [0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e,      /* 6 7 8 */
    [0x0a] = 0x46, [0x0b] = 0x45, [0x0c] = 0x4e,      /* 9 0 - */
    [0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d,      /* = Backspace Tab */
    [0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24,      /* Q W E */
    [0x13] = 0x2d, [0x14] = 0x2c, [0x15] = 0x35,      /* R T Y */
    [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44,      /* U I O */
    [0x19] = 0x4d, [0x1a] = 0x54, [0x1b] = 0x5b,      /* P [ ] */
    [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,      /* Enter LCtrl A */
    [0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b,      /* S D F */
    [0x22] = 0x34, [0x23] = 0x33, [0x24] = 0x3b,      /* G H J */
    [0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c,      /* K L ; */
    [0x28] = 0x52, [0x29] = 0x0e, [0x2a] = 0x12,      /* ' ` LShift */
    [0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22,      /* \ Z X */
    [0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32,      /* C V B */
    [0x31] = 0x31, [0x32] = 0x3a, [0x33] = 0x41,      /* N M , */
    [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59,      /* . / RShift */
    [0x37] = 0x7c, [0x38] = 0x11, [0x39] = 0x29,      /* KP* LAlt Space */
    [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,      /* CapsLock F1 F2 */
    [0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03,      /* F3 F4 F5 */
    [0x40] = 0x0b, [0x41] = 0x83, [0x42] = 0x0a,      /* F6 F7 F8 */
    [0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77,      /* F9 F10 NumLock */
    [0x46] = 0x7e, [0x47] = 0x6c, [0x48] = 0x75,      /* ScrollLock KP7 KP8 */
    [0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b,      /* KP9 KP- KP4 */
    [0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79,      /* KP5 KP6 KP+ */
    [0x4f] = 0x69, [0x50] = 0x72, [0x51] = 0x7a,      /* KP1 KP2 KP3 */
    [0x52] = 0x70, [0x53] = 0x71, [0x54] = 0x84,      /* KP0 KP. SysRq */
    [0x56] = 0x61, [0x57] = 0x78, [0x58] = 0x07,      /* 102nd F11 F12 */
    [0x59] = 0x0f, [0x64] = 0x08, [0x65] = 0x10,      /* KP= F13 F14 */
    [0x66] = 0x18, [0x67] = 0x20, [0x68] = 0x28,      /* F15 F16 F17 */
    [0x69] = 0x30, [0x6a] = 0x38, [0x6b] = 0x40,      /* F18 F19 F20 */
    [0x6c] = 0x48, [0x6d] = 0x50, [0x6e] = 0x57,      /* F21 F22 F23 */
    [0x70] = 0x13, [0x73] = 0x51, [0x76] = 0x5f,      /* Kana Ro F24 */
    [0x79] = 0x64, [0x7b] = 0x67, [0x7d] = 0x6a,      /* Henkan Muhenkan Yen */
    [0x7e] = 0x6d,                                    /* KP, */
    [0x80 | 0x10] = 0x15, [0x80 | 0x19] = 0x4d,     /* previous, next track */
    [0x80 | 0x1c] = 0x5a, [0x80 | 0x1d] = 0x14,     /* keypad Enter, RCtrl */
    [0x80 | 0x20] = 0x23, [0x80 | 0x21] = 0x2b,     /* mute, calculator */
    [0x80 | 0x22] = 0x34, [0x80 | 0x24] = 0x3b,     /* play/pause, stop */
    [0x80 | 0x2e] = 0x21, [0x80 | 0x30] = 0x32,     /* volume down, up */
    [0x80 | 0x32] = 0x3a, [0x80 | 0x35] = 0x4a,     /* WWW home, keypad / */
    [0x80 | 0x37] = 0x7c, [0x80 | 0x38] = 0x11,     /* PrintScreen, RAlt */
    [0x80 | 0x47] = 0x6c, [0x80 | 0x48] = 0x75,     /* Home, Up */
    [0x80 | 0x49] = 0x7d, [0x80 | 0x4b] = 0x6b,     /* PgUp, Left */
    [0x80 | 0x4d] = 0x74, [0x80 | 0x4f] = 0x69,     /* Right, End */
    [0x80 | 0x50] = 0x72, [0x80 | 0x51] = 0x7a,     /* Down, PgDn */
    [0x80 | 0x52] = 0x70, [0x80 | 0x53] = 0x71,     /* Insert, Delete */
    [0x80 | 0x5b] = 0x1f, [0x80 | 0x5c] = 0x27,     /* left, right GUI */
    [0x80 | 0x5d] = 0x2f, [0x80 | 0x5e] = 0x37,     /* Apps, Power */
    [0x80 | 0x5f] = 0x3f, [0x80 | 0x63] = 0x5e,     /* Sleep, Wake */
    [0x80 | 0x65] = 0x10, [0x80 | 0x66] = 0x18,     /* WWW search, favorites */
    [0x80 | 0x67] = 0x20, [0x80 | 0x68] = 0x28,     /* WWW refresh, stop */
    [0x80 | 0x69] = 0x30, [0x80 | 0x6a] = 0x38,     /* WWW forward, back */
    [0x80 | 0x6b] = 0x40, [0x80 | 0x6c] = 0x48,     /* my computer, mail */
    [0x80 | 0x6d] = 0x50,                           /* media select */
};

#define KBD_KEY_LCTRL   0x1d
#define KBD_KEY_RCTRL   (0x80 | 0x1d)
#define KBD_KEY_LSHIFT  0x2a
#define KBD_KEY_RSHIFT  0x36
#define KBD_KEY_LALT    0x38
#define KBD_KEY_RALT    (0x80 | 0x38)
#define KBD_KEY_SYSRQ   0x54
#define KBD_KEY_PRTSC   (0x80 | 0x37)

/* Overrun code: the last byte queued when input was lost. */
#define KBD_OVERRUN_SET1    0xff
#define KBD_OVERRUN_SET2    0x00

/* Typematic defaults after reset: 10.9 characters/s, 500 ms delay. */
#define KBD_TYPEMATIC_DEFAULT   0x2b

/* Key number (ui/input.h) to key index; 0 when there is no such key. */
static unsigned int
kbd_key_index(unsigned int key)
{
    unsigned int idx;

    if (key < 0x80) {
        idx = key;
    } else if ((key & 0xff80) == INPUT_KEY_E0) {
        idx = 0x80 | (key & 0x7f);
    } else {
        return 0;
    }
    return kbd_set2[idx] ? idx : 0;
}

static bool
kbd_held(const struct ps2_kbd *k, unsigned int idx)
{
    return k->r.pressed[idx >> 3] & (1u << (idx & 7));
}

static void
kbd_set_held(struct ps2_kbd *k, unsigned int idx, bool down)
{
    if (down) {
        k->r.pressed[idx >> 3] |= 1u << (idx & 7);
    } else {
        k->r.pressed[idx >> 3] &= ~(1u << (idx & 7));
    }
}

/* One make or break code in the current set; returns its length. */
static unsigned int
kbd_encode_code(const struct ps2_kbd *k, bool e0, uint8_t set1, uint8_t set2,
                bool make, uint8_t *out)
{
    unsigned int n = 0;

    if (e0) {
        out[n++] = 0xe0;
    }
    if (k->r.scancode_set == 1) {
        out[n++] = make ? set1 : set1 | 0x80;
    } else {
        if (!make) {
            out[n++] = 0xf0;
        }
        out[n++] = set2;
    }
    return n;
}

static unsigned int
kbd_encode(const struct ps2_kbd *k, unsigned int idx, bool make, uint8_t *out)
{
    return kbd_encode_code(k, idx & 0x80, idx & 0x7f, kbd_set2[idx], make,
                           out);
}

/*
 * PrintScreen depends on the modifiers held (scan code specification,
 * "Print Screen"): Alt makes it SysRq, Shift or Ctrl send it bare, and
 * alone it comes wrapped in a fake left Shift (0xe0 0x2a).
 */
static unsigned int
kbd_encode_prtsc(const struct ps2_kbd *k, bool make, uint8_t *out)
{
    unsigned int n;

    if (kbd_held(k, KBD_KEY_LALT) || kbd_held(k, KBD_KEY_RALT)) {
        return kbd_encode(k, KBD_KEY_SYSRQ, make, out);
    }
    if (kbd_held(k, KBD_KEY_LSHIFT) || kbd_held(k, KBD_KEY_RSHIFT) ||
        kbd_held(k, KBD_KEY_LCTRL) || kbd_held(k, KBD_KEY_RCTRL)) {
        return kbd_encode(k, KBD_KEY_PRTSC, make, out);
    }
    if (make) {
        n = kbd_encode_code(k, true, 0x2a, 0x12, true, out);
        return n + kbd_encode(k, KBD_KEY_PRTSC, true, out + n);
    }
    n = kbd_encode(k, KBD_KEY_PRTSC, false, out);
    return n + kbd_encode_code(k, true, 0x2a, 0x12, false, out + n);
}

/* Queue one key event whole; on overflow count it and send overrun once. */
static void
kbd_queue_input(struct ps2_kbd *k, const uint8_t *buf, unsigned int n)
{
    uint8_t ov = k->r.scancode_set == 1 ? KBD_OVERRUN_SET1 : KBD_OVERRUN_SET2;

    if (ps2_queue_push(&k->r.in, buf, n, PS2_INPUT_MAX)) {
        k->r.overrun = 0;
    } else {
        k->dropped++;
        if (k->r.overrun ||
            !ps2_queue_push(&k->r.in, &ov, 1, PS2_INPUT_MAX + 1)) {
            return;
        }
        k->r.overrun = 1;
    }
    k->notify(k->opaque);
}

static void
kbd_send_key(struct ps2_kbd *k, unsigned int idx, bool make)
{
    uint8_t buf[8];
    unsigned int n;

    if (idx == KBD_KEY_PRTSC) {
        n = kbd_encode_prtsc(k, make, buf);
    } else {
        n = kbd_encode(k, idx, make, buf);
    }
    kbd_queue_input(k, buf, n);
}

/* Pause has no break code; with Ctrl held it is Break (0xe0 0x46). */
static void
kbd_send_pause(struct ps2_kbd *k)
{
    static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
    static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14,
                                      0xf0, 0x77 };
    static const uint8_t break1[] = { 0xe0, 0x46, 0xe0, 0xc6 };
    static const uint8_t break2[] = { 0xe0, 0x7e, 0xe0, 0xf0, 0x7e };
    bool ctrl = kbd_held(k, KBD_KEY_LCTRL) || kbd_held(k, KBD_KEY_RCTRL);

    if (k->r.scancode_set == 1) {
        kbd_queue_input(k, ctrl ? break1 : pause1,
                        ctrl ? sizeof(break1) : sizeof(pause1));
    } else {
        kbd_queue_input(k, ctrl ? break2 : pause2,
                        ctrl ? sizeof(break2) : sizeof(pause2));
    }
}

/* ---- keyboard: typematic ------------------------------------------------ */

/*
 * Typematic byte (command 0xf3): bits 6:5 delay (1 + D) * 250 ms, bits 4:0
 * period (8 + A) * 2^B * 4.17 ms with A = bits 2:0, B = bits 4:3.
 */
static uint64_t
kbd_repeat_delay_ns(uint8_t typematic)
{
    return (1 + ((typematic >> 5) & 3)) * 250000000ull;
}

static uint64_t
kbd_repeat_period_ns(uint8_t typematic)
{
    return (8 + (typematic & 7)) * (1ull << ((typematic >> 3) & 3)) *
           4170000ull;
}

static void
kbd_repeat_stop(struct ps2_kbd *k)
{
    k->r.repeat_key = 0;
    dm_timer_del(&k->repeat);
}

static void
kbd_repeat_start(struct ps2_kbd *k, unsigned int idx)
{
    k->r.repeat_key = idx;
    dm_timer_mod(&k->repeat,
                 dm_clock_ns(k->dm) + kbd_repeat_delay_ns(k->r.typematic));
}

static void
kbd_repeat_fire(void *opaque)
{
    struct ps2_kbd *k = opaque;
    unsigned int idx = k->r.repeat_key;

    if (!idx || !k->r.scanning || !kbd_held(k, idx)) {
        k->r.repeat_key = 0;
        return;
    }
    kbd_send_key(k, idx, true);
    dm_timer_mod(&k->repeat,
                 dm_clock_ns(k->dm) + kbd_repeat_period_ns(k->r.typematic));
}

void
ps2_kbd_key(struct ps2_kbd *k, unsigned int key, bool down)
{
    unsigned int idx;

    if (key == INPUT_KEY_PAUSE) {
        if (down && k->r.scanning) {
            kbd_send_pause(k);
        }
        return;
    }
    idx = kbd_key_index(key);
    if (!idx) {
        DM_DEBUG("ps2 keyboard: no key number 0x%x", key);
        return;
    }
    if (!k->r.scanning || kbd_held(k, idx) == down) {
        return;
    }
    kbd_set_held(k, idx, down);
    kbd_send_key(k, idx, down);
    if (down) {
        kbd_repeat_start(k, idx);
    } else if (k->r.repeat_key == idx) {
        kbd_repeat_stop(k);
    }
}

unsigned int
ps2_kbd_leds(const struct ps2_kbd *k)
{
    return k->r.leds;
}

uint32_t
ps2_kbd_dropped(const struct ps2_kbd *k)
{
    return k->dropped;
}

/* ---- keyboard: commands (IBM 101/102-key keyboard, "Commands from the
 * System") ---------------------------------------------------------------- */

static void
kbd_reply(struct ps2_kbd *k, const uint8_t *buf, unsigned int n)
{
    ps2_reply(&k->r.reply, "keyboard", buf, n);
}

static void
kbd_ack(struct ps2_kbd *k)
{
    static const uint8_t ack = PS2_ACK;

    kbd_reply(k, &ack, 1);
}

/* Power-on defaults: set 2, typematic default, LEDs off, buffer empty. */
static void
kbd_defaults(struct ps2_kbd *k)
{
    kbd_repeat_stop(k);
    ps2_queue_clear(&k->r.in);
    k->r.overrun = 0;
    k->r.scancode_set = 2;
    k->r.leds = 0;
    k->r.typematic = KBD_TYPEMATIC_DEFAULT;
    memset(k->r.pressed, 0, sizeof(k->r.pressed));
}

static void
kbd_cmd_ack(struct ps2_kbd *k)
{
    kbd_ack(k);
}

static void
kbd_set_leds(struct ps2_kbd *k, uint8_t val)
{
    k->r.leds = val & 7;
    kbd_ack(k);
}

static void
kbd_echo(struct ps2_kbd *k)
{
    static const uint8_t echo = 0xee;

    kbd_reply(k, &echo, 1);
}

/* 0xf0: parameter 0 reads the set back, 1 and 2 select it. Set 3 is not
 * implemented and refused with Resend, which drivers take as "no". */
static void
kbd_scancode_set(struct ps2_kbd *k, uint8_t val)
{
    static const uint8_t resend = PS2_RESEND;
    uint8_t cur[2] = { PS2_ACK, k->r.scancode_set };

    if (val == 0) {
        kbd_reply(k, cur, 2);
    } else if (val == 1 || val == 2) {
        kbd_repeat_stop(k);
        ps2_queue_clear(&k->r.in);
        k->r.overrun = 0;
        k->r.scancode_set = val;
        kbd_ack(k);
    } else {
        kbd_reply(k, &resend, 1);
    }
}

/* 0xf2: a 101/102-key keyboard answers 0xab 0x83. */
static void
kbd_identify(struct ps2_kbd *k)
{
    static const uint8_t id[] = { PS2_ACK, 0xab, 0x83 };

    kbd_reply(k, id, sizeof(id));
}

static void
kbd_set_typematic(struct ps2_kbd *k, uint8_t val)
{
    k->r.typematic = val & 0x7f;
    kbd_ack(k);
}

static void
kbd_enable(struct ps2_kbd *k)
{
    ps2_queue_clear(&k->r.in);
    k->r.overrun = 0;
    k->r.scanning = 1;
    kbd_ack(k);
}

static void
kbd_default_disable(struct ps2_kbd *k)
{
    kbd_defaults(k);
    k->r.scanning = 0;
    kbd_ack(k);
}

static void
kbd_set_default(struct ps2_kbd *k)
{
    kbd_defaults(k);
    k->r.scanning = 1;
    kbd_ack(k);
}

/* 0xfb-0xfd take a list of keys, each acknowledged, until a command. */
static void
kbd_key_list(struct ps2_kbd *k, uint8_t val)
{
    k->r.pending_cmd = 0xfb;
    kbd_ack(k);
}

static void
kbd_resend(struct ps2_kbd *k)
{
    kbd_reply(k, &k->r.last_sent, 1);
}

static void
kbd_reset(struct ps2_kbd *k)
{
    static const uint8_t bat[] = { PS2_ACK, PS2_BAT_OK };

    kbd_defaults(k);
    ps2_queue_clear(&k->r.reply);
    k->r.scanning = 1;
    kbd_reply(k, bat, sizeof(bat));
}

struct kbd_cmd {
    void (*run)(struct ps2_kbd *k);
    /* Non-NULL: run() acknowledged, the next byte is the parameter. */
    void (*param)(struct ps2_kbd *k, uint8_t val);
};

static const struct kbd_cmd kbd_cmds[256] = {
    [0xed] = { kbd_cmd_ack, kbd_set_leds },
    [0xee] = { kbd_echo, NULL },
    [0xf0] = { kbd_cmd_ack, kbd_scancode_set },
    [0xf2] = { kbd_identify, NULL },
    [0xf3] = { kbd_cmd_ack, kbd_set_typematic },
    [0xf4] = { kbd_enable, NULL },
    [0xf5] = { kbd_default_disable, NULL },
    [0xf6] = { kbd_set_default, NULL },
    /* 0xf7-0xfa set all keys' types: they only matter in set 3. */
    [0xf7] = { kbd_cmd_ack, NULL },
    [0xf8] = { kbd_cmd_ack, NULL },
    [0xf9] = { kbd_cmd_ack, NULL },
    [0xfa] = { kbd_cmd_ack, NULL },
    [0xfb] = { kbd_cmd_ack, kbd_key_list },
    [0xfc] = { kbd_cmd_ack, kbd_key_list },
    [0xfd] = { kbd_cmd_ack, kbd_key_list },
    [0xfe] = { kbd_resend, NULL },
    [0xff] = { kbd_reset, NULL },
};

/*
 * A byte from the host. While a command waits for its parameter, a byte
 * that is itself a command cancels the wait and runs (IBM: the keyboard
 * treats a command sent in place of an option byte as a new command).
 */
void
ps2_kbd_write(struct ps2_kbd *k, uint8_t val)
{
    uint8_t cmd = k->r.pending_cmd;

    k->r.pending_cmd = 0;
    if (cmd && !(val >= 0xed && kbd_cmds[val].run)) {
        kbd_cmds[cmd].param(k, val);
    } else if (kbd_cmds[val].run) {
        kbd_cmds[val].run(k);
        if (kbd_cmds[val].param) {
            k->r.pending_cmd = val;
        }
    } else {
        static const uint8_t resend = PS2_RESEND;

        GUEST_ERR("ps2 keyboard: unknown command 0x%02x", val);
        kbd_reply(k, &resend, 1);
    }
    k->notify(k->opaque);
}

bool
ps2_kbd_read(struct ps2_kbd *k, uint8_t *val)
{
    if (!ps2_queue_pop(&k->r.reply, val) &&
        (k->r.pending_cmd || !ps2_queue_pop(&k->r.in, val))) {
        return false;
    }
    k->r.last_sent = *val;
    return true;
}

/* ---- keyboard: lifecycle ------------------------------------------------ */

static void
kbd_dev_reset(void *opaque)
{
    struct ps2_kbd *k = opaque;

    kbd_defaults(k);
    ps2_queue_clear(&k->r.reply);
    k->r.pending_cmd = 0;
    k->r.last_sent = 0;
    k->r.scanning = 1;
}

static void
kbd_save(void *opaque, void *rec)
{
    const struct ps2_kbd *k = opaque;

    memcpy(rec, &k->r, sizeof(k->r));
}

static int
kbd_check(const void *rec)
{
    const struct ps2_kbd_regs *r = rec;
    unsigned int i;

    if (!ps2_queue_valid(&r->in, PS2_INPUT_MAX + 1) ||
        !ps2_queue_valid(&r->reply, PS2_REPLY_MAX) ||
        (r->pending_cmd && !kbd_cmds[r->pending_cmd].param) ||
        (r->scancode_set != 1 && r->scancode_set != 2) || r->leds > 7 ||
        r->typematic > 0x7f || r->scanning > 1 || r->overrun > 1 ||
        (r->repeat_key && !kbd_set2[r->repeat_key])) {
        return -EINVAL;
    }
    for (i = 0; i < 256; i++) {
        if ((r->pressed[i >> 3] & (1u << (i & 7))) && !kbd_set2[i]) {
            return -EINVAL;
        }
    }
    return 0;
}

/* Derived state: the repeat timer runs again if its key is still held.
 * The controller, loaded after the devices, pulls what the queues hold. */
static void
kbd_load(void *opaque, const void *rec)
{
    struct ps2_kbd *k = opaque;

    memcpy(&k->r, rec, sizeof(k->r));
    dm_timer_del(&k->repeat);
    if (k->r.repeat_key && kbd_held(k, k->r.repeat_key)) {
        dm_timer_mod(&k->repeat, dm_clock_ns(k->dm) +
                     kbd_repeat_period_ns(k->r.typematic));
    } else {
        k->r.repeat_key = 0;
    }
}

static void
kbd_destroy(void *opaque)
{
    struct ps2_kbd *k = opaque;

    dm_timer_del(&k->repeat);
    if (k->dm->board && k->dm->board->ps2_kbd == k) {
        k->dm->board->ps2_kbd = NULL;
    }
    g_free(k);
}

/* ---- mouse: packets ----------------------------------------------------- */

/* Motion kept in the counters while the host does not read, per axis. */
#define MOUSE_PENDING_MAX   4096

/* Standard packet byte 0 (IBM mouse technical reference, "Data Report"). */
#define MOUSE_PKT_ALWAYS1   0x08
#define MOUSE_PKT_XSIGN     0x10
#define MOUSE_PKT_YSIGN     0x20
#define MOUSE_PKT_XOVF      0x40
#define MOUSE_PKT_YOVF      0x80

/* Status request (0xe9) byte 1. */
#define MOUSE_STS_RIGHT     0x01
#define MOUSE_STS_MIDDLE    0x02
#define MOUSE_STS_LEFT      0x04
#define MOUSE_STS_SCALE21   0x10
#define MOUSE_STS_ENABLED   0x20
#define MOUSE_STS_REMOTE    0x40

static unsigned int
mouse_packet_len(const struct ps2_mouse *m)
{
    return m->r.id ? 4 : 3;
}

/* Buttons a packet of the current protocol can carry. */
static uint8_t
mouse_visible(const struct ps2_mouse *m)
{
    return m->r.buttons & (m->r.id == 4 ? 0x1f : 0x07);
}

static int32_t
mouse_clamp(int64_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

/* 2:1 scaling (IBM mouse technical reference, "Scaling"). */
static int32_t
mouse_scale21(int32_t v)
{
    static const uint8_t small[6] = { 0, 1, 1, 3, 6, 9 };
    int32_t a = v < 0 ? -v : v;

    a = a < 6 ? small[a] : 2 * a;
    return v < 0 ? -a : a;
}

/*
 * Take one report out of the counters. A stream packet carries at most
 * what fits (255 counts, 127 before 2:1 scaling) and leaves the rest for
 * the next packet, so stream mode never overflows; a Read Data (0xeb)
 * report takes the whole counters, flags overflow past the 9-bit range and
 * zeroes them, as the hardware does.
 */
static void
mouse_take_xy(struct ps2_mouse *m, bool stream, int32_t *x, int32_t *y,
              uint8_t *b0)
{
    int32_t lim = (stream && m->r.scale21) ? 127 : 255;

    if (stream) {
        *x = mouse_clamp(m->r.dx, -lim, lim);
        *y = mouse_clamp(m->r.dy, -lim, lim);
        m->r.dx -= *x;
        m->r.dy -= *y;
        if (m->r.scale21) {
            *x = mouse_scale21(*x);
            *y = mouse_scale21(*y);
        }
        return;
    }
    *x = mouse_clamp(m->r.dx, -256, 255);
    *y = mouse_clamp(m->r.dy, -256, 255);
    *b0 |= (*x != m->r.dx ? MOUSE_PKT_XOVF : 0) |
           (*y != m->r.dy ? MOUSE_PKT_YOVF : 0);
    m->r.dx = m->r.dy = 0;
}

/* Fourth byte: wheel in 4 bits (-8..7, IntelliMouse specification), and
 * buttons 4 and 5 in bits 4 and 5 for device id 4. */
static uint8_t
mouse_take_z(struct ps2_mouse *m)
{
    int32_t z = mouse_clamp(m->r.dz, -8, 7);

    m->r.dz -= z;
    if (m->r.id == 4) {
        return (z & 0x0f) | ((m->r.buttons & INPUT_BTN_SIDE) ? 0x10 : 0) |
               ((m->r.buttons & INPUT_BTN_EXTRA) ? 0x20 : 0);
    }
    return (uint8_t)z;
}

static unsigned int
mouse_packet(struct ps2_mouse *m, bool stream, uint8_t *pkt)
{
    uint8_t b0 = MOUSE_PKT_ALWAYS1 | (m->r.buttons & 7);
    int32_t x, y;

    mouse_take_xy(m, stream, &x, &y, &b0);
    pkt[0] = b0 | (x < 0 ? MOUSE_PKT_XSIGN : 0) | (y < 0 ? MOUSE_PKT_YSIGN : 0);
    pkt[1] = (uint8_t)x;
    pkt[2] = (uint8_t)y;
    if (m->r.id) {
        pkt[3] = mouse_take_z(m);
    } else {
        m->r.dz = 0;
    }
    m->r.reported = mouse_visible(m);
    return mouse_packet_len(m);
}

static bool
mouse_streaming(const struct ps2_mouse *m)
{
    return !m->r.remote && m->r.enabled && !m->r.wrap && !m->r.pending_cmd;
}

static bool
mouse_has_news(const struct ps2_mouse *m)
{
    return m->r.dx || m->r.dy || (m->r.id && m->r.dz) ||
           m->r.reported != mouse_visible(m);
}

/* Move counters into packets while the 16-byte buffer has room. */
static bool
mouse_sync(struct ps2_mouse *m)
{
    bool queued = false;
    uint8_t pkt[4];

    while (mouse_streaming(m) && mouse_has_news(m) &&
           m->r.in.count + mouse_packet_len(m) <= PS2_INPUT_MAX) {
        unsigned int n = mouse_packet(m, true, pkt);

        ps2_queue_push(&m->r.in, pkt, n, PS2_INPUT_MAX);
        queued = true;
    }
    return queued;
}

static void
mouse_reset_counters(struct ps2_mouse *m)
{
    m->r.dx = m->r.dy = m->r.dz = 0;
    m->r.reported = mouse_visible(m);
    ps2_queue_clear(&m->r.in);
}

static void
mouse_add(struct ps2_mouse *m, int32_t *counter, int64_t delta)
{
    int64_t v = *counter + delta;

    if (v > MOUSE_PENDING_MAX || v < -MOUSE_PENDING_MAX) {
        m->dropped++;
    }
    *counter = mouse_clamp(v, -MOUSE_PENDING_MAX, MOUSE_PENDING_MAX);
}

void
ps2_mouse_move(struct ps2_mouse *m, int dx, int dy, int dz)
{
    /* A disabled mouse in stream mode does not count (QEMU does the same);
     * remote mode counts for Read Data. */
    if (m->r.wrap || (!m->r.remote && !m->r.enabled)) {
        return;
    }
    mouse_add(m, &m->r.dx, dx);
    mouse_add(m, &m->r.dy, -(int64_t)dy);
    if (m->r.id) {
        mouse_add(m, &m->r.dz, -(int64_t)dz);   /* no wheel on id 0 */
    }
    if (mouse_sync(m)) {
        m->notify(m->opaque);
    }
}

void
ps2_mouse_buttons(struct ps2_mouse *m, unsigned int buttons)
{
    m->r.buttons = buttons & 0x1f;
    if (mouse_sync(m)) {
        m->notify(m->opaque);
    }
}

uint32_t
ps2_mouse_dropped(const struct ps2_mouse *m)
{
    return m->dropped;
}

/* ---- mouse: commands (IBM mouse technical reference, "Commands") -------- */

static void
mouse_reply(struct ps2_mouse *m, const uint8_t *buf, unsigned int n)
{
    ps2_reply(&m->r.reply, "mouse", buf, n);
}

static void
mouse_ack(struct ps2_mouse *m)
{
    static const uint8_t ack = PS2_ACK;

    mouse_reply(m, &ack, 1);
}

static void
mouse_nak(struct ps2_mouse *m)
{
    static const uint8_t resend = PS2_RESEND;

    mouse_reply(m, &resend, 1);
}

/* The sample rates a PS/2 mouse accepts (reports per second). */
static bool
mouse_rate_valid(uint8_t rate)
{
    static const uint8_t valid[] = { 10, 20, 40, 60, 80, 100, 200 };

    return memchr(valid, rate, sizeof(valid)) != NULL;
}

/* Set Defaults: 100 samples/s, 4 counts/mm, 1:1, stream, disabled. */
static void
mouse_defaults(struct ps2_mouse *m)
{
    m->r.rate = 100;
    m->r.resolution = 2;
    m->r.scale21 = 0;
    m->r.remote = 0;
    m->r.enabled = 0;
    mouse_reset_counters(m);
}

static void
mouse_cmd_ack(struct ps2_mouse *m)
{
    mouse_ack(m);
}

static void
mouse_scale11(struct ps2_mouse *m)
{
    m->r.scale21 = 0;
    mouse_ack(m);
}

static void
mouse_scale21_cmd(struct ps2_mouse *m)
{
    m->r.scale21 = 1;
    mouse_ack(m);
}

static void
mouse_set_resolution(struct ps2_mouse *m, uint8_t val)
{
    if (val > 3) {
        mouse_nak(m);
        return;
    }
    m->r.resolution = val;
    mouse_ack(m);
}

static void
mouse_status(struct ps2_mouse *m)
{
    uint8_t b = m->r.buttons;
    uint8_t sts[4] = {
        PS2_ACK,
        (m->r.remote ? MOUSE_STS_REMOTE : 0) |
        (m->r.enabled ? MOUSE_STS_ENABLED : 0) |
        (m->r.scale21 ? MOUSE_STS_SCALE21 : 0) |
        ((b & INPUT_BTN_LEFT) ? MOUSE_STS_LEFT : 0) |
        ((b & INPUT_BTN_MIDDLE) ? MOUSE_STS_MIDDLE : 0) |
        ((b & INPUT_BTN_RIGHT) ? MOUSE_STS_RIGHT : 0),
        m->r.resolution,
        m->r.rate,
    };

    mouse_reply(m, sts, sizeof(sts));
}

static void
mouse_set_stream(struct ps2_mouse *m)
{
    m->r.remote = 0;
    mouse_reset_counters(m);
    mouse_ack(m);
}

static void
mouse_read_data(struct ps2_mouse *m)
{
    uint8_t buf[5] = { PS2_ACK };
    unsigned int n = mouse_packet(m, false, buf + 1);

    m->r.dz = 0;
    mouse_reply(m, buf, n + 1);
}

static void
mouse_reset_wrap(struct ps2_mouse *m)
{
    m->r.wrap = 0;
    mouse_reset_counters(m);
    mouse_ack(m);
}

static void
mouse_set_wrap(struct ps2_mouse *m)
{
    m->r.wrap = 1;
    mouse_reset_counters(m);
    mouse_ack(m);
}

static void
mouse_set_remote(struct ps2_mouse *m)
{
    m->r.remote = 1;
    mouse_reset_counters(m);
    mouse_ack(m);
}

static void
mouse_get_id(struct ps2_mouse *m)
{
    uint8_t id[2] = { PS2_ACK, m->r.id };

    mouse_reply(m, id, sizeof(id));
}

/*
 * Sample rates 200, 100, 80 in a row turn a standard mouse into a wheel
 * mouse (id 3); 200, 200, 80 into a 5-button wheel mouse (id 4), as the
 * IntelliMouse and IntelliMouse Explorer do.
 */
static void
mouse_set_rate(struct ps2_mouse *m, uint8_t val)
{
    const uint8_t *h = m->r.rates;

    if (!mouse_rate_valid(val)) {
        mouse_nak(m);
        return;
    }
    m->r.rate = val;
    m->r.rates[0] = m->r.rates[1];
    m->r.rates[1] = m->r.rates[2];
    m->r.rates[2] = val;
    if (h[0] == 200 && h[1] == 100 && h[2] == 80 && m->r.id == 0) {
        m->r.id = 3;
    } else if (h[0] == 200 && h[1] == 200 && h[2] == 80) {
        m->r.id = 4;
    }
    mouse_ack(m);
}

static void
mouse_enable(struct ps2_mouse *m)
{
    m->r.enabled = 1;
    mouse_reset_counters(m);
    mouse_ack(m);
}

static void
mouse_disable(struct ps2_mouse *m)
{
    m->r.enabled = 0;
    mouse_reset_counters(m);
    mouse_ack(m);
}

static void
mouse_set_defaults(struct ps2_mouse *m)
{
    mouse_defaults(m);
    mouse_ack(m);
}

static void
mouse_resend(struct ps2_mouse *m)
{
    mouse_reply(m, &m->r.last_sent, 1);
}

/* Reset: self test passed (0xaa) and device id 0. */
static void
mouse_reset(struct ps2_mouse *m)
{
    static const uint8_t bat[] = { PS2_ACK, PS2_BAT_OK, 0x00 };

    ps2_queue_clear(&m->r.reply);
    mouse_defaults(m);
    m->r.wrap = 0;
    m->r.id = 0;
    memset(m->r.rates, 0, sizeof(m->r.rates));
    mouse_reply(m, bat, sizeof(bat));
}

struct mouse_cmd {
    void (*run)(struct ps2_mouse *m);
    void (*param)(struct ps2_mouse *m, uint8_t val);
};

static const struct mouse_cmd mouse_cmds[256] = {
    [0xe6] = { mouse_scale11, NULL },
    [0xe7] = { mouse_scale21_cmd, NULL },
    [0xe8] = { mouse_cmd_ack, mouse_set_resolution },
    [0xe9] = { mouse_status, NULL },
    [0xea] = { mouse_set_stream, NULL },
    [0xeb] = { mouse_read_data, NULL },
    [0xec] = { mouse_reset_wrap, NULL },
    [0xee] = { mouse_set_wrap, NULL },
    [0xf0] = { mouse_set_remote, NULL },
    [0xf2] = { mouse_get_id, NULL },
    [0xf3] = { mouse_cmd_ack, mouse_set_rate },
    [0xf4] = { mouse_enable, NULL },
    [0xf5] = { mouse_disable, NULL },
    [0xf6] = { mouse_set_defaults, NULL },
    [0xfe] = { mouse_resend, NULL },
    [0xff] = { mouse_reset, NULL },
};

/* Run a command byte; the mouse drops a packet it had not sent yet. */
static void
mouse_command(struct ps2_mouse *m, uint8_t val)
{
    const struct mouse_cmd *c = &mouse_cmds[val];

    if (!c->run) {
        GUEST_ERR("ps2 mouse: unknown command 0x%02x", val);
        mouse_nak(m);
        return;
    }
    if (val != 0xfe) {
        ps2_queue_clear(&m->r.in);
    }
    c->run(m);
    if (c->param) {
        m->r.pending_cmd = val;
    }
}

void
ps2_mouse_write(struct ps2_mouse *m, uint8_t val)
{
    uint8_t cmd = m->r.pending_cmd;

    m->r.pending_cmd = 0;
    if (m->r.wrap && val != 0xec && val != 0xff) {
        mouse_reply(m, &val, 1);            /* wrap mode echoes */
    } else if (cmd && !(val >= 0xe6 && mouse_cmds[val].run)) {
        mouse_cmds[cmd].param(m, val);
    } else {
        mouse_command(m, val);
    }
    mouse_sync(m);
    m->notify(m->opaque);
}

bool
ps2_mouse_read(struct ps2_mouse *m, uint8_t *val)
{
    if (!ps2_queue_pop(&m->r.reply, val)) {
        if (m->r.pending_cmd || !ps2_queue_pop(&m->r.in, val)) {
            return false;
        }
        mouse_sync(m);
    }
    m->r.last_sent = *val;
    return true;
}

/* ---- mouse: lifecycle --------------------------------------------------- */

static void
mouse_dev_reset(void *opaque)
{
    struct ps2_mouse *m = opaque;

    ps2_queue_clear(&m->r.reply);
    m->r.pending_cmd = 0;
    m->r.last_sent = 0;
    m->r.wrap = 0;
    m->r.id = 0;
    memset(m->r.rates, 0, sizeof(m->r.rates));
    mouse_defaults(m);
}

static void
mouse_save(void *opaque, void *rec)
{
    const struct ps2_mouse *m = opaque;
    struct ps2_mouse_regs *r = rec;

    *r = m->r;
    r->dx = (int32_t)GINT32_TO_LE(m->r.dx);
    r->dy = (int32_t)GINT32_TO_LE(m->r.dy);
    r->dz = (int32_t)GINT32_TO_LE(m->r.dz);
}

static bool
mouse_counter_ok(int32_t le)
{
    int32_t v = GINT32_FROM_LE(le);

    return v >= -MOUSE_PENDING_MAX && v <= MOUSE_PENDING_MAX;
}

static int
mouse_check(const void *rec)
{
    const struct ps2_mouse_regs *r = rec;

    if (!ps2_queue_valid(&r->in, PS2_INPUT_MAX) ||
        !ps2_queue_valid(&r->reply, PS2_REPLY_MAX) ||
        (r->pending_cmd && !mouse_cmds[r->pending_cmd].param) ||
        (r->id != 0 && r->id != 3 && r->id != 4) || r->resolution > 3 ||
        !mouse_rate_valid(r->rate) ||
        r->buttons > 0x1f || r->reported > 0x1f || r->remote > 1 ||
        r->wrap > 1 || r->enabled > 1 || r->scale21 > 1 ||
        r->pad[0] || r->pad[1] ||
        !mouse_counter_ok(r->dx) || !mouse_counter_ok(r->dy) ||
        !mouse_counter_ok(r->dz)) {
        return -EINVAL;
    }
    return 0;
}

static void
mouse_load(void *opaque, const void *rec)
{
    struct ps2_mouse *m = opaque;
    const struct ps2_mouse_regs *r = rec;

    m->r = *r;
    m->r.dx = GINT32_FROM_LE(r->dx);
    m->r.dy = GINT32_FROM_LE(r->dy);
    m->r.dz = GINT32_FROM_LE(r->dz);
}

static void
mouse_destroy(void *opaque)
{
    struct ps2_mouse *m = opaque;

    if (m->dm->board && m->dm->board->ps2_mouse == m) {
        m->dm->board->ps2_mouse = NULL;
    }
    g_free(m);
}

/* ---- ops tables and creation ------------------------------------------- */

static const struct dm_dev_ops kbd_dev_ops = {
    .name = "ps2-kbd",
    .state_version = 1,
    .state_size = sizeof(struct ps2_kbd_regs),
    .reset = kbd_dev_reset,
    .save = kbd_save,
    .check = kbd_check,
    .load = kbd_load,
    .destroy = kbd_destroy,
};

static const struct dm_dev_ops mouse_dev_ops = {
    .name = "ps2-mouse",
    .state_version = 1,
    .state_size = sizeof(struct ps2_mouse_regs),
    .reset = mouse_dev_reset,
    .save = mouse_save,
    .check = mouse_check,
    .load = mouse_load,
    .destroy = mouse_destroy,
};

struct ps2_kbd *
ps2_kbd_new(struct dm *dm, ps2_notify_fn *notify, void *opaque)
{
    struct ps2_kbd *k = g_new0(struct ps2_kbd, 1);

    k->dm = dm;
    k->notify = notify;
    k->opaque = opaque;
    dm_timer_init(&k->repeat, dm, kbd_repeat_fire, k);
    kbd_dev_reset(k);
    dm_dev_register(dm, &k->dev, &kbd_dev_ops, k, 0);
    if (dm->board) {
        dm->board->ps2_kbd = k;
    }
    return k;
}

struct ps2_mouse *
ps2_mouse_new(struct dm *dm, ps2_notify_fn *notify, void *opaque)
{
    struct ps2_mouse *m = g_new0(struct ps2_mouse, 1);

    m->dm = dm;
    m->notify = notify;
    m->opaque = opaque;
    mouse_dev_reset(m);
    dm_dev_register(dm, &m->dev, &mouse_dev_ops, m, 0);
    if (dm->board) {
        dm->board->ps2_mouse = m;
    }
    return m;
}

/* ---- ui/input.h --------------------------------------------------------- */

void
input_key_event(struct dm *dm, unsigned int key, bool down)
{
    if (dm->board && dm->board->ps2_kbd) {
        ps2_kbd_key(dm->board->ps2_kbd, key, down);
    }
}

unsigned int
input_kbd_leds(struct dm *dm)
{
    return (dm->board && dm->board->ps2_kbd) ?
           ps2_kbd_leds(dm->board->ps2_kbd) : 0;
}

void
input_mouse_move(struct dm *dm, int dx, int dy, int dz)
{
    if (dm->board && dm->board->ps2_mouse) {
        ps2_mouse_move(dm->board->ps2_mouse, dx, dy, dz);
    }
}

void
input_mouse_buttons(struct dm *dm, unsigned int buttons)
{
    if (dm->board && dm->board->ps2_mouse) {
        ps2_mouse_buttons(dm->board->ps2_mouse, buttons);
    }
}
