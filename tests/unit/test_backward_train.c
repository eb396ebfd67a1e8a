/* test_backward_train.c — the training-only kernels of NAME_train.c:
 *   class attention backward (backward_class_attention.h) against central differences of the forward;
 *   the pair embedding's weighted rows (backward_pair.h): representatives with multiplicities give the
 *     same sums as every slot pair, the weighted batchnorm and linear backward equal the unweighted ones
 *     on the expanded rows;
 *   the thread-split linear maps and layernorm (backward_parallel.h) equal the one-threaded kernels.
 * Built with HN_USE_CBLAS and OpenMP (two threads when the machine has them). */
#pragma GCC diagnostic ignored "-Wunused-function"   /* backward_check.h's helpers this file does not use */
#include "backward_check.h"
#include "backward_class_attention.h"
#include "backward_pair.h"
#include "backward_parallel.h"

static float *frnd(size_t n, double lo, double hi)
{
    float *a = fal(n);
    fill(a, n, lo, hi);
    return a;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t k = 0; k < n; ++k) m = fmax(m, fabs(a[k]));
    return m;
}

/* |a − b| ≤ tol·(max|b| + 1e-30) elementwise, reported under `what`. */
static void close_to(stat *st, const char *what, const float *a, const float *b, size_t n, double tol)
{
    double scale = max_abs(b, n) + 1e-30, worst = 0;
    for (size_t k = 0; k < n; ++k) {
        double e = fabs((double)a[k] - b[k]) / (tol * scale);
        if (!(e <= 1.0)) { fail(st, "", what, k, a[k], b[k], tol * scale); break; }
        worst = fmax(worst, e);
    }
    if (worst > st->worst_ref) st->worst_ref = worst;
}

/* ---- class attention ------------------------------------------------------------------------ */

typedef struct { float *c, *X, *W, *b, *g, *be, *dout; int n, D, H; } ca_ctx;

static double ca_loss(const ca_ctx *k)
{
    float out[64];
    hn_k_class_attention(k->c, k->X, k->n, k->D, k->H, k->W, k->b, k->g, k->be, out);
    double s = 0;
    for (int i = 0; i < k->D; ++i) s += (double)out[i] * k->dout[i];
    return s;
}

static void test_class_attention(void)
{
    stat st = { .name = "class attention", .worst_fd = -1 };
    const int cases[][3] = { { 0, 8, 2 }, { 1, 8, 2 }, { 5, 8, 2 }, { 17, 16, 4 }, { 9, 32, 1 } };
    for (size_t q = 0; q < sizeof cases / sizeof *cases; ++q) {
        int n = cases[q][0], D = cases[q][1], H = cases[q][2];
        ca_ctx k = { frnd(D, -1, 1), frnd((size_t)(n > 0 ? n : 1) * D, -1, 1), frnd(3 * D * D, -0.5, 0.5),
                     frnd(3 * D, -0.2, 0.2), frnd(D, 0.7, 1.3), frnd(D, -0.2, 0.2), frnd(D, -1, 1), n, D, H };
        float *dc = fal(D), *dX = fal((size_t)(n > 0 ? n : 1) * D), *dW = fal(3 * D * D), *db = fal(3 * D);
        float *dg = fal(D), *dbe = fal(D), *scr = fal(HN_KB_CLASS_ATTENTION_SCRATCH(n, D));
        memset(dW, 0, sizeof(float) * 3 * D * D); memset(db, 0, sizeof(float) * 3 * D);
        memset(dg, 0, sizeof(float) * D); memset(dbe, 0, sizeof(float) * D);
        hn_kb_class_attention(k.c, k.X, n, D, H, k.W, k.b, k.g, k.be, k.dout, dc, dX, dW, db, dg, dbe, scr);
        float *ps[] = { k.c, k.X, k.W, k.b, k.g, k.be }, *gs[] = { dc, dX, dW, db, dg, dbe };
        size_t ns[] = { (size_t)D, (size_t)n * D, (size_t)3 * D * D, (size_t)3 * D, (size_t)D, (size_t)D };
        const char *names[] = { "dc", "dX", "dW", "db", "dln_g", "dln_b" };
        for (int t = 0; t < 6; ++t) {
            double gmax = max_abs(gs[t], ns[t]) + 1e-3;
            for (size_t i = 0; i < ns[t]; i += ns[t] > 40 ? ns[t] / 23 : 1) {   /* ≤ ~40 coordinates */
                float keep = ps[t][i], h = 1e-2f;
                ps[t][i] = keep + h; double a = ca_loss(&k);
                ps[t][i] = keep - h; double m = ca_loss(&k);
                ps[t][i] = keep;
                double fd = (a - m) / (2.0 * h), e = fabs(fd - gs[t][i]) / (2e-3 * gmax);   /* float32 FD noise */
                if (!(e <= 1.0)) fail(&st, " (finite difference)", names[t], i, gs[t][i], fd, 2e-3 * gmax);
                if (e > st.worst_fd) st.worst_fd = e;
            }
        }
        st.cases++;
        free(k.c); free(k.X); free(k.W); free(k.b); free(k.g); free(k.be); free(k.dout);
        free(dc); free(dX); free(dW); free(db); free(dg); free(dbe); free(scr);
    }
    report(&st);
}

