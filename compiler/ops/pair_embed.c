/* pair_embed — ParT's interaction bias U: per pair, batchnorm of the pair features, then a stack of
 * 1×1 convolutions (linear maps per pair) each with batchnorm and GELU, the last one to one value per
 * head (weaver-core 0.4 PairEmbed, use_pre_activation_pair = False: the final GELU is kept).
 * Output [n, n, heads], stored heads-major ([heads][max][max]: each head's bias one contiguous matrix
 * for the attention GEMMs), symmetric, only for real pairs, each unordered pair computed once.
 * Weights follow weaver's nn.Sequential: <name>.embed.0 (input batchnorm), <name>.embed.{3k+1}
 * (conv, [out, in]) and <name>.embed.{3k+2} (batchnorm, folded into the conv at load time). */
#include <string.h>

#include "../emit.h"
#include "../ops.h"
#include "pair_embed_layout.h"

int hn_pair_feature_selection(const hn_node *n, int *sel);

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "the pair features (a pair_features layer)" },
    { "dims", HN_ATTR_INTS, 1, NULL, NULL, "widths of the hidden per-pair layers" },
    { "heads", HN_ATTR_INT, 1, NULL, NULL, "attention heads: one bias per head" },
    { "extra", HN_ATTR_TENSOR, 0, NULL, NULL,
      "more pair features [n, n, C'] (a pair input, or an sm_interaction layer), embedded by a second MLP and summed" },
};

static int declare_layer(hn_graph *g, hn_node *n, const char *seq, int k, int in, int out)
{
    char name[HN_NAME];
    snprintf(name, sizeof name, "%s.%d.weight", seq, 3 * k + 1);
    int w = hn_node_param(g, n, name, 2, out, in);
    snprintf(name, sizeof name, "%s.%d.bias", seq, 3 * k + 1);
    int b = hn_node_param(g, n, name, 1, out, 0);
    static const char *const bn[4] = { "weight", "bias", "running_mean", "running_var" };
    int bnp[4];
    for (int i = 0; i < 4; ++i) {
        snprintf(name, sizeof name, "%s.%d.%s", seq, 3 * k + 2, bn[i]);
        bnp[i] = hn_node_param(g, n, name, 1, out, 0);
    }
    hn_fold f = { .kind = HN_FOLD_BATCHNORM, .before = 0, .bn_gamma = bnp[0], .bn_beta = bnp[1], .bn_mean = bnp[2],
                  .bn_var = bnp[3], .eps = 1e-5f, .w = w, .b = b, .out_w = w, .out_b = b };
    hn_graph_add_fold(g, &f);
    return 0;
}

/* Input batchnorm <name>.<seq>.0, then (conv <seq>.{3k+1}, batchnorm <seq>.{3k+2}) per layer. */
static void declare_mlp(hn_graph *g, hn_node *n, const char *seq, int c, const hn_attr_val *dims, int heads)
{
    static const char *const bn[4] = { "weight", "bias", "running_mean", "running_var" };
    for (int i = 0; i < 4; ++i) {
        char name[HN_NAME];
        snprintf(name, sizeof name, "%s.0.%s", seq, bn[i]);
        hn_node_param(g, n, name, 1, c, 0);
    }
    int in = c;
    for (int k = 0; k <= dims->nints; ++k) {
        int width = k < dims->nints ? dims->ints[k] : heads;
        declare_layer(g, n, seq, k, in, width);
        in = width;
    }
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    if (t->shape.nset != 2 || t->shape.rank != 3)
        return hn_error(hn_attr(n, "in")->loc, "pair_embed reads pair features [n, n, C]; '%s' is not one", t->name);
    const hn_attr_val *dims = hn_attr(n, "dims");
    int heads = (int)hn_attr_int(n, "heads");
    declare_mlp(g, n, "embed", t->shape.dim[2], dims, heads);
    if (n->nin > 1) {                      /* weaver's fts_embed over the supplied pair features */
        const hn_shape *u = hn_in_shape(g, n, 1);
        if (u->nset != 2 || u->set != t->shape.set || u->rank != 3)
            return hn_error(hn_attr(n, "extra")->loc, "'extra' must be pair features [n, n, C'] of the same set (a pair input or an sm_interaction layer)");
        declare_mlp(g, n, "fts_embed", u->dim[2], dims, heads);
    }
    hn_shape s = { .rank = 3, .dim = { t->shape.dim[0], t->shape.dim[1], heads }, .nset = 2, .set = t->shape.set };
    *out = s;
    return 0;
}

