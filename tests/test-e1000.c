/*
 * The 82540EM through the machine harness, driven as Linux's e1000 driver
 * drives it: probe (reset by I/O BAR, EEPROM by bit-bang and EERD, PHY by
 * MDIC), ring set-up, transmit with and without offloads, TSO, receive into
 * one or more buffers, filters, interrupts and their moderation timers,
 * statistics, state round trip, unplug, and the CVE-class hostile rings.
 * Frames leave through a socket pair, so every check reads what went on
 * the wire (pcap-style) rather than what the device says it sent.
 */
#include <errno.h>
#include <poll.h>
#include <sys/wait.h>

#include "dm/dev.h"
#include "dm/machine.h"
#include "hw/board.h"       /* board_unplug_nics */
#include "tests/e1000-util.h"

/* ---- an independent Internet checksum (RFC 1071) ------------------------- */

static uint32_t
ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    return sum;
}

static uint16_t
ref_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* TCP over IPv4 in frame f: IP header and TCP checksums verify. */
static void
check_tcp4(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14, *tcp = f + 34;
    size_t tcplen = len - 34;
    uint32_t sum;

    T_EQ(ref_fold(ref_sum(0, ip, 20)), 0xffff);
    T_EQ(ip[2] << 8 | ip[3], len - 14);
    sum = ref_sum(0, ip + 12, 8) + 6 + (uint32_t)tcplen;
    T_EQ(ref_fold(ref_sum(sum, tcp, tcplen)), 0xffff);
}

/* Ethernet + IPv4 + TCP headers (54 bytes) with the given payload. */
static size_t
build_tcp4(uint8_t *f, size_t payload, bool pseudo_len)
{
    uint32_t ps;
    size_t i;

    nic_frame(f, (const uint8_t *)"\x02\x00\x00\x00\x00\x02", 0x0800, 14);
    memset(f + 14, 0, 40);
    f[14] = 0x45;
    f[14 + 2] = (uint8_t)((20 + 20 + payload) >> 8);
    f[14 + 3] = (uint8_t)(20 + 20 + payload);
    f[14 + 4] = 0x12;           /* IP id 0x1234 */
    f[14 + 5] = 0x34;
    f[14 + 8] = 64;
    f[14 + 9] = 6;
    memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    f[34] = 0x30;               /* ports 12345 -> 5001 */
    f[35] = 0x39;
    f[36] = 0x13;
    f[37] = 0x89;
    memcpy(f + 38, "\x10\x00\x00\x00", 4);     /* seq 0x10000000 */
    f[46] = 0x50;               /* data offset 5 */
    f[47] = 0x18;               /* PSH, ACK */
    f[48] = 0xff;
    for (i = 0; i < payload; i++) {
        f[54 + i] = (uint8_t)(i * 13 + i / 251);
    }
    ps = ~ref_fold(ref_sum(0, f + 14, 20));
    f[24] = (uint8_t)(ps >> 8);
    f[25] = (uint8_t)ps;
    /* The stack's CHECKSUM_PARTIAL seed: pseudo-header, folded. */
    ps = ref_sum(0, f + 26, 8) + 6 + (pseudo_len ? 20 + payload : 0);
    f[50] = (uint8_t)(ref_fold(ps) >> 8);
    f[51] = (uint8_t)ref_fold(ps);
    return 54 + payload;
}

static ssize_t
wire_recv(struct nic *n, uint8_t *buf, size_t len)
{
    return recv(n->peer, buf, len, MSG_DONTWAIT);
}

static void
wire_send(struct nic *n, const uint8_t *f, size_t len)
{
    T_EQ(send(n->peer, f, len, 0), (ssize_t)len);
    nic_pump(n);
}

/* ---- probe: what e1000_probe and e1000_reset_hw do ----------------------- */

/* e1000_shift_out_ee_bits / e1000_shift_in_ee_bits for one word. */
static uint16_t
ee_bitbang_read(struct nic *n, unsigned int addr)
{
    uint32_t eecd = nic_rd(n, EECD);
    uint32_t cmd = 6u << 6 | addr;      /* READ opcode 110b + 6 bits */
    uint16_t data = 0;
    int i;

    eecd |= 0x40;                       /* EE_REQ */
    nic_wr(n, EECD, eecd);
    T_ASSERT(nic_rd(n, EECD) & 0x80);   /* EE_GNT */
    eecd &= ~0x5u;                      /* DI, SK low */
    nic_wr(n, EECD, eecd);
    eecd |= 0x2;                        /* CS */
    nic_wr(n, EECD, eecd);
    for (i = 8; i >= 0; i--) {
        eecd = (eecd & ~0x4u) | ((cmd >> i) & 1 ? 0x4 : 0);
        nic_wr(n, EECD, eecd);
        nic_wr(n, EECD, eecd | 1);
        nic_wr(n, EECD, eecd);
    }
    eecd &= ~0x4u;
    for (i = 0; i < 16; i++) {
        nic_wr(n, EECD, eecd | 1);
        data = (uint16_t)(data << 1 | !!(nic_rd(n, EECD) & 0x8));
        nic_wr(n, EECD, eecd);
    }
    nic_wr(n, EECD, eecd & ~0x43u);     /* CS low, release */
    return data;
}

static uint16_t
ee_eerd_read(struct nic *n, unsigned int addr)
{
    uint32_t v;

    nic_wr(n, EERD, addr << 8 | 1);
    v = nic_rd(n, EERD);
    T_ASSERT(v & 0x10);                 /* DONE */
    return (uint16_t)(v >> 16);
}

static uint32_t
mdic(struct nic *n, unsigned int op, unsigned int phy, unsigned int r,
     uint16_t data)
{
    uint32_t v;

    nic_wr(n, MDIC, op << 26 | phy << 21 | r << 16 | data);
    v = nic_rd(n, MDIC);
    T_ASSERT(v & (1u << 28));           /* READY */
    return v;
}

