/* emit_cuda_train.c — the GPU training step of a spec (hepnc compile --target cuda --train): NAME_train.cu
 * (the inference kernel bodies, templates/cuda/train.cuh, and a kernel per node whose training forward is
 * its inference forward) and NAME_cuda_train.c, the host side: the step of compiler/emit_train.c with
 * device pointers — the same training graph, plan and workspace layout (passes/plan_train.c), each
 * node's forward and backward as launches (hepnc/gpu_train.h, cuBLAS for the GEMMs), the loss on the host
 * by the runtime's own functions (logits are [batch][classes]: two small copies, the C step's numbers).
 *
 * Every op with a backward rule is covered; an op on the loss path that is not is refused with a message
 * naming the layer. Its parts: the pair embedding (emit_cuda_train_pair.c), EdgeConv
 * (emit_cuda_train_edgeconv.c), and the host adapter through which hepnc train --gpu drives the step
 * (emit_cuda_train_adapter.c); what they share is emit_cuda_train_internal.h. */
#include "emit_cuda_train.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "emit_c.h"
#include "emit_cuda_internal.h"
#include "emit_cuda_train_edgeconv.h"
#include "emit_cuda_train_internal.h"
#include "fsutil.h"
#include "ops.h"
#include "ops/pair_embed_layout.h"

extern const char hn_cuda_kernels_text[];
extern const char hn_cuda_train_kernels_text[];


static int on_loss_path(const hn_graph *g, const hn_node *n) { return !n->dead && g->tensors[n->out].on_loss_path; }

static int wants_backward(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *o = &g->tensors[n->out];
    return on_loss_path(g, n) && o->requires_grad && o->grad_offset >= 0;
}

static int grad_flows(const hn_graph *g, const hn_node *n, int k)
{
    return g->tensors[n->in[k]].grad_offset >= 0 && !(hn_op(n->op)->no_grad_inputs >> k & 1u);
}

static long rows_per_event(const hn_tensor *t) { return hn_shape_elems(&t->shape) / hn_last_dim(&t->shape); }

int hn_ct_masked(const hn_graph *g, const hn_tensor *t)
{
    return t->shape.nset && g->tensors[g->inputs[t->shape.set]].masked;
}

/* The fold of linear layer n's head scale (ParT's c_attn), -1: none. */
static int headscale_of(const hn_graph *g, const hn_node *n)
{
    for (int i = 0; i < g->nfolds; ++i)
        if (g->folds[i].kind == HN_FOLD_HEADSCALE && g->folds[i].w == n->param[0]) return i;
    return -1;
}

void hn_ct_upper(const hn_graph *g, char *dst, size_t n)
{
    snprintf(dst, n, "%s", g->name);
    for (int i = 0; dst[i]; ++i) dst[i] = (char)toupper((unsigned char)dst[i]);
}

int hn_ct_logits_width(const hn_graph *g) { return (int)hn_shape_elems(&g->tensors[g->train_logits].shape); }

/* The set whose real rows the linear layers pack (the first masked input), -1: none. */
static int pack_set(const hn_graph *g)
{
    for (int i = 0; i < g->ninputs; ++i)
        if (g->tensors[g->inputs[i]].masked) return i;
    return -1;
}

/* 1 when linear layer n's GEMMs can run on the packed real rows: its output is over the rows of the packed
 * set, one row per particle. */
static int packed_rows_linear(const hn_graph *g, const hn_node *n)
{
    const hn_tensor *o = &g->tensors[n->out];
    return n->op == HN_OP_linear && pack_set(g) >= 0 && o->shape.nset == 1 && o->shape.set == pack_set(g) &&
           hn_shape_elems(&o->shape) / hn_last_dim(&o->shape) == o->shape.dim[0];
}

/* A plain packed layer (no head scale): its GEMMs gather and scatter the real rows themselves. */
static int packed_linear(const hn_graph *g, const hn_node *n)
{
    return packed_rows_linear(g, n) && headscale_of(g, n) < 0;
}

/* A packed layer followed by a head scale (ParT's attention output projection): the GEMMs over the real
 * rows, the head scale over every row of the node state, whose padding rows are zeroed. */
static int packed_headscale_linear(const hn_graph *g, const hn_node *n)
{
    return packed_rows_linear(g, n) && headscale_of(g, n) >= 0;
}

/* The ops the GPU step trains. */
static int supported(const hn_graph *g, const hn_node *n)
{
    switch (n->op) {
    case HN_OP_linear: case HN_OP_layernorm: case HN_OP_batchnorm: case HN_OP_relu: case HN_OP_gelu: case HN_OP_add:
    case HN_OP_concat: case HN_OP_flatten: case HN_OP_pool: case HN_OP_residual: case HN_OP_class_token:
    case HN_OP_pair_features: case HN_OP_attention: case HN_OP_cls_attention:
        return 1;
    case HN_OP_pair_embed: return 1;
    case HN_OP_edge_conv: return hn_cu_train_edge_conv_supported(g, n);
    case HN_OP_standardize: case HN_OP_dropout: return 1;
    case HN_OP_slice: return !wants_backward(g, n);     /* forward only: an input's columns */
    default: return 0;
    }
}

int hn_emit_cuda_train_check(const hn_graph *g)
{
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (!on_loss_path(g, n) || supported(g, n)) continue;
        return hn_error(n->loc, "cannot train this spec on the GPU yet: layer '%s' (op %s) has no GPU training kernels "
                                "(the C target trains it: hepnc train)",
                        n->layer[0] ? n->layer : n->name, hn_op(n->op)->name);
    }
    return 0;
}

/* ---- NAME_train.cu ---------------------------------------------------------------------------- */

/* 1 when the node's training forward is its inference kernel (the others run train.cuh's pieces: batch
 * statistics, every slot pair, the head scale's layout change over every row) */
static int inference_forward(const hn_graph *g, const hn_node *n)
{
    switch (n->op) {
    case HN_OP_batchnorm: case HN_OP_pair_features: case HN_OP_pair_embed: case HN_OP_attention: case HN_OP_dropout:
    case HN_OP_edge_conv:
        return 0;
    case HN_OP_linear: return 0;
    default: return 1;
    }
}

static int emit_cu(FILE *f, ctgen *G)
{
    const hn_graph *g = G->g;
    fprintf(f, "/* %s_train.cu — device kernels of the training step of '%s', for NVRTC.\n"
               " * Generated by hepnc from %s; do not edit. */\n%s\n%s\n",
            g->name, g->name, g->spec_path, hn_cuda_kernels_text, hn_cuda_train_kernels_text);
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (!on_loss_path(g, n) || !inference_forward(g, n)) continue;
        if (hn_cu_emit_node_kernel(f, g, n, &G->ctx[i])) return -1;
        if (n->op == HN_OP_cls_attention) hn_cu_emit_cls_gemm_kernels(f, g, n);
        if (G->ctx[i].geom != 0 && G->ctx[i].geom != 2)
            return hn_error(n->loc, "layer '%s': its CUDA forward has no training launch yet (internal)", n->name);
    }
    return 0;
}

