/*
 * 16550A UART, after the National/TI PC16550D datasheet ("PC16550D
 * Universal Asynchronous Receiver/Transmitter with FIFOs", SNLS378):
 * register summary in Table II, interrupt control in Table IV, the
 * registers in section 8 (8.1 LCR, 8.3 divisor latch, 8.4 LSR, 8.5 FCR,
 * 8.6 IIR, 8.7 IER, 8.8 MCR, 8.9 MSR, 8.10 SCR, 8.11 FIFO interrupt mode).
 *
 * Transmission does not wait for the emulated baud rate: a byte written to
 * THR goes to the character backend at once, and stays in the XMIT FIFO
 * (THRE/TEMT clear) only while the backend reports busy. Received bytes are
 * taken from the backend only while the RCVR FIFO has room, so the backend
 * never overruns it. The character timeout indication is timed from the
 * programmed baud rate and frame format.
 *
 * On the PC the UART's interrupt output reaches the PIC through a gate
 * driven by MCR.OUT2; the IRQ line is asserted only with OUT2 set.
 */
#include "hw/uart/uart16550.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dm/chardev.h"  /* dm_chardev_write, dm_chardev_accept_input */
#include "dm/config.h"   /* cfg->serial[] */
#include "dm/dev.h"      /* dm_dev_register */
#include "dm/iomap.h"    /* iomap_region_init, iomap_add */
#include "dm/irq.h"      /* dm_isa_irq_set */
#include "dm/log.h"      /* GUEST_ERR, DM_ERR */
#include "dm/machine.h"
#include "dm/timer.h"    /* character timeout */

#define UART_NR_PORTS   8
#define UART_FIFO_LEN   16
/* The PC's UART clock: baud = 1.8432 MHz / (16 * divisor) (8.3). */
#define UART_CLOCK_HZ   1843200u
#define UART_RESET_DIVISOR 12   /* 9600 baud until the guest programs it */

/* Register indexes: the eight port offsets (Table II), then the divisor
 * latch that offsets 0 and 1 select while LCR.DLAB is set. */
enum uart_reg_index {
    UART_RBR = 0,   /* read: receiver buffer; write: THR */
    UART_IER = 1,
    UART_IIR = 2,   /* read: IIR; write: FCR */
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
    UART_DLL = 8,
    UART_DLM = 9,
    UART_NR_REGS,
};

/* IER (8.7): bits 7:4 are always 0. */
#define IER_ERBFI   0x01    /* received data available (and timeout) */
#define IER_ETBEI   0x02    /* transmitter holding register empty */
#define IER_ELSI    0x04    /* receiver line status */
#define IER_EDSSI   0x08    /* modem status */
#define IER_MASK    0x0f

/* IIR (8.6, Table IV): bits 5:4 are always 0 on the 16550A. */
#define IIR_NO_INT  0x01
#define IIR_MSI     0x00    /* 4th: modem status */
#define IIR_THRI    0x02    /* 3rd: THR empty */
#define IIR_RDI     0x04    /* 2nd: received data available */
#define IIR_RLSI    0x06    /* 1st: receiver line status */
#define IIR_CTI     0x0c    /* 2nd: character timeout (FIFO mode) */
#define IIR_FIFOS   0xc0    /* FCR0 is set */

/* FCR (8.5), write only. */
#define FCR_FE      0x01    /* FIFO enable; other bits need it set */
#define FCR_RFR     0x02    /* RCVR FIFO reset, self-clearing */
#define FCR_XFR     0x04    /* XMIT FIFO reset, self-clearing */
#define FCR_DMS     0x08    /* DMA mode select: no DMA on the PC */
#define FCR_RT      0xc0    /* RCVR trigger level */
#define FCR_MASK    (FCR_FE | FCR_DMS | FCR_RT)    /* what is kept */

/* LCR (8.1). */
#define LCR_WLS     0x03    /* word length - 5 */
#define LCR_STB     0x04    /* 2 stop bits (1.5 with 5-bit words) */
#define LCR_PEN     0x08    /* parity enable */
#define LCR_DLAB    0x80

/* MCR (8.8): bits 7:5 are always 0. */
#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08    /* PC: IRQ gate */
#define MCR_LOOP    0x10
#define MCR_MASK    0x1f

