/* emit_cuda.c — the CUDA target: NAME.cu with the device kernels of every node, each an extern "C"
 * __global__ wrapper named after the node around a body of templates/cuda/ (its .cuh files in order) with the node's
 * shapes as constants (and the extra kernels of the cuBLAS paths: a linear layer's epilogue, class
 * attention's GEMM form), then every file of the target written atomically; the host side is
 * compiler/emit_cuda_host.c. The same IR as the C target; ops without a CUDA body are refused with a
 * message naming the layer. NVRTC compiles NAME.cu (hepnc compile validates it for sm_80 and sm_90). */
#include "emit_cuda.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "emit_c.h"
#include "cuda_aot.h"
#include "emit_cuda_internal.h"
#include "fsutil.h"
#include "ops.h"

extern const char hn_cuda_kernels_text[];

static void threads(cu_ctx *c, long per_event, int block) { c->geom = 0; c->per_event = per_event; c->block = block; }

static void line(cu_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(cu_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("    ", c->f);
    vfprintf(c->f, fmt, ap);
    va_end(ap);
    fputc('\n', c->f);
}

static const hn_tensor *out_t(const cu_ctx *c) { return &c->g->tensors[c->n->out]; }
static const hn_tensor *in_t(const cu_ctx *c, int k) { return &c->g->tensors[c->n->in[k]]; }
static long P(const cu_ctx *c, int k) { return c->g->params[c->n->param[k]].offset; }
long hn_cu_rows_of(const hn_tensor *t) { return hn_shape_elems(&t->shape) / hn_last_dim(&t->shape); }
long hn_cu_per_row_of(const hn_tensor *t) { return t->shape.nset ? hn_cu_rows_of(t) / t->shape.dim[0] : hn_cu_rows_of(t); }
static long rows_of(const hn_tensor *t) { return hn_cu_rows_of(t); }
static long per_row_of(const hn_tensor *t) { return hn_cu_per_row_of(t); }
/* "n" where the tensor's rows are those of a masked set (the kernel reads counts), else "0" */
static const char *counts(const cu_ctx *c, const hn_tensor *t)
{
    return t->shape.nset && c->g->tensors[c->g->inputs[t->shape.set]].masked ? "n" : "0";
}

static int cu_linear(cu_ctx *c)
{
    const hn_tensor *o = out_t(c), *x = in_t(c, 0);
    char bias[32] = "0";
    if (c->n->nparam > 1) snprintf(bias, sizeof bias, "P + %ld", P(c, 1));
    line(c, "hn_cu_linear(x0, %s, batch, %ld, %ld, %d, P + %ld, %s, %d, %d, y);", counts(c, o), rows_of(o),
         per_row_of(o), hn_last_dim(&x->shape), P(c, 0), bias, hn_last_dim(&o->shape), c->n->act);
    threads(c, rows_of(o) * hn_last_dim(&o->shape), 256);
    return 0;
}

static int cu_layernorm(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    char eps[48];
    line(c, "hn_cu_layernorm(x0, %s, batch, %ld, %ld, %d, P + %ld, P + %ld, %s, y);", counts(c, o), rows_of(o),
         per_row_of(o), hn_last_dim(&o->shape), P(c, 0), P(c, 1), hn_c_float((float)hn_attr_float(c->n, "eps"), eps));
    threads(c, rows_of(o) * 32, 256);
    return 0;
}

static int cu_softmax(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    line(c, "hn_cu_softmax(x0, batch * %ld, %d, y);", rows_of(o), hn_last_dim(&o->shape));
    threads(c, rows_of(o) * 32, 256);
    return 0;
}

/* kind as hn_cu_rowwise: 0 batchnorm, 1 activation, 2 add, 3 standardize (constant arrays), 4 residual */
static int cu_rowwise(cu_ctx *c, int kind, int act)
{
    const hn_tensor *o = out_t(c);
    char p[4][64] = { "0", "0", "0", "0" };
    if (kind == 0) for (int k = 0; k < 4; ++k) snprintf(p[k], 64, "P + %ld", P(c, (k + 2) % 4));  /* mean var g b */
    if (kind == 4) snprintf(p[0], 64, "P + %ld", P(c, 0));
    if (kind == 3) {
        static const char *const keys[4] = { "center", "scale", "min", "max" };
        for (int k = 0; k < 4; ++k) {
            const hn_attr_val *v = hn_attr(c->n, keys[k]);
            fprintf(c->f, "    const float %s_[%d] = {", keys[k], v->nfloats);
            for (int i = 0; i < v->nfloats; ++i) {
                char lit[48];
                fprintf(c->f, "%s%s", i ? ", " : " ", hn_c_float(v->floats[i], lit));
            }
            fprintf(c->f, " };\n");
            snprintf(p[k], 64, "%s_", keys[k]);
        }
    }
    char eps[48];
    hn_c_float(kind == 0 ? (float)hn_attr_float(c->n, "eps") : 0.0f, eps);
    line(c, "hn_cu_rowwise(%d, x0, %s, %s, batch, %ld, %ld, %d, %s, %s, %s, %s, %s, %d, y);", kind,
         c->n->nin > 1 ? "x1" : "0", counts(c, o), rows_of(o), per_row_of(o), hn_last_dim(&o->shape), p[0], p[1], p[2],
         p[3], eps, act);
    threads(c, hn_shape_elems(&o->shape), 256);
    return 0;
}

static int cu_columns(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    int width = hn_last_dim(&o->shape), col = 0;
    if (c->n->op == HN_OP_slice) {
        const hn_attr_val *cols = hn_attr(c->n, "range");
        fprintf(c->f, "    const int cols[%d] = {", cols->nints);
        for (int i = 0; i < cols->nints; ++i) fprintf(c->f, "%s%d", i ? ", " : " ", cols->ints[i]);
        fprintf(c->f, " };\n");
        line(c, "hn_cu_columns(x0, %s, batch, %ld, %ld, %d, 0, cols, %d, y, %d, 0);", counts(c, o), rows_of(o),
             per_row_of(o), hn_last_dim(&in_t(c, 0)->shape), cols->nints, width);
    } else if (c->n->op == HN_OP_flatten) {
        long e = hn_shape_elems(&o->shape);
        line(c, "hn_cu_columns(x0, 0, batch, 1, 1, %ld, 0, 0, %ld, y, %ld, 0);", e, e, e);
    } else {
        for (int k = 0; k < c->n->nin; ++k) {
            int w = hn_last_dim(&in_t(c, k)->shape);
            line(c, "hn_cu_columns(x%d, %s, batch, %ld, %ld, %d, 0, 0, %d, y, %d, %d);", k, counts(c, o), rows_of(o),
                 per_row_of(o), w, w, width, col);
            col += w;
        }
    }
    threads(c, hn_shape_elems(&o->shape), 256);
    return 0;
}

static int cu_pool(cu_ctx *c)
{
    const hn_tensor *x = in_t(c, 0);
    const char *mode = hn_attr_str(c->n, "mode");
    line(c, "hn_cu_pool(x0, %s, batch, %d, %d, %d, y);", counts(c, x), x->shape.dim[0], hn_last_dim(&x->shape),
         !strcmp(mode, "sum") ? 0 : !strcmp(mode, "mean") ? 1 : 2);
    threads(c, hn_last_dim(&x->shape), 256);
    return 0;
}

static int cu_attention(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    int heads = (int)hn_attr_int(c->n, "heads"), D = o->shape.dim[1], max = o->shape.dim[0];
    if (D / heads > 64) return hn_error(c->n->loc, "CUDA attention supports head widths up to 64 (got %d)", D / heads);
    line(c, "hn_cu_attention<%d>(x0, %s, %d, %d, %s, y);", D / heads, counts(c, o), max, heads, c->n->nin > 1 ? "x1" : "0");
    c->geom = 4, c->per_event = (long)heads * ((max + 63) / 64), c->block = 64;   /* HN_ATT_QUERIES */
    return 0;
}

int hn_pair_feature_selection(const hn_node *n, int *sel);

/* W<suffix>[] and B<suffix>[]: the conv weights and folded biases of one pair MLP from param[first]. */
static void emit_pair_mlp(cu_ctx *c, const char *suffix, int first, int layers)
{
    fprintf(c->f, "    const float *const W%s[%d] = {", suffix, layers);
    for (int k = 0; k < layers; ++k) fprintf(c->f, "%sP + %ld", k ? ", " : " ", P(c, first + 4 + 6 * k));
    fprintf(c->f, " };\n    const float *const B%s[%d] = {", suffix, layers);
    for (int k = 0; k < layers; ++k) fprintf(c->f, "%sP + %ld", k ? ", " : " ", P(c, first + 5 + 6 * k));
    fprintf(c->f, " };\n");
}

static int cu_pair_embed(cu_ctx *c)
{
    const hn_graph *g = c->g;
    const hn_attr_val *dims = hn_attr(c->n, "dims");
    int layers = dims->nints + 1, heads = (int)hn_attr_int(c->n, "heads"), max = out_t(c)->shape.dim[0];
    int fused = c->n->fused_from >= 0, sel[8] = { 0 };
    int nfeat = fused ? hn_pair_feature_selection(&g->nodes[c->n->fused_from], sel) : in_t(c, 0)->shape.dim[2];
    for (int k = 0; k < dims->nints; ++k)
        if (dims->ints[k] > 64) return hn_error(c->n->loc, "CUDA pair_embed supports widths up to 64");
    fprintf(c->f, "    const int dims[%d] = { %d", layers + 1, nfeat);
    for (int k = 0; k < layers; ++k) fprintf(c->f, ", %d", k < dims->nints ? dims->ints[k] : heads);
    fprintf(c->f, " };\n    const int sel[8] = {");
    for (int k = 0; k < 8; ++k) fprintf(c->f, "%s%d", k ? ", " : " ", sel[k]);
    fprintf(c->f, " };\n");
    emit_pair_mlp(c, "", 0, layers);
    int extra = c->n->nin > 1;
    if (extra) {
        fprintf(c->f, "    const int dims2[%d] = { %d", layers + 1, in_t(c, 1)->shape.dim[2]);
        for (int k = 0; k < layers; ++k) fprintf(c->f, ", %d", k < dims->nints ? dims->ints[k] : heads);
        fprintf(c->f, " };\n");
        emit_pair_mlp(c, "2", 4 + 6 * layers, layers);
    }
    int o2 = 4 + 6 * layers;
    if (extra)
        line(c, "hn_cu_pair_embed(%s, %s, n, %d, %d, sel, P + %ld, P + %ld, P + %ld, P + %ld, %d, dims, W, B, y, x1, "
             "P + %ld, P + %ld, P + %ld, P + %ld, dims2, W2, B2);", fused ? "x0" : "0", fused ? "0" : "x0", max, nfeat,
             P(c, 2), P(c, 3), P(c, 0), P(c, 1), layers, P(c, o2 + 2), P(c, o2 + 3), P(c, o2), P(c, o2 + 1));
    else
        line(c, "hn_cu_pair_embed(%s, %s, n, %d, %d, sel, P + %ld, P + %ld, P + %ld, P + %ld, %d, dims, W, B, y, "
             "0, 0, 0, 0, 0, 0, 0, 0);", fused ? "x0" : "0", fused ? "0" : "x0", max, nfeat, P(c, 2), P(c, 3), P(c, 0),
             P(c, 1), layers);
    c->uu_pairs = extra;
    c->geom = 1, c->per_event = max, c->block = 64;
    return 0;
}

static int cu_class_token(cu_ctx *c)
{
    int d = (int)hn_attr_int(c->n, "dim");
    line(c, "hn_cu_columns(P + %ld, 0, batch, 1, 1, 0, 0, 0, %d, y, %d, 0);", P(c, 0), d, d);
    threads(c, d, 256);
    return 0;
}

static int cu_cls_attention(cu_ctx *c)
{
    const hn_tensor *x = in_t(c, 1);
    int D = x->shape.dim[1], heads = (int)hn_attr_int(c->n, "heads");
    if (D > 1024 || (D / heads) > 32 || ((D / heads) & (D / heads - 1)))
        return hn_error(c->n->loc, "CUDA class attention needs D <= 1024 and a power-of-two head width <= 32");
    line(c, "hn_cu_class_attention(x0, x1, %s, %d, %d, %d, P + %ld, P + %ld, P + %ld, P + %ld, y);", counts(c, x),
         x->shape.dim[0], D, heads, P(c, 2), P(c, 3), P(c, 0), P(c, 1));
    c->geom = 2, c->block = D, c->shared = (D + D / 32 + 1) * 4;
    return 0;
}

static int cu_edge_conv(cu_ctx *c)
{
    const hn_attr_val *dims = hn_attr(c->n, "dims");
    const hn_shape *x = &in_t(c, 0)->shape, *p = &in_t(c, 1)->shape;
    int L = dims->nints, k = (int)hn_attr_int(c->n, "k"), widest = 0;
    for (int i = 0; i < L; ++i) widest = dims->ints[i] > widest ? dims->ints[i] : widest;
    if (k > 16 || widest > 256 || x->dim[0] > 512)
        return hn_error(c->n->loc, "CUDA edge_conv supports k <= 16, widths <= 256 and at most 512 particles");
    fprintf(c->f, "    const int dims[%d] = {", L);
    for (int i = 0; i < L; ++i) fprintf(c->f, "%s%d", i ? ", " : " ", dims->ints[i]);
    fprintf(c->f, " };\n    const float *const W[%d] = {", L);
    for (int i = 0; i < L; ++i) fprintf(c->f, "%sP + %ld", i ? ", " : " ", P(c, 6 * i));
    fprintf(c->f, " };\n    const float *const B[%d] = {", L);
    for (int i = 0; i < L; ++i) fprintf(c->f, "%sP + %ld", i ? ", " : " ", P(c, 6 * i + 5));
    fprintf(c->f, " };\n");
    char wsc[32] = "0", bsc[32] = "0";
    if (c->n->nparam > 6 * L) {
        snprintf(wsc, sizeof wsc, "P + %ld", P(c, 6 * L));
        snprintf(bsc, sizeof bsc, "P + %ld", P(c, 6 * L + 5));
    }
    line(c, "hn_cu_edgeconv(x0, x1, %s, %d, %d, %d, %d, %d, dims, W, B, %s, %s, y);", counts(c, out_t(c)), x->dim[0],
         x->dim[1], p->dim[1], k, L, wsc, bsc);
    c->geom = 3, c->per_event = x->dim[0], c->block = widest < 32 ? 32 : widest;
    return 0;
}

/* Pair features that no pair_embed fuses: one thread per slot pair. */
static int cu_pair_features(cu_ctx *c)
{
    int sel[8], count = hn_pair_feature_selection(c->n, sel), packed = 0, max = out_t(c)->shape.dim[0];
    for (int k = 0; k < count; ++k) packed |= sel[k] << (2 * k);
    line(c, "hn_cu_pair_features(x0, %s, batch, %d, %d, %d, y);", counts(c, out_t(c)), max, packed, count);
    threads(c, (long)max * max, 256);
    return 0;
}

/* The SM interaction matrix: one thread per slot pair (padding pairs written 0, so training reuses it). */
static int cu_sm_interaction(cu_ctx *c)
{
    int flags[7], mode, max = out_t(c)->shape.dim[0];
    double k[4];
    if (hn_sm_interaction_params(c->g, c->n, flags, &mode, k)) return -1;
    line(c, "const int flags[7] = { %d, %d, %d, %d, %d, %d, %d };   /* j b e- e+ mu- mu+ photon */", flags[0], flags[1], flags[2],
         flags[3], flags[4], flags[5], flags[6]);
    char lit[4][48];
    line(c, "const double c[4] = { %s, %s, %s, %s };   /* alpha_s alpha mu0 g_z */", hn_c_double(k[0], lit[0]),
         hn_c_double(k[1], lit[1]), hn_c_double(k[2], lit[2]), hn_c_double(k[3], lit[3]));
    line(c, "hn_cu_sm_interaction(x0, %d, flags, x1, %s, batch, %d, %d, c, y);", hn_last_dim(&in_t(c, 0)->shape),
         counts(c, out_t(c)), max, mode);
    threads(c, (long)max * max, 256);
    return 0;
}

/* RMSNorm: a warp per row, as LayerNorm. */
static int cu_rmsnorm(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    char eps[48];
    line(c, "hn_cu_rmsnorm(x0, %s, batch, %ld, %ld, %d, P + %ld, %s, y);", counts(c, o), rows_of(o), per_row_of(o),
         hn_last_dim(&o->shape), P(c, 0), hn_c_float((float)hn_attr_float(c->n, "eps"), eps));
    threads(c, rows_of(o) * 32, 256);
    return 0;
}

/* The mean of each row's features: a thread per row. */
static int cu_feature_mean(cu_ctx *c)
{
    const hn_tensor *o = out_t(c), *x = in_t(c, 0);
    line(c, "hn_cu_feature_mean(x0, %s, batch, %ld, %ld, %d, y);", counts(c, o), rows_of(o), per_row_of(o),
         hn_last_dim(&x->shape));
    threads(c, rows_of(o), 256);
    return 0;
}

/* IAFormer's pair features: a block per event (the particles' kinematics in dynamic shared memory). */
static int cu_iaformer_pair_features(cu_ctx *c)
{
    int max = out_t(c)->shape.dim[0];
    line(c, "(void)batch;");
    line(c, "hn_cu_ia_pair_features(x0, %s, %d, y);", counts(c, out_t(c)), max);
    c->geom = 2, c->block = 256, c->shared = (4 * max + 2) * 4;
    return 0;
}

/* IAFormer's interaction embedding and every layer's logits: blocks of HN_CU_IA_THREADS threads, a tile of
 * HN_CU_IA_TILE (16) unordered pairs each, per event. */
static int cu_interaction_logits(cu_ctx *c)
{
    const hn_attr_val *dims = hn_attr(c->n, "dims"), *outs = hn_attr(c->n, "outputs");
    int nfeat = in_t(c, 0)->shape.dim[2], max = out_t(c)->shape.dim[0], layers = dims->nints, nproj = outs->nints;
    int widest = nfeat, total = 0;
    for (int k = 0; k < layers; ++k) widest = dims->ints[k] > widest ? dims->ints[k] : widest;
    for (int p = 0; p < nproj; ++p) total += outs->ints[p];
    if (widest > 256 || total > 256)
        return hn_error(c->n->loc, "CUDA interaction_logits supports widths and a total of logit maps up to 256 (got %d and %d)",
                        widest, total);
    fprintf(c->f, "    const int dims[%d] = { %d", layers + 1, nfeat);
    for (int k = 0; k < layers; ++k) fprintf(c->f, ", %d", dims->ints[k]);
    fprintf(c->f, " };\n    const float *const W[%d] = {", layers);
    for (int k = 0; k < layers; ++k) fprintf(c->f, "%sP + %ld", k ? ", " : " ", P(c, 2 * k));
    fprintf(c->f, " };\n    const float *const B[%d] = {", layers);
    for (int k = 0; k < layers; ++k) fprintf(c->f, "%sP + %ld", k ? ", " : " ", P(c, 2 * k + 1));
    fprintf(c->f, " };\n    const int nout[%d] = {", nproj);
    for (int p = 0; p < nproj; ++p) fprintf(c->f, "%s%d", p ? ", " : " ", outs->ints[p]);
    fprintf(c->f, " };   /* each attention layer's logit maps */\n    const float *const Wp[%d] = {", nproj);
    for (int p = 0; p < nproj; ++p) fprintf(c->f, "%sP + %ld", p ? ", " : " ", P(c, 2 * (layers + p)));
    fprintf(c->f, " };\n    const float *const Bp[%d] = {", nproj);
    for (int p = 0; p < nproj; ++p) fprintf(c->f, "%sP + %ld", p ? ", " : " ", P(c, 2 * (layers + p) + 1));
    fprintf(c->f, " };\n");
    line(c, "(void)batch;");
    line(c, "hn_cu_interaction_logits(x0, %s, %d, %d, %d, dims, W, B, %d, nout, Wp, Bp, y);", counts(c, out_t(c)), max, nfeat,
         layers, nproj);
    c->geom = 4, c->per_event = ((long)max * (max + 1) / 2 + 15) / 16, c->block = 256;   /* HN_CU_IA_TILE, _THREADS */
    return 0;
}

/* IAFormer's differential attention: a warp per query and head, four per block (HN_CU_DA_WARPS). */
static int cu_differential_attention(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    const hn_shape *L = &in_t(c, 1)->shape;
    int heads = (int)hn_attr_int(c->n, "heads"), layer = (int)hn_attr_int(c->n, "layer"), max = o->shape.dim[0];
    int dv = o->shape.dim[1] / heads;
    if (dv > 64 || max > 512)
        return hn_error(c->n->loc, "CUDA differential_attention supports head widths up to 64 and 512 slots (got %d and %d)", dv,
                        max);
    line(c, "(void)batch;");
    line(c, "hn_cu_diff_attention<%d>(x0, %s, %d, %d, x1 + (long)%d * %d * %d, %ld, P + %ld, P + %ld, %ld, %ld, y);", dv,
         counts(c, o), max, heads, 2 * heads * layer, max, max, hn_shape_elems(L), P(c, 0), P(c, 1),
         (long)hn_attr_int(c->n, "lambda_len"), (long)hn_attr_int(c->n, "depth"));
    c->geom = 4, c->per_event = (long)heads * ((max + 3) / 4), c->block = 128;
    return 0;
}

int hn_cuda_op_supported(int op)
{
    switch (op) {
    case HN_OP_linear: case HN_OP_layernorm: case HN_OP_softmax: case HN_OP_batchnorm: case HN_OP_relu: case HN_OP_gelu:
    case HN_OP_add: case HN_OP_standardize: case HN_OP_residual: case HN_OP_concat: case HN_OP_slice: case HN_OP_flatten:
    case HN_OP_pool: case HN_OP_attention: case HN_OP_pair_embed: case HN_OP_sm_interaction: case HN_OP_pair_features:
    case HN_OP_class_token: case HN_OP_cls_attention: case HN_OP_edge_conv: case HN_OP_sigmoid: case HN_OP_rmsnorm:
    case HN_OP_feature_mean: case HN_OP_iaformer_pair_features: case HN_OP_interaction_logits: case HN_OP_differential_attention:
        return 1;
    default:
        return 0;
    }
}

static int emit_node(cu_ctx *c)
{
    if (!hn_cuda_op_supported(c->n->op))
        return hn_error(c->n->loc, "layer '%s': op %s has no CUDA kernel yet (the C target supports it)",
                        c->n->layer[0] ? c->n->layer : c->n->name, hn_op(c->n->op)->name);
    switch (c->n->op) {
    case HN_OP_linear: return cu_linear(c);
    case HN_OP_layernorm: return cu_layernorm(c);
    case HN_OP_softmax: return cu_softmax(c);
    case HN_OP_batchnorm: return cu_rowwise(c, 0, 0);
    case HN_OP_relu: return cu_rowwise(c, 1, 1);
    case HN_OP_gelu: return cu_rowwise(c, 1, 2);
    case HN_OP_add: return cu_rowwise(c, 2, 0);
    case HN_OP_standardize: return cu_rowwise(c, 3, 0);
    case HN_OP_residual: return cu_rowwise(c, 4, 0);
    case HN_OP_concat: case HN_OP_slice: case HN_OP_flatten: return cu_columns(c);
    case HN_OP_pool: return cu_pool(c);
    case HN_OP_attention: return cu_attention(c);
    case HN_OP_pair_embed: return cu_pair_embed(c);
    case HN_OP_sm_interaction: return cu_sm_interaction(c);
    case HN_OP_pair_features: return cu_pair_features(c);
    case HN_OP_class_token: return cu_class_token(c);
    case HN_OP_cls_attention: return cu_cls_attention(c);
    case HN_OP_edge_conv: return cu_edge_conv(c);
    case HN_OP_sigmoid: return cu_rowwise(c, 1, 3);    /* HN_CU_ACT_SIGMOID */
    case HN_OP_rmsnorm: return cu_rmsnorm(c);
    case HN_OP_feature_mean: return cu_feature_mean(c);
    case HN_OP_iaformer_pair_features: return cu_iaformer_pair_features(c);
    case HN_OP_interaction_logits: return cu_interaction_logits(c);
    case HN_OP_differential_attention: return cu_differential_attention(c);
    default: return -1;                 /* hn_cuda_op_supported lists the cases above */
    }
}

int hn_cu_emit_node_kernel(FILE *f, const hn_graph *g, const hn_node *n, cu_ctx *c)
{
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, n->name);
    fprintf(f, "/* %s — layer '%s' (%s) */\nextern \"C\" __global__ void %s_%s(const float *P, int batch, const int *n",
            n->name, n->layer[0] ? n->layer : n->name, hn_op(n->op)->name, g->name, id);
    for (int k = 0; k < n->nin; ++k) fprintf(f, ", const float *x%d", k);
    fprintf(f, ", float *y)\n{\n");
    *c = (cu_ctx){ .f = f, .g = g, .n = n };
    int rc = emit_node(c);
    fprintf(f, "}\n\n");
    return rc;
}

