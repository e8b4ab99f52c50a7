/*
 * The machine harness and its in-process test hypervisor.
 *
 * The test hypervisor owns real ioreq pages (one synchronous page, one
 * buffered page), a queue of pending event-channel ports, guest RAM as a
 * host buffer with optional holes, and a log of every hypervisor call. The
 * harness plays Xen's half of the protocol: it fills a slot, sets READY,
 * raises the vCPU's port and lets the production ioreq service run; then it
 * checks IORESP_READY and takes the data, as X:common/ioreq.c does.
 */
#include "tests/harness.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>            /* WIFEXITED */
#include <unistd.h>

#include "dm/config.h"
#include "dm/gmem.h"
#include "dm/hv.h"
#include "dm/ioreq.h"
#include "dm/iomap.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "hw/board.h"
#include "tests/t.h"

#define T_PAGE 4096u
#define T_BUF_PORT 5
#define T_VCPU_PORT0 10
#define T_MAX_VCPUS 128
#define T_PENDING_MAX 4096         /* raised ports not yet read */

struct t_range {
    enum hv_io_space space;
    uint64_t start;
    uint64_t end;
};

struct t_hv {
    struct hv hv;
    ioreq_t *sync;
    buffered_iopage_t *buf;
    unsigned int nr_vcpus;
    uint8_t *ram;
    int ram_fd;
    uint64_t ram_size;
    uint8_t *holes;                 /* one byte per RAM page: unpopulated */
    /* Ports raised and not yet read, in order: a fixed ring, so a raise
     * allocates nothing (the bench counts this path). */
    int pending[T_PENDING_MAX];
    unsigned int pending_head, pending_count;
    GMutex pending_lock;            /* t_post_* may run on another thread */
    int evt_fd;                     /* readable while ports are pending */
    bool evt_set;                   /* ... for the loop (t_post_request) */
    GArray *ranges;                 /* struct t_range, as Xen keeps them */
    GString *log;
    uint8_t isa[16];
    uint8_t intx[32][4];
    uint8_t link[4];
    int shutdown_reason;
    unsigned int acpi_s_state;
    uint64_t mapped_pages;
    uint64_t peak_mapped_pages;
    unsigned int notified[T_VCPU_PORT0 + T_MAX_VCPUS];
    bool running;
    GHashTable *xs;                 /* xenstore: path -> value */

    /*
     * Extra RAM the device model populated (VRAM), as Xen keeps it: frames
     * of a memfd pool, found by gfn (p2m: gfn -> pool frame + 1), so they
     * can move (relocate) while a foreign mapping of them stays valid.
     */
    int pool_fd;
    uint8_t *pool;                  /* the whole pool, shared mapping */
    uint64_t pool_used;             /* frames handed out */
    GHashTable *p2m;
    /* Every gfn that ever held an extra frame is in [extra_lo, extra_hi):
     * guest accesses elsewhere skip the p2m lookups. */
    uint64_t extra_lo, extra_hi;
    /* track_dirty_vram: one range, dirty bits per frame of it. */
    uint64_t track_gfn;
    uint32_t track_nr;
    uint8_t *track_dirty;
    bool logdirty_global;           /* migration owns log-dirty: ENODATA */
};

/* Pool size: the largest VRAM (256 MiB) twice over. */
#define T_POOL_FRAMES ((512u << 20) / T_PAGE)

static struct t_hv *
to_thv(struct hv *hv)
{
    return (struct t_hv *)hv;
}

static void G_GNUC_PRINTF(2, 3)
thv_log(struct t_hv *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(h->log, fmt, ap);
    va_end(ap);
    g_string_append_c(h->log, '\n');
}

static void *
thv_sync_page(struct hv *hv)
{
    return to_thv(hv)->sync;
}

static void *
thv_buf_page(struct hv *hv)
{
    return to_thv(hv)->buf;
}

static unsigned int
thv_nr_vcpus(struct hv *hv)
{
    return to_thv(hv)->nr_vcpus;
}

static int
thv_evtchn_fd(struct hv *hv)
{
    return to_thv(hv)->evt_fd;
}

/* Like /dev/xen/evtchn: one port per read, the fd readable while any. */
static int
thv_evtchn_pending(struct hv *hv)
{
    struct t_hv *h = to_thv(hv);
    uint64_t n;
    int port = -1;

    g_mutex_lock(&h->pending_lock);
    if (h->pending_count) {
        port = h->pending[h->pending_head];
        h->pending_head = (h->pending_head + 1) % T_PENDING_MAX;
        h->pending_count--;
    }
    if (!h->pending_count && h->evt_set) {
        T_ASSERT(read(h->evt_fd, &n, sizeof(n)) == sizeof(n));
        h->evt_set = false;
    }
    g_mutex_unlock(&h->pending_lock);
    return port;
}

/*
 * Queue port; with fd, also make the event-channel fd readable for the
 * loop. The direct paths (t_request) call the service themselves and spare
 * the bench two system calls per request.
 */
static void
thv_raise(struct t_hv *h, int port, bool fd)
{
    uint64_t one = 1;

    g_mutex_lock(&h->pending_lock);
    T_ASSERT(h->pending_count < T_PENDING_MAX);
    h->pending[(h->pending_head + h->pending_count++) % T_PENDING_MAX] = port;
    if (fd && !h->evt_set) {
        T_ASSERT(write(h->evt_fd, &one, sizeof(one)) == sizeof(one));
        h->evt_set = true;
    }
    g_mutex_unlock(&h->pending_lock);
}

static int
thv_evtchn_unmask(struct hv *hv, int port)
{
    return 0;
}

static void
thv_evtchn_notify(struct hv *hv, int port)
{
    struct t_hv *h = to_thv(hv);

    if (port >= 0 && (size_t)port < G_N_ELEMENTS(h->notified)) {
        h->notified[port]++;
    }
}