/* LSR (8.4). */
#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_PE      0x04
#define LSR_FE      0x08
#define LSR_BI      0x10
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define LSR_ERRORS  (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

/* MSR (8.9): deltas in 3:0, the modem inputs in 7:4. */
#define MSR_DCTS    0x01
#define MSR_DDSR    0x02
#define MSR_TERI    0x04
#define MSR_DDCD    0x08
#define MSR_DELTAS  0x0f
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80
#define MSR_INPUTS  0xf0

struct uart_fifo {
    uint8_t data[UART_FIFO_LEN];
    uint8_t head;
    uint8_t count;
};

struct uart {
    struct dm *dm;
    struct dm_dev dev;
    struct iomap_region region;
    struct dm_timer timeout;        /* character timeout indication */
    struct dm_chardev *chr;
    unsigned int irq;
    char name[16];                  /* "serial0", also the chardev label */

    struct uart_fifo rx;            /* +0 RBR: RCVR FIFO (1 deep: 16450) */
    struct uart_fifo tx;            /* +0 THR: XMIT FIFO (1 deep: 16450) */
    uint8_t ier;                    /* +1 */
    uint8_t fcr;                    /* +2 (write) FCR_MASK bits */
    uint8_t lcr;                    /* +3 */
    uint8_t mcr;                    /* +4 */
    uint8_t lsr_err;                /* +5 LSR_ERRORS until LSR is read */
    uint8_t msr;                    /* +6 */
    uint8_t scr;                    /* +7 */
    uint8_t dll;                    /* +0 with DLAB */
    uint8_t dlm;                    /* +1 with DLAB */
    bool thr_ipending;              /* THRE interrupt latched (8.6) */
    bool timeout_ipending;          /* character timeout latched (8.11) */
    bool irq_level;                 /* what this UART drives on its IRQ */
};

/* --- FIFOs ------------------------------------------------------------ */

static bool
uart_fifo_mode(const struct uart *s)
{
    return (s->fcr & FCR_FE) != 0;
}

/* In 16450 mode RBR and THR each hold one character. */
static unsigned int
uart_fifo_cap(const struct uart *s)
{
    return uart_fifo_mode(s) ? UART_FIFO_LEN : 1;
}

static void
uart_fifo_push(struct uart_fifo *f, uint8_t v)
{
    f->data[(f->head + f->count) % UART_FIFO_LEN] = v;
    f->count++;
}

static uint8_t
uart_fifo_pop(struct uart_fifo *f)
{
    uint8_t v = f->data[f->head];

    f->head = (f->head + 1) % UART_FIFO_LEN;
    f->count--;
    return v;
}

static void
uart_fifo_clear(struct uart_fifo *f)
{
    memset(f, 0, sizeof(*f));
}

/* FCR bits 7:6 select 1, 4, 8 or 14 characters (8.5). */
static unsigned int
uart_rx_trigger(const struct uart *s)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };

    return levels[(s->fcr & FCR_RT) >> 6];
}

/* --- interrupts (Table IV) -------------------------------------------- */

static bool
uart_rx_data_available(const struct uart *s)
{
    if (uart_fifo_mode(s)) {
        return s->rx.count >= uart_rx_trigger(s);
    }
    return s->rx.count > 0;
}

/* The highest-priority enabled source, as IIR bits 3:0. */
static uint8_t
uart_iir_id(const struct uart *s)
{
    if ((s->ier & IER_ELSI) && (s->lsr_err & LSR_ERRORS)) {
        return IIR_RLSI;
    }
    if ((s->ier & IER_ERBFI) && uart_rx_data_available(s)) {
        return IIR_RDI;
    }
    if ((s->ier & IER_ERBFI) && s->timeout_ipending) {
        return IIR_CTI;
    }
    if ((s->ier & IER_ETBEI) && s->thr_ipending) {
        return IIR_THRI;
    }
    if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS)) {
        return IIR_MSI;
    }
    return IIR_NO_INT;
}

/* Drive the line only on a change: a UART whose OUT2 gate is closed
 * leaves a shared IRQ (COM1/COM3) to the other one. */
