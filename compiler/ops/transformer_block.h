/* transformer_block.h — the parts ParT's particle and class blocks share (weaver-core 0.4 Block):
 * the attention output path (out_proj with the head scale folded in, post-attention LayerNorm,
 * residual) and the feed-forward path (LayerNorm, fc1 + GELU, LayerNorm, fc2, w_resid-scaled residual). */
#ifndef HN_OPS_TRANSFORMER_BLOCK_H
#define HN_OPS_TRANSFORMER_BLOCK_H

#include "../ir.h"

/* attn: the concatenated heads; skip: the block input. Returns the tensor after the residual. */
int hn_block_attention_output(hn_graph *g, const hn_node *from, const char *prefix, int attn, int skip, int heads);
/* Returns the block's output tensor, named `out_name`. */
int hn_block_feed_forward(hn_graph *g, const hn_node *from, const char *prefix, int x, int ffn, const char *out_name);

#endif
