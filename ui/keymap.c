/*
 * QEMU keymap files and the keysym translator (ui/keymap.h).
 *
 * File format (QEMU's qemu-keymap output, and the older hand-written
 * files): '#' comments; "include NAME"; "map 0xLCID" (ignored);
 * "KEYSYM_NAME 0xQNUM [shift] [altgr] [ctrl] [numlock] [addupper]
 * [localstate] [inhibit]". Keysym names are X11's, resolved with
 * libxkbcommon.
 */
#include "ui/keymap.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <xkbcommon/xkbcommon.h>

#include "ui/input.h"

#define KEYMAP_MAX_FILE     (1u << 20)
#define KEYMAP_MAX_DEPTH    4

/* keysym -> qnum | mods << 16 */
struct keymap {
    GHashTable *syms;
};

struct keymap_mod_word {
    const char *word;
    unsigned int mods;
};

static const struct keymap_mod_word keymap_mod_words[] = {
    { "shift", KEYMAP_SHIFT },
    { "altgr", KEYMAP_ALTGR },
    { "ctrl", KEYMAP_CTRL },
    { "numlock", KEYMAP_NUMLOCK },
    { "localstate", 0 },
    { "inhibit", 0 },
};

static bool
keymap_name_ok(const char *name)
{
    const char *p;

    for (p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') {
            return false;
        }
    }
    return name[0] != '\0';
}

static void
keymap_add(struct keymap *km, uint32_t sym, unsigned int qnum,
           unsigned int mods)
{
    gpointer key = GUINT_TO_POINTER(sym);

    if (!g_hash_table_contains(km->syms, key)) {
        g_hash_table_insert(km->syms, key,
                            GUINT_TO_POINTER(qnum | mods << 16));
    }
}

/* The modifier words after the key number; addupper is returned apart. */
static int
keymap_parse_mods(char **tok, unsigned int *mods, bool *addupper)
{
    size_t i;

    *mods = 0;
    *addupper = false;
    for (; *tok; tok++) {
        if (strcmp(*tok, "addupper") == 0) {
            *addupper = true;
            continue;
        }
        for (i = 0; i < G_N_ELEMENTS(keymap_mod_words); i++) {
            if (strcmp(*tok, keymap_mod_words[i].word) == 0) {
                *mods |= keymap_mod_words[i].mods;
                break;
            }
        }
        if (i == G_N_ELEMENTS(keymap_mod_words)) {
            return -EINVAL;
        }
    }
    return 0;
}

/* One "NAME 0xQNUM mods..." line. Unknown keysym names are skipped. */
static int
keymap_parse_entry(struct keymap *km, char **tok)
{
    unsigned int qnum, mods;
    char *end;
    bool addupper;
    xkb_keysym_t sym;

    qnum = (unsigned int)strtoul(tok[1], &end, 0);
    if (*end || qnum > 0xff || keymap_parse_mods(tok + 2, &mods,
                                                  &addupper) < 0) {
        return -EINVAL;
    }
    sym = xkb_keysym_from_name(tok[0], XKB_KEYSYM_NO_FLAGS);
    if (sym == XKB_KEY_NoSymbol) {
        return 0;
    }
    keymap_add(km, sym, qnum, mods);
    if (addupper && xkb_keysym_to_upper(sym) != sym) {
        keymap_add(km, xkb_keysym_to_upper(sym), qnum, mods | KEYMAP_SHIFT);
    }
    return 0;
}

static int keymap_parse_file(struct keymap *km, const char *dir,
                             const char *name, int depth, char *err,
                             size_t errlen);

static int
keymap_parse_line(struct keymap *km, const char *dir, char *line,
                  int depth, char *err, size_t errlen)
{
    g_auto(GStrv) tok = NULL;
    int rc = 0;

    g_strstrip(line);
    if (line[0] == '\0' || line[0] == '#') {
        return 0;
    }
    tok = g_strsplit_set(line, " \t", -1);
    /* g_strsplit_set keeps empty fields between repeated blanks. */
    {
        char **src, **dst;

        for (src = dst = tok; *src; src++) {
            if (**src) {
                *dst++ = *src;
            } else {
                g_free(*src);
            }
        }
        *dst = NULL;
    }
    if (!tok[0] || !tok[1]) {
        rc = -EINVAL;
    } else if (strcmp(tok[0], "include") == 0) {
        rc = keymap_parse_file(km, dir, tok[1], depth + 1, err, errlen);
    } else if (strcmp(tok[0], "map") != 0) {
        rc = keymap_parse_entry(km, tok);
    }
    return rc;
}

