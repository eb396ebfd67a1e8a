/* common.cuh — the definitions every CUDA kernel body shares: infinity for NVRTC, activations, real rows.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_COMMON_CUH
#define HN_CU_COMMON_CUH

#define HN_CU_INF __int_as_float(0x7f800000)
#ifndef INFINITY
#define INFINITY HN_CU_INF   /* NVRTC has no math.h; generated constants use INFINITY */
#endif

#define HN_CU_ACT_NONE 0
#define HN_CU_ACT_RELU 1
#define HN_CU_ACT_GELU 2
#define HN_CU_ACT_SIGMOID 3   /* CUDA-only code: the sigmoid op, through hn_cu_rowwise */

__device__ __forceinline__ float hn_cu_act(float x, int act)
{
    if (act == HN_CU_ACT_RELU) return x > 0.0f ? x : 0.0f;
    if (act == HN_CU_ACT_GELU) return 0.5f * x * erfcf(-0.70710678118654752f * x);
    if (act == HN_CU_ACT_SIGMOID) return 1.0f / (1.0f + expf(-x));
    return x;
}

/* Rows of a tensor: event b, row r of `rows` per event; real when n is NULL or r < n[b]·per_row. */
__device__ __forceinline__ bool hn_cu_real(const int *n, int b, int r, int per_row)
{
    return !n || r < n[b] * per_row;
}

#endif
