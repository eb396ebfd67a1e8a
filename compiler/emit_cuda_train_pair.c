/* emit_cuda_train_pair.c — the pair embedding in the GPU training step (compiler/emit_cuda_train.c): the
 * statements of its training forward and backward, on the C step's layout of its state
 * (ops/pair_embed_layout.h): the weighted representative rows of each event's pairs, weighted batchnorms,
 * GEMM convolutions and GELUs, the scatter into U; with supplied pair features, their MLP over every
 * ordered slot pair, or, for the SM matrix (symmetric, zero padding), over the same weighted rows. */
#include <stdio.h>

#include "emit_cuda_train_internal.h"
#include "ops.h"
#include "ops/pair_embed_layout.h"

#define CHECK HN_CT_CHECK

/* The pair embedding's state S (per event, this node's) and batch statistics Sf, at layout offsets. */
static void pe_state(char *dst, size_t len, const hn_node *n, long off)
{
    snprintf(dst, len, "(state_ws + (size_t)batch * %ldu)", n->state_offset + off);
}

/* The slots a batch stands for (max, or fewer when trimmed) and the rows its statistics count (every
 * lower-triangle slot pair of every event), as C expressions of the step. */
static void pe_slots(const pe_layout *L, char *sl, size_t sll, char *nn, size_t nnl)
{
    snprintf(sl, sll, "(cfg->slots > 0 && cfg->slots < %d ? cfg->slots : %d)", L->max, L->max);
    if (L->extra) snprintf(nn, nnl, "(double)batch * %s * %s", sl, sl);    /* every ordered slot pair */
    else snprintf(nn, nnl, "(double)batch * %s * (%s + 1) / 2", sl, sl);
}

/* fts_embed's layers over `rows` rows (a C expression) of input x with weights W and NN counted rows:
 * batchnorm into u_b0, then conv (GEMM) + weighted batchnorm + GELU per layer; the last activation's
 * name into last. */
static void extra_layers_forward(ctgen *G, const hn_node *n, const pe_layout *L, const char *x, const char *rows,
                                 const char *W, const char *NN, char *last, size_t lastlen)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    char B2[96], prev[96], Z[96], N[96], A[96];
    pe_state(B2, sizeof B2, n, L->u_b0);
#define PRM(k) g->params[n->param[k]].offset
    fprintf(f, "    if (hn_gt_batchnorm_forward_weighted(gpu, %s, %s, %s, %s, %d, params + %ld, params + %ld, 1e-5f,\n"
               "            (float)cfg->bn_momentum, params + %ld, params + %ld, fixed_ws + %ld, fixed_ws + %ld, %s, &scratch, " CHECK,
            x, rows, W, NN, L->c2, PRM(L->first2), PRM(L->first2 + 1), PRM(L->first2 + 2), PRM(L->first2 + 3),
            n->fixed_offset + L->u_stats0, n->fixed_offset + L->u_stats0 + L->c2, B2);
    snprintf(prev, sizeof prev, "%s", B2);
    for (int k = 0; k < L->layers; ++k) {
        int base = L->first2 + 4 + 6 * k, in = k ? L->width[k - 1] : L->c2, w = L->width[k];
        pe_state(Z, sizeof Z, n, L->u_z[k]);
        pe_state(N, sizeof N, n, L->u_nrm[k]);
        pe_state(A, sizeof A, n, L->u_act[k]);
        fprintf(f, "    if (hn_gt_linear_forward(gpu, %s, %s, %d, params + %ld, params + %ld, %d, %s, " CHECK, prev, rows, in,
                PRM(base), PRM(base + 1), w, Z);
        fprintf(f, "    if (hn_gt_batchnorm_forward_weighted(gpu, %s, %s, %s, %s, %d, params + %ld, params + %ld, 1e-5f,\n"
                   "            (float)cfg->bn_momentum, params + %ld, params + %ld, fixed_ws + %ld, fixed_ws + %ld, %s, &scratch, " CHECK,
                Z, rows, W, NN, w, PRM(base + 2), PRM(base + 3), PRM(base + 4), PRM(base + 5), n->fixed_offset + L->u_stats[k],
                n->fixed_offset + L->u_stats[k] + w, N);
        fprintf(f, "    if (hn_gt_act(gpu, %s, %s * %d, 2, %s, " CHECK, N, rows, w, A);
        snprintf(prev, sizeof prev, "%s", A);
    }
    snprintf(last, lastlen, "%s", prev);
}

