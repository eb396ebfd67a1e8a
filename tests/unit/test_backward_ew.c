/* test_backward_ew.c — the backward kernels of the elementwise ops (add, column copies and gathers,
 * residual, standardize) and of attention with bias U and key mask, checked as in test_backward.c
 * (analytic double reference with rounding bounds, fourth-order finite differences). */
#include "backward_check.h"
#include "backward_dropout.h"

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

/* hn_kb_attention_cblas (the per-head GEMM form the generated training code uses with OpenBLAS) against
 * the loop kernel checked above: the same dqkv and dU within float rounding of the different summation
 * orders (1e-5 of the tensor's largest magnitude), the padding of dU untouched. */
static void test_attention_cblas(void)
{
    stat st = { .name = "attention, cblas form", .worst_fd = -1 };
    const int HD[][2] = { { 1, 1 }, { 2, 3 }, { 3, 8 }, { 1, 17 }, { 2, 64 } };
    for (int a = 0; a < NR; ++a)
        for (int b_ = 0; b_ < 5; ++b_)
            for (int withU = 0; withU < 2; ++withU) {
                int n = ROWS[a], heads = HD[b_][0], d = HD[b_][1], D = heads * d, ld = 3 * D, max = n + 3;
                size_t nq = (size_t)n * ld, nU = (size_t)heads * max * max, no = (size_t)n * D;
                float *qkv = fal(nq), *U = fal(nU), *dout = fal(no), *dU0 = fal(nU);
                fill(qkv, nq, -1.5, 1.5); fill(dout, no, -1, 1); fill(dU0, nU, -1, 1);
                for (size_t k = 0; k < nU; ++k) U[k] = frand(-2, 2);
                for (int h = 0; h < heads; ++h)
                    for (int i = 0; i < max; ++i)
                        for (int j = 0; j < max; ++j)
                            if (!(i < n && j < n)) dU0[((size_t)h * max + i) * max + j] = 777.0f;
                float *g1 = fal(nq), *g2 = fal(nq), *u1 = fcopy(dU0, nU), *u2 = fcopy(dU0, nU);
                float *s1 = fal(HN_KB_ATTENTION_SCRATCH(n, d)), *s2 = fal(HN_KB_ATTENTION_SCRATCH_CBLAS(max));
                const float *Up = withU ? U : NULL;
                hn_kb_attention(qkv, n, heads, d, Up, max, dout, g1, u1, s1);
                hn_kb_attention_cblas(qkv, n, heads, d, Up, max, dout, g2, u2, s2);
                st.cases++;
                double mg = 1e-30, mu = 1e-30, eg = 0, eu = 0;
                for (size_t k = 0; k < nq; ++k) { mg = fmax(mg, fabs(g1[k])); eg = fmax(eg, fabs((double)g1[k] - g2[k])); }
                for (size_t k = 0; k < nU; ++k) { mu = fmax(mu, fabs(u1[k])); eu = fmax(eu, fabs((double)u1[k] - u2[k])); }
                double r = fmax(eg / (1e-5 * mg), eu / (1e-5 * mu));
                if (r > st.worst_ref) st.worst_ref = r;
                if (!(r <= 1.0)) fail(&st, "", "dqkv/dU", 0, eg, eu, 1e-5 * mg);
                for (size_t k = 0; k < nU; ++k)
                    if (dU0[k] == 777.0f && u2[k] != 777.0f) fail(&st, " (padding written)", "dU", k, u2[k], 777.0, 0);
                free(qkv); free(U); free(dout); free(dU0); free(g1); free(g2); free(u1); free(u2); free(s1); free(s2);
            }
    report(&st);
}

/* Dropout on the attention probabilities (weaver's attn_dropout): hn_kt_attention_dropout against a double
 * forward with the same mask (1e-5 relative), hn_kb_attention_dropout and its cblas form against central
 * differences of that double forward (the mask held fixed: it is a function of the seed and the slot),
 * the two forms against each other, rate 0 equal to the plain kernels; the mask's index is the slot's in
 * U's layout offset by the event's base, so two events get different masks. */
typedef struct { at_ctx a; const hn_kt_attn_dropout *dr; } atd_ctx;
static double atd_loss(void *c_)
{
    atd_ctx *c = c_;
    int D = c->a.heads * c->a.d, ld = 3 * D, n = c->a.n, d = c->a.d, max = c->a.max;
    double L = 0.0, s[17], sc = 1.0 / sqrt((double)d);
    labs_ = 0.0;
    for (int h = 0; h < c->a.heads; ++h)
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) {
                double dot = 0.0;
                for (int t = 0; t < d; ++t) dot += c->a.qkv[(size_t)i * ld + h * d + t] * c->a.qkv[(size_t)j * ld + D + h * d + t];
                s[j] = dot * sc + (c->a.U ? c->a.U[((size_t)h * max + i) * max + j] : 0.0);
            }
            softmax_d(s, n, s);
            for (int j = 0; j < n; ++j) s[j] *= hn_kt_attn_keep(c->dr, max, h, i, j);
            for (int t = 0; t < d; ++t) {
                double o = 0.0;
                for (int j = 0; j < n; ++j) o += s[j] * c->a.qkv[(size_t)j * ld + 2 * D + h * d + t];
                double term = c->a.dout[(size_t)i * D + h * d + t] * o;
                L += term, labs_ += fabs(term);
            }
        }
    return L;
}

