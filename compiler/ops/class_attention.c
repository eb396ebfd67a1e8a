/* class_attention — composite: ParT's class blocks (CaiT). A learnt class token (<name>.cls_token)
 * attends, `layers` times, to LN([token; particles]) with the raw token as query; then the same output
 * and feed-forward path as a particle block. The particles are not updated. Output: the token [D]. */
#include "../lower.h"
#include "../ops.h"
#include "transformer_block.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "per-particle features [n, D] (the particle blocks' output)" },
    { "layers", HN_ATTR_INT, 1, NULL, NULL, "number of class blocks (1 to 256)" },
    { "heads", HN_ATTR_INT, 1, NULL, NULL, "attention heads" },
    { "ffn", HN_ATTR_INT, 1, NULL, NULL, "hidden width of the feed-forward network" },
    { "dropout", HN_ATTR_FLOAT, 0, "0", NULL,
      "training only: dropout after the attention output and after fc2 (weaver's Block dropout, 0.1 there)" },
    { "activation_dropout", HN_ATTR_FLOAT, 0, "0", NULL,
      "training only: dropout after fc1's GELU (weaver's activation_dropout, 0.1 there)" },
};

static int lower(hn_graph *g, int node)
{
    hn_node c = g->nodes[node];
    if (hn_block_count_check(&c)) return -1;
    int heads = (int)hn_attr_int(&c, "heads"), X = c.in[0], D = hn_last_dim(&g->tensors[X].shape);
    char name[HN_NAME + 32], prefix[HN_NAME], out[HN_NAME];
    snprintf(name, sizeof name, "%s.cls_token", c.name);
    int tok_node = hn_new_node(g, HN_OP_class_token, name, &c, NULL, 0);
    hn_node_set_int(&g->nodes[tok_node], "dim", D);
    int t = hn_finish_node(g, tok_node, name);
    if (t < 0) return -1;
    hn_param_rename(g, g->nodes[tok_node].param[0], name);
    for (int l = 0; l < hn_attr_int(&c, "layers"); ++l) {
        snprintf(prefix, sizeof prefix, "%s.%d", c.name, l);
        snprintf(name, sizeof name, "%s.attn.core", prefix);
        int in[2] = { t, X };
        int core = hn_new_node(g, HN_OP_cls_attention, name, &c, in, 2);
        hn_node_set_int(&g->nodes[core], "heads", heads);
        snprintf(g->nodes[core].param_prefix, HN_NAME, "%s", prefix);
        int h = hn_finish_node(g, core, name);
        if (h < 0 || (h = hn_block_attention_output(g, &c, prefix, h, t, heads)) < 0) return -1;
        if (l + 1 == hn_attr_int(&c, "layers")) snprintf(out, sizeof out, "%s", c.name);
        else snprintf(out, sizeof out, "%s", prefix);
        if ((t = hn_block_feed_forward(g, &c, prefix, h, (int)hn_attr_int(&c, "ffn"), out)) < 0) return -1;
    }
    return t;
}

static long macs(const hn_graph *g, const hn_node *n) { return 0; }

const hn_op_def hn_op_def_class_attention = {
    "class_attention", "ParT class blocks: a learnt class token attends to the particles (raw query, LN'd keys); × layers.",
    "<name>.cls_token [D], <name>.<l>.{pre_attn_norm, attn.in_proj, attn.out_proj, c_attn, post_attn_norm, "
    "pre_fc_norm, fc1, post_fc_norm, fc2, w_resid}",
    attrs, sizeof attrs / sizeof *attrs, NULL, lower, NULL, macs,
    NULL, NULL, NULL, 0, 0,
};
