/* cls_attention — the attention of ParT's class blocks (CaiT): the raw class token is the only query;
 * keys and values are the layer-normalised class token and the event's real rows. Output: the
 * concatenated heads [D], before out_proj. Parameters: pre_attn_norm (LayerNorm [D]) and
 * attn.in_proj ([3D, D], q|k|v). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSORS, 1, NULL, NULL, "[class token [D], set rows [n, D]]" },
    { "heads", HN_ATTR_INT, 1, NULL, NULL, "attention heads" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *c = hn_in_shape(g, n, 0), *x = hn_in_shape(g, n, 1);
    int heads = (int)hn_attr_int(n, "heads"), D = hn_last_dim(c);
    if (n->nin != 2 || c->nset != 0 || c->rank != 1 || x->nset != 1 || x->rank != 2 || x->dim[1] != D)
        return hn_error(hn_attr(n, "in")->loc, "cls_attention needs [a per-event token [D], per-particle rows [n, D]]");
    if (D % heads) return hn_error(hn_attr(n, "heads")->loc, "%d channels do not split into %d heads", D, heads);
    hn_node_param(g, n, "pre_attn_norm.weight", 1, D, 0);
    hn_node_param(g, n, "pre_attn_norm.bias", 1, D, 0);
    hn_node_param(g, n, "attn.in_proj.weight", 2, 3 * D, D);
    hn_node_param(g, n, "attn.in_proj.bias", 1, 3 * D, 0);
    *out = *c;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_shape *x = hn_in_shape(e->g, n, 1);
    int D = x->dim[1], max = x->dim[0];
    hn_emit_param_decl(e, "ln_g", n->param[0]);
    hn_emit_param_decl(e, "ln_b", n->param[1]);
    hn_emit_param_decl(e, "W", n->param[2]);
    hn_emit_param_decl(e, "bias", n->param[3]);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_k_class_attention(x0 + (size_t)b * %d, x1 + (size_t)b * %d, %s, %d, %d, W, bias, ln_g, ln_b, "
                 "y + (size_t)b * %d);", D, max * D, hn_emit_rows(e, &e->g->tensors[n->in[1]]), D,
                 (int)hn_attr_int(n, "heads"), D);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    const hn_shape *x = hn_in_shape(g, n, 1);
    return (long)(x->dim[0] + 1) * 3 * x->dim[1] * x->dim[1];
}

/* Backward per event, in order (the parameter gradients of all events add into dP). */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_shape *x = hn_in_shape(e->g, n, 1);
    int D = x->dim[1], max = x->dim[0];
    hn_emit_param_decl(e, "ln_g", n->param[0]);
    hn_emit_param_decl(e, "ln_b", n->param[1]);
    hn_emit_param_decl(e, "W", n->param[2]);
    hn_emit_param_decl(e, "bias", n->param[3]);
    hn_emit_grad_decl(e, "dln_g", n->param[0]);
    hn_emit_grad_decl(e, "dln_b", n->param[1]);
    hn_emit_grad_decl(e, "dW", n->param[2]);
    hn_emit_grad_decl(e, "dbias", n->param[3]);
    hn_emit_line(e, 1, "float scratch[HN_KB_CLASS_ATTENTION_SCRATCH(%d, %d)];", max, D);
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_kb_class_attention(x0 + (size_t)b * %d, x1 + (size_t)b * %d, %s, %d, %d, W, bias, ln_g, ln_b, "
                 "dy + (size_t)b * %d,", D, max * D, hn_emit_rows(e, &e->g->tensors[n->in[1]]), D, (int)hn_attr_int(n, "heads"), D);
    hn_emit_line(e, 4, "dx0 ? dx0 + (size_t)b * %d : NULL, dx1 ? dx1 + (size_t)b * %d : NULL, dW, dbias, dln_g, dln_b, scratch);",
                 D, max * D);
}

const hn_op_def hn_op_def_cls_attention = {
    "cls_attention", "Class-token attention (CaiT, ParT's class blocks): the raw token queries LN([token; rows]).",
    "<name>.pre_attn_norm.{weight,bias} [D], <name>.attn.in_proj.weight [3D, D], .bias [3D]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 0,
};
