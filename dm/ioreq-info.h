/*
 * The ioreq state on demand, so that a guest that seems stuck can be
 * diagnosed from the host: every vCPU's slot (state, type, address, size,
 * count), the buffered ring's pointers, the event-channel ports and whether
 * they are masked, the loop's sources and how often each fired, and the
 * request counters. As QMP "query-ioreq" and as log lines (SIGUSR1).
 */
#ifndef DM_IOREQ_INFO_H
#define DM_IOREQ_INFO_H

#include <json-glib/json-glib.h>

struct dm;

/* The whole state as one JSON object (the reply of query-ioreq). */
JsonObject *ioreq_info_json(struct dm *dm);
/* The same state into the log, one line per part, headed by why. */
void ioreq_info_log(struct dm *dm, const char *why);
/* Register query-ioreq with every QMP server (dm/qmp-cmd.h). */
int ioreq_info_register(void);

#endif
