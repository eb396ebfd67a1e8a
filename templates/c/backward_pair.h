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
#ifndef HN_KB_LINEAR_H
#include "backward_linear.h"
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


/* ---- the pair rows of a padded event, with multiplicities ---------------------------------------
 * weaver embeds every lower-triangle slot pair, padding included, and its batchnorms count them all.
 * The padded slots of an event hold identical zero 4-vectors, so its padded pairs take only n + 1
 * distinct values: (padded a, real c) depends on c alone (max − n copies each), and (padded, padded)
 * is one value ((max − n)(max − n + 1)/2 copies). hepnc embeds the n(n+1)/2 real pairs and those n + 1
 * rows once, each with its multiplicity as a weight in the batchnorm statistics and in every gradient
 * sum: the same numbers as embedding all max(max+1)/2 pairs, for a fraction of the work. */

/* Rows of an event with n real of max slots: its real pairs, then the n + 1 padded representatives. */
static inline HN_K_UNUSED size_t hn_kt_pair_row_count(int n, int max)
{
    size_t r = (size_t)n * (size_t)(n + 1) / 2;
    return n < max ? r + (size_t)n + 1 : r;
}

/* The rows of one event from pairs [max][max][width] (every slot pair computed): real pairs (a ≥ c,
 * a < n) in tril order with weight 1, then (n, c) for c < n with weight max − n, then (n, n) with
 * weight (max − n)(max − n + 1)/2. Returns the rows written. */
static HN_K_UNUSED size_t hn_kt_pair_rows_weighted_slots(const float *pairs, int n, int max, int slots, int width,
                                                         float *rows, float *w);
static HN_K_UNUSED size_t hn_kt_pair_rows_weighted(const float *pairs, int n, int max, int width, float *rows, float *w)
{
    return hn_kt_pair_rows_weighted_slots(pairs, n, max, max, width, rows, w);
}

/* The same when the batch counts only `slots` (≤ max) slots per event (weaver's SequenceTrimmer cut the
 * batch to that length): the multiplicities are those of slots − n padded slots; n ≤ slots. */
static HN_K_UNUSED size_t hn_kt_pair_rows_weighted_slots(const float *pairs, int n, int max, int slots, int width,
                                                         float *rows, float *w)
{
    size_t t = 0;
    for (int a = 0; a < n; ++a)
        for (int c = 0; c <= a; ++c, ++t) {
            memcpy(rows + t * width, pairs + ((size_t)a * max + c) * width, sizeof(float) * width);
            w[t] = 1.0f;
        }
    if (n < slots) {
        for (int c = 0; c <= n; ++c, ++t) {
            memcpy(rows + t * width, pairs + ((size_t)n * max + c) * width, sizeof(float) * width);
            w[t] = c < n ? (float)(slots - n) : (float)((double)(slots - n) * (slots - n + 1) / 2);
        }
    }
    return t;
}

/* weaver's PairEmbed with supplied pair features is not symmetric: it embeds every ordered slot pair
 * (max² rows per event). The 4-vector features of (a, c) and (c, a) are equal, so the same rows stand
 * for them with the ordered multiplicities: a real off-diagonal pair twice, a diagonal one once, (padded,
 * real c) 2(max − n) times, (padded, padded) (max − n)² times. Converts the weights of
 * hn_kt_pair_rows_weighted in place. */
static HN_K_UNUSED void hn_kt_pair_weights_ordered(int n, int max, float *w)
{
    size_t t = 0;
    for (int a = 0; a < n; ++a)
        for (int c = 0; c <= a; ++c, ++t) w[t] = c == a ? 1.0f : 2.0f;
    if (n < max) {
        for (int c = 0; c < n; ++c, ++t) w[t] = 2.0f * (float)(max - n);
        w[t] = (float)((double)(max - n) * (max - n));
    }
}

/* With the ordered weights, a real off-diagonal row stands for (a, c) and (c, a), whose gradients
 * dU[a][c] and dU[c][a] differ: the row carries their mean (weight 2 times the mean is their sum, and the
 * batchnorm backward is linear in the gradient of rows with the same input). Halves those rows of
 * hn_kt_pair_scatter_real_backward's output. */
