/* emit_cuda.c — the CUDA target (first slice): NAME.cu with the device kernels of every node, each an
 * extern "C" __global__ wrapper named after the node around a body of templates/cuda/kernels.cuh with
 * the node's shapes as constants, plus NAME_cuda_launch.h, the launch geometry of each kernel for the
 * host side (gpu/, to come). The same IR as the C target; ops without a CUDA body are refused with a
 * message naming the layer. NVRTC compiles NAME.cu (hepnc compile validates it for sm_80 and sm_90). */
#include "emit_cuda.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "emit_c.h"
#include "fsutil.h"
#include "ops.h"

extern const char hn_cuda_kernels_text[];

typedef struct cu_ctx {
    FILE *f;
    const hn_graph *g;
    const hn_node *n;
    int geom;                   /* 0: per_event threads per event; 1: pair tiles (grid x · batch); 2: a block per event;
                                   3: a block per particle (grid per_event · batch) */
    long per_event;
    int block, shared;
    int uu_pairs;               /* pair_embed with supplied pair features: every ordered pair */
} cu_ctx;

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
/* rows per event along the last axis, and rows per set row (the count multiplier) */
static long rows_of(const hn_tensor *t) { return hn_shape_elems(&t->shape) / hn_last_dim(&t->shape); }
static long per_row_of(const hn_tensor *t) { return t->shape.nset ? rows_of(t) / t->shape.dim[0] : rows_of(t); }
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
    int heads = (int)hn_attr_int(c->n, "heads"), D = o->shape.dim[1];
    if (D / heads > 64) return hn_error(c->n->loc, "CUDA attention supports head widths up to 64 (got %d)", D / heads);
    line(c, "hn_cu_attention(x0, %s, batch, %d, %d, %d, %s, y);", counts(c, o), o->shape.dim[0], heads, D / heads,
         c->n->nin > 1 ? "x1" : "0");
    threads(c, (long)heads * o->shape.dim[0], 128);
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

static int emit_node(cu_ctx *c)
{
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
    case HN_OP_class_token: return cu_class_token(c);
    case HN_OP_cls_attention: return cu_cls_attention(c);
    case HN_OP_edge_conv: return cu_edge_conv(c);
    default:
        return hn_error(c->n->loc, "layer '%s': op %s has no CUDA kernel yet (the C target supports it)",
                        c->n->layer[0] ? c->n->layer : c->n->name, hn_op(c->n->op)->name);
    }
}

/* Linear layers run as a cuBLAS GEMM (when the runtime finds cuBLAS) followed by this kernel, bias and
 * activation in place over the real rows; NAME_<node> (hn_cu_linear) is the fallback. */
static int linear_has_epilogue(const hn_node *n) { return n->nparam > 1 || n->act; }

static void emit_linear_epilogue(FILE *f, const hn_graph *g, const hn_node *n)
{
    if (!linear_has_epilogue(n)) return;
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

/* The model's name in capitals, the prefix of its macros. */
static void upper_name(char *upper, size_t size, const char *m)
{
    size_t k = 0;
    for (; m[k] && k + 1 < size; ++k) upper[k] = (char)(m[k] >= 'a' && m[k] <= 'z' ? m[k] - 32 : m[k]);
    upper[k] = '\0';
}

/* Class attention in GEMM form (cuBLAS present): keys' LayerNorm, then (host) cuBLAS for K|V of every
 * row and for the query, then the attention; scratch [batch]: u [max+1][D] | kv [max+1][2D] | q [D]. */
static long cls_scratch_floats(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *x = &g->tensors[n->in[1]];
    long rows = x->shape.dim[0] + 1, D = x->shape.dim[1];
    return rows * 3 * D + D;
}

static long scratch_floats(const hn_graph *g)
{
    long most = 0;
    for (int i = 0; i < g->nnodes; ++i)
        if (!g->nodes[i].dead && g->nodes[i].op == HN_OP_cls_attention && cls_scratch_floats(g, &g->nodes[i]) > most)
            most = cls_scratch_floats(g, &g->nodes[i]);
    return most;
}

/* Row packing: linear layers over the rows of the first masked set (one row per set row, 32 inputs or
 * more) run their GEMM on the chunk's real rows only, gathered into the scratch; the packed GEMM's output
 * goes back through the bias/activation kernel. Scratch per event: offsets and row → event (2 + max, and
 * 2 for alignment) and the widest packed layer's input and output rows (max · (in + out)). */
static int pack_set(const hn_graph *g)
{
    for (int i = 0; i < g->ninputs; ++i)
        if (g->tensors[g->inputs[i]].masked && g->tensors[g->inputs[i]].shape.nset) return i;
    return -1;
}

static int packed_linear(const hn_graph *g, const hn_node *n)
{
    if (n->op != HN_OP_linear || hn_last_dim(&g->tensors[n->in[0]].shape) < 32) return 0;
    const hn_tensor *o = &g->tensors[n->out];
    return o->shape.nset && o->shape.set == pack_set(g) && per_row_of(o) == 1;
}

static long pack_floats(const hn_graph *g)
{
    long widest = 0;
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead || !packed_linear(g, n)) continue;
        long w = hn_last_dim(&g->tensors[n->in[0]].shape) + hn_last_dim(&g->tensors[n->out].shape);
        if (w > widest) widest = w;
    }
    if (!widest) return 0;
    long max = g->tensors[g->inputs[pack_set(g)]].shape.dim[0];
    return 4 + max + max * widest;
}