static void
uart_update_irq(struct uart *s)
{
    bool level = uart_iir_id(s) != IIR_NO_INT && (s->mcr & MCR_OUT2);

    if (level != s->irq_level) {
        s->irq_level = level;
        dm_isa_irq_set(s->dm, s->irq, level);
    }
}

/* --- character timeout (8.11) ------------------------------------------ */

/* One character time: start bit, data, parity and stop bits. */
static uint64_t
uart_char_ns(const struct uart *s)
{
    unsigned int divisor = (unsigned int)s->dlm << 8 | s->dll;
    unsigned int word = 5 + (s->lcr & LCR_WLS);
    unsigned int half_bits = 2 * (1 + word + ((s->lcr & LCR_PEN) ? 1 : 0));

    if (s->lcr & LCR_STB) {
        half_bits += word == 5 ? 3 : 4;
    } else {
        half_bits += 2;
    }
    if (divisor == 0) {
        divisor = 0x10000;  /* no defined rate: take the slowest */
    }
    return (uint64_t)half_bits * divisor * 16 * 1000000000ull /
           (2ull * UART_CLOCK_HZ);
}

/* Restart the 4-character timer after RCVR FIFO activity. */
static void
uart_timeout_restart(struct uart *s)
{
    if (uart_fifo_mode(s) && s->rx.count > 0) {
        dm_timer_mod(&s->timeout, dm_clock_ns(s->dm) + 4 * uart_char_ns(s));
    } else {
        dm_timer_del(&s->timeout);
    }
}

static void
uart_timeout_fired(void *opaque)
{
    struct uart *s = opaque;

    if (uart_fifo_mode(s) && s->rx.count > 0) {
        s->timeout_ipending = true;
        uart_update_irq(s);
    }
}

/* --- receiver and transmitter ----------------------------------------- */

/* A character reaches the receiver (from the backend or in loopback). */
static void
uart_rx_push(struct uart *s, uint8_t v)
{
    if (s->rx.count >= uart_fifo_cap(s)) {
        /* Overrun (8.4): 16450 mode overwrites RBR; in FIFO mode the
         * character in the shift register is lost. */
        s->lsr_err |= LSR_OE;
        if (!uart_fifo_mode(s)) {
            s->rx.data[s->rx.head] = v;
        }
    } else {
        uart_fifo_push(&s->rx, v);
    }
    /* Once a timeout is indicated, only a CPU read resets the timer. */
    if (!s->timeout_ipending) {
        uart_timeout_restart(s);
    }
}

/* Move the XMIT FIFO to the backend (or the receiver in loopback) until
 * it is empty or the backend is busy. */
static void
uart_tx_drain(struct uart *s)
{
    bool had_data = s->tx.count > 0;

    while (s->tx.count > 0) {
        const uint8_t *p = &s->tx.data[s->tx.head];
        size_t chunk = MIN(s->tx.count, UART_FIFO_LEN - s->tx.head);
        size_t n = 1;

        if (s->mcr & MCR_LOOP) {
            uart_rx_push(s, *p);
        } else {
            n = dm_chardev_write(s->chr, p, chunk);
        }
        if (n == 0) {
            break;      /* busy: the backend calls uart_chr_writable */
        }
        s->tx.head = (s->tx.head + n) % UART_FIFO_LEN;
        s->tx.count -= n;
    }
    if (had_data && s->tx.count == 0) {
        s->tx.head = 0;
        s->thr_ipending = true;
    }
    uart_update_irq(s);
}

static void
uart_rx_reset(struct uart *s)
{
    uart_fifo_clear(&s->rx);
    s->timeout_ipending = false;
    dm_timer_del(&s->timeout);
}

static void
uart_tx_reset(struct uart *s)
{
    if (s->tx.count > 0) {
        s->thr_ipending = true;     /* THRE goes to 1 */
    }
    uart_fifo_clear(&s->tx);
}

/* --- modem lines (8.8, 8.9) ------------------------------------------- */

/*
 * The modem inputs: in loopback DTR, RTS, OUT1 and OUT2 drive DSR, CTS,
 * RI and DCD; otherwise a peer that is always ready (CTS, DSR, DCD), as
 * QEMU presents a non-tty backend.
 */
