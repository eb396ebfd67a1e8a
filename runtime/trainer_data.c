/* trainer_data.c — batches of a labelled dataset for a model's inputs (every kind of hn_io_desc: sets
 * with counts, 4-vectors, pairs, per-event inputs). A dataset small enough is read into memory once
 * and batches are gathered from there; a larger one is read batch by batch, a run of consecutive
 * events at a time. Both give the same batch bytes, so the choice never changes a result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer_internal.h"

static int fail(char *err, size_t errlen, const char *msg, const char *path)
{
    snprintf(err, errlen, "%s: %s", path, msg);
    return -1;
}

static size_t event_floats(const hn_io_desc *d)
{
    size_t rows = d->is_set == 2 ? (size_t)d->max * (size_t)d->max : (size_t)d->max;
    return rows * (size_t)d->width;
}

/* Events [first, first+count) of every input into x[i] (+ n[i]) and labels, which point at the slot of
 * the first event. */
static int read_into(hn_batcher *b, int64_t first, int count, float *const *x, int32_t *const *n, int32_t *labels,
                     float *weights, char *err, size_t errlen)
{
    if (weights && hn_dataset_read_weights(b->ds, first, count, weights, err, errlen)) return -1;
    const hn_model_entry *m = b->m;
    for (int i = 0; i < m->ninputs; ++i) {
        const hn_io_desc *d = &m->inputs[i];
        int rc;
        if (d->pairs_of >= 0)
            rc = hn_dataset_read_pairs(b->ds, d->name, d->max, d->width, d->features, first, count, x[i], err, errlen);
        else if (d->vectors_of >= 0)
            rc = hn_dataset_read_vectors(b->ds, m->inputs[d->vectors_of].name, d->max, first, count, x[i], err, errlen);
        else if (d->is_set)
            rc = hn_dataset_read_set(b->ds, d->name, d->max, d->width, d->features, first, count, x[i], n[i], err, errlen);
        else
            rc = hn_dataset_read_global(b->ds, d->name, d->width, d->features, first, count, x[i], err, errlen);
        if (rc) return -1;
        if (d->is_set == 1 && !d->masked && d->vectors_of < 0 && d->pairs_of < 0)
            for (int k = 0; k < count; ++k)
                if (n[i][k] != d->max) {
                    snprintf(err, errlen, "%s: event %lld of input '%s' has %d rows, but the spec declares it fixed-size "
                             "(%d rows, no mask)", b->path, (long long)(first + k), d->name, n[i][k], d->max);
                    return -1;
                }
    }
    /* the counts of a set's 4-vectors and pairs are the set's own */
    for (int i = 0; i < m->ninputs; ++i) {
        int of = m->inputs[i].vectors_of >= 0 ? m->inputs[i].vectors_of : m->inputs[i].pairs_of;
        if (of >= 0 && m->inputs[of].is_set == 1) memcpy(n[i], n[of], sizeof(int32_t) * (size_t)count);
        else if (!m->inputs[i].is_set || of >= 0)
            for (int k = 0; k < count; ++k) n[i][k] = m->inputs[i].max;
    }
    return hn_dataset_read_labels(b->ds, first, count, labels, err, errlen);
}

/* Reads events [first, first+count) into the batch at slot. */
static int read_slot(hn_batcher *b, int64_t first, int count, int slot, char *err, size_t errlen)
{
    float *x[HN_TRAINER_MAX_INPUTS];
    int32_t *n[HN_TRAINER_MAX_INPUTS];
    for (int i = 0; i < b->m->ninputs; ++i) {
        x[i] = b->x[i] + (size_t)slot * b->stride[i];
        n[i] = b->n[i] + slot;
    }
    return read_into(b, first, count, x, n, b->labels32 + slot, b->weights ? b->weights + slot : NULL, err, errlen);
}

static int preload(hn_batcher *b, char *err, size_t errlen)
{
    size_t E = (size_t)b->events;
    for (int i = 0; i < b->m->ninputs; ++i) {
        b->all_x[i] = malloc(sizeof(float) * (E * b->stride[i] + 1));
        b->all_n[i] = malloc(sizeof(int32_t) * (E + 1));
        if (!b->all_x[i] || !b->all_n[i]) return fail(err, errlen, "out of memory reading the dataset", b->path);
    }
    if (!(b->all_labels = malloc(sizeof(int32_t) * (E + 1))))
        return fail(err, errlen, "out of memory reading the dataset", b->path);
    enum { CHUNK = 4096 };
    for (int64_t first = 0; first < b->events; first += CHUNK) {
        int count = (int)(b->events - first < CHUNK ? b->events - first : CHUNK);
        float *x[HN_TRAINER_MAX_INPUTS];
        int32_t *n[HN_TRAINER_MAX_INPUTS];
        for (int i = 0; i < b->m->ninputs; ++i) {
            x[i] = b->all_x[i] + (size_t)first * b->stride[i];
            n[i] = b->all_n[i] + first;
        }
        if (read_into(b, first, count, x, n, b->all_labels + first, NULL, err, errlen)) return -1;
    }
    b->preloaded = 1;
    return 0;
}