/* Declares `hn_k_pair_mlp <var>` for the MLP whose parameters start at the node's param[first]. */
static void emit_mlp(hn_emit *e, const hn_node *n, const char *var, int first, int nfeat, int layers, int heads)
{
    const hn_graph *g = e->g;
    const hn_attr_val *dims = hn_attr(n, "dims");
    char list[256] = "", wl[512] = "", bl[512] = "";
    for (int k = 0; k <= layers; ++k) {
        char item[32];
        snprintf(item, sizeof item, "%s%d", k ? ", " : "", k == 0 ? nfeat : k < layers ? dims->ints[k - 1] : heads);
        strcat(list, item);
    }
    for (int k = 0; k < layers; ++k) {
        char item[48];
        snprintf(item, sizeof item, "%sP + %ld", k ? ", " : "", g->params[n->param[first + 4 + 6 * k]].offset);
        strcat(wl, item);
        snprintf(item, sizeof item, "%sP + %ld", k ? ", " : "", g->params[n->param[first + 5 + 6 * k]].offset);
        strcat(bl, item);
    }
    hn_emit_line(e, 1, "static const int %s_dims[%d] = { %s };", var, layers + 1, list);
    hn_emit_line(e, 1, "const float *const %s_W[%d] = { %s };   /* convolutions, batchnorms folded in */", var, layers, wl);
    hn_emit_line(e, 1, "const float *const %s_B[%d] = { %s };", var, layers, bl);
    hn_emit_line(e, 1, "const hn_k_pair_mlp %s = { %d, P + %ld, P + %ld, P + %ld, P + %ld, %d, %s_dims, %s_W, %s_B };",
                 var, nfeat, g->params[n->param[first + 2]].offset, g->params[n->param[first + 3]].offset,
                 g->params[n->param[first]].offset, g->params[n->param[first + 1]].offset, layers, var, var, var);
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    int layers = hn_attr(n, "dims")->nints + 1, heads = (int)hn_attr_int(n, "heads");
    int max = g->tensors[n->out].shape.dim[0], fused = n->fused_from >= 0, extra = n->nin > 1;
    int sel[8] = { 0 }, nfeat;
    if (fused) nfeat = hn_pair_feature_selection(&g->nodes[n->fused_from], sel);
    else nfeat = g->tensors[n->in[0]].shape.dim[2];
    char sl[64] = "0";
    for (int k = 0; fused && k < nfeat; ++k) {
        char item[8];
        snprintf(item, sizeof item, "%s%d", k ? ", " : "", sel[k]);
        if (!k) sl[0] = '\0';
        strcat(sl, item);
    }
    hn_emit_line(e, 1, "static const int sel[] = { %s };   /* pair feature order */", sl);
    emit_mlp(e, n, "lv", 0, nfeat, layers, heads);
    int c2 = extra ? g->tensors[n->in[1]].shape.dim[2] : 0;
    if (extra) emit_mlp(e, n, "fts", 4 + 6 * layers, c2, layers, heads);
    char uu[96] = "NULL";
    if (extra) snprintf(uu, sizeof uu, "x1 + (size_t)b * %d * %d * %d", max, max, c2);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    if (fused)
        hn_emit_line(e, 2, "hn_k_pair_embed(x0 + (size_t)b * %d * 4, NULL, n[b], %d, sel, &lv, %s, %s, y + (size_t)b * %d * %d * %d);",
                     max, max, uu, extra ? "&fts" : "NULL", max, max, heads);
    else
        hn_emit_line(e, 2, "hn_k_pair_embed(NULL, x0 + (size_t)b * %d * %d * %d, n[b], %d, sel, &lv, %s, %s, y + (size_t)b * %d * %d * %d);",
                     max, max, nfeat, max, uu, extra ? "&fts" : "NULL", max, max, heads);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    long max = g->tensors[n->out].shape.dim[0], pairs = max * (max + 1) / 2, per_pair = 0;
    for (int k = 0; k < n->nparam; ++k)
        if (g->params[n->param[k]].rank == 2) per_pair += g->params[n->param[k]].size;
    return pairs * per_pair;
}