static uint8_t
uart_modem_inputs(uint8_t mcr)
{
    if (!(mcr & MCR_LOOP)) {
        return MSR_CTS | MSR_DSR | MSR_DCD;
    }
    return ((mcr & MCR_RTS) ? MSR_CTS : 0) | ((mcr & MCR_DTR) ? MSR_DSR : 0) |
           ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0);
}

static void
uart_modem_update(struct uart *s)
{
    uint8_t old = s->msr & MSR_INPUTS, now = uart_modem_inputs(s->mcr);
    uint8_t changed = old ^ now, deltas = 0;

    deltas |= (changed & MSR_CTS) ? MSR_DCTS : 0;
    deltas |= (changed & MSR_DSR) ? MSR_DDSR : 0;
    deltas |= (changed & MSR_DCD) ? MSR_DDCD : 0;
    /* TERI: RI went from on to off. */
    deltas |= ((old & MSR_RI) && !(now & MSR_RI)) ? MSR_TERI : 0;
    s->msr = now | (s->msr & MSR_DELTAS) | deltas;
}

/* --- registers -------------------------------------------------------- */

static uint8_t
uart_read_rbr(struct uart *s)
{
    uint8_t v = s->rx.count ? uart_fifo_pop(&s->rx) : 0;

    s->timeout_ipending = false;
    uart_timeout_restart(s);
    uart_update_irq(s);
    dm_chardev_accept_input(s->chr);
    return v;
}

static void
uart_write_thr(struct uart *s, uint8_t v)
{
    if (s->tx.count >= uart_fifo_cap(s)) {
        GUEST_ERR("%s: THR written with the transmitter full; character "
                  "dropped", s->name);
        return;
    }
    uart_fifo_push(&s->tx, v);
    s->thr_ipending = false;
    uart_tx_drain(s);
}

static uint8_t
uart_read_ier(struct uart *s)
{
    return s->ier;
}

/* Setting ETBEI with THR empty raises the THRE interrupt again, even after
 * an IIR read cleared it (Windows and Linux's THRE test rely on this). */
static void
uart_write_ier(struct uart *s, uint8_t v)
{
    uint8_t changed = (s->ier ^ v) & IER_MASK;

    s->ier = v & IER_MASK;
    if (changed & IER_ETBEI) {
        s->thr_ipending = (s->ier & IER_ETBEI) && s->tx.count == 0;
    }
    uart_update_irq(s);
}

/* Reading IIR clears a THRE interrupt if that is what it reports. */
static uint8_t
uart_read_iir(struct uart *s)
{
    uint8_t id = uart_iir_id(s);

    if (id == IIR_THRI) {
        s->thr_ipending = false;
        uart_update_irq(s);
    }
    return id | (uart_fifo_mode(s) ? IIR_FIFOS : 0);
}

/* Changing FCR0 empties both FIFOs; other bits count only with FCR0 set. */
static void
uart_write_fcr(struct uart *s, uint8_t v)
{
    bool was_fifo = uart_fifo_mode(s), fifo = (v & FCR_FE) != 0;

    if (was_fifo != fifo || (fifo && (v & FCR_RFR))) {
        uart_rx_reset(s);
    }
    if (was_fifo != fifo || (fifo && (v & FCR_XFR))) {
        uart_tx_reset(s);
    }
    s->fcr = fifo ? (v & FCR_MASK) : 0;
    /* "The first transmitter interrupt after enabling the FIFO mode will
     * be immediate if that interrupt is enabled" (8.11). */
    if (fifo && !was_fifo && (s->ier & IER_ETBEI) && s->tx.count == 0) {
        s->thr_ipending = true;
    }
    uart_update_irq(s);
    dm_chardev_accept_input(s->chr);
}

static uint8_t
uart_read_lcr(struct uart *s)
{
    return s->lcr;
}

static void
uart_write_lcr(struct uart *s, uint8_t v)
{
    s->lcr = v;
}

static uint8_t
uart_read_mcr(struct uart *s)
{
    return s->mcr;
}

static void
uart_write_mcr(struct uart *s, uint8_t v)
{
    bool was_loop = (s->mcr & MCR_LOOP) != 0;

    s->mcr = v & MCR_MASK;
    uart_modem_update(s);
    if (was_loop && !(s->mcr & MCR_LOOP)) {
        dm_chardev_accept_input(s->chr);    /* SIN reconnected */
    }
    uart_tx_drain(s);   /* also re-evaluates the OUT2 gate */
}

