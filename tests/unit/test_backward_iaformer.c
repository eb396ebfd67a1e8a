/* test_backward_iaformer.c — the backward kernels of IAFormer (templates/c/backward_interaction.h), checked as in
 * test_backward.c and test_backward_spanet.c:
 *   (1) kernel vs ref: the float kernel against a double-precision analytic reference written here, within a
 *       first-order rounding bound propagated alongside the reference (counted next to each formula);
 *   (2) ref vs FD: the reference against fourth-order central differences (backward_check.h's fd1, h = 2e-5) of
 *       a double-precision forward of the same function as the forward template (each forward is also checked
 *       against its float template, so the differences are of what the template computes), on EVERY coordinate,
 *       within backward_check.h's 1e-6·(|g| + max|g|) + 1e-10·(1 + Σ|L terms|);
 *   (3) kernel vs FD: the float kernel's gradient itself against the same differences, within
 *       1e-4·(|fd| + max|fd|) + the same floor (the tolerance of test_backward_ew.c's float-vs-FD checks).
 * The loss is L = Σ w·y with w the upstream gradient (random). Written outputs are pre-filled with NaN (an
 * unwritten element fails), accumulated ones with random values (checks +=; the kernel's gradient is the
 * difference), padding and other layers' slices with values that must survive bit for bit, every output is
 * followed by sentinels, inputs the kernel must not read are NaN, and each documented alias or NULL output must
 * give bit-identical results. Shapes are small (max ≤ 6, heads 2, dv 2, widths ≤ 8, two or three projections),
 * with padding rows and all-zero pairs (diagonal, padded particles, an all-zero real pair), plus larger events
 * for the interaction embedding's tiles (up to three tiles of HN_IA_TILE pairs). One line per kernel, then
 * "N passed, M failed". Built with HN_USE_CBLAS (test_backward_iaformer) and without (…_loops).
 *   hn_kb_rmsnorm: rows 0, 1, 3, 5 × dim 1, 3, 8, 17, 32; centred rows (eps = FLT_EPSILON, torch's default),
 *       rows at 50 ± 0.1 and zero rows (eps = 1e-5); aliases dx = dy, dx = x; dgamma NULL.
 *   hn_kb_feature_mean: exact; alias dx = dy.
 *   hn_kb_diff_attention + hn_kb_diff_beta: n 0 … 6 of max 6 (and 5), heads × dv 2 × 2, 1 × 3, 3 × 1, layer 1 of
 *       a two-layer logits tensor (layer 0 must stay untouched), β from λ_q, λ_k below 1 and clamped to 1; dv,
 *       dL, dβ against the reference and FD, then the chain dβ → dλ_q, dλ_k against FD of the loss through
 *       β = min(1, λ_init·exp(λ_q·λ_k)) (zero when clamped); NULL outputs; hn_kb_diff_beta alone for len 1, 5,
 *       100 and depth 1, 4.
 *   hn_kb_interaction_logits (test_backward_interaction.c): 1 to 3 GELU layers, 2 or 3 projections; events with padded particles (rows and
 *       columns of zero features), an all-zero real pair, only zero pairs, n < max (slots ≥ n and the upper
 *       triangle NaN: never read; the upper triangle NaN must give the same bits as the symmetric one), real
 *       pair features (hn_k_ia_pair_features of random jets), and n = 22 of 24 (three tiles); NULL biases. */
#include "backward_iaformer_check.h"


/* ---------------------------------------------------------------- rmsnorm */

typedef struct { double *x, *g, *w; int rows, dim; double eps; } rms_ctx;
static double rms_loss(void *c_)
{
    rms_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int r = 0; r < c->rows; ++r) {
        const double *x = c->x + (size_t)r * c->dim;
        double ss = 0.0;
        for (int i = 0; i < c->dim; ++i) ss += x[i] * x[i];
        double s = 1.0 / sqrt(ss / c->dim + c->eps);
        for (int i = 0; i < c->dim; ++i) {
            double t = c->w[(size_t)r * c->dim + i] * x[i] * s * c->g[i];
            L += t, labs_ += fabs(t);
        }
    }
    return L;
}

