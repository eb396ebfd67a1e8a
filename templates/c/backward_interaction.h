/* backward_interaction.h — gradients of IAFormer's own kernels (interaction.h; docs/iaformer.md), for one
 * event at a time as their forwards:
 *   hn_kb_rmsnorm               torch.nn.RMSNorm (hn_k_rmsnorm of norm.h), the particle embedding's last step
 *   hn_kb_feature_mean          the readout x.mean(−1) (the feature_mean op)
 *   hn_kb_diff_attention        differential attention (hn_k_diff_attention): dv, dL, dβ
 *   hn_kb_diff_beta             β = min(1, λ_init·exp(λ_q·λ_k)) (hn_k_diff_beta): dλ_q, dλ_k
 *   hn_kb_interaction_logits    the interaction embedding and every layer's u_proj (hn_k_interaction_logits):
 *                               the parameters' gradients (the pair features are inputs: none for them)
 * Everything is recomputed from the forward's inputs (no saved probabilities or activations). Conventions as
 * backward_linear.h: float32, parameter gradients ACCUMULATE, activation gradients are WRITTEN unless a
 * function says otherwise (dL accumulates, as hn_kb_attention's dU: the logits of all layers are one tensor);
 * no allocation (per-event scratch on the stack, as the forwards); every sum in a fixed order. */
#ifndef HN_KB_INTERACTION_H
#define HN_KB_INTERACTION_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_INTERACTION_H
#include "interaction.h"
#endif
#ifndef HN_KB_LINEAR_H
#include "backward_linear.h"
#endif

/* ---- RMSNorm and the feature mean ------------------------------------------------------------------- */

/* Backward of hn_k_rmsnorm (y = x·s·γ, s = 1/√((1/dim)·Σ_k x_k² + eps)), per row r < rows, with s recomputed as
 * the forward does (the same HN_K_LANES partial sums in the same order), g = dy ⊙ γ:
 *   dx[i]      = s·(g[i] − x[i]·(s²·Σ_k g[k]·x[k]/dim))      (written)
 *   dgamma[i] += Σ_rows dy[i]·(x[i]·s)                        (accumulated; NULL: not wanted)
 * Layout: x, dy, dx [rows][dim]; gamma, dgamma [dim]. Each row is reduced (reading x and dy), and its dgamma
 * terms added, before its dx is written element by element, so dx may alias x or dy (as hn_kb_layernorm).
 * Float throughout; Σ g·x in HN_K_LANES partial sums too. Error ≈ γ(4·dim + 30)·s·(|g[i]| + |x[i]|·s²·Σ|g·x|/dim)
 * for dx, γ(rows + dim + 10)·(|dgamma| + Σ_rows|dy·x·s|) for dgamma (tests/unit/test_backward_iaformer.c). */
static HN_K_UNUSED void hn_kb_rmsnorm(const float *x, int rows, int dim, const float *gamma, float eps, const float *dy,
                                      float *dx, float *dgamma)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * dim, *gr = dy + (size_t)r * dim;
        float *dxr = dx + (size_t)r * dim;
        float sq[HN_K_LANES] = { 0.0f }, ss = 0.0f, pd[HN_K_LANES] = { 0.0f }, dot = 0.0f;
        int i = 0;
        for (; i + HN_K_LANES <= dim; i += HN_K_LANES)
            for (int l = 0; l < HN_K_LANES; ++l) {
                sq[l] += xr[i + l] * xr[i + l];
                pd[l] += gr[i + l] * gamma[i + l] * xr[i + l];
            }
        for (; i < dim; ++i) {
            ss += xr[i] * xr[i];
            dot += gr[i] * gamma[i] * xr[i];
        }
        for (int l = 0; l < HN_K_LANES; ++l) {
            ss += sq[l];
            dot += pd[l];
        }
        const float s = 1.0f / sqrtf(ss / (float)dim + eps), c = s * s * (dot / (float)dim);
        if (dgamma)
            for (i = 0; i < dim; ++i) dgamma[i] += gr[i] * (xr[i] * s);
        for (i = 0; i < dim; ++i) dxr[i] = s * (gr[i] * gamma[i] - xr[i] * c);
    }
}

