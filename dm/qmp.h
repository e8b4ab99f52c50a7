/*
 * The QMP server (xen-dm-interface.md 3.4, 3.5) and the run state libxl
 * drives through it. One server per -mon chardev=ID,mode=control whose
 * -chardev is a listening UNIX socket (path= or a pre-opened fd=), one
 * client at a time per monitor, as many short connections as libxl likes.
 *
 * Run state: prelaunch (-S) or running once qmp_machine_ready() says every
 * device is built; "cont" and "stop" move between running and paused.
 * Every entry into running tells the toolstack (hv set_running: xenstore
 * device-model/<domid>/state = "running"), as qemu-xen does.
 */
#ifndef DM_QMP_H
#define DM_QMP_H

#include <stdbool.h>
#include <stddef.h>

struct dm;
struct dm_config;
struct dm_drive_cfg;
struct blk_stats;
struct qmp;

/* A request larger than this gets an error and its bytes are dropped. */
#define QMP_MAX_REQUEST (64 * 1024)

enum qmp_run_state {
    QMP_RUN_PRELAUNCH,      /* -S: devices built, waiting for "cont" */
    QMP_RUN_RUNNING,
    QMP_RUN_PAUSED,         /* "stop" */
};

/*
 * Removable media and block statistics, provided by the IDE controller
 * (hw/ide/ide.h has functions of these shapes). index is the IDE position
 * 0..3 (channel * 2 + unit). Until set, eject and blockdev-change-medium
 * fail with "no such removable device" and statistics read zero.
 */
/* A drive's medium as the device has it now. */
struct qmp_medium {
    bool inserted;              /* an image is open */
    bool tray_open;
    bool locked;                /* the guest prevents removal */
    bool read_only;
    const char *file;           /* as opened; valid until the next change */
    const char *format;
};

struct qmp_block_ops {
    int (*change_media)(struct dm *dm, int index, const char *path,
                        const char *format, bool force, char *err,
                        size_t errlen);
    int (*eject)(struct dm *dm, int index, bool force, char *err,
                 size_t errlen);
    /* false if the position has no block backend (an empty CD-ROM). */
    bool (*stats)(struct dm *dm, int index, struct blk_stats *out);
    /* The medium now at the position (after every host or guest change);
     * false if there is no drive there. */
    bool (*medium)(struct dm *dm, int index, struct qmp_medium *out);
};

/* Called after every run-state change (old != new). */
typedef void qmp_run_state_cb(void *opaque, enum qmp_run_state old,
                              enum qmp_run_state state);
/* "quit": the process should end (the caller quits its loop). */
typedef void qmp_quit_cb(void *opaque);

/*
 * Listen on every monitor of cfg (cfg->monitors[]); call before privileges
 * are dropped, since the sockets are created in the host's file system.
 * Nothing is served until the main loop runs. NULL with a message naming
 * the fix in err on failure. A machine without monitors still gets a
 * struct qmp: it holds the run state.
 */
struct qmp *qmp_start_all(struct dm *dm, const struct dm_config *cfg,
                          char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Close every connection, listening socket and fd set; unlink sockets. */
void qmp_free(struct qmp *q);

void qmp_set_block_ops(struct qmp *q, const struct qmp_block_ops *ops);
/* The block ops set, or NULL (for info block beside query-block). */
const struct qmp_block_ops *qmp_block_ops_of(const struct qmp *q);
/* QEMU's name for a drive: its id, else "ide<bus>-<hd|cd><unit>"
 * (block/block-qmp.c). */
char *qmp_drive_name(const struct dm_drive_cfg *d);
void qmp_set_run_state_cb(struct qmp *q, qmp_run_state_cb *cb, void *opaque);
void qmp_set_quit_cb(struct qmp *q, qmp_quit_cb *cb, void *opaque);

/*
 * Every device is ready and the monitors listen: enter prelaunch (-S) or
 * running. 0, or the negative errno of reporting "running".
 */
int qmp_machine_ready(struct qmp *q);
enum qmp_run_state qmp_run_state(const struct qmp *q);

/* The process is ending: send SHUTDOWN to the clients, as QEMU does. */
void qmp_event_shutdown(struct qmp *q, bool guest, const char *reason);

#endif
