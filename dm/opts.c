/*
 * The key=value tokenizer of QEMU's option syntax (dm/opts.h), shared by
 * the command-line parser and the subsystems that parse their own
 * sub-option strings.
 */
#include "dm/opts.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
dm_opts_error(struct dm_opts *o, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (o->what) {
        snprintf(o->err, o->errlen, "%s: %s", o->what, msg);
    } else {
        snprintf(o->err, o->errlen, "%s", msg);
    }
    return -1;
}

/* A value runs to the next single ','; ",," is a literal comma. */
static char *
opts_read_value(const char **pp)
{
    GString *s = g_string_new(NULL);
    const char *p = *pp;

    while (*p) {
        if (*p == ',') {
            if (p[1] != ',') {
                break;
            }
            p++;
        }
        g_string_append_c(s, *p++);
    }
    *pp = p;
    return g_string_free(s, FALSE);
}

static char *
opts_read_key(const char **pp)
{
    const char *p = *pp;
    size_t n = strcspn(p, "=,");

    *pp = p + n;
    return g_strndup(p, n);
}

void
dm_opts_free(struct dm_opts *o)
{
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        g_free(o->item[i].key);
        g_free(o->item[i].val);
    }
    o->n = 0;
}

/* Read one item at *pp; the first may be a bare value of implied_key. */
static int
opts_parse_item(struct dm_opts *o, const char **pp, const char *implied_key)
{
    const char *start = *pp;
    struct dm_opts_item *it = &o->item[o->n];

    it->key = opts_read_key(pp);
    it->val = NULL;
    it->used = false;
    if (**pp == '=') {
        (*pp)++;
        it->val = opts_read_value(pp);
    } else if (implied_key) {
        g_free(it->key);
        *pp = start;
        it->key = g_strdup(implied_key);
        it->val = opts_read_value(pp);
    }
    o->n++;
    if (it->key[0] == '\0') {
        return dm_opts_error(o, "empty parameter name in '%s'", start);
    }
    return 0;
}

int
dm_opts_parse(struct dm_opts *o, const char *str, const char *implied_key,
              const char *what, char *err, size_t errlen)
{
    const char *p = str;

    o->n = 0;
    o->what = what;
    o->err = err;
    o->errlen = errlen;
    if (*p == '\0') {
        return dm_opts_error(o, "empty value");
    }
    for (;;) {
        if (o->n == DM_OPTS_MAX) {
            return dm_opts_error(o, "more than %d parameters in '%s'",
                                 DM_OPTS_MAX, str);
        }
        if (opts_parse_item(o, &p, o->n == 0 ? implied_key : NULL) < 0) {
            return -1;
        }
        if (*p == '\0') {
            return 0;
        }
        p++;
        if (*p == '\0') {
            return dm_opts_error(o, "trailing ',' in '%s' (write ',,' for a "
                                 "comma)", str);
        }
    }
}

struct dm_opts_item *
dm_opts_take(struct dm_opts *o, const char *key)
{
    struct dm_opts_item *found = NULL;
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        if (strcmp(o->item[i].key, key) == 0) {
            o->item[i].used = true;
            found = &o->item[i];
        }
    }
    return found;
}

int
dm_opts_finish(struct dm_opts *o, const char *accepted)
{
    unsigned int i;

    for (i = 0; i < o->n; i++) {
        if (!o->item[i].used) {
            return dm_opts_error(o, "unknown parameter '%s' (accepted: %s)",
                                 o->item[i].key, accepted);
        }
    }
    return 0;
}

int
dm_opts_str(struct dm_opts *o, const char *key, const char **out)
{
    struct dm_opts_item *it = dm_opts_take(o, key);

    *out = NULL;
    if (!it) {
        return 0;
    }
    if (!it->val) {
        return dm_opts_error(o, "parameter '%s' needs a value (%s=...)", key,
                             key);
    }
    *out = it->val;
    return 0;
}

int
dm_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int
dm_opts_bool(struct dm_opts *o, const char *key, bool *out)
{
    struct dm_opts_item *it = dm_opts_take(o, key);

    if (!it) {
        return 0;
    }
    if (!it->val) {
        *out = true;
        return 0;
    }
    if (dm_parse_bool(it->val, out) < 0) {
        return dm_opts_error(o, "%s=%s: expected on or off", key, it->val);
    }
    return 0;
}

int
dm_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    char *end;
    unsigned long long v;

    if (!g_ascii_isxdigit(s[hex ? 2 : 0]) ||
        (!hex && !g_ascii_isdigit(s[0]))) {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, hex ? 16 : 10);
    if (errno || *end || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

int
dm_opts_uint(struct dm_opts *o, const char *key, uint64_t min, uint64_t max,
             uint64_t *out)
{
    const char *v;

    if (dm_opts_str(o, key, &v) < 0) {
        return -1;
    }
    if (v && dm_parse_uint(v, min, max, out) < 0) {
        return dm_opts_error(o, "%s=%s: expected a number from %" PRIu64
                             " to %" PRIu64, key, v, min, max);
    }
    return 0;
}

int
dm_parse_size(const char *s, unsigned int default_shift, uint64_t *out)
{
    static const char suffixes[] = "BKMGT";
    const char *sfx;
    char *end;
    unsigned long long v;
    unsigned int shift = default_shift;

    if (!g_ascii_isdigit(s[0])) {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno) {
        return -1;
    }
    if (*end) {
        sfx = strchr(suffixes, g_ascii_toupper(*end));
        if (!sfx || end[1]) {
            return -1;
        }
        shift = 10 * (unsigned int)(sfx - suffixes);
    }
    if (shift && v > (UINT64_MAX >> shift)) {
        return -1;
    }
    *out = (uint64_t)v << shift;
    return 0;
}
