/* test_ops.c — every op through the real pipeline (spec → IR → passes → generated C → cc → dlopen)
 * against a double-precision reference written here, on random inputs with random set sizes
 * (0, 1 and max included), with generated loops and with OpenBLAS.
 *
 * Each case is a small spec over these inputs: x, a masked set (max 7, 5 features); g, a per-event
 * vector (6 features); o, a fixed list (3 rows of 4 features); p, a set without a mask (max 6, 4 features)
 * with 4-vectors p_p4, whose padded rows (anywhere, E = 0) are all zero, as IAFormer pads; q, a masked set
 * (max 7, 4 features) with 4-vectors q_p4; pp and qq, pair inputs of p and q (6 features, symmetric, zero
 * on the diagonal and for p's padded rows, some other pairs all zero). Set-valued results are pooled (sum)
 * so every real row is compared, or, for p, flattened so every slot is; padding rows of masked sets hold
 * NaN, so reading one fails the case. A reference may write NaN for an output value it does not define
 * (the padded pairs of a masked pair output); output buffers start at a sentinel, so any value the
 * reference defines and the model leaves unwritten fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hepnc/weights.h>

#include "build.h"
#include "driver.h"

enum { B = 23, XMAX = 7, XF = 5, GF = 6, OMAX = 3, OF = 4, PMAX = 6, PF = 4, QMAX = 7, QF = 4, NPF = 6, MAXOUT = 512 };

static float xs[B][XMAX][XF], gs[B][GF], os[B][OMAX][OF];
static int32_t xn[B];
/* IAFormer's inputs: p (no mask: every slot is a row, padded rows zero) and q (masked) with 4-vectors,
 * and pair inputs pp, qq of them (NPF features per ordered pair). */
static float ps[B][PMAX][PF], pp4[B][PMAX][4], ppf[B][PMAX][PMAX][NPF];
static float qs[B][QMAX][QF], qp4[B][QMAX][4], qqf[B][QMAX][QMAX][NPF];
static int32_t qn[B];

/* ---- weights: random values per parameter of the spec, looked up by name by the references ---- */
typedef struct weight { char name[96]; int64_t shape[2]; int ndim; long size; float *v; } weight;
static weight weights[64];
static int nweights;

