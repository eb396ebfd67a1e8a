/* train_ops.c — see hepnc/gpu_train.h: host-side launches of templates/cuda/train.cuh's kernels. */
#include "hepnc/gpu_train.h"

#include <stdint.h>
#include <stdio.h>

#define CHUNK 256               /* HN_CUT_CHUNK of train.cuh */

static long chunks_of(long rows) { return (rows + CHUNK - 1) / CHUNK; }

size_t hn_gt_scratch_bytes(long rows, long cols)
{
    return sizeof(double) * (size_t)((chunks_of(rows) + 4) * cols) + sizeof(float) * (size_t)(cols + 2 * rows) +
           sizeof(int) * (size_t)(3 * rows + 2) + 16;
}

void hn_gt_scratch_carve(void *base, long rows, long cols, hn_gt_scratch *s)
{
    s->partial = (double *)base;
    s->sums = s->partial + chunks_of(rows) * cols;
    s->inv = (float *)(s->sums + 4 * cols);
    s->rowstat = s->inv + cols;
    s->offs = (int *)(s->rowstat + 2 * rows);
    s->pack_offs = s->offs + rows + 1;
    s->row_event = s->pack_offs + rows + 1;
    s->inverse = NULL;
}

/* `threads` threads in blocks of 256 */
static int launch(hn_gpu *g, const char *k, long threads, void **args, char *err, size_t errlen)
{
    return hn_gpu_launch(g, k, (unsigned)((threads + 255) / 256), 1, 256, 0, args, err, errlen);
}

int hn_gt_zero(hn_gpu *g, float *p, long count, char *err, size_t errlen)
{
    void *a[] = { &p, &count };
    if ((uintptr_t)p % 16 == 0)   /* the step's workspace and parameters (cuMemAlloc's alignment): 16-byte stores */
        return launch(g, "hn_t_zero4", (count + 3) / 4, a, err, errlen);
    return launch(g, "hn_t_zero", count, a, err, errlen);
}

int hn_gt_accumulate(hn_gpu *g, const float *src, long count, float *dst, char *err, size_t errlen)
{
    void *a[] = { &src, &count, &dst };
    return launch(g, "hn_t_accumulate", count, a, err, errlen);
}

int hn_gt_zero_padding(hn_gpu *g, float *grad, int batch, const int32_t *n, int max, long row_elems, char *err, size_t errlen)
{
    void *a[] = { &grad, &batch, &n, &max, &row_elems };
    return launch(g, "hn_t_zero_padding", (long)batch * max * row_elems, a, err, errlen);
}

int hn_gt_act_backward(hn_gpu *g, const float *x, const float *dy, long count, int act, float *dx, char *err, size_t errlen)
{
    void *a[] = { &x, &dy, &count, &act, &dx };
    return launch(g, "hn_t_act_backward", count, a, err, errlen);
}

/* out[c] = column sums of mode (train.cuh's hn_t_colsum_partial) over rows, in a fixed order. */
static int colsum_w(hn_gpu *g, const float *a, const float *b, const double *mean_d, const float *m, const float *inv,
                    const float *rowstat, const float *w, long rows, int cols, int mode, double *out, const hn_gt_scratch *s,
                    char *err, size_t errlen)
{
    long chunks = chunks_of(rows);
    void *p[] = { &a, &b, &mean_d, &m, &inv, &rowstat, &w, &rows, &cols, &mode, (void *)&s->partial };
    void *f[] = { (void *)&s->partial, &chunks, &cols, &out };
    return launch(g, "hn_t_colsum_partial", chunks * cols, p, err, errlen) ||
           launch(g, "hn_t_colsum_finish", cols, f, err, errlen);
}

static int colsum(hn_gpu *g, const float *a, const float *b, const double *mean_d, const float *m, const float *inv,
                  const float *rowstat, long rows, int cols, int mode, double *out, const hn_gt_scratch *s, char *err,
                  size_t errlen)
{
    return colsum_w(g, a, b, mean_d, m, inv, rowstat, NULL, rows, cols, mode, out, s, err, errlen);
}

static int add_sums(hn_gpu *g, const double *src, int cols, float *dst, char *err, size_t errlen)
{
    void *a[] = { &src, &cols, &dst };
    return launch(g, "hn_t_add_sums", cols, a, err, errlen);
}

