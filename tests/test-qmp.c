/*
 * The QMP server through real UNIX sockets, as libxl drives it
 * (xen-dm-interface.md 3.4, 3.5; the conversation of
 * shared/data/run12-qmp.txt), and the run state behind it: prelaunch (-S)
 * -> running on "cont" reports "running" to the toolstack exactly once.
 * The test process is the client; the machine's loop runs between reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>                  /* memfd_create */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "block/block.h"             /* struct blk_stats */
#include "dm/ioreq-info.h"
#include "dm/log.h"
#include "dm/chardev.h"
#include "dm/config.h"
#include "dm/gmem.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "dm/qmp-cmd.h"
#include "hw/ide/ide.h"              /* the real media ops */
#include "tests/harness.h"
#include "tests/t.h"

/* Real-time waits for the kernel: up to 4000 rounds of 0.5 ms. */
#define WAIT_ROUNDS 4000

struct qt {
    struct t_machine *t;
    struct qmp *q;
    char *dir;
    char *sock;                 /* the libxl-cmd socket */
};

struct client {
    int fd;
    GString *buf;               /* received, not yet returned */
};

/* ---- set-up ------------------------------------------------------------ */

static void
qt_start(struct qt *qt, const char *const *extra)
{
    g_autofree char *chardev = NULL;
    GPtrArray *argv = g_ptr_array_new();
    struct t_opts o = { 0 };
    char err[256] = "";

    qt->dir = g_dir_make_tmp("hvmdm-qmp-XXXXXX", NULL);
    T_ASSERT(qt->dir);
    qt->sock = g_strdup_printf("%s/qmp-libxl-1", qt->dir);
    chardev = g_strdup_printf("socket,id=libxl-cmd,path=%s,server=on,"
                              "wait=off", qt->sock);
    g_ptr_array_add(argv, "-chardev");
    g_ptr_array_add(argv, chardev);
    g_ptr_array_add(argv, "-mon");
    g_ptr_array_add(argv, "chardev=libxl-cmd,mode=control");
    g_ptr_array_add(argv, "-serial");
    g_ptr_array_add(argv, "pty");
    for (; extra && *extra; extra++) {
        g_ptr_array_add(argv, (char *)*extra);
    }
    g_ptr_array_add(argv, NULL);
    o.argv = (const char *const *)argv->pdata;
    qt->t = t_machine_new(&o);
    g_ptr_array_free(argv, TRUE);
    qt->q = qmp_start_all(qt->t->dm, qt->t->dm->cfg, err, sizeof(err));
    if (!qt->q) {
        t_fail(__FILE__, __LINE__, "qmp_start_all: %s", err);
    }
}

static void
qt_stop(struct qt *qt)
{
    qmp_free(qt->q);
    t_machine_free(qt->t);
    T_ASSERT(access(qt->sock, F_OK) != 0);      /* socket removed */
    T_EQ(rmdir(qt->dir), 0);
    g_free(qt->sock);
    g_free(qt->dir);
}

static void
pump(struct qt *qt)
{
    dm_loop_iterate(qt->t->dm, 0);
    g_usleep(500);
}

/* ---- the client side --------------------------------------------------- */

static struct client
client_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct client c = { .buf = g_string_new(NULL) };

    c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    T_ASSERT(c.fd >= 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    T_EQ(connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return c;
}

static void
client_close(struct client *c)
{
    close(c->fd);
    g_string_free(c->buf, TRUE);
}

static void
client_send(struct qt *qt, struct client *c, const char *text)
{
    size_t done = 0, len = strlen(text);
    int i;

    for (i = 0; i < WAIT_ROUNDS && done < len; i++) {
        ssize_t n = send(c->fd, text + done, len - done, MSG_NOSIGNAL);

        if (n > 0) {
            done += (size_t)n;
        } else {
            pump(qt);
        }
    }
    T_EQ(done, len);
}

/* One "\r\n"-terminated message, or NULL after rounds empty reads. */
static char *
client_try_line(struct qt *qt, struct client *c, int rounds)
{
    char chunk[4096];
    ssize_t n;
    char *nl;
    int i;

    for (i = 0; i < rounds; i++) {
        nl = strstr(c->buf->str, "\r\n");
        if (nl) {
            char *line = g_strndup(c->buf->str, (gsize)(nl - c->buf->str));

            g_string_erase(c->buf, 0, nl - c->buf->str + 2);
            return line;
        }
        n = recv(c->fd, chunk, sizeof(chunk), 0);
        if (n > 0) {
            g_string_append_len(c->buf, chunk, n);
        } else {
            pump(qt);
        }
    }
    return NULL;
}

/* The next message as JSON (an object). */
static JsonObject *
client_msg(struct qt *qt, struct client *c)
{
    g_autofree char *line = client_try_line(qt, c, WAIT_ROUNDS);
    JsonNode *n;
    JsonObject *o;

    if (!line) {
        t_fail(__FILE__, __LINE__, "no message from the server");
    }
    n = json_from_string(line, NULL);
    if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
        t_fail(__FILE__, __LINE__, "not a JSON object: %s", line);
    }
    o = json_object_ref(json_node_get_object(n));
    json_node_unref(n);
    return o;
}

/* The next message that is not an event. */
static JsonObject *
client_reply(struct qt *qt, struct client *c)
{
    JsonObject *o = client_msg(qt, c);

    while (json_object_has_member(o, "event")) {
        json_object_unref(o);
        o = client_msg(qt, c);
    }
    return o;
}

static JsonObject *
client_cmd(struct qt *qt, struct client *c, const char *text)
{
    client_send(qt, c, text);
    return client_reply(qt, c);
}

/* The reply's "return" member; fails the test on an error reply. */
static JsonNode *
ret_of(JsonObject *reply)
{
    if (!json_object_has_member(reply, "return")) {
        JsonNode *n = json_node_init_object(json_node_alloc(), reply);

        t_fail(__FILE__, __LINE__, "error reply: %s",
               json_to_string(n, FALSE));
    }
    return json_object_get_member(reply, "return");
}

/* Checks an error reply's class and description (prefix). */
static void
expect_error(JsonObject *reply, const char *class, const char *desc)
{
    JsonObject *e;

    if (!json_object_has_member(reply, "error")) {
        t_fail(__FILE__, __LINE__, "expected an error (%s)", desc);
    }
    e = json_object_get_object_member(reply, "error");
    if (strcmp(json_object_get_string_member(e, "class"), class) != 0 ||
        !g_str_has_prefix(json_object_get_string_member(e, "desc"), desc)) {
        t_fail(__FILE__, __LINE__, "error %s: %s; expected %s: %s",
               json_object_get_string_member(e, "class"),
               json_object_get_string_member(e, "desc"), class, desc);
    }
    json_object_unref(reply);
}

/* The reply's "return" as JSON text contains needle; frees the reply. */
static bool
return_contains(JsonObject *reply, const char *needle)
{
    g_autofree char *text = json_to_string(ret_of(reply), FALSE);

    json_object_unref(reply);
    return strstr(text, needle) != NULL;
}

static void
expect_empty_return(JsonObject *reply)
{
    JsonNode *r = ret_of(reply);

    T_ASSERT(JSON_NODE_HOLDS_OBJECT(r));
    T_EQ(json_object_get_size(json_node_get_object(r)), 0);
    json_object_unref(reply);
}

