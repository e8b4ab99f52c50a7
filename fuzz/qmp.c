/*
 * QMP input: the bytes a client sends on libxl's monitor socket, to a
 * machine with the IDE media hooks (eject, blockdev-change-medium) as the
 * process has them. Each input is one connection: greeting, the bytes (by
 * default after qmp_capabilities), the replies read and dropped, close.
 * The machine lives across inputs, as the process does across libxl's
 * connections.
 */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "fuzz/fuzz.h"
#include "hw/ide/ide.h"
#include "tests/harness.h"

#define FZ_ROUNDS   8

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct qmp_block_ops fz_block_ops = {
    .change_media = ide_cd_change_media,
    .eject = ide_cd_eject,
    .stats = ide_blk_stats,
};

static struct {
    struct t_machine *t;
    struct qmp *q;
    char *dir, *sock, *chardev;
} m;

static void
pump(void)
{
    dm_loop_iterate(m.t->dm, 0);
    dm_run_posted(m.t->dm);
}

/* Read whatever the server sent; true once the peer closed. */
static bool
drain(int fd)
{
    char buf[4096];
    ssize_t n;

    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
    }
    return n == 0;
}

/* Let the loop run, then read what the server sent: true once closed. */
static bool
pump_drain(int fd)
{
    pump();
    return drain(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\r\n";
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, m.sock, sizeof(sa.sun_path));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        t_fail(__FILE__, __LINE__, "connect %s", m.sock);
    }
    pump();
    drain(fd);
    if (size && data[0] != '!') {
        fuzz_send_all(fd, (const uint8_t *)caps, sizeof(caps) - 1,
                      FZ_ROUNDS, pump_drain);
    }
    fuzz_send_all(fd, data, size, FZ_ROUNDS, pump_drain);
    for (unsigned int i = 0; i < FZ_ROUNDS && !pump_drain(fd); i++) {
    }
    close(fd);
    pump();
    pump();
    return 0;
}

static void
qmp_seeds(void)
{
    static const char *const cmds[] = {
        "{\"execute\":\"query-status\"}",
        "{\"execute\":\"stop\"}{\"execute\":\"cont\"}",
        "{\"execute\":\"query-block\"}{\"execute\":\"query-blockstats\"}",
        "{\"execute\":\"eject\",\"arguments\":{\"id\":\"ide-5696\","
        "\"force\":true}}",
        "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":"
        "\"ide-5696\",\"filename\":\"/nonexistent\",\"format\":\"raw\"}}",
        "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":"
        "{\"enable\":true}}",
        "{\"execute\":\"query-commands\"}{\"execute\":\"query-version\"}",
        "{\"execute\":\"human-monitor-command\",\"arguments\":"
        "{\"command-line\":\"info version\"}}",
        "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"x\"}}",
        "!{\"execute\":\"query-status\"}",
        "{\"execute\":\"qmp_capabilities\",\"id\":[1,{\"a\":[[[[1]]]]}]}",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        fuzz_seed("qmp", cmds[i], strlen(cmds[i]));
    }
}

static void
qmp_cleanup(void)
{
    qmp_free(m.q);
    t_machine_free(m.t);
    g_rmdir(m.dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *args[] = { "-chardev", NULL, "-mon",
                           "chardev=libxl-cmd,mode=control", "-serial",
                           "null", "-drive", "if=none,readonly=on,"
                           "id=ide-5696", "-device", "ide-cd,id=ide-5696,"
                           "drive=ide-5696,bus=ide.1,unit=0", NULL };
    struct t_opts o = { .argv = args };
    char err[256];

    (void)argc;
    (void)argv;
    if (fuzz_make_seeds(qmp_seeds)) {
        exit(0);
    }
    fuzz_quiet();
    m.dir = g_dir_make_tmp("hvmdm-fuzz-qmp-XXXXXX", NULL);
    m.sock = g_build_filename(m.dir, "qmp", NULL);
    m.chardev = g_strdup_printf("socket,id=libxl-cmd,path=%s,server=on,"
                                "wait=off", m.sock);
    args[1] = m.chardev;
    m.t = t_machine_new(&o);
    m.q = qmp_start_all(m.t->dm, m.t->dm->cfg, err, sizeof(err));
    if (!m.q) {
        t_fail(__FILE__, __LINE__, "qmp_start_all: %s", err);
    }
    qmp_set_block_ops(m.q, &fz_block_ops);
    if (qmp_machine_ready(m.q) != 0) {
        t_fail(__FILE__, __LINE__, "qmp_machine_ready");
    }
    atexit(qmp_cleanup);
    return 0;
}
