/* test_backward_interaction.c — the backward of IAFormer's interaction embedding and logits
 * (hn_kb_interaction_logits, templates/c/backward_interaction.h), checked as test_backward_iaformer.c describes
 * (kernel vs a double reference, reference vs finite differences, kernel vs finite differences, every
 * coordinate). Built with HN_USE_CBLAS (test_backward_interaction) and without (…_loops). */
#include "backward_iaformer_check.h"

/* the exact GELU in double, and its first two derivatives */
static double gelu_d(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }
static double phi_d(double x) { return exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846); }
static double gelu1_d(double x) { return 0.5 * erfc(-x / sqrt(2.0)) + x * phi_d(x); }
static double gelu2_d(double x) { return phi_d(x) * (2.0 - x * x); }

/* ---------------------------------------------------------------- interaction embedding and logits */

enum { IA_MAXL = 4, IA_MAXW = 8, IA_MAXP = 3 };
typedef struct { int K, dims[IA_MAXL + 1], nproj, nout[IA_MAXP]; } il_shape;

/* pairs [max][max][nfeat] (the lower triangle read), w = dL [total][max][max] (a, b < n read) */
typedef struct { const double *pairs, *w; int n, max; const il_shape *sh; double *W[IA_MAXL], *B[IA_MAXL], *Wp[IA_MAXP], *Bp[IA_MAXP]; } il_ctx;

static int il_total(const il_shape *sh)
{
    int t = 0;
    for (int p = 0; p < sh->nproj; ++p) t += sh->nout[p];
    return t;
}

/* The logits of one feature vector: lg [total]. */
static void il_logits(const il_ctx *c, const double *f, double *lg)
{
    const il_shape *sh = c->sh;
    double a[IA_MAXW], b[IA_MAXW];
    for (int k = 0; k < sh->dims[0]; ++k) a[k] = f[k];
    for (int l = 0; l < sh->K; ++l) {
        for (int o = 0; o < sh->dims[l + 1]; ++o) {
            double z = c->B[l][o];
            for (int i = 0; i < sh->dims[l]; ++i) z += c->W[l][(size_t)o * sh->dims[l] + i] * a[i];
            b[o] = gelu_d(z);
        }
        memcpy(a, b, sizeof(double) * sh->dims[l + 1]);
    }
    const int width = sh->dims[sh->K];
    for (int p = 0, o0 = 0; p < sh->nproj; o0 += sh->nout[p++])
        for (int o = 0; o < sh->nout[p]; ++o) {
            double z = c->Bp[p][o];
            for (int i = 0; i < width; ++i) z += c->Wp[p][(size_t)o * width + i] * a[i];
            lg[o0 + o] = z;
        }
}

/* The forward's semantics, plainly: every (a, b) with a, b < n gets the logits of the features of
   (max(a, b), min(a, b)). L [total][max][max] (a, b < n written) when not NULL. */
static double il_forward(const il_ctx *c, double *Lout)
{
    const int total = il_total(c->sh), nf = c->sh->dims[0], max = c->max;
    const size_t mm = (size_t)max * max;
    double lg[IA_MAXP * IA_MAXW], L = 0.0;
    labs_ = 0.0;
    for (int a = 0; a < c->n; ++a)
        for (int b = 0; b <= a; ++b) {
            il_logits(c, c->pairs + ((size_t)a * max + b) * nf, lg);
            for (int o = 0; o < total; ++o)
                for (int s = 0; s < (a == b ? 1 : 2); ++s) {
                    size_t k = (size_t)o * mm + (s ? (size_t)b * max + a : (size_t)a * max + b);
                    if (Lout) Lout[k] = lg[o];
                    if (c->w) {
                        double t = c->w[k] * lg[o];
                        L += t, labs_ += fabs(t);
                    }
                }
        }
    return L;
}
static double il_loss(void *c_) { return il_forward(c_, NULL); }

