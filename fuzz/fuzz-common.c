/*
 * What the targets share: the byte reader, the fuzzed board, the
 * structure-aware guest and the seed writer (fuzz/fuzz.h).
 */
#include "fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm/iomap.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "tests/harness.h"

#define FZ_RAM_BYTES    (32ull << 20)
#define FZ_DISK_BYTES   (256u * 1024)
#define FZ_CD_BYTES     (512u * 1024)
#define FZ_IO_BASE      0xc000u
#define FZ_MEM_BASE     0xf0000000u
#define FZ_MAX_PORTS    4096
#define FZ_MAX_MMIO     32
/* Guest RAM the descriptor operations aim at (PRD tables, buffers). */
#define FZ_DESC_PAGES   64

enum fz_op {
    FZ_OUT, FZ_IN, FZ_MMIO_W, FZ_MMIO_R, FZ_CFG_W, FZ_CFG_R, FZ_RAM,
    FZ_INS, FZ_OUTS, FZ_CLOCK, FZ_SETTLE, FZ_CFGIO_W, FZ_BUF, FZ_MOVS,
    FZ_NET_RX, FZ_OP_NR,
};

struct fz_mmio {
    uint64_t base, len;
};

/* The board's decode, found once (the set-up is deterministic). */
static struct {
    bool scanned;
    uint16_t ports[FZ_MAX_PORTS];
    unsigned int nports;
    struct fz_mmio mmio[FZ_MAX_MMIO];
    unsigned int nmmio;
    char *dir, *disk, *cd, *opt_disk, *opt_cd;
    int peer;                       /* the far end of the NIC's wire */
    bool present[256];              /* PCI functions on bus 0 */
} fzb;

/* ---- the harness's failure hook: a crash for libFuzzer --------------- */

void
t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* ---- bytes ------------------------------------------------------------ */

size_t
fz_bytes(struct fz *f, void *buf, size_t len)
{
    size_t n = MIN(len, f->n);

    memcpy(buf, f->p, n);
    memset((uint8_t *)buf + n, 0, len - n);
    f->p += n;
    f->n -= n;
    return n;
}

uint8_t
fz_u8(struct fz *f)
{
    uint8_t v;

    fz_bytes(f, &v, 1);
    return v;
}

