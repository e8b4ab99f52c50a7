/*
 * Keyboard layouts for front ends that receive X11 keysyms (a VNC client
 * without the QEMU extended key event): QEMU's keymap files, read at run
 * time from /usr/share/qemu/keymaps (Debian's qemu-system-data), turn a
 * keysym into the key that produces it and the modifiers it needs; the
 * translator below then presses and releases keys as a PC keyboard would,
 * adding or lifting Shift and AltGr when the client's modifier state does
 * not match what the layout needs for that symbol.
 *
 * Key numbers in the files are QEMU's "qnum": the PC/AT set 1 make code,
 * with bit 7 set for keys sent with the 0xe0 prefix (0xc8 is cursor up).
 * The RFB QEMU extended key event uses the same numbering.
 */
#ifndef UI_KEYMAP_H
#define UI_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYMAP_DIR          "/usr/share/qemu/keymaps"
#define KEYMAP_DEFAULT      "en-us"

/* Modifiers a keymap entry asks for. */
#define KEYMAP_SHIFT        (1u << 0)
#define KEYMAP_ALTGR        (1u << 1)
#define KEYMAP_NUMLOCK      (1u << 2)
#define KEYMAP_CTRL         (1u << 3)

struct keymap;

/*
 * Load layout `name` (and the files it includes) from dir. NULL with a
 * message naming the fix in err when the layout does not exist or is
 * malformed.
 */
struct keymap *keymap_load(const char *dir, const char *name, char *err,
                           size_t errlen);
void keymap_free(struct keymap *km);
/* Number of keysyms the layout maps. */
unsigned int keymap_size(const struct keymap *km);
/* The first key the layout lists for keysym; false if none. */
bool keymap_lookup(const struct keymap *km, uint32_t keysym,
                   unsigned int *qnum, unsigned int *mods);

/* A qnum as a ui/input.h key number; 0 for a number no key has. */
unsigned int keymap_qnum_to_key(unsigned int qnum);

/* ---- the keysym translator (one per client connection) -------------- */

typedef void keymap_emit_fn(void *opaque, unsigned int key, bool down);

#define KEYMAP_MAX_DOWN     32

struct keymap_state {
    const struct keymap *km;
    bool shift_l, shift_r;          /* held through keysyms */
    bool altgr;                     /* ISO_Level3_Shift / Mode_switch */
    unsigned int nr_down;
    uint32_t down_sym[KEYMAP_MAX_DOWN];
    unsigned int down_key[KEYMAP_MAX_DOWN];
};

void keymap_state_init(struct keymap_state *s, const struct keymap *km);
/*
 * A keysym went down or up. leds are the guest's keyboard LEDs
 * (ui/input.h INPUT_LED_*), for Caps Lock and Num Lock. Emits the key
 * events to send; false if the layout has no key for keysym.
 */
bool keymap_key_event(struct keymap_state *s, uint32_t keysym, bool down,
                      unsigned int leds, keymap_emit_fn *emit, void *opaque);
/* Release everything still held (client gone). */
void keymap_release_all(struct keymap_state *s, keymap_emit_fn *emit,
                        void *opaque);

#endif
