/*
 * Logging to stderr (libxl's qemu-dm-<name>.log) with levels, per-call-site
 * rate limiting, QEMU's "-msg timestamp=on" time stamps and a total cap on
 * what reaches the log (XEN_QEMU_CONSOLE_LIMIT, XSA-180).
 */
#include "dm/log.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum dm_log_level log_level = DM_LOG_INFO;
static int log_quiet;
static uint64_t guest_errors;
static uint64_t log_lines;
static int log_fd = STDERR_FILENO;
static uint64_t log_limit;              /* bytes; 0: no cap */
static uint64_t log_written;            /* bytes counted against the cap */
static bool log_limit_hit;

static const char *const level_names[] = {
    [DM_LOG_ERROR] = "error",
    [DM_LOG_WARN] = "warning",
    [DM_LOG_INFO] = "info",
    [DM_LOG_DEBUG] = "debug",
};

void
dm_log_set_level(enum dm_log_level level)
{
    log_level = level;
}

enum dm_log_level
dm_log_get_level(void)
{
    return log_level;
}

/* Tests silence expected guest-error noise; errors still print. */
void
dm_log_set_quiet(int quiet)
{
    log_quiet = quiet;
}

static uint64_t
log_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
dm_log_set_fd(int fd)
{
    log_fd = fd;
}

void
dm_log_set_limit(uint64_t bytes)
{
    log_limit = bytes;
}

uint64_t
dm_log_bytes(void)
{
    return log_written;
}

/* QEMU's -msg timestamp=on: ISO 8601 UTC with microseconds. */
static void
log_timestamp(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    char date[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%.20s.%06uZ", date,
             (unsigned int)(ts.tv_nsec / 1000) % 1000000u);
}

static void
log_write(const char *buf, size_t len)
{
    ssize_t n;

    while (len) {
        n = write(log_fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;             /* nowhere else to report it */
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* One whole line: "<time> hvmdm: <level>: <message>\n". */
static char *
log_format(enum dm_log_level level, const char *fmt, va_list ap)
{
    char ts[48];
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);

    log_timestamp(ts, sizeof(ts));
    return g_strdup_printf("%s hvmdm: %s: %s\n", ts, level_names[level], msg);
}

/* The one line that says the cap was reached; not counted. */
static void
log_limit_reached(void)
{
    g_autofree char *line = NULL;
    char ts[48];

    log_limit_hit = true;
    log_timestamp(ts, sizeof(ts));
    line = g_strdup_printf("%s hvmdm: warning: log limit reached: "
                           "XEN_QEMU_CONSOLE_LIMIT=%" PRIu64 " bytes; "
                           "further output is dropped\n", ts, log_limit);
    log_write(line, strlen(line));
}

/* Take len bytes from the cap's budget; false once it is spent. */
static bool
log_budget(size_t len)
{
    if (!log_limit) {
        log_written += len;
        return true;
    }
    if (log_limit_hit) {
        return false;
    }
    if (len > log_limit - log_written) {
        log_limit_reached();
        return false;
    }
    log_written += len;
    return true;
}

size_t
dm_log_console_budget(size_t len)
{
    return log_budget(len) ? len : 0;
}

static void
log_vprint(enum dm_log_level level, const char *fmt, va_list ap)
{
    g_autofree char *line = NULL;

    log_lines++;
    if (level > log_level || (log_quiet && level != DM_LOG_ERROR) ||
        log_limit_hit) {
        return;
    }
    line = log_format(level, fmt, ap);
    if (log_budget(strlen(line))) {
        log_write(line, strlen(line));
    }
}

void
dm_log_always(enum dm_log_level level, const char *fmt, ...)
{
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    line = log_format(level, fmt, ap);
    va_end(ap);
    log_write(line, strlen(line));
}

void
dm_log(enum dm_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(level, fmt, ap);
    va_end(ap);
}

static void
log_vlimited(struct dm_ratelimit *rl, enum dm_log_level level,
             const char *fmt, va_list ap)
{
    uint64_t now = log_now_ns();

    if (now - rl->window_start_ns >= 1000000000ull) {
        if (rl->suppressed) {
            dm_log(level, "(%u similar messages suppressed)", rl->suppressed);
        }
        rl->window_start_ns = now;
        rl->printed = 0;
        rl->suppressed = 0;
    }
    if (rl->printed >= DM_RATELIMIT_BURST) {
        rl->suppressed++;
        return;
    }
    rl->printed++;
    log_vprint(level, fmt, ap);
}

void
dm_log_limited(struct dm_ratelimit *rl, enum dm_log_level level,
               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vlimited(rl, level, fmt, ap);
    va_end(ap);
}

void
dm_log_ratelimited(struct dm_ratelimit *rl, enum dm_log_level level,
                   const char *fmt, ...)
{
    va_list ap;

    guest_errors++;
    va_start(ap, fmt);
    log_vlimited(rl, level, fmt, ap);
    va_end(ap);
}

uint64_t
dm_log_guest_errors(void)
{
    return guest_errors;
}

uint64_t
dm_log_lines(void)
{
    return log_lines;
}
