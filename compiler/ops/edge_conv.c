/* edge_conv — ParticleNet's EdgeConv block (weaver-core 0.4 EdgeConvBlock) over each event's real
 * particles: k nearest neighbours in the `points` coordinates (templates/c/edgeconv.h reproduces
 * weaver's distance, its topk order and its zero-feature padding neighbours for jets with n ≤ k), edge
 * features [x_i, x_j − x_i] through 1×1 convolutions with batchnorm and ReLU, the mean over the
 * neighbours, and a batchnormed shortcut. Weights as weaver's modules: <name>.convs.{i}.weight
 * [out, in] (Conv2d [out, in, 1, 1] squeezed by the importer), <name>.bns.{i}.*, <name>.sc.weight
 * [out, C] and <name>.sc_bn.* (when C differs from the last width); every batchnorm is folded into
 * its convolution at load time. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"
#include "edge_conv_layout.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "per-particle features [n, C]" },
    { "points", HN_ATTR_TENSOR, 1, NULL, NULL, "per-particle coordinates of the kNN graph [n, P] (same set)" },
    { "k", HN_ATTR_INT, 1, NULL, NULL, "neighbours per particle" },
    { "dims", HN_ATTR_INTS, 1, NULL, NULL, "widths of the edge convolutions" },
};

static int bn_folded_conv(hn_graph *g, hn_node *n, const char *conv, const char *bn, int out, int in)
{
    char name[HN_NAME];
    snprintf(name, sizeof name, "%s.weight", conv);
    int w = hn_node_param(g, n, name, 2, out, in);
    static const char *const parts[4] = { "weight", "bias", "running_mean", "running_var" };
    int p[4];
    for (int i = 0; i < 4; ++i) {
        snprintf(name, sizeof name, "%s.%s", bn, parts[i]);
        p[i] = hn_node_param(g, n, name, 1, out, 0);
    }
    char bias[HN_NAME * 2];
    snprintf(bias, sizeof bias, "%s.%s.bias.folded", n->param_prefix[0] ? n->param_prefix : n->name, conv);
    int64_t dim[1] = { out };
    int b = hn_graph_add_param(g, bias, 1, dim, 0);
    n->param[n->nparam++] = b;
    hn_fold f = { .kind = HN_FOLD_BATCHNORM, .before = 0, .bn_gamma = p[0], .bn_beta = p[1], .bn_mean = p[2],
                  .bn_var = p[3], .eps = 1e-5f, .w = w, .b = -1, .out_w = w, .out_b = b };
    hn_graph_add_fold(g, &f);
    return 0;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    const hn_shape *x = hn_in_shape(g, n, 0), *p = hn_in_shape(g, n, 1);
    if (x->nset != 1 || x->rank != 2 || p->nset != 1 || p->rank != 2 || p->set != x->set)
        return hn_error(n->loc, "edge_conv needs per-particle features and points [n, ·] over the same set");
    const hn_attr_val *dims = hn_attr(n, "dims");
    int C = x->dim[1], in = 2 * C;
    for (int i = 0; i < dims->nints; ++i) {
        char conv[32], bn[32];
        snprintf(conv, sizeof conv, "convs.%d", i);
        snprintf(bn, sizeof bn, "bns.%d", i);
        bn_folded_conv(g, n, conv, bn, dims->ints[i], in);
        in = dims->ints[i];
    }
    /* after its batchnorm fold, the first conv is split for the per-point form (templates/c/edgeconv.h) */
    hn_fold split = { .kind = HN_FOLD_EDGE_SPLIT, .w = n->param[0], .b = -1, .out_w = n->param[0], .out_b = -1 };
    hn_graph_add_fold(g, &split);
    if (C != in) bn_folded_conv(g, n, "sc", "sc_bn", in, C);
    *out = *x;
    out->dim[1] = in;
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    const hn_attr_val *dims = hn_attr(n, "dims");
    const hn_shape *x = hn_in_shape(g, n, 0), *p = hn_in_shape(g, n, 1);
    int L = dims->nints, max = x->dim[0], C = x->dim[1], Pd = p->dim[1], cout = dims->ints[L - 1];
    char list[128] = "", wl[512] = "", bl[512] = "";
    for (int i = 0; i < L; ++i) {
        char item[48];
        snprintf(item, sizeof item, "%s%d", i ? ", " : "", dims->ints[i]);
        strcat(list, item);
        snprintf(item, sizeof item, "%sP + %ld", i ? ", " : "", g->params[n->param[6 * i]].offset);
        strcat(wl, item);
        snprintf(item, sizeof item, "%sP + %ld", i ? ", " : "", g->params[n->param[6 * i + 5]].offset);
        strcat(bl, item);
    }
    hn_emit_line(e, 1, "static const int dims[%d] = { %s };", L, list);
    hn_emit_line(e, 1, "const float *const W[%d] = { %s };   /* convolutions, batchnorms folded in */", L, wl);
    hn_emit_line(e, 1, "const float *const B[%d] = { %s };", L, bl);
    if (n->nparam > 6 * L) {
        hn_emit_param_decl(e, "Wsc", n->param[6 * L]);
        hn_emit_param_decl(e, "bsc", n->param[6 * L + 5]);
    } else {
        hn_emit_line(e, 1, "const float *Wsc = NULL, *bsc = NULL;   /* identity shortcut */");
    }
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_k_edgeconv(x0 + (size_t)b * %d, x1 + (size_t)b * %d, %s, %d, %d, %d, %d, dims, W, B, Wsc, bsc, "
                 "y + (size_t)b * %d);", max * C, max * Pd, hn_emit_rows(e, &g->tensors[n->out]), C, Pd,
                 (int)hn_attr_int(n, "k"), L, max * cout);
}

