/*
 * The qemu-xen command line as libxl 4.17-4.21 builds it
 * (libxl_dm.c libxl__build_device_model_args_new, xen-dm-interface.md 3.2),
 * parsed into struct dm_config. One table row per option at the bottom of
 * this file; option values use QEMU's key=value,key=value syntax with ",,"
 * standing for a literal comma. Unknown options, unknown parameters and
 * devices hvmdm does not emulate are errors naming the fix; devices it will
 * emulate but does not yet are accepted with a warning.
 */
#include "dm/config.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/log.h"

#define OPTS_MAX        24      /* key=value items in one option value */
#define HVM_MAX_VCPUS_  128     /* xen/hvm/hvm_info_table.h HVM_MAX_VCPUS */
#define DOMID_FIRST_RESERVED_ 0x7ff0u   /* xen/xen.h DOMID_FIRST_RESERVED */
#define IDE_MAX_INDEX   3       /* two channels, master and slave */
#define MAX_RAM_BYTES   (1ull << 44)    /* 16 TiB, far above any HVM guest */

/* One "key=value" (or bare "key") item of an option value. */
struct opts_item {
    char *key;
    char *val;                  /* NULL: bare flag such as "server" */
    bool used;
};

struct opts {
    struct opts_item item[OPTS_MAX];
    unsigned int n;
};

/* -device ide-cd/ide-hd waiting for its -drive (resolved after argv). */
struct ide_attach {
    char *drive;
    int index;
    enum dm_drive_media media;
};

struct parse_ctx {
    struct dm_config *cfg;
    char *err;
    size_t errlen;
    const char *opt;            /* the option being parsed, for messages */
    struct ide_attach attach[DM_MAX_DRIVES];
    unsigned int nr_attach;
    unsigned int nr_qmp;        /* -qmp chardevs created */
};

static int perr(struct parse_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Format "<option>: <message>" into the caller's buffer; returns -1. */
static int
perr(struct parse_ctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->opt) {
        snprintf(c->err, c->errlen, "%s: %s", c->opt, msg);
    } else {
        snprintf(c->err, c->errlen, "%s", msg);
    }
    return -1;
}

/* ---- the key=value tokenizer ---------------------------------------- */

/* A value runs to the next single ','; ",," is a literal comma. */
static char *
opts_read_value(const char **pp)
{
    GString *s = g_string_new(NULL);
    const char *p = *pp;

    while (*p) {
        if (*p == ',') {
            if (p[1] != ',') {
                break;
            }
            p++;
        }
        g_string_append_c(s, *p++);
    }
    *pp = p;
    return g_string_free(s, FALSE);
}

static char *
opts_read_key(const char **pp)
{
    const char *p = *pp;
    size_t n = strcspn(p, "=,");

    *pp = p + n;
    return g_strndup(p, n);
}

static void
opts_free(struct opts *o)
{
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        g_free(o->item[i].key);
        g_free(o->item[i].val);
    }
    o->n = 0;
}

/* Read one item at *pp; the first may be a bare value of implied_key. */
static int
opts_parse_item(struct parse_ctx *c, struct opts *o, const char **pp,
                const char *implied_key)
{
    const char *start = *pp;
    struct opts_item *it = &o->item[o->n];

    it->key = opts_read_key(pp);
    it->val = NULL;
    it->used = false;
    if (**pp == '=') {
        (*pp)++;
        it->val = opts_read_value(pp);
    } else if (implied_key) {
        g_free(it->key);
        *pp = start;
        it->key = g_strdup(implied_key);
        it->val = opts_read_value(pp);
    }
    o->n++;
    if (it->key[0] == '\0') {
        return perr(c, "empty parameter name in '%s'", start);
    }
    return 0;
}

/*
 * Split "a=1,b=x,,y,flag" into items. implied_key names the key of a
 * leading bare value ("VGA,vgamem_mb=16" is driver=VGA), as QEMU does.
 */
static int
opts_parse(struct parse_ctx *c, struct opts *o, const char *str,
           const char *implied_key)
{
    const char *p = str;

    o->n = 0;
    if (*p == '\0') {
        return perr(c, "empty value");
    }
    for (;;) {
        if (o->n == OPTS_MAX) {
            return perr(c, "more than %d parameters in '%s'", OPTS_MAX, str);
        }
        if (opts_parse_item(c, o, &p, o->n == 0 ? implied_key : NULL) < 0) {
            return -1;
        }
        if (*p == '\0') {
            return 0;
        }
        p++;
        if (*p == '\0') {
            return perr(c, "trailing ',' in '%s' (write ',,' for a comma)",
                        str);
        }
    }
}

/* The last item named key (QEMU lets a later one win); marks all used. */
static struct opts_item *
opts_take(struct opts *o, const char *key)
{
    struct opts_item *found = NULL;
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        if (strcmp(o->item[i].key, key) == 0) {
            o->item[i].used = true;
            found = &o->item[i];
        }
    }
    return found;
}

/* Every item must have been taken; accepted lists the valid keys. */
static int
opts_finish(struct parse_ctx *c, struct opts *o, const char *accepted)
{
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        if (!o->item[i].used) {
            return perr(c, "unknown parameter '%s' (accepted: %s)",
                        o->item[i].key, accepted);
        }
    }
    return 0;
}

/* String parameter: *out = value or NULL when absent. */
static int
opt_str(struct parse_ctx *c, struct opts *o, const char *key,
        const char **out)
{
    struct opts_item *it = opts_take(o, key);

    *out = NULL;
    if (!it) {
        return 0;
    }
    if (!it->val) {
        return perr(c, "parameter '%s' needs a value (%s=...)", key, key);
    }
    *out = it->val;
    return 0;
}

static int
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Boolean parameter; a bare "key" means on. *out unchanged if absent. */
static int
opt_bool(struct parse_ctx *c, struct opts *o, const char *key, bool *out)
{
    struct opts_item *it = opts_take(o, key);

    if (!it) {
        return 0;
    }
    if (!it->val) {
        *out = true;
        return 0;
    }
    if (parse_bool(it->val, out) < 0) {
        return perr(c, "%s=%s: expected on or off", key, it->val);
    }
    return 0;
}