/* ---- weighted pair rows ----------------------------------------------------------------------- */

static void random_event(float *p4, int n, int max)
{
    memset(p4, 0, sizeof(float) * 4 * max);
    for (int i = 0; i < n; ++i) {
        float pt = frand(1, 100), eta = frand(-1, 1), phi = frand(-3, 3), m = frand(0, 0.2);
        p4[4 * i] = pt * cosf(phi); p4[4 * i + 1] = pt * sinf(phi); p4[4 * i + 2] = pt * sinhf(eta);
        p4[4 * i + 3] = sqrtf(p4[4 * i] * p4[4 * i] + p4[4 * i + 1] * p4[4 * i + 1] + p4[4 * i + 2] * p4[4 * i + 2] + m * m);
    }
}

/* Σ_rows w·f and Σ w·f² of the representatives against the same sums over every tril slot pair. */
static void test_pair_rows(void)
{
    stat st = { .name = "pair rows, multiplicities", .worst_fd = -1 };
    enum { MAX = 12, NF = 4 };
    static const int sel[NF] = { 0, 1, 2, 3 };
    for (int n = 0; n <= MAX; ++n) {
        float p4[4 * MAX], pairs[MAX * MAX * NF], rows[MAX * (MAX + 1) / 2 * NF], w[MAX * (MAX + 1) / 2];
        random_event(p4, n, MAX);
        hn_kt_pair_features_all(p4, MAX, sel, NF, pairs);
        size_t r = hn_kt_pair_rows_weighted(pairs, n, MAX, NF, rows, w);
        if (r != hn_kt_pair_row_count(n, MAX)) fail(&st, " (row count)", "rows", 0, (double)r, (double)hn_kt_pair_row_count(n, MAX), 0);
        double sw = 0, s1[NF] = { 0 }, s2[NF] = { 0 }, t1[NF] = { 0 }, t2[NF] = { 0 };
        for (size_t k = 0; k < r; ++k) {
            sw += w[k];
            for (int f = 0; f < NF; ++f) { s1[f] += w[k] * rows[k * NF + f]; s2[f] += w[k] * rows[k * NF + f] * rows[k * NF + f]; }
        }
        for (int a = 0; a < MAX; ++a)
            for (int c = 0; c <= a; ++c)
                for (int f = 0; f < NF; ++f) {
                    double v = pairs[((size_t)a * MAX + c) * NF + f];
                    t1[f] += v; t2[f] += v * v;
                }
        if (sw != MAX * (MAX + 1) / 2) fail(&st, " (total weight)", "w", 0, sw, MAX * (MAX + 1) / 2, 0);
        for (int f = 0; f < NF; ++f) {
            double e1 = fabs(s1[f] - t1[f]) / (1e-6 * (fabs(t1[f]) + 1)), e2 = fabs(s2[f] - t2[f]) / (1e-6 * (t2[f] + 1));
            if (!(e1 <= 1 && e2 <= 1)) fail(&st, " (weighted sums)", "feature", (size_t)f, s1[f], t1[f], 1e-6);
            st.worst_ref = fmax(st.worst_ref, fmax(e1, e2));
        }
        st.cases++;
    }
    report(&st);
}

