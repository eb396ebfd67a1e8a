/* train_class_attention.c — see hepnc/gpu_train_class_attention.h: host-side launches of
 * templates/cuda/train_class_attention.cuh's kernels, cuBLAS GEMMs (hn_gpu_gemm) and train.cuh's column sums. */
#include "hepnc/gpu_train_class_attention.h"

#include <stdio.h>

#define CHUNK 256               /* HN_CUT_CHUNK of train.cuh: rows per partial column sum */
#define ATTEND_THREADS 128      /* HN_TCA_THREADS of train_class_attention.cuh */

static long chunks_of(long rows) { return (rows + CHUNK - 1) / CHUNK; }

/* The scratch's parts (see hn_gt_class_attention_scratch_bytes), R = batch·(max + 1) key rows. */
typedef struct parts {
    double *partial, *sums;     /* [⌈R/256⌉][2D], [2D] */
    float *u, *kv, *dkv;        /* [R][D], [R][2D] (du: [R][D] at its start), [R][2D] */
    float *q, *dq;              /* [batch][D] each; cu = dq·W_q into q */
} parts;

static void carve(float *scratch, long R, int batch, int D, parts *p)
{
    p->partial = (double *)scratch;
    p->sums = p->partial + chunks_of(R) * 2 * D;
    p->u = (float *)(p->sums + 2 * D);
    p->kv = p->u + R * D;
    p->dkv = p->kv + R * 2 * D;
    p->q = p->dkv + R * 2 * D;
    p->dq = p->q + (long)batch * D;
}

size_t hn_gt_class_attention_scratch_bytes(int batch, int max, int D)
{
    if (batch <= 0 || max < 0 || D <= 0) return 0;
    long R = (long)batch * (max + 1);
    return sizeof(double) * (size_t)((chunks_of(R) + 1) * 2 * D) + sizeof(float) * (size_t)(5 * R * D + 2L * batch * D);
}

/* `threads` threads in blocks of 256 */
static int launch(hn_gpu *g, const char *k, long threads, void **args, char *err, size_t errlen)
{
    return hn_gpu_launch(g, k, (unsigned)((threads + 255) / 256), 1, 256, 0, args, err, errlen);
}

/* dst[c] += Σ_r a[r][c] over rows, in train.cuh's fixed order (partials over chunks of rows in double). */
static int add_column_sums(hn_gpu *g, const float *a, long rows, int cols, const parts *p, float *dst, char *err, size_t errlen)
{
    const float *none = NULL;
    const double *noned = NULL;
    int mode = 0;
    long chunks = chunks_of(rows);
    void *pa[] = { &a, &none, &noned, &none, &none, &none, &none, &rows, &cols, &mode, (void *)&p->partial };
    void *fa[] = { (void *)&p->partial, &chunks, &cols, (void *)&p->sums };
    void *aa[] = { (void *)&p->sums, &cols, &dst };
    return launch(g, "hn_t_colsum_partial", chunks * cols, pa, err, errlen) ||
           launch(g, "hn_t_colsum_finish", cols, fa, err, errlen) || launch(g, "hn_t_add_sums", cols, aa, err, errlen);
}

/* The forward's pieces the backward needs: u = LN(key rows), kv = u·W_kvᵀ, q = c·W_qᵀ (biases added later). */
static int recompute_forward(hn_gpu *g, const float *token, const float *x, const int32_t *n, int batch, int max, int D,
                             const float *W, const float *ln_g, const float *ln_b, const parts *p, char *err, size_t errlen)
{
    long R = (long)batch * (max + 1);
    void *a[] = { &token, &x, &n, &batch, &max, &D, &ln_g, &ln_b, (void *)&p->u };
    return launch(g, "hn_tca_keys_ln", R * 32, a, err, errlen) ||
           hn_gpu_gemm(g, 0, 1, (int)R, 2 * D, D, 1.0f, p->u, D, W + (size_t)D * D, D, 0.0f, p->kv, 2 * D, err, errlen) ||
           hn_gpu_gemm(g, 0, 1, batch, D, D, 1.0f, token, D, W, D, 0.0f, p->q, D, err, errlen);
}

