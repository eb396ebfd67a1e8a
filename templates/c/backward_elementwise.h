/* backward_elementwise.h — gradients of elementwise.h: add, column copies (concat, slices), gathers,
 * the scaled residual, standardisation; and the fan-out sum. Conventions as backward_linear.h. */
#ifndef HN_KB_ELEMENTWISE_H
#define HN_KB_ELEMENTWISE_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* acc[k] += g[k] for k < count: the gradient of a tensor read by several nodes is the sum of what each
 * returns. acc may alias g only trivially (doubling); normally distinct. One rounding per element. */
static HN_K_UNUSED void hn_kb_accumulate(const float *g, size_t count, float *acc)
{
    for (size_t k = 0; k < count; ++k) acc[k] += g[k];
}

/* y = a + b (hn_k_add):  da = dy, db = dy (written; either may be NULL, or be dy itself, which is then
 * left as it is). count = rows·dim. Exact. When a and b are the same tensor its gradient is 2·dy: the
 * caller accumulates (hn_kb_accumulate). */
static HN_K_UNUSED void hn_kb_add(const float *dy, size_t count, float *da, float *db)
{
    if (da && da != dy && count) memcpy(da, dy, sizeof(float) * count);
    if (db && db != dy && count) memcpy(db, dy, sizeof(float) * count);
}

/* Backward of hn_k_copy_cols(x, rows, in_stride, col0, ncols, y, out_stride, out_col0) (concat, slice):
 *   dx[r][col0 + c] (=, or += when accumulate) dy[r][out_col0 + c]    for r < rows, c < ncols.
 * The argument order mirrors the forward's with the roles swapped: dy is read with out_stride at
 * out_col0, dx written with in_stride at col0; other columns of dx are untouched (a slice's gradient:
 * clear dx once, or accumulate the slices that cover it). dx and dy must not overlap. Exact. */
static HN_K_UNUSED void hn_kb_copy_cols(const float *dy, int rows, int out_stride, int out_col0, int ncols, float *dx,
                                        int in_stride, int col0, int accumulate)
{
    if (ncols <= 0) return;
    for (int r = 0; r < rows; ++r) {
        const float *g = dy + (size_t)r * out_stride + out_col0;
        float *d = dx + (size_t)r * in_stride + col0;
        if (accumulate)
            for (int c = 0; c < ncols; ++c) d[c] += g[c];
        else
            memcpy(d, g, sizeof(float) * (size_t)ncols);
    }
}

/* Backward of hn_k_gather_cols(x, rows, in_stride, cols, ncols, y, out_stride), y[r][c] = x[r][cols[c]]:
 *   dx[r][cols[c]] += dy[r][c]   (a scatter-add: repeated columns sum their gradients, in order of c)
 * With accumulate = 0 the first in_stride entries of each dx row (the whole row of x: every column a
 * gather may read) are cleared first, so unread columns get 0; with accumulate = 1 they are only added
 * to. dx [rows][in_stride], dy [rows][out_stride], not overlapping. Error γ(repeats)·Σ|terms|
 * (exact without repeats). */
static HN_K_UNUSED void hn_kb_gather_cols(const float *dy, int rows, int out_stride, const int *cols, int ncols,
                                          float *dx, int in_stride, int accumulate)
{
    for (int r = 0; r < rows; ++r) {
        const float *g = dy + (size_t)r * out_stride;
        float *d = dx + (size_t)r * in_stride;
        if (!accumulate && in_stride > 0) memset(d, 0, sizeof(float) * (size_t)in_stride);
        for (int c = 0; c < ncols; ++c) d[cols[c]] += g[c];
    }
}

/* Backward of hn_k_scaled_add in the residual's naming, y = x + s ⊙ r (ParT's X2 = Z + w_resid ⊙ R):
 *   dx = dy            (written; NULL: not needed; dx == dy: nothing to copy)
 *   dr = s ⊙ dy        (written; may be NULL)
 *   ds[i] += Σ_rows dy[·][i]·r[·][i]    (accumulated; may be NULL)
 * Layout: r, dy, dx, dr [rows][dim]; s, ds [dim]. Elementwise (each element's r and dy are read before
 * dx, dr are written), so dx and dr may each alias dy or r, but not each other. Error: dr one rounding,
 * ds γ(rows + 1)·(|ds| + Σ|dy·r|). */
static HN_K_UNUSED void hn_kb_scaled_add(const float *r, int rows, int dim, const float *s, const float *dy, float *dx,
                                         float *dr, float *ds)
{
    for (int q = 0; q < rows; ++q)
        for (int i = 0; i < dim; ++i) {
            const size_t k = (size_t)q * dim + i;
            const float g = dy[k], v = r[k];
            if (ds) ds[i] += g * v;
            if (dx) dx[k] = g;
            if (dr) dr[k] = s[i] * g;
        }
}

/* Backward of hn_k_standardize, y = clamp((x − c)·s, lo, hi):
 *   dx = dy·s where lo ≤ (x − c)·s ≤ hi (the forward's float value, bounds included: PyTorch's clamp
 *   passes the gradient at equality), 0 where it was clamped.        (written)
 * c, s, lo, hi are constants (no gradients). x, dy, dx [rows][dim]; dx may alias x or dy. Exact up to
 * the one rounding of dy·s. */
static HN_K_UNUSED void hn_kb_standardize(const float *x, int rows, int dim, const float *c, const float *s,
                                          const float *lo, const float *hi, const float *dy, float *dx)
{
    for (int q = 0; q < rows; ++q)
        for (int f = 0; f < dim; ++f) {
            const size_t k = (size_t)q * dim + f;
            const float v = (x[k] - c[f]) * s[f];
            dx[k] = v >= lo[f] && v <= hi[f] ? dy[k] * s[f] : 0.0f;
        }
}

#endif
