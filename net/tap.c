/*
 * -netdev type=tap: the tap libxl creates for an emulated vif
 * (vif<domid>.<devid>-emu, xen-dm-interface.md 3.6) opened by name through
 * /dev/net/tun, or a tap fd handed over: fd=N inherited from the process
 * that started us, or fd=NAME sent later over QMP ("getfd", SCM_RIGHTS;
 * see tap_wait_name below). IFF_VNET_HDR puts a
 * struct virtio_net_hdr before every frame so a TSO send reaches the
 * kernel as one GSO frame instead of being segmented here. We ask the
 * kernel for no receive offloads (TUNSETOFFLOAD 0): it hands us complete,
 * checksummed frames the e1000 can place in guest buffers as they are.
 * Reference: Linux Documentation/networking/tuntap.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/if_tun.h> /* TUNSETIFF, IFF_TAP, IFF_VNET_HDR */
#include <net/if.h>       /* struct ifreq, IFNAMSIZ */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dm/config.h"    /* struct dm_config: the monitors */
#include "dm/log.h"
#include "dm/machine.h"   /* struct dm */
#include "dm/qmp-cmd.h"
#include "net/internal.h"

/* Longest fd name we take (QEMU's monitor has no limit; ours is bounded). */
#define TAP_FDNAME_MAX 64

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

/* Is fd an open tap? Its flags in ifr (TUNGETIFF) if so. */
static int
tap_check_fd(int fd, struct ifreq *ifr, const char *what, char *err,
             size_t errlen)
{
    memset(ifr, 0, sizeof(*ifr));
    if (ioctl(fd, TUNGETIFF, ifr) < 0 || !(ifr->ifr_flags & IFF_TAP)) {
        snprintf(err, errlen, "-netdev tap,fd=%s: not an open tap device "
                 "(%s); pass an fd of /dev/net/tun after TUNSETIFF with "
                 "IFF_TAP", what, errno ? strerror(errno) : "a tun");
        return -1;
    }
    return 0;
}

static int
tap_adopt_fd(struct net_backend *nb, const char *s, char *err, size_t errlen)
{
    struct ifreq ifr;
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > INT32_MAX) {
        snprintf(err, errlen, "-netdev tap,fd=%s: give the number of an "
                 "inherited tap fd, or a name starting with a letter for "
                 "an fd sent over QMP with getfd", s);
        return -1;
    }
    errno = 0;
    if (tap_check_fd((int)v, &ifr, s, err, errlen) < 0) {
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

/*
 * fd=NAME. QEMU takes a tap by name only for netdev_add, from the fds a
 * client sent with "getfd". hvmdm builds its NICs at start-up and has no
 * netdev_add, so such a netdev is built without its tap and waits: the
 * client sends the fd with getfd and that name (before "cont" if it
 * started us with -S), and the tap is adopted at once. Until then what
 * the guest sends is dropped and counted as a transmit error, as with no
 * cable. The waiting netdevs of every machine of the process are listed
 * here; each is found again by its machine and name (nb->priv).
 */
static GList *tap_waiting;      /* struct net_backend * */

static JsonNode *tap_qmp_getfd(struct qmp_req *r);

static const struct qmp_arg tap_getfd_args[] = {
    { "fdname", QMP_ARG_STR, true },
    { NULL },
};

static const struct qmp_cmd tap_qmp_cmds[] = {
    { "getfd", tap_qmp_getfd, false, tap_getfd_args },
    { NULL },
};

static struct net_backend *
tap_waiting_find(const struct dm *dm, const char *name)
{
    GList *it;

    for (it = tap_waiting; it; it = it->next) {
        struct net_backend *nb = it->data;

        if (nb->dm == dm && strcmp(nb->priv, name) == 0) {
            return nb;
        }
    }
    return NULL;
}

static bool
tap_name_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n >= TAP_FDNAME_MAX) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (!g_ascii_isalnum(s[i]) && !strchr("_-.", s[i])) {
            return false;
        }
    }
    return true;
}