static void emit_cls_gemm_kernels(FILE *f, const hn_graph *g, const hn_node *n)
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

/* NAME_cuda.h: the GPU object's API, the C API's twin with device pointers. */
static void emit_header(FILE *f, const hn_graph *g, const char *spec_path)
{
    const char *m = g->name;
    fprintf(f, "/* %s_cuda.h — the model on a CUDA GPU, with the C API of %s.h. Generated by hepnc from %s; do not edit. */\n"
               "#ifndef %s_CUDA_H\n#define %s_CUDA_H\n\n#include <stddef.h>\n\n#include \"%s.h\"\n\n"
               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", m, m, spec_path, m, m, m);
    char upper[HN_NAME];
    upper_name(upper, sizeof upper, m);
    fprintf(f, "/* Events per chunk: %s_cuda_infer runs a batch in chunks of at most this many events, so the device\n"
               " * workspace holds one chunk whatever the batch (a host may define it, e.g. -D%s_CUDA_CHUNK=1024). */\n"
               "#ifndef %s_CUDA_CHUNK\n#define %s_CUDA_CHUNK 512\n#endif\n"
               "/* Device workspace: the plan's tensors (as %s_WORKSPACE_BYTES) and %ld scratch floats per event, for one chunk. */\n"
               "#define %s_CUDA_WORKSPACE_BYTES(batch) \\\n    ((size_t)((batch) < %s_CUDA_CHUNK ? (batch) : %s_CUDA_CHUNK) * %ldu)\n\n",
            m, upper, upper, upper, upper, scratch_floats(g) + pack_floats(g), upper, upper, upper,
            4 * (g->workspace_floats + scratch_floats(g) + pack_floats(g)));
    fprintf(f, "typedef struct %s_cuda_model {\n    void *gpu;      /* hn_gpu: context, NVRTC-compiled module */\n"
               "    void *params;   /* device copy of the parameter blob */\n} %s_cuda_model;\n\n", m, m);
    fprintf(f, "/* Reads the weights (as %s_load), compiles the kernels for this GPU (cached) and uploads the weights. */\n"
               "int %s_cuda_load(%s_cuda_model *m, const char *weights_path, char *err, size_t errlen);\n"
               "void %s_cuda_release(%s_cuda_model *m);\n", m, m, m, m, m);
    fprintf(f, "/* As %s_infer, but every pointer of in and out, and workspace (%s_CUDA_WORKSPACE_BYTES(batch) bytes), is\n"
               " * device memory; counts must be within 0..max (not checked on the device). Synchronous. */\n"
               "int %s_cuda_infer(const %s_cuda_model *m, const %s_inputs *in, int batch, %s_outputs *out, void *workspace,\n"
               "                  char *err, size_t errlen);\n\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n", m, upper, m, m, m, m);
}

/* NAME_cuda_source.c: the .cu as a C string for NVRTC at run time. */
static void emit_source_string(FILE *f, const hn_graph *g, const char *cu, size_t len)
{
    fprintf(f, "/* %s_cuda_source.c — %s.cu as a string, compiled by NVRTC at load time. Generated by hepnc; do not edit. */\n"
               "const char %s_cuda_source[] =\n\"", g->name, g->name, g->name);
    for (size_t i = 0; i < len; ++i) {
        unsigned char ch = (unsigned char)cu[i];
        if (ch == '\n') fputs("\\n\"\n\"", f);
        else if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 32 || ch > 126) fprintf(f, "\\%03o", ch);
        else fputc(ch, f);
    }
    fputs("\";\n", f);
}

