/* gpu_train.h — the building blocks of a generated GPU training step (NAME_cuda_train.c, written by
 * compiler/emit_cuda_train.c): each launches the generic kernels of templates/cuda/train.cuh (and cuBLAS
 * GEMMs) on a module that holds them, with one node's shapes. Pointers are device pointers; gradients of
 * parameters accumulate, gradients of activations are written, as in templates/c/backward_*.h.
 * Every function returns 0, or -1 with a message in err. */
#ifndef HEPNC_GPU_TRAIN_H
#define HEPNC_GPU_TRAIN_H

#include <stdint.h>

#include "gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Device scratch of the step's reductions (carved from the workspace's tail by the generated code):
 * partial column sums, per-column sums and 1/√(σ² + eps), and per-row LayerNorm statistics. */
typedef struct hn_gt_scratch {
    double *partial;            /* [⌈rows/256⌉][cols] */
    double *sums;               /* [4][cols] */
    float *inv;                 /* [cols] */
    float *rowstat;             /* [rows][2] */
    int *offs;                  /* [rows + 1]: the pair embedding's first row of each event */
    int *pack_offs, *row_event; /* [rows + 1], [rows]: a set's real rows packed (its first per event; each one's event) */
    int *inverse;               /* EdgeConv: per event, the edge rows whose neighbour is each point (hn_gt_ec_scratch_carve) */
} hn_gt_scratch;

/* A set's real rows, packed event after event (device offs [batch + 1] and row_event [total], from
 * hn_gt_pack_index): the linear layers' GEMMs over them skip the padding. */
typedef struct hn_gt_packed {
    const int *offs, *row_event;
    int total, max;
} hn_gt_packed;

/* Bytes of scratch for reductions over at most `rows` rows of at most `cols` columns. */
size_t hn_gt_scratch_bytes(long rows, long cols);
void hn_gt_scratch_carve(void *base, long rows, long cols, hn_gt_scratch *s);

int hn_gt_zero(hn_gpu *g, float *p, long count, char *err, size_t errlen);
int hn_gt_accumulate(hn_gpu *g, const float *src, long count, float *dst, char *err, size_t errlen);
/* Rows r ≥ n[b] of each event's max rows (row_elems floats each) of a gradient set to zero. */
int hn_gt_zero_padding(hn_gpu *g, float *grad, int batch, const int32_t *n, int max, long row_elems, char *err, size_t errlen);
/* dx = act'(x)·dy (act: 1 relu, 2 GELU) */
int hn_gt_act_backward(hn_gpu *g, const float *x, const float *dy, long count, int act, float *dx, char *err, size_t errlen);
/* Training-mode BatchNorm1d over `rows` rows: batch statistics (into batch_mean, batch_var), running
 * statistics updated, y written. */
int hn_gt_batchnorm_forward(hn_gpu *g, const float *x, long rows, int dim, const float *gamma, const float *beta, float eps,
                            float momentum, float *running_mean, float *running_var, float *batch_mean, float *batch_var,
                            float *y, const hn_gt_scratch *s, char *err, size_t errlen);
/* The same over rows standing for w[r] copies each (the pair embedding's weighted rows), N = Σ w. */
int hn_gt_batchnorm_forward_weighted(hn_gpu *g, const float *x, long rows, const float *w, double N, int dim, const float *gamma,
                                     const float *beta, float eps, float momentum, float *running_mean, float *running_var,
                                     float *batch_mean, float *batch_var, float *y, const hn_gt_scratch *s, char *err,
                                     size_t errlen);
int hn_gt_batchnorm_backward_weighted(hn_gpu *g, const float *x, long rows, const float *w, double N, int dim,
                                      const float *gamma, float eps, const float *batch_mean, const float *batch_var,
                                      const float *dy, float *dx, float *dgamma, float *dbeta, const hn_gt_scratch *s,
                                      char *err, size_t errlen);
