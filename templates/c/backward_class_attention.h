/* backward_class_attention.h — gradient of hn_k_class_attention (attention.h): ParT's class-token
 * attention for one event, the raw token c [D] as the only query, keys and values from
 * u = LayerNorm([c; X]) (n + 1 rows, key 0 the token), W = [W_q; W_k; W_v] [3D][D], b [3D]:
 *   q = W_q c + b_q,  [k | v]_j = W_kv u_j + b_kv,  s_hj = softmax_j((q_h/√d)·k_hj),  o_h = Σ_j s_hj v_hj
 * Backward, recomputing the forward (no stored intermediates):
 *   dv_hj = s_hj·do_h,  ds_hj = do_h·v_hj,  dz_hj = s_hj·(ds_hj − Σ_j' s_hj'·ds_hj')
 *   dq_h = (1/√d)·Σ_j dz_hj·k_hj,  dk_hj = dz_hj·q_h/√d
 *   dW_kv += Σ_j [dk|dv]_jᵀ u_j,  du_j = W_kvᵀ [dk|dv]_j,  then LayerNorm's backward over the n + 1 rows
 *   dW_q += dq cᵀ,  dc = W_qᵀ dq + (LayerNorm's gradient of row 0)
 * Parameter gradients accumulate; dc, dX are written (each may be NULL). scratch: HN_KB_CLASS_ATTENTION_SCRATCH
 * floats. Conventions as backward_linear.h. */
#ifndef HN_KB_CLASS_ATTENTION_H
#define HN_KB_CLASS_ATTENTION_H

#ifndef HN_K_ATTENTION_H
#include "attention.h"
#endif
#ifndef HN_K_NORM_H
#include "norm.h"
#endif
#ifndef HN_KB_LINEAR_H
#include "backward_linear.h"
#endif
#ifndef HN_KB_NORM_H
#include "backward_norm.h"
#endif

#define HN_KB_CLASS_ATTENTION_SCRATCH(n, D) ((size_t)((n) + 1) * (6 * (size_t)(D) + 1) + 3 * (size_t)(D))

static HN_K_UNUSED void hn_kb_class_attention(const float *c, const float *X, int n, int D, int heads,
                                              const float *W, const float *b, const float *ln_g, const float *ln_b,
                                              const float *dout, float *dc, float *dX, float *dW, float *db,
                                              float *dln_g, float *dln_b, float *scratch)
{
    const int d = D / heads, keys = n + 1;
    const float scale = 1.0f / sqrtf((float)d);
    float *q = scratch, *dq = q + D, *s = dq + D, *u = s + keys, *kv = u + (size_t)keys * D;
    float *dkv = kv + (size_t)keys * 2 * D, *du = dkv + (size_t)keys * 2 * D, *cu = du + (size_t)keys * D;
    /* forward, as hn_k_class_attention */
    hn_k_linear(c, 1, D, W, b, D, HN_ACT_NONE, q);
    for (int o = 0; o < D; ++o) q[o] *= scale;
    hn_k_layernorm(c, 1, D, ln_g, ln_b, 1e-5f, u);
    hn_k_layernorm(X, n, D, ln_g, ln_b, 1e-5f, u + D);
    hn_k_linear(u, keys, D, W + (size_t)D * D, b + D, 2 * D, HN_ACT_NONE, kv);
    memset(dkv, 0, sizeof(float) * (size_t)keys * 2 * D);
    for (int h = 0; h < heads; ++h) {
        const float *doh = dout + h * d;
        for (int j = 0; j < keys; ++j) {
            const float *k = kv + (size_t)j * 2 * D + h * d;
            float dot = 0.0f;
            for (int t = 0; t < d; ++t) dot += q[h * d + t] * k[t];
            s[j] = dot;
        }
        hn_k_softmax_rows(s, 1, keys, keys);
        float sum = 0.0f;
        for (int j = 0; j < keys; ++j) {           /* ds_j in dkv's v slot first, then replaced */
            const float *v = kv + (size_t)j * 2 * D + D + h * d;
            float g = 0.0f;
            for (int t = 0; t < d; ++t) g += doh[t] * v[t];
            du[j] = g;                              /* ds_hj, temporarily */
            sum += s[j] * g;
        }
        for (int t = 0; t < d; ++t) dq[h * d + t] = 0.0f;
        for (int j = 0; j < keys; ++j) {
            const float dz = s[j] * (du[j] - sum);
            const float *k = kv + (size_t)j * 2 * D + h * d;
            float *dk = dkv + (size_t)j * 2 * D + h * d, *dv = dkv + (size_t)j * 2 * D + D + h * d;
            for (int t = 0; t < d; ++t) {
                dq[h * d + t] += dz * k[t];
                dk[t] = dz * q[h * d + t];          /* q is already scaled */
                dv[t] = s[j] * doh[t];
            }
        }
        for (int t = 0; t < d; ++t) dq[h * d + t] *= scale;
    }
    /* keys and values: W_kv, b_kv, du */
    hn_kb_linear(u, keys, D, W + (size_t)D * D, 2 * D, dkv, du, dW + (size_t)D * D, db + D);
    /* LayerNorm over [c; X] */
    hn_kb_layernorm(c, 1, D, ln_g, 1e-5f, du, du, dln_g, dln_b);
    if (n > 0) hn_kb_layernorm(X, n, D, ln_g, 1e-5f, du + D, dX ? dX : du + D, dln_g, dln_b);
    /* the query */
    hn_kb_linear(c, 1, D, W, D, dq, cu, dW, db);
    if (dc)
        for (int o = 0; o < D; ++o) dc[o] = cu[o] + du[o];
}

#endif