/* Backward of the feature mean y[r] = (Σ_k x[r][k])/F (the feature_mean op): dx[r][k] = dy[r]/F, written
 * (exactly rounded). Layout: dy [rows], dx [rows][F]. Rows go from the last to the first and row r reads dy[r]
 * before writing dx[r][·] (indices r·F … r·F + F − 1 ≥ r), so dx may alias dy (the same start). */
static HN_K_UNUSED void hn_kb_feature_mean(const float *dy, int rows, int F, float *dx)
{
    for (int r = rows - 1; r >= 0; --r) {
        const float g = dy[r] / (float)F;
        float *o = dx + (size_t)r * F;
        for (int k = 0; k < F; ++k) o[k] = g;
    }
}

/* ---- differential attention ------------------------------------------------------------------------- */

/* Backward of hn_k_diff_attention(v, n, heads, dv, L, max, beta, out), per query row i < n and head h, with
 * p = softmax(L[2h][i][·]), q = softmax(L[2h+1][i][·]) over j < n recomputed by the forward's
 * hn_k_softmax_rows (its probabilities bit for bit), α_j = p_j − β·q_j as the forward forms it, and
 * dα_j = Σ_t dout[i][h·dv + t]·v[j][h·dv + t]:
 *   dv_out[j][h·dv + t]  = Σ_i α_ij·dout[i][h·dv + t]                  (WRITTEN, rows j < n; the sum over i in
 *                                                                       order, into the zeroed rows)
 *   dL[2h][i][j]        += p_j·(dα_j − Σ_k p_k·dα_k)                     (ACCUMULATED, i, j < n only)
 *   dL[2h + 1][i][j]    −= β·(q_j·(dα_j − Σ_k q_k·dα_k))                (ACCUMULATED, i, j < n only)
 *   *dbeta              += −Σ_{i,h} Σ_j q_j·dα_j                         (ACCUMULATED; the sum in double, in the
 *                                                                       order i, h, added once)
 * v, dv_out [max][heads·dv] (rows ≥ n neither read nor written); L, dL [2·heads][max][max]: this layer's maps
 * (the forward's L pointer: channel 2·heads·layer of the interaction_logits tensor), entries with i or j ≥ n
 * neither read nor written, so a caller that zeroes the whole logits gradient once collects every layer's part
 * in it; dout [max][heads·dv] (rows < n read). dv_out, dL, dbeta may each be NULL (not wanted; the others are
 * bit-identical). β is the forward's (hn_k_diff_beta's) value: for its parameters pass *dbeta to
 * hn_kb_diff_beta. Stack: 3·n floats. Cost ≈ 2× the forward (the two softmaxes recomputed, then 3·n·dv
 * multiply-adds per row and head). Aliasing: none (dv_out, dL must not overlap v, L, dout or each other). */
static HN_K_UNUSED void hn_kb_diff_attention(const float *v, int n, int heads, int dv, const float *L, int max, float beta,
                                             const float *dout, float *dv_out, float *dL, float *dbeta)
{
    const int D = heads * dv;
    if (n <= 0) return;
    float p[n], q[n], da[n];
    double db = 0.0;
    if (dv_out) memset(dv_out, 0, sizeof(float) * (size_t)n * (size_t)D);
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < heads; ++h) {
            memcpy(p, L + ((size_t)(2 * h) * max + i) * max, sizeof(float) * (size_t)n);
            memcpy(q, L + ((size_t)(2 * h + 1) * max + i) * max, sizeof(float) * (size_t)n);
            hn_k_softmax_rows(p, 1, n, n);
            hn_k_softmax_rows(q, 1, n, n);
            const float *go = dout + (size_t)i * D + h * dv;
            float dot_p = 0.0f, dot_q = 0.0f;
            for (int j = 0; j < n; ++j) {
                const float *vj = v + (size_t)j * D + h * dv;
                float g = 0.0f;
                for (int t = 0; t < dv; ++t) g += go[t] * vj[t];
                da[j] = g;
                dot_p += p[j] * g;
                dot_q += q[j] * g;
                if (dv_out) {
                    const float w = p[j] - beta * q[j];
                    float *dvj = dv_out + (size_t)j * D + h * dv;
                    for (int t = 0; t < dv; ++t) dvj[t] += w * go[t];
                }
            }
            if (dL) {
                float *gp = dL + ((size_t)(2 * h) * max + i) * max, *gq = dL + ((size_t)(2 * h + 1) * max + i) * max;
                for (int j = 0; j < n; ++j) {
                    gp[j] += p[j] * (da[j] - dot_p);
                    gq[j] -= beta * (q[j] * (da[j] - dot_q));
                }
            }
            db -= (double)dot_q;
        }
    if (dbeta) *dbeta += (float)db;
}

