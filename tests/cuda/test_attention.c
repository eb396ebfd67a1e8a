/* test_attention.c — the inference attention kernel (templates/cuda/attention.cuh: a block per event, head and
 * 64 queries, keys, values and U through shared tiles of 32 keys) against the C kernel (templates/c/attention.h,
 * the loop form), on random data: several query blocks and key tiles per event (max up to 150), counts 0, 1,
 * a tile's edge (32, 33, 64, 65) and max, head widths 8, 16, 32 and 64, with and without U, counts NULL.
 *
 *   test_attention TEMPLATES_CUDA_DIR
 *
 * Per case: every real row of the output within 1e-5 of the largest |value|; the padding rows, which the
 * kernel must not write, still hold the NaN they started with; a second run gives the same bytes. Exit 0
 * when every check holds, 1 when one fails, 77 where no GPU (nor HEPNC_GPU_EMULATE) exists. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hepnc/gpu.h>

#include "unit_kernels.h"
#include "attention.h"

#define TOL 1e-5

/* The kernel bodies an inference NAME.cu starts with, then a wrapper per head width, as compiler/emit_cuda.c
 * writes them for an attention node. */
static char *kernel_source(const char *dir)
{
    static const char *const parts[] = { "common.cuh", "attention.cuh" };
    static const char wrappers[] =
        "extern \"C\" __global__ void attention_d8(const float *qkv, const int *n, int max, int heads, const float *U, float *out)\n"
        "{ hn_cu_attention<8>(qkv, n, max, heads, U, out); }\n"
        "extern \"C\" __global__ void attention_d16(const float *qkv, const int *n, int max, int heads, const float *U, float *out)\n"
        "{ hn_cu_attention<16>(qkv, n, max, heads, U, out); }\n"
        "extern \"C\" __global__ void attention_d32(const float *qkv, const int *n, int max, int heads, const float *U, float *out)\n"
        "{ hn_cu_attention<32>(qkv, n, max, heads, U, out); }\n"
        "extern \"C\" __global__ void attention_d64(const float *qkv, const int *n, int max, int heads, const float *U, float *out)\n"
        "{ hn_cu_attention<64>(qkv, n, max, heads, U, out); }\n";
    char *body = unit_kernel_source(dir, parts, sizeof parts / sizeof *parts);
    if (!body) return NULL;
    char *src = malloc(strlen(body) + sizeof wrappers);
    if (src) strcpy(src, body), strcat(src, wrappers);
    free(body);
    return src;
}

typedef struct acase {
    const char *name;
    int batch, max, heads, hd;
    int counts[6];
    int all_real;               /* n NULL */
    int with_U;
} acase;

static double worst_seen;

/* The GPU's output rows of the case after one launch, from an output buffer filled with NaN. */
static int run_gpu(hn_gpu *g, const acase *c, const float *qkv_d, const float *U_d, const int32_t *n_d, float *out_d,
                   const float *nan, float *out, size_t n_out, char *err, size_t errlen)
{
    char name[32];
    snprintf(name, sizeof name, "attention_d%d", c->hd);
    int max = c->max, heads = c->heads;
    const float *U = c->with_U ? U_d : NULL;
    const int32_t *n = c->all_real ? NULL : n_d;
    void *args[] = { &qkv_d, &n, &max, &heads, &U, &out_d };
    unsigned tiles = (unsigned)((max + 63) / 64);
    return hn_gpu_to_device(g, out_d, nan, sizeof(float) * n_out, err, errlen) ||
           hn_gpu_launch(g, name, (unsigned)heads * tiles, (unsigned)c->batch, 64, 0, args, err, errlen) ||
           hn_gpu_sync(g, err, errlen) || hn_gpu_to_host(g, out, out_d, sizeof(float) * n_out, err, errlen);
}

/* Real rows within TOL of the largest |reference|, padding rows untouched (NaN). */
static void compare(const acase *c, const int *cnt, const float *gpu, const float *ref)
{
    const int D = c->heads * c->hd;
    double big = 0.0, worst = 0.0;
    int padding_ok = 1;
    for (int b = 0; b < c->batch; ++b)
        for (int i = 0; i < cnt[b] * D; ++i) big = fmax(big, fabs((double)ref[(size_t)b * c->max * D + i]));
    for (int b = 0; b < c->batch; ++b)
        for (int i = 0; i < c->max * D; ++i) {
            size_t at = (size_t)b * c->max * D + i;
            if (i >= cnt[b] * D) { padding_ok &= isnan(gpu[at]); continue; }
            double d = fabs((double)gpu[at] - (double)ref[at]);
            worst = d == d ? fmax(worst, d) : INFINITY;
        }
    worst /= fmax(big, 1e-30);
    worst_seen = fmax(worst_seen, worst);
    report(worst <= TOL, "%-40s out  max rel diff %.3g", c->name, worst);
    report(padding_ok, "%-40s padding rows left unwritten", c->name);
}

