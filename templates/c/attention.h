/* attention.h — multi-head attention over one event's real rows, bias and mask fused:
 *   out_i,h = Σ_j softmax_j((q_i,h/√d)·k_j,h + U[h][i][j]) v_j,h     over keys j < n only
 * qkv is [n][3D] (q | k | v, head h in columns h·d … h·d+d−1 of each), out is [n][D]. U is
 * [heads][max][max] (NULL: no bias); padded keys are never read, so they cost nothing.
 * With HN_USE_CBLAS each head is two GEMMs (S = U + QKᵀ/√d, O = softmax(S)·V) on an n×n score matrix
 * kept on the stack (n ≤ max, 64 KiB at max 128); otherwise one query row at a time. */
#ifndef HN_K_ATTENTION_H
#define HN_K_ATTENTION_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif
#ifndef HN_K_ACTIVATIONS_H
#include "activations.h"
#endif
#ifndef HN_K_LINEAR_H
#include "linear.h"
#endif
#ifndef HN_K_NORM_H
#include "norm.h"
#endif

/* Softmax of each of `rows` rows of s (length n, row stride ld), in place, with the vectorisable exp. */
static HN_K_UNUSED void hn_k_softmax_rows(float *s, int rows, int n, int ld)
{
    for (int i = 0; i < rows; ++i) {
        float *r = s + (size_t)i * ld, m = -INFINITY, sum = 0.0f;
        for (int j = 0; j < n; ++j) m = r[j] > m ? r[j] : m;
        for (int j = 0; j < n; ++j) { r[j] = hn_k_expf(r[j] - m); sum += r[j]; }
        float inv = 1.0f / sum;
        for (int j = 0; j < n; ++j) r[j] *= inv;
    }
}

/* The probabilities of query row i of head h over the n keys into s (q: head_dim floats of scratch for the
 * query scaled by 1/√d first, as PyTorch does); u: U's row [h][i] or NULL. The loop form's scores. */
static HN_K_UNUSED void hn_k_attention_row(const float *qkv, int n, int heads, int head_dim, int h, int i, const float *u,
                                           float *q, float *s)
{
    const int D = heads * head_dim, ld = 3 * D;
    const float scale = 1.0f / sqrtf((float)head_dim);
    const float *qi = qkv + (size_t)i * ld + h * head_dim;
    for (int t = 0; t < head_dim; ++t) q[t] = qi[t] * scale;
    for (int j = 0; j < n; ++j) {
        const float *kj = qkv + (size_t)j * ld + D + h * head_dim;
        float dot = 0.0f;
        for (int t = 0; t < head_dim; ++t) dot += q[t] * kj[t];
        s[j] = u ? dot + u[j] : dot;
    }
    hn_k_softmax_rows(s, 1, n, n);
}

/* out_i,h = Σ_j s[j]·v_j,h: a query row's output from its probabilities s (the loop form). */
static HN_K_UNUSED void hn_k_attention_out_row(const float *qkv, int n, int heads, int head_dim, int h, const float *s,
                                               float *oi)
{
    const int D = heads * head_dim, ld = 3 * D;
    for (int t = 0; t < head_dim; ++t) oi[t] = 0.0f;
    for (int j = 0; j < n; ++j) {
        const float *vj = qkv + (size_t)j * ld + 2 * D + h * head_dim;
        for (int t = 0; t < head_dim; ++t) oi[t] += s[j] * vj[t];
    }
}

static HN_K_UNUSED void hn_k_attention(const float *qkv, int n, int heads, int head_dim, const float *U, int max,
                                       float *out)
{
    int D = heads * head_dim, ld = 3 * D;
    float scale = 1.0f / sqrtf((float)head_dim);
    if (n <= 0) return;
#ifdef HN_USE_CBLAS
    float S[n * n];
    for (int h = 0; h < heads; ++h) {
        for (int i = 0; i < n; ++i) {
            if (U) memcpy(S + (size_t)i * n, U + ((size_t)h * max + i) * max, sizeof(float) * (size_t)n);
            else memset(S + (size_t)i * n, 0, sizeof(float) * (size_t)n);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, head_dim, scale, qkv + h * head_dim, ld,
                    qkv + D + h * head_dim, ld, 1.0f, S, n);
        hn_k_softmax_rows(S, n, n, n);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, head_dim, n, 1.0f, S, n, qkv + 2 * D + h * head_dim,
                    ld, 0.0f, out + h * head_dim, D);
    }
#else
    (void)scale, (void)ld;
    float s[n], q[head_dim];
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < heads; ++h) {
            hn_k_attention_row(qkv, n, heads, head_dim, h, i, U ? U + ((size_t)h * max + i) * max : NULL, q, s);
            hn_k_attention_out_row(qkv, n, heads, head_dim, h, s, out + (size_t)i * D + h * head_dim);
        }
#endif
}

/* Class attention (CaiT, as ParT's class blocks): one query, the raw class token c, attends to the
 * layer-normalised class token and the event's n real rows X:
 *   keys/values = W_{k,v}·LN([c; X]) + b,   query = W_q·c + b_q
 * W is in_proj [3D][D], b [3D]; ln_g/ln_b the LayerNorm's affine (eps 1e-5, as weaver). All keys and
 * values in one GEMM; scratch (n+1)·3·D floats on the stack (200 KiB at n = 128, D = 128); out is
 * [D], the concatenated heads (before out_proj). */
static HN_K_UNUSED void hn_k_class_attention(const float *c, const float *X, int n, int D, int heads,
                                             const float *W, const float *b, const float *ln_g, const float *ln_b,
                                             float *out)
{
    int d = D / heads, keys = n + 1;
    float scale = 1.0f / sqrtf((float)d);
    float q[D], u[keys * D], kv[keys * 2 * D], s[keys];
    hn_k_linear(c, 1, D, W, b, D, HN_ACT_NONE, q);                 /* the raw token's query */
    for (int o = 0; o < D; ++o) q[o] *= scale;
    hn_k_layernorm(c, 1, D, ln_g, ln_b, 1e-5f, u);                  /* key 0: the token, normalised */
    hn_k_layernorm(X, n, D, ln_g, ln_b, 1e-5f, u + D);              /* keys 1..n: the particles */
#ifdef HN_USE_CBLAS
    hn_k_linear_cblas(u, keys, D, W + (size_t)D * D, b + D, 2 * D, HN_ACT_NONE, kv);
#else
    hn_k_linear(u, keys, D, W + (size_t)D * D, b + D, 2 * D, HN_ACT_NONE, kv);
#endif
    for (int h = 0; h < heads; ++h) {
        for (int j = 0; j < keys; ++j) {
            const float *k = kv + (size_t)j * 2 * D + h * d;
            float dot = 0.0f;
            for (int t = 0; t < d; ++t) dot += q[h * d + t] * k[t];
            s[j] = dot;
        }
        hn_k_softmax_rows(s, 1, keys, keys);
        float *o = out + h * d;
        for (int t = 0; t < d; ++t) o[t] = 0.0f;
        for (int j = 0; j < keys; ++j) {
            const float *v = kv + (size_t)j * 2 * D + D + h * d;
            for (int t = 0; t < d; ++t) o[t] += s[j] * v[t];
        }
    }
}

#endif