static int
thv_vcpu_port(struct hv *hv, unsigned int vcpu)
{
    return T_VCPU_PORT0 + (int)vcpu;
}

static int
thv_buf_port(struct hv *hv)
{
    return T_BUF_PORT;
}

static const char *const space_names[] = { "port", "mmio" };

/* Xen refuses overlapping ranges within one server with -EEXIST. */
static int
thv_map_io_range(struct hv *hv, enum hv_io_space space, uint64_t start,
                 uint64_t end)
{
    struct t_hv *h = to_thv(hv);
    struct t_range r = { space, start, end };
    guint i;

    if (start > end) {
        return -EINVAL;
    }
    for (i = 0; i < h->ranges->len; i++) {
        struct t_range *o = &g_array_index(h->ranges, struct t_range, i);

        if (o->space == space && o->start <= end && start <= o->end) {
            return -EEXIST;
        }
    }
    g_array_append_val(h->ranges, r);
    thv_log(h, "map_io %s 0x%" PRIx64 "-0x%" PRIx64, space_names[space],
            start, end);
    return 0;
}

static int
thv_unmap_io_range(struct hv *hv, enum hv_io_space space, uint64_t start,
                   uint64_t end)
{
    struct t_hv *h = to_thv(hv);
    guint i;

    for (i = 0; i < h->ranges->len; i++) {
        struct t_range *o = &g_array_index(h->ranges, struct t_range, i);

        if (o->space == space && o->start == start && o->end == end) {
            g_array_remove_index(h->ranges, i);
            thv_log(h, "unmap_io %s 0x%" PRIx64 "-0x%" PRIx64,
                    space_names[space], start, end);
            return 0;
        }
    }
    return -ENOENT;
}

static int
thv_map_pcidev(struct hv *hv, unsigned int bus, unsigned int dev,
               unsigned int fn)
{
    thv_log(to_thv(hv), "map_pcidev %02x:%02x.%x", bus, dev, fn);
    return 0;
}

static int
thv_unmap_pcidev(struct hv *hv, unsigned int bus, unsigned int dev,
                 unsigned int fn)
{
    thv_log(to_thv(hv), "unmap_pcidev %02x:%02x.%x", bus, dev, fn);
    return 0;
}

static int
thv_set_isa_irq(struct hv *hv, unsigned int irq, int level)
{
    struct t_hv *h = to_thv(hv);

    if (irq >= 16) {
        return -EINVAL;
    }
    h->isa[irq] = level != 0;
    thv_log(h, "isa_irq %u %d", irq, level != 0);
    return 0;
}

/* Xen rejects dev > 31 and intx > 3 (X:arch/x86/hvm/dm.c). */
static int
thv_set_pci_intx(struct hv *hv, unsigned int dev, unsigned int intx,
                 int level)
{
    struct t_hv *h = to_thv(hv);

    if (dev > 31 || intx > 3) {
        return -EINVAL;
    }
    h->intx[dev][intx] = level != 0;
    thv_log(h, "pci_intx %u %u %d", dev, intx, level != 0);
    return 0;
}

static int
thv_set_pci_link_route(struct hv *hv, unsigned int link, unsigned int irq)
{
    struct t_hv *h = to_thv(hv);

    if (link > 3 || irq > 15) {
        return -EINVAL;
    }
    h->link[link] = (uint8_t)irq;
    thv_log(h, "link_route %u %u", link, irq);
    return 0;
}

static int
thv_inject_msi(struct hv *hv, uint64_t addr, uint32_t data)
{
    thv_log(to_thv(hv), "msi 0x%" PRIx64 " 0x%x", addr, data);
    return 0;
}

static bool
thv_page_ok(const struct t_hv *h, uint64_t gfn)
{
    return gfn < h->ram_size / T_PAGE && !h->holes[gfn];
}

/* Pool frame + 1 populated at gfn by populate_ram, or 0. */
static uint64_t
thv_extra(const struct t_hv *h, uint64_t gfn)
{
    return GPOINTER_TO_SIZE(g_hash_table_lookup(h->p2m,
                                                GSIZE_TO_POINTER(gfn)));
}

static void
thv_extra_span(struct t_hv *h, uint64_t gfn, uint64_t nr)
{
    if (h->extra_lo == h->extra_hi) {
        h->extra_lo = gfn;
        h->extra_hi = gfn;
    }
    h->extra_lo = MIN(h->extra_lo, gfn);
    h->extra_hi = MAX(h->extra_hi, gfn + nr);
}

static bool
thv_range_has_extra(const struct t_hv *h, uint64_t gfn, unsigned int nr)
{
    unsigned int i;

    if (gfn + nr <= h->extra_lo || gfn >= h->extra_hi) {
        return false;
    }
    for (i = 0; i < nr && g_hash_table_size(h->p2m); i++) {
        if (thv_extra(h, gfn + i)) {
            return true;
        }
    }
    return false;
}

/*
 * A foreign mapping that includes extra frames: each frame mapped from its
 * backing (pool or RAM memfd page), like privcmd maps MFNs; the mapping
 * keeps the page even if the guest frame moves later.
 */
