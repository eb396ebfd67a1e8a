/* edgeconv_gemm.cuh — ParticleNet's EdgeConv in GEMM form: kNN, the edge rows, bias + ReLU over rows, the block output.
 * Part of hepnc's CUDA kernel bodies (templates/cuda/<part>.cuh, the counterparts of templates/c/<part>.h: same
 * formulas, layouts and real-rows-only rule), pasted in order into NAME.cu by compiler/emit_cuda.c,
 * which adds one extern "C" __global__ wrapper per node with the shapes as constants; NVRTC compiles it
 * at run time (gpu/). Tensors are [batch][per-event] in device memory; `n` holds each event's real
 * rows (NULL: all rows real).
 *
 * With cuBLAS the inference runs an edge_conv (compiler/emit_cuda_host.c) as the training step does
 * (train_edgeconv.cuh, hepnc/gpu_train_edgeconv.h): the k nearest neighbours per point (hn_tec_knn), the
 * first convolution per point as one GEMM for U'_i | V_i (W₁ = [Wa − Wb | Wb], folded at load), the edge
 * rows ReLU(U'_i + V_j + b₁) of every real point (hn_ec_edge_rows), each further convolution as one GEMM
 * over all the rows of a group of events with its folded bias and ReLU (hn_rows_bias_act), then the mean
 * over the neighbours, the shortcut and the ReLU (hn_tec_output). The rows of an event are the training
 * step's: per real point its min(k, n − 1) real-neighbour rows (weight 1), one row for its padding
 * neighbours when n ≤ k (weight k − m: zero features, as weaver's far-shifted padding), then one
 * representative row of the padded points (never read by the output). */
#ifndef HN_CU_EDGECONV_GEMM_CUH
#define HN_CU_EDGECONV_GEMM_CUH

#define HN_TEC_MAXK 64            /* the most neighbours hn_tec_knn selects */

/* Real points of event b: n[b] clamped to [0, max] (n NULL: max). */
__device__ __forceinline__ int hn_tec_count(const int *n, int b, int max)
{
    int c = n ? n[b] : max;
    return c < 0 ? 0 : c > max ? max : c;
}

/* Real neighbours of a real point (min(k, n − 1)) and rows per real point (plus one when n ≤ k). */
__device__ __forceinline__ int hn_tec_real_neighbours(int n, int k) { return n - 1 < k ? (n > 0 ? n - 1 : 0) : k; }
__device__ __forceinline__ int hn_tec_rows_per_point(int n, int k) { return hn_tec_real_neighbours(n, k) + (n <= k ? 1 : 0); }

/* Σ_c p[c]·q[c] in order, each product rounded (hn_kt_ec_knn's sums) */
__device__ __forceinline__ float hn_tec_dot(const float *p, const float *q, int Pd)
{
    float s = 0.0f;
    for (int c = 0; c < Pd; ++c) s = __fadd_rn(s, __fmul_rn(p[c], q[c]));
    return s;
}

/* The k neighbours of each real point i of event b (blockIdx.y) in the coordinates p [batch][max][Pd]:
 * D_ij = −|p_i|² − (−2 p_i·p_j) − |p_j|² over the event's real points, the top k+1 kept sorted by
 * insertion (ties to the lower index), the first dropped (hn_k_knn_row); −1 past the real ones.
 * nb [batch][max][k]; the padded points' entries are not written. */
extern "C" __global__ void hn_tec_knn(const float *p, const int *n, int batch, int max, int Pd, int k, int *nb)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y;
    if (b >= batch) return;
    int cnt = hn_tec_count(n, b, max);
    if (i >= cnt) return;
    const float *pe = p + (long)b * max * Pd, *pi = pe + (long)i * Pd;
    const float sqi = hn_tec_dot(pi, pi, Pd);
    int take = k + 1 < cnt ? k + 1 : cnt, have = 0;
    int best[HN_TEC_MAXK + 1];
    float bd[HN_TEC_MAXK + 1];
    for (int j = 0; j < cnt; ++j) {
        const float *pj = pe + (long)j * Pd;
        float inner = hn_tec_dot(pi, pj, Pd), sqj = hn_tec_dot(pj, pj, Pd);
        float d = __fsub_rn(__fsub_rn(-sqi, __fmul_rn(-2.0f, inner)), sqj);
        if (have == take && !(d > bd[have - 1])) continue;
        int pos = have < take ? have++ : take - 1;          /* drop the last when full */
        while (pos > 0 && d > bd[pos - 1]) {
            best[pos] = best[pos - 1];
            bd[pos] = bd[pos - 1];
            --pos;
        }
        best[pos] = j;
        bd[pos] = d;
    }
    int *out = nb + ((long)b * max + i) * k;
    for (int t = 0; t < k; ++t) out[t] = t + 1 < take ? best[t + 1] : -1;
}

