/* train_attention.cuh — the GPU training kernels of the multi-head `attention` op (ParT's particle attention:
 * bias U, key mask j < n), the counterparts of templates/c/backward_attention.h, launched by
 * gpu/train_attention.c (hepnc/gpu_train_attention.h) with the shapes as arguments. Per event b and head h:
 *   s_ij = (q_i/√d)·k_j + U[b][h][i][j],   p_ij = softmax_j(s_ij) over j < n[b],   o_i = Σ_j p'_ij v_j
 * with p'_ij = p_ij·m_ij (dropout on the probabilities, m_ij = 1/(1 − rate) or 0; rate 0: m = 1), and
 *   dp_ij = m_ij·(do_i·v_j),   c_i = Σ_j p_ij dp_ij,   ds_ij = p_ij·(dp_ij − c_i)
 *   dq_i = (1/√d)·Σ_j ds_ij k_j,   dk_j = Σ_i ds_ij (q_i/√d),   dv_j = Σ_i p'_ij do_i.
 Every kernel is a block per (event, head, 64 rows), a thread per
 * row, the other side's rows through shared tiles of 32 (read once per block, coalesced). The forward is
 * attention.cuh's block with the dropout mask. The backward is two passes in the style of flash-attention
 * 2, no atomics: a thread per query row (softmax statistics, ds row, dq) and then a thread per key row
 * (dk, dv, from the stored ds and statistics). Every sum runs in the C code's order (j ascending for dq,
 * i ascending for dk and dv), so the results do not depend on the launch. Scores are rounded as the C loop form: q·(1/√d) first, then
 * the dot with k, then + U. The dropout mask is backward_dropout.h's hash of (seed, key, element index),
 * element (b, h, i, j) at base + ((b·heads + h)·max + i)·max + j, so it matches the C step's mask.
 * Layouts: qkv [batch][max][3D] (q | k | v, head h in columns h·d … h·d+d−1 of each, D = heads·d),
 * U and ds [batch][heads][max][max], out and dout [batch][max][D]. head_dim ≤ 64 (register arrays);
 * the _d16 kernels are the same bodies with d = 16 known at compile time (ParT's heads: unrolled loops,
 * arrays in registers). */
#ifndef HN_CU_TRAIN_ATTENTION_CUH
#define HN_CU_TRAIN_ATTENTION_CUH

#define HN_CUTA_MAX_HD 64         /* the largest head_dim of these kernels */

/* Real rows of event b: n[b] clamped to [0, max] (n NULL: max). */
__device__ __forceinline__ int hn_cuta_count(const int *n, int b, int max)
{
    int c = n ? n[b] : max;
    return c < 0 ? 0 : c > max ? max : c;
}

/* Dropout factor of mask element idx: 1/(1 − rate) when kept, 0 when dropped (backward_dropout.h's
 * hn_kt_dropout_keep: a SplitMix64 finaliser, its top 24 bits as u in [0, 1), kept when u ≥ rate);
 * 1 when rate ≤ 0 (no dropout). */
__device__ __forceinline__ float hn_cuta_keep(float rate, unsigned long long seed, unsigned long long key,
                                              unsigned long long idx)
{
    if (rate <= 0.0f) return 1.0f;
    unsigned long long z = seed ^ (key * 0x9e3779b97f4a7c15ull) ^ (idx * 0xd1342543de82ef95ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f) >= rate ? 1.0f / (1.0f - rate) : 0.0f;
}

/* Dropout on the probabilities of the training forward: element (i, j) of this (event, head) at row0 + i·max + j. */
struct hn_cuta_dropout {
    float rate;
    unsigned long long seed, key, row0;
    int max;
    __device__ float operator()(int i, int j) const
    {
        return hn_cuta_keep(rate, seed, key, row0 + (unsigned long long)i * (unsigned long long)max + (unsigned long long)j);
    }
};

/* Σ_c a[c]·b[c] over c < hd, c ascending (the C loops' order); a, b of HDMAX floats */
template <int HDMAX, int UNROLL> __device__ __forceinline__ float hn_cuta_dot(const float *a, const float *b, int hd)
{
    float s = 0.0f;
#pragma unroll (UNROLL)
    for (int c = 0; c < HDMAX; ++c)
        if (c < hd) s += a[c] * b[c];
    return s;
}