int hn_gt_batchnorm_forward_weighted(hn_gpu *g, const float *x, long rows, const float *w, double N, int dim, const float *gamma,
                                     const float *beta, float eps, float momentum, float *running_mean, float *running_var,
                                     float *batch_mean, float *batch_var, float *y, const hn_gt_scratch *s, char *err,
                                     size_t errlen)
{
    if (rows <= 0 || N <= 0.0) return 0;
    double *mean = s->sums, *ss = s->sums + dim;
    const float *none = NULL;
    const double *noned = NULL;
    void *sc[] = { &mean, &dim, &N };
    void *st[] = { &mean, &ss, &N, &dim, &eps, &momentum, &running_mean, &running_var, &batch_mean, &batch_var,
                   (void *)&s->inv };
    void *ap[] = { &x, &rows, &dim, &batch_mean, (void *)&s->inv, &gamma, &beta, &y };
    return colsum_w(g, x, none, noned, none, none, none, w, rows, dim, 0, mean, s, err, errlen) ||
           launch(g, "hn_t_scale_sums", dim, sc, err, errlen) ||
           colsum_w(g, x, none, mean, none, none, none, w, rows, dim, 1, ss, s, err, errlen) ||
           launch(g, "hn_t_bn_stats", dim, st, err, errlen) ||
           launch(g, "hn_t_bn_apply", rows * dim, ap, err, errlen);
}

int hn_gt_batchnorm_forward(hn_gpu *g, const float *x, long rows, int dim, const float *gamma, const float *beta, float eps,
                            float momentum, float *running_mean, float *running_var, float *batch_mean, float *batch_var,
                            float *y, const hn_gt_scratch *s, char *err, size_t errlen)
{
    return hn_gt_batchnorm_forward_weighted(g, x, rows, NULL, (double)rows, dim, gamma, beta, eps, momentum, running_mean,
                                            running_var, batch_mean, batch_var, y, s, err, errlen);
}

int hn_gt_batchnorm_backward_weighted(hn_gpu *g, const float *x, long rows, const float *w, double N, int dim,
                                      const float *gamma, float eps, const float *batch_mean, const float *batch_var,
                                      const float *dy, float *dx, float *dgamma, float *dbeta, const hn_gt_scratch *s,
                                      char *err, size_t errlen)
{
    if (rows <= 0 || N <= 0.0) return 0;
    double *sg = s->sums, *sgx = s->sums + dim;
    const float *none = NULL;
    const double *noned = NULL;
    void *iv[] = { &batch_var, &dim, &eps, (void *)&s->inv };
    void *dxa[] = { &x, &dy, &rows, &N, &dim, &gamma, &batch_mean, (void *)&s->inv, &sg, &sgx, &dx };
    int rc = launch(g, "hn_t_bn_inv", dim, iv, err, errlen) ||
             colsum_w(g, dy, none, noned, none, none, none, w, rows, dim, 0, sg, s, err, errlen) ||
             colsum_w(g, dy, x, noned, batch_mean, s->inv, none, w, rows, dim, 2, sgx, s, err, errlen);
    if (!rc && dgamma) rc = add_sums(g, sgx, dim, dgamma, err, errlen);
    if (!rc && dbeta) rc = add_sums(g, sg, dim, dbeta, err, errlen);
    return rc || launch(g, "hn_t_bn_dx", rows * dim, dxa, err, errlen);
}

int hn_gt_batchnorm_backward(hn_gpu *g, const float *x, long rows, int dim, const float *gamma, float eps,
                             const float *batch_mean, const float *batch_var, const float *dy, float *dx, float *dgamma,
                             float *dbeta, const hn_gt_scratch *s, char *err, size_t errlen)
{
    return hn_gt_batchnorm_backward_weighted(g, x, rows, NULL, (double)rows, dim, gamma, eps, batch_mean, batch_var, dy, dx,
                                             dgamma, dbeta, s, err, errlen);
}

