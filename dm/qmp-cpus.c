/*
 * The vCPU queries libxl sends (xen-dm-interface.md 3.5): query-cpus-fast
 * (xl list -l, xl vcpu-set, the start of xl save), its pre-2.12 fallback
 * query-cpus, query-hotpluggable-cpus, and device_add, which answers a vCPU
 * hotplug with a clear refusal. The vCPUs run in Xen; hvmdm reports those
 * libxl started it with (-smp N,maxcpus=M: N plugged of M, as QEMU's
 * socket-id = cpu-index layout). Also "info cpus" for the human monitor.
 */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "dm/config.h"
#include "dm/hmp.h"
#include "dm/machine.h"
#include "dm/qmp-cmd.h"

/* QEMU's CPU type for xenfv's default CPU in qemu-system-i386. */
#define CPU_TYPE "qemu32-i386-cpu"

static void
cpus_count(struct qmp_req *r, unsigned int *plugged, unsigned int *max)
{
    const struct dm *dm = qmp_req_dm(r);
    const struct dm_config *cfg = dm ? dm->cfg : NULL;

    *plugged = cfg && cfg->vcpus ? cfg->vcpus : 1;
    *max = cfg && cfg->maxcpus > *plugged ? cfg->maxcpus : *plugged;
}

static JsonObject *
cpu_props(unsigned int i)
{
    JsonObject *p = json_object_new();

    json_object_set_int_member(p, "core-id", 0);
    json_object_set_int_member(p, "thread-id", 0);
    json_object_set_int_member(p, "socket-id", i);
    return p;
}

static void
cpu_set_qom_path(JsonObject *o, const char *member, unsigned int i)
{
    g_autofree char *path = g_strdup_printf("/machine/unattached/device[%u]",
                                            i);

    json_object_set_string_member(o, member, path);
}

static JsonNode *
qmp_query_cpus_fast(struct qmp_req *r)
{
    JsonArray *a = json_array_new();
    unsigned int i, plugged, max;

    cpus_count(r, &plugged, &max);
    for (i = 0; i < plugged; i++) {
        JsonObject *o = json_object_new();

        json_object_set_int_member(o, "cpu-index", i);
        cpu_set_qom_path(o, "qom-path", i);
        json_object_set_int_member(o, "thread-id", getpid());
        json_object_set_object_member(o, "props", cpu_props(i));
        json_object_set_string_member(o, "target", "i386");
        json_array_add_object_element(a, o);
    }
    return qmp_node_take_array(a);
}

/* QEMU < 6.0's form; libxl reads "CPU". */
static JsonNode *
qmp_query_cpus(struct qmp_req *r)
{
    JsonArray *a = json_array_new();
    unsigned int i, plugged, max;

    cpus_count(r, &plugged, &max);
    for (i = 0; i < plugged; i++) {
        JsonObject *o = json_object_new();

        json_object_set_int_member(o, "CPU", i);
        json_object_set_boolean_member(o, "current", i == 0);
        json_object_set_boolean_member(o, "halted", false);
        cpu_set_qom_path(o, "qom_path", i);
        json_object_set_int_member(o, "thread_id", getpid());
        json_object_set_object_member(o, "props", cpu_props(i));
        json_object_set_string_member(o, "arch", "x86");
        json_array_add_object_element(a, o);
    }
    return qmp_node_take_array(a);
}

/* Every possible vCPU, highest first as QEMU lists them; qom-path marks
 * the plugged ones. libxl takes the type of the first entry. */
static JsonNode *
qmp_query_hotpluggable_cpus(struct qmp_req *r)
{
    JsonArray *a = json_array_new();
    unsigned int i, plugged, max;

    cpus_count(r, &plugged, &max);
    for (i = max; i-- > 0;) {
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "type", CPU_TYPE);
        json_object_set_int_member(o, "vcpus-count", 1);
        json_object_set_object_member(o, "props", cpu_props(i));
        if (i < plugged) {
            cpu_set_qom_path(o, "qom-path", i);
        }
        json_array_add_object_element(a, o);
    }
    return qmp_node_take_array(a);
}

/* libxl's device_add forms: vCPU, PCI passthrough, USB (3.5). */
static JsonNode *
qmp_device_add(struct qmp_req *r)
{
    const char *driver = qmp_arg_str(r, "driver");
    unsigned int plugged, max;

    cpus_count(r, &plugged, &max);
    if (g_str_has_suffix(driver, "-cpu")) {
        qmp_fail(r, "GenericError", "vCPU hotplug is not supported by "
                 "hvmdm: the guest keeps its %u vCPUs (raise vcpus= in the "
                 "domain config and restart the domain)", plugged);
        return NULL;
    }
    qmp_fail(r, "GenericError", "device_add %s: hvmdm does not hotplug "
             "devices (PCI passthrough and USB need QEMU as the device "
             "model)", driver);
    return NULL;
}

static const struct qmp_arg device_add_args[] = {
    { "driver", QMP_ARG_STR, true }, { "id", QMP_ARG_STR, false },
    { "socket-id", QMP_ARG_INT, false }, { "core-id", QMP_ARG_INT, false },
    { "thread-id", QMP_ARG_INT, false }, { "hostaddr", QMP_ARG_STR, false },
    { "addr", QMP_ARG_STR, false }, { "permissive", QMP_ARG_BOOL, false },
    { "bus", QMP_ARG_STR, false }, { NULL, 0, false },
};

static const struct qmp_cmd cpu_cmds[] = {
    { "query-cpus-fast", qmp_query_cpus_fast, false, NULL },
    { "query-cpus", qmp_query_cpus, false, NULL },
    { "query-hotpluggable-cpus", qmp_query_hotpluggable_cpus, false, NULL },
    { "device_add", qmp_device_add, false, device_add_args },
    { NULL, NULL, false, NULL },
};

/* "info cpus": QEMU's "* CPU #0: thread_id=N" lines. */
static void
info_cpus(struct qmp_req *r, GString *out)
{
    unsigned int i, plugged, max;

    cpus_count(r, &plugged, &max);
    for (i = 0; i < plugged; i++) {
        g_string_append_printf(out, "%c CPU #%u: thread_id=%d\r\n",
                               i ? ' ' : '*', i, (int)getpid());
    }
}

static const struct hmp_info cpu_infos[] = {
    { "cpus", "the vCPUs", info_cpus },
    { NULL, NULL, NULL },
};

static void __attribute__((constructor))
qmp_cpus_register(void)
{
    qmp_register_cmds(cpu_cmds);
    hmp_register_info(cpu_infos);
}