/* Reading LSR clears OE, PE, FE and BI (8.4). No PE/FE/BI source exists
 * here, so bit 7 (error in RCVR FIFO) stays 0. */
static uint8_t
uart_read_lsr(struct uart *s)
{
    uint8_t v = s->lsr_err;

    v |= s->rx.count ? LSR_DR : 0;
    v |= s->tx.count ? 0 : (LSR_THRE | LSR_TEMT);
    s->lsr_err = 0;
    uart_update_irq(s);
    return v;
}

/* Reading MSR clears its delta bits (8.9). */
static uint8_t
uart_read_msr(struct uart *s)
{
    uint8_t v = s->msr;

    s->msr &= MSR_INPUTS;
    uart_update_irq(s);
    return v;
}

/* LSR and MSR are read-only (Table II): writes have no effect. */
static void
uart_write_ro(struct uart *s, uint8_t v)
{
}

static uint8_t
uart_read_scr(struct uart *s)
{
    return s->scr;
}

static void
uart_write_scr(struct uart *s, uint8_t v)
{
    s->scr = v;
}

static uint8_t
uart_read_dll(struct uart *s)
{
    return s->dll;
}

static void
uart_write_dll(struct uart *s, uint8_t v)
{
    s->dll = v;
}

static uint8_t
uart_read_dlm(struct uart *s)
{
    return s->dlm;
}

static void
uart_write_dlm(struct uart *s, uint8_t v)
{
    s->dlm = v;
}

static const struct uart_reg {
    uint8_t (*read)(struct uart *s);
    void (*write)(struct uart *s, uint8_t v);
} uart_regs[UART_NR_REGS] = {
    [UART_RBR] = { uart_read_rbr, uart_write_thr },
    [UART_IER] = { uart_read_ier, uart_write_ier },
    [UART_IIR] = { uart_read_iir, uart_write_fcr },
    [UART_LCR] = { uart_read_lcr, uart_write_lcr },
    [UART_MCR] = { uart_read_mcr, uart_write_mcr },
    [UART_LSR] = { uart_read_lsr, uart_write_ro },
    [UART_MSR] = { uart_read_msr, uart_write_ro },
    [UART_SCR] = { uart_read_scr, uart_write_scr },
    [UART_DLL] = { uart_read_dll, uart_write_dll },
    [UART_DLM] = { uart_read_dlm, uart_write_dlm },
};

static const struct uart_reg *
uart_decode(const struct uart *s, uint64_t off)
{
    unsigned int idx = (unsigned int)(off & (UART_NR_PORTS - 1));

    if ((s->lcr & LCR_DLAB) && idx <= UART_IER) {
        idx += UART_DLL;
    }
    return &uart_regs[idx];
}

static uint64_t
uart_io_read(void *opaque, uint64_t off, unsigned int size)
{
    struct uart *s = opaque;

    return uart_decode(s, off)->read(s);
}

static void
uart_io_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct uart *s = opaque;

    uart_decode(s, off)->write(s, (uint8_t)val);
}

/* --- backend side ----------------------------------------------------- */

/* In loopback the serial input is disconnected (8.8): take nothing. */
static size_t
uart_chr_can_receive(void *opaque)
{
    const struct uart *s = opaque;

    if ((s->mcr & MCR_LOOP) || s->rx.count >= uart_fifo_cap(s)) {
        return 0;
    }
    return uart_fifo_cap(s) - s->rx.count;
}

static void
uart_chr_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct uart *s = opaque;
    size_t i;

    for (i = 0; i < len; i++) {
        uart_rx_push(s, buf[i]);
    }
    uart_update_irq(s);
}

static void
uart_chr_writable(void *opaque)
{
    uart_tx_drain(opaque);
}

/* --- lifecycle -------------------------------------------------------- */

