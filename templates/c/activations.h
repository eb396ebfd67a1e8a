/* activations.h — elementwise activations, also used as GEMM epilogues. */
#ifndef HN_K_ACTIVATIONS_H
#define HN_K_ACTIVATIONS_H

enum { HN_ACT_NONE = 0, HN_ACT_RELU = 1, HN_ACT_GELU = 2 };

/* max(x, 0) */
static inline HN_K_UNUSED float hn_k_relu(float x) { return x > 0.0f ? x : 0.0f; }

/* x·Φ(x) = 0.5·x·(1 + erf(x/√2)): PyTorch's default (exact) GELU. */
static inline HN_K_UNUSED float hn_k_gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

static inline HN_K_UNUSED float hn_k_activate(float x, int act)
{
    return act == HN_ACT_RELU ? hn_k_relu(x) : act == HN_ACT_GELU ? hn_k_gelu(x) : x;
}

/* y[i] = act(y[i]) for i < count, in place. */
static inline HN_K_UNUSED void hn_k_activate_rows(float *y, size_t count, int act)
{
    if (act == HN_ACT_RELU)
        for (size_t i = 0; i < count; ++i) y[i] = hn_k_relu(y[i]);
    else if (act == HN_ACT_GELU)
        for (size_t i = 0; i < count; ++i) y[i] = hn_k_gelu(y[i]);
}

#endif