static long macs(const hn_graph *g, const hn_node *n)
{
    const hn_shape *x = hn_in_shape(g, n, 0), *p = hn_in_shape(g, n, 1);
    const hn_attr_val *dims = hn_attr(n, "dims");
    long k = hn_attr_int(n, "k"), per_edge = 0, in = 2L * x->dim[1];
    for (int i = 0; i < dims->nints; ++i) { per_edge += in * dims->ints[i]; in = dims->ints[i]; }
    return x->dim[0] * k * per_edge + (long)x->dim[0] * x->dim[1] * in + (long)x->dim[0] * x->dim[0] * p->dim[1];
}

/* ---- training ----------------------------------------------------------------------------------
 * weaver's training forward (templates/c/backward_edgeconv.h): every slot of the block, padded points'
 * features zero (the mask), batchnorms with batch statistics over all N·max·k edges (BatchNorm2d) and
 * N·max points (the shortcut's BatchNorm1d), padding included. The edges are computed once per distinct
 * value with a multiplicity (real edges; a point's padding neighbours when n ≤ k; the padded points'
 * all-zero edges), packed for the whole batch into one [rows][width] matrix per layer (event b's rows
 * start at off[b]). Raw, unfolded parameters: conv weights, the batchnorms' γ, β and running statistics;
 * never the derived ".bias.folded" (inference only).
 * State per event (floats; rows ≤ R = the most rows an event can have, max·k when max > k):
 *   nb  [max][k] neighbour indices (int)   wt [R] multiplicities   Z_l [R][w_l] every layer's pre-norm
 *   G   [max(R·widest, 2·max·c1)] scratch: U|V per point, the activations, then the gradient rows
 *   Zsc [max][cout] the shortcut convolution before its batchnorm (when there is one)
 * and per batch the batch mean and variance of every batchnorm. The activations A_l = ReLU(BN(Z_l)) are
 * not kept: the backward recomputes them from Z_l (the same expression, bit for bit). The layout
 * (edge_conv_layout.h) is shared with the GPU training step (compiler/emit_cuda_train_edgeconv.c). */
static long ec_row_count(int n, int P, int k)
{
    if (n <= 0) return P > 0 ? 1 : 0;
    int m = n - 1 < k ? n - 1 : k, rpp = m + (n <= k);
    return (long)n * rpp + (n < P);
}

