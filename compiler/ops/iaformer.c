/* iaformer — composite: IAFormer (Esmail, Hammad, Nojiri, arXiv:2505.03258; code github.com/wesmail/IAFormer,
 * training/models/), the paper's differential-attention transformer for jet tagging, lowered to primitives named
 * after upstream's modules so that its state_dict loads as it is (docs/iaformer.md):
 *
 *   particle_embed.mlp      Linear → GELU (×3, widths embed_dims) → RMSNorm              [n, D]
 *   interaction_embed.embed per pair 1×1 Conv2d → GELU (widths pair_dims), shared by all blocks, and each
 *                           block's pmha.u_proj to 2·heads logit maps (one interaction_logits node)
 *   blocks.<i>              x + LN₂(out_proj(DiffAttn(v_proj(LN₁(x)), maps))) = h;
 *                           h + mlp(h), mlp = LN → Linear(D → ratio·D) → GELU → LN → Linear(→ D)
 *   mlp_head                the mean of each particle's features, flattened over the max particles,
 *                           Linear(max → num_classes): the readout weights particle positions
 *
 * Upstream reads every slot: padded particles are tokens with zero features and zero pair features, and the
 * softmaxes run over all max keys. So the set input must be declared without a mask (padding rows zero).
 * The composite's own tensor is the logits [num_classes]. */
#include <string.h>

#include "../lower.h"
#include "../ops.h"

#define NAME_LEN (HN_NAME + 64)

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "the particles: a set input without a mask, upstream's 11 features" },
    { "pairs", HN_ATTR_TENSOR, 1, NULL, NULL, "the pair features [n, n, C] (an iaformer_pair_features layer)" },
    { "embed_dims", HN_ATTR_INTS, 0, "[256, 128, 32]", NULL, "widths of the particle embedding (the last is the model width D)" },
    { "pair_dims", HN_ATTR_INTS, 0, "[256, 128, 64]", NULL, "widths of the interaction embedding" },
    { "num_heads", HN_ATTR_INT, 0, "16", NULL, "attention heads per block (two logit maps each)" },
    { "num_blocks", HN_ATTR_INT, 0, "4", NULL, "attention blocks" },
    { "attn", HN_ATTR_ENUM, 0, "diff", "diff", "attention kind: diff (the paper's differential attention)" },
    { "expansion_factor", HN_ATTR_INT, 0, "4", NULL, "the feed-forward width over D" },
    { "num_classes", HN_ATTR_INT, 0, "1", NULL, "logits of the head (1: binary, trained with BCE upstream)" },
};

static int node(hn_graph *g, const hn_node *c, int op, const char *name, int x, const char *key, long v)
{
    return hn_lower_node(g, op, name, c, &x, 1, key, v, NULL, 0);
}

/* Linear → GELU per width, then RMSNorm: upstream's ParticleEmbedding, Sequential indices 0, 1, 2, … */
static int particle_embed(hn_graph *g, const hn_node *c, int x)
{
    const hn_attr_val *dims = hn_attr(c, "embed_dims");
    char name[NAME_LEN];
    for (int k = 0; k < dims->nints; ++k) {
        snprintf(name, sizeof name, "particle_embed.mlp.%d", 2 * k);
        if ((x = node(g, c, HN_OP_linear, name, x, "out", dims->ints[k])) < 0) return -1;
        snprintf(name, sizeof name, "particle_embed.mlp.%d", 2 * k + 1);
        if ((x = node(g, c, HN_OP_gelu, name, x, NULL, 0)) < 0) return -1;
    }
    snprintf(name, sizeof name, "particle_embed.mlp.%d", 2 * dims->nints);
    return node(g, c, HN_OP_rmsnorm, name, x, NULL, 0);
}

/* The shared pair embedding and every block's logit maps, the projections renamed to blocks.<i>.pmha.u_proj. */
static int interaction(hn_graph *g, const hn_node *c, int pairs, int blocks, int heads)
{
    int n = hn_new_node(g, HN_OP_interaction_logits, "interaction_embed", c, &pairs, 1);
    hn_attr_val *dims = (hn_attr_val *)hn_attr(&g->nodes[n], "dims"), *outs = (hn_attr_val *)hn_attr(&g->nodes[n], "outputs");
    *dims = *hn_attr(c, "pair_dims");
    outs->set = 1;
    outs->nints = blocks;
    for (int i = 0; i < blocks; ++i) outs->ints[i] = 2 * heads;
    int t = hn_finish_node(g, n, "interaction_embed");
    if (t < 0) return -1;
    const hn_node *in = &g->nodes[n];
    int first = 2 * dims->nints;
    for (int i = 0; i < blocks; ++i) {
        char name[NAME_LEN];
        snprintf(name, sizeof name, "blocks.%d.pmha.u_proj.weight", i);
        hn_param_rename(g, in->param[first + 2 * i], name);
        snprintf(name, sizeof name, "blocks.%d.pmha.u_proj.bias", i);
        hn_param_rename(g, in->param[first + 2 * i + 1], name);
    }
    return t;
}

