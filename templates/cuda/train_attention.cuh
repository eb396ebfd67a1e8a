/* train_attention.cuh — the GPU training kernels of the multi-head `attention` op (ParT's particle attention:
 * bias U, key mask j < n), the counterparts of templates/c/backward_attention.h, launched by
 * gpu/train_attention.c (hepnc/gpu_train_attention.h) with the shapes as arguments. Per event b and head h:
 *   s_ij = (q_i/√d)·k_j + U[b][h][i][j],   p_ij = softmax_j(s_ij) over j < n[b],   o_i = Σ_j p'_ij v_j
 * with p'_ij = p_ij·m_ij (dropout on the probabilities, m_ij = 1/(1 − rate) or 0; rate 0: m = 1), and
 *   dp_ij = m_ij·(do_i·v_j),   c_i = Σ_j p_ij dp_ij,   ds_ij = p_ij·(dp_ij − c_i)
 *   dq_i = (1/√d)·Σ_j ds_ij k_j,   dk_j = Σ_i ds_ij (q_i/√d),   dv_j = Σ_i p'_ij do_i.
 * The backward is two passes in the style of flash-attention 2, no atomics: a thread per query row
 * (scores, softmax statistics, ds row, dq) and then a thread per key row (dk, dv, from the stored ds and
 * statistics). Every sum runs in the C code's order (j ascending for dq, i ascending for dk and dv), so
 * the results do not depend on the launch. Scores are rounded as the C loop form: q·(1/√d) first, then
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

/* Σ_t a[t]·b[t], t ascending (the C loops' order) */
__device__ __forceinline__ float hn_cuta_dot(const float *a, const float *b, int hd)
{
    float s = 0.0f;
    for (int t = 0; t < hd; ++t) s += a[t] * b[t];
    return s;
}

/* The training forward, a thread per (event, head, query row): o_i = Σ_j p'_ij v_j by the online
 * softmax (as attention.cuh); padding rows of out (i ≥ n[b]) set to 0, the C step's value. */
__device__ __forceinline__ void hn_cuta_forward(const float *qkv, const float *U, const int *n, int batch, int max, int heads,
                                                int hd, float rate, unsigned long long seed, unsigned long long key,
                                                unsigned long long base, float *out)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * heads * max) return;
    int i = (int)(idx % max), h = (int)((idx / max) % heads), b = (int)(idx / ((long)max * heads));
    int cnt = hn_cuta_count(n, b, max), D = heads * hd, ld = 3 * D;
    float *o = out + ((long)b * max + i) * D + h * hd;
    if (i >= cnt) {
        for (int t = 0; t < hd; ++t) o[t] = 0.0f;
        return;
    }
    const float *ev = qkv + (long)b * max * ld, *qi = ev + (long)i * ld + h * hd;
    const float *u = U ? U + ((long)b * heads * max + (long)h * max + i) * max : 0;
    unsigned long long row = base + (unsigned long long)idx * (unsigned long long)max;   /* mask index of (i, 0) */
    float scale = 1.0f / sqrtf((float)hd), q[HN_CUTA_MAX_HD], acc[HN_CUTA_MAX_HD], m = -HN_CU_INF, l = 0.0f;
    for (int t = 0; t < hd; ++t) q[t] = qi[t] * scale, acc[t] = 0.0f;
    for (int j = 0; j < cnt; ++j) {
        const float *k = ev + (long)j * ld + D + h * hd, *v = k + D;
        float s = hn_cuta_dot(q, k, hd);
        if (u) s += u[j];
        float mn = fmaxf(m, s), rs = expf(m - mn), e = expf(s - mn), pe = e * hn_cuta_keep(rate, seed, key, row + j);
        l = l * rs + e;                                   /* the softmax's sum is over every key, dropped or not */
        for (int t = 0; t < hd; ++t) acc[t] = acc[t] * rs + pe * v[t];
        m = mn;
    }
    for (int t = 0; t < hd; ++t) o[t] = acc[t] / l;
}

/* Backward pass 1, a thread per (event, head, query row i):
 *   scores s_ij (kept in ds's row), the online max m_i and sum l_i, c_i = Σ_j p_ij dp_ij; then
 *   ds_ij = p_ij·(dp_ij − c_i) into ds, dq_i = (1/√d)·Σ_j ds_ij k_j into dqkv's q columns of head h,
 *   stats[row] = (m_i, 1/l_i) for pass 2.
 * Padding (i ≥ n[b]): dq and the whole ds row 0; real rows: ds_ij = 0 for j ≥ n[b]. */
