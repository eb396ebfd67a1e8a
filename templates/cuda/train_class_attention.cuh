/* train_class_attention.cuh — the GPU training kernels of the `cls_attention` op (ParT's class-token attention,
 * CaiT style), the counterparts of templates/c/backward_class_attention.h, launched by gpu/train_class_attention.c
 * (hepnc/gpu_train_class_attention.h) with the shapes as arguments. Per event b, with the key rows
 * [c; X] = the token then the event's n real rows (key row 0 the token, key row r the particle r − 1):
 *   u_r = LayerNorm(key row r),  q = W_q c + b_q,  [k | v]_r = W_kv u_r + b_kv,
 *   p_hr = softmax_r((q_h/√d)·k_hr),  o_h = Σ_r p_hr v_hr
 * and its backward (recomputing the forward):
 *   g_hr = do_h·v_hr,  dz_hr = p_hr·(g_hr − Σ_r' p_hr' g_hr'),
 *   dq_h = (1/√d)·Σ_r dz_hr k_hr,  dk_hr = dz_hr·q_h/√d,  dv_hr = p_hr·do_h,
 *   du_r = W_kvᵀ [dk|dv]_r,  then LayerNorm's backward per key row.
 * The host does the projections and the parameter gradients as GEMMs over every key row of every event
 * (hn_gpu_gemm) and the bias and LayerNorm sums with train.cuh's two-pass column sums; the kernels here are
 * the per-row and per-(event, head) parts:
 *   hn_tca_keys_ln           the key rows' LayerNorm (a warp per key row), padding rows 0
 *   hn_tca_attend_backward   the attention's backward (a block per (head, event)): dkv and dq
 *   hn_tca_keys_ln_backward  LayerNorm's backward (a warp per key row): dtoken, dx, and du ⊙ x̂ for dγ
 * Layout of the key rows: [batch][max + 1][·], row 0 of each event the token, rows 1 … n the real
 * particles, rows n + 1 … max padding (zero in every buffer written here). No atomics; every sum runs in
 * a fixed order, so two runs give the same bytes. */
#ifndef HN_CU_TRAIN_CLASS_ATTENTION_CUH
#define HN_CU_TRAIN_CLASS_ATTENTION_CUH

#define HN_TCA_THREADS 128        /* threads of hn_tca_attend_backward's blocks (a power of two) */

/* Real rows of event b: n[b] clamped to [0, max] (n NULL: max). */
__device__ __forceinline__ int hn_tca_count(const int *n, int b, int max)
{
    int c = n ? n[b] : max;
    return c < 0 ? 0 : c > max ? max : c;
}

/* Σ over the warp's lanes (every lane gets the sum; a fixed butterfly, so deterministic) */
__device__ __forceinline__ float hn_tca_warp_sum(float v)
{
    for (int k = 16; k; k >>= 1) v += __shfl_xor_sync(0xffffffffu, v, k);
    return v;
}

/* The LayerNorm statistics of one row of D floats, a warp together (two passes, as the forward):
 * *mean and *inv = 1/√(σ² + 1e-5), the same in every lane. */
__device__ __forceinline__ void hn_tca_row_stats(const float *xr, int D, int lane, float *mean, float *inv)
{
    float s = 0.0f;
    for (int i = lane; i < D; i += 32) s += xr[i];
    float m = hn_tca_warp_sum(s) / D, v = 0.0f;
    for (int i = lane; i < D; i += 32) v += (xr[i] - m) * (xr[i] - m);
    *mean = m;
    *inv = 1.0f / sqrtf(hn_tca_warp_sum(v) / D + 1e-5f);
}

/* Key row `row` of the [batch][max + 1] key rows: its event *b, index *r (0 the token) and source row
 * (NULL for padding rows, r > n[b]). */
__device__ __forceinline__ const float *hn_tca_key_source(const float *token, const float *x, const int *n, int max, int D,
                                                          long row, int *b, int *r)
{
    *b = (int)(row / (max + 1));
    *r = (int)(row % (max + 1));
    if (*r > hn_tca_count(n, *b, max)) return 0;
    return *r == 0 ? token + (long)*b * D : x + ((long)*b * max + *r - 1) * D;
}