/* One ParticleAttentionBlock with differential attention. */
static int block(hn_graph *g, const hn_node *c, int i, int x, int maps, int blocks, int heads, int ratio)
{
    char name[NAME_LEN], p[64];
    int D = hn_last_dim(&g->tensors[x].shape), a, h;
    snprintf(p, sizeof p, "blocks.%d", i);
    snprintf(name, sizeof name, "%s.norm1", p);
    if ((a = node(g, c, HN_OP_layernorm, name, x, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.pmha.v_proj", p);
    if ((a = hn_lower_node(g, HN_OP_linear, name, c, &a, 1, "out", D, "bias", 0)) < 0) return -1;
    int in[3] = { a, maps, c->in[0] };   /* the particles: their 4-vectors show the padding */
    snprintf(name, sizeof name, "%s.pmha", p);
    int d = hn_new_node(g, HN_OP_differential_attention, name, c, in, 3);
    hn_node_set_int(&g->nodes[d], "heads", heads);
    hn_node_set_int(&g->nodes[d], "layer", i);
    hn_node_set_int(&g->nodes[d], "depth", blocks);
    if ((a = hn_finish_node(g, d, name)) < 0) return -1;
    snprintf(name, sizeof name, "%s.pmha.out_proj", p);
    if ((a = hn_lower_node(g, HN_OP_linear, name, c, &a, 1, "out", D, "bias", 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.norm2", p);
    if ((a = node(g, c, HN_OP_layernorm, name, a, NULL, 0)) < 0) return -1;
    int sum[2] = { a, x };
    snprintf(name, sizeof name, "%s.attention_residual", p);
    if ((h = hn_lower_node(g, HN_OP_add, name, c, sum, 2, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.mlp.0", p);
    if ((a = node(g, c, HN_OP_layernorm, name, h, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.mlp.1", p);
    if ((a = node(g, c, HN_OP_linear, name, a, "out", (long)ratio * D)) < 0) return -1;
    snprintf(name, sizeof name, "%s.mlp.2", p);
    if ((a = node(g, c, HN_OP_gelu, name, a, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.mlp.3", p);
    if ((a = node(g, c, HN_OP_layernorm, name, a, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.mlp.4", p);
    if ((a = node(g, c, HN_OP_linear, name, a, "out", D)) < 0) return -1;
    int out[2] = { a, h };
    return hn_lower_node(g, HN_OP_add, p, c, out, 2, NULL, 0, NULL, 0);
}

static int lower(hn_graph *g, int n)
{
    hn_node c = g->nodes[n];
    const hn_tensor *in = &g->tensors[c.in[0]];
    if (in->shape.nset != 1 || in->shape.rank != 2 || g->tensors[g->inputs[in->shape.set]].masked)
        return hn_error(hn_attr(&c, "in")->loc,
                        "iaformer reads every slot of its particles (upstream's padded particles are zero tokens that the "
                        "attention sees), so '%s' must be a set input declared without a mask", in->name);
    int heads = (int)hn_attr_int(&c, "num_heads"), blocks = (int)hn_attr_int(&c, "num_blocks");
    const hn_attr_val *emb = hn_attr(&c, "embed_dims");
    int D = emb->ints[emb->nints - 1];
    if (D % (2 * heads))
        return hn_error(hn_attr(&c, "num_heads")->loc, "the width %d (the last of embed_dims) must be a multiple of 2·%d heads", D,
                        heads);
    int most = (HN_MAX_PARAMS - 2 * hn_attr(&c, "pair_dims")->nints) / 2;
    if (most > HN_MAX_LIST) most = HN_MAX_LIST;
    if (blocks > most) return hn_error(hn_attr(&c, "num_blocks")->loc, "at most %d blocks", most);
    int x = particle_embed(g, &c, c.in[0]), maps = interaction(g, &c, c.in[1], blocks, heads);
    if (x < 0 || maps < 0) return -1;
    for (int i = 0; i < blocks; ++i)
        if ((x = block(g, &c, i, x, maps, blocks, heads, (int)hn_attr_int(&c, "expansion_factor"))) < 0) return -1;
    if ((x = node(g, &c, HN_OP_feature_mean, "particle_means", x, NULL, 0)) < 0) return -1;
    if ((x = node(g, &c, HN_OP_flatten, "particle_means.flat", x, NULL, 0)) < 0) return -1;
    int head = hn_new_node(g, HN_OP_linear, "mlp_head", &c, &x, 1);
    hn_node_set_int(&g->nodes[head], "out", hn_attr_int(&c, "num_classes"));
    return hn_finish_node(g, head, c.name);
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_iaformer = {
    "iaformer",
    "IAFormer: particle embedding, pairwise interaction embedding, differential-attention blocks whose weights come "
    "from the pairs alone, and a head over the particles' feature means (upstream's Transformer, attn: diff).",
    "upstream IAFormer's state_dict names (particle_embed.*, interaction_embed.*, blocks.<i>.*, mlp_head.*)",
    attrs, sizeof attrs / sizeof *attrs, NULL, lower, NULL, macs,
    NULL, NULL, NULL, 0, 0,
};