/* Backward of extra_layers_forward: the rows' gradient in u_g1 back through the layers (u_g1/u_g2 ping-pong)
 * and the input batchnorm (input x); the features are data (no gradient). */
static void extra_layers_backward(ctgen *G, const hn_node *n, const pe_layout *L, const char *x, const char *rows,
                                  const char *W, const char *NN)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    char Gv[96], Hv[96], Z[96], N[96], X[96];
    pe_state(Gv, sizeof Gv, n, L->u_g1);
    pe_state(Hv, sizeof Hv, n, L->u_g2);
    int cur = 0;
    for (int k = L->layers - 1; k >= 0; --k) {
        int base = L->first2 + 4 + 6 * k, in = k ? L->width[k - 1] : L->c2, w = L->width[k];
        const char *gin = cur ? Hv : Gv, *gout = cur ? Gv : Hv;
        pe_state(Z, sizeof Z, n, L->u_z[k]);
        pe_state(N, sizeof N, n, L->u_nrm[k]);
        pe_state(X, sizeof X, n, k ? L->u_act[k - 1] : L->u_b0);
        fprintf(f, "    if (hn_gt_act_backward(gpu, %s, %s, %s * %d, 2, %s, " CHECK, N, gin, rows, w, gin);
        fprintf(f, "    if (hn_gt_batchnorm_backward_weighted(gpu, %s, %s, %s, %s, %d, params + %ld, 1e-5f, fixed_ws + %ld,\n"
                   "            fixed_ws + %ld, %s, %s, grads + %ld, grads + %ld, &scratch, " CHECK,
                Z, rows, W, NN, w, PRM(base + 2), n->fixed_offset + L->u_stats[k], n->fixed_offset + L->u_stats[k] + w, gin, gin,
                PRM(base + 2), PRM(base + 3));
        fprintf(f, "    if (hn_gt_linear_backward_weighted(gpu, %s, %s, %d, params + %ld, %d, %s, %s, %s, grads + %ld, grads + %ld, "
                   "&scratch, " CHECK, X, rows, in, PRM(base), w, W, gin, gout, PRM(base), PRM(base + 1));
        cur = !cur;
    }
    const char *gin = cur ? Hv : Gv;
    fprintf(f, "    if (hn_gt_batchnorm_backward_weighted(gpu, %s, %s, %s, %s, %d, params + %ld, 1e-5f, fixed_ws + %ld,\n"
               "            fixed_ws + %ld, %s, %s, grads + %ld, grads + %ld, &scratch, " CHECK,
            x, rows, W, NN, L->c2, PRM(L->first2), n->fixed_offset + L->u_stats0, n->fixed_offset + L->u_stats0 + L->c2, gin, gin,
            PRM(L->first2), PRM(L->first2 + 1));
#undef PRM
}

/* The supplied pair features' MLP (ops/pair_embed.c emit_train_extra): every ordered slot pair as a row
 * (weight 1 for the slots the batch counts), added to U at the real pairs. */
static void pair_extra_forward(ctgen *G, const hn_node *n, const pe_layout *L, const char *SL)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    char x1[HN_NAME + 8], y[HN_NAME + 8], ones[96], NN[160], cnt[32], rows[48], last[96];
    hn_ct_tvar(g, n->in[1], x1, sizeof x1);
    hn_ct_tvar(g, n->out, y, sizeof y);
    pe_state(ones, sizeof ones, n, L->u_ones);
    snprintf(NN, sizeof NN, "(double)batch * %s * %s", SL, SL);
    snprintf(rows, sizeof rows, "(long)batch * %ld", (long)L->max * L->max);
    hn_ct_counts_of(g, &g->tensors[n->out], cnt, sizeof cnt);
    fprintf(f, "    /* the supplied pair features '%s': fts_embed over every ordered slot pair, added at the real pairs */\n"
               "    if (hn_gt_pair_ones(gpu, %s, batch, %d, %s, " CHECK, g->tensors[n->in[1]].name, ones, L->max, SL);
    extra_layers_forward(G, n, L, x1, rows, ones, NN, last, sizeof last);
    fprintf(f, "    if (hn_gt_pair_ordered(gpu, %s, %s, batch, %d, %d, 0, %s, " CHECK, last, cnt, L->max, L->heads, y);
}

