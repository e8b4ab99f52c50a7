/*
 * The display front ends as modules (ui/module.h): the VNC module built
 * beside this test binary loads, checks out and serves an RFB client
 * through its table; a missing module or a wrong one is refused with a
 * message naming the fix; and hvmdm itself starts without the front ends'
 * libraries, within a resident-memory bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"
#include "ui/display.h"
#include "ui/module.h"
#include "ui/vnc.h"

/*
 * hvmdm's VmRSS once it has parsed its options, every library mapped and
 * relocated, no device built. Measured on the build host: 5380 kB; with
 * SDL2 and libvncserver linked in it was 12204 kB (each alone adds
 * 2700-3800 kB), so 8192 kB stops either coming back.
 */
#define HVMDM_START_RSS_MAX_KB  8192
#define WAIT_US                 (10 * G_USEC_PER_SEC)

/* The build directory: this binary is $(O)/tests/run-tests. */
static char *
build_dir(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *tests, *dir;

    T_ASSERT(exe);
    tests = g_path_get_dirname(exe);
    dir = g_path_get_dirname(tests);
    g_free(tests);
    g_free(exe);
    return dir;
}

static const struct ui_module_head *
load(const char *dir, const char *name, const char *symbol, char *err,
     size_t errlen)
{
    const char *dirs[] = { dir, NULL };

    return ui_module_load_from(dirs, name, symbol, err, errlen);
}

