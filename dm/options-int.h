/*
 * Inside the command-line parser: dm/options.c (the option table, the
 * simple options, the checks across options) and the option families
 * beside it, options-chardev.c, options-drive.c, options-net.c and
 * options-device.c. The parse context, the helpers every family uses and
 * the handlers the table calls. Nothing outside dm/options*.c includes
 * this.
 */
#ifndef DM_OPTIONS_INT_H
#define DM_OPTIONS_INT_H

#include <stddef.h>

#include "dm/config.h"
#include "dm/opts.h"

/*
 * What works instead of an option that is refused; the sessions that
 * implement the display, the NIC and the platform device update these
 * (and the rows that use them) as their features land.
 */
#define WORKS_CONSOLE "VNC works: vnc=1 in the domain config, then " \
    "xl vncviewer"
#define NOT_YET_USB "USB is not emulated yet: the guest has no USB " \
    "controller, tablet, mouse or keyboard (the PS/2 ones work)"
#define NO_SPICE "SPICE is not supported; remove spice= from the domain " \
    "config (" WORKS_CONSOLE ")"
#define NO_CIRRUS "the Cirrus adapter is not emulated yet: the guest " \
    "gets the standard VGA instead (set stdvga=1 in the domain config to " \
    "ask for it)"

/* -device ide-cd/ide-hd waiting for its -drive (resolved after argv). */
struct ide_attach {
    char *drive;
    int index;
    enum dm_drive_media media;
};

struct parse_ctx {
    struct dm_config *cfg;
    char *err;
    size_t errlen;
    const char *opt;            /* the option being parsed, for messages */
    struct ide_attach attach[DM_MAX_DRIVES];
    unsigned int nr_attach;
    unsigned int nr_qmp;        /* -qmp chardevs created */
};

/* dm/options.c */
int perr(struct parse_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int row_apply(struct parse_ctx *c, const struct dm_opt_row *row);
int value_apply(struct parse_ctx *c, const char *name, const char *value,
                size_t n);
int opts_parse(struct parse_ctx *c, struct dm_opts *o, const char *str,
               const char *implied_key);

/* dm/options-chardev.c */
struct dm_chardev_cfg *chardev_find(struct dm_config *cfg, const char *id);
int opt_chardev(struct parse_ctx *c, const char *arg);
int opt_mon(struct parse_ctx *c, const char *arg);
int opt_qmp(struct parse_ctx *c, const char *arg);

/* dm/options-drive.c; the checks run once every option is parsed. */
int opt_drive(struct parse_ctx *c, const char *arg);
int resolve_ide(struct parse_ctx *c);
int check_drives(struct parse_ctx *c);

/* dm/options-net.c */
struct dm_netdev_cfg *netdev_find(struct dm_config *cfg, const char *id);
int opt_netdev(struct parse_ctx *c, const char *arg);
int opt_net(struct parse_ctx *c, const char *arg);

/* dm/options-device.c; its table's rows, one per driver. */
int opt_device(struct parse_ctx *c, const char *arg);
int opt_usb(struct parse_ctx *c, const char *arg);
int opt_usbdevice(struct parse_ctx *c, const char *arg);
size_t device_nr_rows(void);
const struct dm_opt_row *device_row(size_t i);

#endif