/* Linear layers run as a cuBLAS GEMM (when the runtime finds cuBLAS) followed by this kernel, bias and
 * activation in place over the real rows; NAME_<node> (hn_cu_linear) is the fallback. */
int hn_cu_linear_has_epilogue(const hn_node *n) { return n->nparam > 1 || n->act; }

static void emit_linear_epilogue(FILE *f, const hn_graph *g, const hn_node *n)
{
    if (!hn_cu_linear_has_epilogue(n)) return;
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, n->name);
    const hn_tensor *o = &g->tensors[n->out];
    fprintf(f, "/* %s — bias and activation after the GEMM */\nextern \"C\" __global__ void %s_%s_epilogue(const float *P, int batch, "
               "const int *n, const float *x0, float *y)\n{\n", n->name, g->name, id);
    char bias[32] = "0";
    if (n->nparam > 1) snprintf(bias, sizeof bias, "P + %ld", g->params[n->param[1]].offset);
    cu_ctx c = { .f = f, .g = g, .n = n };
    fprintf(f, "    (void)x0;\n    hn_cu_bias_act(y, %s, batch, %ld, %ld, %d, %s, %d);\n}\n\n", counts(&c, o), rows_of(o),
            per_row_of(o), hn_last_dim(&o->shape), bias, n->act);
}

