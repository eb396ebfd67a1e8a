/* test_backward.c — the backward kernel templates (templates/c/backward_*.h) against
 *   (1) a double-precision analytic reference written here (the kernel's float result, with a rounding
 *       bound derived next to each check), and
 *   (2) finite differences of a double-precision forward: the reference gradient of a scalar loss
 *       L = Σ w·y (w the upstream gradient dy, random) against the fourth-order central difference
 *       f'(θ) ≈ [8(L(θ+h) − L(θ−h)) − (L(θ+2h) − L(θ−2h))]/(12h), h = 2e-5.
 * Together they check the kernel against the FD derivative (the FD check validates the formula, the
 * reference check the float implementation). Random inputs with fixed seeds on odd shapes (rows 0, 1,
 * 3, 17; dims 1, 3, 8, 17, 64); written outputs are pre-filled with NaN (an unwritten element fails),
 * accumulated ones with random values (checks +=), every output is followed by sentinels, and each
 * documented alias is run and must give bit-identical results. One line per kernel, then
 * "N passed, M failed". */
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

/* ---------------------------------------------------------------- activations */

static double gelu_d(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }
static double gelu_grad_d(double x) { return 0.5 * erfc(-x / sqrt(2.0)) + x * exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846); }

typedef struct { double *x, *w; size_t n; int act; } act_ctx;
static double act_loss(void *c_)
{
    act_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (size_t k = 0; k < c->n; ++k) {
        double y = c->act == HN_ACT_RELU ? (c->x[k] > 0 ? c->x[k] : 0.0) : gelu_d(c->x[k]);
        L += c->w[k] * y;
        labs_ += fabs(c->w[k] * y);
    }
    return L;
}

static void test_activations(void)
{
    stat sr = { .name = "relu'" }, sg = { .name = "gelu' (exact erf)" };
    const size_t counts[] = { 0, 1, 3, 17, 64, 1000 };
    for (int a = 0; a < 6; ++a) {
        size_t n = counts[a];
        float *x = fal(n), *dy = fal(n);
        fill(x, n, -8.0, 8.0);
        fill(dy, n, -2.0, 2.0);
        if (n >= 17) {                       /* special points: the kink, gelu's minimum, the far tails */
            x[0] = 0.0f; x[1] = -0.7517915f; x[2] = 1e-3f; x[3] = -1e-3f; x[4] = -13.0f; x[5] = -20.0f;
            x[6] = 20.0f; x[7] = -5.0f;
        }
        for (int act = HN_ACT_RELU; act <= HN_ACT_GELU; ++act) {
            stat *st = act == HN_ACT_RELU ? &sr : &sg;
            st->cases++;
            float *g = fcopy(dy, n);
            double *ref = dal(n), *tol = dal(n), *pure = dal(n);
            hn_kb_activation(x, n, act, g);
            for (size_t k = 0; k < n; ++k) {
                if (act == HN_ACT_RELU) {
                    ref[k] = x[k] > 0.0f ? dy[k] : 0.0;   /* exact: a select */
                    pure[k] = ref[k];
                } else {
                    double xd = x[k], d = gelu_grad_d(xd);
                    double Phi = 0.5 * erfc(-xd / sqrt(2.0)), phi = exp(-0.5 * xd * xd) / sqrt(2.0 * 3.14159265358979323846);
                    ref[k] = dy[k] * d;
                    pure[k] = ref[k];
                    /* erfc_pos ≈ 4e-7 relative in float; exp(−x²/2) with x² rounded: x²/2·u relative; the
                       products and the sum a few u; all relative to the magnitudes Φ + |x|φ (gelu' crosses
                       0 at −0.7518: only the absolute bound holds there); below −13 hn_k_expf flushes φ to
                       ≈1.2e-38, so an absolute 1e-36·|dy| */
                    tol[k] = ((6e-7 + (0.5 * xd * xd + 8.0) * U32) * (Phi + fabs(xd) * phi) + 1e-36) * fabs(dy[k]);
                }
            }
            check(st, "dy", g, ref, act == HN_ACT_RELU ? NULL : tol, n);
            /* relu from y gives the same as from x */
            if (act == HN_ACT_RELU) {
                float *y = fal(n), *g2 = fcopy(dy, n);
                for (size_t k = 0; k < n; ++k) y[k] = hn_k_relu(x[k]);
                hn_kb_relu(y, n, g2);
                check_same(st, "from y", g, g2, n);
                free(y); free(g2);
            }
            /* FD away from the relu kink (|x| < 1e-3 are skipped by moving them for this check only) */
            double *xd = dup(x, n), *w = dup(dy, n);
            for (size_t k = 0; k < n; ++k) {
                if (act == HN_ACT_RELU && fabs(xd[k]) < 1e-3) xd[k] = 0.5, pure[k] = w[k];
            }
            act_ctx c = { xd, w, n, act };
            fd_check(st, "dx", act_loss, &c, xd, n, pure);
            free(g); free(ref); free(tol); free(pure); free(xd); free(w);
        }
        free(x); free(dy);
    }
    report(&sr);
    report(&sg);
}

/* ---------------------------------------------------------------- linear */

typedef struct { double *x, *W, *b, *w; int rows, in, out; } lin_ctx;
static double lin_loss(void *c_)
{
    lin_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int r = 0; r < c->rows; ++r)
        for (int o = 0; o < c->out; ++o) {
            double y = c->b[o];
            for (int i = 0; i < c->in; ++i) y += c->x[(size_t)r * c->in + i] * c->W[(size_t)o * c->in + i];
            L += c->w[(size_t)r * c->out + o] * y;
            labs_ += fabs(c->w[(size_t)r * c->out + o] * y);
        }
    return L;
}

static void test_linear(int use_cblas)
{
    stat st = { .name = use_cblas ? "linear (cblas)" : "linear" };
#ifndef HN_USE_CBLAS
    if (use_cblas) {
        printf("%-26s skipped: built without HN_USE_CBLAS\n", st.name);
        return;
    }
#endif
    for (int a = 0; a < NR; ++a)
        for (int b_ = 0; b_ < ND; ++b_)
            for (int c_ = 0; c_ < ND; ++c_) {
                int rows = ROWS[a], in = DIMS[b_], out = DIMS[c_];
                size_t nx = (size_t)rows * in, nw = (size_t)out * in, ny = (size_t)rows * out;
                float *x = fal(nx), *W = fal(nw), *bias = fal(out), *dy = fal(ny);
                float *dW0 = fal(nw), *db0 = fal(out);
                fill(x, nx, -1, 1); fill(W, nw, -1, 1); fill(bias, out, -1, 1); fill(dy, ny, -1, 1);
                fill(dW0, nw, -1, 1); fill(db0, out, -1, 1);
                float *dx = fal(nx), *dW = fcopy(dW0, nw), *db = fcopy(db0, out);
#ifdef HN_USE_CBLAS
                if (use_cblas) hn_kb_linear_cblas(x, rows, in, W, out, dy, dx, dW, db);
                else
#endif
                    hn_kb_linear(x, rows, in, W, out, dy, dx, dW, db);
                st.cases++;
                /* reference: pure gradients gx, gW, gb, and Σ|terms| for the bounds */
                double *gx = dal(nx), *gW = dal(nw), *gb = dal(out), *ax = dal(nx), *aW = dal(nw), *ab = dal(out);
                for (int r = 0; r < rows; ++r)
                    for (int o = 0; o < out; ++o) {
                        double g = dy[(size_t)r * out + o];
                        gb[o] += g;
                        ab[o] += fabs(g);
                        for (int i = 0; i < in; ++i) {
                            gx[(size_t)r * in + i] += g * W[(size_t)o * in + i];
                            ax[(size_t)r * in + i] += fabs(g * W[(size_t)o * in + i]);
                            gW[(size_t)o * in + i] += g * x[(size_t)r * in + i];
                            aW[(size_t)o * in + i] += fabs(g * x[(size_t)r * in + i]);
                        }
                    }
                double *rW = dal(nw), *rb = dal(out), *tx = dal(nx), *tW = dal(nw), *tb = dal(out);
                /* dx: a sum of `out` products, any order: γ(out + 2)·Σ|dy·W| (γ(k) covers every order) */
                for (size_t k = 0; k < nx; ++k) tx[k] = gam(out + 2) * ax[k];
                /* dW, db: `rows` terms added to the old value: γ(rows + 2)·(|old| + Σ|terms|) */
                for (size_t k = 0; k < nw; ++k) rW[k] = dW0[k] + gW[k], tW[k] = gam(rows + 2) * (fabs(dW0[k]) + aW[k]);
                for (int o = 0; o < out; ++o) rb[o] = db0[o] + gb[o], tb[o] = gam(rows + 2) * (fabs(db0[o]) + ab[o]);
                check(&st, "dx", dx, gx, tx, nx);
                check(&st, "dW", dW, rW, tW, nw);
                check(&st, "db", db, rb, tb, out);
                /* aliases: dx = x; NULL dx and db */
                float *xa = fcopy(x, nx), *dWa = fcopy(dW0, nw), *dba = fcopy(db0, out), *dWn = fcopy(dW0, nw);
#ifdef HN_USE_CBLAS
                if (use_cblas) {
                    hn_kb_linear_cblas(xa, rows, in, W, out, dy, xa, dWa, dba);
                    hn_kb_linear_cblas(x, rows, in, W, out, dy, NULL, dWn, NULL);
                } else
#endif
                {
                    hn_kb_linear(xa, rows, in, W, out, dy, xa, dWa, dba);
                    hn_kb_linear(x, rows, in, W, out, dy, NULL, dWn, NULL);
                }
                check_same(&st, "dx (dx = x)", dx, xa, nx);
                check_same(&st, "dW (dx = x)", dW, dWa, nw);
                check_same(&st, "db (dx = x)", db, dba, out);
                check_same(&st, "dW (dx, db NULL)", dW, dWn, nw);
                /* FD on the double forward y = x·Wᵀ + b */
                double *xd = dup(x, nx), *Wd = dup(W, nw), *bd = dup(bias, out), *wd = dup(dy, ny);
                lin_ctx c = { xd, Wd, bd, wd, rows, in, out };
                fd_check(&st, "dx", lin_loss, &c, xd, nx, gx);
                fd_check(&st, "dW", lin_loss, &c, Wd, nw, gW);
                fd_check(&st, "db", lin_loss, &c, bd, out, gb);
                free(x); free(W); free(bias); free(dy); free(dW0); free(db0); free(dx); free(dW); free(db);
                free(gx); free(gW); free(gb); free(ax); free(aW); free(ab); free(rW); free(rb); free(tx);
                free(tW); free(tb); free(xa); free(dWa); free(dba); free(dWn); free(xd); free(Wd); free(bd);
                free(wd);
            }
    report(&st);
}

