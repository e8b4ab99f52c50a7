/*
 * 16550A UART and character backend tests, written as a guest driver
 * would drive the ports (Linux 8250 autoconfig, hvmloader's uart_exists),
 * with the backends exercised end to end through real ptys, sockets,
 * FIFOs and pipes. Register values are named after PC16550D Table II.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "dm/chardev.h"
#include "dm/config.h"
#include "dm/dev.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "tests/harness.h"
#include "tests/t.h"

#define COM1 0x3f8
#define COM2 0x2f8
#define COM3 0x3e8
#define COM4 0x2e8

/* Port offsets (PC16550D Table II). */
#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

/* IIR values with FIFOs enabled (bits 7:6 = 11). */
#define IIR_NONE 0xc1
#define IIR_RLS  0xc6
#define IIR_RDA  0xc4
#define IIR_CTI  0xcc
#define IIR_THRE 0xc2
#define IIR_MS   0xc0

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

/* Real-time waits for the kernel (pty flip buffers, sockets): 2 s. */
#define WAIT_ROUNDS 2000

static struct t_machine *
uart_machine_argv(const char *const *argv)
{
    struct t_opts o = { .argv = argv };

    return t_machine_new(&o);
}

static struct t_machine *
uart_machine(const char *spec)
{
    const char *argv[] = { "-serial", spec, NULL };

    return uart_machine_argv(argv);
}

static void
pump(struct t_machine *t)
{
    dm_loop_iterate(t->dm, 0);
    g_usleep(500);
}

/* Read n bytes from a host fd while the machine's loop runs. */
static size_t
host_read(struct t_machine *t, int fd, void *buf, size_t n)
{
    size_t got = 0;
    int i;

    for (i = 0; i < WAIT_ROUNDS && got < n; i++) {
        ssize_t r = read(fd, (char *)buf + got, n - got);

        if (r > 0) {
            got += (size_t)r;
            i = 0;
        } else {
            pump(t);
        }
    }
    return got;
}

/* The guest polls LSR.DR and reads RBR, as a polled-mode driver. */
static size_t
guest_read(struct t_machine *t, uint16_t base, uint8_t *buf, size_t n)
{
    size_t got = 0;
    int i;

    for (i = 0; i < WAIT_ROUNDS && got < n; i++) {
        if (t_inb(t, base + LSR) & LSR_DR) {
            buf[got++] = t_inb(t, base + RBR);
            i = 0;
        } else {
            pump(t);
        }
    }
    return got;
}

static void
guest_write(struct t_machine *t, uint16_t base, const char *s)
{
    for (; *s; s++) {
        T_ASSERT(t_inb(t, base + LSR) & LSR_THRE);
        t_outb(t, base + THR, (uint8_t)*s);
    }
}

static struct dm_chardev *
serial_chardev(struct t_machine *t, const char *label)
{
    struct dm_chardev *c = dm_chardev_find(t->dm, label);

    T_ASSERT(c != NULL);
    return c;
}

static char *
tmp_path(const char *name)
{
    return g_strdup_printf("%s/hvmdm-uart-%d-%s", g_get_tmp_dir(),
                           (int)getpid(), name);
}

/* ---- probing ----------------------------------------------------------- */

T_TEST(uart_absent_without_serial)
{
    struct t_opts o = { 0 };
    struct t_machine *t = t_machine_new(&o);

    T_EQ(t_inb(t, COM1 + LSR), 0xff);   /* unclaimed port */
    T_ASSERT(dm_chardev_next(t->dm, NULL) == NULL);
    t_machine_free(t);
}

T_TEST(uart_reset_values)
{
    struct t_machine *t = uart_machine("null");

    T_EQ(t_inb(t, COM1 + IER), 0x00);
    T_EQ(t_inb(t, COM1 + IIR), 0x01);       /* no interrupt, no FIFOs */
    T_EQ(t_inb(t, COM1 + LCR), 0x00);
    T_EQ(t_inb(t, COM1 + MCR), 0x00);
    T_EQ(t_inb(t, COM1 + LSR), LSR_THRE | LSR_TEMT);
    T_EQ(t_inb(t, COM1 + MSR), 0xb0);       /* DCD, DSR, CTS; no deltas */
    T_EQ(t_isa_irq(t, 4), 0);
    t_machine_free(t);
}

/* hvmloader uart_exists(): IER reads back 0 and 0x0f. */
T_TEST(uart_hvmloader_probe)
{
    struct t_machine *t = uart_machine("null");

    t_outb(t, COM1 + IER, 0);
    T_EQ(t_inb(t, COM1 + IER), 0);
    t_outb(t, COM1 + IER, 0x0f);
    T_EQ(t_inb(t, COM1 + IER), 0x0f);
    t_outb(t, COM1 + IER, 0);
    T_EQ(t_inb(t, COM2 + IER), 0xff);       /* no COM2 */
    t_machine_free(t);
}

