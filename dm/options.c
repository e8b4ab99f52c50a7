/*
 * The qemu-xen command line as libxl 4.17-4.21 builds it
 * (libxl_dm.c libxl__build_device_model_args_new, xen-dm-interface.md 3.2),
 * parsed into struct dm_config. The option table at the bottom of this file
 * has one row per option, per -device driver and per option value whose
 * handling differs, each with its status (struct dm_opt_row): implemented;
 * accepted with one warning naming what the guest will not get; or refused
 * with advice naming something that works. Nothing is accepted in silence:
 * unknown options, parameters and devices are errors naming the fix. When
 * a feature lands, its row flips from DM_OPT_WARN to DM_OPT_IMPLEMENTED
 * (OPT_WARN to OPT); tests/test-option-table.c checks every row's sample.
 * Option values use QEMU's key=value syntax (dm/opts.h); a subsystem's own
 * sub-options stay raw in the config (cfg->vnc) for it to parse.
 * The option families with parsers of their own live beside this file:
 * -chardev, -mon and -qmp in options-chardev.c, -drive in options-drive.c,
 * -netdev and -net in options-net.c, -device in options-device.c; they
 * share the parse context of dm/options-int.h.
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
#include "dm/options-int.h"
#include "dm/opts.h"

#define HVM_MAX_VCPUS_  128     /* xen/hvm/hvm_info_table.h HVM_MAX_VCPUS */
#define DOMID_FIRST_RESERVED_ 0x7ff0u   /* xen/xen.h DOMID_FIRST_RESERVED */
#define MAX_RAM_BYTES   (1ull << 44)    /* 16 TiB, far above any HVM guest */

/* Format "<option>: <message>" into the caller's buffer; returns -1. */
int
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

/* ---- the status of a row ------------------------------------------- */

/* Record "<label>: <note>" once; repeating an option warns once. */
static void
note_add(struct parse_ctx *c, const char *label, const char *note)
{
    struct dm_config *cfg = c->cfg;
    char *s = g_strdup_printf("%s: %s", label, note);
    unsigned int i;

    for (i = 0; i < cfg->nr_notes; i++) {
        if (strcmp(cfg->notes[i], s) == 0) {
            g_free(s);
            return;
        }
    }
    if (cfg->nr_notes == DM_MAX_NOTES) {
        g_free(cfg->notes[DM_MAX_NOTES - 1]);
        cfg->nr_notes--;
    }
    cfg->notes[cfg->nr_notes++] = s;
}

/* Implemented: 0. Warned: note it, 0. Refused: the row's fix, -1. */
int
row_apply(struct parse_ctx *c, const struct dm_opt_row *row)
{
    char label[64];

    if (row->value && strcmp(row->value, "*") != 0) {
        snprintf(label, sizeof(label), "%s %s", row->name, row->value);
    } else {
        snprintf(label, sizeof(label), "%s", row->name);
    }
    if (row->status == DM_OPT_WARN) {
        note_add(c, label, row->note);
    } else if (row->status == DM_OPT_REFUSED) {
        snprintf(c->err, c->errlen, "%s: %s", label, row->note);
        return -1;
    }
    return 0;
}

static const struct dm_opt_row value_rows[];
static const size_t nr_value_rows;

/* The row of name's value (its first n bytes), else name's "*" row. */
static const struct dm_opt_row *
value_row(const char *name, const char *value, size_t n)
{
    const struct dm_opt_row *any = NULL;
    size_t i;

    for (i = 0; i < nr_value_rows; i++) {
        const struct dm_opt_row *r = &value_rows[i];

        if (strcmp(r->name, name) != 0) {
            continue;
        }
        if (strcmp(r->value, "*") == 0) {
            any = r;
        } else if (strlen(r->value) == n && strncmp(r->value, value, n) == 0) {
            return r;
        }
    }
    return any;
}

/* Apply the status of -name VALUE (the first n bytes of value). */
int
value_apply(struct parse_ctx *c, const char *name, const char *value,
            size_t n)
{
    const struct dm_opt_row *row = value_row(name, value, n);

    return row ? row_apply(c, row) : 0;
}

