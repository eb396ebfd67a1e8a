/* spanet_loss.c — see hepnc/spanet_loss.h. */
#include "hepnc/spanet_loss.h"

#include <math.h>
#include <string.h>

typedef struct event_terms {
    double ce[HN_SPANET_LOSS_MAX_PARTICLES], det[HN_SPANET_LOSS_MAX_PARTICLES];
} event_terms;

static int present(const hn_spanet_loss_spec *s, const hn_spanet_loss_batch *b, int e, int p)
{
    if (b->mask) return b->mask[(size_t)e * s->m + p] != 0;
    const int32_t *t = b->targets + ((size_t)e * s->m + p) * b->kmax;
    for (int d = 0; d < s->degree[p]; ++d)
        if (t[d] < 0) return 0;
    return 1;
}

static size_t cells_of(const hn_spanet_loss_spec *s, int p)
{
    size_t c = 1;
    for (int d = 0; d < s->degree[p]; ++d) c *= (size_t)s->n_slots;
    return c;
}

/* Row-major cell of particle q's targets (slots clamped at 0, as upstream) in particle p's tensor. */
static size_t target_cell(const hn_spanet_loss_spec *s, const hn_spanet_loss_batch *b, int e, int p, int q)
{
    const int32_t *t = b->targets + ((size_t)e * s->m + q) * b->kmax;
    size_t cell = 0;
    for (int d = 0; d < s->degree[p]; ++d) cell = cell * (size_t)s->n_slots + (size_t)(t[d] > 0 ? t[d] : 0);
    return cell;
}

static int perm_of(const hn_spanet_loss_spec *s, int g, int i) { return s->n_event_perms ? s->event_perms[g * s->m + i] : i; }

static double log_order(const hn_spanet_loss_spec *s, int p) { return log(s->group_order ? (double)s->group_order[p] : 1.0); }

/* BCEWithLogits(x, y) = max(x, 0) − x·y + log(1 + e^−|x|) (PyTorch's stable form). */
static double bce_logits(double x, double y) { return (x > 0 ? x : 0) - x * y + log1p(exp(-fabs(x))); }

/* CE_i and DET_i of event e under element g (unscaled, weighted). */
static void terms_under(const hn_spanet_loss_spec *s, const hn_spanet_loss_batch *b, int e, int g, event_terms *t)
{
    for (int i = 0; i < s->m; ++i) {
        int q = perm_of(s, g, i);
        double w = b->weight ? b->weight[(size_t)e * s->m + q] : 1.0, y = present(s, b, e, q);
        t->ce[i] = 0.0;
        if (y) {
            double l = (double)b->logp[i][(size_t)e * cells_of(s, i) + target_cell(s, b, e, i, q)] + log_order(s, i);
            t->ce[i] = -l * pow(1.0 - exp(l), s->focal_gamma) * w;
        }
        t->det[i] = b->detection ? bce_logits(b->detection[i][e], y) * w : 0.0;
    }
}

/* σ*(e): the first element with the smallest Σ_i (a·CE_i + d·DET_i). */
static int best_element(const hn_spanet_loss_spec *s, const hn_spanet_loss_batch *b, int e)
{
    int order = s->n_event_perms ? s->n_event_perms : 1, best = 0;
    double lowest = INFINITY;
    for (int g = 0; g < order; ++g) {
        event_terms t;
        terms_under(s, b, e, g, &t);
        double total = 0.0;
        for (int i = 0; i < s->m; ++i) total += s->assignment_scale * t.ce[i] + s->detection_scale * t.det[i];
        if (total < lowest || g == 0) { lowest = total; best = g; }
    }
    return best;
}

static int check(const hn_spanet_loss_spec *s, const hn_spanet_loss_batch *b, int n_terms)
{
    if (!s || !b || s->m < 1 || s->m > HN_SPANET_LOSS_MAX_PARTICLES || s->n_slots < 1 || b->batch < 0 || n_terms < 1 ||
        !b->logp || !b->targets || (s->detection_scale != 0.0 && !b->detection) || (s->n_event_perms && !s->event_perms) ||
        (s->combine != HN_SPANET_COMBINE_MIN && s->combine != HN_SPANET_COMBINE_MEAN))
        return -1;
    for (int i = 0; i < s->m; ++i)
        if (s->degree[i] < 1 || s->degree[i] > HN_SPANET_LOSS_MAX_DEGREE || s->degree[i] > b->kmax || !b->logp[i]) return -1;
    for (int g = 0; g < s->n_event_perms; ++g)
        for (int i = 0; i < s->m; ++i)
            if (perm_of(s, g, i) < 0 || perm_of(s, g, i) >= s->m || s->degree[perm_of(s, g, i)] != s->degree[i]) return -1;
    return 0;
}

