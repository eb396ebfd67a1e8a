/* train_edgeconv.c — see hepnc/gpu_train_edgeconv.h: host-side launches of templates/cuda/train_edgeconv.cuh's
 * kernels, and of train.cuh's column sums and batchnorm pieces for the statistics over weighted rows. */
#include "hepnc/gpu_train_edgeconv.h"

#include <stdio.h>

#define CHUNK 256               /* HN_CUT_CHUNK of train.cuh: rows per partial column sum */
#define BLOCK 256

static long chunks_of(long rows) { return (rows + CHUNK - 1) / CHUNK; }

static int clamp(int n, int max) { return n < 0 ? 0 : n > max ? max : n; }

long hn_gt_ec_row_count(int n, int max, int k)
{
    n = clamp(n, max);
    int m = n - 1 < k ? (n > 0 ? n - 1 : 0) : k, rpp = m + (n <= k ? 1 : 0);
    return (long)n * rpp + (n < max ? 1 : 0);
}

/* Ints per event of the inverse neighbour table: the offsets of each point's list (max + 1 ≤ rows + 1) and
 * the lists (at most max·k ≤ rows edge rows). */
static size_t inverse_ints(int rows) { return 2 * (size_t)(rows > 0 ? rows : 1) + 2; }

size_t hn_gt_ec_scratch_bytes(int batch, int rows, int cols)
{
    if (batch < 0) batch = 0;
    long R = (long)batch * (rows > 0 ? rows : 1);
    if (cols < 1) cols = 1;
    size_t offs = (sizeof(int) * ((size_t)batch + 1) + 15) & ~(size_t)15;
    return offs + sizeof(double) * (size_t)((chunks_of(R) + 4) * cols) + sizeof(float) * (size_t)cols + 16 +
           sizeof(int) * (size_t)batch * inverse_ints(rows);
}

void hn_gt_ec_scratch_carve(void *base, int batch, int rows, int cols, int **offs, hn_gt_scratch *s)
{
    if (batch < 0) batch = 0;
    long R = (long)batch * (rows > 0 ? rows : 1);
    if (cols < 1) cols = 1;
    *offs = (int *)base;
    s->partial = (double *)((char *)base + ((sizeof(int) * ((size_t)batch + 1) + 15) & ~(size_t)15));
    s->sums = s->partial + chunks_of(R) * cols;
    s->inv = (float *)(s->sums + 4 * cols);
    s->rowstat = NULL;
    s->offs = NULL;
    s->inverse = (int *)(s->inv + cols + 4);
}

/* `threads` threads in blocks of BLOCK */
static int launch(hn_gpu *g, const char *k, long threads, void **args, char *err, size_t errlen)
{
    return hn_gpu_launch(g, k, (unsigned)((threads + BLOCK - 1) / BLOCK), 1, BLOCK, 0, args, err, errlen);
}

/* per_event threads for each event (the grid's y) */
static int launch_events(hn_gpu *g, const char *k, long per_event, int batch, void **args, char *err, size_t errlen)
{
    return hn_gpu_launch(g, k, (unsigned)((per_event + BLOCK - 1) / BLOCK), (unsigned)batch, BLOCK, 0, args, err, errlen);
}

int hn_gt_ec_offsets(hn_gpu *g, const int32_t *host_counts, int batch, int max, int k, int *host_offs, int *offs, long *rows,
                     char *err, size_t errlen)
{
    host_offs[0] = 0;
    for (int b = 0; b < batch; ++b)
        host_offs[b + 1] = host_offs[b] + (int)hn_gt_ec_row_count(host_counts ? host_counts[b] : max, max, k);
    *rows = batch > 0 ? host_offs[batch] : 0;
    return hn_gpu_to_device(g, offs, host_offs, sizeof(int) * (size_t)((batch > 0 ? batch : 0) + 1), err, errlen);
}

int hn_gt_ec_knn(hn_gpu *g, const float *p, const int32_t *n, int batch, int max, int Pd, int k, int *nb, char *err,
                 size_t errlen)
{
    if (k < 1 || k > HN_GT_EC_MAXK || Pd < 0 || max < 0) {
        snprintf(err, errlen, "hn_gt_ec_knn: bad shape (k %d: 1 … %d; Pd %d, max %d)", k, HN_GT_EC_MAXK, Pd, max);
        return -1;
    }
    if (batch <= 0 || max == 0) return 0;
    void *a[] = { &p, &n, &batch, &max, &Pd, &k, &nb };
    return launch_events(g, "hn_tec_knn", max, batch, a, err, errlen);
}

int hn_gt_ec_rows(hn_gpu *g, const float *UV, const int32_t *n, int batch, int max, int k, int c1, const int *offs, long rows,
                  const int *nb, float *Z, float *w, char *err, size_t errlen)
{
    if (batch <= 0 || rows <= 0 || c1 <= 0) return 0;
    void *a[] = { &UV, &n, &batch, &max, &k, &c1, &offs, &nb, &Z, &w };
    return launch_events(g, "hn_tec_rows", rows * c1, batch, a, err, errlen);
}