int hn_gt_layernorm_backward(hn_gpu *g, const float *x, const float *dy, const int32_t *n, int batch, int rows, int per_row,
                             int dim, const float *gamma, float eps, float *dx, float *dgamma, float *dbeta,
                             const hn_gt_scratch *s, char *err, size_t errlen)
{
    long all = (long)batch * rows;
    if (all <= 0) return 0;
    const float *none = NULL;
    const double *noned = NULL;
    double *sg = s->sums, *sgx = s->sums + dim;
    void *a[] = { &x, &dy, &n, &batch, &rows, &per_row, &dim, &gamma, &eps, &dx, (void *)&s->rowstat };
    if (dx == dy) { snprintf(err, errlen, "hn_gt_layernorm_backward: dx must not alias dy (the sums read dy after)"); return -1; }
    int rc = launch(g, "hn_t_layernorm_backward", all * 32, a, err, errlen);
    if (!rc && dgamma)
        rc = colsum(g, dy, x, noned, none, none, s->rowstat, all, dim, 3, sgx, s, err, errlen) ||
             add_sums(g, sgx, dim, dgamma, err, errlen);
    if (!rc && dbeta)
        rc = colsum(g, dy, none, noned, none, none, none, all, dim, 0, sg, s, err, errlen) || add_sums(g, sg, dim, dbeta, err, errlen);
    return rc;
}

int hn_gt_linear_backward(hn_gpu *g, const float *x, long rows, int in, const float *W, int out, const float *dy, float *dx,
                          float *dW, float *db, const hn_gt_scratch *s, char *err, size_t errlen)
{
    if (rows <= 0) return 0;
    const float *none = NULL;
    const double *noned = NULL;
    int rc = hn_gpu_gemm(g, 1, 0, out, in, (int)rows, 1.0f, dy, out, x, in, 1.0f, dW, in, err, errlen);     /* dW += dyᵀ·x */
    if (!rc && db) rc = colsum(g, dy, none, noned, none, none, none, rows, out, 0, s->sums, s, err, errlen) ||
                        add_sums(g, s->sums, out, db, err, errlen);
    if (!rc && dx) rc = hn_gpu_gemm(g, 0, 0, (int)rows, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in, err, errlen);  /* dx = dy·W */
    return rc;
}

int hn_gt_pool_backward(hn_gpu *g, const float *x, const float *dy, const int32_t *n, int batch, int max, int dim, int mode,
                        float *dx, char *err, size_t errlen)
{
    void *a[] = { &x, &dy, &n, &batch, &max, &dim, &mode, &dx };
    return launch(g, "hn_t_pool_backward", (long)batch * max * dim, a, err, errlen);
}

int hn_gt_copy_cols(hn_gpu *g, const float *dy, long rows, int width, int col0, int w, float *dx, char *err, size_t errlen)
{
    void *a[] = { &dy, &rows, &width, &col0, &w, &dx };
    return launch(g, "hn_t_copy_cols", rows * w, a, err, errlen);
}

int hn_gt_linear_forward(hn_gpu *g, const float *x, long rows, int in, const float *W, const float *bias, int out, float *y,
                         char *err, size_t errlen)
{
    if (rows <= 0) return 0;
    void *a[] = { &y, &rows, &out, &bias };
    return hn_gpu_gemm(g, 0, 1, (int)rows, out, in, 1.0f, x, in, W, in, 0.0f, y, out, err, errlen) ||
           (bias && launch(g, "hn_t_add_bias", rows * out, a, err, errlen));
}

int hn_gt_linear_backward_weighted(hn_gpu *g, const float *x, long rows, int in, const float *W, int out, const float *w,
                                   float *dy, float *dx, float *dW, float *db, const hn_gt_scratch *s, char *err, size_t errlen)
{
    if (rows <= 0) return 0;
    void *a[] = { &dy, &rows, &out, &w };
    return (dx && hn_gpu_gemm(g, 0, 0, (int)rows, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in, err, errlen)) ||
           launch(g, "hn_t_scale_rows", rows * out, a, err, errlen) ||
           hn_gt_linear_backward(g, x, rows, in, W, out, dy, NULL, dW, db, s, err, errlen);
}

int hn_gt_act(hn_gpu *g, const float *x, long count, int act, float *y, char *err, size_t errlen)
{
    void *a[] = { &x, &count, &act, &y };
    return launch(g, "hn_t_act", count, a, err, errlen);
}

