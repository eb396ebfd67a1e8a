/* edgeconv.cuh — ParticleNet's EdgeConv: kNN and the edge MLP in shared memory.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real). */
#ifndef HN_CU_EDGECONV_CUH
#define HN_CU_EDGECONV_CUH

#define HN_CU_EDGE_K 16
#define HN_CU_EDGE_WIDTH 256
/* ParticleNet EdgeConv for one point (blockIdx.x) of one event (blockIdx.y); blockDim.x ≥ every width.
 * Distances to the event's real points in shared memory, the k (≤ 16) nearest by weaver's ordering
 * (one thread selects, ties to the lower index, the first of the k+1 dropped, padding neighbours as
 * zero features), then the edge MLP on [k][width] tiles in shared memory: the first layer per point
 * from W1 = [Wa − Wb | Wb] (folded at load time), mean over the neighbours, shortcut, ReLU. */
__device__ void hn_cu_edgeconv(const float *x, const float *p, const int *n, int max, int C, int Pd, int k,
                               int nlayers, const int *dims, const float *const *W, const float *const *B,
                               const float *Wsc, const float *bsc, float *y)
{
    __shared__ float d[512];
    __shared__ int nb[HN_CU_EDGE_K];
    __shared__ float h[2][HN_CU_EDGE_K][HN_CU_EDGE_WIDTH];
    int i = blockIdx.x, b = blockIdx.y, t = threadIdx.x, cnt = n ? n[b] : max;
    if (i >= cnt) return;
    const float *xe = x + (long)b * max * C, *pe = p + (long)b * max * Pd, *pi = pe + (long)i * Pd;
    float sqi = 0.0f;
    for (int c = 0; c < Pd; ++c) sqi += pi[c] * pi[c];
    for (int j = t; j < cnt; j += blockDim.x) {
        const float *pj = pe + (long)j * Pd;
        float sqj = 0.0f, inner = 0.0f;
        for (int c = 0; c < Pd; ++c) { sqj += pj[c] * pj[c]; inner += pi[c] * pj[c]; }
        d[j] = -sqi - (-2.0f * inner) - sqj;
    }
    __syncthreads();
    if (t == 0) {                                   /* top k+1 by repeated argmax (ties to the lower index) */
        int take = k + 1 < cnt ? k + 1 : cnt;
        for (int q = 0; q < take; ++q) {
            int arg = -1;
            for (int j = 0; j < cnt; ++j)
                if (d[j] > -HN_CU_INF && (arg < 0 || d[j] > d[arg])) arg = j;
            if (q > 0) nb[q - 1] = arg;                /* the first (the point itself) is dropped */
            d[arg] = -HN_CU_INF;
        }
        for (int q = take - 1; q < k; ++q) nb[q] = -1;   /* padding neighbours: zero features */
        if (take == 0) for (int q = 0; q < k; ++q) nb[q] = -1;
    }
    __syncthreads();
    const float *xi = xe + (long)i * C;
    int c1 = dims[0];
    if (t < c1) {                                   /* layer 1: ReLU(A_i + B_j) */
        const float *w = W[0] + (long)t * 2 * C;
        float a = B[0][t];
        for (int c = 0; c < C; ++c) a += w[c] * xi[c];
        for (int q = 0; q < k; ++q) {
            float bj = 0.0f;
            if (nb[q] >= 0) {
                const float *xj = xe + (long)nb[q] * C;
                for (int c = 0; c < C; ++c) bj += w[C + c] * xj[c];
            }
            h[0][q][t] = fmaxf(a + bj, 0.0f);
        }
    }
    __syncthreads();
    int cur = 0;
    for (int l = 1; l < nlayers; ++l) {
        int in = dims[l - 1], out = dims[l];
        if (t < out)
            for (int q = 0; q < k; ++q) {
                float s = B[l][t];
                for (int c = 0; c < in; ++c) s += W[l][(long)t * in + c] * h[cur][q][c];
                h[1 - cur][q][t] = fmaxf(s, 0.0f);
            }
        __syncthreads();
        cur = 1 - cur;
    }
    int cout = dims[nlayers - 1];
    if (t < cout) {
        float mean = 0.0f;
        for (int q = 0; q < k; ++q) mean += h[cur][q][t];
        mean /= (float)k;
        float sc = xi[t];
        if (Wsc) {
            sc = bsc[t];
            for (int c = 0; c < C; ++c) sc += Wsc[(long)t * C + c] * xi[c];
        }
        y[((long)b * max + i) * cout + t] = fmaxf(sc + mean, 0.0f);
    }
}

#endif