/* Step 1, a warp per key row of [batch][max + 1]: u = LayerNorm(row)·γ + β (the forward's keys before the
 * projection); padding rows set to 0 (so the GEMMs over every row add nothing for them). */
extern "C" __global__ void hn_tca_keys_ln(const float *token, const float *x, const int *n, int batch, int max, int D,
                                          const float *ln_g, const float *ln_b, float *u)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32, b, r;
    if (row >= (long)batch * (max + 1)) return;
    const float *xr = hn_tca_key_source(token, x, n, max, D, row, &b, &r);
    float *ur = u + row * D;
    if (!xr) {
        for (int i = lane; i < D; i += 32) ur[i] = 0.0f;
        return;
    }
    float mean, inv;
    hn_tca_row_stats(xr, D, lane, &mean, &inv);
    for (int i = lane; i < D; i += 32) ur[i] = (xr[i] - mean) * inv * ln_g[i] + ln_b[i];
}

/* A block's reduction of one value per thread (max when is_max, else the sum), in a fixed tree order;
 * every thread gets the result. red: blockDim.x floats of shared memory (blockDim.x a power of two). */
__device__ __forceinline__ float hn_tca_block_reduce(float v, int is_max, float *red)
{
    int t = threadIdx.x;
    red[t] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) red[t] = is_max ? fmaxf(red[t], red[t + s]) : red[t] + red[t + s];
        __syncthreads();
    }
    float r = red[0];
    __syncthreads();                                      /* red is reused by the next reduction */
    return r;
}

/* Σ_t a[t]·(b[t] + c[t]) over t < d, in order (a key or value row with its bias, against q or do) */
__device__ __forceinline__ float hn_tca_dot_bias(const float *a, const float *b, const float *c, int d)
{
    float s = 0.0f;
    for (int t = 0; t < d; ++t) s += a[t] * (b[t] + c[t]);
    return s;
}

/* Step 2, a block of HN_TCA_THREADS threads per (head h = blockIdx.x, event b = blockIdx.y): the attention's
 * backward for the event's keys 0 … n (the token, then the real rows), from
 *   q   [batch][D]             W_q c (without the bias)
 *   kv  [batch][max + 1][2D]   W_kv u_r (without the biases), k | v
 *   dy  [batch][D]             the gradient of the heads' output
 * writing the head's columns of
 *   dkv [batch][max + 1][2D]   dk | dv of every key row (padding rows r > n: 0)
 *   dq  [batch][D]             the gradient of q + b_q (the 1/√d included)
 * Dynamic shared memory: (2·d + 2·(max + 1)) floats. */
