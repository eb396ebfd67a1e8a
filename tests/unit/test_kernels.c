/* test_kernels.c — every kernel template of templates/c/ on its own, against a straightforward
 * double-precision reference written here, on random inputs (fixed seeds) over many shapes: rows 0, 1,
 * 2, 3, 5, 17; dims 1, 3, 7, 8, 17, 64, 130. Built twice by tests/unit/kernels.cmake: with the loop
 * kernels only, and with -DHN_USE_CBLAS, where hn_k_linear_cblas is checked against the same reference.
 *
 * Every check states its tolerance and why. u = 2⁻²⁴ is the float32 unit roundoff and
 * γ(k) = k·u/(1 − k·u) the classic bound for k roundings (Higham, "Accuracy and Stability of Numerical
 * Algorithms", §3). Output buffers carry sentinels past their end and padding rows of inputs hold NaN,
 * so a kernel that writes too far or reads a padding row fails. Ops that only move data must be exact.
 *
 * Output: one line per kernel (cases, worst error/tolerance ratio), then "N passed, M failed" over those
 * lines; exit status 1 if M > 0. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "activations.h"
#include "linear.h"
#include "norm.h"
#include "softmax.h"
#include "pool.h"
#include "elementwise.h"
#include "sm_interaction.h"
#include "gru_gate.h"
#include "assignment.h"

static const double U = 1.0 / 16777216.0; /* 2⁻²⁴ */
static double gam(double k) { return k * U / (1.0 - k * U); }

/* ---- random numbers: xorshift64, fixed seeds ---------------------------------------------------- */
static uint64_t rng = 88172645463325252ull;
static void seed(uint64_t s) { rng = s * 0x9E3779B97F4A7C15ull + 1; }
static double uniform(double lo, double hi)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}
static void fill(float *v, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; ++i) v[i] = (float)uniform(lo, hi);
}

/* ---- buffers with sentinels ------------------------------------------------------------------- */
enum { SLACK = 16 };
static const float SENTINEL = -12345.678f;
static float *buf(size_t n)
{
    if (n > ((size_t)1 << 28)) { fprintf(stderr, "test bug: buffer of %zu floats\n", n); exit(2); }
    float *p = malloc(sizeof(float) * (n + SLACK));
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (size_t i = 0; i < n + SLACK; ++i) p[i] = SENTINEL;
    return p;
}
static int intact(const float *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; ++i)
        if (memcmp(&p[i], &SENTINEL, sizeof(float))) return 0;
    return 1;
}

/* ---- bookkeeping: one line per kernel ----------------------------------------------------------- */
static int passed, failed;
static long cases, bad;
static double worst; /* max |error| / tolerance over the kernel's checks */
static void begin(void) { cases = bad = 0; worst = 0.0; }
static void end(const char *name, const char *tol)
{
    int ok = bad == 0 && cases > 0;
    printf("%-5s %-24s %6ld cases  worst err/tol %.3f   tol: %s\n", ok ? "ok" : "FAIL", name, cases, worst, tol);
    if (ok) ++passed; else ++failed;
}
/* One value: got vs the reference want, within tol. NaN in either fails. */
static int near(const char *what, double got, double want, double tol)
{
    double err = fabs(got - want);
    double ratio = tol > 0 ? err / tol : (err == 0 ? 0 : INFINITY);
    if (!(ratio <= 1.0)) {
        if (bad < 8) fprintf(stderr, "  %s: got %.9g want %.9g |err| %.3g tol %.3g\n", what, got, want, err, tol);
        ++bad;
        return 0;
    }
    if (ratio > worst) worst = ratio;
    return 1;
}
static void must(int cond, const char *what)
{
    if (!cond) {
        if (bad < 8) fprintf(stderr, "  %s\n", what);
        ++bad;
    }
}

static const int ROWS[] = { 0, 1, 2, 3, 5, 17 };
static const int DIMS[] = { 1, 3, 7, 8, 17, 64, 130 };
#define COUNT(a) ((int)(sizeof(a) / sizeof *(a)))

/* ---- activations ---------------------------------------------------------------------------------- */
static double ref_gelu(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }

/* gelu tolerance, relative to the result: the vectorisable erfc (templates/c/activations.h: the
 * Numerical Recipes Chebyshev fit, 1.2e-7 ≈ 2u in exact arithmetic, its float evaluation and expf
 * ≈ 6u more), the product 0.5·x·(·) 2 roundings, and the rounding of the argument t = x/√2 (≤ 2u with
 * the rounded constant), which erfc amplifies by |t·erfc′(t)/erfc(t)| ≤ 2t² + 1 = x² + 1 for x < 0
 * (the tail is ill-conditioned). Plus 2·FLT_MIN absolute: results below FLT_MIN (x < −13) flush. */
static double tol_gelu(double x, double ref)
{
    return (12.0 + (x < 0 ? 2.0 * (x * x + 1.0) : 0.0)) * U * fabs(ref) + 2.0 * FLT_MIN;
}

