/*
 * What every benchmark built on the test harness shares: the runner hooks
 * the harness calls (a failure ends the benchmark with a message) and the
 * clock the figures are taken with.
 */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

/* Seconds on CLOCK_MONOTONIC. */
double bench_now_s(void);

#endif
