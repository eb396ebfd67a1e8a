/* assign.c — see hepnc/assign.h and docs/spanet_decoding.md. The decoder itself is the kernel template
 * templates/c/assign_decode.h (generated SPANet code pastes the same one); this file checks arguments and
 * adds the batch loop and the evaluation purities. */
#include "hepnc/assign.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "assign_decode.h"         /* templates/c: the decoder, shared with generated code */

/* ---- decoder ---------------------------------------------------------------------------------------- */

static int degrees_valid(int m, const int *degree, int n_slots, int *max_degree)
{
    if (m < 0 || n_slots < 1 || (m > 0 && !degree)) return 0;
    int kmax = 0;
    for (int p = 0; p < m; ++p) {
        if (degree[p] < 1 || degree[p] > HN_ASSIGN_MAX_DEGREE || hn_k_assign_cells(n_slots, degree[p]) < 0) return 0;
        if (degree[p] > kmax) kmax = degree[p];
    }
    if (max_degree) *max_degree = kmax;
    return 1;
}

size_t hn_assign_scratch_bytes(int m, const int *degree, int n_slots)
{
    if (!degrees_valid(m, degree, n_slots, NULL)) return 0;
    return HN_K_ASSIGN_SCRATCH_BYTES(m, n_slots);
}







static int decode_args_valid(int m, const int *degree, int n_slots, const float *const *logp, int kmax,
                             const int32_t *slots, const void *scratch, size_t scratch_bytes)
{
    int kd = 0;
    if (!degrees_valid(m, degree, n_slots, &kd)) return 0;
    if (m == 0) return 1;
    if (!logp || !slots || !scratch || kmax < kd || scratch_bytes < hn_assign_scratch_bytes(m, degree, n_slots))
        return 0;
    for (int p = 0; p < m; ++p)
        if (!logp[p]) return 0;
    return 1;
}

int hn_assign_decode(int m, const int *degree, int n_slots, const float *const *logp, const int *group_order,
                     int kmax, int32_t *slots, float *prob, void *scratch, size_t scratch_bytes)
{
    if (!decode_args_valid(m, degree, n_slots, logp, kmax, slots, scratch, scratch_bytes)) return -1;
    if (m == 0) return 0;
    return hn_k_assign_decode_event(m, degree, n_slots, logp, 0, NULL, group_order, kmax, slots, prob, hn_k_assign_layout(scratch, m));
}

int64_t hn_assign_decode_batch(int64_t n_events, int m, const int *degree, int n_slots, const float *const *logp,
                               const int64_t *logp_stride, const int *group_order, int kmax, int32_t *slots,
                               float *prob, void *scratch, size_t scratch_bytes)
{
    if (n_events < 0 || !decode_args_valid(m, degree, n_slots, logp, kmax, slots, scratch, scratch_bytes))
        return -1;
    if (m == 0 || n_events == 0) return 0;
    if (logp_stride)
        for (int p = 0; p < m; ++p)
            if (logp_stride[p] < 0) return -1;
    hn_k_assign_scratch s = hn_k_assign_layout(scratch, m);
    int64_t total = 0;
    for (int64_t e = 0; e < n_events; ++e)
        total += hn_k_assign_decode_event(m, degree, n_slots, logp, e, logp_stride, group_order, kmax,
                              slots + e * m * kmax, prob ? prob + e * m : NULL, s);
    return total;
}

/* ---- evaluation ------------------------------------------------------------------------------------- */

