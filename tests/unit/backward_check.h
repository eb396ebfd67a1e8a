/* backward_check.h — the checking machinery of the backward-kernel tests (test_backward*.c): random
 * inputs, NaN/sentinel-guarded buffers, kernel-vs-reference checks with per-element bounds, fourth-order
 * finite differences of a double forward, and the per-kernel report line. Included by one .c each. */
#ifndef HN_TEST_BACKWARD_CHECK_H
#define HN_TEST_BACKWARD_CHECK_H

#include "backward_linear.h"
#include "backward_norm.h"
#include "backward_softmax.h"
#include "backward_pool.h"
#include "backward_elementwise.h"
#include "backward_attention.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
/* ---------------------------------------------------------------- infrastructure */

static const double U32 = 1.0 / 16777216.0; /* u = 2⁻²⁴ */
static double gam(double k) { return k * U32 / (1.0 - k * U32); }

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void) /* [0, 1), splitmix64 */
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}
static float frand(double lo, double hi) { return (float)(lo + (hi - lo) * urand()); }
static void fill(float *a, size_t n, double lo, double hi)
{
    for (size_t k = 0; k < n; ++k) a[k] = frand(lo, hi);
}

enum { SENT = 4 };
static const float SENTINEL = 1234.5f;
/* n floats + SENT sentinels; contents NaN. */
static float *fal(size_t n)
{
    float *a = malloc(sizeof(float) * (n + SENT));
    for (size_t k = 0; k < n; ++k) a[k] = NAN;
    for (int s = 0; s < SENT; ++s) a[n + s] = SENTINEL;
    return a;
}
static double *dal(size_t n) { return calloc(n + 1, sizeof(double)); }
static double *dup(const float *a, size_t n)
{
    double *d = dal(n);
    for (size_t k = 0; k < n; ++k) d[k] = a[k];
    return d;
}
static float *fcopy(const float *a, size_t n)
{
    float *b = fal(n);
    if (n) memcpy(b, a, sizeof(float) * n);
    return b;
}

typedef struct {
    const char *name;
    int cases, fails;
    double worst_ref, worst_fd;
} stat;
static int n_passed, n_failed;

static void fail(stat *st, const char *fmt, const char *what, size_t k, double got, double want, double tol)
{
    if (st->fails++ < 6) printf("  FAIL %s %s[%zu]: got %.9g want %.9g tol %.3g%s\n", st->name, what, k, got, want,
                                tol, fmt);
}

/* |got − ref| ≤ tol elementwise (tol NULL: exact). */
static void check(stat *st, const char *what, const float *got, const double *ref, const double *tol, size_t n)
{
    for (size_t k = 0; k < n; ++k) {
        double e = fabs((double)got[k] - ref[k]), t = tol ? tol[k] : 0.0;
        double r = e == 0.0 ? 0.0 : t > 0.0 ? e / t : INFINITY;
        if (!(r <= 1.0)) fail(st, "", what, k, got[k], ref[k], t);
        if (r > st->worst_ref || r != r) st->worst_ref = r != r ? INFINITY : r;
    }
    for (int s = 0; s < SENT; ++s)
        if (got[n + s] != SENTINEL) fail(st, " (sentinel overwritten)", what, n + s, got[n + s], SENTINEL, 0);
}
static void check_same(stat *st, const char *what, const float *a, const float *b, size_t n)
{
    if (n && memcmp(a, b, sizeof(float) * n) != 0)
        for (size_t k = 0; k < n; ++k)
            if (memcmp(a + k, b + k, sizeof(float)) != 0) {
                fail(st, " (aliased run differs)", what, k, a[k], b[k], 0);
                break;
            }
}

/* Finite differences. The loss functions set labs = Σ|terms of L| (the rounding scale of L). */
typedef double (*lossfn)(void *ctx);
static double labs_;
static double fd1(lossfn f, void *ctx, double *p, size_t k)
{
    const double h = 2e-5, x = p[k];
    double v[4], off[4] = { 2 * h, h, -h, -2 * h };
    for (int i = 0; i < 4; ++i) {
        p[k] = x + off[i];
        v[i] = f(ctx);
    }
    p[k] = x;
    return (8.0 * (v[1] - v[2]) - (v[0] - v[3])) / (12.0 * h);
}
/* FD derivative of f w.r.t. p[k] against g[k] on every coordinate of small tensors, else 24 random ones
 * and the first and last. Tolerance 1e-6·(|g[k]| + max|g|) + 1e-10·(1 + Σ|L terms|): the stencil's
 * truncation h⁴·|f⁽⁵⁾|/30 is ~1e-9 of the derivative's scale for the curvatures here (the sharpest:
 * LayerNorm of a constant row, 1/√eps ≈ 316, (316·h)⁴ ≈ 2e-9), and its rounding ≈ 1.5·2⁻⁵³·Σ|L|/h ≈
 * 1e-11·Σ|L|. A wrong index, sign or factor gives errors of order 1 relative, ≥ 1e5 times this. */
static void fd_check(stat *st, const char *what, lossfn f, void *ctx, double *p, size_t n, const double *g)
{
    if (!n) return;
    double gmax = 0.0;
    for (size_t k = 0; k < n; ++k) gmax = fmax(gmax, fabs(g[k]));
    f(ctx);
    const double floor_ = 1e-10 * (1.0 + labs_);
    size_t m = n <= 48 ? n : 26;
    for (size_t c = 0; c < m; ++c) {
        size_t k = n <= 48 ? c : c == 0 ? 0 : c == 1 ? n - 1 : (size_t)(urand() * (double)n);
        double d = fd1(f, ctx, p, k), tol = 1e-6 * (fabs(g[k]) + gmax) + floor_;
        double r = fabs(d - g[k]) / tol;
        if (!(r <= 1.0)) fail(st, " (finite difference)", what, k, d, g[k], tol);
        if (r > st->worst_fd || r != r) st->worst_fd = r != r ? INFINITY : r;
    }
}

static void report(stat *st)
{
    int ok = st->fails == 0;
    char fd[32] = "n/a (no gradient)";
    if (st->worst_fd >= 0) snprintf(fd, sizeof fd, "%.3g", st->worst_fd);
    printf("%-26s %4d cases  worst err/tol: kernel vs ref %.3g, ref vs FD %s  %s\n", st->name, st->cases,
           st->worst_ref, fd, ok ? "ok" : "FAILED");
    if (ok) ++n_passed;
    else ++n_failed;
}

static const int ROWS[] = { 0, 1, 3, 17 };
static const int DIMS[] = { 1, 3, 8, 17, 64 };
#define NR 4
#define ND 5

/* Softmax of one row in double (references of softmax, cross-entropy and attention). */
static void softmax_d(const double *x, int dim, double *y)
{
    double m = -INFINITY, s = 0.0;
    for (int i = 0; i < dim; ++i) m = fmax(m, x[i]);
    for (int i = 0; i < dim; ++i) s += y[i] = exp(x[i] - m);
    for (int i = 0; i < dim; ++i) y[i] /= s;
}

#endif
