/* check.c — IR invariants, run after every pass: each live node reads tensors that exist and are
 * produced earlier (or are inputs), writes one tensor it produces, and its parameters exist. */
#include "../ops.h"
#include "passes.h"

static int fail(const hn_graph *g, const hn_node *n, const char *what)
{
    fprintf(stderr, "hepnc: IR check: node '%s' (%s): %s\n", n->name, hn_op(n->op)->name, what);
    (void)g;
    return -1;
}

int hn_pass_check(hn_graph *g)
{
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead) continue;
        if (n->op < 0 || n->op >= HN_NUM_OPS) return fail(g, n, "unknown op");
        if (!hn_op(n->op)->emit) return fail(g, n, "a composite op survived lowering");
        if (n->out < 0 || n->out >= g->ntensors) return fail(g, n, "no output tensor");
        if (g->tensors[n->out].producer != i) return fail(g, n, "output tensor names another producer");
        for (int k = 0; k < n->nin; ++k) {
            int t = n->in[k];
            if (t < 0 || t >= g->ntensors) return fail(g, n, "input tensor out of range");
            int p = g->tensors[t].producer;
            if (p < 0 && g->tensors[t].role != HN_T_INPUT) return fail(g, n, "reads a tensor nothing produces");
            if (p >= i) return fail(g, n, "reads a tensor produced later");
            if (p >= 0 && g->nodes[p].dead) return fail(g, n, "reads a tensor of a removed node");
        }
        for (int k = 0; k < n->nparam; ++k)
            if (n->param[k] < 0 || n->param[k] >= g->nparams) return fail(g, n, "parameter out of range");
        const hn_shape *s = &g->tensors[n->out].shape;
        if (s->rank < 1 || s->rank > HN_MAX_RANK || s->nset > s->rank) return fail(g, n, "bad output rank");
        for (int d = 0; d < s->rank; ++d)
            if (s->dim[d] <= 0) return fail(g, n, "non-positive extent");
    }
    for (int o = 0; o < g->noutputs; ++o) {
        const hn_tensor *t = &g->tensors[g->outputs[o]];
        if (t->producer < 0 || g->nodes[t->producer].dead) {
            fprintf(stderr, "hepnc: IR check: output '%s' has no live producer\n", g->output_names[o]);
            return -1;
        }
    }
    return 0;
}
