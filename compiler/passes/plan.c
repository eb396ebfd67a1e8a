/* plan.c — the memory plan: one arena, offsets from liveness.
 *
 * Every intermediate tensor gets `per-event size` floats per event at offset `off`, so for a batch it
 * lives at workspace + batch·off and the workspace is batch · workspace_floats floats: exact for any
 * batch. Inputs and outputs live in the caller's buffers. Tensors are placed largest first at the
 * lowest offset that overlaps no tensor live at the same time (a node's inputs and output are live
 * together, so nothing is computed in place). Sizes are rounded to 16 floats (64 bytes). */
#include <stdlib.h>
#include <string.h>

#include "../ops.h"
#include "passes.h"

static long padded_size(const hn_tensor *t) { return (hn_shape_elems(&t->shape) + 15) / 16 * 16; }

static void liveness(hn_graph *g)
{
    for (int t = 0; t < g->ntensors; ++t) g->tensors[t].first_use = g->tensors[t].last_use = -1;
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead) continue;
        g->tensors[n->out].first_use = i;
        if (g->tensors[n->out].last_use < i) g->tensors[n->out].last_use = i;
        for (int k = 0; k < n->nin; ++k) g->tensors[n->in[k]].last_use = i;
    }
}

static int in_workspace(const hn_tensor *t)
{
    return t->role == HN_T_ACT && t->output < 0 && t->producer >= 0 && t->first_use >= 0;
}

static int overlap_in_time(const hn_tensor *a, const hn_tensor *b)
{
    return a->first_use <= b->last_use && b->first_use <= a->last_use;
}

static const hn_graph *sort_graph;
static int by_size_desc(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    long sa = padded_size(&sort_graph->tensors[a]), sb = padded_size(&sort_graph->tensors[b]);
    if (sa != sb) return sa > sb ? -1 : 1;
    return a - b;
}

int hn_pass_plan(hn_graph *g)
{
    liveness(g);
    int *order = malloc(sizeof *order * (size_t)(g->ntensors + 1)), n = 0;
    if (!order) return -1;
    for (int t = 0; t < g->ntensors; ++t) {
        g->tensors[t].offset = -1;
        if (in_workspace(&g->tensors[t])) order[n++] = t;
    }
    sort_graph = g;
    qsort(order, (size_t)n, sizeof *order, by_size_desc);
    g->workspace_floats = 0;
    for (int i = 0; i < n; ++i) {
        hn_tensor *t = &g->tensors[order[i]];
        long size = padded_size(t), off = 0;
        for (int moved = 1; moved;) {          /* first fit: bump past every conflicting placement */
            moved = 0;
            for (int j = 0; j < i; ++j) {
                const hn_tensor *u = &g->tensors[order[j]];
                if (!overlap_in_time(t, u)) continue;
                long usize = padded_size(u);
                if (off < u->offset + usize && u->offset < off + size) { off = u->offset + usize; moved = 1; }
            }
        }
        t->offset = off;
        if (off + size > g->workspace_floats) g->workspace_floats = off + size;
    }
    free(order);
    return 0;
}
