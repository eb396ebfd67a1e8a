/* interaction.cuh — IAFormer (arXiv:2505.03258, github.com/wesmail/IAFormer): its six pair features from the
 * 4-vectors, its interaction embedding with every attention layer's logit maps, and its differential attention.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). templates/c/interaction.h is the reference of every formula here. */
#ifndef HN_CU_INTERACTION_CUH
#define HN_CU_INTERACTION_CUH

#define HN_CU_IA_PAIR_NUM 6
#define HN_CU_IA_TILE 16          /* pairs per block of the interaction embedding */
#define HN_CU_IA_WIDTH 256        /* the widest embedding layer, and the most logit maps, a block holds */
#define HN_CU_IA_STRIDE (HN_CU_IA_WIDTH + 1)   /* a tile row in shared memory (odd: no bank conflicts between rows) */
#define HN_CU_IA_THREADS 256      /* threads of an embedding block */
#define HN_CU_DA_WARPS 4          /* queries (a warp each) per block of the differential attention */
#define HN_CU_DA_MAX 512          /* most slots the differential attention takes */

/* ln x in double, x ≤ 0 replaced by 1e-5 (upstream's ak.where(x <= 0, 1e-5, x)). */
__device__ __forceinline__ float hn_cu_ia_log(double x) { return (float)log(x > 0.0 ? x : 1e-5); }

/* The six features of pair (a, c) as hn_k_ia_pair_features: every product and sum rounded on its own (__f*_rn:
 * no contraction into FMAs), as the float32 reference does, since ln m² of nearly collinear particles is a
 * float32 cancellation that only the same roundings reproduce. */
__device__ void hn_cu_ia_pair(const float *va, const float *vc, float pta, float ptc, float etaa, float etac, float phia,
                              float phic, const float *jet, float *f)
{
    const float pi = 3.14159265358979323846f, two_pi = 6.28318530717958647692f;
    float dphi = __fadd_rn(__fsub_rn(phia, phic), pi);
    dphi = fmodf(dphi, two_pi);
    if (dphi < 0.0f) dphi = __fadd_rn(dphi, two_pi);   /* Python's %: the sign of the divisor */
    dphi = __fsub_rn(dphi, pi);
    const float deta = __fsub_rn(etaa, etac);
    const float dr = sqrtf(__fadd_rn(__fmul_rn(deta, deta), __fmul_rn(dphi, dphi)));
    const float ptmin = pta < ptc ? pta : ptc, ptsum = __fadd_rn(pta, ptc);
    const float e = __fadd_rn(va[3], vc[3]), sx = __fadd_rn(va[0], vc[0]), sy = __fadd_rn(va[1], vc[1]),
                sz = __fadd_rn(va[2], vc[2]);
    const float mag2 = __fadd_rn(__fadd_rn(__fmul_rn(sx, sx), __fmul_rn(sy, sy)), __fmul_rn(sz, sz));
    const float m2 = __fsub_rn(__fmul_rn(e, e), mag2);
    f[0] = hn_cu_ia_log(dr);
    f[1] = hn_cu_ia_log((double)ptmin * (double)dr);
    f[2] = hn_cu_ia_log((double)ptmin / (double)ptsum);
    f[3] = hn_cu_ia_log(m2);
    f[4] = hn_cu_ia_log(__fdiv_rn(ptsum, jet[0]));
    f[5] = hn_cu_ia_log(__fdiv_rn(e, jet[1]));
}

/* A block per event: each particle's pT, η, φ and realness (E > 0) into shared memory (dynamic: 4·max + 2 floats),
 * the jet's pT and E summed over the real particles in row order by one thread (the reference's order), then a
 * thread per pair writes its six features, [max][max][6]; zero on the diagonal and where either is padding. */
