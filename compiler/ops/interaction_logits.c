/* interaction_logits — IAFormer's interaction embedding and, from it, every attention layer's logits
 * (templates/c/interaction.h): per pair, a stack of 1×1 convolutions (linear maps per pair) each followed by
 * GELU (upstream's InteractionInputEncoding), then one 1×1 convolution per attention layer to that layer's
 * logit maps (its u_proj). The shared embedding is never stored; the output holds the logits of all layers,
 * [n, n, Σ outputs], stored channel-major ([Σ outputs][max][max]: each map one contiguous matrix), symmetric,
 * each unordered pair computed once and pairs of all-zero features (diagonal, padding) once per event.
 * Weights: <name>.embed.{2k}.weight [dims[k], in] and .bias (upstream's nn.Sequential indices) and
 * <name>.proj.<l>.weight [outputs[l], dims[last]] and .bias (the iaformer composite renames them to each
 * block's pmha.u_proj). */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "the pair features [n, n, C] (an iaformer_pair_features layer)" },
    { "dims", HN_ATTR_INTS, 1, NULL, NULL, "widths of the per-pair embedding layers (GELU after each)" },
    { "outputs", HN_ATTR_INTS, 1, NULL, NULL, "logit maps of each attention layer (2·heads for differential attention)" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_tensor *t = &g->tensors[n->in[0]];
    if (t->shape.nset != 2 || t->shape.rank != 3)
        return hn_error(hn_attr(n, "in")->loc, "interaction_logits reads pair features [n, n, C]; '%s' is not one", t->name);
    const hn_attr_val *dims = hn_attr(n, "dims"), *outs = hn_attr(n, "outputs");
    char name[64];
    int in = t->shape.dim[2], total = 0;
    for (int k = 0; k < dims->nints; ++k) {
        snprintf(name, sizeof name, "embed.%d.weight", 2 * k);
        hn_node_param(g, n, name, 2, dims->ints[k], in);
        snprintf(name, sizeof name, "embed.%d.bias", 2 * k);
        hn_node_param(g, n, name, 1, dims->ints[k], 0);
        in = dims->ints[k];
    }
    for (int l = 0; l < outs->nints; ++l) {
        snprintf(name, sizeof name, "proj.%d.weight", l);
        hn_node_param(g, n, name, 2, outs->ints[l], in);
        snprintf(name, sizeof name, "proj.%d.bias", l);
        hn_node_param(g, n, name, 1, outs->ints[l], 0);
        total += outs->ints[l];
    }
    hn_shape s = { .rank = 3, .dim = { t->shape.dim[0], t->shape.dim[1], total }, .nset = 2, .set = t->shape.set };
    *out = s;
    return 0;
}

/* "P + off, P + off, …" of every second parameter from `first` (weights or biases), count of them. */
static void offsets(const hn_graph *g, const hn_node *n, int first, int count, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int k = 0; k < count; ++k) {
        char item[48];
        snprintf(item, sizeof item, "%sP + %ld", k ? ", " : "", g->params[n->param[first + 2 * k]].offset);
        strncat(buf, item, cap - strlen(buf) - 1);
    }
}

