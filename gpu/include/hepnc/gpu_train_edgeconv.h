/* gpu_train_edgeconv.h — the GPU training step's launches of ParticleNet's `edge_conv` op (weaver-core 0.4
 * EdgeConvBlock in training mode), the twins of templates/c/backward_edgeconv.h (kernels:
 * templates/cuda/train_edgeconv.cuh; the step's host code: compiler/emit_cuda_train_edgeconv.c). The edges
 * of an event are packed as the C step packs them: per real point its min(k, n − 1) real-neighbour rows
 * (weight 1), one padding row when n ≤ k (weight k − m), then one row for every padded point's edges when
 * n < max (weight k·(max − n)); the rows of the batch form one [rows][width] matrix per layer, event b's
 * first row offs[b]. The weights of an event sum to max·k: the batchnorm statistics are over
 * N = batch·max·k edge rows.
 * Layouts (device pointers): points p [batch][max][Pd], features x [batch][max][C], neighbours nb
 * [batch][max][k] (int), multiplicities w [rows], rows [rows][width], n [batch] real points per event
 * (device int32; NULL: every point real). Every function returns 0, or -1 with a message in err. */
#ifndef HEPNC_GPU_TRAIN_EDGECONV_H
#define HEPNC_GPU_TRAIN_EDGECONV_H

#include <stddef.h>
#include <stdint.h>

#include "gpu_train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most neighbours hn_gt_ec_knn selects (HN_TEC_MAXK of train_edgeconv.cuh). */
#define HN_GT_EC_MAXK 64

/* Edge rows of an event with n real of max points (n clamped to [0, max]). */
long hn_gt_ec_row_count(int n, int max, int k);

/* Device scratch of an edge_conv for `batch` events: the events' first rows (batch + 1 ints), then the
 * batchnorms' column sums over at most batch·rows rows (rows: per event) of at most cols columns. */
size_t hn_gt_ec_scratch_bytes(int batch, int rows, int cols);
/* Carves that scratch (base 16-byte aligned): *offs and the reductions' scratch s (no row statistics). */
void hn_gt_ec_scratch_carve(void *base, int batch, int rows, int cols, int **offs, hn_gt_scratch *s);

/* Each event's first row (host_offs, batch + 1 ints on the host) from the host counts (NULL: every point
 * real), uploaded to offs (device); *rows the batch's rows. */
int hn_gt_ec_offsets(hn_gpu *g, const int32_t *host_counts, int batch, int max, int k, int *host_offs, int *offs, long *rows,
                     char *err, size_t errlen);

/* The k (≤ HN_GT_EC_MAXK) nearest neighbours of every real point among its event's real points: the
 * distances and the order of hn_kt_ec_knn (−1: a padding neighbour). */
int hn_gt_ec_knn(hn_gpu *g, const float *p, const int32_t *n, int batch, int max, int Pd, int k, int *nb, char *err,
                 size_t errlen);

/* The first layer's pre-norm rows Z [rows][c1] and their multiplicities w from UV [batch][max][2·c1]
 * (U_i | V_i = x_i·Waᵀ | x_i·Wbᵀ per point): (U_i − V_i) + V_j, U_i − V_i, 0 (hn_kt_ec_edges); rows: the
 * most rows an event can have. */
int hn_gt_ec_rows(hn_gpu *g, const float *UV, const int32_t *n, int batch, int max, int k, int c1, const int *offs, long rows,
                  const int *nb, float *Z, float *w, char *err, size_t errlen);

/* A layer's batch statistics over the weighted rows (N = Σ w): mean, biased variance, running statistics
 * updated with N values (hn_kt_ec_bn_stats). */
int hn_gt_ec_bn_stats(hn_gpu *g, const float *x, long rows, const float *w, double N, int dim, float momentum,
                      float *running_mean, float *running_var, float *batch_mean, float *batch_var, const hn_gt_scratch *s,
                      char *err, size_t errlen);

/* y = ReLU((x − mean)·inv·γ + β), times w[r] when w is not NULL (hn_kt_ec_bn_relu); y ≠ x. */
int hn_gt_ec_bn_relu(hn_gpu *g, const float *x, long rows, int dim, const float *mean, const float *var, const float *gamma,
                     const float *beta, float eps, const float *w, float *y, const hn_gt_scratch *s, char *err, size_t errlen);

/* Backward of ReLU(batchnorm) over the weighted rows in training mode (hn_kt_ec_bn_relu_backward): dy
 * masked by the ReLU in place, then dx = γ·inv·(g − Σ w g/N − x̂·Σ w g x̂/N) (dx may alias x),
 * dγ += Σ w g x̂, dβ += Σ w g. */
int hn_gt_ec_bn_relu_backward(hn_gpu *g, const float *x, long rows, const float *w, double N, int dim, const float *gamma,
                              const float *beta, float eps, const float *mean, const float *var, float *dy, float *dx,
                              float *dgamma, float *dbeta, const hn_gt_scratch *s, char *err, size_t errlen);

/* The block output y [batch][max][cout] from the last layer's activations A (hn_kt_ec_output): sc NULL,
 * the shortcut already in y; else the identity x [batch][max][C]. */
int hn_gt_ec_output(hn_gpu *g, const float *A, const float *w, const int32_t *n, int batch, int max, int k, int cout,
                    const int *offs, const float *sc, int C, float *y, char *err, size_t errlen);

/* Backward of hn_gt_ec_output (hn_kt_ec_output_backward): dy masked in place, dA [rows][cout] written. */
int hn_gt_ec_output_backward(hn_gpu *g, const float *y, float *dy, const int32_t *n, int batch, int max, int k, int cout,
                             const int *offs, float *dA, char *err, size_t errlen);

/* Backward of hn_gt_ec_rows (hn_kt_ec_edges_backward): DF [batch][max][2·c1] = D | F per point. The rows whose
 * neighbour is each point are listed first (in row order, in s->inverse of hn_gt_ec_scratch_carve), so each
 * point sums its own list instead of scanning every edge row of its event. */
int hn_gt_ec_edges_backward(hn_gpu *g, const float *dZ, const float *w, const int32_t *n, int batch, int max, int k, int c1,
                            const int *offs, const int *nb, const hn_gt_scratch *s, float *DF, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
