/* gpu_train_interaction.h — the GPU training step's backwards of IAFormer's ops, the twins of
 * templates/c/backward_interaction.h (kernels: templates/cuda/train_interaction.cuh; GEMMs through hn_gpu_gemm and
 * train.cuh's column sums, so cuBLAS is needed). Layouts as the C step's, events back to back; n: the set's
 * counts (device int32; NULL: every row real). Deterministic: no atomics, every sum in a fixed order, so two
 * runs give the same bytes. Every function returns 0, or -1 with a message in err. */
#ifndef HEPNC_GPU_TRAIN_INTERACTION_H
#define HEPNC_GPU_TRAIN_INTERACTION_H

#include <stddef.h>
#include <stdint.h>

#include "gpu_train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RMSNorm (hn_kb_rmsnorm) over rows of dim: dx written (NULL: none), dgamma += Σ_rows dy·x·s; prod: rows·dim
 * floats of scratch. */
int hn_gt_rmsnorm_backward(hn_gpu *g, const float *x, const float *dy, long rows, int dim, const float *gamma, float eps,
                           float *dx, float *dgamma, float *prod, const hn_gt_scratch *s, char *err, size_t errlen);
/* The feature mean (hn_kb_feature_mean): dx[r][k] = dy[r]/F. */
int hn_gt_feature_mean_backward(hn_gpu *g, const float *dy, long rows, int F, float *dx, char *err, size_t errlen);

/* Bytes of scratch hn_gt_diff_attention_backward needs: the softmax statistics [batch][heads][max][4], each query's
 * ∂loss/∂β [batch][max][heads], each event's [batch] and β. */
size_t hn_gt_diff_attention_scratch_bytes(int batch, int max, int heads);
/* Differential attention (hn_kb_diff_attention per event, then hn_kb_diff_beta): v, dout, dvalues [batch][max][heads·dv]
 * (dvalues written for every slot, 0 past the count; NULL: none); L, dL the layer's 2·heads maps [max][max] of the
 * event's logits, maps_per_event floats apart (dL accumulates at i, j < n); dlq, dlk [len] accumulate. */
int hn_gt_diff_attention_backward(hn_gpu *g, const float *v, const int32_t *n, int batch, int max, int heads, int dv,
                                  const float *L, long maps_per_event, const float *lq, const float *lk, int len, int depth,
                                  const float *dout, float *dvalues, float *dL, float *dlq, float *dlk, void *scratch, char *err,
                                  size_t errlen);

/* The interaction embedding's shape: nfeat → dims[1..nlayers] (GELU after each), then nproj projections of nout[p]. */
typedef struct hn_gt_ia_shape {
    int nfeat, nlayers, dims[9], nproj, nout[16];
} hn_gt_ia_shape;
/* Bytes of scratch hn_gt_interaction_logits_backward needs at most (every pair of every slot a row of its own). */
size_t hn_gt_interaction_logits_scratch_bytes(int batch, int max, const hn_gt_ia_shape *sh);
/* The embedding's parameter gradients (hn_kb_interaction_logits per event): the rows (each event's zero vector, then its
 * pairs of non-zero features in the forward's order) gathered with their logit gradients from dL [batch][Σ nout][max][max],
 * the embedding recomputed over them with GEMMs, then back-propagated: dWp[p] += G_pᵀ·h, dBp[p] += Σ G_p, and for every
 * layer dW += dzᵀ·h_prev, dB += Σ dz. pairs [batch][max][max][nfeat]; W, B, Wp: the parameters; all gradients accumulate. */
int hn_gt_interaction_logits_backward(hn_gpu *g, const float *pairs, const float *dL, const int32_t *n, int batch, int max,
                                      const hn_gt_ia_shape *sh, const float *const *W, const float *const *B,
                                      const float *const *Wp, float *const *dW, float *const *dB, float *const *dWp,
                                      float *const *dBp, void *scratch, const hn_gt_scratch *s, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
