/* softmax.h — softmax over the last axis. */
#ifndef HN_K_SOFTMAX_H
#define HN_K_SOFTMAX_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* Per row r < rows, with m = max_i x[r][i] (max-subtracted, so exp never overflows and the largest
 * term is exactly 1):
 *   y[r][i] = exp(x[r][i] − m) / Σ_j exp(x[r][j] − m).
 * Layout: x, y [rows][dim]. y may alias x (element i is read before it is written). rows may be 0;
 * dim ≤ 0 does nothing. Entries of −∞ (masked) give 0, as long as one entry of the row is finite. */
static HN_K_UNUSED void hn_k_softmax(const float *x, int rows, int dim, float *y)
{
    if (dim <= 0) return;
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        float m = xr[0];
        for (int i = 1; i < dim; ++i) m = hn_k_maxf(xr[i], m);
        float sum = 0.0f;
        for (int i = 0; i < dim; ++i) {
            float e = expf(xr[i] - m);
            yr[i] = e;
            sum += e;
        }
        const float inv = 1.0f / sum;
        for (int i = 0; i < dim; ++i) yr[i] *= inv;
    }
}

#endif