/* Where a block of these kernels works: event b, head h, rows r0 … r0 + HN_ATT_QUERIES − 1 (queries for the
 * forward and pass 1, keys for pass 2); grid (heads · row tiles, batch), HN_ATT_QUERIES threads. */
struct hn_cuta_tile {
    int b, h, r0, cnt;
    long bh;                                              /* (b·heads + h)·max: row 0 of this head in U, ds, stats */
};

__device__ __forceinline__ hn_cuta_tile hn_cuta_tile_of(const int *n, int max, int heads)
{
    int tiles = (max + HN_ATT_QUERIES - 1) / HN_ATT_QUERIES;
    hn_cuta_tile T;
    T.b = blockIdx.y, T.h = blockIdx.x / tiles, T.r0 = (blockIdx.x % tiles) * HN_ATT_QUERIES;
    T.cnt = hn_cuta_count(n, T.b, max);
    T.bh = ((long)T.b * heads + T.h) * max;
    return T;
}

/* The training forward: attention.cuh's block with the dropout mask and 1/√d as the C step; padding rows
 * of out (i ≥ n[b]) set to 0, the C step's value. */
template <int HDMAX, int UNROLL>
__device__ __forceinline__ void hn_cuta_forward(const float *qkv, const float *U, const int *n, int max, int heads, int hd,
                                                float rate, unsigned long long seed, unsigned long long key,
                                                unsigned long long base, float *out)
{
    hn_cuta_tile T = hn_cuta_tile_of(n, max, heads);
    int D = heads * hd, i = T.r0 + threadIdx.x;
    if (i >= T.cnt && i < max)
        for (int c = 0; c < hd; ++c) out[((long)T.b * max + i) * D + T.h * hd + c] = 0.0f;
    if (T.r0 >= T.cnt) return;                            /* the whole block: no real query here */
    hn_cuta_dropout keep = { rate, seed, key, base + (unsigned long long)T.bh * (unsigned long long)max, max };
    hn_cu_attention_block<HDMAX, UNROLL>(qkv + (long)T.b * max * 3 * D, U ? U + T.bh * max : 0, T.cnt, max, D, hd, T.h, T.r0,
                                 1.0f / sqrtf((float)hd), keep, out + (long)T.b * max * D);
}

/* The tile of keys from j0: K, V (and U's rows r0 …) of keys j0 … j0 + nk − 1 into shared tiles, coalesced,
 * between two barriers (every thread of the block is done with the previous tile before it is overwritten,
 * and sees the whole new one after); returns nk, at most HN_ATT_KEYS. Every thread of the block calls it. */
template <int HDMAX, int UNROLL>
__device__ __forceinline__ int hn_cuta_key_tile(const float *ev, const float *u, int D, int hd, int h, int r0, int cnt,
                                                int max, int j0, float (*ks)[HDMAX], float (*vs)[HDMAX],
                                                float (*us)[HN_ATT_KEYS + 1])
{
    int nk = cnt - j0 < HN_ATT_KEYS ? cnt - j0 : HN_ATT_KEYS;
    __syncthreads();
    for (int e = threadIdx.x; e < nk * hd; e += blockDim.x) {
        const float *row = ev + (long)(j0 + e / hd) * 3 * D + h * hd;
        ks[e / hd][e % hd] = row[D + e % hd];
        vs[e / hd][e % hd] = row[2 * D + e % hd];
    }
    if (u)
        for (int e = threadIdx.x; e < HN_ATT_QUERIES * HN_ATT_KEYS; e += blockDim.x) {
            int r = e / HN_ATT_KEYS, j = e % HN_ATT_KEYS;
            if (r0 + r < cnt && j < nk) us[r][j] = u[(long)(r0 + r) * max + j0 + j];
        }
    __syncthreads();
    return nk;
}

/* Query row i against key j of a tile: the score s_ij = q_i·k_j (+ u_ij when u is not NULL) and dp_ij =
 * m_ij·(do_i·v_j); pass 1 computes them twice, with the same operations, so both passes see the same values. */
template <int HDMAX, int UNROLL>
__device__ __forceinline__ void hn_cuta_score(const float *q, const float *g, const float *k, const float *v, const float *u,
                                              float keep, int hd, float *s, float *dp)
{
    *s = hn_cuta_dot<HDMAX, UNROLL>(q, k, hd);
    if (u) *s += *u;
    *dp = hn_cuta_dot<HDMAX, UNROLL>(g, v, hd) * keep;
}