static void test_activations(void)
{
    char what[256];
    begin();
    /* relu: exact, including ±0 and the sign of the result. */
    for (int k = 0; k < 4096; ++k) {
        float x = k < 2 ? (k ? -0.0f : 0.0f) : (float)uniform(-50, 50);
        ++cases;
        near("relu", hn_k_relu(x), x > 0 ? x : 0.0, 0.0);
        must(!signbit(hn_k_relu(x)), "relu result negative");
    }
    end("relu", "exact");

    begin();
    /* gelu: a dense grid on [-16, 16] (step 1/512), random points, and special values. */
    for (int k = -16 * 512; k <= 16 * 512; ++k) {
        float x = (float)k / 512.0f;
        ++cases;
        snprintf(what, sizeof what, "gelu(%.9g)", x);
        near(what, hn_k_gelu(x), ref_gelu(x), tol_gelu(x, ref_gelu(x)));
    }
    for (int k = 0; k < 20000; ++k) {
        float x = (float)uniform(-8, 8);
        ++cases;
        snprintf(what, sizeof what, "gelu(%.9g)", x);
        near(what, hn_k_gelu(x), ref_gelu(x), tol_gelu(x, ref_gelu(x)));
    }
    static const float special[] = { 0.0f, 1e-30f, -1e-30f, 1e-6f, -1e-6f, 1e4f, -1e4f, 30.0f, -30.0f, 3.4e38f };
    for (int k = 0; k < COUNT(special); ++k) {
        float x = special[k];
        ++cases;
        snprintf(what, sizeof what, "gelu(%.9g)", x);
        near(what, hn_k_gelu(x), ref_gelu(x), tol_gelu(x, ref_gelu(x)));
    }
    end("gelu", "(12 + 2(x²+1)[x<0])·u·|ref| + 2·FLT_MIN");

    /* activate and activate_rows: the same values as the scalar functions, bit for bit; in place. */
    begin();
    for (int act = HN_ACT_NONE; act <= HN_ACT_GELU; ++act)
        for (int d = 0; d < COUNT(DIMS) + 1; ++d) {
            size_t n = d == COUNT(DIMS) ? 0 : (size_t)DIMS[d] * 3;
            float *x = buf(n), *y = buf(n);
            fill(x, n, -6, 6);
            memcpy(y, x, sizeof(float) * n);
            hn_k_activate_rows(y, n, act);
            ++cases;
            for (size_t i = 0; i < n; ++i) {
                float want = act == HN_ACT_RELU ? hn_k_relu(x[i]) : act == HN_ACT_GELU ? hn_k_gelu(x[i]) : x[i];
                must(!memcmp(&y[i], &want, sizeof want), "activate_rows differs from the scalar activation");
                float one = hn_k_activate(x[i], act);
                must(!memcmp(&one, &want, sizeof want), "activate differs from the scalar activation");
            }
            must(intact(y, n, n + SLACK), "activate_rows wrote past count");
            free(x); free(y);
        }
    end("activate, activate_rows", "exact (= scalar relu/gelu)");
}

/* ---- linear ---------------------------------------------------------------------------------------- */
typedef void linear_fn(const float *, int, int, const float *, const float *, int, int, float *);

/* Pre-activation: any summation order of the in products plus the bias has |Δ| ≤ γ(in + 1)·S with
 * S = |b[o]| + Σ_i |x[r][i]·W[o][i]| (the cblas bound, OpenBLAS's order being unknown). The loop kernel
 * adds at most ⌈in/8⌉ terms per lane, 3 pairwise lane sums, ≤ 7 tail terms and the bias, so
 * γ(⌈in/8⌉ + 12)·S holds for it: a much tighter check. relu is 1-Lipschitz and exact; gelu has
 * |gelu′| ≤ 1.13 and adds its own error (tol_gelu). */
static void check_linear(const char *name, linear_fn *fn, int loop_bound)
{
    char what[256];
    begin();
    seed(7);
    for (int ri = 0; ri < COUNT(ROWS); ++ri)
        for (int ii = 0; ii < COUNT(DIMS); ++ii)
            for (int oi = 0; oi < COUNT(DIMS); ++oi)
                for (int act = HN_ACT_NONE; act <= HN_ACT_GELU; ++act)
                    for (int with_bias = 0; with_bias < 2; ++with_bias) {
                        int rows = ROWS[ri], in = DIMS[ii], out = DIMS[oi];
                        float *x = buf((size_t)rows * in), *W = buf((size_t)out * in), *b = buf((size_t)out);
                        float *y = buf((size_t)rows * out);
                        fill(x, (size_t)rows * in, -1, 1);
                        fill(W, (size_t)out * in, -0.5, 0.5);
                        fill(b, (size_t)out, -0.5, 0.5);
                        fn(x, rows, in, W, with_bias ? b : NULL, out, act, y);
                        ++cases;
                        double k = loop_bound ? (in + 7) / 8 + 12 : in + 1;
                        for (int r = 0; r < rows; ++r)
                            for (int o = 0; o < out; ++o) {
                                double s = with_bias ? b[o] : 0.0, S = with_bias ? fabs(b[o]) : 0.0;
                                for (int i = 0; i < in; ++i) {
                                    double p = (double)x[(size_t)r * in + i] * W[(size_t)o * in + i];
                                    s += p;
                                    S += fabs(p);
                                }
                                double tol = gam(k) * S, want = s;
                                if (act == HN_ACT_RELU) want = s > 0 ? s : 0;
                                if (act == HN_ACT_GELU) { want = ref_gelu(s); tol = 1.13 * tol + tol_gelu(s, want); }
                                snprintf(what, sizeof what, "%s rows %d in %d out %d act %d bias %d [%d][%d]", name, rows,
                                         in, out, act, with_bias, r, o);
                                near(what, y[(size_t)r * out + o], want, tol + FLT_MIN);
                            }
                        must(intact(y, (size_t)rows * out, (size_t)rows * out + SLACK), "linear wrote past y");
                        free(x); free(W); free(b); free(y);
                    }
    end(name, loop_bound ? "γ(⌈in/8⌉+12)·(|b|+Σ|x·W|), gelu: ×1.13 + own" : "γ(in+1)·(|b|+Σ|x·W|), gelu: ×1.13 + own");
}