/* The greeting: QMP.version.qemu.{major,minor,micro}, capabilities. */
static void
expect_greeting(struct qt *qt, struct client *c)
{
    JsonObject *g = client_msg(qt, c);
    JsonObject *qmp = json_object_get_object_member(g, "QMP");
    JsonObject *v = json_object_get_object_member(qmp, "version");
    JsonObject *qemu = json_object_get_object_member(v, "qemu");

    T_ASSERT(json_object_get_int_member(qemu, "major") >= 2);
    T_ASSERT(json_object_has_member(qemu, "minor"));
    T_ASSERT(json_object_has_member(qemu, "micro"));
    T_ASSERT(json_object_get_array_member(qmp, "capabilities") != NULL);
    json_object_unref(g);
}

/* Connect, greeting, qmp_capabilities as libxl sends it. */
static struct client
client_negotiated(struct qt *qt)
{
    struct client c = client_connect(qt->sock);

    expect_greeting(qt, &c);
    expect_empty_return(client_cmd(qt, &c, "{\"execute\":\"qmp_capabilities"
                                   "\",\"id\":1}\r\n"));
    return c;
}

static const char *
status_of(struct qt *qt, struct client *c)
{
    static char status[32];
    JsonObject *r = client_cmd(qt, c, "{\"execute\":\"query-status\"}");
    JsonObject *s = json_node_get_object(ret_of(r));

    g_strlcpy(status, json_object_get_string_member(s, "status"),
              sizeof(status));
    T_EQ(json_object_get_boolean_member(s, "running"),
         strcmp(status, "running") == 0);
    T_EQ(json_object_get_boolean_member(s, "singlestep"), false);
    json_object_unref(r);
    return status;
}

/* ---- libxl's conversation ---------------------------------------------- */

/* query-chardev lists serial0 as "pty:/dev/pts/N" (what libxl publishes as
 * serial/0/tty) and the monitor's own socket. */
static void
expect_chardevs(struct qt *qt, JsonObject *reply)
{
    JsonArray *a = json_node_get_array(ret_of(reply));
    const struct dm_chardev *serial = dm_chardev_find(qt->t->dm, "serial0");
    g_autofree char *mon = g_strdup_printf("unix:%s,server=on", qt->sock);
    bool saw_serial = false, saw_mon = false;
    guint i;

    T_ASSERT(serial);
    T_ASSERT(g_str_has_prefix(dm_chardev_filename(serial), "pty:/dev/pts/"));
    for (i = 0; i < json_array_get_length(a); i++) {
        JsonObject *e = json_array_get_object_element(a, i);
        const char *label = json_object_get_string_member(e, "label");
        const char *file = json_object_get_string_member(e, "filename");

        if (strcmp(label, "serial0") == 0) {
            T_ASSERT(strcmp(file, dm_chardev_filename(serial)) == 0);
            saw_serial = true;
        } else if (strcmp(label, "libxl-cmd") == 0) {
            T_ASSERT(strcmp(file, mon) == 0);
            saw_mon = true;
        }
    }
    T_ASSERT(saw_serial && saw_mon);
    json_object_unref(reply);
}

/* shared/data/run12-qmp.txt, byte for byte what libxl sent (its first
 * qmp_capabilities is spelt right there: QEMU answered it). */
T_TEST(qmp_libxl_conversation)
{
    static const char *const extra[] = { "-S", NULL };
    struct qt qt = { 0 };
    struct client c;
    JsonObject *r;

    qt_start(&qt, extra);
    T_EQ(qmp_machine_ready(qt.q), 0);
    T_EQ(t_hv_count(qt.t, "running"), 0);      /* -S: not yet */
    c = client_connect(qt.sock);
    expect_greeting(&qt, &c);
    r = client_cmd(&qt, &c, "{\"execute\":\"qmp_capabilities\","
                   "\"id\":2020372737}\r\n");
    T_EQ(json_object_get_int_member(r, "id"), 2020372737);
    expect_empty_return(r);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-chardev\","
                   "\"id\":2020372736}\r\n");
    T_EQ(json_object_get_int_member(r, "id"), 2020372736);
    expect_chardevs(&qt, r);
    client_close(&c);
    /* A new connection later: qmp_capabilities, cont. */
    c = client_connect(qt.sock);
    expect_greeting(&qt, &c);
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"qmp_"
                                   "capabilities\",\"id\":2020372737}\r\n"));
    T_ASSERT(strcmp(status_of(&qt, &c), "prelaunch") == 0);
    r = client_cmd(&qt, &c, "{\"execute\":\"cont\",\"id\":2020372736}\r\n");
    T_EQ(json_object_get_int_member(r, "id"), 2020372736);
    expect_empty_return(r);
    T_EQ(t_hv_count(qt.t, "running"), 1);
    T_ASSERT(strcmp(status_of(&qt, &c), "running") == 0);
    T_EQ(qmp_run_state(qt.q), QMP_RUN_RUNNING);
    client_close(&c);
    qt_stop(&qt);
}

static void
record_state(void *opaque, enum qmp_run_state old, enum qmp_run_state state)
{
    g_string_append_printf(opaque, "%d>%d ", (int)old, (int)state);
}

/* Events are {"event", "timestamp": {"seconds", "microseconds"}}. */
static void
expect_event(struct qt *qt, struct client *c, const char *name)
{
    JsonObject *e = client_msg(qt, c);
    JsonObject *ts;

    T_ASSERT(json_object_has_member(e, "event"));
    T_ASSERT(strcmp(json_object_get_string_member(e, "event"), name) == 0);
    ts = json_object_get_object_member(e, "timestamp");
    T_ASSERT(json_object_get_int_member(ts, "seconds") > 0);
    T_ASSERT(json_object_has_member(ts, "microseconds"));
    json_object_unref(e);
}

T_TEST(qmp_run_state_machine)
{
    static const char *const extra[] = { "-S", NULL };
    struct qt qt = { 0 };
    GString *log = g_string_new(NULL);
    struct client c;

    qt_start(&qt, extra);
    qmp_set_run_state_cb(qt.q, record_state, log);
    T_EQ(qmp_machine_ready(qt.q), 0);
    c = client_negotiated(&qt);
    /* stop in prelaunch keeps prelaunch (QEMU's vm_stop). */
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"stop\"}"));
    T_ASSERT(strcmp(status_of(&qt, &c), "prelaunch") == 0);
    client_send(&qt, &c, "{\"execute\":\"cont\"}");
    expect_event(&qt, &c, "RESUME");
    expect_empty_return(client_reply(&qt, &c));
    T_EQ(t_hv_count(qt.t, "running"), 1);
    /* cont while running: nothing to do, nothing reported again. */
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"cont\"}"));
    T_EQ(t_hv_count(qt.t, "running"), 1);
    client_send(&qt, &c, "{\"execute\":\"stop\"}");
    expect_event(&qt, &c, "STOP");
    expect_empty_return(client_reply(&qt, &c));
    T_ASSERT(strcmp(status_of(&qt, &c), "paused") == 0);
    /* Every entry into running is reported, as qemu-xen does. */
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"cont\"}"));
    T_EQ(t_hv_count(qt.t, "running"), 2);
    T_ASSERT(strcmp(log->str, "0>1 1>2 2>1 ") == 0);
    client_close(&c);
    qt_stop(&qt);
    g_string_free(log, TRUE);
}

/* Without -S the machine runs as soon as it is ready. */
T_TEST(qmp_ready_without_prelaunch)
{
    struct qt qt = { 0 };
    struct client c;

    qt_start(&qt, NULL);
    T_EQ(qmp_run_state(qt.q), QMP_RUN_PRELAUNCH);
    T_EQ(t_hv_count(qt.t, "running"), 0);
    T_EQ(qmp_machine_ready(qt.q), 0);
    T_EQ(t_hv_count(qt.t, "running"), 1);
    c = client_negotiated(&qt);
    T_ASSERT(strcmp(status_of(&qt, &c), "running") == 0);
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"cont\"}"));
    T_EQ(t_hv_count(qt.t, "running"), 1);
    client_close(&c);
    qt_stop(&qt);
}