/* ---- NAME_cuda_train.c: the step ---------------------------------------------------------------- */

/* A tensor's variable in the step, as in the C step: in_<name> for inputs, t_<name> otherwise. */
void hn_ct_tvar(const hn_graph *g, int t, char *dst, size_t n)
{
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, g->tensors[t].name);
    snprintf(dst, n, "%s_%s", g->tensors[t].role == HN_T_INPUT ? "in" : "t", id);
}

static void pointers(FILE *f, const hn_graph *g)
{
    char var[HN_NAME + 8];
    for (int i = 0; i < g->ninputs; ++i) {
        hn_ct_tvar(g, g->inputs[i], var, sizeof var);
        fprintf(f, "    const float *%s = inputs[%d];\n", var, i);
    }
    for (int t = 0; t < g->ntensors; ++t) {
        const hn_tensor *x = &g->tensors[t];
        if (x->offset < 0) continue;
        hn_ct_tvar(g, t, var, sizeof var);
        fprintf(f, "    float *%s = ws + (size_t)batch * %ldu;   /* %s */\n", var, x->offset, x->name);
        if (x->grad_offset >= 0) {
            char id[HN_NAME];
            hn_c_ident(id, sizeof id, x->name);
            fprintf(f, "    float *g_%s = grad_ws + (size_t)batch * %ldu;\n", id, x->grad_offset);
        }
    }
}

static void grad_var(const hn_graph *g, int t, char *dst, size_t n)
{
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, g->tensors[t].name);
    snprintf(dst, n, "g_%s", id);
}

const char *hn_ct_counts_of(const hn_graph *g, const hn_tensor *t, char *buf, size_t n)
{
    if (hn_ct_masked(g, t)) snprintf(buf, n, "counts[%d]", t->shape.set);
    else snprintf(buf, n, "NULL");
    return buf;
}

#define CHECK HN_CT_CHECK

/* The counts a node's kernel reads: of its output's set, else of its first input's with one (a pooling). */
static const char *node_counts(const hn_graph *g, const hn_node *n, char *buf, size_t len)
{
    const hn_tensor *t = &g->tensors[n->out];
    for (int k = 0; !t->shape.nset && k < n->nin; ++k) t = &g->tensors[n->in[k]];
    return hn_ct_counts_of(g, t, buf, len);
}

static long R_of(const hn_tensor *t) { return rows_per_event(t); }
static const hn_tensor *xin_of(const hn_graph *g, const hn_node *n) { return &g->tensors[n->in[0]]; }

int hn_pair_feature_selection(const hn_node *n, int *sel);

/* The attention's forward (backward 0) or backward (1; dx: dqkv, dU): with its dropout on the probabilities
 * when the layer has one (the C step's masks: same seed, layer key and element index). */
static void attention_call(ctgen *G, const hn_node *n, int backward, char dx[][HN_NAME + 48])
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const hn_tensor *o = &g->tensors[n->out];
    int heads = (int)hn_attr_int(n, "heads"), D = o->shape.dim[1], max = o->shape.dim[0];
    double rate = hn_attr_float(n, "dropout");
    char x0[HN_NAME + 8], U[HN_NAME + 8] = "NULL", y[HN_NAME + 8], cnt[32], lit[48];
    hn_ct_tvar(g, n->in[0], x0, sizeof x0);
    if (n->nin > 1) hn_ct_tvar(g, n->in[1], U, sizeof U);
    hn_ct_counts_of(g, o, cnt, sizeof cnt);
    hn_c_float((float)rate, lit);
    fprintf(f, "    {   /* dropout on the probabilities: layer key FNV-1a of '%s' */\n"
               "        const hn_gt_attn_dropout dr = { %s, seed, 0x%016llxull, 0 };\n", n->name, rate > 0 ? lit : "0.0f",
            (unsigned long long)hn_fnv1a(n->name, strlen(n->name), 1469598103934665603ull));
    if (!backward) {
        hn_ct_tvar(g, n->out, y, sizeof y);
        fprintf(f, "        if (hn_gt_attention_forward(gpu, %s, %s, %s, batch, %d, %d, %d, &dr, %s, " CHECK "    }\n", x0, U, cnt, max,
                heads, D / heads, y);
        return;
    }
    char dy[HN_NAME + 8];
    grad_var(g, n->out, dy, sizeof dy);
    fprintf(f, "        if (hn_gt_attention_backward_dropout(gpu, %s, %s, %s, batch, %d, %d, %d, &dr, %s, %s, %s, extra_ws, " CHECK "    }\n",
            x0, U, cnt, max, heads, D / heads, dy, dx[0], n->nin > 1 ? dx[1] : "NULL");
}

/* Class attention's forward in its GEMM form, as inference with cuBLAS (emit_cuda_host.c): the keys'
 * LayerNorm into extra_ws, K|V and the token's Q as GEMMs, then the attention a block per event. */
static void cls_attention_forward(ctgen *G, const hn_node *n)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const hn_tensor *x = &g->tensors[n->in[1]];
    int max = x->shape.dim[0], D = x->shape.dim[1];
    long W = g->params[n->param[2]].offset;
    char id[HN_NAME], x0[HN_NAME + 8], x1[HN_NAME + 8], y[HN_NAME + 8], cnt[32];
    hn_c_ident(id, sizeof id, n->name);
    hn_ct_tvar(g, n->in[0], x0, sizeof x0);
    hn_ct_tvar(g, n->in[1], x1, sizeof x1);
    hn_ct_tvar(g, n->out, y, sizeof y);
    fprintf(f, "    {   /* scratch: u [batch][%d][%d] | kv [batch][%d][%d] | q [batch][%d] */\n"
               "        const int32_t *n = %s;\n        const float *x0 = %s, *x1 = %s;\n        float *y = %s;\n"
               "        float *s = extra_ws, *kv = s + (size_t)batch * %ld, *q = kv + (size_t)batch * %ld;\n"
               "        void *sargs[] = { &params, &batch, &n, &x0, &x1, &y, &s };\n"
               "        if (hn_gpu_launch(gpu, \"%s_%s_keys\", (unsigned)(((long)batch * %d * 32 + 255) / 256), 1, 256, 0, sargs, " CHECK
               "        if (hn_gpu_linear_gemm(gpu, s, params + %ld, kv, (long)batch * %d, %d, %d, " CHECK
               "        if (hn_gpu_linear_gemm(gpu, x0, params + %ld, q, batch, %d, %d, " CHECK
               "        if (hn_gpu_launch(gpu, \"%s_%s_attend\", (unsigned)batch, 1, %d, 0, sargs, " CHECK "    }\n",
            max + 1, D, max + 1, 2 * D, D, hn_ct_counts_of(g, x, cnt, sizeof cnt), x0, x1, y, (long)(max + 1) * D, (long)(max + 1) * 2 * D,
            g->name, id, max + 1, W + (long)D * D, max + 1, D, 2 * D, W, D, D, g->name, id, D);
}

