/*
 * Loading the display front ends (ui/module.h). A module that loaded is
 * never unloaded: its libraries start threads (SDL, libvncserver).
 */
#include "ui/module.h"

#include <dlfcn.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dm/report.h"                /* HVMDM_VERSION */

/* The directory of the running executable, or NULL. */
static char *
ui_module_exe_dir(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *dir;

    if (!exe) {
        return NULL;
    }
    dir = g_path_get_dirname(exe);
    g_free(exe);
    return dir;
}

/* dlopen the first dirs[i]/file that exists; NULL with the reason in err. */
static void *
ui_module_open(const char *file, const char *const dirs[], char *err,
               size_t errlen)
{
    unsigned int i;
    char *path;
    void *h;

    for (i = 0; dirs[i]; i++) {
        path = g_build_filename(dirs[i], file, NULL);
        if (access(path, F_OK) < 0) {
            g_free(path);
            continue;
        }
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            snprintf(err, errlen, "cannot load %s: %s (reinstall hvmdm "
                     "with make install)", path, dlerror());
        }
        g_free(path);
        return h;
    }
    path = g_strjoinv(" nor in ", (char **)dirs);
    snprintf(err, errlen, "%s is not in %s: install hvmdm with make "
             "install (PREFIX/bin/hvmdm, PREFIX/lib/hvmdm/%s)", file, path,
             file);
    g_free(path);
    return NULL;
}

/* The table `symbol` of h, if it was built for this hvmdm. */
static const struct ui_module_head *
ui_module_table(void *h, const char *file, const char *symbol, char *err,
                size_t errlen)
{
    const struct ui_module_head *t = dlsym(h, symbol);

    if (!t) {
        snprintf(err, errlen, "%s has no %s: not an hvmdm module", file,
                 symbol);
    } else if (t->abi != UI_MODULE_ABI ||
               strcmp(t->version, HVMDM_VERSION) != 0) {
        snprintf(err, errlen, "%s is from hvmdm %s (ABI %u), this is hvmdm "
                 "%s (ABI %u): install the modules of this build (make "
                 "install)", file, t->version, t->abi, HVMDM_VERSION,
                 UI_MODULE_ABI);
        t = NULL;
    }
    return t;
}

const struct ui_module_head *
ui_module_load_from(const char *const dirs[], const char *name,
                    const char *symbol, char *err, size_t errlen)
{
    char *file = g_strdup_printf("hvmdm-ui-%s.so", name);
    const struct ui_module_head *t = NULL;
    void *h = ui_module_open(file, dirs, err, errlen);

    if (h) {
        t = ui_module_table(h, file, symbol, err, errlen);
    }
    if (h && !t) {
        dlclose(h);                 /* nothing of it ran but constructors */
    }
    g_free(file);
    return t;
}

/* Beside the executable, then in ../lib/hvmdm from it (make install). */
const struct ui_module_head *
ui_module_load(const char *name, const char *symbol, char *err,
               size_t errlen)
{
    char *exe_dir = ui_module_exe_dir();
    char *lib_dir, *up;
    const char *dirs[3] = { NULL, NULL, NULL };
    const struct ui_module_head *t;

    if (!exe_dir) {
        snprintf(err, errlen, "cannot find the hvmdm executable "
                 "(/proc/self/exe) to find its modules: mount /proc");
        return NULL;
    }
    up = g_build_filename(exe_dir, "..", "lib", "hvmdm", NULL);
    lib_dir = g_canonicalize_filename(up, NULL);
    dirs[0] = exe_dir;
    dirs[1] = lib_dir;
    t = ui_module_load_from(dirs, name, symbol, err, errlen);
    g_free(lib_dir);
    g_free(up);
    g_free(exe_dir);
    return t;
}
