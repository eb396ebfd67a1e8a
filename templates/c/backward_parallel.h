/* backward_parallel.h — the training step's large linear maps split over OpenMP threads (NAME_train.c
 * is built with -fopenmp; without OpenMP these run on one thread). Each thread calls the one-threaded
 * GEMM on its share, so OpenBLAS should run one thread per call (hepnc train and gradcheck set it):
 * no oversubscription on small machines.
 *   rows split:    forward y = x·Wᵀ + b, and dx = dy·W   (rows are independent)
 *   columns split: dW += dyᵀ·x and db += Σ dy over all rows, one block of output features per thread
 *                  (no two threads write the same element; each sums its rows in the same order)
 * The per-event forms take each event's real rows: x, dy and dx hold `max` rows per event. */
#ifndef HN_KB_PARALLEL_H
#define HN_KB_PARALLEL_H

#ifndef HN_KB_LINEAR_H
#include "backward_linear.h"
#endif
#ifndef HN_KB_NORM_H
#include "backward_norm.h"
#endif
#ifdef _OPENMP
#include <omp.h>
#define HN_KT_THREAD() omp_get_thread_num()
#define HN_KT_THREADS() omp_get_num_threads()
#define HN_KT_PARALLEL _Pragma("omp parallel")
#define HN_KT_BARRIER _Pragma("omp barrier")
#define HN_KT_MAX_THREADS() omp_get_max_threads()
#else
#define HN_KT_MAX_THREADS() 1
#define HN_KT_BARRIER
#define HN_KT_THREAD() 0
#define HN_KT_THREADS() 1
#define HN_KT_PARALLEL
#endif

/* y = act(x·Wᵀ + b) over rows, the rows split between the threads. */
static HN_K_UNUSED void hn_kt_linear_par(const float *x, int rows, int in, const float *W, const float *b, int out,
                                         int act, float *y)
{
    HN_KT_PARALLEL
    {
        const int t = HN_KT_THREAD(), T = HN_KT_THREADS();
        const int r0 = (int)((long)rows * t / T), r1 = (int)((long)rows * (t + 1) / T);
#ifdef HN_USE_CBLAS
        if (r1 > r0) hn_k_linear_cblas(x + (size_t)r0 * in, r1 - r0, in, W, b, out, act, y + (size_t)r0 * out);
#else
        if (r1 > r0) hn_k_linear(x + (size_t)r0 * in, r1 - r0, in, W, b, out, act, y + (size_t)r0 * out);
#endif
    }
}

/* The weight and bias gradients of output features [o0, o1) over rows: dW[o] += Σ_r dy[r][o]·x[r], db[o] += Σ_r dy[r][o]. */
static HN_K_UNUSED void hn_kt_linear_dw_block(const float *x, int rows, int in, int out, const float *dy, int o0, int o1,
                                              float *dW, float *db)
{
    if (o1 <= o0 || rows <= 0) return;
#ifdef HN_USE_CBLAS
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, in, rows, 1.0f, dy + o0, out, x, in, 1.0f,
                dW + (size_t)o0 * in, in);
#else
    for (int r = 0; r < rows; ++r)
        for (int o = o0; o < o1; ++o) {
            const float g = dy[(size_t)r * out + o], *xr = x + (size_t)r * in;
            float *dw = dW + (size_t)o * in;
            for (int i = 0; i < in; ++i) dw[i] += g * xr[i];
        }
#endif
    if (db)
        for (int r = 0; r < rows; ++r)
            for (int o = o0; o < o1; ++o) db[o] += dy[(size_t)r * out + o];
}

/* dx = dy·W over rows (written), rows [r0, r1). */
static HN_K_UNUSED void hn_kt_linear_dx_rows(const float *dy, int r0, int r1, int in, const float *W, int out, float *dx)
{
    if (r1 <= r0) return;
#ifdef HN_USE_CBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, in, out, 1.0f, dy + (size_t)r0 * out, out, W, in,
                0.0f, dx + (size_t)r0 * in, in);
#else
    for (int r = r0; r < r1; ++r) {
        float *d = dx + (size_t)r * in;
        for (int i = 0; i < in; ++i) d[i] = 0.0f;
        for (int o = 0; o < out; ++o) {
            const float g = dy[(size_t)r * out + o], *w = W + (size_t)o * in;
            for (int i = 0; i < in; ++i) d[i] += g * w[i];
        }
    }
#endif
}

/* hn_kb_linear over contiguous rows, split between the threads (dx by rows, dW and db by output features). */
static HN_K_UNUSED void hn_kt_linear_backward_par(const float *x, int rows, int in, const float *W, int out,
                                                  const float *dy, float *dx, float *dW, float *db)
{
    HN_KT_PARALLEL
    {
        const int t = HN_KT_THREAD(), T = HN_KT_THREADS();
        if (dx) hn_kt_linear_dx_rows(dy, (int)((long)rows * t / T), (int)((long)rows * (t + 1) / T), in, W, out, dx);
        hn_kt_linear_dw_block(x, rows, in, out, dy, (int)((long)out * t / T), (int)((long)out * (t + 1) / T), dW, db);
    }
}