static void forward_call(ctgen *G, const hn_node *n, int i)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const hn_tensor *o = &g->tensors[n->out];
    char x0[HN_NAME + 8], y[HN_NAME + 8], cnt[32], id[HN_NAME], eps[48];
    hn_ct_tvar(g, n->in[0], x0, sizeof x0);
    hn_ct_tvar(g, n->out, y, sizeof y);
    hn_c_ident(id, sizeof id, n->name);
    fprintf(f, "    /* %s (%s) */\n", n->name, hn_op(n->op)->name);
    if (n->op == HN_OP_batchnorm) {
        int dim = hn_last_dim(&o->shape);
        long R = rows_per_event(o);
        hn_c_float((float)hn_attr_float(n, "eps"), eps);
        if (n->state_offset >= 0) {     /* a set: a trimmed batch's statistics count its first cfg->slots slots */
            int max = o->shape.dim[0];
            fprintf(f, "    if (cfg->slots > 0 && cfg->slots < %d) {   /* weight 1 on each event's first cfg->slots slots */\n"
                       "        if (hn_gt_slot_weights(gpu, state_ws + (size_t)batch * %ld, batch, %ld, (long)cfg->slots * %ld, " CHECK
                       "        if (hn_gt_batchnorm_forward_weighted(gpu, %s, (long)batch * %ld, state_ws + (size_t)batch * %ld, "
                       "(double)batch * cfg->slots * %ld, %d,\n"
                       "                params + %ld, params + %ld, %s, (float)cfg->bn_momentum, params + %ld, params + %ld, fixed_ws + %ld, "
                       "fixed_ws + %ld, %s, &scratch, " CHECK "    } else\n",
                    max, n->state_offset, R, R / max, x0, R, n->state_offset, R / max, dim, g->params[n->param[0]].offset,
                    g->params[n->param[1]].offset, eps, g->params[n->param[2]].offset, g->params[n->param[3]].offset, n->fixed_offset,
                    n->fixed_offset + dim, y);
        }
        fprintf(f, "    if (hn_gt_batchnorm_forward(gpu, %s, (long)batch * %ld, %d, params + %ld, params + %ld, %s, (float)cfg->bn_momentum,\n"
                   "            params + %ld, params + %ld, fixed_ws + %ld, fixed_ws + %ld, %s, &scratch, " CHECK,
                x0, R, dim, g->params[n->param[0]].offset, g->params[n->param[1]].offset, eps,
                g->params[n->param[2]].offset, g->params[n->param[3]].offset, n->fixed_offset, n->fixed_offset + dim, y);
        return;
    }
    if (n->op == HN_OP_pair_features) {
        int sel[8], count = hn_pair_feature_selection(n, sel), packed = 0;
        for (int k = 0; k < count; ++k) packed |= sel[k] << (2 * k);
        fprintf(f, "    if (hn_gt_pair_features_all(gpu, %s, batch, %d, %d, %d, %s, " CHECK, x0, o->shape.dim[0], packed, count, y);
        return;
    }
    if (n->op == HN_OP_pair_embed) { hn_ct_pair_embed_forward(G, n); return; }
    if (n->op == HN_OP_attention) { attention_call(G, n, 0, NULL); return; }
    if (n->op == HN_OP_cls_attention) { cls_attention_forward(G, n); return; }
    if (n->op == HN_OP_edge_conv) {
        char x1[HN_NAME + 8];
        hn_ct_tvar(g, n->in[1], x1, sizeof x1);
        hn_cu_train_edge_conv(f, g, n, 0, x0, x1, y, NULL, NULL);
        return;
    }
    if (n->op == HN_OP_dropout) {
        char p[48];
        hn_c_float((float)hn_attr_float(n, "p"), p);
        fprintf(f, "    if (hn_gt_dropout(gpu, %s, (long)batch * %ld, %s, seed, 0x%016llxull, %s, " CHECK, x0, hn_shape_elems(&o->shape), p,
                (unsigned long long)hn_fnv1a(n->name, strlen(n->name), 1469598103934665603ull), y);
        return;
    }
    if (packed_linear(g, n)) {
        char bias[48] = "NULL";
        if (n->nparam > 1) snprintf(bias, sizeof bias, "params + %ld", g->params[n->param[1]].offset);
        fprintf(f, "    if (hn_gt_linear_forward_packed(gpu, %s, &pk, %d, params + %ld, %s, %d, %s, extra_ws, " CHECK, x0,
                hn_last_dim(&xin_of(g, n)->shape), g->params[n->param[0]].offset, bias, hn_last_dim(&o->shape), y);
        return;
    }
    if (n->op == HN_OP_linear && headscale_of(g, n) < 0) {
        char bias[48] = "NULL";
        if (n->nparam > 1) snprintf(bias, sizeof bias, "params + %ld", g->params[n->param[1]].offset);
        fprintf(f, "    if (hn_gt_linear_forward(gpu, %s, (long)batch * %ld, %d, params + %ld, %s, %d, %s, " CHECK, x0, R_of(o),
                hn_last_dim(&xin_of(g, n)->shape), g->params[n->param[0]].offset, bias, hn_last_dim(&o->shape), y);
        if (hn_ct_masked(g, o))       /* padding rows stay zero, as the C step leaves them */
            fprintf(f, "    if (hn_gt_zero_padding(gpu, %s, batch, counts[%d], %d, %ld, " CHECK, y, o->shape.set, o->shape.dim[0],
                    hn_shape_row_elems(&o->shape));
        if (n->act) fprintf(f, "    if (hn_gt_act(gpu, %s, (long)batch * %ld, %d, %s, " CHECK, y, hn_shape_elems(&o->shape), n->act, y);
        return;
    }
    if (packed_headscale_linear(g, n)) {
        const hn_fold *hs = &g->folds[headscale_of(g, n)];
        int out = hn_last_dim(&o->shape);
        fprintf(f, "    /* x·Wᵀ + b over the real rows into the node state (its padding rows zero), then the head scale */\n"
                   "    if (hn_gt_linear_forward_packed(gpu, %s, &pk, %d, params + %ld, params + %ld, %d, state_ws + (size_t)batch * %ld, extra_ws, " CHECK
                   "    if (hn_gt_zero_padding(gpu, state_ws + (size_t)batch * %ld, batch, counts[%d], %d, %d, " CHECK
                   "    if (hn_gt_headscale(gpu, state_ws + (size_t)batch * %ld, (long)batch * %ld, %d, %d, params + %ld, 0, %s, " CHECK,
                x0, hn_last_dim(&xin_of(g, n)->shape), g->params[n->param[0]].offset, g->params[n->param[1]].offset, out,
                n->state_offset, n->state_offset, o->shape.set, o->shape.dim[0], out, n->state_offset, R_of(o), hs->heads,
                out / hs->heads, g->params[hs->bn_gamma].offset, y);
        return;
    }
    if (n->op == HN_OP_linear && headscale_of(g, n) >= 0) {
        const hn_fold *hs = &g->folds[headscale_of(g, n)];
        int out = hn_last_dim(&o->shape);
        fprintf(f, "    /* x·Wᵀ + b over every slot into the node state, then the head scale (head-major → channel-major) */\n"
                   "    if (hn_gt_linear_forward(gpu, %s, (long)batch * %ld, %d, params + %ld, params + %ld, %d, state_ws + (size_t)batch * %ld, " CHECK
                   "    if (hn_gt_headscale(gpu, state_ws + (size_t)batch * %ld, (long)batch * %ld, %d, %d, params + %ld, 0, %s, " CHECK,
                x0, R_of(o), hn_last_dim(&xin_of(g, n)->shape), g->params[n->param[0]].offset, g->params[n->param[1]].offset, out,
                n->state_offset, n->state_offset, R_of(o), hs->heads, out / hs->heads, g->params[hs->bn_gamma].offset, y);
        return;
    }
    fprintf(f, "    {\n        const int32_t *n = %s;\n", node_counts(g, n, cnt, sizeof cnt));
    for (int k = 0; k < n->nin; ++k) {
        hn_ct_tvar(g, n->in[k], x0, sizeof x0);
        fprintf(f, "        const float *x%d = %s;\n", k, x0);
    }
    fprintf(f, "        float *y = %s;\n        void *args[] = { &params, &batch, &n", y);
    for (int k = 0; k < n->nin; ++k) fprintf(f, ", &x%d", k);
    const cu_ctx *c = &G->ctx[i];
    if (c->geom == 2)                   /* a block per event */
        fprintf(f, ", &y };\n        if (hn_gpu_launch(gpu, \"%s_%s\", (unsigned)batch, 1, %d, %d, args, " CHECK "    }\n", g->name, id,
                c->block, c->shared);
    else                                /* per_event threads per event */
        fprintf(f, ", &y };\n        if (hn_gpu_launch(gpu, \"%s_%s\", (unsigned)(((long)batch * %ld + %d) / %d), 1, %d, 0, args, " CHECK
                   "    }\n", g->name, id, c->per_event, c->block - 1, c->block, c->block);
}