static void *
thv_map_mixed(struct t_hv *h, uint64_t gfn, unsigned int nr, int writable,
              int *err)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    uint8_t *base = mmap(NULL, (size_t)nr * T_PAGE, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned int i, ok = 0;

    T_ASSERT(base != MAP_FAILED);
    for (i = 0; i < nr; i++) {
        uint64_t x = thv_extra(h, gfn + i);
        int fd = x ? h->pool_fd : h->ram_fd;
        off_t off = (off_t)((x ? x - 1 : gfn + i) * T_PAGE);

        err[i] = -EFAULT;
        if (!x && !thv_page_ok(h, gfn + i)) {
            continue;
        }
        T_ASSERT(mmap(base + (size_t)i * T_PAGE, T_PAGE, prot,
                      MAP_SHARED | MAP_FIXED, fd, off) != MAP_FAILED);
        err[i] = 0;
        ok++;
    }
    if (!ok) {
        munmap(base, (size_t)nr * T_PAGE);
        return NULL;
    }
    h->mapped_pages += nr;
    h->peak_mapped_pages = MAX(h->peak_mapped_pages, h->mapped_pages);
    return base;
}

/* Like privcmd: per-frame errors, NULL only when nothing maps. */
static void *
thv_map_guest(struct hv *hv, uint64_t gfn, unsigned int nr, int writable,
              int *err)
{
    struct t_hv *h = to_thv(hv);
    unsigned int i, ok = 0;

    if (thv_range_has_extra(h, gfn, nr)) {
        return thv_map_mixed(h, gfn, nr, writable, err);
    }
    for (i = 0; i < nr; i++) {
        err[i] = thv_page_ok(h, gfn + i) ? 0 : -EFAULT;
        ok += err[i] == 0;
    }
    if (!ok) {
        return NULL;
    }
    h->mapped_pages += nr;
    if (h->mapped_pages > h->peak_mapped_pages) {
        h->peak_mapped_pages = h->mapped_pages;
    }
    /* Frames past the end are never touched: err[] marks them. */
    return (void *)((uintptr_t)h->ram + gfn * T_PAGE);
}

static void
thv_unmap_guest(struct hv *hv, void *addr, unsigned int nr)
{
    struct t_hv *h = to_thv(hv);
    uint8_t *p = addr;

    h->mapped_pages -= nr;
    if (p < h->ram || p >= h->ram + h->ram_size) {
        munmap(addr, (size_t)nr * T_PAGE);
    }
}

/* XENMEM_populate_physmap: frames that exist stay (-EEXIST, like Xen). */
static int
thv_populate_ram(struct hv *hv, uint64_t gfn, uint64_t nr)
{
    struct t_hv *h = to_thv(hv);
    uint64_t i;

    thv_log(h, "populate 0x%" PRIx64 " %" PRIu64, gfn, nr);
    if (nr > T_POOL_FRAMES - h->pool_used) {
        return -ENOMEM;
    }
    for (i = 0; i < nr; i++) {
        if (thv_extra(h, gfn + i) || thv_page_ok(h, gfn + i)) {
            return -EEXIST;
        }
    }
    for (i = 0; i < nr; i++) {
        g_hash_table_insert(h->p2m, GSIZE_TO_POINTER(gfn + i),
                            GSIZE_TO_POINTER(++h->pool_used));
    }
    thv_extra_span(h, gfn, nr);
    return 0;
}

/*
 * XEN_DMOP_relocate_memory (XENMAPSPACE_gmfn_range): frame by frame, src
 * must be populated and becomes empty; what was at dst is replaced.
 */
static int
thv_relocate_memory(struct hv *hv, uint64_t src, uint64_t dst, uint32_t nr)
{
    struct t_hv *h = to_thv(hv);
    uint32_t i;

    thv_log(h, "relocate 0x%" PRIx64 " 0x%" PRIx64 " %u", src, dst, nr);
    thv_extra_span(h, dst, nr);
    for (i = 0; i < nr; i++) {
        uint64_t x = thv_extra(h, src + i);

        if (!x) {
            return -ESRCH;
        }
        g_hash_table_remove(h->p2m, GSIZE_TO_POINTER(src + i));
        g_hash_table_insert(h->p2m, GSIZE_TO_POINTER(dst + i),
                            GSIZE_TO_POINTER(x));
    }
    return 0;
}

static int
thv_pin_cacheattr(struct hv *hv, uint64_t start, uint64_t end, uint32_t type)
{
    thv_log(to_thv(hv), "pin_cacheattr 0x%" PRIx64 "-0x%" PRIx64 " %u",
            start, end, type);
    return start > end ? -EINVAL : 0;
}

/*
 * XEN_DMOP_track_dirty_vram as HAP does it: at most 1 GiB of frames; a new
 * range starts log-dirty and reports every frame dirty; nr 0 stops;
 * ENODATA while log-dirty belongs to migration.
 */
static int
thv_track_dirty_vram(struct hv *hv, uint64_t gfn, uint32_t nr,
                     unsigned long *bitmap)
{
    struct t_hv *h = to_thv(hv);
    uint32_t i;

    thv_log(h, "track_dirty 0x%" PRIx64 " %u", gfn, nr);
    if (nr > (1u << 30) / T_PAGE) {
        return -EINVAL;
    }
    if (h->logdirty_global) {
        return -ENODATA;
    }
    if (nr == 0 || gfn != h->track_gfn || nr != h->track_nr) {
        g_free(h->track_dirty);
        h->track_dirty = nr ? g_malloc(nr) : NULL;
        if (nr) {
            memset(h->track_dirty, 1, nr);
        }
        h->track_gfn = gfn;
        h->track_nr = nr;
    }
    if (nr == 0) {
        return 0;
    }
    memset(bitmap, 0, (nr + 7) / 8);
    for (i = 0; i < nr; i++) {
        if (h->track_dirty[i]) {
            bitmap[i / (8 * sizeof(long))] |= 1ul << (i % (8 * sizeof(long)));
        }
    }
    memset(h->track_dirty, 0, nr);
    return 0;
}

static int
thv_modified_memory(struct hv *hv, uint64_t gfn, uint64_t nr)
{
    thv_log(to_thv(hv), "modified 0x%" PRIx64 " %" PRIu64, gfn, nr);
    return 0;
}

