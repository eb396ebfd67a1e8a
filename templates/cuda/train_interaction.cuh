/* train_interaction.cuh — the GPU training step's kernels for IAFormer's ops (gpu/train_interaction.c launches
 * them): the backwards of RMSNorm, the feature mean, the differential attention and the interaction embedding's
 * pair rows. templates/c/backward_interaction.h is the reference of every formula (the C step's; the GPU sums
 * in other fixed orders: agreement to rounding, the same bytes run to run). Pointers are device pointers;
 * parameter gradients accumulate, activation gradients are written. */
#ifndef HN_CU_TRAIN_INTERACTION_CUH
#define HN_CU_TRAIN_INTERACTION_CUH

/* ---- RMSNorm and the feature mean ---------------------------------------------------------------------- */

/* A warp per row of hn_kb_rmsnorm: s = 1/√(Σx²/dim + eps), c = s²·Σ(dy·γ·x)/dim; dx = s·(dy·γ − x·c) (dx NULL:
 * none), prod[r][i] = dy·x·s (dgamma's terms, summed over the rows in a fixed order by the host). */
extern "C" __global__ void hn_ti_rmsnorm_backward(const float *x, const float *dy, long rows, int dim, const float *gamma,
                                                  float eps, float *dx, float *prod)
{
    const long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float *xr = x + row * dim, *gr = dy + row * dim;
    float ss = 0.0f, dot = 0.0f;
    for (int i = lane; i < dim; i += 32) {
        ss += xr[i] * xr[i];
        dot += gr[i] * gamma[i] * xr[i];
    }
    for (int k = 16; k; k >>= 1) {
        ss += __shfl_xor_sync(0xffffffffu, ss, k);
        dot += __shfl_xor_sync(0xffffffffu, dot, k);
    }
    const float s = 1.0f / sqrtf(ss / (float)dim + eps), c = s * s * (dot / (float)dim);
    for (int i = lane; i < dim; i += 32) {
        prod[row * dim + i] = gr[i] * (xr[i] * s);
        if (dx) dx[row * dim + i] = s * (gr[i] * gamma[i] - xr[i] * c);
    }
}

/* dx[r][k] = dy[r]/F (hn_kb_feature_mean), a thread per element. */
extern "C" __global__ void hn_ti_feature_mean_backward(const float *dy, long rows, int F, float *dx)
{
    const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < rows * F) dx[i] = dy[i / F] / (float)F;
}

/* ---- differential attention ------------------------------------------------------------------------------ */

/* The warp of (event blockIdx.y, head, query) as the forward's hn_cu_diff_attention lays them out; -1: none. */
__device__ __forceinline__ int hn_ti_da_query(int max, int *h)
{
    const int qblocks = (max + HN_CU_DA_WARPS - 1) / HN_CU_DA_WARPS;
    *h = blockIdx.x / qblocks;
    return (blockIdx.x % qblocks) * HN_CU_DA_WARPS + threadIdx.x / 32;
}

/* Each query's softmax statistics of its two maps: stats[b][h][i] = (max₀, Σexp₀, max₁, Σexp₁). */
extern "C" __global__ void hn_ti_diff_stats(const float *L, const int *n, int max, int heads, long maps_per_event, float *stats)
{
    int h;
    const int i = hn_ti_da_query(max, &h), b = blockIdx.y, lane = threadIdx.x % 32, cnt = n ? n[b] : max;
    if (i >= cnt) return;
    const float *l0 = L + (long)b * maps_per_event + ((long)(2 * h) * max + i) * max, *l1 = l0 + (long)max * max;
    float st[4];
    hn_cu_diff_row_stats(l0, l1, cnt, lane, st);     /* the forward's (interaction.cuh) */
    if (lane == 0)
        for (int k = 0; k < 4; ++k) stats[(((long)b * heads + h) * max + i) * 4 + k] = st[k];
}

/* The logits' gradient of (event, head, query i), a warp: dα_j = Σ_t dout[i][h·dv + t]·v[j][h·dv + t],
 *   dL[2h][i][j] += p_j·(dα_j − Σ_k p_k·dα_k),   dL[2h+1][i][j] −= β·q_j·(dα_j − Σ_k q_k·dα_k)
 * and dbq[b][i][h] = −Σ_j q_j·dα_j (this query's part of ∂loss/∂β). dL: this layer's maps of the event's gradient. */
