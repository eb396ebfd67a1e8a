/* emit_cuda_fuse.c — which row-wise nodes the CUDA target runs inside the packed linear layers' passes.
 *
 * A particle-wise linear layer on the cuBLAS path gathers the chunk's real rows, runs one GEMM on them
 * and scatters the rows back (emit_cuda_host.c). Row-wise neighbours ride along in those passes instead of
 * reading and writing every row again in kernels of their own:
 *   - prologue: a LayerNorm whose only reader is the linear normalises each row while it is gathered;
 *   - epilogue: after the bias and activation, a chain of LayerNorms, ended by at most one add or
 *     residual (its other operand read in the same pass), runs on the row before it is scattered;
 *   - packed hand-over: when the chain's result feeds the next linear alone, it stays packed in the
 *     scratch (no scatter, no gather): ParT's fc1 → GELU → post_fc_norm → fc2.
 * Only neighbours in graph order are fused, so the memory plan (passes/plan.c), which gave each tensor
 * its place for its own lifetime, still holds: between the fused nodes nothing else runs. Without cuBLAS
 * every node runs its own kernel as before. The plan is a function of the graph alone (the emitted
 * files stay byte-identical for a spec). */
#include "emit_cuda_internal.h"

#include <string.h>

#include "emit.h"
#include "ops.h"

/* A row held across a warp's lanes has at most 32 floats per lane. */
enum { WIDEST_FUSED_ROW = 1024 };

static int next_live(const hn_graph *g, int i)
{
    for (int k = i + 1; k < g->nnodes; ++k)
        if (!g->nodes[k].dead) return k;
    return -1;
}

/* The node reading tensor t, when it is the only reader (the caller counts as one), else -1. */
static int sole_reader(const hn_graph *g, int t)
{
    int first;
    return hn_graph_consumers(g, t, &first) == 1 ? first : -1;
}

static int same_rows(const hn_graph *g, int a, int b)
{
    const hn_shape *x = &g->tensors[a].shape, *y = &g->tensors[b].shape;
    return x->rank == y->rank && !memcmp(x->dim, y->dim, sizeof x->dim[0] * (size_t)x->rank) && x->nset == y->nset &&
           (!x->nset || x->set == y->set);
}

static int row_fits(const hn_graph *g, int t) { return hn_last_dim(&g->tensors[t].shape) <= WIDEST_FUSED_ROW; }

/* A LayerNorm over rows of the same shape as its input. */
static int rowwise_layernorm(const hn_graph *g, const hn_node *n)
{
    return n->op == HN_OP_layernorm && same_rows(g, n->in[0], n->out) && row_fits(g, n->out);
}

/* An add or residual of tensor t and another tensor of its shape. */
static int rowwise_add(const hn_graph *g, const hn_node *n, int t)
{
    if ((n->op != HN_OP_add && n->op != HN_OP_residual) || n->nin != 2 || n->in[0] == n->in[1]) return 0;
    return (n->in[0] == t || n->in[1] == t) && same_rows(g, n->in[0], n->in[1]) && same_rows(g, t, n->out);
}

/* The epilogue chain of packed linear i: LayerNorms, then at most one add/residual, each the sole reader
 * of the previous result and the next node in graph order; or a hand-over to the next packed linear. */
static void plan_epilogue(const hn_graph *g, int i, hn_cu_fused *plan)
{
    hn_cu_fused *L = &plan[i];
    int last = i, t = g->nodes[i].out;
    if (!row_fits(g, t)) return;
    while (L->nchain < HN_CU_CHAIN) {
        int r = sole_reader(g, t);
        if (r < 0 || r != next_live(g, last) || g->tensors[t].output >= 0) break;
        const hn_node *n = &g->nodes[r];
        if (hn_cu_packed_linear(g, n) && n->in[0] == t) {
            L->packed_out = 1;
            plan[r].packed_in = i;
            break;
        }
        int terminal = rowwise_add(g, n, t);
        if (!terminal && !rowwise_layernorm(g, n)) break;
        L->chain[L->nchain++] = r;
        plan[r].absorbed_by = i;
        last = r, t = n->out;
        if (terminal) break;
    }
    L->result = t;
}

/* The prologue of packed linear i: the LayerNorm just before it, read by it alone. */
static void plan_prologue(const hn_graph *g, int i, hn_cu_fused *plan)
{
    const hn_tensor *x = &g->tensors[g->nodes[i].in[0]];
    int p = x->producer;
    if (p < 0 || plan[p].absorbed_by >= 0 || plan[i].packed_in >= 0) return;
    if (!rowwise_layernorm(g, &g->nodes[p]) || next_live(g, p) != i || sole_reader(g, x - g->tensors) != i) return;
    plan[i].prologue = p;
    plan[p].absorbed_by = i;
}

void hn_cu_fusion_plan(const hn_graph *g, hn_cu_fused *plan)
{
    for (int i = 0; i < g->nnodes; ++i)
        plan[i] = (hn_cu_fused){ .absorbed_by = -1, .prologue = -1, .packed_in = -1, .result = g->nodes[i].out };
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead || !hn_cu_packed_linear(g, n)) continue;
        plan_prologue(g, i, plan);
        long in = hn_last_dim(&g->tensors[n->in[0]].shape), out = hn_last_dim(&g->tensors[n->out].shape);
        if (plan[i].packed_in >= 0) {     /* the input where the previous layer left it; the output where it fits */
            plan[i].xoff = plan[plan[i].packed_in].yoff;
            plan[i].yoff = out <= plan[i].xoff ? 0 : plan[i].xoff + in;
        } else
            plan[i].yoff = in;
        plan_epilogue(g, i, plan);
    }
}

