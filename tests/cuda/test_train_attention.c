/* test_train_attention.c — the GPU training kernels of the attention op (templates/cuda/train_attention.cuh
 * through gpu/train_attention.c) against the C training code (templates/c/backward_attention.h, the loop
 * form), on random data: a few events per case with varied counts (0, 1, max and between), 2–4 heads,
 * head_dim 8, 16 (the specialised kernels) and 32, with and without the bias U, with and without dU,
 * counts NULL, and dropout on the probabilities (the C code's mask).
 *
 *   test_train_attention TEMPLATES_CUDA_DIR
 *
 * Per case: the forward's out, the backward's dqkv and dU compared over whole buffers (padding rows
 * included: the GPU writes them 0, the C step's zero-initialised value) within 1e-5 of the buffer's
 * largest |value|; the output buffers start as NaN, so anything left unwritten fails; a guard after the
 * scratch stays untouched; a second run gives the same bytes. Exit 0 when every check holds, 1 when one
 * fails, 77 where no GPU (nor HEPNC_GPU_EMULATE) exists. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/gpu.h>
#include <hepnc/gpu_train_attention.h>

#include "unit_kernels.h"
#include "backward_attention.h"

#define TOL 1e-5




/* The kernel source as the training step's NAME_train.cu holds it: the inference bodies (compiler/CMakeLists.txt's
 * HN_CUDA_TEMPLATE_FILES, in order), then the training kernels (train.cuh uses some of them). */
static char *kernel_source(const char *dir)
{
    static const char *const parts[] = { "common.cuh",    "linear.cuh", "packing.cuh",         "rows.cuh", "row_fusion.cuh",
                                         "attention.cuh", "pair.cuh",   "class_attention.cuh", "edgeconv.cuh",
                                         "train.cuh",     "train_attention.cuh" };
    return unit_kernel_source(dir, parts, sizeof parts / sizeof *parts);
}

static void fill_nan(float *p, size_t count)
{
    for (size_t i = 0; i < count; ++i) p[i] = NAN;
}

/* max |gpu − ref| / max(max |ref|, 1e-30) over count floats; NaN anywhere gives infinity. */
static double rel_diff(const float *gpu, const float *ref, size_t count)
{
    double big = 0.0, worst = 0.0;
    for (size_t i = 0; i < count; ++i) big = fmax(big, fabs((double)ref[i]));
    for (size_t i = 0; i < count; ++i) {
        double d = fabs((double)gpu[i] - (double)ref[i]);
        if (!(d == d) || isinf(d)) return INFINITY;
        worst = fmax(worst, d);
    }
    return worst / fmax(big, 1e-30);
}

typedef struct tcase {
    const char *name;
    int batch, max, heads, hd;
    int counts[6];              /* ignored when all_real */
    int all_real;               /* n NULL */
    int with_U, with_dU;
    float rate;                 /* dropout on the probabilities; 0: none */
} tcase;

static double worst_seen;

static void check_buf(const tcase *c, const char *what, const float *gpu, const float *ref, size_t count)
{
    double d = rel_diff(gpu, ref, count);
    worst_seen = d > worst_seen ? d : worst_seen;
    report(d <= TOL, "%-34s %-4s max rel diff %.3g", c->name, what, d);
}

/* Device buffers of one case. */
typedef struct dev {
    float *qkv, *U, *dout, *out, *dqkv, *dU, *scratch;
    int32_t *n;
} dev;

static int upload(hn_gpu *g, void **d, const void *h, size_t bytes, char *err, size_t errlen)
{
    return hn_gpu_alloc(g, d, bytes ? bytes : 4, err, errlen) || (h && hn_gpu_to_device(g, *d, h, bytes, err, errlen));
}

#define GUARD 64                  /* floats after the scratch that must stay untouched */

