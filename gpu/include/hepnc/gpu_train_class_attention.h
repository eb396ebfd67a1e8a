/* gpu_train_class_attention.h — the GPU training step's backward of the `cls_attention` op (ParT's class-token
 * attention, CaiT style), the twin of templates/c/backward_class_attention.h's hn_kb_class_attention run per
 * event (kernels: templates/cuda/train_class_attention.cuh; GEMMs through hn_gpu_gemm, so cuBLAS is needed).
 * Per event b, the raw token c [D] is the only query; keys and values come from u = LayerNorm([c; X]) over
 * the token and the event's n[b] real rows X (eps 1e-5, affine ln_g, ln_b); W = [W_q; W_k; W_v] [3D][D],
 * bias [3D], heads of d = D/heads channels:
 *   q = W_q c + b_q,  [k | v]_r = W_kv u_r + b_kv (r = 0 … n, key 0 the token),
 *   p_hr = softmax_r((q_h/√d)·k_hr),  y_h = Σ_r p_hr v_hr.
 * Layouts (device pointers, events back to back as the C step's):
 *   token, dtoken, dy  [batch][D]
 *   x, dx              [batch][max][D]
 *   n                  [batch] real rows per event (device int32; NULL: every row real; clamped to [0, max])
 *   W, dW [3D][D];  bias, dbias [3D];  ln_g, ln_b, dln_g, dln_b [D]
 * Every function returns 0, or -1 with a message in err. Deterministic: no atomics, every sum in a fixed
 * order (cuBLAS GEMMs, train.cuh's two-pass column sums in double), so two runs give the same bytes. */
#ifndef HEPNC_GPU_TRAIN_CLASS_ATTENTION_H
#define HEPNC_GPU_TRAIN_CLASS_ATTENTION_H

#include <stdint.h>

#include "gpu_train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of device scratch hn_gt_class_attention_backward needs, R = batch·(max + 1) key rows:
 *   double [⌈R/256⌉ + 1][2D]   the column sums' partials and result
 *   float  [R][D]              u, the key rows' LayerNorm
 *   float  [R][2D]             kv = u·W_kvᵀ, later du = dkv·W_kv in its first R·D floats
 *   float  [R][2D]             dkv, the gradient of k | v
 *   float  [batch][D] × 2      q = c·W_qᵀ (later cu = dq·W_q), dq
 * i.e. 8·(⌈R/256⌉ + 1)·2D + 4·(5·R·D + 2·batch·D) bytes (≈ 170 MB at batch 512, max 128, D 128). */
size_t hn_gt_class_attention_scratch_bytes(int batch, int max, int D);

/* The backward of the class attention over a batch (hn_kb_class_attention per event, the forward recomputed):
 *   g_hr = dy_h·v_hr,  dz_hr = p_hr·(g_hr − Σ_r' p_hr' g_hr'),
 *   dq_h = (1/√d)·Σ_r dz_hr k_hr,  dk_hr = dz_hr·q_h/√d,  dv_hr = p_hr·dy_h,
 *   du_r = W_kvᵀ [dk|dv]_r,  LayerNorm's backward of every key row,
 *   dtoken = W_qᵀ dq + (LayerNorm's gradient of key row 0),  dx[b][r] = LayerNorm's gradient of key row r + 1.
 * Written: dtoken [batch][D] and dx [batch][max][D], whole buffers — padding rows r ≥ n[b] of dx are 0
 * (either may be NULL: not wanted). Accumulated (+=) over every event: dW (dW_q += Σ_b dq cᵀ,
 * dW_kv += Σ_b Σ_r [dk|dv]_r u_rᵀ), dbias (Σ dq | Σ dk | Σ dv), dln_g (Σ du ⊙ x̂), dln_b (Σ du) over the
 * real key rows. scratch: hn_gt_class_attention_scratch_bytes(batch, max, D) bytes, 8-byte aligned; it
 * and the outputs must not overlap each other or the inputs. D must split into `heads` heads; batch 0
 * does nothing. */
int hn_gt_class_attention_backward(hn_gpu *g, const float *token, const float *x, const int32_t *n, int batch, int max, int D,
                                   int heads, const float *W, const float *bias, const float *ln_g, const float *ln_b,
                                   const float *dy, float *dtoken, float *dx, float *dW, float *dbias, float *dln_g,
                                   float *dln_b, float *scratch, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
