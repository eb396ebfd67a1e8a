/* norm.h — normalisations over the last axis. */
#ifndef HN_K_NORM_H
#define HN_K_NORM_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* PyTorch nn.LayerNorm(dim) over the last axis, per row r < rows:
 *   μ = (1/dim)·Σ_i x[r][i],   σ² = (1/dim)·Σ_i (x[r][i] − μ)²   (biased variance),
 *   y[r][i] = (x[r][i] − μ)/√(σ² + eps)·γ[i] + β[i].
 * Layout: x, y [rows][dim]; gamma, beta [dim]. Two passes (mean, then the variance about it) in float,
 * so no cancellation when |μ| ≫ σ. y may alias x (each row is read fully before it is written, and
 * element i is written after its last read). rows may be 0; dim ≥ 1. */
static HN_K_UNUSED void hn_k_layernorm(const float *x, int rows, int dim, const float *gamma, const float *beta,
                                       float eps, float *y)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        /* HN_K_LANES partial sums in a fixed order: the reductions vectorise and the result does not
           depend on the batch */
        float part[HN_K_LANES] = { 0.0f }, sum = 0.0f;
        int i = 0;
        for (; i + HN_K_LANES <= dim; i += HN_K_LANES)
            for (int l = 0; l < HN_K_LANES; ++l) part[l] += xr[i + l];
        for (; i < dim; ++i) sum += xr[i];
        for (int l = 0; l < HN_K_LANES; ++l) sum += part[l];
        const float mean = sum / (float)dim;
        float sq[HN_K_LANES] = { 0.0f }, ss = 0.0f;
        i = 0;
        for (; i + HN_K_LANES <= dim; i += HN_K_LANES)
            for (int l = 0; l < HN_K_LANES; ++l) {
                float d = xr[i + l] - mean;
                sq[l] += d * d;
            }
        for (; i < dim; ++i) ss += (xr[i] - mean) * (xr[i] - mean);
        for (int l = 0; l < HN_K_LANES; ++l) ss += sq[l];
        const float inv = 1.0f / sqrtf(ss / (float)dim + eps);
        for (i = 0; i < dim; ++i) yr[i] = (xr[i] - mean) * inv * gamma[i] + beta[i];
    }
}

/* PyTorch nn.RMSNorm(dim) over the last axis, per row r < rows:
 *   y[r][i] = x[r][i] / √((1/dim)·Σ_k x[r][k]² + eps) · γ[i]
 * (torch's eps=None is FLT_EPSILON for float32). Layout: x, y [rows][dim]; gamma [dim]. The sum of squares
 * in HN_K_LANES partial sums of a fixed order, as hn_k_layernorm. y may alias x. rows may be 0; dim ≥ 1. */
static HN_K_UNUSED void hn_k_rmsnorm(const float *x, int rows, int dim, const float *gamma, float eps, float *y)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * dim;
        float *yr = y + (size_t)r * dim;
        float sq[HN_K_LANES] = { 0.0f }, ss = 0.0f;
        int i = 0;
        for (; i + HN_K_LANES <= dim; i += HN_K_LANES)
            for (int l = 0; l < HN_K_LANES; ++l) sq[l] += xr[i + l] * xr[i + l];
        for (; i < dim; ++i) ss += xr[i] * xr[i];
        for (int l = 0; l < HN_K_LANES; ++l) ss += sq[l];
        const float inv = 1.0f / sqrtf(ss / (float)dim + eps);
        for (i = 0; i < dim; ++i) yr[i] = xr[i] * inv * gamma[i];
    }
}

/* Eval-mode nn.BatchNorm1d(dim) over the last axis, with the running statistics:
 *   y[r][i] = (x[r][i] − mean[i])·s[i] + beta[i],   s[i] = gamma[i]/√(var[i] + eps).
 * Layout: x, y [rows][dim]; mean, var, gamma, beta [dim]. The scales s are computed once per call for
 * a chunk of up to 64 features at a time (a stack array: no allocation), not once per element. y may
 * alias x (elementwise). rows may be 0. */
static HN_K_UNUSED void hn_k_batchnorm(const float *x, int rows, int dim, const float *mean, const float *var,
                                       const float *gamma, const float *beta, float eps, float *y)
{
    enum { CHUNK = 64 };
    float s[CHUNK];
    if (rows <= 0) return;
    for (int i0 = 0; i0 < dim; i0 += CHUNK) {
        const int n = hn_k_min(CHUNK, dim - i0);
        for (int k = 0; k < n; ++k) s[k] = gamma[i0 + k] / sqrtf(var[i0 + k] + eps);
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0;
            float *yr = y + (size_t)r * dim + i0;
            for (int k = 0; k < n; ++k) yr[k] = (xr[k] - mean[i0 + k]) * s[k] + beta[i0 + k];
        }
    }
}

#endif