void hn_cu_emit_cls_gemm_kernels(FILE *f, const hn_graph *g, const hn_node *n)
{
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, n->name);
    const hn_tensor *x = &g->tensors[n->in[1]];
    int max = x->shape.dim[0], D = x->shape.dim[1], heads = (int)hn_attr_int(n, "heads");
    cu_ctx c = { .f = f, .g = g, .n = n };
    const char *cnt = counts(&c, x);
    long lg = g->params[n->param[0]].offset, lb = g->params[n->param[1]].offset, bias = g->params[n->param[3]].offset;
    fprintf(f, "/* %s — keys' LayerNorm into the scratch (GEMM form) */\nextern \"C\" __global__ void %s_%s_keys(const float *P, "
               "int batch, const int *n, const float *x0, const float *x1, float *y, float *s)\n{\n    (void)y;\n"
               "    hn_cu_cls_keys_ln(x0, x1, %s, batch, %d, %d, P + %ld, P + %ld, s);\n}\n\n",
            n->name, g->name, id, cnt, max, D, lg, lb);
    fprintf(f, "/* %s — attention of the token over the projected keys and values (GEMM form) */\nextern \"C\" __global__ void "
               "%s_%s_attend(const float *P, int batch, const int *n, const float *x0, const float *x1, float *y, float *s)\n{\n"
               "    (void)x0, (void)x1;\n    const float *kv = s + (long)batch * %ld, *q = kv + (long)batch * %ld;\n"
               "    hn_cu_cls_attend(q, kv, %s, %d, %d, %d, P + %ld, y);\n}\n\n",
            n->name, g->name, id, (long)(max + 1) * D, (long)(max + 1) * 2 * D, cnt, max, D, heads, bias);
}