/* ---- training --------------------------------------------------------------------------------
 * weaver's training path embeds every lower-triangle slot pair (a ≥ c, diagonal and padding included)
 * and its batchnorms take batch statistics over all of them. An event's padded pairs take only n + 1
 * distinct values (templates/c/backward_pair.h), so hepnc embeds its n(n+1)/2 real pairs plus those
 * n + 1 rows, each weighted by its multiplicity in the statistics and in every gradient sum: weaver's
 * numbers at a fraction of the work. The rows of the batch form one [rows][width] matrix for the
 * GEMMs. The node's state keeps every layer's input, pre-norm, post-norm and activation, and the row
 * weights, for the backward. */


void hn_pe_layout_of(const hn_graph *g, const hn_node *n, pe_layout *L)
{
    const hn_attr_val *dims = hn_attr(n, "dims");
    L->layers = dims->nints + 1;
    L->heads = (int)hn_attr_int(n, "heads");
    L->max = g->tensors[n->out].shape.dim[0];
    L->nfeat = g->tensors[n->in[0]].shape.dim[2];
    L->np = L->max * (L->max + 1) / 2;        /* an upper bound of an event's rows */
    L->widest = L->nfeat;
    long off = 0, np = L->np;
    L->f0 = off; off += np * L->nfeat;
    L->b0 = off; off += np * L->nfeat;
    L->wt = off; off += np;
    L->stats0 = 0;
    long fixed = 2L * L->nfeat;
    for (int k = 0; k < L->layers; ++k) {
        int w = k < dims->nints ? dims->ints[k] : L->heads;
        L->width[k] = w;
        if (w > L->widest) L->widest = w;
        L->z[k] = off; off += np * w;
        L->nrm[k] = off; off += np * w;
        L->act[k] = off; off += np * w;
        L->stats[k] = fixed; fixed += 2L * w;
    }
    L->g1 = off; off += np * L->widest;
    L->g2 = off; off += np * L->widest;
    L->extra = n->nin > 1;
    L->extra_tril = 0;
    L->u_f0 = -1;
    if (L->extra) {
        long np2 = (long)L->max * L->max;
        int widest2 = 0;
        L->c2 = g->tensors[n->in[1]].shape.dim[2];
        L->first2 = 4 + 6 * L->layers;
        L->u_ones = off; off += np2;
        L->u_b0 = off; off += np2 * L->c2;
        L->u_stats0 = fixed; fixed += 2L * L->c2;
        widest2 = L->c2;
        for (int k = 0; k < L->layers; ++k) {
            int w = L->width[k];
            if (w > widest2) widest2 = w;
            L->u_z[k] = off; off += np2 * w;
            L->u_nrm[k] = off; off += np2 * w;
            L->u_act[k] = off; off += np2 * w;
            L->u_stats[k] = fixed; fixed += 2L * w;
        }
        L->u_g1 = off; off += np2 * widest2;
        L->u_g2 = off; off += np2 * widest2;
        int producer = g->tensors[n->in[1]].producer;
        L->extra_tril = producer >= 0 && g->nodes[producer].op == HN_OP_sm_interaction;
        if (L->extra_tril) { L->u_f0 = off; off += np * L->c2; }
    }
    L->per_event = off;
    L->fixed = fixed;
}

static long train_state(const hn_graph *g, const hn_node *n, long *fixed)
{
    pe_layout L;
    hn_pe_layout_of(g, n, &L);
    *fixed = L.fixed;
    return L.per_event;
}

/* off[b]: the first row of event b; R: the rows of the batch. */
static void emit_row_offsets(hn_emit *e, const pe_layout *L)
{
    hn_emit_line(e, 1, "const int slots = cfg->slots > 0 && cfg->slots < %d ? cfg->slots : %d;   /* slots the batch counts */",
                 L->max, L->max);
    hn_emit_line(e, 1, "size_t off[batch + 1];   /* first row of each event */");
    hn_emit_line(e, 1, "off[0] = 0;");
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b) off[b + 1] = off[b] + hn_kt_pair_row_count(n ? n[b] : %d, slots);",
                 L->max);
    hn_emit_line(e, 1, "const int R = (int)off[batch];");
    hn_emit_line(e, 1, "const float *wt = S + (size_t)batch * %ld;   /* each row's multiplicity */", L->wt);
}

