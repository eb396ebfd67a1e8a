/* test_train_class_attention.c — the GPU backward of the cls_attention op (templates/cuda/train_class_attention.cuh
 * through gpu/train_class_attention.c) against the C training code (templates/c/backward_class_attention.h's
 * hn_kb_class_attention, per event as NAME_train.c calls it), on random data: a few events per case with
 * varied counts (0, 1, max and between), D 16 … 48 with 2–5 heads, counts NULL, without dtoken and dx,
 * and more keys than a block has threads (and key rows than a column-sum chunk).
 *
 *   test_train_class_attention TEMPLATES_CUDA_DIR
 *
 * Per case: dtoken and dx compared over whole buffers (padding rows included: the GPU writes them 0, the
 * C step's zero-initialised value) within 1e-5 of the buffer's largest |value|; dW, dbias, dln_g, dln_b
 * start from the same nonzero values on both sides (the GPU must accumulate), compared within 1e-5 of
 * max(the buffer's largest |gradient|, 5% of the case's largest parameter gradient) — a gradient that is
 * zero in exact arithmetic (Σ dk = 0: b_k's) is rounding noise on both sides. The outputs and the scratch
 * start as NaN, so anything left unwritten (or read before written) fails; a guard after the scratch stays
 * untouched; a second run gives the same bytes. Exit 0 when every check holds, 1 when one fails, 77 where
 * no GPU (nor HEPNC_GPU_EMULATE) exists. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/gpu.h>
#include <hepnc/gpu_train_class_attention.h>

#include "unit_kernels.h"
#include "backward_class_attention.h"

#define TOL 1e-5
#define PARAM_FLOOR 0.05          /* parameter gradients: relative to max(own largest, 5% of the case's largest) */
#define GUARD 64                  /* floats after the scratch that must stay untouched */
#define MAXB 6                    /* events per case at most */

static double worst_act, worst_param;



/* The kernel source as the training step's NAME_train.cu holds it: the inference bodies (compiler/CMakeLists.txt's
 * HN_CUDA_TEMPLATE_FILES, in order; train.cuh uses some of them), train.cuh (the column sums), the training
 * kernels before this op's (their names must not clash), then the kernels under test. */
static char *kernel_source(const char *dir)
{
    static const char *const parts[] = { "common.cuh",    "linear.cuh", "packing.cuh",         "rows.cuh", "row_fusion.cuh",
                                         "attention.cuh", "pair.cuh",   "class_attention.cuh", "edgeconv.cuh",
                                         "train.cuh",     "train_attention.cuh", "train_class_attention.cuh" };
    return unit_kernel_source(dir, parts, sizeof parts / sizeof *parts);
}

static double max_abs(const float *p, size_t count)
{
    double m = 0.0;
    for (size_t i = 0; i < count; ++i) m = fmax(m, fabs((double)p[i]));
    return m;
}

/* max |gpu − ref| / max(scale, 1e-30) over count floats; NaN anywhere gives infinity. */
static double rel_diff(const float *gpu, const float *ref, size_t count, double scale)
{
    double worst = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double d = fabs((double)gpu[i] - (double)ref[i]);
        if (!(d == d) || isinf(d)) return INFINITY;
        worst = fmax(worst, d);
    }
    return worst / fmax(scale, 1e-30);
}

typedef struct tcase {
    const char *name;
    int batch, max, D, heads;
    int counts[MAXB];           /* ignored when all_real */
    int all_real;               /* n NULL */
    int no_dtoken, no_dx;       /* pass NULL for the activation gradients */
} tcase;

/* Host buffers of one case: inputs, the C results (activation grads; parameter grads from zero), the
 * parameter gradients' starting values, and the GPU's results of two runs. */
typedef struct host {
    float *token, *x, *W, *bias, *ln_g, *ln_b, *dy;
    float *dtok_c, *dx_c, *P_c;                 /* P: dW | dbias | dln_g | dln_b back to back */
    float *P0;
    float *dtok_g[2], *dx_g[2], *P_g[2];
    int cnt[MAXB];
} host;

/* Sizes of the parameter gradients' parts in P, in order. */
static void param_sizes(int D, size_t sz[4])
{
    sz[0] = (size_t)3 * D * D, sz[1] = (size_t)3 * D, sz[2] = (size_t)D, sz[3] = (size_t)D;
}