/* ---------------------------------------------------------------- layernorm */

typedef struct { double *x, *g, *b, *w; int rows, dim; double eps; } ln_ctx;
static double ln_loss(void *c_)
{
    ln_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int r = 0; r < c->rows; ++r) {
        const double *x = c->x + (size_t)r * c->dim;
        double mu = 0.0, var = 0.0;
        for (int i = 0; i < c->dim; ++i) mu += x[i];
        mu /= c->dim;
        for (int i = 0; i < c->dim; ++i) var += (x[i] - mu) * (x[i] - mu);
        double inv = 1.0 / sqrt(var / c->dim + c->eps);
        for (int i = 0; i < c->dim; ++i) {
            double y = (x[i] - mu) * inv * c->g[i] + c->b[i], t = c->w[(size_t)r * c->dim + i] * y;
            L += t;
            labs_ += fabs(t);
        }
    }
    return L;
}

static void test_layernorm(void)
{
    stat st = { .name = "layernorm" };
    const float eps = 1e-5f;
    for (int a = 0; a < NR; ++a)
        for (int b_ = 0; b_ < ND; ++b_)
            for (int kind = 0; kind < 3; ++kind) {
                int rows = ROWS[a], dim = DIMS[b_];
                size_t nx = (size_t)rows * dim;
                float *x = fal(nx), *gamma = fal(dim), *beta = fal(dim), *dy = fal(nx), *dg0 = fal(dim), *db0 = fal(dim);
                /* kind 0: centred; 1: rows at 50 ± 0.1 (|μ| ≫ σ); 2: constant rows (σ = 0) */
                for (int r = 0; r < rows; ++r) {
                    float cst = frand(-2, 2);
                    for (int i = 0; i < dim; ++i)
                        x[(size_t)r * dim + i] = kind == 0 ? frand(-2, 2) : kind == 1 ? frand(49.9, 50.1) : cst;
                }
                fill(gamma, dim, 0.5, 1.5); fill(beta, dim, -1, 1); fill(dy, nx, -1, 1);
                fill(dg0, dim, -1, 1); fill(db0, dim, -1, 1);
                float *dx = fal(nx), *dg = fcopy(dg0, dim), *db = fcopy(db0, dim);
                hn_kb_layernorm(x, rows, dim, gamma, eps, dy, dx, dg, db);
                st.cases++;
                double *gx = dal(nx), *gg = dal(dim), *gb = dal(dim), *tx = dal(nx), *rg = dal(dim), *rb = dal(dim);
                double *tg = dal(dim), *tb = dal(dim);
                for (int i = 0; i < dim; ++i) rg[i] = dg0[i], rb[i] = db0[i], tg[i] = fabs(dg0[i]), tb[i] = fabs(db0[i]);
                for (int r = 0; r < rows; ++r) {
                    const float *xr = x + (size_t)r * dim, *gr = dy + (size_t)r * dim;
                    double mu = 0.0, var = 0.0, xmax = 0.0, xhmax = 0.0;
                    for (int i = 0; i < dim; ++i) mu += xr[i], xmax = fmax(xmax, fabs(xr[i]));
                    mu /= dim;
                    for (int i = 0; i < dim; ++i) var += (xr[i] - mu) * (xr[i] - mu);
                    double inv = 1.0 / sqrt(var / dim + (double)eps), M = xmax * inv;
                    double sg = 0.0, sgx = 0.0, ag = 0.0;
                    for (int i = 0; i < dim; ++i) {
                        double xh = (xr[i] - mu) * inv, g = (double)gr[i] * gamma[i];
                        sg += g, sgx += g * xh, ag += fabs(g), xhmax = fmax(xhmax, fabs(xh));
                        gg[i] += gr[i] * xh, gb[i] += gr[i];
                        tg[i] += fabs(gr[i]) * (fabs(xh) + M);
                        tb[i] += fabs(gr[i]);
                    }
                    for (int i = 0; i < dim; ++i) {
                        double xh = (xr[i] - mu) * inv, g = (double)gr[i] * gamma[i];
                        gx[(size_t)r * dim + i] = inv * (g - sg / dim - xh * sgx / dim);
                        /* float μ, σ² of dim terms: the recomputed x̂ errs by γ(2·dim + 8)·(|x̂| + M), M =
                           max|x|·inv (μ's error over σ); it enters g·x̂'s mean and the x̂·mean term; then
                           the few roundings of the final expression: γ(2·dim + 16)·inv·(|g| + mean|g|·
                           (1 + max|x̂| + M)·(1 + |x̂| + M)) */
                        tx[(size_t)r * dim + i] =
                            gam(2.0 * dim + 16) * inv * (fabs(g) + ag / dim * (1 + xhmax + M) * (1 + fabs(xh) + M));
                    }
                }
                /* dgamma: each term's x̂ errs as above, then rows additions: γ(rows + 2·dim + 16)·(|old| +
                   Σ|dy|·(|x̂| + M)); dbeta: γ(rows + 1)·(|old| + Σ|dy|) */
                for (int i = 0; i < dim; ++i) {
                    rg[i] += gg[i], rb[i] += gb[i];
                    tg[i] *= gam(rows + 2.0 * dim + 16);
                    tb[i] *= gam(rows + 1);
                }
                check(&st, "dx", dx, gx, tx, nx);
                check(&st, "dgamma", dg, rg, tg, dim);
                check(&st, "dbeta", db, rb, tb, dim);
                /* aliases dx = dy and dx = x */
                float *a1 = fcopy(dy, nx), *a2 = fcopy(x, nx), *g1 = fcopy(dg0, dim), *b1 = fcopy(db0, dim);
                float *g2 = fcopy(dg0, dim), *b2 = fcopy(db0, dim);
                hn_kb_layernorm(x, rows, dim, gamma, eps, a1, a1, g1, b1);
                hn_kb_layernorm(a2, rows, dim, gamma, eps, dy, a2, g2, b2);
                check_same(&st, "dx (dx = dy)", dx, a1, nx);
                check_same(&st, "dx (dx = x)", dx, a2, nx);
                check_same(&st, "dgamma (aliases)", dg, g1, dim);
                check_same(&st, "dgamma (aliases)", dg, g2, dim);
                /* FD */
                double *xd = dup(x, nx), *gd = dup(gamma, dim), *bd = dup(beta, dim), *wd = dup(dy, nx);
                ln_ctx c = { xd, gd, bd, wd, rows, dim, (double)eps };
                fd_check(&st, "dx", ln_loss, &c, xd, nx, gx);
                fd_check(&st, "dgamma", ln_loss, &c, gd, dim, gg);
                fd_check(&st, "dbeta", ln_loss, &c, bd, dim, gb);
                free(x); free(gamma); free(beta); free(dy); free(dg0); free(db0); free(dx); free(dg); free(db);
                free(gx); free(gg); free(gb); free(tx); free(rg); free(rb); free(tg); free(tb); free(a1); free(a2);
                free(g1); free(b1); free(g2); free(b2); free(xd); free(gd); free(bd); free(wd);
            }
    report(&st);
}

