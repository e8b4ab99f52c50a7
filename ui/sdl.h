/*
 * The SDL2 window (-display sdl, xl.cfg sdl=1): the guest's display,
 * scaled to the window with its aspect kept, resized with the guest's mode;
 * keys as scancodes to the PS/2 keyboard; a click grabs keyboard and mouse
 * (relative PS/2 motion), Ctrl-Alt-G releases them, as the title says.
 * Closing the window presses the guest's ACPI power button: the guest shuts
 * down cleanly and the device model keeps running until it does.
 *
 * SDL runs in a thread of its own that owns the window; it sleeps in
 * SDL_WaitEvent() and is woken by an SDL user event when the picture
 * changes. Input reaches the loop thread through a bounded queue.
 */
#ifndef UI_SDL_H
#define UI_SDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dm;
struct sdl;

/* Open the window; NULL with one message naming the fix in err (no
 * DISPLAY, no X server). */
struct sdl *sdl_start(struct dm *dm, char *err, size_t errlen);
void sdl_stop(struct sdl *s);

/* The window title now (it tells how to grab and release). */
void sdl_title(struct sdl *s, char *buf, size_t len);
/* Frames presented so far (tests). */
uint64_t sdl_presents(struct sdl *s);
/* Tests: what the window manager's close button does. */
void sdl_request_close(struct sdl *s);

/* SDL_Scancode (USB HID usage, page 7) -> ui/input.h key; 0 if none. */
unsigned int sdl_scancode_to_key(unsigned int scancode);

#endif
