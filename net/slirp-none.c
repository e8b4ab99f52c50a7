/*
 * -netdev user when hvmdm was configured without libslirp: refused with
 * the way to get it.
 */
#include <stdio.h>

#include "net/internal.h"

static int
slirp_none_open(struct net_backend *nb, struct net_opts *o, char *err,
                size_t errlen)
{
    snprintf(err, errlen, "-netdev user: this hvmdm was built without "
             "libslirp; install libslirp-dev and re-run ./configure, or "
             "use -netdev tap");
    return -1;
}

static void
slirp_none_close(struct net_backend *nb)
{
}

const struct net_backend_ops net_slirp_ops = {
    .type = "user",
    .open = slirp_none_open,
    .close = slirp_none_close,
};
