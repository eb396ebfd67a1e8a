/* backward_norm.h — gradients of norm.h (LayerNorm, eval-mode BatchNorm) and BatchNorm1d in training
 * mode (its forward with batch statistics and running-stat update, and its backward). Conventions as
 * backward_linear.h: parameter gradients accumulate (+=), dx is written. */
#ifndef HN_KB_NORM_H
#define HN_KB_NORM_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif

/* Backward of PyTorch nn.LayerNorm (hn_k_layernorm), per row, recomputing μ, σ² (biased, two passes as
 * the forward) and inv = 1/√(σ² + eps), x̂ = (x − μ)·inv, g = dy ⊙ γ:
 *   dx[i]     = inv·(g[i] − mean(g) − x̂[i]·mean(g ⊙ x̂))      (written)
 *   dgamma[i] += Σ_rows dy[i]·x̂[i],   dbeta[i] += Σ_rows dy[i]    (accumulated; either may be NULL)
 * Layout: x, dy, dx [rows][dim]; gamma, dgamma, dbeta [dim]. Each row is reduced (reading x and dy)
 * before its dx is written element by element, so dx may alias x or dy. No scratch. Float throughout;
 * error ≈ γ(2·dim + 16)·inv·(|g| + mean|g|·(1 + |x̂| + M)²), M = max|x|·inv (the error of the
 * recomputed mean, large when |μ| ≫ σ). */
static HN_K_UNUSED void hn_kb_layernorm(const float *x, int rows, int dim, const float *gamma, float eps,
                                        const float *dy, float *dx, float *dgamma, float *dbeta)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * dim, *gr = dy + (size_t)r * dim;
        float *dxr = dx + (size_t)r * dim;
        float sum = 0.0f;
        for (int i = 0; i < dim; ++i) sum += xr[i];
        const float mean = sum / (float)dim;
        float ss = 0.0f;
        for (int i = 0; i < dim; ++i) ss += (xr[i] - mean) * (xr[i] - mean);
        const float inv = 1.0f / sqrtf(ss / (float)dim + eps);
        float sg = 0.0f, sgx = 0.0f;
        for (int i = 0; i < dim; ++i) {
            const float xh = (xr[i] - mean) * inv, g = gr[i] * gamma[i];
            sg += g;
            sgx += g * xh;
            if (dgamma) dgamma[i] += gr[i] * xh;
            if (dbeta) dbeta[i] += gr[i];
        }
        const float a = sg / (float)dim, b = sgx / (float)dim;
        for (int i = 0; i < dim; ++i) {
            const float xh = (xr[i] - mean) * inv;
            dxr[i] = inv * (gr[i] * gamma[i] - a - xh * b);
        }
    }
}

/* Backward of eval-mode nn.BatchNorm1d (hn_k_batchnorm), with the running statistics as constants:
 *   dx[r][i] = dy[r][i]·s[i],  s = γ/√(var + eps)                          (written)
 *   dgamma[i] += Σ_r dy[r][i]·(x[r][i] − mean[i])/√(var[i] + eps)          (accumulated; may be NULL)
 *   dbeta[i]  += Σ_r dy[r][i]                                               (accumulated; may be NULL)
 * Layout: x, dy, dx [rows][dim]; the rest [dim]. Features in chunks of 64 (stack arrays); the sums over
 * rows run in double and are added to dgamma/dbeta once. dx may alias x or dy (elementwise). Error:
 * γ(4)·|dy·s| for dx, γ(8)·(|dgamma| + Σ|dy·x̂|) for dgamma. */
static HN_K_UNUSED void hn_kb_batchnorm(const float *x, int rows, int dim, const float *mean, const float *var,
                                        const float *gamma, float eps, const float *dy, float *dx, float *dgamma,
                                        float *dbeta)
{
    enum { CHUNK = 64 };
    float s[CHUNK], is[CHUNK];
    double sg[CHUNK], sgx[CHUNK];
    if (rows <= 0) return;
    for (int i0 = 0; i0 < dim; i0 += CHUNK) {
        const int n = hn_k_min(CHUNK, dim - i0);
        for (int k = 0; k < n; ++k) {
            is[k] = 1.0f / sqrtf(var[i0 + k] + eps);
            s[k] = gamma[i0 + k] / sqrtf(var[i0 + k] + eps);
            sg[k] = sgx[k] = 0.0;
        }
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0, *gr = dy + (size_t)r * dim + i0;
            float *dxr = dx + (size_t)r * dim + i0;
            for (int k = 0; k < n; ++k) {
                const float g = gr[k], xh = (xr[k] - mean[i0 + k]) * is[k];
                sg[k] += g;
                sgx[k] += (double)(g * xh);
                dxr[k] = g * s[k];
            }
        }
        for (int k = 0; k < n; ++k) {
            if (dgamma) dgamma[i0 + k] += (float)sgx[k];
            if (dbeta) dbeta[i0 + k] += (float)sg[k];
        }
    }
}

