/*
 * QMP query-vnc and change-vnc-password (xen-dm-interface.md 3.4). They
 * live in the process itself, not in the VNC module (ui/module.h): without
 * -vnc the module is never loaded and query-vnc still answers
 * enabled:false, as QEMU does.
 */
#include <errno.h>

#include "dm/machine.h"
#include "dm/qmp-cmd.h"
#include "hw/board.h"
#include "ui/vnc.h"

struct vnc *
vnc_get(struct dm *dm)
{
    return dm->board ? dm->board->vnc : NULL;
}

static JsonNode *
vnc_qmp_query(struct qmp_req *r)
{
    struct vnc *v = vnc_get(qmp_req_dm(r));
    JsonObject *o;

    if (v) {
        return vnc_qmp_info(v);
    }
    o = json_object_new();
    json_object_set_boolean_member(o, "enabled", false);
    return qmp_node_take_object(o);
}

static JsonNode *
vnc_qmp_change_password(struct qmp_req *r)
{
    struct vnc *v = vnc_get(qmp_req_dm(r));
    int rc = v ? vnc_set_password(v, qmp_arg_str(r, "password")) : -ENODEV;

    switch (rc) {
    case 0:
        return qmp_empty_object();
    case -E2BIG:
        qmp_fail(r, "GenericError", "Could not set password: VNC "
                 "passwords are at most %d characters", VNC_MAX_PASSWORD);
        break;
    case -EPERM:
        qmp_fail(r, "GenericError", "Could not set password: VNC runs "
                 "without authentication (start it with -vnc ...,"
                 "password=on; xl.cfg vncpasswd=)");
        break;
    default:
        qmp_fail(r, "GenericError", "VNC is not enabled (xl.cfg vnc=1)");
        break;
    }
    return NULL;
}

static const struct qmp_arg vnc_qmp_args_password[] = {
    { "password", QMP_ARG_STR, true }, { NULL, 0, false },
};

static const struct qmp_cmd vnc_qmp_cmds[] = {
    { "query-vnc", vnc_qmp_query, false, NULL },
    { "change-vnc-password", vnc_qmp_change_password, false,
      vnc_qmp_args_password },
    { NULL, NULL, false, NULL },
};

/* Registered for every QMP server: query-vnc answers enabled:false when
 * no server runs, as QEMU does. */
static void __attribute__((constructor))
vnc_qmp_register(void)
{
    qmp_register_cmds(vnc_qmp_cmds);
}