/* The weighted batchnorm (forward, running update, backward) and linear backward on representatives
 * with integer weights against the unweighted kernels on the rows repeated that many times. */
static void test_weighted_kernels(void)
{
    stat st = { .name = "weighted BN and linear", .worst_fd = -1 };
    enum { R = 9, D = 5, O = 3 };
    const float w[R] = { 1, 1, 3, 1, 2, 7, 1, 1, 4 };
    int E = 0;
    for (int r = 0; r < R; ++r) E += (int)w[r];
    float *x = frnd(R * D, -2, 2), *dy = frnd(R * D, -1, 1), *g = frnd(D, 0.5, 1.5), *be = frnd(D, -0.3, 0.3);
    float *xe = fal((size_t)E * D), *dye = fal((size_t)E * D);
    for (int r = 0, e = 0; r < R; ++r)
        for (int c = 0; c < (int)w[r]; ++c, ++e) {
            memcpy(xe + (size_t)e * D, x + (size_t)r * D, sizeof(float) * D);
            memcpy(dye + (size_t)e * D, dy + (size_t)r * D, sizeof(float) * D);
        }
    float rm[D], rv[D], rme[D], rve[D], mu[D], var[D], mue[D], vare[D], y[R * D], ye[64 * D];
    for (int k = 0; k < D; ++k) rm[k] = rme[k] = 0.1f * k, rv[k] = rve[k] = 1.0f + 0.1f * k;
    hn_kt_batchnorm_train_weighted(x, R, D, w, g, be, 1e-5f, 0.1f, rm, rv, mu, var, y);
    hn_kb_batchnorm_train(xe, E, D, g, be, 1e-5f, 0.1f, rme, rve, mue, vare, ye);
    close_to(&st, "batch mean", mu, mue, D, 1e-5);
    close_to(&st, "batch var", var, vare, D, 1e-5);
    close_to(&st, "running mean", rm, rme, D, 1e-5);
    close_to(&st, "running var", rv, rve, D, 1e-5);
    for (int r = 0, e = 0; r < R; e += (int)w[r], ++r) close_to(&st, "y", y + r * D, ye + (size_t)e * D, D, 1e-5);
    float dx[R * D], dxe[64 * D], dg[D] = { 0 }, db[D] = { 0 }, dge[D] = { 0 }, dbe[D] = { 0 };
    hn_kt_batchnorm_train_weighted_backward(x, R, D, w, g, 1e-5f, mu, var, dy, dx, dg, db);
    hn_kb_batchnorm_train_backward(xe, E, D, g, 1e-5f, mue, vare, dye, dxe, dge, dbe);
    close_to(&st, "dgamma", dg, dge, D, 1e-5);
    close_to(&st, "dbeta", db, dbe, D, 1e-5);
    for (int r = 0, e = 0; r < R; e += (int)w[r], ++r) close_to(&st, "dx", dx + r * D, dxe + (size_t)e * D, D, 1e-5);
    /* linear: y = x·Wᵀ + b, D → O */
    float *W = frnd(O * D, -1, 1), *gy = frnd(R * O, -1, 1), *gye = fal((size_t)E * O);
    for (int r = 0, e = 0; r < R; ++r)
        for (int c = 0; c < (int)w[r]; ++c, ++e) memcpy(gye + (size_t)e * O, gy + (size_t)r * O, sizeof(float) * O);
    float dW[O * D] = { 0 }, dWe[O * D] = { 0 }, dbl[O] = { 0 }, dble[O] = { 0 }, dxl[R * D], dxle[64 * D];
    float gy2[R * O];
    memcpy(gy2, gy, sizeof gy2);
    hn_kt_linear_backward_weighted(x, R, D, W, O, w, gy, dxl, dW, dbl);
    hn_kb_linear(xe, E, D, W, O, gye, dxle, dWe, dble);
    close_to(&st, "dW", dW, dWe, O * D, 1e-5);
    close_to(&st, "db", dbl, dble, O, 1e-5);
    for (int r = 0, e = 0; r < R; e += (int)w[r], ++r) close_to(&st, "dx (linear)", dxl + r * D, dxle + (size_t)e * D, D, 1e-5);
    float dW2[O * D] = { 0 }, db2[O] = { 0 }, dx2[R * D];
    hn_kt_linear_backward_weighted_par(x, R, D, W, O, w, gy2, dx2, dW2, db2);
    close_to(&st, "dW (threads)", dW2, dWe, O * D, 1e-5);
    close_to(&st, "dx (threads)", dx2, dxl, R * D, 1e-6);
    st.cases += 2;
    free(x); free(dy); free(g); free(be); free(xe); free(dye); free(W); free(gy); free(gye);
    report(&st);
}

