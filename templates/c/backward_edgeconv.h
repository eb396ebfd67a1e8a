/* backward_edgeconv.h — training-mode EdgeConv (ParticleNet, weaver-core 0.4 EdgeConvBlock) and its
 * backward, for NAME_train.c (compiler/ops/edge_conv.c emits the calls). Conventions as
 * backward_linear.h: parameter gradients accumulate, activation gradients are written.
 *
 * weaver's training forward runs every block on all max slots of an event: a padded point has zero
 * features (weaver multiplies by the mask) and sits 1e9 away, so a real point's neighbours are real
 * points first, then padding (when n ≤ k), and a padded point's neighbours are padding; every one of
 * those max·k edges enters the batchnorm statistics. The edges take few distinct values, so (as the
 * pair embedding's rows of backward_pair.h) hepnc computes one row per distinct edge, weighted by its
 * multiplicity in the statistics and in every gradient sum. An event with n real of max slots has
 *   for each real point i: m = min(k, n − 1) rows [x_i, x_j − x_i] (its real neighbours, weight 1), and
 *                          when n ≤ k one row [x_i, −x_i] (its k − m padding neighbours, weight k − m);
 *   when n < max:          one row [0, 0] (the edges of every padded point, weight k·(max − n)).
 * Real point i owns rows i·rpp … i·rpp + rpp − 1 (rpp = m + [n ≤ k]), the padded representative comes
 * last. The weights sum to max·k per event: the statistics are weaver's over N·max·k edge rows.
 * (When a jet has fewer than k + 1 padded slots, weaver's padded points may pick real neighbours, in an
 * order float rounding decides (their distances are −2e18 + O(1e9)); hepnc keeps padding for them. This
 * moves only the batchnorm statistics, by those few edges, and never a real point's output.)
 *
 * The first convolution on e = [x_i, x_j − x_i] is W₁·e = (Wa − Wb)·x_i + Wb·x_j with W₁ = [Wa | Wb]:
 * per point U = x·Waᵀ, V = x·Wbᵀ, then row (i, j) = U_i − V_i + V_j. Its backward likewise: with
 * D_i = Σ_{rows of i} w·dZ and E_j = Σ_{rows whose neighbour is j} dZ, F = E − D,
 *   dWa += Dᵀ·x,  dWb += Fᵀ·x,  dx = D·Wa + F·Wb.
 * The large maps run over all rows of the batch at once (one [rows][width] matrix), split between the
 * OpenMP threads; per-event steps (kNN, edge rows, mean) run event-parallel in the caller. */
#ifndef HN_KB_EDGECONV_H
#define HN_KB_EDGECONV_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_EDGECONV_H
#include "edgeconv.h"
#endif
#ifndef HN_KB_PAIR_H
#include "backward_pair.h"
#endif

/* backward_parallel.h is pasted after this file: own names for the thread split. */
#ifdef _OPENMP
#include <omp.h>
#define HN_KEC_PARALLEL _Pragma("omp parallel")
#define HN_KEC_THREAD() omp_get_thread_num()
#define HN_KEC_THREADS() omp_get_num_threads()
#else
#define HN_KEC_PARALLEL
#define HN_KEC_THREAD() 0
#define HN_KEC_THREADS() 1
#endif

/* ---- the rows of an event -------------------------------------------------------------------- */

/* Real neighbours of a real point: min(k, n − 1). */
static inline HN_K_UNUSED int hn_kt_ec_real_neighbours(int n, int k) { return n - 1 < k ? (n > 0 ? n - 1 : 0) : k; }

/* Rows of each real point: its real neighbours, plus one padding row when n ≤ k. */
static inline HN_K_UNUSED int hn_kt_ec_rows_per_point(int n, int k)
{
    return hn_kt_ec_real_neighbours(n, k) + (n <= k ? 1 : 0);
}

/* Rows of an event with n real of max slots (the padded representative included). */
static inline HN_K_UNUSED size_t hn_kt_ec_row_count(int n, int max, int k)
{
    return (size_t)n * (size_t)hn_kt_ec_rows_per_point(n, k) + (n < max ? 1u : 0u);
}