/* ---- connections -------------------------------------------------------- */

T_TEST(qmp_repeated_short_connections)
{
    struct qt qt = { 0 };
    struct client c, next;
    int i;

    qt_start(&qt, NULL);
    for (i = 0; i < 50; i++) {
        c = client_negotiated(&qt);
        T_ASSERT(strcmp(status_of(&qt, &c), "prelaunch") == 0);
        client_close(&c);
    }
    /* A client that leaves mid-request does not disturb the next one. */
    c = client_connect(qt.sock);
    client_send(&qt, &c, "{\"execute\":\"qmp_capab");
    client_close(&c);
    /* One at a time: the second waits, greeted once the first is gone. */
    c = client_negotiated(&qt);
    next = client_connect(qt.sock);
    T_ASSERT(client_try_line(&qt, &next, 200) == NULL);
    client_close(&c);
    expect_greeting(&qt, &next);
    client_close(&next);
    qt_stop(&qt);
}

/* libxl's second monitor (libxenstat-cmd) and a pre-opened fd= socket. */
T_TEST(qmp_two_monitors_fd_socket)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct qt qt = { 0 }, other = { 0 };
    g_autofree char *path = NULL;
    g_autofree char *spec = NULL;
    const char *extra[] = { "-chardev", NULL, "-mon",
                            "chardev=libxenstat-cmd,mode=control", NULL };
    struct client a, b;
    int lfd;

    other.dir = g_dir_make_tmp("hvmdm-qmp-XXXXXX", NULL);
    path = g_strdup_printf("%s/qmp-libxenstat-1", other.dir);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    T_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    T_EQ(listen(lfd, 1), 0);
    spec = g_strdup_printf("socket,id=libxenstat-cmd,fd=%d,server=on,"
                           "wait=off", lfd);
    extra[1] = spec;
    qt_start(&qt, extra);
    a = client_negotiated(&qt);
    b = client_connect(path);
    expect_greeting(&qt, &b);
    /* Only negotiated clients get events. */
    expect_empty_return(client_cmd(&qt, &a, "{\"execute\":\"cont\"}"));
    T_ASSERT(client_try_line(&qt, &b, 200) == NULL);
    expect_empty_return(client_cmd(&qt, &b, "{\"execute\":\"qmp_"
                                   "capabilities\"}"));
    T_ASSERT(return_contains(client_cmd(&qt, &b, "{\"execute\":\"query-"
                                        "chardev\"}"), path));
    client_send(&qt, &a, "{\"execute\":\"stop\"}");
    expect_event(&qt, &b, "STOP");
    client_close(&a);
    client_close(&b);
    qt_stop(&qt);
    unlink(path);                   /* ours: the toolstack's to remove */
    T_EQ(rmdir(other.dir), 0);
    g_free(other.dir);
}

/* ---- negotiation and malformed input ------------------------------------ */

T_TEST(qmp_commands_before_negotiation)
{
    struct qt qt = { 0 };
    struct client c;
    JsonObject *r;

    qt_start(&qt, NULL);
    c = client_connect(qt.sock);
    expect_greeting(&qt, &c);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-status\",\"id\":7}");
    T_EQ(json_object_get_int_member(r, "id"), 7);
    expect_error(r, "CommandNotFound", "Expecting capabilities negotiation");
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"cont\"}"),
                 "CommandNotFound", "Expecting capabilities negotiation");
    T_EQ(t_hv_count(qt.t, "running"), 0);
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"qmp_capabilities\","
                            "\"arguments\":{\"enable\":[\"oob\"]}}"),
                 "GenericError", "Capability 'oob' not available");
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":"
                                   "\"qmp_capabilities\"}"));
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"qmp_capabilities\"}"),
                 "CommandNotFound", "Capabilities negotiation is already");
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"migrate\","
                            "\"arguments\":{\"uri\":\"fd:3\"}}"),
                 "CommandNotFound", "The command migrate has not been found");
    client_close(&c);
    qt_stop(&qt);
}

T_TEST(qmp_malformed_requests)
{
    static const struct {
        const char *req;
        const char *desc;
    } bad[] = {
        { "{\"execute\":}", "JSON parse error" },
        { "hello\n", "JSON parse error" },
        { "\xff\xfe{}\n", "JSON parse error" },
        { "}", "JSON parse error" },
        { "[1, 2]", "QMP input must be a JSON object" },
        { "42\n", "QMP input must be a JSON object" },
        { "\"execute\"\n", "QMP input must be a JSON object" },
        { "{}", "QMP input lacks member 'execute'" },
        { "{\"arguments\":{}}", "QMP input lacks member 'execute'" },
        { "{\"execute\":1}", "QMP input member 'execute' must be a string" },
        { "{\"execute\":\"cont\",\"arguments\":[]}",
          "QMP input member 'arguments' must be an object" },
        { "{\"execute\":\"cont\",\"extra\":1}",
          "QMP input member 'extra' is unexpected" },
        { "{\"execute\":\"xen-set-global-dirty-log\"}",
          "Parameter 'enable' is missing" },
        { "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":"
          "{\"enable\":\"yes\"}}",
          "Invalid parameter type for 'enable', expected: boolean" },
        { "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":1.5}}",
          "Invalid parameter type for 'fdset-id', expected: integer" },
        { "{\"execute\":\"cont\",\"arguments\":{\"now\":true}}",
          "Parameter 'now' is unexpected" },
        { "{\"execute\":\"nope\",\"id\":{\"a\":[1,\"}\"]}}",
          "The command nope has not been found" },
    };
    struct qt qt = { 0 };
    struct client c;
    JsonObject *r;
    size_t i;

    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        r = client_cmd(&qt, &c, bad[i].req);
        expect_error(r, strstr(bad[i].desc, "has not been found")
                        ? "CommandNotFound" : "GenericError", bad[i].desc);
    }
    /* Any JSON id comes back as it was; whitespace between messages and
     * two requests in one write are fine. */
    client_send(&qt, &c, "  \r\n{\"execute\":\"query-vnc\",\"id\":\"a\\\"}\"}"
                "{\"execute\":\"query-vnc\",\"id\":[1]}\n");
    r = client_reply(&qt, &c);
    T_ASSERT(strcmp(json_object_get_string_member(r, "id"), "a\"}") == 0);
    json_object_unref(r);
    r = client_reply(&qt, &c);
    T_EQ(json_array_get_int_element(json_object_get_array_member(r, "id"),
                                    0), 1);
    json_object_unref(r);
    T_ASSERT(strcmp(status_of(&qt, &c), "prelaunch") == 0);
    client_close(&c);
    qt_stop(&qt);
}

/* More than QMP_MAX_REQUEST, or nesting deeper than QEMU allows: one
 * error, the bytes dropped up to the end of the line, then service. */
