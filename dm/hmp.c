/*
 * human-monitor-command (dm/hmp.h): "info status", "info version",
 * "info block", "info chardev", plus the registered info tables; "help".
 * Unknown commands answer with a line saying so, as QEMU's monitor does;
 * only a malformed request is a QMP error.
 */
#include "dm/hmp.h"

#include <errno.h>
#include <string.h>

#include "dm/chardev.h"
#include "dm/config.h"
#include "dm/machine.h"
#include "dm/qmp-cmd.h"
#include "dm/qmp.h"
#include "dm/report.h"      /* HVMDM_VERSION */

#define HMP_MAX_TABLES  8
#define HMP_MAX_LINE    1024    /* longest command line accepted */

static const struct hmp_info *hmp_tables[HMP_MAX_TABLES];
static unsigned int hmp_nr_tables;

int
hmp_register_info(const struct hmp_info *table)
{
    unsigned int i;

    for (i = 0; i < hmp_nr_tables; i++) {
        if (hmp_tables[i] == table) {
            return 0;
        }
    }
    if (hmp_nr_tables == HMP_MAX_TABLES) {
        return -ENOSPC;
    }
    hmp_tables[hmp_nr_tables++] = table;
    return 0;
}

static const struct hmp_info *
hmp_find(const char *name)
{
    const struct hmp_info *e;
    unsigned int i;

    for (i = 0; i < hmp_nr_tables; i++) {
        for (e = hmp_tables[i]; e->name; e++) {
            if (strcmp(e->name, name) == 0) {
                return e;
            }
        }
    }
    return NULL;
}

static void
hmp_list(GString *out)
{
    const struct hmp_info *e;
    unsigned int i;

    for (i = 0; i < hmp_nr_tables; i++) {
        for (e = hmp_tables[i]; e->name; e++) {
            if (hmp_find(e->name) == e) {
                g_string_append_printf(out, "info %-10s -- %s\r\n", e->name,
                                       e->help);
            }
        }
    }
}

/* ---- the core's info subcommands ------------------------------------- */

static void
info_status(struct qmp_req *r, GString *out)
{
    static const char *const text[] = {
        [QMP_RUN_PRELAUNCH] = "paused (prelaunch)",
        [QMP_RUN_RUNNING] = "running",
        [QMP_RUN_PAUSED] = "paused",
    };
    enum qmp_run_state s = qmp_run_state(qmp_req_qmp(r));

    g_string_append_printf(out, "VM status: %s\r\n",
                           s < G_N_ELEMENTS(text) && text[s] ? text[s]
                                                             : "unknown");
}

static void
info_version(struct qmp_req *r, GString *out)
{
    g_string_append(out, "hvmdm " HVMDM_VERSION "\r\n");
}

/* One drive, in the shape of QEMU's "info block". */
static void
info_block_drive(struct qmp_req *r, const struct dm_drive_cfg *d,
                 GString *out)
{
    static const char *const cache[] = {
        [DM_CACHE_WRITEBACK] = "writeback",
        [DM_CACHE_WRITETHROUGH] = "writethrough",
        [DM_CACHE_NONE] = "writeback, direct",
        [DM_CACHE_UNSAFE] = "writeback, ignore flushes",
    };
    const struct qmp_block_ops *ops = qmp_block_ops_of(qmp_req_qmp(r));
    g_autofree char *name = qmp_drive_name(d);
    struct qmp_medium m = { 0 };
    bool cd = d->media == DM_MEDIA_CDROM;

    if (ops && ops->medium) {
        ops->medium(qmp_req_dm(r), d->index, &m);
    } else {
        m.inserted = d->file && d->file[0];
        m.file = d->file;
        m.format = d->format ? d->format : "raw";
        m.read_only = d->readonly;
    }
    if (m.inserted) {
        g_string_append_printf(out, "%s: %s (%s%s)\r\n", name, m.file,
                               m.format, m.read_only ? ", read-only" : "");
    } else {
        g_string_append_printf(out, "%s: [not inserted]\r\n", name);
    }
    g_string_append_printf(out, "    Attached to:      IDE position %d "
                           "(hd%c)\r\n", d->index, 'a' + d->index);
    if (cd) {
        g_string_append_printf(out, "    Removable device: %slocked, tray "
                               "%s\r\n", m.locked ? "" : "not ",
                               m.tray_open ? "open" : "closed");
    }
    if (m.inserted) {
        g_string_append_printf(out, "    Cache mode:       %s\r\n",
                               cache[d->cache]);
    }
}

