/* emit_cuda_train_edgeconv.c — see emit_cuda_train_edgeconv.h: ParticleNet's EdgeConv in the GPU training step,
 * ops/edge_conv.c's emit_train and emit_backward (templates/c/backward_edgeconv.h) as launches of
 * hepnc/gpu_train_edgeconv.h's kernels, cuBLAS GEMMs (hn_gpu_gemm) and the weighted batchnorm sums, on the
 * C step's node state (ops/edge_conv_layout.h): the neighbours, the multiplicities, every layer's pre-norm
 * rows Z_l, the scratch G and the shortcut's pre-norm Zsc live where the C step keeps them, the batch
 * statistics in its fixed statistics. Per call the events' first rows come from the host copy of the counts
 * (h.counts) into the edge_conv's extra scratch (extra_ws: the offsets and the batchnorms' column sums; it
 * does not outlive the call, so the backward computes its offsets again). */
#include "emit_cuda_train_edgeconv.h"

#include <string.h>

#include "emit.h"
#include "ops.h"
#include "ops/edge_conv_layout.h"

#define EC_MAXK 64              /* HN_GT_EC_MAXK of hepnc/gpu_train_edgeconv.h */
#define CHECK "err, errlen)) goto fail;\n"

int hn_cu_train_edge_conv_supported(const hn_graph *g, const hn_node *n)
{
    ec_layout L;
    hn_ec_layout_of(g, n, &L);
    return L.L >= 1 && L.k >= 1 && L.k <= EC_MAXK && L.P >= 1;
}

static int masked_out(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *t = &g->tensors[n->out];
    return t->shape.nset && g->tensors[g->inputs[t->shape.set]].masked;
}

/* rows per event the scratch's reductions cover (edge rows, or the shortcut's points), and columns */
static int scratch_rows(const ec_layout *L) { return L->rows > L->P ? L->rows : L->P; }
static int scratch_cols(const ec_layout *L) { return L->widest > L->cout ? L->widest : L->cout; }

/* A region of the node state (floats per event at offset off of its layout) as an expression of the step. */
static void st(char *dst, size_t len, const hn_node *n, long off)
{
    snprintf(dst, len, "(state_ws + (size_t)batch * %ldu)", n->state_offset + off);
}

typedef struct ecgen {
    FILE *f;
    const hn_graph *g;
    const hn_node *n;
    ec_layout L;
    char cnt[32], hcnt[40], NB[96], WT[96], G[96], NN[96];
} ecgen;

static long prm(const ecgen *E, int k) { return E->g->params[E->n->param[k]].offset; }
static const char *pname(const ecgen *E, int k) { return E->g->params[E->n->param[k]].name; }

/* The block's prologue: the scratch carved, the events' first rows from the host counts. */
static void prologue(ecgen *E, const char *what)
{
    const ec_layout *L = &E->L;
    fprintf(E->f, "    {   /* %s: the events' edge rows (first row of each from the host counts) */\n"
                  "        int *ec_offs;\n        hn_gt_scratch ec_s;\n        long ec_rows;\n"
                  "        hn_gt_ec_scratch_carve(extra_ws, batch, %d, %d, &ec_offs, &ec_s);\n"
                  "        if (hn_gt_ec_offsets(gpu, %s, batch, %d, %d, h.offs, ec_offs, &ec_rows, " CHECK,
            what, scratch_rows(L), scratch_cols(L), E->hcnt, L->P, L->k);
}

