/* test_metrics.c — runtime/metrics.c against brute force: AUC as the fraction of (signal, background)
 * pairs ordered correctly (ties one half), rejection by scanning every threshold, on random scores with
 * many ties, plus hand-checked cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <hepnc/metrics.h>

static int passed, failed;
static void check(int ok, const char *what, double got, double want)
{
    printf("%s %-44s got %.9g want %.9g\n", ok ? "ok  " : "FAIL", what, got, want);
    ok ? ++passed : ++failed;
}

static double brute_auc(const float *s, const int8_t *y, int n)
{
    double w = 0, pairs = 0;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
            if (y[i] == 1 && y[j] == 0) { pairs += 1; w += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0; }
    return w / pairs;
}

static double brute_rejection(const float *s, const int8_t *y, int n, double eff)
{
    double best_t = -INFINITY; int found = 0;
    int ns = 0, nb = 0;
    for (int i = 0; i < n; ++i) { ns += y[i] == 1; nb += y[i] == 0; }
    for (int i = 0; i < n; ++i) {           /* the highest threshold keeping >= eff of the signal */
        int s_pass = 0;
        for (int j = 0; j < n; ++j) s_pass += y[j] == 1 && s[j] >= s[i];
        if (s_pass >= eff * ns && (!found || s[i] > best_t)) { best_t = s[i]; found = 1; }
    }
    int b_pass = 0;
    for (int j = 0; j < n; ++j) b_pass += y[j] == 0 && s[j] >= best_t;
    return b_pass ? (double)nb / b_pass : INFINITY;
}

int main(void)
{
    float a[4] = { 0.9f, 0.8f, 0.2f, 0.1f };
    int8_t ya[4] = { 1, 1, 0, 0 }, yb[4] = { 0, 0, 1, 1 }, yc[5] = { 1, 0, 1, 0, 7 };
    check(hn_auc(a, ya, 4) == 1.0, "perfect separation: AUC 1", hn_auc(a, ya, 4), 1.0);
    check(hn_auc(a, yb, 4) == 0.0, "reversed: AUC 0", hn_auc(a, yb, 4), 0.0);
    float t[5] = { 0.5f, 0.5f, 0.5f, 0.5f, 9.0f };
    check(hn_auc(t, yc, 5) == 0.5, "all tied: AUC 1/2, label 7 ignored", hn_auc(t, yc, 5), 0.5);
    check(isnan(hn_auc(a, ya, 2)), "no background: NaN", hn_auc(a, ya, 2), NAN);
    check(hn_rejection_at(a, ya, 4, 0.5) == INFINITY, "no background passes: +inf", hn_rejection_at(a, ya, 4, 0.5), INFINITY);
    enum { N = 3000 };
    static float s[N];
    static int8_t y[N];
    unsigned long long r = 12345;
    for (int i = 0; i < N; ++i) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        y[i] = (int8_t)((r >> 33) & 1);
        s[i] = (float)((int)((r >> 40) % 50) + 20 * y[i]) / 70.0f;    /* overlapping, many ties */
    }
    double want = brute_auc(s, y, N), got = hn_auc(s, y, N);
    check(fabs(got - want) < 1e-12, "random scores with ties: AUC = brute force", got, want);
    const double effs[3] = { 0.3, 0.5, 0.7 };
    for (int k = 0; k < 3; ++k) {
        char what[64];
        snprintf(what, sizeof what, "1/eps_B at eps_S = %.1f = brute force", effs[k]);
        double g = hn_rejection_at(s, y, N, effs[k]), w = brute_rejection(s, y, N, effs[k]);
        check(g == w || fabs(g - w) < 1e-9 * w, what, g, w);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
