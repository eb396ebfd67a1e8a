/* softmax — over the last axis, max-subtracted. */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_softmax(%s, %s, %d, %s);", r.x[0], r.rows,
                 hn_last_dim(&e->g->tensors[n->out].shape), r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return 3 * hn_shape_elems(hn_in_shape(g, n, 0)); }

static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_tensor *out = &e->g->tensors[n->out];
    hn_emit_line(e, 1, "if (dx0) hn_kb_softmax(y, dy, %s, %d, dx0);", hn_emit_all_rows(e, out), hn_last_dim(&out->shape));
}

const hn_op_def hn_op_def_softmax = {
    "softmax", "Softmax over the last axis.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