static void test_rmsnorm(void)
{
    ist s = { .st = { .name = "rmsnorm" } };
    static const int RR[] = { 0, 1, 3, 5 }, DD[] = { 1, 3, 8, 17, 32 };
    for (int a = 0; a < 4; ++a)
        for (int b_ = 0; b_ < 5; ++b_)
            for (int kind = 0; kind < 3; ++kind) {
                const int rows = RR[a], dim = DD[b_];
                const float eps = kind == 0 ? FLT_EPSILON : 1e-5f;
                const size_t nx = (size_t)rows * dim;
                float *x = fal(nx), *gamma = fal(dim), *dy = fal(nx), *dg0 = fal(dim);
                /* kind 0: centred; 1: 50 ± 0.1; 2: centred with the first row zero (s = 1/√eps) */
                for (size_t k = 0; k < nx; ++k) x[k] = kind == 1 ? frand(49.9, 50.1) : frand(-2, 2);
                if (kind == 2 && rows > 0)
                    for (int i = 0; i < dim; ++i) x[i] = 0.0f;
                fill(gamma, dim, 0.5, 1.5); fill(dy, nx, -1, 1); fill(dg0, dim, -1, 1);
                float *dx = fal(nx), *dg = fcopy(dg0, dim);
                hn_kb_rmsnorm(x, rows, dim, gamma, eps, dy, dx, dg);
                s.st.cases++;
                /* forward sanity: hn_k_rmsnorm against the double forward */
                {
                    float *y = fal(nx);
                    double *yd = dal(nx);
                    hn_k_rmsnorm(x, rows, dim, gamma, eps, y);
                    for (int r = 0; r < rows; ++r) {
                        double ss = 0.0;
                        for (int i = 0; i < dim; ++i) ss += (double)x[(size_t)r * dim + i] * x[(size_t)r * dim + i];
                        double sc = 1.0 / sqrt(ss / dim + (double)eps);
                        for (int i = 0; i < dim; ++i) yd[(size_t)r * dim + i] = x[(size_t)r * dim + i] * sc * gamma[i];
                    }
                    check_forward(&s.st, "y", y, yd, nx, 1e-6);
                    free(y); free(yd);
                }
                /* reference: s = 1/√(Σx²/dim + eps), g = dy·γ, dx = s·(g − x·s²·Σ g·x/dim), dgamma += Σ dy·x·s.
                   Bounds: s's relative error ≤ γ(dim + 6) (dim squares and sums, /dim, + eps, √, 1/); Σ g·x
                   γ(dim + 2)·Σ|g·x| (two products per term); c = s²·(Σ/dim) then γ(3·dim + 17) of its scale
                   s²·Σ|g·x|/dim; x·c, g − x·c, s·(…): three more, and s's error on the whole: γ(4·dim + 30)·
                   s·(|g| + |x|·s²·Σ|g·x|/dim). dgamma: each term x·s (γ(dim + 8)), then rows additions to the
                   old value: γ(rows + dim + 10)·(|old| + Σ|dy·x·s|). */
                double *gx = dal(nx), *tx = dal(nx), *gg = dal(dim), *rg = dal(dim), *tg = dal(dim);
                for (int i = 0; i < dim; ++i) rg[i] = dg0[i], tg[i] = fabs(dg0[i]);
                for (int r = 0; r < rows; ++r) {
                    const float *xr = x + (size_t)r * dim, *gr = dy + (size_t)r * dim;
                    double ss = 0.0, dot = 0.0, adot = 0.0;
                    for (int i = 0; i < dim; ++i) {
                        ss += (double)xr[i] * xr[i];
                        dot += (double)gr[i] * gamma[i] * xr[i];
                        adot += fabs((double)gr[i] * gamma[i] * xr[i]);
                    }
                    double sc = 1.0 / sqrt(ss / dim + (double)eps);
                    for (int i = 0; i < dim; ++i) {
                        double g = (double)gr[i] * gamma[i];
                        gx[(size_t)r * dim + i] = sc * (g - xr[i] * sc * sc * dot / dim);
                        tx[(size_t)r * dim + i] = gam(4.0 * dim + 30) * sc * (fabs(g) + fabs(xr[i]) * sc * sc * adot / dim);
                        gg[i] += gr[i] * xr[i] * sc;
                        tg[i] += fabs(gr[i] * xr[i] * sc);
                    }
                }
                for (int i = 0; i < dim; ++i) rg[i] += gg[i], tg[i] *= gam(rows + dim + 10.0);
                check(&s.st, "dx", dx, gx, tx, nx);
                check(&s.st, "dgamma", dg, rg, tg, dim);
                /* aliases dx = dy and dx = x, and dgamma NULL: the same bits */
                {
                    float *a1 = fcopy(dy, nx), *a2 = fcopy(x, nx), *a3 = fal(nx), *g1 = fcopy(dg0, dim), *g2 = fcopy(dg0, dim);
                    hn_kb_rmsnorm(x, rows, dim, gamma, eps, a1, a1, g1);
                    hn_kb_rmsnorm(a2, rows, dim, gamma, eps, dy, a2, g2);
                    hn_kb_rmsnorm(x, rows, dim, gamma, eps, dy, a3, NULL);
                    check_same(&s.st, "dx (dx = dy)", dx, a1, nx);
                    check_same(&s.st, "dx (dx = x)", dx, a2, nx);
                    check_same(&s.st, "dx (dgamma NULL)", dx, a3, nx);
                    check_same(&s.st, "dgamma (dx = dy)", dg, g1, dim);
                    check_same(&s.st, "dgamma (dx = x)", dg, g2, dim);
                    free(a1); free(a2); free(a3); free(g1); free(g2);
                }
                double *xd = dup(x, nx), *gd = dup(gamma, dim), *wd = dup(dy, nx);
                double *kx = grad_of(dx, NULL, nx), *kg = grad_of(dg, dg0, dim);
                rms_ctx c = { xd, gd, wd, rows, dim, (double)eps };
                fd_all(&s, "dx", rms_loss, &c, xd, nx, gx, kx, tx);
                fd_all(&s, "dgamma", rms_loss, &c, gd, dim, gg, kg, tg);
                free(x); free(gamma); free(dy); free(dg0); free(dx); free(dg); free(gx); free(tx); free(gg); free(rg);
                free(tg); free(xd); free(gd); free(wd); free(kx); free(kg);
            }
    ia_report(&s);
}

