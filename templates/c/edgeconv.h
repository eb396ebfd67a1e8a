/* edgeconv.h — ParticleNet's EdgeConv block (weaver-core 0.4 EdgeConvBlock) for one event:
 *   neighbours: the k nearest points by D_ij = −|p_i|² + 2 p_i·p_j − |p_j|² (torch.topk(k+1) order,
 *               the first dropped); in a jet with n ≤ k the rest are padding points, whose features
 *               are zero, exactly as weaver's shifted padding gives
 *   edges:      e_ij = [x_i, x_j − x_i]  → three 1×1 convs, each with (folded) batchnorm and ReLU;
 *               the first is computed per point: W₁ arrives as [Wa − Wb | Wb] (hn_fold_edge_split at
 *               load time), so W₁·e_ij + b = A_i + B_j with A = x·(Wa − Wb)ᵀ + b, B = x·Wbᵀ
 *   output:     ReLU(shortcut(x_i) + mean_j h_ij), shortcut = conv + batchnorm (folded) or identity
 * Only real points are computed. Points are processed 8 at a time (8·k edge rows per GEMM tile).
 * x is [n][C], p [n][Pd] (coordinates), y [n][c3]. Scratch lives on the stack (VLAs, ≈ 600 KiB at
 * n = 128, k = 16, widths 256: a thread calling this needs that much stack). */
#ifndef HN_K_EDGECONV_H
#define HN_K_EDGECONV_H

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

#define HN_EDGE_TILE 8

/* The k neighbours of point i (index, or −1 for a padding point) from the distance row d[0..n):
 * the top k+1 by value kept sorted by insertion (ties to the lower index, a stable selection, one
 * pass over the row), then the first dropped, as weaver's topk(k+1)[1:]. */
static HN_K_UNUSED void hn_k_knn_row(const float *d, int n, int k, int *nb)
{
    int take = k + 1 < n ? k + 1 : n, have = 0;
    int best[k + 1];
    for (int j = 0; j < n; ++j) {
        if (have == take && !(d[j] > d[best[have - 1]])) continue;
        int pos = have < take ? have++ : take - 1;         /* drop the last when full */
        while (pos > 0 && d[j] > d[best[pos - 1]]) { best[pos] = best[pos - 1]; --pos; }
        best[pos] = j;
    }
    for (int t = 0; t < k; ++t) nb[t] = t + 1 < take ? best[t + 1] : -1;
}

static HN_K_UNUSED void hn_k_edgeconv(const float *x, const float *p, int n, int C, int Pd, int k, int nlayers,
                                      const int *dims, const float *const *W, const float *const *B,
                                      const float *Wsc, const float *bsc, float *y)
{
    if (n <= 0) return;
    int widest = 2 * C;
    for (int l = 0; l < nlayers; ++l) widest = dims[l] > widest ? dims[l] : widest;
    int cout = dims[nlayers - 1];
    int c1 = dims[0];
    float sq[n], d[n], A[n * c1], Bm[n * c1];
    int nb[HN_EDGE_TILE * k];
    float bufa[HN_EDGE_TILE * k * widest], bufb[HN_EDGE_TILE * k * widest], sc[HN_EDGE_TILE * cout];
    for (int i = 0; i < n; ++i) {
        float s = 0.0f;
        for (int c = 0; c < Pd; ++c) s += p[(size_t)i * Pd + c] * p[(size_t)i * Pd + c];
        sq[i] = s;
    }
    /* the first convolution per point: A = x·(Wa − Wb)ᵀ + b, B = x·Wbᵀ (W[0] rows have stride 2C) */
#ifdef HN_USE_CBLAS
    for (int i = 0; i < n; ++i) memcpy(A + (size_t)i * c1, B[0], sizeof(float) * (size_t)c1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, c1, C, 1.0f, x, C, W[0], 2 * C, 1.0f, A, c1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, c1, C, 1.0f, x, C, W[0] + C, 2 * C, 0.0f, Bm, c1);
#else
    for (int i = 0; i < n; ++i)
        for (int o = 0; o < c1; ++o) {
            const float *w = W[0] + (size_t)o * 2 * C, *xi = x + (size_t)i * C;
            float a = 0.0f, bb = 0.0f;
            for (int c = 0; c < C; ++c) { a += xi[c] * w[c]; bb += xi[c] * w[C + c]; }
            A[(size_t)i * c1 + o] = a + B[0][o];
            Bm[(size_t)i * c1 + o] = bb;
        }
#endif
    for (int i0 = 0; i0 < n; i0 += HN_EDGE_TILE) {
        int tp = n - i0 < HN_EDGE_TILE ? n - i0 : HN_EDGE_TILE, rows = tp * k;
        for (int t = 0; t < tp; ++t) {             /* neighbours of each point of the tile */
            int i = i0 + t;
            for (int j = 0; j < n; ++j) {
                float inner = 0.0f;
                for (int c = 0; c < Pd; ++c) inner += p[(size_t)i * Pd + c] * p[(size_t)j * Pd + c];
                d[j] = -sq[i] - (-2.0f * inner) - sq[j];          /* weaver's -xx - inner - xxᵀ */
            }
            hn_k_knn_row(d, n, k, nb + t * k);
        }
        for (int t = 0; t < tp; ++t)                /* first layer: ReLU(A_i + B_j); padding: B_j = 0 */
            for (int q = 0; q < k; ++q) {
                const float *a = A + (size_t)(i0 + t) * c1;
                float *h = bufa + ((size_t)t * k + q) * c1;
                int j = nb[t * k + q];
                for (int o = 0; o < c1; ++o) {
                    float v = a[o] + (j >= 0 ? Bm[(size_t)j * c1 + o] : 0.0f);
                    h[o] = v > 0.0f ? v : 0.0f;
                }
            }
        float *cur = bufa, *nxt = bufb;
        int in = c1;
        for (int l = 1; l < nlayers; ++l) {
#ifdef HN_USE_CBLAS
            hn_k_linear_cblas(cur, rows, in, W[l], B[l], dims[l], HN_ACT_RELU, nxt);
#else
            hn_k_linear(cur, rows, in, W[l], B[l], dims[l], HN_ACT_RELU, nxt);
#endif
            float *swap = cur;
            cur = nxt;
            nxt = swap;
            in = dims[l];
        }
        if (Wsc) hn_k_linear(x + (size_t)i0 * C, tp, C, Wsc, bsc, cout, HN_ACT_NONE, sc);
        for (int t = 0; t < tp; ++t) {
            float *yr = y + (size_t)(i0 + t) * cout;
            for (int c = 0; c < cout; ++c) {
                float mean = 0.0f;
                for (int q = 0; q < k; ++q) mean += cur[((size_t)t * k + q) * cout + c];
                mean /= (float)k;
                float s = Wsc ? sc[(size_t)t * cout + c] : x[(size_t)(i0 + t) * C + c];
                float v = s + mean;
                yr[c] = v > 0.0f ? v : 0.0f;
            }
        }
    }
}

#endif
