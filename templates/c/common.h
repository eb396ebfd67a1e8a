/* common.h — what every kernel template needs. Pasted first into generated code, then
 * activations.h, linear.h, norm.h, softmax.h, pool.h, elementwise.h, in that order.
 *
 * Contract for every template file: a self-contained C11 fragment of `static` / `static inline`
 * functions prefixed hn_k_, depending only on <math.h>, <stddef.h>, <stdint.h> and <string.h>
 * (included here); no allocation, no globals, no I/O. Tensors are float32, row-major; `rows` is the
 * number of real rows of a call (a jet's real particles, or a batch of events), never the padded
 * extent, and may be 0. */
#ifndef HN_K_COMMON_H
#define HN_K_COMMON_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A generated file may not use every kernel: keep -Wunused-function quiet for the rest. */
#if defined(__GNUC__) || defined(__clang__)
#define HN_K_UNUSED __attribute__((unused))
#else
#define HN_K_UNUSED
#endif

/* Lanes of the partial sums in the dot-product kernels (linear.h). Eight independent accumulators per
 * dot product let the compiler keep them in one 256-bit (or two 128-bit) vector registers without
 * -ffast-math: the lanes are summed in a fixed order, so results are deterministic and the same at
 * every optimisation level. */
#define HN_K_LANES 8

/* min(a, b), max(a, b) for ints (tile and chunk bounds). */
static inline HN_K_UNUSED int hn_k_min(int a, int b) { return a < b ? a : b; }
static inline HN_K_UNUSED int hn_k_max(int a, int b) { return a > b ? a : b; }

/* a > b ? a : b for floats: a plain compare-and-select that vectorises (fmaxf's NaN rules need not). */
static inline HN_K_UNUSED float hn_k_maxf(float a, float b) { return a > b ? a : b; }

#endif