/* NAME_cuda_entry.c: the generic entry point (hn_cuda_model_entry, hepnc/gpu.h) for hosts that handle any model. */
static void emit_cuda_entry(FILE *f, const hn_graph *g, const char *spec_path)
{
    const char *m = g->name;
    fprintf(f, "/* %s_cuda_entry.c — the generic entry point of the GPU object (hepnc/gpu.h), for hosts that handle any model.\n"
               " * Generated by hepnc from %s; do not edit. */\n#include <stdlib.h>\n\n#include <hepnc/gpu.h>\n\n"
               "#include \"%s_cuda.h\"\n\n", m, spec_path, m);
    fprintf(f, "static int load(void **model, const char *path, char *err, size_t errlen)\n{\n"
               "    %s_cuda_model *m = calloc(1, sizeof *m);\n    if (!m) return 1;\n"
               "    if (%s_cuda_load(m, path, err, errlen)) { %s_cuda_release(m); free(m); return 1; }\n"
               "    *model = m;\n    return 0;\n}\n\n", m, m, m);
    fprintf(f, "static void release(void *model)\n{\n    if (!model) return;\n    %s_cuda_release(model);\n    free(model);\n}\n\n", m);
    fprintf(f, "static hn_gpu *gpu(void *model) { return ((%s_cuda_model *)model)->gpu; }\n\n", m);
    char upper[HN_NAME];
    upper_name(upper, sizeof upper, m);
    fprintf(f, "static size_t workspace_bytes(int batch) { return %s_CUDA_WORKSPACE_BYTES(batch); }\n\n", upper);
    fprintf(f, "static int infer(const void *model, const float *const *x, const int *const *counts, int batch,\n"
               "                 float *const *y, void *workspace, char *err, size_t errlen)\n{\n    (void)counts;\n"
               "    %s_inputs in = {", m);
    for (int i = 0; i < g->ninputs; ++i) {
        fprintf(f, "%s x[%d]", i ? "," : "", i);
        if (g->tensors[g->inputs[i]].masked) fprintf(f, ", counts[%d]", i);
    }
    fprintf(f, " };\n    %s_outputs out = {", m);
    for (int o = 0; o < g->noutputs; ++o) fprintf(f, "%s y[%d]", o ? "," : "", o);
    fprintf(f, " };\n    return %s_cuda_infer(model, &in, batch, &out, workspace, err, errlen);\n}\n\n", m);
    fprintf(f, "static const hn_cuda_model_entry entry = { HN_CUDA_MODEL_ABI, \"%s\", \"\", workspace_bytes, load, release, gpu, infer };\n\n"
               "const hn_cuda_model_entry *hepnc_cuda_model_entry(void) { return &entry; }\n", m);
}