/* ---- thread-split kernels --------------------------------------------------------------------- */

static void test_parallel(void)
{
    stat st = { .name = "thread-split linear, LN", .worst_fd = -1 };
    enum { B = 7, MAX = 11, IN = 13, OUT = 9 };
    int32_t n[B] = { 0, 1, 11, 5, 3, 11, 7 };
    float *x = frnd(B * MAX * IN, -1, 1), *dy = frnd(B * MAX * OUT, -1, 1), *W = frnd(OUT * IN, -1, 1), *b = frnd(OUT, -1, 1);
    float *dx1 = fal(B * MAX * IN), *dx2 = fal(B * MAX * IN), *y1 = fal(B * MAX * OUT), *y2 = fal(B * MAX * OUT);
    memset(dx1, 0, sizeof(float) * B * MAX * IN); memset(dx2, 0, sizeof(float) * B * MAX * IN);
    float dW1[OUT * IN] = { 0 }, dW2[OUT * IN] = { 0 }, db1[OUT] = { 0 }, db2[OUT] = { 0 };
    for (int e = 0; e < B; ++e)
        hn_kb_linear(x + (size_t)e * MAX * IN, n[e], IN, W, OUT, dy + (size_t)e * MAX * OUT, dx1 + (size_t)e * MAX * IN, dW1, db1);
    hn_kt_linear_backward_events(x, B, MAX, n, IN, W, OUT, dy, dx2, dW2, db2);
    close_to(&st, "dW (events)", dW2, dW1, OUT * IN, 1e-5);
    close_to(&st, "db (events)", db2, db1, OUT, 1e-5);
    close_to(&st, "dx (events)", dx2, dx1, B * MAX * IN, 1e-5);
    hn_k_linear(x, B * MAX, IN, W, b, OUT, HN_ACT_GELU, y1);
    hn_kt_linear_par(x, B * MAX, IN, W, b, OUT, HN_ACT_GELU, y2);
    close_to(&st, "y (rows)", y2, y1, B * MAX * OUT, 1e-5);
    float lg[IN], dg1[IN] = { 0 }, dbt1[IN] = { 0 }, dg2[IN] = { 0 }, dbt2[IN] = { 0 }, partial[64 * 2 * IN];
    fill(lg, IN, 0.5, 1.5);
    float *dyl = frnd(B * MAX * IN, -1, 1), *dl1 = fal(B * MAX * IN), *dl2 = fal(B * MAX * IN);
    memset(dl1, 0, sizeof(float) * B * MAX * IN); memset(dl2, 0, sizeof(float) * B * MAX * IN);
    for (int e = 0; e < B; ++e)
        hn_kb_layernorm(x + (size_t)e * MAX * IN, n[e], IN, lg, 1e-5f, dyl + (size_t)e * MAX * IN, dl1 + (size_t)e * MAX * IN, dg1, dbt1);
    if (HN_KT_MAX_THREADS() <= 64) hn_kt_layernorm_backward_events(x, B, MAX, n, IN, lg, 1e-5f, dyl, dl2, dg2, dbt2, partial);
    close_to(&st, "dgamma (LN events)", dg2, dg1, IN, 1e-5);
    close_to(&st, "dbeta (LN events)", dbt2, dbt1, IN, 1e-5);
    close_to(&st, "dx (LN events)", dl2, dl1, B * MAX * IN, 1e-6);
    st.cases += 3;
    free(x); free(dy); free(W); free(b); free(dx1); free(dx2); free(y1); free(y2); free(dyl); free(dl1); free(dl2);
    report(&st);
}

int main(void)
{
    test_class_attention();
    test_pair_rows();
    test_weighted_kernels();
    test_parallel();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