/* Training-mode nn.BatchNorm1d over the last axis with batch statistics over all `rows` rows (the
 * batch, or batch × particles for a set: the rows PyTorch reduces over):
 *   μ_B[i] = mean_r x[r][i],  σ²_B[i] = mean_r (x[r][i] − μ_B[i])²  (biased, two passes, in double),
 *   y[r][i] = (x[r][i] − μ_B[i])/√(σ²_B[i] + eps)·γ[i] + β[i].
 * batch_mean, batch_var [dim] receive μ_B, σ²_B (the backward needs them). When running_mean and
 * running_var are not NULL they are updated with PyTorch's momentum convention
 *   running_mean = (1 − m)·running_mean + m·μ_B,   running_var = (1 − m)·running_var + m·σ²_B·rows/(rows − 1)
 * (the UNBIASED batch variance), only when rows ≥ 2 (PyTorch refuses a batch of one value per channel;
 * here rows = 1 gives y = β, σ²_B = 0 and leaves the running statistics untouched). rows ≤ 0 does
 * nothing. Layout: x, y [rows][dim]; the rest [dim]. y may alias x. Chunks of 64 features (stack
 * arrays); y itself in float from the rounded μ_B and 1/√(σ²_B + eps). */
static HN_K_UNUSED void hn_kb_batchnorm_train(const float *x, int rows, int dim, const float *gamma, const float *beta,
                                              float eps, float momentum, float *running_mean, float *running_var,
                                              float *batch_mean, float *batch_var, float *y)
{
    enum { CHUNK = 64 };
    double sum[CHUNK], ss[CHUNK];
    float mu[CHUNK], sc[CHUNK];
    if (rows <= 0) return;
    for (int i0 = 0; i0 < dim; i0 += CHUNK) {
        const int n = hn_k_min(CHUNK, dim - i0);
        for (int k = 0; k < n; ++k) sum[k] = ss[k] = 0.0;
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0;
            for (int k = 0; k < n; ++k) sum[k] += xr[k];
        }
        for (int k = 0; k < n; ++k) sum[k] /= rows;                 /* now the mean, in double */
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0;
            for (int k = 0; k < n; ++k) {
                const double d = xr[k] - sum[k];
                ss[k] += d * d;
            }
        }
        for (int k = 0; k < n; ++k) {
            const double var = ss[k] / rows;
            mu[k] = (float)sum[k];
            batch_mean[i0 + k] = mu[k];
            batch_var[i0 + k] = (float)var;
            sc[k] = (float)(1.0 / sqrt((double)batch_var[i0 + k] + (double)eps));   /* as the backward */
            if (running_mean && running_var && rows >= 2) {
                running_mean[i0 + k] = (float)((1.0 - momentum) * running_mean[i0 + k] + momentum * sum[k]);
                running_var[i0 + k] =
                    (float)((1.0 - momentum) * running_var[i0 + k] + momentum * (ss[k] / (rows - 1)));
            }
        }
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0;
            float *yr = y + (size_t)r * dim + i0;
            for (int k = 0; k < n; ++k) yr[k] = (xr[k] - mu[k]) * sc[k] * gamma[i0 + k] + beta[i0 + k];
        }
    }
}

/* Backward of hn_kb_batchnorm_train (μ_B, σ²_B depend on every row), with x̂ = (x − μ_B)·inv,
 * inv = 1/√(σ²_B + eps), N = rows:
 *   dx[r][i]   = γ[i]·inv[i]·(dy[r][i] − (1/N)·Σ_r dy − x̂[r][i]·(1/N)·Σ_r dy·x̂)     (written)
 *   dgamma[i] += Σ_r dy·x̂,   dbeta[i] += Σ_r dy                         (accumulated; may be NULL)
 * batch_mean, batch_var are the forward's outputs. Layout as the forward; chunks of 64 features, the sums
 * over rows in double, then dx in float. dx may alias x or dy (the sums are taken in a pass before dx is
 * written, elementwise). rows ≤ 0 does nothing. */
static HN_K_UNUSED void hn_kb_batchnorm_train_backward(const float *x, int rows, int dim, const float *gamma,
                                                       float eps, const float *batch_mean, const float *batch_var,
                                                       const float *dy, float *dx, float *dgamma, float *dbeta)
{
    enum { CHUNK = 64 };
    double sg[CHUNK], sgx[CHUNK];
    float inv[CHUNK], a[CHUNK], b[CHUNK], k_[CHUNK];
    if (rows <= 0) return;
    for (int i0 = 0; i0 < dim; i0 += CHUNK) {
        const int n = hn_k_min(CHUNK, dim - i0);
        for (int k = 0; k < n; ++k) {
            inv[k] = (float)(1.0 / sqrt((double)batch_var[i0 + k] + (double)eps));
            sg[k] = sgx[k] = 0.0;
        }
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0, *gr = dy + (size_t)r * dim + i0;
            for (int k = 0; k < n; ++k) {
                const float xh = (xr[k] - batch_mean[i0 + k]) * inv[k];
                sg[k] += gr[k];
                sgx[k] += (double)(gr[k] * xh);
            }
        }
        for (int k = 0; k < n; ++k) {
            a[k] = (float)(sg[k] / rows);
            b[k] = (float)(sgx[k] / rows);
            k_[k] = gamma[i0 + k] * inv[k];
            if (dgamma) dgamma[i0 + k] += (float)sgx[k];
            if (dbeta) dbeta[i0 + k] += (float)sg[k];
        }
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0, *gr = dy + (size_t)r * dim + i0;
            float *dxr = dx + (size_t)r * dim + i0;
            for (int k = 0; k < n; ++k) {
                const float xh = (xr[k] - batch_mean[i0 + k]) * inv[k];
                dxr[k] = k_[k] * (gr[k] - a[k] - xh * b[k]);
            }
        }
    }
}

#endif
