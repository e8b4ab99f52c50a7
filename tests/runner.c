/*
 * The test runner. Tests register through T_TEST(); every file in
 * tests/replay/ is a test too. Each test runs in a forked child with a time
 * limit, so a crash or a hang fails that test only. The last line is
 * "N passed, N failed".
 *
 *   run-tests [-v] [-l] [SUBSTRING...]
 */
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dm/log.h"
#include "tests/harness.h"
#include "tests/t.h"

#define T_TIME_LIMIT_S 120

static struct t_case *t_cases;
static const char *t_replay_path;

void
t_register(struct t_case *c)
{
    c->next = t_cases;
    t_cases = c;
}

void
t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

static void
t_replay_case(void)
{
    struct t_opts opts = { 0 };
    struct t_machine *t = t_machine_new(&opts);
    char err[512];

    if (t_replay_file(t, t_replay_path, err, sizeof(err)) < 0) {
        t_fail(t_replay_path, 0, "%s", err);
    }
    t_machine_free(t);
}

static int
case_cmp(const void *a, const void *b)
{
    const struct t_case *x = *(struct t_case *const *)a;
    const struct t_case *y = *(struct t_case *const *)b;

    return strcmp(x->name, y->name);
}

static gint
path_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Registered tests sorted by name, then the replay files. */
static GPtrArray *
collect_cases(const char *replay_dir)
{
    GPtrArray *all = g_ptr_array_new();
    struct t_case *c;
    GDir *dir;
    const char *name;
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);

    for (c = t_cases; c; c = c->next) {
        g_ptr_array_add(all, c);
    }
    qsort(all->pdata, all->len, sizeof(void *), case_cmp);
    dir = g_dir_open(replay_dir, 0, NULL);
    while (dir && (name = g_dir_read_name(dir))) {
        if (g_str_has_suffix(name, ".replay")) {
            g_ptr_array_add(files, g_build_filename(replay_dir, name, NULL));
        }
    }
    if (dir) {
        g_dir_close(dir);
    }
    g_ptr_array_sort(files, path_cmp);
    for (guint i = 0; i < files->len; i++) {
        struct t_case *rc = g_new0(struct t_case, 1);

        rc->name = g_strdup(g_ptr_array_index(files, i));
        rc->fn = t_replay_case;
        g_ptr_array_add(all, rc);
    }
    g_ptr_array_free(files, TRUE);
    return all;
}

static bool
selected(const struct t_case *c, int argc, char **argv)
{
    int i;

    if (argc == 0) {
        return true;
    }
    for (i = 0; i < argc; i++) {
        if (strstr(c->name, argv[i])) {
            return true;
        }
    }
    return false;
}

static bool
run_case(const struct t_case *c, bool verbose)
{
    struct timespec t0, t1;
    pid_t pid;
    int status = 0;
    double ms;

    fflush(stdout);
    fflush(stderr);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid == 0) {
        alarm(T_TIME_LIMIT_S);
        dm_log_set_quiet(!verbose);
        t_replay_path = c->name;
        c->fn();
        exit(0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        fprintf(stderr, "fork/wait: %s\n", strerror(errno));
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
         (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok   %-50s %8.1f ms\n", c->name, ms);
        return true;
    }
    if (WIFSIGNALED(status)) {
        printf("FAIL %-50s (signal %d%s)\n", c->name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? ": time limit" : "");
    } else {
        printf("FAIL %-50s (exit %d)\n", c->name, WEXITSTATUS(status));
    }
    return false;
}

int
main(int argc, char **argv)
{
    const char *srcdir = getenv("HVMDM_SRCDIR");
    g_autofree char *replay_dir = NULL;
    bool verbose = false, list = false;
    unsigned int passed = 0, failed = 0;
    GPtrArray *cases;
    int opt;

    while ((opt = getopt(argc, argv, "vl")) != -1) {
        if (opt == 'v') {
            verbose = true;
        } else if (opt == 'l') {
            list = true;
        } else {
            fprintf(stderr, "usage: %s [-v] [-l] [SUBSTRING...]\n", argv[0]);
            return 2;
        }
    }
    replay_dir = g_build_filename(srcdir ? srcdir : ".", "tests", "replay",
                                  NULL);
    cases = collect_cases(replay_dir);
    for (guint i = 0; i < cases->len; i++) {
        const struct t_case *c = g_ptr_array_index(cases, i);

        if (!selected(c, argc - optind, argv + optind)) {
            continue;
        }
        if (list) {
            printf("%s\n", c->name);
        } else if (run_case(c, verbose)) {
            passed++;
        } else {
            failed++;
        }
    }
    for (guint i = 0; i < cases->len; i++) {
        struct t_case *c = g_ptr_array_index(cases, i);

        if (c->fn == t_replay_case) {
            g_free((char *)c->name);
            g_free(c);
        }
    }
    g_ptr_array_free(cases, TRUE);
    if (list) {
        return 0;
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