T_TEST(qmp_oversized_and_deep_requests)
{
    struct qt qt = { 0 };
    GString *big = g_string_new("{\"execute\":\"query-status\",\"id\":\"");
    struct client c;
    char *deep;

    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    while (big->len < QMP_MAX_REQUEST + 4096) {
        g_string_append(big, "xxxxxxxxxxxxxxxx");
    }
    g_string_append(big, "\"}\r\n");
    client_send(&qt, &c, big->str);
    expect_error(client_reply(&qt, &c), "GenericError",
                 "JSON parse error, request too large");
    deep = g_strnfill(5000, '[');
    client_send(&qt, &c, deep);
    client_send(&qt, &c, "\n");
    expect_error(client_reply(&qt, &c), "GenericError",
                 "JSON parse error, nesting too deep");
    T_ASSERT(strcmp(status_of(&qt, &c), "prelaunch") == 0);
    T_ASSERT(client_try_line(&qt, &c, 100) == NULL);    /* nothing more */
    client_close(&c);
    qt_stop(&qt);
    g_string_free(big, TRUE);
    g_free(deep);
}

/* Reads until the server closes the connection; false if it does not. */
static bool
client_wait_eof(struct qt *qt, struct client *c)
{
    char chunk[65536];
    int idle = 0;

    while (idle < WAIT_ROUNDS) {
        ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);

        if (n == 0) {
            return true;
        }
        if (n < 0 && errno != EAGAIN) {
            return true;                    /* reset by the server */
        }
        idle = n > 0 ? 0 : idle + 1;
        pump(qt);
    }
    return false;
}

/* A client that never reads its replies is dropped, not buffered for. */
T_TEST(qmp_client_that_does_not_read)
{
    struct qt qt = { 0 };
    GString *many = g_string_new(NULL);
    struct client c;
    int i;

    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    for (i = 0; i < 200; i++) {
        g_string_append(many, "{\"execute\":\"query-commands\"}");
    }
    for (i = 0; i < 100; i++) {
        if (send(c.fd, many->str, many->len, MSG_NOSIGNAL) < 0) {
            pump(&qt);
        }
        pump(&qt);
    }
    T_ASSERT(client_wait_eof(&qt, &c));     /* dropped by the server */
    client_close(&c);
    c = client_negotiated(&qt);     /* the monitor still serves */
    client_close(&c);
    qt_stop(&qt);
    g_string_free(many, TRUE);
}

/* ---- command replies --------------------------------------------------- */

static bool
array_has_name(JsonArray *a, const char *member, const char *name)
{
    guint i;

    for (i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        if (strcmp(json_object_get_string_member(o, member), name) == 0) {
            return true;
        }
    }
    return false;
}

T_TEST(qmp_reply_shapes)
{
    static const char *const cmds[] = {
        "qmp_capabilities", "query-status", "query-chardev", "query-vnc",
        "change-vnc-password", "cont", "stop", "system_wakeup",
        "query-block", "query-blockstats", "eject",
        "blockdev-change-medium", "add-fd", "xen-set-global-dirty-log",
        "query-commands", "query-command-line-options",
    };
    struct qt qt = { 0 };
    struct client c;
    JsonObject *r, *o;
    JsonArray *a;
    size_t i;

    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-vnc\"}");
    o = json_node_get_object(ret_of(r));
    T_EQ(json_object_get_size(o), 1);
    T_EQ(json_object_get_boolean_member(o, "enabled"), false);
    json_object_unref(r);
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"change-vnc-password\","
                            "\"arguments\":{\"password\":\"x\"}}"),
                 "GenericError", "VNC is not enabled");
    r = client_cmd(&qt, &c, "{\"execute\":\"query-commands\"}");
    a = json_node_get_array(ret_of(r));
    for (i = 0; i < G_N_ELEMENTS(cmds); i++) {
        T_ASSERT(array_has_name(a, "name", cmds[i]));
    }
    json_object_unref(r);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-version\"}");
    o = json_object_get_object_member(json_node_get_object(ret_of(r)),
                                      "qemu");
    T_ASSERT(json_object_get_int_member(o, "major") >= 2);
    json_object_unref(r);
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"system_"
                                   "wakeup\"}"));
    T_EQ(t_hv_count(qt.t, "acpi_s_state 0"), 1);
    client_close(&c);
    qt_stop(&qt);
}

/* libxl 4.20+ looks for -run-with chroot and user. */
T_TEST(qmp_command_line_options)
{
    struct qt qt = { 0 };
    struct client c;
    JsonObject *r, *o;
    JsonArray *a;

    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-command-line-options\"}");
    a = json_node_get_array(ret_of(r));
    T_ASSERT(array_has_name(a, "option", "drive"));
    json_object_unref(r);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-command-line-options\","
                   "\"arguments\":{\"option\":\"run-with\"}}");
    a = json_node_get_array(ret_of(r));
    T_EQ(json_array_get_length(a), 1);
    o = json_array_get_object_element(a, 0);
    a = json_object_get_array_member(o, "parameters");
    T_ASSERT(array_has_name(a, "name", "chroot"));
    T_ASSERT(array_has_name(a, "name", "user"));
    json_object_unref(r);
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"query-command-line-"
                            "options\",\"arguments\":{\"option\":\"foo\"}}"),
                 "GenericError", "invalid option name: foo");
    client_close(&c);
    qt_stop(&qt);
}

/* What the probe promises, the parser takes. */
T_TEST(qmp_command_line_options_are_accepted)
{
    static char *const argv[] = {
        "hvmdm", "-xen-domid", "1", "-run-with", "chroot=/tmp,user=nobody",
        NULL,
    };
    struct dm_config cfg;
    char err[256];

    dm_config_defaults(&cfg);
    T_EQ(dm_config_parse(&cfg, 5, argv, err, sizeof(err)), 0);
    dm_config_free(&cfg);
}

T_TEST(qmp_dirty_log)
{
    struct qt qt = { 0 };
    struct client c;
    uint8_t byte = 1;

    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    T_EQ(gm_write(qt.t->dm->gm, 0x2000, &byte, 1), 0);
    T_EQ(t_hv_count(qt.t, "modified"), 0);
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"xen-set-global-"
                                   "dirty-log\",\"arguments\":{\"enable\":"
                                   "true}}"));
    T_EQ(gm_write(qt.t->dm->gm, 0x2000, &byte, 1), 0);
    T_EQ(t_hv_count(qt.t, "modified"), 1);
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"xen-set-global-"
                                   "dirty-log\",\"arguments\":{\"enable\":"
                                   "false}}"));
    T_EQ(gm_write(qt.t->dm->gm, 0x2000, &byte, 1), 0);
    T_EQ(t_hv_count(qt.t, "modified"), 1);
    client_close(&c);
    qt_stop(&qt);
}

/* ---- block devices ------------------------------------------------------ */

static GString *media_log;

static int
fake_change(struct dm *dm, int index, const char *path, const char *format,
            bool force, char *err, size_t errlen)
{
    g_string_append_printf(media_log, "change %d %s %s %d;", index, path,
                           format ? format : "-", force);
    return 0;
}

static int
fake_eject(struct dm *dm, int index, bool force, char *err, size_t errlen)
{
    if (force) {
        g_string_append_printf(media_log, "eject %d;", index);
        return 0;
    }
    g_snprintf(err, errlen, "Device is locked");
    return -EBUSY;
}

/* The disk at position 0 has read 8 sectors. */
static bool
fake_stats(struct dm *dm, int index, struct blk_stats *out)
{
    if (index != 0) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->rd_ops = 1;
    out->rd_bytes = 4096;
    return true;
}

static const struct qmp_block_ops fake_ops = {
    .change_media = fake_change,
    .eject = fake_eject,
    .stats = fake_stats,
};