/* Connect to 127.0.0.1:port and read the RFB greeting (RFB 7.1.1). */
static void
expect_rfb_greeting(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = { .tv_sec = 10 };
    char buf[13] = "";
    size_t got = 0;
    ssize_t n;

    T_ASSERT(fd >= 0);
    T_ASSERT(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
    T_ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    while (got < 12 && (n = read(fd, buf + got, 12 - got)) > 0) {
        got += (size_t)n;
    }
    close(fd);
    if (strcmp(buf, "RFB 003.008\n") != 0) {
        t_fail(__FILE__, __LINE__, "greeting '%s' (%zu bytes)", buf, got);
    }
}

T_TEST(module_vnc_serves_through_its_table)
{
    char *dir = build_dir(), err[512] = "";
    const struct ui_vnc_module *m = (const struct ui_vnc_module *)
        load(dir, "vnc", "ui_vnc_module", err, sizeof(err));
    struct t_machine *t;
    struct display *d;
    struct vnc *v;
    JsonObject *o;
    JsonNode *n;

    if (!m) {
        t_fail(__FILE__, __LINE__, "%s", err);
    }
    T_ASSERT(m != &ui_vnc_module);          /* the module's, not ours */
    T_EQ(m->head.abi, UI_MODULE_ABI);
    t = t_machine_new(&(struct t_opts){ 0 });
    d = display_new(t->dm, NULL, NULL);
    v = m->start(t->dm, "127.0.0.1:40,to=99", NULL, err, sizeof(err));
    if (!v) {
        t_fail(__FILE__, __LINE__, "start: %s", err);
    }
    n = m->qmp_info(v);
    o = json_node_get_object(n);
    T_ASSERT(json_object_get_boolean_member(o, "enabled"));
    expect_rfb_greeting(atoi(json_object_get_string_member(o, "service")));
    T_EQ(m->set_password(v, "x"), -EPERM);  /* no password=on */
    json_node_unref(n);
    m->stop(v);
    display_free(d);
    t_machine_free(t);
    g_free(dir);
}

T_TEST(module_missing_or_foreign_is_refused_with_the_fix)
{
    char *dir = build_dir(), err[512] = "";

    T_ASSERT(!load("/nonexistent", "vnc", "ui_vnc_module", err,
                   sizeof(err)));
    T_ASSERT(strstr(err, "hvmdm-ui-vnc.so is not in /nonexistent"));
    T_ASSERT(strstr(err, "make install"));
    /* The SDL module has no VNC table. */
    T_ASSERT(!load(dir, "sdl", "ui_vnc_module", err, sizeof(err)));
    T_ASSERT(strstr(err, "hvmdm-ui-sdl.so has no ui_vnc_module"));
    g_free(dir);
}

/* hvmdm looks beside itself, then in ../lib/hvmdm (make install). */
T_TEST(module_default_dirs_are_the_executables_and_its_lib)
{
    char *dir = build_dir(), err[512] = "", *want;

    T_ASSERT(!ui_module_load("none", "ui_vnc_module", err, sizeof(err)));
    want = g_strdup_printf("hvmdm-ui-none.so is not in %s/tests nor in "
                           "%s/lib/hvmdm", dir, dir);
    if (!strstr(err, want)) {
        t_fail(__FILE__, __LINE__, "'%s' does not say '%s'", err, want);
    }
    g_free(want);
    g_free(dir);
}

#ifndef __SANITIZE_ADDRESS__
/* ASan's shadow memory makes an instrumented hvmdm's RSS meaningless. */

/* Wait until pid sleeps in openat(2) (syscall 257 on x86-64). */
static void
wait_in_open(pid_t pid)
{
    char *path = g_strdup_printf("/proc/%d/syscall", (int)pid);
    gint64 end = g_get_monotonic_time() + WAIT_US;
    char *s = NULL;

    while (g_get_monotonic_time() < end) {
        g_free(s);
        s = NULL;
        if (g_file_get_contents(path, &s, NULL, NULL) &&
            strncmp(s, "257 ", 4) == 0) {
            break;
        }
        g_usleep(10000);
    }
    if (!s || strncmp(s, "257 ", 4) != 0) {
        t_fail(__FILE__, __LINE__, "hvmdm never blocked opening its -D "
               "fifo (%s: %s)", path, s ? s : "unreadable");
    }
    g_free(s);
    g_free(path);
}

/* A line "Key: N kB" of /proc/pid/status. */
static long
proc_status_kb(pid_t pid, const char *key)
{
    char *path = g_strdup_printf("/proc/%d/status", (int)pid), *s, *p;
    long kb = -1;

    T_ASSERT(g_file_get_contents(path, &s, NULL, NULL));
    p = strstr(s, key);
    if (p) {
        kb = strtol(p + strlen(key), NULL, 10);
    }
    g_free(s);
    g_free(path);
    return kb;
}

/*
 * hvmdm opens -D FILE right after parsing its options: a fifo nobody reads
 * holds it there, with every library it links mapped and relocated and no
 * device built yet. Then it is killed: it never reaches the domain.
 */
T_TEST(hvmdm_starts_without_the_front_ends_libraries)
{
    char *dir = build_dir(), tmp[] = "/tmp/hvmdm-rss-XXXXXX";
    char *bin = g_build_filename(dir, "hvmdm", NULL), *fifo, *maps, *mp;
    char *argv[] = { bin, "-xen-domid", "1", "-D", NULL, NULL };
    GPid pid;
    long rss;

    T_ASSERT(g_mkdtemp(tmp));
    fifo = g_build_filename(tmp, "log", NULL);
    T_ASSERT(mkfifo(fifo, 0600) == 0);
    argv[4] = fifo;
    T_ASSERT(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                           NULL, NULL, &pid, NULL));
    wait_in_open(pid);
    rss = proc_status_kb(pid, "VmRSS:");
    mp = g_strdup_printf("/proc/%d/maps", (int)pid);
    T_ASSERT(g_file_get_contents(mp, &maps, NULL, NULL));
    kill(pid, SIGKILL);
    T_ASSERT(waitpid(pid, NULL, 0) == pid);
    unlink(fifo);
    rmdir(tmp);
    if (strstr(maps, "libSDL2") || strstr(maps, "libvncserver")) {
        t_fail(__FILE__, __LINE__, "hvmdm maps SDL2 or libvncserver at "
               "start-up: link them into the modules only (ui/module.h)");
    }
    if (rss <= 0 || rss > HVMDM_START_RSS_MAX_KB) {
        t_fail(__FILE__, __LINE__, "hvmdm VmRSS at start-up %ld kB, bound "
               "%d kB (see HVMDM_START_RSS_MAX_KB)", rss,
               HVMDM_START_RSS_MAX_KB);
    }
    printf("  hvmdm VmRSS at start-up: %ld kB (bound %d kB)\n", rss,
           HVMDM_START_RSS_MAX_KB);
    g_free(maps);
    g_free(mp);
    g_free(fifo);
    g_free(bin);
    g_free(dir);
}
#endif
