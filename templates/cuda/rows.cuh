/* rows.cuh — row-wise and elementwise ops: LayerNorm, RMSNorm, feature mean, softmax, batchnorm/activation/add/standardize/residual, columns, masked pooling.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_ROWS_CUH
#define HN_CU_ROWS_CUH

/* One warp per row: LayerNorm (biased variance). */
__device__ void hn_cu_layernorm(const float *x, const int *n, int batch, int rows, int per_row, int dim,
                                const float *g, const float *bt, float eps, float *y)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (row >= (long)batch * rows) return;
    if (!hn_cu_real(n, (int)(row / rows), (int)(row % rows), per_row)) return;
    const float *xr = x + row * dim;
    float s = 0.0f;
    for (int i = lane; i < dim; i += 32) s += xr[i];
    for (int k = 16; k; k >>= 1) s += __shfl_xor_sync(0xffffffffu, s, k);
    float mean = s / dim, v = 0.0f;
    for (int i = lane; i < dim; i += 32) v += (xr[i] - mean) * (xr[i] - mean);
    for (int k = 16; k; k >>= 1) v += __shfl_xor_sync(0xffffffffu, v, k);
    float inv = rsqrtf(v / dim + eps);
    for (int i = lane; i < dim; i += 32) y[row * dim + i] = (xr[i] - mean) * inv * g[i] + bt[i];
}

/* One warp per row: RMSNorm, y = x / √(mean(x²) + eps) · g (hn_k_rmsnorm). */
__device__ void hn_cu_rmsnorm(const float *x, const int *n, int batch, int rows, int per_row, int dim, const float *g,
                              float eps, float *y)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (row >= (long)batch * rows) return;
    if (!hn_cu_real(n, (int)(row / rows), (int)(row % rows), per_row)) return;
    const float *xr = x + row * dim;
    float s = 0.0f;
    for (int i = lane; i < dim; i += 32) s += xr[i] * xr[i];
    for (int k = 16; k; k >>= 1) s += __shfl_xor_sync(0xffffffffu, s, k);
    float inv = 1.0f / sqrtf(s / dim + eps);
    for (int i = lane; i < dim; i += 32) y[row * dim + i] = xr[i] * inv * g[i];
}

/* A thread per row: the mean of its features, y [rows][1] (IAFormer's head input). */
__device__ void hn_cu_feature_mean(const float *x, const int *n, int batch, int rows, int per_row, int dim, float *y)
{
    long row = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= (long)batch * rows) return;
    if (!hn_cu_real(n, (int)(row / rows), (int)(row % rows), per_row)) return;
    const float *xr = x + row * dim;
    float s = 0.0f;
    for (int i = 0; i < dim; ++i) s += xr[i];
    y[row] = s / (float)dim;
}

/* One warp per row: softmax. */
__device__ void hn_cu_softmax(const float *x, int rows_total, int dim, float *y)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows_total) return;
    const float *xr = x + row * dim;
    float m = -HN_CU_INF;
    for (int i = lane; i < dim; i += 32) m = fmaxf(m, xr[i]);
    for (int k = 16; k; k >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, k));
    float s = 0.0f;
    for (int i = lane; i < dim; i += 32) s += expf(xr[i] - m);
    for (int k = 16; k; k >>= 1) s += __shfl_xor_sync(0xffffffffu, s, k);
    for (int i = lane; i < dim; i += 32) y[row * dim + i] = expf(xr[i] - m) / s;
}

/* Elementwise over the real rows: kind 0 batchnorm (p0..p3 = mean, var, gamma, beta), 1 activation,
 * 2 add (x2), 3 standardize (p0..p3 = center, scale, lo, hi), 4 residual y = x + p0⊙x2. */
__device__ void hn_cu_rowwise(int kind, const float *x, const float *x2, const int *n, int batch, int rows,
                              int per_row, int dim, const float *p0, const float *p1, const float *p2,
                              const float *p3, float eps, int act, float *y)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x, total = (long)batch * rows * dim;
    if (idx >= total) return;
    int f = (int)(idx % dim);
    long row = idx / dim;
    if (!hn_cu_real(n, (int)(row / rows), (int)(row % rows), per_row)) return;
    float v = x[idx];
    switch (kind) {
    case 0: v = (v - p0[f]) / sqrtf(p1[f] + eps) * p2[f] + p3[f]; break;
    case 1: v = hn_cu_act(v, act); break;
    case 2: v = v + x2[idx]; break;
    case 3: v = fminf(fmaxf((v - p0[f]) * p1[f], p2[f]), p3[f]); break;
    default: v = v + p0[f] * x2[idx]; break;
    }
    y[idx] = v;
}

/* y[row][out_col0 + c] = x[row][cols[c]] (cols NULL: col0 + c), over the real rows. */
__device__ void hn_cu_columns(const float *x, const int *n, int batch, int rows, int per_row, int in_stride,
                              int col0, const int *cols, int ncols, float *y, int out_stride, int out_col0)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x, total = (long)batch * rows * ncols;
    if (idx >= total) return;
    int c = (int)(idx % ncols);
    long row = idx / ncols;
    if (!hn_cu_real(n, (int)(row / rows), (int)(row % rows), per_row)) return;
    y[row * out_stride + out_col0 + c] = x[row * in_stride + (cols ? cols[c] : col0 + c)];
}

/* Masked pooling of [max][dim] per event: mode 0 sum, 1 mean, 2 max; an empty set gives zeros. */
__device__ void hn_cu_pool(const float *x, const int *n, int batch, int max, int dim, int mode, float *y)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * dim) return;
    int b = (int)(idx / dim), f = (int)(idx % dim), cnt = n ? n[b] : max;
    float acc = mode == 2 ? -HN_CU_INF : 0.0f;
    for (int r = 0; r < cnt; ++r) {
        float v = x[((long)b * max + r) * dim + f];
        acc = mode == 2 ? fmaxf(acc, v) : acc + v;
    }
    if (cnt == 0) acc = 0.0f;
    else if (mode == 1) acc /= cnt;
    y[idx] = acc;
}

#endif
