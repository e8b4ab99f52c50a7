/*
 * The replay format: one guest operation per line, qtest-like, so any
 * failing sequence (a fuzzer find, a bug report) becomes a one-file
 * regression test in tests/replay/. Numbers are C literals (0x.., decimal).
 * A read may end with "== VALUE" to check the result.
 *
 *   # comment
 *   outb|outw|outl PORT VALUE          inb|inw|inl PORT [== V]
 *   writeb|writew|writel|writeq ADDR VALUE
 *   readb|readw|readl|readq ADDR [== V]
 *   cfg_read BDF REG SIZE [== V]       cfg_write BDF REG SIZE VALUE
 *   pcicfg_read BDF REG SIZE [== V]    pcicfg_write BDF REG SIZE VALUE
 *   memwrite GPA HEXBYTES              memread GPA LEN [== HEXBYTES]
 *   memset GPA BYTE LEN
 *   ins|outs PORT SIZE GPA COUNT [df]
 *   movs_from_mmio|movs_to_mmio ADDR SIZE GPA COUNT [df]
 *   bufwrite ADDR SIZE VALUE           bufkick
 *   irq N [== LEVEL]                   shutdown [== REASON]
 *   clock_step NS                      settle
 *   ioreq TYPE ADDR DATA COUNT SIZE DIR PTR DF [== DATA]   (raw request)
 *
 * BDF is bus:dev.fn ("00:01.3") or a number.
 */
#include <errno.h>
#include <inttypes.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

struct replay {
    struct t_machine *t;
    char **tok;
    unsigned int ntok;
    unsigned int nargs;             /* tokens before "==" */
    const char *expect;             /* token after "==", or NULL */
    char *err;
    size_t errlen;
};

typedef int replay_fn(struct replay *r);

static int G_GNUC_PRINTF(2, 3)
replay_error(struct replay *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int
parse_u64(const char *s, uint64_t *v)
{
    char *end;

    errno = 0;
    *v = strtoull(s, &end, 0);
    return (errno || end == s || *end) ? -1 : 0;
}

static int
parse_bdf(const char *s, uint64_t *v)
{
    unsigned int bus, dev, fn;
    char tail;

    if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3) {
        if (bus > 255 || dev > 31 || fn > 7) {
            return -1;
        }
        *v = bus << 8 | dev << 3 | fn;
        return 0;
    }
    return parse_u64(s, v);
}

/* Argument i (after the command) as a number. */
static int
arg(struct replay *r, unsigned int i, uint64_t *v)
{
    if (i + 1 >= r->nargs) {
        return replay_error(r, "%s: missing argument %u", r->tok[0], i + 1);
    }
    if ((i == 0 && strstr(r->tok[0], "cfg_") ? parse_bdf(r->tok[1], v)
                                             : parse_u64(r->tok[i + 1], v))) {
        return replay_error(r, "%s: bad number '%s'", r->tok[0],
                            r->tok[i + 1]);
    }
    return 0;
}

static int
want_args(struct replay *r, unsigned int min, unsigned int max)
{
    if (r->nargs - 1 < min || r->nargs - 1 > max) {
        return replay_error(r, "%s: expected %u..%u arguments, got %u",
                            r->tok[0], min, max, r->nargs - 1);
    }
    return 0;
}

static int
check_value(struct replay *r, uint64_t got)
{
    uint64_t want;

    if (!r->expect) {
        printf("%s -> 0x%" PRIx64 "\n", r->tok[0], got);
        return 0;
    }
    if (parse_u64(r->expect, &want) < 0) {
        return replay_error(r, "bad expected value '%s'", r->expect);
    }
    if (got != want) {
        return replay_error(r, "%s %s: got 0x%" PRIx64 ", expected 0x%"
                            PRIx64, r->tok[0], r->tok[1], got, want);
    }
    return 0;
}

static unsigned int
op_size(const char *cmd)
{
    switch (cmd[strlen(cmd) - 1]) {
    case 'b':
        return 1;
    case 'w':
        return 2;
    case 'l':
        return 4;
    default:
        return 8;
    }
}

