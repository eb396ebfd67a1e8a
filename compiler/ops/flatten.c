/* flatten — a fixed-size object list [max, F] (no mask) becomes one per-event vector [max·F],
 * object-major, as torch.flatten(x, 1). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "input tensor (a set without a mask, or a per-event tensor)" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *in_shape_out)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    const hn_shape *in = &t->shape;
    if (in->nset > 0 && g->tensors[g->inputs[in->set]].masked)
        return hn_error(hn_attr(n, "in")->loc,
                        "flatten needs a fixed-size list, but '%s' is a masked set whose size varies per event; "
                        "pool it instead, or declare its input with 'mask: false'", t->name);
    hn_shape out = { .rank = 1, .dim = { (int)hn_shape_elems(in) }, .nset = 0, .set = -1 };
    *in_shape_out = out;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_emit_line(e, 1, "memcpy(y, x0, sizeof(float) * (size_t)batch * %ld);",
                 hn_shape_elems(&e->g->tensors[n->out].shape));
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

static void emit_backward(hn_emit *e, const hn_node *n)
{
    hn_emit_line(e, 1, "if (dx0) memcpy(dx0, dy, sizeof(float) * (size_t)batch * %ld);",
                 hn_shape_elems(&e->g->tensors[n->out].shape));
}

const hn_op_def hn_op_def_flatten = {
    "flatten", "Flattens a fixed-size object list [max, F] into one vector per event.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