static char *
disk_image(void)
{
    char *path = g_strdup_printf("%s/hvmdm-qmp-%d.img", g_get_tmp_dir(),
                                 (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

    T_ASSERT(fd >= 0);
    T_EQ(ftruncate(fd, 1 << 20), 0);
    close(fd);
    return path;
}

static JsonObject *
block_entry(JsonArray *a, const char *device)
{
    guint i;

    for (i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        if (strcmp(json_object_get_string_member(o, "device"), device) == 0) {
            return o;
        }
    }
    t_fail(__FILE__, __LINE__, "no block device %s", device);
}

static void
expect_block(struct qt *qt, struct client *c, const char *img)
{
    JsonObject *r = client_cmd(qt, c, "{\"execute\":\"query-block\"}");
    JsonArray *a = json_node_get_array(ret_of(r));
    JsonObject *disk = block_entry(a, "ide0-hd0");
    JsonObject *cd = block_entry(a, "ide-5632");
    JsonObject *ins = json_object_get_object_member(disk, "inserted");

    T_EQ(json_array_get_length(a), 2);
    T_EQ(json_object_get_boolean_member(disk, "removable"), false);
    T_ASSERT(strcmp(json_object_get_string_member(ins, "file"), img) == 0);
    T_ASSERT(strcmp(json_object_get_string_member(ins, "drv"), "raw") == 0);
    T_EQ(json_object_get_boolean_member(ins, "ro"), false);
    T_EQ(json_object_get_boolean_member(cd, "removable"), true);
    T_EQ(json_object_get_boolean_member(cd, "tray_open"), false);
    T_ASSERT(!json_object_has_member(cd, "inserted"));  /* empty drive */
    json_object_unref(r);
    r = client_cmd(qt, c, "{\"execute\":\"query-blockstats\"}");
    a = json_node_get_array(ret_of(r));
    T_EQ(json_array_get_length(a), 2);
    disk = json_object_get_object_member(block_entry(a, "ide0-hd0"),
                                         "stats");
    T_EQ(json_object_get_int_member(disk, "rd_bytes"), 0);
    T_EQ(json_object_get_int_member(disk, "wr_operations"), 0);
    json_object_unref(r);
}

/* libxl's CD-ROM: -drive if=none,id=ide-5632 + -device ide-cd,id=... */
#define LIBXL_CD "if=none,readonly=on,id=ide-5632"
#define LIBXL_CD_DEV "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0"

T_TEST(qmp_block_query_eject_change)
{
    struct qt qt = { 0 };
    g_autofree char *img = disk_image();
    g_autofree char *drive = g_strdup_printf("file=%s,if=ide,index=0,"
                                             "media=disk,format=raw,"
                                             "cache=writeback", img);
    const char *extra[] = { "-drive", drive, "-drive", LIBXL_CD,
                            "-device", LIBXL_CD_DEV, NULL };
    struct client c;
    JsonObject *r, *st;

    qt_start(&qt, extra);
    media_log = g_string_new(NULL);
    c = client_negotiated(&qt);
    expect_block(&qt, &c, img);
    qmp_set_block_ops(qt.q, NULL);          /* no IDE hook yet */
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"eject\",\"arguments\":"
                            "{\"id\":\"ide-5632\"}}"),
                 "GenericError", "no such removable device: ide-5632");
    qmp_set_block_ops(qt.q, &fake_ops);
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"eject\",\"arguments\":"
                            "{\"id\":\"ide0-hd0\"}}"),
                 "GenericError", "no such removable device: ide0-hd0");
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"eject\",\"arguments\":"
                            "{\"id\":\"ide-5632\"}}"),
                 "GenericError", "Device is locked");
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"eject\",\"arguments\":"
                            "{}}"),
                 "GenericError", "Need exactly one of 'device' and 'id'");
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"eject\","
                                   "\"arguments\":{\"device\":\"ide-5632\","
                                   "\"force\":true}}"));
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"blockdev-change-"
                            "medium\",\"arguments\":{\"id\":\"ide-5632\","
                            "\"filename\":\"/dev/fdset/3\"}}"),
                 "GenericError", "/dev/fdset/3: no such fd set");
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"blockdev-change-"
                            "medium\",\"arguments\":{\"id\":\"ide-5632\","
                            "\"filename\":\"/a.iso\",\"read-only-mode\":"
                            "\"read-write\"}}"),
                 "GenericError", "read-only-mode read-write");
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"blockdev-change-"
                                   "medium\",\"arguments\":{\"id\":\"ide-"
                                   "5632\",\"filename\":\"/srv/a.iso\","
                                   "\"format\":\"raw\"}}"));
    T_ASSERT(strcmp(media_log->str, "eject 2;change 2 /srv/a.iso raw 0;")
             == 0);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-blockstats\"}");
    st = json_object_get_object_member(
        block_entry(json_node_get_array(ret_of(r)), "ide0-hd0"), "stats");
    T_EQ(json_object_get_int_member(st, "rd_bytes"), 4096);
    T_EQ(json_object_get_int_member(st, "rd_operations"), 1);
    json_object_unref(r);
    client_close(&c);
    qt_stop(&qt);
    unlink(img);
    g_string_free(media_log, TRUE);
}

/* ---- add-fd ------------------------------------------------------------- */

/* The JSON and the fd in one sendmsg, as libxl sends them. */
static void
send_with_fd(struct client *c, const char *text, int fd)
{
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.space,
                          .msg_controllen = sizeof(ctl.space) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    T_EQ(sendmsg(c->fd, &msg, MSG_NOSIGNAL), (ssize_t)strlen(text));
}

static bool
same_file(int a, int b)
{
    struct stat sa, sb;

    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static unsigned int
open_fds(void)
{
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    unsigned int n = 0;

    T_ASSERT(d);
    while (g_dir_read_name(d)) {
        n++;
    }
    g_dir_close(d);
    return n;
}

/* add-fd answers {"fdset-id", "fd"}; returns the fd hvmdm holds. */
static int
add_fd(struct qt *qt, struct client *c, const char *req, int fd,
       int64_t fdset)
{
    JsonObject *r, *o;
    int got;

    send_with_fd(c, req, fd);
    r = client_reply(qt, c);
    o = json_node_get_object(ret_of(r));
    T_EQ(json_object_get_int_member(o, "fdset-id"), fdset);
    got = (int)json_object_get_int_member(o, "fd");
    T_ASSERT(got != fd && same_file(got, fd));
    T_ASSERT(fcntl(got, F_GETFD) & FD_CLOEXEC);
    json_object_unref(r);
    return got;
}

T_TEST(qmp_add_fd_scm_rights)
{
    const char *extra[] = { "-drive", LIBXL_CD, "-device", LIBXL_CD_DEV,
                            NULL };
    struct qt qt = { 0 };
    g_autofree char *file = NULL;
    g_autofree char *want = NULL;
    g_autofree char *remove = NULL;
    struct client c;
    JsonObject *r;
    int fd, got, got2;

    qt_start(&qt, extra);
    qmp_set_block_ops(qt.q, &fake_ops);
    media_log = g_string_new(NULL);
    file = g_strdup_printf("%s/qemu-save.1", qt.dir);
    fd = open(file, O_RDWR | O_CREAT, 0600);
    T_ASSERT(fd >= 0);
    c = client_negotiated(&qt);
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"add-fd\"}"),
                 "GenericError", "No file descriptor supplied via "
                 "SCM_RIGHTS");
    got = add_fd(&qt, &c, "{\"execute\":\"add-fd\",\"id\":5}\r\n", fd, 0);
    /* A second fd in the same set, with libxl's cdrom "opaque". */
    got2 = add_fd(&qt, &c, "{\"execute\":\"add-fd\",\"arguments\":"
                  "{\"fdset-id\":0,\"opaque\":\"cdrom\"}}", fd, 0);
    client_close(&c);               /* fd sets outlive the connection */
    c = client_negotiated(&qt);
    T_ASSERT(return_contains(client_cmd(&qt, &c, "{\"execute\":\"query-"
                                        "fdsets\"}"),
                             "\"opaque\":\"cdrom\""));
    /* libxl's CD insert: blockdev-change-medium on /dev/fdset/N. */
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"blockdev-change-"
                                   "medium\",\"arguments\":{\"id\":\"ide-"
                                   "5632\",\"filename\":\"/dev/fdset/0\"}}"));
    want = g_strdup_printf("change 2 /proc/self/fd/%d - 0;", got2);
    T_ASSERT(strcmp(media_log->str, want) == 0);
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"remove-fd\","
                            "\"arguments\":{\"fdset-id\":0,\"fd\":-7}}"),
                 "GenericError", "File descriptor named 'fdset-id:0, fd:-7'");
    remove = g_strdup_printf("{\"execute\":\"remove-fd\",\"arguments\":"
                             "{\"fdset-id\":0,\"fd\":%d}}", got);
    expect_empty_return(client_cmd(&qt, &c, remove));
    r = client_cmd(&qt, &c, "{\"execute\":\"query-fdsets\"}");
    T_EQ(json_array_get_length(json_node_get_array(ret_of(r))), 1);
    json_object_unref(r);
    client_close(&c);
    /* The remaining set goes with the machine. */
    T_ASSERT(fcntl(got2, F_GETFD) >= 0);
    qmp_free(qt.q);
    T_ASSERT(fcntl(got2, F_GETFD) < 0);
    t_machine_free(qt.t);
    close(fd);
    unlink(file);
    T_EQ(rmdir(qt.dir), 0);
    g_free(qt.sock);
    g_free(qt.dir);
    g_string_free(media_log, TRUE);
}

