/* pair_features — ParT's pairwise features of every pair of a set's real particles, from the set's
 * 4-vectors (templates/c/pair.h, exactly as weaver-core 0.4): [n, n, C]. Usually never stored: the fuse
 * pass hands its work to the pair_embed that reads it, which computes features tile by tile. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "a set input declared with 'vectors: true'" },
    { "features", HN_ATTR_NAMES, 0, "ln_kt\nln_z\nln_delta\nln_m2", NULL,
      "which features, in order: any of ln_kt, ln_z, ln_delta, ln_m2 (default: all four, weaver's order)" },
};

static const char *const known[] = { "ln_kt", "ln_z", "ln_delta", "ln_m2" };

/* Resolves the feature names into indices (kept in the node's note-free ints of 'features'). */
int hn_pair_feature_selection(const hn_node *n, int *sel)
{
    const hn_attr_val *v = hn_attr(n, "features");
    char buf[sizeof v->s];
    memcpy(buf, v->s, sizeof buf);
    int count = 0;
    for (char *tok = strtok(buf, "\n"); tok; tok = strtok(NULL, "\n")) {
        int found = -1;
        for (int k = 0; k < 4; ++k)
            if (!strcmp(tok, known[k])) found = k;
        if (found < 0) {
            const char *near = hn_closest(tok, known, 4);
            if (near) return hn_error(v->loc, "unknown pair feature '%s'; did you mean '%s'?", tok, near);
            return hn_error(v->loc, "unknown pair feature '%s' (ln_kt, ln_z, ln_delta, ln_m2)", tok);
        }
        if (count == 8) return hn_error(v->loc, "at most 8 pair features");
        sel[count++] = found;
    }
    return count;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    int p4 = hn_set_vectors(g, n);
    if (p4 < 0) return -1;
    int sel[8], count = hn_pair_feature_selection(n, sel);
    if (count < 0) return -1;
    n->in[0] = p4;
    hn_shape s = { .rank = 3, .dim = { t->shape.dim[0], t->shape.dim[0], count }, .nset = 2, .set = t->shape.set };
    *out = s;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    int sel[8], count = hn_pair_feature_selection(n, sel), max = e->g->tensors[n->out].shape.dim[0];
    char list[64] = "";
    for (int k = 0; k < count; ++k) {
        char item[8];
        snprintf(item, sizeof item, "%s%d", k ? ", " : "", sel[k]);
        strcat(list, item);
    }
    hn_emit_line(e, 1, "static const int sel[%d] = { %s };", count, list);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
    hn_emit_line(e, 2, "const float *v = x0 + (size_t)b * %d * 4;", max);
    hn_emit_line(e, 2, "float *f = y + (size_t)b * %d * %d * %d;", max, max, count);
    hn_emit_line(e, 2, "int m = n[b] > 0 ? n[b] : 1;");
    hn_emit_line(e, 2, "float pt[m], rap[m], phi[m], all[HN_PAIR_NUM];");
    hn_emit_line(e, 2, "hn_k_pair_prepare(v, n[b], pt, rap, phi);");
    hn_emit_line(e, 2, "for (int a = 0; a < n[b]; ++a)");
    hn_emit_line(e, 3, "for (int c = 0; c <= a; ++c) {   /* (a, c) with a >= c, as weaver's lower triangle */");
    hn_emit_line(e, 4, "hn_k_pair_features(v, pt, rap, phi, a, c, all);");
    hn_emit_line(e, 4, "for (int k = 0; k < %d; ++k)", count);
    hn_emit_line(e, 5, "f[((size_t)a * %d + c) * %d + k] = f[((size_t)c * %d + a) * %d + k] = all[sel[k]];", max, count,
                 max, count);
    hn_emit_line(e, 3, "}");
    hn_emit_line(e, 1, "}");
}

static long macs(const hn_graph *g, const hn_node *n)
{
    long max = g->tensors[n->out].shape.dim[0];
    return 30 * max * (max + 1) / 2;
}

/* Training: every slot pair, padding included (weaver's training path embeds all of them). */
static void emit_train(hn_emit *e, const hn_node *n)
{
    int sel[8], count = hn_pair_feature_selection(n, sel), max = e->g->tensors[n->out].shape.dim[0];
    char list[64] = "";
    for (int k = 0; k < count; ++k) {
        char item[8];
        snprintf(item, sizeof item, "%s%d", k ? ", " : "", sel[k]);
        strcat(list, item);
    }
    hn_emit_line(e, 1, "static const int sel[%d] = { %s };", count, list);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_kt_pair_features_all(x0 + (size_t)b * %d, %d, sel, %d, y + (size_t)b * %d);", max * 4, max, count,
                 max * max * count);
}

const hn_op_def hn_op_def_pair_features = {
    "pair_features", "ParT's pairwise features (ln kT, ln z, ln ΔR, ln m²) of a set's real particle pairs.", "",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    emit_train, NULL, NULL, 1, 0,
};
