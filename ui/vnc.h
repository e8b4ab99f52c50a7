/*
 * The VNC server (libvncserver): the guest's display to RFB clients, their
 * keyboard and pointer to the guest's PS/2 devices, QMP query-vnc and
 * change-vnc-password (xen-dm-interface.md 3.2, 3.4).
 *
 * libvncserver runs in one thread of its own that owns every libvncserver
 * object. The display listener (dm loop thread) copies changed rectangles
 * into a staging buffer under a lock and wakes that thread; input goes the
 * other way through a bounded queue drained on the loop thread. With no
 * client connected there is no display listener, no timer and the thread
 * sleeps in select() on the listening sockets: no work at all.
 */
#ifndef UI_VNC_H
#define UI_VNC_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dm;
struct vnc;

#define VNC_PORT_BASE       5900
#define VNC_MAX_CLIENTS     16
#define VNC_MAX_PASSWORD    8       /* RFB 6.2.2: DES key of 8 bytes */

/* The -vnc argument: none | [HOST]:DISPLAY[,password=on][,to=N]... */
struct vnc_opts {
    bool none;
    char *host;                     /* NULL or "": every interface */
    int display;
    int to;                         /* last display to try; = display */
    bool password;
    bool ipv4_only, ipv6_only;
    bool websocket;                 /* always served on the same port */
};

int vnc_parse_opts(const char *arg, struct vnc_opts *o, char *err,
                   size_t errlen);
void vnc_opts_free(struct vnc_opts *o);

/*
 * Start serving: listen, load the keymap (NULL: en-us; the QEMU keymap
 * files, ui/keymap.h), start the thread, and hang the server off the board
 * for QMP. NULL with the reason in err.
 */
struct vnc *vnc_start(struct dm *dm, const char *arg, const char *keymap,
                      char *err, size_t errlen);
/* Disconnect every client, stop the thread and free; NULL is a no-op. */
void vnc_stop(struct vnc *v);

/* The machine's VNC server, or NULL (ui/vnc-qmp.c). */
struct vnc *vnc_get(struct dm *dm);
/* QMP query-vnc's reply for a running server (QEMU's VncInfo). */
JsonNode *vnc_qmp_info(struct vnc *v);
/* The TCP port listened on. */
int vnc_port(const struct vnc *v);
/* Clients connected now (authenticated or not). */
unsigned int vnc_client_count(struct vnc *v);
/*
 * Set the VNC authentication password (QMP change-vnc-password): 0,
 * -EPERM without password=on, -E2BIG beyond 8 characters.
 */
int vnc_set_password(struct vnc *v, const char *password);

/* Tests and bench: updates the thread sent so far, and its wake-ups. */
uint64_t vnc_updates_applied(struct vnc *v);
uint64_t vnc_thread_wakeups(struct vnc *v);

#endif
