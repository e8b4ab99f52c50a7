/*
 * The Xen backend of struct hv_ops. Setup follows xen-dm-interface.md 2.2
 * step by step (the order upstream QEMU uses against Xen 4.17):
 *
 *   1. open libxendevicemodel, libxenforeignmemory, libxenevtchn, xenstore
 *   2. create an ioreq server with an atomic buffered ring
 *   3. map its two resource frames: buffered page, then the synchronous page
 *   4. ask for the buffered event channel (NULL gfns: no legacy p2m pages)
 *   5. enable the server (vp_eport in each slot is valid only from here on)
 *   6. bind every vCPU's channel and the buffered one
 *
 * and teardown runs it backwards. Runtime calls return 0 or -errno; their
 * failures are logged through one rate limiter, because guests drive most
 * of them (IRQ levels, mappings).
 */
#include "dm/hv-xen.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>               /* PROT_READ, PROT_WRITE */

/* xenctrl.h first: it defines __XEN_TOOLS__, which the tools-only parts
 * of the public headers (HVM_IOREQSRV_*, XENMEM_resource_*) need. */
#include <xenctrl.h>                /* xc_hvm_param_set and
                                       xc_domain_populate_physmap_exact
                                       only, see below */
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include <xentoolcore.h>
#include <xen/hvm/ioreq.h>          /* ioreq_t, buffered_iopage_t */
#include <xen/hvm/params.h>         /* HVM_PARAM_ACPI_S_STATE */
#include <xen/memory.h>             /* XENMEM_resource_ioreq_server */

#include "dm/hv.h"
#include "dm/log.h"

#define HV_XEN_PAGE_SIZE 4096u      /* x86 frames */
/* One synchronous page holds a 32-byte slot per vCPU (ioreq.h). */
#define HV_XEN_MAX_VCPUS (HV_XEN_PAGE_SIZE / sizeof(ioreq_t))

_Static_assert(sizeof(ioreq_t) == 32, "ioreq_t is 32 bytes (ioreq.h)");
_Static_assert(XENMEM_resource_ioreq_server_frame_bufioreq == 0,
               "buffered page is resource frame 0");
_Static_assert(XENMEM_resource_ioreq_server_frame_ioreq(0) == 1,
               "synchronous page is resource frame 1");

struct hv_xen {
    struct hv hv;                   /* first: hv_ops get this back */
    uint32_t domid;
    xendevicemodel_handle *dmod;
    xenforeignmemory_handle *fmem;
    xenevtchn_handle *xce;
    struct xs_handle *xsh;          /* NULL once restricted */
    xc_interface *xch;              /* NULL if it could not be opened */
    ioservid_t ioservid;
    bool have_server;
    xenforeignmemory_resource_handle *fres;
    void *pages;                    /* buffered page, then the sync page */
    unsigned int nr_vcpus;
    int *vcpu_ports;                /* local ports; -1 while unbound */
    int buf_port;                   /* local port; -1 while unbound */
    bool restricted;
    struct dm_ratelimit err_rl;
};

static const struct hv_ops hv_xen_ops;