__device__ void hn_cu_ia_pair_features(const float *p4, const int *n, int max, float *y)
{
    extern __shared__ float hn_ia_sh[];
    float *pt = hn_ia_sh, *eta = pt + max, *phi = eta + max, *real = phi + max, *jet = real + max;
    const int b = blockIdx.x, cnt = n ? n[b] : max;
    const float *v = p4 + (long)b * max * 4;
    for (int a = threadIdx.x; a < cnt; a += blockDim.x) {
        const float *va = v + 4 * a;
        const float p = sqrtf(__fadd_rn(__fmul_rn(va[0], va[0]), __fmul_rn(va[1], va[1])));
        pt[a] = p;
        eta[a] = p > 0.0f ? asinhf(__fdiv_rn(va[2], p)) : 0.0f;
        phi[a] = atan2f(va[1], va[0]);
        real[a] = va[3] > 0.0f ? 1.0f : 0.0f;
    }
    if (threadIdx.x == 0) {
        float px = 0.0f, py = 0.0f, e = 0.0f;
        for (int a = 0; a < cnt; ++a)
            if (v[4 * a + 3] > 0.0f) {
                px = __fadd_rn(px, v[4 * a]);
                py = __fadd_rn(py, v[4 * a + 1]);
                e = __fadd_rn(e, v[4 * a + 3]);
            }
        jet[0] = sqrtf(__fadd_rn(__fmul_rn(px, px), __fmul_rn(py, py)));
        jet[1] = e;
    }
    __syncthreads();
    float *yb = y + (long)b * max * max * HN_CU_IA_PAIR_NUM;
    for (long i = threadIdx.x; i < (long)cnt * cnt; i += blockDim.x) {
        const int a = (int)(i / cnt), c = (int)(i % cnt);
        float f[HN_CU_IA_PAIR_NUM] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
        if (a != c && real[a] != 0.0f && real[c] != 0.0f)
            hn_cu_ia_pair(v + 4 * a, v + 4 * c, pt[a], pt[c], eta[a], eta[c], phi[a], phi[c], jet, f);
        float *o = yb + ((long)a * max + c) * HN_CU_IA_PAIR_NUM;
        for (int k = 0; k < HN_CU_IA_PAIR_NUM; ++k) o[k] = f[k];
    }
}

/* One 1×1 convolution over the tile's first `rows` rows (rows = HN_CU_IA_TILE or 1):
 *   y[q][col + c] = act(B[c] + Σ_i W[c][i]·x[q][i]),  c < out ≤ blockDim.x,
 * a thread per channel and group of rows (the groups a power of two, so they split the rows evenly); the sums
 * run over i in order, the same for every row, so a row's result depends on its input alone. */
__device__ void hn_cu_ia_layer(const float (*x)[HN_CU_IA_STRIDE], int rows, int in, const float *W, const float *B, int out,
                               int act, float (*y)[HN_CU_IA_STRIDE], int col)
{
    int groups = 1;
    while (groups * 2 <= rows && groups * 2 * out <= (int)blockDim.x) groups *= 2;
    const int t = threadIdx.x, c = t % out, g = t / out, per = rows / groups, q0 = g * per;
    if (g >= groups) return;
    float s[HN_CU_IA_TILE];
#pragma unroll
    for (int k = 0; k < HN_CU_IA_TILE; ++k) s[k] = B[c];
    const float *w = W + (long)c * in;
    for (int i = 0; i < in; ++i) {
        const float wi = __ldg(w + i);
#pragma unroll
        for (int k = 0; k < HN_CU_IA_TILE; ++k)
            if (k < per) s[k] += wi * x[q0 + k][i];
    }
#pragma unroll
    for (int k = 0; k < HN_CU_IA_TILE; ++k)
        if (k < per) y[q0 + k][col + c] = hn_cu_act(s[k], act);
}

/* The interaction embedding and every attention layer's logits (hn_k_interaction_logits), a block of
 * HN_CU_IA_THREADS threads per tile of HN_CU_IA_TILE unordered pairs (a ≥ c, row by row) of one event
 * (blockIdx.y): the tile's features, the embedding layers (GELU after each) ping-ponging in shared memory, each
 * layer's projection into its columns, then the logits stored channel-major, L [Σ nout][max][max] per event, at
 * (a, c) and (c, a). The (pairs × width) intermediates never leave the block. A tile whose pairs all have
 * all-zero features (padding, the diagonal) computes the zero vector once and stores it at all of them: the
 * numbers the other pairs' rows give for zero features, as a row depends only on its input. */