/* ---------------------------------------------------------------- batchnorm, eval and train */

typedef struct { double *x, *g, *b, *w, *mean, *var; int rows, dim, train; double eps; } bn_ctx;
static double bn_loss(void *c_)
{
    bn_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int i = 0; i < c->dim; ++i) {
        double mu = c->train ? 0.0 : c->mean[i], var = c->train ? 0.0 : c->var[i];
        if (c->train) {
            for (int r = 0; r < c->rows; ++r) mu += c->x[(size_t)r * c->dim + i];
            mu /= c->rows;
            for (int r = 0; r < c->rows; ++r) var += pow(c->x[(size_t)r * c->dim + i] - mu, 2);
            var /= c->rows;
        }
        double inv = 1.0 / sqrt(var + c->eps);
        for (int r = 0; r < c->rows; ++r) {
            size_t k = (size_t)r * c->dim + i;
            double t = c->w[k] * ((c->x[k] - mu) * inv * c->g[i] + c->b[i]);
            L += t;
            labs_ += fabs(t);
        }
    }
    return L;
}

static void test_batchnorm(void)
{
    stat se = { .name = "batchnorm (eval)" }, sf = { .name = "batchnorm train forward", .worst_fd = -1 }, sb = { .name = "batchnorm train backward" };
    const float eps = 1e-5f, mom = 0.1f;
    for (int a = 0; a < NR; ++a)
        for (int b_ = 0; b_ < ND + 1; ++b_) {
            int rows = ROWS[a], dim = b_ < ND ? DIMS[b_] : 130;   /* 130: more than one chunk of 64 */
            size_t nx = (size_t)rows * dim;
            float *x = fal(nx), *gamma = fal(dim), *beta = fal(dim), *dy = fal(nx), *dg0 = fal(dim), *db0 = fal(dim);
            float *mean = fal(dim), *var = fal(dim);
            for (int i = 0; i < dim; ++i) {
                float off = (i % 3 == 0) ? 5.0f : 0.0f, sc = (i % 2) ? 2.0f : 0.3f;
                for (int r = 0; r < rows; ++r) x[(size_t)r * dim + i] = off + sc * frand(-1, 1);
            }
            fill(gamma, dim, 0.5, 1.5); fill(beta, dim, -1, 1); fill(dy, nx, -1, 1);
            fill(dg0, dim, -1, 1); fill(db0, dim, -1, 1); fill(mean, dim, -1, 1); fill(var, dim, 0.1, 2);
            double *xd = dup(x, nx), *gd = dup(gamma, dim), *bd = dup(beta, dim), *wd = dup(dy, nx);
            double *md = dup(mean, dim), *vd = dup(var, dim);

            /* eval */
            {
                float *dx = fal(nx), *dg = fcopy(dg0, dim), *db = fcopy(db0, dim);
                hn_kb_batchnorm(x, rows, dim, mean, var, gamma, eps, dy, dx, dg, db);
                se.cases++;
                double *gx = dal(nx), *gg = dal(dim), *gb = dal(dim), *tx = dal(nx), *rg = dal(dim), *rb = dal(dim);
                double *tg = dal(dim), *tb = dal(dim);
                for (int i = 0; i < dim; ++i) {
                    double inv = 1.0 / sqrt((double)var[i] + (double)eps), s = gamma[i] * inv;
                    tg[i] = fabs(dg0[i]), tb[i] = fabs(db0[i]);
                    for (int r = 0; r < rows; ++r) {
                        size_t k = (size_t)r * dim + i;
                        double xh = (x[k] - (double)mean[i]) * inv;
                        gx[k] = dy[k] * s;
                        tx[k] = gam(4) * fabs(gx[k]);   /* s = γ/√(var + eps) in float (3 roundings), ·dy */
                        gg[i] += dy[k] * xh, gb[i] += dy[k];
                        tg[i] += fabs(dy[k] * xh), tb[i] += fabs(dy[k]);
                    }
                    /* each term dy·x̂ in float (4 roundings), summed in double, one rounding, one add */
                    rg[i] = dg0[i] + gg[i], tg[i] *= gam(8);
                    rb[i] = db0[i] + gb[i], tb[i] *= gam(2);     /* double sum rounded once, one add */
                }
                check(&se, "dx", dx, gx, tx, nx);
                check(&se, "dgamma", dg, rg, tg, dim);
                check(&se, "dbeta", db, rb, tb, dim);
                float *a1 = fcopy(dy, nx), *a2 = fcopy(x, nx), *g1 = fcopy(dg0, dim), *b1 = fcopy(db0, dim);
                float *g2 = fcopy(dg0, dim), *b2 = fcopy(db0, dim);
                hn_kb_batchnorm(x, rows, dim, mean, var, gamma, eps, a1, a1, g1, b1);
                hn_kb_batchnorm(a2, rows, dim, mean, var, gamma, eps, dy, a2, g2, b2);
                check_same(&se, "dx (dx = dy)", dx, a1, nx);
                check_same(&se, "dx (dx = x)", dx, a2, nx);
                check_same(&se, "dgamma (dx = x)", dg, g2, dim);
                bn_ctx c = { xd, gd, bd, wd, md, vd, rows, dim, 0, (double)eps };
                fd_check(&se, "dx", bn_loss, &c, xd, nx, gx);
                fd_check(&se, "dgamma", bn_loss, &c, gd, dim, gg);
                fd_check(&se, "dbeta", bn_loss, &c, bd, dim, gb);
                free(dx); free(dg); free(db); free(gx); free(gg); free(gb); free(tx); free(rg); free(rb); free(tg);
                free(tb); free(a1); free(a2); free(g1); free(b1); free(g2); free(b2);
            }

            /* train: forward */
            float *y = fal(nx), *bm = fal(dim), *bv = fal(dim), *rm = fcopy(mean, dim), *rv = fcopy(var, dim);
            hn_kb_batchnorm_train(x, rows, dim, gamma, beta, eps, mom, rm, rv, bm, bv, y);
            sf.cases++;
            double *ry = dal(nx), *ty = dal(nx), *rbm = dal(dim), *rbv = dal(dim), *tbm = dal(dim), *tbv = dal(dim);
            double *rrm = dal(dim), *rrv = dal(dim), *trm = dal(dim), *trv = dal(dim), *mu = dal(dim), *iv = dal(dim);
            for (int i = 0; i < dim; ++i) {
                double m = 0.0, v = 0.0;
                for (int r = 0; r < rows; ++r) m += x[(size_t)r * dim + i];
                m = rows ? m / rows : 0.0;
                for (int r = 0; r < rows; ++r) v += pow(x[(size_t)r * dim + i] - m, 2);
                double vb = rows ? v / rows : 0.0, inv = 1.0 / sqrt(vb + (double)eps);
                mu[i] = m, iv[i] = inv;
                /* μ_B, σ²_B: double sums, one rounding to float */
                rbm[i] = m, tbm[i] = gam(1) * fabs(m) + 1e-300;
                rbv[i] = vb, tbv[i] = gam(1) * vb + 1e-300;
                if (rows >= 2) {
                    rrm[i] = (1.0 - (double)mom) * mean[i] + (double)mom * m;
                    rrv[i] = (1.0 - (double)mom) * var[i] + (double)mom * v / (rows - 1);
                    /* computed in double from the float inputs, rounded once */
                    trm[i] = gam(2) * ((1.0 - mom) * fabs(mean[i]) + mom * fabs(m));
                    trv[i] = gam(2) * ((1.0 - mom) * var[i] + mom * v / (rows - 1));
                } else {
                    rrm[i] = mean[i], rrv[i] = var[i];   /* untouched, exactly */
                }
                for (int r = 0; r < rows; ++r) {
                    size_t k = (size_t)r * dim + i;
                    double xh = (x[k] - m) * inv;
                    ry[k] = xh * gamma[i] + beta[i];
                    /* μ_B rounded (u·|μ|·inv in x̂), 1/√ from the rounded σ² (≈3u), then 4 float operations:
                       γ(8)·(|γ|·(|x̂| + |μ|·inv) + |β|) */
                    ty[k] = gam(8) * (fabs(gamma[i]) * (fabs(xh) + fabs(m) * inv) + fabs(beta[i]));
                }
            }
            if (rows > 0) {
                check(&sf, "y", y, ry, ty, nx);
                check(&sf, "batch_mean", bm, rbm, tbm, dim);
                check(&sf, "batch_var", bv, rbv, tbv, dim);
                check(&sf, "running_mean", rm, rrm, trm, dim);
                check(&sf, "running_var", rv, rrv, trv, dim);
                float *ya = fcopy(x, nx), *bm2 = fal(dim), *bv2 = fal(dim);
                hn_kb_batchnorm_train(ya, rows, dim, gamma, beta, eps, mom, NULL, NULL, bm2, bv2, ya);
                check_same(&sf, "y (y = x)", y, ya, nx);
                check_same(&sf, "batch_mean (running NULL)", bm, bm2, dim);
                free(ya); free(bm2); free(bv2);
            }
            /* train: backward */
            {
                float *dx = fal(nx), *dg = fcopy(dg0, dim), *db = fcopy(db0, dim);
                hn_kb_batchnorm_train_backward(x, rows, dim, gamma, eps, bm, bv, dy, dx, dg, db);
                sb.cases++;
                double *gx = dal(nx), *gg = dal(dim), *gb = dal(dim), *tx = dal(nx), *rg = dal(dim), *rb = dal(dim);
                double *tg = dal(dim), *tb = dal(dim);
                for (int i = 0; i < dim; ++i) {
                    double sg = 0.0, sgx = 0.0, ag = 0.0, xhmax = 0.0, E = fabs(mu[i]) * iv[i];
                    tg[i] = fabs(dg0[i]), tb[i] = fabs(db0[i]);
                    for (int r = 0; r < rows; ++r) {
                        size_t k = (size_t)r * dim + i;
                        double xh = (x[k] - mu[i]) * iv[i];
                        sg += dy[k], sgx += dy[k] * xh, ag += fabs(dy[k]), xhmax = fmax(xhmax, fabs(xh));
                        tg[i] += fabs(dy[k]) * (fabs(xh) + E), tb[i] += fabs(dy[k]);
                    }
                    gg[i] = sgx, gb[i] = sg;
                    for (int r = 0; r < rows; ++r) {
                        size_t k = (size_t)r * dim + i;
                        double xh = (x[k] - mu[i]) * iv[i], kk = gamma[i] * iv[i];
                        gx[k] = kk * (dy[k] - sg / rows - xh * sgx / rows);
                        /* x̂ from the rounded μ_B, σ²_B: γ(6)·(|x̂| + E), E = |μ|·inv; it enters Σdy·x̂/N
                           and the x̂·b term; then 5 float operations on (dy, a, x̂·b) */
                        tx[k] = gam(12) * fabs(kk) *
                                (fabs(dy[k]) + fabs(sg) / rows +
                                 (fabs(xh) + E) * (fabs(sgx) / rows + ag / rows * (xhmax + E)));
                    }
                    rg[i] = dg0[i] + gg[i], tg[i] *= gam(8);    /* float terms (x̂ as above) summed in double */
                    rb[i] = db0[i] + gb[i], tb[i] *= gam(2);
                }
                check(&sb, "dx", dx, gx, tx, nx);
                check(&sb, "dgamma", dg, rg, tg, dim);
                check(&sb, "dbeta", db, rb, tb, dim);
                float *a1 = fcopy(dy, nx), *a2 = fcopy(x, nx), *g1 = fcopy(dg0, dim), *b1 = fcopy(db0, dim);
                float *g2 = fcopy(dg0, dim), *b2 = fcopy(db0, dim);
                hn_kb_batchnorm_train_backward(x, rows, dim, gamma, eps, bm, bv, a1, a1, g1, b1);
                hn_kb_batchnorm_train_backward(a2, rows, dim, gamma, eps, bm, bv, dy, a2, g2, b2);
                check_same(&sb, "dx (dx = dy)", dx, a1, nx);
                check_same(&sb, "dx (dx = x)", dx, a2, nx);
                check_same(&sb, "dgamma (dx = x)", dg, g2, dim);
                bn_ctx c = { xd, gd, bd, wd, md, vd, rows, dim, 1, (double)eps };
                fd_check(&sb, "dx", bn_loss, &c, xd, nx, gx);
                fd_check(&sb, "dgamma", bn_loss, &c, gd, dim, gg);
                fd_check(&sb, "dbeta", bn_loss, &c, bd, dim, gb);
                free(dx); free(dg); free(db); free(gx); free(gg); free(gb); free(tx); free(rg); free(rb); free(tg);
                free(tb); free(a1); free(a2); free(g1); free(b1); free(g2); free(b2);
            }
            free(y); free(bm); free(bv); free(rm); free(rv); free(ry); free(ty); free(rbm); free(rbv); free(tbm);
            free(tbv); free(rrm); free(rrv); free(trm); free(trv); free(mu); free(iv);
            free(x); free(gamma); free(beta); free(dy); free(dg0); free(db0); free(mean); free(var);
            free(xd); free(gd); free(bd); free(wd); free(md); free(vd);
        }
    report(&se);
    report(&sf);
    report(&sb);
}

