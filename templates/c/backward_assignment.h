/* backward_assignment.h — gradient of hn_k_assignment (assignment.h), SPANet's symmetric assignment head for
 * one event and one particle of k products:
 *   O[t]      = Σ_i Π_d y_d[t_d][i] / (√D)^k
 *   O_sym[j]  = (1/|G|) Σ_σ O[j∘σ],   (j∘σ)_d = j[σ(d)] = j[group[σ·k + d]]   (exactly as the forward indexes)
 *   logP[j]   = O_sym[j] − log Σ_{j'∈V} exp O_sym[j']  on the valid cells V (k distinct slots < n), −∞ elsewhere
 * Backward, from the forward's logP (P = exp logP) and the upstream gradient dlogP:
 *   dO_sym[j] = dlogP[j] − P[j]·Σ_{j'∈V} dlogP[j']                            (j ∈ V; 0 elsewhere)
 *   dO[t]     = (1/|G|) Σ_{(j, σ): j∘σ = t} dO_sym[j]    (t ∈ V too: a permutation of a valid cell is valid)
 *   dy_d[a][i] = Σ_{t ∈ V, t_d = a} dO[t]·Π_{e≠d} y_e[t_e][i] / (√D)^k
 * Conventions as backward_linear.h (activation gradients written). */
#ifndef HN_KB_ASSIGNMENT_H
#define HN_KB_ASSIGNMENT_H

/* Dependencies, for inclusion on its own; when pasted after them (generated code) the guards skip this. */
#ifndef HN_K_ASSIGNMENT_H
#include "assignment.h"
#endif

/* Features accumulated at a time (a stack array of doubles: 512 B, and as much for the term row). */
#define HN_KB_ASSIGN_CHUNK 64

/* Floats of scratch hn_kb_assignment needs: max^k, one per cell of the [max]^k tensor. */
static inline HN_K_UNUSED size_t hn_kb_assignment_scratch(int k, int max)
{
    size_t cells = 1;
    for (int d = 0; d < k; ++d) cells *= (size_t)max;
    return cells;
}

/* Steps the k-digit tuple s (base n, the last digit fastest) to the next one, digit `fixed` held; 0 after the
 * last one (s then back to 0 in the free digits). */
static inline HN_K_UNUSED int hn_kb_assign_next_but(int *s, int k, int n, int fixed)
{
    for (int e = k - 1; e >= 0; --e) {
        if (e == fixed) continue;
        if (++s[e] < n) return 1;
        s[e] = 0;
    }
    return 0;
}

/* Backward of hn_k_assignment(y, k, n, max, D, group, order, logP):
 *   y[d], k, n, max, D, group, order: as the forward (y[d] product d's rows, stride D; rows ≥ n not read);
 *   logP [max]^k: the forward's output (read on the valid cells only);
 *   dlogP [max]^k: its upstream gradient (read on the valid cells only: invalid cells are ignored, NaN there
 *       is fine);
 *   dy[d] [max][D], d < k: WRITTEN, every element (rows ≥ n are 0; all of it 0 when n < k);
 *   scratch: hn_kb_assignment_scratch(k, max) = max^k floats (only the valid cells are written: dO_sym in
 *       float). It may be dlogP itself (the upstream gradient is then consumed: its valid cells are
 *       overwritten, bit-identical dy).
 * Schedule: Σ_V dlogP in double; scratch[j] = (float)(dlogP[j] − exp((double)logP[j])·Σ) on every valid cell;
 * then for each product d, row a < n and chunk of HN_KB_ASSIGN_CHUNK features, one pass over the valid t with
 * t_d = a, each forming dO[t] from |G| scratch cells (t = j∘σ ⇔ j[group[σ·k + e]] = t_e) times
 * 1/(|G|·scale), scale the forward's float (√D)^k (so this is the gradient of what the forward computed),
 * the k − 1 other factors multiplied and the terms accumulated in double, one rounding to float at the end.
 * No symmetrised copy of dO is stored, so scratch may alias dlogP. Cost: k·|V|·(k − 1)·D multiplications
 * and k·|V|·|G|·k index steps, against the forward's |V|·|G|·k·D; k ≤ HN_K_ASSIGN_MAX_DEGREE.
 * Error, for the given logP: |Δdy_d[a][i]| ≤ u·|dy| + (2k + 2)·u·T + 2⁻⁵⁰·(|V| + 8)·T',
 * T = Σ_{(j,σ)} |dO_sym[j]|·|Π_{e≠d} y_e[t_e][i]|/(|G|·(√D)^k) over the terms of that element (u = 2⁻²⁴:
 * the float dO_sym; the float scale against (√D)^k), T' the same with |dlogP[j]| + P[j]·Σ_V|dlogP| for
 * |dO_sym[j]| (the double sums). The forward's rounding of logP reaches P: |ΔP[j]| = P[j]·|ΔlogP[j]|, one
 * more term P[j]·|ΔlogP[j]|·|Σ_V dlogP| per dO_sym[j].
 * Aliasing: scratch may be dlogP; nothing else may overlap (dy[d] each its own [max][D] block). */
