/*
 * Writing the display to a file (ui/screendump.c): QMP "screendump" and
 * the tests' and `make demo`'s way to see the guest.
 */
#ifndef UI_SCREENDUMP_H
#define UI_SCREENDUMP_H

#include <stdbool.h>
#include <stddef.h>

struct display;

/* Refresh d and write it as PPM (png false) or PNG; 0 or -errno with a
 * message in err. */
int display_screendump(struct display *d, const char *path, bool png,
                       char *err, size_t errlen);
/* Add "screendump" to every QMP server (idempotent). */
void screendump_register(void);

#endif