int hn_gt_batchnorm_backward(hn_gpu *g, const float *x, long rows, int dim, const float *gamma, float eps,
                             const float *batch_mean, const float *batch_var, const float *dy, float *dx, float *dgamma,
                             float *dbeta, const hn_gt_scratch *s, char *err, size_t errlen);
/* LayerNorm over the real rows (n: counts of the set, NULL: every row real; rows per event, per_row rows
 * per set row). dx NULL: no input gradient; dx must not alias dy. */
int hn_gt_layernorm_backward(hn_gpu *g, const float *x, const float *dy, const int32_t *n, int batch, int rows, int per_row,
                             int dim, const float *gamma, float eps, float *dx, float *dgamma, float *dbeta,
                             const hn_gt_scratch *s, char *err, size_t errlen);
/* y = x·Wᵀ + b over rows: dx = dy·W (dx may be NULL), dW += dyᵀ·x, db += Σ dy (db may be NULL). */
int hn_gt_linear_backward(hn_gpu *g, const float *x, long rows, int in, const float *W, int out, const float *dy, float *dx,
                          float *dW, float *db, const hn_gt_scratch *s, char *err, size_t errlen);
/* Masked pooling (mode 0 sum, 1 mean, 2 max) of x [batch][max][dim]: dx from dy [batch][dim]. */
int hn_gt_pool_backward(hn_gpu *g, const float *x, const float *dy, const int32_t *n, int batch, int max, int dim, int mode,
                        float *dx, char *err, size_t errlen);
/* dx[r][0..w) = dy[r][col0..col0+w) over rows, dy rows `width` wide. */
int hn_gt_copy_cols(hn_gpu *g, const float *dy, long rows, int width, int col0, int w, float *dx, char *err, size_t errlen);

/* row_event[p] = the event of packed row p, from offs [batch + 1] (device). */
int hn_gt_pack_index(hn_gpu *g, const int *offs, int batch, int *row_event, char *err, size_t errlen);
/* y = x·Wᵀ + bias at the set's real rows only (gather, GEMM, scatter with the bias; padding rows of y are
 * not written); buf: total·(in + out) floats. */
int hn_gt_linear_forward_packed(hn_gpu *g, const float *x, const hn_gt_packed *pk, int in, const float *W, const float *bias,
                                int out, float *y, float *buf, char *err, size_t errlen);
/* Its backward over the real rows: dW += dyᵀ·x, db += Σ dy, dx = dy·W at the real rows (dx, db may be
 * NULL; padding rows of dx are not written); buf: total·(2·in + out) floats. */
int hn_gt_linear_backward_packed(hn_gpu *g, const float *x, const float *dy, const hn_gt_packed *pk, int in, const float *W, int out,
                                 float *dx, float *dW, float *db, float *buf, const hn_gt_scratch *s, char *err, size_t errlen);
/* Dropout in training: y = x·mask/(1 − p) over count elements, the mask of templates/c/backward_dropout.h
 * (seed, layer key, element index); the backward is the same call on dy. p 0: a copy. */
int hn_gt_dropout(hn_gpu *g, const float *x, long count, float p, uint64_t seed, uint64_t key, float *y, char *err, size_t errlen);
/* y = x·Wᵀ + bias over rows (a GEMM, then the bias; bias may be NULL). */
int hn_gt_linear_forward(hn_gpu *g, const float *x, long rows, int in, const float *W, const float *bias, int out, float *y,
                         char *err, size_t errlen);
/* Backward of a linear map over rows standing for w[r] copies: dx = dy·W per row (dx may be NULL), then
 * dy ← w ⊙ dy (overwritten), dW += dyᵀ·x, db += Σ dy. */
int hn_gt_linear_backward_weighted(hn_gpu *g, const float *x, long rows, int in, const float *W, int out, const float *w,
                                   float *dy, float *dx, float *dW, float *db, const hn_gt_scratch *s, char *err, size_t errlen);
