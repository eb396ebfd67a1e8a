/* interaction.h — IAFormer (Esmail, Hammad, Nojiri, arXiv:2505.03258; code github.com/wesmail/IAFormer):
 * its six pairwise features from the particles' 4-vectors, its interaction embedding with every attention
 * layer's logits, and its differential attention, whose weights come from those logits alone (no queries or
 * keys). docs/iaformer.md describes the model. */
#ifndef HN_K_INTERACTION_H
#define HN_K_INTERACTION_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_COMMON_H
#include "common.h"
#endif
#ifndef HN_K_PAIR_H
#include "pair.h"
#endif
#ifndef HN_K_ATTENTION_H
#include "attention.h"
#endif

/* ---- pair features (utils/graph_builder.py, TopParticleGraphBuilder.process_chunk) ------------------ */

#define HN_IA_PAIR_NUM 6
#define HN_IA_PI 3.14159265358979323846
#define HN_IA_TILE 64             /* pairs per tile of the interaction embedding */

/* Per particle a < n: pT, η = asinh(pz/pT), φ = atan2(py, px) and whether it is real (E > 0, upstream's
 * particle mask); jet[0], jet[1]: pT and E of the jet, the 4-vector sum of the real particles. float32
 * throughout, summed in row order, as upstream's awkward/vector arrays of float32 compute them. */
static HN_K_UNUSED void hn_k_ia_pair_prepare(const float *p4, int n, float *pt, float *eta, float *phi, int *real,
                                             float *jet)
{
    float px = 0.0f, py = 0.0f, e = 0.0f;
    for (int a = 0; a < n; ++a) {
        const float *v = p4 + (size_t)a * 4;
        const float x2 = v[0] * v[0], y2 = v[1] * v[1];
        pt[a] = sqrtf(x2 + y2);
        eta[a] = pt[a] > 0.0f ? asinhf(v[2] / pt[a]) : 0.0f;
        phi[a] = atan2f(v[1], v[0]);
        real[a] = v[3] > 0.0f;
        if (real[a]) {
            px += v[0];
            py += v[1];
            e += v[3];
        }
    }
    const float x2 = px * px, y2 = py * py;
    jet[0] = sqrtf(x2 + y2);
    jet[1] = e;
}

/* ln x in double, with x ≤ 0 (or NaN) replaced by 1e-5 first, as upstream's ak.where(x <= 0, 1e-5, x). */
static inline HN_K_UNUSED float hn_k_ia_log(double x) { return (float)log(x > 0.0 ? x : 1e-5); }

/* The six features of the pair (a, b) into f: ln ΔR (η-based, Δφ wrapped to [−π, π)), ln kT = ln(min pT · ΔR),
 * ln z = ln(min pT / (pT_a + pT_b)), ln m², ln((pT_a + pT_b)/pT_J), ln((E_a + E_b)/E_J). All six are zero on
 * the diagonal and when either particle is padding, as upstream's loader leaves them. The arithmetic follows
 * upstream's precision step by step (float32, kT and z in double from float32 operands), one operation per
 * statement so no compiler contracts it: m² of two nearly collinear massless particles is a float32
 * cancellation, and its logarithm is only reproduced by the same roundings. */
static HN_K_UNUSED void hn_k_ia_pair_features(const float *p4, const float *pt, const float *eta, const float *phi,
                                              const int *real, const float *jet, int a, int b, float *f)
{
    if (a == b || !real[a] || !real[b]) {
        for (int k = 0; k < HN_IA_PAIR_NUM; ++k) f[k] = 0.0f;
        return;
    }
    const float *va = p4 + (size_t)a * 4, *vb = p4 + (size_t)b * 4;
    const float pi = (float)HN_IA_PI, two_pi = (float)(2.0 * HN_IA_PI);
    float dphi = phi[a] - phi[b];
    dphi = dphi + pi;
    dphi = fmodf(dphi, two_pi);
    if (dphi < 0.0f) dphi = dphi + two_pi;          /* Python's %: the sign of the divisor */
    dphi = dphi - pi;
    const float deta = eta[a] - eta[b], deta2 = deta * deta, dphi2 = dphi * dphi, dr = sqrtf(deta2 + dphi2);
    const float ptmin = pt[a] < pt[b] ? pt[a] : pt[b], ptsum = pt[a] + pt[b];
    const float e = va[3] + vb[3], sx = va[0] + vb[0], sy = va[1] + vb[1], sz = va[2] + vb[2];
    const float e2 = e * e, sx2 = sx * sx, sy2 = sy * sy, sz2 = sz * sz, sxy = sx2 + sy2, mag2 = sxy + sz2;
    const float m2 = e2 - mag2;
    f[0] = hn_k_ia_log(dr);
    f[1] = hn_k_ia_log((double)ptmin * (double)dr);
    f[2] = hn_k_ia_log((double)ptmin / (double)ptsum);
    f[3] = hn_k_ia_log(m2);
    f[4] = hn_k_ia_log(ptsum / jet[0]);
    f[5] = hn_k_ia_log(e / jet[1]);
}