static int
do_out(struct replay *r)
{
    uint64_t port, val;

    if (want_args(r, 2, 2) || arg(r, 0, &port) || arg(r, 1, &val)) {
        return -1;
    }
    switch (op_size(r->tok[0])) {
    case 1:
        t_outb(r->t, (uint16_t)port, (uint8_t)val);
        break;
    case 2:
        t_outw(r->t, (uint16_t)port, (uint16_t)val);
        break;
    default:
        t_outl(r->t, (uint16_t)port, (uint32_t)val);
        break;
    }
    return 0;
}

static int
do_in(struct replay *r)
{
    uint64_t port, v;

    if (want_args(r, 1, 1) || arg(r, 0, &port)) {
        return -1;
    }
    switch (op_size(r->tok[0])) {
    case 1:
        v = t_inb(r->t, (uint16_t)port);
        break;
    case 2:
        v = t_inw(r->t, (uint16_t)port);
        break;
    default:
        v = t_inl(r->t, (uint16_t)port);
        break;
    }
    return check_value(r, v);
}

static int
do_write(struct replay *r)
{
    uint64_t addr, val;

    if (want_args(r, 2, 2) || arg(r, 0, &addr) || arg(r, 1, &val)) {
        return -1;
    }
    switch (op_size(r->tok[0])) {
    case 1:
        t_writeb(r->t, addr, (uint8_t)val);
        break;
    case 2:
        t_writew(r->t, addr, (uint16_t)val);
        break;
    case 4:
        t_writel(r->t, addr, (uint32_t)val);
        break;
    default:
        t_writeq(r->t, addr, val);
        break;
    }
    return 0;
}

static int
do_read(struct replay *r)
{
    uint64_t addr, v;

    if (want_args(r, 1, 1) || arg(r, 0, &addr)) {
        return -1;
    }
    switch (op_size(r->tok[0])) {
    case 1:
        v = t_readb(r->t, addr);
        break;
    case 2:
        v = t_readw(r->t, addr);
        break;
    case 4:
        v = t_readl(r->t, addr);
        break;
    default:
        v = t_readq(r->t, addr);
        break;
    }
    return check_value(r, v);
}

static int
cfg_args(struct replay *r, unsigned int n, uint64_t *bdf, uint64_t *reg,
         uint64_t *size)
{
    if (want_args(r, n, n) || arg(r, 0, bdf) || arg(r, 1, reg) ||
        arg(r, 2, size)) {
        return -1;
    }
    if (*reg > 255 || (*size != 1 && *size != 2 && *size != 4)) {
        return replay_error(r, "%s: bad register or size", r->tok[0]);
    }
    return 0;
}

static int
do_cfg_read(struct replay *r)
{
    uint64_t bdf, reg, size;
    bool ioreq = r->tok[0][0] == 'p';

    if (cfg_args(r, 3, &bdf, &reg, &size)) {
        return -1;
    }
    return check_value(r, ioreq ? t_pcicfg_read(r->t, (unsigned int)bdf,
                                                (unsigned int)reg,
                                                (unsigned int)size)
                                : t_cfg_read(r->t, (unsigned int)bdf,
                                             (unsigned int)reg,
                                             (unsigned int)size));
}

static int
do_cfg_write(struct replay *r)
{
    uint64_t bdf, reg, size, val;

    if (cfg_args(r, 4, &bdf, &reg, &size) || arg(r, 3, &val)) {
        return -1;
    }
    if (r->tok[0][0] == 'p') {
        t_pcicfg_write(r->t, (unsigned int)bdf, (unsigned int)reg,
                       (uint32_t)val, (unsigned int)size);
    } else {
        t_cfg_write(r->t, (unsigned int)bdf, (unsigned int)reg,
                    (uint32_t)val, (unsigned int)size);
    }
    return 0;
}

static int
hex_bytes(struct replay *r, const char *hex, GByteArray *out)
{
    size_t i, n = strlen(hex);

    if (n % 2) {
        return replay_error(r, "odd number of hex digits in '%s'", hex);
    }
    for (i = 0; i < n; i += 2) {
        int hi = g_ascii_xdigit_value(hex[i]);
        int lo = g_ascii_xdigit_value(hex[i + 1]);
        guint8 b;

        if (hi < 0 || lo < 0) {
            return replay_error(r, "bad hex '%s'", hex);
        }
        b = (guint8)(hi << 4 | lo);
        g_byte_array_append(out, &b, 1);
    }
    return 0;
}