static int topology_valid(const hn_assign_topology *t)
{
    if (!t || t->n_particles < 1 || t->n_particles > HN_ASSIGN_MAX_PARTICLES || t->kmax < 1 ||
        t->kmax > HN_ASSIGN_MAX_DEGREE || !t->degree || t->n_event_perms < 0 ||
        (t->n_event_perms > 0 && !t->event_perms) || t->n_clusters < 0 || t->n_clusters > HN_ASSIGN_MAX_PARTICLES ||
        (t->n_clusters > 0 && (!t->cluster_offset || !t->cluster_members)))
        return 0;
    const int m = t->n_particles;
    for (int i = 0; i < m; ++i)
        if (t->degree[i] < 1 || t->degree[i] > t->kmax) return 0;
    for (int g = 0; g < t->n_event_perms; ++g) {
        const int *sg = t->event_perms + (size_t)g * m;
        uint64_t seen = 0;
        for (int i = 0; i < m; ++i) {
            if (sg[i] < 0 || sg[i] >= m || (seen >> sg[i] & 1) || t->degree[sg[i]] != t->degree[i]) return 0;
            seen |= (uint64_t)1 << sg[i];
        }
    }
    for (int c = 0; c < t->n_clusters; ++c) {
        int lo = t->cluster_offset[c], hi = t->cluster_offset[c + 1];
        if (lo < 0 || hi < lo) return 0;
        uint64_t seen = 0;
        for (int a = lo; a < hi; ++a) {
            int i = t->cluster_members[a];
            if (i < 0 || i >= m || (seen >> i & 1) || t->degree[i] != t->degree[t->cluster_members[lo]]) return 0;
            seen |= (uint64_t)1 << i;
        }
    }
    return 1;
}

/* One event's slots with every product orbit sorted ascending (positions in increasing order). */
typedef struct event_slots { int32_t v[HN_ASSIGN_MAX_PARTICLES][HN_ASSIGN_MAX_DEGREE]; } event_slots;

static void load_sorted(const hn_assign_topology *t, const int32_t *src, event_slots *out)
{
    for (int i = 0; i < t->n_particles; ++i) {
        const int k = t->degree[i];
        int32_t *v = out->v[i];
        memcpy(v, src + (size_t)i * t->kmax, sizeof *v * (size_t)k);
        if (!t->product_orbit) continue;
        const int8_t *orb = t->product_orbit + (size_t)i * t->kmax;
        for (int d = 0; d < k; ++d)   /* selection sort within each label */
            for (int e = d + 1; e < k; ++e)
                if (orb[e] == orb[d] && v[e] < v[d]) { int32_t x = v[d]; v[d] = v[e]; v[e] = x; }
    }
}

static void load_present(const hn_assign_topology *t, const int32_t *target, const uint8_t *mask,
                         uint8_t *present)
{
    for (int i = 0; i < t->n_particles; ++i) {
        if (mask) { present[i] = mask[i] != 0; continue; }
        const int32_t *r = target + (size_t)i * t->kmax;
        int ok = 1;
        for (int d = 0; d < t->degree[i]; ++d) ok &= r[d] >= 0;
        present[i] = (uint8_t)ok;
    }
}

/* pred particle i equals target particle j (same degree by validation) on all products. */
static int equal(const event_slots *p, const event_slots *q, int i, int j, int k)
{
    for (int d = 0; d < k; ++d)
        if (p->v[i][d] != q->v[j][d]) return 0;
    return 1;
}

int hn_assign_event_purity(const hn_assign_topology *t, int64_t n_events, const int32_t *pred,
                           const int32_t *target, const uint8_t *mask, const uint8_t *select, double *purity,
                           int64_t *n_correct, int64_t *n_selected)
{
    if (!topology_valid(t) || n_events < 0 || (n_events > 0 && (!pred || !target)) || !purity) return -1;
    const int m = t->n_particles, ng = t->n_event_perms > 0 ? t->n_event_perms : 1;
    const size_t row = (size_t)m * t->kmax;
    int64_t correct = 0, selected = 0;
    event_slots p, q;
    uint8_t present[HN_ASSIGN_MAX_PARTICLES];
    for (int64_t e = 0; e < n_events; ++e) {
        if (select && !select[e]) continue;
        ++selected;
        load_sorted(t, pred + e * row, &p);
        load_sorted(t, target + e * row, &q);
        load_present(t, target + e * row, mask ? mask + e * m : NULL, present);
        int n_present = 0, best = 0;
        for (int i = 0; i < m; ++i) n_present += present[i];
        for (int g = 0; g < ng && best < n_present; ++g) {
            int acc = 0;
            for (int i = 0; i < m; ++i) {
                int j = t->n_event_perms > 0 ? t->event_perms[(size_t)g * m + i] : i;
                acc += present[j] && equal(&p, &q, i, j, t->degree[i]);
            }
            if (acc > best) best = acc;
        }
        correct += best == n_present;
    }
    *purity = selected ? (double)correct / (double)selected : NAN;
    if (n_correct) *n_correct = correct;
    if (n_selected) *n_selected = selected;
    return 0;
}

