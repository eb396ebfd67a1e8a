/* differential_attention — IAFormer's attention (templates/c/interaction.h; upstream MultiHeadDiffAttention):
 * no queries or keys; per head h two logit maps from the pair embedding give two softmaxes over the keys,
 *   α_h = softmax(L_{2h}) − β·softmax(L_{2h+1}),   β = min(1, λ_init·exp(λ_q·λ_k)),  λ_init = 1 − e^(−1/depth),
 * and out_h = α_h·v_h over each event's rows, v being the value projection [n, heads·dv]. The maps are
 * layer `layer` of an interaction_logits tensor (channels 2·heads·layer …). Weights <name>.lambda_q1 and
 * <name>.lambda_k1 [len]. With `vectors` (the set's 4-vectors, and logits from its iaformer_pair_features) the
 * kernel knows the padded particles and uses that they share one logit (hn_k_diff_attention_sparse). */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "the values [n, D] (a bias-free linear of the normalised input)" },
    { "logits", HN_ATTR_TENSOR, 1, NULL, NULL, "the attention logits of every layer (an interaction_logits layer)" },
    { "vectors", HN_ATTR_TENSOR, 0, NULL, NULL,
      "the set's input (declared with 'vectors: true'), when the logits come from its iaformer_pair_features: padded "
      "particles (E = 0) then share one logit per map, and the work falls from n² to (real rows)² per head" },
    { "heads", HN_ATTR_INT, 1, NULL, NULL, "attention heads (two logit maps each)" },
    { "layer", HN_ATTR_COUNT, 0, "0", NULL, "which layer's maps of 'logits' (maps 2·heads·layer onwards)" },
    { "depth", HN_ATTR_INT, 0, "1", NULL, "the network's number of attention layers, for λ_init = 1 − exp(−1/depth)" },
    { "lambda_len", HN_ATTR_INT, 0, "100", NULL, "length of the λ_q, λ_k vectors" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *v = hn_in_shape(g, n, 0), *L = hn_in_shape(g, n, 1);
    int heads = (int)hn_attr_int(n, "heads"), layer = (int)hn_attr_int(n, "layer");
    if (v->nset != 1 || v->rank != 2)
        return hn_error(hn_attr(n, "in")->loc, "differential_attention reads a set tensor [n, D]");
    int producer = g->tensors[n->in[1]].producer;
    if (L->nset != 2 || L->rank != 3 || L->set != v->set || producer < 0 || g->nodes[producer].op != HN_OP_interaction_logits)
        return hn_error(hn_attr(n, "logits")->loc, "'logits' must be pair logits [n, n, maps] of the same set (an interaction_logits layer)");
    if (v->dim[1] % heads)
        return hn_error(hn_attr(n, "heads")->loc, "width %d is not a multiple of %d heads", v->dim[1], heads);
    if (L->dim[2] < 2 * heads * (layer + 1))
        return hn_error(hn_attr(n, "logits")->loc, "'logits' has %d maps; layer %d of %d heads needs maps %d to %d", L->dim[2],
                        layer, heads, 2 * heads * layer, 2 * heads * (layer + 1) - 1);
    if (n->nin > 2) {                   /* the set input, or its 4-vectors: the 4-vectors */
        const hn_tensor *t = &g->tensors[n->in[2]];
        int p4 = -1;
        for (int i = 0; i < g->ninputs; ++i)
            if (g->inputs[i] == n->in[2] && t->vectors_of >= 0) p4 = n->in[2];
            else if (t->shape.nset == 1 && g->tensors[g->inputs[i]].vectors_of == t->shape.set && g->inputs[i] != n->in[2] &&
                     t->role == HN_T_INPUT) p4 = g->inputs[i];
        const hn_node *lp = &g->nodes[producer];
        int pf = g->tensors[lp->in[0]].producer;
        if (p4 < 0 || g->tensors[p4].vectors_of != v->set)
            return hn_error(hn_attr(n, "vectors")->loc, "'vectors' must be the attention's set input, declared with 'vectors: true'");
        if (pf < 0 || g->nodes[pf].op != HN_OP_iaformer_pair_features || g->nodes[pf].in[0] != p4)
            return hn_error(hn_attr(n, "vectors")->loc, "'vectors' needs logits computed from that set's iaformer_pair_features "
                            "(its padded pairs share one logit only then)");
        n->in[2] = p4;
    }
    int len = (int)hn_attr_int(n, "lambda_len");
    hn_node_param(g, n, "lambda_q1", 1, len, 0);
    hn_node_param(g, n, "lambda_k1", 1, len, 0);
    *out = *v;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *v = &g->tensors[n->out].shape, *L = hn_in_shape(g, n, 1);
    int heads = (int)hn_attr_int(n, "heads"), layer = (int)hn_attr_int(n, "layer"), max = v->dim[0], D = v->dim[1];
    hn_emit_param_decl(e, "lq", n->param[0]);
    hn_emit_param_decl(e, "lk", n->param[1]);
    hn_emit_line(e, 1, "const float beta = hn_k_diff_beta(lq, lk, %ld, %ld);   /* the weight of the second map */",
                 (long)hn_attr_int(n, "lambda_len"), (long)hn_attr_int(n, "depth"));
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    if (n->nin > 2)
        hn_emit_line(e, 2, "hn_k_diff_attention_sparse(x0 + (size_t)b * %d, %s, %d, %d, x1 + (size_t)b * %ld + (size_t)%d * %d * %d, %d, "
                     "beta, x2 + (size_t)b * %d, y + (size_t)b * %d);   /* padded keys share one logit */", max * D,
                     hn_emit_rows(e, &g->tensors[n->out]), heads, D / heads, hn_shape_elems(L), 2 * heads * layer, max, max, max,
                     max * 4, max * D);
    else
        hn_emit_line(e, 2, "hn_k_diff_attention(x0 + (size_t)b * %d, %s, %d, %d, x1 + (size_t)b * %ld + (size_t)%d * %d * %d, %d, beta, "
                     "y + (size_t)b * %d);", max * D, hn_emit_rows(e, &g->tensors[n->out]), heads, D / heads, hn_shape_elems(L),
                     2 * heads * layer, max, max, max, max * D);
}

