/* backward_attention.h — gradient of hn_k_attention (attention.h): multi-head attention over one
 * event's n real rows with the additive bias U and the key mask j < n,
 *   s_ij = (q_i/√d)·k_j + U[h][i][j],   p_ij = softmax_j(s_ij),   o_i = Σ_j p_ij v_j      (per head h)
 * Backward, recomputing each softmax row from q, k, U (no stored probabilities):
 *   dp_ij = do_i·v_j,   ds_ij = p_ij·(dp_ij − Σ_j' p_ij'·dp_ij')
 *   dq_i  = (1/√d)·Σ_j ds_ij k_j,   dk_j = (1/√d)·Σ_i ds_ij q_i,   dv_j = Σ_i p_ij do_i,   dU[h][i][j] += ds_ij
 * dU is how the loss reaches ParT's pair embedding (the same U feeds every particle block: their dU add
 * up; pair_embed's mirrored U[a][b] = U[b][a] then takes dU[a][b] + dU[b][a]). Conventions as
 * backward_linear.h. */
#ifndef HN_KB_ATTENTION_H
#define HN_KB_ATTENTION_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_ATTENTION_H
#include "attention.h"
#endif
#ifndef HN_KB_DROPOUT_H
#include "backward_dropout.h"
#endif

/* Dropout on the attention probabilities (weaver's attn_dropout: nn.MultiheadAttention's dropout, in
 * training): p'_ij = p_ij·m_ij/(1 − rate), m_ij = hn_kt_dropout_keep(seed, key, base + (h·max + i)·max + j)
 * with base = event·heads·max² (one index per slot of U's layout, so the mask does not depend on the
 * threads or the batch split). rate 0: none. The factor of element (h, i, j); 0 for a dropped one. */
typedef struct hn_kt_attn_dropout {
    float rate;
    uint64_t seed, key, base;
} hn_kt_attn_dropout;

static inline HN_K_UNUSED float hn_kt_attn_keep(const hn_kt_attn_dropout *dr, int max, int h, int i, int j)
{
    uint64_t idx = dr->base + ((uint64_t)h * (uint64_t)max + (uint64_t)i) * (uint64_t)max + (uint64_t)j;
    return hn_kt_dropout_keep(dr->seed, dr->key, idx, dr->rate) ? 1.0f / (1.0f - dr->rate) : 0.0f;
}

/* The training forward with dropout on the probabilities (one query row at a time, as hn_k_attention's
 * loop form): out_i = Σ_j p'_ij v_j. */
static HN_K_UNUSED void hn_kt_attention_dropout(const float *qkv, int n, int heads, int head_dim, const float *U, int max,
                                                const hn_kt_attn_dropout *dr, float *out)
{
    const int D = heads * head_dim;
    if (n <= 0) return;
    float s[n], q[head_dim];
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < heads; ++h) {
            hn_k_attention_row(qkv, n, heads, head_dim, h, i, U ? U + ((size_t)h * max + i) * max : NULL, q, s);
            for (int j = 0; j < n; ++j) s[j] *= hn_kt_attn_keep(dr, max, h, i, j);     /* p'_ij */
            hn_k_attention_out_row(qkv, n, heads, head_dim, h, s, out + (size_t)i * D + h * head_dim);
        }
}

/* Floats of scratch hn_kb_attention needs. */
#define HN_KB_ATTENTION_SCRATCH(n, head_dim) (2 * (size_t)(n) + (size_t)(head_dim))

/* qkv [n][3D] (q | k | v, head h in columns h·d … h·d+d−1 of each, D = heads·d) and U
 * [heads][max][max] (NULL: no bias) as the forward; dout [n][D] the gradient of its output.
 *   dqkv [n][3D]: written (all of it: dq | dk | dv, packed like qkv);
 *   dU [heads][max][max]: accumulated, only the real block [h][i < n][j < n]; NULL: not wanted
 *       (allowed with or without U: with U NULL it is still the gradient of a zero bias).
 * scratch: HN_KB_ATTENTION_SCRATCH(n, head_dim) floats (the score row, dp row and the scaled query).
 * dqkv, dU and scratch must not overlap each other or the inputs. n ≤ 0 does nothing. Scores are
 * recomputed as the loop forward does (q·(1/√d) rounded first, then the dot, then + U; the softmax of
 * hn_k_softmax_rows). Cost ≈ 3× the forward's (three n²·d products per head). */