/* BN over the R weighted rows of width w: batch statistics into Sf + stats (training) or running ones. */
static void emit_bn_forward(hn_emit *e, int d, const hn_node *n, int p, const char *x, int w, long stats, const char *y)
{
    const hn_graph *g = e->g;
    hn_emit_line(e, d + 0, "if (cfg->training)");
    hn_emit_line(e, d + 1, "hn_kt_batchnorm_train_weighted(%s, R, %d, wt, P + %ld, P + %ld, 1e-5f, (float)cfg->bn_momentum, "
                 "Pw + %ld, Pw + %ld, Sf + %ld, Sf + %ld, %s);   /* %s */", x, w, g->params[n->param[p]].offset,
                 g->params[n->param[p + 1]].offset, g->params[n->param[p + 2]].offset, g->params[n->param[p + 3]].offset,
                 stats, stats + w, y, g->params[n->param[p]].name);
    hn_emit_line(e, d + 0, "else");
    hn_emit_line(e, d + 1, "hn_k_batchnorm(%s, R, %d, P + %ld, P + %ld, P + %ld, P + %ld, 1e-5f, %s);", x, w,
                 g->params[n->param[p + 2]].offset, g->params[n->param[p + 3]].offset, g->params[n->param[p]].offset,
                 g->params[n->param[p + 1]].offset, y);
}

static void emit_bn_backward(hn_emit *e, int d, const hn_node *n, int p, const char *x, int w, long stats, const char *dy)
{
    const hn_graph *g = e->g;
    long gm = g->params[n->param[p]].offset, bt = g->params[n->param[p + 1]].offset;
    hn_emit_line(e, d + 0, "if (cfg->training)");
    hn_emit_line(e, d + 1, "hn_kt_batchnorm_train_weighted_backward(%s, R, %d, wt, P + %ld, 1e-5f, Sf + %ld, Sf + %ld, %s, %s, "
                 "dP + %ld, dP + %ld);", x, w, gm, stats, stats + w, dy, dy, gm, bt);
    hn_emit_line(e, d + 0, "else {   /* running statistics: an affine map per row, its sums weighted */");
    hn_emit_line(e, d + 1, "for (int r = 0; r < R; ++r)");
    hn_emit_line(e, d + 2, "for (int k = 0; k < %d; ++k) {", w);
    hn_emit_line(e, d + 3, "const float s = P[%ld + k] / sqrtf(P[%ld + k] + 1e-5f), g = %s[(size_t)r * %d + k];", gm,
                 g->params[n->param[p + 3]].offset, dy, w);
    hn_emit_line(e, d + 3, "dP[%ld + k] += wt[r] * g * (%s[(size_t)r * %d + k] - P[%ld + k]) * (s / P[%ld + k]);", gm, x, w,
                 g->params[n->param[p + 2]].offset, gm);
    hn_emit_line(e, d + 3, "dP[%ld + k] += wt[r] * g;", bt);
    hn_emit_line(e, d + 3, "%s[(size_t)r * %d + k] = g * s;", dy, w);
    hn_emit_line(e, d + 2, "}");
    hn_emit_line(e, d + 0, "}");
}

/* fts_embed in training, as weaver's PairEmbed with supplied pair features (not symmetric: every ordered
 * slot pair, max² rows per event, padded pairs included in the batchnorm statistics, weight 1 each): the
 * supplied features through batchnorm and the conv + batchnorm + GELU layers, added to U at the real
 * pairs (attention reads no other). The 4-vector MLP takes the ordered multiplicities in the same case. */
