/*
 * xp-hostile: a hostile PV-driver hand-shake for the tests/xen Linux guest
 * (mode=hostile, booted with xen_emul_unplug=never so the kernel leaves
 * the Xen platform ports alone). Built static at test time. It writes the
 * unplug protocol (X:docs/misc/hvm-emulated-unplug.pandoc) out of order:
 * build before product, the unplug before the magic was read and while a
 * DMA write is in flight, the unplug twice, unknown mask bits, the ROM
 * lock toggled, a flood of log bytes without a newline, then random
 * accesses of every width to ports 0x10-0x1F. It prints what it read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

#define XP_PORT 0x10
#define XP_VER  0x12

static void
random_accesses(unsigned int n)
{
    unsigned int i, port;

    srand(139);
    for (i = 0; i < n; i++) {
        port = XP_PORT + (unsigned int)(rand() % 16);
        switch (rand() % 6) {
        case 0:
            outb((unsigned char)rand(), port);
            break;
        case 1:
            /* Never a word to 0x10: that would be an unplug mask. */
            outw((unsigned short)rand(), port == XP_PORT ? XP_VER : port);
            break;
        case 2:
            outl((unsigned int)rand(), port);
            break;
        case 3:
            (void)inb(port);
            break;
        case 4:
            (void)inw(port);
            break;
        default:
            (void)inl(port);
            break;
        }
    }
}

int
main(void)
{
    unsigned int magic, ver, i;

    if (iopl(3) < 0) {
        perror("iopl");
        return 1;
    }
    outl(0x12345678, XP_PORT);          /* build before any product */
    outw(0x0001, XP_PORT);              /* unplug disks, no magic read */
    outw(0x0001, XP_PORT);              /* and again */
    outw(3, XP_VER);                    /* product "linux", late */
    outw(0xfff3, XP_PORT);              /* unknown bits, disks again */
    for (i = 0; i < 1200; i++) {
        outb('x', XP_VER);              /* a log line without an end */
    }
    outb(1, XP_PORT);                   /* ROM lock on, then off */
    outb(0, XP_PORT);
    random_accesses(300);
    magic = inw(XP_PORT);
    ver = inb(XP_VER);
    printf("magic=%04x ver=%02x\n", magic, ver);
    return 0;
}