void hn_ec_layout_of(const hn_graph *g, const hn_node *n, ec_layout *L)
{
    const hn_attr_val *dims = hn_attr(n, "dims");
    const hn_shape *x = hn_in_shape(g, n, 0), *p = hn_in_shape(g, n, 1);
    memset(L, 0, sizeof *L);
    L->L = dims->nints;
    L->P = x->dim[0];
    L->C = x->dim[1];
    L->Pd = p->dim[1];
    L->k = (int)hn_attr_int(n, "k");
    L->c1 = dims->ints[0];
    L->cout = dims->ints[L->L - 1];
    L->sc = n->nparam > 6 * L->L;
    L->rows = 0;
    for (int m = 0; m <= L->P; ++m) {
        long r = ec_row_count(m, L->P, L->k);
        if (r > L->rows) L->rows = (int)r;
    }
    long off = 0, fixed = 0, R = L->rows;
    L->nb = off; off += (long)L->P * L->k;
    L->wt = off; off += R;
    for (int l = 0; l < L->L; ++l) {
        L->w[l] = dims->ints[l];
        if (L->w[l] > L->widest) L->widest = L->w[l];
        L->z[l] = off; off += R * L->w[l];
        L->stats[l] = fixed; fixed += 2L * L->w[l];
    }
    long gs = R * L->widest, uv = 2L * L->P * L->c1;
    L->g = off; off += gs > uv ? gs : uv;
    L->zsc = off;
    if (L->sc) { off += (long)L->P * L->cout; L->sc_stats = fixed; fixed += 2L * L->cout; }
    L->per_event = off;
    L->fixed = fixed;
}

static long train_state(const hn_graph *g, const hn_node *n, long *fixed)
{
    ec_layout L;
    hn_ec_layout_of(g, n, &L);
    *fixed = L.fixed;
    return L.per_event;
}

static long poff(const hn_graph *g, const hn_node *n, int k) { return g->params[n->param[k]].offset; }

/* The row offsets of the events, the neighbour indices, the multiplicities and the scratch. */
static void emit_rows(hn_emit *e, const ec_layout *L)
{
    hn_emit_line(e, 1, "size_t off[batch + 1];   /* first edge row of each event */");
    hn_emit_line(e, 1, "off[0] = 0;");
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b) off[b + 1] = off[b] + hn_kt_ec_row_count(n ? n[b] : %d, %d, %d);",
                 L->P, L->P, L->k);
    hn_emit_line(e, 1, "const size_t R = off[batch];");
    hn_emit_line(e, 1, "int *nbr = (int *)(S + (size_t)batch * %ld);   /* [batch][%d][%d] neighbours */", L->nb, L->P, L->k);
    hn_emit_line(e, 1, "float *wt = S + (size_t)batch * %ld;   /* [R] multiplicities */", L->wt);
    hn_emit_line(e, 1, "float *G = S + (size_t)batch * %ld;   /* scratch */", L->g);
    hn_emit_line(e, 1, "(void)nbr; (void)wt; (void)G; (void)R;");
}

/* mu, va: the statistics layer l normalises with (the batch's in training, the running ones in eval). */
static void emit_stats_ptrs(hn_emit *e, const hn_node *n, const ec_layout *L, int l, int indent)
{
    const hn_graph *g = e->g;
    int b = l < L->L ? 6 * l : 6 * L->L;
    long st = l < L->L ? L->stats[l] : L->sc_stats;
    int w = l < L->L ? L->w[l] : L->cout;
    hn_emit_line(e, indent, "const float *mu = cfg->training ? Sf + %ld : P + %ld, *va = cfg->training ? Sf + %ld : P + %ld;",
                 st, poff(g, n, b + 3), st + w, poff(g, n, b + 4));
}