static void emit_train_extra(hn_emit *e, const hn_node *n, const pe_layout *L, const char *rows_out)
{
    const hn_graph *g = e->g;
    long np2 = (long)L->max * L->max;
    char prev[96];
    if (L->extra_tril) {    /* symmetric, zero padding: the 4-vector rows' pairs and ordered weights (R, wt) */
        hn_emit_line(e, 1, "{   /* the pair features '%s' (symmetric, padding 0): fts_embed on the same weighted rows, summed "
                           "into them */", g->tensors[n->in[1]].name);
        hn_emit_line(e, 2, "const float *F2 = S + (size_t)batch * %ld;   /* gathered with the 4-vector rows */", L->u_f0);
    } else {
        hn_emit_line(e, 1, "{   /* the supplied pair features '%s': fts_embed over every ordered slot pair, added at the real "
                           "pairs */", g->tensors[n->in[1]].name);
        hn_emit_line(e, 2, "const int R = batch * %ld;   /* rows: [batch][max][max] */", np2);
        hn_emit_line(e, 2, "float *ones = S + (size_t)batch * %ld;", L->u_ones);
        hn_emit_line(e, 2, "for (int r = 0; r < R; ++r)   /* the pairs of the slots the batch counts */");
        hn_emit_line(e, 3, "ones[r] = r %% %d / %d < slots && r %% %d < slots ? 1.0f : 0.0f;", L->max * L->max, L->max, L->max);
        hn_emit_line(e, 2, "const float *wt = ones;");
        hn_emit_line(e, 2, "const float *F2 = x1;");
    }
    hn_emit_line(e, 2, "float *B2 = S + (size_t)batch * %ld;", L->u_b0);
    emit_bn_forward(e, 2, n, L->first2, "F2", L->c2, L->u_stats0, "B2");
    snprintf(prev, sizeof prev, "B2");
    for (int k = 0; k < L->layers; ++k) {
        int base = L->first2 + 4 + 6 * k, in = k ? L->width[k - 1] : L->c2, w = L->width[k];
        hn_emit_line(e, 2, "{   /* layer %d: conv %s, batchnorm, GELU */", k, g->params[n->param[base]].name);
        hn_emit_line(e, 3, "float *Z = S + (size_t)batch * %ld, *N = S + (size_t)batch * %ld, *A = S + (size_t)batch * %ld;",
                     L->u_z[k], L->u_nrm[k], L->u_act[k]);
        hn_emit_line(e, 3, "hn_kt_linear_par(%s, R, %d, P + %ld, P + %ld, %d, HN_ACT_NONE, Z);", prev, in,
                     g->params[n->param[base]].offset, g->params[n->param[base + 1]].offset, w);
        emit_bn_forward(e, 3, n, base + 2, "Z", w, L->u_stats[k], "N");
        hn_emit_line(e, 3, "hn_kt_gelu_par(N, (size_t)R * %d, A);", w);
        hn_emit_line(e, 2, "}");
        snprintf(prev, sizeof prev, "(S + (size_t)batch * %ld)", L->u_act[k]);
    }
    hn_emit_line(e, 2, "const float *A = %s;", prev);
    if (L->extra_tril) {
        hn_emit_line(e, 2, "for (size_t i = 0; i < (size_t)R * %d; ++i) %s[i] += A[i];", L->heads, rows_out);
        hn_emit_line(e, 1, "}");
        return;
    }
    hn_emit_line(e, 2, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 3, "for (int a = 0; a < (n ? n[b] : %d); ++a)", L->max);
    hn_emit_line(e, 4, "for (int c = 0; c < (n ? n[b] : %d); ++c)", L->max);
    hn_emit_line(e, 5, "for (int h = 0; h < %d; ++h)", L->heads);
    hn_emit_line(e, 6, "y[(size_t)b * %ld + ((size_t)h * %d + a) * %d + c] += A[(((size_t)b * %d + a) * %d + c) * %d + h];",
                 np2 * L->heads, L->max, L->max, L->max, L->max, L->heads);
    hn_emit_line(e, 1, "}");
}

/* Backward of emit_train_extra: dU at the real ordered pairs (zero at the padded ones) back through the layers;
 * the supplied features are data (no gradient). */
