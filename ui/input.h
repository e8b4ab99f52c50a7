/*
 * Keyboard and pointer input from the user interface (VNC, SDL) into the
 * guest's PS/2 devices (hw/i8042/ps2.c). Call these on the dm loop thread
 * only: a UI running its own thread hands events over with dm_post().
 * Without a PS/2 keyboard or mouse on the board the calls do nothing.
 */
#ifndef UI_INPUT_H
#define UI_INPUT_H

#include <stdbool.h>

struct dm;

/*
 * Key numbers are PC/AT scan code set 1 make codes, the "atset1" column of
 * keycodemapdb and the key numbering of the Microsoft Keyboard Scan Code
 * Specification (rev. 1.3a, appendix A): 0x01..0x7f for keys sent as one
 * byte, 0xe0xx for keys sent with the 0xe0 prefix (INPUT_KEY_E0 | code, e.g.
 * 0xe048 cursor up, 0xe01d right Ctrl), and INPUT_KEY_PAUSE for Pause/Break,
 * whose make sequence starts with 0xe1. The keyboard turns them into the
 * scan code set the guest selected, so they are independent of the guest's
 * set and of the 8042's translation. PrintScreen is 0xe037 and SysRq (Alt +
 * PrintScreen) comes out of it when Alt is held, as on a real keyboard.
 */
#define INPUT_KEY_E0        0xe000u
#define INPUT_KEY_PAUSE     0xe11du

/*
 * Report the physical state of a key: down when pressed, up when released.
 * The keyboard repeats a held key itself at the typematic rate the guest
 * programmed (command 0xf3), so a further "down" for a key that is already
 * down is ignored; a UI must not synthesise repeats.
 */
void input_key_event(struct dm *dm, unsigned int key, bool down);

/* Bitmask of the keyboard LEDs the guest last set (command 0xed). */
#define INPUT_LED_SCROLL    (1u << 0)
#define INPUT_LED_NUM       (1u << 1)
#define INPUT_LED_CAPS      (1u << 2)
unsigned int input_kbd_leds(struct dm *dm);

/* Pointer buttons, in the bit order of a PS/2 mouse packet. */
#define INPUT_BTN_LEFT      (1u << 0)
#define INPUT_BTN_RIGHT     (1u << 1)
#define INPUT_BTN_MIDDLE    (1u << 2)
#define INPUT_BTN_SIDE      (1u << 3)   /* button 4 ("back") */
#define INPUT_BTN_EXTRA     (1u << 4)   /* button 5 ("forward") */

/*
 * Relative pointer motion in mouse counts: dx positive to the right, dy
 * positive downwards (screen direction, as UIs report it), dz wheel clicks
 * positive when the wheel turns away from the user (scroll up).
 */
void input_mouse_move(struct dm *dm, int dx, int dy, int dz);
/* The whole button state as INPUT_BTN_* bits; a change sends a packet. */
void input_mouse_buttons(struct dm *dm, unsigned int buttons);

#endif
