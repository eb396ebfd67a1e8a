/* pair.cuh — ParT's pair features and pair embedding, fused in shared-memory tiles.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_PAIR_CUH
#define HN_CU_PAIR_CUH

/* ParT pair features (weaver's float32 formulas, as templates/c/pair.h) of particles a and c. */
__device__ __forceinline__ float hn_cu_logc(float x) { return logf(x > 1e-8f ? x : 1e-8f); }
__device__ void hn_cu_pair_feats(const float *p4, int a, int c, float *f)
{
    const float *va = p4 + 4 * a, *vc = p4 + 4 * c;
    float pta = sqrtf(__fadd_rn(__fmul_rn(va[0], va[0]), __fmul_rn(va[1], va[1])));
    float ptc = sqrtf(__fadd_rn(__fmul_rn(vc[0], vc[0]), __fmul_rn(vc[1], vc[1])));
    float dza = va[3] - va[2], dzc = vc[3] - vc[2];
    float ra = 0.5f * logf(1.0f + (2.0f * va[2]) / (dza > 1e-20f ? dza : 1e-20f));
    float rc = 0.5f * logf(1.0f + (2.0f * vc[2]) / (dzc > 1e-20f ? dzc : 1e-20f));
    float dphi = atan2f(va[1], va[0]) - atan2f(vc[1], vc[0]) + 3.14159265358979323846f;
    float m = fmodf(dphi, 6.28318530717958647692f);
    if (m != 0.0f && m < 0.0f) m += 6.28318530717958647692f;
    dphi = m - 3.14159265358979323846f;
    float dr = ra - rc, delta = sqrtf(__fadd_rn(__fmul_rn(dr, dr), __fmul_rn(dphi, dphi)));
    float ptmin = pta < ptc ? pta : ptc, ptsum = pta + ptc;
    float px = va[0] + vc[0], py = va[1] + vc[1], pz = va[2] + vc[2], e = va[3] + vc[3];
    f[0] = hn_cu_logc(ptmin * delta);
    f[1] = hn_cu_logc(ptmin / (ptsum > 1e-8f ? ptsum : 1e-8f));
    f[2] = hn_cu_logc(delta);
    f[3] = hn_cu_logc(__fsub_rn(__fmul_rn(e, e), __fadd_rn(__fadd_rn(__fmul_rn(px, px), __fmul_rn(py, py)), __fmul_rn(pz, pz))));
}

/* The pair features stored [max][max][nsel] (a pair_features layer that no pair_embed computes itself, e.g.
 * one concatenated with other pair features): a thread per slot pair, each unordered real pair's features
 * from (max(a, c), min(a, c)) as weaver's lower triangle, padded pairs 0. sel packs 2 bits per feature. */
__device__ void hn_cu_pair_features(const float *p4, const int *n, int batch, int max, int sel, int nsel, float *y)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)batch * max * max) return;
    int c = (int)(i % max), a = (int)((i / max) % max), b = (int)(i / ((long)max * max)), cnt = n ? n[b] : max;
    float all[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
    if (a < cnt && c < cnt) hn_cu_pair_feats(p4 + (long)b * max * 4, a > c ? a : c, a > c ? c : a, all);
    for (int k = 0; k < nsel; ++k) y[i * nsel + k] = all[(sel >> (2 * k)) & 3];
}

#define HN_CU_PAIR_TILE 32
#define HN_CU_PAIR_WIDTH 64
/* One per-pair MLP of ParT's PairEmbed over the tile in h[0] (input width dims[0], already batchnormed):
 * conv (BN folded) + GELU layers, ping-ponging in shared memory; returns the buffer holding the result. */
__device__ int hn_cu_pair_mlp(float (*h)[HN_CU_PAIR_TILE][HN_CU_PAIR_WIDTH], int nlayers, const int *dims,
                              const float *const *W, const float *const *B)
{
    int t = threadIdx.x, cur = 0;
    for (int l = 0; l < nlayers; ++l) {
        int in = dims[l], out = dims[l + 1];
        if (t < out)
            for (int q = 0; q < HN_CU_PAIR_TILE; ++q) {
                float s = B[l][t];
                for (int i = 0; i < in; ++i) s += W[l][t * in + i] * h[cur][q][i];
                h[1 - cur][q][t] = hn_cu_act(s, HN_CU_ACT_GELU);
            }
        __syncthreads();
        cur = 1 - cur;
    }
    return cur;
}

