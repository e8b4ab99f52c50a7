/*
 * optdoc: the option table (dm/options.c) as troff for the man page, so
 * hvmdm(1) lists exactly what the binary does. "optdoc implemented",
 * "optdoc warned" and "optdoc refused" print one section body each; make
 * substitutes them into doc/hvmdm.1.in.
 */
#include <stdio.h>
#include <string.h>

#include "dm/config.h"

/* Text for troff: '-' and '\' escaped, runs of blanks and newlines (the
 * --help continuation lines) folded into one space. */
static void
troff_text(const char *s)
{
    bool blank = false;

    for (; *s; s++) {
        if (*s == ' ' || *s == '\n') {
            blank = true;
            continue;
        }
        if (blank) {
            putchar(' ');
            blank = false;
        }
        if (*s == '-' || *s == '\\') {
            putchar('\\');
        }
        putchar(*s);
    }
}

static void
print_name(const struct dm_opt_row *r)
{
    printf(".TP\n.B ");
    troff_text(r->name);
    if (r->value && strcmp(r->value, "*") != 0) {
        putchar(' ');
        troff_text(r->value);
    } else if (r->value) {
        printf(" \\fR(other values)\\fP");
    }
    putchar('\n');
}

static void
print_row(const struct dm_opt_row *r, int mode)
{
    const char *text = mode == DM_OPT_IMPLEMENTED ? r->help : r->note;

    if ((int)r->status != mode || !text) {
        return;
    }
    print_name(r);
    if (text[0] == '.' || text[0] == '\'') {
        printf("\\&");
    }
    troff_text(text);
    putchar('\n');
}

int
main(int argc, char **argv)
{
    static const char *const modes[] = {
        [DM_OPT_IMPLEMENTED] = "implemented",
        [DM_OPT_WARN] = "warned",
        [DM_OPT_REFUSED] = "refused",
    };
    const struct dm_opt_row *r, *v;
    int mode = -1;
    size_t i, j;

    for (i = 0; argc == 2 && i < 3; i++) {
        if (strcmp(argv[1], modes[i]) == 0) {
            mode = (int)i;
        }
    }
    if (mode < 0) {
        fprintf(stderr, "usage: optdoc implemented|warned|refused\n");
        return 2;
    }
    /* As --help orders them: each option, then the rows of its values. */
    for (i = 0; (r = dm_option_row(i)) && !r->value; i++) {
        print_row(r, mode);
        for (j = 0; (v = dm_option_row(j)); j++) {
            if (v->value && strcmp(v->name, r->name) == 0) {
                print_row(v, mode);
            }
        }
    }
    return 0;
}
