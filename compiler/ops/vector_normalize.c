/* vector_normalize — SPANet's input preprocessing of one input's features, inside the generated code:
 *   v = log(x + 1) for the features listed in `log`, x for the others (SequentialInput.py, at load time
 *       upstream), then y = (v − mean) / std per feature (Normalizer, mean and std from the training split;
 *       features without `normalize` have mean 0, std 1 in the weights file).
 * Padded rows are not computed (upstream zeroes them with the mask). */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "an input's features" },
    { "log", HN_ATTR_NAMES, 0, NULL, NULL, "features transformed by log(x + 1) first (SPANet's log / log_normalize)" },
};

/* Bit k set: feature k is log-transformed; -1 with an error for a name the input does not have. */
static long log_mask(const hn_graph *g, const hn_node *n)
{
    const hn_attr_val *v = hn_attr(n, "log");
    const hn_tensor *in = &g->tensors[n->in[0]];
    long mask = 0;
    if (!v->set) return 0;
    char names[sizeof v->s];
    snprintf(names, sizeof names, "%s", v->s);
    for (char *save = NULL, *tok = strtok_r(names, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
        int k = 0;
        while (k < in->nfeatures && strcmp(in->features[k], tok)) ++k;
        if (k == in->nfeatures)
            return hn_error(v->loc, "'%s' is not a feature of '%s'", tok, in->name), -1;
        mask |= 1L << k;
    }
    return mask;
}

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    int F = hn_last_dim(out);
    if (F > 62) return hn_error(hn_attr(n, "in")->loc, "vector_normalize supports up to 62 features, got %d", F);
    if (log_mask(g, n) < 0) return -1;
    int mean = hn_node_param(g, n, "mean", 1, F, 0), std = hn_node_param(g, n, "std", 1, F, 0);
    g->params[mean].frozen = g->params[std].frozen = 1;     /* the training split's statistics */
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    int F = hn_last_dim(&e->g->tensors[n->out].shape);
    long mask = log_mask(e->g, n);
    char line[512];
    int used = snprintf(line, sizeof line, "static const unsigned char take_log[%d] = {", F);
    for (int k = 0; k < F; ++k) used += snprintf(line + used, sizeof line - (size_t)used, "%s%d", k ? ", " : " ", (int)(mask >> k & 1));
    snprintf(line + used, sizeof line - (size_t)used, " };");
    hn_emit_line(e, 1, "%s", line);
    hn_emit_param_decl(e, "mean", n->param[0]);
    hn_emit_param_decl(e, "std", n->param[1]);
    const hn_tensor *out = &e->g->tensors[n->out];
    int dense = e->g->dense_sets && out->shape.nset && e->g->tensors[e->g->inputs[out->shape.set]].masked;
    hn_rowloop r;
    if (dense) {                        /* the input's real rows; its padding (the caller's) becomes zeros */
        long elems = hn_shape_elems(&out->shape);
        memset(&r, 0, sizeof r);
        snprintf(r.x[0], sizeof r.x[0], "x0 + (size_t)b * %ld", elems);
        snprintf(r.y, sizeof r.y, "y + (size_t)b * %ld", elems);
        snprintf(r.rows, sizeof r.rows, "n[b]");
        r.indent = 2;
        r.looped = 1;
        hn_emit_line(e, 1, "HN_EVENT_LOOP for (int b = 0; b < batch; ++b) {");
        hn_emit_line(e, 2, "memset(y + (size_t)b * %ld + (size_t)n[b] * %d, 0, sizeof(float) * (size_t)(%d - n[b]) * %d);", elems,
                     F, out->shape.dim[0], F);
    } else {
        hn_emit_rows_begin(e, n, &r);
    }
    hn_emit_line(e, r.indent, "for (size_t i = 0; i < (size_t)(%s); ++i)", r.rows);
    hn_emit_line(e, r.indent + 1, "for (int f = 0; f < %d; ++f) {", F);
    hn_emit_line(e, r.indent + 2, "float v = (%s)[i * %d + f];", r.x[0], F);
    hn_emit_line(e, r.indent + 2, "if (take_log[f]) v = logf(v + 1.0f);");
    hn_emit_line(e, r.indent + 2, "(%s)[i * %d + f] = (v - mean[f]) / std[f];", r.y, F);
    hn_emit_line(e, r.indent + 1, "}");
    hn_emit_rows_end(e, &r);
}

static long macs(const hn_graph *g, const hn_node *n) { return 2 * hn_shape_elems(hn_in_shape(g, n, 0)); }

const hn_op_def hn_op_def_vector_normalize = {
    "vector_normalize", "SPANet's input preprocessing: log(x + 1) on the listed features, then (x − mean)/std per feature.",
    "<name>.mean [F], <name>.std [F]",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 0,
};