/* Decimal (or 0x hex, never octal) integer in [min, max]; -1 if not. */
static int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    char *end;
    unsigned long long v;

    if (!g_ascii_isxdigit(s[hex ? 2 : 0]) ||
        (!hex && !g_ascii_isdigit(s[0]))) {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, hex ? 16 : 10);
    if (errno || *end || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Integer parameter in [min, max]; *out unchanged if absent. */
static int
opt_uint(struct parse_ctx *c, struct opts *o, const char *key,
         uint64_t min, uint64_t max, uint64_t *out)
{
    const char *v;

    if (opt_str(c, o, key, &v) < 0) {
        return -1;
    }
    if (v && parse_uint(v, min, max, out) < 0) {
        return perr(c, "%s=%s: expected a number from %" PRIu64 " to %"
                    PRIu64, key, v, min, max);
    }
    return 0;
}

/*
 * QEMU size syntax: a number with an optional K/M/G/T suffix (binary
 * units); a bare number is in units of default_shift (20 for -m).
 */
static int
parse_size(const char *s, unsigned int default_shift, uint64_t *out)
{
    static const char suffixes[] = "BKMGT";
    const char *sfx;
    char *end;
    unsigned long long v;
    unsigned int shift = default_shift;

    if (!g_ascii_isdigit(s[0])) {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno) {
        return -1;
    }
    if (*end) {
        sfx = strchr(suffixes, g_ascii_toupper(*end));
        if (!sfx || end[1]) {
            return -1;
        }
        shift = 10 * (unsigned int)(sfx - suffixes);
    }
    if (shift && v > (UINT64_MAX >> shift)) {
        return -1;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

/* "00:16:3e:00:00:01" */
static int
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int i;

    for (i = 0; i < 6; i++) {
        if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1]) ||
            s[2] != (i == 5 ? '\0' : ':')) {
            return -1;
        }
        mac[i] = (uint8_t)(g_ascii_xdigit_value(s[0]) << 4 |
                           g_ascii_xdigit_value(s[1]));
        s += 3;
    }
    return 0;
}

static void
set_str(char **field, const char *value)
{
    g_free(*field);
    *field = g_strdup(value);
}

/* ---- simple options -------------------------------------------------- */

static int
opt_xen_domid(struct parse_ctx *c, const char *arg)
{
    uint64_t v;

    if (parse_uint(arg, 1, DOMID_FIRST_RESERVED_ - 1, &v) < 0) {
        return perr(c, "'%s' is not a guest domain id (1 to %u)", arg,
                    DOMID_FIRST_RESERVED_ - 1);
    }
    c->cfg->domid = (uint32_t)v;
    c->cfg->have_domid = true;
    return 0;
}

static int
opt_xen_domid_restrict(struct parse_ctx *c, const char *arg)
{
    c->cfg->domid_restrict = true;
    return 0;
}

/* hvmdm always attaches to a domain the toolstack built. */
static int
opt_xen_attach(struct parse_ctx *c, const char *arg)
{
    return 0;
}

static int
opt_no_shutdown(struct parse_ctx *c, const char *arg)
{
    c->cfg->no_shutdown = true;
    return 0;
}

static int
opt_start_paused(struct parse_ctx *c, const char *arg)
{
    c->cfg->start_paused = true;
    return 0;
}

/* -nodefaults, -no-user-config: hvmdm has neither defaults nor files. */
static int
opt_noop(struct parse_ctx *c, const char *arg)
{
    return 0;
}

static int
opt_nographic(struct parse_ctx *c, const char *arg)
{
    c->cfg->nographic = true;
    return 0;
}

static int
opt_no_acpi(struct parse_ctx *c, const char *arg)
{
    c->cfg->no_acpi = true;
    return 0;
}

static int
opt_name(struct parse_ctx *c, const char *arg)
{
    struct opts o;
    const char *guest, *process;
    bool threads = false;
    int rc = -1;

    if (opts_parse(c, &o, arg, "guest") < 0 ||
        opt_str(c, &o, "guest", &guest) < 0 ||
        opt_str(c, &o, "process", &process) < 0 ||
        opt_bool(c, &o, "debug-threads", &threads) < 0 ||
        opts_finish(c, &o, "guest, process, debug-threads") < 0) {
        goto out;
    }
    if (!guest) {
        perr(c, "missing the guest name");
        goto out;
    }
    set_str(&c->cfg->name, guest);
    rc = 0;
out:
    opts_free(&o);
    return rc;
}

static int
opt_vnc(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty value; use -vnc none or -vnc HOST:DISPLAY");
    }
    set_str(&c->cfg->vnc, arg);
    return 0;
}

/* libxl passes "-display none" and then, for SDL, "-display sdl". */
static int
opt_display(struct parse_ctx *c, const char *arg)
{
    size_t n = strcspn(arg, ",");

    if (!(n == 4 && strncmp(arg, "none", 4) == 0) &&
        !(n == 3 && strncmp(arg, "sdl", 3) == 0)) {
        return perr(c, "display '%.*s' is not supported; use vnc=1 or sdl=1 "
                    "in the domain config", (int)n, arg);
    }
    set_str(&c->cfg->display, arg);
    return 0;
}

static int
opt_keymap(struct parse_ctx *c, const char *arg)
{
    const char *p;

    for (p = arg; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') {
            return perr(c, "'%s' is not a keymap name such as en-us", arg);
        }
    }
    if (arg[0] == '\0') {
        return perr(c, "empty keymap name; use e.g. keymap=\"en-us\"");
    }
    set_str(&c->cfg->keymap, arg);
    return 0;
}

/* -serial SPEC; the forms listed in dm/config.h. */
static int
opt_serial(struct parse_ctx *c, const char *arg)
{
    static const char *const exact[] = { "pty", "null", "none", "stdio" };
    static const char *const prefix[] = { "file:", "unix:", "chardev:" };
    struct dm_config *cfg = c->cfg;
    bool ok = false;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(exact); i++) {
        ok = ok || strcmp(arg, exact[i]) == 0;
    }
    for (i = 0; i < G_N_ELEMENTS(prefix); i++) {
        ok = ok || (g_str_has_prefix(arg, prefix[i]) &&
                    arg[strlen(prefix[i])] != '\0');
    }
    if (!ok) {
        return perr(c, "serial backend '%s' is not supported; use "
                    "serial=\"pty\" (or file:PATH, unix:PATH, null, none)",
                    arg);
    }
    if (cfg->nr_serial == DM_MAX_SERIAL) {
        return perr(c, "more than %d serial ports", DM_MAX_SERIAL);
    }
    cfg->serial[cfg->nr_serial++] = g_strdup(arg);
    return 0;
}

