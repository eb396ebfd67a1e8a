/* linear.cuh — linear layers: the plain kernel (a thread per output) and the bias/activation after a cuBLAS GEMM.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_LINEAR_CUH
#define HN_CU_LINEAR_CUH

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

#endif
