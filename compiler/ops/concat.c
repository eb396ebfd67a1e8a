/* concat — joins tensors along the last (feature) axis; the other axes must agree. */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSORS, 1, NULL, NULL, "the tensors to join, in order" },
};

static int leading_axes_match(const hn_shape *a, const hn_shape *b)
{
    if (a->rank != b->rank || a->nset != b->nset || a->set != b->set) return 0;
    for (int i = 0; i + 1 < a->rank; ++i)
        if (a->dim[i] != b->dim[i]) return 0;
    return 1;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    int width = 0;
    for (int k = 0; k < n->nin; ++k) {
        const hn_shape *s = hn_in_shape(g, n, k);
        if (!leading_axes_match(out, s))
            return hn_error(hn_attr(n, "in")->loc,
                            "concat joins along the last axis, but '%s' and '%s' differ in their other axes "
                            "(a per-particle set cannot be joined with a per-event vector; pool or flatten it first)",
                            g->tensors[n->in[0]].name, g->tensors[n->in[k]].name);
        width += hn_last_dim(s);
    }
    out->dim[out->rank - 1] = width;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    int width = hn_last_dim(&g->tensors[n->out].shape), col = 0;
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    for (int k = 0; k < n->nin; ++k) {
        int w = hn_last_dim(hn_in_shape(g, n, k));
        hn_emit_line(e, r.indent, "hn_k_copy_cols(%s, %s, %d, 0, %d, %s, %d, %d);   /* %s */", r.x[k], r.rows, w, w,
                     r.y, width, col, g->tensors[n->in[k]].name);
        col += w;
    }
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_tensor *out = &g->tensors[n->out];
    int width = hn_last_dim(&out->shape), col = 0;
    for (int k = 0; k < n->nin; ++k) {
        int w = hn_last_dim(hn_in_shape(g, n, k));
        hn_emit_line(e, 1, "if (dx%d) hn_kb_copy_cols(dy, %s, %d, %d, %d, dx%d, %d, 0, 0);   /* %s */", k,
                     hn_emit_all_rows(e, out), width, col, w, k, w, g->tensors[n->in[k]].name);
        col += w;
    }
}

const hn_op_def hn_op_def_concat = {
    "concat", "Joins tensors along the last (feature) axis.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