/* Backward pass 1, a block per (event, head, HN_ATT_QUERIES query rows), a thread per query row i, the keys
 * in shared tiles: first the softmax statistics m_i, l_i and c_i = Σ_j p_ij dp_ij (online, per key in
 * order), then per tile again s_ij and dp_ij (the same operations, the same values), ds_ij = p_ij·(dp_ij −
 * c_i) into ds (through a shared tile, stored coalesced), dq_i = (1/√d)·Σ_j ds_ij k_j into dqkv's q columns
 * of head h, stats[row] = (m_i, 1/l_i) for pass 2. Padding (i ≥ n[b]): dq, the ds row and stats 0; real
 * rows: ds_ij = 0 for j ≥ n[b]. */
template <int HDMAX, int UNROLL>
__device__ __forceinline__ void hn_cuta_bw_rows(const float *qkv, const float *U, const int *n, int max, int heads, int hd,
                                                const float *dout, float rate, unsigned long long seed,
                                                unsigned long long key, unsigned long long base, float *dqkv, float *ds,
                                                float *stats)
{
    __shared__ float ks[HN_ATT_KEYS][HDMAX], vs[HN_ATT_KEYS][HDMAX], us[HN_ATT_QUERIES][HN_ATT_KEYS + 1];
    __shared__ float dst[HN_ATT_QUERIES][HN_ATT_KEYS + 1];
    hn_cuta_tile T = hn_cuta_tile_of(n, max, heads);
    int D = heads * hd, ld = 3 * D, t = threadIdx.x, i = T.r0 + t, cnt = T.cnt;
    long row = T.bh + i;                                  /* row [b][h][i] of ds, U and stats */
    if (i >= cnt && i < max) {                            /* a padding query row */
        for (int c = 0; c < hd; ++c) dqkv[((long)T.b * max + i) * ld + T.h * hd + c] = 0.0f;
        for (int j = 0; j < max; ++j) ds[row * max + j] = 0.0f;
        stats[2 * row] = 0.0f, stats[2 * row + 1] = 0.0f;
    }
    if (T.r0 >= cnt) return;                              /* the whole block */
    const float *ev = qkv + (long)T.b * max * ld, *u = U ? U + T.bh * max : 0;
    bool live = i < cnt;
    hn_cuta_dropout keep = { rate, seed, key, base + (unsigned long long)T.bh * (unsigned long long)max, max };
    float scale = 1.0f / sqrtf((float)hd), q[HDMAX], g[HDMAX], acc[HDMAX];
#pragma unroll (UNROLL)
    for (int c = 0; c < HDMAX; ++c) {
        q[c] = live && c < hd ? ev[(long)i * ld + T.h * hd + c] * scale : 0.0f;
        g[c] = live && c < hd ? dout[((long)T.b * max + i) * D + T.h * hd + c] : 0.0f;
        acc[c] = 0.0f;
    }
    float m = -HN_CU_INF, l = 0.0f, cc = 0.0f;
    for (int j0 = 0; j0 < cnt; j0 += HN_ATT_KEYS) {      /* the statistics */
        int nk = hn_cuta_key_tile<HDMAX, UNROLL>(ev, u, D, hd, T.h, T.r0, cnt, max, j0, ks, vs, us);
        for (int j = 0; live && j < nk; ++j) {
            float s, dp;
            hn_cuta_score<HDMAX, UNROLL>(q, g, ks[j], vs[j], u ? &us[t][j] : 0, keep(i, j0 + j), hd, &s, &dp);
            float mn = fmaxf(m, s), rs = expf(m - mn), e = expf(s - mn);
            l = l * rs + e;
            cc = cc * rs + e * dp;
            m = mn;
        }
    }
    float inv = 1.0f / l;
    cc *= inv;
    for (int j0 = 0; j0 < cnt; j0 += HN_ATT_KEYS) {      /* ds and dq */
        int nk = hn_cuta_key_tile<HDMAX, UNROLL>(ev, u, D, hd, T.h, T.r0, cnt, max, j0, ks, vs, us);
        for (int j = 0; live && j < nk; ++j) {
            float s, dp;
            hn_cuta_score<HDMAX, UNROLL>(q, g, ks[j], vs[j], u ? &us[t][j] : 0, keep(i, j0 + j), hd, &s, &dp);
            float d = expf(s - m) * inv * (dp - cc);
            dst[t][j] = d;
#pragma unroll (UNROLL)
            for (int c = 0; c < HDMAX; ++c) acc[c] += d * ks[j][c];
        }
        __syncthreads();
        for (int e = t; e < HN_ATT_QUERIES * HN_ATT_KEYS; e += blockDim.x) {   /* the tile of ds, coalesced */
            int r = e / HN_ATT_KEYS, j = e % HN_ATT_KEYS;
            if (T.r0 + r < cnt && j < nk) ds[(T.bh + T.r0 + r) * max + j0 + j] = dst[r][j];
        }
    }
    for (int e = t; e < HN_ATT_QUERIES * (max - cnt); e += blockDim.x) {   /* real rows: ds 0 past the keys */
        int r = e / (max - cnt), j = cnt + e % (max - cnt);
        if (T.r0 + r < cnt) ds[(T.bh + T.r0 + r) * max + j] = 0.0f;
    }
    if (!live) return;
    for (int c = 0; c < hd; ++c) dqkv[((long)T.b * max + i) * ld + T.h * hd + c] = acc[c] * scale;
    stats[2 * row] = m, stats[2 * row + 1] = inv;
}