/* The backward of node n: dy its output's gradient, dx<k> where its input's gradient goes (NULL: none). */
static void backward_body(ctgen *G, const hn_node *n, char dx[][HN_NAME + 48])
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const hn_tensor *o = &g->tensors[n->out], *xin = &g->tensors[n->in[0]];
    char x0[HN_NAME + 8], dy[HN_NAME + 8], cnt[32], eps[48];
    hn_ct_tvar(g, n->in[0], x0, sizeof x0);
    grad_var(g, n->out, dy, sizeof dy);
    int dim = hn_last_dim(&o->shape);
    long R = rows_per_event(o), elems = hn_shape_elems(&o->shape);
#define PAR(k) g->params[n->param[k]].offset
    switch (n->op) {
    case HN_OP_linear: {
        char db[48] = "NULL";
        int hs = headscale_of(g, n);
        if (n->nparam > 1) snprintf(db, sizeof db, "grads + %ld", PAR(1));
        if (packed_linear(g, n)) {
            fprintf(f, "    if (hn_gt_linear_backward_packed(gpu, %s, %s, &pk, %d, params + %ld, %d, %s, grads + %ld, %s, extra_ws, &scratch, "
                    CHECK, x0, dy, hn_last_dim(&xin->shape), PAR(0), dim, dx[0], PAR(0), db);
            break;
        }
        char dz[96];
        snprintf(dz, sizeof dz, "%s", dy);
        if (hs >= 0) {          /* through the head scale first: dc, then dz = c ⊙ dy back to head-major */
            const hn_fold *fold = &g->folds[hs];
            snprintf(dz, sizeof dz, "(state_ws + (size_t)batch * %ldu)", n->state_offset + elems);
            fprintf(f, "    if (hn_gt_headscale_grad(gpu, %s, state_ws + (size_t)batch * %ld, (long)batch * %ld, %d, %d, %s, grads + %ld, &scratch, " CHECK
                       "    if (hn_gt_headscale(gpu, %s, (long)batch * %ld, %d, %d, params + %ld, 1, %s, " CHECK,
                    dy, n->state_offset, R, fold->heads, dim / fold->heads, dz, g->params[fold->bn_gamma].offset, dy, R, fold->heads,
                    dim / fold->heads, g->params[fold->bn_gamma].offset, dz);
        }
        if (packed_headscale_linear(g, n))
            fprintf(f, "    if (hn_gt_linear_backward_packed(gpu, %s, %s, &pk, %d, params + %ld, %d, %s, grads + %ld, %s, extra_ws, &scratch, "
                    CHECK, x0, dz, hn_last_dim(&xin->shape), PAR(0), dim, dx[0], PAR(0), db);
        else
            fprintf(f, "    if (hn_gt_linear_backward(gpu, %s, (long)batch * %ld, %d, params + %ld, %d, %s, %s, grads + %ld, %s, &scratch, " CHECK,
                    x0, R, hn_last_dim(&xin->shape), PAR(0), dim, dz, dx[0], PAR(0), db);
        break;
    }
    case HN_OP_relu: case HN_OP_gelu:
        fprintf(f, "    if (%s && hn_gt_act_backward(gpu, %s, %s, (long)batch * %ld, %d, %s, " CHECK, dx[0], x0, dy, elems,
                n->op == HN_OP_relu ? 1 : 2, dx[0]);
        break;
    case HN_OP_layernorm:
        hn_c_float((float)hn_attr_float(n, "eps"), eps);
        fprintf(f, "    if (hn_gt_layernorm_backward(gpu, %s, %s, %s, batch, %ld, %ld, %d, params + %ld, %s, %s, grads + %ld, grads + %ld, "
                   "&scratch, " CHECK, x0, dy, hn_ct_counts_of(g, o, cnt, sizeof cnt), R, hn_cu_per_row_of(o), dim, PAR(0), eps, dx[0],
                PAR(0), PAR(1));
        break;
    case HN_OP_batchnorm:
        hn_c_float((float)hn_attr_float(n, "eps"), eps);
        if (n->state_offset >= 0)       /* a trimmed batch: the forward's slot weights, in the node state */
            fprintf(f, "    if (cfg->slots > 0 && cfg->slots < %d) {\n"
                       "        if (hn_gt_batchnorm_backward_weighted(gpu, %s, (long)batch * %ld, state_ws + (size_t)batch * %ld, "
                       "(double)batch * cfg->slots * %ld, %d,\n"
                       "                params + %ld, %s, fixed_ws + %ld, fixed_ws + %ld, %s, %s ? %s : %s, grads + %ld, grads + %ld, &scratch, "
                       CHECK "    } else\n",
                    o->shape.dim[0], x0, R, n->state_offset, R / o->shape.dim[0], dim, PAR(0), eps, n->fixed_offset,
                    n->fixed_offset + dim, dy, dx[0], dx[0], dy, PAR(0), PAR(1));
        fprintf(f, "    if (hn_gt_batchnorm_backward(gpu, %s, (long)batch * %ld, %d, params + %ld, %s, fixed_ws + %ld, fixed_ws + %ld, %s,\n"
                   "            %s ? %s : %s, grads + %ld, grads + %ld, &scratch, " CHECK,
                x0, R, dim, PAR(0), eps, n->fixed_offset, n->fixed_offset + dim, dy, dx[0], dx[0], dy, PAR(0), PAR(1));
        break;
    case HN_OP_add:
        for (int k = 0; k < 2; ++k)
            fprintf(f, "    if (%s && hn_gt_copy_cols(gpu, %s, (long)batch, %ld, 0, %ld, %s, " CHECK, dx[k], dy, elems, elems, dx[k]);
        break;
    case HN_OP_flatten:
        fprintf(f, "    if (%s && hn_gt_copy_cols(gpu, %s, (long)batch, %ld, 0, %ld, %s, " CHECK, dx[0], dy, elems, elems, dx[0]);
        break;
    case HN_OP_concat: {
        int col = 0;
        for (int k = 0; k < n->nin; ++k) {
            int w = hn_last_dim(&g->tensors[n->in[k]].shape);
            fprintf(f, "    if (%s && hn_gt_copy_cols(gpu, %s, (long)batch * %ld, %d, %d, %d, %s, " CHECK, dx[k], dy, R, dim, col, w, dx[k]);
            col += w;
        }
        break;
    }
    case HN_OP_residual: {
        char x1[HN_NAME + 8];
        hn_ct_tvar(g, n->in[1], x1, sizeof x1);
        fprintf(f, "    if (hn_gt_residual_backward(gpu, %s, (long)batch * %ld, %d, params + %ld, %s, %s, %s, grads + %ld, &scratch, " CHECK,
                x1, R, dim, PAR(0), dy, dx[0], dx[1], PAR(0));
        break;
    }
    case HN_OP_class_token:
        fprintf(f, "    if (hn_gt_column_sums(gpu, %s, (long)batch, %d, grads + %ld, &scratch, " CHECK, dy, dim, PAR(0));
        break;
    case HN_OP_pair_embed:
        hn_ct_pair_embed_backward(G, n, dy);
        break;
    case HN_OP_attention:
        attention_call(G, n, 1, dx);
        break;
    case HN_OP_edge_conv: {
        char x1[HN_NAME + 8], y[HN_NAME + 8];
        hn_ct_tvar(g, n->in[1], x1, sizeof x1);
        hn_ct_tvar(g, n->out, y, sizeof y);
        hn_cu_train_edge_conv(f, g, n, 1, x0, x1, y, dy, dx[0]);
        break;
    }
    case HN_OP_dropout: {   /* the same mask and scale on dy */
        char p[48];
        hn_c_float((float)hn_attr_float(n, "p"), p);
        fprintf(f, "    if (%s && hn_gt_dropout(gpu, %s, (long)batch * %ld, %s, seed, 0x%016llxull, %s, " CHECK, dx[0], dy, elems, p,
                (unsigned long long)hn_fnv1a(n->name, strlen(n->name), 1469598103934665603ull), dx[0]);
        break;
    }
    case HN_OP_cls_attention: {
        const hn_shape *x = &g->tensors[n->in[1]].shape;
        char x1[HN_NAME + 8];
        hn_ct_tvar(g, n->in[1], x1, sizeof x1);
        fprintf(f, "    if (hn_gt_class_attention_backward(gpu, %s, %s, %s, batch, %d, %d, %ld, params + %ld, params + %ld, params + %ld, "
                   "params + %ld,\n            %s, %s, %s, grads + %ld, grads + %ld, grads + %ld, grads + %ld, extra_ws, " CHECK,
                x0, x1, hn_ct_counts_of(g, &g->tensors[n->in[1]], cnt, sizeof cnt), x->dim[0], x->dim[1], hn_attr_int(n, "heads"),
                PAR(2), PAR(3), PAR(0), PAR(1), dy, dx[0], dx[1], PAR(2), PAR(3), PAR(0), PAR(1));
        break;
    }
    case HN_OP_pool: {
        const char *mode = hn_attr_str(n, "mode");
        fprintf(f, "    if (%s && hn_gt_pool_backward(gpu, %s, %s, %s, batch, %d, %d, %d, %s, " CHECK, dx[0], x0, dy,
                hn_ct_counts_of(g, xin, cnt, sizeof cnt), xin->shape.dim[0], hn_last_dim(&xin->shape),
                !strcmp(mode, "sum") ? 0 : !strcmp(mode, "mean") ? 1 : 2, dx[0]);
        break;
    }
    default: break;
    }
