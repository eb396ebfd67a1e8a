/* norm.h — normalisations over the last axis. y may alias x. */
#ifndef HN_K_NORM_H
#define HN_K_NORM_H

/* PyTorch LayerNorm: (x − mean)/√(var + eps)·γ + β with the biased variance; two passes. */
static HN_K_UNUSED void hn_k_layernorm(const float *x, int rows, int dim, const float *gamma, const float *beta,
                                       float eps, float *y)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        float mean = 0.0f;
        for (int i = 0; i < dim; ++i) mean += xr[i];
        mean /= (float)dim;
        float var = 0.0f;
        for (int i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
        var /= (float)dim;
        float inv = 1.0f / sqrtf(var + eps);
        for (int i = 0; i < dim; ++i) yr[i] = (xr[i] - mean) * inv * gamma[i] + beta[i];
    }
}

/* Eval-mode BatchNorm1d over the last axis: (x − μ)/√(σ² + eps)·γ + β with the running statistics. */
static HN_K_UNUSED void hn_k_batchnorm(const float *x, int rows, int dim, const float *mean, const float *var,
                                       const float *gamma, const float *beta, float eps, float *y)
{
    for (int r = 0; r < rows; ++r)
        for (int i = 0; i < dim; ++i) {
            size_t k = (size_t)r * dim + i;
            y[k] = (x[k] - mean[i]) / sqrtf(var[i] + eps) * gamma[i] + beta[i];
        }
}

#endif
