/* spanet_eval.h — `hepnc eval` on a SPANet spec: the decoded assignments against the dataset's
 * /TARGETS/<particle>/<product>, reported as upstream SPANet's test.py reports them (SymmetricEvaluator):
 * per jet-multiplicity slice (== n_min, …, >= n_min + lines, all) and per event type (the number of
 * present particles of each cluster, * = any with at least one particle), the event proportion, the event
 * purity and each cluster's purity (docs/spanet_decoding.md). */
#ifndef HN_SPANET_EVAL_H
#define HN_SPANET_EVAL_H

#include "driver.h"

typedef struct hn_spanet_eval_options {
    const char *spec, *weights, *data;
    const char *json;           /* also write the numbers as JSON (upstream's keys), or NULL */
    int batch, lines, gpu;
} hn_spanet_eval_options;

/* mb: the spec's build (hn_frontend), freed here. Returns the exit status (0, or 1 with a message). */
int hn_spanet_eval(const hn_spanet_eval_options *o, hn_model_build *mb);

#endif