/* y = W·x + b over rows, through OpenBLAS with HN_USE_CBLAS, the loop kernel otherwise. */
static inline HN_K_UNUSED void hn_k_ia_linear(const float *x, int rows, int in, const float *W, const float *b, int out,
                                              int act, float *y)
{
#ifdef HN_USE_CBLAS
    hn_k_linear_cblas(x, rows, in, W, b, out, act, y);
#else
    hn_k_linear(x, rows, in, W, b, out, act, y);
#endif
}

/* ---- interaction embedding and the attention logits (training/models/embedding.py, attention.py) ----- */

/* The next tile of computed pairs, in the forward's order (a ≥ b, row by row) from the cursor (*ca, *cb): the
 * pairs whose features are not all zero (== 0.0f; the others share the zero vector's logits), their features
 * into in [t][nfeat] and their indices into ia, ib; at most HN_IA_TILE of them. Returns t (0: none left). The
 * forward and its backward (backward_interaction.h) tile the pairs through this one function. */
static HN_K_UNUSED int hn_k_ia_next_tile(const float *pairs, int n, int max, int nfeat, int *ca, int *cb, float *in, int *ia,
                                         int *ib)
{
    int t = 0;
    for (; *ca < n; ++*ca, *cb = 0)
        for (; *cb <= *ca; ++*cb) {
            if (t == HN_IA_TILE) return t;
            const float *f = pairs + ((size_t)*ca * max + *cb) * nfeat;
            int zero = 1;
            for (int k = 0; k < nfeat; ++k) zero &= f[k] == 0.0f;
            if (zero) continue;
            for (int k = 0; k < nfeat; ++k) in[(size_t)t * nfeat + k] = f[k];
            ia[t] = *ca;
            ib[t] = *cb;
            ++t;
        }
    return t;
}

/* For one event, the interaction embedding of every pair, then every attention layer's 1×1 convolution:
 *   E(a,b)        = GELU(W_k·…GELU(W_1·f(a,b) + b_1)… + b_k)   (upstream's Conv2d stack, GELU after each)
 *   L[o_p + o][a][b] = Wp[p][o]·E(a,b) + Bp[p][o]              (layer p's u_proj, o < nout[p], o_p = Σ_{q<p} nout[q])
 * for a, b < n. pairs [max][max][nfeat] (symmetric, as upstream's loader builds them), L [Σ nout][max][max]:
 * channel-major, each head's logits one contiguous matrix. E is never stored. Each unordered pair is computed
 * once and mirrored, and a pair whose features are all zero (the diagonal and padded particles) gets the
 * logits of the zero vector, computed once: exactly the numbers upstream computes for them, since a zero row
 * times W is zero. mlp has no input batchnorm (bn_mean NULL). Tiles of HN_IA_TILE pairs, so the
 * (pairs × width) intermediates never exist whole. */
