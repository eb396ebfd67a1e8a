/* sm_interaction — the Standard-Model interaction matrix of an object set (arXiv:2211.05143): per pair
 * of objects, the leading-order coupling with which they interact (templates/c/sm_interaction.h has the
 * table and the running). Output [n, n, 1], every slot pair written (padding 0), for pair_embed's
 * `extra`: the route by which the paper feeds it into ParT's attention bias. Reads the set's raw one-hot
 * flags (never its `preprocess`ed copy) and pT from its 4-vectors; no parameters, no gradient. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "an object set input declared with 'vectors: true' (pT comes from its 4-vectors)" },
    { "mode", HN_ATTR_ENUM, 0, "running", "running|const|ids",
      "running: couplings run to each pair's Q = (pT_a + pT_b)/2 at one loop; const: at mu0; ids: 1 where a coupling exists" },
    { "ids", HN_ATTR_NAMES, 0, "is_j\nis_b\nis_em\nis_ep\nis_mm\nis_mp\nis_g", NULL,
      "the set's seven one-hot flag features of j, b, e-, e+, mu-, mu+, photon, in that order (default: hepnc convert darkmachines' names)" },
    { "alpha_s", HN_ATTR_FLOAT, 0, "0.118", NULL, "the strong coupling alpha_s at mu0" },
    { "alpha", HN_ATTR_FLOAT, 0, "0.00784313725490196", NULL, "the electromagnetic coupling at mu0 (1/127.5)" },
    { "mu0", HN_ATTR_FLOAT, 0, "91.1876", NULL, "the reference scale in GeV (m_Z)" },
    { "g_z", HN_ATTR_FLOAT, 0, "0.758", NULL, "the Z coupling of opposite-sign same-flavour lepton pairs (not run)" },
};

/* The columns of the seven flags in the set's features; an error names a missing one. */
static int flag_columns(const hn_graph *g, const hn_node *n, int *cols)
{
    const hn_tensor *set = &g->tensors[n->in[0]];
    const hn_attr_val *v = hn_attr(n, "ids");
    char buf[sizeof v->s];
    memcpy(buf, v->s, sizeof buf);
    int count = 0;
    const char *names[HN_MAX_LIST];
    for (int k = 0; k < set->nfeatures; ++k) names[k] = set->features[k];
    for (char *tok = strtok(buf, "\n"); tok; tok = strtok(NULL, "\n")) {
        if (count == 7) return hn_error(v->loc, "'ids' names seven flags (j, b, e-, e+, mu-, mu+, photon), not more");
        int col = -1;
        for (int k = 0; k < set->nfeatures; ++k)
            if (!strcmp(tok, set->features[k])) col = k;
        if (col < 0) {
            const char *near = hn_closest(tok, names, set->nfeatures);
            if (near) return hn_error(v->loc, "'%s' has no feature '%s'; did you mean '%s'?", set->name, tok, near);
            return hn_error(v->loc, "'%s' has no feature '%s' (the flags 'ids' names)", set->name, tok);
        }
        cols[count++] = col;
    }
    if (count != 7) return hn_error(v->loc, "'ids' names seven flags (j, b, e-, e+, mu-, mu+, photon), not %d", count);
    return 0;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    int p4 = hn_set_vectors(g, n);
    if (p4 < 0) return -1;
    n->in[0] = g->inputs[t->shape.set];    /* the raw flags, not a preprocessed copy */
    n->in[1] = p4;
    n->nin = 2;
    int cols[7];
    if (flag_columns(g, n, cols)) return -1;
    hn_shape s = { .rank = 3, .dim = { t->shape.dim[0], t->shape.dim[0], 1 }, .nset = 2, .set = t->shape.set };
    *out = s;
    return 0;
}

static int mode_of(const hn_node *n)
{
    const char *m = hn_attr_str(n, "mode");
    return !strcmp(m, "ids") ? 0 : !strcmp(m, "const") ? 1 : 2;      /* HN_SM_IDS, HN_SM_CONST, HN_SM_RUNNING */
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    int cols[7], mode, max = g->tensors[n->out].shape.dim[0], nfeat = hn_last_dim(&g->tensors[n->in[0]].shape);
    double k[4];
    hn_sm_interaction_params(g, n, cols, &mode, k);    /* infer has checked the flags */
    hn_emit_line(e, 1, "static const int flags[7] = { %d, %d, %d, %d, %d, %d, %d };   /* j b e- e+ mu- mu+ photon */",
                 cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]);
    char lit[4][48];
    hn_emit_line(e, 1, "static const double c[HN_SM_NCONST] = { %s, %s, %s, %s };   /* alpha_s alpha mu0 g_z */",
                 hn_c_double(k[0], lit[0]), hn_c_double(k[1], lit[1]), hn_c_double(k[2], lit[2]), hn_c_double(k[3], lit[3]));
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)   /* every slot pair, padding 0 */");
    hn_emit_line(e, 2, "hn_k_sm_interaction(x0 + (size_t)b * %d, %d, flags, x1 + (size_t)b * %d, %s, %d, %d, c, y + (size_t)b * %d);",
                 max * nfeat, nfeat, max * 4, hn_emit_rows(e, &g->tensors[n->out]), max, mode, max * max);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    long max = g->tensors[n->out].shape.dim[0];
    return 40 * max * max;
}

const hn_op_def hn_op_def_sm_interaction = {
    "sm_interaction", "The Standard-Model interaction matrix of an object set (running couplings per pair), for pair_embed's 'extra'.",
    "", attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 1, 3,
};

int hn_sm_interaction_params(const hn_graph *g, const hn_node *n, int *flags, int *mode, double *consts)
{
    if (flag_columns(g, n, flags)) return -1;
    *mode = mode_of(n);
    consts[0] = hn_attr_float(n, "alpha_s"), consts[1] = hn_attr_float(n, "alpha");
    consts[2] = hn_attr_float(n, "mu0"), consts[3] = hn_attr_float(n, "g_z");
    return 0;
}
