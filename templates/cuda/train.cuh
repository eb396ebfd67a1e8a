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
 * partial[chunk][col] in double. */
extern "C" __global__ void hn_t_colsum_partial(const float *a, const float *b, const double *mean_d, const float *m,
                                               const float *inv, const float *rowstat, long rows, int cols, int mode,
                                               double *partial)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x, chunks = (rows + HN_CUT_CHUNK - 1) / HN_CUT_CHUNK;
    if (i >= chunks * cols) return;
    int c = (int)(i % cols);
    long k = i / cols, r0 = k * HN_CUT_CHUNK, r1 = r0 + HN_CUT_CHUNK < rows ? r0 + HN_CUT_CHUNK : rows;
    double s = 0.0;
    for (long r = r0; r < r1; ++r) {
        float v = a[r * cols + c];
        if (mode == 0) s += v;
        else if (mode == 1) { double d = v - mean_d[c]; s += d * d; }
        else if (mode == 2) s += (double)(v * ((b[r * cols + c] - m[c]) * inv[c]));
        else s += (double)(v * ((b[r * cols + c] - rowstat[2 * r]) * rowstat[2 * r + 1]));
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
extern "C" __global__ void hn_t_scale_sums(double *sum, int cols, long rows)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < cols) sum[c] /= (double)rows;
}

/* BatchNorm1d in training mode, after the sums: batch mean and (biased) variance, 1/√(σ² + eps), and the
 * running statistics with PyTorch's momentum (unbiased variance; only when rows ≥ 2). */
extern "C" __global__ void hn_t_bn_stats(const double *mean_d, const double *ss, long rows, int dim, float eps, float momentum,
                                         float *running_mean, float *running_var, float *batch_mean, float *batch_var,
                                         float *inv)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= dim) return;
    double var = ss[c] / rows;
    batch_mean[c] = (float)mean_d[c];
    batch_var[c] = (float)var;
    inv[c] = (float)(1.0 / sqrt((double)batch_var[c] + (double)eps));
    if (rows >= 2) {
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

/* BatchNorm backward, after the sums sg = Σ dy and sgx = Σ dy·x̂:
 * dx = γ·inv·(dy − sg/N − x̂·sgx/N) over every row (dx may alias dy) */
extern "C" __global__ void hn_t_bn_dx(const float *x, const float *dy, long rows, int dim, const float *gamma,
                                      const float *mean, const float *inv, const double *sg, const double *sgx, float *dx)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * dim) return;
    int c = (int)(i % dim);
    float a = (float)(sg[c] / rows), b = (float)(sgx[c] / rows), k = gamma[c] * inv[c];
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

#endif
