/*
 * The Xen hypervisor backend (dm/hv-xen.c): struct hv_ops over Xen's stable
 * libraries (libxendevicemodel, libxenforeignmemory, libxenevtchn,
 * libxenstore), set up as xen-dm-interface.md 2.2 describes.
 */
#ifndef DM_HV_XEN_H
#define DM_HV_XEN_H

#include <stddef.h>
#include <stdint.h>

struct hv;

/*
 * Create and enable an ioreq server for domid, map its pages and bind its
 * event channels. max_vcpus (-smp maxcpus) is used only when Xen cannot
 * report the domain's vCPU count. NULL with the cause in err on failure.
 */
struct hv *hv_xen_open(uint32_t domid, unsigned int max_vcpus, char *err,
                       size_t errlen);

/*
 * -xen-domid-restrict: limit every Xen handle of this process to the
 * domain (xentoolcore_restrict_all) and drop the xenstore connection, which
 * a restricted process cannot use; set_running then writes nothing and the
 * toolstack learns the state over QMP. Call after the machine is built.
 * 0, or -1 with the cause in err.
 */
int hv_xen_restrict(struct hv *hv, char *err, size_t errlen);

#endif
