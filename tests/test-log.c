/*
 * The log an operator reads (dm/log.c, dm/report.c): QEMU's -msg
 * timestamp=on time stamps and "error:" on every line that says so, the
 * XEN_QEMU_CONSOLE_LIMIT total cap against a guest that logs through the
 * Xen platform device's log port, the start-up line and the exit summary.
 */
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dm/config.h"
#include "dm/ioreq.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/report.h"
#include "tests/harness.h"
#include "tests/t.h"

#define XP_LOG_PORT 0x12        /* Xen platform log port (byte writes) */

/* Send the log to a memory file; returns its fd. */
static int
capture(void)
{
    int fd = memfd_create("log", MFD_CLOEXEC);

    T_ASSERT(fd >= 0);
    dm_log_set_quiet(0);
    dm_log_set_fd(fd);
    return fd;
}

/* Everything written so far, NUL-terminated; g_free it. */
static char *
captured(int fd)
{
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf = g_malloc0((size_t)len + 1);

    T_EQ(pread(fd, buf, (size_t)len, 0), len);
    return buf;
}

static unsigned int
count_str(const char *hay, const char *needle)
{
    unsigned int n = 0;

    while ((hay = strstr(hay, needle))) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

T_TEST(log_timestamp_and_levels)
{
    static const char *const re = "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:"
        "\\d\\d\\.\\d{6}Z hvmdm: (info: hello 5|warning: careful|"
        "error: broken)$";
    int fd = capture();
    g_autofree char *out = NULL;
    char **lines;
    unsigned int i;

    DM_INFO("hello %d", 5);
    DM_WARN("careful");
    DM_ERR("broken");
    DM_DEBUG("not at the default level");
    out = captured(fd);
    lines = g_strsplit(out, "\n", -1);
    T_EQ(g_strv_length(lines), 4);
    for (i = 0; i < 3; i++) {
        if (!g_regex_match_simple(re, lines[i], 0, 0)) {
            t_fail(__FILE__, __LINE__, "line '%s'", lines[i]);
        }
    }
    T_ASSERT(lines[3][0] == '\0');
    g_strfreev(lines);
    close(fd);
}

/* The cap holds whatever is logged; one line says so; the summary passes. */
T_TEST(log_total_cap)
{
    int fd = capture();
    g_autofree char *out = NULL;
    unsigned int i;
    char *limit;

    dm_log_set_limit(1000);
    for (i = 0; i < 200; i++) {
        DM_INFO("line %u of a flood", i);
    }
    T_ASSERT(dm_log_bytes() <= 1000);
    T_ASSERT(dm_log_bytes() > 1000 - 200);
    T_EQ(dm_log_console_budget(10), 0);
    dm_report_exit(NULL, 1.0);
    out = captured(fd);
    limit = strstr(out, "log limit reached: XEN_QEMU_CONSOLE_LIMIT=1000");
    T_ASSERT(limit != NULL);
    /* whole lines up to the cap, then "<time> hvmdm: warning: " */
    T_EQ((uint64_t)(limit - out), dm_log_bytes() + 44);
    T_ASSERT(out[dm_log_bytes() - 1] == '\n');
    T_EQ(count_str(out, "log limit reached"), 1);
    T_EQ(count_str(out, "of a flood\n"), count_str(out, "\n") - 2);
    T_EQ(count_str(out, "hvmdm: info: exit after 1.0 s"), 1);
    close(fd);
}

/* Guest console output bound for stdout counts against the same cap. */
T_TEST(log_console_budget)
{
    int fd = capture();
    g_autofree char *out = NULL;

    dm_log_set_limit(100);
    T_EQ(dm_log_console_budget(60), 60);
    T_EQ(dm_log_console_budget(60), 0);
    T_EQ(dm_log_console_budget(1), 0);
    DM_ERR("not written past the cap");
    out = captured(fd);
    T_EQ(count_str(out, "log limit reached"), 1);
    T_EQ(count_str(out, "not written"), 0);
    close(fd);
}

/* A guest writing lines to the platform log port for a long (virtual)
 * time fills the cap and no more. */
T_TEST(log_cap_against_guest_flood)
{
    static const char *const argv[] = { "-machine", "xenfv", NULL };
    struct t_opts o = { .argv = argv };
    struct t_machine *t = t_machine_new(&o);
    int fd = capture();
    g_autofree char *out = NULL;
    unsigned int sec, i;

    dm_log_set_limit(4096);
    for (sec = 0; sec < 120; sec++) {
        for (i = 0; i < 255; i++) {
            t_outb(t, XP_LOG_PORT, i % 64 == 63 ? '\n' : 'A' + i % 26);
        }
        t_clock_step(t, 1000000000ull);
    }
    out = captured(fd);
    T_ASSERT(dm_log_bytes() <= 4096);
    T_ASSERT(strlen(out) < 4096 + 200);
    T_EQ(count_str(out, "log limit reached"), 1);
    T_ASSERT(count_str(out, "xen-platform: guest: ") > 20);
    close(fd);
    t_machine_free(t);
}

/* Version, domain, machine, devices, disks with format and cache mode. */
T_TEST(log_startup_line)
{
    g_autofree char *img = NULL, *opt = NULL, *out = NULL;
    const char *argv[] = { "-name", "web 01", "-smp", "2,maxcpus=4",
                           "-drive", NULL, "-drive",
                           "if=none,readonly=on,id=cd", "-device",
                           "ide-cd,drive=cd,bus=ide.1,unit=0", "-serial",
                           "pty", NULL };
    struct t_opts o = { .argv = argv, .vcpus = 4 };
    struct t_machine *t;
    int fd, img_fd = g_file_open_tmp("hvmdm-log-XXXXXX", &img, NULL);

    T_ASSERT(img_fd >= 0 && ftruncate(img_fd, 1 << 20) == 0);
    close(img_fd);
    opt = g_strdup_printf("file=%s,if=ide,index=0,format=raw,"
                          "cache=writethrough", img);
    argv[5] = opt;
    t = t_machine_new(&o);
    fd = capture();
    dm_report_startup(t->dm);
    out = captured(fd);
    T_ASSERT(strstr(out, "hvmdm: info: hvmdm " HVMDM_VERSION " starting: "
                    "domain 1 \"web 01\", pc, 2 vCPUs (max 4), 64 MiB; "
                    "devices: "));
    T_ASSERT(strstr(out, " piix-ide") && strstr(out, " uart16550"));
    T_ASSERT(strstr(out, "; disks: hda ") &&
             strstr(out, " (raw, writethrough), hdc cdrom empty; "
                    "serial: pty\n"));
    T_ASSERT(strstr(out, img));
    close(fd);
    t_machine_free(t);
    unlink(img);
}

/* The summary counts what the service handled, by type. */
T_TEST(log_exit_summary)
{
    struct t_opts o = { 0 };
    struct t_machine *t = t_machine_new(&o);
    struct ioreq_stats before = *ioreq_svc_stats(t->dm->ioreq);
    const struct ioreq_stats *after;
    g_autofree char *out = NULL, *want = NULL;
    int fd;

    t_inb(t, 0x92);
    t_outb(t, 0x80, 1);
    t_readl(t, 0xfed00000);
    after = ioreq_svc_stats(t->dm->ioreq);
    T_EQ(after->pio - before.pio, 2);
    T_EQ(after->copy - before.copy, 1);
    fd = capture();
    dm_report_exit(t->dm, 2.5);
    out = captured(fd);
    want = g_strdup_printf("exit after 2.5 s: %" PRIu64 " requests served "
                           "(%" PRIu64 " synchronous, 0 buffered; pio %"
                           PRIu64 ", mmio %" PRIu64 ", ", after->sync,
                           after->sync, after->pio, after->copy);
    if (!strstr(out, want)) {
        t_fail(__FILE__, __LINE__, "'%s' lacks '%s'", out, want);
    }
    T_ASSERT(strstr(out, "guest errors "));
    close(fd);
    t_machine_free(t);
}

/* Backends only QEMU serves are named once each, when libxl set them up. */
T_TEST(log_qemu_only_backends)
{
    static const char *const xs[] = {
        "/local/domain/0/backend/qdisk/1", "",
        "/local/domain/0/backend/vkbd/2", "",   /* another domain */
        NULL,
    };
    struct t_opts o = { .xenstore = xs };
    struct t_machine *t = t_machine_new(&o);
    g_autofree char *out = NULL;
    unsigned int reported = 0;
    int fd = capture();

    dm_report_backends(t->dm, &reported);
    dm_report_backends(t->dm, &reported);
    out = captured(fd);
    T_EQ(count_str(out, "hvmdm: warning: QEMU's PV disk backend "
                   "(backendtype=qdisk) is not served"), 1);
    T_EQ(count_str(out, "vkb_device"), 0);
    T_EQ(count_str(out, "\n"), 1);
    close(fd);
    t_machine_free(t);
}