T_TEST(e1000_pci_identity)
{
    struct nic n;

    nic_open(&n);
    T_EQ(t_cfg_read(n.t, NIC_BDF, PCI_VENDOR_ID, 4), 0x100e8086);
    T_EQ(t_cfg_read(n.t, NIC_BDF, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
    T_EQ(t_cfg_read(n.t, NIC_BDF, PCI_REVISION_ID, 4), 0x02000003);
    T_EQ(t_cfg_read(n.t, NIC_BDF, PCI_INTERRUPT_PIN, 1), 1);
    /* BAR sizes: 128 KiB memory, 64 bytes of I/O (SDM 4.1). */
    t_cfg_write(n.t, NIC_BDF, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
    T_EQ(t_cfg_read(n.t, NIC_BDF, PCI_BASE_ADDRESS_0, 4), 0xfffe0000);
    t_cfg_write(n.t, NIC_BDF, PCI_BASE_ADDRESS_0 + 4, 0xffffffff, 4);
    T_EQ(t_cfg_read(n.t, NIC_BDF, PCI_BASE_ADDRESS_0 + 4, 4), 0xffffffc1);
    nic_program_pci(n.t);
    T_EQ(nic_rd(&n, STATUS) & 0x3c3, 0x283);   /* FD, LU, 1000, ASDV */
    nic_close(&n);
}

/* The iPXE image hvmdm loads (e1000_load_rom's order), or NULL. */
static uint8_t *
rom_image(gsize *len)
{
    static const char *const names[] = {
        "/usr/lib/ipxe/qemu/efi-e1000.rom", "/usr/lib/ipxe/qemu/pxe-e1000.rom",
    };
    unsigned int i;
    gchar *data;

    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_file_get_contents(names[i], &data, len, NULL) && *len) {
            return (uint8_t *)data;
        }
    }
    return NULL;
}

/*
 * SeaBIOS's option ROM scan: size the ROM BAR, place and enable it, read
 * the image, disable it. The image sits in guest frames of its own, moved
 * under the BAR while it decodes and made read-only, so the guest reads it
 * from memory instead of with a request per read.
 */
T_TEST(e1000_option_rom)
{
    g_autofree uint8_t *img = NULL, *got = NULL;
    struct nic n;
    uint32_t sz, pages;
    gsize len;
    char want[64];

    img = rom_image(&len);
    if (!img) {
        printf("skip: ipxe-qemu not installed\n");
        return;
    }
    pages = (uint32_t)((len + 4095) / 4096);
    got = g_malloc(len);
    nic_open(&n);
    T_EQ(t_hv_count(n.t, "populate"), 1);
    t_cfg_write(n.t, NIC_BDF, PCI_ROM_ADDRESS, 0xfffff800, 4);
    sz = ~(t_cfg_read(n.t, NIC_BDF, PCI_ROM_ADDRESS, 4) & ~0x7ffu) + 1;
    T_ASSERT(sz >= len);
    t_hv_log_clear(n.t);
    t_cfg_write(n.t, NIC_BDF, PCI_ROM_ADDRESS, 0xe0000001, 4);
    T_EQ(t_readw(n.t, 0xe0000000), 0xaa55);    /* option ROM signature */
    T_ASSERT(t_gfn_extra(n.t, 0xe0000));
    T_ASSERT(t_gfn_extra(n.t, 0xe0000 + pages - 1));
    T_ASSERT(!t_gfn_extra(n.t, 0xe0000 + pages));
    t_memread(n.t, 0xe0000000, got, len);
    T_ASSERT(memcmp(got, img, len) == 0);
    snprintf(want, sizeof(want), "mem_type 1 0xe0000 %u", pages);
    T_ASSERT(strstr(t_hv_log(n.t), want));
    /* Enable bit off: the frames go home, the BAR reads nothing. */
    t_cfg_write(n.t, NIC_BDF, PCI_ROM_ADDRESS, 0xe0000000, 4);
    T_ASSERT(!t_gfn_extra(n.t, 0xe0000));
    T_EQ(t_hv_count(n.t, "relocate"), 2);
    /* Moved while enabled: the frames follow the BAR. */
    t_cfg_write(n.t, NIC_BDF, PCI_ROM_ADDRESS, 0xe0040001, 4);
    T_ASSERT(t_gfn_extra(n.t, 0xe0040));
    t_cfg_write(n.t, NIC_BDF, PCI_ROM_ADDRESS, 0xe0080001, 4);
    T_ASSERT(!t_gfn_extra(n.t, 0xe0040));
    t_memread(n.t, 0xe0080000, got, len);
    T_ASSERT(memcmp(got, img, len) == 0);
    nic_close(&n);
}

/* A ROM BAR over guest RAM or above the PCI hole moves no frames: the
 * guest's RAM stays its own, the ROM is read through requests. */
T_TEST(e1000_option_rom_over_ram_stays_home)
{
    g_autofree uint8_t *img = NULL;
    struct nic n;
    gsize len;
    uint8_t b;

    img = rom_image(&len);
    if (!img) {
        printf("skip: ipxe-qemu not installed\n");
        return;
    }
    nic_open(&n);
    t_memset(n.t, 0x100000, 0x5a, 4096);
    t_hv_log_clear(n.t);
    t_cfg_write(n.t, NIC_BDF, PCI_ROM_ADDRESS, 0x00100001, 4);
    T_EQ(t_readw(n.t, 0x100000), 0xaa55);      /* through the request */
    t_memread(n.t, 0x100000, &b, 1);
    T_EQ(b, 0x5a);
    t_cfg_write(n.t, NIC_BDF, PCI_ROM_ADDRESS, 0xfc000001, 4);
    T_EQ(t_readw(n.t, 0xfc000000), 0xaa55);
    T_ASSERT(!t_gfn_extra(n.t, 0xfc000));
    /* Nor over the frames at home above RAM (its own, VRAM's). */
    t_cfg_write(n.t, NIC_BDF, PCI_ROM_ADDRESS,
                (uint32_t)t_ram_size(n.t) | 1, 4);
    T_EQ(t_readw(n.t, t_ram_size(n.t)), 0xaa55);
    T_EQ(t_hv_count(n.t, "relocate"), 0);
    nic_close(&n);
}

/* e1000_reset_hw for the 82540: the reset goes through the I/O BAR. */
T_TEST(e1000_linux_reset_via_io)
{
    struct nic n;

    nic_open(&n);
    nic_wr(&n, IMS, 0x9d);
    nic_wr(&n, RAL0, 0x11111111);
    nic_wr(&n, IMC, 0xffffffff);
    nic_wr(&n, RCTL, 0);
    nic_wr(&n, TCTL, TCTL_PSP);
    (void)nic_rd(&n, STATUS);
    t_outl(n.t, NIC_IO, CTRL);
    T_EQ(t_inl(n.t, NIC_IO), CTRL);
    t_outl(n.t, NIC_IO + 4, t_inl(n.t, NIC_IO + 4) | (1u << 26));
    T_EQ(nic_rd(&n, CTRL) & (1u << 26), 0);    /* RST self-clears */
    T_EQ(nic_rd(&n, IMS), 0);
    /* Receive address 0 comes back from the EEPROM, valid (SDM 13.4.51). */
    T_EQ(nic_rd(&n, RAL0), 0x123e1600);
    T_EQ(nic_rd(&n, RAH0), 0x80005634);
    T_EQ(nic_rd(&n, ICR), 0);
    /* A byte write is below the register contract: dropped, not merged. */
    t_writeb(n.t, NIC_MMIO + VET, 0x42);
    T_EQ(nic_rd(&n, VET), 0x8100);
    nic_close(&n);
}

T_TEST(e1000_eeprom_bitbang_and_eerd)
{
    struct nic n;
    uint16_t sum = 0, w;
    unsigned int i;

    nic_open(&n);
    for (i = 0; i < 64; i++) {
        w = ee_bitbang_read(&n, i);
        T_EQ(w, ee_eerd_read(&n, i));
        sum = (uint16_t)(sum + w);
    }
    T_EQ(sum, 0xbaba);                  /* e1000_validate_eeprom_checksum */
    T_EQ(ee_eerd_read(&n, 0), 0x1600);  /* 00:16:3e:12:34:56 */
    T_EQ(ee_eerd_read(&n, 1), 0x123e);
    T_EQ(ee_eerd_read(&n, 2), 0x5634);
    T_EQ(ee_eerd_read(&n, 0x0d), 0x100e);
    T_EQ(ee_eerd_read(&n, 0x0e), 0x8086);
    T_EQ(ee_eerd_read(&n, 200), 0);     /* past the 64 words */
    nic_close(&n);
}

T_TEST(e1000_phy_probe_and_link)
{
    struct nic n;
    uint32_t v;

    nic_open(&n);
    /* e1000_detect_gig_phy: M88E1011_I_PHY_ID at address 1. */
    T_EQ(mdic(&n, 2, 1, 2, 0) & 0xffff, 0x0141);
    T_EQ(mdic(&n, 2, 1, 3, 0) & 0xfff0, 0x0c20);
    T_ASSERT(mdic(&n, 2, 2, 2, 0) & (1u << 30));      /* no PHY at 2 */
    /* e1000_phy_hw_reset, then autonegotiation (e1000_copper_link_autoneg). */
    nic_wr(&n, CTRL, nic_rd(&n, CTRL) | (1u << 31));
    nic_wr(&n, CTRL, nic_rd(&n, CTRL) & ~(1u << 31));
    mdic(&n, 1, 1, 4, 0x0de1);
    mdic(&n, 1, 1, 9, 0x0e00);
    mdic(&n, 1, 1, 0, 0x1340);                        /* AN enable+restart */
    T_EQ(mdic(&n, 2, 1, 0, 0) & 0x0200, 0);           /* restart clears */
    v = mdic(&n, 2, 1, 1, 0);
    T_EQ(v & 0x24, 0x24);               /* link status, autoneg complete */
    T_EQ(mdic(&n, 2, 1, 17, 0) & 0xac00, 0xac00);     /* 1000 FD link */
    /* Read-only ID register ignores writes. */
    mdic(&n, 1, 1, 2, 0xdead);
    T_EQ(mdic(&n, 2, 1, 2, 0) & 0xffff, 0x0141);
    nic_wr(&n, IMS, I_LSC);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 1);            /* LSC after restart */
    T_EQ(nic_rd(&n, ICR) & I_LSC, I_LSC);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 0);
    /* MDIC interrupt on completion (I bit). */
    nic_wr(&n, IMS, 0x200);
    nic_wr(&n, MDIC, 1u << 29 | 2u << 26 | 1u << 21 | 1u << 16);
    T_EQ(nic_rd(&n, ICR) & 0x200, 0x200);
    nic_close(&n);
}