extern "C" __global__ void hn_ti_diff_dlogits(const float *v, const int *n, int max, int heads, int dv, const float *L,
                                              long maps_per_event, const float *beta_p, const float *dout, const float *stats,
                                              float *dL, float *dbq)
{
    int h;
    const int i = hn_ti_da_query(max, &h), b = blockIdx.y, lane = threadIdx.x % 32, cnt = n ? n[b] : max, D = heads * dv;
    if (i >= cnt) return;
    const float beta = *beta_p;
    const long at = (long)b * maps_per_event + ((long)(2 * h) * max + i) * max;
    const float *l0 = L + at, *l1 = l0 + (long)max * max, *st = stats + (((long)b * heads + h) * max + i) * 4;
    const float inv0 = 1.0f / st[1], inv1 = 1.0f / st[3];
    const float *go = dout + ((long)b * max + i) * D + h * dv, *vh = v + (long)b * max * D + h * dv;
    float dot_p = 0.0f, dot_q = 0.0f;
    for (int j = lane; j < cnt; j += 32) {
        float g = 0.0f;
        for (int t = 0; t < dv; ++t) g += go[t] * vh[(long)j * D + t];
        dot_p += expf(l0[j] - st[0]) * inv0 * g;
        dot_q += expf(l1[j] - st[2]) * inv1 * g;
    }
    for (int s = 16; s; s >>= 1) {
        dot_p += __shfl_xor_sync(0xffffffffu, dot_p, s);
        dot_q += __shfl_xor_sync(0xffffffffu, dot_q, s);
    }
    float *g0 = dL + at, *g1 = g0 + (long)max * max;
    for (int j = lane; j < cnt; j += 32) {
        float g = 0.0f;
        for (int t = 0; t < dv; ++t) g += go[t] * vh[(long)j * D + t];
        const float p = expf(l0[j] - st[0]) * inv0, q = expf(l1[j] - st[2]) * inv1;
        g0[j] += p * (g - dot_p);
        g1[j] -= beta * (q * (g - dot_q));
    }
    if (lane == 0) dbq[((long)b * max + i) * heads + h] = -dot_q;
}

/* The values' gradient, a thread per (event, key j, column c) of every slot: Σ_i α_ij·dout[i][c] over the event's
 * queries in order (α = p − β·q of head c / dv); 0 for j past the count. */
extern "C" __global__ void hn_ti_diff_dvalues(const int *n, int batch, int max, int heads, int dv, const float *L,
                                              long maps_per_event, const float *beta_p, const float *dout, const float *stats,
                                              float *dvalues)
{
    const int D = heads * dv;
    const long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * max * D) return;
    const int c = (int)(idx % D), j = (int)((idx / D) % max), b = (int)(idx / ((long)max * D)), h = c / dv;
    const int cnt = n ? n[b] : max;
    float s = 0.0f;
    if (j < cnt) {
        const float beta = *beta_p;
        const float *l0 = L + (long)b * maps_per_event + (long)(2 * h) * max * max, *l1 = l0 + (long)max * max;
        for (int i = 0; i < cnt; ++i) {
            const float *st = stats + (((long)b * heads + h) * max + i) * 4;
            const float w = expf(l0[(long)i * max + j] - st[0]) / st[1] - beta * (expf(l1[(long)i * max + j] - st[2]) / st[3]);
            s += w * dout[((long)b * max + i) * D + c];
        }
    }
    dvalues[idx] = s;
}

/* β of the layer (hn_k_diff_beta's formula, its sum in order), by one thread. */
extern "C" __global__ void hn_ti_diff_beta(const float *lq, const float *lk, int len, int depth, float *beta)
{
    if (blockIdx.x || threadIdx.x) return;
    float dot = 0.0f;
    for (int k = 0; k < len; ++k) dot += lq[k] * lk[k];
    const float r = expf(dot) * (float)(1.0 - exp(-1.0 / depth));
    *beta = r < 1.0f ? r : 1.0f;
}

/* Each event's ∂loss/∂β, a thread per event: dbq summed in double over (i, h) in order, rounded once. */
extern "C" __global__ void hn_ti_diff_dbeta_events(const float *dbq, const int *n, int batch, int max, int heads, float *dbeta)
{
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    const int cnt = n ? n[b] : max;
    double s = 0.0;
    for (long k = 0; k < (long)cnt * heads; ++k) s += (double)dbq[(long)b * max * heads + k];
    dbeta[b] = (float)s;
}

/* dλ_q, dλ_k from the batch's ∂loss/∂β (the events' in order), as hn_kb_diff_beta: nothing where the clamp holds. */
extern "C" __global__ void hn_ti_diff_lambda(const float *dbeta, int batch, const float *lq, const float *lk, int len, int depth,
                                             float *dlq, float *dlk)
{
    if (blockIdx.x || threadIdx.x) return;
    float db = 0.0f, dot = 0.0f;
    for (int b = 0; b < batch; ++b) db += dbeta[b];
    for (int k = 0; k < len; ++k) dot += lq[k] * lk[k];
    const float r = expf(dot) * (float)(1.0 - exp(-1.0 / depth));
    if (!(r <= 1.0f)) return;
    const float g = db * r;
    for (int k = 0; k < len; ++k) {
        dlq[k] += g * lk[k];
        dlk[k] += g * lq[k];
    }
}

/* ---- the interaction embedding's rows ------------------------------------------------------------------- */

