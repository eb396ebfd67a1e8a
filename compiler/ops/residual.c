/* residual — y = x + s ⊙ r: a residual connection whose skipped branch r is scaled per channel by a
 * learnt vector s (ParT's w_resid). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSORS, 1, NULL, NULL, "[x, r]: the branch and the scaled skip, same shape" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *a = hn_in_shape(g, n, 0), *b = hn_in_shape(g, n, 1);
    if (n->nin != 2 || a->rank != b->rank || a->nset != b->nset || hn_shape_elems(a) != hn_shape_elems(b))
        return hn_error(hn_attr(n, "in")->loc, "residual needs two tensors of the same shape");
    *out = *a;
    hn_node_param(g, n, "scale", 1, hn_last_dim(a), 0);
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_emit_param_decl(e, "s", n->param[0]);
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_scaled_add(%s, %s, %s, %d, s, %s);", r.x[0], r.x[1], r.rows,
                 hn_last_dim(&e->g->tensors[n->out].shape), r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return hn_shape_elems(hn_in_shape(g, n, 0)); }

/* y = x0 + s ⊙ x1: dx0 = dy, dx1 = s ⊙ dy, ds += Σ dy ⊙ x1. */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_tensor *out = &e->g->tensors[n->out];
    hn_emit_param_decl(e, "s", n->param[0]);
    hn_emit_grad_decl(e, "ds", n->param[0]);
    hn_emit_line(e, 1, "hn_kb_scaled_add(x1, %s, %d, s, dy, dx0, dx1, ds);", hn_emit_all_rows(e, out), hn_last_dim(&out->shape));
}

const hn_op_def hn_op_def_residual = {
    "residual", "Residual connection with a learnt per-channel scale of the skip: y = x + s ⊙ r.",
    "<name>.scale [d]", attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