/* The same per event over its real rows n[b] of max: dx event by event (events shared out), dW and db
 * by output features (each thread walks every event, in order). */
static HN_K_UNUSED void hn_kt_linear_backward_events(const float *x, int batch, int max, const int32_t *n, int in,
                                                     const float *W, int out, const float *dy, float *dx, float *dW,
                                                     float *db)
{
    HN_KT_PARALLEL
    {
        const int t = HN_KT_THREAD(), T = HN_KT_THREADS();
        if (dx)
            for (int b = t; b < batch; b += T)
                hn_kt_linear_dx_rows(dy + (size_t)b * max * out, 0, n[b], in, W, out, dx + (size_t)b * max * in);
        const int o0 = (int)((long)out * t / T), o1 = (int)((long)out * (t + 1) / T);
        for (int b = 0; b < batch; ++b)
            hn_kt_linear_dw_block(x + (size_t)b * max * in, n[b], in, out, dy + (size_t)b * max * out, o0, o1, dW, db);
    }
}

/* Backward of a linear map over rows standing for w[r] copies each (the pair embedding's weighted rows,
 * backward_pair.h): dx = dy·W per row, then dy ← w ⊙ dy (overwritten), then dW += dyᵀ·x, db += Σ dy. */
static HN_K_UNUSED void hn_kt_linear_backward_weighted_par(const float *x, int rows, int in, const float *W, int out,
                                                           const float *w, float *dy, float *dx, float *dW, float *db)
{
    HN_KT_PARALLEL
    {
        const int t = HN_KT_THREAD(), T = HN_KT_THREADS();
        const int r0 = (int)((long)rows * t / T), r1 = (int)((long)rows * (t + 1) / T);
        if (dx) hn_kt_linear_dx_rows(dy, r0, r1, in, W, out, dx);
        for (int r = r0; r < r1; ++r)
            for (int o = 0; o < out; ++o) dy[(size_t)r * out + o] *= w[r];
        HN_KT_BARRIER
        hn_kt_linear_dw_block(x, rows, in, out, dy, (int)((long)out * t / T), (int)((long)out * (t + 1) / T), dW, db);
    }
}

/* dx = dy·act'(x) elementwise (GELU), the elements split between the threads. */
static HN_K_UNUSED void hn_kt_gelu_backward_par(const float *x, const float *dy, size_t count, float *dx)
{
    HN_KT_PARALLEL
    {
        const size_t t = (size_t)HN_KT_THREAD(), T = (size_t)HN_KT_THREADS();
        const size_t a = count * t / T, e = count * (t + 1) / T;
        for (size_t k = a; k < e; ++k) dx[k] = dy[k] * hn_kb_gelu_grad(x[k]);
    }
}

/* y = gelu(x) elementwise, split between the threads. */
static HN_K_UNUSED void hn_kt_gelu_par(const float *x, size_t count, float *y)
{
    HN_KT_PARALLEL
    {
        const size_t t = (size_t)HN_KT_THREAD(), T = (size_t)HN_KT_THREADS();
        const size_t a = count * t / T, e = count * (t + 1) / T;
        for (size_t k = a; k < e; ++k) y[k] = hn_k_gelu(x[k]);
    }
}

/* count floats of p set to zero, the range split between the threads. */
static HN_K_UNUSED void hn_kt_zero_par(float *p, size_t count)
{
    HN_KT_PARALLEL
    {
        const size_t t = (size_t)HN_KT_THREAD(), T = (size_t)HN_KT_THREADS();
        const size_t a = count * t / T, e = count * (t + 1) / T;
        if (e > a) memset(p + a, 0, sizeof(float) * (e - a));
    }
}

/* hn_kb_layernorm over each event's real rows n[b] of max, events shared out between the threads:
 * each thread sums dγ, dβ of its events into its own row of `partial` ([threads][2·dim], from the
 * caller), then they are added to dgamma, dbeta in thread order (the same result for the same thread
 * count). dx may alias dy. */
static HN_K_UNUSED void hn_kt_layernorm_backward_events(const float *x, int batch, int max, const int32_t *n, int dim,
                                                        const float *gamma, float eps, const float *dy, float *dx,
                                                        float *dgamma, float *dbeta, float *partial)
{
    int used = 1;
    HN_KT_PARALLEL
    {
        const int t = HN_KT_THREAD(), T = HN_KT_THREADS();
        float *pg = partial + (size_t)t * 2 * dim, *pb = pg + dim;
        for (int k = 0; k < 2 * dim; ++k) pg[k] = 0.0f;
        for (int b = t; b < batch; b += T) {
            const size_t off = (size_t)b * max * dim;
            hn_kb_layernorm(x + off, n[b], dim, gamma, eps, dy + off, dx + off, pg, pb);
        }
        if (t == 0) used = T;
    }
    for (int t = 0; t < used; ++t)
        for (int k = 0; k < dim; ++k) {
            dgamma[k] += partial[(size_t)t * 2 * dim + k];
            dbeta[k] += partial[(size_t)t * 2 * dim + dim + k];
        }
}

#endif
