/* loss.h — training losses: value and gradient with respect to the network's outputs.
 *
 * Every loss reduces over the batch like PyTorch's default reduction='mean'. With per-event weights
 * w (NULL for none) the reduction is the weighted mean Σ_i w_i ℓ_i / Σ_i w_i, which equals the plain
 * mean when all w_i are equal. ℓ_i is an event's loss; for the per-output losses (BCE, MSE) it is the
 * mean over the event's k outputs, so the unweighted value is the mean over all n·k elements exactly
 * as BCEWithLogitsLoss() and MSELoss().
 *
 * Each function returns the loss and, when grad is not NULL, writes d(loss)/d(input) (same shape as
 * the input). Sums run in double; the float entry points compute everything in double and round the
 * gradient once. The _f64 variants take and return doubles throughout (finite-difference checks, or a
 * double-precision backward). Exact definitions: docs/training.md. Returns NaN for n == 0, a label
 * outside [0, c), or a non-positive weight sum. No allocation; safe to call from several threads.
 */
#ifndef HEPNC_LOSS_H
#define HEPNC_LOSS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Cross-entropy over logits (n × c, row-major) with integer labels, torch.nn.CrossEntropyLoss
 * (label_smoothing = eps): ℓ_i = (1 − eps)·(−log p_{i,y_i}) + (eps/c)·Σ_j (−log p_{i,j}),
 * p = softmax(logits row). */
double hn_loss_cross_entropy(const float *logits, const int64_t *labels, const float *w, size_t n, size_t c,
                             double label_smoothing, float *grad);
double hn_loss_cross_entropy_f64(const double *logits, const int64_t *labels, const double *w, size_t n,
                                 size_t c, double label_smoothing, double *grad);

/* Multi-class focal loss over logits: ℓ_i = −α_{y_i} (1 − p_t)^γ log p_t, p_t = softmax(logits row)_{y_i},
 * α_y = alpha_c[y] when alpha_c is not NULL, else alpha. γ = 0, α = 1 is cross-entropy. γ ≥ 0. */
double hn_loss_focal(const float *logits, const int64_t *labels, const float *w, size_t n, size_t c, double alpha,
                     const float *alpha_c, double gamma, float *grad);
double hn_loss_focal_f64(const double *logits, const int64_t *labels, const double *w, size_t n, size_t c,
                         double alpha, const double *alpha_c, double gamma, double *grad);

/* Binary cross-entropy with logits (n × k) against targets in [0, 1], torch.nn.BCEWithLogitsLoss:
 * ℓ = max(x, 0) − x·t + log(1 + e^{−|x|}) per element (stable for any x). */
double hn_loss_bce_logits(const float *logits, const float *targets, const float *w, size_t n, size_t k,
                          float *grad);
double hn_loss_bce_logits_f64(const double *logits, const double *targets, const double *w, size_t n, size_t k,
                              double *grad);

/* BCE's targets from class labels: targets[i][j] = (labels[i] == j) for k ≥ 2 outputs (one-hot), and
 * labels[i] itself for k = 1 (a single logit of a binary tagger). */
void hn_bce_targets(const int64_t *labels, size_t n, size_t k, float *targets);

/* Mean squared error (n × k), torch.nn.MSELoss: ℓ = (x − t)² per element. */
double hn_loss_mse(const float *pred, const float *targets, const float *w, size_t n, size_t k, float *grad);
double hn_loss_mse_f64(const double *pred, const double *targets, const double *w, size_t n, size_t k,
                       double *grad);

#ifdef __cplusplus
}
#endif

#endif