static int write_text(const char *dir, const char *name, const char *text, size_t len, char *path_out)
{
    char path[512], tmp[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f)) ok = 0;
    if (!ok || rename(tmp, path)) { unlink(tmp); return hn_error_plain("%s: error: cannot write: %s", path, strerror(errno)); }
    snprintf(path_out, 512, "%s", path);
    return 0;
}

/* What the generated files are made from. */
typedef struct cu_files {
    const hn_graph *g;
    const char *spec_path;
    const char *cu;
    size_t cu_len;
    unsigned char *image;       /* nvcc's fatbin (--aot), NULL: none */
    size_t image_size;
} cu_files;

static void emit_cu(FILE *f, const cu_files *in) { fwrite(in->cu, 1, in->cu_len, f); }
static void emit_header_file(FILE *f, const cu_files *in) { hn_cu_emit_header(f, in->g, in->spec_path); }
static void emit_source_file(FILE *f, const cu_files *in)
{
    hn_cu_emit_source_string(f, in->g, in->cu, in->cu_len, in->image, in->image_size);
}
static void emit_entry_file(FILE *f, const cu_files *in) { hn_cu_emit_entry(f, in->g, in->spec_path); }

int hn_emit_cuda(const hn_graph *g, const char *spec_path, const char *dir, const char *aot, char files[][512],
                 int *nfiles, char strict[][128], int *nstrict)
{
    if (nstrict) *nstrict = 0;
    char *cu = NULL, *host = NULL;
    size_t cu_len = 0, host_len = 0;
    FILE *f = open_memstream(&cu, &cu_len), *h = open_memstream(&host, &host_len);
    const char *m = g->name;
    fprintf(f, "/* %s.cu — device kernels of '%s', one per node, for NVRTC.\n * Generated by hepnc from %s; do not edit. */\n",
            m, m, spec_path);
    fprintf(f, "%s\n", hn_cuda_kernels_text);
    hn_cu_fused *plan = malloc(sizeof *plan * (size_t)(g->nnodes ? g->nnodes : 1));
    if (!plan) {
        fclose(f), fclose(h), free(cu), free(host);
        return hn_error_plain("hepnc: error: out of memory");
    }
    hn_cu_fusion_plan(g, plan);
    hn_cu_emit_host_start(h, g, spec_path, plan);
    int rc = 0;
    for (int i = 0; i < g->nnodes && !rc; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead) continue;
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, n->name);
        cu_ctx c;
        rc = hn_cu_emit_node_kernel(f, g, n, &c);
        if (!rc && n->op == HN_OP_linear) emit_linear_epilogue(f, g, n);
        if (!rc && n->op == HN_OP_cls_attention) hn_cu_emit_cls_gemm_kernels(f, g, n);
        if (!rc && hn_cu_packed_linear(g, n)) hn_cu_emit_fused_kernels(f, g, plan, i);
        int hot = n->op == HN_OP_attention || n->op == HN_OP_cls_attention || n->op == HN_OP_pair_embed ||
                  n->op == HN_OP_interaction_logits || n->op == HN_OP_differential_attention || n->op == HN_OP_iaformer_pair_features;
        if (hot && strict && nstrict && *nstrict < 64) snprintf(strict[(*nstrict)++], 128, "%s_%s", m, id);
        if (!rc) hn_cu_emit_launch(h, g, plan, n, &c);
    }
    hn_cu_emit_host_end(h, g);
    free(plan);
    fclose(f);
    fclose(h);
    *nfiles = 0;
    if (!rc && hn_mkdirs(dir)) rc = hn_error_plain("%s: error: cannot create the directory", dir);
    cu_files in = { g, spec_path, cu, cu_len, NULL, 0 };
    static const struct { const char *suffix; void (*emit)(FILE *, const cu_files *); } outputs[] = {
        { ".cu", emit_cu }, { "_cuda.h", emit_header_file }, { "_cuda.c", NULL },
        { "_cuda_source.c", emit_source_file }, { "_cuda_entry.c", emit_entry_file },
    };
    for (size_t k = 0; !rc && k < sizeof outputs / sizeof outputs[0]; ++k) {
        char name[HN_NAME + 24], *text = host;
        size_t len = host_len;
        snprintf(name, sizeof name, "%s%s", m, outputs[k].suffix);
        FILE *t = outputs[k].emit ? open_memstream(&text, &len) : NULL;
        if (t) {
            outputs[k].emit(t, &in);
            fclose(t);
        }
        if (!(rc = write_text(dir, name, text, len, files[*nfiles]))) ++*nfiles;
        if (t) free(text);
        if (!rc && k == 0 && aot) rc = hn_cuda_aot_build(files[0], aot, &in.image, &in.image_size);   /* the .cu → fatbin */
    }
    free(in.image);
    free(cu);
    free(host);
    return rc;
}
