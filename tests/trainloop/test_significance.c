/* test_significance.c — hn_significance_z, hn_significance_z_sys and hn_working_point_at
 * (runtime/significance.c) against numbers worked out by hand. */
#include <math.h>
#include <stdio.h>

#include <hepnc/significance.h>

#include "fixture.h"

static int close_to(double a, double b) { return fabs(a - b) <= 1e-12 * fmax(1.0, fabs(b)); }

int main(void)
{
    /* s = 30, b = 100, δ = 0.2: 30/10 = 3 and 30/sqrt(100 + 20²) = 30/sqrt(500) = 1.3416407864998738 */
    fx_check(close_to(hn_significance_z(30, 100), 3.0), "s/sqrt(b): 30/sqrt(100) = 3");
    fx_check(close_to(hn_significance_z_sys(30, 100, 0.2), 1.3416407864998738),
             "s/sqrt(b + (0.2 b)^2): 30/sqrt(500) = 1.34164 (got %.16g)", hn_significance_z_sys(30, 100, 0.2));
    fx_check(close_to(hn_significance_z_sys(30, 100, 0), 3.0), "delta 0 is s/sqrt(b)");
    fx_check(isinf(hn_significance_z(5, 0)) && hn_significance_z(0, 0) == 0 && isnan(hn_significance_z(-1, 4)) &&
                 isnan(hn_significance_z_sys(1, 4, -0.1)),
             "edge cases: b = 0 < s is +inf, s = b = 0 is 0, negative inputs NaN");

    /* 5 signal, 10 background events. Descending: 0.95 s, 0.9 s, 0.85 b, 0.8 s, 0.7 s, 0.6 b, 0.5 b,
     * 0.4 s, 0.3 b ... At eps_S = 0.4 (2 of 5 signal) the threshold is 0.9: no background passes.
     * At eps_S = 0.6 (3 of 5) it is 0.8: one background event of 10, eps_B = 0.1. With S = 1000, B = 50000,
     * δ = 0.2: s = 600, b = 5000, Z = 600/sqrt(5000) = 8.48528137423857, Z_sys = 600/sqrt(5000 + 1000²)
     * = 600/1002.4968827881711 = 0.5985056847309. */
    const float score[15] = { 0.95f, 0.9f, 0.85f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.25f, 0.2f, 0.15f, 0.1f, 0.05f, 0.01f };
    const int8_t sig[15] = { 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
    hn_working_point wp;
    int rc = hn_working_point_at(score, sig, 15, 0.6, 1000, 50000, 0.2, &wp);
    fx_check(rc == 0 && close_to(wp.eff_b, 0.1) && close_to(wp.s, 600) && close_to(wp.b, 5000),
             "working point eps_S 0.6: eps_B %.3g, s %.6g, b %.6g", wp.eff_b, wp.s, wp.b);
    fx_check(close_to(wp.z, 8.48528137423857) && close_to(wp.z_sys, 600 / 1002.4968827881711),
             "working point eps_S 0.6: Z %.10g (8.485281374), Z_sys %.10g (0.5985056847)", wp.z, wp.z_sys);
    rc = hn_working_point_at(score, sig, 15, 0.4, 1000, 50000, 0.2, &wp);
    fx_check(rc == 0 && wp.eff_b == 0 && isinf(wp.z) && isinf(wp.z_sys), "eps_S 0.4: no background passes, Z = inf");
    const int8_t none[3] = { 1, 1, 1 };
    fx_check(hn_working_point_at(score, none, 3, 0.5, 1, 1, 0.2, &wp) == -1, "no background events: -1");
    printf("%d passed, %d failed\n", fx_passed, fx_failed);
    return fx_failed ? 1 : 0;
}