#undef PAR
}

static void backward_calls(ctgen *G)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    char *written = calloc((size_t)g->ntensors, 1);
    fprintf(f, "\n    /* backward, in reverse graph order; gradients of tensors read twice add up in acc */\n");
    for (int i = g->nnodes - 1; i >= 0 && written; --i) {
        const hn_node *n = &g->nodes[i];
        if (!wants_backward(g, n)) continue;
        const hn_tensor *o = &g->tensors[n->out];
        char var[HN_NAME + 8], cnt[32], dx[HN_MAX_IN][HN_NAME + 48];
        grad_var(g, n->out, var, sizeof var);
        fprintf(f, "    /* backward of %s (%s) */\n", n->name, hn_op(n->op)->name);
        if (o->shape.nset == 1 && !hn_op(n->op)->all_slots && hn_ct_masked(g, o))
            fprintf(f, "    if (hn_gt_zero_padding(gpu, %s, batch, %s, %d, %ld, " CHECK, var, hn_ct_counts_of(g, o, cnt, sizeof cnt),
                    o->shape.dim[0], hn_shape_row_elems(&o->shape));
        int acc[HN_MAX_IN], nacc = 0;
        for (int k = 0; k < n->nin; ++k) {
            const hn_tensor *x = &g->tensors[n->in[k]];
            acc[k] = -1;
            snprintf(dx[k], sizeof dx[k], "NULL");
            if (!grad_flows(g, n, k)) continue;
            if (written[n->in[k]]) {
                acc[k] = nacc++;
                snprintf(dx[k], sizeof dx[k], "(acc + (size_t)batch * %ldu)", acc[k] * g->train_acc_floats);
                fprintf(f, "    if (hn_gt_zero(gpu, %s, (long)batch * %ld, " CHECK, dx[k], hn_shape_elems(&x->shape));
            } else
                grad_var(g, n->in[k], dx[k], sizeof dx[k]);
        }
        backward_body(G, n, dx);
        for (int k = 0; k < n->nin; ++k) {
            if (!grad_flows(g, n, k)) continue;
            if (acc[k] >= 0) {
                grad_var(g, n->in[k], var, sizeof var);
                fprintf(f, "    if (hn_gt_accumulate(gpu, %s, (long)batch * %ld, %s, " CHECK, dx[k],
                        hn_shape_elems(&g->tensors[n->in[k]].shape), var);
            }
            written[n->in[k]] = 1;
        }
    }
    free(written);
}