static int
thv_shutdown(struct hv *hv, enum hv_shutdown_reason reason)
{
    struct t_hv *h = to_thv(hv);

    h->shutdown_reason = (int)reason;
    thv_log(h, "shutdown %d", (int)reason);
    return 0;
}

static int
thv_power_button(struct hv *hv)
{
    thv_log(to_thv(hv), "power_button");
    return 0;
}

static int
thv_set_acpi_s_state(struct hv *hv, unsigned int state)
{
    struct t_hv *h = to_thv(hv);

    h->acpi_s_state = state;
    thv_log(h, "acpi_s_state %u", state);
    return 0;
}

static int
thv_set_mem_type(struct hv *hv, enum hv_mem_type type, uint64_t gfn,
                 uint32_t nr)
{
    thv_log(to_thv(hv), "mem_type %d 0x%" PRIx64 " %u", (int)type, gfn, nr);
    return 0;
}

static char *
thv_xs_read(struct hv *hv, const char *path)
{
    struct t_hv *h = to_thv(hv);

    thv_log(h, "xs_read %s", path);
    return g_strdup(g_hash_table_lookup(h->xs, path));
}

static int
thv_set_running(struct hv *hv)
{
    struct t_hv *h = to_thv(hv);

    h->running = true;
    thv_log(h, "running");
    return 0;
}

static void
thv_destroy(struct hv *hv)
{
    struct t_hv *h = to_thv(hv);

    free(h->sync);
    free(h->buf);
    munmap(h->ram, h->ram_size);
    close(h->ram_fd);
    munmap(h->pool, (size_t)T_POOL_FRAMES * T_PAGE);
    close(h->pool_fd);
    g_hash_table_destroy(h->p2m);
    g_free(h->track_dirty);
    g_free(h->holes);
    g_mutex_clear(&h->pending_lock);
    close(h->evt_fd);
    g_array_free(h->ranges, TRUE);
    g_string_free(h->log, TRUE);
    g_hash_table_destroy(h->xs);
    g_free(h);
}

static const struct hv_ops thv_ops = {
    .name = "test",
    .sync_page = thv_sync_page,
    .buf_page = thv_buf_page,
    .nr_vcpus = thv_nr_vcpus,
    .evtchn_fd = thv_evtchn_fd,
    .evtchn_pending = thv_evtchn_pending,
    .evtchn_unmask = thv_evtchn_unmask,
    .evtchn_notify = thv_evtchn_notify,
    .vcpu_port = thv_vcpu_port,
    .buf_port = thv_buf_port,
    .map_io_range = thv_map_io_range,
    .unmap_io_range = thv_unmap_io_range,
    .map_pcidev = thv_map_pcidev,
    .unmap_pcidev = thv_unmap_pcidev,
    .set_isa_irq = thv_set_isa_irq,
    .set_pci_intx = thv_set_pci_intx,
    .set_pci_link_route = thv_set_pci_link_route,
    .inject_msi = thv_inject_msi,
    .map_guest = thv_map_guest,
    .unmap_guest = thv_unmap_guest,
    .modified_memory = thv_modified_memory,
    .populate_ram = thv_populate_ram,
    .relocate_memory = thv_relocate_memory,
    .pin_cacheattr = thv_pin_cacheattr,
    .track_dirty_vram = thv_track_dirty_vram,
    .shutdown = thv_shutdown,
    .set_acpi_s_state = thv_set_acpi_s_state,
    .power_button = thv_power_button,
    .set_mem_type = thv_set_mem_type,
    .xs_read = thv_xs_read,
    .set_running = thv_set_running,
    .destroy = thv_destroy,
};

static void *
page_alloc(size_t len)
{
    void *p = NULL;

    if (posix_memalign(&p, T_PAGE, len) != 0) {
        t_fail(__FILE__, __LINE__, "out of memory (%zu bytes)", len);
    }
    memset(p, 0, len);
    return p;
}

static struct t_hv *
thv_new(const struct t_opts *opts)
{
    struct t_hv *h = g_new0(struct t_hv, 1);

    h->hv.ops = &thv_ops;
    h->nr_vcpus = opts->vcpus ? opts->vcpus : 1;
    T_ASSERT(h->nr_vcpus <= T_MAX_VCPUS);
    h->sync = page_alloc(T_PAGE);
    h->buf = page_alloc(T_PAGE);
    h->ram_size = opts->ram_size ? opts->ram_size : 64ull << 20;
    /* Zero pages on demand: a big guest costs nothing until touched. A
     * memfd, so extra frames can be mapped beside RAM frames. */
    h->ram_fd = memfd_create("t-ram", MFD_CLOEXEC);
    T_ASSERT(h->ram_fd >= 0 && ftruncate(h->ram_fd, h->ram_size) == 0);
    h->ram = mmap(NULL, h->ram_size, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_NORESERVE, h->ram_fd, 0);
    T_ASSERT(h->ram != MAP_FAILED);
    h->pool_fd = memfd_create("t-extra", MFD_CLOEXEC);
    T_ASSERT(h->pool_fd >= 0 &&
             ftruncate(h->pool_fd, (off_t)T_POOL_FRAMES * T_PAGE) == 0);
    h->pool = mmap(NULL, (size_t)T_POOL_FRAMES * T_PAGE,
                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
                   h->pool_fd, 0);
    T_ASSERT(h->pool != MAP_FAILED);
    h->p2m = g_hash_table_new(g_direct_hash, g_direct_equal);
    h->holes = g_new0(uint8_t, h->ram_size / T_PAGE);
    h->ranges = g_array_new(FALSE, FALSE, sizeof(struct t_range));
    h->log = g_string_new(NULL);
    h->shutdown_reason = -1;
    h->xs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (const char *const *kv = opts->xenstore; kv && kv[0] && kv[1];
         kv += 2) {
        g_hash_table_insert(h->xs, g_strdup(kv[0]), g_strdup(kv[1]));
    }
    g_mutex_init(&h->pending_lock);
    h->evt_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    T_ASSERT(h->evt_fd >= 0);
    for (unsigned int v = 0; v < h->nr_vcpus; v++) {
        h->sync[v].vp_eport = T_VCPU_PORT0 + v;
    }
    return h;
}

