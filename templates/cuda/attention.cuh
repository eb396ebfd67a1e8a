/* attention.cuh — multi-head attention with bias U and key mask (flash style: shared tiles, online softmax).
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_ATTENTION_CUH
#define HN_CU_ATTENTION_CUH

/* Queries per block and keys per shared tile of the attention kernel. */
#define HN_ATT_QUERIES 64
#define HN_ATT_KEYS 32

/* Multi-head attention with bias U [heads][max][max] (or NULL) and the key mask, flash style: a block per
 * (event, head, HN_ATT_QUERIES queries) — blockIdx.x = head · query tiles + tile, blockIdx.y = event — one
 * thread per query. The real keys go through shared memory in tiles of HN_ATT_KEYS: each block reads K, V
 * and its rows of U once, coalesced; the softmax is online, rescaled once per tile. HD: the head width. */
template <int HD>
__device__ void hn_cu_attention(const float *qkv, const int *n, int max, int heads, const float *U, float *out)
{
    __shared__ float ks[HN_ATT_KEYS][HD], vs[HN_ATT_KEYS][HD], us[HN_ATT_QUERIES][HN_ATT_KEYS + 1];
    int tiles = (max + HN_ATT_QUERIES - 1) / HN_ATT_QUERIES, b = blockIdx.y, h = blockIdx.x / tiles;
    int q0 = (blockIdx.x % tiles) * HN_ATT_QUERIES, t = threadIdx.x, i = q0 + t;
    int cnt = n ? n[b] : max, D = heads * HD;
    if (q0 >= cnt) return;                                  /* the whole block: no real query here */
    const float *base = qkv + (long)b * max * 3 * D;
    const float *u = U ? U + ((long)b * heads + h) * max * max : 0;
    bool live = i < cnt;
    float scale = rsqrtf((float)HD), q[HD], acc[HD], m = -HN_CU_INF, l = 0.0f;
#pragma unroll
    for (int d = 0; d < HD; ++d) {
        q[d] = live ? base[(long)i * 3 * D + h * HD + d] * scale : 0.0f;
        acc[d] = 0.0f;
    }
    for (int j0 = 0; j0 < cnt; j0 += HN_ATT_KEYS) {
        int nk = cnt - j0 < HN_ATT_KEYS ? cnt - j0 : HN_ATT_KEYS;
        __syncthreads();                                    /* the previous tile is used up */
        for (int e = t; e < nk * HD; e += blockDim.x) {
            const float *row = base + (long)(j0 + e / HD) * 3 * D + h * HD;
            ks[e / HD][e % HD] = row[D + e % HD];
            vs[e / HD][e % HD] = row[2 * D + e % HD];
        }
        if (u)
            for (int e = t; e < HN_ATT_QUERIES * HN_ATT_KEYS; e += blockDim.x) {
                int r = e / HN_ATT_KEYS, j = e % HN_ATT_KEYS;
                if (q0 + r < cnt && j < nk) us[r][j] = u[(long)(q0 + r) * max + j0 + j];
            }
        __syncthreads();
        if (!live) continue;
        float s[HN_ATT_KEYS], mt = m;
#pragma unroll
        for (int j = 0; j < HN_ATT_KEYS; ++j) {
            if (j >= nk) break;
            float d = 0.0f;
#pragma unroll
            for (int c = 0; c < HD; ++c) d += q[c] * ks[j][c];
            s[j] = u ? d + us[t][j] : d;
            mt = fmaxf(mt, s[j]);
        }
        float rs = expf(m - mt);
        l *= rs;
#pragma unroll
        for (int c = 0; c < HD; ++c) acc[c] *= rs;
#pragma unroll
        for (int j = 0; j < HN_ATT_KEYS; ++j) {
            if (j >= nk) break;
            float p = expf(s[j] - mt);
            l += p;
#pragma unroll
            for (int c = 0; c < HD; ++c) acc[c] += p * vs[j][c];
        }
        m = mt;
    }
    if (!live) return;
    float *o = out + ((long)b * max + i) * D + h * HD;
#pragma unroll
    for (int d = 0; d < HD; ++d) o[d] = acc[d] / l;
}

#endif