/* ---------------------------------------------------------------- feature mean */

typedef struct { double *x, *w; int rows, F; } fm_ctx;
static double fm_loss(void *c_)
{
    fm_ctx *c = c_;
    double L = 0.0;
    labs_ = 0.0;
    for (int r = 0; r < c->rows; ++r) {
        double m = 0.0;
        for (int k = 0; k < c->F; ++k) m += c->x[(size_t)r * c->F + k];
        double t = c->w[r] * m / c->F;
        L += t, labs_ += fabs(t);
    }
    return L;
}

static void test_feature_mean(void)
{
    ist s = { .st = { .name = "feature_mean" } };
    static const int RR[] = { 0, 1, 3, 17 }, FF[] = { 1, 3, 32 };
    for (int a = 0; a < 4; ++a)
        for (int b_ = 0; b_ < 3; ++b_) {
            const int rows = RR[a], F = FF[b_];
            const size_t nx = (size_t)rows * F;
            float *dy = fal(rows), *dx = fal(nx), *al = fal(nx > (size_t)rows ? nx : (size_t)rows);
            fill(dy, rows, -2, 2);
            hn_kb_feature_mean(dy, rows, F, dx);
            s.st.cases++;
            double *ref = dal(nx), *tol = dal(nx), *gr = dal(nx);
            for (size_t k = 0; k < nx; ++k) {
                ref[k] = gr[k] = (double)dy[k / F] / F;
                tol[k] = U32 * fabs(ref[k]);                      /* one division, correctly rounded */
            }
            check(&s.st, "dx", dx, ref, tol, nx);
            if (rows) memcpy(al, dy, sizeof(float) * rows);    /* dx = dy: the same bits */
            hn_kb_feature_mean(al, rows, F, al);
            check_same(&s.st, "dx (dx = dy)", dx, al, nx);
            double *xd = dal(nx), *wd = dup(dy, rows), *kx = grad_of(dx, NULL, nx);
            fill(dx, nx, -1, 1);
            for (size_t k = 0; k < nx; ++k) xd[k] = dx[k];
            fm_ctx c = { xd, wd, rows, F };
            fd_all(&s, "dx", fm_loss, &c, xd, nx, gr, kx, tol);
            free(dy); free(dx); free(al); free(ref); free(tol); free(gr); free(xd); free(wd); free(kx);
        }
    ia_report(&s);
}

/* ---------------------------------------------------------------- differential attention and β */

static double lambda_init_d(int depth) { return 1.0 - exp(-1.0 / depth); }
/* β = min(1, λ_init·exp(λ_q·λ_k)) in double; *raw the unclamped value. */
static double beta_d(const double *lq, const double *lk, int len, int depth, double *raw)
{
    double dot = 0.0;
    for (int k = 0; k < len; ++k) dot += lq[k] * lk[k];
    double r = lambda_init_d(depth) * exp(dot);
    if (raw) *raw = r;
    return r <= 1.0 ? r : 1.0;
}

