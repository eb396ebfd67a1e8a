/* pair.h — ParT's pairwise features of two particles from their 4-vectors (px, py, pz, E), as
 * weaver-core 0.4 `pairwise_lv_fts` computes them in float32, eps = 1e-8:
 *   Δ = √((y_a − y_b)² + Δφ²),  y = ½·ln(1 + 2pz / max(E − pz, 1e-20)),  Δφ = (φ_a − φ_b + π) mod 2π − π
 *   ln kT = ln max(min(pT_a, pT_b)·Δ, eps),  ln z = ln max(min(pT)/max(pT_a + pT_b, eps), eps)
 *   ln Δ = ln max(Δ, eps),  ln m² = ln max((E_a + E_b)² − |p_a + p_b|², eps)
 * `mod` is a floor modulo (the sign of the divisor), as torch.remainder; C's fmodf alone is not.
 * ln m² cancels badly for nearly collinear light particles, so its float32 value depends on the exact
 * operation order: the expressions below follow weaver's, and must not be contracted into FMAs
 * (gcc does not in ISO C mode; clang is told so here). Uses variable-length arrays (C11 optional
 * feature, present in gcc and clang) for per-event scratch of n ≤ max entries on the stack. */
#ifndef HN_K_PAIR_H
#define HN_K_PAIR_H

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

enum { HN_PAIR_LN_KT = 0, HN_PAIR_LN_Z = 1, HN_PAIR_LN_DELTA = 2, HN_PAIR_LN_M2 = 3, HN_PAIR_NUM = 4 };

/* Per-particle quantities reused by every pair: pT, rapidity, φ. */
static HN_K_UNUSED void hn_k_pair_prepare(const float *p4, int n, float *pt, float *rap, float *phi)
{
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
    for (int i = 0; i < n; ++i) {
        float px = p4[4 * i], py = p4[4 * i + 1], pz = p4[4 * i + 2], e = p4[4 * i + 3];
        float dz = e - pz;
        pt[i] = sqrtf(px * px + py * py);
        rap[i] = 0.5f * logf(1.0f + (2.0f * pz) / (dz > 1e-20f ? dz : 1e-20f));
        phi[i] = atan2f(py, px);
    }
}

static inline HN_K_UNUSED float hn_k_floor_mod(float a, float b)
{
    float m = fmodf(a, b);
    if (m != 0.0f && ((b < 0.0f) != (m < 0.0f))) m += b;
    return m;
}

static inline HN_K_UNUSED float hn_k_log_clamped(float x) { return logf(x > 1e-8f ? x : 1e-8f); }

/* The four features of the pair (a, b) into out[HN_PAIR_NUM]. */
static inline HN_K_UNUSED void hn_k_pair_features(const float *p4, const float *pt, const float *rap, const float *phi,
                                                  int a, int b, float *out)
{
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
    const float pi = 3.14159265358979323846f, two_pi = 6.28318530717958647692f;
    float dphi = hn_k_floor_mod(phi[a] - phi[b] + pi, two_pi) - pi;
    float drap = rap[a] - rap[b];
    float delta = sqrtf(drap * drap + dphi * dphi);
    float ptmin = pt[a] < pt[b] ? pt[a] : pt[b];
    float ptsum = pt[a] + pt[b];
    const float *va = p4 + 4 * a, *vb = p4 + 4 * b;
    float px = va[0] + vb[0], py = va[1] + vb[1], pz = va[2] + vb[2], e = va[3] + vb[3];
    out[HN_PAIR_LN_KT] = hn_k_log_clamped(ptmin * delta);
    out[HN_PAIR_LN_Z] = hn_k_log_clamped(ptmin / (ptsum > 1e-8f ? ptsum : 1e-8f));
    out[HN_PAIR_LN_DELTA] = hn_k_log_clamped(delta);
    out[HN_PAIR_LN_M2] = hn_k_log_clamped(e * e - (px * px + py * py + pz * pz));
}

/* One per-pair MLP of ParT's PairEmbed: input batchnorm, then nlayers × (1×1 conv with its batchnorm
 * folded in, GELU); dims[0] = nfeat, dims[nlayers] = heads. */
typedef struct hn_k_pair_mlp {
    int nfeat;
    const float *bn_mean, *bn_var, *bn_gamma, *bn_beta;
    int nlayers;
    const int *dims;
    const float *const *W;
    const float *const *B;
} hn_k_pair_mlp;

/* Runs an MLP over t rows of buf (the input rows, width mlp->dims[0]) using scratch of the same size;
 * returns the buffer holding the [t][heads] result. */
