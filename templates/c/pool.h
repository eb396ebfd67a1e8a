/* pool.h — masked pooling over a set: the first n (real) rows of a [max][dim] block; the padding rows
 * n..max−1 are never read. An empty set (n ≤ 0) gives zeros for every mode. */
#ifndef HN_K_POOL_H
#define HN_K_POOL_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* y[i] = Σ_{r<n} x[r][i].  Layout: x [≥n][dim], y [dim]; y must not overlap x. Rows are added in order,
 * one vectorisable pass over dim per row. */
static HN_K_UNUSED void hn_k_pool_sum(const float *x, int n, int dim, float *y)
{
    for (int i = 0; i < dim; ++i) y[i] = 0.0f;
    for (int r = 0; r < n; ++r) {
        const float *xr = x + (size_t)r * dim;
        for (int i = 0; i < dim; ++i) y[i] += xr[i];
    }
}

/* y[i] = (1/n)·Σ_{r<n} x[r][i], and 0 when n ≤ 0.  Layout as hn_k_pool_sum. The sum is divided by n
 * (not multiplied by a rounded 1/n). */
static HN_K_UNUSED void hn_k_pool_mean(const float *x, int n, int dim, float *y)
{
    hn_k_pool_sum(x, n, dim, y);
    if (n > 0)
        for (int i = 0; i < dim; ++i) y[i] /= (float)n;
}

/* y[i] = max_{r<n} x[r][i], and 0 when n ≤ 0.  Layout as hn_k_pool_sum. Exact. */
static HN_K_UNUSED void hn_k_pool_max(const float *x, int n, int dim, float *y)
{
    if (n <= 0) {
        for (int i = 0; i < dim; ++i) y[i] = 0.0f;
        return;
    }
    for (int i = 0; i < dim; ++i) y[i] = x[i];
    for (int r = 1; r < n; ++r) {
        const float *xr = x + (size_t)r * dim;
        for (int i = 0; i < dim; ++i) y[i] = hn_k_maxf(xr[i], y[i]);
    }
}

#endif
