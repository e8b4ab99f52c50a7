/*
 * The human monitor, as QMP's human-monitor-command (what
 * "xl qemu-monitor-command DOMID 'info status'" sends): the "info"
 * subcommands an operator tries. A subsystem adds its own with
 * hmp_register_info() beside its code (info pci lives with the PCI bus).
 */
#ifndef DM_HMP_H
#define DM_HMP_H

#include <glib.h>

struct qmp_req;

struct hmp_info {
    const char *name;           /* "info <name>" */
    const char *help;           /* one line for "info" / "help" */
    /* Append the answer to out, lines ending "\r\n" as QEMU's do. */
    void (*fn)(struct qmp_req *r, GString *out);
};

/*
 * Add a table, terminated by an entry with a NULL name; registering the
 * same table again does nothing and a name taken keeps its first entry.
 * 0 or -ENOSPC.
 */
int hmp_register_info(const struct hmp_info *table);

#endif