static void
info_block(struct qmp_req *r, GString *out)
{
    const struct dm *dm = qmp_req_dm(r);
    unsigned int i;

    for (i = 0; dm && dm->cfg && i < dm->cfg->nr_drives; i++) {
        if (i) {
            g_string_append(out, "\r\n");
        }
        info_block_drive(r, &dm->cfg->drives[i], out);
    }
}

static void
info_chardev(struct qmp_req *r, GString *out)
{
    struct dm *dm = qmp_req_dm(r);
    const struct dm_chardev *ch;

    for (ch = dm ? dm_chardev_next(dm, NULL) : NULL; ch;
         ch = dm_chardev_next(dm, ch)) {
        g_string_append_printf(out, "%s: filename=%s\r\n",
                               dm_chardev_label(ch), dm_chardev_filename(ch));
    }
}

static void
info_registers(struct qmp_req *r, GString *out)
{
    g_string_append(out, "info registers is not supported: the vCPUs run "
                    "in Xen, not in hvmdm (use xenctx or xl debug-keys)\r\n");
}

static const struct hmp_info hmp_core_infos[] = {
    { "status", "the run state", info_status },
    { "version", "the hvmdm version", info_version },
    { "block", "drives and their media", info_block },
    { "chardev", "character devices (serial ports)", info_chardev },
    { "registers", "not supported (the vCPUs run in Xen)", info_registers },
    { NULL, NULL, NULL },
};

/* ---- the command ------------------------------------------------------ */

static void
hmp_run(struct qmp_req *r, char **words, GString *out)
{
    const struct hmp_info *e;

    if (!words[0]) {
        return;
    }
    if (strcmp(words[0], "help") == 0 || strcmp(words[0], "?") == 0 ||
        (strcmp(words[0], "info") == 0 && !words[1])) {
        hmp_list(out);
        return;
    }
    if (strcmp(words[0], "info") != 0) {
        g_string_append_printf(out, "unknown command: '%s' (hvmdm answers "
                               "info commands; try 'help')\r\n", words[0]);
        return;
    }
    e = hmp_find(words[1]);
    if (!e) {
        g_string_append_printf(out, "info %s is not supported; try "
                               "'help'\r\n", words[1]);
        return;
    }
    e->fn(r, out);
}

static JsonNode *
hmp_cmd(struct qmp_req *r)
{
    const char *line = qmp_arg_str(r, "command-line");
    g_autofree char *copy = NULL;
    GString *out;
    char **words;
    JsonNode *n;

    if (strlen(line) > HMP_MAX_LINE) {
        qmp_fail(r, "GenericError", "command line longer than %d bytes",
                 HMP_MAX_LINE);
        return NULL;
    }
    copy = g_strstrip(g_strdup(line));
    words = g_regex_split_simple("\\s+", copy, 0, 0);
    out = g_string_new(NULL);
    hmp_run(r, copy[0] ? words : (char *[]){ NULL }, out);
    g_strfreev(words);
    n = json_node_init_string(json_node_alloc(), out->str);
    g_string_free(out, TRUE);
    return n;
}

static const struct qmp_arg hmp_args[] = {
    { "command-line", QMP_ARG_STR, true },
    { "cpu-index", QMP_ARG_INT, false },
    { NULL, 0, false },
};

static const struct qmp_cmd hmp_cmds[] = {
    { "human-monitor-command", hmp_cmd, false, hmp_args },
    { NULL, NULL, false, NULL },
};

static void __attribute__((constructor))
hmp_register(void)
{
    qmp_register_cmds(hmp_cmds);
    hmp_register_info(hmp_core_infos);
}