/* The k neighbours of each real point (index, −1 for padding) in the coordinates p [n][Pd]: the
 * distances and the selection of hn_k_edgeconv (edgeconv.h), expression for expression, so training
 * and inference pick the same neighbours. nb [n][k]. */
static HN_K_UNUSED void hn_kt_ec_knn(const float *p, int n, int Pd, int k, int *nb)
{
    if (n <= 0) return;
    float sq[n], d[n];
    for (int i = 0; i < n; ++i) {
        float s = 0.0f;
        for (int c = 0; c < Pd; ++c) s += p[(size_t)i * Pd + c] * p[(size_t)i * Pd + c];
        sq[i] = s;
    }
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            float inner = 0.0f;
            for (int c = 0; c < Pd; ++c) inner += p[(size_t)i * Pd + c] * p[(size_t)j * Pd + c];
            d[j] = -sq[i] - (-2.0f * inner) - sq[j];
        }
        hn_k_knn_row(d, n, k, nb + (size_t)i * k);
    }
}

/* Each row's multiplicity (see the top of the file); returns the rows. */
static HN_K_UNUSED size_t hn_kt_ec_weights(int n, int max, int k, float *w)
{
    const int m = hn_kt_ec_real_neighbours(n, k);
    size_t r = 0;
    for (int i = 0; i < n; ++i) {
        for (int q = 0; q < m; ++q) w[r++] = 1.0f;
        if (n <= k) w[r++] = (float)(k - m);
    }
    if (n < max) w[r++] = (float)k * (float)(max - n);
    return r;
}

/* The first layer's pre-norm rows of one event from UV [max][2·c1] (U_i | V_i per point):
 * Z[(i, j)] = (U_i − V_i) + V_j, Z[(i, pad)] = U_i − V_i, the padded representative 0. */
static HN_K_UNUSED void hn_kt_ec_edges(const float *UV, int n, int max, int k, int c1, const int *nb, float *Z)
{
    const int m = hn_kt_ec_real_neighbours(n, k);
    size_t r = 0;
    for (int i = 0; i < n; ++i) {
        const float *U = UV + (size_t)i * 2 * c1, *V = U + c1;
        for (int q = 0; q < m; ++q, ++r) {
            const float *Vj = UV + (size_t)nb[(size_t)i * k + q] * 2 * c1 + c1;
            float *z = Z + r * c1;
            for (int o = 0; o < c1; ++o) z[o] = (U[o] - V[o]) + Vj[o];
        }
        if (n <= k) {
            float *z = Z + r++ * c1;
            for (int o = 0; o < c1; ++o) z[o] = U[o] - V[o];
        }
    }
    if (n < max) memset(Z + r * c1, 0, sizeof(float) * (size_t)c1);
}

/* Backward of hn_kt_ec_edges (dZ the first layer's pre-norm gradient rows of the event, per copy):
 * DF [max][2·c1] receives D_i | F_i = E_i − D_i for the real points and zero for the padded ones. */
static HN_K_UNUSED void hn_kt_ec_edges_backward(const float *dZ, const float *w, int n, int max, int k, int c1,
                                                const int *nb, float *DF)
{
    const int m = hn_kt_ec_real_neighbours(n, k), rpp = hn_kt_ec_rows_per_point(n, k);
    memset(DF, 0, sizeof(float) * (size_t)max * 2 * c1);
    for (int i = 0; i < n; ++i) {
        float *D = DF + (size_t)i * 2 * c1;
        for (int q = 0; q < rpp; ++q) {
            const size_t r = (size_t)i * rpp + q;
            const float *g = dZ + r * c1, wr = w[r];
            for (int o = 0; o < c1; ++o) D[o] += wr * g[o];
            if (q < m) {
                float *E = DF + (size_t)nb[(size_t)i * k + q] * 2 * c1 + c1;
                for (int o = 0; o < c1; ++o) E[o] += g[o];
            }
        }
    }
    for (int i = 0; i < n; ++i) {
        float *D = DF + (size_t)i * 2 * c1, *F = D + c1;
        for (int o = 0; o < c1; ++o) F[o] -= D[o];
    }
}

