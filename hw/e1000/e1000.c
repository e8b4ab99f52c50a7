/*
 * Intel 82540EM Gigabit Ethernet controller (8086:100E): BAR0 128 KiB of
 * registers, BAR1 the IOADDR/IODATA window, the iPXE option ROM, INTA.
 * The register file is decoded through e1000_regs[], one entry per dword
 * (offset, masks, read-to-clear, handlers). Transmit and receive walk the
 * guest's descriptor rings through the bounded guest-memory API, copying
 * each descriptor once and never more than a ring's worth per doorbell.
 *
 * Reference: PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual (8254x SDM, 317453-006), cited as "SDM section".
 * Linux drivers/net/ethernet/intel/e1000 is the reference sequence.
 */
#include "hw/e1000/e1000.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>         /* crc32 for the FCS */

#include "dm/config.h"    /* struct dm_nic_cfg */
#include "dm/dev.h"       /* dm_dev_register */
#include "dm/gmem.h"      /* gm_read, gm_write */
#include "dm/log.h"       /* GUEST_ERR */
#include "dm/machine.h"   /* struct dm */
#include "dm/timer.h"     /* dm_timer_* */
#include "hw/board.h"     /* dm->board->pci */
#include "hw/pci/pci.h"
#include "net/csum.h"     /* net_csum_add */
#include "net/net.h"      /* net_send */

#define E1000_DEVICE_ID   0x100e        /* 82540EM desktop (SDM 5.1) */
#define E1000_MMIO_SIZE   0x20000
#define E1000_IO_SIZE     0x40
#define E1000_NREGS       (0x6000 / 4)  /* modelled; above reads 0 */
#define E1000_EE_WORDS    64            /* 82540EM: 1 Kbit microwire */
#define E1000_PHY_REGS    32
#define E1000_PHY_ADDR    1
#define E1000_ROM_DIR     "/usr/lib/ipxe/qemu/"

/* ---- registers (SDM 13, table 13-2) ------------------------------------ */

#define E1000_CTRL      0x0000
#define E1000_STATUS    0x0008
#define E1000_EECD      0x0010
#define E1000_EERD      0x0014
#define E1000_CTRL_EXT  0x0018
#define E1000_FLA       0x001c
#define E1000_MDIC      0x0020
#define E1000_FCAL      0x0028
#define E1000_FCAH      0x002c
#define E1000_FCT       0x0030
#define E1000_VET       0x0038
#define E1000_ICR       0x00c0
#define E1000_ITR       0x00c4
#define E1000_ICS       0x00c8
#define E1000_IMS       0x00d0
#define E1000_IMC       0x00d8
#define E1000_RCTL      0x0100
#define E1000_FCTTV     0x0170
#define E1000_TXCW      0x0178
#define E1000_RXCW      0x0180
#define E1000_TCTL      0x0400
#define E1000_TIPG      0x0410
#define E1000_AIT       0x0458
#define E1000_LEDCTL    0x0e00
#define E1000_PBA       0x1000
#define E1000_FCRTL     0x2160
#define E1000_FCRTH     0x2168
#define E1000_RDBAL     0x2800
#define E1000_RDBAH     0x2804
#define E1000_RDLEN     0x2808
#define E1000_RDH       0x2810
#define E1000_RDT       0x2818
#define E1000_RDTR      0x2820
#define E1000_RXDCTL    0x2828
#define E1000_RADV      0x282c
#define E1000_RSRPD     0x2c00
#define E1000_TXDMAC    0x3000
#define E1000_TDBAL     0x3800
#define E1000_TDBAH     0x3804
#define E1000_TDLEN     0x3808
#define E1000_TDH       0x3810
#define E1000_TDT       0x3818
#define E1000_TIDV      0x3820
#define E1000_TXDCTL    0x3828
#define E1000_TADV      0x382c
#define E1000_TSPMT     0x3830
#define E1000_STATS     0x4000          /* 0x4000-0x40fc, SDM 13.7 */
#define E1000_STATS_END 0x4100
#define E1000_RXCSUM    0x5000
#define E1000_MTA       0x5200          /* 128 dwords */
#define E1000_RA        0x5400          /* 16 RAL/RAH pairs */
#define E1000_VFTA      0x5600          /* 128 dwords */
#define E1000_WUC       0x5800
#define E1000_WUFC      0x5808
#define E1000_WUS       0x5810
#define E1000_MANC      0x5820
#define E1000_IPAV      0x5838
#define E1000_IP4AT     0x5840
#define E1000_IP6AT     0x5880
#define E1000_WUPL      0x5900
#define E1000_WUPM      0x5a00
#define E1000_FFLT      0x5f00

/* Statistics (SDM 13.7): the ones the device counts. */
#define E1000_CRCERRS   0x4000
#define E1000_MPC       0x4010
#define E1000_PRC64     0x405c
#define E1000_GPRC      0x4074
#define E1000_BPRC      0x4078
#define E1000_MPRC      0x407c
#define E1000_GPTC      0x4080
#define E1000_GORCL     0x4088
#define E1000_GORCH     0x408c
#define E1000_GOTCL     0x4090
#define E1000_GOTCH     0x4094
#define E1000_RNBC      0x40a0
#define E1000_RUC       0x40a4
#define E1000_ROC       0x40ac
#define E1000_TORL      0x40c0
#define E1000_TORH      0x40c4
#define E1000_TOTL      0x40c8
#define E1000_TOTH      0x40cc
#define E1000_TPR       0x40d0
#define E1000_TPT       0x40d4
#define E1000_PTC64     0x40d8
#define E1000_MPTC      0x40f0
#define E1000_BPTC      0x40f4
#define E1000_TSCTC     0x40f8
#define E1000_TSCTFC    0x40fc

/* CTRL (SDM 13.4.1) */
#define CTRL_FD         (1u << 0)
#define CTRL_SLU        (1u << 6)
#define CTRL_SPD_1000   (2u << 8)
#define CTRL_RST        (1u << 26)
#define CTRL_VME        (1u << 30)
#define CTRL_PHY_RST    (1u << 31)
/* STATUS (SDM 13.4.2): full duplex, link up, 1000 Mb/s */
#define STATUS_FD       (1u << 0)
#define STATUS_LU       (1u << 1)
#define STATUS_SPEED_1000 (2u << 6)
#define STATUS_ASDV_1000  (2u << 8)
/* EECD (SDM 13.4.3) */
#define EECD_SK         (1u << 0)
#define EECD_CS         (1u << 1)
#define EECD_DI         (1u << 2)
#define EECD_DO         (1u << 3)
#define EECD_FWE        (3u << 4)
#define EECD_REQ        (1u << 6)
#define EECD_GNT        (1u << 7)
#define EECD_PRES       (1u << 8)
#define EE_READ_OPCODE  6               /* start bit + 10b (SDM 5.3.1) */
/* EERD (SDM 13.4.4) */
#define EERD_START      (1u << 0)
#define EERD_DONE       (1u << 4)
/* MDIC (SDM 13.4.7) */
#define MDIC_OP_WRITE   1u
#define MDIC_OP_READ    2u
#define MDIC_READY      (1u << 28)
#define MDIC_INT_EN     (1u << 29)
#define MDIC_ERROR      (1u << 30)
/* Interrupt causes (SDM 13.4.17) */
#define ICR_TXDW        (1u << 0)
#define ICR_TXQE        (1u << 1)
#define ICR_LSC         (1u << 2)
#define ICR_RXDMT0      (1u << 4)
#define ICR_RXO         (1u << 6)
#define ICR_RXT0        (1u << 7)
#define ICR_MDAC        (1u << 9)
#define ICR_TXD_LOW     (1u << 15)
#define ICR_MASK        0x0001f6dfu     /* causes the 82540EM has */
/* RCTL (SDM 13.4.22) */
#define RCTL_EN         (1u << 1)
#define RCTL_SBP        (1u << 2)
#define RCTL_UPE        (1u << 3)
#define RCTL_MPE        (1u << 4)
#define RCTL_LPE        (1u << 5)
#define RCTL_LBM        (3u << 6)
#define RCTL_RDMTS_SHIFT 8
#define RCTL_MO_SHIFT   12
#define RCTL_BAM        (1u << 15)
#define RCTL_BSIZE_SHIFT 16
#define RCTL_VFE        (1u << 18)
#define RCTL_BSEX       (1u << 25)
#define RCTL_SECRC      (1u << 26)
/* TCTL (SDM 13.4.33) */
#define TCTL_EN         (1u << 1)
#define TCTL_PSP        (1u << 3)
/* RXDCTL (SDM 13.4.27): the write-back threshold and its unit */
#define RXDCTL_WTHRESH_SHIFT 16
#define RXDCTL_WTHRESH_MASK 0x3fu
#define RXDCTL_GRAN     (1u << 24)      /* 1: descriptors, 0: cache lines */
/* Receive write-backs held for WTHRESH, at most (a 64-bit dword mask). */
#define E1000_WB_MAX    64
/* RDTR (SDM 13.4.30) */
#define RDTR_FPD        (1u << 31)
/* RXCSUM (SDM 13.4.49) */
#define RXCSUM_IPOFL    (1u << 8)
#define RXCSUM_TUOFL    (1u << 9)
/* RAH (SDM 13.4.51) */
#define RAH_AV          (1u << 31)

/* Transmit descriptors (SDM 3.3.3, 3.3.6, 3.3.7) */
#define TXD_CMD_EOP     0x01
#define TXD_CMD_IFCS    0x02
#define TXD_CMD_IC      0x04            /* legacy: insert checksum */
#define TXD_CMD_TSE     0x04            /* extended: TCP segmentation */
#define TXD_CMD_RS      0x08
#define TXD_CMD_DEXT    0x20
#define TXD_CMD_VLE     0x40
#define TXD_CMD_IDE     0x80
#define TXD_DTYP_CTX    0x0
#define TXD_DTYP_DATA   0x1
#define TXD_STA_DD      0x01
#define TXD_POPTS_IXSM  0x01
#define TXD_POPTS_TXSM  0x02
#define TUCMD_TCP       0x01
#define TUCMD_IP        0x02            /* IPv4 (else IPv6) */
/* Receive descriptor status and errors (SDM 3.2.3) */
#define RXD_STA_DD      0x01
#define RXD_STA_EOP     0x02
#define RXD_STA_IXSM    0x04
#define RXD_STA_VP      0x08
#define RXD_STA_TCPCS   0x20
#define RXD_STA_IPCS    0x40
#define RXD_ERR_TCPE    0x20
#define RXD_ERR_IPE     0x40

