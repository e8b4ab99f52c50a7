/*
 * The machine harness, a qtest-like API in which the test plays the guest
 * CPU. Every access is built as a real ioreq_t in the vCPU's slot (or the
 * buffered ring), the event channel is raised, and the production ioreq
 * service handles it; the harness then plays Xen's side of the state machine.
 * Guest RAM is a host buffer behind the test hypervisor's map calls, IRQ
 * levels and hypervisor calls are recorded, time is virtual.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/hvm/ioreq.h> /* ioreq_t, for raw requests */

struct dm;

struct t_opts {
    uint64_t ram_size;          /* default 64 MiB */
    unsigned int vcpus;         /* default 1 */
    unsigned int gm_buckets;    /* map cache cap; default GM_DEFAULT_BUCKETS */
    bool no_board;              /* core only: no devices */
    const char *const *argv;    /* extra machine options, NULL-terminated */
    /* xenstore nodes before the board starts: path, value, ..., NULL */
    const char *const *xenstore;
};

/* A recorded hypervisor call, e.g. "isa_irq 4 1" or "link_route 0 10". */
#define T_HV_LOG_MAX 4096

struct t_machine {
    struct dm *dm;
    struct t_hv *hv;
    unsigned int vcpu;          /* vCPU the next request comes from */
};

struct t_machine *t_machine_new(const struct t_opts *opts);
void t_machine_free(struct t_machine *t);

/* Port I/O. */
void t_outb(struct t_machine *t, uint16_t port, uint8_t val);
void t_outw(struct t_machine *t, uint16_t port, uint16_t val);
void t_outl(struct t_machine *t, uint16_t port, uint32_t val);
uint8_t t_inb(struct t_machine *t, uint16_t port);
uint16_t t_inw(struct t_machine *t, uint16_t port);
uint32_t t_inl(struct t_machine *t, uint16_t port);

/* MMIO (IOREQ_TYPE_COPY) at every width. */
uint8_t t_readb(struct t_machine *t, uint64_t addr);
uint16_t t_readw(struct t_machine *t, uint64_t addr);
uint32_t t_readl(struct t_machine *t, uint64_t addr);
uint64_t t_readq(struct t_machine *t, uint64_t addr);
void t_writeb(struct t_machine *t, uint64_t addr, uint8_t val);
void t_writew(struct t_machine *t, uint64_t addr, uint16_t val);
void t_writel(struct t_machine *t, uint64_t addr, uint32_t val);
void t_writeq(struct t_machine *t, uint64_t addr, uint64_t val);

/* PCI config through 0xCF8/0xCFC port I/O, as a driver without Xen's help. */
uint32_t t_cfg_read(struct t_machine *t, unsigned int bdf, unsigned int reg,
                    unsigned int size);
void t_cfg_write(struct t_machine *t, unsigned int bdf, unsigned int reg,
                 uint32_t val, unsigned int size);
/* PCI config through IOREQ_TYPE_PCI_CONFIG, as Xen converts it. */
uint32_t t_pcicfg_read(struct t_machine *t, unsigned int bdf,
                       unsigned int reg, unsigned int size);
void t_pcicfg_write(struct t_machine *t, unsigned int bdf, unsigned int reg,
                    uint32_t val, unsigned int size);

/* Guest RAM, directly (what the guest CPU would write). */
void t_memwrite(struct t_machine *t, uint64_t gpa, const void *buf,
                size_t len);
void t_memread(struct t_machine *t, uint64_t gpa, void *buf, size_t len);
void t_memset(struct t_machine *t, uint64_t gpa, int c, size_t len);
uint8_t *t_ram(struct t_machine *t);
uint64_t t_ram_size(struct t_machine *t);
/* Make guest frames unpopulated: mapping them fails like Xen's would. */
void t_ram_hole(struct t_machine *t, uint64_t gpa, uint64_t len);
/* Extra RAM (VRAM): is gfn populated by the device model? Writes through
 * t_memwrite/t_memset there are guest CPU writes (log-dirty). */
bool t_gfn_extra(struct t_machine *t, uint64_t gfn);
/* Migration's log-dirty is on: track_dirty_vram answers ENODATA. */
void t_hv_set_logdirty(struct t_machine *t, bool on);
/* Guest frames the map cache holds mapped now (and the peak). */
uint64_t t_mapped_pages(struct t_machine *t, uint64_t *peak);