/* The C training code per event, as NAME_train.c calls it; dtoken, dx and the parameter grads start at 0. */
static void run_c(const tcase *c, host *h)
{
    const int D = c->D, max = c->max;
    size_t sz[4];
    param_sizes(D, sz);
    float *dW = h->P_c, *db = dW + sz[0], *dg = db + sz[1], *dbt = dg + sz[2];
    float *scratch = malloc(sizeof(float) * HN_KB_CLASS_ATTENTION_SCRATCH(max, D));
    for (int b = 0; b < c->batch; ++b)
        hn_kb_class_attention(h->token + (size_t)b * D, h->x + (size_t)b * max * D, h->cnt[b], D, c->heads, h->W, h->bias,
                              h->ln_g, h->ln_b, h->dy + (size_t)b * D, c->no_dtoken ? NULL : h->dtok_c + (size_t)b * D,
                              c->no_dx ? NULL : h->dx_c + (size_t)b * max * D, dW, db, dg, dbt, scratch);
    free(scratch);
}

/* Device buffers of one case. */
typedef struct dev {
    float *token, *x, *W, *bias, *ln_g, *ln_b, *dy, *dtok, *dx, *P, *scratch;
    int32_t *n;
} dev;

static int upload(hn_gpu *g, void **d, const void *h, size_t bytes, char *err, size_t errlen)
{
    return hn_gpu_alloc(g, d, bytes ? bytes : 4, err, errlen) || (h && hn_gpu_to_device(g, *d, h, bytes, err, errlen));
}

/* One GPU backward: outputs and scratch NaN, parameter grads P0 first; results (and the guard) to host. */
static int run_gpu(hn_gpu *g, const tcase *c, const dev *d, const host *h, int k, size_t n_scratch, float *guard, char *err,
                   size_t errlen)
{
    const int D = c->D;
    const size_t n_tok = (size_t)c->batch * D, n_x = n_tok * c->max, n_P = (size_t)3 * D * D + 5 * (size_t)D;
    size_t sz[4], big = n_scratch > n_x ? n_scratch : n_x;
    param_sizes(D, sz);
    float *nan = malloc(sizeof(float) * (big + 1));
    if (!nan) return -1;
    for (size_t i = 0; i <= big; ++i) nan[i] = NAN;
    float *dW = d->P, *db = dW + sz[0], *dg = db + sz[1], *dbt = dg + sz[2];
    int rc = hn_gpu_to_device(g, d->dtok, nan, sizeof(float) * n_tok, err, errlen) ||
             hn_gpu_to_device(g, d->dx, nan, sizeof(float) * (n_x ? n_x : 1), err, errlen) ||
             hn_gpu_to_device(g, d->scratch, nan, sizeof(float) * n_scratch, err, errlen) ||
             hn_gpu_to_device(g, d->P, h->P0, sizeof(float) * n_P, err, errlen) ||
             hn_gt_class_attention_backward(g, d->token, d->x, c->all_real ? NULL : d->n, c->batch, c->max, D, c->heads, d->W,
                                            d->bias, d->ln_g, d->ln_b, d->dy, c->no_dtoken ? NULL : d->dtok,
                                            c->no_dx ? NULL : d->dx, dW, db, dg, dbt, d->scratch, err, errlen) ||
             hn_gpu_sync(g, err, errlen) ||
             hn_gpu_to_host(g, h->dtok_g[k], d->dtok, sizeof(float) * n_tok, err, errlen) ||
             (n_x && hn_gpu_to_host(g, h->dx_g[k], d->dx, sizeof(float) * n_x, err, errlen)) ||
             hn_gpu_to_host(g, h->P_g[k], d->P, sizeof(float) * n_P, err, errlen) ||
             hn_gpu_to_host(g, guard, d->scratch + n_scratch, sizeof(float) * GUARD, err, errlen);
    free(nan);
    return rc ? -1 : 0;
}

static void check_act(const tcase *c, const char *what, const float *gpu, const float *ref, size_t count)
{
    double d = rel_diff(gpu, ref, count, max_abs(ref, count));
    worst_act = d > worst_act ? d : worst_act;
    report(d <= TOL, "%-32s %-7s max rel diff %.3g", c->name, what, d);
}

/* The parameter gradients: GPU (from P0) against P0 + the C gradients, each part relative to
 * max(its largest |C gradient|, 5% of the largest of all). */
static void check_params(const tcase *c, const host *h)
{
    static const char *const names[4] = { "dW", "dbias", "dln_g", "dln_b" };
    size_t sz[4], off = 0, n_P = (size_t)3 * c->D * c->D + 5 * (size_t)c->D;
    param_sizes(c->D, sz);
    float *ref = malloc(sizeof(float) * n_P);
    for (size_t i = 0; i < n_P; ++i) ref[i] = h->P0[i] + h->P_c[i];
    double all = max_abs(h->P_c, n_P);
    for (int k = 0; k < 4; ++k) {
        double d = rel_diff(h->P_g[0] + off, ref + off, sz[k], fmax(max_abs(h->P_c + off, sz[k]), PARAM_FLOOR * all));
        worst_param = d > worst_param ? d : worst_param;
        report(d <= TOL, "%-32s %-7s max rel diff %.3g (accumulated onto nonzero values)", c->name, names[k], d);
        off += sz[k];
    }
    free(ref);
}

