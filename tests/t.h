/*
 * The test runner: tests register themselves with T_TEST(), each runs in a
 * forked child (a crash fails one test, not the run), and the runner ends
 * with "N passed, N failed".
 */
#ifndef TESTS_T_H
#define TESTS_T_H

#include <inttypes.h>
#include <stdint.h>

struct t_case {
    const char *name;
    void (*fn)(void);
    struct t_case *next;
};

void t_register(struct t_case *c);
void t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define T_TEST(fn_)                                                     \
    static void fn_(void);                                              \
    static struct t_case t_case_##fn_ = { #fn_, fn_, 0 };               \
    static void __attribute__((constructor)) t_reg_##fn_(void)          \
    {                                                                   \
        t_register(&t_case_##fn_);                                      \
    }                                                                   \
    static void fn_(void)

#define T_ASSERT(cond)                                                  \
    do {                                                                \
        if (!(cond)) {                                                  \
            t_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);  \
        }                                                               \
    } while (0)

#define T_EQ(a, b)                                                      \
    do {                                                                \
        uint64_t t_a_ = (uint64_t)(a), t_b_ = (uint64_t)(b);            \
        if (t_a_ != t_b_) {                                             \
            t_fail(__FILE__, __LINE__, "%s == %s: 0x%" PRIx64           \
                   " != 0x%" PRIx64, #a, #b, t_a_, t_b_);               \
        }                                                               \
    } while (0)

#endif