/* Backward of pair_extra_forward: dU at the real ordered pairs back through its layers. */
static void pair_extra_backward(ctgen *G, const hn_node *n, const pe_layout *L, const char *SL, const char *dy)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    char x1[HN_NAME + 8], ones[96], Gv[96], NN[160], cnt[32], rows[48];
    hn_ct_tvar(g, n->in[1], x1, sizeof x1);
    pe_state(ones, sizeof ones, n, L->u_ones);
    pe_state(Gv, sizeof Gv, n, L->u_g1);
    snprintf(NN, sizeof NN, "(double)batch * %s * %s", SL, SL);
    snprintf(rows, sizeof rows, "(long)batch * %ld", (long)L->max * L->max);
    hn_ct_counts_of(g, &g->tensors[n->out], cnt, sizeof cnt);
    fprintf(f, "    /* fts_embed backward */\n    if (hn_gt_pair_ordered(gpu, %s, %s, batch, %d, %d, 1, %s, " CHECK, dy, cnt, L->max,
            L->heads, Gv);
    extra_layers_backward(G, n, L, x1, rows, ones, NN);
}

/* The SM matrix's embedding on the 4-vector rows (ops/pair_embed.c, extra_tril): its rows gathered with the
 * same pairs and ordered weights W, the same layers over pe_rows, summed into the 4-vector rows `rows` before
 * their scatter. */
static void pair_tril_forward(ctgen *G, const hn_node *n, const pe_layout *L, const char *SL, const char *W,
                              const char *NN, const char *rows)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    char x1[HN_NAME + 8], F2[96], cnt[32], last[96];
    hn_ct_tvar(g, n->in[1], x1, sizeof x1);
    pe_state(F2, sizeof F2, n, L->u_f0);
    hn_ct_counts_of(g, &g->tensors[n->out], cnt, sizeof cnt);
    fprintf(f, "    /* the pair features '%s' (symmetric, padding 0): fts_embed on the same weighted rows, summed into them */\n"
               "    if (hn_gt_pair_rows(gpu, %s, %s, batch, %d, %s, %d, scratch.offs, 1, %s, %s, " CHECK,
            g->tensors[n->in[1]].name, x1, cnt, L->max, SL, L->c2, F2, W);
    extra_layers_forward(G, n, L, F2, "pe_rows", W, NN, last, sizeof last);
    fprintf(f, "    if (hn_gt_accumulate(gpu, %s, pe_rows * %d, %s, " CHECK, last, L->heads, rows);
}

/* Backward of pair_tril_forward: the 4-vector rows' gradient (copied to u_g1 before their layers ran) back
 * through the matrix's layers, weights W. */
static void pair_tril_backward(ctgen *G, const hn_node *n, const pe_layout *L, const char *W, const char *NN)
{
    char F2[96];
    pe_state(F2, sizeof F2, n, L->u_f0);
    fprintf(G->f, "    /* fts_embed backward, on the 4-vector rows */\n");
    extra_layers_backward(G, n, L, F2, "pe_rows", W, NN);
}

/* Training forward of pair_embed (ops/pair_embed.c emit_train, on the GPU): the weighted rows of every
 * event's pairs (offsets from the host's counts), weighted batchnorm, then conv (GEMM) + weighted
 * batchnorm + GELU per layer, scattered into U at the real pairs. */
