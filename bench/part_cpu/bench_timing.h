/* bench_timing.h — timing helpers shared by the benchmark harnesses (bench/part_cpu/harness.c,
 * bench/particlenet_cpu/harness.c): a monotonic clock, median, nearest-rank percentile, checked malloc.
 * Header-only (static functions); needs _POSIX_C_SOURCE >= 199309L for clock_gettime. */
#ifndef HEPNC_BENCH_TIMING_H
#define HEPNC_BENCH_TIMING_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double q) {   /* nearest rank: the ceil(q·n)-th smallest */
    qsort(v, (size_t)n, sizeof *v, cmpd);
    int k = (int)ceil(q * n) - 1;
    return v[k < 0 ? 0 : k];
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "harness: out of memory (%zu bytes)\n", n); exit(1); }
    return p;
}

#endif
