/*
 * The machine: everything one hvmdm instance serves for one domain. Device
 * state lives in the devices' own structs hanging off this; nothing a guest
 * can reach is global.
 */
#ifndef DM_MACHINE_H
#define DM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "dm/dev.h"
#include "dm/hv.h"
#include "dm/irq.h"
#include "dm/timer.h"

struct iomap;
struct gmem;
struct ioreq_svc;
struct dm_loop;
struct dm_config;
struct board;

/* PCI configuration access as routed by IOREQ_TYPE_PCI_CONFIG. */
struct dm_pci_cfg_ops {
    /* bdf = bus << 8 | devfn; reg < 256; size 1, 2 or 4, naturally aligned */
    uint32_t (*read)(void *opaque, uint16_t bdf, uint16_t reg,
                     unsigned int size);
    void (*write)(void *opaque, uint16_t bdf, uint16_t reg, uint32_t val,
                  unsigned int size);
};

/* 2^40 s (35,000 years): any RTC moved by it still fits a time_t. */
#define DM_RTC_OFFSET_MAX ((int64_t)1 << 40)

struct dm {
    struct hv *hv;
    struct iomap *pio;
    struct iomap *mmio;
    struct gmem *gm;
    struct ioreq_svc *ioreq;
    struct dm_loop *loop;
    const struct dm_config *cfg;    /* may be NULL (core-only tests) */
    struct board *board;

    const struct dm_pci_cfg_ops *pci_cfg;
    void *pci_cfg_opaque;

    struct dm_irq irq;
    struct dm_timer *timers;        /* sorted by deadline */
    bool virtual_clock;
    uint64_t virtual_ns;

    struct dm_dev *devs;
    struct dm_dev *devs_tail;

    /* IOREQ_TYPE_TIMEOFFSET: seconds the guest moved its RTC, cumulative,
     * saturated at +-DM_RTC_OFFSET_MAX. */
    int64_t rtc_timeoffset;
    uint64_t ram_size;              /* guest RAM bytes (-m) */
    uint64_t extra_first_gfn;       /* dm_extra_frames hands out */
    uint64_t extra_next_gfn;        /* [first, next); 0: none given */
    /* Block requests submitted and not yet completed (block/aio.c), so
     * the test harness can wait for them; loop thread only. */
    unsigned int aio_in_flight;

    /* A reset or power-off already sent to the hypervisor: it goes out at
     * once, so before the vCPU that caused it runs again
     * (xen-dm-interface.md 1.4 step 6), and only once. */
    bool shutdown_pending;
    enum hv_shutdown_reason shutdown_reason;
};

/* Build the machine's core on an already created hypervisor backend. */
struct dm *dm_new(struct hv *hv, uint64_t ram_size, unsigned int gm_buckets);
void dm_free(struct dm *dm);

void dm_set_pci_cfg(struct dm *dm, const struct dm_pci_cfg_ops *ops,
                    void *opaque);
/*
 * Guest frames above guest RAM for memory a device populates itself (VRAM,
 * option ROM copies; xen-dm-interface.md 2.5): nr frames, handed out in
 * call order from the end of RAM (skipping the below-4G MMIO hole), as
 * QEMU's RAM blocks follow its RAM. Returns the first frame.
 */
uint64_t dm_extra_frames(struct dm *dm, uint64_t nr);
/* Low RAM ends here: the first frame of the below-4G MMIO hole. */
uint64_t dm_low_ram_end_gfn(const struct dm *dm);

/* Devices call this for reboot/power-off/suspend. */
void dm_request_shutdown(struct dm *dm, enum hv_shutdown_reason reason);

#endif
