/* train_optim.cuh — the optimiser step on the GPU (gpu/train_optim.c launches these kernels), the twin of
 * runtime/optim.c: one thread per parameter repeats the C loop body's float32 operations in the same
 * order with the same roundings. Products that feed a sum are written with __fmul_rn / __fadd_rn, which the
 * compiler never contracts into an FMA, and the C code's fmaf (ATen's fused add with alpha) is fmaf here,
 * so a step gives the C code's bytes. Every scalar (bias corrections, the RAdam rectification term, whether
 * this step is a Lookahead sync) comes from the host, computed in double as optim.c does.
 *
 * State layout (hepnc/optim.h): [0] [1] step count, [2] [3] Lookahead counter, then the momentum buffer
 * (SGD) or m, v (Adam family), then the slow weights (Lookahead). The host passes the counters' new
 * floats; thread 0 writes them. Also the global gradient norm of hn_clip_grad_norm: deterministic block
 * reductions in double (a fixed tree per tile of HN_TOPT_TILE values, then over the tiles in order). */
#ifndef HN_CU_TRAIN_OPTIM_CUH
#define HN_CU_TRAIN_OPTIM_CUH

#define HN_TOPT_THREADS 256                     /* the reductions' block size */
#define HN_TOPT_PER_THREAD 16
#define HN_TOPT_TILE (HN_TOPT_THREADS * HN_TOPT_PER_THREAD)   /* values per partial sum */

/* The arguments every step kernel ends with: the state (for the counters), the step count's two floats,
 * the slow weights (NULL without Lookahead), whether this step syncs, α and 1 − α, the Lookahead
 * counter's two floats. */
#define HN_TOPT_TAIL float *state, float c0, float c1, float *slow, int sync, float fa, float f1a, float l0, float l1

/* The end of one parameter's step: the Lookahead sync (p.mul_(α).add_(slow, alpha=1−α); slow ← p) when
 * due, the parameter stored, and thread 0 writes the counters. */
__device__ __forceinline__ void hn_topt_finish(long i, float *p, float pi, HN_TOPT_TAIL)
{
    if (sync) {
        float a = __fmul_rn(pi, fa);
        pi = fmaf(f1a, slow[i], a);
        slow[i] = pi;
    }
    p[i] = pi;
    if (i == 0) {
        state[0] = c0;
        state[1] = c1;
        if (slow) {
            state[2] = l0;
            state[3] = l1;
        }
    }
}

/* The counters alone (a group of no parameters still counts its steps). */
__device__ __forceinline__ void hn_topt_counters(long i, HN_TOPT_TAIL)
{
    (void)sync; (void)fa; (void)f1a;
    if (i == 0) {
        state[0] = c0;
        state[1] = c1;
        if (slow) {
            state[2] = l0;
            state[3] = l1;
        }
    }
}

#define HN_TOPT_TAIL_ARGS state, c0, c1, slow, sync, fa, f1a, l0, l1

/* m ← β1·m + (1−β1)·g ; v ← β2·v + (1−β2)·g·g (exp_avg.mul_(β1).add_(g, 1−β1), exp_avg_sq.mul_(β2).addcmul_). */
__device__ __forceinline__ void hn_topt_moments(float *m, float *v, float g, float fb1, float f1b1, float fb2, float f1b2)
{
    float mm = __fmul_rn(*m, fb1);
    *m = fmaf(f1b1, g, mm);
    float vv = __fmul_rn(*v, fb2);
    *v = __fadd_rn(vv, __fmul_rn(__fmul_rn(f1b2, g), g));
}

/* torch.optim.SGD: d = g (+ wd·p); with momentum buf = d on the first step, else β·buf + (1 − dampening)·d;
 * d = buf, or d + β·buf (nesterov); p ← p − lr·d. buf NULL without momentum. */
