/*
 * Helpers for the e1000 tests and bench/e1000: a machine with one 82540EM
 * whose backend is one end of a datagram socket pair (the test holds the
 * other end, so what the NIC sends is what the test receives), its BARs
 * programmed as SeaBIOS leaves them, rings in guest RAM, and the register
 * sequences of Linux's e1000 driver (e1000_hw.c, e1000_main.c).
 */
#ifndef TESTS_E1000_UTIL_H
#define TESTS_E1000_UTIL_H

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hw/pci/pci.h"
#include "tests/harness.h"
#include "tests/t.h"

#define NIC_BDF         PCI_DEVFN(4, 0)
#define NIC_SLOT        4
#define NIC_MMIO        0xf0000000u
#define NIC_IO          0xc100u
#define NIC_MAC         "\x00\x16\x3e\x12\x34\x56"

/* Registers (8254x SDM 13) the tests touch. */
#define CTRL    0x0000
#define STATUS  0x0008
#define EECD    0x0010
#define EERD    0x0014
#define MDIC    0x0020
#define VET     0x0038
#define ICR     0x00c0
#define ITR     0x00c4
#define ICS     0x00c8
#define IMS     0x00d0
#define IMC     0x00d8
#define RCTL    0x0100
#define TCTL    0x0400
#define RDBAL   0x2800
#define RDBAH   0x2804
#define RDLEN   0x2808
#define RDH     0x2810
#define RDT     0x2818
#define RDTR    0x2820
#define RXDCTL  0x2828
#define RADV    0x282c
#define TDBAL   0x3800
#define TDBAH   0x3804
#define TDLEN   0x3808
#define TDH     0x3810
#define TDT     0x3818
#define TIDV    0x3820
#define TADV    0x382c
#define MPC     0x4010
#define GPRC    0x4074
#define GPTC    0x4080
#define GORCL   0x4088
#define GORCH   0x408c
#define RNBC    0x40a0
#define ROC     0x40ac
#define TPT     0x40d4
#define TSCTC   0x40f8
#define TSCTFC  0x40fc
#define RXCSUM  0x5000
#define MTA     0x5200
#define RAL0    0x5400
#define RAH0    0x5404
#define VFTA    0x5600

#define I_TXDW   0x01
#define I_TXQE   0x02
#define I_LSC    0x04
#define I_RXDMT0 0x10
#define I_RXO    0x40
#define I_RXT0   0x80

#define RCTL_EN  0x02
#define RCTL_UPE 0x08
#define RCTL_MPE 0x10
#define RCTL_LPE 0x20
#define RCTL_LBM_MAC 0x40
#define RCTL_BAM 0x8000
#define RCTL_VFE (1u << 18)
#define RCTL_BSEX (1u << 25)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN  0x02
#define TCTL_PSP 0x08

/* Guest memory layout. */
#define G_TXR    0x10000u       /* 256 TX descriptors */
#define G_RXR    0x20000u       /* 256 RX descriptors */
#define G_TXBUF  0x100000u      /* 1 MiB of transmit data */
#define G_RXBUF  0x400000u      /* 256 x 16 KiB receive buffers */
#define RX_STRIDE 0x4000u

struct nic {
    struct t_machine *t;
    int peer;                   /* the wire: what the NIC sends arrives here */
    unsigned int ntx, nrx;
    unsigned int tdt, rdt;
};

static inline void
nic_wr(struct nic *n, uint32_t off, uint32_t v)
{
    t_writel(n->t, NIC_MMIO + off, v);
}

static inline uint32_t
nic_rd(struct nic *n, uint32_t off)
{
    return t_readl(n->t, NIC_MMIO + off);
}

/* Run the main loop's ready sources (backend fds) a few times. */
static inline void
nic_pump(struct nic *n)
{
    unsigned int i;

    for (i = 0; i < 8; i++) {
        g_main_context_iteration(NULL, FALSE);
    }
}

static inline struct t_machine *
nic_machine(int fd, const char *extra_dev)
{
    char netdev[64], dev[128];
    const char *argv[] = { "-device", dev, "-netdev", netdev, NULL };
    struct t_opts o = { .argv = argv };

    snprintf(netdev, sizeof(netdev), "socket,id=n0,fd=%d", fd);
    snprintf(dev, sizeof(dev), "e1000,id=nic0,netdev=n0,"
             "mac=00:16:3e:12:34:56%s", extra_dev ? extra_dev : "");
    return t_machine_new(&o);
}