__device__ __forceinline__ void hn_cuta_bw_rows(const float *qkv, const float *U, const int *n, int batch, int max, int heads,
                                                int hd, const float *dout, float rate, unsigned long long seed,
                                                unsigned long long key, unsigned long long base, float *dqkv, float *ds,
                                                float *stats)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * heads * max) return;
    int i = (int)(idx % max), h = (int)((idx / max) % heads), b = (int)(idx / ((long)max * heads));
    int cnt = hn_cuta_count(n, b, max), D = heads * hd, ld = 3 * D;
    float *dq = dqkv + ((long)b * max + i) * ld + h * hd, *dsr = ds + idx * max;   /* ds row [b][h][i] */
    if (i >= cnt) {
        for (int t = 0; t < hd; ++t) dq[t] = 0.0f;
        for (int j = 0; j < max; ++j) dsr[j] = 0.0f;
        stats[2 * idx] = 0.0f, stats[2 * idx + 1] = 0.0f;
        return;
    }
    const float *ev = qkv + (long)b * max * ld, *qi = ev + (long)i * ld + h * hd;
    const float *gi = dout + ((long)b * max + i) * D + h * hd;
    const float *u = U ? U + idx * max : 0;
    unsigned long long row = base + (unsigned long long)idx * (unsigned long long)max;
    float scale = 1.0f / sqrtf((float)hd), q[HN_CUTA_MAX_HD], g[HN_CUTA_MAX_HD], acc[HN_CUTA_MAX_HD];
    for (int t = 0; t < hd; ++t) q[t] = qi[t] * scale, g[t] = gi[t], acc[t] = 0.0f;

    /* scores, and the softmax statistics with Σ e_ij·dp_ij, online */
    float m = -HN_CU_INF, l = 0.0f, c = 0.0f;
    for (int j = 0; j < cnt; ++j) {
        const float *k = ev + (long)j * ld + D + h * hd, *v = k + D;
        float s = hn_cuta_dot(q, k, hd);
        if (u) s += u[j];
        float dp = hn_cuta_dot(g, v, hd) * hn_cuta_keep(rate, seed, key, row + j);
        float mn = fmaxf(m, s), rs = expf(m - mn), e = expf(s - mn);
        l = l * rs + e;
        c = c * rs + e * dp;
        m = mn;
        dsr[j] = s;
    }
    float inv = 1.0f / l;
    c *= inv;

    /* ds_ij over the stored scores, and dq_i */
    for (int j = 0; j < cnt; ++j) {
        const float *k = ev + (long)j * ld + D + h * hd, *v = k + D;
        float dp = hn_cuta_dot(g, v, hd) * hn_cuta_keep(rate, seed, key, row + j);
        float p = expf(dsr[j] - m) * inv, d = p * (dp - c);
        dsr[j] = d;
        for (int t = 0; t < hd; ++t) acc[t] += d * k[t];
    }
    for (int j = cnt; j < max; ++j) dsr[j] = 0.0f;
    for (int t = 0; t < hd; ++t) dq[t] = acc[t] * scale;
    stats[2 * idx] = m, stats[2 * idx + 1] = inv;
}

/* Backward pass 2, a thread per (event, head, key row j), after pass 1:
 *   p_ij = exp(s_ij − m_i)/l_i with s_ij recomputed, dk_j = Σ_i ds_ij (q_i/√d), dv_j = Σ_i p'_ij do_i
 * (i ascending) into dqkv's k and v columns of head h; 0 there for padding rows (j ≥ n[b]). */
