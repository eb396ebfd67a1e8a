/* transformer_block.c — see transformer_block.h. */
#include "transformer_block.h"

#include "../diag.h"
#include "../lower.h"
#include "../ops.h"

int hn_block_count_check(const hn_node *composite)
{
    long layers = hn_attr_int(composite, "layers");
    if (layers >= 1 && layers <= HN_MAX_BLOCKS) return 0;
    return hn_error(hn_attr(composite, "layers")->loc, "'layers' of '%s' must be 1 to %d (got %ld)", composite->name,
                    HN_MAX_BLOCKS, layers);
}

/* weaver's Block.dropout / act_dropout: a dropout node after x when the composite's attribute is > 0
 * (the composite `from` has the keys "dropout" and "activation_dropout"). */
static int maybe_dropout(hn_graph *g, const hn_node *from, const char *key, const char *name, int x)
{
    double p = hn_attr_float(from, key);
    if (x < 0 || p <= 0.0) return x;
    int node = hn_new_node(g, HN_OP_dropout, name, from, &x, 1);
    hn_node_set_float(&g->nodes[node], "p", p);
    return hn_finish_node(g, node, name);
}

int hn_block_attention_output(hn_graph *g, const hn_node *from, const char *prefix, int attn, int skip, int heads)
{
    char name[HN_NAME + 32];
    int D = hn_last_dim(&g->tensors[attn].shape);
    snprintf(name, sizeof name, "%s.attn.out_proj", prefix);
    int o = hn_lower_node(g, HN_OP_linear, name, from, &attn, 1, "out", D, NULL, 0);
    if (o < 0) return -1;
    /* c_attn: weaver-core 0.4 scales the heads *after* out_proj and permutes channels h·d+t → t·H+h;
       both are folded into out_proj's rows at load time */
    const hn_node *lin = &g->nodes[g->tensors[o].producer];
    int64_t dim[1] = { heads };
    snprintf(name, sizeof name, "%s.c_attn", prefix);
    int c = hn_graph_add_param(g, name, 1, dim, 1);
    hn_fold f = { .kind = HN_FOLD_HEADSCALE, .heads = heads, .w = lin->param[0], .b = lin->param[1],
                  .out_w = lin->param[0], .out_b = lin->param[1], .bn_gamma = c };
    hn_graph_add_fold(g, &f);
    snprintf(name, sizeof name, "%s.post_attn_norm", prefix);
    if ((o = hn_lower_node(g, HN_OP_layernorm, name, from, &o, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.attn_dropout", prefix);
    if ((o = maybe_dropout(g, from, "dropout", name, o)) < 0) return -1;
    int in[2] = { o, skip };
    snprintf(name, sizeof name, "%s.attn_residual", prefix);
    return hn_lower_node(g, HN_OP_add, name, from, in, 2, NULL, 0, NULL, 0);
}

int hn_block_feed_forward(hn_graph *g, const hn_node *from, const char *prefix, int x, int ffn, const char *out_name)
{
    char name[HN_NAME + 32];
    int D = hn_last_dim(&g->tensors[x].shape), z;
    snprintf(name, sizeof name, "%s.pre_fc_norm", prefix);
    if ((z = hn_lower_node(g, HN_OP_layernorm, name, from, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.fc1", prefix);
    if ((z = hn_lower_node(g, HN_OP_linear, name, from, &z, 1, "out", ffn, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.fc1.gelu", prefix);
    if ((z = hn_lower_node(g, HN_OP_gelu, name, from, &z, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.act_dropout", prefix);
    if ((z = maybe_dropout(g, from, "activation_dropout", name, z)) < 0) return -1;
    snprintf(name, sizeof name, "%s.post_fc_norm", prefix);
    if ((z = hn_lower_node(g, HN_OP_layernorm, name, from, &z, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.fc2", prefix);
    if ((z = hn_lower_node(g, HN_OP_linear, name, from, &z, 1, "out", D, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.fc_dropout", prefix);
    if ((z = maybe_dropout(g, from, "dropout", name, z)) < 0) return -1;
    int in[2] = { z, x };
    int node = hn_new_node(g, HN_OP_residual, out_name, from, in, 2);
    int y = hn_finish_node(g, node, out_name);
    if (y < 0) return -1;
    snprintf(name, sizeof name, "%s.w_resid", prefix);
    hn_param_rename(g, g->nodes[node].param[0], name);
    return y;
}