int hn_assign_cluster_purity(const hn_assign_topology *t, int64_t n_events, const int32_t *pred,
                             const int32_t *target, const uint8_t *mask, const uint8_t *select, double *purity,
                             int64_t *n_correct, int64_t *n_present)
{
    if (!topology_valid(t) || n_events < 0 || (n_events > 0 && (!pred || !target)) ||
        (t->n_clusters > 0 && !purity))
        return -1;
    const int m = t->n_particles, nc = t->n_clusters;
    const size_t row = (size_t)m * t->kmax;
    int64_t num[HN_ASSIGN_MAX_PARTICLES] = { 0 }, den[HN_ASSIGN_MAX_PARTICLES] = { 0 };
    event_slots p, q;
    uint8_t present[HN_ASSIGN_MAX_PARTICLES];
    for (int64_t e = 0; e < n_events && nc > 0; ++e) {
        if (select && !select[e]) continue;
        load_sorted(t, pred + e * row, &p);
        load_sorted(t, target + e * row, &q);
        load_present(t, target + e * row, mask ? mask + e * m : NULL, present);
        for (int c = 0; c < nc; ++c) {
            const int *mem = t->cluster_members + t->cluster_offset[c];
            const int n = t->cluster_offset[c + 1] - t->cluster_offset[c];
            /* Best over all permutations = a maximum matching between predicted and present target
             * members, an edge meaning equal slots. Equality is transitive, so the graph is a disjoint
             * union of complete bipartite blocks (one per slot tuple) and matching each prediction to the
             * first free equal present target is already maximal: min(#pred, #target) per block. */
            uint64_t free_b = 0;
            for (int b = 0; b < n; ++b)
                if (present[mem[b]]) { free_b |= (uint64_t)1 << b; ++den[c]; }
            for (int a = 0; a < n; ++a)
                for (int b = 0; b < n; ++b)
                    if ((free_b >> b & 1) && equal(&p, &q, mem[a], mem[b], t->degree[mem[a]])) {
                        free_b &= ~((uint64_t)1 << b);
                        ++num[c];
                        break;
                    }
        }
    }
    for (int c = 0; c < nc; ++c) {
        purity[c] = den[c] ? (double)num[c] / (double)den[c] : NAN;
        if (n_correct) n_correct[c] = num[c];
        if (n_present) n_present[c] = den[c];
    }
    return 0;
}

int64_t hn_assign_category_select(const hn_assign_topology *t, int64_t n_events, const int32_t *target,
                                  const uint8_t *mask, const int *count, uint8_t *select)
{
    if (!topology_valid(t) || n_events < 0 || (n_events > 0 && (!target || !select)) ||
        (t->n_clusters > 0 && !count))
        return -1;
    int wildcard = 0;
    for (int c = 0; c < t->n_clusters; ++c) {
        if (count[c] < -1 || count[c] > t->cluster_offset[c + 1] - t->cluster_offset[c]) return -1;
        wildcard |= count[c] < 0;
    }
    const int m = t->n_particles;
    const size_t row = (size_t)m * t->kmax;
    uint8_t present[HN_ASSIGN_MAX_PARTICLES];
    int64_t selected = 0;
    for (int64_t e = 0; e < n_events; ++e) {
        load_present(t, target + e * row, mask ? mask + e * m : NULL, present);
        int total = 0, ok = 1;
        for (int i = 0; i < m; ++i) total += present[i];
        for (int c = 0; c < t->n_clusters && ok; ++c) {
            if (count[c] < 0) continue;
            int n = 0;
            for (int a = t->cluster_offset[c]; a < t->cluster_offset[c + 1]; ++a) n += present[t->cluster_members[a]];
            ok = n == count[c];
        }
        if (wildcard && total == 0) ok = 0;
        select[e] = (uint8_t)ok;
        selected += ok;
    }
    return selected;
}