static int
keymap_parse_file(struct keymap *km, const char *dir, const char *name,
                  int depth, char *err, size_t errlen)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;
    char *line, *next;
    unsigned int lineno = 0;
    gsize len;

    if (depth > KEYMAP_MAX_DEPTH || !keymap_name_ok(name)) {
        snprintf(err, errlen, "keymap '%s': bad include", name);
        return -EINVAL;
    }
    path = g_build_filename(dir, name, NULL);
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        snprintf(err, errlen, "keymap '%s': %s (the layouts are in %s, "
                 "from Debian's qemu-system-data; ls it for the names)",
                 name, gerr->message, dir);
        return -ENOENT;
    }
    if (len > KEYMAP_MAX_FILE || strlen(text) != len) {
        snprintf(err, errlen, "keymap %s: not a keymap file", path);
        return -EINVAL;
    }
    for (line = text; line; line = next) {
        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }
        lineno++;
        if (keymap_parse_line(km, dir, line, depth, err, errlen) < 0) {
            if (!err[0]) {
                snprintf(err, errlen, "keymap %s:%u: malformed line", path,
                         lineno);
            }
            return -EINVAL;
        }
    }
    return 0;
}

struct keymap *
keymap_load(const char *dir, const char *name, char *err, size_t errlen)
{
    struct keymap *km = g_new0(struct keymap, 1);

    err[0] = '\0';
    km->syms = g_hash_table_new(g_direct_hash, g_direct_equal);
    if (keymap_parse_file(km, dir, name, 0, err, errlen) < 0) {
        keymap_free(km);
        return NULL;
    }
    return km;
}

void
keymap_free(struct keymap *km)
{
    if (km) {
        g_hash_table_destroy(km->syms);
        g_free(km);
    }
}

unsigned int
keymap_size(const struct keymap *km)
{
    return g_hash_table_size(km->syms);
}

bool
keymap_lookup(const struct keymap *km, uint32_t keysym, unsigned int *qnum,
              unsigned int *mods)
{
    gpointer v;

    if (!km || !g_hash_table_lookup_extended(km->syms,
                                             GUINT_TO_POINTER(keysym),
                                             NULL, &v)) {
        return false;
    }
    *qnum = GPOINTER_TO_UINT(v) & 0xff;
    *mods = GPOINTER_TO_UINT(v) >> 16;
    return true;
}

/*
 * qnum 0x54 is SysRq, which a PC keyboard makes as PrintScreen (0xe0 0x37)
 * with Alt held; 0xc6 is QEMU's number for Pause (0xe1 0x1d 0x45).
 */
unsigned int
keymap_qnum_to_key(unsigned int qnum)
{
    if (qnum == 0 || qnum > 0xff) {
        return 0;
    }
    if (qnum == 0x54) {
        return INPUT_KEY_E0 | 0x37;
    }
    if (qnum == 0xc6) {
        return INPUT_KEY_PAUSE;
    }
    if (qnum & 0x80) {
        return INPUT_KEY_E0 | (qnum & 0x7f);
    }
    return qnum;
}

/* ---- the translator --------------------------------------------------- */

#define KEY_SHIFT_L     0x2a
#define KEY_SHIFT_R     0x36
#define KEY_ALTGR       (INPUT_KEY_E0 | 0x38)
#define KEY_NUMLOCK     0x45

void
keymap_state_init(struct keymap_state *s, const struct keymap *km)
{
    memset(s, 0, sizeof(*s));
    s->km = km;
}

static void
keymap_track_mods(struct keymap_state *s, uint32_t sym, bool down)
{
    switch (sym) {
    case XKB_KEY_Shift_L:
        s->shift_l = down;
        break;
    case XKB_KEY_Shift_R:
        s->shift_r = down;
        break;
    case XKB_KEY_ISO_Level3_Shift:
    case XKB_KEY_Mode_switch:
        s->altgr = down;
        break;
    }
}

static bool
keymap_is_keypad(uint32_t sym)
{
    return sym >= XKB_KEY_KP_Space && sym <= XKB_KEY_KP_9;
}

static bool
keymap_is_letter(uint32_t sym)
{
    return xkb_keysym_to_upper(sym) != xkb_keysym_to_lower(sym);
}

