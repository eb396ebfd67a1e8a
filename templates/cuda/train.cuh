/* train.cuh — the generic kernels of the GPU training step (compiler/emit_cuda_train.c launches them with the
 * node's shapes as arguments), the counterparts of templates/c/backward_*.h: same formulas, same rows.
 * Sums over rows are deterministic: a thread per (chunk of rows, column) sums its chunk in order (in
 * double, as the C code's batch statistics), then a thread per column adds the chunks in order — the
 * result does not depend on the launch. Gradients of parameters accumulate (+=), of activations are
 * written, as in C. */
#ifndef HN_CU_TRAIN_CUH
#define HN_CU_TRAIN_CUH

#define HN_CUT_CHUNK 256          /* rows per partial sum */

/* p[0..count) = 0 */
extern "C" __global__ void hn_t_zero(float *p, long count)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) p[i] = 0.0f;
}

/* p[0..count) = 0 with 16-byte stores (p 16-byte aligned): thread i the floats 4i..4i+3 that exist */
extern "C" __global__ void hn_t_zero4(float *p, long count)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x, at = 4 * i;
    if (at + 3 < count) reinterpret_cast<float4 *>(p)[i] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    else
        for (long k = at; k < count; ++k) p[k] = 0.0f;
}

/* dst += src, elementwise */
extern "C" __global__ void hn_t_accumulate(const float *src, long count, float *dst)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) dst[i] += src[i];
}

/* Rows r >= n[b] of each event's `max` rows (row_elems floats each) set to zero: a gradient's padding. */
extern "C" __global__ void hn_t_zero_padding(float *g, int batch, const int *n, int max, long row_elems)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x, per = (long)max * row_elems;
    if (i >= (long)batch * per) return;
    int b = (int)(i / per), r = (int)((i % per) / row_elems);
    if (r >= n[b]) g[i] = 0.0f;
}

/* dx = act'(x)·dy (1 relu: the derivative at 0 is 0; 2 exact-erf GELU: Φ(x) + x·φ(x)) */
extern "C" __global__ void hn_t_act_backward(const float *x, const float *dy, long count, int act, float *dx)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    float v = x[i], g = dy[i];
    if (act == HN_CU_ACT_RELU) g = v > 0.0f ? g : 0.0f;
    else if (act == HN_CU_ACT_GELU) {
        float cdf = 0.5f * erfcf(-0.70710678118654752f * v), pdf = 0.39894228040143268f * expf(-0.5f * v * v);
        g *= cdf + v * pdf;
    }
    dx[i] = g;
}

/* Partial column sums over chunks of HN_CUT_CHUNK rows of a [rows][cols], by mode:
 *   0: Σ a                    1: Σ (a − mean)², mean in double
 *   2: Σ a·((b − m)·inv)       (a BatchNorm's Σ dy·x̂; m = mean, inv per column, float)
 *   3: Σ a·((b − m_r)·inv_r)   (a LayerNorm's Σ dy·x̂; m_r, inv_r per ROW in rowstat[2r], [2r+1])
 *   4: Σ a·b                   (a residual's scale gradient)
 * each term times w[r] when w is not NULL (rows standing for w[r] copies: the pair embedding's);
 * partial[chunk][col] in double. */
extern "C" __global__ void hn_t_colsum_partial(const float *a, const float *b, const double *mean_d, const float *m,
                                               const float *inv, const float *rowstat, const float *w, long rows, int cols,
                                               int mode, double *partial)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x, chunks = (rows + HN_CUT_CHUNK - 1) / HN_CUT_CHUNK;
    if (i >= chunks * cols) return;
    int c = (int)(i % cols);
    long k = i / cols, r0 = k * HN_CUT_CHUNK, r1 = r0 + HN_CUT_CHUNK < rows ? r0 + HN_CUT_CHUNK : rows;
    double s = 0.0;
    for (long r = r0; r < r1; ++r) {
        float v = a[r * cols + c];
        double t;
        if (mode == 0) t = v;
        else if (mode == 1) { double d = v - mean_d[c]; t = d * d; }
        else if (mode == 2) t = (double)(v * ((b[r * cols + c] - m[c]) * inv[c]));
        else if (mode == 3) t = (double)(v * ((b[r * cols + c] - rowstat[2 * r]) * rowstat[2 * r + 1]));
        else t = (double)(v * b[r * cols + c]);
        s += w ? (double)w[r] * t : t;
    }
    partial[k * cols + c] = s;
}

