/*
 * PS/2 keyboard and mouse as the 8042 controller (hw/i8042/i8042.c) sees
 * them: a device takes the bytes the host sends it and offers the bytes it
 * wants to send, one at a time. The controller pulls a byte whenever its
 * output buffer is free and the device's port is enabled; a device calls
 * its notify function when it has something new to offer.
 */
#ifndef HW_I8042_PS2_H
#define HW_I8042_PS2_H

#include <stdbool.h>
#include <stdint.h>

struct dm;
struct ps2_kbd;
struct ps2_mouse;

/* Replies common to both devices (IBM PS/2 Technical Reference). */
#define PS2_ACK         0xfa
#define PS2_RESEND      0xfe
#define PS2_BAT_OK      0xaa

typedef void ps2_notify_fn(void *opaque);

/*
 * Create the device, register its dm_dev (it is freed by dm_free) and
 * publish it in dm->board for ui/input.h.
 */
struct ps2_kbd *ps2_kbd_new(struct dm *dm, ps2_notify_fn *notify,
                            void *opaque);
struct ps2_mouse *ps2_mouse_new(struct dm *dm, ps2_notify_fn *notify,
                                void *opaque);

/* A byte from the host (port 0x60, or command 0xd4 for the mouse). */
void ps2_kbd_write(struct ps2_kbd *k, uint8_t val);
void ps2_mouse_write(struct ps2_mouse *m, uint8_t val);

/* The next byte the device sends, if it has one; never calls notify. */
bool ps2_kbd_read(struct ps2_kbd *k, uint8_t *val);
bool ps2_mouse_read(struct ps2_mouse *m, uint8_t *val);

/* Input events (ui/input.h has the key numbering and button bits). */
void ps2_kbd_key(struct ps2_kbd *k, unsigned int key, bool down);
unsigned int ps2_kbd_leds(const struct ps2_kbd *k);
void ps2_mouse_move(struct ps2_mouse *m, int dx, int dy, int dz);
void ps2_mouse_buttons(struct ps2_mouse *m, unsigned int buttons);

/* Input events lost to a full buffer since creation (tests, statistics). */
uint32_t ps2_kbd_dropped(const struct ps2_kbd *k);
uint32_t ps2_mouse_dropped(const struct ps2_mouse *m);

#endif