static void emit_backward_extra(hn_emit *e, const hn_node *n, const pe_layout *L)
{
    const hn_graph *g = e->g;
    long np2 = (long)L->max * L->max;
    hn_emit_line(e, 1, "{   /* fts_embed backward */");
    hn_emit_line(e, 2, "float *G = S + (size_t)batch * %ld, *H = S + (size_t)batch * %ld;", L->u_g1, L->u_g2);
    if (L->extra_tril)
        hn_emit_line(e, 2, "const float *F2 = S + (size_t)batch * %ld;   /* R, wt and G (the rows' gradient) as the 4-vector "
                           "rows' */", L->u_f0);
    else {
        hn_emit_line(e, 2, "const int R = batch * %ld;", np2);
        hn_emit_line(e, 2, "const float *wt = S + (size_t)batch * %ld;   /* ones */", L->u_ones);
        hn_emit_line(e, 2, "const float *F2 = x1;");
    }
    if (!L->extra_tril) {   /* dU at the real ordered pairs, zero at the padded ones */
        hn_emit_line(e, 2, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
        hn_emit_line(e, 3, "for (int a = 0; a < %d; ++a)", L->max);
        hn_emit_line(e, 4, "for (int c = 0; c < %d; ++c)", L->max);
        hn_emit_line(e, 5, "for (int h = 0; h < %d; ++h)", L->heads);
        hn_emit_line(e, 6, "G[(((size_t)b * %d + a) * %d + c) * %d + h] = a < (n ? n[b] : %d) && c < (n ? n[b] : %d) ? "
                     "dy[(size_t)b * %ld + ((size_t)h * %d + a) * %d + c] : 0.0f;", L->max, L->max, L->heads, L->max, L->max,
                     np2 * L->heads, L->max, L->max);
    }
    for (int k = L->layers - 1; k >= 0; --k) {
        int base = L->first2 + 4 + 6 * k, in = k ? L->width[k - 1] : L->c2, w = L->width[k];
        hn_emit_line(e, 2, "{   /* layer %d backward */", k);
        hn_emit_line(e, 3, "const float *Z = S + (size_t)batch * %ld, *N = S + (size_t)batch * %ld;", L->u_z[k], L->u_nrm[k]);
        hn_emit_line(e, 3, "const float *X = S + (size_t)batch * %ld;", k ? L->u_act[k - 1] : L->u_b0);
        hn_emit_line(e, 3, "hn_kt_gelu_backward_par(N, G, (size_t)R * %d, G);", w);
        emit_bn_backward(e, 3, n, base + 2, "Z", w, L->u_stats[k], "G");
        hn_emit_line(e, 3, "hn_kt_linear_backward_weighted_par(X, R, %d, P + %ld, %d, wt, G, H, dP + %ld, dP + %ld);", in,
                     g->params[n->param[base]].offset, w, g->params[n->param[base]].offset,
                     g->params[n->param[base + 1]].offset);
        hn_emit_line(e, 3, "float *swap = G; G = H; H = swap;");
        hn_emit_line(e, 2, "}");
    }
    emit_bn_backward(e, 2, n, L->first2, "F2", L->c2, L->u_stats0, "G");
    hn_emit_line(e, 1, "}");
}

static void emit_train(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    pe_layout L;
    hn_pe_layout_of(g, n, &L);
    char prev[96];
    emit_row_offsets(e, &L);
    hn_emit_line(e, 1, "float *F0 = S + (size_t)batch * %ld, *B0 = S + (size_t)batch * %ld;   /* [rows][%d] */", L.f0, L.b0,
                 L.nfeat);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_kt_pair_rows_weighted_slots(x0 + (size_t)b * %d, n ? n[b] : %d, %d, slots, %d, F0 + off[b] * %d, "
                 "(float *)wt + off[b]);", L.max * L.max * L.nfeat, L.max, L.max, L.nfeat, L.nfeat);
    if (L.extra_tril) {     /* the same pairs of the supplied features, the same (tril) weights again */
        hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)   /* the symmetric features' rows */");
        hn_emit_line(e, 2, "hn_kt_pair_rows_weighted_slots(x1 + (size_t)b * %d, n ? n[b] : %d, %d, slots, %d, S + (size_t)batch * "
                     "%ld + off[b] * %d, (float *)wt + off[b]);", L.max * L.max * L.c2, L.max, L.max, L.c2, L.u_f0, L.c2);
    }
    if (L.extra) {          /* weaver embeds every ordered pair when pair features are supplied */
        hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)   /* ordered multiplicities */");
        hn_emit_line(e, 2, "hn_kt_pair_weights_ordered(n ? n[b] : %d, slots, (float *)wt + off[b]);", L.max);
    }
    emit_bn_forward(e, 1, n, 0, "F0", L.nfeat, L.stats0, "B0");
    snprintf(prev, sizeof prev, "B0");
    for (int k = 0; k < L.layers; ++k) {
        int base = 4 + 6 * k, in = k ? L.width[k - 1] : L.nfeat, w = L.width[k];
        hn_emit_line(e, 1, "{   /* layer %d: conv %s, batchnorm, GELU */", k, g->params[n->param[base]].name);
        hn_emit_line(e, 2, "float *Z = S + (size_t)batch * %ld, *N = S + (size_t)batch * %ld, *A = S + (size_t)batch * %ld;",
                     L.z[k], L.nrm[k], L.act[k]);
        hn_emit_line(e, 2, "hn_kt_linear_par(%s, R, %d, P + %ld, P + %ld, %d, HN_ACT_NONE, Z);", prev, in,
                     g->params[n->param[base]].offset, g->params[n->param[base + 1]].offset, w);
        emit_bn_forward(e, 2, n, base + 2, "Z", w, L.stats[k], "N");
        hn_emit_line(e, 2, "hn_kt_gelu_par(N, (size_t)R * %d, A);", w);
        hn_emit_line(e, 1, "}");
        snprintf(prev, sizeof prev, "(S + (size_t)batch * %ld)", L.act[k]);
    }
    if (L.extra_tril) emit_train_extra(e, n, &L, prev);    /* summed into the rows before the scatter */
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)   /* mirrored into U [heads][max][max] */");
    hn_emit_line(e, 2, "hn_kt_pair_scatter_real(%s + off[b] * %d, n ? n[b] : %d, %d, %d, y + (size_t)b * %d);", prev, L.heads,
                 L.max, L.max, L.heads, L.max * L.max * L.heads);
    if (L.extra && !L.extra_tril) emit_train_extra(e, n, &L, NULL);
}

