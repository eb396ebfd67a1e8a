/* pool.h — masked pooling over the first n rows of a [max][dim] block; an empty set gives zeros. */
#ifndef HN_K_POOL_H
#define HN_K_POOL_H

static HN_K_UNUSED void hn_k_pool_sum(const float *x, int n, int dim, float *y)
{
    for (int i = 0; i < dim; ++i) y[i] = 0.0f;
    for (int r = 0; r < n; ++r)
        for (int i = 0; i < dim; ++i) y[i] += x[(size_t)r * dim + i];
}

static HN_K_UNUSED void hn_k_pool_mean(const float *x, int n, int dim, float *y)
{
    hn_k_pool_sum(x, n, dim, y);
    if (n > 0)
        for (int i = 0; i < dim; ++i) y[i] /= (float)n;
}

static HN_K_UNUSED void hn_k_pool_max(const float *x, int n, int dim, float *y)
{
    for (int i = 0; i < dim; ++i) y[i] = n > 0 ? x[i] : 0.0f;
    for (int r = 1; r < n; ++r)
        for (int i = 0; i < dim; ++i) {
            float v = x[(size_t)r * dim + i];
            y[i] = v > y[i] ? v : y[i];
        }
}

#endif