static HN_K_UNUSED void hn_kt_pair_rows_ordered_backward(int n, int heads, float *drows)
{
    size_t t = 0;
    for (int a = 0; a < n; ++a)
        for (int c = 0; c <= a; ++c, ++t)
            if (c != a)
                for (int h = 0; h < heads; ++h) drows[t * heads + h] *= 0.5f;
}

/* The real pairs' rows [n(n+1)/2][heads] into U [heads][max][max], mirrored (padded pairs untouched). */
static HN_K_UNUSED void hn_kt_pair_scatter_real(const float *rows, int n, int max, int heads, float *U)
{
    size_t t = 0;
    for (int a = 0; a < n; ++a)
        for (int c = 0; c <= a; ++c, ++t)
            for (int h = 0; h < heads; ++h)
                U[((size_t)h * max + a) * max + c] = U[((size_t)h * max + c) * max + a] = rows[t * heads + h];
}

/* Backward of hn_kt_pair_scatter_real for one event's rows (count of them): the real pairs' from dU as
 * hn_kt_pair_scatter_backward, the padded representatives' zero (attention never reads padded pairs). */
static HN_K_UNUSED void hn_kt_pair_scatter_real_backward(const float *dU, int n, int max, int heads, size_t count,
                                                         float *drows)
{
    size_t t = 0;
    for (int a = 0; a < n; ++a)
        for (int c = 0; c <= a; ++c, ++t)
            for (int h = 0; h < heads; ++h) {
                float g = dU[((size_t)h * max + a) * max + c];
                if (c != a) g += dU[((size_t)h * max + c) * max + a];
                drows[t * heads + h] = g;
            }
    for (; t < count; ++t)
        for (int h = 0; h < heads; ++h) drows[t * heads + h] = 0.0f;
}

/* hn_kb_batchnorm_train over rows standing for w[r] copies each: μ = Σ w x / N, σ² = Σ w (x − μ)² / N,
 * N = Σ w; running statistics as PyTorch with N rows (unbiased variance × N/(N − 1)). Sums in double. */
static HN_K_UNUSED void hn_kt_batchnorm_train_weighted(const float *x, int rows, int dim, const float *w,
                                                       const float *gamma, const float *beta, float eps, float momentum,
                                                       float *running_mean, float *running_var, float *batch_mean,
                                                       float *batch_var, float *y)
{
    enum { CHUNK = 64 };
    double sum[CHUNK], ss[CHUNK], N = 0.0;
    float mu[CHUNK], sc[CHUNK];
    for (int r = 0; r < rows; ++r) N += w[r];
    if (rows <= 0 || N <= 0.0) return;
    for (int i0 = 0; i0 < dim; i0 += CHUNK) {
        const int m = hn_k_min(CHUNK, dim - i0);
        for (int k = 0; k < m; ++k) sum[k] = ss[k] = 0.0;
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0;
            for (int k = 0; k < m; ++k) sum[k] += (double)w[r] * xr[k];
        }
        for (int k = 0; k < m; ++k) sum[k] /= N;
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0;
            for (int k = 0; k < m; ++k) {
                const double d = xr[k] - sum[k];
                ss[k] += (double)w[r] * d * d;
            }
        }
        for (int k = 0; k < m; ++k) {
            mu[k] = (float)sum[k];
            batch_mean[i0 + k] = mu[k];
            batch_var[i0 + k] = (float)(ss[k] / N);
            sc[k] = (float)(1.0 / sqrt((double)batch_var[i0 + k] + (double)eps));
            if (running_mean && running_var && N >= 2.0) {
                running_mean[i0 + k] = (float)((1.0 - momentum) * running_mean[i0 + k] + momentum * sum[k]);
                running_var[i0 + k] = (float)((1.0 - momentum) * running_var[i0 + k] + momentum * (ss[k] / (N - 1.0)));
            }
        }
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0;
            float *yr = y + (size_t)r * dim + i0;
            for (int k = 0; k < m; ++k) yr[k] = (xr[k] - mu[k]) * sc[k] * gamma[i0 + k] + beta[i0 + k];
        }
    }
}

