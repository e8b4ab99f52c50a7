/*
 * QEMU's key=value,key=value option syntax (",," is a literal comma), for
 * dm/options.c and for subsystems that parse their own sub-option string
 * (dm/config.h keeps e.g. the -vnc argument raw). Every function returns 0,
 * or -1 with "<what>: <message>" in the caller's error buffer.
 */
#ifndef DM_OPTS_H
#define DM_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DM_OPTS_MAX 24          /* key=value items in one option value */

struct dm_opts_item {
    char *key;
    char *val;                  /* NULL: bare flag such as "server" */
    bool used;
};

struct dm_opts {
    struct dm_opts_item item[DM_OPTS_MAX];
    unsigned int n;
    const char *what;           /* message prefix, e.g. "-vnc"; or NULL */
    char *err;
    size_t errlen;
};

/*
 * Split str into items. implied_key names the key of a leading bare value
 * ("VGA,vgamem_mb=16" is driver=VGA), as QEMU does; NULL: none. Free o with
 * dm_opts_free() whatever this returns.
 */
int dm_opts_parse(struct dm_opts *o, const char *str, const char *implied_key,
                  const char *what, char *err, size_t errlen);
void dm_opts_free(struct dm_opts *o);

/* The last item named key (a later one wins); marks all of them used. */
struct dm_opts_item *dm_opts_take(struct dm_opts *o, const char *key);
/* String value or NULL when absent; a bare key is an error. */
int dm_opts_str(struct dm_opts *o, const char *key, const char **out);
/* on/off/yes/no/true/false; a bare key means on; unchanged if absent. */
int dm_opts_bool(struct dm_opts *o, const char *key, bool *out);
/* Decimal or 0x hex in [min, max]; unchanged if absent. */
int dm_opts_uint(struct dm_opts *o, const char *key, uint64_t min,
                 uint64_t max, uint64_t *out);
/* Every item must have been taken; accepted lists the valid keys. */
int dm_opts_finish(struct dm_opts *o, const char *accepted);
/* Format an error into o's buffer; returns -1. */
int dm_opts_error(struct dm_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The scalar parsers, on their own: 0 or -1. */
int dm_parse_bool(const char *s, bool *out);
int dm_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A number with an optional B/K/M/G/T suffix; bare: units of 2^shift. */
int dm_parse_size(const char *s, unsigned int default_shift, uint64_t *out);

#endif