/* The reference gradients g* and their bounds' parts: e* the propagated errors of the terms, a* Σ|terms|.
 * Per unordered pair (a ≥ b), forward in double from the float parameters with, per layer (in = its width),
 *   δz ≤ γ(in + 2)·(|B| + Σ|W·h|) + Σ|W|·δh       (the float linear, any order; the inputs' errors)
 *   δh ≤ |GELU'(z)|·δz + 2e-6·|h|                  (hn_k_gelu: relative ≤ ~5e-7)
 * then G = dL[a][b] + dL[b][a] with δG = u·(|dL[a][b]| + |dL[b][a]|) (the float addition; for the zero pairs
 * the kernel's double sum rounded once is within the same), and back:
 *   dWp += G·h_K: |G|·δh + δG·|h|;  dh_K = Σ G·Wp: γ(total + nproj + 1)·Σ|G·Wp| + Σ|Wp|·δG
 *   dz = dh·GELU'(z): |GELU'|·δdh + |dh|·(|GELU''|·δz + 2e-6·(Φ + |z|·φ)) + u·|dz|  (hn_kb_gelu_grad: ≲ 1e-6)
 *   dW += dz·h_{l−1}: |dz|·δh + δdz·|h|;  dB += dz: δdz;  dh_{l−1} = Σ dz·W: γ(out + 2)·Σ|dz·W| + Σ|W|·δdz
 * The caller adds γ(rows + 2)·(|old| + a) for the accumulation over the kernel's rows (a row per computed pair,
 * one for the zero vector, in any order). */
typedef struct { double *g[2 * IA_MAXL + 2 * IA_MAXP], *e[2 * IA_MAXL + 2 * IA_MAXP], *a[2 * IA_MAXL + 2 * IA_MAXP]; } il_ref;
/* tensor q: W_l (q = 2l), B_l (2l + 1), then Wp_p (2K + 2p), Bp_p (2K + 2p + 1) */
static int il_ntensor(const il_shape *sh) { return 2 * sh->K + 2 * sh->nproj; }
static size_t il_tsize(const il_shape *sh, int q)
{
    if (q < 2 * sh->K) return q % 2 ? (size_t)sh->dims[q / 2 + 1] : (size_t)sh->dims[q / 2 + 1] * sh->dims[q / 2];
    int p = (q - 2 * sh->K) / 2;
    return q % 2 ? (size_t)sh->nout[p] : (size_t)sh->nout[p] * sh->dims[sh->K];
}

