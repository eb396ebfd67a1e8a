/* attention.cuh — multi-head attention with bias U and key mask (online softmax).
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_ATTENTION_CUH
#define HN_CU_ATTENTION_CUH

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

#endif