/* ---------------------------------------------------------------- softmax, softmax + cross-entropy */

static void softmax_d(const double *x, int dim, double *y)
{
    double m = -INFINITY, s = 0.0;
    for (int i = 0; i < dim; ++i) m = fmax(m, x[i]);
    for (int i = 0; i < dim; ++i) s += y[i] = exp(x[i] - m);
    for (int i = 0; i < dim; ++i) y[i] /= s;
}

typedef struct { double *x, *w; int rows, dim; } sm_ctx;
static double sm_loss(void *c_)
{
    sm_ctx *c = c_;
    double L = 0.0, y[64];
    labs_ = 0.0;
    for (int r = 0; r < c->rows; ++r) {
        softmax_d(c->x + (size_t)r * c->dim, c->dim, y);
        for (int i = 0; i < c->dim; ++i) {
            double t = c->w[(size_t)r * c->dim + i] * y[i];
            L += t, labs_ += fabs(t);
        }
    }
    return L;
}

typedef struct { double *x; const int64_t *lab; int rows, C, batch; double eps; } ce_ctx;
static double ce_loss(void *c_)
{
    ce_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int r = 0; r < c->rows; ++r) {
        const double *x = c->x + (size_t)r * c->C;
        double m = -INFINITY, s = 0.0, tx = 0.0;
        for (int j = 0; j < c->C; ++j) m = fmax(m, x[j]);
        for (int j = 0; j < c->C; ++j) s += exp(x[j] - m);
        for (int j = 0; j < c->C; ++j) {
            double t = (j == c->lab[r] ? 1.0 - c->eps : 0.0) + c->eps / c->C;
            tx += t * x[j];
            labs_ += fabs(t * x[j]) / c->batch;
        }
        L += (m + log(s) - tx) / c->batch;
        labs_ += fabs(m + log(s)) / c->batch;
    }
    return L;
}