/* ---- data path ----------------------------------------------------------- */

T_TEST(e1000_tx_legacy_and_irq)
{
    uint8_t f[1514], got[2048];
    struct nic n;
    uint8_t sta;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN | RCTL_BAM | RCTL_SECRC);
    nic_wr(&n, IMS, I_TXDW);
    nic_frame(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 0x0800, 1000);
    nic_send_legacy(&n, f, 1000);
    T_EQ(wire_recv(&n, got, sizeof(got)), 1000);
    T_ASSERT(memcmp(got, f, 1000) == 0);
    T_EQ(nic_rd(&n, TDH), 1);
    t_memread(n.t, G_TXR + 12, &sta, 1);
    T_EQ(sta & 1, 1);                   /* DD written back (RS) */
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 1);
    T_EQ(nic_rd(&n, ICR), I_TXDW | I_TXQE);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 0);
    /* Short frames are padded to 60 bytes with TCTL.PSP. */
    nic_send_legacy(&n, f, 20);
    T_EQ(wire_recv(&n, got, sizeof(got)), 60);
    T_EQ(nic_rd(&n, GPTC), 2);
    T_EQ(nic_rd(&n, GPTC), 0);          /* read to clear */
    T_EQ(nic_rd(&n, TPT), 2);
    nic_close(&n);
}

/* A packet over three descriptors; legacy IC checksum insertion. */
T_TEST(e1000_tx_multi_descriptor_legacy_csum)
{
    uint8_t f[2048], got[2048];
    size_t len = build_tcp4(f, 600, true);
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN);
    t_memwrite(n.t, G_TXBUF, f, len);
    nic_txd(&n, G_TXBUF, 14, 0);
    nic_txd(&n, G_TXBUF + 14, 40, 0);
    /* CSO 50, CSS 34, CMD EOP|IFCS|IC|RS on the last (SDM 3.3.3). */
    nic_txd(&n, G_TXBUF + 54, (uint32_t)(len - 54) | 50u << 16 | 0x0fu << 24,
            34u << 8);
    nic_tx_ring(&n);
    T_EQ(wire_recv(&n, got, sizeof(got)), (ssize_t)len);
    check_tcp4(got, len);
    T_ASSERT(memcmp(got + 54, f + 54, len - 54) == 0);
    nic_close(&n);
}

/* e1000_tx_csum: a context descriptor, then data with POPTS IXSM|TXSM. */
T_TEST(e1000_tx_checksum_offload)
{
    uint8_t f[2048], got[2048];
    size_t len = build_tcp4(f, 1000, true);
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN);
    f[24] = f[25] = 0;                  /* IP checksum left to the NIC */
    t_memwrite(n.t, G_TXBUF, f, len);
    nic_txd(&n, 14u | 24u << 8 | 33u << 16 | (uint64_t)(34u | 50u << 8) << 32,
            0x20u << 24, 0);
    nic_txd(&n, G_TXBUF, (uint32_t)len | 1u << 20 | 0x2bu << 24, 3u << 8);
    nic_tx_ring(&n);
    T_EQ(wire_recv(&n, got, sizeof(got)), (ssize_t)len);
    check_tcp4(got, len);
    nic_close(&n);
}