/* ---- machine ---------------------------------------------------------- */

static struct dm_config *
t_config(const struct t_opts *opts, uint64_t ram_size)
{
    struct dm_config *cfg = g_new0(struct dm_config, 1);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *mem = g_strdup_printf("%" PRIu64, ram_size >> 20);
    char err[256];

    g_ptr_array_add(argv, "hvmdm");
    g_ptr_array_add(argv, "-xen-domid");
    g_ptr_array_add(argv, "1");
    g_ptr_array_add(argv, "-m");
    g_ptr_array_add(argv, mem);
    for (const char *const *a = opts->argv; a && *a; a++) {
        g_ptr_array_add(argv, (char *)*a);
    }
    g_ptr_array_add(argv, NULL);
    dm_config_defaults(cfg);
    if (dm_config_parse(cfg, (int)argv->len - 1, (char *const *)argv->pdata,
                        err, sizeof(err)) < 0) {
        t_fail(__FILE__, __LINE__, "machine options: %s", err);
    }
    return cfg;
}

struct t_machine *
t_machine_new(const struct t_opts *opts)
{
    struct t_machine *t = g_new0(struct t_machine, 1);
    struct dm *dm;

    t->hv = thv_new(opts);
    dm = dm_new(&t->hv->hv, t->hv->ram_size, opts->gm_buckets);
    dm->virtual_clock = true;
    t->dm = dm;
    T_ASSERT(dm_loop_init(dm) == 0);
    if (!opts->no_board) {
        dm->cfg = t_config(opts, t->hv->ram_size);
        if (board_init(dm, dm->cfg) < 0) {
            t_fail(__FILE__, __LINE__, "board_init failed");
        }
    }
    ioreq_svc_new(dm);
    return t;
}

void
t_machine_free(struct t_machine *t)
{
    struct dm_config *cfg = (struct dm_config *)t->dm->cfg;

    dm_free(t->dm);
    if (cfg) {
        dm_config_free(cfg);
        g_free(cfg);
    }
    thv_destroy(&t->hv->hv);
    g_free(t);
}

/* ---- the request path ------------------------------------------------- */

static void
slot_set_state(ioreq_t *slot, unsigned int state)
{
    uint8_t *flags = (uint8_t *)slot + 30;

    __atomic_store_n(flags, (uint8_t)((*flags & 0xf0) | state),
                     __ATOMIC_RELEASE);
}

static unsigned int
slot_state(ioreq_t *slot)
{
    return __atomic_load_n((uint8_t *)slot + 30, __ATOMIC_ACQUIRE) & 0xf;
}

ioreq_t *
t_slot(struct t_machine *t, unsigned int vcpu)
{
    T_ASSERT(vcpu < t->hv->nr_vcpus);
    return &t->hv->sync[vcpu];
}

ioreq_t
t_request(struct t_machine *t, const ioreq_t *req)
{
    struct t_hv *h = t->hv;
    ioreq_t *slot = &h->sync[t->vcpu];
    uint32_t port = slot->vp_eport;
    unsigned int notified = h->notified[port];
    ioreq_t done;

    T_EQ(slot_state(slot), STATE_IOREQ_NONE);
    memcpy(slot, req, sizeof(*slot));
    slot->vp_eport = port;
    slot->state = STATE_IOREQ_NONE;
    slot_set_state(slot, STATE_IOREQ_READY);
    thv_raise(h, (int)port, false);
    ioreq_svc_event(t->dm->ioreq);
    if (slot_state(slot) != STATE_IORESP_READY) {
        t_fail(__FILE__, __LINE__, "no response: slot state %u",
               slot_state(slot));
    }
    T_EQ(h->notified[port], notified + 1);
    T_EQ(slot->vp_eport, port);
    memcpy(&done, slot, sizeof(done));
    slot_set_state(slot, STATE_IOREQ_NONE);
    return done;
}

void
t_post_request(struct t_machine *t, unsigned int vcpu, const ioreq_t *req,
               bool raise)
{
    struct t_hv *h = t->hv;
    ioreq_t *slot;
    uint32_t port;

    T_ASSERT(vcpu < h->nr_vcpus);
    slot = &h->sync[vcpu];
    port = slot->vp_eport;
    T_EQ(slot_state(slot), STATE_IOREQ_NONE);
    memcpy(slot, req, sizeof(*slot));
    slot->vp_eport = port;
    slot->state = STATE_IOREQ_NONE;
    slot_set_state(slot, STATE_IOREQ_READY);
    if (raise) {
        thv_raise(h, (int)port, true);
    }
}

void
t_raise_port(struct t_machine *t, unsigned int vcpu)
{
    T_ASSERT(vcpu < t->hv->nr_vcpus);
    thv_raise(t->hv, (int)t->hv->sync[vcpu].vp_eport, true);
}

void
t_raise_buf_port(struct t_machine *t)
{
    thv_raise(t->hv, T_BUF_PORT, true);
}

bool
t_take_response(struct t_machine *t, unsigned int vcpu, ioreq_t *out)
{
    ioreq_t *slot;

    T_ASSERT(vcpu < t->hv->nr_vcpus);
    slot = &t->hv->sync[vcpu];
    if (slot_state(slot) != STATE_IORESP_READY) {
        return false;
    }
    memcpy(out, slot, sizeof(*out));
    slot_set_state(slot, STATE_IOREQ_NONE);
    return true;
}