static void forward(ecgen *E, const char *x0, const char *x1, const char *y)
{
    FILE *f = E->f;
    const hn_node *n = E->n;
    const ec_layout *L = &E->L;
    char Z[96];
    prologue(E, "training forward (ops/edge_conv.c emit_train)");
    fprintf(f, "        if (hn_gt_ec_knn(gpu, %s, %s, batch, %d, %d, %d, %s, " CHECK, x1, E->cnt, L->P, L->Pd, L->k, E->NB);
    long w1 = prm(E, 0);
    fprintf(f, "        /* the first convolution per point: U = x·Waᵀ | V = x·Wbᵀ into G, W₁ = [Wa | Wb] (%s) */\n"
               "        if (hn_gpu_gemm(gpu, 0, 1, batch * %d, %d, %d, 1.0f, %s, %d, params + %ld, %d, 0.0f, %s, %d, err, errlen) ||\n"
               "            hn_gpu_gemm(gpu, 0, 1, batch * %d, %d, %d, 1.0f, %s, %d, params + %ld, %d, 0.0f, %s + %d, %d, " CHECK,
            pname(E, 0), L->P, L->c1, L->C, x0, L->C, w1, 2 * L->C, E->G, 2 * L->c1, L->P, L->c1, L->C, x0, L->C, w1 + L->C,
            2 * L->C, E->G, L->c1, 2 * L->c1);
    st(Z, sizeof Z, n, L->z[0]);
    fprintf(f, "        if (hn_gt_ec_rows(gpu, %s, %s, batch, %d, %d, %d, ec_offs, %d, %s, %s, %s, " CHECK, E->G, E->cnt, L->P, L->k,
            L->c1, L->rows, E->NB, Z, E->WT);
    for (int l = 0; l < L->L; ++l) {
        int b = 6 * l, w = L->w[l];
        long sf = n->fixed_offset + L->stats[l];
        st(Z, sizeof Z, n, L->z[l]);
        fprintf(f, "        /* layer %d: conv %s, batchnorm over the weighted rows, ReLU into G */\n", l, pname(E, b));
        if (l)
            fprintf(f, "        if (hn_gt_linear_forward(gpu, %s, ec_rows, %d, params + %ld, NULL, %d, %s, " CHECK, E->G, L->w[l - 1],
                    prm(E, b), w, Z);
        fprintf(f, "        if (hn_gt_ec_bn_stats(gpu, %s, ec_rows, %s, %s, %d, (float)cfg->bn_momentum, params + %ld, params + %ld,\n"
                   "                fixed_ws + %ld, fixed_ws + %ld, &ec_s, " CHECK,
                Z, E->WT, E->NN, w, prm(E, b + 3), prm(E, b + 4), sf, sf + w);
        fprintf(f, "        if (hn_gt_ec_bn_relu(gpu, %s, ec_rows, %d, fixed_ws + %ld, fixed_ws + %ld, params + %ld, params + %ld, 1e-5f, NULL,\n"
                   "                %s, &ec_s, " CHECK,
                Z, w, sf, sf + w, prm(E, b + 1), prm(E, b + 2), E->G);
    }
    if (L->sc) {
        int b = 6 * L->L;
        long sf = n->fixed_offset + L->sc_stats;
        char Zsc[96];
        st(Zsc, sizeof Zsc, n, L->zsc);
        fprintf(f, "        /* shortcut: conv %s on the features, padding rows 0, batchnorm over every slot into y */\n"
                   "        if (hn_gt_linear_forward(gpu, %s, (long)batch * %d, %d, params + %ld, NULL, %d, %s, " CHECK,
                pname(E, b), x0, L->P, L->C, prm(E, b), L->cout, Zsc);
        if (masked_out(E->g, n))
            fprintf(f, "        if (hn_gt_zero_padding(gpu, %s, batch, %s, %d, %d, " CHECK, Zsc, E->cnt, L->P, L->cout);
        fprintf(f, "        if (hn_gt_batchnorm_forward(gpu, %s, (long)batch * %d, %d, params + %ld, params + %ld, 1e-5f, "
                   "(float)cfg->bn_momentum,\n                params + %ld, params + %ld, fixed_ws + %ld, fixed_ws + %ld, %s, &ec_s, " CHECK,
                Zsc, L->P, L->cout, prm(E, b + 1), prm(E, b + 2), prm(E, b + 3), prm(E, b + 4), sf, sf + L->cout, y);
    }
    fprintf(f, "        /* ReLU(shortcut + mean over the neighbours), padded points 0 */\n"
               "        if (hn_gt_ec_output(gpu, %s, %s, %s, batch, %d, %d, %d, ec_offs, %s, %d, %s, " CHECK "    }\n",
            E->G, E->WT, E->cnt, L->P, L->k, L->cout, L->sc ? "NULL" : x0, L->C, y);
}

