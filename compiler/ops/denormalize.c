/* denormalize — SPANet's regression output in the target's units (spanet/dataset/regressions/): from the
 * head's standardised value u, y = std·u + mean (gaussian, laplacian), or y = 2·sinh(std·u + mean)
 * (log_gaussian: the inverse of the signed log asinh(x/2)). mean and std are the training split's, scalars
 * stored with the weights. */
#include <string.h>

#include "../emit.h"
#include "../ops.h"

static const hn_attr_spec attrs[] = {
    { "in", HN_ATTR_TENSOR, 1, NULL, NULL, "the head's standardised output [1]" },
    { "type", HN_ATTR_ENUM, 0, "gaussian", "gaussian|laplacian|log_gaussian", "the regression's distribution" },
};

static int infer(hn_graph *g, hn_node *n, hn_shape *out)
{
    *out = *hn_in_shape(g, n, 0);
    if (out->nset || hn_last_dim(out) != 1 || out->rank != 1)
        return hn_error(hn_attr(n, "in")->loc, "denormalize takes a per-event scalar [1]");
    char name[HN_NAME + 8];
    for (int k = 0; k < 2; ++k) {                                /* the training split's statistics: frozen */
        snprintf(name, sizeof name, "%s.%s", n->name, k ? "std" : "mean");
        int p = hn_graph_add_param(g, name, 0, NULL, 1);
        g->params[p].frozen = 1;
        n->param[n->nparam++] = p;
    }
    return 0;
}

static void emit(hn_emit *e, const hn_node *n)
{
    hn_emit_param_decl(e, "mean", n->param[0]);
    hn_emit_param_decl(e, "std", n->param[1]);
    int log_gaussian = !strcmp(hn_attr_str(n, "type"), "log_gaussian");
    hn_emit_line(e, 1, "for (int b = 0; b < batch; ++b)%s", log_gaussian ? "   /* log_gaussian: 2 sinh(std u + mean) */" : "");
    if (log_gaussian)
        hn_emit_line(e, 2, "y[b] = 2.0f * sinhf(std[0] * x0[b] + mean[0]);");
    else
        hn_emit_line(e, 2, "y[b] = std[0] * x0[b] + mean[0];");
}

static long macs(const hn_graph *g, const hn_node *n) { return 1; }

const hn_op_def hn_op_def_denormalize = {
    "denormalize", "A regression head's output in the target's units: std·u + mean, or 2·sinh(std·u + mean) (log_gaussian).",
    "<name>.mean [], <name>.std []",
    attrs, sizeof attrs / sizeof *attrs, infer, NULL, emit, macs,
    NULL, NULL, NULL, 0, 0,
};
