/* emit_train.c — writes NAME_train.c: one training step of the spec (forward in training mode, the
 * loss, the backward) and the entry point `hepnc_train_entry` (hepnc/train_entry.h).
 *
 * The graph is the lowered one, unfolded (batchnorms keep their own parameters and batch statistics)
 * and planned by passes/plan_train.c (nothing reused: the backward reads the forward's tensors). Each
 * node has a forward kernel (the op's training emitter, else its inference emitter: the same templates
 * as the shipped code) and, when the loss depends on it through a parameter, a backward kernel from the
 * op's backward rule (hn_op_def.emit_backward). Gradients of tensors with several consumers add up
 * through the accumulator region. Emitted in graph order: the same spec gives the same bytes. */
#include "emit_train.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "fsutil.h"
#include "ops.h"
#include "passes/passes.h"
#include "templates.h"

typedef struct tgen {
    const hn_graph *g;
    const hn_emit_options *opt;
    char lower[HN_NAME], upper[HN_NAME];
    long per_event;             /* act + grad + tmp + state floats */
} tgen;

static void ident(const hn_graph *g, int t, char *dst, size_t n)
{
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, g->tensors[t].name);
    snprintf(dst, n, "%s_%s", g->tensors[t].role == HN_T_INPUT ? "in" : "t", id);
}

static void grad_var(const hn_graph *g, int t, char *dst, size_t n)
{
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, g->tensors[t].name);
    snprintf(dst, n, "g_%s", id);
}

static int node_set(const hn_graph *g, const hn_node *n)
{
    if (g->tensors[n->out].shape.nset) return g->tensors[n->out].shape.set;
    for (int k = 0; k < n->nin; ++k)
        if (g->tensors[n->in[k]].shape.nset) return g->tensors[n->in[k]].shape.set;
    return -1;
}

static void counts_expr(const hn_graph *g, const hn_node *n, char *dst, size_t len)
{
    int set = node_set(g, n);
    snprintf(dst, len, "NULL");
    if (set >= 0 && g->tensors[g->inputs[set]].masked) snprintf(dst, len, "counts[%d]", set);
}


/* ---- kernels --------------------------------------------------------------------------------- */

static void kernel_comment(FILE *f, const hn_node *n, const char *what)
{
    fprintf(f, "/* %s of %s — layer '%s' at %s:%d (%s) */\n", what, n->name, n->layer[0] ? n->layer : n->name,
            n->loc.src ? n->loc.src->path : "?", n->loc.line, hn_op(n->op)->name);
}

static void emit_forward_kernel(FILE *f, const tgen *G, const hn_node *n)
{
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, n->name);
    kernel_comment(f, n, hn_op(n->op)->emit_train ? "training-mode forward" : "forward");
    fprintf(f, "static void %s_fw_%s(float *restrict Pw, const hn_train_config *cfg, int batch, const int32_t *restrict n",
            G->lower, id);
    for (int k = 0; k < n->nin; ++k) fprintf(f, ",\n        const float *restrict x%d", k);
    fprintf(f, ", float *restrict y, float *restrict S, float *restrict Sf)\n{\n");
    fprintf(f, "    const float *P = Pw;\n    (void)P; (void)Pw; (void)cfg; (void)n; (void)S; (void)Sf;\n");
    hn_emit e = { .f = f, .g = G->g, .prefix = G->lower };
    const hn_op_def *op = hn_op(n->op);
    (op->emit_train ? op->emit_train : op->emit)(&e, n);
    fprintf(f, "}\n\n");
}

static void emit_backward_kernel(FILE *f, const tgen *G, const hn_node *n)
{
    char id[HN_NAME];
    hn_c_ident(id, sizeof id, n->name);
    kernel_comment(f, n, "backward");
    fprintf(f, "static void %s_bw_%s(const float *restrict P, float *restrict dP, const hn_train_config *cfg, int batch,\n"
               "        const int32_t *restrict n", G->lower, id);
    for (int k = 0; k < n->nin; ++k) fprintf(f, ", const float *restrict x%d", k);
    fprintf(f, ",\n        const float *restrict y, float *restrict dy");
    for (int k = 0; k < n->nin; ++k) fprintf(f, ", float *restrict dx%d", k);
    fprintf(f, ", float *restrict S, float *restrict Sf)\n{\n");
    fprintf(f, "    (void)P; (void)dP; (void)cfg; (void)n; (void)y; (void)dy; (void)S; (void)Sf;");
    for (int k = 0; k < n->nin; ++k) fprintf(f, " (void)x%d; (void)dx%d;", k, k);
    fprintf(f, "\n");
    hn_emit e = { .f = f, .g = G->g, .prefix = G->lower };
    hn_op(n->op)->emit_backward(&e, n);
    fprintf(f, "}\n\n");
}