uint16_t
fz_u16(struct fz *f)
{
    uint8_t b[2];

    fz_bytes(f, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t
fz_u32(struct fz *f)
{
    return fz_u16(f) | (uint32_t)fz_u16(f) << 16;
}

uint64_t
fz_u64(struct fz *f)
{
    return fz_u32(f) | (uint64_t)fz_u32(f) << 32;
}

/* ---- the board ---------------------------------------------------------- */

static void
fuzz_cleanup(void)
{
    if (fzb.dir) {
        g_remove(fzb.disk);
        g_remove(fzb.cd);
        g_rmdir(fzb.dir);
    }
}

/* Sector-numbered bytes, made once per image kind. */
static void
fuzz_write_image(const char *path, size_t len, unsigned int seed)
{
    static uint8_t *bytes[4];
    int fd;

    if (!bytes[seed & 3]) {
        bytes[seed & 3] = g_malloc(len);
        for (size_t i = 0; i < len; i++) {
            bytes[seed & 3][i] = (uint8_t)(i / 512 * 7 + i + seed);
        }
    }
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || pwrite(fd, bytes[seed & 3], len, 0) != (ssize_t)len) {
        t_fail(__FILE__, __LINE__, "cannot write %s", path);
    }
    close(fd);
}

static void
fuzz_images(void)
{
    const char *shm = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
                      ? "/dev/shm" : g_get_tmp_dir();

    if (!fzb.dir) {
        fzb.dir = g_build_filename(shm, "hvmdm-fuzz-XXXXXX", NULL);
        if (!g_mkdtemp(fzb.dir)) {
            t_fail(__FILE__, __LINE__, "mkdtemp %s", fzb.dir);
        }
        fzb.disk = g_build_filename(fzb.dir, "disk.img", NULL);
        fzb.cd = g_build_filename(fzb.dir, "cd.iso", NULL);
        fzb.opt_disk = g_strdup_printf("file=%s,if=ide,index=0,media=disk,"
                                       "format=raw,cache=unsafe", fzb.disk);
        fzb.opt_cd = g_strdup_printf("file=%s,if=ide,index=2,media=cdrom,"
                                     "format=raw", fzb.cd);
        fuzz_write_image(fzb.cd, FZ_CD_BYTES, 3);
        atexit(fuzz_cleanup);
    }
    /* The guest writes the disk: each run starts from the same bytes. */
    fuzz_write_image(fzb.disk, FZ_DISK_BYTES, 1);
}

/* Size a BAR and place it as hvmloader would (pci_setup). */
static unsigned int
fuzz_place_bar(struct t_machine *t, unsigned int devfn, unsigned int i,
               uint32_t *io, uint32_t *mem)
{
    unsigned int reg = 0x10 + 4 * i;
    uint32_t v, size, base;

    t_pcicfg_write(t, devfn, reg, 0xffffffff, 4);
    v = t_pcicfg_read(t, devfn, reg, 4);
    if (v == 0 || v == 0xffffffff) {
        return 1;
    }
    if (v & 1) {
        size = (~(v & ~3u) + 1) & 0xffff;
        base = (*io + size - 1) & ~(size - 1);
        *io = base + size;
    } else {
        size = ~(v & ~0xfu) + 1;
        base = (*mem + size - 1) & ~(size - 1);
        *mem = base + size;
        if (!fzb.scanned && fzb.nmmio < FZ_MAX_MMIO) {
            fzb.mmio[fzb.nmmio].base = base;
            fzb.mmio[fzb.nmmio++].len = size;
        }
    }
    t_pcicfg_write(t, devfn, reg, base | (v & 1), 4);
    if (!(v & 1) && ((v >> 1) & 3) == 2) {
        t_pcicfg_write(t, devfn, reg + 4, 0, 4);
        return 2;
    }
    return 1;
}

static void
fuzz_program_pci(struct t_machine *t)
{
    uint32_t io = FZ_IO_BASE, mem = FZ_MEM_BASE;

    for (unsigned int devfn = 0; devfn < 256; devfn++) {
        /* The functions present are the same every time: probe once. */
        if (!fzb.scanned) {
            fzb.present[devfn] = t_pcicfg_read(t, devfn, 0, 2) != 0xffff;
        }
        if (!fzb.present[devfn]) {
            continue;
        }
        for (unsigned int i = 0; i < 6;) {
            i += fuzz_place_bar(t, devfn, i, &io, &mem);
        }
        if (t_pcicfg_read(t, devfn, 0x0a, 2) == 0x0101) {
            t_pcicfg_write(t, devfn, 0x40, 0x8000, 2);  /* IDETIM */
            t_pcicfg_write(t, devfn, 0x42, 0x8000, 2);
        }
        t_pcicfg_write(t, devfn, 0x04, 0x0007, 2);
    }
}

/* Every port something decodes, and the legacy VGA window if any. */
static void
fuzz_scan(struct t_machine *t)
{
    for (unsigned int port = 0; port < 0x10000; port++) {
        if (fzb.nports < FZ_MAX_PORTS && iomap_find(t->dm->pio, port)) {
            fzb.ports[fzb.nports++] = (uint16_t)port;
        }
    }
    if (iomap_find(t->dm->mmio, 0xa0000) && fzb.nmmio < FZ_MAX_MMIO) {
        fzb.mmio[fzb.nmmio].base = 0xa0000;
        fzb.mmio[fzb.nmmio++].len = 0x20000;
    }
    fzb.scanned = true;
}

void
fuzz_quiet(void)
{
    dm_log_set_quiet(1);
    dm_log_set_level(DM_LOG_ERROR);
    signal(SIGPIPE, SIG_IGN);               /* as dm/main.c does */
    /* Settle by yielding: a sleep on a loaded host lasts milliseconds. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    t_set_settle_quiet(0, 32);
}

/* The NIC's wire: a datagram socket pair, the machine owns one end. */
static int
fuzz_net(char *netdev, size_t len)
{
    int sv[2];

    if (fzb.peer > 0) {
        close(fzb.peer);
    }
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
        t_fail(__FILE__, __LINE__, "socketpair");
    }
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fzb.peer = sv[0];
    snprintf(netdev, len, "socket,id=n0,fd=%d", sv[1]);
    return 0;
}

struct t_machine *
fuzz_machine(void)
{
    char netdev[64];
    const char *argv[] = { "-machine", "xenfv", "-serial", "null",
                           "-drive", NULL, "-drive", NULL, "-drive",
                           "if=ide,index=3,media=cdrom",
                           "-device", "VGA,vgamem_mb=8",
                           "-device", "e1000,netdev=n0,mac=00:16:3e:00:00:01",
                           "-netdev", netdev, NULL };
    struct t_opts o = { .ram_size = FZ_RAM_BYTES, .gm_buckets = 8,
                        .argv = argv };
    struct t_machine *t;

    fuzz_quiet();
    fuzz_images();
    fuzz_net(netdev, sizeof(netdev));
    argv[5] = fzb.opt_disk;
    argv[7] = fzb.opt_cd;
    t = t_machine_new(&o);
    fuzz_program_pci(t);
    if (!fzb.scanned) {
        fuzz_scan(t);
    }
    return t;
}

void
fuzz_check_alive(struct t_machine *t)
{
    if (t_pcicfg_read(t, 0, 0, 4) != 0x12378086) {
        t_fail(__FILE__, __LINE__, "the host bridge stopped answering");
    }
}

/* ---- the guest ---------------------------------------------------------- */

static unsigned int
fz_size(struct fz *f)
{
    static const unsigned int sizes[4] = { 1, 2, 4, 4 };

    return sizes[fz_u8(f) & 3];
}

/* A decoded port (most of the time) or any port. */
static uint16_t
fz_port(struct fz *f)
{
    uint16_t sel = fz_u16(f);

    if (sel & 0x8000 || !fzb.nports) {
        return (uint16_t)(sel << 1);
    }
    return fzb.ports[sel % fzb.nports];
}

static uint64_t
fz_gpa(struct fz *f)
{
    uint32_t v = fz_u32(f);

    /* Mostly the descriptor pages; sometimes anywhere, or past RAM. */
    if ((v & 0xc0000000u) == 0) {
        return (uint64_t)(v % (FZ_DESC_PAGES * 4096u));
    }
    return (uint64_t)(v & 0x3fffffffu) << 2;
}

/* Run what has completed so far, without waiting (t_settle waits). */
static void
fuzz_poll(struct t_machine *t)
{
    for (unsigned int i = 0; i < 4; i++) {
        g_main_context_iteration(NULL, FALSE);
        dm_run_posted(t->dm);
    }
}

static void
op_pio(struct t_machine *t, struct fz *f, bool out)
{
    uint16_t port = fz_port(f);
    unsigned int size = fz_size(f);
    uint32_t val = out ? fz_u32(f) : 0;

    switch (size) {
    case 1:
        out ? t_outb(t, port, (uint8_t)val) : (void)t_inb(t, port);
        break;
    case 2:
        out ? t_outw(t, port, (uint16_t)val) : (void)t_inw(t, port);
        break;
    default:
        out ? t_outl(t, port, val) : (void)t_inl(t, port);
        break;
    }
}

static uint64_t
fz_mmio_addr(struct fz *f)
{
    uint8_t sel = fz_u8(f);
    uint32_t off = fz_u32(f);

    if (!fzb.nmmio || sel == 0xff) {
        return 0xf0000000ull + (off & 0x0fffffff);
    }
    sel %= fzb.nmmio;
    return fzb.mmio[sel].base + off % fzb.mmio[sel].len;
}

static void
op_mmio(struct t_machine *t, struct fz *f, bool write)
{
    uint64_t addr = fz_mmio_addr(f);
    unsigned int size = fz_size(f);
    uint64_t val = write ? fz_u64(f) : 0;

    addr &= ~(uint64_t)(size - 1);
    if (size == 1) {
        write ? t_writeb(t, addr, (uint8_t)val) : (void)t_readb(t, addr);
    } else if (size == 2) {
        write ? t_writew(t, addr, (uint16_t)val) : (void)t_readw(t, addr);
    } else if (fz_u8(f) & 1) {
        write ? t_writeq(t, addr & ~7ull, val) : (void)t_readq(t, addr & ~7ull);
    } else {
        write ? t_writel(t, addr, (uint32_t)val) : (void)t_readl(t, addr);
    }
}

static void
op_cfg(struct t_machine *t, struct fz *f, enum fz_op op)
{
    unsigned int devfn = fz_u8(f);
    unsigned int reg = fz_u8(f);
    unsigned int size = fz_size(f);

    reg &= ~(size - 1);
    if (op == FZ_CFG_W) {
        t_pcicfg_write(t, devfn, reg, fz_u32(f), size);
    } else if (op == FZ_CFGIO_W) {
        t_cfg_write(t, devfn, reg, fz_u32(f), size);
    } else {
        t_cfg_read(t, devfn, reg, size);
    }
}

static void
op_ram(struct t_machine *t, struct fz *f)
{
    uint8_t buf[255];
    uint64_t gpa = fz_u32(f) % (FZ_DESC_PAGES * 4096u);
    size_t len = fz_u8(f);

    len = fz_bytes(f, buf, len);
    t_memwrite(t, gpa, buf, len);
}

static void
op_string(struct t_machine *t, struct fz *f, enum fz_op op)
{
    uint16_t port = fz_port(f);
    unsigned int size = fz_size(f);
    uint64_t gpa = fz_gpa(f);
    uint32_t count = fz_u16(f) % 8192 + 1;
    bool df = fz_u8(f) & 1;

    if (op == FZ_INS) {
        t_ins(t, port, size, gpa, count, df);
    } else if (op == FZ_OUTS) {
        t_outs(t, port, size, gpa, count, df);
    } else if (df) {
        t_movs_from_mmio(t, fz_mmio_addr(f), size, gpa, count % 1024, false);
    } else {
        t_movs_to_mmio(t, fz_mmio_addr(f), size, gpa, count % 1024, false);
    }
}

/* A frame from the wire (the NIC's receive path). */
static void
op_net_rx(struct t_machine *t, struct fz *f)
{
    uint8_t frame[1600];
    size_t len = fz_u16(f) % sizeof(frame);

    len = fz_bytes(f, frame, len);
    if (fzb.peer > 0 && send(fzb.peer, frame, len, MSG_DONTWAIT) >= 0) {
        fuzz_poll(t);
    }
}

static void
op_buf(struct t_machine *t, struct fz *f)
{
    uint32_t addr = fz_u8(f) & 1 ? fz_port(f) : (uint32_t)fz_mmio_addr(f);
    unsigned int size = fz_u8(f) & 1 ? 8 : fz_size(f);
    uint64_t val = fz_u64(f);

    if (t_buf_push(t, addr, size, val)) {
        t_buf_kick(t);
    }
}


static void
fuzz_one_op(struct t_machine *t, struct fz *f)
{
    enum fz_op op = (enum fz_op)(fz_u8(f) % FZ_OP_NR);

    switch (op) {
    case FZ_OUT:
    case FZ_IN:
        op_pio(t, f, op == FZ_OUT);
        break;
    case FZ_MMIO_W:
    case FZ_MMIO_R:
        op_mmio(t, f, op == FZ_MMIO_W);
        break;
    case FZ_CFG_W:
    case FZ_CFG_R:
    case FZ_CFGIO_W:
        op_cfg(t, f, op);
        break;
    case FZ_RAM:
        op_ram(t, f);
        break;
    case FZ_INS:
    case FZ_OUTS:
    case FZ_MOVS:
        op_string(t, f, op);
        break;
    case FZ_CLOCK:
        t_clock_step(t, fz_u32(f));
        break;
    case FZ_BUF:
        op_buf(t, f);
        break;
    case FZ_NET_RX:
        op_net_rx(t, f);
        break;
    default:
        fuzz_poll(t);
        break;
    }
}

void
fuzz_guest_ops(struct t_machine *t, struct fz *f, unsigned int max_ops)
{
    for (unsigned int i = 0; i < max_ops && f->n; i++) {
        fuzz_one_op(t, f);
    }
    t_settle(t);
}

/* ---- encoders (seeds) ------------------------------------------------- */

static void
enc(GByteArray *s, uint64_t v, unsigned int bytes)
{
    for (unsigned int i = 0; i < bytes; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));

        g_byte_array_append(s, &b, 1);
    }
}

