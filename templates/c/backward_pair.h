/* backward_pair.h — training-mode pieces of ParT's pair path and of masked sets (NAME_train.c).
 *
 * In training, weaver-core computes the pair embedding on every lower-triangle pair of the padded
 * sequence (diagonal and padding included), and its batchnorms take their statistics over all of them.
 * hepnc's training forward does the same, so the pair rows of a batch form one contiguous matrix
 * [batch · max(max+1)/2][width] (pair t = a(a+1)/2 + c for c ≤ a, torch.tril_indices' order) that the
 * batchnorm, linear and GELU kernels take whole. Conventions as backward_linear.h. */
#ifndef HN_KB_PAIR_H
#define HN_KB_PAIR_H

#ifndef HN_K_PAIR_H
#include "pair.h"
#endif

/* Rows n[b]..max-1 of each event's [max][width] block set to zero (the gradient of padding slots that
 * the forward left constant). */
static HN_K_UNUSED void hn_kt_zero_padding(float *g, int batch, const int32_t *n, int max, int width)
{
    for (int b = 0; b < batch; ++b) {
        int real = n[b] < 0 ? 0 : n[b] > max ? max : n[b];
        memset(g + ((size_t)b * max + real) * width, 0, sizeof(float) * (size_t)(max - real) * width);
    }
}

/* Pair features of every slot pair (a, c), padding included (zero 4-vectors give weaver's clamped
 * values), mirrored: f [max][max][nsel], feature k = HN_PAIR_* index sel[k]. */
static HN_K_UNUSED void hn_kt_pair_features_all(const float *p4, int max, const int *sel, int nsel, float *f)
{
    float pt[max], rap[max], phi[max], all[HN_PAIR_NUM];
    hn_k_pair_prepare(p4, max, pt, rap, phi);
    for (int a = 0; a < max; ++a)
        for (int c = 0; c <= a; ++c) {
            hn_k_pair_features(p4, pt, rap, phi, a, c, all);
            for (int k = 0; k < nsel; ++k)
                f[((size_t)a * max + c) * nsel + k] = f[((size_t)c * max + a) * nsel + k] = all[sel[k]];
        }
}

/* The lower triangle (c ≤ a) of pairs [max][max][width] as rows [max(max+1)/2][width]. */
static HN_K_UNUSED void hn_kt_pair_rows(const float *pairs, int max, int width, float *rows)
{
    size_t t = 0;
    for (int a = 0; a < max; ++a)
        for (int c = 0; c <= a; ++c, ++t)
            memcpy(rows + t * width, pairs + ((size_t)a * max + c) * width, sizeof(float) * width);
}

/* rows [max(max+1)/2][heads] into the symmetric, heads-major U [heads][max][max]. */
static HN_K_UNUSED void hn_kt_pair_scatter(const float *rows, int max, int heads, float *U)
{
    size_t t = 0;
    for (int a = 0; a < max; ++a)
        for (int c = 0; c <= a; ++c, ++t)
            for (int h = 0; h < heads; ++h)
                U[((size_t)h * max + a) * max + c] = U[((size_t)h * max + c) * max + a] = rows[t * heads + h];
}

/* Backward of hn_kt_pair_scatter: drows[t][h] = dU[h][a][c] + dU[h][c][a] off the diagonal, dU[h][a][a]
 * on it (weaver writes the diagonal twice with the same element; the second write wins). Written. */
static HN_K_UNUSED void hn_kt_pair_scatter_backward(const float *dU, int max, int heads, float *drows)
{
    size_t t = 0;
    for (int a = 0; a < max; ++a)
        for (int c = 0; c <= a; ++c, ++t)
            for (int h = 0; h < heads; ++h) {
                float g = dU[((size_t)h * max + a) * max + c];
                if (c != a) g += dU[((size_t)h * max + c) * max + a];
                drows[t * heads + h] = g;
            }
}

/* dy[k] *= gelu'(x[k]) written to dx (may alias dy). */
static HN_K_UNUSED void hn_kt_gelu_backward(const float *x, const float *dy, size_t count, float *dx)
{
    for (size_t k = 0; k < count; ++k) dx[k] = dy[k] * hn_kb_gelu_grad(x[k]);
}

#endif
