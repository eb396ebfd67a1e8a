/* backward_dropout.h — dropout in training (NAME_train.c). The keep decision of element i of a layer is
 * a pure function of (seed, layer key, i): a SplitMix64 finaliser of their combination, its top 24 bits
 * as a uniform u in [0, 1), kept when u ≥ p. The forward and the backward recompute the same mask, any
 * thread may take any element, and the same seed gives the same masks. */
#ifndef HN_KB_DROPOUT_H
#define HN_KB_DROPOUT_H

#ifndef HN_K_COMMON_H
#include "common.h"
#endif

static inline HN_K_UNUSED int hn_kt_dropout_keep(uint64_t seed, uint64_t key, uint64_t i, float p)
{
    uint64_t z = seed ^ (key * 0x9e3779b97f4a7c15ull) ^ (i * 0xd1342543de82ef95ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f) >= p;
}

/* y = x·mask/(1 − p) over count elements when training, else y = x. y may alias x. As the backward,
 * dx = dy·mask/(1 − p) is the same call on dy. */
static HN_K_UNUSED void hn_kt_dropout(const float *x, size_t count, float p, uint64_t seed, uint64_t key, int training,
                                      float *y)
{
    if (!training || p <= 0.0f) {
        if (y != x) memcpy(y, x, sizeof(float) * count);
        return;
    }
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < count; ++i) y[i] = hn_kt_dropout_keep(seed, key, i, p) ? x[i] * scale : 0.0f;
}

#endif
