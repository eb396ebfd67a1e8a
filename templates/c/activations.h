/* activations.h — elementwise activations, also applied as epilogues of linear (linear.h). */
#ifndef HN_K_ACTIVATIONS_H
#define HN_K_ACTIVATIONS_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* Activation codes, as the compiler's IR numbers them (node->act). */
enum { HN_ACT_NONE = 0, HN_ACT_RELU = 1, HN_ACT_GELU = 2 };

/* relu(x) = max(x, 0).  Exact. */
static inline HN_K_UNUSED float hn_k_relu(float x) { return x > 0.0f ? x : 0.0f; }

/* gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)): PyTorch's default (exact, approximate='none') GELU.
 * Evaluated as 0.5·x·erfc(−x/√2), the same function: for x ≪ 0 the form 1 + erf(·) cancels (at
 * x = −5 it keeps one significant digit), erfc(·) does not, so the result is within a few float ulps
 * relative everywhere (tested against double erf, tests/unit/test_kernels.c). */
static inline HN_K_UNUSED float hn_k_gelu(float x) { return 0.5f * x * erfcf(-0.70710678118654752f * x); }

/* act(x) for an HN_ACT_* code; unknown codes are the identity. */
static inline HN_K_UNUSED float hn_k_activate(float x, int act)
{
    return act == HN_ACT_RELU ? hn_k_relu(x) : act == HN_ACT_GELU ? hn_k_gelu(x) : x;
}

/* y[i] = act(y[i]) for i < count, in place over a contiguous block (count = rows·dim). The branch on
 * act is hoisted so each loop is a straight map. */
static inline HN_K_UNUSED void hn_k_activate_rows(float *y, size_t count, int act)
{
    if (act == HN_ACT_RELU)
        for (size_t i = 0; i < count; ++i) y[i] = hn_k_relu(y[i]);
    else if (act == HN_ACT_GELU)
        for (size_t i = 0; i < count; ++i) y[i] = hn_k_gelu(y[i]);
}

#endif
