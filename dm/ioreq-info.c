/*
 * The ioreq state on demand: QMP "query-ioreq" and the SIGUSR1 dump.
 *
 * query-ioreq (no arguments; hvmdm's own, QEMU has no equivalent) returns
 *
 *   { "vcpus": [ { "vcpu": 0,
 *                  "state": "none" | "ready" | "in-process" |
 *                           "response-ready" | "invalid-N",
 *                  "type": "pio" | "copy" | "pci-config" | "timeoffset" |
 *                          "invalidate" | "type-N",
 *                  "dir": "read" | "write", "addr": N, "size": N,
 *                  "count": N, "data": N, "data-is-ptr": B, "df": B,
 *                  "port": N, "remote-port": N, "port-events": N,
 *                  "masked": B, "served": N, "served-ahead": N }, ... ],
 *     "buffered": { "read-pointer": N, "write-pointer": N, "port": N,
 *                   "port-events": N, "masked": B },   (absent: no ring)
 *     "event-channel": { "fd": N, "watched": B, "readable": B },
 *     "loop": { "iterations": N, "sleeps": N, "fast-events": N,
 *               "fast-served": N, "rechecks": N, "spins": N,
 *               "spin-hits": N, "spin-us": N, "spin-max-us": N,
 *               "spin-now-us": N },
 *     "sources": [ { "kind": "event-channel" | "timers" | "completions" |
 *                            "fd", "fd": N, "fired": N }, ... ],
 *     "requests": { "sync": N, "buffered": N, "pio": N, "copy": N,
 *                   "pci-config": N, "timeoffset": N, "invalidate": N,
 *                   "events": N, "early": N, "malformed": N,
 *                   "spurious": N, "badness": N, "gm-faults": N } }
 *
 * The slot fields are a copy of the shared page as it is at that moment
 * (Xen may be changing it): a slot that stays "ready" while "readable" is
 * false means an event that never reached hvmdm; "masked" is true when
 * hvmdm's last unmask of that port failed. "served-ahead" counts requests
 * served by the re-check or the spin before their event was read; "early"
 * the events that then found nothing left to do.
 *
 * SIGUSR1 writes the same object to the log as "ioreq state: ..." lines,
 * one per part (main.c).
 */
#include "dm/ioreq-info.h"

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <xen/hvm/ioreq.h>      /* IOREQ_TYPE_*, STATE_* */

#include "dm/ioreq.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/qmp-cmd.h"

static const char *const state_names[] = {
    [STATE_IOREQ_NONE] = "none",
    [STATE_IOREQ_READY] = "ready",
    [STATE_IOREQ_INPROCESS] = "in-process",
    [STATE_IORESP_READY] = "response-ready",
};

static const char *const type_names[] = {
    [IOREQ_TYPE_PIO] = "pio",
    [IOREQ_TYPE_COPY] = "copy",
    [IOREQ_TYPE_PCI_CONFIG] = "pci-config",
    [IOREQ_TYPE_TIMEOFFSET] = "timeoffset",
    [IOREQ_TYPE_INVALIDATE] = "invalidate",
};

/* names[v], or prefix-v for a value the table does not know. */
static void
set_name(JsonObject *o, const char *member, const char *const *names,
         size_t n, unsigned int v, const char *prefix)
{
    if (v < n && names[v]) {
        json_object_set_string_member(o, member, names[v]);
    } else {
        g_autofree char *s = g_strdup_printf("%s-%u", prefix, v);

        json_object_set_string_member(o, member, s);
    }
}

static void
set_int(JsonObject *o, const char *member, uint64_t v)
{
    json_object_set_int_member(o, member, (gint64)MIN(v, (uint64_t)G_MAXINT64));
}

static JsonObject *
vcpu_json(struct ioreq_svc *s, unsigned int v)
{
    struct ioreq_vcpu_info i;
    JsonObject *o = json_object_new();

    ioreq_svc_vcpu_info(s, v, &i);
    set_int(o, "vcpu", v);
    set_name(o, "state", state_names, G_N_ELEMENTS(state_names), i.state,
             "invalid");
    set_name(o, "type", type_names, G_N_ELEMENTS(type_names), i.type,
             "type");
    json_object_set_string_member(o, "dir", i.dir ? "read" : "write");
    set_int(o, "addr", i.addr);
    set_int(o, "size", i.size);
    set_int(o, "count", i.count);
    set_int(o, "data", i.data);
    json_object_set_boolean_member(o, "data-is-ptr", i.data_is_ptr);
    json_object_set_boolean_member(o, "df", i.df);
    json_object_set_int_member(o, "port", i.port);
    set_int(o, "remote-port", i.remote_port);
    set_int(o, "port-events", i.port_events);
    json_object_set_boolean_member(o, "masked", i.masked);
    set_int(o, "served", i.served);
    set_int(o, "served-ahead", i.ahead);
    return o;
}

static JsonArray *
vcpus_json(struct ioreq_svc *s)
{
    JsonArray *a = json_array_new();
    unsigned int v;

    for (v = 0; v < ioreq_svc_nr_vcpus(s); v++) {
        json_array_add_object_element(a, vcpu_json(s, v));
    }
    return a;
}