/* The loop kernel's summation order does not depend on where a row or an output falls in the register
 * blocks: a row computed in a batch equals the same row computed alone, bit for bit (scores do not
 * depend on the batch an event is in). */
static void test_linear_batch_invariance(void)
{
    begin();
    seed(11);
    for (int ii = 0; ii < COUNT(DIMS); ++ii)
        for (int oi = 0; oi < COUNT(DIMS); ++oi) {
            int rows = 5, in = DIMS[ii], out = DIMS[oi];
            float *x = buf((size_t)rows * in), *W = buf((size_t)out * in), *b = buf((size_t)out);
            float *y = buf((size_t)rows * out), *y1 = buf((size_t)out);
            fill(x, (size_t)rows * in, -1, 1);
            fill(W, (size_t)out * in, -0.5, 0.5);
            fill(b, (size_t)out, -0.5, 0.5);
            hn_k_linear(x, rows, in, W, b, out, HN_ACT_GELU, y);
            for (int r = 0; r < rows; ++r) {
                hn_k_linear(x + (size_t)r * in, 1, in, W, b, out, HN_ACT_GELU, y1);
                ++cases;
                must(!memcmp(y1, y + (size_t)r * out, sizeof(float) * (size_t)out), "linear row differs from the batch");
            }
            free(x); free(W); free(b); free(y); free(y1);
        }
    end("linear batch invariance", "exact (bitwise)");
}

/* ---- norms ------------------------------------------------------------------------------------------ */
/* layernorm, per element: the float mean is off by ≤ γ(dim)·A (A = max|x|), which shifts x̂ by that
 * times inv = 1/√(σ²+eps); the variance has relative error ≤ γ(dim + 3) (squares, sum, divide, eps), so
 * inv ≤ γ(dim/2 + 4) relative; then 3 roundings (·inv, ·γ, +β). Bound:
 * γ(dim + 8)·(|γ_i|·(|x̂_i| + 2·A·inv) + |β_i|). */
static void test_layernorm(void)
{
    char what[256];
    begin();
    seed(13);
    const float eps = 1e-5f;
    for (int ri = 0; ri < COUNT(ROWS); ++ri)
        for (int di = 0; di < COUNT(DIMS); ++di)
            for (int kind = 0; kind < 3; ++kind)      /* 0: centred, 1: offset 50 ± 0.1 (|μ| ≫ σ), 2: constant rows */
                for (int alias = 0; alias < 2; ++alias) {
                    int rows = ROWS[ri], dim = DIMS[di];
                    size_t n = (size_t)rows * dim;
                    float *x = buf(n), *x0 = buf(n), *g = buf(dim), *be = buf(dim), *y = alias ? x : buf(n);
                    if (kind == 0) fill(x, n, -2, 2);
                    if (kind == 1) fill(x, n, 49.9, 50.1);
                    if (kind == 2) for (size_t i = 0; i < n; ++i) x[i] = 0.75f;
                    fill(g, dim, 0.5, 1.5);
                    fill(be, dim, -0.5, 0.5);
                    memcpy(x0, x, sizeof(float) * n);
                    hn_k_layernorm(x, rows, dim, g, be, eps, y);
                    ++cases;
                    for (int r = 0; r < rows; ++r) {
                        const float *xr = x0 + (size_t)r * dim;
                        double mu = 0, var = 0, A = 0;
                        for (int i = 0; i < dim; ++i) { mu += xr[i]; A = fmax(A, fabs(xr[i])); }
                        mu /= dim;
                        for (int i = 0; i < dim; ++i) var += (xr[i] - mu) * (xr[i] - mu);
                        var /= dim;
                        double inv = 1.0 / sqrt(var + eps);
                        for (int i = 0; i < dim; ++i) {
                            double xh = (xr[i] - mu) * inv, want = xh * g[i] + be[i];
                            double tol = gam(dim + 8) * (fabs(g[i]) * (fabs(xh) + 2 * A * inv) + fabs(be[i]));
                            snprintf(what, sizeof what, "layernorm rows %d dim %d kind %d alias %d [%d][%d]", rows, dim,
                                     kind, alias, r, i);
                            near(what, y[(size_t)r * dim + i], want, tol);
                        }
                    }
                    must(intact(y, n, n + SLACK), "layernorm wrote past y");
                    free(x); free(x0); free(g); free(be);
                    if (!alias) free(y);
                }
    end("layernorm", "γ(dim+8)·(|γ|(|x̂|+2·max|x|/√(σ²+eps))+|β|)");
}