/* The largest reduction any node runs (rows per event × columns), for the scratch. */
static void reduction_extent(ctgen *G)
{
    const hn_graph *g = G->g;
    G->red_rows = 1, G->red_cols = 1;
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (!on_loss_path(g, n)) continue;
        const hn_tensor *o = &g->tensors[n->out];
        if (rows_per_event(o) > G->red_rows) G->red_rows = rows_per_event(o);
        if (hn_last_dim(&o->shape) > G->red_cols) G->red_cols = hn_last_dim(&o->shape);
        if (n->op == HN_OP_pair_embed) {        /* its rows: at most max(max+1)/2 per event, its layers' widths */
            pe_layout L;
            hn_pe_layout_of(g, n, &L);
            if (L.np > G->red_rows) G->red_rows = L.np;
            if (L.widest > G->red_cols) G->red_cols = L.widest;
            if (L.extra && (long)L.max * L.max > G->red_rows) G->red_rows = (long)L.max * L.max;
            if (L.extra && L.c2 > G->red_cols) G->red_cols = L.c2;
        }
    }
}

static void emit_loss(ctgen *G)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    int C = hn_ct_logits_width(g);
    char lv[HN_NAME + 8], gv[HN_NAME + 8];
    hn_ct_tvar(g, g->train_logits, lv, sizeof lv);
    grad_var(g, g->train_logits, gv, sizeof gv);
    fprintf(f, "\n    /* the loss on the host, by the runtime's functions (as the C step): logits down, their gradient up */\n"
               "    if (hn_gpu_to_host(gpu, h.logits, %s, sizeof(float) * (size_t)batch * %d, " CHECK
               "    double loss;\n"
               "    if (cfg->loss == HN_LOSS_FOCAL)\n"
               "        loss = hn_loss_focal(h.logits, h.labels, h.weights, (size_t)batch, %d, cfg->focal_alpha, NULL, cfg->focal_gamma, h.dlogits);\n"
               "    else if (cfg->loss == HN_LOSS_BCE) {\n"
               "        hn_bce_targets(h.labels, (size_t)batch, %d, h.targets);\n"
               "        loss = hn_loss_bce_logits(h.logits, h.targets, h.weights, (size_t)batch, %d, h.dlogits);\n"
               "    } else\n"
               "        loss = hn_loss_cross_entropy(h.logits, h.labels, h.weights, (size_t)batch, %d, cfg->label_smoothing, h.dlogits);\n"
               "    if (hn_gpu_to_device(gpu, %s, h.dlogits, sizeof(float) * (size_t)batch * %d, " CHECK
               "    if (loss_out) *loss_out = loss;\n"
               "    if (logits_out && hn_gpu_to_device(gpu, logits_out, h.logits, sizeof(float) * (size_t)batch * %d, " CHECK,
            lv, C, C, C, C, C, gv, C, C);
}

static void emit_host_checks(ctgen *G)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    int C = hn_ct_logits_width(g);
    fprintf(f, "    if (batch < 0) { snprintf(err, errlen, \"%s: negative batch %%d\", batch); return HN_ERR_BATCH; }\n", g->name);
    fprintf(f, "    if (!cfg->training) { snprintf(err, errlen, \"%s: the GPU step runs in training mode only\"); return HN_ERR_DEVICE; }\n", g->name);
    fprintf(f, "    host_buffers h;\n    int rc = host_setup(&h, gpu, counts, labels, weights, batch, err, errlen);\n"
               "    if (rc) { host_free(&h); return rc; }\n");
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        if (!t->masked) continue;
        fprintf(f, "    for (int b = 0; b < batch; ++b)   /* a trimmed batch (cfg->slots) holds at most that many */\n"
                   "        if (h.counts[%d][b] < 0 || h.counts[%d][b] > (cfg->slots > 0 && cfg->slots < %d ? cfg->slots : %d)) {\n"
                   "            snprintf(err, errlen, \"%s: event %%d: %s count %%d is outside 0..%%d\", b, (int)h.counts[%d][b],\n"
                   "                     cfg->slots > 0 && cfg->slots < %d ? cfg->slots : %d);\n"
                   "            host_free(&h);\n            return HN_ERR_SET_SIZE;\n        }\n",
                i, i, t->shape.dim[0], t->shape.dim[0], g->name, t->name, i, t->shape.dim[0], t->shape.dim[0]);
    }
    fprintf(f, "    const int64_t nlabels = cfg->loss == HN_LOSS_BCE && %d == 1 ? 2 : %d;\n"
               "    for (int b = 0; b < batch; ++b)\n"
               "        if (h.labels[b] < 0 || h.labels[b] >= nlabels) {\n"
               "            snprintf(err, errlen, \"%s: event %%d: label %%lld is outside 0..%%lld\", b, (long long)h.labels[b], (long long)nlabels - 1);\n"
               "            host_free(&h);\n            return HN_ERR_LABEL;\n        }\n", C, C, g->name);
}

