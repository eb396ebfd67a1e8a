/* feature_mean — the mean of each row over its last axis: [..., F] → [..., 1] (IAFormer's readout,
 * x.mean(-1), one number per particle). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    out->dim[out->rank - 1] = 1;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    int F = hn_last_dim(hn_in_shape(e->g, n, 0));
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "for (size_t i = 0; i < (size_t)(%s); ++i) {", r.rows);
    hn_emit_line(e, r.indent + 1, "const float *row = (%s) + i * %d;", r.x[0], F);
    hn_emit_line(e, r.indent + 1, "float sum = 0.0f;");
    hn_emit_line(e, r.indent + 1, "for (int k = 0; k < %d; ++k) sum += row[k];", F);
    hn_emit_line(e, r.indent + 1, "(%s)[i] = sum / %d.0f;", r.y, F);
    hn_emit_line(e, r.indent, "}");
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return hn_shape_elems(hn_in_shape(g, n, 0)); }

/* Backward over every slot: each feature gets dy/F of its row. */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_tensor *out = &e->g->tensors[n->out];
    hn_emit_line(e, 1, "if (dx0) hn_kb_feature_mean(dy, %s, %d, dx0);", hn_emit_all_rows(e, out),
                 hn_last_dim(hn_in_shape(e->g, n, 0)));
}

const hn_op_def hn_op_def_feature_mean = {
    "feature_mean", "Mean of each row over its features: [..., F] → [..., 1] (IAFormer's readout x.mean(-1)).", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