/* Frame limits (SDM 3.2.2, 8.2.4): 60 bytes minimum without the FCS. */
#define ETH_ZLEN        60
#define ETH_FCS_LEN     4
#define ETH_HLEN        14
#define E1000_MAX_STD   1522            /* with a VLAN tag, no LPE */
#define E1000_MAX_LPE   16384           /* 82540EM jumbo limit */
/* Transmit buffer: a 64 KiB TSO segment or frame plus VLAN headroom. */
#define E1000_TX_HEADROOM 4
#define E1000_TX_BUF    65536u

/* PHY registers (SDM 13.5; M88E1011 for the 82540EM) */
#define PHY_CTRL        0
#define PHY_STATUS      1
#define PHY_ID1         2
#define PHY_ID2         3
#define PHY_AUTONEG_ADV 4
#define PHY_LP_ABILITY  5
#define PHY_AUTONEG_EXP 6
#define PHY_1000T_CTRL  9
#define PHY_1000T_STATUS 10
#define PHY_EXT_STATUS  15
#define M88_PHY_SPEC_CTRL 16
#define M88_PHY_SPEC_STATUS 17
#define M88_INT_ENABLE  18
#define M88_EXT_PHY_SPEC_CTRL 20
#define M88_PAGE_SELECT 29
#define M88_GEN_CONTROL 30
#define PHY_CTRL_RESTART_AN 0x0200
#define PHY_CTRL_RESET  0x8000

/* ---- state --------------------------------------------------------------- */

/* Context descriptor fields (SDM 3.3.6), kept until the next context. */
struct e1000_tx_ctx {
    uint8_t ipcss, ipcso;
    uint16_t ipcse;
    uint8_t tucss, tucso;
    uint16_t tucse;
    uint32_t paylen;
    uint8_t tucmd, hdr_len;
    uint16_t mss;
};
_Static_assert(sizeof(struct e1000_tx_ctx) == 16, "e1000_tx_ctx layout");

/* One descriptor as copied from the ring (SDM 3.3.3, 3.2.3). */
struct e1000_desc {
    uint64_t addr;
    uint32_t lower;
    uint32_t upper;
};
_Static_assert(sizeof(struct e1000_desc) == 16, "descriptor layout");

enum e1000_timer_id {
    E1000_T_TIDV, E1000_T_TADV, E1000_T_RDTR, E1000_T_RADV, E1000_T_ITR,
    E1000_T_NR,
};

struct e1000;

struct e1000_timer {
    struct dm_timer timer;
    struct e1000 *s;
    enum e1000_timer_id id;
};

/* The microwire EEPROM's serial interface (SDM 5.3.1). */
struct e1000_eeprom_if {
    uint32_t val_in;            /* bits clocked in since CS rose */
    uint16_t bit_in;
    uint16_t bit_out;           /* next data bit, word * 16 + bit */
    bool reading;
};

/* The packet being gathered from transmit descriptors. */
struct e1000_tx {
    struct e1000_tx_ctx ctx;    /* the last context descriptor's */
    struct e1000_tx_ctx pctx;   /* ctx as this packet began: its own */
    uint32_t len;               /* bytes in buf after the headroom */
    uint32_t tso_sent;          /* payload bytes in earlier segments */
    uint16_t tso_frames;
    uint8_t popts;              /* data descriptor POPTS of this packet */
    uint8_t legacy_css, legacy_cso;
    bool legacy_ic;
    bool tse;
    bool gso;                   /* whole TSO packet to a vnet-hdr backend */
    bool vle;
    uint16_t vlan;
    bool drop;                  /* bad TSO context or DMA fault: discard */
    bool truncated;
    uint8_t header[256];        /* pristine TSO header */
    uint8_t buf[E1000_TX_HEADROOM + E1000_TX_BUF];
};

/*
 * Receive descriptors used but not yet written back: RXDCTL.WTHRESH holds
 * them until that many are ready, the receive timer ends (RXT0) or
 * RDTR.FPD flushes (SDM 3.2.7, 13.4.27). They follow one another in the
 * ring from first; wb[i] is the status half (length, status, errors,
 * special) of descriptor first + i.
 */
struct e1000_rx_wb {
    uint16_t first;
    uint16_t count;
    uint8_t wb[E1000_WB_MAX][8];
};

struct e1000 {
    struct pci_dev pci;
    struct dm_dev dev;
    struct dm *dm;
    struct net_backend *net;
    unsigned int index;
    uint8_t mac[6];
    uint32_t regs[E1000_NREGS];
    uint16_t eeprom[E1000_EE_WORDS];
    uint16_t phy[E1000_PHY_REGS];
    struct e1000_eeprom_if ee;
    struct e1000_timer timers[E1000_T_NR];
    uint64_t itr_next_ns;       /* earliest next interrupt under ITR */
    uint32_t ioaddr;            /* IOADDR (SDM 13.2) */
    uint8_t *rom;
    size_t rom_len;
    struct e1000_tx tx;
    struct e1000_rx_wb wb;
    uint8_t rx_buf[E1000_MAX_LPE + ETH_FCS_LEN];
};

/* Saved state (rule 13). The partial packet of an open TX is not kept. */
struct e1000_rec {
    struct pci_dev_state pci;
    uint32_t regs[E1000_NREGS];
    uint16_t eeprom[E1000_EE_WORDS];
    uint16_t phy[E1000_PHY_REGS];
    uint32_t ee_val_in;
    uint16_t ee_bit_in, ee_bit_out;
    uint8_t ee_reading;
    uint8_t timers;             /* bit per pending enum e1000_timer_id */
    uint8_t reserved[6];
    struct e1000_tx_ctx ctx;
    uint32_t ioaddr;
    struct e1000_rx_wb wb;      /* write-backs held by WTHRESH */
};
_Static_assert(sizeof(struct e1000_rec) ==
               264 + 4 * E1000_NREGS + 2 * E1000_EE_WORDS +
               2 * E1000_PHY_REGS + 16 + 20 + 4 + 8 * E1000_WB_MAX,
               "e1000_rec layout");

static inline uint32_t
reg(const struct e1000 *s, unsigned int off)
{
    return s->regs[off >> 2];
}

static inline void
reg_set(struct e1000 *s, unsigned int off, uint32_t v)
{
    s->regs[off >> 2] = v;
}

static struct e1000 *
e1000_of(struct pci_dev *d)
{
    return (struct e1000 *)((char *)d - offsetof(struct e1000, pci));
}

/* ---- statistics (SDM 13.7): saturating, read to clear ------------------ */

static void
stat_inc(struct e1000 *s, unsigned int off)
{
    if (s->regs[off >> 2] != UINT32_MAX) {
        s->regs[off >> 2]++;
    }
}

static void
stat_add64(struct e1000 *s, unsigned int lo, uint64_t n)
{
    uint64_t v = (uint64_t)reg(s, lo + 4) << 32 | reg(s, lo);

    v = v + n < v ? UINT64_MAX : v + n;
    reg_set(s, lo, (uint32_t)v);
    reg_set(s, lo + 4, (uint32_t)(v >> 32));
}

/* The size bucket of PRC64..PRC1522 and PTC64..PTC1522 (with FCS). */
static void
stat_size(struct e1000 *s, unsigned int base, size_t len)
{
    static const size_t limit[] = { 64, 127, 255, 511, 1023 };
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(limit) && len > limit[i]; i++) {
    }
    stat_inc(s, base + 4 * i);
}

static void
stat_rx(struct e1000 *s, const uint8_t *frame, size_t len)
{
    size_t wire = len + ETH_FCS_LEN;

    stat_inc(s, E1000_GPRC);
    stat_inc(s, E1000_TPR);
    stat_add64(s, E1000_GORCL, wire);
    stat_add64(s, E1000_TORL, wire);
    stat_size(s, E1000_PRC64, wire);
    if (frame[0] & 1) {
        stat_inc(s, memcmp(frame, "\xff\xff\xff\xff\xff\xff", 6) == 0 ?
                 E1000_BPRC : E1000_MPRC);
    }
}

static void
stat_tx(struct e1000 *s, const uint8_t *frame, size_t len)
{
    size_t wire = len + ETH_FCS_LEN;

    stat_inc(s, E1000_GPTC);
    stat_inc(s, E1000_TPT);
    stat_add64(s, E1000_GOTCL, wire);
    stat_add64(s, E1000_TOTL, wire);
    stat_size(s, E1000_PTC64, wire);
    if (frame[0] & 1) {
        stat_inc(s, memcmp(frame, "\xff\xff\xff\xff\xff\xff", 6) == 0 ?
                 E1000_BPTC : E1000_MPTC);
    }
}

/* ---- interrupts and moderation (SDM 13.4.17-21, 13.4.30-32, 3.4) ------- */

static void e1000_rx_wb_flush(struct e1000 *s);

static uint64_t
now_ns(const struct e1000 *s)
{
    return dm_clock_ns(s->dm);
}

static void
e1000_update_irq(struct e1000 *s)
{
    uint32_t itr = reg(s, E1000_ITR) & 0xffff;
    uint64_t now;

    if (!(reg(s, E1000_ICR) & reg(s, E1000_IMS))) {
        pci_set_irq(&s->pci, 0);
        return;
    }
    if (s->pci.intx_level) {
        return;
    }
    /* ITR: at most one interrupt per ITR * 256 ns (SDM 13.4.18). */
    now = now_ns(s);
    if (itr && now < s->itr_next_ns) {
        if (!dm_timer_pending(&s->timers[E1000_T_ITR].timer)) {
            dm_timer_mod(&s->timers[E1000_T_ITR].timer, s->itr_next_ns);
        }
        return;
    }
    s->itr_next_ns = now + (uint64_t)itr * 256;
    pci_set_irq(&s->pci, 1);
}

static void
e1000_raise(struct e1000 *s, uint32_t causes)
{
    reg_set(s, E1000_ICR, reg(s, E1000_ICR) | (causes & ICR_MASK));
    e1000_update_irq(s);
}

/* Delay timers count in 1.024 us units (SDM 13.4.30). */
static void
e1000_arm(struct e1000 *s, enum e1000_timer_id id, uint32_t units,
          bool restart)
{
    struct dm_timer *t = &s->timers[id].timer;

    if (restart || !dm_timer_pending(t)) {
        dm_timer_mod(t, now_ns(s) + (uint64_t)(units & 0xffff) * 1024);
    }
}

static void
e1000_timer_fire(void *opaque)
{
    struct e1000_timer *et = opaque;
    struct e1000 *s = et->s;

    switch (et->id) {
    case E1000_T_TIDV:
    case E1000_T_TADV:
        dm_timer_del(&s->timers[E1000_T_TIDV].timer);
        dm_timer_del(&s->timers[E1000_T_TADV].timer);
        e1000_raise(s, ICR_TXDW);
        break;
    case E1000_T_RDTR:
    case E1000_T_RADV:
        dm_timer_del(&s->timers[E1000_T_RDTR].timer);
        dm_timer_del(&s->timers[E1000_T_RADV].timer);
        e1000_rx_wb_flush(s);       /* the timer writes back (SDM 3.2.7) */
        e1000_raise(s, ICR_RXT0);
        break;
    default:
        e1000_update_irq(s);
        break;
    }
}