void hn_ct_pair_embed_forward(ctgen *G, const hn_node *n)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    pe_layout L;
    hn_pe_layout_of(g, n, &L);
    char SL[96], NN[160];
    pe_slots(&L, SL, sizeof SL, NN, sizeof NN);
    char x0[HN_NAME + 8], y[HN_NAME + 8], F0[96], B0[96], W[96], prev[96], Z[96], N[96], A[96];
    hn_ct_tvar(g, n->in[0], x0, sizeof x0);
    hn_ct_tvar(g, n->out, y, sizeof y);
    pe_state(F0, sizeof F0, n, L.f0);
    pe_state(B0, sizeof B0, n, L.b0);
    pe_state(W, sizeof W, n, L.wt);
    const hn_tensor *U = &g->tensors[n->out];
    char hc[48];
    if (hn_ct_masked(g, U)) snprintf(hc, sizeof hc, "h.counts[%d][b]", U->shape.set);
    else snprintf(hc, sizeof hc, "%d", L.max);
    fprintf(f, "    {   /* the weighted pair rows: each event's real pairs, then its padded representatives */\n"
               "        int *off = h.offs;\n        off[0] = 0;\n"
               "        for (int b = 0; b < batch; ++b) {\n"
               "            long m = %s;\n"
               "            off[b + 1] = off[b] + (int)(m * (m + 1) / 2 + (m < %s ? m + 1 : 0));\n        }\n"
               "        pe_rows = off[batch];\n"
               "        if (hn_gpu_to_device(gpu, scratch.offs, off, sizeof(int) * (size_t)(batch + 1), " CHECK "    }\n",
            hc, SL);
    char cnt[32];
    hn_ct_counts_of(g, &g->tensors[n->out], cnt, sizeof cnt);
    fprintf(f, "    if (hn_gt_pair_rows(gpu, %s, %s, batch, %d, %s, %d, scratch.offs, %d, %s, %s, " CHECK, x0, cnt, L.max, SL, L.nfeat, L.extra,
            F0, W);
#define PRM(k) g->params[n->param[k]].offset
    fprintf(f, "    if (hn_gt_batchnorm_forward_weighted(gpu, %s, pe_rows, %s, %s, %d, params + %ld, params + %ld, 1e-5f,\n"
               "            (float)cfg->bn_momentum, params + %ld, params + %ld, fixed_ws + %ld, fixed_ws + %ld, %s, &scratch, " CHECK,
            F0, W, NN, L.nfeat, PRM(0), PRM(1), PRM(2), PRM(3), n->fixed_offset + L.stats0, n->fixed_offset + L.stats0 + L.nfeat, B0);
    snprintf(prev, sizeof prev, "%s", B0);
    for (int k = 0; k < L.layers; ++k) {
        int base = 4 + 6 * k, in = k ? L.width[k - 1] : L.nfeat, w = L.width[k];
        pe_state(Z, sizeof Z, n, L.z[k]);
        pe_state(N, sizeof N, n, L.nrm[k]);
        pe_state(A, sizeof A, n, L.act[k]);
        fprintf(f, "    /* layer %d: conv %s, batchnorm, GELU */\n", k, g->params[n->param[base]].name);
        fprintf(f, "    if (hn_gt_linear_forward(gpu, %s, pe_rows, %d, params + %ld, params + %ld, %d, %s, " CHECK, prev, in, PRM(base),
                PRM(base + 1), w, Z);
        fprintf(f, "    if (hn_gt_batchnorm_forward_weighted(gpu, %s, pe_rows, %s, %s, %d, params + %ld, params + %ld, 1e-5f,\n"
                   "            (float)cfg->bn_momentum, params + %ld, params + %ld, fixed_ws + %ld, fixed_ws + %ld, %s, &scratch, " CHECK,
                Z, W, NN, w, PRM(base + 2), PRM(base + 3), PRM(base + 4), PRM(base + 5), n->fixed_offset + L.stats[k],
                n->fixed_offset + L.stats[k] + w, N);
        fprintf(f, "    if (hn_gt_act(gpu, %s, pe_rows * %d, 2, %s, " CHECK, N, w, A);
        snprintf(prev, sizeof prev, "%s", A);
    }
    if (L.extra_tril) pair_tril_forward(G, n, &L, SL, W, NN, prev);
    fprintf(f, "    if (hn_gt_pair_scatter(gpu, %s, %s, batch, %d, %s, %d, scratch.offs, 0, 0, %s, " CHECK, prev, cnt, L.max, SL, L.heads, y);
    if (L.extra && !L.extra_tril) pair_extra_forward(G, n, &L, SL);
}