static int
ram_range(struct replay *r, uint64_t gpa, uint64_t len)
{
    uint64_t size = t_ram_size(r->t);

    if (gpa > size || len > size - gpa) {
        return replay_error(r, "%s: 0x%" PRIx64 "+%" PRIu64 " outside RAM",
                            r->tok[0], gpa, len);
    }
    return 0;
}

static int
do_memwrite(struct replay *r)
{
    g_autoptr(GByteArray) bytes = g_byte_array_new();
    uint64_t gpa;

    if (want_args(r, 2, 2) || arg(r, 0, &gpa) ||
        hex_bytes(r, r->tok[2], bytes) || ram_range(r, gpa, bytes->len)) {
        return -1;
    }
    t_memwrite(r->t, gpa, bytes->data, bytes->len);
    return 0;
}

static int
do_memread(struct replay *r)
{
    g_autoptr(GByteArray) want = g_byte_array_new();
    uint64_t gpa, len;
    g_autofree uint8_t *got = NULL;

    if (want_args(r, 2, 2) || arg(r, 0, &gpa) || arg(r, 1, &len) ||
        ram_range(r, gpa, len)) {
        return -1;
    }
    got = g_malloc(len ? len : 1);
    t_memread(r->t, gpa, got, len);
    if (!r->expect) {
        for (uint64_t i = 0; i < len; i++) {
            printf("%02x", got[i]);
        }
        printf("\n");
        return 0;
    }
    if (hex_bytes(r, r->expect, want)) {
        return -1;
    }
    if (want->len != len || memcmp(want->data, got, len) != 0) {
        return replay_error(r, "memread 0x%" PRIx64 ": contents differ", gpa);
    }
    return 0;
}

static int
do_memset(struct replay *r)
{
    uint64_t gpa, c, len;

    if (want_args(r, 3, 3) || arg(r, 0, &gpa) || arg(r, 1, &c) ||
        arg(r, 2, &len) || ram_range(r, gpa, len)) {
        return -1;
    }
    t_memset(r->t, gpa, (int)c, len);
    return 0;
}

static int
do_string(struct replay *r)
{
    uint64_t addr, size, gpa, count;
    bool df = r->nargs == 6 && strcmp(r->tok[5], "df") == 0;
    const char *c = r->tok[0];

    if (want_args(r, 4, 5) || arg(r, 0, &addr) || arg(r, 1, &size) ||
        arg(r, 2, &gpa) || arg(r, 3, &count)) {
        return -1;
    }
    if (size != 1 && size != 2 && size != 4 && size != 8) {
        return replay_error(r, "%s: bad size %" PRIu64, c, size);
    }
    if (strcmp(c, "ins") == 0) {
        t_ins(r->t, (uint16_t)addr, (unsigned)size, gpa, (uint32_t)count, df);
    } else if (strcmp(c, "outs") == 0) {
        t_outs(r->t, (uint16_t)addr, (unsigned)size, gpa, (uint32_t)count, df);
    } else if (strcmp(c, "movs_from_mmio") == 0) {
        t_movs_from_mmio(r->t, addr, (unsigned)size, gpa, (uint32_t)count, df);
    } else {
        t_movs_to_mmio(r->t, addr, (unsigned)size, gpa, (uint32_t)count, df);
    }
    return 0;
}

static int
do_bufwrite(struct replay *r)
{
    uint64_t addr, size, val;

    if (want_args(r, 3, 3) || arg(r, 0, &addr) || arg(r, 1, &size) ||
        arg(r, 2, &val)) {
        return -1;
    }
    if (!t_buf_push(r->t, (uint32_t)addr, (unsigned int)size, val)) {
        return replay_error(r, "bufwrite: ring full");
    }
    return 0;
}

static int
do_bufkick(struct replay *r)
{
    if (want_args(r, 0, 0)) {
        return -1;
    }
    t_buf_kick(r->t);
    return 0;
}

static int
do_irq(struct replay *r)
{
    uint64_t n;

    if (want_args(r, 1, 1) || arg(r, 0, &n)) {
        return -1;
    }
    return check_value(r, (uint64_t)t_isa_irq(r->t, (unsigned int)n));
}

static int
do_shutdown(struct replay *r)
{
    if (want_args(r, 0, 0)) {
        return -1;
    }
    return check_value(r, (uint64_t)(int64_t)t_shutdown_reason(r->t));
}