extern "C" __global__ void hn_tca_attend_backward(const float *q, const float *kv, const int *n, int max, int D, int heads,
                                                  const float *bias, const float *dy, float *dkv, float *dq)
{
    extern __shared__ float hn_tca_sh[];
    __shared__ float red[HN_TCA_THREADS];
    int h = blockIdx.x, b = blockIdx.y, tid = threadIdx.x, T = blockDim.x, d = D / heads;
    int keys = hn_tca_count(n, b, max) + 1, rows = max + 1;
    float *qs = hn_tca_sh, *gs = qs + d, *p = gs + d, *g = p + rows;
    const float *bk = bias + D + h * d, *bv = bias + 2 * D + h * d, *ev = kv + (long)b * rows * 2 * D;
    float scale = 1.0f / sqrtf((float)d);

    /* the head's scaled query (q + b_q)/√d and its output gradient */
    for (int t = tid; t < d; t += T) {
        qs[t] = (q[(long)b * D + h * d + t] + bias[h * d + t]) * scale;
        gs[t] = dy[(long)b * D + h * d + t];
    }
    __syncthreads();

    /* scores s_r = q·k_r into p, g_r = do·v_r into g; then the softmax p_r = exp(s_r − max)/Σ */
    float m = -HN_CU_INF;
    for (int r = tid; r < keys; r += T) {
        const float *kr = ev + (long)r * 2 * D + h * d;
        p[r] = hn_tca_dot_bias(qs, kr, bk, d);
        g[r] = hn_tca_dot_bias(gs, kr + D, bv, d);
        m = fmaxf(m, p[r]);
    }
    m = hn_tca_block_reduce(m, 1, red);
    float l = 0.0f;
    for (int r = tid; r < keys; r += T) {
        p[r] = expf(p[r] - m);
        l += p[r];
    }
    float il = 1.0f / hn_tca_block_reduce(l, 0, red), c = 0.0f;
    for (int r = tid; r < keys; r += T) {
        p[r] *= il;
        c += p[r] * g[r];
    }
    c = hn_tca_block_reduce(c, 0, red);

    /* dz_r = p_r·(g_r − Σ p g), in place of g */
    for (int r = tid; r < keys; r += T) g[r] = p[r] * (g[r] - c);
    __syncthreads();

    /* dk_r = dz_r·q/√d, dv_r = p_r·do for every key row of the event (padding rows 0) */
    float *eg = dkv + (long)b * rows * 2 * D + h * d;
    for (long i = tid; i < (long)rows * d; i += T) {
        int r = (int)(i / d), t = (int)(i % d);
        bool real = r < keys;
        eg[(long)r * 2 * D + t] = real ? g[r] * qs[t] : 0.0f;
        eg[(long)r * 2 * D + D + t] = real ? p[r] * gs[t] : 0.0f;
    }

    /* dq = (1/√d)·Σ_r dz_r k_r, r ascending */
    for (int t = tid; t < d; t += T) {
        float s = 0.0f;
        for (int r = 0; r < keys; ++r) s += g[r] * (ev[(long)r * 2 * D + h * d + t] + bk[t]);
        dq[(long)b * D + h * d + t] = s * scale;
    }
}

/* Step 3, a warp per key row of [batch][max + 1]: LayerNorm's backward from du [batch][max + 1][D] (the
 * gradient of u), x̂ recomputed from the source row:
 *   dxr = inv·(du⊙γ − mean(du⊙γ) − x̂·mean(du⊙γ⊙x̂))
 * written to dtoken[b] = cu[b] + dxr for the token's row (cu = W_qᵀ dq, the query path; dtoken NULL: not),
 * to dx[b][r − 1] for the particles' rows (dx NULL: not; padding rows r > n: 0). Then du ← du ⊙ x̂ in
 * place (padding rows 0), whose column sums are dγ. */
extern "C" __global__ void hn_tca_keys_ln_backward(const float *token, const float *x, const int *n, int batch, int max, int D,
                                                   const float *ln_g, const float *cu, float *du, float *dtoken, float *dx)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32, b, r;
    if (row >= (long)batch * (max + 1)) return;
    const float *xr = hn_tca_key_source(token, x, n, max, D, row, &b, &r);
    float *gr = du + row * D, *out = r == 0 ? dtoken : dx;
    if (out) out += r == 0 ? (long)b * D : ((long)b * max + r - 1) * D;
    if (!xr) {
        for (int i = lane; i < D; i += 32) {
            gr[i] = 0.0f;
            if (out) out[i] = 0.0f;
        }
        return;
    }
    float mean, inv, sg = 0.0f, sgx = 0.0f;
    hn_tca_row_stats(xr, D, lane, &mean, &inv);
    for (int i = lane; i < D; i += 32) {
        float gi = gr[i] * ln_g[i];
        sg += gi;
        sgx += gi * ((xr[i] - mean) * inv);
    }
    float a = hn_tca_warp_sum(sg) / D, c = hn_tca_warp_sum(sgx) / D;
    for (int i = lane; i < D; i += 32) {
        float xh = (xr[i] - mean) * inv, v = inv * (gr[i] * ln_g[i] - a - xh * c);
        if (out) out[i] = r == 0 ? cu[(long)b * D + i] + v : v;
        gr[i] *= xh;
    }
}

#endif
