/*
 * -drive (dm/options.c has the table and the option rows): IDE disks and
 * CD-ROMs at index=0-3, or if=none drives a -device ide-hd/ide-cd attaches
 * (resolved once every option is parsed), with the format and cache mode
 * libxl names (xen-dm-interface.md 3.2).
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "dm/options-int.h"

#define IDE_MAX_INDEX   3       /* two channels, master and slave */

static int
drive_if(struct parse_ctx *c, const char *v, enum dm_drive_if *out)
{
    if (!v || strcmp(v, "ide") == 0) {
        *out = DM_IF_IDE;
    } else if (strcmp(v, "none") == 0) {
        *out = DM_IF_NONE;
    } else {
        return perr(c, "if=%s is not emulated; use an IDE disk (hdX in the "
                    "disk spec)", v);
    }
    return 0;
}

static int
drive_media(struct parse_ctx *c, const char *v, enum dm_drive_media *out)
{
    if (!v || strcmp(v, "disk") == 0) {
        *out = DM_MEDIA_DISK;
    } else if (strcmp(v, "cdrom") == 0) {
        *out = DM_MEDIA_CDROM;
    } else {
        return perr(c, "media=%s: expected disk or cdrom", v);
    }
    return 0;
}

static int
drive_format(struct parse_ctx *c, const char *v, struct dm_drive_cfg *d)
{
    if (v && strcmp(v, "raw") != 0 && strcmp(v, "qcow2") != 0) {
        return perr(c, "disk format %s is not supported; convert the image "
                    "with qemu-img convert -O qcow2 (or raw)", v);
    }
    d->format = g_strdup(v);
    return 0;
}

static int
drive_cache(struct parse_ctx *c, const char *v, enum dm_drive_cache *out)
{
    static const char *const names[] = {
        [DM_CACHE_WRITEBACK] = "writeback",
        [DM_CACHE_WRITETHROUGH] = "writethrough",
        [DM_CACHE_NONE] = "none",
        [DM_CACHE_UNSAFE] = "unsafe",
    };
    size_t i;

    if (!v) {
        *out = DM_CACHE_WRITEBACK;
        return 0;
    }
    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (enum dm_drive_cache)i;
            return 0;
        }
    }
    return perr(c, "cache=%s: expected writeback, writethrough, none or "
                "unsafe", v);
}

static struct dm_drive_cfg *
drive_find(struct dm_config *cfg, const char *id)
{
    unsigned int i;

    for (i = 0; i < cfg->nr_drives; i++) {
        if (cfg->drives[i].id && strcmp(cfg->drives[i].id, id) == 0) {
            return &cfg->drives[i];
        }
    }
    return NULL;
}

/* Lowest IDE index no drive uses yet (QEMU's default for if=ide). */
static int
drive_free_index(const struct dm_config *cfg)
{
    unsigned int i;
    int idx;

    for (idx = 0; idx <= IDE_MAX_INDEX; idx++) {
        for (i = 0; i < cfg->nr_drives; i++) {
            if (cfg->drives[i].iface == DM_IF_IDE &&
                cfg->drives[i].index == idx) {
                break;
            }
        }
        if (i == cfg->nr_drives) {
            return idx;
        }
    }
    return -1;
}

/* The parameters that are plain strings or enums. */
static int
drive_fields(struct parse_ctx *c, struct dm_opts *o, struct dm_drive_cfg *d)
{
    const char *v;

    if (dm_opts_str(o, "if", &v) < 0 || drive_if(c, v, &d->iface) < 0 ||
        dm_opts_str(o, "media", &v) < 0 || drive_media(c, v, &d->media) < 0 ||
        dm_opts_str(o, "cache", &v) < 0 || drive_cache(c, v, &d->cache) < 0 ||
        dm_opts_str(o, "format", &v) < 0 || drive_format(c, v, d) < 0 ||
        dm_opts_bool(o, "readonly", &d->readonly) < 0 ||
        dm_opts_str(o, "file", &v) < 0) {
        return -1;
    }
    d->file = g_strdup(v);
    if (dm_opts_str(o, "id", &v) < 0) {
        return -1;
    }
    if (v && drive_find(c->cfg, v)) {
        return perr(c, "duplicate drive id '%s'", v);
    }
    d->id = g_strdup(v);
    return dm_opts_finish(o, "file, if, index, media, format, cache, "
                       "readonly, id");
}