/* -boot order=cd (or the legacy bare "cd"): drive letters a-p, unique. */
static int
boot_order_check(struct parse_ctx *c, const char *order)
{
    const char *p;

    if (order[0] == '\0' || strlen(order) >= sizeof(c->cfg->boot_order)) {
        return perr(c, "order='%s': give 1 to %zu drive letters", order,
                    sizeof(c->cfg->boot_order) - 1);
    }
    for (p = order; *p; p++) {
        if (*p < 'a' || *p > 'p' || strchr(p + 1, *p)) {
            return perr(c, "order='%s': '%c' is not a boot device or is "
                        "repeated; use c (disk), d (CD-ROM), n (network)",
                        order, *p);
        }
    }
    return 0;
}

static int
opt_boot(struct parse_ctx *c, const char *arg)
{
    struct opts o;
    const char *order;
    bool menu = false;
    int rc = -1;

    if (opts_parse(c, &o, arg, "order") < 0 ||
        opt_str(c, &o, "order", &order) < 0 ||
        opt_bool(c, &o, "menu", &menu) < 0 ||
        opts_finish(c, &o, "order, menu") < 0) {
        goto out;
    }
    if (order) {
        if (boot_order_check(c, order) < 0) {
            goto out;
        }
        g_strlcpy(c->cfg->boot_order, order, sizeof(c->cfg->boot_order));
    }
    rc = 0;
out:
    opts_free(&o);
    return rc;
}

/* -m 48 / -m 48M / -m size=1G: guest RAM, MiB when no suffix. */
static int
opt_memory(struct parse_ctx *c, const char *arg)
{
    struct opts o;
    const char *size;
    uint64_t bytes;
    int rc = -1;

    if (opts_parse(c, &o, arg, "size") < 0 ||
        opt_str(c, &o, "size", &size) < 0 ||
        opts_finish(c, &o, "size (memory hotplug is not supported)") < 0) {
        goto out;
    }
    if (!size || parse_size(size, 20, &bytes) < 0) {
        perr(c, "'%s' is not a memory size; give MiB (e.g. -m 1024) or a "
             "size with a K/M/G/T suffix", arg);
        goto out;
    }
    if (bytes < (1u << 20) || bytes > MAX_RAM_BYTES) {
        perr(c, "'%s' is out of range (1 MiB to 16 TiB)", arg);
        goto out;
    }
    c->cfg->ram_size = bytes;
    rc = 0;
out:
    opts_free(&o);
    return rc;
}

/* -smp N[,maxcpus=M]: vCPUs online at start and the maximum. */
static int
opt_smp(struct parse_ctx *c, const char *arg)
{
    struct opts o;
    uint64_t cpus = 0, maxcpus = 0;
    int rc = -1;

    if (opts_parse(c, &o, arg, "cpus") < 0 ||
        opt_uint(c, &o, "cpus", 1, HVM_MAX_VCPUS_, &cpus) < 0 ||
        opt_uint(c, &o, "maxcpus", 1, HVM_MAX_VCPUS_, &maxcpus) < 0 ||
        opts_finish(c, &o, "cpus, maxcpus") < 0) {
        goto out;
    }
    if (!cpus && !maxcpus) {
        perr(c, "give the number of vCPUs, e.g. -smp 2,maxcpus=4");
        goto out;
    }
    cpus = cpus ? cpus : maxcpus;
    maxcpus = maxcpus ? maxcpus : cpus;
    if (cpus > maxcpus) {
        perr(c, "%" PRIu64 " vCPUs is more than maxcpus=%" PRIu64, cpus,
             maxcpus);
        goto out;
    }
    c->cfg->vcpus = (unsigned int)cpus;
    c->cfg->maxcpus = (unsigned int)maxcpus;
    rc = 0;
out:
    opts_free(&o);
    return rc;
}

static int
opt_incoming(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty value; libxl passes -incoming fd:N");
    }
    set_str(&c->cfg->incoming, arg);
    return 0;
}

static int
opt_chroot(struct parse_ctx *c, const char *arg)
{
    if (arg[0] != '/') {
        return perr(c, "'%s' is not an absolute directory", arg);
    }
    set_str(&c->cfg->chroot, arg);
    return 0;
}

static int
opt_runas(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty user; give a user name or UID:GID");
    }
    set_str(&c->cfg->runas, arg);
    return 0;
}

/* -run-with chroot=DIR,user=USER (libxl 4.20+ with QEMU 9.1+). */
static int
opt_run_with(struct parse_ctx *c, const char *arg)
{
    struct opts o;
    const char *dir, *user;
    int rc = -1;

    if (opts_parse(c, &o, arg, NULL) < 0 ||
        opt_str(c, &o, "chroot", &dir) < 0 ||
        opt_str(c, &o, "user", &user) < 0 ||
        opts_finish(c, &o, "chroot, user") < 0) {
        goto out;
    }
    if ((dir && opt_chroot(c, dir) < 0) || (user && opt_runas(c, user) < 0)) {
        goto out;
    }
    rc = 0;
out:
    opts_free(&o);
    return rc;
}

static int
opt_pidfile(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty file name");
    }
    set_str(&c->cfg->pidfile, arg);
    return 0;
}

/* QEMU's -d selects debug log items; hvmdm has one debug level. */
static int
opt_debug_items(struct parse_ctx *c, const char *arg)
{
    c->cfg->log_level = DM_LOG_DEBUG;
    return 0;
}

static int
opt_logfile(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty file name");
    }
    set_str(&c->cfg->logfile, arg);
    return 0;
}

static int
opt_log_level(struct parse_ctx *c, const char *arg)
{
    static const char *const names[] = {
        [DM_LOG_ERROR] = "error",
        [DM_LOG_WARN] = "warning",
        [DM_LOG_INFO] = "info",
        [DM_LOG_DEBUG] = "debug",
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strcmp(arg, names[i]) == 0 ||
            (i == DM_LOG_WARN && strcmp(arg, "warn") == 0)) {
            c->cfg->log_level = (int)i;
            return 0;
        }
    }
    return perr(c, "'%s' is not a log level; use error, warning, info or "
                "debug", arg);
}

/* ---- -machine -------------------------------------------------------- */

static int
machine_type(struct parse_ctx *c, const char *type)
{
    static const char *const xenfv[] = { "xenfv", "xenfv-4.2", "xenfv-3.1" };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(xenfv); i++) {
        if (strcmp(type, xenfv[i]) == 0) {
            set_str(&c->cfg->machine, "xenfv");
            return 0;
        }
    }
    if (strcmp(type, "pc") == 0 || strcmp(type, "none") == 0) {
        set_str(&c->cfg->machine, type);
        return 0;
    }
    if (strcmp(type, "xenpv") == 0 || strcmp(type, "xenpvh") == 0) {
        return perr(c, "hvmdm serves HVM guests only; remove "
                    "device_model_override from this PV/PVH domain's config");
    }
    return perr(c, "machine '%s' is not emulated; hvmdm builds the i440FX "
                "PC (xenfv, or pc,accel=xen with xen_platform_pci=0)", type);
}

