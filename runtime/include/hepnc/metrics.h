/* metrics.h — classifier metrics from a discriminant: ROC, AUC, background rejection. */
#ifndef HEPNC_METRICS_H
#define HEPNC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* AUC = P(score of a signal event > score of a background event), ties counting one half
 * (Mann–Whitney). is_signal[i] is 1 for signal, 0 for background, anything else ignored.
 * Returns NaN when either class is empty. */
double hn_auc(const float *score, const int8_t *is_signal, int64_t n);

/* Background rejection 1/ε_B at the threshold that keeps a fraction eff_s of the signal (the
 * smallest threshold with ε_S ≥ eff_s). Returns +inf when no background passes, NaN without events. */
double hn_rejection_at(const float *score, const int8_t *is_signal, int64_t n, double eff_s);

/* The ROC as (ε_S, ε_B) pairs written to a CSV file ("eff_signal,eff_background"), at most
 * max_points points evenly spaced in ε_S; written to a temporary file and renamed. */
int hn_roc_write_csv(const char *path, const float *score, const int8_t *is_signal, int64_t n, int max_points,
                     char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