__device__ __forceinline__ void hn_cuta_bw_cols(const float *qkv, const float *U, const int *n, int batch, int max, int heads,
                                                int hd, const float *dout, float rate, unsigned long long seed,
                                                unsigned long long key, unsigned long long base, const float *ds,
                                                const float *stats, float *dqkv)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * heads * max) return;
    int j = (int)(idx % max), h = (int)((idx / max) % heads), b = (int)(idx / ((long)max * heads));
    int cnt = hn_cuta_count(n, b, max), D = heads * hd, ld = 3 * D;
    float *dk = dqkv + ((long)b * max + j) * ld + D + h * hd, *dv = dk + D;
    if (j >= cnt) {
        for (int t = 0; t < hd; ++t) dk[t] = 0.0f, dv[t] = 0.0f;
        return;
    }
    long bh = idx - j;                                    /* (b·heads + h)·max: row 0 of this head's block */
    const float *ev = qkv + (long)b * max * ld, *kj = ev + (long)j * ld + D + h * hd;
    float scale = 1.0f / sqrtf((float)hd), k[HN_CUTA_MAX_HD], q[HN_CUTA_MAX_HD];
    float ak[HN_CUTA_MAX_HD], av[HN_CUTA_MAX_HD];
    for (int t = 0; t < hd; ++t) k[t] = kj[t], ak[t] = 0.0f, av[t] = 0.0f;
    for (int i = 0; i < cnt; ++i) {
        const float *qi = ev + (long)i * ld + h * hd, *gi = dout + ((long)b * max + i) * D + h * hd;
        long r = bh + i;                                  /* row [b][h][i] of ds, U and stats */
        for (int t = 0; t < hd; ++t) q[t] = qi[t] * scale;
        float s = hn_cuta_dot(q, k, hd);
        if (U) s += U[r * max + j];
        float p = expf(s - stats[2 * r]) * stats[2 * r + 1];
        float pv = p * hn_cuta_keep(rate, seed, key, base + (unsigned long long)r * (unsigned long long)max + j);
        float d = ds[r * max + j];
        for (int t = 0; t < hd; ++t) {
            ak[t] += d * q[t];
            av[t] += pv * gi[t];
        }
    }
    for (int t = 0; t < hd; ++t) dk[t] = ak[t], dv[t] = av[t];
}

/* The kernels: head_dim as an argument (≤ 64), and the same with head_dim 16. */
extern "C" __global__ void hn_t_attention_forward(const float *qkv, const float *U, const int *n, int batch, int max, int heads,
                                                  int hd, float rate, unsigned long long seed, unsigned long long key,
                                                  unsigned long long base, float *out)
{
    hn_cuta_forward(qkv, U, n, batch, max, heads, hd, rate, seed, key, base, out);
}

extern "C" __global__ void hn_t_attention_forward_d16(const float *qkv, const float *U, const int *n, int batch, int max,
                                                      int heads, int hd, float rate, unsigned long long seed,
                                                      unsigned long long key, unsigned long long base, float *out)
{
    (void)hd;
    hn_cuta_forward(qkv, U, n, batch, max, heads, 16, rate, seed, key, base, out);
}

extern "C" __global__ void hn_t_attention_bw_rows(const float *qkv, const float *U, const int *n, int batch, int max, int heads,
                                                  int hd, const float *dout, float rate, unsigned long long seed,
                                                  unsigned long long key, unsigned long long base, float *dqkv, float *ds,
                                                  float *stats)
{
    hn_cuta_bw_rows(qkv, U, n, batch, max, heads, hd, dout, rate, seed, key, base, dqkv, ds, stats);
}

extern "C" __global__ void hn_t_attention_bw_rows_d16(const float *qkv, const float *U, const int *n, int batch, int max,
                                                      int heads, int hd, const float *dout, float rate, unsigned long long seed,
                                                      unsigned long long key, unsigned long long base, float *dqkv, float *ds,
                                                      float *stats)
{
    (void)hd;
    hn_cuta_bw_rows(qkv, U, n, batch, max, heads, 16, dout, rate, seed, key, base, dqkv, ds, stats);
}

extern "C" __global__ void hn_t_attention_bw_cols(const float *qkv, const float *U, const int *n, int batch, int max, int heads,
                                                  int hd, const float *dout, float rate, unsigned long long seed,
                                                  unsigned long long key, unsigned long long base, const float *ds,
                                                  const float *stats, float *dqkv)
{
    hn_cuta_bw_cols(qkv, U, n, batch, max, heads, hd, dout, rate, seed, key, base, ds, stats, dqkv);
}

extern "C" __global__ void hn_t_attention_bw_cols_d16(const float *qkv, const float *U, const int *n, int batch, int max,
                                                      int heads, int hd, const float *dout, float rate, unsigned long long seed,
                                                      unsigned long long key, unsigned long long base, const float *ds,
                                                      const float *stats, float *dqkv)
{
    (void)hd;
    hn_cuta_bw_cols(qkv, U, n, batch, max, heads, 16, dout, rate, seed, key, base, ds, stats, dqkv);
}

#endif
