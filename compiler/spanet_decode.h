/* spanet_decode.h — what `hepnc infer` derives from a SPANet spec's outputs (the `spanet` op): per event,
 * the unique jet–parton assignment of all event particles at once (the greedy decoder of runtime/assign.c,
 * upstream's extract_predictions) and SPANet's probabilities, written next to the outputs:
 *   /<p>_assigned                 int32 [E, k_p]  the slot of each product (topology order), -1: unassigned
 *   /<p>_assignment_probability   float [E]       |G_p|·exp(log P) of the chosen cell (0 when unassigned)
 *   /<p>_marginal_probability     float [E]       detection × assignment probability (when <p>.detection is an output)
 * It needs every particle's <p>.assignment among the outputs (the decoder is joint over particles). */
#ifndef HN_SPANET_DECODE_H
#define HN_SPANET_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "hepnc/data.h"
#include "ir.h"

#define HN_SPANET_MAX_PARTICLES 16

typedef struct hn_spanet_decoder {
    int m;                                  /* event particles; 0: nothing to decode */
    int n_slots, kmax;
    char name[HN_SPANET_MAX_PARTICLES][64];
    int degree[HN_SPANET_MAX_PARTICLES], group_order[HN_SPANET_MAX_PARTICLES];
    int assign_out[HN_SPANET_MAX_PARTICLES], detect_out[HN_SPANET_MAX_PARTICLES];   /* model outputs; detect -1: none */
    int slots_ds[HN_SPANET_MAX_PARTICLES], aprob_ds[HN_SPANET_MAX_PARTICLES], mprob_ds[HN_SPANET_MAX_PARTICLES];
    void *scratch;
    size_t scratch_bytes;
    int32_t *slots, *column;                /* [batch][m][kmax], [batch][k] */
    float *prob, *value;                    /* [batch][m], [batch] */
} hn_spanet_decoder;

/* From the lowered graph (before it is freed): d->m = 0 when the spec has no topology. -1 (with a message)
 * when the topology's particles are not all among the outputs as <p>.assignment. */
int hn_spanet_decoder_init(hn_spanet_decoder *d, const hn_graph *g);
/* Allocates the per-batch buffers (batch events at most per call). */
int hn_spanet_decoder_alloc(hn_spanet_decoder *d, int batch, char *err, size_t errlen);
/* Decodes `count` events of the model's outputs y[o] into d->slots ([count][m][kmax]) and d->prob ([count][m]). */
int hn_spanet_decoder_decode(hn_spanet_decoder *d, float *const *y, int count, char *err, size_t errlen);
/* Adds the datasets to the outputs file and allocates the per-batch buffers. */
int hn_spanet_decoder_open(hn_spanet_decoder *d, hn_scores_file *sf, int batch, char *err, size_t errlen);
/* Decodes events [first, first + count) from the model's outputs y[o] and writes them. */
int hn_spanet_decoder_run(hn_spanet_decoder *d, hn_scores_file *sf, float *const *y, int64_t first, int count, char *err,
                          size_t errlen);
void hn_spanet_decoder_free(hn_spanet_decoder *d);

#endif
