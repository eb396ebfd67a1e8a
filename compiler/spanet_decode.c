/* spanet_decode.c — see spanet_decode.h. */
#include "spanet_decode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "hepnc/assign.h"
#include "topology.h"

static int output_of(const hn_graph *g, const char *tensor)
{
    int t = hn_graph_find_tensor(g, tensor);
    return t >= 0 ? g->tensors[t].output : -1;
}

int hn_spanet_decoder_init(hn_spanet_decoder *d, const hn_graph *g)
{
    memset(d, 0, sizeof *d);
    const hn_topology *t = g->topology;
    if (!t) return 0;
    if (t->nparticles > HN_SPANET_MAX_PARTICLES)
        return hn_error_plain("hepnc: error: %s has %d event particles; decoding supports %d", t->src.path, t->nparticles,
                              HN_SPANET_MAX_PARTICLES);
    int outputs = 0;
    for (int p = 0; p < t->nparticles; ++p) {
        char name[HN_NAME + 16];
        snprintf(name, sizeof name, "%s.assignment", t->particles[p].name);
        d->assign_out[p] = output_of(g, name);
        outputs += d->assign_out[p] >= 0;
        snprintf(name, sizeof name, "%s.detection", t->particles[p].name);
        d->detect_out[p] = output_of(g, name);
        snprintf(d->name[p], sizeof d->name[p], "%s", t->particles[p].name);
        d->degree[p] = t->particles[p].nproducts;
        d->group_order[p] = t->particles[p].group.order;
        if (d->degree[p] > d->kmax) d->kmax = d->degree[p];
        if (d->assign_out[p] >= 0) d->n_slots = g->tensors[g->outputs[d->assign_out[p]]].shape.dim[0];
    }
    if (outputs == 0) return 0;                    /* a spec that outputs no assignment: nothing to decode */
    if (outputs < t->nparticles)
        return hn_error_plain("hepnc: error: decoding the assignments needs every particle's <particle>.assignment among "
                              "the outputs (the decoder is joint); %d of %d are", outputs, t->nparticles);
    d->m = t->nparticles;
    return 0;
}

int hn_spanet_decoder_open(hn_spanet_decoder *d, hn_scores_file *sf, int batch, char *err, size_t errlen)
{
    if (!d->m) return 0;
    if (hn_spanet_decoder_alloc(d, batch, err, errlen)) return -1;
    for (int p = 0; p < d->m; ++p) {
        char name[128];
        snprintf(name, sizeof name, "%s_assigned", d->name[p]);
        if ((d->slots_ds[p] = hn_scores_add(sf, name, d->degree[p], 1, err, errlen)) < 0) return -1;
        snprintf(name, sizeof name, "%s_assignment_probability", d->name[p]);
        if ((d->aprob_ds[p] = hn_scores_add(sf, name, 0, 0, err, errlen)) < 0) return -1;
        d->mprob_ds[p] = -1;
        snprintf(name, sizeof name, "%s_marginal_probability", d->name[p]);
        if (d->detect_out[p] >= 0 && (d->mprob_ds[p] = hn_scores_add(sf, name, 0, 0, err, errlen)) < 0) return -1;
    }
    return 0;
}

int hn_spanet_decoder_alloc(hn_spanet_decoder *d, int batch, char *err, size_t errlen)
{
    d->scratch_bytes = hn_assign_scratch_bytes(d->m, d->degree, d->n_slots);
    d->scratch = malloc(d->scratch_bytes ? d->scratch_bytes : 1);
    d->slots = malloc(sizeof(int32_t) * (size_t)batch * d->m * d->kmax);
    d->column = malloc(sizeof(int32_t) * (size_t)batch * d->kmax);
    d->prob = malloc(sizeof(float) * (size_t)batch * d->m);
    d->value = malloc(sizeof(float) * (size_t)batch);
    if (!d->scratch_bytes || !d->scratch || !d->slots || !d->column || !d->prob || !d->value)
        return snprintf(err, errlen, "hepnc: error: cannot set up the assignment decoder (out of memory)"), -1;
    return 0;
}

int hn_spanet_decoder_decode(hn_spanet_decoder *d, float *const *y, int count, char *err, size_t errlen)
{
    const float *logp[HN_SPANET_MAX_PARTICLES];
    int64_t stride[HN_SPANET_MAX_PARTICLES];
    for (int p = 0; p < d->m; ++p) {
        logp[p] = y[d->assign_out[p]];
        stride[p] = 1;
        for (int k = 0; k < d->degree[p]; ++k) stride[p] *= d->n_slots;
    }
    if (hn_assign_decode_batch(count, d->m, d->degree, d->n_slots, logp, stride, d->group_order, d->kmax, d->slots, d->prob,
                               d->scratch, d->scratch_bytes) < 0)
        return snprintf(err, errlen, "hepnc: error: the assignment decoder rejected its arguments"), -1;
    return 0;
}

int hn_spanet_decoder_run(hn_spanet_decoder *d, hn_scores_file *sf, float *const *y, int64_t first, int count, char *err,
                          size_t errlen)
{
    if (!d->m || count == 0) return 0;
    if (hn_spanet_decoder_decode(d, y, count, err, errlen)) return -1;
    for (int p = 0; p < d->m; ++p) {
        for (int e = 0; e < count; ++e) {
            for (int k = 0; k < d->degree[p]; ++k)
                d->column[(size_t)e * d->degree[p] + k] = d->slots[((size_t)e * d->m + p) * d->kmax + k];
            d->value[e] = d->prob[(size_t)e * d->m + p];
        }
        if (hn_scores_write_int(sf, d->slots_ds[p], first, count, d->column, err, errlen)) return -1;
        if (hn_scores_write(sf, d->aprob_ds[p], first, count, d->value, err, errlen)) return -1;
        if (d->mprob_ds[p] < 0) continue;
        for (int e = 0; e < count; ++e) d->value[e] *= y[d->detect_out[p]][e];
        if (hn_scores_write(sf, d->mprob_ds[p], first, count, d->value, err, errlen)) return -1;
    }
    return 0;
}

void hn_spanet_decoder_free(hn_spanet_decoder *d)
{
    free(d->scratch);
    free(d->slots);
    free(d->column);
    free(d->prob);
    free(d->value);
    memset(d, 0, sizeof *d);
}
