/*
 * What hvmdm calls of ui/sdl.h and ui/vnc.h, as calls through the table of
 * the module that has them (ui/module.h); the first sdl_start() or
 * vnc_start() loads it. Only the hvmdm binary links this file: the tests
 * link ui/sdl.c and ui/vnc.c themselves.
 *
 * The table pointers are process state (which code is loaded), not guest
 * state: set on the loop thread during setup, never cleared.
 */
#include "ui/module.h"
#include "ui/sdl.h"
#include "ui/vnc.h"

static const struct ui_vnc_module *vnc_mod;
static const struct ui_sdl_module *sdl_mod;

/* ---- ui/vnc.h, through hvmdm-ui-vnc.so --------------------------------- */

struct vnc *
vnc_start(struct dm *dm, const char *arg, const char *keymap, char *err,
          size_t errlen)
{
    if (!vnc_mod) {
        vnc_mod = (const struct ui_vnc_module *)
            ui_module_load("vnc", "ui_vnc_module", err, errlen);
    }
    return vnc_mod ? vnc_mod->start(dm, arg, keymap, err, errlen) : NULL;
}

/* A server exists only once the module is loaded. */
void
vnc_stop(struct vnc *v)
{
    if (v && vnc_mod) {
        vnc_mod->stop(v);
    }
}

int
vnc_set_password(struct vnc *v, const char *password)
{
    return vnc_mod->set_password(v, password);
}

JsonNode *
vnc_qmp_info(struct vnc *v)
{
    return vnc_mod->qmp_info(v);
}

/* ---- ui/sdl.h, through hvmdm-ui-sdl.so --------------------------------- */

struct sdl *
sdl_start(struct dm *dm, char *err, size_t errlen)
{
    if (!sdl_mod) {
        sdl_mod = (const struct ui_sdl_module *)
            ui_module_load("sdl", "ui_sdl_module", err, errlen);
    }
    return sdl_mod ? sdl_mod->start(dm, err, errlen) : NULL;
}

void
sdl_stop(struct sdl *s)
{
    if (s && sdl_mod) {
        sdl_mod->stop(s);
    }
}