/* out[c] = Σ_chunks partial[chunk][c], in chunk order (double). */
extern "C" __global__ void hn_t_colsum_finish(const double *partial, long chunks, int cols, double *out)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    double s = 0.0;
    for (long k = 0; k < chunks; ++k) s += partial[k * cols + c];
    out[c] = s;
}

/* dst[c] += (float)src[c] */
extern "C" __global__ void hn_t_add_sums(const double *src, int cols, float *dst)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < cols) dst[c] += (float)src[c];
}

/* mean_d[c] = sum[c] / rows, in double (sum may be mean_d itself) */
extern "C" __global__ void hn_t_scale_sums(double *sum, int cols, double rows)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < cols) sum[c] /= rows;
}

/* BatchNorm1d in training mode, after the sums: batch mean and (biased) variance, 1/√(σ² + eps), and the
 * running statistics with PyTorch's momentum (unbiased variance; only when rows ≥ 2). rows: the rows the
 * statistics stand for (with row weights, their sum). */
extern "C" __global__ void hn_t_bn_stats(const double *mean_d, const double *ss, double rows, int dim, float eps, float momentum,
                                         float *running_mean, float *running_var, float *batch_mean, float *batch_var,
                                         float *inv)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= dim) return;
    double var = ss[c] / rows;
    batch_mean[c] = (float)mean_d[c];
    batch_var[c] = (float)var;
    inv[c] = (float)(1.0 / sqrt((double)batch_var[c] + (double)eps));
    if (rows >= 2.0) {
        running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mean_d[c]);
        running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * (ss[c] / (rows - 1)));
    }
}

/* inv[c] = 1/√(batch_var[c] + eps), as the forward (the backward's recomputation) */
extern "C" __global__ void hn_t_bn_inv(const float *batch_var, int dim, float eps, float *inv)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < dim) inv[c] = (float)(1.0 / sqrt((double)batch_var[c] + (double)eps));
}

/* y = (x − μ_B)·inv·γ + β over every row */
extern "C" __global__ void hn_t_bn_apply(const float *x, long rows, int dim, const float *mean, const float *inv,
                                         const float *gamma, const float *beta, float *y)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * dim) return;
    int c = (int)(i % dim);
    y[i] = (x[i] - mean[c]) * inv[c] * gamma[c] + beta[c];
}

/* BatchNorm backward, after the sums sg = Σ dy and sgx = Σ dy·x̂ (weighted: over the N rows they stand
 * for): dx = γ·inv·(dy − sg/N − x̂·sgx/N) over the `rows` rows (dx may alias dy) */
extern "C" __global__ void hn_t_bn_dx(const float *x, const float *dy, long rows, double N, int dim, const float *gamma,
                                      const float *mean, const float *inv, const double *sg, const double *sgx, float *dx)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * dim) return;
    int c = (int)(i % dim);
    float a = (float)(sg[c] / N), b = (float)(sgx[c] / N), k = gamma[c] * inv[c];
    float xh = (x[i] - mean[c]) * inv[c];
    dx[i] = k * (dy[i] - a - xh * b);
}

/* LayerNorm backward, a warp per real row (rows of `rows` per event, n[b]·per_row real; n NULL: all):
 * dx = inv·(g − mean(g) − x̂·mean(g⊙x̂)), g = dy⊙γ, written (dx NULL: not); the row's μ and inv
 * stored in rowstat[2r], [2r+1] for the parameter sums (padding rows: inv 0, so they add nothing). */