/* Backward of hn_k_diff_beta(lq, lk, len, depth) = min(1, r), r = exp(Σ_k lq[k]·lk[k])·λ_init recomputed in
 * the forward's order and precision, given dbeta = ∂loss/∂β (the sum of hn_kb_diff_attention's over the batch):
 *   dlq[k] += dbeta·r·lk[k],   dlk[k] += dbeta·r·lq[k]      (accumulated)
 * when r ≤ 1; nothing when r > 1 (or NaN), where the clamp holds β at 1: torch's clamp_(max=1) passes the
 * gradient for r ≤ max and none above (at r = 1 exactly it passes, as here). dlq, dlk [len] must not overlap
 * lq, lk. */
static HN_K_UNUSED void hn_kb_diff_beta(const float *lq, const float *lk, int len, int depth, float dbeta, float *dlq,
                                        float *dlk)
{
    float dot = 0.0f;
    for (int k = 0; k < len; ++k) dot += lq[k] * lk[k];
    const float r = expf(dot) * (float)(1.0 - exp(-1.0 / depth));
    if (!(r <= 1.0f)) return;
    const float g = dbeta * r;
    for (int k = 0; k < len; ++k) {
        dlq[k] += g * lk[k];
        dlk[k] += g * lq[k];
    }
}

/* ---- the interaction embedding and the layers' logits ----------------------------------------------- */

/* hn_kb_linear, or hn_kb_linear_cblas with HN_USE_CBLAS (as hn_k_ia_linear picks the forward's). */
static inline HN_K_UNUSED void hn_kb_ia_linear(const float *x, int rows, int in, const float *W, int out, const float *dy,
                                               float *dx, float *dW, float *db)
{
#ifdef HN_USE_CBLAS
    hn_kb_linear_cblas(x, rows, in, W, out, dy, dx, dW, db);
#else
    hn_kb_linear(x, rows, in, W, out, dy, dx, dW, db);
#endif
}

/* One tile of t pair rows (the input features in [t][nfeat]) whose logits' gradient is G (projection p's
 * block [t][nout[p]] at G + t·o_p): the embedding recomputed layer by layer, keeping each layer's
 * pre-activation z_l and output h_l = GELU(z_l) (in z, h: the layers' [t][dims[l + 1]] blocks back to back;
 * hn_k_ia_linear without activation, then hn_k_gelu: the forward's fused values bit for bit), then
 *   dWp[p] += G_pᵀ·h_K, dBp[p] += Σ G_p, dh_K = Σ_p G_p·Wp[p]     (p = 0 into ga, the others via gb, added)
 *   for l = K … 1: dz_l = dh_l ⊙ GELU'(z_l) (hn_kb_gelu), dW_l += dz_lᵀ·h_{l−1}, dB_l += Σ dz_l,
 *                  dh_{l−1} = dz_l·W_l (not for l = 1: the features need none)
 * with ga, gb [t][widest] swapped between layers. */
