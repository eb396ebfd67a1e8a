/* assignment.h — SPANet's symmetric assignment head (split form, spanet/network/symmetric_attention/
 * symmetric_attention_split.py and layers/branch_decoder.py) for one event and one particle of k products:
 *
 *   O[j_1..j_k]   = Σ_i y_1[j_1][i] · … · y_k[j_k][i] / (√D)^k            (a rank-1-per-feature k-linear form)
 *   O_sym[j]      = (1/|G|) Σ_{σ ∈ G} O[j ∘ σ]                              (G: the products' symmetry group)
 *   log P[j]      = log-softmax of O_sym over the valid cells, −inf elsewhere
 *
 * A cell is valid when its k slots are real (< n) and pairwise distinct. The log-softmax runs over all
 * valid cells of the flattened tensor at once: P is a distribution over ordered assignments. An event with
 * fewer than k real vectors has no valid cell; every cell is then −inf (upstream gives NaN there). */
#ifndef HN_K_ASSIGNMENT_H
#define HN_K_ASSIGNMENT_H

#ifndef HN_K_COMMON_H
#include "common.h"
#endif

#define HN_K_ASSIGN_MAX_DEGREE 6

/* Steps j (k digits base n, the last fastest) to the next tuple; 0 after the last one. */
static inline HN_K_UNUSED int hn_k_assign_next(int *j, int k, int n)
{
    for (int d = k - 1; d >= 0; --d) {
        if (++j[d] < n) return 1;
        j[d] = 0;
    }
    return 0;
}

static inline HN_K_UNUSED int hn_k_assign_distinct(const int *j, int k)
{
    for (int a = 0; a < k; ++a)
        for (int b = a + 1; b < k; ++b)
            if (j[a] == j[b]) return 0;
    return 1;
}

/* Flat index of tuple j in the [max]^k tensor, row-major. */
static inline HN_K_UNUSED size_t hn_k_assign_flat(const int *j, int k, int max)
{
    size_t f = 0;
    for (int d = 0; d < k; ++d) f = f * (size_t)max + (size_t)j[d];
    return f;
}

/* y[d] points at product d's rows (row stride D; rows ≥ n are not read); group: `order` permutations of
 * 0..k−1 in array form, the identity among them; out: [max]^k floats, every cell written. */
static HN_K_UNUSED void hn_k_assignment(const float *const *y, int k, int n, int max, int D, const int8_t *group,
                                        int order, float *out)
{
    size_t cells = 1;
    for (int d = 0; d < k; ++d) cells *= (size_t)max;
    for (size_t c = 0; c < cells; ++c) out[c] = -INFINITY;
    if (n < k) return;
    float scale = 1.0f;                                  /* (√D)^k in float, as torch forms it */
    for (int d = 0; d < k; ++d) scale *= sqrtf((float)D);
    int j[HN_K_ASSIGN_MAX_DEGREE] = { 0 }, s[HN_K_ASSIGN_MAX_DEGREE];
    float best = -INFINITY;
    do {                                                 /* the symmetrised form on every valid cell */
        if (!hn_k_assign_distinct(j, k)) continue;
        float sum = 0.0f;
        for (int g = 0; g < order; ++g) {
            for (int d = 0; d < k; ++d) s[d] = j[group[g * k + d]];
            float dot = 0.0f;
            for (int i = 0; i < D; ++i) {
                float prod = y[0][(size_t)s[0] * D + i];
                for (int d = 1; d < k; ++d) prod *= y[d][(size_t)s[d] * D + i];
                dot += prod;
            }
            sum += dot / scale;
        }
        float v = sum / (float)order;
        out[hn_k_assign_flat(j, k, max)] = v;
        best = hn_k_maxf(best, v);
    } while (hn_k_assign_next(j, k, n));
    double total = 0.0;                                  /* log-softmax over the valid cells */
    for (size_t c = 0; c < cells; ++c)
        if (out[c] != -INFINITY) total += exp((double)out[c] - best);
    float lse = best + (float)log(total);
    for (size_t c = 0; c < cells; ++c)
        if (out[c] != -INFINITY) out[c] -= lse;
}

#endif