/* out[c] = Σ_r w[r]·term(mode) over rows (train.cuh's hn_t_colsum_partial modes), in a fixed order */
static int colsum_w(hn_gpu *g, const float *a, const float *b, const double *mean_d, const float *m, const float *inv,
                    const float *w, long rows, int cols, int mode, double *out, const hn_gt_scratch *s, char *err,
                    size_t errlen)
{
    long chunks = chunks_of(rows);
    const float *none = NULL;
    void *p[] = { &a, &b, &mean_d, &m, &inv, &none, &w, &rows, &cols, &mode, (void *)&s->partial };
    void *f[] = { (void *)&s->partial, &chunks, &cols, &out };
    return launch(g, "hn_t_colsum_partial", chunks * cols, p, err, errlen) ||
           launch(g, "hn_t_colsum_finish", cols, f, err, errlen);
}

int hn_gt_ec_bn_stats(hn_gpu *g, const float *x, long rows, const float *w, double N, int dim, float momentum,
                      float *running_mean, float *running_var, float *batch_mean, float *batch_var, const hn_gt_scratch *s,
                      char *err, size_t errlen)
{
    if (rows <= 0 || N <= 0.0 || dim <= 0) return 0;
    double *mean = s->sums, *ss = s->sums + dim;
    const float *none = NULL;
    const double *noned = NULL;
    float eps = 0.0f;           /* inv is not used here: hn_gt_ec_bn_relu recomputes it with its eps */
    void *sc[] = { &mean, &dim, &N };
    void *st[] = { &mean, &ss, &N, &dim, &eps, &momentum, &running_mean, &running_var, &batch_mean, &batch_var,
                   (void *)&s->inv };
    return colsum_w(g, x, none, noned, none, none, w, rows, dim, 0, mean, s, err, errlen) ||
           launch(g, "hn_t_scale_sums", dim, sc, err, errlen) ||
           colsum_w(g, x, none, mean, none, none, w, rows, dim, 1, ss, s, err, errlen) ||
           launch(g, "hn_t_bn_stats", dim, st, err, errlen);
}

int hn_gt_ec_bn_relu(hn_gpu *g, const float *x, long rows, int dim, const float *mean, const float *var, const float *gamma,
                     const float *beta, float eps, const float *w, float *y, const hn_gt_scratch *s, char *err, size_t errlen)
{
    if (rows <= 0 || dim <= 0) return 0;
    void *iv[] = { &var, &dim, &eps, (void *)&s->inv };
    void *a[] = { &x, &rows, &dim, &mean, (void *)&s->inv, &gamma, &beta, &w, &y };
    return launch(g, "hn_t_bn_inv", dim, iv, err, errlen) || launch(g, "hn_tec_bn_relu", rows * dim, a, err, errlen);
}

int hn_gt_ec_bn_relu_backward(hn_gpu *g, const float *x, long rows, const float *w, double N, int dim, const float *gamma,
                              const float *beta, float eps, const float *mean, const float *var, float *dy, float *dx,
                              float *dgamma, float *dbeta, const hn_gt_scratch *s, char *err, size_t errlen)
{
    if (rows <= 0 || N <= 0.0 || dim <= 0) return 0;
    void *iv[] = { &var, &dim, &eps, (void *)&s->inv };
    void *a[] = { &x, &rows, &dim, &mean, (void *)&s->inv, &gamma, &beta, &dy };
    return launch(g, "hn_t_bn_inv", dim, iv, err, errlen) || launch(g, "hn_tec_relu_mask", rows * dim, a, err, errlen) ||
           hn_gt_batchnorm_backward_weighted(g, x, rows, w, N, dim, gamma, eps, mean, var, dy, dx, dgamma, dbeta, s, err, errlen);
}

int hn_gt_ec_output(hn_gpu *g, const float *A, const float *w, const int32_t *n, int batch, int max, int k, int cout,
                    const int *offs, const float *sc, int C, float *y, char *err, size_t errlen)
{
    if (batch <= 0 || max <= 0 || cout <= 0) return 0;
    void *a[] = { &A, &w, &n, &batch, &max, &k, &cout, &offs, &sc, &C, &y };
    return launch(g, "hn_tec_output", (long)batch * max * cout, a, err, errlen);
}

int hn_gt_ec_output_backward(hn_gpu *g, const float *y, float *dy, const int32_t *n, int batch, int max, int k, int cout,
                             const int *offs, float *dA, char *err, size_t errlen)
{
    if (batch <= 0 || max <= 0 || cout <= 0) return 0;
    void *a[] = { &y, &dy, &n, &batch, &max, &k, &cout, &offs, &dA };
    return launch(g, "hn_tec_output_backward", (long)batch * max * cout, a, err, errlen);
}

int hn_gt_ec_edges_backward(hn_gpu *g, const float *dZ, const float *w, const int32_t *n, int batch, int max, int k, int c1,
                            const int *offs, const int *nb, const hn_gt_scratch *s, float *DF, char *err, size_t errlen)
{
    if (batch <= 0 || max <= 0 || c1 <= 0) return 0;
    long rows = 0;                      /* the most edge rows an event has: the table's size per event */
    for (int m = 0; m <= max; ++m)
        if (hn_gt_ec_row_count(m, max, k) > rows) rows = hn_gt_ec_row_count(m, max, k);
    int *inverse = s->inverse, stride = (int)inverse_ints((int)rows);
    const int *inv = inverse;
    void *t[] = { &n, &batch, &max, &k, &offs, &nb, &stride, &inverse };
    void *a[] = { &dZ, &w, &n, &batch, &max, &k, &c1, &offs, &inv, &stride, &DF };
    return hn_gpu_launch(g, "hn_tec_inverse", (unsigned)batch, 1, 128, 0, t, err, errlen) ||
           launch(g, "hn_tec_edges_backward", (long)batch * max * c1, a, err, errlen);
}