/* Backward pass 2, a block per (event, head, HN_ATT_QUERIES key rows), a thread per key row j, after pass 1:
 * the query rows in shared tiles of HN_ATT_KEYS (q_i/√d, do_i, their statistics, and the tiles of U and
 * ds, coalesced); p_ij = exp(s_ij − m_i)/l_i with s_ij recomputed, dk_j = Σ_i ds_ij (q_i/√d), dv_j = Σ_i
 * p'_ij do_i (i ascending) into dqkv's k and v columns of head h; 0 there for padding rows (j ≥ n[b]). */
template <int HDMAX, int UNROLL>
__device__ __forceinline__ void hn_cuta_bw_cols(const float *qkv, const float *U, const int *n, int max, int heads, int hd,
                                                const float *dout, float rate, unsigned long long seed,
                                                unsigned long long key, unsigned long long base, const float *ds,
                                                const float *stats, float *dqkv)
{
    __shared__ float qs[HN_ATT_KEYS][HDMAX], gs[HN_ATT_KEYS][HDMAX], st[HN_ATT_KEYS][2];
    __shared__ float us[HN_ATT_KEYS][HN_ATT_QUERIES + 1], dss[HN_ATT_KEYS][HN_ATT_QUERIES + 1];
    hn_cuta_tile T = hn_cuta_tile_of(n, max, heads);
    int D = heads * hd, ld = 3 * D, t = threadIdx.x, j = T.r0 + t, cnt = T.cnt;
    float *dk = dqkv + ((long)T.b * max + j) * ld + D + T.h * hd, *dv = dk + D;
    if (j >= cnt && j < max)                              /* a padding key row */
        for (int c = 0; c < hd; ++c) dk[c] = 0.0f, dv[c] = 0.0f;
    if (T.r0 >= cnt) return;                              /* the whole block */
    const float *ev = qkv + (long)T.b * max * ld;
    bool live = j < cnt;
    hn_cuta_dropout keep = { rate, seed, key, base + (unsigned long long)T.bh * (unsigned long long)max, max };
    float scale = 1.0f / sqrtf((float)hd), k[HDMAX], ak[HDMAX], av[HDMAX];
#pragma unroll (UNROLL)
    for (int c = 0; c < HDMAX; ++c) {
        k[c] = live && c < hd ? ev[(long)j * ld + D + T.h * hd + c] : 0.0f;
        ak[c] = 0.0f, av[c] = 0.0f;
    }
    for (int i0 = 0; i0 < cnt; i0 += HN_ATT_KEYS) {
        int ni = cnt - i0 < HN_ATT_KEYS ? cnt - i0 : HN_ATT_KEYS;
        __syncthreads();                                  /* the previous tile is used up */
        for (int e = t; e < ni * hd; e += blockDim.x) {
            int r = e / hd, c = e % hd;
            qs[r][c] = ev[(long)(i0 + r) * ld + T.h * hd + c] * scale;
            gs[r][c] = dout[((long)T.b * max + i0 + r) * D + T.h * hd + c];
        }
        for (int e = t; e < 2 * ni; e += blockDim.x) st[e / 2][e % 2] = stats[2 * (T.bh + i0) + e];
        for (int e = t; e < HN_ATT_KEYS * HN_ATT_QUERIES; e += blockDim.x) {
            int r = e / HN_ATT_QUERIES, c = e % HN_ATT_QUERIES;
            if (r < ni && T.r0 + c < cnt) {
                long at = (T.bh + i0 + r) * max + T.r0 + c;
                dss[r][c] = ds[at];
                if (U) us[r][c] = U[at];
            }
        }
        __syncthreads();
        for (int r = 0; live && r < ni; ++r) {
            float s = hn_cuta_dot<HDMAX, UNROLL>(qs[r], k, hd);
            if (U) s += us[r][t];
            float p = expf(s - st[r][0]) * st[r][1], pv = p * keep(i0 + r, j), d = dss[r][t];
#pragma unroll (UNROLL)
            for (int c = 0; c < HDMAX; ++c) {
                ak[c] += d * qs[r][c];
                av[c] += pv * gs[r][c];
            }
        }
    }
    if (!live) return;
    for (int c = 0; c < hd; ++c) dk[c] = ak[c], dv[c] = av[c];
}