/* v [max][D], L this layer's [2·heads][max][max], dout [max][D]; β = *beta, or from lq, lk when lq is set. */
typedef struct { double *v, *L, *dout, *beta, *lq, *lk; int n, heads, dv, max, len, depth; } da_ctx;
static void da_forward(const da_ctx *c, double beta, double *out)
{
    const int D = c->heads * c->dv, n = c->n, max = c->max;
    double p[8], q[8];
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < c->heads; ++h) {
            softmax_d(c->L + ((size_t)(2 * h) * max + i) * max, n, p);
            softmax_d(c->L + ((size_t)(2 * h + 1) * max + i) * max, n, q);
            for (int t = 0; t < c->dv; ++t) {
                double o = 0.0;
                for (int j = 0; j < n; ++j) o += (p[j] - beta * q[j]) * c->v[(size_t)j * D + h * c->dv + t];
                out[(size_t)i * D + h * c->dv + t] = o;
            }
        }
}
static double da_loss(void *c_)
{
    da_ctx *c = c_;
    const int D = c->heads * c->dv;
    double beta = c->lq ? beta_d(c->lq, c->lk, c->len, c->depth, NULL) : *c->beta, out[8 * 8], L = 0.0;
    labs_ = 0.0;
    da_forward(c, beta, out);
    for (size_t k = 0; k < (size_t)c->n * D; ++k) {
        double t = c->dout[k] * out[k];
        L += t, labs_ += fabs(t);
    }
    return L;
}

/* λ_q, λ_k [len] (float) with λ_init·exp(λ_q·λ_k) = target (approximately; the float value on target's side of
   1 is checked by the caller). */
static void make_lambdas(int len, int depth, double target, float *lq, float *lk)
{
    fill(lq, len, -1, 1);
    fill(lk, len, -1, 1);
    double dot = 0.0, want = log(target / lambda_init_d(depth));
    for (int k = 0; k < len; ++k) dot += (double)lq[k] * lk[k];
    if (fabs(dot) < 1e-3) lk[0] += 0.5f * (lq[0] < 0 ? -1.0f : 1.0f), dot += 0.5 * fabs(lq[0]);
    double sc = sqrt(fabs(want / dot));
    for (int k = 0; k < len; ++k) {
        lq[k] = (float)(lq[k] * sc);
        lk[k] = (float)(lk[k] * sc * (want * dot < 0 ? -1.0 : 1.0));
    }
}

/* The reference gradient of hn_kb_diff_beta: dlq[k] = dbeta·r·lk[k] (r ≤ 1), with its bound: r's relative
   error γ(len)·Σ|lq·lk| (the float dot) + 4u (expf, λ_init's rounding, the product), then g = dbeta·r and
   g·lk (2u), then the addition to the old value (u). */
static void beta_reference(const float *lq, const float *lk, int len, int depth, double dbeta, const float *old_q,
                           const float *old_k, double *gq, double *gk, double *rq, double *rk, double *tq, double *tk)
{
    double lqd[128] = { 0 }, lkd[128] = { 0 }, r, adot = 0.0;
    for (int k = 0; k < len; ++k) lqd[k] = lq[k], lkd[k] = lk[k], adot += fabs((double)lq[k] * lk[k]);
    beta_d(lqd, lkd, len, depth, &r);
    /* clamped or not: the float forward's decision (hn_k_diff_beta's β < 1, or = 1 from r = 1 exactly, passes) */
    float dotf = 0.0f;
    for (int k = 0; k < len; ++k) dotf += lq[k] * lk[k];
    const int pass = expf(dotf) * (float)(1.0 - exp(-1.0 / depth)) <= 1.0f;
    double er = gam(len) * adot + 4 * U32 + gam(3);
    for (int k = 0; k < len; ++k) {
        gq[k] = pass ? dbeta * r * lk[k] : 0.0;
        gk[k] = pass ? dbeta * r * lq[k] : 0.0;
        rq[k] = old_q[k] + gq[k], rk[k] = old_k[k] + gk[k];
        tq[k] = er * fabs(gq[k]) + U32 * fabs(rq[k]);
        tk[k] = er * fabs(gk[k]) + U32 * fabs(rk[k]);
    }
}

/* L = w·β(λ_q, λ_k): hn_kb_diff_beta on its own. */
typedef struct { double *lq, *lk, w; int len, depth; } bt_ctx;
static double bt_loss(void *c_)
{
    bt_ctx *c = c_;
    double b = beta_d(c->lq, c->lk, c->len, c->depth, NULL);
    labs_ = fabs(c->w * b);
    return c->w * b;
}

