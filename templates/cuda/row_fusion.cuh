/* row_fusion.cuh — a packed row held across a warp: the steps of the fused gathers and epilogues around packed GEMMs.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real).
 *
 * compiler/emit_cuda_fuse.c writes, per packed linear layer, a kernel that calls these steps in order on
 * one row per warp (lane l holds elements l, l + 32, …: coalesced loads and stores), so a LayerNorm,
 * bias, activation or residual costs no pass over memory of its own. Each step computes what the
 * unfused kernel of its node computes (rows.cuh, packing.cuh), in the same order of operations. */
#ifndef HN_CU_ROW_FUSION_CUH
#define HN_CU_ROW_FUSION_CUH

#define HN_ROW_SLOTS(W) (((W) + 31) / 32)

/* The padded row of packed row p: event row_event[p], row p - offs[event] of [max][W]. */
__device__ __forceinline__ long hn_row_padded(const int *offs, const int *row_event, long p, int max, int W)
{
    int e = row_event[p];
    return ((long)e * max + (p - offs[e])) * W;
}

template <int W> __device__ __forceinline__ void hn_row_load(float *v, const float *src, int lane)
{
#pragma unroll
    for (int k = 0; k < HN_ROW_SLOTS(W); ++k)
        if (lane + 32 * k < W) v[k] = src[lane + 32 * k];
}

template <int W> __device__ __forceinline__ void hn_row_store(const float *v, float *dst, int lane)
{
#pragma unroll
    for (int k = 0; k < HN_ROW_SLOTS(W); ++k)
        if (lane + 32 * k < W) dst[lane + 32 * k] = v[k];
}

/* A linear layer's bias (NULL: none) and activation, as hn_scatter_bias_act. */
template <int W> __device__ __forceinline__ void hn_row_bias_act(float *v, const float *bias, int act, int lane)
{
#pragma unroll
    for (int k = 0; k < HN_ROW_SLOTS(W); ++k)
        if (lane + 32 * k < W) v[k] = hn_cu_act(v[k] + (bias ? bias[lane + 32 * k] : 0.0f), act);
}

/* LayerNorm with biased variance, as hn_cu_layernorm (each lane sums its elements in order, then the
 * butterfly across lanes). */
template <int W> __device__ __forceinline__ void hn_row_layernorm(float *v, const float *g, const float *bt, float eps,
                                                                  int lane)
{
    float s = 0.0f, var = 0.0f;
#pragma unroll
    for (int k = 0; k < HN_ROW_SLOTS(W); ++k)
        if (lane + 32 * k < W) s += v[k];
    for (int m = 16; m; m >>= 1) s += __shfl_xor_sync(0xffffffffu, s, m);
    float mean = s / W;
#pragma unroll
    for (int k = 0; k < HN_ROW_SLOTS(W); ++k)
        if (lane + 32 * k < W) var += (v[k] - mean) * (v[k] - mean);
    for (int m = 16; m; m >>= 1) var += __shfl_xor_sync(0xffffffffu, var, m);
    float inv = rsqrtf(var / W + eps);
#pragma unroll
    for (int k = 0; k < HN_ROW_SLOTS(W); ++k)
        if (lane + 32 * k < W) v[k] = (v[k] - mean) * inv * g[lane + 32 * k] + bt[lane + 32 * k];
}

/* An add with another row: v + o (add is the row's own operand order-free). */
template <int W> __device__ __forceinline__ void hn_row_add(float *v, const float *o, int lane)
{
#pragma unroll
    for (int k = 0; k < HN_ROW_SLOTS(W); ++k)
        if (lane + 32 * k < W) v[k] = v[k] + o[lane + 32 * k];
}

/* A residual y = x + w⊙x2 (hn_cu_rowwise kind 4): v is x and o is x2 when v_is_x, else the other way. */
template <int W> __device__ __forceinline__ void hn_row_residual(float *v, const float *w, const float *o, bool v_is_x,
                                                                 int lane)
{
#pragma unroll
    for (int k = 0; k < HN_ROW_SLOTS(W); ++k) {
        int i = lane + 32 * k;
        if (i < W) v[k] = v_is_x ? v[k] + w[i] * o[i] : o[i] + w[i] * v[k];
    }
}

#endif
