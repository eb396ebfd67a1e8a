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
    fprintf(f, "typedef struct %s_cuda_model {\n    void *gpu;      /* hn_gpu: context, NVRTC-compiled module */\n"
               "    void *params;   /* device copy of the parameter blob */\n} %s_cuda_model;\n\n", m, m);
    fprintf(f, "/* Reads the weights (as %s_load), compiles the kernels for this GPU (cached) and uploads the weights. */\n"
               "int %s_cuda_load(%s_cuda_model *m, const char *weights_path, char *err, size_t errlen);\n"
               "void %s_cuda_release(%s_cuda_model *m);\n", m, m, m, m, m);
    fprintf(f, "/* As %s_infer, but every pointer of in and out, and workspace (%s_WORKSPACE_BYTES(batch) bytes), is\n"
               " * device memory; counts must be within 0..max (not checked on the device). Synchronous. */\n"
               "int %s_cuda_infer(const %s_cuda_model *m, const %s_inputs *in, int batch, %s_outputs *out, void *workspace,\n"
               "                  char *err, size_t errlen);\n\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n", m, g->name, m, m, m, m);
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
    if (c->geom == 0)
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
    size_t k = 0;
    for (; m[k] && k + 1 < sizeof upper; ++k) upper[k] = (char)(m[k] >= 'a' && m[k] <= 'z' ? m[k] - 32 : m[k]);
    upper[k] = '\0';
    fprintf(h, "int %s_cuda_load(%s_cuda_model *m, const char *weights_path, char *err, size_t errlen)\n{\n"
               "    %s_model host;\n    if (%s_load(&host, weights_path, err, errlen)) return 1;\n"
               "    m->params = NULL;\n    m->gpu = hn_gpu_open(%s_cuda_source, \"%s\", NULL, err, errlen);\n"
               "    int rc = !m->gpu || hn_gpu_alloc(m->gpu, &m->params, sizeof(float) * %s_PARAM_FLOATS, err, errlen) ||\n"
               "             hn_gpu_to_device(m->gpu, m->params, host.params, sizeof(float) * %s_PARAM_FLOATS, err, errlen);\n"
               "    %s_release(&host);\n    return rc;\n}\n\n", m, m, m, m, m, m, upper, upper, m);
    fprintf(h, "void %s_cuda_release(%s_cuda_model *m)\n{\n    if (m->gpu) hn_gpu_free(m->gpu, m->params);\n"
               "    hn_gpu_close(m->gpu);\n    m->gpu = m->params = NULL;\n}\n\n", m, m);
    fprintf(h, "int %s_cuda_infer(const %s_cuda_model *m, const %s_inputs *in, int batch, %s_outputs *out, void *workspace,\n"
               "                  char *err, size_t errlen)\n{\n    const float *P = m->params;\n    float *ws = workspace;\n"
               "    (void)ws;\n    if (batch < 0) return 2;\n", m, m, m, m);
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
    fprintf(h, "    return hn_gpu_sync(m->gpu, err, errlen) ? 3 : 0;\n}\n");
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
    free(cu);
    free(host);
    return rc;
}
