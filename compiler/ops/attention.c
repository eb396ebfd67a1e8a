/* attention — multi-head self-attention over each event's real rows from packed q|k|v projections,
 * with an optional per-head additive bias U [n, n, heads] (ParT's interaction matrix). Scores, bias,
 * key mask and softmax are one fused kernel (templates/c/attention.h); padded rows are neither queries
 * nor keys. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

uint64_t hn_fnv1a(const void *data, size_t n, uint64_t h);

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "q|k|v rows [n, 3·D] of a set (a linear to 3·D)" },
    { "bias", HN_ATTR_TENSOR, 0, NULL, NULL, "additive attention bias [n, n, heads] (a pair_embed layer)" },
    { "heads", HN_ATTR_INT, 1, NULL, NULL, "attention heads; D must divide by it" },
    { "dropout", HN_ATTR_FLOAT, 0, "0", NULL,
      "training only: dropout on the attention probabilities, in [0, 1) (nn.MultiheadAttention's dropout)" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *s = hn_in_shape(g, n, 0);
    int heads = (int)hn_attr_int(n, "heads"), width = hn_last_dim(s);
    if (s->nset != 1 || s->rank != 2)
        return hn_error(hn_attr(n, "in")->loc, "attention needs per-particle rows [n, 3·D]");
    if (width % (3 * heads))
        return hn_error(hn_attr(n, "heads")->loc, "the q|k|v width %d is not 3 × a multiple of %d heads", width, heads);
    double rate = hn_attr_float(n, "dropout");
    if (!(rate >= 0.0 && rate < 1.0))
        return hn_error(hn_attr(n, "dropout")->loc, "attention dropout must be in [0, 1), got %g", rate);
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
    if (g->dense_sets && g->tensors[g->inputs[s->set]].masked) {   /* dense sets (ir.h): padded rows zeroed */
        char U[64] = "NULL";
        if (n->nin > 1) snprintf(U, sizeof U, "x1 + (size_t)b * %d", max * max * heads);
        hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
        hn_emit_line(e, 2, "hn_k_attention(x0 + (size_t)b * %d, %s, %d, %d, %s, %d, y + (size_t)b * %d);", max * 3 * D,
                     hn_emit_rows(e, &g->tensors[n->out]), heads, D / heads, U, max, max * D);
        hn_emit_line(e, 2, "memset(y + (size_t)b * %d + (size_t)%s * %d, 0, sizeof(float) * (size_t)(%d - %s) * %d);", max * D,
                     hn_emit_rows(e, &g->tensors[n->out]), D, max, hn_emit_rows(e, &g->tensors[n->out]), D);
        hn_emit_line(e, 1, "}");
        return;
    }
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

/* With dropout on the probabilities: the mask's layer key (FNV-1a of the node's name), and the line that
 * declares `dr`, event b's dropout (rate 0 outside training: the plain kernels then). */
static int emit_dropout_state(hn_emit *e, const hn_node *n, int depth)
{
    double rate = hn_attr_float(n, "dropout");
    if (rate <= 0.0) return 0;
    const hn_shape *s = &e->g->tensors[n->out].shape;
    char lit[48];
    hn_c_float((float)rate, lit);
    hn_emit_line(e, depth, "const hn_kt_attn_dropout dr = { cfg->training ? %s : 0.0f, cfg->training ? cfg->dropout_seed : 0, "
                 "0x%016llxull, (uint64_t)b * %ld };   /* layer key: FNV-1a of '%s' */", lit,
                 (unsigned long long)hn_fnv1a(n->name, strlen(n->name), 1469598103934665603ull),
                 (long)hn_attr_int(n, "heads") * s->dim[0] * s->dim[0], n->name);
    return 1;
}

/* Training forward: with dropout (> 0), the probabilities dropped per element in training; else as `emit`. */
static void emit_train(hn_emit *e, const hn_node *n)
{
    if (hn_attr_float(n, "dropout") <= 0.0) {
        emit(e, n);
        return;
    }
    const hn_graph *g = e->g;
    const hn_shape *s = &g->tensors[n->out].shape;
    int heads = (int)hn_attr_int(n, "heads"), D = s->dim[1], max = s->dim[0];
    char U[64] = "NULL";
    if (n->nin > 1) snprintf(U, sizeof U, "x1 + (size_t)b * %d", max * max * heads);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
    emit_dropout_state(e, n, 2);
    hn_emit_line(e, 2, "if (dr.rate > 0.0f)");
    hn_emit_line(e, 3, "hn_kt_attention_dropout(x0 + (size_t)b * %d, %s, %d, %d, %s, %d, &dr, y + (size_t)b * %d);", max * 3 * D,
                 hn_emit_rows(e, &g->tensors[n->out]), heads, D / heads, U, max, max * D);
    hn_emit_line(e, 2, "else");
    hn_emit_line(e, 3, "hn_k_attention(x0 + (size_t)b * %d, %s, %d, %d, %s, %d, y + (size_t)b * %d);", max * 3 * D,
                 hn_emit_rows(e, &g->tensors[n->out]), heads, D / heads, U, max, max * D);
    hn_emit_line(e, 1, "}");
}

/* Backward per event (scores recomputed, templates/c/backward_attention.h): dqkv written for the real
 * rows, dU (the bias's gradient, heads-major like U) written for the event's whole block; with dropout,
 * the forward's mask recomputed. */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = &g->tensors[n->out].shape;
    int heads = (int)hn_attr_int(n, "heads"), D = s->dim[1], max = s->dim[0], hd = D / heads;
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
    hn_emit_line(e, 2, "float scratch[HN_ATTENTION_BACKWARD_SCRATCH(%d, %d)];", max, hd);
    int drop = emit_dropout_state(e, n, 2);
    const char *fn = drop ? "HN_ATTENTION_BACKWARD_DROPOUT" : "HN_ATTENTION_BACKWARD", *dr = drop ? " &dr," : "";
    if (n->nin > 1) {
        hn_emit_line(e, 2, "float *du = dx1 ? dx1 + (size_t)b * %d : NULL;", max * max * heads);
        hn_emit_line(e, 2, "if (du) memset(du, 0, sizeof(float) * %d);", max * max * heads);
        hn_emit_line(e, 2, "%s(x0 + (size_t)b * %d, %s, %d, %d, x1 + (size_t)b * %d, %d,%s dy + (size_t)b * %d, "
                     "dx0 + (size_t)b * %d, du, scratch);", fn, max * 3 * D, hn_emit_rows(e, &g->tensors[n->out]), heads, hd,
                     max * max * heads, max, dr, max * D, max * 3 * D);
    } else {
        hn_emit_line(e, 2, "%s(x0 + (size_t)b * %d, %s, %d, %d, NULL, %d,%s dy + (size_t)b * %d, "
                     "dx0 + (size_t)b * %d, NULL, scratch);", fn, max * 3 * D, hn_emit_rows(e, &g->tensors[n->out]), heads, hd,
                     max, dr, max * D, max * 3 * D);
    }
    hn_emit_line(e, 1, "}");
}

const hn_op_def hn_op_def_attention = {
    "attention", "Multi-head attention softmax(QKᵀ/√d + U)V over each event's real rows, bias and mask fused.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    emit_train, emit_backward, NULL, 0, 0,
};