/* Linux drivers/tty/serial/8250 autoconfig() on a 16550A. */
T_TEST(uart_linux_8250_probe)
{
    struct t_machine *t = uart_machine("null");

    /* Scratch register. */
    t_outb(t, COM1 + SCR, 0xa5);
    T_EQ(t_inb(t, COM1 + SCR), 0xa5);
    t_outb(t, COM1 + SCR, 0x5a);
    T_EQ(t_inb(t, COM1 + SCR), 0x5a);
    /* IER: the low four bits hold, the high ones read 0 (XScale UUE). */
    t_outb(t, COM1 + IER, 0xff);
    T_EQ(t_inb(t, COM1 + IER), 0x0f);
    t_outb(t, COM1 + IER, 0x40);
    T_EQ(t_inb(t, COM1 + IER), 0x00);
    /* Loopback test: MCR = LOOP | OUT2 | RTS gives CTS and DCD (0x90). */
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
    T_EQ(t_inb(t, COM1 + MSR) & 0xf0, 0x90);
    t_outb(t, COM1 + MCR, 0);
    /* LCR 0xBF and 0x80: no EFR, offset 2 still reads IIR (non-zero). */
    t_outb(t, COM1 + LCR, 0xbf);
    T_EQ(t_inb(t, COM1 + LCR), 0xbf);
    T_EQ(t_inb(t, COM1 + IIR), 0x01);
    t_outb(t, COM1 + LCR, 0x80);
    T_EQ(t_inb(t, COM1 + IIR), 0x01);
    t_outb(t, COM1 + LCR, 0);
    /* FCR enable: IIR bits 7:6 = 3 means a 16550A. */
    t_outb(t, COM1 + FCR, 0x01);
    T_EQ(t_inb(t, COM1 + IIR) >> 6, 3);
    /* 16750 test: the 64-byte bit (FCR5) under DLAB is not honoured. */
    t_outb(t, COM1 + LCR, 0x80);
    t_outb(t, COM1 + FCR, 0x21);
    T_EQ(t_inb(t, COM1 + IIR) >> 5, 6);
    t_outb(t, COM1 + LCR, 0);
    /* FIFOs off again: IIR bits 7:6 clear. */
    t_outb(t, COM1 + FCR, 0);
    T_EQ(t_inb(t, COM1 + IIR), 0x01);
    t_machine_free(t);
}

T_TEST(uart_four_ports_and_their_irqs)
{
    const char *argv[] = { "-serial", "null", "-serial", "null",
                           "-serial", "null", "-serial", "null", NULL };
    static const uint16_t base[4] = { COM1, COM2, COM3, COM4 };
    static const unsigned int irq[4] = { 4, 3, 4, 3 };
    struct t_machine *t = uart_machine_argv(argv);
    unsigned int i;

    for (i = 0; i < 4; i++) {
        t_outb(t, base[i] + SCR, (uint8_t)(0x10 + i));
        T_EQ(t_inb(t, base[i] + SCR), 0x10 + i);
        /* THRE interrupt with the OUT2 gate open. */
        t_outb(t, base[i] + MCR, MCR_OUT2);
        t_outb(t, base[i] + IER, 0x02);
        T_EQ(t_isa_irq(t, irq[i]), 1);
        T_EQ(t_isa_irq(t, irq[i] == 4 ? 3 : 4), 0);
        T_EQ(t_inb(t, base[i] + IIR), 0x02);
        T_EQ(t_isa_irq(t, irq[i]), 0);
        t_outb(t, base[i] + MCR, 0);
    }
    /* COM1 and COM3 share IRQ4: COM3 with its gate closed never drives
     * the line, so it cannot take COM1's interrupt away. */
    t_outb(t, COM1 + MCR, MCR_OUT2);
    t_outb(t, COM1 + IER, 0x00);
    t_outb(t, COM1 + IER, 0x02);
    T_EQ(t_isa_irq(t, 4), 1);
    t_outb(t, COM3 + IER, 0x00);
    t_outb(t, COM3 + IER, 0x02);
    T_EQ(t_inb(t, COM3 + IIR), 0x02);
    T_EQ(t_inb(t, COM3 + IIR), 0x01);
    T_EQ(t_isa_irq(t, 4), 1);
    t_machine_free(t);
}

T_TEST(uart_serial_none_keeps_its_slot)
{
    const char *argv[] = { "-serial", "none", "-serial", "null", NULL };
    struct t_machine *t = uart_machine_argv(argv);

    T_EQ(t_inb(t, COM1 + LSR), 0xff);
    T_EQ(t_inb(t, COM2 + LSR), LSR_THRE | LSR_TEMT);
    T_ASSERT(dm_chardev_find(t->dm, "serial1") != NULL);
    T_ASSERT(dm_chardev_find(t->dm, "serial0") == NULL);
    t_machine_free(t);
}

/* ---- registers ------------------------------------------------------- */

T_TEST(uart_divisor_latch)
{
    struct t_machine *t = uart_machine("null");

    t_outb(t, COM1 + IER, 0x05);
    t_outb(t, COM1 + LCR, 0x83);            /* DLAB, 8N1 */
    t_outb(t, COM1 + DLL, 0x01);            /* 115200 baud */
    t_outb(t, COM1 + DLM, 0x02);
    T_EQ(t_inb(t, COM1 + DLL), 0x01);
    T_EQ(t_inb(t, COM1 + DLM), 0x02);
    T_EQ(t_inw(t, COM1 + DLL), 0x0201);     /* split into two bytes */
    T_EQ(t_inb(t, COM1 + LCR), 0x83);
    t_outb(t, COM1 + LCR, 0x03);
    T_EQ(t_inb(t, COM1 + IER), 0x05);       /* IER was not touched */
    T_EQ(t_inb(t, COM1 + RBR), 0x00);       /* empty receiver */
    t_outb(t, COM1 + LCR, 0x83);
    T_EQ(t_inw(t, COM1 + DLL), 0x0201);     /* divisor kept */
    t_machine_free(t);
}

