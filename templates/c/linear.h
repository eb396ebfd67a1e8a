/* linear.h — fully connected layer with a fused bias and activation epilogue. */
#ifndef HN_K_LINEAR_H
#define HN_K_LINEAR_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif
#ifndef HN_K_ACTIVATIONS_H
#include "activations.h"
#endif

/* Sum of the HN_K_LANES partial sums of one dot product, in a fixed pairwise order. */
static inline HN_K_UNUSED float hn_k_lanes_sum(const float *a)
{
    return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}

/* y[r][o] = act(b[o] + Σ_{i<in} x[r][i]·W[o][i])    for r < rows, o < out.
 *
 * Layout: x [rows][in], W [out][in] (PyTorch nn.Linear.weight), b [out] or NULL (no bias),
 * y [rows][out]; all contiguous row-major. act is an HN_ACT_* code. rows may be 0. x and y must not
 * overlap (y is written while x is still read).
 *
 * Schedule: a register block of 2 rows × 4 outputs. Each of the 8 dot products keeps HN_K_LANES
 * partial sums (lane l takes the terms i ≡ l mod HN_K_LANES), so the innermost loop is a plain
 * lane-wise multiply-add the compiler turns into vector FMAs at -O2/-O3 without reassociating
 * anything itself; each x and W element loaded from memory feeds 4 (resp. 2) of them. The tail
 * i ≥ in − in mod HN_K_LANES is added after the lanes are summed; the leftover outputs (out mod 4) and
 * the odd last row go through the same code with a 1 × 1 block. Summation order is fixed, so the result
 * does not depend on the compiler or flags. Error: |Δ| ≤ γ_{in/8+4}·(|b[o]| + Σ_i |x[r][i]·W[o][i]|),
 * γ_k = k·2⁻²⁴/(1 − k·2⁻²⁴), before the activation. */
