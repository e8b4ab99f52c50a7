/*
 * hvmdm, the process: libxl spawns it as the qemu-xen device model
 * (device_model_override=, xen-dm-interface.md 3.1) with stdout and stderr
 * going to /var/log/xen/qemu-dm-<name>.log. It parses the command line,
 * attaches to the domain's ioreq server, builds the board, listens on its
 * QMP sockets, reports "running" in xenstore (with -S: once QMP "cont"
 * arrives) and serves ioreqs until libxl sends SIGHUP (domain destroyed)
 * or someone sends SIGTERM/SIGINT or QMP "quit"; then it tears everything
 * down, QMP sockets included, and exits 0. Setup errors print one line and
 * exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib-unix.h>              /* g_unix_signal_add */
#include <grp.h>                    /* initgroups, setgroups */
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm/config.h"
#include "dm/gmem.h"                /* gm_buckets_for_ram */
#include "dm/hv-xen.h"
#include "dm/hv.h"
#include "dm/ioreq.h"
#include "dm/ioreq-info.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/opts.h"                /* dm_parse_uint */
#include "dm/qmp.h"
#include "dm/report.h"
#include "dm/timer.h"
#include "hw/board.h"
#include "hw/ide/ide.h"             /* ide_cd_change_media, ide_cd_eject,
                                       ide_blk_stats */
#include "ui/sdl.h"
#include "ui/vnc.h"

/* XEN_QEMU_CONSOLE_LIMIT when unset (libxl 4.20+ no longer sets it). */
#define LOG_LIMIT_DEFAULT (1u << 20)

/* -runas USER or UID:GID, resolved before chroot (no passwd file after). */
struct runas {
    bool set;
    uid_t uid;
    gid_t gid;
    char *name;                     /* NULL for UID:GID */
};

struct app {
    struct dm_config cfg;
    struct hv *hv;
    struct dm *dm;
    struct qmp *qmp;
    struct runas runas;
    struct sdl *sdl;                /* -display sdl */
    bool evtchn_watched;            /* the loop serves the event channel */
    gint64 start_us;                /* monotonic, at process start */
    struct dm_timer backends_timer; /* the QEMU-only backends, once more */
    unsigned int backends_reported;
    bool ran;                       /* has been running once */
    unsigned int signal_src[3];
    unsigned int dump_src;          /* SIGUSR1: the ioreq state to the log */
    char *pidfile;                  /* written by us, removed at exit */
    bool chrooted;                  /* the pidfile path is out of reach */
    char err[512];
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: hvmdm -xen-domid DOMID [options]\n"
            "A device model for Xen HVM guests; takes the qemu-xen command "
            "line\nlibxl builds (device_model_version=\"qemu-xen\", "
            "device_model_override=).\nThe options it implements:\n\n");
    dm_config_print_help(out);
    fprintf(out, "\nOther options libxl passes are accepted with a warning "
            "or refused with advice;\nsee hvmdm(1).\n");
}

/* -h / --help / --version, as options (not as -name's argument). */
static bool
info_option(const struct dm_config *cfg)
{
    if (cfg->show_help) {
        usage(stdout);
        return true;
    }
    if (cfg->show_version) {
        printf("hvmdm %s (qemu-xen command line of libxl 4.17-4.21)\n",
               HVMDM_VERSION);
        return true;
    }
    return false;
}

