/* relu, gelu, sigmoid — elementwise activations. Usually fused into the producing linear (passes/fuse.c);
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
static void emit_sigmoid(hn_emit *e, const hn_node *n) { emit_activation(e, n, "hn_k_sigmoid"); }
static long macs(const hn_graph *g, const hn_node *n) { return hn_shape_elems(hn_in_shape(g, n, 0)); }

/* Backward over every slot: dx = dy·act'(x) (relu' at 0 is 0, as PyTorch). */
static void emit_relu_backward(hn_emit *e, const hn_node *n)
{
    hn_emit_line(e, 1, "if (!dx0) return;");
    hn_emit_line(e, 1, "for (size_t i = 0; i < (size_t)batch * %ld; ++i)", hn_shape_elems(&e->g->tensors[n->out].shape));
    hn_emit_line(e, 2, "dx0[i] = x0[i] > 0.0f ? dy[i] : 0.0f;");
}
static void emit_gelu_backward(hn_emit *e, const hn_node *n)
{
    hn_emit_line(e, 1, "if (dx0) hn_kt_gelu_backward_par(x0, dy, (size_t)batch * %ld, dx0);",
                 hn_shape_elems(&e->g->tensors[n->out].shape));
}

const hn_op_def hn_op_def_relu = {
    "relu", "Rectified linear unit max(x, 0).", "",
    attrs, sizeof attrs / sizeof *attrs, same_shape, NULL, emit_relu, macs,
    NULL, emit_relu_backward, NULL, 0, 0,
};

const hn_op_def hn_op_def_gelu = {
    "gelu", "Gaussian error linear unit x·Φ(x), exact erf form (torch.nn.GELU()).", "",
    attrs, sizeof attrs / sizeof *attrs, same_shape, NULL, emit_gelu, macs,
    NULL, emit_gelu_backward, NULL, 0, 0,
};

const hn_op_def hn_op_def_sigmoid = {
    "sigmoid", "Logistic function 1/(1 + e^(−x)) (a detection probability from its logit).", "",
    attrs, sizeof attrs / sizeof *attrs, same_shape, NULL, emit_sigmoid, macs,
    NULL, NULL, NULL, 0, 0,
};
