/*
 * The hypervisor interface as one ops table. Two implementations: Xen's
 * stable libraries (dm/hv-xen.c) and the in-process test hypervisor
 * (tests/harness.c, bench/). Everything else in hvmdm reaches the hypervisor
 * only through these calls.
 */
#ifndef DM_HV_H
#define DM_HV_H

#include <stddef.h>
#include <stdint.h>

struct hv;

/* xen/sched.h SHUTDOWN_* reasons, as passed to XEN_DMOP_remote_shutdown. */
enum hv_shutdown_reason {
    HV_SHUTDOWN_POWEROFF = 0,
    HV_SHUTDOWN_REBOOT = 1,
    HV_SHUTDOWN_SUSPEND = 2,
    HV_SHUTDOWN_CRASH = 3,
};

/* hvm_op.h hvmmem_type_t values a device model sets (XEN_DMOP_set_mem_type). */
enum hv_mem_type {
    HV_MEM_RAM_RW = 0,  /* HVMMEM_ram_rw */
    HV_MEM_RAM_RO = 1,  /* HVMMEM_ram_ro: writes are discarded */
};

enum hv_io_space {
    HV_IO_PORT = 0,   /* XEN_DMOP_IO_RANGE_PORT */
    HV_IO_MMIO = 1,   /* XEN_DMOP_IO_RANGE_MEMORY */
};

struct hv_ops {
    const char *name;

    /*
     * The ioreq pages. Valid after hv creation; the buffered page may be
     * NULL (no buffered ring).
     */
    void *(*sync_page)(struct hv *hv);
    void *(*buf_page)(struct hv *hv);
    unsigned int (*nr_vcpus)(struct hv *hv);

    /*
     * Event channels. Local port numbers: one per vCPU plus the buffered
     * one. pending() returns the next pending local port or -1.
     */
    int (*evtchn_fd)(struct hv *hv);
    int (*evtchn_pending)(struct hv *hv);
    /* 0, or -errno: the port then stays masked. */
    int (*evtchn_unmask)(struct hv *hv, int port);
    void (*evtchn_notify)(struct hv *hv, int port);
    int (*vcpu_port)(struct hv *hv, unsigned int vcpu);
    int (*buf_port)(struct hv *hv);

    /* ioreq server routing: [start, end] inclusive, like XEN_DMOP. */
    int (*map_io_range)(struct hv *hv, enum hv_io_space space,
                        uint64_t start, uint64_t end);
    int (*unmap_io_range)(struct hv *hv, enum hv_io_space space,
                          uint64_t start, uint64_t end);
    int (*map_pcidev)(struct hv *hv, unsigned int bus, unsigned int dev,
                      unsigned int fn);
    int (*unmap_pcidev)(struct hv *hv, unsigned int bus, unsigned int dev,
                        unsigned int fn);

    /* Interrupts (xen-dm-interface.md 2.3). */
    int (*set_isa_irq)(struct hv *hv, unsigned int irq, int level);
    int (*set_pci_intx)(struct hv *hv, unsigned int dev, unsigned int intx,
                        int level);
    int (*set_pci_link_route)(struct hv *hv, unsigned int link,
                              unsigned int isa_irq);
    int (*inject_msi)(struct hv *hv, uint64_t addr, uint32_t data);

    /*
     * Guest memory: map nr frames starting at gfn. err[i] receives 0 or a
     * negative errno per frame; the call returns NULL only if nothing could
     * be mapped at all.
     */
    void *(*map_guest)(struct hv *hv, uint64_t gfn, unsigned int nr,
                       int writable, int *err);
    void (*unmap_guest)(struct hv *hv, void *addr, unsigned int nr);
    int (*modified_memory)(struct hv *hv, uint64_t gfn, uint64_t nr);

    /*
     * Guest RAM the device model adds itself: VRAM (xen-dm-interface.md
     * 2.5). populate_ram allocates nr frames at gfn in the guest; the
     * frames then move with relocate_memory (src to dst, frame by frame)
     * and get a pinned cache attribute for [start, end] (inclusive, like
     * XEN_DMOP_pin_memory_cacheattr). track_dirty_vram returns and clears
     * the dirty bits of the one tracked range (a new range reports every
     * page dirty; nr 0 stops tracking; -ENODATA: no log, treat all as
     * dirty). These may be NULL (a backend without extra RAM): -ENOSYS.
     */
    int (*populate_ram)(struct hv *hv, uint64_t gfn, uint64_t nr);
    int (*relocate_memory)(struct hv *hv, uint64_t src_gfn, uint64_t dst_gfn,
                           uint32_t nr);
    int (*pin_cacheattr)(struct hv *hv, uint64_t start, uint64_t end,
                         uint32_t type);
    int (*track_dirty_vram)(struct hv *hv, uint64_t gfn, uint32_t nr,
                            unsigned long *bitmap);

    int (*shutdown)(struct hv *hv, enum hv_shutdown_reason reason);
    int (*set_acpi_s_state)(struct hv *hv, unsigned int state);
    /* Optional: press the ACPI power button (PWRBTN_STS in the PM1a event
     * block, which the hypervisor emulates). */
    int (*power_button)(struct hv *hv);
    /* Optional (NULL: not supported). Type of nr guest frames at gfn. */
    int (*set_mem_type)(struct hv *hv, enum hv_mem_type type, uint64_t gfn,
                        uint32_t nr);
    /* Optional (NULL or no xenstore: NULL). A g_malloc'd copy of the
     * xenstore node at path, or NULL when it is absent or unreadable. */
    char *(*xs_read)(struct hv *hv, const char *path);
    /* Tell the toolstack the device model is ready (xenstore state). */
    int (*set_running)(struct hv *hv);
    void (*destroy)(struct hv *hv);
};

struct hv {
    const struct hv_ops *ops;
};

/* XEN_DMOP_MEM_CACHEATTR_WB (xen/hvm/dm_op.h). */
#define HV_CACHEATTR_WB 6

#endif
