/* spanet_blocks.h — the building blocks of SPANet v2 (github.com/Alexanders101/SPANet, spanet/network/layers/)
 * lowered to primitives, their nodes named after upstream's modules so that an upstream state_dict
 * loads as it is: the GRU linear block, the gated transformer layer (GTrXL) and the stacked encoder
 * with its learnt token. Shared by the `spanet` composite. */
#ifndef HN_OPS_SPANET_BLOCKS_H
#define HN_OPS_SPANET_BLOCKS_H

#include "../ir.h"

typedef struct hn_spanet_dims {
    int hidden;                 /* hidden_dim D */
    int heads;                  /* num_attention_heads */
    double scale;               /* transformer_dim_scale: a GRU block's inner width is round(scale · input width) */
    int skip;                   /* skip_connections */
} hn_spanet_dims;

/* GRUBlock(in → out): LayerNorm(x) → linear + GELU → linear + GELU, gated with the residual (x, or a
 * linear of x when the widths differ) when `skip`. Returns the output tensor, -1 on error. */
int hn_spanet_gru_block(hn_graph *g, const hn_node *from, const char *prefix, int x, int out, int skip,
                        const hn_spanet_dims *d);
/* GTrXL: LayerNorm → multi-head self-attention (over the real rows) → GRU gate with x → GRU block. */
int hn_spanet_gtrxl(hn_graph *g, const hn_node *from, const char *prefix, int x, const hn_spanet_dims *d);
/* StackedEncoder: `nlinear` GRU blocks on the set, a learnt token in front, `nlayers` GTrXL layers.
 * Returns the set's rows ([n, D]) and writes the token's final vector ([D]) to *token. */
int hn_spanet_stacked_encoder(hn_graph *g, const hn_node *from, const char *prefix, int x, int nlinear, int nlayers,
                              const hn_spanet_dims *d, int *token);

#endif
