/* attention.h — multi-head attention over one event's real rows, bias and mask fused:
 *   out_i,h = Σ_j softmax_j((q_i,h/√d)·k_j,h + U[i][j][h]) v_j,h     over keys j < n only
 * qkv is [n][3D] (q | k | v, head h in columns h·d … h·d+d−1 of each), out is [n][D]. U is
 * [max][max][heads] (NULL: no bias); padded keys are never read, so they cost nothing. */
#ifndef HN_K_ATTENTION_H
#define HN_K_ATTENTION_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif
#ifndef HN_K_NORM_H
#include "norm.h"
#endif

static HN_K_UNUSED void hn_k_attention(const float *qkv, int n, int heads, int head_dim, const float *U, int max,
                                       float *out)
{
    int D = heads * head_dim;
    float scale = 1.0f / sqrtf((float)head_dim);
    float s[n > 0 ? n : 1], q[head_dim > 0 ? head_dim : 1];
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < heads; ++h) {
            const float *qi = qkv + (size_t)i * 3 * D + h * head_dim;
            for (int t = 0; t < head_dim; ++t) q[t] = qi[t] * scale;     /* PyTorch scales q first */
            float m = -INFINITY;
            for (int j = 0; j < n; ++j) {
                const float *kj = qkv + (size_t)j * 3 * D + D + h * head_dim;
                float dot = 0.0f;
                for (int t = 0; t < head_dim; ++t) dot += q[t] * kj[t];
                if (U) dot += U[((size_t)i * max + j) * heads + h];
                s[j] = dot;
                m = dot > m ? dot : m;
            }
            float sum = 0.0f;
            for (int j = 0; j < n; ++j) { s[j] = expf(s[j] - m); sum += s[j]; }
            float inv = 1.0f / sum;
            float *oi = out + (size_t)i * D + h * head_dim;
            for (int t = 0; t < head_dim; ++t) oi[t] = 0.0f;
            for (int j = 0; j < n; ++j) {
                const float *vj = qkv + (size_t)j * 3 * D + 2 * D + h * head_dim;
                float p = s[j] * inv;
                for (int t = 0; t < head_dim; ++t) oi[t] += p * vj[t];
            }
        }
}

/* Class attention (CaiT, as ParT's class blocks): one query, the raw class token c, attends to the
 * layer-normalised class token and the event's n real rows X:
 *   keys/values = W_{k,v}·LN([c; X]) + b,   query = W_q·c + b_q
 * W is in_proj [3D][D], b [3D]; ln_g/ln_b the LayerNorm's affine. Online softmax (one pass over the
 * keys, no score buffer); out is [D], the concatenated heads (before out_proj). */
static HN_K_UNUSED void hn_k_class_attention(const float *c, const float *X, int n, int D, int heads,
                                             const float *W, const float *b, const float *ln_g, const float *ln_b,
                                             float *out)
{
    int d = D / heads;
    float scale = 1.0f / sqrtf((float)d);
    float q[D], u[D], kv[2 * D], m[heads], l[heads];
    for (int o = 0; o < D; ++o) {
        float acc = 0.0f;
        for (int i = 0; i < D; ++i) acc += c[i] * W[(size_t)o * D + i];
        q[o] = (acc + b[o]) * scale;
    }
    for (int h = 0; h < heads; ++h) { m[h] = -INFINITY; l[h] = 0.0f; }
    for (int o = 0; o < D; ++o) out[o] = 0.0f;
    for (int j = -1; j < n; ++j) {                     /* key -1 is the class token itself */
        const float *row = j < 0 ? c : X + (size_t)j * D;
        hn_k_layernorm(row, 1, D, ln_g, ln_b, 1e-5f, u);
        for (int o = 0; o < 2 * D; ++o) {
            const float *w = W + (size_t)(D + o) * D;
            float acc = 0.0f;
            for (int i = 0; i < D; ++i) acc += u[i] * w[i];
            kv[o] = acc + b[D + o];
        }
        for (int h = 0; h < heads; ++h) {
            float s = 0.0f;
            for (int t = 0; t < d; ++t) s += q[h * d + t] * kv[h * d + t];
            float m_new = s > m[h] ? s : m[h];
            float rescale = expf(m[h] - m_new), p = expf(s - m_new);
            l[h] = l[h] * rescale + p;
            for (int t = 0; t < d; ++t) out[h * d + t] = out[h * d + t] * rescale + p * kv[D + h * d + t];
            m[h] = m_new;
        }
    }
    for (int h = 0; h < heads; ++h)
        for (int t = 0; t < d; ++t) out[h * d + t] /= l[h];
}

#endif