/* ---- the step -------------------------------------------------------------------------------- */

static void region(FILE *f, const char *var, const char *what, long off, const char *comment)
{
    fprintf(f, "    float *%s = %s + (size_t)batch * %ldu;   /* %s */\n", var, what, off, comment);
}

static void emit_pointers(FILE *f, const tgen *G)
{
    const hn_graph *g = G->g;
    char var[HN_NAME + 8], s[96];
    for (int i = 0; i < g->ninputs; ++i) {
        ident(g, g->inputs[i], var, sizeof var);
        fprintf(f, "    const float *%s = inputs[%d];\n", var, i);
    }
    for (int t = 0; t < g->ntensors; ++t) {
        const hn_tensor *x = &g->tensors[t];
        if (x->offset < 0) continue;
        FILE *m = fmemopen(s, sizeof s, "w");
        if (m) { hn_shape_print(m, &x->shape, g); fclose(m); }
        ident(g, t, var, sizeof var);
        region(f, var, "ws", x->offset, s);
        if (x->grad_offset >= 0) {
            grad_var(g, t, var, sizeof var);
            region(f, var, "grad_ws", x->grad_offset, "its gradient");
        }
    }
}

static void state_args(FILE *f, const hn_node *n)
{
    if (n->state_offset >= 0) fprintf(f, ", state_ws + (size_t)batch * %ldu", n->state_offset);
    else fprintf(f, ", NULL");
    if (n->fixed_offset >= 0) fprintf(f, ", fixed_ws + %ldu", n->fixed_offset);
    else fprintf(f, ", NULL");
}

static void emit_forward_calls(FILE *f, const tgen *G)
{
    const hn_graph *g = G->g;
    fprintf(f, "\n    /* forward, in graph order (only what the loss depends on) */\n");
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead || !g->tensors[n->out].on_loss_path) continue;
        char id[HN_NAME], var[HN_NAME + 8], counts[32];
        hn_c_ident(id, sizeof id, n->name);
        counts_expr(g, n, counts, sizeof counts);
        fprintf(f, "    %s_fw_%s(params, cfg, batch, %s", G->lower, id, counts);
        for (int k = 0; k < n->nin; ++k) {
            ident(g, n->in[k], var, sizeof var);
            fprintf(f, ", %s", var);
        }
        ident(g, n->out, var, sizeof var);
        fprintf(f, ", %s", var);
        state_args(f, n);
        fprintf(f, ");\n");
    }
}

static void emit_backward_calls(FILE *f, const tgen *G)
{
    const hn_graph *g = G->g;
    char *written = calloc((size_t)g->ntensors, 1);
    fprintf(f, "\n    /* backward, in reverse graph order; gradients of tensors read twice add up in acc */\n");
    for (int i = g->nnodes - 1; i >= 0 && written; --i) {
        const hn_node *n = &g->nodes[i];
        if (!hn_train_runs_backward(g, n)) continue;
        const hn_tensor *o = &g->tensors[n->out];
        char id[HN_NAME], var[HN_NAME + 8], counts[32];
        hn_c_ident(id, sizeof id, n->name);
        counts_expr(g, n, counts, sizeof counts);
        for (int t = 0; t < g->ntensors; ++t)   /* gradients born here start at zero (their floats are shared) */
            if (g->tensors[t].grad_offset >= 0 && g->tensors[t].grad_zero_at == i) {
                grad_var(g, t, var, sizeof var);
                fprintf(f, "    hn_kt_zero_par(%s, (size_t)batch * %ldu);\n", var, hn_shape_elems(&g->tensors[t].shape));
            }
        grad_var(g, n->out, var, sizeof var);
        if (o->shape.nset == 1 && !hn_op(n->op)->all_slots && strcmp(counts, "NULL"))
            fprintf(f, "    hn_kt_zero_padding(%s, batch, %s, %d, %ld);   /* padding rows were constants */\n", var,
                    counts, o->shape.dim[0], hn_shape_row_elems(&o->shape));
        int acc[HN_MAX_IN], nacc = 0;
        for (int k = 0; k < n->nin; ++k) {
            const hn_tensor *x = &g->tensors[n->in[k]];
            acc[k] = -1;
            if (hn_train_grad_flows(g, n, k) && written[n->in[k]]) {
                acc[k] = nacc++;
                fprintf(f, "    memset(acc + (size_t)batch * %ldu, 0, sizeof(float) * (size_t)batch * %ldu);\n",
                        acc[k] * g->train_acc_floats, hn_shape_elems(&x->shape));
            }
        }
        fprintf(f, "    %s_bw_%s(params, grads, cfg, batch, %s", G->lower, id, counts);
        for (int k = 0; k < n->nin; ++k) {
            ident(g, n->in[k], var, sizeof var);
            fprintf(f, ", %s", var);
        }
        ident(g, n->out, var, sizeof var);
        fprintf(f, ", %s", var);
        grad_var(g, n->out, var, sizeof var);
        fprintf(f, ", %s", var);
        for (int k = 0; k < n->nin; ++k) {
            if (!hn_train_grad_flows(g, n, k)) { fprintf(f, ", NULL"); continue; }
            if (acc[k] >= 0) { fprintf(f, ", acc + (size_t)batch * %ldu", acc[k] * g->train_acc_floats); continue; }
            grad_var(g, n->in[k], var, sizeof var);
            fprintf(f, ", %s", var);
        }
        state_args(f, n);
        fprintf(f, ");\n");
        for (int k = 0; k < n->nin; ++k) {
            const hn_tensor *x = &g->tensors[n->in[k]];
            if (!hn_train_grad_flows(g, n, k)) continue;
            if (acc[k] >= 0) {
                grad_var(g, n->in[k], var, sizeof var);
                fprintf(f, "    hn_kb_accumulate(acc + (size_t)batch * %ldu, (size_t)batch * %ldu, %s);\n",
                        acc[k] * g->train_acc_floats, hn_shape_elems(&x->shape), var);
            }
            written[n->in[k]] = 1;
        }
    }
    free(written);
}