/* REP INS/OUTS with data_is_ptr: count elements at gpa (df: descending). */
void t_ins(struct t_machine *t, uint16_t port, unsigned int size,
           uint64_t gpa, uint32_t count, bool df);
void t_outs(struct t_machine *t, uint16_t port, unsigned int size,
            uint64_t gpa, uint32_t count, bool df);
/* REP MOVS between MMIO and RAM (COPY, data_is_ptr). */
void t_movs_from_mmio(struct t_machine *t, uint64_t mmio, unsigned int size,
                      uint64_t gpa, uint32_t count, bool df);
void t_movs_to_mmio(struct t_machine *t, uint64_t mmio, unsigned int size,
                    uint64_t gpa, uint32_t count, bool df);

/* The vCPU's synchronous slot in the shared page (state-machine tests). */
ioreq_t *t_slot(struct t_machine *t, unsigned int vcpu);
/* Raw synchronous request: fills slot, kicks, returns the completed slot. */
ioreq_t t_request(struct t_machine *t, const ioreq_t *req);
/*
 * Xen's side without running the service: fill vCPU vcpu's slot and set
 * READY, raising its port on the event-channel fd if raise (the loop's
 * fast path serves it). Thread-safe against the loop thread.
 */
void t_post_request(struct t_machine *t, unsigned int vcpu, const ioreq_t *req,
                    bool raise);
void t_raise_port(struct t_machine *t, unsigned int vcpu);
void t_raise_buf_port(struct t_machine *t);
/* IORESP_READY: copy the slot out and set it back to NONE. */
bool t_take_response(struct t_machine *t, unsigned int vcpu, ioreq_t *out);
/* Notifications the service sent on vCPU vcpu's port. */
unsigned int t_notified(struct t_machine *t, unsigned int vcpu);
/* Buffered ring: queue a write (size 8 takes two slots), then kick. */
bool t_buf_push(struct t_machine *t, uint32_t addr, unsigned int size,
                uint64_t data);
void t_buf_kick(struct t_machine *t);
uint32_t t_buf_read_pointer(struct t_machine *t);
/* Start the ring at arbitrary pointers (wrap tests). */
void t_buf_set_pointers(struct t_machine *t, uint32_t rp, uint32_t wp);

/* Interrupt lines as the hypervisor sees them. */
int t_isa_irq(struct t_machine *t, unsigned int irq);
int t_pci_intx(struct t_machine *t, unsigned int dev, unsigned int intx);
int t_link_route(struct t_machine *t, unsigned int link);
/* Count of hypervisor calls whose log line starts with prefix. */
unsigned int t_hv_count(struct t_machine *t, const char *prefix);
/* The whole hypervisor call log, one call per line. */
const char *t_hv_log(struct t_machine *t);
void t_hv_log_clear(struct t_machine *t);
/* Shutdown requests seen: -1 none, else the last reason. */
int t_shutdown_reason(struct t_machine *t);

/* Virtual clock: advance and run expired timers and posted completions. */
void t_clock_step(struct t_machine *t, uint64_t ns);
uint64_t t_clock_ns(struct t_machine *t);
/* Run posted completions until none are left (worker threads' results). */
void t_settle(struct t_machine *t);
/* Run a shell command; its exit status (-1: could not run). Its output
 * goes to stderr when it fails. */
int t_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* t_settle's quiet period: polls (20) this many microseconds (1000)
 * apart, 0: a yield apart; the fuzzers trade certainty for speed. */
void t_set_settle_quiet(unsigned int us, unsigned int polls);

/* The registered device with this name (first instance), or NULL. */
struct dm_dev *t_find_dev(struct t_machine *t, const char *name);
/*
 * Rule 13's round trip: save every device of from, load the image into to
 * (a fresh machine built the same way), save to and compare the bytes.
 */
void t_state_round_trip(struct t_machine *from, struct t_machine *to);

/* Replay a line-oriented script (see tests/replay.c); 0 on success. */
int t_replay_file(struct t_machine *t, const char *path, char *err,
                  size_t errlen);
int t_replay_string(struct t_machine *t, const char *script, char *err,
                    size_t errlen);

#endif