/* Backward of hn_kt_batchnorm_train_weighted: the sums over rows weighted by w (each row's copies share
 * its dy and so its dx): dx_r = γ·inv·(dy_r − Σ w dy/N − x̂_r·Σ w dy x̂/N), dγ += Σ w dy x̂, dβ += Σ w dy.
 * dx may alias x or dy. */
static HN_K_UNUSED void hn_kt_batchnorm_train_weighted_backward(const float *x, int rows, int dim, const float *w,
                                                                const float *gamma, float eps, const float *batch_mean,
                                                                const float *batch_var, const float *dy, float *dx,
                                                                float *dgamma, float *dbeta)
{
    enum { CHUNK = 64 };
    double sg[CHUNK], sgx[CHUNK], N = 0.0;
    float inv[CHUNK], a[CHUNK], b[CHUNK], k_[CHUNK];
    for (int r = 0; r < rows; ++r) N += w[r];
    if (rows <= 0 || N <= 0.0) return;
    for (int i0 = 0; i0 < dim; i0 += CHUNK) {
        const int m = hn_k_min(CHUNK, dim - i0);
        for (int k = 0; k < m; ++k) {
            inv[k] = (float)(1.0 / sqrt((double)batch_var[i0 + k] + (double)eps));
            sg[k] = sgx[k] = 0.0;
        }
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0, *gr = dy + (size_t)r * dim + i0;
            for (int k = 0; k < m; ++k) {
                const float xh = (xr[k] - batch_mean[i0 + k]) * inv[k];
                sg[k] += (double)w[r] * gr[k];
                sgx[k] += (double)w[r] * (double)(gr[k] * xh);
            }
        }
        for (int k = 0; k < m; ++k) {
            a[k] = (float)(sg[k] / N);
            b[k] = (float)(sgx[k] / N);
            k_[k] = gamma[i0 + k] * inv[k];
            if (dgamma) dgamma[i0 + k] += (float)sgx[k];
            if (dbeta) dbeta[i0 + k] += (float)sg[k];
        }
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * dim + i0, *gr = dy + (size_t)r * dim + i0;
            float *dxr = dx + (size_t)r * dim + i0;
            for (int k = 0; k < m; ++k) {
                const float xh = (xr[k] - batch_mean[i0 + k]) * inv[k];
                dxr[k] = k_[k] * (gr[k] - a[k] - xh * b[k]);
            }
        }
    }
}

/* Backward of y = x·Wᵀ + b over rows standing for w[r] copies each: dx = dy·W per row (written),
 * then dy ← w ⊙ dy (dy is overwritten), dW += dyᵀ·x, db += Σ dy (accumulated). */
static HN_K_UNUSED void hn_kt_linear_backward_weighted(const float *x, int rows, int in, const float *W, int out,
                                                       const float *w, float *dy, float *dx, float *dW, float *db)
{
    if (dx) {
#ifdef HN_USE_CBLAS
        if (rows > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in);
#else
        for (int r = 0; r < rows; ++r) {
            float *dxr = dx + (size_t)r * in;
            for (int i = 0; i < in; ++i) dxr[i] = 0.0f;
            for (int o = 0; o < out; ++o) {
                const float g = dy[(size_t)r * out + o], *wo = W + (size_t)o * in;
                for (int i = 0; i < in; ++i) dxr[i] += g * wo[i];
            }
        }
#endif
    }
    for (int r = 0; r < rows; ++r)
        for (int o = 0; o < out; ++o) dy[(size_t)r * out + o] *= w[r];
#ifdef HN_USE_CBLAS
    hn_kb_linear_cblas(x, rows, in, W, out, dy, NULL, dW, db);
#else
    hn_kb_linear(x, rows, in, W, out, dy, NULL, dW, db);
#endif
}

#endif