static void test_softmax(void)
{
    stat ss = { .name = "softmax" }, sc = { .name = "softmax + cross-entropy" };
    for (int a = 0; a < NR; ++a)
        for (int b_ = 0; b_ < ND; ++b_)
            for (int wide = 0; wide < 2; ++wide) {
                int rows = ROWS[a], dim = DIMS[b_];
                double range = wide ? 30.0 : 4.0;
                size_t n = (size_t)rows * dim;
                float *x = fal(n), *dy = fal(n), *y = fal(n);
                fill(x, n, -range, range); fill(dy, n, -1, 1);
                double *xd = dup(x, n), *yd = dal(n), *wd = dup(dy, n), *gx = dal(n), *tx = dal(n);
                for (int r = 0; r < rows; ++r) {
                    softmax_d(xd + (size_t)r * dim, dim, yd + (size_t)r * dim);
                    double dot = 0.0, adot = 0.0;
                    for (int i = 0; i < dim; ++i) {
                        size_t k = (size_t)r * dim + i;
                        y[k] = (float)yd[k];
                        dot += yd[k] * dy[k], adot += yd[k] * fabs(dy[k]);
                    }
                    for (int i = 0; i < dim; ++i) {
                        size_t k = (size_t)r * dim + i;
                        gx[k] = yd[k] * (dy[k] - dot);
                        /* the float y (rounded: u relative), the dot of dim terms, then 2 operations */
                        tx[k] = gam(dim + 6) * yd[k] * (fabs(dy[k]) + adot) + 1e-300;
                    }
                }
                /* ... and with exact zeros: a row's dx is exactly 0 where y underflows to 0 */
                float *dx = fal(n);
                hn_kb_softmax(y, dy, rows, dim, dx);
                ss.cases++;
                check(&ss, "dx", dx, gx, tx, n);
                float *a1 = fcopy(dy, n), *a2 = fcopy(y, n);
                hn_kb_softmax(y, a1, rows, dim, a1);
                hn_kb_softmax(a2, dy, rows, dim, a2);
                check_same(&ss, "dx (dx = dy)", dx, a1, n);
                check_same(&ss, "dx (dx = y)", dx, a2, n);
                sm_ctx c = { xd, wd, rows, dim };
                fd_check(&ss, "dx", sm_loss, &c, xd, n, gx);
                free(dx); free(a1); free(a2);

                /* cross-entropy: classes = dim, smoothing 0 and 0.1, batch = rows and (chunk) rows + 5 */
                for (int var = 0; var < 2; ++var) {
                    double eps = var ? 0.1 : 0.0;
                    int batch = rows + (wide ? 5 : 0), C = dim;
                    int64_t lab[17];
                    for (int r = 0; r < rows; ++r) lab[r] = (int64_t)(urand() * C);
                    float *g = fal(n);
                    double loss = hn_kb_softmax_cross_entropy(x, lab, rows, C, (float)eps, batch, g);
                    sc.cases++;
                    double *rg = dal(n), *tg = dal(n), rl = 0.0, tl = 0.0;
                    for (int r = 0; r < rows; ++r) {
                        const double *xr = xd + (size_t)r * C;
                        double p[64], m = -INFINITY, rng_ = 0.0, tx_ = 0.0, atx = 0.0;
                        softmax_d(xr, C, p);
                        for (int j = 0; j < C; ++j) m = fmax(m, xr[j]);
                        for (int j = 0; j < C; ++j) rng_ = fmax(rng_, m - xr[j]);
                        double s = 0.0;
                        for (int j = 0; j < C; ++j) s += exp(xr[j] - m);
                        for (int j = 0; j < C; ++j) {
                            size_t k = (size_t)r * C + j;
                            double t = (j == lab[r] ? 1.0 - eps : 0.0) + eps / C;
                            rg[k] = (p[j] - t) / batch;
                            /* p: the forward softmax's bound γ(C + 6 + 2·range) (exp arguments rounded,
                               relative u·|x − m| each); t in float (2 roundings); p − t, ·(1/batch) with
                               1/batch rounded: 3 more */
                            tg[k] = (gam(C + 10 + 2 * rng_) * p[j] + gam(4) * t + gam(3) * fabs(p[j] - t)) / batch;
                            tx_ += t * xr[j], atx += fabs(t * xr[j]);
                        }
                        rl += (m + log(s) - tx_) / batch;
                        /* log of the float Σexp (relative γ(C + 4 + 2·range) → absolute in the log), the
                           rest in double: 1e-15·(|m| + Σ|t·x|) */
                        tl += (gam(C + 4 + 2 * rng_) + 1e-15 * (fabs(m) + atx + 1)) / batch;
                    }
                    double lt = tl + 1e-300;
                    check(&sc, "dlogits", g, rg, tg, n);
                    if (!(fabs(loss - rl) <= lt)) fail(&sc, "", "loss", 0, loss, rl, lt);
                    sc.worst_ref = fmax(sc.worst_ref, fabs(loss - rl) / lt);
                    /* dlogits = logits in place; NULL dlogits gives the same loss */
                    float *a = fcopy(x, n);
                    double l2 = hn_kb_softmax_cross_entropy(a, lab, rows, C, (float)eps, batch, a);
                    double l3 = hn_kb_softmax_cross_entropy(x, lab, rows, C, (float)eps, batch, NULL);
                    check_same(&sc, "dlogits (= logits)", g, a, n);
                    if (l2 != loss || l3 != loss) fail(&sc, " (aliased / NULL run)", "loss", 0, l2, loss, 0);
                    ce_ctx cc = { xd, lab, rows, C, batch, eps };
                    fd_check(&sc, "dlogits", ce_loss, &cc, xd, n, rg);
                    /* a label out of range: NaN, and that row's gradient 0 */
                    if (rows > 0) {
                        int64_t bad = lab[rows - 1];
                        lab[rows - 1] = C;
                        float *gb = fal(n);
                        double lb = hn_kb_softmax_cross_entropy(x, lab, rows, C, (float)eps, batch, gb);
                        if (lb == lb) fail(&sc, " (bad label: expected NaN)", "loss", 0, lb, NAN, 0);
                        for (int j = 0; j < C; ++j)
                            if (gb[(size_t)(rows - 1) * C + j] != 0.0f)
                                fail(&sc, " (bad label row)", "dlogits", j, gb[(size_t)(rows - 1) * C + j], 0, 0);
                        lab[rows - 1] = bad;
                        free(gb);
                    } else if (loss != 0.0) {
                        fail(&sc, " (rows 0 contributes 0)", "loss", 0, loss, 0, 0);
                    }
                    free(g); free(rg); free(tg); free(a);
                }
                free(x); free(dy); free(y); free(xd); free(yd); free(wd); free(gx); free(tx);
            }
    report(&ss);
    report(&sc);
}

/* ---------------------------------------------------------------- pools */

typedef struct { double *x, *w; int n, dim, mode; } pool_ctx;
static double pool_loss(void *c_)
{
    pool_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int i = 0; i < c->dim; ++i) {
        double v = c->mode == 2 ? -INFINITY : 0.0;
        for (int r = 0; r < c->n; ++r) {
            double e = c->x[(size_t)r * c->dim + i];
            v = c->mode == 2 ? fmax(v, e) : v + e;
        }
        if (c->mode == 1) v /= c->n;
        if (c->n <= 0) v = 0.0;
        L += c->w[i] * v, labs_ += fabs(c->w[i] * v);
    }
    return L;
}

