/* kernels.cuh — device bodies of hepnc's ops for the CUDA target, the counterparts of templates/c/ (.h files)
 * (same formulas, layouts and real-rows-only rule). The emitter (compiler/emit_cuda.c) pastes this file
 * into NAME.cu and writes one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC
 * compiles it at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each
 * event's real rows (NULL: all rows real). Correctness first: GEMMs are plain loops per output, tuned
 * kernels come later. */
#ifndef HN_CU_KERNELS_CUH
#define HN_CU_KERNELS_CUH

#define HN_CU_INF __int_as_float(0x7f800000)
#ifndef INFINITY
#define INFINITY HN_CU_INF   /* NVRTC has no math.h; generated constants use INFINITY */
#endif

#define HN_CU_ACT_NONE 0
#define HN_CU_ACT_RELU 1
#define HN_CU_ACT_GELU 2

__device__ __forceinline__ float hn_cu_act(float x, int act)
{
    if (act == HN_CU_ACT_RELU) return x > 0.0f ? x : 0.0f;
    if (act == HN_CU_ACT_GELU) return 0.5f * x * erfcf(-0.70710678118654752f * x);
    return x;
}

/* Rows of a tensor: event b, row r of `rows` per event; real when n is NULL or r < n[b]·per_row. */
__device__ __forceinline__ bool hn_cu_real(const int *n, int b, int r, int per_row)
{
    return !n || r < n[b] * per_row;
}

/* y[row][o] = act(b[o] + Σ_i x[row][i]·W[o][i]); one thread per output element. */
__device__ void hn_cu_linear(const float *x, const int *n, int batch, int rows, int per_row, int in, const float *W,
                             const float *bias, int out, int act, float *y)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x, total = (long)batch * rows * out;
    if (idx >= total) return;
    int o = (int)(idx % out);
    long row = idx / out;
    int b = (int)(row / rows), r = (int)(row % rows);
    if (!hn_cu_real(n, b, r, per_row)) return;
    const float *xr = x + row * in, *w = W + (long)o * in;
    float s = 0.0f;
    for (int i = 0; i < in; ++i) s += xr[i] * w[i];
    y[row * out + o] = hn_cu_act(s + (bias ? bias[o] : 0.0f), act);
}

/* In place over the real rows: y[row][o] = act(y[row][o] + b[o]) (after a cuBLAS GEMM); one thread per element. */
__device__ void hn_cu_bias_act(float *y, const int *n, int batch, int rows, int per_row, int out, const float *bias, int act)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x, total = (long)batch * rows * out;
    if (idx >= total) return;
    int o = (int)(idx % out);
    long row = idx / out;
    if (!hn_cu_real(n, (int)(row / rows), (int)(row % rows), per_row)) return;
    y[idx] = hn_cu_act(y[idx] + (bias ? bias[o] : 0.0f), act);
}

/* Packed rows: the real rows of a chunk's events, event after event (offs[e] .. offs[e+1]), so that the
 * GEMMs of linear layers skip padding. row_event[p] = e for every packed row p; one block per event. */
extern "C" __global__ void hn_pack_index(const int *offs, int *row_event)
{
    int e = blockIdx.x;
    for (int p = offs[e] + threadIdx.x; p < offs[e + 1]; p += blockDim.x) row_event[p] = e;
}

/* xp[p][c] = x[e][r][c] for packed row p (event e, row r); one thread per element. */
extern "C" __global__ void hn_gather_rows(const float *x, const int *offs, const int *row_event, int total, int max,
                                          int width, float *xp)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)total * width) return;
    long p = idx / width;
    int c = (int)(idx % width), e = row_event[p], r = (int)(p - offs[e]);
    xp[idx] = x[((long)e * max + r) * width + c];
}

/* The same, four floats per thread (width a multiple of 4, x and xp 16-byte aligned). */
extern "C" __global__ void hn_gather_rows4(const float4 *x, const int *offs, const int *row_event, int total, int max,
                                           int width4, float4 *xp)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)total * width4) return;
    long p = idx / width4;
    int c = (int)(idx % width4), e = row_event[p], r = (int)(p - offs[e]);
    xp[idx] = x[((long)e * max + r) * width4 + c];
}

