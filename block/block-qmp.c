/*
 * The block devices' QMP commands (xen-dm-interface.md 3.4, 3.5):
 * query-block and query-blockstats, shaped after QEMU 7.2's replies, and
 * the CD-ROM media commands libxl sends, eject and blockdev-change-medium.
 * The drives are those of the configuration (-drive); the media and the
 * statistics come from the IDE controller through the server's block ops
 * (dm/qmp.h, qmp_set_block_ops).
 */
#include <glib.h>
#include <string.h>

#include "block/block.h"            /* struct blk_stats */
#include "dm/config.h"
#include "dm/qmp-cmd.h"
#include "dm/qmp.h"

char *
qmp_drive_name(const struct dm_drive_cfg *d)
{
    if (d->id) {
        return g_strdup(d->id);
    }
    return g_strdup_printf("ide%d-%s%d", d->index / 2,
                           d->media == DM_MEDIA_CDROM ? "cd" : "hd",
                           d->index % 2);
}

static const struct dm_drive_cfg *
qmp_drive_find(const struct dm_config *cfg, const char *name)
{
    unsigned int i;

    for (i = 0; cfg && i < cfg->nr_drives; i++) {
        g_autofree char *n = qmp_drive_name(&cfg->drives[i]);

        if (strcmp(n, name) == 0) {
            return &cfg->drives[i];
        }
    }
    return NULL;
}

/* The medium now in d: from the device (none if it has gone, e.g. after
 * the platform unplug), else as configured. */
static void
qmp_drive_medium(struct qmp_req *r, const struct dm_drive_cfg *d,
                 struct qmp_medium *m)
{
    const struct qmp_block_ops *block = qmp_block_ops_of(qmp_req_qmp(r));

    memset(m, 0, sizeof(*m));
    if (block && block->medium) {
        block->medium(qmp_req_dm(r), d->index, m);
        return;
    }
    m->inserted = d->file && d->file[0];
    m->file = d->file;
    m->format = d->format ? d->format : "raw";
    m->read_only = d->readonly;
}

static JsonObject *
qmp_drive_inserted(const struct dm_drive_cfg *d, const struct qmp_medium *m)
{
    static const char *const zero[] = {
        "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr",
        "backing_file_depth", "write_threshold",
    };
    JsonObject *o = json_object_new(), *cache = json_object_new();
    size_t i;

    json_object_set_string_member(o, "file", m->file);
    json_object_set_boolean_member(o, "ro", m->read_only);
    json_object_set_string_member(o, "drv", m->format);
    json_object_set_boolean_member(o, "encrypted", false);
    json_object_set_string_member(o, "detect_zeroes", "off");
    for (i = 0; i < G_N_ELEMENTS(zero); i++) {
        json_object_set_int_member(o, zero[i], 0);
    }
    json_object_set_boolean_member(cache, "writeback",
                                   d->cache != DM_CACHE_WRITETHROUGH);
    json_object_set_boolean_member(cache, "direct",
                                   d->cache == DM_CACHE_NONE);
    json_object_set_boolean_member(cache, "no-flush",
                                   d->cache == DM_CACHE_UNSAFE);
    json_object_set_object_member(o, "cache", cache);
    return o;
}

static JsonNode *
qmp_cmd_query_block(struct qmp_req *r)
{
    const struct dm_config *cfg = qmp_req_cfg(r);
    JsonArray *a = json_array_new();
    unsigned int i;

    for (i = 0; cfg && i < cfg->nr_drives; i++) {
        const struct dm_drive_cfg *d = &cfg->drives[i];
        bool cd = d->media == DM_MEDIA_CDROM;
        JsonObject *o = json_object_new();
        struct qmp_medium m;

        g_autofree char *name = qmp_drive_name(d);

        qmp_drive_medium(r, d, &m);
        json_object_set_string_member(o, "device", name);
        json_object_set_string_member(o, "qdev", name);
        json_object_set_boolean_member(o, "locked", m.locked);
        json_object_set_boolean_member(o, "removable", cd);
        if (cd) {
            json_object_set_boolean_member(o, "tray_open", m.tray_open);
        }
        json_object_set_string_member(o, "type", "unknown");
        if (m.inserted) {
            json_object_set_object_member(o, "inserted",
                                          qmp_drive_inserted(d, &m));
        }
        json_array_add_object_element(a, o);
    }
    return qmp_node_take_array(a);
}

static JsonObject *
qmp_blockstats(const struct blk_stats *s)
{
    static const char *const zero[] = {
        "rd_total_time_ns", "wr_total_time_ns", "flush_total_time_ns",
        "wr_highest_offset", "rd_merged", "wr_merged",
        "invalid_rd_operations", "invalid_wr_operations",
        "invalid_flush_operations", "failed_flush_operations",
    };
    JsonObject *o = json_object_new();
    size_t i;

    json_object_set_int_member(o, "rd_bytes", (gint64)s->rd_bytes);
    json_object_set_int_member(o, "wr_bytes", (gint64)s->wr_bytes);
    json_object_set_int_member(o, "rd_operations", (gint64)s->rd_ops);
    json_object_set_int_member(o, "wr_operations", (gint64)s->wr_ops);
    json_object_set_int_member(o, "flush_operations", (gint64)s->flush_ops);
    json_object_set_int_member(o, "failed_rd_operations", 0);
    json_object_set_int_member(o, "failed_wr_operations",
                               (gint64)s->errors);
    for (i = 0; i < G_N_ELEMENTS(zero); i++) {
        json_object_set_int_member(o, zero[i], 0);
    }
    json_object_set_boolean_member(o, "account_invalid", true);
    json_object_set_boolean_member(o, "account_failed", true);
    json_object_set_array_member(o, "timed_stats", json_array_new());
    return o;
}