static int
machine_apply(struct parse_ctx *c, struct opts *o)
{
    const char *type, *accel, *below;
    bool vmdesc = true, igd = false;
    uint64_t v;

    if (opt_str(c, o, "type", &type) < 0 ||
        opt_str(c, o, "accel", &accel) < 0 ||
        opt_str(c, o, "max-ram-below-4g", &below) < 0 ||
        opt_bool(c, o, "suppress-vmdesc", &vmdesc) < 0 ||
        opt_bool(c, o, "igd-passthru", &igd) < 0 ||
        opts_finish(c, o, "type, accel, suppress-vmdesc, max-ram-below-4g, "
                    "igd-passthru") < 0) {
        return -1;
    }
    if (type && machine_type(c, type) < 0) {
        return -1;
    }
    if (accel && strcmp(accel, "xen") != 0) {
        return perr(c, "accel=%s: hvmdm runs on Xen only (accel=xen)", accel);
    }
    if (igd) {
        return perr(c, "IGD passthrough is not supported; remove "
                    "gfx_passthru from the domain config");
    }
    if (below) {
        if (parse_size(below, 0, &v) < 0 || v == 0 || v > (1ull << 32)) {
            return perr(c, "max-ram-below-4g=%s: expected a size up to 4G",
                        below);
        }
        c->cfg->max_ram_below_4g = v;
    }
    return 0;
}

/* -machine xenfv,suppress-vmdesc=on / pc,accel=xen,... / none,accel=xen */
static int
opt_machine(struct parse_ctx *c, const char *arg)
{
    struct opts o;
    int rc;

    rc = opts_parse(c, &o, arg, "type");
    if (rc == 0) {
        rc = machine_apply(c, &o);
    }
    opts_free(&o);
    return rc;
}

/* ---- -chardev, -mon, -qmp -------------------------------------------- */

