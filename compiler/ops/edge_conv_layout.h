/* edge_conv_layout.h — where ParticleNet's EdgeConv keeps its training state (its node state S, per event,
 * and its fixed batch statistics Sf): shared by the C training step (ops/edge_conv.c) and the GPU one
 * (compiler/emit_cuda_train_edgeconv.c), which use the same workspace layout. */
#ifndef HN_EDGE_CONV_LAYOUT_H
#define HN_EDGE_CONV_LAYOUT_H

#include "ir.h"

typedef struct ec_layout {
    int L, P, C, Pd, k, c1, cout, widest, sc, rows;
    int w[HN_MAX_LIST];
    long nb, wt, z[HN_MAX_LIST], g, zsc, per_event;
    long stats[HN_MAX_LIST], sc_stats, fixed;
} ec_layout;

/* The layout of node n (an edge_conv of the training graph); see ops/edge_conv.c's training notes. */
void hn_ec_layout_of(const hn_graph *g, const hn_node *n, ec_layout *L);

#endif
