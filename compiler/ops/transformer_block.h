/* transformer_block.h — the parts ParT's particle and class blocks share (weaver-core 0.4 Block):
 * the attention output path (out_proj with the head scale folded in, post-attention LayerNorm,
 * residual) and the feed-forward path (LayerNorm, fc1 + GELU, LayerNorm, fc2, w_resid-scaled residual). */
#ifndef HN_OPS_TRANSFORMER_BLOCK_H
#define HN_OPS_TRANSFORMER_BLOCK_H

#include "../ir.h"

/* Blocks a composite may stack: weaver's models use 2 to 12; the bound keeps a mistyped count (65536)
 * from building a graph of millions of nodes before any other check can speak. */
#define HN_MAX_BLOCKS 256
/* 0, or an error at the `layers` attribute when it is outside 1..HN_MAX_BLOCKS. */
int hn_block_count_check(const hn_node *composite);

/* attn: the concatenated heads; skip: the block input. Returns the tensor after the residual. */
int hn_block_attention_output(hn_graph *g, const hn_node *from, const char *prefix, int attn, int skip, int heads);
/* Returns the block's output tensor, named `out_name`. */
int hn_block_feed_forward(hn_graph *g, const hn_node *from, const char *prefix, int x, int ffn, const char *out_name);

#endif
