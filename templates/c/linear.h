/* linear.h — y[r][o] = act(b[o] + Σ_i x[r][i]·W[o][i]); W is [out][in] as in PyTorch.
 * rows may be 0. x and y must not overlap. */
#ifndef HN_K_LINEAR_H
#define HN_K_LINEAR_H

/* Loop kernel: four outputs per pass over the input row, so that each x[r][i] is loaded once per
 * four dot products; the compiler vectorises the inner loop over i. */
static HN_K_UNUSED void hn_k_linear(const float *x, int rows, int in, const float *W, const float *b, int out,
                                    int act, float *y)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * in;
        float *yr = y + (size_t)r * out;
        int o = 0;
        for (; o + 4 <= out; o += 4) {
            const float *w0 = W + (size_t)o * in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
            for (int i = 0; i < in; ++i) {
                float v = xr[i];
                s0 += v * w0[i];
                s1 += v * w1[i];
                s2 += v * w2[i];
                s3 += v * w3[i];
            }
            yr[o] = hn_k_activate(s0 + (b ? b[o] : 0.0f), act);
            yr[o + 1] = hn_k_activate(s1 + (b ? b[o + 1] : 0.0f), act);
            yr[o + 2] = hn_k_activate(s2 + (b ? b[o + 2] : 0.0f), act);
            yr[o + 3] = hn_k_activate(s3 + (b ? b[o + 3] : 0.0f), act);
        }
        for (; o < out; ++o) {
            const float *w = W + (size_t)o * in;
            float s = 0.0f;
            for (int i = 0; i < in; ++i) s += xr[i] * w[i];
            yr[o] = hn_k_activate(s + (b ? b[o] : 0.0f), act);
        }
    }
}

#ifdef HN_USE_CBLAS
#include <cblas.h>
/* The same through OpenBLAS: y = bias (broadcast), then y += x·Wᵀ by sgemm, then the activation. */
static HN_K_UNUSED void hn_k_linear_cblas(const float *x, int rows, int in, const float *W, const float *b, int out,
                                          int act, float *y)
{
    if (rows <= 0) return;
    for (int r = 0; r < rows; ++r)
        if (b) memcpy(y + (size_t)r * out, b, sizeof(float) * (size_t)out);
        else memset(y + (size_t)r * out, 0, sizeof(float) * (size_t)out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, W, in, 1.0f, y, out);
    hn_k_activate_rows(y, (size_t)rows * out, act);
}
#endif

#endif