extern "C" __global__ void hn_topt_sgd(float *p, const float *gr, long n, float *buf, int use_wd, float fwd, int first,
                                       int nesterov, float fmom, float fdamp1, float fnlr, HN_TOPT_TAIL)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) { hn_topt_counters(i, HN_TOPT_TAIL_ARGS); return; }
    float pi = p[i], d = gr[i];
    if (use_wd) d = fmaf(fwd, pi, d);
    if (buf) {
        float b = first ? d : fmaf(fdamp1, d, __fmul_rn(buf[i], fmom));
        buf[i] = b;
        d = nesterov ? fmaf(fmom, b, d) : b;
    }
    pi = fmaf(fnlr, d, pi);
    hn_topt_finish(i, p, pi, HN_TOPT_TAIL_ARGS);
}

/* torch.optim.Adam (decoupled 0: L2 added to the gradient) and AdamW (decoupled 1: p ← p·(1 − lr·wd)):
 * p ← p + (−lr/bc1)·m / (√v/√bc2 + eps). */
extern "C" __global__ void hn_topt_adam(float *p, const float *gr, long n, float *m, float *v, int decoupled, int use_wd,
                                        float fwd, float fdec, float fb1, float f1b1, float fb2, float f1b2, float fbc2s,
                                        float feps, float fss, HN_TOPT_TAIL)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) { hn_topt_counters(i, HN_TOPT_TAIL_ARGS); return; }
    float pi = p[i], gi = gr[i];
    if (decoupled) {
        if (use_wd) pi = __fmul_rn(pi, fdec);
    } else if (use_wd) {
        gi = fmaf(fwd, pi, gi);
    }
    hn_topt_moments(&m[i], &v[i], gi, fb1, f1b1, fb2, f1b2);
    float denom = __fadd_rn(__fdiv_rn(sqrtf(v[i]), fbc2s), feps);
    pi = __fadd_rn(pi, __fdiv_rn(__fmul_rn(fss, m[i]), denom));
    hn_topt_finish(i, p, pi, HN_TOPT_TAIL_ARGS);
}

/* torch.optim.RAdam 1.13: m̂ = m/bc1; rectified (rect_on): p ← p − m̂·lr·(1/(√v + eps))·√bc2·r, else
 * p ← p − m̂·lr. */
extern "C" __global__ void hn_topt_radam(float *p, const float *gr, long n, float *m, float *v, int use_wd, float fwd,
                                         float fb1, float f1b1, float fb2, float f1b2, float fbc1, float feps, float flr,
                                         int rect_on, float frect, float fsbc2, HN_TOPT_TAIL)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) { hn_topt_counters(i, HN_TOPT_TAIL_ARGS); return; }
    float pi = p[i], gi = gr[i];
    if (use_wd) gi = fmaf(fwd, pi, gi);
    hn_topt_moments(&m[i], &v[i], gi, fb1, f1b1, fb2, f1b2);
    float bcm = __fdiv_rn(m[i], fbc1);
    if (rect_on) {
        float adaptive = __fmul_rn(__fdiv_rn(1.0f, __fadd_rn(sqrtf(v[i]), feps)), fsbc2);
        float upd = __fmul_rn(__fmul_rn(__fmul_rn(bcm, flr), adaptive), frect);
        pi = __fsub_rn(pi, upd);
    } else {
        pi = __fsub_rn(pi, __fmul_rn(bcm, flr));
    }
    hn_topt_finish(i, p, pi, HN_TOPT_TAIL_ARGS);
}

/* weaver's RAdam: v, then m; mode 1 (rectified): p ← p − lr·wd·p, p ← p + ss·m/(√v + eps); mode 2 (degenerated
 * to SGD): p ← p − lr·wd·p, p ← p + ss·m; mode 0: no step (the moments still move). fss = −step_size·lr,
 * fwd = −wd·lr. */