/* y[e][r][o] = act(yp[p][o] + bias[o]) for packed row p: a packed GEMM's bias and activation, scattered back. */
extern "C" __global__ void hn_scatter_bias_act(const float *yp, const int *offs, const int *row_event, int total, int max,
                                               int out, const float *bias, int act, float *y)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)total * out) return;
    long p = idx / out;
    int o = (int)(idx % out), e = row_event[p], r = (int)(p - offs[e]);
    y[((long)e * max + r) * out + o] = hn_cu_act(yp[idx] + (bias ? bias[o] : 0.0f), act);
}

/* The same, four floats per thread (out a multiple of 4, yp, y and bias 16-byte aligned; bias non-NULL). */
extern "C" __global__ void hn_scatter_bias_act4(const float4 *yp, const int *offs, const int *row_event, int total, int max,
                                                int out4, const float4 *bias, int act, float4 *y)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)total * out4) return;
    long p = idx / out4;
    int o = (int)(idx % out4), e = row_event[p], r = (int)(p - offs[e]);
    float4 v = yp[idx], b = bias[o];
    v.x = hn_cu_act(v.x + b.x, act), v.y = hn_cu_act(v.y + b.y, act), v.z = hn_cu_act(v.z + b.z, act),
    v.w = hn_cu_act(v.w + b.w, act);
    y[((long)e * max + r) * out4 + o] = v;
}

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

/* Multi-head attention, one thread per (event, head, query row), online softmax over the real keys
 * (the C kernel's two passes give the same value up to rounding); U [heads][max][max] or NULL. */
__device__ void hn_cu_attention(const float *qkv, const int *n, int batch, int max, int heads, int hd,
                                const float *U, float *out)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * heads * max) return;
    int i = (int)(idx % max), h = (int)((idx / max) % heads), b = (int)(idx / ((long)max * heads));
    int cnt = n ? n[b] : max, D = heads * hd;
    if (i >= cnt) return;
    const float *base = qkv + (long)b * max * 3 * D;
    const float *q = base + (long)i * 3 * D + h * hd;
    const float *u = U ? U + (long)b * heads * max * max + ((long)h * max + i) * max : 0;
    float scale = rsqrtf((float)hd), m = -HN_CU_INF, l = 0.0f, acc[64];
    for (int t = 0; t < hd; ++t) acc[t] = 0.0f;
    for (int j = 0; j < cnt; ++j) {
        const float *k = base + (long)j * 3 * D + D + h * hd, *v = k + D;
        float s = 0.0f;
        for (int t = 0; t < hd; ++t) s += q[t] * scale * k[t];
        if (u) s += u[j];
        float mn = fmaxf(m, s), rs = expf(m - mn), p = expf(s - mn);
        l = l * rs + p;
        for (int t = 0; t < hd; ++t) acc[t] = acc[t] * rs + p * v[t];
        m = mn;
    }
    float *o = out + ((long)b * max + i) * D + h * hd;
    for (int t = 0; t < hd; ++t) o[t] = acc[t] / l;
}