/* One GPU forward and backward; the outputs to host (dU only when wanted). */
static int run_gpu(hn_gpu *g, const tcase *c, const dev *d, const hn_gt_attn_dropout *dr, size_t n_out, size_t n_qkv,
                   size_t n_U, size_t n_scratch, float *out, float *dqkv, float *dU, float *guard, char *err, size_t errlen)
{
    float *nan = malloc(sizeof(float) * (n_qkv > n_U ? n_qkv : n_U));
    if (!nan) return -1;
    fill_nan(nan, n_qkv > n_U ? n_qkv : n_U);
    int rc = hn_gpu_to_device(g, d->out, nan, sizeof(float) * n_out, err, errlen) ||
             hn_gpu_to_device(g, d->dqkv, nan, sizeof(float) * n_qkv, err, errlen) ||
             (c->with_dU && hn_gpu_to_device(g, d->dU, nan, sizeof(float) * n_U, err, errlen)) ||
             hn_gt_attention_forward(g, d->qkv, c->with_U ? d->U : NULL, c->all_real ? NULL : d->n, c->batch, c->max, c->heads,
                                     c->hd, dr, d->out, err, errlen) ||
             hn_gt_attention_backward_dropout(g, d->qkv, c->with_U ? d->U : NULL, c->all_real ? NULL : d->n, c->batch, c->max,
                                              c->heads, c->hd, dr, d->dout, d->dqkv, c->with_dU ? d->dU : NULL, d->scratch,
                                              err, errlen) ||
             hn_gpu_sync(g, err, errlen) ||
             hn_gpu_to_host(g, out, d->out, sizeof(float) * n_out, err, errlen) ||
             hn_gpu_to_host(g, dqkv, d->dqkv, sizeof(float) * n_qkv, err, errlen) ||
             (c->with_dU && hn_gpu_to_host(g, dU, d->dU, sizeof(float) * n_U, err, errlen)) ||
             hn_gpu_to_host(g, guard, d->scratch + n_scratch, sizeof(float) * GUARD, err, errlen);
    free(nan);
    return rc ? -1 : 0;
}

/* The C training code per event, as NAME_train.c calls it; buffers start at zero (the C step's). */
static void run_c(const tcase *c, const int *cnt, const float *qkv, const float *U, const float *dout, uint64_t seed,
                  uint64_t key, float *out, float *dqkv, float *dU)
{
    const int D = c->heads * c->hd, max = c->max, per_u = c->heads * max * max;
    float scratch[HN_KB_ATTENTION_SCRATCH(128, 64)];   /* max ≤ 128, head_dim ≤ 64 */
    for (int b = 0; b < c->batch; ++b) {
        const hn_kt_attn_dropout dr = { c->rate, seed, key, (uint64_t)b * (uint64_t)per_u };
        const float *u = c->with_U ? U + (size_t)b * per_u : NULL;
        const float *x = qkv + (size_t)b * max * 3 * D;
        if (c->rate > 0.0f) hn_kt_attention_dropout(x, cnt[b], c->heads, c->hd, u, max, &dr, out + (size_t)b * max * D);
        else hn_k_attention(x, cnt[b], c->heads, c->hd, u, max, out + (size_t)b * max * D);
        float *du = c->with_dU ? dU + (size_t)b * per_u : NULL;
        if (du) memset(du, 0, sizeof(float) * (size_t)per_u);
        hn_kb_attention_dropout(x, cnt[b], c->heads, c->hd, u, max, c->rate > 0.0f ? &dr : NULL, dout + (size_t)b * max * D,
                                dqkv + (size_t)b * max * 3 * D, du, scratch);
    }
}