static void test_pools(void)
{
    stat sp[3] = { { .name = "pool sum" }, { .name = "pool mean" }, { .name = "pool max (first argmax)" } };
    for (int a = 0; a < NR; ++a)
        for (int b_ = 0; b_ < ND; ++b_)
            for (int mode = 0; mode < 3; ++mode) {
                int n = ROWS[a], dim = DIMS[b_], max = n + 2;
                size_t nx = (size_t)max * dim;
                float *x = fal(nx), *dy = fal(dim), *dx = fal(nx);
                /* distinct values with gaps ≥ 1e-3 (≫ the FD step) per column: no ties for FD */
                for (int i = 0; i < dim; ++i) {
                    for (int r = 0; r < n; ++r) x[(size_t)r * dim + i] = (float)((r * 7 + i) % (n + 1) + 0.5 * urand());
                    for (int r = n; r < max; ++r) x[(size_t)r * dim + i] = NAN;   /* padding: never read */
                }
                for (size_t k = (size_t)n * dim; k < nx; ++k) dx[k] = 777.0f;     /* padding: never written */
                fill(dy, dim, -1, 1);
                if (mode == 0) hn_kb_pool_sum(dy, n, dim, dx);
                else if (mode == 1) hn_kb_pool_mean(dy, n, dim, dx);
                else hn_kb_pool_max(x, n, dim, dy, dx);
                sp[mode].cases++;
                double *g = dal(nx), *t = dal(nx);
                for (int i = 0; i < dim; ++i) {
                    int arg = 0;
                    for (int r = 1; r < n; ++r)
                        if (x[(size_t)r * dim + i] > x[(size_t)arg * dim + i]) arg = r;
                    for (int r = 0; r < n; ++r) {
                        size_t k = (size_t)r * dim + i;
                        g[k] = mode == 0 ? dy[i] : mode == 1 ? (double)dy[i] / n : (r == arg ? dy[i] : 0.0);
                        t[k] = mode == 1 ? U32 * fabs(g[k]) : 0.0;   /* one rounded division; else exact */
                    }
                    for (int r = n; r < max; ++r) g[(size_t)r * dim + i] = 777.0;
                }
                check(&sp[mode], "dx", dx, g, t, nx);
                if (mode == 2) {     /* dx = x */
                    float *xa = fcopy(x, nx);
                    for (size_t k = (size_t)n * dim; k < nx; ++k) xa[k] = 777.0f;
                    hn_kb_pool_max(xa, n, dim, dy, xa);
                    check_same(&sp[mode], "dx (dx = x)", dx, xa, nx);
                    free(xa);
                }
                double *xd = dup(x, (size_t)n * dim), *wd = dup(dy, dim);
                for (size_t k = (size_t)n * dim; k < nx; ++k) g[k] = 0.0;
                pool_ctx c = { xd, wd, n, dim, mode };
                fd_check(&sp[mode], "dx", pool_loss, &c, xd, (size_t)n * dim, g);
                free(x); free(dy); free(dx); free(g); free(t); free(xd); free(wd);
            }
    /* ties: the gradient goes to the first row attaining the maximum (torch.max(x, dim) on CPU) */
    {
        float x[4 * 3] = { 1, 5, 2,   3, 5, 2,   3, 1, 2,   0, 5, 2 }, dy[3] = { 10, 20, 30 }, dx[12 + SENT];
        for (int s = 0; s < SENT; ++s) dx[12 + s] = SENTINEL;
        hn_kb_pool_max(x, 4, 3, dy, dx);
        double want[12] = { 0, 20, 30,   10, 0, 0,   0, 0, 0,   0, 0, 0 };
        sp[2].cases++;
        check(&sp[2], "dx (ties)", dx, want, NULL, 12);
    }
    for (int m = 0; m < 3; ++m) report(&sp[m]);
}

/* ---------------------------------------------------------------- elementwise */

typedef struct { double *x, *w, *s, *r; const int *cols; int rows, dim, ncols, col0, out_col0, ins, outs, kind; } ew_ctx;
static double ew_loss(void *c_)
{
    ew_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int q = 0; q < c->rows; ++q) {
        if (c->kind == 0)      /* copy_cols: y[q][out_col0 + k] = x[q][col0 + k] */
            for (int k = 0; k < c->ncols; ++k) {
                double t = c->w[(size_t)q * c->outs + c->out_col0 + k] * c->x[(size_t)q * c->ins + c->col0 + k];
                L += t, labs_ += fabs(t);
            }
        else if (c->kind == 1) /* gather: y[q][k] = x[q][cols[k]] */
            for (int k = 0; k < c->ncols; ++k) {
                double t = c->w[(size_t)q * c->outs + k] * c->x[(size_t)q * c->ins + c->cols[k]];
                L += t, labs_ += fabs(t);
            }
        else                   /* residual: y = x + s ⊙ r */
            for (int i = 0; i < c->dim; ++i) {
                size_t k = (size_t)q * c->dim + i;
                double t = c->w[k] * (c->x[k] + c->s[i] * c->r[k]);
                L += t, labs_ += fabs(t);
            }
    }
    return L;
}

typedef struct { double *x, *w, *c, *s, *lo, *hi; int rows, dim; } st_ctx;
static double st_loss(void *c_)
{
    st_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int q = 0; q < c->rows; ++q)
        for (int f = 0; f < c->dim; ++f) {
            size_t k = (size_t)q * c->dim + f;
            double v = (c->x[k] - c->c[f]) * c->s[f];
            v = v < c->lo[f] ? c->lo[f] : v > c->hi[f] ? c->hi[f] : v;
            L += c->w[k] * v, labs_ += fabs(c->w[k] * v);
        }
    return L;
}

