/* train_edgeconv.cuh — the GPU training kernels of ParticleNet's `edge_conv` op, the counterparts of
 * templates/c/backward_edgeconv.h (same rows, same formulas), launched by gpu/train_edgeconv.c
 * (hepnc/gpu_train_edgeconv.h) with the shapes as arguments. The host runs the convolutions as GEMMs over
 * every edge row of the batch and the batchnorm sums with train.cuh's two-pass column sums; the kernels
 * here are the per-point and per-row parts:
 *   hn_tec_knn              the k nearest neighbours of each real point (a thread per point; edgeconv_gemm.cuh)
 *   hn_tec_rows             the first layer's edge rows Z₀ = (U_i − V_i) + V_j and their multiplicities
 *   hn_tec_bn_relu          ReLU(batchnorm) of a layer's rows (times the multiplicity for the backward)
 *   hn_tec_relu_mask        the ReLU's mask on a gradient, recomputed from the pre-norm rows
 *   hn_tec_output           ReLU(shortcut + mean over the neighbours), padded rows 0 (edgeconv_gemm.cuh)
 *   hn_tec_output_backward  its backward: dy masked, the last layer's gradient rows
 *   hn_tec_inverse          per event, the edge rows whose neighbour is each point (a block per event)
 *   hn_tec_edges_backward   the edge rows' gradient back to the points: D_i | F_i = E_i − D_i
 * An event with n real of max slots has rpp = min(k, n − 1) + [n ≤ k] rows per real point (its real
 * neighbours, weight 1, then when n ≤ k one row for its padding neighbours, weight k − m), then when
 * n < max one row for every padded point's edges (weight k·(max − n)); offs[b] its first row. The
 * float expressions are the C code's, with the round-to-nearest intrinsics where a multiply meets an add
 * (no contraction into FMA: the neighbours and the ReLU masks are the C step's, bit for bit). No atomics;
 * every sum runs in the C code's order, so two runs give the same bytes. */
#ifndef HN_CU_TRAIN_EDGECONV_CUH
#define HN_CU_TRAIN_EDGECONV_CUH

/* hn_tec_count, hn_tec_real_neighbours, hn_tec_rows_per_point, hn_tec_knn and hn_tec_output: edgeconv_gemm.cuh
 * (inference uses them too; NAME_train.cu holds the inference kernels first). */

/* The first layer's pre-norm rows of event b (blockIdx.y) from UV [batch][max][2·c1] (U_i | V_i per point):
 * Z[(i, j)] = (U_i − V_i) + V_j, Z[(i, pad)] = U_i − V_i, the padded representative 0; w its multiplicity.
 * A thread per (row of the event, channel). */
extern "C" __global__ void hn_tec_rows(const float *UV, const int *n, int batch, int max, int k, int c1, const int *offs,
                                       const int *nb, float *Z, float *w)
{
    long t = ((long)blockIdx.x * blockDim.x + threadIdx.x) / c1;
    int o = (int)(((long)blockIdx.x * blockDim.x + threadIdx.x) % c1), b = blockIdx.y;
    if (b >= batch || t >= offs[b + 1] - offs[b]) return;
    int cnt = hn_tec_count(n, b, max), i, q;
    float z = 0.0f, wt = hn_tec_edge_row(t, cnt, max, k, &i, &q);
    if (i >= 0) {
        const float *U = UV + ((long)b * max + i) * 2 * c1, *V = U + c1;
        z = __fsub_rn(U[o], V[o]);
        if (q < hn_tec_real_neighbours(cnt, k))
            z = __fadd_rn(z, UV[((long)b * max + nb[((long)b * max + i) * k + q]) * 2 * c1 + c1 + o]);
    }
    Z[(offs[b] + t) * c1 + o] = z;
    if (o == 0) w[offs[b] + t] = wt;
}

/* (x − mean)·inv·γ + β, rounded step by step (hn_kt_ec_bn_relu's expression) */
__device__ __forceinline__ float hn_tec_bn(float x, float mean, float inv, float gamma, float beta)
{
    return __fadd_rn(__fmul_rn(__fmul_rn(__fsub_rn(x, mean), inv), gamma), beta);
}

/* y = ReLU((x − mean)·inv·γ + β) over rows of dim, times w[r] when w is not NULL (the backward's
 * weighted activations). y ≠ x. */
extern "C" __global__ void hn_tec_bn_relu(const float *x, long rows, int dim, const float *mean, const float *inv,
                                          const float *gamma, const float *beta, const float *w, float *y)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * dim) return;
    int c = (int)(i % dim);
    float v = hn_tec_bn(x[i], mean[c], inv[c], gamma[c], beta[c]);
    v = v > 0.0f ? v : 0.0f;
    y[i] = w ? __fmul_rn(v, w[i / dim]) : v;
}