/* The block output of one event: y_i = ReLU(s_i + (1/k)·Σ_{rows of i} w·A) for the real points, s_i the
 * shortcut (sc_x = NULL: already in y, the batchnormed shortcut convolution; else the identity x_i,
 * rows of C floats), zero for the padded rows. A the last layer's activations [rows][cout]. */
static HN_K_UNUSED void hn_kt_ec_output(const float *A, const float *w, int n, int max, int k, int cout,
                                        const float *sc_x, int C, float *y)
{
    const int rpp = hn_kt_ec_rows_per_point(n, k);
    float s[cout > 0 ? cout : 1];
    for (int i = 0; i < n; ++i) {
        float *yr = y + (size_t)i * cout;
        for (int c = 0; c < cout; ++c) s[c] = 0.0f;
        for (int q = 0; q < rpp; ++q) {
            const size_t r = (size_t)i * rpp + q;
            const float *a = A + r * cout, wr = w[r];
            for (int c = 0; c < cout; ++c) s[c] += wr * a[c];
        }
        for (int c = 0; c < cout; ++c) {
            const float v = (sc_x ? sc_x[(size_t)i * C + c] : yr[c]) + s[c] / (float)k;
            yr[c] = v > 0.0f ? v : 0.0f;
        }
    }
    if (n < max) memset(y + (size_t)n * cout, 0, sizeof(float) * (size_t)(max - n) * cout);
}

/* Backward of hn_kt_ec_output for one event: dy ← dy ⊙ [y > 0] (the gradient of the shortcut and of the
 * mean; padded rows zero: the mask), and the last layer's gradient rows dA [rows][cout]: dy_i / k on each
 * row of point i (per copy), zero on the padded representative. */
static HN_K_UNUSED void hn_kt_ec_output_backward(const float *y, float *dy, int n, int max, int k, int cout, float *dA)
{
    const int rpp = hn_kt_ec_rows_per_point(n, k);
    for (int i = 0; i < n; ++i) {
        float *g = dy + (size_t)i * cout;
        const float *yr = y + (size_t)i * cout;
        for (int c = 0; c < cout; ++c) g[c] = yr[c] > 0.0f ? g[c] : 0.0f;
        for (int q = 0; q < rpp; ++q) {
            float *d = dA + ((size_t)i * rpp + q) * cout;
            for (int c = 0; c < cout; ++c) d[c] = g[c] / (float)k;
        }
    }
    if (n < max) {
        memset(dy + (size_t)n * cout, 0, sizeof(float) * (size_t)(max - n) * cout);
        memset(dA + (size_t)n * rpp * cout, 0, sizeof(float) * (size_t)cout);
    }
}

/* ---- batchnorm over the weighted rows, split between the threads by channels ------------------ */

static inline HN_K_UNUSED float hn_kt_ec_inv_std(float var, float eps)
{
    return (float)(1.0 / sqrt((double)var + (double)eps));
}

/* The batch statistics of x [rows][dim] with row multiplicities w (N = Σ w): mean = Σ w x / N,
 * var = Σ w (x − mean)² / N (two passes, in double), and the running statistics updated as PyTorch's
 * with N values (unbiased variance; only when N ≥ 2). Each thread takes a block of channels over every
 * row: the same sums, in the same order, for any thread count. */
