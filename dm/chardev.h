/*
 * Character backends for serial ports (and later other byte-stream
 * frontends): "pty", "null", "stdio", "file:PATH",
 * "unix:PATH[,server][,nowait][,reconnect=S]" and "chardev:ID" naming a
 * -chardev entry. Every fd is non-blocking and watched on the main loop.
 *
 * Output: the frontend hands bytes to dm_chardev_write(), which takes what
 * fits in a bounded buffer (DM_CHARDEV_OUTBUF) and returns the count taken.
 * A short count means "busy": the frontend keeps the rest, in order, and
 * its writable() callback runs once there is room again. While nobody is
 * connected (a pty without a reader, a socket without a client) output is
 * discarded and reported as written, so a guest console never stalls.
 *
 * Input: read from the backend only as fast as the frontend's
 * can_receive() allows; when it returns 0 the backend stops reading and
 * the frontend calls dm_chardev_accept_input() when it has room again, so
 * nothing is lost.
 */
#ifndef DM_CHARDEV_H
#define DM_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dm;
struct dm_config;
struct dm_chardev_cfg;
struct dm_chardev;

/* Bytes a backend queues for a slow reader before it reports busy. */
#define DM_CHARDEV_OUTBUF 4096

enum dm_chardev_event {
    DM_CHARDEV_OPENED,      /* a peer connected (socket client, pty reader) */
    DM_CHARDEV_CLOSED,      /* the peer went away */
};

struct dm_chardev_fe_ops {
    /* Bytes the frontend can take now; 0 pauses input. */
    size_t (*can_receive)(void *opaque);
    /* len is never more than the last can_receive() answer. */
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    /* Optional: room in the output buffer after a short write. */
    void (*writable)(void *opaque);
    /* Optional: connection state changes. */
    void (*event)(void *opaque, enum dm_chardev_event ev);
};

/*
 * A backend from a -serial SPEC (see struct dm_config), labelled label
 * ("serial0") unless SPEC is chardev:ID, which takes ID as the label.
 * Returns NULL with a message naming the fix in err on failure.
 */
struct dm_chardev *dm_chardev_new_spec(struct dm *dm,
                                       const struct dm_config *cfg,
                                       const char *spec, const char *label,
                                       char *err, size_t errlen);
/* A backend from one -chardev entry, labelled with its id. */
struct dm_chardev *dm_chardev_new_cfg(struct dm *dm,
                                      const struct dm_chardev_cfg *cc,
                                      char *err, size_t errlen);
void dm_chardev_free(struct dm_chardev *c);

/* One frontend per backend; opaque is passed to every callback. */
void dm_chardev_attach(struct dm_chardev *c,
                       const struct dm_chardev_fe_ops *ops, void *opaque);
void dm_chardev_detach(struct dm_chardev *c);

/* Bytes taken (queued, sent or discarded); less than len means busy. */
size_t dm_chardev_write(struct dm_chardev *c, const uint8_t *buf, size_t len);
/* The frontend has room again after can_receive() returned 0. */
void dm_chardev_accept_input(struct dm_chardev *c);
/* A peer is connected (output is delivered rather than discarded). */
bool dm_chardev_connected(const struct dm_chardev *c);

/*
 * Every backend of a machine, for QMP query-chardev: start with prev NULL.
 * The label is "serialN" or the -chardev id; the filename follows QEMU,
 * e.g. "pty:/dev/pts/3", "file:PATH", "unix:PATH,server=on" (prefixed
 * "disconnected:" while a socket has no peer), "stdio", "null".
 */
struct dm_chardev *dm_chardev_next(const struct dm *dm,
                                   const struct dm_chardev *prev);
struct dm_chardev *dm_chardev_find(const struct dm *dm, const char *label);
const char *dm_chardev_label(const struct dm_chardev *c);
const char *dm_chardev_filename(const struct dm_chardev *c);
bool dm_chardev_frontend_open(const struct dm_chardev *c);

#endif
