/* rmsnorm — PyTorch RMSNorm over the last axis: x / √(mean(x²) + eps) · γ (no centring, no bias). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "eps", HN_ATTR_FLOAT, 0, "1.1920929e-07", NULL, "added to the mean square (torch's default: float32's epsilon)" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    hn_node_param(g, n, "weight", 1, hn_last_dim(out), 0);
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_emit_param_decl(e, "gamma", n->param[0]);
    char eps[48];
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_rmsnorm(%s, %s, %d, gamma, %s, %s);", r.x[0], r.rows,
                 hn_last_dim(&e->g->tensors[n->out].shape), hn_c_float((float)hn_attr_float(n, "eps"), eps), r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return 3 * hn_shape_elems(hn_in_shape(g, n, 0)); }

/* Backward over every slot (padding rows of dy are zero, so they add nothing to dgamma). */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_tensor *out = &e->g->tensors[n->out];
    char eps[48];
    hn_emit_param_decl(e, "gamma", n->param[0]);
    hn_emit_grad_decl(e, "dgamma", n->param[0]);
    hn_emit_line(e, 1, "hn_kb_rmsnorm(x0, %s, %d, gamma, %s, dy, dx0 ? dx0 : dy, dgamma);", hn_emit_all_rows(e, out),
                 hn_last_dim(&out->shape), hn_c_float((float)hn_attr_float(n, "eps"), eps));
}

const hn_op_def hn_op_def_rmsnorm = {
    "rmsnorm", "Root-mean-square normalisation over the last axis, as torch.nn.RMSNorm.", "<name>.weight [d]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
