/*
 * -chardev, -mon and -qmp (dm/options.c has the table and the option
 * rows): character device backends (socket on a UNIX path or an inherited
 * fd, file, pty, stdio, null) and the QMP monitors that use them, as libxl
 * passes them (xen-dm-interface.md 3.2).
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dm/options-int.h"

struct dm_chardev_cfg *
chardev_find(struct dm_config *cfg, const char *id)
{
    unsigned int i;

    for (i = 0; i < cfg->nr_chardevs; i++) {
        if (strcmp(cfg->chardevs[i].id, id) == 0) {
            return &cfg->chardevs[i];
        }
    }
    return NULL;
}

/* socket: path=PATH or fd=N, server=on|off, wait=on|off (or "nowait"). */
static int
chardev_socket(struct parse_ctx *c, struct dm_opts *o,
               struct dm_chardev_cfg *cd)
{
    const char *path, *host;
    uint64_t fd = UINT64_MAX;
    bool wait = true;

    if (dm_opts_str(o, "host", &host) < 0 ||
        dm_opts_str(o, "path", &path) < 0 ||
        dm_opts_uint(o, "fd", 0, INT32_MAX, &fd) < 0 ||
        dm_opts_bool(o, "server", &cd->server) < 0 ||
        dm_opts_bool(o, "wait", &wait) < 0) {
        return -1;
    }
    if (dm_opts_take(o, "nowait")) {
        wait = false;
    }
    if (host) {
        return perr(c, "TCP sockets are not supported; use path= (a UNIX "
                    "socket) or fd=");
    }
    if (!path == (fd == UINT64_MAX)) {
        return perr(c, "a socket needs exactly one of path= and fd=");
    }
    cd->path = g_strdup(path);
    cd->fd = fd == UINT64_MAX ? -1 : (int)fd;
    cd->wait = wait;
    return dm_opts_finish(o, "id, path, fd, server, wait");
}

/* file: path=PATH; pty, stdio, null: nothing else. */
static int
chardev_backend(struct parse_ctx *c, struct dm_opts *o,
                struct dm_chardev_cfg *cd)
{
    const char *path;

    if (strcmp(cd->backend, "socket") == 0) {
        return chardev_socket(c, o, cd);
    }
    if (strcmp(cd->backend, "file") == 0) {
        if (dm_opts_str(o, "path", &path) < 0) {
            return -1;
        }
        if (!path) {
            return perr(c, "a file chardev needs path=");
        }
        cd->path = g_strdup(path);
        return dm_opts_finish(o, "id, path");
    }
    if (strcmp(cd->backend, "pty") == 0 || strcmp(cd->backend, "stdio") == 0 ||
        strcmp(cd->backend, "null") == 0) {
        return dm_opts_finish(o, "id");
    }
    if (strcmp(cd->backend, "spicevmc") == 0) {
        return perr(c, "SPICE is not supported; use vnc=1 instead of spice=");
    }
    return perr(c, "chardev backend '%s' is not supported; use socket, pty, "
                "file, stdio or null", cd->backend);
}

/* Add a chardev with the given id and backend; parse the rest from o. */
static int
chardev_add(struct parse_ctx *c, struct dm_opts *o, const char *id,
            const char *backend)
{
    struct dm_config *cfg = c->cfg;
    struct dm_chardev_cfg *cd;

    if (!id || id[0] == '\0') {
        return perr(c, "missing id=");
    }
    if (chardev_find(cfg, id)) {
        return perr(c, "duplicate chardev id '%s'", id);
    }
    if (cfg->nr_chardevs == DM_MAX_CHARDEVS) {
        return perr(c, "more than %d chardevs", DM_MAX_CHARDEVS);
    }
    cd = &cfg->chardevs[cfg->nr_chardevs++];
    memset(cd, 0, sizeof(*cd));
    cd->id = g_strdup(id);
    cd->backend = g_strdup(backend);
    cd->fd = -1;
    cd->wait = true;
    return chardev_backend(c, o, cd);
}

int
opt_chardev(struct parse_ctx *c, const char *arg)
{
    struct dm_opts o;
    const char *backend, *id;
    int rc = -1;

    if (opts_parse(c, &o, arg, "backend") < 0 ||
        dm_opts_str(&o, "backend", &backend) < 0 ||
        dm_opts_str(&o, "id", &id) < 0) {
        goto out;
    }
    if (!backend) {
        perr(c, "missing the backend (e.g. socket,id=...)");
        goto out;
    }
    /* xl.cfg channel=: libxl's PV console channels */
    if (id && g_str_has_prefix(id, "libxl-channel") &&
        value_apply(c, "-chardev", "libxl-channel", 13) < 0) {
        goto out;
    }
    rc = chardev_add(c, &o, id, backend);
out:
    dm_opts_free(&o);
    return rc;
}

static int
monitor_add(struct parse_ctx *c, const char *chardev)
{
    struct dm_config *cfg = c->cfg;
    struct dm_monitor_cfg *m;

    if (cfg->nr_monitors == DM_MAX_MONITORS) {
        return perr(c, "more than %d monitors", DM_MAX_MONITORS);
    }
    m = &cfg->monitors[cfg->nr_monitors++];
    m->chardev = g_strdup(chardev);
    m->control = true;
    return 0;
}

/* -mon chardev=ID,mode=control: a QMP monitor (no human monitor). */
int
opt_mon(struct parse_ctx *c, const char *arg)
{
    struct dm_opts o;
    const char *chardev, *mode;
    bool pretty = false;
    int rc = -1;

    if (opts_parse(c, &o, arg, "chardev") < 0 ||
        dm_opts_str(&o, "chardev", &chardev) < 0 ||
        dm_opts_str(&o, "mode", &mode) < 0 ||
        dm_opts_bool(&o, "pretty", &pretty) < 0 ||
        dm_opts_finish(&o, "chardev, mode, pretty") < 0) {
        goto out;
    }
    if (!chardev) {
        perr(c, "missing chardev=");
        goto out;
    }
    if (!mode || strcmp(mode, "control") != 0) {
        perr(c, "only QMP monitors are supported; add mode=control");
        goto out;
    }
    rc = monitor_add(c, chardev);
out:
    dm_opts_free(&o);
    return rc;
}

/* -qmp unix:PATH[,server=on][,wait=off]: a socket chardev plus a monitor. */
int
opt_qmp(struct parse_ctx *c, const char *arg)
{
    struct dm_opts o;
    char id[32];
    int rc = -1;

    o.n = 0;
    if (!g_str_has_prefix(arg, "unix:")) {
        return perr(c, "'%s': only unix:PATH is supported", arg);
    }
    snprintf(id, sizeof(id), "compat_monitor%u", c->nr_qmp++);
    if (opts_parse(c, &o, arg + 5, "path") < 0 ||
        chardev_add(c, &o, id, "socket") < 0) {
        goto out;
    }
    rc = monitor_add(c, id);
out:
    dm_opts_free(&o);
    return rc;
}