static HN_K_UNUSED void hn_kb_assignment(const float *const *y, int k, int n, int max, int D, const int8_t *group,
                                         int order, const float *logP, const float *dlogP, float *const *dy,
                                         float *scratch)
{
    const int live = n >= k ? n : 0;                     /* rows < live get a gradient; the rest are 0 */
    for (int d = 0; d < k; ++d)
        if (max > live) memset(dy[d] + (size_t)live * D, 0, sizeof(float) * (size_t)(max - live) * (size_t)D);
    if (n < k || D <= 0) return;
    int j[HN_K_ASSIGN_MAX_DEGREE] = { 0 }, s[HN_K_ASSIGN_MAX_DEGREE], t[HN_K_ASSIGN_MAX_DEGREE];
    double sum = 0.0;                                    /* Σ_V dlogP */
    do {
        if (hn_k_assign_distinct(j, k)) sum += (double)dlogP[hn_k_assign_flat(j, k, max)];
    } while (hn_k_assign_next(j, k, n));
    do {                                                 /* dO_sym on the valid cells (j is back to 0) */
        if (!hn_k_assign_distinct(j, k)) continue;
        size_t c = hn_k_assign_flat(j, k, max);
        scratch[c] = (float)((double)dlogP[c] - exp((double)logP[c]) * sum);
    } while (hn_k_assign_next(j, k, n));
    float scale = 1.0f;                                  /* the forward's (√D)^k, in float */
    for (int d = 0; d < k; ++d) scale *= sqrtf((float)D);
    const double inv = 1.0 / ((double)scale * (double)order);
    for (int d = 0; d < k; ++d)
        for (int a = 0; a < n; ++a)
            for (int i0 = 0; i0 < D; i0 += HN_KB_ASSIGN_CHUNK) {
                const int w = hn_k_min(HN_KB_ASSIGN_CHUNK, D - i0);
                double acc[HN_KB_ASSIGN_CHUNK], term[HN_KB_ASSIGN_CHUNK];
                for (int i = 0; i < w; ++i) acc[i] = 0.0;
                for (int e = 0; e < k; ++e) s[e] = 0;
                s[d] = a;
                do {                                     /* the valid t = s with s_d = a */
                    if (!hn_k_assign_distinct(s, k)) continue;
                    double c = 0.0;                      /* |G|·dO[s] = Σ_σ dO_sym[j], j∘σ = s */
                    for (int q = 0; q < order; ++q) {
                        for (int e = 0; e < k; ++e) t[group[q * k + e]] = s[e];
                        c += (double)scratch[hn_k_assign_flat(t, k, max)];
                    }
                    c *= inv;
                    for (int i = 0; i < w; ++i) term[i] = c;
                    for (int e = 0; e < k; ++e) {
                        if (e == d) continue;
                        const float *ye = y[e] + (size_t)s[e] * D + i0;
                        for (int i = 0; i < w; ++i) term[i] *= (double)ye[i];
                    }
                    for (int i = 0; i < w; ++i) acc[i] += term[i];
                } while (hn_kb_assign_next_but(s, k, n, d));
                float *o = dy[d] + (size_t)a * D + i0;
                for (int i = 0; i < w; ++i) o[i] = (float)acc[i];
            }
}

#endif
