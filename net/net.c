/*
 * The backend core: -netdev sub-option parsing, the backend table, the
 * receive loop of fd backends with back-pressure, and the socket backend
 * (-netdev socket,id=ID,fd=N[,vnet_hdr=on]: one end of an AF_UNIX datagram
 * socket pair, one frame per datagram, with the tap's virtio_net_hdr in
 * front when vnet_hdr=on), which the harness and bench/e1000 use.
 */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"       /* CONFIG_SLIRP */
#include "dm/config.h"    /* struct dm_netdev_cfg */
#include "dm/log.h"       /* DM_WARN */
#include "dm/loop.h"      /* dm_loop_watch_fd */
#include "net/internal.h"

/* Frames read per wake-up before other sources get a turn. */
#define NET_RX_BUDGET 64

/* ---- sub-options ------------------------------------------------------ */

static int
net_opts_parse(struct net_opts *o, const char *s, char *err, size_t errlen)
{
    gchar **parts = g_strsplit(s ? s : "", ",", -1);
    unsigned int i;
    int rc = 0;

    memset(o, 0, sizeof(*o));
    for (i = 0; parts[i] && rc == 0; i++) {
        char *eq = strchr(parts[i], '=');

        if (!parts[i][0]) {
            continue;
        }
        if (o->n == NET_MAX_OPTS) {
            snprintf(err, errlen, "more than %d sub-options", NET_MAX_OPTS);
            rc = -1;
            break;
        }
        if (!eq && i == 0) {
            /* "user,id=n0": a leading bare value is the type (QEMU). */
            o->key[o->n] = g_strdup("type");
            o->val[o->n] = g_strdup(parts[i]);
        } else {
            o->key[o->n] = g_strndup(parts[i], eq ? (gsize)(eq - parts[i])
                                                  : strlen(parts[i]));
            o->val[o->n] = g_strdup(eq ? eq + 1 : "");
        }
        o->n++;
    }
    g_strfreev(parts);
    return rc;
}

static void
net_opts_free(struct net_opts *o)
{
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        g_free(o->key[i]);
        g_free(o->val[i]);
    }
    o->n = 0;
}

/* The value of key (the last one given), marked as taken; NULL if absent. */
const char *
net_opt(struct net_opts *o, const char *key)
{
    const char *v = NULL;
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        if (strcmp(o->key[i], key) == 0) {
            o->used[i] = true;
            v = o->val[i];
        }
    }
    return v;
}

/* Never accept a sub-option in silence: refuse what no one took. */
static int
net_opts_finish(struct net_opts *o, const char *type, char *err,
                size_t errlen)
{
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        if (!o->used[i]) {
            snprintf(err, errlen, "-netdev %s: unknown parameter '%s'",
                     type, o->key[i]);
            return -1;
        }
    }
    return 0;
}

/* ---- fd backends: receive with back-pressure, send -------------------- */

static bool
net_nic_has_room(struct net_backend *nb)
{
    return nb->attached && nb->can_rx(nb->opaque);
}

static void
net_fd_pause(struct net_backend *nb)
{
    if (nb->watch) {
        dm_loop_unwatch(nb->dm, nb->watch);
        nb->watch = 0;
    }
    if (!nb->paused) {
        nb->paused = true;
        nb->stats.rx_pauses++;
    }
}

static void
net_fd_readable(void *opaque)
{
    struct net_backend *nb = opaque;
    size_t hdr = nb->vnet_hdr ? sizeof(struct net_vnet_hdr) : 0;
    unsigned int i;

    for (i = 0; i < NET_RX_BUDGET; i++) {
        ssize_t n;

        if (!net_nic_has_room(nb)) {
            net_fd_pause(nb);
            return;
        }
        n = nb->socket ? recv(nb->fd, nb->rx_buf, NET_MAX_FRAME + hdr, 0)
                       : read(nb->fd, nb->rx_buf, NET_MAX_FRAME + hdr);
        if (n < 0) {
            return;             /* EAGAIN, or an error the next wake sees */
        }
        if ((size_t)n <= hdr) {
            nb->stats.rx_dropped++;
            continue;
        }
        nb->stats.rx_packets++;
        nb->stats.rx_bytes += (size_t)n - hdr;
        nb->rx(nb->opaque, nb->rx_buf + hdr, (size_t)n - hdr);
    }
}