/* e1000_tso: 64 KiB of TCP payload cut into MSS segments (SDM 3.5). */
static void
tso_send(struct nic *n, size_t payload, unsigned int mss)
{
    static uint8_t f[70000];
    size_t len = build_tcp4(f, payload, false), off;

    f[16] = f[17] = 0;                  /* tot_len 0, as Linux leaves it */
    t_memwrite(n->t, G_TXBUF, f, len);
    nic_txd(n, 14u | 24u << 8 | 33u << 16 | (uint64_t)(34u | 50u << 8) << 32,
            (uint32_t)payload | 0x27u << 24, 54u << 8 | mss << 16);
    /* Header descriptor, then 4 KiB data descriptors (TSE, DTYP=1). */
    nic_txd(n, G_TXBUF, 54u | 1u << 20 | 0x24u << 24, 3u << 8);
    for (off = 54; off < len; off += 4096) {
        size_t chunk = MIN((size_t)4096, len - off);
        uint32_t cmd = 0x24u | (off + chunk == len ? 0x0bu : 0);

        nic_txd(n, G_TXBUF + off, (uint32_t)chunk | 1u << 20 | cmd << 24,
                3u << 8);
    }
    nic_tx_ring(n);
}

T_TEST(e1000_tx_tso)
{
    static uint8_t got[4096], ref[70000];
    const size_t payload = 65536 - 54;
    const unsigned int mss = 1448;
    size_t sent = 0, seg = 0;
    struct nic n;
    ssize_t r;

    nic_open(&n);
    nic_rings(&n, 64, 8, RCTL_EN);
    build_tcp4(ref, payload, false);
    tso_send(&n, payload, mss);
    while ((r = wire_recv(&n, got, sizeof(got))) > 0) {
        size_t pl = (size_t)r - 54;
        bool last = sent + pl == payload;

        T_EQ(pl, last ? payload - sent : mss);
        check_tcp4(got, (size_t)r);
        T_EQ(got[18] << 8 | got[19], 0x1234 + seg);   /* IP id */
        T_EQ((uint32_t)(got[38] << 24 | got[39] << 16 | got[40] << 8 |
                        got[41]), 0x10000000u + sent);
        T_EQ(got[47] & 0x08, last ? 0x08 : 0);          /* PSH on last */
        T_ASSERT(memcmp(got + 54, ref + 54 + sent, pl) == 0);
        sent += pl;
        seg++;
    }
    T_EQ(sent, payload);
    T_EQ(seg, (payload + mss - 1) / mss);
    T_EQ(nic_rd(&n, TSCTC), 1);
    nic_close(&n);
}

T_TEST(e1000_rx_basic_and_fcs)
{
    uint8_t f[1514], got[2048];
    struct nic n;
    struct nic_rxd d;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN | RCTL_BAM);
    nic_wr(&n, IMS, I_RXT0);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 200);
    wire_send(&n, f, 200);
    d = nic_rxd(&n, 0);
    T_EQ(d.status & 3, 3);              /* DD, EOP */
    T_EQ(d.len, 204);                   /* with the FCS: no RCTL.SECRC */
    t_memread(n.t, G_RXBUF, got, 200);
    T_ASSERT(memcmp(got, f, 200) == 0);
    T_EQ(nic_rd(&n, RDH), 1);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 1);
    T_EQ(nic_rd(&n, ICR) & I_RXT0, I_RXT0);
    T_EQ(nic_rd(&n, GPRC), 1);
    T_EQ(nic_rd(&n, GORCL), 204);
    T_EQ(nic_rd(&n, GORCL), 204);       /* low half does not clear */
    T_EQ(nic_rd(&n, GORCH), 0);
    T_EQ(nic_rd(&n, GORCL), 0);         /* high half cleared both */
    /* SECRC strips; a runt is padded to 60 (SDM 8.2.4). */
    nic_wr(&n, RCTL, RCTL_EN | RCTL_SECRC);
    wire_send(&n, f, 20);
    d = nic_rxd(&n, 1);
    T_EQ(d.len, 60);
    nic_close(&n);
}

/*
 * RXDCTL.WTHRESH (SDM 3.2.7, 13.4.27): with a receive delay, used
 * descriptors are written back (DD) once WTHRESH of them are ready, when
 * the delay timer ends, or on RDTR.FPD; the data is in memory already.
 * GRAN 0 counts PCI cache lines (here 64 bytes: 4 descriptors).
 */
T_TEST(e1000_rx_wthresh_holds_write_backs)
{
    uint8_t f[1514], got[100];
    struct nic n;
    unsigned int i;

    nic_open(&n);
    nic_rings(&n, 8, 16, RCTL_EN | RCTL_SECRC);
    nic_wr(&n, IMS, I_RXT0);
    nic_wr(&n, RDTR, 10);
    nic_wr(&n, RXDCTL, 3u << 16 | 1u << 24);   /* WTHRESH 3 descriptors */
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 100);
    for (i = 0; i < 2; i++) {
        wire_send(&n, f, 100);
    }
    T_EQ(nic_rxd(&n, 0).status, 0);
    T_EQ(nic_rxd(&n, 1).status, 0);
    t_memread(n.t, G_RXBUF + RX_STRIDE, got, 100);  /* data is there */
    T_ASSERT(memcmp(got, f, 100) == 0);
    T_EQ(nic_rd(&n, RDH), 2);
    wire_send(&n, f, 100);                      /* the third: all three */
    for (i = 0; i < 3; i++) {
        T_EQ(nic_rxd(&n, i).status & 3, 3);
        T_EQ(nic_rxd(&n, i).len, 100);
    }
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 0);     /* RDTR still runs */
    /* One more waits for the timer; the interrupt comes with it. */
    wire_send(&n, f, 100);
    T_EQ(nic_rxd(&n, 3).status, 0);
    t_clock_step(n.t, 11000);
    T_EQ(nic_rxd(&n, 3).status & 3, 3);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 1);
    T_EQ(nic_rd(&n, ICR) & I_RXT0, I_RXT0);
    /* FPD flushes at once. */
    wire_send(&n, f, 100);
    T_EQ(nic_rxd(&n, 4).status, 0);
    nic_wr(&n, RDTR, 10u | 1u << 31);
    T_EQ(nic_rxd(&n, 4).status & 3, 3);
    /* GRAN 0, WTHRESH 1, cache line 16 dwords: four descriptors. */
    t_cfg_write(n.t, NIC_BDF, PCI_CACHE_LINE_SIZE, 16, 1);
    nic_wr(&n, RXDCTL, 1u << 16);
    for (i = 0; i < 3; i++) {
        wire_send(&n, f, 100);
    }
    T_EQ(nic_rxd(&n, 7).status, 0);
    wire_send(&n, f, 100);
    for (i = 5; i < 9; i++) {
        T_EQ(nic_rxd(&n, i).status & 3, 3);
    }
    /* WTHRESH 0 (or no delay): written back with each packet. */
    nic_wr(&n, RXDCTL, 0);
    wire_send(&n, f, 100);
    T_EQ(nic_rxd(&n, 9).status & 3, 3);
    nic_close(&n);
}