static void il_reference(const il_ctx *c, il_ref *R)
{
    const il_shape *sh = c->sh;
    const int K = sh->K, nf = sh->dims[0], max = c->max, width = sh->dims[K], total = il_total(sh);
    const size_t mm = (size_t)max * max;
    double z[IA_MAXL + 1][IA_MAXW], h[IA_MAXL + 1][IA_MAXW], dz_[IA_MAXL + 1][IA_MAXW], dh[IA_MAXL + 1][IA_MAXW];
    double ez[IA_MAXL + 1][IA_MAXW], eh[IA_MAXL + 1][IA_MAXW], edh[IA_MAXL + 1][IA_MAXW], G[IA_MAXP * IA_MAXW], eG[IA_MAXP * IA_MAXW];
    for (int a = 0; a < c->n; ++a)
        for (int b = 0; b <= a; ++b) {
            const double *f = c->pairs + ((size_t)a * max + b) * nf;
            for (int k = 0; k < nf; ++k) h[0][k] = f[k], eh[0][k] = 0.0;
            for (int l = 1; l <= K; ++l) {
                const int in = sh->dims[l - 1], out = sh->dims[l];
                const double *W = c->W[l - 1], *B = c->B[l - 1];
                for (int o = 0; o < out; ++o) {
                    double s = B[o], m = fabs(B[o]), e = 0.0;
                    for (int i = 0; i < in; ++i) {
                        double w = W[(size_t)o * in + i];
                        s += w * h[l - 1][i], m += fabs(w * h[l - 1][i]), e += fabs(w) * eh[l - 1][i];
                    }
                    z[l][o] = s, ez[l][o] = gam(in + 2) * m + e;
                    h[l][o] = gelu_d(s), eh[l][o] = fabs(gelu1_d(s)) * ez[l][o] + 2e-6 * fabs(h[l][o]);
                }
            }
            for (int o = 0; o < total; ++o) {
                double u = c->w[(size_t)o * mm + (size_t)a * max + b], v = a != b ? c->w[(size_t)o * mm + (size_t)b * max + a] : 0.0;
                G[o] = u + v, eG[o] = U32 * (fabs(u) + fabs(v));
            }
            for (int i = 0; i < width; ++i) dh[K][i] = 0.0, edh[K][i] = 0.0;
            double adh[IA_MAXW] = { 0 };
            for (int p = 0, o0 = 0; p < sh->nproj; o0 += sh->nout[p++]) {
                const int q = 2 * K + 2 * p;
                const double *Wp = c->Wp[p];
                for (int o = 0; o < sh->nout[p]; ++o) {
                    const double g = G[o0 + o], eg = eG[o0 + o];
                    for (int i = 0; i < width; ++i) {
                        size_t k = (size_t)o * width + i;
                        R->g[q][k] += g * h[K][i], R->a[q][k] += fabs(g * h[K][i]);
                        R->e[q][k] += fabs(g) * eh[K][i] + eg * fabs(h[K][i]);
                        dh[K][i] += g * Wp[k], adh[i] += fabs(g * Wp[k]), edh[K][i] += fabs(Wp[k]) * eg;
                    }
                    R->g[q + 1][o] += g, R->a[q + 1][o] += fabs(g), R->e[q + 1][o] += eg;
                }
            }
            for (int i = 0; i < width; ++i) edh[K][i] += gam(total + sh->nproj + 1) * adh[i];
            for (int l = K; l >= 1; --l) {
                const int in = sh->dims[l - 1], out = sh->dims[l];
                const double *W = c->W[l - 1];
                double edz[IA_MAXW];
                for (int o = 0; o < out; ++o) {
                    const double zz = z[l][o], g1 = gelu1_d(zz);
                    const double eg1 = fabs(gelu2_d(zz)) * ez[l][o] + 2e-6 * (0.5 * erfc(-zz / sqrt(2.0)) + fabs(zz) * phi_d(zz));
                    dz_[l][o] = dh[l][o] * g1;
                    edz[o] = fabs(g1) * edh[l][o] + fabs(dh[l][o]) * eg1 + U32 * fabs(dz_[l][o]);
                }
                const int q = 2 * (l - 1);
                for (int o = 0; o < out; ++o) {
                    for (int i = 0; i < in; ++i) {
                        size_t k = (size_t)o * in + i;
                        R->g[q][k] += dz_[l][o] * h[l - 1][i], R->a[q][k] += fabs(dz_[l][o] * h[l - 1][i]);
                        R->e[q][k] += fabs(dz_[l][o]) * eh[l - 1][i] + edz[o] * fabs(h[l - 1][i]);
                    }
                    R->g[q + 1][o] += dz_[l][o], R->a[q + 1][o] += fabs(dz_[l][o]), R->e[q + 1][o] += edz[o];
                }
                if (l > 1)
                    for (int i = 0; i < in; ++i) {
                        double s = 0.0, m = 0.0, e = 0.0;
                        for (int o = 0; o < out; ++o) {
                            double w = W[(size_t)o * in + i];
                            s += dz_[l][o] * w, m += fabs(dz_[l][o] * w), e += fabs(w) * edz[o];
                        }
                        dh[l - 1][i] = s, edh[l - 1][i] = gam(out + 2) * m + e;
                    }
            }
        }
}

typedef struct { int max, n, pad[3], zero_a, zero_b, shape, real, diag; } il_case;

