/* backward_linear.h — gradients of linear.h and activations.h (training).
 *
 * Conventions of every backward_*.h: static functions prefixed hn_kb_, float32, row-major, `rows` the
 * real rows of a call (may be 0); gradients of parameters ACCUMULATE (dW += …, so a caller can sum
 * over the events or chunks of a batch after zeroing them once); gradients of activations are
 * WRITTEN (dx = …) unless a function says otherwise. No allocation: scratch is the caller's or a fixed
 * stack array. Aliasing is allowed only where stated (tests/unit/test_backward.c checks each allowed
 * alias gives bit-identical results). */
#ifndef HN_KB_LINEAR_H
#define HN_KB_LINEAR_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif
#ifndef HN_K_ACTIVATIONS_H
#include "activations.h"
#endif
#ifndef HN_K_LINEAR_H
#include "linear.h"
#endif

/* relu'(x)·dy in place: dy[k] = xy[k] > 0 ? dy[k] : 0 for k < count. xy is either the pre-activation
 * x or the output y = relu(x) (x > 0 ⇔ y > 0); the derivative at 0 is taken as 0, as PyTorch's
 * threshold_backward. Exact. */
static HN_K_UNUSED void hn_kb_relu(const float *xy, size_t count, float *dy)
{
    for (size_t k = 0; k < count; ++k) dy[k] = xy[k] > 0.0f ? dy[k] : 0.0f;
}

/* gelu'(x) = d/dx ½·x·(1 + erf(x/√2)) = Φ(x) + x·φ(x), Φ the normal CDF (as ½·erfc(−x/√2), no
 * cancellation in the left tail), φ(x) = exp(−x²/2)/√(2π). Both factors use the vectorisable
 * hn_k_erfc_pos / hn_k_expf of activations.h. Relative error ≲ 1e-6 of Φ(x) + |x|·φ(x) (the function
 * crosses 0 at x ≈ −0.7518, where only that absolute bound holds); below x ≈ −13 φ flushes to ~1e-38. */
static inline HN_K_UNUSED float hn_kb_gelu_grad(float x)
{
    float z = -0.70710678118654752f * x;
    float e = hn_k_erfc_pos(fabsf(z));
    float cdf = 0.5f * (z < 0.0f ? 2.0f - e : e);
    float pdf = 0.39894228040143268f * hn_k_expf(-0.5f * x * x);
    return cdf + x * pdf;
}

/* dy[k] *= gelu'(x[k]) for k < count, x the pre-activation (exact-erf GELU, PyTorch's default). */
static HN_K_UNUSED void hn_kb_gelu(const float *x, size_t count, float *dy)
{
    for (size_t k = 0; k < count; ++k) dy[k] *= hn_kb_gelu_grad(x[k]);
}

/* dy ⊙= act'(x) in place for an HN_ACT_* code, x the pre-activation (for relu, y also works);
 * HN_ACT_NONE and unknown codes leave dy unchanged. */
static HN_K_UNUSED void hn_kb_activation(const float *x, size_t count, int act, float *dy)
{
    if (act == HN_ACT_RELU) hn_kb_relu(x, count, dy);
    else if (act == HN_ACT_GELU) hn_kb_gelu(x, count, dy);
}

/* Backward of y = x·Wᵀ + b (hn_k_linear without its activation; apply hn_kb_activation to dy first
 * when the activation was fused):
 *   dx[r][i]  = Σ_o dy[r][o]·W[o][i]          (written; dx may be NULL: the input needs no gradient)
 *   dW[o][i] += Σ_r dy[r][o]·x[r][i]           (accumulated)
 *   db[o]    += Σ_r dy[r][o]                   (accumulated; db may be NULL: no bias)
 * Layout: x [rows][in], W [out][in], dy [rows][out], dx [rows][in], dW [out][in], db [out].
 * Row r is finished (its dW, db terms added, then dx[r] written) before row r+1 is read, so dx may alias
 * x (the input is not needed afterwards); dx must not overlap dy, W, dW. Sums run in order: over o
 * for dx (axpy of W's rows, vectorisable), over rows for dW and db. Error: γ(out)·Σ_o|dy·W| for dx,
 * γ(rows + 1)·(|dW| + Σ_r|dy·x|) for dW (the same for db). */
static HN_K_UNUSED void hn_kb_linear(const float *x, int rows, int in, const float *W, int out, const float *dy,
                                     float *dx, float *dW, float *db)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * in, *gr = dy + (size_t)r * out;
        for (int o = 0; o < out; ++o) {
            const float g = gr[o];
            float *dw = dW + (size_t)o * in;
            for (int i = 0; i < in; ++i) dw[i] += g * xr[i];
            if (db) db[o] += g;
        }
        if (dx) {
            float *dxr = dx + (size_t)r * in;
            for (int i = 0; i < in; ++i) dxr[i] = 0.0f;
            for (int o = 0; o < out; ++o) {
                const float g = gr[o], *w = W + (size_t)o * in;
                for (int i = 0; i < in; ++i) dxr[i] += g * w[i];
            }
        }
    }
}

#ifdef HN_USE_CBLAS
#include <cblas.h>
/* hn_kb_linear through OpenBLAS (same signature, layouts, NULL and aliasing rules):
 *   dW += dyᵀ·x   cblas_sgemm(RowMajor, Trans, NoTrans, out, in, rows, 1, dy, out, x, in, 1, dW, in)
 *   db += Σ_r dy  (loop)
 *   dx  = dy·W    cblas_sgemm(RowMajor, NoTrans, NoTrans, rows, in, out, 1, dy, out, W, in, 0, dx, in)
 * dW is computed before dx is written, so dx may alias x. Error: γ(k + 2)·Σ|terms| (any order). */
static HN_K_UNUSED void hn_kb_linear_cblas(const float *x, int rows, int in, const float *W, int out, const float *dy,
                                           float *dx, float *dW, float *db)
{
    if (rows <= 0 || in <= 0 || out <= 0) {
        if (db)
            for (int r = 0; r < rows; ++r)
                for (int o = 0; o < out; ++o) db[o] += dy[(size_t)r * out + o];
        if (dx && rows > 0 && in > 0) memset(dx, 0, sizeof(float) * (size_t)rows * (size_t)in);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, rows, 1.0f, dy, out, x, in, 1.0f, dW, in);
    if (db)
        for (int r = 0; r < rows; ++r) {
            const float *gr = dy + (size_t)r * out;
            for (int o = 0; o < out; ++o) db[o] += gr[o];
        }
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in);
}
#endif

#endif
