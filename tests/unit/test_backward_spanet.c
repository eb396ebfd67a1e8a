/* test_backward_spanet.c — the backward kernels of SPANet's two own compute kernels, checked as in
 * test_backward.c: against a double-precision analytic reference (the kernel's float result within a
 * rounding bound propagated alongside the reference) and against fourth-order finite differences of a
 * double-precision forward (the reference's formula). Written outputs are pre-filled with NaN, accumulated
 * ones with random values (checks +=), every output is followed by sentinels. One line per kernel, then
 * "N passed, M failed".
 *   hn_kb_gru_gate (backward_gru_gate.h): d 1, 5, 8, 17, 64 × rows 0, 1, 3, 17, 70, plus d = 160 × 70 rows and
 *       d = 512 × 17 rows (several row blocks; reference only), the parameters and their gradients packed
 *       (W_r|W_z|W_g, b_r|b_z|b_g, U_r|U_z|U_g back to back, as the compiler lays them), interleaved, packed but
 *       for gaps after the biases, and mixed (parameters in one layout, gradients in another); NULL dy / dx
 *       must leave everything else bit-identical. Finite differences where rows·d² ≤ 70·17² (the formula is
 *       the same at every shape; the large ones check the blocks against the reference).
 *   hn_kb_assignment (backward_assignment.h): k = 1 … 4 with several groups (identity, S2, the top's
 *       {id, (q1 q2)}, S3, S2×S2, C4, S4, and two sets that are not groups, which pin the forward's indexing
 *       j∘σ), n ∈ {0, k − 1, k, max}, max 4 and 6, D 1 and 7; k = 5, 6 on max 6. logP is the float forward's
 *       (hn_k_assignment), dlogP random on every cell (NaN on the invalid ones must give the same dy), the
 *       scratch also aliased to dlogP. */
#include "backward_check.h"
#include "backward_gru_gate.h"
#include "backward_assignment.h"

/* ---------------------------------------------------------------- GRU gate */

enum { GW_R, GB_R, GU_R, GW_Z, GB_Z, GU_Z, GW_G, GB_G, GU_G, GGB, NPAR };
static const char *const PNAME[NPAR] = { "dW_r", "db_r", "dU_r", "dW_z", "db_z", "dU_z", "dW_g", "db_g", "dU_g", "dgate_bias" };
enum { GAP = 3, DMAX = 512 };

static size_t psize(int q, int d) { return q == GGB || q % 3 == 1 ? (size_t)d : (size_t)d * d; }

/* Offsets of the ten tensors in one blob, by layout: 1 packed (W_r W_z W_g b_r b_z b_g U_r U_z U_g g, back to
   back, the compiler's order); 0 interleaved (W_r b_r U_r W_z … g, GAP floats after each); 2 the compiler's
   order with GAP floats after each bias only (a blob aligning its tensors when d·d keeps the alignment but d
   does not: W_* and U_* back to back, b_* not). Returns the blob's size. */
static int gg_gap(int layout, int q) { return layout == 0 || (layout == 2 && q % 3 == 1) ? GAP : 0; }
static size_t gg_layout(int layout, int d, size_t off[NPAR])
{
    static const int order[NPAR] = { GW_R, GW_Z, GW_G, GB_R, GB_Z, GB_G, GU_R, GU_Z, GU_G, GGB };
    size_t at = 0;
    for (int i = 0; i < NPAR; ++i) {
        int q = layout ? order[i] : i;
        off[q] = at;
        at += psize(q, d) + (size_t)gg_gap(layout, q);
    }
    return at;
}

/* One row of the double forward: the gates and, for the bounds, the Σ|terms| of each pre-activation. */
static void gg_row(double *const *P, int d, const double *y, const double *x, double *r, double *z, double *h,
                   double *rx, double *sar, double *saz, double *sag)
{
    for (int o = 0; o < d; ++o) {
        double ar = P[GB_R][o], az = P[GB_Z][o] - P[GGB][o], sr = fabs(P[GB_R][o]), sz = fabs(P[GB_Z][o]) + fabs(P[GGB][o]);
        const double *wr = P[GW_R] + (size_t)o * d, *ur = P[GU_R] + (size_t)o * d;
        const double *wz = P[GW_Z] + (size_t)o * d, *uz = P[GU_Z] + (size_t)o * d;
        for (int i = 0; i < d; ++i) {
            ar += wr[i] * y[i] + ur[i] * x[i], sr += fabs(wr[i] * y[i]) + fabs(ur[i] * x[i]);
            az += wz[i] * y[i] + uz[i] * x[i], sz += fabs(wz[i] * y[i]) + fabs(uz[i] * x[i]);
        }
        r[o] = 1.0 / (1.0 + exp(-ar)), z[o] = 1.0 / (1.0 + exp(-az));
        if (sar) sar[o] = sr, saz[o] = sz;
    }
    for (int i = 0; i < d; ++i) rx[i] = r[i] * x[i];
    for (int o = 0; o < d; ++o) {
        double ag = P[GB_G][o], sg = fabs(P[GB_G][o]);
        const double *wg = P[GW_G] + (size_t)o * d, *ug = P[GU_G] + (size_t)o * d;
        for (int i = 0; i < d; ++i) ag += wg[i] * y[i] + ug[i] * rx[i], sg += fabs(wg[i] * y[i]) + fabs(ug[i] * rx[i]);
        h[o] = tanh(ag);
        if (sag) sag[o] = sg;
    }
}

