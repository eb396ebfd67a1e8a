/* pool — masked sum, mean or max over each event's real particles: [n ≤ max, F] → [F]. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "a per-particle set tensor" },
    { "mode", HN_ATTR_ENUM, 1, NULL, "sum|mean|max", "how to combine the particles (an empty set gives zeros)" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    if (t->shape.nset != 1 || t->shape.rank != 2)
        return hn_error(hn_attr(n, "in")->loc, "pool needs a per-particle set tensor [n, F], but '%s' is not one",
                        t->name);
    hn_shape s = { .rank = 1, .dim = { t->shape.dim[1] }, .nset = 0, .set = -1 };
    *out = s;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_tensor *in = &e->g->tensors[n->in[0]];
    int width = hn_last_dim(&in->shape);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_k_pool_%s(x0 + (size_t)b * %ld, %s, %d, y + (size_t)b * %d);", hn_attr_str(n, "mode"),
                 hn_shape_elems(&in->shape), hn_emit_rows(e, in), width, width);
}

static long macs(const hn_graph *g, const hn_node *n) { return hn_shape_elems(hn_in_shape(g, n, 0)); }

/* Backward per event over its real rows (the rest of dx stays zero). */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_tensor *in = &e->g->tensors[n->in[0]];
    int width = hn_last_dim(&in->shape);
    const char *mode = hn_attr_str(n, "mode");
    hn_emit_line(e, 1, "if (!dx0) return;");
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    if (!strcmp(mode, "max"))
        hn_emit_line(e, 2, "hn_kb_pool_max(x0 + (size_t)b * %ld, %s, %d, dy + (size_t)b * %d, dx0 + (size_t)b * %ld);",
                     hn_shape_elems(&in->shape), hn_emit_rows(e, in), width, width, hn_shape_elems(&in->shape));
    else
        hn_emit_line(e, 2, "hn_kb_pool_%s(dy + (size_t)b * %d, %s, %d, dx0 + (size_t)b * %ld);", mode, width,
                     hn_emit_rows(e, in), width, hn_shape_elems(&in->shape));
}

const hn_op_def hn_op_def_pool = {
    "pool", "Masked sum, mean or max over each event's real particles.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
