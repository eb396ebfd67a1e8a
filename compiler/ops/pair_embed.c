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

int hn_pair_feature_selection(const hn_node *n, int *sel);

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "the pair features (a pair_features layer)" },
    { "dims", HN_ATTR_INTS, 1, NULL, NULL, "widths of the hidden per-pair layers" },
    { "heads", HN_ATTR_INT, 1, NULL, NULL, "attention heads: one bias per head" },
};

static int declare_layer(hn_graph *g, hn_node *n, int k, int in, int out)
{
    char name[HN_NAME];
    snprintf(name, sizeof name, "embed.%d.weight", 3 * k + 1);
    int w = hn_node_param(g, n, name, 2, out, in);
    snprintf(name, sizeof name, "embed.%d.bias", 3 * k + 1);
    int b = hn_node_param(g, n, name, 1, out, 0);
    static const char *const bn[4] = { "weight", "bias", "running_mean", "running_var" };
    int bnp[4];
    for (int i = 0; i < 4; ++i) {
        snprintf(name, sizeof name, "embed.%d.%s", 3 * k + 2, bn[i]);
        bnp[i] = hn_node_param(g, n, name, 1, out, 0);
    }
    hn_fold f = { .kind = HN_FOLD_BATCHNORM, .before = 0, .bn_gamma = bnp[0], .bn_beta = bnp[1], .bn_mean = bnp[2],
                  .bn_var = bnp[3], .eps = 1e-5f, .w = w, .b = b, .out_w = w, .out_b = b };
    hn_graph_add_fold(g, &f);
    return 0;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    if (t->shape.nset != 2 || t->shape.rank != 3)
        return hn_error(hn_attr(n, "in")->loc, "pair_embed reads pair features [n, n, C]; '%s' is not one", t->name);
    const hn_attr_val *dims = hn_attr(n, "dims");
    int c = t->shape.dim[2], heads = (int)hn_attr_int(n, "heads");
    static const char *const bn[4] = { "embed.0.weight", "embed.0.bias", "embed.0.running_mean", "embed.0.running_var" };
    for (int i = 0; i < 4; ++i) hn_node_param(g, n, bn[i], 1, c, 0);
    int in = c;
    for (int k = 0; k <= dims->nints; ++k) {
        int width = k < dims->nints ? dims->ints[k] : heads;
        declare_layer(g, n, k, in, width);
        in = width;
    }
    hn_shape s = { .rank = 3, .dim = { t->shape.dim[0], t->shape.dim[1], heads }, .nset = 2, .set = t->shape.set };
    *out = s;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_attr_val *dims = hn_attr(n, "dims");
    int layers = dims->nints + 1, heads = (int)hn_attr_int(n, "heads");
    int max = g->tensors[n->out].shape.dim[0], fused = n->fused_from >= 0;
    int sel[8] = { 0 }, nfeat;
    if (fused) nfeat = hn_pair_feature_selection(&g->nodes[n->fused_from], sel);
    else nfeat = g->tensors[n->in[0]].shape.dim[2];
    char list[256] = "", wl[512] = "", bl[512] = "";
    for (int k = 0; k <= layers; ++k) {
        char item[32];
        snprintf(item, sizeof item, "%s%d", k ? ", " : "", k == 0 ? nfeat : k < layers ? dims->ints[k - 1] : heads);
        strcat(list, item);
    }
    for (int k = 0; k < layers; ++k) {
        char item[48];
        snprintf(item, sizeof item, "%sP + %ld", k ? ", " : "", g->params[n->param[4 + 6 * k]].offset);
        strcat(wl, item);
        snprintf(item, sizeof item, "%sP + %ld", k ? ", " : "", g->params[n->param[5 + 6 * k]].offset);
        strcat(bl, item);
    }
    char sl[64] = "0";
    for (int k = 0; fused && k < nfeat; ++k) {
        char item[8];
        snprintf(item, sizeof item, "%s%d", k ? ", " : "", sel[k]);
        if (!k) sl[0] = '\0';
        strcat(sl, item);
    }
    hn_emit_param_decl(e, "bn_gamma", n->param[0]);
    hn_emit_param_decl(e, "bn_beta", n->param[1]);
    hn_emit_param_decl(e, "bn_mean", n->param[2]);
    hn_emit_param_decl(e, "bn_var", n->param[3]);
    hn_emit_line(e, 1, "static const int dims[%d] = { %s };", layers + 1, list);
    hn_emit_line(e, 1, "static const int sel[] = { %s };   /* pair feature order */", sl);
    hn_emit_line(e, 1, "const float *const W[%d] = { %s };   /* convolutions, batchnorms folded in */", layers, wl);
    hn_emit_line(e, 1, "const float *const B[%d] = { %s };", layers, bl);
    hn_emit_line(e, 1, "(void)sel;");
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    if (fused)
        hn_emit_line(e, 2, "hn_k_pair_embed(x0 + (size_t)b * %d * 4, NULL, n[b], %d, %d, sel, bn_mean, bn_var, bn_gamma, "
                     "bn_beta, %d, dims, W, B, y + (size_t)b * %d * %d * %d);", max, max, nfeat, layers, max, max, heads);
    else
        hn_emit_line(e, 2, "hn_k_pair_embed(NULL, x0 + (size_t)b * %d * %d * %d, n[b], %d, %d, sel, bn_mean, bn_var, "
                     "bn_gamma, bn_beta, %d, dims, W, B, y + (size_t)b * %d * %d * %d);", max, max, nfeat, max, nfeat,
                     layers, max, max, heads);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    long max = g->tensors[n->out].shape.dim[0], pairs = max * (max + 1) / 2, per_pair = 0;
    for (int k = 0; k < n->nparam; ++k)
        if (g->params[n->param[k]].rank == 2) per_pair += g->params[n->param[k]].size;
    return pairs * per_pair;
}

const hn_op_def hn_op_def_pair_embed = {
    "pair_embed", "ParT's interaction bias U per head from pair features: batchnorm, then 1x1 conv + batchnorm + GELU layers.",
    "<name>.embed.0.* (batchnorm [C]), <name>.embed.{3k+1}.weight [out, in] and .bias, <name>.embed.{3k+2}.* (batchnorm)",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
};
