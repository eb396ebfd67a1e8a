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

/* exp(x) without errno or a library call, so loops over it vectorise: x = k·ln2 + r, |r| ≤ ln2/2,
 * exp(r) by Cephes' degree-6 polynomial (≤ 1 ulp on [−ln2/2, ln2/2]), 2^k built in the exponent bits.
 * Branch-free: the input is clamped to [−87.3, 88.7] (results below 2^−126 are not produced:
 * denormals flush to about 1e-38, which no network output can tell apart from 0). */
static inline HN_K_UNUSED float hn_k_expf(float x)
{
    x = x < -87.3f ? -87.3f : x > 88.7f ? 88.7f : x;
    float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;   /* round to nearest, no call */
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;            /* ln 2 in two parts */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } scale = { ((int32_t)k + 127) << 23 };     /* 2^k */
    return p * scale.f;
}

/* erfc(z) for z ≥ 0 as t·exp(−z² + P(t)), t = 1/(1 + z/2): the Chebyshev fit of Numerical Recipes
 * (§6.2, erfcc), fractional error < 1.2e-7 in exact arithmetic, about 4e-7 evaluated in float.
 * Arithmetic only, so GELU loops vectorise (libm's erfcf is a call per element). */
static inline HN_K_UNUSED float hn_k_erfc_pos(float z)
{
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    return t * hn_k_expf(-z * z + p);
}

/* gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)): PyTorch's default (exact, approximate='none') GELU,
 * evaluated as 0.5·x·erfc(−x/√2), the same function without the cancellation of 1 + erf(·) for x ≪ 0
 * (erfc(−z) = 2 − erfc(z) for x > 0). Relative error ≤ ~5e-7, against PyTorch's erf-based float32. */
static inline HN_K_UNUSED float hn_k_gelu(float x)
{
    float z = -0.70710678118654752f * x;
    float e = hn_k_erfc_pos(fabsf(z));
    float erfc = z < 0.0f ? 2.0f - e : e;      /* both sides computed: a blend, so loops vectorise */
    return 0.5f * x * erfc;
}

/* σ(x) = 1 / (1 + e^(−x)) with the vectorisable exp above: ≤ 3 ulp from the exact value (the exp's ulp and
 * two roundings), saturating to 0 and 1 beyond |x| ≈ 87 as torch.sigmoid does. */
static inline HN_K_UNUSED float hn_k_sigmoid(float x) { return 1.0f / (1.0f + hn_k_expf(-x)); }

/* tanh(x): for |x| ≥ 1/8, 1 − 2/(e^(2|x|) + 1) with the sign put back (absolute error ≤ ~2e-7); below,
 * the odd Taylor series to x⁷ (truncation < 3e-10, no cancellation near 0). Both sides computed, one
 * selected, so loops over it vectorise. */
static inline HN_K_UNUSED float hn_k_tanh(float x)
{
    float a = fabsf(x), x2 = x * x;
    float small = x * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * -0.0539682540f)));
    float big = 1.0f - 2.0f / (hn_k_expf(2.0f * a) + 1.0f);
    big = x < 0.0f ? -big : big;
    return a < 0.125f ? small : big;
}

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
