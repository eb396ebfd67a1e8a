/* edge_conv — ParticleNet's EdgeConv block (weaver-core 0.4 EdgeConvBlock) over each event's real
 * particles: k nearest neighbours in the `points` coordinates (templates/c/edgeconv.h reproduces
 * weaver's distance, its topk order and its zero-feature padding neighbours for jets with n ≤ k), edge
 * features [x_i, x_j − x_i] through 1×1 convolutions with batchnorm and ReLU, the mean over the
 * neighbours, and a batchnormed shortcut. Weights as weaver's modules: <name>.convs.{i}.weight
 * [out, in] (Conv2d [out, in, 1, 1] squeezed by the importer), <name>.bns.{i}.*, <name>.sc.weight
 * [out, C] and <name>.sc_bn.* (when C differs from the last width); every batchnorm is folded into
 * its convolution at load time. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "per-particle features [n, C]" },
    { "points", HN_ATTR_TENSOR, 1, NULL, NULL, "per-particle coordinates of the kNN graph [n, P] (same set)" },
    { "k", HN_ATTR_INT, 1, NULL, NULL, "neighbours per particle" },
    { "dims", HN_ATTR_INTS, 1, NULL, NULL, "widths of the edge convolutions" },
};

static int bn_folded_conv(hn_graph *g, hn_node *n, const char *conv, const char *bn, int out, int in)
{
    char name[HN_NAME];
    snprintf(name, sizeof name, "%s.weight", conv);
    int w = hn_node_param(g, n, name, 2, out, in);
    static const char *const parts[4] = { "weight", "bias", "running_mean", "running_var" };
    int p[4];
    for (int i = 0; i < 4; ++i) {
        snprintf(name, sizeof name, "%s.%s", bn, parts[i]);
        p[i] = hn_node_param(g, n, name, 1, out, 0);
    }
    char bias[HN_NAME * 2];
    snprintf(bias, sizeof bias, "%s.%s.bias.folded", n->param_prefix[0] ? n->param_prefix : n->name, conv);
    int64_t dim[1] = { out };
    int b = hn_graph_add_param(g, bias, 1, dim, 0);
    n->param[n->nparam++] = b;
    hn_fold f = { .kind = HN_FOLD_BATCHNORM, .before = 0, .bn_gamma = p[0], .bn_beta = p[1], .bn_mean = p[2],
                  .bn_var = p[3], .eps = 1e-5f, .w = w, .b = -1, .out_w = w, .out_b = b };
    hn_graph_add_fold(g, &f);
    return 0;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *x = hn_in_shape(g, n, 0), *p = hn_in_shape(g, n, 1);
    if (x->nset != 1 || x->rank != 2 || p->nset != 1 || p->rank != 2 || p->set != x->set)
        return hn_error(n->loc, "edge_conv needs per-particle features and points [n, ·] over the same set");
    const hn_attr_val *dims = hn_attr(n, "dims");
    int C = x->dim[1], in = 2 * C;
    for (int i = 0; i < dims->nints; ++i) {
        char conv[32], bn[32];
        snprintf(conv, sizeof conv, "convs.%d", i);
        snprintf(bn, sizeof bn, "bns.%d", i);
        bn_folded_conv(g, n, conv, bn, dims->ints[i], in);
        in = dims->ints[i];
    }
    /* after its batchnorm fold, the first conv is split for the per-point form (templates/c/edgeconv.h) */
    hn_fold split = { .kind = HN_FOLD_EDGE_SPLIT, .w = n->param[0], .b = -1, .out_w = n->param[0], .out_b = -1 };
    hn_graph_add_fold(g, &split);
    if (C != in) bn_folded_conv(g, n, "sc", "sc_bn", in, C);
    *out = *x;
    out->dim[1] = in;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_attr_val *dims = hn_attr(n, "dims");
    const hn_shape *x = hn_in_shape(g, n, 0), *p = hn_in_shape(g, n, 1);
    int L = dims->nints, max = x->dim[0], C = x->dim[1], Pd = p->dim[1], cout = dims->ints[L - 1];
    char list[128] = "", wl[512] = "", bl[512] = "";
    for (int i = 0; i < L; ++i) {
        char item[48];
        snprintf(item, sizeof item, "%s%d", i ? ", " : "", dims->ints[i]);
        strcat(list, item);
        snprintf(item, sizeof item, "%sP + %ld", i ? ", " : "", g->params[n->param[6 * i]].offset);
        strcat(wl, item);
        snprintf(item, sizeof item, "%sP + %ld", i ? ", " : "", g->params[n->param[6 * i + 5]].offset);
        strcat(bl, item);
    }
    hn_emit_line(e, 1, "static const int dims[%d] = { %s };", L, list);
    hn_emit_line(e, 1, "const float *const W[%d] = { %s };   /* convolutions, batchnorms folded in */", L, wl);
    hn_emit_line(e, 1, "const float *const B[%d] = { %s };", L, bl);
    if (n->nparam > 6 * L) {
        hn_emit_param_decl(e, "Wsc", n->param[6 * L]);
        hn_emit_param_decl(e, "bsc", n->param[6 * L + 5]);
    } else {
        hn_emit_line(e, 1, "const float *Wsc = NULL, *bsc = NULL;   /* identity shortcut */");
    }
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_k_edgeconv(x0 + (size_t)b * %d, x1 + (size_t)b * %d, %s, %d, %d, %d, %d, dims, W, B, Wsc, bsc, "
                 "y + (size_t)b * %d);", max * C, max * Pd, hn_emit_rows(e, &g->tensors[n->out]), C, Pd,
                 (int)hn_attr_int(n, "k"), L, max * cout);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    const hn_shape *x = hn_in_shape(g, n, 0), *p = hn_in_shape(g, n, 1);
    const hn_attr_val *dims = hn_attr(n, "dims");
    long k = hn_attr_int(n, "k"), per_edge = 0, in = 2L * x->dim[1];
    for (int i = 0; i < dims->nints; ++i) { per_edge += in * dims->ints[i]; in = dims->ints[i]; }
    return x->dim[0] * k * per_edge + (long)x->dim[0] * x->dim[1] * in + (long)x->dim[0] * x->dim[0] * p->dim[1];
}

const hn_op_def hn_op_def_edge_conv = {
    "edge_conv", "ParticleNet EdgeConv: kNN in `points`, edge MLP on [x_i, x_j − x_i], mean over neighbours, shortcut.",
    "<name>.convs.{i}.weight [out, in], <name>.bns.{i}.*, <name>.sc.weight [out, C], <name>.sc_bn.*",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 1u << 1,
};
