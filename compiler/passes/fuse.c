/* fuse.c — an activation whose input comes from a linear used by nothing else becomes that linear's
 * epilogue: one pass over the output instead of two. Dropout nodes disappear (identity at inference). */
#include <string.h>

#include "../ops.h"
#include "passes.h"

/* pair_features read only by a pair_embed: the pair_embed computes the features itself, tile by
 * tile, so the [n, n, C] tensor is never stored. */
static void fuse_pair_features(hn_graph *g)
{
    for (int i = 0; i < g->nnodes; ++i) {
        hn_node *e = &g->nodes[i];
        if (e->dead || e->op != HN_OP_pair_embed) continue;
        int pf = g->tensors[e->in[0]].producer, first;
        if (pf < 0 || g->nodes[pf].op != HN_OP_pair_features) continue;
        if (g->tensors[e->in[0]].output >= 0 || hn_graph_consumers(g, e->in[0], &first) != 1) continue;
        g->tensors[e->in[0]].producer = -1;
        e->in[0] = g->nodes[pf].in[0];
        e->fused_from = pf;
        g->nodes[pf].dead = 1;
        snprintf(e->note, sizeof e->note, "[pair_features '%s' fused: computed per tile of pairs]", g->nodes[pf].name);
    }
}

/* Dropout is the identity at inference: its readers read its input instead (unless it is an output). */
static void remove_dropout(hn_graph *g)
{
    for (int i = 0; i < g->nnodes; ++i) {
        hn_node *d = &g->nodes[i];
        if (d->dead || d->op != HN_OP_dropout || g->tensors[d->out].output >= 0) continue;
        for (int j = 0; j < g->nnodes; ++j)
            for (int k = 0; k < g->nodes[j].nin; ++k)
                if (!g->nodes[j].dead && g->nodes[j].in[k] == d->out) g->nodes[j].in[k] = d->in[0];
        g->tensors[d->out].producer = -1;
        d->dead = 1;
    }
}

int hn_pass_fuse(hn_graph *g)
{
    remove_dropout(g);
    fuse_pair_features(g);
    for (int i = 0; i < g->nnodes; ++i) {
        hn_node *a = &g->nodes[i];
        if (a->dead || (a->op != HN_OP_relu && a->op != HN_OP_gelu)) continue;
        int x = a->in[0];
        int lin = g->tensors[x].producer;
        if (lin < 0 || g->nodes[lin].op != HN_OP_linear || g->nodes[lin].act != HN_ACT_NONE) continue;
        int first;
        if (g->tensors[x].output >= 0 || hn_graph_consumers(g, x, &first) != 1) continue;
        hn_node *L = &g->nodes[lin];
        L->act = a->op == HN_OP_relu ? HN_ACT_RELU : HN_ACT_GELU;
        L->out = a->out;
        g->tensors[a->out].producer = lin;
        g->tensors[x].producer = -1;
        a->dead = 1;
    }
    return 0;
}