extern "C" __global__ void hn_t_layernorm_backward(const float *x, const float *dy, const int *n, int batch, int rows,
                                                   int per_row, int dim, const float *gamma, float eps, float *dx,
                                                   float *rowstat)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (row >= (long)batch * rows) return;
    if (!hn_cu_real(n, (int)(row / rows), (int)(row % rows), per_row)) {
        if (lane == 0) rowstat[2 * row] = 0.0f, rowstat[2 * row + 1] = 0.0f;
        return;
    }
    const float *xr = x + row * dim, *gr = dy + row * dim;
    float s = 0.0f;
    for (int i = lane; i < dim; i += 32) s += xr[i];
    for (int k = 16; k; k >>= 1) s += __shfl_xor_sync(0xffffffffu, s, k);
    float mean = s / dim, v = 0.0f;
    for (int i = lane; i < dim; i += 32) v += (xr[i] - mean) * (xr[i] - mean);
    for (int k = 16; k; k >>= 1) v += __shfl_xor_sync(0xffffffffu, v, k);
    float inv = 1.0f / sqrtf(v / dim + eps), sg = 0.0f, sgx = 0.0f;
    for (int i = lane; i < dim; i += 32) {
        float g = gr[i] * gamma[i];
        sg += g;
        sgx += g * ((xr[i] - mean) * inv);
    }
    for (int k = 16; k; k >>= 1) {
        sg += __shfl_xor_sync(0xffffffffu, sg, k);
        sgx += __shfl_xor_sync(0xffffffffu, sgx, k);
    }
    float a = sg / dim, b = sgx / dim;
    if (dx)
        for (int i = lane; i < dim; i += 32) dx[row * dim + i] = inv * (gr[i] * gamma[i] - a - (xr[i] - mean) * inv * b);
    if (lane == 0) rowstat[2 * row] = mean, rowstat[2 * row + 1] = inv;
}

/* Masked pooling's backward, a thread per (event, row, feature) of dx [batch][max][dim]: sum and mean
 * spread dy over the real rows (mean divided by the count), max sends it to the first row holding the
 * maximum; padding rows get 0. */
extern "C" __global__ void hn_t_pool_backward(const float *x, const float *dy, const int *n, int batch, int max, int dim,
                                              int mode, float *dx)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)batch * max * dim) return;
    int f = (int)(i % dim), r = (int)((i / dim) % max), b = (int)(i / ((long)dim * max)), cnt = n ? n[b] : max;
    float g = 0.0f;
    if (r < cnt) {
        g = dy[(long)b * dim + f];
        if (mode == 1) g /= cnt;
        else if (mode == 2) {
            const float *xb = x + (long)b * max * dim;
            int arg = 0;
            for (int q = 1; q < cnt; ++q)
                if (xb[(long)q * dim + f] > xb[(long)arg * dim + f]) arg = q;
            if (arg != r) g = 0.0f;
        }
    }
    dx[i] = g;
}

/* dx[r][c] = dy[r][col0 + c] for c < w over every row (a concat's or slice's columns); dy rows `width` wide. */
extern "C" __global__ void hn_t_copy_cols(const float *dy, long rows, int width, int col0, int w, float *dx)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * w) return;
    long r = i / w;
    dx[i] = dy[r * width + col0 + (int)(i % w)];
}

/* ---- supplied pair features (weaver's fts_embed: every ordered slot pair, [batch][max][max] rows) ---- */

/* w[b][a][c] = 1 for the pairs of the slots the batch counts (a, c < slots), else 0 */
extern "C" __global__ void hn_t_pair_ones(float *w, int batch, int max, int slots)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)batch * max * max) return;
    long r = i % ((long)max * max);
    w[i] = r / max < slots && r % max < slots ? 1.0f : 0.0f;
}

/* dir 0: U[b][h][a][c] += A[b][a][c][h] at the real pairs; dir 1: G[b][a][c][h] = dU[b][h][a][c] at the real
 * pairs, 0 elsewhere. A thread per (event, a, c). */
extern "C" __global__ void hn_t_pair_ordered(const float *in, const int *n, int batch, int max, int heads, int dir, float *out)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)batch * max * max) return;
    int c = (int)(i % max), a = (int)((i / max) % max), b = (int)(i / ((long)max * max)), cnt = n ? n[b] : max;
    int real = a < cnt && c < cnt;
    for (int h = 0; h < heads; ++h) {
        long u = (((long)b * heads + h) * max + a) * max + c;
        if (dir == 0) { if (real) out[u] += in[i * heads + h]; }
        else out[i * heads + h] = real ? in[u] : 0.0f;
    }
}

/* A trimmed batch's slot weights over a set's rows: 1 on each event's first keep of its `rows` rows, else 0 */
extern "C" __global__ void hn_t_slot_weights(float *w, int batch, long rows, long keep)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (long)batch * rows) w[i] = i % rows < keep ? 1.0f : 0.0f;
}