static void test_elementwise(void)
{
    stat sa = { .name = "add, accumulate", .worst_fd = -1 }, sc = { .name = "concat / copy_cols" }, sg = { .name = "gather_cols (scatter-add)" };
    stat sr = { .name = "residual x + s*r" }, ss = { .name = "standardize (clamp)" };
    for (int a = 0; a < NR; ++a)
        for (int b_ = 0; b_ < ND; ++b_) {
            int rows = ROWS[a], dim = DIMS[b_];
            size_t n = (size_t)rows * dim;
            /* add: da = db = dy exactly; NULL and da = dy */
            {
                float *dy = fal(n), *da = fal(n), *db = fal(n), *acc = fal(n), *acc0;
                fill(dy, n, -1, 1); fill(acc, n, -1, 1);
                acc0 = fcopy(acc, n);
                hn_kb_add(dy, n, da, db);
                hn_kb_add(dy, n, NULL, dy);
                double *ref = dup(dy, n), *racc = dal(n), *tacc = dal(n);
                sa.cases++;
                check(&sa, "da", da, ref, NULL, n);
                check(&sa, "db", db, ref, NULL, n);
                check(&sa, "dy (db = dy)", dy, ref, NULL, n);
                hn_kb_accumulate(dy, n, acc);
                for (size_t k = 0; k < n; ++k) racc[k] = (double)acc0[k] + dy[k], tacc[k] = U32 * fabs(racc[k]);
                check(&sa, "acc", acc, racc, tacc, n);   /* one rounded addition */
                free(dy); free(da); free(db); free(acc); free(acc0); free(ref); free(racc); free(tacc);
            }
            /* copy_cols: x [rows][ins] cols col0.., y [rows][outs] cols out_col0.. */
            for (int acc = 0; acc < 2; ++acc) {
                int ncols = dim, col0 = 2, ins = dim + 5, out_col0 = 1, outs = dim + 3;
                float *dy = fal((size_t)rows * outs), *dx = fal((size_t)rows * ins);
                fill(dy, (size_t)rows * outs, -1, 1);
                fill(dx, (size_t)rows * ins, -1, 1);     /* untouched columns keep these */
                double *ref = dup(dx, (size_t)rows * ins), *t = dal((size_t)rows * ins), *g = dal((size_t)rows * ins);
                hn_kb_copy_cols(dy, rows, outs, out_col0, ncols, dx, ins, col0, acc);
                for (int q = 0; q < rows; ++q)
                    for (int k = 0; k < ncols; ++k) {
                        size_t i = (size_t)q * ins + col0 + k;
                        double v = dy[(size_t)q * outs + out_col0 + k];
                        ref[i] = acc ? ref[i] + v : v;
                        t[i] = acc ? U32 * fabs(ref[i]) : 0.0;   /* one rounded addition, or exact */
                        g[i] = v;
                    }
                sc.cases++;
                check(&sc, "dx", dx, ref, t, (size_t)rows * ins);
                double *xd = dal((size_t)rows * ins), *wd = dup(dy, (size_t)rows * outs);
                for (size_t k = 0; k < (size_t)rows * ins; ++k) xd[k] = urand();
                ew_ctx c = { xd, wd, NULL, NULL, NULL, rows, dim, ncols, col0, out_col0, ins, outs, 0 };
                fd_check(&sc, "dx", ew_loss, &c, xd, (size_t)rows * ins, g);
                free(dy); free(dx); free(ref); free(t); free(g); free(xd); free(wd);
            }
            /* gather_cols with repeats: cols[k] = (3k) mod ins, ncols = dim + 4 */
            for (int acc = 0; acc < 2; ++acc) {
                int ins = dim + 1, ncols = dim + 4, outs = ncols + 2, cols[68];
                for (int k = 0; k < ncols; ++k) cols[k] = (3 * k + (int)(urand() * 2)) % ins;
                float *dy = fal((size_t)rows * outs), *dx = fal((size_t)rows * ins);
                fill(dy, (size_t)rows * outs, -1, 1);
                fill(dx, (size_t)rows * ins, -1, 1);
                double *ref = dal((size_t)rows * ins), *t = dal((size_t)rows * ins), *g = dal((size_t)rows * ins);
                for (size_t k = 0; k < (size_t)rows * ins; ++k) ref[k] = acc ? dx[k] : 0.0, t[k] = fabs(ref[k]);
                int rep[68] = { 0 };
                for (int k = 0; k < ncols; ++k) rep[cols[k]]++;
                for (int q = 0; q < rows; ++q)
                    for (int k = 0; k < ncols; ++k) {
                        size_t i = (size_t)q * ins + cols[k];
                        double v = dy[(size_t)q * outs + k];
                        ref[i] += v, g[i] += v, t[i] += fabs(v);
                    }
                /* a column gathered m times sums m terms (plus the old value): γ(m + 1)·Σ|terms| */
                for (int q = 0; q < rows; ++q)
                    for (int i = 0; i < ins; ++i) t[(size_t)q * ins + i] *= gam(rep[i] + 1);
                hn_kb_gather_cols(dy, rows, outs, cols, ncols, dx, ins, acc);
                sg.cases++;
                check(&sg, "dx", dx, ref, t, (size_t)rows * ins);
                double *xd = dal((size_t)rows * ins), *wd = dup(dy, (size_t)rows * outs);
                ew_ctx c = { xd, wd, NULL, NULL, cols, rows, dim, ncols, 0, 0, ins, outs, 1 };
                fd_check(&sg, "dx", ew_loss, &c, xd, (size_t)rows * ins, g);
                free(dy); free(dx); free(ref); free(t); free(g); free(xd); free(wd);
            }
            /* residual y = x + s ⊙ r */
            {
                float *r = fal(n), *s = fal(dim), *dy = fal(n), *ds0 = fal(dim);
                fill(r, n, -2, 2); fill(s, dim, -1.5, 1.5); fill(dy, n, -1, 1); fill(ds0, dim, -1, 1);
                float *dx = fal(n), *dr = fal(n), *ds = fcopy(ds0, dim);
                hn_kb_scaled_add(r, rows, dim, s, dy, dx, dr, ds);
                sr.cases++;
                double *gx = dup(dy, n), *gr = dal(n), *tr = dal(n), *gs = dal(dim), *rs = dal(dim), *ts = dal(dim);
                for (int i = 0; i < dim; ++i) ts[i] = fabs(ds0[i]);
                for (size_t k = 0; k < n; ++k) {
                    int i = (int)(k % (size_t)dim);
                    gr[k] = (double)s[i] * dy[k], tr[k] = U32 * fabs(gr[k]);   /* one rounded product */
                    gs[i] += (double)dy[k] * r[k], ts[i] += fabs((double)dy[k] * r[k]);
                }
                for (int i = 0; i < dim; ++i) rs[i] = ds0[i] + gs[i], ts[i] *= gam(rows + 1);  /* rows products added */
                check(&sr, "dx", dx, gx, NULL, n);
                check(&sr, "dr", dr, gr, tr, n);
                check(&sr, "ds", ds, rs, ts, dim);
                /* aliases: dx = dy with dr = r; dx = r with dr = dy */
                float *a_dy = fcopy(dy, n), *a_r = fcopy(r, n), *ds1 = fcopy(ds0, dim);
                hn_kb_scaled_add(a_r, rows, dim, s, a_dy, a_dy, a_r, ds1);
                check_same(&sr, "dx (dx = dy)", dx, a_dy, n);
                check_same(&sr, "dr (dr = r)", dr, a_r, n);
                check_same(&sr, "ds (aliases)", ds, ds1, dim);
                float *b_dy = fcopy(dy, n), *b_r = fcopy(r, n), *ds2 = fcopy(ds0, dim);
                hn_kb_scaled_add(b_r, rows, dim, s, b_dy, b_r, b_dy, ds2);
                check_same(&sr, "dx (dx = r)", dx, b_r, n);
                check_same(&sr, "dr (dr = dy)", dr, b_dy, n);
                check_same(&sr, "ds (aliases)", ds, ds2, dim);
                double *xd = dal(n), *rd = dup(r, n), *sd = dup(s, dim), *wd = dup(dy, n);
                ew_ctx c = { xd, wd, sd, rd, NULL, rows, dim, 0, 0, 0, 0, 0, 2 };
                fd_check(&sr, "dx", ew_loss, &c, xd, n, gx);
                fd_check(&sr, "dr", ew_loss, &c, rd, n, gr);
                fd_check(&sr, "ds", ew_loss, &c, sd, dim, gs);
                free(r); free(s); free(dy); free(ds0); free(dx); free(dr); free(ds); free(gx); free(gr); free(tr);
                free(gs); free(rs); free(ts); free(a_dy); free(a_r); free(ds1); free(b_dy); free(b_r); free(ds2);
                free(xd); free(rd); free(sd); free(wd);
            }
            /* standardize: every third feature unbounded (±inf), the others clamp to [−1, 1.5] */
            {
                float *x = fal(n), *c = fal(dim), *s = fal(dim), *lo = fal(dim), *hi = fal(dim), *dy = fal(n);
                fill(c, dim, -0.5, 0.5); fill(s, dim, 0.5, 2); fill(dy, n, -1, 1);
                for (int f = 0; f < dim; ++f) lo[f] = f % 3 == 2 ? -INFINITY : -1.0f, hi[f] = f % 3 == 2 ? INFINITY : 1.5f;
                for (size_t k = 0; k < n; ++k) {       /* away from the bounds by ≥ 1e-3 (FD steps cross none) */
                    int f = (int)(k % (size_t)dim);
                    float v;
                    do {
                        x[k] = frand(-2, 2);
                        v = (x[k] - c[f]) * s[f];
                    } while (fabs(v - lo[f]) < 1e-3 || fabs(v - hi[f]) < 1e-3);
                }
                double *g = dal(n);
                for (int pass = 0; pass < 2; ++pass) {
                    if (pass == 1)                     /* exact hits of the bounds: the gradient passes */
                        for (size_t k = 0; k < n; k += 4) {
                            int f = (int)(k % (size_t)dim);
                            if (f % 3 == 2) continue;
                            c[f] = 0.0f, s[f] = 1.0f;
                            x[k] = (k / 4) % 2 ? lo[f] : hi[f];
                        }
                    for (size_t k = 0; k < n; ++k) {
                        int f = (int)(k % (size_t)dim);
                        float v = (x[k] - c[f]) * s[f];   /* the forward's float value decides */
                        g[k] = v >= lo[f] && v <= hi[f] ? (double)dy[k] * s[f] : 0.0;
                    }
                    double *t = dal(n);
                    for (size_t k = 0; k < n; ++k) t[k] = U32 * fabs(g[k]);   /* one rounded product */
                    float *dx = fal(n), *a1 = fcopy(dy, n), *a2 = fcopy(x, n);
                    hn_kb_standardize(x, rows, dim, c, s, lo, hi, dy, dx);
                    ss.cases++;
                    check(&ss, "dx", dx, g, t, n);
                    hn_kb_standardize(x, rows, dim, c, s, lo, hi, a1, a1);
                    hn_kb_standardize(a2, rows, dim, c, s, lo, hi, dy, a2);
                    check_same(&ss, "dx (dx = dy)", dx, a1, n);
                    check_same(&ss, "dx (dx = x)", dx, a2, n);
                    if (pass == 0) {
                        double *xd = dup(x, n), *wd = dup(dy, n), *cd = dup(c, dim), *sd = dup(s, dim);
                        double *lod = dup(lo, dim), *hid = dup(hi, dim);
                        st_ctx cc = { xd, wd, cd, sd, lod, hid, rows, dim };
                        fd_check(&ss, "dx", st_loss, &cc, xd, n, g);
                        free(xd); free(wd); free(cd); free(sd); free(lod); free(hid);
                    }
                    free(t); free(dx); free(a1); free(a2);
                }
                free(x); free(c); free(s); free(lo); free(hi); free(dy); free(g);
            }
        }
    report(&sa);
    report(&sc);
    report(&sg);
    report(&sr);
    report(&ss);
}

/* ---------------------------------------------------------------- attention */

