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
 * "N passed, M failed".
 * This file: activations, linear, layer/batch norm, softmax (+ cross-entropy), pools;
 * test_backward_ew.c: elementwise ops and attention. */
#include "backward_check.h"

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

int main(void)
{
    test_activations();
    test_linear(0);
    test_linear(1);
    test_layernorm();
    test_batchnorm();
    test_softmax();
    test_pools();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
