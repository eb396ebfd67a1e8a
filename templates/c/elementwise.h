/* elementwise.h — sums, copies of column ranges (concat, slices), gathers. */
#ifndef HN_K_ELEMENTWISE_H
#define HN_K_ELEMENTWISE_H

static HN_K_UNUSED void hn_k_add(const float *a, const float *b, size_t count, float *y)
{
    for (size_t i = 0; i < count; ++i) y[i] = a[i] + b[i];
}

/* y[r][out_col0 + c] = x[r][col0 + c] for c < ncols. */
static HN_K_UNUSED void hn_k_copy_cols(const float *x, int rows, int in_stride, int col0, int ncols, float *y,
                                       int out_stride, int out_col0)
{
    for (int r = 0; r < rows; ++r)
        memcpy(y + (size_t)r * out_stride + out_col0, x + (size_t)r * in_stride + col0, sizeof(float) * (size_t)ncols);
}

/* y[r][c] = x[r][cols[c]]. */
static HN_K_UNUSED void hn_k_gather_cols(const float *x, int rows, int in_stride, const int *cols, int ncols,
                                         float *y, int out_stride)
{
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < ncols; ++c) y[(size_t)r * out_stride + c] = x[(size_t)r * in_stride + cols[c]];
}

static HN_K_UNUSED void hn_k_zero(float *y, size_t count)
{
    for (size_t i = 0; i < count; ++i) y[i] = 0.0f;
}

#endif