static void run_case(hn_gpu *g, const tcase *c)
{
    char err[4096] = "";
    const int D = c->heads * c->hd, max = c->max;
    const size_t n_qkv = (size_t)c->batch * max * 3 * D, n_out = (size_t)c->batch * max * D;
    const size_t n_U = (size_t)c->batch * c->heads * max * max;
    const size_t n_scratch = hn_gt_attention_scratch_bytes(c->batch, max, c->heads, c->with_dU) / sizeof(float);
    const uint64_t seed = 0x1234abcd5678ull, key = 0x9e3779b97f4a7c15ull;
    int cnt[6];
    for (int b = 0; b < c->batch; ++b) cnt[b] = c->all_real ? max : c->counts[b];

    float *qkv = malloc(sizeof(float) * n_qkv), *U = malloc(sizeof(float) * n_U), *dout = malloc(sizeof(float) * n_out);
    float *out_c = calloc(n_out, sizeof(float)), *dqkv_c = calloc(n_qkv, sizeof(float)), *dU_c = calloc(n_U, sizeof(float));
    float *out_g = malloc(sizeof(float) * n_out), *dqkv_g = malloc(sizeof(float) * n_qkv), *dU_g = malloc(sizeof(float) * n_U);
    float *out_2 = malloc(sizeof(float) * n_out), *dqkv_2 = malloc(sizeof(float) * n_qkv), *dU_2 = malloc(sizeof(float) * n_U);
    float guard[GUARD], guard_in[GUARD];
    unit_fill(qkv, n_qkv, -1.5f, 1.5f);
    unit_fill(U, n_U, -2.0f, 2.0f);
    unit_fill(dout, n_out, -1.0f, 1.0f);
    unit_fill(guard_in, GUARD, 3.0f, 4.0f);
    run_c(c, cnt, qkv, U, dout, seed, key, out_c, dqkv_c, dU_c);

    dev d = { 0 };
    const hn_gt_attn_dropout dr = { c->rate, seed, key, 0 };
    float *guard_dev;
    int rc = upload(g, (void **)&d.qkv, qkv, sizeof(float) * n_qkv, err, sizeof err) ||
             upload(g, (void **)&d.U, U, sizeof(float) * n_U, err, sizeof err) ||
             upload(g, (void **)&d.dout, dout, sizeof(float) * n_out, err, sizeof err) ||
             upload(g, (void **)&d.n, cnt, sizeof(int32_t) * (size_t)c->batch, err, sizeof err) ||
             upload(g, (void **)&d.out, NULL, sizeof(float) * n_out, err, sizeof err) ||
             upload(g, (void **)&d.dqkv, NULL, sizeof(float) * n_qkv, err, sizeof err) ||
             upload(g, (void **)&d.dU, NULL, sizeof(float) * n_U, err, sizeof err) ||
             upload(g, (void **)&d.scratch, NULL, sizeof(float) * (n_scratch + GUARD), err, sizeof err);
    if (!rc) {
        guard_dev = d.scratch + n_scratch;
        rc = hn_gpu_to_device(g, guard_dev, guard_in, sizeof guard_in, err, sizeof err);
    }
    if (!rc) rc = run_gpu(g, c, &d, c->rate > 0.0f ? &dr : NULL, n_out, n_qkv, n_U, n_scratch, out_g, dqkv_g, dU_g, guard, err,
                          sizeof err);
    if (rc) report(0, "%-34s GPU run: %s", c->name, err);
    else {
        check_buf(c, "out", out_g, out_c, n_out);
        check_buf(c, "dqkv", dqkv_g, dqkv_c, n_qkv);
        if (c->with_dU) check_buf(c, "dU", dU_g, dU_c, n_U);
        report(!memcmp(guard, guard_in, sizeof guard), "%-34s the scratch's %zu floats suffice (guard untouched)", c->name,
               n_scratch);
        rc = run_gpu(g, c, &d, c->rate > 0.0f ? &dr : NULL, n_out, n_qkv, n_U, n_scratch, out_2, dqkv_2, dU_2, guard, err,
                     sizeof err);
        report(!rc && !memcmp(out_g, out_2, sizeof(float) * n_out) && !memcmp(dqkv_g, dqkv_2, sizeof(float) * n_qkv) &&
                   (!c->with_dU || !memcmp(dU_g, dU_2, sizeof(float) * n_U)),
               "%-34s a second run gives the same bytes%s%s", c->name, rc ? ": " : "", rc ? err : "");
    }
    hn_gpu_free(g, d.qkv), hn_gpu_free(g, d.U), hn_gpu_free(g, d.dout), hn_gpu_free(g, d.n);
    hn_gpu_free(g, d.out), hn_gpu_free(g, d.dqkv), hn_gpu_free(g, d.dU), hn_gpu_free(g, d.scratch);
    free(qkv), free(U), free(dout), free(out_c), free(dqkv_c), free(dU_c);
    free(out_g), free(dqkv_g), free(dU_g), free(out_2), free(dqkv_2), free(dU_2);
}