T_TEST(e1000_rx_spans_descriptors)
{
    uint8_t f[1514], got[1514];
    struct nic n;
    unsigned int i;

    nic_open(&n);
    /* BSIZE 11b without BSEX: 256-byte buffers. */
    nic_rings(&n, 8, 16, RCTL_EN | RCTL_SECRC | 3u << 16);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 1000);
    wire_send(&n, f, 1000);
    for (i = 0; i < 4; i++) {
        struct nic_rxd d = nic_rxd(&n, i);

        T_EQ(d.status & 3, i == 3 ? 3 : 1);
        T_EQ(d.len, i == 3 ? 1000 - 768 : 256);
        t_memread(n.t, G_RXBUF + i * RX_STRIDE, got + 256 * i, d.len);
    }
    T_ASSERT(memcmp(got, f, 1000) == 0);
    T_EQ(nic_rd(&n, RDH), 4);
    /* BSEX: BSIZE 01b = 16384 bytes; the whole frame in one. */
    nic_wr(&n, RCTL, RCTL_EN | RCTL_SECRC | RCTL_BSEX | 1u << 16 |
           RCTL_LPE);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 1514);
    wire_send(&n, f, 1514);
    T_EQ(nic_rxd(&n, 4).len, 1514);
    nic_close(&n);
}

T_TEST(e1000_rx_filters)
{
    uint8_t f[200];
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 16, RCTL_EN | RCTL_SECRC);
    /* Another station's unicast: dropped; with UPE: taken. */
    nic_frame(f, (const uint8_t *)"\x00\x16\x3e\x00\x00\x09", 0x0800, 100);
    wire_send(&n, f, 100);
    T_EQ(nic_rd(&n, RDH), 0);
    nic_wr(&n, RCTL, RCTL_EN | RCTL_SECRC | RCTL_UPE);
    wire_send(&n, f, 100);
    T_EQ(nic_rd(&n, RDH), 1);
    /* Broadcast needs BAM. */
    nic_wr(&n, RCTL, RCTL_EN | RCTL_SECRC);
    nic_frame(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 0x0806, 60);
    wire_send(&n, f, 60);
    T_EQ(nic_rd(&n, RDH), 1);
    nic_wr(&n, RCTL, RCTL_EN | RCTL_SECRC | RCTL_BAM);
    wire_send(&n, f, 60);
    T_EQ(nic_rd(&n, RDH), 2);
    /* Multicast 01:00:5e:00:00:fb by the MTA hash, MO=00: bits 47:36. */
    nic_frame(f, (const uint8_t *)"\x01\x00\x5e\x00\x00\xfb", 0x0800, 80);
    wire_send(&n, f, 80);
    T_EQ(nic_rd(&n, RDH), 2);
    nic_wr(&n, MTA + 4 * (0xfb0 >> 5), 1u << (0xfb0 & 31));
    wire_send(&n, f, 80);
    T_EQ(nic_rd(&n, RDH), 3);
    /* VLAN filter: VID 5 tagged frame dropped until VFTA has it. */
    nic_wr(&n, RCTL, RCTL_EN | RCTL_SECRC | RCTL_VFE);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x8100, 100);
    f[14] = 0;
    f[15] = 5;
    wire_send(&n, f, 100);
    T_EQ(nic_rd(&n, RDH), 3);
    nic_wr(&n, VFTA, 1u << 5);
    wire_send(&n, f, 100);
    T_EQ(nic_rd(&n, RDH), 4);
    /* CTRL.VME strips the tag into the descriptor (VP, special). */
    nic_wr(&n, CTRL, nic_rd(&n, CTRL) | (1u << 30));
    wire_send(&n, f, 100);
    T_EQ(nic_rxd(&n, 4).status & 0x08, 0x08);
    T_EQ(nic_rxd(&n, 4).special, 5);
    T_EQ(nic_rxd(&n, 4).len, 96);
    nic_close(&n);
}

/* CVE-2012-6075: without LPE a frame over 1522 bytes is not received. */
T_TEST(e1000_rx_long_frames)
{
    static uint8_t f[16384];
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 16, RCTL_EN | RCTL_SECRC);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 4000);
    wire_send(&n, f, 4000);
    T_EQ(nic_rd(&n, RDH), 0);
    T_EQ(nic_rd(&n, ROC), 1);
    nic_wr(&n, RCTL, RCTL_EN | RCTL_SECRC | RCTL_LPE);
    wire_send(&n, f, 4000);
    T_EQ(nic_rd(&n, RDH), 2);           /* two 2 KiB buffers */
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 16384);
    wire_send(&n, f, 16384);            /* fits exactly with LPE */
    T_EQ(nic_rd(&n, RDH), 10);
    nic_close(&n);
}

/* RXCSUM: Linux sets TUOFL and trusts TCPCS without TCPE. */
T_TEST(e1000_rx_checksum_bits)
{
    uint8_t f[2048];
    size_t len = build_tcp4(f, 300, true);
    uint32_t sum;
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 16, RCTL_EN | RCTL_SECRC | RCTL_UPE);
    nic_wr(&n, RXCSUM, 0x300);
    sum = ref_sum(0, f + 26, 8) + 6 + 320;
    f[50] = f[51] = 0;
    sum = ref_sum(sum, f + 34, 320);
    f[50] = (uint8_t)(~ref_fold(sum) >> 8);
    f[51] = (uint8_t)~ref_fold(sum);
    wire_send(&n, f, len);
    T_EQ(nic_rxd(&n, 0).status & 0x64, 0x60);   /* IPCS, TCPCS, no IXSM */
    T_EQ(nic_rxd(&n, 0).errors & 0x60, 0);
    f[60] ^= 1;                                 /* corrupt the payload */
    wire_send(&n, f, len);
    T_EQ(nic_rxd(&n, 1).errors & 0x60, 0x20);   /* TCPE */
    nic_wr(&n, RXCSUM, 0);
    wire_send(&n, f, len);
    T_EQ(nic_rxd(&n, 2).status & 0x04, 0x04);   /* IXSM: ignore */
    nic_close(&n);
}