typedef struct { double *y, *x, *w, *P[NPAR]; int rows, d; } gg_ctx;
static double gg_loss(void *c_)
{
    gg_ctx *c = c_;
    double r[DMAX], z[DMAX], h[DMAX], rx[DMAX], L = 0.0;
    labs_ = 0.0;
    for (int q = 0; q < c->rows; ++q) {
        const double *y = c->y + (size_t)q * c->d, *x = c->x + (size_t)q * c->d, *w = c->w + (size_t)q * c->d;
        gg_row(c->P, c->d, y, x, r, z, h, rx, NULL, NULL, NULL);
        for (int o = 0; o < c->d; ++o) {
            double t = w[o] * ((1.0 - z[o]) * x[o] + z[o] * h[o]);
            L += t, labs_ += fabs(t);
        }
    }
    return L;
}

/* The analytic gradient in double, with a first-order bound on the float kernel's error propagated alongside:
 * the recomputed pre-activations err by γ(d + 4)·Σ|terms| (two products of d terms, the bias, the sum of the
 * two sides, − g; any summation order); σ by ≤ 6u relative (hn_k_sigmoid: ≤ 3 ulp documented, 2.5u measured),
 * tanh by ≤ 4u absolute (hn_k_tanh: ≈ 2e-7 documented, 1.6u measured); then every float operation of the
 * kernel's formulas (counted next to each line), each GEMM as a sum of its terms in any order. Parameter
 * gradients: the terms' propagated errors plus γ(rows + 2)·(|old| + Σ|terms|) for the accumulation. */
typedef struct { double *dy, *dx, *ty, *tx, *g[NPAR], *a[NPAR], *e[NPAR]; } gg_ref;