T_TEST(uart_register_widths_and_read_only_bits)
{
    struct t_machine *t = uart_machine("null");

    /* Byte registers; the core splits wider accesses, low byte first. */
    t_outw(t, COM1 + LCR, 0x0b03);          /* LCR 0x03, MCR 0x0b */
    T_EQ(t_inb(t, COM1 + LCR), 0x03);
    T_EQ(t_inb(t, COM1 + MCR), 0x0b);
    T_EQ(t_inw(t, COM1 + LCR), 0x0b03);
    t_outl(t, COM1 + MCR, 0x77ffff08);      /* MCR, LSR, MSR, SCR */
    T_EQ(t_inl(t, COM1 + MCR), 0x77b06008u);
    /* Writes to LSR and MSR have no effect; MCR bits 7:5 read 0. */
    t_outb(t, COM1 + LSR, 0x00);
    t_outb(t, COM1 + MSR, 0xff);
    T_EQ(t_inb(t, COM1 + LSR), LSR_THRE | LSR_TEMT);
    T_EQ(t_inb(t, COM1 + MSR), 0xb0);
    t_outb(t, COM1 + MCR, 0xff);
    T_EQ(t_inb(t, COM1 + MCR), 0x1f);
    t_outb(t, COM1 + MCR, 0);
    t_machine_free(t);
}

/* ---- loopback, interrupts and FIFOs ------------------------------------ */

T_TEST(uart_loopback_data_and_overrun)
{
    char *path = tmp_path("loop.out");
    g_autofree char *spec = g_strdup_printf("file:%s", path);
    struct t_machine *t = uart_machine(spec);
    gchar *contents = NULL;
    gsize len = 0;
    unsigned int i;

    t_outb(t, COM1 + MCR, MCR_LOOP);
    t_outb(t, COM1 + THR, 'A');
    T_EQ(t_inb(t, COM1 + LSR), LSR_DR | LSR_THRE | LSR_TEMT);
    T_EQ(t_inb(t, COM1 + RBR), 'A');
    T_EQ(t_inb(t, COM1 + LSR) & LSR_DR, 0);
    /* 16450 mode: a second character before RBR is read overruns it. */
    t_outb(t, COM1 + THR, 'x');
    t_outb(t, COM1 + THR, 'y');
    T_EQ(t_inb(t, COM1 + LSR) & (LSR_DR | LSR_OE), LSR_DR | LSR_OE);
    T_EQ(t_inb(t, COM1 + LSR) & LSR_OE, 0);     /* cleared by the read */
    T_EQ(t_inb(t, COM1 + RBR), 'y');
    /* FIFO mode: 16 fit, the 17th is lost with OE. */
    t_outb(t, COM1 + FCR, 0x07);
    for (i = 0; i < 17; i++) {
        t_outb(t, COM1 + THR, (uint8_t)i);
    }
    T_EQ(t_inb(t, COM1 + LSR) & (LSR_DR | LSR_OE), LSR_DR | LSR_OE);
    for (i = 0; i < 16; i++) {
        T_EQ(t_inb(t, COM1 + RBR), i);
    }
    T_EQ(t_inb(t, COM1 + LSR) & LSR_DR, 0);
    /* Nothing reached the backend in loopback; now it does. */
    t_outb(t, COM1 + MCR, 0);
    t_outb(t, COM1 + THR, 'Z');
    t_machine_free(t);
    T_ASSERT(g_file_get_contents(path, &contents, &len, NULL));
    T_EQ(len, 1);
    T_EQ(contents[0], 'Z');
    g_free(contents);
    unlink(path);
    g_free(path);
}

T_TEST(uart_loopback_modem_lines)
{
    struct t_machine *t = uart_machine("null");

    /* Entering loopback with all outputs off drops CTS, DSR and DCD. */
    t_outb(t, COM1 + MCR, MCR_LOOP);
    T_EQ(t_inb(t, COM1 + MSR), 0x0b);       /* DCTS | DDSR | DDCD */
    T_EQ(t_inb(t, COM1 + MSR), 0x00);       /* deltas cleared */
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_DTR);
    T_EQ(t_inb(t, COM1 + MSR), 0x22);       /* DSR, DDSR */
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_RTS);
    T_EQ(t_inb(t, COM1 + MSR), 0x13);       /* CTS, DCTS, DDSR */
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT1);
    T_EQ(t_inb(t, COM1 + MSR), 0x41);       /* RI rises: no TERI */
    t_outb(t, COM1 + MCR, MCR_LOOP);
    T_EQ(t_inb(t, COM1 + MSR), 0x04);       /* RI falls: TERI */
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2);
    T_EQ(t_inb(t, COM1 + MSR), 0x88);       /* DCD, DDCD */
    /* Modem status interrupt, cleared by reading MSR. */
    t_outb(t, COM1 + IER, 0x08);
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2 | MCR_DTR);
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + IIR), 0x00);
    T_EQ(t_inb(t, COM1 + MSR), 0xa2);
    T_EQ(t_inb(t, COM1 + IIR), 0x01);
    T_EQ(t_isa_irq(t, 4), 0);
    t_machine_free(t);
}