/* pack_rows: the packed rows' offsets (from the host's copy of the counts) uploaded, row → event on the device. */
static void emit_pack_rows(FILE *f, const hn_graph *g, const char *upper)
{
    fprintf(f, "/* The real rows of a chunk's events, packed event after event: offs[e] .. offs[e+1] are event e's, row_event[p]\n"
               " * is packed row p's event, buf holds a packed layer's input and output rows. */\n"
               "typedef struct packed_rows {\n    int total;\n    int *offs, *row_event;\n    float *buf;\n} packed_rows;\n\n");
    fprintf(f, "static int pack_rows(const %s_cuda_model *m, const int32_t *counts, int batch, int max, float *region, packed_rows *pk,\n"
               "                     char *err, size_t errlen)\n{\n    int32_t offs[%s_CUDA_CHUNK + 1];\n    offs[0] = 0;\n"
               "    for (int e = 0; e < batch; ++e) offs[e + 1] = offs[e] + (counts[e] < 0 ? 0 : counts[e] > max ? max : counts[e]);\n"
               "    pk->total = offs[batch];\n    pk->offs = (int *)region;\n    pk->row_event = pk->offs + batch + 1;\n"
               "    pk->buf = region + (((size_t)batch * (max + 2) + 3) & ~(size_t)3);   /* 16-byte aligned for the float4 kernels */\n"
               "    void *args[] = { &pk->offs, &pk->row_event };\n"
               "    if (hn_gpu_to_device(m->gpu, pk->offs, offs, sizeof(int32_t) * (size_t)(batch + 1), err, errlen)) return -1;\n"
               "    return hn_gpu_launch(m->gpu, \"hn_pack_index\", (unsigned)batch, 1, 128, 0, args, err, errlen) ? -1 : 0;\n}\n\n",
            g->name, upper);
    fprintf(f, "static int aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }\n\n"
               "/* xp = the packed rows of x [batch][max][width] (float4 moves where widths and pointers allow). */\n"
               "static int gather_rows(const %s_cuda_model *m, const float *x, packed_rows *pk, int max, int width, float *xp,\n"
               "                       char *err, size_t errlen)\n{\n"
               "    int vec = width %% 4 == 0 && aligned16(x) && aligned16(xp), w = vec ? width / 4 : width;\n"
               "    void *args[] = { &x, &pk->offs, &pk->row_event, &pk->total, &max, &w, &xp };\n"
               "    return hn_gpu_launch(m->gpu, vec ? \"hn_gather_rows4\" : \"hn_gather_rows\", (unsigned)(((long)pk->total * w + 255) / 256),\n"
               "                         1, 256, 0, args, err, errlen);\n}\n\n", g->name);
    fprintf(f, "/* y [batch][max][out] = act(yp + bias) on the packed rows. */\n"
               "static int scatter_bias_act(const %s_cuda_model *m, const float *yp, packed_rows *pk, int max, int out,\n"
               "                            const float *bias, int act, float *y, char *err, size_t errlen)\n{\n"
               "    int vec = out %% 4 == 0 && bias && aligned16(yp) && aligned16(y) && aligned16(bias), w = vec ? out / 4 : out;\n"
               "    void *args[] = { &yp, &pk->offs, &pk->row_event, &pk->total, &max, &w, &bias, &act, &y };\n"
               "    return hn_gpu_launch(m->gpu, vec ? \"hn_scatter_bias_act4\" : \"hn_scatter_bias_act\",\n"
               "                         (unsigned)(((long)pk->total * w + 255) / 256), 1, 256, 0, args, err, errlen);\n}\n\n", g->name);
}

/* NAME_cuda_infer: the batch in chunks of NAME_CUDA_CHUNK events, so that the device workspace holds one
 * chunk (NAME_CUDA_WORKSPACE_BYTES) whatever the batch; inputs and outputs advance by whole events. */
static void emit_chunk_loop(FILE *f, const hn_graph *g, const char *upper)
{
    const char *m = g->name;
    int masked = 0;
    for (int i = 0; i < g->ninputs; ++i) masked |= g->tensors[g->inputs[i]].masked;
    if (masked)
        fprintf(f, "/* A chunk's counts, read back from the device into host[], and the largest (clamped to max): the\n"
                   " * row packing and the GEMMs that skip the padding every event of the chunk has use them. */\n"
                   "static int chunk_counts(const %s_cuda_model *m, const int32_t *counts, int b, int max, int32_t *host, int *nmax,\n"
                   "                        char *err, size_t errlen)\n{\n"
                   "    if (hn_gpu_to_host(m->gpu, host, counts, sizeof(int32_t) * (size_t)b, err, errlen)) return -1;\n"
                   "    *nmax = 0;\n    for (int e = 0; e < b; ++e)\n"
                   "        if (host[e] > *nmax) *nmax = host[e] < max ? host[e] : max;\n    return 0;\n}\n\n", m);
    fprintf(f, "int %s_cuda_infer(const %s_cuda_model *m, const %s_inputs *in, int batch, %s_outputs *out, void *workspace,\n"
               "                  char *err, size_t errlen)\n{\n    if (batch < 0) return 2;\n"
               "    for (int first = 0; first < batch; first += %s_CUDA_CHUNK) {\n"
               "        int b = batch - first < %s_CUDA_CHUNK ? batch - first : %s_CUDA_CHUNK;\n        %s_inputs ci = {",
            m, m, m, m, upper, upper, upper, m);
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, t->name);
        fprintf(f, "%s in->%s + (size_t)first * %ld", i ? "," : "", id, hn_shape_elems(&t->shape));
        if (t->masked) fprintf(f, ", in->%s_n + first", id);
    }
    fprintf(f, " };\n        %s_outputs co = {", m);
    for (int o = 0; o < g->noutputs; ++o) {
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, g->output_names[o]);
        fprintf(f, "%s out->%s + (size_t)first * %ld", o ? "," : "", id, hn_shape_elems(&g->tensors[g->outputs[o]].shape));
    }
    fprintf(f, " };\n        int nmax[%d] = {", g->ninputs);
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        fprintf(f, "%s %d", i ? "," : "", t->shape.nset ? t->shape.dim[0] : 1);
    }
    fprintf(f, " };\n");
    if (masked) fprintf(f, "        int32_t counts[%d][%s_CUDA_CHUNK];\n", g->ninputs, upper);
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        if (!t->masked) continue;
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, t->name);
        fprintf(f, "        if (chunk_counts(m, ci.%s_n, b, %d, counts[%d], &nmax[%d], err, errlen)) return 3;\n", id,
                t->shape.dim[0], i, i);
    }
    char pack_counts[32] = "NULL";
    if (pack_floats(g)) snprintf(pack_counts, sizeof pack_counts, "counts[%d]", pack_set(g));
    fprintf(f, "        int rc = infer_chunk(m, &ci, b, nmax, %s, &co, workspace, err, errlen);\n        if (rc) return rc;\n    }\n"
               "    return hn_gpu_sync(m->gpu, err, errlen) ? 3 : 0;\n}\n", pack_counts);
}