/* 1 when the features of pair (a, c) of event b are all zero (== 0.0f, as the forward tests them). */
__device__ __forceinline__ bool hn_ti_zero_pair(const float *pairs, int b, int max, int nfeat, int a, int c)
{
    const float *f = pairs + (((long)b * max + a) * max + c) * nfeat;
    for (int k = 0; k < nfeat; ++k)
        if (f[k] != 0.0f) return false;
    return true;
}

/* A thread per (event, row a): the computed pairs (non-zero features) among (a, c ≤ a), into rowcnt[b][a]. */
extern "C" __global__ void hn_ti_pair_row_counts(const float *pairs, const int *n, int batch, int max, int nfeat, int *rowcnt)
{
    const long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * max) return;
    const int b = (int)(idx / max), a = (int)(idx % max), cnt = n ? n[b] : max;
    int k = 0;
    if (a < cnt)
        for (int c = 0; c <= a; ++c) k += !hn_ti_zero_pair(pairs, b, max, nfeat, a, c);
    rowcnt[idx] = k;
}

/* A thread per event: rowcnt[b][·] turned into each row's first computed pair (exclusive prefix sums, in order),
 * the event's computed pairs into computed[b]. */
extern "C" __global__ void hn_ti_pair_row_starts(int *rowcnt, int batch, int max, int *computed)
{
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    int s = 0;
    for (int a = 0; a < max; ++a) {
        const int k = rowcnt[(long)b * max + a];
        rowcnt[(long)b * max + a] = s;
        s += k;
    }
    computed[b] = s;
}

/* The rows of the embedding's backward, event b's from offs[b]: first the zero vector's (features 0), then its
 * computed pairs in the forward's order (a ≥ c, row by row). A thread per (event, row a) writes the computed
 * pairs of row a: their features into in [R][nfeat] and their logit gradient into G, projection p's block
 * [R][nout_p] at G + R·o_p: G = dL[o][a][c] + dL[o][c][a] (a ≠ c; dL[o][a][a] on the diagonal). */
extern "C" __global__ void hn_ti_pair_rows_computed(const float *pairs, const float *dL, const int *n, int batch, int max, int nfeat,
                                                    int nproj, const int *nout, const int *rowstart, const int *offs, long R,
                                                    float *in, float *G)
{
    const long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * max) return;
    const int b = (int)(idx / max), a = (int)(idx % max), cnt = n ? n[b] : max;
    if (a >= cnt) return;
    int total = 0;
    for (int p = 0; p < nproj; ++p) total += nout[p];
    const long mm = (long)max * max;
    const float *dLb = dL + (long)b * total * mm;
    long row = offs[b] + 1 + rowstart[idx];
    for (int c = 0; c <= a; ++c) {
        if (hn_ti_zero_pair(pairs, b, max, nfeat, a, c)) continue;
        const float *f = pairs + (((long)b * max + a) * max + c) * nfeat;
        for (int k = 0; k < nfeat; ++k) in[row * nfeat + k] = f[k];
        for (int p = 0, o0 = 0; p < nproj; o0 += nout[p++])
            for (int o = 0; o < nout[p]; ++o) {
                const float *d = dLb + (long)(o0 + o) * mm;
                float g = d[(long)a * max + c];
                if (a != c) g += d[(long)c * max + a];
                G[R * o0 + row * nout[p] + o] = g;
            }
        ++row;
    }
}

/* A block per event, a thread per logit map o: the zero vector's row at offs[b], its gradient the sum of dL over
 * every pair that got its logits (a ≥ c with all-zero features, both orders off the diagonal), in double, pairs
 * in the forward's order, rounded once; its features 0. */
extern "C" __global__ void hn_ti_pair_rows_zero(const float *pairs, const float *dL, const int *n, int max, int nfeat, int nproj,
                                                const int *nout, const int *offs, long R, float *in, float *G)
{
    const int b = blockIdx.x, cnt = n ? n[b] : max;
    int total = 0;
    for (int p = 0; p < nproj; ++p) total += nout[p];
    const long mm = (long)max * max, row = offs[b];
    if (threadIdx.x < nfeat) in[row * nfeat + threadIdx.x] = 0.0f;
    for (int o = threadIdx.x; o < total; o += blockDim.x) {
        const float *d = dL + ((long)b * total + o) * mm;
        double s = 0.0;
        for (int a = 0; a < cnt; ++a)
            for (int c = 0; c <= a; ++c) {
                if (!hn_ti_zero_pair(pairs, b, max, nfeat, a, c)) continue;
                s += (double)d[(long)a * max + c];
                if (a != c) s += (double)d[(long)c * max + a];
            }
        int p = 0, o0 = 0;
        while (o >= o0 + nout[p]) o0 += nout[p++];
        G[R * o0 + row * nout[p] + (o - o0)] = (float)s;
    }
}

#endif