/* A descriptor with RS and IDE delays TXDW by TIDV/TADV (SDM 3.4.1). */
static void
e1000_tx_done_irq(struct e1000 *s, bool delayed)
{
    if (!delayed || !(reg(s, E1000_TIDV) & 0xffff)) {
        e1000_raise(s, ICR_TXDW);
        return;
    }
    e1000_arm(s, E1000_T_TIDV, reg(s, E1000_TIDV), true);
    if (reg(s, E1000_TADV) & 0xffff) {
        e1000_arm(s, E1000_T_TADV, reg(s, E1000_TADV), false);
    }
}

/* RXT0 after RDTR of quiet or RADV after the first packet (SDM 3.4.2). */
static void
e1000_rx_done_irq(struct e1000 *s)
{
    if (!(reg(s, E1000_RDTR) & 0xffff)) {
        e1000_rx_wb_flush(s);
        e1000_raise(s, ICR_RXT0);
        return;
    }
    e1000_arm(s, E1000_T_RDTR, reg(s, E1000_RDTR), true);
    if (reg(s, E1000_RADV) & 0xffff) {
        e1000_arm(s, E1000_T_RADV, reg(s, E1000_RADV), false);
    }
}

/* ---- EEPROM (SDM 5.3, 5.6: words the drivers read) --------------------- */

static void
e1000_eeprom_init(struct e1000 *s)
{
    uint16_t *ee = s->eeprom, sum = 0;
    unsigned int i;

    memset(ee, 0, sizeof(s->eeprom));
    for (i = 0; i < 3; i++) {
        ee[i] = (uint16_t)(s->mac[2 * i] | s->mac[2 * i + 1] << 8);
    }
    ee[0x08] = 0x2000;          /* PBA number (low) */
    ee[0x09] = 0xffff;
    ee[0x0a] = 0x4408;          /* init control 1: load subsystem ids */
    ee[0x0b] = PCI_SUBDEVICE_ID_QEMU;
    ee[0x0c] = PCI_SUBVENDOR_ID_QEMU;
    ee[0x0d] = E1000_DEVICE_ID;
    ee[0x0e] = PCI_VENDOR_ID_INTEL;
    ee[0x0f] = 0x3040;          /* init control 2: pause, asym dir */
    ee[0x24] = 0x0000;          /* init control 3 port A: no APM wake */
    for (i = 0; i < E1000_EE_WORDS - 1; i++) {
        sum = (uint16_t)(sum + ee[i]);
    }
    ee[E1000_EE_WORDS - 1] = (uint16_t)(0xbaba - sum);  /* SDM 5.6.19 */
}

/* The serial data out line while a READ shifts the word out. */
static uint32_t
e1000_eecd_read(struct e1000 *s, unsigned int idx)
{
    uint32_t v = s->regs[idx] | EECD_PRES;
    unsigned int b = s->ee.bit_out;

    if (v & EECD_REQ) {
        v |= EECD_GNT;          /* the EEPROM is ours at once */
    }
    if (s->ee.reading && b < E1000_EE_WORDS * 16 &&
        (s->eeprom[b >> 4] >> (15 - (b & 15))) & 1) {
        v |= EECD_DO;
    }
    return v;
}

/* Rising SK: shift DI in; after start bit, opcode and 6 address bits the
 * word is clocked out MSB first on the following edges (SDM 5.3.1). */
static void
e1000_ee_clock(struct e1000 *s, uint32_t val)
{
    struct e1000_eeprom_if *ee = &s->ee;

    ee->val_in = ee->val_in << 1 | !!(val & EECD_DI);
    if (ee->bit_in < 0xffff) {
        ee->bit_in++;
    }
    if (ee->bit_in == 9 && !ee->reading) {
        ee->reading = ((ee->val_in >> 6) & 7) == EE_READ_OPCODE;
        ee->bit_out = (uint16_t)((ee->val_in & 0x3f) * 16);
    }
}

static void
e1000_eecd_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    uint32_t old = s->regs[idx];

    val &= EECD_SK | EECD_CS | EECD_DI | EECD_FWE | EECD_REQ;
    s->regs[idx] = val;
    if (!(val & EECD_CS)) {
        s->ee.reading = false;
        return;
    }
    if (!(old & EECD_CS)) {
        memset(&s->ee, 0, sizeof(s->ee));      /* CS rose: new command */
    }
    if ((val ^ old) & EECD_SK) {
        if (val & EECD_SK) {
            e1000_ee_clock(s, val);
        } else if (s->ee.bit_in > 9 && s->ee.bit_out < 0xffff) {
            s->ee.bit_out++;                    /* falling: next data bit */
        }
    }
}

/* EERD: a whole word in one write (SDM 13.4.4). */
static void
e1000_eerd_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    unsigned int addr = (val >> 8) & 0xff;
    uint32_t data = addr < E1000_EE_WORDS ? s->eeprom[addr] : 0;

    if (!(val & EERD_START)) {
        return;
    }
    s->regs[idx] = data << 16 | addr << 8 | EERD_DONE;
}

/* ---- PHY through MDIC (SDM 13.4.7, 13.5) -------------------------------- */

static const struct {
    uint16_t reset;
    uint16_t wmask;
} e1000_phy_regs[E1000_PHY_REGS] = {
    [PHY_CTRL] = { 0x1140, 0xffff },
    [PHY_STATUS] = { 0x796d, 0 },       /* link up, autoneg complete */
    [PHY_ID1] = { 0x0141, 0 },          /* M88E1011 (Linux M88E1011_I_PHY_ID) */
    [PHY_ID2] = { 0x0c20, 0 },
    [PHY_AUTONEG_ADV] = { 0x0de1, 0xffff },
    [PHY_LP_ABILITY] = { 0x45e1, 0 },
    [PHY_AUTONEG_EXP] = { 0x000f, 0 },
    [PHY_1000T_CTRL] = { 0x0e00, 0xffff },
    [PHY_1000T_STATUS] = { 0x3c00, 0 },
    [PHY_EXT_STATUS] = { 0x3000, 0 },
    [M88_PHY_SPEC_CTRL] = { 0x0360, 0xffff },
    [M88_PHY_SPEC_STATUS] = { 0xac00, 0 },  /* 1000 FD, resolved, link */
    [M88_INT_ENABLE] = { 0x0000, 0xffff },
    [M88_EXT_PHY_SPEC_CTRL] = { 0x0d60, 0xffff },
    [M88_PAGE_SELECT] = { 0x0000, 0xffff },
    [M88_GEN_CONTROL] = { 0x0000, 0xffff },
};

static void
e1000_phy_reset(struct e1000 *s)
{
    unsigned int i;

    for (i = 0; i < E1000_PHY_REGS; i++) {
        s->phy[i] = e1000_phy_regs[i].reset;
    }
}

/* Autonegotiation with the backend's virtual link is instant. */
static void
e1000_phy_write(struct e1000 *s, unsigned int r, uint16_t v)
{
    s->phy[r] = (uint16_t)((s->phy[r] & ~e1000_phy_regs[r].wmask) |
                           (v & e1000_phy_regs[r].wmask));
    if (r == PHY_CTRL && (v & PHY_CTRL_RESET)) {
        e1000_phy_reset(s);
    } else if (r == PHY_CTRL && (v & PHY_CTRL_RESTART_AN)) {
        s->phy[PHY_CTRL] &= (uint16_t)~PHY_CTRL_RESTART_AN;
        e1000_raise(s, ICR_LSC);
    }
}

static void
e1000_mdic_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    unsigned int addr = (val >> 21) & 0x1f, r = (val >> 16) & 0x1f;
    unsigned int op = (val >> 26) & 3;

    val &= 0x3fffffff;
    if (addr != E1000_PHY_ADDR || (op != MDIC_OP_READ && op !=
                                   MDIC_OP_WRITE)) {
        val |= MDIC_ERROR;
    } else if (op == MDIC_OP_READ) {
        val = (val & 0xffff0000u) | s->phy[r];
    } else {
        e1000_phy_write(s, r, (uint16_t)val);
    }
    s->regs[idx] = val | MDIC_READY;
    if (val & MDIC_INT_EN) {
        e1000_raise(s, ICR_MDAC);
    }
}

/* ---- receive filters (SDM 3.2.1, 13.4.50-53) --------------------------- */

static bool
e1000_vlan_ok(const struct e1000 *s, const uint8_t *f)
{
    unsigned int vid;

    if (!(reg(s, E1000_RCTL) & RCTL_VFE) ||
        net_get16(f + 12) != (reg(s, E1000_VET) & 0xffff)) {
        return true;
    }
    vid = net_get16(f + 14) & 0xfff;
    return (reg(s, E1000_VFTA + 4 * (vid >> 5)) >> (vid & 31)) & 1;
}

/* Multicast table array: 12 bits of the address chosen by RCTL.MO. */
static bool
e1000_mta_hit(const struct e1000 *s, const uint8_t *da)
{
    static const unsigned int shift[4] = { 4, 3, 2, 0 };
    unsigned int mo = (reg(s, E1000_RCTL) >> RCTL_MO_SHIFT) & 3;
    unsigned int h = ((unsigned int)(da[5] << 8 | da[4]) >> shift[mo]) &
                     0xfff;

    return (reg(s, E1000_MTA + 4 * (h >> 5)) >> (h & 31)) & 1;
}

static bool
e1000_ra_hit(const struct e1000 *s, const uint8_t *da)
{
    unsigned int i;

    for (i = 0; i < 16; i++) {
        uint32_t lo = reg(s, E1000_RA + 8 * i), hi = reg(s, E1000_RA + 8 * i
                                                         + 4);
        uint8_t a[6] = { (uint8_t)lo, (uint8_t)(lo >> 8),
                         (uint8_t)(lo >> 16), (uint8_t)(lo >> 24),
                         (uint8_t)hi, (uint8_t)(hi >> 8) };

        if ((hi & RAH_AV) && memcmp(a, da, 6) == 0) {
            return true;
        }
    }
    return false;
}

static bool
e1000_filter(const struct e1000 *s, const uint8_t *f)
{
    uint32_t rctl = reg(s, E1000_RCTL);

    if (!e1000_vlan_ok(s, f)) {
        return false;
    }
    if (!(f[0] & 1)) {
        return (rctl & RCTL_UPE) || e1000_ra_hit(s, f);
    }
    if (memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0) {
        return (rctl & (RCTL_BAM | RCTL_MPE)) != 0;
    }
    return (rctl & RCTL_MPE) || e1000_mta_hit(s, f) || e1000_ra_hit(s, f);
}

/* ---- receive (SDM 3.2) -------------------------------------------------- */

