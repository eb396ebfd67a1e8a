/* metrics.c — see hepnc/metrics.h. Events are sorted once by score (descending); every metric walks
 * that order. */
#include "hepnc/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ranked { float score; int8_t sig; } ranked;

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const ranked *)a)->score, y = ((const ranked *)b)->score;
    return x > y ? -1 : x < y ? 1 : 0;
}

/* Labelled events sorted by descending score; counts of each class. */
static ranked *rank(const float *score, const int8_t *is_signal, int64_t n, int64_t *ns, int64_t *nb, int64_t *m)
{
    ranked *r = malloc(sizeof *r * (size_t)(n > 0 ? n : 1));
    *ns = *nb = *m = 0;
    if (!r) return NULL;
    for (int64_t i = 0; i < n; ++i) {
        if (is_signal[i] != 0 && is_signal[i] != 1) continue;
        r[*m].score = score[i];
        r[*m].sig = is_signal[i];
        *ns += is_signal[i] == 1;
        *nb += is_signal[i] == 0;
        ++*m;
    }
    qsort(r, (size_t)*m, sizeof *r, by_score_desc);
    return r;
}

double hn_auc(const float *score, const int8_t *is_signal, int64_t n)
{
    int64_t ns, nb, m;
    ranked *r = rank(score, is_signal, n, &ns, &nb, &m);
    if (!r || !ns || !nb) { free(r); return NAN; }
    double wins = 0, bkg_below = (double)nb;   /* background events with a lower score than the current group */
    for (int64_t i = 0; i < m;) {
        int64_t j = i, s = 0, b = 0;
        for (; j < m && r[j].score == r[i].score; ++j) r[j].sig ? ++s : ++b;
        bkg_below -= (double)b;
        wins += (double)s * (bkg_below + 0.5 * (double)b);   /* ties count one half */
        i = j;
    }
    free(r);
    return wins / ((double)ns * (double)nb);
}

double hn_rejection_at(const float *score, const int8_t *is_signal, int64_t n, double eff_s)
{
    int64_t ns, nb, m, s = 0, b = 0;
    ranked *r = rank(score, is_signal, n, &ns, &nb, &m);
    if (!r || !ns || !nb) { free(r); return NAN; }
    double result = NAN;
    for (int64_t i = 0; i < m;) {                /* lower the threshold group by group */
        int64_t j = i;
        for (; j < m && r[j].score == r[i].score; ++j) r[j].sig ? ++s : ++b;
        i = j;
        if ((double)s >= eff_s * (double)ns) {
            result = b ? (double)nb / (double)b : INFINITY;
            break;
        }
    }
    free(r);
    return result;
}

int hn_roc_write_csv(const char *path, const float *score, const int8_t *is_signal, int64_t n, int max_points,
                     char *err, size_t errlen)
{
    int64_t ns, nb, m, s = 0, b = 0;
    ranked *r = rank(score, is_signal, n, &ns, &nb, &m);
    if (!r || !ns || !nb) {
        free(r);
        snprintf(err, errlen, "%s: the ROC needs signal and background events", path);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(r);
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "eff_signal,eff_background\n");
    double next = 0;
    for (int64_t i = 0; i < m;) {
        int64_t j = i;
        for (; j < m && r[j].score == r[i].score; ++j) r[j].sig ? ++s : ++b;
        i = j;
        double es = (double)s / (double)ns;
        if (es + 1e-12 >= next || i == m) {
            fprintf(f, "%.6g,%.6g\n", es, (double)b / (double)nb);
            next = es + 1.0 / (max_points > 1 ? max_points - 1 : 1);
        }
    }
    free(r);
    int ok = !ferror(f);
    if (fclose(f) || !ok || rename(tmp, path)) {
        unlink(tmp);
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
