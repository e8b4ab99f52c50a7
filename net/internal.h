/*
 * What the backends share: the backend struct, their ops, and the
 * sub-option parser for a -netdev string.
 */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

#define NET_MAX_OPTS 32

/* key=value pairs of one -netdev, each marked when a backend takes it. */
struct net_opts {
    char *key[NET_MAX_OPTS];
    char *val[NET_MAX_OPTS];
    bool used[NET_MAX_OPTS];
    unsigned int n;
};

struct net_backend_ops {
    const char *type;
    /* Parse o (marking what it takes), open; 0 or -1 with err set. */
    int (*open)(struct net_backend *nb, struct net_opts *o, char *err,
                size_t errlen);
    /* iov[0] is a struct net_vnet_hdr when nb->vnet_hdr; 0 or -errno. */
    int (*send)(struct net_backend *nb, const struct iovec *iov, int iovcnt);
    /* Optional: start or stop feeding the NIC (fd backends use rx_fd). */
    void (*set_rx)(struct net_backend *nb, bool on);
    void (*close)(struct net_backend *nb);
};

struct net_backend {
    const struct net_backend_ops *ops;
    struct dm *dm;
    char *id;
    int fd;                     /* datagram fd read by net_fd_readable */
    unsigned int watch;         /* GLib source id while watching fd */
    bool vnet_hdr;              /* fd frames carry a struct net_vnet_hdr */
    bool socket;                /* fd is a socket: recv, not read */
    bool attached;
    bool paused;                /* stopped reading: the NIC had no room */
    net_can_receive_fn *can_rx;
    net_receive_fn *rx;
    void *opaque;
    struct net_stats stats;
    uint8_t *rx_buf;            /* NET_MAX_FRAME + header, fd backends */
    void *priv;                 /* backend's own state */
};

const char *net_opt(struct net_opts *o, const char *key);

/* fd backends: watch nb->fd and feed the NIC while it has room. */
void net_fd_set_rx(struct net_backend *nb, bool on);
int net_fd_send(struct net_backend *nb, const struct iovec *iov, int iovcnt);

/* nb->fd is open (at start or handed over later): non-blocking, a
 * receive buffer, and reading if the NIC is attached. */
void net_fd_ready(struct net_backend *nb);

/* A frame from a backend that cannot hold it back (slirp): deliver or drop. */
void net_deliver(struct net_backend *nb, const uint8_t *frame, size_t len);

extern const struct net_backend_ops net_tap_ops;
extern const struct net_backend_ops net_slirp_ops;

#endif