/* Split an option value; errors are prefixed with the option's name. */
int
opts_parse(struct parse_ctx *c, struct dm_opts *o, const char *str,
           const char *implied_key)
{
    return dm_opts_parse(o, str, implied_key, c->opt, c->err, c->errlen);
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

    if (dm_parse_uint(arg, 1, DOMID_FIRST_RESERVED_ - 1, &v) < 0) {
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

/* -vga TYPE, QEMU's older spelling of -device VGA (hw/vga/stdvga.c). */
static int
opt_vga(struct parse_ctx *c, const char *arg)
{
    struct dm_config *cfg = c->cfg;

    g_free(cfg->vga);
    cfg->vga = NULL;
    if (strcmp(arg, "none") == 0) {
        return 0;
    }
    if (strcmp(arg, "cirrus") == 0) {
        DM_WARN("-vga cirrus: %s", NO_CIRRUS);
    } else if (strcmp(arg, "std") != 0) {
        return perr(c, "-vga %s: use none, std or cirrus (vga= in the "
                    "domain config)", arg);
    }
    cfg->vga = g_strdup(arg[0] == 'c' ? "cirrus-vga" : "VGA");
    cfg->vgamem_mb = 16;
    return 0;
}

static int
opt_nographic(struct parse_ctx *c, const char *arg)
{
    c->cfg->nographic = true;
    return 0;
}

static int
opt_block_backing(struct parse_ctx *c, const char *arg)
{
    if (strcmp(arg, "on") == 0) {
        c->cfg->backing = DM_BACKING_NAMED;
    } else if (strcmp(arg, "off") == 0) {
        c->cfg->backing = DM_BACKING_OFF;
    } else if (strcmp(arg, "raw-ok") == 0) {
        c->cfg->backing = DM_BACKING_RAW_OK;
    } else {
        return perr(c, "'%s' is not a backing policy; use on, off or raw-ok",
                    arg);
    }
    return 0;
}

/* -ioreq-spin US: the loop's adaptive spin, at most 1 ms (dm/loop.h). */
static int
opt_ioreq_spin(struct parse_ctx *c, const char *arg)
{
    uint64_t v;

    if (dm_parse_uint(arg, 0, 1000, &v) < 0) {
        return perr(c, "'%s' is not a spin time in microseconds (0 to 1000)",
                    arg);
    }
    c->cfg->ioreq_spin_us = (unsigned int)v;
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
    struct dm_opts o;
    const char *guest, *process;
    bool threads = false;

    o.n = 0;
    /* libxl passes the domain name as it is: QEMU's syntax when it fits,
     * else the whole string ("-h", "a,b", "x,") is the name. */
    if (arg[0] != '\0' && opts_parse(c, &o, arg, "guest") == 0 &&
        dm_opts_str(&o, "guest", &guest) == 0 &&
        dm_opts_str(&o, "process", &process) == 0 &&
        dm_opts_bool(&o, "debug-threads", &threads) == 0 &&
        dm_opts_finish(&o, "guest, process, debug-threads") == 0 && guest) {
        set_str(&c->cfg->name, guest);
    } else {
        set_str(&c->cfg->name, arg);
    }
    c->err[0] = '\0';
    dm_opts_free(&o);
    return 0;
}

/* The argument stays raw in cfg->vnc for the VNC server to parse. */
static int
opt_vnc(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty value; use -vnc none or -vnc HOST:DISPLAY");
    }
    if (value_apply(c, "-vnc", arg, strcspn(arg, ",")) < 0) {
        return -1;
    }
    set_str(&c->cfg->vnc, arg);
    return 0;
}

/* libxl passes "-display none" and then, for SDL, "-display sdl". */
static int
opt_display(struct parse_ctx *c, const char *arg)
{
    if (value_apply(c, "-display", arg, strcspn(arg, ",")) < 0) {
        return -1;
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
    struct dm_opts o;
    const char *order;
    bool menu = false;
    int rc = -1;

    if (opts_parse(c, &o, arg, "order") < 0 ||
        dm_opts_str(&o, "order", &order) < 0 ||
        dm_opts_bool(&o, "menu", &menu) < 0 ||
        dm_opts_finish(&o, "order, menu") < 0) {
        goto out;
    }
    if (order) {
        if (boot_order_check(c, order) < 0) {
            goto out;
        }
        g_strlcpy(c->cfg->boot_order, order, sizeof(c->cfg->boot_order));
    }
    if (menu) {
        note_add(c, "-boot menu=on", "no boot menu is offered");
    }
    rc = 0;
out:
    dm_opts_free(&o);
    return rc;
}

/* -m 48 / -m 48M / -m size=1G: guest RAM, MiB when no suffix. */
static int
opt_memory(struct parse_ctx *c, const char *arg)
{
    struct dm_opts o;
    const char *size;
    uint64_t bytes;
    int rc = -1;

    if (opts_parse(c, &o, arg, "size") < 0 ||
        dm_opts_str(&o, "size", &size) < 0 ||
        dm_opts_finish(&o, "size (memory hotplug is not supported)") < 0) {
        goto out;
    }
    if (!size || dm_parse_size(size, 20, &bytes) < 0) {
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
    dm_opts_free(&o);
    return rc;
}

/* -smp N[,maxcpus=M]: vCPUs online at start and the maximum. */
static int
opt_smp(struct parse_ctx *c, const char *arg)
{
    struct dm_opts o;
    uint64_t cpus = 0, maxcpus = 0;
    int rc = -1;

    if (opts_parse(c, &o, arg, "cpus") < 0 ||
        dm_opts_uint(&o, "cpus", 1, HVM_MAX_VCPUS_, &cpus) < 0 ||
        dm_opts_uint(&o, "maxcpus", 1, HVM_MAX_VCPUS_, &maxcpus) < 0 ||
        dm_opts_finish(&o, "cpus, maxcpus") < 0) {
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
    dm_opts_free(&o);
    return rc;
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
    struct dm_opts o;
    const char *dir, *user;
    int rc = -1;

    if (opts_parse(c, &o, arg, NULL) < 0 ||
        dm_opts_str(&o, "chroot", &dir) < 0 ||
        dm_opts_str(&o, "user", &user) < 0 ||
        dm_opts_finish(&o, "chroot, user") < 0) {
        goto out;
    }
    if ((dir && opt_chroot(c, dir) < 0) || (user && opt_runas(c, user) < 0)) {
        goto out;
    }
    rc = 0;
out:
    dm_opts_free(&o);
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

/* -kernel/-initrd/-append: xl.cfg kernel=, ramdisk=, cmdline= (hw/fw_cfg). */
static int
opt_kernel(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty file name");
    }
    set_str(&c->cfg->kernel, arg);
    return 0;
}

static int
opt_initrd(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty file name");
    }
    set_str(&c->cfg->initrd, arg);
    return 0;
}

static int
opt_append(struct parse_ctx *c, const char *arg)
{
    set_str(&c->cfg->append, arg);
    return 0;
}

static int
opt_firmware_dir(struct parse_ctx *c, const char *arg)
{
    if (arg[0] == '\0') {
        return perr(c, "empty directory name");
    }
    set_str(&c->cfg->firmware_dir, arg);
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

    /* QEMU's "xenfv" is xenfv-3.1, whose compat turns the VGA's EDID off. */
    c->cfg->machine_no_edid = strcmp(type, "xenfv") == 0 ||
                              strcmp(type, "xenfv-3.1") == 0;
    for (i = 0; i < G_N_ELEMENTS(xenfv); i++) {
        if (strcmp(type, xenfv[i]) == 0) {
            type = "xenfv";
        }
    }
    if (value_apply(c, "-machine", type, strlen(type)) < 0) {
        return -1;
    }
    set_str(&c->cfg->machine, type);
    return 0;
}

static int
machine_apply(struct parse_ctx *c, struct dm_opts *o)
{
    const char *type, *accel, *below;
    bool vmdesc = true, igd = false;
    uint64_t v;

    if (dm_opts_str(o, "type", &type) < 0 ||
        dm_opts_str(o, "accel", &accel) < 0 ||
        dm_opts_str(o, "max-ram-below-4g", &below) < 0 ||
        dm_opts_bool(o, "suppress-vmdesc", &vmdesc) < 0 ||
        dm_opts_bool(o, "igd-passthru", &igd) < 0 ||
        dm_opts_finish(o, "type, accel, suppress-vmdesc, max-ram-below-4g, "
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
        if (dm_parse_size(below, 0, &v) < 0 || v == 0 || v > (1ull << 32)) {
            return perr(c, "max-ram-below-4g=%s: expected a size up to 4G",
                        below);
        }
        c->cfg->max_ram_below_4g = v;
        note_add(c, "-machine max-ram-below-4g", "the CMOS memory size "
                 "ignores it (guests use hvmloader's E820 map, which follows "
                 "mmio_hole=)");
    }
    return 0;
}

/* -machine xenfv,suppress-vmdesc=on / pc,accel=xen,... / none,accel=xen */
static int
opt_machine(struct parse_ctx *c, const char *arg)
{
    struct dm_opts o;
    int rc;

    rc = opts_parse(c, &o, arg, "type");
    if (rc == 0) {
        rc = machine_apply(c, &o);
    }
    dm_opts_free(&o);
    return rc;
}

static int
opt_help(struct parse_ctx *c, const char *arg)
{
    c->cfg->show_help = true;
    return 0;
}

static int
opt_version(struct parse_ctx *c, const char *arg)
{
    c->cfg->show_version = true;
    return 0;
}

/* ---- the option table ------------------------------------------------ */

/* Continuation lines of --help text line up under the first. */
#define HELP_INDENT "                        "

/*
 * Values of options whose status depends on the value ("*": any value not
 * listed). The option's handler applies the row (value_apply).
 */
static const struct dm_opt_row value_rows[] = {
    { "-vnc", "none", DM_OPT_IMPLEMENTED, NULL, "none  no VNC server",
      "-vnc none" },
    { "-vnc", "*", DM_OPT_IMPLEMENTED, NULL,
      "HOST:DISPLAY[,password=on][,to=N]  VNC server",
      "-vnc 127.0.0.1:0,password=on,to=99" },
    { "-display", "none", DM_OPT_IMPLEMENTED, NULL, "none  no local display",
      "-display none" },
    { "-display", "sdl", DM_OPT_IMPLEMENTED, NULL, "sdl  an SDL window",
      "-display sdl" },
    { "-display", "*", DM_OPT_REFUSED, "only none and sdl are accepted; "
      WORKS_CONSOLE, NULL, "-display gtk" },
    { "-machine", "xenfv", DM_OPT_IMPLEMENTED, NULL,
      "xenfv[,max-ram-below-4g=SIZE]  i440FX PC with the Xen platform device",
      "-xen-domid 1 -machine xenfv,suppress-vmdesc=on" },
    { "-machine", "pc", DM_OPT_IMPLEMENTED, NULL,
      "pc,accel=xen[,max-ram-below-4g=SIZE]  i440FX PC",
      "-xen-domid 1 -machine pc,accel=xen,suppress-vmdesc=on" },
    { "-machine", "none", DM_OPT_REFUSED, "hvmdm always serves a domain, so "
      "it does not answer libxl's command-line probe (libxl 4.20+); libxl "
      "then uses -chroot and -runas, which hvmdm accepts", NULL,
      "-machine none,accel=xen" },
    { "-machine", "xenpv", DM_OPT_REFUSED, "hvmdm serves HVM guests only; "
      "remove device_model_override from this PV domain's config", NULL,
      "-machine xenpv" },
    { "-machine", "xenpvh", DM_OPT_REFUSED, "hvmdm serves HVM guests only; "
      "remove device_model_override from this PVH domain's config", NULL,
      "-machine xenpvh" },
    { "-machine", "*", DM_OPT_REFUSED, "this machine is not emulated; hvmdm "
      "builds the i440FX PC (xenfv, or pc,accel=xen with "
      "xen_platform_pci=0)", NULL, "-machine q35,accel=xen" },
    { "-netdev", "tap", DM_OPT_IMPLEMENTED, NULL,
      "type=tap,id=ID,ifname=IF[,br=BR][,fd=N]  the vif's tap device",
      "-netdev type=tap,id=net0,ifname=vif1.0-emu,br=xenbr0,script=no,"
      "downscript=no" },
    { "-netdev", "user", DM_OPT_IMPLEMENTED, NULL,
      "user,id=ID[,hostfwd=tcp::PORT-:PORT]  user-mode network (libslirp)",
      "-netdev user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22" },
    { "-netdev", "socket", DM_OPT_IMPLEMENTED, NULL,
      "socket,id=ID,fd=N  an inherited datagram socket (tests, tools)",
      "-netdev socket,id=n0,fd=3" },
    { "-netdev", "*", DM_OPT_REFUSED, "hvmdm has the tap device libxl "
      "creates for a vif, user-mode networking (user) and socket,fd=N; "
      "remove other -netdev from device_model_args", NULL,
      "-netdev vde,id=n" },
    { "-chardev", "libxl-channel", DM_OPT_WARN, "hvmdm serves no PV "
      "console backend: the guest's channel= devices stay unconnected",
      NULL, "-chardev pty,id=libxl-channel0" },
    { "-net", "none", DM_OPT_IMPLEMENTED, NULL, "none  no NIC",
      "-net none" },
    { "-net", "*", DM_OPT_REFUSED, "the legacy -net syntax is not "
      "supported; libxl passes -device and -netdev for each vif", NULL,
      "-net nic,model=e1000" },
};
static const size_t nr_value_rows = G_N_ELEMENTS(value_rows);

struct opt_def {
    struct dm_opt_row row;      /* value NULL; "-x" or "--x" matches */
    bool has_arg;
    /* NULL for refused rows; options with value rows apply them */
    int (*handler)(struct parse_ctx *c, const char *arg);
};

/* Implemented; accepted with a warning (note); refused (note). */
#define OPT(name, help, sample, has_arg, handler) \
    { { name, NULL, DM_OPT_IMPLEMENTED, NULL, help, sample }, has_arg, \
      handler }
#define OPT_WARN(name, note, help, sample, has_arg, handler) \
    { { name, NULL, DM_OPT_WARN, note, help, sample }, has_arg, handler }
#define REFUSED(name, note, sample) \
    { { name, NULL, DM_OPT_REFUSED, note, NULL, sample }, true, NULL }

static const struct opt_def opt_defs[] = {
    OPT("-h", "this help (also --help)", "-h", false, opt_help),
    OPT("-help", NULL, "--help", false, opt_help),
    OPT("-version", "the version (also --version)", "--version", false,
        opt_version),
    OPT("-xen-domid", "DOMID  the HVM domain to serve",
        "-xen-domid 1", true, opt_xen_domid),
    OPT("-xen-domid-restrict", "restrict Xen handles to the domain after setup",
        "-xen-domid 1 -xen-domid-restrict", false, opt_xen_domid_restrict),
    OPT("-xen-attach", "attach to the domain (the default)",
        "-xen-attach", false, opt_xen_attach),
    OPT("-no-shutdown", "(the default: Xen ends the domain)",
        "-no-shutdown", false, opt_no_shutdown),
    OPT("-S", "wait for QMP 'cont' before running", "-S", false,
        opt_start_paused),
    OPT("-chardev", "socket,id=ID,path=P|fd=N[,server=on][,wait=off]\n"
        HELP_INDENT "| pty|stdio|null,id=ID | file,id=ID,path=P",
        "-chardev socket,id=c,path=/run/q,server=on,wait=off", true,
        opt_chardev),
    OPT("-mon", "chardev=ID,mode=control  QMP monitor",
        "-chardev pty,id=c -mon chardev=c,mode=control", true, opt_mon),
    OPT("-qmp", "unix:PATH[,server=on,wait=off]  QMP monitor",
        "-qmp unix:/run/q,server=on,wait=off", true, opt_qmp),
    OPT("-nodefaults", "(the default)", "-nodefaults", false,
        opt_noop),
    OPT("-no-user-config", "(the default)", "-no-user-config", false,
        opt_noop),
    OPT("-name", "NAME  guest name (any string)", "-name -h", true,
        opt_name),
    OPT("-vnc", NULL, "-vnc none", true, opt_vnc),
    OPT("-display", NULL, "-display none", true, opt_display),
    OPT("-k", "KEYMAP  VNC keymap (en-us)",
        "-k de", true, opt_keymap),
    OPT("-serial",
        "pty|null|none|stdio|file:PATH|unix:PATH|chardev:ID  COM1-4",
        "-serial pty", true, opt_serial),
    OPT("-nographic", "no graphical output", "-nographic", false,
        opt_nographic),
    OPT("-vga", "none | std | cirrus  display adapter", "-vga none", true,
        opt_vga),
    OPT("-device", NULL, "-device ide-cd,drive=x,bus=ide.0,unit=0 "
        "-drive if=none,id=x", true, opt_device),
    OPT("-boot", "order=DRIVES  boot order (CMOS and fw_cfg bootorder), "
        "e.g. order=dc",
        "-boot order=dc", true, opt_boot),
    OPT("-netdev", NULL, "-netdev type=tap,id=n", true, opt_netdev),
    OPT("-net", NULL, "-net none", true, opt_net),
    OPT("-machine", NULL, "-xen-domid 1 -machine pc,accel=xen", true,
        opt_machine),
    OPT("-M", NULL, "-xen-domid 1 -M pc", true, opt_machine),
    OPT("-m", "MIB | SIZE[KMGT]  guest RAM", "-m 48", true,
        opt_memory),
    OPT("-smp", "N[,maxcpus=M]  vCPUs", "-smp 2,maxcpus=4", true,
        opt_smp),
    OPT("-drive", "file=P,if=ide|none,index=0-3,media=disk|cdrom,id=ID\n"
        HELP_INDENT ",format=raw|qcow2,cache=MODE,readonly=on",
        "-drive file=/a.img,if=ide,index=0,media=disk,format=raw,"
        "cache=writeback", true, opt_drive),
    OPT_WARN("-no-acpi", "the PIIX4 power-management function "
        "stays on the PCI bus (hvmloader still leaves out the ACPI tables)",
        "no ACPI", "-no-acpi", false, opt_no_acpi),
    OPT("-block-backing", "on|off|raw-ok  qcow2 backing files: format named "
        "by the\n" HELP_INDENT "image (on), none (off), raw when unnamed",
        "-block-backing raw-ok", true, opt_block_backing),
    OPT("-ioreq-spin", "US  spin up to US (0-1000) for the next request "
        "before\n" HELP_INDENT "sleeping, adapted to the guest (default 0)",
        "-ioreq-spin 20", true, opt_ioreq_spin),
    OPT_WARN("-usb", NOT_YET_USB, "USB 1.1 controller", "-usb",
        false, opt_usb),
    OPT_WARN("-usbdevice", NOT_YET_USB, "tablet|mouse|keyboard",
        "-usbdevice tablet", true, opt_usbdevice),
    OPT("-chroot", "DIR  chroot after setup", "-chroot /var/empty",
        true, opt_chroot),
    OPT("-runas", "USER|UID:GID  drop privileges after setup",
        "-runas 1000:1000", true, opt_runas),
    OPT("-run-with", "chroot=DIR,user=USER  (libxl 4.20+)",
        "-run-with chroot=/var/empty,user=nobody", true, opt_run_with),
    OPT("-pidfile", "FILE  write the process id", "-pidfile /run/p",
        true, opt_pidfile),
    OPT("-d", "ITEMS  debug logging", "-d guest_errors", true,
        opt_debug_items),
    OPT("-D", "FILE  log to FILE instead of stderr", "-D /tmp/log",
        true, opt_logfile),
    OPT("-log-level", "error|warning|info|debug",
        "-log-level debug", true, opt_log_level),
    REFUSED("-incoming", "restoring device state is not supported yet; "
            "start the domain afresh (xl create, not xl restore or "
            "xl migrate)", "-incoming fd:9"),
    OPT("-kernel", "BZIMAGE  direct kernel boot (fw_cfg)",
        "-kernel /boot/vmlinuz", true, opt_kernel),
    OPT("-initrd", "FILE  initial ramdisk for -kernel",
        "-kernel /k -initrd /boot/initrd.img", true, opt_initrd),
    OPT("-append", "CMDLINE  kernel command line",
        "-kernel /k -append console=ttyS0", true, opt_append),
    OPT("-L", "DIR  option ROMs (linuxboot_dma.bin); default /usr/share/qemu",
        "-L /usr/share/qemu", true, opt_firmware_dir),
    REFUSED("-spice", NO_SPICE, "-spice port=6000"),
    REFUSED("-object", "COLO (-object filters) is not supported; remove the "
            "colo_* settings from the domain config",
            "-object filter-mirror,id=m0,netdev=net0,queue=tx,outdev=c0"),
    REFUSED("-monitor", "the human monitor is not provided; QMP's "
            "human-monitor-command (xl qemu-monitor-command) answers info "
            "commands", "-monitor /dev/null"),
    REFUSED("-parallel", "no parallel port is emulated; remove -parallel "
            "from device_model_args", "-parallel /dev/null"),
};

static const struct opt_def *
opt_lookup(const char *arg)
{
    size_t i;

    if (arg[0] != '-') {
        return NULL;
    }
    if (arg[1] == '-') {
        arg++;
    }
    for (i = 0; i < G_N_ELEMENTS(opt_defs); i++) {
        if (strcmp(opt_defs[i].row.name, arg) == 0) {
            return &opt_defs[i];
        }
    }
    return NULL;
}

const struct dm_opt_row *
dm_option_row(size_t i)
{
    if (i < G_N_ELEMENTS(opt_defs)) {
        return &opt_defs[i].row;
    }
    i -= G_N_ELEMENTS(opt_defs);
    if (i < device_nr_rows()) {
        return device_row(i);
    }
    i -= device_nr_rows();
    return i < nr_value_rows ? &value_rows[i] : NULL;
}

/* ---- checks that need the whole command line ------------------------- */

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
    if ((cfg->initrd || cfg->append) && !cfg->kernel) {
        c->opt = cfg->initrd ? "-initrd" : "-append";
        return perr(c, "only allowed with -kernel (xl.cfg ramdisk= and "
                    "cmdline= need kernel=)");
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
        if (def->has_arg && i + 1 >= argc) {
            return perr(c, "missing argument");
        }
        if (row_apply(c, &def->row) < 0 ||
            def->handler(c, def->has_arg ? argv[++i] : NULL) < 0) {
            return -1;
        }
        if (c->cfg->show_help || c->cfg->show_version) {
            return 0;
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
    if (rc == 0 && !cfg->show_help && !cfg->show_version) {
        rc = parse_finish(&c);
    }
    for (i = 0; i < c.nr_attach; i++) {
        g_free(c.attach[i].drive);
    }
    return rc;
}

/* The implemented rows: an option's own, then those of its values. */
void
dm_config_print_help(FILE *out)
{
    const struct dm_opt_row *r, *v;
    size_t i, j;

    for (i = 0; (r = dm_option_row(i)) && !r->value; i++) {
        if (r->status == DM_OPT_IMPLEMENTED && r->help) {
            fprintf(out, "  %-21s %s\n", r->name, r->help);
        }
        for (j = 0; (v = dm_option_row(j)); j++) {
            if (v->value && strcmp(v->name, r->name) == 0 &&
                v->status == DM_OPT_IMPLEMENTED && v->help) {
                fprintf(out, "  %-21s %s\n", v->name, v->help);
            }
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
        g_free(cfg->netdevs[i].type);
        g_free(cfg->netdevs[i].opts);
    }
}

void
dm_config_free(struct dm_config *cfg)
{
    char **strs[] = { &cfg->name, &cfg->incoming, &cfg->machine, &cfg->vga,
                      &cfg->vnc, &cfg->display, &cfg->keymap, &cfg->runas,
                      &cfg->chroot, &cfg->pidfile, &cfg->logfile,
                      &cfg->kernel, &cfg->initrd, &cfg->append,
                      &cfg->firmware_dir };
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
    for (i = 0; i < cfg->nr_notes; i++) {
        g_free(cfg->notes[i]);
    }
    free_net(cfg);
    dm_config_defaults(cfg);
}