/* ParT pair features (weaver's float32 formulas, as templates/c/pair.h) of particles a and c. */
__device__ __forceinline__ float hn_cu_logc(float x) { return logf(x > 1e-8f ? x : 1e-8f); }
__device__ void hn_cu_pair_feats(const float *p4, int a, int c, float *f)
{
    const float *va = p4 + 4 * a, *vc = p4 + 4 * c;
    float pta = sqrtf(__fadd_rn(__fmul_rn(va[0], va[0]), __fmul_rn(va[1], va[1])));
    float ptc = sqrtf(__fadd_rn(__fmul_rn(vc[0], vc[0]), __fmul_rn(vc[1], vc[1])));
    float dza = va[3] - va[2], dzc = vc[3] - vc[2];
    float ra = 0.5f * logf(1.0f + (2.0f * va[2]) / (dza > 1e-20f ? dza : 1e-20f));
    float rc = 0.5f * logf(1.0f + (2.0f * vc[2]) / (dzc > 1e-20f ? dzc : 1e-20f));
    float dphi = atan2f(va[1], va[0]) - atan2f(vc[1], vc[0]) + 3.14159265358979323846f;
    float m = fmodf(dphi, 6.28318530717958647692f);
    if (m != 0.0f && m < 0.0f) m += 6.28318530717958647692f;
    dphi = m - 3.14159265358979323846f;
    float dr = ra - rc, delta = sqrtf(__fadd_rn(__fmul_rn(dr, dr), __fmul_rn(dphi, dphi)));
    float ptmin = pta < ptc ? pta : ptc, ptsum = pta + ptc;
    float px = va[0] + vc[0], py = va[1] + vc[1], pz = va[2] + vc[2], e = va[3] + vc[3];
    f[0] = hn_cu_logc(ptmin * delta);
    f[1] = hn_cu_logc(ptmin / (ptsum > 1e-8f ? ptsum : 1e-8f));
    f[2] = hn_cu_logc(delta);
    f[3] = hn_cu_logc(__fsub_rn(__fmul_rn(e, e), __fadd_rn(__fadd_rn(__fmul_rn(px, px), __fmul_rn(py, py)), __fmul_rn(pz, pz))));
}

#define HN_CU_PAIR_TILE 32
#define HN_CU_PAIR_WIDTH 64
/* One per-pair MLP of ParT's PairEmbed over the tile in h[0] (input width dims[0], already batchnormed):
 * conv (BN folded) + GELU layers, ping-ponging in shared memory; returns the buffer holding the result. */
__device__ int hn_cu_pair_mlp(float (*h)[HN_CU_PAIR_TILE][HN_CU_PAIR_WIDTH], int nlayers, const int *dims,
                              const float *const *W, const float *const *B)
{
    int t = threadIdx.x, cur = 0;
    for (int l = 0; l < nlayers; ++l) {
        int in = dims[l], out = dims[l + 1];
        if (t < out)
            for (int q = 0; q < HN_CU_PAIR_TILE; ++q) {
                float s = B[l][t];
                for (int i = 0; i < in; ++i) s += W[l][t * in + i] * h[cur][q][i];
                h[1 - cur][q][t] = hn_cu_act(s, HN_CU_ACT_GELU);
            }
        __syncthreads();
        cur = 1 - cur;
    }
    return cur;
}

/* ParT pair embedding: a block of HN_CU_PAIR_WIDTH threads takes a tile of 32 pairs of one event
 * (blockIdx.y) through input batchnorm and the folded conv + GELU layers in shared memory, and writes
 * U[h][a][c] (and U[h][c][a] for the symmetric, unordered pairs); widths ≤ HN_CU_PAIR_WIDTH. p4 NULL:
 * features from pairs. uu (NULL: none): supplied pair features [max][max][dims2[0]] through the second
 * MLP (W2, B2, batchnorm m2..b2), summed; then every ordered pair is computed, as weaver does. */