static void emit_host_buffers(ctgen *G)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    int C = hn_ct_logits_width(g);
    fprintf(f, "/* What the step reads back (counts and labels, to check them; weights and logits, for the loss). */\n"
               "typedef struct host_buffers {\n    int32_t *counts[%d];\n    int64_t *labels;\n    float *weights, *logits, *dlogits, *targets;\n"
               "    int *offs;   /* the pair embedding's first row of each event */\n"
               "    int *poffs;  /* the packed set's first real row of each event */\n} host_buffers;\n\n",
            g->ninputs);
    fprintf(f, "static void host_free(host_buffers *h)\n{\n    for (int i = 0; i < %d; ++i) free(h->counts[i]);\n"
               "    free(h->labels);\n    free(h->offs);\n    free(h->poffs);\n    free(h->weights);\n    free(h->logits);\n    free(h->dlogits);\n    free(h->targets);\n}\n\n", g->ninputs);
    fprintf(f, "static int host_setup(host_buffers *h, hn_gpu *gpu, const int32_t *const *counts, const int64_t *labels, const float *weights,\n"
               "                      int batch, char *err, size_t errlen)\n{\n    (void)counts;\n    memset(h, 0, sizeof *h);\n    size_t nb = batch > 0 ? (size_t)batch : 1;\n"
               "    h->labels = malloc(sizeof(int64_t) * nb);\n    h->logits = malloc(sizeof(float) * nb * %d);\n"
               "    h->dlogits = malloc(sizeof(float) * nb * %d);\n    h->targets = malloc(sizeof(float) * nb * %d);\n"
               "    if (weights) h->weights = malloc(sizeof(float) * nb);\n    h->offs = malloc(sizeof(int) * (nb + 1));\n"
               "    h->poffs = malloc(sizeof(int) * (nb + 1));\n"
               "    if (!h->labels || !h->offs || !h->poffs || !h->logits || !h->dlogits || !h->targets || (weights && !h->weights)) { snprintf(err, errlen, \"out of host memory\"); return HN_ERR_DEVICE; }\n"
               "    if (batch && (hn_gpu_to_host(gpu, h->labels, labels, sizeof(int64_t) * (size_t)batch, err, errlen) ||\n"
               "                  (weights && hn_gpu_to_host(gpu, h->weights, weights, sizeof(float) * (size_t)batch, err, errlen)))) return HN_ERR_DEVICE;\n",
            C, C, C);
    for (int i = 0; i < g->ninputs; ++i) {
        if (!g->tensors[g->inputs[i]].masked) continue;
        fprintf(f, "    if (!(h->counts[%d] = malloc(sizeof(int32_t) * nb))) { snprintf(err, errlen, \"out of host memory\"); return HN_ERR_DEVICE; }\n"
                   "    if (batch && hn_gpu_to_host(gpu, h->counts[%d], counts[%d], sizeof(int32_t) * (size_t)batch, err, errlen)) return HN_ERR_DEVICE;\n",
                i, i, i);
    }
    fprintf(f, "    return 0;\n}\n\n");
}

static void emit_step(ctgen *G)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const char *m = g->name;
    fprintf(f, "int %s_cuda_train_step(hn_gpu *gpu, float *params, float *grads, const float *const *inputs,\n"
               "        const int32_t *const *counts, const int64_t *labels, const float *weights, int batch, const hn_train_config *cfg,\n"
               "        uint64_t seed, float *logits_out, double *loss_out, void *workspace, char *err, size_t errlen)\n{\n"
               "    (void)seed;   /* the dropout masks (layers, attention) come from it; unused without dropout */\n", m);
    emit_host_checks(G);
    fprintf(f, "    float *ws = (float *)workspace;\n"
               "    float *grad_ws = ws + (size_t)batch * %ldu;\n"
               "    float *acc = ws + (size_t)batch * %ldu;   /* the accumulators */\n"
               "    float *state_ws = ws + (size_t)batch * %ldu;\n"
               "    float *fixed_ws = ws + (size_t)batch * %ldu;\n"
               "    float *extra_ws = ws + (((size_t)batch * %ldu + %ldu + 3) & ~(size_t)3);   /* the attention backwards' scratch */\n"
               "    hn_gt_scratch scratch;\n"
               "    hn_gt_scratch_carve((char *)extra_ws + extra_bytes(batch), (long)batch * %ld, %ld, &scratch);\n"
               "    long pe_rows = 0;   /* the pair embedding's rows in this batch */\n"
               "    (void)acc; (void)state_ws; (void)fixed_ws; (void)extra_ws; (void)pe_rows;\n",
            g->train_act_floats, g->train_act_floats + g->train_grad_floats,
            g->train_act_floats + g->train_grad_floats + g->train_tmp_floats, G->per_event, G->per_event,
            g->train_fixed_floats, G->red_rows, G->red_cols);
    char upper[HN_NAME];
    hn_ct_upper(g, upper, sizeof upper);
    fprintf(f, "    /* activations and gradients start at zero: padding rows stay finite constants */\n"
               "    if (hn_gt_zero(gpu, ws, (long)batch * %ld, err, errlen) || hn_gt_zero(gpu, grads, %s_PARAM_FLOATS, err, errlen)) goto fail;\n",
            g->train_act_floats + g->train_grad_floats, upper);
    pointers(f, g);
    int ps = pack_set(g);
    fprintf(f, "    hn_gt_packed pk = { scratch.pack_offs, scratch.row_event, 0, %d };   /* the real rows of the linear layers */\n"
               "    (void)pk;\n", ps >= 0 ? g->tensors[g->inputs[ps]].shape.dim[0] : 0);
    int any = 0;
    for (int i = 0; i < g->nnodes; ++i) any |= on_loss_path(g, &g->nodes[i]) && packed_rows_linear(g, &g->nodes[i]);
    if (any)
        fprintf(f, "    h.poffs[0] = 0;\n    for (int b = 0; b < batch; ++b) h.poffs[b + 1] = h.poffs[b] + h.counts[%d][b];\n"
                   "    pk.total = h.poffs[batch];\n"
                   "    if (batch && (hn_gpu_to_device(gpu, scratch.pack_offs, h.poffs, sizeof(int) * (size_t)(batch + 1), err, errlen) ||\n"
                   "                  hn_gt_pack_index(gpu, scratch.pack_offs, batch, scratch.row_event, err, errlen))) goto fail;\n", ps);
    fprintf(f, "\n    /* forward, in graph order (only what the loss depends on); a failed call goes to `fail` */\n");
    for (int i = 0; i < g->nnodes; ++i)
        if (on_loss_path(g, &g->nodes[i])) forward_call(G, &g->nodes[i], i);
    emit_loss(G);
    backward_calls(G);
    fprintf(f, "    host_free(&h);\n    return hn_gpu_sync(gpu, err, errlen) ? HN_ERR_DEVICE : 0;\nfail:\n    host_free(&h);\n    return HN_ERR_DEVICE;\n}\n\n");
}

/* extra_bytes(batch): the largest scratch of the attention and class-attention backwards (one at a time),
 * a multiple of 16 bytes. */