/* Table IV: line status > data (and timeout) > THRE > modem status. */
T_TEST(uart_interrupt_priorities)
{
    struct t_machine *t = uart_machine("null");
    unsigned int i;

    t_outb(t, COM1 + FCR, 0x47);            /* FIFOs, trigger 4 */
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2);
    (void)t_inb(t, COM1 + MSR);
    for (i = 0; i < 17; i++) {              /* 16 + 1 overrun */
        t_outb(t, COM1 + THR, (uint8_t)('a' + i));
    }
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2 | MCR_DTR);  /* DDSR */
    T_EQ(t_isa_irq(t, 4), 0);
    t_outb(t, COM1 + IER, 0x0f);
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + IIR), IIR_RLS);
    T_EQ(t_inb(t, COM1 + IIR), IIR_RLS);    /* until LSR is read */
    T_EQ(t_inb(t, COM1 + LSR) & LSR_OE, LSR_OE);
    T_EQ(t_inb(t, COM1 + IIR), IIR_RDA);
    for (i = 0; i < 13; i++) {              /* down to 3, below 4 */
        T_EQ(t_inb(t, COM1 + RBR), 'a' + i);
    }
    T_EQ(t_inb(t, COM1 + IIR), IIR_THRE);   /* and the read clears it */
    T_EQ(t_inb(t, COM1 + IIR), IIR_MS);
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + MSR) & 0x0f, 0x02);
    T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);
    T_EQ(t_isa_irq(t, 4), 0);
    /* The 3 left over time out after 4 character times. */
    t_clock_step(t, 100000000);
    T_EQ(t_inb(t, COM1 + IIR), IIR_CTI);
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + RBR), 'n');
    T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);
    T_EQ(t_isa_irq(t, 4), 0);
    t_machine_free(t);
}

T_TEST(uart_fifo_trigger_levels)
{
    static const struct {
        uint8_t fcr;
        unsigned int level;
    } trig[] = { { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 } };
    struct t_machine *t = uart_machine("null");
    unsigned int k, i;

    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2);
    t_outb(t, COM1 + IER, 0x01);
    for (k = 0; k < G_N_ELEMENTS(trig); k++) {
        t_outb(t, COM1 + FCR, trig[k].fcr | 0x06);  /* and reset both */
        for (i = 1; i <= trig[k].level; i++) {
            t_outb(t, COM1 + THR, (uint8_t)i);
            if (i < trig[k].level) {
                T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);
                T_EQ(t_isa_irq(t, 4), 0);
            }
        }
        T_EQ(t_inb(t, COM1 + IIR), IIR_RDA);
        T_EQ(t_isa_irq(t, 4), 1);
        T_EQ(t_inb(t, COM1 + RBR), 1);
        T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);   /* below the level */
    }
    /* The RCVR FIFO reset empties it. */
    t_outb(t, COM1 + FCR, 0x03);
    T_EQ(t_inb(t, COM1 + LSR) & LSR_DR, 0);
    t_machine_free(t);
}

/* Four character times at the programmed rate and format (8.11). */
T_TEST(uart_character_timeout)
{
    struct t_machine *t = uart_machine("null");

    t_outb(t, COM1 + LCR, 0x83);
    t_outb(t, COM1 + DLL, 1);               /* 115200 baud */
    t_outb(t, COM1 + DLM, 0);
    t_outb(t, COM1 + LCR, 0x03);            /* 8N1: 10 bits, 86.8 us */
    t_outb(t, COM1 + FCR, 0x81);            /* trigger 8 */
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2);
    t_outb(t, COM1 + IER, 0x01);
    t_outb(t, COM1 + THR, 'a');
    t_outb(t, COM1 + THR, 'b');
    t_outb(t, COM1 + THR, 'c');
    t_clock_step(t, 340000);                /* < 347.2 us */
    T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);
    t_clock_step(t, 10000);
    T_EQ(t_inb(t, COM1 + IIR), IIR_CTI);
    T_EQ(t_isa_irq(t, 4), 1);
    /* A read clears it and restarts the timer for the two left. */
    T_EQ(t_inb(t, COM1 + RBR), 'a');
    T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);
    T_EQ(t_isa_irq(t, 4), 0);
    t_clock_step(t, 350000);
    T_EQ(t_inb(t, COM1 + IIR), IIR_CTI);
    T_EQ(t_inb(t, COM1 + RBR), 'b');
    T_EQ(t_inb(t, COM1 + RBR), 'c');
    t_clock_step(t, 1000000);
    T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);   /* empty: no timeout */
    /* 9600 baud, 7E2 (1+7+1+2 = 11 bits): 4 chars = 4.583 ms. */
    t_outb(t, COM1 + LCR, 0x80);
    t_outb(t, COM1 + DLL, 12);
    t_outb(t, COM1 + LCR, 0x1e);
    t_outb(t, COM1 + THR, 'd');
    t_clock_step(t, 4500000);
    T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);
    t_clock_step(t, 100000);
    T_EQ(t_inb(t, COM1 + IIR), IIR_CTI);
    t_machine_free(t);
}

T_TEST(uart_thre_interrupt_reraise)
{
    struct t_machine *t = uart_machine("null");

    t_outb(t, COM1 + MCR, MCR_OUT2);
    t_outb(t, COM1 + IER, 0x02);            /* ETBEI with THR empty */
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + IIR), 0x02);       /* reading IIR clears it */
    T_EQ(t_inb(t, COM1 + IIR), 0x01);
    T_EQ(t_isa_irq(t, 4), 0);
    t_outb(t, COM1 + IER, 0x02);            /* no rising edge */
    T_EQ(t_inb(t, COM1 + IIR), 0x01);
    t_outb(t, COM1 + IER, 0x00);
    t_outb(t, COM1 + IER, 0x02);            /* rising edge: again */
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + IIR), 0x02);
    t_outb(t, COM1 + THR, 'q');             /* THR empties again */
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + IIR), 0x02);
    /* Enabling the FIFOs raises it at once (8.11). */
    t_outb(t, COM1 + FCR, 0x01);
    T_EQ(t_inb(t, COM1 + IIR), IIR_THRE);
    T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);
    t_machine_free(t);
}

