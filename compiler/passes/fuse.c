/* fuse.c — an activation whose input comes from a linear used by nothing else becomes that linear's
 * epilogue: one pass over the output instead of two. */
#include <string.h>

#include "../ops.h"
#include "passes.h"

int hn_pass_fuse(hn_graph *g)
{
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