static void emit_launch(FILE *f, const hn_graph *g, const hn_node *n, const cu_ctx *c, const char *counts_var)
{
    char id[HN_NAME], var[HN_NAME + 8];
    hn_c_ident(id, sizeof id, n->name);
    fprintf(f, "    {   /* %s */\n", n->name);
    for (int k = 0; k < n->nin; ++k) {
        hn_emit_tensor_var(g, n->in[k], var, sizeof var);
        fprintf(f, "        const float *x%d = %s;\n", k, var);
    }
    hn_emit_tensor_var(g, n->out, var, sizeof var);
    fprintf(f, "        float *y = %s;\n        const int32_t *n = %s;\n        void *args[] = { &P, &batch, &n", var, counts_var);
    for (int k = 0; k < n->nin; ++k) fprintf(f, ", &x%d", k);
    fprintf(f, ", &y };\n");
    if (n->op == HN_OP_cls_attention) {  /* GEMM form with cuBLAS, else the one-kernel form */
        const hn_tensor *x = &g->tensors[n->in[1]];
        int max = x->shape.dim[0], D = x->shape.dim[1];
        long W = g->params[n->param[2]].offset;
        char used[32];        /* key rows: the token and the rows up to the chunk's largest count */
        if (x->shape.nset && g->tensors[g->inputs[x->shape.set]].masked) snprintf(used, sizeof used, "nmax[%d]", x->shape.set);
        else snprintf(used, sizeof used, "%d", max);
        fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {   /* scratch: u [batch][%d][%d] | kv [batch][%d][%d] | q [batch][%d] */\n"
                   "            float *s = scratch, *kv = s + (size_t)batch * %ld, *q = kv + (size_t)batch * %ld;\n"
                   "            void *sargs[] = { &P, &batch, &n, &x0, &x1, &y, &s };\n"
                   "            unsigned grid = (unsigned)(((long)batch * %d * 32 + 255) / 256);\n"
                   "            if (hn_gpu_launch(m->gpu, \"%s_%s_keys\", grid, 1, 256, 0, sargs, err, errlen) ||\n"
                   "                hn_gpu_linear_gemm_rows(m->gpu, s, P + %ld, kv, batch, %d, %s + 1, %d, %d, err, errlen) ||\n"
                   "                hn_gpu_linear_gemm(m->gpu, x0, P + %ld, q, batch, %d, %d, err, errlen) ||\n"
                   "                hn_gpu_launch(m->gpu, \"%s_%s_attend\", (unsigned)batch, 1, %d, 0, sargs, err, errlen)) return 3;\n"
                   "        } else if (hn_gpu_launch(m->gpu, \"%s_%s\", (unsigned)batch, 1, %d, %d, args, err, errlen)) return 3;\n",
                max + 1, D, max + 1, 2 * D, D, (long)(max + 1) * D, (long)(max + 1) * 2 * D, max + 1, g->name, id,
                W + (long)D * D, max + 1, used, D, 2 * D, W, D, D, g->name, id, D, g->name, id, c->block, c->shared);
    } else if (n->op == HN_OP_linear && hn_last_dim(&g->tensors[n->in[0]].shape) < 32) {   /* narrow: the plain kernel */
        fprintf(f, "        unsigned grid = (unsigned)(((long)batch * %ld + %d - 1) / %d);\n"
                   "        if (hn_gpu_launch(m->gpu, \"%s_%s\", grid, 1, %d, 0, args, err, errlen)) return 3;\n",
                c->per_event, c->block, c->block, g->name, id, c->block);
    } else if (packed_linear(g, n)) {   /* the chunk's real rows: gather, cuBLAS GEMM, bias + activation scattered back */
        const hn_tensor *o = &g->tensors[n->out];
        int in = hn_last_dim(&g->tensors[n->in[0]].shape), out = hn_last_dim(&o->shape);
        char bias[32] = "NULL";
        if (n->nparam > 1) snprintf(bias, sizeof bias, "P + %ld", g->params[n->param[1]].offset);
        fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {\n"
                   "            float *xp = pk.buf, *yp = pk.buf + (size_t)pk.total * %d;\n"
                   "            if (gather_rows(m, x0, &pk, %d, %d, xp, err, errlen) ||\n"
                   "                hn_gpu_linear_gemm(m->gpu, xp, P + %ld, yp, pk.total, %d, %d, err, errlen) ||\n"
                   "                scatter_bias_act(m, yp, &pk, %d, %d, %s, %d, y, err, errlen)) return 3;\n"
                   "        } else {\n",
                in, o->shape.dim[0], in, g->params[n->param[0]].offset, in, out, o->shape.dim[0], out, bias, n->act);
        fprintf(f, "            unsigned grid = (unsigned)(((long)batch * %ld + %d - 1) / %d);\n"
                   "            if (hn_gpu_launch(m->gpu, \"%s_%s\", grid, 1, %d, 0, args, err, errlen)) return 3;\n        }\n",
                c->per_event, c->block, c->block, g->name, id, c->block);
    } else if (n->op == HN_OP_linear) {     /* cuBLAS GEMM + epilogue, else the plain kernel */
        const hn_tensor *o = &g->tensors[n->out];
        long rows = rows_of(o);
        int in = hn_last_dim(&g->tensors[n->in[0]].shape), out = hn_last_dim(&o->shape);
        int set = o->shape.nset && g->tensors[g->inputs[o->shape.set]].masked ? o->shape.set : -1;
        if (set >= 0)       /* each event's rows up to the chunk's largest count */
            fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {\n"
                       "            if (hn_gpu_linear_gemm_rows(m->gpu, x0, P + %ld, y, batch, %ld, nmax[%d] * %ld, %d, %d, err, errlen)) return 3;\n",
                    g->params[n->param[0]].offset, rows, set, per_row_of(o), in, out);
        else
            fprintf(f, "        if (hn_gpu_has_blas(m->gpu)) {\n"
                       "            if (hn_gpu_linear_gemm(m->gpu, x0, P + %ld, y, (long)batch * %ld, %d, %d, err, errlen)) return 3;\n",
                    g->params[n->param[0]].offset, rows, in, out);
        if (linear_has_epilogue(n))
            fprintf(f, "            unsigned grid = (unsigned)(((long)batch * %ld + %d - 1) / %d);\n"
                       "            if (hn_gpu_launch(m->gpu, \"%s_%s_epilogue\", grid, 1, %d, 0, args, err, errlen)) return 3;\n",
                    c->per_event, c->block, c->block, g->name, id, c->block);
        fprintf(f, "        } else {\n");
        fprintf(f, "            unsigned grid = (unsigned)(((long)batch * %ld + %d - 1) / %d);\n"
                   "            if (hn_gpu_launch(m->gpu, \"%s_%s\", grid, 1, %d, 0, args, err, errlen)) return 3;\n        }\n",
                c->per_event, c->block, c->block, g->name, id, c->block);
    } else if (c->geom == 0)
        fprintf(f, "        unsigned grid = (unsigned)(((long)batch * %ld + %d - 1) / %d);\n"
                   "        if (hn_gpu_launch(m->gpu, \"%s_%s\", grid, 1, %d, 0, args, err, errlen)) return 3;\n",
                c->per_event, c->block, c->block, g->name, id, c->block);
    else if (c->geom == 1)
        fprintf(f, "        if (hn_gpu_launch(m->gpu, \"%s_%s\", %ld, (unsigned)batch, 64, 0, args, err, errlen)) return 3;\n",
                g->name, id, ((c->uu_pairs ? c->per_event * c->per_event : c->per_event * (c->per_event + 1) / 2) + 31) / 32);
    else if (c->geom == 3)           /* a block per particle of every event */
        fprintf(f, "        if (hn_gpu_launch(m->gpu, \"%s_%s\", %ld, (unsigned)batch, %d, 0, args, err, errlen)) return 3;\n",
                g->name, id, c->per_event, c->block);
    else
        fprintf(f, "        if (hn_gpu_launch(m->gpu, \"%s_%s\", (unsigned)batch, 1, %d, %d, args, err, errlen)) return 3;\n",
                g->name, id, c->block, c->shared);
    fprintf(f, "    }\n");
}