/* Dropout (templates/c/backward_dropout.h): element i kept when the SplitMix64 finaliser of (seed, layer
 * key, i) gives a uniform u ≥ p, then scaled by 1/(1 − p); the backward is the same call on dy. */
extern "C" __global__ void hn_t_dropout(const float *x, long count, float p, unsigned long long seed, unsigned long long key,
                                        float *y)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    unsigned long long z = seed ^ (key * 0x9e3779b97f4a7c15ull) ^ ((unsigned long long)i * 0xd1342543de82ef95ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    float u = (float)(z >> 40) * (1.0f / 16777216.0f);
    y[i] = u >= p ? x[i] * (1.0f / (1.0f - p)) : 0.0f;
}

/* y = act(x) elementwise (0 none, 1 relu, 2 GELU) */
extern "C" __global__ void hn_t_act(const float *x, long count, int act, float *y)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) y[i] = hn_cu_act(x[i], act);
}

/* y[r][o] += bias[o] over rows (after a GEMM) */
extern "C" __global__ void hn_t_add_bias(float *y, long rows, int out, const float *bias)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < rows * out) y[i] += bias[i % out];
}

/* g[r][k] *= w[r] */
extern "C" __global__ void hn_t_scale_rows(float *g, long rows, int width, const float *w)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < rows * width) g[i] *= w[i / width];
}

/* dy ⊙ s per column, the skip path of a residual y = x0 + s ⊙ x1: dx1 = s ⊙ dy */
extern "C" __global__ void hn_t_scale_cols(const float *dy, long rows, int width, const float *s, float *dx)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < rows * width) dx[i] = s[i % width] * dy[i];
}

/* A linear layer's folded head scale (ParT's c_attn): y[r][t·heads + h] = c[h]·z[r][h·d + t] (head-major
 * to channel-major, scaled); backward: dz[r][h·d + t] = c[h]·dy[r][t·heads + h]. dir 0 forward, 1 backward. */
extern "C" __global__ void hn_t_headscale(const float *in, long rows, int heads, int d, const float *c, int dir, float *out)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    int D = heads * d;
    if (i >= rows * D) return;
    long r = i / D;
    int k = (int)(i % D), h = k / d, t = k % d;         /* k: the head-major index h·d + t */
    if (dir == 0) out[r * D + t * heads + h] = c[h] * in[r * D + k];
    else out[r * D + k] = c[h] * in[r * D + t * heads + h];
}

/* Σ over the head's channels of dy·z for the head scale's gradient, as a column sum: prod[r][h·d + t] =
 * dy[r][t·heads + h]·z[r][h·d + t] (then summed over rows and the d channels of each head) */
extern "C" __global__ void hn_t_headscale_prod(const float *dy, const float *z, long rows, int heads, int d, float *prod)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    int D = heads * d;
    if (i >= rows * D) return;
    long r = i / D;
    int k = (int)(i % D), h = k / d, t = k % d;
    prod[i] = dy[r * D + t * heads + h] * z[i];
}

/* dc[h] += Σ_t sums[h·d + t] (the head scale's gradient from the column sums of hn_t_headscale_prod) */
extern "C" __global__ void hn_t_headscale_grad(const double *sums, int heads, int d, float *dc)
{
    int h = blockIdx.x * blockDim.x + threadIdx.x;
    if (h >= heads) return;
    double s = 0.0;
    for (int t = 0; t < d; ++t) s += sums[h * d + t];
    dc[h] += (float)s;
}

/* Pair features of every slot pair of every event, padding included (zero 4-vectors give weaver's clamped
 * values), mirrored: f[b][a][c][k] = feature sel_k of (max(a, c), min(a, c)); sel packs the selected
 * features' indices, two bits each. A thread per (event, a, c). */
extern "C" __global__ void hn_t_pair_features_all(const float *p4, int batch, int max, int sel, int nsel, float *f)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)batch * max * max) return;
    int c = (int)(i % max), a = (int)((i / max) % max), b = (int)(i / ((long)max * max));
    float all[4];
    hn_cu_pair_feats(p4 + (long)b * max * 4, a > c ? a : c, a > c ? c : a, all);
    for (int k = 0; k < nsel; ++k) f[i * nsel + k] = all[(sel >> (2 * k)) & 3];
}