/* batchnorm: s = γ/√(var+eps) has 3 roundings, (x − μ) 1, ·s 1, +β 1: γ(6)·(|(x−μ)·s| + |β|). */
static void test_batchnorm(void)
{
    char what[256];
    begin();
    seed(17);
    const float eps = 1e-5f;
    static const int BDIMS[] = { 1, 3, 7, 17, 64, 65, 130 }; /* 65, 130: more than one 64-feature chunk */
    for (int ri = 0; ri < COUNT(ROWS); ++ri)
        for (int di = 0; di < COUNT(BDIMS); ++di)
            for (int alias = 0; alias < 2; ++alias) {
                int rows = ROWS[ri], dim = BDIMS[di];
                size_t n = (size_t)rows * dim;
                float *x = buf(n), *x0 = buf(n), *m = buf(dim), *v = buf(dim), *g = buf(dim), *be = buf(dim);
                float *y = alias ? x : buf(n);
                fill(x, n, -3, 3);
                fill(m, dim, -1, 1);
                fill(v, dim, 0.01, 4);
                fill(g, dim, -1.5, 1.5);
                fill(be, dim, -0.5, 0.5);
                memcpy(x0, x, sizeof(float) * n);
                hn_k_batchnorm(x, rows, dim, m, v, g, be, eps, y);
                ++cases;
                for (int r = 0; r < rows; ++r)
                    for (int i = 0; i < dim; ++i) {
                        double t = ((double)x0[(size_t)r * dim + i] - m[i]) * g[i] / sqrt((double)v[i] + eps);
                        double want = t + be[i];
                        snprintf(what, sizeof what, "batchnorm rows %d dim %d alias %d [%d][%d]", rows, dim, alias, r, i);
                        near(what, y[(size_t)r * dim + i], want, gam(6) * (fabs(t) + fabs(be[i])));
                    }
                must(intact(y, n, n + SLACK), "batchnorm wrote past y");
                free(x); free(x0); free(m); free(v); free(g); free(be);
                if (!alias) free(y);
            }
    end("batchnorm", "γ(6)·(|(x−μ)·γ/√(σ²+eps)| + |β|)");
}

/* ---- softmax ---------------------------------------------------------------------------------------- */
/* Each exp(x_i − m): the subtraction rounds (relative u·|x_i − m| after exp), expf ≤ 2 ulp; the sum of
 * dim such terms γ(dim); 1/sum and the product 2 more. With D = max_i |x_i − m|:
 * |Δy_i| ≤ γ(dim + 6 + 2D)·y_i, plus FLT_MIN for results that underflow. */
static void test_softmax(void)
{
    char what[256];
    begin();
    seed(19);
    for (int ri = 0; ri < COUNT(ROWS); ++ri)
        for (int di = 0; di < COUNT(DIMS); ++di)
            for (int kind = 0; kind < 4; ++kind)  /* 0: [-8, 8], 1: [-60, 60] (underflow), 2: −∞ entries,
                                                     3: [60, 120] (exp(x) alone overflows: needs the max shift) */
                for (int alias = 0; alias < 2; ++alias) {
                    int rows = ROWS[ri], dim = DIMS[di];
                    size_t n = (size_t)rows * dim;
                    float *x = buf(n), *x0 = buf(n), *y = alias ? x : buf(n);
                    if (kind == 3) fill(x, n, 60, 120);
                    else fill(x, n, kind == 1 ? -60 : -8, kind == 1 ? 60 : 8);
                    if (kind == 2)
                        for (int r = 0; r < rows; ++r)
                            for (int i = 1; i < dim; i += 2) x[(size_t)r * dim + i] = -INFINITY;
                    memcpy(x0, x, sizeof(float) * n);
                    hn_k_softmax(x, rows, dim, y);
                    ++cases;
                    for (int r = 0; r < rows; ++r) {
                        const float *xr = x0 + (size_t)r * dim;
                        double m = -INFINITY, sum = 0, D = 0;
                        for (int i = 0; i < dim; ++i) m = fmax(m, xr[i]);
                        for (int i = 0; i < dim; ++i) {
                            sum += exp(xr[i] - m);
                            if (isfinite(xr[i])) D = fmax(D, m - xr[i]);
                        }
                        for (int i = 0; i < dim; ++i) {
                            double want = exp(xr[i] - m) / sum;
                            snprintf(what, sizeof what, "softmax rows %d dim %d kind %d alias %d [%d][%d]", rows, dim,
                                     kind, alias, r, i);
                            near(what, y[(size_t)r * dim + i], want, gam(dim + 6 + 2 * D) * want + FLT_MIN);
                        }
                    }
                    must(intact(y, n, n + SLACK), "softmax wrote past y");
                    free(x); free(x0);
                    if (!alias) free(y);
                }
    end("softmax", "γ(dim+6+2·max|x−m|)·y + FLT_MIN");
}

/* ---- pooling ---------------------------------------------------------------------------------------- */
/* Over the first n rows of a [max = n + 3][dim] block whose padding rows are NaN (reading one fails).
 * sum: recursive summation of n terms, γ(n)·Σ|x|; mean: one more rounding for the division,
 * γ(n + 1)·Σ|x|/n; max: exact. n = 0 gives zeros. */
