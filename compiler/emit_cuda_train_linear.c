/* emit_cuda_train_linear.c — the linear layers of the GPU training step (part of emit_cuda_train.c, through
 * emit_cuda_train_internal.h): which run their GEMMs on the packed real rows of the particle set, and their
 * forward and backward launches — plain, packed, and before ParT's folded head scale. */
#include <stdio.h>

#include "emit_cuda_train_internal.h"
#include "ops.h"

#define CHECK HN_CT_CHECK

/* The fold of linear layer n's head scale (ParT's c_attn), -1: none. */
static int headscale_of(const hn_graph *g, const hn_node *n)
{
    for (int i = 0; i < g->nfolds; ++i)
        if (g->folds[i].kind == HN_FOLD_HEADSCALE && g->folds[i].w == n->param[0]) return i;
    return -1;
}

int hn_ct_pack_set(const hn_graph *g)
{
    for (int i = 0; i < g->ninputs; ++i)
        if (g->tensors[g->inputs[i]].masked) return i;
    return -1;
}

int hn_ct_packed_rows_linear(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *o = &g->tensors[n->out];
    int ps = hn_ct_pack_set(g);
    return n->op == HN_OP_linear && ps >= 0 && o->shape.nset == 1 && o->shape.set == ps &&
           hn_shape_elems(&o->shape) / hn_last_dim(&o->shape) == o->shape.dim[0];
}

static long rows_per_event(const hn_tensor *t) { return hn_shape_elems(&t->shape) / hn_last_dim(&t->shape); }

/* "<base> + <offset of n's bias>", or "NULL" for a layer without one. */
static void bias_arg(const hn_graph *g, const hn_node *n, const char *base, char *dst, size_t len)
{
    if (n->nparam > 1) snprintf(dst, len, "%s + %ld", base, g->params[n->param[1]].offset);
    else snprintf(dst, len, "NULL");
}

void hn_ct_linear_forward(ctgen *G, const hn_node *n, const char *x0, const char *y)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const hn_tensor *o = &g->tensors[n->out];
    int in = hn_last_dim(&g->tensors[n->in[0]].shape), out = hn_last_dim(&o->shape), hs = headscale_of(g, n);
    int packed = hn_ct_packed_rows_linear(g, n);
    long R = rows_per_event(o), W = g->params[n->param[0]].offset;
    char bias[48];
    bias_arg(g, n, "params", bias, sizeof bias);
    if (hs < 0 && packed) {         /* the GEMM gathers and scatters the real rows itself */
        fprintf(f, "    if (hn_gt_linear_forward_packed(gpu, %s, &pk, %d, params + %ld, %s, %d, %s, extra_ws, " CHECK, x0, in, W, bias,
                out, y);
        return;
    }
    if (hs < 0) {
        fprintf(f, "    if (hn_gt_linear_forward(gpu, %s, (long)batch * %ld, %d, params + %ld, %s, %d, %s, " CHECK, x0, R, in, W, bias,
                out, y);
        if (hn_ct_masked(g, o))       /* padding rows stay zero, as the C step leaves them */
            fprintf(f, "    if (hn_gt_zero_padding(gpu, %s, batch, counts[%d], %d, %ld, " CHECK, y, o->shape.set, o->shape.dim[0],
                    hn_shape_row_elems(&o->shape));
        if (n->act) fprintf(f, "    if (hn_gt_act(gpu, %s, (long)batch * %ld, %d, %s, " CHECK, y, hn_shape_elems(&o->shape), n->act, y);
        return;
    }
    /* x·Wᵀ + b into the node state, then the head scale (head-major → channel-major) over every row. Packed:
     * the GEMM over the real rows, the state's padding rows zeroed (the head scale's gradient sums every row). */
    const hn_fold *fold = &g->folds[hs];
    char state[64];
    snprintf(state, sizeof state, "state_ws + (size_t)batch * %ld", n->state_offset);
    fprintf(f, "    /* x·Wᵀ + b over %s into the node state%s, then the head scale%s */\n",
            packed ? "the real rows" : "every slot", packed ? " (its padding rows zero)" : "",
            packed ? "" : " (head-major → channel-major)");
    if (packed)
        fprintf(f, "    if (hn_gt_linear_forward_packed(gpu, %s, &pk, %d, params + %ld, %s, %d, %s, extra_ws, " CHECK
                   "    if (hn_gt_zero_padding(gpu, %s, batch, counts[%d], %d, %d, " CHECK,
                x0, in, W, bias, out, state, state, o->shape.set, o->shape.dim[0], out);
    else
        fprintf(f, "    if (hn_gt_linear_forward(gpu, %s, (long)batch * %ld, %d, params + %ld, %s, %d, %s, " CHECK, x0, R, in, W, bias,
                out, state);
    fprintf(f, "    if (hn_gt_headscale(gpu, %s, (long)batch * %ld, %d, %d, params + %ld, 0, %s, " CHECK, state, R, fold->heads,
            out / fold->heads, g->params[fold->bn_gamma].offset, y);
}

void hn_ct_linear_backward(ctgen *G, const hn_node *n, const char *x0, const char *dy, const char *dx)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const hn_tensor *o = &g->tensors[n->out];
    int in = hn_last_dim(&g->tensors[n->in[0]].shape), dim = hn_last_dim(&o->shape), hs = headscale_of(g, n);
    long R = rows_per_event(o), W = g->params[n->param[0]].offset;
    char db[48], dz[96];
    bias_arg(g, n, "grads", db, sizeof db);
    snprintf(dz, sizeof dz, "%s", dy);
    if (hs >= 0) {          /* through the head scale first: dc, then dz = c ⊙ dy back to head-major */
        const hn_fold *fold = &g->folds[hs];
        snprintf(dz, sizeof dz, "(state_ws + (size_t)batch * %ldu)", n->state_offset + hn_shape_elems(&o->shape));
        fprintf(f, "    if (hn_gt_headscale_grad(gpu, %s, state_ws + (size_t)batch * %ld, (long)batch * %ld, %d, %d, %s, grads + %ld, &scratch, " CHECK
                   "    if (hn_gt_headscale(gpu, %s, (long)batch * %ld, %d, %d, params + %ld, 1, %s, " CHECK,
                dy, n->state_offset, R, fold->heads, dim / fold->heads, dz, g->params[fold->bn_gamma].offset, dy, R, fold->heads,
                dim / fold->heads, g->params[fold->bn_gamma].offset, dz);
    }
    if (hn_ct_packed_rows_linear(g, n))
        fprintf(f, "    if (hn_gt_linear_backward_packed(gpu, %s, %s, &pk, %d, params + %ld, %d, %s, grads + %ld, %s, extra_ws, &scratch, "
                CHECK, x0, dz, in, W, dim, dx, W, db);
    else
        fprintf(f, "    if (hn_gt_linear_backward(gpu, %s, (long)batch * %ld, %d, params + %ld, %d, %s, %s, grads + %ld, %s, &scratch, " CHECK,
                x0, R, in, W, dim, dz, dx, W, db);
}
