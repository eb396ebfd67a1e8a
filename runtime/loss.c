/* loss.c — training losses (hepnc/loss.h): values and gradients, computed in double.
 * One core per loss reads float or double inputs (dbl flag) so the float and _f64 entry points share
 * every formula. Definitions: docs/training.md. */
#include "hepnc/loss.h"

#include <math.h>

static inline double rd(const void *p, size_t i, int dbl) {
  return dbl ? ((const double *)p)[i] : (double)((const float *)p)[i];
}
static inline void wr(void *p, size_t i, double v, int dbl) {
  if (dbl)
    ((double *)p)[i] = v;
  else
    ((float *)p)[i] = (float)v;
}

/* 1/n without weights, else 1/Σw; NaN when there is nothing to average. */
static double norm_factor(const void *w, size_t n, int dbl) {
  if (n == 0) return NAN;
  if (!w) return 1.0 / (double)n;
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += rd(w, i, dbl);
  return s > 0.0 ? 1.0 / s : NAN;
}

/* log Σ_j exp(x_j) over one row, and the row's max. */
static double row_lse(const void *x, size_t off, size_t c, int dbl) {
  double m = -INFINITY;
  for (size_t j = 0; j < c; j++) {
    double v = rd(x, off + j, dbl);
    if (v > m) m = v;
  }
  if (isinf(m)) return m;
  double s = 0.0;
  for (size_t j = 0; j < c; j++) s += exp(rd(x, off + j, dbl) - m);
  return m + log(s);
}

static double ce_core(const void *x, const int64_t *y, const void *w, size_t n, size_t c, double eps, void *g,
                      int dbl) {
  double inv = norm_factor(w, n, dbl);
  if (isnan(inv) || c == 0) return NAN;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (y[i] < 0 || (uint64_t)y[i] >= c) return NAN;
    size_t off = i * c, yi = (size_t)y[i];
    double lse = row_lse(x, off, c, dbl), sx = 0.0;
    for (size_t j = 0; j < c; j++) sx += rd(x, off + j, dbl);
    /* (1−ε)(lse − x_y) + (ε/c) Σ_j (lse − x_j) */
    double li = (1.0 - eps) * (lse - rd(x, off + yi, dbl)) + eps * (lse - sx / (double)c);
    double wi = (w ? rd(w, i, dbl) : 1.0) * inv;
    total += wi * li;
    if (g)
      for (size_t j = 0; j < c; j++) {
        double d = exp(rd(x, off + j, dbl) - lse) - eps / (double)c - (j == yi ? 1.0 - eps : 0.0);
        wr(g, off + j, wi * d, dbl);
      }
  }
  return total;
}

static double focal_core(const void *x, const int64_t *y, const void *w, size_t n, size_t c, double alpha,
                         const void *alpha_c, double gamma, void *g, int dbl) {
  double inv = norm_factor(w, n, dbl);
  if (isnan(inv) || c == 0 || !(gamma >= 0.0)) return NAN;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (y[i] < 0 || (uint64_t)y[i] >= c) return NAN;
    size_t off = i * c, yi = (size_t)y[i];
    double lse = row_lse(x, off, c, dbl);
    double logp = rd(x, off + yi, dbl) - lse; /* log p_t ≤ 0 */
    double p = exp(logp), q = -expm1(logp);   /* q = 1 − p_t, accurate as p_t → 1 */
    double a = alpha_c ? rd(alpha_c, yi, dbl) : alpha;
    double qg = gamma == 0.0 ? 1.0 : pow(q, gamma);
    double li = -a * qg * logp;
    double wi = (w ? rd(w, i, dbl) : 1.0) * inv;
    total += wi * li;
    if (g) {
      /* dℓ/dx_j = −α (δ_jy − s_j) [ q^γ − γ q^(γ−1) p log p ] */
      double br;
      if (gamma == 0.0)
        br = 1.0;
      else if (q > 0.0)
        br = qg - gamma * pow(q, gamma - 1.0) * p * logp;
      else
        br = 0.0;
      double k = -a * br * wi;
      for (size_t j = 0; j < c; j++) {
        double d = j == yi ? q : -exp(rd(x, off + j, dbl) - lse);
        wr(g, off + j, k * d, dbl);
      }
    }
  }
  return total;
}

