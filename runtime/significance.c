/* significance.c — see hepnc/significance.h. */
#include "hepnc/significance.h"

#include <math.h>

#include "hepnc/metrics.h"

double hn_significance_z(double s, double b)
{
    if (!(s >= 0) || !(b >= 0)) return NAN;
    if (b == 0) return s > 0 ? INFINITY : 0.0;
    return s / sqrt(b);
}

double hn_significance_z_sys(double s, double b, double rel_unc)
{
    if (!(rel_unc >= 0)) return NAN;
    if (!(s >= 0) || !(b >= 0)) return NAN;
    double var = b + (rel_unc * b) * (rel_unc * b);
    if (var == 0) return s > 0 ? INFINITY : 0.0;
    return s / sqrt(var);
}

int hn_working_point_at(const float *score, const int8_t *is_signal, int64_t n, double eff_s, double signal_yield,
                        double background_yield, double rel_unc, hn_working_point *wp)
{
    double rej = hn_rejection_at(score, is_signal, n, eff_s);
    wp->eff_s = eff_s;
    wp->eff_b = isinf(rej) ? 0.0 : 1.0 / rej;
    wp->s = eff_s * signal_yield;
    wp->b = wp->eff_b * background_yield;
    wp->z = hn_significance_z(wp->s, wp->b);
    wp->z_sys = hn_significance_z_sys(wp->s, wp->b, rel_unc);
    return isnan(rej) ? -1 : 0;
}
