/* test_ops.c — every op through the real pipeline (spec → IR → passes → generated C → cc → dlopen)
 * against a double-precision reference written here, on random inputs with random set sizes
 * (0, 1 and max included), with generated loops and with OpenBLAS.
 *
 * Each case is a small spec over three inputs: x, a masked set (max 7, 5 features); g, a per-event
 * vector (6 features); o, a fixed list (3 rows of 4 features). Set-valued results are pooled (sum) so
 * every real row is compared; padding rows hold NaN, so reading one fails the case. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hepnc/weights.h>

#include "build.h"
#include "driver.h"

enum { B = 23, XMAX = 7, XF = 5, GF = 6, OMAX = 3, OF = 4, MAXOUT = 64 };

static float xs[B][XMAX][XF], gs[B][GF], os[B][OMAX][OF];
static int32_t xn[B];

/* ---- weights: random values per parameter of the spec, looked up by name by the references ---- */
typedef struct weight { char name[96]; int64_t shape[2]; int ndim; float *v; } weight;
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

static int make_weights(const hn_graph *g, const char *path)
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
        w->v = malloc(sizeof(float) * (size_t)q->size);
        size_t len = strlen(q->name);
        int positive = strstr(q->name, "running_var") != NULL || (len > 4 && !strcmp(q->name + len - 4, ".std"));
        for (long i = 0; i < q->size; ++i) w->v[i] = (float)(positive ? uniform(0.3, 2.0) : uniform(-0.6, 0.6));
        outs[nweights] = (hn_tensor_out){ w->name, q->rank, { 0 }, w->v };
        for (int k = 0; k < q->rank; ++k) outs[nweights].shape[k] = q->dim[k];
        ++nweights;
    }
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
};

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
}

static int run_case(const op_case *c, int use_cblas, const char *dir)
{
    char spec[256], wpath[256];
    snprintf(spec, sizeof spec, "%s/case.yaml", dir);
    snprintf(wpath, sizeof wpath, "%s/case.safetensors", dir);
    FILE *f = fopen(spec, "w");
    fprintf(f, "name: op_case\ninputs:\n  x: {max: %d, mask: true, features: [x0, x1, x2, x3, x4]}\n"
               "  g: {features: [g0, g1, g2, g3, g4, g5]}\n  o: {max: %d, features: [o0, o1, o2, o3]}\nlayers:\n%s"
               "outputs:\n  y: y\n", XMAX, OMAX, c->layers);
    fclose(f);
    hn_model_build mb;
    if (hn_frontend(&mb, spec, NULL)) { hn_model_build_free(&mb); return -1; }
    if (make_weights(&mb.graph, wpath)) return -1;
    hn_loaded_model lm;
    int rc = hn_build_and_open(&mb, use_cblas, &lm);
    hn_model_build_free(&mb);
    if (rc) return -1;
    const hn_model_entry *m = lm.entry;
    char err[512];
    void *model;
    if (m->load(&model, wpath, err, sizeof err)) { fprintf(stderr, "%s\n", err); return -1; }
    static float y[B * MAXOUT];
    const float *inputs[3] = { &xs[0][0][0], &gs[0][0], &os[0][0][0] };
    const int32_t *counts[3] = { xn, NULL, NULL };
    float *outputs[1] = { y };
    void *ws = malloc(m->workspace_bytes(B) + 1);
    rc = m->infer(model, inputs, counts, B, outputs, ws);
    double worst = 0;
    int wb = 0, wk = 0;
    for (int b = 0; b < B && !rc; ++b) {
        double ref[MAXOUT];
        c->ref(b, ref);
        for (int k = 0; k < c->width; ++k) {
            double d = fabs(ref[k] - y[b * c->width + k]);
            if (!(d <= worst)) { worst = d; wb = b; wk = k; }
        }
    }
    int ok = !rc && m->outputs[0].width == c->width && worst <= c->tol;
    printf("%s %-48s %-8s max |diff| %.2g (event %d, n=%d, index %d), tolerance %g\n", ok ? "ok  " : "FAIL", c->what,
           use_cblas ? "openblas" : "loops", worst, wb, xn[wb], wk, c->tol);
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