typedef struct { double *qkv, *U, *dout; int n, heads, d, max; } at_ctx;
static double at_loss(void *c_)
{
    at_ctx *c = c_;
    int D = c->heads * c->d, ld = 3 * D;
    double L = 0.0, s[17], sc = 1.0 / sqrt((double)c->d);
    labs_ = 0.0;
    for (int h = 0; h < c->heads; ++h)
        for (int i = 0; i < c->n; ++i) {
            for (int j = 0; j < c->n; ++j) {
                double dot = 0.0;
                for (int t = 0; t < c->d; ++t)
                    dot += c->qkv[(size_t)i * ld + h * c->d + t] * c->qkv[(size_t)j * ld + D + h * c->d + t];
                s[j] = dot * sc + (c->U ? c->U[((size_t)h * c->max + i) * c->max + j] : 0.0);
            }
            softmax_d(s, c->n, s);
            for (int t = 0; t < c->d; ++t) {
                double o = 0.0;
                for (int j = 0; j < c->n; ++j) o += s[j] * c->qkv[(size_t)j * ld + 2 * D + h * c->d + t];
                double term = c->dout[(size_t)i * D + h * c->d + t] * o;
                L += term, labs_ += fabs(term);
            }
        }
    return L;
}

static void test_attention(void)
{
    stat st = { .name = "attention (dq dk dv dU)" };
    const int HD[][2] = { { 1, 1 }, { 2, 3 }, { 3, 8 }, { 1, 17 }, { 2, 64 } };
    for (int a = 0; a < NR; ++a)
        for (int b_ = 0; b_ < 5; ++b_)
            for (int withU = 0; withU < 2; ++withU) {
                int n = ROWS[a], heads = HD[b_][0], d = HD[b_][1], D = heads * d, ld = 3 * D, max = n + 3;
                size_t nq = (size_t)n * ld, nU = (size_t)heads * max * max, no = (size_t)n * D;
                float *qkv = fal(nq), *U = fal(nU), *dout = fal(no), *dU0 = fal(nU);
                fill(qkv, nq, -1.5, 1.5); fill(dout, no, -1, 1); fill(dU0, nU, -1, 1);
                for (int h = 0; h < heads; ++h)
                    for (int i = 0; i < max; ++i)
                        for (int j = 0; j < max; ++j) {
                            size_t k = ((size_t)h * max + i) * max + j;
                            U[k] = i < n && j < n ? frand(-2, 2) : NAN;    /* padding: never read */
                            if (!(i < n && j < n)) dU0[k] = 777.0f;        /* padding: never written */
                        }
                float *dqkv = fal(nq), *dU = fcopy(dU0, nU);
                size_t nscr = HN_KB_ATTENTION_SCRATCH(n, d);
                float *scr = fal(nscr);
                const float *Up = withU ? U : NULL;
                hn_kb_attention(qkv, n, heads, d, Up, max, dout, dqkv, dU, scr);
                st.cases++;
                /* reference, with a rounding bound propagated alongside (sums of |terms|):
                   δs_j ≤ γ(d + 4)·(Σ|q·k|/√d + |U|)   (q scaled and rounded, d products, + U; float 1/√d)
                   ε_p = 2·max_j δs_j + γ(n + 8)       (relative error of every p_j: exp, sum, division)
                   δdp_j ≤ γ(d)·A_j, A_j = Σ_t|do·v|;  C = Σ_j p_j A_j
                   δds_j ≤ E_j = 2·p_j·(ε_p + γ(n + d + 4))·(A_j + 2C)
                   δdq_i ≤ (1/√d)·Σ_j (E_j·|k_j| + γ(n + 2)·|ds_j·k_j|), δdk_j likewise with q_i,
                   δdv_j ≤ Σ_i (ε_p + γ(n + 1))·p_ij·|do_i|,  δdU ≤ E + u·|dU| */
                double *g = dal(nq), *tg = dal(nq), *gU = dal(nU), *rU = dal(nU), *tU = dal(nU);
                double sc = 1.0 / sqrt((double)d);
                double s[17], p[17], dp[17], A[17], E[17], ds[17];
                for (int h = 0; h < heads; ++h)
                    for (int i = 0; i < n; ++i) {
                        const float *qi = qkv + (size_t)i * ld + h * d, *doi = dout + (size_t)i * D + h * d;
                        double ds_max = 0.0, C = 0.0, c = 0.0;
                        for (int j = 0; j < n; ++j) {
                            const float *kj = qkv + (size_t)j * ld + D + h * d, *vj = qkv + (size_t)j * ld + 2 * D + h * d;
                            double dot = 0.0, adot = 0.0, g_ = 0.0, ag = 0.0;
                            for (int t = 0; t < d; ++t) {
                                dot += (double)qi[t] * kj[t], adot += fabs((double)qi[t] * kj[t]);
                                g_ += (double)doi[t] * vj[t], ag += fabs((double)doi[t] * vj[t]);
                            }
                            double u = withU ? U[((size_t)h * max + i) * max + j] : 0.0;
                            s[j] = dot * sc + u;
                            ds_max = fmax(ds_max, gam(d + 4) * (adot * sc + fabs(u)));
                            dp[j] = g_, A[j] = ag;
                        }
                        softmax_d(s, n, p);
                        double ep = 2.0 * ds_max + gam(n + 8);
                        for (int j = 0; j < n; ++j) c += p[j] * dp[j], C += p[j] * A[j];
                        for (int j = 0; j < n; ++j) {
                            ds[j] = p[j] * (dp[j] - c);
                            E[j] = 2.0 * p[j] * (ep + gam(n + d + 4)) * (A[j] + 2.0 * C);
                            size_t ku = ((size_t)h * max + i) * max + j;
                            gU[ku] += ds[j];
                            tU[ku] += E[j];
                        }
                        for (int j = 0; j < n; ++j) {
                            const float *kj = qkv + (size_t)j * ld + D + h * d;
                            for (int t = 0; t < d; ++t) {
                                size_t iq = (size_t)i * ld + h * d + t, ik = (size_t)j * ld + D + h * d + t,
                                       iv = (size_t)j * ld + 2 * D + h * d + t;
                                g[iq] += sc * ds[j] * kj[t];
                                tg[iq] += sc * (E[j] * fabs(kj[t]) + gam(n + 2) * fabs(ds[j] * kj[t]));
                                g[ik] += sc * ds[j] * qi[t];
                                tg[ik] += sc * (E[j] * fabs(qi[t]) + gam(n + 2) * fabs(ds[j] * qi[t]));
                                g[iv] += p[j] * doi[t];
                                tg[iv] += (ep + gam(n + 1)) * p[j] * fabs(doi[t]);
                            }
                        }
                    }
                for (size_t k = 0; k < nq; ++k) tg[k] += 1e-300;
                for (size_t k = 0; k < nU; ++k) {
                    rU[k] = (double)dU0[k] + gU[k];
                    tU[k] += U32 * fabs(rU[k]) + 1e-300;
                    if (dU0[k] == 777.0f) rU[k] = 777.0, tU[k] = 0.0;
                }
                check(&st, "dqkv", dqkv, g, tg, nq);
                check(&st, "dU", dU, rU, tU, nU);
                for (int q = 0; q < SENT; ++q)                 /* scratch sentinels: no write past 2n + d */
                    if (scr[nscr + q] != SENTINEL) fail(&st, " (scratch overrun)", "scratch", nscr + q, scr[nscr + q], SENTINEL, 0);
                /* FD: the forward in double; the padding of U at 0 (its gradient must be 0) */
                double *qd = dup(qkv, nq), *Ud = dal(nU), *dd = dup(dout, no);
                for (size_t k = 0; k < nU; ++k) Ud[k] = U[k] == U[k] ? U[k] : 0.0;
                at_ctx c = { qd, withU ? Ud : NULL, dd, n, heads, d, max };
                fd_check(&st, "dqkv", at_loss, &c, qd, nq, g);
                if (withU) fd_check(&st, "dU", at_loss, &c, Ud, nU, gU);
                free(qkv); free(U); free(dout); free(dU0); free(dqkv); free(dU); free(scr); free(g); free(tg);
                free(gU); free(rU); free(tU); free(qd); free(Ud); free(dd);
            }
    report(&st);
}

int main(void)
{
    test_activations();
    test_linear(0);
    test_linear(1);
    test_layernorm();
    test_batchnorm();
    test_softmax();
    test_pools();
    test_elementwise();
    test_attention();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