static unsigned int
e1000_rx_bufsize(const struct e1000 *s)
{
    static const unsigned int size[2][4] = {
        { 2048, 1024, 512, 256 }, { 2048, 16384, 8192, 4096 },
    };
    uint32_t rctl = reg(s, E1000_RCTL);

    return size[!!(rctl & RCTL_BSEX)][(rctl >> RCTL_BSIZE_SHIFT) & 3];
}

static unsigned int
e1000_ring_size(const struct e1000 *s, unsigned int len_reg)
{
    return (reg(s, len_reg) & 0xfff80) / 16;
}

/* Descriptors the guest gave us: RDH..RDT-1 (SDM 3.2.6); 0 if corrupt. */
static unsigned int
e1000_rx_free(const struct e1000 *s)
{
    unsigned int n = e1000_ring_size(s, E1000_RDLEN);
    unsigned int h = reg(s, E1000_RDH), t = reg(s, E1000_RDT);

    if (!n || h >= n || t >= n) {
        return 0;
    }
    return (t + n - h) % n;
}

static size_t
e1000_rx_max(const struct e1000 *s)
{
    return (reg(s, E1000_RCTL) & RCTL_LPE) ? E1000_MAX_LPE : E1000_MAX_STD;
}

static bool
e1000_can_receive(void *opaque)
{
    struct e1000 *s = opaque;
    size_t room = (size_t)e1000_rx_free(s) * e1000_rx_bufsize(s);

    return (reg(s, E1000_RCTL) & RCTL_EN) && pci_bus_master_enabled(&s->pci)
           && room >= e1000_rx_max(s) + ETH_FCS_LEN;
}

/* RXCSUM offloads of an IPv4 TCP/UDP frame (SDM 3.2.9). */
static void
e1000_rx_csum(const struct e1000 *s, const uint8_t *f, size_t len,
              uint8_t *status, uint8_t *errors)
{
    uint32_t rxcsum = reg(s, E1000_RXCSUM);
    unsigned int ihl, proto, l4len;
    uint32_t sum;

    if (len < ETH_HLEN + 20 || net_get16(f + 12) != 0x0800 ||
        !(rxcsum & (RXCSUM_IPOFL | RXCSUM_TUOFL))) {
        *status |= RXD_STA_IXSM;
        return;
    }
    f += ETH_HLEN;
    ihl = (f[0] & 0xf) * 4u;
    if ((f[0] >> 4) != 4 || ihl < 20 || net_get16(f + 2) < ihl ||
        ETH_HLEN + (size_t)net_get16(f + 2) > len) {
        *status |= RXD_STA_IXSM;
        return;
    }
    if (rxcsum & RXCSUM_IPOFL) {
        *status |= RXD_STA_IPCS;
        *errors |= net_csum_fold(net_csum_add(0, f, ihl)) != 0xffff ?
                   RXD_ERR_IPE : 0;
    }
    proto = f[9];
    l4len = net_get16(f + 2) - ihl;
    if (!(rxcsum & RXCSUM_TUOFL) || (proto != 6 && proto != 17) ||
        (net_get16(f + 6) & 0x3fff) || (proto == 17 &&
                                        net_get16(f + ihl + 6) == 0)) {
        return;
    }
    sum = net_csum_add(0, f + 12, 8) + proto + l4len;
    sum = net_csum_add(sum, f + ihl, l4len);
    *status |= RXD_STA_TCPCS;
    *errors |= net_csum_fold(sum) != 0xffff ? RXD_ERR_TCPE : 0;
}

/* A received frame on its way into the ring: where its bytes are (the
 * backend's buffer, or rx_buf when it had to change) and what the last
 * descriptor will say. The FCS follows the frame unless RCTL.SECRC. */
struct e1000_rx_pkt {
    const uint8_t *f;
    size_t len;
    uint8_t fcs[ETH_FCS_LEN];
    size_t fcs_len;
    uint16_t tci;
    bool tagged;
    uint8_t status, errors;
};

/* Does CTRL.VME strip this frame's 802.1Q tag (SDM 9.3)? */
static bool
e1000_rx_strips_vlan(const struct e1000 *s, const uint8_t *f, size_t len)
{
    return (reg(s, E1000_CTRL) & CTRL_VME) && len >= ETH_HLEN + 4 &&
           net_get16(f + 12) == (reg(s, E1000_VET) & 0xffff);
}

/* Runts padded to 60 bytes (SDM 8.2.4; CVE-2025-12464) and the VLAN tag
 * moved into the descriptor need a copy; other frames are used in place. */
static void
e1000_rx_prepare(struct e1000 *s, const uint8_t *frame, size_t len,
                 struct e1000_rx_pkt *p)
{
    uint8_t *f = s->rx_buf;

    memset(p, 0, sizeof(*p));
    p->f = frame;
    p->len = len;
    if (len >= ETH_ZLEN && !e1000_rx_strips_vlan(s, frame, len)) {
        return;
    }
    memcpy(f, frame, len);
    p->len = MAX(len, (size_t)ETH_ZLEN);
    memset(f + len, 0, p->len - len);
    if (e1000_rx_strips_vlan(s, f, p->len)) {
        p->tagged = true;
        p->tci = net_get16(f + 14);
        memmove(f + 12, f + 16, p->len - 16);
        p->len -= 4;
    }
    p->f = f;
}

/* Bytes [off, off + n) of the frame and its FCS to guest memory. */
static int
e1000_rx_put(struct e1000 *s, uint64_t gpa, const struct e1000_rx_pkt *p,
             size_t off, size_t n)
{
    size_t a = off < p->len ? MIN(n, p->len - off) : 0;
    int rc = a ? gm_write(s->dm->gm, gpa, p->f + off, a) : 0;

    if (rc == 0 && n > a) {
        rc = gm_write(s->dm->gm, gpa + a, p->fcs + (off + a - p->len),
                      n - a);
    }
    return rc;
}

static uint64_t
e1000_rx_base(const struct e1000 *s)
{
    return (uint64_t)reg(s, E1000_RDBAH) << 32 | reg(s, E1000_RDBAL);
}

/* RXDCTL.WTHRESH in descriptors (SDM 13.4.27): with GRAN 0 it counts
 * cache lines, the PCI Cache Line Size register's (in dwords), of 16-byte
 * descriptors. 0 or 1: every descriptor is written back at once. */
static unsigned int
e1000_wthresh(const struct e1000 *s)
{
    uint32_t v = reg(s, E1000_RXDCTL);
    unsigned int w = (v >> RXDCTL_WTHRESH_SHIFT) & RXDCTL_WTHRESH_MASK;
    unsigned int line = pci_get_byte(&s->pci, PCI_CACHE_LINE_SIZE) / 4u;

    if (!(v & RXDCTL_GRAN)) {
        w *= MAX(line, 1u);
    }
    return MIN(w, (unsigned int)E1000_WB_MAX);
}

/* Write the held status halves to the ring: the DD bits the driver polls. */
static void
e1000_rx_wb_flush(struct e1000 *s)
{
    unsigned int n = e1000_ring_size(s, E1000_RDLEN), i;

    for (i = 0; i < s->wb.count && n; i++) {
        unsigned int d = (s->wb.first + i) % n;

        if (gm_write(s->dm->gm, e1000_rx_base(s) + 16ull * d + 8,
                     s->wb.wb[i], 8) < 0) {
            GUEST_ERR("e1000: receive write-back fault at descriptor %u", d);
        }
    }
    s->wb.count = 0;
}

/* The status half of descriptor d: written now, or held for WTHRESH. */
static bool
e1000_rx_wb_put(struct e1000 *s, unsigned int d, const uint8_t wb[8])
{
    unsigned int n = e1000_ring_size(s, E1000_RDLEN);

    if (s->wb.count && (s->wb.count == E1000_WB_MAX || !n ||
                        (s->wb.first + s->wb.count) % n != d)) {
        e1000_rx_wb_flush(s);
    }
    if (e1000_wthresh(s) <= 1) {
        return gm_write(s->dm->gm, e1000_rx_base(s) + 16ull * d + 8, wb,
                        8) == 0;
    }
    if (!s->wb.count) {
        s->wb.first = (uint16_t)d;
    }
    memcpy(s->wb.wb[s->wb.count++], wb, 8);
    return true;
}

/* Copy a frame into one or more buffers; false if DMA failed. */
static bool
e1000_rx_dma(struct e1000 *s, const struct e1000_rx_pkt *p)
{
    uint64_t base = e1000_rx_base(s);
    unsigned int n = e1000_ring_size(s, E1000_RDLEN), bs = e1000_rx_bufsize(s);
    unsigned int h = reg(s, E1000_RDH);
    size_t off = 0, len = p->len + p->fcs_len;
    bool ok = true;

    while (off < len) {
        struct e1000_desc d;
        size_t chunk = MIN((size_t)bs, len - off);
        bool last = off + chunk == len;
        uint8_t wb[8];

        if (gm_read(s->dm->gm, base + 16ull * h, &d, sizeof(d)) < 0 ||
            (d.addr && e1000_rx_put(s, d.addr, p, off, chunk) < 0)) {
            GUEST_ERR("e1000: receive DMA fault at descriptor %u", h);
            ok = false;
        }
        wb[0] = (uint8_t)chunk;
        wb[1] = (uint8_t)(chunk >> 8);
        wb[2] = wb[3] = 0;
        wb[4] = RXD_STA_DD | (last ? RXD_STA_EOP | p->status : 0) |
                (p->tagged ? RXD_STA_VP : 0);
        wb[5] = last ? p->errors : 0;
        wb[6] = (uint8_t)p->tci;
        wb[7] = (uint8_t)(p->tci >> 8);
        if (!e1000_rx_wb_put(s, h, wb)) {
            ok = false;
        }
        off += chunk;
        h = (h + 1) % n;
    }
    reg_set(s, E1000_RDH, h);
    return ok;
}

static bool
e1000_rx_accept(struct e1000 *s, const uint8_t *frame, size_t len)
{
    if (!(reg(s, E1000_RCTL) & RCTL_EN)) {
        return false;
    }
    if (len > e1000_rx_max(s)) {
        stat_inc(s, E1000_ROC);         /* CVE-2012-6075: no LPE, no giant */
        return false;
    }
    return e1000_filter(s, frame);
}