unsigned int
t_notified(struct t_machine *t, unsigned int vcpu)
{
    T_ASSERT(vcpu < t->hv->nr_vcpus);
    return t->hv->notified[t->hv->sync[vcpu].vp_eport];
}

static uint64_t
t_io(struct t_machine *t, uint8_t type, uint64_t addr, unsigned int size,
     int dir, uint64_t data)
{
    ioreq_t req = { .addr = addr, .data = data, .count = 1, .size = size,
                    .type = type };
    ioreq_t done;

    req.dir = dir;
    done = t_request(t, &req);
    return done.data;
}

uint8_t
t_inb(struct t_machine *t, uint16_t port)
{
    return (uint8_t)t_io(t, IOREQ_TYPE_PIO, port, 1, IOREQ_READ, 0);
}

uint16_t
t_inw(struct t_machine *t, uint16_t port)
{
    return (uint16_t)t_io(t, IOREQ_TYPE_PIO, port, 2, IOREQ_READ, 0);
}

uint32_t
t_inl(struct t_machine *t, uint16_t port)
{
    return (uint32_t)t_io(t, IOREQ_TYPE_PIO, port, 4, IOREQ_READ, 0);
}

void
t_outb(struct t_machine *t, uint16_t port, uint8_t val)
{
    t_io(t, IOREQ_TYPE_PIO, port, 1, IOREQ_WRITE, val);
}

void
t_outw(struct t_machine *t, uint16_t port, uint16_t val)
{
    t_io(t, IOREQ_TYPE_PIO, port, 2, IOREQ_WRITE, val);
}

void
t_outl(struct t_machine *t, uint16_t port, uint32_t val)
{
    t_io(t, IOREQ_TYPE_PIO, port, 4, IOREQ_WRITE, val);
}

uint8_t
t_readb(struct t_machine *t, uint64_t addr)
{
    return (uint8_t)t_io(t, IOREQ_TYPE_COPY, addr, 1, IOREQ_READ, 0);
}

uint16_t
t_readw(struct t_machine *t, uint64_t addr)
{
    return (uint16_t)t_io(t, IOREQ_TYPE_COPY, addr, 2, IOREQ_READ, 0);
}

uint32_t
t_readl(struct t_machine *t, uint64_t addr)
{
    return (uint32_t)t_io(t, IOREQ_TYPE_COPY, addr, 4, IOREQ_READ, 0);
}

uint64_t
t_readq(struct t_machine *t, uint64_t addr)
{
    return t_io(t, IOREQ_TYPE_COPY, addr, 8, IOREQ_READ, 0);
}

void
t_writeb(struct t_machine *t, uint64_t addr, uint8_t val)
{
    t_io(t, IOREQ_TYPE_COPY, addr, 1, IOREQ_WRITE, val);
}

void
t_writew(struct t_machine *t, uint64_t addr, uint16_t val)
{
    t_io(t, IOREQ_TYPE_COPY, addr, 2, IOREQ_WRITE, val);
}

void
t_writel(struct t_machine *t, uint64_t addr, uint32_t val)
{
    t_io(t, IOREQ_TYPE_COPY, addr, 4, IOREQ_WRITE, val);
}

void
t_writeq(struct t_machine *t, uint64_t addr, uint64_t val)
{
    t_io(t, IOREQ_TYPE_COPY, addr, 8, IOREQ_WRITE, val);
}

/* ---- PCI configuration ------------------------------------------------ */

static uint32_t
cf8_address(unsigned int bdf, unsigned int reg)
{
    return 0x80000000u | (bdf & 0xffff) << 8 | (reg & 0xfc);
}

uint32_t
t_cfg_read(struct t_machine *t, unsigned int bdf, unsigned int reg,
           unsigned int size)
{
    uint16_t port = (uint16_t)(0xcfc + (reg & 3));

    t_outl(t, 0xcf8, cf8_address(bdf, reg));
    switch (size) {
    case 1:
        return t_inb(t, port);
    case 2:
        return t_inw(t, port);
    default:
        return t_inl(t, port);
    }
}

void
t_cfg_write(struct t_machine *t, unsigned int bdf, unsigned int reg,
            uint32_t val, unsigned int size)
{
    uint16_t port = (uint16_t)(0xcfc + (reg & 3));

    t_outl(t, 0xcf8, cf8_address(bdf, reg));
    switch (size) {
    case 1:
        t_outb(t, port, (uint8_t)val);
        break;
    case 2:
        t_outw(t, port, (uint16_t)val);
        break;
    default:
        t_outl(t, port, val);
        break;
    }
}

/* Xen's encoding (ioreq.h): SBDF in bits 63:32, the register below. */
uint32_t
t_pcicfg_read(struct t_machine *t, unsigned int bdf, unsigned int reg,
              unsigned int size)
{
    return (uint32_t)t_io(t, IOREQ_TYPE_PCI_CONFIG,
                          (uint64_t)(bdf & 0xffff) << 32 | reg, size,
                          IOREQ_READ, 0);
}

void
t_pcicfg_write(struct t_machine *t, unsigned int bdf, unsigned int reg,
               uint32_t val, unsigned int size)
{
    t_io(t, IOREQ_TYPE_PCI_CONFIG, (uint64_t)(bdf & 0xffff) << 32 | reg, size,
         IOREQ_WRITE, val);
}

/* ---- guest RAM -------------------------------------------------------- */

static void
ram_check(struct t_machine *t, uint64_t gpa, size_t len)
{
    if (gpa > t->hv->ram_size || len > t->hv->ram_size - gpa) {
        t_fail(__FILE__, __LINE__, "test RAM access 0x%" PRIx64 "+%zu "
               "beyond %" PRIu64 " bytes", gpa, len, t->hv->ram_size);
    }
}