static struct dm_chardev_cfg *
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
chardev_socket(struct parse_ctx *c, struct opts *o, struct dm_chardev_cfg *cd)
{
    const char *path, *host;
    uint64_t fd = UINT64_MAX;
    bool wait = true;

    if (opt_str(c, o, "host", &host) < 0 || opt_str(c, o, "path", &path) < 0 ||
        opt_uint(c, o, "fd", 0, INT32_MAX, &fd) < 0 ||
        opt_bool(c, o, "server", &cd->server) < 0 ||
        opt_bool(c, o, "wait", &wait) < 0) {
        return -1;
    }
    if (opts_take(o, "nowait")) {
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
    return opts_finish(c, o, "id, path, fd, server, wait");
}

/* file: path=PATH; pty, stdio, null: nothing else. */
static int
chardev_backend(struct parse_ctx *c, struct opts *o, struct dm_chardev_cfg *cd)
{
    const char *path;

    if (strcmp(cd->backend, "socket") == 0) {
        return chardev_socket(c, o, cd);
    }
    if (strcmp(cd->backend, "file") == 0) {
        if (opt_str(c, o, "path", &path) < 0) {
            return -1;
        }
        if (!path) {
            return perr(c, "a file chardev needs path=");
        }
        cd->path = g_strdup(path);
        return opts_finish(c, o, "id, path");
    }
    if (strcmp(cd->backend, "pty") == 0 || strcmp(cd->backend, "stdio") == 0 ||
        strcmp(cd->backend, "null") == 0) {
        return opts_finish(c, o, "id");
    }
    if (strcmp(cd->backend, "spicevmc") == 0) {
        return perr(c, "SPICE is not supported; use vnc=1 instead of spice=");
    }
    return perr(c, "chardev backend '%s' is not supported; use socket, pty, "
                "file, stdio or null", cd->backend);
}

/* Add a chardev with the given id and backend; parse the rest from o. */
static int
chardev_add(struct parse_ctx *c, struct opts *o, const char *id,
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

static int
opt_chardev(struct parse_ctx *c, const char *arg)
{
    struct opts o;
    const char *backend, *id;
    int rc = -1;

    if (opts_parse(c, &o, arg, "backend") < 0 ||
        opt_str(c, &o, "backend", &backend) < 0 ||
        opt_str(c, &o, "id", &id) < 0) {
        goto out;
    }
    if (!backend) {
        perr(c, "missing the backend (e.g. socket,id=...)");
        goto out;
    }
    rc = chardev_add(c, &o, id, backend);
out:
    opts_free(&o);
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
static int
opt_mon(struct parse_ctx *c, const char *arg)
{
    struct opts o;
    const char *chardev, *mode;
    bool pretty = false;
    int rc = -1;

    if (opts_parse(c, &o, arg, "chardev") < 0 ||
        opt_str(c, &o, "chardev", &chardev) < 0 ||
        opt_str(c, &o, "mode", &mode) < 0 ||
        opt_bool(c, &o, "pretty", &pretty) < 0 ||
        opts_finish(c, &o, "chardev, mode, pretty") < 0) {
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
    opts_free(&o);
    return rc;
}

/* -qmp unix:PATH[,server=on][,wait=off]: a socket chardev plus a monitor. */
static int
opt_qmp(struct parse_ctx *c, const char *arg)
{
    struct opts o;
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
    opts_free(&o);
    return rc;
}

/* ---- -drive ---------------------------------------------------------- */

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
drive_fields(struct parse_ctx *c, struct opts *o, struct dm_drive_cfg *d)
{
    const char *v;

    if (opt_str(c, o, "if", &v) < 0 || drive_if(c, v, &d->iface) < 0 ||
        opt_str(c, o, "media", &v) < 0 || drive_media(c, v, &d->media) < 0 ||
        opt_str(c, o, "cache", &v) < 0 || drive_cache(c, v, &d->cache) < 0 ||
        opt_str(c, o, "format", &v) < 0 || drive_format(c, v, d) < 0 ||
        opt_bool(c, o, "readonly", &d->readonly) < 0 ||
        opt_str(c, o, "file", &v) < 0) {
        return -1;
    }
    d->file = g_strdup(v);
    if (opt_str(c, o, "id", &v) < 0) {
        return -1;
    }
    if (v && drive_find(c->cfg, v)) {
        return perr(c, "duplicate drive id '%s'", v);
    }
    d->id = g_strdup(v);
    return opts_finish(c, o, "file, if, index, media, format, cache, "
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

static int
opt_drive(struct parse_ctx *c, const char *arg)
{
    struct dm_config *cfg = c->cfg;
    struct dm_drive_cfg *d;
    struct opts o;
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
    if (opt_str(c, &o, "index", &v) < 0) {
        goto out;
    }
    if (v && parse_uint(v, 0, IDE_MAX_INDEX, &index) < 0) {
        perr(c, "index=%s is out of range: IDE has positions 0 to %d "
             "(hda-hdd)", v, IDE_MAX_INDEX);
        goto out;
    }
    if (drive_fields(c, &o, d) < 0 || drive_check(c, d, index) < 0) {
        goto out;
    }
    rc = 0;
out:
    opts_free(&o);
    return rc;
}

/* ---- -netdev, -net --------------------------------------------------- */

static struct dm_netdev_cfg *
netdev_find(struct dm_config *cfg, const char *id)
{
    unsigned int i;

    for (i = 0; i < cfg->nr_netdevs; i++) {
        if (strcmp(cfg->netdevs[i].id, id) == 0) {
            return &cfg->netdevs[i];
        }
    }
    return NULL;
}

static int
netdev_fields(struct parse_ctx *c, struct opts *o, struct dm_netdev_cfg *n)
{
    const char *ifname, *br, *script, *downscript;

    if (opt_str(c, o, "ifname", &ifname) < 0 ||
        opt_str(c, o, "br", &br) < 0 ||
        opt_str(c, o, "script", &script) < 0 ||
        opt_str(c, o, "downscript", &downscript) < 0 ||
        opts_finish(c, o, "type, id, ifname, br, script, downscript") < 0) {
        return -1;
    }
    n->ifname = g_strdup(ifname);
    n->bridge = g_strdup(br);
    n->script = g_strdup(script);
    n->downscript = g_strdup(downscript);
    return 0;
}

/* -netdev type=tap,id=net0,ifname=vif1.0-emu,br=xenbr0,script=no,... */
static int
opt_netdev(struct parse_ctx *c, const char *arg)
{
    struct dm_config *cfg = c->cfg;
    struct dm_netdev_cfg *n;
    struct opts o;
    const char *type, *id;
    int rc = -1;

    if (opts_parse(c, &o, arg, "type") < 0 ||
        opt_str(c, &o, "type", &type) < 0 || opt_str(c, &o, "id", &id) < 0) {
        goto out;
    }
    if (!type || strcmp(type, "tap") != 0) {
        perr(c, "type=%s is not supported; hvmdm uses the tap device libxl "
             "creates for the vif (type=tap)", type ? type : "(none)");
        goto out;
    }
    if (!id) {
        perr(c, "missing id= (the NIC's netdev=)");
        goto out;
    }
    if (netdev_find(cfg, id)) {
        perr(c, "duplicate id '%s'", id);
        goto out;
    }
    if (cfg->nr_netdevs == DM_MAX_NICS) {
        perr(c, "more than %d netdevs", DM_MAX_NICS);
        goto out;
    }
    n = &cfg->netdevs[cfg->nr_netdevs++];
    memset(n, 0, sizeof(*n));
    n->id = g_strdup(id);
    rc = netdev_fields(c, &o, n);
out:
    opts_free(&o);
    return rc;
}

static int
opt_net(struct parse_ctx *c, const char *arg)
{
    if (strcmp(arg, "none") != 0) {
        return perr(c, "'%s': the legacy -net syntax is not supported; use "
                    "-device e1000,netdev=ID -netdev tap,id=ID", arg);
    }
    return 0;
}

/* ---- -device --------------------------------------------------------- */

/* VGA / cirrus-vga,vgamem_mb=N (QEMU's limits: VGA 1-512, cirrus 4/8/16). */
static int
dev_vga(struct parse_ctx *c, struct opts *o, const char *driver)
{
    struct dm_config *cfg = c->cfg;
    bool cirrus = strcmp(driver, "cirrus-vga") == 0;
    uint64_t mb = cirrus ? 4 : 16;
    const char *id;

    if (opt_str(c, o, "id", &id) < 0 ||
        opt_uint(c, o, "vgamem_mb", 1, 512, &mb) < 0 ||
        opts_finish(c, o, "id, vgamem_mb") < 0) {
        return -1;
    }
    if (cirrus && mb != 4 && mb != 8 && mb != 16) {
        return perr(c, "vgamem_mb=%" PRIu64 ": cirrus-vga has 4, 8 or 16 "
                    "MiB; set videoram=8 or 16 in the domain config", mb);
    }
    if (cfg->vga) {
        return perr(c, "a second display adapter (%s after %s); keep one "
                    "vga= setting", driver, cfg->vga);
    }
    cfg->vga = g_strdup(driver);
    cfg->vgamem_mb = (unsigned int)mb;
    return 0;
}

static int
dev_e1000(struct parse_ctx *c, struct opts *o, const char *driver)
{
    struct dm_config *cfg = c->cfg;
    struct dm_nic_cfg *nic;
    const char *id, *netdev, *mac;
    uint8_t addr[6];

    if (opt_str(c, o, "id", &id) < 0 || opt_str(c, o, "netdev", &netdev) < 0 ||
        opt_str(c, o, "mac", &mac) < 0 ||
        opts_finish(c, o, "id, netdev, mac") < 0) {
        return -1;
    }
    if (!netdev) {
        return perr(c, "%s needs netdev=ID naming a -netdev", driver);
    }
    if (mac && parse_mac(mac, addr) < 0) {
        return perr(c, "mac=%s is not a MAC address like 00:16:3e:00:00:01",
                    mac);
    }
    if (cfg->nr_nics == DM_MAX_NICS) {
        return perr(c, "more than %d NICs", DM_MAX_NICS);
    }
    nic = &cfg->nics[cfg->nr_nics++];
    memset(nic, 0, sizeof(*nic));
    nic->model = g_strdup(driver);
    nic->id = g_strdup(id);
    nic->netdev = g_strdup(netdev);
    nic->have_mac = mac != NULL;
    if (mac) {
        memcpy(nic->mac, addr, sizeof(addr));
    }
    return 0;
}

/* bus=ide.N,unit=M -> index N * 2 + M */
static int
ide_position(struct parse_ctx *c, struct opts *o, int *index)
{
    const char *bus;
    uint64_t unit = UINT64_MAX, channel;

    if (opt_str(c, o, "bus", &bus) < 0 ||
        opt_uint(c, o, "unit", 0, 1, &unit) < 0) {
        return -1;
    }
    if (!bus || !g_str_has_prefix(bus, "ide.") ||
        parse_uint(bus + 4, 0, 1, &channel) < 0) {
        return perr(c, "bus=%s: the PIIX IDE buses are ide.0 and ide.1 (for "
                    "AHCI use hdtype=\"ide\")", bus ? bus : "(missing)");
    }
    if (unit == UINT64_MAX) {
        return perr(c, "missing unit=0 (master) or unit=1 (slave)");
    }
    *index = (int)(channel * 2 + unit);
    return 0;
}

/* ide-cd / ide-hd,drive=ID,bus=ide.N,unit=M: attaches an if=none drive. */
static int
dev_ide(struct parse_ctx *c, struct opts *o, const char *driver)
{
    struct ide_attach *a;
    const char *drive, *id;
    int pos = -1;

    if (opt_str(c, o, "drive", &drive) < 0 || opt_str(c, o, "id", &id) < 0 ||
        ide_position(c, o, &pos) < 0 ||
        opts_finish(c, o, "id, drive, bus, unit") < 0) {
        return -1;
    }
    if (!drive) {
        return perr(c, "%s needs drive=ID naming an if=none -drive", driver);
    }
    if (c->nr_attach == DM_MAX_DRIVES) {
        return perr(c, "more than %d IDE devices", DM_MAX_DRIVES);
    }
    a = &c->attach[c->nr_attach++];
    a->drive = g_strdup(drive);
    a->index = pos;
    a->media = strcmp(driver, "ide-cd") == 0 ? DM_MEDIA_CDROM : DM_MEDIA_DISK;
    return 0;
}

static int
dev_xen_platform(struct parse_ctx *c, struct opts *o, const char *driver)
{
    const char *id;

    if (opt_str(c, o, "id", &id) < 0 || opts_finish(c, o, "id") < 0) {
        return -1;
    }
    c->cfg->xen_platform = true;
    return 0;
}

/* piix3-usb-uhci,id=usb (usbversion=1) */
static int
dev_usb_uhci(struct parse_ctx *c, struct opts *o, const char *driver)
{
    const char *id;

    if (opt_str(c, o, "id", &id) < 0 || opts_finish(c, o, "id") < 0) {
        return -1;
    }
    c->cfg->usb = true;
    return 0;
}

/* usb-tablet / usb-mouse / usb-kbd */
static int
dev_usb_hid(struct parse_ctx *c, struct opts *o, const char *driver)
{
    const char *id, *bus;

    if (opt_str(c, o, "id", &id) < 0 || opt_str(c, o, "bus", &bus) < 0 ||
        opts_finish(c, o, "id, bus") < 0) {
        return -1;
    }
    if (strcmp(driver, "usb-tablet") == 0) {
        c->cfg->usb_tablet = true;
    }
    return 0;
}

struct device_def {
    const char *driver;
    int (*parse)(struct parse_ctx *c, struct opts *o, const char *driver);
    const char *later;          /* accepted but not emulated yet: why */
    const char *reject;         /* not emulated: the fix */
};

#define NIC_REJECT(m)                                                   \
    { m, NULL, NULL,                                                    \
      "NIC model " m " is not emulated; use model=e1000 in the vif spec" }
#define SOUND_REJECT(m)                                                 \
    { m, NULL, NULL, "sound hardware (" m ") is not emulated; remove "  \
      "soundhw= from the domain config" }
#define NOT_YET_DISPLAY "display adapters are not emulated yet; the guest " \
    "runs without a display"
#define NOT_YET_USB "USB is not emulated yet; the guest sees no USB devices"
#define NO_USB2 "USB 2.0/3.0 controllers are not emulated; use usbversion=1"
#define NO_SCSI "SCSI is not emulated; name the disk hdX (not sdX) in the " \
    "disk spec"
#define NO_SPICE "SPICE is not supported; use vnc=1 instead of spice="

static const struct device_def device_defs[] = {
    { "e1000", dev_e1000, NULL, NULL },
    { "ide-cd", dev_ide, NULL, NULL },
    { "ide-hd", dev_ide, NULL, NULL },
    { "xen-platform", dev_xen_platform, NULL, NULL },
    { "VGA", dev_vga, NOT_YET_DISPLAY, NULL },
    { "cirrus-vga", dev_vga, NOT_YET_DISPLAY, NULL },
    { "piix3-usb-uhci", dev_usb_uhci, NOT_YET_USB, NULL },
    { "usb-tablet", dev_usb_hid, NOT_YET_USB, NULL },
    { "usb-mouse", dev_usb_hid, NOT_YET_USB, NULL },
    { "usb-kbd", dev_usb_hid, NOT_YET_USB, NULL },
    { "qxl-vga", NULL, NULL,
      "QXL is not emulated; use vga=\"stdvga\" in the domain config" },
    NIC_REJECT("rtl8139"), NIC_REJECT("ne2k_pci"), NIC_REJECT("pcnet"),
    NIC_REJECT("i82550"), NIC_REJECT("i82551"), NIC_REJECT("i82557b"),
    NIC_REJECT("i82559er"), NIC_REJECT("e1000e"), NIC_REJECT("vmxnet3"),
    NIC_REJECT("virtio-net-pci"),
    { "ahci", NULL, NULL,
      "AHCI is not emulated; use hdtype=\"ide\" in the domain config" },
    { "lsi53c895a", NULL, NULL, NO_SCSI },
    { "scsi-hd", NULL, NULL, NO_SCSI },
    { "xen-pvdevice", NULL, NULL, "the XenServer PV device is not "
      "emulated; remove vendor_device= from the domain config" },
    { "ich9-usb-ehci1", NULL, NULL, NO_USB2 },
    { "ich9-usb-uhci1", NULL, NULL, NO_USB2 },
    { "ich9-usb-uhci2", NULL, NULL, NO_USB2 },
    { "ich9-usb-uhci3", NULL, NULL, NO_USB2 },
    { "nec-usb-xhci", NULL, NULL, NO_USB2 },
    { "usb-redir", NULL, NULL, NO_SPICE },
    { "virtio-serial", NULL, NULL, NO_SPICE },
    { "virtserialport", NULL, NULL, NO_SPICE },
    SOUND_REJECT("intel-hda"), SOUND_REJECT("hda-duplex"),
    SOUND_REJECT("AC97"), SOUND_REJECT("ac97"), SOUND_REJECT("ES1370"),
    SOUND_REJECT("es1370"), SOUND_REJECT("sb16"), SOUND_REJECT("cs4231a"),
    SOUND_REJECT("adlib"), SOUND_REJECT("gus"),
};

static const struct device_def *
device_lookup(const char *driver)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(device_defs); i++) {
        if (strcmp(device_defs[i].driver, driver) == 0) {
            return &device_defs[i];
        }
    }
    return NULL;
}

static int
opt_device(struct parse_ctx *c, const char *arg)
{
    const struct device_def *def;
    struct opts o;
    const char *driver;
    int rc = -1;

    if (opts_parse(c, &o, arg, "driver") < 0 ||
        opt_str(c, &o, "driver", &driver) < 0) {
        goto out;
    }
    def = driver ? device_lookup(driver) : NULL;
    if (!def) {
        perr(c, "unknown device '%s'; hvmdm emulates e1000, ide-cd, ide-hd "
             "and xen-platform", driver ? driver : "(none)");
    } else if (def->reject) {
        perr(c, "%s", def->reject);
    } else if (def->parse(c, &o, driver) == 0) {
        if (def->later) {
            DM_WARN("-device %s: %s", driver, def->later);
        }
        rc = 0;
    }
out:
    opts_free(&o);
    return rc;
}

/* -usb: a USB 1.1 controller (usb=1). */
static int
opt_usb(struct parse_ctx *c, const char *arg)
{
    c->cfg->usb = true;
    DM_WARN("-usb: %s", NOT_YET_USB);
    return 0;
}

/* -usbdevice tablet|mouse|keyboard */
static int
opt_usbdevice(struct parse_ctx *c, const char *arg)
{
    if (strcmp(arg, "tablet") == 0) {
        c->cfg->usb_tablet = true;
    } else if (strcmp(arg, "mouse") != 0 && strcmp(arg, "keyboard") != 0) {
        return perr(c, "usbdevice '%s' is not supported; use "
                    "usbdevice=[\"tablet\"]", arg);
    }
    DM_WARN("-usbdevice %s: %s", arg, NOT_YET_USB);
    return 0;
}

/* ---- the option table ------------------------------------------------ */

/* Continuation lines of --help text line up under the first. */
#define HELP_INDENT "                        "

struct opt_def {
    const char *name;           /* without the leading '-' */
    bool has_arg;
    int (*handler)(struct parse_ctx *c, const char *arg);
    const char *help;           /* NULL: rejected, see reject */
    const char *reject;         /* not supported: the fix */
};

static const struct opt_def opt_defs[] = {
    { "xen-domid", true, opt_xen_domid, "DOMID  the HVM domain to serve",
      NULL },
    { "xen-domid-restrict", false, opt_xen_domid_restrict,
      "restrict Xen handles to the domain after setup", NULL },
    { "xen-attach", false, opt_xen_attach, "attach to the domain (default)",
      NULL },
    { "no-shutdown", false, opt_no_shutdown, "(accepted)", NULL },
    { "S", false, opt_start_paused, "wait for QMP 'cont' before running",
      NULL },
    { "chardev", true, opt_chardev,
      "socket,id=ID,path=P|fd=N[,server=on][,wait=off]\n"
      HELP_INDENT "| pty|stdio|null,id=ID | file,id=ID,path=P",
      NULL },
    { "mon", true, opt_mon, "chardev=ID,mode=control  QMP monitor", NULL },
    { "qmp", true, opt_qmp, "unix:PATH[,server=on,wait=off]  QMP monitor",
      NULL },
    { "nodefaults", false, opt_noop, "(accepted)", NULL },
    { "no-user-config", false, opt_noop, "(accepted)", NULL },
    { "name", true, opt_name, "NAME  guest name", NULL },
    { "vnc", true, opt_vnc, "none | HOST:DISPLAY[,password=on][,to=N]",
      NULL },
    { "display", true, opt_display, "none | sdl", NULL },
    { "k", true, opt_keymap, "KEYMAP  VNC keymap (en-us)", NULL },
    { "serial", true, opt_serial,
      "pty|null|none|stdio|file:PATH|unix:PATH|chardev:ID", NULL },
    { "nographic", false, opt_nographic, "no graphical output", NULL },
    { "device", true, opt_device,
      "e1000,netdev=ID[,mac=M] | xen-platform\n"
      HELP_INDENT "| ide-cd|ide-hd,drive=ID,bus=ide.N,unit=M\n"
      HELP_INDENT "| VGA|cirrus-vga[,vgamem_mb=N]",
      NULL },
    { "boot", true, opt_boot, "order=DRIVES  e.g. order=dc", NULL },
    { "netdev", true, opt_netdev, "type=tap,id=ID,ifname=IF[,br=BR]", NULL },
    { "net", true, opt_net, "none", NULL },
    { "machine", true, opt_machine,
      "xenfv | pc,accel=xen [,max-ram-below-4g=SIZE]", NULL },
    { "M", true, opt_machine, "same as -machine", NULL },
    { "m", true, opt_memory, "MIB | SIZE[KMGT]  guest RAM", NULL },
    { "smp", true, opt_smp, "N[,maxcpus=M]  vCPUs", NULL },
    { "drive", true, opt_drive,
      "file=P,if=ide|none,index=0-3,media=disk|cdrom,id=ID\n"
      HELP_INDENT ",format=raw|qcow2,cache=MODE,readonly=on",
      NULL },
    { "no-acpi", false, opt_no_acpi, "guest without ACPI", NULL },
    { "usb", false, opt_usb, "USB 1.1 controller (not emulated yet)",
      NULL },
    { "usbdevice", true, opt_usbdevice, "tablet (not emulated yet)", NULL },
    { "incoming", true, opt_incoming, "fd:N  restore (not supported yet)",
      NULL },
    { "chroot", true, opt_chroot, "DIR  chroot after setup", NULL },
    { "runas", true, opt_runas, "USER|UID:GID  drop privileges after setup",
      NULL },
    { "run-with", true, opt_run_with, "chroot=DIR,user=USER", NULL },
    { "pidfile", true, opt_pidfile, "FILE  write the process id", NULL },
    { "d", true, opt_debug_items, "ITEMS  debug logging", NULL },
    { "D", true, opt_logfile, "FILE  log to FILE instead of stderr", NULL },
    { "log-level", true, opt_log_level, "error|warning|info|debug", NULL },
    { "kernel", true, NULL, NULL, "direct kernel boot is not supported; "
      "remove kernel=/ramdisk=/cmdline= and boot from a disk or CD image" },
    { "initrd", true, NULL, NULL, "direct kernel boot is not supported; "
      "remove kernel=/ramdisk=/cmdline= and boot from a disk or CD image" },
    { "append", true, NULL, NULL, "direct kernel boot is not supported; "
      "remove kernel=/ramdisk=/cmdline= and boot from a disk or CD image" },
    { "spice", true, NULL, NULL, NO_SPICE },
    { "object", true, NULL, NULL,
      "COLO (-object filters) is not supported; remove the colo_* settings" },
};

static const struct opt_def *
opt_lookup(const char *arg)
{
    size_t i;

    if (arg[0] != '-') {
        return NULL;
    }
    arg += arg[1] == '-' ? 2 : 1;
    for (i = 0; i < G_N_ELEMENTS(opt_defs); i++) {
        if (strcmp(opt_defs[i].name, arg) == 0) {
            return &opt_defs[i];
        }
    }
    return NULL;
}

/* ---- checks that need the whole command line ------------------------- */

static int
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

static int
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

static int
check_refs(struct parse_ctx *c)
{
    const struct dm_config *cfg = c->cfg;
    unsigned int i, j;

    c->opt = "-device";
    for (i = 0; i < cfg->nr_nics; i++) {
        if (!netdev_find(c->cfg, cfg->nics[i].netdev)) {
            return perr(c, "netdev=%s: no -netdev has id=%s",
                        cfg->nics[i].netdev, cfg->nics[i].netdev);
        }
        for (j = 0; j < i; j++) {
            if (strcmp(cfg->nics[j].netdev, cfg->nics[i].netdev) == 0) {
                return perr(c, "netdev=%s is used by two NICs",
                            cfg->nics[i].netdev);
            }
        }
    }
    c->opt = "-mon";
    for (i = 0; i < cfg->nr_monitors; i++) {
        if (!chardev_find(c->cfg, cfg->monitors[i].chardev)) {
            return perr(c, "chardev=%s: no -chardev has id=%s",
                        cfg->monitors[i].chardev, cfg->monitors[i].chardev);
        }
    }
    c->opt = "-serial";
    for (i = 0; i < cfg->nr_serial; i++) {
        if (g_str_has_prefix(cfg->serial[i], "chardev:") &&
            !chardev_find(c->cfg, cfg->serial[i] + 8)) {
            return perr(c, "%s: no -chardev has id=%s", cfg->serial[i],
                        cfg->serial[i] + 8);
        }
    }
    return 0;
}

static int
check_machine(struct parse_ctx *c)
{
    struct dm_config *cfg = c->cfg;
    bool xen_machine = cfg->machine && strcmp(cfg->machine, "none") != 0;

    c->opt = NULL;
    if ((xen_machine || cfg->domid_restrict) && !cfg->have_domid) {
        return perr(c, "-xen-domid is missing: hvmdm serves one Xen domain "
                    "and libxl passes -xen-domid DOMID");
    }
    if (cfg->machine && strcmp(cfg->machine, "xenfv") == 0) {
        cfg->xen_platform = true;
    }
    return 0;
}

static int
parse_finish(struct parse_ctx *c)
{
    if (resolve_ide(c) < 0 || check_drives(c) < 0 || check_refs(c) < 0 ||
        check_machine(c) < 0) {
        return -1;
    }
    return 0;
}

static int
parse_args(struct parse_ctx *c, int argc, char *const *argv)
{
    const struct opt_def *def;
    int i;

    for (i = 1; i < argc; i++) {
        def = opt_lookup(argv[i]);
        c->opt = argv[i];
        if (!def) {
            c->opt = NULL;
            return perr(c, "unknown option '%s' (hvmdm --help lists the "
                        "qemu-xen options it accepts)", argv[i]);
        }
        if (def->reject) {
            return perr(c, "%s", def->reject);
        }
        if (def->has_arg && i + 1 >= argc) {
            return perr(c, "missing argument");
        }
        if (def->handler(c, def->has_arg ? argv[++i] : NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

void
dm_config_defaults(struct dm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_size = 128ull << 20;   /* QEMU's default -m */
    cfg->vcpus = 1;
    cfg->maxcpus = 1;
    g_strlcpy(cfg->boot_order, "cad", sizeof(cfg->boot_order));
    cfg->log_level = -1;
}

int
dm_config_parse(struct dm_config *cfg, int argc, char *const *argv,
                char *err, size_t errlen)
{
    struct parse_ctx c = { .cfg = cfg, .err = err, .errlen = errlen };
    unsigned int i;
    int rc;

    rc = parse_args(&c, argc, argv);
    if (rc == 0) {
        rc = parse_finish(&c);
    }
    for (i = 0; i < c.nr_attach; i++) {
        g_free(c.attach[i].drive);
    }
    return rc;
}

void
dm_config_print_help(FILE *out)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(opt_defs); i++) {
        if (opt_defs[i].help) {
            fprintf(out, "  -%-20s %s\n", opt_defs[i].name, opt_defs[i].help);
        }
    }
}

static void
free_drive(struct dm_drive_cfg *d)
{
    g_free(d->id);
    g_free(d->file);
    g_free(d->format);
}

static void
free_net(struct dm_config *cfg)
{
    unsigned int i;

    for (i = 0; i < cfg->nr_nics; i++) {
        g_free(cfg->nics[i].model);
        g_free(cfg->nics[i].id);
        g_free(cfg->nics[i].netdev);
    }
    for (i = 0; i < cfg->nr_netdevs; i++) {
        g_free(cfg->netdevs[i].id);
        g_free(cfg->netdevs[i].ifname);
        g_free(cfg->netdevs[i].bridge);
        g_free(cfg->netdevs[i].script);
        g_free(cfg->netdevs[i].downscript);
    }
}

void
dm_config_free(struct dm_config *cfg)
{
    char **strs[] = { &cfg->name, &cfg->incoming, &cfg->machine, &cfg->vga,
                      &cfg->vnc, &cfg->display, &cfg->keymap, &cfg->runas,
                      &cfg->chroot, &cfg->pidfile, &cfg->logfile };
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(strs); i++) {
        g_free(*strs[i]);
    }
    for (i = 0; i < cfg->nr_serial; i++) {
        g_free(cfg->serial[i]);
    }
    for (i = 0; i < cfg->nr_drives; i++) {
        free_drive(&cfg->drives[i]);
    }
    for (i = 0; i < cfg->nr_chardevs; i++) {
        g_free(cfg->chardevs[i].id);
        g_free(cfg->chardevs[i].backend);
        g_free(cfg->chardevs[i].path);
    }
    for (i = 0; i < cfg->nr_monitors; i++) {
        g_free(cfg->monitors[i].chardev);
    }
    free_net(cfg);
    dm_config_defaults(cfg);
}