static void
e1000_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct e1000 *s = opaque;
    unsigned int n = e1000_ring_size(s, E1000_RDLEN), need, free;
    unsigned int bs = e1000_rx_bufsize(s);
    struct e1000_rx_pkt p;

    if (len < ETH_HLEN || !e1000_rx_accept(s, frame, len)) {
        return;
    }
    e1000_rx_prepare(s, frame, len, &p);
    e1000_rx_csum(s, p.f, p.len, &p.status, &p.errors);
    stat_rx(s, p.f, p.len);
    if (!(reg(s, E1000_RCTL) & RCTL_SECRC)) {
        uint32_t crc = (uint32_t)crc32(0, p.f, (uInt)p.len);

        memcpy(p.fcs, &crc, ETH_FCS_LEN);
        p.fcs_len = ETH_FCS_LEN;
    }
    need = (unsigned int)((p.len + p.fcs_len + bs - 1) / bs);
    free = e1000_rx_free(s);
    if (!pci_bus_master_enabled(&s->pci) || free < need) {
        stat_inc(s, E1000_RNBC);
        stat_inc(s, E1000_MPC);
        e1000_raise(s, ICR_RXO);
        return;
    }
    e1000_rx_dma(s, &p);
    if (s->wb.count && s->wb.count >= e1000_wthresh(s)) {
        e1000_rx_wb_flush(s);
    }
    free -= need;
    if (free <= n >> (((reg(s, E1000_RCTL) >> RCTL_RDMTS_SHIFT) & 3) + 1)) {
        e1000_raise(s, ICR_RXDMT0);
    }
    e1000_rx_done_irq(s);
}

/* ---- transmit (SDM 3.3) ------------------------------------------------- */

static uint8_t *
tx_frame(struct e1000 *s)
{
    return s->tx.buf + E1000_TX_HEADROOM;
}

/* Store the checksum of [css, end) at cso; the field's old value is the
 * seed the driver left there (pseudo-header, SDM 3.3.6). */
static void
e1000_csum_insert(uint8_t *f, size_t len, unsigned int css, unsigned int cso,
                  unsigned int cse)
{
    size_t end = cse && cse < len ? cse + 1u : len;

    if (css >= end || cso + 2 > len) {
        return;
    }
    net_put16(f + cso, (uint16_t)~net_csum_fold(net_csum_add(0, f + css,
                                                             end - css)));
}

static void
e1000_tx_loopback(struct e1000 *s, const uint8_t *f, size_t len)
{
    if (e1000_can_receive(s)) {
        e1000_receive(s, f, len);
    } else {
        stat_inc(s, E1000_MPC);
    }
}

/* Put one finished frame on the wire: VLAN tag, padding, backend. */
static void
e1000_tx_emit(struct e1000 *s, uint8_t *f, size_t len)
{
    if (s->tx.vle && (reg(s, E1000_CTRL) & CTRL_VME) && len >= 12) {
        memmove(f - 4, f, 12);
        f -= 4;
        net_put16(f + 12, (uint16_t)reg(s, E1000_VET));
        net_put16(f + 14, s->tx.vlan);
        len += 4;
    }
    if (len < ETH_ZLEN && (reg(s, E1000_TCTL) & TCTL_PSP)) {
        memset(f + len, 0, ETH_ZLEN - len);
        len = ETH_ZLEN;
    }
    if (len < ETH_HLEN) {
        return;
    }
    stat_tx(s, f, len);
    if (reg(s, E1000_RCTL) & RCTL_LBM) {
        e1000_tx_loopback(s, f, len);
    } else if (s->net) {
        net_send(s->net, f, len);
    }
}

/* A TSO context must describe headers inside hdr_len (SDM 3.5.1). */
static bool
e1000_tso_ctx_ok(const struct e1000_tx_ctx *c)
{
    bool v4 = c->tucmd & TUCMD_IP, tcp = c->tucmd & TUCMD_TCP;

    return c->mss && c->hdr_len && c->hdr_len + (size_t)c->mss <=
           E1000_TX_BUF && c->ipcss + (v4 ? 20u : 40u) <= c->hdr_len &&
           c->tucss + (tcp ? 20u : 8u) <= c->hdr_len &&
           c->tucss >= c->ipcss && c->tucso + 2u <= c->hdr_len &&
           c->ipcso + 2u <= c->hdr_len;
}

/* Rewrite one segment's headers (SDM 3.5.2) and checksum it. */
static void
e1000_tso_fixup(struct e1000 *s, uint8_t *f, size_t len, bool last)
{
    const struct e1000_tx_ctx *c = &s->tx.pctx;
    uint32_t sum;

    if (c->tucmd & TUCMD_IP) {
        net_put16(f + c->ipcss + 2, (uint16_t)(len - c->ipcss));
        net_put16(f + c->ipcss + 4, (uint16_t)(net_get16(s->tx.header +
                  c->ipcss + 4) + s->tx.tso_frames));
    } else {
        net_put16(f + c->ipcss + 4, (uint16_t)(len - c->ipcss - 40));
    }
    if (c->tucmd & TUCMD_TCP) {
        net_put32(f + c->tucss + 4, net_get32(s->tx.header + c->tucss + 4) +
                  s->tx.tso_sent);
        if (!last) {
            f[c->tucss + 13] &= (uint8_t)~0x09;     /* FIN, PSH */
        }
    } else {
        net_put16(f + c->tucss + 4, (uint16_t)(len - c->tucss));
    }
    if (s->tx.popts & TXD_POPTS_TXSM) {
        /* The driver's seed has no length; the hardware adds it. */
        sum = net_get16(f + c->tucso) + (uint32_t)(len - c->tucss);
        net_put16(f + c->tucso, net_csum_fold(sum));
        e1000_csum_insert(f, len, c->tucss, c->tucso, 0);
    }
    if (s->tx.popts & TXD_POPTS_IXSM) {
        net_put16(f + c->ipcso, 0);
        e1000_csum_insert(f, len, c->ipcss, c->ipcso, c->ipcse);
    }
}

static void
e1000_tso_segment(struct e1000 *s, bool last)
{
    struct e1000_tx *tx = &s->tx;
    uint8_t *f = tx_frame(s);
    size_t len = tx->len, hl = tx->pctx.hdr_len;

    e1000_tso_fixup(s, f, len, last);
    e1000_tx_emit(s, f, len);
    tx->tso_sent += (uint32_t)(len - hl);
    tx->tso_frames++;
    /* The whole array: a fixed-size copy is a few vector moves, where a
     * hdr_len-byte one became rep movsq, three quarters of this
     * function's time. Bytes past hdr_len are payload space the next
     * segment fills. */
    memcpy(f, tx->header, sizeof(tx->header));
    tx->len = (uint32_t)hl;
}

/*
 * A whole TSO packet for a backend that segments (tap with IFF_VNET_HDR):
 * the kernel expects the CHECKSUM_PARTIAL form (virtio 1.0 5.1.6.2), so
 * the IP lengths cover the whole packet and the TCP checksum field holds
 * the pseudo-header sum with the length, which the driver's seed lacks.
 */
static void
e1000_gso_send(struct e1000 *s)
{
    const struct e1000_tx_ctx *c = &s->tx.pctx;
    uint8_t *f = tx_frame(s);
    size_t len = s->tx.len;
    struct net_vnet_hdr h = {
        .flags = NET_VNET_F_NEEDS_CSUM,
        .gso_type = (c->tucmd & TUCMD_IP) ? NET_VNET_GSO_TCPV4
                                          : NET_VNET_GSO_TCPV6,
        .hdr_len = c->hdr_len,
        .gso_size = c->mss,
        .csum_start = c->tucss,
        .csum_offset = (uint16_t)(c->tucso - c->tucss),
    };

    if (len < c->hdr_len || len - c->ipcss > 0xffff) {
        GUEST_ERR("e1000: TSO packet of %zu bytes dropped", len);
        return;
    }
    if (c->tucmd & TUCMD_IP) {
        net_put16(f + c->ipcss + 2, (uint16_t)(len - c->ipcss));
        net_put16(f + c->ipcso, 0);
        e1000_csum_insert(f, len, c->ipcss, c->ipcso, c->ipcse);
    } else {
        net_put16(f + c->ipcss + 4, (uint16_t)(len - c->ipcss - 40));
    }
    net_put16(f + c->tucso, net_csum_fold(net_get16(f + c->tucso) +
                                          (uint32_t)(len - c->tucss)));
    stat_tx(s, f, len);
    net_send_offload(s->net, &h, f, len);
}

/* Can this TSO packet go to the backend whole (e1000_gso_send)? */
static bool
e1000_gso_ok(const struct e1000 *s)
{
    const struct e1000_tx *tx = &s->tx;

    return s->net && net_has_vnet_hdr(s->net) &&
           (tx->pctx.tucmd & TUCMD_TCP) && (tx->popts & TXD_POPTS_TXSM) &&
           tx->pctx.hdr_len + (size_t)tx->pctx.paylen <= E1000_TX_BUF &&
           !(tx->vle && (reg(s, E1000_CTRL) & CTRL_VME)) &&
           !(reg(s, E1000_RCTL) & RCTL_LBM);
}

static void
e1000_tx_reset_packet(struct e1000 *s)
{
    struct e1000_tx *tx = &s->tx;

    tx->len = 0;
    tx->tso_sent = 0;
    tx->tso_frames = 0;
    tx->drop = false;
    tx->truncated = false;
    tx->gso = false;
}

static void
e1000_tx_finish(struct e1000 *s)
{
    struct e1000_tx *tx = &s->tx;
    uint8_t *f = tx_frame(s);

    if (tx->drop) {
        GUEST_ERR("e1000: transmit packet dropped (bad context or DMA)");
    } else if (tx->gso) {
        e1000_gso_send(s);
    } else if (tx->tse) {
        if (tx->len > tx->pctx.hdr_len || tx->tso_frames == 0) {
            e1000_tso_segment(s, true);
        }
    } else {
        if (tx->legacy_ic) {
            e1000_csum_insert(f, tx->len, tx->legacy_css, tx->legacy_cso, 0);
        }
        if (tx->popts & TXD_POPTS_TXSM) {
            e1000_csum_insert(f, tx->len, tx->pctx.tucss, tx->pctx.tucso,
                              tx->pctx.tucse);
        }
        if (tx->popts & TXD_POPTS_IXSM) {
            e1000_csum_insert(f, tx->len, tx->pctx.ipcss, tx->pctx.ipcso,
                              tx->pctx.ipcse);
        }
        e1000_tx_emit(s, f, tx->len);
    }
    e1000_tx_reset_packet(s);
}

/* Gather len bytes from guest memory; TSO sends each full segment. */
static void
e1000_tx_gather(struct e1000 *s, uint64_t addr, size_t len)
{
    struct e1000_tx *tx = &s->tx;
    size_t hl = tx->pctx.hdr_len;
    bool segment = tx->tse && !tx->gso;
    size_t limit = segment ? hl + tx->pctx.mss : E1000_TX_BUF;

    while (len && !tx->drop) {
        size_t n;

        if (segment && tx->len == limit) {
            e1000_tso_segment(s, false);
        }
        n = MIN(len, limit - tx->len);
        if (n == 0) {
            tx->truncated = true;       /* oversize frame: cut (SDM 3.3.3) */
            return;
        }
        if (gm_read(s->dm->gm, addr, tx_frame(s) + tx->len, n) < 0) {
            tx->drop = true;
            return;
        }
        if (tx->tse && tx->len < hl && tx->len + n >= hl) {
            memcpy(tx->header, tx_frame(s), hl);
        }
        tx->len += (uint32_t)n;
        addr += n;
        len -= n;
    }
}

