/* infer_io.c — batch buffers of a built model and reading its inputs from a dataset (hepnc infer,
 * hepnc compare). */
#include "infer_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int hn_alloc_buffers(const hn_model_entry *m, int batch, hn_infer_buffers *b)
{
    if (hn_alloc_io_buffers(m, batch, b)) return -1;
    b->workspace = malloc(m->workspace_bytes(batch) + 64);
    return b->workspace ? 0 : -1;
}

int hn_alloc_io_buffers(const hn_model_entry *m, int batch, hn_infer_buffers *b)
{
    memset(b, 0, sizeof *b);
    for (int i = 0; i < m->ninputs; ++i) {
        const hn_io_desc *d = &m->inputs[i];
        size_t rows = d->is_set == 2 ? (size_t)d->max * (size_t)d->max : (size_t)d->max;
        b->x[i] = malloc(sizeof(float) * (size_t)batch * rows * (size_t)d->width);
        b->n[i] = malloc(sizeof(int32_t) * (size_t)batch);
        if (!b->x[i] || !b->n[i]) return -1;
    }
    for (int o = 0; o < m->noutputs; ++o)
        if (!(b->y[o] = malloc(sizeof(float) * (size_t)batch * (size_t)m->outputs[o].width))) return -1;
    b->labels = malloc(sizeof(int32_t) * (size_t)batch);
    return b->labels ? 0 : -1;
}

void hn_free_buffers(const hn_model_entry *m, hn_infer_buffers *b)
{
    for (int i = 0; i < m->ninputs; ++i) { free(b->x[i]); free(b->n[i]); }
    for (int o = 0; o < m->noutputs; ++o) free(b->y[o]);
    free(b->labels);
    free(b->workspace);
}

int hn_read_inputs(hn_dataset *ds, const hn_model_entry *m, int64_t first, int count, hn_infer_buffers *b,
                       char *err, size_t errlen)
{
    for (int i = 0; i < m->ninputs; ++i) {
        const hn_io_desc *d = &m->inputs[i];
        if (d->pairs_of >= 0) {          /* features of the pairs of a set's rows: /<in>/features [E, M, M, C] */
            if (hn_dataset_read_pairs(ds, d->name, d->max, d->width, d->features, first, count, b->x[i], err, errlen))
                return -1;
            continue;
        }
        if (d->vectors_of >= 0) {       /* the 4-vectors of a set: /<set>/vectors */
            if (hn_dataset_read_vectors(ds, m->inputs[d->vectors_of].name, d->max, first, count, b->x[i], err, errlen))
                return -1;
            continue;
        }
        int rc = d->is_set ? hn_dataset_read_set(ds, d->name, d->max, d->width, d->features, first, count, b->x[i],
                                                 b->n[i], err, errlen)
                           : hn_dataset_read_global(ds, d->name, d->width, d->features, first, count, b->x[i], err,
                                                    errlen);
        if (rc) return -1;
        if (d->is_set == 1 && !d->masked && d->vectors_of < 0)
            for (int k = 0; k < count; ++k)
                if (b->n[i][k] != d->max) {
                    snprintf(err, errlen, "event %lld of input '%s' has %d rows, but the spec declares it fixed-size "
                             "(%d rows, no mask): pad absent objects with zeros and drop the mask, or set 'mask: true'",
                             (long long)(first + k), d->name, b->n[i][k], d->max);
                    return -1;
                }
    }
    return 0;
}