T_TEST(uart_out2_gates_the_irq)
{
    struct t_machine *t = uart_machine("null");

    t_outb(t, COM1 + IER, 0x02);
    T_EQ(t_isa_irq(t, 4), 0);               /* pending, gate closed */
    t_outb(t, COM1 + MCR, MCR_OUT2);
    T_EQ(t_isa_irq(t, 4), 1);
    t_outb(t, COM1 + MCR, MCR_DTR | MCR_RTS);
    T_EQ(t_isa_irq(t, 4), 0);
    T_EQ(t_inb(t, COM1 + IIR), 0x02);       /* still pending inside */
    t_machine_free(t);
}

T_TEST(uart_thr_overflow_is_dropped_not_fatal)
{
    char *path = tmp_path("ovf.fifo");
    g_autofree char *spec = g_strdup_printf("file:%s", path);
    struct t_machine *t;
    uint8_t buf[64];
    int rfd;

    T_ASSERT(mkfifo(path, 0600) == 0);
    rfd = open(path, O_RDONLY | O_NONBLOCK);
    T_ASSERT(rfd >= 0);
    T_ASSERT(fcntl(rfd, F_SETPIPE_SZ, 4096) >= 4096);
    t = uart_machine(spec);
    /* Fill the pipe and the backend buffer, then 16450 mode's THR. */
    while (t_inb(t, COM1 + LSR) & LSR_THRE) {
        t_outb(t, COM1 + THR, 'x');
    }
    t_outb(t, COM1 + THR, 'y');             /* THR full: dropped */
    T_EQ(t_inb(t, COM1 + LSR) & LSR_THRE, 0);
    while (read(rfd, buf, sizeof(buf)) > 0) {
        pump(t);
    }
    t_machine_free(t);
    close(rfd);
    unlink(path);
    g_free(path);
}

/* ---- backends end to end --------------------------------------------- */

static int
open_pty_slave(const char *filename)
{
    struct termios tio;
    int fd;

    T_ASSERT(g_str_has_prefix(filename, "pty:/dev/"));
    fd = open(filename + 4, O_RDWR | O_NOCTTY | O_NONBLOCK);
    T_ASSERT(fd >= 0);
    T_ASSERT(tcgetattr(fd, &tio) == 0);
    cfmakeraw(&tio);
    T_ASSERT(tcsetattr(fd, TCSANOW, &tio) == 0);
    return fd;
}

T_TEST(uart_pty_end_to_end)
{
    struct t_machine *t = uart_machine("pty");
    struct dm_chardev *c = serial_chardev(t, "serial0");
    char out[16] = "";
    uint8_t in[8];
    int slave, i;

    /* What query-chardev will list. */
    T_ASSERT(dm_chardev_next(t->dm, NULL) == c);
    T_ASSERT(dm_chardev_next(t->dm, c) == NULL);
    T_ASSERT(dm_chardev_frontend_open(c));
    T_ASSERT(!dm_chardev_connected(c));
    slave = open_pty_slave(dm_chardev_filename(c));
    t_outb(t, COM1 + FCR, 0x07);
    t_outb(t, COM1 + MCR, MCR_OUT2 | MCR_RTS | MCR_DTR);
    t_outb(t, COM1 + IER, 0x01);
    guest_write(t, COM1, "hello\n");
    T_ASSERT(dm_chardev_connected(c));
    T_EQ(host_read(t, slave, out, 6), 6);
    T_ASSERT(memcmp(out, "hello\n", 6) == 0);
    /* Host to guest, with the received-data interrupt. */
    T_EQ(write(slave, "xyz", 3), 3);
    for (i = 0; i < WAIT_ROUNDS && !t_isa_irq(t, 4); i++) {
        pump(t);
    }
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + IIR), IIR_RDA);
    T_EQ(guest_read(t, COM1, in, 3), 3);
    T_ASSERT(memcmp(in, "xyz", 3) == 0);
    /* The reader goes away: output is discarded, THRE stays set. */
    close(slave);
    for (i = 0; i < WAIT_ROUNDS && dm_chardev_connected(c); i++) {
        pump(t);
    }
    T_ASSERT(!dm_chardev_connected(c));
    for (i = 0; i < 65536; i++) {
        t_outb(t, COM1 + THR, 'z');
    }
    T_EQ(t_inb(t, COM1 + LSR), LSR_THRE | LSR_TEMT);
    t_machine_free(t);
}

/* With nobody on the pty a boot log must not stall, nor reach the next
 * reader as stale output. */