static void backward(ecgen *E, const char *x0, const char *y, const char *dy, const char *dx0)
{
    FILE *f = E->f;
    const hn_node *n = E->n;
    const ec_layout *L = &E->L;
    int want_dx = strcmp(dx0, "NULL") != 0;
    char Z[96], Zp[96];
    prologue(E, "backward (ops/edge_conv.c emit_backward)");
    fprintf(f, "        /* through the mask, the ReLU and the mean: dy masked in place, G = the last layer's gradient rows */\n"
               "        if (hn_gt_ec_output_backward(gpu, %s, %s, %s, batch, %d, %d, %d, ec_offs, %s, " CHECK,
            y, dy, E->cnt, L->P, L->k, L->cout, E->G);
    for (int l = L->L - 1; l >= 0; --l) {
        int b = 6 * l, w = L->w[l];
        long sf = n->fixed_offset + L->stats[l];
        st(Z, sizeof Z, n, L->z[l]);
        fprintf(f, "        /* layer %d backward (G holds dA_%d): ReLU and batchnorm %s, dZ into Z */\n"
                   "        if (hn_gt_ec_bn_relu_backward(gpu, %s, ec_rows, %s, %s, %d, params + %ld, params + %ld, 1e-5f, fixed_ws + %ld,\n"
                   "                fixed_ws + %ld, %s, %s, grads + %ld, grads + %ld, &ec_s, " CHECK,
                l, l, pname(E, b + 1), Z, E->WT, E->NN, w, prm(E, b + 1), prm(E, b + 2), sf, sf + w, E->G, Z, prm(E, b + 1),
                prm(E, b + 2));
        if (l) {
            int in = L->w[l - 1], pb = 6 * (l - 1);
            long psf = n->fixed_offset + L->stats[l - 1];
            st(Zp, sizeof Zp, n, L->z[l - 1]);
            fprintf(f, "        /* conv %s: dW += dZᵀ·(w ⊙ A_%d) (A_%d recomputed from Z_%d), dA_%d = dZ·W */\n"
                       "        if (hn_gt_ec_bn_relu(gpu, %s, ec_rows, %d, fixed_ws + %ld, fixed_ws + %ld, params + %ld, params + %ld, 1e-5f, %s,\n"
                       "                %s, &ec_s, err, errlen) ||\n"
                       "            hn_gpu_gemm(gpu, 1, 0, %d, %d, (int)ec_rows, 1.0f, %s, %d, %s, %d, 1.0f, grads + %ld, %d, err, errlen) ||\n"
                       "            hn_gpu_gemm(gpu, 0, 0, (int)ec_rows, %d, %d, 1.0f, %s, %d, params + %ld, %d, 0.0f, %s, %d, " CHECK,
                    pname(E, b), l - 1, l - 1, l - 1, l - 1, Zp, in, psf, psf + in, prm(E, pb + 1), prm(E, pb + 2), E->WT, E->G,
                    w, in, Z, w, E->G, in, prm(E, b), in, in, w, Z, w, prm(E, b), in, E->G, in);
        }
    }
    long w1 = prm(E, 0);
    st(Z, sizeof Z, n, L->z[0]);
    fprintf(f, "        /* the edge rows back to the points: D | F per point into G, then W₁'s gradient */\n"
               "        if (hn_gt_ec_edges_backward(gpu, %s, %s, %s, batch, %d, %d, %d, ec_offs, %s, &ec_s, %s, " CHECK,
            Z, E->WT, E->cnt, L->P, L->k, L->c1, E->NB, E->G);
    fprintf(f, "        if (hn_gpu_gemm(gpu, 1, 0, %d, %d, batch * %d, 1.0f, %s, %d, %s, %d, 1.0f, grads + %ld, %d, err, errlen) ||   /* dWa += Dᵀ·x */\n"
               "            hn_gpu_gemm(gpu, 1, 0, %d, %d, batch * %d, 1.0f, %s + %d, %d, %s, %d, 1.0f, grads + %ld, %d, " CHECK,
            L->c1, L->C, L->P, E->G, 2 * L->c1, x0, L->C, w1, 2 * L->C, L->c1, L->C, L->P, E->G, L->c1, 2 * L->c1, x0, L->C,
            w1 + L->C, 2 * L->C);
    if (want_dx)
        fprintf(f, "        /* dx = D·Wa + F·Wb (padded points: D = F = 0) */\n"
                   "        if (hn_gpu_gemm(gpu, 0, 0, batch * %d, %d, %d, 1.0f, %s, %d, params + %ld, %d, 0.0f, %s, %d, err, errlen) ||\n"
                   "            hn_gpu_gemm(gpu, 0, 0, batch * %d, %d, %d, 1.0f, %s + %d, %d, params + %ld, %d, 1.0f, %s, %d, " CHECK,
                L->P, L->C, L->c1, E->G, 2 * L->c1, w1, 2 * L->C, dx0, L->C, L->P, L->C, L->c1, E->G, L->c1, 2 * L->c1,
                w1 + L->C, 2 * L->C, dx0, L->C);
    if (L->sc) {
        int b = 6 * L->L;
        long sf = n->fixed_offset + L->sc_stats;
        char Zsc[96];
        st(Zsc, sizeof Zsc, n, L->zsc);
        fprintf(f, "        /* shortcut: batchnorm %s backward over every slot (into dy), then conv %s */\n"
                   "        if (hn_gt_batchnorm_backward(gpu, %s, (long)batch * %d, %d, params + %ld, 1e-5f, fixed_ws + %ld, fixed_ws + %ld, %s, %s,\n"
                   "                grads + %ld, grads + %ld, &ec_s, " CHECK,
                pname(E, b + 1), pname(E, b), Zsc, L->P, L->cout, prm(E, b + 1), sf, sf + L->cout, dy, dy, prm(E, b + 1),
                prm(E, b + 2));
        if (masked_out(E->g, n))
            fprintf(f, "        if (hn_gt_zero_padding(gpu, %s, batch, %s, %d, %d, " CHECK, dy, E->cnt, L->P, L->cout);
        fprintf(f, "        if (hn_gpu_gemm(gpu, 1, 0, %d, %d, batch * %d, 1.0f, %s, %d, %s, %d, 1.0f, grads + %ld, %d, " CHECK, L->cout,
                L->C, L->P, dy, L->cout, x0, L->C, prm(E, b), L->C);
        if (want_dx)
            fprintf(f, "        if (hn_gpu_gemm(gpu, 0, 0, batch * %d, %d, %d, 1.0f, %s, %d, params + %ld, %d, 1.0f, %s, %d, " CHECK, L->P,
                    L->C, L->cout, dy, L->cout, prm(E, b), L->C, dx0, L->C);
    } else if (want_dx) {
        fprintf(f, "        if (hn_gt_accumulate(gpu, %s, (long)batch * %d, %s, " CHECK, dy, L->P * L->C, dx0);
    }
    fprintf(f, "    }\n");
}

