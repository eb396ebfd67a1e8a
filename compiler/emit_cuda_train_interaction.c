/* emit_cuda_train_interaction.c — the GPU training step's launches for IAFormer's differential attention and
 * interaction embedding (hepnc/gpu_train_interaction.h; kernels templates/cuda/train_interaction.cuh). Their
 * forwards are the inference kernels (compiler/emit_cuda.c); RMSNorm's and the feature mean's backwards are one
 * call each in emit_cuda_train.c. */
#include <string.h>

#include "emit_cuda_train_internal.h"
#include "ops.h"

#define PAR(n, k) g->params[(n)->param[k]].offset

/* The embedding's shape as a hn_gt_ia_shape initialiser. */
static void shape_literal(FILE *f, const hn_graph *g, const hn_node *n)
{
    const hn_attr_val *dims = hn_attr(n, "dims"), *outs = hn_attr(n, "outputs");
    fprintf(f, "{ %d, %d, { %d", g->tensors[n->in[0]].shape.dim[2], dims->nints, g->tensors[n->in[0]].shape.dim[2]);
    for (int k = 0; k < dims->nints; ++k) fprintf(f, ", %d", dims->ints[k]);
    fprintf(f, " }, %d, {", outs->nints);
    for (int p = 0; p < outs->nints; ++p) fprintf(f, "%s%d", p ? ", " : " ", outs->ints[p]);
    fprintf(f, " } }");
}

int hn_ct_interaction_supported(const hn_node *n)
{
    return n->op != HN_OP_interaction_logits || (hn_attr(n, "dims")->nints <= 8 && hn_attr(n, "outputs")->nints <= 16);
}

void hn_ct_interaction_extra(FILE *f, const hn_graph *g, const hn_node *n)
{
    const hn_shape *o = &g->tensors[n->out].shape;
    if (n->op == HN_OP_differential_attention) {
        fprintf(f, "hn_gt_diff_attention_scratch_bytes(batch, %d, %ld)", o->dim[0], (long)hn_attr_int(n, "heads"));
        return;
    }
    fprintf(f, "hn_gt_interaction_logits_scratch_bytes(batch, %d, &(const hn_gt_ia_shape)", o->dim[0]);
    shape_literal(f, g, n);
    fprintf(f, ")");
}

void hn_ct_interaction_extent(const hn_graph *g, const hn_node *n, long *rows, long *cols)
{
    long max = g->tensors[n->out].shape.dim[0], r = 1 + max * (max + 1) / 2;   /* the zero row and every pair */
    const hn_attr_val *dims = hn_attr(n, "dims"), *outs = hn_attr(n, "outputs");
    if (r > *rows) *rows = r;
    for (int k = 0; k < dims->nints; ++k)
        if (dims->ints[k] > *cols) *cols = dims->ints[k];
    for (int p = 0; p < outs->nints; ++p)
        if (outs->ints[p] > *cols) *cols = outs->ints[p];
}

/* Differential attention: the whole logits gradient zeroed (this layer's maps are added into it, as the C step's
 * rule writes it), then the kernels of hn_gt_diff_attention_backward. */
void hn_ct_diff_attention_backward(ctgen *G, const hn_node *n, const char *dy, char dx[][HN_NAME + 48])
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const hn_shape *o = &g->tensors[n->out].shape, *L = &g->tensors[n->in[1]].shape;
    int heads = (int)hn_attr_int(n, "heads"), max = o->dim[0], layer = (int)hn_attr_int(n, "layer");
    long maps = hn_shape_elems(L), map0 = (long)2 * heads * layer * max * max;
    char v[HN_NAME + 8], lg[HN_NAME + 8], cnt[32];
    hn_ct_tvar(g, n->in[0], v, sizeof v);
    hn_ct_tvar(g, n->in[1], lg, sizeof lg);
    if (!strcmp(dx[1], "NULL")) {
        fprintf(f, "    /* %s: no logits gradient wanted (nothing upstream trains) */\n", n->name);
        return;
    }
    fprintf(f, "    if (hn_gt_zero(gpu, %s, (long)batch * %ld, " HN_CT_CHECK, dx[1], maps);
    fprintf(f, "    if (hn_gt_diff_attention_backward(gpu, %s, %s, batch, %d, %d, %d, %s + %ld, %ld, params + %ld, params + %ld, %ld, %ld,\n"
               "            %s, %s, %s + %ld, grads + %ld, grads + %ld, extra_ws, " HN_CT_CHECK,
            v, hn_ct_counts_of(g, &g->tensors[n->out], cnt, sizeof cnt), max, heads, o->dim[1] / heads, lg, map0, maps, PAR(n, 0),
            PAR(n, 1), (long)hn_attr_int(n, "lambda_len"), (long)hn_attr_int(n, "depth"), dy, dx[0], dx[1], map0, PAR(n, 0),
            PAR(n, 1));
}

/* "P + off, …" of `count` parameters from param[first], every second one. */
static void list(FILE *f, const hn_graph *g, const hn_node *n, const char *base, int first, int count)
{
    for (int k = 0; k < count; ++k) fprintf(f, "%s%s + %ld", k ? ", " : " ", base, PAR(n, first + 2 * k));
    fprintf(f, " }");
}

/* The interaction embedding: its parameters' gradients over the batch's pair rows. */
void hn_ct_interaction_logits_backward(ctgen *G, const hn_node *n, const char *dy)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    int K = hn_attr(n, "dims")->nints, np = hn_attr(n, "outputs")->nints, max = g->tensors[n->out].shape.dim[0];
    char x0[HN_NAME + 8], cnt[32];
    hn_ct_tvar(g, n->in[0], x0, sizeof x0);
    fprintf(f, "    {   /* %s: the embedding recomputed over each event's zero row and computed pairs, then back-propagated */\n"
               "        static const hn_gt_ia_shape sh = ", n->name);
    shape_literal(f, g, n);
    fprintf(f, ";\n        const float *const W[%d] = {", K);
    list(f, g, n, "params", 0, K);
    fprintf(f, ", *const B[%d] = {", K);
    list(f, g, n, "params", 1, K);
    fprintf(f, ", *const Wp[%d] = {", np);
    list(f, g, n, "params", 2 * K, np);
    fprintf(f, ";\n        float *const dW[%d] = {", K);
    list(f, g, n, "grads", 0, K);
    fprintf(f, ", *const dB[%d] = {", K);
    list(f, g, n, "grads", 1, K);
    fprintf(f, ";\n        float *const dWp[%d] = {", np);
    list(f, g, n, "grads", 2 * K, np);
    fprintf(f, ", *const dBp[%d] = {", np);
    list(f, g, n, "grads", 2 * K + 1, np);
    fprintf(f, ";\n        if (hn_gt_interaction_logits_backward(gpu, %s, %s, %s, batch, %d, &sh, W, B, Wp, dW, dB, dWp, dBp, extra_ws, "
               "&scratch,\n                " HN_CT_CHECK "    }\n",
            x0, dy, hn_ct_counts_of(g, &g->tensors[n->out], cnt, sizeof cnt), max);
}