/* Backward per event (softmaxes recomputed, templates/c/backward_interaction.h): dv written for every slot (zero
 * past the event's rows), the logits' gradient written for the whole tensor (zero outside this layer's maps: the
 * other layers' rules fill theirs, and the trainer adds them up), each event's dβ in its own slot and summed in
 * event order after the loop (deterministic with threads), then dλ_q, dλ_k. */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *v = &g->tensors[n->out].shape, *L = hn_in_shape(g, n, 1);
    int heads = (int)hn_attr_int(n, "heads"), layer = (int)hn_attr_int(n, "layer"), max = v->dim[0], D = v->dim[1];
    long len = (long)hn_attr_int(n, "lambda_len"), depth = (long)hn_attr_int(n, "depth"), maps = hn_shape_elems(L);
    hn_emit_param_decl(e, "lq", n->param[0]);
    hn_emit_param_decl(e, "lk", n->param[1]);
    hn_emit_grad_decl(e, "dlq", n->param[0]);
    hn_emit_grad_decl(e, "dlk", n->param[1]);
    hn_emit_line(e, 1, "const float beta = hn_k_diff_beta(lq, lk, %ld, %ld);", len, depth);
    hn_emit_line(e, 1, "float dbeta[batch > 0 ? batch : 1];   /* each event's ∂loss/∂β */");
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
    hn_emit_line(e, 2, "float *dvb = dx0 ? dx0 + (size_t)b * %d : NULL, *dLb = dx1 ? dx1 + (size_t)b * %ld : NULL;", max * D, maps);
    hn_emit_line(e, 2, "if (dvb) memset(dvb, 0, sizeof(float) * %d);", max * D);
    hn_emit_line(e, 2, "if (dLb) memset(dLb, 0, sizeof(float) * %ld);", maps);
    hn_emit_line(e, 2, "dbeta[b] = 0.0f;");
    hn_emit_line(e, 2, "hn_kb_diff_attention(x0 + (size_t)b * %d, %s, %d, %d, x1 + (size_t)b * %ld + (size_t)%d * %d * %d, %d, beta, "
                 "dy + (size_t)b * %d, dvb, dLb ? dLb + (size_t)%d * %d * %d : NULL, &dbeta[b]);", max * D,
                 hn_emit_rows(e, &g->tensors[n->out]), heads, D / heads, maps, 2 * heads * layer, max, max, max, max * D,
                 2 * heads * layer, max, max);
    hn_emit_line(e, 1, "}");
    hn_emit_line(e, 1, "float dbeta_sum = 0.0f;");
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b) dbeta_sum += dbeta[b];");
    hn_emit_line(e, 1, "hn_kb_diff_beta(lq, lk, %ld, %ld, dbeta_sum, dlq, dlk);", len, depth);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    const hn_shape *s = &g->tensors[n->out].shape;
    return (long)s->dim[0] * s->dim[0] * (s->dim[1] + 8 * hn_attr_int(n, "heads"));
}

const hn_op_def hn_op_def_differential_attention = {
    "differential_attention",
    "IAFormer's differential attention: per head softmax(L₀) − β·softmax(L₁) of two logit maps from the pair "
    "embedding, times the values.",
    "<name>.lambda_q1 [len], <name>.lambda_k1 [len]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 4,   /* input 2 (the 4-vectors): no gradient */
};
