/* Logging to stderr with levels and per-call-site rate limiting. */
#include "dm/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum dm_log_level log_level = DM_LOG_INFO;
static int log_quiet;
static uint64_t guest_errors;
static uint64_t log_lines;

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

static void
log_vprint(enum dm_log_level level, const char *fmt, va_list ap)
{
    log_lines++;
    if (level > log_level || (log_quiet && level != DM_LOG_ERROR)) {
        return;
    }
    fprintf(stderr, "hvmdm: %s: ", level_names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
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
