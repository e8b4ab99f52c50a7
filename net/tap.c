/*
 * -netdev type=tap: the tap libxl creates for an emulated vif
 * (vif<domid>.<devid>-emu, xen-dm-interface.md 3.6) opened by name through
 * /dev/net/tun, or a tap fd handed over with fd=N. IFF_VNET_HDR puts a
 * struct virtio_net_hdr before every frame so a TSO send reaches the
 * kernel as one GSO frame instead of being segmented here. We ask the
 * kernel for no receive offloads (TUNSETOFFLOAD 0): it hands us complete,
 * checksummed frames the e1000 can place in guest buffers as they are.
 * Reference: Linux Documentation/networking/tuntap.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h> /* TUNSETIFF, IFF_TAP, IFF_VNET_HDR */
#include <net/if.h>       /* struct ifreq, IFNAMSIZ */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net/internal.h"

static int
tap_open_name(struct net_backend *nb, const char *ifname, bool vnet_hdr,
              char *err, size_t errlen)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "-netdev tap: cannot open /dev/net/tun: %s "
                 "(load the tun module; hvmdm needs CAP_NET_ADMIN or a tap "
                 "passed with fd=)", strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
    if (ifname) {
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, errlen, "-netdev tap,ifname=%s: TUNSETIFF: %s (is the "
                 "name free or a tap of ours?)", ifname ? ifname : "",
                 strerror(errno));
        close(fd);
        return -1;
    }
    nb->fd = fd;
    nb->vnet_hdr = vnet_hdr;
    return 0;
}

static int
tap_adopt_fd(struct net_backend *nb, const char *s, char *err, size_t errlen)
{
    struct ifreq ifr;
    char *end;
    long v = strtol(s, &end, 10);

    memset(&ifr, 0, sizeof(ifr));
    if (end == s || *end) {
        /* QEMU looks a name up among the monitor's getfd fds, which only
         * exist for netdev_add; libxl passes ifname=. */
        snprintf(err, errlen, "-netdev tap,fd=%s: fd names (QMP getfd) are "
                 "for hot-plugged netdevs, which hvmdm does not have; give "
                 "the number of an inherited tap fd, or ifname=", s);
        return -1;
    }
    if (v < 0 || v > INT32_MAX ||
        ioctl((int)v, TUNGETIFF, &ifr) < 0) {
        snprintf(err, errlen, "-netdev tap,fd=%s: not an open tap device",
                 s);
        return -1;
    }
    nb->fd = (int)v;
    nb->vnet_hdr = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
    return 0;
}

/* Receive offloads off, and the header size we use (tuntap.rst). */
static int
tap_configure(struct net_backend *nb, char *err, size_t errlen)
{
    int sz = sizeof(struct net_vnet_hdr);

    if (!nb->vnet_hdr) {
        return 0;
    }
    if (ioctl(nb->fd, TUNSETVNETHDRSZ, &sz) < 0 ||
        ioctl(nb->fd, TUNSETOFFLOAD, 0) < 0) {
        snprintf(err, errlen, "-netdev tap: configuring IFF_VNET_HDR: %s",
                 strerror(errno));
        return -1;
    }
    return 0;
}

static bool
tap_script_ok(const char *v)
{
    return !v || strcmp(v, "no") == 0 || v[0] == '\0';
}

static int
tap_open(struct net_backend *nb, struct net_opts *o, char *err,
         size_t errlen)
{
    const char *ifname = net_opt(o, "ifname"), *fd = net_opt(o, "fd");
    const char *vh = net_opt(o, "vnet_hdr");
    bool vnet_hdr = !vh || strcmp(vh, "on") == 0;
    int rc;

    net_opt(o, "br");           /* libxl's hotplug script bridges it */
    if (!tap_script_ok(net_opt(o, "script")) ||
        !tap_script_ok(net_opt(o, "downscript"))) {
        snprintf(err, errlen, "-netdev tap: hvmdm runs no scripts; use "
                 "script=no,downscript=no (libxl's vif hotplug script "
                 "configures the tap)");
        return -1;
    }
    if (vh && strcmp(vh, "on") != 0 && strcmp(vh, "off") != 0) {
        snprintf(err, errlen, "-netdev tap,vnet_hdr=%s: use on or off", vh);
        return -1;
    }
    if (ifname && strlen(ifname) >= IFNAMSIZ) {
        snprintf(err, errlen, "-netdev tap,ifname=%s: longer than %d "
                 "characters", ifname, IFNAMSIZ - 1);
        return -1;
    }
    rc = fd ? tap_adopt_fd(nb, fd, err, errlen)
            : tap_open_name(nb, ifname, vnet_hdr, err, errlen);
    if (rc == 0 && tap_configure(nb, err, errlen) < 0) {
        close(nb->fd);
        nb->fd = -1;
        rc = -1;
    }
    return rc;
}

static void
tap_close(struct net_backend *nb)
{
    if (nb->fd >= 0) {
        close(nb->fd);
    }
}

const struct net_backend_ops net_tap_ops = {
    .type = "tap",
    .open = tap_open,
    .send = net_fd_send,
    .set_rx = net_fd_set_rx,
    .close = tap_close,
};