extern "C" __global__ void hn_topt_radam_weaver(float *p, const float *gr, long n, float *m, float *v, int mode, int use_wd,
                                                float fwd, float fb1, float f1b1, float fb2, float f1b2, float feps, float fss,
                                                HN_TOPT_TAIL)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) { hn_topt_counters(i, HN_TOPT_TAIL_ARGS); return; }
    float pi = p[i], gi = gr[i];
    float vv = __fmul_rn(v[i], fb2);            /* weaver updates exp_avg_sq first */
    v[i] = __fadd_rn(vv, __fmul_rn(__fmul_rn(f1b2, gi), gi));
    float mm = __fmul_rn(m[i], fb1);
    m[i] = fmaf(f1b1, gi, mm);
    if (mode != 0 && use_wd) pi = fmaf(fwd, pi, pi);
    if (mode == 1) pi = __fadd_rn(pi, __fdiv_rn(__fmul_rn(fss, m[i]), __fadd_rn(sqrtf(v[i]), feps)));
    else if (mode == 2) pi = fmaf(fss, m[i], pi);
    hn_topt_finish(i, p, pi, HN_TOPT_TAIL_ARGS);
}

/* A fresh state of `size` floats: zero, with the slow weights (from slow_at on, n of them; slow_at ≥ size:
 * none) a copy of the parameters. Also dst ← src (slow_at 0, size n): loading the slow weights. */
extern "C" __global__ void hn_topt_init(float *state, long size, const float *param, long slow_at)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < size) state[i] = i >= slow_at ? param[i - slow_at] : 0.0f;
}

/* ---- the global gradient norm (hn_clip_grad_norm) ---------------------------------------------------- */

/* One gradient value's term: mode 0 a², 1 |a|^p, 2 |a| (the infinity norm's maximum), in double. */
__device__ __forceinline__ double hn_topt_norm_term(float x, int mode, double p)
{
    double a = fabs((double)x);
    if (mode == 0) return a * a;
    if (mode == 1) return pow(a, p);
    return a;
}

/* Two partial results combined: a sum, or (mode 2) a maximum that keeps a NaN. */
__device__ __forceinline__ double hn_topt_norm_combine(double a, double b, int mode)
{
    if (mode != 2) return a + b;
    if (a != a) return a;
    if (b != b) return b;
    return b > a ? b : a;
}

/* The block's values combined by a fixed tree over red[HN_TOPT_THREADS] (every thread must call it). */
__device__ __forceinline__ double hn_topt_block_reduce(double *red, double v, int mode)
{
    unsigned t = threadIdx.x;
    red[t] = v;
    __syncthreads();
    for (unsigned s = HN_TOPT_THREADS / 2; s > 0; s >>= 1) {
        if (t < s) red[t] = hn_topt_norm_combine(red[t], red[t + s], mode);
        __syncthreads();
    }
    return red[0];
}

/* partial[b] = the terms of x[b·TILE .. (b+1)·TILE) combined; blocks of HN_TOPT_THREADS threads. */
extern "C" __global__ void hn_topt_norm_partial(const float *x, long n, int mode, double p, double *partial)
{
    __shared__ double red[HN_TOPT_THREADS];
    long base = (long)blockIdx.x * HN_TOPT_TILE;
    double acc = 0.0;
    for (int k = 0; k < HN_TOPT_PER_THREAD; ++k) {
        long i = base + (long)k * HN_TOPT_THREADS + threadIdx.x;
        if (i < n) acc = hn_topt_norm_combine(acc, hn_topt_norm_term(x[i], mode, p), mode);
    }
    double r = hn_topt_block_reduce(red, acc, mode);
    if (threadIdx.x == 0) partial[blockIdx.x] = r;
}

/* out[0] = partial[0..count) combined; one block of HN_TOPT_THREADS threads. */
extern "C" __global__ void hn_topt_norm_finish(const double *partial, long count, int mode, double *out)
{
    __shared__ double red[HN_TOPT_THREADS];
    double acc = 0.0;
    for (long i = threadIdx.x; i < count; i += HN_TOPT_THREADS) acc = hn_topt_norm_combine(acc, partial[i], mode);
    double r = hn_topt_block_reduce(red, acc, mode);
    if (threadIdx.x == 0) out[0] = r;
}

/* x ← x·coef (the clipped gradient) */
extern "C" __global__ void hn_topt_scale(float *x, long n, float coef)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = __fmul_rn(x[i], coef);
}

#endif