static int
do_clock_step(struct replay *r)
{
    uint64_t ns;

    if (want_args(r, 1, 1) || arg(r, 0, &ns)) {
        return -1;
    }
    t_clock_step(r->t, ns);
    return 0;
}

static int
do_settle(struct replay *r)
{
    if (want_args(r, 0, 0)) {
        return -1;
    }
    t_settle(r->t);
    return 0;
}

/* A raw request, to replay malformed ones exactly. */
static int
do_ioreq(struct replay *r)
{
    uint64_t v[8];
    ioreq_t req = { 0 }, done;

    if (want_args(r, 8, 8)) {
        return -1;
    }
    for (unsigned int i = 0; i < 8; i++) {
        if (arg(r, i, &v[i])) {
            return -1;
        }
    }
    req.type = (uint8_t)v[0];
    req.addr = v[1];
    req.data = v[2];
    req.count = (uint32_t)v[3];
    req.size = (uint32_t)v[4];
    req.dir = v[5] & 1;
    req.data_is_ptr = v[6] & 1;
    req.df = v[7] & 1;
    done = t_request(r->t, &req);
    return r->expect ? check_value(r, done.data) : 0;
}

static const struct {
    const char *name;
    replay_fn *fn;
} replay_cmds[] = {
    { "outb", do_out }, { "outw", do_out }, { "outl", do_out },
    { "inb", do_in }, { "inw", do_in }, { "inl", do_in },
    { "writeb", do_write }, { "writew", do_write }, { "writel", do_write },
    { "writeq", do_write },
    { "readb", do_read }, { "readw", do_read }, { "readl", do_read },
    { "readq", do_read },
    { "cfg_read", do_cfg_read }, { "cfg_write", do_cfg_write },
    { "pcicfg_read", do_cfg_read }, { "pcicfg_write", do_cfg_write },
    { "memwrite", do_memwrite }, { "memread", do_memread },
    { "memset", do_memset },
    { "ins", do_string }, { "outs", do_string },
    { "movs_from_mmio", do_string }, { "movs_to_mmio", do_string },
    { "bufwrite", do_bufwrite }, { "bufkick", do_bufkick },
    { "irq", do_irq }, { "shutdown", do_shutdown },
    { "clock_step", do_clock_step }, { "settle", do_settle },
    { "ioreq", do_ioreq },
};

static int
replay_line(struct replay *r, char *line)
{
    char *hash = strchr(line, '#');

    if (hash) {
        *hash = '\0';
    }
    r->tok = g_strsplit_set(g_strstrip(line), " \t", -1);
    r->ntok = 0;
    for (char **s = r->tok; *s; s++) {
        if (**s) {
            r->tok[r->ntok++] = *s;
        } else {
            g_free(*s);
        }
    }
    r->tok[r->ntok] = NULL;
    r->nargs = r->ntok;
    r->expect = NULL;
    for (unsigned int i = 0; i < r->ntok; i++) {
        if (strcmp(r->tok[i], "==") == 0) {
            if (i + 2 != r->ntok) {
                return replay_error(r, "'==' must be followed by one value");
            }
            r->nargs = i;
            r->expect = r->tok[i + 1];
        }
    }
    if (r->ntok == 0) {
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(replay_cmds); i++) {
        if (strcmp(r->tok[0], replay_cmds[i].name) == 0) {
            return replay_cmds[i].fn(r);
        }
    }
    return replay_error(r, "unknown command '%s'", r->tok[0]);
}

int
t_replay_string(struct t_machine *t, const char *script, char *err,
                size_t errlen)
{
    g_auto(GStrv) lines = g_strsplit(script, "\n", -1);
    struct replay r = { .t = t, .err = err, .errlen = errlen };
    unsigned int n = 0;

    for (char **l = lines; *l; l++) {
        int rc;

        n++;
        rc = replay_line(&r, *l);
        g_strfreev(r.tok);
        r.tok = NULL;
        if (rc < 0) {
            size_t used = strlen(err);

            snprintf(err + used, errlen - used, " (line %u)", n);
            return -1;
        }
    }
    return 0;
}

int
t_replay_file(struct t_machine *t, const char *path, char *err,
              size_t errlen)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;

    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        snprintf(err, errlen, "%s", gerr->message);
        return -1;
    }
    return t_replay_string(t, text, err, errlen);
}