static void test_pool(void)
{
    static const int NS[] = { 0, 1, 2, 3, 7, 17, 64, 128 };
    for (int mode = 0; mode < 3; ++mode) {
        char what[256];
        const char *name = mode == 0 ? "pool_sum" : mode == 1 ? "pool_mean" : "pool_max";
        begin();
        seed(23 + mode);
        for (int ni = 0; ni < COUNT(NS); ++ni)
            for (int di = 0; di < COUNT(DIMS); ++di) {
                int n = NS[ni], dim = DIMS[di], max = n + 3;
                float *x = buf((size_t)max * dim), *y = buf(dim);
                fill(x, (size_t)n * dim, -2, 2);
                for (size_t i = (size_t)n * dim; i < (size_t)max * dim; ++i) x[i] = NAN;
                if (mode == 0) hn_k_pool_sum(x, n, dim, y);
                if (mode == 1) hn_k_pool_mean(x, n, dim, y);
                if (mode == 2) hn_k_pool_max(x, n, dim, y);
                ++cases;
                for (int i = 0; i < dim; ++i) {
                    double s = 0, a = 0, mx = n ? -INFINITY : 0;
                    for (int r = 0; r < n; ++r) {
                        double v = x[(size_t)r * dim + i];
                        s += v; a += fabs(v); mx = fmax(mx, v);
                    }
                    snprintf(what, sizeof what, "%s n %d dim %d [%d]", name, n, dim, i);
                    if (mode == 0) near(what, y[i], s, gam(n) * a);
                    if (mode == 1) near(what, y[i], n ? s / n : 0.0, n ? gam(n + 1) * a / n : 0.0);
                    if (mode == 2) near(what, y[i], mx, 0.0);
                }
                must(intact(y, dim, dim + SLACK), "pool wrote past y");
                free(x); free(y);
            }
        end(name, mode == 0 ? "γ(n)·Σ|x|" : mode == 1 ? "γ(n+1)·Σ|x|/n" : "exact");
    }
}

/* ---- elementwise (all exact) ------------------------------------------------------------------------ */
static void test_add(void)
{
    begin();
    seed(29);
    for (int di = 0; di < COUNT(DIMS) + 1; ++di)
        for (int alias = 0; alias < 3; ++alias) {                /* y separate, y == a, y == b */
            size_t n = di == COUNT(DIMS) ? 0 : (size_t)DIMS[di] * 5;
            float *a = buf(n), *b = buf(n), *a0 = buf(n), *b0 = buf(n), *yy = buf(n);
            fill(a, n, -100, 100);
            fill(b, n, -1, 1);
            memcpy(a0, a, sizeof(float) * n);
            memcpy(b0, b, sizeof(float) * n);
            float *y = alias == 1 ? a : alias == 2 ? b : yy;
            hn_k_add(a, b, n, y);
            ++cases;
            /* a float sum rounded once: the double sum of two floats rounded to float is the same value. */
            for (size_t i = 0; i < n; ++i) near("add", y[i], (float)((double)a0[i] + (double)b0[i]), 0.0);
            must(intact(y, n, n + SLACK), "add wrote past y");
            free(a); free(b); free(a0); free(b0); free(yy);
        }
    end("add", "exact (one float rounding)");
}

static void test_copy_cols(void)
{
    begin();
    seed(31);
    /* Concat: two blocks [rows][w1], [rows][w2] into [rows][w1 + w2 + 2] at columns 1 and 1 + w1; the
     * first and last columns must keep their sentinels. */
    for (int ri = 0; ri < COUNT(ROWS); ++ri)
        for (int di = 0; di < COUNT(DIMS); ++di) {
            int rows = ROWS[ri], w1 = DIMS[di], w2 = DIMS[(di + 3) % COUNT(DIMS)], wo = w1 + w2 + 2;
            float *p = buf((size_t)rows * w1), *q = buf((size_t)rows * w2), *y = buf((size_t)rows * wo);
            fill(p, (size_t)rows * w1, -1, 1);
            fill(q, (size_t)rows * w2, -1, 1);
            hn_k_copy_cols(p, rows, w1, 0, w1, y, wo, 1);
            hn_k_copy_cols(q, rows, w2, 0, w2, y, wo, 1 + w1);
            ++cases;
            for (int r = 0; r < rows; ++r) {
                const float *yr = y + (size_t)r * wo;
                must(intact(yr, 0, 1) && intact(yr, (size_t)wo - 1, (size_t)wo), "concat wrote outside its columns");
                must(!memcmp(yr + 1, p + (size_t)r * w1, sizeof(float) * w1), "concat: first block differs");
                must(!memcmp(yr + 1 + w1, q + (size_t)r * w2, sizeof(float) * w2), "concat: second block differs");
            }
            must(intact(y, (size_t)rows * wo, (size_t)rows * wo + SLACK), "concat wrote past y");
            free(p); free(q); free(y);
        }
    /* Slice: columns [c0, c0 + k) of [rows][w] into a separate [rows][k], and in place (compaction). */
    for (int ri = 0; ri < COUNT(ROWS); ++ri)
        for (int di = 0; di < COUNT(DIMS); ++di)
            for (int inplace = 0; inplace < 2; ++inplace) {
                int rows = ROWS[ri], w = DIMS[di] + 2, c0 = (int)uniform(0, w - 1), k = 1 + (int)uniform(0, w - c0 - 1);
                size_t n = (size_t)rows * w;
                float *x = buf(n), *x0 = buf(n), *sep = buf((size_t)rows * k);
                fill(x, n, -1, 1);
                memcpy(x0, x, sizeof(float) * n);
                float *y = inplace ? x : sep;
                hn_k_copy_cols(x, rows, w, c0, k, y, k, 0);
                ++cases;
                for (int r = 0; r < rows; ++r)
                    must(!memcmp(y + (size_t)r * k, x0 + (size_t)r * w + c0, sizeof(float) * k), "slice differs");
                if (!inplace) must(intact(y, (size_t)rows * k, (size_t)rows * k + SLACK), "slice wrote past y");
                free(x); free(x0); free(sep);
            }
    end("copy_cols", "exact (concat, slice, in-place slice)");
}