static void
e1000_tx_context(struct e1000 *s, const struct e1000_desc *d)
{
    struct e1000_tx_ctx *c = &s->tx.ctx;
    uint32_t lower_setup = (uint32_t)d->addr;
    uint32_t upper_setup = (uint32_t)(d->addr >> 32);

    c->ipcss = (uint8_t)lower_setup;
    c->ipcso = (uint8_t)(lower_setup >> 8);
    c->ipcse = (uint16_t)(lower_setup >> 16);
    c->tucss = (uint8_t)upper_setup;
    c->tucso = (uint8_t)(upper_setup >> 8);
    c->tucse = (uint16_t)(upper_setup >> 16);
    c->paylen = d->lower & 0xfffff;
    c->tucmd = (uint8_t)(d->lower >> 24);
    c->hdr_len = (uint8_t)(d->upper >> 8);
    c->mss = (uint16_t)(d->upper >> 16);
    if (c->tucmd & TXD_CMD_TSE) {
        stat_inc(s, E1000_TSCTC);
    }
}

/*
 * First descriptor of a packet: its options and the context it found hold
 * for the whole packet (a context prepares the data descriptors that
 * follow it, SDM 3.3.6), so a context slipped in between a packet's data
 * descriptors cannot move the segment size or header length that bound
 * the buffer.
 */
static void
e1000_tx_start(struct e1000 *s, uint8_t cmd, uint8_t popts)
{
    struct e1000_tx *tx = &s->tx;

    tx->tse = (cmd & TXD_CMD_DEXT) && (cmd & TXD_CMD_TSE);
    tx->popts = (cmd & TXD_CMD_DEXT) ? popts : 0;
    tx->pctx = tx->ctx;
    if (tx->tse && !e1000_tso_ctx_ok(&tx->pctx)) {
        stat_inc(s, E1000_TSCTFC);
        tx->drop = true;
    }
}

/*
 * A whole frame in one descriptor that needs no change on the way (no
 * offload, tag, padding or loopback) goes to the backend straight from
 * guest memory, without the copy into the transmit buffer.
 */
static bool
e1000_tx_direct(struct e1000 *s, uint64_t addr, size_t len)
{
    const struct e1000_tx *tx = &s->tx;
    size_t n = len;
    uint8_t *p;
    int err;

    if (tx->len || tx->tse || tx->popts || tx->legacy_ic || tx->drop ||
        !s->net || len < ETH_ZLEN || len > E1000_TX_BUF ||
        (tx->vle && (reg(s, E1000_CTRL) & CTRL_VME)) ||
        (reg(s, E1000_RCTL) & RCTL_LBM)) {
        return false;
    }
    p = gm_map(s->dm->gm, addr, &n, 0, &err);
    if (!p) {
        return false;
    }
    if (n >= len) {
        stat_tx(s, p, len);
        net_send(s->net, p, len);
    }
    gm_unmap(s->dm->gm, p, n, 0);
    return n >= len;
}

/* A data or legacy descriptor (SDM 3.3.3, 3.3.7). */
static void
e1000_tx_data(struct e1000 *s, const struct e1000_desc *d)
{
    bool ext = (d->lower >> 29) & 1;
    uint8_t cmd = (uint8_t)(d->lower >> 24);
    size_t len = ext ? (d->lower & 0xfffff) : (d->lower & 0xffff);

    if (s->tx.len == 0 && !s->tx.drop && s->tx.tso_frames == 0) {
        s->tx.vle = (cmd & TXD_CMD_VLE) != 0;
        s->tx.vlan = (uint16_t)(d->upper >> 16);
        e1000_tx_start(s, cmd, (uint8_t)(d->upper >> 8));
        s->tx.gso = s->tx.tse && !s->tx.drop && e1000_gso_ok(s);
    }
    if (cmd & TXD_CMD_EOP) {
        /* VLE, the VLAN tag and the legacy checksum fields are valid in
         * the descriptor that ends the packet (SDM 3.3.3). */
        s->tx.vle = (cmd & TXD_CMD_VLE) != 0;
        s->tx.vlan = (uint16_t)(d->upper >> 16);
        s->tx.legacy_ic = !ext && (cmd & TXD_CMD_IC);
        s->tx.legacy_cso = (uint8_t)(d->lower >> 16);
        s->tx.legacy_css = (uint8_t)(d->upper >> 8);
    }
    if ((cmd & TXD_CMD_EOP) && d->addr && len &&
        e1000_tx_direct(s, d->addr, len)) {
        e1000_tx_reset_packet(s);
        return;
    }
    if (d->addr && len) {
        e1000_tx_gather(s, d->addr, len);
    }
    if (cmd & TXD_CMD_EOP) {
        e1000_tx_finish(s);
    }
}

/* One descriptor; returns its command byte (RS, IDE). */
static uint8_t
e1000_tx_desc(struct e1000 *s, const struct e1000_desc *d)
{
    uint8_t cmd = (uint8_t)(d->lower >> 24);
    unsigned int dtyp = (d->lower >> 20) & 0xf;

    if ((cmd & TXD_CMD_DEXT) && dtyp == TXD_DTYP_CTX) {
        e1000_tx_context(s, d);
    } else if (!(cmd & TXD_CMD_DEXT) || dtyp == TXD_DTYP_DATA) {
        e1000_tx_data(s, d);
    } else {
        GUEST_ERR("e1000: transmit descriptor type %u", dtyp);
    }
    return cmd;
}

/*
 * Walk TDH..TDT. Each descriptor is copied once; a head or tail outside
 * the ring stops the walk (CVE-2016-1981) and no doorbell walks more than
 * the ring's length.
 */
static void
e1000_tx_run(struct e1000 *s)
{
    uint64_t base = (uint64_t)reg(s, E1000_TDBAH) << 32 | reg(s, E1000_TDBAL);
    unsigned int n = e1000_ring_size(s, E1000_TDLEN);
    unsigned int h = reg(s, E1000_TDH), t = reg(s, E1000_TDT), i;
    bool done = false, delayed = true;

    if (!(reg(s, E1000_TCTL) & TCTL_EN) || !pci_bus_master_enabled(&s->pci)
        || h == t) {
        return;
    }
    if (h >= n || t >= n) {
        GUEST_ERR("e1000: TDH %u or TDT %u outside a %u-entry ring", h, t, n);
        return;
    }
    for (i = 0; i < n && h != t; i++) {
        struct e1000_desc d;
        uint8_t cmd, sta = TXD_STA_DD;

        if (gm_read(s->dm->gm, base + 16ull * h, &d, sizeof(d)) < 0) {
            GUEST_ERR("e1000: transmit descriptor %u unreadable", h);
            break;
        }
        cmd = e1000_tx_desc(s, &d);
        if (cmd & TXD_CMD_RS) {
            if (gm_write(s->dm->gm, base + 16ull * h + 12, &sta, 1) < 0) {
                GUEST_ERR("e1000: transmit write-back fault at %u", h);
            }
            done = true;
            delayed &= (cmd & TXD_CMD_IDE) != 0;
        }
        h = (h + 1) % n;
        reg_set(s, E1000_TDH, h);
    }
    if (done) {
        e1000_tx_done_irq(s, delayed);
    }
    if (h == t) {
        e1000_raise(s, ICR_TXQE);
    }
}

/* ---- register handlers -------------------------------------------------- */

static void e1000_soft_reset(struct e1000 *s);

static void
e1000_ctrl_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    s->regs[idx] = val & ~(CTRL_RST | CTRL_PHY_RST);
    if (val & CTRL_RST) {
        e1000_soft_reset(s);    /* SDM 13.4.1: self-clearing */
    } else if (val & CTRL_PHY_RST) {
        e1000_phy_reset(s);
    }
}

static uint32_t
e1000_icr_read(struct e1000 *s, unsigned int idx)
{
    uint32_t v = s->regs[idx];

    s->regs[idx] = 0;           /* read to clear (SDM 13.4.17) */
    e1000_update_irq(s);
    return v;
}

static void
e1000_icr_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    s->regs[idx] &= ~val;
    e1000_update_irq(s);
}

static void
e1000_ics_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    e1000_raise(s, val);
}

static void
e1000_ims_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    reg_set(s, E1000_IMS, reg(s, E1000_IMS) | (val & ICR_MASK));
    e1000_update_irq(s);
}

static void
e1000_imc_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    reg_set(s, E1000_IMS, reg(s, E1000_IMS) & ~val);
    e1000_update_irq(s);
}

static void
e1000_itr_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    s->regs[idx] = val & 0xffff;
    if (!s->regs[idx]) {
        s->itr_next_ns = 0;
    }
    e1000_update_irq(s);
}

static void
e1000_rx_kick(struct e1000 *s)
{
    if (s->net) {
        net_rx_kick(s->net);
    }
}

static void
e1000_rctl_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    s->regs[idx] = val & 0x07ffbffe;
    e1000_rx_kick(s);
}

static void
e1000_rdt_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    s->regs[idx] = val & 0xffff;
    e1000_rx_kick(s);
}

static void
e1000_tctl_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    s->regs[idx] = val & 0x03fffffe;
    e1000_tx_run(s);
}

static void
e1000_tdt_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    s->regs[idx] = val & 0xffff;
    e1000_tx_run(s);
}

/* RDTR.FPD flushes the pending receive interrupt now (SDM 13.4.30). */
static void
e1000_rdtr_write(struct e1000 *s, unsigned int idx, uint32_t val)
{
    s->regs[idx] = val & 0xffff;
    if ((val & RDTR_FPD) &&
        (dm_timer_pending(&s->timers[E1000_T_RDTR].timer) || s->wb.count)) {
        e1000_timer_fire(&s->timers[E1000_T_RDTR]);
    }
}

/* 64-bit counters clear when the high half is read (SDM 13.7). */
static uint32_t
e1000_stat_read(struct e1000 *s, unsigned int idx)
{
    unsigned int off = idx << 2;
    uint32_t v = s->regs[idx];

    switch (off) {
    case E1000_GORCL: case E1000_GOTCL: case E1000_TORL: case E1000_TOTL:
        return v;
    case E1000_GORCH: case E1000_GOTCH: case E1000_TORH: case E1000_TOTH:
        s->regs[idx - 1] = 0;
        break;
    default:
        break;
    }
    s->regs[idx] = 0;
    return v;
}

/* ---- the register table (rule 2) ---------------------------------------- */

#define RO      0x01            /* writes ignored */
#define WO      0x02            /* reads return 0 */