int hn_spanet_assignment_loss(const hn_spanet_loss_spec *s, const hn_spanet_loss_batch *b, int n_terms, double *sum,
                              float *const *dlogp, float *const *ddetection, double *terms)
{
    if (check(s, b, n_terms) || !dlogp) return -1;
    int m = s->m, order = s->n_event_perms ? s->n_event_perms : 1, mean = s->combine == HN_SPANET_COMBINE_MEAN;
    double count[HN_SPANET_LOSS_MAX_PARTICLES] = { 0 }, ce[HN_SPANET_LOSS_MAX_PARTICLES] = { 0 };
    double det[HN_SPANET_LOSS_MAX_PARTICLES] = { 0 };
    /* pass 1: σ* per event, the present particles under it, the terms' numerators */
    for (int e = 0; e < b->batch; ++e) {
        int best = best_element(s, b, e);
        for (int g = mean ? 0 : best; g < (mean ? order : best + 1); ++g) {
            event_terms t;
            terms_under(s, b, e, g, &t);
            for (int i = 0; i < m; ++i) {
                ce[i] += t.ce[i] / (mean ? order : 1);
                det[i] += t.det[i] / (mean ? order : 1);
            }
        }
        for (int i = 0; i < m; ++i) count[i] += present(s, b, e, perm_of(s, best, i));
    }
    double total = 0.0;
    for (int i = 0; i < m; ++i) {
        double c = count[i] > 1.0 ? count[i] : 1.0;
        double A = s->assignment_scale * ce[i] / c, D = s->detection_scale * det[i] / c;
        if (terms) terms[i] = A, terms[m + i] = D;
        if (s->assignment_scale > 0) total += A;
        if (s->detection_scale > 0) total += D;
    }
    *sum += total;
    /* pass 2: the gradients of (Σ terms) / n_terms with respect to log P and the detection logits */
    for (int i = 0; i < m; ++i) {
        memset(dlogp[i], 0, sizeof(float) * (size_t)b->batch * cells_of(s, i));
        if (ddetection && ddetection[i]) memset(ddetection[i], 0, sizeof(float) * (size_t)b->batch);
    }
    for (int e = 0; e < b->batch; ++e) {
        int best = best_element(s, b, e);
        for (int g = mean ? 0 : best; g < (mean ? order : best + 1); ++g)
            for (int i = 0; i < m; ++i) {
                int q = perm_of(s, g, i);
                double c = count[i] > 1.0 ? count[i] : 1.0, share = 1.0 / ((mean ? order : 1) * c * n_terms);
                double w = b->weight ? b->weight[(size_t)e * m + q] : 1.0, y = present(s, b, e, q);
                if (y && s->assignment_scale > 0) {      /* d/dℓ of −ℓ(1 − e^ℓ)^γ·w */
                    size_t cell = target_cell(s, b, e, i, q);
                    double l = (double)b->logp[i][(size_t)e * cells_of(s, i) + cell] + log_order(s, i), u = 1.0 - exp(l);
                    double dl = -pow(u, s->focal_gamma);
                    if (s->focal_gamma != 0.0) dl += l * s->focal_gamma * pow(u, s->focal_gamma - 1.0) * exp(l);
                    dlogp[i][(size_t)e * cells_of(s, i) + cell] += (float)(s->assignment_scale * dl * w * share);
                }
                if (s->detection_scale > 0 && ddetection && ddetection[i]) {
                    double x = b->detection[i][e];
                    ddetection[i][e] += (float)(s->detection_scale * (1.0 / (1.0 + exp(-x)) - y) * w * share);
                }
            }
    }
    return 0;
}

int hn_spanet_regression_loss(int type, double scale, double std, const float *y, const float *target, int batch,
                              int n_terms, double *sum, float *dy)
{
    if (type < HN_SPANET_GAUSSIAN || type > HN_SPANET_LOG_GAUSSIAN || n_terms < 1 || batch < 0 || !(std > 0) || !dy) return -1;
    int count = 0;
    for (int e = 0; e < batch; ++e) count += !isnan(target[e]);
    double total = 0.0;
    for (int e = 0; e < batch; ++e) {
        dy[e] = 0.0f;
        if (isnan(target[e])) continue;
        double r = (double)y[e] - target[e], g;
        if (type == HN_SPANET_GAUSSIAN) total += (r / std) * (r / std), g = 2.0 * r / (std * std);
        else if (type == HN_SPANET_LAPLACIAN) total += fabs(r) / std, g = (r > 0) - (r < 0), g /= std;
        else total += r * r, g = 2.0 * r;
        dy[e] = (float)(scale * g / ((double)count * n_terms));
    }
    if (count) *sum += scale * total / count;
    return 0;
}

int hn_spanet_classification_loss(double scale, const float *logits, const int32_t *labels, int batch, int classes,
                                  int n_terms, double *sum, float *dlogits)
{
    if (classes < 1 || batch < 0 || n_terms < 1 || !dlogits) return -1;
    int count = 0;
    for (int e = 0; e < batch; ++e) count += labels[e] >= 0 && labels[e] < classes;
    double total = 0.0;
    for (int e = 0; e < batch; ++e) {
        const float *z = logits + (size_t)e * classes;
        float *dz = dlogits + (size_t)e * classes;
        int label = labels[e];
        double top = z[0], norm = 0.0;
        for (int c = 1; c < classes; ++c) top = z[c] > top ? z[c] : top;
        for (int c = 0; c < classes; ++c) norm += exp((double)z[c] - top);
        for (int c = 0; c < classes; ++c) {
            double p = exp((double)z[c] - top) / norm;
            dz[c] = label >= 0 && label < classes ? (float)(scale * (p - (c == label)) / ((double)count * n_terms)) : 0.0f;
        }
        if (label >= 0 && label < classes) total += -((double)z[label] - top - log(norm));
    }
    if (count) *sum += scale * total / count;
    return 0;
}