static void test_interaction_logits(void)
{
    ist s = { .st = { .name = "interaction_logits (params)" } };
    static const il_shape SH[] = {
        { 2, { 6, 8, 5 }, 2, { 4, 4 } },
        { 1, { 6, 7 }, 2, { 4, 2 } },
        { 3, { 6, 8, 3, 6 }, 2, { 4, 4 } },
        { 2, { 3, 5, 8 }, 3, { 2, 4, 1 } },
    };
    /* max, n, padded particles (−1: none), an all-zero real pair (−1: none), shape, real features (1), non-zero
       diagonal (1; IAFormer's is zero, the kernels take any) */
    static const il_case IC[] = {
        { 6, 6, { 4, 5, -1 }, 2, 1, 0, 0, 0 },
        { 6, 4, { 3, -1, -1 }, -1, -1, 1, 0, 0 },   /* slots 4, 5 beyond n */
        { 1, 1, { -1, -1, -1 }, -1, -1, 0, 0, 0 },  /* the diagonal alone */
        { 6, 0, { -1, -1, -1 }, -1, -1, 0, 0, 0 },
        { 6, 6, { -1, -1, -1 }, -1, -1, 2, 0, 0 },  /* only the diagonal is zero */
        { 5, 5, { 0, -1, -1 }, 4, 2, 3, 0, 0 },
        { 6, 6, { 0, 1, 2 }, -1, -1, 0, 0, 0 },
        { 4, 4, { 0, 1, 2 }, -1, -1, 1, 0, 0 },     /* with 3 of 4 padded, add particle 3: every pair zero */
        { 8, 8, { 2, 6, -1 }, -1, -1, 0, 1, 0 },    /* hn_k_ia_pair_features of a jet */
        { 24, 22, { 7, 20, -1 }, 10, 3, 0, 0, 0 },  /* 189 computed pairs: tiles of 64, 64, 61 */
        { 20, 20, { -1, -1, -1 }, -1, -1, 3, 0, 0 }, /* 190: 64, 64, 62 */
        { 6, 6, { 5, -1, -1 }, 3, 0, 0, 0, 1 },     /* non-zero diagonal features (a computed (a, a): dL once) */
    };
    const int ncases = (int)(sizeof IC / sizeof *IC);
    for (int ci = 0; ci < ncases; ++ci) {
        const il_case *cs = &IC[ci];
        const il_shape *sh = &SH[cs->shape];
        const int max = cs->max, n = cs->n, nf = sh->dims[0], K = sh->K, total = il_total(sh), nt = il_ntensor(sh);
        const size_t mm = (size_t)max * max, np = mm * nf, nL = (size_t)total * mm;
        int padded[32] = { 0 };
        for (int k = 0; k < 3; ++k)
            if (cs->pad[k] >= 0) padded[cs->pad[k]] = 1;
        if (ci == 7) padded[3] = 1;
        /* pair features: the lower triangle (a ≥ b, a < n); mirrored into the upper one; slots ≥ n NaN */
        float *pairs = fal(np), *pairs_u = fal(np);
        if (cs->real) {
            float p4[32 * 4], pt[32], eta[32], phi[32], jet[2];
            int real[32];
            for (int a = 0; a < n; ++a) {
                float ptv = frand(1, 50), e = frand(-2, 2), ph = frand(-3.14159, 3.14159);
                p4[4 * a] = ptv * cosf(ph), p4[4 * a + 1] = ptv * sinf(ph), p4[4 * a + 2] = ptv * sinhf(e);
                p4[4 * a + 3] = ptv * coshf(e) * 1.01f;
                if (padded[a]) p4[4 * a] = p4[4 * a + 1] = p4[4 * a + 2] = p4[4 * a + 3] = 0.0f;
            }
            hn_k_ia_pair_prepare(p4, n, pt, eta, phi, real, jet);
            for (int a = 0; a < n; ++a)
                for (int b = 0; b <= a; ++b) hn_k_ia_pair_features(p4, pt, eta, phi, real, jet, a, b, pairs + ((size_t)a * max + b) * nf);
        } else
            for (int a = 0; a < n; ++a)
                for (int b = 0; b <= a; ++b) {
                    float *f = pairs + ((size_t)a * max + b) * nf;
                    int zero = (a == b && !cs->diag) || padded[a] || padded[b] || (a == cs->zero_a && b == cs->zero_b);
                    for (int k = 0; k < nf; ++k) f[k] = zero ? 0.0f : frand(-2, 2);
                }
        memcpy(pairs_u, pairs, sizeof(float) * np);
        for (int a = 0; a < n; ++a)
            for (int b = 0; b < a; ++b) memcpy(pairs + ((size_t)b * max + a) * nf, pairs + ((size_t)a * max + b) * nf, sizeof(float) * nf);
        /* parameters, and their gradients' start values */
        float *P[2 * IA_MAXL + 2 * IA_MAXP], *D0[2 * IA_MAXL + 2 * IA_MAXP], *Dg[2 * IA_MAXL + 2 * IA_MAXP];
        for (int q = 0; q < nt; ++q) {
            size_t m = il_tsize(sh, q);
            int in = q < 2 * K ? sh->dims[q / 2] : sh->dims[K];
            P[q] = fal(m), D0[q] = fal(m);
            if (q % 2) fill(P[q], m, -0.5, 0.5);
            else fill(P[q], m, -1.5 / sqrt(in), 1.5 / sqrt(in));
            fill(D0[q], m, -1, 1);
            Dg[q] = fcopy(D0[q], m);
        }
        const float *W[IA_MAXL], *B[IA_MAXL], *Wp[IA_MAXP], *Bp[IA_MAXP];
        float *dW[IA_MAXL], *dB[IA_MAXL], *dWp[IA_MAXP], *dBp[IA_MAXP];
        for (int l = 0; l < K; ++l) W[l] = P[2 * l], B[l] = P[2 * l + 1], dW[l] = Dg[2 * l], dB[l] = Dg[2 * l + 1];
        for (int p = 0; p < sh->nproj; ++p)
            Wp[p] = P[2 * K + 2 * p], Bp[p] = P[2 * K + 2 * p + 1], dWp[p] = Dg[2 * K + 2 * p], dBp[p] = Dg[2 * K + 2 * p + 1];
        const hn_k_pair_mlp mlp = { nf, NULL, NULL, NULL, NULL, K, sh->dims, W, B };
        /* dL: a, b < n random, the rest NaN (never read) */
        float *dL = fal(nL);
        for (int o = 0; o < total; ++o)
            for (int a = 0; a < n; ++a)
                for (int b = 0; b < n; ++b) dL[(size_t)o * mm + (size_t)a * max + b] = frand(-1, 1);
        hn_kb_interaction_logits(pairs, n, max, &mlp, sh->nproj, sh->nout, Wp, Bp, dL, dW, dB, dWp, dBp);
        s.st.cases++;

        /* the double forward against the template's */
        double *pd = dal(np), *wd = dal(nL), *Pd[2 * IA_MAXL + 2 * IA_MAXP];
        for (size_t k = 0; k < np; ++k) pd[k] = pairs[k] == pairs[k] ? pairs[k] : 0.0;
        for (size_t k = 0; k < nL; ++k) wd[k] = dL[k] == dL[k] ? dL[k] : 0.0;
        for (int q = 0; q < nt; ++q) Pd[q] = dup(P[q], il_tsize(sh, q));
        il_ctx c = { pd, wd, n, max, sh, { 0 }, { 0 }, { 0 }, { 0 } };
        for (int l = 0; l < K; ++l) c.W[l] = Pd[2 * l], c.B[l] = Pd[2 * l + 1];
        for (int p = 0; p < sh->nproj; ++p) c.Wp[p] = Pd[2 * K + 2 * p], c.Bp[p] = Pd[2 * K + 2 * p + 1];
        {
            float *Lf = fal(nL), *Lr = fal((size_t)total * n * n);
            double *Ldb = dal(nL), *Lrd = dal((size_t)total * n * n);
            hn_k_interaction_logits(pairs, n, max, &mlp, sh->nproj, sh->nout, Wp, Bp, Lf);
            il_forward(&c, Ldb);
            for (int o = 0; o < total; ++o)
                for (int a = 0; a < n; ++a)
                    for (int b = 0; b < n; ++b) {
                        size_t k = (size_t)o * mm + (size_t)a * max + b, r = ((size_t)o * n + a) * n + b;
                        Lr[r] = Lf[k], Lrd[r] = Ldb[k];
                    }
            check_forward(&s.st, "L", Lr, Lrd, (size_t)total * n * n, 1e-5);
            free(Lf); free(Lr); free(Ldb); free(Lrd);
        }

        /* reference and bounds */
        il_ref R;
        for (int q = 0; q < nt; ++q) {
            size_t m = il_tsize(sh, q);
            R.g[q] = dal(m), R.e[q] = dal(m), R.a[q] = dal(m);
        }
        il_reference(&c, &R);
        const double rows = (double)n * (n + 1) / 2 + 1;
        static const char *const NAMES[2] = { "dW", "dB" }, *const PNAMES[2] = { "dWp", "dBp" };
        double *tol[2 * IA_MAXL + 2 * IA_MAXP];
        for (int q = 0; q < nt; ++q) {
            size_t m = il_tsize(sh, q);
            double *want = dal(m);
            tol[q] = dal(m);
            for (size_t k = 0; k < m; ++k) {
                want[k] = D0[q][k] + R.g[q][k];
                tol[q][k] = R.e[q][k] + gam(rows + 2) * (fabs(D0[q][k]) + R.a[q][k]);
            }
            check(&s.st, q < 2 * K ? NAMES[q % 2] : PNAMES[q % 2], Dg[q], want, tol[q], m);
            free(want);
        }
        /* the upper triangle NaN (never read), and NULL biases: the same bits */
        {
            float *E[2 * IA_MAXL + 2 * IA_MAXP], *F[2 * IA_MAXL + 2 * IA_MAXP];
            for (int q = 0; q < nt; ++q) E[q] = fcopy(D0[q], il_tsize(sh, q)), F[q] = fcopy(D0[q], il_tsize(sh, q));
            float *eW[IA_MAXL], *eB[IA_MAXL], *eWp[IA_MAXP], *eBp[IA_MAXP], *fW[IA_MAXL], *fB[IA_MAXL], *fWp[IA_MAXP], *fBp[IA_MAXP];
            for (int l = 0; l < K; ++l) eW[l] = E[2 * l], eB[l] = E[2 * l + 1], fW[l] = F[2 * l], fB[l] = NULL;
            for (int p = 0; p < sh->nproj; ++p)
                eWp[p] = E[2 * K + 2 * p], eBp[p] = E[2 * K + 2 * p + 1], fWp[p] = F[2 * K + 2 * p], fBp[p] = NULL;
            hn_kb_interaction_logits(pairs_u, n, max, &mlp, sh->nproj, sh->nout, Wp, Bp, dL, eW, eB, eWp, eBp);
            hn_kb_interaction_logits(pairs, n, max, &mlp, sh->nproj, sh->nout, Wp, Bp, dL, fW, fB, fWp, fBp);
            for (int q = 0; q < nt; ++q) {
                check_same(&s.st, "grads (upper triangle NaN)", Dg[q], E[q], il_tsize(sh, q));
                if (q % 2 == 0) check_same(&s.st, "weights' grads (biases NULL)", Dg[q], F[q], il_tsize(sh, q));
                else check_same(&s.st, "biases' grads (NULL: untouched)", D0[q], F[q], il_tsize(sh, q));
                free(E[q]); free(F[q]);
            }
        }
        /* finite differences over every parameter */
        for (int q = 0; q < nt; ++q) {
            size_t m = il_tsize(sh, q);
            double *kg = grad_of(Dg[q], D0[q], m);
            char what[16];
            snprintf(what, sizeof what, "%s%d", q < 2 * K ? NAMES[q % 2] : PNAMES[q % 2], q < 2 * K ? q / 2 : (q - 2 * K) / 2);
            fd_all(&s, what, il_loss, &c, Pd[q], m, R.g[q], kg, tol[q]);
            free(kg);
        }
        for (int q = 0; q < nt; ++q) {
            free(P[q]); free(D0[q]); free(Dg[q]); free(Pd[q]); free(R.g[q]); free(R.e[q]); free(R.a[q]); free(tol[q]);
        }
        free(pairs); free(pairs_u); free(dL); free(pd); free(wd);
    }
    /* the stack the header documents at upstream's widths (6 → 256 → 128 → 64, four layers of 32 maps) */
    {
        static const int dims[4] = { 6, 256, 128, 64 }, nout[4] = { 32, 32, 32, 32 };
        const hn_k_pair_mlp up = { 6, NULL, NULL, NULL, NULL, 3, dims, NULL, NULL };
        size_t b = hn_kb_interaction_logits_stack(&up, 4, nout);
        if (b != 4 * 64 * (6 + 2 * 448 + 128 + 2 * 256) + 8 * 128) fail(&s.st, " (stack size)", "bytes", 0, (double)b, 395776, 0);
    }
    ia_report(&s);
}

int main(void)
{
    (void)report;                                          /* backward_check.h's: this test prints its own, and */
    (void)fd_check;                                        /* checks every coordinate (fd_all) */
    (void)softmax_d;
    test_interaction_logits();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
