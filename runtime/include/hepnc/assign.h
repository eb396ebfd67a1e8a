/* assign.h — SPANet jet–parton assignment after the network: the greedy unique-assignment decoder and
 * the evaluation purities (upstream spanet/network/prediction_selection.py and
 * spanet/dataset/evaluator.py). Definitions and upstream differences: docs/spanet_decoding.md.
 *
 * Conventions. An event has m particles (t1, t2, ...); particle p has degree k_p (1..HN_ASSIGN_MAX_DEGREE)
 * products, each assigned to one of N slots (the concatenated sequential inputs, padding included). Its
 * network output is a float array of N^{k_p} log-probabilities in row-major (C) order,
 * cell = Σ_d j_d·N^{k_p−1−d}; masked cells hold −inf. Slot indices are int32_t, −1 = none. Per-event
 * slot arrays are [m][kmax] (kmax ≥ every k_p; entries d ≥ k_p are −1); over E events [E][m][kmax].
 *
 * Nothing here calls malloc or any other allocator, keeps state, or modifies its inputs; every function
 * is safe to call from several threads on different outputs/scratch.
 */
#ifndef HEPNC_ASSIGN_H
#define HEPNC_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HN_ASSIGN_MAX_DEGREE 8       /* products per particle (upstream's mask_jet stops at 3) */
#define HN_ASSIGN_MAX_PARTICLES 64   /* particles per event for the purities (the decoder has no limit) */

/* ---- decoder ---------------------------------------------------------------------------------------- */

/* Bytes of scratch hn_assign_decode / hn_assign_decode_batch need for m particles of these degrees over
 * n_slots slots (any alignment is fine). 0 when the arguments are invalid (m < 0, n_slots < 1, a degree
 * outside 1..HN_ASSIGN_MAX_DEGREE, or n_slots^k_p not representable). */
size_t hn_assign_scratch_bytes(int m, const int *degree, int n_slots);

/* Greedy unique assignment of one event (upstream extract_prediction, intended semantics):
 *   repeat: among the particles not yet assigned, take the (particle, cell) with the largest finite
 *   value (strict '>': ties go to the lowest particle, then to the first cell in C order); stop when no
 *   finite value remains; assign that particle the cell's slots; from then on every cell that uses any
 *   of those slots is excluded for every particle.
 * A cell is a candidate only if its value is finite (NaN, −inf and +inf never are) and its k_p slots
 * are pairwise distinct — SPANet's output already holds −inf on repeated-slot cells, so this only
 * matters for other inputs, and it makes a slot appear at most once per event for every degree.
 * Upstream differs (docs/spanet_decoding.md): np.nan_to_num(x, -np.inf) passes −inf as `copy`, so
 * NaN becomes 0 and −inf becomes −3.4e38 (finite) before decoding, and slots chosen by another particle
 * are masked for degrees ≤ 3 only; hepnc deliberately implements the intended semantics instead.
 *
 * logp[p]: particle p's N^{k_p} log-probabilities (read only). slots: [m][kmax] output, the chosen slots
 * of particle p in product order, −1s if it was not assigned (upstream writes −2). prob (may be NULL):
 * [m] output, the assignment probability |G_p|·exp(logP_p[chosen cell]) with |G_p| = group_order[p]
 * (the order of p's product symmetry group; NULL = 1), 0 for an unassigned particle. scratch:
 * hn_assign_scratch_bytes(m, degree, n_slots) bytes or more.
 * Returns the number of particles assigned, or −1 for invalid arguments (then nothing is written).
 * Cost: one scan of each particle's valid cells, plus a rescan of a particle only when its best cell
 * lost a slot to another particle; no copy of the arrays. */
int hn_assign_decode(int m, const int *degree, int n_slots, const float *const *logp, const int *group_order,
                     int kmax, int32_t *slots, float *prob, void *scratch, size_t scratch_bytes);

/* hn_assign_decode over n_events events: event e reads logp[p] + e·logp_stride[p] (floats; NULL = the
 * dense N^{k_p}) and writes slots + e·m·kmax and prob + e·m. Returns the total number of particles
 * assigned, or −1 for invalid arguments (then nothing is written). */
