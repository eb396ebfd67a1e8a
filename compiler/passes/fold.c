/* fold.c — a batchnorm that follows a linear is folded into it:
 *   W'[o][i] = s[o]·W[o][i],  b'[o] = s[o]·(b[o] − μ[o]) + β[o],   s = γ/√(var + eps)
 * The arithmetic runs at load time (runtime/fold.c) on the parameters read from the weights file, so
 * the IR only records the recipe and declares the derived parameters.
 *
 * A batchnorm *before* a linear is not folded, on purpose. Folding it (W'[o][i] = W[o][i]·s[i],
 * b'[o] = b[o] + Σ_i W[o][i]·(β[i] − μ[i]·s[i])) replaces (x − μ)·s by x·s − μ·s, which cancels
 * catastrophically for inputs far from zero (energies in GeV, say): on the fcn parity fixture it
 * moved logits by 3e-5 where PyTorch's own float32 spread is 3e-6. Input batchnorms cost a few
 * operations per feature against a linear's in×out, so it stays a kernel of its own. runtime/fold.c
 * keeps both forms for hosts that accept the trade-off. */
#include <stdlib.h>
#include <string.h>

#include "../ops.h"
#include "passes.h"

static int only_consumer(const hn_graph *g, int tensor)
{
    int first;
    return hn_graph_consumers(g, tensor, &first) == 1 ? first : -1;
}

static void record_fold(hn_graph *g, int bn, int lin, int before)
{
    hn_node *B = &g->nodes[bn], *L = &g->nodes[lin];
    hn_fold f;
    memset(&f, 0, sizeof f);
    f.before = before;
    f.bn_gamma = B->param[0];
    f.bn_beta = B->param[1];
    f.bn_mean = B->param[2];
    f.bn_var = B->param[3];
    f.eps = (float)hn_attr_float(B, "eps");
    f.w = L->param[0];
    f.b = L->nparam > 1 ? L->param[1] : -1;

    /* folded in place: the loader overwrites the linear's weights and bias after reading them, so the
       blob holds no second copy; a linear without bias gets a derived one */
    f.out_w = f.w;
    f.out_b = f.b;
    if (f.b < 0) {
        char name[HN_NAME + 16];
        int64_t bdim[1] = { g->params[f.w].dim[0] };
        snprintf(name, sizeof name, "%s.bias.folded", g->nodes[lin].name);
        f.out_b = hn_graph_add_param(g, name, 1, bdim, 0);
    }
    f.kind = HN_FOLD_BATCHNORM;
    hn_graph_add_fold(g, &f);
    L = &g->nodes[lin];
    L->param[0] = f.out_w;
    L->param[1] = f.out_b;
    L->nparam = 2;
    char note[sizeof L->note];
    snprintf(note, sizeof note, "%s[batchnorm '%s' folded %s]", L->note, g->nodes[bn].layer,
             before ? "into its inputs" : "into its outputs");
    memcpy(L->note, note, sizeof L->note);
    g->nodes[bn].dead = 1;
}

/* linear → batchnorm: the linear writes the batchnorm's output instead. */
static int fold_after(hn_graph *g, int bn)
{
    int x = g->nodes[bn].in[0];
    int lin = g->tensors[x].producer;
    if (lin < 0 || g->nodes[lin].op != HN_OP_linear || g->nodes[lin].act != HN_ACT_NONE) return 0;
    if (g->tensors[x].output >= 0 || only_consumer(g, x) != bn) return 0;
    int y = g->nodes[bn].out;
    g->nodes[lin].out = y;
    g->tensors[y].producer = lin;
    g->tensors[x].producer = -1;
    record_fold(g, bn, lin, 0);
    return 1;
}

int hn_pass_fold(hn_graph *g)
{
    for (int i = 0; i < g->nnodes; ++i) {
        if (g->nodes[i].dead || g->nodes[i].op != HN_OP_batchnorm) continue;
        fold_after(g, i);
    }
    return 0;
}