static void test_diff_attention(void)
{
    ist s = { .st = { .name = "diff_attention (dv dL dβ)" } }, sb = { .st = { .name = "diff_beta (dλq dλk)" } };
    /* n, max, heads, dv */
    static const int CASES[][4] = { { 0, 6, 2, 2 }, { 1, 6, 2, 2 }, { 3, 6, 2, 2 }, { 5, 6, 2, 2 }, { 6, 6, 2, 2 },
                                    { 4, 5, 1, 3 }, { 6, 6, 3, 1 } };
    const int len = 5, depth = 4;
    for (int ci = 0; ci < 7; ++ci)
        for (int clamp = 0; clamp < 2; ++clamp) {
            const int n = CASES[ci][0], max = CASES[ci][1], heads = CASES[ci][2], dv = CASES[ci][3], D = heads * dv;
            const int C = 2 * heads;                                  /* maps per layer; this is layer 1 of 2 */
            const size_t mm = (size_t)max * max, nL = (size_t)2 * C * mm, nv = (size_t)max * D, nrv = (size_t)n * D;
            float *v = fal(nv), *dout = fal(nv), *L = fal(nL), *dL0 = fal(nL), lq[8], lk[8];
            fill(v, nrv, -1.5, 1.5);                                  /* rows ≥ n NaN: never read */
            fill(dout, nrv, -1, 1);
            fill(L, C * mm, -3, 3);                                   /* layer 0 */
            fill(dL0, nL, -1, 1);
            for (int c = 0; c < C; ++c)
                for (int i = 0; i < max; ++i)
                    for (int j = 0; j < max; ++j) {
                        size_t k = C * mm + ((size_t)c * max + i) * max + j;
                        L[k] = i < n && j < n ? frand(-3, 3) : NAN;
                        if (!(i < n && j < n)) dL0[k] = 777.0f;       /* padding: never written */
                    }
            make_lambdas(len, depth, clamp ? 1.8 : 0.6, lq, lk);
            const float beta = hn_k_diff_beta(lq, lk, len, depth);
            if ((beta == 1.0f) != clamp) fail(&s.st, " (λ setup)", "beta", 0, beta, clamp, 0);
            const float db0 = frand(-1, 1);
            float *dvo = fal(nv), *dL = fcopy(dL0, nL), dbeta = db0;
            float *Ls = L + C * mm, *dLs = dL + C * mm;
            hn_kb_diff_attention(v, n, heads, dv, Ls, max, beta, dout, dvo, dLs, &dbeta);
            s.st.cases++;

            /* the forward template against the double forward (the differences below are of it) */
            double *vd = dal(nv), *Ld = dal(C * mm), *dod = dal(nv), betad = beta;
            for (size_t k = 0; k < nrv; ++k) vd[k] = v[k], dod[k] = dout[k];
            for (size_t k = 0; k < C * mm; ++k) Ld[k] = Ls[k] == Ls[k] ? Ls[k] : 0.0;
            da_ctx c = { vd, Ld, dod, &betad, NULL, NULL, n, heads, dv, max, len, depth };
            {
                float *out = fal(nv);
                double *od = dal(nv);
                hn_k_diff_attention(v, n, heads, dv, Ls, max, beta, out);
                da_forward(&c, beta, od);
                check_forward(&s.st, "out", out, od, nrv, 1e-6);
                free(out); free(od);
            }

            /* reference, with the bound (per query row and head; ε the relative error of a float softmax row:
               2u·max|L − m| (the rounded arguments) + γ(n + 8) (exp, sum, division)):
                 dα_j = do·v_j: γ(dv)·A_j, A_j = Σ_t|do·v|;  C_p = Σ_j p_j·A_j (likewise C_q)
                 dL0_j = p_j·(dα_j − Σ p·dα): 2·p_j·(ε_p + γ(n + dv + 4))·(A_j + 2C_p) (as test_backward_ew.c's
                   attention), dL1_j: the same with q, one product more, times β; then the addition to the old
                   value (u·|result|);
                 dv_j = Σ_i (p − β·q)·do: (ε + γ(n + 3))·(p + β·q)·|do| per term;
                 dβ = −Σ_{i,h} Σ_j q_j·dα_j: (ε_q + γ(n + dv + 1))·C_q per row, then 2u·(|old| + Σ|rows|). */
            double *gv = dal(nv), *tv = dal(nv), *gL = dal(C * mm), *rL = dal(nL), *tL = dal(nL), gb = 0.0, tb = 0.0, ab = 0.0;
            for (int i = 0; i < n; ++i)
                for (int h = 0; h < heads; ++h) {
                    const double *l0 = Ld + ((size_t)(2 * h) * max + i) * max, *l1 = Ld + ((size_t)(2 * h + 1) * max + i) * max;
                    double p[8], q[8], A[8], g[8], m0 = -INFINITY, m1 = -INFINITY, s0 = 0.0, s1 = 0.0;
                    for (int j = 0; j < n; ++j) m0 = fmax(m0, l0[j]), m1 = fmax(m1, l1[j]);
                    for (int j = 0; j < n; ++j) s0 = fmax(s0, fabs(l0[j] - m0)), s1 = fmax(s1, fabs(l1[j] - m1));
                    const double ep = 2 * U32 * s0 + gam(n + 8), eq = 2 * U32 * s1 + gam(n + 8);
                    softmax_d(l0, n, p);
                    softmax_d(l1, n, q);
                    double dp = 0.0, dq = 0.0, Cp = 0.0, Cq = 0.0;
                    for (int j = 0; j < n; ++j) {
                        g[j] = A[j] = 0.0;
                        for (int t = 0; t < dv; ++t) {
                            double x = dod[(size_t)i * D + h * dv + t] * vd[(size_t)j * D + h * dv + t];
                            g[j] += x, A[j] += fabs(x);
                        }
                        dp += p[j] * g[j], dq += q[j] * g[j], Cp += p[j] * A[j], Cq += q[j] * A[j];
                    }
                    for (int j = 0; j < n; ++j) {
                        size_t k0 = ((size_t)(2 * h) * max + i) * max + j, k1 = ((size_t)(2 * h + 1) * max + i) * max + j;
                        gL[k0] += p[j] * (g[j] - dp);
                        tL[C * mm + k0] += 2 * p[j] * (ep + gam(n + dv + 4)) * (A[j] + 2 * Cp);
                        gL[k1] += -betad * q[j] * (g[j] - dq);
                        tL[C * mm + k1] += 2 * betad * q[j] * (eq + gam(n + dv + 5)) * (A[j] + 2 * Cq);
                        for (int t = 0; t < dv; ++t) {
                            double go = dod[(size_t)i * D + h * dv + t];
                            gv[(size_t)j * D + h * dv + t] += (p[j] - betad * q[j]) * go;
                            tv[(size_t)j * D + h * dv + t] += (fmax(ep, eq) + gam(n + 3)) * (p[j] + betad * q[j]) * fabs(go);
                        }
                    }
                    gb -= dq, ab += fabs(dq), tb += (eq + gam(n + dv + 1)) * Cq;
                }
            for (size_t k = 0; k < nL; ++k) {                      /* layer 0 and the padding: exact */
                const int real = k >= C * mm && (int)((k % mm) / max) < n && (int)(k % max) < n;
                rL[k] = dL0[k] + (real ? gL[k - C * mm] : 0.0);
                if (real) tL[k] += U32 * fabs(rL[k]);
            }
            const double rb = db0 + gb;
            tb += 2 * U32 * (fabs(db0) + ab);
            {
                float *dvn = fcopy(dvo, nrv);                       /* rows < n against the reference */
                check(&s.st, "dv", dvn, gv, tv, nrv);
                for (size_t k = nrv; k < nv; ++k)                   /* rows ≥ n not written */
                    if (!isnan(dvo[k])) { fail(&s.st, " (padding row written)", "dv", k, dvo[k], NAN, 0); break; }
                for (int q = 0; q < SENT; ++q)
                    if (dvo[nv + q] != SENTINEL) fail(&s.st, " (sentinel overwritten)", "dv", nv + q, dvo[nv + q], SENTINEL, 0);
                free(dvn);
            }
            check(&s.st, "dL", dL, rL, tL, nL);
            {
                float got = dbeta;
                double e = fabs(got - rb), r = e == 0.0 ? 0.0 : e / tb;
                if (!(r <= 1.0)) fail(&s.st, "", "dbeta", 0, got, rb, tb);
                if (r > s.st.worst_ref || r != r) s.st.worst_ref = r != r ? INFINITY : r;
            }
            /* NULL outputs: the others bit for bit */
            for (int var = 0; var < 3; ++var) {
                float *dv2 = fal(nv), *dL2 = fcopy(dL0, nL), db2 = db0;
                hn_kb_diff_attention(v, n, heads, dv, Ls, max, beta, dout, var == 0 ? NULL : dv2, var == 1 ? NULL : dL2 + C * mm,
                                     var == 2 ? NULL : &db2);
                if (var != 0) check_same(&s.st, "dv (another output NULL)", dvo, dv2, nv);
                if (var != 1) check_same(&s.st, "dL (another output NULL)", dL, dL2, nL);
                if (var != 2 && memcmp(&db2, &dbeta, sizeof db2)) fail(&s.st, " (another output NULL)", "dbeta", 0, db2, dbeta, 0);
                if (var == 0)
                    for (size_t k = 0; k < nv; ++k)
                        if (!isnan(dv2[k])) { fail(&s.st, " (NULL output, yet its buffer written)", "dv", k, dv2[k], NAN, 0); break; }
                if (var == 1) check_same(&s.st, "dL (NULL: untouched)", dL0, dL2, nL);
                if (var == 2 && memcmp(&db2, &db0, sizeof db2)) fail(&s.st, " (NULL: untouched)", "dbeta", 0, db2, db0, 0);
                free(dv2); free(dL2);
            }
            /* finite differences: v (rows ≥ n: 0), this layer's L (entries ≥ n: 0), β */
            {
                double *kv = grad_of(dvo, NULL, nv), *kL = grad_of(dLs, dL0 + C * mm, C * mm), kb = (double)dbeta - db0;
                for (size_t k = nrv; k < nv; ++k) kv[k] = 0.0;
                fd_all(&s, "dv", da_loss, &c, vd, nv, gv, kv, tv);
                fd_all(&s, "dL", da_loss, &c, Ld, C * mm, gL, kL, tL + C * mm);
                fd_all(&s, "dbeta", da_loss, &c, &betad, 1, &gb, &kb, &tb);
                free(kv); free(kL);
            }
            /* the chain to λ_q, λ_k: dβ of this event alone (accumulated from 0), then hn_kb_diff_beta */
            {
                float db_only = 0.0f, dq0[8], dk0[8], dq[8], dk[8];
                hn_kb_diff_attention(v, n, heads, dv, Ls, max, beta, dout, NULL, NULL, &db_only);
                fill(dq0, len, -1, 1);
                fill(dk0, len, -1, 1);
                memcpy(dq, dq0, sizeof dq0);
                memcpy(dk, dk0, sizeof dk0);
                hn_kb_diff_beta(lq, lk, len, depth, db_only, dq, dk);
                sb.st.cases++;
                double gq[8], gk[8], rq[8], rk[8], tq[8], tk[8], cq[8], ck[8], kq[8], kk[8], lqd[8], lkd[8], raw;
                beta_reference(lq, lk, len, depth, db_only, dq0, dk0, gq, gk, rq, rk, tq, tk);
                float fq[8 + SENT], fk[8 + SENT];                   /* check() wants sentinels after the data */
                memcpy(fq, dq, sizeof(float) * len), memcpy(fk, dk, sizeof(float) * len);
                for (int q = 0; q < SENT; ++q) fq[len + q] = fk[len + q] = SENTINEL;
                check(&sb.st, "dlq", fq, rq, tq, len);
                check(&sb.st, "dlk", fk, rk, tk, len);
                for (int k = 0; k < len; ++k) lqd[k] = lq[k], lkd[k] = lk[k];
                beta_d(lqd, lkd, len, depth, &raw);
                for (int k = 0; k < len; ++k) {                     /* the chain in double: gb·r·λ (0 if clamped) */
                    cq[k] = raw <= 1.0 ? gb * raw * lkd[k] : 0.0;
                    ck[k] = raw <= 1.0 ? gb * raw * lqd[k] : 0.0;
                    kq[k] = (double)dq[k] - dq0[k], kk[k] = (double)dk[k] - dk0[k];
                }
                if (clamp)
                    for (int k = 0; k < len; ++k)
                        if (dq[k] != dq0[k] || dk[k] != dk0[k]) { fail(&sb.st, " (clamped: must be untouched)", "dlq/dlk", k, dq[k], dq0[k], 0); break; }
                da_ctx cc = c;
                cc.lq = lqd, cc.lk = lkd;
                fd_all(&sb, "dlq (chain)", da_loss, &cc, lqd, len, cq, kq, tq);
                fd_all(&sb, "dlk (chain)", da_loss, &cc, lkd, len, ck, kk, tk);
            }
            free(v); free(dout); free(L); free(dL0); free(dvo); free(dL); free(vd); free(Ld); free(dod); free(gv); free(tv);
            free(gL); free(rL); free(tL);
        }
    ia_report(&s);

    /* hn_kb_diff_beta alone: L = w·β, len 1, 5, 100, depth 1, 4, below and above the clamp (0.97 and 1.03: close
       to it on either side) */
    static const int LENS[] = { 1, 5, 100 }, DEPTHS[] = { 1, 4 };
    static const double TARGETS[] = { 0.05, 0.6, 0.97, 1.03, 1.8, 30.0 };
    for (int li = 0; li < 3; ++li)
        for (int di = 0; di < 2; ++di)
            for (int ti = 0; ti < 6; ++ti) {
                const int ln = LENS[li], dp = DEPTHS[di];
                float q[128], k_[128], dq0[128], dk0[128], dq[128 + SENT], dk[128 + SENT];
                make_lambdas(ln, dp, TARGETS[ti], q, k_);
                if ((hn_k_diff_beta(q, k_, ln, dp) == 1.0f) != (TARGETS[ti] > 1.0))
                    fail(&sb.st, " (λ setup)", "beta", 0, hn_k_diff_beta(q, k_, ln, dp), TARGETS[ti], 0);
                const float w = frand(-2, 2);
                fill(dq0, ln, -1, 1);
                fill(dk0, ln, -1, 1);
                memcpy(dq, dq0, sizeof(float) * ln), memcpy(dk, dk0, sizeof(float) * ln);
                for (int z = 0; z < SENT; ++z) dq[ln + z] = dk[ln + z] = SENTINEL;
                hn_kb_diff_beta(q, k_, ln, dp, w, dq, dk);
                sb.st.cases++;
                static double gq[128], gk[128], rq[128], rk[128], tq[128], tk[128], qd[128], kd[128], kq[128], kk[128];
                beta_reference(q, k_, ln, dp, w, dq0, dk0, gq, gk, rq, rk, tq, tk);
                check(&sb.st, "dlq", dq, rq, tq, ln);
                check(&sb.st, "dlk", dk, rk, tk, ln);
                for (int z = 0; z < ln; ++z) {
                    qd[z] = q[z], kd[z] = k_[z];
                    kq[z] = (double)dq[z] - dq0[z], kk[z] = (double)dk[z] - dk0[z];
                }
                bt_ctx bc = { qd, kd, w, ln, dp };
                fd_all(&sb, "dlq", bt_loss, &bc, qd, ln, gq, kq, tq);
                fd_all(&sb, "dlk", bt_loss, &bc, kd, ln, gk, kk, tk);
            }
    /* r = 1 exactly in float (β = 1 unclamped): torch's clamp_(max=1) passes the gradient there (a kink: the
       reference only). λ_q stepped float by float from below ln(1/λ_init)/λ_k until r rounds to exactly 1, for
       depths 1 … 8 and λ_k 1, 0.75, 0.5 (not every pair has such a λ_q; at least one must). */
    int exact = 0;
    static const float KS[] = { 1.0f, 0.75f, 0.5f };
    for (int dp = 1; dp <= 8; ++dp)
        for (int ki = 0; ki < 3; ++ki) {
            const float lam = (float)(1.0 - exp(-1.0 / dp)), kv = KS[ki];
            float q = (float)(log(1.0 / lam) / kv) - 1e-5f, found = NAN;
            for (int it = 0; it < 1000 && found != found; ++it, q = nextafterf(q, 10.0f))
                if (expf(q * kv) * lam == 1.0f) found = q;
            if (found != found) continue;
            ++exact;
            float dq0[1] = { frand(-1, 1) }, dk0[1] = { frand(-1, 1) }, dq[1 + SENT], dk[1 + SENT];
            const float w = frand(0.5, 2);
            dq[0] = dq0[0], dk[0] = dk0[0];
            for (int z = 0; z < SENT; ++z) dq[1 + z] = dk[1 + z] = SENTINEL;
            hn_kb_diff_beta(&found, &kv, 1, dp, w, dq, dk);
            sb.st.cases++;
            double gq[1], gk[1], rq[1], rk[1], tq[1], tk[1];
            beta_reference(&found, &kv, 1, dp, w, dq0, dk0, gq, gk, rq, rk, tq, tk);
            if (gq[0] == 0.0) fail(&sb.st, " (r = 1: the reference clamps)", "dlq", 0, 0, 1, 0);
            check(&sb.st, "dlq (r = 1)", dq, rq, tq, 1);
            check(&sb.st, "dlk (r = 1)", dk, rk, tk, 1);
        }
    if (!exact) fail(&sb.st, " (no λ_q with r = 1 exactly)", "beta", 0, 0, 1, 0);
    ia_report(&sb);
}

int main(void)
{
    (void)report;                                          /* backward_check.h's: these tests print their own, and */
    (void)fd_check;                                        /* check every coordinate (fd_all) */
    test_rmsnorm();
    test_feature_mean();
    test_diff_attention();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