/* y = act(x) (0 none, 1 relu, 2 GELU), elementwise. */
int hn_gt_act(hn_gpu *g, const float *x, long count, int act, float *y, char *err, size_t errlen);
/* A linear layer's folded head scale c [heads] over rows of heads·d: forward (backward 0) out[r][t·heads + h]
 * = c[h]·in[r][h·d + t]; backward (1) out[r][h·d + t] = c[h]·in[r][t·heads + h]. */
int hn_gt_headscale(hn_gpu *g, const float *in, long rows, int heads, int d, const float *c, int backward, float *out, char *err,
                    size_t errlen);
/* dc[h] += Σ_r Σ_t dy[r][t·heads + h]·z[r][h·d + t]; prod: rows·heads·d floats of scratch. */
int hn_gt_headscale_grad(hn_gpu *g, const float *dy, const float *z, long rows, int heads, int d, float *prod, float *dc,
                         const hn_gt_scratch *s, char *err, size_t errlen);
/* y = x0 + s ⊙ x1 over rows: dx0 = dy, dx1 = s ⊙ dy (either may be NULL), dscale += Σ dy ⊙ x1. */
int hn_gt_residual_backward(hn_gpu *g, const float *x1, long rows, int dim, const float *scale, const float *dy, float *dx0,
                            float *dx1, float *dscale, const hn_gt_scratch *s, char *err, size_t errlen);
/* dst[c] += Σ_r a[r][c] (a class token's gradient over the batch). */
int hn_gt_column_sums(hn_gpu *g, const float *a, long rows, int cols, float *dst, const hn_gt_scratch *s, char *err, size_t errlen);
/* Pair features of every slot pair, padding included, mirrored: f [batch][max][max][nsel]; sel packs the
 * selected feature indices two bits each. */
int hn_gt_pair_features_all(hn_gpu *g, const float *p4, int batch, int max, int sel, int nsel, float *f, char *err, size_t errlen);
/* The pair embedding's weighted rows of every event from pairs [batch][max][max][width] (offs: device,
 * each event's first row, batch + 1 of them), their weights into w; slots: the slots the batch stands for
 * (max, or fewer for a trimmed batch: every count ≤ slots). */
int hn_gt_pair_rows(hn_gpu *g, const float *pairs, const int32_t *n, int batch, int max, int slots, int width, const int *offs,
                    int ordered, float *rows, float *w, char *err, size_t errlen);
/* backward 0: the rows' last layer [rows][heads] into U [batch][heads][max][max] at the real pairs,
 * mirrored; 1: dU back to the rows (real pairs dU[a][c] + dU[c][a], padded representatives 0). ordered
 * (with supplied pair features, weaver embeds every ordered pair): the rows' weights are the ordered
 * multiplicities, and an off-diagonal row's gradient the mean of its two orders. */
int hn_gt_pair_scatter(hn_gpu *g, const float *in, const int32_t *n, int batch, int max, int slots, int heads, const int *offs,
                       int backward, int ordered, float *out, char *err, size_t errlen);
/* Supplied pair features, rows [batch][max][max]: the weights of the pairs of the slots the batch counts. */
int hn_gt_pair_ones(hn_gpu *g, float *w, int batch, int max, int slots, char *err, size_t errlen);
/* backward 0: U += the supplied features' MLP output A [batch][max][max][heads] at the real pairs; 1: dU
 * at the real pairs into G [batch][max][max][heads] (0 elsewhere). */
int hn_gt_pair_ordered(hn_gpu *g, const float *in, const int32_t *n, int batch, int max, int heads, int backward, float *out, char *err,
                       size_t errlen);
/* A trimmed batch's slot weights: w[b][r] = 1 for r < keep of each event's rows, else 0. */
int hn_gt_slot_weights(hn_gpu *g, float *w, int batch, long rows, long keep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
