/*
 * -netdev user,id=ID[,hostfwd=tcp:[HOSTADDR]:PORT-[GUESTADDR]:PORT]...
 * [,restrict=on|off]: user-mode networking through libslirp, so a guest has
 * DHCP, DNS and outbound TCP/UDP with no bridge and no root-owned tap.
 * libslirp's sockets are polled from a GSource on the main loop; its
 * timers are dm timers. The default network is libslirp's: 10.0.2.0/24,
 * gateway 10.0.2.2, DNS 10.0.2.3, first lease 10.0.2.15.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/log.h"       /* GUEST_ERR */
#include "dm/machine.h"   /* struct dm */
#include "dm/timer.h"     /* dm_timer_* */
#include "net/internal.h"

struct slirp_net;

struct slirp_source {
    GSource base;
    struct slirp_net *sn;
};

struct slirp_timer {
    struct dm_timer timer;
    struct slirp_net *sn;
    SlirpTimerId id;
    void *cb_opaque;
};

struct slirp_net {
    struct net_backend *nb;
    Slirp *slirp;
    struct slirp_source *src;
    GPtrArray *polls;           /* GPollFD *, index = slirp's poll index */
    unsigned int filled;        /* polls handed over in this prepare */
};

/* ---- libslirp callbacks ---------------------------------------------- */

static ssize_t
slirp_cb_send(const void *buf, size_t len, void *opaque)
{
    struct slirp_net *sn = opaque;

    net_deliver(sn->nb, buf, len);
    return (ssize_t)len;
}

static void
slirp_cb_guest_error(const char *msg, void *opaque)
{
    GUEST_ERR("slirp: %s", msg);
}

static int64_t
slirp_cb_clock(void *opaque)
{
    struct slirp_net *sn = opaque;

    return (int64_t)dm_clock_ns(sn->nb->dm);
}

static void
slirp_timer_fire(void *opaque)
{
    struct slirp_timer *t = opaque;

    slirp_handle_timer(t->sn->slirp, t->id, t->cb_opaque);
}

static void *
slirp_cb_timer_new(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    struct slirp_net *sn = opaque;
    struct slirp_timer *t = g_new0(struct slirp_timer, 1);

    t->sn = sn;
    t->id = id;
    t->cb_opaque = cb_opaque;
    dm_timer_init(&t->timer, sn->nb->dm, slirp_timer_fire, t);
    return t;
}

static void
slirp_cb_timer_free(void *timer, void *opaque)
{
    struct slirp_timer *t = timer;

    dm_timer_del(&t->timer);
    g_free(t);
}

static void
slirp_cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    struct slirp_timer *t = timer;

    dm_timer_mod(&t->timer, (uint64_t)MAX(expire_ms, 0) * 1000000u);
}

static void
slirp_cb_poll_fd(int fd, void *opaque)
{
}

static void
slirp_cb_notify(void *opaque)
{
}

static const SlirpCb slirp_callbacks = {
    .send_packet = slirp_cb_send,
    .guest_error = slirp_cb_guest_error,
    .clock_get_ns = slirp_cb_clock,
    .timer_free = slirp_cb_timer_free,
    .timer_mod = slirp_cb_timer_mod,
    .register_poll_fd = slirp_cb_poll_fd,
    .unregister_poll_fd = slirp_cb_poll_fd,
    .notify = slirp_cb_notify,
    .timer_new_opaque = slirp_cb_timer_new,
};

/* ---- polling libslirp's sockets from the main loop --------------------- */

static gushort
slirp_to_gio(int events)
{
    return (events & SLIRP_POLL_IN ? G_IO_IN : 0) |
           (events & SLIRP_POLL_OUT ? G_IO_OUT : 0) |
           (events & SLIRP_POLL_PRI ? G_IO_PRI : 0) |
           (events & SLIRP_POLL_ERR ? G_IO_ERR : 0) |
           (events & SLIRP_POLL_HUP ? G_IO_HUP : 0);
}

/*
 * libslirp hands over its sockets before every poll, nearly always the
 * same ones. GLib wakes its context up whenever a poll is added or
 * removed, so re-adding them all made every poll return at once (an idle
 * guest kept the loop spinning). An entry whose fd is unchanged keeps its
 * place and only its events are updated (GLib reads them when it builds
 * the poll set); a changed fd is removed and added.
 */