/* The float kernel's gradient g of coordinate k of x against the double loss's central difference (step
 * 1e-6), within 1e-4 of (|fd| + the largest gradient). */
static void atd_fd_check(stat *st, atd_ctx *c, const char *what, double *x, size_t k, double g, double gmax)
{
    double x0 = x[k], hstep = 1e-6;
    x[k] = x0 + hstep;
    double up = atd_loss(c);
    x[k] = x0 - hstep;
    double dn = atd_loss(c);
    x[k] = x0;
    double fd = (up - dn) / (2 * hstep), tol = 1e-4 * (fabs(fd) + gmax) + 1e-9, r = fabs(fd - g) / tol;
    if (r > st->worst_fd) st->worst_fd = r;
    if (!(r <= 1.0)) fail(st, " (finite difference)", what, k, g, fd, tol);
}

static void test_attention_dropout(void)
{
    stat st = { .name = "attention dropout", .worst_fd = -1 };
    const int HD[][2] = { { 1, 4 }, { 2, 3 }, { 3, 8 } };
    for (int a = 1; a < NR; ++a)
        for (int b_ = 0; b_ < 3; ++b_)
            for (int withU = 0; withU < 2; ++withU) {
                int n = ROWS[a], heads = HD[b_][0], d = HD[b_][1], D = heads * d, ld = 3 * D, max = n + 3;
                size_t nq = (size_t)n * ld, nU = (size_t)heads * max * max, no = (size_t)n * D;
                const hn_kt_attn_dropout dr = { 0.3f, 42, 7, 5 * (uint64_t)nU }, off = { 0.0f, 42, 7, 0 };
                float *qkv = fal(nq), *U = fal(nU), *dout = fal(no), *out = fal(no), *plain = fal(no);
                fill(qkv, nq, -1.5, 1.5); fill(dout, no, -1, 1);
                for (size_t k = 0; k < nU; ++k) U[k] = frand(-2, 2);
                const float *Up = withU ? U : NULL;
                st.cases++;
                /* forward against the double one (its loss with dout = e_k picks out element k) */
                hn_kt_attention_dropout(qkv, n, heads, d, Up, max, &dr, out);
                double *qd = dup(qkv, nq), *Ud = dup(U, nU), *dd = dal(no);
                atd_ctx c = { { qd, withU ? Ud : NULL, dd, n, heads, d, max }, &dr };
                int dropped = 0;
                for (size_t k = 0; k < no; ++k) {
                    dd[k] = 1.0;
                    double ref = atd_loss(&c), r = fabs(out[k] - ref) / (1e-5 * (1.0 + fabs(ref)));
                    dd[k] = 0.0;
                    if (r > st.worst_ref) st.worst_ref = r;
                    if (!(r <= 1.0)) fail(&st, " (forward)", "out", k, out[k], ref, 1e-5 * (1.0 + fabs(ref)));
                }
                for (int h = 0; h < heads; ++h)
                    for (int i = 0; i < n; ++i)
                        for (int j = 0; j < n; ++j) dropped += hn_kt_attn_keep(&dr, max, h, i, j) == 0.0f;
                hn_kt_attention_dropout(qkv, n, heads, d, Up, max, &off, plain);   /* rate 0: the plain forward */
                hn_k_attention(qkv, n, heads, d, Up, max, out);
                for (size_t k = 0; k < no; ++k)
                    if (fabs((double)plain[k] - out[k]) > 1e-6 * (1.0 + fabs(out[k])))
                        { fail(&st, " (rate 0 differs from hn_k_attention)", "out", k, plain[k], out[k], 1e-6); break; }
                /* backward, both forms, against central differences of the double loss */
                float *g1 = fal(nq), *g2 = fal(nq), *u1 = fal(nU), *u2 = fal(nU), *g0 = fal(nq), *u0 = fal(nU);
                float *s1 = fal(HN_KB_ATTENTION_SCRATCH(n, d)), *s2 = fal(HN_KB_ATTENTION_SCRATCH_CBLAS(max));
                memset(u1, 0, sizeof(float) * nU); memset(u2, 0, sizeof(float) * nU); memset(u0, 0, sizeof(float) * nU);
                hn_kb_attention_dropout(qkv, n, heads, d, Up, max, &dr, dout, g1, u1, s1);
                hn_kb_attention_dropout_cblas(qkv, n, heads, d, Up, max, &dr, dout, g2, u2, s2);
                hn_kb_attention_dropout(qkv, n, heads, d, Up, max, &off, dout, g0, u0, s1);
                float *gp = fal(nq), *up = fal(nU);
                memset(up, 0, sizeof(float) * nU);
                hn_kb_attention(qkv, n, heads, d, Up, max, dout, gp, up, s1);
                if (memcmp(g0, gp, sizeof(float) * nq) || memcmp(u0, up, sizeof(float) * nU))
                    fail(&st, " (rate 0 differs from hn_kb_attention)", "dqkv", 0, 0, 0, 0);
                for (size_t k = 0; k < no; ++k) dd[k] = dout[k];
                double gmax = 0.0;
                for (size_t k = 0; k < nq; ++k) gmax = fmax(gmax, fabs(g1[k]));
                for (size_t k = 0; k < nq; ++k) {
                    if (fabs((double)g1[k] - g2[k]) > 1e-5 * (gmax + 1e-30)) fail(&st, " (loop vs cblas)", "dqkv", k, g1[k], g2[k], 1e-5 * gmax);
                    if (k % 3 == 0) atd_fd_check(&st, &c, "dqkv", qd, k, g1[k], gmax);   /* every third coordinate */
                }
                if (withU)
                    for (int h = 0; h < heads; ++h)
                        for (int i = 0; i < n; ++i)
                            for (int j = 0; j < n; j += 2) {
                                size_t k = ((size_t)h * max + i) * max + j;
                                atd_fd_check(&st, &c, "dU", Ud, k, u1[k], gmax);
                            }
                if (n >= 17 && !dropped) fail(&st, " (no probability dropped)", "mask", 0, 0, 1, 0);
                free(qkv); free(U); free(dout); free(out); free(plain); free(qd); free(Ud); free(dd);
                free(g1); free(g2); free(u1); free(u2); free(g0); free(u0); free(s1); free(s2); free(gp); free(up);
            }
    report(&st);
}