__device__ void hn_cu_pair_embed(const float *p4, const float *pairs, const int *n, int max, int nfeat, const int *sel,
                                 const float *bm, const float *bv, const float *bg, const float *bb, int nlayers,
                                 const int *dims, const float *const *W, const float *const *B, float *U,
                                 const float *uu, const float *m2, const float *v2, const float *g2, const float *b2,
                                 const int *dims2, const float *const *W2, const float *const *B2)
{
    __shared__ float h[2][HN_CU_PAIR_TILE][HN_CU_PAIR_WIDTH];
    __shared__ float first_out[HN_CU_PAIR_TILE][HN_CU_PAIR_WIDTH];
    __shared__ int pa[HN_CU_PAIR_TILE], pc[HN_CU_PAIR_TILE];
    int b = blockIdx.y, cnt = n ? n[b] : max, t = threadIdx.x, heads = dims[nlayers];
    long first = (long)blockIdx.x * HN_CU_PAIR_TILE, npairs = uu ? (long)cnt * cnt : (long)cnt * (cnt + 1) / 2;
    if (first >= npairs) return;
    if (t < HN_CU_PAIR_TILE) {
        long p = first + t;
        int a = -1, c = 0;
        if (p < npairs) {
            if (uu) {
                a = (int)(p / cnt);
                c = (int)(p % cnt);
            } else {
                a = (int)((sqrtf(8.0f * (float)p + 1.0f) - 1.0f) * 0.5f);
                while ((long)a * (a + 1) / 2 > p) --a;
                while ((long)(a + 1) * (a + 2) / 2 <= p) ++a;
                c = (int)(p - (long)a * (a + 1) / 2);
            }
            float f[4];
            if (p4) hn_cu_pair_feats(p4 + (long)b * max * 4, a, c, f);
            for (int k = 0; k < nfeat; ++k) {
                float v = p4 ? f[sel[k]] : pairs[(((long)b * max + a) * max + c) * nfeat + k];
                h[0][t][k] = (v - bm[k]) / sqrtf(bv[k] + 1e-5f) * bg[k] + bb[k];
            }
        }
        pa[t] = a;
        pc[t] = c;
    }
    __syncthreads();
    int cur = hn_cu_pair_mlp(h, nlayers, dims, W, B);
    if (uu) {                                       /* the supplied features' MLP, summed */
        if (t < heads)
            for (int q = 0; q < HN_CU_PAIR_TILE; ++q) first_out[q][t] = h[cur][q][t];
        __syncthreads();
        if (t < HN_CU_PAIR_TILE && pa[t] >= 0)
            for (int k = 0; k < dims2[0]; ++k) {
                float v = uu[(((long)b * max + pa[t]) * max + pc[t]) * dims2[0] + k];
                h[0][t][k] = (v - m2[k]) / sqrtf(v2[k] + 1e-5f) * g2[k] + b2[k];
            }
        __syncthreads();
        cur = hn_cu_pair_mlp(h, nlayers, dims2, W2, B2);
        if (t < heads)
            for (int q = 0; q < HN_CU_PAIR_TILE; ++q) h[cur][q][t] += first_out[q][t];
        __syncthreads();
    }
    for (int q = 0; q < HN_CU_PAIR_TILE; ++q)
        if (pa[q] >= 0 && t < heads) {
            float *Ub = U + (long)b * heads * max * max + (long)t * max * max;
            Ub[(long)pa[q] * max + pc[q]] = h[cur][q][t];
            if (!uu) Ub[(long)pc[q] * max + pa[q]] = h[cur][q][t];
        }
}

/* ParT class attention: one block per event, blockDim.x = D threads (one channel each, D ≤ 1024 and a
 * multiple of the head width); raw token query, LN'd keys, online softmax per head. */
__device__ void hn_cu_class_attention(const float *cls, const float *X, const int *n, int max, int D, int heads,
                                      const float *W, const float *bias, const float *lg, const float *lb, float *out)
{
    extern __shared__ float sh[];              /* [D] key row, [2] reduction scratch per warp */
    float *u = sh, *red = sh + D;
    int b = blockIdx.x, o = threadIdx.x, hd = D / heads, cnt = n ? n[b] : max;
    const float *c = cls + (long)b * D;
    float q = bias[o];
    for (int i = 0; i < D; ++i) q += W[(long)o * D + i] * c[i];
    q *= rsqrtf((float)hd);
    float m = -HN_CU_INF, l = 0.0f, acc = 0.0f;
    for (int j = -1; j < cnt; ++j) {
        const float *row = j < 0 ? c : X + ((long)b * max + j) * D;
        float x = row[o], s = x;                /* LayerNorm of the key row (block reduction) */
        for (int k = 16; k; k >>= 1) s += __shfl_xor_sync(0xffffffffu, s, k);
        if (o % 32 == 0) red[o / 32] = s;
        __syncthreads();
        float mean = 0.0f;
        for (int w = 0; w < (D + 31) / 32; ++w) mean += red[w];
        mean /= D;
        __syncthreads();
        float d = (x - mean) * (x - mean);
        for (int k = 16; k; k >>= 1) d += __shfl_xor_sync(0xffffffffu, d, k);
        if (o % 32 == 0) red[o / 32] = d;
        __syncthreads();
        float var = 0.0f;
        for (int w = 0; w < (D + 31) / 32; ++w) var += red[w];
        u[o] = (x - mean) * rsqrtf(var / D + 1e-5f) * lg[o] + lb[o];
        __syncthreads();
        float kk = bias[D + o], vv = bias[2 * D + o];
        for (int i = 0; i < D; ++i) { kk += W[(long)(D + o) * D + i] * u[i]; vv += W[(long)(2 * D + o) * D + i] * u[i]; }
        float s2 = q * kk;                      /* the head's dot product over its hd lanes */
        for (int k = hd / 2; k; k >>= 1) s2 += __shfl_xor_sync(0xffffffffu, s2, k, hd);
        float mn = fmaxf(m, s2), rs = expf(m - mn), p = expf(s2 - mn);
        l = l * rs + p;
        acc = acc * rs + p * vv;
        m = mn;
        __syncthreads();
    }
    out[(long)b * D + o] = acc / l;
}

