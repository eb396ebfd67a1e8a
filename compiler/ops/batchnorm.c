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
    hn_node_param(g, n, "running_mean", 1, d, 0);      /* frozen (hn_node_param): updated by the forward, not trained */
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

/* Training: statistics over every slot of the batch (padding rows included, weaver's convention),
 * running statistics updated with PyTorch's momentum; cfg->training == 0 gives the eval forward. */
/* Over a masked set, a batch trimmed to cfg->slots slots (weaver's SequenceTrimmer; hepnc/train_entry.h)
 * takes its statistics over each event's first `slots` slots only: the weighted kernels, with weight 1
 * on those rows and 0 past them (kept in the node's state for the backward). 0 when not a masked set. */
static long slot_rows(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *out = &g->tensors[n->out];
    if (!out->shape.nset || !g->tensors[g->inputs[out->shape.set]].masked) return 0;
    return hn_shape_elems(&out->shape) / hn_last_dim(&out->shape);
}

static void emit_slot_weights(hn_emit *e, const hn_node *n, long rows)
{
    const hn_tensor *out = &e->g->tensors[n->out];
    int max = out->shape.dim[0];
    hn_emit_line(e, 1, "const int trimmed = cfg->training && cfg->slots > 0 && cfg->slots < %d;", max);
    hn_emit_line(e, 1, "if (trimmed)   /* weight 1 on each event's first cfg->slots slots (%ld rows per slot) */", rows / max);
    hn_emit_line(e, 2, "for (long r = 0; r < (long)batch * %ld; ++r) S[r] = r %% %ld < (long)cfg->slots * %ld ? 1.0f : 0.0f;",
                 rows, rows, rows / max);
}

static void emit_train(hn_emit *e, const hn_node *n)
{
    const hn_tensor *out = &e->g->tensors[n->out];
    int dim = hn_last_dim(&out->shape);
    long rows = slot_rows(e->g, n);
    char eps[48];
    hn_emit_param_decl(e, "gamma", n->param[0]);
    hn_emit_param_decl(e, "beta", n->param[1]);
    hn_emit_param_mut_decl(e, "running_mean", n->param[2]);
    hn_emit_param_mut_decl(e, "running_var", n->param[3]);
    hn_c_float((float)hn_attr_float(n, "eps"), eps);
    if (rows) {
        emit_slot_weights(e, n, rows);
        hn_emit_line(e, 1, "if (trimmed)");
        hn_emit_line(e, 2, "hn_kt_batchnorm_train_weighted(x0, %s, %d, S, gamma, beta, %s, (float)cfg->bn_momentum, running_mean, "
                     "running_var, Sf, Sf + %d, y);", hn_emit_all_rows(e, out), dim, eps, dim);
        hn_emit_line(e, 1, "else if (cfg->training)");
    } else
        hn_emit_line(e, 1, "if (cfg->training)");
    hn_emit_line(e, 2, "hn_kb_batchnorm_train(x0, %s, %d, gamma, beta, %s, (float)cfg->bn_momentum, running_mean, "
                 "running_var, Sf, Sf + %d, y);", hn_emit_all_rows(e, out), dim, eps, dim);
    hn_emit_line(e, 1, "else");
    hn_emit_line(e, 2, "hn_k_batchnorm(x0, %s, %d, running_mean, running_var, gamma, beta, %s, y);",
                 hn_emit_all_rows(e, out), dim, eps);
}

static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_tensor *out = &e->g->tensors[n->out];
    int dim = hn_last_dim(&out->shape);
    char eps[48];
    hn_c_float((float)hn_attr_float(n, "eps"), eps);
    hn_emit_param_decl(e, "gamma", n->param[0]);
    hn_emit_param_decl(e, "running_mean", n->param[2]);
    hn_emit_param_decl(e, "running_var", n->param[3]);
    hn_emit_grad_decl(e, "dgamma", n->param[0]);
    hn_emit_grad_decl(e, "dbeta", n->param[1]);
    if (slot_rows(e->g, n)) {
        hn_emit_line(e, 1, "if (cfg->training && cfg->slots > 0 && cfg->slots < %d)   /* the forward's slot weights, in S */",
                     out->shape.dim[0]);
        hn_emit_line(e, 2, "hn_kt_batchnorm_train_weighted_backward(x0, %s, %d, S, gamma, %s, Sf, Sf + %d, dy, dx0 ? dx0 : dy, "
                     "dgamma, dbeta);", hn_emit_all_rows(e, out), dim, eps, dim);
        hn_emit_line(e, 1, "else if (cfg->training)");
    } else
        hn_emit_line(e, 1, "if (cfg->training)");
    hn_emit_line(e, 2, "hn_kb_batchnorm_train_backward(x0, %s, %d, gamma, %s, Sf, Sf + %d, dy, dx0 ? dx0 : dy, dgamma, dbeta);",
                 hn_emit_all_rows(e, out), dim, eps, dim);
    hn_emit_line(e, 1, "else");
    hn_emit_line(e, 2, "hn_kb_batchnorm(x0, %s, %d, running_mean, running_var, gamma, %s, dy, dx0 ? dx0 : dy, dgamma, dbeta);",
                 hn_emit_all_rows(e, out), dim, eps);
}

static long train_state(const hn_graph *g, const hn_node *n, long *fixed)
{
    *fixed = 2L * hn_last_dim(&g->tensors[n->out].shape);      /* the batch mean and variance */
    return slot_rows(g, n);                                     /* the slot weights (trimmed batches) */
}

const hn_op_def hn_op_def_batchnorm = {
    "batchnorm", "Batch normalisation with running statistics (inference), as torch.nn.BatchNorm1d.",
    "<name>.weight, <name>.bias, <name>.running_mean, <name>.running_var [d]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    emit_train, emit_backward, train_state, 1, 0,
};