static int app_error(struct app *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record a setup error for main() to print; returns -1. */
static int
app_error(struct app *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->err, sizeof(a->err), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- logging, pidfile ------------------------------------------------ */

/*
 * The log's total cap (XSA-180): XEN_QEMU_CONSOLE_LIMIT bytes as libxl
 * sets it (1 MiB), the same when unset, none when 0.
 */
static void
setup_log_limit(void)
{
    const char *v = getenv("XEN_QEMU_CONSOLE_LIMIT");
    uint64_t n = LOG_LIMIT_DEFAULT;

    if (v && dm_parse_uint(v, 0, UINT64_MAX, &n) < 0) {
        dm_log_set_limit(LOG_LIMIT_DEFAULT);
        DM_WARN("XEN_QEMU_CONSOLE_LIMIT=%s is not a number of bytes; the "
                "log is capped at %u bytes", v, LOG_LIMIT_DEFAULT);
        return;
    }
    dm_log_set_limit(n);
}

/* -D FILE: stderr (the log) goes to FILE; -log-level / -d set the level. */
static int
setup_logging(struct app *a)
{
    unsigned int i;
    int fd;

    if (a->cfg.logfile) {
        fd = open(a->cfg.logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                  0640);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
            return app_error(a, "-D %s: %s", a->cfg.logfile,
                             strerror(errno));
        }
        close(fd);
    }
    if (a->cfg.log_level >= 0) {
        dm_log_set_level((enum dm_log_level)a->cfg.log_level);
    }
    for (i = 0; i < a->cfg.nr_notes; i++) {
        DM_WARN("%s", a->cfg.notes[i]);
    }
    return 0;
}

static int
write_pidfile(struct app *a)
{
    char buf[32];
    int fd, n;

    if (!a->cfg.pidfile) {
        return 0;
    }
    fd = open(a->cfg.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              0644);
    if (fd < 0) {
        return app_error(a, "-pidfile %s: %s", a->cfg.pidfile,
                         strerror(errno));
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (write(fd, buf, (size_t)n) != n) {
        close(fd);
        return app_error(a, "-pidfile %s: write failed", a->cfg.pidfile);
    }
    close(fd);
    a->pidfile = g_strdup(a->cfg.pidfile);
    return 0;
}

/* ---- privileges (-chroot, -runas / -run-with) ------------------------ */

static int
runas_resolve(struct app *a)
{
    const char *spec = a->cfg.runas;
    struct passwd *pw;
    unsigned int uid, gid;
    char extra;

    if (!spec) {
        return 0;
    }
    if (sscanf(spec, "%u:%u%c", &uid, &gid, &extra) == 2) {
        a->runas.uid = uid;
        a->runas.gid = gid;
    } else {
        pw = getpwnam(spec);
        if (!pw) {
            return app_error(a, "-runas %s: no such user (give a user name "
                             "or UID:GID)", spec);
        }
        a->runas.uid = pw->pw_uid;
        a->runas.gid = pw->pw_gid;
        a->runas.name = g_strdup(spec);
    }
    a->runas.set = true;
    return 0;
}

/*
 * Supplementary groups first (initgroups reads /etc/group, which the
 * chroot lacks), then chroot, then gid and uid; like QEMU's -runas, it is
 * an error if root can be regained afterwards.
 */
static int
drop_privileges(struct app *a)
{
    const struct runas *r = &a->runas;

    if (r->set && (r->name ? initgroups(r->name, r->gid)
                           : setgroups(1, &r->gid)) < 0) {
        return app_error(a, "-runas: cannot set groups: %s", strerror(errno));
    }
    if (a->cfg.chroot) {
        if (chroot(a->cfg.chroot) < 0 || chdir("/") < 0) {
            return app_error(a, "-chroot %s: %s", a->cfg.chroot,
                             strerror(errno));
        }
        a->chrooted = true;
    }
    if (!r->set) {
        return 0;
    }
    if (setgid(r->gid) < 0 || setuid(r->uid) < 0) {
        return app_error(a, "-runas %s: %s", a->cfg.runas, strerror(errno));
    }
    if (r->uid != 0 && setuid(0) == 0) {
        return app_error(a, "-runas %s: root could be regained", a->cfg.runas);
    }
    return 0;
}

/* ---- the machine ----------------------------------------------------- */

/* What hvmdm cannot serve yet: refuse before touching the domain. */
static int
check_supported(struct app *a)
{
    const struct dm_config *cfg = &a->cfg;

    if (!cfg->have_domid) {
        return app_error(a, "-xen-domid is missing: hvmdm serves one Xen "
                         "domain (see hvmdm --help)");
    }
    return 0;
}

static unsigned int
evtchn_serve(void *opaque)
{
    return ioreq_svc_event(opaque);
}

static bool
evtchn_peek(void *opaque)
{
    return ioreq_svc_peek(opaque);
}

/* The event channel is the loop's fast path (dm/loop.h). */
static const struct dm_loop_fast_ops evtchn_fast_ops = {
    .serve = evtchn_serve,
    .peek = evtchn_peek,
};

static int
watch_evtchn(struct app *a)
{
    int fd = a->hv->ops->evtchn_fd(a->hv);

    if (fd < 0) {
        return app_error(a, "no event channel fd to watch");
    }
    dm_loop_set_fast(a->dm, fd, &evtchn_fast_ops, a->dm->ioreq);
    a->evtchn_watched = true;
    return 0;
}

static void
unwatch_evtchn(struct app *a)
{
    dm_loop_set_fast(a->dm, -1, NULL, NULL);
    a->evtchn_watched = false;
}

/* ---- QMP and the run state ------------------------------------------- */

/* The IDE CD-ROMs' media change, for QMP eject/blockdev-change-medium. */
static const struct qmp_block_ops app_block_ops = {
    .change_media = ide_cd_change_media,
    .eject = ide_cd_eject,
    .stats = ide_blk_stats,
    .medium = ide_medium,
};

static double
app_uptime_ms(const struct app *a)
{
    return (double)(g_get_monotonic_time() - a->start_us) / 1000.0;
}

/*
 * While paused ("stop", before a save) no ioreq is served: a vCPU that
 * traps to hvmdm waits in Xen until "cont", so device state cannot change
 * under the saved image. Prelaunch keeps serving: libxl keeps the domain
 * paused until after "cont" (xen-dm-interface.md 3.4).
 */
static void
on_run_state(void *opaque, enum qmp_run_state old, enum qmp_run_state state)
{
    struct app *a = opaque;

    if (state == QMP_RUN_PAUSED && a->evtchn_watched) {
        unwatch_evtchn(a);
    } else if (old == QMP_RUN_PAUSED && watch_evtchn(a) < 0) {
        DM_ERR("%s", a->err);
    }
    if (state == QMP_RUN_RUNNING && !a->ran) {
        a->ran = true;
        DM_INFO("running %.1f ms after start", app_uptime_ms(a));
    }
}

static void
on_quit(void *opaque)
{
    struct app *a = opaque;

    DM_INFO("QMP quit; shutting down");
    dm_loop_quit(a->dm);
}

/* Before privileges are dropped: the sockets live outside the chroot. */
static int
start_monitors(struct app *a)
{
    a->qmp = qmp_start_all(a->dm, &a->cfg, a->err, sizeof(a->err));
    if (!a->qmp) {
        return -1;
    }
    qmp_set_block_ops(a->qmp, &app_block_ops);
    qmp_set_run_state_cb(a->qmp, on_run_state, a);
    qmp_set_quit_cb(a->qmp, on_quit, a);
    return 0;
}

/* -ioreq-spin: spinning only pays with a CPU for the guest beside ours. */
static void
setup_spin(struct app *a)
{
    if (!a->cfg.ioreq_spin_us) {
        return;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        DM_WARN("-ioreq-spin %u: ignored, dom0 has one CPU (the spin would "
                "keep the guest from running)", a->cfg.ioreq_spin_us);
        return;
    }
    dm_loop_set_spin(a->dm, (uint64_t)a->cfg.ioreq_spin_us * 1000);
    DM_INFO("ioreq spin: up to %u us before sleeping", a->cfg.ioreq_spin_us);
}

/* Attach to the domain and build the machine (xen-dm-interface.md 2.2). */
static int
machine_setup(struct app *a)
{
    int rc;

    a->hv = hv_xen_open(a->cfg.domid, a->cfg.maxcpus, a->err,
                        sizeof(a->err));
    if (!a->hv) {
        return -1;
    }
    a->dm = dm_new(a->hv, a->cfg.ram_size,
                   gm_buckets_for_ram(a->cfg.ram_size));
    a->dm->cfg = &a->cfg;
    rc = dm_loop_init(a->dm);
    if (rc < 0) {
        return app_error(a, "main loop: %s", strerror(-rc));
    }
    rc = board_init(a->dm, &a->cfg);
    if (rc < 0) {
        return app_error(a, "building the board failed (%s); see the "
                         "messages above", strerror(-rc));
    }
    ioreq_svc_new(a->dm);
    dm_report_startup(a->dm);
    if (a->cfg.vnc && strcmp(a->cfg.vnc, "none") != 0 &&
        !vnc_start(a->dm, a->cfg.vnc, a->cfg.keymap, a->err,
                   sizeof(a->err))) {
        return -1;
    }
    if (a->cfg.display && strncmp(a->cfg.display, "sdl", 3) == 0 &&
        !(a->sdl = sdl_start(a->dm, a->err, sizeof(a->err)))) {
        return -1;
    }
    if (watch_evtchn(a) < 0) {
        return -1;
    }
    setup_spin(a);
    return start_monitors(a);
}

/* After setup: restrict the Xen handles, then drop privileges (QEMU's
 * order: accelerator setup_post, then chroot and runas). */
static int
deprivilege(struct app *a)
{
    if (a->cfg.domid_restrict &&
        hv_xen_restrict(a->hv, a->err, sizeof(a->err)) < 0) {
        return -1;
    }
    return drop_privileges(a);
}

/* ---- signals --------------------------------------------------------- */

static gboolean
on_signal(gpointer opaque)
{
    struct app *a = opaque;

    DM_INFO("signal received; shutting down");
    qmp_event_shutdown(a->qmp, false, "host-signal");
    dm_loop_quit(a->dm);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_dump_signal(gpointer opaque)
{
    struct app *a = opaque;

    ioreq_info_log(a->dm, "SIGUSR1");
    return G_SOURCE_CONTINUE;
}

/* libxl kills the DM with SIGHUP when the domain goes away; SIGUSR1 dumps
 * the ioreq state into the log (dm/ioreq-info.c). */
static void
watch_signals(struct app *a)
{
    static const int sigs[] = { SIGHUP, SIGTERM, SIGINT };
    size_t i;

    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < G_N_ELEMENTS(sigs); i++) {
        a->signal_src[i] = g_unix_signal_add(sigs[i], on_signal, a);
    }
    a->dump_src = g_unix_signal_add(SIGUSR1, on_dump_signal, a);
}

/* Reverse of setup; safe after a failure at any step. */
static void
teardown(struct app *a)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(a->signal_src); i++) {
        if (a->signal_src[i]) {
            g_source_remove(a->signal_src[i]);
        }
    }
    if (a->dump_src) {
        g_source_remove(a->dump_src);
    }
    if (a->backends_timer.dm) {
        dm_timer_del(&a->backends_timer);
    }
    if (a->evtchn_watched) {
        unwatch_evtchn(a);
    }
    qmp_free(a->qmp);           /* connections, sockets, fd sets */
    if (a->dm) {
        vnc_stop(vnc_get(a->dm));
        sdl_stop(a->sdl);
    }
    dm_free(a->dm);             /* devices, ioreq service, loop, maps */
    if (a->hv) {
        a->hv->ops->destroy(a->hv);
    }
    if (a->pidfile && !a->chrooted) {
        unlink(a->pidfile);
    }
    g_free(a->pidfile);
    g_free(a->runas.name);
    dm_config_free(&a->cfg);
}