static void emit_extra_bytes(ctgen *G)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    fprintf(f, "static size_t extra_bytes(int batch)\n{\n    size_t need = 0, b;\n    (void)b; (void)batch;\n");
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (!on_loss_path(g, n)) continue;
        if (n->op == HN_OP_attention) {
            const hn_shape *s = &g->tensors[n->out].shape;
            fprintf(f, "    if ((b = hn_gt_attention_scratch_bytes(batch, %d, %ld, %d)) > need) need = b;   /* %s */\n", s->dim[0],
                    hn_attr_int(n, "heads"), n->nin > 1, n->name);
        } else if (packed_rows_linear(g, n)) {     /* the packed rows: x, dy and dx */
            fprintf(f, "    if ((b = sizeof(float) * (size_t)batch * %ldu) > need) need = b;   /* %s */\n",
                    (long)g->tensors[n->out].shape.dim[0] * (2L * hn_last_dim(&g->tensors[n->in[0]].shape) +
                                                             hn_last_dim(&g->tensors[n->out].shape)), n->name);
        } else if (n->op == HN_OP_edge_conv) {
            fprintf(f, "    if ((b = ");
            hn_cu_train_edge_conv_extra(f, g, n);
            fprintf(f, ") > need) need = b;   /* %s */\n", n->name);
        } else if (n->op == HN_OP_cls_attention) {
            const hn_shape *x = &g->tensors[n->in[1]].shape;
            fprintf(f, "    if ((b = hn_gt_class_attention_scratch_bytes(batch, %d, %d)) > need) need = b;   /* %s */\n", x->dim[0],
                    x->dim[1], n->name);
            fprintf(f, "    if ((b = sizeof(float) * (size_t)batch * %ldu) > need) need = b;   /* %s: its forward's GEMM form */\n",
                    (long)(x->dim[0] + 1) * 3 * x->dim[1] + x->dim[1], n->name);
        }
    }
    fprintf(f, "    return (need + 15) & ~(size_t)15;\n}\n\n");
}

static void emit_host(ctgen *G, const char *cu, size_t cu_len)
{
    const hn_graph *g = G->g;
    FILE *f = G->f;
    const char *m = g->name;
    fprintf(f, "/* %s_cuda_train.c — one training step of '%s' on the GPU: forward in training mode, loss, backward,\n"
               " * every tensor in device memory, in the C step's workspace layout (%s_train.c). Generated by hepnc from %s; do not edit. */\n"
               "#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
               "#include <hepnc/cuda_train_entry.h>\n#include <hepnc/gpu_train.h>\n#include <hepnc/gpu_train_optim.h>\n#include <hepnc/gpu_train_attention.h>\n#include <hepnc/gpu_train_class_attention.h>\n#include <hepnc/gpu_train_edgeconv.h>\n#include <hepnc/loss.h>\n\n#include \"%s.h\"\n\n",
            m, m, m, g->spec_path, m);
    fprintf(f, "/* %s_train.cu, compiled by NVRTC at open */\nstatic const char train_cu[] =\n\"", m);
    for (size_t i = 0; i < cu_len; ++i) {
        unsigned char ch = (unsigned char)cu[i];
        if (ch == '\n') fputs("\\n\"\n\"", f);
        else if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 32 || ch > 126) fprintf(f, "\\%03o", ch);
        else fputc(ch, f);
    }
    fputs("\";\n\n", f);
    fprintf(f, "hn_gpu *%s_cuda_train_open(const char *cache_dir, char *err, size_t errlen);\n"
               "size_t %s_cuda_train_workspace_bytes(int batch);\n"
               "int %s_cuda_train_step(hn_gpu *gpu, float *params, float *grads, const float *const *inputs,\n"
               "        const int32_t *const *counts, const int64_t *labels, const float *weights, int batch, const hn_train_config *cfg,\n"
               "        uint64_t seed, float *logits_out, double *loss_out, void *workspace, char *err, size_t errlen);\n\n", m, m, m);
    fprintf(f, "hn_gpu *%s_cuda_train_open(const char *cache_dir, char *err, size_t errlen)\n{\n"
               "    return hn_gpu_open(train_cu, \"%s_train\", cache_dir, err, errlen);\n}\n\n", m, m);
    emit_extra_bytes(G);
    fprintf(f, "/* Device workspace of a step: the C step's layout, the attention backwards' scratch, the reductions' scratch. */\n"
               "size_t %s_cuda_train_workspace_bytes(int batch)\n{\n"
               "    return sizeof(float) * ((((size_t)batch * %ldu + %ldu) + 3) & ~(size_t)3) + extra_bytes(batch) +\n"
               "           hn_gt_scratch_bytes((long)batch * %ld, %ld);\n}\n\n",
            m, G->per_event, g->train_fixed_floats, G->red_rows, G->red_cols);
    emit_host_buffers(G);
    emit_step(G);
    fprintf(f, "/* The workspace's tensors, in graph order (name, offset, gradient offset, floats per event, the masked\n"
               " * input whose counts give its real rows or -1, rows per event). */\n"
               "static const hn_cuda_train_tensor tensors[] = {\n");
    int nt = 0;
    for (int t = 0; t < g->ntensors; ++t) {
        const hn_tensor *x = &g->tensors[t];
        if (x->offset < 0) continue;
        int rows_set = x->shape.nset == 1 && hn_ct_masked(g, x);   /* [slots][...] over one masked set */
        fprintf(f, "    { \"%s\", %ld, %ld, %ld, %d, %d },\n", x->name, x->offset, x->grad_offset, hn_shape_elems(&x->shape),
                rows_set ? x->shape.set : -1, rows_set ? x->shape.dim[0] : 0);
        ++nt;
    }
    fprintf(f, "};\n\n");
    fprintf(f, "const hn_cuda_train_entry *hepnc_cuda_train_entry(void)\n{\n"
               "    static const hn_cuda_train_entry e = { HN_CUDA_TRAIN_ABI, \"%s\", %s_cuda_train_open, %s_cuda_train_workspace_bytes,\n"
               "                                           %s_cuda_train_step, %d, tensors };\n    return &e;\n}\n\n", m, m, m, m, nt);
    hn_ct_emit_host_adapter(G);
}

int hn_emit_cuda_train(const hn_graph *g, const char *dir, char files[][512], int *nfiles)
{
    if (hn_emit_cuda_train_check(g)) return -1;
    ctgen G = { .g = g };
    G.per_event = g->train_act_floats + g->train_grad_floats + g->train_tmp_floats + g->train_state_floats +
                  hn_shape_elems(&g->tensors[g->train_logits].shape);
    reduction_extent(&G);
    G.ctx = calloc((size_t)g->nnodes + 1, sizeof *G.ctx);
    char *cu = NULL, *host = NULL;
    size_t cu_len = 0, host_len = 0;
    FILE *f = open_memstream(&cu, &cu_len);
    int rc = !G.ctx || !f ? hn_error_plain("hepnc: error: out of memory") : emit_cu(f, &G);
    if (f) fclose(f);
    if (!rc) {
        G.f = open_memstream(&host, &host_len);
        if (!G.f) rc = hn_error_plain("hepnc: error: out of memory");
        else {
            emit_host(&G, cu, cu_len);
            fclose(G.f);
        }
    }
    char name[HN_NAME + 24];
    snprintf(name, sizeof name, "%s_train.cu", g->name);
    if (!rc && !(rc = hn_write_file_atomic(dir, name, cu, cu_len, files[*nfiles]))) ++*nfiles;
    snprintf(name, sizeof name, "%s_cuda_train.c", g->name);
    if (!rc && !(rc = hn_write_file_atomic(dir, name, host, host_len, files[*nfiles]))) ++*nfiles;
    free(cu);
    free(host);
    free(G.ctx);
    return rc;
}