static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    pe_layout L;
    hn_pe_layout_of(g, n, &L);
    emit_row_offsets(e, &L);
    hn_emit_line(e, 1, "float *G = S + (size_t)batch * %ld, *H = S + (size_t)batch * %ld;   /* gradient rows, ping-pong */",
                 L.g1, L.g2);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_kt_pair_scatter_real_backward(dy + (size_t)b * %d, n ? n[b] : %d, %d, %d, off[b + 1] - off[b], "
                 "G + off[b] * %d);", L.max * L.max * L.heads, L.max, L.max, L.heads, L.heads);
    if (L.extra) {
        hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)   /* (a, c) and (c, a) share a row: their mean */");
        hn_emit_line(e, 2, "hn_kt_pair_rows_ordered_backward(n ? n[b] : %d, %d, G + off[b] * %d);", L.max, L.heads, L.heads);
    }
    if (L.extra_tril)       /* the symmetric features' rows get the same gradient (their outputs were summed) */
        hn_emit_line(e, 1, "memcpy(S + (size_t)batch * %ld, G, sizeof(float) * (size_t)R * %d);", L.u_g1, L.heads);
    for (int k = L.layers - 1; k >= 0; --k) {
        int base = 4 + 6 * k, in = k ? L.width[k - 1] : L.nfeat, w = L.width[k];
        hn_emit_line(e, 1, "{   /* layer %d backward */", k);
        hn_emit_line(e, 2, "const float *Z = S + (size_t)batch * %ld, *N = S + (size_t)batch * %ld;", L.z[k], L.nrm[k]);
        hn_emit_line(e, 2, "const float *X = S + (size_t)batch * %ld;", k ? L.act[k - 1] : L.b0);
        hn_emit_line(e, 2, "hn_kt_gelu_backward_par(N, G, (size_t)R * %d, G);", w);
        emit_bn_backward(e, 2, n, base + 2, "Z", w, L.stats[k], "G");
        hn_emit_line(e, 2, "hn_kt_linear_backward_weighted_par(X, R, %d, P + %ld, %d, wt, G, H, dP + %ld, dP + %ld);", in,
                     g->params[n->param[base]].offset, w, g->params[n->param[base]].offset,
                     g->params[n->param[base + 1]].offset);
        hn_emit_line(e, 2, "float *swap = G; G = H; H = swap;");
        hn_emit_line(e, 1, "}");
    }
    hn_emit_line(e, 1, "const float *F0 = S + (size_t)batch * %ld;", L.f0);
    emit_bn_backward(e, 1, n, 0, "F0", L.nfeat, L.stats0, "G");
    if (L.extra) emit_backward_extra(e, n, &L);
}

const hn_op_def hn_op_def_pair_embed = {
    "pair_embed", "ParT's interaction bias U per head from pair features: batchnorm, then 1x1 conv + batchnorm + GELU layers.",
    "<name>.embed.0.* (batchnorm [C]), <name>.embed.{3k+1}.weight [out, in] and .bias, <name>.embed.{3k+2}.* (batchnorm); "
    "with extra: the same under <name>.fts_embed",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    emit_train, emit_backward, train_state, 1, 0,
};