/* g ← g where (x − mean)·inv·γ + β > 0 (the forward's ReLU, recomputed bit for bit), else 0 */
extern "C" __global__ void hn_tec_relu_mask(const float *x, long rows, int dim, const float *mean, const float *inv,
                                            const float *gamma, const float *beta, float *g)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * dim) return;
    int c = (int)(i % dim);
    if (!(hn_tec_bn(x[i], mean[c], inv[c], gamma[c], beta[c]) > 0.0f)) g[i] = 0.0f;
}

/* Backward of hn_tec_output: dy ← dy ⊙ [y > 0] (padded points 0), and the last layer's gradient rows
 * dA [rows][cout]: dy_i / k on each row of point i (per copy), 0 on the padded representative. A thread
 * per (event, point, channel). */
extern "C" __global__ void hn_tec_output_backward(const float *y, float *dy, const int *n, int batch, int max, int k,
                                                  int cout, const int *offs, float *dA)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * max * cout) return;
    int c = (int)(idx % cout), i = (int)((idx / cout) % max), b = (int)(idx / ((long)cout * max));
    int cnt = hn_tec_count(n, b, max), rpp = hn_tec_rows_per_point(cnt, k);
    if (i >= cnt) {
        dy[idx] = 0.0f;
        if (i == cnt) dA[((long)offs[b] + (long)cnt * rpp) * cout + c] = 0.0f;
        return;
    }
    float g = y[idx] > 0.0f ? dy[idx] : 0.0f;
    dy[idx] = g;
    float d = __fdiv_rn(g, (float)k);
    for (int q = 0; q < rpp; ++q) dA[((long)offs[b] + (long)i * rpp + q) * cout + c] = d;
}

/* The inverse neighbour table of event b (a block per event): for every real point j, the edge rows whose
 * neighbour is j, in row order (point i ascending, then its neighbour slot), at inv + b·stride: offsets
 * [max + 1] then the lists. Each thread counts, then lists, its points; no atomics. */
extern "C" __global__ void hn_tec_inverse(const int *n, int batch, int max, int k, const int *offs, const int *nb, int stride,
                                          int *inv)
{
    int b = blockIdx.x;
    if (b >= batch) return;
    int cnt = hn_tec_count(n, b, max), m = hn_tec_real_neighbours(cnt, k), rpp = hn_tec_rows_per_point(cnt, k);
    const int *nbe = nb + (long)b * max * k;
    int *io = inv + (long)b * stride, *list = io + max + 1;
    for (int j = threadIdx.x; j < max; j += blockDim.x) {          /* how many rows point j is the neighbour of */
        int c = 0;
        for (int i = 0; j < cnt && i < cnt; ++i)
            for (int q = 0; q < m; ++q) c += nbe[(long)i * k + q] == j;
        io[j + 1] = c;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        io[0] = 0;
        for (int j = 0; j < max; ++j) io[j + 1] += io[j];
    }
    __syncthreads();
    for (int j = threadIdx.x; j < cnt; j += blockDim.x) {          /* the rows, in order */
        int t = io[j];
        for (int i = 0; i < cnt; ++i)
            for (int q = 0; q < m; ++q)
                if (nbe[(long)i * k + q] == j) list[t++] = offs[b] + i * rpp + q;
    }
}

/* Backward of hn_tec_rows: DF [batch][max][2·c1] receives D_j | F_j for each point j, with
 * D_j = Σ_{rows of j} w·dZ (in row order) and F_j = E_j − D_j, E_j = Σ dZ over the rows whose neighbour
 * is j (in row order, from hn_tec_inverse's list); 0 for the padded points. A thread per (event, point,
 * channel). */
extern "C" __global__ void hn_tec_edges_backward(const float *dZ, const float *w, const int *n, int batch, int max, int k,
                                                 int c1, const int *offs, const int *inv, int stride, float *DF)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * max * c1) return;
    int o = (int)(idx % c1), j = (int)((idx / c1) % max), b = (int)(idx / ((long)c1 * max));
    float *D = DF + ((long)b * max + j) * 2 * c1;
    int cnt = hn_tec_count(n, b, max);
    if (j >= cnt) {
        D[o] = 0.0f;
        D[c1 + o] = 0.0f;
        return;
    }
    int rpp = hn_tec_rows_per_point(cnt, k);
    long base = offs[b];
    float d = 0.0f, e = 0.0f;
    for (int q = 0; q < rpp; ++q) {
        long r = base + (long)j * rpp + q;
        d = __fadd_rn(d, __fmul_rn(w[r], dZ[r * c1 + o]));
    }
    const int *io = inv + (long)b * stride, *list = io + max + 1;
    for (int t = io[j]; t < io[j + 1]; ++t) e = __fadd_rn(e, dZ[(long)list[t] * c1 + o]);
    D[o] = d;
    D[c1 + o] = __fsub_rn(e, d);
}

#endif