static HN_K_UNUSED void hn_kt_ec_bn_stats(const float *x, size_t rows, int dim, const float *w, float momentum,
                                          float *running_mean, float *running_var, float *mean, float *var)
{
    double N = 0.0;
    for (size_t r = 0; r < rows; ++r) N += w[r];
    if (rows == 0 || N <= 0.0) return;
    HN_KEC_PARALLEL
    {
        enum { CHUNK = 32 };
        const int t = HN_KEC_THREAD(), T = HN_KEC_THREADS();
        const int nchunk = (dim + CHUNK - 1) / CHUNK;
        double sum[CHUNK], ss[CHUNK];
        for (int ch = nchunk * t / T; ch < nchunk * (t + 1) / T; ++ch) {
            const int i0 = ch * CHUNK, m = hn_k_min(CHUNK, dim - i0);
            for (int c = 0; c < m; ++c) sum[c] = ss[c] = 0.0;
            for (size_t r = 0; r < rows; ++r) {
                const float *xr = x + r * dim + i0;
                const double wr = w[r];
                for (int c = 0; c < m; ++c) sum[c] += wr * xr[c];
            }
            for (int c = 0; c < m; ++c) sum[c] /= N;
            for (size_t r = 0; r < rows; ++r) {
                const float *xr = x + r * dim + i0;
                const double wr = w[r];
                for (int c = 0; c < m; ++c) {
                    const double d = xr[c] - sum[c];
                    ss[c] += wr * d * d;
                }
            }
            for (int c = 0; c < m; ++c) {
                mean[i0 + c] = (float)sum[c];
                var[i0 + c] = (float)(ss[c] / N);
                if (running_mean && running_var && N >= 2.0) {
                    running_mean[i0 + c] = (float)((1.0 - momentum) * running_mean[i0 + c] + momentum * sum[c]);
                    running_var[i0 + c] = (float)((1.0 - momentum) * running_var[i0 + c] + momentum * (ss[c] / (N - 1.0)));
                }
            }
        }
    }
}

/* y = ReLU((x − mean)·inv·γ + β), inv = 1/√(var + eps), times w[r] when w is not NULL (the backward's
 * weighted activations). Rows split between the threads; the same float expression as the ReLU mask of
 * hn_kt_ec_bn_relu_backward,
 * so the forward's activations and the backward's recomputed ones agree bit for bit. y ≠ x. */
static HN_K_UNUSED void hn_kt_ec_bn_relu(const float *x, size_t rows, int dim, const float *mean, const float *var,
                                         const float *gamma, const float *beta, float eps, const float *w, float *y)
{
    HN_KEC_PARALLEL
    {
        const size_t t = (size_t)HN_KEC_THREAD(), T = (size_t)HN_KEC_THREADS();
        float inv[dim > 0 ? dim : 1];
        for (int c = 0; c < dim; ++c) inv[c] = hn_kt_ec_inv_std(var[c], eps);
        for (size_t r = rows * t / T; r < rows * (t + 1) / T; ++r) {
            const float *xr = x + r * dim;
            float *yr = y + r * dim;
            for (int c = 0; c < dim; ++c) {
                const float v = (xr[c] - mean[c]) * inv[c] * gamma[c] + beta[c];
                yr[c] = v > 0.0f ? v : 0.0f;
            }
            if (w) {
                const float wr = w[r];
                for (int c = 0; c < dim; ++c) yr[c] *= wr;
            }
        }
    }
}

/* Backward of ReLU(batchnorm) over the weighted rows, channels split between the threads. The ReLU
 * first: g = dy where (x − mean)·inv·γ + β > 0 (hn_kt_ec_bn_relu's expression), else 0; then
 *   training (batch statistics mean, var):  dx_r = γ·inv·(g_r − Σ w g/N − x̂_r·Σ w g x̂/N)
 *   eval (running statistics, constants):   dx_r = γ·inv·g_r
 *   dγ += Σ w g x̂,  dβ += Σ w g (accumulated; sums in double)
 * dy and dx per copy of a row. dx may alias x or dy. */