/* No buffers: the backend stops reading; RDT resumes it (no loss). */
T_TEST(e1000_rx_backpressure)
{
    uint8_t f[200];
    struct nic n;
    unsigned int i;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN | RCTL_SECRC);
    nic_wr(&n, IMS, I_RXDMT0);
    nic_wr(&n, RDT, 0);                 /* no buffers yet */
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 100);
    for (i = 0; i < 10; i++) {
        f[20] = (uint8_t)i;
        wire_send(&n, f, 100);
    }
    T_EQ(nic_rd(&n, RDH), 0);           /* paused, frames kept queued */
    nic_wr(&n, RDT, 7);
    nic_pump(&n);
    T_EQ(nic_rd(&n, RDH), 7);
    T_EQ(nic_rd(&n, ICR) & I_RXDMT0, I_RXDMT0);
    /* Give back seven: the three still queued arrive, in order. */
    nic_wr(&n, RDT, 6);
    nic_pump(&n);
    T_EQ(nic_rd(&n, RDH), 2);
    for (i = 0; i < 8; i++) {
        /* Frames 8 and 9 wrapped into buffers 0 and 1. */
        t_memread(n.t, G_RXBUF + i * RX_STRIDE + 20, f, 1);
        T_EQ(f[0], i < 2 ? 8 + i : i);
    }
    T_EQ(nic_rd(&n, MPC), 0);
    T_EQ(nic_rd(&n, GPRC), 10);
    nic_close(&n);
}

/* ---- interrupt moderation ------------------------------------------------ */

T_TEST(e1000_itr_and_delay_timers)
{
    uint8_t f[200];
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 16, RCTL_EN | RCTL_SECRC);
    nic_wr(&n, IMS, I_RXT0 | I_TXDW);
    /* ITR 1000 x 256 ns: the second interrupt waits 256 us. */
    nic_wr(&n, ITR, 1000);
    nic_wr(&n, ICS, I_RXT0);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 1);
    nic_rd(&n, ICR);
    nic_wr(&n, ICS, I_RXT0);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 0);
    t_clock_step(n.t, 255000);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 0);
    t_clock_step(n.t, 2000);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 1);
    nic_rd(&n, ICR);
    nic_wr(&n, ITR, 0);
    /* RDTR 10 (10.24 us) restarts per packet; RADV 15 caps it. */
    nic_wr(&n, RDTR, 10);
    nic_wr(&n, RADV, 15);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 100);
    wire_send(&n, f, 100);
    T_EQ(nic_rd(&n, ICR) & I_RXT0, 0);
    t_clock_step(n.t, 8000);
    wire_send(&n, f, 100);              /* restarts RDTR */
    t_clock_step(n.t, 6000);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 0);
    t_clock_step(n.t, 2000);            /* 16 us > RADV 15.36 us */
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 1);
    T_EQ(nic_rd(&n, ICR) & I_RXT0, I_RXT0);
    /* RDTR write with FPD flushes at once. */
    wire_send(&n, f, 100);
    nic_wr(&n, RDTR, 10u | 1u << 31);
    T_EQ(nic_rd(&n, ICR) & I_RXT0, I_RXT0);
    /* TIDV: a descriptor with IDE delays TXDW by 8 x 1.024 us. */
    nic_wr(&n, TIDV, 8);
    nic_wr(&n, TADV, 0);
    t_memwrite(n.t, G_TXBUF, f, 100);
    nic_txd(&n, G_TXBUF, 100u | 0x8bu << 24, 0);
    nic_tx_ring(&n);
    T_EQ(nic_rd(&n, ICR) & I_TXDW, 0);
    t_clock_step(n.t, 8192);
    T_EQ(nic_rd(&n, ICR) & I_TXDW, I_TXDW);
    nic_close(&n);
}

/* Loopback (RCTL.LBM = MAC): what goes out comes back, runts too. */
T_TEST(e1000_mac_loopback_runt)
{
    uint8_t f[64], got[64];
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN | RCTL_SECRC | RCTL_LBM_MAC);
    nic_wr(&n, TCTL, TCTL_EN);          /* no padding: a 14-byte runt */
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 14);
    nic_send_legacy(&n, f, 14);
    T_EQ(nic_rxd(&n, 0).len, 60);       /* CVE-2025-12464: padded safely */
    t_memread(n.t, G_RXBUF, got, 60);
    T_ASSERT(memcmp(got, f, 14) == 0);
    T_EQ(wire_recv(&n, got, sizeof(got)), -1);  /* nothing on the wire */
    nic_close(&n);
}

/* ---- hostile rings ------------------------------------------------------- */

/* CVE-2016-1981: heads outside the ring must not loop or walk. */
T_TEST(e1000_hostile_heads_outside_ring)
{
    uint8_t got[2048];
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN | RCTL_UPE);
    nic_wr(&n, TDH, 100);
    nic_wr(&n, TDT, 3);
    T_EQ(nic_rd(&n, TDH), 100);
    nic_wr(&n, TDT, 200);
    T_EQ(wire_recv(&n, got, sizeof(got)), -1);
    nic_wr(&n, RDH, 50);
    nic_wr(&n, RDT, 60);
    nic_frame(got, (const uint8_t *)NIC_MAC, 0x0800, 100);
    wire_send(&n, got, 100);
    T_EQ(nic_rd(&n, RDH), 50);
    /* RDLEN/TDLEN 0 and unaligned lengths are masked (SDM 13.4.25). */
    nic_wr(&n, TDLEN, 0x7f);
    T_EQ(nic_rd(&n, TDLEN), 0);
    nic_wr(&n, TDH, 0);
    nic_wr(&n, TDT, 1);
    nic_close(&n);
}

/* Every descriptor without EOP and 64 KiB long, zero-length ones. */
T_TEST(e1000_hostile_endless_packet)
{
    uint8_t got[70000];
    struct nic n;
    unsigned int i;

    nic_open(&n);
    nic_rings(&n, 256, 8, RCTL_EN);
    for (i = 0; i < 255; i++) {
        nic_txd(&n, i & 1 ? 0 : G_TXBUF, (i % 3 ? 0xffffu : 0) | 0x08u << 24,
                0);
    }
    nic_tx_ring(&n);
    T_EQ(nic_rd(&n, TDH), 255);
    T_EQ(wire_recv(&n, got, sizeof(got)), -1);
    /* The EOP that finally comes sends one frame cut to the buffer. */
    nic_txd(&n, G_TXBUF, 100u | 0x09u << 24, 0);
    nic_tx_ring(&n);
    T_EQ(wire_recv(&n, got, sizeof(got)), 65536);
    nic_close(&n);
}

