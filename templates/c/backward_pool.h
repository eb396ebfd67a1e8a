/* backward_pool.h — gradients of pool.h's masked pools over the first n (real) rows of a [max][dim]
 * block. dx is written for rows r < n only; the padding rows n..max−1 are never touched (their gradient
 * is zero by construction; a caller that needs them zero clears them once). An empty set (n ≤ 0)
 * writes nothing. Conventions as backward_linear.h. */
#ifndef HN_KB_POOL_H
#define HN_KB_POOL_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* y = Σ_{r<n} x[r]:  dx[r][i] = dy[i].  dy [dim], dx [≥n][dim], not overlapping. Exact. */
static HN_K_UNUSED void hn_kb_pool_sum(const float *dy, int n, int dim, float *dx)
{
    for (int r = 0; r < n; ++r) memcpy(dx + (size_t)r * dim, dy, sizeof(float) * (size_t)(dim > 0 ? dim : 0));
}

/* y = (1/n)·Σ_{r<n} x[r]:  dx[r][i] = dy[i]/n (one correctly rounded division, as the forward divides).
 * n ≤ 0: the forward's output is the constant 0, the gradient is zero and there are no rows to write.
 * dy [dim], dx [≥n][dim], not overlapping. */
static HN_K_UNUSED void hn_kb_pool_mean(const float *dy, int n, int dim, float *dx)
{
    for (int r = 0; r < n; ++r) {
        float *dxr = dx + (size_t)r * dim;
        for (int i = 0; i < dim; ++i) dxr[i] = dy[i] / (float)n;
    }
}

/* y[i] = max_{r<n} x[r][i]:  dx[r][i] = dy[i] for r = the FIRST row attaining the maximum (the lowest
 * index among ties: the row hn_k_pool_max returns, and the index torch.max(x, dim) reports on CPU, to
 * which PyTorch sends the gradient), 0 for every other real row. (torch.amax would instead split dy
 * evenly among tied rows: not this.) NaN-free x assumed. Features in chunks of 64 (stack arrays of the
 * running maximum and its row): a chunk's columns of x are all read before they are written, so dx may
 * alias x; dx must not overlap dy. Exact. */
static HN_K_UNUSED void hn_kb_pool_max(const float *x, int n, int dim, const float *dy, float *dx)
{
    enum { CHUNK = 64 };
    float best[CHUNK];
    int arg[CHUNK];
    if (n <= 0) return;
    for (int i0 = 0; i0 < dim; i0 += CHUNK) {
        const int c = hn_k_min(CHUNK, dim - i0);
        for (int k = 0; k < c; ++k) {
            best[k] = x[i0 + k];
            arg[k] = 0;
        }
        for (int r = 1; r < n; ++r) {
            const float *xr = x + (size_t)r * dim + i0;
            for (int k = 0; k < c; ++k)
                if (xr[k] > best[k]) {        /* strictly greater: ties keep the first row */
                    best[k] = xr[k];
                    arg[k] = r;
                }
        }
        for (int r = 0; r < n; ++r) {
            float *dxr = dx + (size_t)r * dim + i0;
            for (int k = 0; k < c; ++k) dxr[k] = r == arg[k] ? dy[i0 + k] : 0.0f;
        }
    }
}

#endif
