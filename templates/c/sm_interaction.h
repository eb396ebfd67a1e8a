/* sm_interaction.h — the Standard-Model interaction matrix of an object set (arXiv:2211.05143): for
 * every pair of objects, the leading-order strength with which the two interact, an extra pair-feature
 * channel of ParT's attention bias.
 *
 * Objects are typed by one-hot flags, in the vocabulary j, b, e−, e+, μ−, μ+, γ (ids 1…7; 0: none of
 * them). A pair's entry is
 *   (j|b, j|b): g_s          (j, γ): g_e / 2          (b, γ): g_e / 3
 *   (e−, e+), (μ−, μ+): g_z  (ℓ±, γ): g_e             anything else (γγ, same-sign or e–μ leptons,
 *                                                      jet–lepton, an untyped object): 0
 * in one of three modes: HN_SM_IDS (1 where a coupling exists, else 0), HN_SM_CONST (the couplings at
 * μ0) and HN_SM_RUNNING (one-loop running to the pair's scale Q = (pT_a + pT_b)/2, clamped at 1 GeV):
 *   α_s(Q) = α_s0 / (1 + α_s0 · (33 − 2·6)/(12π) · ln(Q²/μ0²))     (n_f = 6)
 *   α(Q)   = α0 / (1 − α0 · 3/(3π) · ln(Q²/μ0²))                    (3 unit-charge flavours in the loop)
 *   g_s = √(4π α_s), g_e = √(4π α), g_z fixed.
 * The arithmetic is in double, rounded to float once. Every slot pair is written: padding pairs are 0
 * (what a data file's zero padding holds), so training's batch statistics see the same values. */
#ifndef HN_K_SM_INTERACTION_H
#define HN_K_SM_INTERACTION_H

#ifndef HN_K_COMMON_H
#include "common.h"
#endif

enum { HN_SM_IDS = 0, HN_SM_CONST = 1, HN_SM_RUNNING = 2 };
/* The constants a call reads, in this order. */
enum { HN_SM_ALPHA_S = 0, HN_SM_ALPHA = 1, HN_SM_MU0 = 2, HN_SM_GZ = 3, HN_SM_NCONST = 4 };

/* An object's id from its seven flags (the first set one), 0 when none is set. */
static inline HN_K_UNUSED int hn_k_sm_id(const float *row, const int *flag_cols)
{
    for (int k = 0; k < 7; ++k)
        if (row[flag_cols[k]] > 0.5f) return k + 1;
    return 0;
}

/* The entry of ids a, b given the couplings (g_s, g_e, g_z); ids mode passes 1, 1, 1 and reads "≠ 0". */
static inline HN_K_UNUSED double hn_k_sm_coupling(int a, int b, double gs, double ge, double gz)
{
    if (a > b) { int t = a; a = b; b = t; }                    /* a ≤ b */
    int quark_a = a == 1 || a == 2, lepton_a = a >= 3 && a <= 6;
    if (quark_a && (b == 1 || b == 2)) return gs;
    if (b == 7) return a == 1 ? ge / 2 : a == 2 ? ge / 3 : lepton_a ? ge : 0.0;
    if ((a == 3 && b == 4) || (a == 5 && b == 6)) return gz;   /* opposite-sign, same flavour */
    return 0.0;
}

/* The couplings at scale q (GeV): g[0] = g_s, g[1] = g_e. */
static inline HN_K_UNUSED void hn_k_sm_running(const double *c, double q, double *g)
{
    const double pi = 3.14159265358979323846;
    double l = 2.0 * log((q > 1.0 ? q : 1.0) / c[HN_SM_MU0]);
    double as = c[HN_SM_ALPHA_S] / (1.0 + c[HN_SM_ALPHA_S] * (33.0 - 12.0) / (12.0 * pi) * l);
    double a = c[HN_SM_ALPHA] / (1.0 - c[HN_SM_ALPHA] * 3.0 / (3.0 * pi) * l);
    g[0] = sqrt(4.0 * pi * as);
    g[1] = sqrt(4.0 * pi * a);
}

/* One pair's entry: rows ra, rb of the features (flags at flag_cols), their 4-vectors pa, pb. */
static inline HN_K_UNUSED float hn_k_sm_pair(const float *ra, const float *rb, const float *pa, const float *pb,
                                             const int *flag_cols, int mode, const double *c)
{
    int a = hn_k_sm_id(ra, flag_cols), b = hn_k_sm_id(rb, flag_cols);
    if (mode == HN_SM_IDS) return hn_k_sm_coupling(a, b, 1.0, 1.0, 1.0) != 0.0 ? 1.0f : 0.0f;
    double q = mode == HN_SM_RUNNING ? 0.5 * (sqrt((double)pa[0] * pa[0] + (double)pa[1] * pa[1]) +
                                              sqrt((double)pb[0] * pb[0] + (double)pb[1] * pb[1]))
                                     : c[HN_SM_MU0];
    double g[2];
    hn_k_sm_running(c, q, g);
    return (float)hn_k_sm_coupling(a, b, g[0], g[1], c[HN_SM_GZ]);
}

/* One event: x [max][nfeat] features, p4 [max][4], n real rows; y [max][max] every slot pair (each unordered
 * real pair computed once, the matrix being symmetric). */
static HN_K_UNUSED void hn_k_sm_interaction(const float *x, int nfeat, const int *flag_cols, const float *p4, int n,
                                            int max, int mode, const double *c, float *y)
{
    memset(y, 0, sizeof(float) * (size_t)max * (size_t)max);
    for (int a = 0; a < n; ++a)
        for (int b = 0; b <= a; ++b)
            y[(size_t)a * max + b] = y[(size_t)b * max + a] =
                hn_k_sm_pair(x + (size_t)a * nfeat, x + (size_t)b * nfeat, p4 + 4 * a, p4 + 4 * b, flag_cols, mode, c);
}

#endif