/* The port selector fz_port() maps back to port (a raw one if absent). */
static uint16_t
enc_port(uint16_t port)
{
    for (unsigned int i = 0; i < fzb.nports; i++) {
        if (fzb.ports[i] == port) {
            return (uint16_t)i;
        }
    }
    return (uint16_t)(0x8000 | port >> 1);
}

static uint8_t
enc_size(unsigned int size)
{
    return size == 1 ? 0 : size == 2 ? 1 : 2;
}

void
fuzz_enc_out(GByteArray *s, uint16_t port, unsigned int size, uint32_t val)
{
    enc(s, FZ_OUT, 1);
    enc(s, enc_port(port), 2);
    enc(s, enc_size(size), 1);
    enc(s, val, 4);
}

void
fuzz_enc_in(GByteArray *s, uint16_t port, unsigned int size)
{
    enc(s, FZ_IN, 1);
    enc(s, enc_port(port), 2);
    enc(s, enc_size(size), 1);
}

void
fuzz_enc_cfg_write(GByteArray *s, uint8_t devfn, uint8_t reg,
                   unsigned int size, uint32_t val)
{
    enc(s, FZ_CFG_W, 1);
    enc(s, devfn, 1);
    enc(s, reg, 1);
    enc(s, enc_size(size), 1);
    enc(s, val, 4);
}