static void emit_step(FILE *f, const tgen *G)
{
    const hn_graph *g = G->g;
    const hn_tensor *logits = &g->tensors[g->train_logits];
    int C = (int)hn_shape_elems(&logits->shape);
    char lv[HN_NAME + 8], gv[HN_NAME + 8];
    ident(g, g->train_logits, lv, sizeof lv);
    grad_var(g, g->train_logits, gv, sizeof gv);
    fprintf(f, "/* One training step: see hepnc/train_entry.h (hn_train_entry.train_step). */\n");
    fprintf(f, "static int train_step(float *params, float *grads, const float *const *inputs, const int32_t *const *counts,\n"
               "                      const int64_t *labels, const float *weights, int batch, const hn_train_config *cfg,\n"
               "                      uint64_t seed, float *logits_out, double *loss_out, void *workspace)\n{\n");
    fprintf(f, "    (void)counts;\n    if (batch < 0) return HN_ERR_BATCH;\n");
    for (int i = 0; i < g->ninputs; ++i) {
        const hn_tensor *t = &g->tensors[g->inputs[i]];
        if (!t->masked) continue;
        fprintf(f, "    for (int b = 0; b < batch; ++b)\n        if (counts[%d][b] < 0 || counts[%d][b] > %d) return HN_ERR_SET_SIZE;\n",
                i, i, t->shape.dim[0]);
    }
    fprintf(f, "    const int64_t nlabels = cfg->loss == HN_LOSS_BCE && %d == 1 ? 2 : %d;   /* one logit: labels 0 or 1 */\n"
               "    for (int b = 0; b < batch; ++b)\n        if (labels[b] < 0 || labels[b] >= nlabels) return HN_ERR_LABEL;\n", C, C);
    fprintf(f, "    hn_train_config step_cfg = *cfg;   /* this step's dropout masks come from its seed */\n"
               "    step_cfg.dropout_seed = seed;\n    cfg = &step_cfg;\n");
    fprintf(f, "    float *ws = (float *)workspace;\n");
    fprintf(f, "    float *grad_ws = ws + (size_t)batch * %ldu;\n", g->train_act_floats);
    fprintf(f, "    float *acc = ws + (size_t)batch * %ldu;   /* the accumulators */\n", g->train_act_floats + g->train_grad_floats);
    fprintf(f, "    float *state_ws = ws + (size_t)batch * %ldu;\n",
            g->train_act_floats + g->train_grad_floats + g->train_tmp_floats);
    fprintf(f, "    float *fixed_ws = ws + (size_t)batch * %ldu;\n", G->per_event);
    fprintf(f, "    (void)acc; (void)state_ws; (void)fixed_ws;\n");
    fprintf(f, "    /* activations start at zero: padding rows stay finite constants (each gradient is zeroed before\n"
               "     * its first writer's backward) */\n");
    fprintf(f, "    hn_kt_zero_par(ws, (size_t)batch * %ldu);\n", g->train_act_floats);
    fprintf(f, "    memset(grads, 0, sizeof(float) * %s_PARAM_FLOATS);\n", G->upper);
    emit_pointers(f, G);
    emit_forward_calls(f, G);
    fprintf(f, "\n    /* the loss on %s (mean over the batch, or weighted mean) and its gradient */\n", logits->name);
    fprintf(f, "    double loss;\n    if (cfg->loss == HN_LOSS_FOCAL)\n"
               "        loss = hn_loss_focal(%s, labels, weights, (size_t)batch, %d, cfg->focal_alpha, NULL, cfg->focal_gamma, %s);\n"
               "    else if (cfg->loss == HN_LOSS_BCE) {   /* targets: the label's one-hot (one logit: the label) */\n"
               "        float *targets = ws + (size_t)batch * %ldu;\n"
               "        hn_bce_targets(labels, (size_t)batch, %d, targets);\n"
               "        loss = hn_loss_bce_logits(%s, targets, weights, (size_t)batch, %d, %s);\n"
               "    } else\n"
               "        loss = hn_loss_cross_entropy(%s, labels, weights, (size_t)batch, %d, cfg->label_smoothing, %s);\n",
            lv, C, gv, G->per_event - C, C, lv, C, gv, lv, C, gv);
    fprintf(f, "    if (loss_out) *loss_out = loss;\n");
    fprintf(f, "    if (logits_out) memcpy(logits_out, %s, sizeof(float) * (size_t)batch * %d);\n", lv, C);
    emit_backward_calls(f, G);
    fprintf(f, "    return 0;\n}\n\n");
}

