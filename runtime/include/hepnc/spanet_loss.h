/* spanet_loss.h — SPANet's training loss (upstream spanet/network/jet_reconstruction/
 * jet_reconstruction_training.py, training_step after the forward) and its gradients with respect to the
 * network's outputs, for the generated training step (docs/spanet.md, "Training loss").
 *
 * The loss is the MEAN of a list of terms: the m per-particle assignment terms (when assignment_scale > 0),
 * the m per-particle detection terms (when detection_scale > 0), one term per regression and one per
 * classification target. Each function below adds its terms' SUM to *sum and writes the gradient of
 * (its terms' sum) / n_terms, so that with n_terms = the whole list's length the caller's loss is
 * *sum / n_terms and the gradients add up to the gradient of that mean.
 *
 * Assignment and detection (the event-symmetric part), per event b and element σ of the event group G_E
 * (array form: particle i takes the targets of particle σ(i)):
 *   ℓ_i   = log P_i[b, cell(T_σ(i)[b])] + log|G_i|       (|G_i|: the particle's product group order)
 *   CE_i  = −ℓ_i·(1 − e^ℓ_i)^γ·W_σ(i)[b]   (0 when particle σ(i) is absent: M_σ(i)[b] = 0)
 *   DET_i = BCEWithLogits(det_i[b], M_σ(i)[b])·W_σ(i)[b]
 *   σ*(b) = argmin_σ Σ_i (a·CE_i + d·DET_i)   (the first minimum), then with M*_i = M_σ*(i):
 *   A_i = a·Σ_b CE_i(σ*) / max(1, Σ_b M*_i[b]),   D_i = d·Σ_b DET_i(σ*) / max(1, Σ_b M*_i[b])
 * (`mean` instead of `min` averages CE and DET over σ, the normalisation still by M*). A particle is present
 * when all its targets are ≥ 0 unless a mask is given; a target of −1 counts as slot 0 where it is masked.
 * Regression (NaN targets skipped): gaussian mean(((y − t)/std)²), laplacian mean(|y − t|/std),
 * log_gaussian mean((y − t)²), times the regression scale. Classification: cross-entropy of the logits
 * with ignore_index −1, mean over the labelled events, times the classification scale.
 *
 * No allocation; nothing is kept between calls; the inputs are not modified. */
#ifndef HEPNC_SPANET_LOSS_H
#define HEPNC_SPANET_LOSS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HN_SPANET_LOSS_MAX_PARTICLES 16
#define HN_SPANET_LOSS_MAX_DEGREE 8

enum { HN_SPANET_COMBINE_MIN = 0, HN_SPANET_COMBINE_MEAN = 1 };

typedef struct hn_spanet_loss_spec {
    int m;                        /* event particles, 1..HN_SPANET_LOSS_MAX_PARTICLES */
    const int *degree;            /* [m] products per particle, 1..HN_SPANET_LOSS_MAX_DEGREE */
    int n_slots;                  /* N: each product axis of a log-probability tensor */
    const int *group_order;       /* [m] |G_i| (NULL: 1) */
    int n_event_perms;            /* |G_E|, identity included (0: the identity alone) */
    const int *event_perms;       /* [|G_E|][m], array form */
    double assignment_scale, detection_scale, focal_gamma;
    int combine;                  /* HN_SPANET_COMBINE_* */
} hn_spanet_loss_spec;

/* One batch's assignment and detection inputs. */
typedef struct hn_spanet_loss_batch {
    int batch;
    int kmax;                     /* row length of targets, ≥ every degree */
    const float *const *logp;     /* [m]: [batch][N^k_i] log-probabilities (−inf allowed off the targets) */
    const float *const *detection;/* [m]: [batch] detection logits; NULL when detection_scale is 0 */
    const int32_t *targets;       /* [batch][m][kmax] slots, −1 missing */
    const uint8_t *mask;          /* [batch][m] particle present (NULL: all targets ≥ 0) */
    const float *weight;          /* [batch][m] (NULL: 1) */
} hn_spanet_loss_batch;

/* The assignment and detection terms. dlogp[i] ([batch][N^k_i], WRITTEN: zero but at the targets' cells)
 * and ddetection[i] ([batch], written; may be NULL when detection_scale is 0); terms (optional, [2m]):
 * A_1..A_m, D_1..D_m as defined above. Returns 0, or −1 for invalid arguments (nothing written). */
int hn_spanet_assignment_loss(const hn_spanet_loss_spec *s, const hn_spanet_loss_batch *b, int n_terms, double *sum,
                              float *const *dlogp, float *const *ddetection, double *terms);

enum { HN_SPANET_GAUSSIAN = 0, HN_SPANET_LAPLACIAN = 1, HN_SPANET_LOG_GAUSSIAN = 2 };

/* One regression term: y, target [batch] (NaN target: no term for that event), std the head's statistic.
 * dy [batch] WRITTEN. An all-NaN batch adds nothing (upstream's mean of nothing is NaN; hepnc skips it). */
int hn_spanet_regression_loss(int type, double scale, double std, const float *y, const float *target, int batch,
                              int n_terms, double *sum, float *dy);

/* One classification term: logits [batch][classes], labels [batch] (−1: ignored). dlogits WRITTEN. */
int hn_spanet_classification_loss(double scale, const float *logits, const int32_t *labels, int batch, int classes,
                                  int n_terms, double *sum, float *dlogits);

#ifdef __cplusplus
}
#endif

#endif