static HN_K_UNUSED void hn_k_linear(const float *x, int rows, int in, const float *W, const float *b, int out,
                                    int act, float *y)
{
    const int L = HN_K_LANES;
    const int in_vec = in - in % L;
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
        const float *x0 = x + (size_t)r * in, *x1 = x0 + in;
        float *y0 = y + (size_t)r * out, *y1 = y0 + out;
        int o = 0;
        for (; o + 4 <= out; o += 4) {
            const float *w0 = W + (size_t)o * in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
            float a00[HN_K_LANES] = { 0 }, a01[HN_K_LANES] = { 0 }, a02[HN_K_LANES] = { 0 }, a03[HN_K_LANES] = { 0 };
            float a10[HN_K_LANES] = { 0 }, a11[HN_K_LANES] = { 0 }, a12[HN_K_LANES] = { 0 }, a13[HN_K_LANES] = { 0 };
            for (int i = 0; i < in_vec; i += HN_K_LANES)
                for (int l = 0; l < HN_K_LANES; ++l) {
                    float u = x0[i + l], v = x1[i + l];
                    a00[l] += u * w0[i + l]; a01[l] += u * w1[i + l]; a02[l] += u * w2[i + l]; a03[l] += u * w3[i + l];
                    a10[l] += v * w0[i + l]; a11[l] += v * w1[i + l]; a12[l] += v * w2[i + l]; a13[l] += v * w3[i + l];
                }
            float s00 = hn_k_lanes_sum(a00), s01 = hn_k_lanes_sum(a01), s02 = hn_k_lanes_sum(a02), s03 = hn_k_lanes_sum(a03);
            float s10 = hn_k_lanes_sum(a10), s11 = hn_k_lanes_sum(a11), s12 = hn_k_lanes_sum(a12), s13 = hn_k_lanes_sum(a13);
            for (int i = in_vec; i < in; ++i) {
                float u = x0[i], v = x1[i];
                s00 += u * w0[i]; s01 += u * w1[i]; s02 += u * w2[i]; s03 += u * w3[i];
                s10 += v * w0[i]; s11 += v * w1[i]; s12 += v * w2[i]; s13 += v * w3[i];
            }
            float b0 = b ? b[o] : 0.0f, b1 = b ? b[o + 1] : 0.0f, b2 = b ? b[o + 2] : 0.0f, b3 = b ? b[o + 3] : 0.0f;
            y0[o] = hn_k_activate(s00 + b0, act); y0[o + 1] = hn_k_activate(s01 + b1, act);
            y0[o + 2] = hn_k_activate(s02 + b2, act); y0[o + 3] = hn_k_activate(s03 + b3, act);
            y1[o] = hn_k_activate(s10 + b0, act); y1[o + 1] = hn_k_activate(s11 + b1, act);
            y1[o + 2] = hn_k_activate(s12 + b2, act); y1[o + 3] = hn_k_activate(s13 + b3, act);
        }
        for (; o < out; ++o) {
            const float *w = W + (size_t)o * in;
            float a0[HN_K_LANES] = { 0 }, a1[HN_K_LANES] = { 0 };
            for (int i = 0; i < in_vec; i += HN_K_LANES)
                for (int l = 0; l < HN_K_LANES; ++l) { a0[l] += x0[i + l] * w[i + l]; a1[l] += x1[i + l] * w[i + l]; }
            float s0 = hn_k_lanes_sum(a0), s1 = hn_k_lanes_sum(a1);
            for (int i = in_vec; i < in; ++i) { s0 += x0[i] * w[i]; s1 += x1[i] * w[i]; }
            float bo = b ? b[o] : 0.0f;
            y0[o] = hn_k_activate(s0 + bo, act);
            y1[o] = hn_k_activate(s1 + bo, act);
        }
    }
    for (; r < rows; ++r) {
        const float *x0 = x + (size_t)r * in;
        float *y0 = y + (size_t)r * out;
        int o = 0;
        for (; o + 4 <= out; o += 4) {
            const float *w0 = W + (size_t)o * in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
            float a0[HN_K_LANES] = { 0 }, a1[HN_K_LANES] = { 0 }, a2[HN_K_LANES] = { 0 }, a3[HN_K_LANES] = { 0 };
            for (int i = 0; i < in_vec; i += HN_K_LANES)
                for (int l = 0; l < HN_K_LANES; ++l) {
                    float u = x0[i + l];
                    a0[l] += u * w0[i + l]; a1[l] += u * w1[i + l]; a2[l] += u * w2[i + l]; a3[l] += u * w3[i + l];
                }
            float s0 = hn_k_lanes_sum(a0), s1 = hn_k_lanes_sum(a1), s2 = hn_k_lanes_sum(a2), s3 = hn_k_lanes_sum(a3);
            for (int i = in_vec; i < in; ++i) {
                float u = x0[i];
                s0 += u * w0[i]; s1 += u * w1[i]; s2 += u * w2[i]; s3 += u * w3[i];
            }
            y0[o] = hn_k_activate(s0 + (b ? b[o] : 0.0f), act);
            y0[o + 1] = hn_k_activate(s1 + (b ? b[o + 1] : 0.0f), act);
            y0[o + 2] = hn_k_activate(s2 + (b ? b[o + 2] : 0.0f), act);
            y0[o + 3] = hn_k_activate(s3 + (b ? b[o + 3] : 0.0f), act);
        }
        for (; o < out; ++o) {
            const float *w = W + (size_t)o * in;
            float a0[HN_K_LANES] = { 0 };
            for (int i = 0; i < in_vec; i += HN_K_LANES)
                for (int l = 0; l < HN_K_LANES; ++l) a0[l] += x0[i + l] * w[i + l];
            float s0 = hn_k_lanes_sum(a0);
            for (int i = in_vec; i < in; ++i) s0 += x0[i] * w[i];
            y0[o] = hn_k_activate(s0 + (b ? b[o] : 0.0f), act);
        }
    }
}

#ifdef HN_USE_CBLAS
#include <cblas.h>
/* The same result as hn_k_linear, through OpenBLAS (same signature, layouts and aliasing rule):
 * y[r][:] = b (or 0 when b is NULL) for every row, then y = 1·x·Wᵀ + 1·y by cblas_sgemm (row-major,
 * W [out][in] read transposed, so no copy of W), then y = act(y) in place. rows ≤ 0, out ≤ 0 do
 * nothing; in == 0 gives act(b). Error as for hn_k_linear, with OpenBLAS's blocked summation. */
static HN_K_UNUSED void hn_k_linear_cblas(const float *x, int rows, int in, const float *W, const float *b, int out,
                                          int act, float *y)
{
    if (rows <= 0 || out <= 0) return;
    for (int r = 0; r < rows; ++r)
        if (b) memcpy(y + (size_t)r * out, b, sizeof(float) * (size_t)out);
        else memset(y + (size_t)r * out, 0, sizeof(float) * (size_t)out);
    if (in > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, W, in, 1.0f, y, out);
    hn_k_activate_rows(y, (size_t)rows * (size_t)out, act);
}
#endif

#endif