/* ---- the entry ------------------------------------------------------------------------------- */

static void emit_entry(FILE *f, const tgen *G)
{
    const hn_graph *g = G->g;
    fprintf(f, "/* The weights file's tensors (trainable: 0 for frozen ones, e.g. batchnorm running statistics). */\n");
    fprintf(f, "static const hn_param_desc params_desc[] = {\n");
    int np = 0;
    for (int p = 0; p < g->nparams; ++p) {
        const hn_param *q = &g->params[p];
        if (!q->from_file) continue;
        int buffer = q->frozen;
        fprintf(f, "    { \"%s\", %ldu, %ldu, %d, {", q->name, q->offset, q->size, q->rank);
        for (int k = 0; k < q->rank; ++k) fprintf(f, "%s%lld", k ? ", " : " ", (long long)q->dim[k]);
        fprintf(f, " }, %d },\n", !buffer);
        ++np;
    }
    fprintf(f, "};\n\n");
    fprintf(f, "static size_t workspace_bytes(int batch)\n{\n    return sizeof(float) * ((size_t)batch * %ldu + %ldu);\n}\n\n",
            G->per_event, g->train_fixed_floats);
    fprintf(f, "static const hn_train_entry entry = {\n    HN_TRAIN_ABI, \"%s\", \"%016llx\", NULL, %ld, \"%s\", %s_PARAM_FLOATS, %d,\n"
               "    params_desc, workspace_bytes, train_step, %s_fold, NULL,\n};\n\n",
            G->lower, (unsigned long long)G->opt->spec_hash, hn_shape_elems(&g->tensors[g->train_logits].shape),
            g->output_names[g->tensors[g->train_logits].output >= 0 ? g->tensors[g->train_logits].output : 0], G->upper,
            np, G->lower);
    fprintf(f, "const hn_model_entry *hepnc_model_entry(void);\n\n");
    fprintf(f, "const hn_train_entry *hepnc_train_entry(void)\n{\n    static hn_train_entry e;\n"
               "    if (!e.abi) {   /* the inference entry of the same build */\n        e = entry;\n"
               "        e.model = hepnc_model_entry();\n    }\n    return &e;\n}\n");
}