/* The kernels: head_dim as an argument (≤ 64), and the same with head_dim 16 (ParT's heads: the loops
 * unrolled, the arrays in registers). Grid (heads · ⌈max / HN_ATT_QUERIES⌉, batch), HN_ATT_QUERIES threads. */
extern "C" __global__ void hn_t_attention_forward(const float *qkv, const float *U, const int *n, int max, int heads,
                                                  int hd, float rate, unsigned long long seed, unsigned long long key,
                                                  unsigned long long base, float *out)
{
    hn_cuta_forward<HN_CUTA_MAX_HD, 1>(qkv, U, n, max, heads, hd, rate, seed, key, base, out);
}

extern "C" __global__ void hn_t_attention_bw_rows(const float *qkv, const float *U, const int *n, int max, int heads,
                                                  int hd, const float *dout, float rate, unsigned long long seed,
                                                  unsigned long long key, unsigned long long base, float *dqkv, float *ds,
                                                  float *stats)
{
    hn_cuta_bw_rows<HN_CUTA_MAX_HD, 1>(qkv, U, n, max, heads, hd, dout, rate, seed, key, base, dqkv, ds, stats);
}

extern "C" __global__ void hn_t_attention_bw_cols(const float *qkv, const float *U, const int *n, int max, int heads,
                                                  int hd, const float *dout, float rate, unsigned long long seed,
                                                  unsigned long long key, unsigned long long base, const float *ds,
                                                  const float *stats, float *dqkv)
{
    hn_cuta_bw_cols<HN_CUTA_MAX_HD, 1>(qkv, U, n, max, heads, hd, dout, rate, seed, key, base, ds, stats, dqkv);
}

extern "C" __global__ void hn_t_attention_forward_d16(const float *qkv, const float *U, const int *n, int max, int heads,
                                                  int hd, float rate, unsigned long long seed, unsigned long long key,
                                                  unsigned long long base, float *out)
{
    (void)hd;
    hn_cuta_forward<16, 16>(qkv, U, n, max, heads, 16, rate, seed, key, base, out);
}

extern "C" __global__ void hn_t_attention_bw_rows_d16(const float *qkv, const float *U, const int *n, int max, int heads,
                                                  int hd, const float *dout, float rate, unsigned long long seed,
                                                  unsigned long long key, unsigned long long base, float *dqkv, float *ds,
                                                  float *stats)
{
    (void)hd;
    hn_cuta_bw_rows<16, 16>(qkv, U, n, max, heads, 16, dout, rate, seed, key, base, dqkv, ds, stats);
}

extern "C" __global__ void hn_t_attention_bw_cols_d16(const float *qkv, const float *U, const int *n, int max, int heads,
                                                  int hd, const float *dout, float rate, unsigned long long seed,
                                                  unsigned long long key, unsigned long long base, const float *ds,
                                                  const float *stats, float *dqkv)
{
    (void)hd;
    hn_cuta_bw_cols<16, 16>(qkv, U, n, max, heads, 16, dout, rate, seed, key, base, ds, stats, dqkv);
}

#endif