/* Class attention in GEMM form (when cuBLAS is there), step 1: the LayerNorm of every key row, the token
 * then the event's real rows ([cls; X], rows 0..n), one warp per row, into u [batch][max+1][D]. Step 2
 * is the host's: kv = u·W_kvᵀ and q = cls·W_qᵀ by cuBLAS (without biases). */
__device__ void hn_cu_cls_keys_ln(const float *cls, const float *X, const int *n, int batch, int max, int D,
                                  const float *lg, const float *lb, float *u)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (row >= (long)batch * (max + 1)) return;
    int b = (int)(row / (max + 1)), r = (int)(row % (max + 1)), cnt = n ? n[b] : max;
    if (r > cnt) return;
    const float *xr = r == 0 ? cls + (long)b * D : X + ((long)b * max + r - 1) * D;
    float s = 0.0f;
    for (int i = lane; i < D; i += 32) s += xr[i];
    for (int k = 16; k; k >>= 1) s += __shfl_xor_sync(0xffffffffu, s, k);
    float mean = s / D, v = 0.0f;
    for (int i = lane; i < D; i += 32) v += (xr[i] - mean) * (xr[i] - mean);
    for (int k = 16; k; k >>= 1) v += __shfl_xor_sync(0xffffffffu, v, k);
    float inv = rsqrtf(v / D + 1e-5f);
    for (int i = lane; i < D; i += 32) u[row * D + i] = (xr[i] - mean) * inv * lg[i] + lb[i];
}

/* Step 3: one block per event, D threads (a channel each): the query q + b_q (scaled), keys and values
 * kv + b_k, b_v of rows 0..n in the token-first order of hn_cu_class_attention, online softmax per head. */
__device__ void hn_cu_cls_attend(const float *q, const float *kv, const int *n, int max, int D, int heads,
                                 const float *bias, float *out)
{
    int b = blockIdx.x, o = threadIdx.x, hd = D / heads, cnt = n ? n[b] : max;
    float qq = (q[(long)b * D + o] + bias[o]) * rsqrtf((float)hd), bk = bias[D + o], bv = bias[2 * D + o];
    float m = -HN_CU_INF, l = 0.0f, acc = 0.0f;
    for (int j = 0; j <= cnt; ++j) {
        const float *row = kv + ((long)b * (max + 1) + j) * 2 * D;
        float s2 = qq * (row[o] + bk);
        for (int k = hd / 2; k; k >>= 1) s2 += __shfl_xor_sync(0xffffffffu, s2, k, hd);
        float mn = fmaxf(m, s2), rs = expf(m - mn), p = expf(s2 - mn);
        l = l * rs + p;
        acc = acc * rs + p * (row[D + o] + bv);
        m = mn;
    }
    out[(long)b * D + o] = acc / l;
}