static void emit_train_source(FILE *f, const tgen *G)
{
    const hn_graph *g = G->g;
    fprintf(f, "/* %s_train.c — one training step of '%s': forward in training mode, loss, backward.\n", G->lower, g->name);
    fprintf(f, " * Generated by hepnc from %s (spec hash %016llx); do not edit. */\n", g->spec_path,
            (unsigned long long)G->opt->spec_hash);
    if (G->opt->use_cblas) fprintf(f, "#define HN_USE_CBLAS 1\n");
    fprintf(f, "#include <stdlib.h>\n#include <string.h>\n\n#include <hepnc/loss.h>\n#include <hepnc/train_entry.h>\n\n"
               "#include \"%s.h\"\n\n", G->lower);
    for (int i = 0; i < hn_num_c_templates; ++i)
        fprintf(f, "/* ---- templates/c/%s ---- */\n%s\n", hn_c_templates[i].file, hn_c_templates[i].text);
    for (int i = 0; i < hn_c_train_templates_count; ++i)
        fprintf(f, "/* ---- templates/c/%s ---- */\n%s\n", hn_c_train_templates[i].file, hn_c_train_templates[i].text);
    fprintf(f, "#ifdef HN_USE_CBLAS\n#define HN_LINEAR hn_k_linear_cblas\n#define HN_LINEAR_BACKWARD hn_kb_linear_cblas\n"
               "#else\n#define HN_LINEAR hn_k_linear\n#define HN_LINEAR_BACKWARD hn_kb_linear\n#endif\n\n");
    fprintf(f, "#ifdef _OPENMP\n#define HN_EVENT_LOOP _Pragma(\"omp parallel for schedule(dynamic, 1)\")\n"
               "#else\n#define HN_EVENT_LOOP\n#endif\n\n");
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (n->dead || !g->tensors[n->out].on_loss_path) continue;
        emit_forward_kernel(f, G, n);
        if (hn_train_runs_backward(g, n)) emit_backward_kernel(f, G, n);
    }
    emit_step(f, G);
    emit_entry(f, G);
}

int hn_emit_train_check(const hn_graph *g)
{
    for (int t = 0; t < g->ntensors; ++t)   /* the step's padding rules count n[b] real rows, not lead + n[b] */
        if (g->tensors[t].shape.lead && g->tensors[t].producer >= 0)
            return hn_error(g->nodes[g->tensors[t].producer].loc, "cannot train this spec yet: '%s' has leading token or "
                            "global rows (SPANet's), which the training step does not handle", g->tensors[t].name);
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (!hn_train_runs_backward(g, n) || hn_op(n->op)->emit_backward) continue;
        return hn_error(n->loc, "cannot train this spec: layer '%s' (op %s) has no backward rule yet", n->name,
                        hn_op(n->op)->name);
    }
    for (int i = 0; i < g->nnodes; ++i) {   /* pair_embed trains weaver's 'sum' route: 4-vector features (+ extra) */
        const hn_node *n = &g->nodes[i];
        int producer = g->tensors[n->in[0]].producer;
        int from_pair_features = n->fused_from >= 0 || (producer >= 0 && g->nodes[producer].op == HN_OP_pair_features);
        if (!n->dead && n->op == HN_OP_pair_embed && !from_pair_features && g->tensors[n->out].on_loss_path)
            return hn_error(n->loc, "cannot train this spec: layer '%s' embeds '%s', not a pair_features layer; training "
                                    "embeds pair_features through 'in' and other pair features through 'extra' (weaver's "
                                    "route); a concatenated pair input (weaver's mode 'concat') runs in inference only",
                            n->name, g->tensors[n->in[0]].name);
    }
    for (int i = 0; i < g->nnodes; ++i) {
        const hn_node *n = &g->nodes[i];
        if (!hn_train_runs_backward(g, n)) continue;
        for (int k = 0; k < n->nin; ++k)
            for (int j = 0; j < k; ++j)
                if (n->in[k] == n->in[j] && hn_train_grad_flows(g, n, k) && hn_train_grad_flows(g, n, j))
                    return hn_error(n->loc, "cannot train this spec: layer '%s' reads the same tensor twice", n->name);
    }
    return 0;
}

int hn_emit_train(const hn_graph *g, const hn_emit_options *opt, const char *dir, char *path_out)
{
    tgen G = { .g = g, .opt = opt };
    snprintf(G.lower, sizeof G.lower, "%s", g->name);
    for (int i = 0; G.lower[i]; ++i) G.upper[i] = (char)toupper((unsigned char)G.lower[i]);
    /* + the loss's targets per event (BCE's one-hot of the label), after the nodes' state */
    G.per_event = hn_train_event_floats(g);
    if (hn_emit_train_check(g)) return -1;
    char name[HN_NAME + 16];
    snprintf(name, sizeof name, "%s_train.c", G.lower);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return hn_error_plain("hepnc: error: out of memory");
    emit_train_source(mem, &G);
    fclose(mem);
    int rc = hn_write_file_atomic(dir, name, buf, len, path_out);
    free(buf);
    return rc;
}