struct e1000_reg {
    uint32_t reset;
    uint32_t wmask;
    uint8_t flags;
    uint32_t (*read)(struct e1000 *s, unsigned int idx);
    void (*write)(struct e1000 *s, unsigned int idx, uint32_t val);
};

#define R(off)              [(off) >> 2]
#define RANGE(off, bytes)   [(off) >> 2 ... ((off) + (bytes) - 4) >> 2]
#define PLAIN(rst, mask)    { .reset = (rst), .wmask = (mask) }
#define RDONLY(rst)         { .reset = (rst), .flags = RO }

static const struct e1000_reg e1000_regs[E1000_NREGS] = {
    R(E1000_CTRL) = { .reset = CTRL_FD | CTRL_SLU | CTRL_SPD_1000,
                      .write = e1000_ctrl_write },
    R(E1000_STATUS) = RDONLY(STATUS_FD | STATUS_LU | STATUS_SPEED_1000 |
                             STATUS_ASDV_1000),
    R(E1000_EECD) = { .read = e1000_eecd_read, .write = e1000_eecd_write },
    R(E1000_EERD) = { .write = e1000_eerd_write },
    R(E1000_CTRL_EXT) = PLAIN(0, 0x00fff0ff),
    R(E1000_FLA) = PLAIN(0, 0),
    R(E1000_MDIC) = { .reset = MDIC_READY, .write = e1000_mdic_write },
    R(E1000_FCAL) = PLAIN(0, 0xffffffff),
    R(E1000_FCAH) = PLAIN(0, 0xffff),
    R(E1000_FCT) = PLAIN(0, 0xffff),
    R(E1000_VET) = PLAIN(0x8100, 0xffff),
    R(E1000_ICR) = { .read = e1000_icr_read, .write = e1000_icr_write },
    R(E1000_ITR) = { .write = e1000_itr_write },
    R(E1000_ICS) = { .flags = WO, .write = e1000_ics_write },
    R(E1000_IMS) = { .write = e1000_ims_write },
    R(E1000_IMC) = { .flags = WO, .write = e1000_imc_write },
    R(E1000_RCTL) = { .write = e1000_rctl_write },
    R(E1000_FCTTV) = PLAIN(0, 0xffff),
    R(E1000_TXCW) = PLAIN(0, 0xc000ffff),
    R(E1000_RXCW) = RDONLY(0),
    R(E1000_TCTL) = { .reset = 0x0003f008, .write = e1000_tctl_write },
    R(E1000_TIPG) = PLAIN(0x00602008, 0x3fffffff),
    R(E1000_AIT) = PLAIN(0, 0xffff),
    R(E1000_LEDCTL) = PLAIN(0x07068302, 0xffffffff),
    R(E1000_PBA) = PLAIN(0x00100030, 0xffff),
    R(E1000_FCRTL) = PLAIN(0, 0x8000fff8),
    R(E1000_FCRTH) = PLAIN(0, 0xfff8),
    R(E1000_RDBAL) = PLAIN(0, 0xfffffff0),
    R(E1000_RDBAH) = PLAIN(0, 0xffffffff),
    R(E1000_RDLEN) = PLAIN(0, 0xfff80),     /* SDM 13.4.25 */
    R(E1000_RDH) = PLAIN(0, 0xffff),
    R(E1000_RDT) = { .write = e1000_rdt_write },
    R(E1000_RDTR) = { .write = e1000_rdtr_write },
    R(E1000_RXDCTL) = PLAIN(0x00010000, 0x013f3f3f),
    R(E1000_RADV) = PLAIN(0, 0xffff),
    R(E1000_RSRPD) = PLAIN(0, 0xfff),
    R(E1000_TXDMAC) = PLAIN(0, 1),
    R(E1000_TDBAL) = PLAIN(0, 0xfffffff0),
    R(E1000_TDBAH) = PLAIN(0, 0xffffffff),
    R(E1000_TDLEN) = PLAIN(0, 0xfff80),     /* SDM 13.4.38 */
    R(E1000_TDH) = PLAIN(0, 0xffff),
    R(E1000_TDT) = { .write = e1000_tdt_write },
    R(E1000_TIDV) = PLAIN(0, 0xffff),
    R(E1000_TXDCTL) = PLAIN(0, 0xff3f3f3f),
    R(E1000_TADV) = PLAIN(0, 0xffff),
    R(E1000_TSPMT) = PLAIN(0x01000400, 0xffffffff),
    RANGE(E1000_STATS, 0x100) = { .flags = RO, .read = e1000_stat_read },
    R(E1000_RXCSUM) = PLAIN(0x300, 0x3ff),
    RANGE(E1000_MTA, 0x200) = PLAIN(0, 0xffffffff),
    RANGE(E1000_VFTA, 0x200) = PLAIN(0, 0xffffffff),
    R(E1000_WUC) = PLAIN(0, 0x1f),
    R(E1000_WUFC) = PLAIN(0, 0x000f00ff),
    R(E1000_WUS) = PLAIN(0, 0),
    R(E1000_MANC) = PLAIN(0, 0x0fffffff),
    R(E1000_IPAV) = PLAIN(0, 0x1000f),
    RANGE(E1000_IP4AT, 0x20) = PLAIN(0, 0xffffffff),
    RANGE(E1000_IP6AT, 0x10) = PLAIN(0, 0xffffffff),
    R(E1000_WUPL) = PLAIN(0, 0),
    RANGE(E1000_WUPM, 0x80) = PLAIN(0, 0xffffffff),
    RANGE(E1000_FFLT, 0x20) = PLAIN(0, 0x7ff),
};

/* RAL/RAH pairs: filled in by e1000_regs_init (wmask alternates). */
static const struct e1000_reg e1000_ral = PLAIN(0, 0xffffffff);
static const struct e1000_reg e1000_rah = PLAIN(0, RAH_AV | 0x3ffff);
static const struct e1000_reg e1000_none = PLAIN(0, 0);

static const struct e1000_reg *
e1000_reg_at(unsigned int idx)
{
    if (idx >= E1000_NREGS) {
        return &e1000_none;
    }
    if (idx >= E1000_RA / 4 && idx < (E1000_RA + 0x80) / 4) {
        return (idx & 1) ? &e1000_rah : &e1000_ral;
    }
    return &e1000_regs[idx];
}

static uint32_t
e1000_reg_read(struct e1000 *s, uint32_t off)
{
    unsigned int idx = (off & (E1000_MMIO_SIZE - 1)) >> 2;
    const struct e1000_reg *r = e1000_reg_at(idx);

    if (idx >= E1000_NREGS || (r->flags & WO)) {
        return 0;
    }
    return r->read ? r->read(s, idx) : s->regs[idx];
}

static void
e1000_reg_write(struct e1000 *s, uint32_t off, uint32_t val)
{
    unsigned int idx = (off & (E1000_MMIO_SIZE - 1)) >> 2;
    const struct e1000_reg *r = e1000_reg_at(idx);

    if (idx >= E1000_NREGS || (r->flags & RO)) {
        return;
    }
    if (r->write) {
        r->write(s, idx, val);
    } else {
        s->regs[idx] = (s->regs[idx] & ~r->wmask) | (val & r->wmask);
    }
}

/* ---- BARs ---------------------------------------------------------------- */

static uint64_t
e1000_mmio_read(void *opaque, uint64_t off, unsigned int size)
{
    return e1000_reg_read(opaque, (uint32_t)off);
}

static void
e1000_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    e1000_reg_write(opaque, (uint32_t)off, (uint32_t)val);
}

/* IOADDR at 0 selects a register, IODATA at 4 accesses it (SDM 13.2). */
#define E1000_IOADDR 0
#define E1000_IODATA 4

static uint64_t
e1000_io_read(void *opaque, uint64_t off, unsigned int size)
{
    struct e1000 *s = opaque;

    switch (off) {
    case E1000_IOADDR:
        return s->ioaddr;
    case E1000_IODATA:
        return e1000_reg_read(s, s->ioaddr);
    default:
        return 0;
    }
}

static void
e1000_io_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
    struct e1000 *s = opaque;

    if (off == E1000_IOADDR) {
        s->ioaddr = (uint32_t)val & (E1000_MMIO_SIZE - 4);
    } else if (off == E1000_IODATA) {
        e1000_reg_write(s, s->ioaddr, (uint32_t)val);
    }
}

/* ---- reset --------------------------------------------------------------- */

static void
e1000_timers_stop(struct e1000 *s)
{
    unsigned int i;

    for (i = 0; i < E1000_T_NR; i++) {
        dm_timer_del(&s->timers[i].timer);
    }
}