__device__ void hn_cu_interaction_logits(const float *pairs, const int *n, int max, int nfeat, int nlayers, const int *dims,
                                         const float *const *W, const float *const *B, int nproj, const int *nout,
                                         const float *const *Wp, const float *const *Bp, float *L)
{
    __shared__ float h[2][HN_CU_IA_TILE][HN_CU_IA_STRIDE];
    __shared__ int pa[HN_CU_IA_TILE], pc[HN_CU_IA_TILE], any_nonzero;
    const int b = blockIdx.y, cnt = n ? n[b] : max, t = threadIdx.x;
    const long npairs = (long)cnt * (cnt + 1) / 2, first = (long)blockIdx.x * HN_CU_IA_TILE;
    if (first >= npairs) return;
    if (t == 0) any_nonzero = 0;
    __syncthreads();
    if (t < HN_CU_IA_TILE) {
        const long p = first + t;
        int a = -1, c = 0, nonzero = 0;
        if (p < npairs) {                           /* p = a(a+1)/2 + c */
            a = (int)((sqrtf(8.0f * (float)p + 1.0f) - 1.0f) * 0.5f);
            while ((long)a * (a + 1) / 2 > p) --a;
            while ((long)(a + 1) * (a + 2) / 2 <= p) ++a;
            c = (int)(p - (long)a * (a + 1) / 2);
        }
        for (int k = 0; k < nfeat; ++k) {
            const float f = a >= 0 ? pairs[(((long)b * max + a) * max + c) * nfeat + k] : 0.0f;
            h[0][t][k] = f;
            nonzero |= f != 0.0f;
        }
        pa[t] = a;
        pc[t] = c;
        if (nonzero) any_nonzero = 1;
    }
    __syncthreads();
    const int rows = any_nonzero ? HN_CU_IA_TILE : 1;
    if (rows == 1)
        for (int k = t; k < nfeat; k += blockDim.x) h[0][0][k] = 0.0f;
    __syncthreads();
    int cur = 0;
    for (int l = 0; l < nlayers; ++l) {
        hn_cu_ia_layer(h[cur], rows, dims[l], W[l], B[l], dims[l + 1], HN_CU_ACT_GELU, h[1 - cur], 0);
        __syncthreads();
        cur = 1 - cur;
    }
    int total = 0;
    for (int p = 0; p < nproj; total += nout[p++])
        hn_cu_ia_layer(h[cur], rows, dims[nlayers], Wp[p], Bp[p], nout[p], HN_CU_ACT_NONE, h[1 - cur], total);
    __syncthreads();
    /* consecutive threads take consecutive pairs of one map: the stores at (a, c) are mostly contiguous */
    float *Lb = L + (long)b * total * max * max;
    for (int k = t; k < HN_CU_IA_TILE * total; k += blockDim.x) {
        const int q = k % HN_CU_IA_TILE, o = k / HN_CU_IA_TILE, a = pa[q], c = pc[q];
        if (a < 0) continue;
        const float val = h[1 - cur][rows == 1 ? 0 : q][o];
        float *map = Lb + (long)o * max * max;
        map[(long)a * max + c] = val;
        map[(long)c * max + a] = val;
    }
}

/* β = min(1, λ_init·exp(λq·λk)), λ_init = 1 − e^(−1/depth), by one warp (every lane gets it). */
__device__ float hn_cu_diff_beta(const float *lq, const float *lk, int len, int depth)
{
    float dot = 0.0f;
    for (int k = threadIdx.x % 32; k < len; k += 32) dot += lq[k] * lk[k];
    for (int s = 16; s; s >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, s);
    const float beta = expf(dot) * (float)(1.0 - exp(-1.0 / depth));
    return beta < 1.0f ? beta : 1.0f;
}

/* The softmax statistics of query row i's two maps l0, l1 over its cnt keys, by a warp (every lane gets them):
 * st = (max₀, Σ_j exp(l0[j] − max₀), max₁, Σ_j exp(l1[j] − max₁)). */
