/* unit_kernels.h — what the unit checks of the GPU training kernels share (tests/cuda/test_train_*.c): the
 * ok/FAIL lines and their counts, and the kernel source read from templates/cuda as a generated .cu holds it. */
#ifndef HN_TEST_UNIT_KERNELS_H
#define HN_TEST_UNIT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

extern int failures, checks;

/* Prints "ok  …" or "FAIL …" and counts it. */
void report(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The files `parts` (n of them) of the templates/cuda directory `dir`, concatenated in order, each followed
 * by a newline; NULL (and a message) when one cannot be read. The caller frees it. */
char *unit_kernel_source(const char *dir, const char *const *parts, size_t n);

/* Random numbers for the cases: a xorshift64 stream from `seed`, uniform in [lo, hi) with 24 bits. */
void unit_seed(uint64_t seed);
float unit_uniform(float lo, float hi);
void unit_fill(float *p, size_t count, float lo, float hi);

#endif
