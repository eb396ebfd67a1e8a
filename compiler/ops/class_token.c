/* class_token — a learnt vector, the same for every event (ParT's cls_token). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "dim", HN_ATTR_INT, 1, NULL, NULL, "its width" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    int d = (int)hn_attr_int(n, "dim");
    hn_node_param(g, n, "weight", 1, d, 0);
    hn_shape s = { .rank = 1, .dim = { d }, .nset = 0, .set = -1 };
    *out = s;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    int d = (int)hn_attr_int(n, "dim");
    hn_emit_param_decl(e, "token", n->param[0]);
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "memcpy(y + (size_t)b * %d, token, sizeof(float) * %d);", d, d);
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

static void emit_backward(hn_emit *e, const hn_node *n)
{
    int d = (int)hn_attr_int(n, "dim");
    hn_emit_grad_decl(e, "dtoken", n->param[0]);
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "for (int i = 0; i < %d; ++i) dtoken[i] += dy[(size_t)b * %d + i];", d, d);
}

const hn_op_def hn_op_def_class_token = {
    "class_token", "A learnt vector, the same for every event (a class token).", "<name>.weight [dim]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