/* The receive address 0 the EEPROM loads at reset (SDM 13.4.51). */
static void
e1000_load_ra0(struct e1000 *s)
{
    const uint8_t *m = s->mac;

    reg_set(s, E1000_RA, (uint32_t)m[0] | (uint32_t)m[1] << 8 |
            (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24);
    reg_set(s, E1000_RA + 4, (uint32_t)m[4] | (uint32_t)m[5] << 8 | RAH_AV);
}

/* CTRL.RST: every MAC register to its default; PCI and PHY untouched. */
static void
e1000_soft_reset(struct e1000 *s)
{
    unsigned int i;

    e1000_timers_stop(s);
    for (i = 0; i < E1000_NREGS; i++) {
        s->regs[i] = e1000_reg_at(i)->reset;
    }
    e1000_load_ra0(s);
    memset(&s->ee, 0, sizeof(s->ee));
    memset(&s->tx.ctx, 0, sizeof(s->tx.ctx));
    e1000_tx_reset_packet(s);
    s->wb.count = 0;
    s->itr_next_ns = 0;
    pci_set_irq(&s->pci, 0);
}

static void
e1000_reset(void *opaque)
{
    struct e1000 *s = opaque;

    pci_dev_reset(&s->pci);
    e1000_phy_reset(s);
    s->ioaddr = 0;
    e1000_soft_reset(s);
}

/* ---- save, check, load (rule 13) ----------------------------------------- */

static void
e1000_save(void *opaque, void *rec)
{
    const struct e1000 *s = opaque;
    struct e1000_rec *r = rec;
    unsigned int i;

    memset(r, 0, sizeof(*r));
    pci_dev_save(&s->pci, &r->pci);
    memcpy(r->regs, s->regs, sizeof(r->regs));
    memcpy(r->eeprom, s->eeprom, sizeof(r->eeprom));
    memcpy(r->phy, s->phy, sizeof(r->phy));
    r->ee_val_in = s->ee.val_in;
    r->ee_bit_in = s->ee.bit_in;
    r->ee_bit_out = s->ee.bit_out;
    r->ee_reading = s->ee.reading;
    for (i = 0; i < E1000_T_NR; i++) {
        r->timers |= dm_timer_pending(&s->timers[i].timer) ? 1u << i : 0;
    }
    r->ctx = s->tx.ctx;
    r->ioaddr = s->ioaddr;
    r->wb = s->wb;
}

/* Registers hold only bits a guest or the device could have put there. */
static bool
e1000_regs_ok(const uint32_t *regs)
{
    unsigned int i;

    for (i = 0; i < E1000_NREGS; i++) {
        const struct e1000_reg *r = e1000_reg_at(i);

        if (!r->read && !r->write && !(r->flags & (RO | WO)) &&
            ((regs[i] ^ r->reset) & ~r->wmask)) {
            return false;
        }
    }
    return (regs[E1000_ICR >> 2] & ~ICR_MASK) == 0 &&
           (regs[E1000_IMS >> 2] & ~ICR_MASK) == 0 &&
           (regs[E1000_RDT >> 2] | regs[E1000_TDT >> 2] |
            regs[E1000_ITR >> 2] | regs[E1000_RDTR >> 2]) <= 0xffff &&
           (regs[E1000_EECD >> 2] & ~(EECD_SK | EECD_CS | EECD_DI |
                                      EECD_FWE | EECD_REQ)) == 0;
}

static int
e1000_check(const void *rec)
{
    const struct e1000_rec *r = rec;
    unsigned int i;

    for (i = 0; i < E1000_PHY_REGS; i++) {
        if ((r->phy[i] ^ e1000_phy_regs[i].reset) &
            ~e1000_phy_regs[i].wmask) {
            return -EINVAL;
        }
    }
    if (!e1000_regs_ok(r->regs) || r->ee_reading > 1 ||
        r->timers >> E1000_T_NR || r->ioaddr & ~(E1000_MMIO_SIZE - 4) ||
        r->wb.count > E1000_WB_MAX ||
        r->reserved[0] | r->reserved[1] | r->reserved[2] | r->reserved[3] |
        r->reserved[4] | r->reserved[5]) {
        return -EINVAL;
    }
    return pci_dev_state_check(&r->pci, PCI_VENDOR_ID_INTEL,
                               E1000_DEVICE_ID);
}

static void
e1000_load(void *opaque, const void *rec)
{
    struct e1000 *s = opaque;
    const struct e1000_rec *r = rec;
    unsigned int i;

    e1000_timers_stop(s);
    pci_dev_load(&s->pci, &r->pci);
    memcpy(s->regs, r->regs, sizeof(s->regs));
    memcpy(s->eeprom, r->eeprom, sizeof(s->eeprom));
    memcpy(s->phy, r->phy, sizeof(s->phy));
    s->ee.val_in = r->ee_val_in;
    s->ee.bit_in = r->ee_bit_in;
    s->ee.bit_out = r->ee_bit_out;
    s->ee.reading = r->ee_reading;
    s->tx.ctx = r->ctx;
    s->ioaddr = r->ioaddr;
    s->wb = r->wb;
    e1000_tx_reset_packet(s);
    s->itr_next_ns = 0;
    for (i = 0; i < E1000_T_NR; i++) {
        if (r->timers & (1u << i)) {
            dm_timer_mod(&s->timers[i].timer, now_ns(s));
        }
    }
    pci_set_irq(&s->pci, 0);
    e1000_update_irq(s);
    e1000_rx_kick(s);
}

static void
e1000_destroy(void *opaque)
{
    struct e1000 *s = opaque;

    e1000_timers_stop(s);
    net_backend_close(s->net);
    pci_dev_fini(&s->pci);
    g_free(s->rom);
    g_free(s);
}

/* ---- tables -------------------------------------------------------------- */

static const struct iomap_ops e1000_mmio_ops = {
    .read = e1000_mmio_read,
    .write = e1000_mmio_write,
    .min_size = 4,
    .max_size = 4,
};

static const struct iomap_ops e1000_io_ops = {
    .read = e1000_io_read,
    .write = e1000_io_write,
    .min_size = 4,
    .max_size = 4,
};

static const struct pci_reg e1000_pci_regs[] = {
    { PCI_COMMAND, 2, 0, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
      PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
      PCI_COMMAND_INTX_DISABLE, 0 },
    { PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0 },
    { PCI_LATENCY_TIMER, 1, 0, 0xff, 0 },
    { PCI_INTERRUPT_LINE, 1, 0, 0xff, 0 },
};

/* Xen platform unplug, bit 1 (xen-dm-interface.md 4.3): stop the timers
 * and close the backend; board_unplug_nics() then takes us off the bus. */
static void
e1000_pci_unplug(struct pci_dev *d)
{
    struct e1000 *s = e1000_of(d);

    e1000_timers_stop(s);
    net_backend_close(s->net);
    s->net = NULL;
}

/* Bus mastering turned back on: a paused backend may deliver again. */
static void
e1000_cfg_write(struct pci_dev *d, unsigned int reg, unsigned int size)
{
    if (pci_range_hit(reg, size, PCI_COMMAND, 2)) {
        e1000_rx_kick(e1000_of(d));
    }
}

static const struct pci_dev_info e1000_info = {
    .name = "e1000",
    .vendor_id = PCI_VENDOR_ID_INTEL,
    .device_id = E1000_DEVICE_ID,
    .subsystem_vendor_id = PCI_SUBVENDOR_ID_QEMU,
    .subsystem_id = PCI_SUBDEVICE_ID_QEMU,
    .class_code = 0x020000,     /* Ethernet controller */
    .revision = 0x03,
    .header_type = 0x00,
    .interrupt_pin = 1,
    .cfg_write = e1000_cfg_write,
    .unplug = e1000_pci_unplug,
};

static const struct dm_dev_ops e1000_dev_ops = {
    .name = "e1000",
    .state_version = 2,         /* 2: RXDCTL write-backs held */
    .state_size = sizeof(struct e1000_rec),
    .reset = e1000_reset,
    .save = e1000_save,
    .check = e1000_check,
    .load = e1000_load,
    .destroy = e1000_destroy,
};

/* ---- creation ------------------------------------------------------------ */

/* Debian's iPXE ROM (ipxe-qemu), so PXE boot works as with qemu-xen. */
static void
e1000_load_rom(struct e1000 *s)
{
    static const char *const names[] = { "efi-e1000.rom", "pxe-e1000.rom" };
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_strconcat(E1000_ROM_DIR, names[i], NULL);
        gchar *data;
        gsize len;

        if (g_file_get_contents(path, &data, &len, NULL) && len) {
            s->rom = (uint8_t *)data;
            s->rom_len = len;
            pci_register_rom(&s->pci, "e1000-rom", s->rom, s->rom_len);
            return;
        }
    }
    DM_WARN("e1000: no iPXE ROM in %s: the NIC works but cannot PXE boot "
            "(apt-get install ipxe-qemu)", E1000_ROM_DIR);
}

static const struct dm_netdev_cfg *
e1000_netdev(const struct dm_config *cfg, const char *id)
{
    unsigned int i;

    for (i = 0; i < cfg->nr_netdevs; i++) {
        if (strcmp(cfg->netdevs[i].id, id) == 0) {
            return &cfg->netdevs[i];
        }
    }
    return NULL;
}

static void
e1000_init_state(struct e1000 *s, struct dm *dm, const struct dm_nic_cfg *nic,
                 unsigned int index)
{
    static const uint8_t dflt[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    unsigned int i;

    s->dm = dm;
    s->index = index;
    memcpy(s->mac, nic->have_mac ? nic->mac : dflt, 6);
    if (!nic->have_mac) {
        s->mac[5] = (uint8_t)(s->mac[5] + index);
    }
    for (i = 0; i < E1000_T_NR; i++) {
        s->timers[i].s = s;
        s->timers[i].id = i;
        dm_timer_init(&s->timers[i].timer, dm, e1000_timer_fire,
                      &s->timers[i]);
    }
    e1000_eeprom_init(s);
}

static int
e1000_open_backend(struct e1000 *s, const struct dm_config *cfg,
                   const struct dm_nic_cfg *nic)
{
    const struct dm_netdev_cfg *nd = e1000_netdev(cfg, nic->netdev);
    char err[256];

    if (!nd) {
        DM_ERR("e1000: netdev=%s: no -netdev has that id", nic->netdev);
        return -EINVAL;
    }
    s->net = net_backend_open(s->dm, nd, err, sizeof(err));
    if (!s->net) {
        DM_ERR("%s", err);
        return -EINVAL;
    }
    return 0;
}

/* The first free slot from E1000_FIRST_SLOT, as QEMU places -device. */
static unsigned int
e1000_devfn(struct dm *dm)
{
    unsigned int slot = E1000_FIRST_SLOT;

    while (slot < 31 && pci_bus_find(dm->board->pci, PCI_DEVFN(slot, 0))) {
        slot++;
    }
    return PCI_DEVFN(slot, 0);
}

static int
e1000_create(struct dm *dm, const struct dm_config *cfg,
             const struct dm_nic_cfg *nic, unsigned int index)
{
    struct e1000 *s = g_new0(struct e1000, 1);
    struct pci_bar_info mmio = {
        .name = "e1000-mmio", .type = PCI_BAR_MEM32, .size = E1000_MMIO_SIZE,
        .ops = &e1000_mmio_ops, .opaque = s,
    };
    struct pci_bar_info io = {
        .name = "e1000-io", .type = PCI_BAR_IO, .size = E1000_IO_SIZE,
        .ops = &e1000_io_ops, .opaque = s,
    };
    int rc;

    e1000_init_state(s, dm, nic, index);
    pci_dev_init(&s->pci, &e1000_info);
    pci_init_regs(&s->pci, e1000_pci_regs, G_N_ELEMENTS(e1000_pci_regs));
    pci_register_bar(&s->pci, 0, &mmio);
    pci_register_bar(&s->pci, 1, &io);
    e1000_load_rom(s);
    rc = e1000_open_backend(s, cfg, nic);
    if (rc < 0) {
        goto fail;
    }
    rc = pci_bus_add(dm->board->pci, &s->pci, e1000_devfn(dm));
    if (rc < 0) {
        goto fail_net;
    }
    dm_dev_register(dm, &s->dev, &e1000_dev_ops, s, index);
    e1000_reset(s);
    net_backend_attach(s->net, e1000_can_receive, e1000_receive, s);
    return 0;

fail_net:
    net_backend_close(s->net);
fail:
    g_free(s->rom);
    g_free(s);
    return rc;
}

int
e1000_board_init(struct dm *dm, const struct dm_config *cfg)
{
    unsigned int i, n = 0;
    int rc;

    for (i = 0; cfg && i < cfg->nr_nics; i++) {
        if (strcmp(cfg->nics[i].model, "e1000") != 0) {
            continue;
        }
        if (!dm->board->pci) {
            return -ENODEV;
        }
        rc = e1000_create(dm, cfg, &cfg->nics[i], n++);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}