static HN_K_UNUSED void hn_kt_ec_bn_relu_backward(const float *x, size_t rows, int dim, const float *w,
                                                  const float *gamma, const float *beta, float eps, const float *mean,
                                                  const float *var, int training, const float *dy, float *dx,
                                                  float *dgamma, float *dbeta)
{
    double N = 0.0;
    for (size_t r = 0; r < rows; ++r) N += w[r];
    if (rows == 0 || N <= 0.0) return;
    HN_KEC_PARALLEL
    {
        enum { CHUNK = 32 };
        const int t = HN_KEC_THREAD(), T = HN_KEC_THREADS();
        const int nchunk = (dim + CHUNK - 1) / CHUNK;
        double sg[CHUNK], sgx[CHUNK];
        float inv[CHUNK], a[CHUNK], b[CHUNK], s[CHUNK];
        for (int ch = nchunk * t / T; ch < nchunk * (t + 1) / T; ++ch) {
            const int i0 = ch * CHUNK, m = hn_k_min(CHUNK, dim - i0);
            for (int c = 0; c < m; ++c) {
                inv[c] = hn_kt_ec_inv_std(var[i0 + c], eps);
                sg[c] = sgx[c] = 0.0;
            }
            for (size_t r = 0; r < rows; ++r) {
                const float *xr = x + r * dim + i0, *gr = dy + r * dim + i0, wr = w[r];
                for (int c = 0; c < m; ++c) {   /* the mask as a factor: vectorises with double sums */
                    const float v = (xr[c] - mean[i0 + c]) * inv[c] * gamma[i0 + c] + beta[i0 + c];
                    const float g = (float)(v > 0.0f) * (wr * gr[c]), xh = (xr[c] - mean[i0 + c]) * inv[c];
                    sg[c] += (double)g;
                    sgx[c] += (double)(g * xh);
                }
            }
            for (int c = 0; c < m; ++c) {
                a[c] = training ? (float)(sg[c] / N) : 0.0f;
                b[c] = training ? (float)(sgx[c] / N) : 0.0f;
                s[c] = gamma[i0 + c] * inv[c];
                if (dgamma) dgamma[i0 + c] += (float)sgx[c];
                if (dbeta) dbeta[i0 + c] += (float)sg[c];
            }
            for (size_t r = 0; r < rows; ++r) {
                const float *xr = x + r * dim + i0, *gr = dy + r * dim + i0;
                float *dxr = dx + r * dim + i0;
                for (int c = 0; c < m; ++c) {
                    const float v = (xr[c] - mean[i0 + c]) * inv[c] * gamma[i0 + c] + beta[i0 + c];
                    const float g = v > 0.0f ? gr[c] : 0.0f, xh = (xr[c] - mean[i0 + c]) * inv[c];
                    dxr[c] = training ? s[c] * (g - a[c] - xh * b[c]) : s[c] * g;
                }
            }
        }
    }
}

/* ---- strided GEMMs (the first convolution reads W₁ = [Wa | Wb] in place), threads split ---------- */

/* C[r][o] = beta·C[r][o] + Σ_i A[r][i]·B[o][i] for rows [r0, r1), o < N, i < K (beta 0: C is not read). */
static HN_K_UNUSED void hn_kt_ec_gemm_nt(const float *A, int lda, const float *B, int ldb, float *Cm, int ldc, size_t r0,
                                         size_t r1, int N, int K, float beta)
{
    if (r1 <= r0 || N <= 0) return;
#ifdef HN_USE_CBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), N, K, 1.0f, A + r0 * lda, lda, B, ldb, beta,
                Cm + r0 * ldc, ldc);
#else
    for (size_t r = r0; r < r1; ++r) {
        const float *a = A + r * lda;
        float *c = Cm + r * ldc;
        for (int o = 0; o < N; ++o) {
            const float *bo = B + (size_t)o * ldb;
            float acc[HN_K_LANES] = { 0 };
            const int kv = K - K % HN_K_LANES;
            for (int i = 0; i < kv; i += HN_K_LANES)
                for (int l = 0; l < HN_K_LANES; ++l) acc[l] += a[i + l] * bo[i + l];
            float s = hn_k_lanes_sum(acc);
            for (int i = kv; i < K; ++i) s += a[i] * bo[i];
            c[o] = beta == 0.0f ? s : beta * c[o] + s;
        }
    }
#endif
}

/* C[r][i] = beta·C[r][i] + Σ_o A[r][o]·B[o][i] for rows [r0, r1), i < N, o < K. */
static HN_K_UNUSED void hn_kt_ec_gemm_nn(const float *A, int lda, const float *B, int ldb, float *Cm, int ldc, size_t r0,
                                         size_t r1, int N, int K, float beta)
{
    if (r1 <= r0 || N <= 0) return;
#ifdef HN_USE_CBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), N, K, 1.0f, A + r0 * lda, lda, B, ldb, beta,
                Cm + r0 * ldc, ldc);