static JsonObject *
buffered_json(struct ioreq_svc *s)
{
    struct ioreq_buf_info b;
    JsonObject *o;

    if (!ioreq_svc_buf_info(s, &b)) {
        return NULL;
    }
    o = json_object_new();
    set_int(o, "read-pointer", b.read_pointer);
    set_int(o, "write-pointer", b.write_pointer);
    json_object_set_int_member(o, "port", b.port);
    set_int(o, "port-events", b.port_events);
    json_object_set_boolean_member(o, "masked", b.masked);
    return o;
}

static bool
fd_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static JsonObject *
evtchn_json(struct dm *dm)
{
    JsonObject *o = json_object_new();
    int fd = dm->hv->ops->evtchn_fd(dm->hv);

    json_object_set_int_member(o, "fd", fd);
    json_object_set_boolean_member(o, "watched", dm_loop_fast_fd(dm) >= 0);
    json_object_set_boolean_member(o, "readable", fd_readable(fd));
    return o;
}

static JsonObject *
loop_json(struct dm *dm)
{
    const struct dm_loop_stats *st = dm_loop_stats(dm);
    JsonObject *o = json_object_new();

    set_int(o, "iterations", st->iterations);
    set_int(o, "sleeps", st->sleeps);
    set_int(o, "fast-events", st->fast_events);
    set_int(o, "fast-served", st->fast_served);
    set_int(o, "rechecks", st->rechecks);
    set_int(o, "spins", st->spins);
    set_int(o, "spin-hits", st->spin_hits);
    set_int(o, "spin-us", st->spin_ns / 1000);
    set_int(o, "spin-max-us", dm_loop_spin_max(dm) / 1000);
    set_int(o, "spin-now-us", dm_loop_spin_now(dm) / 1000);
    return o;
}

static void
add_source(void *opaque, const char *kind, int fd, uint64_t fired)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "kind", kind);
    json_object_set_int_member(o, "fd", fd);
    set_int(o, "fired", fired);
    json_array_add_object_element(opaque, o);
}

static JsonObject *
requests_json(struct ioreq_svc *s)
{
    const struct ioreq_stats *st = ioreq_svc_stats(s);
    JsonObject *o = json_object_new();

    set_int(o, "sync", st->sync);
    set_int(o, "buffered", st->buffered);
    set_int(o, "pio", st->pio);
    set_int(o, "copy", st->copy);
    set_int(o, "pci-config", st->pci_config);
    set_int(o, "timeoffset", st->timeoffset);
    set_int(o, "invalidate", st->invalidate);
    set_int(o, "events", st->events);
    set_int(o, "early", st->early);
    set_int(o, "malformed", st->malformed);
    set_int(o, "spurious", st->spurious);
    set_int(o, "badness", st->badness);
    set_int(o, "gm-faults", st->gm_faults);
    return o;
}

JsonObject *
ioreq_info_json(struct dm *dm)
{
    JsonObject *o = json_object_new(), *buf;
    JsonArray *sources = json_array_new();

    if (dm->ioreq) {
        json_object_set_array_member(o, "vcpus", vcpus_json(dm->ioreq));
        buf = buffered_json(dm->ioreq);
        if (buf) {
            json_object_set_object_member(o, "buffered", buf);
        }
    }
    json_object_set_object_member(o, "event-channel", evtchn_json(dm));
    json_object_set_object_member(o, "loop", loop_json(dm));
    dm_loop_foreach_source(dm, add_source, sources);
    json_object_set_array_member(o, "sources", sources);
    if (dm->ioreq) {
        json_object_set_object_member(o, "requests",
                                      requests_json(dm->ioreq));
    }
    return o;
}

/* ---- the log form ---------------------------------------------------- */

static char *
node_text(JsonNode *n)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();

    json_generator_set_root(gen, n);
    return json_generator_to_data(gen, NULL);
}

static void
log_member(JsonObject *o, const gchar *name, JsonNode *n, gpointer why)
{
    JsonArray *a;
    guint i;

    if (JSON_NODE_HOLDS_ARRAY(n)) {
        a = json_node_get_array(n);
        for (i = 0; i < json_array_get_length(a); i++) {
            g_autofree char *t = node_text(json_array_get_element(a, i));

            DM_INFO("ioreq state (%s): %s[%u] %s", (const char *)why, name,
                    i, t);
        }
        return;
    }
    g_autofree char *t = node_text(n);

    DM_INFO("ioreq state (%s): %s %s", (const char *)why, name, t);
}

void
ioreq_info_log(struct dm *dm, const char *why)
{
    JsonObject *o = ioreq_info_json(dm);

    json_object_foreach_member(o, log_member, (gpointer)why);
    json_object_unref(o);
}

/* ---- QMP ------------------------------------------------------------- */

static JsonNode *
qmp_query_ioreq(struct qmp_req *r)
{
    return qmp_node_take_object(ioreq_info_json(qmp_req_dm(r)));
}

static const struct qmp_cmd ioreq_info_cmds[] = {
    { "query-ioreq", qmp_query_ioreq, false, NULL },
    { NULL, NULL, false, NULL },
};

int
ioreq_info_register(void)
{
    return qmp_register_cmds(ioreq_info_cmds);
}