static bool
in_ram(struct t_machine *t, uint64_t gpa, size_t len)
{
    return gpa <= t->hv->ram_size && len <= t->hv->ram_size - gpa &&
           !thv_range_has_extra(t->hv, gpa / T_PAGE,
                                (unsigned int)((gpa % T_PAGE + len +
                                                T_PAGE - 1) / T_PAGE));
}

/*
 * The guest CPU's view of one frame: RAM or an extra frame, whose write
 * sets the log-dirty bit of the tracked range as the p2m fault would.
 */
static uint8_t *
guest_frame(struct t_machine *t, uint64_t gfn, bool write)
{
    struct t_hv *h = t->hv;
    uint64_t x = thv_extra(h, gfn);

    if (!x) {
        ram_check(t, gfn * T_PAGE, T_PAGE);
        return h->ram + gfn * T_PAGE;
    }
    if (write && gfn >= h->track_gfn && gfn - h->track_gfn < h->track_nr) {
        h->track_dirty[gfn - h->track_gfn] = 1;
    }
    return h->pool + (x - 1) * T_PAGE;
}

/* op 0: write from buf, 1: read into buf, 2: fill with c. */
static void
guest_copy(struct t_machine *t, uint64_t gpa, uint8_t *buf, int c,
           size_t len, int op)
{
    while (len) {
        size_t off = gpa % T_PAGE, n = MIN(len, T_PAGE - off);
        uint8_t *p = guest_frame(t, gpa / T_PAGE, op != 1) + off;

        if (op == 0) {
            memcpy(p, buf, n);
        } else if (op == 1) {
            memcpy(buf, p, n);
        } else {
            memset(p, c, n);
        }
        gpa += n;
        len -= n;
        buf = buf ? buf + n : NULL;
    }
}

void
t_memwrite(struct t_machine *t, uint64_t gpa, const void *buf, size_t len)
{
    if (!in_ram(t, gpa, len)) {
        guest_copy(t, gpa, (uint8_t *)buf, 0, len, 0);
        return;
    }
    memcpy(t->hv->ram + gpa, buf, len);
}

void
t_memread(struct t_machine *t, uint64_t gpa, void *buf, size_t len)
{
    if (!in_ram(t, gpa, len)) {
        guest_copy(t, gpa, buf, 0, len, 1);
        return;
    }
    memcpy(buf, t->hv->ram + gpa, len);
}

void
t_memset(struct t_machine *t, uint64_t gpa, int c, size_t len)
{
    if (!in_ram(t, gpa, len)) {
        guest_copy(t, gpa, NULL, c, len, 2);
        return;
    }
    memset(t->hv->ram + gpa, c, len);
}

void
t_hv_set_logdirty(struct t_machine *t, bool on)
{
    t->hv->logdirty_global = on;
}

bool
t_gfn_extra(struct t_machine *t, uint64_t gfn)
{
    return thv_extra(t->hv, gfn) != 0;
}

uint8_t *
t_ram(struct t_machine *t)
{
    return t->hv->ram;
}

uint64_t
t_ram_size(struct t_machine *t)
{
    return t->hv->ram_size;
}

void
t_ram_hole(struct t_machine *t, uint64_t gpa, uint64_t len)
{
    for (uint64_t p = gpa / T_PAGE; p * T_PAGE < gpa + len &&
         p < t->hv->ram_size / T_PAGE; p++) {
        t->hv->holes[p] = 1;
    }
}

uint64_t
t_mapped_pages(struct t_machine *t, uint64_t *peak)
{
    if (peak) {
        *peak = t->hv->peak_mapped_pages;
    }
    return t->hv->mapped_pages;
}

/* ---- string forms ----------------------------------------------------- */

static void
t_rep(struct t_machine *t, uint8_t type, uint64_t addr, unsigned int size,
      uint64_t gpa, uint32_t count, bool df, int dir)
{
    ioreq_t req = { .addr = addr, .data = gpa, .count = count, .size = size,
                    .type = type };

    req.data_is_ptr = 1;
    req.df = df;
    req.dir = dir;
    t_request(t, &req);
}

void
t_ins(struct t_machine *t, uint16_t port, unsigned int size, uint64_t gpa,
      uint32_t count, bool df)
{
    t_rep(t, IOREQ_TYPE_PIO, port, size, gpa, count, df, IOREQ_READ);
}

void
t_outs(struct t_machine *t, uint16_t port, unsigned int size, uint64_t gpa,
       uint32_t count, bool df)
{
    t_rep(t, IOREQ_TYPE_PIO, port, size, gpa, count, df, IOREQ_WRITE);
}

void
t_movs_from_mmio(struct t_machine *t, uint64_t mmio, unsigned int size,
                 uint64_t gpa, uint32_t count, bool df)
{
    t_rep(t, IOREQ_TYPE_COPY, mmio, size, gpa, count, df, IOREQ_READ);
}

void
t_movs_to_mmio(struct t_machine *t, uint64_t mmio, unsigned int size,
               uint64_t gpa, uint32_t count, bool df)
{
    t_rep(t, IOREQ_TYPE_COPY, mmio, size, gpa, count, df, IOREQ_WRITE);
}

/* ---- buffered ring (Xen's producer side, X:ioreq_send_buffered) ------- */

static void
buf_slot_put(buffered_iopage_t *bp, uint32_t index, uint32_t w0, uint32_t w1)
{
    uint32_t w[2] = { w0, w1 };

    memcpy(&bp->buf_ioreq[index % IOREQ_BUFFER_SLOT_NUM], w, sizeof(w));
}