/* A head_dim beyond the kernels' registers is refused with a message; an empty batch does nothing. */
static void check_refusals(hn_gpu *g)
{
    char err[256] = "";
    float *p = NULL;
    int rc = hn_gt_attention_backward(g, p, NULL, NULL, 1, 4, 2, 65, p, p, NULL, p, err, sizeof err);
    report(rc == -1 && strstr(err, "head_dim"), "head_dim 65 refused: %s", err);
    rc = hn_gt_attention_forward(g, p, NULL, NULL, 0, 4, 2, 16, NULL, p, err, sizeof err);
    report(rc == 0, "an empty batch does nothing");
}

int main(int argc, char **argv)
{
    unit_seed(0x2545f4914f6cdd1dull);
    int rc;
    hn_gpu *g = unit_open(argc, argv, kernel_source, "unit_train_attention", &rc);
    if (!g) return rc;

    static const tcase cases[] = {
        { "d8 U dU counts 7,0,1,4", 4, 7, 2, 8, { 7, 0, 1, 4 }, 0, 1, 1, 0.0f },
        { "d16 U dU counts 9,3,0,1,5", 5, 9, 4, 16, { 9, 3, 0, 1, 5 }, 0, 1, 1, 0.0f },
        { "d8 no U no dU counts 6,2,0", 3, 6, 3, 8, { 6, 2, 0 }, 0, 0, 0, 0.0f },
        { "d16 no U, dU counts 5,1,0", 3, 5, 2, 16, { 5, 1, 0 }, 0, 0, 1, 0.0f },
        { "d16 U no dU counts 8,4", 2, 8, 3, 16, { 8, 4 }, 0, 1, 0, 0.0f },
        { "d32 U dU counts NULL", 2, 6, 2, 32, { 0 }, 1, 1, 1, 0.0f },
        { "d8 U dU dropout 0.3 counts 8,0,5,1", 4, 8, 2, 8, { 8, 0, 5, 1 }, 0, 1, 1, 0.3f },
        { "d16 U dU dropout 0.5 counts 7,3", 2, 7, 4, 16, { 7, 3 }, 0, 1, 1, 0.5f },
        { "d16 no U no dU dropout 0.2 NULL", 2, 5, 2, 16, { 0 }, 1, 0, 0, 0.2f },
        { "d16 U dU dropout 0.1 counts 40,17,33", 3, 40, 4, 16, { 40, 17, 33 }, 0, 1, 1, 0.1f },   /* several blocks */
        /* several row blocks and tiles of 32 per event, counts at their edges */
        { "d16 U dU dropout 0.1 counts 100,33,64,65,0", 5, 100, 2, 16, { 100, 33, 64, 65, 0 }, 0, 1, 1, 0.1f },
        { "d32 U no dU counts 70,31", 2, 70, 2, 32, { 70, 31 }, 0, 1, 0, 0.0f },
        { "d8 no U dU counts NULL max 66", 2, 66, 3, 8, { 0 }, 1, 0, 1, 0.0f },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) run_case(g, &cases[k]);
    check_refusals(g);
    hn_gpu_close(g);
    printf("%d checks, %d failed; worst relative difference %.3g (tolerance %g)\n", checks, failures, worst_seen, TOL);
    return failures ? 1 : 0;
}