void hn_cu_train_edge_conv(FILE *f, const hn_graph *g, const hn_node *n, int backward_pass, const char *x0, const char *x1,
                           const char *y, const char *dy, const char *dx0)
{
    ecgen E = { .f = f, .g = g, .n = n };
    hn_ec_layout_of(g, n, &E.L);
    const ec_layout *L = &E.L;
    int set = g->tensors[n->out].shape.set;
    if (masked_out(g, n)) {
        snprintf(E.cnt, sizeof E.cnt, "counts[%d]", set);
        snprintf(E.hcnt, sizeof E.hcnt, "h.counts[%d]", set);
    } else {
        snprintf(E.cnt, sizeof E.cnt, "NULL");
        snprintf(E.hcnt, sizeof E.hcnt, "NULL");
    }
    snprintf(E.NB, sizeof E.NB, "(int *)(state_ws + (size_t)batch * %ldu)", n->state_offset + L->nb);
    st(E.WT, sizeof E.WT, n, L->wt);
    st(E.G, sizeof E.G, n, L->g);
    snprintf(E.NN, sizeof E.NN, "(double)batch * %d", L->P * L->k);   /* the statistics' rows: every slot's k edges */
    if (!backward_pass) forward(&E, x0, x1, y);
    else backward(&E, x0, y, dy, dx0);
}

void hn_cu_train_edge_conv_extra(FILE *f, const hn_graph *g, const hn_node *n)
{
    ec_layout L;
    hn_ec_layout_of(g, n, &L);
    fprintf(f, "hn_gt_ec_scratch_bytes(batch, %d, %d)", scratch_rows(&L), scratch_cols(&L));
}