static void gg_reference(double *const *P, int rows, int d, const double *Y, const double *X, const double *Wt, gg_ref *R)
{
    static double r[DMAX], z[DMAX], h[DMAX], rx[DMAX], sar[DMAX], saz[DMAX], sag[DMAX], er[DMAX], ez[DMAX],
        erx[DMAX], eh[DMAX], daz[DMAX], edaz[DMAX], dag[DMAX], edag[DMAX], dxd[DMAX], edxd[DMAX], drx[DMAX],
        edrx[DMAX], dar[DMAX], edar[DMAX];
    const double *Wr = P[GW_R], *Ur = P[GU_R], *Wz = P[GW_Z], *Uz = P[GU_Z], *Wg = P[GW_G], *Ug = P[GU_G];
    for (int q = 0; q < rows; ++q) {
        const double *y = Y + (size_t)q * d, *x = X + (size_t)q * d, *w = Wt + (size_t)q * d;
        gg_row(P, d, y, x, r, z, h, rx, sar, saz, sag);
        for (int o = 0; o < d; ++o) {
            er[o] = r[o] * (1 - r[o]) * gam(d + 4) * sar[o] + 6 * U32 * r[o];
            ez[o] = z[o] * (1 - z[o]) * gam(d + 4) * saz[o] + 6 * U32 * z[o];
        }
        for (int i = 0; i < d; ++i) erx[i] = fabs(x[i]) * er[i] + U32 * fabs(rx[i]);   /* r·x: 1 rounding */
        for (int o = 0; o < d; ++o) {
            double eag = gam(d + 4) * sag[o];
            for (int i = 0; i < d; ++i) eag += fabs(Ug[(size_t)o * d + i]) * erx[i];
            eh[o] = (1 - h[o] * h[o]) * eag + 4 * U32;
        }
        for (int o = 0; o < d; ++o) {
            double go = w[o], hx = h[o] - x[o], s = z[o] * (1 - z[o]), hh = 1 - h[o] * h[o];
            daz[o] = go * hx * s;                          /* (go·(h − x))·(z·(1 − z)): 5 roundings */
            edaz[o] = fabs(go) * s * eh[o] + fabs(go * hx) * fabs(1 - 2 * z[o]) * ez[o] + gam(6) * fabs(daz[o]);
            dag[o] = go * z[o] * hh;                       /* (go·z)·((1 − h)·(1 + h)): 5 roundings */
            edag[o] = fabs(go) * hh * ez[o] + fabs(go) * z[o] * 2 * fabs(h[o]) * eh[o] + gam(5) * fabs(dag[o]);
            dxd[o] = go * (1 - z[o]);                      /* 2 roundings */
            edxd[o] = fabs(go) * ez[o] + gam(2) * fabs(dxd[o]);
        }
        for (int i = 0; i < d; ++i) {                      /* d(r⊙x) = U_gᵀ·da_g: d terms */
            double s = 0, a = 0, e = 0;
            for (int o = 0; o < d; ++o) {
                double u = Ug[(size_t)o * d + i];
                s += dag[o] * u, a += fabs(dag[o] * u), e += fabs(u) * edag[o];
            }
            drx[i] = s, edrx[i] = e + gam(d + 2) * a;
        }
        for (int i = 0; i < d; ++i) {                      /* (drx·x)·(r·(1 − r)): 4 roundings */
            double qx = drx[i] * x[i], s = r[i] * (1 - r[i]);
            dar[i] = qx * s;
            edar[i] = fabs(x[i]) * s * edrx[i] + fabs(qx) * fabs(1 - 2 * r[i]) * er[i] + gam(5) * fabs(dar[i]);
        }
        for (int i = 0; i < d; ++i) {
            /* dx = (U_rᵀda_r + U_zᵀda_z) + (dout(1 − z) + drx·r): 2d terms, 2 more, 3 additions */
            double s = dxd[i] + drx[i] * r[i], a = fabs(dxd[i]) + fabs(drx[i] * r[i]);
            double e = edxd[i] + fabs(drx[i]) * er[i] + r[i] * edrx[i];
            /* dy = W_rᵀda_r + W_zᵀda_z + W_gᵀda_g: 3d terms */
            double sy = 0, ay = 0, ey = 0;
            for (int o = 0; o < d; ++o) {
                size_t k = (size_t)o * d + i;
                s += Ur[k] * dar[o] + Uz[k] * daz[o];
                a += fabs(Ur[k] * dar[o]) + fabs(Uz[k] * daz[o]);
                e += fabs(Ur[k]) * edar[o] + fabs(Uz[k]) * edaz[o];
                sy += Wr[k] * dar[o] + Wz[k] * daz[o] + Wg[k] * dag[o];
                ay += fabs(Wr[k] * dar[o]) + fabs(Wz[k] * daz[o]) + fabs(Wg[k] * dag[o]);
                ey += fabs(Wr[k]) * edar[o] + fabs(Wz[k]) * edaz[o] + fabs(Wg[k]) * edag[o];
            }
            size_t k = (size_t)q * d + i;
            R->dx[k] = s, R->tx[k] = e + gam(2.0 * d + 6) * a + 1e-300;
            R->dy[k] = sy, R->ty[k] = ey + gam(3.0 * d + 4) * ay + 1e-300;
        }
        for (int o = 0; o < d; ++o) {                      /* biases and the gate bias */
            R->g[GB_R][o] += dar[o], R->a[GB_R][o] += fabs(dar[o]), R->e[GB_R][o] += edar[o];
            R->g[GB_Z][o] += daz[o], R->a[GB_Z][o] += fabs(daz[o]), R->e[GB_Z][o] += edaz[o];
            R->g[GB_G][o] += dag[o], R->a[GB_G][o] += fabs(dag[o]), R->e[GB_G][o] += edag[o];
            R->g[GGB][o] -= daz[o], R->a[GGB][o] += fabs(daz[o]), R->e[GGB][o] += edaz[o];
            for (int i = 0; i < d; ++i) {                  /* weights: products rounded once (in γ below) */
                size_t k = (size_t)o * d + i;
                R->g[GW_R][k] += dar[o] * y[i], R->a[GW_R][k] += fabs(dar[o] * y[i]), R->e[GW_R][k] += edar[o] * fabs(y[i]);
                R->g[GU_R][k] += dar[o] * x[i], R->a[GU_R][k] += fabs(dar[o] * x[i]), R->e[GU_R][k] += edar[o] * fabs(x[i]);
                R->g[GW_Z][k] += daz[o] * y[i], R->a[GW_Z][k] += fabs(daz[o] * y[i]), R->e[GW_Z][k] += edaz[o] * fabs(y[i]);
                R->g[GU_Z][k] += daz[o] * x[i], R->a[GU_Z][k] += fabs(daz[o] * x[i]), R->e[GU_Z][k] += edaz[o] * fabs(x[i]);
                R->g[GW_G][k] += dag[o] * y[i], R->a[GW_G][k] += fabs(dag[o] * y[i]), R->e[GW_G][k] += edag[o] * fabs(y[i]);
                R->g[GU_G][k] += dag[o] * rx[i], R->a[GU_G][k] += fabs(dag[o] * rx[i]);
                R->e[GU_G][k] += edag[o] * fabs(rx[i]) + fabs(dag[o]) * erx[i];
            }
        }
    }
}

