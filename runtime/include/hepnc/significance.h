/* significance.h — the expected significance of a selection made by cutting on a classifier's
 * discriminant, as collider analyses quote it (the four-top / ttH attention study of
 * shared/research/talks.md §1: at L = 100 fb^-1, ε_S = 0.3, δ = 0.2):
 *
 *   Z     = s / √b                      (statistical only)
 *   Z_sys = s / √(b + (δ·b)²)           (with a relative background uncertainty δ)
 *
 * where s = ε_S·S and b = ε_B·B are the expected signal and background events that pass the cut, S and
 * B the expected yields before it (cross-section × luminosity × preselection efficiency), ε_S the
 * working point's signal efficiency (taken as requested) and ε_B the background efficiency at the
 * threshold that keeps ε_S of the signal (the threshold rule of hn_rejection_at, hepnc/metrics.h:
 * ε_B = 1 / rejection). δ·b is the absolute background uncertainty, so Z_sys → 1/δ · s/b as b grows. */
#ifndef HEPNC_SIGNIFICANCE_H
#define HEPNC_SIGNIFICANCE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* s/√b; +inf for b = 0 < s, 0 for s = b = 0, NaN for negative inputs. */
double hn_significance_z(double s, double b);
/* s/√(b + (rel_unc·b)²); as hn_significance_z for rel_unc = 0. NaN for rel_unc < 0. */
double hn_significance_z_sys(double s, double b, double rel_unc);

typedef struct hn_working_point {
    double eff_s;               /* requested signal efficiency */
    double eff_b;               /* background efficiency at the threshold (0 when no background passes) */
    double s, b;                /* expected events after the cut: eff_s·S, eff_b·B */
    double z, z_sys;            /* the two significances */
} hn_working_point;

/* The working point of signal efficiency eff_s of a discriminant (is_signal as hn_auc: 1 signal, 0
 * background, anything else ignored) for yields S and B and relative background uncertainty rel_unc.
 * Returns 0, or -1 when either class is empty (wp filled with NaN). */
int hn_working_point_at(const float *score, const int8_t *is_signal, int64_t n, double eff_s, double signal_yield,
                        double background_yield, double rel_unc, hn_working_point *wp);

#ifdef __cplusplus
}
#endif

#endif