static int
slirp_add_poll(int fd, int events, void *opaque)
{
    struct slirp_net *sn = opaque;
    unsigned int idx = sn->filled++;
    GPollFD *p;

    if (idx < sn->polls->len) {
        p = g_ptr_array_index(sn->polls, idx);
        if (p->fd != fd) {
            g_source_remove_poll(&sn->src->base, p);
            p->fd = fd;
            p->revents = 0;
            p->events = slirp_to_gio(events);
            g_source_add_poll(&sn->src->base, p);
        } else {
            p->events = slirp_to_gio(events);
        }
        return (int)idx;
    }
    p = g_new0(GPollFD, 1);
    p->fd = fd;
    p->events = slirp_to_gio(events);
    g_source_add_poll(&sn->src->base, p);
    g_ptr_array_add(sn->polls, p);
    return (int)idx;
}

static int
slirp_get_revents(int idx, void *opaque)
{
    struct slirp_net *sn = opaque;
    const GPollFD *p;

    if (idx < 0 || (unsigned int)idx >= sn->polls->len) {
        return 0;
    }
    p = g_ptr_array_index(sn->polls, idx);
    return (p->revents & G_IO_IN ? SLIRP_POLL_IN : 0) |
           (p->revents & G_IO_OUT ? SLIRP_POLL_OUT : 0) |
           (p->revents & G_IO_PRI ? SLIRP_POLL_PRI : 0) |
           (p->revents & G_IO_ERR ? SLIRP_POLL_ERR : 0) |
           (p->revents & G_IO_HUP ? SLIRP_POLL_HUP : 0);
}

/* Drop the polls from index keep on (0: all of them). */
static void
slirp_trim_polls(struct slirp_net *sn, unsigned int keep)
{
    while (sn->polls->len > keep) {
        GPollFD *p = g_ptr_array_index(sn->polls, sn->polls->len - 1);

        g_source_remove_poll(&sn->src->base, p);
        g_free(p);
        g_ptr_array_set_size(sn->polls, sn->polls->len - 1);
    }
}

static gboolean
slirp_src_prepare(GSource *src, gint *timeout)
{
    struct slirp_net *sn = ((struct slirp_source *)src)->sn;
    uint32_t t = UINT32_MAX;

    sn->filled = 0;
    slirp_pollfds_fill(sn->slirp, &t, slirp_add_poll, sn);
    slirp_trim_polls(sn, sn->filled);
    *timeout = t == UINT32_MAX ? -1 : (gint)MIN(t, (uint32_t)G_MAXINT);
    return FALSE;
}