/* ---- events, quit, configuration errors --------------------------------- */

static void
count_quit(void *opaque)
{
    (*(int *)opaque)++;
}

T_TEST(qmp_shutdown_event_and_quit)
{
    struct qt qt = { 0 };
    struct client c;
    JsonObject *e, *data;
    int quits = 0;

    qt_start(&qt, NULL);
    qmp_set_quit_cb(qt.q, count_quit, &quits);
    c = client_negotiated(&qt);
    qmp_event_shutdown(qt.q, false, "host-signal");    /* SIGHUP, SIGTERM */
    e = client_msg(&qt, &c);
    T_ASSERT(strcmp(json_object_get_string_member(e, "event"),
                    "SHUTDOWN") == 0);
    data = json_object_get_object_member(e, "data");
    T_EQ(json_object_get_boolean_member(data, "guest"), false);
    T_ASSERT(strcmp(json_object_get_string_member(data, "reason"),
                    "host-signal") == 0);
    json_object_unref(e);
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"quit\"}"));
    T_EQ(quits, 1);
    client_close(&c);
    qt_stop(&qt);
}

/* spec with every "PATH" replaced by path. */
static char *
with_path(const char *spec, const char *path)
{
    gchar **parts = g_strsplit(spec, "PATH", -1);
    char *out = g_strjoinv(path, parts);

    g_strfreev(parts);
    return out;
}

/* One message naming the fix for a -mon QMP cannot serve. */
T_TEST(qmp_monitor_config_errors)
{
    static const struct {
        const char *chardev;
        const char *serial;
        const char *msg;
    } bad[] = {
        { "pty,id=m", NULL, "QMP is served on sockets only" },
        { "socket,id=m,path=PATH", NULL, "add server=on,wait=off" },
        { "socket,id=m,path=PATH,server=on,wait=off", "chardev:m",
          "is used by -mon and by another frontend" },
        { "socket,id=m,fd=1000,server=on,wait=off", NULL,
          "fd=1000 is not open" },
    };
    g_autofree char *dir = g_dir_make_tmp("hvmdm-qmp-XXXXXX", NULL);
    g_autofree char *path = g_strdup_printf("%s/s", dir);
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *spec = with_path(bad[i].chardev, path);
        const char *argv[] = { "-chardev", spec, "-mon",
                               "chardev=m,mode=control",
                               bad[i].serial ? "-serial" : NULL,
                               bad[i].serial, NULL };
        struct t_opts o = { .argv = argv };
        struct t_machine *t = t_machine_new(&o);
        char err[256] = "";

        T_ASSERT(qmp_start_all(t->dm, t->dm->cfg, err, sizeof(err)) == NULL);
        if (!strstr(err, bad[i].msg)) {
            t_fail(__FILE__, __LINE__, "'%s' lacks '%s'", err, bad[i].msg);
        }
        t_machine_free(t);
    }
    T_EQ(rmdir(dir), 0);
}

/* An fd sent without add-fd is closed with its connection. */
T_TEST(qmp_stray_fds_closed_with_connection)
{
    struct qt qt = { 0 };
    unsigned int before;
    struct client c;
    int fd = open("/dev/null", O_RDONLY);

    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    before = open_fds();
    send_with_fd(&c, "{\"execute\":\"query-status\"}", fd);
    json_object_unref(client_reply(&qt, &c));
    T_EQ(open_fds(), before + 1);           /* the stray fd */
    client_close(&c);
    /* Both ends of the connection and the stray fd are gone. */
    for (int i = 0; i < 1000 && open_fds() != before - 2; i++) {
        pump(&qt);
    }
    T_EQ(open_fds(), before - 2);
    close(fd);
    qt_stop(&qt);
}

struct waiter {
    const char *path;
    char greeting[256];
};

/* The toolstack side of wait=on: connect as soon as the socket exists. */
static gpointer
wait_client(gpointer opaque)
{
    struct waiter *w = opaque;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), i;
    ssize_t n;

    g_strlcpy(sa.sun_path, w->path, sizeof(sa.sun_path));
    for (i = 0; i < 2000; i++) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            break;
        }
        g_usleep(1000);
    }
    n = recv(fd, w->greeting, sizeof(w->greeting) - 1, 0);
    w->greeting[n > 0 ? n : 0] = '\0';
    close(fd);
    return NULL;
}

/* wait=on holds start-up until the first client is there, as QEMU. */
T_TEST(qmp_wait_on_holds_startup)
{
    g_autofree char *dir = g_dir_make_tmp("hvmdm-qmp-XXXXXX", NULL);
    g_autofree char *path = g_strdup_printf("%s/w", dir);
    g_autofree char *spec = g_strdup_printf("socket,id=w,path=%s,server=on,"
                                            "wait=on", path);
    const char *argv[] = { "-chardev", spec, "-mon", "chardev=w,mode=control",
                           NULL };
    struct t_opts o = { .argv = argv };
    struct t_machine *t = t_machine_new(&o);
    struct waiter w = { .path = path };
    GThread *th = g_thread_new("qmp-wait", wait_client, &w);
    char err[256];
    struct qmp *q = qmp_start_all(t->dm, t->dm->cfg, err, sizeof(err));

    T_ASSERT(q);
    g_thread_join(th);
    T_ASSERT(g_str_has_prefix(w.greeting, "{\"QMP\":"));
    qmp_free(q);
    t_machine_free(t);
    T_EQ(rmdir(dir), 0);
}

/* A subsystem's own command table (dm/qmp-cmd.h): registered once, listed,
 * argument-checked by the server, and unable to shadow a core command. */
static JsonNode *
ext_cmd_echo(struct qmp_req *r)
{
    JsonObject *o = json_object_new();

    if (qmp_arg_int(r, "n", 0) < 0) {
        qmp_fail(r, "GenericError", "n must not be negative");
        json_object_unref(o);
        return NULL;
    }
    json_object_set_int_member(o, "n", qmp_arg_int(r, "n", 7));
    json_object_set_boolean_member(o, "has-dm", qmp_req_dm(r) != NULL);
    return qmp_node_take_object(o);
}

