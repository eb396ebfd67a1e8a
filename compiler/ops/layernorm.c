/* layernorm — PyTorch LayerNorm over the last axis (biased variance, affine). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "eps", HN_ATTR_FLOAT, 0, "1e-5", NULL, "added to the variance" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    hn_node_param(g, n, "weight", 1, hn_last_dim(out), 0);
    hn_node_param(g, n, "bias", 1, hn_last_dim(out), 0);
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_emit_param_decl(e, "gamma", n->param[0]);
    hn_emit_param_decl(e, "beta", n->param[1]);
    char eps[48];
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_layernorm(%s, %s, %d, gamma, beta, %s, %s);", r.x[0], r.rows,
                 hn_last_dim(&e->g->tensors[n->out].shape), hn_c_float((float)hn_attr_float(n, "eps"), eps), r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return 4 * hn_shape_elems(hn_in_shape(g, n, 0)); }

/* Backward over every slot (padding rows of dy are zero, so they add nothing to dgamma, dbeta). */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_tensor *out = &e->g->tensors[n->out];
    char eps[48];
    hn_emit_param_decl(e, "gamma", n->param[0]);
    hn_emit_grad_decl(e, "dgamma", n->param[0]);
    hn_emit_grad_decl(e, "dbeta", n->param[1]);
    int dim = hn_last_dim(&out->shape);
    hn_c_float((float)hn_attr_float(n, "eps"), eps);
    if (out->shape.nset == 1 && e->g->tensors[e->g->inputs[out->shape.set]].masked) {
        /* each event's real rows only, events shared between the threads */
        hn_emit_line(e, 1, "float partial[HN_KT_MAX_THREADS() * %d];   /* per-thread dγ, dβ */", 2 * dim);
        hn_emit_line(e, 1, "hn_kt_layernorm_backward_events(x0, batch, %d, n, %d, gamma, %s, dy, dx0 ? dx0 : dy, dgamma, "
                     "dbeta, partial);", out->shape.dim[0], dim, eps);
        return;
    }
    hn_emit_line(e, 1, "hn_kb_layernorm(x0, %s, %d, gamma, %s, dy, dx0 ? dx0 : dy, dgamma, dbeta);", hn_emit_all_rows(e, out),
                 dim, eps);
}

const hn_op_def hn_op_def_layernorm = {
    "layernorm", "Layer normalisation over the last axis, as torch.nn.LayerNorm.",
    "<name>.weight [d], <name>.bias [d]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