static HN_K_UNUSED void hn_k_interaction_logits(const float *pairs, int n, int max, const hn_k_pair_mlp *mlp, int nproj,
                                                const int *nout, const float *const *Wp, const float *const *Bp, float *L)
{
    int widest = hn_k_pair_mlp_widest(mlp), nfeat = mlp->nfeat, width = mlp->dims[mlp->nlayers], total = 0;
    for (int p = 0; p < nproj; ++p) total += nout[p];
    if (total > widest) widest = total;
    float buf_a[HN_IA_TILE * widest], buf_b[HN_IA_TILE * widest], lg[HN_IA_TILE * widest];
    int ia[HN_IA_TILE], ib[HN_IA_TILE], t = 0;
    /* the zero pair's logits, and every pair starts from them */
    for (int k = 0; k < nfeat; ++k) buf_a[k] = 0.0f;
    const float *e0 = hn_k_pair_mlp_rows(mlp, 1, buf_a, buf_b);
    for (int p = 0, o0 = 0; p < nproj; o0 += nout[p++]) {
        hn_k_ia_linear(e0, 1, width, Wp[p], Bp[p], nout[p], HN_ACT_NONE, lg);
        for (int o = 0; o < nout[p]; ++o)
            for (int a = 0; a < n; ++a)
                for (int b = 0; b < n; ++b) L[((size_t)(o0 + o) * max + a) * max + b] = lg[o];
    }
    for (int ca = 0, cb = 0; (t = hn_k_ia_next_tile(pairs, n, max, nfeat, &ca, &cb, buf_a, ia, ib)) > 0;) {
        /* a tile: the embedding, each layer's logits, the scatter */
        const float *emb = hn_k_pair_mlp_rows(mlp, t, buf_a, buf_b);
        for (int p = 0, o0 = 0; p < nproj; o0 += nout[p++]) {
            hn_k_ia_linear(emb, t, width, Wp[p], Bp[p], nout[p], HN_ACT_NONE, lg);
            for (int o = 0; o < nout[p]; ++o) {  /* map by map: each map's stores stay within its matrix */
                float *map = L + (size_t)(o0 + o) * max * max;
                for (int r = 0; r < t; ++r) {
                    const float v = lg[(size_t)r * nout[p] + o];
                    map[(size_t)ia[r] * max + ib[r]] = v;
                    map[(size_t)ib[r] * max + ia[r]] = v;
                }
            }
        }
    }
}

/* ---- differential attention (training/models/attention.py, MultiHeadDiffAttention) ------------------- */

/* β = min(1, λ_init·exp(Σ_k λq[k]·λk[k])) of one layer, λ_init = 1 − exp(−1/depth). */
static HN_K_UNUSED float hn_k_diff_beta(const float *lq, const float *lk, int len, int depth)
{
    float dot = 0.0f;
    for (int k = 0; k < len; ++k) dot += lq[k] * lk[k];
    float beta = expf(dot) * (float)(1.0 - exp(-1.0 / depth));
    return beta < 1.0f ? beta : 1.0f;
}

/* One event's differential attention over its n rows (queries and keys):
 *   α_h[i][j] = softmax_j(L[2h][i][·])[j] − β·softmax_j(L[2h+1][i][·])[j]
 *   out[i][h·dv + t] = Σ_j α_h[i][j]·v[j][h·dv + t]
 * v [max][heads·dv] (the value projection), L [2·heads][max][max] (this layer's logits), out [max][heads·dv]
 * (rows < n written). Two probability rows of scratch on the stack. */
static HN_K_UNUSED void hn_k_diff_attention(const float *v, int n, int heads, int dv, const float *L, int max, float beta,
                                            float *out)
{
    const int D = heads * dv;
    float s0[n > 0 ? n : 1], s1[n > 0 ? n : 1];
    for (int i = 0; i < n; ++i)
        for (int h = 0; h < heads; ++h) {
            memcpy(s0, L + ((size_t)(2 * h) * max + i) * max, sizeof(float) * (size_t)n);
            memcpy(s1, L + ((size_t)(2 * h + 1) * max + i) * max, sizeof(float) * (size_t)n);
            hn_k_softmax_rows(s0, 1, n, n);
            hn_k_softmax_rows(s1, 1, n, n);
            float *o = out + (size_t)i * D + h * dv;
            for (int t = 0; t < dv; ++t) o[t] = 0.0f;
            for (int j = 0; j < n; ++j) {
                const float w = s0[j] - beta * s1[j], *vj = v + (size_t)j * D + h * dv;
                for (int t = 0; t < dv; ++t) o[t] += w * vj[t];
            }
        }
}