/* Master reset (Table III); the divisor latch and SCR are not affected. */
static void
uart_reset(void *opaque)
{
    struct uart *s = opaque;

    uart_rx_reset(s);
    uart_fifo_clear(&s->tx);
    s->ier = 0;
    s->fcr = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->lsr_err = 0;
    s->msr = uart_modem_inputs(0);
    s->thr_ipending = false;
    uart_update_irq(s);
    dm_chardev_accept_input(s->chr);
}

#define UART_STATE_VERSION 1
#define UART_ST_THR_IPENDING     0x01
#define UART_ST_TIMEOUT_IPENDING 0x02
#define UART_ST_TIMEOUT_ARMED    0x04
#define UART_ST_FLAGS            0x07

/*
 * Saved state, version 1: every field one byte, so no byte order. check()
 * enforces: rx_count and tx_count within the FIFO in use (16 with FCR.FE,
 * else 1), which bounds every FIFO index; IER, FCR and MCR within their
 * masks; lsr_err only LSR error bits; MSR's inputs as MCR's loopback wiring
 * gives them; flags known; reserved bytes zero.
 * Property, held by fuzz/state-uart.c: any record check() accepts, loaded
 * and then driven by any guest I/O, is memory safe and terminates, and
 * what the device then saves passes check() again.
 */
struct uart_state {
    uint8_t rx_data[UART_FIFO_LEN];     /* RCVR FIFO, oldest first */
    uint8_t tx_data[UART_FIFO_LEN];     /* XMIT FIFO, oldest first */
    uint8_t rx_count;
    uint8_t tx_count;
    uint8_t ier;
    uint8_t fcr;
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr_err;
    uint8_t msr;
    uint8_t scr;
    uint8_t dll;
    uint8_t dlm;
    uint8_t flags;                      /* UART_ST_* */
    uint8_t reserved[4];                /* zero */
};
_Static_assert(sizeof(struct uart_state) == 48, "uart_state layout");

static void
uart_fifo_save(const struct uart_fifo *f, uint8_t *data, uint8_t *count)
{
    unsigned int i;

    for (i = 0; i < f->count; i++) {
        data[i] = f->data[(f->head + i) % UART_FIFO_LEN];
    }
    *count = f->count;
}

static void
uart_save(void *opaque, void *rec)
{
    const struct uart *s = opaque;
    struct uart_state *st = rec;

    memset(st, 0, sizeof(*st));
    uart_fifo_save(&s->rx, st->rx_data, &st->rx_count);
    uart_fifo_save(&s->tx, st->tx_data, &st->tx_count);
    st->ier = s->ier;
    st->fcr = s->fcr;
    st->lcr = s->lcr;
    st->mcr = s->mcr;
    st->lsr_err = s->lsr_err;
    st->msr = s->msr;
    st->scr = s->scr;
    st->dll = s->dll;
    st->dlm = s->dlm;
    st->flags = (s->thr_ipending ? UART_ST_THR_IPENDING : 0) |
                (s->timeout_ipending ? UART_ST_TIMEOUT_IPENDING : 0) |
                (dm_timer_pending(&s->timeout) ? UART_ST_TIMEOUT_ARMED : 0);
}

static int
uart_check(const void *rec)
{
    const struct uart_state *st = rec;
    unsigned int cap = (st->fcr & FCR_FE) ? UART_FIFO_LEN : 1;
    static const uint8_t zero[sizeof(st->reserved)];

    if (st->rx_count > cap || st->tx_count > cap ||
        (st->ier & ~IER_MASK) || (st->fcr & ~FCR_MASK) ||
        (st->mcr & ~MCR_MASK) || (st->lsr_err & ~LSR_ERRORS) ||
        (st->msr & MSR_INPUTS) != uart_modem_inputs(st->mcr) ||
        (st->flags & ~UART_ST_FLAGS) ||
        memcmp(st->reserved, zero, sizeof(zero)) != 0) {
        return -EINVAL;
    }
    return 0;
}