/* 1 when a packed linear's rows need the generated epilogue kernel after the GEMM (more than the bias and
 * activation scattered back). */
int hn_cu_fused_epilogue(const hn_cu_fused *L) { return L->nchain > 0 || L->packed_out; }

static long param_offset(const hn_graph *g, const hn_node *n, int k) { return g->params[n->param[k]].offset; }

/* One step of a fused row: a LayerNorm, add or residual node applied to v (the row of tensor t). */
static void emit_row_step(FILE *f, const hn_graph *g, const hn_node *n, int t, int width)
{
    char eps[48];
    if (n->op == HN_OP_layernorm)
        fprintf(f, "    hn_row_layernorm<%d>(v, P + %ld, P + %ld, %s, lane);   /* %s */\n", width, param_offset(g, n, 0),
                param_offset(g, n, 1), hn_c_float((float)hn_attr_float(n, "eps"), eps), n->name);
    else if (n->op == HN_OP_add)
        fprintf(f, "    hn_row_add<%d>(v, r + at, lane);   /* %s: + %s */\n", width, n->name,
                g->tensors[n->in[n->in[0] == t]].name);
    else
        fprintf(f, "    hn_row_residual<%d>(v, P + %ld, r + at, %s, lane);   /* %s: %s */\n", width, param_offset(g, n, 0),
                n->in[0] == t ? "true" : "false", n->name,
                n->in[0] == t ? "this row + w ⊙ the other" : "the other + w ⊙ this row");
}

/* The head of a fused row kernel: one warp per packed row p; at: the row's place in the padded layout. */
static void emit_row_kernel_head(FILE *f, const hn_graph *g, const char *id, const char *suffix, int width)
{
    fprintf(f, "extern \"C\" __global__ void %s_%s_%s(const float *P, const float *src, const int *offs, const int *row_event,\n"
               "    int total, int max, const float *r, float *dst)\n{\n"
               "    long p = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;\n    int lane = threadIdx.x %% 32;\n"
               "    if (p >= total) return;   /* the whole warp */\n"
               "    long at = hn_row_padded(offs, row_event, p, max, %d);\n    float v[HN_ROW_SLOTS(%d)];\n    (void)r, (void)at;\n",
            g->name, id, suffix, width, width);
}

/* NAME_<linear>_gather (its prologue LayerNorm while gathering the packed rows) and NAME_<linear>_rows (bias,
 * activation and the chain after the GEMM, then scattered or kept packed); both take (P, src, offs,
 * row_event, total, max, r, dst), r the terminal add's other operand. */
void hn_cu_emit_fused_kernels(FILE *f, const hn_graph *g, const hn_cu_fused *plan, int i)
{
    const hn_cu_fused *L = &plan[i];
    const hn_node *n = &g->nodes[i];
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, n->name);
    if (L->prologue >= 0) {
        const hn_node *ln = &g->nodes[L->prologue];
        int w = hn_last_dim(&g->tensors[ln->out].shape);
        fprintf(f, "/* %s — LayerNorm '%s' of each real row while it is gathered for the GEMM */\n", n->name, ln->name);
        emit_row_kernel_head(f, g, id, "gather", w);
        fprintf(f, "    hn_row_load<%d>(v, src + at, lane);\n", w);
        emit_row_step(f, g, ln, ln->in[0], w);
        fprintf(f, "    hn_row_store<%d>(v, dst + p * %d, lane);\n}\n\n", w, w);
    }
    if (!hn_cu_fused_epilogue(L)) return;
    int w = hn_last_dim(&g->tensors[n->out].shape), t = n->out;
    fprintf(f, "/* %s — after the GEMM, on each packed row: bias and activation", n->name);
    for (int k = 0; k < L->nchain; ++k) fprintf(f, ", %s", g->nodes[L->chain[k]].name);
    fprintf(f, "; %s */\n", L->packed_out ? "kept packed for the next linear layer" : "scattered back");
    emit_row_kernel_head(f, g, id, "rows", w);
    char bias[32] = "0";
    if (n->nparam > 1) snprintf(bias, sizeof bias, "P + %ld", param_offset(g, n, 1));
    fprintf(f, "    hn_row_load<%d>(v, src + p * %d, lane);\n    hn_row_bias_act<%d>(v, %s, %d, lane);\n", w, w, w, bias, n->act);
    for (int k = 0; k < L->nchain; ++k) {
        const hn_node *c = &g->nodes[L->chain[k]];
        emit_row_step(f, g, c, t, w);
        t = c->out;
    }
    if (L->packed_out) fprintf(f, "    hn_row_store<%d>(v, dst + p * %d, lane);   /* packed */\n}\n\n", w, w);
    else fprintf(f, "    hn_row_store<%d>(v, dst + at, lane);\n}\n\n", w);
}
