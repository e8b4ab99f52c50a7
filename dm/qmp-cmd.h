/*
 * Writing QMP commands outside dm/qmp.c. A subsystem (a device, a display
 * front end, the ioreq service) keeps its commands beside its own code in a
 * const table and registers the table once with qmp_register_cmds(); the
 * server validates the arguments against the table before calling the
 * handler. Handlers run on the dm loop thread and either return the reply
 * (a JsonNode the server takes) or call qmp_fail() and return NULL.
 */
#ifndef DM_QMP_CMD_H
#define DM_QMP_CMD_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

struct dm;
struct dm_config;
struct qmp;
struct qmp_req;

typedef JsonNode *qmp_handler(struct qmp_req *r);

enum qmp_arg_type { QMP_ARG_STR, QMP_ARG_BOOL, QMP_ARG_INT, QMP_ARG_ARRAY };

struct qmp_arg {
    const char *name;
    enum qmp_arg_type type;
    bool required;
};

struct qmp_cmd {
    const char *name;
    qmp_handler *fn;
    bool before_negotiation;    /* allowed in capabilities negotiation */
    const struct qmp_arg *args; /* NULL-name terminated; NULL: none */
};

/*
 * Add a table of commands, terminated by an entry with a NULL name, to
 * every QMP server of the process. The tables are code, not guest state:
 * registering the same table again does nothing, so a device's init may
 * call it for every machine it is built in. A name already taken keeps its
 * first handler. 0, or -ENOSPC when too many tables are registered.
 */
int qmp_register_cmds(const struct qmp_cmd *cmds);

/* The machine and the server a request is served by. */
struct dm *qmp_req_dm(const struct qmp_req *r);
struct qmp *qmp_req_qmp(const struct qmp_req *r);
/* The configuration the server was started with; NULL if none. */
const struct dm_config *qmp_req_cfg(const struct qmp_req *r);

/* Arguments, already checked against the table's types. */
const char *qmp_arg_str(struct qmp_req *r, const char *name);
bool qmp_arg_bool(struct qmp_req *r, const char *name, bool dflt);
int64_t qmp_arg_int(struct qmp_req *r, const char *name, int64_t dflt);
bool qmp_arg_has(struct qmp_req *r, const char *name);

/*
 * The oldest fd the client sent with SCM_RIGHTS and no command has taken
 * yet (getfd, add-fd), now the caller's to keep or close; -1 if none.
 */
int qmp_req_take_fd(struct qmp_req *r);

/*
 * A file name a request carries, for opening: "/dev/fdset/N" (libxl passes
 * images that way) names the newest fd of set N (add-fd) and comes back as
 * "/proc/self/fd/FD", to be opened again; any other name comes back as it
 * is. NULL, with the request failed, if set N is unknown or empty. The
 * caller frees the result.
 */
char *qmp_req_resolve_fdset(struct qmp_req *r, const char *filename);

/* Fail the request with a QMP error class ("GenericError", ...). */
void qmp_fail(struct qmp_req *r, const char *class, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Reply builders: "{}", and nodes that take ownership of o or a. */
JsonNode *qmp_empty_object(void);
JsonNode *qmp_node_take_object(JsonObject *o);
JsonNode *qmp_node_take_array(JsonArray *a);

#endif