void
net_fd_set_rx(struct net_backend *nb, bool on)
{
    if (!on) {
        net_fd_pause(nb);
        return;
    }
    nb->paused = false;
    if (nb->fd < 0) {
        return;                 /* a tap still waiting for its fd */
    }
    if (!nb->watch) {
        nb->watch = dm_loop_watch_fd(nb->dm, nb->fd, net_fd_readable, nb);
    }
    /* Frames may have queued while we were not watching. */
    net_fd_readable(nb);
}

int
net_fd_send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
    ssize_t n;

    if (nb->fd < 0) {
        return -ENOTCONN;       /* no cable yet: dropped and counted */
    }
    do {
        n = writev(nb->fd, iov, iovcnt);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

void
net_deliver(struct net_backend *nb, const uint8_t *frame, size_t len)
{
    if (!net_nic_has_room(nb)) {
        nb->stats.rx_dropped++;
        return;
    }
    nb->stats.rx_packets++;
    nb->stats.rx_bytes += len;
    nb->rx(nb->opaque, frame, len);
}

/* ---- socket backend ---------------------------------------------------- */

static int
net_socket_open(struct net_backend *nb, struct net_opts *o, char *err,
                size_t errlen)
{
    const char *fd = net_opt(o, "fd"), *vh = net_opt(o, "vnet_hdr");
    int type = 0;
    socklen_t tl = sizeof(type);
    char *end;
    long v;

    if (!fd) {
        snprintf(err, errlen, "-netdev socket needs fd=N, an inherited "
                 "AF_UNIX SOCK_DGRAM or SOCK_SEQPACKET socket");
        return -1;
    }
    v = strtol(fd, &end, 10);
    if (*end || v < 0 || v > INT32_MAX ||
        getsockopt((int)v, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
        (type != SOCK_DGRAM && type != SOCK_SEQPACKET)) {
        snprintf(err, errlen, "-netdev socket,fd=%s: not an open datagram "
                 "socket; pass one end of socketpair(AF_UNIX, SOCK_DGRAM)",
                 fd);
        return -1;
    }
    if (vh && strcmp(vh, "on") != 0 && strcmp(vh, "off") != 0) {
        snprintf(err, errlen, "-netdev socket,vnet_hdr=%s: use on or off",
                 vh);
        return -1;
    }
    /* Frames carry a struct net_vnet_hdr both ways, as on a tap. */
    nb->vnet_hdr = vh && strcmp(vh, "on") == 0;
    nb->fd = (int)v;
    nb->socket = true;
    return 0;
}

/* send/sendmsg, not writev (and recv, not read, in net_fd_readable): a
 * socket's own calls skip the file layer. */
static int
net_socket_send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
    struct msghdr m = { .msg_iov = (struct iovec *)iov,
                        .msg_iovlen = (size_t)iovcnt };
    ssize_t n;

    do {
        n = iovcnt == 1 ? send(nb->fd, iov[0].iov_base, iov[0].iov_len, 0)
                        : sendmsg(nb->fd, &m, 0);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

static void
net_fd_close(struct net_backend *nb)
{
    if (nb->fd >= 0) {
        close(nb->fd);
    }
}

static const struct net_backend_ops net_socket_ops = {
    .type = "socket",
    .open = net_socket_open,
    .send = net_socket_send,
    .set_rx = net_fd_set_rx,
    .close = net_fd_close,
};

/* ---- the interface ---------------------------------------------------- */

void
net_fd_ready(struct net_backend *nb)
{
    fcntl(nb->fd, F_SETFL, fcntl(nb->fd, F_GETFL) | O_NONBLOCK);
    if (!nb->rx_buf) {
        nb->rx_buf = g_malloc(NET_MAX_FRAME + sizeof(struct net_vnet_hdr));
    }
    if (nb->attached && nb->ops->set_rx) {
        nb->ops->set_rx(nb, true);
    }
}

static const struct net_backend_ops *const net_backends[] = {
    &net_tap_ops,
    &net_socket_ops,
    &net_slirp_ops,
};

static const struct net_backend_ops *
net_find_ops(const char *type)
{
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(net_backends); i++) {
        if (strcmp(net_backends[i]->type, type) == 0) {
            return net_backends[i];
        }
    }
    return NULL;
}

struct net_backend *
net_backend_open(struct dm *dm, const struct dm_netdev_cfg *cfg, char *err,
                 size_t errlen)
{
    const char *type = cfg->type ? cfg->type : "tap";
    const struct net_backend_ops *ops = net_find_ops(type);
    struct net_backend *nb;
    struct net_opts o;

    if (!ops) {
        snprintf(err, errlen, "-netdev type=%s is not supported; use tap, "
                 "user or socket", type);
        return NULL;
    }
    nb = g_new0(struct net_backend, 1);
    nb->ops = ops;
    nb->dm = dm;
    nb->fd = -1;
    nb->id = g_strdup(cfg->id);
    if (net_opts_parse(&o, cfg->opts, err, errlen) < 0) {
        goto fail;
    }
    /* Taken by dm/options.c already. */
    net_opt(&o, "type");
    net_opt(&o, "id");
    if (ops->open(nb, &o, err, errlen) < 0) {
        goto fail;
    }
    if (net_opts_finish(&o, type, err, errlen) < 0) {
        ops->close(nb);
        goto fail;
    }
    net_opts_free(&o);
    if (nb->fd >= 0) {
        net_fd_ready(nb);
    }
    return nb;

fail:
    net_opts_free(&o);
    g_free(nb->id);
    g_free(nb);
    return NULL;
}

void
net_backend_close(struct net_backend *nb)
{
    if (!nb) {
        return;
    }
    if (nb->watch) {
        dm_loop_unwatch(nb->dm, nb->watch);
    }
    nb->ops->close(nb);
    g_free(nb->rx_buf);
    g_free(nb->id);
    g_free(nb);
}

void
net_backend_attach(struct net_backend *nb, net_can_receive_fn *can_rx,
                   net_receive_fn *rx, void *opaque)
{
    nb->can_rx = can_rx;
    nb->rx = rx;
    nb->opaque = opaque;
    nb->attached = true;
    if (nb->ops->set_rx) {
        nb->ops->set_rx(nb, true);
    }
}

void
net_rx_kick(struct net_backend *nb)
{
    if (nb && nb->paused && nb->ops->set_rx && net_nic_has_room(nb)) {
        nb->ops->set_rx(nb, true);
    }
}

static int
net_send_iov(struct net_backend *nb, const struct net_vnet_hdr *h,
             const uint8_t *frame, size_t len)
{
    static const struct net_vnet_hdr none;
    struct iovec iov[2];
    int n = 0, rc;

    if (nb->vnet_hdr) {
        iov[n].iov_base = (void *)(h ? h : &none);
        iov[n++].iov_len = sizeof(*h);
    }
    iov[n].iov_base = (void *)frame;
    iov[n++].iov_len = len;
    rc = nb->ops->send(nb, iov, n);
    if (rc < 0) {
        nb->stats.tx_errors++;
        return rc;
    }
    nb->stats.tx_packets++;
    nb->stats.tx_bytes += len;
    return 0;
}

int
net_send(struct net_backend *nb, const uint8_t *frame, size_t len)
{
    return net_send_iov(nb, NULL, frame, len);
}

bool
net_has_vnet_hdr(const struct net_backend *nb)
{
    return nb->vnet_hdr;
}

int
net_send_offload(struct net_backend *nb, const struct net_vnet_hdr *h,
                 const uint8_t *frame, size_t len)
{
    if (!nb->vnet_hdr) {
        return -ENOTSUP;
    }
    return net_send_iov(nb, h, frame, len);
}

const struct net_stats *
net_backend_stats(const struct net_backend *nb)
{
    return &nb->stats;
}

const char *
net_backend_id(const struct net_backend *nb)
{
    return nb->id;
}