bool
t_buf_push(struct t_machine *t, uint32_t addr, unsigned int size,
           uint64_t data)
{
    buffered_iopage_t *bp = t->hv->buf;
    uint32_t code = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    uint32_t qw = size == 8;
    uint32_t w0 = IOREQ_TYPE_COPY | code << 10 | (addr & 0xfffff) << 12;
    uint32_t rp = __atomic_load_n(&bp->read_pointer, __ATOMIC_ACQUIRE);
    uint32_t wp = bp->write_pointer;

    if (wp - rp >= IOREQ_BUFFER_SLOT_NUM - qw) {
        return false;       /* full: Xen falls back to a sync request */
    }
    buf_slot_put(bp, wp, w0, (uint32_t)data);
    if (qw) {
        buf_slot_put(bp, wp + 1, w0, (uint32_t)(data >> 32));
    }
    __atomic_store_n(&bp->write_pointer, wp + 1 + qw, __ATOMIC_RELEASE);
    return true;
}

void
t_buf_kick(struct t_machine *t)
{
    thv_raise(t->hv, T_BUF_PORT, false);
    ioreq_svc_event(t->dm->ioreq);
}

uint32_t
t_buf_read_pointer(struct t_machine *t)
{
    return __atomic_load_n(&t->hv->buf->read_pointer, __ATOMIC_ACQUIRE);
}

void
t_buf_set_pointers(struct t_machine *t, uint32_t rp, uint32_t wp)
{
    t->hv->buf->read_pointer = rp;
    t->hv->buf->write_pointer = wp;
}

/* ---- observation ------------------------------------------------------ */

int
t_isa_irq(struct t_machine *t, unsigned int irq)
{
    return irq < 16 ? t->hv->isa[irq] : -1;
}

int
t_pci_intx(struct t_machine *t, unsigned int dev, unsigned int intx)
{
    return dev < 32 && intx < 4 ? t->hv->intx[dev][intx] : -1;
}

int
t_link_route(struct t_machine *t, unsigned int link)
{
    return link < 4 ? t->hv->link[link] : -1;
}

unsigned int
t_hv_count(struct t_machine *t, const char *prefix)
{
    g_auto(GStrv) lines = g_strsplit(t->hv->log->str, "\n", -1);
    unsigned int n = 0;

    for (char **l = lines; *l; l++) {
        n += **l && g_str_has_prefix(*l, prefix);
    }
    return n;
}

const char *
t_hv_log(struct t_machine *t)
{
    return t->hv->log->str;
}

void
t_hv_log_clear(struct t_machine *t)
{
    g_string_truncate(t->hv->log, 0);
}

int
t_shutdown_reason(struct t_machine *t)
{
    return t->hv->shutdown_reason;
}

struct dm_dev *
t_find_dev(struct t_machine *t, const char *name)
{
    struct dm_dev *d;

    for (d = t->dm->devs; d; d = d->next) {
        if (strcmp(d->ops->name, name) == 0) {
            return d;
        }
    }
    return NULL;
}

void
t_state_round_trip(struct t_machine *from, struct t_machine *to)
{
    uint8_t *img, *img2;
    size_t len, len2;

    T_EQ(dm_save_all(from->dm, &img, &len), 0);
    T_EQ(dm_load_all(to->dm, img, len), 0);
    T_EQ(dm_save_all(to->dm, &img2, &len2), 0);
    T_EQ(len2, len);
    T_ASSERT(memcmp(img, img2, len) == 0);
    g_free(img);
    g_free(img2);
}

/* ---- time and completions --------------------------------------------- */

void
t_clock_step(struct t_machine *t, uint64_t ns)
{
    struct dm *dm = t->dm;
    uint64_t target = dm->virtual_ns + ns;

    dm_run_posted(dm);
    while (dm_timers_next_deadline(dm) <= target) {
        uint64_t next = dm_timers_next_deadline(dm);

        if (next > dm->virtual_ns) {
            dm->virtual_ns = next;
        }
        dm_timers_run(dm);
        dm_run_posted(dm);
    }
    dm->virtual_ns = target;
}

uint64_t
t_clock_ns(struct t_machine *t)
{
    return t->dm->virtual_ns;
}

/* How long t_settle waits for quiet: 20 x 1 ms (fuzzers choose less). */
static unsigned int settle_quiet_us = 1000;
static unsigned int settle_quiet_polls = 20;

void
t_set_settle_quiet(unsigned int us, unsigned int polls)
{
    settle_quiet_us = us;
    settle_quiet_polls = polls ? polls : 1;
}

void
t_settle(struct t_machine *t)
{
    unsigned int idle = 0, rounds;

    /* Worker threads and backend fds: iterate until quiet (~20 ms by
     * default) with no block request in flight (a flush on a loaded host
     * takes longer than that), for at most 10000 rounds. */
    for (rounds = 0; rounds < 10000 &&
         (idle < settle_quiet_polls || t->dm->aio_in_flight); rounds++) {
        bool did = g_main_context_iteration(NULL, FALSE);

        did |= dm_run_posted(t->dm) > 0;
        if (did) {
            idle = 0;
        } else {
            idle++;
            if (settle_quiet_us) {
                g_usleep(settle_quiet_us);
            } else {
                g_thread_yield();
            }
        }
    }
}

int
t_sh(const char *fmt, ...)
{
    gchar *out = NULL, *errs = NULL, *cmd;
    gint status = -1;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!g_spawn_command_line_sync(cmd, &out, &errs, &status, NULL)) {
        status = -1;
    } else if (WIFEXITED(status)) {
        status = WEXITSTATUS(status);
    }
    if (status) {
        fprintf(stderr, "$ %s -> %d\n%s%s", cmd, status, out, errs);
    }
    g_free(out);
    g_free(errs);
    g_free(cmd);
    return status;
}