static struct hv_xen *
to_xen(struct hv *hv)
{
    return (struct hv_xen *)hv;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int xen_fail(struct hv_xen *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A runtime call failed (errno set): log, rate limited, and return -errno. */
static int
xen_fail(struct hv_xen *x, const char *fmt, ...)
{
    int e = errno ? errno : EIO;
    char what[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    dm_log_ratelimited(&x->err_rl, DM_LOG_ERROR, "xen: %s: %s", what,
                       strerror(e));
    return -e;
}

/* ---- setup ----------------------------------------------------------- */

/* Step 1. libxendevicemodel and libxenforeignmemory open privcmd. */
static int
xen_open_handles(struct hv_xen *x, char *err, size_t errlen)
{
    static const char privcmd_hint[] =
        "are you root in dom0 with the xen modules loaded?";

    x->dmod = xendevicemodel_open(NULL, 0);
    if (!x->dmod) {
        seterr(err, errlen, "cannot open /dev/xen/privcmd (devicemodel): "
               "%s: %s", strerror(errno), privcmd_hint);
        return -1;
    }
    x->fmem = xenforeignmemory_open(NULL, 0);
    if (!x->fmem) {
        seterr(err, errlen, "cannot open /dev/xen/privcmd (foreignmemory): "
               "%s: %s", strerror(errno), privcmd_hint);
        return -1;
    }
    x->xce = xenevtchn_open(NULL, 0);
    if (!x->xce) {
        seterr(err, errlen, "cannot open /dev/xen/evtchn: %s: %s",
               strerror(errno), privcmd_hint);
        return -1;
    }
    x->xsh = xs_open(0);
    if (!x->xsh) {
        seterr(err, errlen, "cannot connect to xenstored: %s: is xenstored "
               "running (systemctl start xencommons)?", strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * libxenctrl is not a stable interface, and hvmdm uses it for two calls
 * only, both without a dm_op: HVM_PARAM_ACPI_S_STATE (S3 suspend and
 * resume) and XENMEM_populate_physmap for the VGA's VRAM (xen_populate_ram).
 * It is opened with the other handles so -xen-domid-restrict covers it too;
 * if it cannot be opened, S3 and the VGA adapter are lost.
 */
static void
xen_open_xc(struct hv_xen *x)
{
    x->xch = xc_interface_open(NULL, NULL, 0);
    if (!x->xch) {
        DM_WARN("xen: cannot open libxenctrl (%s); ACPI S3 and VGA will "
                "not work",
                strerror(errno));
    }
}

/*
 * The vCPU count: Xen's own (XEN_DMOP_nr_vcpus) when the hypervisor has
 * it, else the command line's maxcpus. One synchronous page bounds it.
 */
static int
xen_count_vcpus(struct hv_xen *x, unsigned int max_vcpus, char *err,
                size_t errlen)
{
    unsigned int n = 0;

    if (xendevicemodel_nr_vcpus(x->dmod, (domid_t)x->domid, &n) < 0) {
        DM_INFO("xen: nr_vcpus not available (%s); using maxcpus=%u",
                strerror(errno), max_vcpus);
        n = max_vcpus;
    } else if (max_vcpus && n != max_vcpus) {
        DM_WARN("xen: domain %u has %u vCPUs, the command line says %u; "
                "serving %u", x->domid, n, max_vcpus, n);
    }
    if (n == 0 || n > HV_XEN_MAX_VCPUS) {
        seterr(err, errlen, "domain %u: %u vCPUs; one ioreq server serves 1 "
               "to %zu", x->domid, n, HV_XEN_MAX_VCPUS);
        return -1;
    }
    x->nr_vcpus = n;
    return 0;
}

/* Step 2. Xen pauses the domain while it allocates the vCPU channels. */
static int
xen_create_server(struct hv_xen *x, char *err, size_t errlen)
{
    if (xendevicemodel_create_ioreq_server(x->dmod, (domid_t)x->domid,
                                           HVM_IOREQSRV_BUFIOREQ_ATOMIC,
                                           &x->ioservid) < 0) {
        int e = errno;

        seterr(err, errlen, "cannot create an ioreq server for domain %u: "
               "%s%s", x->domid, strerror(e),
               e == ESRCH ? " (no such domain; check -xen-domid)" :
               e == ENOSPC ? " (the domain has 8 ioreq servers already)" :
               " (is it an HVM domain?)");
        return -1;
    }
    x->have_server = true;
    return 0;
}

/* Step 3. Frame 0 is the buffered page, frame 1 the synchronous page. */
static int
xen_map_pages(struct hv_xen *x, char *err, size_t errlen)
{
    void *addr = NULL;

    x->fres = xenforeignmemory_map_resource(
        x->fmem, (domid_t)x->domid, XENMEM_resource_ioreq_server,
        x->ioservid, XENMEM_resource_ioreq_server_frame_bufioreq, 2, &addr,
        PROT_READ | PROT_WRITE, 0);
    if (!x->fres) {
        int e = errno;

        seterr(err, errlen, "cannot map the ioreq server pages: %s%s",
               strerror(e), e == EOPNOTSUPP || e == ENOTTY ?
               " (needs Xen >= 4.11 and a dom0 kernel with "
               "IOCTL_PRIVCMD_MMAP_RESOURCE, Linux >= 4.18)" : "");
        return -1;
    }
    x->pages = addr;
    return 0;
}

/* Step 4. NULL gfn pointers set XEN_DMOP_no_gfns. */
static int
xen_get_buf_port(struct hv_xen *x, evtchn_port_t *remote, char *err,
                 size_t errlen)
{
    if (xendevicemodel_get_ioreq_server_info(x->dmod, (domid_t)x->domid,
                                             x->ioservid, NULL, NULL,
                                             remote) < 0) {
        seterr(err, errlen, "cannot get the ioreq server's buffered event "
               "channel: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Step 5. */
static int
xen_enable_server(struct hv_xen *x, char *err, size_t errlen)
{
    if (xendevicemodel_set_ioreq_server_state(x->dmod, (domid_t)x->domid,
                                              x->ioservid, 1) < 0) {
        seterr(err, errlen, "cannot enable the ioreq server: %s",
               strerror(errno));
        return -1;
    }
    return 0;
}

static int
xen_bind(struct hv_xen *x, evtchn_port_t remote, const char *what,
         char *err, size_t errlen)
{
    xenevtchn_port_or_error_t local;

    local = xenevtchn_bind_interdomain(x->xce, x->domid, remote);
    if (local < 0) {
        seterr(err, errlen, "cannot bind %s (domain %u port %u): %s", what,
               x->domid, remote, strerror(errno));
        return -1;
    }
    return local;
}

/*
 * Step 6. vp_eport is read once, after enabling; the fd is made non-blocking
 * so xenevtchn_pending() answers "nothing" instead of blocking the loop.
 */
static int
xen_bind_ports(struct hv_xen *x, evtchn_port_t buf_remote, char *err,
               size_t errlen)
{
    const ioreq_t *slots = (const ioreq_t *)((uint8_t *)x->pages +
                                             HV_XEN_PAGE_SIZE);
    char what[32];
    unsigned int v;
    int fd, flags;

    for (v = 0; v < x->nr_vcpus; v++) {
        snprintf(what, sizeof(what), "vCPU %u's event channel", v);
        x->vcpu_ports[v] = xen_bind(x, __atomic_load_n(&slots[v].vp_eport,
                                                       __ATOMIC_RELAXED),
                                    what, err, errlen);
        if (x->vcpu_ports[v] < 0) {
            return -1;
        }
    }
    x->buf_port = xen_bind(x, buf_remote, "the buffered event channel", err,
                           errlen);
    if (x->buf_port < 0) {
        return -1;
    }
    fd = xenevtchn_fd(x->xce);
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        seterr(err, errlen, "/dev/xen/evtchn: cannot set O_NONBLOCK: %s",
               strerror(errno));
        return -1;
    }
    return 0;
}

static struct hv_xen *
xen_alloc(uint32_t domid)
{
    struct hv_xen *x = g_new0(struct hv_xen, 1);

    x->hv.ops = &hv_xen_ops;
    x->domid = domid;
    x->buf_port = -1;
    return x;
}

struct hv *
hv_xen_open(uint32_t domid, unsigned int max_vcpus, char *err, size_t errlen)
{
    struct hv_xen *x = xen_alloc(domid);
    evtchn_port_t buf_remote;
    unsigned int v;

    if (xen_open_handles(x, err, errlen) < 0) {
        goto fail;
    }
    xen_open_xc(x);
    if (xen_count_vcpus(x, max_vcpus, err, errlen) < 0) {
        goto fail;
    }
    x->vcpu_ports = g_new(int, x->nr_vcpus);
    for (v = 0; v < x->nr_vcpus; v++) {
        x->vcpu_ports[v] = -1;
    }
    if (xen_create_server(x, err, errlen) < 0 ||
        xen_map_pages(x, err, errlen) < 0 ||
        xen_get_buf_port(x, &buf_remote, err, errlen) < 0 ||
        xen_enable_server(x, err, errlen) < 0 ||
        xen_bind_ports(x, buf_remote, err, errlen) < 0) {
        goto fail;
    }
    DM_INFO("xen: domain %u: ioreq server %u, %u vCPUs", domid, x->ioservid,
            x->nr_vcpus);
    return &x->hv;
fail:
    x->hv.ops->destroy(&x->hv);
    return NULL;
}

int
hv_xen_restrict(struct hv *hv, char *err, size_t errlen)
{
    struct hv_xen *x = to_xen(hv);

    if (hv->ops != &hv_xen_ops) {
        seterr(err, errlen, "-xen-domid-restrict needs the Xen backend");
        return -1;
    }
    xs_close(x->xsh);
    x->xsh = NULL;
    if (xentoolcore_restrict_all((domid_t)x->domid) < 0) {
        seterr(err, errlen, "cannot restrict the Xen handles to domain %u: "
               "%s (needs a dom0 kernel with IOCTL_PRIVCMD_RESTRICT and "
               "IOCTL_EVTCHN_RESTRICT_DOMID, Linux >= 4.18)", x->domid,
               strerror(errno));
        return -1;
    }
    x->restricted = true;
    return 0;
}

/* ---- ioreq pages and event channels ---------------------------------- */

static void *
xen_sync_page(struct hv *hv)
{
    return (uint8_t *)to_xen(hv)->pages + HV_XEN_PAGE_SIZE;
}

static void *
xen_buf_page(struct hv *hv)
{
    return to_xen(hv)->pages;
}

static unsigned int
xen_nr_vcpus(struct hv *hv)
{
    return to_xen(hv)->nr_vcpus;
}

static int
xen_evtchn_fd(struct hv *hv)
{
    return xenevtchn_fd(to_xen(hv)->xce);
}

static int
xen_evtchn_pending(struct hv *hv)
{
    struct hv_xen *x = to_xen(hv);
    xenevtchn_port_or_error_t port;

    errno = 0;
    port = xenevtchn_pending(x->xce);
    if (port < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            xen_fail(x, "evtchn pending");
        }
        return -1;
    }
    return (int)port;
}

static int
xen_evtchn_unmask(struct hv *hv, int port)
{
    struct hv_xen *x = to_xen(hv);

    if (xenevtchn_unmask(x->xce, (evtchn_port_t)port) < 0) {
        return xen_fail(x, "evtchn unmask port %d", port);
    }
    return 0;
}

static void
xen_evtchn_notify(struct hv *hv, int port)
{
    struct hv_xen *x = to_xen(hv);

    if (xenevtchn_notify(x->xce, (evtchn_port_t)port) < 0) {
        xen_fail(x, "evtchn notify port %d", port);
    }
}

static int
xen_vcpu_port(struct hv *hv, unsigned int vcpu)
{
    struct hv_xen *x = to_xen(hv);

    return vcpu < x->nr_vcpus ? x->vcpu_ports[vcpu] : -1;
}

static int
xen_buf_port(struct hv *hv)
{
    return to_xen(hv)->buf_port;
}

/* ---- routing --------------------------------------------------------- */

static int
xen_map_io_range(struct hv *hv, enum hv_io_space space, uint64_t start,
                 uint64_t end)
{
    struct hv_xen *x = to_xen(hv);

    if (xendevicemodel_map_io_range_to_ioreq_server(
            x->dmod, (domid_t)x->domid, x->ioservid, space == HV_IO_MMIO,
            start, end) < 0) {
        return xen_fail(x, "map %s range 0x%" PRIx64 "-0x%" PRIx64,
                        space == HV_IO_MMIO ? "MMIO" : "port", start, end);
    }
    return 0;
}

static int
xen_unmap_io_range(struct hv *hv, enum hv_io_space space, uint64_t start,
                   uint64_t end)
{
    struct hv_xen *x = to_xen(hv);

    if (xendevicemodel_unmap_io_range_from_ioreq_server(
            x->dmod, (domid_t)x->domid, x->ioservid, space == HV_IO_MMIO,
            start, end) < 0) {
        return xen_fail(x, "unmap %s range 0x%" PRIx64 "-0x%" PRIx64,
                        space == HV_IO_MMIO ? "MMIO" : "port", start, end);
    }
    return 0;
}

/* PCI config cycles for bus:dev.fn arrive as IOREQ_TYPE_PCI_CONFIG. */
static int
xen_map_pcidev(struct hv *hv, unsigned int bus, unsigned int dev,
               unsigned int fn)
{
    struct hv_xen *x = to_xen(hv);

    if (bus > 255 || dev > 31 || fn > 7) {
        return -EINVAL;
    }
    if (xendevicemodel_map_pcidev_to_ioreq_server(
            x->dmod, (domid_t)x->domid, x->ioservid, 0, (uint8_t)bus,
            (uint8_t)dev, (uint8_t)fn) < 0) {
        return xen_fail(x, "map PCI %02x:%02x.%u", bus, dev, fn);
    }
    return 0;
}

static int
xen_unmap_pcidev(struct hv *hv, unsigned int bus, unsigned int dev,
                 unsigned int fn)
{
    struct hv_xen *x = to_xen(hv);

    if (bus > 255 || dev > 31 || fn > 7) {
        return -EINVAL;
    }
    if (xendevicemodel_unmap_pcidev_from_ioreq_server(
            x->dmod, (domid_t)x->domid, x->ioservid, 0, (uint8_t)bus,
            (uint8_t)dev, (uint8_t)fn) < 0) {
        return xen_fail(x, "unmap PCI %02x:%02x.%u", bus, dev, fn);
    }
    return 0;
}

/* ---- interrupts (xen-dm-interface.md 2.3) ---------------------------- */

static int
xen_set_isa_irq(struct hv *hv, unsigned int irq, int level)
{
    struct hv_xen *x = to_xen(hv);

    if (irq > 15) {
        return -EINVAL;
    }
    if (xendevicemodel_set_isa_irq_level(x->dmod, (domid_t)x->domid,
                                         (uint8_t)irq, level ? 1 : 0) < 0) {
        return xen_fail(x, "ISA IRQ %u level %d", irq, level);
    }
    return 0;
}

/* Segment 0, bus 0: Xen rejects anything else (X:dm.c). */
static int
xen_set_pci_intx(struct hv *hv, unsigned int dev, unsigned int intx,
                 int level)
{
    struct hv_xen *x = to_xen(hv);

    if (dev > 31 || intx > 3) {
        return -EINVAL;
    }
    if (xendevicemodel_set_pci_intx_level(x->dmod, (domid_t)x->domid, 0, 0,
                                          (uint8_t)dev, (uint8_t)intx,
                                          level ? 1 : 0) < 0) {
        return xen_fail(x, "PCI 00:%02x INT%c level %d", dev, 'A' + intx,
                        level);
    }
    return 0;
}

/* isa_irq 0 disables the link (PIRQ route bit 7 set). */
static int
xen_set_pci_link_route(struct hv *hv, unsigned int link,
                       unsigned int isa_irq)
{
    struct hv_xen *x = to_xen(hv);

    if (link > 3 || isa_irq > 15) {
        return -EINVAL;
    }
    if (xendevicemodel_set_pci_link_route(x->dmod, (domid_t)x->domid,
                                          (uint8_t)link,
                                          (uint8_t)isa_irq) < 0) {
        return xen_fail(x, "PCI link %u -> IRQ %u", link, isa_irq);
    }
    return 0;
}

/* Raw address/data: Xen itself interprets vector 0 (PV-on-HVM pirq). */
static int
xen_inject_msi(struct hv *hv, uint64_t addr, uint32_t data)
{
    struct hv_xen *x = to_xen(hv);

    if (xendevicemodel_inject_msi(x->dmod, (domid_t)x->domid, addr,
                                  data) < 0) {
        return xen_fail(x, "MSI 0x%" PRIx64 "/0x%x", addr, data);
    }
    return 0;
}

/* ---- guest memory (xen-dm-interface.md 2.4) -------------------------- */

/* The library reports per-frame errors as errno values; hv wants -errno. */
static unsigned int
xen_fix_errs(int *err, unsigned int nr)
{
    unsigned int i, ok = 0;

    for (i = 0; i < nr; i++) {
        if (err[i] > 0) {
            err[i] = -err[i];
        }
        ok += err[i] == 0;
    }
    return ok;
}

static void *
xen_map_guest(struct hv *hv, uint64_t gfn, unsigned int nr, int writable,
              int *err)
{
    struct hv_xen *x = to_xen(hv);
    xen_pfn_t *pfns;
    void *addr;
    unsigned int i;
    int e;

    if (nr == 0) {
        return NULL;
    }
    pfns = g_new(xen_pfn_t, nr);
    for (i = 0; i < nr; i++) {
        pfns[i] = (xen_pfn_t)(gfn + i);
    }
    addr = xenforeignmemory_map(x->fmem, x->domid,
                                PROT_READ | (writable ? PROT_WRITE : 0), nr,
                                pfns, err);
    e = errno;
    g_free(pfns);
    if (!addr) {
        for (i = 0; i < nr; i++) {
            err[i] = -(e ? e : EFAULT);
        }
        errno = e;
        xen_fail(x, "map %u guest frames at 0x%" PRIx64, nr, gfn);
        return NULL;
    }
    if (xen_fix_errs(err, nr) == 0) {
        xenforeignmemory_unmap(x->fmem, addr, nr);
        return NULL;
    }
    return addr;
}

static void
xen_unmap_guest(struct hv *hv, void *addr, unsigned int nr)
{
    struct hv_xen *x = to_xen(hv);

    if (addr && xenforeignmemory_unmap(x->fmem, addr, nr) < 0) {
        xen_fail(x, "unmap %u guest frames", nr);
    }
}

/* Live-migration dirty log: report frames hvmdm wrote (DM_OP takes u32). */
static int
xen_modified_memory(struct hv *hv, uint64_t gfn, uint64_t nr)
{
    struct hv_xen *x = to_xen(hv);
    uint32_t n;

    while (nr) {
        n = nr > UINT32_MAX ? UINT32_MAX : (uint32_t)nr;
        if (xendevicemodel_modified_memory(x->dmod, (domid_t)x->domid, gfn,
                                           n) < 0) {
            return xen_fail(x, "modified memory 0x%" PRIx64 "+%u", gfn, n);
        }
        gfn += n;
        nr -= n;
    }
    return 0;
}

/* ---- VRAM (xen-dm-interface.md 2.5) ---------------------------------- */

/*
 * XENMEM_populate_physmap has no dm_op and no call in the stable
 * libraries; VRAM is the one thing hvmdm allocates in the guest, as QEMU
 * does with the same call (counted in libxl's video_memkb). The second and
 * last libxenctrl use (see xen_open_xc).
 */
static int
xen_populate_ram(struct hv *hv, uint64_t gfn, uint64_t nr)
{
    struct hv_xen *x = to_xen(hv);
    xen_pfn_t *pfns;
    uint64_t i;
    int rc = 0;

    if (!x->xch) {
        return -ENODEV;
    }
    pfns = g_try_new(xen_pfn_t, nr);
    if (!pfns) {
        return -ENOMEM;
    }
    for (i = 0; i < nr; i++) {
        pfns[i] = (xen_pfn_t)(gfn + i);
    }
    if (xc_domain_populate_physmap_exact(x->xch, x->domid, nr, 0, 0,
                                         pfns) < 0) {
        rc = xen_fail(x, "populate %" PRIu64 " frames at 0x%" PRIx64, nr,
                      gfn);
    }
    g_free(pfns);
    return rc;
}

static int
xen_relocate_memory(struct hv *hv, uint64_t src_gfn, uint64_t dst_gfn,
                    uint32_t nr)
{
    struct hv_xen *x = to_xen(hv);

    if (xendevicemodel_relocate_memory(x->dmod, (domid_t)x->domid, nr,
                                       src_gfn, dst_gfn) < 0) {
        return xen_fail(x, "relocate %u frames 0x%" PRIx64 " -> 0x%" PRIx64,
                        nr, src_gfn, dst_gfn);
    }
    return 0;
}

static int
xen_pin_cacheattr(struct hv *hv, uint64_t start, uint64_t end, uint32_t type)
{
    struct hv_xen *x = to_xen(hv);

    if (xendevicemodel_pin_memory_cacheattr(x->dmod, (domid_t)x->domid,
                                            start, end, type) < 0) {
        return xen_fail(x, "pin cache attribute %u on 0x%" PRIx64
                        "-0x%" PRIx64, type, start, end);
    }
    return 0;
}

/*
 * ENODATA is an answer (log-dirty taken by migration), not a failure.
 * Stopping (nr 0, no bitmap) answers EFAULT under Xen 4.17 (seen on every
 * VNC disconnect in check-xen); QEMU ignores the result of the same call,
 * and so do we: the next start names the range again.
 */
static int
xen_track_dirty_vram(struct hv *hv, uint64_t gfn, uint32_t nr,
                     unsigned long *bitmap)
{
    struct hv_xen *x = to_xen(hv);

    if (xendevicemodel_track_dirty_vram(x->dmod, (domid_t)x->domid, gfn, nr,
                                        bitmap) < 0) {
        if (errno == ENODATA || nr == 0) {
            return -errno;
        }
        return xen_fail(x, "track dirty VRAM 0x%" PRIx64 "+%u", gfn, nr);
    }
    return 0;
}

/* ---- power and state ------------------------------------------------- */

/*
 * XEN_DMOP_remote_shutdown. QEMU falls back to xc_domain_shutdown() when
 * this fails with ENOTTY, which only Xen < 4.9 does; hvmdm needs Xen 4.17
 * (ioreq resource mapping, nr_vcpus), so there is no fallback.
 */
static int
xen_shutdown(struct hv *hv, enum hv_shutdown_reason reason)
{
    struct hv_xen *x = to_xen(hv);

    if (xendevicemodel_shutdown(x->dmod, (domid_t)x->domid,
                                (unsigned int)reason) < 0) {
        return xen_fail(x, "shutdown domain %u (reason %d)", x->domid,
                        (int)reason);
    }
    return 0;
}

/*
 * HVM_PARAM_ACPI_S_STATE = 3 on S3 suspend, 0 on wake-up: the only
 * libxenctrl call in hvmdm (see xen_open_xc). HVMOP_set_param is not a
 * dm_op, so with -xen-domid-restrict Xen refuses it, as it does for QEMU.
 */
static int
xen_set_acpi_s_state(struct hv *hv, unsigned int state)
{
    struct hv_xen *x = to_xen(hv);

    if (!x->xch) {
        return -ENODEV;
    }
    if (xc_hvm_param_set(x->xch, x->domid, HVM_PARAM_ACPI_S_STATE,
                         state) < 0) {
        return xen_fail(x, "set ACPI S%u state", state);
    }
    return 0;
}

/*
 * The PM1a event block is Xen's (xen-dm-interface.md 5): the power button
 * is XEN_DOMCTL_SENDTRIGGER_POWER, what "xl trigger DOM power" sends. A
 * domctl, so refused under -xen-domid-restrict.
 */
static int
xen_power_button(struct hv *hv)
{
    struct hv_xen *x = to_xen(hv);

    if (!x->xch) {
        return -ENODEV;
    }
    if (xc_domain_send_trigger(x->xch, x->domid, XEN_DOMCTL_SENDTRIGGER_POWER,
                               0) < 0) {
        return xen_fail(x, "press the ACPI power button");
    }
    return 0;
}

static int
xen_set_mem_type(struct hv *hv, enum hv_mem_type type, uint64_t gfn,
                 uint32_t nr)
{
    struct hv_xen *x = to_xen(hv);

    if (xendevicemodel_set_mem_type(x->dmod, (domid_t)x->domid,
                                    (hvmmem_type_t)type, gfn, nr) < 0) {
        return xen_fail(x, "set mem type %d of 0x%" PRIx64 "+%u",
                        (int)type, gfn, nr);
    }
    return 0;
}

/* Restricted, the xenstore connection is gone: every node reads absent. */
static char *
xen_xs_read(struct hv *hv, const char *path)
{
    struct hv_xen *x = to_xen(hv);
    unsigned int len = 0;
    char *v, *copy;

    if (x->restricted || !x->xsh) {
        return NULL;
    }
    v = xs_read(x->xsh, XBT_NULL, path, &len);
    if (!v) {
        return NULL;
    }
    copy = g_strndup(v, len);
    free(v);
    return copy;
}

/*
 * device-model/<domid>/state = "running", relative to our own domain's
 * home path (/local/domain/0/... in dom0), which libxl watches. Restricted,
 * there is no xenstore and nothing to write: libxl then uses QMP.
 */
static int
xen_set_running(struct hv *hv)
{
    struct hv_xen *x = to_xen(hv);
    char path[64];

    if (x->restricted) {
        return 0;
    }
    snprintf(path, sizeof(path), "device-model/%u/state", x->domid);
    if (!xs_write(x->xsh, XBT_NULL, path, "running", strlen("running"))) {
        return xen_fail(x, "xenstore write %s", path);
    }
    return 0;
}

/* Teardown mirrors hv_xen_open; safe on a partly opened backend. */
static void
xen_destroy(struct hv *hv)
{
    struct hv_xen *x = to_xen(hv);

    if (x->have_server &&
        xendevicemodel_destroy_ioreq_server(x->dmod, (domid_t)x->domid,
                                            x->ioservid) < 0) {
        DM_DEBUG("xen: destroy ioreq server: %s", strerror(errno));
    }
    if (x->fres) {
        xenforeignmemory_unmap_resource(x->fmem, x->fres);
    }
    if (x->xch) {
        xc_interface_close(x->xch);
    }
    xs_close(x->xsh);
    if (x->xce) {
        xenevtchn_close(x->xce);    /* unbinds every port */
    }
    if (x->fmem) {
        xenforeignmemory_close(x->fmem);
    }
    if (x->dmod) {
        xendevicemodel_close(x->dmod);
    }
    g_free(x->vcpu_ports);
    g_free(x);
}

static const struct hv_ops hv_xen_ops = {
    .name = "xen",
    .sync_page = xen_sync_page,
    .buf_page = xen_buf_page,
    .nr_vcpus = xen_nr_vcpus,
    .evtchn_fd = xen_evtchn_fd,
    .evtchn_pending = xen_evtchn_pending,
    .evtchn_unmask = xen_evtchn_unmask,
    .evtchn_notify = xen_evtchn_notify,
    .vcpu_port = xen_vcpu_port,
    .buf_port = xen_buf_port,
    .map_io_range = xen_map_io_range,
    .unmap_io_range = xen_unmap_io_range,
    .map_pcidev = xen_map_pcidev,
    .unmap_pcidev = xen_unmap_pcidev,
    .set_isa_irq = xen_set_isa_irq,
    .set_pci_intx = xen_set_pci_intx,
    .set_pci_link_route = xen_set_pci_link_route,
    .inject_msi = xen_inject_msi,
    .map_guest = xen_map_guest,
    .unmap_guest = xen_unmap_guest,
    .modified_memory = xen_modified_memory,
    .populate_ram = xen_populate_ram,
    .relocate_memory = xen_relocate_memory,
    .pin_cacheattr = xen_pin_cacheattr,
    .track_dirty_vram = xen_track_dirty_vram,
    .shutdown = xen_shutdown,
    .set_acpi_s_state = xen_set_acpi_s_state,
    .power_button = xen_power_button,
    .set_mem_type = xen_set_mem_type,
    .xs_read = xen_xs_read,
    .set_running = xen_set_running,
    .destroy = xen_destroy,
};