int hn_gt_headscale(hn_gpu *g, const float *in, long rows, int heads, int d, const float *c, int backward, float *out, char *err,
                    size_t errlen)
{
    void *a[] = { &in, &rows, &heads, &d, &c, &backward, &out };
    return launch(g, "hn_t_headscale", rows * heads * d, a, err, errlen);
}

int hn_gt_headscale_grad(hn_gpu *g, const float *dy, const float *z, long rows, int heads, int d, float *prod, float *dc,
                         const hn_gt_scratch *s, char *err, size_t errlen)
{
    const float *none = NULL;
    const double *noned = NULL;
    int D = heads * d;
    void *p[] = { &dy, &z, &rows, &heads, &d, &prod };
    void *q[] = { (void *)&s->sums, &heads, &d, &dc };
    return launch(g, "hn_t_headscale_prod", rows * D, p, err, errlen) ||
           colsum(g, prod, none, noned, none, none, none, rows, D, 0, s->sums, s, err, errlen) ||
           launch(g, "hn_t_headscale_grad", heads, q, err, errlen);
}

int hn_gt_residual_backward(hn_gpu *g, const float *x1, long rows, int dim, const float *scale, const float *dy, float *dx0,
                            float *dx1, float *dscale, const hn_gt_scratch *s, char *err, size_t errlen)
{
    const float *none = NULL;
    const double *noned = NULL;
    void *a[] = { &dy, &rows, &dim, &scale, &dx1 };
    return (dscale && (colsum(g, dy, x1, noned, none, none, none, rows, dim, 4, s->sums, s, err, errlen) ||
                       add_sums(g, s->sums, dim, dscale, err, errlen))) ||
           (dx0 && hn_gt_copy_cols(g, dy, rows, dim, 0, dim, dx0, err, errlen)) ||
           (dx1 && launch(g, "hn_t_scale_cols", rows * dim, a, err, errlen));
}

int hn_gt_column_sums(hn_gpu *g, const float *a, long rows, int cols, float *dst, const hn_gt_scratch *s, char *err, size_t errlen)
{
    const float *none = NULL;
    const double *noned = NULL;
    return colsum(g, a, none, noned, none, none, none, rows, cols, 0, s->sums, s, err, errlen) ||
           add_sums(g, s->sums, cols, dst, err, errlen);
}

int hn_gt_pair_features_all(hn_gpu *g, const float *p4, int batch, int max, int sel, int nsel, float *f, char *err, size_t errlen)
{
    void *a[] = { &p4, &batch, &max, &sel, &nsel, &f };
    return launch(g, "hn_t_pair_features_all", (long)batch * max * max, a, err, errlen);
}

/* a thread per (event, row) over the grid's y = events */
static int launch_events(hn_gpu *g, const char *k, long per_event, int batch, void **args, char *err, size_t errlen)
{
    return hn_gpu_launch(g, k, (unsigned)((per_event + 255) / 256), (unsigned)batch, 256, 0, args, err, errlen);
}

int hn_gt_pair_rows(hn_gpu *g, const float *pairs, const int32_t *n, int batch, int max, int slots, int width, const int *offs,
                    int ordered, float *rows, float *w, char *err, size_t errlen)
{
    void *a[] = { &pairs, &n, &batch, &max, &slots, &width, &offs, &ordered, &rows, &w };
    return launch_events(g, "hn_t_pair_rows", (long)max * (max + 1) / 2, batch, a, err, errlen);
}

int hn_gt_pair_scatter(hn_gpu *g, const float *in, const int32_t *n, int batch, int max, int slots, int heads, const int *offs,
                       int backward, int ordered, float *out, char *err, size_t errlen)
{
    void *a[] = { &in, &n, &batch, &max, &slots, &heads, &offs, &backward, &ordered, &out };
    return launch_events(g, "hn_t_pair_scatter", (long)max * (max + 1) / 2, batch, a, err, errlen);
}

int hn_gt_dropout(hn_gpu *g, const float *x, long count, float p, uint64_t seed, uint64_t key, float *y, char *err, size_t errlen)
{
    unsigned long long s = seed, k = key;
    if (p <= 0.0f) return y == x ? 0 : hn_gt_copy_cols(g, x, 1, (int)count, 0, (int)count, y, err, errlen);
    void *a[] = { &x, &count, &p, &s, &k, &y };
    return launch(g, "hn_t_dropout", count, a, err, errlen);
}