__device__ void hn_cu_diff_row_stats(const float *l0, const float *l1, int cnt, int lane, float *st)
{
    float m0 = -HN_CU_INF, m1 = -HN_CU_INF, z0 = 0.0f, z1 = 0.0f;
    for (int j = lane; j < cnt; j += 32) {
        m0 = fmaxf(m0, l0[j]);
        m1 = fmaxf(m1, l1[j]);
    }
    for (int s = 16; s; s >>= 1) {
        m0 = fmaxf(m0, __shfl_xor_sync(0xffffffffu, m0, s));
        m1 = fmaxf(m1, __shfl_xor_sync(0xffffffffu, m1, s));
    }
    for (int j = lane; j < cnt; j += 32) {
        z0 += expf(l0[j] - m0);
        z1 += expf(l1[j] - m1);
    }
    for (int s = 16; s; s >>= 1) {
        z0 += __shfl_xor_sync(0xffffffffu, z0, s);
        z1 += __shfl_xor_sync(0xffffffffu, z1, s);
    }
    st[0] = m0, st[1] = z0, st[2] = m1, st[3] = z1;
}

/* Differential attention (hn_k_diff_attention), a warp per query i and head h (blockIdx.x = h·qblocks + block of
 * HN_CU_DA_WARPS queries, blockIdx.y the event):
 *   α[j] = softmax_j(L[2h][i][·]) − β·softmax_j(L[2h+1][i][·]),  y[i][h·DV + t] = Σ_j α[j]·v[j][h·DV + t]
 * over the event's cnt rows. The lanes read the two logit rows coalesced (max and sum by shuffles); the weighted
 * sum runs with the lanes over keys and DV partial sums reduced by shuffles (DV ≤ 8), or with the weights in
 * shared memory and the lanes over the DV columns. Every key is visited (padded keys included, as the
 * reference's dense form; its sparse form gives the same numbers to rounding). v [max][heads·DV], L this layer's
 * 2·heads maps [max][max] of the event's logits (maps_per_event floats apart). */
template <int DV>
__device__ void hn_cu_diff_attention(const float *v, const int *n, int max, int heads, const float *L, long maps_per_event,
                                     const float *lq, const float *lk, int len, int depth, float *y)
{
    __shared__ float wsh[HN_CU_DA_WARPS][HN_CU_DA_MAX];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, qblocks = (max + HN_CU_DA_WARPS - 1) / HN_CU_DA_WARPS;
    const int b = blockIdx.y, h = blockIdx.x / qblocks, i = (blockIdx.x % qblocks) * HN_CU_DA_WARPS + warp;
    const int cnt = n ? n[b] : max, D = heads * DV;
    if (i >= cnt) return;                           /* whole warps leave: no shuffle waits on them */
    const float beta = hn_cu_diff_beta(lq, lk, len, depth);
    const float *l0 = L + (long)b * maps_per_event + ((long)(2 * h) * max + i) * max, *l1 = l0 + (long)max * max;
    float st[4];
    hn_cu_diff_row_stats(l0, l1, cnt, lane, st);
    const float m0 = st[0], m1 = st[2], inv0 = 1.0f / st[1], inv1 = beta / st[3];
    const float *vh = v + (long)b * max * D + h * DV;
    float *out = y + ((long)b * max + i) * D + h * DV;
    if (DV <= 8) {
        float acc[DV];
#pragma unroll
        for (int t = 0; t < DV; ++t) acc[t] = 0.0f;
        for (int j = lane; j < cnt; j += 32) {
            const float w = expf(l0[j] - m0) * inv0 - expf(l1[j] - m1) * inv1;
#pragma unroll
            for (int t = 0; t < DV; ++t) acc[t] += w * vh[(long)j * D + t];
        }
#pragma unroll
        for (int t = 0; t < DV; ++t) {
            float s = acc[t];
            for (int k = 16; k; k >>= 1) s += __shfl_xor_sync(0xffffffffu, s, k);
            if (lane == 0) out[t] = s;
        }
    } else {
        float *w = wsh[warp];
        for (int j = lane; j < cnt; j += 32) w[j] = expf(l0[j] - m0) * inv0 - expf(l1[j] - m1) * inv1;
        __syncwarp();
        for (int t = lane; t < DV; t += 32) {
            float s = 0.0f;
            for (int j = 0; j < cnt; ++j) s += w[j] * vh[(long)j * D + t];
            out[t] = s;
        }
    }
}

#endif
