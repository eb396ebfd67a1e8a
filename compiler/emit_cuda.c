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
#include "fsutil.h"
#include "ops.h"

extern const char hn_cuda_kernels_text[];

typedef struct cu_ctx {
    FILE *f;
    const hn_graph *g;
    const hn_node *n;
    char launch[256];           /* "threads_per_event_expr, block" for the launch table */
} cu_ctx;

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
    snprintf(c->launch, sizeof c->launch, "%ld, 256", rows_of(o) * hn_last_dim(&o->shape));
    return 0;
}

static int cu_layernorm(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    char eps[48];
    line(c, "hn_cu_layernorm(x0, %s, batch, %ld, %ld, %d, P + %ld, P + %ld, %s, y);", counts(c, o), rows_of(o),
         per_row_of(o), hn_last_dim(&o->shape), P(c, 0), P(c, 1), hn_c_float((float)hn_attr_float(c->n, "eps"), eps));
    snprintf(c->launch, sizeof c->launch, "%ld, 256", rows_of(o) * 32);
    return 0;
}

static int cu_softmax(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    line(c, "hn_cu_softmax(x0, batch * %ld, %d, y);", rows_of(o), hn_last_dim(&o->shape));
    snprintf(c->launch, sizeof c->launch, "%ld, 256", rows_of(o) * 32);
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
    snprintf(c->launch, sizeof c->launch, "%ld, 256", hn_shape_elems(&o->shape));
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
    snprintf(c->launch, sizeof c->launch, "%ld, 256", hn_shape_elems(&o->shape));
    return 0;
}

static int cu_pool(cu_ctx *c)
{
    const hn_tensor *x = in_t(c, 0);
    const char *mode = hn_attr_str(c->n, "mode");
    line(c, "hn_cu_pool(x0, %s, batch, %d, %d, %d, y);", counts(c, x), x->shape.dim[0], hn_last_dim(&x->shape),
         !strcmp(mode, "sum") ? 0 : !strcmp(mode, "mean") ? 1 : 2);
    snprintf(c->launch, sizeof c->launch, "%d, 256", hn_last_dim(&x->shape));
    return 0;
}

static int cu_attention(cu_ctx *c)
{
    const hn_tensor *o = out_t(c);
    int heads = (int)hn_attr_int(c->n, "heads"), D = o->shape.dim[1];
    if (D / heads > 64) return hn_error(c->n->loc, "CUDA attention supports head widths up to 64 (got %d)", D / heads);
    line(c, "hn_cu_attention(x0, %s, batch, %d, %d, %d, %s, y);", counts(c, o), o->shape.dim[0], heads, D / heads,
         c->n->nin > 1 ? "x1" : "0");
    snprintf(c->launch, sizeof c->launch, "%d, 128", heads * o->shape.dim[0]);
    return 0;
}

int hn_pair_feature_selection(const hn_node *n, int *sel);

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
    fprintf(c->f, " };\n    const float *const W[%d] = {", layers);
    for (int k = 0; k < layers; ++k) fprintf(c->f, "%sP + %ld", k ? ", " : " ", P(c, 4 + 6 * k));
    fprintf(c->f, " };\n    const float *const B[%d] = {", layers);
    for (int k = 0; k < layers; ++k) fprintf(c->f, "%sP + %ld", k ? ", " : " ", P(c, 5 + 6 * k));
    fprintf(c->f, " };\n");
    line(c, "hn_cu_pair_embed(%s, %s, n, %d, %d, sel, P + %ld, P + %ld, P + %ld, P + %ld, %d, dims, W, B, y);",
         fused ? "x0" : "0", fused ? "0" : "x0", max, nfeat, P(c, 2), P(c, 3), P(c, 0), P(c, 1), layers);
    snprintf(c->launch, sizeof c->launch, "pairs:%d, 64", max);
    return 0;
}

static int cu_class_token(cu_ctx *c)
{
    int d = (int)hn_attr_int(c->n, "dim");
    line(c, "hn_cu_columns(P + %ld, 0, batch, 1, 1, 0, 0, 0, %d, y, %d, 0);", P(c, 0), d, d);
    snprintf(c->launch, sizeof c->launch, "%d, 256", d);
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
    snprintf(c->launch, sizeof c->launch, "block:%d, shared:%d", D, (D + D / 32 + 1) * 4);
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

int hn_emit_cuda(const hn_graph *g, const char *spec_path, const char *dir, char files[][512], int *nfiles)
{
    char *cu = NULL, *lh = NULL;
    size_t cu_len = 0, lh_len = 0;
    FILE *f = open_memstream(&cu, &cu_len), *l = open_memstream(&lh, &lh_len);
    fprintf(f, "/* %s.cu — device kernels of '%s', one per node, for NVRTC.\n * Generated by hepnc from %s; do not edit. */\n",
            g->name, g->name, spec_path);
    fprintf(f, "%s\n", hn_cuda_kernels_text);
    fprintf(l, "/* %s_cuda_launch.h — launch geometry of each kernel of %s.cu: threads per event (or 'pairs:max', 'block:D')\n"
               " * and the block size. Generated by hepnc from %s; do not edit. */\n", g->name, g->name, spec_path);
    fprintf(l, "static const struct { const char *kernel; const char *geometry; } %s_cuda_launches[] = {\n", g->name);
    int rc = 0;
    for (int i = 0; i < g->nnodes && !rc; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead) continue;
        char id[HN_NAME];
        hn_c_ident(id, sizeof id, n->name);
        fprintf(f, "/* %s — layer '%s' (%s) */\nextern \"C\" __global__ void %s_%s(const float *P, int batch, const int *n",
                n->name, n->layer[0] ? n->layer : n->name, hn_op(n->op)->name, g->name, id);
        for (int k = 0; k < n->nin; ++k) fprintf(f, ", const float *x%d", k);
        fprintf(f, ", float *y)\n{\n");
        cu_ctx c = { .f = f, .g = g, .n = n };
        rc = emit_node(&c);
        fprintf(f, "}\n\n");
        fprintf(l, "    { \"%s_%s\", \"%s\" },\n", g->name, id, c.launch);
    }
    fprintf(l, "};\n");
    fclose(f);
    fclose(l);
    *nfiles = 0;
    if (!rc && hn_mkdirs(dir)) rc = hn_error_plain("%s: error: cannot create the directory", dir);
    char name[HN_NAME + 24];
    snprintf(name, sizeof name, "%s.cu", g->name);
    if (!rc && !(rc = write_text(dir, name, cu, cu_len, files[*nfiles]))) ++*nfiles;
    snprintf(name, sizeof name, "%s_cuda_launch.h", g->name);
    if (!rc && !(rc = write_text(dir, name, lh, lh_len, files[*nfiles]))) ++*nfiles;
    free(cu);
    free(lh);
    return rc;
}