/* The block output: y_i = ReLU(s_i + (1/k)·Σ_{rows of i} w·A) for the real points, s_i the shortcut (sc
 * NULL: already in y; else the identity x_i, rows of C floats), 0 for the padded points. A the last
 * layer's activations [rows][cout]. A thread per (event, point, channel). */
extern "C" __global__ void hn_tec_output(const float *A, const float *w, const int *n, int batch, int max, int k, int cout,
                                         const int *offs, const float *sc, int C, float *y)
{
    long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)batch * max * cout) return;
    int c = (int)(idx % cout), i = (int)((idx / cout) % max), b = (int)(idx / ((long)cout * max));
    int cnt = hn_tec_count(n, b, max);
    if (i >= cnt) {
        y[idx] = 0.0f;
        return;
    }
    int rpp = hn_tec_rows_per_point(cnt, k);
    float s = 0.0f;
    for (int q = 0; q < rpp; ++q) {
        long r = offs[b] + (long)i * rpp + q;
        s = __fadd_rn(s, __fmul_rn(w[r], A[r * cout + c]));
    }
    float v = __fadd_rn(sc ? sc[((long)b * max + i) * C + c] : y[idx], __fdiv_rn(s, (float)k));
    y[idx] = v > 0.0f ? v : 0.0f;
}

/* Row t of an event with cnt real of max points (the row layout above): its point *i (−1: the padded points'
 * representative) and neighbour slot *q (q < min(k, cnt − 1): a real neighbour; else the padding neighbours'
 * row); returns the row's multiplicity. Shared by the training rows (train_edgeconv.cuh) and these. */
__device__ __forceinline__ float hn_tec_edge_row(long t, int cnt, int max, int k, int *i, int *q)
{
    int m = hn_tec_real_neighbours(cnt, k), rpp = hn_tec_rows_per_point(cnt, k);
    if (t >= (long)cnt * rpp) {
        *i = -1, *q = 0;
        return __fmul_rn((float)k, (float)(max - cnt));
    }
    *i = (int)(t / rpp), *q = (int)(t % rpp);
    return *q < m ? 1.0f : (float)(k - m);
}

/* Edge rows of event b (blockIdx.y) for inference: Z[(i, j)] = ReLU(U'_i + V_j + b₁) for the real
 * neighbours, ReLU(U'_i + b₁) for the padding neighbours' row, 0 for the padded representative; w the
 * multiplicities. UV [batch][max][2·c1] (U'_i | V_i per point). A thread per (row of the event, channel). */
extern "C" __global__ void hn_ec_edge_rows(const float *UV, const int *n, int batch, int max, int k, int c1, const int *offs,
                                           const int *nb, const float *bias, float *Z, float *w)
{
    long t = ((long)blockIdx.x * blockDim.x + threadIdx.x) / c1;
    int o = (int)(((long)blockIdx.x * blockDim.x + threadIdx.x) % c1), b = blockIdx.y;
    if (b >= batch || t >= offs[b + 1] - offs[b]) return;
    int cnt = hn_tec_count(n, b, max), i, q;
    float z = 0.0f, wt = hn_tec_edge_row(t, cnt, max, k, &i, &q);
    if (i >= 0) {
        z = UV[((long)b * max + i) * 2 * c1 + o] + bias[o];
        if (q < hn_tec_real_neighbours(cnt, k)) z += UV[((long)b * max + nb[((long)b * max + i) * k + q]) * 2 * c1 + c1 + o];
        z = z > 0.0f ? z : 0.0f;
    }
    Z[(offs[b] + t) * c1 + o] = z;
    if (o == 0) w[offs[b] + t] = wt;
}

/* y[r][c] = act(y[r][c] + bias[c]) over rows × dim (a GEMM's epilogue): linear.cuh's hn_cu_bias_act, every row real. */
extern "C" __global__ void hn_rows_bias_act(float *y, long rows, int dim, const float *bias, int act)
{
    hn_cu_bias_act(y, 0, 1, (int)rows, 1, dim, bias, act);
}

#endif