static unsigned long long rng_state = 88172645463325252ull;
static double uniform(double lo, double hi)
{
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

static const float *W(const char *name)
{
    for (int i = 0; i < nweights; ++i)
        if (!strcmp(weights[i].name, name)) return weights[i].v;
    fprintf(stderr, "test bug: no weight %s\n", name);
    exit(3);
}

/* lambda_dot ≠ 0: every <layer>.lambda_k1 is rescaled from its <layer>.lambda_q1 so that Σ λq·λk = lambda_dot
 * (differential attention's β = min(1, λ_init·exp(Σ λq·λk)) then lies where the case wants it). */
static void set_lambda_dot(double lambda_dot)
{
    for (int i = 0; i < nweights; ++i) {
        size_t len = strlen(weights[i].name);
        if (len < 10 || strcmp(weights[i].name + len - 10, ".lambda_k1")) continue;
        char qname[96];
        snprintf(qname, sizeof qname, "%.*s.lambda_q1", (int)(len - 10), weights[i].name);
        const float *q = W(qname);
        double qq = 0;
        long n = weights[i].size;
        for (long k = 0; k < n; ++k) qq += (double)q[k] * q[k];
        for (long k = 0; k < n; ++k) weights[i].v[k] = (float)(q[k] * lambda_dot / qq);
    }
}

static int make_weights(const hn_graph *g, const char *path, double lambda_dot)
{
    for (int i = 0; i < nweights; ++i) free(weights[i].v);
    nweights = 0;
    hn_tensor_out outs[64];
    for (int p = 0; p < g->nparams; ++p) {
        const hn_param *q = &g->params[p];
        if (!q->from_file) continue;
        weight *w = &weights[nweights];
        snprintf(w->name, sizeof w->name, "%s", q->name);
        w->ndim = q->rank;
        w->size = q->size;
        w->v = malloc(sizeof(float) * (size_t)q->size);
        size_t len = strlen(q->name);
        int positive = strstr(q->name, "running_var") != NULL || (len > 4 && !strcmp(q->name + len - 4, ".std"));
        for (long i = 0; i < q->size; ++i) w->v[i] = (float)(positive ? uniform(0.3, 2.0) : uniform(-0.6, 0.6));
        outs[nweights] = (hn_tensor_out){ w->name, q->rank, { 0 }, w->v };
        for (int k = 0; k < q->rank; ++k) outs[nweights].shape[k] = q->dim[k];
        ++nweights;
    }
    if (lambda_dot != 0) set_lambda_dot(lambda_dot);
    char err[256];
    if (hn_safetensors_write(path, nweights, outs, err, sizeof err)) { fprintf(stderr, "%s\n", err); return -1; }
    return 0;
}

/* ---- double-precision references -------------------------------------------------------------- */
static void ref_linear(const double *x, int in, const char *layer, int out, int bias, double *y)
{
    char wn[128], bn[128];
    snprintf(wn, sizeof wn, "%s.weight", layer);
    snprintf(bn, sizeof bn, "%s.bias", layer);
    const float *w = W(wn), *b = bias ? W(bn) : NULL;
    for (int o = 0; o < out; ++o) {
        double s = b ? b[o] : 0.0;
        for (int i = 0; i < in; ++i) s += x[i] * w[(size_t)o * in + i];
        y[o] = s;
    }
}
static void ref_layernorm(const double *x, int d, const char *layer, double *y)
{
    char wn[128], bn[128];
    snprintf(wn, sizeof wn, "%s.weight", layer);
    snprintf(bn, sizeof bn, "%s.bias", layer);
    double m = 0, v = 0;
    for (int i = 0; i < d; ++i) m += x[i];
    m /= d;
    for (int i = 0; i < d; ++i) v += (x[i] - m) * (x[i] - m);
    v /= d;
    for (int i = 0; i < d; ++i) y[i] = (x[i] - m) / sqrt(v + 1e-5) * W(wn)[i] + W(bn)[i];
}
static void ref_batchnorm(const double *x, int d, const char *layer, double *y)
{
    char n[4][128];
    const char *suffix[4] = { "weight", "bias", "running_mean", "running_var" };
    for (int k = 0; k < 4; ++k) snprintf(n[k], sizeof n[k], "%s.%s", layer, suffix[k]);
    for (int i = 0; i < d; ++i) y[i] = (x[i] - W(n[2])[i]) / sqrt(W(n[3])[i] + 1e-5) * W(n[0])[i] + W(n[1])[i];
}
static double gelu(double x) { return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double relu(double x) { return x > 0 ? x : 0; }

static void event_x(int b, int r, double *v) { for (int f = 0; f < XF; ++f) v[f] = xs[b][r][f]; }
static void event_g(int b, double *v) { for (int f = 0; f < GF; ++f) v[f] = gs[b][f]; }

/* ---- the cases ---------------------------------------------------------------------------------- */
typedef struct op_case {
    const char *what;
    const char *layers;         /* YAML lines of the layers list; the output is the tensor 'y' */
    int width;                  /* width of y */
    double tol;                 /* absolute, on values of order 1 */
    void (*ref)(int b, double *y);
} op_case;

static void r_linear_global(int b, double *y) { double g[GF]; event_g(b, g); ref_linear(g, GF, "y", 9, 1, y); }
static void r_linear_set(int b, double *y)
{
    memset(y, 0, sizeof(double) * 4);
    for (int r = 0; r < xn[b]; ++r) {
        double x[XF], h[4];
        event_x(b, r, x);
        ref_linear(x, XF, "h", 4, 0, h);
        for (int k = 0; k < 4; ++k) y[k] += h[k];
    }
}
static void r_layernorm(int b, double *y) { double g[GF]; event_g(b, g); ref_layernorm(g, GF, "y", y); }
static void r_batchnorm(int b, double *y) { double g[GF]; event_g(b, g); ref_batchnorm(g, GF, "y", y); }
static void r_relu(int b, double *y) { for (int f = 0; f < GF; ++f) y[f] = relu(gs[b][f]); }
static void r_gelu(int b, double *y) { for (int f = 0; f < GF; ++f) y[f] = gelu(gs[b][f]); }
static void r_softmax(int b, double *y)
{
    double m = -1e30, s = 0;
    for (int f = 0; f < GF; ++f) m = fmax(m, gs[b][f]);
    for (int f = 0; f < GF; ++f) s += exp(gs[b][f] - m);
    for (int f = 0; f < GF; ++f) y[f] = exp(gs[b][f] - m) / s;
}
static void r_add(int b, double *y)
{
    double g[GF];
    event_g(b, g);
    ref_linear(g, GF, "h", GF, 1, y);
    for (int f = 0; f < GF; ++f) y[f] += g[f];
}
static void r_concat(int b, double *y)
{
    double g[GF];
    event_g(b, g);
    for (int f = 0; f < GF; ++f) y[f] = g[f];
    ref_linear(g, GF, "h", 3, 1, y + GF);
}
static void r_slice_names(int b, double *y) { y[0] = gs[b][4]; y[1] = gs[b][0]; y[2] = gs[b][4]; }
static void r_slice_range(int b, double *y) { for (int f = 0; f < 3; ++f) y[f] = gs[b][1 + f]; }
static void r_flatten(int b, double *y) { for (int k = 0; k < OMAX * OF; ++k) y[k] = os[b][k / OF][k % OF]; }
static void r_pool(int b, double *y, int mode)
{
    for (int f = 0; f < XF; ++f) {
        double acc = mode == 2 ? -1e30 : 0;
        for (int r = 0; r < xn[b]; ++r) acc = mode == 2 ? fmax(acc, xs[b][r][f]) : acc + xs[b][r][f];
        if (xn[b] == 0) acc = 0;
        else if (mode == 1) acc /= xn[b];
        y[f] = acc;
    }
}
static void r_pool_sum(int b, double *y) { r_pool(b, y, 0); }
static void r_pool_mean(int b, double *y) { r_pool(b, y, 1); }
static void r_pool_max(int b, double *y) { r_pool(b, y, 2); }
static void r_mlp_set(int b, double *y)
{
    memset(y, 0, sizeof(double) * 5);
    for (int r = 0; r < xn[b]; ++r) {
        double x[XF], h0[8], h1[5];
        event_x(b, r, x);
        ref_linear(x, XF, "m.0", 8, 1, h0);
        for (int k = 0; k < 8; ++k) h0[k] = gelu(h0[k]);
        ref_linear(h0, 8, "m.1", 5, 1, h1);
        for (int k = 0; k < 5; ++k) y[k] += gelu(h1[k]) / (xn[b] ? xn[b] : 1);
    }
}
static void r_mlp_none(int b, double *y)
{
    double g[GF], h[7];
    event_g(b, g);
    ref_linear(g, GF, "y.0", 7, 1, h);
    ref_linear(h, 7, "y.1", 3, 1, y);
}
static void r_linear_bn(int b, double *y)
{
    double g[GF], h[5];
    event_g(b, g);
    ref_linear(g, GF, "h", 5, 1, h);
    ref_batchnorm(h, 5, "bn", y);
    for (int k = 0; k < 5; ++k) y[k] = relu(y[k]);
}
static void r_layernorm_set(int b, double *y)
{
    for (int f = 0; f < XF; ++f) y[f] = -1e30;
    for (int r = 0; r < xn[b]; ++r) {
        double x[XF], h[XF];
        event_x(b, r, x);
        ref_layernorm(x, XF, "ln", h);
        for (int f = 0; f < XF; ++f) y[f] = fmax(y[f], h[f]);
    }
    if (!xn[b]) memset(y, 0, sizeof(double) * XF);
}

/* SPANet's primitives (compiler/ops/spanet.c lowers to them) */
static void r_sigmoid(int b, double *y) { for (int f = 0; f < GF; ++f) y[f] = 1.0 / (1.0 + exp(-(double)gs[b][f])); }
static void r_position_embed(int b, double *y)
{
    for (int f = 0; f < GF; ++f) y[f] = gs[b][f];
    for (int k = 0; k < 3; ++k) y[GF + k] = W("y.position_embedding")[k];
}
static void r_vector_normalize(int b, double *y)
{
    for (int r = 0; r < OMAX; ++r)
        for (int f = 0; f < OF; ++f) {
            double v = os[b][r][f];
            if (f == 1 || f == 3) v = log((double)(float)(os[b][r][f] + 1.0f));
            y[r * OF + f] = (v - W("v.mean")[f]) / W("v.std")[f];
        }
}
static void r_denormalize(int b, double *y)
{
    double g[GF], h;
    event_g(b, g);
    ref_linear(g, GF, "h", 1, 1, &h);
    y[0] = 2.0 * sinh(W("y.std")[0] * h + W("y.mean")[0]);
}
static void r_token(int b, double *y) { for (int f = 0; f < XF; ++f) y[f] = W("t.weight")[f]; }
static void r_lead_layernorm_set(int b, double *y)
{
    memset(y, 0, sizeof(double) * XF);
    for (int r = 0; r < xn[b]; ++r) {
        double x[XF], h[XF];
        event_x(b, r, x);
        ref_layernorm(x, XF, "l", h);
        for (int f = 0; f < XF; ++f) y[f] += h[f];
    }
}
static void r_lead_layernorm_token(int b, double *y)
{
    double g[GF], h[XF];
    event_g(b, g);
    ref_linear(g, GF, "h", XF, 1, h);
    ref_layernorm(h, XF, "l", y);
}

/* IAFormer's primitives (compiler/ops/iaformer.c lowers to them), from their documented semantics. */
static void ref_rmsnorm(const double *x, int d, const char *layer, double eps, double *y)
{
    char wn[128];
    snprintf(wn, sizeof wn, "%s.weight", layer);
    double ms = 0;
    for (int i = 0; i < d; ++i) ms += x[i] * x[i];
    ms /= d;
    for (int i = 0; i < d; ++i) y[i] = x[i] / sqrt(ms + eps) * W(wn)[i];
}
static void r_rmsnorm(int b, double *y) { double g[GF]; event_g(b, g); ref_rmsnorm(g, GF, "y", 1.1920928955078125e-07, y); }
static void r_rmsnorm_set(int b, double *y)          /* eps 0.5, pool sum */
{
    memset(y, 0, sizeof(double) * XF);
    for (int r = 0; r < xn[b]; ++r) {
        double x[XF], h[XF];
        event_x(b, r, x);
        ref_rmsnorm(x, XF, "r", 0.5, h);
        for (int f = 0; f < XF; ++f) y[f] += h[f];
    }
}
static void r_rmsnorm_fixed(int b, double *y)        /* every slot of p, zero rows included */
{
    for (int r = 0; r < PMAX; ++r) {
        double x[PF];
        for (int f = 0; f < PF; ++f) x[f] = ps[b][r][f];
        ref_rmsnorm(x, PF, "r", 1.1920928955078125e-07, y + r * PF);
    }
}
static double mean_of(const float *v, int n) { double s = 0; for (int i = 0; i < n; ++i) s += v[i]; return s / n; }
static void r_feature_mean(int b, double *y) { y[0] = mean_of(gs[b], GF); }
static void r_feature_mean_set(int b, double *y)     /* pool max */
{
    y[0] = xn[b] ? -1e30 : 0;
    for (int r = 0; r < xn[b]; ++r) y[0] = fmax(y[0], mean_of(xs[b][r], XF));
}
static void r_feature_mean_fixed(int b, double *y) { for (int r = 0; r < PMAX; ++r) y[r] = mean_of(ps[b][r], PF); }
static void r_feature_mean_pairs(int b, double *y)
{
    for (int a = 0; a < PMAX; ++a)
        for (int c = 0; c < PMAX; ++c) y[a * PMAX + c] = mean_of(ppf[b][a][c], NPF);
}

/* IAFormer's six pair features of rows a, c < n of one event's 4-vectors, in double: η = asinh(pz/pT),
 * Δφ wrapped to [−π, π), the jet the 4-vector sum of the real (E > 0) rows, x ≤ 0 → 1e-5 before each log;
 * all zero on the diagonal and where either row is padding. */
static double ia_log(double x) { return log(x > 0 ? x : 1e-5); }
static void ref_ia_pair_features(const float (*v)[4], int n, int a, int c, double *f)
{
    for (int k = 0; k < NPF; ++k) f[k] = 0;
    if (a == c || !(v[a][3] > 0) || !(v[c][3] > 0)) return;
    double jx = 0, jy = 0, je = 0;
    for (int r = 0; r < n; ++r)
        if (v[r][3] > 0) { jx += v[r][0]; jy += v[r][1]; je += v[r][3]; }
    double pta = hypot(v[a][0], v[a][1]), ptc = hypot(v[c][0], v[c][1]);
    double deta = asinh(v[a][2] / pta) - asinh(v[c][2] / ptc);
    double dphi = atan2(v[a][1], v[a][0]) - atan2(v[c][1], v[c][0]);
    while (dphi >= M_PI) dphi -= 2 * M_PI;
    while (dphi < -M_PI) dphi += 2 * M_PI;
    double dr = sqrt(deta * deta + dphi * dphi), ptmin = fmin(pta, ptc);
    double e = (double)v[a][3] + v[c][3], sx = (double)v[a][0] + v[c][0], sy = (double)v[a][1] + v[c][1],
           sz = (double)v[a][2] + v[c][2];
    f[0] = ia_log(dr);
    f[1] = ia_log(ptmin * dr);
    f[2] = ia_log(ptmin / (pta + ptc));
    f[3] = ia_log(e * e - sx * sx - sy * sy - sz * sz);
    f[4] = ia_log((pta + ptc) / hypot(jx, jy));
    f[5] = ia_log(e / je);
}
static void r_ia_pairs_fixed(int b, double *y)       /* flattened [max][max][6] of p */
{
    for (int a = 0; a < PMAX; ++a)
        for (int c = 0; c < PMAX; ++c) ref_ia_pair_features((const float (*)[4])pp4[b], PMAX, a, c, y + (a * PMAX + c) * NPF);
}
static void r_ia_pairs_masked(int b, double *y)      /* [max][max][6] of q; padded pairs undefined */
{
    for (int a = 0; a < QMAX; ++a)
        for (int c = 0; c < QMAX; ++c) {
            double *f = y + (a * QMAX + c) * NPF;
            if (a < qn[b] && c < qn[b]) ref_ia_pair_features((const float (*)[4])qp4[b], qn[b], a, c, f);
            else for (int k = 0; k < NPF; ++k) f[k] = NAN;
        }
}

/* interaction_logits of one pair's features f: GELU(linear) per embedding layer, then each projection. */
static void ref_interaction(const double *f, const char *layer, int nf, const int *dims, int nd, const int *outs, int np,
                            double *L)
{
    double h[2][64];
    char name[128];
    memcpy(h[0], f, sizeof(double) * nf);
    int in = nf, cur = 0;
    for (int k = 0; k < nd; ++k) {
        snprintf(name, sizeof name, "%s.embed.%d", layer, 2 * k);
        ref_linear(h[cur], in, name, dims[k], 1, h[!cur]);
        cur = !cur;
        for (int o = 0; o < dims[k]; ++o) h[cur][o] = gelu(h[cur][o]);
        in = dims[k];
    }
    for (int l = 0, o0 = 0; l < np; o0 += outs[l++]) {
        snprintf(name, sizeof name, "%s.proj.%d", layer, l);
        ref_linear(h[cur], in, name, outs[l], 1, L + o0);
    }
}
/* All logit maps of one event, channel-major L[Σouts][max][max], for pairs a, c < n, from pair features
 * given per pair by `feat`. */
typedef void (*pair_feat_fn)(int b, int a, int c, double *f);
static void ref_logit_maps(int b, pair_feat_fn feat, int n, int max, const char *layer, int nf, const int *dims, int nd,
                           const int *outs, int np, double *L)
{
    int total = 0;
    for (int l = 0; l < np; ++l) total += outs[l];
    for (int a = 0; a < n; ++a)
        for (int c = 0; c < n; ++c) {
            double f[NPF], l[64];
            feat(b, a, c, f);
            ref_interaction(f, layer, nf, dims, nd, outs, np, l);
            for (int o = 0; o < total; ++o) L[((size_t)o * max + a) * max + c] = l[o];
        }
}
static void feat_pp(int b, int a, int c, double *f) { for (int k = 0; k < NPF; ++k) f[k] = ppf[b][a][c][k]; }
static void feat_qq(int b, int a, int c, double *f) { for (int k = 0; k < NPF; ++k) f[k] = qqf[b][a][c][k]; }
static void feat_ia_p(int b, int a, int c, double *f) { ref_ia_pair_features((const float (*)[4])pp4[b], PMAX, a, c, f); }
static void feat_ia_q(int b, int a, int c, double *f) { ref_ia_pair_features((const float (*)[4])qp4[b], qn[b], a, c, f); }

static const int il_dims[] = { 8, 6 }, il_outs[] = { 2, 4 };
static void r_interaction_fixed(int b, double *y)    /* interaction_logits of pp, flattened channel-major */
{
    ref_logit_maps(b, feat_pp, PMAX, PMAX, "il", NPF, il_dims, 2, il_outs, 2, y);
}
static void r_interaction_ia_fixed(int b, double *y)  /* of iaformer_pair_features of p */
{
    ref_logit_maps(b, feat_ia_p, PMAX, PMAX, "il", NPF, il_dims, 2, il_outs, 2, y);
}

/* β = min(1, (1 − e^(−1/depth))·exp(Σ λq·λk)) of layer `layer` */
static double ref_beta(const char *layer, int len, int depth)
{
    char qn_[128], kn[128];
    snprintf(qn_, sizeof qn_, "%s.lambda_q1", layer);
    snprintf(kn, sizeof kn, "%s.lambda_k1", layer);
    double dot = 0;
    for (int k = 0; k < len; ++k) dot += (double)W(qn_)[k] * W(kn)[k];
    return fmin(1.0, (1 - exp(-1.0 / depth)) * exp(dot));
}
/* out_h[i] = Σ_j (softmax_j L[map0 + 2h][i][·] − β·softmax_j L[map0 + 2h + 1][i][·]) v[j][h·dv …] over i, j < n */
static void ref_diff_attention(int n, int max, const double *L, int map0, int heads, const double *v, int D, double beta,
                               double *out)
{
    int dv = D / heads;
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < heads; ++h) {
            double s[2][16], z[2] = { 0, 0 }, m[2] = { -1e300, -1e300 };
            for (int u = 0; u < 2; ++u) {
                const double *row = L + ((size_t)(map0 + 2 * h + u) * max + i) * max;
                for (int j = 0; j < n; ++j) m[u] = fmax(m[u], row[j]);
                for (int j = 0; j < n; ++j) z[u] += s[u][j] = exp(row[j] - m[u]);
            }
            for (int t = 0; t < dv; ++t) {
                double acc = 0;
                for (int j = 0; j < n; ++j) acc += (s[0][j] / z[0] - beta * s[1][j] / z[1]) * v[j * D + h * dv + t];
                out[i * D + h * dv + t] = acc;
            }
        }
}
/* pp → interaction_logits il (dims [8, 6], outputs [4, 4]) → differential_attention of v = linear(p, 6),
 * 2 heads of layer 1 (maps 4..7), depth 2, λ length 5 → flatten: every slot of p. */
static void r_diff_fixed(int b, double *y)
{
    static const int outs[] = { 4, 4 };
    static double L[8 * PMAX * PMAX];
    double v[PMAX * 6];
    ref_logit_maps(b, feat_pp, PMAX, PMAX, "il", NPF, il_dims, 2, outs, 2, L);
    for (int r = 0; r < PMAX; ++r) {
        double x[PF];
        for (int f = 0; f < PF; ++f) x[f] = ps[b][r][f];
        ref_linear(x, PF, "v", 6, 1, v + r * 6);
    }
    ref_diff_attention(PMAX, PMAX, L, 4, 2, v, 6, ref_beta("da", 5, 2), y);
}
/* the same with 1 head of layer 0 (maps 0, 1) of outputs [2, 4], depth 1 */
static void r_diff_fixed_l0(int b, double *y)
{
    static double L[6 * PMAX * PMAX];
    double v[PMAX * 6];
    ref_logit_maps(b, feat_pp, PMAX, PMAX, "il", NPF, il_dims, 2, il_outs, 2, L);
    for (int r = 0; r < PMAX; ++r) {
        double x[PF];
        for (int f = 0; f < PF; ++f) x[f] = ps[b][r][f];
        ref_linear(x, PF, "v", 6, 1, v + r * 6);
    }
    ref_diff_attention(PMAX, PMAX, L, 0, 1, v, 6, ref_beta("da", 5, 1), y);
}
/* masked q: pair features `feat` → interaction_logits (dims [6], outputs [4]) → differential_attention of
 * v = linear(q, 4), 2 heads, depth 3, λ length 4 → pool sum. */
static void r_diff_masked_with(int b, double *y, pair_feat_fn feat)
{
    static const int dims[] = { 6 }, outs[] = { 4 };
    static double L[4 * QMAX * QMAX];
    double v[QMAX * 4], o[QMAX * 4];
    int n = qn[b];
    ref_logit_maps(b, feat, n, QMAX, "il", NPF, dims, 1, outs, 1, L);
    for (int r = 0; r < n; ++r) {
        double x[QF];
        for (int f = 0; f < QF; ++f) x[f] = qs[b][r][f];
        ref_linear(x, QF, "v", 4, 1, v + r * 4);
    }
    ref_diff_attention(n, QMAX, L, 0, 2, v, 4, ref_beta("da", 4, 3), o);
    for (int t = 0; t < 4; ++t) {
        y[t] = 0;
        for (int r = 0; r < n; ++r) y[t] += o[r * 4 + t];
    }
}
static void r_diff_masked(int b, double *y) { r_diff_masked_with(b, y, feat_qq); }
static void r_diff_masked_ia(int b, double *y) { r_diff_masked_with(b, y, feat_ia_q); }

/* Tolerances: a few float32 ulps of the largest value formed (sums over up to 7 rows reach ~10, so
 * ~1e-6; layernorm and per-row stacks divide and accumulate more, 1e-5); 0 where an op only moves or
 * compares data. The references run in double on the same float inputs and weights. */
static const op_case cases[] = {
    { "linear (per event)", "  - {name: y, op: linear, in: g, out: 9}\n", 9, 2e-6, r_linear_global },
    { "linear without bias (per particle) + pool sum",
      "  - {name: h, op: linear, in: x, out: 4, bias: false}\n  - {name: y, op: pool, in: h, mode: sum}\n", 4, 1e-5, r_linear_set },
    { "layernorm", "  - {name: y, op: layernorm, in: g}\n", GF, 1e-5, r_layernorm },
    { "layernorm (per particle) + pool max",
      "  - {name: ln, op: layernorm, in: x}\n  - {name: y, op: pool, in: ln, mode: max}\n", XF, 1e-5, r_layernorm_set },
    { "batchnorm", "  - {name: y, op: batchnorm, in: g}\n", GF, 2e-6, r_batchnorm },
    { "linear + batchnorm + relu (folded, fused)",
      "  - {name: h, op: linear, in: g, out: 5}\n  - {name: bn, op: batchnorm, in: h}\n  - {name: y, op: relu, in: bn}\n",
      5, 1e-5, r_linear_bn },
    { "relu", "  - {name: y, op: relu, in: g}\n", GF, 0, r_relu },
    { "gelu", "  - {name: y, op: gelu, in: g}\n", GF, 1e-6, r_gelu },
    { "softmax", "  - {name: y, op: softmax, in: g}\n", GF, 1e-6, r_softmax },
    { "add", "  - {name: h, op: linear, in: g, out: 6}\n  - {name: y, op: add, in: [h, g]}\n", GF, 2e-6, r_add },
    { "concat", "  - {name: h, op: linear, in: g, out: 3}\n  - {name: y, op: concat, in: [g, h]}\n", GF + 3, 2e-6, r_concat },
    { "slice by feature names", "  - {name: y, op: slice, in: g, features: [g4, g0, g4]}\n", 3, 0, r_slice_names },
    { "slice by range", "  - {name: y, op: slice, in: g, range: [1, 4]}\n", 3, 0, r_slice_range },
    { "flatten", "  - {name: y, op: flatten, in: o}\n", OMAX * OF, 0, r_flatten },
    { "pool sum", "  - {name: y, op: pool, in: x, mode: sum}\n", XF, 2e-6, r_pool_sum },
    { "pool mean", "  - {name: y, op: pool, in: x, mode: mean}\n", XF, 1e-6, r_pool_mean },
    { "pool max", "  - {name: y, op: pool, in: x, mode: max}\n", XF, 0, r_pool_max },
    { "mlp gelu (per particle) + pool mean",
      "  - {name: m, op: mlp, in: x, dims: [8, 5], activation: gelu}\n  - {name: y, op: pool, in: m, mode: mean}\n", 5, 1e-5, r_mlp_set },
    { "mlp without activation", "  - {name: y, op: mlp, in: g, dims: [7, 3], activation: none}\n", 3, 2e-6, r_mlp_none },
    { "sigmoid", "  - {name: y, op: sigmoid, in: g}\n", GF, 1e-6, r_sigmoid },
    { "position_embed", "  - {name: y, op: position_embed, in: g, dim: 3}\n", GF + 3, 0, r_position_embed },
    { "vector_normalize (log on o1, o3) + flatten",
      "  - {name: v, op: vector_normalize, in: o, log: [o1, o3]}\n  - {name: y, op: flatten, in: v}\n", OMAX * OF, 1e-5,
      r_vector_normalize },
    { "denormalize (log_gaussian)",       /* 2·sinh(·) reaches ~65 on these inputs (ulp 7.6e-6): a few ulps */
      "  - {name: h, op: linear, in: g, out: 1}\n  - {name: y, op: denormalize, in: h, type: log_gaussian}\n", 1, 1e-4,
      r_denormalize },
    { "token_prepend + token_take (token)",
      "  - {name: t, op: token_prepend, in: x}\n  - {name: y, op: token_take, in: t, part: token}\n", XF, 0, r_token },
    { "set_prepend + token_prepend + token_take rows + pool",
      "  - {name: h, op: linear, in: g, out: 5}\n  - {name: s, op: set_prepend, in: [h, x]}\n"
      "  - {name: t, op: token_prepend, in: s}\n  - {name: r, op: token_take, in: t, part: rows}\n"
      "  - {name: y, op: pool, in: r, mode: sum}\n", XF, 2e-6, r_pool_sum },
    { "set_prepend + layernorm (lead row) + token_take set + pool",
      "  - {name: h, op: linear, in: g, out: 5}\n  - {name: s, op: set_prepend, in: [h, x]}\n"
      "  - {name: l, op: layernorm, in: s}\n  - {name: r, op: token_take, in: l, part: set}\n"
      "  - {name: y, op: pool, in: r, mode: sum}\n", XF, 1e-5, r_lead_layernorm_set },
    { "set_prepend + layernorm (lead row) + token_take token",
      "  - {name: h, op: linear, in: g, out: 5}\n  - {name: s, op: set_prepend, in: [h, x]}\n"
      "  - {name: l, op: layernorm, in: s}\n  - {name: y, op: token_take, in: l, part: token}\n", XF, 1e-5,
      r_lead_layernorm_token },
    /* IAFormer's primitives */
    { "rmsnorm", "  - {name: y, op: rmsnorm, in: g}\n", GF, 2e-6, r_rmsnorm },
    { "rmsnorm eps 0.5 (per particle) + pool sum",
      "  - {name: r, op: rmsnorm, in: x, eps: 0.5}\n  - {name: y, op: pool, in: r, mode: sum}\n", XF, 1e-5, r_rmsnorm_set },
    { "rmsnorm (no mask, zero rows) + flatten",
      "  - {name: r, op: rmsnorm, in: p}\n  - {name: y, op: flatten, in: r}\n", PMAX * PF, 2e-6, r_rmsnorm_fixed },
    { "feature_mean", "  - {name: y, op: feature_mean, in: g}\n", 1, 1e-6, r_feature_mean },
    { "feature_mean (per particle) + pool max",
      "  - {name: m, op: feature_mean, in: x}\n  - {name: y, op: pool, in: m, mode: max}\n", 1, 1e-6, r_feature_mean_set },
    { "feature_mean (no mask) + flatten",
      "  - {name: m, op: feature_mean, in: p}\n  - {name: y, op: flatten, in: m}\n", PMAX, 1e-6, r_feature_mean_fixed },
    { "feature_mean (pair input) + flatten",
      "  - {name: m, op: feature_mean, in: pp}\n  - {name: y, op: flatten, in: m}\n", PMAX * PMAX, 1e-6, r_feature_mean_pairs },
    /* float32 logs of float32 kinematics, as upstream: ~1e-5 relative on ln m² of the least massive pairs */
    { "iaformer_pair_features (no mask, padding) + flatten",
      "  - {name: f, op: iaformer_pair_features, in: p}\n  - {name: y, op: flatten, in: f}\n", PMAX * PMAX * NPF, 1e-4,
      r_ia_pairs_fixed },
    { "iaformer_pair_features (masked, as output)",
      "  - {name: y, op: iaformer_pair_features, in: q}\n", QMAX * QMAX * NPF, 1e-4, r_ia_pairs_masked },
    { "interaction_logits (pair input) + flatten",
      "  - {name: il, op: interaction_logits, in: pp, dims: [8, 6], outputs: [2, 4]}\n  - {name: y, op: flatten, in: il}\n",
      6 * PMAX * PMAX, 1e-5, r_interaction_fixed },
    { "iaformer_pair_features + interaction_logits + flatten",
      "  - {name: f, op: iaformer_pair_features, in: p}\n"
      "  - {name: il, op: interaction_logits, in: f, dims: [8, 6], outputs: [2, 4]}\n  - {name: y, op: flatten, in: il}\n",
      6 * PMAX * PMAX, 1e-4, r_interaction_ia_fixed },
    { "differential_attention (layer 1, beta < 1) + flatten",
      "  - {name: il, op: interaction_logits, in: pp, dims: [8, 6], outputs: [4, 4]}\n"
      "  - {name: v, op: linear, in: p, out: 6}\n"
      "  - {name: da, op: differential_attention, in: v, logits: il, heads: 2, layer: 1, depth: 2, lambda_len: 5}\n"
      "  - {name: y, op: flatten, in: da}\n", PMAX * 6, 1e-5, r_diff_fixed },
    { "differential_attention (layer 0, beta clamped to 1) + flatten",
      "  - {name: il, op: interaction_logits, in: pp, dims: [8, 6], outputs: [2, 4]}\n"
      "  - {name: v, op: linear, in: p, out: 6}\n"
      "  - {name: da, op: differential_attention, in: v, logits: il, heads: 1, depth: 1, lambda_len: 5}\n"
      "  - {name: y, op: flatten, in: da}\n", PMAX * 6, 1e-5, r_diff_fixed_l0 },
    { "differential_attention (masked, pair input) + pool sum",
      "  - {name: il, op: interaction_logits, in: qq, dims: [6], outputs: [4]}\n"
      "  - {name: v, op: linear, in: q, out: 4}\n"
      "  - {name: da, op: differential_attention, in: v, logits: il, heads: 2, depth: 3, lambda_len: 4}\n"
      "  - {name: y, op: pool, in: da, mode: sum}\n", 4, 1e-5, r_diff_masked },
    { "iaformer_pair_features (masked) + interaction_logits + diff attention",
      "  - {name: f, op: iaformer_pair_features, in: q}\n"
      "  - {name: il, op: interaction_logits, in: f, dims: [6], outputs: [4]}\n"
      "  - {name: v, op: linear, in: q, out: 4}\n"
      "  - {name: da, op: differential_attention, in: v, logits: il, heads: 2, depth: 3, lambda_len: 4}\n"
      "  - {name: y, op: pool, in: da, mode: sum}\n", 4, 1e-4, r_diff_masked_ia },
};

/* A massive-ish particle (m ≥ 2 GeV, pT ≤ 20 GeV, so ln m² stays well conditioned in float32): around
 * (η_J, φ_J) within ±0.5 when `around`, else anywhere in |η| < 1.5 and φ. φ is formed through cos and sin,
 * so a jet at φ_J = 3 has particles on both sides of ±π and Δφ needs its wrap. */
static void random_p4(float *v, int around, double etaj, double phij)
{
    double pt = uniform(1, 20), m = uniform(2, 10);
    double eta = around ? etaj + uniform(-0.5, 0.5) : uniform(-1.5, 1.5);
    double phi = around ? phij + uniform(-0.5, 0.5) : uniform(-M_PI, M_PI);
    v[0] = (float)(pt * cos(phi));
    v[1] = (float)(pt * sin(phi));
    v[2] = (float)(pt * sinh(eta));
    v[3] = (float)sqrt(pt * pt * cosh(eta) * cosh(eta) + m * m);
}

/* One event's 4-vectors of the rows with real[r] (the others zero): isotropic, or a jet around a random
 * direction or across φ = ±π; in some events the second real row repeats the first (ΔR = 0, so ln ΔR and
 * ln kT take the 1e-5 floor). Redrawn while the jet's pT is under a tenth of the scalar sum, so that
 * ln(Σ pT/pT_J) is not a float32 cancellation. */
static void random_jet(int b, float (*v)[4], const int *real, int max)
{
    for (;;) {
        int style = (int)uniform(0, 3);
        double etaj = uniform(-1, 1), phij = style == 2 ? 3.0 : uniform(-M_PI, M_PI), jx = 0, jy = 0, spt = 0;
        int first = -1, k = 0;
        for (int r = 0; r < max; ++r) {
            for (int c = 0; c < 4; ++c) v[r][c] = 0;
            if (!real[r]) continue;
            random_p4(v[r], style != 0, etaj, phij);
            if (k++ == 1 && b % 5 == 3) memcpy(v[r], v[first], sizeof v[r]);
            if (first < 0) first = r;
            jx += v[r][0], jy += v[r][1], spt += hypot(v[r][0], v[r][1]);
        }
        if (k < 2 || hypot(jx, jy) >= 0.1 * spt) return;
    }
}

/* Symmetric pair features of real rows: random, zero on the diagonal and for padded rows; some real
 * pairs all zero (the kernel's shortcut away from the diagonal), some with one feature zero. */
static void random_pairs(int b, float *f, const int *real, int max)
{
    for (int a = 0; a < max; ++a)
        for (int c = 0; c <= a; ++c) {
            float *fa = f + ((size_t)a * max + c) * NPF, *fc = f + ((size_t)c * max + a) * NPF;
            int kind = (a + 2 * c + b) % 7;
            for (int k = 0; k < NPF; ++k) {
                float x = a == c || !real[a] || !real[c] || kind == 0 ? 0.0f : (float)uniform(-1.5, 1.5);
                if (kind == 1 && k == (a * c + b) % NPF) x = 0.0f;
                fa[k] = fc[k] = x;
            }
        }
}

static int event_count(int b, int max)
{
    int n = b == 0 ? 0 : b == 1 ? 1 : b == 2 ? max : (int)uniform(0, max + 1);
    return n > max ? max : n;
}

/* p: no mask, padded rows zero (at the end, or anywhere in odd events); q: masked, rows ≥ n NaN, and in
 * some events a row inside the count with E = 0 but a momentum (padding by E ≤ 0, out of the jet). */
static void fill_iaformer_inputs(void)
{
    for (int b = 0; b < B; ++b) {
        int k = event_count(b, PMAX), real[PMAX] = { 0 };
        if (b % 2 && b > 2)
            for (int placed = 0; placed < k;) {
                int r = (int)uniform(0, PMAX);
                if (r < PMAX && !real[r]) real[r] = 1, ++placed;
            }
        else
            for (int r = 0; r < k; ++r) real[r] = 1;
        for (int r = 0; r < PMAX; ++r)
            for (int f = 0; f < PF; ++f) ps[b][r][f] = real[r] ? (float)uniform(-1.5, 1.5) : 0.0f;
        random_jet(b, pp4[b], real, PMAX);
        random_pairs(b, &ppf[b][0][0][0], real, PMAX);

        int n = qn[b] = event_count(b, QMAX), qreal[QMAX] = { 0 };
        for (int r = 0; r < n; ++r) qreal[r] = !(b % 4 == 3 && n >= 3 && r == 1);
        random_jet(b, qp4[b], qreal, QMAX);
        for (int r = 0; r < n; ++r)               /* E = 0 with a momentum: padding, kept out of the jet */
            if (!qreal[r]) qp4[b][r][0] = 3.0f, qp4[b][r][1] = -4.0f, qp4[b][r][2] = 1.0f;
        for (int r = 0; r < QMAX; ++r)
            for (int f = 0; f < QF; ++f) qs[b][r][f] = r < n ? (float)uniform(-1.5, 1.5) : NAN;
        for (int r = n; r < QMAX; ++r)
            for (int c = 0; c < 4; ++c) qp4[b][r][c] = NAN;
        for (int r = 0; r < n; ++r) qreal[r] = 1;      /* pair input: every row < n real */
        random_pairs(b, &qqf[b][0][0][0], qreal, QMAX);
        for (int a = 0; a < QMAX; ++a)
            for (int c = 0; c < QMAX; ++c)
                if (a >= n || c >= n)
                    for (int f = 0; f < NPF; ++f) qqf[b][a][c][f] = NAN;
    }
}

static void fill_inputs(void)
{
    for (int b = 0; b < B; ++b) {
        xn[b] = b == 0 ? 0 : b == 1 ? 1 : b == 2 ? XMAX : (int)uniform(0, XMAX + 1);
        if (xn[b] > XMAX) xn[b] = XMAX;
        for (int r = 0; r < XMAX; ++r)
            for (int f = 0; f < XF; ++f) xs[b][r][f] = r < xn[b] ? (float)uniform(-1.5, 1.5) : NAN;
        for (int f = 0; f < GF; ++f) gs[b][f] = (float)uniform(-2, 2);
        for (int r = 0; r < OMAX; ++r)
            for (int f = 0; f < OF; ++f) os[b][r][f] = (float)uniform(-1, 1);
    }
    fill_iaformer_inputs();
}

/* Σ λq·λk that a differential attention case sets (0: random weights): β = (1 − e^(−1/depth))·e^dot is
 * 0.39·e^−1 = 0.14 (depth 2), min(1, 0.63·e^2 = 4.7) = 1 (the clamp, depth 1), 0.28·e^0.3 = 0.38 (depth 3). */
static double case_lambda_dot(const op_case *c)
{
    return c->ref == r_diff_fixed ? -1.0 : c->ref == r_diff_fixed_l0 ? 2.0 : c->ref == r_diff_masked ? 0.3 : 0.0;
}

/* The buffers and counts of each input of the model, by name. */
static int bind_inputs(const hn_model_entry *m, const float **inputs, const int32_t **counts)
{
    static const struct { const char *name; const float *x; const int32_t *n; } known[] = {
        { "x", &xs[0][0][0], xn }, { "g", &gs[0][0], NULL }, { "o", &os[0][0][0], NULL },
        { "p", &ps[0][0][0], NULL }, { "p_p4", &pp4[0][0][0], NULL }, { "pp", &ppf[0][0][0][0], NULL },
        { "q", &qs[0][0][0], qn }, { "q_p4", &qp4[0][0][0], qn }, { "qq", &qqf[0][0][0][0], qn },
    };
    for (int i = 0; i < m->ninputs; ++i) {
        size_t k = 0;
        while (k < sizeof known / sizeof *known && strcmp(known[k].name, m->inputs[i].name)) ++k;
        if (k == sizeof known / sizeof *known) { fprintf(stderr, "test bug: input %s\n", m->inputs[i].name); return -1; }
        inputs[i] = known[k].x;
        counts[i] = known[k].n;
    }
    return 0;
}

static int run_case(const op_case *c, int use_cblas, const char *dir)
{
    char spec[256], wpath[256];
    snprintf(spec, sizeof spec, "%s/case.yaml", dir);
    snprintf(wpath, sizeof wpath, "%s/case.safetensors", dir);
    FILE *f = fopen(spec, "w");
    fprintf(f, "name: op_case\ninputs:\n  x: {max: %d, mask: true, features: [x0, x1, x2, x3, x4]}\n"
               "  g: {features: [g0, g1, g2, g3, g4, g5]}\n  o: {max: %d, features: [o0, o1, o2, o3]}\n"
               "  p: {max: %d, mask: false, vectors: true, features: [p0, p1, p2, p3]}\n"
               "  q: {max: %d, mask: true, vectors: true, features: [q0, q1, q2, q3]}\n"
               "  pp: {pairs: p, features: [f0, f1, f2, f3, f4, f5]}\n  qq: {pairs: q, features: [f0, f1, f2, f3, f4, f5]}\n"
               "layers:\n%s"
               "outputs:\n  y: y\n", XMAX, OMAX, PMAX, QMAX, c->layers);
    fclose(f);
    hn_model_build mb;
    if (hn_frontend(&mb, spec, NULL)) { hn_model_build_free(&mb); return -1; }
    if (make_weights(&mb.graph, wpath, case_lambda_dot(c))) return -1;
    hn_loaded_model lm;
    int rc = hn_build_and_open(&mb, use_cblas, &lm);
    hn_model_build_free(&mb);
    if (rc) return -1;
    const hn_model_entry *m = lm.entry;
    char err[512];
    void *model;
    if (m->load(&model, wpath, err, sizeof err)) { fprintf(stderr, "%s\n", err); return -1; }
    static float y[B * MAXOUT];
    for (size_t i = 0; i < sizeof y / sizeof *y; ++i) y[i] = -777.0f;     /* never a value of any case */
    const float *inputs[16];
    const int32_t *counts[16];
    float *outputs[1] = { y };
    void *ws = malloc(m->workspace_bytes(B) + 1);
    rc = c->width > MAXOUT || bind_inputs(m, inputs, counts) || m->infer(model, inputs, counts, B, outputs, ws);
    double worst = 0;
    int wb = 0, wk = 0;
    for (int b = 0; b < B && !rc; ++b) {
        static double ref[MAXOUT];
        c->ref(b, ref);
        for (int k = 0; k < c->width; ++k) {
            if (isnan(ref[k])) continue;                /* not defined (padded pairs of a masked set) */
            double d = fabs(ref[k] - y[b * c->width + k]);
            if (!(d <= worst)) { worst = d; wb = b; wk = k; }
        }
    }
    int ok = !rc && m->outputs[0].width == c->width && worst <= c->tol;
    printf("%s %-48s %-8s max |diff| %.2g (event %d, n(x)=%d, n(q)=%d, index %d), tolerance %g\n", ok ? "ok  " : "FAIL",
           c->what, use_cblas ? "openblas" : "loops", worst, wb, xn[wb], qn[wb], wk, c->tol);
    free(ws);
    m->release(model);
    hn_loaded_model_close(&lm);
    return ok ? 0 : 1;
}

int main(void)
{
    char dir[] = "/tmp/hepnc-ops-XXXXXX";
    if (!mkdtemp(dir)) return 2;
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("HEPNC_CACHE", cache, 1);
    fill_inputs();
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i)
        for (int cblas = 0; cblas < 2; ++cblas) run_case(&cases[i], cblas, dir) ? ++failed : ++passed;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!failed && system(cmd)) return 2;
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