static void run_case(hn_gpu *g, const tcase *c)
{
    char err[4096] = "";
    const int D = c->D, max = c->max;
    const size_t n_tok = (size_t)c->batch * D, n_x = n_tok * max, n_P = (size_t)3 * D * D + 5 * (size_t)D;
    const size_t n_scratch = hn_gt_class_attention_scratch_bytes(c->batch, max, D) / sizeof(float);
    host h = { 0 };
    for (int b = 0; b < c->batch; ++b) h.cnt[b] = c->all_real ? max : c->counts[b];
    h.token = malloc(sizeof(float) * n_tok), h.x = malloc(sizeof(float) * (n_x + 1)), h.dy = malloc(sizeof(float) * n_tok);
    h.W = malloc(sizeof(float) * 3 * D * D), h.bias = malloc(sizeof(float) * 3 * D);
    h.ln_g = malloc(sizeof(float) * D), h.ln_b = malloc(sizeof(float) * D);
    h.dtok_c = calloc(n_tok, sizeof(float)), h.dx_c = calloc(n_x + 1, sizeof(float)), h.P_c = calloc(n_P, sizeof(float));
    h.P0 = malloc(sizeof(float) * n_P);
    for (int k = 0; k < 2; ++k)
        h.dtok_g[k] = malloc(sizeof(float) * n_tok), h.dx_g[k] = malloc(sizeof(float) * (n_x + 1)),
        h.P_g[k] = malloc(sizeof(float) * n_P);
    unit_fill(h.token, n_tok, -1.5f, 1.5f);
    unit_fill(h.x, n_x, -1.5f, 1.5f);
    for (size_t i = 0; i < n_x; i += 3) h.x[i] += 2.0f;          /* rows with a mean away from 0 */
    unit_fill(h.W, (size_t)3 * D * D, -2.0f / sqrtf((float)D), 2.0f / sqrtf((float)D));
    unit_fill(h.bias, (size_t)3 * D, -0.3f, 0.3f);
    unit_fill(h.ln_g, D, 0.5f, 1.5f);
    unit_fill(h.ln_b, D, -0.3f, 0.3f);
    unit_fill(h.dy, n_tok, -1.0f, 1.0f);
    run_c(c, &h);
    float big = (float)max_abs(h.P_c, n_P);
    unit_fill(h.P0, n_P, -0.5f * big, 0.5f * big);                 /* starting values of the GPU's accumulation */

    dev d = { 0 };
    float guard[GUARD], guard_in[GUARD];
    unit_fill(guard_in, GUARD, 3.0f, 4.0f);
    int rc = upload(g, (void **)&d.token, h.token, sizeof(float) * n_tok, err, sizeof err) ||
             upload(g, (void **)&d.x, h.x, sizeof(float) * n_x, err, sizeof err) ||
             upload(g, (void **)&d.W, h.W, sizeof(float) * 3 * D * D, err, sizeof err) ||
             upload(g, (void **)&d.bias, h.bias, sizeof(float) * 3 * D, err, sizeof err) ||
             upload(g, (void **)&d.ln_g, h.ln_g, sizeof(float) * D, err, sizeof err) ||
             upload(g, (void **)&d.ln_b, h.ln_b, sizeof(float) * D, err, sizeof err) ||
             upload(g, (void **)&d.dy, h.dy, sizeof(float) * n_tok, err, sizeof err) ||
             upload(g, (void **)&d.n, h.cnt, sizeof(int32_t) * (size_t)c->batch, err, sizeof err) ||
             upload(g, (void **)&d.dtok, NULL, sizeof(float) * n_tok, err, sizeof err) ||
             upload(g, (void **)&d.dx, NULL, sizeof(float) * (n_x + 1), err, sizeof err) ||
             upload(g, (void **)&d.P, NULL, sizeof(float) * n_P, err, sizeof err) ||
             upload(g, (void **)&d.scratch, NULL, sizeof(float) * (n_scratch + GUARD), err, sizeof err) ||
             hn_gpu_to_device(g, d.scratch + n_scratch, guard_in, sizeof guard_in, err, sizeof err);
    if (!rc) rc = run_gpu(g, c, &d, &h, 0, n_scratch, guard, err, sizeof err);
    if (rc) report(0, "%-32s GPU run: %s", c->name, err);
    else {
        if (!c->no_dtoken) check_act(c, "dtoken", h.dtok_g[0], h.dtok_c, n_tok);
        if (!c->no_dx && n_x) check_act(c, "dx", h.dx_g[0], h.dx_c, n_x);
        check_params(c, &h);
        report(!memcmp(guard, guard_in, sizeof guard), "%-32s the scratch's %zu floats suffice (guard untouched)", c->name,
               n_scratch);
        rc = run_gpu(g, c, &d, &h, 1, n_scratch, guard, err, sizeof err);
        report(!rc && (c->no_dtoken || !memcmp(h.dtok_g[0], h.dtok_g[1], sizeof(float) * n_tok)) &&
                   (c->no_dx || !memcmp(h.dx_g[0], h.dx_g[1], sizeof(float) * n_x)) &&
                   !memcmp(h.P_g[0], h.P_g[1], sizeof(float) * n_P),
               "%-32s a second run gives the same bytes%s%s", c->name, rc ? ": " : "", rc ? err : "");
    }
    hn_gpu_free(g, d.token), hn_gpu_free(g, d.x), hn_gpu_free(g, d.W), hn_gpu_free(g, d.bias), hn_gpu_free(g, d.ln_g);
    hn_gpu_free(g, d.ln_b), hn_gpu_free(g, d.dy), hn_gpu_free(g, d.n), hn_gpu_free(g, d.dtok), hn_gpu_free(g, d.dx);
    hn_gpu_free(g, d.P), hn_gpu_free(g, d.scratch);
    free(h.token), free(h.x), free(h.dy), free(h.W), free(h.bias), free(h.ln_g), free(h.ln_b);
    free(h.dtok_c), free(h.dx_c), free(h.P_c), free(h.P0);
    for (int k = 0; k < 2; ++k) free(h.dtok_g[k]), free(h.dx_g[k]), free(h.P_g[k]);
}

