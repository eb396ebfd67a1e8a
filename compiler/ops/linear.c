/* linear — y = x Wᵀ + b over the last axis; per real particle for set tensors.
 * W is [out, in] as in PyTorch's nn.Linear. A following relu/gelu is fused as an epilogue and a
 * neighbouring batchnorm folded into W and b at load time (passes/fuse.c, passes/fold.c). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor" },
    { "out", HN_ATTR_INT, 1, NULL, NULL, "output features" },
    { "bias", HN_ATTR_BOOL, 0, "true", NULL, "add a bias vector" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *in = hn_in_shape(g, n, 0);
    *out = *in;
    out->dim[out->rank - 1] = (int)hn_attr_int(n, "out");
    hn_node_param(g, n, "weight", 2, hn_attr_int(n, "out"), hn_last_dim(in));
    if (hn_attr_int(n, "bias"))
        hn_node_param(g, n, "bias", 1, hn_attr_int(n, "out"), 0);
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    hn_emit_param_decl(e, "W", n->param[0]);
    if (n->nparam > 1)
        hn_emit_param_decl(e, "bias", n->param[1]);
    else
        hn_emit_line(e, 1, "const float *bias = NULL;");
    static const char *const acts[] = { "HN_ACT_NONE", "HN_ACT_RELU", "HN_ACT_GELU" };
    hn_rowloop r;
    hn_emit_rows_begin(e, n, &r);
    hn_emit_line(e, r.indent, "HN_LINEAR(%s, %s, %d, W, bias, %d, %s, %s);", r.x[0], r.rows,
                 hn_last_dim(hn_in_shape(g, n, 0)), hn_last_dim(&g->tensors[n->out].shape), acts[n->act], r.y);
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    const hn_shape *in = hn_in_shape(g, n, 0);
    return hn_shape_elems(in) * hn_attr_int(n, "out");
}

const hn_op_def hn_op_def_linear = {
    "linear", "Affine map y = x·Wᵀ + b over the last axis (per real particle for sets).",
    "<name>.weight [out, in], <name>.bias [out]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
};