static int
tap_wait_name(struct net_backend *nb, const char *name, char *err,
              size_t errlen)
{
    const struct dm_config *cfg = nb->dm->cfg;

    if (!tap_name_ok(name)) {
        snprintf(err, errlen, "-netdev tap,fd=%s: an fd name is a letter "
                 "and up to %d more letters, digits, '_', '-' or '.'", name,
                 TAP_FDNAME_MAX - 2);
        return -1;
    }
    if (!cfg || cfg->nr_monitors == 0) {
        snprintf(err, errlen, "-netdev tap,fd=%s: the name of an fd sent "
                 "with QMP getfd, but there is no QMP monitor; add -chardev "
                 "socket,...,server=on -mon chardev=...,mode=control, or "
                 "pass an inherited fd by number", name);
        return -1;
    }
    if (tap_waiting_find(nb->dm, name)) {
        snprintf(err, errlen, "-netdev tap,fd=%s: another -netdev waits for "
                 "that name already; give each its own", name);
        return -1;
    }
    if (qmp_register_cmds(tap_qmp_cmds) < 0) {
        snprintf(err, errlen, "-netdev tap,fd=%s: cannot register QMP "
                 "getfd", name);
        return -1;
    }
    nb->priv = g_strdup(name);
    tap_waiting = g_list_prepend(tap_waiting, nb);
    DM_INFO("netdev %s: waiting for QMP getfd fdname=%s", nb->id, name);
    return 0;
}

/* The fd a getfd brought for a waiting netdev: check, configure, use. */
static int
tap_adopt_sent(struct net_backend *nb, int fd, char *err, size_t errlen)
{
    struct ifreq ifr;

    errno = 0;
    if (tap_check_fd(fd, &ifr, nb->priv, err, errlen) < 0) {
        return -1;
    }
    nb->fd = fd;
    nb->vnet_hdr = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
    if (tap_configure(nb, err, errlen) < 0) {
        nb->fd = -1;
        return -1;
    }
    DM_INFO("netdev %s: tap %.*s from QMP getfd fdname=%s", nb->id,
            IFNAMSIZ, ifr.ifr_name, (const char *)nb->priv);
    tap_waiting = g_list_remove(tap_waiting, nb);
    g_free(nb->priv);
    nb->priv = NULL;
    net_fd_ready(nb);
    return 0;
}

/* getfd {"fdname"} with one fd in SCM_RIGHTS. */
static JsonNode *
tap_qmp_getfd(struct qmp_req *r)
{
    const char *name = qmp_arg_str(r, "fdname");
    int fd = qmp_req_take_fd(r);
    struct net_backend *nb;
    char err[256];

    if (fd < 0) {
        qmp_fail(r, "GenericError", "No file descriptor supplied via "
                 "SCM_RIGHTS");
        return NULL;
    }
    nb = tap_waiting_find(qmp_req_dm(r), name);
    if (!nb) {
        close(fd);
        qmp_fail(r, "GenericError", "getfd %s: no -netdev tap,fd=%s is "
                 "waiting for an fd (hvmdm takes getfd fds only for the taps "
                 "its command line names, once each; it has no netdev_add)",
                 name, name);
        return NULL;
    }
    if (tap_adopt_sent(nb, fd, err, sizeof(err)) < 0) {
        close(fd);
        qmp_fail(r, "GenericError", "getfd %s: %s", name, err);
        return NULL;
    }
    return qmp_empty_object();
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
    if (fd && (ifname || vh)) {
        snprintf(err, errlen, "-netdev tap: fd= comes with its own name and "
                 "flags; drop ifname= and vnet_hdr=");
        return -1;
    }
    if (fd && (g_ascii_isalpha(fd[0]) || fd[0] == '_')) {
        return tap_wait_name(nb, fd, err, errlen);
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
    if (nb->priv) {
        tap_waiting = g_list_remove(tap_waiting, nb);
        g_free(nb->priv);
        nb->priv = NULL;
    }
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
