/* batchnorm — inference-mode BatchNorm1d over the last axis with the running statistics.
 * Folded into a neighbouring linear when one exists (passes/fold.c); otherwise applied as is. */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "eps", HN_ATTR_FLOAT, 0, "1e-5", NULL, "added to the running variance" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    int d = hn_last_dim(out);
    hn_node_param(g, n, "weight", 1, d, 0);
    hn_node_param(g, n, "bias", 1, d, 0);
    hn_node_param(g, n, "running_mean", 1, d, 0);
    hn_node_param(g, n, "running_var", 1, d, 0);
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_emit_param_decl(e, "gamma", n->param[0]);
    hn_emit_param_decl(e, "beta", n->param[1]);
    hn_emit_param_decl(e, "mean", n->param[2]);
    hn_emit_param_decl(e, "var", n->param[3]);
    char eps[48];
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_batchnorm(%s, %s, %d, mean, var, gamma, beta, %s, %s);", r.x[0], r.rows,
                 hn_last_dim(&e->g->tensors[n->out].shape), hn_c_float((float)hn_attr_float(n, "eps"), eps), r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return 2 * hn_shape_elems(hn_in_shape(g, n, 0)); }

const hn_op_def hn_op_def_batchnorm = {
    "batchnorm", "Batch normalisation with running statistics (inference), as torch.nn.BatchNorm1d.",
    "<name>.weight, <name>.bias, <name>.running_mean, <name>.running_var [d]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
};