static void run_case(hn_gpu *g, const acase *c)
{
    char err[4096] = "";
    const int D = c->heads * c->hd, max = c->max;
    const size_t n_qkv = (size_t)c->batch * max * 3 * D, n_out = (size_t)c->batch * max * D;
    const size_t n_U = (size_t)c->batch * c->heads * max * max;
    int cnt[6];
    for (int b = 0; b < c->batch; ++b) cnt[b] = c->all_real ? max : c->counts[b];
    float *qkv = malloc(sizeof(float) * n_qkv), *U = malloc(sizeof(float) * n_U), *ref = calloc(n_out, sizeof(float));
    float *nan = malloc(sizeof(float) * n_out), *out = malloc(sizeof(float) * n_out), *out2 = malloc(sizeof(float) * n_out);
    unit_fill(qkv, n_qkv, -1.5f, 1.5f);
    unit_fill(U, n_U, -2.0f, 2.0f);
    for (size_t i = 0; i < n_out; ++i) nan[i] = NAN;
    for (int b = 0; b < c->batch; ++b)
        hn_k_attention(qkv + (size_t)b * max * 3 * D, cnt[b], c->heads, c->hd,
                       c->with_U ? U + (size_t)b * c->heads * max * max : NULL, max, ref + (size_t)b * max * D);

    float *qkv_d = NULL, *U_d = NULL, *out_d = NULL;
    int32_t *n_d = NULL;
    int rc = hn_gpu_alloc(g, (void **)&qkv_d, sizeof(float) * n_qkv, err, sizeof err) ||
             hn_gpu_alloc(g, (void **)&U_d, sizeof(float) * n_U, err, sizeof err) ||
             hn_gpu_alloc(g, (void **)&out_d, sizeof(float) * n_out, err, sizeof err) ||
             hn_gpu_alloc(g, (void **)&n_d, sizeof(int32_t) * (size_t)c->batch, err, sizeof err) ||
             hn_gpu_to_device(g, qkv_d, qkv, sizeof(float) * n_qkv, err, sizeof err) ||
             hn_gpu_to_device(g, U_d, U, sizeof(float) * n_U, err, sizeof err) ||
             hn_gpu_to_device(g, n_d, cnt, sizeof(int32_t) * (size_t)c->batch, err, sizeof err) ||
             run_gpu(g, c, qkv_d, U_d, n_d, out_d, nan, out, n_out, err, sizeof err);
    if (rc) report(0, "%-40s GPU run: %s", c->name, err);
    else {
        compare(c, cnt, out, ref);
        rc = run_gpu(g, c, qkv_d, U_d, n_d, out_d, nan, out2, n_out, err, sizeof err);
        report(!rc && !memcmp(out, out2, sizeof(float) * n_out), "%-40s a second run gives the same bytes%s%s", c->name,
               rc ? ": " : "", rc ? err : "");
    }
    hn_gpu_free(g, qkv_d), hn_gpu_free(g, U_d), hn_gpu_free(g, out_d), hn_gpu_free(g, n_d);
    free(qkv), free(U), free(ref), free(nan), free(out), free(out2);
}

int main(int argc, char **argv)
{
    unit_seed(0x9e3779b97f4a7c15ull);
    int rc;
    hn_gpu *g = unit_open(argc, argv, kernel_source, "unit_attention", &rc);
    if (!g) return rc;
    static const acase cases[] = {
        { "d16 U counts 150,0,1,33,64,65", 6, 150, 2, 16, { 150, 0, 1, 33, 64, 65 }, 0, 1 },
        { "d16 no U counts 100,32,97", 3, 100, 3, 16, { 100, 32, 97 }, 0, 0 },
        { "d8 U counts NULL (all 70 real)", 2, 70, 4, 8, { 0 }, 1, 1 },
        { "d32 U counts 40,7,31", 3, 40, 2, 32, { 40, 7, 31 }, 0, 1 },
        { "d64 U counts 66,2", 2, 66, 2, 64, { 66, 2 }, 0, 1 },
        { "d8 U counts 5,0 (one partial tile)", 2, 24, 4, 8, { 5, 0 }, 0, 1 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) run_case(g, &cases[k]);
    hn_gpu_close(g);
    printf("%d checks, %d failed; worst relative difference %.3g (tolerance %g)\n", checks, failures, worst_seen, TOL);
    return failures ? 1 : 0;
}