static HN_K_UNUSED void hn_kb_ia_tile(const hn_k_pair_mlp *mlp, int t, const float *in, float *z, float *h, const float *G,
                                      int nproj, const int *nout, const float *const *Wp, float *ga, float *gb,
                                      float *const *dW, float *const *dB, float *const *dWp, float *const *dBp)
{
    const int K = mlp->nlayers, *dims = mlp->dims;
    const float *x = in;
    size_t off = 0;
    for (int l = 0; l < K; ++l) {
        float *zl = z + off, *hl = h + off;
        const size_t count = (size_t)t * dims[l + 1];
        hn_k_ia_linear(x, t, dims[l], mlp->W[l], mlp->B[l], dims[l + 1], HN_ACT_NONE, zl);
        for (size_t k = 0; k < count; ++k) hl[k] = hn_k_gelu(zl[k]);
        x = hl;
        off += count;
    }
    const int width = dims[K];
    for (int p = 0, o0 = 0; p < nproj; o0 += nout[p++]) {
        hn_kb_ia_linear(x, t, width, Wp[p], nout[p], G + (size_t)t * o0, p == 0 ? ga : gb, dWp[p], dBp[p]);
        if (p > 0)
            for (size_t k = 0; k < (size_t)t * width; ++k) ga[k] += gb[k];
    }
    float *g = ga, *spare = gb;
    for (int l = K - 1; l >= 0; --l) {
        const size_t count = (size_t)t * dims[l + 1];
        off -= count;
        hn_kb_gelu(z + off, count, g);
        const float *xl = l ? h + off - (size_t)t * dims[l] : in;
        hn_kb_ia_linear(xl, t, dims[l], mlp->W[l], dims[l + 1], g, l ? spare : NULL, dW[l], dB[l]);
        float *swap = g;
        g = spare;
        spare = swap;
    }
}

/* Stack bytes hn_kb_interaction_logits uses for its tiles: 4·HN_IA_TILE·(nfeat + 2·Σ_{l≥1} dims[l] + Σ nout +
 * 2·widest) + 8·Σ nout (the zero pair's gradient in double). At upstream's widths (6 → 256 → 128 → 64, four
 * layers of 32 maps) 386 KiB, twice the forward's 192 KiB. */
static inline HN_K_UNUSED size_t hn_kb_interaction_logits_stack(const hn_k_pair_mlp *mlp, int nproj, const int *nout)
{
    size_t acts = 0, total = 0;
    for (int l = 1; l <= mlp->nlayers; ++l) acts += (size_t)mlp->dims[l];
    for (int p = 0; p < nproj; ++p) total += (size_t)nout[p];
    return 4 * (size_t)HN_IA_TILE * ((size_t)mlp->nfeat + 2 * acts + total + 2 * (size_t)hn_k_pair_mlp_widest(mlp)) +
           8 * total;
}

/* Backward of hn_k_interaction_logits(pairs, n, max, mlp, nproj, nout, Wp, Bp, L) with respect to its
 * parameters: dL [Σ nout][max][max] the gradient of L (entries a, b < n read; the rest, NaN included, ignored).
 * The forward gives each unordered pair (a ≥ b, a < n) with features f = pairs[a][b] (the lower triangle only;
 * the upper one is never read) the logits of E(f) at (a, b) and (b, a), and every pair whose features are all
 * zero (== 0.0f, as the forward tests them) the logits of E(0), computed once. So:
 *   a computed pair's logit gradient is G[o] = dL[o][a][b] + dL[o][b][a] (a ≠ b; dL[o][a][a] on the diagonal),
 *       one float addition;
 *   the zero vector's is G₀[o] = Σ over the zero pairs of the same, i.e. dL summed over every (a, b) that got
 *       the constant: in double, pairs in the forward's order, rounded once; its row is recomputed and
 *       back-propagated on its own (a tile of one row, as the forward computes it), before the others;
 *   the computed pairs go in the forward's tiles of HN_IA_TILE (the same gathering loop), each recomputed
 *       (hn_kb_ia_tile: no activation of more than one tile exists) and back-propagated through the projections
 *       and the GELU layers (the exact-erf derivative hn_kb_gelu_grad).
 *   dW[l] [dims[l + 1]][dims[l]], dB[l] [dims[l + 1]]   (l < mlp->nlayers: the embedding's layers)
 *   dWp[p] [nout[p]][dims[last]], dBp[p] [nout[p]]      (p < nproj: each layer's u_proj)
 * all ACCUMULATED (+=); an entry of dB or dBp may be NULL (that bias gets no gradient). mlp as the forward's:
 * no input batchnorm (mlp->bn_mean must be NULL; IAFormer has none). Summation order fixed: the zero row first,
 * then the tiles in order, each through hn_kb_linear (rows in order) or with HN_USE_CBLAS OpenBLAS's sgemm, so
 * the result does not depend on the batch or the threads. Cost ≈ 3× the forward's embedding (its recomputation,
 * then the weight gradients and the back-propagated activations); stack hn_kb_interaction_logits_stack bytes.
 * n ≤ 0 or nproj ≤ 0: nothing. Aliasing: none (the gradients must not overlap the parameters or each other). */