int hn_gt_slot_weights(hn_gpu *g, float *w, int batch, long rows, long keep, char *err, size_t errlen)
{
    void *a[] = { &w, &batch, &rows, &keep };
    return launch(g, "hn_t_slot_weights", (long)batch * rows, a, err, errlen);
}

int hn_gt_pair_ones(hn_gpu *g, float *w, int batch, int max, int slots, char *err, size_t errlen)
{
    void *a[] = { &w, &batch, &max, &slots };
    return launch(g, "hn_t_pair_ones", (long)batch * max * max, a, err, errlen);
}

int hn_gt_pair_ordered(hn_gpu *g, const float *in, const int32_t *n, int batch, int max, int heads, int backward, float *out, char *err,
                       size_t errlen)
{
    void *a[] = { &in, &n, &batch, &max, &heads, &backward, &out };
    return launch(g, "hn_t_pair_ordered", (long)batch * max * max, a, err, errlen);
}

int hn_gt_pack_index(hn_gpu *g, const int *offs, int batch, int *row_event, char *err, size_t errlen)
{
    void *a[] = { &offs, &row_event };
    return hn_gpu_launch(g, "hn_pack_index", (unsigned)batch, 1, 256, 0, a, err, errlen);
}

static int gather(hn_gpu *g, const float *x, const hn_gt_packed *pk, int width, float *xp, char *err, size_t errlen)
{
    void *a[] = { &x, (void *)&pk->offs, (void *)&pk->row_event, (void *)&pk->total, (void *)&pk->max, &width, &xp };
    return launch(g, "hn_gather_rows", (long)pk->total * width, a, err, errlen);
}

static int scatter(hn_gpu *g, const float *yp, const hn_gt_packed *pk, int out, const float *bias, float *y, char *err,
                   size_t errlen)
{
    int act = 0;
    void *a[] = { &yp, (void *)&pk->offs, (void *)&pk->row_event, (void *)&pk->total, (void *)&pk->max, &out, &bias, &act, &y };
    return launch(g, "hn_scatter_bias_act", (long)pk->total * out, a, err, errlen);
}

int hn_gt_linear_forward_packed(hn_gpu *g, const float *x, const hn_gt_packed *pk, int in, const float *W, const float *bias,
                                int out, float *y, float *buf, char *err, size_t errlen)
{
    if (pk->total <= 0) return 0;
    float *xp = buf, *yp = buf + (size_t)pk->total * in;
    return gather(g, x, pk, in, xp, err, errlen) ||
           hn_gpu_gemm(g, 0, 1, pk->total, out, in, 1.0f, xp, in, W, in, 0.0f, yp, out, err, errlen) ||
           scatter(g, yp, pk, out, bias, y, err, errlen);
}

int hn_gt_linear_backward_packed(hn_gpu *g, const float *x, const float *dy, const hn_gt_packed *pk, int in, const float *W, int out,
                                 float *dx, float *dW, float *db, float *buf, const hn_gt_scratch *s, char *err, size_t errlen)
{
    if (pk->total <= 0) return 0;
    float *xp = buf, *dyp = xp + (size_t)pk->total * in, *dxp = dyp + (size_t)pk->total * out;
    int rc = gather(g, x, pk, in, xp, err, errlen) || gather(g, dy, pk, out, dyp, err, errlen) ||
             hn_gpu_gemm(g, 1, 0, out, in, pk->total, 1.0f, dyp, out, xp, in, 1.0f, dW, in, err, errlen) ||     /* dW += dyᵀ·x */
             (db && hn_gt_column_sums(g, dyp, pk->total, out, db, s, err, errlen));
    if (!rc && dx)                                                                                               /* dx = dy·W */
        rc = hn_gpu_gemm(g, 0, 0, pk->total, in, out, 1.0f, dyp, out, W, in, 0.0f, dxp, in, err, errlen) ||
             scatter(g, dxp, pk, in, NULL, dx, err, errlen);
    return rc;
}