/* Heads that do not split D are refused with a message; an empty batch does nothing. */
static void check_refusals(hn_gpu *g)
{
    char err[256] = "";
    float *p = NULL;
    int rc = hn_gt_class_attention_backward(g, p, p, NULL, 2, 4, 30, 4, p, p, p, p, p, p, p, p, p, p, p, p, err, sizeof err);
    report(rc == -1 && strstr(err, "heads"), "D 30 in 4 heads refused: %s", err);
    rc = hn_gt_class_attention_backward(g, p, p, NULL, 0, 4, 32, 4, p, p, p, p, p, p, p, p, p, p, p, p, err, sizeof err);
    report(rc == 0, "an empty batch does nothing");
}

int main(int argc, char **argv)
{
    unit_seed(0x9e3779b97f4a7c15ull);
    int rc;
    hn_gpu *g = unit_open(argc, argv, kernel_source, "unit_train_class_attention", &rc);
    if (!g) return rc;
    if (!hn_gpu_has_blas(g)) {
        printf("skipped: no cuBLAS (the class attention's backward needs its GEMMs)\n");
        hn_gpu_close(g);
        return 77;
    }

    static const tcase cases[] = {
        { "D16 h2 counts 6,0,1,3,5", 5, 6, 16, 2, { 6, 0, 1, 3, 5 }, 0, 0, 0 },
        { "D32 h4 counts 9,0,1,4", 4, 9, 32, 4, { 9, 0, 1, 4 }, 0, 0, 0 },
        { "D32 h2 counts NULL", 3, 5, 32, 2, { 0 }, 1, 0, 0 },
        { "D48 h3 counts 1,7,0", 3, 7, 48, 3, { 1, 7, 0 }, 0, 0, 0 },
        { "D16 h4 no dtoken, no dx", 3, 7, 16, 4, { 3, 0, 7 }, 0, 1, 1 },
        { "D16 h2 dx only, counts 2,5", 2, 5, 16, 2, { 2, 5 }, 0, 1, 0 },
        { "D20 h5 max 0 (token only)", 2, 0, 20, 5, { 0, 0 }, 0, 0, 0 },
        { "D16 h2 counts 140,77 (>1 block)", 2, 140, 16, 2, { 140, 77 }, 0, 0, 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) run_case(g, &cases[k]);
    check_refusals(g);
    hn_gpu_close(g);
    printf("%d checks, %d failed; worst relative difference: activation gradients %.3g, parameter gradients %.3g "
           "(tolerance %g)\n", checks, failures, worst_act, worst_param, TOL);
    return failures ? 1 : 0;
}