static HN_K_UNUSED float *hn_k_pair_mlp_rows(const hn_k_pair_mlp *mlp, int t, float *buf, float *scratch)
{
    float *cur = buf, *nxt = scratch;
    if (mlp->bn_mean)           /* ParT: the input batchnorm; IAFormer has none */
        hn_k_batchnorm(cur, t, mlp->nfeat, mlp->bn_mean, mlp->bn_var, mlp->bn_gamma, mlp->bn_beta, 1e-5f, cur);
    for (int l = 0; l < mlp->nlayers; ++l) {
#ifdef HN_USE_CBLAS
        hn_k_linear_cblas(cur, t, mlp->dims[l], mlp->W[l], mlp->B[l], mlp->dims[l + 1], HN_ACT_GELU, nxt);
#else
        hn_k_linear(cur, t, mlp->dims[l], mlp->W[l], mlp->B[l], mlp->dims[l + 1], HN_ACT_GELU, nxt);
#endif
        float *swap = cur;
        cur = nxt;
        nxt = swap;
    }
    return cur;
}

static HN_K_UNUSED int hn_k_pair_mlp_widest(const hn_k_pair_mlp *mlp)
{
    int w = mlp->nfeat;
    for (int l = 0; l <= mlp->nlayers; ++l) w = mlp->dims[l] > w ? mlp->dims[l] : w;
    return w;
}

/* ParT's pair embedding for one event, only for its real pairs, 128 pairs at a time so that the
 * (pairs × width) intermediates never exist whole (cblas_sgemm per tile with HN_USE_CBLAS, the loop kernel
 * otherwise). lv: the MLP of the 4-vector features (computed from p4 with the order sel, or read from
 * pairs [max][max][nfeat] when p4 is NULL). extra (may be NULL): weaver's fts_embed over externally
 * supplied pair features uu [max][max][C'], summed with lv's output ("sum" mode). Without extra each
 * unordered pair is computed once and mirrored (weaver's symmetric path); with extra, as weaver, every
 * ordered pair. The result goes to U[h][a][b] (heads-major: each head's bias is one contiguous
 * [max][max] matrix for the attention GEMMs). */
#define HN_PAIR_TILE 128
static HN_K_UNUSED void hn_k_pair_embed(const float *p4, const float *pairs, int n, int max, const int *sel,
                                        const hn_k_pair_mlp *lv, const float *uu, const hn_k_pair_mlp *extra, float *U)
{
    int widest = hn_k_pair_mlp_widest(lv), heads = lv->dims[lv->nlayers], nfeat = lv->nfeat;
    if (extra && hn_k_pair_mlp_widest(extra) > widest) widest = hn_k_pair_mlp_widest(extra);
    int m = n > 0 ? n : 1;
    float pt[m], rap[m], phi[m];
    float buf_a[HN_PAIR_TILE * widest], buf_b[HN_PAIR_TILE * widest], ext_a[extra ? HN_PAIR_TILE * widest : 1],
        ext_b[extra ? HN_PAIR_TILE * widest : 1];
    int ia[HN_PAIR_TILE], ib[HN_PAIR_TILE], t = 0;
    if (p4) hn_k_pair_prepare(p4, n, pt, rap, phi);
    for (int a = 0; a < n; ++a)
        for (int c = 0; c < (extra ? n : a + 1); ++c) {
            float *row = buf_a + (size_t)t * nfeat;
            if (p4) {
                float f[HN_PAIR_NUM];
                hn_k_pair_features(p4, pt, rap, phi, a, c, f);
                for (int k = 0; k < nfeat; ++k) row[k] = f[sel[k]];
            } else {
                for (int k = 0; k < nfeat; ++k) row[k] = pairs[((size_t)a * max + c) * nfeat + k];
            }
            if (extra)
                for (int k = 0; k < extra->nfeat; ++k)
                    ext_a[(size_t)t * extra->nfeat + k] = uu[((size_t)a * max + c) * extra->nfeat + k];
            ia[t] = a;
            ib[t] = c;
            int last = a == n - 1 && c == (extra ? n - 1 : a);
            if (++t < HN_PAIR_TILE && !last) continue;
            /* a full tile (or the last pairs): the MLP(s), then the scatter */
            float *out = hn_k_pair_mlp_rows(lv, t, buf_a, buf_b);
            if (extra) {
                const float *more = hn_k_pair_mlp_rows(extra, t, ext_a, ext_b);
                for (size_t i = 0; i < (size_t)t * heads; ++i) out[i] += more[i];
            }
            for (int r = 0; r < t; ++r)
                for (int h = 0; h < heads; ++h) {
                    float v = out[(size_t)r * heads + h];
                    U[((size_t)h * max + ia[r]) * max + ib[r]] = v;
                    if (!extra) U[((size_t)h * max + ib[r]) * max + ia[r]] = v;
                }
            t = 0;
        }
}

#endif
