/*
 * Network backends behind one small interface: a NIC model attaches to a
 * backend, sends whole Ethernet frames (without the FCS) and receives them
 * through two callbacks. Receive is pulled, not pushed: a backend asks the
 * NIC whether it has room before reading, and stops watching its fd when
 * the NIC has none, so a guest without receive buffers leaves packets in
 * the kernel's bounded queue instead of ours. The NIC calls net_rx_kick()
 * when the guest gives it buffers again.
 *
 * Backends (-netdev TYPE,...): tap (libxl's vif, net/tap.c), user
 * (libslirp, net/slirp.c), socket (fd= of a datagram socket pair, for the
 * harness and for tools, net/net.c).
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h> /* struct iovec */

struct dm;
struct dm_netdev_cfg;
struct net_backend;

/* Largest frame a backend reads or sends: a 64 KiB GSO frame and header. */
#define NET_MAX_FRAME (65536 + 64)

/*
 * struct virtio_net_hdr (virtio 1.0 5.1.6), what a tap with IFF_VNET_HDR
 * puts before every frame: offloads the kernel finishes for us.
 */
struct net_vnet_hdr {
    uint8_t flags;              /* NET_VNET_F_* */
    uint8_t gso_type;           /* NET_VNET_GSO_* */
    uint16_t hdr_len;           /* Ethernet + IP + TCP header bytes */
    uint16_t gso_size;          /* MSS */
    uint16_t csum_start;        /* from the start of the frame */
    uint16_t csum_offset;       /* from csum_start */
};
_Static_assert(sizeof(struct net_vnet_hdr) == 10, "virtio_net_hdr layout");

#define NET_VNET_F_NEEDS_CSUM 1
#define NET_VNET_GSO_NONE     0
#define NET_VNET_GSO_TCPV4    1
#define NET_VNET_GSO_TCPV6    4

typedef bool net_can_receive_fn(void *opaque);
typedef void net_receive_fn(void *opaque, const uint8_t *frame, size_t len);

struct net_stats {
    uint64_t tx_packets, tx_bytes, tx_errors;
    uint64_t rx_packets, rx_bytes, rx_dropped;
    uint64_t rx_pauses;         /* times the NIC had no room */
};

/*
 * Open the backend a -netdev describes; NULL with a message naming the fix
 * in err. Sub-options (hostfwd=, fd=, ...) are parsed here, not in
 * dm/options.c.
 */
struct net_backend *net_backend_open(struct dm *dm,
                                     const struct dm_netdev_cfg *cfg,
                                     char *err, size_t errlen);
void net_backend_close(struct net_backend *nb);

/* Start delivering received frames to the NIC. */
void net_backend_attach(struct net_backend *nb, net_can_receive_fn *can_rx,
                        net_receive_fn *rx, void *opaque);
/* The NIC has room again: resume reading if we had paused. */
void net_rx_kick(struct net_backend *nb);

/* Send one frame; 0 or -errno (the frame is dropped and counted). */
int net_send(struct net_backend *nb, const uint8_t *frame, size_t len);
/* Does net_send_offload() reach a peer that segments and checksums? */
bool net_has_vnet_hdr(const struct net_backend *nb);
int net_send_offload(struct net_backend *nb, const struct net_vnet_hdr *h,
                     const uint8_t *frame, size_t len);

const struct net_stats *net_backend_stats(const struct net_backend *nb);
const char *net_backend_id(const struct net_backend *nb);

#endif