/* The projections' backward: dW_kv += dkvᵀ·u, db_kv += Σ dkv, du = dkv·W_kv (into kv); dW_q += dqᵀ·c,
 * db_q += Σ dq, cu = dq·W_q (into q, only when the token's gradient is wanted). */
static int projections_backward(hn_gpu *g, const float *token, int batch, int max, int D, const float *W, float *dW, float *dbias,
                                int want_cu, const parts *p, char *err, size_t errlen)
{
    long R = (long)batch * (max + 1);
    return hn_gpu_gemm(g, 1, 0, 2 * D, D, (int)R, 1.0f, p->dkv, 2 * D, p->u, D, 1.0f, dW + (size_t)D * D, D, err, errlen) ||
           add_column_sums(g, p->dkv, R, 2 * D, p, dbias + D, err, errlen) ||
           hn_gpu_gemm(g, 0, 0, (int)R, D, 2 * D, 1.0f, p->dkv, 2 * D, W + (size_t)D * D, D, 0.0f, p->kv, D, err, errlen) ||
           hn_gpu_gemm(g, 1, 0, D, D, batch, 1.0f, p->dq, D, token, D, 1.0f, dW, D, err, errlen) ||
           add_column_sums(g, p->dq, batch, D, p, dbias, err, errlen) ||
           (want_cu && hn_gpu_gemm(g, 0, 0, batch, D, D, 1.0f, p->dq, D, W, D, 0.0f, p->q, D, err, errlen));
}

int hn_gt_class_attention_backward(hn_gpu *g, const float *token, const float *x, const int32_t *n, int batch, int max, int D,
                                   int heads, const float *W, const float *bias, const float *ln_g, const float *ln_b,
                                   const float *dy, float *dtoken, float *dx, float *dW, float *dbias, float *dln_g,
                                   float *dln_b, float *scratch, char *err, size_t errlen)
{
    if (batch < 0 || max < 0 || D < 1 || heads < 1 || D % heads) {
        snprintf(err, errlen, "hn_gt_class_attention_backward: bad shape (batch %d, max %d, D %d, heads %d; D must split into "
                 "the heads)", batch, max, D, heads);
        return -1;
    }
    if (batch == 0) return 0;
    long R = (long)batch * (max + 1);
    int d = D / heads;
    unsigned shared = (unsigned)(sizeof(float) * (2 * (size_t)d + 2 * (size_t)(max + 1)));
    parts p;
    carve(scratch, R, batch, D, &p);
    const float *kv = p.kv, *q = p.q, *cu = p.q;
    void *at[] = { &q, &kv, &n, &max, &D, &heads, &bias, &dy, (void *)&p.dkv, (void *)&p.dq };
    void *lb[] = { &token, &x, &n, &batch, &max, &D, &ln_g, &cu, (void *)&p.kv, &dtoken, &dx };
    if (recompute_forward(g, token, x, n, batch, max, D, W, ln_g, ln_b, &p, err, errlen) ||
        hn_gpu_launch(g, "hn_tca_attend_backward", (unsigned)heads, (unsigned)batch, ATTEND_THREADS, shared, at, err, errlen) ||
        projections_backward(g, token, batch, max, D, W, dW, dbias, dtoken != NULL, &p, err, errlen) ||
        add_column_sums(g, p.kv, R, D, &p, dln_b, err, errlen) ||                           /* dβ = Σ du */
        launch(g, "hn_tca_keys_ln_backward", R * 32, lb, err, errlen) ||                    /* dtoken, dx; du ← du ⊙ x̂ */
        add_column_sums(g, p.kv, R, D, &p, dln_g, err, errlen))                             /* dγ = Σ du ⊙ x̂ */
        return -1;
    return 0;
}