int64_t hn_assign_decode_batch(int64_t n_events, int m, const int *degree, int n_slots, const float *const *logp,
                               const int64_t *logp_stride, const int *group_order, int kmax, int32_t *slots,
                               float *prob, void *scratch, size_t scratch_bytes);

/* ---- evaluation (upstream SymmetricEvaluator) ------------------------------------------------------- */

/* The symmetry information the purities need; every array is read only. */
typedef struct hn_assign_topology {
    int n_particles;              /* m, 1..HN_ASSIGN_MAX_PARTICLES */
    int kmax;                     /* row length of the slot arrays, ≥ every degree, ≤ HN_ASSIGN_MAX_DEGREE */
    const int *degree;            /* [m] */
    const int8_t *product_orbit;  /* [m][kmax]: orbit label of each product under the particle's product
                                     group (e.g. top q1,q2,b → 0,0,2); products with equal labels have
                                     their slots sorted ascending before comparison. NULL = no sorting */
    int n_event_perms;            /* |G_E|; 0 = the trivial group */
    const int *event_perms;       /* [|G_E|][m], array form: σ maps particle i to event_perms[g·m + i];
                                     must map every particle to one of the same degree */
    int n_clusters;               /* orbits of G_E over the particles (e.g. {t1,t2}), ≤ HN_ASSIGN_MAX_PARTICLES */
    const int *cluster_offset;    /* [n_clusters + 1]: cluster c = cluster_members[offset[c] .. offset[c+1]) */
    const int *cluster_members;   /* particle indices; members of one cluster have equal degrees */
} hn_assign_topology;

/* Common arguments: pred and target are [E][m][kmax] slots (−1 = none); mask is [E][m], 1 = the
 * particle is present in the target (NULL = derived as upstream does without a MASK dataset: present iff
 * all k_p target slots are ≥ 0); select is [E], nonzero = the event takes part (NULL = every event).
 * Before any comparison the slots of each product orbit are sorted, in pred and target alike, on the
 * fly (the inputs are not modified). Particle i is correct against target particle j iff all k_i sorted
 * slots are equal. The two purity functions return 0, or −1 for an invalid topology or arguments. */

/* Event purity: for every selected event, best = max over σ ∈ G_E of Σ_i [pred_i == T_σ(i)]·M_σ(i); the
 * event is correct iff best == Σ_i M_i (so an event with no present particle is always correct, as
 * upstream). *purity = correct / selected, NaN when nothing is selected. n_correct, n_selected: optional
 * counts (to combine batches). */
int hn_assign_event_purity(const hn_assign_topology *t, int64_t n_events, const int32_t *pred,
                           const int32_t *target, const uint8_t *mask, const uint8_t *select, double *purity,
                           int64_t *n_correct, int64_t *n_selected);

/* Cluster ("particle") purity of every cluster c: Σ over selected events of the best, over ALL
 * permutations π of the cluster's members (not only those in G_E, as upstream), of
 * Σ_a [pred_{c_a} == T_{c_π(a)}]·M_{c_π(a)}, divided by Σ over selected events of the present members.
 * purity: [n_clusters], NaN for a cluster with no present member. n_correct, n_present: optional
 * [n_clusters] counts. The best permutation is found in O(|c|²) per event, without enumerating |c|!. */
int hn_assign_cluster_purity(const hn_assign_topology *t, int64_t n_events, const int32_t *pred,
                             const int32_t *target, const uint8_t *mask, const uint8_t *select, double *purity,
                             int64_t *n_correct, int64_t *n_present);

/* Event category of upstream's full_report: count[c] ∈ {−1 ('*'), 0 .. |cluster c|} per cluster. An event
 * is selected iff every cluster with count[c] ≥ 0 has exactly count[c] present members, and — if any
 * count[c] is −1 — the event has at least one present particle (in any cluster). select: [E] output
 * (1/0). Returns the number of selected events (event_proportion = that / E), or −1 for invalid
 * arguments. */
int64_t hn_assign_category_select(const hn_assign_topology *t, int64_t n_events, const int32_t *target,
                                  const uint8_t *mask, const int *count, uint8_t *select);

#ifdef __cplusplus
}
#endif

#endif