/* Points p (the parameters) or g (their gradients) into a blob laid out by gg_layout. */
static void gg_params(float *blob, const size_t off[NPAR], hn_k_gru_gate_params *p)
{
    *p = (hn_k_gru_gate_params){ blob + off[GW_R], blob + off[GB_R], blob + off[GU_R], blob + off[GW_Z], blob + off[GB_Z],
                                 blob + off[GU_Z], blob + off[GW_G], blob + off[GB_G], blob + off[GU_G], blob + off[GGB] };
}
static void gg_grads(float *blob, const size_t off[NPAR], hn_kb_gru_gate_grads *g)
{
    *g = (hn_kb_gru_gate_grads){ blob + off[GW_R], blob + off[GB_R], blob + off[GU_R], blob + off[GW_Z], blob + off[GB_Z],
                                 blob + off[GU_Z], blob + off[GW_G], blob + off[GB_G], blob + off[GU_G], blob + off[GGB] };
}
/* A blob of the layout holding the tensors v[q]; the gaps hold `gap`, then SENT sentinels. */
static float *gg_blob(int layout, int d, float *const *v, float gap, size_t off[NPAR])
{
    size_t n = gg_layout(layout, d, off);
    float *b = fal(n);
    for (size_t k = 0; k < n; ++k) b[k] = gap;
    for (int q = 0; q < NPAR; ++q) memcpy(b + off[q], v[q], sizeof(float) * psize(q, d));
    return b;
}

