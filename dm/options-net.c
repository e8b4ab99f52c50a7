/*
 * -netdev and -net (dm/options.c has the table and the option rows): the
 * tap device libxl creates for a vif, user and socket backends whose
 * sub-options net/ parses, and the legacy -net, which only takes none.
 */
#include <glib.h>
#include <string.h>

#include "dm/options-int.h"

struct dm_netdev_cfg *
netdev_find(struct dm_config *cfg, const char *id)
{
    unsigned int i;

    for (i = 0; i < cfg->nr_netdevs; i++) {
        if (strcmp(cfg->netdevs[i].id, id) == 0) {
            return &cfg->netdevs[i];
        }
    }
    return NULL;
}

static int
netdev_fields(struct parse_ctx *c, struct dm_opts *o, struct dm_netdev_cfg *n)
{
    const char *ifname, *br, *script, *downscript, *fd, *vnet_hdr;

    /* fd and vnet_hdr are read again by net/tap.c from n->opts. */
    if (dm_opts_str(o, "fd", &fd) < 0 ||
        dm_opts_str(o, "vnet_hdr", &vnet_hdr) < 0 ||
        dm_opts_str(o, "ifname", &ifname) < 0 ||
        dm_opts_str(o, "br", &br) < 0 ||
        dm_opts_str(o, "script", &script) < 0 ||
        dm_opts_str(o, "downscript", &downscript) < 0 ||
        dm_opts_finish(o, "type, id, ifname, br, script, downscript, fd, "
                       "vnet_hdr") < 0) {
        return -1;
    }
    n->ifname = g_strdup(ifname);
    n->bridge = g_strdup(br);
    n->script = g_strdup(script);
    n->downscript = g_strdup(downscript);
    return 0;
}

/* -netdev type=tap,id=net0,ifname=vif1.0-emu,br=xenbr0,script=no,... */
int
opt_netdev(struct parse_ctx *c, const char *arg)
{
    struct dm_config *cfg = c->cfg;
    struct dm_netdev_cfg *n;
    struct dm_opts o;
    const char *type, *id;
    int rc = -1;

    if (opts_parse(c, &o, arg, "type") < 0 ||
        dm_opts_str(&o, "type", &type) < 0 || dm_opts_str(&o, "id", &id) < 0) {
        goto out;
    }
    if (!type) {
        perr(c, "missing the type (libxl passes type=tap)");
        goto out;
    }
    if (value_apply(c, "-netdev", type, strlen(type)) < 0) {
        goto out;
    }
    if (!id) {
        perr(c, "missing id= (the NIC's netdev=)");
        goto out;
    }
    if (netdev_find(cfg, id)) {
        perr(c, "duplicate id '%s'", id);
        goto out;
    }
    if (cfg->nr_netdevs == DM_MAX_NICS) {
        perr(c, "more than %d netdevs", DM_MAX_NICS);
        goto out;
    }
    n = &cfg->netdevs[cfg->nr_netdevs++];
    memset(n, 0, sizeof(*n));
    n->id = g_strdup(id);
    n->type = g_strdup(type);
    n->opts = g_strdup(arg);
    /* net/ parses and checks the sub-options of user and socket. */
    rc = strcmp(type, "tap") == 0 ? netdev_fields(c, &o, n) : 0;
out:
    dm_opts_free(&o);
    return rc;
}

int
opt_net(struct parse_ctx *c, const char *arg)
{
    return value_apply(c, "-net", arg, strcspn(arg, ","));
}
