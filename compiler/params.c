/* params.c — see params.h. */
#include "params.h"

#include <math.h>
#include <stdlib.h>

#include <hepnc/fold.h>
#include <hepnc/weights.h>

static int apply_folds(const hn_graph *g, float *P)
{
    for (int i = 0; i < g->nfolds; ++i) {
        const hn_fold *x = &g->folds[i];
        const hn_param *w = &g->params[x->w];
        if (x->kind == HN_FOLD_EDGE_SPLIT) {
            hn_fold_edge_split((int)w->dim[0], (int)w->dim[1] / 2, P + w->offset);
            continue;
        }
        if (x->kind == HN_FOLD_HEADSCALE) {
            if (hn_fold_headscale(x->heads, (int)w->dim[0], (int)w->dim[1], P + w->offset, P + g->params[x->b].offset,
                                  P + g->params[x->bn_gamma].offset))
                return -1;
            continue;
        }
        hn_fold_batchnorm_linear(x->before, (int)w->dim[0], (int)w->dim[1], P + w->offset,
                                 x->b >= 0 ? P + g->params[x->b].offset : NULL, P + g->params[x->bn_gamma].offset,
                                 P + g->params[x->bn_beta].offset, P + g->params[x->bn_mean].offset,
                                 P + g->params[x->bn_var].offset, x->eps, P + g->params[x->out_w].offset,
                                 P + g->params[x->out_b].offset);
    }
    return 0;
}

float *hn_params_load_raw(const hn_graph *g, const char *weights_path)
{
    char err[512];
    hn_weights *w = hn_weights_open(weights_path, err, sizeof err);
    if (!w) { hn_error_plain("%s", err); return NULL; }
    float *P = calloc((size_t)g->param_floats + 1, sizeof *P);
    if (!P) { hn_weights_close(w); hn_error_plain("hepnc: error: out of memory"); return NULL; }
    for (int p = 0; p < g->nparams; ++p) {
        const hn_param *q = &g->params[p];
        if (!q->from_file) continue;
        if (hn_weights_copy_f32(w, q->name, q->rank, q->dim, P + q->offset, err, sizeof err)) {
            hn_error_plain("%s", err);
            hn_weights_close(w);
            free(P);
            return NULL;
        }
        for (long i = 0; i < q->size; ++i)
            if (!isfinite(P[q->offset + i])) {
                hn_error_plain("%s: error: tensor '%s' has a non-finite value at flat index %ld", weights_path,
                               q->name, i);
                hn_weights_close(w);
                free(P);
                return NULL;
            }
    }
    hn_weights_close(w);
    return P;
}

float *hn_params_load(const hn_graph *g, const char *weights_path)
{
    float *P = hn_params_load_raw(g, weights_path);
    if (P && apply_folds(g, P)) { free(P); hn_error_plain("hepnc: error: out of memory"); return NULL; }
    return P;
}