static HN_K_UNUSED void hn_kb_attention_dropout(const float *qkv, int n, int heads, int head_dim, const float *U, int max,
                                                const hn_kt_attn_dropout *dr, const float *dout, float *dqkv, float *dU,
                                                float *scratch)
{
    const int drop = dr && dr->rate > 0.0f;
    const int D = heads * head_dim, ld = 3 * D;
    const float scale = 1.0f / sqrtf((float)head_dim);
    if (n <= 0) return;
    float *s = scratch, *dp = scratch + n, *q = scratch + 2 * n;
    memset(dqkv, 0, sizeof(float) * (size_t)n * (size_t)ld);
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < heads; ++h) {
            const float *qi = qkv + (size_t)i * ld + h * head_dim, *doi = dout + (size_t)i * D + h * head_dim;
            for (int t = 0; t < head_dim; ++t) q[t] = qi[t] * scale;
            const float *u = U ? U + ((size_t)h * max + i) * max : NULL;
            for (int j = 0; j < n; ++j) {
                const float *kj = qkv + (size_t)j * ld + D + h * head_dim;
                const float *vj = qkv + (size_t)j * ld + 2 * D + h * head_dim;
                float dot = 0.0f, g = 0.0f;
                for (int t = 0; t < head_dim; ++t) {
                    dot += q[t] * kj[t];
                    g += doi[t] * vj[t];
                }
                s[j] = u ? dot + u[j] : dot;
                dp[j] = g;
            }
            hn_k_softmax_rows(s, 1, n, n);                 /* s is now p_i· */
            if (drop)                                      /* dp_ij = m_ij·(do_i·v_j): the gradient of p_ij */
                for (int j = 0; j < n; ++j) dp[j] *= hn_kt_attn_keep(dr, max, h, i, j);
            float c = 0.0f;
            for (int j = 0; j < n; ++j) c += s[j] * dp[j];
            float *dqi = dqkv + (size_t)i * ld + h * head_dim;
            float *du = dU ? dU + ((size_t)h * max + i) * max : NULL;
            for (int j = 0; j < n; ++j) {
                const float p = s[j], ds = p * (dp[j] - c);
                const float *kj = qkv + (size_t)j * ld + D + h * head_dim;
                float *dkj = dqkv + (size_t)j * ld + D + h * head_dim;
                float *dvj = dqkv + (size_t)j * ld + 2 * D + h * head_dim;
                const float pv = drop ? p * hn_kt_attn_keep(dr, max, h, i, j) : p;   /* p'_ij, what v_j saw */
                if (du) du[j] += ds;
                for (int t = 0; t < head_dim; ++t) {
                    dqi[t] += ds * kj[t];
                    dkj[t] += ds * q[t];               /* q already carries 1/√d */
                    dvj[t] += pv * doi[t];
                }
            }
            for (int t = 0; t < head_dim; ++t) dqi[t] *= scale;
        }
}

static HN_K_UNUSED void hn_kb_attention(const float *qkv, int n, int heads, int head_dim, const float *U, int max,
                                        const float *dout, float *dqkv, float *dU, float *scratch)
{
    hn_kb_attention_dropout(qkv, n, heads, head_dim, U, max, NULL, dout, dqkv, dU, scratch);
}

#ifdef HN_USE_CBLAS
#include <cblas.h>
/* Floats of scratch hn_kb_attention_cblas needs: the probabilities and their gradient, [n][n] each. */
#define HN_KB_ATTENTION_SCRATCH_CBLAS(max) (2 * (size_t)(max) * (size_t)(max))

/* hn_kb_attention through OpenBLAS, the same contract (dqkv written, dU accumulated), per head as
 * matrices read in place from the packed rows (leading dimension 3D):
 *   S = (Q/√d)·Kᵀ + U_h,  P = softmax_rows(S),  dP = dO·Vᵀ,  dV = Pᵀ·dO,
 *   dS = P ⊙ (dP − rowsum(P ⊙ dP)),  dQ = dS·K/√d,  dK = dSᵀ·Q/√d,  dU_h += dS.
 * The scores are rounded differently from the loop version (one GEMM with Q, then the scale), within
 * the forward's own rounding. scratch: HN_KB_ATTENTION_SCRATCH_CBLAS(n) floats. */
