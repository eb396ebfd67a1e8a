/* elementwise.h — sums, column-range copies (concat, slices), gathers, zeroing. All exact. */
#ifndef HN_K_ELEMENTWISE_H
#define HN_K_ELEMENTWISE_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* y[k] = a[k] + b[k] for k < count (count = rows·dim of contiguous blocks). y may alias a and/or b. */
static HN_K_UNUSED void hn_k_add(const float *a, const float *b, size_t count, float *y)
{
    for (size_t k = 0; k < count; ++k) y[k] = a[k] + b[k];
}

/* y[r][out_col0 + c] = x[r][col0 + c]   for r < rows, c < ncols.
 * Layout: x rows of in_stride floats, y rows of out_stride floats (row-major). Concat writes each input
 * at its column offset (out_col0) of a wider y; a slice reads a column range (col0) of a wider x.
 * x and y may be the same buffer when out_stride ≤ in_stride and out_col0 ≤ col0 (in-place compaction:
 * rows are moved in increasing order with memmove, so no source is overwritten before it is read);
 * otherwise they must not overlap. */
static HN_K_UNUSED void hn_k_copy_cols(const float *x, int rows, int in_stride, int col0, int ncols, float *y,
                                       int out_stride, int out_col0)
{
    if (ncols <= 0) return;
    for (int r = 0; r < rows; ++r)
        memmove(y + (size_t)r * out_stride + out_col0, x + (size_t)r * in_stride + col0,
                sizeof(float) * (size_t)ncols);
}

/* y[r][c] = x[r][cols[c]]   for r < rows, c < ncols (any column order, repeats allowed).
 * Layout: x rows of in_stride floats, y rows of out_stride floats, cols [ncols] with
 * 0 ≤ cols[c] < in_stride. x and y must not overlap. */
static HN_K_UNUSED void hn_k_gather_cols(const float *x, int rows, int in_stride, const int *cols, int ncols,
                                         float *y, int out_stride)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * in_stride;
        float *yr = y + (size_t)r * out_stride;
        for (int c = 0; c < ncols; ++c) yr[c] = xr[cols[c]];
    }
}

/* y[r][i] = a[r][i] + s[i]·x[r][i]: a residual connection with a learnt per-channel scale (ParT's
 * w_resid). rows may be 0; y may alias a or x. */
static HN_K_UNUSED void hn_k_scaled_add(const float *a, const float *x, int rows, int dim, const float *s, float *y)
{
    for (int r = 0; r < rows; ++r)
        for (int i = 0; i < dim; ++i) {
            size_t k = (size_t)r * dim + i;
            y[k] = a[k] + s[i] * x[k];
        }
}

/* y[r][f] = min(max((x[r][f] − c[f])·s[f], lo[f]), hi[f]): weaver's manual standardisation (c = 0,
 * s = 1, lo = −inf, hi = +inf leave a feature untouched). y may alias x. */
static HN_K_UNUSED void hn_k_standardize(const float *x, int rows, int dim, const float *c, const float *s,
                                         const float *lo, const float *hi, float *y)
{
    for (int r = 0; r < rows; ++r)
        for (int f = 0; f < dim; ++f) {
            size_t k = (size_t)r * dim + f;
            float v = (x[k] - c[f]) * s[f];
            y[k] = v < lo[f] ? lo[f] : v > hi[f] ? hi[f] : v;
        }
}

/* y[k] = +0.0f for k < count. */
static HN_K_UNUSED void hn_k_zero(float *y, size_t count)
{
    if (count) memset(y, 0, sizeof(float) * count);
}

#endif