/* hn_kt_dropout: the keep rate is 1 − p within 5σ of the binomial, kept elements are scaled by 1/(1 − p),
 * the same (seed, layer) gives the same mask (forward and backward), another seed or layer another one,
 * and eval mode (training = 0) or p = 0 is the identity. */
static void test_dropout(void)
{
    stat st = { .name = "dropout (mask, scale)", .worst_fd = -1 };
    enum { N = 200000 };
    float *x = fal(N), *y = fal(N), *y2 = fal(N), *y3 = fal(N), *g = fal(N);
    for (size_t i = 0; i < N; ++i) x[i] = 1.0f + (float)(i % 7);
    const float ps[] = { 0.1f, 0.3f, 0.5f };
    for (int t = 0; t < 3; ++t) {
        float p = ps[t];
        hn_kt_dropout(x, N, p, 42, 7, 1, y);
        hn_kt_dropout(x, N, p, 42, 7, 1, y2);
        hn_kt_dropout(x, N, p, 43, 7, 1, y3);
        size_t kept = 0, same = 1, differs = 0, scaled = 1;
        for (size_t i = 0; i < N; ++i) {
            kept += y[i] != 0.0f;
            same &= y[i] == y2[i];
            differs += (y[i] != 0.0f) != (y3[i] != 0.0f);
            if (y[i] != 0.0f && y[i] != x[i] * (1.0f / (1.0f - p))) scaled = 0;
        }
        double mean = N * (1.0 - p), sd = sqrt(N * p * (1.0 - p));
        st.cases++;
        if (fabs((double)kept - mean) > 5 * sd) fail(&st, " (keep rate)", "kept", 0, (double)kept, mean, 5 * sd);
        if (!same) fail(&st, " (same seed, other mask)", "mask", 0, 0, 1, 0);
        if (differs < N / 10) fail(&st, " (another seed, same mask)", "mask", 0, (double)differs, N / 10.0, 0);
        if (!scaled) fail(&st, " (scale)", "y", 0, 0, 1, 0);
        hn_kt_dropout(x, N, p, 42, 7, 1, g);           /* the backward: dy = x gives dx = y */
        for (size_t i = 0; i < N; ++i)
            if (g[i] != y[i]) { fail(&st, " (backward mask)", "dx", i, g[i], y[i], 0); break; }
        hn_kt_dropout(x, N, p, 42, 7, 0, y3);
        if (memcmp(y3, x, sizeof(float) * N)) fail(&st, " (eval mode is not the identity)", "y", 0, 0, 1, 0);
    }
    free(x); free(y); free(y2); free(y3); free(g);
    report(&st);
}

int main(void)
{
    test_dropout();
    test_elementwise();
    test_attention();
    test_attention_cblas();
    test_attention_dropout();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