static JsonNode *
ext_cmd_shadow(struct qmp_req *r)
{
    qmp_fail(r, "GenericError", "shadowed");
    return NULL;
}

static const struct qmp_arg ext_args_echo[] = {
    { "n", QMP_ARG_INT, false }, { NULL, 0, false },
};

static const struct qmp_cmd ext_cmds[] = {
    { "x-test-echo", ext_cmd_echo, false, ext_args_echo },
    { "query-status", ext_cmd_shadow, false, NULL },
    { NULL, NULL, false, NULL },
};

T_TEST(qmp_registered_command_table)
{
    struct qt qt = { 0 };
    struct client c;
    JsonObject *r, *o;
    JsonArray *a;

    T_EQ(qmp_register_cmds(ext_cmds), 0);
    T_EQ(qmp_register_cmds(ext_cmds), 0);
    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    r = client_cmd(&qt, &c, "{\"execute\":\"x-test-echo\","
                   "\"arguments\":{\"n\":3}}");
    o = json_node_get_object(ret_of(r));
    T_EQ(json_object_get_int_member(o, "n"), 3);
    T_ASSERT(json_object_get_boolean_member(o, "has-dm"));
    json_object_unref(r);
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"x-test-echo\","
                            "\"arguments\":{\"n\":\"3\"}}"),
                 "GenericError", "Invalid parameter type for 'n', "
                 "expected: integer");
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"x-test-echo\","
                            "\"arguments\":{\"n\":-1}}"),
                 "GenericError", "n must not be negative");
    r = client_cmd(&qt, &c, "{\"execute\":\"query-status\"}");
    T_ASSERT(json_object_has_member(r, "return"));
    json_object_unref(r);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-commands\"}");
    a = json_node_get_array(ret_of(r));
    T_ASSERT(array_has_name(a, "name", "x-test-echo"));
    json_object_unref(r);
    client_close(&c);
    qt_stop(&qt);
}

/* ---- query-ioreq (dm/ioreq-info.c) ------------------------------------- */

static JsonObject *
member_at(JsonObject *o, const char *array, guint i)
{
    return json_array_get_object_element(
        json_object_get_array_member(o, array), i);
}

T_TEST(qmp_query_ioreq_shows_a_stuck_slot)
{
    struct qt qt = { 0 };
    struct client c;
    ioreq_t rd = { .addr = 0x3fb, .count = 1, .size = 1,
                   .type = IOREQ_TYPE_PIO, .dir = IOREQ_READ };
    JsonObject *r, *o, *v, *req;

    qt_start(&qt, NULL);
    c = client_negotiated(&qt);
    t_outb(qt.t, 0x3ff, 0x5a);                  /* COM1 scratch */
    T_EQ(t_inb(qt.t, 0x3ff), 0x5a);
    t_post_request(qt.t, 0, &rd, true);         /* nobody serves it */
    r = client_cmd(&qt, &c, "{\"execute\":\"query-ioreq\"}");
    o = json_node_get_object(ret_of(r));
    v = member_at(o, "vcpus", 0);
    T_ASSERT(!strcmp(json_object_get_string_member(v, "state"), "ready"));
    T_ASSERT(!strcmp(json_object_get_string_member(v, "type"), "pio"));
    T_ASSERT(!strcmp(json_object_get_string_member(v, "dir"), "read"));
    T_EQ(json_object_get_int_member(v, "addr"), 0x3fb);
    T_EQ(json_object_get_int_member(v, "size"), 1);
    T_EQ(json_object_get_int_member(v, "count"), 1);
    T_EQ(json_object_get_int_member(v, "served"), 2);
    T_EQ(json_object_get_int_member(v, "port-events"), 2);
    T_ASSERT(!json_object_get_boolean_member(v, "masked"));
    T_ASSERT(json_object_has_member(json_object_get_object_member(
        o, "buffered"), "write-pointer"));
    /* The event waits on the fd, but no fast path serves it (paused). */
    v = json_object_get_object_member(o, "event-channel");
    T_ASSERT(json_object_get_boolean_member(v, "readable"));
    T_ASSERT(!json_object_get_boolean_member(v, "watched"));
    req = json_object_get_object_member(o, "requests");
    T_EQ(json_object_get_int_member(req, "sync"), 2);
    T_EQ(json_object_get_int_member(req, "pio"), 2);
    T_EQ(json_object_get_int_member(req, "spurious"), 0);
    T_ASSERT(!strcmp(json_object_get_string_member(
        member_at(o, "sources", 0), "kind"), "event-channel"));
    T_ASSERT(json_object_has_member(json_object_get_object_member(
        o, "loop"), "sleeps"));
    json_object_unref(r);
    client_close(&c);
    qt_stop(&qt);
}

T_TEST(ioreq_state_dump_goes_to_the_log)
{
    struct qt qt = { 0 };
    char path[] = "/tmp/hvmdm-dump-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    g_autofree char *text = NULL;

    T_ASSERT(fd >= 0 && saved >= 0);
    qt_start(&qt, NULL);
    T_EQ(t_inb(qt.t, 0x3fd) & 0x60, 0x60);      /* LSR: THR empty */
    dm_log_set_quiet(0);
    T_EQ(dup2(fd, 2), 2);
    ioreq_info_log(qt.t->dm, "test");
    T_EQ(dup2(saved, 2), 2);
    T_ASSERT(g_file_get_contents(path, &text, NULL, NULL));
    unlink(path);
    close(fd);
    T_ASSERT(strstr(text, "ioreq state (test): vcpus[0] {"));
    T_ASSERT(strstr(text, "\"addr\":1021"));
    T_ASSERT(strstr(text, "ioreq state (test): requests {"));
    T_ASSERT(strstr(text, "ioreq state (test): sources[0] "
                          "{\"kind\":\"event-channel\""));
    qt_stop(&qt);
}

/* ---- vCPUs, the human monitor, media changes (issue 13) ---------------- */

/* libxl's -smp 2,maxcpus=4: two plugged vCPUs of four. */
T_TEST(qmp_cpus_as_libxl_parses_them)
{
    static const char *const extra[] = { "-smp", "2,maxcpus=4", NULL };
    struct qt qt = { 0 };
    struct client c;
    JsonObject *r, *o;
    JsonArray *a;
    guint i;

    qt_start(&qt, extra);
    c = client_negotiated(&qt);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-cpus-fast\"}");
    a = json_node_get_array(ret_of(r));
    T_EQ(json_array_get_length(a), 2);
    for (i = 0; i < 2; i++) {
        o = json_array_get_object_element(a, i);
        T_EQ(json_object_get_int_member(o, "cpu-index"), i);
        T_ASSERT(strcmp(json_object_get_string_member(o, "target"),
                        "i386") == 0);
    }
    json_object_unref(r);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-cpus\"}");
    a = json_node_get_array(ret_of(r));
    T_EQ(json_array_get_length(a), 2);
    T_EQ(json_object_get_int_member(json_array_get_object_element(a, 1),
                                    "CPU"), 1);
    json_object_unref(r);
    r = client_cmd(&qt, &c, "{\"execute\":\"query-hotpluggable-cpus\"}");
    a = json_node_get_array(ret_of(r));
    T_EQ(json_array_get_length(a), 4);
    for (i = 0; i < 4; i++) {
        o = json_array_get_object_element(a, i);
        T_ASSERT(strcmp(json_object_get_string_member(o, "type"),
                        "qemu32-i386-cpu") == 0);
        T_EQ(json_object_get_int_member(json_object_get_object_member(o,
                                        "props"), "socket-id"), 3 - i);
        T_EQ(json_object_has_member(o, "qom-path"), 3 - i < 2);
    }
    json_object_unref(r);
    /* xl vcpu-set 3: libxl's device_add gets a clear answer */
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"device_add\","
                            "\"arguments\":{\"driver\":\"qemu32-i386-cpu\","
                            "\"id\":\"cpu-2\",\"socket-id\":2,"
                            "\"core-id\":0,\"thread-id\":0}}"),
                 "GenericError", "vCPU hotplug is not supported by hvmdm: "
                 "the guest keeps its 2 vCPUs");
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"device_add\","
                            "\"arguments\":{\"driver\":"
                            "\"xen-pci-passthrough\",\"id\":\"pci-pt-03_00.0\","
                            "\"hostaddr\":\"0000:03:00.0\"}}"),
                 "GenericError", "device_add xen-pci-passthrough: hvmdm "
                 "does not hotplug");
    client_close(&c);
    qt_stop(&qt);
}