static double bce_core(const void *x, const void *t, const void *w, size_t n, size_t k, void *g, int dbl) {
  double inv = norm_factor(w, n, dbl);
  if (isnan(inv) || k == 0) return NAN;
  inv /= (double)k;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    double wi = (w ? rd(w, i, dbl) : 1.0) * inv, li = 0.0;
    for (size_t j = 0; j < k; j++) {
      double xv = rd(x, i * k + j, dbl), tv = rd(t, i * k + j, dbl);
      double e = exp(-fabs(xv));
      li += (xv > 0.0 ? xv : 0.0) - xv * tv + log1p(e);
      if (g) {
        double sig = xv >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        wr(g, i * k + j, wi * (sig - tv), dbl);
      }
    }
    total += wi * li;
  }
  return total;
}

static double mse_core(const void *x, const void *t, const void *w, size_t n, size_t k, void *g, int dbl) {
  double inv = norm_factor(w, n, dbl);
  if (isnan(inv) || k == 0) return NAN;
  inv /= (double)k;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    double wi = (w ? rd(w, i, dbl) : 1.0) * inv, li = 0.0;
    for (size_t j = 0; j < k; j++) {
      double d = rd(x, i * k + j, dbl) - rd(t, i * k + j, dbl);
      li += d * d;
      if (g) wr(g, i * k + j, wi * 2.0 * d, dbl);
    }
    total += wi * li;
  }
  return total;
}

double hn_loss_cross_entropy(const float *logits, const int64_t *labels, const float *w, size_t n, size_t c,
                             double label_smoothing, float *grad) {
  return ce_core(logits, labels, w, n, c, label_smoothing, grad, 0);
}
double hn_loss_cross_entropy_f64(const double *logits, const int64_t *labels, const double *w, size_t n,
                                 size_t c, double label_smoothing, double *grad) {
  return ce_core(logits, labels, w, n, c, label_smoothing, grad, 1);
}
double hn_loss_focal(const float *logits, const int64_t *labels, const float *w, size_t n, size_t c, double alpha,
                     const float *alpha_c, double gamma, float *grad) {
  return focal_core(logits, labels, w, n, c, alpha, alpha_c, gamma, grad, 0);
}
double hn_loss_focal_f64(const double *logits, const int64_t *labels, const double *w, size_t n, size_t c,
                         double alpha, const double *alpha_c, double gamma, double *grad) {
  return focal_core(logits, labels, w, n, c, alpha, alpha_c, gamma, grad, 1);
}
void hn_bce_targets(const int64_t *labels, size_t n, size_t k, float *targets) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < k; j++)
      targets[i * k + j] = k == 1 ? (float)labels[i] : (float)(labels[i] == (int64_t)j);
}

double hn_loss_bce_logits(const float *logits, const float *targets, const float *w, size_t n, size_t k,
                          float *grad) {
  return bce_core(logits, targets, w, n, k, grad, 0);
}
double hn_loss_bce_logits_f64(const double *logits, const double *targets, const double *w, size_t n, size_t k,
                              double *grad) {
  return bce_core(logits, targets, w, n, k, grad, 1);
}
double hn_loss_mse(const float *pred, const float *targets, const float *w, size_t n, size_t k, float *grad) {
  return mse_core(pred, targets, w, n, k, grad, 0);
}
double hn_loss_mse_f64(const double *pred, const double *targets, const double *w, size_t n, size_t k,
                       double *grad) {
  return mse_core(pred, targets, w, n, k, grad, 1);
}