static void test_gru_gate(void)
{
    stat sts[3] = { { .name = "gru_gate, packed" }, { .name = "gru_gate, interleaved" },
                    { .name = "gru_gate, other layouts", .worst_fd = -1 } };
    /* (parameters' layout, gradients' layout), as gg_layout */
    enum { NLAY = 7 };
    static const int LAY[NLAY][2] = { { 1, 1 }, { 0, 0 }, { 2, 2 }, { 1, 0 }, { 0, 1 }, { 1, 2 }, { 2, 1 } };
    static const int GD[] = { 1, 5, 8, 17, 64 }, GR[] = { 0, 1, 3, 17, 70 };
    enum { NSHAPE = 5 * 5 + 2 };
    for (int sh = 0; sh < NSHAPE; ++sh) {
        int d = sh < 25 ? GD[sh / 5] : sh == 25 ? 160 : 512, rows = sh < 25 ? GR[sh % 5] : sh == 25 ? 70 : 17;
        size_t n = (size_t)rows * d;
        double ws = 1.5 / sqrt((double)d);
        float *y = fal(n), *x = fal(n), *dout = fal(n), *pv[NPAR], *gv[NPAR];
        fill(y, n, -1.5, 1.5); fill(x, n, -1.5, 1.5); fill(dout, n, -1, 1);
        for (int q = 0; q < NPAR; ++q) {
            size_t m = psize(q, d);
            pv[q] = fal(m), gv[q] = fal(m);
            if (q == GGB) fill(pv[q], m, 1.0, 3.0);          /* SPANet initialises it to 2: mostly closed */
            else if (q % 3 == 1) fill(pv[q], m, -0.5, 0.5);
            else fill(pv[q], m, -ws, ws);
            fill(gv[q], m, -1, 1);
        }
        /* reference */
        double *yd = dup(y, n), *xd = dup(x, n), *wd = dup(dout, n), *Pd[NPAR];
        gg_ref R = { dal(n), dal(n), dal(n), dal(n), { 0 }, { 0 }, { 0 } };
        for (int q = 0; q < NPAR; ++q) {
            size_t m = psize(q, d);
            Pd[q] = dup(pv[q], m), R.g[q] = dal(m), R.a[q] = dal(m), R.e[q] = dal(m);
        }
        gg_reference(Pd, rows, d, yd, xd, wd, &R);
        double *want[NPAR], *tol[NPAR];
        for (int q = 0; q < NPAR; ++q) {
            size_t m = psize(q, d);
            want[q] = dal(m), tol[q] = dal(m);
            for (size_t k = 0; k < m; ++k) {
                want[q][k] = gv[q][k] + R.g[q][k];
                tol[q][k] = R.e[q][k] + gam(rows + 2) * (fabs(gv[q][k]) + R.a[q][k]) + 1e-300;
            }
        }
        for (int l = 0; l < NLAY; ++l) {
            stat *st = &sts[l < 2 ? l : 2];
            size_t offp[NPAR], offg[NPAR];
            float *pb = gg_blob(LAY[l][0], d, pv, NAN, offp), *gb = gg_blob(LAY[l][1], d, gv, SENTINEL, offg);
            size_t ng = gg_layout(LAY[l][1], d, offg);
            hn_k_gru_gate_params p;
            hn_kb_gru_gate_grads g;
            gg_params(pb, offp, &p);
            gg_grads(gb, offg, &g);
            float *dy = fal(n), *dx = fal(n);
            hn_kb_gru_gate(y, x, rows, d, &p, dout, dy, dx, &g);
            st->cases++;
            check(st, "dy", dy, R.dy, R.ty, n);
            check(st, "dx", dx, R.dx, R.tx, n);
            for (int q = 0; q < NPAR; ++q) {
                float *c = fcopy(gb + offg[q], psize(q, d));
                check(st, PNAME[q], c, want[q], tol[q], psize(q, d));
                free(c);
            }
            for (int q = 0; q < NPAR; ++q)                 /* the gaps between the gradients are not written */
                for (size_t k = offg[q] + psize(q, d); k < offg[q] + psize(q, d) + (size_t)gg_gap(LAY[l][1], q); ++k)
                    if (gb[k] != SENTINEL) fail(st, " (gap overwritten)", "grads", k, gb[k], SENTINEL, 0);
            for (int s = 0; s < SENT; ++s)
                if (gb[ng + s] != SENTINEL) fail(st, " (sentinel overwritten)", "grads", ng + s, gb[ng + s], SENTINEL, 0);
            if (l < 2) {                                   /* NULL dy and/or dx: the rest bit-identical */
                for (int v = 1; v < 4; ++v) {
                    float *gb2 = gg_blob(LAY[l][1], d, gv, SENTINEL, offg), *dy2 = fal(n), *dx2 = fal(n);
                    hn_kb_gru_gate_grads g2;
                    gg_grads(gb2, offg, &g2);
                    hn_kb_gru_gate(y, x, rows, d, &p, dout, v & 1 ? NULL : dy2, v & 2 ? NULL : dx2, &g2);
                    if (!(v & 1)) check_same(st, "dy (with dx NULL)", dy, dy2, n);
                    if (!(v & 2)) check_same(st, "dx (with dy NULL)", dx, dx2, n);
                    check_same(st, "grads (dy/dx NULL)", gb, gb2, ng);
                    for (size_t k = 0; k < n; ++k)          /* the buffers not passed stay NaN */
                        if (((v & 1) && !isnan(dy2[k])) || ((v & 2) && !isnan(dx2[k]))) {
                            fail(st, " (NULL output, yet its buffer written)", "dy/dx", k, dy2[k], NAN, 0);
                            break;
                        }
                    free(gb2); free(dy2); free(dx2);
                }
            }
            free(dy); free(dx); free(gb);
            free(pb);
        }
        /* finite differences of the double forward (where cheap: rows·d² ≤ 70·17², so d = 64 up to 3 rows) */
        if ((double)rows * d * d <= 70.0 * 17 * 17) {
            gg_ctx c = { yd, xd, wd, { 0 }, rows, d };
            for (int q = 0; q < NPAR; ++q) c.P[q] = Pd[q];
            /* gradients w.r.t. y and x: the reference's dy, dx */
            fd_check(&sts[0], "dy", gg_loss, &c, yd, n, R.dy);
            fd_check(&sts[0], "dx", gg_loss, &c, xd, n, R.dx);
            for (int q = 0; q < NPAR; ++q) fd_check(&sts[0], PNAME[q], gg_loss, &c, Pd[q], psize(q, d), R.g[q]);
        }
        free(y); free(x); free(dout); free(yd); free(xd); free(wd);
        free(R.dy); free(R.dx); free(R.ty); free(R.tx);
        for (int q = 0; q < NPAR; ++q) {
            free(pv[q]); free(gv[q]); free(Pd[q]); free(R.g[q]); free(R.a[q]); free(R.e[q]); free(want[q]); free(tol[q]);
        }
    }
    sts[1].worst_fd = sts[2].worst_fd = sts[0].worst_fd;      /* one reference for every layout */
    for (int i = 0; i < 3; ++i) report(&sts[i]);
}

