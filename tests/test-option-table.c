/*
 * The option table (dm/options.c) audited row by row: every row's sample
 * arguments must do what the row says. An implemented row parses without
 * a warning of its own; a warned row parses and leaves exactly one warning,
 * its note; a refused row fails with its note as the advice. A row flipped
 * from "warn" to "implemented" is tested by the same loop.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/config.h"
#include "tests/t.h"

/* "-device e1000" for a value row, "-vnc" for an option or a "*" row. */
static char *
row_label(const struct dm_opt_row *r)
{
    if (r->value && strcmp(r->value, "*") != 0) {
        return g_strdup_printf("%s %s", r->name, r->value);
    }
    return g_strdup(r->name);
}

/* Parse the space-separated args after argv[0]; returns the parser's rc. */
static int
parse_str(struct dm_config *cfg, const char *args, char *err, size_t errlen)
{
    char **words = g_strsplit(args, " ", -1);
    GPtrArray *argv = g_ptr_array_new();
    unsigned int i;
    int rc;

    g_ptr_array_add(argv, (gpointer)"hvmdm");
    for (i = 0; words[i]; i++) {
        g_ptr_array_add(argv, words[i]);
    }
    dm_config_defaults(cfg);
    err[0] = '\0';
    rc = dm_config_parse(cfg, (int)argv->len, (char *const *)argv->pdata, err,
                         errlen);
    g_ptr_array_free(argv, TRUE);
    g_strfreev(words);
    return rc;
}

/* How many warnings start with "<label>: "; *exact: how many are the note. */
static unsigned int
count_notes(const struct dm_config *cfg, const char *label, const char *note,
            unsigned int *exact)
{
    char *prefix = g_strdup_printf("%s: ", label);
    char *full = g_strdup_printf("%s%s", prefix, note ? note : "");
    unsigned int i, n = 0;

    *exact = 0;
    for (i = 0; i < cfg->nr_notes; i++) {
        n += g_str_has_prefix(cfg->notes[i], prefix);
        *exact += strcmp(cfg->notes[i], full) == 0;
    }
    g_free(prefix);
    g_free(full);
    return n;
}

static void
check_row(const struct dm_opt_row *r)
{
    struct dm_config cfg;
    char err[512], *label = row_label(r);
    unsigned int n, exact;
    int rc;

    if (!r->sample || (r->status != DM_OPT_IMPLEMENTED && !r->note)) {
        t_fail(__FILE__, __LINE__, "row %s lacks a sample or a note", label);
    }
    rc = parse_str(&cfg, r->sample, err, sizeof(err));
    n = count_notes(&cfg, label, r->note, &exact);
    if (r->status == DM_OPT_IMPLEMENTED && (rc != 0 || n != 0)) {
        t_fail(__FILE__, __LINE__, "implemented row %s: rc %d, %u warnings "
               "(%s)", label, rc, n, rc ? err : cfg.notes[0]);
    }
    if (r->status == DM_OPT_WARN && (rc != 0 || n != 1 || exact != 1)) {
        t_fail(__FILE__, __LINE__, "warned row %s: rc %d (%s), %u warnings",
               label, rc, err, n);
    }
    if (r->status == DM_OPT_REFUSED && (rc != -1 || !strstr(err, r->note))) {
        t_fail(__FILE__, __LINE__, "refused row %s: rc %d, error '%s'",
               label, rc, err);
    }
    dm_config_free(&cfg);
    g_free(label);
}

T_TEST(options_table_every_row)
{
    const struct dm_opt_row *r;
    size_t i;

    for (i = 0; (r = dm_option_row(i)); i++) {
        check_row(r);
    }
    T_ASSERT(i > 60);
}

/* Repeating a warned option warns once: every warned row whose sample
 * can be given twice (no duplicate ids) leaves exactly one warning. */
T_TEST(options_table_one_warning_per_row)
{
    const struct dm_opt_row *r;
    struct dm_config cfg;
    char err[512], *label, *twice;
    unsigned int exact, checked = 0, warned = 0;
    size_t i;

    for (i = 0; (r = dm_option_row(i)); i++) {
        if (r->status != DM_OPT_WARN) {
            continue;
        }
        warned++;
        twice = g_strdup_printf("%s %s", r->sample, r->sample);
        if (parse_str(&cfg, twice, err, sizeof(err)) == 0) {
            label = row_label(r);
            T_EQ(count_notes(&cfg, label, r->note, &exact), 1);
            T_EQ(exact, 1);
            checked++;
            g_free(label);
        }
        dm_config_free(&cfg);
        g_free(twice);
    }
    T_ASSERT(checked > 0 || warned == 0);
}

/* --help prints the implemented rows and nothing else. */
T_TEST(options_table_help_lists_what_works)
{
    const struct dm_opt_row *r;
    char *buf = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream(&buf, &len);

    T_ASSERT(f != NULL);
    dm_config_print_help(f);
    fclose(f);
    for (i = 0; (r = dm_option_row(i)); i++) {
        if (!r->help) {
            continue;
        }
        if ((r->status == DM_OPT_IMPLEMENTED) != (strstr(buf, r->help) !=
                                                  NULL)) {
            free(buf);
            t_fail(__FILE__, __LINE__, "--help and row %s %s disagree",
                   r->name, r->value ? r->value : "");
        }
    }
    free(buf);
}

/* The guest name is any string, even one that looks like an option. */
T_TEST(options_name_any_string)
{
    static const struct {
        const char *arg, *name;
    } cases[] = {
        { "-h", "-h" }, { "--version", "--version" }, { "--help", "--help" },
        { "a,b", "a,b" }, { "x,", "x," }, { "a,,b", "a,b" }, { ",", "," },
        { "guest=g,process=p", "g" }, { "=", "=" }, { "", "" },
        { "web 01", "web 01" },
    };
    const char *argv[] = { "hvmdm", "-name", NULL, "-xen-domid", "1" };
    struct dm_config cfg;
    char err[512];
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        argv[2] = cases[i].arg;
        dm_config_defaults(&cfg);
        T_EQ(dm_config_parse(&cfg, 5, (char *const *)argv, err,
                             sizeof(err)), 0);
        if (strcmp(cfg.name, cases[i].name) != 0) {
            t_fail(__FILE__, __LINE__, "-name '%s' gave '%s'", cases[i].arg,
                   cfg.name);
        }
        T_ASSERT(!cfg.show_help && !cfg.show_version);
        T_EQ(cfg.domid, 1);
        dm_config_free(&cfg);
    }
}

/* -h and --version are options wherever they stand, not arguments. */
T_TEST(options_help_and_version)
{
    struct dm_config cfg;
    char err[512];

    T_EQ(parse_str(&cfg, "-xen-domid 1 -name x --help", err, sizeof(err)),
         0);
    T_ASSERT(cfg.show_help);
    dm_config_free(&cfg);
    T_EQ(parse_str(&cfg, "-version", err, sizeof(err)), 0);
    T_ASSERT(cfg.show_version);
    dm_config_free(&cfg);
    T_EQ(parse_str(&cfg, "-m 1 -h -frobnicate", err, sizeof(err)), 0);
    T_ASSERT(cfg.show_help);
    dm_config_free(&cfg);
}