static JsonNode *
qmp_cmd_query_blockstats(struct qmp_req *r)
{
    const struct dm_config *cfg = qmp_req_cfg(r);
    const struct qmp_block_ops *block = qmp_block_ops_of(qmp_req_qmp(r));
    JsonArray *a = json_array_new();
    unsigned int i;

    for (i = 0; cfg && i < cfg->nr_drives; i++) {
        const struct dm_drive_cfg *d = &cfg->drives[i];
        struct blk_stats s = { 0 };
        JsonObject *o = json_object_new();

        if (block && block->stats) {
            block->stats(qmp_req_dm(r), d->index, &s);
        }
        g_autofree char *name = qmp_drive_name(d);

        json_object_set_string_member(o, "device", name);
        json_object_set_string_member(o, "qdev", name);
        json_object_set_object_member(o, "stats", qmp_blockstats(&s));
        json_array_add_object_element(a, o);
    }
    return qmp_node_take_array(a);
}

/* The CD-ROM a request names by "id" (libxl, QEMU >= 2.8) or "device". */
static const struct dm_drive_cfg *
qmp_removable(struct qmp_req *r)
{
    const char *id = qmp_arg_str(r, "id"), *dev = qmp_arg_str(r, "device");
    const struct dm_drive_cfg *d;

    if (!id == !dev) {
        qmp_fail(r, "GenericError", "Need exactly one of 'device' and 'id'");
        return NULL;
    }
    d = qmp_drive_find(qmp_req_cfg(r), id ? id : dev);
    if (!d || d->media != DM_MEDIA_CDROM ||
        !qmp_block_ops_of(qmp_req_qmp(r))) {
        qmp_fail(r, "GenericError", "no such removable device: %s",
                 id ? id : dev);
        return NULL;
    }
    return d;
}

static JsonNode *
qmp_cmd_eject(struct qmp_req *r)
{
    const struct qmp_block_ops *block = qmp_block_ops_of(qmp_req_qmp(r));
    const struct dm_drive_cfg *d = qmp_removable(r);
    bool force = qmp_arg_bool(r, "force", false);
    char err[256] = "";

    if (!d) {
        return NULL;
    }
    if (block->eject(qmp_req_dm(r), d->index, force, err, sizeof(err)) < 0) {
        qmp_fail(r, "GenericError", "%s", err);
        return NULL;
    }
    return qmp_empty_object();
}

static JsonNode *
qmp_cmd_change_medium(struct qmp_req *r)
{
    const struct qmp_block_ops *block = qmp_block_ops_of(qmp_req_qmp(r));
    const struct dm_drive_cfg *d = qmp_removable(r);
    g_autofree char *path = NULL;
    const char *mode = qmp_arg_str(r, "read-only-mode");
    char err[256] = "";

    if (!d) {
        return NULL;
    }
    if (mode && strcmp(mode, "retain") != 0 &&
        strcmp(mode, "read-only") != 0) {
        qmp_fail(r, "GenericError", "read-only-mode %s: a CD-ROM is "
                 "read-only; use retain or read-only", mode);
        return NULL;
    }
    path = qmp_req_resolve_fdset(r, qmp_arg_str(r, "filename"));
    if (!path) {
        return NULL;
    }
    if (block->change_media(qmp_req_dm(r), d->index, path,
                            qmp_arg_str(r, "format"),
                            qmp_arg_bool(r, "force", false), err,
                            sizeof(err)) < 0) {
        qmp_fail(r, "GenericError", "%s", err);
        return NULL;
    }
    return qmp_empty_object();
}

static const struct qmp_arg qmp_args_blockstats[] = {
    { "query-nodes", QMP_ARG_BOOL, false }, { NULL, 0, false },
};
static const struct qmp_arg qmp_args_eject[] = {
    { "device", QMP_ARG_STR, false }, { "id", QMP_ARG_STR, false },
    { "force", QMP_ARG_BOOL, false }, { NULL, 0, false },
};
static const struct qmp_arg qmp_args_change_medium[] = {
    { "device", QMP_ARG_STR, false }, { "id", QMP_ARG_STR, false },
    { "filename", QMP_ARG_STR, true }, { "format", QMP_ARG_STR, false },
    { "read-only-mode", QMP_ARG_STR, false },
    { "force", QMP_ARG_BOOL, false }, { NULL, 0, false },
};

static const struct qmp_cmd block_qmp_cmds[] = {
    { "query-block", qmp_cmd_query_block, false, NULL },
    { "query-blockstats", qmp_cmd_query_blockstats, false,
      qmp_args_blockstats },
    { "eject", qmp_cmd_eject, false, qmp_args_eject },
    { "blockdev-change-medium", qmp_cmd_change_medium, false,
      qmp_args_change_medium },
    { NULL, NULL, false, NULL },
};

/* Registered for every QMP server: without IDE block ops the queries
 * report the configuration and the media commands refuse. */
static void __attribute__((constructor))
block_qmp_register(void)
{
    qmp_register_cmds(block_qmp_cmds);
}
