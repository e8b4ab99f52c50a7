/*
 * A small printf to port 0xE9.
 */
#include "firmware/hvmloader/console.h"

#include <stdarg.h>

#include "firmware/hvmloader/io.h"

#define DEBUGCONS 0xe9

static void
putc(char c)
{
    outb(DEBUGCONS, (uint8_t)c);
}

static void
puts_n(const char *s)
{
    while (*s) {
        putc(*s++);
    }
}

static void
put_num(uint64_t v, unsigned base, unsigned width, char pad)
{
    char buf[24];
    unsigned n = 0;

    uint32_t d = (uint32_t)v;       /* decimal: 32 bits, no libgcc */

    do {
        if (base == 16) {
            buf[n++] = "0123456789abcdef"[v & 15];
            v >>= 4;
        } else {
            buf[n++] = (char)('0' + d % 10);
            d /= 10;
        }
    } while ((base == 16 ? v != 0 : d != 0) && n < sizeof(buf));
    while (width > n) {
        putc(pad);
        width--;
    }
    while (n) {
        putc(buf[--n]);
    }
}

static void
vprintf(const char *fmt, va_list ap)
{
    unsigned width;
    char pad;
    bool wide;

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc(*fmt);
            continue;
        }
        fmt++;
        pad = *fmt == '0' ? '0' : ' ';
        for (width = 0; *fmt >= '0' && *fmt <= '9'; fmt++) {
            width = width * 10 + (unsigned)(*fmt - '0');
        }
        wide = fmt[0] == 'l' && fmt[1] == 'l';
        fmt += wide ? 2 : 0;
        switch (*fmt) {
        case 's':
            puts_n(va_arg(ap, const char *));
            break;
        case 'c':
            putc((char)va_arg(ap, int));
            break;
        case 'd':
        case 'u':
            put_num(va_arg(ap, unsigned), 10, width, pad);
            break;
        case 'x':
            put_num(wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16,
                    width, pad);
            break;
        default:
            putc(*fmt);
            break;
        }
    }
}

void
printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void
panic(const char *fmt, ...)
{
    va_list ap;

    puts_n("*** hvmloader: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putc('\n');
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}
