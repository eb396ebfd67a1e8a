/* class_attention.cuh — ParT's class attention: the one-kernel form and the GEMM form.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_CLASS_ATTENTION_CUH
#define HN_CU_CLASS_ATTENTION_CUH

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

#endif