/* SeaBIOS's PCI set-up: BAR0 memory, BAR1 I/O, decode and bus master. */
static inline void
nic_program_pci(struct t_machine *t)
{
    t_cfg_write(t, NIC_BDF, PCI_BASE_ADDRESS_0, NIC_MMIO, 4);
    t_cfg_write(t, NIC_BDF, PCI_BASE_ADDRESS_0 + 4, NIC_IO, 4);
    t_cfg_write(t, NIC_BDF, PCI_INTERRUPT_LINE, 11, 1);
    t_cfg_write(t, NIC_BDF, PCI_COMMAND, PCI_COMMAND_IO |
                PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static inline void
nic_open(struct nic *n)
{
    int sv[2];

    memset(n, 0, sizeof(*n));
    T_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    n->peer = sv[0];
    n->t = nic_machine(sv[1], NULL);
    nic_program_pci(n->t);
}

static inline void
nic_close(struct nic *n)
{
    t_machine_free(n->t);
    close(n->peer);
}

/* e1000_configure_tx/rx: rings, buffers, enables (Linux e1000_main.c). */
static inline void
nic_rings(struct nic *n, unsigned int ntx, unsigned int nrx, uint32_t rctl)
{
    unsigned int i;

    n->ntx = ntx;
    n->nrx = nrx;
    t_memset(n->t, G_TXR, 0, 16 * ntx);
    t_memset(n->t, G_RXR, 0, 16 * nrx);
    for (i = 0; i < nrx; i++) {
        uint64_t a = G_RXBUF + (uint64_t)i * RX_STRIDE;

        t_memwrite(n->t, G_RXR + 16 * i, &a, 8);
    }
    nic_wr(n, TDBAL, G_TXR);
    nic_wr(n, TDBAH, 0);
    nic_wr(n, TDLEN, 16 * ntx);
    nic_wr(n, TDH, 0);
    nic_wr(n, TDT, 0);
    nic_wr(n, TCTL, TCTL_EN | TCTL_PSP | 0x0f << 4 | 0x40 << 12);
    nic_wr(n, RDBAL, G_RXR);
    nic_wr(n, RDBAH, 0);
    nic_wr(n, RDLEN, 16 * nrx);
    nic_wr(n, RDH, 0);
    n->rdt = nrx - 1;
    nic_wr(n, RDT, n->rdt);
    nic_wr(n, RCTL, rctl);
    n->tdt = 0;
}

/* Queue one transmit descriptor (not yet rung). */
static inline void
nic_txd(struct nic *n, uint64_t addr, uint32_t lower, uint32_t upper)
{
    uint8_t d[16];

    memcpy(d, &addr, 8);
    memcpy(d + 8, &lower, 4);
    memcpy(d + 12, &upper, 4);
    t_memwrite(n->t, G_TXR + 16 * n->tdt, d, 16);
    n->tdt = (n->tdt + 1) % n->ntx;
}

static inline void
nic_tx_ring(struct nic *n)
{
    nic_wr(n, TDT, n->tdt);
}

/* Legacy descriptor: length, CMD EOP|IFCS|RS (SDM 3.3.3). */
static inline void
nic_send_legacy(struct nic *n, const void *frame, size_t len)
{
    t_memwrite(n->t, G_TXBUF, frame, len);
    nic_txd(n, G_TXBUF, (uint32_t)len | 0x0bu << 24, 0);
    nic_tx_ring(n);
}

/* Hand descriptor i back to the NIC, as e1000_alloc_rx_buffers does. */
static inline void
nic_rx_refill(struct nic *n, unsigned int count)
{
    unsigned int i;

    for (i = 0; i < count; i++) {
        uint64_t a;

        n->rdt = (n->rdt + 1) % n->nrx;
        a = G_RXBUF + (uint64_t)n->rdt * RX_STRIDE;
        t_memset(n->t, G_RXR + 16 * n->rdt, 0, 16);
        t_memwrite(n->t, G_RXR + 16 * n->rdt, &a, 8);
    }
    nic_wr(n, RDT, n->rdt);
}

/* Received descriptor i: length, status, errors, special. */
struct nic_rxd {
    uint16_t len, csum;
    uint8_t status, errors;
    uint16_t special;
};

static inline struct nic_rxd
nic_rxd(struct nic *n, unsigned int i)
{
    uint8_t d[16];
    struct nic_rxd r;

    t_memread(n->t, G_RXR + 16 * i, d, 16);
    memcpy(&r.len, d + 8, 2);
    memcpy(&r.csum, d + 10, 2);
    r.status = d[12];
    r.errors = d[13];
    memcpy(&r.special, d + 14, 2);
    return r;
}

/* A frame from src to dst with ethertype and a counting payload. */
static inline size_t
nic_frame(uint8_t *f, const uint8_t *dst, uint16_t type, size_t len)
{
    size_t i;

    memcpy(f, dst, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
    for (i = 14; i < len; i++) {
        f[i] = (uint8_t)(i * 7 + 3);
    }
    return len;
}

#endif