static void test_gather_cols(void)
{
    begin();
    seed(37);
    for (int ri = 0; ri < COUNT(ROWS); ++ri)
        for (int di = 0; di < COUNT(DIMS); ++di)
            for (int ki = 0; ki < COUNT(DIMS); ++ki) {
                int rows = ROWS[ri], w = DIMS[di], k = DIMS[ki], os = k + 1; /* one spare output column */
                int cols[130];
                for (int c = 0; c < k; ++c) cols[c] = (int)uniform(0, w); /* any order, repeats */
                float *x = buf((size_t)rows * w), *y = buf((size_t)rows * os);
                fill(x, (size_t)rows * w, -1, 1);
                hn_k_gather_cols(x, rows, w, cols, k, y, os);
                ++cases;
                for (int r = 0; r < rows; ++r) {
                    for (int c = 0; c < k; ++c)
                        must(!memcmp(&y[(size_t)r * os + c], &x[(size_t)r * w + cols[c]], sizeof(float)), "gather differs");
                    must(intact(y + (size_t)r * os, (size_t)k, (size_t)os), "gather wrote the spare column");
                }
                must(intact(y, (size_t)rows * os, (size_t)rows * os + SLACK), "gather wrote past y");
                free(x); free(y);
            }
    end("gather_cols", "exact");
}

static void test_zero(void)
{
    begin();
    for (int di = 0; di < COUNT(DIMS) + 1; ++di) {
        size_t n = di == COUNT(DIMS) ? 0 : (size_t)DIMS[di] * 7;
        float *y = buf(n);
        hn_k_zero(y, n);
        ++cases;
        const float pz = 0.0f;
        for (size_t i = 0; i < n; ++i) must(!memcmp(&y[i], &pz, sizeof pz), "zero: not +0.0f");
        must(intact(y, n, n + SLACK), "zero wrote past count");
        free(y);
    }
    end("zero", "exact (+0.0f)");
}

/* ---- the SM interaction matrix (sm_interaction.h) -------------------------------------------------- */
/* The paper's couplings at three scales (shared/research/models.md §5.3, computed there independently of
 * this code), the coupling table of every pair of types written out here, symmetry, the three modes, and
 * padding pairs written +0 whatever the padding rows hold (NaN here). */
