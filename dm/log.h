/*
 * Logging: levels, to stderr (libxl redirects it to
 * /var/log/xen/qemu-dm-<name>.log), and a rate-limited form for anything a
 * guest can trigger so a hostile guest cannot flood the log.
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <inttypes.h> /* PRIx64 for callers */
#include <stddef.h>
#include <stdint.h>

enum dm_log_level {
    DM_LOG_ERROR,
    DM_LOG_WARN,
    DM_LOG_INFO,
    DM_LOG_DEBUG,
};

/* Per call-site limiter: at most DM_RATELIMIT_BURST lines per second. */
struct dm_ratelimit {
    uint64_t window_start_ns;
    unsigned int printed;
    unsigned int suppressed;
};

#define DM_RATELIMIT_BURST 10

void dm_log_set_level(enum dm_log_level level);
enum dm_log_level dm_log_get_level(void);
void dm_log_set_quiet(int quiet);
void dm_log(enum dm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dm_log_ratelimited(struct dm_ratelimit *rl, enum dm_log_level level,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The limiter alone: for lines a guest can repeat that are not its errors. */
void dm_log_limited(struct dm_ratelimit *rl, enum dm_log_level level,
                    const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Total guest-error lines requested (printed or suppressed); tests read it. */
uint64_t dm_log_guest_errors(void);
/* Lines that reached the logger after rate limiting, at any level. */
uint64_t dm_log_lines(void);

/*
 * Every line is "<UTC time, QEMU -msg timestamp=on> hvmdm: <level>: ...".
 * The log is fd 2 unless set otherwise (tests).
 */
void dm_log_set_fd(int fd);
/*
 * Total bytes the log may receive (XEN_QEMU_CONSOLE_LIMIT, XSA-180), guest
 * output on a stdio chardev included; 0: no cap. Past it one "log limit
 * reached" line is written and everything else is dropped.
 */
void dm_log_set_limit(uint64_t bytes);
/* Bytes written under the cap so far. */
uint64_t dm_log_bytes(void);
/* Of len bytes of guest console output for stdout (the log), how many
 * may be written; the rest is dropped. */
size_t dm_log_console_budget(size_t len);
/* A line outside the cap, whatever the level: the exit summary only. */
void dm_log_always(enum dm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define DM_ERR(...)   dm_log(DM_LOG_ERROR, __VA_ARGS__)
#define DM_WARN(...)  dm_log(DM_LOG_WARN, __VA_ARGS__)
#define DM_INFO(...)  dm_log(DM_LOG_INFO, __VA_ARGS__)
#define DM_DEBUG(...) dm_log(DM_LOG_DEBUG, __VA_ARGS__)

/*
 * A guest did something the hardware would reject. Logged at WARN, rate
 * limited per call site; never fatal.
 */
#define GUEST_ERR(...)                                                  \
    do {                                                                \
        static struct dm_ratelimit guest_err_rl_;                       \
        dm_log_ratelimited(&guest_err_rl_, DM_LOG_WARN,                 \
                           "guest: " __VA_ARGS__);                      \
    } while (0)

/*
 * A line whose cause a guest can repeat (a request, a reset, a cache
 * event): at most DM_RATELIMIT_BURST per second from this call site.
 */
#define DM_LOG_LIMITED(level, ...)                                      \
    do {                                                                \
        static struct dm_ratelimit log_limited_rl_;                     \
        dm_log_limited(&log_limited_rl_, (level), __VA_ARGS__);         \
    } while (0)

#endif