static void emit_train(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    ec_layout L;
    hn_ec_layout_of(g, n, &L);
    emit_rows(e, &L);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {   /* kNN among the real points, as inference */");
    hn_emit_line(e, 2, "const int cnt = n ? n[b] : %d;", L.P);
    hn_emit_line(e, 2, "hn_kt_ec_knn(x1 + (size_t)b * %d, cnt, %d, %d, nbr + (size_t)b * %d);", L.P * L.Pd, L.Pd, L.k,
                 L.P * L.k);
    hn_emit_line(e, 2, "hn_kt_ec_weights(cnt, %d, %d, wt + off[b]);", L.P, L.k);
    hn_emit_line(e, 1, "}");
    long w1 = poff(g, n, 0);
    hn_emit_line(e, 1, "/* the first convolution per point: U = x·Waᵀ | V = x·Wbᵀ, W₁ = [Wa | Wb] (%s, raw) */",
                 g->params[n->param[0]].name);
    hn_emit_line(e, 1, "hn_kt_ec_gemm_nt_par(x0, %d, P + %ld, %d, G, %d, (size_t)batch * %d, %d, %d, 0.0f);", L.C, w1,
                 2 * L.C, 2 * L.c1, L.P, L.c1, L.C);
    hn_emit_line(e, 1, "hn_kt_ec_gemm_nt_par(x0, %d, P + %ld, %d, G + %d, %d, (size_t)batch * %d, %d, %d, 0.0f);", L.C,
                 w1 + L.C, 2 * L.C, L.c1, 2 * L.c1, L.P, L.c1, L.C);
    hn_emit_line(e, 1, "float *Z0 = S + (size_t)batch * %ld;", L.z[0]);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_kt_ec_edges(G + (size_t)b * %d, n ? n[b] : %d, %d, %d, %d, nbr + (size_t)b * %d, Z0 + off[b] * %d);",
                 2 * L.P * L.c1, L.P, L.P, L.k, L.c1, L.P * L.k, L.c1);
    for (int l = 0; l < L.L; ++l) {
        int b = 6 * l, w = L.w[l];
        hn_emit_line(e, 1, "{   /* layer %d: conv, batchnorm %s, ReLU */", l, g->params[n->param[b + 1]].name);
        hn_emit_line(e, 2, "float *Z = S + (size_t)batch * %ld;", L.z[l]);
        if (l)
            hn_emit_line(e, 2, "hn_kt_linear_par(G, (int)R, %d, P + %ld, NULL, %d, HN_ACT_NONE, Z);   /* %s */", L.w[l - 1],
                         poff(g, n, b), w, g->params[n->param[b]].name);
        hn_emit_line(e, 2, "if (cfg->training)");
        hn_emit_line(e, 3, "hn_kt_ec_bn_stats(Z, R, %d, wt, (float)cfg->bn_momentum, Pw + %ld, Pw + %ld, Sf + %ld, Sf + %ld);", w,
                     poff(g, n, b + 3), poff(g, n, b + 4), L.stats[l], L.stats[l] + w);
        emit_stats_ptrs(e, n, &L, l, 2);
        hn_emit_line(e, 2, "hn_kt_ec_bn_relu(Z, R, %d, mu, va, P + %ld, P + %ld, 1e-5f, NULL, G);", w, poff(g, n, b + 1),
                     poff(g, n, b + 2));
        hn_emit_line(e, 1, "}");
    }
    if (L.sc) {
        int b = 6 * L.L;
        hn_emit_line(e, 1, "{   /* shortcut: conv %s on the masked features, batchnorm over every slot */",
                     g->params[n->param[b]].name);
        hn_emit_line(e, 2, "float *Zsc = S + (size_t)batch * %ld;", L.zsc);
        hn_emit_line(e, 2, "hn_kt_linear_par(x0, batch * %d, %d, P + %ld, NULL, %d, HN_ACT_NONE, Zsc);", L.P, L.C, poff(g, n, b),
                     L.cout);
        hn_emit_line(e, 2, "if (n) hn_kt_zero_padding(Zsc, batch, n, %d, %d);", L.P, L.cout);
        hn_emit_line(e, 2, "if (cfg->training)");
        hn_emit_line(e, 3, "hn_kb_batchnorm_train(Zsc, batch * %d, %d, P + %ld, P + %ld, 1e-5f, (float)cfg->bn_momentum, "
                     "Pw + %ld, Pw + %ld, Sf + %ld, Sf + %ld, y);", L.P, L.cout, poff(g, n, b + 1), poff(g, n, b + 2),
                     poff(g, n, b + 3), poff(g, n, b + 4), L.sc_stats, L.sc_stats + L.cout);
        hn_emit_line(e, 2, "else");
        hn_emit_line(e, 3, "hn_k_batchnorm(Zsc, batch * %d, %d, P + %ld, P + %ld, P + %ld, P + %ld, 1e-5f, y);", L.P, L.cout,
                     poff(g, n, b + 3), poff(g, n, b + 4), poff(g, n, b + 1), poff(g, n, b + 2));
        hn_emit_line(e, 1, "}");
    }
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)   /* ReLU(shortcut + mean over the neighbours), masked */");
    char scx[64] = "NULL";
    if (!L.sc) snprintf(scx, sizeof scx, "x0 + (size_t)b * %d", L.P * L.C);
    hn_emit_line(e, 2, "hn_kt_ec_output(G + off[b] * %d, wt + off[b], n ? n[b] : %d, %d, %d, %d, %s, %d, y + (size_t)b * %d);",
                 L.cout, L.P, L.P, L.k, L.cout, scx, L.C, L.P * L.cout);
}