int hn_batcher_open(hn_batcher *b, const hn_model_entry *m, const char *path, int cap, size_t preload_bytes,
                    char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    b->m = m;
    b->cap = cap;
    snprintf(b->path, sizeof b->path, "%s", path);
    if (m->ninputs > HN_TRAINER_MAX_INPUTS) return fail(err, errlen, "the model has too many inputs", path);
    if (!(b->ds = hn_dataset_open(path, err, errlen))) return -1;
    if (!hn_dataset_has_labels(b->ds)) return fail(err, errlen, "no /labels dataset (training needs labels)", path);
    b->events = hn_dataset_events(b->ds);
    if (b->events < 1) return fail(err, errlen, "the dataset has no events", path);
    size_t per_event = 2 * sizeof(int32_t);
    for (int i = 0; i < m->ninputs; ++i) {
        b->stride[i] = event_floats(&m->inputs[i]);
        per_event += sizeof(float) * b->stride[i] + sizeof(int32_t);
        b->x[i] = malloc(sizeof(float) * ((size_t)cap * b->stride[i] + 1));
        b->n[i] = malloc(sizeof(int32_t) * ((size_t)cap + 1));
        if (!b->x[i] || !b->n[i]) return fail(err, errlen, "out of memory for a batch", path);
    }
    b->labels32 = malloc(sizeof(int32_t) * ((size_t)cap + 1));
    b->labels = malloc(sizeof(int64_t) * ((size_t)cap + 1));
    if (!b->labels32 || !b->labels) return fail(err, errlen, "out of memory for a batch", path);
    if ((double)per_event * (double)b->events <= (double)preload_bytes) return preload(b, err, errlen);
    return 0;
}

int hn_batcher_use_weights(hn_batcher *b, char *err, size_t errlen)
{
    if (!hn_dataset_has_weights(b->ds)) return fail(err, errlen, "no /weights dataset (--event-weights needs one)", b->path);
    if (!(b->weights = malloc(sizeof(float) * ((size_t)b->cap + 1)))) return fail(err, errlen, "out of memory", b->path);
    if (b->preloaded) {
        if (!(b->all_weights = malloc(sizeof(float) * ((size_t)b->events + 1))))
            return fail(err, errlen, "out of memory reading the dataset", b->path);
        if (hn_dataset_read_weights(b->ds, 0, (int)b->events, b->all_weights, err, errlen)) return -1;
    }
    return 0;
}

void hn_batcher_close(hn_batcher *b)
{
    if (!b->m) return;
    for (int i = 0; i < b->m->ninputs && i < HN_TRAINER_MAX_INPUTS; ++i) {
        free(b->x[i]);
        free(b->n[i]);
        free(b->all_x[i]);
        free(b->all_n[i]);
    }
    free(b->all_labels);
    free(b->all_weights);
    free(b->weights);
    free(b->labels32);
    free(b->labels);
    hn_dataset_close(b->ds);
    memset(b, 0, sizeof *b);
}

static void widen_labels(hn_batcher *b, int count)
{
    for (int k = 0; k < count; ++k) b->labels[k] = b->labels32[k];
}

/* Preloaded event e into batch slot k. */
static void copy_event(hn_batcher *b, size_t e, int k)
{
    for (int i = 0; i < b->m->ninputs; ++i) {
        memcpy(b->x[i] + (size_t)k * b->stride[i], b->all_x[i] + e * b->stride[i], sizeof(float) * b->stride[i]);
        b->n[i][k] = b->all_n[i][e];
    }
    b->labels32[k] = b->all_labels[e];
    if (b->weights) b->weights[k] = b->all_weights[e];
}

int hn_batcher_gather(hn_batcher *b, const int64_t *idx, int count, char *err, size_t errlen)
{
    if (count > b->cap) return fail(err, errlen, "internal error: batch larger than its buffers", b->path);
    for (int k = 0; k < count;) {
        if (b->preloaded) {
            copy_event(b, (size_t)idx[k], k);
            ++k;
            continue;
        }
        int run = 1;                            /* a run of consecutive events in one read */
        while (k + run < count && idx[k + run] == idx[k] + run) ++run;
        if (read_slot(b, idx[k], run, k, err, errlen)) return -1;
        k += run;
    }
    widen_labels(b, count);
    return 0;
}

int hn_batcher_range(hn_batcher *b, int64_t first, int count, char *err, size_t errlen)
{
    if (count > b->cap) return fail(err, errlen, "internal error: batch larger than its buffers", b->path);
    if (b->preloaded)
        for (int k = 0; k < count; ++k) copy_event(b, (size_t)(first + k), k);
    else if (read_slot(b, first, count, 0, err, errlen))
        return -1;
    widen_labels(b, count);
    return 0;
}