#else
    for (size_t r = r0; r < r1; ++r) {
        const float *a = A + r * lda;
        float *c = Cm + r * ldc;
        if (beta == 0.0f) memset(c, 0, sizeof(float) * (size_t)N);
        else if (beta != 1.0f)
            for (int i = 0; i < N; ++i) c[i] *= beta;
        for (int o = 0; o < K; ++o) {
            const float g = a[o], *bo = B + (size_t)o * ldb;
            for (int i = 0; i < N; ++i) c[i] += g * bo[i];
        }
    }
#endif
}

/* C[o][i] += Σ_r A[r][o]·X[r][i] for o in [o0, o1), i < N, r < rows (a weight gradient, one block of its
 * rows: threads split o and each sums every row in order). */
static HN_K_UNUSED void hn_kt_ec_gemm_tn(const float *A, int lda, const float *X, int ldx, size_t rows, int o0, int o1,
                                         int N, float *Cm, int ldc)
{
    if (o1 <= o0 || rows == 0 || N <= 0) return;
#ifdef HN_USE_CBLAS
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, N, (int)rows, 1.0f, A + o0, lda, X, ldx, 1.0f,
                Cm + (size_t)o0 * ldc, ldc);
#else
    for (size_t r = 0; r < rows; ++r) {
        const float *a = A + r * lda, *xr = X + r * ldx;
        for (int o = o0; o < o1; ++o) {
            const float g = a[o];
            float *c = Cm + (size_t)o * ldc;
            for (int i = 0; i < N; ++i) c[i] += g * xr[i];
        }
    }
#endif
}

/* The three above over all rows, split between the threads (rows for nt / nn, output rows o for tn). */
static HN_K_UNUSED void hn_kt_ec_gemm_nt_par(const float *A, int lda, const float *B, int ldb, float *Cm, int ldc,
                                             size_t rows, int N, int K, float beta)
{
    HN_KEC_PARALLEL
    {
        const size_t t = (size_t)HN_KEC_THREAD(), T = (size_t)HN_KEC_THREADS();
        hn_kt_ec_gemm_nt(A, lda, B, ldb, Cm, ldc, rows * t / T, rows * (t + 1) / T, N, K, beta);
    }
}

static HN_K_UNUSED void hn_kt_ec_gemm_nn_par(const float *A, int lda, const float *B, int ldb, float *Cm, int ldc,
                                             size_t rows, int N, int K, float beta)
{
    HN_KEC_PARALLEL
    {
        const size_t t = (size_t)HN_KEC_THREAD(), T = (size_t)HN_KEC_THREADS();
        hn_kt_ec_gemm_nn(A, lda, B, ldb, Cm, ldc, rows * t / T, rows * (t + 1) / T, N, K, beta);
    }
}

static HN_K_UNUSED void hn_kt_ec_gemm_tn_par(const float *A, int lda, const float *X, int ldx, size_t rows, int M, int N,
                                             float *Cm, int ldc)
{
    HN_KEC_PARALLEL
    {
        const int t = HN_KEC_THREAD(), T = HN_KEC_THREADS();
        hn_kt_ec_gemm_tn(A, lda, X, ldx, rows, (int)((long)M * t / T), (int)((long)M * (t + 1) / T), N, Cm, ldc);
    }
}

/* dx[r] += dy[r] over rows of dim floats (the identity shortcut's gradient), rows split. */
static HN_K_UNUSED void hn_kt_ec_add_par(const float *dy, size_t count, float *dx)
{
    HN_KEC_PARALLEL
    {
        const size_t t = (size_t)HN_KEC_THREAD(), T = (size_t)HN_KEC_THREADS();
        for (size_t i = count * t / T; i < count * (t + 1) / T; ++i) dx[i] += dy[i];
    }
}

#endif