static HN_K_UNUSED void hn_kb_attention_dropout_cblas(const float *qkv, int n, int heads, int head_dim, const float *U,
                                                      int max, const hn_kt_attn_dropout *dr, const float *dout, float *dqkv,
                                                      float *dU, float *scratch)
{
    const int drop = dr && dr->rate > 0.0f;
    const int D = heads * head_dim, ld = 3 * D;
    const float scale = 1.0f / sqrtf((float)head_dim);
    if (n <= 0) return;
    float *P = scratch, *dP = scratch + (size_t)n * n;
    for (int h = 0; h < heads; ++h) {
        const float *Q = qkv + h * head_dim, *K = qkv + D + h * head_dim, *V = qkv + 2 * D + h * head_dim;
        const float *dO = dout + h * head_dim;
        float *dQ = dqkv + h * head_dim, *dK = dqkv + D + h * head_dim, *dV = dqkv + 2 * D + h * head_dim;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, head_dim, scale, Q, ld, K, ld, 0.0f, P, n);
        if (U)
            for (int i = 0; i < n; ++i) {
                const float *u = U + ((size_t)h * max + i) * max;
                float *p = P + (size_t)i * n;
                for (int j = 0; j < n; ++j) p[j] += u[j];
            }
        hn_k_softmax_rows(P, n, n, n);
        if (drop) {               /* dV = P'ᵀ·dO with P' = P ⊙ M (in dP's place until dP is computed) */
            for (int i = 0; i < n; ++i)
                for (int j = 0; j < n; ++j) dP[(size_t)i * n + j] = P[(size_t)i * n + j] * hn_kt_attn_keep(dr, max, h, i, j);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, head_dim, n, 1.0f, dP, n, dO, D, 0.0f, dV, ld);
        } else
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, head_dim, n, 1.0f, P, n, dO, D, 0.0f, dV, ld);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, head_dim, 1.0f, dO, D, V, ld, 0.0f, dP, n);
        if (drop)                 /* the gradient of P: M ⊙ (dO·Vᵀ) */
            for (int i = 0; i < n; ++i)
                for (int j = 0; j < n; ++j) dP[(size_t)i * n + j] *= hn_kt_attn_keep(dr, max, h, i, j);
        for (int i = 0; i < n; ++i) {
            float *p = P + (size_t)i * n, *g = dP + (size_t)i * n, c = 0.0f;
            for (int j = 0; j < n; ++j) c += p[j] * g[j];
            for (int j = 0; j < n; ++j) g[j] = p[j] * (g[j] - c);          /* dS, in dP's place */
            if (dU) {
                float *du = dU + ((size_t)h * max + i) * max;
                for (int j = 0; j < n; ++j) du[j] += g[j];
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, head_dim, n, scale, dP, n, K, ld, 0.0f, dQ, ld);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, head_dim, n, scale, dP, n, Q, ld, 0.0f, dK, ld);
    }
}

static HN_K_UNUSED void hn_kb_attention_cblas(const float *qkv, int n, int heads, int head_dim, const float *U,
                                              int max, const float *dout, float *dqkv, float *dU, float *scratch)
{
    hn_kb_attention_dropout_cblas(qkv, n, heads, head_dim, U, max, NULL, dout, dqkv, dU, scratch);
}
#define HN_ATTENTION_BACKWARD hn_kb_attention_cblas
#define HN_ATTENTION_BACKWARD_DROPOUT hn_kb_attention_dropout_cblas
#define HN_ATTENTION_BACKWARD_SCRATCH(max, head_dim) HN_KB_ATTENTION_SCRATCH_CBLAS(max)
#else
#define HN_ATTENTION_BACKWARD hn_kb_attention
#define HN_ATTENTION_BACKWARD_DROPOUT hn_kb_attention_dropout
#define HN_ATTENTION_BACKWARD_SCRATCH(max, head_dim) HN_KB_ATTENTION_SCRATCH(max, head_dim)
#endif

#endif