/* ParT pair embedding: a block of HN_CU_PAIR_WIDTH threads takes a tile of 32 pairs of one event
 * (blockIdx.y) through input batchnorm and the folded conv + GELU layers in shared memory, and writes
 * U[h][a][c] (and U[h][c][a] for the symmetric, unordered pairs); widths ≤ HN_CU_PAIR_WIDTH. p4 NULL:
 * features from pairs. uu (NULL: none): supplied pair features [max][max][dims2[0]] through the second
 * MLP (W2, B2, batchnorm m2..b2), summed; then every ordered pair is computed, as weaver does. */
__device__ void hn_cu_pair_embed(const float *p4, const float *pairs, const int *n, int max, int nfeat, const int *sel,
                                 const float *bm, const float *bv, const float *bg, const float *bb, int nlayers,
                                 const int *dims, const float *const *W, const float *const *B, float *U,
                                 const float *uu, const float *m2, const float *v2, const float *g2, const float *b2,
                                 const int *dims2, const float *const *W2, const float *const *B2)
{
    __shared__ float h[2][HN_CU_PAIR_TILE][HN_CU_PAIR_WIDTH];
    __shared__ float first_out[HN_CU_PAIR_TILE][HN_CU_PAIR_WIDTH];
    __shared__ int pa[HN_CU_PAIR_TILE], pc[HN_CU_PAIR_TILE];
    int b = blockIdx.y, cnt = n ? n[b] : max, t = threadIdx.x, heads = dims[nlayers];
    long first = (long)blockIdx.x * HN_CU_PAIR_TILE, npairs = uu ? (long)cnt * cnt : (long)cnt * (cnt + 1) / 2;
    if (first >= npairs) return;
    if (t < HN_CU_PAIR_TILE) {
        long p = first + t;
        int a = -1, c = 0;
        if (p < npairs) {
            if (uu) {
                a = (int)(p / cnt);
                c = (int)(p % cnt);
            } else {
                a = (int)((sqrtf(8.0f * (float)p + 1.0f) - 1.0f) * 0.5f);
                while ((long)a * (a + 1) / 2 > p) --a;
                while ((long)(a + 1) * (a + 2) / 2 <= p) ++a;
                c = (int)(p - (long)a * (a + 1) / 2);
            }
            float f[4];
            if (p4) hn_cu_pair_feats(p4 + (long)b * max * 4, a, c, f);
            for (int k = 0; k < nfeat; ++k) {
                float v = p4 ? f[sel[k]] : pairs[(((long)b * max + a) * max + c) * nfeat + k];
                h[0][t][k] = (v - bm[k]) / sqrtf(bv[k] + 1e-5f) * bg[k] + bb[k];
            }
        }
        pa[t] = a;
        pc[t] = c;
    }
    __syncthreads();
    int cur = hn_cu_pair_mlp(h, nlayers, dims, W, B);
    if (uu) {                                       /* the supplied features' MLP, summed */
        if (t < heads)
            for (int q = 0; q < HN_CU_PAIR_TILE; ++q) first_out[q][t] = h[cur][q][t];
        __syncthreads();
        if (t < HN_CU_PAIR_TILE && pa[t] >= 0)
            for (int k = 0; k < dims2[0]; ++k) {
                float v = uu[(((long)b * max + pa[t]) * max + pc[t]) * dims2[0] + k];
                h[0][t][k] = (v - m2[k]) / sqrtf(v2[k] + 1e-5f) * g2[k] + b2[k];
            }
        __syncthreads();
        cur = hn_cu_pair_mlp(h, nlayers, dims2, W2, B2);
        if (t < heads)
            for (int q = 0; q < HN_CU_PAIR_TILE; ++q) h[cur][q][t] += first_out[q][t];
        __syncthreads();
    }
    for (int q = 0; q < HN_CU_PAIR_TILE; ++q)
        if (pa[q] >= 0 && t < heads) {
            float *Ub = U + (long)b * heads * max * max + (long)t * max * max;
            Ub[(long)pa[q] * max + pc[q]] = h[cur][q][t];
            if (!uu) Ub[(long)pc[q] * max + pa[q]] = h[cur][q][t];
        }
}

#endif
