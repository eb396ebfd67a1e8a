/* iaformer_pair_features — IAFormer's six pairwise features of every pair of a set's rows, from the set's
 * 4-vectors (templates/c/interaction.h, as upstream's utils/graph_builder.py): ln ΔR, ln kT, ln z, ln m²,
 * ln((pT_a + pT_b)/pT_J), ln((E_a + E_b)/E_J), the jet J being the sum of the real (E > 0) particles; zero on
 * the diagonal and for padded particles, as upstream's loader rebuilds them. [n, n, 6]. */
#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "a set input declared with 'vectors: true'" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    int p4 = hn_set_vectors(g, n);
    if (p4 < 0) return -1;
    n->in[0] = p4;
    hn_shape s = { .rank = 3, .dim = { t->shape.dim[0], t->shape.dim[0], 6 }, .nset = 2, .set = t->shape.set };
    *out = s;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    int max = e->g->tensors[n->out].shape.dim[0];
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
    hn_emit_line(e, 2, "const float *v = x0 + (size_t)b * %d * 4;", max);
    hn_emit_line(e, 2, "float *f = y + (size_t)b * %d * %d * HN_IA_PAIR_NUM;", max, max);
    hn_emit_line(e, 2, "int m = %s > 0 ? %s : 1, real[m];", hn_emit_rows(e, &e->g->tensors[n->out]),
                 hn_emit_rows(e, &e->g->tensors[n->out]));
    hn_emit_line(e, 2, "float pt[m], eta[m], phi[m];");
    hn_emit_line(e, 2, "float jet[2];");
    hn_emit_line(e, 2, "hn_k_ia_pair_prepare(v, %s, pt, eta, phi, real, jet);", hn_emit_rows(e, &e->g->tensors[n->out]));
    hn_emit_line(e, 2, "for (int a = 0; a < %s; ++a)", hn_emit_rows(e, &e->g->tensors[n->out]));
    hn_emit_line(e, 3, "for (int c = 0; c < %s; ++c)", hn_emit_rows(e, &e->g->tensors[n->out]));
    hn_emit_line(e, 4, "hn_k_ia_pair_features(v, pt, eta, phi, real, jet, a, c, f + ((size_t)a * %d + c) * HN_IA_PAIR_NUM);",
                 max);
    hn_emit_line(e, 1, "}");
}

static long macs(const hn_graph *g, const hn_node *n)
{
    long max = g->tensors[n->out].shape.dim[0];
    return 40 * max * max;
}

const hn_op_def hn_op_def_iaformer_pair_features = {
    "iaformer_pair_features",
    "IAFormer's six pairwise features (ln ΔR, ln kT, ln z, ln m², ln Σp_T/p_T,jet, ln ΣE/E_jet) of a set's pairs, "
    "zero on the diagonal and for padding.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 1, 0,
};