static HN_K_UNUSED void hn_kb_interaction_logits(const float *pairs, int n, int max, const hn_k_pair_mlp *mlp, int nproj,
                                                 const int *nout, const float *const *Wp, const float *const *Bp,
                                                 const float *dL, float *const *dW, float *const *dB,
                                                 float *const *dWp, float *const *dBp)
{
    (void)Bp;                                        /* the logits' biases do not enter their gradients */
    if (n <= 0 || nproj <= 0) return;
    const int nfeat = mlp->nfeat, widest = hn_k_pair_mlp_widest(mlp);
    int acts = 0, total = 0;
    for (int l = 1; l <= mlp->nlayers; ++l) acts += mlp->dims[l];
    for (int p = 0; p < nproj; ++p) total += nout[p];
    float in[HN_IA_TILE * hn_k_max(nfeat, 1)], z[HN_IA_TILE * hn_k_max(acts, 1)], h[HN_IA_TILE * hn_k_max(acts, 1)];
    float G[HN_IA_TILE * hn_k_max(total, 1)], ga[HN_IA_TILE * hn_k_max(widest, 1)], gb[HN_IA_TILE * hn_k_max(widest, 1)];
    double g0[hn_k_max(total, 1)];
    int ia[HN_IA_TILE], ib[HN_IA_TILE], t = 0, zeros = 0;
    const size_t mm = (size_t)max * max;

    /* the zero vector's row: the gradient summed over the pairs that got its logits */
    for (int o = 0; o < total; ++o) g0[o] = 0.0;
    for (int a = 0; a < n; ++a)
        for (int b = 0; b <= a; ++b) {
            const float *f = pairs + ((size_t)a * max + b) * nfeat;
            int zero = 1;
            for (int k = 0; k < nfeat; ++k) zero &= f[k] == 0.0f;
            if (!zero) continue;
            ++zeros;
            const float *d = dL + (size_t)a * max + b, *e = dL + (size_t)b * max + a;
            for (int o = 0; o < total; ++o) {
                g0[o] += (double)d[(size_t)o * mm];
                if (b != a) g0[o] += (double)e[(size_t)o * mm];
            }
        }
    if (zeros) {
        for (int k = 0; k < nfeat; ++k) in[k] = 0.0f;
        for (int o = 0; o < total; ++o) G[o] = (float)g0[o];     /* t = 1: block p at o_p */
        hn_kb_ia_tile(mlp, 1, in, z, h, G, nproj, nout, Wp, ga, gb, dW, dB, dWp, dBp);
    }

    /* the computed pairs, tile by tile as the forward gathers them (the same function) */
    for (int ca = 0, cb = 0; (t = hn_k_ia_next_tile(pairs, n, max, nfeat, &ca, &cb, in, ia, ib)) > 0;) {
        for (int p = 0, o0 = 0; p < nproj; o0 += nout[p++]) {
            float *Gp = G + (size_t)t * o0;
            for (int r = 0; r < t; ++r) {
                const float *d = dL + (size_t)o0 * mm + (size_t)ia[r] * max + ib[r];
                const float *e = dL + (size_t)o0 * mm + (size_t)ib[r] * max + ia[r];
                for (int o = 0; o < nout[p]; ++o) {
                    float g = d[(size_t)o * mm];
                    if (ia[r] != ib[r]) g += e[(size_t)o * mm];
                    Gp[(size_t)r * nout[p] + o] = g;
                }
            }
        }
        hn_kb_ia_tile(mlp, t, in, z, h, G, nproj, nout, Wp, ga, gb, dW, dB, dWp, dBp);
    }
}

#endif
