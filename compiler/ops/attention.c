/* attention — multi-head self-attention over each event's real rows from packed q|k|v projections,
 * with an optional per-head additive bias U [n, n, heads] (ParT's interaction matrix). Scores, bias,
 * key mask and softmax are one fused kernel (templates/c/attention.h); padded rows are neither queries
 * nor keys. */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "q|k|v rows [n, 3·D] of a set (a linear to 3·D)" },
    { "bias", HN_ATTR_TENSOR, 0, NULL, NULL, "additive attention bias [n, n, heads] (a pair_embed layer)" },
    { "heads", HN_ATTR_INT, 1, NULL, NULL, "attention heads; D must divide by it" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *s = hn_in_shape(g, n, 0);
    int heads = (int)hn_attr_int(n, "heads"), width = hn_last_dim(s);
    if (s->nset != 1 || s->rank != 2)
        return hn_error(hn_attr(n, "in")->loc, "attention needs per-particle rows [n, 3·D]");
    if (width % (3 * heads))
        return hn_error(hn_attr(n, "heads")->loc, "the q|k|v width %d is not 3 × a multiple of %d heads", width, heads);
    if (n->nin > 1) {
        const hn_shape *u = hn_in_shape(g, n, 1);
        if (u->nset != 2 || u->set != s->set || u->dim[2] != heads)
            return hn_error(hn_attr(n, "bias")->loc, "the bias must be [n, n, %d] over the same set", heads);
    }
    *out = *s;
    out->dim[1] = width / 3;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = &g->tensors[n->out].shape;
    int heads = (int)hn_attr_int(n, "heads"), D = s->dim[1], max = s->dim[0];
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    if (n->nin > 1)
        hn_emit_line(e, 2, "hn_k_attention(x0 + (size_t)b * %d, %s, %d, %d, x1 + (size_t)b * %d, %d, y + (size_t)b * %d);",
                     max * 3 * D, hn_emit_rows(e, &g->tensors[n->out]), heads, D / heads, max * max * heads, max, max * D);
    else
        hn_emit_line(e, 2, "hn_k_attention(x0 + (size_t)b * %d, %s, %d, %d, NULL, %d, y + (size_t)b * %d);", max * 3 * D,
                     hn_emit_rows(e, &g->tensors[n->out]), heads, D / heads, max, max * D);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    const hn_shape *s = &g->tensors[n->out].shape;
    return 2L * s->dim[0] * s->dim[0] * s->dim[1];
}

/* Backward per event (scores recomputed, templates/c/backward_attention.h): dqkv written for the real
 * rows, dU (the bias's gradient, heads-major like U) written for the event's whole block. */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = &g->tensors[n->out].shape;
    int heads = (int)hn_attr_int(n, "heads"), D = s->dim[1], max = s->dim[0], hd = D / heads;
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
    hn_emit_line(e, 2, "float scratch[HN_ATTENTION_BACKWARD_SCRATCH(%d, %d)];", max, hd);
    if (n->nin > 1) {
        hn_emit_line(e, 2, "float *du = dx1 ? dx1 + (size_t)b * %d : NULL;", max * max * heads);
        hn_emit_line(e, 2, "if (du) memset(du, 0, sizeof(float) * %d);", max * max * heads);
        hn_emit_line(e, 2, "HN_ATTENTION_BACKWARD(x0 + (size_t)b * %d, %s, %d, %d, x1 + (size_t)b * %d, %d, dy + (size_t)b * %d, "
                     "dx0 + (size_t)b * %d, du, scratch);", max * 3 * D, hn_emit_rows(e, &g->tensors[n->out]), heads, hd,
                     max * max * heads, max, max * D, max * 3 * D);
    } else {
        hn_emit_line(e, 2, "HN_ATTENTION_BACKWARD(x0 + (size_t)b * %d, %s, %d, %d, NULL, %d, dy + (size_t)b * %d, "
                     "dx0 + (size_t)b * %d, NULL, scratch);", max * 3 * D, hn_emit_rows(e, &g->tensors[n->out]), heads, hd,
                     max, max * D, max * 3 * D);
    }
    hn_emit_line(e, 1, "}");
}

const hn_op_def hn_op_def_attention = {
    "attention", "Multi-head attention softmax(QKᵀ/√d + U)V over each event's real rows, bias and mask fused.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