/* A disk has an image and is writable; a CD-ROM is read-only. */
static int
drive_media_check(struct parse_ctx *c, struct dm_drive_cfg *d)
{
    if (d->media == DM_MEDIA_CDROM) {
        d->readonly = true;
        return 0;
    }
    if (!d->file || d->file[0] == '\0') {
        return perr(c, "a disk needs file=PATH (only a CD-ROM may be empty)");
    }
    if (d->readonly) {
        return perr(c, "read-only IDE disks are not supported; attach the "
                    "image as a CD-ROM (devtype=cdrom) or read-write");
    }
    return 0;
}

/* Consistency of one drive once its parameters are known. */
static int
drive_check(struct parse_ctx *c, struct dm_drive_cfg *d, uint64_t index)
{
    if (d->iface == DM_IF_NONE) {
        /* The -device that attaches it decides disk or CD-ROM. */
        if (!d->id) {
            return perr(c, "if=none needs id= so a -device can use it");
        }
        d->index = -1;
        return 0;
    }
    if (drive_media_check(c, d) < 0) {
        return -1;
    }
    d->index = index == UINT64_MAX ? drive_free_index(c->cfg) : (int)index;
    if (d->index < 0) {
        return perr(c, "all four IDE positions are taken");
    }
    return 0;
}

int
opt_drive(struct parse_ctx *c, const char *arg)
{
    struct dm_config *cfg = c->cfg;
    struct dm_drive_cfg *d;
    struct dm_opts o;
    const char *v;
    uint64_t index = UINT64_MAX;
    int rc = -1;

    if (cfg->nr_drives == DM_MAX_DRIVES) {
        return perr(c, "more than %d drives", DM_MAX_DRIVES);
    }
    d = &cfg->drives[cfg->nr_drives++];
    memset(d, 0, sizeof(*d));
    if (opts_parse(c, &o, arg, NULL) < 0) {
        goto out;
    }
    if (dm_opts_str(&o, "index", &v) < 0) {
        goto out;
    }
    if (v && dm_parse_uint(v, 0, IDE_MAX_INDEX, &index) < 0) {
        perr(c, "index=%s is out of range: IDE has positions 0 to %d "
             "(hda-hdd)", v, IDE_MAX_INDEX);
        goto out;
    }
    if (drive_fields(c, &o, d) < 0 || drive_check(c, d, index) < 0) {
        goto out;
    }
    rc = 0;
out:
    dm_opts_free(&o);
    return rc;
}

/* ---- once every option is parsed ------------------------------------ */

int
resolve_ide(struct parse_ctx *c)
{
    struct dm_drive_cfg *d;
    unsigned int i;

    c->opt = "-device";
    for (i = 0; i < c->nr_attach; i++) {
        d = drive_find(c->cfg, c->attach[i].drive);
        if (!d) {
            return perr(c, "drive=%s: no -drive has id=%s",
                        c->attach[i].drive, c->attach[i].drive);
        }
        if (d->iface != DM_IF_NONE) {
            return perr(c, "drive=%s is already attached (give the -drive "
                        "if=none)", c->attach[i].drive);
        }
        if (c->attach[i].media == DM_MEDIA_DISK && d->media == DM_MEDIA_CDROM) {
            return perr(c, "drive=%s is a CD-ROM; attach it with ide-cd",
                        c->attach[i].drive);
        }
        d->iface = DM_IF_IDE;
        d->index = c->attach[i].index;
        d->media = c->attach[i].media;
        if (drive_media_check(c, d) < 0) {
            return -1;
        }
    }
    return 0;
}

int
check_drives(struct parse_ctx *c)
{
    const struct dm_config *cfg = c->cfg;
    unsigned int i, j;

    c->opt = "-drive";
    for (i = 0; i < cfg->nr_drives; i++) {
        if (cfg->drives[i].iface == DM_IF_NONE) {
            return perr(c, "id=%s is not attached; add -device ide-cd,drive="
                        "%s,bus=ide.N,unit=M", cfg->drives[i].id,
                        cfg->drives[i].id);
        }
        for (j = 0; j < i; j++) {
            if (cfg->drives[j].index == cfg->drives[i].index) {
                return perr(c, "two drives at IDE position %d (hd%c)",
                            cfg->drives[i].index, 'a' + cfg->drives[i].index);
            }
        }
    }
    return 0;
}