/* Backward of pair_embed (ops/pair_embed.c emit_backward): dU to the rows, then each layer back (GELU,
 * weighted batchnorm, weighted conv), and the input batchnorm's parameters. */
void hn_ct_pair_embed_backward(ctgen *G, const hn_node *n, const char *dy)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    pe_layout L;
    hn_pe_layout_of(g, n, &L);
    char SL[96], NN[160];
    pe_slots(&L, SL, sizeof SL, NN, sizeof NN);
    char W[96], Gv[96], Hv[96], Z[96], N[96], X[96], F0[96], cnt[32];
    pe_state(W, sizeof W, n, L.wt);
    pe_state(Gv, sizeof Gv, n, L.g1);
    pe_state(Hv, sizeof Hv, n, L.g2);
    pe_state(F0, sizeof F0, n, L.f0);
    hn_ct_counts_of(g, &g->tensors[n->out], cnt, sizeof cnt);
    fprintf(f, "    if (hn_gt_pair_scatter(gpu, %s, %s, batch, %d, %s, %d, scratch.offs, 1, %d, %s, " CHECK, dy, cnt, L.max, SL, L.heads,
            L.extra, Gv);
    if (L.extra_tril) {     /* the matrix's rows get the same gradient (their outputs were summed) */
        char G2[96];
        pe_state(G2, sizeof G2, n, L.u_g1);
        fprintf(f, "    if (hn_gt_copy_cols(gpu, %s, pe_rows, %d, 0, %d, %s, " CHECK, Gv, L.heads, L.heads, G2);
    }
    int cur = 0;        /* 0: the gradient rows in G, 1: in H */
    for (int k = L.layers - 1; k >= 0; --k) {
        int base = 4 + 6 * k, in = k ? L.width[k - 1] : L.nfeat, w = L.width[k];
        const char *gin = cur ? Hv : Gv, *gout = cur ? Gv : Hv;
        pe_state(Z, sizeof Z, n, L.z[k]);
        pe_state(N, sizeof N, n, L.nrm[k]);
        pe_state(X, sizeof X, n, k ? L.act[k - 1] : L.b0);
        fprintf(f, "    /* layer %d backward */\n", k);
        fprintf(f, "    if (hn_gt_act_backward(gpu, %s, %s, pe_rows * %d, 2, %s, " CHECK, N, gin, w, gin);
        fprintf(f, "    if (hn_gt_batchnorm_backward_weighted(gpu, %s, pe_rows, %s, %s, %d, params + %ld, 1e-5f, fixed_ws + %ld,\n"
                   "            fixed_ws + %ld, %s, %s, grads + %ld, grads + %ld, &scratch, " CHECK,
                Z, W, NN, w, PRM(base + 2), n->fixed_offset + L.stats[k], n->fixed_offset + L.stats[k] + w, gin, gin,
                PRM(base + 2), PRM(base + 3));
        fprintf(f, "    if (hn_gt_linear_backward_weighted(gpu, %s, pe_rows, %d, params + %ld, %d, %s, %s, %s, grads + %ld, grads + %ld, &scratch, "
                   CHECK, X, in, PRM(base), w, W, gin, gout, PRM(base), PRM(base + 1));
        cur = !cur;
    }
    const char *gin = cur ? Hv : Gv;
    fprintf(f, "    if (hn_gt_batchnorm_backward_weighted(gpu, %s, pe_rows, %s, %s, %d, params + %ld, 1e-5f, fixed_ws + %ld,\n"
               "            fixed_ws + %ld, %s, %s, grads + %ld, grads + %ld, &scratch, " CHECK,
            F0, W, NN, L.nfeat, PRM(0), n->fixed_offset + L.stats0, n->fixed_offset + L.stats0 + L.nfeat, gin, gin, PRM(0), PRM(1));
    if (L.extra_tril) pair_tril_backward(G, n, &L, W, NN);
    else if (L.extra) pair_extra_backward(G, n, &L, SL, dy);
#undef PRM
}
