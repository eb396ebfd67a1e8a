/* attention.cuh — multi-head attention with bias U and key mask (flash style: shared tiles, online softmax).
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_ATTENTION_CUH
#define HN_CU_ATTENTION_CUH

/* Queries per block and keys per shared tile of the attention kernels. */
#define HN_ATT_QUERIES 64
#define HN_ATT_KEYS 32

/* No dropout on the probabilities (inference): every key's factor is 1. */
struct hn_cu_keep_all {
    __device__ float operator()(int, int) const { return 1.0f; }
};

/* One block's queries q0 … q0 + HN_ATT_QUERIES − 1 of one event and head, flash style, a thread per query:
 *   s_ij = (q_i·scale)·k_j + u_ij,  o_i = Σ_j keep(i, j)·softmax_j(s_ij)·v_j  over the cnt real keys,
 * the softmax's sum over every key (kept or dropped). The keys go through shared memory in tiles of
 * HN_ATT_KEYS: each block reads K, V and its rows of U once, coalesced; the softmax is online, rescaled once
 * per tile. ev: the event's qkv [max][3D] (head h's columns at h·hd); u: the head's U [max][max] or NULL;
 * out: the event's output [max][D], real query rows written. Every thread of the block calls it (barriers
 * inside); HDMAX: the register and tile width, hd ≤ HDMAX the head width. UNROLL: HDMAX when hd is HDMAX
 * (the loops unrolled, the arrays in registers), 1 for the generic form (any hd; loops kept, so that NVRTC
 * compiles it in a fraction of the time). */
template <int HDMAX, int UNROLL, class Keep>
__device__ __forceinline__ void hn_cu_attention_block(const float *ev, const float *u, int cnt, int max, int D, int hd,
                                                      int h, int q0, float scale, Keep keep, float *out)
{
    __shared__ float ks[HN_ATT_KEYS][HDMAX], vs[HN_ATT_KEYS][HDMAX], us[HN_ATT_QUERIES][HN_ATT_KEYS + 1];
    int t = threadIdx.x, i = q0 + t;
    bool live = i < cnt;
    float q[HDMAX], acc[HDMAX], m = -HN_CU_INF, l = 0.0f;
#pragma unroll (UNROLL)
    for (int d = 0; d < HDMAX; ++d) {
        q[d] = live && d < hd ? ev[(long)i * 3 * D + h * hd + d] * scale : 0.0f;
        acc[d] = 0.0f;
    }
    for (int j0 = 0; j0 < cnt; j0 += HN_ATT_KEYS) {
        int nk = cnt - j0 < HN_ATT_KEYS ? cnt - j0 : HN_ATT_KEYS;
        __syncthreads();                                    /* the previous tile is used up */
        for (int e = t; e < nk * hd; e += blockDim.x) {
            const float *row = ev + (long)(j0 + e / hd) * 3 * D + h * hd;
            ks[e / hd][e % hd] = row[D + e % hd];
            vs[e / hd][e % hd] = row[2 * D + e % hd];
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
#pragma unroll (UNROLL)
            for (int c = 0; c < HDMAX; ++c)
                if (c < hd) d += q[c] * ks[j][c];
            s[j] = u ? d + us[t][j] : d;
            mt = fmaxf(mt, s[j]);
        }
        float rs = expf(m - mt);
        l *= rs;
#pragma unroll (UNROLL)
        for (int c = 0; c < HDMAX; ++c) acc[c] *= rs;
#pragma unroll
        for (int j = 0; j < HN_ATT_KEYS; ++j) {
            if (j >= nk) break;
            float e = expf(s[j] - mt), pe = e * keep(i, j0 + j);
            l += e;
#pragma unroll (UNROLL)
            for (int c = 0; c < HDMAX; ++c) acc[c] += pe * vs[j][c];
        }
        m = mt;
    }
    if (!live) return;
    float *o = out + (long)i * D + h * hd;
#pragma unroll (UNROLL)
    for (int d = 0; d < HDMAX; ++d)
        if (d < hd) o[d] = acc[d] / l;
}

/* Multi-head attention with bias U [heads][max][max] (or NULL) and the key mask: a block per (event, head,
 * HN_ATT_QUERIES queries) — blockIdx.x = head · query tiles + tile, blockIdx.y = event — HD the head width.
 * Not inlined: every attention node's kernel calls the one copy, so NVRTC compiles the unrolled body once
 * per head width rather than once per node (the JetClass ParT's load-time compile: 23 s inlined, 10 s). */
template <int HD>
__device__ __noinline__ void hn_cu_attention(const float *qkv, const int *n, int max, int heads, const float *U, float *out)
{
    int tiles = (max + HN_ATT_QUERIES - 1) / HN_ATT_QUERIES, b = blockIdx.y, h = blockIdx.x / tiles;
    int q0 = (blockIdx.x % tiles) * HN_ATT_QUERIES, cnt = n ? n[b] : max, D = heads * HD;
    if (q0 >= cnt) return;                                  /* the whole block: no real query here */
    hn_cu_attention_block<HD, HD>(qkv + (long)b * max * 3 * D, U ? U + ((long)b * heads + h) * max * max : 0, cnt, max, D,
                              HD, h, q0, rsqrtf((float)HD), hn_cu_keep_all(), out + (long)b * max * D);
}

#endif