T_TEST(uart_pty_without_reader_discards)
{
    struct t_machine *t = uart_machine("pty");
    struct dm_chardev *c = serial_chardev(t, "serial0");
    char out[64];
    size_t n;
    int slave, i;

    for (i = 0; i < 65536; i++) {
        t_outb(t, COM1 + THR, 's');
        if (!(t_inb(t, COM1 + LSR) & LSR_THRE)) {
            t_fail(__FILE__, __LINE__, "stalled after %d bytes", i);
        }
    }
    slave = open_pty_slave(dm_chardev_filename(c));
    /* Found on the next write (or the 1 s poll). */
    t_clock_step(t, 1000000000);
    T_ASSERT(dm_chardev_connected(c));
    guest_write(t, COM1, "ok");
    n = host_read(t, slave, out, 2);
    T_EQ(n, 2);
    T_ASSERT(memcmp(out, "ok", 2) == 0);
    for (i = 0; i < 50; i++) {
        pump(t);
    }
    T_ASSERT(read(slave, out, sizeof(out)) < 0);     /* nothing stale */
    close(slave);
    t_machine_free(t);
}

static int
unix_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

    T_ASSERT(fd >= 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    T_ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    return fd;
}

static void
wait_connected(struct t_machine *t, struct dm_chardev *c, bool want)
{
    int i;

    for (i = 0; i < WAIT_ROUNDS && dm_chardev_connected(c) != want; i++) {
        pump(t);
    }
    T_EQ(dm_chardev_connected(c), want);
}

T_TEST(uart_unix_server_end_to_end)
{
    char *path = tmp_path("srv.sock");
    g_autofree char *spec = g_strdup_printf("unix:%s,server,nowait", path);
    g_autofree char *connected_name = g_strdup_printf("unix:%s,server=on",
                                                      path);
    struct t_machine *t = uart_machine(spec);
    struct dm_chardev *c = serial_chardev(t, "serial0");
    uint8_t big[1000], got[1000];
    char out[8];
    int cl, cl2;
    size_t i;

    T_ASSERT(g_str_has_prefix(dm_chardev_filename(c), "disconnected:unix:"));
    guest_write(t, COM1, "lost");           /* nobody there: dropped */
    t_outb(t, COM1 + FCR, 0x07);
    cl = unix_connect(path);
    cl2 = unix_connect(path);               /* waits in the backlog */
    wait_connected(t, c, true);
    T_ASSERT(strcmp(dm_chardev_filename(c), connected_name) == 0);
    guest_write(t, COM1, "ping");
    T_EQ(host_read(t, cl, out, 4), 4);
    T_ASSERT(memcmp(out, "ping", 4) == 0);
    /* More input than the RCVR FIFO holds: paced, nothing lost. */
    for (i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)(i * 7 + 1);
    }
    T_EQ(send(cl, big, sizeof(big), 0), sizeof(big));
    T_EQ(guest_read(t, COM1, got, sizeof(got)), sizeof(got));
    T_ASSERT(memcmp(big, got, sizeof(big)) == 0);
    /* Input sent just before hanging up is still delivered, even when
     * the hang-up is seen while the RCVR FIFO is full. */
    T_EQ(send(cl, "0123456789abcdef-bye", 20, 0), 20);
    close(cl);
    for (i = 0; i < 50; i++) {
        pump(t);
    }
    T_EQ(guest_read(t, COM1, got, 20), 20);
    T_ASSERT(memcmp(got, "0123456789abcdef-bye", 20) == 0);
    /* The next client is served. */
    wait_connected(t, c, true);
    guest_write(t, COM1, "next");
    T_EQ(host_read(t, cl2, out, 4), 4);
    T_ASSERT(memcmp(out, "next", 4) == 0);
    close(cl2);
    wait_connected(t, c, false);
    t_machine_free(t);
    T_ASSERT(access(path, F_OK) != 0);      /* socket file removed */
    g_free(path);
}

