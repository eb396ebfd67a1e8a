/* gpu_train_attention.h — the GPU training step's launches of the multi-head `attention` op (ParT's particle
 * attention with the additive bias U and the key mask j < n), the twins of templates/c/backward_attention.h
 * (kernels: templates/cuda/train_attention.cuh). Per event b and head h, over its n[b] real rows:
 *   s_ij = (q_i/√d)·k_j + U[b][h][i][j],   p_ij = softmax_j(s_ij),   o_i = Σ_j p'_ij v_j,   p'_ij = p_ij·m_ij
 * with m_ij the dropout factor (1/(1 − rate) kept, 0 dropped; 1 without dropout).
 * Layouts (device pointers, events back to back as the C step's):
 *   qkv  [batch][max][3D]   q | k | v per row, head h in columns h·d … h·d+d−1 of each, D = heads·d
 *   U    [batch][heads][max][max]   NULL: no bias
 *   out, dout [batch][max][D]
 *   n    [batch] real rows per event (device int32; NULL: every row real; clamped to [0, max])
 * head_dim 1 … 64 (head_dim 16 runs kernels specialised for it). Deterministic: no atomics, every sum in
 * the C code's order, so two runs give the same bytes. Every function returns 0, or -1 with a message
 * in err. */
#ifndef HEPNC_GPU_TRAIN_ATTENTION_H
#define HEPNC_GPU_TRAIN_ATTENTION_H

#include <stdint.h>

#include "gpu_train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dropout on the attention probabilities, as templates/c's hn_kt_attn_dropout: element (b, h, i, j) is
 * kept when backward_dropout.h's hn_kt_dropout_keep(seed, key, base + ((b·heads + h)·max + i)·max + j,
 * rate) (base 0 gives the C step's masks, whose event b starts at b·heads·max²). rate 0 (or a NULL
 * pointer): no dropout. */
typedef struct hn_gt_attn_dropout {
    float rate;
    uint64_t seed, key, base;
} hn_gt_attn_dropout;

/* Bytes of device scratch hn_gt_attention_backward needs: the softmax statistics (m_i, 1/l_i) per
 * [batch][heads][max] query row, then — only when with_dU is 0 (no dU buffer to hold them) — the
 * score gradients ds [batch][heads][max][max]. */
size_t hn_gt_attention_scratch_bytes(int batch, int max, int heads, int with_dU);

/* The training forward: out_i = Σ_j p'_ij v_j over the real keys (online softmax) for every real row i;
 * padding rows (i ≥ n[b]) of out set to 0. dr NULL or rate 0: the plain attention (attention.cuh's
 * numbers up to rounding). out must not overlap the inputs. */
int hn_gt_attention_forward(hn_gpu *g, const float *qkv, const float *U, const int32_t *n, int batch, int max, int heads,
                            int head_dim, const hn_gt_attn_dropout *dr, float *out, char *err, size_t errlen);

/* The backward of the attention without dropout (hn_kb_attention per event), scores recomputed:
 *   dp_ij = do_i·v_j,  ds_ij = p_ij·(dp_ij − Σ_j' p_ij' dp_ij'),
 *   dq_i = (1/√d)·Σ_j ds_ij k_j,  dk_j = (1/√d)·Σ_i ds_ij q_i,  dv_j = Σ_i p_ij do_i,  dU[b][h][i][j] = ds_ij.
 * Written, all of it (not accumulated): dqkv [batch][max][3D] — real rows the gradient, padding rows 0
 * (the C step's zero-initialised value; the C kernel leaves them alone); dU [batch][heads][max][max]
 * (NULL: not wanted; allowed with or without U) — ds_ij in each event's real block i, j < n[b], 0
 * elsewhere (as the C step's memset then +=). scratch: hn_gt_attention_scratch_bytes(batch, max, heads,
 * dU != NULL) bytes, float-aligned. dqkv, dU and scratch must not overlap each other or the inputs. */
int hn_gt_attention_backward(hn_gpu *g, const float *qkv, const float *U, const int32_t *n, int batch, int max, int heads,
                             int head_dim, const float *dout, float *dqkv, float *dU, float *scratch, char *err,
                             size_t errlen);

/* The same with the forward's dropout mask recomputed (hn_kb_attention_dropout per event):
 * dp_ij = m_ij·(do_i·v_j) and dv_j = Σ_i p'_ij do_i; dr NULL or rate 0: hn_gt_attention_backward. */
int hn_gt_attention_backward_dropout(hn_gpu *g, const float *qkv, const float *U, const int32_t *n, int batch, int max,
                                     int heads, int head_dim, const hn_gt_attn_dropout *dr, const float *dout, float *dqkv,
                                     float *dU, float *scratch, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
