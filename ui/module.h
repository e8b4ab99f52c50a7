/*
 * The display front ends as loadable modules. SDL2 and libvncserver bring
 * some 55 libraries between them (X11, Wayland, PulseAudio, GnuTLS, ...);
 * linked into hvmdm, the dynamic linker maps and relocates every one of
 * them at each start, about 7 MB of resident memory per device model, also
 * for the guests (most of them) that have neither. So hvmdm is linked
 * without them: ui/sdl.c is built as hvmdm-ui-sdl.so, ui/vnc.c with
 * ui/keymap.c as hvmdm-ui-vnc.so, and the first sdl_start() or vnc_start()
 * (-display sdl, -vnc) loads the module: ui/module-calls.c defines what
 * the process calls of sdl.h and vnc.h as calls through the module's
 * table, ui/module.c finds and checks the module.
 * The tests and benchmarks link ui/sdl.c and ui/vnc.c directly.
 *
 * A module is looked up beside the executable (the build tree, the test
 * dom0's /usr/lib/hvmdm/hvmdm), then in ../lib/hvmdm from it (make install:
 * PREFIX/bin/hvmdm, PREFIX/lib/hvmdm/), and must come from the same hvmdm
 * version.
 */
#ifndef UI_MODULE_H
#define UI_MODULE_H

#include <json-glib/json-glib.h>
#include <stddef.h>

struct dm;
struct sdl;
struct vnc;

#define UI_MODULE_ABI       1

/* First member of every module's table. */
struct ui_module_head {
    unsigned int abi;               /* UI_MODULE_ABI */
    const char *version;            /* HVMDM_VERSION */
};

/* hvmdm-ui-vnc.so: symbol ui_vnc_module (ui/vnc.h). */
struct ui_vnc_module {
    struct ui_module_head head;
    struct vnc *(*start)(struct dm *dm, const char *arg, const char *keymap,
                         char *err, size_t errlen);
    void (*stop)(struct vnc *v);
    int (*set_password)(struct vnc *v, const char *password);
    JsonNode *(*qmp_info)(struct vnc *v);
};

/* hvmdm-ui-sdl.so: symbol ui_sdl_module (ui/sdl.h). */
struct ui_sdl_module {
    struct ui_module_head head;
    struct sdl *(*start)(struct dm *dm, char *err, size_t errlen);
    void (*stop)(struct sdl *s);
};

extern const struct ui_vnc_module ui_vnc_module;
extern const struct ui_sdl_module ui_sdl_module;

/*
 * Load hvmdm-ui-NAME.so (once; modules stay loaded) and return its table
 * `symbol`, checked against this build's ABI and version. NULL with one
 * message naming the fix in err.
 */
const struct ui_module_head *ui_module_load(const char *name,
                                            const char *symbol, char *err,
                                            size_t errlen);
/* The same from the first of dirs (NULL-terminated) that has the file. */
const struct ui_module_head *ui_module_load_from(const char *const dirs[],
                                                 const char *name,
                                                 const char *symbol,
                                                 char *err, size_t errlen);

#endif