/* TSO contexts with absurd header lengths and MSS: counted, dropped. */
T_TEST(e1000_hostile_tso_context)
{
    static const struct {
        uint8_t hdr_len;
        uint16_t mss;
        uint8_t tucss;
    } bad[] = {
        { 0, 1448, 34 }, { 54, 0, 34 }, { 20, 1448, 34 }, { 255, 65535, 34 },
        { 54, 1448, 250 },
    };
    uint8_t got[70000];
    struct nic n;
    unsigned int i;

    nic_open(&n);
    nic_rings(&n, 64, 8, RCTL_EN);
    t_memset(n.t, G_TXBUF, 0x45, 8192);
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        nic_txd(&n, 14u | 24u << 8 | (uint64_t)(bad[i].tucss | 250u << 8)
                << 32, 8000u | 0x27u << 24,
                (uint32_t)bad[i].hdr_len << 8 | (uint32_t)bad[i].mss << 16);
        nic_txd(&n, G_TXBUF, 8000u | 1u << 20 | 0x2fu << 24, 3u << 8);
    }
    nic_tx_ring(&n);
    T_EQ(nic_rd(&n, TSCTFC), G_N_ELEMENTS(bad));
    T_EQ(wire_recv(&n, got, sizeof(got)), -1);
    /* MSS 1: many tiny segments, still bounded by the payload. */
    nic_txd(&n, 14u | 24u << 8 | (uint64_t)(34u | 50u << 8) << 32,
            100u | 0x27u << 24, 54u << 8 | 1u << 16);
    nic_txd(&n, G_TXBUF, 154u | 1u << 20 | 0x2fu << 24, 3u << 8);
    nic_tx_ring(&n);
    for (i = 0; wire_recv(&n, got, sizeof(got)) > 0; i++) {
    }
    T_EQ(i, 100);
    nic_close(&n);
}

/*
 * A context descriptor between a TSO packet's data descriptors, asking for
 * a 255-byte header and MSS 65535: the packet keeps the context it began
 * with (SDM 3.3.6), so no segment outgrows it or the transmit buffer.
 */
T_TEST(e1000_hostile_tso_context_mid_packet)
{
    static uint8_t f[70000], got[70000];
    size_t len = build_tcp4(f, 60000, false), sent = 0;
    unsigned int segs = 0;
    struct nic n;
    ssize_t r;

    nic_open(&n);
    nic_rings(&n, 64, 8, RCTL_EN);
    T_EQ(setsockopt(n.peer, SOL_SOCKET, SO_RCVBUF, &(int){ 1 << 20 },
                    sizeof(int)), 0);
    t_memwrite(n.t, G_TXBUF, f, len);
    nic_txd(&n, 14u | 24u << 8 | 33u << 16 | (uint64_t)(34u | 50u << 8) << 32,
            60000u | 0x27u << 24, 54u << 8 | 1448u << 16);
    nic_txd(&n, G_TXBUF, 154u | 1u << 20 | 0x24u << 24, 3u << 8);
    nic_txd(&n, 14u | 24u << 8 | 33u << 16 | (uint64_t)(34u | 50u << 8) << 32,
            60000u | 0x27u << 24, 255u << 8 | 65535u << 16);
    nic_txd(&n, G_TXBUF + 154, (uint32_t)(len - 154) | 1u << 20 |
            0x2fu << 24, 3u << 8);
    nic_tx_ring(&n);
    while ((r = wire_recv(&n, got, sizeof(got))) > 0) {
        T_ASSERT(r <= 54 + 1448);
        check_tcp4(got, (size_t)r);
        T_ASSERT(memcmp(got + 54, f + 54 + sent, (size_t)r - 54) == 0);
        sent += (size_t)r - 54;
        segs++;
    }
    T_EQ(sent, 60000);
    T_EQ(segs, (60000 + 1447) / 1448);
    nic_close(&n);
}

/* Descriptors and buffers in unpopulated memory: errors, not crashes. */
T_TEST(e1000_hostile_dma_faults)
{
    uint8_t f[200];
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN | RCTL_SECRC);
    t_ram_hole(n.t, G_RXBUF, RX_STRIDE);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 100);
    wire_send(&n, f, 100);
    T_EQ(nic_rxd(&n, 0).status & 1, 1); /* written back, buffer lost */
    nic_txd(&n, 0x3ff0000000ull, 100u | 0x0bu << 24, 0);
    nic_tx_ring(&n);
    T_EQ(nic_rd(&n, TDH), 1);
    T_EQ(recv(n.peer, f, sizeof(f), MSG_DONTWAIT), -1);
    nic_wr(&n, TDBAH, 0x3f);            /* the ring itself unreadable */
    nic_wr(&n, TDT, 2);
    nic_wr(&n, RDBAH, 0x3f);
    wire_send(&n, f, 100);
    nic_close(&n);
}

/* Bus mastering off: no DMA at all (PCI30 6.2.2). */
T_TEST(e1000_no_dma_without_bus_master)
{
    uint8_t f[200];
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN | RCTL_SECRC);
    t_cfg_write(n.t, NIC_BDF, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 100);
    nic_send_legacy(&n, f, 100);
    T_EQ(nic_rd(&n, TDH), 0);
    wire_send(&n, f, 100);
    T_EQ(nic_rd(&n, RDH), 0);
    t_cfg_write(n.t, NIC_BDF, PCI_COMMAND, PCI_COMMAND_MEMORY |
                PCI_COMMAND_MASTER, 2);
    nic_wr(&n, TDT, n.tdt);
    T_EQ(nic_rd(&n, TDH), 1);
    nic_pump(&n);
    T_EQ(nic_rd(&n, RDH), 1);
    nic_close(&n);
}

/* ---- state, unplug, backends --------------------------------------------- */

T_TEST(e1000_state_round_trip)
{
    struct nic a, b;
    const struct dm_dev_ops *ops;
    struct dm_dev *d;
    uint8_t *rec;
    uint8_t f[200];

    nic_open(&a);
    nic_open(&b);
    nic_rings(&a, 8, 8, RCTL_EN | RCTL_SECRC);
    nic_wr(&a, IMS, I_RXT0);
    nic_wr(&a, RDTR, 100);
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 100);
    wire_send(&a, f, 100);
    ee_bitbang_read(&a, 3);
    t_state_round_trip(a.t, b.t);
    T_EQ(nic_rd(&b, RDH), 1);
    T_EQ(nic_rd(&b, RDTR), 100);
    /* The pending RDTR timer was re-armed on load: RXT0 arrives. */
    t_clock_step(b.t, 200000);
    T_EQ(t_pci_intx(b.t, NIC_SLOT, 0), 1);
    /* check() refuses corrupted records. */
    d = t_find_dev(a.t, "e1000");
    T_ASSERT(d != NULL);
    ops = d->ops;
    rec = g_malloc0(ops->state_size);
    ops->save(d->opaque, rec);
    T_EQ(ops->check(rec), 0);
    ((uint32_t *)(rec + 264))[0x2808 / 4] = 0x12345;    /* RDLEN low bits */
    T_EQ(ops->check(rec), -EINVAL);
    ops->save(d->opaque, rec);
    ((uint32_t *)(rec + 264))[0x00c0 / 4] = 0x80000000; /* ICR bit 31 */
    T_EQ(ops->check(rec), -EINVAL);
    g_free(rec);
    nic_close(&a);
    nic_close(&b);
}