#define HN_CU_EDGE_K 16
#define HN_CU_EDGE_WIDTH 256
/* ParticleNet EdgeConv for one point (blockIdx.x) of one event (blockIdx.y); blockDim.x ≥ every width.
 * Distances to the event's real points in shared memory, the k (≤ 16) nearest by weaver's ordering
 * (one thread selects, ties to the lower index, the first of the k+1 dropped, padding neighbours as
 * zero features), then the edge MLP on [k][width] tiles in shared memory: the first layer per point
 * from W1 = [Wa − Wb | Wb] (folded at load time), mean over the neighbours, shortcut, ReLU. */
__device__ void hn_cu_edgeconv(const float *x, const float *p, const int *n, int max, int C, int Pd, int k,
                               int nlayers, const int *dims, const float *const *W, const float *const *B,
                               const float *Wsc, const float *bsc, float *y)
{
    __shared__ float d[512];
    __shared__ int nb[HN_CU_EDGE_K];
    __shared__ float h[2][HN_CU_EDGE_K][HN_CU_EDGE_WIDTH];
    int i = blockIdx.x, b = blockIdx.y, t = threadIdx.x, cnt = n ? n[b] : max;
    if (i >= cnt) return;
    const float *xe = x + (long)b * max * C, *pe = p + (long)b * max * Pd, *pi = pe + (long)i * Pd;
    float sqi = 0.0f;
    for (int c = 0; c < Pd; ++c) sqi += pi[c] * pi[c];
    for (int j = t; j < cnt; j += blockDim.x) {
        const float *pj = pe + (long)j * Pd;
        float sqj = 0.0f, inner = 0.0f;
        for (int c = 0; c < Pd; ++c) { sqj += pj[c] * pj[c]; inner += pi[c] * pj[c]; }
        d[j] = -sqi - (-2.0f * inner) - sqj;
    }
    __syncthreads();
    if (t == 0) {                                   /* top k+1 by repeated argmax (ties to the lower index) */
        int take = k + 1 < cnt ? k + 1 : cnt;
        for (int q = 0; q < take; ++q) {
            int arg = -1;
            for (int j = 0; j < cnt; ++j)
                if (d[j] > -HN_CU_INF && (arg < 0 || d[j] > d[arg])) arg = j;
            if (q > 0) nb[q - 1] = arg;                /* the first (the point itself) is dropped */
            d[arg] = -HN_CU_INF;
        }
        for (int q = take - 1; q < k; ++q) nb[q] = -1;   /* padding neighbours: zero features */
        if (take == 0) for (int q = 0; q < k; ++q) nb[q] = -1;
    }
    __syncthreads();
    const float *xi = xe + (long)i * C;
    int c1 = dims[0];
    if (t < c1) {                                   /* layer 1: ReLU(A_i + B_j) */
        const float *w = W[0] + (long)t * 2 * C;
        float a = B[0][t];
        for (int c = 0; c < C; ++c) a += w[c] * xi[c];
        for (int q = 0; q < k; ++q) {
            float bj = 0.0f;
            if (nb[q] >= 0) {
                const float *xj = xe + (long)nb[q] * C;
                for (int c = 0; c < C; ++c) bj += w[C + c] * xj[c];
            }
            h[0][q][t] = fmaxf(a + bj, 0.0f);
        }
    }
    __syncthreads();
    int cur = 0;
    for (int l = 1; l < nlayers; ++l) {
        int in = dims[l - 1], out = dims[l];
        if (t < out)
            for (int q = 0; q < k; ++q) {
                float s = B[l][t];
                for (int c = 0; c < in; ++c) s += W[l][(long)t * in + c] * h[cur][q][c];
                h[1 - cur][q][t] = fmaxf(s, 0.0f);
            }
        __syncthreads();
        cur = 1 - cur;
    }
    int cout = dims[nlayers - 1];
    if (t < cout) {
        float mean = 0.0f;
        for (int q = 0; q < k; ++q) mean += h[cur][q][t];
        mean /= (float)k;
        float sc = xi[t];
        if (Wsc) {
            sc = bsc[t];
            for (int c = 0; c < C; ++c) sc += Wsc[(long)t * C + c] * xi[c];
        }
        y[((long)b * max + i) * cout + t] = fmaxf(sc + mean, 0.0f);
    }
}

#endif