static void
uart_load(void *opaque, const void *rec)
{
    struct uart *s = opaque;
    const struct uart_state *st = rec;

    uart_fifo_clear(&s->rx);
    uart_fifo_clear(&s->tx);
    memcpy(s->rx.data, st->rx_data, st->rx_count);
    s->rx.count = st->rx_count;
    memcpy(s->tx.data, st->tx_data, st->tx_count);
    s->tx.count = st->tx_count;
    s->ier = st->ier;
    s->fcr = st->fcr;
    s->lcr = st->lcr;
    s->mcr = st->mcr;
    s->lsr_err = st->lsr_err;
    s->msr = st->msr;
    s->scr = st->scr;
    s->dll = st->dll;
    s->dlm = st->dlm;
    s->thr_ipending = (st->flags & UART_ST_THR_IPENDING) != 0;
    s->timeout_ipending = (st->flags & UART_ST_TIMEOUT_IPENDING) != 0;
    dm_timer_del(&s->timeout);
    if (st->flags & UART_ST_TIMEOUT_ARMED) {
        uart_timeout_restart(s);
    }
    dm_chardev_accept_input(s->chr);
    if (s->tx.count > 0) {
        uart_tx_drain(s);   /* resume a transmission the backend held */
    }
    uart_update_irq(s);
}

static void
uart_destroy(void *opaque)
{
    struct uart *s = opaque;

    dm_timer_del(&s->timeout);
    iomap_region_destroy(&s->region);
    dm_chardev_free(s->chr);
    g_free(s);
}

/* --- ops tables ------------------------------------------------------- */

static const struct iomap_ops uart_io_ops = {
    .read = uart_io_read,
    .write = uart_io_write,
    .min_size = 1,
    .max_size = 1,      /* byte registers: the core splits wider access */
};

static const struct dm_chardev_fe_ops uart_chr_ops = {
    .can_receive = uart_chr_can_receive,
    .receive = uart_chr_receive,
    .writable = uart_chr_writable,
};

static const struct dm_dev_ops uart_dev_ops = {
    .name = "uart16550",
    .state_version = UART_STATE_VERSION,
    .state_size = sizeof(struct uart_state),
    .reset = uart_reset,
    .save = uart_save,
    .check = uart_check,
    .load = uart_load,
    .destroy = uart_destroy,
};

/* --- board ------------------------------------------------------------ */

/* COM1-COM4 as QEMU's ISA serial places them. */
static const struct {
    uint16_t base;
    uint8_t irq;
} uart_isa_ports[DM_MAX_SERIAL] = {
    { 0x3f8, 4 },
    { 0x2f8, 3 },
    { 0x3e8, 4 },
    { 0x2e8, 3 },
};

static int
uart_create(struct dm *dm, const struct dm_config *cfg, unsigned int index)
{
    struct uart *s = g_new0(struct uart, 1);
    char err[512];
    int rc;

    s->dm = dm;
    s->irq = uart_isa_ports[index].irq;
    g_snprintf(s->name, sizeof(s->name), "serial%u", index);
    s->chr = dm_chardev_new_spec(dm, cfg, cfg->serial[index], s->name, err,
                                 sizeof(err));
    if (!s->chr) {
        DM_ERR("%s", err);
        g_free(s);
        return -EINVAL;
    }
    dm_timer_init(&s->timeout, dm, uart_timeout_fired, s);
    s->dll = UART_RESET_DIVISOR;
    iomap_region_init(&s->region, s->name, UART_NR_PORTS, &uart_io_ops, s);
    rc = iomap_add(dm->pio, &s->region, uart_isa_ports[index].base);
    if (rc < 0) {
        DM_ERR("%s: ports 0x%x-0x%x are taken", s->name,
               uart_isa_ports[index].base,
               uart_isa_ports[index].base + UART_NR_PORTS - 1);
        dm_chardev_free(s->chr);
        g_free(s);
        return rc;
    }
    dm_chardev_attach(s->chr, &uart_chr_ops, s);
    uart_reset(s);
    dm_dev_register(dm, &s->dev, &uart_dev_ops, s, index);
    return 0;
}

int
uart16550_board_init(struct dm *dm, const struct dm_config *cfg)
{
    unsigned int i;
    int rc;

    if (!cfg) {
        return 0;
    }
    for (i = 0; i < cfg->nr_serial && i < DM_MAX_SERIAL; i++) {
        /* "none" keeps its slot empty: -serial none -serial pty gives
         * COM2 only, as current QEMU does. */
        if (!cfg->serial[i] || !strcmp(cfg->serial[i], "none")) {
            continue;
        }
        rc = uart_create(dm, cfg, i);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}