/* ---------------------------------------------------------------- assignment */

/* Tuple of flat cell c in [max]^k (row-major). */
static void as_decode(size_t c, int k, int max, int *j)
{
    for (int d = k - 1; d >= 0; --d) j[d] = (int)(c % (size_t)max), c /= (size_t)max;
}
static int as_valid(const int *j, int k, int n)
{
    for (int d = 0; d < k; ++d)
        if (j[d] >= n) return 0;
    return hn_k_assign_distinct(j, k);
}

/* The double forward on products y [k][max][D]: O_sym on the valid cells of O (NaN elsewhere), the
   Σ_σ Σ_i |Π y|/(|G|·D^{k/2}) of each in A (NULL: not wanted); returns the log-sum-exp (−inf: none) and the
   maximum in *best. Same indexing as the float forward: s[d] = j[group[g·k + d]]. */
static double as_forward(const double *y, int k, int n, int max, int D, const int8_t *group, int order, double *O,
                         double *A, double *best)
{
    size_t cells = hn_kb_assignment_scratch(k, max);
    double scale = pow((double)D, 0.5 * k), m = -INFINITY;
    int j[HN_K_ASSIGN_MAX_DEGREE] = { 0 }, s[HN_K_ASSIGN_MAX_DEGREE];
    for (size_t c = 0; c < cells; ++c) O[c] = NAN;
    if (n > 0) do {                                   /* the tuples of digits < n */
        size_t c = hn_k_assign_flat(j, k, max);
        if (!as_valid(j, k, n)) continue;
        double sum = 0.0, asum = 0.0;
        for (int g = 0; g < order; ++g) {
            for (int d = 0; d < k; ++d) s[d] = j[group[g * k + d]];
            for (int i = 0; i < D; ++i) {
                double prod = 1.0;
                for (int d = 0; d < k; ++d) prod *= y[((size_t)d * max + s[d]) * D + i];
                sum += prod, asum += fabs(prod);
            }
        }
        O[c] = sum / (scale * order);
        if (A) A[c] = asum / (scale * order);
        m = fmax(m, O[c]);
    } while (hn_k_assign_next(j, k, n));
    double tot = 0.0;
    for (size_t c = 0; c < cells; ++c)
        if (O[c] == O[c]) tot += exp(O[c] - m);
    if (best) *best = m;
    return m == -INFINITY ? -INFINITY : m + log(tot);
}

typedef struct { double *y, *w, *O; int k, n, max, D, order; const int8_t *group; } as_ctx;
static double as_loss(void *c_)    /* L = Σ_V w·logP */
{
    as_ctx *c = c_;
    double lse = as_forward(c->y, c->k, c->n, c->max, c->D, c->group, c->order, c->O, NULL, NULL), L = 0.0;
    size_t cells = hn_kb_assignment_scratch(c->k, c->max);
    labs_ = 0.0;
    for (size_t q = 0; q < cells; ++q)
        if (c->O[q] == c->O[q]) {
            double t = c->w[q] * (c->O[q] - lse);
            L += t, labs_ += fabs(t);
        }
    return L;
}

/* The symmetric group S_k in array form, lexicographic (k ≤ 4: 24 elements). */
static int sym_group(int k, int8_t *g)
{
    int cnt = 0, total = 1, p[HN_K_ASSIGN_MAX_DEGREE];
    for (int d = 0; d < k; ++d) total *= k;
    for (int c = 0; c < total; ++c) {
        int v = c;
        for (int d = k - 1; d >= 0; --d) p[d] = v % k, v /= k;
        if (!hn_k_assign_distinct(p, k)) continue;
        for (int d = 0; d < k; ++d) g[cnt * k + d] = (int8_t)p[d];
        ++cnt;
    }
    return cnt;
}

typedef struct { int k, order; int8_t g[24 * 6]; } as_group;

