/* particle_attention — composite: ParT's particle blocks (weaver-core 0.4 Block, pre-LN with the
 * NormFormer extras), `layers` times over each event's real particles:
 *   x1 = x + LN_post(headscale(out_proj(MHA(LN_pre(x), bias U))))
 *   y  = fc2(LN(GELU(fc1(LN(x1))))) + w_resid ⊙ x1
 * Nodes and weights are named as weaver's: <name>.<l>.pre_attn_norm, .attn.in_proj (weaver's
 * in_proj_weight/in_proj_bias), .attn.out_proj, .c_attn, .post_attn_norm, .pre_fc_norm, .fc1,
 * .post_fc_norm, .fc2, .w_resid. */
#include "../diag.h"
#include "../lower.h"
#include "../ops.h"
#include "transformer_block.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "per-particle embeddings [n, D]" },
    { "bias", HN_ATTR_TENSOR, 0, NULL, NULL, "interaction bias [n, n, heads] added to every block's attention" },
    { "layers", HN_ATTR_INT, 1, NULL, NULL, "number of blocks (1 to 256)" },
    { "heads", HN_ATTR_INT, 1, NULL, NULL, "attention heads" },
    { "ffn", HN_ATTR_INT, 1, NULL, NULL, "hidden width of the feed-forward network" },
    { "dropout", HN_ATTR_FLOAT, 0, "0", NULL,
      "training only: dropout after the attention output and after fc2 (weaver's Block dropout, 0.1 there)" },
    { "activation_dropout", HN_ATTR_FLOAT, 0, "0", NULL,
      "training only: dropout after fc1's GELU (weaver's activation_dropout, 0.1 there)" },
    { "attn_dropout", HN_ATTR_FLOAT, 0, "0", NULL,
      "training only: dropout on the attention probabilities (weaver's attn_dropout, 0.1 there)" },
};

static int lower(hn_graph *g, int node)
{
    hn_node c = g->nodes[node];
    if (hn_block_count_check(&c)) return -1;
    double attn_dropout = hn_attr_float(&c, "attn_dropout");
    if (!(attn_dropout >= 0.0 && attn_dropout < 1.0))
        return hn_error(hn_attr(&c, "attn_dropout")->loc, "attn_dropout must be in [0, 1), got %g", attn_dropout);
    int heads = (int)hn_attr_int(&c, "heads"), x = c.in[0], D = hn_last_dim(&g->tensors[x].shape);
    int has_bias = c.nin > 1;
    for (int l = 0; l < hn_attr_int(&c, "layers"); ++l) {
        char prefix[HN_NAME], name[HN_NAME + 32], out[HN_NAME];
        snprintf(prefix, sizeof prefix, "%s.%d", c.name, l);
        snprintf(name, sizeof name, "%s.pre_attn_norm", prefix);
        int h = hn_lower_node(g, HN_OP_layernorm, name, &c, &x, 1, NULL, 0, NULL, 0);
        snprintf(name, sizeof name, "%s.attn.in_proj", prefix);
        if (h < 0 || (h = hn_lower_node(g, HN_OP_linear, name, &c, &h, 1, "out", 3 * D, NULL, 0)) < 0) return -1;
        int in[2] = { h, has_bias ? c.in[1] : -1 };
        snprintf(name, sizeof name, "%s.attn.core", prefix);
        int core = hn_new_node(g, HN_OP_attention, name, &c, in, has_bias ? 2 : 1);
        hn_node_set_int(&g->nodes[core], "heads", heads);
        if (attn_dropout > 0.0) hn_node_set_float(&g->nodes[core], "dropout", attn_dropout);
        if ((h = hn_finish_node(g, core, name)) < 0) return -1;
        if ((h = hn_block_attention_output(g, &c, prefix, h, x, heads)) < 0) return -1;
        if (l + 1 == hn_attr_int(&c, "layers")) snprintf(out, sizeof out, "%s", c.name);
        else snprintf(out, sizeof out, "%s", prefix);
        if ((x = hn_block_feed_forward(g, &c, prefix, h, (int)hn_attr_int(&c, "ffn"), out)) < 0) return -1;
    }
    return x;
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_particle_attention = {
    "particle_attention", "ParT particle blocks: pre-LN multi-head attention with the bias U, head scale, FFN; × layers.",
    "<name>.<l>.{pre_attn_norm, attn.in_proj, attn.out_proj, c_attn, post_attn_norm, pre_fc_norm, fc1, post_fc_norm, "
    "fc2, w_resid}",
    attrs, sizeof attrs / sizeof *attrs, NULL, lower, NULL, macs,
    NULL, NULL, NULL, 0, 0,
};