/*
 * Press key with the Shift and AltGr state the layout needs, then put the
 * held modifiers back (the QEMU -k behaviour). Only symbols that print
 * something are adjusted, so Shift+Home still selects.
 */
static void
keymap_press(struct keymap_state *s, uint32_t sym, unsigned int key,
             unsigned int mods, unsigned int leds, keymap_emit_fn *emit,
             void *opaque)
{
    bool printable = xkb_keysym_to_utf32(sym) != 0;
    bool have_shift = s->shift_l || s->shift_r;
    bool need_shift = mods & KEYMAP_SHIFT;
    bool need_altgr = mods & KEYMAP_ALTGR;
    bool fix_shift, fix_altgr;

    if ((leds & INPUT_LED_CAPS) && keymap_is_letter(sym)) {
        need_shift = !need_shift;
    }
    if (keymap_is_keypad(sym) &&
        !(mods & KEYMAP_NUMLOCK) != !(leds & INPUT_LED_NUM)) {
        emit(opaque, KEY_NUMLOCK, true);
        emit(opaque, KEY_NUMLOCK, false);
    }
    fix_shift = printable && need_shift != have_shift;
    fix_altgr = printable && need_altgr != s->altgr;
    if (fix_shift && have_shift) {
        if (s->shift_l) {
            emit(opaque, KEY_SHIFT_L, false);
        }
        if (s->shift_r) {
            emit(opaque, KEY_SHIFT_R, false);
        }
    } else if (fix_shift) {
        emit(opaque, KEY_SHIFT_L, true);
    }
    if (fix_altgr) {
        emit(opaque, KEY_ALTGR, need_altgr);
    }
    emit(opaque, key, true);
    if (fix_altgr) {
        emit(opaque, KEY_ALTGR, !need_altgr);
    }
    if (fix_shift && have_shift) {
        if (s->shift_l) {
            emit(opaque, KEY_SHIFT_L, true);
        }
        if (s->shift_r) {
            emit(opaque, KEY_SHIFT_R, true);
        }
    } else if (fix_shift) {
        emit(opaque, KEY_SHIFT_L, false);
    }
}

static int
keymap_find_down(const struct keymap_state *s, uint32_t sym)
{
    unsigned int i;

    for (i = 0; i < s->nr_down; i++) {
        if (s->down_sym[i] == sym) {
            return (int)i;
        }
    }
    return -1;
}

static void
keymap_forget(struct keymap_state *s, unsigned int i)
{
    s->nr_down--;
    s->down_sym[i] = s->down_sym[s->nr_down];
    s->down_key[i] = s->down_key[s->nr_down];
}

static bool
keymap_key_up(struct keymap_state *s, uint32_t sym, keymap_emit_fn *emit,
              void *opaque)
{
    int i = keymap_find_down(s, sym);
    unsigned int qnum, mods, key;

    if (i >= 0) {
        key = s->down_key[i];
        keymap_forget(s, (unsigned int)i);
    } else if (keymap_lookup(s->km, sym, &qnum, &mods)) {
        key = keymap_qnum_to_key(qnum);
    } else {
        return false;
    }
    emit(opaque, key, false);
    return true;
}

bool
keymap_key_event(struct keymap_state *s, uint32_t keysym, bool down,
                 unsigned int leds, keymap_emit_fn *emit, void *opaque)
{
    unsigned int qnum, mods, key;

    keymap_track_mods(s, keysym, down);
    if (!down) {
        return keymap_key_up(s, keysym, emit, opaque);
    }
    if (!keymap_lookup(s->km, keysym, &qnum, &mods) ||
        !(key = keymap_qnum_to_key(qnum))) {
        return false;
    }
    if (keymap_find_down(s, keysym) < 0 && s->nr_down < KEYMAP_MAX_DOWN) {
        s->down_sym[s->nr_down] = keysym;
        s->down_key[s->nr_down++] = key;
    }
    keymap_press(s, keysym, key, mods, leds, emit, opaque);
    return true;
}

void
keymap_release_all(struct keymap_state *s, keymap_emit_fn *emit,
                   void *opaque)
{
    while (s->nr_down) {
        emit(opaque, s->down_key[s->nr_down - 1], false);
        s->nr_down--;
    }
    s->shift_l = s->shift_r = s->altgr = false;
}
