/* trainer_trim.c — weaver's SequenceTrimmer on a training batch (ParT's trim=True): a length
 * maxlen = ⌊quantile_q(counts)⌋ with q = min(1, U(0.9, 1.02)) (torch.quantile's linear interpolation,
 * at least 1); a jet with more real particles keeps maxlen of them chosen at random (kept in their
 * original order, where weaver shuffles them: ParT does not depend on the order), its other rows and
 * pairs zeroed and its count cut; the batch then stands for one of maxlen slots (hn_train_config.slots).
 * The numbers come from hn_rng_stream(seed, HN_RNG_TRIM, step), so a resumed run trims as the
 * uninterrupted one. */
#include <stdlib.h>
#include <string.h>

#include "hepnc/rng.h"
#include "trainer_internal.h"

/* The set the trimmer cuts: the only masked set input (-1: none, or more than one). */
int hn_trim_set(const hn_model_entry *m)
{
    int set = -1;
    for (int i = 0; i < m->ninputs; ++i)
        if (m->inputs[i].is_set == 1 && m->inputs[i].masked) {
            if (set >= 0) return -1;
            set = i;
        }
    return set;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* torch.quantile(counts, q) with linear interpolation, truncated to an integer as weaver's .long(). */
static int quantile_length(const int32_t *counts, int n, double q, int *sorted)
{
    for (int e = 0; e < n; ++e) sorted[e] = counts[e];
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_int);
    double pos = q * (double)(n - 1);
    int lo = (int)pos, hi = lo + 1 < n ? lo + 1 : n - 1;
    double v = sorted[lo] + (pos - lo) * (double)(sorted[hi] - sorted[lo]);
    int len = (int)v;
    return len < 1 ? 1 : len;
}

/* Event e's rows of input i moved so that its kept rows (keep[0..k), ascending) come first; the rest zeroed. */
static void compact_rows(const hn_io_desc *d, float *x, const int *keep, int k)
{
    size_t w = (size_t)d->width;
    if (d->is_set == 1) {
        for (int r = 0; r < k; ++r)
            if (keep[r] != r) memcpy(x + (size_t)r * w, x + (size_t)keep[r] * w, sizeof(float) * w);
        memset(x + (size_t)k * w, 0, sizeof(float) * w * (size_t)(d->max - k));
        return;
    }
    size_t max = (size_t)d->max;                    /* pairs [max][max][w]: rows, then columns */
    for (int a = 0; a < k; ++a)
        for (int c = 0; c < k; ++c)
            if (keep[a] != a || keep[c] != c)
                memcpy(x + ((size_t)a * max + c) * w, x + ((size_t)keep[a] * max + keep[c]) * w, sizeof(float) * w);
    for (size_t a = 0; a < max; ++a)
        for (size_t c = 0; c < max; ++c)
            if (a >= (size_t)k || c >= (size_t)k) memset(x + (a * max + c) * w, 0, sizeof(float) * w);
}

int hn_trim_batch(hn_batcher *b, int n, uint64_t seed, int64_t step)
{
    const hn_model_entry *m = b->m;
    int set = hn_trim_set(m);
    if (set < 0 || n < 1) return 0;
    int max = m->inputs[set].max;
    uint64_t state = hn_rng_stream(seed, HN_RNG_TRIM, (uint64_t)step);
    double q = 0.9 + 0.12 * hn_rng_uniform(&state);
    if (q > 1.0) q = 1.0;
    int *scratch = malloc(sizeof(int) * (size_t)(n > max ? n : max));
    if (!scratch) return 0;
    int len = quantile_length(b->n[set], n, q, scratch);
    if (len >= max) { free(scratch); return 0; }
    for (int e = 0; e < n; ++e) {
        int c = b->n[set][e];
        if (c <= len) continue;
        int *idx = scratch;                          /* a random len of the c rows: partial Fisher–Yates */
        for (int r = 0; r < c; ++r) idx[r] = r;
        for (int r = 0; r < len; ++r) {
            int j = r + (int)hn_rng_below(&state, (uint64_t)(c - r));
            int t = idx[r]; idx[r] = idx[j]; idx[j] = t;
        }
        qsort(idx, (size_t)len, sizeof *idx, cmp_int);
        for (int i = 0; i < m->ninputs; ++i) {
            const hn_io_desc *d = &m->inputs[i];
            if (i != set && d->vectors_of != set && d->pairs_of != set) continue;
            compact_rows(d, b->x[i] + b->stride[i] * (size_t)e, idx, len);
            if (d->masked) b->n[i][e] = len;
        }
    }
    free(scratch);
    return len;
}
