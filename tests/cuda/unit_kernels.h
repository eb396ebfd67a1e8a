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

/* The start of a unit check's main: usage (TEMPLATES_CUDA_DIR), "skipped: no GPU" where none (nor
 * HEPNC_GPU_EMULATE), then the kernels source(dir) opened as `name`. NULL with *rc the exit status (2, 77, 1)
 * when the check cannot run. */
struct hn_gpu;
struct hn_gpu *unit_open(int argc, char **argv, char *(*source)(const char *dir), const char *name, int *rc);

/* Random numbers for the cases: a xorshift64 stream from `seed`, uniform in [lo, hi) with 24 bits. */
void unit_seed(uint64_t seed);
float unit_uniform(float lo, float hi);
void unit_fill(float *p, size_t count, float lo, float hi);

#endif
