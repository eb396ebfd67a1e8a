/* spanet_blocks.c — see spanet_blocks.h. Upstream module paths, for the names below:
 *   GRUBlock   normalization.normalization (LayerNorm), linear_1.0, linear_2.0, residual, gru (GRUGate)
 *   GTrXL      attention_norm, attention (nn.MultiheadAttention: in_proj_weight/_bias, out_proj),
 *              attention_gate (GRUGate), feed_forward (GRUBlock)
 *   StackedEncoder  embedding.layers.{l} (GRUBlock), particle_vector, encoder.layers.{l} (GTrXL) */
#include <math.h>
#include <string.h>

#include "../lower.h"
#include "../ops.h"
#include "spanet_blocks.h"

#define NAME_LEN (HN_NAME + 64)

int hn_spanet_gru_block(hn_graph *g, const hn_node *from, const char *prefix, int x, int out, int skip,
                        const hn_spanet_dims *d)
{
    char name[NAME_LEN];
    int in = hn_last_dim(&g->tensors[x].shape);
    int inner = (int)nearbyint(d->scale * in);              /* Python's round: half to even */
    int u;
    snprintf(name, sizeof name, "%s.normalization.normalization", prefix);
    if ((u = hn_lower_node(g, HN_OP_layernorm, name, from, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.linear_1.0", prefix);
    if ((u = hn_lower_node(g, HN_OP_linear, name, from, &u, 1, "out", inner, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.linear_1.1", prefix);
    if ((u = hn_lower_node(g, HN_OP_gelu, name, from, &u, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.linear_2.0", prefix);
    if ((u = hn_lower_node(g, HN_OP_linear, name, from, &u, 1, "out", out, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.linear_2.1", prefix);
    if ((u = hn_lower_node(g, HN_OP_gelu, name, from, &u, 1, NULL, 0, NULL, 0)) < 0) return -1;
    if (!skip) return u;                    /* upstream still creates the gate's parameters, unused */
    int residual = x;
    if (in != out) {
        snprintf(name, sizeof name, "%s.residual", prefix);
        if ((residual = hn_lower_node(g, HN_OP_linear, name, from, &x, 1, "out", out, NULL, 0)) < 0) return -1;
    }
    int pair[2] = { u, residual };
    snprintf(name, sizeof name, "%s.gru", prefix);
    return hn_lower_node(g, HN_OP_gru_gate, name, from, pair, 2, NULL, 0, NULL, 0);
}

int hn_spanet_gtrxl(hn_graph *g, const hn_node *from, const char *prefix, int x, const hn_spanet_dims *d)
{
    char name[NAME_LEN];
    int D = d->hidden, a;
    snprintf(name, sizeof name, "%s.attention_norm", prefix);
    if ((a = hn_lower_node(g, HN_OP_layernorm, name, from, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.attention.in_proj", prefix);
    if ((a = hn_lower_node(g, HN_OP_linear, name, from, &a, 1, "out", 3 * D, NULL, 0)) < 0) return -1;
    const hn_node *proj = &g->nodes[g->tensors[a].producer];
    snprintf(name, sizeof name, "%s.attention.in_proj_weight", prefix);     /* nn.MultiheadAttention's packed q|k|v */
    hn_param_rename(g, proj->param[0], name);
    snprintf(name, sizeof name, "%s.attention.in_proj_bias", prefix);
    hn_param_rename(g, proj->param[1], name);
    snprintf(name, sizeof name, "%s.attention.heads", prefix);
    if ((a = hn_lower_node(g, HN_OP_attention, name, from, &a, 1, "heads", d->heads, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.attention.out_proj", prefix);
    if ((a = hn_lower_node(g, HN_OP_linear, name, from, &a, 1, "out", D, NULL, 0)) < 0) return -1;
    int pair[2] = { a, x };
    snprintf(name, sizeof name, "%s.attention_gate", prefix);
    if ((a = hn_lower_node(g, HN_OP_gru_gate, name, from, pair, 2, NULL, 0, NULL, 0)) < 0) return -1;
    snprintf(name, sizeof name, "%s.feed_forward", prefix);
    return hn_spanet_gru_block(g, from, name, a, D, 1, d);
}

int hn_spanet_stacked_encoder(hn_graph *g, const hn_node *from, const char *prefix, int x, int nlinear, int nlayers,
                              const hn_spanet_dims *d, int *token)
{
    char name[NAME_LEN];
    for (int l = 0; l < nlinear; ++l) {
        snprintf(name, sizeof name, "%s.embedding.layers.%d", prefix, l);
        if ((x = hn_spanet_gru_block(g, from, name, x, d->hidden, d->skip, d)) < 0) return -1;
    }
    snprintf(name, sizeof name, "%s.particle_vector", prefix);
    if ((x = hn_lower_node(g, HN_OP_token_prepend, name, from, &x, 1, NULL, 0, NULL, 0)) < 0) return -1;
    hn_param_rename(g, g->nodes[g->tensors[x].producer].param[0], name);
    for (int l = 0; l < nlayers; ++l) {
        snprintf(name, sizeof name, "%s.encoder.layers.%d", prefix, l);
        if ((x = hn_spanet_gtrxl(g, from, name, x, d)) < 0) return -1;
    }
    int parts[2];
    static const char *const part[2] = { "token", "set" };
    for (int k = 0; k < 2; ++k) {
        snprintf(name, sizeof name, "%s.%s", prefix, k ? "vectors" : "token");
        int node = hn_new_node(g, HN_OP_token_take, name, from, &x, 1);
        hn_attr_val *v = (hn_attr_val *)hn_attr(&g->nodes[node], "part");
        v->set = 1;
        snprintf(v->s, sizeof v->s, "%s", part[k]);
        if ((parts[k] = hn_finish_node(g, node, name)) < 0) return -1;
    }
    *token = parts[0];
    return parts[1];
}