static gboolean
slirp_src_check(GSource *src)
{
    struct slirp_net *sn = ((struct slirp_source *)src)->sn;
    unsigned int i;

    for (i = 0; i < sn->polls->len; i++) {
        const GPollFD *p = g_ptr_array_index(sn->polls, i);

        if (p->revents & p->events) {
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
slirp_src_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    struct slirp_net *sn = ((struct slirp_source *)src)->sn;

    slirp_pollfds_poll(sn->slirp, 0, slirp_get_revents, sn);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs slirp_src_funcs = {
    .prepare = slirp_src_prepare,
    .check = slirp_src_check,
    .dispatch = slirp_src_dispatch,
};

/* ---- options ----------------------------------------------------------- */

static bool
slirp_parse_addr(const char *s, size_t n, const char *dflt,
                 struct in_addr *a)
{
    char buf[INET_ADDRSTRLEN];

    if (n == 0) {
        s = dflt;
        n = strlen(dflt);
    }
    if (n >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, a) == 1;
}

static bool
slirp_parse_port(const char *s, int *port)
{
    char *end;
    long v = strtol(s, &end, 10);

    *port = (int)v;
    return end != s && v >= 0 && v <= 65535;
}

/* hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static int
slirp_hostfwd(struct slirp_net *sn, const char *spec, char *err,
              size_t errlen)
{
    const char *p = spec, *c1, *dash, *c2;
    struct in_addr ha, ga;
    int udp = 0, hp, gp;

    if (g_str_has_prefix(p, "udp:")) {
        udp = 1;
        p += 4;
    } else if (g_str_has_prefix(p, "tcp:")) {
        p += 4;
    }
    c1 = strchr(p, ':');
    dash = c1 ? strchr(c1, '-') : NULL;
    c2 = dash ? strchr(dash, ':') : NULL;
    if (!c1 || !dash || !c2 ||
        !slirp_parse_addr(p, (size_t)(c1 - p), "127.0.0.1", &ha) ||
        !slirp_parse_port(c1 + 1, &hp) ||
        !slirp_parse_addr(dash + 1, (size_t)(c2 - dash - 1), "10.0.2.15",
                          &ga) ||
        !slirp_parse_port(c2 + 1, &gp) ||
        slirp_add_hostfwd(sn->slirp, udp, ha, hp, ga, gp) < 0) {
        snprintf(err, errlen, "-netdev user,hostfwd=%s: expected "
                 "tcp:[HOSTADDR]:PORT-[GUESTADDR]:PORT with a free host "
                 "port", spec);
        return -1;
    }
    return 0;
}

static int
slirp_hostfwds(struct slirp_net *sn, struct net_opts *o, char *err,
               size_t errlen)
{
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        if (strcmp(o->key[i], "hostfwd") != 0) {
            continue;
        }
        o->used[i] = true;
        if (slirp_hostfwd(sn, o->val[i], err, errlen) < 0) {
            return -1;
        }
    }
    return 0;
}

static void
slirp_config(SlirpConfig *c, bool restricted)
{
    memset(c, 0, sizeof(*c));
    c->version = 4;
    c->restricted = restricted;
    c->in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &c->vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &c->vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &c->vhost);
    inet_pton(AF_INET, "10.0.2.15", &c->vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &c->vnameserver);
    c->vhostname = "hvmdm";
}

/* ---- the backend -------------------------------------------------------- */

static void
slirp_close(struct net_backend *nb)
{
    struct slirp_net *sn = nb->priv;

    if (!sn) {
        return;
    }
    if (sn->src) {
        slirp_trim_polls(sn, 0);
        g_source_destroy(&sn->src->base);
        g_source_unref(&sn->src->base);
    }
    if (sn->slirp) {
        slirp_cleanup(sn->slirp);
    }
    g_ptr_array_free(sn->polls, TRUE);
    g_free(sn);
    nb->priv = NULL;
}

static int
slirp_open(struct net_backend *nb, struct net_opts *o, char *err,
           size_t errlen)
{
    const char *r = net_opt(o, "restrict");
    struct slirp_net *sn = g_new0(struct slirp_net, 1);
    SlirpConfig c;

    if (r && strcmp(r, "on") != 0 && strcmp(r, "off") != 0 &&
        strcmp(r, "yes") != 0 && strcmp(r, "no") != 0) {
        snprintf(err, errlen, "-netdev user,restrict=%s: use on or off", r);
        g_free(sn);
        return -1;
    }
    slirp_config(&c, r && (strcmp(r, "on") == 0 || strcmp(r, "yes") == 0));
    sn->nb = nb;
    sn->polls = g_ptr_array_new();
    nb->priv = sn;
    sn->slirp = slirp_new(&c, &slirp_callbacks, sn);
    if (!sn->slirp) {
        snprintf(err, errlen, "-netdev user: libslirp refused the set-up");
        slirp_close(nb);
        return -1;
    }
    sn->src = (struct slirp_source *)g_source_new(&slirp_src_funcs,
                                                  sizeof(*sn->src));
    sn->src->sn = sn;
    g_source_attach(&sn->src->base, NULL);
    if (slirp_hostfwds(sn, o, err, errlen) < 0) {
        slirp_close(nb);
        return -1;
    }
    return 0;
}

static int
slirp_send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
    struct slirp_net *sn = nb->priv;

    if (iovcnt != 1 || iov[0].iov_len > INT32_MAX) {
        return -EINVAL;
    }
    slirp_input(sn->slirp, iov[0].iov_base, (int)iov[0].iov_len);
    return 0;
}

const struct net_backend_ops net_slirp_ops = {
    .type = "user",
    .open = slirp_open,
    .send = slirp_send,
    .close = slirp_close,
};