static void test_sm_interaction(void)
{
    begin();
    static const double scales[3][3] = { { 50, 1.269, 0.3135 }, { 200, 1.159, 0.3146 }, { 1000, 1.062, 0.3158 } };
    const double c[HN_SM_NCONST] = { 0.118, 1 / 127.5, 91.1876, 0.758 };
    for (int i = 0; i < 3; ++i, ++cases) {
        double g[2];
        hn_k_sm_running(c, scales[i][0], g);
        near("g_s(Q)", g[0], scales[i][1], 1e-3);              /* the reference values carry 4 digits */
        near("g_e(Q)", g[1], scales[i][2], 1e-4);
    }
    /* the table: rows and columns none, j, b, e-, e+, mu-, mu+, photon; S = g_s, Z = g_z, E = g_e,
     * 2 = g_e / 2, 3 = g_e / 3, . = 0 */
    static const char *const table[8] = { "........", ".SS....2", ".SS....3", "....Z..E", "...Z...E",
                                          "......ZE", ".....Z.E", ".23EEEE." };
    const double gs = 1.25, ge = 0.3, gz = 0.758;
    for (int a = 0; a < 8; ++a)
        for (int b = 0; b < 8; ++b, ++cases) {
            char k = table[a][b];
            double want = k == 'S' ? gs : k == 'Z' ? gz : k == 'E' ? ge : k == '2' ? ge / 2 : k == '3' ? ge / 3 : 0.0;
            near("coupling table", hn_k_sm_coupling(a, b, gs, ge, gz), want, 0.0);
        }
    /* one event: 5 real objects of types j, b, e-, e+, photon in 7 slots, features [pad, 7 flags, pad] */
    enum { MAX = 7, NF = 9, N = 5 };
    static const int type[N] = { 1, 2, 3, 4, 7 };
    const int flag_cols[7] = { 1, 2, 3, 4, 5, 6, 7 };
    float x[MAX * NF], p4[MAX * 4];
    for (int i = 0; i < MAX * NF; ++i) x[i] = NAN;
    for (int i = 0; i < MAX * 4; ++i) p4[i] = NAN;
    for (int r = 0; r < N; ++r) {
        for (int k = 0; k < 7; ++k) x[r * NF + 1 + k] = k + 1 == type[r] ? 1.0f : 0.0f;
        double pt = 30.0 + 70.0 * r, phi = 0.4 * r;
        p4[4 * r] = (float)(pt * cos(phi)), p4[4 * r + 1] = (float)(pt * sin(phi)), p4[4 * r + 2] = 10.0f, p4[4 * r + 3] = 500.0f;
    }
    for (int mode = HN_SM_IDS; mode <= HN_SM_RUNNING; ++mode) {
        float *y = buf(MAX * MAX);
        hn_k_sm_interaction(x, NF, flag_cols, p4, N, MAX, mode, c, y);
        must(intact(y, MAX * MAX, MAX * MAX + SLACK), "sm_interaction wrote past max²");
        for (int a = 0; a < MAX; ++a)
            for (int b = 0; b < MAX; ++b, ++cases) {
                float got = y[a * MAX + b];
                if (a >= N || b >= N) { must(got == 0.0f && !signbit(got), "padding pair not +0"); continue; }
                double q = mode == HN_SM_RUNNING ? 0.5 * (hypot(p4[4 * a], p4[4 * a + 1]) + hypot(p4[4 * b], p4[4 * b + 1])) : c[2];
                double g[2];
                hn_k_sm_running(c, q, g);
                double want = hn_k_sm_coupling(type[a], type[b], g[0], g[1], c[3]);
                if (mode == HN_SM_IDS) want = want != 0.0;
                near("sm_interaction entry", got, want, 2 * U * fabs(want));      /* one rounding to float */
                must(got == y[b * MAX + a], "sm_interaction not symmetric");
            }
        free(y);
    }
    end("sm_interaction", "reference couplings 1e-3 / 1e-4, entries one float rounding");
}

/* GRUGate against a double-precision evaluation of its formula; every row, several widths (8-row steps
 * and their tails), the output's neighbours untouched. */
static double ref_sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }

static void test_gru_gate(void)
{
    begin();
    for (int i = -4000; i <= 4000; ++i, ++cases) {        /* the gate's σ and tanh on [−40, 40] */
        float v = (float)i * 0.01f + (i % 7) * 1e-4f;
        near("sigmoid", hn_k_sigmoid(v), ref_sigmoid(v), 4.0 * U * ref_sigmoid(v) + 1e-30);
        near("tanh", hn_k_tanh(v), tanh((double)v), 4.0 * U * fabs(tanh((double)v)) + 1.2e-7);
    }

    static const int dims[] = { 1, 5, 8, 17, 64 };
    static const int rows_of[] = { 0, 1, 2, 3, 5, 17, 300 };
    for (size_t di = 0; di < sizeof dims / sizeof *dims; ++di)
        for (size_t ri = 0; ri < sizeof rows_of / sizeof *rows_of; ++ri) {
            int d = dims[di], rows = rows_of[ri];
            size_t dd = (size_t)d * d;
            float *w = buf(9 * dd + 4 * (size_t)d), *y = buf((size_t)rows * d), *x = buf((size_t)rows * d);
            float *out = buf((size_t)rows * d);
            fill(w, 9 * dd + 4 * (size_t)d, -0.5, 0.5);
            fill(y, (size_t)rows * d, -2.0, 2.0);
            fill(x, (size_t)rows * d, -2.0, 2.0);
            /* layout 0: W_r W_z W_g, b_*, U_* back to back (the compiler's: three GEMMs); 1: interleaved (six) */
            int packed = (int)(di + ri) % 2;
            float *Wr = w, *Wz = w + dd, *Wg = w + 2 * dd, *Ur = w + 3 * dd, *Uz = w + 4 * dd, *Ug = w + 5 * dd;
            if (!packed) Wz = w + 4 * dd, Uz = w + dd;
            float *br = w + 9 * dd, *bz = br + d, *bg = bz + d, *gb = bg + d;
            for (int i = 0; i < d; ++i) gb[i] = 2.0f + 0.1f * (float)i / (float)d;
            hn_k_gru_gate_params p = { Wr, br, Ur, Wz, bz, Uz, Wg, bg, Ug, gb };
            hn_k_gru_gate(y, x, rows, d, &p, out);
            must(intact(out, (size_t)rows * d, (size_t)rows * d + SLACK), "gru_gate wrote past its rows");
            for (int r = 0; r < rows; ++r) {
                const float *yr = y + (size_t)r * d, *xr = x + (size_t)r * d;
                double rx[64];
                for (int o = 0; o < d; ++o) {
                    double a = br[o];
                    for (int i = 0; i < d; ++i) a += (double)Wr[o * d + i] * yr[i] + (double)Ur[o * d + i] * xr[i];
                    rx[o] = ref_sigmoid(a) * xr[o];
                }
                for (int o = 0; o < d; ++o, ++cases) {
                    double z = bz[o] - gb[o], h = bg[o];
                    for (int i = 0; i < d; ++i) {
                        z += (double)Wz[o * d + i] * yr[i] + (double)Uz[o * d + i] * xr[i];
                        h += (double)Wg[o * d + i] * yr[i] + (double)Ug[o * d + i] * rx[i];
                    }
                    double zs = ref_sigmoid(z), want = (1.0 - zs) * xr[o] + zs * tanh(h);
                    /* three rounded dot products of 2d terms feed bounded functions: ~d ulps of slack */
                    near("gru_gate", out[(size_t)r * d + o], want, (4.0 * d + 16.0) * U * 4.0);
                }
            }
            free(w), free(y), free(x), free(out);
        }
    end("gru_gate", "σ, tanh 4 ulp (+1.2e-7 absolute); gate (4d + 16)·4·2⁻²⁴ absolute (|out| ≤ 2)");
}

