/* add — elementwise sum of two tensors of the same shape (residual connections). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSORS, 1, NULL, NULL, "the two tensors to add, [a, b]" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_attr_val *in = hn_attr(n, "in");
    if (n->nin != 2)
        return hn_error(in->loc, "add takes exactly two inputs, got %d", n->nin);
    const hn_shape *a = hn_in_shape(g, n, 0), *b = hn_in_shape(g, n, 1);
    int same = a->rank == b->rank && a->nset == b->nset && a->set == b->set;
    for (int i = 0; same && i < a->rank; ++i)
        same = a->dim[i] == b->dim[i];
    if (!same) {
        hn_error(in->loc, "add needs two tensors of the same shape; '%s' and '%s' differ",
                 g->tensors[n->in[0]].name, g->tensors[n->in[1]].name);
        fprintf(stderr, "  shapes: ");
        hn_shape_print(stderr, a, g);
        fprintf(stderr, " and ");
        hn_shape_print(stderr, b, g);
        fputc('\n', stderr);
        return -1;
    }
    *out = *a;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "hn_k_add(%s, %s, (size_t)(%s) * %d, %s);", r.x[0], r.x[1], r.rows,
                 hn_last_dim(&e->g->tensors[n->out].shape), r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return hn_shape_elems(hn_in_shape(g, n, 0)); }

static void emit_backward(hn_emit *e, const hn_node *n)
{
    long count = hn_shape_elems(&e->g->tensors[n->out].shape);
    hn_emit_line(e, 1, "if (dx0) memcpy(dx0, dy, sizeof(float) * (size_t)batch * %ld);", count);
    hn_emit_line(e, 1, "if (dx1) memcpy(dx1, dy, sizeof(float) * (size_t)batch * %ld);", count);
}

const hn_op_def hn_op_def_add = {
    "add", "Elementwise sum of two tensors of the same shape.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
