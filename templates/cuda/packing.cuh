/* packing.cuh — the packed real rows of a chunk: row → event, gather before and scatter (bias, activation) after a GEMM.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_PACKING_CUH
#define HN_CU_PACKING_CUH

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

#endif