T_TEST(uart_unix_client_reconnects)
{
    char *path = tmp_path("cli.sock");
    g_autofree char *spec = g_strdup_printf("unix:%s,reconnect=1", path);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct t_machine *t;
    struct dm_chardev *c;
    char out[4];
    int lfd, conn;

    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    unlink(path);
    T_ASSERT(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    T_ASSERT(listen(lfd, 4) == 0);
    t = uart_machine(spec);
    c = serial_chardev(t, "serial0");
    T_ASSERT(dm_chardev_connected(c));
    conn = accept(lfd, NULL, NULL);
    T_ASSERT(conn >= 0);
    fcntl(conn, F_SETFL, O_NONBLOCK);
    guest_write(t, COM1, "a");
    T_EQ(host_read(t, conn, out, 1), 1);
    T_EQ(out[0], 'a');
    close(conn);
    wait_connected(t, c, false);
    t_clock_step(t, 1000000000);            /* reconnect=1 */
    T_ASSERT(dm_chardev_connected(c));
    conn = accept(lfd, NULL, NULL);
    T_ASSERT(conn >= 0);
    fcntl(conn, F_SETFL, O_NONBLOCK);
    guest_write(t, COM1, "b");
    T_EQ(host_read(t, conn, out, 1), 1);
    T_EQ(out[0], 'b');
    close(conn);
    close(lfd);
    t_machine_free(t);
    unlink(path);
    g_free(path);
}

T_TEST(uart_file_backend_truncates)
{
    char *path = tmp_path("trunc.out");
    g_autofree char *spec = g_strdup_printf("file:%s", path);
    struct t_machine *t;
    gchar *contents = NULL;

    T_ASSERT(g_file_set_contents(path, "old contents", -1, NULL));
    t = uart_machine(spec);
    T_ASSERT(strcmp(dm_chardev_filename(serial_chardev(t, "serial0")),
                    spec) == 0);
    guest_write(t, COM1, "new");
    t_machine_free(t);
    T_ASSERT(g_file_get_contents(path, &contents, NULL, NULL));
    T_ASSERT(strcmp(contents, "new") == 0);
    g_free(contents);
    unlink(path);
    g_free(path);
}

T_TEST(uart_stdio_backend)
{
    int in[2], out[2], saved0 = dup(0), saved1 = dup(1);
    struct t_machine *t;
    uint8_t b;
    char got[2];

    T_ASSERT(pipe(in) == 0 && pipe(out) == 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    t = uart_machine("stdio");
    guest_write(t, COM1, "hi");
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    T_EQ(host_read(t, out[0], got, 2), 2);
    T_ASSERT(memcmp(got, "hi", 2) == 0);
    T_EQ(write(in[1], "k", 1), 1);
    T_EQ(guest_read(t, COM1, &b, 1), 1);
    T_EQ(b, 'k');
    t_machine_free(t);
    dup2(saved0, 0);
    dup2(saved1, 1);
}

T_TEST(uart_chardev_reference)
{
    const char *argv[] = { "-chardev", "pty,id=con0",
                           "-serial", "chardev:con0", NULL };
    struct t_machine *t = uart_machine_argv(argv);
    struct dm_chardev *c = serial_chardev(t, "con0");

    T_ASSERT(g_str_has_prefix(dm_chardev_filename(c), "pty:/dev/"));
    T_EQ(t_inb(t, COM1 + LSR), LSR_THRE | LSR_TEMT);
    t_machine_free(t);
}

T_TEST(uart_backend_errors_name_the_fix)
{
    static const struct {
        const char *spec;
        const char *expect;
    } bad[] = {
        { "bogus", "use pty, null" },
        { "tcp:localhost:4555", "unknown backend" },
        { "unix:/tmp/x,frob", "bad socket option 'frob'" },
        { "unix:/nonexistent-hvmdm-dir/s", "reconnect=SECONDS" },
        { "file:/nonexistent-hvmdm-dir/f", "cannot open" },
        { "chardev:nope", "no -chardev with id=nope" },
    };
    struct t_opts o = { .no_board = true };
    struct t_machine *t = t_machine_new(&o);
    struct dm_chardev *c;
    char err[512];
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        err[0] = 0;
        c = dm_chardev_new_spec(t->dm, NULL, bad[i].spec, "serial0", err,
                                sizeof(err));
        T_ASSERT(c == NULL);
        if (!strstr(err, bad[i].expect)) {
            t_fail(__FILE__, __LINE__, "%s: '%s'", bad[i].spec, err);
        }
    }
    T_ASSERT(dm_chardev_next(t->dm, NULL) == NULL);
    t_machine_free(t);
}

/* ---- back-pressure --------------------------------------------------- */

/* Write bytes 0, 1, 2, ... 16 at a time on THRE, as Linux's 8250 does. */
static size_t
guest_tx_burst(struct t_machine *t, size_t sent, size_t limit)
{
    unsigned int i;

    while (sent < limit && (t_inb(t, COM1 + LSR) & LSR_THRE)) {
        for (i = 0; i < 16 && sent < limit; i++, sent++) {
            t_outb(t, COM1 + THR, (uint8_t)(sent * 13));
        }
    }
    return sent;
}

T_TEST(uart_backpressure_keeps_order_and_loses_nothing)
{
    char *path = tmp_path("bp.fifo");
    g_autofree char *spec = g_strdup_printf("file:%s", path);
    enum { TOTAL = 40000 };
    static uint8_t got[TOTAL];
    struct t_machine *t;
    size_t sent, recvd = 0, i;
    int rfd, rounds;

    T_ASSERT(mkfifo(path, 0600) == 0);
    rfd = open(path, O_RDONLY | O_NONBLOCK);
    T_ASSERT(rfd >= 0);
    T_ASSERT(fcntl(rfd, F_SETPIPE_SZ, 4096) >= 4096);
    t = uart_machine(spec);
    t_outb(t, COM1 + FCR, 0x07);
    t_outb(t, COM1 + MCR, MCR_OUT2);
    t_outb(t, COM1 + IER, 0x02);
    (void)t_inb(t, COM1 + IIR);
    /* Nobody reads: the pipe and the backend buffer fill, then THRE and
     * TEMT stay clear and no THRE interrupt is raised. */
    sent = guest_tx_burst(t, 0, TOTAL);
    T_ASSERT(sent >= 4096 + DM_CHARDEV_OUTBUF);
    T_ASSERT(sent < TOTAL);
    for (rounds = 0; rounds < 20; rounds++) {
        pump(t);
    }
    T_EQ(t_inb(t, COM1 + LSR) & (LSR_THRE | LSR_TEMT), 0);
    T_EQ(t_isa_irq(t, 4), 0);
    T_EQ(t_inb(t, COM1 + IIR), IIR_NONE);
    /* The reader catches up: the THRE interrupt comes back. */
    for (rounds = 0; rounds < WAIT_ROUNDS && !t_isa_irq(t, 4); rounds++) {
        ssize_t n = read(rfd, got + recvd, TOTAL - recvd);

        recvd += n > 0 ? (size_t)n : 0;
        pump(t);
    }
    T_EQ(t_isa_irq(t, 4), 1);
    T_EQ(t_inb(t, COM1 + IIR), IIR_THRE);
    /* Stream the rest through a reader that is slower than the guest. */
    for (rounds = 0; rounds < WAIT_ROUNDS && recvd < TOTAL; rounds++) {
        ssize_t n = read(rfd, got + recvd, MIN(1000, TOTAL - recvd));

        recvd += n > 0 ? (size_t)n : 0;
        sent = guest_tx_burst(t, sent, TOTAL);
        if (n > 0) {
            rounds = 0;
        }
        pump(t);
    }
    T_EQ(sent, TOTAL);
    T_EQ(recvd, TOTAL);
    for (i = 0; i < TOTAL; i++) {
        if (got[i] != (uint8_t)(i * 13)) {
            t_fail(__FILE__, __LINE__, "byte %zu: %u", i, got[i]);
        }
    }
    T_EQ(t_inb(t, COM1 + LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
    t_machine_free(t);
    close(rfd);
    unlink(path);
    g_free(path);
}

/* ---- save / load ----------------------------------------------------- */

T_TEST(uart_save_load_round_trip)
{
    struct t_machine *t = uart_machine("null"), *t2;

    t_outb(t, COM1 + LCR, 0x80);
    t_outb(t, COM1 + DLL, 3);
    t_outb(t, COM1 + DLM, 0);
    t_outb(t, COM1 + LCR, 0x1b);
    t_outb(t, COM1 + FCR, 0x87);            /* FIFOs, trigger 8 */
    t_outb(t, COM1 + SCR, 0x42);
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2);
    t_outb(t, COM1 + THR, 'r');
    t_outb(t, COM1 + THR, 's');
    t_outb(t, COM1 + THR, 't');
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2 | MCR_DTR);
    t_outb(t, COM1 + IER, 0x0d);            /* ELSI, EDSSI, ERBFI */
    T_EQ(t_isa_irq(t, 4), 1);               /* modem status */

    t2 = uart_machine("null");
    t_state_round_trip(t, t2);
    T_EQ(t_isa_irq(t2, 4), 1);
    T_EQ(t_inb(t2, COM1 + LCR), 0x1b);
    T_EQ(t_inb(t2, COM1 + SCR), 0x42);
    T_EQ(t_inb(t2, COM1 + IER), 0x0d);
    T_EQ(t_inb(t2, COM1 + IIR), IIR_MS);
    T_EQ(t_inb(t2, COM1 + MSR), 0xa3);     /* DCD DSR, DDSR DCTS */
    t_clock_step(t2, 100000000);            /* the timeout was armed */
    T_EQ(t_inb(t2, COM1 + IIR), IIR_CTI);
    T_EQ(t_inb(t2, COM1 + RBR), 'r');
    T_EQ(t_inb(t2, COM1 + RBR), 's');
    T_EQ(t_inb(t2, COM1 + RBR), 't');
    t_outb(t2, COM1 + LCR, 0x9b);
    T_EQ(t_inb(t2, COM1 + DLL), 3);
    t_machine_free(t2);
    t_machine_free(t);
}

/* Record layout, version 1: rx_data[16], tx_data[16], rx_count (32),
 * tx_count, ier, fcr, lcr, mcr (37), lsr_err, msr (39), scr, dll, dlm,
 * flags (43), reserved[4]. */
T_TEST(uart_check_rejects_bad_records)
{
    static const struct {
        unsigned int off;
        uint8_t val;
    } bad[] = {
        { 32, 17 },             /* rx_count beyond the FIFO */
        { 33, 2 },              /* tx_count 2 with FIFOs off */
        { 34, 0x10 },           /* IER reserved bit */
        { 35, 0x02 },           /* FCR reset bits are not state */
        { 37, 0x20 },           /* MCR reserved bit */
        { 38, 0x01 },           /* DR is not an error bit */
        { 39, 0x00 },           /* MSR inputs disagree with MCR */
        { 43, 0x08 },           /* unknown flag */
        { 44, 1 },              /* reserved */
    };
    struct t_machine *t = uart_machine("null");
    struct dm_dev *d = t_find_dev(t, "uart16550");
    uint8_t rec[64], tmp[64];
    size_t i;

    T_ASSERT(d != NULL);
    T_EQ(d->ops->state_size, 48);
    d->ops->save(d->opaque, rec);
    T_EQ(d->ops->check(rec), 0);
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        memcpy(tmp, rec, sizeof(rec));
        tmp[bad[i].off] = bad[i].val;
        if (d->ops->check(tmp) == 0) {
            t_fail(__FILE__, __LINE__, "offset %u value 0x%x accepted",
                   bad[i].off, bad[i].val);
        }
    }
    t_machine_free(t);
}

T_TEST(uart_reset_clears_state)
{
    struct t_machine *t = uart_machine("null");

    t_outb(t, COM1 + FCR, 0x07);
    t_outb(t, COM1 + MCR, MCR_LOOP | MCR_OUT2);
    t_outb(t, COM1 + THR, 'a');
    t_outb(t, COM1 + IER, 0x0f);
    T_EQ(t_isa_irq(t, 4), 1);
    dm_reset_all(t->dm);
    T_EQ(t_isa_irq(t, 4), 0);
    T_EQ(t_inb(t, COM1 + IIR), 0x01);
    T_EQ(t_inb(t, COM1 + LSR), LSR_THRE | LSR_TEMT);
    T_EQ(t_inb(t, COM1 + MSR), 0xb0);
    T_EQ(t_inb(t, COM1 + MCR), 0);
    t_machine_free(t);
}