void
fuzz_enc_ram(GByteArray *s, uint32_t gpa, const void *data, uint8_t len)
{
    enc(s, FZ_RAM, 1);
    enc(s, gpa, 4);
    enc(s, len, 1);
    g_byte_array_append(s, data, len);
}

void
fuzz_enc_ins(GByteArray *s, uint16_t port, unsigned int size, uint32_t gpa,
             uint16_t count)
{
    enc(s, FZ_INS, 1);
    enc(s, enc_port(port), 2);
    enc(s, enc_size(size), 1);
    enc(s, gpa, 4);
    enc(s, count - 1u, 2);
    enc(s, 0, 1);
}

void
fuzz_enc_mmio_w(GByteArray *s, uint64_t addr, unsigned int size,
                uint32_t val)
{
    unsigned int i;

    for (i = 0; i < fzb.nmmio; i++) {
        if (addr >= fzb.mmio[i].base &&
            addr - fzb.mmio[i].base < fzb.mmio[i].len) {
            break;
        }
    }
    enc(s, FZ_MMIO_W, 1);
    enc(s, i < fzb.nmmio ? i : 0xff, 1);
    enc(s, i < fzb.nmmio ? addr - fzb.mmio[i].base : addr - 0xf0000000ull,
        4);
    enc(s, enc_size(size), 1);
    enc(s, val, 8);
}