/* Declares the embedding `emb` (hn_k_pair_mlp) and the projections proj_out, proj_W, proj_B for the kernels. */
static void emit_weights(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_attr_val *dims = hn_attr(n, "dims"), *outs = hn_attr(n, "outputs");
    int nfeat = g->tensors[n->in[0]].shape.dim[2], layers = dims->nints, nproj = outs->nints;
    char list[512], wl[2048], bl[2048];
    snprintf(list, sizeof list, "%d", nfeat);
    for (int k = 0; k < layers; ++k) {
        char item[16];
        snprintf(item, sizeof item, ", %d", dims->ints[k]);
        strcat(list, item);
    }
    hn_emit_line(e, 1, "/* the shared per-pair embedding (GELU after every layer), no input normalisation */");
    hn_emit_line(e, 1, "static const int emb_dims[%d] = { %s };", layers + 1, list);
    offsets(g, n, 0, layers, wl, sizeof wl);
    offsets(g, n, 1, layers, bl, sizeof bl);
    hn_emit_line(e, 1, "const float *const emb_W[%d] = { %s };", layers, wl);
    hn_emit_line(e, 1, "const float *const emb_B[%d] = { %s };", layers, bl);
    hn_emit_line(e, 1, "const hn_k_pair_mlp emb = { %d, NULL, NULL, NULL, NULL, %d, emb_dims, emb_W, emb_B };", nfeat, layers);
    list[0] = '\0';
    for (int l = 0; l < nproj; ++l) {
        char item[16];
        snprintf(item, sizeof item, "%s%d", l ? ", " : "", outs->ints[l]);
        strcat(list, item);
    }
    hn_emit_line(e, 1, "/* each attention layer's logit maps */");
    hn_emit_line(e, 1, "static const int proj_out[%d] = { %s };", nproj, list);
    offsets(g, n, 2 * layers, nproj, wl, sizeof wl);
    offsets(g, n, 2 * layers + 1, nproj, bl, sizeof bl);
    hn_emit_line(e, 1, "const float *const proj_W[%d] = { %s };", nproj, wl);
    hn_emit_line(e, 1, "const float *const proj_B[%d] = { %s };", nproj, bl);
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = &g->tensors[n->out].shape;
    emit_weights(e, n);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_k_interaction_logits(x0 + (size_t)b * %ld, %s, %d, &emb, %d, proj_out, proj_W, proj_B, y + (size_t)b * %ld);",
                 hn_shape_elems(&g->tensors[n->in[0]].shape), hn_emit_rows(e, &g->tensors[n->out]), s->dim[0],
                 hn_attr(n, "outputs")->nints, hn_shape_elems(s));
}

/* Backward: the parameters' gradients only (the pair features come from the 4-vectors), the forward recomputed
 * tile by tile (templates/c/backward_interaction.h). The events run one after the other, so every gradient sums
 * in event order with no per-thread copies of the ~90k weights; each event's work is one call. */
static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_shape *s = &g->tensors[n->out].shape;
    int layers = hn_attr(n, "dims")->nints, nproj = hn_attr(n, "outputs")->nints;
    emit_weights(e, n);
    char dw[2048] = "", db[2048] = "", dwp[2048] = "", dbp[2048] = "";
    for (int k = 0; k < layers + nproj; ++k) {
        char item[48];
        snprintf(item, sizeof item, "%sdP + %ld", k == 0 || k == layers ? "" : ", ", g->params[n->param[2 * k]].offset);
        strncat(k < layers ? dw : dwp, item, sizeof dw - strlen(k < layers ? dw : dwp) - 1);
        snprintf(item, sizeof item, "%sdP + %ld", k == 0 || k == layers ? "" : ", ", g->params[n->param[2 * k + 1]].offset);
        strncat(k < layers ? db : dbp, item, sizeof db - strlen(k < layers ? db : dbp) - 1);
    }
    hn_emit_line(e, 1, "float *const emb_dW[%d] = { %s }, *const emb_dB[%d] = { %s };", layers, dw, layers, db);
    hn_emit_line(e, 1, "float *const proj_dW[%d] = { %s }, *const proj_dB[%d] = { %s };", nproj, dwp, nproj, dbp);
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b)   /* events in order: the sums do not depend on the threads */");
    hn_emit_line(e, 2, "hn_kb_interaction_logits(x0 + (size_t)b * %ld, %s, %d, &emb, %d, proj_out, proj_W, proj_B, dy + (size_t)b * %ld, "
                 "emb_dW, emb_dB, proj_dW, proj_dB);", hn_shape_elems(&g->tensors[n->in[0]].shape), hn_emit_rows(e, &g->tensors[n->out]),
                 s->dim[0], nproj, hn_shape_elems(s));
}

static long macs(const hn_graph *g, const hn_node *n)
{
    long max = g->tensors[n->out].shape.dim[0], pairs = max * (max + 1) / 2, per_pair = 0;
    for (int k = 0; k < n->nparam; ++k)
        if (g->params[n->param[k]].rank == 2) per_pair += g->params[n->param[k]].size;
    return pairs * per_pair;
}

const hn_op_def hn_op_def_interaction_logits = {
    "interaction_logits",
    "IAFormer's interaction embedding of the pair features (1×1 convolutions, GELU after each) and every attention "
    "layer's logit maps from it (its 1×1 u_proj).",
    "<name>.embed.{2k}.weight [dims[k], in], .bias; <name>.proj.<l>.weight [outputs[l], dims[last]], .bias",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, emit_backward, NULL, 0, 1,   /* input 0 (pair features from the 4-vectors): no gradient */
};