/* ---- the pair embedding's rows (templates/c/backward_pair.h): per event its n(n+1)/2 real pairs (a ≥ c, tril
 * order, weight 1), then when n < slots the n + 1 padded representatives (n, c ≤ n) with their multiplicities
 * slots − n and (slots − n)(slots − n + 1)/2; slots = max unless the batch is trimmed (weaver's
 * SequenceTrimmer: the batch stands for `slots` slots per event); offs[b] the event's first row. ---- */

/* (a, c) of an event's row t (n real slots of `slots`); weight into *w */
__device__ __forceinline__ void hn_t_pair_of_row(long t, int n, int slots, int *a, int *c, float *w)
{
    long real = (long)n * (n + 1) / 2;
    if (t < real) {
        int r = (int)((sqrtf(8.0f * (float)t + 1.0f) - 1.0f) * 0.5f);
        while ((long)r * (r + 1) / 2 > t) --r;
        while ((long)(r + 1) * (r + 2) / 2 <= t) ++r;
        *a = r;
        *c = (int)(t - (long)r * (r + 1) / 2);
        *w = 1.0f;
    } else {
        *a = n;
        *c = (int)(t - real);
        *w = *c < n ? (float)(slots - n) : (float)((double)(slots - n) * (slots - n + 1) / 2);
    }
}

/* rows[offs[b] + t][k] = pairs[b][a][c][k], w[offs[b] + t] = its weight: a thread per (event, row) */
extern "C" __global__ void hn_t_pair_rows(const float *pairs, const int *n, int batch, int max, int slots, int width,
                                          const int *offs, int ordered, float *rows, float *w)
{
    long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
    int b = blockIdx.y;
    if (b >= batch || t >= offs[b + 1] - offs[b]) return;
    int a, c;
    float wt;
    hn_t_pair_of_row(t, n ? n[b] : max, slots, &a, &c, &wt);
    long row = offs[b] + t;
    const float *src = pairs + (((long)b * max + a) * max + c) * width;
    for (int k = 0; k < width; ++k) rows[row * width + k] = src[k];
    if (ordered) {              /* the ordered multiplicities (supplied pair features: every ordered pair) */
        int cnt = n ? n[b] : max;
        if (a < cnt) wt = c == a ? 1.0f : 2.0f;
        else wt = c < cnt ? 2.0f * (float)(slots - cnt) : (float)((double)(slots - cnt) * (slots - cnt));
    }
    w[row] = wt;
}

/* U[b][h][a][c] = U[b][h][c][a] = rows[offs[b] + t][h] for the real pairs (dir 0); backward (dir 1):
 * drows[offs[b] + t][h] = dU[a][c] (+ dU[c][a] off the diagonal) for the real pairs, 0 for the padded
 * representatives (attention never reads padded pairs). A thread per (event, row). */
extern "C" __global__ void hn_t_pair_scatter(const float *in, const int *n, int batch, int max, int slots, int heads,
                                             const int *offs, int dir, int ordered, float *out)
{
    long t = (long)blockIdx.x * blockDim.x + threadIdx.x;
    int b = blockIdx.y;
    if (b >= batch || t >= offs[b + 1] - offs[b]) return;
    int cnt = n ? n[b] : max, a, c;
    float wt;
    hn_t_pair_of_row(t, cnt, slots, &a, &c, &wt);
    long row = offs[b] + t;
    const float *Ub = dir ? in + (long)b * heads * max * max : 0;
    float *Uo = dir ? 0 : out + (long)b * heads * max * max;
    for (int h = 0; h < heads; ++h) {
        long ac = ((long)h * max + a) * max + c, ca = ((long)h * max + c) * max + a;
        if (dir == 0) {
            if (a < cnt) Uo[ac] = Uo[ca] = in[row * heads + h];
        } else {
            float g = 0.0f;
            if (a < cnt) g = c != a ? Ub[ac] + Ub[ca] : Ub[ac];
            if (ordered && a < cnt && c != a) g *= 0.5f;    /* the row stands for both orders: their mean */
            out[row * heads + h] = g;
        }
    }
}

#endif