/* The assignment head against a double evaluation of its definition: the k-linear form, the mean over
 * the group, −inf on padding and repeated slots, log-softmax over the rest (so the valid cells' exp
 * sums to 1); symmetric under the group; k = 1, 2, 3 with several counts, and n < k (all −inf). */
static void test_assignment(void)
{
    begin();
    enum { MAXN = 6, D = 7 };
    static const int8_t id1[] = { 0 }, s2[] = { 0, 1, 1, 0 }, top[] = { 0, 1, 2, 1, 0, 2 };
    static const struct { int k, order; const int8_t *group; } cfg[] = { { 1, 1, id1 }, { 2, 2, s2 }, { 3, 2, top } };
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; ++c)
        for (int n = 0; n <= MAXN; ++n) {
            int k = cfg[c].k, order = cfg[c].order;
            float *y[3];
            for (int d = 0; d < k; ++d) {
                y[d] = buf((size_t)MAXN * D);
                fill(y[d], (size_t)MAXN * D, -2.0, 2.0);
                for (size_t i = (size_t)n * D; i < (size_t)MAXN * D; ++i) y[d][i] = NAN;   /* padding is never read */
            }
            size_t cells = 1;
            for (int d = 0; d < k; ++d) cells *= MAXN;
            float *out = buf(cells);
            hn_k_assignment((const float *const *)y, k, n, MAXN, D, cfg[c].group, order, out);
            must(intact(out, cells, cells + SLACK), "assignment wrote past [max]^k");
            double raw[MAXN * MAXN * MAXN], best = -INFINITY;
            int valid[MAXN * MAXN * MAXN];
            for (size_t f = 0; f < cells; ++f) {
                int j[3] = { 0, 0, 0 };
                for (int d = k - 1, r = (int)f; d >= 0; --d, r /= MAXN) j[d] = r % MAXN;
                valid[f] = 1;
                for (int a = 0; a < k; ++a) {
                    if (j[a] >= n) valid[f] = 0;
                    for (int b = a + 1; b < k; ++b) if (j[a] == j[b]) valid[f] = 0;
                }
                if (!valid[f]) continue;
                double sum = 0.0;
                for (int g = 0; g < order; ++g) {
                    double dot = 0.0;
                    for (int i = 0; i < D; ++i) {
                        double prod = 1.0;
                        for (int d = 0; d < k; ++d) prod *= y[d][(size_t)j[cfg[c].group[g * k + d]] * D + i];
                        dot += prod;
                    }
                    sum += dot / pow(sqrt((double)D), k);
                }
                raw[f] = sum / order;
                if (raw[f] > best) best = raw[f];
            }
            double total = 0.0, mass = 0.0;
            for (size_t f = 0; f < cells; ++f) if (valid[f]) total += exp(raw[f] - best);
            for (size_t f = 0; f < cells; ++f, ++cases) {
                if (!valid[f]) { must(out[f] == -INFINITY, "assignment: invalid cell not -inf"); continue; }
                near("assignment log P", out[f], raw[f] - best - log(total), 64 * U * (1.0 + fabs(raw[f] - best - log(total))));
                mass += exp((double)out[f]);
            }
            if (n >= k) near("assignment: probabilities sum to 1", mass, 1.0, 1e-5);
            if (k == 3)            /* symmetric under (q1 q2) */
                for (int a = 0; a < MAXN; ++a)
                    for (int b = 0; b < MAXN; ++b)
                        for (int e = 0; e < MAXN; ++e, ++cases)
                            must(out[(a * MAXN + b) * MAXN + e] == out[(b * MAXN + a) * MAXN + e], "assignment not symmetric");
            for (int d = 0; d < k; ++d) free(y[d]);
            free(out);
        }
    end("assignment", "log P 64·2⁻²⁴·(1 + |log P|); probability mass 1e-5");
}

int main(void)
{
    test_activations();
    check_linear("linear (loop)", hn_k_linear, 1);
    test_linear_batch_invariance();
#ifdef HN_USE_CBLAS
    check_linear("linear (cblas)", hn_k_linear_cblas, 0);
#else
    printf("%-5s %-24s (built without HN_USE_CBLAS)\n", "skip", "linear (cblas)");
#endif
    test_layernorm();
    test_batchnorm();
    test_softmax();
    test_pool();
    test_add();
    test_copy_cols();
    test_gather_cols();
    test_zero();
    test_sm_interaction();
    test_gru_gate();
    test_assignment();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