int hn_emit_cuda(const hn_graph *g, const char *spec_path, const char *dir, char files[][512], int *nfiles,
                 char strict[][128], int *nstrict)
{
    if (nstrict) *nstrict = 0;
    char *cu = NULL, *host = NULL;
    size_t cu_len = 0, host_len = 0;
    FILE *f = open_memstream(&cu, &cu_len), *h = open_memstream(&host, &host_len);
    const char *m = g->name;
    fprintf(f, "/* %s.cu — device kernels of '%s', one per node, for NVRTC.\n * Generated by hepnc from %s; do not edit. */\n",
            m, m, spec_path);
    fprintf(f, "%s\n", hn_cuda_kernels_text);
    fprintf(h, "/* %s_cuda.c — host side of the GPU object: loads, compiles (NVRTC, cached) and launches %s.cu's\n"
               " * kernels in graph order. Generated by hepnc from %s; do not edit. */\n"
               "#include <stdint.h>\n#include <stdio.h>\n\n#include <hepnc/gpu.h>\n\n#include \"%s_cuda.h\"\n\n"
               "extern const char %s_cuda_source[];\n\n", m, m, spec_path, m, m);
    char upper[HN_NAME];
    upper_name(upper, sizeof upper, m);
    fprintf(h, "int %s_cuda_load(%s_cuda_model *m, const char *weights_path, char *err, size_t errlen)\n{\n"
               "    %s_model host;\n    if (%s_load(&host, weights_path, err, errlen)) return 1;\n"
               "    m->params = NULL;\n    m->gpu = hn_gpu_open(%s_cuda_source, \"%s\", NULL, err, errlen);\n"
               "    int rc = !m->gpu || hn_gpu_alloc(m->gpu, &m->params, sizeof(float) * %s_PARAM_FLOATS, err, errlen) ||\n"
               "             hn_gpu_to_device(m->gpu, m->params, host.params, sizeof(float) * %s_PARAM_FLOATS, err, errlen);\n"
               "    %s_release(&host);\n    return rc;\n}\n\n", m, m, m, m, m, m, upper, upper, m);
    fprintf(h, "void %s_cuda_release(%s_cuda_model *m)\n{\n    if (m->gpu) hn_gpu_free(m->gpu, m->params);\n"
               "    hn_gpu_close(m->gpu);\n    m->gpu = m->params = NULL;\n}\n\n", m, m);
    if (pack_floats(g)) emit_pack_rows(h, g, upper);
    fprintf(h, "/* One chunk of at most %s_CUDA_CHUNK events: every kernel launched in graph order (asynchronous); nmax[i]:\n"
               " * the chunk's largest count of set input i (GEMMs skip the rows past it in every event). */\n"
               "static int infer_chunk(const %s_cuda_model *m, const %s_inputs *in, int batch, const int *nmax,\n"
               "                       const int32_t *pack_counts, %s_outputs *out, void *workspace, char *err, size_t errlen)\n{\n"
               "    const float *P = m->params;\n    float *ws = workspace;\n    (void)ws, (void)nmax, (void)pack_counts;\n",
               upper, m, m, m);
    if (scratch_floats(g))
        fprintf(h, "    float *scratch = ws + (size_t)batch * %ld;   /* after the plan's tensors: class attention's GEMM form */\n",
                g->workspace_floats);
    if (pack_floats(g))
        fprintf(h, "    packed_rows pk;   /* the chunk's real rows of '%s', for the GEMMs of linear layers */\n"
                   "    if (pack_rows(m, pack_counts, batch, %d, ws + (size_t)batch * %ld, &pk, err, errlen)) return 3;\n",
                g->tensors[g->inputs[pack_set(g)]].name, g->tensors[g->inputs[pack_set(g)]].shape.dim[0],
                g->workspace_floats + scratch_floats(g));
    for (int t = 0; t < g->ntensors; ++t) {
        const hn_tensor *x = &g->tensors[t];
        if (x->offset < 0) continue;
        char var[HN_NAME + 8];
        hn_emit_tensor_var(g, t, var, sizeof var);
        fprintf(h, "    float *%s = ws + (size_t)batch * %ld;\n", var, x->offset);
    }
    int rc = 0;
    for (int i = 0; i < g->nnodes && !rc; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead) continue;
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, n->name);
        fprintf(f, "/* %s — layer '%s' (%s) */\nextern \"C\" __global__ void %s_%s(const float *P, int batch, const int *n",
                n->name, n->layer[0] ? n->layer : n->name, hn_op(n->op)->name, m, id);
        for (int k = 0; k < n->nin; ++k) fprintf(f, ", const float *x%d", k);
        fprintf(f, ", float *y)\n{\n");
        cu_ctx c = { .f = f, .g = g, .n = n };
        rc = emit_node(&c);
        fprintf(f, "}\n\n");
        if (!rc && n->op == HN_OP_linear) emit_linear_epilogue(f, g, n);
        if (!rc && n->op == HN_OP_cls_attention) emit_cls_gemm_kernels(f, g, n);
        int hot = n->op == HN_OP_attention || n->op == HN_OP_cls_attention || n->op == HN_OP_pair_embed;
        if (hot && strict && nstrict && *nstrict < 64) snprintf(strict[(*nstrict)++], 128, "%s_%s", m, id);
        /* the counts this node's kernel reads: its output's set, else its first set input's */
        int set = g->tensors[n->out].shape.nset ? g->tensors[n->out].shape.set : -1;
        for (int k = 0; set < 0 && k < n->nin; ++k)
            if (g->tensors[n->in[k]].shape.nset) set = g->tensors[n->in[k]].shape.set;
        char counts_var[HN_NAME + 16] = "NULL";
        if (set >= 0 && g->tensors[g->inputs[set]].masked) {
            char sid[HN_NAME];
            hn_c_ident(sid, sizeof sid, g->tensors[g->inputs[set]].name);
            snprintf(counts_var, sizeof counts_var, "in->%s_n", sid);
        }
        if (!rc) emit_launch(h, g, n, &c, counts_var);
    }
    fprintf(h, "    return 0;\n}\n\n");
    emit_chunk_loop(h, g, upper);
    fclose(f);
    fclose(h);
    *nfiles = 0;
    if (!rc && hn_mkdirs(dir)) rc = hn_error_plain("%s: error: cannot create the directory", dir);
    char name[HN_NAME + 24];
    snprintf(name, sizeof name, "%s.cu", m);
    if (!rc && !(rc = write_text(dir, name, cu, cu_len, files[*nfiles]))) ++*nfiles;
    if (!rc) {
        char *text = NULL;
        size_t len = 0;
        FILE *t = open_memstream(&text, &len);
        emit_header(t, g, spec_path);
        fclose(t);
        snprintf(name, sizeof name, "%s_cuda.h", m);
        if (!(rc = write_text(dir, name, text, len, files[*nfiles]))) ++*nfiles;
        free(text);
    }
    snprintf(name, sizeof name, "%s_cuda.c", m);
    if (!rc && !(rc = write_text(dir, name, host, host_len, files[*nfiles]))) ++*nfiles;
    if (!rc) {
        char *text = NULL;
        size_t len = 0;
        FILE *t = open_memstream(&text, &len);
        emit_source_string(t, g, cu, cu_len);
        fclose(t);
        snprintf(name, sizeof name, "%s_cuda_source.c", m);
        if (!(rc = write_text(dir, name, text, len, files[*nfiles]))) ++*nfiles;
        free(text);
    }
    if (!rc) {
        char *text = NULL;
        size_t len = 0;
        FILE *t = open_memstream(&text, &len);
        emit_cuda_entry(t, g, spec_path);
        fclose(t);
        snprintf(name, sizeof name, "%s_cuda_entry.c", m);
        if (!(rc = write_text(dir, name, text, len, files[*nfiles]))) ++*nfiles;
        free(text);
    }
    free(cu);
    free(host);
    return rc;
}