/* The same attention when the padded particles are known (real[j] = E_j > 0, upstream's mask) and the logits come
 * from IAFormer's pair features, where the diagonal and every pair with a padded particle have all-zero features
 * and so, in each map, one shared logit c = L[o][i][i] (hn_k_interaction_logits gives them the zero vector's
 * logits). Exactly the function above, with that sharing used:
 *   a real query i:   softmax over its real keys j ≠ i and m_i = n − (real keys) + 1 keys of logit c,
 *                     out_i = Σ_{real j ≠ i} α_j·v_j + α_c·(v_i + Σ_{padded j} v_j)
 *   a padded query:   every key has logit c, so α = (1 − β)/n for all of them: out = (1 − β)/n · Σ_j v_j,
 *                     the same row for every padded query
 * Cost ∝ (real rows)² instead of n², which for upstream's 128 slots and ~75 constituents is a third. Sums run in
 * a fixed order (not the order of the function above: agreement to rounding, and batch-independent). */
static HN_K_UNUSED void hn_k_diff_attention_sparse(const float *v, int n, int heads, int dv, const float *L, int max,
                                                   float beta, const float *p4, float *out)
{
    const int D = heads * dv;
    int m = n > 0 ? n : 1, idx[m], nr = 0;
    for (int j = 0; j < n; ++j)
        if (p4[(size_t)j * 4 + 3] > 0.0f) idx[nr++] = j;
    float pad_sum[D > 0 ? D : 1], all_sum[D > 0 ? D : 1], s0[m + 1], s1[m + 1];
    for (int t = 0; t < D; ++t) pad_sum[t] = all_sum[t] = 0.0f;
    for (int j = 0, r = 0; j < n; ++j) {
        const float *vj = v + (size_t)j * D;
        int is_real = r < nr && idx[r] == j;
        r += is_real;
        for (int t = 0; t < D; ++t) {
            all_sum[t] += vj[t];
            if (!is_real) pad_sum[t] += vj[t];
        }
    }
    const float uniform = n > 0 ? (1.0f - beta) / (float)n : 0.0f;
    for (int i = 0, r = 0; i < n; ++i) {
        float *o = out + (size_t)i * D;
        if (!(r < nr && idx[r] == i)) {             /* a padded query: uniform weights */
            for (int t = 0; t < D; ++t) o[t] = uniform * all_sum[t];
            continue;
        }
        ++r;
        const float shared = (float)(n - nr + 1);   /* keys of logit c: the diagonal and the padded ones */
        for (int h = 0; h < heads; ++h) {
            const float *l0 = L + ((size_t)(2 * h) * max + i) * max, *l1 = L + ((size_t)(2 * h + 1) * max + i) * max;
            /* the real keys j != i in s[0..nr-2], the shared logit last */
            int k = 0;
            for (int q = 0; q < nr; ++q)
                if (idx[q] != i) {
                    s0[k] = l0[idx[q]];
                    s1[k] = l1[idx[q]];
                    ++k;
                }
            const float c0 = l0[i], c1 = l1[i];
            float m0 = c0, m1 = c1;
            for (int q = 0; q < k; ++q) {
                m0 = s0[q] > m0 ? s0[q] : m0;
                m1 = s1[q] > m1 ? s1[q] : m1;
            }
            float z0 = 0.0f, z1 = 0.0f;
            for (int q = 0; q < k; ++q) {
                s0[q] = hn_k_expf(s0[q] - m0);
                s1[q] = hn_k_expf(s1[q] - m1);
                z0 += s0[q];
                z1 += s1[q];
            }
            const float e0 = hn_k_expf(c0 - m0), e1 = hn_k_expf(c1 - m1);
            z0 += shared * e0;
            z1 += shared * e1;
            const float inv0 = 1.0f / z0, inv1 = beta / z1, wc = e0 * inv0 - e1 * inv1;
            float *oh = o + h * dv;
            const float *vi = v + (size_t)i * D + h * dv;
            for (int t = 0; t < dv; ++t) oh[t] = wc * (vi[t] + pad_sum[h * dv + t]);
            for (int q = 0, j = 0; q < nr; ++q) {
                if (idx[q] == i) continue;
                const float w = s0[j] * inv0 - s1[j] * inv1, *vj = v + (size_t)idx[q] * D + h * dv;
                ++j;
                for (int t = 0; t < dv; ++t) oh[t] += w * vj[t];
            }
        }
    }
}

#endif
