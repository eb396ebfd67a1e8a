/* relu, gelu — elementwise activations. Usually fused into the producing linear (passes/fuse.c);
 * emitted on their own only when the producer cannot take an epilogue. gelu is the exact erf form,
 * PyTorch's default. */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
};

static int same_shape(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    return 0;
}

static void emit_activation(hn_emit *e, const hn_node *n, const char *fn)
{
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    int d = hn_last_dim(&e->g->tensors[n->out].shape);
    hn_emit_line(e, r.indent, "for (size_t i = 0; i < (size_t)(%s) * %d; ++i)", r.rows, d);
    hn_emit_line(e, r.indent + 1, "(%s)[i] = %s((%s)[i]);", r.y, fn, r.x[0]);
    hn_emit_rows_end(e, &r);
}

static void emit_relu(hn_emit *e, const hn_node *n) { emit_activation(e, n, "hn_k_relu"); }
static void emit_gelu(hn_emit *e, const hn_node *n) { emit_activation(e, n, "hn_k_gelu"); }
static long macs(const hn_graph *g, const hn_node *n) { return hn_shape_elems(hn_in_shape(g, n, 0)); }

const hn_op_def hn_op_def_relu = {
    "relu", "Rectified linear unit max(x, 0).", "",
    attrs, sizeof attrs / sizeof *attrs, same_shape, NULL, emit_relu, macs,
};

const hn_op_def hn_op_def_gelu = {
    "gelu", "Gaussian error linear unit x·Φ(x), exact erf form (torch.nn.GELU()).", "",
    attrs, sizeof attrs / sizeof *attrs, same_shape, NULL, emit_gelu, macs,
};