static void test_assignment(void)
{
    stat sts[5] = { { .name = "assignment k=1" }, { .name = "assignment k=2" }, { .name = "assignment k=3" },
                    { .name = "assignment k=4" }, { .name = "assignment k=5,6" } };
    as_group G[] = {
        { 1, 1, { 0 } },
        { 2, 1, { 0, 1 } },
        { 2, 2, { 0, 1, 1, 0 } },                                       /* S2 on two products */
        { 3, 1, { 0, 1, 2 } },
        { 3, 2, { 0, 1, 2, 0, 2, 1 } },                                 /* the top: {id, (q1 q2)} */
        { 3, 2, { 0, 1, 2, 1, 0, 2 } },
        { 3, 0, { 0 } },                                                /* S3 (filled below) */
        { 3, 2, { 0, 1, 2, 1, 2, 0 } },                                 /* {id, a 3-cycle}: not a group */
        { 4, 1, { 0, 1, 2, 3 } },
        { 4, 2, { 0, 1, 2, 3, 0, 1, 3, 2 } },
        { 4, 4, { 0, 1, 2, 3, 1, 0, 2, 3, 0, 1, 3, 2, 1, 0, 3, 2 } },   /* S2×S2 (a Higgs and a W, say) */
        { 4, 4, { 0, 1, 2, 3, 1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2 } },   /* C4 */
        { 4, 0, { 0 } },                                                /* S4 (filled below) */
        { 4, 2, { 0, 1, 2, 3, 3, 0, 1, 2 } },                           /* {id, a 4-cycle}: not a group */
        { 5, 2, { 0, 1, 2, 3, 4, 0, 1, 2, 4, 3 } },
        { 6, 1, { 0, 1, 2, 3, 4, 5 } },
        { 6, 2, { 0, 1, 2, 3, 4, 5, 1, 0, 2, 3, 5, 4 } },
    };
    const int ngroups = (int)(sizeof G / sizeof *G);
    for (int gi = 0; gi < ngroups; ++gi)
        if (G[gi].order == 0) G[gi].order = sym_group(G[gi].k, G[gi].g);
    for (int gi = 0; gi < ngroups; ++gi) {
        const int k = G[gi].k, order = G[gi].order;
        const int8_t *group = G[gi].g;
        stat *st = &sts[k <= 4 ? k - 1 : 4];
        static const int MAXES[] = { 4, 6 };
        for (int mi = 0; mi < 2; ++mi) {
            const int max = MAXES[mi];
            if (max < k || (k >= 5 && max != 6)) continue;
            const int NS[4] = { 0, k - 1, k, max };
            for (int ni = 0; ni < 4; ++ni) {
                const int n = NS[ni];
                if (ni > 0 && n == NS[ni - 1]) continue;
                for (int Di = 0; Di < 2; ++Di) {
                    const int D = k >= 5 ? (Di ? 3 : 1) : (Di ? 7 : 1);
                    const size_t cells = hn_kb_assignment_scratch(k, max), rowsz = (size_t)max * D;
                    float *yf[HN_K_ASSIGN_MAX_DEGREE], *dyf[HN_K_ASSIGN_MAX_DEGREE];
                    double *yd = dal((size_t)k * rowsz);
                    for (int d = 0; d < k; ++d) {
                        yf[d] = fal(rowsz), dyf[d] = fal(rowsz);
                        fill(yf[d], (size_t)n * D, -2, 2);        /* rows ≥ n stay NaN: never read */
                        for (size_t q = 0; q < (size_t)n * D; ++q) yd[(size_t)d * rowsz + q] = yf[d][q];
                    }
                    float *logP = fal(cells), *dlogP = fal(cells), *scr = fal(cells);
                    hn_k_assignment((const float *const *)yf, k, n, max, D, group, order, logP);
                    fill(dlogP, cells, -1, 1);                   /* invalid cells too: ignored */
                    hn_kb_assignment((const float *const *)yf, k, n, max, D, group, order, logP, dlogP, dyf, scr);
                    st->cases++;
                    /* reference (exact, double) with the bound: per dO_sym[j], its float rounding and the
                       scale's (γ(2k + 2)·|dO_sym|), the forward's logP error through P (P·δ_j·|Σw|, δ_j =
                       δO_j + max δO + u·(|lse − best| + |lse| + |logP_j|), δO = γ(D + 3k + |G| + 2)·A: the
                       k − 1 products, D sums, the /scale with the float scale, |G| sums, /|G|), the double sums
                       (2⁻⁵⁰·(|V| + 8)·(|w| + P·Σ|w|)); times |Π_{e≠d} y|/(|G|·D^{k/2}); then u·|dy|. */
                    double *O = dal(cells), *A = dal(cells), best = 0.0;
                    double lse = as_forward(yd, k, n, max, D, group, order, O, A, &best);
                    double S = 0.0, Sa = 0.0, dOmax = 0.0, nv = 0.0, scale = pow((double)D, 0.5 * k);
                    for (size_t c = 0; c < cells; ++c)
                        if (O[c] == O[c]) {
                            S += dlogP[c], Sa += fabs(dlogP[c]), nv += 1.0;
                            dOmax = fmax(dOmax, gam(D + 3 * k + order + 2) * A[c]);
                        }
                    double *gref = dal((size_t)k * rowsz), *tref = dal((size_t)k * rowsz);
                    int j[HN_K_ASSIGN_MAX_DEGREE], s[HN_K_ASSIGN_MAX_DEGREE];
                    for (size_t c = 0; c < cells; ++c) {
                        if (!(O[c] == O[c])) continue;
                        as_decode(c, k, max, j);
                        double lp = O[c] - lse, P = exp(lp), w = dlogP[c];
                        double dl = gam(D + 3 * k + order + 2) * A[c] + dOmax + U32 * (fabs(lse - best) + fabs(lse) + fabs(lp));
                        double dos = w - P * S;
                        double e = fabs(dos) * gam(2 * k + 2) + P * dl * (1 + dl) * fabs(S) +
                                   ldexp(nv + 8, -50) * (fabs(w) + P * Sa);
                        for (int g = 0; g < order; ++g) {
                            for (int d = 0; d < k; ++d) s[d] = j[group[g * k + d]];
                            for (int d = 0; d < k; ++d)
                                for (int i = 0; i < D; ++i) {
                                    double prod = 1.0 / (order * scale);
                                    for (int f = 0; f < k; ++f)
                                        if (f != d) prod *= yd[((size_t)f * max + s[f]) * D + i];
                                    size_t q = ((size_t)d * max + s[d]) * D + i;
                                    gref[q] += dos * prod;
                                    tref[q] += fabs(prod) * e;
                                }
                        }
                    }
                    for (int d = 0; d < k; ++d)
                        for (size_t q = 0; q < rowsz; ++q) {
                            size_t z = (size_t)d * rowsz + q;
                            if (q < (size_t)n * D && n >= k) tref[z] += U32 * fabs(gref[z]) + 1e-300;
                        }
                    for (int d = 0; d < k; ++d) check(st, "dy", dyf[d], gref + (size_t)d * rowsz, tref + (size_t)d * rowsz, rowsz);
                    for (int q = 0; q < SENT; ++q)
                        if (scr[cells + q] != SENTINEL) fail(st, " (scratch overrun)", "scratch", cells + q, scr[cells + q], SENTINEL, 0);
                    /* NaN on the invalid cells of dlogP (and of logP, beyond its −inf): the same dy; and the
                       scratch = dlogP itself: the same dy */
                    {
                        float *dl2 = fcopy(dlogP, cells), *lp2 = fcopy(logP, cells), *s2 = fal(cells), *dy2[HN_K_ASSIGN_MAX_DEGREE];
                        for (size_t c = 0; c < cells; ++c)
                            if (!(O[c] == O[c])) dl2[c] = NAN, lp2[c] = NAN;
                        for (int d = 0; d < k; ++d) dy2[d] = fal(rowsz);
                        hn_kb_assignment((const float *const *)yf, k, n, max, D, group, order, lp2, dl2, dy2, s2);
                        for (int d = 0; d < k; ++d) check_same(st, "dy (NaN on invalid cells)", dyf[d], dy2[d], rowsz);
                        for (int d = 0; d < k; ++d) for (size_t q = 0; q < rowsz; ++q) dy2[d][q] = NAN;
                        hn_kb_assignment((const float *const *)yf, k, n, max, D, group, order, logP, dl2, dy2, dl2);
                        for (int d = 0; d < k; ++d) check_same(st, "dy (scratch = dlogP)", dyf[d], dy2[d], rowsz);
                        for (int d = 0; d < k; ++d) free(dy2[d]);
                        free(dl2); free(lp2); free(s2);
                    }
                    /* finite differences of L = Σ_V w·logP w.r.t. every product element (rows ≥ n: exactly 0) */
                    if (n >= k) {
                        double *wd = dup(dlogP, cells), *Ob = dal(cells);
                        as_ctx ctx = { yd, wd, Ob, k, n, max, D, order, group };
                        fd_check(st, "dy", as_loss, &ctx, yd, (size_t)k * rowsz, gref);
                        free(wd); free(Ob);
                    }
                    for (int d = 0; d < k; ++d) free(yf[d]), free(dyf[d]);
                    free(yd); free(logP); free(dlogP); free(scr); free(O); free(A); free(gref); free(tref);
                }
            }
        }
    }
    for (int i = 0; i < 5; ++i) report(&sts[i]);
}

int main(void)
{
    (void)softmax_d;                                       /* backward_check.h's, used by the other tests */
    test_gru_gate();
    test_assignment();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