/* 0: serve; 1: --help or --version printed; -1: error in a->err. */
static int
setup(struct app *a, int argc, char **argv)
{
    dm_config_defaults(&a->cfg);
    if (dm_config_parse(&a->cfg, argc, argv, a->err, sizeof(a->err)) < 0) {
        return -1;
    }
    if (info_option(&a->cfg)) {
        return 1;
    }
    if (setup_logging(a) < 0 || check_supported(a) < 0 ||
        write_pidfile(a) < 0 || runas_resolve(a) < 0 ||
        machine_setup(a) < 0 || deprivilege(a) < 0) {
        return -1;
    }
    watch_signals(a);
    return 0;
}

/* libxl adds the PV keyboard and the like after the device model starts. */
#define BACKENDS_RECHECK_NS (60 * 1000000000ull)

static void
on_backends_timer(void *opaque)
{
    struct app *a = opaque;

    dm_report_backends(a->dm, &a->backends_reported);
}

/*
 * Every device is built and the QMP sockets listen: tell libxl, unless -S
 * (then QMP "cont" does; libxl asks query-status meanwhile).
 */
static int
report_ready(struct app *a)
{
    int rc = qmp_machine_ready(a->qmp);

    if (rc < 0) {
        return app_error(a, "cannot report the device model state in "
                         "xenstore: %s", strerror(-rc));
    }
    if (qmp_run_state(a->qmp) == QMP_RUN_PRELAUNCH) {
        DM_INFO("prelaunch (-S) %.1f ms after start; waiting for QMP cont",
                app_uptime_ms(a));
    }
    dm_report_backends(a->dm, &a->backends_reported);
    dm_timer_init(&a->backends_timer, a->dm, on_backends_timer, a);
    dm_timer_mod(&a->backends_timer, dm_clock_ns(a->dm) + BACKENDS_RECHECK_NS);
    return 0;
}

int
main(int argc, char **argv)
{
    struct app a = { .start_us = g_get_monotonic_time() };
    int status = 0, rc;

    setup_log_limit();
    rc = setup(&a, argc, argv);
    if (rc > 0) {
        status = 0;                 /* --help or --version printed */
    } else if (rc < 0 || report_ready(&a) < 0) {
        DM_ERR("%s", a.err);
        status = 1;
    } else {
        DM_INFO("serving domain %u", a.cfg.domid);
        dm_loop_run(a.dm);
    }
    if (a.dm) {
        dm_report_exit(a.dm, app_uptime_ms(&a) / 1000.0);
    }
    teardown(&a);
    return status;
}