/* human-monitor-command's answer (a string), as xl qemu-monitor-command
 * prints it. */
static char *
hmp(struct qt *qt, struct client *c, const char *line)
{
    g_autofree char *req = g_strdup_printf("{\"execute\":\"human-monitor-"
                                           "command\",\"arguments\":"
                                           "{\"command-line\":\"%s\"}}",
                                           line);
    JsonObject *r = client_cmd(qt, c, req);
    JsonNode *n = ret_of(r);
    char *text;

    T_ASSERT(JSON_NODE_HOLDS_VALUE(n) &&
             json_node_get_value_type(n) == G_TYPE_STRING);
    text = g_strdup(json_node_get_string(n));
    json_object_unref(r);
    return text;
}

static void
expect_hmp(struct qt *qt, struct client *c, const char *line,
           const char *want)
{
    g_autofree char *out = hmp(qt, c, line);

    if (!strstr(out, want)) {
        t_fail(__FILE__, __LINE__, "'%s' answered '%s', lacking '%s'", line,
               out, want);
    }
}

T_TEST(qmp_human_monitor_info)
{
    g_autofree char *img = disk_image();
    g_autofree char *drive = g_strdup_printf("file=%s,if=ide,index=0,"
                                             "media=disk,format=raw,"
                                             "cache=writeback", img);
    g_autofree char *want = g_strdup_printf("ide0-hd0: %s (raw)\r\n", img);
    const char *extra[] = { "-drive", drive, "-drive", LIBXL_CD,
                            "-device", LIBXL_CD_DEV, NULL };
    struct qt qt = { 0 };
    struct client c;

    qt_start(&qt, extra);
    c = client_negotiated(&qt);
    expect_hmp(&qt, &c, "info status", "VM status: ");
    expect_hmp(&qt, &c, "  info   version ", "hvmdm 0.1.0\r\n");
    expect_hmp(&qt, &c, "info chardev", "serial0: filename=pty:");
    expect_hmp(&qt, &c, "info pci", "PCI device 8086:1237");
    expect_hmp(&qt, &c, "info pci", "IDE controller: PCI device 8086:7010");
    expect_hmp(&qt, &c, "info pci", "BAR4: I/O at (not mapped)");
    expect_hmp(&qt, &c, "info block", want);
    expect_hmp(&qt, &c, "info block", "Cache mode:       writeback");
    expect_hmp(&qt, &c, "info block", "ide-5632: [not inserted]\r\n");
    expect_hmp(&qt, &c, "info block", "Removable device: not locked, tray "
               "closed");
    expect_hmp(&qt, &c, "info cpus", "* CPU #0: thread_id=");
    expect_hmp(&qt, &c, "info registers", "not supported");
    expect_hmp(&qt, &c, "info mtree", "info mtree is not supported");
    expect_hmp(&qt, &c, "savevm x", "unknown command: 'savevm'");
    expect_hmp(&qt, &c, "help", "info status");
    expect_hmp(&qt, &c, "info", "info pci");
    g_free(hmp(&qt, &c, ""));
    expect_error(client_cmd(&qt, &c, "{\"execute\":\"human-monitor-"
                            "command\",\"arguments\":{}}"),
                 "GenericError", "Parameter 'command-line' is missing");
    client_close(&c);
    qt_stop(&qt);
    unlink(img);
}

static const struct qmp_block_ops ide_ops = {
    .change_media = ide_cd_change_media,
    .eject = ide_cd_eject,
    .stats = ide_blk_stats,
    .medium = ide_medium,
};

/* query-block's CD-ROM entry: inserted file (or NULL) and tray state. */
static void
expect_cd(struct qt *qt, struct client *c, const char *file, bool tray_open)
{
    JsonObject *r = client_cmd(qt, c, "{\"execute\":\"query-block\"}");
    JsonObject *cd = block_entry(json_node_get_array(ret_of(r)), "ide-5632");
    JsonObject *ins;

    T_EQ(json_object_get_boolean_member(cd, "tray_open"), tray_open);
    T_EQ(json_object_has_member(cd, "inserted"), file != NULL);
    if (file) {
        ins = json_object_get_object_member(cd, "inserted");
        T_ASSERT(strcmp(json_object_get_string_member(ins, "file"),
                        file) == 0);
        T_ASSERT(json_object_get_boolean_member(ins, "ro"));
    }
    json_object_unref(r);
}

T_TEST(qmp_block_follows_media_changes)
{
    g_autofree char *iso = disk_image();
    g_autofree char *req = g_strdup_printf("{\"execute\":\"blockdev-change-"
                                           "medium\",\"arguments\":{\"id\":"
                                           "\"ide-5632\",\"filename\":\"%s\","
                                           "\"format\":\"raw\"}}", iso);
    g_autofree char *log = NULL;
    const char *extra[] = { "-drive", LIBXL_CD, "-device", LIBXL_CD_DEV,
                            NULL };
    struct qt qt = { 0 };
    struct client c;
    int fd = memfd_create("log", MFD_CLOEXEC);
    off_t len;

    T_ASSERT(fd >= 0);
    qt_start(&qt, extra);
    qmp_set_block_ops(qt.q, &ide_ops);
    dm_log_set_quiet(0);
    dm_log_set_fd(fd);
    c = client_negotiated(&qt);
    expect_cd(&qt, &c, NULL, false);
    expect_empty_return(client_cmd(&qt, &c, req));
    expect_cd(&qt, &c, iso, false);
    expect_hmp(&qt, &c, "info block", iso);
    expect_empty_return(client_cmd(&qt, &c, "{\"execute\":\"eject\","
                                   "\"arguments\":{\"id\":\"ide-5632\"}}"));
    expect_cd(&qt, &c, NULL, true);
    expect_hmp(&qt, &c, "info block", "ide-5632: [not inserted]");
    expect_hmp(&qt, &c, "info block", "tray open");
    expect_empty_return(client_cmd(&qt, &c, req));
    expect_cd(&qt, &c, iso, false);
    client_close(&c);
    qt_stop(&qt);
    len = lseek(fd, 0, SEEK_END);
    log = g_malloc0((size_t)len + 1);
    T_EQ(pread(fd, log, (size_t)len, 0), len);
    T_ASSERT(strstr(log, "hvmdm: info: ide1-cd0: medium changed to "));
    T_ASSERT(strstr(log, "hvmdm: info: ide1-cd0: medium ejected\n"));
    close(fd);
    unlink(iso);
}
