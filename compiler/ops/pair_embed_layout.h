/* pair_embed_layout.h — where the pair embedding's training state lives (its node state S, per event, and
 * its fixed batch statistics Sf): shared by the C training step (ops/pair_embed.c) and the GPU one
 * (compiler/emit_cuda_train.c), which use the same workspace layout. */
#ifndef HN_PAIR_EMBED_LAYOUT_H
#define HN_PAIR_EMBED_LAYOUT_H

#include "ir.h"

typedef struct pe_layout {
    int layers, nfeat, heads, max, np, widest;
    int width[HN_MAX_LIST + 1];           /* output width of layer k */
    long f0, b0, wt, z[HN_MAX_LIST + 1], nrm[HN_MAX_LIST + 1], act[HN_MAX_LIST + 1], g1, g2, per_event;
    long stats0, stats[HN_MAX_LIST + 1], fixed;
    /* with extra pair features: fts_embed's rows are every ordered slot pair (max², weight 1 each) */
    int extra, c2, first2;                /* input width, and the index of its first parameter */
    long u_ones, u_b0, u_z[HN_MAX_LIST + 1], u_nrm[HN_MAX_LIST + 1], u_act[HN_MAX_LIST + 1], u_g1, u_g2;
    long u_stats0, u_stats[HN_MAX_LIST + 1];
    /* extra_tril: the supplied features are symmetric with zero padding (an sm_interaction layer), so the C
     * step embeds them on the 4-vector features' weighted rows (their input rows at u_f0) instead of max² */
    int extra_tril;
    long u_f0;
} pe_layout;

/* The layout of node n (a pair_embed of the training graph). */
void hn_pe_layout_of(const hn_graph *g, const hn_node *n, pe_layout *L);

#endif