static void emit_backward(hn_emit *e, const hn_node *n)
{
    const hn_graph *g = e->g;
    ec_layout L;
    hn_ec_layout_of(g, n, &L);
    emit_rows(e, &L);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)   /* through the mask, the ReLU and the mean */");
    hn_emit_line(e, 2, "hn_kt_ec_output_backward(y + (size_t)b * %d, dy + (size_t)b * %d, n ? n[b] : %d, %d, %d, %d, "
                 "G + off[b] * %d);", L.P * L.cout, L.P * L.cout, L.P, L.P, L.k, L.cout, L.cout);
    for (int l = L.L - 1; l >= 0; --l) {
        int b = 6 * l, w = L.w[l];
        hn_emit_line(e, 1, "{   /* layer %d backward: G holds dA_%d */", l, l);
        hn_emit_line(e, 2, "float *Z = S + (size_t)batch * %ld;", L.z[l]);
        hn_emit_line(e, 2, "{");
        emit_stats_ptrs(e, n, &L, l, 3);
        hn_emit_line(e, 3, "hn_kt_ec_bn_relu_backward(Z, R, %d, wt, P + %ld, P + %ld, 1e-5f, mu, va, cfg->training, G, Z, "
                     "dP + %ld, dP + %ld);   /* dZ into Z */", w, poff(g, n, b + 1), poff(g, n, b + 2), poff(g, n, b + 1),
                     poff(g, n, b + 2));
        hn_emit_line(e, 2, "}");
        if (l) {
            int pb = 6 * (l - 1), in = L.w[l - 1];
            hn_emit_line(e, 2, "{   /* conv %s: dW += dZᵀ·(w ⊙ A_%d), dA_%d = dZ·W */", g->params[n->param[b]].name, l - 1,
                         l - 1);
            hn_emit_line(e, 3, "const float *Zp = S + (size_t)batch * %ld;", L.z[l - 1]);
            emit_stats_ptrs(e, n, &L, l - 1, 3);
            hn_emit_line(e, 3, "hn_kt_ec_bn_relu(Zp, R, %d, mu, va, P + %ld, P + %ld, 1e-5f, wt, G);", in, poff(g, n, pb + 1),
                         poff(g, n, pb + 2));
            hn_emit_line(e, 3, "hn_kt_ec_gemm_tn_par(Z, %d, G, %d, R, %d, %d, dP + %ld, %d);", w, in, w, in, poff(g, n, b), in);
            hn_emit_line(e, 3, "hn_kt_ec_gemm_nn_par(Z, %d, P + %ld, %d, G, %d, R, %d, %d, 0.0f);", w, poff(g, n, b), in, in, in,
                         w);
            hn_emit_line(e, 2, "}");
        }
        hn_emit_line(e, 1, "}");
    }
    long w1 = poff(g, n, 0);
    hn_emit_line(e, 1, "/* the edge features: D | F per point, then W₁'s gradient and dx */");
    hn_emit_line(e, 1, "const float *dZ0 = S + (size_t)batch * %ld;", L.z[0]);
    hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b)");
    hn_emit_line(e, 2, "hn_kt_ec_edges_backward(dZ0 + off[b] * %d, wt + off[b], n ? n[b] : %d, %d, %d, %d, nbr + (size_t)b * %d, "
                 "G + (size_t)b * %d);", L.c1, L.P, L.P, L.k, L.c1, L.P * L.k, 2 * L.P * L.c1);
    hn_emit_line(e, 1, "hn_kt_ec_gemm_tn_par(G, %d, x0, %d, (size_t)batch * %d, %d, %d, dP + %ld, %d);   /* dWa += Dᵀ·x */",
                 2 * L.c1, L.C, L.P, L.c1, L.C, w1, 2 * L.C);
    hn_emit_line(e, 1, "hn_kt_ec_gemm_tn_par(G + %d, %d, x0, %d, (size_t)batch * %d, %d, %d, dP + %ld, %d);   /* dWb += Fᵀ·x */",
                 L.c1, 2 * L.c1, L.C, L.P, L.c1, L.C, w1 + L.C, 2 * L.C);
    hn_emit_line(e, 1, "if (dx0) {   /* dx = D·Wa + F·Wb (padded rows: D = F = 0) */");
    hn_emit_line(e, 2, "hn_kt_ec_gemm_nn_par(G, %d, P + %ld, %d, dx0, %d, (size_t)batch * %d, %d, %d, 0.0f);", 2 * L.c1, w1,
                 2 * L.C, L.C, L.P, L.C, L.c1);
    hn_emit_line(e, 2, "hn_kt_ec_gemm_nn_par(G + %d, %d, P + %ld, %d, dx0, %d, (size_t)batch * %d, %d, %d, 1.0f);", L.c1,
                 2 * L.c1, w1 + L.C, 2 * L.C, L.C, L.P, L.C, L.c1);
    hn_emit_line(e, 1, "}");
    if (L.sc) {
        int b = 6 * L.L;
        hn_emit_line(e, 1, "{   /* shortcut: batchnorm %s backward over every slot, then conv */", g->params[n->param[b + 1]].name);
        hn_emit_line(e, 2, "const float *Zsc = S + (size_t)batch * %ld;", L.zsc);
        hn_emit_line(e, 2, "if (cfg->training)");
        hn_emit_line(e, 3, "hn_kb_batchnorm_train_backward(Zsc, batch * %d, %d, P + %ld, 1e-5f, Sf + %ld, Sf + %ld, dy, dy, "
                     "dP + %ld, dP + %ld);", L.P, L.cout, poff(g, n, b + 1), L.sc_stats, L.sc_stats + L.cout,
                     poff(g, n, b + 1), poff(g, n, b + 2));
        hn_emit_line(e, 2, "else");
        hn_emit_line(e, 3, "hn_kb_batchnorm(Zsc, batch * %d, %d, P + %ld, P + %ld, P + %ld, 1e-5f, dy, dy, dP + %ld, dP + %ld);",
                     L.P, L.cout, poff(g, n, b + 3), poff(g, n, b + 4), poff(g, n, b + 1), poff(g, n, b + 1),
                     poff(g, n, b + 2));
        hn_emit_line(e, 2, "if (n) hn_kt_zero_padding(dy, batch, n, %d, %d);   /* padded features are constants */", L.P,
                     L.cout);
        hn_emit_line(e, 2, "hn_kt_ec_gemm_tn_par(dy, %d, x0, %d, (size_t)batch * %d, %d, %d, dP + %ld, %d);", L.cout, L.C, L.P,
                     L.cout, L.C, poff(g, n, b), L.C);
        hn_emit_line(e, 2, "if (dx0) hn_kt_ec_gemm_nn_par(dy, %d, P + %ld, %d, dx0, %d, (size_t)batch * %d, %d, %d, 1.0f);",
                     L.cout, poff(g, n, b), L.C, L.C, L.P, L.C, L.cout);
        hn_emit_line(e, 1, "}");
    } else {
        hn_emit_line(e, 1, "if (dx0) hn_kt_ec_add_par(dy, (size_t)batch * %d, dx0);   /* identity shortcut */", L.P * L.C);
    }
}

const hn_op_def hn_op_def_edge_conv = {
    "edge_conv", "ParticleNet EdgeConv: kNN in `points`, edge MLP on [x_i, x_j − x_i], mean over neighbours, shortcut.",
    "<name>.convs.{i}.weight [out, in], <name>.bns.{i}.*, <name>.sc.weight [out, C], <name>.sc_bn.*",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    emit_train, emit_backward, train_state, 0, 1u << 1,
};