void
fuzz_enc_net_rx(GByteArray *s, const void *frame, uint16_t len)
{
    enc(s, FZ_NET_RX, 1);
    enc(s, len, 2);
    g_byte_array_append(s, frame, len);
}

void
fuzz_enc_settle(GByteArray *s)
{
    enc(s, FZ_SETTLE, 1);
}

/* ---- seeds -------------------------------------------------------------- */

static const char *fuzz_seed_dir;
static unsigned int fuzz_seed_nr;

void
fuzz_seed(const char *name, const void *data, size_t len)
{
    char *path;

    if (!fuzz_seed_dir) {
        return;
    }
    path = g_strdup_printf("%s/%02u-%s", fuzz_seed_dir, fuzz_seed_nr++, name);
    if (!g_file_set_contents(path, data, (gssize)len, NULL)) {
        t_fail(__FILE__, __LINE__, "cannot write seed %s", path);
    }
    g_free(path);
}

bool
fuzz_make_seeds(void (*fn)(void))
{
    fuzz_seed_dir = getenv("FUZZ_SEEDS");
    if (!fuzz_seed_dir) {
        return false;
    }
    g_mkdir_with_parents(fuzz_seed_dir, 0755);
    fn();
    return true;
}

void
fuzz_send_all(int fd, const uint8_t *p, size_t len, unsigned int rounds,
              bool (*pump)(int fd))
{
    size_t done = 0;

    for (unsigned int i = 0; i < 4 * rounds && done < len; i++) {
        ssize_t n = send(fd, p + done, len - done,
                         MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno != EAGAIN) {
            return;
        }
        if (pump(fd)) {
            return;
        }
    }
}
