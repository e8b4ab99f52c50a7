/*
 * Output on Xen's debug console port 0xE9 (XEN_HVM_DEBUGCONS_IOPORT):
 * Xen logs each line as "(dN) ..." on its console, as for Xen's own
 * hvmloader.
 */
#ifndef HVMLOADER_CONSOLE_H
#define HVMLOADER_CONSOLE_H

#include "firmware/hvmloader/lib.h"

/* %s %c %u %d %x with optional 0 and width; %llx prints a uint64_t. */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print, then stop this vCPU for good. */
void panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