T_TEST(e1000_unplug)
{
    uint8_t f[200];
    struct nic n;

    nic_open(&n);
    nic_rings(&n, 8, 8, RCTL_EN | RCTL_SECRC);
    nic_wr(&n, IMS, I_TXDW);
    nic_wr(&n, ICS, I_TXDW);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 1);
    T_EQ(board_unplug_nics(n.t->dm), 1);
    T_EQ(t_pci_intx(n.t, NIC_SLOT, 0), 0);
    T_EQ(t_cfg_read(n.t, NIC_BDF, PCI_VENDOR_ID, 4), 0xffffffff);
    T_EQ(nic_rd(&n, STATUS), 0xffffffff);
    /* The backend is closed: the wire's other end sees nobody. */
    nic_frame(f, (const uint8_t *)NIC_MAC, 0x0800, 100);
    T_EQ(send(n.peer, f, 100, 0), -1);
    T_EQ(board_unplug_nics(n.t->dm), 0);
    nic_close(&n);
}

T_TEST(e1000_backend_errors)
{
    const char *argv[] = { "-device", "e1000,netdev=n0", "-netdev",
                           "socket,id=n0,fd=99999", NULL };
    const char *argv2[] = { "-device", "e1000,netdev=n0", "-netdev",
                            "socket,id=n0,fd=0,bogus=1", NULL };
    const char *argv3[] = { "-device", "e1000,netdev=n0", "-netdev",
                            "tap,id=n0,ifname=x,script=/etc/qemu-ifup", NULL };
    const char *const *all[] = { argv, argv2, argv3 };
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(all); i++) {
        pid_t pid = fork();
        int st;

        if (pid == 0) {
            struct t_opts o = { .argv = all[i] };

            t_machine_new(&o);          /* board_init fails: t_fail */
            _exit(0);
        }
        T_ASSERT(waitpid(pid, &st, 0) == pid);
        T_ASSERT(!WIFEXITED(st) || WEXITSTATUS(st) != 0);
    }
}

/*
 * A backend with virtio_net_hdr (a tap; here the socket with vnet_hdr=on)
 * gets a TSO packet whole: GSO fields from the context, IP lengths for
 * the whole packet, the TCP field seeded with the pseudo-header and its
 * length (CHECKSUM_PARTIAL). Plain frames get an all-zero header.
 */
T_TEST(e1000_tx_tso_whole_to_vnet_backend)
{
    static uint8_t got[70000];
    const size_t payload = 20000;
    struct {
        uint8_t flags, gso_type;
        uint16_t hdr_len, gso_size, csum_start, csum_offset;
    } __attribute__((packed)) h;
    uint8_t *f = got + sizeof(h);
    uint32_t ps;
    struct nic n;
    int sv[2];

    T_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    {
        char netdev[64];
        const char *argv[] = { "-device", "e1000,netdev=n0,"
                               "mac=00:16:3e:12:34:56", "-netdev", netdev,
                               NULL };
        struct t_opts o = { .argv = argv };

        snprintf(netdev, sizeof(netdev), "socket,id=n0,fd=%d,vnet_hdr=on",
                 sv[1]);
        memset(&n, 0, sizeof(n));
        n.peer = sv[0];
        n.t = t_machine_new(&o);
        nic_program_pci(n.t);
    }
    T_EQ(setsockopt(n.peer, SOL_SOCKET, SO_RCVBUF, &(int){ 1 << 20 },
                    sizeof(int)), 0);
    nic_rings(&n, 64, 8, RCTL_EN);
    tso_send(&n, payload, 1448);
    T_EQ(wire_recv(&n, got, sizeof(got)), (ssize_t)(sizeof(h) + 54 +
                                                     payload));
    memcpy(&h, got, sizeof(h));
    T_EQ(h.flags, 1);                   /* NEEDS_CSUM */
    T_EQ(h.gso_type, 1);                /* TCPV4 */
    T_EQ(h.hdr_len, 54);
    T_EQ(h.gso_size, 1448);
    T_EQ(h.csum_start, 34);
    T_EQ(h.csum_offset, 16);
    T_EQ(f[16] << 8 | f[17], 20 + 20 + payload);
    T_EQ(ref_fold(ref_sum(0, f + 14, 20)), 0xffff);
    ps = ref_sum(0, f + 26, 8) + 6 + 20 + (uint32_t)payload;
    T_EQ(f[50] << 8 | f[51], ref_fold(ps));
    T_EQ(wire_recv(&n, got, sizeof(got)), -1);  /* one packet, not 14 */
    /* A plain frame: an all-zero header in front. */
    nic_frame(got + 100, (const uint8_t *)NIC_MAC, 0x0800, 100);
    nic_send_legacy(&n, got + 100, 100);
    T_EQ(wire_recv(&n, got, sizeof(got)), (ssize_t)(sizeof(h) + 100));
    T_ASSERT(memcmp(got, "\0\0\0\0\0\0\0\0\0\0", 10) == 0);
    nic_close(&n);
}

/*
 * The platform device's unplug (xenfv, mask 3 as Linux writes it,
 * xen-dm-interface.md 4.4): the NIC leaves the bus and its backend closes.
 */
T_TEST(e1000_unplugged_by_linux_through_platform_device)
{
    char netdev[64];
    const char *argv[] = { "-machine", "xenfv", "-device",
                           "e1000,netdev=n0,mac=00:16:3e:12:34:56",
                           "-netdev", netdev, NULL };
    struct t_opts o = { .argv = argv };
    struct t_machine *t;
    uint8_t f[100];
    int sv[2];

    T_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    snprintf(netdev, sizeof(netdev), "socket,id=n0,fd=%d", sv[1]);
    t = t_machine_new(&o);
    T_EQ(t_cfg_read(t, NIC_BDF, PCI_VENDOR_ID, 4), 0x100e8086);
    T_EQ(t_inw(t, 0x10), 0x49d2);       /* magic */
    T_EQ(t_inb(t, 0x12), 1);            /* protocol version */
    t_outw(t, 0x12, 3);                 /* product: Linux */
    t_outl(t, 0x10, 1);                 /* build */
    T_EQ(t_inw(t, 0x10), 0x49d2);
    t_outw(t, 0x10, 3);                 /* IDE disks and NICs */
    T_EQ(t_cfg_read(t, NIC_BDF, PCI_VENDOR_ID, 4), 0xffffffff);
    memset(f, 0, sizeof(f));
    T_EQ(send(sv[0], f, sizeof(f), 0), -1);     /* backend closed */
    t_machine_free(t);
    close(sv[0]);
}
